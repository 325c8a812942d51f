"""Webhook bodies: statuses, identity updates, and every message and status of one POST.

``parse_webhook`` never raises on odd input. The ``messages`` field carries user messages (with
``contacts[]``: profile name and username, ``wa_id``, ``user_id`` (BSUID), ``parent_user_id``),
delivery statuses (``recipient_id`` when we sent to a number, ``recipient_user_id`` when we
sent to a BSUID) and value-level ``errors``; ``user_id_update`` reports a BSUID that changed;
every other field (template reviews, account updates, user preferences...) is acknowledged and
named in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lingkaran.channels.whatsapp.config import (
    _int,
    _obj,
    _str,
)
from lingkaran.channels.whatsapp.inbound import (
    WAMessage,
    parse_message,
)
from lingkaran_core.services.whatsapp_identity import is_user_id, phone_digits

logger = logging.getLogger(__name__)

STATUSES = ("sent", "delivered", "read", "failed")
# Statuses we know and have no use for: a voice message we sent was played.
QUIET_STATUSES = ("played", "deleted", "warning")


@dataclass(frozen=True, slots=True, kw_only=True)
class WAError:
    """An error object of a failed status, a message, a webhook value or an error response."""

    code: int
    title: str = ""
    details: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class WAStatus:
    """A delivery status of a message we sent, with the recipient as Meta names them."""

    id: str
    status: Literal["sent", "delivered", "read", "failed"]
    timestamp: int
    recipient_id: str | None = field(default=None, repr=False)
    recipient_user_id: str | None = None
    recipient_phone: str | None = field(default=None, repr=False)  # digits
    errors: tuple[WAError, ...] = ()
    pricing_category: str | None = None
    conversation_id: str | None = None

    @property
    def error_code(self) -> int | None:
        """The first error code (failed statuses only)."""
        return self.errors[0].code if self.errors else None


@dataclass(frozen=True, slots=True, kw_only=True)
class WAUserIdUpdate:
    """A ``user_id_update``: a user's BSUID changed (their number did)."""

    previous_user_id: str | None
    user_id: str | None
    phone: str | None = field(default=None, repr=False)  # digits, when Meta shares the number
    parent_user_id: str | None = None
    timestamp: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookBatch:
    """Everything one webhook POST carried, in payload order."""

    messages: tuple[WAMessage, ...] = ()
    statuses: tuple[WAStatus, ...] = ()
    user_id_updates: tuple[WAUserIdUpdate, ...] = ()
    errors: tuple[WAError, ...] = ()
    other_fields: tuple[str, ...] = ()  # acknowledged, logged, nothing to do
    ignored: int = 0


def _errors(items: Any) -> tuple[WAError, ...]:
    out: list[WAError] = []
    for e in items if isinstance(items, list) else []:
        if isinstance(e, Mapping):
            data = _obj(e.get("error_data"))
            out.append(
                WAError(
                    code=_int(e.get("code"), -1),
                    title=str(e.get("title") or e.get("message") or ""),
                    details=str(data.get("details") or e.get("details") or ""),
                )
            )
    return tuple(out)


def _user_id(value: Any) -> str | None:
    text = _str(value)
    return text if is_user_id(text) else None


def _contact_for(
    contacts: Sequence[Mapping[str, Any]], *, phone: str | None, user_id: str | None
) -> Mapping[str, Any]:
    """The ``contacts[]`` entry naming this phone or BSUID (the only one, if just one)."""
    for c in contacts:
        if (phone and phone in (_str(c.get("wa_id")), _str(c.get("user_id")))) or (
            user_id and user_id == _str(c.get("user_id"))
        ):
            return c
    if len(contacts) != 1:
        return {}
    only = contacts[0]
    # The only contact, unless it names someone else (another number or BSUID).
    other_phone = phone and _str(only.get("wa_id")) not in (None, phone)
    other_id = user_id and is_user_id(user_id) and _str(only.get("user_id")) not in (None, user_id)
    return {} if other_phone or other_id else only


