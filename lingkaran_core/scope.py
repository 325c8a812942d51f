"""A facilitator's scope: one desa, or a whole kecamatan (Perisai agents, camat staff).

The one rule of who may act on which record (ARCHITECTURE.md "Users and roles"): a record
belongs to the scope when its desa lies in it. Services check it with ``Scope.covers``; the
storage layer turns the same rule into a SQL condition for lists (``storage.scope_sql``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lingkaran_core.errors import DomainError

__all__ = ["Scope", "ScopeKind", "kecamatan_of"]


class ScopeKind(enum.StrEnum):
    """What a facilitator's scope code names."""

    DESA = "desa"
    KECAMATAN = "kecamatan"


def kecamatan_of(desa_code: str) -> str:
    """``35.09.27`` for the desa ``35.09.27.2002``."""
    return ".".join(desa_code.split(".")[:3])


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """A desa or kecamatan code (Kemendagri, with dots) and which of the two it is."""

    kind: ScopeKind
    code: str

    @classmethod
    def of(cls, kind: str, code: str) -> Scope:
        """A scope from stored text; an unknown kind is a domain error."""
        try:
            return cls(kind=ScopeKind(kind), code=code)
        except ValueError:
            raise DomainError("facilitator.bad_scope", scope_kind=kind) from None

    def covers(self, desa_code: str | None) -> bool:
        """Whether a desa (code with dots) lies in this scope; an unknown desa never does."""
        if not desa_code:
            return False
        if self.kind == ScopeKind.DESA:
            return desa_code == self.code
        return desa_code.startswith(self.code + ".")

    @property
    def prefix(self) -> str:
        """The text every covered desa code equals (desa) or starts with (kecamatan)."""
        return self.code if self.kind == ScopeKind.DESA else self.code + "."
