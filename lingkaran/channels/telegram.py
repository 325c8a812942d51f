"""The Telegram channel: python-telegram-bot 22 updates <-> the channel-neutral dialog engine.

The composition root (``lingkaran.app``: ``lingkaran telegram`` or ``lingkaran serve``) builds it
with the process's one engine and clock, through the channel contract ``routes`` / ``sender`` /
``start()`` / ``stop(grace)``::

    config = TelegramConfig.from_settings(settings)   # ConfigError: no token, webhook w/o secret
    channel = TelegramChannel(db, config, engine=engine, clock=clock)
    server_routes.extend(channel.routes)          # the webhook route when TELEGRAM_WEBHOOK_URL
    await channel.start()                         # getMe (InvalidToken when rejected), commands,
                                                  # then setWebhook, or long polling in the loop
    dispatcher_senders["telegram"] = channel.sender   # channels.base.Sender for the outbox
    ...
    await channel.stop()                          # < 1 s, also while a long poll is open

``channel.webhook_route(path, secret_token=...)`` builds the starlette ``Route`` by hand (it checks
``X-Telegram-Bot-Api-Secret-Token`` with ``hmac.compare_digest`` and answers 403 before reading
anything else). ``run_telegram(engine, db, config=..., stop_event=...)`` does all of the above
until ``stop_event`` is set, serving the webhook on a ``lingkaran.server.WebServer`` (tests).

Design notes:

- **Ordering.** ``concurrent_updates(True)`` lets different users run at once. That is safe only
  because the engine serialises messages per user, and because this adapter also holds a FIFO lock
  per chat from the moment an update arrives until its replies are sent (so a slow photo download
  or a slow send never lets a later message of the same user overtake an earlier one). PTB starts
  the update tasks in arrival order, and the lock is taken before the first suspension point.
- **Buttons.** ``callback_data`` is ``"{step_token}|{choice_id}"`` when that fits in Telegram's
  64 bytes. Otherwise it is ``"{step_token}#{index}"``: the index into the choices of the rendered
  reply. The adapter remembers the choice ids of every message it sent with an index keyboard
  (bounded, in memory); after a restart it falls back to the pressed button's *label*, read from
  the keyboard that comes back with the press, and gives it to the engine as typed text (the
  engine matches labels too). The step token travels either way, so a stale keyboard or a double
  press never submits twice: the engine answers ``stale_press`` and we show it as a toast.
- **Text.** Sent as plain text (no ``parse_mode``), so names with ``_*[<>&`` arrive verbatim; long
  texts are split on line boundaries at 4,096 UTF-16 units (``split_text``).
- **Rate limits.** ``AIORateLimiter`` (30 msg/s overall, 20/min per group) with ``max_retries=3``
  honours 429 ``retry_after``; a per-private-chat token bucket (a burst, then 1 msg/s) sits on top
  because PTB has none (TECH.md §9). Timeouts and network errors are retried twice for
  conversation replies (a read timeout can rarely duplicate a message; losing it is worse).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import uuid
import warnings
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from aiolimiter import AsyncLimiter
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import (
    BotCommand,
    CallbackQuery,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from handlers.engine import Engine, Incoming, Media, Reply, reply_from_dict
from handlers.i18n import N_, translator
from lingkaran.channels import uploads
from lingkaran.channels.base import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    ChannelAuthFailed,
    HoldMessage,
    OutboundMessage,
    RetryLater,
    SendResult,
    Undeliverable,
    coalesce,
    read_body,
)
from lingkaran.server import WebServer
from lingkaran.settings import Settings
from lingkaran_core.logs import mask_text
from lingkaran_core.storage import Database, channel_repo
from lingkaran_core.storage import chats as chat_store

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
DEFAULT_API_ROOT = "https://api.telegram.org"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
MAX_TEXT = 4096  # Bot API sendMessage text limit
MAX_CALLBACK_BYTES = 64  # Bot API callback_data limit, in bytes
MAX_TOAST = 200  # Bot API answerCallbackQuery text limit
MAX_FILE_BYTES = uploads.MAX_BYTES  # our own limit for claim documents
MAX_WEBHOOK_BODY = MAX_BODY_BYTES
SHORT_LABEL = 20  # labels up to this length go two to a row
REPLAY_WITHIN = timedelta(days=1)
ALLOWED_MIME = uploads.ALLOWED_DOCUMENTS
ALLOWED_UPDATES = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
)
# The key of the placeholder that stands in for an update PTB cannot parse (see ``parse_update``).
UNPARSED = "lingkaran_unparsed"
EDIT_PREFIX = "edit:"
CHECK = "✓"

# Shown through the engine (Incoming.rejected_media is a msgid it translates and follows with
# the step's question again), so the user gets a clear reason and the same question.
FILE_TOO_BIG = uploads.MSG_TOO_BIG
FILE_WRONG_TYPE = uploads.MSG_WRONG_TYPE
FILE_NOT_DOWNLOADED = N_("Berkas itu gagal kami terima. Mohon kirim sekali lagi.")
CONTACT_NOT_OWN = N_(
    'Itu nomor orang lain. Mohon tekan tombol "Kirim nomor HP saya", atau ketik nomor HP '
    "yang bisa dihubungi."
)
CONTACT_BUTTON = N_("Kirim nomor HP saya")
CONTACT_HINT = N_('Atau tekan tombol "Kirim nomor HP saya" di bawah.')
LOCATION_BUTTON = N_("Kirim lokasi saya")
LOCATION_HINT = N_('Atau tekan tombol "Kirim lokasi saya" di bawah.')
EDIT_OFFER = N_(
    "Bapak/Ibu mengubah pesan menjadi:\n\n{text}\n\nPakai teks yang sudah diubah ini sebagai "
    "jawaban?"
)
EDIT_USE = N_("Pakai teks ini")
EDIT_GONE = N_("Tawaran itu sudah tidak berlaku. Silakan ketik ulang jawabannya.")
GROUP_NOTE = N_(
    "Maaf, layanan Lingkaran Cinta hanya melayani obrolan pribadi. Silakan kirim pesan langsung "
    "ke bot ini."
)
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Mulai dan tampilkan menu utama")),
    ("menu", N_("Menu utama")),
    ("kembali", N_("Ubah jawaban sebelumnya")),
    ("batal", N_("Batalkan isian ini")),
    ("bantuan", N_("Bantuan")),
    ("bahasa", N_("Ganti bahasa")),
)
# Slash commands -> the engine's global command words (English aliases for convenience).
COMMAND_WORDS = {
    "menu": "menu",
    "kembali": "kembali",
    "back": "kembali",
    "batal": "batal",
    "cancel": "batal",
    "bantuan": "bantuan",
    "help": "bantuan",
    "bahasa": "bahasa",
    "language": "bahasa",
}
UNSUPPORTED_KINDS = (
    "sticker",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "poll",
    "dice",
    "venue",
    "game",
    "story",
    "invoice",
    "paid_media",
)


# ---------------------------------------------------------------------------------------------
# Pure rendering helpers (unit-tested)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` UTF-16 units, on line boundaries.

    A single line longer than the limit is cut at the last space, or hard when it has none.
    Empty or blank text gives no chunks.
    """
    if not text.strip():
        return []
    if utf16_len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _split_line(line, limit):
            candidate = piece if not current else f"{current}\n{piece}"
            if utf16_len(candidate) <= limit:
                current = candidate
                continue
            if current.strip():
                chunks.append(current)
            current = piece
    if current.strip():
        chunks.append(current)
    return chunks


