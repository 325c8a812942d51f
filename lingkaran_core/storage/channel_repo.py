"""The SQL the channel adapters (Telegram, WhatsApp) need beyond chats and the engine.

Every statement the adapters run lives here, so ``lingkaran/channels/telegram/`` and
``whatsapp/`` hold no SQL: unsent replies to replay at start-up, the WhatsApp inbound ledger
(pending and failed messages, their reduced payloads), delivery statuses on outbox rows, chats
that blocked the bot, and updates no library could parse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lingkaran_core.storage.db import Tx, dumps, loads

__all__ = [
    "INBOUND_MAX_ATTEMPTS",
    "UNPARSED_PAYLOAD_MAX",
    "OutboxRef",
    "PendingUpdate",
    "UnsentReplies",
    "fail_outbox",
    "find_outbox_by_message_id",
    "forget_payloads",
    "forget_processed_payloads",
    "is_blocked",
    "mark_inbound_failed",
    "pending_inbound",
    "pending_updates",
    "record_inbound",
    "record_unparsed_update",
    "reduce_processed_payloads",
    "requeue_outbox",
    "set_blocked",
    "set_delivery_status",
    "unsent_replies",
]

# A message that failed this many times stays ``failed`` (for staff) instead of being retried.
INBOUND_MAX_ATTEMPTS = 5
UNPARSED_PAYLOAD_MAX = 8192


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsentReplies:
    """Replies the engine committed for a chat's last message that were never delivered."""

    user_ref: str
    language: str
    message_id: str
    replies: list[dict[str, Any]]


async def unsent_replies(
    tx: Tx, channel: str, *, updated_since: datetime | None = None
) -> list[UnsentReplies]:
    """Conversations of ``channel`` whose last replies are recorded as not sent."""
    sql = (
        "SELECT c.user_ref, c.language, v.last_message_id, v.last_replies FROM conversations v "
        "JOIN chats c ON c.id = v.chat_id WHERE c.channel = ? AND v.replies_sent = 0 "
        "AND v.last_replies IS NOT NULL AND v.last_message_id IS NOT NULL"
    )
    params: list[Any] = [channel]
    if updated_since is not None:
        sql += " AND v.updated_at >= ?"
        params.append(updated_since.isoformat())
    rows = await tx.all(sql, params)
    return [
        UnsentReplies(
            user_ref=r["user_ref"],
            language=r["language"],
            message_id=r["last_message_id"],
            replies=loads(r["last_replies"]),
        )
        for r in rows
    ]


# -- the inbound ledger (webhook channels store the raw message until it is processed) ----------


async def pending_inbound(tx: Tx, channel: str) -> list[str]:
    """Payloads to (re)process at start: recorded but unprocessed, or failed and retryable."""
    rows = await tx.all(
        "SELECT payload FROM inbound_messages WHERE channel = ? AND payload IS NOT NULL "
        "AND (status = 'received' OR (status = 'failed' AND attempts < ?)) ORDER BY received_at",
        (channel, INBOUND_MAX_ATTEMPTS),
    )
    return [str(r["payload"]) for r in rows]


async def mark_inbound_failed(tx: Tx, channel: str, message_id: str, *, error: str) -> None:
    """Processing raised: keep the payload, count the attempt (retried at the next start)."""
    await tx.execute(
        "UPDATE inbound_messages SET status = 'failed', attempts = attempts + 1, last_error = ? "
        "WHERE channel = ? AND message_id = ? AND status IN ('received', 'failed')",
        (error[:300], channel, message_id),
    )


