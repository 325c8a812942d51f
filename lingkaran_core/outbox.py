"""Outbox policy, pure: what may be sent now, when to retry, and how to spread WhatsApp runs.

Message classes (ARCHITECTURE.md "Reminders and outbound messages")::

    reply          the answer to the user's own message: always sent
    transactional  claim status changes, ticket replies: sent even after opt-out,
                   deferred in quiet hours
    reminder       never after opt-out, deferred in quiet hours
    broadcast      never after opt-out, deferred in quiet hours

Quiet hours are 21:00-07:00 WIB (``rules.QUIET_HOURS_*``); a deferred row waits until 07:00.
Failed sends back off exponentially with jitter, honouring the server's ``retry_after``, and
go to the dead letters after ``max_attempts``.

WhatsApp caps *business-initiated* messages (a template to someone outside the 24 h window) by
unique users per rolling 24 h per business portfolio: 250, 2,000, 10,000, 100,000, unlimited.
``plan_business_initiated`` keeps a run under a configured share of the tier, most urgent first,
and says who waits for tomorrow; ``broadcast_estimate`` prices a broadcast before it is queued.
Nothing here reads a clock or the database: ``now`` and the data are passed in.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from lingkaran_core.rules import QUIET_HOURS_END, QUIET_HOURS_START

__all__ = [
    "DEFAULT_CONFIG",
    "WA_TIERS",
    "WA_WINDOW",
    "WA_WINDOW_MARGIN",
    "BroadcastEstimate",
    "BroadcastRecipient",
    "Decision",
    "Defer",
    "Drop",
    "MessageClass",
    "OutboxConfig",
    "PendingBusinessMessage",
    "Send",
    "TierPlan",
    "backoff",
    "broadcast_estimate",
    "decide",
    "in_quiet_hours",
    "in_whatsapp_window",
    "next_send_time",
    "plan_business_initiated",
    "quiet_hours_end",
    "should_dead_letter",
    "tier_budget",
]

TZ: Final = ZoneInfo("Asia/Jakarta")
WA_WINDOW: Final = timedelta(hours=24)
WA_WINDOW_MARGIN: Final = timedelta(minutes=5)
# Meta's business-initiated messaging limits (unique users per rolling 24 h); None = unlimited.
WA_TIERS: Final[tuple[int | None, ...]] = (250, 2_000, 10_000, 100_000, None)


class MessageClass(enum.StrEnum):
    """How an outbox row is treated by opt-out and quiet hours."""

    REPLY = "reply"
    TRANSACTIONAL = "transactional"
    REMINDER = "reminder"
    BROADCAST = "broadcast"


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxConfig:
    """Tunable outbox numbers (environment variables in ``channels/dispatcher.py``)."""

    quiet_start: time = QUIET_HOURS_START
    quiet_end: time = QUIET_HOURS_END
    max_attempts: int = 8
    backoff_base: float = 5.0  # seconds before the first retry (before jitter)
    backoff_cap: float = 3600.0
    wa_tier: int | None = 250  # the portfolio's current tier; None = unlimited
    wa_tier_share: float = 0.9  # stay under this share of the tier
    wa_template_price: int = 500  # rupiah per template message (Meta's ID rate card; configure)


DEFAULT_CONFIG: Final = OutboxConfig()


@dataclass(frozen=True, slots=True)
class Send:
    """Send it now."""


@dataclass(frozen=True, slots=True)
class Defer:
    """Not now: put it back until ``until``."""

    until: datetime


@dataclass(frozen=True, slots=True)
class Drop:
    """Never send it (the row is kept, marked with ``reason``)."""

    reason: str


Decision = Send | Defer | Drop


def _local(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(TZ)


def in_quiet_hours(now: datetime, config: OutboxConfig = DEFAULT_CONFIG) -> bool:
    """Whether ``now`` falls in the quiet hours (WIB), which may wrap midnight."""
    t = _local(now).time()
    start, end = config.quiet_start, config.quiet_end
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def quiet_hours_end(now: datetime, config: OutboxConfig = DEFAULT_CONFIG) -> datetime:
    """The first moment after ``now`` when the quiet hours are over (07:00 WIB)."""
    local = _local(now)
    end = local.replace(
        hour=config.quiet_end.hour, minute=config.quiet_end.minute, second=0, microsecond=0
    )
    if end <= local:
        end += timedelta(days=1)
    return end


def decide(
    msg_class: str | MessageClass,
    opted_out: bool,
    now: datetime,
    config: OutboxConfig = DEFAULT_CONFIG,
) -> Decision:
    """Send, defer to the end of the quiet hours, or drop (opt-out) one outbox row."""
    cls = MessageClass(msg_class)
    if cls is MessageClass.REPLY:
        return Send()
    if opted_out and cls in (MessageClass.REMINDER, MessageClass.BROADCAST):
        return Drop("opted_out")
    if in_quiet_hours(now, config):
        return Defer(quiet_hours_end(now, config))
    return Send()


def next_send_time(
    msg_class: str | MessageClass, now: datetime, config: OutboxConfig = DEFAULT_CONFIG
) -> datetime:
    """``now``, or the end of the quiet hours for classes that respect them (for not_before)."""
    if MessageClass(msg_class) is not MessageClass.REPLY and in_quiet_hours(now, config):
        return quiet_hours_end(now, config)
    return now


def backoff(
    attempt: int,
    retry_after: float | None,
    rng: random.Random,
    config: OutboxConfig = DEFAULT_CONFIG,
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts failures, from 1).

    Without a hint: "equal jitter" on ``base * 2**(attempt-1)``, capped, so retries of many rows
    spread out. With the server's ``retry_after``: at least that, plus up to 10 % jitter.
    """
    if retry_after is not None and retry_after > 0:
        return float(retry_after) + rng.uniform(0.0, max(0.1 * retry_after, 0.05))
    exp = float(min(config.backoff_cap, config.backoff_base * 2.0 ** max(attempt - 1, 0)))
    return exp / 2 + rng.uniform(0.0, exp / 2)


