"""Claims: allocation of references, rows, events, documents and scoped lists."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from lingkaran_core.scope import Scope
from lingkaran_core.storage.db import Row, Tx, dumps
from lingkaran_core.storage.facilitator_repo import scope_sql
from lingkaran_core.storage.repos import CLAIM_COLS, Claim, claim_from_row


async def id_by_idempotency_key(tx: Tx, key: str) -> int | None:
    """The claim already stored for an idempotency key."""
    found = await tx.scalar("SELECT id FROM claims WHERE idempotency_key = ?", (key,))
    return None if found is None else int(found)


async def next_seq(tx: Tx, year: int) -> int:
    """The next claim number of a year (counted in the database, so never reused)."""
    last = await tx.scalar(
        "INSERT INTO claim_counters (year, last) VALUES (?, 1) "
        "ON CONFLICT (year) DO UPDATE SET last = claim_counters.last + 1 RETURNING last",
        (year,),
    )
    return int(last)


async def insert(
    tx: Tx,
    *,
    ref: str,
    claim_type: str,
    status: str,
    event_date: date,
    event_at: datetime | None,
    now: datetime,
    late_report: bool,
    reporter_chat_id: int | None,
    facilitator_id: int | None,
    worker_id: int | None,
    subject_nik: str | None,
    subject_name: str | None,
    desa_code: str | None,
    claimant_name: str | None,
    claimant_nik: str | None,
    claimant_phone: str | None,
    relation: str | None,
    answers: dict[str, Any],
    checklist: list[str],
    idempotency_key: str,
    event_coverage: str | None = None,
) -> int:
    """Store a claim row; its id."""
    return await tx.execute(
        "INSERT INTO claims (ref, type, status, event_date, event_at, reported_at, late_report, "
        "reporter_chat_id, facilitator_id, worker_id, subject_nik, subject_name, desa_code, "
        "claimant_name, claimant_nik, claimant_phone, relation, answers, checklist, "
        "idempotency_key, created_at, updated_at, event_coverage) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ref,
            claim_type,
            status,
            event_date.isoformat(),
            None if event_at is None else event_at.isoformat(),
            now.isoformat(),
            int(late_report),
            reporter_chat_id,
            facilitator_id,
            worker_id,
            subject_nik,
            subject_name,
            desa_code,
            claimant_name,
            claimant_nik,
            claimant_phone,
            relation,
            dumps(answers),
            dumps(checklist),
            idempotency_key,
            now.isoformat(),
            now.isoformat(),
            event_coverage,
        ),
    )


async def insert_event(
    tx: Tx,
    claim_id: int,
    *,
    from_status: str | None,
    to_status: str,
    actor: str,
    actor_ref: str | None,
    channel: str | None,
    note: str | None,
    at: datetime,
) -> None:
    """One line of a claim's status history."""
    await tx.execute(
        "INSERT INTO claim_events (claim_id, from_status, to_status, actor, actor_ref, channel, "
        "note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (claim_id, from_status, to_status, actor, actor_ref, channel, note, at.isoformat()),
    )


async def set_status(
    tx: Tx, claim_id: int, status: str, *, now: datetime, docs_requested_at: str | None
) -> None:
    """A claim's new status."""
    await tx.execute(
        "UPDATE claims SET status = ?, updated_at = ?, docs_requested_at = ? WHERE id = ?",
        (status, now.isoformat(), docs_requested_at, claim_id),
    )


async def insert_document(
    tx: Tx,
    claim_id: int,
    *,
    kind: str,
    path: str,
    sha256: str,
    mime: str,
    size: int,
    chat_id: int | None,
    at: datetime,
    replaces: bool = False,
) -> bool:
    """Record a stored file; False when the same file was recorded for this claim already.

    With ``replaces`` the earlier files of that kind stop counting as received (kept, marked).
    """
    changed = await tx.execute_rowcount(
        "INSERT INTO claim_documents (claim_id, kind, path, sha256, mime, size, "
        "chat_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (claim_id, sha256) DO NOTHING",
        (claim_id, kind, path, sha256, mime, size, chat_id, at.isoformat()),
    )
    if changed > 0 and replaces:
        await tx.execute(
            "UPDATE claim_documents SET replaced_at = ? WHERE claim_id = ? AND kind = ? "
            "AND replaced_at IS NULL AND sha256 <> ?",
            (at.isoformat(), claim_id, kind, sha256),
        )
    return changed > 0


