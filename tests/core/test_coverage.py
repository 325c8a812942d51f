"""Coverage status on every boundary day (DOMAIN.md §1.2; lapse details UNCONFIRMED)."""

from datetime import date

import pytest

from lingkaran_core.coverage import (
    CoverageResult,
    CoverageStatus,
    add_months,
    contribution_due,
    coverage_status,
    is_protected_on,
    month_end,
)

TODAY = date(2026, 11, 25)
START = date(2025, 12, 22)  # the Lingkaran Cinta launch (DOMAIN.md §0)

P = CoverageStatus.PROTECTED
A = CoverageStatus.ARREARS
N = CoverageStatus.NON_ACTIVE


@pytest.mark.parametrize(
    ("paid_through", "today", "status", "protected_until", "unpaid", "reactivate_by"),
    [
        # Paid through October 2026 (any day of the month means the whole month).
        (date(2026, 10, 1), date(2026, 10, 31), P, date(2026, 10, 31), 0, None),
        # November's contribution is due Monday 16 November (the 15th is a Sunday): nothing
        # is unpaid before then (DOMAIN.md §9).
        (date(2026, 10, 15), date(2026, 11, 1), P, date(2026, 10, 31), 0, None),
        (date(2026, 10, 15), date(2026, 11, 16), P, date(2026, 10, 31), 0, None),
        (date(2026, 10, 15), date(2026, 11, 17), A, date(2026, 10, 31), 1, date(2027, 1, 31)),
        (date(2026, 10, 31), TODAY, A, date(2026, 10, 31), 1, date(2027, 1, 31)),
        (date(2026, 10, 1), date(2026, 12, 31), A, date(2026, 10, 31), 2, date(2027, 1, 31)),
        # 1 January: November and December are past due, January is not due yet.
        (date(2026, 10, 1), date(2027, 1, 1), A, date(2026, 10, 31), 2, date(2027, 1, 31)),
        (date(2026, 10, 1), date(2027, 1, 31), A, date(2026, 10, 31), 3, date(2027, 1, 31)),
        (date(2026, 10, 1), date(2027, 2, 1), N, date(2026, 10, 31), 4, None),
        (date(2026, 10, 1), date(2028, 2, 1), N, date(2026, 10, 31), 16, None),
        # December → January.
        (date(2026, 12, 1), date(2026, 12, 31), P, date(2026, 12, 31), 0, None),
        (date(2026, 12, 1), date(2027, 1, 1), P, date(2026, 12, 31), 0, None),
        (date(2026, 12, 1), date(2027, 1, 16), A, date(2026, 12, 31), 1, date(2027, 3, 31)),
        (date(2026, 12, 1), date(2027, 3, 31), A, date(2026, 12, 31), 3, date(2027, 3, 31)),
        (date(2026, 12, 1), date(2027, 4, 1), N, date(2026, 12, 31), 4, None),
        # Leap year: February 2028 has 29 days.
        (date(2028, 2, 10), date(2028, 2, 29), P, date(2028, 2, 29), 0, None),
        (date(2028, 2, 10), date(2028, 3, 1), P, date(2028, 2, 29), 0, None),
        (date(2028, 2, 10), date(2028, 3, 16), A, date(2028, 2, 29), 1, date(2028, 5, 31)),
        (date(2027, 11, 1), date(2028, 2, 29), A, date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2027, 11, 1), date(2028, 3, 1), N, date(2027, 11, 30), 4, None),
        # Non-leap February.
        (date(2026, 11, 1), date(2027, 2, 28), A, date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 11, 1), date(2027, 3, 1), N, date(2026, 11, 30), 4, None),
        # Paid ahead (DOMAIN.md §1.2: 1, 3, 6 or 12 months in advance).
        (date(2027, 11, 1), TODAY, P, date(2027, 11, 30), 0, None),
    ],
)
def test_coverage_status_on_boundary_days(
    paid_through: date,
    today: date,
    status: CoverageStatus,
    protected_until: date,
    unpaid: int,
    reactivate_by: date | None,
) -> None:
    result = coverage_status(start=START, paid_through=paid_through, today=today)
    due = contribution_due(add_months(protected_until.replace(day=1), 1))
    assert result == CoverageResult(
        status=status,
        protected_until=protected_until,
        unpaid_months=unpaid,
        reactivate_by=reactivate_by,
        payment_due=due if status is P and today > protected_until else None,
    )


