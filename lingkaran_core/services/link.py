"""Linking a chat to a worker (NIK + date of birth), with a brute-force cool-down."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

from lingkaran_core.errors import NotFound, RateLimited
from lingkaran_core.services.notify import audit
from lingkaran_core.storage import link_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import Worker, worker_by_nik

MAX_LINK_FAILURES = 5
LOCKOUT = timedelta(minutes=30)
FAILURE_MEMORY = timedelta(hours=24)


def _nik_key(nik: str) -> str:
    return "nik:" + hashlib.sha256(nik.encode()).hexdigest()[:32]


async def link_locked_until(
    tx: Tx, *, chat_id: int, nik: str | None, now: datetime
) -> datetime | None:
    """When the chat (or the NIK, across channels) may try again, if locked now."""
    keys = [f"chat:{chat_id}"] + ([_nik_key(nik)] if nik else [])
    latest: datetime | None = None
    for key in keys:
        until = await link_repo.locked_until(tx, key)
        if until:
            when = datetime.fromisoformat(until)
            if when > now and (latest is None or when > latest):
                latest = when
    return latest


async def _fail(tx: Tx, key: str, now: datetime) -> datetime | None:
    row = await link_repo.attempts(tx, key)
    failures = (row["failures"] if row else 0) + 1
    if row is not None and now - datetime.fromisoformat(row["updated_at"]) > FAILURE_MEMORY:
        failures = 1  # old mistakes are forgotten after a day; repeat lockouts still double
    lockouts = row["lockouts"] if row else 0
    locked_until: datetime | None = None
    if failures >= MAX_LINK_FAILURES:
        # 30 minutes, doubling on every repeat lockout.
        locked_until = now + LOCKOUT * (2**lockouts)
        lockouts += 1
        failures = 0
    await link_repo.save_attempts(
        tx, key, failures=failures, lockouts=lockouts, locked_until=locked_until, now=now
    )
    return locked_until


async def link_account(
    tx: Tx, *, chat_id: int, nik: str, birth_date: date, now: datetime, channel: str
) -> Worker:
    """Link a chat to the worker with this NIK and birth date; never says which part was wrong."""
    locked = await link_locked_until(tx, chat_id=chat_id, nik=nik, now=now)
    if locked is not None:
        raise RateLimited("link.locked", until=locked.isoformat())
    worker = await worker_by_nik(tx, nik)
    if worker is None or worker.birth_date != birth_date:
        until_chat = await _fail(tx, f"chat:{chat_id}", now)
        until_nik = await _fail(tx, _nik_key(nik), now)
        await audit(
            tx,
            now=now,
            actor_kind="chat",
            actor_id=chat_id,
            action="link.failed",
            channel=channel,
        )
        until = max((u for u in (until_chat, until_nik) if u is not None), default=None)
        if until is not None:
            raise RateLimited("link.locked", until=until.isoformat())
        raise NotFound("link.no_match")
    await link_repo.clear(tx, f"chat:{chat_id}", _nik_key(nik))
    await link_repo.link_chat(tx, chat_id, worker.id)
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="link.ok",
        target_kind="worker",
        target_id=worker.id,
        channel=channel,
    )
    return worker
