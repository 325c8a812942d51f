"""Programme rules as data: every value carries its source and a confidence label.

Confidence follows DOMAIN.md: REG (regulation), OFF (official), SND ([2ND], secondary),
UNCONFIRMED (no primary source: check before relying on it), plus POLICY for our own product
choices (reminder cadence, quiet hours), which are not domain facts at all.

Each rule exists twice: ``*_RULE`` (a ``Rule`` with value, source, confidence, for audits and
the bot's "about" answers) and a plain typed constant that code uses without unwrapping.

Why one module over 600 lines: it is a data table, not logic. Each value sits next to its
source, its confidence label and the comment saying why, in the order of DOMAIN.md's sections,
so a reviewer checks the whole programme against the sources in one read; ``RULES`` is built
from this module's own ``*_RULE`` globals, so a rule cannot be left out of the registry by
living in another file. Splitting it would scatter the table without separating concerns.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from types import MappingProxyType
from typing import Final, Generic, TypeVar

__all__ = [
    "JKM_BENEFIT",
    "RULES",
    "SCHOLARSHIP_TIERS",
    "SECTORS",
    "SECTOR_CODES",
    "Confidence",
    "JKKDeathRule",
    "JKMBenefit",
    "Opd",
    "Rule",
    "ScholarshipTier",
    "SchoolLevel",
    "Sector",
    "sector",
    "unconfirmed_rules",
]

T = TypeVar("T")


class Confidence(enum.StrEnum):
    """How well a rule value is sourced (DOMAIN.md header)."""

    REG = "REG"
    OFF = "OFF"
    SND = "2ND"
    UNCONFIRMED = "UNCONFIRMED"
    POLICY = "POLICY"  # our own product decision, not a claim about BPJS TK or the Pemkab


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule(Generic[T]):
    """A rule value with where it comes from and how sure we are."""

    value: T
    source: str
    confidence: Confidence


# -- Sectors of the 2025 cohort ---------------------------------------------------------------


class Opd(enum.StrEnum):
    """Pemkab Jember unit (OPD) that manages a cohort."""

    DISNAKER = "disnaker"
    KESRA = "kesra"
    TPHP = "tphp"
    DISKOP_UMKM = "diskop_umkm"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Sector:
    """A Lingkaran Cinta cohort: code, 2025 head-count and managing OPD."""

    code: str
    cohort_2025: Rule[int]
    opd: Rule[Opd]


_DETIK_TOTALS = "DOMAIN.md §0: detik.com 23 Dec 2025 (Bupati Fawait)"
_OPD_SOURCES = "DOMAIN.md §0: kabarbaik.co; lensanusantara.co.id"

SECTORS: Final[tuple[Sector, ...]] = (
    Sector(
        code="buruh_tani_tembakau",
        cohort_2025=Rule(value=40_300, source=_DETIK_TOTALS, confidence=Confidence.OFF),
        # DBHCHT group (tobacco farm workers and supporting sectors) → Disnaker.
        opd=Rule(value=Opd.DISNAKER, source=_OPD_SOURCES, confidence=Confidence.OFF),
    ),
    Sector(
        code="pekerja_sosial_keagamaan",
        cohort_2025=Rule(value=19_474, source=_DETIK_TOTALS, confidence=Confidence.OFF),
        opd=Rule(value=Opd.KESRA, source=_OPD_SOURCES, confidence=Confidence.OFF),
    ),
    Sector(
        code="petani_pangan_hortikultura",
        cohort_2025=Rule(value=10_000, source=_DETIK_TOTALS, confidence=Confidence.OFF),
        opd=Rule(value=Opd.TPHP, source=_OPD_SOURCES, confidence=Confidence.OFF),
    ),
    Sector(
        code="pekerja_rentan_desa",
        cohort_2025=Rule(value=9_484, source=_DETIK_TOTALS, confidence=Confidence.OFF),
        # UNCONFIRMED: no source names the OPD for the village cohort (Disnaker? DPMD?).
        opd=Rule(
            value=Opd.UNKNOWN,
            source="DOMAIN.md §0/§8.2: not stated",
            confidence=Confidence.UNCONFIRMED,
        ),
    ),
    Sector(
        code="nelayan_tangkap",
        cohort_2025=Rule(value=2_000, source=_DETIK_TOTALS, confidence=Confidence.OFF),
        # UNCONFIRMED: no source names the OPD for fishers.
        opd=Rule(
            value=Opd.UNKNOWN, source="DOMAIN.md §0: not stated", confidence=Confidence.UNCONFIRMED
        ),
    ),
    Sector(
        code="pedagang_keliling",
        # detik only says "ratusan"; 833 is the Aug 2024 Diskop UMKM registration (kumparan).
        cohort_2025=Rule(value=833, source="DOMAIN.md §0: kumparan.com", confidence=Confidence.OFF),
        opd=Rule(value=Opd.DISKOP_UMKM, source=_OPD_SOURCES, confidence=Confidence.OFF),
    ),
)
# The sector counts sum to 82,091; the Bupati's announced total is 82,093 (and BPJS TK Jember
# said 82,078 in Nov 2025). DOMAIN.md §0 notes the gap; we keep the published per-sector numbers.
COHORT_2025_ANNOUNCED_TOTAL_RULE: Final = Rule(
    value=82_093, source=_DETIK_TOTALS, confidence=Confidence.OFF
)
COHORT_2025_ANNOUNCED_TOTAL: Final[int] = COHORT_2025_ANNOUNCED_TOTAL_RULE.value

SECTOR_CODES: Final[frozenset[str]] = frozenset(s.code for s in SECTORS)
_SECTORS_BY_CODE: Final[Mapping[str, Sector]] = MappingProxyType({s.code: s for s in SECTORS})


def sector(code: str) -> Sector:
    """The sector with this code; ``KeyError`` when it is not a programme sector."""
    return _SECTORS_BY_CODE[code]


# -- Contributions (DOMAIN.md §1.1) -----------------------------------------------------------

_STAR_16800 = "DOMAIN.md §1.1: star.grid.id; suara.com (Dirut BPJS TK, 6 Jul 2023)"
INCOME_BASE_RULE: Final = Rule(value=1_000_000, source=_STAR_16800, confidence=Confidence.OFF)
JKK_CONTRIBUTION_RULE: Final = Rule(value=10_000, source=_STAR_16800, confidence=Confidence.OFF)
JKM_CONTRIBUTION_RULE: Final = Rule(value=6_800, source=_STAR_16800, confidence=Confidence.OFF)
# JKK for BPU is 1% of the declared income (PP 44/2015 Lampiran II); brackets UNCONFIRMED.
JKK_RATE_PERCENT_RULE: Final = Rule(
    value=1, source="DOMAIN.md §1.1: PP 44/2015 via PP 50/2025 (CNBC)", confidence=Confidence.REG
)
INCOME_BASE: Final[int] = INCOME_BASE_RULE.value
JKK_CONTRIBUTION: Final[int] = JKK_CONTRIBUTION_RULE.value
JKM_CONTRIBUTION: Final[int] = JKM_CONTRIBUTION_RULE.value
MONTHLY_CONTRIBUTION: Final[int] = JKK_CONTRIBUTION + JKM_CONTRIBUTION  # Rp16,800
JKK_RATE_PERCENT: Final[int] = JKK_RATE_PERCENT_RULE.value
# DOMAIN.md §9: a BPU contribution is due by the 15th of the contribution month (next working
# day if a holiday) [OFF, Kompas via Kontan]: nothing is "unpaid" before then.
CONTRIBUTION_DUE_DAY_RULE: Final = Rule(
    value=15,
    source="DOMAIN.md §9: kontan.co.id (Kompas); next working day if a holiday",
    confidence=Confidence.OFF,
)
CONTRIBUTION_DUE_DAY: Final[int] = CONTRIBUTION_DUE_DAY_RULE.value

# -- JKK benefits (DOMAIN.md §2.1) ------------------------------------------------------------

# JKK covers accidents at or because of work, on the way between home and work, on work errands,
# occupational disease (PAK) and sudden death at work (Permenaker 5/2021).
JKK_SCOPE_RULE: Final = Rule(
    value=("work", "commute", "errand", "pak", "sudden_death"),
    source="DOMAIN.md §2.2: Permenaker 5/2021 (Kemnaker slides)",
    confidence=Confidence.REG,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class JKKDeathRule:
    """JKK death benefit: 48 × income (minimum), funeral and periodic amounts."""

    income_multiplier: int
    minimum: int
    funeral: int
    periodic: int

    def lump_sum(self, monthly_income: int) -> int:
        """Santunan kematian for a declared monthly income."""
        return max(self.income_multiplier * monthly_income, self.minimum)


JKK_DEATH_RULE: Final = Rule(
    value=JKKDeathRule(
        income_multiplier=48, minimum=20_000_000, funeral=10_000_000, periodic=12_000_000
    ),
    source="DOMAIN.md §2.1: star.gridtechno.com ('Source: BPJS Ketenagakerjaan'); DDTC",
    confidence=Confidence.OFF,
)
JKK_DEATH: Final[JKKDeathRule] = JKK_DEATH_RULE.value

_FLIPBUILDER_43 = "DOMAIN.md §2.1: PP 82/2019 via flipbuilder page43"
HOME_CARE_MAX_RULE: Final = Rule(
    value=20_000_000, source="DOMAIN.md §2.1: PP 82/2019 Lampiran III", confidence=Confidence.REG
)
HOME_CARE_MAX: Final[int] = HOME_CARE_MAX_RULE.value
HOME_CARE_MAX_MONTHS: Final[int] = 12


class TransportMode(enum.StrEnum):
    """Transport used to bring the injured worker to care."""

    LAND = "land"  # includes river and lake
    SEA = "sea"
    AIR = "air"


TRANSPORT_CAPS_RULE: Final = Rule(
    value=MappingProxyType(
        {TransportMode.LAND: 5_000_000, TransportMode.SEA: 2_000_000, TransportMode.AIR: 10_000_000}
    ),
    source=_FLIPBUILDER_43,
    confidence=Confidence.OFF,
)
TRANSPORT_CAPS: Final[Mapping[TransportMode, int]] = TRANSPORT_CAPS_RULE.value

# STMB (sementara tidak mampu bekerja): 100% of income for 12 months, then 50% until recovery.
STMB_FULL_MONTHS_RULE: Final = Rule(value=12, source=_FLIPBUILDER_43, confidence=Confidence.OFF)
STMB_FULL_MONTHS: Final[int] = STMB_FULL_MONTHS_RULE.value
STMB_FULL_PERCENT: Final[int] = 100
STMB_AFTER_PERCENT: Final[int] = 50
# Cacat total tetap: 70% × 80 × income (= 56×) plus santunan berkala Rp12 jt (DOMAIN.md §2.1).
TOTAL_DISABILITY_MULTIPLIER_RULE: Final = Rule(
    value=56,
    source="DOMAIN.md §2.1: star.gridtechno.com ('Source: BPJS Ketenagakerjaan')",
    confidence=Confidence.OFF,
)
TOTAL_DISABILITY_MULTIPLIER: Final[int] = TOTAL_DISABILITY_MULTIPLIER_RULE.value

# -- JKM benefits (DOMAIN.md §3.1) ------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class JKMBenefit:
    """JKM cash benefits: lump sum, periodic (paid at once) and funeral."""

    lump_sum: int
    periodic_months: int
    periodic_monthly: int
    funeral: int

    @property
    def periodic(self) -> int:
        """Santunan berkala: 24 × Rp500,000 paid at once."""
        return self.periodic_months * self.periodic_monthly

    @property
    def total(self) -> int:
        """All JKM cash benefits together (Rp42 jt)."""
        return self.lump_sum + self.periodic + self.funeral


JKM_BENEFIT_RULE: Final = Rule(
    value=JKMBenefit(
        lump_sum=20_000_000, periodic_months=24, periodic_monthly=500_000, funeral=10_000_000
    ),
    source="DOMAIN.md §3.1: PP 82/2019; star.grid.id; riau.antaranews.com",
    confidence=Confidence.REG,
)
JKM_BENEFIT: Final[JKMBenefit] = JKM_BENEFIT_RULE.value

# -- Scholarship (DOMAIN.md §3.2) -------------------------------------------------------------


class SchoolLevel(enum.StrEnum):
    """School level of a scholarship child."""

    TK = "tk"
    SD = "sd"
    SMP = "smp"
    SMA = "sma"
    PT = "pt"  # pendidikan tinggi (max S1) or pelatihan


@dataclass(frozen=True, slots=True, kw_only=True)
class ScholarshipTier:
    """Scholarship amount per child per year and the number of years at a level."""

    level: SchoolLevel
    per_year: int
    max_years: int

    @property
    def total(self) -> int:
        """The most one child can receive at this level."""
        return self.per_year * self.max_years


_INDONESIABAIK = "DOMAIN.md §3.2: indonesiabaik.id; cinews.id; detik.com"
SCHOLARSHIP_TIERS_RULE: Final = Rule(
    value=MappingProxyType(
        {
            SchoolLevel.TK: ScholarshipTier(level=SchoolLevel.TK, per_year=1_500_000, max_years=2),
            SchoolLevel.SD: ScholarshipTier(level=SchoolLevel.SD, per_year=1_500_000, max_years=6),
            SchoolLevel.SMP: ScholarshipTier(
                level=SchoolLevel.SMP, per_year=2_000_000, max_years=3
            ),
            SchoolLevel.SMA: ScholarshipTier(
                level=SchoolLevel.SMA, per_year=3_000_000, max_years=3
            ),
            SchoolLevel.PT: ScholarshipTier(level=SchoolLevel.PT, per_year=12_000_000, max_years=5),
        }
    ),
    source=_INDONESIABAIK,
    confidence=Confidence.OFF,
)
SCHOLARSHIP_TIERS: Final[Mapping[SchoolLevel, ScholarshipTier]] = SCHOLARSHIP_TIERS_RULE.value
SCHOLARSHIP_MAX_CHILDREN_RULE: Final = Rule(
    value=2, source=_INDONESIABAIK, confidence=Confidence.OFF
)
SCHOLARSHIP_MAX_CHILDREN: Final[int] = SCHOLARSHIP_MAX_CHILDREN_RULE.value
# The seed article's "up to age 19" is a probable error: every regulation-based source says the
# scholarship ends when the child turns 23, marries or starts work (DOMAIN.md §0, §3.2).
SCHOLARSHIP_MAX_CHILD_AGE_RULE: Final = Rule(
    value=23, source=_INDONESIABAIK, confidence=Confidence.OFF
)
SCHOLARSHIP_MAX_CHILD_AGE: Final[int] = SCHOLARSHIP_MAX_CHILD_AGE_RULE.value
# 3 years of membership for the JKM route (was 5 before PP 82/2019); waived for the JKK route.
# Counted as *masa iur* (contributions paid), earlier memberships included (DOMAIN.md §9).
SCHOLARSHIP_MIN_MEMBERSHIP_YEARS_RULE: Final = Rule(
    value=3,
    source=_INDONESIABAIK + "; §9: masa iur (setkab via Harian Jogja; satujuang)",
    confidence=Confidence.OFF,
)
SCHOLARSHIP_MIN_MEMBERSHIP_YEARS: Final[int] = SCHOLARSHIP_MIN_MEMBERSHIP_YEARS_RULE.value
SCHOLARSHIP_JKK_ROUTE_WAIVES_MINIMUM_RULE: Final = Rule(
    value=True, source="DOMAIN.md §2.1: indonesiabaik.id; Kendal example", confidence=Confidence.OFF
)
# The scholarship is claimed again every year, with the school's letter and the report card.
SCHOLARSHIP_YEARLY_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §3.2: 'claimed every year'; annual documents (radarbanten; cinews)",
    confidence=Confidence.OFF,
)
# UNCONFIRMED: the annual re-application follows the school year (July); the month BPJS TK
# expects it and our June reminder are assumptions.
SCHOLARSHIP_SCHOOL_YEAR_START_MONTH_RULE: Final = Rule(
    value=7,
    source="DOMAIN.md §3.2: 'claimed every year'; month not stated",
    confidence=Confidence.UNCONFIRMED,
)
SCHOLARSHIP_SCHOOL_YEAR_START_MONTH: Final[int] = SCHOLARSHIP_SCHOOL_YEAR_START_MONTH_RULE.value
SCHOLARSHIP_REMINDER_MONTH_RULE: Final = Rule(
    value=6,
    source="product choice: one month before the school year (UNCONFIRMED timing)",
    confidence=Confidence.UNCONFIRMED,
)
SCHOLARSHIP_REMINDER_MONTH: Final[int] = SCHOLARSHIP_REMINDER_MONTH_RULE.value

# -- Deadlines (DOMAIN.md §2.3, §2.5, §3.5) ---------------------------------------------------

# The tahap I notice within 2×24 h is BPJS TK's guidance for BPU (DOMAIN.md §9: tribunnews 2023,
# "Formulir Tahap I ... maksimal 2x24 jam") [OFF]; Permenaker 1/2025 Pasal 8(2) binds employers.
JKK_REPORT_HOURS_RULE: Final = Rule(
    value=48,
    source=(
        "DOMAIN.md §2.3, §9: BPJS TK guidance for BPU (tribunnews 2023); tahap-I form; "
        "Permenaker 1/2025 Pasal 8(2) binds employers"
    ),
    confidence=Confidence.OFF,
)
JKK_REPORT_HOURS: Final[int] = JKK_REPORT_HOURS_RULE.value
# A late report does not by itself forfeit the right; the hard limit is the 5-year expiry
# [2ND legal analysis]. The consequence for a BPU is not documented: the bot only says the late
# report is still recorded and processed, never that it will be paid.
LATE_REPORT_NOT_FORFEITED_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §2.3: ercolaw.com (legal analysis); BPU consequence not stated",
    confidence=Confidence.SND,
)
JKK_CLAIM_EXPIRY_YEARS_RULE: Final = Rule(
    value=5,
    source="DOMAIN.md §2.5: PP 82/2019 amending PP 44/2015 Pasal 26",
    confidence=Confidence.REG,
)
JKK_CLAIM_EXPIRY_YEARS: Final[int] = JKK_CLAIM_EXPIRY_YEARS_RULE.value
# None = no time limit, provided the participant died while membership was active.
JKM_CLAIM_EXPIRY_YEARS_RULE: Final[Rule[int | None]] = Rule(
    value=None,
    source="DOMAIN.md §3.5: BPJS TK Deputi Oni Marbun (Kompas)",
    confidence=Confidence.OFF,
)
JKM_CLAIM_EXPIRY_YEARS: Final[int | None] = JKM_CLAIM_EXPIRY_YEARS_RULE.value
NPWP_THRESHOLD_RULE: Final = Rule(
    value=50_000_000,
    source="DOMAIN.md §2.6, §3.4: tribunnews; star.grid.id",
    confidence=Confidence.OFF,
)
NPWP_THRESHOLD: Final[int] = NPWP_THRESHOLD_RULE.value  # NPWP needed when benefit > this
# JKM documents: the heir's KTP, akta kematian, KK, surat keterangan ahli waris; buku nikah for
# a spouse (DOMAIN.md §3.4, "dikutip dari laman resmi").
JKM_DOCUMENTS_RULE: Final = Rule(
    value=("ktp_heir", "akta_kematian", "kk", "surat_ahli_waris", "buku_nikah_if_spouse"),
    source="DOMAIN.md §3.4: star.grid.id; topikpagi.com ('dikutip dari laman resmi')",
    confidence=Confidence.OFF,
)

# -- Eligibility (DOMAIN.md §4.2, §4.3) -------------------------------------------------------

MAX_AGE_RULE: Final = Rule(
    value=65, source="DOMAIN.md §4.2: BPJS TK Jember verification 2025", confidence=Confidence.OFF
)
MAX_AGE: Final[int] = MAX_AGE_RULE.value
# UNCONFIRMED: 17 is BPJS TK's working-age count of KTP holders, not a stated BPU minimum.
MIN_AGE_RULE: Final = Rule(
    value=17,
    source="DOMAIN.md §4.2: bisnis.com 2017 (potential-participant count)",
    confidence=Confidence.UNCONFIRMED,
)
MIN_AGE: Final[int] = MIN_AGE_RULE.value
# UNCONFIRMED: Jember's desil cut-off is unknown; None = any DTSEN decile ("terdata dalam DTSEN").
DTSEN_MAX_DECILE_RULE: Final[Rule[int | None]] = Rule(
    value=None,
    source="DOMAIN.md §4.3: sources only say 'terdata dalam DTSEN'",
    confidence=Confidence.UNCONFIRMED,
)
DTSEN_MAX_DECILE: Final[int | None] = DTSEN_MAX_DECILE_RULE.value
# The national target for "pekerja rentan" is desil 1-4 (bottom 40%), for context only.
NATIONAL_TARGET_MAX_DECILE_RULE: Final = Rule(
    value=4, source="DOMAIN.md §4.3: perdetiknews; wantimpres.go.id", confidence=Confidence.OFF
)
NATIONAL_TARGET_MAX_DECILE: Final[int] = NATIONAL_TARGET_MAX_DECILE_RULE.value
# The exclusion is an ACTIVE BPU membership elsewhere, not "any BPJS TK membership" (§9).
EXCLUDE_BPU_ELSEWHERE_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §0, §4.2, §9: lensanusantara; kabarrakyat 2025 (active BPU participant)",
    confidence=Confidence.OFF,
)
# A lapsed self-payer, or a wage worker covered by an employer, may still qualify: no source
# says either way (DOMAIN.md §4.2 "UNCONFIRMED", §9 "needs verification").
LAPSED_OR_EMPLOYER_MEMBER_NEEDS_CHECK_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §4.2 (PU + BPU: UNCONFIRMED), §9 (lapsed self-payer: needs verification)",
    confidence=Confidence.UNCONFIRMED,
)
# The programme's cohorts are six sectors (§0), but Jember's coverage also names perangkat desa,
# RT/RW, BPD and guru PAUD (§0 "Coverage scope"): another occupation needs a check, not a no.
OTHER_OCCUPATION_NEEDS_CHECK_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §0: 2025 cohorts; 'Coverage scope' (barathanews 2025); no hard rule",
    confidence=Confidence.UNCONFIRMED,
)
# "DTSEN-listed residents of Jember"; an explicit KTP-Jember requirement is UNCONFIRMED (§4.2).
JEMBER_RESIDENCY_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §4.2: residency likely (selection through village officials)",
    confidence=Confidence.UNCONFIRMED,
)
EXCLUDE_BPU_ELSEWHERE: Final[bool] = EXCLUDE_BPU_ELSEWHERE_RULE.value
JEMBER_KABUPATEN_CODE: Final[str] = "35.09"

# -- Coverage (DOMAIN.md §1.2) ----------------------------------------------------------------

# Enrolment: BPJS TK verifies the OPD's list, the parties sign a PKS, the Bupati issues an SK,
# and protection starts from the SK/PKS: a registration being checked is not protected yet.
PROTECTION_STARTS_AFTER_VERIFICATION_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §0: enrolment pipeline (lensanusantara; kabarrakyat; sekarkijang)",
    confidence=Confidence.OFF,
)
# Protection runs through the months whose contributions are recorded ("sejak tanggal berakhir
# perlindungan"), as the Pemkab's roster records them (§9: say "menurut data Pemkab").
PROTECTED_WHILE_PAID_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §1.2 (PROBIS Perdir 22/2022; perisaiblora FAQ); §9 (the Pemkab data)",
    confidence=Confidence.OFF,
)

# 3 consecutive unpaid months → non-active [OFF]. The details are UNCONFIRMED: whether the cut is
# at the start or end of the third month, and whether unpaid grace months are covered. We model:
# protected through the last paid month; arrears (not protected) for up to 3 unpaid months,
# reactivable by paying before the end of the third; non-active after that.
LAPSE_UNPAID_MONTHS_RULE: Final = Rule(
    value=3,
    source="DOMAIN.md §1.2: perisaiblora FAQ; star.grid; alkhairaat; PROBIS Perdir 22/2022",
    confidence=Confidence.UNCONFIRMED,
)
LAPSE_UNPAID_MONTHS: Final[int] = LAPSE_UNPAID_MONTHS_RULE.value
REACTIVATION_WINDOW_MONTHS_RULE: Final = Rule(
    value=3,
    source="DOMAIN.md §1.2: PROBIS 'maksimal 3 bulan iuran sejak tanggal berakhir perlindungan'",
    confidence=Confidence.UNCONFIRMED,
)
REACTIVATION_WINDOW_MONTHS: Final[int] = REACTIVATION_WINDOW_MONTHS_RULE.value
# Do not promise coverage for unpaid months (DOMAIN.md §1.2 last bullet).
COVERED_DURING_ARREARS_RULE: Final = Rule(
    value=False,
    source="DOMAIN.md §1.2: unpaid-month cover unknown",
    confidence=Confidence.UNCONFIRMED,
)
COVERED_DURING_ARREARS: Final[bool] = COVERED_DURING_ARREARS_RULE.value

# -- Claims as they really run (DOMAIN.md §2.3-§2.6, §3.1-§3.3, §9) -------------------------------

# Coverage on the EVENT date decides the advice (issue 14): only a participant protected on that
# day is told to tell the hospital it is a work accident of a participant and to show the card;
# JKK care is "as medically needed, no cost ceiling" at partner facilities (DOMAIN.md §2.1).
JKK_CARE_AT_PARTNER_HOSPITAL_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §2.1: PP 82/2019 Lampiran III; bali.tribunnews.com 2021",
    confidence=Confidence.REG,
)
# Tahap I, the notice: NIK or KPJ, the chronology (place, cause, date and time) and a contact's
# name and phone (Permenaker 1/2025 Pasal 48A (2); Permenaker 5/2021 Pasal 19).
JKK_TAHAP_I_CONTENT_RULE: Final = Rule(
    value=("nik_or_kpj", "chronology", "contact"),
    source="DOMAIN.md §2.4, §9: Permenaker 1/2025 Pasal 48A; Permenaker 5/2021 Pasal 19",
    confidence=Confidence.REG,
)
# For a BPU the wadah (the Pemkab as funder), a union or the treating health facility notify.
BPU_NOTIFIERS_RULE: Final = Rule(
    value=("wadah", "union", "health_facility"),
    source="DOMAIN.md §2.4, §9: Permenaker 1/2025 Pasal 48A",
    confidence=Confidence.REG,
)
# The tahap I form goes to the BPJS TK branch or a PLKK within 2×24 h; the 175 call centre.
PLKK_ROUTE_RULE: Final = Rule(
    value=("plkk", "175"),
    source="DOMAIN.md §2.3, §7.1: tribunnews 2023 (bpjsketenagakerjaan.go.id); perisaiblora FAQ",
    confidence=Confidence.OFF,
)
# Tahap II, the benefit claim: within 2×24 h after the doctor declares recovery, disability or
# death, with the doctor's letter (KK3/3b) and receipts. Its documents do not exist before.
JKK_TAHAP_II_RULE: Final = Rule(
    value=48,
    source="DOMAIN.md §2.6, §9: Permenaker 1/2025 Pasal 19(3); tribunnews 2023",
    confidence=Confidence.REG,
)
# Receipts only where the facility is not a BPJS TK partner (DOMAIN.md §2.6, §9) [OFF].
RECEIPTS_ONLY_OFF_PARTNER_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §2.6, §9: Permenaker 1/2025 Pasal 19(3); tribunnews 2023",
    confidence=Confidence.OFF,
)
# A traffic accident: a police report OR a Jasa Raharja guarantee letter [2ND checklist].
TRAFFIC_POLICE_OR_JASA_RAHARJA_RULE: Final = Rule(
    value=("laporan_polisi", "jasa_raharja"),
    source="DOMAIN.md §9: secondary checklists; §2.6 police report (tribunnews, star.grid)",
    confidence=Confidence.SND,
)
# Sudden death caused by work, and a death on a work errand, are work accidents (JKK), extended
# to BPU (Permenaker 5/2021 Pasal 7(2); Kemnaker and Riau BPJS TK slides).
SUDDEN_DEATH_AT_WORK_IS_JKK_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §2.2, §9: Permenaker 5/2021 Pasal 7(2) (Kemnaker, Riau BPJS TK slides)",
    confidence=Confidence.REG,
)
# BPJS TK decides work accident or not within 30 days of the tahap I report (PP 49/2023 Pasal
# 25A), a secondary summary of the regulation.
JKK_DECISION_DAYS_RULE: Final = Rule(
    value=30,
    source="DOMAIN.md §1.3: PP 49/2023 Pasal 25A (ptgasi.co.id; pasal.id summary)",
    confidence=Confidence.SND,
)
JKK_DECISION_DAYS: Final[int] = JKK_DECISION_DAYS_RULE.value
# JKM is paid within 3 working days of a complete file, 1 %/day compensation if late.
JKM_PAYMENT_WORKING_DAYS_RULE: Final = Rule(
    value=3,
    source="DOMAIN.md §3.1, §9: PP 44/2015 Pasal 40(3)-(4) (perisaiblora copy)",
    confidence=Confidence.REG,
)
JKM_PAYMENT_WORKING_DAYS: Final[int] = JKM_PAYMENT_WORKING_DAYS_RULE.value
# The Pemkab forwards a report to BPJS TK; BPJS TK decides and pays (ARCHITECTURE.md: "a report
# to the bot is not yet a report to BPJS TK"; DOMAIN.md §2.4 the wadah notifies).
BPJS_DECIDES_AND_PAYS_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §2.4, §3.1, §9 (the wadah forwards; BPJS TK pays); ARCHITECTURE.md",
    confidence=Confidence.REG,
)
# PP 44/2015 Pasal 40: spouse/children; then parents, grandchildren, grandparents; siblings;
# parents-in-law; the heir named in a will; without one, the funeral cost goes to whoever
# arranged the funeral (the rest to the Dana Jaminan Sosial).
HEIRS_ORDER_RULE: Final = Rule(
    value=("spouse_or_child", "line_2nd_degree", "sibling", "parent_in_law", "will", "fallback"),
    source="DOMAIN.md §3.3, §9: PP 44/2015 Pasal 40 (perisaiblora; Permenaker 44/2015 Pasal 19)",
    confidence=Confidence.REG,
)
# A child not yet at school can be recorded now; the scholarship is paid when schooling starts.
SCHOLARSHIP_BEFORE_SCHOOL_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §3.2, §9: indonesiabaik.id ('receives it when reaching school age')",
    confidence=Confidence.OFF,
)
# The OPD works on weekdays (issue 14); its hours are not published: a reporter is told the
# 2×24 h may run over a weekend and given the PLKK / 175 route.
OPD_WORKDAYS_RULE: Final = Rule(
    value=(0, 1, 2, 3, 4),
    source="issue 14 ('the OPD works weekdays'); office hours not published",
    confidence=Confidence.UNCONFIRMED,
)
OPD_WORKDAYS: Final[tuple[int, ...]] = OPD_WORKDAYS_RULE.value

# -- Reminders and outbound messages (ARCHITECTURE.md; product policy) ------------------------

_ARCH = "ARCHITECTURE.md: Reminders and outbound messages"
MISSING_DOCS_REMINDER_DAYS_RULE: Final = Rule(
    value=(3, 7, 14), source=_ARCH, confidence=Confidence.POLICY
)
MISSING_DOCS_REMINDER_DAYS: Final[tuple[int, ...]] = MISSING_DOCS_REMINDER_DAYS_RULE.value
COVERAGE_ENDING_REMINDER_DAYS_RULE: Final = Rule(
    value=(7,), source=_ARCH, confidence=Confidence.POLICY
)
COVERAGE_ENDING_REMINDER_DAYS: Final[tuple[int, ...]] = COVERAGE_ENDING_REMINDER_DAYS_RULE.value
JKK_DEADLINE_ALERT_HOURS_BEFORE_RULE: Final = Rule(
    value=12, source=_ARCH, confidence=Confidence.POLICY
)
JKK_DEADLINE_ALERT_HOURS_BEFORE: Final[int] = JKK_DEADLINE_ALERT_HOURS_BEFORE_RULE.value
QUIET_HOURS_RULE: Final = Rule(
    value=(time(21, 0), time(7, 0)),
    source=_ARCH + " (21:00-07:00 WIB)",
    confidence=Confidence.POLICY,
)
QUIET_HOURS_START: Final[time] = QUIET_HOURS_RULE.value[0]
QUIET_HOURS_END: Final[time] = QUIET_HOURS_RULE.value[1]

# -- Funding periods and self-paying (DOMAIN.md §9) -------------------------------------------
# Our own staff promise (handlers/handover.py): officers answer on weekdays 08:00-15:00 WIB,
# usually within 2 working days. A product choice, not a programme rule.
STAFF_REPLY_RULE: Final = Rule(
    value=((0, 1, 2, 3, 4), (8, 15), 2),
    source="handlers/handover.py OFFICE_DAYS, OFFICE_HOURS, ANSWER_WITHIN_WORKING_DAYS; policy",
    confidence=Confidence.POLICY,
)
# This service never asks for money, a PIN, an OTP or a password, and registering for the
# programme costs nothing: the Pemkab pays (DOMAIN.md §0) and scams ask for money (§7.1).
SERVICE_FREE_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §0 (the Pemkab pays the contributions), §7.1 (scam pattern); policy",
    confidence=Confidence.POLICY,
)
# Official BPJS TK services (branch, 175, the website, BPU registration) charge nothing; a
# "BPJS TK bot" charging for services is a scam pattern (DOMAIN.md §7.1).
OFFICIAL_SERVICES_FREE_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §7.1: official channels; scam pattern ('official BPJS services are free')",
    confidence=Confidence.SND,
)
# Health insurance (KIS / BPJS Kesehatan) is another body: PANDAWA WhatsApp 0811-8-165-165,
# weekdays 08:00-15:00; Mobile JKN (DOMAIN.md §7.2).
BPJS_KESEHATAN_CHANNELS_RULE: Final = Rule(
    value=("0811-8-165-165", (8, 15)),
    source="DOMAIN.md §7.2: PANDAWA (Kompas 28 Nov 2020; doctortool; kediripost)",
    confidence=Confidence.OFF,
)


# The Pemkab pays in budget periods (an SK per period), never "from December 2025 on": texts
# promise nothing beyond a funded period the data knows (lingkaran_core.funding).
FUNDING_IN_PERIODS_RULE: Final = Rule(
    value=True,
    source=(
        "DOMAIN.md §9: jatimberita 2022; ketik.co.id, swanara 2023; iNews 2024; "
        "SK Bupati 26 Jun 2025"
    ),
    confidence=Confidence.SND,
)
# PP 50/2025: self-paying BPU pay half, Rp16,800 -> Rp8,400 a month (non-transport sectors
# Apr-Dec 2026); APBD-paid BPU are not concerned while funded.
SELF_PAY_MONTHLY_2026_RULE: Final = Rule(
    value=8_400,
    source="DOMAIN.md §9: PP 50/2025 (CNBC 4 Feb 2026; Antara Jateng; branch heads)",
    confidence=Confidence.REG,
)
SELF_PAY_MONTHLY_2026: Final[int] = SELF_PAY_MONTHLY_2026_RULE.value
# The roster is the Pemkab's: the official checks are the JMO app and the 175 call centre.
OFFICIAL_CHECKS_RULE: Final = Rule(
    value=("JMO", "175"),
    source="DOMAIN.md §9: 'The bot's data is the Pemkab's'",
    confidence=Confidence.OFF,
)

# The programme pays the BPJS TK JKK + JKM contributions of DTSEN-listed workers (§0); while a
# period is funded, the participant pays nothing.
PEMKAB_PAYS_CONTRIBUTIONS_RULE: Final = Rule(
    value=True,
    source="DOMAIN.md §0: bmw-info.org; jembertoday.net; detik.com 23 Dec 2025",
    confidence=Confidence.OFF,
)

# -- Identity and abuse limits (issue 20) -------------------------------------------------------

# The date of birth is NOT a second factor: digits 7-12 of the NIK are DDMMYY (women DD+40), so
# "NIK + date of birth" is one secret that anyone holding the NIK has (DOMAIN.md §5.1; it matched
# 82,091 of 82,091 demo workers). A chat is linked only with a factor the NIK does not contain,
# in this order: (a) the roster phone proven by the channel (WhatsApp sender; a Telegram contact
# whose user_id is the sender), (b) a one-time code to the roster phone (not built yet), (c) the
# KPJ on the card or the KK number, (d) the village facilitator confirming in person.
LINK_FACTORS_RULE: Final = Rule(
    value=("channel_phone", "kpj", "kk", "facilitator"),
    source="DOMAIN.md §5.1 (NIK digits 7-12 = birth date); issue 20; policy",
    confidence=Confidence.POLICY,
)
# Recycled prepaid numbers (ARCHITECTURE.md: "Indonesian prepaid numbers are recycled"): a link
# quiet this long needs a fresh verification. Setting to add: LINGKARAN_LINK_INACTIVITY_DAYS.
LINK_INACTIVITY_DAYS_RULE: Final = Rule(
    value=180, source="issue 20 (e.g. 180 days); policy", confidence=Confidence.POLICY
)
LINK_INACTIVITY_DAYS: Final[int] = LINK_INACTIVITY_DAYS_RULE.value
# Failed link attempts: 5 per key (chat, channel identity, NIK) lock it for 30 min, doubling on
# repeats up to a cap; forgotten after a day. A NIK's lock never blocks factors (a) or (d).
LINK_LOCKOUT_RULE: Final = Rule(
    value=(5, 30, 24 * 60),  # failures, first lock-out minutes, cap minutes
    source="issue 20; policy",
    confidence=Confidence.POLICY,
)
# One phone, a whole household (issue 22): verified links one chat may hold at most. A worker of
# another household (no shared KK or roster phone with the chat's links) links only through a
# factor that worker controls: the own roster phone, a code sent to it, the KPJ card or the
# facilitator in person; the KK number, which the whole family holds, does not count for them.
# Setting: LINGKARAN_MAX_LINKS_PER_CHAT.
MAX_LINKS_PER_CHAT_RULE: Final = Rule(
    value=6, source="issue 22 (e.g. 6); policy", confidence=Confidence.POLICY
)
MAX_LINKS_PER_CHAT: Final[int] = MAX_LINKS_PER_CHAT_RULE.value
# Days the facilitator code a pending chat shows stays valid.
LINK_DESK_CODE_DAYS_RULE: Final = Rule(value=3, source="policy", confidence=Confidence.POLICY)
# Abuse limits per hour: new reports per chat / per NIK, tickets per chat, files per chat and per
# claim, megabytes per chat. A facilitator's desk has the higher chat limit for reports.
ABUSE_LIMITS_RULE: Final = Rule(
    value={
        "claims_per_chat": 5,
        "claims_per_chat_facilitator": 30,
        "claims_per_nik": 3,
        "tickets_per_chat": 5,
        "uploads_per_chat": 30,
        "uploads_per_claim": 20,
        "upload_mb_per_chat": 60,
        "jkk_alerts_before_batch": 2,
    },
    source="issue 20 (30 claims in 0.12 s from one chat); policy",
    confidence=Confidence.POLICY,
)


# -- Registry ---------------------------------------------------------------------------------

RULES: Final[Mapping[str, Rule[object]]] = MappingProxyType(
    {
        name.removesuffix("_RULE").lower(): value
        for name, value in sorted(globals().items())
        if name.endswith("_RULE") and isinstance(value, Rule)
    }
)


def unconfirmed_rules() -> tuple[str, ...]:
    """Names of every rule (and sector field) marked UNCONFIRMED, for reviews and tests."""
    names = [name for name, rule in RULES.items() if rule.confidence is Confidence.UNCONFIRMED]
    for s in SECTORS:
        for field_name, rule in (("cohort_2025", s.cohort_2025), ("opd", s.opd)):
            if rule.confidence is Confidence.UNCONFIRMED:
                names.append(f"sector.{s.code}.{field_name}")
    return tuple(names)