@pytest.mark.parametrize(
    ("month", "due"),
    [
        (date(2026, 12, 1), date(2026, 12, 15)),  # a Tuesday
        (date(2026, 11, 1), date(2026, 11, 16)),  # the 15th is a Sunday
        (date(2026, 8, 1), date(2026, 8, 18)),  # Saturday 15th, Monday 17th Independence Day
        (date(2027, 5, 1), date(2027, 5, 18)),  # Saturday 15th, Monday 17th Idul Adha (est.)
    ],
)
def test_a_contribution_is_due_on_the_15th_or_the_next_working_day(month: date, due: date) -> None:
    assert contribution_due(month) == due


def test_a_person_without_a_start_date_is_not_enrolled() -> None:
    result = coverage_status(start=None, paid_through=date(2026, 11, 1), today=TODAY)
    assert result.status is CoverageStatus.NOT_ENROLLED
    assert result.protected_until is None


@pytest.mark.parametrize("start", [date(2026, 11, 26), date(2027, 1, 1)])
def test_coverage_that_starts_after_today_has_not_started(start: date) -> None:
    result = coverage_status(start=start, paid_through=date(2027, 6, 1), today=TODAY)
    assert result.status is CoverageStatus.NOT_STARTED
    assert result.unpaid_months == 0


def test_protection_begins_on_the_start_day_itself() -> None:
    result = coverage_status(start=TODAY, paid_through=TODAY, today=TODAY)
    assert result.status is CoverageStatus.PROTECTED
    assert result.protected_until == date(2026, 11, 30)


@pytest.mark.parametrize("paid_through", [None, date(2026, 10, 31)])
def test_without_a_payment_since_the_start_the_start_month_is_the_first_unpaid_month(
    paid_through: date | None,
) -> None:
    start = date(2026, 11, 10)
    result = coverage_status(start=start, paid_through=paid_through, today=TODAY)
    assert result == CoverageResult(
        status=CoverageStatus.ARREARS,
        protected_until=None,
        unpaid_months=1,
        reactivate_by=date(2027, 1, 31),
    )
    later = coverage_status(start=start, paid_through=paid_through, today=date(2027, 2, 1))
    assert later.status is CoverageStatus.NON_ACTIVE


@pytest.mark.parametrize(
    ("day", "protected"),
    [
        (date(2025, 12, 21), False),  # before the start
        (date(2025, 12, 22), True),
        (date(2026, 10, 31), True),
        (date(2026, 11, 1), True),  # November's contribution is not due yet (DOMAIN.md §9)
        (date(2026, 11, 16), True),  # its due day (the 15th is a Sunday)
        (date(2026, 11, 17), False),  # arrears are not promised cover (DOMAIN.md §1.2)
        (date(2027, 2, 1), False),
    ],
)
def test_is_protected_on_only_covers_paid_days_after_the_start(day: date, protected: bool) -> None:
    assert is_protected_on(day, start=START, paid_through=date(2026, 10, 1)) is protected


def test_is_protected_on_is_false_without_membership() -> None:
    assert not is_protected_on(TODAY, start=None, paid_through=None)


@pytest.mark.parametrize(
    ("first", "months", "expected"),
    [
        (date(2026, 11, 1), 1, date(2026, 12, 1)),
        (date(2026, 12, 1), 1, date(2027, 1, 1)),
        (date(2026, 1, 1), -1, date(2025, 12, 1)),
        (date(2026, 11, 1), 15, date(2028, 2, 1)),
    ],
)
def test_add_months_crosses_years(first: date, months: int, expected: date) -> None:
    assert add_months(first, months) == expected


def test_month_end_knows_leap_years() -> None:
    assert month_end(date(2028, 2, 3)) == date(2028, 2, 29)
    assert month_end(date(2100, 2, 3)) == date(2100, 2, 28)
