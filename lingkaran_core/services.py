"""Use cases: each runs inside the caller's transaction and writes its audit and outbox rows.

Flows (handlers), the admin CLI and the scheduler all change the world through these functions,
so a claim status change, say, records its event, audits it and queues the notification the same
way whoever caused it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from lingkaran_core import claims as claim_rules
from lingkaran_core.claims import Actor, ClaimStatus, ClaimType
from lingkaran_core.errors import Conflict, NotFound, RateLimited
from lingkaran_core.storage.db import Tx, dumps
from lingkaran_core.storage.repos import Claim, Worker, claim_by_id, claim_by_ref, received_kinds
from lingkaran_core.storage.repos import worker_by_nik as _worker_by_nik

logger = logging.getLogger(__name__)

ADMIN_CHANNEL = "admin"
ADMIN_QUEUE = "opd"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
ALLOWED_DOCUMENT_MIMES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf"}
)
_EXT = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}

# -------------------------------------------------------------------------------------------
# Audit and outbox


async def audit(
    tx: Tx,
    *,
    now: datetime,
    actor_kind: str,
    actor_id: str | int | None,
    action: str,
    target_kind: str | None = None,
    target_id: str | int | None = None,
    channel: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append to the audit log (who, what, which record, channel, when)."""
    await tx.execute(
        "INSERT INTO audit_log (at, actor_kind, actor_id, action, target_kind, target_id, "
        "channel, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            now.isoformat(),
            actor_kind,
            None if actor_id is None else str(actor_id),
            action,
            target_kind,
            None if target_id is None else str(target_id),
            channel,
            dumps(details or {}),
        ),
    )


async def enqueue(
    tx: Tx,
    *,
    now: datetime,
    chat_id: int | None,
    channel: str,
    user_ref: str,
    msg_key: str,
    params: dict[str, Any] | None = None,
    msg_class: str = "transactional",
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    priority: int = 5,
    language: str | None = None,
) -> int | None:
    """Queue an outgoing message (rendered at send time); None when the dedupe key exists."""
    changed = await tx.execute_rowcount(
        "INSERT OR IGNORE INTO outbox (chat_id, channel, user_ref, msg_key, params, language, "
        "class, priority, dedupe_key, not_before, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            chat_id,
            channel,
            user_ref,
            msg_key,
            dumps(params or {}),
            language,
            msg_class,
            priority,
            dedupe_key,
            (not_before or now).isoformat(),
            now.isoformat(),
        ),
    )
    if not changed:
        return None
    return int(await tx.scalar("SELECT last_insert_rowid()"))


async def enqueue_to_chat(
    tx: Tx,
    chat_id: int,
    *,
    now: datetime,
    msg_key: str,
    params: dict[str, Any] | None = None,
    msg_class: str = "transactional",
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    priority: int = 5,
) -> int | None:
    """Queue a message to a known chat (its channel and user ref looked up)."""
    row = await tx.one("SELECT channel, user_ref FROM chats WHERE id = ?", (chat_id,))
    if row is None:
        return None
    return await enqueue(
        tx,
        now=now,
        chat_id=chat_id,
        channel=row["channel"],
        user_ref=row["user_ref"],
        msg_key=msg_key,
        params=params,
        msg_class=msg_class,
        dedupe_key=dedupe_key,
        not_before=not_before,
        priority=priority,
    )


async def alert_admin(
    tx: Tx, *, now: datetime, msg_key: str, params: dict[str, Any], dedupe_key: str
) -> None:
    """Put an item on the OPD's admin queue (read with ``bot.py admin outbox``)."""
    await enqueue(
        tx,
        now=now,
        chat_id=None,
        channel=ADMIN_CHANNEL,
        user_ref=ADMIN_QUEUE,
        msg_key=msg_key,
        params=params,
        msg_class="transactional",
        dedupe_key=dedupe_key,
        priority=1,
    )


async def facilitator_chats_for_desa(tx: Tx, desa_code: str) -> list[int]:
    """Bound, unrevoked facilitators whose scope covers a desa."""
    kec = ".".join(desa_code.split(".")[:3])
    rows = await tx.all(
        "SELECT bound_chat_id FROM facilitators WHERE bound_chat_id IS NOT NULL "
        "AND revoked_at IS NULL AND ((scope_kind = 'desa' AND scope_code = ?) "
        "OR (scope_kind = 'kecamatan' AND scope_code = ?))",
        (desa_code, kec),
    )
    return [r["bound_chat_id"] for r in rows]


