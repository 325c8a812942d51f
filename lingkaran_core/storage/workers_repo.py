"""Workers as facilitators see and register them (reads by scope, one insert)."""

from __future__ import annotations

from datetime import date, datetime

from lingkaran_core.scope import Scope
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.facilitator_repo import scope_sql
from lingkaran_core.storage.repos import WORKER_COLS, Worker, worker_from_row


async def insert_registered(
    tx: Tx,
    *,
    nik: str,
    name: str,
    birth_date: date,
    sex: str,
    desa_code: str,
    sector: str,
    occupation: str | None,
    phone: str | None,
    registered_by: int,
    consent_at: datetime,
    now: datetime,
) -> int:
    """A worker registered by a facilitator, awaiting the OPD's verification."""
    return await tx.execute(
        "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, occupation, phone, "
        "registration_status, registered_by, consent_at, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?, ?, ?)",
        (
            nik,
            name,
            birth_date.isoformat(),
            sex,
            desa_code,
            sector,
            occupation,
            phone,
            registered_by,
            consent_at.isoformat(),
            now.isoformat(),
            now.isoformat(),
        ),
    )


async def names_in_scope(tx: Tx, scope: Scope) -> dict[int, str]:
    """Worker id → name for every worker of a scope (for a fuzzy name search)."""
    clause, params = scope_sql(scope, "desa_code")
    rows = await tx.all(f"SELECT id, name FROM workers WHERE {clause}", params)
    return {int(r["id"]): str(r["name"]) for r in rows}


async def living_in_scope(tx: Tx, scope: Scope) -> list[Worker]:
    """The living workers of a scope, by name."""
    clause, params = scope_sql(scope, "desa_code")
    rows = await tx.all(
        f"SELECT {WORKER_COLS} FROM workers WHERE {clause} AND deceased_on IS NULL "
        "ORDER BY name, id",
        params,
    )
    return [worker_from_row(r) for r in rows]


async def in_scope_by_ids(tx: Tx, scope: Scope, ids: list[int]) -> list[Worker]:
    """The workers of ``ids`` that belong to a scope, in the order of ``ids`` (one query)."""
    if not ids:
        return []
    clause, params = scope_sql(scope, "desa_code")
    rows = await tx.all(
        f"SELECT {WORKER_COLS} FROM workers WHERE id IN ({','.join('?' * len(ids))}) AND {clause}",
        (*ids, *params),
    )
    found = {w.id: w for w in (worker_from_row(r) for r in rows)}
    return [found[i] for i in ids if i in found]


async def desa_of(tx: Tx, worker_id: int) -> str | None:
    """A worker's desa code."""
    found = await tx.scalar("SELECT desa_code FROM workers WHERE id = ?", (worker_id,))
    return None if found is None else str(found)
