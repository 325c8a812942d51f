"""Reading dates and times typed in chat (Indonesian, Javanese, Madurese, English) and in CSV
imports.

Chat answers come in every register: ``15 mei 78``, ``kemarin sore``, ``senin kemarin``,
``rong dino kepungkur`` (Javanese: two days ago), ``kalamarè`` (Madurese: yesterday), ``jam 4
pagi``, ``setengah 3 sore``, ``habis dhuhur``. The words are tables here (this module owns the
calendar arithmetic, and the core cannot read the handlers' vocabulary file); relative forms
count back from the ``today`` the caller passes (the injected clock), never from a hidden one.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from rapidfuzz.distance import OSA

from lingkaran_core.errors import InvalidDate

__all__ = ["MIN_YEAR", "parse_date_id", "parse_date_strict", "parse_time_id"]

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

# Relative days: "hari ini", "kemarin", Javanese "wingi" (yesterday), krama "kala wingi",
# "wingenane", Madurese "kalamarè" (yesterday), "sateya" (now), English.
_RELATIVE_DAYS: Final[dict[str, int]] = {
    "hari ini": 0, "hr ini": 0, "sekarang": 0, "tadi": 0, "barusan": 0, "today": 0,
    "dino iki": 0, "saiki": 0, "mau": 0, "dinten menika": 0, "dinten niki": 0, "sateya": 0,
    "this": 0, "tonight": 0, "just now": 0, "baru saja": 0, "bhuru": 0,
    "kemarin": 1, "kemaren": 1, "kmrn": 1, "kmarin": 1, "wingi": 1, "yesterday": 1,
    "kala wingi": 1, "kalawingi": 1, "kalamare": 1, "kalamarena": 1, "kemarin siang": 1,
    "kemarin lusa": 2, "kemaren lusa": 2, "lusa kemarin": 2, "wingenane": 2, "wingi lusa": 2,
    "kemarin dulu": 2, "kemaren dulu": 2,
    "minggu lalu": 7, "minggu kemarin": 7, "minggu kemaren": 7, "minggu wingi": 7,
    "pekan lalu": 7, "last week": 7, "minggu kepungkur": 7, "seminggu": 7,
    "besok": -1, "tomorrow": -1, "sesuk": -1, "lusa": -2,
}  # fmt: skip
# "Last night" said in the morning is yesterday's date.
_LAST_NIGHT: Final = frozenset(
    {"tadi malam", "tadi malem", "semalam", "semalem", "mau bengi", "mau wengi", "last night",
     "tadi dalu", "wau dalu"}
)  # fmt: skip
# A month or a year without a day: the user knows the date better than a guess of ours.
_VAGUE: Final = frozenset(
    {"bulan lalu", "bulan kemarin", "bulan kemaren", "last month", "wulan wingi", "sasi wingi",
     "tahun lalu", "taun wingi", "last year", "bulan kepungkur"}
)  # fmt: skip
# Parts of the day do not change the date ("kemarin sore" is yesterday).
_DAY_PARTS: Final = (
    "pagi", "siang", "sore", "malam", "malem", "subuh", "shubuh", "dhuhur", "duhur", "zuhur",
    "ashar", "asar", "maghrib", "magrib", "isya", "isyak", "esuk", "isuk", "awan", "bengi",
    "wengi", "enjing", "siyang", "sonten", "dalu", "lagghu", "morning", "afternoon",
    "evening", "night", "dini hari", "tengah malam", "hari",
)  # fmt: skip
_NUMBER_WORDS: Final[dict[str, int]] = {
    "se": 1, "sa": 1, "satu": 1, "siji": 1, "one": 1, "a": 1,
    "dua": 2, "loro": 2, "rong": 2, "two": 2,
    "tiga": 3, "telu": 3, "telung": 3, "three": 3,
    "empat": 4, "papat": 4, "patang": 4, "four": 4,
    "lima": 5, "limo": 5, "limang": 5, "five": 5,
    "enam": 6, "enem": 6, "nem": 6, "six": 6,
    "tujuh": 7, "pitu": 7, "pitung": 7, "seven": 7,
    "delapan": 8, "wolu": 8, "wolung": 8, "eight": 8,
    "sembilan": 9, "songo": 9, "sanga": 9, "nine": 9,
    "sepuluh": 10, "ten": 10, "sewelas": 11, "sebelas": 11, "eleven": 11,
    "rolas": 12, "dua belas": 12, "twelve": 12,
}  # fmt: skip
_WEEKDAYS: Final[dict[str, int]] = {
    "senin": 0, "senen": 0, "sennen": 0, "monday": 0,
    "selasa": 1, "seloso": 1, "salasa": 1, "tuesday": 1,
    "rabu": 2, "rebo": 2, "rebbu": 2, "wednesday": 2,
    "kamis": 3, "kemis": 3, "kemmes": 3, "thursday": 3,
    "jumat": 4, "jemuah": 4, "jumuah": 4, "jemuwah": 4, "friday": 4,
    "sabtu": 5, "setu": 5, "saptu": 5, "saturday": 5,
    "minggu": 6, "ahad": 6, "akad": 6, "mingghu": 6, "sunday": 6,
}  # fmt: skip
_PAST_WORDS = (
    r"(?:kemarin|kemaren|kmrn|wingi|lalu|kepungkur|kalamare|yang lalu|yg lalu|kemarin ini)"
)
_WEEKDAY = re.compile(
    r"^(?:(?:hari|dino|dinten|are|pas|on|last)\s+)?(?P<day>[a-z]+)(?:\s+(?P<past>"
    + _PAST_WORDS
    + r"))?$"
)
_AGO = re.compile(
    r"^(\d{1,3}|[a-z]+(?: belas)?)\s*(hari|hr|dino|dina|dinten|are|minggu|mgg|pekan|day|days|"
    r"week|weeks)\s*(?:yang\s+|yg\s+|sing\s+)?(?:lalu|lalu\.|kepungkur|ago|kemarin|wingi)$"
)
_NUMERIC_DMY = re.compile(r"^(\d{1,2})\s*([-/.]|\s)\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})$")
_NUMERIC_YMD = re.compile(r"^(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})$")
_COMPACT_DMY = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_COMPACT_DMYY = re.compile(r"^(\d{2})(\d{2})(\d{2})$")
_NUMERIC_DM = re.compile(r"^(\d{1,2})\s*([-/])\s*(\d{1,2})$")
_SPELLED_DMY = re.compile(
    r"^(\d{1,2})\s+(?:bulan|bln)\s+(\d{1,2}|[a-z]+)\s+(?:tahun|thn|th)\s+(\d{4}|\d{2})$"
)
_DAY_ONLY = re.compile(r"^(\d{1,2})(?:\s+" + _PAST_WORDS + r")?$")
_TRAILING_PAST = re.compile(r"\s+" + _PAST_WORDS + r"$")
_NAMED_DMY = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th)?\s*[-/. ]?\s*([a-z]+)\.?\s*(?:[-/.,]?\s*(\d{4}|\d{2}))?$"
)
_NAMED_MDY = re.compile(r"^([a-z]+)\.?\s*(\d{1,2})(?:st|nd|rd|th)?(?:\s*,?\s*(\d{4}))?$")
# A time of day after the date ("jam 10", "pukul 14.30", "10:30 WIB") is not part of the date.
_TIME_SUFFIX = re.compile(
    r"(?:\s*,)?\s+(?:(?:jam|pukul|pkl\.?|at)\s+\d.*|\d{1,2}[:.]\d{2}(?:\s*[a-z]+)?)$"
)
_RELATIVE_WORDS = re.compile(r"\b(?:lalu|ago|kepungkur|yang|yg)\b")
_RELATIVE_HINT = re.compile(
    r"\b(?:lalu|ago|kepungkur|kemarin|kemaren|wingi|tadi|hari ini|today|yesterday|besok|sesuk|"
    r"minggu|pekan|week|last|kalamare)\b"
)
_PREFIX = re.compile(
    r"^(?:(?:tanggal|tgl\.?|tg\.?)\s+lahir|lahir\s+(?:tanggal|tgl\.?|pada)|lahir|born(?:\s+on)?|"
    r"dob|tanggal|tgl\.?|tg\.?|pada|on|kelahiran)\s+"
)
_DAY_PREFIX = re.compile(r"^(?:tanggal|tgl\.?|tg\.?)\s+")
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


def _fold(text: str) -> str:
    """Lower case without accents or apostrophes (``kalamarè`` → ``kalamare``, ``jum'at``)."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"['’`´ʼ‘]", "", text)


def _strip_day_part(text: str) -> str:
    """``kemarin sore`` → ``kemarin``; ``pagi tadi`` → ``tadi`` (the date stays the same)."""
    for part in _DAY_PARTS:
        if text.endswith(" " + part):
            return text[: -len(part) - 1].strip()
        if text.startswith(part + " "):
            return text[len(part) + 1 :].strip()
    return text


def _count(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def _weekday(text: str, today: date) -> date | None:
    """``senin kemarin``, ``hari jumat``, ``last monday``: the most recent such day."""
    m = _WEEKDAY.match(text)
    if m is None or m.group("day") not in _WEEKDAYS:
        return None
    strictly_past = bool(m.group("past")) or text.startswith("last ")
    back = (today.weekday() - _WEEKDAYS[m.group("day")]) % 7
    if back == 0 and strictly_past:
        back = 7
    return today - timedelta(days=back)


def _relative(text: str, today: date) -> date | None:
    if text in _LAST_NIGHT:
        return today - timedelta(days=1)
    for candidate in (text, _strip_day_part(text)):
        if candidate in _RELATIVE_DAYS:
            return today - timedelta(days=_RELATIVE_DAYS[candidate])
        ago = _AGO.match(candidate)
        if ago and (count := _count(ago.group(1))) is not None:
            unit_days = 7 if ago.group(2) in ("minggu", "mgg", "pekan", "week", "weeks") else 1
            return today - timedelta(days=count * unit_days)
        if (day := _weekday(candidate, today)) is not None:
            return day
    return None


def _day_of_month(text: str, today: date) -> date | None:
    """``tgl 20``, ``tanggal 3 kemarin``: that day of this month, else of an earlier month."""
    m = _DAY_ONLY.match(text)
    if m is None:
        return None
    day = int(m.group(1))
    if not 1 <= day <= 31:
        raise InvalidDate("date.impossible", day=day, month=today.month)
    year, month = today.year, today.month
    for _ in range(12):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) <= today:
            return date(year, month, day)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None  # pragma: no cover


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
    if m := _COMPACT_DMYY.match(text):
        return _two_digit_year(
            int(m.group(3)),
            int(m.group(2)),
            int(m.group(1)),
            today=today,
            allow_future=allow_future,
        )
    if m := _NUMERIC_DM.match(text):
        if require_year:
            raise InvalidDate("date.no_year")  # "15-05": a day and a month, no year
        return _no_year(int(m.group(3)), int(m.group(1)), today=today, allow_future=allow_future)
    if m := _SPELLED_DMY.match(text):
        month_text = m.group(2)
        month = int(month_text) if month_text.isdigit() else _month_number(month_text)
        if month is not None:
            return _with_year(
                int(m.group(1)), month, m.group(3), today=today, allow_future=allow_future
            )
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
    text: str,
    *,
    today: date,
    allow_future: bool = False,
    relative: bool = True,
    require_year: bool = False,
) -> date:
    """Read a date from a chat answer: ``17-08-1980``, ``17 agt 80``, ``kemarin``, ``wingi``…

    ``relative=False`` refuses ``kemarin``, ``senin``, ``3 hari lalu``. ``require_year`` (a date
    of birth) implies it, and a day and month without a year raise ``InvalidDate('date.no_year')``
    instead of being put in the current year.
    """
    relative = relative and not require_year
    folded = " ".join(_fold(text).split())
    day_only = bool(_DAY_PREFIX.match(folded))
    cleaned = _PREFIX.sub("", folded).strip(" .")
    cleaned = _TIME_SUFFIX.sub("", cleaned).strip(" .,")
    if not cleaned:
        raise InvalidDate("date.unreadable")
    if cleaned in _VAGUE:
        raise InvalidDate("date.vague")
    if not relative and (_relative(cleaned, today) is not None or _RELATIVE_HINT.search(cleaned)):
        raise InvalidDate("date.unreadable")
    result = _relative(cleaned, today) if relative else None
    if result is None:
        result = _fast(cleaned, today=today, allow_future=allow_future, require_year=require_year)
    if result is None and _TRAILING_PAST.search(cleaned):
        # "17 agustus kemarin", "3 november lalu": the date itself, said to be in the past.
        result = _fast(
            _TRAILING_PAST.sub("", cleaned),
            today=today,
            allow_future=allow_future,
            require_year=require_year,
        )
    if result is None and day_only and not require_year:
        result = _day_of_month(cleaned, today)
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


# ---------------------------------------------------------------------------------------------
# Times of day: "jam 4 pagi", "14.30", "setengah 3 sore", "subuh", "habis dhuhur", "4pm"

# A part of the day alone stands for a typical hour; prayer times are Jember's, roughly.
_TIME_WORDS: Final[dict[str, tuple[int, int]]] = {
    "dini hari": (2, 0), "tengah malam": (0, 0), "midnight": (0, 0),
    "subuh": (4, 30), "shubuh": (4, 30), "fajar": (5, 0), "dawn": (5, 0),
    "pagi": (8, 0), "esuk": (8, 0), "isuk": (8, 0), "enjing": (8, 0), "lagghu": (8, 0),
    "morning": (8, 0),
    "siang": (12, 0), "awan": (12, 0), "siyang": (12, 0), "tengah hari": (12, 0),
    "noon": (12, 0), "seang": (12, 0),
    "dhuhur": (12, 0), "duhur": (12, 0), "zuhur": (12, 0), "dzuhur": (12, 0), "lohor": (12, 0),
    "ashar": (15, 0), "asar": (15, 0), "afternoon": (15, 0),
    "sore": (16, 0), "sonten": (16, 0),
    "maghrib": (18, 0), "magrib": (18, 0), "surup": (18, 0),
    "isya": (19, 0), "isyak": (19, 0), "evening": (19, 0),
    "malam": (20, 0), "malem": (20, 0), "bengi": (20, 0), "wengi": (20, 0), "dalu": (20, 0),
    "night": (20, 0),
}  # fmt: skip
# How a part of the day shifts a 12-hour clock reading ("jam 3 sore" = 15:00).
_MORNING: Final = frozenset({"pagi", "esuk", "isuk", "enjing", "lagghu", "subuh", "am", "morning"})
_MIDDAY: Final = frozenset({"siang", "awan", "siyang", "seang", "noon"})
_AFTERNOON: Final = frozenset({"sore", "sonten", "ashar", "afternoon"})
_NIGHT: Final = frozenset({"malam", "malem", "bengi", "wengi", "dalu", "night", "evening"})
_AFTER_WORDS: Final = frozenset({"habis", "abis", "setelah", "sesudah", "bar", "bakda", "after"})
_TIME_NOISE: Final = frozenset(
    {"jam", "jm", "pukul", "pkl", "sekitar", "sekitaran", "kira", "kurleb", "kurang lebih",
     "around", "about", "at", "pas", "waktu", "wktu", "an", "o", "clock", "oclock", "wib",
     "in", "the", "kiro", "kiro kiro", "kurang", "lebih", "menit", "tepat", "ya", "itu",
     "kayaknya", "mungkin", "sekira"}
)  # fmt: skip
_CLOCK = re.compile(r"\b(\d{1,2})\s*[:.]\s*(\d{2})\b")
_HOUR = re.compile(r"\b(\d{1,2})\s*(am|pm|an)?\b")


def _hour_word(tokens: list[str]) -> int | None:
    for tok in tokens:
        if tok in _NUMBER_WORDS and tok not in ("a", "se", "sa"):
            return _NUMBER_WORDS[tok]
    return None


def _shift(hour: int, parts: set[str]) -> int:
    """A 12-hour reading with its part of the day on a 24-hour clock."""
    if hour > 12:
        return hour
    if parts & {"pm"} or parts & _AFTERNOON:
        return hour + 12 if hour < 12 else 12
    if parts & _MIDDAY:
        return hour + 12 if 1 <= hour <= 5 else hour
    if parts & _NIGHT:
        if hour == 12:
            return 0
        return hour + 12 if 5 <= hour <= 11 else hour
    if parts & _MORNING and hour == 12:
        return 0
    return hour


def parse_time_id(text: str) -> time | None:
    """A time of day from a chat answer, or None when the answer names none."""
    folded = " ".join(re.sub(r"[^\w:.]+", " ", _fold(text)).split()).strip(" .")
    if not folded:
        return None
    words = folded.replace(".", " ").replace(":", " ").split()
    parts = {w for w in words if w in _TIME_WORDS or w in ("am", "pm")}
    if m := _CLOCK.search(folded):
        clock_hour, clock_minute = int(m.group(1)), int(m.group(2))
        if clock_hour <= 23 and clock_minute <= 59:
            return time(_shift(clock_hour, parts) % 24, clock_minute)
        return None
    compact = re.sub(r"(\d)(am|pm|an)\b", r"\1 \2", folded)
    hour_match = _HOUR.search(compact)
    hour = int(hour_match.group(1)) if hour_match else _hour_word(words)
    if hour_match and hour_match.group(2) in ("am", "pm"):
        parts.add(hour_match.group(2))
    if hour is None:
        phrase = next((p for p in _TIME_WORDS if " " in p and p in folded), None)
        part = phrase or next((w for w in words if w in _TIME_WORDS), None)
        if part is None:
            return None
        h, m_ = _TIME_WORDS[part]
        if _AFTER_WORDS & set(words):
            h, m_ = divmod(h * 60 + m_ + 30, 60)
        return time(h % 24, m_)
    if hour > 23:
        return None
    minute = 0
    if "setengah" in words or "stengah" in words or "half" in words:
        hour, minute = hour - 1, 30  # "setengah tiga" is half past two
    elif "seperempat" in words or "quarter" in words:
        if "kurang" in words or "to" in words:
            hour, minute = hour - 1, 45
        else:
            minute = 15
    elif (more := re.search(r"\b(?:lebih|lewat|past)\s+(\d{1,2})\b", folded)) is not None:
        minute = min(int(more.group(1)), 59)
    return time(_shift(hour % 24, parts) % 24, minute)
