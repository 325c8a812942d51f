"""``python bot.py serve [--db PATH] [--host H] [--port P]``: every channel in one process.

One event loop carries: the outbox dispatcher and the reminder scheduler (always), the
WhatsApp webhook and sender when its settings are present, Telegram when
``TELEGRAM_BOT_TOKEN`` is set, and one uvicorn server for every webhook route (plus
``GET /healthz``). Channel modules are imported only when configured.

Channel integration contract (what this module expects of a channel object): ``routes``
(Starlette routes, may be empty), ``sender`` (a ``channels.base.Sender``), ``async start()``
and ``async stop(grace)``, built as ``XChannel(db, XConfig.from_env(env), engine=, clock=)``.
``channels.whatsapp.WhatsAppChannel`` and ``channels.telegram.TelegramChannel`` provide it
(Telegram: long polling, or its webhook route on the shared server in webhook mode).

SIGINT/SIGTERM stop everything in well under a second: the web server stops accepting, the
scheduler stops, the dispatcher puts unsent rows back in the queue, channels get a short grace.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from channels.base import Sender
from channels.dispatcher import Dispatcher, LogSender, limits_from_env, outbox_config_from_env
from channels.scheduler import build_scheduler, whatsapp_configured
from lingkaran_core.storage import Database

logger = logging.getLogger(__name__)

STOP_GRACE = 0.3


class Channel(Protocol):
    """What ``serve`` needs of a channel."""

    @property
    def routes(self) -> Sequence[BaseRoute]: ...

    sender: Any

    async def start(self) -> None: ...

    async def stop(self, grace: float = ...) -> None: ...


def utc_now() -> datetime:
    """The real clock (UTC, tz-aware)."""
    return datetime.now(UTC)


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bot.py serve", description="every channel in one process")
    p.add_argument("--db", default=os.environ.get("LINGKARAN_DB", "data/lingkaran.db"))
    p.add_argument("--host", default=os.environ.get("LINGKARAN_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("LINGKARAN_PORT", "8080")))
    return p.parse_args(list(argv))


async def _healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _telegram(db: Database, env: Mapping[str, str], engine: Any) -> Channel | None:
    if not env.get("TELEGRAM_BOT_TOKEN"):
        return None
    if importlib.util.find_spec("channels.telegram") is None:
        logger.warning("TELEGRAM_BOT_TOKEN is set but channels.telegram is missing; skipped")
        return None
    from channels.telegram import TelegramChannel, TelegramConfig

    channel: Channel = TelegramChannel(
        db, TelegramConfig.from_env(env), engine=engine, clock=utc_now
    )
    return channel


def _whatsapp(db: Database, env: Mapping[str, str], engine: Any) -> Channel | None:
    if not whatsapp_configured(env):
        return None
    from channels.whatsapp import WhatsAppChannel, WhatsAppConfig

    channel: Channel = WhatsAppChannel(
        db, WhatsAppConfig.from_env(env), engine=engine, clock=utc_now
    )
    return channel


async def serve(
    args: argparse.Namespace,
    *,
    env: Mapping[str, str] | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run until ``stop`` is set (or SIGINT/SIGTERM); the exit code."""
    e = os.environ if env is None else env
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    db = await Database.open(args.db)
    channels: list[tuple[str, Channel]] = []
    try:
        engine: Any = None
        if e.get("TELEGRAM_BOT_TOKEN") or whatsapp_configured(e):
            from handlers.registry import build_engine

            engine = build_engine(db, clock=utc_now, track_replies=True)
        for name, factory in (("telegram", _telegram), ("whatsapp", _whatsapp)):
            ch = factory(db, e, engine)
            if ch is not None:
                channels.append((name, ch))
        senders: dict[str, Sender] = {"terminal": LogSender()}
        routes: list[BaseRoute] = [Route("/healthz", _healthz)]
        for name, ch in channels:
            senders[name] = ch.sender
            routes.extend(ch.routes)
        dispatcher = Dispatcher(
            db,
            senders,
            clock=utc_now,
            limits=limits_from_env(e),
            config=outbox_config_from_env(e),
            idle_interval=5.0,
        )
        if engine is not None:

            async def _after_message(inc: Any) -> None:
                # Rows the engine queued go out now; a WhatsApp user writing reopens the
                # 24 h window, so their held rows may be sent as free text.
                if inc.channel == "whatsapp":
                    await dispatcher.on_inbound(inc.channel, inc.user_ref)
                dispatcher.poke()

            engine.after_message.append(_after_message)
        scheduler = build_scheduler(
            db,
            clock=utc_now,
            on_queued=dispatcher.poke,
            release_held=dispatcher.release_held,
            whatsapp_enabled=any(n == "whatsapp" for n, _ in channels),
        )
        server = uvicorn.Server(
            uvicorn.Config(
                Starlette(routes=routes),
                host=args.host,
                port=args.port,
                log_config=None,
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
        )
        # We own the signals (one handler stops every part), not uvicorn.
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)

        started: list[tuple[str, Channel]] = []
        server_task: asyncio.Task[None] | None = None
        try:
            await dispatcher.start()
            # The web server first, so webhook routes answer once a channel registers them.
            server_task = asyncio.create_task(server.serve(), name="uvicorn")
            for _ in range(1000):  # up to 10 s for the socket to be bound
                if server.started or server_task.done():
                    break
                await asyncio.sleep(0.01)
            if server_task.done():
                server_task.result()  # the port was taken: surface the error
            for name, ch in channels:
                await ch.start()
                started.append((name, ch))
            scheduler.start()
            port = server.servers[0].sockets[0].getsockname()[1] if server.servers else args.port
            logger.info(
                "channels enabled: %s",
                ", ".join(["terminal (log)", *(n for n, _ in channels)]),
                extra={"host": args.host, "port": port},
            )
            stop_wait = asyncio.create_task(stop.wait())
            await asyncio.wait({stop_wait, server_task}, return_when=asyncio.FIRST_COMPLETED)
            stop_wait.cancel()
        finally:
            # Also after a failed start-up: nothing may be left running.
            logger.info("stopping")
            server.should_exit = True
            if scheduler.running:
                scheduler.shutdown(wait=False)
            await dispatcher.stop(grace=STOP_GRACE)
            for name, ch in started:
                try:
                    await asyncio.wait_for(ch.stop(grace=STOP_GRACE), timeout=STOP_GRACE + 0.2)
                except TimeoutError:
                    logger.warning("channel did not stop in time", extra={"channel": name})
            if server_task is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(server_task, timeout=1.0)
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        await db.close()


def main(argv: Sequence[str]) -> int:
    """``python bot.py serve``; the exit code."""
    args = _parse_args(argv)
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # a channel refused to start (bad token, network): one line
        logger.error("serve could not start: %s: %s", type(exc).__name__, exc)
        return 1
