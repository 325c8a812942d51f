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
awaits its socket on the loop while other tasks run (below), then switches back into ``fn``
with the result. Outside ``on_loop`` (the worker thread: COPY, reports, transfers)
``LoopConnection`` waits as a plain psycopg connection does.

Cancellation: a cancelled task's statement in flight is finished first (drained with a blocking
wait, as psycopg's own ``AsyncConnection`` does when cancelled), then ``CancelledError`` is
raised inside ``fn``, which unwinds, and the unit of work rolls back as usual. The statements run
this way are small by contract, so the drain is short.

Two costs per call are avoided because a chat step makes about three calls and three waits
(round 2, session 5, measured with ``strace -c`` and ``perf`` on the fleet benchmark):

* **Greenlets are reused.** A new greenlet gets its own Python data stack, 16 KiB that CPython
  maps with ``mmap`` and greenlet unmaps with ``munmap`` when it ends; in a process with several
  threads every ``munmap`` interrupts the other CPUs to flush their TLBs. A bridged greenlet
  serves call after call instead, parked in a small per-thread pool between calls.
* **The socket stays registered.** psycopg's ``wait_async`` adds the socket to the loop's
  selector and removes it again at every wait (two ``epoll_ctl`` calls, a timer and their
  bookkeeping). A ``LoopConnection`` keeps its socket registered from its first wait on, with
  one callback that wakes whoever waits; when it fires and nobody waits (the connection is used
  by its worker thread, or the server went away) it unregisters itself, and the next wait
  registers it again. ``unwatch()`` unregisters it before the connection is closed. Waits to
  write, and waits with a timeout, go to psycopg's ``wait_async`` as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import greenlet
import psycopg
from psycopg import waiting
from psycopg.pq import TransactionStatus

T = TypeVar("T")

__all__ = ["LoopConnection", "on_loop"]

# psycopg's ``Wait.R`` and ``Ready.R`` (the selector's EVENT_READ).
_WAIT_R = waiting.WAIT_R
_READY_R = waiting.READY_R
# Idle bridged greenlets kept per thread: one per unit of work in flight is enough.
_POOL = 16


class _Done:
    """The bridged call returned ``value``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Raised:
    """The bridged call raised ``exc``."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Bridged(greenlet.greenlet):  # type: ignore[misc]
    """A greenlet that runs repository calls for ``on_loop``, one after another.

    Switched into with ``(fn, args)``; switches back to its parent a ``_Wait`` for each network
    wait of ``fn`` and, at the end, a ``_Done`` or ``_Raised``; then waits for the next call.
    """

    def __init__(self) -> None:
        super().__init__(self._serve)

    def _serve(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        while True:
            outcome: _Done | _Raised
            try:
                outcome = _Done(fn(*args))
            except greenlet.GreenletExit:
                raise  # the greenlet itself is being discarded
            except BaseException as exc:  # handed to on_loop's caller
                outcome = _Raised(exc)
            fn = args = None  # type: ignore[assignment]  # nothing kept alive between calls
            fn, args = self.parent.switch(outcome)


_idle = threading.local()


def _take() -> _Bridged:
    """A parked greenlet of this thread whose parent is the running one, or a new one."""
    here = greenlet.getcurrent()
    pool: list[_Bridged] | None = getattr(_idle, "pool", None)
    if pool:
        child = pool.pop()
        if child.parent is here:
            return child
    return _Bridged()


def _park(child: _Bridged) -> None:
    pool: list[_Bridged] | None = getattr(_idle, "pool", None)
    if pool is None:
        pool = _idle.pool = []
    if len(pool) < _POOL and not child.dead:
        pool.append(child)


class _Wait:
    """What the bridged function asks its parent for: drive ``gen`` on ``conn``'s socket."""

    __slots__ = ("conn", "fileno", "gen", "interval", "timeout")

    def __init__(self, conn: LoopConnection, gen: Any, interval: float, timeout: float | None):
        self.conn = conn
        self.gen = gen
        self.fileno = conn.pgconn.socket
        self.interval = interval
        self.timeout = timeout


class LoopConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits go to the event loop when run by ``on_loop``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watch_loop: asyncio.AbstractEventLoop | None = None
        self._watch_fd = -1
        self._waiter: asyncio.Future[None] | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        here = greenlet.getcurrent()
        if isinstance(here, _Bridged):
            return here.parent.switch(_Wait(self, gen, interval, timeout))
        return super().wait(gen, interval, timeout)

    async def _drive(self, wait: _Wait) -> Any:
        """Run ``wait.gen`` to its end, awaiting its socket waits on the running loop."""
        gen = wait.gen
        try:
            s = next(gen)
            while s == _WAIT_R and wait.timeout is None:
                await self._readable(wait.fileno)
                s = gen.send(_READY_R)
        except StopIteration as ex:
            return ex.value
        except OSError as ex:  # as psycopg's wait_async: the socket is gone
            self.unwatch()
            raise psycopg.OperationalError("connection socket closed") from ex
        except BaseException:
            if self.broken or self.closed:  # libpq may have closed the socket already
                self.unwatch()
            raise
        # A wait to write (the send buffer full), or one with a timeout: psycopg's own.
        self.unwatch()
        return await waiting.wait_async(_resumed(s, gen), wait.fileno, wait.interval, wait.timeout)

    async def _readable(self, fd: int) -> None:
        loop = asyncio.get_running_loop()
        if self._watch_loop is not loop or self._watch_fd != fd:
            self.unwatch()
            loop.add_reader(fd, self._fire)
            self._watch_loop, self._watch_fd = loop, fd
        waiter = self._waiter = loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _fire(self) -> None:
        waiter = self._waiter
        if waiter is None:  # readable with nobody waiting on the loop: stop watching
            self.unwatch()
        elif not waiter.done():
            waiter.set_result(None)

    def unwatch(self) -> None:
        """Take the socket off the loop's selector (on the loop's thread; before closing)."""
        loop, self._watch_loop = self._watch_loop, None
        if loop is not None and not loop.is_closed():
            loop.remove_reader(self._watch_fd)
        self._watch_fd = -1


def _resumed(s: Any, gen: Any) -> Any:
    """``gen`` again, its pending wait ``s`` yielded first (for ``waiting.wait_async``)."""
    while True:
        ready = yield s
        try:
            s = gen.send(ready)
        except StopIteration as ex:
            return ex.value


async def on_loop(fn: Callable[..., T], /, *args: Any) -> T:
    """``fn(*args)`` on this thread; its psycopg waits are awaited (see the module docstring)."""
    child = _take()
    child.gr_context = contextvars.copy_context()
    request: Any = child.switch(fn, args)
    cancelled: asyncio.CancelledError | None = None
    while type(request) is _Wait:
        wait: _Wait = request
        try:
            if cancelled is None:
                result = await wait.conn._drive(wait)
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
    _park(child)
    if type(request) is _Raised:
        failure = request.exc
        del request
        raise failure
    if cancelled is not None:
        raise cancelled
    return request.value  # type: ignore[no-any-return]


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
