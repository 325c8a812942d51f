"""Claims: state machine, checklists, deadlines, benefits, references (DOMAIN.md §2, §3)."""

import itertools
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from lingkaran_core.claims import (
    FINAL_STATES,
    TRANSITIONS,
    Actor,
    ChecklistFacts,
    ClaimStatus,
    ClaimType,
    DocKind,
    HeirRelation,
    JKKStage,
    allowed_targets,
    check_jkm,
    check_scholarship,
    check_transition,
    checklist,
    claim_expiry,
    days_left,
    format_claim_ref,
    hours_left,
    is_late,
    jkk_alert_at,
    jkk_death_benefit,
    jkk_report_deadline,
    jkm_benefit,
    missing_documents,
    parse_claim_ref,
    scholarship_amount,
    scholarship_total,
)
from lingkaran_core.coverage import CoverageResult, CoverageStatus
from lingkaran_core.errors import IllegalTransition, NotEligible
from lingkaran_core.rules import SchoolLevel

TODAY = date(2026, 11, 25)
WIB = timezone(timedelta(hours=7), "WIB")

S = ClaimStatus
C, AD, SY, F = Actor.CLAIMANT, Actor.ADMIN, Actor.SYSTEM, Actor.FACILITATOR

# ARCHITECTURE.md "Claims state machine", written out independently of the code.
EXPECTED_ALLOWED = {
    (S.DRAFT, S.SUBMITTED): {C, F},
    (S.DRAFT, S.WITHDRAWN): {C, F},
    (S.SUBMITTED, S.IN_REVIEW): {AD},
    (S.SUBMITTED, S.WITHDRAWN): {C, F},
    (S.IN_REVIEW, S.DOCUMENTS_REQUESTED): {AD},
    (S.IN_REVIEW, S.FORWARDED_TO_BPJS): {AD},
    (S.IN_REVIEW, S.REJECTED): {AD},
    (S.DOCUMENTS_REQUESTED, S.IN_REVIEW): {SY, AD},
    (S.DOCUMENTS_REQUESTED, S.WITHDRAWN): {C, F},
    (S.FORWARDED_TO_BPJS, S.APPROVED): {AD},
    (S.FORWARDED_TO_BPJS, S.REJECTED): {AD},
    (S.FORWARDED_TO_BPJS, S.DOCUMENTS_REQUESTED): {AD},
    (S.APPROVED, S.PAID): {AD},
}
ALL_MOVES = list(itertools.product(ClaimStatus, ClaimStatus, Actor))
ALLOWED_MOVES = [m for m in ALL_MOVES if m[2] in EXPECTED_ALLOWED.get((m[0], m[1]), set())]
FORBIDDEN_MOVES = [m for m in ALL_MOVES if m not in ALLOWED_MOVES]


def test_the_transition_table_matches_the_architecture() -> None:
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED_ALLOWED
    assert {S.PAID, S.REJECTED, S.WITHDRAWN} == FINAL_STATES


@pytest.mark.parametrize(("current", "target", "actor"), ALLOWED_MOVES)
def test_every_allowed_transition_passes(
    current: ClaimStatus, target: ClaimStatus, actor: Actor
) -> None:
    check_transition(current, target, actor=actor, reason="dokumen palsu")


@pytest.mark.parametrize(("current", "target", "actor"), FORBIDDEN_MOVES)
def test_every_forbidden_transition_is_refused(
    current: ClaimStatus, target: ClaimStatus, actor: Actor
) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(current, target, actor=actor, reason="alasan")
    expected = "claim.final_state" if current in FINAL_STATES else "claim.illegal_transition"
    assert caught.value.code == expected
    assert caught.value.params["current"] == current.value


@pytest.mark.parametrize("current", [S.IN_REVIEW, S.FORWARDED_TO_BPJS])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_rejection_needs_a_reason(current: ClaimStatus, reason: str | None) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(current, S.REJECTED, actor=AD, reason=reason)
    assert caught.value.code == "claim.reason_required"


def test_allowed_targets_builds_the_menu_of_an_actor() -> None:
    assert allowed_targets(S.IN_REVIEW, actor=AD) == (
        S.DOCUMENTS_REQUESTED,
        S.FORWARDED_TO_BPJS,
        S.REJECTED,
    )
    assert allowed_targets(S.DOCUMENTS_REQUESTED, actor=C) == (S.WITHDRAWN,)
    assert allowed_targets(S.PAID, actor=AD) == ()


