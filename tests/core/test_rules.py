"""Programme rules as data (DOMAIN.md §0-§4)."""

import pytest

from lingkaran_core import rules
from lingkaran_core.rules import (
    JKM_BENEFIT,
    RULES,
    SCHOLARSHIP_TIERS,
    SECTOR_CODES,
    SECTORS,
    Confidence,
    Opd,
    SchoolLevel,
    sector,
    unconfirmed_rules,
)


def test_the_sector_codes_are_the_six_cohorts_of_2025() -> None:
    # DOMAIN.md §0
    assert [s.code for s in SECTORS] == [
        "buruh_tani_tembakau",
        "pekerja_sosial_keagamaan",
        "petani_pangan_hortikultura",
        "pekerja_rentan_desa",
        "nelayan_tangkap",
        "pedagang_keliling",
    ]
    assert frozenset(s.code for s in SECTORS) == SECTOR_CODES


def test_the_sector_counts_sum_to_82091_not_the_announced_82093() -> None:
    # DOMAIN.md §0: the published per-sector numbers add up to 82,091.
    assert sum(s.cohort_2025.value for s in SECTORS) == 82_091
    assert rules.COHORT_2025_ANNOUNCED_TOTAL == 82_093


@pytest.mark.parametrize(
    ("code", "count", "opd"),
    [
        ("buruh_tani_tembakau", 40_300, Opd.DISNAKER),
        ("pekerja_sosial_keagamaan", 19_474, Opd.KESRA),
        ("petani_pangan_hortikultura", 10_000, Opd.TPHP),
        ("pekerja_rentan_desa", 9_484, Opd.UNKNOWN),
        ("nelayan_tangkap", 2_000, Opd.UNKNOWN),
        ("pedagang_keliling", 833, Opd.DISKOP_UMKM),
    ],
)
def test_each_sector_has_its_count_and_managing_opd(code: str, count: int, opd: Opd) -> None:
    found = sector(code)
    assert found.cohort_2025.value == count
    assert found.opd.value is opd
    assert (found.opd.confidence is Confidence.UNCONFIRMED) == (opd is Opd.UNKNOWN)


def test_an_unknown_sector_code_raises_key_error() -> None:
    with pytest.raises(KeyError):
        sector("ojol")


def test_the_minimum_contribution_is_16800() -> None:
    # DOMAIN.md §1.1: JKK Rp10,000 + JKM Rp6,800 on an income base of Rp1,000,000.
    assert rules.MONTHLY_CONTRIBUTION == 16_800
    assert rules.JKK_CONTRIBUTION == rules.INCOME_BASE * rules.JKK_RATE_PERCENT // 100


def test_jkm_pays_42_million_in_total() -> None:
    # DOMAIN.md §3.1
    assert JKM_BENEFIT.lump_sum == 20_000_000
    assert JKM_BENEFIT.periodic == 12_000_000
    assert JKM_BENEFIT.funeral == 10_000_000
    assert JKM_BENEFIT.total == 42_000_000


@pytest.mark.parametrize(
    ("income", "lump_sum"),
    [(1_000_000, 48_000_000), (300_000, 20_000_000), (2_000_000, 96_000_000)],
)
def test_jkk_death_is_48_times_income_with_a_20_million_floor(income: int, lump_sum: int) -> None:
    # DOMAIN.md §2.1
    assert rules.JKK_DEATH.lump_sum(income) == lump_sum


@pytest.mark.parametrize(
    ("level", "per_year", "years"),
    [
        (SchoolLevel.TK, 1_500_000, 2),
        (SchoolLevel.SD, 1_500_000, 6),
        (SchoolLevel.SMP, 2_000_000, 3),
        (SchoolLevel.SMA, 3_000_000, 3),
        (SchoolLevel.PT, 12_000_000, 5),
    ],
)
def test_scholarship_tiers_follow_the_table(level: SchoolLevel, per_year: int, years: int) -> None:
    # DOMAIN.md §3.2
    tier = SCHOLARSHIP_TIERS[level]
    assert (tier.per_year, tier.max_years) == (per_year, years)


def test_scholarships_total_about_174_million_for_two_children() -> None:
    # DOMAIN.md §3.2: "Maximum total is about Rp174 jt for 2 children".
    per_child = sum(t.total for t in SCHOLARSHIP_TIERS.values())
    assert per_child * rules.SCHOLARSHIP_MAX_CHILDREN == 174_000_000


def test_the_scholarship_age_limit_is_23_not_19() -> None:
    assert rules.SCHOLARSHIP_MAX_CHILD_AGE == 23


def test_every_rule_has_a_source() -> None:
    assert RULES
    for name, rule in RULES.items():
        assert rule.source.strip(), name


def test_the_rules_without_a_primary_source_are_marked_unconfirmed() -> None:
    unconfirmed = set(unconfirmed_rules())
    assert {
        "min_age",
        "dtsen_max_decile",
        "lapse_unpaid_months",
        "reactivation_window_months",
        "covered_during_arrears",
        "scholarship_school_year_start_month",
        "scholarship_reminder_month",
        "sector.pekerja_rentan_desa.opd",
        "sector.nelayan_tangkap.opd",
    } <= unconfirmed
    assert "max_age" not in unconfirmed


def test_dtsen_has_no_decile_cut_off_until_jember_confirms_one() -> None:
    assert rules.DTSEN_MAX_DECILE is None
    assert rules.NATIONAL_TARGET_MAX_DECILE == 4
