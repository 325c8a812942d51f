"""The web console's queries: staff accounts and sessions, the claims queue with its filters and
paging, registration photos, payments recorded on a claim, and the reports by kecamatan.

Every function runs inside the caller's unit of work; the console (``lingkaran.console``) holds
no SQL. A ``kecamatan`` argument (``35.09.27``) limits a query to that kecamatan's desa codes:
a kecamatan viewer's scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lingkaran_core.storage.db import Row, Tx

__all__ = [
    "QueueFilter",
    "add_registration_document",
    "claim_desa_by_ref",
    "claim_document",
    "claims_by_type_status",
    "count_claims",
    "count_login_failures",
    "coverage_groups",
    "create_session",
    "end_session",
    "insert_staff",
    "list_staff",
    "queue_claims",
    "record_login_failure",
    "registration_document",
    "registration_documents",
    "registration_worker",
    "session",
    "set_staff_disabled",
    "staff_by_id",
    "staff_by_username",
    "ticket_desa",
    "tickets_in_scope",
    "touch_session",
    "workers_by_sector",
]

_FINALS = ("paid", "rejected", "withdrawn")
# A claim's desa: its own, else its roster worker's.
_CLAIM_DESA = "COALESCE(c.desa_code, w.desa_code)"


def _prefix(kecamatan: str) -> str:
    return kecamatan.rstrip(".") + ".%"


# -- staff ------------------------------------------------------------------------------------


async def insert_staff(
    tx: Tx,
    *,
    username: str,
    name: str,
    role: str,
    kecamatan_code: str | None,
    password_hash: str,
    now: datetime,
) -> int:
    """A new staff account; its id."""
    return await tx.execute(
        "INSERT INTO staff (username, name, role, kecamatan_code, password_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (username, name, role, kecamatan_code, password_hash, now.isoformat()),
    )


async def staff_by_username(tx: Tx, username: str) -> Row | None:
    """One account by its login name."""
    return await tx.one("SELECT * FROM staff WHERE username = ?", (username,))


async def staff_by_id(tx: Tx, staff_id: int) -> Row | None:
    """One account by id."""
    return await tx.one("SELECT * FROM staff WHERE id = ?", (staff_id,))


async def list_staff(tx: Tx) -> list[Row]:
    """Every account, oldest first."""
    return await tx.all("SELECT * FROM staff ORDER BY id")


async def set_staff_disabled(tx: Tx, staff_id: int, *, now: datetime) -> bool:
    """Disable an account and end its sessions; False when there is no such live account."""
    changed = await tx.execute_rowcount(
        "UPDATE staff SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL",
        (now.isoformat(), staff_id),
    )
    await tx.execute(
        "UPDATE staff_sessions SET ended_at = ? WHERE staff_id = ? AND ended_at IS NULL",
        (now.isoformat(), staff_id),
    )
    return changed > 0


async def set_password_hash(tx: Tx, staff_id: int, password_hash: str) -> None:
    """Replace an account's password hash (a rehash with newer parameters)."""
    await tx.execute("UPDATE staff SET password_hash = ? WHERE id = ?", (password_hash, staff_id))


async def count_login_failures(tx: Tx, *, username: str, remote: str, since: datetime) -> int:
    """Failed logins for this name or from this address since ``since`` (the larger count)."""
    by_user = await tx.scalar(
        "SELECT COUNT(*) FROM staff_login_failures WHERE username = ? AND at >= ?",
        (username, since.isoformat()),
    )
    by_remote = await tx.scalar(
        "SELECT COUNT(*) FROM staff_login_failures WHERE remote = ? AND at >= ?",
        (remote, since.isoformat()),
    )
    return max(int(by_user or 0), int(by_remote or 0))


async def record_login_failure(tx: Tx, *, username: str, remote: str, now: datetime) -> None:
    """Remember a failed login (throttling)."""
    await tx.execute(
        "INSERT INTO staff_login_failures (username, remote, at) VALUES (?, ?, ?)",
        (username, remote, now.isoformat()),
    )


async def clear_login_failures(tx: Tx, *, username: str) -> None:
    """Forget a name's failures after a good login."""
    await tx.execute("DELETE FROM staff_login_failures WHERE username = ?", (username,))


# -- sessions ---------------------------------------------------------------------------------


