"""The one web server runner: uvicorn inside the caller's event loop.

Every command that needs HTTP (webhooks, ``/healthz``) runs one ``WebServer`` built by the
composition root (``lingkaran.app``). Signals stay with the caller, which stops every part in
order; the lifespan protocol is off because the caller owns start-up and shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

__all__ = ["WebServer"]

START_TIMEOUT = 10.0


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
    ) -> None:
        self.app = Starlette(routes=list(routes))
        self._server = _Server(
            uvicorn.Config(
                self.app,
                host=host,
                port=port,
                log_config=None,
                log_level=log_level,
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
