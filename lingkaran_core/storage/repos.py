"""Row ↔ record mapping and the queries shared by services, flows and the admin CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from lingkaran_core.storage.db import Tx, loads


@dataclass(frozen=True, slots=True, kw_only=True)
class Worker:
    """A roster record."""

    id: int
    nik: str
    name: str
    birth_date: date
    sex: str
    desa_code: str
    sector: str
    occupation: str | None
    phone: str | None
    dtsen_decile: int | None
    kpj: str | None
    coverage_start: date | None
    paid_through: date | None
    funder: str
    registration_status: str
    registered_by: int | None
    rejection_reason: str | None
    deceased_on: date | None


def _d(text: str | None) -> date | None:
    return None if not text else date.fromisoformat(text)


WORKER_COLS = (
    "id, nik, name, birth_date, sex, desa_code, sector, occupation, phone, dtsen_decile, kpj, "
    "coverage_start, paid_through, funder, registration_status, registered_by, rejection_reason, "
    "deceased_on"
)


def worker_from_row(row: Any) -> Worker:
    """Map a ``workers`` row (selected with WORKER_COLS)."""
    return Worker(
        id=row["id"],
        nik=row["nik"],
        name=row["name"],
        birth_date=date.fromisoformat(row["birth_date"]),
        sex=row["sex"],
        desa_code=row["desa_code"],
        sector=row["sector"],
        occupation=row["occupation"],
        phone=row["phone"],
        dtsen_decile=row["dtsen_decile"],
        kpj=row["kpj"],
        coverage_start=_d(row["coverage_start"]),
        paid_through=_d(row["paid_through"]),
        funder=row["funder"],
        registration_status=row["registration_status"],
        registered_by=row["registered_by"],
        rejection_reason=row["rejection_reason"],
        deceased_on=_d(row["deceased_on"]),
    )


async def worker_by_nik(tx: Tx, nik: str) -> Worker | None:
    """A worker by full NIK."""
    row = await tx.one(f"SELECT {WORKER_COLS} FROM workers WHERE nik = ?", (nik,))
    return None if row is None else worker_from_row(row)


async def worker_by_id(tx: Tx, worker_id: int) -> Worker | None:
    """A worker by id."""
    row = await tx.one(f"SELECT {WORKER_COLS} FROM workers WHERE id = ?", (worker_id,))
    return None if row is None else worker_from_row(row)


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """A claim report as stored."""

    id: int
    ref: str
    type: str
    status: str
    event_date: date
    event_at: str | None
    reported_at: str
    late_report: bool
    reporter_chat_id: int | None
    facilitator_id: int | None
    worker_id: int | None
    subject_nik: str | None
    subject_name: str | None
    desa_code: str | None
    claimant_name: str | None
    claimant_nik: str | None
    claimant_phone: str | None
    relation: str | None
    answers: dict[str, Any]
    checklist: list[str]
    docs_requested_at: str | None
    event_coverage: str | None = None  # coverage.EventCoverage on the event date, at filing
    notice_sent_at: str | None = None  # JKK: the OPD forwarded the tahap I notice


CLAIM_COLS = (
    "id, ref, type, status, event_date, event_at, reported_at, late_report, reporter_chat_id, "
    "facilitator_id, worker_id, subject_nik, subject_name, desa_code, claimant_name, "
    "claimant_nik, claimant_phone, relation, answers, checklist, docs_requested_at, "
    "event_coverage, notice_sent_at"
)


def claim_from_row(row: Any) -> Claim:
    """Map a ``claims`` row (selected with CLAIM_COLS)."""
    return Claim(
        id=row["id"],
        ref=row["ref"],
        type=row["type"],
        status=row["status"],
        event_date=date.fromisoformat(row["event_date"]),
        event_at=row["event_at"],
        reported_at=row["reported_at"],
        late_report=bool(row["late_report"]),
        reporter_chat_id=row["reporter_chat_id"],
        facilitator_id=row["facilitator_id"],
        worker_id=row["worker_id"],
        subject_nik=row["subject_nik"],
        subject_name=row["subject_name"],
        desa_code=row["desa_code"],
        claimant_name=row["claimant_name"],
        claimant_nik=row["claimant_nik"],
        claimant_phone=row["claimant_phone"],
        relation=row["relation"],
        answers=loads(row["answers"]) or {},
        checklist=loads(row["checklist"]) or [],
        docs_requested_at=row["docs_requested_at"],
        event_coverage=row["event_coverage"],
        notice_sent_at=row["notice_sent_at"],
    )


async def claim_by_ref(tx: Tx, ref: str) -> Claim | None:
    """A claim by its reference."""
    row = await tx.one(f"SELECT {CLAIM_COLS} FROM claims WHERE ref = ?", (ref.upper(),))
    return None if row is None else claim_from_row(row)


async def claim_by_id(tx: Tx, claim_id: int) -> Claim | None:
    """A claim by id."""
    row = await tx.one(f"SELECT {CLAIM_COLS} FROM claims WHERE id = ?", (claim_id,))
    return None if row is None else claim_from_row(row)


async def claims_visible_to_chat(
    tx: Tx, chat_id: int, worker_id: int | None, *, limit: int = 20
) -> list[Claim]:
    """Claims this chat filed, or whose subject is a worker linked to it: ``worker_id`` (the
    chat's own) or any other link of the chat (a household's phone, issue 22)."""
    rows = await tx.all(
        f"SELECT {CLAIM_COLS} FROM claims WHERE reporter_chat_id = ? "
        "OR (worker_id IS NOT NULL AND (worker_id = ? OR worker_id IN "
        "(SELECT worker_id FROM chat_links WHERE chat_id = ?))) ORDER BY id DESC LIMIT ?",
        (chat_id, worker_id if worker_id is not None else -1, chat_id, limit),
    )
    return [claim_from_row(r) for r in rows]


async def received_kinds(tx: Tx, claim_id: int) -> list[str]:
    """Document kinds received for a claim (a replaced or sent-back file does not count)."""
    rows = await tx.all(
        "SELECT DISTINCT kind FROM claim_documents WHERE claim_id = ? AND replaced_at IS NULL "
        "ORDER BY kind",
        (claim_id,),
    )
    return [r["kind"] for r in rows]


async def claim_events(tx: Tx, claim_id: int) -> list[Any]:
    """The status history of a claim, oldest first."""
    return await tx.all(
        "SELECT from_status, to_status, actor, channel, note, at FROM claim_events "
        "WHERE claim_id = ? ORDER BY id",
        (claim_id,),
    )
