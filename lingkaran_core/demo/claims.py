"""The demo's claims: a handful in every status, filed and moved through the real services, and
one draft."""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random
from typing import Any, Final

from lingkaran_core import services
from lingkaran_core.claims import (
    Actor,
    ChecklistFacts,
    ClaimStatus,
    ClaimType,
    HeirRelation,
    checklist,
)
from lingkaran_core.demo.roster import _FEMALE
from lingkaran_core.storage import demo_repo
from lingkaran_core.storage.db import Tx, dumps

_RELATIONS: Final = (HeirRelation.SPOUSE, HeirRelation.CHILD, HeirRelation.PARENT)
_REJECT_NOTES: Final = (
    "Kecelakaan terjadi di luar kegiatan kerja",
    "Kepesertaan tidak aktif pada tanggal kejadian",
    "Dokumen tidak dilengkapi setelah 3 kali pengingat",
)
_PATHS: Final[dict[ClaimStatus, tuple[ClaimStatus, ...]]] = {
    ClaimStatus.SUBMITTED: (),
    ClaimStatus.IN_REVIEW: (ClaimStatus.IN_REVIEW,),
    ClaimStatus.DOCUMENTS_REQUESTED: (ClaimStatus.IN_REVIEW, ClaimStatus.DOCUMENTS_REQUESTED),
    ClaimStatus.FORWARDED_TO_BPJS: (ClaimStatus.IN_REVIEW, ClaimStatus.FORWARDED_TO_BPJS),
    ClaimStatus.APPROVED: (
        ClaimStatus.IN_REVIEW,
        ClaimStatus.FORWARDED_TO_BPJS,
        ClaimStatus.APPROVED,
    ),
    ClaimStatus.PAID: (
        ClaimStatus.IN_REVIEW,
        ClaimStatus.FORWARDED_TO_BPJS,
        ClaimStatus.APPROVED,
        ClaimStatus.PAID,
    ),
    ClaimStatus.REJECTED: (ClaimStatus.IN_REVIEW, ClaimStatus.REJECTED),
    ClaimStatus.WITHDRAWN: (ClaimStatus.WITHDRAWN,),
}
CLAIMS_PER_STATUS: Final = 3


async def _claim(
    tx: Tx,
    *,
    key: str,
    claim_type: ClaimType,
    subject: tuple[Any, ...],
    reported: datetime,
    rng: Random,
    path: tuple[ClaimStatus, ...],
    note: str | None,
    benefit: int | None,
) -> str:
    """File one demo claim and walk it along ``path`` (one day per step, all before now)."""
    nik, name, _birth, _sex, desa = subject[:5]
    relation: HeirRelation | None = None
    facts = ChecklistFacts(traffic_accident=rng.random() < 0.3)
    answers: dict[str, Any] = {"demo": True}
    event_date = (reported - timedelta(days=rng.randint(0, 2))).date()
    claimant = name
    if claim_type is not ClaimType.JKK:
        relation = rng.choice(_RELATIONS) if claim_type is ClaimType.JKM else HeirRelation.CHILD
        facts = ChecklistFacts(death=True, heir_relation=relation)
        claimant = rng.choice(_FEMALE)
        await demo_repo.mark_deceased(tx, nik, event_date.isoformat())
    if benefit is not None:
        answers["benefit_paid"] = benefit
    new = services.NewClaim(
        claim_type=claim_type,
        event_date=event_date,
        subject_nik=nik,
        subject_name=name,
        desa_code=desa,
        claimant_name=claimant,
        relation=None if relation is None else relation.value,
        answers=answers,
        checklist=tuple(d.value for d in checklist(claim_type, facts)),
    )
    claim = await services.submit_claim(
        tx, new, now=reported, idempotency_key=key, channel="admin", actor=Actor.CLAIMANT
    )
    when = reported
    for target in path:
        when += timedelta(days=1)
        withdraw = target is ClaimStatus.WITHDRAWN
        await services.transition_claim(
            tx,
            claim.ref,
            target,
            actor=Actor.CLAIMANT if withdraw else Actor.ADMIN,
            now=when,
            actor_ref="demo",
            channel="admin",
            note=note if target is ClaimStatus.REJECTED else None,
        )
    return claim.ref


async def _draft_claim(tx: Tx, *, subject: tuple[Any, ...], now: datetime, worker_id: int) -> str:
    """A claim still being written (drafts are not filed through ``submit_claim``)."""
    ref = await services.next_claim_ref(tx, now.year)
    await demo_repo.insert_draft_claim(
        tx,
        (
            ref,
            now.date().isoformat(),
            now.isoformat(),
            worker_id,
            subject[0],
            subject[1],
            subject[4],
            dumps({"demo": True}),
            dumps([d.value for d in checklist(ClaimType.JKK, ChecklistFacts())]),
            now.isoformat(),
            now.isoformat(),
        ),
    )
    return ref
