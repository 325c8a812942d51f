"""The database handle: one aiosqlite connection per process, WAL, migrations at start-up.

All work goes through ``Database.tx()`` (read-write, ``BEGIN IMMEDIATE``) or ``Database.read()``
(a consistent read). Both hold one asyncio lock for the whole unit of work, because statements of
concurrent coroutines would otherwise interleave inside the single connection's transaction
(TECH.md §9). Several processes (the bot and the admin CLI) share the file through WAL and
``busy_timeout``; a lock that outlasts the timeout is retried a few times before it surfaces.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

logger = logging.getLogger(__name__)

Row = aiosqlite.Row
Params = Sequence[Any] | dict[str, Any]

BUSY_TIMEOUT_MS = 5000
LOCK_RETRIES = 5


class Tx:
    """A unit of work on the connection; only valid inside ``Database.tx()``/``read()``."""

    __slots__ = ("conn",)

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the last row id (inserts) or 0."""
        async with self.conn.execute(sql, params) as cur:
            return cur.lastrowid or 0

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return how many rows it changed."""
        async with self.conn.execute(sql, params) as cur:
            return cur.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for many parameter rows."""
        await self.conn.executemany(sql, rows)

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        """Fetch the first row or None."""
        async with self.conn.execute(sql, params) as cur:
            row: Row | None = await cur.fetchone()
            return row

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Fetch every row."""
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        """Fetch the first column of the first row, or None."""
        row = await self.one(sql, params)
        return None if row is None else row[0]


def _is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


class Database:
    """One SQLite file shared by every channel, the scheduler and the admin CLI."""

    def __init__(self, path: Path, conn: aiosqlite.Connection) -> None:
        self.path = path
        self.files_dir = path.parent / "files"
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> Database:
        """Open (creating if needed) the database file, set pragmas and apply migrations."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(p, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: every commit survives a process crash (SIGKILL); only an OS crash
        # or power loss can drop the last transactions. That is the durability we promise.
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.commit()
        db = cls(p, conn)
        if migrate:
            await db.migrate()
        return db

    async def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        async with self._lock:
            await self._conn.close()

    @property
    def connection(self) -> aiosqlite.Connection:
        """The raw connection, for the backup API and bulk import only."""
        return self._conn

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[Tx]:
        """A read-write transaction (``BEGIN IMMEDIATE``), committed on success."""
        async with self._lock:
            for attempt in range(LOCK_RETRIES):
                try:
                    await self._conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:
                    if not _is_locked(exc) or attempt == LOCK_RETRIES - 1:
                        raise
                    logger.warning("database busy, retrying", extra={"attempt": attempt})
                    await asyncio.sleep(0.05 * (attempt + 1))
            try:
                yield Tx(self._conn)
            except BaseException:
                await self._conn.rollback()
                raise
            else:
                await self._commit()

    async def _commit(self) -> None:
        for attempt in range(LOCK_RETRIES):
            try:
                await self._conn.commit()
                return
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc) or attempt == LOCK_RETRIES - 1:
                    await self._conn.rollback()
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A consistent read without opening a write transaction."""
        async with self._lock:
            yield Tx(self._conn)

    async def migrate(self) -> list[str]:
        """Apply numbered SQL migrations not yet applied; return the names applied."""
        applied: list[str] = []
        async with self._lock:
            await self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, "
                "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))"
            )
            await self._conn.commit()
            async with self._conn.execute("SELECT name FROM schema_migrations") as cur:
                done = {r[0] for r in await cur.fetchall()}
            for name, sql in _migrations():
                if name in done:
                    continue
                # executescript commits first; wrap the file so it applies whole or not at all.
                await self._conn.executescript(
                    f"BEGIN IMMEDIATE;\n{sql}\n"
                    f"INSERT INTO schema_migrations(name) VALUES ('{name}');\nCOMMIT;"
                )
                applied.append(name)
                logger.info("migration applied", extra={"migration": name})
        return applied

    async def integrity_check(self) -> str:
        """Run SQLite's integrity check; 'ok' when the file is sound."""
        async with self.read() as r:
            return str(await r.scalar("PRAGMA integrity_check"))

    async def foreign_key_violations(self) -> int:
        """Count rows violating foreign keys."""
        async with self.read() as r:
            return len(await r.all("PRAGMA foreign_key_check"))


def _migrations() -> list[tuple[str, str]]:
    folder = resources.files("lingkaran_core.storage") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name, f.read_text(encoding="utf-8")) for f in files]


def dumps(obj: Any) -> str:
    """JSON for the database: compact, UTF-8, stable key order."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def loads(text: str | None) -> Any:
    """Parse a JSON column (None stays None)."""
    return None if text is None else json.loads(text)
