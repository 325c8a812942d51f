"""Claims: state machine, document checklists, deadlines, benefit estimates, references."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Final

from lingkaran_core.coverage import CoverageResult, CoverageStatus, is_national_holiday
from lingkaran_core.errors import IllegalTransition, NotEligible
from lingkaran_core.rules import (
    INCOME_BASE,
    JKK_CLAIM_EXPIRY_YEARS,
    JKK_DEADLINE_ALERT_HOURS_BEFORE,
    JKK_DEATH,
    JKK_REPORT_HOURS,
    JKM_BENEFIT,
    JKM_CLAIM_EXPIRY_YEARS,
    OPD_WORKDAYS,
    SCHOLARSHIP_MAX_CHILD_AGE,
    SCHOLARSHIP_MIN_MEMBERSHIP_YEARS,
    SCHOLARSHIP_TIERS,
    JKMBenefit,
    SchoolLevel,
)

__all__ = [
    "FINAL_STATES",
    "TRANSITIONS",
    "Actor",
    "ChecklistFacts",
    "ClaimStatus",
    "ClaimType",
    "DocKind",
    "HeirRelation",
    "JKKDeathBenefit",
    "JKKStage",
    "JKMBenefit",
    "MasaIur",
    "SchoolLevel",
    "allowed_targets",
    "check_jkm",
    "check_scholarship",
    "check_transition",
    "checklist",
    "claim_expiry",
    "days_left",
    "format_claim_ref",
    "hours_left",
    "is_late",
    "jkk_alert_at",
    "jkk_death_benefit",
    "jkk_report_deadline",
    "jkm_benefit",
    "missing_documents",
    "opd_days_off_between",
    "opd_works_on",
    "parse_claim_ref",
    "scholarship_amount",
    "scholarship_masa_iur",
    "scholarship_total",
]


class ClaimType(enum.StrEnum):
    """Kind of claim filed through the bot."""

    JKK = "JKK"
    JKM = "JKM"
    BEASISWA = "BEASISWA"


class ClaimStatus(enum.StrEnum):
    """Claim state (ARCHITECTURE.md "Claims state machine")."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    DOCUMENTS_REQUESTED = "documents_requested"
    FORWARDED_TO_BPJS = "forwarded_to_bpjs"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Actor(enum.StrEnum):
    """Who moves a claim."""

    CLAIMANT = "claimant"
    ADMIN = "admin"
    SYSTEM = "system"
    FACILITATOR = "facilitator"


_S = ClaimStatus
_REPORTER = frozenset({Actor.CLAIMANT, Actor.FACILITATOR})
_ADMIN = frozenset({Actor.ADMIN})

# ARCHITECTURE.md "Claims state machine", row by row. The claimant or the facilitator who filed
# on their behalf confirms or withdraws; the admin (OPD staff) does review moves and records
# BPJS TK's answers; the system moves documents_requested → in_review when the checklist is
# complete (the admin may do it by hand too).
TRANSITIONS: Final[Mapping[tuple[ClaimStatus, ClaimStatus], frozenset[Actor]]] = MappingProxyType(
    {
        (_S.DRAFT, _S.SUBMITTED): _REPORTER,
        (_S.DRAFT, _S.WITHDRAWN): _REPORTER,
        (_S.SUBMITTED, _S.IN_REVIEW): _ADMIN,
        (_S.SUBMITTED, _S.WITHDRAWN): _REPORTER,
        (_S.IN_REVIEW, _S.DOCUMENTS_REQUESTED): _ADMIN,
        (_S.IN_REVIEW, _S.FORWARDED_TO_BPJS): _ADMIN,
        (_S.IN_REVIEW, _S.REJECTED): _ADMIN,
        (_S.DOCUMENTS_REQUESTED, _S.IN_REVIEW): frozenset({Actor.SYSTEM, Actor.ADMIN}),
        (_S.DOCUMENTS_REQUESTED, _S.WITHDRAWN): _REPORTER,
        (_S.FORWARDED_TO_BPJS, _S.APPROVED): _ADMIN,
        (_S.FORWARDED_TO_BPJS, _S.REJECTED): _ADMIN,
        (_S.FORWARDED_TO_BPJS, _S.DOCUMENTS_REQUESTED): _ADMIN,
        (_S.APPROVED, _S.PAID): _ADMIN,
    }
)
FINAL_STATES: Final[frozenset[ClaimStatus]] = frozenset({_S.PAID, _S.REJECTED, _S.WITHDRAWN})


def allowed_targets(current: ClaimStatus, *, actor: Actor) -> tuple[ClaimStatus, ...]:
    """The states ``actor`` may move a claim to from ``current`` (for building menus)."""
    return tuple(t for (s, t), actors in TRANSITIONS.items() if s is current and actor in actors)


