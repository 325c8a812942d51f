"""Coverage status from the membership start and the paid-through month (DOMAIN.md §1.2)."""

from __future__ import annotations

import calendar
import enum
import functools
from dataclasses import dataclass
from datetime import date, timedelta

import holidays

from lingkaran_core.rules import (
    CONTRIBUTION_DUE_DAY,
    COVERED_DURING_ARREARS,
    LAPSE_UNPAID_MONTHS,
)

__all__ = [
    "CoverageResult",
    "CoverageStatus",
    "EventCoverage",
    "add_months",
    "contribution_due",
    "contribution_months",
    "coverage_on_event",
    "coverage_status",
    "is_national_holiday",
    "is_protected_on",
    "month_end",
]


class CoverageStatus(enum.StrEnum):
    """Where a worker stands with BPJS TK protection on a given day."""

    NOT_ENROLLED = "not_enrolled"
    NOT_STARTED = "not_started"
    PROTECTED = "protected"
    ARREARS = "arrears"
    NON_ACTIVE = "non_active"


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageResult:
    """Coverage on one day: status, last protected day, unpaid months, reactivation deadline."""

    status: CoverageStatus
    protected_until: date | None
    unpaid_months: int
    reactivate_by: date | None
    # Protected because this month's contribution is not due yet: the day it is due.
    payment_due: date | None = None


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(first_of_month: date, months: int) -> date:
    """The first day of the month ``months`` after ``first_of_month``'s month."""
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@functools.cache
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("ID", years=[year]).keys())


def _working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def is_national_holiday(day: date) -> bool:
    """Whether ``day`` is an Indonesian national holiday (the ``holidays`` package)."""
    return day in _holidays(day.year)


def contribution_due(month: date) -> date:
    """The day a BPU contribution for ``month`` is due: the 15th, or the next working day when
    the 15th is a Saturday, Sunday or Indonesian national holiday (DOMAIN.md §9, Kompas via
    Kontan [OFF]; holidays from the ``holidays`` package)."""
    due = month.replace(day=CONTRIBUTION_DUE_DAY)
    while not _working_day(due):
        due += timedelta(days=1)
    return due


def _months_past_due(last_paid: date, today: date) -> int:
    """Months after ``last_paid`` whose contribution due day has passed by ``today``."""
    n = 0
    month = add_months(last_paid, 1)
    while month <= today and contribution_due(month) < today:
        n += 1
        month = add_months(month, 1)
    return n


def _months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _paid_month(*, start: date, paid_through: date | None) -> date | None:
    """First day of the effective paid-through month; None when nothing was ever paid."""
    start_month = start.replace(day=1)
    if paid_through is None or paid_through.replace(day=1) < start_month:
        return None
    return paid_through.replace(day=1)


def coverage_status(
    *, start: date | None, paid_through: date | None, today: date
) -> CoverageResult:
    """Classify coverage on ``today``.

    ``paid_through`` is any day in the last paid month. Protection runs to the end of that month,
    and on until the next month's contribution is due (the 15th or the next working day:
    nothing is unpaid before its due day, DOMAIN.md §9); then up to ``LAPSE_UNPAID_MONTHS``
    months past due are arrears (cover neither promised nor denied: staff check; reactivable by
    paying before the end of the last of them); after that the membership is non-active
    (DOMAIN.md §1.2, details UNCONFIRMED). With no payment (or a paid month before the start), the arrears are
    counted from the month before the start month, so the start month itself is the first
    unpaid month.
    """
    if start is None:
        return CoverageResult(
            status=CoverageStatus.NOT_ENROLLED,
            protected_until=None,
            unpaid_months=0,
            reactivate_by=None,
        )
    if start > today:
        return CoverageResult(
            status=CoverageStatus.NOT_STARTED,
            protected_until=None,
            unpaid_months=0,
            reactivate_by=None,
        )
    paid_month = _paid_month(start=start, paid_through=paid_through)
    last_paid = paid_month if paid_month is not None else add_months(start.replace(day=1), -1)
    protected_until = month_end(paid_month) if paid_month is not None else None
    if protected_until is not None and today <= protected_until:
        return CoverageResult(
            status=CoverageStatus.PROTECTED,
            protected_until=protected_until,
            unpaid_months=0,
            reactivate_by=None,
        )
    next_month = add_months(last_paid, 1)
    if paid_month is not None and today <= contribution_due(next_month):
        # Nothing is unpaid before its due day: this month's contribution may still come.
        return CoverageResult(
            status=CoverageStatus.PROTECTED,
            protected_until=protected_until,
            unpaid_months=0,
            reactivate_by=None,
            payment_due=contribution_due(next_month),
        )
    # The lapse counts calendar months since protection ended (PROBIS: "maksimal 3 bulan iuran
    # sejak tanggal berakhir perlindungan"); the months *unpaid* are those past their due day.
    unpaid = _months_between(last_paid, today)
    if unpaid <= LAPSE_UNPAID_MONTHS:
        return CoverageResult(
            status=CoverageStatus.ARREARS,
            protected_until=protected_until,
            unpaid_months=max(_months_past_due(last_paid, today), 1),
            reactivate_by=month_end(add_months(last_paid, LAPSE_UNPAID_MONTHS)),
        )
    return CoverageResult(
        status=CoverageStatus.NON_ACTIVE,
        protected_until=protected_until,
        unpaid_months=unpaid,
        reactivate_by=None,
    )