def _split_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while utf16_len(line) > limit:
        cut = _fit(line, limit)
        space = line.rfind(" ", 0, cut)
        if space > 0:
            cut = space
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    pieces.append(line)
    return pieces


def _fit(text: str, limit: int) -> int:
    """The largest prefix length (in characters) of ``text`` within ``limit`` UTF-16 units."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def encode_callback(step_token: str | None, choice_id: str, index: int) -> str:
    """``token|choice_id`` when it fits in 64 bytes, else ``token#index``."""
    token = step_token or ""
    data = f"{token}|{choice_id}"
    if len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES:
        return data
    return f"{token}#{index}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Press:
    """A decoded button press: the step token and either a choice id or an index."""

    step_token: str | None
    choice_id: str | None = None
    index: int | None = None


def decode_callback(data: str) -> Press | None:
    """The inverse of ``encode_callback``; None for data we never produced."""
    bar, hash_ = data.find("|"), data.find("#")
    seps = [p for p in (bar, hash_) if p >= 0]
    if not seps:
        return None
    at = min(seps)
    token = data[:at] or None
    if token is not None and not token.isdigit():
        return None
    rest = data[at + 1 :]
    if data[at] == "|":
        return Press(step_token=token, choice_id=rest) if rest else None
    if not rest.isdigit():
        return None
    return Press(step_token=token, index=int(rest))


def build_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Inline buttons for the reply's choices: long labels alone on a row, short ones in pairs."""
    if not reply.choices:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    pending: InlineKeyboardButton | None = None
    for i, choice in enumerate(reply.choices):
        button = InlineKeyboardButton(
            choice.label, callback_data=encode_callback(reply.step_token, choice.id, i)
        )
        if len(choice.label) > SHORT_LABEL:
            if pending is not None:
                rows.append([pending])
                pending = None
            rows.append([button])
        elif pending is None:
            pending = button
        else:
            rows.append([pending, button])
            pending = None
    if pending is not None:
        rows.append([pending])
    return InlineKeyboardMarkup(rows)


Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """One Telegram message to send for a reply."""

    text: str
    markup: Markup | None = None
    choice_ids: tuple[str, ...] = ()


def render_reply(reply: Reply, *, lang: str = "id") -> list[Outgoing]:
    """A reply as Telegram messages: split text, the keyboard under the last part.

    A message carries either an inline keyboard or a reply keyboard, never both: when a reply
    offers choices *and* asks for a contact or location, the request button comes in a second
    short message.
    """
    t = translator(lang)
    chunks = split_text(reply.text) or ["…"]
    inline = build_keyboard(reply)
    request_kb: ReplyKeyboardMarkup | None = None
    hint = ""
    if reply.request == "contact":
        button = KeyboardButton(t(CONTACT_BUTTON), request_contact=True)
        request_kb = ReplyKeyboardMarkup([[button]], one_time_keyboard=True, resize_keyboard=True)
        hint = t(CONTACT_HINT)
    elif reply.request == "location":
        button = KeyboardButton(t(LOCATION_BUTTON), request_location=True)
        request_kb = ReplyKeyboardMarkup([[button]], one_time_keyboard=True, resize_keyboard=True)
        hint = t(LOCATION_HINT)
    out = [Outgoing(text=c) for c in chunks[:-1]]
    ids = tuple(c.id for c in reply.choices)
    if inline is not None:
        out.append(Outgoing(text=chunks[-1], markup=inline, choice_ids=ids))
        if request_kb is not None:
            out.append(Outgoing(text=hint, markup=request_kb))
    else:
        out.append(Outgoing(text=chunks[-1], markup=request_kb))
    return out