async def create_session(
    tx: Tx, *, token_hash: str, staff_id: int, csrf_token: str, now: datetime
) -> None:
    """Start a session (the token itself is never stored, only its hash)."""
    await tx.execute(
        "INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, created_at, last_seen_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (token_hash, staff_id, csrf_token, now.isoformat(), now.isoformat()),
    )
    await tx.execute("UPDATE staff SET last_login_at = ? WHERE id = ?", (now.isoformat(), staff_id))


async def session(tx: Tx, token_hash: str) -> Row | None:
    """A live session with its account's fields (``s_*`` for the session)."""
    return await tx.one(
        "SELECT s.token_hash AS s_token_hash, s.csrf_token AS s_csrf, "
        "s.last_seen_at AS s_last_seen, s.created_at AS s_created, st.* "
        "FROM staff_sessions s JOIN staff st ON st.id = s.staff_id "
        "WHERE s.token_hash = ? AND s.ended_at IS NULL",
        (token_hash,),
    )


async def touch_session(tx: Tx, token_hash: str, *, now: datetime) -> None:
    """Note activity on a session (the idle timeout counts from here)."""
    await tx.execute(
        "UPDATE staff_sessions SET last_seen_at = ? WHERE token_hash = ?",
        (now.isoformat(), token_hash),
    )


async def end_session(tx: Tx, token_hash: str, *, now: datetime) -> None:
    """Log a session out."""
    await tx.execute(
        "UPDATE staff_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
        (now.isoformat(), token_hash),
    )


# -- the claims queue -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueFilter:
    """The claims queue's filters (None: any), order and page."""

    status: str | None = None
    type: str | None = None
    kecamatan: str | None = None
    desa_code: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    open_only: bool = False
    # Not protected on the event date by the roster (or not computed: a report from before the
    # check existed): a case staff check.
    flagged: bool = False
    # JKK tahap I notice: "unsent" (open, not recorded as forwarded) or "overdue" (unsent and
    # past its 2×24 h: an accident before ``overdue_day``, or one of ``overdue_ids`` on it,
    # as ``services.overdue_notices`` says).
    notice: str | None = None
    overdue_day: date | None = None
    overdue_ids: tuple[int, ...] = ()
    sort: str = "deadline"  # deadline | newest
    limit: int = 25
    offset: int = 0


def _queue_where(f: QueueFilter) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if f.status:
        where.append("c.status = ?")
        params.append(f.status)
    if f.type:
        where.append("c.type = ?")
        params.append(f.type)
    if f.desa_code:
        where.append(_CLAIM_DESA + " = ?")
        params.append(f.desa_code)
    if f.kecamatan:
        where.append(_CLAIM_DESA + " LIKE ?")
        params.append(_prefix(f.kecamatan))
    if f.date_from:
        where.append("c.event_date >= ?")
        params.append(f.date_from.isoformat())
    if f.date_to:
        where.append("c.event_date <= ?")
        params.append(f.date_to.isoformat())
    if f.open_only:
        where.append("c.status NOT IN (" + ",".join("?" * len(_FINALS)) + ")")
        params.extend(_FINALS)
    if f.flagged:
        where.append("COALESCE(c.event_coverage, '') != 'protected'")
    if f.notice in ("unsent", "overdue"):
        where.append(
            "c.type = 'JKK' AND c.notice_sent_at IS NULL AND c.status NOT IN ("
            + ",".join("?" * len(_FINALS))
            + ")"
        )
        params.extend(_FINALS)
    if f.notice == "overdue":
        day = (f.overdue_day or date.min).isoformat()
        if f.overdue_ids:
            where.append(
                "(c.event_date < ? OR c.id IN (" + ",".join("?" * len(f.overdue_ids)) + "))"
            )
            params.extend([day, *f.overdue_ids])
        else:
            where.append("c.event_date < ?")
            params.append(day)
    return ((" WHERE " + " AND ".join(where)) if where else ""), params


_FROM = "FROM claims c LEFT JOIN workers w ON w.id = c.worker_id"