async def facilitator_covers(tx: Tx, facilitator_id: int, desa_code: str) -> bool:
    """Whether an active facilitator's scope (a desa or a whole kecamatan) includes a desa."""
    row = await tx.one(
        "SELECT scope_kind, scope_code FROM facilitators WHERE id = ? AND revoked_at IS NULL",
        (facilitator_id,),
    )
    if row is None:
        return False
    if row["scope_kind"] == "desa":
        return bool(row["scope_code"] == desa_code)
    return desa_code.startswith(str(row["scope_code"]) + ".")


# -------------------------------------------------------------------------------------------
# Claims


async def next_claim_ref(tx: Tx, year: int) -> str:
    """Allocate the next ``LC-YYYY-NNNNNN`` reference."""
    await tx.execute(
        "INSERT INTO claim_counters (year, last) VALUES (?, 1) "
        "ON CONFLICT (year) DO UPDATE SET last = last + 1",
        (year,),
    )
    seq = int(await tx.scalar("SELECT last FROM claim_counters WHERE year = ?", (year,)))
    return claim_rules.format_claim_ref(year, seq)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewClaim:
    """What a flow (or the admin) collected for a new claim."""

    claim_type: ClaimType
    event_date: date
    event_at: datetime | None = None
    reporter_chat_id: int | None = None
    facilitator_id: int | None = None
    worker_id: int | None = None
    subject_nik: str | None = None
    subject_name: str | None = None
    desa_code: str | None = None
    claimant_name: str | None = None
    claimant_nik: str | None = None
    claimant_phone: str | None = None
    relation: str | None = None
    answers: dict[str, Any] | None = None
    checklist: tuple[str, ...] = ()
    late_report: bool = False


async def submit_claim(
    tx: Tx,
    new: NewClaim,
    *,
    now: datetime,
    idempotency_key: str,
    channel: str,
    actor: Actor = Actor.CLAIMANT,
) -> Claim:
    """Store a confirmed report as a ``submitted`` claim (once per idempotency key)."""
    existing = await tx.one("SELECT id FROM claims WHERE idempotency_key = ?", (idempotency_key,))
    if existing is not None:
        found = await claim_by_id(tx, existing["id"])
        assert found is not None
        return found
    worker_id = new.worker_id
    desa = new.desa_code
    if worker_id is None and new.subject_nik:
        w = await _worker_by_nik(tx, new.subject_nik)
        if w is not None:
            worker_id = w.id
    if desa is None and worker_id is not None:
        # The desa decides which facilitator sees the claim and hears of its changes.
        desa = await tx.scalar("SELECT desa_code FROM workers WHERE id = ?", (worker_id,))
    ref = await next_claim_ref(tx, now.year)
    claim_id = await tx.execute(
        "INSERT INTO claims (ref, type, status, event_date, event_at, reported_at, late_report, "
        "reporter_chat_id, facilitator_id, worker_id, subject_nik, subject_name, desa_code, "
        "claimant_name, claimant_nik, claimant_phone, relation, answers, checklist, "
        "idempotency_key, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ref,
            str(new.claim_type),
            str(ClaimStatus.SUBMITTED),
            new.event_date.isoformat(),
            None if new.event_at is None else new.event_at.isoformat(),
            now.isoformat(),
            int(new.late_report),
            new.reporter_chat_id,
            new.facilitator_id,
            worker_id,
            new.subject_nik,
            new.subject_name,
            desa,
            new.claimant_name,
            new.claimant_nik,
            new.claimant_phone,
            new.relation,
            dumps(new.answers or {}),
            dumps(list(new.checklist)),
            idempotency_key,
            now.isoformat(),
            now.isoformat(),
        ),
    )
    await _event(
        tx,
        claim_id,
        ClaimStatus.DRAFT,
        ClaimStatus.SUBMITTED,
        actor=actor,
        actor_ref=str(new.reporter_chat_id),
        channel=channel,
        note=None,
        now=now,
    )
    await audit(
        tx,
        now=now,
        actor_kind=str(actor),
        actor_id=new.facilitator_id if actor == Actor.FACILITATOR else new.reporter_chat_id,
        action="claim.submit",
        target_kind="claim",
        target_id=ref,
        channel=channel,
        details={"type": str(new.claim_type), "late": new.late_report},
    )
    if new.claim_type == ClaimType.JKK:
        # The OPD must forward a JKK report to BPJS TK within 2×24 h of the accident.
        await alert_admin(
            tx,
            now=now,
            msg_key="admin.new_jkk",
            params={"ref": ref, "event_date": new.event_date.isoformat()},
            dedupe_key=f"jkk-new:{ref}",
        )
    claim = await claim_by_id(tx, claim_id)
    assert claim is not None
    logger.info("claim submitted", extra={"ref": ref, "type": str(new.claim_type)})
    return claim


