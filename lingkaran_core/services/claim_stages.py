"""A claim's life after the report: the JKK stages, the tahap I notice, same-event reports.

* tahap I (the notice) is what the report itself completes; the OPD forwards it and records
  that it did (``mark_notice_sent``): the admin's 2×24 h alert follows that, not the status;
* tahap II opens when the doctor declares recovery, disability or death (``open_tahap_two``):
  only then are the doctor's letter, receipts and the account asked for (DOMAIN.md §9);
* a second report of the same type, worker and event date is not refused, only pointed out
  (``same_event_claims``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from lingkaran_core import claims as claim_rules
from lingkaran_core.claims import ChecklistFacts, ClaimStatus, ClaimType, HeirRelation, JKKStage
from lingkaran_core.errors import Conflict, NotFound
from lingkaran_core.services.notify import alert_admin, audit
from lingkaran_core.storage import claims_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import Claim, claim_by_id, claim_by_ref

__all__ = ["DoctorOutcome", "mark_notice_sent", "open_tahap_two", "same_event_claims"]

_FINALS = tuple(str(s) for s in claim_rules.FINAL_STATES)


class DoctorOutcome(enum.StrEnum):
    """What the doctor declared at the end of treatment (opens tahap II)."""

    RECOVERED = "recovered"
    DISABLED = "disabled"


def jkk_stage(claim: Claim) -> JKKStage:
    """The stage a JKK claim is in (a death report starts in tahap II: death was declared)."""
    if claim.answers.get("stage") == int(JKKStage.BENEFIT) or claim.answers.get("death"):
        return JKKStage.BENEFIT
    return JKKStage.NOTICE


def _facts(claim: Claim, *, self_paid: bool) -> ChecklistFacts:
    relations = {r.value: r for r in HeirRelation}
    return ChecklistFacts(
        traffic_accident=claim.answers.get("traffic") == "yes",
        death=bool(claim.answers.get("death")),
        heir_relation=relations.get(claim.relation or ""),
        self_paid_costs=self_paid,
        stage=JKKStage.BENEFIT,
        card_expected="kartu_peserta" in claim.checklist,
    )


async def open_tahap_two(
    tx: Tx,
    ref: str,
    *,
    outcome: DoctorOutcome,
    self_paid: bool,
    now: datetime,
    chat_id: int | None,
    channel: str | None,
) -> Claim:
    """The doctor declared the outcome: the tahap II documents join the checklist."""
    claim = await claim_by_ref(tx, ref)
    if claim is None or claim.type != ClaimType.JKK:
        raise NotFound("claim.not_found", ref=ref)
    if ClaimStatus(claim.status) in claim_rules.FINAL_STATES:
        raise Conflict("document.claim_closed", ref=claim.ref)
    if jkk_stage(claim) is JKKStage.BENEFIT:
        return claim
    extra = claim_rules.checklist(ClaimType.JKK, _facts(claim, self_paid=self_paid))
    checklist = list(dict.fromkeys([*claim.checklist, *(str(k) for k in extra)]))
    answers = dict(claim.answers)
    answers.update(
        stage=int(JKKStage.BENEFIT),
        doctor_outcome=str(outcome),
        self_paid_costs=self_paid,
        stage_two_at=now.isoformat(),
    )
    await claims_repo.set_checklist(tx, claim.id, checklist, now=now)
    await claims_repo.set_answers(tx, claim.id, answers, now=now)
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="claim.tahap_two",
        target_kind="claim",
        target_id=claim.ref,
        channel=channel,
        details={"outcome": str(outcome), "self_paid": self_paid},
    )
    await alert_admin(
        tx,
        now=now,
        msg_key="admin.jkk_tahap_two",
        params={"ref": claim.ref, "outcome": str(outcome), "at": now.isoformat()},
        dedupe_key=f"tahap2:{claim.ref}",
    )
    updated = await claim_by_id(tx, claim.id)
    assert updated is not None
    return updated


async def mark_notice_sent(tx: Tx, ref: str, *, now: datetime, actor_ref: str | None) -> Claim:
    """The OPD forwarded the JKK tahap I notice to BPJS TK (the deadline alert stops)."""
    claim = await claim_by_ref(tx, ref)
    if claim is None or claim.type != ClaimType.JKK:
        raise NotFound("claim.not_found", ref=ref)
    await claims_repo.set_notice_sent(tx, claim.id, at=now)
    await audit(
        tx,
        now=now,
        actor_kind="admin",
        actor_id=actor_ref,
        action="claim.notice_sent",
        target_kind="claim",
        target_id=claim.ref,
        channel="admin",
    )
    updated = await claim_by_id(tx, claim.id)
    assert updated is not None
    return updated


async def same_event_claims(
    tx: Tx,
    *,
    claim_type: ClaimType,
    worker_id: int | None,
    subject_nik: str | None,
    event_date: date,
) -> list[Claim]:
    """Reports under way of this type about this worker (or NIK) on this event date."""
    return await claims_repo.same_event(
        tx,
        claim_type=str(claim_type),
        worker_id=worker_id,
        subject_nik=subject_nik,
        event_date=event_date,
        finals=_FINALS,
    )
