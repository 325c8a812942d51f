"""The PostgreSQL backend: the same ``Database``/``Tx`` contract as SQLite, on psycopg 3.

Every repository is written once, in the SQL both engines share (see ``docs/storage.md``). This
module makes PostgreSQL speak to them the way ``sqlite3`` does:

* a pool of psycopg connections per process (``LINGKARAN_DB_POOL``): a unit of work,
  ``Database.tx()`` / ``read()``, takes a free one. Its statements run on the event loop's
  thread with their network waits awaited (``loop_bridge``: each call in a pooled greenlet, as
  SQLAlchemy's asyncio support bridges sync code); a repository function ``fn(conn, *args)`` of several statements, COPY
  and transfers run on the connection's own worker thread (as aiosqlite drives its connection);
* ``CompatConnection`` (``pg_compat``) gives that thread the subset of the ``sqlite3.Connection``
  interface the repositories use, ``translate`` rewrites the few spellings that differ, and values
  adapt like SQLite's; see ``lingkaran_core.storage.pg_compat``.

Schema: ``migrations_pg/`` holds the PostgreSQL twin of every SQLite migration, same names, same
tables and constraints (``INTEGER`` becomes ``BIGINT``, an ``id INTEGER PRIMARY KEY`` an identity
column). A test checks the two folders name the same migrations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg

from lingkaran_core.storage.db import Database, Params, Tx, _then_commit, write_later
from lingkaran_core.storage.loop_bridge import LoopConnection, on_loop
from lingkaran_core.storage.pg_compat import (
    CompatConnection,
    configure,
    row_factory,
    translate,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = ["CompatConnection", "PgDatabase", "is_postgres_url", "redact_url", "translate"]

# Hold at most this long for a row lock another instance keeps (then the statement fails and
# the unit of work is retried by its caller, as a busy SQLite file is).
LOCK_TIMEOUT_MS = 5000
# Connections per process (LINGKARAN_DB_POOL): units of work of different users run at once.
DEFAULT_POOL = 4
CLOSE_GRACE = 5.0


def is_postgres_url(target: object) -> bool:
    """True when ``target`` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def redact_url(url: str) -> str:
    """The URL without its password, for logs and screens."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    netloc = f"{parts.username}:***@{host}" if parts.username else host
    return urlunsplit(parts._replace(netloc=netloc))


# --- SQL spelling -----------------------------------------------------------------------------


class _Handle:
    """What ``Tx`` needs of a connection (``_conn``, ``_execute``), on its own worker thread.

    A plain thread reading a queue, not ``run_in_executor``: a chat step makes two or three
    hops, and the executor's machinery (a ``concurrent.futures`` future with its condition, an
    asyncio future chained to it, callbacks both ways) cost more CPU per hop than the hop
    itself. Here a hop is one queue put, the call, and one ``call_soon_threadsafe`` that sets
    the awaiting future. A call whose awaiting task was cancelled before the thread reached it
    does not run, as with an executor.
    """

    def __init__(self, compat: CompatConnection) -> None:
        self._conn = compat
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="pg", daemon=True)
        self._thread.start()
        self._closed = False

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, fn, args = job
            if future.cancelled():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the awaiting task, raised there
                _settle(loop, future, None, exc)
            else:
                _settle(loop, future, result, None)

    async def _execute(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, fn, args))
        return await future

    async def rollback(self) -> None:
        await self._execute(CompatConnection.rollback, self._conn)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._conn.unwatch()  # off the loop's selector before its socket closes
        try:
            await self._execute(CompatConnection.close, self._conn)
        finally:
            self._jobs.put(None)
            await asyncio.to_thread(self._thread.join)


_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


def _settle(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    exc: BaseException | None,
) -> None:
    """From the worker thread: hand the outcome to the future on its loop."""
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
        loop.call_soon_threadsafe(_set, future, result, exc)


def _set(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


class PgTx(Tx):
    """A unit of work on PostgreSQL.

    Statements run on the event loop's own thread, their network waits awaited there
    (``loop_bridge``): the chat step's two units (``run_inline`` / ``commit_inline``, as on
    SQLite) and, through ``_statement``, ``one``/``scalar``/``all``/``execute``/
    ``execute_rowcount``. A repository's ``run`` (COPY, transfers, the import stage, several
    statements in one call) and ``executemany`` take the connection's worker thread. A unit
    uses its connection one call at a time, so the two never overlap on it. Parsing a large result holds the loop while it
    lasts; in the worker thread it held the GIL just the same.
    """

    __slots__ = ()

    dialect = "postgresql"

    async def _statement(self, fn: Callable[..., T], /, *args: Any) -> T:
        return await on_loop(self._opening(fn), self.conn._conn, *args)

    async def run_inline(self, fn: Callable[..., T], /, *args: Any) -> T:
        return await self._statement(fn, *args)

    async def commit_inline(self, fn: Callable[..., T], /, *args: Any) -> T:
        result = await self._statement(_then_commit(fn), *args)
        self.committed = True
        return result

    async def write_and_commit(self, sql: str, params: Params = ()) -> None:
        await self.commit_inline(write_later, sql, params)


class PgDatabase(Database):
    """A PostgreSQL database shared by every process and instance of the bot.

    Unlike a SQLite file (one writer at a time, so one connection), PostgreSQL takes concurrent
    writers: the process keeps ``pool_size`` connections, each with its own thread, and a unit
    of work takes whichever is free. One user's messages still run one at a time (the engine's
    per-chat lock in a process, the chat row's lock across instances).
    """

    dialect = "postgresql"

    def __init__(self, url: str, handles: list[_Handle], files_dir: Path) -> None:
        self.url = url
        self.path = files_dir  # where the bot's own files live (disk checks, documents)
        self.files_dir = files_dir
        self._handles = handles
        self._free: asyncio.Queue[_Handle] = asyncio.Queue()
        for h in handles:
            self._free.put_nowait(h)
        self._conn = handles[0]  # type: ignore[assignment]  # Database's attribute, duck-typed
        self._closed = False
        self._lock = asyncio.Lock()

    @property
    def label(self) -> str:
        return redact_url(self.url)

    @property
    def pool_size(self) -> int:
        return len(self._handles)

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        files_dir: str | Path | None = None,
        migrate: bool = True,
        pool_size: int = DEFAULT_POOL,
    ) -> PgDatabase:
        """Connect, configure the sessions and apply the PostgreSQL migrations."""
        raws = await asyncio.gather(
            *(asyncio.to_thread(_connect_sync, url) for _ in range(max(1, pool_size)))
        )
        folder = Path(files_dir) if files_dir is not None else Path("data") / "files"
        db = cls(url, [_Handle(CompatConnection(raw, frozenset())) for raw in raws], folder)
        if migrate:
            await db.migrate()
        await db.refresh_catalog()
        return db

    async def refresh_catalog(self) -> None:
        """Learn which tables have an ``id`` identity column (for ``lastrowid``)."""
        first = self._handles[0]
        tables = frozenset(await first._execute(_identity_tables, first._conn))
        for h in self._handles:
            h._conn.id_tables = tables

    async def close(self) -> None:
        """Close every connection once the units of work in progress end (at most
        ``CLOSE_GRACE`` seconds: a unit still holding one then fails on its next statement).
        Closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            async with asyncio.timeout(CLOSE_GRACE):
                for _ in self._handles:
                    await self._free.get()
        except TimeoutError:
            logger.warning("database closed with units of work still open")
        for h in self._handles:
            await h.close()

    @property
    def connection(self) -> Any:  # pragma: no cover - SQLite's backup API only
        raise NotImplementedError("the raw connection is SQLite's; use tx()/read()")

    @asynccontextmanager
    async def _handle(self) -> AsyncIterator[_Handle]:
        handle = await self._free.get()
        try:
            yield handle
        finally:
            self._free.put_nowait(handle)

    @asynccontextmanager
    async def pinned(self) -> AsyncIterator[PgDatabase]:
        """This database on one connection for a while (a session TEMP table lives on it)."""
        async with self._handle() as handle:
            view = PgDatabase(self.url, [handle], self.files_dir)
            yield view

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[Tx]:
        async with self._handle() as handle:
            tx = PgTx(handle)  # type: ignore[arg-type]
            try:
                yield tx
            except BaseException:
                if tx.begun and not tx.committed:
                    await handle.rollback()
                raise
            else:
                if tx.begun and not tx.committed:
                    await tx.run(CompatConnection.commit)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        async with self._handle() as handle:
            tx = PgTx(handle, read_only=True)  # type: ignore[arg-type]
            try:
                yield tx
            finally:
                if handle._conn.in_transaction:  # a read unit that began one (the stage)
                    await handle.rollback()

    async def migrate(self) -> list[str]:
        async with self._handle() as handle:
            applied: list[str] = await handle._execute(_migrate_sync, handle._conn)
        for name in applied:
            logger.info("migration applied", extra={"migration": name})
        return applied

    async def integrity_check(self) -> str:
        """PostgreSQL keeps its own pages sound; the check is that it answers."""
        async with self.read() as r:
            return "ok" if await r.scalar("SELECT 1") == 1 else "no answer"

    async def foreign_key_violations(self) -> int:
        """Foreign keys are enforced on every statement: there are never violations to count."""
        return 0


