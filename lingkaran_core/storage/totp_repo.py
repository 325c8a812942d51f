"""Staff TOTP: the enrolled key, the last accepted step, logins waiting for their code.

Every function runs inside the caller's unit of work (the console and the admin CLI hold no SQL).
"""

from __future__ import annotations

from datetime import datetime

from lingkaran_core.storage.db import Row, Tx

__all__ = [
    "accept_step",
    "delete_pending",
    "insert_pending",
    "pending_login",
    "set_totp_secret",
]


async def set_totp_secret(tx: Tx, staff_id: int, secret: str | None) -> None:
    """Enrol (a base32 key) or remove (``None``) an account's TOTP; the step memory restarts."""
    await tx.execute(
        "UPDATE staff SET totp_secret = ?, totp_last_step = NULL WHERE id = ?",
        (secret, staff_id),
    )


async def accept_step(tx: Tx, staff_id: int, step: int) -> bool:
    """Record ``step`` as used; False when it (or a later one) was used already (a replay)."""
    n = await tx.execute_rowcount(
        "UPDATE staff SET totp_last_step = ? WHERE id = ? "
        "AND (totp_last_step IS NULL OR totp_last_step < ?)",
        (step, staff_id, step),
    )
    return bool(n)


async def insert_pending(tx: Tx, *, token_hash: str, staff_id: int, now: datetime) -> None:
    """A login whose password was right, waiting for its code (older ones of the account end)."""
    await tx.execute("DELETE FROM staff_login_pending WHERE staff_id = ?", (staff_id,))
    await tx.execute(
        "INSERT INTO staff_login_pending (token_hash, staff_id, created_at) VALUES (?, ?, ?)",
        (token_hash, staff_id, now.isoformat()),
    )


async def pending_login(tx: Tx, token_hash: str, *, since: datetime) -> Row | None:
    """The waiting login's account (with ``p_created``), if it started after ``since``."""
    return await tx.one(
        "SELECT p.created_at AS p_created, st.* FROM staff_login_pending p "
        "JOIN staff st ON st.id = p.staff_id WHERE p.token_hash = ? AND p.created_at >= ?",
        (token_hash, since.isoformat()),
    )


async def delete_pending(tx: Tx, token_hash: str) -> None:
    """The waiting login is done (or refused)."""
    await tx.execute("DELETE FROM staff_login_pending WHERE token_hash = ?", (token_hash,))
