"""Facilitators (pendamping desa, Perisai agents): bind codes, scope, and acting for one.

An admin creates a facilitator with a scope (one desa, or one kecamatan) and gets a one-time code
(8 characters from an alphabet without look-alikes: no 0/O, 1/I/L). Only the SHA-256 of the code is
stored, with an expiry; the facilitator sends the code to the bot (or uses it as a Telegram
``/start`` payload) and that chat becomes the facilitator's. A code works once, before its expiry,
for a facilitator that is neither revoked nor already bound.

Every service acting for a facilitator takes the ``Facilitator`` as its actor and calls
``check_scope`` before it changes or shows anything: the scope rule is ``Scope.covers``, once.
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

from lingkaran_core.errors import DomainError, NotAuthorised, NotFound
from lingkaran_core.scope import Scope, ScopeKind
from lingkaran_core.services.notify import audit
from lingkaran_core.storage import facilitator_repo
from lingkaran_core.storage.db import Tx

logger = logging.getLogger(__name__)

# ARCHITECTURE.md "Users and roles": >= 8 characters from an unambiguous alphabet, 72 h by default.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
DEFAULT_CODE_TTL = timedelta(hours=72)
SCOPE_KINDS = frozenset(str(k) for k in ScopeKind)
MAX_BIND_FAILURES = 5
BIND_WINDOW = timedelta(hours=1)
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

    @property
    def scope(self) -> Scope:
        """The desa or kecamatan this facilitator acts for."""
        return Scope.of(self.scope_kind, self.scope_code)


@dataclass(frozen=True, slots=True, kw_only=True)
class FacilitatorListing:
    """A facilitator with the state of their bind code, for the admin's list."""

    facilitator: Facilitator
    code_pending: bool
    code_expires_at: datetime | None
    bound_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


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


# -------------------------------------------------------------------------------------------
# Scope: the one rule


def in_scope(facilitator: Facilitator, desa_code: str | None) -> bool:
    """Whether a desa (code with dots) lies in an unrevoked facilitator's desa or kecamatan."""
    return not facilitator.revoked and facilitator.scope.covers(desa_code)


def check_scope(actor: Facilitator, desa_code: str | None, *, target: str) -> None:
    """Refuse (``facilitator.out_of_scope``) a record whose desa is outside the actor's scope."""
    if not in_scope(actor, desa_code):
        logger.warning(
            "facilitator refused out of scope", extra={"facilitator_id": actor.id, "target": target}
        )
        raise NotAuthorised("facilitator.out_of_scope", target=target)


async def facilitator_covers(tx: Tx, facilitator_id: int, desa_code: str | None) -> bool:
    """Whether an active facilitator's scope (a desa or a whole kecamatan) includes a desa."""
    found = await facilitator_by_id(tx, facilitator_id)
    return found is not None and in_scope(found, desa_code)


async def facilitator_chats_for_desa(tx: Tx, desa_code: str) -> list[int]:
    """Bound, unrevoked facilitators whose scope covers a desa."""
    return await facilitator_repo.bound_chats_for_desa(tx, desa_code)


async def active_facilitator(tx: Tx, facilitator_id: int, chat_id: int) -> Facilitator | None:
    """The facilitator, only while unrevoked and bound to this chat (the actor of a desk step)."""
    found = await facilitator_by_id(tx, facilitator_id)
    if found is None or found.revoked or found.bound_chat_id != chat_id:
        return None
    return found


async def desk_counts(tx: Tx, actor: Facilitator) -> tuple[int, int]:
    """Open tickets and open leads waiting in the actor's scope."""
    if actor.revoked:
        return 0, 0
    return await facilitator_repo.desk_counts(tx, actor.scope)


# -------------------------------------------------------------------------------------------
# Codes


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


async def facilitator_by_id(tx: Tx, facilitator_id: int) -> Facilitator | None:
    """A facilitator by id (revoked ones included)."""
    row = await facilitator_repo.by_id(tx, facilitator_id)
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
    facilitator_id = await facilitator_repo.insert(
        tx,
        name=name.strip(),
        phone=phone,
        scope_kind=scope_kind,
        scope_code=scope_code,
        code_hash=hash_code(plain),
        code_expires_at=now + ttl,
        now=now,
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
    return [
        FacilitatorListing(
            facilitator=_facilitator(r),
            code_pending=r["code_hash"] is not None,
            code_expires_at=_dt(r["code_expires_at"]),
            bound_at=_dt(r["bound_at"]),
            revoked_at=_dt(r["revoked_at"]),
            created_at=datetime.fromisoformat(r["created_at"]),
        )
        for r in await facilitator_repo.all_rows(tx)
    ]


async def revoke_facilitator(tx: Tx, facilitator_id: int, now: datetime) -> Facilitator:
    """Revoke a facilitator: the code dies and the bound chat loses the facilitator role."""
    found = await facilitator_by_id(tx, facilitator_id)
    if found is None:
        raise NotFound("facilitator.not_found", id=facilitator_id)
    await facilitator_repo.revoke(tx, facilitator_id, now)
    await facilitator_repo.unbind_chats(tx, facilitator_id)
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
    await facilitator_repo.unbind_chats(tx, facilitator_id)
    await facilitator_repo.set_code(tx, facilitator_id, hash_code(plain), expires)
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
    row = await facilitator_repo.by_code_hash(tx, hash_code(plain))
    if row is None or row["revoked_at"] is not None or row["bound_chat_id"] is not None:
        return None
    expires = _dt(row["code_expires_at"])
    if expires is None or expires <= now:
        return None
    # A chat serves one facilitator at a time: any earlier binding of this chat is released.
    await facilitator_repo.bind(tx, row["id"], chat_id, now)
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


async def bind_attempts_exhausted(tx: Tx, chat_id: int, now: datetime) -> bool:
    """Whether a chat sent too many invalid codes in the last hour."""
    since = now - BIND_WINDOW
    return await facilitator_repo.bind_failures_since(tx, chat_id, since) >= MAX_BIND_FAILURES


async def record_bind_failure(tx: Tx, *, chat_id: int, now: datetime, channel: str) -> None:
    """Count (and audit) an invalid code from a chat."""
    await facilitator_repo.add_bind_failure(tx, chat_id, now)
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="facilitator.bind_failed",
        channel=channel,
    )


async def clear_bind_failures(tx: Tx, chat_id: int) -> None:
    """A good code wipes the chat's earlier invalid ones."""
    await facilitator_repo.clear_bind_failures(tx, chat_id)


async def note_revocation_told(tx: Tx, chat_id: int, now: datetime) -> bool:
    """Record that a chat heard of its facilitator's revocation; False when nothing was pending."""
    return await facilitator_repo.mark_revoke_notified(tx, chat_id, now) > 0