def _connect_sync(url: str) -> psycopg.Connection[Any]:
    raw = LoopConnection.connect(url, autocommit=True, row_factory=row_factory)
    configure(raw)
    raw.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}".encode())
    raw.execute(b"SET TIME ZONE 'UTC'")
    return raw


def _identity_tables(conn: CompatConnection) -> list[str]:
    rows = conn.raw.execute(
        b"SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
        b" AND column_name = 'id' AND is_identity = 'YES'"
    ).fetchall()
    return [r[0] for r in rows]


# Serialises migrations of several instances starting at once on one database.
_MIGRATION_LOCK = 0x4C4B5F4D  # "LK_M"


def _migrate_sync(conn: CompatConnection) -> list[str]:
    raw = conn.raw
    raw.execute(b"SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        raw.execute(
            b"CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, "
            b"applied_at TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', "
            b'\'YYYY-MM-DD"T"HH24:MI:SS"Z"\'))'
        )
        done = {r[0] for r in raw.execute(b"SELECT name FROM schema_migrations").fetchall()}
        applied = []
        for name, sql in pg_migrations():
            if name in done:
                continue
            with raw.transaction():
                raw.execute(sql.encode())
                raw.execute(b"INSERT INTO schema_migrations(name) VALUES (%s)", (name,))
            applied.append(name)
        return applied
    finally:
        raw.execute(b"SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))


def pg_migrations() -> list[tuple[str, str]]:
    """The PostgreSQL migrations, in order (names match the SQLite ones)."""
    folder = resources.files("lingkaran_core.storage") / "migrations_pg"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name, f.read_text(encoding="utf-8")) for f in files]