def test_claim_enum_values_are_the_persisted_codes() -> None:
    assert [t.value for t in ClaimType] == ["JKK", "JKM", "BEASISWA"]
    assert S.DOCUMENTS_REQUESTED == "documents_requested"


# -- checklists -------------------------------------------------------------------------------

D = DocKind


def test_a_jkk_report_asks_only_for_what_exists_at_tahap_one() -> None:
    # DOMAIN.md §2.6, §9: tahap I is the notice; the doctor's letter, receipts and the account
    # belong to tahap II, after the doctor declares recovery, disability or death.
    assert checklist(ClaimType.JKK, ChecklistFacts()) == (
        D.KARTU_PESERTA,
        D.KTP_PARTICIPANT,
        D.KRONOLOGI_SAKSI,
    )


def test_tahap_two_adds_the_doctors_letter_receipts_and_the_account() -> None:
    assert checklist(ClaimType.JKK, ChecklistFacts(stage=JKKStage.BENEFIT)) == (
        D.KARTU_PESERTA,
        D.KTP_PARTICIPANT,
        D.KRONOLOGI_SAKSI,
        D.SURAT_DOKTER,
        D.KUITANSI,
        D.BUKU_TABUNGAN,
    )
    # Receipts only where the facility is not a partner (the worker paid).
    assert D.KUITANSI not in checklist(
        ClaimType.JKK, ChecklistFacts(stage=JKKStage.BENEFIT, self_paid_costs=False)
    )


def test_no_card_is_asked_for_someone_who_cannot_have_one() -> None:
    assert D.KARTU_PESERTA not in checklist(ClaimType.JKK, ChecklistFacts(card_expected=False))
    assert D.KARTU_PESERTA not in checklist(ClaimType.JKM, ChecklistFacts(card_expected=False))


@pytest.mark.parametrize(
    ("claim_type", "facts", "present", "absent"),
    [
        # DOMAIN.md §2.6: police report only for traffic accidents.
        (ClaimType.JKK, ChecklistFacts(traffic_accident=True), {D.LAPORAN_POLISI}, set()),
        (ClaimType.JKK, ChecklistFacts(), set(), {D.LAPORAN_POLISI, D.AKTA_KEMATIAN}),
        # Receipts only when costs were paid by the worker.
        (ClaimType.JKK, ChecklistFacts(self_paid_costs=False), set(), {D.KUITANSI}),
        # DOMAIN.md §2.6, §3.4: NPWP above Rp50 jt (with the benefit claim, tahap II).
        (
            ClaimType.JKK,
            ChecklistFacts(benefit_over_npwp_threshold=True, stage=JKKStage.BENEFIT),
            {D.NPWP},
            set(),
        ),
        (ClaimType.JKK, ChecklistFacts(benefit_over_npwp_threshold=True), set(), {D.NPWP}),
        (ClaimType.JKM, ChecklistFacts(benefit_over_npwp_threshold=True), {D.NPWP}, set()),
        (ClaimType.JKM, ChecklistFacts(), set(), {D.NPWP}),
        # A death from a work accident is a JKK claim with heir documents.
        (
            ClaimType.JKK,
            ChecklistFacts(death=True, heir_relation=HeirRelation.SPOUSE),
            {D.AKTA_KEMATIAN, D.KTP_HEIR, D.KARTU_KELUARGA, D.SURAT_AHLI_WARIS, D.BUKU_NIKAH},
            {D.AKTA_KELAHIRAN_ANAK},
        ),
        # DOMAIN.md §3.4: buku nikah only for a spouse heir.
        (
            ClaimType.JKM,
            ChecklistFacts(death=True, heir_relation=HeirRelation.SPOUSE),
            {D.BUKU_NIKAH, D.AKTA_KEMATIAN, D.SURAT_AHLI_WARIS},
            {D.AKTA_KELAHIRAN_ANAK, D.KRONOLOGI_SAKSI},
        ),
        (
            ClaimType.JKM,
            ChecklistFacts(death=True, heir_relation=HeirRelation.CHILD),
            {D.AKTA_KELAHIRAN_ANAK},
            {D.BUKU_NIKAH},
        ),
        (
            ClaimType.JKM,
            ChecklistFacts(heir_relation=HeirRelation.PARENT),
            {D.KTP_HEIR},
            {D.BUKU_NIKAH, D.AKTA_KELAHIRAN_ANAK},
        ),
        # DOMAIN.md §3.2: annual scholarship documents.
        (
            ClaimType.BEASISWA,
            ChecklistFacts(benefit_over_npwp_threshold=True),
            {D.FORMULIR_BEASISWA, D.SURAT_SEKOLAH, D.RAPOR, D.REKENING, D.KTP_WALI},
            {D.NPWP, D.KARTU_PESERTA},
        ),
    ],
)
def test_checklists_are_conditional(
    claim_type: ClaimType,
    facts: ChecklistFacts,
    present: set[DocKind],
    absent: set[DocKind],
) -> None:
    docs = checklist(claim_type, facts)
    assert present <= set(docs)
    assert not absent & set(docs)
    assert len(docs) == len(set(docs))


