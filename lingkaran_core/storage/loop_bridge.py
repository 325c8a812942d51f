"""Run a repository's synchronous function on the event loop, its PostgreSQL waits awaited.

The repositories are written once, as plain functions on a ``sqlite3``-shaped connection
(``fn(conn, *args)``). On PostgreSQL a function used to run in its connection's worker thread:
every call was a hop to that thread and back, and, with the loop busy, every network wait in
it ended with the thread queueing for the GIL behind the loop (CPython hands it over after its
5 ms switch interval). A chat step makes several such calls.

``on_loop(fn, conn, *args)`` runs ``fn`` in a greenlet on the loop's own thread instead (the
technique SQLAlchemy's asyncio support uses). psycopg does all of its network I/O through one
method, ``Connection.wait(gen)``, which drives a generator of "wait until the socket is
readable/writable" steps; ``LoopConnection.wait`` hands that generator to the parent, which
awaits it with psycopg's own ``waiting.wait_async`` while other tasks run, then switches back
into ``fn`` with the result. Outside ``on_loop`` (the worker thread: COPY, reports, transfers)
``LoopConnection`` waits as a plain psycopg connection does.

Cancellation: a cancelled task's statement in flight is finished first (drained with a blocking
wait, as psycopg's own ``AsyncConnection`` does when cancelled), then ``CancelledError`` is
raised inside ``fn``, which unwinds, and the unit of work rolls back as usual. The statements run
this way are small by contract, so the drain is short.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

import greenlet
import psycopg
from psycopg import waiting
from psycopg.pq import TransactionStatus

T = TypeVar("T")

__all__ = ["LoopConnection", "on_loop"]


class _Bridged(greenlet.greenlet):  # type: ignore[misc]
    """A greenlet running a repository function for ``on_loop``."""


class _Wait:
    """What the bridged function asks its parent for: drive ``gen`` on ``conn``'s socket."""

    __slots__ = ("conn", "fileno", "gen")

    def __init__(self, conn: LoopConnection, gen: Any) -> None:
        self.conn = conn
        self.gen = gen
        self.fileno = conn.pgconn.socket


class LoopConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits go to the event loop when run by ``on_loop``."""

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        here = greenlet.getcurrent()
        if isinstance(here, _Bridged):
            return here.parent.switch(_Wait(self, gen))
        return super().wait(gen, interval, timeout)


async def on_loop(fn: Callable[..., T], /, *args: Any) -> T:
    """``fn(*args)`` on this thread; its psycopg waits are awaited (see the module docstring)."""
    child = _Bridged(fn)
    child.gr_context = contextvars.copy_context()
    request: Any = child.switch(*args)
    cancelled: asyncio.CancelledError | None = None
    while not child.dead:
        wait: _Wait = request
        try:
            if cancelled is None:
                result = await waiting.wait_async(wait.gen, wait.fileno)
            else:  # unwinding after a cancel: what is left runs without awaiting
                result = waiting.wait(wait.gen, wait.fileno)
        except asyncio.CancelledError as exc:
            cancelled = exc
            try:
                _finish(wait)
            except BaseException as failed:  # handed to fn, which unwinds
                request = child.throw(failed)
                continue
            request = child.throw(exc)
            continue
        except BaseException as exc:  # the statement's error: raised in fn
            request = child.throw(exc)
            continue
        request = child.switch(result)
    if cancelled is not None:
        raise cancelled
    return request  # type: ignore[no-any-return]


def _finish(wait: _Wait) -> None:
    """The statement in flight when its task was cancelled: stop it on the server (a statement
    waiting for a lock would otherwise hold the loop until ``lock_timeout``), then read what is
    left, so the connection is idle again. psycopg's ``AsyncConnection`` does the same."""
    conn = wait.conn
    try:
        if conn.pgconn.transaction_status == TransactionStatus.ACTIVE:
            conn.cancel_safe(timeout=5.0)
        waiting.wait(wait.gen, wait.fileno, timeout=5.0)
    except psycopg.errors.QueryCanceled:
        pass  # as asked: the unit rolls back
