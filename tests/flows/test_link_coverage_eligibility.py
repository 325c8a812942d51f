"""Transcripts for linking (NIK + date of birth find the record, a second factor proves it),
coverage and eligibility, plus the engine's global commands, persistence, staleness, redelivery
and stale buttons as these flows meet them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ChatDriver, FixedClock

from handlers.engine import Engine
from handlers.registry import build_engine
from lingkaran_core.storage import Database

# Format-valid Jember NIKs: 3509 + kecamatan + DDMMYY (+40 on DD for women) + serial.
SUTRISNO = "3509271505780001"  # Kec. Kalisat (27), man, 15-05-1978
SUWARNI = "3509274407850003"  # Kec. Kalisat, woman, 4-07-1985
UNKNOWN = "3509080101700009"  # Kec. Puger, 1-01-1970, not on the roster
SUKORENO_KALISAT = "35.09.27.2002"
NOT_MATCHED = "NIK dan tanggal lahir itu belum cocok"
LOCKED = "Terlalu banyak percobaan"
PENDING = "Data belum kami tampilkan"
PHONE = "+6281234567890"  # the roster phone of the seeded worker


async def seed_worker(
    db: Database,
    *,
    nik: str = SUTRISNO,
    name: str = "Sutrisno",
    birth: str = "1978-05-15",
    sex: str = "L",
    start: str | None = "2025-12-01",
    paid_through: str | None = "2026-12-31",
    status: str = "verified",
    phone: str | None = PHONE,
) -> int:
    async with db.tx() as tx:
        return await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, registration_status, phone, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'buruh_tani_tembakau', ?, ?, ?, ?, '2025-12-01', "
            "'2025-12-01')",
            (nik, name, birth, sex, SUKORENO_KALISAT, start, paid_through, status, phone),
        )


async def open_link(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    chat.expect("Ketik NIK")


async def try_pair(chat: ChatDriver, nik: str, birth: str) -> None:
    await chat.send(nik)
    await chat.send(birth)


async def share_phone(chat: ChatDriver, phone: str = PHONE) -> None:
    """Factor (a) on Telegram / the terminal: the user's own contact, the roster phone."""
    chat.expect(PENDING)
    await chat.tap("Kirim nomor HP")
    await chat.contact(phone)


async def link_verified(chat: ChatDriver, nik: str, birth: str, phone: str = PHONE) -> None:
    await try_pair(chat, nik, birth)
    await share_phone(chat, phone)


# ---------------------------------------------------------------------------------------------
# link


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("350927150578001", "NIK harus 16 angka. Yang Bapak/Ibu kirim 15 angka"),
        ("35092715057800011", "Yang Bapak/Ibu kirim 17 angka"),
        ("35092715057800a1", "NIK hanya berisi angka"),
        ("3509271513780001", "(bulan lahir) tidak mungkin"),
        ("3509273505780001", "(tanggal lahir) tidak mungkin"),
        ("3509273102780001", "tidak ada di kalender"),
        ("3509271505780000", "Empat angka terakhir NIK tidak boleh 0000"),
    ],
)
async def test_bad_nik_is_asked_again_with_its_specific_reason(
    chat: ChatDriver, typed: str, reason: str
) -> None:
    await open_link(chat)
    await chat.send(typed)
    chat.expect(reason)
    chat.expect_not("Data tidak valid", "tanggal lahir Bapak/Ibu?")
    await chat.send(SUTRISNO)
    chat.expect("Kapan tanggal lahir Bapak/Ibu?")


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("31-02-1978", "Tanggal itu tidak ada di kalender"),
        ("kemarin sore", "Tanggal itu belum bisa kami baca"),
        ("01-01-2027", "Tanggal itu belum terjadi"),
    ],
)
async def test_bad_birth_date_is_asked_again(chat: ChatDriver, typed: str, reason: str) -> None:
    await open_link(chat)
    await chat.send(SUTRISNO)
    await chat.send(typed)
    chat.expect(reason)


