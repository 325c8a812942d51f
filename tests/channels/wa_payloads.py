"""Builders for realistic WhatsApp Cloud API webhook bodies, and the signature Meta adds.

Shapes follow Meta's webhook examples as quoted in TECH.md §3 and pywa's recorded updates
(david-lev/pywa ``tests/data/updates/message.json`` and ``message_status.json``): a value has
``metadata``, ``contacts`` (profile name + wa_id) and either ``messages`` or ``statuses``.

Since 2026 a contact also carries ``user_id`` (the business-scoped user id, BSUID) and, for a
user with a username, ``profile.username``; such a user's number may be missing from
``contacts[].wa_id`` and ``messages[].from`` (then ``from_user_id`` names them): pass
``user_id=`` and ``wa_id=None`` / ``sender=None`` (nyaruka/courier ``hello_from_bsuid.json``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from typing import Any

PNID = "1122334455667"
WABA = "102290129340398"
BIZ_NUMBER = "6285100001111"
_ids = itertools.count(1)
T0 = 1795575600  # 2026-11-25 03:00 UTC (10:00 WIB), the tests' "today"


def sign(body: bytes, secret: str) -> str:
    """``X-Hub-Signature-256`` for a raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    """The raw body as Meta sends it (compact JSON, UTF-8)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def wamid() -> str:
    """A fresh inbound message id."""
    return f"wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjA{next(_ids):06d}"


def value(
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    wa_id: str | None = "6281234567890",
    name: str = "Ani",
    pnid: str = PNID,
    user_id: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """One change value."""
    v: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": BIZ_NUMBER, "phone_number_id": pnid},
    }
    if messages is not None:
        contact: dict[str, Any] = {"profile": {"name": name}}
        if username:
            contact["profile"]["username"] = username
        if wa_id:
            contact["wa_id"] = wa_id
        if user_id:
            contact["user_id"] = user_id
        v["contacts"] = [contact]
        v["messages"] = messages
    if statuses is not None:
        v["statuses"] = statuses
    return v


def envelope(*values: dict[str, Any], entries: int = 1) -> dict[str, Any]:
    """A webhook body: the values spread over ``entries`` entries (one change each)."""
    if entries == 1:
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA, "changes": [{"value": v, "field": "messages"} for v in values]}],
        }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"value": v, "field": "messages"}]} for v in values],
    }


def _msg(
    kind: str,
    sender: str | None,
    ts: int | None,
    mid: str | None,
    *,
    user_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    m: dict[str, Any] = {}
    if sender:
        m["from"] = sender
    if user_id:
        m["from_user_id"] = user_id
    m.update({"id": mid or wamid(), "timestamp": str(ts if ts is not None else T0), "type": kind})
    m.update(extra)
    return m


def text(
    body: str,
    *,
    sender: str | None = "6281234567890",
    ts: int | None = None,
    mid: str | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    """A text message."""
    return _msg("text", sender, ts, mid, user_id=user_id, text={"body": body})


def button_reply(
    button_id: str,
    title: str,
    *,
    context_id: str = "wamid.out1",
    sender: str | None = "6281234567890",
    ts: int | None = None,
    mid: str | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    """A tap on a reply button (``context`` names the message it answers)."""
    return _msg(
        "interactive",
        sender,
        ts,
        mid,
        user_id=user_id,
        context={"from": BIZ_NUMBER, "id": context_id},
        interactive={"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
    )


def list_reply(
    row_id: str,
    title: str,
    description: str = "",
    *,
    sender: str | None = "6281234567890",
    ts: int | None = None,
    mid: str | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    """A pick from a list."""
    reply = {"id": row_id, "title": title}
    if description:
        reply["description"] = description
    return _msg(
        "interactive",
        sender,
        ts,
        mid,
        user_id=user_id,
        context={"from": BIZ_NUMBER, "id": "wamid.out2"},
        interactive={"type": "list_reply", "list_reply": reply},
    )


def template_button(
    text_: str, payload: str, *, sender: str = "6281234567890", ts: int | None = None
) -> dict[str, Any]:
    """A tap on a template's quick-reply button."""
    return _msg(
        "button",
        sender,
        ts,
        None,
        context={"from": BIZ_NUMBER, "id": "wamid.tmpl"},
        button={"text": text_, "payload": payload},
    )