async def _event(
    tx: Tx,
    claim_id: int,
    from_status: ClaimStatus | None,
    to_status: ClaimStatus,
    *,
    actor: Actor,
    actor_ref: str | None,
    channel: str | None,
    note: str | None,
    now: datetime,
) -> None:
    await tx.execute(
        "INSERT INTO claim_events (claim_id, from_status, to_status, actor, actor_ref, channel, "
        "note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            claim_id,
            None if from_status is None else str(from_status),
            str(to_status),
            str(actor),
            actor_ref,
            channel,
            note,
            now.isoformat(),
        ),
    )


async def transition_claim(
    tx: Tx,
    ref: str,
    target: ClaimStatus,
    *,
    actor: Actor,
    now: datetime,
    actor_ref: str | None = None,
    channel: str | None = None,
    note: str | None = None,
) -> Claim:
    """Move a claim along the state machine, record it, and tell the claimant (and facilitator)."""
    claim = await claim_by_ref(tx, ref)
    if claim is None:
        raise NotFound("claim.not_found", ref=ref)
    current = ClaimStatus(claim.status)
    claim_rules.check_transition(current, target, actor=actor, reason=note)
    docs_requested_at = (
        now.isoformat() if target == ClaimStatus.DOCUMENTS_REQUESTED else claim.docs_requested_at
    )
    await tx.execute(
        "UPDATE claims SET status = ?, updated_at = ?, docs_requested_at = ? WHERE id = ?",
        (str(target), now.isoformat(), docs_requested_at, claim.id),
    )
    await _event(
        tx,
        claim.id,
        current,
        target,
        actor=actor,
        actor_ref=actor_ref,
        channel=channel,
        note=note,
        now=now,
    )
    await audit(
        tx,
        now=now,
        actor_kind=str(actor),
        actor_id=actor_ref,
        action="claim.transition",
        target_kind="claim",
        target_id=claim.ref,
        channel=channel,
        details={"from": str(current), "to": str(target)},
    )
    params = {"ref": claim.ref, "status": str(target), "note": note or ""}
    key = f"claim-status:{claim.ref}:{target}:{now.isoformat()}"
    if claim.reporter_chat_id is not None:
        await enqueue_to_chat(
            tx,
            claim.reporter_chat_id,
            now=now,
            msg_key="claim.status_changed",
            params=params,
            dedupe_key=key,
            priority=2,
        )
    if claim.desa_code:
        for fchat in await facilitator_chats_for_desa(tx, claim.desa_code):
            if fchat != claim.reporter_chat_id:
                await enqueue_to_chat(
                    tx,
                    fchat,
                    now=now,
                    msg_key="claim.status_changed",
                    params=params,
                    dedupe_key=f"{key}:f{fchat}",
                    priority=3,
                )
    updated = await claim_by_id(tx, claim.id)
    assert updated is not None
    return updated


def missing_documents(claim: Claim, received: list[str]) -> list[str]:
    """Kinds on the checklist not yet received."""
    have = set(received)
    return [k for k in claim.checklist if k not in have]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDocument:
    """A document stored with a claim, and what is still missing after it."""

    kind: str
    path: Path
    duplicate: bool
    missing: list[str]


