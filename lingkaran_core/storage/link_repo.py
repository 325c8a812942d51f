"""Link attempts (NIK + date of birth), counted per chat and per hashed NIK."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lingkaran_core.storage.db import Tx


async def locked_until(tx: Tx, key: str) -> str | None:
    """The stored lock-out instant of a key (ISO text), if any."""
    found = await tx.scalar("SELECT locked_until FROM link_attempts WHERE key = ?", (key,))
    return None if not found else str(found)


async def attempts(tx: Tx, key: str) -> Any | None:
    """``failures, lockouts, updated_at`` of a key."""
    return await tx.one(
        "SELECT failures, lockouts, updated_at FROM link_attempts WHERE key = ?", (key,)
    )


async def save_attempts(
    tx: Tx,
    key: str,
    *,
    failures: int,
    lockouts: int,
    locked_until: datetime | None,
    now: datetime,
) -> None:
    """Store a key's counters (an earlier lock-out stays unless a new one replaces it)."""
    await tx.execute(
        "INSERT INTO link_attempts (key, failures, lockouts, locked_until, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
        "lockouts = excluded.lockouts, locked_until = COALESCE(excluded.locked_until, "
        "link_attempts.locked_until), updated_at = excluded.updated_at",
        (
            key,
            failures,
            lockouts,
            None if locked_until is None else locked_until.isoformat(),
            now.isoformat(),
        ),
    )


async def clear(tx: Tx, *keys: str) -> None:
    """Forget the attempts of some keys."""
    marks = ", ".join("?" for _ in keys)
    await tx.execute(f"DELETE FROM link_attempts WHERE key IN ({marks})", keys)


async def link_chat(tx: Tx, chat_id: int, worker_id: int) -> None:
    """Link a chat to a worker; a facilitator chat keeps its active role."""
    await tx.execute(
        "UPDATE chats SET worker_id = ?, active_role = CASE WHEN active_role = 'facilitator' "
        "THEN 'facilitator' ELSE 'worker' END WHERE id = ?",
        (worker_id, chat_id),
    )
