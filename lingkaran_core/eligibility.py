"""Eligibility for Lingkaran Cinta: roster assessment and self-screening (DOMAIN.md §0, §4)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from lingkaran_core.coverage import CoverageResult, CoverageStatus
from lingkaran_core.rules import (
    DTSEN_MAX_DECILE,
    EXCLUDE_BPU_ELSEWHERE,
    JEMBER_KABUPATEN_CODE,
    MAX_AGE,
    MIN_AGE,
    SECTOR_CODES,
)

__all__ = [
    "Decision",
    "EligibilityResult",
    "NextStep",
    "OtherMembership",
    "Reason",
    "RegistrationStatus",
    "RosterFacts",
    "ScreeningAnswers",
    "Tri",
    "age_on",
    "assess_roster",
    "screen",
]


class Decision(enum.StrEnum):
    """Overall answer of an eligibility check."""

    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    NEEDS_VERIFICATION = "needs_verification"


class Reason(enum.StrEnum):
    """Why a decision was reached (status facts and every failing rule)."""

    ON_ROSTER_ACTIVE = "on_roster_active"
    ON_ROSTER_PENDING = "on_roster_pending"
    COVERAGE_NOT_STARTED = "coverage_not_started"
    COVERAGE_ARREARS = "coverage_arrears"
    COVERAGE_LAPSED = "coverage_lapsed"
    NOT_ENROLLED = "not_enrolled"
    AGE_OVER_LIMIT = "age_over_limit"
    AGE_UNDER_LIMIT = "age_under_limit"
    OUTSIDE_JEMBER = "outside_jember"
    SECTOR_NOT_IN_PROGRAMME = "sector_not_in_programme"
    ALREADY_BPU_ELSEWHERE = "already_bpu_elsewhere"
    BPU_MEMBERSHIP_UNKNOWN = "bpu_membership_unknown"
    BPU_LAPSED = "bpu_lapsed"  # paid themselves once, stopped: may still qualify
    EMPLOYER_COVERED = "employer_covered"  # covered as a wage worker: may still qualify
    NOT_IN_DTSEN = "not_in_dtsen"
    DTSEN_UNKNOWN = "dtsen_unknown"
    DTSEN_DECILE_ABOVE_CUTOFF = "dtsen_decile_above_cutoff"
    DECEASED = "deceased"
    REGISTRATION_REJECTED = "registration_rejected"


class NextStep(enum.StrEnum):
    """What the person should do next."""

    ALREADY_COVERED = "already_covered"
    ASK_VILLAGE_FACILITATOR = "ask_village_facilitator"
    WAIT_FOR_VERIFICATION = "wait_for_verification"
    WAIT_FOR_COVERAGE_START = "wait_for_coverage_start"
    REGISTER_SELF_PAYING = "register_self_paying"
    CHECK_DTSEN = "check_dtsen"
    FILE_DEATH_CLAIM = "file_death_claim"
    NONE = "none"


class Tri(enum.StrEnum):
    """A yes/no answer that may also be "I don't know"."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class OtherMembership(enum.StrEnum):
    """A BPJS Ketenagakerjaan membership outside the programme (values extend ``Tri``)."""

    YES = "yes"  # an ACTIVE BPU (self-paying) membership elsewhere: excluded (DOMAIN.md §9)
    LAPSED = "lapsed"  # a self-paying membership that stopped
    EMPLOYER = "employer"  # a wage worker's cover through an employer
    NO = "no"
    UNKNOWN = "unknown"


class RegistrationStatus(enum.StrEnum):
    """Where a roster registration stands with the OPD / BPJS TK."""

    REGISTERED = "registered"  # submitted, awaiting verification
    VERIFIED = "verified"
    REJECTED = "rejected"


