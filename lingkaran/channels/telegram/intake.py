"""The durable Telegram intake: record every update, then process it per user, in order.

The same design as the WhatsApp webhook (``lingkaran.channels.whatsapp``)::

    getUpdates (our loop) ─┐                       one transaction for the batch
    webhook POST ──────────┴─▶ record raw updates ──▶ inbound_messages 'received'
                               then: next offset / HTTP 200      │
         per-user queue, by update_id ◀─────────────────────────┘
         TelegramChannel.handle_update ▶ Engine.handle (claims the id with the step) ▶ replies
         forget the payload ('processed', payload NULL; group commit)
    a restart re-queues what was recorded and not processed; replies committed and never
    sent are replayed first (``TelegramChannel.replay_unsent``)

* **Nothing is acknowledged before it is recorded.** Polling asks for ``offset = last + 1`` only
  after the batch's transaction committed; a webhook answers 200 only then (500 otherwise, and
  Telegram retries). A crash in between costs a redelivery, which the ledger's key makes a no-op.
* **Exactly once.** A message is recorded under the id the engine claims in the step's own
  transaction (``updates.intake_key``): a step either committed with its effects or not at all.
* **Order.** One worker per user takes that user's updates by ``update_id``; different users run
  concurrently (``concurrency`` at once).
* **Groups** are not served and not recorded: a command there gets one polite note.
* **Shutdown** (``stop``) stops taking updates, lets the steps in progress finish (up to
  ``grace``), and leaves everything else recorded for the next start: no backlog is drained.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lingkaran_core.clock import Clock
from lingkaran_core.storage import Database, channel_repo

from .botapi import BotAPI, BotAPIError, Conflict, InvalidToken
from .config import ALLOWED_UPDATES, CHANNEL
from .updates import TgUpdate, Unreadable, masked_payload, parse_update

logger = logging.getLogger(__name__)

Handler = Callable[[TgUpdate], Awaitable[None]]


@dataclass(order=True)
class _Queued:
    update_id: int
    seq: int
    update: TgUpdate = field(compare=False)


@dataclass
class _Batch:
    """Updates waiting for the next group commit, and who waits for it."""

    entries: list[tuple[TgUpdate, str]] = field(default_factory=list)
    unreadable: list[tuple[Any, Unreadable]] = field(default_factory=list)
    done: asyncio.Future[list[bool]] | None = None


class Intake:
    """Records updates, queues them per user, processes them with ``handle``."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        handle: Handler,
        on_group: Handler,
        concurrency: int = 64,
    ) -> None:
        self.db = db
        self.clock = clock
        self.handle = handle
        self.on_group = on_group
        self._sem = asyncio.Semaphore(concurrency)
        self._queues: dict[str, list[_Queued]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._side: set[asyncio.Task[Any]] = set()
        self._seq = itertools.count()
        self._known: set[str] = set()  # keys queued or in progress (never twice at once)
        self._running = False
        self._stopping = False
        self._batch: _Batch | None = None
        self._done_keys: list[str] = []
        self._done_task: asyncio.Task[None] | None = None
        self.processed = 0

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> int:
        """Forget payloads a crash left on processed rows, re-queue the unprocessed ones."""
        self._stopping = False
        async with self.db.tx() as tx:
            await channel_repo.forget_processed_payloads(tx, CHANNEL)
        async with self.db.read() as r:
            pending = await channel_repo.pending_updates(r, CHANNEL)
        self._running = True
        recovered = 0
        for row in pending:
            try:
                update = parse_update(json.loads(row.payload))
            except (ValueError, Unreadable):
                logger.warning("telegram record unreadable", extra={"key": row.message_id[-8:]})
                continue
            self._enqueue(update)
            recovered += 1
        if recovered:
            logger.info("telegram updates resumed", extra={"recovered": recovered})
        return recovered

    async def stop(self, grace: float = 0.5) -> None:
        """Take no more work; let steps in progress finish for up to ``grace`` seconds."""
        self._running = False
        self._stopping = True
        workers = list(self._workers.values())
        if workers:
            _done, late = await asyncio.wait(workers, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)
        for task in list(self._side):
            task.cancel()
        if self._side:
            await asyncio.gather(*self._side, return_exceptions=True)
        await self._flush_done()

    async def idle(self) -> None:
        """Wait until every queued update has been processed (tests)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)
        await self._flush_done()

    @property
    def queued(self) -> int:
        """Updates queued and not processed yet."""
        return sum(len(q) for q in self._queues.values())

    # -- recording -----------------------------------------------------------------------

    async def record(self, raws: Sequence[Any]) -> int:
        """Record updates durably (one group commit), then queue the new ones; how many new.

        Raises when the database refused: the caller must not acknowledge them then.
        """
        batch = self._batch
        if batch is None:
            batch = self._batch = _Batch(done=asyncio.get_running_loop().create_future())
            self._spawn(self._commit(batch))
        assert batch.done is not None
        groups: list[TgUpdate] = []
        mine = len(batch.entries)
        for raw in raws:
            try:
                update = parse_update(raw)
            except Unreadable as exc:
                batch.unreadable.append((raw, exc))
                continue
            if update.kind == "other":
                continue  # not a type we asked for
            if not update.private:
                groups.append(update)
                continue
            batch.entries.append(
                (update, json.dumps(raw, ensure_ascii=False, separators=(",", ":")))
            )
        ours = [u for u, _ in batch.entries[mine:]]
        flags = await asyncio.shield(batch.done)
        mine_fresh = [u for u, new in zip(ours, flags[mine : mine + len(ours)], strict=True) if new]
        for update in groups:
            self._spawn(self._run_side(update))
        if self._running:
            for update in mine_fresh:
                self._enqueue(update)
        return len(mine_fresh)

    async def _commit(self, batch: _Batch) -> None:
        await asyncio.sleep(0)  # let the webhooks arriving in this loop turn join
        self._batch = None
        assert batch.done is not None
        now = self.clock()
        fresh: list[bool] = []
        seen: set[str] = set()
        try:
            async with self.db.tx() as tx:
                for update, payload in batch.entries:
                    new = update.key not in seen and await channel_repo.record_inbound(
                        tx, CHANNEL, update.key, str(update.chat_id), payload, now=now
                    )
                    seen.add(update.key)
                    fresh.append(new)
                for raw, exc in batch.unreadable:
                    update_id = raw.get("update_id") if isinstance(raw, dict) else None
                    await channel_repo.record_unparsed_update(
                        tx,
                        CHANNEL,
                        str(update_id),
                        kind=exc.kind,
                        error=exc.reason,
                        payload=masked_payload(raw),
                        now=now,
                    )
        except Exception as exc:
            batch.done.set_exception(exc)
            return
        for _raw, bad in batch.unreadable:
            logger.warning(
                "telegram update not readable", extra={"kind": bad.kind, "error": bad.reason[:120]}
            )
        batch.done.set_result(fresh)

    # -- processing ----------------------------------------------------------------------

    def _enqueue(self, update: TgUpdate) -> None:
        if update.key in self._known:
            return
        self._known.add(update.key)
        user = str(update.chat_id)
        heapq.heappush(
            self._queues.setdefault(user, []),
            _Queued(update_id=update.update_id, seq=next(self._seq), update=update),
        )
        if user not in self._workers:
            self._workers[user] = asyncio.create_task(self._drain(user))

    async def _drain(self, user: str) -> None:
        try:
            queue = self._queues[user]
            while queue and not self._stopping:
                async with self._sem:
                    if self._stopping:
                        break  # recorded: the next start takes it
                    item = heapq.heappop(queue)
                    try:
                        await self._process(item.update)
                    finally:
                        self._known.discard(item.update.key)
        finally:
            # No await between the empty check and these lines: nothing can slip in unseen.
            for item in self._queues.get(user, ()):
                self._known.discard(item.update.key)
            self._queues.pop(user, None)
            self._workers.pop(user, None)

    async def _process(self, update: TgUpdate) -> None:
        try:
            await self.handle(update)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug, not the user's fault: keep the payload, retry at the next start.
            error = type(exc).__name__
            logger.exception("telegram update failed", extra={"kind": update.kind, "error": error})
            with contextlib.suppress(Exception):
                async with self.db.tx() as tx:
                    await channel_repo.mark_inbound_failed(tx, CHANNEL, update.key, error=error)
            return
        self.processed += 1
        self._done_keys.append(update.key)
        if self._done_task is None:
            self._done_task = self._spawn(self._flush_done_soon())

    async def _flush_done_soon(self) -> None:
        await asyncio.sleep(0)
        self._done_task = None
        await self._flush_done()

    async def _flush_done(self) -> None:
        keys, self._done_keys = self._done_keys, []
        if not keys:
            return
        try:
            async with self.db.tx() as tx:
                await channel_repo.forget_payloads(tx, CHANNEL, keys)
        except Exception:  # the sweep at the next start catches up
            logger.warning("telegram payloads not forgotten", exc_info=True)

    async def _run_side(self, update: TgUpdate) -> None:
        try:
            await self.on_group(update)
        except Exception:
            logger.warning("telegram group update failed", exc_info=True)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._side.add(task)
        task.add_done_callback(self._side.discard)
        return task


class Poller:
    """Our own ``getUpdates`` loop: the offset moves only past updates the intake recorded."""

    def __init__(self, api: BotAPI, intake: Intake, *, timeout: float) -> None:
        self.api = api
        self.intake = intake
        self.timeout = timeout
        self.offset: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Poll in the background."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="telegram-poll")

    async def stop(self) -> None:
        """Stop at once (an open long poll is dropped: its updates come again next time)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        delay = 1.0
        while True:
            try:
                updates = await self.api.get_updates(
                    offset=self.offset,
                    poll_timeout=self.timeout,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            except asyncio.CancelledError:
                raise
            except (InvalidToken, Conflict) as exc:
                logger.error("telegram polling refused", extra={"error": exc.message[:200]})
                await asyncio.sleep(min(delay * 5, 60.0))
                delay = min(delay * 2, 30.0)
                continue
            except BotAPIError as exc:
                logger.warning("telegram polling error", extra={"error": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = 1.0
            if not updates:
                continue
            try:
                await self.intake.record(updates)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Not recorded: not confirmed either; the same updates come with the next poll.
                logger.exception("telegram updates not recorded")
                await asyncio.sleep(1.0)
                continue
            ids = [u["update_id"] for u in updates if isinstance(u.get("update_id"), int)]
            if ids:
                self.offset = max(ids) + 1


__all__ = ["Intake", "Poller"]
