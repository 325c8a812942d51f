"""Photos a facilitator sends for a worker they registered (KTP first, then others), shown to
the OPD on the console's registration page before it verifies the registration.

Stored like claim documents: the bytes were checked by their content at the channel
(``lingkaran.channels.uploads``); here the size, the type (images only) and the facilitator's
scope are checked again, the file is written under ``files/registrations/<worker id>/`` named by
its SHA-256 (private: served only through the console's authorised route), one row each, audited.

Import as a module: ``from lingkaran_core.services import registration_photos``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lingkaran_core.errors import Conflict, DomainError, NotFound
from lingkaran_core.services.documents import MAX_DOCUMENT_BYTES
from lingkaran_core.services.facilitators import Facilitator, check_scope
from lingkaran_core.services.notify import audit
from lingkaran_core.storage import console_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import worker_by_id

__all__ = ["MAX_PHOTOS", "PHOTO_MIMES", "StoredPhoto", "add_registration_photo"]

MAX_PHOTOS = 6
PHOTO_MIMES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"})
_EXT = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPhoto:
    """A photo stored with a registration."""

    id: int
    kind: str
    path: Path
    duplicate: bool
    count: int  # photos of this registration now


async def add_registration_photo(
    tx: Tx,
    facilitator: Facilitator,
    worker_id: int,
    *,
    data: bytes,
    mime: str,
    files_dir: Path,
    now: datetime,
    chat_id: int | None = None,
    channel: str | None = None,
) -> StoredPhoto:
    """Store a photo for a registration still waiting for the OPD (the first is the KTP).

    ``DomainError``: ``document.too_large``, ``document.bad_type``, ``registration.too_many_photos``;
    ``Conflict("registration.not_waiting")`` once decided; ``NotAuthorised`` out of scope.
    """
    worker = await worker_by_id(tx, worker_id)
    if worker is None:
        raise NotFound("registration.not_found", worker_id=worker_id)
    check_scope(facilitator, worker.desa_code, target="worker")
    if worker.registration_status != "registered":
        raise Conflict("registration.not_waiting")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DomainError("document.too_large", max_mb=MAX_DOCUMENT_BYTES // (1024 * 1024))
    if mime not in PHOTO_MIMES:
        raise DomainError("document.bad_type", mime=mime)
    before = await console_repo.registration_documents(tx, worker_id)
    digest = hashlib.sha256(data).hexdigest()
    if len(before) >= MAX_PHOTOS and all(r["sha256"] != digest for r in before):
        raise DomainError("registration.too_many_photos", max=MAX_PHOTOS)
    kind = "ktp" if not before else "foto_lain"
    folder = files_dir / "registrations" / str(worker_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}{_EXT.get(mime, '.bin')}"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    photo_id = await console_repo.add_registration_document(
        tx,
        worker_id,
        kind=kind,
        path=str(path),
        sha256=digest,
        mime=mime,
        size=len(data),
        now=now,
    )
    duplicate = any(int(r["id"]) == photo_id for r in before)
    if not duplicate:
        await audit(
            tx,
            now=now,
            actor_kind="facilitator",
            actor_id=facilitator.id,
            action="registration.photo",
            target_kind="worker",
            target_id=worker_id,
            channel=channel,
            details={"kind": kind, "size": len(data), "chat_id": chat_id},
        )
    return StoredPhoto(
        id=photo_id,
        kind=next((str(r["kind"]) for r in before if int(r["id"]) == photo_id), kind),
        path=path,
        duplicate=duplicate,
        count=len(before) + (0 if duplicate else 1),
    )
