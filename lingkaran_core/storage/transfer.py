"""Copy a whole SQLite database into an empty PostgreSQL one, and prove the counts match.

Used once, when a regency moves from one process on a file to several instances on a server
(``lingkaran admin copy-db --to postgresql://...``). Tables are copied parents first (their
foreign keys say the order) with COPY, in one PostgreSQL transaction: a failure leaves the
target as it was. Identity sequences are then moved past the copied ids, so new rows never
collide with old ones. The report is the row count of every table on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lingkaran_core.storage.db import Database
from lingkaran_core.storage.pg import CompatConnection, PgDatabase
from lingkaran_core.storage.schema_repo import column_names, table_names

__all__ = ["CopyError", "CopyReport", "copy_sqlite_to_postgres"]

CHUNK = 5_000


class CopyError(Exception):
    """The copy cannot go ahead or did not match; ``str()`` says why in one line."""


@dataclass
class CopyReport:
    """Rows per table: (in the SQLite source, in the PostgreSQL target after the copy)."""

    counts: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        return all(a == b for a, b in self.counts.values())


async def _order(source: Database, tables: list[str]) -> list[str]:
    """Parents before children (SQLite's ``foreign_key_list``); ``CopyError`` on a cycle."""
    parents: dict[str, set[str]] = {}
    async with source.read() as r:
        for t in tables:
            rows = await r.all(f'PRAGMA foreign_key_list("{t}")')
            parents[t] = {str(row[2]) for row in rows if str(row[2]) != t}
    ordered: list[str] = []
    while parents:
        ready = sorted(t for t, ps in parents.items() if not ps - set(ordered))
        if not ready:
            raise CopyError(f"foreign keys form a cycle among {sorted(parents)}")
        ordered += ready
        for t in ready:
            del parents[t]
    return ordered


def _copy_rows(conn: CompatConnection, table: str, cols: list[str], rows: list[Any]) -> None:
    listed = ", ".join(f'"{c}"' for c in cols)
    with conn.raw.cursor() as cur, cur.copy(f'COPY "{table}" ({listed}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(tuple(row))


def _fix_sequences(conn: CompatConnection, tables: list[str]) -> None:
    for t in tables:
        if t not in conn.id_tables:
            continue
        seq = conn.raw.execute(b"SELECT pg_get_serial_sequence(%s, 'id')", (t,)).fetchone()
        if seq is None or seq[0] is None:
            continue
        conn.raw.execute(
            f'SELECT setval(%s, COALESCE((SELECT MAX(id) FROM "{t}"), 0) + 1, false)'.encode(),
            (seq[0],),
        )


async def copy_sqlite_to_postgres(source: Database, target: PgDatabase) -> CopyReport:
    """Copy every row of ``source`` into ``target`` (migrated, empty); the counts of both."""
    if source.dialect != "sqlite" or target.dialect != "postgresql":
        raise CopyError("copy-db copies a SQLite file into a PostgreSQL database")
    async with source.read() as r:
        src_tables = await table_names(r)
    async with target.read() as r:
        dst_tables = set(await table_names(r))
        busy = [t for t in sorted(dst_tables) if await r.scalar(f'SELECT 1 FROM "{t}" LIMIT 1')]
    missing = sorted(set(src_tables) - dst_tables)
    if missing:
        raise CopyError(f"the target lacks tables {missing}: are both on the same version?")
    if busy:
        raise CopyError(f"the target is not empty (rows in {', '.join(busy[:5])}); use a new one")
    ordered = await _order(source, src_tables)
    report = CopyReport()
    async with target.tx() as tx:
        await tx.execute("SELECT 1")  # opens the transaction every COPY below belongs to
        for t in ordered:
            async with source.read() as r:
                cols = [c for c in await column_names(r, t) if c in await column_names(tx, t)]
                listed = ", ".join(f'"{c}"' for c in cols)
                rows = await r.all(f'SELECT {listed} FROM "{t}" ORDER BY rowid')
            for lo in range(0, len(rows), CHUNK):
                await tx.run(_copy_rows, t, cols, rows[lo : lo + CHUNK])
            report.counts[t] = (len(rows), 0)
        await tx.run(_fix_sequences, ordered)
    async with target.read() as r:
        for t in ordered:
            report.counts[t] = (
                report.counts[t][0],
                int(await r.scalar(f'SELECT COUNT(*) FROM "{t}"')),
            )
    if not report.matches:
        bad = [t for t, (a, b) in report.counts.items() if a != b]
        raise CopyError(f"row counts differ after the copy in {bad}")
    return report
