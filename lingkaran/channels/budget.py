"""One send budget per sending identity (a Telegram bot token, a WhatsApp phone number).

Every budgeted API call of an identity takes a permit here first: the reply to a user's tap, a
claim's status change, a reminder, a broadcast. There is no other limiter in front of it or
behind it (the outbox dispatcher paces *bulk* per recipient, a different dimension)::

    Telegram conversation replies ──┐
    WhatsApp conversation replies ──┤   SendBudget (one per identity)   ──▶  the API
    outbox dispatcher (bulk) ───────┘   strict priority, ≤ limit per window

* **At most ``limit`` calls in any ``window`` seconds, as the API counts them.** A permit holds
  its slot while the call is in flight and for ``window`` seconds after its answer came: the
  API saw the request before it answered, so whatever the network's jitter, two calls
  ``limit`` permits apart always reach it more than a window apart (a log of *grant* times
  would need a headroom as large as the worst jitter). A burst - at start-up, after a pause -
  never exceeds what the API accepts in one second, which a token bucket with a full bucket
  plus its refill would. Use ``async with budget.permit(priority):`` around the call.
* **Strict priority**: waiting callers are served reply > transactional > reminder > broadcast,
  first come first served within one priority; bulk only gets what replies leave.
* **Bulk is spaced evenly** (one permit per ``window / limit`` seconds), so it never takes a whole
  window at once: a reply that arrives at any moment finds a permit within one spacing
  (~35 ms at 30/s) instead of waiting for the window to roll over.
* **Throttling answers** (Telegram 429 + ``retry_after``): a refusal for one chat pauses that
  chat (Telegram's per-chat limit); refusals for two different chats within a second, or one
  without a chat, pause the whole identity that long.

The priority of a call travels in the ``SEND_PRIORITY`` context variable (default: reply), so the
dispatcher sets it once around ``Sender.send_outbound`` and the HTTP layer that takes the permit
needs no extra argument. ``BudgetedTransport`` is that HTTP layer for an ``httpx`` client whose
owner knows nothing of budgets (the WhatsApp sender): the composition root hands it the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar

import httpx

REPLY = 0
TRANSACTIONAL = 1
REMINDER = 2
BROADCAST = 3
PRIORITY_OF_CLASS = {
    "reply": REPLY,
    "transactional": TRANSACTIONAL,
    "reminder": REMINDER,
    "broadcast": BROADCAST,
}
PRIORITY_NAMES = {v: k for k, v in PRIORITY_OF_CLASS.items()}

# The priority of the API calls made in this context (the dispatcher sets it per outbox row).
SEND_PRIORITY: ContextVar[int] = ContextVar("send_priority", default=REPLY)

RATE_HEADROOM = 0.995  # the windows of two clocks never line up exactly
THROTTLE_SPREAD = 1.0  # refusals of two chats within this many seconds: the whole identity


class SendBudget:
    """Permits for one identity's budgeted API calls (see the module docstring)."""

    def __init__(
        self,
        rate: float,
        *,
        window: float = 1.0,
        headroom: float = RATE_HEADROOM,
        name: str = "",
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.name = name
        self.rate = rate
        self.limit = max(1, math.floor(rate * window))
        self.window = window / headroom
        self.spacing = self.window / self.limit
        self.granted: Counter[int] = Counter()
        self.throttles = 0
        self._in_flight = 0
        self._done: deque[float] = deque()  # when answered calls were answered
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._paused_until = 0.0
        self._chat_paused: dict[str, float] = {}
        self._recent: deque[tuple[float, str | None]] = deque()
        self._last_bulk = -math.inf

    # -- taking permits ------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def permit(
        self, priority: int = REPLY, *, chat: str | None = None
    ) -> AsyncIterator[None]:
        """Hold a permit for one call: wait for it (strict priority), release when answered."""
        await self.acquire(priority, chat=chat)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, priority: int = REPLY, *, chat: str | None = None) -> None:
        """Wait for a permit; ``release()`` it once the call was answered (or failed).

        ``chat`` first waits out that chat's pause.
        """
        loop = asyncio.get_running_loop()
        if chat is not None:
            # A pause may grow while we sleep (another 429): look again after each.
            while (until := self._chat_paused.get(chat, 0.0)) > loop.time():  # noqa: ASYNC110
                await asyncio.sleep(until - loop.time())
            self._chat_paused.pop(chat, None)
        now = loop.time()
        if self._may_skip_queue(priority) and self._earliest(priority, now) <= now:
            self._grant(priority, now)
            return
        fut: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiters, (priority, next(self._seq), fut))
        self._pump()
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # granted as we were cancelled: the call never happens
            raise

    def release(self) -> None:
        """The call of a permit was answered: its slot frees one window from now."""
        self._in_flight = max(0, self._in_flight - 1)
        self._done.append(asyncio.get_running_loop().time())
        self._pump()

    def _may_skip_queue(self, priority: int) -> bool:
        # Nobody of this priority or higher is waiting (lower ones wait behind us anyway).
        while self._waiters and self._waiters[0][2].done():
            heapq.heappop(self._waiters)  # cancelled callers
        return not self._waiters or self._waiters[0][0] > priority

    def _earliest(self, priority: int, now: float) -> float:
        """When the head waiter may go (``inf``: when a call in flight is answered)."""
        done = self._done
        while done and done[0] <= now - self.window:
            done.popleft()
        at = max(now, self._paused_until)
        excess = self._in_flight + len(done) - self.limit + 1
        if excess > 0:
            # The slot of the ``excess``-th oldest answered call frees first.
            at = max(at, done[excess - 1] + self.window) if excess <= len(done) else math.inf
        if priority > REPLY:
            at = max(at, self._last_bulk + self.spacing)
        return at

    def _grant(self, priority: int, now: float) -> None:
        self._in_flight += 1
        if priority > REPLY:
            self._last_bulk = now
        self.granted[priority] += 1

    def _pump(self) -> None:
        """Grant what may go now, in priority order; set a timer for the next one."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._waiters:
            priority, _seq, fut = self._waiters[0]
            if fut.done():
                heapq.heappop(self._waiters)
                continue
            at = self._earliest(priority, now)
            if at > now:
                # The head decides: what it waits for (the window, the spacing, a pause, an
                # answer), everything of a lower priority waits for too.
                if at < math.inf:
                    self._timer = loop.call_at(at, self._pump)
                return
            heapq.heappop(self._waiters)
            self._grant(priority, now)
            fut.set_result(None)

    # -- what the API said ---------------------------------------------------------------

    def throttled(self, retry_after: float, *, chat: str | None = None) -> None:
        """The API refused a call (429): pause the chat, or everything (see the docstring)."""
        self.throttles += 1
        loop = asyncio.get_running_loop()
        now = loop.time()
        seconds = max(0.0, min(retry_after, 300.0))
        recent = self._recent
        recent.append((now, chat))
        while recent and recent[0][0] < now - THROTTLE_SPREAD:
            recent.popleft()
        chats = {c for _, c in recent}
        if chat is None or None in chats or len(chats) >= 2:
            self.pause(seconds)
        else:
            self._chat_paused[chat] = max(self._chat_paused.get(chat, 0.0), now + seconds)

    def pause(self, seconds: float) -> None:
        """No permit for anyone during the next ``seconds``."""
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)
        self._pump()

    def chat_paused(self, chat: str) -> float:
        """Seconds left of a chat's pause (0 when none)."""
        left = self._chat_paused.get(chat, 0.0) - asyncio.get_running_loop().time()
        return max(0.0, left)

    @property
    def waiting(self) -> int:
        """Callers waiting for a permit."""
        return sum(1 for _p, _s, f in self._waiters if not f.done())

    def close(self) -> None:
        """Drop the timer (the loop is going away); waiting callers are cancelled by theirs."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class BudgetedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that takes a permit for each request ``budgeted(request)`` says so.

    The priority comes from ``SEND_PRIORITY``; a 429 answer is reported to the budget.
    """

    def __init__(
        self,
        budget: SendBudget,
        budgeted: Callable[[httpx.Request], bool],
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.budget = budget
        self._budgeted = budgeted
        self._inner = inner or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20)
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for a permit when the request is budgeted, then send it."""
        if not self._budgeted(request):
            return await self._inner.handle_async_request(request)
        async with self.budget.permit(SEND_PRIORITY.get()):
            response = await self._inner.handle_async_request(request)
        if response.status_code == 429:
            try:
                seconds = float(response.headers.get("retry-after") or 1.0)
            except ValueError:
                seconds = 1.0
            self.budget.throttled(seconds)
        return response

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self._inner.aclose()


def priority_of(msg_class: str) -> int:
    """The budget priority of an outbox message class (unknown classes are broadcast)."""
    return PRIORITY_OF_CLASS.get(msg_class, BROADCAST)


__all__ = [
    "BROADCAST",
    "REMINDER",
    "REPLY",
    "SEND_PRIORITY",
    "TRANSACTIONAL",
    "BudgetedTransport",
    "SendBudget",
    "priority_of",
]
