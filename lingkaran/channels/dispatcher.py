"""The outbox dispatcher: drains queued rows per channel, inside that channel's one budget.

For each channel with a ``Sender`` one task loops: claim a batch of due rows (``sending``), look
up each recipient's chat *now* (opt-out, language, last message), ask the outbox policy
(``lingkaran_core.outbox.decide``: send, defer past the quiet hours, or drop after opt-out),
render the row in the chat's current language (``handlers.outbound``), and send it inside the
channel's ``SendBudget`` (``lingkaran.channels.budget``): the one scheduler per sending identity
that conversation replies use too, with strict priority reply > transactional > reminder >
broadcast, so bulk only gets the capacity replies leave. A sender that takes its permits itself,
call by call (``budgets``: Telegram's Bot API client, WhatsApp's budgeted HTTP transport), gets
the row's priority in ``SEND_PRIORITY``; for any other sender the dispatcher takes one permit per
row. Bulk is also paced per recipient (Telegram 1 msg/s per chat; WhatsApp ~1 per 6 s per user,
the pair rate): a recipient not ready yet is released to try a moment later rather than holding
the batch. Then the row is marked:

* success → ``sent`` (channel message ids; the WhatsApp template name when one was used);
* ``RetryLater`` → back to ``queued`` with exponential backoff + jitter, at least the server's
  ``retry_after`` (which the budget also honours); after ``max_attempts`` → ``dead`` with the
  last error;
* ``HoldMessage`` → ``held`` (re-examined when the user writes again, see ``on_inbound``, and
  once a day by the scheduler); ``Undeliverable`` → ``failed``.

WhatsApp business-initiated rows (recipient outside the 24 h window) also pass the tier
planner: past the configured share of the portfolio's unique-users-per-24 h limit they wait,
most urgent first, until the rolling window frees up.

Channel ``admin`` rows are never sent: they are the OPD's queue, left ``queued`` and read by
``bot.py admin outbox``. Channel ``terminal`` has no push: ``LogSender`` logs the rendered text
(masked) so sweeps can be tried offline.

The loop wakes on ``poke()`` (call it after a commit that queued rows) and on a timer (the next
``not_before`` or ``idle_interval``). ``stop()`` releases unsent rows and returns promptly; rows a
crash leaves ``sending`` are re-queued by ``start()``: at most one repeated send, never a loss.

Environment (all optional): ``LINGKARAN_TELEGRAM_RATE`` (30/s), ``LINGKARAN_TELEGRAM_PER_CHAT_SECONDS``
(1), ``LINGKARAN_WHATSAPP_RATE`` (80/s), ``LINGKARAN_WHATSAPP_PER_USER_SECONDS`` (6),
``LINGKARAN_OUTBOX_MAX_ATTEMPTS`` (8), ``LINGKARAN_WA_TIER`` (250; ``unlimited``),
``LINGKARAN_WA_TIER_SHARE`` (0.9), ``LINGKARAN_WA_TEMPLATE_PRICE_IDR`` (500).

What happens to a row that cannot go now (retry with backoff or dead letter, the pause for
refused credentials, the WhatsApp tier's wait) is ``dispatch_retry.DispatchRetry``, mixed in; the
budget itself lives in ``lingkaran.channels.budget``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from aiolimiter import AsyncLimiter

from handlers.engine import Reply
from handlers.outbound import render
from lingkaran.channels.base import (
    ChannelAuthFailed,
    HoldMessage,
    OutboundMessage,
    RetryLater,
    Sender,
    SendResult,
    Undeliverable,
)
from lingkaran.channels.budget import SEND_PRIORITY, SendBudget, priority_of
from lingkaran.channels.dispatch_retry import DispatchRetry, _err
from lingkaran.settings import Settings
from lingkaran_core import outbox as policy
from lingkaran_core.logs import mask_text
from lingkaran_core.storage import Database, admin_repo
from lingkaran_core.storage import outbox_repo as repo
from lingkaran_core.storage.outbox_repo import OutboxRow, RecipientState

logger = logging.getLogger(__name__)

# A row ``sending`` for longer than this was claimed by an instance that died (a send, retries
# included, takes seconds); checked this often on a shared PostgreSQL database.
STALE_CLAIM = timedelta(minutes=2)
STALE_CHECK_EVERY = 30.0

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelLimits:
    """Rate limits of one channel."""

    rate: float  # budgeted calls per second, overall (the identity's budget)
    per_user_interval: float  # seconds between two bulk messages to the same user (0 = none)
    # Rows claimed at once: a few seconds' worth, so a transactional row queued behind a
    # broadcast batch waits seconds, not minutes (the budget orders the rows in hand).
    batch: int = 200
    concurrency: int = 32


DEFAULT_LIMITS: Mapping[str, ChannelLimits] = {
    # core.telegram.org/bots/faq: ~30 msg/s overall, ~1 msg/s per chat.
    "telegram": ChannelLimits(rate=30, per_user_interval=1.0, batch=60),
    # Cloud API: 80 msg/s per number; pair rate ~1 message per 6 s to one user (131056).
    "whatsapp": ChannelLimits(rate=80, per_user_interval=6.0, batch=160),
    "terminal": ChannelLimits(rate=1000, per_user_interval=0.0),
}


def limits_from_settings(settings: Settings) -> dict[str, ChannelLimits]:
    """Channel limits with the settings applied."""
    out = dict(DEFAULT_LIMITS)
    out["telegram"] = replace(
        out["telegram"],
        rate=settings.telegram_rate,
        per_user_interval=settings.telegram_per_chat_seconds,
    )
    out["whatsapp"] = replace(
        out["whatsapp"],
        rate=settings.whatsapp_rate,
        per_user_interval=settings.whatsapp_per_user_seconds,
    )
    return out


class LogSender:
    """The terminal's "push": log the rendered text (masked) at INFO."""

    channel = "terminal"

    async def send_reply(self, user_ref: str, reply: Reply) -> SendResult:
        """Log a conversation reply."""
        logger.info(
            "terminal outbound", extra={"user_ref": user_ref, "text": mask_text(reply.text)}
        )
        return SendResult(message_ids=())

    async def send_outbound(self, message: OutboundMessage) -> SendResult:
        """Log an outbox message."""
        logger.info(
            "terminal outbound",
            extra={
                "outbox_id": message.outbox_id,
                "user_ref": message.user_ref,
                "msg_key": message.msg_key,
                "text": mask_text(message.reply.text),
            },
        )
        return SendResult(message_ids=(f"log-{message.outbox_id}",))


