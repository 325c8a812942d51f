"""The composition root: the one place that builds the bot from ``Settings`` and one ``Clock``.

``run_server`` serves ``lingkaran telegram``, ``lingkaran whatsapp`` and ``lingkaran serve``: one
database, one engine, the chosen channels, the outbox dispatcher and the reminder scheduler
(so claim news, ticket replies and reminders go out whichever command runs), and one web server
(``lingkaran.server.WebServer``) for every webhook route and ``GET /healthz``. ``run_chat`` serves
the terminal, and the admin CLI gets the same settings and clock. Nothing below this module
builds an engine, reads the environment or the real clock.

SIGINT/SIGTERM stop everything in well under a second: the web server stops accepting, the
scheduler stops, the dispatcher puts unsent rows back in the queue, channels get a short grace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.routing import BaseRoute

from handlers.engine import Engine, Incoming, Reply
from handlers.registry import build_engine
from lingkaran.channels.base import Sender
from lingkaran.channels.budget import SendBudget
from lingkaran.channels.dispatcher import ChannelLimits, Dispatcher, LogSender, limits_from_settings
from lingkaran.channels.scheduler import build_scheduler
from lingkaran.console import build_console
from lingkaran.console.cli import ROSTER_MAX_BYTES
from lingkaran.observability import Health, Metrics
from lingkaran.observability import routes as observability_routes
from lingkaran.server import WebServer
from lingkaran.settings import Settings
from lingkaran_core.clock import Clock
from lingkaran_core.retention import run_retention
from lingkaran_core.storage import Database

logger = logging.getLogger(__name__)

__all__ = ["SERVER_COMMANDS", "Channel", "StartError", "run_chat", "run_server"]

STOP_GRACE = 0.3
RETRY_FIRST = 5.0  # seconds before a channel that failed at start-up is tried again
RETRY_MAX = 300.0
SERVER_COMMANDS = ("telegram", "whatsapp", "serve")


class StartError(Exception):
    """The bot cannot start; ``str()`` is one line for the operator, ``exit_code`` for the shell."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Channel(Protocol):
    """What the composition root needs of a channel."""

    @property
    def routes(self) -> Sequence[BaseRoute]: ...

    sender: Any

    async def start(self) -> None: ...

    async def stop(self, grace: float = ...) -> None: ...


def _configs(
    names: Sequence[str], settings: Settings, telegram_overrides: dict[str, Any]
) -> dict[str, Any]:
    """Each chosen channel's configuration, checked before anything is opened or started."""
    configs: dict[str, Any] = {}
    if "telegram" in names:
        from lingkaran.channels import telegram

        try:
            configs["telegram"] = telegram.TelegramConfig.from_settings(
                settings, **telegram_overrides
            )
        except telegram.ConfigError as exc:
            raise StartError(str(exc)) from None
    if "whatsapp" in names:
        from lingkaran.channels import whatsapp

        try:
            configs["whatsapp"] = whatsapp.WhatsAppConfig.from_settings(settings)
        except whatsapp.ConfigError as exc:
            raise StartError(str(exc)) from None
    return configs


def _build_channel(
    name: str,
    config: Any,
    db: Database,
    engine: Engine,
    clock: Clock,
    budget: SendBudget,
    closers: list[Callable[[], Awaitable[None]]],
) -> Channel:
    """A channel whose every budgeted call - replies and the outbox's - takes ``budget``."""
    if name == "telegram":
        from lingkaran.channels.telegram import TelegramChannel

        telegram_channel: Channel = TelegramChannel(
            db, config, engine=engine, clock=clock, budget=budget
        )
        return telegram_channel
    import httpx

    from lingkaran.channels.budget import BudgetedTransport
    from lingkaran.channels.whatsapp import WhatsAppChannel, WhatsAppSender

    # The sender's own client, but every message POST takes a permit first (replies from the
    # channel, rows from the dispatcher); media downloads are not budgeted.
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(15.0, connect=5.0),
        transport=BudgetedTransport(
            budget,
            lambda r: r.method == "POST" and r.url.path.endswith("/messages"),
        ),
    )
    closers.append(client.aclose)
    sender = WhatsAppSender(config, clock=clock, client=client)
    whatsapp_channel: Channel = WhatsAppChannel(
        db, config, engine=engine, clock=clock, sender=sender
    )
    return whatsapp_channel


def _budgets(names: Sequence[str], limits: dict[str, ChannelLimits]) -> dict[str, SendBudget]:
    """One budget per sending identity: this process runs one bot token and one number."""
    return {n: SendBudget(limits[n].rate, name=n) for n in names}


def _channel_names(command: str, settings: Settings) -> list[str]:
    """Which channels a command runs: one by name, or every configured one for ``serve``."""
    if command == "serve":
        names = []
        if settings.telegram_enabled:
            names.append("telegram")
        if settings.whatsapp_enabled:
            names.append("whatsapp")
        return names
    if command in ("telegram", "whatsapp"):
        return [command]
    raise ValueError(f"not a server command: {command!r}")


