"""Outbox rows for the dispatcher, and the chunked loaders the reminder sweeps read.

Row life::

    queued ──claim──▶ sending ──▶ sent
      ▲                  │  ├──▶ queued (retry: attempts+1, not_before later; or deferred)
      │                  │  ├──▶ dead    (max attempts reached; last_error kept)
      │                  │  ├──▶ failed  (undeliverable)
      │                  │  ├──▶ dropped (policy: opted out)
      └──── release ──── held ◀┘        (no template outside the WhatsApp window)

A row is ``sending`` only while one dispatcher has it in hand; a crash leaves it so, and
``requeue_stale`` puts it back on start-up: a crash costs at most one repeated send, never a
lost one. Channel ``admin`` rows are never claimed: they are the OPD queue, read by the CLI.

The loaders read big tables by id ranges (``CHUNK`` ids at a time), each range under its own
short read and with ``await asyncio.sleep(0)`` in between, so a 200k-worker sweep neither holds
the database lock nor blocks the event loop for long.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lingkaran_core.reminders import (
    ChatTarget,
    CoverageRow,
    DigestCounts,
    DueReminder,
    FacilitatorRecord,
    JKKClaimRecord,
    MissingDocsClaim,
    ProtectedCandidate,
    ScholarshipClaimRecord,
)
from lingkaran_core.storage.db import Database, Tx, dumps, loads

CHUNK = 5000
ADMIN_CHANNEL = "admin"

_ROW_COLS = (
    "id, chat_id, channel, user_ref, msg_key, params, language, class, priority, dedupe_key, "
    "not_before, attempts, status, last_error, created_at"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRow:
    """An outbox row as the dispatcher sees it."""

    id: int
    chat_id: int | None
    channel: str
    user_ref: str
    msg_key: str
    params: dict[str, Any]
    language: str | None
    msg_class: str
    priority: int
    dedupe_key: str | None
    not_before: str
    attempts: int
    status: str
    last_error: str | None
    created_at: str


def _row(r: Any) -> OutboxRow:
    return OutboxRow(
        id=r["id"],
        chat_id=r["chat_id"],
        channel=r["channel"],
        user_ref=r["user_ref"],
        msg_key=r["msg_key"],
        params=loads(r["params"]) or {},
        language=r["language"],
        msg_class=r["class"],
        priority=r["priority"],
        dedupe_key=r["dedupe_key"],
        not_before=r["not_before"],
        attempts=r["attempts"],
        status=r["status"],
        last_error=r["last_error"],
        created_at=r["created_at"],
    )


# ---------------------------------------------------------------------------------------------
# Dispatcher side


async def claim_due(tx: Tx, *, channel: str, now: datetime, limit: int) -> list[OutboxRow]:
    """Take up to ``limit`` due rows of a channel (most urgent first) and mark them sending."""
    if channel == ADMIN_CHANNEL:
        return []
    # Several instances may claim at once on PostgreSQL: SKIP LOCKED gives each its own rows,
    # and the outer ``status = 'queued'`` keeps a row another claim took in between from being
    # taken twice (SQLite serialises writers, so there the clause is merely true).
    skip_locked = " FOR UPDATE SKIP LOCKED" if tx.dialect == "postgresql" else ""
    rows = await tx.all(
        "UPDATE outbox SET status = 'sending', claimed_at = ? WHERE status = 'queued' AND id IN ("
        "SELECT id FROM outbox WHERE channel = ? AND status = 'queued' AND not_before <= ? "
        f"ORDER BY priority, id LIMIT ?{skip_locked}) RETURNING {_ROW_COLS}",
        (now.isoformat(), channel, now.isoformat(), limit),
    )
    # RETURNING gives no order guarantee.
    return sorted((_row(r) for r in rows), key=lambda r: (r.priority, r.id))


async def mark_sent(
    tx: Tx,
    outbox_id: int,
    *,
    now: datetime,
    message_ids: Sequence[str],
    via_template: str | None = None,
) -> None:
    """Record a successful send."""
    await tx.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ?, channel_message_id = ?, "
        "via_template = ?, last_error = NULL WHERE id = ?",
        (now.isoformat(), ",".join(message_ids) or None, via_template, outbox_id),
    )


async def mark_retry(
    tx: Tx, outbox_id: int, *, attempts: int, not_before: datetime, error: str
) -> None:
    """Back to the queue after a failure, to be tried again at ``not_before``."""
    await tx.execute(
        "UPDATE outbox SET status = 'queued', attempts = ?, not_before = ?, last_error = ?, "
        "claimed_at = NULL WHERE id = ?",
        (attempts, not_before.isoformat(), error[:500], outbox_id),
    )


async def release(tx: Tx, outbox_id: int, *, not_before: datetime) -> None:
    """Back to the queue without counting an attempt (quiet hours, pacing, tier budget)."""
    await tx.execute(
        "UPDATE outbox SET status = 'queued', not_before = ?, claimed_at = NULL WHERE id = ?",
        (not_before.isoformat(), outbox_id),
    )


async def _final(tx: Tx, outbox_id: int, status: str, error: str, attempts: int | None) -> None:
    await tx.execute(
        "UPDATE outbox SET status = ?, last_error = ?, claimed_at = NULL, "
        "attempts = COALESCE(?, attempts) WHERE id = ?",
        (status, error[:500], attempts, outbox_id),
    )


async def mark_dead(tx: Tx, outbox_id: int, *, attempts: int, error: str) -> None:
    """Give up after too many attempts; the row stays as a dead letter with its last error."""
    await _final(tx, outbox_id, "dead", error, attempts)


async def mark_failed(tx: Tx, outbox_id: int, *, error: str) -> None:
    """The recipient can never get it (blocked the bot, invalid number)."""
    await _final(tx, outbox_id, "failed", error, None)


async def mark_dropped(tx: Tx, outbox_id: int, *, reason: str) -> None:
    """Not sent by policy (opted out)."""
    await _final(tx, outbox_id, "dropped", reason, None)


async def mark_held(tx: Tx, outbox_id: int, *, reason: str) -> None:
    """Waiting for the situation to change (WhatsApp window closed, no template)."""
    await _final(tx, outbox_id, "held", reason, None)


async def release_held(
    tx: Tx, *, now: datetime, channel: str | None = None, user_ref: str | None = None
) -> int:
    """Re-examine held rows (all, one channel's, or one user's): back to the queue."""
    sql = "UPDATE outbox SET status = 'queued', not_before = ? WHERE status = 'held'"
    params: list[Any] = [now.isoformat()]
    if channel is not None:
        sql += " AND channel = ?"
        params.append(channel)
    if user_ref is not None:
        sql += " AND user_ref = ?"
        params.append(user_ref)
    return await tx.execute_rowcount(sql, params)


async def requeue_stale(
    tx: Tx, *, channel: str | None = None, claimed_before: datetime | None = None
) -> int:
    """Rows left ``sending`` by a crash go back to the queue (at most a retry).

    ``claimed_before``: only rows claimed before then (several instances share the queue: a row
    another instance is sending right now is not stale).
    """
    sql = "UPDATE outbox SET status = 'queued', claimed_at = NULL WHERE status = 'sending'"
    params: list[Any] = []
    if channel is not None:
        sql += " AND channel = ?"
        params.append(channel)
    if claimed_before is not None:
        sql += " AND claimed_at < ?"
        params.append(claimed_before.isoformat())
    return await tx.execute_rowcount(sql, params)


async def business_users_since(tx: Tx, *, channel: str, since: datetime) -> set[str]:
    """Users sent a template (business-initiated) since ``since`` (the rolling 24 h)."""
    rows = await tx.all(
        "SELECT DISTINCT user_ref FROM outbox WHERE channel = ? AND via_template IS NOT NULL "
        "AND sent_at >= ?",
        (channel, since.isoformat()),
    )
    return {r["user_ref"] for r in rows}


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientState:
    """What the dispatcher checks at send time about a recipient chat."""

    chat_id: int | None
    opted_out: bool
    language: str | None
    last_inbound_at: datetime | None


async def recipient_states(tx: Tx, rows: Iterable[OutboxRow]) -> dict[int, RecipientState]:
    """Per outbox id: the recipient's chat now (by chat id, else by channel + user ref)."""
    rows = list(rows)
    out: dict[int, RecipientState] = {}
    by_id = {r.chat_id for r in rows if r.chat_id is not None}
    chats: dict[Any, Any] = {}
    if by_id:
        ids = sorted(by_id)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            found = await tx.all(
                "SELECT id, channel, user_ref, opted_out, language, last_inbound_at FROM chats "
                f"WHERE id IN ({','.join('?' * len(part))})",
                part,
            )
            for found_row in found:
                chats[found_row["id"]] = found_row
    for r in rows:
        c: Any = chats.get(r.chat_id) if r.chat_id is not None else None
        if c is None and r.chat_id is None:
            # A WhatsApp row by number (no chat yet when queued) belongs to the chat that has
            # that number now, also one keyed by a business-scoped user id.
            c = await tx.one(
                "SELECT id, channel, user_ref, opted_out, language, last_inbound_at FROM chats "
                "WHERE channel = ? AND (user_ref = ? OR (channel = 'whatsapp' AND phone = ?)) "
                "ORDER BY CASE WHEN user_ref = ? THEN 0 ELSE 1 END LIMIT 1",
                (r.channel, r.user_ref, "+" + r.user_ref, r.user_ref),
            )
        if c is None:
            out[r.id] = RecipientState(
                chat_id=None, opted_out=False, language=r.language, last_inbound_at=None
            )
        else:
            last = c["last_inbound_at"]
            out[r.id] = RecipientState(
                chat_id=c["id"],
                opted_out=bool(c["opted_out"]),
                language=c["language"],
                last_inbound_at=None if not last else datetime.fromisoformat(last),
            )
    return out


