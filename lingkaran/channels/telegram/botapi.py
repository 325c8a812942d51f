"""The Bot API through python-telegram-bot: one ``telegram.ext.Application`` per bot token.

``BotAPI`` builds the Application and holds what the channel needs of it::

    Application.builder().token(...).base_url(api_root + "/bot").base_file_url(...)
        .updater(None)                      # we poll ourselves: the offset is ours (intake.py)
        .rate_limiter(BudgetRateLimiter(budget))   # the identity's one SendBudget
        .request(HTTPXRequest(...)).build()

* **Calls** are ``application.bot`` (``ExtBot``) methods - ``send_message``,
  ``answer_callback_query``, ``edit_message_reply_markup``, ``get_file``... - awaited through
  ``api.run(...)``, which turns PTB's ``telegram.error`` exceptions into this module's (the
  outbox sender and the composition root classify those; they keep a stable message and never
  contain the token).
* **Budget.** ``BudgetRateLimiter`` is PTB's ``BaseRateLimiter`` hook and the only limiter:
  every call Telegram counts (``send*`` but ``sendChatAction``, ``edit*``, ``copy*``,
  ``forward*``) holds a permit of the identity's ``SendBudget`` from before the request until its
  answer, at the priority given as ``rate_limit_args`` (else ``SEND_PRIORITY``, which the
  dispatcher sets per outbox row). A 429 reports its ``retry_after`` to the budget (that chat, or
  everyone) and raises; answering a button press and reading files are not budgeted.
* **Long polling** (``get_updates``) asks for the raw JSON (``bot.do_api_request``, no
  ``Update`` objects yet): the intake records an update exactly as Telegram sent it, and one
  update PTB cannot parse can never block the offset (``Bot.get_updates`` would raise for the
  whole batch, for ever). Cancelling a poll (shutdown) costs nothing: the offset only moves past
  recorded updates.
"""

from __future__ import annotations

import datetime as dtm
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from telegram import error as tg
from telegram.ext import Application, BaseRateLimiter, ExtBot
from telegram.request import BaseRequest, HTTPXRequest
from telegram.warnings import PTBUserWarning

from lingkaran.channels import httpfix
from lingkaran.channels.budget import SEND_PRIORITY, SendBudget

httpfix.install()
# ``get_updates`` asks for the raw JSON on purpose (see the module docstring), not by oversight.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)

logger = logging.getLogger(__name__)

T = TypeVar("T")

BUDGETED_PREFIXES = ("send", "edit", "copy", "forward")
UNBUDGETED = frozenset({"sendChatAction"})


def is_budgeted(method: str) -> bool:
    """Whether Telegram counts ``method`` against the bot's message limits."""
    return method.startswith(BUDGETED_PREFIXES) and method not in UNBUDGETED


class BotAPIError(Exception):
    """A Bot API call failed; ``message`` is Telegram's description (or ours)."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NetworkError(BotAPIError):
    """No usable answer: connection failed, 5xx, or not JSON."""


class TimedOut(NetworkError):
    """The request timed out (it may still have been carried out)."""


class InvalidToken(BotAPIError):
    """The token was refused (401)."""


class Forbidden(BotAPIError):
    """403: the user blocked the bot, or the chat is gone."""


class BadRequest(BotAPIError):
    """400: the request itself is wrong (chat not found, message not modified...)."""


class Conflict(BotAPIError):
    """409: another getUpdates or a webhook is in the way."""


class RetryAfter(BotAPIError):
    """429: too many requests; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, code=429)
        self.retry_after = retry_after


def retry_seconds(exc: tg.RetryAfter) -> float:
    """PTB's ``retry_after`` in seconds (an int or a timedelta, depending on PTB_TIMEDELTA)."""
    with warnings.catch_warnings():  # no await inside: safe in a running loop
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def translate(exc: tg.TelegramError, *, method: str = "") -> BotAPIError:
    """PTB's exception as ours (``InvalidToken`` before ``BadRequest``; ``TimedOut`` first)."""
    message = exc.message
    if isinstance(exc, tg.RetryAfter):
        return RetryAfter(message, retry_after=retry_seconds(exc))
    if isinstance(exc, tg.InvalidToken):
        return InvalidToken("the bot token was rejected by the server", code=401)
    if isinstance(exc, tg.Forbidden):
        return Forbidden(message, code=403)
    if isinstance(exc, tg.EndPointNotFound | tg.ChatMigrated | tg.BadRequest):
        return BadRequest(message, code=400)
    if isinstance(exc, tg.Conflict):
        return Conflict(message, code=409)
    if isinstance(exc, tg.TimedOut):
        return TimedOut(f"{method or 'request'} timed out")
    return NetworkError(f"{method + ': ' if method else ''}{message}")


