"""PostgreSQL spoken the way ``sqlite3`` is: the SQL spelling and the connection the repositories use.

* ``translate`` rewrites the few spellings that differ: ``?`` placeholders, ``INSERT OR IGNORE``,
  ``BEGIN IMMEDIATE``, and ``lastrowid`` (a ``RETURNING id`` added to an INSERT into a table with
  an ``id`` identity column);
* values adapt like SQLite's (``configure``): integers are sent untyped so they compare with TEXT
  and INTEGER columns alike, booleans as 0/1, dates as ISO text, sums come back as ``int``;
* ``CompatConnection`` is the subset of ``sqlite3.Connection`` the repositories call, with the
  round trips counted (a held-back ``BEGIN``, ``defer``red writes: see its docstring).

``lingkaran_core.storage.pg`` builds the pooled ``PgDatabase`` on top of it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, ClassVar, cast

import psycopg
from psycopg.adapt import Dumper, Loader, Transformer
from psycopg.pq import TransactionStatus
from psycopg.rows import RowMaker

from lingkaran_core.storage.db import Params
from lingkaran_core.storage.loop_bridge import LoopConnection

__all__ = [
    "CompatConnection",
    "CompatCursor",
    "configure",
    "row_factory",
    "sql_params",
    "translate",
]


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


def configure(conn: psycopg.Connection[Any]) -> None:
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


def row_factory(cursor: Any) -> RowMaker[Any]:
    # The names straight from the result (``cursor.description`` builds a Column per column,
    # per query: measurable at a few statements per chat message).
    res = cursor.pgresult
    n = 0 if res is None else res.nfields
    if not n:
        return tuple
    return _row_class(tuple((res.fname(i) or b"").decode() for i in range(n)))


# --- the sqlite3-shaped connection ------------------------------------------------------------


class CompatCursor:
    """What ``conn.execute`` returns: the cursor subset the repositories use.

    The rows are read out at once, so the connection's one psycopg cursor is free for the next
    statement (creating a psycopg cursor per statement, with its own adapters map and
    transformer, was a tenth of a chat step's statement time on PostgreSQL).
    """

    __slots__ = ("_at", "_res", "_rows", "lastrowid", "rowcount")

    def __init__(self, rows: list[Any], res: Any, lastrowid: int | None, rowcount: int) -> None:
        self._rows = rows
        self._at = 0
        self._res = res  # the result, for ``description`` only
        self.lastrowid = lastrowid
        self.rowcount = rowcount

    @property
    def description(self) -> Any:
        res = self._res
        if res is None or not res.nfields:
            return None
        return tuple(
            ((res.fname(i) or b"").decode(), None, None, None, None, None, None)
            for i in range(res.nfields)
        )

    def fetchone(self) -> Any:
        at = self._at
        if at >= len(self._rows):
            return None
        self._at = at + 1
        return self._rows[at]

    def fetchall(self) -> list[Any]:
        rows = self._rows[self._at :] if self._at else self._rows
        self._rows, self._at = [], 0
        return rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    def close(self) -> None:
        self._rows, self._at = [], 0


def _read_out(cur: psycopg.Cursor[Any]) -> list[Any]:
    """Every row of ``cur``'s current result (none for a statement without rows)."""
    res = cur.pgresult
    if res is None or not res.nfields:
        return []
    return cur.fetchall()


# Named prepared statements per connection for what travels held back (a handful in practice);
# past this, statements go as plain bound text.
MAX_PREPARED = 200


class CompatConnection:
    """The ``sqlite3.Connection`` subset the repositories call, on a psycopg connection.

    Round trips are what a unit of work costs here (SQLite runs in-process), so two kinds of
    statement wait to travel with the next one:

    * ``BEGIN``: a transaction's first statement carries it;
    * ``defer(sql, params)``: a write whose result nobody reads (a touched timestamp, the saved
      conversation state) goes out with the next statement or with the ``COMMIT``. An error in
      it surfaces there, inside the same unit of work, which then rolls back as usual.

    What waits and the statement it travels with go as ONE simple query, the statements joined
    by ``;``: one round trip, at half the client CPU of psycopg's pipeline mode, which this
    replaced (measured: ``docs/storage.md``). Each statement is a named prepared statement of
    this session: ``PREPARE lcN AS ...`` the first time, in the same query, then
    ``EXECUTE lcN(values)``, so the server parses and plans it once per connection, as psycopg
    does for the statements it sends itself. The values are quoted by psycopg
    (its ``Transformer.as_literal``, as ``ClientCursor`` does) as untyped literals, as the
    server-side parameters are untyped (see the dumpers above), so the server infers the same
    types. A prepared statement outlives a rolled-back transaction, but a name is only
    remembered once its query succeeded, so a failed query leaves nothing half-known. The
    server stops at the first failing statement, so a deferred write that fails leaves the
    transaction aborted and the unit rolls back, as before.
    """

    dialect = "postgresql"

    def __init__(self, raw: psycopg.Connection[Any], id_tables: frozenset[str]) -> None:
        self._raw = raw
        self._binder = psycopg.ClientCursor(raw)  # only to bind a statement it cannot prepare
        self._literal = Transformer.from_context(raw).as_literal  # one value, quoted
        self._prepared: dict[bytes, bytes] = {}  # statement -> its prepared name on this session
        self._names = 0
        self.id_tables = id_tables
        self._pending: list[tuple[bytes, Any]] = []  # (statement, params) not yet sent
        # One psycopg cursor serves statement after statement (``CompatCursor`` reads the rows
        # out): a unit of work uses its connection one statement at a time.
        self._cur = raw.cursor()

    @property
    def raw(self) -> psycopg.Connection[Any]:
        """The psycopg connection, with whatever waits already sent (COPY, transfers)."""
        self._send(self._cur, None, None)
        return self._raw

    def unwatch(self) -> None:
        """Off the event loop's selector before closing (on the loop's thread; nothing sent)."""
        if isinstance(self._raw, LoopConnection):
            self._raw.unwatch()

    @property
    def in_transaction(self) -> bool:
        # The libpq status itself: ``info.transaction_status`` builds an object and an enum.
        return bool(self._pending) or self._raw.pgconn.transaction_status != _IDLE

    def _send(self, cur: psycopg.Cursor[Any], text: bytes | None, params: Any) -> None:
        """Run ``text`` on ``cur``, after whatever waits, in one round trip (class docstring).

        Afterwards ``cur`` holds the last statement's result."""
        if not self._pending:
            if text is not None:
                cur.execute(text, params)
            return
        pending, self._pending = self._pending, []
        if text is not None:
            pending.append((text, params))
        parts: list[bytes] = []
        new: dict[bytes, bytes] = {}
        for sql, values in pending:
            if values is None:  # BEGIN, COMMIT: nothing to bind
                parts.append(sql)
                continue
            name = self._prepared.get(sql) or new.get(sql)
            if name is None:
                dollars = _dollar_placeholders(sql, values)
                if dollars is None or len(self._prepared) >= MAX_PREPARED:
                    parts.append(self._binder.mogrify(sql, values).encode())
                    continue
                self._names += 1
                name = new[sql] = b"lc%d" % self._names
                parts.append(b"PREPARE " + name + b" AS " + dollars)
            if values:
                parts.append(
                    b"EXECUTE " + name + b"(" + b", ".join(map(self._literal, values)) + b")"
                )
            else:
                parts.append(b"EXECUTE " + name)
        cur.execute(b";\n".join(parts))
        self._prepared.update(new)
        while cur.nextset():
            pass

    def defer(self, sql: str, params: Params = ()) -> None:
        """Send this write with the next statement (or the commit); its result is not read."""
        if not self.in_transaction:
            self.execute(sql, params)  # outside a transaction it commits at once, as it would
            return
        self._pending.append((translate(sql)[0].encode(), sql_params(params)))

    def execute(self, sql: str, params: Params = ()) -> CompatCursor:
        text, added = translate(sql, self.id_tables)
        if text == "BEGIN" and not self.in_transaction:
            self._pending.append((b"BEGIN", None))
            return cast(CompatCursor, _NO_CURSOR)
        cur = self._cur
        self._send(cur, text.encode(), sql_params(params))  # bytes: no re-parse cache of its own
        rowcount = cur.rowcount
        rows = _read_out(cur)
        if added:  # the RETURNING id this module added: the caller wants lastrowid, not rows
            return CompatCursor([], None, int(rows[-1][0]) if rows else None, rowcount)
        return CompatCursor(rows, cur.pgresult, None, rowcount)

    def executemany(self, sql: str, rows: Iterable[Params]) -> CompatCursor:
        text, _ = translate(sql)
        cur = self._cur
        self._send(cur, None, None)  # whatever waits goes first
        cur.executemany(text.encode(), [sql_params(r) for r in rows])
        return CompatCursor([], None, None, cur.rowcount)

    def commit(self) -> None:
        if self._pending == [(b"BEGIN", None)]:
            self._pending = []  # a transaction that wrote nothing: nothing to send
        elif self.in_transaction:
            self._send(self._cur, b"COMMIT", None)

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


_IDLE = TransactionStatus.IDLE
_PLACEHOLDER = re.compile(rb"%%|%s")
_PREPARABLE = re.compile(rb"\s*(?:WITH|SELECT|INSERT|UPDATE|DELETE|VALUES)\b", re.IGNORECASE)


def _dollar_placeholders(sql: bytes, values: Any) -> bytes | None:
    """``sql`` with ``%s`` as ``$1, $2...`` and ``%%`` as ``%`` (PREPARE's spelling); None when
    it cannot be prepared so (not a query PREPARE takes, named ``%(x)s`` placeholders, or a
    count that does not match)."""
    if not isinstance(values, tuple) or not _PREPARABLE.match(sql) or b"%(" in sql:
        return None
    count = 0

    def one(m: re.Match[bytes]) -> bytes:
        nonlocal count
        if m.group() == b"%%":
            return b"%"
        count += 1
        return b"$%d" % count

    out = _PLACEHOLDER.sub(one, sql)
    return out if count == len(values) else None


def sql_params(params: Params) -> Any:
    return params if isinstance(params, dict) else tuple(params)
