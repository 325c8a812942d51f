"""Identifiers: NIK, KPJ and phone numbers (validation, normalisation, masking)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from lingkaran_core.errors import InvalidKPJ, InvalidNIK, InvalidPhone

__all__ = [
    "JEMBER_PREFIX",
    "NIK",
    "Sex",
    "mask_nik",
    "mask_phone",
    "normalize_phone",
    "parse_kpj",
    "parse_nik",
    "scrub_niks",
    "wa_id_to_e164",
]

# DOMAIN.md §5.1: digits 1-4 are province + kabupaten; Jember is 35.09.
JEMBER_PREFIX = "3509"
NIK_LENGTH = 16
KPJ_LENGTH = 11
# DOMAIN.md §5.1: women's NIK birth day is DD + 40.
FEMALE_DAY_OFFSET = 40

_SEPARATORS = re.compile(r"[\s.\-]+")
_NIK_RUN = re.compile(r"(?<!\d)\d{16}(?!\d)")


class Sex(enum.StrEnum):
    """Sex as encoded in the NIK (Indonesian KTP letters)."""

    MALE = "L"
    FEMALE = "P"


def _strip_separators(raw: str) -> str:
    return _SEPARATORS.sub("", raw)


def mask_nik(s: str) -> str:
    """Mask an identifier as first 4 + stars + last 4 (everything starred when short)."""
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def scrub_niks(text: str) -> str:
    """Replace every standalone 16-digit run in ``text`` by its mask (for log filters)."""
    return _NIK_RUN.sub(lambda m: mask_nik(m.group(0)), text)


def _nik_birth_date(digits: str, *, today: date) -> date:
    """Decode DDMMYY (digits 7-12) into a date; raise InvalidNIK on bad parts."""
    day_raw = int(digits[6:8])
    month = int(digits[8:10])
    yy = int(digits[10:12])
    if not 1 <= month <= 12:
        raise InvalidNIK("nik.bad_month", month=month)
    if 1 <= day_raw <= 31:
        day = day_raw
    elif 1 + FEMALE_DAY_OFFSET <= day_raw <= 31 + FEMALE_DAY_OFFSET:
        day = day_raw - FEMALE_DAY_OFFSET
    else:
        raise InvalidNIK("nik.bad_day", day=day_raw)
    # DOMAIN.md §5.1: YY has no century; take 20YY unless that is after today.
    try:
        recent = date(2000 + yy, month, day)
    except ValueError:
        raise InvalidNIK("nik.impossible_date", day=day, month=month) from None
    if recent <= today:
        return recent
    try:
        return date(1900 + yy, month, day)
    except ValueError:  # 29 Feb in a non-leap 19YY whose 20YY is in the future
        raise InvalidNIK("nik.impossible_date", day=day, month=month) from None


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class NIK:
    """A validated 16-digit NIK; ``str``/``repr`` are masked so it never leaks into logs."""

    value: str
    birth_date: date

    def __post_init__(self) -> None:
        if len(self.value) != NIK_LENGTH or not self.value.isascii() or not self.value.isdigit():
            raise InvalidNIK("nik.wrong_length", got=len(self.value))

    @property
    def province_code(self) -> str:
        """Province code, e.g. ``"35"``."""
        return self.value[:2]

    @property
    def kabupaten_code(self) -> str:
        """Kabupaten/kota code with dots, e.g. ``"35.09"``."""
        return f"{self.value[:2]}.{self.value[2:4]}"

    @property
    def kecamatan_code(self) -> str:
        """Kecamatan code of issue with dots, e.g. ``"35.09.27"``."""
        return f"{self.kabupaten_code}.{self.value[4:6]}"

    @property
    def sex(self) -> Sex:
        """Sex from the birth-day field (women have DD + 40)."""
        return Sex.FEMALE if int(self.value[6:8]) > FEMALE_DAY_OFFSET else Sex.MALE

    @property
    def serial(self) -> str:
        """The last four digits (serial number)."""
        return self.value[12:]

    @property
    def is_jember(self) -> bool:
        """Whether the NIK was issued in Jember (it need not mean the person lives there)."""
        return self.value.startswith(JEMBER_PREFIX)

    def masked(self) -> str:
        """First 4 + 8 stars + last 4, e.g. ``3509********0001``."""
        return mask_nik(self.value)

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"NIK({self.masked()})"


def parse_nik(raw: str, *, today: date) -> NIK:
    """Validate a NIK typed by a person (spaces, dots and dashes allowed)."""
    digits = _strip_separators(raw)
    if not digits:
        raise InvalidNIK("nik.empty")
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidNIK("nik.not_digits")
    if len(digits) != NIK_LENGTH:
        raise InvalidNIK("nik.wrong_length", got=len(digits))
    birth_date = _nik_birth_date(digits, today=today)
    if digits[12:] == "0000":
        raise InvalidNIK("nik.serial_zero")
    # DOMAIN.md §5.1: any province/kabupaten is accepted, but 00 is never a region.
    if digits[:2] == "00" or digits[2:4] == "00":
        raise InvalidNIK("nik.bad_region", province=digits[:2], kabupaten=digits[2:4])
    return NIK(value=digits, birth_date=birth_date)


def parse_kpj(raw: str) -> str:
    """Validate an 11-digit KPJ membership number (DOMAIN.md §5.2) and return its digits."""
    digits = _strip_separators(raw)
    if not digits:
        raise InvalidKPJ("kpj.empty")
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidKPJ("kpj.not_digits")
    if len(digits) != KPJ_LENGTH:
        raise InvalidKPJ("kpj.wrong_length", got=len(digits))
    return digits


_PHONE_JUNK = re.compile(r"[\s.\-()]+")
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_INDONESIA_CODE = 62


def normalize_phone(raw: str, *, allow_fixed: bool = False) -> str:
    """Normalise an Indonesian number (``08…``, ``62…``, ``+62…``) to E.164 ``+62…``."""
    cleaned = _PHONE_JUNK.sub("", raw)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    elif cleaned.startswith("62"):
        cleaned = "+" + cleaned
    if not cleaned or not cleaned.lstrip("+").isdigit():
        raise InvalidPhone("phone.invalid")
    try:
        number = phonenumbers.parse(cleaned, "ID")
    except NumberParseException:
        raise InvalidPhone("phone.invalid") from None
    if number.country_code != _INDONESIA_CODE:
        raise InvalidPhone("phone.not_indonesian", country_code=number.country_code)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("phone.invalid")
    kind = phonenumbers.number_type(number)
    # We need numbers that can hold WhatsApp/Telegram accounts: fixed lines are refused.
    if kind not in _MOBILE_TYPES and not (allow_fixed and kind == PhoneNumberType.FIXED_LINE):
        raise InvalidPhone("phone.not_mobile")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """Mask an E.164 number keeping the ``+62`` prefix, 3 more digits and the last 4."""
    keep_head = 6
    if len(e164) <= keep_head + 4:
        return e164[:3] + "*" * max(len(e164) - 3, 0)
    return e164[:keep_head] + "*" * (len(e164) - keep_head - 4) + e164[-4:]


def wa_id_to_e164(wa_id: str) -> str:
    """Turn a WhatsApp ``wa_id`` (digits with country code) into E.164."""
    digits = wa_id.strip().lstrip("+")
    if not digits or not (digits.isascii() and digits.isdigit()) or len(digits) > 15:
        raise InvalidPhone("phone.invalid")
    return "+" + digits
