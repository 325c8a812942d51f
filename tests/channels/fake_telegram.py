"""A fake Telegram Bot API on 127.0.0.1 for end-to-end tests of the real PTB application.

It speaks what PTB sends: ``POST /bot<TOKEN>/<method>`` (form-urlencoded, multipart or JSON;
``reply_markup`` is a JSON string) and ``GET /file/bot<TOKEN>/<file_path>``. Every call is recorded.
A test plays the user with ``user_sends_text``/``user_presses``/``user_sends_photo``/... (queued as
updates for ``getUpdates`` long polling, which holds until an update arrives or ``timeout``
elapses and honours ``offset``), then asserts on what the bot sent (``sent``/``wait_replies``).

    async with FakeTelegram() as tg:        # tg.root -> "http://127.0.0.1:<port>"
        tg.user_sends_text(1001, "/start")
        replies = await tg.wait_replies(1001)

A wrong token gets 401 ``Unauthorized``; ``fail_next_sends(n, retry_after=1)`` answers the next
``n`` sendMessage calls with 429 ``Too Many Requests``.

Telegram's limits are enforced on the calls Telegram counts (``send*`` but ``sendChatAction``,
``edit*``, ``copy*``, ``forward*``): at most ``overall_rate`` (30) in any one-second window, and
per chat a bucket of ``chat_burst`` (20) refilled at ``chat_rate`` (1/s): about one message a
second with short bursts. Past either, the call is refused with 429 and ``retry_after`` (whole
seconds, as Telegram sends them); ``throttled`` counts the refusals.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import itertools
import json
import math
import socket
import time
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "4242:TEST-fake-token"
BOT_USER = {
    "id": 4242,
    "is_bot": True,
    "first_name": "Lingkaran Cinta",
    "username": "lingkaran_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
JSON_PARAMS = (
    "reply_markup",
    "allowed_updates",
    "commands",
    "scope",
    "link_preview_options",
    "reply_parameters",
)
COUNTED = ("send", "edit", "copy", "forward")


def counted(method: str) -> bool:
    """Whether Telegram counts ``method`` against the bot's message limits."""
    return method.startswith(COUNTED) and method != "sendChatAction"


@dataclass
class Limits:
    """Telegram's message limits as this fake enforces them (see the module docstring)."""

    overall_rate: int = 30
    window: float = 1.0
    chat_burst: float = 20.0
    chat_rate: float = 1.0
    _recent: deque[float] = field(default_factory=deque)
    _chats: dict[int, tuple[float, float]] = field(default_factory=dict)

    def check(self, chat_id: int | None, now: float) -> int | None:
        """None when the call may go (and it is counted), else retry_after in seconds."""
        recent = self._recent
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.overall_rate:
            return max(1, math.ceil(recent[0] + self.window - now))
        tokens = self.chat_burst
        if chat_id is not None:
            tokens, at = self._chats.get(chat_id, (self.chat_burst, now))
            tokens = min(self.chat_burst, tokens + (now - at) * self.chat_rate)
            if tokens < 1:
                self._chats[chat_id] = (tokens, now)
                return max(1, math.ceil((1 - tokens) / self.chat_rate))
            self._chats[chat_id] = (tokens - 1, now)
        recent.append(now)
        return None


