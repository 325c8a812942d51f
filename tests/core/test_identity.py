"""NIK, KPJ and phone rules (DOMAIN.md §5)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingkaran_core.errors import DomainError, InvalidKPJ, InvalidNIK, InvalidPhone
from lingkaran_core.identity import (
    NIK,
    Sex,
    mask_nik,
    mask_phone,
    normalize_phone,
    parse_kpj,
    parse_nik,
    scrub_niks,
    wa_id_to_e164,
)

TODAY = date(2026, 11, 25)


def test_a_male_jember_nik_is_decoded() -> None:
    nik = parse_nik("3509271708800001", today=TODAY)
    assert nik.value == "3509271708800001"
    assert nik.province_code == "35"
    assert nik.kabupaten_code == "35.09"
    assert nik.kecamatan_code == "35.09.27"
    assert nik.birth_date == date(1980, 8, 17)
    assert nik.sex is Sex.MALE
    assert nik.serial == "0001"
    assert nik.is_jember


def test_a_female_nik_has_forty_added_to_the_birth_day() -> None:
    # DOMAIN.md §5.1: women DD + 40.
    nik = parse_nik("3509275708800002", today=TODAY)
    assert nik.birth_date == date(1980, 8, 17)
    assert nik.sex is Sex.FEMALE


@pytest.mark.parametrize(
    ("raw", "birth_date"),
    [
        ("3509271708050001", date(2005, 8, 17)),  # 2005 is past: 20YY
        ("3509271711260001", date(2026, 11, 17)),  # a baby born this month
        ("3509272511260001", date(2026, 11, 25)),  # born today: still 20YY
        ("3509272611260001", date(1926, 11, 26)),  # tomorrow in 2026 is future: 19YY
        ("3509270101990001", date(1999, 1, 1)),
        ("3509272902000001", date(2000, 2, 29)),  # leap year 2000
        ("3509272902280001", date(1928, 2, 29)),  # 2028 is future, 1928 is leap
    ],
)
def test_the_century_is_the_latest_one_not_after_today(raw: str, birth_date: date) -> None:
    assert parse_nik(raw, today=TODAY).birth_date == birth_date


@pytest.mark.parametrize(
    "raw",
    ["3509 2717 0880 0001", "3509.2717.0880.0001", "3509-2717-0880-0001", " 3509271708800001\n"],
)
def test_a_nik_may_be_typed_with_spaces_dots_or_dashes(raw: str) -> None:
    assert parse_nik(raw, today=TODAY).value == "3509271708800001"


def test_a_nik_issued_outside_jember_is_accepted() -> None:
    # DOMAIN.md §5.1: the region is where the NIK was first issued; do not reject others.
    nik = parse_nik("3578011708800001", today=TODAY)
    assert not nik.is_jember
    assert nik.kabupaten_code == "35.78"


@pytest.mark.parametrize(
    ("raw", "code", "params"),
    [
        ("", "nik.empty", {}),
        (" - . ", "nik.empty", {}),
        ("3509abc708800001", "nik.not_digits", {}),
        ("３５０９２７１７０８８００００１", "nik.not_digits", {}),  # full-width digits
        ("350927170880001", "nik.wrong_length", {"got": 15}),
        ("35092717088000012", "nik.wrong_length", {"got": 17}),
        ("3509271713800001", "nik.bad_month", {"month": 13}),
        ("3509271700800001", "nik.bad_month", {"month": 0}),
        ("3509270008800001", "nik.bad_day", {"day": 0}),
        ("3509273208800001", "nik.bad_day", {"day": 32}),
        ("3509274008800001", "nik.bad_day", {"day": 40}),
        ("3509277208800001", "nik.bad_day", {"day": 72}),
        ("3509273102800001", "nik.impossible_date", {"day": 31, "month": 2}),
        ("3509277102800001", "nik.impossible_date", {"day": 31, "month": 2}),
        ("3509272902250001", "nik.impossible_date", {"day": 29, "month": 2}),
        ("3509273104800001", "nik.impossible_date", {"day": 31, "month": 4}),
        ("3509271708800000", "nik.serial_zero", {}),
        ("0009271708800001", "nik.bad_region", {"province": "00", "kabupaten": "09"}),
        ("3500271708800001", "nik.bad_region", {"province": "35", "kabupaten": "00"}),
    ],
)
def test_a_malformed_nik_is_refused_with_a_specific_code(
    raw: str, code: str, params: dict[str, object]
) -> None:
    with pytest.raises(InvalidNIK) as caught:
        parse_nik(raw, today=TODAY)
    assert caught.value.code == code
    assert caught.value.params == params


def test_a_nik_never_shows_its_digits_in_str_or_repr() -> None:
    nik = parse_nik("3509271708800001", today=TODAY)
    assert nik.masked() == "3509********0001"
    assert str(nik) == "3509********0001"
    assert "2717" not in repr(nik)
    assert f"{nik}" == "3509********0001"


def test_a_nik_built_directly_must_still_have_sixteen_digits() -> None:
    with pytest.raises(InvalidNIK):
        NIK(value="123", birth_date=date(1980, 1, 1))


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("3509271708800001", "3509********0001"), ("123456789", "1234*6789"), ("1234", "****")],
)
def test_mask_nik_keeps_only_the_first_and_last_four(raw: str, masked: str) -> None:
    assert mask_nik(raw) == masked


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("nik=3509271708800001 ok", "nik=3509********0001 ok"),
        ("a 3509271708800001,3578011708800002.", "a 3509********0001,3578********0002."),
        ("phone 6281234567890", "phone 6281234567890"),
        ("17 digits 35092717088000012", "17 digits 35092717088000012"),
        ("x3509271708800001y", "x3509********0001y"),
    ],
)
def test_scrub_niks_masks_every_standalone_sixteen_digit_run(text: str, scrubbed: str) -> None:
    assert scrub_niks(text) == scrubbed


@given(st.text())
def test_parse_nik_raises_nothing_but_invalid_nik_on_random_text(text: str) -> None:
    try:
        nik = parse_nik(text, today=TODAY)
    except InvalidNIK:
        return
    assert len(nik.value) == 16


@given(st.from_regex(r"\A[0-9]{16}\Z"))
def test_parse_nik_raises_nothing_but_invalid_nik_on_random_digits(text: str) -> None:
    try:
        nik = parse_nik(text, today=TODAY)
    except InvalidNIK:
        return
    assert nik.birth_date <= TODAY


@pytest.mark.parametrize("raw", ["12345678901", "123.4567.8901", "123 4567 8901", "123-4567-8901"])
def test_a_kpj_has_eleven_digits(raw: str) -> None:
    # DOMAIN.md §5.2
    assert parse_kpj(raw) == "12345678901"


@pytest.mark.parametrize(
    ("raw", "code", "params"),
    [
        ("", "kpj.empty", {}),
        ("1234567890a", "kpj.not_digits", {}),
        ("1234567890", "kpj.wrong_length", {"got": 10}),
        ("123456789012", "kpj.wrong_length", {"got": 12}),
    ],
)
def test_a_malformed_kpj_is_refused(raw: str, code: str, params: dict[str, object]) -> None:
    with pytest.raises(InvalidKPJ) as caught:
        parse_kpj(raw)
    assert (caught.value.code, caught.value.params) == (code, params)


@pytest.mark.parametrize(
    "raw",
    [
        "081234567890",
        "0812-3456-7890",
        "0812 3456 7890",
        "+62 812 3456 7890",
        "+6281234567890",
        "6281234567890",
        "(0812) 3456.7890",
    ],
)
def test_mobile_numbers_are_normalised_to_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+6281234567890"


def test_a_fixed_line_is_refused_unless_allowed() -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone("0331 123456")
    assert caught.value.code == "phone.not_mobile"
    assert normalize_phone("0331 123456", allow_fixed=True) == "+62331123456"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "phone.invalid"),
        ("08123", "phone.invalid"),
        ("nomor saya", "phone.invalid"),
        ("0812345678901234567", "phone.invalid"),
        ("+1 650 253 0000", "phone.not_indonesian"),
    ],
)
def test_unusable_phone_numbers_are_refused(raw: str, code: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone(raw)
    assert caught.value.code == code


def test_a_phone_is_masked_in_the_middle() -> None:
    assert mask_phone("+6281234567890") == "+62812****7890"


def test_a_whatsapp_id_becomes_e164() -> None:
    assert wa_id_to_e164("6281234567890") == "+6281234567890"
    with pytest.raises(InvalidPhone):
        wa_id_to_e164("62-812")


def test_every_domain_error_carries_its_code_and_params() -> None:
    error = InvalidNIK("nik.wrong_length", got=3)
    assert isinstance(error, DomainError)
    assert error.code == "nik.wrong_length"
    assert error.params == {"got": 3}
    assert str(error) == "nik.wrong_length (got=3)"
