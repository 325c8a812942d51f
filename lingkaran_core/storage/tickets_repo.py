"""Tickets (the human inbox) and their messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lingkaran_core.scope import Scope
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.facilitator_repo import scope_sql


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticket:
    """A ticket with who it is from (the linked worker, else the chat's display name)."""

    id: int
    chat_id: int
    status: str
    created_at: str
    desa_code: str | None
    escalated_at: str | None
    worker_name: str | None
    worker_nik: str | None
    worker_sex: str | None
    display_name: str | None


_TICKET_SQL = (
    "SELECT t.id, t.chat_id, t.status, t.created_at, t.desa_code, t.escalated_at, "
    "w.name AS worker_name, w.nik AS worker_nik, w.sex AS worker_sex, c.display_name "
    "FROM tickets t LEFT JOIN workers w ON w.id = t.worker_id JOIN chats c ON c.id = t.chat_id "
)


def _ticket(row: Any) -> Ticket:
    return Ticket(
        id=row["id"],
        chat_id=row["chat_id"],
        status=row["status"],
        created_at=row["created_at"],
        desa_code=row["desa_code"],
        escalated_at=row["escalated_at"],
        worker_name=row["worker_name"],
        worker_nik=row["worker_nik"],
        worker_sex=row["worker_sex"],
        display_name=row["display_name"],
    )


async def by_id(tx: Tx, ticket_id: int) -> Ticket | None:
    """A ticket by id (closed ones included)."""
    row = await tx.one(_TICKET_SQL + "WHERE t.id = ?", (ticket_id,))
    return None if row is None else _ticket(row)


async def not_closed_in_scope(tx: Tx, scope: Scope) -> list[Ticket]:
    """A scope's tickets not closed yet: waiting ones first, then by age."""
    clause, params = scope_sql(scope, "t.desa_code")
    rows = await tx.all(
        _TICKET_SQL + f"WHERE t.status != 'closed' AND t.desa_code IS NOT NULL AND {clause} "
        "ORDER BY CASE t.status WHEN 'open' THEN 0 ELSE 1 END, t.id",
        params,
    )
    return [_ticket(r) for r in rows]


async def chat_worker_desa(tx: Tx, chat_id: int) -> tuple[int | None, str | None]:
    """The worker linked to a chat and that worker's desa."""
    row = await tx.one(
        "SELECT c.worker_id, w.desa_code FROM chats c LEFT JOIN workers w ON w.id = c.worker_id "
        "WHERE c.id = ?",
        (chat_id,),
    )
    if row is None:
        return None, None
    return row["worker_id"], row["desa_code"]


async def worker_of(tx: Tx, ticket_id: int) -> int | None:
    """The worker a ticket is about, if any."""
    found = await tx.scalar("SELECT worker_id FROM tickets WHERE id = ?", (ticket_id,))
    return None if found is None else int(found)


async def not_closed_of_chat(tx: Tx, chat_id: int) -> int | None:
    """The chat's newest ticket that is not closed."""
    found = await tx.scalar(
        "SELECT id FROM tickets WHERE chat_id = ? AND status != 'closed' ORDER BY id DESC",
        (chat_id,),
    )
    return None if found is None else int(found)


async def answered_of_chat(tx: Tx, chat_id: int) -> int | None:
    """The chat's newest ticket, not closed, that staff have written in."""
    found = await tx.scalar(
        "SELECT t.id FROM tickets t WHERE t.chat_id = ? AND t.status != 'closed' AND EXISTS "
        "(SELECT 1 FROM ticket_messages m WHERE m.ticket_id = t.id AND m.sender != 'user') "
        "ORDER BY t.id DESC LIMIT 1",
        (chat_id,),
    )
    return None if found is None else int(found)


async def touch(tx: Tx, ticket_id: int, *, now: datetime, reopen: bool) -> None:
    """A new message on a ticket (back to ``open`` when ``reopen``)."""
    await tx.execute(
        "UPDATE tickets SET updated_at = ?, status = CASE WHEN ? THEN 'open' ELSE status END "
        "WHERE id = ?",
        (now.isoformat(), int(reopen), ticket_id),
    )


async def insert(
    tx: Tx,
    *,
    chat_id: int,
    worker_id: int | None,
    desa_code: str | None,
    topic: str,
    now: datetime,
) -> int:
    """A new open ticket."""
    return await tx.execute(
        "INSERT INTO tickets (chat_id, worker_id, desa_code, topic, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (chat_id, worker_id, desa_code, topic, now.isoformat(), now.isoformat()),
    )


async def add_message(
    tx: Tx, ticket_id: int, *, sender: str, body: str | None, media: str | None, at: datetime
) -> int:
    """Append a message to a ticket; its id."""
    return await tx.execute(
        "INSERT INTO ticket_messages (ticket_id, sender, body, media, at) VALUES (?, ?, ?, ?, ?)",
        (ticket_id, sender, body, media, at.isoformat()),
    )


async def mark_answered(
    tx: Tx, ticket_id: int, *, now: datetime, facilitator_id: int | None
) -> None:
    """Staff replied: the ticket waits for nobody (and remembers the facilitator who did)."""
    await tx.execute(
        "UPDATE tickets SET status = 'answered', updated_at = ?, "
        "facilitator_id = COALESCE(?, facilitator_id) WHERE id = ?",
        (now.isoformat(), facilitator_id, ticket_id),
    )


async def close(tx: Tx, ticket_id: int, *, now: datetime) -> bool:
    """Close a ticket; False when it was closed already (or does not exist)."""
    changed = await tx.execute_rowcount(
        "UPDATE tickets SET status = 'closed', closed_at = ?, updated_at = ? "
        "WHERE id = ? AND status != 'closed'",
        (now.isoformat(), now.isoformat(), ticket_id),
    )
    return changed > 0


async def messages(tx: Tx, ticket_id: int) -> list[Any]:
    """``sender, body, media, at`` of a ticket's messages, oldest first."""
    return await tx.all(
        "SELECT sender, body, media, at FROM ticket_messages WHERE ticket_id = ? ORDER BY id",
        (ticket_id,),
    )


async def waiting_unescalated(tx: Tx) -> list[Any]:
    """Open, never escalated tickets with the first user message after the last staff reply."""
    return await tx.all(
        "SELECT t.id, t.chat_id, t.desa_code, ("
        "  SELECT MIN(m.at) FROM ticket_messages m WHERE m.ticket_id = t.id AND m.sender = 'user'"
        "  AND m.id > COALESCE((SELECT MAX(s.id) FROM ticket_messages s WHERE s.ticket_id = t.id "
        "  AND s.sender != 'user'), 0)) AS waiting_since "
        "FROM tickets t WHERE t.status = 'open' AND t.escalated_at IS NULL ORDER BY t.id"
    )


async def mark_escalated(tx: Tx, ticket_id: int, *, now: datetime) -> None:
    """Record a ticket's escalation to the admin queue."""
    await tx.execute(
        "UPDATE tickets SET escalated_at = ?, updated_at = ? WHERE id = ?",
        (now.isoformat(), now.isoformat(), ticket_id),
    )


async def close_all_of_chat(tx: Tx, chat_id: int, *, now: datetime) -> int:
    """Close every ticket of a chat that is not closed; how many."""
    return await tx.execute_rowcount(
        "UPDATE tickets SET status = 'closed', closed_at = ?, updated_at = ? "
        "WHERE chat_id = ? AND status != 'closed'",
        (now.isoformat(), now.isoformat(), chat_id),
    )
