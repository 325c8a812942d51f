"""Staff accounts: roles, what each may do, passwords (argon2id), one-time passwords.

The permission table is the one place that says who may do what; ``lingkaran.console.guard``
checks it for every route, together with a kecamatan viewer's scope.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from lingkaran_core.regions import load_regions
from lingkaran_core.services import audit
from lingkaran_core.storage import console_repo
from lingkaran_core.storage.db import Tx

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "AccountError",
    "Staff",
    "add_staff",
    "check_password",
    "may",
    "staff_from_row",
]

ROLES: Final = ("admin", "opd", "viewer")

# Read permissions end in ".view"; everything else changes data or shows personal data.
_READ: Final = frozenset({"claims.view", "registrations.view", "tickets.view", "reports.view"})
_OPD: Final = _READ | frozenset(
    {
        "claims.act",
        "claims.export",
        "nik.show",
        "registrations.act",
        "tickets.act",
        "facilitators.view",
        "links.act",
    }
)
_ADMIN: Final = _OPD | frozenset(
    {"facilitators.act", "outbox.view", "outbox.act", "broadcast.act", "roster.act"}
)
PERMISSIONS: Final[dict[str, frozenset[str]]] = {"admin": _ADMIN, "opd": _OPD, "viewer": _READ}

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
_DUMMY_HASH: Final = _hasher.hash("not a password of anyone")
_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"


class AccountError(Exception):
    """A refused account change, with a one-line reason for the operator."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Staff:
    """A signed-in staff member."""

    id: int
    username: str
    name: str
    role: str
    kecamatan: str | None

    @property
    def actor_ref(self) -> str:
        """How the audit log and the claim history name this account."""
        return f"staff:{self.username}"


def staff_from_row(row: Any) -> Staff:
    """A ``Staff`` from a ``staff`` row."""
    return Staff(
        id=int(row["id"]),
        username=str(row["username"]),
        name=str(row["name"]),
        role=str(row["role"]),
        kecamatan=row["kecamatan_code"],
    )


def may(staff: Staff, permission: str) -> bool:
    """Whether the account's role grants ``permission``."""
    return permission in PERMISSIONS.get(staff.role, frozenset())


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches (time spent even without an account: no user probing)."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with older parameters."""
    return _hasher.check_needs_rehash(stored_hash)


def one_time_password() -> str:
    """A fresh password to hand over once (four groups of four, easy to type on a phone)."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def username_for(name: str) -> str:
    """``Siti Aminah`` -> ``siti.aminah``."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", ".", folded).strip(".")
    return slug[:32] or "staff"


async def add_staff(
    tx: Tx,
    *,
    name: str,
    role: str,
    kecamatan: str | None,
    now: datetime,
    actor: str,
    username: str | None = None,
) -> tuple[int, str, str]:
    """Create an account; (id, username, the one-time password, shown once)."""
    name = name.strip()
    if not name:
        raise AccountError("a name is needed")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role == "viewer" and not kecamatan:
        raise AccountError("a kecamatan viewer needs --kecamatan CODE")
    if kecamatan is not None:
        if load_regions().kecamatan(kecamatan) is None:
            raise AccountError(f"unknown kecamatan code: {kecamatan!r} (e.g. 35.09.27)")
        kecamatan = load_regions().kecamatan(kecamatan).code  # type: ignore[union-attr]
    base = username.strip().lower() if username else username_for(name)
    chosen, n = base, 1
    while await console_repo.staff_by_username(tx, chosen) is not None:
        if username:
            raise AccountError(f"username {chosen!r} is taken")
        n += 1
        chosen = f"{base}{n}"
    password = one_time_password()
    staff_id = await console_repo.insert_staff(
        tx,
        username=chosen,
        name=name,
        role=role,
        kecamatan_code=kecamatan,
        password_hash=hash_password(password),
        now=now,
    )
    await audit(
        tx,
        now=now,
        actor_kind="admin",
        actor_id=actor,
        action="staff.add",
        target_kind="staff",
        target_id=staff_id,
        channel="admin",
        details={"role": role, "kecamatan": kecamatan, "username": chosen},
    )
    return staff_id, chosen, password


async def disable_staff(tx: Tx, staff_id: int, *, now: datetime, actor: str) -> bool:
    """Disable an account (its sessions end at once); False when already disabled or unknown."""
    done = await console_repo.set_staff_disabled(tx, staff_id, now=now)
    if done:
        await audit(
            tx,
            now=now,
            actor_kind="admin",
            actor_id=actor,
            action="staff.disable",
            target_kind="staff",
            target_id=staff_id,
            channel="admin",
        )
    return done
