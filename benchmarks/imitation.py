"""Channel API imitations with simulated users, for ``bench_outbound`` (one process each).

``python -m benchmarks.imitation telegram|whatsapp --config JSON`` serves, on 127.0.0.1, a Bot
API (or a Graph API) imitation that enforces the channel's limits, plays the users, measures,
and prints JSON lines on stdout: ``PORT n`` first, then ``EVENT {...}`` (``ready``, ``served``)
and finally ``RESULT {...}``. The bot under test is a separate process pointed at it (any
version of the bot: the benchmark runs today's design from the baseline commit's tree too).

HTTP is served by a small HTTP/1.1 server on asyncio streams (keep-alive, Content-Length
bodies): fast enough that the imitation is never what limits a contender on a 2-core machine.

Telegram (``TelegramWorld``):

* limits (when ``limits`` is on): budgeted calls (``send*`` but ``sendChatAction``, ``edit*``)
  at most 30 in any one-second window, and per chat a bucket of 20 refilled at 1/s; beyond
  either, 429 with ``retry_after`` (whole seconds);
* users: each follows a script (self-screening or a JKK report, as ``bench_ptb``), pressing the
  numbered button when the bot's newest message offers one and typing otherwise; the next step
  comes ``think`` seconds (uniform) after the first message of the answer, or - flat out - 30 ms
  after the answer went quiet;
* measured: reply latency (update available -> the first accepted message to that chat), 429s
  (all, and within the first second), broadcast messages (text with ``PENGUMUMAN``) and other
  budgeted calls accepted inside the window, steps completed;
* ``backlog``: 1,000 users' ``/start`` queued at once when the bot first polls; ``served`` is
  printed when the bot has fetched them all; the result comes when every one was answered (or
  ``timeout``), across restarts of the bot.

WhatsApp (``GraphWorld``): ``POST /{version}/{number}/messages`` at most 80 in any one-second
window, else error 130429 (HTTP 400, as Graph answers throughput errors); users post signed
webhooks (typed answers) to the bot's ``/webhook/whatsapp``; reply latency from the webhook's
200 to the first accepted message to that user.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import math
import random
import statistics
import sys
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

Handler = Callable[[str, str, dict[bytes, bytes], bytes], Awaitable[tuple[int, bytes]]]

ELIGIBILITY = ["menu", "5", "2", "47", "puger kulun", "1", "3", "2", "3", "2"]
JKK = [
    "menu",
    "2",
    "2",
    "3509271505780001",
    "2",
    "3",
    "gudang tembakau di sukoreno",
    "2",
    "jatuh dari tangga, kaki patah",
    "2",
    "rsd soebandi",
    "081234567890",
    "1",
    "1",
]
BROADCAST_MARK = "PENGUMUMAN"
JSON_PARAMS = ("reply_markup", "allowed_updates", "commands", "link_preview_options")
BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Lingkaran Cinta", "username": "lc_bot"}
STATUS_TEXT = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 429: b"Too Many Requests"}


def emit(kind: str, data: Any) -> None:
    """One line for the parent."""
    print(f"{kind} {json.dumps(data)}", flush=True)


# ---------------------------------------------------------------------------------------------
# HTTP


class HttpServer:
    """HTTP/1.1 with keep-alive and Content-Length bodies, on asyncio streams."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._conn, "127.0.0.1", port, backlog=512)
        return int(self.server.sockets[0].getsockname()[1])

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                method, target, _version = lines[0].split(b" ", 2)
                headers: dict[bytes, bytes] = {}
                for line in lines[1:]:
                    if b":" in line:
                        k, v = line.split(b":", 1)
                        headers[k.strip().lower()] = v.strip()
                n = int(headers.get(b"content-length", b"0") or 0)
                body = await reader.readexactly(n) if n else b""
                status, payload = await self.handler(
                    method.decode(), target.decode(), headers, body
                )
                writer.write(
                    b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    % (status, STATUS_TEXT.get(status, b"X"), len(payload))
                    + payload
                )
                if writer.transport.get_write_buffer_size() > 65536:
                    await writer.drain()
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            asyncio.LimitOverrunError,
            ValueError,
        ):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