def check_transition(
    current: ClaimStatus, target: ClaimStatus, *, actor: Actor, reason: str | None = None
) -> None:
    """Raise ``IllegalTransition`` unless ``actor`` may move the claim to ``target``."""
    if current in FINAL_STATES:
        raise IllegalTransition("claim.final_state", current=current.value, target=target.value)
    actors = TRANSITIONS.get((current, target))
    if actors is None or actor not in actors:
        raise IllegalTransition(
            "claim.illegal_transition",
            current=current.value,
            target=target.value,
            actor=actor.value,
        )
    if target is ClaimStatus.REJECTED and not (reason and reason.strip()):
        # ARCHITECTURE.md: a rejection always carries a reason for the claimant.
        raise IllegalTransition("claim.reason_required", current=current.value)


# -- Documents (DOMAIN.md §2.6, §3.2, §3.4) ---------------------------------------------------


class DocKind(enum.StrEnum):
    """A document the OPD needs for a claim."""

    KARTU_PESERTA = "kartu_peserta"
    KTP_PARTICIPANT = "ktp_participant"
    KRONOLOGI_SAKSI = "kronologi_saksi"  # chronology + e-KTP copies of 2 witnesses
    LAPORAN_POLISI = "laporan_polisi"
    FORMULIR_KK1 = "formulir_kk1"  # JKK tahap I report (3 KK1)
    FORMULIR_KK2 = "formulir_kk2"  # JKK tahap II claim (3 KK2)
    SURAT_DOKTER = "surat_dokter"  # 3b/KK3 doctor's statement
    KUITANSI = "kuitansi"  # treatment / transport receipts
    BUKU_TABUNGAN = "buku_tabungan"
    NPWP = "npwp"
    AKTA_KEMATIAN = "akta_kematian"
    KTP_HEIR = "ktp_heir"
    KARTU_KELUARGA = "kartu_keluarga"
    SURAT_AHLI_WARIS = "surat_ahli_waris"
    BUKU_NIKAH = "buku_nikah"
    AKTA_KELAHIRAN_ANAK = "akta_kelahiran_anak"
    FORMULIR_BEASISWA = "formulir_beasiswa"
    SURAT_SEKOLAH = "surat_sekolah"  # surat keterangan masih sekolah/kuliah
    RAPOR = "rapor"  # rapor / transkrip
    REKENING = "rekening"  # account of the child or guardian
    KTP_WALI = "ktp_wali"


class HeirRelation(enum.StrEnum):
    """Relation of the heir to the deceased (PP 44/2015 Pasal 40 order, DOMAIN.md §3.3)."""

    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    OTHER = "other"


class JKKStage(enum.IntEnum):
    """The two report stages of a work accident (Permenaker 5/2021 Pasal 19, DOMAIN.md §9)."""

    NOTICE = 1  # tahap I: NIK/KPJ, chronology, contact; within 2×24 h of the accident
    BENEFIT = 2  # tahap II: after the doctor declares recovery, disability or death


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecklistFacts:
    """Facts that make documents required or not."""

    traffic_accident: bool = False
    death: bool = False
    heir_relation: HeirRelation | None = None
    benefit_over_npwp_threshold: bool = False
    # Receipts only where the facility is not a BPJS TK partner, i.e. they paid themselves.
    self_paid_costs: bool = True
    # A JKK report asks only for what exists at its stage; a death has been declared already.
    stage: JKKStage = JKKStage.NOTICE
    # No card exists for someone whose protection had not started or who is not yet verified.
    card_expected: bool = True


_D = DocKind


def _heir_docs(relation: HeirRelation | None) -> list[DocKind]:
    docs = [_D.AKTA_KEMATIAN, _D.KTP_HEIR, _D.KARTU_KELUARGA, _D.SURAT_AHLI_WARIS]
    if relation is HeirRelation.SPOUSE:
        docs.append(_D.BUKU_NIKAH)
    elif relation is HeirRelation.CHILD:
        docs.append(_D.AKTA_KELAHIRAN_ANAK)
    return docs