async def queue_claims(tx: Tx, f: QueueFilter) -> list[Row]:
    """One page of the queue: open claims with the nearest deadline first (or newest first)."""
    clause, params = _queue_where(f)
    if f.sort == "newest":
        order = "c.id DESC"
    else:
        # Open JKK reports first (the 2×24 h tahap I clock), by accident time; then the rest of
        # the open claims by event date; finished claims last.
        order = (
            "c.status IN ('paid', 'rejected', 'withdrawn'), c.type != 'JKK', "
            "COALESCE(c.event_at, c.event_date), c.id"
        )
    return await tx.all(
        "SELECT c.id, c.ref, c.type, c.status, c.event_date, c.event_at, c.subject_name, "
        "c.subject_nik, c.reported_at, c.late_report, c.checklist, c.event_coverage, "
        "c.notice_sent_at, c.answers, " + _CLAIM_DESA + " AS desa, "
        "(SELECT COUNT(DISTINCT kind) FROM claim_documents d WHERE d.claim_id = c.id) AS docs "
        + _FROM
        + clause
        + " ORDER BY "
        + order
        + " LIMIT ? OFFSET ?",
        [*params, f.limit, f.offset],
    )


async def count_claims(tx: Tx, f: QueueFilter) -> int:
    """How many claims match the filters (for paging)."""
    clause, params = _queue_where(f)
    return int(await tx.scalar("SELECT COUNT(*) " + _FROM + clause, params) or 0)


async def claim_desa_by_ref(tx: Tx, ref: str) -> tuple[bool, str | None]:
    """(exists, the claim's desa: its own, else its worker's)."""
    row = await tx.one("SELECT " + _CLAIM_DESA + " AS desa " + _FROM + " WHERE c.ref = ?", (ref,))
    if row is None:
        return False, None
    return True, row["desa"]


async def claim_document(tx: Tx, claim_id: int, document_id: int) -> Row | None:
    """One document of a claim (None when it is not that claim's)."""
    return await tx.one(
        "SELECT id, kind, path, mime, size, received_at, purged_at FROM claim_documents "
        "WHERE id = ? AND claim_id = ?",
        (document_id, claim_id),
    )


async def claim_documents(tx: Tx, claim_id: int) -> list[Row]:
    """A claim's documents with their ids, in arrival order."""
    return await tx.all(
        "SELECT id, kind, path, sha256, mime, size, received_at, purged_at FROM claim_documents "
        "WHERE claim_id = ? ORDER BY id",
        (claim_id,),
    )


async def registration_worker(tx: Tx, worker_id: int) -> Row | None:
    """A worker's registration fields with the facilitator's name."""
    return await tx.one(
        "SELECT w.*, f.name AS facilitator_name FROM workers w "
        "LEFT JOIN facilitators f ON f.id = w.registered_by WHERE w.id = ?",
        (worker_id,),
    )


async def pending_registrations(tx: Tx, *, kecamatan: str | None = None) -> list[Row]:
    """Registrations waiting for verification (of one kecamatan), oldest first, with photos."""
    where = "WHERE w.registration_status = 'registered'"
    params: list[Any] = []
    if kecamatan:
        where += " AND w.desa_code LIKE ?"
        params.append(_prefix(kecamatan))
    return await tx.all(
        "SELECT w.id, w.nik, w.name, w.birth_date, w.sex, w.desa_code, w.sector, w.occupation, "
        "w.phone, w.created_at, f.name AS facilitator_name, "
        "(SELECT COUNT(*) FROM registration_documents d WHERE d.worker_id = w.id) AS photos "
        "FROM workers w LEFT JOIN facilitators f ON f.id = w.registered_by "
        + where
        + " ORDER BY w.id",
        params,
    )


async def add_registration_document(
    tx: Tx,
    worker_id: int,
    *,
    kind: str,
    path: str,
    sha256: str,
    mime: str,
    size: int,
    now: datetime,
) -> int:
    """Attach a photo (KTP, KK, ...) to a registration; its id (the same file twice: no new row)."""
    await tx.execute(
        "INSERT INTO registration_documents "
        "(worker_id, kind, path, sha256, mime, size, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (worker_id, sha256) DO NOTHING",
        (worker_id, kind, path, sha256, mime, size, now.isoformat()),
    )
    return int(
        await tx.scalar(
            "SELECT id FROM registration_documents WHERE worker_id = ? AND sha256 = ?",
            (worker_id, sha256),
        )
    )