def params_of(headers: dict[bytes, bytes], body: bytes, query: str) -> dict[str, Any]:
    """Bot API parameters from JSON or a form (JSON-valued fields decoded)."""
    params: dict[str, Any] = dict(parse_qsl(query))
    ctype = headers.get(b"content-type", b"")
    if body and ctype.startswith(b"application/json"):
        params.update(json.loads(body))
    elif body:
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
    for key in JSON_PARAMS:
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    for key in ("chat_id", "message_id", "offset", "limit", "timeout"):
        value = params.get(key)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            params[key] = int(value)
    return params


# ---------------------------------------------------------------------------------------------
# Limits


@dataclass
class Limits:
    """At most ``overall`` per ``window`` seconds; per chat a bucket (``chat_burst``, ``chat_rate``)."""

    overall: int = 30
    window: float = 1.0
    chat_burst: float = 20.0
    chat_rate: float = 1.0
    _recent: deque[float] = field(default_factory=deque)
    _chats: dict[Any, tuple[float, float]] = field(default_factory=dict)

    def check(self, chat: Any, now: float) -> int | None:
        """None when the call may go (and it is counted), else retry_after seconds."""
        recent = self._recent
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.overall:
            return max(1, math.ceil(recent[0] + self.window - now))
        if chat is not None and self.chat_burst > 0:
            tokens, at = self._chats.get(chat, (self.chat_burst, now))
            tokens = min(self.chat_burst, tokens + (now - at) * self.chat_rate)
            if tokens < 1:
                self._chats[chat] = (tokens, now)
                return max(1, math.ceil((1 - tokens) / self.chat_rate))
            self._chats[chat] = (tokens - 1, now)
        recent.append(now)
        return None


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


# ---------------------------------------------------------------------------------------------
# Telegram


@dataclass
class TgUser:
    chat_id: int
    script: list[str]
    step: int = 0
    waiting_since: float | None = None  # the update is available since then
    keyboard: tuple[int, list[dict[str, Any]], str] | None = None
    timer: asyncio.TimerHandle | None = None
    first_reply: float | None = None


