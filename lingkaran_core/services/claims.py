"""Claims: file a report, move it along the state machine, and the claims a facilitator sees.

A claim filed for a facilitator (``Actor.FACILITATOR``) is checked against the facilitator's
scope here, whichever flow collected it (JKK, JKM, scholarship): a worker of another desa is
refused and nothing is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lingkaran_core import claims as claim_rules
from lingkaran_core.claims import Actor, ClaimStatus, ClaimType
from lingkaran_core.clock import WIB as _WIB
from lingkaran_core.coverage import EventCoverage, coverage_on_event
from lingkaran_core.errors import IllegalTransition, NotAuthorised, NotFound
from lingkaran_core.reminders import person_params
from lingkaran_core.services.facilitators import (
    Facilitator,
    check_scope,
    facilitator_by_id,
    facilitator_chats_for_desa,
)
from lingkaran_core.services.household import chats_of_worker, own_worker_id
from lingkaran_core.services.limits import batch_jkk_alert, check_claim_limit
from lingkaran_core.services.notify import alert_admin, audit, enqueue_to_chat
from lingkaran_core.storage import claims_repo, workers_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import (
    Claim,
    Worker,
    claim_by_id,
    claim_by_ref,
    received_kinds,
    worker_by_id,
    worker_by_nik,
)

logger = logging.getLogger(__name__)

_FINALS = tuple(str(s) for s in claim_rules.FINAL_STATES)


async def next_claim_ref(tx: Tx, year: int) -> str:
    """Allocate the next ``LC-YYYY-NNNNNN`` reference."""
    return claim_rules.format_claim_ref(year, await claims_repo.next_seq(tx, year))


@dataclass(frozen=True, slots=True, kw_only=True)
class NewClaim:
    """What a flow (or the admin) collected for a new claim."""

    claim_type: ClaimType
    event_date: date
    event_at: datetime | None = None
    reporter_chat_id: int | None = None
    facilitator_id: int | None = None
    worker_id: int | None = None
    subject_nik: str | None = None
    subject_name: str | None = None
    desa_code: str | None = None
    claimant_name: str | None = None
    claimant_nik: str | None = None
    claimant_phone: str | None = None
    relation: str | None = None
    answers: dict[str, Any] | None = None
    checklist: tuple[str, ...] = ()
    late_report: bool = False


def event_coverage(
    worker: Worker | None, *, nik_given: bool, event_date: date, today: date
) -> EventCoverage:
    """What the roster says about protection on the event date (``coverage_on_event``)."""
    return coverage_on_event(
        nik_given=nik_given or worker is not None,
        on_roster=worker is not None,
        registration_status=None if worker is None else worker.registration_status,
        start=None if worker is None else worker.coverage_start,
        paid_through=None if worker is None else worker.paid_through,
        event_date=event_date,
        today=today,
    )


async def subject_worker(tx: Tx, *, worker_id: int | None, nik: str | None) -> Worker | None:
    """The roster worker a report is about (by id, else by NIK), or None."""
    if worker_id is not None:
        return await worker_by_id(tx, worker_id)
    if nik:
        return await worker_by_nik(tx, nik)
    return None


async def _filing_facilitator(tx: Tx, new: NewClaim, actor: Actor) -> Facilitator | None:
    """The facilitator a claim is filed for (active), or None for a claimant's own report."""
    if actor != Actor.FACILITATOR and new.facilitator_id is None:
        return None
    found = None if new.facilitator_id is None else await facilitator_by_id(tx, new.facilitator_id)
    if found is None or found.revoked:
        raise NotAuthorised("facilitator.not_active")
    return found


