"""Outbox rows: what the sweeps and services queue, what the dispatcher claims and marks.

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

The chunked loaders the reminder sweeps read live in ``sweeps_repo``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lingkaran_core.reminders import DueReminder
from lingkaran_core.storage.db import Tx, dumps, loads

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
    # The pick is a MATERIALIZED CTE, run once: as a plain ``IN (SELECT ... LIMIT)`` PostgreSQL
    # may rescan the subquery for every outer row (a nested loop, as the generic plan of a
    # statement prepared while the outbox was empty chooses), each rescan taking another
    # ``limit`` rows, so one claim took 1,982 rows of 2,000 in hand at once; the other instance
    # then found them stale and sent them again (round 2, session 5, the fleet benchmark).
    skip_locked = " FOR UPDATE SKIP LOCKED" if tx.dialect == "postgresql" else ""
    rows = await tx.all(
        "WITH picked AS MATERIALIZED (SELECT id AS pick FROM outbox WHERE channel = ? "
        f"AND status = 'queued' AND not_before <= ? ORDER BY priority, id LIMIT ?{skip_locked}) "
        "UPDATE outbox SET status = 'sending', claimed_at = ? WHERE status = 'queued' AND id IN "
        f"(SELECT pick FROM picked) RETURNING {_ROW_COLS}",
        (channel, now.isoformat(), limit, now.isoformat()),
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
    """Record a successful send, and commit (the dispatcher's unit for a sent row)."""
    await tx.write_and_commit(
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
