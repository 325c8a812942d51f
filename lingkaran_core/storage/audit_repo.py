"""The audit log: who did what to which record, on which channel, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lingkaran_core.storage.db import Tx, dumps


async def insert_audit(
    tx: Tx,
    *,
    at: datetime,
    actor_kind: str,
    actor_id: str | None,
    action: str,
    target_kind: str | None,
    target_id: str | None,
    channel: str | None,
    details: dict[str, Any],
) -> None:
    """Append one audit row."""
    await tx.execute(
        "INSERT INTO audit_log (at, actor_kind, actor_id, action, target_kind, target_id, "
        "channel, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            at.isoformat(),
            actor_kind,
            actor_id,
            action,
            target_kind,
            target_id,
            channel,
            dumps(details),
        ),
    )
