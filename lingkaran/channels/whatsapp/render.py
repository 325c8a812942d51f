"""Rendering replies as Cloud API message objects (pure; the sender adds the addressee)."""

from __future__ import annotations

import logging
from typing import Any

from handlers.engine import Reply
from lingkaran.channels.whatsapp.config import (
    BUTTON_ID_MAX,
    BUTTON_TITLE_MAX,
    BUTTONS_MAX,
    INTERACTIVE_BODY_MAX,
    LIST_BUTTON_MAX,
    LIST_ROWS_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_ID_MAX,
    ROW_TITLE_MAX,
    TEXT_MAX,
)
from lingkaran.channels.whatsapp.inbound import (
    encode_choice_id,
)
from lingkaran_core.services.whatsapp_identity import is_user_id

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Rendering replies as Cloud API message objects (pure; the sender adds the addressee)


def recipient_fields(address: str) -> dict[str, str]:
    """Who a ``POST /messages`` goes to: ``to`` for a number, ``recipient`` for a BSUID.

    Since 2026 the Cloud API takes a business-scoped user id (``ID.150257…``, or a parent
    ``ID.ENT.…``) in ``recipient`` instead of the number in ``to`` (the way pywa 4.5 and
    nyaruka/courier address users without a known number).
    """
    if is_user_id(address):
        return {"recipient": address}
    return {"to": address}


def envelope(address: str, message: dict[str, Any]) -> dict[str, Any]:
    """A complete ``POST /messages`` body for one message object."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **recipient_fields(address),
        **message,
    }


def smart_truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-/&") + "…"


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """Split on line breaks into chunks of at most ``limit`` characters (words kept whole)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            piece, line = line[:cut], line[cut:].lstrip(" ")
            if current:
                chunks.append(current)
                current = ""
            chunks.append(piece)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = line
    if current or not chunks:
        chunks.append(current)
    return [c for c in chunks if c.strip()] or [text[:limit] or "…"]


def _split_body(text: str, limit: int) -> tuple[list[str], str]:
    """(preceding text chunks, body ≤ limit): the overflow goes into plain messages first."""
    if len(text) <= limit:
        return [], text
    parts = split_text(text, limit)
    body = parts[-1]
    head = text[: len(text) - len(body)].rstrip()
    # Re-split the head with the larger text limit so it takes as few messages as possible.
    return (split_text(head, TEXT_MAX) if head.strip() else []), body


def _text_message(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def _numbered(reply: Reply) -> str:
    lines = [reply.text]
    for i, c in enumerate(reply.choices, 1):
        lines.append(f"{i}. {c.label}" + (f": {c.description}" if c.description else ""))
    return "\n".join(lines)


def render_reply(reply: Reply, *, list_button: str = "Pilih") -> list[dict[str, Any]]:
    """Cloud API message objects for one reply, within every documented limit.

    No choices → text (split at 4096). ≤ 3 choices with short unique labels → reply buttons.
    ≤ 10 → a list (long labels shortened with the full label as the row description). More →
    numbered text (every choice can be answered by its number).
    """
    text = reply.text.strip() or "…"
    choices = reply.choices
    if not choices:
        return [_text_message(c) for c in split_text(text)]
    ids = [encode_choice_id(reply.step_token, c.id) for c in choices]
    labels = [" ".join(c.label.split()) for c in choices]
    if (
        len(choices) <= BUTTONS_MAX
        and all(0 < len(lbl) <= BUTTON_TITLE_MAX for lbl in labels)
        and len(set(labels)) == len(labels)
        and all(len(i) <= BUTTON_ID_MAX for i in ids)
    ):
        head, body = _split_body(text, INTERACTIVE_BODY_MAX)
        buttons = [
            {"type": "reply", "reply": {"id": i, "title": lbl}}
            for i, lbl in zip(ids, labels, strict=True)
        ]
        return [
            *(_text_message(h) for h in head),
            {
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": body},
                    "action": {"buttons": buttons},
                },
            },
        ]
    if len(choices) <= LIST_ROWS_MAX and all(len(i) <= ROW_ID_MAX for i in ids):
        head, body = _split_body(text, INTERACTIVE_BODY_MAX)
        rows: list[dict[str, Any]] = []
        for i, lbl, c in zip(ids, labels, choices, strict=True):
            title = smart_truncate(lbl, ROW_TITLE_MAX) or "…"
            description = c.description or (lbl if title != lbl else None)
            row: dict[str, Any] = {"id": i, "title": title}
            if description:
                row["description"] = smart_truncate(description, ROW_DESCRIPTION_MAX)
            rows.append(row)
        return [
            *(_text_message(h) for h in head),
            {
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": body},
                    "action": {
                        "button": smart_truncate(list_button, LIST_BUTTON_MAX),
                        "sections": [{"rows": rows}],
                    },
                },
            },
        ]
    return [_text_message(c) for c in split_text(_numbered(reply))]
