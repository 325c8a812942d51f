"""A row that cannot go now (``DispatchRetry``, a mixin of ``dispatcher.Dispatcher``).

- ``RetryLater`` (or a sender crash): back to ``queued`` after ``policy.backoff`` (exponential,
  jitter, at least the server's ``retry_after``, which the budget honours too); after
  ``max_attempts`` the row is ``dead`` with its last error (``_err``: masked).
- ``ChannelAuthFailed``: the channel pauses, every row stays queued, the OPD is told once; one
  row per ``auth_recheck`` seconds probes whether the credentials work again.
- WhatsApp business-initiated rows past the tier's share of unique users per 24 h wait until
  the rolling window frees up, most urgent first (``policy.plan_business_initiated``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from lingkaran.channels.base import ChannelAuthFailed, DeliveryError, RetryLater
from lingkaran.channels.budget import SendBudget
from lingkaran_core import outbox as policy
from lingkaran_core import services
from lingkaran_core.logs import mask_text
from lingkaran_core.storage import Database, admin_repo
from lingkaran_core.storage import outbox_repo as repo
from lingkaran_core.storage.outbox_repo import OutboxRow, RecipientState

if TYPE_CHECKING:
    from collections.abc import Callable

    from lingkaran.channels.dispatcher import DispatchStats

logger = logging.getLogger("lingkaran.channels.dispatcher")  # one name for the dispatcher


class DispatchRetry:
    """Retries, the credentials pause and the WhatsApp tier's wait (``Dispatcher`` inherits it)."""

    if TYPE_CHECKING:
        db: Database
        clock: Callable[[], datetime]
        config: policy.OutboxConfig
        rng: random.Random
        auth_recheck: float
        auth_paused: dict[str, str]
        _auth_retry_at: dict[str, float]
        _paced_by_sender: frozenset[str]

        def budget(self, channel: str) -> SendBudget: ...

    async def _apply_tier(
        self,
        channel: str,
        rows: list[OutboxRow],
        states: Mapping[int, RecipientState],
        stats: DispatchStats,
    ) -> list[OutboxRow]:
        """WhatsApp: hold back business-initiated rows beyond today's budget share."""
        if channel != "whatsapp" or policy.tier_budget(self.config) is None:
            return rows
        now = self.clock()
        pending = [
            policy.PendingBusinessMessage(outbox_id=r.id, user_ref=r.user_ref, priority=r.priority)
            for r in rows
            if r.msg_class != "reply"
            and not policy.in_whatsapp_window(states[r.id].last_inbound_at, now)
        ]
        if not pending:
            return rows
        since = now - policy.WA_WINDOW
        async with self.db.read() as r:
            used = await repo.business_users_since(r, channel=channel, since=since)
            oldest = await admin_repo.oldest_template_since(r, channel, since)
        plan = policy.plan_business_initiated(pending, used_users=used, config=self.config)
        if not plan.wait:
            return rows
        frees_at = (
            datetime.fromisoformat(oldest) + policy.WA_WINDOW
            if oldest
            else now + timedelta(hours=1)
        )
        waiting = set(plan.wait)
        async with self.db.tx() as tx:
            for oid in plan.wait:
                await repo.release(tx, oid, not_before=max(frees_at, now + timedelta(minutes=1)))
        stats.waiting_tier += len(waiting)
        logger.info(
            "whatsapp business-initiated budget reached",
            extra={"waiting": len(waiting), "budget": plan.budget},
        )
        return [r for r in rows if r.id not in waiting]

    async def _release_rest(self, rest: list[OutboxRow], until: datetime) -> None:
        if not rest:
            return
        async with self.db.tx() as tx:
            for row in rest:
                await repo.release(tx, row.id, not_before=until)

    def _probing(self, channel: str) -> bool:
        """While paused, one row per recheck is the probe; the others wait."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._auth_retry_at.get(channel, 0.0):
            return False
        self._auth_retry_at[channel] = loop.time() + self.auth_recheck
        return True

    async def _pause_for_auth(
        self, channel: str, exc: ChannelAuthFailed, rows: list[OutboxRow]
    ) -> None:
        """Credentials refused: every row stays queued, the OPD is told once per pause."""
        loop = asyncio.get_running_loop()
        first = channel not in self.auth_paused
        self.auth_paused[channel] = exc.reason
        self._auth_retry_at[channel] = loop.time() + self.auth_recheck
        await self._release_rest(rows, self.clock())
        if first:
            logger.error(
                "outbox paused: the channel refused our credentials; renew the token and "
                "restart (rows stay queued)",
                extra={"channel": channel, "code": str(exc.code), "reason": exc.reason},
            )
            async with self.db.tx() as tx:
                await services.alert_admin(
                    tx,
                    now=self.clock(),
                    msg_key="admin.channel_auth_failed",
                    params={"channel": channel, "code": str(exc.code)},
                    dedupe_key=f"auth-failed:{channel}:{self.clock():%Y-%m-%d}",
                )

    async def _retry(self, row: OutboxRow, exc: RetryLater, stats: DispatchStats) -> None:
        attempts = row.attempts + 1
        if exc.retry_after:
            stats.throttled += 1
            if row.channel not in self._paced_by_sender:
                # A sender that takes its own permits told the budget already.
                self.budget(row.channel).throttled(min(exc.retry_after, 60.0), chat=row.user_ref)
        async with self.db.tx() as tx:
            if policy.should_dead_letter(attempts, self.config):
                await repo.mark_dead(tx, row.id, attempts=attempts, error=_err(exc))
                stats.dead += 1
                logger.warning("outbox row dead-lettered", extra={"outbox_id": row.id})
                return
            delay = policy.backoff(attempts, exc.retry_after, self.rng, self.config)
            await repo.mark_retry(
                tx,
                row.id,
                attempts=attempts,
                not_before=self.clock() + timedelta(seconds=delay),
                error=_err(exc),
            )
        stats.retried += 1


def _err(exc: DeliveryError) -> str:
    code = f" [{exc.code}]" if exc.code is not None else ""
    return mask_text(f"{type(exc).__name__}: {exc.reason}{code}")