class TelegramWorld:
    """The Bot API imitation and its users (see the module docstring)."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.limits = Limits() if cfg.get("limits", True) else None
        self.rng = random.Random(cfg.get("seed", 7))
        self.users: dict[int, TgUser] = {}
        self.updates: list[dict[str, Any]] = []
        self.new_update = asyncio.Event()
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(100)
        self.calls: Counter[str] = Counter()
        self.throttled: list[float] = []
        self.throttled_users = 0
        self.broadcast: list[float] = []
        self.other_budgeted: list[float] = []
        self.latencies: list[tuple[float, float]] = []  # (when the update came, latency)
        self.steps: list[float] = []  # when a step's answer came
        self.ready_at: float | None = None
        self.served_ids: set[int] = set()
        self.backlog_ids: set[int] = set()
        self.backlog_ids_chats: set[int] = set()
        self.answered: set[int] = set()
        self.done = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    # -- the API -------------------------------------------------------------------------

    async def handle(
        self, method: str, target: str, headers: dict[bytes, bytes], body: bytes
    ) -> tuple[int, bytes]:
        path, _, query = target.partition("?")
        if path.startswith("/file/"):
            return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
        name = path.rsplit("/", 1)[-1]
        p = params_of(headers, body, query)
        now = self.loop.time()
        self.calls[name] += 1
        budgeted = name.startswith(("send", "edit", "copy", "forward")) and name != "sendChatAction"
        if budgeted and self.limits is not None:
            retry = self.limits.check(p.get("chat_id"), now)
            if retry is not None:
                self.throttled.append(now)
                self.throttled_users += p.get("chat_id") in self.users
                return 429, json.dumps(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {retry}",
                        "parameters": {"retry_after": retry},
                    }
                ).encode()
        result: Any = True
        if name == "getMe":
            result = BOT_USER
        elif name == "getUpdates":
            result = await self._get_updates(p)
        elif name in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            result = self._message(name, p, now)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    async def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self.ready_at is None:
            self.ready_at = self.loop.time()
            emit("EVENT", {"ready": True})
            self.loop.call_soon(self._begin)
        offset = int(p.get("offset") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = self.loop.time() + float(p.get("timeout") or 0)
        while not self.updates:
            left = deadline - self.loop.time()
            if left <= 0:
                break
            self.new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.new_update.wait(), left)
        batch = self.updates[: int(p.get("limit") or 100)]
        if self.backlog_ids:
            before = len(self.served_ids)
            self.served_ids.update(
                u["update_id"] for u in batch if u["update_id"] in self.backlog_ids
            )
            if before < len(self.backlog_ids) <= len(self.served_ids):
                emit("EVENT", {"served": len(self.served_ids)})
        return batch

    def _message(self, name: str, p: dict[str, Any], now: float) -> dict[str, Any]:
        chat = int(p.get("chat_id") or 0)
        mid = next(self.message_ids) if name == "sendMessage" else int(p.get("message_id") or 0)
        text = str(p.get("text") or "")
        result: dict[str, Any] = {
            "message_id": mid,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": BOT_USER,
            "text": text,
        }
        markup = p.get("reply_markup")
        inline = isinstance(markup, dict) and isinstance(markup.get("inline_keyboard"), list)
        if inline:
            result["reply_markup"] = markup
        if BROADCAST_MARK in text:
            self.broadcast.append(now)
            return result
        self.other_budgeted.append(now)
        user = self.users.get(chat)
        if user is not None and name == "sendMessage":
            if inline:
                buttons = [b for row in markup["inline_keyboard"] for b in row]
                user.keyboard = (mid, buttons, text)
            self._answer(user, now)
        if chat in self.backlog_ids_chats:
            self.answered.add(chat)
            if len(self.answered) >= len(self.backlog_ids_chats):
                self.done.set()
        return result

    # -- the users -----------------------------------------------------------------------

    def _begin(self) -> None:
        cfg = self.cfg
        if cfg.get("backlog"):
            chats = [2_000_001 + i for i in range(int(cfg["backlog"]))]
            self.backlog_ids_chats = set(chats)
            for chat in chats:
                uid = self._queue(self._text(chat, "/start"))
                self.backlog_ids.add(uid)
            return
        think = cfg.get("think", [4.0, 6.0])
        for i in range(int(cfg.get("users", 100))):
            chat = 1_000_001 + i
            user = self.users[chat] = TgUser(chat, ELIGIBILITY if i % 2 else JKK)
            delay = self.rng.uniform(0, think[1]) if think[1] > 0 else self.rng.uniform(0, 0.5)
            user.timer = self.loop.call_later(delay, self._act, user)
        self.loop.call_later(cfg["warmup"] + cfg["duration"], self.done.set)

    def _answer(self, user: TgUser, now: float) -> None:
        if user.waiting_since is not None:
            self.latencies.append((user.waiting_since, now - user.waiting_since))
            self.steps.append(now)
            user.waiting_since = None
            user.first_reply = now
            think = self.cfg.get("think", [4.0, 6.0])
            if think[1] > 0:
                user.timer = self.loop.call_later(self.rng.uniform(*think), self._act, user)
                return
        if self.cfg.get("think", [4.0, 6.0])[1] <= 0:
            # Flat out: the next step once the answer went quiet.
            if user.timer is not None:
                user.timer.cancel()
            user.timer = self.loop.call_later(0.03, self._act, user)

    def _act(self, user: TgUser) -> None:
        user.timer = None
        if user.waiting_since is not None:
            return
        answer = user.script[user.step % len(user.script)]
        user.step += 1
        kb = user.keyboard
        user.keyboard = None
        if kb is not None and answer.isdigit() and 1 <= int(answer) <= len(kb[1]):
            mid, buttons, text = kb
            update = {
                "callback_query": {
                    "id": f"cb{next(self.update_ids)}",
                    "chat_instance": f"ci{user.chat_id}",
                    "from": self._from(user.chat_id),
                    "data": buttons[int(answer) - 1]["callback_data"],
                    "message": {
                        "message_id": mid,
                        "date": int(time.time()),
                        "chat": {"id": user.chat_id, "type": "private"},
                        "from": BOT_USER,
                        "text": text,
                        "reply_markup": {"inline_keyboard": [[b] for b in buttons]},
                    },
                }
            }
        else:
            update = self._text(user.chat_id, answer)
        user.waiting_since = self.loop.time()
        self._queue(update)

    def _from(self, chat: int) -> dict[str, Any]:
        return {"id": chat, "is_bot": False, "first_name": f"U{chat}", "language_code": "id"}

    def _text(self, chat: int, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self.message_ids),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": self._from(chat),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        return {"message": message}

    def _queue(self, update: dict[str, Any]) -> int:
        uid = next(self.update_ids)
        self.updates.append({"update_id": uid, **update})
        self.new_update.set()
        return uid

    # -- the figures ---------------------------------------------------------------------

    def result(self) -> dict[str, Any]:
        cfg = self.cfg
        t0 = self.ready_at or 0.0
        lo, hi = t0 + cfg.get("warmup", 0.0), t0 + cfg.get("warmup", 0.0) + cfg.get("duration", 0.0)
        lat = [v for at, v in self.latencies if lo <= at < hi]
        return {
            "calls": dict(self.calls),
            "throttled": len(self.throttled),
            "throttled_first_second": sum(1 for t in self.throttled if t < t0 + 1.0),
            "throttled_replies": self.throttled_users,
            "broadcast_in_window": sum(1 for t in self.broadcast if lo <= t < hi),
            "broadcast_total": len(self.broadcast),
            "other_budgeted_in_window": sum(1 for t in self.other_budgeted if lo <= t < hi),
            "steps_in_window": sum(1 for t in self.steps if lo <= t < hi),
            "window": hi - lo,
            "p50": pct(lat, 0.5),
            "p99": pct(lat, 0.99),
            "mean": statistics.fmean(lat) if lat else None,
            "replies": len(lat),
            "answered": len(self.answered),
            "backlog": len(self.backlog_ids_chats),
        }


# ---------------------------------------------------------------------------------------------
# WhatsApp


class GraphWorld:
    """The Graph API imitation and WhatsApp users posting signed webhooks."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        import httpx

        self.cfg = cfg
        self.limits = Limits(overall=int(cfg.get("rate", 80)), chat_burst=0)
        self.rng = random.Random(cfg.get("seed", 7))
        self.loop = asyncio.get_running_loop()
        self.client = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=64))
        self.waiting: dict[str, float] = {}
        self.steps: dict[str, int] = {}
        self.latencies: list[tuple[float, float]] = []
        self.broadcast: list[float] = []
        self.other: list[float] = []
        self.throttled: list[float] = []
        self.ids = itertools.count(1)
        self.started_at: float | None = None
        self.tasks: set[asyncio.Future[None]] = set()
        self.done = asyncio.Event()

    async def handle(
        self, method: str, target: str, headers: dict[bytes, bytes], body: bytes
    ) -> tuple[int, bytes]:
        now = self.loop.time()
        if not target.split("?")[0].endswith("/messages"):
            return 404, b'{"error":{"code":100,"message":"not here"}}'
        if self.limits.check(None, now) is not None:
            self.throttled.append(now)
            return 400, json.dumps(
                {"error": {"code": 130429, "message": "Rate limit hit", "type": "OAuthException"}}
            ).encode()
        data = json.loads(body or b"{}")
        to = str(data.get("to") or "")
        text = json.dumps(data, ensure_ascii=False)
        if BROADCAST_MARK in text:
            self.broadcast.append(now)
        else:
            self.other.append(now)
            since = self.waiting.pop(to, None)
            if since is not None:
                self.latencies.append((since, now - since))
                self.loop.call_later(self.rng.uniform(*self.cfg["think"]), self._spawn_act, to)
        return 200, json.dumps(
            {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.B{next(self.ids)}"}]}
        ).encode()

    def begin(self) -> None:
        self.started_at = self.loop.time()
        for i in range(int(self.cfg["users"])):
            user = f"62812{i:07d}"
            self.steps[user] = 0
            self.loop.call_later(self.rng.uniform(0, self.cfg["think"][1]), self._spawn_act, user)
        self.loop.call_later(self.cfg["warmup"] + self.cfg["duration"], self.done.set)

    def _spawn_act(self, user: str) -> None:
        task = asyncio.ensure_future(self._act(user))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _act(self, user: str) -> None:
        script = ["halo", *ELIGIBILITY[1:]]
        step = self.steps[user]
        self.steps[user] = step + 1
        text = script[step % len(script)]
        msg_id = f"wamid.U{user}.{step}"
        payload = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "WABA",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550001234",
                                    "phone_number_id": self.cfg["phone_number_id"],
                                },
                                "contacts": [{"profile": {"name": "Ani"}, "wa_id": user}],
                                "messages": [
                                    {
                                        "from": user,
                                        "id": msg_id,
                                        "timestamp": str(int(time.time())),
                                        "type": "text",
                                        "text": {"body": text},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
        raw = json.dumps(payload).encode()
        sig = "sha256=" + hmac.new(self.cfg["app_secret"].encode(), raw, hashlib.sha256).hexdigest()
        try:
            resp = await self.client.post(
                self.cfg["webhook"],
                content=raw,
                headers={"content-type": "application/json", "x-hub-signature-256": sig},
            )
        except Exception:
            self.loop.call_later(1.0, self._spawn_act, user)
            return
        if resp.status_code == 200:
            self.waiting[user] = self.loop.time()

    def result(self) -> dict[str, Any]:
        t0 = self.started_at or 0.0
        lo, hi = t0 + self.cfg["warmup"], t0 + self.cfg["warmup"] + self.cfg["duration"]
        lat = [v for at, v in self.latencies if lo <= at < hi]
        return {
            "throttled": len(self.throttled),
            "broadcast_in_window": sum(1 for t in self.broadcast if lo <= t < hi),
            "other_in_window": sum(1 for t in self.other if lo <= t < hi),
            "window": hi - lo,
            "p50": pct(lat, 0.5),
            "p99": pct(lat, 0.99),
            "replies": len(lat),
        }


# ---------------------------------------------------------------------------------------------


async def _main(kind: str, cfg: dict[str, Any]) -> None:
    from lingkaran.channels import httpfix

    httpfix.install()
    world: Any = TelegramWorld(cfg) if kind == "telegram" else GraphWorld(cfg)
    server = HttpServer(world.handle)
    port = await server.start(int(cfg.get("port", 0)))
    emit("PORT", port)
    if kind == "whatsapp":
        # The bot's webhook answers once it is up: wait for it, then begin.
        while True:
            try:
                r = await world.client.get(cfg["webhook"].rsplit("/", 2)[0] + "/healthz")
                if r.status_code < 500:
                    break
            except Exception:
                pass
            await asyncio.sleep(0.1)
        emit("EVENT", {"ready": True})
        world.begin()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(world.done.wait(), timeout=float(cfg.get("timeout", 300)))
    emit("RESULT", world.result())
    await asyncio.sleep(float(cfg.get("linger", 0.5)))


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], json.loads(sys.argv[2])))
