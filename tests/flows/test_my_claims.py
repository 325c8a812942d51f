"""Transcripts for "Klaim saya": list, detail, documents, withdrawing, and what stays hidden."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from conftest import T0, ChatDriver, FixedClock

from handlers.engine import Engine
from lingkaran_core import services
from lingkaran_core.claims import Actor, ClaimStatus, ClaimType
from lingkaran_core.storage import Database

TODAY = date(2026, 11, 25)
JKK_DOCS = ("ktp_participant", "surat_dokter", "buku_tabungan")
NIK = "3509271505780001"  # Kalisat, born 15-05-1978


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
    kind: ClaimType = ClaimType.JKK,
    event: date = TODAY - timedelta(days=1),
    checklist: tuple[str, ...] = JKK_DOCS,
    late: bool = False,
    worker_id: int | None = None,
    key: str | None = None,
    now: datetime = T0,
) -> str:
    async with db.tx() as tx:
        claim = await services.submit_claim(
            tx,
            services.NewClaim(
                claim_type=kind,
                event_date=event,
                reporter_chat_id=reporter,
                worker_id=worker_id,
                checklist=checklist,
                late_report=late,
            ),
            now=now,
            idempotency_key=key or f"{reporter}-{kind}-{event}-{worker_id}",
            channel="terminal",
        )
    return claim.ref


async def move(db: Database, ref: str, *targets: ClaimStatus, note: str | None = None) -> None:
    async with db.tx() as tx:
        for target in targets:
            await services.transition_claim(
                tx, ref, target, actor=Actor.ADMIN, now=T0, note=note, channel="admin"
            )


async def status_of(db: Database, ref: str) -> str:
    async with db.tx() as tx:
        return str(await tx.scalar("SELECT status FROM claims WHERE ref = ?", (ref,)))


async def started(chat: ChatDriver, db: Database) -> int:
    await chat.send("menu")
    return await chat_id(db, chat)


async def test_no_claims_and_not_linked_hints_at_linking(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Klaim saya")
    chat.expect("Belum ada laporan dari nomor ini", "Cek kepesertaan")
    chat.expect_choices("Cek kepesertaan")  # the menu sits under the message


async def test_single_claim_opens_straight_to_its_detail(chat: ChatDriver, db: Database) -> None:
    cid = await started(chat, db)
    ref = await file_claim(db, cid, late=True)
    await chat.tap("Klaim saya")
    expiry_days = (date(2031, 11, 24) - TODAY).days
    chat.expect(
        f"{ref} (kecelakaan kerja, 24 November 2026): sudah diterima, menunggu dicek petugas.",
        "Dilaporkan lewat dari 2×24 jam; tetap diproses",
        f"sampai 24 November 2031 ({expiry_days:,} hari lagi)".replace(",", "."),
        "Riwayat:",
        "- 25 November 2026: sudah diterima, menunggu dicek petugas",
        "Masih kurang 3 dokumen:",
        "1. KTP peserta",
        "2. Surat dokter (KK3/3b)",
        "3. Buku tabungan",
    )
    chat.expect_choices("Kirim dokumen", "Tarik laporan", "Tanya petugas", "Menu utama")
    labels = [lbl for _, lbl in chat.choices()]
    assert "Laporan lain" not in labels
    for reply in chat.replies:
        assert len(reply.text) <= 600


async def test_list_is_newest_first_and_each_claim_opens(chat: ChatDriver, db: Database) -> None:
    cid = await started(chat, db)
    first = await file_claim(db, cid)
    second = await file_claim(
        db, cid, kind=ClaimType.JKM, event=date(2026, 11, 3), checklist=("akta_kematian",)
    )
    await chat.tap("Klaim saya")
    chat.expect("Pilih laporan")
    assert [c[1] for c in chat.choices()] == [second, first, "Menu utama"]
    descriptions = [c.description for c in chat.replies[-1].choices]
    assert descriptions[:2] == ["Kematian, 3 November 2026", "Kecelakaan kerja, 24 November 2026"]

    await chat.tap(second)
    chat.expect(f"{second} (kematian, 3 November 2026)", "Akta kematian")
    chat.expect_not("2×24 jam", "Hak klaim")  # JKM: no report deadline, no expiry
    await chat.tap("Laporan lain")
    await chat.send("2")
    chat.expect(f"{first} (kecelakaan kerja")


async def test_typed_reference_opens_a_visible_claim(chat: ChatDriver, db: Database) -> None:
    cid = await started(chat, db)
    ref = await file_claim(db, cid)
    await file_claim(db, cid, kind=ClaimType.JKM, checklist=())
    await chat.tap("Klaim saya")
    seq = int(ref.rsplit("-", 1)[1])
    await chat.send(f"lc 2026 {seq}")
    chat.expect(f"{ref} (kecelakaan kerja")
    await chat.tap("Laporan lain")
    await chat.send("apa kabar klaim saya")
    chat.expect("ketik nomor laporannya, misalnya LC-2026-000123")


async def test_missing_documents_can_be_sent_as_photos(chat: ChatDriver, db: Database) -> None:
    cid = await started(chat, db)
    ref = await file_claim(db, cid)
    await move(db, ref, ClaimStatus.IN_REVIEW, ClaimStatus.DOCUMENTS_REQUESTED)
    await chat.tap("Klaim saya")
    chat.expect("menunggu dokumen", "Masih kurang 3 dokumen")
    await chat.tap("Kirim dokumen")
    chat.expect("Silakan kirim foto ktp peserta")
    await chat.tap("Dokumen lain")
    chat.expect("Dokumen mana")
    await chat.tap("Surat dokter (KK3/3b)")
    chat.expect("Silakan kirim foto surat dokter (KK3/3b)")
    await chat.photo()
    chat.expect("Surat dokter (KK3/3b) diterima", "Kurang 2 dokumen")
    await chat.send("menu")
    await chat.tap("Klaim saya")
    chat.expect("Masih kurang 2 dokumen", "KTP peserta", "Buku tabungan")
    chat.expect_not("2. Surat dokter (KK3/3b)")
    async with db.tx() as tx:
        stored = await tx.scalar("SELECT COUNT(*) FROM claim_documents")
    assert stored == 1


async def test_complete_documents_offer_no_upload(chat: ChatDriver, db: Database) -> None:
    cid = await started(chat, db)
    await file_claim(db, cid, checklist=())
    await chat.tap("Klaim saya")
    chat.expect("Dokumen sudah lengkap")
    labels = [lbl for _, lbl in chat.choices()]
    assert "Kirim dokumen" not in labels


async def test_reporter_withdraws_a_submitted_claim(chat: ChatDriver, db: Database) -> None:
    cid = await started(chat, db)
    ref = await file_claim(db, cid)
    await chat.tap("Klaim saya")
    await chat.tap("Tarik laporan")
    chat.expect(f"Tarik laporan {ref}?")
    chat.expect_choices("Ya, tarik", "Tidak")
    await chat.tap("Tidak")
    chat.expect("sudah diterima, menunggu dicek petugas")
    assert await status_of(db, ref) == "submitted"
    await chat.tap("Tarik laporan")
    await chat.tap("Ya, tarik")
    chat.expect(f"Laporan {ref} sudah ditarik")
    chat.expect_choices("Cek kepesertaan")
    assert await status_of(db, ref) == "withdrawn"
    async with db.tx() as tx:
        event = await tx.one(
            "SELECT actor, note, actor_ref FROM claim_events WHERE to_status = 'withdrawn'"
        )
        queued = await tx.scalar(
            "SELECT COUNT(*) FROM outbox WHERE msg_key = 'claim.status_changed'"
        )
    assert (event["actor"], event["note"], event["actor_ref"]) == (
        "claimant",
        "ditarik oleh pelapor",
        str(cid),
    )
    assert queued == 1
    # Afterwards: final, nothing to send, nothing to withdraw.
    await chat.tap("Klaim saya")
    chat.expect("dibatalkan")
    labels = [lbl for _, lbl in chat.choices()]
    assert "Tarik laporan" not in labels
    assert "Kirim dokumen" not in labels


async def test_withdraw_is_refused_for_a_claim_in_review(chat: ChatDriver, db: Database) -> None:
    cid = await started(chat, db)
    ref = await file_claim(db, cid)
    await move(db, ref, ClaimStatus.IN_REVIEW)
    await chat.tap("Klaim saya")
    chat.expect("sedang dicek petugas")
    labels = [lbl for _, lbl in chat.choices()]
    assert "Tarik laporan" not in labels
    token = chat.token()
    await chat.press("withdraw", token)
    chat.expect("Tombol itu sudah tidak berlaku")
    await chat.press("yes", token)
    chat.expect("Tombol itu sudah tidak berlaku")
    assert await status_of(db, ref) == "in_review"


async def test_withdraw_confirmed_after_staff_picked_it_up_does_nothing(
    chat: ChatDriver, db: Database
) -> None:
    cid = await started(chat, db)
    ref = await file_claim(db, cid)
    await chat.tap("Klaim saya")
    await chat.tap("Tarik laporan")
    await move(db, ref, ClaimStatus.IN_REVIEW)  # staff act while the question is open
    await chat.tap("Ya, tarik")
    chat.expect("sudah sedang dicek petugas, jadi tidak bisa ditarik")
    assert await status_of(db, ref) == "in_review"


async def test_rejected_claim_shows_the_reason(chat: ChatDriver, db: Database) -> None:
    cid = await started(chat, db)
    ref = await file_claim(db, cid)
    await move(
        db,
        ref,
        ClaimStatus.IN_REVIEW,
        ClaimStatus.REJECTED,
        note="kejadian bukan saat bekerja",
    )
    await chat.tap("Klaim saya")
    chat.expect("belum bisa disetujui", "Alasan: kejadian bukan saat bekerja", "- 25 November")
    chat.expect_not("Ditolak", "Masih kurang", "Hak klaim")


async def test_claim_of_another_chat_is_invisible(
    chat: ChatDriver, db: Database, engine: Engine, clock: FixedClock
) -> None:
    other = ChatDriver(engine=engine, clock=clock, user="u2")
    await other.send("menu")
    theirs = await file_claim(db, await chat_id(db, other))
    cid = await started(chat, db)
    mine = await file_claim(db, cid)
    await file_claim(db, cid, kind=ClaimType.JKM, checklist=())
    await chat.tap("Klaim saya")
    assert theirs not in [lbl for _, lbl in chat.choices()]
    # Typed reference of someone else's claim: the same answer as a reference that does not exist.
    await chat.send(theirs)
    refused = chat.text
    assert f"Laporan {theirs} tidak ditemukan" in refused
    chat.expect_not("kecelakaan kerja, 24")
    await chat.send("LC-2026-999999")
    assert chat.text == refused.replace(theirs, "LC-2026-999999")
    # Forged button ids: nothing opens.
    await chat.press("c:" + theirs, chat.token())
    chat.expect_not(theirs + " (")
    await chat.send("menu")
    await chat.tap("Klaim saya")
    await chat.tap(mine)
    chat.expect(f"{mine} (kecelakaan kerja")
    assert await status_of(db, theirs) == "submitted"


async def test_linked_worker_sees_a_claim_about_them_but_cannot_withdraw_it(
    chat: ChatDriver, db: Database, engine: Engine, clock: FixedClock
) -> None:
    cid = await started(chat, db)
    async with db.tx() as tx:
        wid = await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, created_at, updated_at) VALUES (?, 'Sutrisno', '1978-05-15', 'L', "
            "'35.09.27.2002', 'buruh_tani_tembakau', '2025-12-01', '2026-12-31', 'x', 'x')",
            (NIK,),
        )
        await tx.execute(
            "UPDATE chats SET worker_id = ?, active_role = 'worker' WHERE id = ?", (wid, cid)
        )
    wife = ChatDriver(engine=engine, clock=clock, user="istri")
    await wife.send("menu")
    ref = await file_claim(db, await chat_id(db, wife), worker_id=wid)
    await chat.tap("Klaim saya")
    chat.expect(f"{ref} (kecelakaan kerja")
    labels = [lbl for _, lbl in chat.choices()]
    assert "Tarik laporan" not in labels
    assert "Kirim dokumen" in labels


async def test_ten_claims_list_nine_and_the_menu(chat: ChatDriver, db: Database) -> None:
    cid = await started(chat, db)
    # Ten claims over a day (one chat may file 5 an hour: rules.ABUSE_LIMITS_RULE).
    refs = [
        await file_claim(db, cid, key=f"k{i}", now=T0 - timedelta(hours=2 * (10 - i)))
        for i in range(10)
    ]
    await chat.tap("Klaim saya")
    labels = [lbl for _, lbl in chat.choices()]
    assert len(labels) == 10
    assert labels[0] == refs[-1]
    assert labels[-1] == "Menu utama"
    # The oldest is not listed but still opens when typed.
    await chat.send(refs[0])
    chat.expect(f"{refs[0]} (kecelakaan kerja")