async def reduce_processed_payloads(
    tx: Tx, channel: str, reduce: Callable[[str], str], *, message_id: str | None = None
) -> int:
    """Replace the raw payload of processed messages by ``reduce(payload)``; how many.

    With ``message_id`` only that message; without, every processed message still holding a
    raw record (one a crash left between processing and reducing).
    """
    sql = (
        "SELECT message_id, payload FROM inbound_messages WHERE channel = ? "
        "AND status = 'processed' AND payload IS NOT NULL "
        "AND json_valid(payload) AND json_type(payload, '$.message') IS NOT NULL"
    )
    params: list[Any] = [channel]
    if message_id is not None:
        sql += " AND message_id = ?"
        params.append(message_id)
    rows = await tx.all(sql, params)
    if rows:
        await tx.executemany(
            "UPDATE inbound_messages SET payload = ? WHERE channel = ? AND message_id = ?",
            [(reduce(str(r["payload"])), channel, r["message_id"]) for r in rows],
        )
    return len(rows)


# -- the Telegram inbound ledger: raw updates until processed, then nothing ---------------------
#
# Telegram's payloads are recorded whole (a button press needs its keyboard after a restart) and
# forgotten once processed: unlike WhatsApp's reduced records, nothing of them is kept.


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingUpdate:
    """A recorded update not processed yet (or failed and retryable)."""

    message_id: str
    user_ref: str
    payload: str


async def record_inbound(
    tx: Tx, channel: str, message_id: str, user_ref: str, payload: str, *, now: datetime
) -> bool:
    """Record a raw inbound update before it is acknowledged; False when already known."""
    changed = await tx.execute_rowcount(
        "INSERT INTO inbound_messages (channel, message_id, user_ref, received_at, status, "
        "payload) VALUES (?, ?, ?, ?, 'received', ?) ON CONFLICT (channel, message_id) DO NOTHING",
        (channel, message_id, user_ref, now.isoformat(), payload),
    )
    return changed > 0


async def pending_updates(tx: Tx, channel: str) -> list[PendingUpdate]:
    """Recorded updates to (re)process at start: unprocessed, or failed and retryable."""
    rows = await tx.all(
        "SELECT message_id, user_ref, payload FROM inbound_messages WHERE channel = ? "
        "AND payload IS NOT NULL AND (status = 'received' OR (status = 'failed' AND attempts < ?))",
        (channel, INBOUND_MAX_ATTEMPTS),
    )
    return [
        PendingUpdate(
            message_id=str(r["message_id"]), user_ref=str(r["user_ref"]), payload=str(r["payload"])
        )
        for r in rows
    ]


async def forget_payloads(tx: Tx, channel: str, message_ids: Sequence[str]) -> None:
    """These updates are processed: mark them so and drop their raw payloads."""
    await tx.executemany(
        "UPDATE inbound_messages SET status = 'processed', payload = NULL "
        "WHERE channel = ? AND message_id = ?",
        [(channel, m) for m in message_ids],
    )


async def forget_processed_payloads(tx: Tx, channel: str) -> int:
    """Drop the payloads of processed updates a crash left behind; how many."""
    return await tx.execute_rowcount(
        "UPDATE inbound_messages SET payload = NULL WHERE channel = ? AND status = 'processed' "
        "AND payload IS NOT NULL",
        (channel,),
    )


# -- outbox rows and delivery statuses -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRef:
    """The outbox row that sent a channel message id."""

    id: int
    status: str
    delivery_status: str | None
    params: dict[str, Any]
    attempts: int


async def find_outbox_by_message_id(tx: Tx, channel: str, message_id: str) -> OutboxRef | None:
    """The row whose ``channel_message_id`` is ``message_id`` (or starts a split "id1,id2")."""
    cols = "SELECT id, status, delivery_status, params, attempts FROM outbox WHERE channel = ? "
    row = await tx.one(cols + "AND channel_message_id = ?", (channel, message_id))
    if row is None:
        # A reply split into several messages is stored as "id1,id2": match on its first id
        # (a range on the index, not a LIKE scan).
        row = await tx.one(
            cols + "AND channel_message_id > ? AND channel_message_id < ?",
            (channel, message_id + ",", message_id + ",\uffff"),
        )
    if row is None:
        return None
    return OutboxRef(
        id=row["id"],
        status=row["status"],
        delivery_status=row["delivery_status"],
        params=loads(row["params"]) or {},
        attempts=int(row["attempts"] or 0),
    )


