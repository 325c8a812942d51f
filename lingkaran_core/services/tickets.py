"""The human inbox: tickets opened by people, answered by facilitators or Pemkab staff.

Shared by the conversations (a worker writes, a facilitator replies from the desk) and the admin
CLI. A facilitator replies to and closes only the tickets of their own scope.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from lingkaran_core.clock import WIB as _WIB
from lingkaran_core.errors import Conflict, DomainError, NotAuthorised, NotFound
from lingkaran_core.services.facilitators import (
    Facilitator,
    check_scope,
    facilitator_chats_for_desa,
)
from lingkaran_core.services.household import linked_worker
from lingkaran_core.services.limits import check_ticket_limit
from lingkaran_core.services.notify import alert_admin, audit, enqueue_to_chat
from lingkaran_core.storage import tickets_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.tickets_repo import Ticket

logger = logging.getLogger(__name__)

ESCALATE_AFTER_WORKING_DAYS = 2

__all__ = [
    "ESCALATE_AFTER_WORKING_DAYS",
    "Ticket",
    "add_working_days",
    "answered_ticket_of_chat",
    "close_ticket",
    "escalate_tickets",
    "keep_voice_note",
    "open_ticket",
    "open_ticket_of_chat",
    "reply_to_ticket",
    "ticket_for_facilitator",
    "ticket_messages",
    "ticket_ref",
    "tickets_for_facilitator",
]


def ticket_ref(ticket_id: int) -> str:
    """``T-0042``."""
    return f"T-{ticket_id:04d}"


async def open_ticket(
    tx: Tx,
    *,
    chat_id: int,
    body: str | None,
    now: datetime,
    topic: str = "question",
    media: str | None = None,
    channel: str | None = None,
    reopen: bool = True,
    worker_id: int | None = None,
    for_opd: bool = False,
) -> int:
    """Open a ticket for a person (the desa's facilitator, or the admin queue).

    A message to a ticket staff already answered puts it back in the queue (``reopen``), except
    a plain thank-you, which the caller passes with ``reopen=False``. ``worker_id`` names the
    household member the ticket is about (the chat must be linked to them; issue 22); a chat's
    open ticket about someone else is left alone and a new one opened. ``for_opd`` also puts it
    on the OPD's admin queue whoever else is told (a scam in the programme's name).
    """
    named = worker_id is not None
    if worker_id is None:
        worker_id, desa = await tickets_repo.chat_worker_desa(tx, chat_id)
    else:
        desa = (await linked_worker(tx, chat_id=chat_id, worker_id=worker_id)).desa_code
    existing = await tickets_repo.not_closed_of_chat(tx, chat_id)
    if (
        named
        and existing is not None
        and await tickets_repo.worker_of(tx, existing) not in (None, worker_id)
    ):
        existing = None
    if existing is not None:
        ticket_id = existing
        await tickets_repo.touch(tx, ticket_id, now=now, reopen=reopen)
    else:
        await check_ticket_limit(tx, chat_id=chat_id, now=now)
        ticket_id = await tickets_repo.insert(
            tx, chat_id=chat_id, worker_id=worker_id, desa_code=desa, topic=topic, now=now
        )
    await tickets_repo.add_message(tx, ticket_id, sender="user", body=body, media=media, at=now)
    targets = await facilitator_chats_for_desa(tx, desa) if desa else []
    for fchat in targets:
        await enqueue_to_chat(
            tx,
            fchat,
            now=now,
            msg_key="ticket.new",
            params={"ticket": ticket_ref(ticket_id)},
            dedupe_key=f"ticket-new:{ticket_id}:{now.isoformat()}:{fchat}",
            priority=3,
        )
    if not targets or for_opd:
        await alert_admin(
            tx,
            now=now,
            msg_key="admin.scam" if topic == "scam" else "admin.ticket",
            params={"ticket": ticket_ref(ticket_id)},
            dedupe_key=f"ticket-admin:{ticket_id}:{now.isoformat()}",
        )
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="ticket.message",
        target_kind="ticket",
        target_id=ticket_id,
        channel=channel,
    )
    return ticket_id


_VOICE_EXT = {"audio/ogg": ".ogg", "audio/opus": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a"}
MAX_VOICE_BYTES = 16 * 1024 * 1024


async def keep_voice_note(
    tx: Tx,
    *,
    chat_id: int,
    data: bytes,
    mime: str,
    files_dir: Path,
    now: datetime,
    channel: str | None = None,
) -> int:
    """Keep a voice note on the chat's ticket for a person to listen to (the bot cannot)."""
    if len(data) > MAX_VOICE_BYTES:
        raise DomainError("voice.too_large", max_mb=MAX_VOICE_BYTES // (1024 * 1024))
    digest = hashlib.sha256(data).hexdigest()
    folder = files_dir / "voice"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}{_VOICE_EXT.get(mime.split(';')[0].strip(), '.audio')}"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return await open_ticket(
        tx, chat_id=chat_id, body=None, media=str(path), topic="voice", now=now, channel=channel
    )


async def open_ticket_of_chat(tx: Tx, chat_id: int) -> int | None:
    """The chat's ticket that is not closed yet, if any."""
    return await tickets_repo.not_closed_of_chat(tx, chat_id)


async def answered_ticket_of_chat(tx: Tx, chat_id: int) -> int | None:
    """The chat's ticket, not closed, that staff already wrote in (a reply to it continues it)."""
    return await tickets_repo.answered_of_chat(tx, chat_id)


def _staff_check(sender: str, facilitator: Facilitator | None, ticket: Ticket) -> None:
    """A facilitator acts on a ticket of their scope only; other senders are staff."""
    if sender != "facilitator":
        return
    if facilitator is None:
        raise NotAuthorised("facilitator.not_active")
    check_scope(facilitator, ticket.desa_code, target="ticket")