async def send_back_documents(tx: Tx, claim_id: int, kinds: Iterable[str], *, at: datetime) -> int:
    """Staff sent these kinds back (unreadable, wrong): they count as missing again."""
    n = 0
    for kind in kinds:
        n += await tx.execute_rowcount(
            "UPDATE claim_documents SET replaced_at = ? WHERE claim_id = ? AND kind = ? "
            "AND replaced_at IS NULL",
            (at.isoformat(), claim_id, kind),
        )
    return n


async def set_checklist(tx: Tx, claim_id: int, checklist: list[str], *, now: datetime) -> None:
    """A claim's document checklist (JKK: extended when tahap II opens)."""
    await tx.execute(
        "UPDATE claims SET checklist = ?, updated_at = ? WHERE id = ?",
        (dumps(checklist), now.isoformat(), claim_id),
    )


async def set_answers(tx: Tx, claim_id: int, answers: dict[str, Any], *, now: datetime) -> None:
    """A claim's answers (the whole JSON object, merged by the caller)."""
    await tx.execute(
        "UPDATE claims SET answers = ?, updated_at = ? WHERE id = ?",
        (dumps(answers), now.isoformat(), claim_id),
    )


async def set_notice_sent(tx: Tx, claim_id: int, *, at: datetime) -> None:
    """The OPD forwarded the JKK tahap I notice (first time only)."""
    await tx.execute(
        "UPDATE claims SET notice_sent_at = COALESCE(notice_sent_at, ?), updated_at = ? "
        "WHERE id = ?",
        (at.isoformat(), at.isoformat(), claim_id),
    )


async def same_event(
    tx: Tx,
    *,
    claim_type: str,
    worker_id: int | None,
    subject_nik: str | None,
    event_date: date,
    finals: Iterable[str],
) -> list[Claim]:
    """Claims under way of this type, about this worker (or NIK), on this event date."""
    if worker_id is None and not subject_nik:
        return []
    marks, values = _not_in(finals)
    rows = await tx.all(
        f"SELECT {CLAIM_COLS} FROM claims WHERE type = ? AND event_date = ? "
        "AND ((worker_id IS NOT NULL AND worker_id = ?) OR (subject_nik IS NOT NULL "
        f"AND subject_nik = ?)) AND status NOT IN ({marks}) ORDER BY id",
        (
            claim_type,
            event_date.isoformat(),
            worker_id if worker_id is not None else -1,
            subject_nik or "",
            *values,
        ),
    )
    return [claim_from_row(r) for r in rows]


async def unsent_notices_on(tx: Tx, *, day: date, finals: Iterable[str]) -> list[Row]:
    """Open JKK reports of an accident on ``day`` whose tahap I notice is not recorded as
    forwarded: (id, status, event_date, event_at)."""
    marks, values = _not_in(finals)
    return await tx.all(
        "SELECT id, status, event_date, event_at FROM claims WHERE type = 'JKK' "
        f"AND notice_sent_at IS NULL AND event_date = ? AND status NOT IN ({marks}) ORDER BY id",
        (day.isoformat(), *values),
    )


def _not_in(statuses: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    values = tuple(statuses)
    return ", ".join("?" for _ in values), values


async def open_of_worker(tx: Tx, worker_id: int, finals: Iterable[str]) -> list[Claim]:
    """A worker's claims not in a final state, newest first."""
    marks, values = _not_in(finals)
    rows = await tx.all(
        f"SELECT {CLAIM_COLS} FROM claims WHERE worker_id = ? AND status NOT IN ({marks}) "
        "ORDER BY id DESC",
        (worker_id, *values),
    )
    return [claim_from_row(r) for r in rows]


async def open_in_scope(tx: Tx, scope: Scope, finals: Iterable[str]) -> list[Claim]:
    """Claims of a scope not in a final state, oldest first."""
    marks, values = _not_in(finals)
    # A claim about a roster worker may carry no desa of its own: the worker's desa counts.
    clause, params = scope_sql(scope, "COALESCE(c.desa_code, w.desa_code)")
    cols = ", ".join(f"c.{col.strip()}" for col in CLAIM_COLS.split(","))
    rows = await tx.all(
        f"SELECT {cols} FROM claims c LEFT JOIN workers w ON w.id = c.worker_id "
        f"WHERE {clause} AND c.status NOT IN ({marks}) ORDER BY c.id",
        (*params, *values),
    )
    return [claim_from_row(r) for r in rows]
