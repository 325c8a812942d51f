"""Work that must happen once across instances sharing one database (sweeps, the poller)."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from lingkaran_core.storage import Database, lease_repo

__all__ = ["instance_id", "release", "take"]


def instance_id() -> str:
    """A name for this process among the instances: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def take(db: Database, name: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take (or renew) the lease ``name`` for ``ttl``; False while another instance holds it."""
    async with db.tx() as tx:
        return await lease_repo.try_acquire(tx, name, holder, now=now, until=now + ttl)


async def release(db: Database, name: str, holder: str) -> None:
    """Give the lease up early (a clean stop), so another instance need not wait for it."""
    async with db.tx() as tx:
        await lease_repo.release(tx, name, holder)
