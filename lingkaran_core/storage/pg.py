"""The PostgreSQL backend: the same ``Database``/``Tx`` contract as SQLite, on psycopg 3.

Every repository is written once, in the SQL both engines share (see ``docs/storage.md``). This
module makes PostgreSQL speak to them the way ``sqlite3`` does:

* one psycopg connection per process, driven from one worker thread (as aiosqlite drives its
  connection), so a unit of work is still ``Database.tx()`` / ``read()`` under one asyncio lock
  and a repository function ``fn(conn, *args)`` can batch several statements in one hop;
* ``CompatConnection`` gives that thread the subset of the ``sqlite3.Connection`` interface the
  repositories use (``execute``/``executemany``/``commit``/``rollback``, cursors with
  ``fetchone``/``fetchall``/``rowcount``/``lastrowid``, rows indexable by position and name);
* ``translate`` rewrites the few spellings that differ: ``?`` placeholders, ``INSERT OR IGNORE``,
  ``BEGIN IMMEDIATE``, and ``lastrowid`` (a ``RETURNING id`` added to an INSERT into a table with
  an ``id`` identity column);
* values adapt like SQLite's: integers are sent untyped so they compare with TEXT and INTEGER
  columns alike, booleans as 0/1, sums come back as ``int`` rather than ``Decimal``.

Schema: ``migrations_pg/`` holds the PostgreSQL twin of every SQLite migration, same names, same
tables and constraints (``INTEGER`` becomes ``BIGINT``, an ``id INTEGER PRIMARY KEY`` an identity
column). A test checks the two folders name the same migrations.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus
from psycopg.rows import RowMaker

from lingkaran_core.storage.db import Database, Params, Tx

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

_INSERT_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_INSERT_TABLE = re.compile(r"^\s*INSERT\s+INTO\s+(?:main\.)?([A-Za-z_][A-Za-z0-9_]*)", re.I)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_BEGIN_IMMEDIATE = re.compile(r"^\s*BEGIN\s+IMMEDIATE\s*;?\s*$", re.IGNORECASE)


def _placeholders(sql: str) -> str:
    """``?`` -> ``%s``, ``:name`` -> ``%(name)s``, ``%`` -> ``%%``, outside and inside quotes."""
    out: list[str] = []
    i, n = 0, len(sql)
    quote = ""
    while i < n:
        ch = sql[i]
        if ch == "%":
            out.append("%%")
        elif quote:
            out.append(ch)
            if ch == quote:
                quote = ""
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            if i > 0 and sql[i - 1] == ":":
                out.append(ch)  # a ``::type`` cast
            else:
                j = i + 1
                while j < n and (sql[j].isalnum() or sql[j] == "_"):
                    j += 1
                out.append(f"%({sql[i + 1 : j]})s")
                i = j
                continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=8192)
def translate(sql: str, id_tables: frozenset[str] = frozenset()) -> tuple[str, bool]:
    """(PostgreSQL text, whether a ``RETURNING id`` was added for ``lastrowid``)."""
    if _BEGIN_IMMEDIATE.match(sql):
        return "BEGIN", False
    ignore = bool(_INSERT_OR_IGNORE.match(sql))
    if ignore:
        sql = _INSERT_OR_IGNORE.sub("INSERT INTO", sql, count=1)
    text = _placeholders(sql).rstrip().rstrip(";")
    returning = _RETURNING.search(text)
    if ignore:
        if returning:
            text = f"{text[: returning.start()]}ON CONFLICT DO NOTHING {text[returning.start() :]}"
        else:
            text += " ON CONFLICT DO NOTHING"
    added = False
    if not returning:
        m = _INSERT_TABLE.match(text)
        if m and m.group(1) in id_tables:
            text += " RETURNING id"
            added = True
    return text, added


# --- values -----------------------------------------------------------------------------------


class _UntypedIntDumper(Dumper):
    """Integers sent as untyped literals: PostgreSQL infers the column's type, as SQLite does."""

    oid = 0

    def dump(self, obj: Any) -> bytes:
        return str(int(obj)).encode()


