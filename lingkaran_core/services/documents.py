"""Claim documents: files on disk named by their hash, one row each, checklist follow-up."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lingkaran_core import claims as claim_rules
from lingkaran_core.claims import Actor, ClaimStatus
from lingkaran_core.errors import Conflict, DomainError
from lingkaran_core.services.claims import claim_desa, missing_documents, transition_claim
from lingkaran_core.services.facilitators import Facilitator, check_scope
from lingkaran_core.services.limits import check_upload_limit
from lingkaran_core.services.notify import audit
from lingkaran_core.storage import claims_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import Claim, received_kinds

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
ALLOWED_DOCUMENT_MIMES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf"}
)
_EXT = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDocument:
    """A document stored with a claim, and what is still missing after it."""

    kind: str
    path: Path
    duplicate: bool
    missing: list[str]


async def add_document(
    tx: Tx,
    claim: Claim,
    *,
    kind: str,
    data: bytes,
    mime: str,
    chat_id: int | None,
    files_dir: Path,
    now: datetime,
    channel: str | None = None,
    facilitator: Facilitator | None = None,
    replaces: bool = False,
) -> StoredDocument:
    """Store a photo/file for a claim (named by its hash); complete checklists go to review.

    Sent by a ``facilitator`` for a claim they did not file, the claim must be of their scope.
    With ``replaces`` the new file takes the place of the ones received for that kind before.
    """
    if facilitator is not None and claim.facilitator_id != facilitator.id:
        check_scope(facilitator, await claim_desa(tx, claim), target="claim")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DomainError("document.too_large", max_mb=MAX_DOCUMENT_BYTES // (1024 * 1024))
    if mime not in ALLOWED_DOCUMENT_MIMES:
        raise DomainError("document.bad_type", mime=mime)
    if ClaimStatus(claim.status) in claim_rules.FINAL_STATES:
        raise Conflict("document.claim_closed", ref=claim.ref)
    await check_upload_limit(tx, chat_id=chat_id, claim_id=claim.id, size=len(data), now=now)
    digest = hashlib.sha256(data).hexdigest()
    folder = files_dir / "claims" / claim.ref
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}{_EXT.get(mime, '.bin')}"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    added = await claims_repo.insert_document(
        tx,
        claim.id,
        kind=kind,
        path=str(path),
        sha256=digest,
        mime=mime,
        size=len(data),
        chat_id=chat_id,
        at=now,
        replaces=replaces,
    )
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="claim.document",
        target_kind="claim",
        target_id=claim.ref,
        channel=channel,
        details={"kind": kind, "size": len(data), "replaces": replaces},
    )
    missing = missing_documents(claim, await received_kinds(tx, claim.id))
    if not missing and claim.status == ClaimStatus.DOCUMENTS_REQUESTED:
        await transition_claim(
            tx,
            claim.ref,
            ClaimStatus.IN_REVIEW,
            actor=Actor.SYSTEM,
            now=now,
            channel=channel,
            note="checklist complete",
        )
    return StoredDocument(kind=kind, path=path, duplicate=not added, missing=missing)
