"""Every service that acts for a facilitator refuses a record outside the scope, changing nothing.

Two facilitators (one of Desa Sukoreno, one Perisai agent of Kecamatan Kalisat) and a revoked one
meet records of Desa Pugerkulon (Kecamatan Puger): each service raises ``NotAuthorised`` and the
database and the document folder stay exactly as they were. The same calls on a record of the
scope succeed, so the refusals are the scope's doing.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import FixedClock

from lingkaran_core import services
from lingkaran_core.claims import Actor, ClaimType
from lingkaran_core.errors import NotAuthorised
from lingkaran_core.services import Facilitator
from lingkaran_core.storage import Database, Tx, schema_repo
from lingkaran_core.storage.repos import claim_by_ref

DESA_A = "35.09.27.2002"  # Sukoreno, Kec. Kalisat
DESA_B = "35.09.08.2004"  # Pugerkulon, Kec. Puger
NIK = {"a": "3509271505780001", "b": "3509081203800077"}
NEW_NIK = {"a": "3509275505900011", "b": "3509085505900012"}
DESA = {"a": DESA_A, "b": DESA_B}


@dataclass
class World:
    """Per desa ("a" in every scope below, "b" in none): a worker, lead, claim and ticket."""

    worker: dict[str, int]
    lead: dict[str, int]
    claim: dict[str, str]
    ticket: dict[str, int]
    actors: dict[str, Facilitator]
    files_dir: Path


async def _seed(db: Database, clock: FixedClock) -> World:
    now = clock()
    w = World(worker={}, lead={}, claim={}, ticket={}, actors={}, files_dir=db.files_dir)
    async with db.tx() as tx:
        for key in ("a", "b"):
            wid = await tx.execute(
                "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, "
                "coverage_start, paid_through, created_at, updated_at) VALUES (?, ?, "
                "'1978-05-15', 'L', ?, 'nelayan_tangkap', '2020-01-01', '2026-12-31', 'x', 'x')",
                (NIK[key], f"Pekerja {key}", DESA[key]),
            )
            cid = await tx.execute(
                "INSERT INTO chats (channel, user_ref, worker_id, active_role, created_at) "
                "VALUES ('whatsapp', ?, ?, 'worker', 'x')",
                (f"w{key}", wid),
            )
            w.worker[key] = wid
            w.lead[key] = await services.create_lead(
                tx,
                desa_code=DESA[key],
                chat_id=cid,
                phone=None,
                answers={},
                decision="likely",
                now=now,
            )
            claim = await services.submit_claim(
                tx,
                services.NewClaim(
                    claim_type=ClaimType.JKK,
                    event_date=date(2026, 11, 24),
                    reporter_chat_id=cid,
                    worker_id=wid,
                    checklist=("ktp_participant", "surat_dokter"),
                ),
                now=now,
                idempotency_key=f"seed-{key}",
                channel="whatsapp",
            )
            w.claim[key] = claim.ref
            w.ticket[key] = await services.open_ticket(tx, chat_id=cid, body="pertanyaan", now=now)
        for name, kind, code, revoke in (
            ("desa", "desa", DESA_A, False),
            ("kecamatan", "kecamatan", "35.09.27", False),
            ("revoked", "desa", DESA_A, True),
        ):
            fid, _ = await services.facilitators.create_facilitator(
                tx, name=name, phone=None, scope_kind=kind, scope_code=code, now=now
            )
            if revoke:
                await services.facilitators.revoke_facilitator(tx, fid, now)
            found = await services.facilitators.facilitator_by_id(tx, fid)
            assert found is not None
            w.actors[name] = found
    return w


Call = Callable[[Tx, Facilitator, World, str, FixedClock], Awaitable[Any]]


async def _file(tx: Tx, f: Facilitator, w: World, k: str, clock: FixedClock, **fields: Any) -> Any:
    return await services.submit_claim(
        tx,
        services.NewClaim(
            event_date=date(2026, 11, 20), facilitator_id=f.id, reporter_chat_id=None, **fields
        ),
        now=clock(),
        idempotency_key=f"by-{f.id}-{k}-{fields['claim_type']}",
        channel="terminal",
        actor=Actor.FACILITATOR,
    )


async def _claim(tx: Tx, w: World, k: str) -> Any:
    found = await claim_by_ref(tx, w.claim[k])
    assert found is not None
    return found


CALLS: dict[str, Call] = {
    "submit JKK for a roster worker": lambda tx, f, w, k, c: _file(
        tx, f, w, k, c, claim_type=ClaimType.JKK, worker_id=w.worker[k]
    ),
    "submit JKM by the deceased's NIK": lambda tx, f, w, k, c: _file(
        tx, f, w, k, c, claim_type=ClaimType.JKM, subject_nik=NIK[k]
    ),
    "submit scholarship for a desa": lambda tx, f, w, k, c: _file(
        tx, f, w, k, c, claim_type=ClaimType.BEASISWA, desa_code=DESA[k]
    ),
    "add a claim document": lambda tx, f, w, k, c: _add_document(tx, f, w, k, c),
    "reply to a ticket": lambda tx, f, w, k, c: services.reply_to_ticket(
        tx,
        ticket_id=w.ticket[k],
        body="sudah kami catat",
        sender="facilitator",
        actor_id=f.id,
        now=c(),
        channel="terminal",
        facilitator=f,
    ),
    "close a ticket": lambda tx, f, w, k, c: services.close_ticket(
        tx,
        ticket_id=w.ticket[k],
        actor_kind="facilitator",
        actor_id=f.id,
        now=c(),
        channel="terminal",
        facilitator=f,
    ),
    "read a ticket": lambda tx, f, w, k, c: services.ticket_for_facilitator(tx, f, w.ticket[k]),
    "mark a lead contacted": lambda tx, f, w, k, c: services.mark_lead_contacted(
        tx, f, w.lead[k], now=c(), channel="terminal"
    ),
    "close a lead": lambda tx, f, w, k, c: services.close_lead(
        tx, f, w.lead[k], reason="declined", now=c(), channel="terminal"
    ),
    "read a lead": lambda tx, f, w, k, c: services.lead_for_facilitator(tx, f, w.lead[k]),
    "register a worker": lambda tx, f, w, k, c: services.register_worker(
        tx,
        f,
        services.NewWorker(
            nik=NEW_NIK[k],
            name="Warga Baru",
            birth_date=date(1990, 5, 15),
            sex="P",
            desa_code=DESA[k],
            sector="nelayan_tangkap",
            consent_at=c(),
        ),
        now=c(),
        channel="terminal",
    ),
    "read a worker by id": lambda tx, f, w, k, c: services.worker_for_facilitator(
        tx, f, w.worker[k]
    ),
    "read a worker by NIK": lambda tx, f, w, k, c: services.worker_for_facilitator_by_nik(
        tx, f, NIK[k]
    ),
    "read a claim": lambda tx, f, w, k, c: services.claim_for_facilitator(tx, f, w.claim[k]),
}


async def _add_document(tx: Tx, f: Facilitator, w: World, k: str, clock: FixedClock) -> Any:
    return await services.add_document(
        tx,
        await _claim(tx, w, k),
        kind="ktp_participant",
        data=b"\xff\xd8\xff ktp",
        mime="image/jpeg",
        chat_id=None,
        files_dir=w.files_dir,
        now=clock(),
        channel="terminal",
        facilitator=f,
    )


async def snapshot(db: Database) -> dict[str, Any]:
    """Every row of every table, and every file under the data directory."""
    out: dict[str, Any] = {}
    async with db.read() as tx:
        for name in await schema_repo.table_names(tx):
            rows = await tx.all(f"SELECT * FROM {name}")  # names from the catalog
            out[name] = sorted(tuple(r) for r in rows)
    files = db.files_dir
    out["files"] = (
        sorted(str(p.relative_to(files)) for p in files.rglob("*")) if files.exists() else []
    )
    return out


@pytest.mark.parametrize("actor", ["desa", "kecamatan"])
@pytest.mark.parametrize("call", list(CALLS))
async def test_a_record_outside_the_scope_is_refused_and_nothing_changes(
    db: Database, clock: FixedClock, call: str, actor: str
) -> None:
    w = await _seed(db, clock)
    before = await snapshot(db)
    with pytest.raises(NotAuthorised):
        async with db.tx() as tx:
            await CALLS[call](tx, w.actors[actor], w, "b", clock)
    assert await snapshot(db) == before


@pytest.mark.parametrize("call", list(CALLS))
async def test_a_revoked_facilitator_is_refused_even_inside_the_scope(
    db: Database, clock: FixedClock, call: str
) -> None:
    w = await _seed(db, clock)
    before = await snapshot(db)
    with pytest.raises(NotAuthorised):
        async with db.tx() as tx:
            await CALLS[call](tx, w.actors["revoked"], w, "a", clock)
    assert await snapshot(db) == before


@pytest.mark.parametrize("actor", ["desa", "kecamatan"])
@pytest.mark.parametrize("call", list(CALLS))
async def test_the_same_call_inside_the_scope_is_allowed(
    db: Database, clock: FixedClock, call: str, actor: str
) -> None:
    w = await _seed(db, clock)
    async with db.tx() as tx:
        assert await CALLS[call](tx, w.actors[actor], w, "a", clock) is not None


async def test_a_ticket_reply_as_facilitator_needs_the_acting_facilitator(
    db: Database, clock: FixedClock
) -> None:
    w = await _seed(db, clock)
    before = await snapshot(db)
    with pytest.raises(NotAuthorised):
        async with db.tx() as tx:
            await services.reply_to_ticket(
                tx,
                ticket_id=w.ticket["a"],
                body="balasan",
                sender="facilitator",
                actor_id=w.actors["desa"].id,
                now=clock(),
                channel="terminal",
            )
    assert await snapshot(db) == before


async def test_lists_for_a_facilitator_hold_only_the_scope(db: Database, clock: FixedClock) -> None:
    w = await _seed(db, clock)
    async with db.read() as tx:
        for name in ("desa", "kecamatan"):
            f = w.actors[name]
            assert [c.ref for c, _ in await services.claims_for_facilitator(tx, f)] == [
                w.claim["a"]
            ]
            assert [t.id for t in await services.tickets_for_facilitator(tx, f)] == [w.ticket["a"]]
            assert [lead.id for lead in await services.leads_for_facilitator(tx, f)] == [
                w.lead["a"]
            ]
            assert [x.id for x in await services.workers_for_facilitator(tx, f)] == [w.worker["a"]]
            assert await services.search_names(tx, f, "Pekerja b") == [w.worker["a"]]
            assert await services.desk_counts(tx, f) == (1, 1)
        revoked = w.actors["revoked"]
        assert await services.claims_for_facilitator(tx, revoked) == []
        assert await services.desk_counts(tx, revoked) == (0, 0)


SQL = re.compile(
    r"\bSELECT\b.*\bFROM\b|\bINSERT\b.*\bINTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b", re.S
)
ROOT = Path(__file__).resolve().parents[2]
NO_SQL = (
    "handlers",
    "lingkaran_core/services",
    "lingkaran_core/facilitators.py",
    "lingkaran_core/scope.py",
)


def _sql_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL.search(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if SQL.search(str(text)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_sql_lives_only_under_the_storage_backends() -> None:
    """Conversations, services, channels, the console, the CLI and the root hold no SQL text."""
    storage = ROOT / "lingkaran_core" / "storage"
    files = [ROOT / "bot.py"] + [
        p
        for package in ("handlers", "lingkaran", "lingkaran_core")
        for p in (ROOT / package).rglob("*.py")
        if storage not in p.parents
    ]
    assert len(files) > 60, "the scan found the modules"
    assert [hit for f in files for hit in _sql_strings(f)] == []
    assert _sql_strings(ROOT / "lingkaran_core/storage/claims_repo.py"), "the pattern finds SQL"
