"""A local imitation of the WhatsApp Cloud API (Graph API) on 127.0.0.1, for offline tests.

It checks what Meta would reject (TECH.md §3 limits: 1-3 buttons with titles <= 20, lists of <= 10
rows with titles <= 24 and descriptions <= 72, list button <= 20, bodies <= 1024 / 4096, template
parameter counts and characters) and answers with a Graph-style error, so a test fails when our
adapter builds a message the real API would refuse. Error answers can be scripted per call.
Everything received is recorded.

Addressing as the Cloud API has it since the business-scoped user ids (2026): ``to`` is a phone
number, ``recipient`` a BSUID (``ID.1502576394655843``) or a parent BSUID (``ID.ENT.…``); with
both, ``to`` wins (Meta's and its partners' docs); a BSUID in ``to`` or a number in
``recipient`` is refused. The answer's ``contacts`` name the input and, where the fake knows it
(``users``: number -> BSUID), the other id, as Meta's do.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TEMPLATES = (
    Path(__file__).resolve().parents[2]
    / "lingkaran"
    / "channels"
    / "data"
    / "whatsapp_templates.json"
)


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGraph:
    """The fake API's state: media it serves, scripted failures, and what it received."""

    token: str = "test-token"
    phone_number_id: str = "1122334455667"
    version: str = "v21.0"
    requests: list[Recorded] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # Scripted answers for the next POST /messages calls: (http status, graph error code | None).
    failures: list[tuple[int, int | None]] = field(default_factory=list)
    base_url: str = ""
    # WhatsApp users the fake knows: phone digits -> BSUID (for the answers' ``contacts``).
    users: dict[str, str] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- what tests look at --------------------------------------------------------------

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Bodies of the messages accepted (status 200), in order."""
        return [
            r.body
            for r in self.requests
            if r.method == "POST" and r.path.endswith("/messages") and r.body.get("_accepted")
        ]

    @staticmethod
    def addressee(m: dict[str, Any]) -> str:
        """Who an accepted message went to: its ``to`` (a number), else its ``recipient``."""
        return str(m.get("to") or m.get("recipient") or "")

    def sent_to(self, address: str) -> list[dict[str, Any]]:
        """The accepted messages addressed to a number or a BSUID."""
        return [m for m in self.sent if self.addressee(m) == address]

    def texts(self) -> list[str]:
        """The visible text of every accepted message (body text of interactive ones)."""
        out: list[str] = []
        for m in self.sent:
            if m["type"] == "text":
                out.append(m["text"]["body"])
            elif m["type"] == "interactive":
                out.append(m["interactive"]["body"]["text"])
            elif m["type"] == "template":
                out.append("TEMPLATE " + m["template"]["name"])
        return out

    def clear(self) -> None:
        """Forget what was received."""
        self.requests.clear()

    def add_media(self, media_id: str, data: bytes, mime: str) -> None:
        """Serve a user's file under ``media_id``."""
        self.media[media_id] = (data, mime)

    def fail_next(self, http_status: int, code: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` message sends with this error."""
        self.failures.extend([(http_status, code)] * times)

    # -- the API -------------------------------------------------------------------------

    def _auth_ok(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    @staticmethod
    def _error(status: int, code: int, message: str) -> JSONResponse:
        return JSONResponse(
            {
                "error": {
                    "message": message,
                    "type": "OAuthException",
                    "code": code,
                    "error_data": {"messaging_product": "whatsapp", "details": message},
                    "fbtrace_id": "fake",
                }
            },
            status_code=status,
        )

    async def messages(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        rec = Recorded("POST", request.url.path, dict(request.headers), body)
        self.requests.append(rec)
        if not self._auth_ok(request):
            return self._error(401, 190, "Invalid OAuth access token")
        if request.path_params["version"] != self.version or (
            request.path_params["pnid"] != self.phone_number_id
        ):
            return self._error(400, 100, "Unknown path")
        problem = validate_message(body)
        if problem:
            return self._error(400, 100, f"(#100) Invalid parameter: {problem}")
        if self.failures:
            status, code = self.failures.pop(0)
            if code is None:
                return JSONResponse({"error": {"message": "boom"}}, status_code=status)
            return self._error(status, code, f"scripted error {code}")
        body["_accepted"] = True
        wamid = f"wamid.{next(self._ids)}"
        body["_wamid"] = wamid
        if body.get("to"):
            digits = re.sub(r"\D", "", str(body["to"]))
            contact = {"input": body["to"], "wa_id": digits}
            if digits in self.users:
                contact["user_id"] = self.users[digits]
        else:
            contact = {"input": body["recipient"], "user_id": body["recipient"]}
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [contact],
                "messages": [{"id": wamid}],
            }
        )

    async def media_meta(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        self.requests.append(Recorded("GET", request.url.path, dict(request.headers), None))
        if not self._auth_ok(request):
            return self._error(401, 190, "Invalid OAuth access token")
        if media_id not in self.media:
            return self._error(400, 100, "media not found")
        data, mime = self.media[media_id]
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/download/{media_id}?ext=1",
                "mime_type": mime,
                "sha256": "fake",
                "file_size": len(data),
                "id": media_id,
            }
        )

    async def download(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        self.requests.append(Recorded("GET", request.url.path, dict(request.headers), None))
        if not self._auth_ok(request):
            return Response(status_code=401)
        data, mime = self.media[media_id]
        return Response(data, media_type=mime)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/{version}/{pnid}/messages", self.messages, methods=["POST"]),
                Route("/download/{media_id}", self.download, methods=["GET"]),
                Route("/{version}/{media_id}", self.media_meta, methods=["GET"]),
            ]
        )


_TEMPLATE_PARAMS: dict[tuple[str, str], int] = {}


def _template_param_counts() -> dict[tuple[str, str], int]:
    if not _TEMPLATE_PARAMS:
        data = json.loads(TEMPLATES.read_text(encoding="utf-8"))
        for name, spec in data["templates"].items():
            for code, lang in spec["languages"].items():
                _TEMPLATE_PARAMS[(name, code)] = len(
                    set(re.findall(r"\{\{(\d+)\}\}", lang["text"]))
                )
    return _TEMPLATE_PARAMS


BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
PHONE = re.compile(r"\+?[0-9][0-9 ()-]{0,24}")


def validate_message(body: Any) -> str | None:
    """What the Cloud API would refuse in a ``POST /messages`` body, or None."""
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return "messaging_product"
    to, recipient = body.get("to"), body.get("recipient")
    if not to and not recipient:
        return "to or recipient"
    if to and (not isinstance(to, str) or BSUID.fullmatch(to) or not PHONE.fullmatch(to)):
        return f"to {to!r} is not a phone number"
    if not to and (not isinstance(recipient, str) or not BSUID.fullmatch(recipient)):
        return f"recipient {recipient!r} is not a business-scoped user id"
    kind = body.get("type")
    if kind == "text":
        text = body.get("text", {}).get("body", "")
        if not text or len(text) > 4096:
            return f"text.body length {len(text)}"
        return None
    if kind == "interactive":
        it = body.get("interactive", {})
        text = it.get("body", {}).get("text", "")
        if not text or len(text) > 1024:
            return f"interactive.body length {len(text)}"
        action = it.get("action", {})
        if it.get("type") == "button":
            buttons = action.get("buttons", [])
            if not 1 <= len(buttons) <= 3:
                return f"{len(buttons)} buttons"
            titles = [b["reply"]["title"] for b in buttons]
            if len(set(titles)) != len(titles):
                return "duplicate button titles"
            for b in buttons:
                if not 1 <= len(b["reply"]["title"]) <= 20:
                    return f"button title {b['reply']['title']!r}"
                if not 1 <= len(b["reply"]["id"]) <= 256:
                    return "button id length"
            return None
        if it.get("type") == "list":
            label = action.get("button", "")
            if not 1 <= len(label) <= 20:
                return f"list button {label!r}"
            sections = action.get("sections", [])
            if not 1 <= len(sections) <= 10:
                return "sections"
            if len(sections) > 1 and any(not s.get("title") for s in sections):
                return "section title required"
            rows = [r for s in sections for r in s.get("rows", [])]
            if not 1 <= len(rows) <= 10:
                return f"{len(rows)} rows"
            for r in rows:
                if not 1 <= len(r["title"]) <= 24:
                    return f"row title {r['title']!r}"
                if len(r.get("description", "")) > 72:
                    return "row description length"
                if not 1 <= len(r["id"]) <= 200:
                    return "row id length"
            return None
        return "interactive.type"
    if kind == "template":
        tmpl = body.get("template", {})
        key = (tmpl.get("name"), tmpl.get("language", {}).get("code"))
        counts = _template_param_counts()
        if key not in counts:
            return f"template {key} does not exist"  # real API: 132001
        params = [
            p for c in tmpl.get("components", []) if c["type"] == "body" for p in c["parameters"]
        ]
        if len(params) != counts[key]:
            return f"template parameter count {len(params)} != {counts[key]}"  # real: 132000
        for p in params:
            text = p.get("text", "")
            if not text or "\n" in text or "\t" in text or "     " in text:
                return f"template parameter text {text!r}"  # real: 132018
        return None
    return f"type {kind!r}"


@asynccontextmanager
async def running(graph: FakeGraph | None = None) -> AsyncIterator[FakeGraph]:
    """Serve a FakeGraph on 127.0.0.1 (random port) for the duration of the block."""
    graph = graph or FakeGraph()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    graph.base_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(graph.app(), log_config=None, lifespan="off", access_log=False)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):  # uvicorn offers a flag, not an event, for "started"
            if server.started:
                break
            await asyncio.sleep(0.01)
        yield graph
    finally:
        server.should_exit = True
        await task
        sock.close()
