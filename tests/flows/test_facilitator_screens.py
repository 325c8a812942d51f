"""Facilitator screens that fit a phone: short bubbles, rows that can be told apart and opened
by their number, search for every action, and screens that ask the database once per render."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import FixedClock
from test_facilitator import SUKORENO, add_worker, bound_facilitator

from handlers.engine import Engine
from lingkaran_core import services
from lingkaran_core.storage import Database


@contextmanager
def counting_selects(db: Database) -> Iterator[list[str]]:
    """Every SELECT the connection runs inside the block (sqlite3's trace callback)."""
    seen: list[str] = []
    raw = db.connection._conn  # type: ignore[attr-defined]

    def trace(sql: str) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            seen.append(sql)

    raw.set_trace_callback(trace)
    try:
        yield seen
    finally:
        raw.set_trace_callback(None)


async def add_leads(db: Database, clock: FixedClock, n: int) -> None:
    async with db.tx() as tx:
        chat = await tx.execute(
            "INSERT INTO chats (channel, user_ref, created_at) VALUES ('whatsapp', 'p1', 'x')"
        )
        for i in range(n):
            await services.create_lead(
                tx,
                desa_code=SUKORENO,
                chat_id=chat,
                phone=f"+62812999900{i:02d}",
                answers={"age": 30 + i, "sector": "buruh_tani_tembakau"},
                decision="likely",
                now=clock(),
            )


@pytest.mark.sqlite_only  # counts statements with sqlite3 tracing; the SQL is the same on both
async def test_the_leads_screen_asks_the_database_little_for_one_tap(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await add_leads(db, clock, 8)
    fac = await bound_facilitator(engine, clock, db)
    with counting_selects(db) as selects:
        await fac.tap("Calon peserta")
    fac.expect("Calon peserta yang menunggu: 8")
    print(f"SELECTs for one tap on the leads screen: {len(selects)}")  # noqa: T201
    for sql in selects:
        print("  ", " ".join(sql.split())[:110])  # noqa: T201
    assert len(selects) <= 5  # 14 before the screens shared their queries (issue #15)


async def three_namesakes(db: Database) -> None:
    await add_worker(db, "3509271505780001", "Sutrisno", SUKORENO, birth="1978-05-15")
    await add_worker(db, "3509271505820002", "Sutrisno", SUKORENO, birth="1982-05-15")
    await add_worker(
        db,
        "3509271505900003",
        "Sutrisno",
        SUKORENO,
        birth="1990-05-15",
        paid_through=None,
        status="rejected",
    )


async def test_namesakes_are_told_apart_and_opened_by_their_number(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await three_namesakes(db)
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Cari pekerja")
    await fac.send("sutrisno")
    fac.expect(
        "1. Sutrisno, lahir 1978, NIK …0001, iuran s.d. Desember 2026",
        "2. Sutrisno, lahir 1982, NIK …0002",
        "3. Sutrisno, lahir 1990, NIK …0003, pendaftaran belum disetujui",
    )
    assert [label for _, label in fac.choices()][:3] == ["Sutrisno"] * 3
    await fac.send("3")
    fac.expect("Bapak Sutrisno, NIK 3509********0003", "Bantu daftarkan lagi")
    fac.expect_not("hubungi pendamping desa", "tanya pendamping desa")
    await fac.tap("Bantu daftarkan lagi")
    fac.expect("Permintaan pendaftaran ulang Bapak Sutrisno sudah kami teruskan")
    async with db.read() as r:
        queued = await r.scalar("SELECT COUNT(*) FROM outbox WHERE msg_key = 'admin.reregister'")
    assert queued == 1


async def test_a_facilitator_files_an_accident_by_the_workers_name(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await three_namesakes(db)
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Lapor atas nama pekerja")
    await fac.tap("Lapor kecelakaan")
    fac.expect("Boleh juga ketik nama pekerja.")
    await fac.send("sutrisno")
    fac.expect("Pekerja yang mana?", "lahir 1982, NIK 3509********0002")
    await fac.send("2")
    fac.expect("Data ditemukan: Bapak Sutrisno, NIK 3509********0002")


async def test_claims_of_the_desa_can_be_searched_by_name(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    from datetime import date

    from lingkaran_core.claims import ClaimType

    async with db.tx() as tx:
        for i, who in enumerate(("Sumiati", "Paimo", "Kasim")):
            await services.submit_claim(
                tx,
                services.NewClaim(
                    claim_type=ClaimType.JKM,
                    event_date=date(2026, 11, 3),
                    subject_name=who,
                    subject_nik=f"35092901016000{i + 1:02d}",
                    desa_code=SUKORENO,
                    checklist=("akta_kematian",),
                ),
                now=clock(),
                idempotency_key=f"k{i}",
                channel="whatsapp",
            )
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Klaim desa")
    fac.expect("Laporan yang masih berjalan: 3", "ketik nama/NIK untuk mencari")
    await fac.send("paimo")
    fac.expect("Tentang: Paimo")


async def test_every_desk_screen_fits_a_phone(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    for i in range(40):
        await add_worker(
            db,
            f"35092715057{i:05d}"[:12] + f"{i + 1:04d}",
            f"Pekerja Nomor {i}",
            SUKORENO,
            phone=None if i % 2 else "+6281234567890",
        )
    await add_leads(db, clock, 12)
    fac = await bound_facilitator(engine, clock, db)
    for entry in ("Ringkasan desa", "Calon peserta", "Cari pekerja"):
        await fac.send("menu")
        await fac.tap(entry)
        if entry == "Ringkasan desa":
            await fac.tap("Semua pekerja")
        if entry == "Cari pekerja":
            await fac.send("pekerja")
        assert all(len(r.text) <= 600 for r in fac.replies), fac.dump()
        await fac.tap("Berikutnya")
        assert all(len(r.text) <= 600 for r in fac.replies), fac.dump()


async def test_a_facilitator_is_pointed_to_the_desks_own_menus(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await add_worker(db, "3509271505780001", "Sutrisno", SUKORENO)
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Lapor atas nama pekerja")
    await fac.tap("Lapor kecelakaan")
    await fac.send("3509271505780001")
    for typed in ("kemarin", "pagi", "sawah", "Tidak", "jatuh dari pohon", "2", "puskesmas"):
        await fac.send(typed)
    await fac.send("081234567890")
    await fac.tap("Kirim")
    await fac.tap("Nanti saja")
    fac.expect('menu pendamping "Klaim desa"')
    fac.expect_not("Klaim saya", "minta bantuan pendamping desa")
