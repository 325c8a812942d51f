"""Queries of the retention job (``lingkaran_core.retention``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lingkaran_core.storage.db import Tx

__all__ = [
    "clear_idle_conversations",
    "documents_of_closed_claims",
    "idle_conversations",
    "mark_documents_purged",
]

FINAL = ("paid", "rejected", "withdrawn")


async def idle_conversations(tx: Tx, *, before: datetime) -> int:
    """How many conversations idle since ``before`` still hold answers, drafts or replies."""
    return int(
        await tx.scalar(
            "SELECT COUNT(*) FROM conversations WHERE updated_at < ? AND "
            "(data != '{}' OR draft IS NOT NULL OR last_replies IS NOT NULL OR stack != '[]')",
            (before.isoformat(),),
        )
        or 0
    )


async def clear_idle_conversations(tx: Tx, *, before: datetime) -> int:
    """Forget what idle conversations hold (typed answers, drafts, replies); the chat stays.

    Flow and step stay: the engine restarts any conversation idle over 24 h at the menu, and
    with no data left it keeps no draft. The version moves on, so old buttons stay stale.
    """
    return await tx.execute_rowcount(
        "UPDATE conversations SET data = '{}', stack = '[]', draft = NULL, last_replies = NULL, "
        "replies_sent = 1, version = version + 1 "
        "WHERE updated_at < ? AND "
        "(data != '{}' OR draft IS NOT NULL OR last_replies IS NOT NULL OR stack != '[]')",
        (before.isoformat(),),
    )


async def documents_of_closed_claims(tx: Tx, *, before: datetime) -> list[tuple[int, str]]:
    """(document id, file path) of claims final (paid, rejected, withdrawn) since ``before``."""
    rows = await tx.all(
        "SELECT d.id, d.path FROM claim_documents d JOIN claims c ON c.id = d.claim_id "
        "WHERE c.status IN (?, ?, ?) AND c.updated_at < ? AND d.purged_at IS NULL ORDER BY d.id",
        (*FINAL, before.isoformat()),
    )
    return [(int(r[0]), str(r[1])) for r in rows]


async def mark_documents_purged(tx: Tx, ids: Sequence[int], *, now: datetime) -> None:
    """Record that these documents' files are gone."""
    await tx.executemany(
        "UPDATE claim_documents SET path = '', purged_at = ? WHERE id = ?",
        [(now.isoformat(), i) for i in ids],
    )
