"""Delivery statuses: applied to the outbox row of their message id; the recipient ids they
name (``recipient_id`` / ``recipient_user_id``, ``contacts[]``) teach who is who."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from lingkaran.channels.whatsapp.config import (
    CHANNEL,
    FORCE_TEMPLATE,
    RE_ENGAGEMENT,
    RETRY_CODES,
)
from lingkaran.channels.whatsapp.webhook import (
    WAStatus,
)
from lingkaran_core.services import whatsapp_identity
from lingkaran_core.storage import Tx, channel_repo

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Outbox rows and the inbound ledger (SQL this adapter needs beyond lingkaran_core.storage)

_STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3}


async def apply_status(tx: Tx, status: WAStatus, *, now: datetime) -> str | None:
    """Record a delivery status on the outbox row that sent ``status.id``; what changed.

    Never moves a row backwards (read → delivered). A failed status is final for its message id:
    the row either fails for good, or is re-queued (with its ``channel_message_id`` cleared, so
    late statuses of the old id no longer match) — as a template after 131047, or later after a
    throughput error.
    """
    row = await channel_repo.find_outbox_by_message_id(tx, CHANNEL, status.id)
    if row is None or row.status in ("failed", "dead", "dropped"):
        return None
    current = row.delivery_status
    current_rank = (
        0 if not current or current.startswith("failed") else _STATUS_RANK.get(current, 0)
    )
    if status.status != "failed":
        if _STATUS_RANK[status.status] <= current_rank:
            return None
        await channel_repo.set_delivery_status(tx, row.id, status.status)
        return status.status
    if current_rank >= _STATUS_RANK["delivered"]:
        return None  # it reached the phone; a stray failure cannot undo that
    code = status.error_code
    mark = f"failed:{code}"
    params = dict(row.params)
    if code == RE_ENGAGEMENT and not params.get(FORCE_TEMPLATE):
        params[FORCE_TEMPLATE] = True
        await channel_repo.requeue_outbox(
            tx,
            row.id,
            not_before=now,
            delivery_status=mark,
            params=params,
            error=f"131047 window closed; resend as template ({FORCE_TEMPLATE})",
        )
        return "requeued_template"
    if code in RETRY_CODES:
        delay = timedelta(seconds=min(60 * 2 ** min(row.attempts, 6), 3600))
        await channel_repo.requeue_outbox(
            tx,
            row.id,
            not_before=now + delay,
            delivery_status=mark,
            error=f"{code} throttled; retry",
        )
        return "requeued"
    detail = status.errors[0].title if status.errors else ""
    await channel_repo.fail_outbox(
        tx, row.id, delivery_status=mark, error=f"{code} {detail}".strip()
    )
    return "failed"


async def learn_recipient(tx: Tx, status: WAStatus, *, now: datetime) -> str | None:
    """A status naming its recipient by number and BSUID vouches for that pair (Meta's
    ``contacts[]``): a chat keyed by the number is re-keyed or merged (never created here)."""
    if status.recipient_phone is None or status.recipient_user_id is None:
        return None
    sender = whatsapp_identity.Sender(
        user_id=status.recipient_user_id, phone=status.recipient_phone
    )
    found = await whatsapp_identity.resolve_sender(tx, sender, now=now, create=False)
    return None if found is None else found.event
