"""Facilitators, their bind codes and chats, and the scope rule as a SQL condition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lingkaran_core.scope import Scope, ScopeKind, kecamatan_of
from lingkaran_core.storage.db import Tx

FACILITATOR_COLS = (
    "id, name, phone, scope_kind, scope_code, code_hash, code_expires_at, bound_chat_id, "
    "bound_at, revoked_at, created_at"
)


def scope_sql(scope: Scope, column: str) -> tuple[str, tuple[object, ...]]:
    """``Scope.covers`` as a parameterised condition on ``column`` (a desa code expression)."""
    if scope.kind == ScopeKind.DESA:
        return f"{column} = ?", (scope.code,)
    return f"substr({column}, 1, ?) = ?", (len(scope.prefix), scope.prefix)


async def by_id(tx: Tx, facilitator_id: int) -> Any | None:
    """A facilitators row by id."""
    return await tx.one(
        f"SELECT {FACILITATOR_COLS} FROM facilitators WHERE id = ?", (facilitator_id,)
    )


async def by_code_hash(tx: Tx, code_hash: str) -> Any | None:
    """The facilitators row holding a code hash."""
    return await tx.one(
        f"SELECT {FACILITATOR_COLS} FROM facilitators WHERE code_hash = ?", (code_hash,)
    )


async def all_rows(tx: Tx) -> list[Any]:
    """Every facilitator, oldest first."""
    return await tx.all(f"SELECT {FACILITATOR_COLS} FROM facilitators ORDER BY id")


async def insert(
    tx: Tx,
    *,
    name: str,
    phone: str | None,
    scope_kind: str,
    scope_code: str,
    code_hash: str,
    code_expires_at: datetime,
    now: datetime,
) -> int:
    """A new facilitator with a pending code."""
    return await tx.execute(
        "INSERT INTO facilitators (name, phone, scope_kind, scope_code, code_hash, "
        "code_expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            name,
            phone,
            scope_kind,
            scope_code,
            code_hash,
            code_expires_at.isoformat(),
            now.isoformat(),
        ),
    )


async def revoke(tx: Tx, facilitator_id: int, now: datetime) -> None:
    """Mark revoked (first time only) and kill the pending code."""
    await tx.execute(
        "UPDATE facilitators SET revoked_at = COALESCE(revoked_at, ?), code_hash = NULL "
        "WHERE id = ?",
        (now.isoformat(), facilitator_id),
    )


async def unbind_chats(tx: Tx, facilitator_id: int) -> None:
    """The chats of a facilitator lose the facilitator role."""
    await tx.execute(
        "UPDATE chats SET facilitator_id = NULL, active_role = CASE WHEN worker_id IS NULL "
        "THEN 'public' ELSE 'worker' END WHERE facilitator_id = ?",
        (facilitator_id,),
    )


async def set_code(tx: Tx, facilitator_id: int, code_hash: str, expires: datetime) -> None:
    """A fresh pending code; the facilitator is bound to no chat until it is redeemed."""
    await tx.execute(
        "UPDATE facilitators SET code_hash = ?, code_expires_at = ?, bound_chat_id = NULL, "
        "bound_at = NULL WHERE id = ?",
        (code_hash, expires.isoformat(), facilitator_id),
    )


async def bind(tx: Tx, facilitator_id: int, chat_id: int, now: datetime) -> None:
    """Bind a chat to a facilitator (releasing any other binding of that chat); the code dies."""
    await tx.execute(
        "UPDATE facilitators SET bound_chat_id = NULL WHERE bound_chat_id = ? AND id != ?",
        (chat_id, facilitator_id),
    )
    await tx.execute(
        "UPDATE facilitators SET bound_chat_id = ?, bound_at = ?, code_hash = NULL, "
        "code_expires_at = NULL WHERE id = ?",
        (chat_id, now.isoformat(), facilitator_id),
    )
    await tx.execute(
        "UPDATE chats SET facilitator_id = ?, active_role = 'facilitator' WHERE id = ?",
        (facilitator_id, chat_id),
    )


async def bound_chats_for_desa(tx: Tx, desa_code: str) -> list[int]:
    """Chats of bound, unrevoked facilitators whose scope covers a desa."""
    rows = await tx.all(
        "SELECT bound_chat_id FROM facilitators WHERE bound_chat_id IS NOT NULL "
        "AND revoked_at IS NULL AND ((scope_kind = 'desa' AND scope_code = ?) "
        "OR (scope_kind = 'kecamatan' AND scope_code = ?))",
        (desa_code, kecamatan_of(desa_code)),
    )
    return [int(r["bound_chat_id"]) for r in rows]


async def mark_revoke_notified(tx: Tx, chat_id: int, now: datetime) -> int:
    """Record that a chat was told of its facilitator's revocation; how many rows that was."""
    return await tx.execute_rowcount(
        "UPDATE facilitators SET revoke_notified_at = ? WHERE bound_chat_id = ? "
        "AND revoked_at IS NOT NULL AND revoke_notified_at IS NULL",
        (now.isoformat(), chat_id),
    )


async def bind_failures_since(tx: Tx, chat_id: int, since: datetime) -> int:
    """Invalid codes sent by a chat since an instant."""
    return int(
        await tx.scalar(
            "SELECT COUNT(*) FROM bind_code_failures WHERE chat_id = ? AND at > ?",
            (chat_id, since.isoformat()),
        )
    )


async def add_bind_failure(tx: Tx, chat_id: int, now: datetime) -> None:
    """Remember one invalid code from a chat."""
    await tx.execute(
        "INSERT INTO bind_code_failures (chat_id, at) VALUES (?, ?)", (chat_id, now.isoformat())
    )


async def clear_bind_failures(tx: Tx, chat_id: int) -> None:
    """Forget a chat's invalid codes (after a good one)."""
    await tx.execute("DELETE FROM bind_code_failures WHERE chat_id = ?", (chat_id,))


async def desk_counts(tx: Tx, scope: Scope) -> tuple[int, int]:
    """Open tickets and open leads in a scope (the facilitator menu's badges)."""
    clause, args = scope_sql(scope, "desa_code")
    row = await tx.one(
        f"SELECT (SELECT COUNT(*) FROM tickets WHERE status = 'open' AND {clause}), "
        f"(SELECT COUNT(*) FROM leads WHERE status = 'open' AND {clause})",
        (*args, *args),
    )
    return (int(row[0]), int(row[1])) if row is not None else (0, 0)
