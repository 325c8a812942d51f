"""Abuse limits: new reports, tickets and files per chat (and per NIK / claim) in an hour.

One anonymous chat filed 30 claims in 0.12 s, each alerting the OPD (issue 20). The limits are
rules data (rules.ABUSE_LIMITS_RULE); a refused action raises ``RateLimited`` with a plain
message code and writes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lingkaran_core import rules
from lingkaran_core.errors import RateLimited
from lingkaran_core.storage import identity_repo
from lingkaran_core.storage.db import Tx

WINDOW = timedelta(hours=1)
LIMITS = rules.ABUSE_LIMITS_RULE.value


async def check_claim_limit(
    tx: Tx, *, chat_id: int | None, nik: str | None, now: datetime, by_facilitator: bool
) -> None:
    """Refuse a new report when this chat, or this NIK, filed too many in the last hour."""
    since = now - WINDOW
    if chat_id is not None:
        per_chat = LIMITS["claims_per_chat_facilitator" if by_facilitator else "claims_per_chat"]
        if await identity_repo.claims_by_chat_since(tx, chat_id, since) >= per_chat:
            raise RateLimited("limit.claims", per_hour=per_chat)
    if nik and await identity_repo.claims_by_nik_since(tx, nik, since) >= LIMITS["claims_per_nik"]:
        raise RateLimited("limit.claims_nik", per_hour=LIMITS["claims_per_nik"])


async def batch_jkk_alert(tx: Tx, *, chat_id: int | None, now: datetime) -> str | None:
    """A dedupe key that folds this chat's JKK alerts of the hour into one, once it files many."""
    if chat_id is None:
        return None
    filed = await identity_repo.jkk_alerts_by_chat_since(tx, chat_id, now - WINDOW)
    if filed <= LIMITS["jkk_alerts_before_batch"]:
        return None
    return f"jkk-new-batch:{chat_id}:{now.strftime('%Y-%m-%dT%H')}"


async def check_ticket_limit(tx: Tx, *, chat_id: int, now: datetime) -> None:
    """Refuse a new ticket when this chat opened too many in the last hour."""
    if (
        await identity_repo.tickets_by_chat_since(tx, chat_id, now - WINDOW)
        >= LIMITS["tickets_per_chat"]
    ):
        raise RateLimited("limit.tickets", per_hour=LIMITS["tickets_per_chat"])


async def check_upload_limit(
    tx: Tx, *, chat_id: int | None, claim_id: int, size: int, now: datetime
) -> None:
    """Refuse a file when the chat (count or megabytes) or the claim received too many."""
    since = now - WINDOW
    if chat_id is not None:
        count, total = await identity_repo.uploads_by_chat_since(tx, chat_id, since)
        if count >= LIMITS["uploads_per_chat"]:
            raise RateLimited("limit.uploads", per_hour=LIMITS["uploads_per_chat"])
        if total + size > LIMITS["upload_mb_per_chat"] * 1024 * 1024:
            raise RateLimited("limit.upload_bytes", mb=LIMITS["upload_mb_per_chat"])
    if (
        await identity_repo.uploads_for_claim_since(tx, claim_id, since)
        >= LIMITS["uploads_per_claim"]
    ):
        raise RateLimited("limit.uploads", per_hour=LIMITS["uploads_per_claim"])
