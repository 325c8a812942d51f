"""Reminder policy, pure: given plain records and ``now``, which outbox rows are due.

Each ``due_*`` function returns ``DueReminder`` items carrying a dedupe key, so a sweep can run
every hour (or twice by accident) and never queue a message twice. The sweep in
``channels/scheduler.py`` loads the records in chunks and writes the rows; nothing here does I/O.

Kinds and their decisions:

* ``missing_docs``: a claim still missing checklist documents, while it is ``submitted``,
  ``in_review`` or ``documents_requested``. The series counts from ``docs_requested_at`` when
  the admin asked for documents, else from the submission (``reported_at``): a report filed
  without its photos needs the nudge just as much. On days 3, 7 and 14
  (``rules.MISSING_DOCS_REMINDER_DAYS``) to the reporter's chat and the desa's facilitators. Only
  the latest step already due is sent (a sweep that missed day 3 because the bot was down sends
  day 7 on day 7, not both). It stops as soon as nothing is missing or the claim is final (or
  forwarded, approved: the OPD has what it needs). Dedupe ``missing-docs:{ref}:{due date}:{target}``,
  the due date standing for the step: a second request round on the same claim (documents
  requested again by BPJS TK) has new dates, so it gets its own reminders.
* ``jkk_deadline``: a JKK claim whose tahap I notice the OPD has not recorded as forwarded
  (``claims notice-sent``), 12 h before ``event_at + 48 h``, goes to the admin queue; when the
  deadline falls on a weekend or holiday, from 08:00 of the last working day before it (the
  2×24 h count runs on, the office does not). The alert on submission exists already; reports
  filed after the alert time are skipped, that alert covers them. Without an accident time the
  start of the accident day is used, the earliest possible deadline.
* ``protected_notice``: once, to verified workers with a phone whose coverage is active: to
  their linked chats, or (WhatsApp enabled, no chat yet) to ``wa_id`` = phone without ``+``,
  which is business-initiated and goes out as a template.
* ``scholarship``: in ``rules.SCHOLARSHIP_REMINDER_MONTH``, to the chats of approved/paid
  BEASISWA claims filed before that month: re-apply for the next school year. One message per
  chat per year, listing its claims.
* ``coverage``: paid-through month ending within ``rules.COVERAGE_ENDING_REMINDER_DAYS`` days, or
  in arrears (unpaid months not yet recorded): to the worker's chats, and one count per desa to
  the facilitators. The text says the Pemkab pays, there is nothing to pay, and to beware of
  anyone asking for money. Dedupe per month.
* ``digest``: facilitators' weekly summary, Monday from 08:00 WIB, dedupe per ISO week; skipped
  when there is nothing to report.

One phone, a whole household (issue 22): a worker's reminders go to every chat linked to them
(their own phone and the household phones), once per chat, and name the person they concern
(params ``name`` and ``sex``); missing-document reminders go to the chats linked to the claim's
worker as well as to the reporter. Each chat's opt-out is applied when the row is sent.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from lingkaran_core.claims import opd_works_on
from lingkaran_core.coverage import (
    CoverageResult,
    CoverageStatus,
    add_months,
    contribution_due,
    coverage_status,
)
from lingkaran_core.funding import FundingPeriod
from lingkaran_core.funding import outlook as funding_outlook
from lingkaran_core.outbox import DEFAULT_CONFIG, MessageClass, OutboxConfig, next_send_time
from lingkaran_core.rules import (
    COVERAGE_ENDING_REMINDER_DAYS,
    JKK_DEADLINE_ALERT_HOURS_BEFORE,
    JKK_REPORT_HOURS,
    MISSING_DOCS_REMINDER_DAYS,
    SCHOLARSHIP_REMINDER_MONTH,
    SCHOLARSHIP_SCHOOL_YEAR_START_MONTH,
)
from lingkaran_core.scope import Scope

__all__ = [
    "ADMIN_TARGET",
    "ChatTarget",
    "CoverageRow",
    "CoverageTally",
    "DigestCounts",
    "DueReminder",
    "FacilitatorRecord",
    "JKKClaimRecord",
    "Kind",
    "MissingDocsClaim",
    "ProtectedCandidate",
    "ScholarshipClaimRecord",
    "due_coverage",
    "due_coverage_facilitators",
    "due_digest",
    "due_jkk_deadline",
    "due_missing_docs",
    "due_protected_notice",
    "due_scholarship",
    "facilitators_for_desa",
    "person_params",
]

TZ: Final = ZoneInfo("Asia/Jakarta")
OPEN_FOR_DOCS: Final = frozenset({"submitted", "in_review", "documents_requested"})
SCHOLARSHIP_REMIND_STATUSES: Final = frozenset({"approved", "paid"})
DIGEST_WEEKDAY: Final = 0  # Monday
DIGEST_TIME: Final = time(8, 0)

# Priorities: 1 is the most urgent. Claim matters first, notices, then periodic reminders.
PRIORITY_ADMIN: Final = 1
PRIORITY_CLAIM: Final = 3
PRIORITY_NOTICE: Final = 4
PRIORITY_COVERAGE: Final = 5
PRIORITY_DIGEST: Final = 6
PRIORITY_SCHOLARSHIP: Final = 6


class Kind(enum.StrEnum):
    """The sweep kinds (keys of the counts a sweep reports)."""

    MISSING_DOCS = "missing_docs"
    JKK_DEADLINE = "jkk_deadline"
    PROTECTED_NOTICE = "protected_notice"
    SCHOLARSHIP = "scholarship"
    COVERAGE = "coverage"
    DIGEST = "digest"
    BROADCAST = "broadcast"  # queued by the admin (``bot.py admin broadcast``), never by sweeps


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatTarget:
    """Where a message goes: a chat, a WhatsApp number without a chat, or the admin queue."""

    chat_id: int | None
    channel: str
    user_ref: str
    language: str | None = None

    @property
    def key(self) -> str:
        """A stable name for dedupe keys."""
        return f"c{self.chat_id}" if self.chat_id is not None else f"{self.channel}:{self.user_ref}"


ADMIN_TARGET: Final = ChatTarget(chat_id=None, channel="admin", user_ref="opd")


@dataclass(frozen=True, slots=True, kw_only=True)
class DueReminder:
    """One outbox row to write (INSERT OR IGNORE on ``dedupe_key``)."""

    kind: Kind
    target: ChatTarget
    msg_key: str
    params: Mapping[str, Any]
    msg_class: MessageClass
    priority: int
    dedupe_key: str
    not_before: datetime
    worker_id: int | None = None  # protected notice: mark the worker once queued


@dataclass(frozen=True, slots=True, kw_only=True)
class FacilitatorRecord:
    """A bound, unrevoked facilitator and the chat that reaches them."""

    facilitator_id: int
    scope_kind: str  # desa | kecamatan
    scope_code: str
    chat: ChatTarget

    def covers(self, desa_code: str) -> bool:
        """Whether the facilitator's scope includes ``desa_code``."""
        return Scope.of(self.scope_kind, self.scope_code).covers(desa_code)


