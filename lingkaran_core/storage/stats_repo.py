"""The programme figures' queries (``lingkaran_core.stats`` turns them into the report)."""

from __future__ import annotations

from typing import Any

from lingkaran_core.storage.db import Tx, loads

__all__ = [
    "claims_by_type_status",
    "coverage_groups",
    "paid_claims",
    "paid_claims_with_dates",
    "registrations_by_status",
    "workers_by_kecamatan_sector",
    "workers_by_sector",
]

# Workers the programme counts: everyone on the roster except rejected registrations.
_PARTICIPANT = "registration_status != 'rejected'"


async def workers_by_sector(tx: Tx) -> dict[str, int]:
    """Participants per sector code."""
    rows = await tx.all(
        "SELECT sector, COUNT(*) AS n FROM workers WHERE " + _PARTICIPANT + " GROUP BY sector"
    )
    return {str(r["sector"]): int(r["n"]) for r in rows}


async def workers_by_kecamatan_sector(tx: Tx) -> list[tuple[str | None, str, int]]:
    """(kecamatan code ``35.09.NN``, sector, participants) of the roster."""
    rows = await tx.all(
        "SELECT substr(desa_code, 1, 8) AS kecamatan, sector, COUNT(*) AS n FROM workers "
        "WHERE " + _PARTICIPANT + " GROUP BY substr(desa_code, 1, 8), sector"
    )
    return [(r["kecamatan"], str(r["sector"]), int(r["n"])) for r in rows]


async def coverage_groups(tx: Tx) -> list[tuple[str | None, str | None, int]]:
    """(coverage_start, paid-through month ``YYYY-MM``, count) of the participants."""
    rows = await tx.all(
        "SELECT coverage_start, substr(paid_through, 1, 7) AS paid_month, COUNT(*) AS n "
        "FROM workers WHERE " + _PARTICIPANT + " GROUP BY coverage_start, paid_month"
    )
    return [(r["coverage_start"], r["paid_month"], int(r["n"])) for r in rows]


async def registrations_by_status(tx: Tx) -> dict[str, int]:
    """Workers per registration status."""
    rows = await tx.all(
        "SELECT registration_status, COUNT(*) AS n FROM workers GROUP BY registration_status"
    )
    return {str(r["registration_status"]): int(r["n"]) for r in rows}


async def claims_by_type_status(tx: Tx) -> list[tuple[str, str, int]]:
    """(type, status, count) of every claim."""
    rows = await tx.all("SELECT type, status, COUNT(*) AS n FROM claims GROUP BY type, status")
    return [(str(r["type"]), str(r["status"]), int(r["n"])) for r in rows]


async def paid_claims(tx: Tx, paid_status: str) -> list[tuple[str, dict[str, Any]]]:
    """(type, answers) of every claim in ``paid_status``."""
    rows = await tx.all("SELECT type, answers FROM claims WHERE status = ?", (paid_status,))
    return [(str(r["type"]), loads(r["answers"]) or {}) for r in rows]


async def paid_claims_with_dates(
    tx: Tx, paid_status: str
) -> list[tuple[str, dict[str, Any], str | None]]:
    """(type, answers, when the claim was moved to ``paid_status``) of every paid claim."""
    rows = await tx.all(
        "SELECT c.type, c.answers, (SELECT MAX(e.at) FROM claim_events e "
        "WHERE e.claim_id = c.id AND e.to_status = ?) AS paid_at FROM claims c WHERE c.status = ?",
        (paid_status, paid_status),
    )
    return [(str(r["type"]), loads(r["answers"]) or {}, r["paid_at"]) for r in rows]
