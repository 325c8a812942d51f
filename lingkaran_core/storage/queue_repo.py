"""Queueing outgoing messages: one outbox row each, unique by dedupe key.

Draining the outbox (claiming, marking sent...) lives in ``outbox_repo``; this module only adds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lingkaran_core.storage.db import Tx, dumps


async def insert_message(
    tx: Tx,
    *,
    chat_id: int | None,
    channel: str,
    user_ref: str,
    msg_key: str,
    params: dict[str, Any],
    language: str | None,
    msg_class: str,
    priority: int,
    dedupe_key: str | None,
    not_before: datetime,
    created_at: datetime,
) -> int | None:
    """Insert an outbox row; None when a row with the dedupe key exists already."""
    new_id = await tx.scalar(
        "INSERT INTO outbox (chat_id, channel, user_ref, msg_key, params, language, "
        "class, priority, dedupe_key, not_before, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        (
            chat_id,
            channel,
            user_ref,
            msg_key,
            dumps(params),
            language,
            msg_class,
            priority,
            dedupe_key,
            not_before.isoformat(),
            created_at.isoformat(),
        ),
    )
    return None if new_id is None else int(new_id)


async def chat_address(tx: Tx, chat_id: int) -> tuple[str, str] | None:
    """``(channel, user_ref)`` of a chat, None when it does not exist."""
    row = await tx.one("SELECT channel, user_ref FROM chats WHERE id = ?", (chat_id,))
    return None if row is None else (str(row["channel"]), str(row["user_ref"]))


async def drop_queued_reminders(tx: Tx, chat_id: int) -> int:
    """A chat gave up its last link: its unsent reminders (they name people) are dropped."""
    return await tx.execute_rowcount(
        "UPDATE outbox SET status = 'dropped', last_error = 'unlinked', claimed_at = NULL "
        "WHERE chat_id = ? AND class = 'reminder' AND status IN ('queued', 'held')",
        (chat_id,),
    )