def facilitators_for_desa(
    facilitators: Sequence[FacilitatorRecord], desa_code: str | None
) -> list[FacilitatorRecord]:
    """The facilitators covering a desa (none when the desa is unknown)."""
    if not desa_code:
        return []
    return [f for f in facilitators if f.covers(desa_code)]


def _local_date(when: datetime) -> date:
    return when.astimezone(TZ).date()


def _require_aware(when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")


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


def person_params(name: str | None, sex: str | None) -> dict[str, Any]:
    """The params that name the person a message concerns (none when unknown)."""
    return {} if not name else {"name": name, "sex": sex or ""}


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
# (c) one-time "you are now protected"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectedCandidate:
    """A verified worker with a phone who has not had the notice yet."""

    worker_id: int
    phone: str  # E.164
    coverage_start: date | None
    paid_through: date | None
    chats: tuple[ChatTarget, ...] = ()
    name: str | None = None
    sex: str | None = None


def due_protected_notice(
    candidates: Iterable[ProtectedCandidate],
    now: datetime,
    *,
    whatsapp_enabled: bool,
    config: OutboxConfig = DEFAULT_CONFIG,
    status_cache: dict[tuple[date | None, date | None], CoverageResult] | None = None,
) -> list[DueReminder]:
    """The notice for every candidate who is protected today and can be reached."""
    _require_aware(now)
    today = _local_date(now)
    cache = {} if status_cache is None else status_cache
    send_at = next_send_time(MessageClass.REMINDER, now, config)
    out: list[DueReminder] = []
    for c in candidates:
        cov = _status(cache, c.coverage_start, c.paid_through, today)
        if cov.status is not CoverageStatus.PROTECTED or cov.protected_until is None:
            continue
        targets = list(c.chats)
        if not targets and whatsapp_enabled and c.phone:
            # No chat yet: WhatsApp by number; business-initiated, so the sender uses a template.
            targets = [ChatTarget(chat_id=None, channel="whatsapp", user_ref=c.phone.lstrip("+"))]
        for t in targets:
            out.append(
                DueReminder(
                    kind=Kind.PROTECTED_NOTICE,
                    target=t,
                    msg_key="notice.protected",
                    params={
                        "until": cov.protected_until.isoformat(),
                        **person_params(c.name, c.sex),
                    },
                    msg_class=MessageClass.REMINDER,
                    priority=PRIORITY_NOTICE,
                    dedupe_key=f"protected:{c.worker_id}:{t.key}",
                    not_before=send_at,
                    worker_id=c.worker_id,
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


# ---------------------------------------------------------------------------------------------
# (e) coverage ending / arrears


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageRow:
    """A worker's coverage dates (and their linked chats, if any)."""

    worker_id: int
    desa_code: str
    coverage_start: date | None
    paid_through: date | None
    chats: tuple[ChatTarget, ...] = ()
    sector: str | None = None
    funding_period_id: int | None = None
    name: str | None = None
    sex: str | None = None


def _status(
    cache: dict[tuple[date | None, date | None], CoverageResult],
    start: date | None,
    paid_through: date | None,
    today: date,
) -> CoverageResult:
    # The roster repeats a handful of (start, paid-through) pairs: memoise per sweep.
    key = (start, paid_through)
    found = cache.get(key)
    if found is None:
        found = coverage_status(start=start, paid_through=paid_through, today=today)
        cache[key] = found
    return found


def _coverage_kind(cov: CoverageResult, today: date, ending_days: int) -> str | None:
    if cov.status is CoverageStatus.ARREARS:
        return "arrears"
    if (
        cov.status is CoverageStatus.PROTECTED
        and cov.protected_until is not None
        and 0 <= (cov.protected_until - today).days < ending_days
    ):
        # Only in the paid month's last days: after it, until the next contribution is due,
        # nothing is unpaid and the worker has already been told (DOMAIN.md §9).
        return "ending"
    return None


@dataclass(slots=True)
class CoverageTally:
    """Counts per desa of workers whose coverage is ending or in arrears (for facilitators)."""

    today: date
    ending_days: int = max(COVERAGE_ENDING_REMINDER_DAYS)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    cache: dict[tuple[date | None, date | None], CoverageResult] = field(default_factory=dict)

    def add(
        self, desa_code: str, start: date | None, paid_through: date | None, count: int = 1
    ) -> str | None:
        """Count ``count`` workers with these dates; return ``"ending"``, ``"arrears"`` or None."""
        kind = self.kind(start, paid_through)
        if kind is not None:
            self.counts[(desa_code, kind)] += count
        return kind

    def kind(self, start: date | None, paid_through: date | None) -> str | None:
        """``"ending"``, ``"arrears"`` or None for these dates today (memoised)."""
        cov = _status(self.cache, start, paid_through, self.today)
        return _coverage_kind(cov, self.today, self.ending_days)


def due_coverage(
    rows: Iterable[CoverageRow],
    now: datetime,
    *,
    tally: CoverageTally | None = None,
    count: bool = True,
    config: OutboxConfig = DEFAULT_CONFIG,
    funding: Sequence[FundingPeriod] = (),
) -> list[DueReminder]:
    """Reminders to workers' chats; rows are also counted in ``tally`` unless ``count`` is off
    (when the caller tallies the whole roster by groups and passes only linked workers here).

    A coverage-ending reminder carries what the data says about the funding (``funding``
    periods): next month funded until a day, funding ending, or nothing known; the text never
    promises payment beyond a known period (DOMAIN.md §9)."""
    _require_aware(now)
    today = _local_date(now)
    t = tally if tally is not None else CoverageTally(today=today)
    month = today.strftime("%Y-%m")
    send_at = next_send_time(MessageClass.REMINDER, now, config)
    out: list[DueReminder] = []
    for row in rows:
        if count:
            kind = t.add(row.desa_code, row.coverage_start, row.paid_through)
        else:
            kind = t.kind(row.coverage_start, row.paid_through)
        if kind is None or not row.chats:
            continue
        cov = t.cache[(row.coverage_start, row.paid_through)]
        if kind == "arrears":
            # The first month not yet recorded (the one "belum tercatat").
            first_unpaid = _first_unpaid_month(row.coverage_start, row.paid_through)
            params: dict[str, Any] = {"month": first_unpaid.isoformat()}
            msg_key = "reminder.arrears"
        else:
            assert cov.protected_until is not None
            fund = funding_outlook(
                funding,
                sector=row.sector,
                own_period_id=row.funding_period_id,
                today=today,
            )
            params = {"until": cov.protected_until.isoformat(), "funding": fund.outlook.value}
            if fund.funded_until is not None and fund.period is not None:
                params["funded_until"] = fund.funded_until.isoformat()
                params["funder"] = fund.period.funder
                params["reference"] = fund.period.reference
            next_month = add_months(cov.protected_until.replace(day=1), 1)
            params["payment_due"] = contribution_due(next_month).isoformat()
            msg_key = "reminder.coverage_ending"
        params.update(person_params(row.name, row.sex))
        for target in row.chats:
            out.append(
                DueReminder(
                    kind=Kind.COVERAGE,
                    target=target,
                    msg_key=msg_key,
                    params=params,
                    msg_class=MessageClass.REMINDER,
                    priority=PRIORITY_COVERAGE,
                    dedupe_key=f"coverage-{kind}:{row.worker_id}:{month}:{target.key}",
                    not_before=send_at,
                )
            )
    return out


def _first_unpaid_month(start: date | None, paid_through: date | None) -> date:
    if paid_through is not None and (start is None or paid_through >= start.replace(day=1)):
        p = paid_through.replace(day=1)
        return date(p.year + p.month // 12, p.month % 12 + 1, 1)
    assert start is not None
    return start.replace(day=1)


def due_coverage_facilitators(
    tally: CoverageTally,
    facilitators: Sequence[FacilitatorRecord],
    now: datetime,
    *,
    config: OutboxConfig = DEFAULT_CONFIG,
) -> list[DueReminder]:
    """One message per facilitator and kind per month: how many in their scope are affected."""
    _require_aware(now)
    month = _local_date(now).strftime("%Y-%m")
    send_at = next_send_time(MessageClass.REMINDER, now, config)
    out: list[DueReminder] = []
    for f in facilitators:
        per_kind: Counter[str] = Counter()
        for (desa, kind), n in tally.counts.items():
            if f.covers(desa):
                per_kind[kind] += n
        for kind, n in sorted(per_kind.items()):
            out.append(
                DueReminder(
                    kind=Kind.COVERAGE,
                    target=f.chat,
                    msg_key="reminder.arrears" if kind == "arrears" else "reminder.coverage_ending",
                    params={"for": "facilitator", "count": n},
                    msg_class=MessageClass.REMINDER,
                    priority=PRIORITY_COVERAGE,
                    dedupe_key=f"coverage-{kind}:f{f.facilitator_id}:{month}:{f.chat.key}",
                    not_before=send_at,
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# (f) facilitator weekly digest


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestCounts:
    """What waits in one desa."""

    new_leads: int = 0
    registrations_waiting: int = 0
    open_claims: int = 0
    missing_documents: int = 0

    def __add__(self, other: DigestCounts) -> DigestCounts:
        return DigestCounts(
            new_leads=self.new_leads + other.new_leads,
            registrations_waiting=self.registrations_waiting + other.registrations_waiting,
            open_claims=self.open_claims + other.open_claims,
            missing_documents=self.missing_documents + other.missing_documents,
        )

    def empty(self) -> bool:
        """Nothing to report."""
        return not (
            self.new_leads
            or self.registrations_waiting
            or self.open_claims
            or self.missing_documents
        )


def digest_due_now(now: datetime) -> bool:
    """Monday from 08:00 WIB (the hourly sweep catches up a missed cron run the same day)."""
    local = now.astimezone(TZ)
    return local.weekday() == DIGEST_WEEKDAY and local.time() >= DIGEST_TIME


def due_digest(
    facilitators: Sequence[FacilitatorRecord],
    per_desa: Mapping[str, DigestCounts],
    now: datetime,
    *,
    force: bool = False,
) -> list[DueReminder]:
    """The weekly digest for each facilitator with something in scope; dedupe per ISO week."""
    _require_aware(now)
    if not force and not digest_due_now(now):
        return []
    iso = now.astimezone(TZ).isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    out: list[DueReminder] = []
    for f in facilitators:
        total = DigestCounts()
        for desa, counts in per_desa.items():
            if f.covers(desa):
                total = total + counts
        if total.empty():
            continue
        out.append(
            DueReminder(
                kind=Kind.DIGEST,
                target=f.chat,
                msg_key="digest.facilitator",
                params={
                    "new_leads": total.new_leads,
                    "registrations_waiting": total.registrations_waiting,
                    "open_claims": total.open_claims,
                    "missing_documents": total.missing_documents,
                    "week": week,
                },
                msg_class=MessageClass.REMINDER,
                priority=PRIORITY_DIGEST,
                dedupe_key=f"digest:{f.facilitator_id}:{week}",
                not_before=now,
            )
        )
    return out