async def test_right_pair_alone_shows_nothing_then_the_roster_phone_links(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db)
    await open_link(chat)
    await try_pair(chat, SUTRISNO, "15 mei 78")
    # NIK + date of birth is one factor (the date is inside the NIK): nothing personal yet.
    chat.expect(PENDING, "tanggal lahir sudah tertulis di dalam NIK")
    chat.expect_choices("Kirim nomor HP", "Nomor kartu KPJ", "Nomor KK", "Lewat pendamping")
    chat.expect_not("Sutrisno", "DILINDUNGI", "Data cocok")
    async with db.tx() as tx:
        assert await tx.scalar("SELECT worker_id FROM chats WHERE user_ref = 'u1'") is None
    await share_phone(chat)
    chat.expect("Data cocok", "Bapak Sutrisno DILINDUNGI sampai 31 Desember 2026", "Rp42.000.000")
    async with db.tx() as tx:
        row = await tx.one("SELECT worker_id, active_role FROM chats WHERE user_ref = 'u1'")
    assert row["worker_id"] is not None
    assert row["active_role"] == "worker"


async def test_wrong_pair_gets_the_same_answer_whether_or_not_the_nik_exists(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db)
    await open_link(chat)
    await try_pair(chat, SUTRISNO, "16-05-1978")  # exists, wrong date
    known = chat.text
    await try_pair(chat, UNKNOWN, "01-01-1970")  # does not exist
    assert chat.text == known
    assert NOT_MATCHED in known
    # At once: maybe not registered yet: the screening or the facilitator (issue 14, item 7).
    chat.expect("Mungkin Bapak/Ibu belum terdaftar")
    chat.expect_choices("Coba lagi", "Jawab 5 pertanyaan", "Tanya pendamping")


async def test_five_failures_start_a_cool_down_that_ends_after_30_minutes(
    chat: ChatDriver, db: Database, clock: FixedClock
) -> None:
    await seed_worker(db)
    await open_link(chat)
    for _ in range(4):
        await try_pair(chat, SUTRISNO, "01-01-1980")
        chat.expect(NOT_MATCHED)
    await try_pair(chat, SUTRISNO, "01-01-1980")
    chat.expect(LOCKED, "coba lagi pukul 10.30 WIB", "pendamping desa")
    chat.expect_choices("Cek kepesertaan")  # back at the menu
    # Even the right pair is refused during the cool-down.
    await chat.tap("Cek kepesertaan")
    chat.expect(LOCKED)
    clock.advance(minutes=29)
    await chat.tap("Cek kepesertaan")
    chat.expect(LOCKED)
    clock.advance(minutes=2)
    await chat.tap("Cek kepesertaan")
    await link_verified(chat, SUTRISNO, "15-05-1978")
    chat.expect("Data cocok")


async def test_cool_down_is_counted_per_nik_across_chats_and_channels(
    chat: ChatDriver, db: Database, engine: Engine, clock: FixedClock
) -> None:
    await seed_worker(db)
    async with db.tx() as tx:
        await tx.execute("UPDATE workers SET kpj = '12345678901'")
    other = ChatDriver(engine=engine, clock=clock, channel="telegram", user="777")
    await open_link(chat)
    for _ in range(3):
        await try_pair(chat, SUTRISNO, "01-01-1980")
    await open_link(other)
    await try_pair(other, SUTRISNO, "02-01-1980")
    other.expect(NOT_MATCHED)
    await try_pair(other, SUTRISNO, "03-01-1980")  # 5th failure for this NIK, 2nd for this chat
    other.expect(NOT_MATCHED)  # this chat is not locked (2 failures)...
    # ...but the NIK's knowledge factors are: even the right KPJ is refused from any chat...
    await try_pair(other, SUTRISNO, "15-05-1978")
    other.expect(PENDING)
    await other.tap("Nomor kartu KPJ")
    await other.send("12345678901")
    other.expect(LOCKED, "10.30 WIB", "pendamping desa tetap bisa")
    # ...while the owner's proven phone still links (failures elsewhere never block it).
    await other.tap("Cek kepesertaan")
    await share_phone(other)
    other.expect("Data cocok", "Bapak Sutrisno")
    # Another NIK is not locked at all.
    await seed_worker(db, nik=SUWARNI, name="Suwarni", birth="1985-07-04", sex="P", phone=None)
    async with db.tx() as tx:
        await tx.execute("UPDATE workers SET kpj = '55555555555' WHERE nik = ?", (SUWARNI,))
    fresh = ChatDriver(engine=engine, clock=clock, channel="telegram", user="778")
    await open_link(fresh)
    await try_pair(fresh, SUWARNI, "04-07-1985")
    await fresh.tap("Nomor kartu KPJ")
    await fresh.send("5555 5555 555")
    fresh.expect("Data cocok", "Ibu Suwarni")


