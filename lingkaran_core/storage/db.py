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
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

logger = logging.getLogger(__name__)

Row = aiosqlite.Row
T = TypeVar("T")
Params = Sequence[Any] | dict[str, Any]

BUSY_TIMEOUT_MS = 5000
LOCK_RETRIES = 5


class Tx:
    """A unit of work on the connection; only valid inside ``Database.tx()``/``read()``.

    Every method is ONE round trip to aiosqlite's worker thread (a cursor's execute, fetch and
    close would be three): the thread hop, not SQLite, is what a chat step spends most on.
    ``run`` executes a plain function with the ``sqlite3`` connection in that thread, to batch
    several statements in one hop. It relies on aiosqlite's ``_execute``/``_conn``, stable
    across the pinned 0.22 series.
    """

    __slots__ = ("begun", "committed", "conn", "read_only")

    dialect = "sqlite"  # "postgresql" on ``pg.PgTx``: for the few statements that differ

    def __init__(self, conn: aiosqlite.Connection, *, read_only: bool = False) -> None:
        self.conn = conn
        self.read_only = read_only
        self.begun = False
        self.committed = False

    def _opening(self, fn: Callable[..., T]) -> Callable[..., T]:
        """``fn``, preceded by the transaction's BEGIN when it is the unit's first write call."""
        if self.begun or self.read_only:
            return fn
        self.begun = True
        return _begun(fn)

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        """Run ``fn(sqlite3_connection, *args)`` in the database thread (one hop)."""
        call = self._opening(fn)
        result: T = await self.conn._execute(call, self.conn._conn, *args)  # type: ignore[no-untyped-call]
        return result

    async def _statement(self, fn: Callable[..., T], /, *args: Any) -> T:
        """Where ``execute``, ``one``, ``all``... run their one statement: here the thread
        (``run``); PostgreSQL's ``PgTx`` runs them on the event loop."""
        return await self.run(fn, *args)

    async def run_inline(self, fn: Callable[..., T], /, *args: Any) -> T:
        """Run a few small indexed statements on the event loop's thread (no hop at all).

        A chat step's two units (read chat + state; save state + commit) take well under a
        millisecond in SQLite but twice that in round trips to the worker thread, and under load
        each round trip also waits behind other coroutines while the write lock is held. The
        BEGIN is tried without waiting (busy_timeout 0); when another process holds the write
        lock, this falls back to the worker thread, where waiting cannot stall the loop.
        """
        raw = self.conn._conn
        if not self.begun and not self.read_only:
            raw.execute("PRAGMA busy_timeout=0").close()
            try:
                raw.execute("BEGIN IMMEDIATE").close()
                locked = False
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc):
                    raise
                locked = True
            finally:
                raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}").close()
            if locked:
                # Only now, with the busy timeout back: in the thread the BEGIN waits for the
                # other process's transaction (a roster import's switch) instead of failing.
                return await self.run(fn, *args)
            self.begun = True
        return fn(raw, *args)

    async def commit_inline(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``run_and_commit`` on the loop's thread (see ``run_inline``); WAL commits don't wait."""
        if not self.begun:
            return await self.run_and_commit(fn, *args)
        raw = self.conn._conn
        result = fn(raw, *args)
        try:
            raw.commit()
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc):
                raise
            await self.run(_commit_sync)  # retried in the worker thread
        self.committed = True
        return result

    async def run_and_commit(self, fn: Callable[..., T], /, *args: Any) -> T:
        """Run ``fn`` and commit in the same hop (the last statement of a unit of work)."""
        result = await self.run(_then_commit(fn), *args)
        self.committed = True
        return result

    async def write_and_commit(self, sql: str, params: Params = ()) -> None:
        """One write whose result nobody reads, and the commit: a unit's last statement.

        On PostgreSQL ``BEGIN``, the write and ``COMMIT`` travel together (one round trip, one
        hop); on SQLite it is one hop, as ``run_and_commit``.
        """
        await self.run_and_commit(write_later, sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the last row id (inserts) or 0."""
        return await self._statement(_execute_lastrowid, sql, params)

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return how many rows it changed."""
        return await self._statement(_execute_rowcount, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for many parameter rows."""
        await self.run(_executemany, sql, rows)

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        """Fetch the first row or None."""
        return await self._statement(_fetchone, sql, params)

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Fetch every row."""
        return await self._statement(_fetchall, sql, params)

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        """Fetch the first column of the first row, or None."""
        row = await self.one(sql, params)
        return None if row is None else row[0]


def _retry_locked(fn: Callable[[], T]) -> T:
    """Retry a statement that found the database locked beyond busy_timeout (in the thread)."""
    for attempt in range(LOCK_RETRIES):
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or attempt == LOCK_RETRIES - 1:
                raise
            logger.warning("database busy, retrying", extra={"attempt": attempt})
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _begun(fn: Callable[..., T]) -> Callable[..., T]:
    def call(conn: sqlite3.Connection, *args: Any) -> T:
        _retry_locked(lambda: conn.execute("BEGIN IMMEDIATE").close())
        return fn(conn, *args)

    return call


def _then_commit(fn: Callable[..., T]) -> Callable[..., T]:
    def call(conn: sqlite3.Connection, *args: Any) -> T:
        result = fn(conn, *args)
        _commit_sync(conn)
        return result

    return call


def _commit_sync(conn: sqlite3.Connection) -> None:
    try:
        _retry_locked(conn.commit)
    except BaseException:
        conn.rollback()
        raise


def _executemany(conn: sqlite3.Connection, sql: str, rows: Iterable[Params]) -> None:
    conn.executemany(sql, rows).close()


def _execute_lastrowid(conn: sqlite3.Connection, sql: str, params: Params) -> int:
    cur = conn.execute(sql, params)
    try:
        return cur.lastrowid or 0
    finally:
        cur.close()


def write_later(conn: sqlite3.Connection, sql: str, params: Params) -> None:
    """A write whose result is not read: on PostgreSQL it travels with the next statement or
    the COMMIT (``CompatConnection.defer``); on SQLite it runs now."""
    defer = getattr(conn, "defer", None)
    if defer is not None:
        defer(sql, params)
    else:
        conn.execute(sql, params).close()


def _execute_rowcount(conn: sqlite3.Connection, sql: str, params: Params) -> int:
    cur = conn.execute(sql, params)
    try:
        return cur.rowcount
    finally:
        cur.close()


def _fetchone(conn: sqlite3.Connection, sql: str, params: Params) -> Row | None:
    cur = conn.execute(sql, params)
    try:
        row: Row | None = cur.fetchone()
        return row
    finally:
        cur.close()


def _fetchall(conn: sqlite3.Connection, sql: str, params: Params) -> list[Row]:
    cur = conn.execute(sql, params)
    try:
        return list(cur.fetchall())
    finally:
        cur.close()


def _is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


class Database:
    """One SQLite file shared by every channel, the scheduler and the admin CLI.

    ``Database.open`` also opens a PostgreSQL database when given a ``postgresql://`` URL
    (``lingkaran_core.storage.pg.PgDatabase``, the same contract).
    """

    dialect = "sqlite"

    def __init__(self, path: Path, conn: aiosqlite.Connection) -> None:
        self.path = path
        self.files_dir = path.parent / "files"
        self._conn = conn
        self._lock = asyncio.Lock()

    @property
    def label(self) -> str:
        """What screens and logs call this database (a file path, or a URL without password)."""
        return str(self.path)

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        migrate: bool = True,
        files_dir: str | Path | None = None,
        pool_size: int | None = None,
    ) -> Database:
        """Open (creating if needed) the database, set it up and apply migrations.

        ``path`` is a SQLite file, or a ``postgresql://`` URL. ``files_dir`` is where claim
        documents and photos are kept: beside the SQLite file unless given. ``pool_size``: the
        connections a PostgreSQL database keeps (a SQLite file has one writer, so one).
        """
        from lingkaran_core.storage import pg  # here: psycopg is imported only when asked for

        if pg.is_postgres_url(path):
            return await pg.PgDatabase.connect(
                str(path),
                files_dir=files_dir,
                migrate=migrate,
                pool_size=pool_size or pg.DEFAULT_POOL,
            )
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: ``Tx.run_inline`` runs tiny statements on the event loop's
        # thread. Every use of the connection is serialised by ``Database._lock`` (and SQLite is
        # built thread-safe, sqlite3.threadsafety == 3), so the two threads never overlap.
        conn = await aiosqlite.connect(p, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: every commit survives a process crash (SIGKILL); only an OS crash
        # or power loss can drop the last transactions. That is the durability we promise.
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA cache_size=-16384")  # 16 MiB: the hot pages of 200k chats
        await conn.execute("PRAGMA temp_store=MEMORY")
        await conn.commit()
        db = cls(p, conn)
        if files_dir is not None:
            db.files_dir = Path(files_dir)
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
        """A read-write transaction (``BEGIN IMMEDIATE``), committed on success.

        The BEGIN travels with the first statement and the COMMIT with the last one when the
        caller uses ``Tx.run_and_commit``: fewer round trips to the database thread.
        """
        async with self._lock:
            tx = Tx(self._conn)
            try:
                yield tx
            except BaseException:
                if tx.begun and not tx.committed:
                    await self._conn.rollback()
                raise
            else:
                if tx.begun and not tx.committed:
                    await tx.run(_commit_sync)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A consistent read without opening a write transaction."""
        async with self._lock:
            yield Tx(self._conn, read_only=True)

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
