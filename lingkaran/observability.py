"""Health, readiness and Prometheus metrics of a running bot.

``/healthz`` answers 200 while the process serves HTTP (liveness). ``/readyz`` answers 200 only
when the bot can do its job: the database answers and is migrated, every configured channel
started and its credentials were accepted at the last check, the dispatcher's loops and the
scheduler run, and the database's disk has room; otherwise 503 with the failing checks, one per
line, so a load balancer or an operator sees why. ``/metrics`` is the Prometheus text format
(prometheus-client) from a registry of this process (not the library's global one, so two bots in
one test process never mix).

Counters are fed by hooks the composition root installs (engine steps, dispatcher drains,
sweeps); gauges that describe the database (outbox rows by channel/class/status, claims by
status) are read at scrape time.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from lingkaran_core.storage import Database, admin_repo

__all__ = ["ChannelHealth", "Health", "Metrics", "routes"]

MIN_FREE_BYTES = 200 * 1024 * 1024


class Metrics:
    """The bot's Prometheus metrics, on their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.inbound = Counter(
            "lingkaran_inbound_messages", "User messages handled", ["channel"], registry=r
        )
        self.step_seconds = Histogram(
            "lingkaran_step_seconds",
            "Time to handle one user message (engine step, durable)",
            ["channel"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=r,
        )
        self.step_errors = Counter(
            "lingkaran_step_errors", "User messages whose step raised", ["channel"], registry=r
        )
        self.sent = Counter("lingkaran_outbox_sent", "Outbox rows sent", ["channel"], registry=r)
        self.failed = Counter(
            "lingkaran_outbox_failed", "Outbox rows undeliverable", ["channel"], registry=r
        )
        self.dead = Counter(
            "lingkaran_outbox_dead", "Outbox rows dead-lettered", ["channel"], registry=r
        )
        self.retried = Counter(
            "lingkaran_outbox_retries", "Outbox send retries", ["channel"], registry=r
        )
        self.throttled = Counter(
            "lingkaran_outbox_throttled",
            "Sends the channel answered with 429 / 130429",
            ["channel"],
            registry=r,
        )
        self.sweep_seconds = Histogram(
            "lingkaran_sweep_seconds", "Reminder sweep duration", registry=r
        )
        self.outbox_rows = Gauge(
            "lingkaran_outbox_rows",
            "Outbox rows by channel, class and status",
            ["channel", "msg_class", "status"],
            registry=r,
        )
        self.claims = Gauge(
            "lingkaran_claims", "Claims by type and status", ["type", "status"], registry=r
        )
        self.channel_up = Gauge(
            "lingkaran_channel_up",
            "1 when the channel runs with accepted credentials",
            ["channel"],
            registry=r,
        )
        self.last_reply = Gauge(
            "lingkaran_last_step_timestamp_seconds",
            "Unix time of the last handled user message",
            registry=r,
        )

    def record_drain(self, channel: str, stats: Any) -> None:
        """Add one dispatcher drain's figures (``DispatchStats``)."""
        self.sent.labels(channel).inc(stats.sent)
        self.failed.labels(channel).inc(stats.failed)
        self.dead.labels(channel).inc(stats.dead)
        self.retried.labels(channel).inc(stats.retried)
        self.throttled.labels(channel).inc(stats.throttled)

    async def refresh(self, db: Database) -> None:
        """Read the gauges that describe the database."""
        async with db.read() as r:
            outbox = await admin_repo.outbox_counts(r)
            claims = await admin_repo.claim_counts(r)
        self.outbox_rows.clear()
        for channel, msg_class, status, n in outbox:
            self.outbox_rows.labels(channel, msg_class, status).set(n)
        self.claims.clear()
        for claim_type, status, n in claims:
            self.claims.labels(claim_type, status).set(n)


@dataclass
class ChannelHealth:
    """What the root knows about one channel."""

    state: str = "starting"  # starting | up | down
    detail: str = ""


@dataclass
class Health:
    """The inputs of ``/readyz``."""

    db: Database
    channels: dict[str, ChannelHealth] = field(default_factory=dict)
    dispatcher_alive: Callable[[], bool] = lambda: False
    scheduler_alive: Callable[[], bool] = lambda: False
    auth_paused: Callable[[], dict[str, str]] = dict
    min_free_bytes: int = MIN_FREE_BYTES

    def set(self, channel: str, state: str, detail: str = "") -> None:
        """Record a channel's state."""
        self.channels[channel] = ChannelHealth(state=state, detail=detail)

    async def problems(self) -> list[str]:
        """Every failing readiness check, one line each (empty: ready)."""
        out: list[str] = []
        try:
            async with self.db.read() as r:
                applied = await admin_repo.applied_migrations(r)
            if not applied:
                out.append("database: not migrated")
        except Exception as exc:
            out.append(f"database: {type(exc).__name__}: {exc}")
        for name, ch in sorted(self.channels.items()):
            if ch.state != "up":
                out.append(f"channel {name}: {ch.state} {ch.detail}".rstrip())
        for name, reason in sorted(self.auth_paused().items()):
            out.append(f"channel {name}: credentials refused, outbox paused ({reason})")
        if not self.dispatcher_alive():
            out.append("dispatcher: not running")
        if not self.scheduler_alive():
            out.append("scheduler: not running")
        try:
            free = shutil.disk_usage(self.db.path.parent).free
            if free < self.min_free_bytes:
                out.append(f"disk: {free // (1024 * 1024)} MiB free beside the database")
        except OSError as exc:
            out.append(f"disk: {exc}")
        return out


def routes(health: Health, metrics: Metrics) -> list[Route]:
    """``/healthz``, ``/readyz`` and ``/metrics``."""

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> Response:
        problems = await health.problems()
        if problems:
            return PlainTextResponse("\n".join(problems) + "\n", status_code=503)
        return PlainTextResponse("ready\n")

    async def metrics_page(request: Request) -> Response:
        for name, ch in health.channels.items():
            up = ch.state == "up" and name not in health.auth_paused()
            metrics.channel_up.labels(name).set(1 if up else 0)
        await metrics.refresh(health.db)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_page),
    ]