def parse_status(
    raw: Mapping[str, Any], *, contacts: Sequence[Mapping[str, Any]] = ()
) -> WAStatus | None:
    """One ``statuses[]`` element; ``pricing``/``conversation`` are optional (PMP since 2025).

    The recipient: ``recipient_id`` (a number; a group id for groups) and/or
    ``recipient_user_id`` (a BSUID), completed from the status's ``contacts[]`` entry.
    """
    sid = _str(raw.get("id"))
    status = _str(raw.get("status"))
    if sid is None or status not in STATUSES:
        return None
    recipient = _str(raw.get("recipient_id"))
    phone = phone_digits(recipient) if raw.get("recipient_type") != "group" else None
    user_id = _user_id(raw.get("recipient_user_id")) or (
        recipient if is_user_id(recipient) else None
    )
    contact = _contact_for(contacts, phone=phone, user_id=user_id)
    user_id = user_id or _user_id(contact.get("user_id"))
    phone = phone or phone_digits(_str(contact.get("wa_id")))
    pricing = _obj(raw.get("pricing"))
    conv = _obj(raw.get("conversation"))
    return WAStatus(
        id=sid,
        status=status,  # type: ignore[arg-type]
        timestamp=_int(raw.get("timestamp")),
        recipient_id=recipient,
        recipient_user_id=user_id,
        recipient_phone=phone,
        errors=_errors(raw.get("errors")),
        pricing_category=_str(pricing.get("category")),
        conversation_id=_str(conv.get("id")),
    )


def parse_user_id_update(raw: Mapping[str, Any]) -> WAUserIdUpdate | None:
    """One ``user_id_update[]`` element (``user_id: {previous, current}``)."""
    ids = _obj(raw.get("user_id"))
    parents = _obj(raw.get("parent_user_id"))
    previous, current = _user_id(ids.get("previous")), _user_id(ids.get("current"))
    if previous is None or current is None or previous == current:
        return None
    return WAUserIdUpdate(
        previous_user_id=previous,
        user_id=current,
        phone=phone_digits(_str(raw.get("wa_id"))),
        parent_user_id=_user_id(parents.get("current")),
        timestamp=_int(raw.get("timestamp")),
    )


def parse_webhook(
    data: Any, *, phone_number_id: str | None = None, received: int | None = None
) -> WebhookBatch:
    """Every message, status and identity update of a webhook body, in order.

    Changes addressed to another phone number of the same app are skipped. ``received`` is the
    receive time in seconds (see ``normalize_timestamp``).
    """
    messages: list[WAMessage] = []
    statuses: list[WAStatus] = []
    updates: list[WAUserIdUpdate] = []
    errors: list[WAError] = []
    other: list[str] = []
    ignored = 0
    if not isinstance(data, Mapping) or data.get("object") != "whatsapp_business_account":
        return WebhookBatch(ignored=1)
    for entry in data.get("entry") or []:
        if not isinstance(entry, Mapping):
            ignored += 1
            continue
        for change in entry.get("changes") or []:
            value = change.get("value") if isinstance(change, Mapping) else None
            kind = _str(change.get("field")) if isinstance(change, Mapping) else None
            if not isinstance(value, Mapping) or kind is None:
                ignored += 1
                continue
            meta = _obj(value.get("metadata"))
            pnid = _str(meta.get("phone_number_id"))
            if phone_number_id and pnid and pnid != phone_number_id:
                ignored += 1
                continue
            if kind == "user_id_update":
                for raw in value.get("user_id_update") or []:
                    upd = parse_user_id_update(raw) if isinstance(raw, Mapping) else None
                    if upd is None:
                        ignored += 1
                    else:
                        updates.append(upd)
                continue
            if kind != "messages":
                other.append(kind[:60])
                continue
            contacts = [c for c in value.get("contacts") or [] if isinstance(c, Mapping)]
            only_wa_id = _str(contacts[0].get("wa_id")) if len(contacts) == 1 else None
            errors.extend(_errors(value.get("errors")))
            for raw in value.get("messages") or []:
                msg = None
                if isinstance(raw, Mapping):
                    sender = _str(raw.get("from"))
                    contact = _contact_for(
                        contacts,
                        phone=sender,
                        user_id=_str(raw.get("from_user_id")) or sender,
                    )
                    msg = parse_message(
                        raw,
                        contact=contact,
                        wa_id=only_wa_id if contact else None,
                        received=received,
                    )
                if msg is None:
                    ignored += 1
                else:
                    messages.append(msg)
            for raw in value.get("statuses") or []:
                st = parse_status(raw, contacts=contacts) if isinstance(raw, Mapping) else None
                if st is None:
                    if not (isinstance(raw, Mapping) and raw.get("status") in QUIET_STATUSES):
                        ignored += 1
                else:
                    statuses.append(st)
    return WebhookBatch(
        messages=tuple(messages),
        statuses=tuple(statuses),
        user_id_updates=tuple(updates),
        errors=tuple(errors),
        other_fields=tuple(other),
        ignored=ignored,
    )
