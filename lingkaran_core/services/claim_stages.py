"""A claim's life after the report: the JKK stages, the tahap I notice, same-event reports.

* tahap I (the notice) is what the report itself completes; the OPD forwards it and records
  that it did (``mark_notice_sent``): the admin's 2×24 h alert follows that, not the status;
* tahap II opens when the doctor declares recovery, disability or death (``open_tahap_two``):
  only then are the doctor's letter, receipts and the account asked for (DOMAIN.md §9);
* a second report of the same type, worker and event date is not refused, only pointed out
  (``same_event_claims``);
* where the tahap I notice stands (``notice_state``: sent at, due by, overdue since) and which
  unsent notices are overdue (``overdue_notices``), as the console shows and filters them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from lingkaran_core import claims as claim_rules
from lingkaran_core.claims import ChecklistFacts, ClaimStatus, ClaimType, HeirRelation, JKKStage
from lingkaran_core.clock import WIB
from lingkaran_core.errors import Conflict, NotFound
from lingkaran_core.rules import JKK_REPORT_HOURS
from lingkaran_core.services.notify import alert_admin, audit
from lingkaran_core.storage import claims_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import Claim, claim_by_id, claim_by_ref

__all__ = [
    "DoctorOutcome",
    "NoticeState",
    "OverdueNotices",
    "mark_notice_sent",
    "notice_state",
    "open_tahap_two",
    "overdue_notices",
    "same_event_claims",
]

_FINALS = tuple(str(s) for s in claim_rules.FINAL_STATES)


class DoctorOutcome(enum.StrEnum):
    """What the doctor declared at the end of treatment (opens tahap II)."""

    RECOVERED = "recovered"
    DISABLED = "disabled"


def jkk_stage(claim: Claim) -> JKKStage:
    """The stage a JKK claim is in (a death report starts in tahap II: death was declared)."""
    return stage_of_answers(claim.answers)


def stage_of_answers(answers: dict[str, object]) -> JKKStage:
    """``jkk_stage`` from a claim's answers alone (a list row holds no ``Claim``)."""
    if answers.get("stage") == int(JKKStage.BENEFIT) or answers.get("death"):
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


async def mark_notice_sent(
    tx: Tx,
    ref: str,
    *,
    now: datetime,
    actor_ref: str | None,
    actor_kind: str = "admin",
    channel: str = "admin",
) -> Claim:
    """The OPD forwarded the JKK tahap I notice to BPJS TK (the deadline alert stops).

    Recorded once: a second mark keeps the first time and writes no second audit entry.
    The console passes its staff account (``actor_kind="staff"``, ``channel="console"``).
    """
    claim = await claim_by_ref(tx, ref)
    if claim is None or claim.type != ClaimType.JKK:
        raise NotFound("claim.not_found", ref=ref)
    if claim.notice_sent_at is not None:
        return claim
    await claims_repo.set_notice_sent(tx, claim.id, at=now)
    await audit(
        tx,
        now=now,
        actor_kind=actor_kind,
        actor_id=actor_ref,
        action="claim.notice_sent",
        target_kind="claim",
        target_id=claim.ref,
        channel=channel,
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


# -- where the tahap I notice stands (the console's column, filter and sentence) ---------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeState:
    """A JKK report's tahap I notice: forwarded at ``sent_at``, else due by ``due`` (2×24 h
    from the accident, weekends and holidays counted) and ``overdue`` once that passed;
    ``days_off``: a day the OPD does not work falls in the 2×24 h (rules.OPD_WORKDAYS_RULE)."""

    sent_at: datetime | None
    due: datetime
    overdue: bool
    days_off: bool
    closed: bool  # the claim is finished: nothing is due any more


def _accident_at(event_at: datetime | None, event_date: date) -> datetime:
    """The accident's time, or the start of its day (WIB) when no time was given: the same
    start the admin's 2×24 h alert counts from."""
    return event_at if event_at is not None else datetime.combine(event_date, time(0), tzinfo=WIB)


def notice_state(
    *,
    claim_type: str,
    status: str,
    event_at: datetime | None,
    event_date: date,
    notice_sent_at: datetime | None,
    now: datetime,
) -> NoticeState | None:
    """Where a claim's tahap I notice stands (None: not a JKK claim, no notice)."""
    if claim_type != ClaimType.JKK.value:
        return None
    accident = _accident_at(event_at, event_date)
    due = claim_rules.jkk_report_deadline(accident)
    closed = status in _FINALS
    return NoticeState(
        sent_at=notice_sent_at,
        due=due,
        overdue=notice_sent_at is None and not closed and due < now,
        days_off=claim_rules.opd_days_off_between(accident, due, WIB),
        closed=closed,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OverdueNotices:
    """Which unsent, open JKK notices are overdue at a moment, as a query can ask it: every
    accident before ``day`` (WIB), and on ``day`` itself the reports listed in ``ids``."""

    day: date
    ids: tuple[int, ...]


async def overdue_notices(tx: Tx, *, now: datetime) -> OverdueNotices:
    """The overdue tahap I notices at ``now`` (2×24 h after the accident, unsent, open).

    An accident on a day before that of ``now`` − 48 h is overdue whatever its hour; on that day
    itself the hour decides, so those few reports are judged one by one by ``notice_state``.
    Stored times carry their own offsets and are not compared as text in SQL.
    """
    cutoff = (now - timedelta(hours=JKK_REPORT_HOURS)).astimezone(WIB)
    rows = await claims_repo.unsent_notices_on(tx, day=cutoff.date(), finals=_FINALS)
    ids = []
    for r in rows:
        at = r["event_at"]
        state = notice_state(
            claim_type=ClaimType.JKK.value,
            status=str(r["status"]),
            event_at=None if not at else _aware(datetime.fromisoformat(str(at))),
            event_date=date.fromisoformat(str(r["event_date"])),
            notice_sent_at=None,
            now=now,
        )
        if state is not None and state.overdue:
            ids.append(int(r["id"]))
    return OverdueNotices(day=cutoff.date(), ids=tuple(ids))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=WIB)
