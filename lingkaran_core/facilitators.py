"""Facilitators and their bind codes: kept as an import path; the code is in ``services``."""

from __future__ import annotations

from lingkaran_core.services.facilitators import (
    CODE_ALPHABET,
    CODE_LENGTH,
    DEFAULT_CODE_TTL,
    SCOPE_KINDS,
    Facilitator,
    FacilitatorListing,
    create_facilitator,
    facilitator_by_id,
    hash_code,
    in_scope,
    list_facilitators,
    new_bind_code,
    new_code,
    normalise_code,
    redeem_code,
    revoke_facilitator,
)

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "DEFAULT_CODE_TTL",
    "SCOPE_KINDS",
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
