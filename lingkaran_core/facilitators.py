"""Facilitators (pendamping desa, Perisai agents) and their one-time bind codes.

An admin creates a facilitator with a scope (one desa, or one kecamatan) and gets a one-time code
(8 characters from an alphabet without look-alikes: no 0/O, 1/I/L). Only the SHA-256 of the code is
stored, with an expiry; the facilitator sends the code to the bot (or uses it as a Telegram
``/start`` payload) and that chat becomes the facilitator's. A code works once, before its expiry,
for a facilitator that is neither revoked nor already bound.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import Any

from lingkaran_core.errors import DomainError, NotFound
from lingkaran_core.services import audit
from lingkaran_core.storage.db import Tx

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "DEFAULT_CODE_TTL",
    "Facilitator",
    "FacilitatorListing",
    "create_facilitator",
    "facilitator_by_id",
    "hash_code",
    "in_scope",
    "list_facilitators",
    "new_bind_code",
    "new_code",
    "normalise_code",
    "redeem_code",
    "revoke_facilitator",
]

logger = logging.getLogger(__name__)

# ARCHITECTURE.md "Users and roles": >= 8 characters from an unambiguous alphabet, 72 h by default.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
DEFAULT_CODE_TTL = timedelta(hours=72)
SCOPE_KINDS = frozenset({"desa", "kecamatan"})
_CODE_JUNK = re.compile(r"[\s\-_.]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Facilitator:
    """A facilitator and their scope (a desa or kecamatan code with dots)."""

    id: int
    name: str
    phone: str | None
    scope_kind: str
    scope_code: str
    bound_chat_id: int | None
    revoked: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FacilitatorListing:
    """A facilitator with the state of their bind code, for the admin's list."""

    facilitator: Facilitator
    code_pending: bool
    code_expires_at: datetime | None
    bound_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


_COLS = (
    "id, name, phone, scope_kind, scope_code, code_hash, code_expires_at, bound_chat_id, "
    "bound_at, revoked_at, created_at"
)


def _facilitator(row: Any) -> Facilitator:
    return Facilitator(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        scope_kind=row["scope_kind"],
        scope_code=row["scope_code"],
        bound_chat_id=row["bound_chat_id"],
        revoked=row["revoked_at"] is not None,
    )


def _dt(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def new_bind_code(rng: Random | None = None) -> str:
    """A fresh 8-character code (cryptographically random unless ``rng`` is given, for tests)."""
    if rng is None:
        return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Upper-case, without spaces or dashes (people type ``k7qm-4xpt``)."""
    return _CODE_JUNK.sub("", code).upper()


def hash_code(code: str) -> str:
    """SHA-256 (hex) of the normalised code: what the database keeps."""
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()


def _check_code(code: str) -> str:
    plain = normalise_code(code)
    if len(plain) < CODE_LENGTH or any(c not in CODE_ALPHABET for c in plain):
        raise DomainError("facilitator.bad_code_format", length=CODE_LENGTH)
    return plain


def in_scope(facilitator: Facilitator, desa_code: str) -> bool:
    """Whether a desa (code with dots) lies in the facilitator's desa or kecamatan."""
    if facilitator.revoked:
        return False
    if facilitator.scope_kind == "desa":
        return desa_code == facilitator.scope_code
    return desa_code.startswith(facilitator.scope_code + ".")


async def facilitator_by_id(tx: Tx, facilitator_id: int) -> Facilitator | None:
    """A facilitator by id (revoked ones included)."""
    row = await tx.one(f"SELECT {_COLS} FROM facilitators WHERE id = ?", (facilitator_id,))
    return None if row is None else _facilitator(row)


async def create_facilitator(
    tx: Tx,
    *,
    name: str,
    phone: str | None,
    scope_kind: str,
    scope_code: str,
    now: datetime,
    code: str | None = None,
    ttl: timedelta = DEFAULT_CODE_TTL,
) -> tuple[int, str]:
    """Create a facilitator; return its id and the plain one-time code (shown once, never stored)."""
    if scope_kind not in SCOPE_KINDS:
        raise DomainError("facilitator.bad_scope", scope_kind=scope_kind)
    if not name.strip():
        raise DomainError("facilitator.name_required")
    plain = new_bind_code() if code is None else _check_code(code)
    facilitator_id = await tx.execute(
        "INSERT INTO facilitators (name, phone, scope_kind, scope_code, code_hash, "
        "code_expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            name.strip(),
            phone,
            scope_kind,
            scope_code,
            hash_code(plain),
            (now + ttl).isoformat(),
            now.isoformat(),
        ),
    )
    await audit(
        tx,
        now=now,
        actor_kind="admin",
        actor_id=None,
        action="facilitator.create",
        target_kind="facilitator",
        target_id=facilitator_id,
        details={"scope_kind": scope_kind, "scope_code": scope_code},
    )
    return facilitator_id, plain