async def set_delivery_status(tx: Tx, outbox_id: int, delivery_status: str) -> None:
    """Record sent/delivered/read on a row."""
    await tx.execute(
        "UPDATE outbox SET delivery_status = ? WHERE id = ?", (delivery_status, outbox_id)
    )


async def requeue_outbox(
    tx: Tx,
    outbox_id: int,
    *,
    not_before: datetime,
    delivery_status: str,
    error: str,
    params: dict[str, Any] | None = None,
) -> None:
    """Back to the queue after a failed status (its old message id cleared)."""
    if params is None:
        await tx.execute(
            "UPDATE outbox SET status = 'queued', not_before = ?, delivery_status = ?, "
            "channel_message_id = NULL, claimed_at = NULL, last_error = ? WHERE id = ?",
            (not_before.isoformat(), delivery_status, error, outbox_id),
        )
        return
    await tx.execute(
        "UPDATE outbox SET status = 'queued', not_before = ?, delivery_status = ?, "
        "channel_message_id = NULL, claimed_at = NULL, params = ?, last_error = ? WHERE id = ?",
        (not_before.isoformat(), delivery_status, dumps(params), error, outbox_id),
    )


async def fail_outbox(tx: Tx, outbox_id: int, *, delivery_status: str, error: str) -> None:
    """A failed status that is final."""
    await tx.execute(
        "UPDATE outbox SET status = 'failed', delivery_status = ?, last_error = ? WHERE id = ?",
        (delivery_status, error[:300], outbox_id),
    )


# -- chats that blocked the bot ------------------------------------------------------------------


async def set_blocked(tx: Tx, channel: str, user_ref: str, *, blocked: bool, now: datetime) -> bool:
    """Mark (or clear) a chat as having blocked the bot; True when that changed something.

    Unblocking releases the chat's held outbox rows back to the queue.
    """
    if blocked:
        changed = await tx.execute_rowcount(
            "UPDATE chats SET blocked_at = ? WHERE channel = ? AND user_ref = ? "
            "AND blocked_at IS NULL",
            (now.isoformat(), channel, user_ref),
        )
        return changed > 0
    changed = await tx.execute_rowcount(
        "UPDATE chats SET blocked_at = NULL WHERE channel = ? AND user_ref = ? "
        "AND blocked_at IS NOT NULL",
        (channel, user_ref),
    )
    if changed:
        await tx.execute(
            "UPDATE outbox SET status = 'queued', not_before = ? WHERE status = 'held' "
            "AND channel = ? AND user_ref = ?",
            (now.isoformat(), channel, user_ref),
        )
    return changed > 0


async def is_blocked(tx: Tx, channel: str, user_ref: str) -> bool:
    """Whether the chat blocked the bot (and has not unblocked it since)."""
    return bool(
        await tx.scalar(
            "SELECT EXISTS (SELECT 1 FROM chats WHERE channel = ? AND user_ref = ? "
            "AND blocked_at IS NOT NULL)",
            (channel, user_ref),
        )
    )


# -- updates nothing could parse -----------------------------------------------------------------


async def record_unparsed_update(
    tx: Tx,
    channel: str,
    update_id: str,
    *,
    kind: str,
    error: str,
    payload: str | None,
    now: datetime,
) -> bool:
    """Keep an update the library could not parse (for staff); False when already recorded."""
    if payload is not None and len(payload) > UNPARSED_PAYLOAD_MAX:
        payload = payload[:UNPARSED_PAYLOAD_MAX]
    changed = await tx.execute_rowcount(
        "INSERT OR IGNORE INTO unparsed_updates (channel, update_id, kind, error, received_at, "
        "payload) VALUES (?, ?, ?, ?, ?, ?)",
        (channel, update_id, kind, error[:300], now.isoformat(), payload),
    )
    return changed > 0
