"""How long personal data stays, and the job that enforces it.

UU 27/2022 (Pelindungan Data Pribadi) asks that personal data be kept no longer than its purpose
needs. Two things here outlive their purpose:

* a **conversation's contents** (typed NIKs, names, stories, half-filled drafts, the last
  replies): once a chat has been quiet for ``conversation_days`` (default 30) they are
  forgotten; the chat, its links and its claims stay;
* the **files of finished claims** (KTP and KK photos, medical letters): once a claim is paid,
  rejected or withdrawn and ``document_days`` (default 365: a year for questions and appeals)
  have passed, the files are deleted; their rows (kind, hash, size) stay as the claim's history.

Claims, the audit log and tickets are records of the programme and are not touched here.
Run daily by the scheduler and on demand with ``lingkaran admin retention run [--dry-run]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from lingkaran_core.storage import Database
from lingkaran_core.storage import retention_repo as repo

__all__ = ["RetentionPolicy", "RetentionReport", "run_retention"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionPolicy:
    """How many days each kind of data is kept."""

    conversation_days: int = 30
    document_days: int = 365


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionReport:
    """What a run did (or would do, dry)."""

    conversations: int
    documents: int
    bytes_freed: int
    dry_run: bool


async def run_retention(
    db: Database, *, now: datetime, policy: RetentionPolicy, dry_run: bool = False
) -> RetentionReport:
    """Forget idle conversations' contents and delete finished claims' files."""
    conv_before = now - timedelta(days=policy.conversation_days)
    doc_before = now - timedelta(days=policy.document_days)
    async with db.tx() as tx:
        if dry_run:
            conversations = await repo.idle_conversations(tx, before=conv_before)
        else:
            conversations = await repo.clear_idle_conversations(tx, before=conv_before)
        documents = await repo.documents_of_closed_claims(tx, before=doc_before)
    freed = 0
    purged: list[int] = []
    root = db.files_dir.resolve()
    for doc_id, text in documents:
        path = Path(text) if text else None
        if path is not None and path.is_file():
            if not path.resolve().is_relative_to(root):
                logger.warning("document outside the files folder left alone", extra={"id": doc_id})
                continue
            freed += path.stat().st_size
            if not dry_run:
                path.unlink()
        purged.append(doc_id)
    if purged and not dry_run:
        async with db.tx() as tx:
            await repo.mark_documents_purged(tx, purged, now=now)
    report = RetentionReport(
        conversations=conversations, documents=len(purged), bytes_freed=freed, dry_run=dry_run
    )
    logger.info(
        "retention",
        extra={
            "dry_run": dry_run,
            "conversations": conversations,
            "documents": len(purged),
            "bytes": freed,
        },
    )
    return report
