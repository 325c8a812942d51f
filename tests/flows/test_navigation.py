"""Stable, forgiving navigation and kind routing, as transcripts (issue: how Jember talks).

A first message is acted on; a NIK typed at the menu is kept; menu numbers never move; menu
words work inside other flows; every words-only step shows a way out; a global command mid-report
asks the pending question again; voice notes and scam reports reach a person.
"""

from __future__ import annotations

from conftest import ChatDriver

from handlers.engine import Incoming, Media
from lingkaran_core.storage import Database

SUTRISNO = "3509271505780001"


async def count(db: Database, sql: str, *params: object) -> int:
    async with db.read() as r:
        return int(await r.scalar(sql, params))


async def seed_worker(db: Database) -> None:
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, registration_status, phone, created_at, updated_at) VALUES (?, "
            "'Sutrisno', '1978-05-15', 'L', '35.09.27.2002', 'buruh_tani_tembakau', '2025-12-01', "
            "'2026-12-31', 'verified', '+6281234567890', '2025-12-01', '2025-12-01')",
            (SUTRISNO,),
        )


async def start_jkk(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Lapor kecelakaan")
    await chat.tap("Orang lain")
    await chat.send(SUTRISNO)
    chat.expect("Siapa nama orang yang celaka")


# -- first messages -----------------------------------------------------------------------------


async def test_a_first_message_that_is_a_menu_number_opens_that_entry(chat: ChatDriver) -> None:
    await chat.send("2")
    chat.expect("Selamat datang", "Kami bantu lapor kecelakaan kerja", "Siapa yang celaka?")


async def test_a_nik_typed_at_the_menu_is_kept_and_the_birth_date_comes_next(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db)
    await chat.send("nik saya 3509 2715 0578 0001")
    chat.expect("NIK 3509********0001 kami terima", "Kapan tanggal lahir")
    await chat.send("15 mei 1978")
    chat.expect_not("NIK harus 16 angka")
    chat.expect("NIK dan tanggal lahir cocok")


async def test_a_nik_with_the_letter_o_is_confirmed_before_it_is_used(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    await chat.send("35O9271505780001")
    chat.expect("Maksudnya NIK 3509 2715 0578 0001?")
    await chat.send("iyo")
    chat.expect("Kapan tanggal lahir")


async def test_a_date_typed_at_the_menu_asks_what_it_is_for_and_is_offered_again(
    chat: ChatDriver,
) -> None:
    await chat.send("menu")
    await chat.send("senin kemarin")
    chat.expect("Tanggal 23 November 2026 untuk apa?")
    await chat.tap("Lapor kecelakaan")
    await chat.tap("Orang lain")
    await chat.send(SUTRISNO)
    await chat.send("Sutrisno")
    chat.expect("Kapan kecelakaannya terjadi?")
    await chat.tap("23 November 2026")
    chat.expect("Kira-kira jam berapa?")


async def test_an_unknown_message_offers_three_likely_entries(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.send("harga pupuk naik terus")
    chat.expect("Mungkin salah satu ini?")
    assert len(chat.choices()) == 3
    await chat.send("1")
    chat.expect_not("belum mengerti")


# -- menus that do not move -------------------------------------------------------------------


async def test_a_draft_is_offered_above_the_menu_and_the_numbers_stay(chat: ChatDriver) -> None:
    await start_jkk(chat)
    await chat.send("menu")
    chat.expect("Laporan kecelakaan kerja Bapak/Ibu belum selesai")
    assert chat.choices()[1][1] == "Lapor kecelakaan"
    await chat.send("2")  # still "Lapor kecelakaan": a new report, not the draft
    chat.expect("Siapa yang celaka?")
    await chat.send("menu")
    await chat.send("lanjut")
    chat.expect("Siapa nama orang yang celaka")


# -- inside steps -----------------------------------------------------------------------------


async def test_a_menu_word_inside_a_submenu_opens_that_menu(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Manfaat")
    await chat.send("klaim saya")
    chat.expect("Belum ada laporan dari nomor ini")


async def test_a_menu_word_in_a_half_filled_report_asks_before_leaving(
    chat: ChatDriver,
) -> None:
    await start_jkk(chat)
    await chat.send("klaim saya")
    chat.expect("Laporan ini belum selesai. Pindah ke menu lain sekarang?")
    await chat.tap("Lanjutkan laporan")
    chat.expect("Siapa nama orang yang celaka")
    await chat.send("klaim saya")
    await chat.tap("Ya, pindah")
    chat.expect("Belum ada laporan dari nomor ini")
    await chat.send("menu")
    chat.expect("belum selesai")


async def test_every_words_only_step_shows_a_way_out(chat: ChatDriver) -> None:
    await start_jkk(chat)
    assert [label for _, label in chat.choices()] == ["Batal"]
    await chat.send("1")
    chat.expect("Baik, dibatalkan")


async def test_stop_mid_report_asks_the_pending_question_again(chat: ChatDriver) -> None:
    await start_jkk(chat)
    await chat.send("BERHENTI")
    chat.expect("Pengingat dan pengumuman tidak kami kirim lagi", "Siapa nama orang yang celaka")


async def test_answers_in_javanese_are_understood_inside_the_report(chat: ChatDriver) -> None:
    await start_jkk(chat)
    await chat.send("Sutrisno")
    await chat.send("wingi sore")
    chat.expect("Kira-kira jam berapa?")
    await chat.send("jam papat sore")
    chat.expect("Di mana kejadiannya?")
    await chat.send("tegal pak haji")
    await chat.send("ndak")
    chat.expect("Apa yang terjadi?")


# -- reaching a person ------------------------------------------------------------------------


async def test_a_voice_note_is_kept_on_a_ticket_and_the_question_asked_again(
    chat: ChatDriver, db: Database
) -> None:
    await start_jkk(chat)
    await chat._send(
        Incoming(
            channel="terminal",
            user_ref=chat.user,
            message_id="voice-1",
            media=Media(data=b"OggS voice", mime="audio/ogg", kind="voice"),
        )
    )
    chat.expect("Pesan suara belum bisa kami dengar; mohon ketik atau tekan tombol", "T-0001")
    chat.expect("Siapa nama orang yang celaka")
    assert await count(db, "SELECT COUNT(*) FROM tickets WHERE topic = 'voice'") == 1
    assert await count(db, "SELECT COUNT(*) FROM ticket_messages WHERE media IS NOT NULL") == 1


async def test_a_scam_report_is_recorded_for_the_opd_with_what_was_said(
    chat: ChatDriver, db: Database
) -> None:
    await chat.send("ada yang minta transfer 200rb katanya dari bpjs")
    chat.expect("GRATIS", "Laporan penipuan dicatat (tiket T-0001)")
    await chat.send("nomornya 0812 9999 0000")
    chat.expect("Tambahan dicatat")
    assert await count(db, "SELECT COUNT(*) FROM tickets WHERE topic = 'scam'") == 1
    assert await count(db, "SELECT COUNT(*) FROM ticket_messages") == 2
    assert await count(db, "SELECT COUNT(*) FROM outbox WHERE msg_key = 'admin.scam'") == 1


async def test_a_health_insurance_card_is_not_answered_with_condolences(
    chat: ChatDriver,
) -> None:
    await chat.send("bpjs kesehatan saya mati")
    chat.expect("BPJS Kesehatan", "165")
    chat.expect_not("berduka")


async def test_a_menu_word_while_writing_to_staff_asks_whether_it_is_the_message(
    chat: ChatDriver, db: Database
) -> None:
    await chat.send("menu")
    await chat.tap("Bicara dg petugas")
    await chat.send("kartu saya hilang")
    chat.expect("Ada tambahan?")
    await chat.send("klaim saya")
    chat.expect('Tulisan "klaim saya" kami tambahkan')
    await chat.tap("Tambahkan ke pesan")
    chat.expect("Pesan ditambahkan ke tiket")
    assert await count(db, "SELECT COUNT(*) FROM ticket_messages") == 2
