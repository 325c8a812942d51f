"""Leads: self-screened people who agreed that the desa facilitator contacts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lingkaran_core.scope import Scope
from lingkaran_core.storage.db import Tx, dumps, loads
from lingkaran_core.storage.facilitator_repo import scope_sql

ACTIVE = ("open", "contacted")


@dataclass(frozen=True, slots=True, kw_only=True)
class Lead:
    """A lead as a facilitator works on it."""

    id: int
    desa_code: str
    phone: str | None
    name: str | None
    answers: dict[str, Any]
    status: str
    created_at: str


_COLS = "id, desa_code, phone, name, answers, status, created_at"


def _lead(row: Any) -> Lead:
    return Lead(
        id=row["id"],
        desa_code=row["desa_code"],
        phone=row["phone"],
        name=row["name"],
        answers=loads(row["answers"]) or {},
        status=row["status"],
        created_at=row["created_at"],
    )


async def insert(
    tx: Tx,
    *,
    desa_code: str,
    chat_id: int,
    phone: str | None,
    answers: dict[str, Any],
    decision: str,
    now: datetime,
) -> int:
    """A new open lead."""
    return await tx.execute(
        "INSERT INTO leads (desa_code, chat_id, phone, answers, decision, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (desa_code, chat_id, phone, dumps(answers), decision, now.isoformat(), now.isoformat()),
    )


async def by_id(tx: Tx, lead_id: int) -> Lead | None:
    """A lead by id, whatever its status."""
    row = await tx.one(f"SELECT {_COLS} FROM leads WHERE id = ?", (lead_id,))
    return None if row is None else _lead(row)


async def active_in_scope(tx: Tx, scope: Scope) -> list[Lead]:
    """A scope's leads still to work on: not contacted yet first."""
    clause, params = scope_sql(scope, "desa_code")
    rows = await tx.all(
        f"SELECT {_COLS} FROM leads WHERE status IN ('open', 'contacted') AND {clause} "
        "ORDER BY status DESC, id",
        params,
    )
    return [_lead(r) for r in rows]


async def set_status(
    tx: Tx, lead_id: int, status: str, *, now: datetime, close_reason: str | None = None
) -> int:
    """A lead's new status (and closing reason); rows changed."""
    if close_reason is None:
        return await tx.execute_rowcount(
            "UPDATE leads SET status = ?, updated_at = ? WHERE id = ?",
            (status, now.isoformat(), lead_id),
        )
    return await tx.execute_rowcount(
        "UPDATE leads SET status = ?, close_reason = ?, updated_at = ? WHERE id = ?",
        (status, close_reason, now.isoformat(), lead_id),
    )