async def add_document(
    tx: Tx,
    claim: Claim,
    *,
    kind: str,
    data: bytes,
    mime: str,
    chat_id: int | None,
    files_dir: Path,
    now: datetime,
    channel: str | None = None,
) -> StoredDocument:
    """Store a photo/file for a claim (named by its hash); complete checklists go to review."""
    from lingkaran_core.errors import DomainError

    if len(data) > MAX_DOCUMENT_BYTES:
        raise DomainError("document.too_large", max_mb=MAX_DOCUMENT_BYTES // (1024 * 1024))
    if mime not in ALLOWED_DOCUMENT_MIMES:
        raise DomainError("document.bad_type", mime=mime)
    if ClaimStatus(claim.status) in claim_rules.FINAL_STATES:
        raise Conflict("document.claim_closed", ref=claim.ref)
    digest = hashlib.sha256(data).hexdigest()
    folder = files_dir / "claims" / claim.ref
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}{_EXT.get(mime, '.bin')}"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    changed = await tx.execute_rowcount(
        "INSERT OR IGNORE INTO claim_documents (claim_id, kind, path, sha256, mime, size, "
        "chat_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (claim.id, kind, str(path), digest, mime, len(data), chat_id, now.isoformat()),
    )
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="claim.document",
        target_kind="claim",
        target_id=claim.ref,
        channel=channel,
        details={"kind": kind, "size": len(data)},
    )
    missing = missing_documents(claim, await received_kinds(tx, claim.id))
    if not missing and claim.status == ClaimStatus.DOCUMENTS_REQUESTED:
        await transition_claim(
            tx,
            claim.ref,
            ClaimStatus.IN_REVIEW,
            actor=Actor.SYSTEM,
            now=now,
            channel=channel,
            note="checklist complete",
        )
    return StoredDocument(kind=kind, path=path, duplicate=changed == 0, missing=missing)


# -------------------------------------------------------------------------------------------
# Linking a chat to a worker (NIK + date of birth), with a brute-force cool-down

MAX_LINK_FAILURES = 5
LOCKOUT = timedelta(minutes=30)
FAILURE_MEMORY = timedelta(hours=24)


def _nik_key(nik: str) -> str:
    return "nik:" + hashlib.sha256(nik.encode()).hexdigest()[:32]


async def link_locked_until(
    tx: Tx, *, chat_id: int, nik: str | None, now: datetime
) -> datetime | None:
    """When the chat (or the NIK, across channels) may try again, if locked now."""
    keys = [f"chat:{chat_id}"] + ([_nik_key(nik)] if nik else [])
    latest: datetime | None = None
    for key in keys:
        until = await tx.scalar("SELECT locked_until FROM link_attempts WHERE key = ?", (key,))
        if until:
            when = datetime.fromisoformat(until)
            if when > now and (latest is None or when > latest):
                latest = when
    return latest


async def _fail(tx: Tx, key: str, now: datetime) -> datetime | None:
    row = await tx.one(
        "SELECT failures, lockouts, updated_at FROM link_attempts WHERE key = ?", (key,)
    )
    failures = (row["failures"] if row else 0) + 1
    if row is not None and now - datetime.fromisoformat(row["updated_at"]) > FAILURE_MEMORY:
        failures = 1  # old mistakes are forgotten after a day; repeat lockouts still double
    lockouts = row["lockouts"] if row else 0
    locked_until: datetime | None = None
    if failures >= MAX_LINK_FAILURES:
        # 30 minutes, doubling on every repeat lockout.
        locked_until = now + LOCKOUT * (2**lockouts)
        lockouts += 1
        failures = 0
    await tx.execute(
        "INSERT INTO link_attempts (key, failures, lockouts, locked_until, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
        "lockouts = excluded.lockouts, locked_until = COALESCE(excluded.locked_until, "
        "link_attempts.locked_until), updated_at = excluded.updated_at",
        (
            key,
            failures,
            lockouts,
            None if locked_until is None else locked_until.isoformat(),
            now.isoformat(),
        ),
    )
    return locked_until


