"""The outbox dispatcher's Telegram ``Sender``: sends, and classifies failures for the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.engine import Reply
from lingkaran.channels.base import (
    ChannelAuthFailed,
    HoldMessage,
    OutboundMessage,
    RetryLater,
    SendResult,
    Undeliverable,
)
from lingkaran.channels.budget import SendBudget
from lingkaran_core.storage import channel_repo

from .botapi import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from .config import CHANNEL

if TYPE_CHECKING:
    from .channel import TelegramChannel


class TelegramSender:
    """``lingkaran.channels.base.Sender`` for Telegram.

    Its calls take permits from the bot token's budget themselves (``budget``), at the priority
    the dispatcher sets in ``SEND_PRIORITY``; it never retries (the dispatcher decides).
    """

    channel = CHANNEL

    def __init__(self, telegram: TelegramChannel) -> None:
        self._telegram = telegram

    @property
    def budget(self) -> SendBudget:
        """The budget every call of this sender takes a permit from."""
        return self._telegram.budget

    async def send_reply(self, user_ref: str, reply: Reply) -> SendResult:
        """Send one reply to a chat."""
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
            raise RetryLater("rate limited", retry_after=exc.retry_after, code=429) from exc
        except Forbidden as exc:
            if "blocked" in exc.message.lower():
                await self._telegram.set_blocked(user_ref, blocked=True)
                raise HoldMessage("the user blocked the bot", code=403) from exc
            raise Undeliverable("bot blocked or chat gone", code=403) from exc
        except BadRequest as exc:
            # "chat not found" and every other 400 are permanent for this message.
            raise Undeliverable(exc.message, code=400) from exc
        except NetworkError as exc:
            raise RetryLater(type(exc).__name__, code="network") from exc
        except InvalidToken as exc:
            # The token was revoked or replaced: pause the channel's outbox (rows stay queued).
            raise ChannelAuthFailed("token rejected", code=401) from exc
        return SendResult(message_ids=tuple(str(i) for i in ids))


__all__ = ["TelegramSender"]
