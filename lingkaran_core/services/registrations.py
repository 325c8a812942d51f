"""Registrations: a facilitator registers a worker on the spot, for the OPD to verify."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from lingkaran_core.errors import Conflict, NotFound
from lingkaran_core.identity import mask_nik
from lingkaran_core.services.facilitators import Facilitator, check_scope, in_scope
from lingkaran_core.services.notify import alert_admin, audit
from lingkaran_core.storage import leads_repo, workers_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import Worker, worker_by_id, worker_by_nik

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWorker:
    """What a facilitator collected (with the worker's consent) for a new roster record."""

    nik: str
    name: str
    birth_date: date
    sex: str
    desa_code: str
    sector: str
    occupation: str | None = None
    phone: str | None = None
    consent_at: datetime
    dob_mismatch: bool = False


async def register_worker(
    tx: Tx,
    actor: Facilitator,
    new: NewWorker,
    *,
    now: datetime,
    channel: str | None,
    lead_id: int | None = None,
) -> Worker:
    """Register a worker of the actor's scope (``registered``, awaiting verification).

    A NIK on the roster already is a ``Conflict`` (never a second record); a lead the worker came
    from, when of the same scope, is marked registered.
    """
    check_scope(actor, new.desa_code, target="desa")
    if await worker_by_nik(tx, new.nik) is not None:
        raise Conflict("worker.duplicate_nik")
    worker_id = await workers_repo.insert_registered(
        tx,
        nik=new.nik,
        name=new.name,
        birth_date=new.birth_date,
        sex=new.sex,
        desa_code=new.desa_code,
        sector=new.sector,
        occupation=new.occupation,
        phone=new.phone,
        registered_by=actor.id,
        consent_at=new.consent_at,
        now=now,
    )
    await audit(
        tx,
        now=now,
        actor_kind="facilitator",
        actor_id=actor.id,
        action="worker.register",
        target_kind="worker",
        target_id=worker_id,
        channel=channel,
        details={
            "desa_code": new.desa_code,
            "sector": new.sector,
            "dob_mismatch": new.dob_mismatch,
        },
    )
    if lead_id is not None:
        lead = await leads_repo.by_id(tx, lead_id)
        if lead is not None and in_scope(actor, lead.desa_code):
            await leads_repo.set_status(tx, lead.id, "registered", now=now)
            await audit(
                tx,
                now=now,
                actor_kind="facilitator",
                actor_id=actor.id,
                action="lead.registered",
                target_kind="lead",
                target_id=lead.id,
                channel=channel,
                details={"worker_id": worker_id},
            )
    worker = await worker_by_id(tx, worker_id)
    assert worker is not None
    logger.info("worker registered", extra={"worker_id": worker_id, "facilitator_id": actor.id})
    return worker


async def request_reregistration(
    tx: Tx, actor: Facilitator, worker_id: int, *, now: datetime, channel: str | None = None
) -> Worker:
    """A facilitator asks the OPD to enrol a non-active worker of their scope again.

    The roster record stays as it is (the OPD decides and re-imports); the request is audited
    and put on the OPD's queue once a day per worker.
    """
    worker = await worker_by_id(tx, worker_id)
    if worker is None:
        raise NotFound("worker.not_found")
    check_scope(actor, worker.desa_code, target="worker")
    await audit(
        tx,
        now=now,
        actor_kind="facilitator",
        actor_id=actor.id,
        action="worker.reregister_requested",
        target_kind="worker",
        target_id=worker.id,
        channel=channel,
    )
    await alert_admin(
        tx,
        now=now,
        msg_key="admin.reregister",
        params={"name": worker.name, "nik": mask_nik(worker.nik), "facilitator": actor.name},
        dedupe_key=f"reregister:{worker.id}:{now.date().isoformat()}",
    )
    return worker
