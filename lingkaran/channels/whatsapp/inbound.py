"""Inbound messages: one ``messages[]`` element of a webhook as a frozen ``WAMessage``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from lingkaran.channels.whatsapp.config import (
    EARLIEST_TIMESTAMP,
    FUTURE_SLACK,
    MILLISECONDS_FROM,
    _obj,
    _str,
)
from lingkaran_core.logs import mask_text
from lingkaran_core.storage.db import dumps, loads

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Parsed webhook objects: built once at the edge, frozen (STYLE.md, pywa/types/message.py)

MessageKind = Literal[
    "text", "choice", "media", "voice", "contact", "location", "number_changed", "unsupported"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class WAMessage:
    """One user message from a webhook, with the raw record kept for durable storage."""

    id: str
    user_ref: str
    timestamp: int
    kind: MessageKind
    text: str | None = None
    choice_id: str | None = None
    step_token: str | None = None
    context_id: str | None = None
    media_id: str | None = None
    media_mime: str | None = None
    media_kind: Literal["photo", "document", "voice"] | None = None
    filename: str | None = None
    contact_phone: str | None = None
    location: tuple[float, float] | None = None
    display_name: str | None = field(default=None, repr=False)
    unsupported: str | None = None
    record: str = field(default="{}", repr=False, compare=False)

    @property
    def received_at(self) -> datetime:
        """When the user sent it (Meta's timestamp, UTC; the receive time when that was absurd)."""
        return datetime.fromtimestamp(max(0, self.timestamp), UTC)


def normalize_timestamp(value: Any, *, received: int | None) -> int:
    """Seconds since the epoch from a webhook timestamp in seconds or milliseconds.

    ``received`` is the receive time (seconds) from the channel's clock: it replaces a timestamp
    that is missing, unreadable, before 2010 or more than a day after it. Without it (unit
    parsing) such a timestamp becomes 0.
    """
    try:
        ts = int(value)
    except (TypeError, ValueError):
        try:
            ts = int(float(value))
        except (TypeError, ValueError, OverflowError):
            ts = 0
    if ts >= MILLISECONDS_FROM:
        ts //= 1000
    if ts < EARLIEST_TIMESTAMP or (received is not None and ts > received + FUTURE_SLACK):
        return received if received is not None else 0
    return ts


def encode_choice_id(step_token: str | None, choice_id: str) -> str:
    """Our button/row id: the step token and the choice, ``"7|yes"`` (``"|yes"`` without one)."""
    return f"{step_token or ''}|{choice_id}"


def decode_choice_id(raw: str) -> tuple[str | None, str]:
    """(step token, choice id) from a button/row id; foreign ids have no token."""
    token, sep, choice = raw.partition("|")
    if not sep:
        return None, raw
    return (token or None), choice


def parse_message(
    raw: Mapping[str, Any],
    *,
    display_name: str | None = None,
    wa_id: str | None = None,
    received: int | None = None,
) -> WAMessage | None:
    """One ``messages[]`` element as a WAMessage, or None when it lacks an id or a sender.

    ``received``: the receive time in seconds (kept in the record, used for absurd timestamps).
    """
    mid = _str(raw.get("id"))
    # Meta is adding business-scoped user ids besides wa_id: take ``from``, else what it sent.
    user = _str(raw.get("from")) or _str(raw.get("from_user_id")) or wa_id
    if mid is None or user is None:
        return None
    mtype = _str(raw.get("type")) or "unknown"
    context = _obj(raw.get("context"))
    record = dumps(
        {"message": raw, "display_name": display_name, "wa_id": wa_id, "received": received}
    )
    common: dict[str, Any] = {
        "id": mid,
        "user_ref": user,
        "timestamp": normalize_timestamp(raw.get("timestamp"), received=received),
        "context_id": _str(context.get("id")),
        "display_name": display_name,
        "record": record,
    }
    body = _obj(raw.get(mtype))
    if mtype == "text":
        return WAMessage(kind="text", text=str(body.get("body", "")), **common)
    if mtype == "interactive":
        itype = _str(body.get("type"))
        reply = body.get(itype) if itype in ("button_reply", "list_reply") else None
        if isinstance(reply, Mapping) and _str(reply.get("id")):
            token, choice = decode_choice_id(str(reply["id"]))
            return WAMessage(
                kind="choice",
                choice_id=choice,
                step_token=token,
                text=_str(reply.get("title")),
                **common,
            )
        return WAMessage(kind="unsupported", unsupported=f"interactive:{itype}", **common)
    if mtype == "button":
        # A quick-reply button of a template: its payload when it is one of our ids, else the
        # label as typed text (the engine matches labels and routes free text by intent).
        payload = _str(body.get("payload")) or ""
        label = _str(body.get("text")) or payload
        if "|" in payload or payload.startswith("cmd:"):
            token, choice = decode_choice_id(payload)
            return WAMessage(kind="choice", choice_id=choice, step_token=token, **common)
        return WAMessage(kind="text", text=label, **common)
    if mtype in ("image", "document"):
        media_id = _str(body.get("id"))
        if media_id is None:
            return WAMessage(kind="unsupported", unsupported=mtype, **common)
        return WAMessage(
            kind="media",
            media_id=media_id,
            media_mime=_str(body.get("mime_type")),
            media_kind="photo" if mtype == "image" else "document",
            filename=_str(body.get("filename")),
            text=_str(body.get("caption")),
            **common,
        )
    if mtype == "audio":
        media_id = _str(body.get("id"))
        if media_id is None:
            return WAMessage(kind="unsupported", unsupported=mtype, **common)
        return WAMessage(
            kind="voice",
            media_id=media_id,
            media_mime=_str(body.get("mime_type")),
            media_kind="voice",
            **common,
        )
    if mtype == "location":
        try:
            loc = (float(body["latitude"]), float(body["longitude"]))
        except (KeyError, TypeError, ValueError):
            return WAMessage(kind="unsupported", unsupported=mtype, **common)
        return WAMessage(kind="location", location=loc, **common)
    if mtype == "contacts":
        cards = raw.get("contacts")
        phone = None
        if isinstance(cards, list):
            for card in cards:
                phones = card.get("phones") if isinstance(card, Mapping) else None
                for p in phones if isinstance(phones, list) else []:
                    if isinstance(p, Mapping) and (_str(p.get("phone")) or _str(p.get("wa_id"))):
                        phone = _str(p.get("phone")) or _str(p.get("wa_id"))
                        break
                if phone:
                    break
        if phone is None:
            return WAMessage(kind="unsupported", unsupported=mtype, **common)
        # A shared card may be anyone's number: the engine treats it as typed text, never as
        # proof of identity (linking still needs NIK + date of birth).
        return WAMessage(kind="contact", contact_phone=phone, **common)
    if mtype == "system":
        # Meta's system message when a user changes number ("user_changed_number", older docs
        # "customer_changed_number", and the business-scoped id's change): whoever holds the old
        # number next must verify afresh, so the chat's link is dropped (issue 20, item 4).
        stype = _str(_obj(raw.get("system")).get("type")) or ""
        if "changed" in stype:
            return WAMessage(kind="number_changed", text=stype, **common)
    # sticker, video, reaction, order, other system messages, unsupported, unknown...
    return WAMessage(kind="unsupported", unsupported=mtype, **common)


def message_from_record(record: str) -> WAMessage | None:
    """Rebuild a WAMessage from what ``parse_message`` stored (restart recovery)."""
    data = loads(record)
    if not isinstance(data, Mapping) or not isinstance(data.get("message"), Mapping):
        return None
    received = data.get("received")
    return parse_message(
        data["message"],
        display_name=_str(data.get("display_name")),
        wa_id=_str(data.get("wa_id")),
        received=received if isinstance(received, int) else None,
    )


def reduce_record(record: str) -> str:
    """What the ledger keeps of a processed message: its shape for audit, NIKs masked.

    The raw record holds everything the user typed (NIKs, birth dates) and their profile name;
    once processed, only the type, the timestamp, the reply context and a masked, shortened
    text remain.
    """
    data = loads(record)
    raw = data.get("message") if isinstance(data, Mapping) else None
    if not isinstance(raw, Mapping):
        return dumps({"reduced": True})
    mtype = _str(raw.get("type")) or "unknown"
    body = _obj(raw.get(mtype))
    text = _str(body.get("body")) or _str(body.get("caption")) or _str(body.get("text"))
    if text is None and mtype == "interactive":
        itype = _str(body.get("type")) or ""
        text = _str(_obj(body.get(itype)).get("title"))
    reduced: dict[str, Any] = {
        "reduced": True,
        "type": mtype,
        "timestamp": raw.get("timestamp"),
        "context_id": _str(_obj(raw.get("context")).get("id")),
    }
    if text is not None:
        reduced["text"] = mask_text(text)[:200]
    if _str(body.get("id")):
        reduced["media_id"] = _str(body.get("id"))
    return dumps(reduced)
