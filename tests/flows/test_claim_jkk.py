"""Transcripts for the work-accident report (JKK): CONVERSATIONS.md §4 and everything around it."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from conftest import ChatDriver, FixedClock

from handlers.registry import build_engine
from lingkaran_core.storage import Database

# Format-valid Jember NIKs: 3509 + kecamatan + DDMMYY (+40 on DD for women) + serial.
SUTRISNO = "3509271505780001"  # Kec. Kalisat, man, 15-05-1978, on the roster
UNKNOWN = "3509080101700009"  # Kec. Puger, 1-01-1970, not on the roster
SUKORENO_KALISAT = "35.09.27.2002"
REF = re.compile(r"^LC-2026-\d{6}$")

# The path a report about someone not on the roster takes: (answer typed, question it answers).
PATH: list[tuple[str, str]] = [
    ("Orang lain", "Siapa yang celaka?"),
    (UNKNOWN, "Berapa NIK orang yang celaka?"),
    ("Paijo", "Siapa nama orang yang celaka, sesuai KTP?"),
    ("kemarin", "Kapan kecelakaannya terjadi?"),
    ("14.30", "Kira-kira jam berapa?"),
    ("gudang pengeringan tembakau di sukoreno", "Di mana kejadiannya?"),
    ("Tidak", "Apakah ini kecelakaan lalu lintas"),
    ("jatuh waktu menggantung daun tembakau, kakinya patah", "Apa yang terjadi?"),
    ("Dirawat inap", "Bagaimana keadaannya sekarang?"),
    ("rsd soebandi", "Di rumah sakit atau puskesmas mana?"),
    ("081234567890", "Nomor HP yang bisa dihubungi petugas?"),
    ("Kirim", "Mohon periksa:"),
]
STEP = {name: i for i, name in enumerate(
    ["who", "nik", "name", "date", "time", "place", "traffic", "what", "condition",
     "treated_at", "phone", "confirm"]
)}  # fmt: skip


async def seed_worker(
    db: Database,
    *,
    nik: str = SUTRISNO,
    name: str = "Sutrisno",
    birth: str = "1978-05-15",
    desa: str = SUKORENO_KALISAT,
) -> int:
    async with db.tx() as tx:
        return await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, registration_status, phone, created_at, updated_at) "
            "VALUES (?, ?, ?, 'L', ?, 'buruh_tani_tembakau', '2025-12-01', '2026-12-31', "
            "'verified', '+6281234567890', '2025-12-01', '2025-12-01')",
            (nik, name, birth, desa),
        )


async def claims(db: Database) -> list[dict[str, object]]:
    async with db.tx() as tx:
        return [dict(r) for r in await tx.all("SELECT * FROM claims ORDER BY id")]


async def count(db: Database, sql: str, *params: object) -> int:
    async with db.tx() as tx:
        return int(await tx.scalar(sql, params))


async def open_report(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Lapor kecelakaan")
    chat.expect(
        "Kami bantu lapor kecelakaan kerja", '"kembali" = ubah jawaban', "Siapa yang celaka?"
    )


async def answer(chat: ChatDriver, steps: int) -> None:
    """Open the report and answer the first ``steps`` questions of PATH."""
    await open_report(chat)
    for typed, _question in PATH[:steps]:
        await chat.send(typed)


# ---------------------------------------------------------------------------------------------
# The happy paths


async def test_wife_reports_her_husbands_fall_and_the_claim_is_stored(
    chat: ChatDriver, db: Database
) -> None:
    worker_id = await seed_worker(db)
    await open_report(chat)
    await chat.tap("Orang lain")
    chat.expect("Berapa NIK orang yang celaka? (16 angka di KTP/KK)")
    chat.expect_choices("Tidak tahu")
    await chat.send("3509 2715 0578 0001")
    # The roster is not read back to an unlinked chat: the name is typed, found or not.
    chat.expect("Siapa nama orang yang celaka, sesuai KTP?")
    chat.expect_not(SUTRISNO, "Sutrisno", "Data ditemukan")
    await chat.send("Sutrisno")
    chat.expect("Kapan kecelakaannya")
    chat.expect_choices("Hari ini", "Kemarin")
    await chat.tap("Kemarin")
    chat.expect("Kira-kira jam berapa?")
    chat.expect_choices("Pagi", "Siang", "Sore", "Malam")
    await chat.tap("Siang")
    chat.expect("Di mana kejadiannya?")
    await chat.send("gudang pengeringan tembakau di sukoreno")
    chat.expect("kecelakaan lalu lintas")
    await chat.tap("Tidak")
    chat.expect("Apa yang terjadi?")
    await chat.send("jatuh waktu menggantung daun tembakau, kakinya patah")
    chat.expect("Bagaimana keadaannya sekarang?")
    chat.expect_choices("Dirawat inap", "Rawat jalan", "Belum berobat", "Meninggal dunia")
    await chat.tap("Dirawat inap")
    chat.expect("Di rumah sakit atau puskesmas mana?")
    await chat.send("rsd soebandi")
    chat.expect("Nomor HP yang bisa dihubungi petugas?")
    await chat.send("0812-3456-7890")
    chat.expect(
        "Mohon periksa:",
        "- Sutrisno, NIK 3509********0001",
        "- 24 November 2026, 12:00, di gudang pengeringan tembakau di sukoreno",
        "- jatuh waktu menggantung daun tembakau, kakinya patah",
        "- dirawat inap",
        "- Dirawat di rsd soebandi",
        "- Nomor HP: +6281234567890",
        "Sudah benar?",
    )
    chat.expect_not("Kecelakaan lalu lintas")
    chat.expect_choices("Kirim", "Ubah", "Batal")
    await chat.tap("Kirim")

    [claim] = await claims(db)
    ref = str(claim["ref"])
    assert REF.match(ref)
    chat.expect(
        f"Terkirim. Nomor laporan: {ref}. Mohon disimpan.",
        "pemberitahuan tahap I",
        "dalam 2×24 jam, yaitu sebelum 26 November 2026 12:00",
        # Coverage is not read back to an unlinked chat: one neutral note, no hospital promise.
        "Petugas Pemkab akan mengecek kepesertaan pada tanggal kejadian",
        "Tahap II (klaim santunan) dimulai setelah dokter menyatakan sembuh atau cacat",
        "Dokumen yang perlu difoto:",
        "Cerita kejadian + KTP 2 saksi",
        "Surat polisi tidak perlu (bukan kecelakaan lalu lintas).",
        "Silakan kirim foto kartu peserta bpjs tk.",
    )
    chat.expect_not(
        "Surat polisi / Jasa Raharja",
        "lewat dari 2×24 jam",
        "Katakan ke rumah sakit",
        "Surat dokter (KK3/3b)",
    )
    chat.expect_choices("Nanti saja", "Dokumen lain")
    assert claim["type"] == "JKK"
    assert claim["status"] == "submitted"
    assert claim["subject_nik"] == SUTRISNO
    assert claim["subject_name"] == "Sutrisno"  # as typed
    assert claim["worker_id"] == worker_id  # matched for staff, never echoed
    assert claim["desa_code"] == SUKORENO_KALISAT  # taken from the worker, not typed
    assert claim["event_date"] == "2026-11-24"
    assert claim["event_at"] == "2026-11-24T12:00:00+07:00"
    assert claim["late_report"] == 0
    assert claim["claimant_phone"] == "+6281234567890"
    checklist = json.loads(str(claim["checklist"]))
    assert "laporan_polisi" not in checklist
    # Tahap I asks only for what exists at the first report (DOMAIN.md §9).
    assert checklist == ["kartu_peserta", "ktp_participant", "kronologi_saksi"]
    assert claim["event_coverage"] == "protected"
    answers = json.loads(str(claim["answers"]))
    assert answers["place"] == "gudang pengeringan tembakau di sukoreno"
    assert answers["treated_at"] == "rsd soebandi"
    assert answers["traffic"] == "no"
    async with db.tx() as tx:
        events = await tx.all(
            "SELECT from_status, to_status FROM claim_events WHERE claim_id = ?", (claim["id"],)
        )
        alerts = await tx.all("SELECT params FROM outbox WHERE msg_key = 'admin.new_jkk'")
    assert [(e["from_status"], e["to_status"]) for e in events] == [("draft", "submitted")]
    assert [json.loads(a["params"]) for a in alerts] == [{"ref": ref, "event_date": "2026-11-24"}]


async def test_traffic_accident_needs_the_police_report(chat: ChatDriver, db: Database) -> None:
    await answer(chat, STEP["traffic"])
    await chat.tap("Ya")
    await chat.send("ditabrak motor di jalan ke sawah, tangan patah")
    await chat.tap("Rawat jalan")
    await chat.send("puskesmas kalisat")
    await chat.send("081234567890")
    chat.expect("- Kecelakaan lalu lintas", "- rawat jalan", "- Paijo, NIK 3509********0009")
    await chat.tap("Kirim")
    chat.expect("Surat polisi / Jasa Raharja")
    chat.expect_not("Surat polisi tidak perlu")
    [claim] = await claims(db)
    assert "laporan_polisi" in json.loads(str(claim["checklist"]))
    assert claim["subject_nik"] == UNKNOWN
    assert claim["subject_name"] == "Paijo"
    assert claim["worker_id"] is None
    assert claim["desa_code"] is None  # not on the roster: the officer matches it


async def test_untreated_skips_the_hospital_and_needs_no_receipts(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["condition"])
    await chat.tap("Belum berobat")
    chat.expect("Nomor HP yang bisa dihubungi petugas?")
    chat.expect_not("rumah sakit atau puskesmas")
    await chat.send("081234567890")
    chat.expect("- belum berobat")
    chat.expect_not("Dirawat di")
    await chat.tap("Kirim")
    chat.expect_not("Katakan ke rumah sakit", "Kuitansi (", "tanyakan cara pembayaran")
    [claim] = await claims(db)
    assert "kuitansi" not in json.loads(str(claim["checklist"]))


async def test_unknown_nik_asks_for_the_name_and_is_stored_without_one(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["nik"])
    await chat.tap("Tidak tahu")
    chat.expect("Siapa nama orang yang celaka, sesuai KTP?")
    for typed, _ in PATH[STEP["name"] : STEP["confirm"]]:
        await chat.send(typed)
    chat.expect("- Paijo, NIK belum ada")
    await chat.tap("Kirim")
    [claim] = await claims(db)
    assert claim["subject_nik"] is None
    assert claim["subject_name"] == "Paijo"


async def test_linked_worker_reporting_for_himself_skips_the_nik(
    chat: ChatDriver, db: Database
) -> None:
    worker_id = await seed_worker(db)
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    await chat.send(SUTRISNO)
    await chat.send("15-05-1978")
    await chat.tap("Kirim nomor HP")
    await chat.contact("+6281234567890")  # the roster phone: factor (a)
    chat.expect("Data cocok")
    await chat.send("menu")
    await chat.tap("Lapor kecelakaan")
    await chat.tap("Saya sendiri")
    chat.expect("Kapan kecelakaannya terjadi?")
    chat.expect_not("Berapa NIK")
    for typed, _ in PATH[STEP["date"] : STEP["confirm"]]:
        await chat.send(typed)
    chat.expect("- Sutrisno, NIK 3509********0001")
    await chat.tap("Kirim")
    [claim] = await claims(db)
    assert claim["worker_id"] == worker_id
    assert claim["desa_code"] == SUKORENO_KALISAT
    assert json.loads(str(claim["answers"]))["who"] == "self"


async def test_unlinked_reporter_for_himself_is_asked_his_nik(chat: ChatDriver) -> None:
    await open_report(chat)
    await chat.tap("Saya sendiri")
    chat.expect("Berapa NIK Bapak/Ibu? (16 angka di KTP/KK)")


async def test_death_from_the_accident_asks_the_relation_and_lists_heir_documents(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["condition"])
    await chat.tap("Meninggal dunia")
    chat.expect("Kami turut berduka cita. Apa hubungan Bapak/Ibu dengan almarhum/almarhumah?")
    chat.expect_choices("Suami/istri", "Anak", "Orang tua", "Saudara", "Lainnya")
    await chat.tap("Suami/istri")
    chat.expect("Nomor HP yang bisa dihubungi petugas?")
    await chat.send("081234567890")
    chat.expect("- meninggal dunia")
    await chat.tap("Kirim")
    chat.expect("Akta kematian", "KTP ahli waris", "Surat keterangan ahli waris", "Buku nikah")
    [claim] = await claims(db)
    assert claim["relation"] == "spouse"
    checklist = json.loads(str(claim["checklist"]))
    assert {"akta_kematian", "ktp_heir", "surat_ahli_waris", "buku_nikah"} <= set(checklist)
    assert "akta_kelahiran_anak" not in checklist


# ---------------------------------------------------------------------------------------------
# Deadlines


async def test_a_report_three_days_late_is_accepted_and_flagged(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["date"])
    await chat.send("22-11-2026")
    await chat.tap("Pagi")
    for typed, _ in PATH[STEP["place"] : STEP["confirm"]]:
        await chat.send(typed)
    chat.expect("22 November 2026, 08:00")
    await chat.tap("Kirim")
    chat.expect(
        "Terkirim. Nomor laporan: LC-2026-",
        "lewat dari 2×24 jam sejak kecelakaan. Tidak apa-apa, laporan tetap kami terima",
    )
    chat.expect_not("yaitu sebelum")
    [claim] = await claims(db)
    assert claim["status"] == "submitted"
    assert claim["late_report"] == 1
    assert claim["event_date"] == "2026-11-22"


async def test_a_report_within_two_days_is_not_flagged_late(chat: ChatDriver, db: Database) -> None:
    await answer(chat, STEP["date"])
    await chat.send("23-11-2026")
    await chat.send("14.30")  # 23 Nov 14:30 → deadline 25 Nov 14:30, it is 10:00 now
    for typed, _ in PATH[STEP["place"] : STEP["confirm"]]:
        await chat.send(typed)
    await chat.tap("Kirim")
    chat.expect("yaitu sebelum 25 November 2026 14:30")
    [claim] = await claims(db)
    assert claim["late_report"] == 0


# ---------------------------------------------------------------------------------------------
# A bad answer at every step gets its own reason, and the flow goes on after the correction


@pytest.mark.parametrize(
    ("step", "bad", "reason"),
    [
        ("who", "9", "ketik angka 1 sampai 2"),
        ("who", "entahlah", "ketik angka 1 sampai 2"),
        ("nik", "350927150578001", "NIK harus 16 angka. Yang Bapak/Ibu kirim 15 angka"),
        ("nik", "35092715057800011", "NIK harus 16 angka. Yang Bapak/Ibu kirim 17 angka"),
        ("nik", "9", "NIK harus 16 angka. Yang Bapak/Ibu kirim 1 angka"),
        ("nik", "35092715057800a1", "NIK hanya berisi angka"),
        ("nik", "3509271505780000", "Empat angka terakhir NIK tidak boleh 0000"),
        ("nik", "3509273102780001", "tidak ada di kalender"),
        ("name", "Paijo 2", "Nama tidak boleh berisi angka"),
        ("name", "x", "Mohon tulis nama lengkap dengan huruf"),
        ("date", "31-02-2026", "Tanggal itu tidak ada di kalender"),
        ("date", "01-12-2026", "Tanggal itu belum terjadi"),
        ("date", "besok", "Tanggal itu belum terjadi"),
        ("date", "abc", "Tanggal itu belum bisa kami baca"),
        ("time", "jam 25", "Mohon pilih pagi, siang, sore atau malam, atau tulis jamnya"),
        ("time", "tidak ingat", "Mohon pilih pagi, siang, sore atau malam"),
        ("place", "x", "Mohon tulis sedikit lebih jelas"),
        ("place", "s" * 201, "Jawaban terlalu panjang (201 huruf)"),
        ("traffic", "9", "ketik angka 1 sampai 2"),
        ("what", "a", "Mohon tulis sedikit lebih jelas"),
        ("condition", "9", "ketik angka 1 sampai 4"),
        ("condition", "sehat", "ketik angka 1 sampai 4"),
        ("treated_at", "?", "Mohon tulis sedikit lebih jelas"),
        ("phone", "12345", "Nomor HP itu tidak bisa kami baca"),
        ("phone", "+14155550123", "Mohon pakai nomor HP Indonesia"),
        ("phone", "0331487000", "Itu nomor telepon rumah"),
        ("confirm", "9", "ketik angka 1 sampai 3"),
    ],
)
async def test_bad_answer_is_asked_again_with_its_reason(
    chat: ChatDriver, db: Database, step: str, bad: str, reason: str
) -> None:
    i = STEP[step]
    await answer(chat, i)
    await chat.send(bad)
    chat.expect(reason)
    if i + 1 < len(PATH):
        chat.expect_not(PATH[i + 1][1])
    await chat.send(PATH[i][0])
    if i + 1 < len(PATH):
        chat.expect(PATH[i + 1][1])
    else:
        chat.expect("Terkirim. Nomor laporan")
    assert len(await claims(db)) == (1 if step == "confirm" else 0)


async def test_a_time_later_today_has_not_happened_yet(chat: ChatDriver) -> None:
    await answer(chat, STEP["date"])
    await chat.tap("Hari ini")
    await chat.tap("Malam")  # it is 10:00
    chat.expect("Waktu itu belum terjadi. Mohon pilih lagi.")
    chat.expect_not("Di mana kejadiannya?")
    await chat.send("07.15")
    chat.expect("Di mana kejadiannya?")


async def test_empty_place_asks_for_an_answer(chat: ChatDriver) -> None:
    await answer(chat, STEP["place"])
    await chat.send("   ")
    chat.expect("Mohon tulis jawaban Bapak/Ibu.")
    await chat.send("sawah di sukoreno")
    chat.expect("kecelakaan lalu lintas")


async def test_a_photo_where_text_is_expected_is_not_taken(chat: ChatDriver) -> None:
    await answer(chat, STEP["place"])
    await chat.photo()
    chat.expect("tidak menunggu foto", "Di mana kejadiannya?")


# ---------------------------------------------------------------------------------------------
# batal, kembali, bantuan at every step


@pytest.mark.parametrize("i", range(len(PATH)), ids=list(STEP))
async def test_cancel_at_any_step_stores_nothing(chat: ChatDriver, db: Database, i: int) -> None:
    await answer(chat, i)
    chat.expect(PATH[i][1])
    await chat.send("batal")
    chat.expect("Baik, dibatalkan. Tidak ada yang dikirim.", "Menu utama")
    assert "Lanjutkan laporan" not in chat.labels()
    assert await claims(db) == []
    assert await count(db, "SELECT COUNT(*) FROM outbox") == 0


async def test_the_cancel_button_on_the_confirmation_stores_nothing(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["confirm"])
    await chat.tap("Batal")
    chat.expect("dibatalkan", "Menu utama")
    assert await claims(db) == []


@pytest.mark.parametrize("i", range(1, len(PATH)), ids=list(STEP)[1:])
async def test_back_at_any_step_asks_the_previous_question_again(
    chat: ChatDriver, db: Database, i: int
) -> None:
    await answer(chat, i)
    await chat.send("kembali")
    chat.expect(PATH[i - 1][1])
    chat.expect_not(PATH[i][1])
    await chat.send(PATH[i - 1][0])
    chat.expect(PATH[i][1])
    for typed, _ in PATH[i:]:
        await chat.send(typed)
    chat.expect("Terkirim. Nomor laporan")
    assert len(await claims(db)) == 1


async def test_back_at_the_first_question_returns_to_the_menu(chat: ChatDriver) -> None:
    await answer(chat, 0)
    await chat.send("kembali")
    chat.expect("Menu utama")
    assert "Lanjutkan laporan" not in chat.labels()


async def test_help_explains_and_asks_the_same_question(chat: ChatDriver) -> None:
    await answer(chat, STEP["nik"])
    await chat.send("bantuan")
    chat.expect('"kembali"', '"batal"', "175", "Berapa NIK orang yang celaka?")
    await chat.send(UNKNOWN)
    chat.expect("Siapa nama orang yang celaka")


async def test_changing_an_answer_from_the_confirmation(chat: ChatDriver, db: Database) -> None:
    await answer(chat, STEP["confirm"])
    await chat.tap("Ubah")
    chat.expect("Apa yang ingin diubah?")
    chat.expect_choices("Tanggal", "Tempat", "Kejadian", "Keadaan", "Nomor HP")
    await chat.tap("Tempat")
    chat.expect("Di mana kejadiannya?")
    await chat.send("kebun kopi di sukoreno")
    chat.expect("Mohon periksa:", "di kebun kopi di sukoreno")
    await chat.tap("Kirim")
    [claim] = await claims(db)
    assert json.loads(str(claim["answers"]))["place"] == "kebun kopi di sukoreno"


# ---------------------------------------------------------------------------------------------
# Double press, resume, drafts


async def test_pressing_send_twice_stores_one_claim(chat: ChatDriver, db: Database) -> None:
    await answer(chat, STEP["confirm"])
    old = chat.token()
    await chat.tap("Kirim")
    chat.expect("Terkirim")
    await chat.press("send", old)
    chat.expect("Tombol itu sudah tidak berlaku")
    chat.expect_not("Terkirim")
    assert len(await claims(db)) == 1
    assert await count(db, "SELECT COUNT(*) FROM outbox WHERE msg_key = 'admin.new_jkk'") == 1


async def test_report_resumes_after_the_database_is_reopened(
    chat: ChatDriver, db: Database, db_path: Path, clock: FixedClock
) -> None:
    await answer(chat, STEP["place"])
    chat.expect("Di mana kejadiannya?")
    await db.close()
    reopened = await Database.open(db_path, files_dir=db.files_dir)
    try:
        resumed = ChatDriver(engine=build_engine(reopened, clock=clock), clock=clock, _n=chat._n)
        await resumed.send(PATH[STEP["place"]][0])
        resumed.expect("Apakah ini kecelakaan lalu lintas")
        resumed.expect_not("Selamat datang", "Menu utama")
        for typed, _ in PATH[STEP["traffic"] : STEP["confirm"]]:
            await resumed.send(typed)
        resumed.expect("- Paijo, NIK 3509********0009", "24 November 2026, 14:30")
        await resumed.tap("Kirim")
        assert len(await claims(reopened)) == 1
    finally:
        await reopened.close()


async def test_menu_mid_report_keeps_a_draft_to_continue(chat: ChatDriver, db: Database) -> None:
    await answer(chat, STEP["traffic"])
    await chat.send("menu")
    chat.expect("Menu utama")
    # Offered above the menu in a message of its own: the menu's numbers do not move.
    assert chat.choices()[0][1] == "Cek kepesertaan"
    assert "Lanjutkan laporan" in chat.labels()
    await chat.tap("Lanjutkan laporan")
    chat.expect("Apakah ini kecelakaan lalu lintas")
    for typed, _ in PATH[STEP["traffic"] : STEP["confirm"]]:
        await chat.send(typed)
    chat.expect(
        "- Paijo, NIK 3509********0009",
        "24 November 2026, 14:30, di gudang pengeringan tembakau di sukoreno",
    )
    await chat.tap("Kirim")
    assert len(await claims(db)) == 1
    await chat.send("menu")
    assert "Lanjutkan laporan" not in chat.labels()


async def test_idle_report_restarts_at_the_menu_with_the_draft_offered(
    chat: ChatDriver, clock: FixedClock
) -> None:
    await answer(chat, STEP["place"])
    clock.advance(hours=25)
    await chat.send("gudang")
    chat.expect(
        "Percakapan sebelumnya sudah lama berhenti",
        "Laporan yang belum selesai sudah kami simpan.",
        "Menu utama",
    )
    chat.expect_not("kecelakaan lalu lintas")  # the late message is not taken as the answer
    # Offered above the menu in a message of its own: the menu's numbers do not move.
    assert chat.choices()[0][1] == "Cek kepesertaan"
    assert "Lanjutkan laporan" in chat.labels()
    await chat.tap("Lanjutkan laporan")
    chat.expect("Di mana kejadiannya?")
    for typed, _ in PATH[STEP["place"] : STEP["confirm"]]:
        await chat.send(typed)
    chat.expect("- Paijo, NIK 3509********0009", "24 November 2026, 14:30")


async def test_back_after_continuing_an_idle_draft_asks_the_previous_question(
    chat: ChatDriver, clock: FixedClock
) -> None:
    await answer(chat, STEP["place"])
    clock.advance(hours=25)
    await chat.send("gudang")
    await chat.tap("Lanjutkan laporan")
    await chat.send("kembali")
    chat.expect("Kira-kira jam berapa?")
    await chat.send("batal")
    chat.expect("dibatalkan")
    assert "Lanjutkan laporan" not in chat.labels()


async def test_a_report_idle_for_less_than_a_day_continues(
    chat: ChatDriver, clock: FixedClock
) -> None:
    await answer(chat, STEP["place"])
    clock.advance(hours=23)
    await chat.send(PATH[STEP["place"]][0])
    chat.expect("Apakah ini kecelakaan lalu lintas")


async def test_cancel_after_continuing_discards_the_draft(chat: ChatDriver, db: Database) -> None:
    await answer(chat, STEP["traffic"])
    await chat.send("menu")
    await chat.tap("Lanjutkan laporan")
    await chat.send("batal")
    chat.expect("dibatalkan", "Menu utama")
    assert "Lanjutkan laporan" not in chat.labels()
    await chat.send("menu")
    assert "Lanjutkan laporan" not in chat.labels()
    assert await claims(db) == []


async def test_cancel_at_the_menu_discards_the_offered_draft(chat: ChatDriver) -> None:
    await answer(chat, STEP["traffic"])
    await chat.send("menu")
    # Offered above the menu in a message of its own: the menu's numbers do not move.
    assert chat.choices()[0][1] == "Cek kepesertaan"
    assert "Lanjutkan laporan" in chat.labels()
    await chat.send("batal")
    assert "Lanjutkan laporan" not in chat.labels()


async def test_back_after_continuing_a_draft_asks_the_previous_question(
    chat: ChatDriver,
) -> None:
    await answer(chat, STEP["traffic"])
    await chat.send("menu")
    await chat.tap("Lanjutkan laporan")
    await chat.send("kembali")
    chat.expect("Di mana kejadiannya?")


# ---------------------------------------------------------------------------------------------
# Answers changed on the way must not leave stale facts behind


async def test_a_corrected_nik_does_not_keep_the_first_workers_record(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db)
    await answer(chat, STEP["nik"])
    await chat.send(SUTRISNO)
    chat.expect("Siapa nama orang yang celaka")
    chat.expect_not("Sutrisno")
    await chat.send("kembali")
    await chat.send(UNKNOWN)
    for typed, _ in PATH[STEP["name"] : STEP["confirm"]]:
        await chat.send(typed)
    await chat.tap("Kirim")
    [claim] = await claims(db)
    assert claim["subject_nik"] == UNKNOWN
    assert claim["worker_id"] is None
    assert claim["desa_code"] is None


async def test_changing_the_condition_away_from_death_drops_the_heir_documents(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["condition"])
    await chat.tap("Meninggal dunia")
    await chat.send("kembali")
    await chat.tap("Rawat jalan")
    await chat.send("puskesmas kalisat")
    await chat.send("081234567890")
    await chat.tap("Kirim")
    [claim] = await claims(db)
    checklist = json.loads(str(claim["checklist"]))
    assert "akta_kematian" not in checklist
    assert json.loads(str(claim["answers"]))["death"] is not True


async def test_editing_the_date_cannot_put_the_accident_in_the_future(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["time"])
    await chat.tap("Malam")  # yesterday 20:00: fine
    for typed, _ in PATH[STEP["place"] : STEP["confirm"]]:
        await chat.send(typed)
    await chat.tap("Ubah")
    await chat.tap("Tanggal")
    await chat.tap("Hari ini")  # today 20:00: it is only 10:00
    chat.expect_not("Mohon periksa:")
    await chat.tap("Pagi")
    await chat.tap("Kirim")
    [claim] = await claims(db)
    assert str(claim["event_at"]) <= "2026-11-25T10:00:00+07:00"


# ---------------------------------------------------------------------------------------------
# Documents after submission


async def test_photo_after_submission_is_stored_on_disk_and_a_duplicate_is_refused(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["confirm"])
    await chat.tap("Kirim")
    [claim] = await claims(db)
    ref = str(claim["ref"])
    chat.expect("Silakan kirim foto kartu peserta bpjs tk.")
    await chat.photo(data=b"\xff\xd8\xff kartu")
    chat.expect("Kartu peserta BPJS TK diterima. Kurang 2 dokumen:", "Silakan kirim foto ktp")
    async with db.tx() as tx:
        rows = await tx.all("SELECT kind, path, mime, size FROM claim_documents")
    assert [(r["kind"], r["mime"], r["size"]) for r in rows] == [
        ("kartu_peserta", "image/jpeg", len(b"\xff\xd8\xff kartu"))
    ]
    stored = Path(rows[0]["path"])
    assert stored.parent == db.files_dir / "claims" / ref
    assert await asyncio.to_thread(stored.read_bytes) == b"\xff\xd8\xff kartu"

    await chat.photo(data=b"\xff\xd8\xff kartu")
    chat.expect("Foto ini sama dengan yang sudah dikirim sebelumnya. Mohon foto dokumen ktp")
    assert await count(db, "SELECT COUNT(*) FROM claim_documents") == 1

    await chat.send("sudah saya kirim kemarin")
    chat.expect("Kami tetap perlu fotonya")
    await chat.tap("Dokumen lain")
    chat.expect("Dokumen mana yang akan difoto?")
    labels = [lbl for _, lbl in chat.choices()]
    assert "Kartu peserta BPJS TK" not in labels
    assert labels[-1] == "Nanti saja"
    await chat.tap("Cerita kejadian")
    chat.expect("Silakan kirim foto Cerita kejadian + KTP 2 saksi.")
    await chat.photo(data=b"\xff\xd8\xff kronologi")
    chat.expect("Cerita kejadian + KTP 2 saksi diterima. Kurang 1 dokumen")
    async with db.tx() as tx:
        kinds = [r["kind"] for r in await tx.all("SELECT kind FROM claim_documents ORDER BY id")]
    assert kinds == ["kartu_peserta", "kronologi_saksi"]
    await chat.tap("Nanti saja")
    chat.expect('Kirim kapan saja lewat menu "Klaim saya"')
    chat.expect_choices("Cek kepesertaan", "Lapor kecelakaan")


async def test_later_right_after_submission_ends_at_the_menu(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["confirm"])
    await chat.tap("Kirim")
    await chat.tap("Nanti saja")
    chat.expect("Kirim kapan saja lewat menu")
    chat.expect_choices("Cek kepesertaan", "Lapor kecelakaan")
    assert await count(db, "SELECT COUNT(*) FROM claim_documents") == 0


async def test_a_file_of_the_wrong_type_is_refused(chat: ChatDriver, db: Database) -> None:
    await answer(chat, STEP["confirm"])
    await chat.tap("Kirim")
    await chat.photo(data=b"MZ not a photo", mime="application/x-msdownload")
    chat.expect("Jenis berkas itu tidak bisa kami terima")
    assert await count(db, "SELECT COUNT(*) FROM claim_documents") == 0
