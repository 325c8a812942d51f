"""What the schema holds, on either backend: table and column names (wipes, checks, copies)."""

from __future__ import annotations

from lingkaran_core.storage.db import Tx

__all__ = ["column_names", "table_names"]


async def table_names(tx: Tx) -> list[str]:
    """The application's tables (not the migrations ledger), sorted by name."""
    if tx.dialect == "postgresql":
        rows = await tx.all(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' AND table_name != 'schema_migrations' "
            "ORDER BY table_name"
        )
    else:
        rows = await tx.all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'schema_migrations' ORDER BY name"
        )
    return [str(r[0]) for r in rows]


async def column_names(tx: Tx, table: str) -> list[str]:
    """The columns of ``table`` in their declared order (``ValueError`` for no such table)."""
    if table not in await table_names(tx):
        raise ValueError(f"no table {table!r}")
    if tx.dialect == "postgresql":
        rows = await tx.all(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [str(r[0]) for r in rows]
    return [str(r[1]) for r in await tx.all(f'PRAGMA table_info("{table}")')]
