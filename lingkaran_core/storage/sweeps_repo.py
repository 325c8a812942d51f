"""The chunked loaders the reminder sweeps read (``lingkaran.channels.scheduler``).

They read big tables by id ranges (``CHUNK`` ids at a time), each range under its own short read
and with ``await asyncio.sleep(0)`` in between, so a 200k-worker sweep neither holds the database
lock nor blocks the event loop for long. What a sweep finds is queued by ``outbox_repo``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lingkaran_core.reminders import (
    ChatTarget,
    CoverageRow,
    DigestCounts,
    FacilitatorRecord,
    JKKClaimRecord,
    MissingDocsClaim,
    ProtectedCandidate,
    ScholarshipClaimRecord,
)
from lingkaran_core.storage.db import Database, loads

CHUNK = 5000


def _date(text: str | None) -> date | None:
    return None if not text else date.fromisoformat(text)


def _dt(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def _target(r: Any, prefix: str = "chat_") -> ChatTarget | None:
    if r[prefix + "id"] is None:
        return None
    return ChatTarget(
        chat_id=r[prefix + "id"],
        channel=r[prefix + "channel"],
        user_ref=r[prefix + "user_ref"],
        language=None,  # rendered in the chat's language at send time
    )


async def load_facilitators(db: Database) -> list[FacilitatorRecord]:
    """Bound, unrevoked facilitators with their chats."""
    async with db.read() as r:
        rows = await r.all(
            "SELECT f.id, f.scope_kind, f.scope_code, c.id AS chat_id, c.channel AS chat_channel, "
            "c.user_ref AS chat_user_ref FROM facilitators f JOIN chats c ON c.id = f.bound_chat_id "
            "WHERE f.revoked_at IS NULL ORDER BY f.id"
        )
    out: list[FacilitatorRecord] = []
    for row in rows:
        target = _target(row)
        assert target is not None
        out.append(
            FacilitatorRecord(
                facilitator_id=row["id"],
                scope_kind=row["scope_kind"],
                scope_code=row["scope_code"],
                chat=target,
            )
        )
    return out


async def _max_id(db: Database, table: str) -> int:
    async with db.read() as r:
        return int(await r.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}") or 0)


async def _claim_chunks(
    db: Database, where: str, params: Sequence[Any], chunk: int
) -> AsyncIterator[list[Any]]:
    top = await _max_id(db, "claims")
    lo = 0
    while lo < top:
        async with db.read() as r:
            rows = await r.all(
                "SELECT cl.id, cl.ref, cl.type, cl.status, cl.event_date, cl.event_at, "
                "cl.reported_at, cl.desa_code, cl.checklist, cl.docs_requested_at, "
                "cl.worker_id, w.name AS worker_name, w.sex AS worker_sex, "
                "c.id AS chat_id, c.channel AS chat_channel, c.user_ref AS chat_user_ref "
                "FROM claims cl LEFT JOIN chats c ON c.id = cl.reporter_chat_id "
                "LEFT JOIN workers w ON w.id = cl.worker_id "
                f"WHERE cl.id > ? AND cl.id <= ? AND {where} ORDER BY cl.id",
                (lo, lo + chunk, *params),
            )
        lo += chunk
        if rows:
            yield rows
        await asyncio.sleep(0)


async def iter_missing_docs_claims(
    db: Database, *, chunk: int = CHUNK
) -> AsyncIterator[list[MissingDocsClaim]]:
    """Open claims (submitted, in review, documents requested) with checklist items missing."""
    async for rows in _claim_chunks(
        db, "cl.status IN ('submitted', 'in_review', 'documents_requested')", (), chunk
    ):
        ids = [r["id"] for r in rows]
        async with db.read() as rd:
            docs = await rd.all(
                "SELECT DISTINCT claim_id, kind FROM claim_documents "
                f"WHERE claim_id IN ({','.join('?' * len(ids))}) AND replaced_at IS NULL",
                ids,
            )
        have: dict[int, set[str]] = {}
        for d in docs:
            have.setdefault(d["claim_id"], set()).add(d["kind"])
        linked = await _linked_chats(db, [r["worker_id"] for r in rows if r["worker_id"]])
        out: list[MissingDocsClaim] = []
        for r in rows:
            received = have.get(r["id"], set())
            missing = tuple(k for k in (loads(r["checklist"]) or []) if k not in received)
            if not missing:
                continue
            reported = _dt(r["reported_at"])
            assert reported is not None
            out.append(
                MissingDocsClaim(
                    ref=r["ref"],
                    status=r["status"],
                    reporter=_target(r),
                    desa_code=r["desa_code"],
                    missing=missing,
                    reported_at=reported,
                    docs_requested_at=_dt(r["docs_requested_at"]),
                    linked=linked.get(r["worker_id"], ()),
                    name=r["worker_name"],
                    sex=r["worker_sex"],
                )
            )
        yield out


# Every (chat, worker) link of workers in an id range: the links table and each chat's own link
# (``chats.worker_id``, which an older release or an admin may have set without a row there).
_LINKS_IN_RANGE = (
    "SELECT chat_id, worker_id FROM chat_links WHERE worker_id > ? AND worker_id <= ? "
    "UNION SELECT id AS chat_id, worker_id FROM chats "
    "WHERE worker_id IS NOT NULL AND worker_id > ? AND worker_id <= ?"
)


async def _linked_chats(db: Database, worker_ids: list[int]) -> dict[int, tuple[ChatTarget, ...]]:
    """The chats linked to each of some workers (issue 22: a household's phones too)."""
    ids = sorted(set(worker_ids))
    if not ids:
        return {}
    async with db.read() as r:
        rows = await r.all(
            "SELECT l.worker_id, c.id AS chat_id, c.channel AS chat_channel, "
            "c.user_ref AS chat_user_ref FROM (SELECT chat_id, worker_id FROM chat_links "
            f"WHERE worker_id IN ({','.join('?' * len(ids))}) UNION SELECT id AS chat_id, "
            f"worker_id FROM chats WHERE worker_id IN ({','.join('?' * len(ids))})) l "
            "JOIN chats c ON c.id = l.chat_id ORDER BY l.worker_id, c.id",
            (*ids, *ids),
        )
    out: dict[int, list[ChatTarget]] = {}
    for row in rows:
        target = _target(row)
        if target is not None:
            out.setdefault(row["worker_id"], []).append(target)
    return {k: tuple(v) for k, v in out.items()}


async def iter_jkk_claims(
    db: Database, *, chunk: int = CHUNK
) -> AsyncIterator[list[JKKClaimRecord]]:
    """JKK claims under way whose tahap I notice is not recorded as forwarded."""
    async for rows in _claim_chunks(
        db,
        "cl.type = 'JKK' AND cl.notice_sent_at IS NULL "
        "AND cl.status NOT IN ('paid', 'rejected', 'withdrawn')",
        (),
        chunk,
    ):
        out: list[JKKClaimRecord] = []
        for r in rows:
            reported = _dt(r["reported_at"])
            assert reported is not None
            out.append(
                JKKClaimRecord(
                    ref=r["ref"],
                    status=r["status"],
                    event_date=date.fromisoformat(r["event_date"]),
                    event_at=_dt(r["event_at"]),
                    reported_at=reported,
                )
            )
        yield out


async def iter_scholarship_claims(
    db: Database, *, chunk: int = CHUNK
) -> AsyncIterator[list[ScholarshipClaimRecord]]:
    """Approved or paid BEASISWA claims with the chat that filed them."""
    async for rows in _claim_chunks(
        db, "cl.type = 'BEASISWA' AND cl.status IN ('approved', 'paid')", (), chunk
    ):
        out: list[ScholarshipClaimRecord] = []
        for r in rows:
            reported = _dt(r["reported_at"])
            assert reported is not None
            out.append(
                ScholarshipClaimRecord(
                    ref=r["ref"], status=r["status"], reporter=_target(r), reported_at=reported
                )
            )
        yield out


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageGroup:
    """How many workers of a desa share one (start, paid-through) pair."""

    desa_code: str
    coverage_start: date | None
    paid_through: date | None
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerChunk:
    """One slice of the roster: counts for the facilitators, linked workers, notice candidates."""

    groups: list[CoverageGroup]
    linked: list[CoverageRow]
    notice: list[ProtectedCandidate]


WORKER_RANGE = 10_000  # ids per SQL range: SQLite does the scanning and grouping in its thread
PIECE = 500  # records built on the event loop between two yields

_LIVE = "w.registration_status = 'verified' AND w.deceased_on IS NULL"


def _with_chats(rows: list[Any]) -> list[tuple[Any, tuple[ChatTarget, ...]]]:
    grouped: dict[int, tuple[Any, list[ChatTarget]]] = {}
    for row in rows:
        entry = grouped.get(row["id"])
        if entry is None:
            entry = (row, [])
            grouped[row["id"]] = entry
        t = _target(row)
        if t is not None:
            entry[1].append(t)
    return [(row, tuple(chats)) for row, chats in grouped.values()]


async def iter_worker_chunks(
    db: Database, *, today: date, chunk: int = WORKER_RANGE, piece: int = PIECE
) -> AsyncIterator[WorkerChunk]:
    """Verified, living workers by id range, in three narrow queries per range.

    Everyone is counted by (desa, start, paid-through) groups with ``GROUP BY`` (the policy
    classifies a group once); only workers with a linked chat, and notice candidates (phone,
    no notice yet), come back row by row, and they are turned into records ``piece`` at a time
    with a yield in between, so the loop is never held for long. Notice candidates are
    narrowed to a paid-through month not before this month: a necessary condition of being
    protected today (the policy still decides), which keeps workers in arrears, who never get
    the notice until they are paid up, from being re-read every hour.
    """
    this_month = today.replace(day=1).isoformat()
    top = await _max_id(db, "workers")
    lo = 0
    while lo < top:
        hi = lo + chunk
        async with db.read() as r:
            groups = await r.all(
                "SELECT w.desa_code, w.coverage_start, w.paid_through, COUNT(*) AS n "
                f"FROM workers w WHERE w.id > ? AND w.id <= ? AND {_LIVE} GROUP BY 1, 2, 3",
                (lo, hi),
            )
            linked = await r.all(
                "SELECT w.id, w.name, w.sex, w.desa_code, w.coverage_start, w.paid_through, "
                "w.sector, w.funding_period_id, c.id AS chat_id, "
                "c.channel AS chat_channel, c.user_ref AS chat_user_ref "
                f"FROM ({_LINKS_IN_RANGE}) l JOIN chats c ON c.id = l.chat_id "
                f"JOIN workers w ON w.id = l.worker_id WHERE {_LIVE} ORDER BY w.id, c.id",
                (lo, hi, lo, hi),
            )
            notice = await r.all(
                "SELECT w.id, w.name, w.sex, w.phone, w.coverage_start, w.paid_through, "
                "c.id AS chat_id, c.channel AS chat_channel, c.user_ref AS chat_user_ref "
                f"FROM workers w LEFT JOIN ({_LINKS_IN_RANGE}) l ON l.worker_id = w.id "
                "LEFT JOIN chats c ON c.id = l.chat_id WHERE w.id > ? AND w.id <= ? "
                f"AND {_LIVE} AND w.protected_notice_at IS NULL AND w.phone IS NOT NULL "
                "AND w.paid_through >= ? ORDER BY w.id, c.id",
                (lo, hi, lo, hi, lo, hi, this_month),
            )
        lo = hi
        await asyncio.sleep(0)
        yield WorkerChunk(
            groups=[
                CoverageGroup(
                    desa_code=g["desa_code"],
                    coverage_start=_date(g["coverage_start"]),
                    paid_through=_date(g["paid_through"]),
                    count=g["n"],
                )
                for g in groups
            ],
            linked=[],
            notice=[],
        )
        linked_rows = _with_chats(linked)
        notice_rows = _with_chats(notice)
        for i in range(0, max(len(linked_rows), len(notice_rows)), piece):
            await asyncio.sleep(0)
            yield WorkerChunk(
                groups=[],
                linked=[
                    CoverageRow(
                        worker_id=row["id"],
                        desa_code=row["desa_code"],
                        coverage_start=_date(row["coverage_start"]),
                        paid_through=_date(row["paid_through"]),
                        chats=chats,
                        sector=row["sector"],
                        funding_period_id=row["funding_period_id"],
                        name=row["name"],
                        sex=row["sex"],
                    )
                    for row, chats in linked_rows[i : i + piece]
                ],
                notice=[
                    ProtectedCandidate(
                        worker_id=row["id"],
                        phone=row["phone"],
                        coverage_start=_date(row["coverage_start"]),
                        paid_through=_date(row["paid_through"]),
                        chats=chats,
                        name=row["name"],
                        sex=row["sex"],
                    )
                    for row, chats in notice_rows[i : i + piece]
                ],
            )


async def load_digest_counts(db: Database, *, now: datetime) -> dict[str, DigestCounts]:
    """Per desa: open leads, registrations awaiting the OPD, open claims, claims missing docs."""
    async with db.read() as r:
        leads = await r.all(
            "SELECT desa_code, COUNT(*) AS n FROM leads WHERE status = 'open' GROUP BY desa_code"
        )
        regs = await r.all(
            "SELECT desa_code, COUNT(*) AS n FROM workers WHERE registration_status = 'registered' "
            "GROUP BY desa_code"
        )
        open_claims = await r.all(
            "SELECT desa_code, COUNT(*) AS n FROM claims WHERE desa_code IS NOT NULL AND status "
            "NOT IN ('draft', 'paid', 'rejected', 'withdrawn') GROUP BY desa_code"
        )
        missing = await r.all(
            "SELECT desa_code, COUNT(*) AS n FROM claims WHERE desa_code IS NOT NULL "
            "AND status = 'documents_requested' GROUP BY desa_code"
        )
    acc: dict[str, dict[str, int]] = {}
    for name, rows in (
        ("new_leads", leads),
        ("registrations_waiting", regs),
        ("open_claims", open_claims),
        ("missing_documents", missing),
    ):
        for row in rows:
            acc.setdefault(row["desa_code"], {})[name] = row["n"]
    return {desa: DigestCounts(**vals) for desa, vals in acc.items()}