class BudgetRateLimiter(BaseRateLimiter[int]):
    """PTB's rate-limiter hook on the identity's ``SendBudget`` (see the module docstring).

    ``rate_limit_args`` is the priority of the call (``budget.REPLY``...); None means the
    context's ``SEND_PRIORITY``.
    """

    def __init__(self, budget: SendBudget) -> None:
        self.budget = budget

    async def initialize(self) -> None:
        """Nothing to set up (the budget outlives the Application)."""

    async def shutdown(self) -> None:
        """Nothing to close (the budget is the channel's, maybe shared)."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Take a permit for a budgeted call; report a 429 to the budget."""
        if not is_budgeted(endpoint):
            return await callback(*args, **kwargs)
        priority = rate_limit_args if isinstance(rate_limit_args, int) else SEND_PRIORITY.get()
        chat = data.get("chat_id")
        chat_ref = str(chat) if chat is not None else None
        try:
            async with self.budget.permit(priority, chat=chat_ref):
                return await callback(*args, **kwargs)
        except tg.RetryAfter as exc:
            self.budget.throttled(retry_seconds(exc), chat=chat_ref)
            raise


def build_application(
    token: str,
    api_root: str,
    *,
    limiter: BudgetRateLimiter,
    pool: int = 64,
    timeout: float = 15.0,
    connect_timeout: float = 5.0,
    request: BaseRequest | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB Application of one bot token, without an Updater (we poll ourselves).

    ``request``: PTB's HTTP layer in place of an ``HTTPXRequest`` (benchmarks answer in-process).
    """
    root = api_root.rstrip("/")
    request = request or HTTPXRequest(
        connection_pool_size=pool,
        read_timeout=timeout,
        write_timeout=timeout,
        connect_timeout=connect_timeout,
        pool_timeout=connect_timeout,
    )
    return (
        Application.builder()
        .token(token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .updater(None)
        .rate_limiter(limiter)
        .request(request)
        .build()
    )


class BotAPI:
    """The PTB Application of one bot token and its ``ExtBot`` (see the module docstring)."""

    def __init__(
        self,
        token: str,
        api_root: str,
        *,
        budget: SendBudget,
        pool: int = 64,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        request: BaseRequest | None = None,
    ) -> None:
        self.budget = budget
        self._token = token
        self.limiter = BudgetRateLimiter(budget)
        self.application = build_application(
            token,
            api_root,
            limiter=self.limiter,
            pool=pool,
            timeout=timeout,
            connect_timeout=connect_timeout,
            request=request,
        )
        self.bot: ExtBot[Any] = self.application.bot

    def _safe(self, text: str) -> str:
        return text.replace(self._token, "<token>") if self._token else text

    async def run(self, call: Awaitable[T], *, method: str = "") -> T:
        """Await an ``ExtBot`` call; PTB's errors become this module's."""
        try:
            return await call
        except tg.TelegramError as exc:
            error = translate(exc, method=method)
            error.message = self._safe(error.message)
            raise error from None

    async def start(self) -> None:
        """``Application.initialize()`` (getMe: ``InvalidToken`` when rejected) and ``start()``."""
        await self.run(self.application.initialize(), method="getMe")
        await self.application.start()

    async def aclose(self) -> None:
        """``Application.stop()`` and ``shutdown()`` (closes the connection pool)."""
        app = self.application
        if app.running:
            await app.stop()
        await app.shutdown()

    async def get_updates(
        self,
        *,
        offset: int | None,
        poll_timeout: float,
        allowed_updates: list[str],
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """One long poll: the updates Telegram holds from ``offset`` on (raw JSON objects)."""
        params: dict[str, Any] = {
            "timeout": int(poll_timeout),
            "limit": limit,
            "allowed_updates": allowed_updates,
        }
        if offset is not None:
            params["offset"] = offset
        result = await self.run(
            self.bot.do_api_request(
                "getUpdates", api_kwargs=params, read_timeout=poll_timeout + 10.0
            ),
            method="getUpdates",
        )
        if not isinstance(result, list):
            raise NetworkError("getUpdates: the result is not a list")
        return [u for u in result if isinstance(u, dict)]


__all__ = [
    "BadRequest",
    "BotAPI",
    "BotAPIError",
    "BudgetRateLimiter",
    "Conflict",
    "Forbidden",
    "InvalidToken",
    "NetworkError",
    "RetryAfter",
    "TimedOut",
    "build_application",
    "is_budgeted",
    "translate",
]