def image(
    media_id: str,
    *,
    mime: str = "image/jpeg",
    caption: str | None = None,
    sender: str | None = "6281234567890",
    ts: int | None = None,
    mid: str | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    """A photo."""
    body: dict[str, Any] = {"mime_type": mime, "sha256": "4654+8g=", "id": media_id}
    if caption:
        body["caption"] = caption
    return _msg("image", sender, ts, mid, user_id=user_id, image=body)


def document(
    media_id: str,
    *,
    filename: str = "surat.pdf",
    mime: str = "application/pdf",
    sender: str = "6281234567890",
    ts: int | None = None,
) -> dict[str, Any]:
    """A file sent as a document."""
    return _msg(
        "document",
        sender,
        ts,
        None,
        document={"filename": filename, "mime_type": mime, "sha256": "grwf=", "id": media_id},
    )


def audio(
    media_id: str, *, voice: bool = True, sender: str = "6281234567890", ts: int | None = None
) -> dict[str, Any]:
    """A voice note (``voice: true``) or an audio file."""
    return _msg(
        "audio",
        sender,
        ts,
        None,
        audio={
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "m04pFf2E=",
            "id": media_id,
            "voice": voice,
        },
    )


def sticker(*, sender: str = "6281234567890", ts: int | None = None) -> dict[str, Any]:
    """A sticker."""
    return _msg(
        "sticker",
        sender,
        ts,
        None,
        sticker={"mime_type": "image/webp", "sha256": "OmT4=", "id": "987", "animated": False},
    )


def reaction(*, sender: str = "6281234567890") -> dict[str, Any]:
    """An emoji reaction to one of our messages."""
    return _msg(
        "reaction", sender, None, None, reaction={"message_id": "wamid.out1", "emoji": "👍"}
    )


def location(
    lat: float = -8.1724, lon: float = 113.7005, *, sender: str = "6281234567890"
) -> dict[str, Any]:
    """A shared location (Jember by default)."""
    return _msg(
        "location",
        sender,
        None,
        None,
        location={"latitude": lat, "longitude": lon, "name": "Rumah"},
    )


def contacts(phone: str = "+62 812-3456-7890", *, sender: str = "6281234567890") -> dict[str, Any]:
    """A shared contact card."""
    return _msg(
        "contacts",
        sender,
        None,
        None,
        contacts=[
            {
                "name": {"formatted_name": "Sutrisno", "first_name": "Sutrisno"},
                "phones": [{"phone": phone, "wa_id": "6281234567890", "type": "CELL"}],
            }
        ],
    )


def status(
    message_id: str,
    state: str,
    *,
    recipient: str | None = "6281234567890",
    recipient_user_id: str | None = None,
    ts: int | None = None,
    error_code: int | None = None,
    pricing: bool = True,
) -> dict[str, Any]:
    """A delivery status; failed ones carry ``errors`` and (since PMP) often no pricing.

    ``recipient_user_id``: the BSUID, set when we sent to it (``recipient`` then is None).
    """
    s: dict[str, Any] = {
        "id": message_id,
        "status": state,
        "timestamp": str(ts if ts is not None else T0),
    }
    if recipient:
        s["recipient_id"] = recipient
    if recipient_user_id:
        s["recipient_user_id"] = recipient_user_id
    if pricing and state != "failed":
        s["conversation"] = {"id": "7270432eae37498234f4444b35ffc5", "origin": {"type": "service"}}
        s["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility"}
    if error_code is not None:
        s["errors"] = [
            {
                "code": error_code,
                "title": "Re-engagement message" if error_code == 131047 else "Error",
                "message": "Re-engagement message",
                "error_data": {
                    "details": "Message failed to send because more than 24 hours have passed "
                    "since the customer last replied to this number."
                },
            }
        ]
    return s
