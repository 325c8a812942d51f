"""Inbound messages: one ``messages[]`` element of a webhook as a frozen ``WAMessage``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from lingkaran.channels.whatsapp.config import (
    EARLIEST_TIMESTAMP,
    FUTURE_SLACK,
    MILLISECONDS_FROM,
    _int,
    _obj,
    _str,
)
from lingkaran_core.logs import mask_text
from lingkaran_core.services.whatsapp_identity import Sender, is_user_id, phone_digits
from lingkaran_core.storage.db import dumps, loads

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Parsed webhook objects: built once at the edge, frozen (STYLE.md, pywa/types/message.py)

MessageKind = Literal[
    "text",  # typed text, a template quick-reply's label
    "choice",  # a reply button or list row of ours (step token + choice id)
    "media",  # image or document
    "voice",  # audio: a voice note or an audio file (a ticket for a person)
    "contact",  # a shared contact card
    "location",
    "welcome",  # the user opened the chat for the first time (request_welcome)
    "unsupported",  # sticker, video, order, unsupported, unknown...: "send text or a photo"
    "reaction",  # deliberate silence: never restarts a flow
    "edit",  # a note that edits are not read; the flow is not touched
    "revoke",  # the user deleted a message: silence
    "identity",  # user_changed_number / user_changed_user_id: the chat follows the new ids
    "ignored",  # other system notices, group messages: silence, logged
]


@dataclass(frozen=True, slots=True, kw_only=True)
class WAMessage:
    """One user message from a webhook, with the raw record kept for durable storage.

    The sender is named by ``user_id`` (business-scoped user id, BSUID) and/or ``phone`` (the
    number's digits, Meta's wa_id); ``user_ref`` is the BSUID when there is one, else the number
    (the key of the per-user queue and of the inbound ledger).
    """

    id: str
    user_ref: str
    timestamp: int
    kind: MessageKind
    phone: str | None = field(default=None, repr=False)
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = field(default=None, repr=False)
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
    error_code: int | None = None
    # identity changes: the new ids (and the previous BSUID when Meta names it)
    new_user_id: str | None = None
    new_phone: str | None = field(default=None, repr=False)
    new_parent_user_id: str | None = None
    previous_user_id: str | None = None
    record: str = field(default="{}", repr=False, compare=False)

    @property
    def received_at(self) -> datetime:
        """When the user sent it (Meta's timestamp, UTC; the receive time when that was absurd)."""
        return datetime.fromtimestamp(max(0, self.timestamp), UTC)

    @property
    def sender(self) -> Sender:
        """The sender's ids, for ``services.whatsapp_identity``."""
        return Sender(
            user_id=self.user_id,
            phone=self.phone,
            parent_user_id=self.parent_user_id,
            username=self.username,
        )


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


def _user_id(value: Any) -> str | None:
    text = _str(value)
    return text if is_user_id(text) else None


def _sender_ids(
    raw: Mapping[str, Any], contact: Mapping[str, Any], wa_id: str | None
) -> tuple[str | None, str | None]:
    """(BSUID, phone digits) of a message's sender.

    ``from`` is the number, or missing for a user with a username; nyaruka/courier's tests also
    show a BSUID in ``from`` (and in ``wa_id``). An id that is neither is not trusted as either.
    """
    sender = _str(raw.get("from"))
    user_id = (
        _user_id(raw.get("from_user_id"))
        or (sender if is_user_id(sender) else None)
        or _user_id(contact.get("user_id"))
    )
    phone = phone_digits(sender) or phone_digits(_str(contact.get("wa_id"))) or phone_digits(wa_id)
    return user_id, phone


def _first_error(raw: Mapping[str, Any]) -> int | None:
    errors = raw.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        return _int(errors[0].get("code"), -1)
    return None


def _contact_card_phone(raw: Mapping[str, Any]) -> str | None:
    cards = raw.get("contacts")
    if not isinstance(cards, list):
        return None
    for card in cards:
        phones = card.get("phones") if isinstance(card, Mapping) else None
        for p in phones if isinstance(phones, list) else []:
            if isinstance(p, Mapping) and (_str(p.get("phone")) or _str(p.get("wa_id"))):
                return _str(p.get("phone")) or _str(p.get("wa_id"))
    return None


def parse_message(
    raw: Mapping[str, Any],
    *,
    contact: Mapping[str, Any] | None = None,
    display_name: str | None = None,
    wa_id: str | None = None,
    received: int | None = None,
) -> WAMessage | None:
    """One ``messages[]`` element as a WAMessage, or None when it lacks an id or a sender.

    ``contact``: the ``contacts[]`` entry of the sender (profile name and username, ``wa_id``,
    ``user_id``, ``parent_user_id``). ``display_name``/``wa_id`` are what records written
    before 2026-12 kept instead. ``received``: the receive time in seconds (kept in the record,
    used for absurd timestamps).
    """
    contact = contact or {}
    profile = _obj(contact.get("profile"))
    mid = _str(raw.get("id"))
    mtype = _str(raw.get("type")) or "unknown"
    system = _obj(raw.get("system"))
    user_id, phone = _sender_ids(raw, contact, wa_id)
    if user_id is None and mtype == "system":
        # user_changed_user_id names no sender: the previous (else the new) BSUID is the key.
        user_id = _user_id(system.get("previous_user_id")) or _user_id(system.get("user_id"))
    if mid is None or (user_id is None and phone is None):
        return None
    context = _obj(raw.get("context"))
    name = _str(profile.get("name")) or display_name
    record = dumps(
        {
            "message": raw,
            "contact": dict(contact),
            "display_name": display_name,
            "wa_id": wa_id,
            "received": received,
        }
    )
    common: dict[str, Any] = {
        "id": mid,
        "user_ref": user_id or phone,
        "phone": phone,
        "user_id": user_id,
        "parent_user_id": _user_id(raw.get("from_parent_user_id"))
        or _user_id(contact.get("parent_user_id")),
        "username": _str(profile.get("username")),
        "timestamp": normalize_timestamp(raw.get("timestamp"), received=received),
        "context_id": _str(context.get("id")),
        "display_name": name,
        "error_code": _first_error(raw),
        "record": record,
    }
    if _str(raw.get("group_id")):
        # A group chat (Meta's groups API): this bot serves people one to one, never a group.
        return WAMessage(kind="ignored", unsupported="group", **common)
    body = _obj(raw.get(mtype))
    if mtype == "text":
        return WAMessage(kind="text", text=str(body.get("body") or ""), **common)
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
        if not label:
            return WAMessage(kind="unsupported", unsupported=mtype, **common)
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
    if mtype in ("audio", "voice"):
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
        card_phone = _contact_card_phone(raw)
        if card_phone is None:
            return WAMessage(kind="unsupported", unsupported=mtype, **common)
        # A shared card may be anyone's number: the engine treats it as typed text, never as
        # proof of identity (linking still needs NIK + date of birth).
        return WAMessage(kind="contact", contact_phone=card_phone, **common)
    if mtype == "reaction":
        # An emoji on one of our messages (an empty emoji takes it back): nothing to answer.
        msg = WAMessage(kind="reaction", text=_str(body.get("emoji")), **common)
        return replace(msg, context_id=_str(body.get("message_id")) or msg.context_id)
    if mtype == "edit":
        inner = _obj(body.get("message"))
        itype = _str(inner.get("type")) or ""
        inner_body = _obj(inner.get(itype))
        text = _str(inner_body.get("body")) or _str(inner_body.get("caption"))
        msg = WAMessage(kind="edit", text=text, **common)
        return replace(msg, context_id=_str(body.get("original_message_id")))
    if mtype == "revoke":
        msg = WAMessage(kind="revoke", **common)
        return replace(msg, context_id=_str(body.get("original_message_id")))
    if mtype == "request_welcome":
        return WAMessage(kind="welcome", **common)
    if mtype == "system":
        stype = _str(system.get("type")) or ""
        if stype in ("user_changed_number", "customer_changed_number", "user_changed_user_id"):
            # The user's number and/or BSUID changed (Meta's system messages reference): the
            # chat follows the new ids (services.whatsapp_identity.change_user_id).
            return WAMessage(
                kind="identity",
                text=stype,
                new_user_id=_user_id(system.get("user_id")),
                new_phone=phone_digits(_str(system.get("wa_id")) or _str(system.get("new_wa_id"))),
                new_parent_user_id=_user_id(system.get("parent_user_id")),
                previous_user_id=_user_id(system.get("previous_user_id"))
                or (user_id if user_id != _user_id(system.get("user_id")) else None),
                **common,
            )
        # customer_identity_changed (a new device or security code) and anything newer.
        return WAMessage(kind="ignored", unsupported=f"system:{stype or '?'}", **common)
    # sticker, video, order, unsupported, unknown...
    sub = _str(_obj(raw.get("unsupported")).get("type"))
    return WAMessage(kind="unsupported", unsupported=f"{mtype}:{sub}" if sub else mtype, **common)


def message_from_record(record: str) -> WAMessage | None:
    """Rebuild a WAMessage from what ``parse_message`` stored (restart recovery)."""
    data = loads(record)
    if not isinstance(data, Mapping) or not isinstance(data.get("message"), Mapping):
        return None
    received = data.get("received")
    contact = data.get("contact")
    return parse_message(
        data["message"],
        contact=contact if isinstance(contact, Mapping) else None,
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
    if text is None and mtype == "edit":
        inner = _obj(body.get("message"))
        inner_body = _obj(inner.get(_str(inner.get("type")) or ""))
        text = _str(inner_body.get("body")) or _str(inner_body.get("caption"))
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
