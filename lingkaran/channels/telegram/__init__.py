"""The Telegram channel (a package; ``lingkaran.channels.telegram`` is its public face).

Modules, along the path of an update::

    botapi.py    PTB's Application (no Updater) and ExtBot; BudgetRateLimiter, PTB's rate
                 limiter on the one SendBudget; PTB's errors mapped to ours
    intake.py    the durable intake: our getUpdates loop / the webhook record every update
                 before acknowledging it; per-user ordered processing; resume after a crash
    updates.py   telegram.Update (or, when PTB cannot parse it, the raw JSON) -> the few
                 facts we use
    channel.py   TelegramChannel: Update.de_json -> Application.process_update -> TypeHandler
                 -> the engine -> replies via ExtBot; edits, blocks, groups
    replies.py   TelegramReplies (mixed into TelegramChannel): sendMessage in order, retries,
                 open request keyboards, index choices; press answers, stale keyboards
    inbound.py   a message -> the engine's Incoming (files downloaded and checked)
    render.py    replies -> messages: split text, callback data, keyboards (pure)
    sender.py    TelegramSender, the outbox dispatcher's sender
    config.py    TelegramConfig and keeping secrets out of log lines

``run_telegram`` runs the channel alone until an event is set (tests; the composition root
uses the channel contract instead).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from handlers.engine import Engine
from lingkaran.server import WebServer
from lingkaran_core.storage import Database

from .botapi import (
    BadRequest,
    BotAPI,
    BotAPIError,
    BudgetRateLimiter,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from .channel import COMMAND_WORDS, COMMANDS, TelegramChannel, command_text
from .config import (
    ALLOWED_UPDATES,
    CHANNEL,
    DEFAULT_API_ROOT,
    DEFAULT_WEBHOOK_PATH,
    ConfigError,
    TelegramConfig,
    redact_in_logs,
)
from .intake import Intake, Poller
from .render import (
    CHECK,
    MAX_TEXT,
    Outgoing,
    Press,
    build_keyboard,
    decode_callback,
    encode_callback,
    render_reply,
    split_text,
    utf16_len,
)
from .sender import TelegramSender
from .updates import TgUpdate, Unreadable, parse_update

logger = logging.getLogger(__name__)


async def run_telegram(
    engine: Engine,
    db: Database,
    *,
    config: TelegramConfig,
    stop_event: asyncio.Event,
    host: str = "127.0.0.1",
    port: int = 8080,
    clock: Callable[[], datetime],
    ready: asyncio.Event | None = None,
) -> None:
    """Run Telegram until ``stop_event`` is set: long polling, or a webhook on its own server."""
    channel = TelegramChannel(db, config, engine=engine, clock=clock)
    server: WebServer | None = None
    try:
        if channel.routes:
            # The route first: updates Telegram sends right after setWebhook are recorded.
            server = WebServer(channel.routes, host=host, port=port)
            await server.start()
        await channel.start()
        if ready is not None:
            ready.set()
        await stop_event.wait()
    finally:
        if server is not None:
            await server.stop()
        await channel.stop()
        logger.info("telegram stopped")


__all__ = [
    "ALLOWED_UPDATES",
    "CHANNEL",
    "CHECK",
    "COMMANDS",
    "COMMAND_WORDS",
    "DEFAULT_API_ROOT",
    "DEFAULT_WEBHOOK_PATH",
    "MAX_TEXT",
    "BadRequest",
    "BotAPI",
    "BotAPIError",
    "BudgetRateLimiter",
    "ConfigError",
    "Conflict",
    "Forbidden",
    "Intake",
    "InvalidToken",
    "NetworkError",
    "Outgoing",
    "Poller",
    "Press",
    "RetryAfter",
    "TelegramChannel",
    "TelegramConfig",
    "TelegramSender",
    "TgUpdate",
    "TimedOut",
    "Unreadable",
    "build_keyboard",
    "command_text",
    "decode_callback",
    "encode_callback",
    "parse_update",
    "redact_in_logs",
    "render_reply",
    "run_telegram",
    "split_text",
    "utf16_len",
]