def checklist(claim_type: ClaimType, facts: ChecklistFacts) -> tuple[DocKind, ...]:
    """The documents required for a claim, in the order to ask for them."""
    docs: list[DocKind]
    card = [_D.KARTU_PESERTA] if facts.card_expected else []
    if claim_type is ClaimType.JKK:
        # DOMAIN.md §2.6, §9: BPU list (BPJS TK site via tribunnews / star.grid), by stage. The
        # tahap I and II forms are filled by the OPD (the wadah) from this report, not photos.
        docs = [*card, _D.KTP_PARTICIPANT, _D.KRONOLOGI_SAKSI]
        if facts.traffic_accident:
            docs.append(_D.LAPORAN_POLISI)  # a police report OR a Jasa Raharja letter
        if facts.death or facts.stage is JKKStage.BENEFIT:
            docs.append(_D.SURAT_DOKTER)  # KK3/3b: exists once the doctor declared the outcome
            if facts.self_paid_costs:
                docs.append(_D.KUITANSI)
            if facts.death:  # a death from a work accident is a JKK claim (DOMAIN.md §3.1)
                docs += _heir_docs(facts.heir_relation)
            docs.append(_D.BUKU_TABUNGAN)
    elif claim_type is ClaimType.JKM:
        # DOMAIN.md §3.4 (plus the heir's account in practice).
        docs = [*card, _D.KTP_PARTICIPANT, *_heir_docs(facts.heir_relation)]
        docs.append(_D.BUKU_TABUNGAN)
    else:
        # DOMAIN.md §3.2: annual scholarship documents.
        docs = [
            _D.FORMULIR_BEASISWA,
            _D.AKTA_KELAHIRAN_ANAK,
            _D.KARTU_KELUARGA,
            _D.SURAT_SEKOLAH,
            _D.RAPOR,
            _D.REKENING,
            _D.KTP_WALI,
        ]
    notice_only = claim_type is ClaimType.JKK and not (
        facts.death or facts.stage is JKKStage.BENEFIT
    )
    if (
        facts.benefit_over_npwp_threshold
        and claim_type is not ClaimType.BEASISWA
        and not notice_only
    ):
        docs.append(_D.NPWP)  # DOMAIN.md §2.6, §3.4: NPWP above Rp50 jt
    return tuple(dict.fromkeys(docs))


def missing_documents(
    required: Iterable[DocKind], received: Iterable[DocKind]
) -> tuple[DocKind, ...]:
    """The required documents not yet received, in checklist order."""
    have = set(received)
    return tuple(d for d in required if d not in have)


# -- Deadlines (DOMAIN.md §2.3, §2.5, §3.5) ---------------------------------------------------


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def jkk_report_deadline(accident_at: datetime) -> datetime:
    """Report deadline for a work accident: 2 × 24 h after it (warn when late, never refuse)."""
    _require_aware(accident_at, "accident_at")
    return accident_at + timedelta(hours=JKK_REPORT_HOURS)


def jkk_alert_at(accident_at: datetime) -> datetime:
    """When to alert that the JKK report deadline is near."""
    return jkk_report_deadline(accident_at) - timedelta(hours=JKK_DEADLINE_ALERT_HOURS_BEFORE)


def opd_works_on(day: date) -> bool:
    """Whether the OPD's office is open on ``day``: a weekday that is no national holiday
    (rules.OPD_WORKDAYS_RULE, UNCONFIRMED: office days not published)."""
    return day.weekday() in OPD_WORKDAYS and not is_national_holiday(day)


def opd_days_off_between(start: datetime, end: datetime, tz: tzinfo) -> bool:
    """Whether a day the OPD does not work falls between ``start`` and ``end`` (local days):
    the 2×24 h count runs through weekends, the office does not."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        if not opd_works_on(day):
            return True
        day += timedelta(days=1)
    return False


def hours_left(deadline: datetime, now: datetime) -> float:
    """Hours from ``now`` to ``deadline`` (negative once it has passed)."""
    _require_aware(deadline, "deadline")
    _require_aware(now, "now")
    return (deadline - now).total_seconds() / 3600


def is_late(deadline: datetime, now: datetime) -> bool:
    """Whether ``now`` is after ``deadline``."""
    return hours_left(deadline, now) < 0


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


def claim_expiry(claim_type: ClaimType, event_date: date) -> date | None:
    """Last day a claim can be filed; None when there is no limit (JKM, annual scholarship)."""
    if claim_type is ClaimType.JKK:
        # DOMAIN.md §2.5: 5 years from the accident (PP 82/2019). Expires on the anniversary.
        return _add_years(event_date, JKK_CLAIM_EXPIRY_YEARS)
    if claim_type is ClaimType.JKM and JKM_CLAIM_EXPIRY_YEARS is not None:
        return _add_years(event_date, JKM_CLAIM_EXPIRY_YEARS)
    return None  # DOMAIN.md §3.5: no time limit for JKM


def days_left(expiry: date, today: date) -> int:
    """Days from ``today`` to ``expiry`` (0 on the day itself, negative after)."""
    return (expiry - today).days


# -- Coverage checks --------------------------------------------------------------------------


def check_jkm(coverage_on_death: CoverageResult) -> None:
    """Raise ``NotEligible`` unless membership was protected on the date of death."""
    # DOMAIN.md §3.5: JKM is paid when the participant died while membership was active; unpaid
    # grace months are not promised cover (§1.2), so arrears also fail here for review.
    if coverage_on_death.status is not CoverageStatus.PROTECTED:
        raise NotEligible("jkm.not_active_on_death", status=coverage_on_death.status.value)


def _full_years(start: date, end: date) -> int:
    before_anniversary = (end.month, end.day) < (start.month, start.day)
    return end.year - start.year - before_anniversary


def check_scholarship(
    *,
    membership_start: date,
    event_date: date,
    route: ClaimType,
    child_birth_date: date | None,
    today: date,
) -> None:
    """Raise ``NotEligible`` when a scholarship cannot be paid (DOMAIN.md §2.1, §3.2)."""
    if route not in (ClaimType.JKK, ClaimType.JKM):
        raise ValueError("a scholarship follows a JKK or JKM event")
    if event_date < membership_start:
        raise NotEligible("beasiswa.event_before_membership")
    years = _full_years(membership_start, event_date)
    # 3 years of membership for a death by JKM; waived when the event is a work accident.
    if route is ClaimType.JKM and years < SCHOLARSHIP_MIN_MEMBERSHIP_YEARS:
        raise NotEligible(
            "beasiswa.membership_too_short", years=years, needed=SCHOLARSHIP_MIN_MEMBERSHIP_YEARS
        )
    if child_birth_date is not None:
        if child_birth_date > today:
            raise NotEligible("beasiswa.child_not_born")
        age = _full_years(child_birth_date, today)
        # Ends when the child turns 23 (the seed's "19" is a probable error, DOMAIN.md §0).
        if age >= SCHOLARSHIP_MAX_CHILD_AGE:
            raise NotEligible("beasiswa.child_too_old", age=age, max_age=SCHOLARSHIP_MAX_CHILD_AGE)


class MasaIur(enum.StrEnum):
    """What the recorded contributions say about the scholarship's 3-year minimum."""

    ENOUGH = "enough"
    SHORT = "short"  # fewer months recorded: earlier memberships may count, staff check
    UNKNOWN = "unknown"  # no recorded history (not on the roster, or no start)
    WAIVED = "waived"  # JKK route: no minimum (DOMAIN.md §2.1)