async def reply_to_ticket(
    tx: Tx,
    *,
    ticket_id: int,
    body: str,
    sender: str,
    actor_id: str | int | None,
    now: datetime,
    channel: str | None,
    facilitator_id: int | None = None,
    facilitator: Facilitator | None = None,
) -> str:
    """Store a staff reply, mark the ticket answered and queue ``ticket.reply`` to the worker.

    ``sender="facilitator"`` needs the acting ``facilitator``, whose scope must hold the ticket.
    """
    ticket = await tickets_repo.by_id(tx, ticket_id)
    ref = ticket_ref(ticket_id)
    if ticket is None:
        raise NotFound("ticket.not_found", ticket=ref)
    _staff_check(sender, facilitator, ticket)
    if ticket.status == "closed":
        raise Conflict("ticket.closed", ticket=ref)
    message_id = await tickets_repo.add_message(
        tx, ticket_id, sender=sender, body=body, media=None, at=now
    )
    by = facilitator.id if facilitator is not None else facilitator_id
    await tickets_repo.mark_answered(tx, ticket_id, now=now, facilitator_id=by)
    await enqueue_to_chat(
        tx,
        ticket.chat_id,
        now=now,
        msg_key="ticket.reply",
        params={"ticket": ref, "body": body},
        msg_class="transactional",
        dedupe_key=f"ticket-reply:{message_id}",
        priority=2,
    )
    await audit(
        tx,
        now=now,
        actor_kind=sender,
        actor_id=actor_id,
        action="ticket.reply",
        target_kind="ticket",
        target_id=ref,
        channel=channel,
        details={"length": len(body)},
    )
    return ref


async def close_ticket(
    tx: Tx,
    *,
    ticket_id: int,
    actor_kind: str,
    actor_id: str | int | None,
    now: datetime,
    channel: str | None,
    facilitator: Facilitator | None = None,
) -> str:
    """Close a ticket (``closed_at`` set); closing twice changes nothing.

    ``actor_kind="facilitator"`` needs the acting ``facilitator``, whose scope must hold it.
    """
    ref = ticket_ref(ticket_id)
    ticket = await tickets_repo.by_id(tx, ticket_id)
    if ticket is None:
        raise NotFound("ticket.not_found", ticket=ref)
    _staff_check(actor_kind, facilitator, ticket)
    if not await tickets_repo.close(tx, ticket_id, now=now):
        return ref
    await audit(
        tx,
        now=now,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action="ticket.close",
        target_kind="ticket",
        target_id=ref,
        channel=channel,
    )
    return ref


async def ticket_messages(tx: Tx, ticket_id: int) -> list[Any]:
    """The messages of a ticket (``sender, body, media, at``), oldest first."""
    return await tickets_repo.messages(tx, ticket_id)


async def tickets_for_facilitator(tx: Tx, actor: Facilitator) -> list[Ticket]:
    """The scope's tickets not closed yet, those waiting for an answer first."""
    if actor.revoked:
        return []
    return await tickets_repo.not_closed_in_scope(tx, actor.scope)


async def ticket_for_facilitator(tx: Tx, actor: Facilitator, ticket_id: int) -> Ticket:
    """A ticket of the actor's scope that is not closed (``NotFound`` / ``NotAuthorised``)."""
    ticket = await tickets_repo.by_id(tx, ticket_id)
    if ticket is None or ticket.status == "closed":
        raise NotFound("ticket.not_found", ticket=ticket_ref(ticket_id))
    check_scope(actor, ticket.desa_code, target="ticket")
    return ticket


# -------------------------------------------------------------------------------------------
# Escalation of unanswered tickets (called hourly by the scheduler)


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days (Mon–Fri, Jember time); weekends do not count."""
    local = start.astimezone(_WIB)
    if local.weekday() >= 5:
        # A weekend message starts waiting on Monday morning.
        monday = local.date() + timedelta(days=7 - local.weekday())
        local = datetime.combine(monday, time(0), tzinfo=_WIB)
    left = days
    while left > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            left -= 1
    return local


async def escalate_tickets(tx: Tx, now: datetime) -> int:
    """Escalate tickets unanswered for 2 working days: admin queue + tell the worker. Count."""
    count = 0
    for r in await tickets_repo.waiting_unescalated(tx):
        since = r["waiting_since"]
        if since is None:
            continue
        if add_working_days(datetime.fromisoformat(since), ESCALATE_AFTER_WORKING_DAYS) > now:
            continue
        ref = ticket_ref(r["id"])
        await tickets_repo.mark_escalated(tx, r["id"], now=now)
        await alert_admin(
            tx,
            now=now,
            msg_key="admin.ticket_escalated",
            params={"ticket": ref, "desa_code": r["desa_code"], "waiting_since": since},
            dedupe_key=f"ticket-escalated:{r['id']}",
        )
        answer_by = add_working_days(now, ESCALATE_AFTER_WORKING_DAYS).date()
        await enqueue_to_chat(
            tx,
            r["chat_id"],
            now=now,
            msg_key="ticket.escalated",
            params={"ticket": ref, "answer_by": answer_by.isoformat()},
            msg_class="transactional",
            dedupe_key=f"ticket-escalated-user:{r['id']}",
            priority=3,
        )
        await audit(
            tx,
            now=now,
            actor_kind="system",
            actor_id=None,
            action="ticket.escalate",
            target_kind="ticket",
            target_id=ref,
            details={"waiting_since": since},
        )
        count += 1
    if count:
        logger.info("tickets escalated", extra={"count": count})
    return count
