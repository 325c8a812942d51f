"""Eligibility reasons, roster and self-screening (DOMAIN.md §0, §4)."""

from dataclasses import replace
from datetime import date

import pytest

from lingkaran_core.coverage import CoverageResult, CoverageStatus, coverage_status
from lingkaran_core.eligibility import (
    Decision,
    EligibilityResult,
    NextStep,
    OtherMembership,
    Reason,
    RegistrationStatus,
    RosterFacts,
    ScreeningAnswers,
    Tri,
    age_on,
    assess_roster,
    screen,
)

TODAY = date(2026, 11, 25)
KALISAT = "35.09.27.2001"

PROTECTED = coverage_status(start=date(2025, 12, 22), paid_through=date(2026, 12, 1), today=TODAY)
NOT_ENROLLED = coverage_status(start=None, paid_through=None, today=TODAY)


def roster(**changes: object) -> RosterFacts:
    base = RosterFacts(
        birth_date=date(1980, 8, 17),
        desa_code=KALISAT,
        sector="buruh_tani_tembakau",
        registration_status=RegistrationStatus.VERIFIED,
        coverage=PROTECTED,
        dtsen_decile=2,
        deceased=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def answers(**changes: object) -> ScreeningAnswers:
    base = ScreeningAnswers(
        age=46,
        desa_code=KALISAT,
        sector="nelayan_tangkap",
        other_bpjs_tk=Tri.NO,
        in_dtsen=Tri.YES,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def coverage(status: CoverageStatus) -> CoverageResult:
    return CoverageResult(status=status, protected_until=None, unpaid_months=0, reactivate_by=None)


# -- roster ------------------------------------------------------------------------------------


def test_a_verified_protected_worker_is_already_covered() -> None:
    assert assess_roster(roster(), today=TODAY) == EligibilityResult(
        decision=Decision.ELIGIBLE,
        reasons=(Reason.ON_ROSTER_ACTIVE,),
        next_step=NextStep.ALREADY_COVERED,
    )


@pytest.mark.parametrize(
    ("status", "decision", "reason", "step"),
    [
        (
            CoverageStatus.NOT_STARTED,
            Decision.ELIGIBLE,
            Reason.COVERAGE_NOT_STARTED,
            NextStep.WAIT_FOR_COVERAGE_START,
        ),
        (
            CoverageStatus.ARREARS,
            Decision.ELIGIBLE,
            Reason.COVERAGE_ARREARS,
            NextStep.ASK_VILLAGE_FACILITATOR,
        ),
        (
            CoverageStatus.NON_ACTIVE,
            Decision.NEEDS_VERIFICATION,
            Reason.COVERAGE_LAPSED,
            NextStep.ASK_VILLAGE_FACILITATOR,
        ),
        (
            CoverageStatus.NOT_ENROLLED,
            Decision.NEEDS_VERIFICATION,
            Reason.NOT_ENROLLED,
            NextStep.WAIT_FOR_VERIFICATION,
        ),
    ],
)
def test_a_verified_worker_without_protection_gets_the_coverage_reason(
    status: CoverageStatus, decision: Decision, reason: Reason, step: NextStep
) -> None:
    result = assess_roster(roster(coverage=coverage(status)), today=TODAY)
    assert (result.decision, result.reasons, result.next_step) == (decision, (reason,), step)


def test_a_verified_worker_who_turned_66_stays_covered() -> None:
    # DOMAIN.md §4.2: PROBIS lets members registered within the age limit keep paying.
    result = assess_roster(roster(birth_date=date(1960, 1, 1)), today=TODAY)
    assert result.decision is Decision.ELIGIBLE


def test_a_deceased_worker_is_not_eligible_and_heirs_may_claim() -> None:
    result = assess_roster(roster(deceased=True), today=TODAY)
    assert result.decision is Decision.NOT_ELIGIBLE
    assert result.reasons == (Reason.DECEASED,)
    assert result.next_step is NextStep.FILE_DEATH_CLAIM


def test_a_rejected_registration_is_not_eligible() -> None:
    result = assess_roster(roster(registration_status="rejected"), today=TODAY)
    assert result.reasons == (Reason.REGISTRATION_REJECTED,)
    assert result.decision is Decision.NOT_ELIGIBLE
    assert result.next_step is NextStep.ASK_VILLAGE_FACILITATOR


def test_a_pending_registration_that_meets_the_criteria_waits_for_verification() -> None:
    result = assess_roster(
        roster(registration_status="registered", coverage=NOT_ENROLLED), today=TODAY
    )
    assert result == EligibilityResult(
        decision=Decision.NEEDS_VERIFICATION,
        reasons=(Reason.ON_ROSTER_PENDING,),
        next_step=NextStep.WAIT_FOR_VERIFICATION,
    )


def test_a_pending_registration_without_a_dtsen_decile_needs_a_dtsen_check() -> None:
    result = assess_roster(
        roster(registration_status="registered", coverage=NOT_ENROLLED, dtsen_decile=None),
        today=TODAY,
    )
    assert result.decision is Decision.NEEDS_VERIFICATION
    assert result.reasons == (Reason.ON_ROSTER_PENDING, Reason.DTSEN_UNKNOWN)


def test_a_pending_registration_lists_every_failing_reason() -> None:
    result = assess_roster(
        roster(
            registration_status=RegistrationStatus.REGISTERED,
            coverage=NOT_ENROLLED,
            birth_date=date(1950, 1, 1),
            desa_code="35.78.01.1001",
            sector="ojol",
            dtsen_decile=None,
        ),
        today=TODAY,
    )
    assert result.decision is Decision.NOT_ELIGIBLE
    assert result.reasons == (
        Reason.AGE_OVER_LIMIT,
        Reason.OUTSIDE_JEMBER,
        Reason.SECTOR_NOT_IN_PROGRAMME,
        Reason.DTSEN_UNKNOWN,
    )
    assert result.next_step is NextStep.NONE


# -- self-screening ---------------------------------------------------------------------------


def test_a_person_meeting_every_criterion_is_sent_to_the_village_facilitator() -> None:
    assert screen(answers(), today=TODAY) == EligibilityResult(
        decision=Decision.ELIGIBLE, reasons=(), next_step=NextStep.ASK_VILLAGE_FACILITATOR
    )


@pytest.mark.parametrize(
    ("changes", "decision", "reason", "step"),
    [
        # DOMAIN.md §4.2: BPJS TK Jember returns rows with age > 65 [OFF].
        ({"age": 66}, Decision.NOT_ELIGIBLE, Reason.AGE_OVER_LIMIT, NextStep.NONE),
        # DOMAIN.md §4.2: minimum age UNCONFIRMED → only verification.
        (
            {"age": 16},
            Decision.NEEDS_VERIFICATION,
            Reason.AGE_UNDER_LIMIT,
            NextStep.ASK_VILLAGE_FACILITATOR,
        ),
        # DOMAIN.md §4.2: a KTP-Jember requirement is UNCONFIRMED → a check, not a no.
        (
            {"desa_code": None},
            Decision.NEEDS_VERIFICATION,
            Reason.OUTSIDE_JEMBER,
            NextStep.REGISTER_SELF_PAYING,
        ),
        (
            {"desa_code": "35.08.01.2001"},
            Decision.NEEDS_VERIFICATION,
            Reason.OUTSIDE_JEMBER,
            NextStep.REGISTER_SELF_PAYING,
        ),
        # DOMAIN.md §0: Jember also covers perangkat desa, RT/RW, guru PAUD: "Lainnya" is checked.
        (
            {"sector": None},
            Decision.NEEDS_VERIFICATION,
            Reason.SECTOR_NOT_IN_PROGRAMME,
            NextStep.ASK_VILLAGE_FACILITATOR,
        ),
        # DOMAIN.md §0, §4.2, §9: an ACTIVE BPU membership elsewhere → excluded [OFF].
        (
            {"other_bpjs_tk": Tri.YES},
            Decision.NOT_ELIGIBLE,
            Reason.ALREADY_BPU_ELSEWHERE,
            NextStep.ALREADY_COVERED,
        ),
        # DOMAIN.md §9: a lapsed self-payer or an employer-covered worker may still qualify.
        (
            {"other_bpjs_tk": OtherMembership.LAPSED},
            Decision.NEEDS_VERIFICATION,
            Reason.BPU_LAPSED,
            NextStep.ASK_VILLAGE_FACILITATOR,
        ),
        (
            {"other_bpjs_tk": OtherMembership.EMPLOYER},
            Decision.NEEDS_VERIFICATION,
            Reason.EMPLOYER_COVERED,
            NextStep.ASK_VILLAGE_FACILITATOR,
        ),
        (
            {"other_bpjs_tk": Tri.UNKNOWN},
            Decision.NEEDS_VERIFICATION,
            Reason.BPU_MEMBERSHIP_UNKNOWN,
            NextStep.ASK_VILLAGE_FACILITATOR,
        ),
        # DOMAIN.md §0: "pekerja rentan yang terdata dalam DTSEN".
        ({"in_dtsen": Tri.NO}, Decision.NOT_ELIGIBLE, Reason.NOT_IN_DTSEN, NextStep.CHECK_DTSEN),
        (
            {"in_dtsen": Tri.UNKNOWN},
            Decision.NEEDS_VERIFICATION,
            Reason.DTSEN_UNKNOWN,
            NextStep.CHECK_DTSEN,
        ),
    ],
)
def test_each_screening_reason_has_its_decision_and_next_step(
    changes: dict[str, object], decision: Decision, reason: Reason, step: NextStep
) -> None:
    result = screen(answers(**changes), today=TODAY)
    assert (result.decision, result.reasons, result.next_step) == (decision, (reason,), step)


@pytest.mark.parametrize("age", [17, 65])
def test_the_age_limits_are_inclusive(age: int) -> None:
    assert screen(answers(age=age), today=TODAY).decision is Decision.ELIGIBLE


def test_screening_lists_every_failing_reason_not_just_the_first() -> None:
    result = screen(
        answers(
            age=70,
            desa_code=None,
            sector=None,
            other_bpjs_tk=Tri.UNKNOWN,
            in_dtsen=Tri.NO,
        ),
        today=TODAY,
    )
    assert result.decision is Decision.NOT_ELIGIBLE
    assert set(result.reasons) == {
        Reason.AGE_OVER_LIMIT,
        Reason.OUTSIDE_JEMBER,
        Reason.SECTOR_NOT_IN_PROGRAMME,
        Reason.BPU_MEMBERSHIP_UNKNOWN,
        Reason.NOT_IN_DTSEN,
    }


def test_soft_reasons_alone_only_need_verification() -> None:
    result = screen(answers(other_bpjs_tk=Tri.UNKNOWN, in_dtsen=Tri.UNKNOWN), today=TODAY)
    assert result.decision is Decision.NEEDS_VERIFICATION
    assert result.reasons == (Reason.DTSEN_UNKNOWN, Reason.BPU_MEMBERSHIP_UNKNOWN)


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(1980, 11, 25), TODAY, 46),
        (date(1980, 11, 26), TODAY, 45),
        (date(2000, 2, 29), date(2026, 2, 28), 25),
        (date(2000, 2, 29), date(2026, 3, 1), 26),
    ],
)
def test_age_on_counts_completed_years(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age
