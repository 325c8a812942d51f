"""Repository queries for the OPD's tools (admin CLI, later the web console).

Everything here is read-mostly and returns plain rows or small dataclasses; the use cases that
change data (verifying a registration, ...) live in ``lingkaran_core.opd`` and call these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lingkaran_core.storage.db import Row, Tx

__all__ = [
    "ClaimFilter",
    "PendingRegistration",
    "applied_migrations",
    "broadcast_recipients",
    "claim_counts",
    "claim_documents",
    "facilitator_bound_chat",
    "list_claims",
    "next_queued_at",
    "oldest_template_since",
    "outbox_counts",
    "pending_registrations",
    "registration",
    "requeue_outbox",
    "set_registration_rejected",
    "set_registration_verified",
    "ticket_row",
    "ticket_rows",
    "worker_chat_ids",
    "worker_claims",
]


async def applied_migrations(tx: Tx) -> list[str]:
    """The names of the migrations applied, in order."""
    return [str(row[0]) for row in await tx.all("SELECT name FROM schema_migrations ORDER BY 1")]


async def worker_chat_ids(tx: Tx, worker_id: int) -> list[int]:
    """Ids of the chats linked to a worker (its own phone and the household phones)."""
    rows = await tx.all(
        "SELECT chat_id AS id FROM chat_links WHERE worker_id = ? "
        "UNION SELECT id FROM chats WHERE worker_id = ? ORDER BY 1",
        (worker_id, worker_id),
    )
    return [int(r["id"]) for r in rows]


async def worker_claims(tx: Tx, worker_id: int) -> list[Row]:
    """A worker's claims (ref, type, status, event_date), oldest first."""
    return await tx.all(
        "SELECT ref, type, status, event_date FROM claims WHERE worker_id = ? ORDER BY id",
        (worker_id,),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimFilter:
    """What the claims queue is filtered by (None: any)."""

    status: str | None = None
    type: str | None = None
    desa_code: str | None = None
    limit: int = 50


async def list_claims(tx: Tx, f: ClaimFilter) -> list[Row]:
    """Newest claims first, with how many document kinds arrived (``docs``)."""
    where: list[str] = []
    params: list[object] = []
    if f.status:
        where.append("c.status = ?")
        params.append(f.status)
    if f.type:
        where.append("c.type = ?")
        params.append(f.type)
    if f.desa_code:
        where.append("c.desa_code = ?")
        params.append(f.desa_code)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return await tx.all(
        "SELECT c.ref, c.type, c.status, c.event_date, c.desa_code, c.subject_name, "
        "c.subject_nik, c.reported_at, c.late_report, c.checklist, c.event_coverage, "
        "c.notice_sent_at, (SELECT COUNT(DISTINCT kind) FROM claim_documents d "
        "WHERE d.claim_id = c.id AND d.replaced_at IS NULL) AS docs "
        "FROM claims c" + clause + " ORDER BY c.id DESC LIMIT ?",
        [*params, f.limit],
    )


async def claim_documents(tx: Tx, claim_id: int) -> list[Row]:
    """A claim's stored documents, in arrival order."""
    return await tx.all(
        "SELECT kind, path, sha256, mime, size, received_at, replaced_at FROM claim_documents "
        "WHERE claim_id = ? ORDER BY id",
        (claim_id,),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingRegistration:
    """A worker registered by a facilitator, as the verification queue shows it."""

    id: int
    nik: str
    name: str
    desa_code: str | None
    sector: str | None
    created_at: str
    facilitator_name: str | None


async def pending_registrations(tx: Tx) -> list[PendingRegistration]:
    """Registrations waiting for OPD verification, oldest first."""
    rows = await tx.all(
        "SELECT w.id, w.nik, w.name, w.desa_code, w.sector, w.created_at, f.name AS fname "
        "FROM workers w LEFT JOIN facilitators f ON f.id = w.registered_by "
        "WHERE w.registration_status = 'registered' ORDER BY w.id"
    )
    return [
        PendingRegistration(
            id=int(r["id"]),
            nik=str(r["nik"]),
            name=str(r["name"]),
            desa_code=r["desa_code"],
            sector=r["sector"],
            created_at=str(r["created_at"]),
            facilitator_name=r["fname"],
        )
        for r in rows
    ]


async def registration(tx: Tx, worker_id: int) -> Row | None:
    """The registration fields of one worker (None when there is no such worker)."""
    return await tx.one(
        "SELECT id, nik, name, registration_status, registered_by, coverage_start "
        "FROM workers WHERE id = ?",
        (worker_id,),
    )


async def facilitator_bound_chat(tx: Tx, facilitator_id: int) -> int | None:
    """The chat a live facilitator is bound to, if any."""
    chat = await tx.scalar(
        "SELECT bound_chat_id FROM facilitators WHERE id = ? AND revoked_at IS NULL",
        (facilitator_id,),
    )
    return None if chat is None else int(chat)


async def set_registration_verified(
    tx: Tx, worker_id: int, *, coverage_start: date, now: datetime
) -> None:
    """Mark a registration verified; coverage starts on ``coverage_start`` unless already set."""
    await tx.execute(
        "UPDATE workers SET registration_status = 'verified', rejection_reason = NULL, "
        "coverage_start = COALESCE(coverage_start, ?), updated_at = ? WHERE id = ?",
        (coverage_start.isoformat(), now.isoformat(), worker_id),
    )


async def set_registration_rejected(tx: Tx, worker_id: int, *, reason: str, now: datetime) -> None:
    """Mark a registration rejected with its reason."""
    await tx.execute(
        "UPDATE workers SET registration_status = 'rejected', rejection_reason = ?, "
        "updated_at = ? WHERE id = ?",
        (reason, now.isoformat(), worker_id),
    )


async def broadcast_recipients(
    tx: Tx,
    *,
    sectors: Sequence[str] = (),
    desa_codes: Sequence[str] = (),
    kecamatan_codes: Sequence[str] = (),
) -> list[Row]:
    """Chats linked to verified, living workers that have not opted out, by the filters.

    Any of the sectors (when given) and any of the places: a desa, or a kecamatan by code
    prefix (``35.09.27`` covers ``35.09.27.2002``). A chat is any chat linked to such a worker:
    its own link or a household link (``chat_links``; one phone for several family members),
    and it is listed once however many of its workers match, so a household phone gets one
    message per broadcast. ``ValueError`` without any filter: a broadcast to everybody is
    never an accident.
    """
    clauses: list[str] = []
    params: list[Any] = []
    if sectors:
        clauses.append("w.sector IN (" + ",".join("?" * len(sectors)) + ")")
        params.extend(sectors)
    places = ["w.desa_code = ?" for _ in desa_codes]
    params.extend(desa_codes)
    places += ["w.desa_code LIKE ?" for _ in kecamatan_codes]
    params.extend(k.rstrip(".") + ".%" for k in kecamatan_codes)
    if places:
        clauses.append("(" + " OR ".join(places) + ")")
    if not clauses:
        raise ValueError("choose recipients with --sector, --desa or --kecamatan")
    workers = " AND ".join(
        ["w.registration_status = 'verified'", "w.deceased_on IS NULL", *clauses]
    )
    # chats.worker_id is the chat's first link and is in chat_links too (migration 014); the
    # UNION keeps a chat linked by an older path (as identity_repo.linked_chat_ids does).
    return await tx.all(
        "SELECT c.id, c.channel, c.user_ref, c.last_inbound_at FROM chats c "
        "WHERE c.opted_out = 0 AND c.id IN ("
        "SELECT l.chat_id FROM chat_links l JOIN workers w ON w.id = l.worker_id WHERE "
        + workers
        + " UNION SELECT o.id FROM chats o JOIN workers w ON w.id = o.worker_id WHERE "
        + workers
        + ") ORDER BY c.id",
        [*params, *params],
    )


_TICKETS = (
    "SELECT t.id, t.status, t.created_at, t.updated_at, t.desa_code, t.escalated_at, t.topic, "
    "w.name AS worker_name, w.nik AS worker_nik, c.display_name, c.channel, "
    "(SELECT body FROM ticket_messages m WHERE m.ticket_id = t.id ORDER BY m.id DESC LIMIT 1) "
    "AS last_body FROM tickets t LEFT JOIN workers w ON w.id = t.worker_id "
    "JOIN chats c ON c.id = t.chat_id "
)


async def ticket_rows(tx: Tx, *, include_closed: bool) -> list[Row]:
    """Tickets for the inbox: escalated first, then open, then answered."""
    where = "" if include_closed else "WHERE t.status != 'closed' "
    return await tx.all(
        _TICKETS + where + "ORDER BY t.escalated_at IS NULL, t.status = 'answered', t.id"
    )


async def ticket_row(tx: Tx, ticket_id: int) -> Row | None:
    """One ticket as the inbox shows it."""
    return await tx.one(_TICKETS + "WHERE t.id = ?", (ticket_id,))


async def next_queued_at(tx: Tx, channel: str) -> str | None:
    """The earliest ``not_before`` of a queued outbox row of ``channel`` (ISO text)."""
    value = await tx.scalar(
        "SELECT MIN(not_before) FROM outbox WHERE channel = ? AND status = 'queued'", (channel,)
    )
    return None if value is None else str(value)


async def oldest_template_since(tx: Tx, channel: str, since: datetime) -> str | None:
    """When the oldest template still inside the rolling tier window was sent (ISO text)."""
    value = await tx.scalar(
        "SELECT MIN(sent_at) FROM outbox WHERE channel = ? AND via_template IS NOT NULL "
        "AND sent_at >= ?",
        (channel, since.isoformat()),
    )
    return None if value is None else str(value)


async def outbox_counts(tx: Tx) -> list[tuple[str, str, str, int]]:
    """Outbox rows by (channel, class, status)."""
    rows = await tx.all(
        "SELECT channel, class, status, COUNT(*) AS n FROM outbox GROUP BY channel, class, status"
    )
    return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]


async def claim_counts(tx: Tx) -> list[tuple[str, str, int]]:
    """Claims by (type, status)."""
    rows = await tx.all("SELECT type, status, COUNT(*) FROM claims GROUP BY type, status")
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


async def requeue_outbox(
    tx: Tx,
    *,
    now: datetime,
    statuses: Sequence[str],
    channel: str | None = None,
    msg_class: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    dry_run: bool = False,
) -> int:
    """Put failed or dead rows back in the queue (attempts reset); how many (would be) moved."""
    allowed = {"failed", "dead"}
    if not statuses or not set(statuses) <= allowed:
        raise ValueError("requeue only failed or dead rows")
    where = ["status IN (" + ",".join("?" * len(statuses)) + ")"]
    params: list[Any] = list(statuses)
    if channel:
        where.append("channel = ?")
        params.append(channel)
    if msg_class:
        where.append("class = ?")
        params.append(msg_class)
    if since is not None:
        where.append("created_at >= ?")
        params.append(since.isoformat())
    if until is not None:
        where.append("created_at < ?")
        params.append(until.isoformat())
    clause = " AND ".join(where)
    if dry_run:
        return int(await tx.scalar("SELECT COUNT(*) FROM outbox WHERE " + clause, params) or 0)
    return await tx.execute_rowcount(
        "UPDATE outbox SET status = 'queued', attempts = 0, last_error = NULL, "
        "claimed_at = NULL, not_before = ? WHERE " + clause,
        [now.isoformat(), *params],
    )