def should_dead_letter(attempts: int, config: OutboxConfig = DEFAULT_CONFIG) -> bool:
    """Whether a row that has failed ``attempts`` times goes to the dead letters."""
    return attempts >= config.max_attempts


def in_whatsapp_window(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether free-form messages may go to a user now: they wrote in the last 24 h.

    The one definition of the customer-service window for the sender, the dispatcher and the
    engine. ``WA_WINDOW_MARGIN`` before the window really closes it counts as closed: our clock
    and Meta's differ, and a free-form send that lands late fails only later (131047).
    """
    if last_inbound_at is None:
        return False
    if last_inbound_at.tzinfo is None:
        raise ValueError("last_inbound_at must be tz-aware")
    return now - last_inbound_at < WA_WINDOW - WA_WINDOW_MARGIN


# ---------------------------------------------------------------------------------------------
# WhatsApp business-initiated limit


def tier_budget(config: OutboxConfig = DEFAULT_CONFIG) -> int | None:
    """How many unique users we allow ourselves per rolling 24 h (None = unlimited)."""
    if config.wa_tier is None:
        return None
    return math.floor(config.wa_tier * config.wa_tier_share)


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingBusinessMessage:
    """A queued WhatsApp row that would open a business-initiated conversation."""

    outbox_id: int
    user_ref: str
    priority: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TierPlan:
    """Which rows go now and which wait until the rolling window frees up."""

    send_now: tuple[int, ...]
    wait: tuple[int, ...]
    budget: int | None
    new_users: int


def plan_business_initiated(
    pending: Sequence[PendingBusinessMessage],
    *,
    used_users: Iterable[str],
    config: OutboxConfig = DEFAULT_CONFIG,
) -> TierPlan:
    """Most urgent first (priority, then id), admit rows while new unique users fit the budget.

    ``used_users`` are the users already sent a business-initiated message in the last 24 h:
    another message to them costs no new slot.
    """
    budget = tier_budget(config)
    used = set(used_users)
    ordered = sorted(pending, key=lambda p: (p.priority, p.outbox_id))
    if budget is None:
        new = {p.user_ref for p in ordered} - used
        return TierPlan(
            send_now=tuple(p.outbox_id for p in ordered), wait=(), budget=None, new_users=len(new)
        )
    room = budget - len(used)
    send: list[int] = []
    wait: list[int] = []
    added: set[str] = set()
    for p in ordered:
        if p.user_ref in used or p.user_ref in added:
            send.append(p.outbox_id)
        elif room > 0:
            room -= 1
            added.add(p.user_ref)
            send.append(p.outbox_id)
        else:
            wait.append(p.outbox_id)
    return TierPlan(send_now=tuple(send), wait=tuple(wait), budget=budget, new_users=len(added))


@dataclass(frozen=True, slots=True, kw_only=True)
class BroadcastRecipient:
    """One broadcast recipient: channel and when they last wrote to us."""

    channel: str
    last_inbound_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BroadcastEstimate:
    """What a broadcast costs before it is queued."""

    recipients: int
    whatsapp: int
    outside_window: int
    cost_rupiah: int
    days_needed: int


def broadcast_estimate(
    recipients: Iterable[BroadcastRecipient],
    now: datetime,
    *,
    used_today: int = 0,
    config: OutboxConfig = DEFAULT_CONFIG,
) -> BroadcastEstimate:
    """Count recipients; WhatsApp ones outside the 24 h window need a paid template.

    ``days_needed`` is how many rolling days the template sends take under the tier budget
    (today's already used slots counted first).
    """
    total = wa = outside = 0
    for r in recipients:
        total += 1
        if r.channel == "whatsapp":
            wa += 1
            if not in_whatsapp_window(r.last_inbound_at, now):
                outside += 1
    budget = tier_budget(config)
    if outside == 0:
        days = 0 if total == 0 else 1
    elif budget is None:
        days = 1
    elif budget <= 0:
        days = 0  # nothing can ever go: the caller must refuse
    else:
        today_room = max(budget - used_today, 0)
        rest = max(outside - today_room, 0)
        days = 1 + math.ceil(rest / budget)
    return BroadcastEstimate(
        recipients=total,
        whatsapp=wa,
        outside_window=outside,
        cost_rupiah=outside * config.wa_template_price,
        days_needed=days,
    )
