"""The OPD staff's use cases: what regency officers do to the programme's data.

Each function works inside the caller's unit of work (one transaction), records an audit row
and queues the notifications it implies; the admin CLI (and later the web console) only parse
and print. Errors are ``DomainError`` codes (``registration.not_found``,
``registration.not_waiting``, ``registration.reason_required``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from lingkaran_core import services
from lingkaran_core.errors import DomainError, NotFound
from lingkaran_core.identity import mask_nik
from lingkaran_core.storage import admin_repo
from lingkaran_core.storage.db import Tx

__all__ = ["RegistrationDecision", "reject_registration", "verify_registration"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationDecision:
    """What a verification or rejection did."""

    worker_id: int
    name: str
    coverage_start: str | None
    chats_notified: int


async def _waiting(tx: Tx, worker_id: int) -> tuple[str, str, int | None, str | None]:
    row = await admin_repo.registration(tx, worker_id)
    if row is None:
        raise NotFound("registration.not_found", worker_id=worker_id)
    if row["registration_status"] != "registered":
        raise DomainError(
            "registration.not_waiting", worker_id=worker_id, status=row["registration_status"]
        )
    by = row["registered_by"]
    return str(row["name"]), str(row["nik"]), None if by is None else int(by), row["coverage_start"]


async def _tell_facilitator(
    tx: Tx,
    facilitator_id: int | None,
    *,
    now: datetime,
    msg_key: str,
    params: dict[str, object],
    dedupe_key: str,
) -> int:
    """Queue news for the facilitator who registered the worker; 1 if they have a chat."""
    if facilitator_id is None:
        return 0
    chat_id = await admin_repo.facilitator_bound_chat(tx, facilitator_id)
    if chat_id is None:
        return 0
    await services.enqueue_to_chat(
        tx, chat_id, now=now, msg_key=msg_key, params=params, dedupe_key=dedupe_key
    )
    return 1


async def verify_registration(
    tx: Tx, worker_id: int, *, actor: str, today: date, now: datetime, channel: str = "admin"
) -> RegistrationDecision:
    """Accept a facilitator's registration: coverage starts today (unless set), worker and
    facilitator are told."""
    name, nik, registered_by, start = await _waiting(tx, worker_id)
    await admin_repo.set_registration_verified(tx, worker_id, coverage_start=today, now=now)
    params = {"name": name, "nik": mask_nik(nik), "worker_id": worker_id}
    told = 0
    for chat_id in await admin_repo.worker_chat_ids(tx, worker_id):
        await services.enqueue_to_chat(
            tx,
            chat_id,
            now=now,
            msg_key="worker.verified",
            params=params,
            dedupe_key=f"worker-verified:{worker_id}:{chat_id}",
        )
        told += 1
    told += await _tell_facilitator(
        tx,
        registered_by,
        now=now,
        msg_key="registration.verified",
        params=params,
        dedupe_key=f"registration-verified:{worker_id}",
    )
    await services.audit(
        tx,
        now=now,
        actor_kind="admin",
        actor_id=actor,
        action="registration.verify",
        target_kind="worker",
        target_id=worker_id,
        channel=channel,
    )
    return RegistrationDecision(
        worker_id=worker_id,
        name=name,
        coverage_start=start or today.isoformat(),
        chats_notified=told,
    )


async def reject_registration(
    tx: Tx, worker_id: int, *, reason: str, actor: str, now: datetime, channel: str = "admin"
) -> RegistrationDecision:
    """Refuse a registration with a reason the facilitator is told."""
    reason = reason.strip()
    if not reason:
        raise DomainError("registration.reason_required", worker_id=worker_id)
    name, nik, registered_by, start = await _waiting(tx, worker_id)
    await admin_repo.set_registration_rejected(tx, worker_id, reason=reason, now=now)
    told = await _tell_facilitator(
        tx,
        registered_by,
        now=now,
        msg_key="registration.rejected",
        params={"name": name, "nik": mask_nik(nik), "reason": reason},
        dedupe_key=f"registration-rejected:{worker_id}",
    )
    await services.audit(
        tx,
        now=now,
        actor_kind="admin",
        actor_id=actor,
        action="registration.reject",
        target_kind="worker",
        target_id=worker_id,
        channel=channel,
        details={"reason": reason},
    )
    return RegistrationDecision(
        worker_id=worker_id,
        name=name,
        coverage_start=start,
        chats_notified=told,
    )