async def submit_claim(
    tx: Tx,
    new: NewClaim,
    *,
    now: datetime,
    idempotency_key: str,
    channel: str,
    actor: Actor = Actor.CLAIMANT,
) -> Claim:
    """Store a confirmed report as a ``submitted`` claim (once per idempotency key).

    Filed for a facilitator, the subject's desa (the roster worker's, or the one given) must lie
    in the facilitator's scope; a subject not on the roster carries no desa and is accepted.
    """
    existing = await claims_repo.id_by_idempotency_key(tx, idempotency_key)
    if existing is not None:
        found = await claim_by_id(tx, existing)
        assert found is not None
        return found
    facilitator = await _filing_facilitator(tx, new, actor)
    if actor in (Actor.CLAIMANT, Actor.FACILITATOR):
        await check_claim_limit(
            tx,
            chat_id=new.reporter_chat_id,
            nik=new.subject_nik,
            now=now,
            by_facilitator=facilitator is not None,
        )
    worker_id = new.worker_id
    desa = new.desa_code
    if worker_id is None and new.subject_nik:
        w = await worker_by_nik(tx, new.subject_nik)
        if w is not None:
            worker_id = w.id
    if worker_id is not None:
        # The desa decides which facilitator sees the claim and hears of its changes.
        worker_desa = await workers_repo.desa_of(tx, worker_id)
        if facilitator is not None and worker_desa is not None:
            check_scope(facilitator, worker_desa, target="worker")
        desa = desa or worker_desa
    if facilitator is not None and desa is not None:
        check_scope(facilitator, desa, target="desa")
    # Coverage on the EVENT date, as the roster stands now: anything but protected is flagged
    # for staff, whoever reported and whatever they were told (issue 14, item 2).
    subject = await subject_worker(tx, worker_id=worker_id, nik=None)
    on_event = event_coverage(
        subject,
        nik_given=bool(new.subject_nik),
        event_date=new.event_date,
        today=now.astimezone(_WIB).date(),
    )
    ref = await next_claim_ref(tx, now.year)
    claim_id = await claims_repo.insert(
        tx,
        ref=ref,
        claim_type=str(new.claim_type),
        status=str(ClaimStatus.SUBMITTED),
        event_date=new.event_date,
        event_at=new.event_at,
        now=now,
        late_report=new.late_report,
        reporter_chat_id=new.reporter_chat_id,
        facilitator_id=new.facilitator_id,
        worker_id=worker_id,
        subject_nik=new.subject_nik,
        subject_name=new.subject_name,
        desa_code=desa,
        claimant_name=new.claimant_name,
        claimant_nik=new.claimant_nik,
        claimant_phone=new.claimant_phone,
        relation=new.relation,
        answers=new.answers or {},
        checklist=list(new.checklist),
        idempotency_key=idempotency_key,
        event_coverage=str(on_event),
    )
    await claims_repo.insert_event(
        tx,
        claim_id,
        from_status=str(ClaimStatus.DRAFT),
        to_status=str(ClaimStatus.SUBMITTED),
        actor=str(actor),
        actor_ref=str(new.reporter_chat_id),
        channel=channel,
        note=None,
        at=now,
    )
    await audit(
        tx,
        now=now,
        actor_kind=str(actor),
        actor_id=new.facilitator_id if actor == Actor.FACILITATOR else new.reporter_chat_id,
        action="claim.submit",
        target_kind="claim",
        target_id=ref,
        channel=channel,
        details={
            "type": str(new.claim_type),
            "late": new.late_report,
            "event_coverage": str(on_event),
        },
    )
    if on_event is not EventCoverage.PROTECTED:
        await _flag(tx, ref=ref, claim_type=new.claim_type, on_event=on_event, desa=desa, now=now)
    if new.claim_type == ClaimType.JKK:
        # The OPD must forward a JKK report to BPJS TK within 2×24 h of the accident. One chat
        # filing many in an hour gets one alert for the batch (the admin queue lists them all).
        batch = await batch_jkk_alert(tx, chat_id=new.reporter_chat_id, now=now)
        await alert_admin(
            tx,
            now=now,
            msg_key="admin.new_jkk",
            params={"ref": ref, "event_date": new.event_date.isoformat()},
            dedupe_key=batch or f"jkk-new:{ref}",
        )
    claim = await claim_by_id(tx, claim_id)
    assert claim is not None
    logger.info("claim submitted", extra={"ref": ref, "type": str(new.claim_type)})
    return claim