async def test_repeat_lockout_doubles_to_60_minutes(
    chat: ChatDriver, db: Database, clock: FixedClock
) -> None:
    await seed_worker(db)
    await open_link(chat)
    for _ in range(5):
        await try_pair(chat, SUTRISNO, "01-01-1980")
    chat.expect(LOCKED, "10.30 WIB")
    clock.advance(minutes=31)  # 10:31
    await chat.tap("Cek kepesertaan")
    for _ in range(4):
        await try_pair(chat, SUTRISNO, "01-01-1980")
        chat.expect(NOT_MATCHED)
    await try_pair(chat, SUTRISNO, "01-01-1980")
    chat.expect(LOCKED, "coba lagi pukul 11.31 WIB")
    clock.advance(minutes=59)
    await chat.tap("Cek kepesertaan")
    chat.expect(LOCKED)
    clock.advance(minutes=2)
    await chat.tap("Cek kepesertaan")
    await link_verified(chat, SUTRISNO, "15-05-1978")
    chat.expect("Data cocok")


# ---------------------------------------------------------------------------------------------
# coverage


@pytest.mark.parametrize(
    ("start", "paid_through", "status", "fragments"),
    [
        (
            "2025-12-01",
            "2026-12-31",
            "verified",
            ("DILINDUNGI sampai 31 Desember 2026", "dibayar Pemkab Jember", "2×24 jam"),
        ),
        (
            "2025-12-01",
            "2026-09-30",
            "verified",
            (
                "untuk 2 bulan terakhir belum tercatat",
                "Menurut data Pemkab",
                "Petugas sedang mengecek",
                "jangan membayar siapa pun",
                "tetap laporkan",
                "jangan beri uang",
            ),
        ),
        (
            "2025-12-01",
            "2026-06-30",
            "verified",
            ("tercatat tidak aktif", "untuk dicek", "Pendaftaran gratis"),
        ),
        ("2027-01-01", None, "verified", ("Perlindungan mulai berlaku 1 Januari 2027",)),
        (None, None, "registered", ("sedang dicek oleh Pemkab dan BPJS Ketenagakerjaan",)),
    ],
    ids=["protected", "arrears", "non_active", "not_started", "registered"],
)
async def test_coverage_status_in_plain_words(
    chat: ChatDriver,
    db: Database,
    start: str | None,
    paid_through: str | None,
    status: str,
    fragments: tuple[str, ...],
) -> None:
    await seed_worker(db, start=start, paid_through=paid_through, status=status)
    await open_link(chat)
    await link_verified(chat, SUTRISNO, "15-05-1978")
    chat.expect("Data cocok", "Bapak Sutrisno", *fragments)
    chat.expect_not("menunggak", "Non-aktif", "Anda ")
    # Linked now: the next check needs no NIK.
    await chat.tap("Cek kepesertaan")
    chat.expect(*fragments)
    chat.expect_not("Ketik NIK")


