"""The audit log and the outbox: what every use case writes besides its own records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lingkaran_core.storage import audit_repo, queue_repo
from lingkaran_core.storage.db import Tx

ADMIN_CHANNEL = "admin"
ADMIN_QUEUE = "opd"


async def audit(
    tx: Tx,
    *,
    now: datetime,
    actor_kind: str,
    actor_id: str | int | None,
    action: str,
    target_kind: str | None = None,
    target_id: str | int | None = None,
    channel: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append to the audit log (who, what, which record, channel, when)."""
    await audit_repo.insert_audit(
        tx,
        at=now,
        actor_kind=actor_kind,
        actor_id=None if actor_id is None else str(actor_id),
        action=action,
        target_kind=target_kind,
        target_id=None if target_id is None else str(target_id),
        channel=channel,
        details=details or {},
    )


async def enqueue(
    tx: Tx,
    *,
    now: datetime,
    chat_id: int | None,
    channel: str,
    user_ref: str,
    msg_key: str,
    params: dict[str, Any] | None = None,
    msg_class: str = "transactional",
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    priority: int = 5,
    language: str | None = None,
) -> int | None:
    """Queue an outgoing message (rendered at send time); None when the dedupe key exists."""
    return await queue_repo.insert_message(
        tx,
        chat_id=chat_id,
        channel=channel,
        user_ref=user_ref,
        msg_key=msg_key,
        params=params or {},
        language=language,
        msg_class=msg_class,
        priority=priority,
        dedupe_key=dedupe_key,
        not_before=not_before or now,
        created_at=now,
    )


async def enqueue_to_chat(
    tx: Tx,
    chat_id: int,
    *,
    now: datetime,
    msg_key: str,
    params: dict[str, Any] | None = None,
    msg_class: str = "transactional",
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    priority: int = 5,
) -> int | None:
    """Queue a message to a known chat (its channel and user ref looked up)."""
    address = await queue_repo.chat_address(tx, chat_id)
    if address is None:
        return None
    channel, user_ref = address
    return await enqueue(
        tx,
        now=now,
        chat_id=chat_id,
        channel=channel,
        user_ref=user_ref,
        msg_key=msg_key,
        params=params,
        msg_class=msg_class,
        dedupe_key=dedupe_key,
        not_before=not_before,
        priority=priority,
    )


async def alert_admin(
    tx: Tx, *, now: datetime, msg_key: str, params: dict[str, Any], dedupe_key: str
) -> None:
    """Put an item on the OPD's admin queue (read with ``bot.py admin outbox``)."""
    await enqueue(
        tx,
        now=now,
        chat_id=None,
        channel=ADMIN_CHANNEL,
        user_ref=ADMIN_QUEUE,
        msg_key=msg_key,
        params=params,
        msg_class="transactional",
        dedupe_key=dedupe_key,
        priority=1,
    )