def retry_after_seconds(exc: RetryAfter) -> float:
    """``RetryAfter.retry_after`` as seconds (it is an int or a timedelta, and warns when read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: int | float | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# ---------------------------------------------------------------------------------------------
# Rate limiting


class ChatRateLimiter(AIORateLimiter):
    """PTB's limiter plus a token bucket per private chat (a burst, then ``rate`` msg/s)."""

    def __init__(
        self, *, per_chat_burst: int = 6, per_chat_rate: float = 1.0, max_retries: int = 3
    ) -> None:
        super().__init__(max_retries=max_retries)
        self._burst = per_chat_burst
        self._period = per_chat_burst / per_chat_rate
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()

    def _limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = self._chats[chat_id] = AsyncLimiter(self._burst, self._period)
            if len(self._chats) > 10_000:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Any],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Wait for the chat's bucket on sends to a private chat, then PTB's limits."""
        chat_id = data.get("chat_id")
        if isinstance(chat_id, int) and chat_id > 0 and endpoint.startswith("send"):
            await self._limiter(chat_id).acquire()
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


# ---------------------------------------------------------------------------------------------
# Defensive intake: an update PTB cannot parse must never stall polling
#
# PTB parses a whole ``getUpdates`` answer at once (``Bot.get_updates`` -> ``Update.de_list``);
# one update it cannot parse (a document with ``"thumbnail": {}``, a poll from a Bot API server
# older than the library) raises, the Updater logs "Received data was *not* processed!" and asks
# for the same offset again, forever. The getUpdates request (a ``BaseRequest``, PTB's public
# extension point) therefore parses each update on its own first and swaps any it cannot parse
# for a placeholder ``{"update_id": N, "lingkaran_unparsed": {...}}``: PTB parses that (the
# extra key lands in ``api_kwargs``), the Updater confirms the id with the next offset, and the
# ``_UnparsedHandler`` records it for staff and answers nothing. The webhook route uses the same
# ``parse_update``.


def _kind_of(data: dict[str, Any]) -> str:
    kinds = [k for k in data if k != "update_id"]
    return kinds[0] if kinds else "empty"


def placeholder_for(data: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """The stand-in for an update PTB cannot parse: its id, type, error and masked payload."""
    return {
        "update_id": data["update_id"],
        UNPARSED: {
            "kind": _kind_of(data),
            "error": f"{type(exc).__name__}: {exc}"[:300],
            "payload": mask_text(json.dumps(data, ensure_ascii=False, separators=(",", ":"))),
        },
    }


def parse_update(data: Any, bot: Any) -> Update | None:
    """``Update.de_json``, or a placeholder when PTB cannot parse it; None without an id."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    try:
        return Update.de_json(data, bot)
    except Exception as exc:  # PTB raises TypeError/KeyError/ValueError... on odd shapes
        return Update.de_json(placeholder_for(data, exc), bot)


def sanitize_updates(payload: bytes) -> bytes:
    """A getUpdates answer with every update PTB cannot parse replaced by its placeholder."""
    try:
        data = json.loads(payload)
    except ValueError:
        return payload
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, list):
        return payload
    changed = False
    for i, item in enumerate(result):
        if not isinstance(item, dict) or not isinstance(item.get("update_id"), int):
            continue
        try:
            Update.de_json(item, None)
        except Exception as exc:
            result[i] = placeholder_for(item, exc)
            changed = True
    return json.dumps(data).encode() if changed else payload