def is_protected_on(day: date, *, start: date | None, paid_through: date | None) -> bool:
    """Whether ``day`` falls inside the paid protection period (arrears are not protected)."""
    status = coverage_status(start=start, paid_through=paid_through, today=day).status
    if status is CoverageStatus.ARREARS:
        # DOMAIN.md §1.2: do not promise coverage for unpaid months.
        return COVERED_DURING_ARREARS
    return status is CoverageStatus.PROTECTED


# -- Coverage on the day of an accident or death (issue 14, item 2) ----------------------------


class EventCoverage(enum.StrEnum):
    """What the roster says about protection on the day of an event (accident, death)."""

    PROTECTED = "protected"
    NOT_STARTED = "not_started"  # verified, but protection began after the event
    AWAITING_VERIFICATION = "awaiting_verification"  # registered, not yet verified
    UNPAID = "unpaid"  # contribution for the event's month not recorded by its due day
    NON_ACTIVE = "non_active"
    NOT_ON_ROSTER = "not_on_roster"
    UNKNOWN = "unknown"  # no NIK given: staff match the report by hand


def coverage_on_event(
    *,
    nik_given: bool,
    on_roster: bool,
    registration_status: str | None,
    start: date | None,
    paid_through: date | None,
    event_date: date,
    today: date,
) -> EventCoverage:
    """Classify the roster's protection on ``event_date``, as the data stands on ``today``.

    A day inside the grace before a due day counts as protected only while that due day has not
    passed: once it passed with the month still unrecorded, the event falls in an unpaid month,
    whose cover the sources neither promise nor deny (rules.COVERED_DURING_ARREARS_RULE).
    """
    if not nik_given:
        return EventCoverage.UNKNOWN
    if not on_roster or registration_status == "rejected":
        return EventCoverage.NOT_ON_ROSTER
    if registration_status != "verified":
        return EventCoverage.AWAITING_VERIFICATION
    result = coverage_status(start=start, paid_through=paid_through, today=event_date)
    match result.status:
        case CoverageStatus.PROTECTED:
            if result.payment_due is not None and result.payment_due < today:
                return EventCoverage.UNPAID
            return EventCoverage.PROTECTED
        case CoverageStatus.NOT_STARTED | CoverageStatus.NOT_ENROLLED:
            return EventCoverage.NOT_STARTED
        case CoverageStatus.ARREARS:
            return EventCoverage.UNPAID
        case CoverageStatus.NON_ACTIVE:
            return EventCoverage.NON_ACTIVE
    return EventCoverage.UNKNOWN  # pragma: no cover


def contribution_months(
    *, start: date | None, paid_through: date | None, until: date
) -> int | None:
    """Months of contributions the roster records from ``start`` to ``until`` (masa iur), or
    None when the roster has no start. Earlier memberships are not in our data (DOMAIN.md §9)."""
    if start is None:
        return None
    if paid_through is None or paid_through.replace(day=1) < start.replace(day=1):
        return 0
    last = min(paid_through.replace(day=1), until.replace(day=1))
    return max(_months_between(start.replace(day=1), last) + 1, 0)
