"""A small Bot API client: JSON in, JSON out, on one pooled ``httpx.AsyncClient``.

It replaces python-telegram-bot's ``Bot`` on the bot's path. PTB builds a ``RequestData`` for
every call and a ``Message`` object from every answer (about 0.4 ms per send here, more than the
HTTP round trip itself); the bot needs the ``message_id`` of what it sent and a clear error.
Calls are ``await api.call("sendMessage", {...})``; the result is the Bot API's ``result``.

* **Budget.** Calls that Telegram counts against the bot's limits (``send*`` except
  ``sendChatAction``, ``edit*``, ``copy*``, ``forward*``) hold a permit of the identity's
  ``SendBudget`` from before the request until its answer, at the priority of ``SEND_PRIORITY`` (reply unless the dispatcher says
  otherwise). A 429 reports its ``retry_after`` to the budget (that chat, or everyone) and raises
  ``RetryAfter``; answering a button press and reading files are not budgeted.
* **Errors** mirror PTB's names: ``InvalidToken`` (401), ``Forbidden`` (403), ``BadRequest``
  (400), ``Conflict`` (409), ``RetryAfter`` (429), ``TimedOut`` / ``NetworkError`` (no answer,
  5xx, or an answer that is not JSON). Messages never contain the token.
* **Long polling** (``get_updates``) has its own connection, so a pending poll never holds up a
  send, and cancelling it (shutdown) costs nothing: the offset only moves past recorded updates.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from lingkaran.channels import httpfix
from lingkaran.channels.budget import SEND_PRIORITY, SendBudget

httpfix.install()

logger = logging.getLogger(__name__)

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


def _error(method: str, status: int, data: dict[str, Any]) -> BotAPIError:
    code = data.get("error_code") if isinstance(data.get("error_code"), int) else status
    desc = str(data.get("description") or f"HTTP {status}")
    params = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    retry_after = params.get("retry_after") if params else None
    if isinstance(retry_after, int | float) and not isinstance(retry_after, bool):
        return RetryAfter(desc, retry_after=float(retry_after))
    if code == 401 or (code == 404 and method == "getMe"):
        return InvalidToken("the bot token was rejected by the server", code=code)
    if code == 403:
        return Forbidden(desc, code=code)
    if code in (400, 404):
        return BadRequest(desc, code=code)
    if code == 409:
        return Conflict(desc, code=code)
    return NetworkError(f"{desc} ({code})", code=code)


class BotAPI:
    """The Bot API of one bot token (see the module docstring)."""

    def __init__(
        self,
        token: str,
        api_root: str,
        *,
        budget: SendBudget,
        pool: int = 64,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
    ) -> None:
        root = api_root.rstrip("/")
        self.budget = budget
        self._token = token
        self._base = f"{root}/bot{token}/"
        self._file_base = f"{root}/file/bot{token}/"
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout, pool=connect_timeout)
        self.client = httpx.AsyncClient(
            timeout=self._timeout,
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        )
        self._poll_client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self.calls = 0

    async def aclose(self) -> None:
        """Close both connection pools."""
        await self.client.aclose()
        await self._poll_client.aclose()

    def _safe(self, text: str) -> str:
        return text.replace(self._token, "<token>") if self._token else text

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        read_timeout: float | None = None,
        poll: bool = False,
    ) -> Any:
        """Call ``method`` with JSON ``params``; its ``result`` (see the errors above)."""
        params = params or {}
        budgeted = is_budgeted(method)
        chat = params.get("chat_id")
        chat_ref = str(chat) if chat is not None else None
        body = json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode()
        client = self._poll_client if poll else self.client
        timeout = self._timeout if read_timeout is None else self._timeout_with(read_timeout)
        headers = {"content-type": "application/json"}
        self.calls += 1
        try:
            if budgeted:
                async with self.budget.permit(SEND_PRIORITY.get(), chat=chat_ref):
                    response = await client.post(
                        self._base + method, content=body, headers=headers, timeout=timeout
                    )
            else:
                response = await client.post(
                    self._base + method, content=body, headers=headers, timeout=timeout
                )
        except httpx.TimeoutException as exc:
            raise TimedOut(f"{method} timed out ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise NetworkError(self._safe(f"{method}: {type(exc).__name__}: {exc}")) from None
        try:
            data = json.loads(response.content)
        except ValueError:
            raise NetworkError(
                f"{method}: an answer that is not JSON ({response.status_code})",
                code=response.status_code,
            ) from None
        if not isinstance(data, dict):
            raise NetworkError(f"{method}: an answer that is not an object")
        if data.get("ok") is True:
            return data.get("result")
        error = _error(method, response.status_code, data)
        if isinstance(error, RetryAfter) and budgeted:
            self.budget.throttled(error.retry_after, chat=chat_ref)
        raise error

    def _timeout_with(self, read: float) -> httpx.Timeout:
        return httpx.Timeout(
            self._timeout.read, connect=self._timeout.connect, pool=self._timeout.pool, read=read
        )

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
        result = await self.call("getUpdates", params, read_timeout=poll_timeout + 10.0, poll=True)
        if not isinstance(result, list):
            raise NetworkError("getUpdates: the result is not a list")
        return [u for u in result if isinstance(u, dict)]

    async def download(self, file_path: str, *, max_bytes: int) -> bytes:
        """A file's bytes (``getFile``'s ``file_path``); ``BadRequest`` beyond ``max_bytes``."""
        url = self._file_base + file_path.lstrip("/")
        chunks: list[bytes] = []
        size = 0
        try:
            async with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise NetworkError(
                        f"file download: HTTP {response.status_code}", code=response.status_code
                    )
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise BadRequest("file too large", code=413)
                    chunks.append(chunk)
        except httpx.TimeoutException:
            raise TimedOut("file download timed out") from None
        except httpx.HTTPError as exc:
            raise NetworkError(self._safe(f"file download: {type(exc).__name__}")) from None
        return b"".join(chunks)


__all__ = [
    "BadRequest",
    "BotAPI",
    "BotAPIError",
    "Conflict",
    "Forbidden",
    "InvalidToken",
    "NetworkError",
    "RetryAfter",
    "TimedOut",
    "is_budgeted",
]