class _BoolAsIntDumper(Dumper):
    """SQLite stores True/False as 1/0; so do our INTEGER flag columns here."""

    oid = 0

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class _IsoDumper(Dumper):
    """Dates and times as the ISO text sqlite3's default adapters wrote (TEXT columns)."""

    oid = 0

    def dump(self, obj: Any) -> bytes:
        text: str = obj.isoformat(" ") if hasattr(obj, "hour") else obj.isoformat()
        return text.encode()


class _NumericLoader(Loader):
    """SUM/AVG come back as numeric: an ``int`` when whole (SQLite's answer), else ``float``."""

    def load(self, data: Any) -> Any:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


def _configure(conn: psycopg.Connection[Any]) -> None:
    import datetime as _dt

    adapters = conn.adapters
    adapters.register_dumper(int, _UntypedIntDumper)
    adapters.register_dumper(bool, _BoolAsIntDumper)
    adapters.register_dumper(_dt.date, _IsoDumper)
    adapters.register_dumper(_dt.datetime, _IsoDumper)
    adapters.register_loader("numeric", _NumericLoader)


class _RowBase(tuple):  # type: ignore[type-arg]
    """A result row like ``sqlite3.Row``: by position, by column name, ``keys()``, ``dict()``."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}
    _names: ClassVar[tuple[str, ...]] = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


@functools.lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> type[_RowBase]:
    index = {name: i for i, name in enumerate(names)}
    return type("Row", (_RowBase,), {"__slots__": (), "_index": index, "_names": names})


def _row_factory(cursor: Any) -> RowMaker[Any]:
    # The names straight from the result (``cursor.description`` builds a Column per column,
    # per query: measurable at a few statements per chat message).
    res = cursor.pgresult
    n = 0 if res is None else res.nfields
    if not n:
        return tuple
    return _row_class(tuple((res.fname(i) or b"").decode() for i in range(n)))


# --- the sqlite3-shaped connection ------------------------------------------------------------


class CompatCursor:
    """What ``conn.execute`` returns: the cursor subset the repositories use."""

    __slots__ = ("_cur", "lastrowid", "rowcount")

    def __init__(self, cur: psycopg.Cursor[Any], lastrowid: int | None, rowcount: int) -> None:
        self._cur = cur
        self.lastrowid = lastrowid
        self.rowcount = rowcount

    @property
    def description(self) -> Any:
        return self._cur.description

    def _has_rows(self) -> bool:
        # Not ``description``: that builds a Column object per column on every call.
        res = self._cur.pgresult
        return res is not None and res.nfields > 0

    def fetchone(self) -> Any:
        if not self._has_rows():
            return None
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        if not self._has_rows():
            return []
        return self._cur.fetchall()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    def close(self) -> None:
        self._cur.close()


class CompatConnection:
    """The ``sqlite3.Connection`` subset the repositories call, on a psycopg connection.

    Round trips are what a unit of work costs here (SQLite runs in-process), so two kinds of
    statement wait to travel with the next one, in one pipeline (psycopg's pipeline mode: the
    statements go out together and their results come back together):

    * ``BEGIN``: a transaction's first statement carries it;
    * ``defer(sql, params)``: a write whose result nobody reads (a touched timestamp, the saved
      conversation state) goes out with the next statement or with the ``COMMIT``. An error in
      it surfaces there, inside the same unit of work, which then rolls back as usual.
    """

    dialect = "postgresql"

    def __init__(self, raw: psycopg.Connection[Any], id_tables: frozenset[str]) -> None:
        self._raw = raw
        self.id_tables = id_tables
        self._pending: list[tuple[bytes, Any]] = []  # (statement, params) not yet sent

    @property
    def raw(self) -> psycopg.Connection[Any]:
        """The psycopg connection, with whatever waits already sent (COPY, transfers)."""
        if self._pending:
            with self._raw.pipeline():
                self._send_pending()
        return self._raw

    @property
    def in_transaction(self) -> bool:
        return bool(self._pending) or self._raw.info.transaction_status != TransactionStatus.IDLE

    def _send_pending(self) -> None:
        pending, self._pending = self._pending, []
        for text, params in pending:
            self._raw.cursor().execute(text, params)

    def defer(self, sql: str, params: Params = ()) -> None:
        """Send this write with the next statement (or the commit); its result is not read."""
        text, _ = translate(sql)
        if not self._pending and self._raw.info.transaction_status == TransactionStatus.IDLE:
            self.execute(sql, params)  # outside a transaction it commits at once, as it would
            return
        self._pending.append((text.encode(), _params(params)))

    def execute(self, sql: str, params: Params = ()) -> CompatCursor:
        text, added = translate(sql, self.id_tables)
        if text == "BEGIN" and not self.in_transaction:
            self._pending.append((b"BEGIN", None))
            return cast(CompatCursor, _NO_CURSOR)
        cur = self._raw.cursor()
        if self._pending:
            with self._raw.pipeline():
                self._send_pending()
                cur.execute(text.encode(), _params(params))
        else:
            cur.execute(text.encode(), _params(params))  # bytes: no re-parse cache of its own
        rowcount = cur.rowcount
        lastrowid = None
        if added:
            rows = cur.fetchall()
            lastrowid = int(rows[-1][0]) if rows else None
        return CompatCursor(cur, lastrowid, rowcount)

    def executemany(self, sql: str, rows: Iterable[Params]) -> CompatCursor:
        text, _ = translate(sql)
        cur = self.raw.cursor()
        cur.executemany(text.encode(), [_params(r) for r in rows])
        return CompatCursor(cur, None, cur.rowcount)

    def commit(self) -> None:
        if self._pending == [(b"BEGIN", None)]:
            self._pending = []  # a transaction that wrote nothing: nothing to send
        elif self._pending:
            with self._raw.pipeline():
                self._send_pending()
                self._raw.execute(b"COMMIT")
        elif self.in_transaction:
            self._raw.execute(b"COMMIT")

    def rollback(self) -> None:
        self._pending = []  # never sent: nothing of it reached the server
        if self.in_transaction:
            self._raw.execute(b"ROLLBACK")

    def close(self) -> None:
        self._pending = []
        self._raw.close()


class _NoCursor:
    """What a deferred ``BEGIN`` returns: a cursor with nothing in it."""

    lastrowid = None
    rowcount = -1
    description = None

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[Any]:
        return []

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def close(self) -> None:
        return None


_NO_CURSOR: Any = _NoCursor()  # duck-typed as a CompatCursor


def _params(params: Params) -> Any:
    return params if isinstance(params, dict) else tuple(params)


class _Handle:
    """What ``Tx`` needs of a connection (``_conn``, ``_execute``), on one worker thread."""

    def __init__(self, compat: CompatConnection) -> None:
        self._conn = compat
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg")
        self._closed = False

    async def _execute(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args))

    async def rollback(self) -> None:
        await self._execute(CompatConnection.rollback, self._conn)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._execute(CompatConnection.close, self._conn)
        self._pool.shutdown(wait=True)


class PgTx(Tx):
    """A unit of work on PostgreSQL: every call goes through the connection's thread.

    SQLite's ``run_inline`` shortcut (tiny statements on the loop's thread) would block the
    event loop on a network round trip here, so both inline variants take the thread.
    """

    __slots__ = ()

    dialect = "postgresql"

    async def run_inline(self, fn: Callable[..., T], /, *args: Any) -> T:
        return await self.run(fn, *args)

    async def commit_inline(self, fn: Callable[..., T], /, *args: Any) -> T:
        return await self.run_and_commit(fn, *args)


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
    raw = psycopg.connect(url, autocommit=True, row_factory=_row_factory)
    _configure(raw)
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