def test_missing_documents_keeps_the_checklist_order() -> None:
    required = checklist(ClaimType.JKM, ChecklistFacts(heir_relation=HeirRelation.SPOUSE))
    received = [D.BUKU_NIKAH, D.KARTU_PESERTA, D.NPWP]
    missing = missing_documents(required, received)
    assert missing == tuple(d for d in required if d not in {D.BUKU_NIKAH, D.KARTU_PESERTA})
    assert missing_documents(required, required) == ()


# -- deadlines --------------------------------------------------------------------------------


def test_the_jkk_report_deadline_is_48_hours_after_the_accident() -> None:
    # DOMAIN.md §2.3: 2 × 24 h.
    accident = datetime(2026, 11, 24, 16, 30, tzinfo=WIB)
    deadline = jkk_report_deadline(accident)
    assert deadline == datetime(2026, 11, 26, 16, 30, tzinfo=WIB)
    assert jkk_alert_at(accident) == datetime(2026, 11, 26, 4, 30, tzinfo=WIB)


@pytest.mark.parametrize(
    ("now", "left", "late"),
    [
        (datetime(2026, 11, 24, 16, 30, tzinfo=WIB), 48.0, False),
        (datetime(2026, 11, 26, 16, 30, tzinfo=WIB), 0.0, False),
        (datetime(2026, 11, 26, 9, 31, tzinfo=UTC), -1 / 60, True),
        (datetime(2026, 11, 27, 16, 30, tzinfo=WIB), -24.0, True),
    ],
)
def test_hours_left_and_lateness(now: datetime, left: float, late: bool) -> None:
    deadline = jkk_report_deadline(datetime(2026, 11, 24, 16, 30, tzinfo=WIB))
    assert hours_left(deadline, now) == pytest.approx(left)
    assert is_late(deadline, now) is late


def test_naive_datetimes_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        jkk_report_deadline(datetime(2026, 11, 24, 16, 30))


@pytest.mark.parametrize(
    ("claim_type", "event", "expiry"),
    [
        # DOMAIN.md §2.5: 5 years (PP 82/2019).
        (ClaimType.JKK, date(2026, 11, 25), date(2031, 11, 25)),
        (ClaimType.JKK, date(2024, 2, 29), date(2029, 2, 28)),
        # DOMAIN.md §3.5: no limit for JKM.
        (ClaimType.JKM, date(2026, 11, 25), None),
        (ClaimType.BEASISWA, date(2026, 11, 25), None),
    ],
)
def test_claim_expiry(claim_type: ClaimType, event: date, expiry: date | None) -> None:
    assert claim_expiry(claim_type, event) == expiry


def test_days_left_counts_to_the_expiry_day() -> None:
    assert days_left(date(2026, 11, 30), TODAY) == 5
    assert days_left(TODAY, TODAY) == 0
    assert days_left(date(2026, 11, 24), TODAY) == -1


# -- coverage checks --------------------------------------------------------------------------


def _coverage(status: CoverageStatus) -> CoverageResult:
    return CoverageResult(status=status, protected_until=None, unpaid_months=0, reactivate_by=None)


def test_jkm_passes_when_protected_on_the_day_of_death() -> None:
    check_jkm(_coverage(CoverageStatus.PROTECTED))


@pytest.mark.parametrize("status", [s for s in CoverageStatus if s is not CoverageStatus.PROTECTED])
def test_jkm_needs_active_membership_on_the_day_of_death(status: CoverageStatus) -> None:
    with pytest.raises(NotEligible) as caught:
        check_jkm(_coverage(status))
    assert caught.value.code == "jkm.not_active_on_death"
    assert caught.value.params == {"status": status.value}


