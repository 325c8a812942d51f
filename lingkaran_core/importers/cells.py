"""Roster cell parsers: one CSV cell to a stored value or a ``_Bad`` reason code.

Cached with ``lru_cache``: roster values repeat a lot (dates, desa codes, phone prefixes, the
birth dates inside NIKs), which is what keeps a 100k-row import fast (see ``_phone``, ``_nik``)."""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Final

from lingkaran_core.coverage import month_end
from lingkaran_core.dates import parse_date_strict
from lingkaran_core.errors import DomainError, InvalidDate, InvalidPhone
from lingkaran_core.identity import (
    FEMALE_DAY_OFFSET,
    Sex,
    _nik_birth_date,
    normalize_phone,
    parse_nik,
)
from lingkaran_core.regions import load_regions
from lingkaran_core.rules import SECTOR_CODES

# The human names of the six sectors (DOMAIN.md §0), accepted in the ``sektor`` column besides
# the codes, case-insensitively. The first name of each is its display name.
SECTOR_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "buruh_tani_tembakau": (
        "Buruh tani tembakau",
        "buruh tani",
        "buruh tani tembakau dan sektor pendukung",
        "dbhcht",
    ),
    "pekerja_sosial_keagamaan": (
        "Pekerja sosial keagamaan",
        "guru ngaji",
        "guru ngaji / pekerja sosial keagamaan",
    ),
    "petani_pangan_hortikultura": (
        "Petani pangan & hortikultura",
        "petani pangan dan hortikultura",
        "petani pangan hortikultura",
        "petani",
    ),
    "pekerja_rentan_desa": ("Pekerja rentan desa",),
    "nelayan_tangkap": ("Nelayan tangkap", "nelayan"),
    "pedagang_keliling": ("Pedagang keliling",),
}
_NON_WORD = re.compile(r"[^0-9a-z]+")


def _sector_key(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower().replace("&", " dan ")).strip()


_SECTOR_LOOKUP: Final[dict[str, str]] = {
    _sector_key(alias): code
    for code, aliases in SECTOR_NAMES.items()
    for alias in (code, code.replace("_", " "), *aliases)
}


@functools.lru_cache(maxsize=256)
def parse_sector(text: str) -> str | None:
    """A sector code from a code or human name ("Nelayan tangkap", "GURU NGAJI"), else None."""
    code = _SECTOR_LOOKUP.get(_sector_key(text))
    return code if code in SECTOR_CODES else None


# -- cell parsers (cached: roster values repeat a lot) -----------------------------------------


class _Bad(Exception):
    """A cell that fails validation: reason code + detail."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


def _detail(err: DomainError) -> str:
    return ", ".join(f"{k}={v}" for k, v in err.params.items())


@functools.lru_cache(maxsize=32_768)
def _date(text: str) -> str:
    """A CSV date as ISO text (cached: a roster has a few thousand distinct dates)."""
    try:
        return parse_date_strict(text).isoformat()
    except InvalidDate as err:
        raise _Bad(err.code, _detail(err)) from None


_YEAR_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")


@functools.lru_cache(maxsize=4_096)
def _paid_through(text: str) -> str:
    """``YYYY-MM`` means the whole month (stored as its last day), or a full date."""
    if m := _YEAR_MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12 or year < 1900:
            raise _Bad("date.impossible", f"month={month}")
        return month_end(date(year, month, 1)).isoformat()
    return _date(text)


_SEX: Final = {
    "l": "L",
    "lk": "L",
    "laki laki": "L",
    "laki": "L",
    "pria": "L",
    "m": "L",
    "p": "P",
    "pr": "P",
    "perempuan": "P",
    "wanita": "P",
    "f": "P",
}


@functools.lru_cache(maxsize=64)
def _sex(text: str) -> str | None:
    return _SEX.get(_sector_key(text))


@functools.lru_cache(maxsize=1_024)
def _desa(text: str) -> str:
    if not text:
        raise _Bad("desa.empty")
    desa = load_regions().desa(text)
    if desa is None:
        raise _Bad("desa.unknown", "not a Jember desa/kelurahan code")
    return desa.code


_PHONE_JUNK = re.compile(r"[\s.\-()]+")
_ID_MOBILE = re.compile(r"^(?:\+62|62|0)(8\d{8,11})$")


@functools.lru_cache(maxsize=1_024)
def _phone_prefix_ok(prefix: str, length: int) -> str | None:
    """Whether an Indonesian mobile number with this prefix and length is valid (error code)."""
    sample = "0" + prefix + "5" * (length - len(prefix))
    try:
        normalize_phone(sample)
    except InvalidPhone as err:
        return err.code
    return None


def _phone(text: str) -> str:
    """E.164 phone; the common ``08…`` shapes are decided per (prefix, length) and cached.

    phonenumbers' Indonesian mobile pattern (``8[1-35-9]\\d{7,10}``) depends on the first digits
    and the length only, so one real check per 4-digit prefix and length is exact and ~30x
    faster over a 100k-row roster. Anything else goes through ``normalize_phone`` itself.
    """
    if text.startswith("08") and text.isdigit() and 10 <= len(text) <= 13:
        national = text[1:]
    elif m := _ID_MOBILE.match(_PHONE_JUNK.sub("", text)):
        national = m.group(1)
    else:
        try:
            return normalize_phone(text)
        except InvalidPhone as err:
            raise _Bad(err.code, _detail(err)) from None
    failure = _phone_prefix_ok(national[:4], len(national))
    if failure is not None:
        raise _Bad(failure)
    return "+62" + national


_DIGITS_JUNK = re.compile(r"[\s.\-']+")


@functools.lru_cache(maxsize=65_536)
def _nik_birth(ddmmyy: str, today: date) -> tuple[str, str]:
    """Birth date (ISO) and sex for a NIK's digits 7-12, by ``parse_nik``'s own decoder (cached).

    The caller has checked everything else ``parse_nik`` checks (``_nik``), so only the date
    can fail, with ``parse_nik``'s error; the sex is ``NIK.sex``'s rule (women's day + 40).
    """
    birth = _nik_birth_date(f"350901{ddmmyy}0001", today=today)
    female = int(ddmmyy[:2]) > FEMALE_DAY_OFFSET
    return birth.isoformat(), _FEMALE if female else _MALE


_FEMALE: Final = Sex.FEMALE.value
_MALE: Final = Sex.MALE.value


def _nik_sound(digits: str) -> bool:
    """True when ``digits`` pass every check of ``parse_nik`` but the date (16 ASCII digits,
    serial and region codes not zero): only the date's decoding is left, cacheable by DDMMYY."""
    return (
        len(digits) == 16
        and digits.isascii()
        and digits.isdigit()
        and digits[12:] != "0000"
        and digits[:2] != "00"
        and digits[2:4] != "00"
    )


def _nik(digits: str, today: date) -> tuple[str, str]:
    """``parse_nik`` with its date decoding cached per DDMMYY (100k rows share ~20k of them).

    Only NIKs that pass every other check of ``parse_nik`` (``_nik_sound``) take the cached
    path; anything else goes to ``parse_nik`` whole, so the error codes stay its own.
    """
    if _nik_sound(digits):
        return _nik_birth(digits[6:12], today)
    parsed = parse_nik(digits, today=today)
    return parsed.birth_date.isoformat(), parsed.sex.value