async def _describe_start_failure(name: str, exc: BaseException, settings: Settings) -> None:
    """Turn a channel's start-up failure into a ``StartError`` (one line, an exit code)."""
    if name == "telegram":
        from lingkaran.channels.telegram import InvalidToken, NetworkError

        if isinstance(exc, InvalidToken):
            raise StartError(
                "Telegram rejected TELEGRAM_BOT_TOKEN (getMe: Unauthorized). Copy the token "
                "again from @BotFather."
            ) from None
        if isinstance(exc, NetworkError):
            raise StartError(
                f"cannot reach the Telegram Bot API at {settings.telegram_api_base_url}: {exc}",
                exit_code=1,
            ) from None
    raise StartError(f"{name} could not start: {type(exc).__name__}: {exc}", exit_code=1) from exc


@dataclass
class _Running:
    started: list[tuple[str, Channel]] = field(default_factory=list)
    retries: list[asyncio.Task[None]] = field(default_factory=list)


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def _instrument(engine: Engine, metrics: Metrics, clock: Clock) -> None:
    """Time every step and count it (the engine stays unaware of Prometheus)."""
    handle = engine.handle

    async def timed(inc: Incoming) -> list[Reply]:
        began = time.perf_counter()
        try:
            return await handle(inc)
        except Exception:
            metrics.step_errors.labels(inc.channel).inc()
            raise
        finally:
            metrics.step_seconds.labels(inc.channel).observe(time.perf_counter() - began)
            metrics.inbound.labels(inc.channel).inc()
            metrics.last_reply.set(clock().timestamp())

    engine.handle = timed  # type: ignore[method-assign]


async def _keep_trying(
    name: str, channel: Channel, health: Health, running: _Running, first_error: str
) -> None:
    """Start a channel that failed at start-up, with a capped back-off, while the rest serve."""
    delay = RETRY_FIRST
    while True:
        await asyncio.sleep(delay)
        try:
            await channel.start()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            health.set(name, "down", _one_line(exc))
            logger.warning(
                "channel still cannot start; retrying",
                extra={"channel": name, "error": _one_line(exc), "retry_in": delay},
            )
            delay = min(delay * 2, RETRY_MAX)
            continue
        running.started.append((name, channel))
        health.set(name, "up")
        logger.warning(
            "channel started after retrying", extra={"channel": name, "was": first_error}
        )
        return


async def _stop_channel(name: str, channel: Channel) -> None:
    try:
        await asyncio.wait_for(channel.stop(grace=STOP_GRACE), timeout=STOP_GRACE + 0.2)
    except TimeoutError:
        logger.warning("channel did not stop in time", extra={"channel": name})


