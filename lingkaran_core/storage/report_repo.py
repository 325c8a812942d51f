"""The console's trend reports: participants by kecamatan, claims by month, paid claims with
their day, messages sent and read. Each takes the kecamatan viewer's scope (``35.09.27``: only
that kecamatan's desa codes; ``None``: the whole regency) and runs in the caller's unit of work.
Months are the first seven characters of the stored ISO timestamps (UTC), grouped here."""

from __future__ import annotations

from typing import Any

from lingkaran_core.storage.db import Tx, loads

__all__ = [
    "claims_by_month",
    "messages_by_key",
    "paid_claims",
    "workers_by_kecamatan",
]

_PARTICIPANT = "w.registration_status != 'rejected'"
_CLAIM_DESA = "COALESCE(c.desa_code, w.desa_code)"


def _prefix(kecamatan: str) -> str:
    return kecamatan.rstrip(".") + ".%"


async def workers_by_kecamatan(tx: Tx, *, kecamatan: str | None) -> dict[str, int]:
    """Participants per kecamatan code (``35.09.27``, the desa code's first 8 characters).

    All workers per desa (an index-only scan of ``workers_desa`` in its order) minus the few
    rejected ones (by ``workers_status``), summed per kecamatan here: no temporary b-tree and no
    table reads over the 82k roster. A viewer's kecamatan is a range of desa codes.
    """
    where = ""
    params: list[Any] = []
    if kecamatan:
        base = kecamatan.rstrip(".")
        where = " AND desa_code >= ? AND desa_code < ?"
        params += [base + ".", base + "/"]  # '/' sorts right after '.'
    everyone = await tx.all(
        "SELECT desa_code, COUNT(*) AS n FROM workers WHERE desa_code IS NOT NULL"
        + where
        + " GROUP BY desa_code",
        params,
    )
    rejected = await tx.all(
        "SELECT desa_code, COUNT(*) AS n FROM workers WHERE registration_status = 'rejected' "
        "AND desa_code IS NOT NULL" + where + " GROUP BY desa_code",
        params,
    )
    out: dict[str, int] = {}
    for rows, sign in ((everyone, 1), (rejected, -1)):
        for r in rows:
            code = str(r["desa_code"])[:8]
            out[code] = out.get(code, 0) + sign * int(r["n"])
    return out


async def claims_by_month(tx: Tx, *, kecamatan: str | None) -> list[tuple[str, str, str, int]]:
    """(month ``YYYY-MM`` reported, type, status, count) of the claims (drafts left out)."""
    where = ""
    params: list[Any] = ["draft"]
    if kecamatan:
        where = " AND " + _CLAIM_DESA + " LIKE ?"
        params.append(_prefix(kecamatan))
    rows = await tx.all(
        "SELECT substr(c.reported_at, 1, 7) AS month, c.type, c.status, COUNT(*) AS n "
        "FROM claims c LEFT JOIN workers w ON w.id = c.worker_id "
        "WHERE c.status != ? AND c.reported_at IS NOT NULL"
        + where
        + " GROUP BY substr(c.reported_at, 1, 7), c.type, c.status",
        params,
    )
    return [(str(r["month"]), str(r["type"]), str(r["status"]), int(r["n"])) for r in rows]


async def paid_claims(
    tx: Tx, paid_status: str, *, kecamatan: str | None
) -> list[tuple[str, dict[str, Any], str | None]]:
    """(type, answers, when it was moved to ``paid_status``) of every paid claim (in scope)."""
    where = ""
    params: list[Any] = [paid_status, paid_status]
    if kecamatan:
        where = " AND " + _CLAIM_DESA + " LIKE ?"
        params.append(_prefix(kecamatan))
    rows = await tx.all(
        "SELECT c.type, c.answers, (SELECT MAX(e.at) FROM claim_events e "
        "WHERE e.claim_id = c.id AND e.to_status = ?) AS paid_at "
        "FROM claims c LEFT JOIN workers w ON w.id = c.worker_id WHERE c.status = ?" + where,
        params,
    )
    return [(str(r["type"]), loads(r["answers"]) or {}, r["paid_at"]) for r in rows]


async def messages_by_key(
    tx: Tx, *, kecamatan: str | None
) -> list[tuple[str, str, str, str, str | None, int]]:
    """(class, msg_key, channel, status, delivery_status, count) of the reminders, broadcasts and
    notifications (a viewer: those to chats linked to a worker of the kecamatan)."""
    params: list[Any] = []
    join = ""
    where = ""
    if kecamatan:
        join = " JOIN chats ch ON ch.id = o.chat_id JOIN workers w ON w.id = ch.worker_id"
        where = " AND w.desa_code LIKE ?"
        params.append(_prefix(kecamatan))
    rows = await tx.all(
        "SELECT o.class, o.msg_key, o.channel, o.status, o.delivery_status, COUNT(*) AS n "
        "FROM outbox o"
        + join
        + " WHERE o.class IN ('reminder', 'broadcast', 'transactional')"
        + where
        + " GROUP BY o.class, o.msg_key, o.channel, o.status, o.delivery_status",
        params,
    )
    return [
        (
            str(r["class"]),
            str(r["msg_key"]),
            str(r["channel"]),
            str(r["status"]),
            r["delivery_status"],
            int(r["n"]),
        )
        for r in rows
    ]
