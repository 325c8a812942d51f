"""Replies out through the Bot API (``TelegramReplies``, a mixin of ``TelegramChannel``).

``send_replies`` coalesces and renders the engine's replies (render.py) and sends them in order,
one ``sendMessage`` each, retrying network errors and waiting out 429s as asked; it remembers
which chats have a request keyboard open (removed with the next plain message) and the choice
ids behind index buttons (``_remember_choices``, read back when a press comes). Button presses
are answered (``_answer``) and stale keyboards removed (``_drop_keyboard``) here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.ext import ExtBot

from handlers.engine import Engine, Incoming, Reply
from lingkaran.channels.base import coalesce
from lingkaran.channels.budget import SEND_PRIORITY
from lingkaran_core.storage import Database
from lingkaran_core.storage import chats as chat_store

from .botapi import BadRequest, BotAPI, BotAPIError, NetworkError, RetryAfter
from .config import CHANNEL, TelegramConfig
from .render import MAX_TEXT, REMOVE_KEYBOARD, Markup, render_reply
from .updates import TgPress

if TYPE_CHECKING:
    from telegram._utils.types import ReplyMarkup as PtbMarkup  # the union PTB's methods take

logger = logging.getLogger("lingkaran.channels.telegram.channel")  # one name for the channel

THROTTLE_RETRIES = 3  # a reply refused with 429 is sent again after retry_after, this often
LINK_PREVIEW_OFF = LinkPreviewOptions(is_disabled=True)


def ptb_markup(markup: Markup | None) -> PtbMarkup | None:
    """A keyboard from ``render`` (Bot API JSON) as PTB's ``ReplyMarkup``."""
    if markup is None:
        return None
    if "inline_keyboard" in markup:
        return InlineKeyboardMarkup.de_json(markup, None)
    if "keyboard" in markup:
        rows = [[KeyboardButton.de_json(b, None) for b in row] for row in markup["keyboard"]]
        return ReplyKeyboardMarkup(
            rows,
            one_time_keyboard=markup.get("one_time_keyboard"),
            resize_keyboard=markup.get("resize_keyboard"),
        )
    if markup.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    raise ValueError(f"not a keyboard: {sorted(markup)}")


class TelegramReplies:
    """Sending replies and answering presses (``TelegramChannel`` inherits it)."""

    if TYPE_CHECKING:
        db: Database
        config: TelegramConfig
        engine: Engine
        api: BotAPI
        _index_choices: OrderedDict[tuple[int, int], tuple[str, ...]]
        _request_keyboard_open: set[int]

        @property
        def bot(self) -> ExtBot[Any]: ...

    async def _deliver(self, chat_id: int, inc: Incoming, replies: Sequence[Reply]) -> None:
        try:
            await self.send_replies(
                chat_id, replies, retries=self.config.network_retries, throttle=THROTTLE_RETRIES
            )
        except BotAPIError as exc:
            # The replies stay recorded as unsent; the next start replays them.
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
        throttle: int = 0,
    ) -> list[int]:
        """Send replies in order; the Telegram message ids sent.

        ``retries``: network errors retried; ``throttle``: 429s waited out and retried.
        """
        sent: list[int] = []
        for reply in coalesce(replies, max_len=MAX_TEXT):
            if reply.request in ("contact", "location") and lang is None:
                lang = await self._language(chat_id)
            for out in render_reply(reply, lang=lang or "id"):
                markup = out.markup
                if markup is None and chat_id in self._request_keyboard_open:
                    markup = REMOVE_KEYBOARD
                message_id = await self._send_one(
                    chat_id, out.text, markup, retries=retries, throttle=throttle
                )
                sent.append(message_id)
                if out.markup is not None and "keyboard" in out.markup:
                    self._request_keyboard_open.add(chat_id)
                elif markup is REMOVE_KEYBOARD:
                    self._request_keyboard_open.discard(chat_id)
                if out.choice_ids and out.uses_index:
                    self._remember_choices(chat_id, message_id, out.choice_ids)
        return sent

    async def _send_one(
        self, chat_id: int, text: str, markup: Markup | None, *, retries: int, throttle: int = 0
    ) -> int:
        reply_markup = ptb_markup(markup)
        delay = 0.5
        failures = throttles = 0
        while True:
            try:
                sent = await self.api.run(
                    self.bot.send_message(
                        chat_id=chat_id,
                        text=text,
                        reply_markup=reply_markup,
                        link_preview_options=LINK_PREVIEW_OFF,
                        rate_limit_args=SEND_PRIORITY.get(),
                    ),
                    method="sendMessage",
                )
            except RetryAfter:
                # The budget now holds this chat (or everyone) for retry_after: the next
                # call waits for it.
                if throttles >= throttle:
                    raise
                throttles += 1
                continue
            except NetworkError as exc:
                if failures >= retries:
                    raise
                failures += 1
                logger.info("telegram send retried", extra={"error": type(exc).__name__})
                await asyncio.sleep(delay)
                delay *= 2
                continue
            return int(sent.message_id)

    def _remember_choices(self, chat_id: int, message_id: int, ids: tuple[str, ...]) -> None:
        self._index_choices[(chat_id, message_id)] = ids
        if len(self._index_choices) > 20_000:
            self._index_choices.popitem(last=False)

    async def _language(self, chat_id: int) -> str:
        async with self.db.read() as r:
            chat = await chat_store.get_chat(r, CHANNEL, str(chat_id))
        return chat.language if chat is not None else "id"

    async def _answer(self, press_id: str, text: str | None = None) -> None:
        with contextlib.suppress(BotAPIError):
            await self.api.run(
                self.bot.answer_callback_query(press_id, text=text or None),
                method="answerCallbackQuery",
            )

    async def _drop_keyboard(self, press: TgPress) -> None:
        """Remove the inline keyboard of a message whose buttons no longer count."""
        message = press.message
        if message is None or message.keyboard is None:
            return
        try:
            await self.api.run(
                self.bot.edit_message_reply_markup(
                    chat_id=message.chat_id,
                    message_id=message.message_id,
                    rate_limit_args=SEND_PRIORITY.get(),
                ),
                method="editMessageReplyMarkup",
            )
        except BadRequest as exc:
            # "message is not modified" after a double press, or a message too old to edit.
            logger.debug("keyboard not edited", extra={"error": exc.message})
        except BotAPIError as exc:
            logger.info("keyboard not edited", extra={"error": type(exc).__name__})
