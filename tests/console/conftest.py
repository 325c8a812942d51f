"""Console fixtures: a small demo database with staff accounts, a claim with a reporter chat and a
document, a registration with a photo, and a ticket; an httpx client on the ASGI app."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from lingkaran.console import build_console
from lingkaran.console.accounts import add_staff
from lingkaran_core import services
from lingkaran_core.claims import Actor, ClaimStatus, ClaimType
from lingkaran_core.clock import FixedClock
from lingkaran_core.demo import generate_demo
from lingkaran_core.storage import Database, console_repo
from lingkaran_core.storage.chats import get_or_create_chat
from lingkaran_core.storage.repos import worker_by_nik

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 WIB
KALISAT = "35.09.27"
PUGER = "35.09.08"
SUKORENO = "35.09.27.2002"
BAMBANG_NIK = "3509270701950005"
MISNADI_NIK = "3509271203750007"


def png(width: int = 48, height: int = 32, rgb: tuple[int, int, int] = (11, 110, 79)) -> bytes:
    """A small solid PNG (a stand-in for a KTP photo)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@dataclass
class Seeded:
    """What the fixture created."""

    db: Database
    clock: FixedClock
    passwords: dict[str, str]  # username -> password
    claim_ref: str  # JKK in review, Kalisat, with a reporter chat and a document
    claim_chat_id: int
    puger_ref: str  # a claim in another kecamatan
    document_id: int
    registration_id: int
    photo_id: int
    ticket_id: int
    ticket_chat_id: int


async def seed(db: Database, clock: FixedClock) -> Seeded:
    """Fill ``db`` for the console tests."""
    now = clock()
    await generate_demo(db, workers=300, seed=7, today=date(2026, 11, 25), now=now)
    passwords: dict[str, str] = {}
    async with db.tx() as tx:
        for name, role, kec in (
            ("Ani Admin", "admin", None),
            ("Oki Opd", "opd", None),
            ("Vina Kalisat", "viewer", KALISAT),
        ):
            _, username, password = await add_staff(
                tx, name=name, role=role, kecamatan=kec, now=now, actor="test"
            )
            passwords[username] = password
        misnadi = await worker_by_nik(tx, MISNADI_NIK)
        assert misnadi is not None
        chat = await get_or_create_chat(tx, "telegram", "5550001", now=now)
        await tx.execute("UPDATE chats SET worker_id = ? WHERE id = ?", (misnadi.id, chat.id))
        claim = await services.submit_claim(
            tx,
            services.NewClaim(
                claim_type=ClaimType.JKK,
                event_date=date(2026, 11, 24),
                event_at=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
                reporter_chat_id=chat.id,
                worker_id=misnadi.id,
                subject_nik=misnadi.nik,
                subject_name=misnadi.name,
                checklist=("ktp_participant", "kronologi_saksi"),
            ),
            now=now,
            idempotency_key="console-test-1",
            channel="telegram",
        )
        await services.transition_claim(
            tx, claim.ref, ClaimStatus.IN_REVIEW, actor=Actor.ADMIN, now=now, actor_ref="test"
        )
        stored = await services.add_document(
            tx,
            claim,
            kind="ktp_participant",
            data=png(),
            mime="image/png",
            chat_id=chat.id,
            files_dir=db.files_dir,
            now=now,
            channel="telegram",
        )
        docs = await console_repo.claim_documents(tx, claim.id)
        puger_ref = str(
            await tx.scalar(
                "SELECT ref FROM claims WHERE desa_code LIKE ? LIMIT 1", (PUGER + ".%",)
            )
        )
        bambang = await worker_by_nik(tx, BAMBANG_NIK)
        assert bambang is not None
        data = png(64, 40, (200, 120, 20))
        folder = db.files_dir / "registrations" / str(bambang.id)
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(data).hexdigest()
        path = folder / f"{digest}.png"
        path.write_bytes(data)
        photo_id = await console_repo.add_registration_document(
            tx,
            bambang.id,
            kind="ktp",
            path=str(path),
            sha256=digest,
            mime="image/png",
            size=len(data),
            now=now,
        )
        tchat = await get_or_create_chat(tx, "whatsapp", "6281230000001", now=now)
        await tx.execute("UPDATE chats SET worker_id = ? WHERE id = ?", (misnadi.id, tchat.id))
        ticket_id = await services.open_ticket(
            tx, chat_id=tchat.id, body="Kapan iuran saya dibayar?", now=now, channel="whatsapp"
        )
    assert stored.path.exists()
    return Seeded(
        db=db,
        clock=clock,
        passwords=passwords,
        claim_ref=claim.ref,
        claim_chat_id=chat.id,
        puger_ref=puger_ref,
        document_id=int(docs[0]["id"]),
        registration_id=bambang.id,
        photo_id=photo_id,
        ticket_id=ticket_id,
        ticket_chat_id=tchat.id,
    )


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Seeded]:
    db = await Database.open(tmp_path / "console.db")
    try:
        yield await seed(db, FixedClock(NOW))
    finally:
        await db.close()


def console_app(s: Seeded, **kw: object) -> Starlette:
    return Starlette(routes=build_console(s.db, None, s.clock, **kw))  # type: ignore[arg-type]


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def client_for(s: Seeded, **kw: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=console_app(s, **kw)),
        base_url="http://testserver",
        follow_redirects=True,
    )


async def login(client: httpx.AsyncClient, username: str, password: str) -> None:
    page = await client.get("/console/login")
    r = await client.post(
        "/console/login",
        data={"csrf": csrf_of(page.text), "username": username, "password": password},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def user_of(s: Seeded, role_prefix: str) -> tuple[str, str]:
    for username, password in s.passwords.items():
        if username.startswith(role_prefix):
            return username, password
    raise KeyError(role_prefix)
