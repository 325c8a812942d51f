"""Reading dates typed in chat (Indonesian, Javanese, English) and in CSV imports."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from rapidfuzz.distance import OSA

from lingkaran_core.errors import InvalidDate

__all__ = ["MIN_YEAR", "parse_date_id", "parse_date_strict"]

MIN_YEAR: Final = 1900

_MONTHS: Final[dict[str, int]] = {
    # Indonesian
    "januari": 1, "februari": 2, "pebruari": 2, "maret": 3, "april": 4, "mei": 5, "juni": 6,
    "juli": 7, "agustus": 8, "september": 9, "oktober": 10, "november": 11, "nopember": 11,
    "desember": 12,
    # English
    "january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8,
    "october": 10, "december": 12,
    # Abbreviations people type (incl. "agt", "agst", "nop", "peb", "mrt")
    "jan": 1, "feb": 2, "peb": 2, "mar": 3, "mrt": 3, "apr": 4, "jun": 6, "jul": 7,
    "agu": 8, "agt": 8, "ags": 8, "agst": 8, "agus": 8, "aug": 8, "sep": 9, "sept": 9,
    "okt": 10, "oct": 10, "nov": 11, "nop": 11, "des": 12, "dec": 12,
}  # fmt: skip
_FULL_NAMES: Final = tuple(n for n in _MONTHS if len(n) > 4)

# Relative days: "hari ini", "kemarin", Javanese "wingi" (yesterday) and "wingenane".
_RELATIVE_DAYS: Final[dict[str, int]] = {
    "hari ini": 0, "hr ini": 0, "sekarang": 0, "tadi": 0, "barusan": 0, "today": 0,
    "dino iki": 0, "saiki": 0,
    "kemarin": 1, "kemaren": 1, "kmrn": 1, "kmarin": 1, "wingi": 1, "yesterday": 1,
    "kemarin lusa": 2, "kemaren lusa": 2, "lusa kemarin": 2, "wingenane": 2, "wingi lusa": 2,
    "besok": -1, "tomorrow": -1, "sesuk": -1, "lusa": -2,
}  # fmt: skip
_AGO = re.compile(
    r"^(\d{1,3}|se)\s*(hari|hr|minggu|mgg|pekan|day|days|week|weeks)\s*"
    r"(?:yang\s+|yg\s+)?(?:lalu|lalu\.|kepungkur|ago)$"
)
_NUMERIC_DMY = re.compile(r"^(\d{1,2})\s*([-/.]|\s)\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})$")
_NUMERIC_YMD = re.compile(r"^(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})$")
_COMPACT_DMY = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_NAMED_DMY = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th)?\s*[-/. ]?\s*([a-z]+)\.?\s*(?:[-/.,]?\s*(\d{4}|\d{2}))?$"
)
_NAMED_MDY = re.compile(r"^([a-z]+)\.?\s*(\d{1,2})(?:st|nd|rd|th)?(?:\s*,?\s*(\d{4}))?$")
# A time of day after the date ("jam 10", "pukul 14.30", "10:30 WIB") is not part of the date.
_TIME_SUFFIX = re.compile(
    r"(?:\s*,)?\s+(?:(?:jam|pukul|pkl\.?|at)\s+\d.*|\d{1,2}[:.]\d{2}(?:\s*[a-z]+)?)$"
)
_RELATIVE_WORDS = re.compile(r"\b(?:lalu|ago|kepungkur|yang|yg)\b")
_PREFIX = re.compile(r"^(?:tanggal|tgl\.?|tg\.?|pada|on)\s+")
_STRICT_YMD = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$")
_STRICT_DMY = re.compile(r"^(\d{1,2})([-/])(\d{1,2})\2(\d{4})$")


def _build(year: int, month: int, day: int) -> date:
    """A date or ``InvalidDate('date.impossible')`` (e.g. 31-02)."""
    if year < MIN_YEAR:
        raise InvalidDate("date.too_old", year=year)
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidDate("date.impossible", day=day, month=month) from None


def _check_day_month(day: int, month: int) -> None:
    """Refuse a day/month that exists in no year (29 Feb is fine: leap years)."""
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise InvalidDate("date.impossible", day=day, month=month)


def _two_digit_year(yy: int, month: int, day: int, *, today: date, allow_future: bool) -> date:
    """Pick the century that puts the date in the past (or closest to today if allowed)."""
    _check_day_month(day, month)
    candidates: list[date] = []
    for century in (2000, 1900):
        try:
            candidates.append(date(century + yy, month, day))
        except ValueError:
            continue
    if not candidates:
        raise InvalidDate("date.impossible", day=day, month=month)
    if allow_future:
        return min(candidates, key=lambda d: abs((d - today).days))
    past = [d for d in candidates if d <= today]
    return past[0] if past else candidates[-1]


def _no_year(month: int, day: int, *, today: date, allow_future: bool) -> date:
    """The most recent occurrence not after today (this year's when the future is allowed)."""
    _check_day_month(day, month)
    for year in range(today.year, today.year - 9, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 29 February outside a leap year
            continue
        if allow_future or candidate <= today:
            return candidate
    raise InvalidDate("date.impossible", day=day, month=month)  # pragma: no cover


def _with_year(
    day: int,
    month: int,
    year_text: str | None,
    *,
    today: date,
    allow_future: bool,
    require_year: bool = False,
) -> date:
    if year_text is None:
        if require_year:
            _check_day_month(day, month)
            raise InvalidDate("date.no_year", day=day, month=month)
        return _no_year(month, day, today=today, allow_future=allow_future)
    if len(year_text) == 2:
        return _two_digit_year(int(year_text), month, day, today=today, allow_future=allow_future)
    _check_day_month(day, month)
    return _build(int(year_text), month, day)


def _month_number(word: str) -> int | None:
    """Month from a name, an abbreviation, a unique prefix or a one-letter typo ("agts")."""
    if word in _MONTHS:
        return _MONTHS[word]
    if len(word) < 3:
        return None
    found = {_MONTHS[name] for name in _FULL_NAMES if name.startswith(word)}
    if not found and len(word) >= 4:
        found = {
            n for name, n in _MONTHS.items() if len(name) >= 4 and OSA.distance(word, name) <= 1
        }
    return found.pop() if len(found) == 1 else None


def _relative(text: str, today: date) -> date | None:
    if text in _RELATIVE_DAYS:
        return today - timedelta(days=_RELATIVE_DAYS[text])
    ago = _AGO.match(text)
    if ago:
        count = 1 if ago.group(1) == "se" else int(ago.group(1))
        unit_days = 1 if ago.group(2) in ("hari", "hr", "day", "days") else 7
        return today - timedelta(days=count * unit_days)
    return None


def _fast(text: str, *, today: date, allow_future: bool, require_year: bool = False) -> date | None:
    """Regex parsing of the common forms; dateparser is slow and only a fallback."""
    if m := _NUMERIC_DMY.match(text):
        return _with_year(
            int(m.group(1)), int(m.group(3)), m.group(4), today=today, allow_future=allow_future
        )
    if m := _NUMERIC_YMD.match(text):
        _check_day_month(int(m.group(4)), int(m.group(3)))
        return _build(int(m.group(1)), int(m.group(3)), int(m.group(4)))
    if m := _COMPACT_DMY.match(text):
        _check_day_month(int(m.group(1)), int(m.group(2)))
        return _build(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if (m := _NAMED_DMY.match(text)) and (month := _month_number(m.group(2))):
        return _with_year(
            int(m.group(1)),
            month,
            m.group(3),
            today=today,
            allow_future=allow_future,
            require_year=require_year,
        )
    if (m := _NAMED_MDY.match(text)) and (month := _month_number(m.group(1))):
        return _with_year(
            int(m.group(2)),
            month,
            m.group(3),
            today=today,
            allow_future=allow_future,
            require_year=require_year,
        )
    if require_year and re.fullmatch(r"(\d{1,2})\s*[-/. ]\s*(\d{1,2})", text):
        raise InvalidDate("date.no_year")  # "15-05": a day and a month, no year
    return None


def _dateparser(text: str, *, today: date) -> date | None:
    # Guard: dateparser turns lone letters ("a") into dates; ask for a digit or a real word.
    if not re.search(r"\d|[a-z]{4,}", text):
        return None
    import dateparser  # slow to import; only needed for the rare fallback

    settings: dict[str, Any] = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": datetime.combine(today, time(12, 0)),
        "REQUIRE_PARTS": ["day"],
    }
    try:
        parsed = dateparser.parse(text, languages=["id", "en"], settings=settings)
    except (ValueError, OverflowError):  # odd inputs can trip dateparser internals
        return None
    if not isinstance(parsed, datetime):
        return None
    result = parsed.date()
    # dateparser sometimes reads stray numbers as other parts; every number typed must show up
    # in the date unless it counts units back ("3 bulan lalu").
    if not _RELATIVE_WORDS.search(text):
        parts = {result.day, result.month, result.year, result.year % 100}
        if any(int(n) not in parts for n in re.findall(r"\d+", text)):
            return None
    return result


def parse_date_id(
    text: str, *, today: date, allow_future: bool = False, require_year: bool = False
) -> date:
    """Read a date from a chat answer: ``17-08-1980``, ``17 agt 80``, ``kemarin``, ``wingi``…

    With ``require_year`` (a date of birth) a day and month without a year raise
    ``InvalidDate('date.no_year')`` instead of being put in the current year, and relative days
    ("kemarin") are not read.
    """
    cleaned = _PREFIX.sub("", " ".join(text.lower().split())).strip(" .")
    cleaned = _TIME_SUFFIX.sub("", cleaned).strip(" .,")
    if not cleaned:
        raise InvalidDate("date.unreadable")
    result = None if require_year else _relative(cleaned, today)
    if result is None:
        result = _fast(cleaned, today=today, allow_future=allow_future, require_year=require_year)
    if result is None:
        result = _dateparser(cleaned, today=today)
        if (
            result is not None
            and require_year
            and str(result.year) not in re.findall(r"\d+", cleaned)
        ):
            raise InvalidDate("date.no_year")
    if result is None:
        raise InvalidDate("date.unreadable")
    if result.year < MIN_YEAR:
        raise InvalidDate("date.too_old", year=result.year)
    if result > today and not allow_future:
        raise InvalidDate("date.in_future", date=result.isoformat())
    return result


def parse_date_strict(text: str) -> date:
    """Read a CSV date: ``YYYY-MM-DD`` or ``DD-MM-YYYY`` (``/`` also accepted)."""
    value = text.strip()
    if m := _STRICT_YMD.match(value):
        year, month, day = int(m.group(1)), int(m.group(3)), int(m.group(4))
    elif m := _STRICT_DMY.match(value):
        day, month, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    else:
        raise InvalidDate("date.unreadable")
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidDate("date.impossible", day=day, month=month) from None