def test_a_jkm_scholarship_needs_three_years_of_membership() -> None:
    # DOMAIN.md §3.2
    with pytest.raises(NotEligible) as caught:
        check_scholarship(
            membership_start=date(2024, 1, 1),
            event_date=date(2026, 12, 31),
            route=ClaimType.JKM,
            child_birth_date=date(2015, 1, 1),
            today=TODAY,
        )
    assert caught.value.code == "beasiswa.membership_too_short"
    assert caught.value.params == {"years": 2, "needed": 3}
    check_scholarship(
        membership_start=date(2024, 1, 1),
        event_date=date(2027, 1, 1),
        route=ClaimType.JKM,
        child_birth_date=date(2015, 1, 1),
        today=TODAY,
    )


def test_a_jkk_scholarship_has_no_minimum_membership() -> None:
    # DOMAIN.md §2.1: one day of membership was enough in the Kendal example.
    check_scholarship(
        membership_start=date(2026, 11, 24),
        event_date=date(2026, 11, 25),
        route=ClaimType.JKK,
        child_birth_date=None,
        today=TODAY,
    )


@pytest.mark.parametrize(
    ("child_birth", "code"),
    [
        (date(2003, 11, 25), "beasiswa.child_too_old"),  # turns 23 today
        (date(2003, 11, 26), None),  # 22 until tomorrow
        (date(2027, 1, 1), "beasiswa.child_not_born"),
    ],
)
def test_the_scholarship_ends_at_23(child_birth: date, code: str | None) -> None:
    def run() -> None:
        check_scholarship(
            membership_start=date(2020, 1, 1),
            event_date=date(2026, 1, 1),
            route=ClaimType.JKM,
            child_birth_date=child_birth,
            today=TODAY,
        )

    if code is None:
        run()
        return
    with pytest.raises(NotEligible) as caught:
        run()
    assert caught.value.code == code


def test_an_event_before_membership_gives_no_scholarship() -> None:
    with pytest.raises(NotEligible) as caught:
        check_scholarship(
            membership_start=date(2026, 1, 1),
            event_date=date(2025, 12, 31),
            route=ClaimType.JKK,
            child_birth_date=None,
            today=TODAY,
        )
    assert caught.value.code == "beasiswa.event_before_membership"


def test_a_scholarship_route_must_be_jkk_or_jkm() -> None:
    with pytest.raises(ValueError, match="JKK or JKM"):
        check_scholarship(
            membership_start=date(2020, 1, 1),
            event_date=date(2026, 1, 1),
            route=ClaimType.BEASISWA,
            child_birth_date=None,
            today=TODAY,
        )


# -- benefits ---------------------------------------------------------------------------------


def test_benefit_estimates() -> None:
    # DOMAIN.md §2.1, §3.1, §3.2
    assert jkm_benefit().total == 42_000_000
    death = jkk_death_benefit()
    assert (death.lump_sum, death.funeral, death.periodic, death.total) == (
        48_000_000,
        10_000_000,
        12_000_000,
        70_000_000,
    )
    assert jkk_death_benefit(300_000).lump_sum == 20_000_000
    assert scholarship_amount(SchoolLevel.SMA) == 3_000_000
    assert scholarship_total(SchoolLevel.PT) == 60_000_000


# -- references -------------------------------------------------------------------------------


def test_a_claim_reference_is_zero_padded() -> None:
    assert format_claim_ref(2026, 123) == "LC-2026-000123"


@pytest.mark.parametrize(("year", "seq"), [(2026, 0), (2026, 1_000_000), (26, 1)])
def test_a_claim_reference_refuses_out_of_range_parts(year: int, seq: int) -> None:
    with pytest.raises(ValueError, match="seq"):
        format_claim_ref(year, seq)


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("LC-2026-000123", "LC-2026-000123"),
        ("lc-2026-000123", "LC-2026-000123"),
        ("status LC 2026 123 ya", "LC-2026-000123"),
        ("lc2026000123", "LC-2026-000123"),
        ("Lc - 2026 - 123", "LC-2026-000123"),
        ("LC/2026/42", "LC-2026-000042"),
        ("halo", None),
        ("LC-2026-000000", None),
        ("ALC-2026-000123", None),
        ("LC-2026-1234567", None),
    ],
)
def test_parse_claim_ref_is_case_insensitive_and_tolerant(text: str, ref: str | None) -> None:
    assert parse_claim_ref(text) == ref