async def counts(tx: Tx) -> dict[tuple[str, str], int]:
    """Rows per (channel, status)."""
    rows = await tx.all("SELECT channel, status, COUNT(*) AS n FROM outbox GROUP BY 1, 2")
    return {(r["channel"], r["status"]): r["n"] for r in rows}


async def dead_letters(tx: Tx, *, limit: int = 50) -> list[OutboxRow]:
    """The newest rows that were given up on (dead or failed)."""
    rows = await tx.all(
        f"SELECT {_ROW_COLS} FROM outbox WHERE status IN ('dead', 'failed') "
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [_row(r) for r in rows]


async def admin_queue(tx: Tx, *, limit: int = 50) -> list[OutboxRow]:
    """Items waiting on the OPD's admin queue (channel ``admin``, status ``queued``)."""
    rows = await tx.all(
        f"SELECT {_ROW_COLS} FROM outbox WHERE channel = ? AND status = 'queued' "
        "ORDER BY priority, id LIMIT ?",
        (ADMIN_CHANNEL, limit),
    )
    return [_row(r) for r in rows]


# ---------------------------------------------------------------------------------------------
# Writing what a sweep found


async def existing_dedupe_keys(tx: Tx, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` already have an outbox row."""
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        part = list(keys[i : i + 500])
        rows = await tx.all(
            f"SELECT dedupe_key FROM outbox WHERE dedupe_key IN ({','.join('?' * len(part))})",
            part,
        )
        found.update(r["dedupe_key"] for r in rows)
    return found


async def insert_due(tx: Tx, due: Sequence[DueReminder], *, now: datetime) -> list[DueReminder]:
    """Write the rows not queued before (by dedupe key); return those actually written."""
    if not due:
        return []
    seen = await existing_dedupe_keys(tx, [d.dedupe_key for d in due])
    fresh: list[DueReminder] = []
    keys: set[str] = set()
    for d in due:
        if d.dedupe_key in seen or d.dedupe_key in keys:
            continue
        keys.add(d.dedupe_key)
        fresh.append(d)
    await tx.executemany(
        "INSERT OR IGNORE INTO outbox (chat_id, channel, user_ref, msg_key, params, language, "
        "class, priority, dedupe_key, not_before, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                d.target.chat_id,
                d.target.channel,
                d.target.user_ref,
                d.msg_key,
                dumps(dict(d.params)),
                d.target.language,
                str(d.msg_class),
                d.priority,
                d.dedupe_key,
                d.not_before.isoformat(),
                now.isoformat(),
            )
            for d in fresh
        ],
    )
    return fresh


async def mark_protected_notice(tx: Tx, worker_ids: Iterable[int], *, now: datetime) -> None:
    """Remember that these workers were sent the one-time protection notice."""
    await tx.executemany(
        "UPDATE workers SET protected_notice_at = ? WHERE id = ? AND protected_notice_at IS NULL",
        [(now.isoformat(), w) for w in sorted(set(worker_ids))],
    )


# ---------------------------------------------------------------------------------------------
# Sweep loaders


def _date(text: str | None) -> date | None:
    return None if not text else date.fromisoformat(text)


def _dt(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def _target(r: Any, prefix: str = "chat_") -> ChatTarget | None:
    if r[prefix + "id"] is None:
        return None
    return ChatTarget(
        chat_id=r[prefix + "id"],
        channel=r[prefix + "channel"],
        user_ref=r[prefix + "user_ref"],
        language=None,  # rendered in the chat's language at send time
    )


async def load_facilitators(db: Database) -> list[FacilitatorRecord]:
    """Bound, unrevoked facilitators with their chats."""
    async with db.read() as r:
        rows = await r.all(
            "SELECT f.id, f.scope_kind, f.scope_code, c.id AS chat_id, c.channel AS chat_channel, "
            "c.user_ref AS chat_user_ref FROM facilitators f JOIN chats c ON c.id = f.bound_chat_id "
            "WHERE f.revoked_at IS NULL ORDER BY f.id"
        )
    out: list[FacilitatorRecord] = []
    for row in rows:
        target = _target(row)
        assert target is not None
        out.append(
            FacilitatorRecord(
                facilitator_id=row["id"],
                scope_kind=row["scope_kind"],
                scope_code=row["scope_code"],
                chat=target,
            )
        )
    return out


async def _max_id(db: Database, table: str) -> int:
    async with db.read() as r:
        return int(await r.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}") or 0)


async def _claim_chunks(
    db: Database, where: str, params: Sequence[Any], chunk: int
) -> AsyncIterator[list[Any]]:
    top = await _max_id(db, "claims")
    lo = 0
    while lo < top:
        async with db.read() as r:
            rows = await r.all(
                "SELECT cl.id, cl.ref, cl.type, cl.status, cl.event_date, cl.event_at, "
                "cl.reported_at, cl.desa_code, cl.checklist, cl.docs_requested_at, "
                "cl.worker_id, w.name AS worker_name, w.sex AS worker_sex, "
                "c.id AS chat_id, c.channel AS chat_channel, c.user_ref AS chat_user_ref "
                "FROM claims cl LEFT JOIN chats c ON c.id = cl.reporter_chat_id "
                "LEFT JOIN workers w ON w.id = cl.worker_id "
                f"WHERE cl.id > ? AND cl.id <= ? AND {where} ORDER BY cl.id",
                (lo, lo + chunk, *params),
            )
        lo += chunk
        if rows:
            yield rows
        await asyncio.sleep(0)


async def iter_missing_docs_claims(
    db: Database, *, chunk: int = CHUNK
) -> AsyncIterator[list[MissingDocsClaim]]:
    """Open claims (submitted, in review, documents requested) with checklist items missing."""
    async for rows in _claim_chunks(
        db, "cl.status IN ('submitted', 'in_review', 'documents_requested')", (), chunk
    ):
        ids = [r["id"] for r in rows]
        async with db.read() as rd:
            docs = await rd.all(
                "SELECT DISTINCT claim_id, kind FROM claim_documents "
                f"WHERE claim_id IN ({','.join('?' * len(ids))}) AND replaced_at IS NULL",
                ids,
            )
        have: dict[int, set[str]] = {}
        for d in docs:
            have.setdefault(d["claim_id"], set()).add(d["kind"])
        linked = await _linked_chats(db, [r["worker_id"] for r in rows if r["worker_id"]])
        out: list[MissingDocsClaim] = []
        for r in rows:
            received = have.get(r["id"], set())
            missing = tuple(k for k in (loads(r["checklist"]) or []) if k not in received)
            if not missing:
                continue
            reported = _dt(r["reported_at"])
            assert reported is not None
            out.append(
                MissingDocsClaim(
                    ref=r["ref"],
                    status=r["status"],
                    reporter=_target(r),
                    desa_code=r["desa_code"],
                    missing=missing,
                    reported_at=reported,
                    docs_requested_at=_dt(r["docs_requested_at"]),
                    linked=linked.get(r["worker_id"], ()),
                    name=r["worker_name"],
                    sex=r["worker_sex"],
                )
            )
        yield out


# Every (chat, worker) link of workers in an id range: the links table and each chat's own link
# (``chats.worker_id``, which an older release or an admin may have set without a row there).
_LINKS_IN_RANGE = (
    "SELECT chat_id, worker_id FROM chat_links WHERE worker_id > ? AND worker_id <= ? "
    "UNION SELECT id AS chat_id, worker_id FROM chats "
    "WHERE worker_id IS NOT NULL AND worker_id > ? AND worker_id <= ?"
)


async def _linked_chats(db: Database, worker_ids: list[int]) -> dict[int, tuple[ChatTarget, ...]]:
    """The chats linked to each of some workers (issue 22: a household's phones too)."""
    ids = sorted(set(worker_ids))
    if not ids:
        return {}
    async with db.read() as r:
        rows = await r.all(
            "SELECT l.worker_id, c.id AS chat_id, c.channel AS chat_channel, "
            "c.user_ref AS chat_user_ref FROM (SELECT chat_id, worker_id FROM chat_links "
            f"WHERE worker_id IN ({','.join('?' * len(ids))}) UNION SELECT id AS chat_id, "
            f"worker_id FROM chats WHERE worker_id IN ({','.join('?' * len(ids))})) l "
            "JOIN chats c ON c.id = l.chat_id ORDER BY l.worker_id, c.id",
            (*ids, *ids),
        )
    out: dict[int, list[ChatTarget]] = {}
    for row in rows:
        target = _target(row)
        if target is not None:
            out.setdefault(row["worker_id"], []).append(target)
    return {k: tuple(v) for k, v in out.items()}


async def iter_jkk_claims(
    db: Database, *, chunk: int = CHUNK
) -> AsyncIterator[list[JKKClaimRecord]]:
    """JKK claims under way whose tahap I notice is not recorded as forwarded."""
    async for rows in _claim_chunks(
        db,
        "cl.type = 'JKK' AND cl.notice_sent_at IS NULL "
        "AND cl.status NOT IN ('paid', 'rejected', 'withdrawn')",
        (),
        chunk,
    ):
        out: list[JKKClaimRecord] = []
        for r in rows:
            reported = _dt(r["reported_at"])
            assert reported is not None
            out.append(
                JKKClaimRecord(
                    ref=r["ref"],
                    status=r["status"],
                    event_date=date.fromisoformat(r["event_date"]),
                    event_at=_dt(r["event_at"]),
                    reported_at=reported,
                )
            )
        yield out


async def iter_scholarship_claims(
    db: Database, *, chunk: int = CHUNK
) -> AsyncIterator[list[ScholarshipClaimRecord]]:
    """Approved or paid BEASISWA claims with the chat that filed them."""
    async for rows in _claim_chunks(
        db, "cl.type = 'BEASISWA' AND cl.status IN ('approved', 'paid')", (), chunk
    ):
        out: list[ScholarshipClaimRecord] = []
        for r in rows:
            reported = _dt(r["reported_at"])
            assert reported is not None
            out.append(
                ScholarshipClaimRecord(
                    ref=r["ref"], status=r["status"], reporter=_target(r), reported_at=reported
                )
            )
        yield out


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageGroup:
    """How many workers of a desa share one (start, paid-through) pair."""

    desa_code: str
    coverage_start: date | None
    paid_through: date | None
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerChunk:
    """One slice of the roster: counts for the facilitators, linked workers, notice candidates."""

    groups: list[CoverageGroup]
    linked: list[CoverageRow]
    notice: list[ProtectedCandidate]


WORKER_RANGE = 10_000  # ids per SQL range: SQLite does the scanning and grouping in its thread
PIECE = 500  # records built on the event loop between two yields

_LIVE = "w.registration_status = 'verified' AND w.deceased_on IS NULL"


def _with_chats(rows: list[Any]) -> list[tuple[Any, tuple[ChatTarget, ...]]]:
    grouped: dict[int, tuple[Any, list[ChatTarget]]] = {}
    for row in rows:
        entry = grouped.get(row["id"])
        if entry is None:
            entry = (row, [])
            grouped[row["id"]] = entry
        t = _target(row)
        if t is not None:
            entry[1].append(t)
    return [(row, tuple(chats)) for row, chats in grouped.values()]


async def iter_worker_chunks(
    db: Database, *, today: date, chunk: int = WORKER_RANGE, piece: int = PIECE
) -> AsyncIterator[WorkerChunk]:
    """Verified, living workers by id range, in three narrow queries per range.

    Everyone is counted by (desa, start, paid-through) groups with ``GROUP BY`` (the policy
    classifies a group once); only workers with a linked chat, and notice candidates (phone,
    no notice yet), come back row by row, and they are turned into records ``piece`` at a time
    with a yield in between, so the loop is never held for long. Notice candidates are
    narrowed to a paid-through month not before this month: a necessary condition of being
    protected today (the policy still decides), which keeps workers in arrears, who never get
    the notice until they are paid up, from being re-read every hour.
    """
    this_month = today.replace(day=1).isoformat()
    top = await _max_id(db, "workers")
    lo = 0
    while lo < top:
        hi = lo + chunk
        async with db.read() as r:
            groups = await r.all(
                "SELECT w.desa_code, w.coverage_start, w.paid_through, COUNT(*) AS n "
                f"FROM workers w WHERE w.id > ? AND w.id <= ? AND {_LIVE} GROUP BY 1, 2, 3",
                (lo, hi),
            )
            linked = await r.all(
                "SELECT w.id, w.name, w.sex, w.desa_code, w.coverage_start, w.paid_through, "
                "w.sector, w.funding_period_id, c.id AS chat_id, "
                "c.channel AS chat_channel, c.user_ref AS chat_user_ref "
                f"FROM ({_LINKS_IN_RANGE}) l JOIN chats c ON c.id = l.chat_id "
                f"JOIN workers w ON w.id = l.worker_id WHERE {_LIVE} ORDER BY w.id, c.id",
                (lo, hi, lo, hi),
            )
            notice = await r.all(
                "SELECT w.id, w.name, w.sex, w.phone, w.coverage_start, w.paid_through, "
                "c.id AS chat_id, c.channel AS chat_channel, c.user_ref AS chat_user_ref "
                f"FROM workers w LEFT JOIN ({_LINKS_IN_RANGE}) l ON l.worker_id = w.id "
                "LEFT JOIN chats c ON c.id = l.chat_id WHERE w.id > ? AND w.id <= ? "
                f"AND {_LIVE} AND w.protected_notice_at IS NULL AND w.phone IS NOT NULL "
                "AND w.paid_through >= ? ORDER BY w.id, c.id",
                (lo, hi, lo, hi, lo, hi, this_month),
            )
        lo = hi
        await asyncio.sleep(0)
        yield WorkerChunk(
            groups=[
                CoverageGroup(
                    desa_code=g["desa_code"],
                    coverage_start=_date(g["coverage_start"]),
                    paid_through=_date(g["paid_through"]),
                    count=g["n"],
                )
                for g in groups
            ],
            linked=[],
            notice=[],
        )
        linked_rows = _with_chats(linked)
        notice_rows = _with_chats(notice)
        for i in range(0, max(len(linked_rows), len(notice_rows)), piece):
            await asyncio.sleep(0)
            yield WorkerChunk(
                groups=[],
                linked=[
                    CoverageRow(
                        worker_id=row["id"],
                        desa_code=row["desa_code"],
                        coverage_start=_date(row["coverage_start"]),
                        paid_through=_date(row["paid_through"]),
                        chats=chats,
                        sector=row["sector"],
                        funding_period_id=row["funding_period_id"],
                        name=row["name"],
                        sex=row["sex"],
                    )
                    for row, chats in linked_rows[i : i + piece]
                ],
                notice=[
                    ProtectedCandidate(
                        worker_id=row["id"],
                        phone=row["phone"],
                        coverage_start=_date(row["coverage_start"]),
                        paid_through=_date(row["paid_through"]),
                        chats=chats,
                        name=row["name"],
                        sex=row["sex"],
                    )
                    for row, chats in notice_rows[i : i + piece]
                ],
            )


async def load_digest_counts(db: Database, *, now: datetime) -> dict[str, DigestCounts]:
    """Per desa: open leads, registrations awaiting the OPD, open claims, claims missing docs."""
    async with db.read() as r:
        leads = await r.all(
            "SELECT desa_code, COUNT(*) AS n FROM leads WHERE status = 'open' GROUP BY desa_code"
        )
        regs = await r.all(
            "SELECT desa_code, COUNT(*) AS n FROM workers WHERE registration_status = 'registered' "
            "GROUP BY desa_code"
        )
        open_claims = await r.all(
            "SELECT desa_code, COUNT(*) AS n FROM claims WHERE desa_code IS NOT NULL AND status "
            "NOT IN ('draft', 'paid', 'rejected', 'withdrawn') GROUP BY desa_code"
        )
        missing = await r.all(
            "SELECT desa_code, COUNT(*) AS n FROM claims WHERE desa_code IS NOT NULL "
            "AND status = 'documents_requested' GROUP BY desa_code"
        )
    acc: dict[str, dict[str, int]] = {}
    for name, rows in (
        ("new_leads", leads),
        ("registrations_waiting", regs),
        ("open_claims", open_claims),
        ("missing_documents", missing),
    ):
        for row in rows:
            acc.setdefault(row["desa_code"], {})[name] = row["n"]
    return {desa: DigestCounts(**vals) for desa, vals in acc.items()}
