"""Leads: people who self-screened and agreed that their desa facilitator contacts them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lingkaran_core.errors import DomainError, NotFound
from lingkaran_core.services.facilitators import Facilitator, check_scope
from lingkaran_core.services.notify import audit
from lingkaran_core.storage import leads_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.leads_repo import Lead

__all__ = [
    "CLOSE_REASONS",
    "Lead",
    "close_lead",
    "create_lead",
    "lead_for_facilitator",
    "leads_for_facilitator",
    "mark_lead_contacted",
]

CLOSE_REASONS = frozenset({"already_member", "unreachable", "declined", "moved", "cannot_join"})


async def create_lead(
    tx: Tx,
    *,
    desa_code: str,
    chat_id: int,
    phone: str | None,
    answers: dict[str, Any],
    decision: str,
    now: datetime,
) -> int:
    """A self-screened person the desa's facilitator should contact (with their consent)."""
    lead_id = await leads_repo.insert(
        tx,
        desa_code=desa_code,
        chat_id=chat_id,
        phone=phone,
        answers=answers,
        decision=decision,
        now=now,
    )
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="lead.create",
        target_kind="lead",
        target_id=lead_id,
    )
    return lead_id


async def leads_for_facilitator(tx: Tx, actor: Facilitator) -> list[Lead]:
    """The scope's leads still to work on (not contacted yet first)."""
    if actor.revoked:
        return []
    return await leads_repo.active_in_scope(tx, actor.scope)


async def lead_for_facilitator(tx: Tx, actor: Facilitator, lead_id: int) -> Lead:
    """A lead of the actor's scope still to work on (``NotFound`` / ``NotAuthorised``)."""
    lead = await leads_repo.by_id(tx, lead_id)
    if lead is None or lead.status not in leads_repo.ACTIVE:
        raise NotFound("lead.not_found", lead=lead_id)
    check_scope(actor, lead.desa_code, target="lead")
    return lead


async def mark_lead_contacted(
    tx: Tx, actor: Facilitator, lead_id: int, *, now: datetime, channel: str | None
) -> Lead:
    """The facilitator has contacted the person."""
    lead = await lead_for_facilitator(tx, actor, lead_id)
    await leads_repo.set_status(tx, lead.id, "contacted", now=now)
    await _audit(tx, actor, "lead.contacted", lead.id, now=now, channel=channel)
    return lead


async def close_lead(
    tx: Tx, actor: Facilitator, lead_id: int, *, reason: str, now: datetime, channel: str | None
) -> Lead:
    """Close a lead with one of ``CLOSE_REASONS``."""
    if reason not in CLOSE_REASONS:
        raise DomainError("lead.bad_reason", reason=reason)
    lead = await lead_for_facilitator(tx, actor, lead_id)
    await leads_repo.set_status(tx, lead.id, "closed", now=now, close_reason=reason)
    await _audit(tx, actor, "lead.close", lead.id, now=now, channel=channel, reason=reason)
    return lead


async def _audit(
    tx: Tx,
    actor: Facilitator,
    action: str,
    lead_id: int,
    *,
    now: datetime,
    channel: str | None,
    **details: Any,
) -> None:
    await audit(
        tx,
        now=now,
        actor_kind="facilitator",
        actor_id=actor.id,
        action=action,
        target_kind="lead",
        target_id=lead_id,
        channel=channel,
        details=details or None,
    )