# Failing reasons that make a person not eligible; every other failing reason only asks for
# verification (their rule is UNCONFIRMED, or the answer was "don't know"). Another occupation
# and a KTP outside Jember have no hard rule in the sources (rules.OTHER_OCCUPATION_NEEDS_CHECK,
# rules.JEMBER_RESIDENCY: UNCONFIRMED), so they need a check, not a no.
_HARD = frozenset(
    {
        Reason.AGE_OVER_LIMIT,
        Reason.ALREADY_BPU_ELSEWHERE,
        Reason.NOT_IN_DTSEN,
        Reason.DTSEN_DECILE_ABOVE_CUTOFF,
        Reason.DECEASED,
        Reason.REGISTRATION_REJECTED,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class EligibilityResult:
    """Decision, every reason behind it, and the suggested next step."""

    decision: Decision
    reasons: tuple[Reason, ...]
    next_step: NextStep


@dataclass(frozen=True, slots=True, kw_only=True)
class RosterFacts:
    """What the roster knows about a worker."""

    birth_date: date
    desa_code: str | None
    sector: str | None
    registration_status: RegistrationStatus | str
    coverage: CoverageResult
    dtsen_decile: int | None
    deceased: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreeningAnswers:
    """Self-screening answers; ``desa_code``/``sector`` None mean outside Jember / other work."""

    age: int
    desa_code: str | None
    sector: str | None
    other_bpjs_tk: Tri | OtherMembership
    in_dtsen: Tri


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day``."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def _is_jember(desa_code: str | None) -> bool:
    return desa_code is not None and desa_code.replace(".", "").startswith(
        JEMBER_KABUPATEN_CODE.replace(".", "")
    )


def _criteria_failures(
    *, age: int, desa_code: str | None, sector: str | None, decile: int | None, in_dtsen: Tri
) -> list[Reason]:
    """The programme criteria shared by roster registration and self-screening."""
    failures: list[Reason] = []
    if age > MAX_AGE:  # DOMAIN.md §4.2: BPJS TK Jember returns rows with age > 65 [OFF]
        failures.append(Reason.AGE_OVER_LIMIT)
    if age < MIN_AGE:  # DOMAIN.md §4.2: minimum age UNCONFIRMED → verification only
        failures.append(Reason.AGE_UNDER_LIMIT)
    if not _is_jember(desa_code):  # DOMAIN.md §4.2: residency likely, KTP rule UNCONFIRMED
        failures.append(Reason.OUTSIDE_JEMBER)
    if sector is None or sector not in SECTOR_CODES:  # DOMAIN.md §0: the 2025 cohorts
        failures.append(Reason.SECTOR_NOT_IN_PROGRAMME)
    # DOMAIN.md §0, §4.3: "pekerja rentan yang terdata dalam DTSEN"; desil cut-off UNCONFIRMED.
    if in_dtsen is Tri.NO:
        failures.append(Reason.NOT_IN_DTSEN)
    elif in_dtsen is Tri.UNKNOWN:
        failures.append(Reason.DTSEN_UNKNOWN)
    elif DTSEN_MAX_DECILE is not None and decile is not None and decile > DTSEN_MAX_DECILE:
        failures.append(Reason.DTSEN_DECILE_ABOVE_CUTOFF)
    return failures


def _failed(failures: list[Reason]) -> EligibilityResult:
    hard = [r for r in failures if r in _HARD]
    decision = Decision.NOT_ELIGIBLE if hard else Decision.NEEDS_VERIFICATION
    return EligibilityResult(
        decision=decision, reasons=tuple(failures), next_step=_next_step_after(failures)
    )


def _next_step_after(failures: list[Reason]) -> NextStep:
    reasons = set(failures)
    if Reason.DECEASED in reasons:
        return NextStep.FILE_DEATH_CLAIM
    if Reason.ALREADY_BPU_ELSEWHERE in reasons:
        return NextStep.ALREADY_COVERED
    if Reason.AGE_OVER_LIMIT in reasons:
        return NextStep.NONE
    if Reason.OUTSIDE_JEMBER in reasons:
        # No desa facilitator to ask: staff check; anyone may join BPU themselves (§4.1).
        return NextStep.REGISTER_SELF_PAYING
    if reasons & {Reason.NOT_IN_DTSEN, Reason.DTSEN_UNKNOWN, Reason.DTSEN_DECILE_ABOVE_CUTOFF}:
        return NextStep.CHECK_DTSEN
    return NextStep.ASK_VILLAGE_FACILITATOR


def assess_roster(worker: RosterFacts, *, today: date) -> EligibilityResult:
    """Assess a worker who is on the roster (registered, verified or rejected)."""
    if worker.deceased:
        return _failed([Reason.DECEASED])
    status = RegistrationStatus(worker.registration_status)
    if status is RegistrationStatus.REJECTED:
        return _failed([Reason.REGISTRATION_REJECTED])
    if status is RegistrationStatus.VERIFIED:
        # The criteria were checked at verification, and a member who was within the age
        # limit when registered may keep paying (DOMAIN.md §4.2, PROBIS page59).
        return _assess_verified(worker.coverage)
    in_dtsen = Tri.UNKNOWN if worker.dtsen_decile is None else Tri.YES
    failures = _criteria_failures(
        age=age_on(worker.birth_date, today),
        desa_code=worker.desa_code,
        sector=worker.sector,
        decile=worker.dtsen_decile,
        in_dtsen=in_dtsen,
    )
    if any(r in _HARD for r in failures):
        return _failed(failures)
    return EligibilityResult(
        decision=Decision.NEEDS_VERIFICATION,
        reasons=(Reason.ON_ROSTER_PENDING, *failures),
        next_step=NextStep.WAIT_FOR_VERIFICATION,
    )


def _assess_verified(coverage: CoverageResult) -> EligibilityResult:
    match coverage.status:
        case CoverageStatus.PROTECTED:
            reasons, step = (Reason.ON_ROSTER_ACTIVE,), NextStep.ALREADY_COVERED
        case CoverageStatus.NOT_STARTED:
            reasons, step = (Reason.COVERAGE_NOT_STARTED,), NextStep.WAIT_FOR_COVERAGE_START
        case CoverageStatus.ARREARS:
            # The Pemkab pays; late budgets cause arrears (DOMAIN.md §1.2), so ask the facilitator.
            reasons, step = (Reason.COVERAGE_ARREARS,), NextStep.ASK_VILLAGE_FACILITATOR
        case CoverageStatus.NON_ACTIVE:
            reasons, step = (Reason.COVERAGE_LAPSED,), NextStep.ASK_VILLAGE_FACILITATOR
        case CoverageStatus.NOT_ENROLLED:
            reasons, step = (Reason.NOT_ENROLLED,), NextStep.WAIT_FOR_VERIFICATION
    decision = Decision.ELIGIBLE
    if coverage.status in (CoverageStatus.NON_ACTIVE, CoverageStatus.NOT_ENROLLED):
        decision = Decision.NEEDS_VERIFICATION
    return EligibilityResult(decision=decision, reasons=reasons, next_step=step)


def screen(answers: ScreeningAnswers, *, today: date) -> EligibilityResult:
    """Self-screening for someone not (yet) on the roster; lists every failing reason."""
    del today  # age is asked directly; kept for a uniform signature and future date rules
    failures = _criteria_failures(
        age=answers.age,
        desa_code=answers.desa_code,
        sector=answers.sector,
        decile=None,
        in_dtsen=answers.in_dtsen,
    )
    # DOMAIN.md §0, §4.2, §9: BPJS TK returns rows already ACTIVE as BPU elsewhere [OFF]; a
    # lapsed self-payer or an employer-covered worker may still qualify (needs a check).
    member = OtherMembership(str(answers.other_bpjs_tk))
    if EXCLUDE_BPU_ELSEWHERE and member is OtherMembership.YES:
        failures.append(Reason.ALREADY_BPU_ELSEWHERE)
    elif member is OtherMembership.LAPSED:
        failures.append(Reason.BPU_LAPSED)
    elif member is OtherMembership.EMPLOYER:
        failures.append(Reason.EMPLOYER_COVERED)
    elif member is OtherMembership.UNKNOWN:
        failures.append(Reason.BPU_MEMBERSHIP_UNKNOWN)
    if failures:
        return _failed(failures)
    # Screening is never a promise: the facilitator registers and the OPD verifies.
    return EligibilityResult(
        decision=Decision.ELIGIBLE, reasons=(), next_step=NextStep.ASK_VILLAGE_FACILITATOR
    )