async def run_server(
    command: str,
    settings: Settings,
    *,
    clock: Clock,
    host: str | None = None,
    port: int | None = None,
    stop: asyncio.Event | None = None,
    telegram_overrides: dict[str, Any] | None = None,
    only: Collection[str] | None = None,
) -> int:
    """Run ``command`` until ``stop`` is set (or SIGINT/SIGTERM); the exit code.

    Raises ``StartError`` when a channel is misconfigured or refuses to start.
    """
    names = list(only) if only is not None else _channel_names(command, settings)
    configs = _configs(names, settings, telegram_overrides or {})
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    db = await Database.open(
        settings.db, files_dir=settings.documents_dir, pool_size=settings.db_pool
    )
    running = _Running()
    closers: list[Callable[[], Awaitable[None]]] = []
    installed: list[signal.Signals] = []
    try:
        engine = build_engine(db, clock=clock, track_replies=True)
        engine.outbound_channels = frozenset(names)
        engine.max_links_per_chat = settings.max_links_per_chat
        limits = limits_from_settings(settings)
        budgets = _budgets(names, limits)
        channels = [
            (n, _build_channel(n, configs[n], db, engine, clock, budgets[n], closers))
            for n in names
        ]
        metrics = Metrics()
        _instrument(engine, metrics, clock)
        senders: dict[str, Sender] = {"terminal": LogSender()}
        for name, ch in channels:
            senders[name] = ch.sender
        dispatcher = Dispatcher(
            db,
            senders,
            clock=clock,
            limits=limits,
            config=settings.outbox_config(),
            idle_interval=5.0,
            on_drain=metrics.record_drain,
            budgets=budgets,
        )
        health = Health(
            db=db,
            dispatcher_alive=dispatcher.alive,
            auth_paused=lambda: dict(dispatcher.auth_paused),
        )
        routes: list[BaseRoute] = list(observability_routes(health, metrics))
        # The OPD console, under /console, on the same server (the proxies keep it internal).
        routes.extend(build_console(db, settings, clock))
        for name, ch in channels:
            routes.extend(ch.routes)
            health.set(name, "starting")

        async def _after_message(inc: Incoming) -> None:
            # Rows the engine queued go out now; a WhatsApp user writing reopens the
            # 24 h window, so their held rows may be sent as free text.
            if inc.channel == "whatsapp":
                await dispatcher.on_inbound(inc.channel, inc.user_ref)
            dispatcher.poke()

        engine.after_message.append(_after_message)
        scheduler = build_scheduler(
            db,
            clock=clock,
            on_queued=dispatcher.poke,
            release_held=dispatcher.release_held,
            whatsapp_enabled="whatsapp" in names,
            on_sweep=metrics.sweep_seconds.observe,
            retention=lambda: run_retention(db, now=clock(), policy=settings.retention()),
        )
        health.scheduler_alive = lambda: bool(scheduler.running)
        for name, ch in channels:
            # A user unblocking the bot releases their held rows at once (WhatsApp users
            # writing are handled by the engine hook above).
            if name == "telegram":
                ch.on_inbound = dispatcher.on_inbound  # type: ignore[attr-defined]
        server = WebServer(
            routes,
            host=settings.host if host is None else host,
            port=settings.port if port is None else port,
            max_body_bytes=settings.max_body_bytes,
            # An 82k-row roster CSV is ~8 MB: the console's upload may be larger than a webhook.
            path_limits={"/console/roster": ROSTER_MAX_BYTES},
        )
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)
        try:
            await dispatcher.start()
            # The web server first, so webhook routes answer once a channel registers them.
            try:
                await server.start()
            except (OSError, SystemExit) as exc:
                raise StartError(f"cannot listen on {server.host}: {exc}", exit_code=1) from None
            for name, ch in channels:
                try:
                    await ch.start()
                except Exception as exc:
                    if command != "serve":
                        await _describe_start_failure(name, exc, settings)
                    # serve: report it, keep the other channels serving, retry in the background
                    health.set(name, "down", _one_line(exc))
                    logger.error(
                        "channel could not start; the others serve, retrying in the background",
                        extra={"channel": name, "error": _one_line(exc)},
                    )
                    running.retries.append(
                        asyncio.create_task(
                            _keep_trying(name, ch, health, running, _one_line(exc)),
                            name=f"start-{name}",
                        )
                    )
                    continue
                running.started.append((name, ch))
                health.set(name, "up")
            scheduler.start()
            logger.info(
                "channels enabled: %s",
                ", ".join(["terminal (log)", *(n for n, _ in channels)]),
                extra={"host": server.host, "port": server.port, "command": command},
            )
            stop_wait = asyncio.create_task(stop.wait())
            waits: set[asyncio.Future[Any]] = {stop_wait}
            if server.task is not None:
                waits.add(server.task)
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            stop_wait.cancel()
        finally:
            # Also after a failed start-up: nothing may be left running.
            logger.info("stopping")
            for task in running.retries:
                task.cancel()
            for task in running.retries:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if scheduler.running:
                scheduler.shutdown(wait=False)
            # All at once, each within its grace: the server stops accepting, the dispatcher
            # puts unsent rows back, channels finish the steps in progress (the rest of their
            # intake stays recorded for the next start).
            server_stop = asyncio.create_task(server.stop(wait=STOP_GRACE + 0.2))
            await asyncio.gather(
                dispatcher.stop(grace=STOP_GRACE),
                *(_stop_channel(name, ch) for name, ch in running.started),
            )
            for name, ch in channels:
                if (name, ch) not in running.started:
                    with contextlib.suppress(Exception):
                        await ch.stop(grace=0)
            await server_stop
            for close in closers:
                with contextlib.suppress(Exception):
                    await close()
        return 0
    finally:
        for sig in installed:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        await db.close()


async def run_chat(
    settings: Settings, *, clock: Clock, user: str, lang: str | None, phone: str | None = None
) -> int:
    """The terminal chat on the settings' database; the exit code."""
    from lingkaran.channels.terminal import run_chat as terminal_chat
    from lingkaran_core.storage import chats as chat_store

    if settings.db_file is not None:
        settings.db_file.parent.mkdir(parents=True, exist_ok=True)
    db = await Database.open(
        settings.db, files_dir=settings.documents_dir, pool_size=settings.db_pool
    )
    try:
        engine = build_engine(db, clock=clock)
        engine.max_links_per_chat = settings.max_links_per_chat
        if lang:
            async with db.tx() as tx:
                chat = await chat_store.get_or_create_chat(
                    tx, "terminal", user, now=clock(), language=lang
                )
                await chat_store.update_chat(tx, chat.id, language=lang)
        await terminal_chat(engine, user=user, phone=phone)
    finally:
        await db.close()
    return 0
