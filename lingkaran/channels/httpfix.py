"""A cheap failed import of ``sniffio`` for httpcore (every httpx request of the bot).

httpcore 1.0.9 asks which async library runs by importing ``sniffio`` inside
``current_async_library()``, on every lock, semaphore and event it creates: four times per
request. anyio 4.11+ no longer depends on sniffio, and Python does not cache a failed import:
each one searches the whole ``sys.path`` again, about 1 ms of a request that otherwise costs
~0.3 ms (encode/httpcore discussion #1102, pull request #1103). So sniffio is a declared
dependency (pyproject.toml): installed, httpcore's import is a ``sys.modules`` hit.

This module is the fallback for an environment installed without it (a venv made before the
dependency was declared, or a distribution package set): marking the module absent in
``sys.modules`` makes the import fail at once; httpcore then uses asyncio, as it would anyway.
A no-op when sniffio is installed; nothing here imports sniffio.
"""

from __future__ import annotations

import importlib.util
import sys


def install() -> None:
    """Make ``import sniffio`` fail at once when it is not installed."""
    if "sniffio" in sys.modules:
        return
    if importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


install()