class TolerantUpdatesRequest(HTTPXRequest):
    """The getUpdates request: hands PTB only updates it can parse (``sanitize_updates``)."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """``HTTPXRequest.do_request``, then the answer sanitised when it is getUpdates'."""
        code, payload = await super().do_request(
            url,
            method,
            request_data=request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if code == 200 and url.endswith("/getUpdates"):
            payload = sanitize_updates(payload)
        return code, payload


class _UnparsedHandler(BaseHandler[Update, Any, None]):
    """Matches only the placeholders of ``parse_update``/``sanitize_updates``."""

    def check_update(self, update: object) -> bool:
        return isinstance(update, Update) and UNPARSED in update.api_kwargs


# ---------------------------------------------------------------------------------------------
# No secret in a log line: PTB logs the bot URL (with the token) and, at DEBUG, every request's
# parameters (``setWebhook``'s secret_token among them).


class _Redact(logging.Filter):
    """Replaces the given secrets in a record's message by ``<redacted>``."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = [x for x in secrets if x]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(x in message for x in self.secrets):
            for x in self.secrets:
                message = message.replace(x, "<redacted>")
            record.msg, record.args = message, None
        return True


def redact_in_logs(*secrets: str | None) -> None:
    """Install ``_Redact`` on PTB's and httpx's loggers (they exist once PTB is imported)."""
    redact = _Redact([x for x in secrets if x])
    names = [
        name
        for name in list(logging.root.manager.loggerDict)
        if name.split(".")[0] in ("telegram", "httpx", "httpcore")
    ]
    for name in names:
        target = logging.getLogger(name)
        target.filters = [f for f in target.filters if not isinstance(f, _Redact)]
        target.addFilter(redact)


# ---------------------------------------------------------------------------------------------
# The channel


class ConfigError(ValueError):
    """The Telegram settings are missing or inconsistent (a one-line message for the operator)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TelegramConfig:
    """Settings from the environment (ARCHITECTURE.md "Configuration")."""

    token: str
    api_root: str = DEFAULT_API_ROOT
    webhook_url: str | None = None
    secret_token: str | None = None
    poll_timeout: float = 10.0
    drop_pending_updates: bool = False
    rate_limit: bool = True
    per_chat_burst: int = 6
    per_chat_rate: float = 1.0
    network_retries: int = 2
    max_body_bytes: int = MAX_WEBHOOK_BODY

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TelegramConfig:
        """The Telegram part of the settings; ``overrides`` (command-line flags) win if set."""
        token = settings.telegram_bot_token
        secret = settings.telegram_webhook_secret
        values: dict[str, Any] = {
            "token": token.get_secret_value().strip() if token else "",
            "api_root": settings.telegram_api_base_url.rstrip("/"),
            "webhook_url": settings.telegram_webhook_url,
            "secret_token": secret.get_secret_value() if secret else None,
            "max_body_bytes": settings.max_body_bytes,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not values["token"]:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather and export its "
                "token (see docs/telegram.md)."
            )
        if values["webhook_url"] and not values["secret_token"]:
            raise ConfigError(
                "webhook mode needs a secret: set TELEGRAM_WEBHOOK_SECRET or --secret-token."
            )
        return cls(**values)

    @property
    def webhook_path(self) -> str:
        """The path part of the webhook URL (where the route listens)."""
        return (urlsplit(self.webhook_url).path if self.webhook_url else "") or (
            DEFAULT_WEBHOOK_PATH
        )


class TelegramChannel:
    """A PTB ``Application`` wired to the engine; start/stop it inside any running event loop.

    The channel contract of ``lingkaran.channels.serve``: ``routes``, ``sender``, ``start()``, ``stop()``.
    """

    def __init__(
        self,
        db: Database,
        config: TelegramConfig,
        *,
        engine: Engine,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.config = config
        self.engine = engine
        self.clock = clock
        # Before the Bot exists: it logs its URL, token included, when it is built.
        redact_in_logs(config.token, config.secret_token)
        self._requests = (
            HTTPXRequest(
                connection_pool_size=64,
                connect_timeout=5.0,
                read_timeout=15.0,
                write_timeout=15.0,
                pool_timeout=5.0,
                media_write_timeout=30.0,
            ),
            # getUpdates adds its long-poll timeout to this read timeout.
            TolerantUpdatesRequest(connection_pool_size=1, connect_timeout=5.0, read_timeout=5.0),
        )
        builder = (
            Application.builder()
            .token(config.token)
            .base_url(f"{config.api_root}/bot")
            .base_file_url(f"{config.api_root}/file/bot")
            .request(self._requests[0])
            .get_updates_request(self._requests[1])
            # Safe only with per-user ordering: see the module docstring.
            .concurrent_updates(True)
        )
        if config.rate_limit:
            limiter: Any = ChatRateLimiter(
                per_chat_burst=config.per_chat_burst, per_chat_rate=config.per_chat_rate
            )
            builder = builder.rate_limiter(limiter)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.sender = TelegramSender(self)
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._chat_waiters: dict[int, int] = {}
        self._index_choices: OrderedDict[tuple[int, int], tuple[str, ...]] = OrderedDict()
        self._request_keyboard_open: set[int] = set()
        # Corrected texts offered back to the user (``edited_message``), by offer key.
        self._edits: OrderedDict[str, tuple[int, str, str]] = OrderedDict()
        # Set by the composition root to the dispatcher's ``on_inbound``: a user who unblocks the
        # bot gets the messages held meanwhile at once (else at the dispatcher's next pass).
        self.on_inbound: Callable[[str, str], Any] | None = None
        self._add_handlers()

    @property
    def bot(self) -> Any:
        """The PTB ``Bot`` (with the rate limiter when enabled)."""
        return self.application.bot

    @property
    def routes(self) -> list[Route]:
        """The webhook route for a shared server (none in polling mode)."""
        if not self.config.webhook_url or not self.config.secret_token:
            return []
        return [self.webhook_route(self.config.webhook_path, secret_token=self.config.secret_token)]

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """getMe, set the command menu, start processing; poll, or register the webhook."""
        # The token is part of every request URL: keep httpx's per-request lines out of the logs.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        config = self.config
        try:
            await self.application.initialize()
        except BaseException as exc:
            # Close the HTTP pools *and* clear PTB's "initialized" flags, so a later start()
            # (the composition root retries a channel that could not start) builds them anew.
            with contextlib.suppress(Exception):
                await self.application.bot.shutdown()
            if isinstance(exc, InvalidToken):
                # PTB's message quotes the token: never let it reach a log line or a terminal.
                raise InvalidToken("the bot token was rejected by the server") from None
            raise
        await self.set_commands()
        await self.application.start()
        await self.replay_unsent()
        if config.webhook_url:
            await self.bot.set_webhook(
                url=config.webhook_url,
                secret_token=config.secret_token,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=config.drop_pending_updates,
            )
            logger.info("telegram webhook set", extra={"mode": "webhook"})
        else:
            updater = self.application.updater
            assert updater is not None
            await updater.start_polling(
                timeout=timedelta(seconds=config.poll_timeout),
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=config.drop_pending_updates,
                error_callback=self._polling_error,
            )
            logger.info("telegram polling started", extra={"mode": "polling"})

    async def stop(self, grace: float = 10.0) -> None:
        """Stop polling, finish the updates in hand, close the HTTP clients.

        ``grace`` is accepted for the ``serve`` contract; PTB waits for the updates in hand.
        """
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def replay_unsent(self) -> int:
        """Send replies a crash left unsent (committed, never delivered); how many chats.

        Long polling confirms updates before they are processed, so Telegram never redelivers
        them: the engine's saved replies are the only copy. Older than a day: dropped, stale.
        """
        async with self.db.read() as r:
            rows = await channel_repo.unsent_replies(
                r, CHANNEL, updated_since=self.clock() - REPLAY_WITHIN
            )
        replayed = 0
        for row in rows:
            replies = [reply_from_dict(d) for d in row.replies]
            inc = Incoming(channel=CHANNEL, user_ref=row.user_ref, message_id=row.message_id)
            try:
                async with self._chat_lock(int(row.user_ref)):
                    await self.send_replies(int(row.user_ref), replies, lang=row.language)
            except (TelegramError, ValueError) as exc:
                logger.warning("telegram replay failed", extra={"error": type(exc).__name__})
                continue
            await self.engine.replies_sent(inc)
            replayed += 1
        if replayed:
            logger.info("telegram replies replayed", extra={"chats": replayed})
        return replayed

    async def set_commands(self) -> None:
        """The ``/`` command menu in Indonesian (default) and English."""
        for lang in ("id", "en"):
            t = translator(lang)
            commands = [BotCommand(name, t(desc)) for name, desc in COMMANDS]
            try:
                await self.bot.set_my_commands(
                    commands, language_code=None if lang == "id" else lang
                )
            except TelegramError as exc:
                logger.warning("set_my_commands failed", extra={"error": type(exc).__name__})

    def _polling_error(self, exc: TelegramError) -> None:
        logger.warning("telegram polling error", extra={"error": type(exc).__name__})

    # -- webhook -------------------------------------------------------------------------

    def webhook_route(self, path: str = DEFAULT_WEBHOOK_PATH, *, secret_token: str) -> Route:
        """A starlette route that checks the secret header and queues the update."""
        if not secret_token:
            raise ValueError("a webhook needs a secret token")
        expected = secret_token.encode()

        async def endpoint(request: Request) -> Response:
            got = request.headers.get("x-telegram-bot-api-secret-token", "").encode()
            if not hmac.compare_digest(got, expected):
                logger.warning("telegram webhook: wrong secret token")
                return Response(status_code=403)
            try:
                body = await read_body(request, self.config.max_body_bytes)
            except (BodyTooLarge, ClientDisconnect):  # the server cut it off (or the client left)
                logger.warning("telegram webhook: body too large")
                return Response(status_code=413)
            try:
                data = json.loads(body)
            except ValueError:
                logger.warning("telegram webhook: not JSON")
                return Response(status_code=400)
            update = parse_update(data, self.bot)
            if update is None:
                logger.warning("telegram webhook: not an update")
                return Response(status_code=400)
            # An update PTB cannot parse is a placeholder here: 200, so Telegram moves on.
            await self.application.update_queue.put(update)
            return Response(status_code=200)

        return Route(path, endpoint, methods=["POST"])

    # -- handlers ------------------------------------------------------------------------

    def _add_handlers(self) -> None:
        private = filters.ChatType.PRIVATE
        app = self.application
        app.add_handler(_UnparsedHandler(self._on_unparsed), group=-1)
        app.add_handler(
            ChatMemberHandler(self._on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER), group=-1
        )
        app.add_handler(
            MessageHandler(filters.UpdateType.EDITED_MESSAGE, self._on_edited),
            group=-1,
        )
        app.add_handler(CommandHandler("start", self._on_start, filters=private))
        app.add_handler(CommandHandler(list(COMMAND_WORDS), self._on_command, filters=private))
        app.add_handler(
            MessageHandler(
                private & filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, self._on_message
            )
        )
        app.add_handler(CallbackQueryHandler(self._on_callback))
        app.add_handler(
            MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, self._on_group_command)
        )
        app.add_error_handler(self._on_error)

    async def _on_unparsed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An update PTB could not parse: record it for staff, answer nothing, move on."""
        info = update.api_kwargs.get(UNPARSED)
        info = info if isinstance(info, dict) else {}
        kind = str(info.get("kind") or "unknown")
        error = str(info.get("error") or "")
        logger.warning(
            "telegram update not parsed",
            extra={"update_id": update.update_id, "kind": kind, "error": error[:120]},
        )
        payload = info.get("payload")
        try:
            async with self.db.tx() as tx:
                await channel_repo.record_unparsed_update(
                    tx,
                    CHANNEL,
                    str(update.update_id),
                    kind=kind,
                    error=error,
                    payload=payload if isinstance(payload, str) else None,
                    now=self.clock(),
                )
        except Exception:
            logger.exception("telegram unparsed update not recorded")
        raise ApplicationHandlerStop

    async def _on_my_chat_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The user blocked (``kicked``) or unblocked (``member``) the bot in a private chat."""
        change = update.my_chat_member
        if change is None or change.chat.type != ChatType.PRIVATE:
            raise ApplicationHandlerStop
        status = change.new_chat_member.status
        user_ref = str(change.chat.id)
        if status in (ChatMember.BANNED, ChatMember.LEFT):
            await self.set_blocked(user_ref, blocked=True)
        elif status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER):
            await self.set_blocked(user_ref, blocked=False)
        raise ApplicationHandlerStop

    async def set_blocked(self, user_ref: str, *, blocked: bool) -> bool:
        """Mark the chat blocked (its outbox rows wait as held) or unblocked (they go again)."""
        async with self.db.tx() as tx:
            changed = await channel_repo.set_blocked(
                tx, CHANNEL, user_ref, blocked=blocked, now=self.clock()
            )
        if changed:
            logger.info(
                "telegram chat blocked the bot" if blocked else "telegram chat unblocked the bot",
                extra={"chat": "…" + user_ref[-4:]},
            )
            if not blocked and self.on_inbound is not None:
                with contextlib.suppress(Exception):
                    await self.on_inbound(CHANNEL, user_ref)
        return changed

    async def _on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A corrected message: at a text step, offer to use the new text; else ignore it."""
        message = update.edited_message
        if (
            message is None
            or message.chat.type != ChatType.PRIVATE
            or not message.text
            or message.text.startswith("/")
        ):
            raise ApplicationHandlerStop
        chat_id = message.chat.id
        async with self._chat_lock(chat_id):
            if not await self._at_text_step(chat_id):
                raise ApplicationHandlerStop
            lang = await self._language(chat_id)
            t = translator(lang)
            stamp = int(message.edit_date.timestamp()) if message.edit_date else 0
            key = f"{message.message_id}.{stamp}"
            self._edits[key] = (chat_id, message.text, f"{chat_id}:{message.message_id}:e{stamp}")
            if len(self._edits) > 5_000:
                self._edits.popitem(last=False)
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(t(EDIT_USE), callback_data=EDIT_PREFIX + key)]]
            )
            text = t(EDIT_OFFER).format(text=message.text)
            if utf16_len(text) > MAX_TEXT:
                raise ApplicationHandlerStop
            with contextlib.suppress(TelegramError):
                await self._send_one(chat_id, text, markup, retries=self.config.network_retries)
        raise ApplicationHandlerStop

    async def _at_text_step(self, chat_id: int) -> bool:
        """Whether the conversation waits for a typed answer (no buttons, no file, no request)."""
        async with self.db.read() as r:
            state = await chat_store.get_state(r, CHANNEL, str(chat_id))
        flows = getattr(self.engine, "flows", {})
        flow = flows.get(state.flow) if state is not None else None
        step = flow.by_name.get(state.step) if flow is not None and state is not None else None
        if step is None or step.accepts_media or step.request is not None:
            return False
        # Buttons (even with free text allowed, like the menu) mean it is not a typed answer.
        return isinstance(step.choices, Sequence) and not step.choices

    async def _use_edit(self, query: CallbackQuery, message: Message | None) -> None:
        """The user accepted an offered correction: it goes to the engine as typed text."""
        offer = self._edits.pop((query.data or "")[len(EDIT_PREFIX) :], None)
        chat_id = message.chat.id if message is not None else query.from_user.id
        if offer is None or offer[0] != chat_id:
            with contextlib.suppress(TelegramError):
                await query.answer(translator(await self._language(chat_id))(EDIT_GONE)[:MAX_TOAST])
            return
        with contextlib.suppress(TelegramError):
            await query.answer()
        await self._settle_keyboard(query, message, pressed=True)
        _chat, text, message_id = offer
        inc = Incoming(
            channel=CHANNEL,
            user_ref=str(chat_id),
            message_id=message_id,
            text=text,
            display_name=query.from_user.first_name,
        )
        await self._process(chat_id, inc)

    async def _on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/start`` shows the menu; ``/start PAYLOAD`` (a deep link) gives the payload as text."""
        message = update.effective_message
        if message is None:
            return
        payload = " ".join(context.args or []).strip()
        await self._handle_message(message, text=payload or "/start")

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/menu``, ``/batal``... become the engine's command words."""
        message = update.effective_message
        if message is None or not message.text:
            return
        word = message.text.split()[0][1:].split("@")[0].lower()
        await self._handle_message(message, text=COMMAND_WORDS.get(word, message.text))

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any other message in a private chat."""
        message = update.effective_message
        if message is not None:
            await self._handle_message(message)

    async def _on_group_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Groups are not served: say so once, politely, when someone commands the bot there."""
        message = update.effective_message
        if message is None:
            return
        lang = _lang_of(message)
        with contextlib.suppress(TelegramError):
            await message.reply_text(translator(lang)(GROUP_NOTE))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log with a correlation id; never re-raise (the application keeps running)."""
        cid = uuid.uuid4().hex[:10]
        update_id = update.update_id if isinstance(update, Update) else None
        logger.error(
            "telegram update failed",
            exc_info=context.error,
            extra={"correlation_id": cid, "update_id": update_id},
        )

    # -- inbound -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _chat_lock(self, chat_id: int) -> AsyncIterator[None]:
        lock = self._chat_locks.get(chat_id)
        if lock is None:
            lock = self._chat_locks[chat_id] = asyncio.Lock()
        self._chat_waiters[chat_id] = self._chat_waiters.get(chat_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            left = self._chat_waiters[chat_id] - 1
            if left:
                self._chat_waiters[chat_id] = left
            else:
                del self._chat_waiters[chat_id]
                del self._chat_locks[chat_id]

    async def _handle_message(self, message: Message, *, text: str | None = None) -> None:
        chat_id = message.chat.id
        async with self._chat_lock(chat_id):
            inc = await self.incoming_from_message(message, text=text)
            await self._process(chat_id, inc)

    async def incoming_from_message(self, message: Message, *, text: str | None = None) -> Incoming:
        """A Telegram message as an ``Incoming`` (downloading a photo or document)."""
        user = message.from_user
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "user_ref": str(message.chat.id),
            "message_id": f"{message.chat.id}:{message.message_id}",
            "display_name": user.first_name if user else None,
        }
        if text is not None:
            return Incoming(**base, text=text)
        if message.text is not None:
            return Incoming(**base, text=message.text)
        if message.photo:
            photo = message.photo[-1]  # the largest size comes last
            return await self._media_incoming(
                base, message, photo.file_id, photo.file_size, "image/jpeg", "photo", None
            )
        if message.document is not None:
            doc = message.document
            mime = (doc.mime_type or "").lower()
            if mime not in ALLOWED_MIME:
                return Incoming(**base, rejected_media=FILE_WRONG_TYPE)
            kind: Literal["photo", "document"] = (
                "photo" if mime.startswith("image/") else "document"
            )
            return await self._media_incoming(
                base, message, doc.file_id, doc.file_size, mime, kind, doc.file_name
            )
        if message.voice is not None or message.audio is not None:
            # Kept on a ticket for a person to listen to (the engine answers the user).
            return await self._voice_incoming(base, message)
        if message.contact is not None:
            contact = message.contact
            # Only the user's own number counts (TECH.md §9): anyone can share anyone's card.
            if user is None or contact.user_id != user.id:
                return Incoming(**base, rejected_media=CONTACT_NOT_OWN)
            phone = contact.phone_number.strip()
            if phone.isdigit():
                phone = "+" + phone  # Telegram sends international numbers without the plus
            return Incoming(**base, contact_phone=phone)
        if message.location is not None and message.venue is None:
            loc = message.location
            return Incoming(**base, location=(loc.latitude, loc.longitude))
        kind_name = next((k for k in UNSUPPORTED_KINDS if getattr(message, k, None)), "other")
        return Incoming(**base, unsupported=kind_name)

    async def _voice_incoming(self, base: dict[str, Any], message: Message) -> Incoming:
        sound = message.voice or message.audio
        assert sound is not None
        if sound.file_size is not None and sound.file_size > uploads.VOICE_MAX_BYTES:
            return Incoming(**base, rejected_media=FILE_TOO_BIG)
        try:
            tg_file = await self.bot.get_file(sound.file_id)
            data = bytes(await tg_file.download_as_bytearray())
        except TelegramError as exc:
            logger.warning("telegram download failed", extra={"error": type(exc).__name__})
            return Incoming(**base, rejected_media=FILE_NOT_DOWNLOADED)
        try:
            mime = uploads.check_voice(data)
        except uploads.UploadRejected as exc:
            logger.info("telegram voice refused", extra={"reason": exc.reason})
            return Incoming(**base, unsupported="voice")
        return Incoming(**base, media=Media(data=data, mime=mime, kind="voice"))

    async def _media_incoming(
        self,
        base: dict[str, Any],
        message: Message,
        file_id: str,
        size: int | None,
        mime: str,
        kind: Literal["photo", "document"],
        filename: str | None,
    ) -> Incoming:
        if size is not None and size > MAX_FILE_BYTES:
            return Incoming(**base, rejected_media=FILE_TOO_BIG)
        if size is not None and size < uploads.MIN_BYTES:
            return Incoming(**base, rejected_media=uploads.MSG_TOO_SMALL)
        with contextlib.suppress(TelegramError):
            await self.bot.send_chat_action(message.chat.id, ChatAction.TYPING)
        try:
            tg_file = await self.bot.get_file(file_id)
            if tg_file.file_size is not None and tg_file.file_size > MAX_FILE_BYTES:
                return Incoming(**base, rejected_media=FILE_TOO_BIG)
            data = bytes(await tg_file.download_as_bytearray())
        except TelegramError as exc:
            logger.warning("telegram download failed", extra={"error": type(exc).__name__})
            return Incoming(**base, rejected_media=FILE_NOT_DOWNLOADED)
        try:
            # The declared type is the sender's word: the bytes decide (and are not stored
            # when refused).
            checked = uploads.check_upload(data, allowed=ALLOWED_MIME)
        except uploads.UploadRejected as exc:
            logger.info("telegram upload refused", extra={"reason": exc.reason, "declared": mime})
            return Incoming(**base, rejected_media=exc.msgid)
        return Incoming(
            **base, media=Media(data=data, mime=checked.mime, kind=checked.kind, filename=filename)
        )

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: to the engine with its step token, then mark or clear the keyboard."""
        query = update.callback_query
        if query is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat.id if message is not None else query.from_user.id
        if message is not None and message.chat.type != ChatType.PRIVATE:
            with contextlib.suppress(TelegramError):
                await query.answer()
            return
        async with self._chat_lock(chat_id):
            if (query.data or "").startswith(EDIT_PREFIX):
                await self._use_edit(query, message)
                return
            inc = self.incoming_from_press(query, message)
            if inc is None:
                with contextlib.suppress(TelegramError):
                    await query.answer()
                return
            replies = await self.engine.handle(inc)
            stale = [r for r in replies if r.stale_press]
            toast = stale[0].text[:MAX_TOAST] if stale else None
            with contextlib.suppress(TelegramError):
                await query.answer(toast)
            await self._settle_keyboard(query, message, pressed=not stale)
            await self._deliver(chat_id, inc, [r for r in replies if not r.stale_press])

    def incoming_from_press(self, query: CallbackQuery, message: Message | None) -> Incoming | None:
        """A press as an ``Incoming``; None when the data is not ours."""
        press = decode_callback(query.data or "")
        if press is None:
            return None
        chat_id = message.chat.id if message is not None else query.from_user.id
        choice_id = press.choice_id
        text: str | None = None
        if press.index is not None:
            ids = (
                self._index_choices.get((chat_id, message.message_id))
                if message is not None
                else None
            )
            if ids is not None and press.index < len(ids):
                choice_id = ids[press.index]
            else:
                # After a restart: the keyboard that came back with the press still has the label.
                text = _pressed_label(message, query.data or "")
                if text is None:
                    return None
        return Incoming(
            channel=CHANNEL,
            user_ref=str(chat_id),
            message_id=f"cb:{query.id}",
            choice_id=choice_id,
            text=text,
            step_token=press.step_token,
            display_name=query.from_user.first_name,
        )

    async def _settle_keyboard(
        self, query: CallbackQuery, message: Message | None, *, pressed: bool
    ) -> None:
        """Show which button was pressed ("✓ label") and drop the keyboard; stale ones just go."""
        if message is None or message.reply_markup is None:
            return
        label = _pressed_label(message, query.data or "")
        try:
            new_text = f"{message.text}\n\n{CHECK} {label}" if message.text and label else None
            if pressed and new_text is not None and utf16_len(new_text) <= MAX_TEXT:
                await query.edit_message_text(new_text, reply_markup=None)
            else:
                await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest as exc:
            # "message is not modified" after a double press, or a message too old to edit.
            logger.debug("keyboard not edited", extra={"error": exc.message})
        except TelegramError as exc:
            logger.info("keyboard not edited", extra={"error": type(exc).__name__})

    # -- outbound ------------------------------------------------------------------------

    async def _process(self, chat_id: int, inc: Incoming) -> None:
        replies = await self.engine.handle(inc)
        await self._deliver(chat_id, inc, replies)

    async def _deliver(self, chat_id: int, inc: Incoming, replies: Sequence[Reply]) -> None:
        try:
            await self.send_replies(chat_id, replies, retries=self.config.network_retries)
        except TelegramError as exc:
            # The replies stay recorded as unsent; a redelivered update replays them.
            logger.warning(
                "telegram replies not sent",
                extra={"error": type(exc).__name__, "correlation_id": uuid.uuid4().hex[:10]},
            )
            return
        await self.engine.replies_sent(inc)

    async def send_replies(
        self,
        chat_id: int,
        replies: Sequence[Reply],
        *,
        lang: str | None = None,
        retries: int = 0,
    ) -> list[int]:
        """Send replies in order; the Telegram message ids sent."""
        sent: list[int] = []
        for reply in coalesce(replies, max_len=MAX_TEXT):
            if reply.request in ("contact", "location") and lang is None:
                lang = await self._language(chat_id)
            for out in render_reply(reply, lang=lang or "id"):
                markup: Markup | None = out.markup
                if markup is None and chat_id in self._request_keyboard_open:
                    markup = ReplyKeyboardRemove()
                message = await self._send_one(chat_id, out.text, markup, retries=retries)
                sent.append(message.message_id)
                if isinstance(out.markup, ReplyKeyboardMarkup):
                    self._request_keyboard_open.add(chat_id)
                elif isinstance(markup, ReplyKeyboardRemove):
                    self._request_keyboard_open.discard(chat_id)
                if out.choice_ids and _uses_index(out.markup):
                    self._remember_choices(chat_id, message.message_id, out.choice_ids)
        return sent

    async def _send_one(
        self, chat_id: int, text: str, markup: Markup | None, *, retries: int
    ) -> Message:
        delay = 0.5
        for attempt in range(retries + 1):
            try:
                message: Message = await self.bot.send_message(
                    chat_id, text, reply_markup=markup, disable_web_page_preview=True
                )
                return message
            except BadRequest:
                raise
            except (TimedOut, NetworkError) as exc:
                if attempt == retries:
                    raise
                logger.info("telegram send retried", extra={"error": type(exc).__name__})
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _remember_choices(self, chat_id: int, message_id: int, ids: tuple[str, ...]) -> None:
        self._index_choices[(chat_id, message_id)] = ids
        if len(self._index_choices) > 20_000:
            self._index_choices.popitem(last=False)

    async def _language(self, chat_id: int) -> str:
        async with self.db.read() as r:
            chat = await chat_store.get_chat(r, CHANNEL, str(chat_id))
        return chat.language if chat is not None else "id"