async def _flag(
    tx: Tx,
    *,
    ref: str,
    claim_type: ClaimType,
    on_event: EventCoverage,
    desa: str | None,
    now: datetime,
) -> None:
    """A report whose subject was not protected on the event date: the OPD and the desa's
    facilitators are told to check it (the report is recorded all the same)."""
    params = {"ref": ref, "type": str(claim_type), "event_coverage": str(on_event)}
    await alert_admin(
        tx, now=now, msg_key="admin.claim_flagged", params=params, dedupe_key=f"flag:{ref}"
    )
    if desa:
        for fchat in await facilitator_chats_for_desa(tx, desa):
            await enqueue_to_chat(
                tx,
                fchat,
                now=now,
                msg_key="claim.flagged",
                # Addressed to the facilitator: WhatsApp sends "claim.flagged@facilitator".
                params={**params, "for": "facilitator"},
                dedupe_key=f"flag:{ref}:f{fchat}",
                priority=3,
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """What BPJS TK paid on a claim, as the admin records it when setting ``paid``."""

    amount: int  # rupiah
    paid_on: date
    bank: str | None = None


async def transition_claim(
    tx: Tx,
    ref: str,
    target: ClaimStatus,
    *,
    actor: Actor,
    now: datetime,
    actor_ref: str | None = None,
    channel: str | None = None,
    note: str | None = None,
    payment: Payment | None = None,
    send_back: tuple[str, ...] = (),
) -> Claim:
    """Move a claim along the state machine, record it, and tell the claimant (and facilitator).

    The admin's note reaches the reporter and the facilitator with the change (and "Klaim saya"
    shows it); ``payment`` is recorded on a move to ``paid`` and told with it; ``send_back``
    (documents requested again, e.g. an unreadable photo) makes those documents missing again.
    """
    claim = await claim_by_ref(tx, ref)
    if claim is None:
        raise NotFound("claim.not_found", ref=ref)
    current = ClaimStatus(claim.status)
    claim_rules.check_transition(current, target, actor=actor, reason=note)
    if payment is not None:
        if target is not ClaimStatus.PAID or payment.amount < 0:
            raise IllegalTransition("claim.payment_only_when_paid", current=current.value)
        answers = dict(claim.answers)
        answers.update(benefit_paid=payment.amount, paid_on=payment.paid_on.isoformat())
        if payment.bank:
            answers["paid_bank"] = payment.bank
        await claims_repo.set_answers(tx, claim.id, answers, now=now)
    if send_back:
        unknown = [k for k in send_back if k not in claim.checklist]
        if unknown or target is not ClaimStatus.DOCUMENTS_REQUESTED:
            raise IllegalTransition("claim.send_back", current=current.value)
        await claims_repo.send_back_documents(tx, claim.id, send_back, at=now)
    if claim.type == ClaimType.JKK and target == ClaimStatus.FORWARDED_TO_BPJS:
        await claims_repo.set_notice_sent(tx, claim.id, at=now)  # the notice went with it
    docs_requested_at = (
        now.isoformat() if target == ClaimStatus.DOCUMENTS_REQUESTED else claim.docs_requested_at
    )
    await claims_repo.set_status(
        tx, claim.id, str(target), now=now, docs_requested_at=docs_requested_at
    )
    await claims_repo.insert_event(
        tx,
        claim.id,
        from_status=str(current),
        to_status=str(target),
        actor=str(actor),
        actor_ref=actor_ref,
        channel=channel,
        note=note,
        at=now,
    )
    await audit(
        tx,
        now=now,
        actor_kind=str(actor),
        actor_id=actor_ref,
        action="claim.transition",
        target_kind="claim",
        target_id=claim.ref,
        channel=channel,
        details={"from": str(current), "to": str(target)},
    )
    # Staff's words go to the reporter; the system's own notes ("checklist complete") do not.
    params: dict[str, Any] = {
        "ref": claim.ref,
        "status": str(target),
        "note": (note or "") if actor == Actor.ADMIN else "",
        "type": claim.type,
    }
    if payment is not None:
        params.update(amount=payment.amount, bank=payment.bank or "")
    if send_back:
        params["send_back"] = list(send_back)
    subject = None if claim.worker_id is None else await worker_by_id(tx, claim.worker_id)
    params.update(
        person_params(
            subject.name if subject else claim.subject_name, subject.sex if subject else None
        )
    )
    key = f"claim-status:{claim.ref}:{target}:{now.isoformat()}"
    if claim.reporter_chat_id is not None:
        await enqueue_to_chat(
            tx,
            claim.reporter_chat_id,
            now=now,
            msg_key="claim.status_changed",
            params=params,
            dedupe_key=key,
            priority=2,
        )
    if claim.worker_id is not None:
        # Every chat linked to the worker hears it too, once (issue 22). The worker's own chat
        # gets it as claim news, which an opt-out never stops; a household phone that typed
        # BERHENTI does not get news of someone else's claim.
        for linked in await chats_of_worker(tx, claim.worker_id):
            if linked == claim.reporter_chat_id:
                continue
            own = await own_worker_id(tx, linked) == claim.worker_id
            await enqueue_to_chat(
                tx,
                linked,
                now=now,
                msg_key="claim.status_changed",
                params=params,
                msg_class="transactional" if own else "reminder",
                dedupe_key=f"{key}:l{linked}",
                priority=2 if own else 3,
            )
    if claim.desa_code:
        for fchat in await facilitator_chats_for_desa(tx, claim.desa_code):
            if fchat != claim.reporter_chat_id:
                await enqueue_to_chat(
                    tx,
                    fchat,
                    now=now,
                    msg_key="claim.status_changed",
                    params=params,
                    dedupe_key=f"{key}:f{fchat}",
                    priority=3,
                )
    updated = await claim_by_id(tx, claim.id)
    assert updated is not None
    return updated


def missing_documents(claim: Claim, received: list[str]) -> list[str]:
    """Kinds on the checklist not yet received."""
    have = set(received)
    return [k for k in claim.checklist if k not in have]


async def claim_desa(tx: Tx, claim: Claim) -> str | None:
    """The desa a claim belongs to: its own, else its roster worker's."""
    if claim.desa_code is not None or claim.worker_id is None:
        return claim.desa_code
    return await workers_repo.desa_of(tx, claim.worker_id)


async def open_claims_of_worker(tx: Tx, worker_id: int) -> list[Claim]:
    """A worker's claims still under way, newest first."""
    return await claims_repo.open_of_worker(tx, worker_id, _FINALS)


async def claims_for_facilitator(tx: Tx, actor: Facilitator) -> list[tuple[Claim, list[str]]]:
    """The scope's claims under way with their missing documents, those lacking some first."""
    if actor.revoked:
        return []
    out: list[tuple[Claim, list[str]]] = []
    for claim in await claims_repo.open_in_scope(tx, actor.scope, _FINALS):
        out.append((claim, missing_documents(claim, await received_kinds(tx, claim.id))))
    out.sort(key=lambda cm: (not cm[1], cm[0].id))
    return out


async def claim_for_facilitator(tx: Tx, actor: Facilitator, ref: str) -> Claim:
    """A claim of the actor's scope by reference (``NotFound`` / ``NotAuthorised`` otherwise)."""
    claim = await claim_by_ref(tx, ref)
    if claim is None:
        raise NotFound("claim.not_found", ref=ref)
    check_scope(actor, await claim_desa(tx, claim), target="claim")
    return claim
