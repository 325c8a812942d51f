"""Webhook bodies: statuses, and every message and status of one POST (``parse_webhook``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
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

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class WAError:
    """An error object of a failed status or an error response."""

    code: int
    title: str = ""
    details: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class WAStatus:
    """A delivery status of a message we sent."""

    id: str
    status: Literal["sent", "delivered", "read", "failed"]
    timestamp: int
    recipient_id: str | None = field(default=None, repr=False)
    errors: tuple[WAError, ...] = ()
    pricing_category: str | None = None
    conversation_id: str | None = None

    @property
    def error_code(self) -> int | None:
        """The first error code (failed statuses only)."""
        return self.errors[0].code if self.errors else None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookBatch:
    """Everything one webhook POST carried, in payload order."""

    messages: tuple[WAMessage, ...] = ()
    statuses: tuple[WAStatus, ...] = ()
    ignored: int = 0


def parse_status(raw: Mapping[str, Any]) -> WAStatus | None:
    """One ``statuses[]`` element; ``pricing``/``conversation`` are optional (PMP since 2025)."""
    sid = _str(raw.get("id"))
    status = _str(raw.get("status"))
    if sid is None or status not in ("sent", "delivered", "read", "failed"):
        return None
    errors: list[WAError] = []
    for e in raw.get("errors") or []:
        if isinstance(e, Mapping):
            data = _obj(e.get("error_data"))
            errors.append(
                WAError(
                    code=_int(e.get("code"), -1),
                    title=str(e.get("title") or e.get("message") or ""),
                    details=str(data.get("details") or ""),
                )
            )
    pricing = _obj(raw.get("pricing"))
    conv = _obj(raw.get("conversation"))
    return WAStatus(
        id=sid,
        status=status,  # type: ignore[arg-type]
        timestamp=_int(raw.get("timestamp")),
        recipient_id=_str(raw.get("recipient_id")),
        errors=tuple(errors),
        pricing_category=_str(pricing.get("category")),
        conversation_id=_str(conv.get("id")),
    )


def parse_webhook(
    data: Any, *, phone_number_id: str | None = None, received: int | None = None
) -> WebhookBatch:
    """Every message and status of a webhook body, in order; never raises on odd input.

    Changes addressed to another phone number of the same app are skipped. ``received`` is the
    receive time in seconds (see ``normalize_timestamp``).
    """
    messages: list[WAMessage] = []
    statuses: list[WAStatus] = []
    ignored = 0
    if not isinstance(data, Mapping) or data.get("object") != "whatsapp_business_account":
        return WebhookBatch(ignored=1)
    for entry in data.get("entry") or []:
        if not isinstance(entry, Mapping):
            ignored += 1
            continue
        for change in entry.get("changes") or []:
            value = change.get("value") if isinstance(change, Mapping) else None
            if not isinstance(value, Mapping) or change.get("field") != "messages":
                ignored += 1
                continue
            meta = _obj(value.get("metadata"))
            pnid = _str(meta.get("phone_number_id"))
            if phone_number_id and pnid and pnid != phone_number_id:
                ignored += 1
                continue
            names: dict[str, str] = {}
            for c in value.get("contacts") or []:
                if isinstance(c, Mapping) and _str(c.get("wa_id")):
                    profile = _obj(c.get("profile"))
                    names[str(c["wa_id"])] = str(profile.get("name") or "")
            only_wa_id = next(iter(names)) if len(names) == 1 else None
            for raw in value.get("messages") or []:
                msg = (
                    parse_message(
                        raw,
                        display_name=names.get(str(raw.get("from"))) or None,
                        wa_id=only_wa_id,
                        received=received,
                    )
                    if isinstance(raw, Mapping)
                    else None
                )
                if msg is None:
                    ignored += 1
                else:
                    messages.append(msg)
            for raw in value.get("statuses") or []:
                st = parse_status(raw) if isinstance(raw, Mapping) else None
                if st is None:
                    ignored += 1
                else:
                    statuses.append(st)
    return WebhookBatch(messages=tuple(messages), statuses=tuple(statuses), ignored=ignored)