async def link_account(
    tx: Tx, *, chat_id: int, nik: str, birth_date: date, now: datetime, channel: str
) -> Worker:
    """Link a chat to the worker with this NIK and birth date; never says which part was wrong."""
    locked = await link_locked_until(tx, chat_id=chat_id, nik=nik, now=now)
    if locked is not None:
        raise RateLimited("link.locked", until=locked.isoformat())
    worker = await _worker_by_nik(tx, nik)
    if worker is None or worker.birth_date != birth_date:
        until_chat = await _fail(tx, f"chat:{chat_id}", now)
        until_nik = await _fail(tx, _nik_key(nik), now)
        await audit(
            tx,
            now=now,
            actor_kind="chat",
            actor_id=chat_id,
            action="link.failed",
            channel=channel,
        )
        until = max((u for u in (until_chat, until_nik) if u is not None), default=None)
        if until is not None:
            raise RateLimited("link.locked", until=until.isoformat())
        raise NotFound("link.no_match")
    await tx.execute(
        "DELETE FROM link_attempts WHERE key IN (?, ?)", (f"chat:{chat_id}", _nik_key(nik))
    )
    await tx.execute(
        "UPDATE chats SET worker_id = ?, active_role = CASE WHEN active_role = 'facilitator' "
        "THEN 'facilitator' ELSE 'worker' END WHERE id = ?",
        (worker.id, chat_id),
    )
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="link.ok",
        target_kind="worker",
        target_id=worker.id,
        channel=channel,
    )
    return worker


# -------------------------------------------------------------------------------------------
# Human inbox and leads


async def open_ticket(
    tx: Tx,
    *,
    chat_id: int,
    body: str | None,
    now: datetime,
    topic: str = "question",
    media: str | None = None,
    channel: str | None = None,
    reopen: bool = True,
) -> int:
    """Open a ticket for a person (the desa's facilitator, or the admin queue).

    A message to a ticket staff already answered puts it back in the queue (``reopen``), except
    a plain thank-you, which the caller passes with ``reopen=False``.
    """
    row = await tx.one(
        "SELECT c.worker_id, w.desa_code FROM chats c LEFT JOIN workers w ON w.id = c.worker_id "
        "WHERE c.id = ?",
        (chat_id,),
    )
    worker_id = row["worker_id"] if row else None
    desa = row["desa_code"] if row else None
    existing = await tx.scalar(
        "SELECT id FROM tickets WHERE chat_id = ? AND status != 'closed' ORDER BY id DESC",
        (chat_id,),
    )
    if existing is not None:
        ticket_id = int(existing)
        await tx.execute(
            "UPDATE tickets SET updated_at = ?, status = CASE WHEN ? THEN 'open' ELSE status END "
            "WHERE id = ?",
            (now.isoformat(), int(reopen), ticket_id),
        )
    else:
        ticket_id = await tx.execute(
            "INSERT INTO tickets (chat_id, worker_id, desa_code, topic, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (chat_id, worker_id, desa, topic, now.isoformat(), now.isoformat()),
        )
    await tx.execute(
        "INSERT INTO ticket_messages (ticket_id, sender, body, media, at) VALUES (?, 'user', ?, ?, ?)",
        (ticket_id, body, media, now.isoformat()),
    )
    targets = await facilitator_chats_for_desa(tx, desa) if desa else []
    for fchat in targets:
        await enqueue_to_chat(
            tx,
            fchat,
            now=now,
            msg_key="ticket.new",
            params={"ticket": ticket_ref(ticket_id)},
            dedupe_key=f"ticket-new:{ticket_id}:{now.isoformat()}:{fchat}",
            priority=3,
        )
    if not targets:
        await alert_admin(
            tx,
            now=now,
            msg_key="admin.ticket",
            params={"ticket": ticket_ref(ticket_id)},
            dedupe_key=f"ticket-admin:{ticket_id}:{now.isoformat()}",
        )
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="ticket.message",
        target_kind="ticket",
        target_id=ticket_id,
        channel=channel,
    )
    return ticket_id


def ticket_ref(ticket_id: int) -> str:
    """``T-0042``."""
    return f"T-{ticket_id:04d}"


async def create_lead(
    tx: Tx,
    *,
    desa_code: str,
    chat_id: int,
    phone: str | None,
    answers: dict[str, Any],
    decision: str,
    now: datetime,
) -> int:
    """A self-screened person the desa's facilitator should contact (with their consent)."""
    lead_id = await tx.execute(
        "INSERT INTO leads (desa_code, chat_id, phone, answers, decision, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (desa_code, chat_id, phone, dumps(answers), decision, now.isoformat(), now.isoformat()),
    )
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="lead.create",
        target_kind="lead",
        target_id=lead_id,
    )
    return lead_id
