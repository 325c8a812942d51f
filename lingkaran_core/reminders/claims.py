"""Reminders about claims: documents still missing, the JKK tahap I deadline, the yearly
scholarship re-application (see the package docstring for the decisions)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from lingkaran_core.claims import opd_works_on
from lingkaran_core.outbox import DEFAULT_CONFIG, MessageClass, OutboxConfig, next_send_time
from lingkaran_core.reminders.base import (
    ADMIN_TARGET,
    PRIORITY_ADMIN,
    PRIORITY_CLAIM,
    PRIORITY_SCHOLARSHIP,
    TZ,
    ChatTarget,
    DueReminder,
    FacilitatorRecord,
    Kind,
    _local_date,
    _require_aware,
    facilitators_for_desa,
    person_params,
)
from lingkaran_core.rules import (
    JKK_DEADLINE_ALERT_HOURS_BEFORE,
    JKK_REPORT_HOURS,
    MISSING_DOCS_REMINDER_DAYS,
    SCHOLARSHIP_REMINDER_MONTH,
    SCHOLARSHIP_SCHOOL_YEAR_START_MONTH,
)

OPEN_FOR_DOCS: Final = frozenset({"submitted", "in_review", "documents_requested"})
SCHOLARSHIP_REMIND_STATUSES: Final = frozenset({"approved", "paid"})


# ---------------------------------------------------------------------------------------------
# (a) documents still missing


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingDocsClaim:
    """A claim whose checklist is not complete."""

    ref: str
    status: str
    reporter: ChatTarget | None
    desa_code: str | None
    missing: tuple[str, ...]
    reported_at: datetime
    docs_requested_at: datetime | None
    linked: tuple[ChatTarget, ...] = ()  # the chats linked to the claim's worker
    name: str | None = None  # the claim's worker (roster), named in the message
    sex: str | None = None


def _missing_docs_anchor(claim: MissingDocsClaim) -> datetime:
    if claim.docs_requested_at is not None:
        return claim.docs_requested_at
    return claim.reported_at


def due_missing_docs(
    claims: Iterable[MissingDocsClaim],
    facilitators: Sequence[FacilitatorRecord],
    now: datetime,
    *,
    days: Sequence[int] = MISSING_DOCS_REMINDER_DAYS,
    config: OutboxConfig = DEFAULT_CONFIG,
) -> list[DueReminder]:
    """Reminders for claims still missing documents on day 3, 7 or 14 of the series."""
    _require_aware(now)
    out: list[DueReminder] = []
    send_at = next_send_time(MessageClass.REMINDER, now, config)
    for claim in claims:
        if claim.status not in OPEN_FOR_DOCS or not claim.missing:
            continue
        anchor = _missing_docs_anchor(claim)
        due_steps = [d for d in days if anchor + timedelta(days=d) <= now]
        if not due_steps:
            continue
        step = max(due_steps)
        due_date = _local_date(anchor + timedelta(days=step))
        targets: list[tuple[ChatTarget, str]] = []
        if claim.reporter is not None:
            targets.append((claim.reporter, "reporter"))
        for chat in claim.linked:
            targets.append((chat, "reporter"))
        for f in facilitators_for_desa(facilitators, claim.desa_code):
            targets.append((f.chat, "facilitator"))
        seen: set[str] = set()
        for target, role in targets:
            if target.key in seen:
                continue  # once per chat (a facilitator's own household, a reporter also linked)
            seen.add(target.key)
            out.append(
                DueReminder(
                    kind=Kind.MISSING_DOCS,
                    target=target,
                    msg_key="reminder.missing_docs",
                    params={
                        "ref": claim.ref,
                        "missing": list(claim.missing),
                        "for": role,
                        **person_params(claim.name, claim.sex),
                    },
                    msg_class=MessageClass.REMINDER,
                    priority=PRIORITY_CLAIM,
                    dedupe_key=f"missing-docs:{claim.ref}:{due_date.isoformat()}:{target.key}",
                    not_before=send_at,
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# (b) JKK report deadline


@dataclass(frozen=True, slots=True, kw_only=True)
class JKKClaimRecord:
    """A JKK claim with its accident time."""

    ref: str
    status: str
    event_date: date
    event_at: datetime | None
    reported_at: datetime
    notice_sent: bool = False  # the OPD recorded that it forwarded the tahap I notice


def jkk_deadline(claim: JKKClaimRecord) -> datetime:
    """Accident time (or the start of the accident day, WIB) + 48 h."""
    start = claim.event_at or datetime.combine(claim.event_date, time(0, 0), tzinfo=TZ)
    return start + timedelta(hours=JKK_REPORT_HOURS)


def jkk_alert_time(deadline: datetime) -> tuple[datetime, bool]:
    """When to alert the OPD, and whether the deadline falls on a day it does not work.

    The 2×24 h run through weekends and holidays; the office does not (rules.OPD_WORKDAYS_RULE).
    A deadline on a day off is alerted from 08:00 of the last working day before it.
    """
    alert_at = deadline - timedelta(hours=JKK_DEADLINE_ALERT_HOURS_BEFORE)
    day = deadline.astimezone(TZ).date()
    if opd_works_on(day):
        return alert_at, False
    day -= timedelta(days=1)
    while not opd_works_on(day):
        day -= timedelta(days=1)
    return min(alert_at, datetime.combine(day, time(8, 0), tzinfo=TZ)), True


_JKK_CLOSED: Final = frozenset({"paid", "rejected", "withdrawn"})


def due_jkk_deadline(claims: Iterable[JKKClaimRecord], now: datetime) -> list[DueReminder]:
    """Admin alerts for JKK reports whose tahap I notice is not yet recorded as forwarded,
    12 h before the 2×24 h deadline (earlier when it falls on a day the OPD does not work)."""
    _require_aware(now)
    out: list[DueReminder] = []
    for claim in claims:
        if claim.notice_sent or claim.status in _JKK_CLOSED:
            continue
        deadline = jkk_deadline(claim)
        alert_at, day_off = jkk_alert_time(deadline)
        if not alert_at <= now < deadline or claim.reported_at >= alert_at:
            continue
        out.append(
            DueReminder(
                kind=Kind.JKK_DEADLINE,
                target=ADMIN_TARGET,
                msg_key="admin.jkk_deadline",
                params={"ref": claim.ref, "deadline": deadline.isoformat(), "day_off": day_off},
                msg_class=MessageClass.TRANSACTIONAL,
                priority=PRIORITY_ADMIN,
                dedupe_key=f"jkk-deadline:{claim.ref}",
                not_before=now,  # the admin queue is read, not pushed: no quiet hours
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# (d) scholarship re-application


@dataclass(frozen=True, slots=True, kw_only=True)
class ScholarshipClaimRecord:
    """An approved or paid BEASISWA claim and the chat that filed it."""

    ref: str
    status: str
    reporter: ChatTarget | None
    reported_at: datetime


def due_scholarship(
    claims: Iterable[ScholarshipClaimRecord],
    now: datetime,
    *,
    month: int = SCHOLARSHIP_REMINDER_MONTH,
    config: OutboxConfig = DEFAULT_CONFIG,
) -> list[DueReminder]:
    """In the reminder month: one message per chat per year to re-apply for the school year."""
    _require_aware(now)
    local = now.astimezone(TZ)
    if local.month != month:
        return []
    month_start = datetime(local.year, month, 1, tzinfo=TZ)
    school_year = local.year if month < SCHOLARSHIP_SCHOOL_YEAR_START_MONTH else local.year + 1
    by_target: dict[ChatTarget, list[str]] = {}
    for c in claims:
        # A claim filed this month is this round's application already.
        if c.status not in SCHOLARSHIP_REMIND_STATUSES or c.reporter is None:
            continue
        if c.reported_at >= month_start:
            continue
        by_target.setdefault(c.reporter, []).append(c.ref)
    send_at = next_send_time(MessageClass.REMINDER, now, config)
    return [
        DueReminder(
            kind=Kind.SCHOLARSHIP,
            target=t,
            msg_key="reminder.scholarship",
            params={"refs": sorted(refs), "school_year": school_year},
            msg_class=MessageClass.REMINDER,
            priority=PRIORITY_SCHOLARSHIP,
            dedupe_key=f"scholarship:{local.year}:{t.key}",
            not_before=send_at,
        )
        for t, refs in by_target.items()
    ]