def _group_done(done: Callable[[int], None], n: int, _task: object) -> None:
    done(n)


class _InHand:
    """How many claimed rows are still in hand, and a way to wait for fewer."""

    def __init__(self) -> None:
        self.rows = 0
        self._event = asyncio.Event()

    def take(self, n: int) -> None:
        self.rows += n

    def done(self, n: int) -> None:
        self.rows = max(0, self.rows - n)
        self._event.set()

    async def below(self, n: int) -> None:
        """Return once fewer than ``n`` rows are in hand."""
        while self.rows >= n:
            self._event.clear()
            await self._event.wait()


@dataclass(slots=True)
class DispatchStats:
    """What one drain did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    failed: int = 0
    held: int = 0
    dropped: int = 0
    deferred: int = 0
    waiting_tier: int = 0
    throttled: int = 0  # 429 / 130429: the server asked us to slow down
    by_status: dict[str, int] = field(default_factory=dict)

    def add(self, other: DispatchStats) -> None:
        """Accumulate another drain's figures."""
        for name in (
            "sent",
            "retried",
            "dead",
            "failed",
            "held",
            "dropped",
            "deferred",
            "waiting_tier",
            "throttled",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Dispatcher(DispatchRetry):
    """Drains the outbox of every channel it has a sender for."""

    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        *,
        clock: Clock,
        limits: Mapping[str, ChannelLimits] | None = None,
        config: policy.OutboxConfig | None = None,
        rng: random.Random | None = None,
        idle_interval: float = 30.0,
        auth_recheck: float = 300.0,
        on_drain: Callable[[str, DispatchStats], None] | None = None,
        stale_claim: timedelta = STALE_CLAIM,
        stale_check_every: float = STALE_CHECK_EVERY,
        budgets: Mapping[str, SendBudget] | None = None,
    ) -> None:
        """``budgets``: the budget each of these channels' senders takes permits from itself,
        call by call (the dispatcher then only says the priority); other channels get a budget
        of their own here, one permit per row."""
        self.db = db
        self.stale_claim = stale_claim
        self.stale_check_every = stale_check_every
        self.senders = dict(senders)
        self.clock = clock
        self.limits = dict(limits or DEFAULT_LIMITS)
        self.config = config or policy.DEFAULT_CONFIG
        self.rng = rng or random.Random()
        self.idle_interval = idle_interval
        self._events: dict[str, asyncio.Event] = {c: asyncio.Event() for c in self.senders}
        self._budgets: dict[str, SendBudget] = dict(budgets or {})
        self._paced_by_sender = frozenset(self._budgets)
        self._per_user: dict[tuple[str, str], AsyncLimiter] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        # Channels whose credentials were refused: reason and when to try one row again.
        self.auth_paused: dict[str, str] = {}
        self._auth_retry_at: dict[str, float] = {}
        self._stale_check_at = 0.0
        self.auth_recheck = auth_recheck
        self.on_drain = on_drain

    def _limits(self, channel: str) -> ChannelLimits:
        return self.limits.get(channel) or ChannelLimits(rate=10, per_user_interval=1.0)

    def budget(self, channel: str) -> SendBudget:
        """The channel's budget (shared with its sender when given in ``budgets``)."""
        budget = self._budgets.get(channel)
        if budget is None:
            budget = self._budgets[channel] = SendBudget(self._limits(channel).rate, name=channel)
        return budget

    def _user_limiter(self, channel: str, user_ref: str) -> AsyncLimiter | None:
        interval = self._limits(channel).per_user_interval
        if interval <= 0:
            return None
        key = (channel, user_ref)
        lim = self._per_user.get(key)
        if lim is None:
            if len(self._per_user) > 20_000:
                self._prune_user_limiters()
            lim = AsyncLimiter(1, interval)
            self._per_user[key] = lim
        return lim

    def _prune_user_limiters(self) -> None:
        for key, lim in list(self._per_user.items()):
            if lim.has_capacity(1):
                del self._per_user[key]

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Re-queue rows a crash left ``sending``, then start one loop per channel."""
        # One process owns a SQLite file: whatever it left ``sending`` is stale now. On a shared
        # PostgreSQL another instance may be sending those rows this moment: only old claims.
        shared = self.db.dialect == "postgresql"
        async with self.db.tx() as tx:
            n = await repo.requeue_stale(
                tx, claimed_before=self.clock() - self.stale_claim if shared else None
            )
        if n:
            logger.warning("outbox rows re-queued after a crash", extra={"rows": n})
        self._stopping = False
        for channel in self.senders:
            self._tasks.append(asyncio.create_task(self._loop(channel), name=f"outbox-{channel}"))

    async def stop(self, grace: float = 0.5) -> None:
        """Stop the loops: unsent rows go back to the queue; returns within ``grace`` seconds."""
        self._stopping = True
        for ev in self._events.values():
            ev.set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=grace)
            for t in pending:
                t.cancel()
            for t in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
        self._tasks.clear()
        for channel, budget in self._budgets.items():
            if channel not in self._paced_by_sender:
                budget.close()

    def poke(self, channel: str | None = None) -> None:
        """Wake the loop(s) now (after a commit that queued rows)."""
        for c, ev in self._events.items():
            if channel is None or c == channel:
                ev.set()

    async def on_inbound(self, channel: str, user_ref: str) -> int:
        """The user wrote: their held rows (window closed) may go now."""
        async with self.db.tx() as tx:
            n = await repo.release_held(tx, now=self.clock(), channel=channel, user_ref=user_ref)
        if n:
            self.poke(channel)
        return n

    async def release_held(self) -> int:
        """The daily re-examination of every held row."""
        async with self.db.tx() as tx:
            n = await repo.release_held(tx, now=self.clock())
        if n:
            self.poke()
        return n

    async def _loop(self, channel: str) -> None:
        ev = self._events[channel]
        while not self._stopping:
            ev.clear()
            try:
                await self.drain(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox drain failed", extra={"channel": channel})
            if self._stopping:
                break
            wait = await self._next_wait(channel)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ev.wait(), timeout=wait)

    async def _next_wait(self, channel: str) -> float:
        async with self.db.read() as r:
            nxt = await admin_repo.next_queued_at(r, channel)
        if not nxt:
            return self.idle_interval
        secs = (datetime.fromisoformat(nxt) - self.clock()).total_seconds()
        return min(max(secs, 0.05), self.idle_interval)

    # -- draining -------------------------------------------------------------------------------

    def alive(self) -> bool:
        """Whether every channel loop is running (for readiness)."""
        return bool(self._tasks) and not any(t.done() for t in self._tasks)

    async def drain(self, channel: str, *, max_batches: int | None = None) -> DispatchStats:
        """Send every row of ``channel`` due now (batch after batch); return what happened.

        With per-recipient pacing on, the next batch is claimed as soon as half of the rows in
        hand are done, so the budget never idles between batches (a recipient's later row
        cannot overtake an earlier one: pacing releases it for later). While the channel's
        credentials are refused only one row is tried per ``auth_recheck`` seconds; the others
        wait, queued.
        """
        total = DispatchStats()
        batches = 0
        loop = asyncio.get_running_loop()
        if self.db.dialect == "postgresql" and loop.time() >= self._stale_check_at:
            # An instance killed mid-send leaves rows ``sending``: the others take them back.
            self._stale_check_at = loop.time() + self.stale_check_every
            async with self.db.tx() as tx:
                n = await repo.requeue_stale(
                    tx, channel=channel, claimed_before=self.clock() - self.stale_claim
                )
            if n:
                logger.warning("stale outbox claims re-queued", extra={"rows": n})
        size = self._limits(channel).batch
        overlap = self._limits(channel).per_user_interval > 0
        hand = _InHand()
        running: list[asyncio.Task[DispatchStats]] = []
        try:
            while not self._stopping and (max_batches is None or batches < max_batches):
                paused = channel in self.auth_paused
                if paused and loop.time() < self._auth_retry_at.get(channel, 0.0):
                    break
                if running and hand.rows > size // 2:
                    await hand.below(size // 2 + 1)
                    continue
                async with self.db.tx() as tx:
                    rows = await repo.claim_due(
                        tx,
                        channel=channel,
                        now=self.clock(),
                        limit=1 if paused else size - hand.rows,
                    )
                if not rows:
                    break
                batches += 1
                task = asyncio.create_task(self._process(channel, rows, hand))
                if overlap and not paused:
                    running.append(task)
                    await asyncio.sleep(0)  # let it take its rows in hand
                    continue
                total.add(await task)
                if paused:
                    if channel in self.auth_paused:
                        break  # still refused: wait for the next recheck
                    logger.warning(
                        "outbox resumed: credentials accepted", extra={"channel": channel}
                    )
            for stats in await asyncio.gather(*running):
                total.add(stats)
        except asyncio.CancelledError:
            for t in running:
                t.cancel()
            raise
        if self.on_drain is not None and (
            total.sent or total.failed or total.dead or total.retried
        ):
            self.on_drain(channel, total)
        return total

    async def _process(
        self, channel: str, rows: list[OutboxRow], hand: _InHand | None = None
    ) -> DispatchStats:
        stats = DispatchStats()
        hand = hand or _InHand()
        left = [len(rows)]
        hand.take(len(rows))

        def done(n: int) -> None:
            left[0] -= n
            hand.done(n)

        try:
            async with self.db.read() as r:
                states = await repo.recipient_states(r, rows)
            claimed = len(rows)
            rows = await self._apply_tier(channel, rows, states, stats)
            done(claimed - len(rows))
            groups: dict[str, list[OutboxRow]] = {}
            for row in rows:
                groups.setdefault(row.user_ref, []).append(row)
            sem = asyncio.Semaphore(self._limits(channel).concurrency)
            tasks = []
            for g in groups.values():
                task = asyncio.create_task(self._send_group(channel, g, states, sem, stats))
                task.add_done_callback(functools.partial(_group_done, done, len(g)))
                tasks.append(task)
            try:
                await asyncio.gather(*tasks)
            except asyncio.CancelledError:
                for t in tasks:
                    t.cancel()
                raise
        finally:
            done(left[0])  # whatever happened, this batch holds nothing any more
        return stats

    async def _send_group(
        self,
        channel: str,
        group: list[OutboxRow],
        states: Mapping[int, RecipientState],
        sem: asyncio.Semaphore,
        stats: DispatchStats,
    ) -> None:
        """One recipient's rows, in order; a row that must wait for pacing or a retry takes the
        rest with it (so they keep their order)."""
        sender = self.senders[channel]
        for i, row in enumerate(group):
            now = self.clock()
            if self._stopping:
                await self._release_rest(group[i:], now)
                return
            state = states[row.id]
            decision = policy.decide(row.msg_class, state.opted_out, now, self.config)
            if isinstance(decision, policy.Drop):
                async with self.db.tx() as tx:
                    await repo.mark_dropped(tx, row.id, reason=decision.reason)
                stats.dropped += 1
                continue
            if isinstance(decision, policy.Defer):
                # Quiet hours hold this class back, not the replies queued behind it.
                await self._release_rest([row], decision.until)
                stats.deferred += 1
                continue
            user_lim = self._user_limiter(channel, row.user_ref)
            if user_lim is not None:
                if not user_lim.has_capacity(1):
                    interval = self._limits(channel).per_user_interval
                    await self._release_rest(group[i:], now + timedelta(seconds=interval))
                    stats.deferred += len(group) - i
                    return
                await user_lim.acquire()
            message = OutboundMessage(
                outbox_id=row.id,
                channel=channel,
                user_ref=row.user_ref,
                msg_key=row.msg_key,
                params=row.params,
                language=state.language or row.language or "id",
                msg_class=row.msg_class,
                reply=render(row.msg_key, row.params, state.language or row.language),
                last_inbound_at=state.last_inbound_at,
                extra={"chat_id": state.chat_id, "attempts": row.attempts},
            )
            if channel in self.auth_paused and not self._probing(channel):
                await self._release_rest(group[i:], now)  # stays queued while credentials fail
                return
            priority = priority_of(row.msg_class)
            # Each recipient's group runs in a task of its own: the value stays in it.
            SEND_PRIORITY.set(priority)
            try:
                async with sem:
                    if channel in self._paced_by_sender:
                        result = await sender.send_outbound(message)
                    else:
                        async with self.budget(channel).permit(priority, chat=row.user_ref):
                            result = await sender.send_outbound(message)
            except ChannelAuthFailed as exc:
                await self._pause_for_auth(channel, exc, group[i:])
                return
            except RetryLater as exc:
                await self._retry(row, exc, stats)
                if i + 1 < len(group):
                    await self._release_rest(group[i + 1 :], self.clock() + timedelta(seconds=1))
                return
            except HoldMessage as exc:
                async with self.db.tx() as tx:
                    await repo.mark_held(tx, row.id, reason=exc.reason)
                stats.held += 1
                continue
            except Undeliverable as exc:
                async with self.db.tx() as tx:
                    await repo.mark_failed(tx, row.id, error=_err(exc))
                stats.failed += 1
                logger.warning(
                    "outbox row undeliverable", extra={"outbox_id": row.id, "code": exc.code}
                )
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.exception("sender crashed", extra={"outbox_id": row.id})
                await self._retry(row, RetryLater(type(exc).__name__), stats)
                return
            async with self.db.tx() as tx:
                await repo.mark_sent(
                    tx,
                    row.id,
                    now=self.clock(),
                    message_ids=result.message_ids,
                    via_template=result.via_template,
                )
            stats.sent += 1
            if self.auth_paused.pop(channel, None) is not None:
                self._auth_retry_at.pop(channel, None)