def _uses_index(markup: Markup | None) -> bool:
    if not isinstance(markup, InlineKeyboardMarkup):
        return False
    return any(
        isinstance(b.callback_data, str) and "#" in b.callback_data and "|" not in b.callback_data
        for row in markup.inline_keyboard
        for b in row
    )


def _pressed_label(message: Message | None, data: str) -> str | None:
    """The label of the button with this callback data on the message's keyboard."""
    if message is None or not isinstance(message.reply_markup, InlineKeyboardMarkup):
        return None
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def _lang_of(message: Message) -> str:
    code = (message.from_user.language_code if message.from_user else None) or "id"
    return "en" if code.startswith("en") else "id"


# ---------------------------------------------------------------------------------------------
# The outbox dispatcher's sender


class TelegramSender:
    """``lingkaran.channels.base.Sender`` for Telegram: sends, and classifies failures for the outbox."""

    channel = CHANNEL

    def __init__(self, telegram: TelegramChannel) -> None:
        self._telegram = telegram

    async def send_reply(self, user_ref: str, reply: Reply) -> SendResult:
        """Send one reply to a chat (no retries here: the dispatcher decides)."""
        return await self._send(user_ref, reply, lang=None)

    async def send_outbound(self, message: OutboundMessage) -> SendResult:
        """Send an outbox message as free text (Telegram has no template window)."""
        return await self._send(message.user_ref, message.reply, lang=message.language)

    async def _send(self, user_ref: str, reply: Reply, *, lang: str | None) -> SendResult:
        try:
            chat_id = int(user_ref)
        except ValueError:
            raise Undeliverable("not a telegram chat id", code="bad_user_ref") from None
        async with self._telegram.db.read() as r:
            blocked = await channel_repo.is_blocked(r, CHANNEL, user_ref)
        if blocked:
            # Held, not failed: the rows go out when the user unblocks the bot.
            raise HoldMessage("the user blocked the bot", code="blocked")
        try:
            ids = await self._telegram.send_replies(chat_id, [reply], lang=lang)
        except RetryAfter as exc:
            raise RetryLater(
                "rate limited", retry_after=retry_after_seconds(exc), code=429
            ) from exc
        except Forbidden as exc:
            if "blocked" in exc.message.lower():
                await self._telegram.set_blocked(user_ref, blocked=True)
                raise HoldMessage("the user blocked the bot", code=403) from exc
            raise Undeliverable("bot blocked or chat gone", code=403) from exc
        except BadRequest as exc:
            # "chat not found" and every other 400 are permanent for this message.
            raise Undeliverable(exc.message, code=400) from exc
        except (TimedOut, NetworkError) as exc:
            raise RetryLater(type(exc).__name__, code="network") from exc
        except InvalidToken as exc:
            # The token was revoked or replaced: pause the channel's outbox (rows stay queued).
            raise ChannelAuthFailed("token rejected", code=401) from exc
        return SendResult(message_ids=tuple(str(i) for i in ids))


# ---------------------------------------------------------------------------------------------
# Running the channel alone (tests): the composition root uses the channel contract instead


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
    await channel.start()
    try:
        if channel.routes:
            server = WebServer(channel.routes, host=host, port=port)
            await server.start()
        if ready is not None:
            ready.set()
        await stop_event.wait()
    finally:
        if server is not None:
            await server.stop()
        await channel.stop()
        logger.info("telegram stopped")


__all__ = [
    "ConfigError",
    "TelegramChannel",
    "TelegramConfig",
    "TelegramSender",
    "build_keyboard",
    "decode_callback",
    "encode_callback",
    "render_reply",
    "run_telegram",
    "split_text",
]
