"""Dates typed in chat and in CSV imports."""

import time
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingkaran_core.dates import parse_date_id, parse_date_strict
from lingkaran_core.errors import InvalidDate

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17-08-1980", date(1980, 8, 17)),
        ("17/8/80", date(1980, 8, 17)),
        ("17.08.1980", date(1980, 8, 17)),
        ("17 08 1980", date(1980, 8, 17)),
        ("17081980", date(1980, 8, 17)),
        ("1980-08-17", date(1980, 8, 17)),
        ("17 Agustus 1980", date(1980, 8, 17)),
        ("17 agt 1980", date(1980, 8, 17)),
        ("17 agst 1980", date(1980, 8, 17)),
        ("17 agts 1980", date(1980, 8, 17)),  # one-letter typo
        ("17-agu-1980", date(1980, 8, 17)),
        ("15 mei 78", date(1978, 5, 15)),
        ("15 Mei 2025", date(2025, 5, 15)),
        ("1 nop 2025", date(2025, 11, 1)),
        ("1 pebruari 1990", date(1990, 2, 1)),
        ("tgl 17 agustus 1980", date(1980, 8, 17)),
        ("Tanggal 17-8-1980", date(1980, 8, 17)),
        ("17 Agustus, 1980", date(1980, 8, 17)),
        ("  17  AGUSTUS  1980. ", date(1980, 8, 17)),
        # English month names
        ("August 17, 1980", date(1980, 8, 17)),
        ("17 August 1980", date(1980, 8, 17)),
        ("17th August 1980", date(1980, 8, 17)),
        ("Sept 5, 2020", date(2020, 9, 5)),
        ("5 sept 2020", date(2020, 9, 5)),
        # A time of day is ignored.
        ("24/11/2026, 10:30 WIB", date(2026, 11, 24)),
        ("17-8-1980 jam 10", date(1980, 8, 17)),
        ("24 november 2026 pukul 14.30", date(2026, 11, 24)),
    ],
)
def test_common_chat_forms_are_read(text: str, expected: date) -> None:
    assert parse_date_id(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 november", date(2026, 11, 3)),
        ("25 november", date(2026, 11, 25)),  # today
        ("26 november", date(2025, 11, 26)),  # tomorrow → last year's
        ("17 agustus", date(2026, 8, 17)),
        ("31 desember", date(2025, 12, 31)),
        ("29 februari", date(2024, 2, 29)),  # the last leap day
    ],
)
def test_a_date_without_year_is_the_most_recent_past_occurrence(text: str, expected: date) -> None:
    assert parse_date_id(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hari ini", TODAY),
        ("Hari ini", TODAY),
        ("kemarin", date(2026, 11, 24)),
        ("kemaren", date(2026, 11, 24)),
        ("wingi", date(2026, 11, 24)),  # Javanese
        ("kemarin lusa", date(2026, 11, 23)),
        ("2 hari lalu", date(2026, 11, 23)),
        ("2 hari yang lalu", date(2026, 11, 23)),
        ("3 hari yg lalu", date(2026, 11, 22)),
        ("seminggu lalu", date(2026, 11, 18)),
        ("2 minggu yang lalu", date(2026, 11, 11)),
        ("yesterday", date(2026, 11, 24)),
        ("3 days ago", date(2026, 11, 22)),
        ("kemarin jam 3", date(2026, 11, 24)),
        ("3 bulan lalu", date(2026, 8, 25)),  # dateparser fallback
    ],
)
def test_relative_days_count_back_from_today(text: str, expected: date) -> None:
    assert parse_date_id(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17/8/80", date(1980, 8, 17)),
        ("1/1/00", date(2000, 1, 1)),
        ("25/11/26", date(2026, 11, 25)),  # today
        ("26/11/26", date(1926, 11, 26)),  # 2026-11-26 would be tomorrow
        ("29/2/28", date(1928, 2, 29)),
        ("15 mei 05", date(2005, 5, 15)),
    ],
)
def test_two_digit_years_take_the_century_that_puts_the_date_in_the_past(
    text: str, expected: date
) -> None:
    assert parse_date_id(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "params"),
    [
        ("31-02-2026", {"day": 31, "month": 2}),
        ("31 februari 2026", {"day": 31, "month": 2}),
        ("29-02-2025", {"day": 29, "month": 2}),
        ("29/02/25", {"day": 29, "month": 2}),
        ("32-01-2020", {"day": 32, "month": 1}),
        ("17-13-1980", {"day": 17, "month": 13}),
        ("0-1-2020", {"day": 0, "month": 1}),
        ("31 april", {"day": 31, "month": 4}),
    ],
)
def test_impossible_dates_say_which_day_and_month(text: str, params: dict[str, int]) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_date_id(text, today=TODAY)
    assert caught.value.code == "date.impossible"
    assert caught.value.params == params


@pytest.mark.parametrize("text", ["26-11-2026", "1 januari 2027", "besok", "2030-01-01"])
def test_future_dates_are_refused_unless_allowed(text: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_date_id(text, today=TODAY)
    assert caught.value.code == "date.in_future"
    assert parse_date_id(text, today=TODAY, allow_future=True) > TODAY


def test_two_digit_years_pick_the_nearest_century_when_the_future_is_allowed() -> None:
    assert parse_date_id("5/1/27", today=TODAY, allow_future=True) == date(2027, 1, 5)


@pytest.mark.parametrize("text", ["17-08-1850", "1899-12-31", "1 januari 1800"])
def test_dates_before_1900_are_too_old(text: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_date_id(text, today=TODAY)
    assert caught.value.code == "date.too_old"


@pytest.mark.parametrize(
    "text", ["", "   ", "a", "xyz", "tidak tahu", "12345", "17-8-1980 10", "agustus", "!!!"]
)
def test_unreadable_answers_are_refused(text: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_date_id(text, today=TODAY)
    assert caught.value.code == "date.unreadable"


def test_numeric_forms_do_not_need_dateparser() -> None:
    started = time.perf_counter()
    for _ in range(2_000):
        parse_date_id("17-08-1980", today=TODAY)
        parse_date_id("17 agt 80", today=TODAY)
    assert time.perf_counter() - started < 2.0


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30))
def test_parse_date_id_raises_nothing_but_invalid_date(text: str) -> None:
    try:
        result = parse_date_id(text, today=TODAY)
    except InvalidDate:
        return
    assert date(1900, 1, 1) <= result <= TODAY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1980-08-17", date(1980, 8, 17)),
        ("1980/08/17", date(1980, 8, 17)),
        ("17-08-1980", date(1980, 8, 17)),
        ("17/08/1980", date(1980, 8, 17)),
        ("7/8/1980", date(1980, 8, 7)),
        (" 1980-08-17 ", date(1980, 8, 17)),
    ],
)
def test_strict_csv_dates_accept_iso_and_day_first(text: str, expected: date) -> None:
    assert parse_date_strict(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("17 Agustus 1980", "date.unreadable"),
        ("17-08-80", "date.unreadable"),
        ("1980-08/17", "date.unreadable"),
        ("", "date.unreadable"),
        ("2026-02-31", "date.impossible"),
        ("31/04/2026", "date.impossible"),
    ],
)
def test_strict_csv_dates_refuse_everything_else(text: str, code: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_date_strict(text)
    assert caught.value.code == code