async def list_facilitators(tx: Tx) -> list[FacilitatorListing]:
    """Every facilitator, oldest first, with the state of their code."""
    rows = await tx.all(f"SELECT {_COLS} FROM facilitators ORDER BY id")
    return [
        FacilitatorListing(
            facilitator=_facilitator(r),
            code_pending=r["code_hash"] is not None,
            code_expires_at=_dt(r["code_expires_at"]),
            bound_at=_dt(r["bound_at"]),
            revoked_at=_dt(r["revoked_at"]),
            created_at=datetime.fromisoformat(r["created_at"]),
        )
        for r in rows
    ]


async def revoke_facilitator(tx: Tx, facilitator_id: int, now: datetime) -> Facilitator:
    """Revoke a facilitator: the code dies and the bound chat loses the facilitator role."""
    found = await facilitator_by_id(tx, facilitator_id)
    if found is None:
        raise NotFound("facilitator.not_found", id=facilitator_id)
    await tx.execute(
        "UPDATE facilitators SET revoked_at = COALESCE(revoked_at, ?), code_hash = NULL "
        "WHERE id = ?",
        (now.isoformat(), facilitator_id),
    )
    await tx.execute(
        "UPDATE chats SET facilitator_id = NULL, active_role = CASE WHEN worker_id IS NULL "
        "THEN 'public' ELSE 'worker' END WHERE facilitator_id = ?",
        (facilitator_id,),
    )
    await audit(
        tx,
        now=now,
        actor_kind="admin",
        actor_id=None,
        action="facilitator.revoke",
        target_kind="facilitator",
        target_id=facilitator_id,
    )
    updated = await facilitator_by_id(tx, facilitator_id)
    assert updated is not None
    return updated


async def new_code(
    tx: Tx,
    facilitator_id: int,
    now: datetime,
    *,
    code: str | None = None,
    ttl: timedelta = DEFAULT_CODE_TTL,
) -> tuple[str, datetime]:
    """Issue a fresh code (e.g. a new phone): the old code and any bound chat stop working."""
    found = await facilitator_by_id(tx, facilitator_id)
    if found is None:
        raise NotFound("facilitator.not_found", id=facilitator_id)
    if found.revoked:
        raise DomainError("facilitator.revoked", id=facilitator_id)
    plain = new_bind_code() if code is None else _check_code(code)
    expires = now + ttl
    # The new code must be redeemable, so the facilitator is unbound from the old chat first.
    await tx.execute(
        "UPDATE chats SET facilitator_id = NULL, active_role = CASE WHEN worker_id IS NULL "
        "THEN 'public' ELSE 'worker' END WHERE facilitator_id = ?",
        (facilitator_id,),
    )
    await tx.execute(
        "UPDATE facilitators SET code_hash = ?, code_expires_at = ?, bound_chat_id = NULL, "
        "bound_at = NULL WHERE id = ?",
        (hash_code(plain), expires.isoformat(), facilitator_id),
    )
    await audit(
        tx,
        now=now,
        actor_kind="admin",
        actor_id=None,
        action="facilitator.new_code",
        target_kind="facilitator",
        target_id=facilitator_id,
    )
    return plain, expires


async def redeem_code(tx: Tx, *, code: str, chat_id: int, now: datetime) -> Facilitator | None:
    """Bind ``chat_id`` to the facilitator whose valid code this is; None when it is not valid."""
    plain = normalise_code(code)
    if len(plain) < CODE_LENGTH or any(c not in CODE_ALPHABET for c in plain):
        return None
    row = await tx.one(
        f"SELECT {_COLS} FROM facilitators WHERE code_hash = ?",
        (hash_code(plain),),
    )
    if row is None or row["revoked_at"] is not None or row["bound_chat_id"] is not None:
        return None
    expires = _dt(row["code_expires_at"])
    if expires is None or expires <= now:
        return None
    # A chat serves one facilitator at a time: release any earlier binding of this chat.
    await tx.execute(
        "UPDATE facilitators SET bound_chat_id = NULL WHERE bound_chat_id = ? AND id != ?",
        (chat_id, row["id"]),
    )
    await tx.execute(
        "UPDATE facilitators SET bound_chat_id = ?, bound_at = ?, code_hash = NULL, "
        "code_expires_at = NULL WHERE id = ?",
        (chat_id, now.isoformat(), row["id"]),
    )
    await tx.execute(
        "UPDATE chats SET facilitator_id = ?, active_role = 'facilitator' WHERE id = ?",
        (row["id"], chat_id),
    )
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="facilitator.bind",
        target_kind="facilitator",
        target_id=row["id"],
    )
    logger.info("facilitator bound", extra={"facilitator_id": row["id"], "chat_id": chat_id})
    bound = await facilitator_by_id(tx, row["id"])
    assert bound is not None
    return bound
