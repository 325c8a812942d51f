"""The Telegram channel: recorded updates -> the channel-neutral engine -> Bot API calls.

The composition root (``lingkaran.app``: ``lingkaran telegram`` or ``lingkaran serve``) builds it
with the process's one engine and clock and the bot token's ``SendBudget``, through the channel
contract ``routes`` / ``sender`` / ``start()`` / ``stop(grace)``::

    config = TelegramConfig.from_settings(settings)   # ConfigError: no token, webhook w/o secret
    channel = TelegramChannel(db, config, engine=engine, clock=clock, budget=budget)
    server_routes.extend(channel.routes)          # the webhook route when TELEGRAM_WEBHOOK_URL
    await channel.start()                         # getMe (InvalidToken when rejected), commands,
                                                  # replays, resumes, then setWebhook or polling
    dispatcher_senders["telegram"] = channel.sender   # channels.base.Sender for the outbox
    ...
    await channel.stop()                          # < 1 s: the rest stays recorded

Updates come from the durable intake (``intake.py``), one at a time per user, in order. Each
recorded update becomes ``telegram.Update.de_json(data, application.bot)`` and goes through
``Application.process_update``; a ``TypeHandler(Update, ...)`` hands it on as a ``TgUpdate``
(``updates.update_from_ptb``). An update ``de_json`` cannot read is taken from its raw JSON
(``updates.parse_update``) instead of being lost. Every call is an ``ExtBot`` method through
``BotAPI.run`` (PTB's errors become ours) and the Application's ``BudgetRateLimiter``.

Budgeted calls per step (what Telegram counts against 30 msg/s): a typed answer or a button
press costs one ``sendMessage`` (a button press also answers the callback, which is free); the
pressed choice is shown as ``✓ label`` on the first line of the next message instead of an edit
of the old one. A press on a stale keyboard costs the toast and one edit removing that keyboard.
A reply longer than 4,096 characters costs one send per part.

Replies go out through ``replies.TelegramReplies`` (mixed in): ``send_replies`` and the calls
below it, with the per-chat memory of index choices and open request keyboards; the pure parts
live in render.py, inbound.py and updates.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import (
    BotCommand,
    ReplyParameters,
    Update,
)
from telegram.ext import ContextTypes, ExtBot, TypeHandler
from telegram.request import BaseRequest

from handlers.engine import Engine, Incoming, reply_from_dict
from handlers.i18n import N_, translator
from lingkaran.channels.base import BodyTooLarge, read_body
from lingkaran.channels.budget import SEND_PRIORITY, SendBudget
from lingkaran_core.storage import Database, channel_repo
from lingkaran_core.storage import chats as chat_store

from .botapi import BotAPI, BotAPIError, InvalidToken
from .config import ALLOWED_UPDATES, CHANNEL, DEFAULT_WEBHOOK_PATH, TelegramConfig, redact_in_logs
from .inbound import incoming_from_message
from .intake import Intake, Poller
from .render import (
    MAX_TEXT,
    decode_callback,
    pressed_label,
    utf16_len,
    with_check,
)
from .replies import TelegramReplies
from .updates import TgMemberChange, TgMessage, TgPress, TgUpdate, update_from_ptb

logger = logging.getLogger(__name__)

MAX_TOAST = 200  # Bot API answerCallbackQuery text limit
REPLAY_WITHIN = timedelta(days=1)
EDIT_PREFIX = "edit:"

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
BLOCKED = ("kicked", "left")
UNBLOCKED = ("member", "administrator", "creator")


def command_text(text: str) -> str:
    """A message text as the engine should get it (``/start PAYLOAD`` gives the payload)."""
    if not text.startswith("/") or len(text) < 2:
        return text
    head, _sep, rest = text.partition(" ")
    word = head[1:].split("@")[0].lower()
    if word == "start":
        payload = " ".join(rest.split())
        return payload or "/start"
    return COMMAND_WORDS.get(word, text)


def _lang_of(message: TgMessage) -> str:
    code = (message.sender.language_code if message.sender else None) or "id"
    return "en" if code.startswith("en") else "id"


class TelegramChannel(TelegramReplies):
    """The Bot API, the durable intake and the engine, wired; start/stop it in a running loop."""

    def __init__(
        self,
        db: Database,
        config: TelegramConfig,
        *,
        engine: Engine,
        clock: Callable[[], datetime],
        budget: SendBudget | None = None,
        request: BaseRequest | None = None,
    ) -> None:
        """``request``: PTB's HTTP layer instead of the network (benchmarks)."""
        from .sender import TelegramSender

        self.db = db
        self.config = config
        self.engine = engine
        self.clock = clock
        redact_in_logs(config.token, config.secret_token)
        self.budget = budget or SendBudget(config.rate, name=CHANNEL)
        self._request = request
        self.api = self._new_api()
        self.intake = Intake(
            db,
            clock=clock,
            handle=self.handle_update,
            on_group=self._on_group,
            concurrency=config.concurrency,
        )
        self.poller: Poller | None = None
        self.sender = TelegramSender(self)
        self.username: str | None = None
        self._index_choices: OrderedDict[tuple[int, int], tuple[str, ...]] = OrderedDict()
        self._request_keyboard_open: set[int] = set()
        # Corrected texts offered back to the user (``edited_message``), by offer key.
        self._edits: OrderedDict[str, tuple[int, str, str]] = OrderedDict()
        self._closed = False
        # Set by the composition root to the dispatcher's ``on_inbound``: a user who unblocks the
        # bot gets the messages held meanwhile at once (else at the dispatcher's next pass).
        self.on_inbound: Callable[[str, str], Any] | None = None
        # Exceptions of a step inside ``process_update`` (PTB would only log them), by update.
        self._failures: dict[int, BaseException] = {}

    def _new_api(self) -> BotAPI:
        api = BotAPI(
            self.config.token,
            self.config.api_root,
            budget=self.budget,
            pool=max(8, self.config.concurrency),
            request=self._request,
        )
        api.application.add_handler(TypeHandler(Update, self._on_ptb_update))
        return api

    @property
    def bot(self) -> ExtBot[Any]:
        """The Application's ``ExtBot``."""
        return self.api.bot

    @property
    def routes(self) -> list[Route]:
        """The webhook route for a shared server (none in polling mode)."""
        if not self.config.webhook_url or not self.config.secret_token:
            return []
        return [self.webhook_route(self.config.webhook_path, secret_token=self.config.secret_token)]

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """getMe, the command menu, replays and resumes; then poll, or register the webhook."""
        if self._closed:
            self.api = self._new_api()
            self._closed = False
        await self.api.start()  # Application.initialize() (getMe) and start()
        self.username = self.api.bot.username
        await self.set_commands()
        await self.replay_unsent()
        await self.intake.start()
        config = self.config
        if config.webhook_url:
            await self.api.run(
                self.bot.set_webhook(
                    url=config.webhook_url,
                    secret_token=config.secret_token,
                    allowed_updates=list(ALLOWED_UPDATES),
                    drop_pending_updates=config.drop_pending_updates,
                ),
                method="setWebhook",
            )
            logger.info("telegram webhook set", extra={"mode": "webhook"})
        else:
            await self.api.run(
                self.bot.delete_webhook(drop_pending_updates=config.drop_pending_updates),
                method="deleteWebhook",
            )
            self.poller = Poller(self.api, self.intake, timeout=config.poll_timeout)
            self.poller.start()
            logger.info("telegram polling started", extra={"mode": "polling"})

    async def stop(self, grace: float = 0.5) -> None:
        """Stop taking updates, finish the steps in progress, close the HTTP pools.

        Updates recorded and not yet processed stay recorded: the next start takes them.
        """
        if self.poller is not None:
            await self.poller.stop()
        await self.intake.stop(grace)
        if not self._closed:
            self._closed = True
            await self.api.aclose()
        self.budget.close()

    async def replay_unsent(self) -> int:
        """Send replies a crash left unsent (committed, never delivered); how many chats.

        Older than a day: dropped, stale.
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
                await self.send_replies(
                    int(row.user_ref),
                    replies,
                    lang=row.language,
                    retries=self.config.network_retries,
                )
            except (BotAPIError, ValueError) as exc:
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
                await self.api.run(
                    self.bot.set_my_commands(
                        commands, language_code=lang if lang != "id" else None
                    ),
                    method="setMyCommands",
                )
            except InvalidToken:
                raise
            except BotAPIError as exc:
                logger.warning("set_my_commands failed", extra={"error": type(exc).__name__})

    # -- webhook -------------------------------------------------------------------------

    def webhook_route(self, path: str = DEFAULT_WEBHOOK_PATH, *, secret_token: str) -> Route:
        """A starlette route: check the secret header, record the update, then answer 200."""
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
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                logger.warning("telegram webhook: not an update")
                return Response(status_code=400)
            try:
                await self.intake.record([data])
            except Exception:
                # Not acknowledged: Telegram sends it again, and the record is idempotent.
                logger.exception("telegram webhook could not be recorded")
                return Response(status_code=500)
            return Response(status_code=200)

        return Route(path, endpoint, methods=["POST"])

    # -- one update, from the intake -----------------------------------------------------

    async def handle_update(self, update: TgUpdate) -> None:
        """Process one recorded update of a private chat (the intake calls it, per user in order).

        Through PTB: ``Update.de_json`` of the recorded JSON, then ``process_update``; a step's
        exception comes back out of it (the intake keeps the update for the next start).
        """
        ptb: Update | None = None
        if update.raw is not None:
            try:
                ptb = Update.de_json(update.raw, self.api.bot)
            except Exception as exc:
                # A shape PTB cannot read (an older or newer Bot API): our own reading serves.
                logger.info(
                    "telegram update read without PTB",
                    extra={"kind": update.kind, "error": type(exc).__name__},
                )
        if ptb is None:
            await self.dispatch(update)
            return
        await self.api.application.process_update(ptb)
        failure = self._failures.pop(ptb.update_id, None)
        if failure is not None:
            raise failure

    async def _on_ptb_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """The Application's ``TypeHandler``: the PTB update as a ``TgUpdate``, processed."""
        try:
            await self.dispatch(update_from_ptb(update))
        except Exception as exc:
            self._failures[update.update_id] = exc

    async def dispatch(self, update: TgUpdate) -> None:
        """One update of a private chat, by kind."""
        if update.kind == "message" and update.message is not None:
            await self._on_message(update.message)
        elif update.kind == "callback_query" and update.press is not None:
            await self._on_press(update.press)
        elif update.kind == "edited_message" and update.message is not None:
            await self._on_edited(update.message)
        elif update.kind == "my_chat_member" and update.member is not None:
            await self._on_member(update.member)

    async def _on_group(self, update: TgUpdate) -> None:
        """Groups are not served: say so once, politely, when someone commands the bot there."""
        if update.press is not None:
            await self._answer(update.press.id)
            return
        message = update.message
        if update.kind != "message" or message is None or not (message.text or "").startswith("/"):
            return
        with contextlib.suppress(BotAPIError):
            await self.api.run(
                self.bot.send_message(
                    chat_id=message.chat_id,
                    text=translator(_lang_of(message))(GROUP_NOTE),
                    reply_parameters=ReplyParameters(
                        message_id=message.message_id, allow_sending_without_reply=True
                    ),
                    rate_limit_args=SEND_PRIORITY.get(),
                ),
                method="sendMessage",
            )

    async def _on_member(self, change: TgMemberChange) -> None:
        """The user blocked (``kicked``) or unblocked (``member``) the bot in a private chat."""
        user_ref = str(change.chat_id)
        if change.status in BLOCKED:
            await self.set_blocked(user_ref, blocked=True)
        elif change.status in UNBLOCKED:
            await self.set_blocked(user_ref, blocked=False)

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

    async def _on_message(self, message: TgMessage) -> None:
        if message.kind == "service":
            return
        text = command_text(message.text) if message.text is not None else None
        inc = await self.incoming_from_message(message, text=text)
        await self._process(message.chat_id, inc)

    async def _on_edited(self, message: TgMessage) -> None:
        """A corrected message: at a text step, offer to use the new text; else ignore it."""
        if not message.text or message.text.startswith("/"):
            return
        chat_id = message.chat_id
        if not await self._at_text_step(chat_id):
            return
        t = translator(await self._language(chat_id))
        stamp = message.edit_date or 0
        key = f"{message.message_id}.{stamp}"
        self._edits[key] = (chat_id, message.text, f"{chat_id}:{message.message_id}:e{stamp}")
        if len(self._edits) > 5_000:
            self._edits.popitem(last=False)
        markup = {"inline_keyboard": [[{"text": t(EDIT_USE), "callback_data": EDIT_PREFIX + key}]]}
        text = t(EDIT_OFFER).format(text=message.text)
        if utf16_len(text) > MAX_TEXT:
            return
        with contextlib.suppress(BotAPIError):
            await self._send_one(chat_id, text, markup, retries=self.config.network_retries)

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

    async def _on_press(self, press: TgPress) -> None:
        """A button press: to the engine with its step token; the toast and the next question."""
        if press.data.startswith(EDIT_PREFIX):
            await self._use_edit(press)
            return
        inc = self.incoming_from_press(press)
        if inc is None:
            await self._answer(press.id)
            return
        replies = await self.engine.handle(inc)
        stale = [r for r in replies if r.stale_press]
        rest = [r for r in replies if not r.stale_press]
        chat_id = press.chat_id
        if stale:
            await asyncio.gather(
                self._answer(press.id, stale[0].text[:MAX_TOAST]),
                self._drop_keyboard(press),
                self._deliver(chat_id, inc, rest),
            )
            return
        label = pressed_label(press.message.keyboard, press.data) if press.message else None
        if label and rest:
            rest[0] = with_check(rest[0], label)
        await asyncio.gather(self._answer(press.id), self._deliver(chat_id, inc, rest))

    def incoming_from_press(self, press: TgPress) -> Incoming | None:
        """A press as an ``Incoming``; None when the data is not ours."""
        decoded = decode_callback(press.data)
        if decoded is None:
            return None
        message = press.message
        chat_id = press.chat_id
        choice_id = decoded.choice_id
        text: str | None = None
        if decoded.index is not None:
            ids = (
                self._index_choices.get((chat_id, message.message_id))
                if message is not None
                else None
            )
            if ids is not None and decoded.index < len(ids):
                choice_id = ids[decoded.index]
            else:
                # After a restart: the keyboard that came back with the press still has the label.
                text = pressed_label(message.keyboard, press.data) if message else None
                if text is None:
                    return None
        return Incoming(
            channel=CHANNEL,
            user_ref=str(chat_id),
            message_id=f"cb:{press.id}",
            choice_id=choice_id,
            text=text,
            step_token=decoded.step_token,
            display_name=press.sender.first_name,
        )

    async def _use_edit(self, press: TgPress) -> None:
        """The user accepted an offered correction: it goes to the engine as typed text."""
        offer = self._edits.pop(press.data[len(EDIT_PREFIX) :], None)
        chat_id = press.chat_id
        if offer is None or offer[0] != chat_id:
            toast = translator(await self._language(chat_id))(EDIT_GONE)[:MAX_TOAST]
            await asyncio.gather(self._answer(press.id, toast), self._drop_keyboard(press))
            return
        _chat, text, message_id = offer
        inc = Incoming(
            channel=CHANNEL,
            user_ref=str(chat_id),
            message_id=message_id,
            text=text,
            display_name=press.sender.first_name,
        )
        replies = await self.engine.handle(inc)
        await asyncio.gather(self._answer(press.id), self._deliver(chat_id, inc, replies))

    # -- inbound messages ----------------------------------------------------------------

    async def incoming_from_message(
        self, message: TgMessage, *, text: str | None = None
    ) -> Incoming:
        """A Telegram message as an ``Incoming`` (downloading a photo or document)."""
        return await incoming_from_message(self.api, message, text=text)

    # -- outbound ------------------------------------------------------------------------

    async def _process(self, chat_id: int, inc: Incoming) -> None:
        replies = await self.engine.handle(inc)
        await self._deliver(chat_id, inc, replies)


__all__ = ["COMMANDS", "COMMAND_WORDS", "TelegramChannel", "command_text"]
