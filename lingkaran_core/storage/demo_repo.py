"""Writes of the synthetic demo data generator (``lingkaran_core.demo``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.schema_repo import table_names

__all__ = [
    "count_workers",
    "insert_draft_claim",
    "insert_workers",
    "last_audit_details",
    "mark_deceased",
    "wipe",
    "worker_id_by_nik",
]

_WORKER_INSERT: Final = (
    "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, occupation, phone, "
    "dtsen_decile, kpj, coverage_start, paid_through, registration_status, registered_by, "
    "consent_at, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


async def insert_workers(tx: Tx, rows: Iterable[Sequence[Any]]) -> None:
    """Bulk insert roster rows: (nik, name, birth_date, sex, desa_code, sector, occupation,
    dtsen_decile, kpj, coverage_start, paid_through, registration_status, registered_by,
    consent_at, created_at, updated_at)."""
    await tx.executemany(_WORKER_INSERT, rows)


async def count_workers(tx: Tx) -> int:
    """How many workers the database holds."""
    return int(await tx.scalar("SELECT COUNT(*) FROM workers") or 0)


async def last_audit_details(tx: Tx, action: str) -> Any:
    """The JSON details of the newest audit row of ``action`` (text), or None."""
    return await tx.scalar(
        "SELECT details FROM audit_log WHERE action = ? ORDER BY id DESC LIMIT 1", (action,)
    )


async def wipe(tx: Tx) -> None:
    """Delete every row of every table (not the schema): a fresh demo database."""
    names = await table_names(tx)
    if tx.dialect == "postgresql":
        listed = ", ".join(f'"{name}"' for name in names)
        await tx.execute(f"TRUNCATE {listed} RESTART IDENTITY CASCADE")
        return
    # Deferred: rows referencing each other may go in any order within the transaction.
    await tx.execute("PRAGMA defer_foreign_keys = ON")
    for name in names:
        await tx.execute(f'DELETE FROM "{name}"')


async def mark_deceased(tx: Tx, nik: str, day: str) -> None:
    """Record a worker's date of death (ISO)."""
    await tx.execute("UPDATE workers SET deceased_on = ? WHERE nik = ?", (day, nik))


async def worker_id_by_nik(tx: Tx, nik: str) -> int:
    """The id of the worker with ``nik`` (which must exist)."""
    return int(await tx.scalar("SELECT id FROM workers WHERE nik = ?", (nik,)))


async def insert_draft_claim(tx: Tx, values: Sequence[Any]) -> None:
    """A claim row in ``draft``: (ref, event_date, reported_at, worker_id, subject_nik,
    subject_name, desa_code, answers, checklist, created_at, updated_at)."""
    await tx.execute(
        "INSERT INTO claims (ref, type, status, event_date, reported_at, worker_id, subject_nik, "
        "subject_name, desa_code, answers, checklist, created_at, updated_at) "
        "VALUES (?, 'JKK', 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )
