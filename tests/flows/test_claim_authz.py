"""Who may see what: coverage and claims stay with their own chat, whatever is typed or forged."""

from __future__ import annotations

import json
from datetime import date

from conftest import T0, ChatDriver, FixedClock

from handlers.engine import Engine
from lingkaran_core import services
from lingkaran_core.claims import ClaimType
from lingkaran_core.storage import Database

SUTRISNO = "3509271505780001"  # Kec. Kalisat, man, 15-05-1978
SUWARNI = "3509274407850003"  # Kec. Kalisat, woman, 4-07-1985
PAIMIN = "3509290101600004"  # man, 1-01-1960
SUKORENO_KALISAT = "35.09.27.2002"
JKK_DOCS = ("ktp_participant", "surat_dokter", "buku_tabungan")
NOT_FOUND = "tidak ditemukan untuk nomor ini"


def kpj_of(nik: str) -> str:
    """The (synthetic) KPJ on the seeded worker's card: a fact the NIK does not contain."""
    return "9" + nik[-10:][::-1]


async def seed_worker(db: Database, nik: str, name: str, birth: str, sex: str) -> int:
    async with db.tx() as tx:
        return await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, registration_status, kpj, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'buruh_tani_tembakau', '2025-12-01', '2026-12-31', "
            "'verified', ?, '2025-12-01', '2025-12-01')",
            (nik, name, birth, sex, SUKORENO_KALISAT, kpj_of(nik)),
        )


async def chat_id(db: Database, chat: ChatDriver) -> int:
    async with db.tx() as tx:
        return int(
            await tx.scalar(
                "SELECT id FROM chats WHERE channel = ? AND user_ref = ?", (chat.channel, chat.user)
            )
        )


async def file_claim(
    db: Database,
    reporter: int | None,
    *,
    worker_id: int | None = None,
    kind: ClaimType = ClaimType.JKK,
    key: str,
) -> str:
    async with db.tx() as tx:
        claim = await services.submit_claim(
            tx,
            services.NewClaim(
                claim_type=kind,
                event_date=date(2026, 11, 24),
                reporter_chat_id=reporter,
                worker_id=worker_id,
                checklist=JKK_DOCS,
            ),
            now=T0,
            idempotency_key=key,
            channel="terminal",
        )
    return claim.ref


async def link(chat: ChatDriver, nik: str, birth: str) -> None:
    """Link the chat the way a user does: NIK, date of birth, then the KPJ on the card."""
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    await chat.send(nik)
    await chat.send(birth)
    chat.expect("Data belum kami tampilkan")
    await chat.tap("Nomor kartu KPJ")
    await chat.send(kpj_of(nik))
    chat.expect("Data cocok")


async def force_state(db: Database, cid: int, flow: str, step: str, data: dict[str, str]) -> None:
    """What a forged or corrupted conversation row would hold."""
    async with db.tx() as tx:
        await tx.execute(
            "UPDATE conversations SET flow = ?, step = ?, data = ? WHERE chat_id = ?",
            (flow, step, json.dumps(data), cid),
        )


async def documents(db: Database) -> int:
    async with db.tx() as tx:
        return int(await tx.scalar("SELECT COUNT(*) FROM claim_documents", ()))


def listed(chat: ChatDriver) -> list[str]:
    return [lbl for cid, lbl in chat.choices() if cid.startswith("c:")]


class World:
    """Three chats: Sutrisno's (linked), his wife's (unlinked), and a stranger's (unlinked)."""

    def __init__(self, engine: Engine, clock: FixedClock) -> None:
        self.worker = ChatDriver(engine=engine, clock=clock, user="sutrisno")
        self.wife = ChatDriver(engine=engine, clock=clock, user="wife")
        self.stranger = ChatDriver(engine=engine, clock=clock, user="stranger")


async def populated(
    db: Database, engine: Engine, clock: FixedClock
) -> tuple[World, dict[str, str]]:
    """Claims: about Sutrisno by his wife; by Sutrisno about Paimin; two by the stranger."""
    sutrisno = await seed_worker(db, SUTRISNO, "Sutrisno", "1978-05-15", "L")
    suwarni = await seed_worker(db, SUWARNI, "Suwarni", "1985-07-04", "P")
    paimin = await seed_worker(db, PAIMIN, "Paimin", "1960-01-01", "L")
    w = World(engine, clock)
    await link(w.worker, SUTRISNO, "15-05-1978")
    await w.wife.send("menu")
    await w.stranger.send("menu")
    worker, wife, stranger = (
        await chat_id(db, w.worker),
        await chat_id(db, w.wife),
        await chat_id(db, w.stranger),
    )
    refs = {
        "about_sutrisno": await file_claim(db, wife, worker_id=sutrisno, key="a"),
        "by_sutrisno": await file_claim(db, worker, worker_id=paimin, kind=ClaimType.JKM, key="b"),
        "stranger_1": await file_claim(db, stranger, worker_id=suwarni, key="c"),
        "stranger_2": await file_claim(db, stranger, key="d"),
    }
    return w, refs


# ---------------------------------------------------------------------------------------------
# Coverage


async def test_unlinked_user_is_asked_for_a_nik_not_shown_anyones_coverage(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, _ = await populated(db, engine, clock)
    await w.stranger.send("menu")
    await w.stranger.tap("Cek kepesertaan")
    w.stranger.expect("Ketik NIK")
    w.stranger.expect_not("DILINDUNGI", "Sutrisno", "Suwarni")
    await w.stranger.send(SUTRISNO)
    w.stranger.expect("tanggal lahir")
    w.stranger.expect_not("DILINDUNGI", "Sutrisno")
    await w.stranger.send("01-01-1980")
    w.stranger.expect("NIK dan tanggal lahir itu belum cocok")
    w.stranger.expect_not("DILINDUNGI", "Sutrisno")
    # The right date (it is inside the NIK) still shows nothing without a second factor.
    await w.stranger.send(SUTRISNO)
    await w.stranger.send("15-05-1978")
    w.stranger.expect("Data belum kami tampilkan")
    w.stranger.expect_not("DILINDUNGI", "Sutrisno", kpj_of(SUTRISNO))


async def test_linked_worker_sees_his_own_coverage(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, _ = await populated(db, engine, clock)
    await w.worker.send("menu")
    await w.worker.tap("Cek kepesertaan")
    w.worker.expect("Bapak Sutrisno DILINDUNGI sampai 31 Desember 2026")
    w.worker.expect_not("Suwarni", "Paimin", "Ketik NIK")


# ---------------------------------------------------------------------------------------------
# My claims


async def test_unlinked_user_with_no_reports_sees_none(chat: ChatDriver, db: Database) -> None:
    sutrisno = await seed_worker(db, SUTRISNO, "Sutrisno", "1978-05-15", "L")
    await file_claim(db, None, worker_id=sutrisno, key="x")
    await chat.send("menu")
    await chat.tap("Klaim saya")
    chat.expect("Belum ada laporan dari nomor ini", "Cek kepesertaan")
    chat.expect_not("LC-2026-")


async def test_unlinked_reporter_sees_only_the_claims_she_filed(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, refs = await populated(db, engine, clock)
    await w.wife.send("menu")
    await w.wife.tap("Klaim saya")
    w.wife.expect(f"{refs['about_sutrisno']} (kecelakaan kerja")  # her only claim opens directly
    for other in ("by_sutrisno", "stranger_1", "stranger_2"):
        w.wife.expect_not(refs[other])


async def test_linked_worker_sees_claims_about_him_and_those_he_filed_only(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, refs = await populated(db, engine, clock)
    await w.worker.send("menu")
    await w.worker.tap("Klaim saya")
    assert listed(w.worker) == [refs["by_sutrisno"], refs["about_sutrisno"]]
    await w.worker.tap(refs["about_sutrisno"])  # filed by his wife, about him
    w.worker.expect(f"{refs['about_sutrisno']} (kecelakaan kerja")
    labels = [lbl for _, lbl in w.worker.choices()]
    assert "Tarik laporan" not in labels  # only the chat that filed it withdraws it
    await w.worker.tap("Laporan lain")
    await w.worker.tap(refs["by_sutrisno"])  # filed by him as an heir
    w.worker.expect(f"{refs['by_sutrisno']} (kematian")
    w.worker.expect_choices("Kirim dokumen", "Tarik laporan")


async def test_another_chats_claim_typed_by_reference_gets_the_not_found_answer(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, refs = await populated(db, engine, clock)
    await w.worker.send("menu")
    await w.worker.tap("Klaim saya")
    await w.worker.send(refs["stranger_1"])
    hidden = w.worker.text
    assert f"Laporan {refs['stranger_1']} {NOT_FOUND}" in hidden
    w.worker.expect_not("kecelakaan kerja, 24 November", "Masih kurang")
    await w.worker.send("LC-2026-999999")
    missing = w.worker.text
    # The same answer as for a reference that does not exist: nothing to learn from it.
    assert hidden.replace(refs["stranger_1"], "LC-2026-999999") == missing


async def test_a_forged_button_for_another_chats_claim_has_no_effect(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, refs = await populated(db, engine, clock)
    await w.worker.send("menu")
    await w.worker.tap("Klaim saya")
    await w.worker.press("c:" + refs["stranger_2"], w.worker.token())
    w.worker.expect("Tombol itu sudah tidak berlaku")
    w.worker.expect_not(f"{refs['stranger_2']} (", "Masih kurang")
    assert listed(w.worker) == [refs["by_sutrisno"], refs["about_sutrisno"]]


async def test_the_stranger_never_sees_the_claim_about_sutrisno(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, refs = await populated(db, engine, clock)
    await w.stranger.send("menu")
    await w.stranger.tap("Klaim saya")
    assert listed(w.stranger) == [refs["stranger_2"], refs["stranger_1"]]
    await w.stranger.send(refs["about_sutrisno"])
    w.stranger.expect(NOT_FOUND)
    await w.stranger.press("c:" + refs["by_sutrisno"], w.stranger.token())
    w.stranger.expect("Tombol itu sudah tidak berlaku")
    w.stranger.expect_not("kematian")


async def test_a_forged_withdrawal_state_cannot_withdraw_another_chats_claim(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, refs = await populated(db, engine, clock)
    stranger = await chat_id(db, w.stranger)
    await force_state(
        db, stranger, "my_claims", "confirm_withdraw", {"ref": refs["about_sutrisno"]}
    )
    await w.stranger.send("Ya, tarik")
    w.stranger.expect("Laporan itu tidak ditemukan.")
    w.stranger.expect_not("sudah ditarik")
    async with db.tx() as tx:
        status = await tx.scalar(
            "SELECT status FROM claims WHERE ref = ?", (refs["about_sutrisno"],)
        )
    assert status == "submitted"


async def test_a_forged_detail_state_shows_nothing_of_another_chats_claim(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, refs = await populated(db, engine, clock)
    stranger = await chat_id(db, w.stranger)
    await force_state(db, stranger, "my_claims", "detail", {"ref": refs["about_sutrisno"]})
    await w.stranger.send("bantuan")
    w.stranger.expect("Laporan itu tidak ditemukan.")
    w.stranger.expect_not("Masih kurang", "KTP peserta")
    assert [lbl for _, lbl in w.stranger.choices()] == ["Menu utama"]
    await w.stranger.press("docs", w.stranger.token())
    w.stranger.expect("Tombol itu sudah tidak berlaku")


# ---------------------------------------------------------------------------------------------
# Documents


async def test_a_forged_document_state_stores_nothing_for_another_chats_claim(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, refs = await populated(db, engine, clock)
    stranger = await chat_id(db, w.stranger)
    ref = refs["about_sutrisno"]
    await force_state(db, stranger, "docs", "upload", {"ref": ref, "kind": "ktp_participant"})
    await w.stranger.photo(data=b"\xff\xd8\xff forged")
    w.stranger.expect("Laporan itu tidak ditemukan.")
    w.stranger.expect_not("diterima")
    assert await documents(db) == 0
    assert not (db.files_dir / "claims" / ref).exists()


async def test_a_forged_document_pick_state_stores_nothing_either(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, refs = await populated(db, engine, clock)
    stranger = await chat_id(db, w.stranger)
    ref = refs["by_sutrisno"]
    await force_state(db, stranger, "docs", "pick", {"ref": ref})
    await w.stranger.send("1")
    # The forged claim offers no document to pick: "1" is the step's only choice, Batal (or the
    # claim is refused outright); either way no document step is reached.
    after_pick = w.stranger.text.lower()
    assert "tidak ditemukan" in after_pick or "dibatalkan" in after_pick, after_pick
    await w.stranger.photo(data=b"\xff\xd8\xff forged")
    w.stranger.expect_not("diterima")
    assert await documents(db) == 0
    assert not (db.files_dir / "claims" / ref).exists()


async def test_the_worker_may_send_documents_for_a_claim_about_him(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    w, refs = await populated(db, engine, clock)
    await w.worker.send("menu")
    await w.worker.tap("Klaim saya")
    await w.worker.tap(refs["about_sutrisno"])
    await w.worker.tap("Kirim dokumen")
    w.worker.expect("Silakan kirim foto ktp peserta")
    await w.worker.photo(data=b"\xff\xd8\xff ktp")
    w.worker.expect("KTP peserta diterima")
    assert await documents(db) == 1