def scholarship_masa_iur(route: ClaimType, recorded_months: int | None) -> MasaIur:
    """The JKM route needs 3 years of *masa iur* (contributions paid, DOMAIN.md §9). The bot sees
    only the Pemkab's months; a short or unknown history is checked by staff, never refused."""
    if route is ClaimType.JKK:
        return MasaIur.WAIVED
    if recorded_months is None:
        return MasaIur.UNKNOWN
    if recorded_months >= SCHOLARSHIP_MIN_MEMBERSHIP_YEARS * 12:
        return MasaIur.ENOUGH
    return MasaIur.SHORT


# -- Benefit estimates ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class JKKDeathBenefit:
    """Cash benefits for a death from a work accident."""

    lump_sum: int
    funeral: int
    periodic: int

    @property
    def total(self) -> int:
        """All JKK death cash benefits together."""
        return self.lump_sum + self.funeral + self.periodic


def jkm_benefit() -> JKMBenefit:
    """JKM cash benefits (Rp42 jt in total, DOMAIN.md §3.1)."""
    return JKM_BENEFIT


def jkk_death_benefit(monthly_income: int = INCOME_BASE) -> JKKDeathBenefit:
    """JKK death benefits for a declared monthly income (DOMAIN.md §2.1)."""
    return JKKDeathBenefit(
        lump_sum=JKK_DEATH.lump_sum(monthly_income),
        funeral=JKK_DEATH.funeral,
        periodic=JKK_DEATH.periodic,
    )


def scholarship_amount(level: SchoolLevel) -> int:
    """Scholarship per child per year at ``level``."""
    return SCHOLARSHIP_TIERS[level].per_year


def scholarship_total(level: SchoolLevel) -> int:
    """The most one child can receive at ``level`` over all its years."""
    return SCHOLARSHIP_TIERS[level].total


# -- Claim references -------------------------------------------------------------------------

_REF_PREFIX = "LC"
_REF_SEQ_DIGITS = 6
_REF_PATTERN = re.compile(r"(?<![a-z0-9])lc\s*[-/]?\s*(\d{4})\s*[-/]?\s*(\d{1,6})(?!\d)", re.I)


def format_claim_ref(year: int, seq: int) -> str:
    """Human-friendly claim reference, e.g. ``LC-2026-000123``."""
    if not 1000 <= year <= 9999 or not 1 <= seq < 10**_REF_SEQ_DIGITS:
        raise ValueError("year must have 4 digits and seq 1-999999")
    return f"{_REF_PREFIX}-{year:04d}-{seq:0{_REF_SEQ_DIGITS}d}"


def parse_claim_ref(text: str) -> str | None:
    """Find a claim reference in free text ("lc 2026 123") and return it canonical."""
    found = _REF_PATTERN.search(text)
    if found is None:
        return None
    seq = int(found.group(2))
    if seq == 0:
        return None
    return format_claim_ref(int(found.group(1)), seq)
