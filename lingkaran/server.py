"""The one web server runner: uvicorn inside the caller's event loop.

Every command that needs HTTP (webhooks, ``/healthz``) runs one ``WebServer`` built by the
composition root (``lingkaran.app``). Signals stay with the caller, which stops every part in
order; the lifespan protocol is off because the caller owns start-up and shutdown.

Two edges are held here for every route: no request body larger than ``max_body_bytes`` reaches
a route (413 on a larger ``Content-Length`` before anything is read; a chunked body is cut off
when it passes the limit: the route sees the client disconnect), and uvicorn's access log is
off, because a request line carries its query string (Meta's handshake puts the webhook verify
token there) and no secret may reach a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator, Mapping, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["WebServer"]

START_TIMEOUT = 10.0
MAX_BODY_BYTES = 1024 * 1024


class BodyLimit:
    """ASGI middleware: no HTTP request body over ``limit`` bytes gets through."""

    def __init__(
        self, app: ASGIApp, limit: int, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        # Exact paths allowed a larger body (the console's roster upload), never the webhooks.
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope.get("path", ""), self.limit)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = True
                if too_big:
                    await _plain(send, 413)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Stop reading: to the route the client went away mid-body.
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, limited, send)


async def _plain(send: Send, status: int) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The caller installs one handler that stops everything, not uvicorn.
        yield


class WebServer:
    """Serve ``routes`` on ``host:port`` until ``stop()``; ``port=0`` picks a free port."""

    def __init__(
        self,
        routes: Sequence[BaseRoute],
        *,
        host: str,
        port: int,
        graceful_shutdown: float = 1.0,
        log_level: str = "warning",
        max_body_bytes: int = MAX_BODY_BYTES,
        path_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = Starlette(routes=list(routes))
        self._server = _Server(
            uvicorn.Config(
                BodyLimit(self.app, max_body_bytes, path_limits),
                host=host,
                port=port,
                log_config=None,
                log_level=log_level,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=int(max(1, graceful_shutdown)),
            )
        )
        self._task: asyncio.Task[None] | None = None
        self.host = host

    @property
    def port(self) -> int:
        """The bound port (after ``start``)."""
        servers: Any = self._server.servers
        if servers:
            return int(servers[0].sockets[0].getsockname()[1])
        return int(self._server.config.port)

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The serving task (done when the server failed or stopped)."""
        return self._task

    async def start(self) -> None:
        """Bind and start serving; raises if the port cannot be bound."""
        self._task = asyncio.create_task(self._server.serve(), name="uvicorn")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while not self._server.started:
            if self._task.done():
                self._task.result()  # the port was taken: surface the error
                raise OSError(f"web server on {self.host} did not start")
            if loop.time() > deadline:
                raise TimeoutError("web server did not start in time")
            await asyncio.sleep(0.01)

    async def stop(self, wait: float = 1.5) -> None:
        """Stop accepting, finish requests for up to ``wait`` seconds."""
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout=wait)
            if not self._task.done():
                self._server.force_exit = True
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
            self._task = None
