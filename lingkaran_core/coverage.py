"""Coverage status from the membership start and the paid-through month (DOMAIN.md §1.2)."""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date

from lingkaran_core.rules import COVERED_DURING_ARREARS, LAPSE_UNPAID_MONTHS

__all__ = [
    "CoverageResult",
    "CoverageStatus",
    "add_months",
    "coverage_status",
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


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(first_of_month: date, months: int) -> date:
    """The first day of the month ``months`` after ``first_of_month``'s month."""
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


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

    ``paid_through`` is any day in the last paid month. Protection runs to the end of that month;
    the next ``LAPSE_UNPAID_MONTHS`` months are arrears (not protected, reactivable by paying
    before the end of the last of them); after that the membership is non-active (DOMAIN.md §1.2,
    details UNCONFIRMED). With no payment (or a paid month before the start), the arrears are
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
    unpaid = _months_between(last_paid, today)
    if unpaid <= LAPSE_UNPAID_MONTHS:
        return CoverageResult(
            status=CoverageStatus.ARREARS,
            protected_until=protected_until,
            unpaid_months=unpaid,
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
