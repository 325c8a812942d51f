"""Broadcasts: a message to the workers of some sectors and places, estimated before it is queued.

One use case for the admin CLI (``admin broadcast``) and the console's composer:

1. ``plan_broadcast`` picks the recipients (chats linked to verified, living workers that have not
   opted out: the chat's own link or a household link, one message per chat however many of its
   people match; the sector and the place must be those of one person; roster phone numbers
   without a chat are never broadcast to) and estimates the
   WhatsApp template cost: recipients outside the 24 h window need a paid template and are spread
   over days under the configured share of the messaging tier;
2. ``send_broadcast`` queues the plan as class ``broadcast`` (never sent after an opt-out, deferred
   in quiet hours), idempotent by a digest of the message and the audience, and audits it with
   whoever sent it.

Import as a module: ``from lingkaran_core.services import broadcasts``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lingkaran_core import outbox as policy
from lingkaran_core.errors import DomainError
from lingkaran_core.reminders import ChatTarget, DueReminder, Kind
from lingkaran_core.services.notify import audit
from lingkaran_core.storage import Database, admin_repo, outbox_repo
from lingkaran_core.storage.db import Tx

__all__ = [
    "BROADCAST_PRIORITY",
    "MAX_MESSAGE_CHARS",
    "Audience",
    "BroadcastPlan",
    "BroadcastRecipient",
    "plan_broadcast",
    "send_broadcast",
]

BROADCAST_PRIORITY = 8
MAX_MESSAGE_CHARS = 1000
_CHUNK = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Audience:
    """Any of the sectors (when given) and any of the places (desa or kecamatan codes)."""

    sectors: tuple[str, ...] = ()
    desa_codes: tuple[str, ...] = ()
    kecamatan_codes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """No filter at all (a broadcast to everybody is never an accident: refused)."""
        return not (self.sectors or self.desa_codes or self.kecamatan_codes)

    def as_dict(self) -> dict[str, list[str]]:
        """For the audit log."""
        return {
            "sectors": sorted(self.sectors),
            "desa": sorted(self.desa_codes),
            "kecamatan": sorted(self.kecamatan_codes),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BroadcastRecipient:
    """One chat that would receive the broadcast."""

    chat_id: int
    channel: str
    user_ref: str
    last_inbound_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BroadcastPlan:
    """Who gets the message, what it costs, when it can go."""

    message: str
    audience: Audience
    digest: str
    estimate: policy.BroadcastEstimate
    budget: int | None  # new WhatsApp users a day (None: unlimited)
    template_price: int
    used_today: int
    recipients: tuple[BroadcastRecipient, ...] = field(repr=False)

    @property
    def blocked(self) -> bool:
        """Template messages are needed but the WhatsApp budget is 0: nothing could ever go."""
        return self.budget is not None and self.budget <= 0 and self.estimate.outside_window > 0


def _digest(message: str, audience: Audience) -> str:
    key = repr(
        (sorted(audience.sectors), sorted(audience.desa_codes), sorted(audience.kecamatan_codes))
    )
    return hashlib.sha256((message + "\x00" + key).encode()).hexdigest()[:12]


async def plan_broadcast(
    tx: Tx,
    *,
    message: str,
    audience: Audience,
    now: datetime,
    config: policy.OutboxConfig,
) -> BroadcastPlan:
    """The recipients and the cost estimate; nothing is written.

    ``DomainError``: ``broadcast.empty_message``, ``broadcast.too_long``, ``broadcast.no_audience``.
    """
    message = message.strip()
    if not message:
        raise DomainError("broadcast.empty_message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise DomainError("broadcast.too_long")
    if audience.empty:
        raise DomainError("broadcast.no_audience")
    rows = await admin_repo.broadcast_recipients(
        tx,
        sectors=audience.sectors,
        desa_codes=audience.desa_codes,
        kecamatan_codes=audience.kecamatan_codes,
    )
    used = await outbox_repo.business_users_since(
        tx, channel="whatsapp", since=now - policy.WA_WINDOW
    )
    recipients = tuple(
        BroadcastRecipient(
            chat_id=int(row["id"]),
            channel=str(row["channel"]),
            user_ref=str(row["user_ref"]),
            last_inbound_at=(
                datetime.fromisoformat(row["last_inbound_at"]) if row["last_inbound_at"] else None
            ),
        )
        for row in rows
    )
    estimate = policy.broadcast_estimate(
        (
            policy.BroadcastRecipient(channel=r.channel, last_inbound_at=r.last_inbound_at)
            for r in recipients
        ),
        now,
        used_today=len(used),
        config=config,
    )
    return BroadcastPlan(
        message=message,
        audience=audience,
        digest=_digest(message, audience),
        estimate=estimate,
        budget=policy.tier_budget(config),
        template_price=config.wa_template_price,
        used_today=len(used),
        recipients=recipients,
    )


def _due(plan: BroadcastPlan, now: datetime, config: policy.OutboxConfig) -> list[DueReminder]:
    start = policy.next_send_time(policy.MessageClass.BROADCAST, now, config)
    due: list[DueReminder] = []
    slot = plan.used_today
    for r in plan.recipients:
        not_before = start
        if r.channel == "whatsapp" and not policy.in_whatsapp_window(r.last_inbound_at, now):
            if plan.budget is not None:
                not_before = start + timedelta(days=slot // plan.budget)
            slot += 1
        due.append(
            DueReminder(
                kind=Kind.BROADCAST,
                target=ChatTarget(chat_id=r.chat_id, channel=r.channel, user_ref=r.user_ref),
                msg_key="broadcast.message",
                params={"text": plan.message},
                msg_class=policy.MessageClass.BROADCAST,
                priority=BROADCAST_PRIORITY,
                dedupe_key=f"broadcast:{plan.digest}:c{r.chat_id}",
                not_before=not_before,
            )
        )
    return due


async def send_broadcast(
    db: Database,
    plan: BroadcastPlan,
    *,
    now: datetime,
    config: policy.OutboxConfig,
    actor_kind: str,
    actor_id: str,
    channel: str,
) -> int:
    """Queue the plan (a thousand rows a transaction) and audit it; how many rows were new.

    The same message to the same audience twice is one broadcast (dedupe by digest and chat).
    ``DomainError("broadcast.no_budget")`` when template messages are needed but the WhatsApp
    budget is 0.
    """
    if plan.blocked:
        raise DomainError("broadcast.no_budget")
    due = _due(plan, now, config)
    written = 0
    for i in range(0, len(due), _CHUNK):
        async with db.tx() as tx:
            written += len(await outbox_repo.insert_due(tx, due[i : i + _CHUNK], now=now))
    async with db.tx() as tx:
        await audit(
            tx,
            now=now,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action="broadcast.queue",
            target_kind="broadcast",
            target_id=plan.digest,
            channel=channel,
            details={
                **plan.audience.as_dict(),
                "recipients": plan.estimate.recipients,
                "queued": written,
                "templates": plan.estimate.outside_window,
                "cost_rupiah": plan.estimate.cost_rupiah,
                "chars": len(plan.message),
            },
        )
    return written