async def registration_documents(tx: Tx, worker_id: int) -> list[Row]:
    """A registration's photos, in arrival order."""
    return await tx.all(
        "SELECT id, kind, mime, size, sha256, received_at FROM registration_documents "
        "WHERE worker_id = ? ORDER BY id",
        (worker_id,),
    )


async def registration_document(tx: Tx, worker_id: int, document_id: int) -> Row | None:
    """One photo of a registration (None when it is not that worker's)."""
    return await tx.one(
        "SELECT id, kind, path, mime, size FROM registration_documents "
        "WHERE id = ? AND worker_id = ?",
        (document_id, worker_id),
    )


# -- tickets ----------------------------------------------------------------------------------


async def tickets_in_scope(
    tx: Tx, *, kecamatan: str | None, include_closed: bool, limit: int = 200
) -> list[Row]:
    """The inbox (of one kecamatan): escalated first, then open, then answered."""
    where: list[str] = []
    params: list[Any] = []
    if not include_closed:
        where.append("t.status != 'closed'")
    if kecamatan:
        where.append("t.desa_code LIKE ?")
        params.append(_prefix(kecamatan))
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return await tx.all(
        "SELECT t.id, t.status, t.created_at, t.updated_at, t.desa_code, t.escalated_at, "
        "t.topic, w.name AS worker_name, c.display_name, c.channel, "
        "(SELECT body FROM ticket_messages m WHERE m.ticket_id = t.id ORDER BY m.id DESC LIMIT 1)"
        " AS last_body FROM tickets t LEFT JOIN workers w ON w.id = t.worker_id "
        "JOIN chats c ON c.id = t.chat_id"
        + clause
        + " ORDER BY t.escalated_at IS NULL, t.status = 'answered', t.id LIMIT ?",
        [*params, limit],
    )


async def ticket_desa(tx: Tx, ticket_id: int) -> tuple[bool, str | None]:
    """(exists, the ticket's desa)."""
    row = await tx.one("SELECT desa_code FROM tickets WHERE id = ?", (ticket_id,))
    if row is None:
        return False, None
    return True, row["desa_code"]


# -- reports ----------------------------------------------------------------------------------

_PARTICIPANT = "registration_status != 'rejected'"


def _worker_scope(kecamatan: str | None) -> tuple[str, list[Any]]:
    if not kecamatan:
        return "", []
    return " AND desa_code LIKE ?", [_prefix(kecamatan)]


async def workers_by_sector(tx: Tx, *, kecamatan: str | None) -> dict[str, int]:
    """Participants per sector (of one kecamatan)."""
    clause, params = _worker_scope(kecamatan)
    rows = await tx.all(
        "SELECT sector, COUNT(*) AS n FROM workers WHERE "
        + _PARTICIPANT
        + clause
        + " GROUP BY sector",
        params,
    )
    return {str(r["sector"]): int(r["n"]) for r in rows}


async def coverage_groups(
    tx: Tx, *, kecamatan: str | None
) -> list[tuple[str | None, str | None, int]]:
    """(coverage_start, paid-through month ``YYYY-MM``, count) of the participants (of one
    kecamatan). Grouped in index order by the full paid-through date, then by month here: no
    temporary b-tree over 82k rows."""
    clause, params = _worker_scope(kecamatan)
    rows = await tx.all(
        "SELECT coverage_start, paid_through, COUNT(*) AS n FROM workers WHERE "
        + _PARTICIPANT
        + clause
        + " GROUP BY coverage_start, paid_through",
        params,
    )
    months: dict[tuple[str | None, str | None], int] = {}
    for r in rows:
        paid = r["paid_through"]
        key = (r["coverage_start"], None if paid is None else str(paid)[:7])
        months[key] = months.get(key, 0) + int(r["n"])
    return [(start, month, n) for (start, month), n in months.items()]


async def claims_by_type_status(tx: Tx, *, kecamatan: str | None) -> list[tuple[str, str, int]]:
    """(type, status, count) of the claims (of one kecamatan)."""
    where = ""
    params: list[Any] = []
    if kecamatan:
        where = " WHERE " + _CLAIM_DESA + " LIKE ?"
        params.append(_prefix(kecamatan))
    rows = await tx.all(
        "SELECT c.type, c.status, COUNT(*) AS n " + _FROM + where + " GROUP BY c.type, c.status",
        params,
    )
    return [(str(r["type"]), str(r["status"]), int(r["n"])) for r in rows]
