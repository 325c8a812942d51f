"""Reminders about a worker's coverage: the one-time "you are now protected" notice, and
coverage ending or in arrears (to the worker's chats, counts to the facilitators)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lingkaran_core.coverage import (
    CoverageResult,
    CoverageStatus,
    add_months,
    contribution_due,
)
from lingkaran_core.funding import FundingPeriod
from lingkaran_core.funding import outlook as funding_outlook
from lingkaran_core.outbox import DEFAULT_CONFIG, MessageClass, OutboxConfig, next_send_time
from lingkaran_core.reminders.base import (
    PRIORITY_COVERAGE,
    PRIORITY_NOTICE,
    ChatTarget,
    DueReminder,
    FacilitatorRecord,
    Kind,
    _local_date,
    _require_aware,
    _status,
    person_params,
)
from lingkaran_core.rules import (
    COVERAGE_ENDING_REMINDER_DAYS,
)

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