async def test_coverage_when_not_linked_asks_for_the_nik(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    chat.expect("Kami cocokkan data Bapak/Ibu dulu", "16 angka di KTP atau KK")


# ---------------------------------------------------------------------------------------------
# eligibility


async def start_screening(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Bisa ikut program?")
    chat.expect_choices("Cek dengan NIK", "Jawab 5 pertanyaan")
    await chat.tap("Jawab 5 pertanyaan")
    chat.expect("Berapa umur Bapak/Ibu?")


async def test_linked_worker_gets_the_roster_decision(chat: ChatDriver, db: Database) -> None:
    await seed_worker(db)
    await open_link(chat)
    await link_verified(chat, SUTRISNO, "15-05-1978")
    await chat.tap("Bisa ikut program?")
    chat.expect("sudah terdaftar dan dilindungi", "Tidak perlu mendaftar lagi")
    chat.expect_not("Berapa umur")


async def test_self_screening_happy_path_stores_a_lead_with_the_phone(
    chat: ChatDriver, db: Database
) -> None:
    await start_screening(chat)
    await chat.send("empat puluhan")
    chat.expect("umur dengan angka saja")
    await chat.send("47")
    chat.expect("tinggal di desa apa?")
    await chat.send("puger kulun")
    chat.expect("Maksudnya Desa Pugerkulon, Kecamatan Puger?")
    await chat.tap("Ya, benar")
    chat.expect("Apa pekerjaan utama")
    await chat.tap("Nelayan")
    await chat.tap("Belum")
    chat.expect("DTSEN")
    await chat.tap("Ya")
    chat.expect("Kemungkinan besar Bapak/Ibu memenuhi syarat", "Keputusan akhir")
    chat.expect("pendamping desa Pugerkulon")
    await chat.tap("Boleh")
    chat.expect("Nomor HP")
    await chat.send("0812-3456-7890")
    chat.expect("Pendamping desa akan menghubungi", "jangan beri uang")
    async with db.tx() as tx:
        lead = await tx.one("SELECT desa_code, phone, decision FROM leads")
    assert (lead["desa_code"], lead["phone"]) == ("35.09.08.2004", "+6281234567890")
    assert lead["decision"] == "eligible"


async def test_whatsapp_consent_uses_the_chat_number_without_asking(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    wa = ChatDriver(engine=engine, clock=clock, channel="whatsapp", user="6281299990000")
    await start_screening(wa)
    await wa.send("47")
    await wa.send("pugerkulon")
    await wa.tap("Ya, benar")
    await wa.tap("Nelayan")
    await wa.tap("Belum")
    await wa.tap("Ya")
    await wa.tap("Boleh")
    wa.expect("Pendamping desa akan menghubungi")
    async with db.tx() as tx:
        assert await tx.scalar("SELECT phone FROM leads") == "+6281299990000"


async def test_outside_jember_needs_a_check_with_the_reason(chat: ChatDriver, db: Database) -> None:
    await start_screening(chat)
    await chat.send("40")
    await chat.tap("Di luar Jember")
    await chat.tap("Petani")
    await chat.tap("Belum")
    await chat.tap("Ya")
    # No KTP-Jember rule in the sources (DOMAIN.md §4.2): a check, not a no.
    chat.expect(
        "perlu dicek petugas",
        "alamat KTP di luar Jember perlu dicek petugas",
        "tanyakan petugas Pemkab Jember",
    )
    chat.expect_not("Ditolak", "tidak memenuhi syarat")
    async with db.tx() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM leads") == 0


async def test_age_70_is_over_the_limit(chat: ChatDriver) -> None:
    await start_screening(chat)
    await chat.send("70")
    await chat.send("sumbrsari")
    chat.expect("Maksudnya Desa Sumbersari, Kecamatan Sumbersari?")
    await chat.tap("Ya, benar")
    await chat.tap("Buruh tani")
    await chat.tap("Tidak")
    await chat.tap("Ya")
    chat.expect("belum bisa ikut", "Umur di atas 65 tahun")


async def test_duplicate_desa_name_offers_a_pick_list(chat: ChatDriver) -> None:
    await start_screening(chat)
    await chat.send("47")
    await chat.send("sukoreno")
    chat.expect("Desa yang mana?")
    chat.expect_choices("Sukoreno, Kec. Umbulsari", "Sukoreno, Kec. Kalisat", "Bukan semuanya")
    await chat.tap("Sukoreno, Kec. Kalisat")
    chat.expect("Apa pekerjaan utama")


async def test_unknown_desa_and_wrong_guess_ask_again(chat: ChatDriver) -> None:
    await start_screening(chat)
    await chat.send("47")
    await chat.send("xyzzy")
    chat.expect('Desa "xyzzy" belum kami temukan di Jember')
    await chat.send("sumbrsari")
    await chat.tap("Bukan")
    chat.expect("tinggal di desa apa?")


# ---------------------------------------------------------------------------------------------
# global commands, persistence, staleness, redelivery, stale buttons


async def test_cancel_in_link_sends_nothing_and_shows_the_menu(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db)
    await open_link(chat)
    await chat.send(SUTRISNO)
    await chat.send("batal")
    chat.expect("Baik, dibatalkan. Tidak ada yang dikirim.")
    chat.expect_choices("Cek kepesertaan")
    async with db.tx() as tx:
        assert await tx.scalar("SELECT worker_id FROM chats WHERE user_ref = 'u1'") is None
    await chat.send("batal")
    chat.expect("Tidak ada yang perlu dibatalkan")


async def test_back_returns_to_the_previous_question(chat: ChatDriver) -> None:
    await start_screening(chat)
    await chat.send("47")
    chat.expect("tinggal di desa apa?")
    await chat.send("kembali")
    chat.expect("Berapa umur Bapak/Ibu?")
    await chat.send("52")
    chat.expect("tinggal di desa apa?")


async def test_help_explains_the_step_and_asks_again(chat: ChatDriver) -> None:
    await open_link(chat)
    await chat.send("bantuan")
    chat.expect("NIK ada di KTP", "Ketik NIK")
    await start_screening(chat)
    await chat.send("bantuan")
    chat.expect('"kembali"', '"batal"', "175", "Berapa umur")


async def test_menu_mid_flow_leaves_it_without_a_draft(chat: ChatDriver) -> None:
    await start_screening(chat)
    await chat.send("47")
    await chat.send("menu")
    chat.expect("Menu utama")
    assert "Lanjutkan laporan" not in chat.labels()


async def test_conversation_resumes_after_the_database_is_reopened(
    chat: ChatDriver, db: Database, db_path: Path, clock: FixedClock
) -> None:
    await start_screening(chat)
    await chat.send("47")
    chat.expect("tinggal di desa apa?")
    await db.close()
    reopened = await Database.open(db_path, files_dir=db.files_dir)
    try:
        resumed = ChatDriver(engine=build_engine(reopened, clock=clock), clock=clock, _n=chat._n)
        await resumed.send("puger kulun")
        resumed.expect("Maksudnya Desa Pugerkulon, Kecamatan Puger?")
        resumed.expect_not("Selamat datang")
        await resumed.tap("Ya, benar")
        resumed.expect("Apa pekerjaan utama")
    finally:
        await reopened.close()


async def test_stale_conversation_restarts_at_the_menu_with_a_note(
    chat: ChatDriver, clock: FixedClock
) -> None:
    await start_screening(chat)
    clock.advance(hours=25)
    await chat.send("47")
    chat.expect("sudah lama berhenti", "Menu utama")
    chat.expect_not("tinggal di desa apa?", "Laporan yang belum selesai")


async def test_a_conversation_younger_than_a_day_continues(
    chat: ChatDriver, clock: FixedClock
) -> None:
    await start_screening(chat)
    clock.advance(hours=23)
    await chat.send("47")
    chat.expect("tinggal di desa apa?")


async def test_redelivered_message_gets_no_reply_and_no_effect(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db)
    await open_link(chat)
    first = await chat.send(SUTRISNO, message_id="same")
    assert first
    chat.expect("tanggal lahir")
    again = await chat.send(SUTRISNO, message_id="same")
    assert again == []
    await chat.send("15-05-1978")
    await share_phone(chat)
    chat.expect("Data cocok")


async def test_stale_button_is_refused_without_effect(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Bisa ikut program?")
    old = chat.token()
    await chat.tap("Jawab 5 pertanyaan")
    chat.expect("Berapa umur")
    replies = await chat.press("nik", old)
    chat.expect("Tombol itu sudah tidak berlaku")
    assert replies[0].stale_press
    chat.expect_not("Ketik NIK")
    await chat.send("47")
    chat.expect("tinggal di desa apa?")


@pytest.mark.parametrize(
    ("start", "status"), [(None, "registered"), ("2027-01-01", "verified")], ids=["reg", "start"]
)
async def test_registered_worker_is_not_told_to_seek_registration(
    chat: ChatDriver, db: Database, start: str | None, status: str
) -> None:
    await seed_worker(db, start=start, paid_through=None, status=status)
    await open_link(chat)
    await link_verified(chat, SUTRISNO, "15-05-1978")
    chat.expect("Data cocok")
    chat.expect_not("membantu pendaftaran")
