"""Workers as a facilitator finds them: by NIK, by name, or the whole scope."""

from __future__ import annotations

from rapidfuzz import fuzz, process

from lingkaran_core.errors import NotFound
from lingkaran_core.services.facilitators import Facilitator, check_scope
from lingkaran_core.storage import workers_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import Worker, worker_by_id, worker_by_nik

NAME_SCORE_CUTOFF = 70.0
MAX_NAME_MATCHES = 50


async def worker_for_facilitator(tx: Tx, actor: Facilitator, worker_id: int) -> Worker:
    """A worker of the actor's scope by id (``NotFound`` / ``NotAuthorised``)."""
    worker = await worker_by_id(tx, worker_id)
    if worker is None:
        raise NotFound("worker.not_found")
    check_scope(actor, worker.desa_code, target="worker")
    return worker


async def worker_for_facilitator_by_nik(tx: Tx, actor: Facilitator, nik: str) -> Worker:
    """A worker of the actor's scope by NIK (``NotFound`` / ``NotAuthorised``)."""
    worker = await worker_by_nik(tx, nik)
    if worker is None:
        raise NotFound("worker.not_found")
    check_scope(actor, worker.desa_code, target="worker")
    return worker


async def search_names(tx: Tx, actor: Facilitator, query: str) -> list[int]:
    """Ids of the scope's workers whose name is like ``query``, best match first."""
    if actor.revoked:
        return []
    names = {
        wid: name.casefold()
        for wid, name in (await workers_repo.names_in_scope(tx, actor.scope)).items()
    }
    matches = process.extract(
        query.casefold(),
        names,
        scorer=fuzz.WRatio,
        limit=MAX_NAME_MATCHES,
        score_cutoff=NAME_SCORE_CUTOFF,
    )
    ordered = sorted(matches, key=lambda m: (-m[1], m[0]))
    return [int(m[2]) for m in ordered]


async def workers_for_facilitator(tx: Tx, actor: Facilitator) -> list[Worker]:
    """The living workers of the actor's scope, by name."""
    if actor.revoked:
        return []
    return await workers_repo.living_in_scope(tx, actor.scope)


async def workers_for_facilitator_by_ids(
    tx: Tx, actor: Facilitator, ids: list[int]
) -> list[Worker]:
    """The workers of ``ids`` within the actor's scope (others are left out), in that order."""
    if actor.revoked:
        return []
    return await workers_repo.in_scope_by_ids(tx, actor.scope, ids)