INT_PARAMS = ("chat_id", "message_id", "offset", "limit", "timeout")


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class FakeTelegram:
    """The fake server; use as an async context manager."""

    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    root: str = ""
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: dict[int, itertools.count[int]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _fail_429: int = 0
    # Chats that blocked the bot: sendMessage to them gets 403 as from Telegram.
    blocked: set[int] = field(default_factory=set)
    _retry_after: int = 1
    limits: Limits = field(default_factory=Limits)
    throttled: int = 0
    # Called with every call as it arrives (before it is answered); update ids getUpdates served.
    on_call: Callable[[Call], None] | None = None
    served: set[int] = field(default_factory=set)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    # -- server --------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.root = f"http://127.0.0.1:{port}"

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Generator[None, None, None]:
                yield

        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                await self._task
            await asyncio.sleep(0.01)
        self._sock = sock
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._task is not None
        self._server.should_exit = True
        self._new_update.set()
        await self._task
        self._sock.close()

    # -- the Bot API ---------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        token = request.path_params["token"]
        method = request.path_params["method"]
        try:
            params = await _params(request)
        except ClientDisconnect:  # the bot went away mid-request (a test killed it)
            return Response(status_code=499)
        if token != self.token:
            self.calls.append(Call(method, params, time.monotonic(), 401))
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        handler: Callable[[dict[str, Any]], Any] | None = getattr(self, f"_m_{method}", None)
        if handler is None:
            call.status = 404
            return JSONResponse(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404
            )
        retry_after: int | None = None
        if method == "sendMessage" and self._fail_429 > 0:
            self._fail_429 -= 1
            retry_after = self._retry_after
        elif counted(method):
            chat = params.get("chat_id")
            retry_after = self.limits.check(chat if isinstance(chat, int) else None, call.at)
            if retry_after is not None:
                self.throttled += 1
        if retry_after is not None:
            call.status = 429
            return JSONResponse(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
                status_code=429,
            )
        result = handler(params)
        if asyncio.iscoroutine(result):
            result = await result
        if isinstance(result, _Error):
            call.status = result.code
            return JSONResponse(
                {"ok": False, "error_code": result.code, "description": result.description},
                status_code=result.code,
            )
        return JSONResponse({"ok": True, "result": result})

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        path = request.path_params["path"]
        self.calls.append(Call("downloadFile", {"file_path": path}, time.monotonic()))
        for data, file_path in self.files.values():
            if file_path == path:
                return Response(data, media_type="application/octet-stream")
        return Response(status_code=404)

    def _m_getMe(self, p: dict[str, Any]) -> Any:
        return BOT_USER

    def _m_deleteWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    def _m_setWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = p
        return True

    def _m_setMyCommands(self, p: dict[str, Any]) -> Any:
        return True

    def _m_sendChatAction(self, p: dict[str, Any]) -> Any:
        return True

    def _m_answerCallbackQuery(self, p: dict[str, Any]) -> Any:
        return True

    async def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        offset = int(p.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        while not self._updates:
            left = deadline - time.monotonic()
            if left <= 0 or (self._server is not None and self._server.should_exit):
                break
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), left)
        batch = self._updates[: int(p.get("limit") or 100)]
        self.served.update(u["update_id"] for u in batch)
        return batch

    def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        chat_id = int(p["chat_id"])
        if chat_id in self.blocked:
            return _Error(403, "Forbidden: bot was blocked by the user")
        if not str(p.get("text") or "").strip():
            return _Error(400, "Bad Request: message text is empty")
        message = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": BOT_USER,
            "text": p["text"],
        }
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram echoes inline keyboards only
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _m_editMessageText(self, p: dict[str, Any]) -> Any:
        message = self.messages.get((int(p["chat_id"]), int(p["message_id"])))
        if message is None:
            return _Error(400, "Bad Request: message to edit not found")
        markup = p.get("reply_markup")
        if message["text"] == p["text"] and message.get("reply_markup") == markup:
            return _Error(400, "Bad Request: message is not modified")
        message["text"] = p["text"]
        _set_markup(message, markup)
        return message

    def _m_editMessageReplyMarkup(self, p: dict[str, Any]) -> Any:
        message = self.messages.get((int(p["chat_id"]), int(p["message_id"])))
        if message is None:
            return _Error(400, "Bad Request: message to edit not found")
        markup = p.get("reply_markup")
        if message.get("reply_markup") == markup:
            return _Error(400, "Bad Request: message is not modified")
        _set_markup(message, markup)
        return message

    def _m_getFile(self, p: dict[str, Any]) -> Any:
        file_id = p["file_id"]
        if file_id not in self.files:
            return _Error(400, "Bad Request: invalid file_id")
        data, path = self.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(data),
            "file_path": path,
        }

    # -- playing the user ----------------------------------------------------------------

    def fail_next_sends(self, n: int, *, retry_after: int = 1) -> None:
        """Answer the next ``n`` sendMessage calls with 429 and ``retry_after``."""
        self._fail_429 = n
        self._retry_after = retry_after

    def queue_recorded(self, update: dict[str, Any], *, chat_id: int) -> int:
        """Queue a recorded update (tests/data/telegram) for ``chat_id``: fresh ids, same shape."""
        body = json.loads(json.dumps(update))
        body.pop("update_id", None)
        for key in ("message", "edited_message", "my_chat_member"):
            inner = body.get(key)
            if not isinstance(inner, dict):
                continue
            inner["chat"]["id"] = chat_id
            if "from" in inner:
                inner["from"]["id"] = chat_id
            if "message_id" in inner and key == "message":
                inner["message_id"] = self._next_message_id(chat_id)
        return self.queue_update(body)

    def offset_confirmed(self, update_id: int) -> bool:
        """Whether the bot confirmed ``update_id`` (asked getUpdates for a later offset)."""
        return any(
            int(c.params.get("offset") or 0) > update_id for c in self.calls_of("getUpdates")
        )

    def queue_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update (``update_id`` is assigned); returns the id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._new_update.set()
        return update_id

    def make_message(
        self,
        chat_id: int,
        *,
        first_name: str = "Ani",
        user_id: int | None = None,
        chat_type: str = "private",
        **content: Any,
    ) -> dict[str, Any]:
        """A user's message dict (a new message id in the chat)."""
        uid = user_id if user_id is not None else abs(chat_id)
        return {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": _chat(chat_id, chat_type),
            "from": {"id": uid, "is_bot": False, "first_name": first_name, "language_code": "id"},
            **content,
        }

    def user_sends_text(self, chat_id: int, text: str, **kw: Any) -> int:
        """The user types ``text`` (a leading ``/command`` gets its bot_command entity)."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        message = self.make_message(chat_id, **kw, **content)
        self.queue_update({"message": message})
        return int(message["message_id"])

    def user_presses(self, chat_id: int, callback_data: str, message_id: int) -> str:
        """The user presses a button of the bot's message; returns the callback query id."""
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no bot message {message_id} in chat {chat_id}")
        cq_id = f"cq{next(self._ids)}"
        self.queue_update(
            {
                "callback_query": {
                    "id": cq_id,
                    "chat_instance": f"ci{chat_id}",
                    "data": callback_data,
                    "from": {"id": chat_id, "is_bot": False, "first_name": "Ani"},
                    "message": json.loads(json.dumps(message)),
                }
            }
        )
        return cq_id

    def _add_file(self, data: bytes, ext: str) -> str:
        file_id = f"F{next(self._ids)}"
        self.files[file_id] = (data, f"files/{file_id}{ext}")
        return file_id

    def user_sends_photo(self, chat_id: int, data: bytes, *, file_size: int | None = None) -> int:
        """The user sends a photo (a small thumbnail and the full size, as Telegram does)."""
        thumb = self._add_file(b"\xff\xd8\xff thumb", ".jpg")
        big = self._add_file(data, ".jpg")
        sizes = [
            {"file_id": thumb, "file_unique_id": f"u{thumb}", "width": 90, "height": 60,
             "file_size": 11},
            {"file_id": big, "file_unique_id": f"u{big}", "width": 1280, "height": 960,
             "file_size": file_size if file_size is not None else len(data)},
        ]  # fmt: skip
        message = self.make_message(chat_id, photo=sizes)
        self.queue_update({"message": message})
        return int(message["message_id"])

    def user_sends_voice(self, chat_id: int, data: bytes) -> int:
        """The user records a voice note (Ogg/Opus, as Telegram's apps send them)."""
        file_id = self._add_file(data, ".oga")
        voice = {"file_id": file_id, "file_unique_id": f"u{file_id}", "duration": 4,
                 "mime_type": "audio/ogg", "file_size": len(data)}  # fmt: skip
        message = self.make_message(chat_id, voice=voice)
        self.queue_update({"message": message})
        return int(message["message_id"])

    def user_sends_document(
        self,
        chat_id: int,
        data: bytes,
        *,
        mime: str,
        filename: str,
        file_size: int | None = None,
    ) -> int:
        """The user sends a file as a document."""
        file_id = self._add_file(data, "." + filename.rsplit(".", 1)[-1])
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": filename,
            "mime_type": mime,
            "file_size": file_size if file_size is not None else len(data),
        }
        message = self.make_message(chat_id, document=document)
        self.queue_update({"message": message})
        return int(message["message_id"])

    def user_shares_contact(
        self, chat_id: int, phone: str, *, contact_user_id: int | None = None
    ) -> int:
        """The user shares a contact card (their own unless ``contact_user_id`` says otherwise)."""
        contact: dict[str, Any] = {"phone_number": phone, "first_name": "Ani"}
        contact["user_id"] = chat_id if contact_user_id is None else contact_user_id
        message = self.make_message(chat_id, contact=contact)
        self.queue_update({"message": message})
        return int(message["message_id"])

    def user_sends_sticker(self, chat_id: int) -> int:
        """The user sends a sticker."""
        file_id = self._add_file(b"webp", ".webp")
        sticker = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        message = self.make_message(chat_id, sticker=sticker)
        self.queue_update({"message": message})
        return int(message["message_id"])

    # -- what the bot did ----------------------------------------------------------------

    def calls_of(self, method: str, *, since: int = 0) -> list[Call]:
        """Successful calls of ``method`` (from call index ``since``)."""
        return [c for c in self.calls[since:] if c.method == method and c.status == 200]

    def sent(self, chat_id: int, *, since: int = 0) -> list[dict[str, Any]]:
        """The sendMessage parameters the bot sent to ``chat_id`` successfully."""
        return [
            c.params
            for c in self.calls_of("sendMessage", since=since)
            if c.params["chat_id"] == chat_id
        ]

    def mark(self) -> int:
        """A position in the call log, for ``since=``."""
        return len(self.calls)

    async def wait_for(
        self, predicate: Callable[[], bool], *, within: float = 10.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` holds."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.01)

    async def wait_replies(
        self,
        chat_id: int,
        *,
        since: int = 0,
        at_least: int = 1,
        quiet: float = 0.15,
        within: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Messages sent to ``chat_id`` since ``since``, once the bot has gone quiet."""
        await self.wait_for(
            lambda: len(self.sent(chat_id, since=since)) >= at_least,
            within=within,
            what=f"{at_least} message(s) to {chat_id}",
        )
        while True:
            n = len(self.calls)
            await asyncio.sleep(quiet)
            if len(self.calls) == n:
                return self.sent(chat_id, since=since)

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)


@dataclass(frozen=True)
class _Error:
    code: int
    description: str


def _chat(chat_id: int, chat_type: str = "private") -> dict[str, Any]:
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": "Ani"}
    return {"id": chat_id, "type": chat_type, "title": "Grup Desa"}


def _set_markup(message: dict[str, Any], markup: Any) -> None:
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


async def _params(request: Request) -> dict[str, Any]:
    """The request's parameters, from a query string, a form, multipart or JSON."""
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    params: dict[str, Any] = dict(request.query_params)
    if ctype.startswith("application/json") and body:
        params.update(json.loads(body))
    elif ctype.startswith("multipart/form-data"):
        raw = b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if part.get_filename() is None and isinstance(payload, bytes):
                params[str(name)] = payload.decode()
            else:
                params[str(name)] = payload
    elif body:
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
    for key in JSON_PARAMS:
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    for key in INT_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            params[key] = int(value)
    return params
