"""A facilitator of desa A never reaches anyone of desa B; workers never reach facilitator flows."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import ChatDriver, FixedClock

from handlers.engine import Engine
from lingkaran_core import services
from lingkaran_core.claims import ClaimType
from lingkaran_core.facilitators import create_facilitator
from lingkaran_core.storage import Database

DESA_A = "35.09.27.2002"  # Sukoreno, Kec. Kalisat
DESA_B = "35.09.08.2004"  # Pugerkulon, Kec. Puger
NIK_A = "3509271505780001"
NIK_B = "3509081203800077"
FAC_FLOWS = ("fac_register", "fac_find", "fac_tickets", "fac_claims", "fac_leads", "fac_summary")


async def seed(db: Database, clock: FixedClock) -> dict[str, int]:
    """Desa A and desa B each with a worker, a lead, a claim and an open ticket."""
    ids: dict[str, int] = {}
    async with db.tx() as tx:
        for key, nik, name, desa in (
            ("a", NIK_A, "Sutrisno", DESA_A),
            ("b", NIK_B, "Darmaji", DESA_B),
        ):
            wid = await tx.execute(
                "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, phone, "
                "coverage_start, paid_through, created_at, updated_at) VALUES (?, ?, "
                "'1978-05-15', 'L', ?, 'nelayan_tangkap', ?, '2025-12-01', "
                "'2026-12-31', 'x', 'x')",
                # Only B's phone ends like B's NIK, so a leak check on "0077" means B.
                (nik, name, desa, "+62812000000" + ("77" if key == "b" else "11")),
            )
            cid = await tx.execute(
                "INSERT INTO chats (channel, user_ref, worker_id, active_role, created_at) "
                "VALUES ('whatsapp', ?, ?, 'worker', 'x')",
                (f"w{key}", wid),
            )
            ids[f"worker_{key}"] = wid
            ids[f"lead_{key}"] = await services.create_lead(
                tx,
                desa_code=desa,
                chat_id=cid,
                phone="+628129999000" + key.replace("a", "1").replace("b", "2"),
                answers={"age": 40},
                decision="likely",
                now=clock(),
            )
            await services.submit_claim(
                tx,
                services.NewClaim(
                    claim_type=ClaimType.JKK,
                    event_date=date(2026, 11, 24),
                    worker_id=wid,
                    subject_name=name,
                    subject_nik=nik,
                    desa_code=desa,
                    checklist=("ktp_participant",),
                ),
                now=clock(),
                idempotency_key=key,
                channel="whatsapp",
            )
            ids[f"ticket_{key}"] = await services.open_ticket(
                tx, chat_id=cid, body=f"pertanyaan dari {name}", now=clock()
            )
        await create_facilitator(
            tx,
            name="Bu Rina",
            phone=None,
            scope_kind="desa",
            scope_code=DESA_A,
            now=clock(),
            code="K7QM4XPT",
        )
    return ids


@pytest.fixture
async def ids(db: Database, clock: FixedClock) -> dict[str, int]:
    return await seed(db, clock)


@pytest.fixture
async def fac(engine: Engine, clock: FixedClock, ids: dict[str, int]) -> ChatDriver:
    driver = ChatDriver(engine=engine, clock=clock, user="fac1")
    await driver.send("K7QM4XPT")
    driver.expect("Kode diterima")
    return driver


def never_b(chat: ChatDriver, *, typed_nik: bool = False) -> None:
    """Nothing of desa B in the last replies (text, labels or descriptions).

    ``typed_nik``: the facilitator typed B's NIK, so its masked echo may appear.
    """
    seen = repr(chat.replies)
    leaks = ["Darmaji", "Pugerkulon", "LC-2026-000002", "T-0002", "6281299990002"]
    if not typed_nik:
        leaks.append("0077")
    for leak in leaks:
        assert leak not in seen, f"{leak} leaked:\n{chat.dump()}"


async def test_find_never_shows_a_worker_of_another_desa(
    fac: ChatDriver, ids: dict[str, int]
) -> None:
    await fac.tap("Cari pekerja")
    await fac.send(NIK_B)
    fac.expect("Tidak ada pekerja dengan NIK")
    never_b(fac, typed_nik=True)
    await fac.send("darmaji")
    fac.expect("Tidak ada pekerja bernama")
    never_b(fac)
    await fac.send("sutrisno")  # exactly one in scope: the detail opens
    fac.expect("Bapak Sutrisno")
    await fac.send("menu")
    await fac.tap("Cari pekerja")
    await fac.send("s")
    await fac.send("tris")
    await fac.press(f"w:{ids['worker_b']}", fac.token())
    never_b(fac)


async def test_forged_worker_ids_in_search_results_yield_nothing(
    fac: ChatDriver, db: Database, ids: dict[str, int]
) -> None:
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, created_at, "
            "updated_at) VALUES ('3509271505780002', 'Sutrisna', '1978-05-15', 'L', ?, "
            "'nelayan_tangkap', 'x', 'x')",
            (DESA_A,),
        )
    await fac.tap("Cari pekerja")
    await fac.send("sutris")
    fac.expect("Ditemukan 2 pekerja")
    await fac.press(f"w:{ids['worker_b']}", fac.token())
    fac.expect("Tombol itu sudah tidak berlaku")
    never_b(fac)


async def test_registering_a_nik_of_another_desa_reveals_nothing_and_stores_nothing(
    fac: ChatDriver, db: Database
) -> None:
    await fac.tap("Daftarkan pekerja")
    await fac.send(NIK_B)
    fac.expect("sudah terdaftar di wilayah lain")
    fac.expect_not("Darmaji", "Pugerkulon")
    async with db.tx() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM workers") == 2


async def test_a_desa_facilitator_cannot_register_into_another_desa(
    fac: ChatDriver, db: Database
) -> None:
    await fac.tap("Daftarkan pekerja")
    await fac.send("3509271505780009")
    await fac.send("Slamet")
    await fac.tap("Sesuai NIK")
    await fac.tap("Ya, benar")
    fac.expect("Apa pekerjaan utamanya?")  # no desa question: the scope's desa is used
    await fac.press("d:" + DESA_B, fac.token())
    fac.expect("Tombol itu sudah tidak berlaku")
    await fac.tap("Nelayan")
    await fac.tap("Lewati")
    await fac.tap("Tidak ada HP")
    await fac.tap("Setuju")
    await fac.tap("Simpan")
    async with db.tx() as tx:
        desa = await tx.scalar("SELECT desa_code FROM workers WHERE nik = '3509271505780009'")
    assert desa == DESA_A


async def test_cannot_file_a_report_for_a_worker_of_another_desa(fac: ChatDriver) -> None:
    await fac.tap("Lapor atas nama pekerja")
    await fac.tap("Lapor kecelakaan")
    await fac.send(NIK_B)
    fac.expect("tidak terdaftar di wilayah Bapak/Ibu")
    never_b(fac, typed_nik=True)


async def test_claims_leads_and_tickets_of_another_desa_are_not_listed_nor_reachable(
    fac: ChatDriver, ids: dict[str, int]
) -> None:
    await fac.tap("Klaim desa")
    fac.expect("Laporan yang masih berjalan: 1")
    never_b(fac)
    await fac.press("c:LC-2026-000002", fac.token())
    never_b(fac)
    fac.expect("Tombol itu sudah tidak berlaku")

    await fac.send("menu")
    await fac.tap("Calon peserta")
    fac.expect("Calon peserta yang menunggu: 1")
    never_b(fac)
    await fac.press(f"l:{ids['lead_b']}", fac.token())
    never_b(fac)

    await fac.send("menu")
    await fac.tap("Tiket terbuka")
    fac.expect("Tiket terbuka: 1")
    never_b(fac)
    await fac.press(f"t:{ids['ticket_b']}", fac.token())
    fac.expect("Tombol itu sudah tidak berlaku")
    never_b(fac)


async def test_cannot_reply_to_a_ticket_of_another_desa(
    fac: ChatDriver, db: Database, ids: dict[str, int]
) -> None:
    await fac.tap("Tiket terbuka")
    await fac.tap("T-0001")
    await fac.tap("Balas")
    # The ticket moved out of scope between two messages (e.g. the worker moved desa).
    async with db.tx() as tx:
        await tx.execute("UPDATE tickets SET desa_code = ? WHERE id = ?", (DESA_B, ids["ticket_a"]))
    await fac.send("Saya datang besok.")
    fac.expect("Tiket itu tidak ada di wilayah Bapak/Ibu.")
    async with db.tx() as tx:
        replies = await tx.scalar(
            "SELECT COUNT(*) FROM ticket_messages WHERE sender = 'facilitator'"
        )
        queued = await tx.scalar("SELECT COUNT(*) FROM outbox WHERE msg_key = 'ticket.reply'")
    assert (replies, queued) == (0, 0)


async def test_the_summary_counts_only_the_scope(fac: ChatDriver) -> None:
    await fac.tap("Ringkasan desa")
    fac.expect("1 pekerja.")
    never_b(fac)


FAC_PROMPTS = (
    "Berapa NIK pekerja",
    "Ketik NIK (16 angka) atau nama",
    "Tiket terbuka:",
    "Laporan yang masih berjalan",
    "Calon peserta yang menunggu",
    "Ringkasan Desa",
)


async def flow_of(db: Database, chat: ChatDriver) -> str:
    async with db.tx() as tx:
        return str(
            await tx.scalar(
                "SELECT v.flow FROM conversations v JOIN chats c ON c.id = v.chat_id "
                "WHERE c.channel = ? AND c.user_ref = ?",
                (chat.channel, chat.user),
            )
        )


@pytest.mark.parametrize("flow", FAC_FLOWS)
async def test_a_worker_chat_cannot_open_facilitator_flows_by_forged_ids(
    engine: Engine, clock: FixedClock, db: Database, ids: dict[str, int], flow: str
) -> None:
    worker = ChatDriver(engine=engine, clock=clock, user="wa", channel="whatsapp")
    public = ChatDriver(engine=engine, clock=clock, user="stranger")
    for chat in (worker, public):
        await chat.send("menu")
        await chat.press(flow, chat.token())
        chat.expect_not(*FAC_PROMPTS)
        never_b(chat)
        assert await flow_of(db, chat) == "menu"
        await chat.send(flow)  # typed, too (may be read as a question: never a desk flow)
        chat.expect_not(*FAC_PROMPTS)
        assert await flow_of(db, chat) not in FAC_FLOWS


async def test_a_facilitator_in_the_worker_menu_cannot_use_facilitator_flows(
    fac: ChatDriver, db: Database
) -> None:
    old_token = fac.token()
    await fac.tap("Menu pekerja")
    fac.expect_choices("Cek kepesertaan", "Menu pendamping")
    await fac.press("fac_find", fac.token())
    fac.expect_not(*FAC_PROMPTS)
    await fac.press("fac_find", old_token)  # the old facilitator keyboard
    fac.expect_not(*FAC_PROMPTS)
    assert await flow_of(db, fac) == "menu"
    await fac.send("menu")
    await fac.tap("Menu pendamping")
    fac.expect_choices("Cari pekerja")
