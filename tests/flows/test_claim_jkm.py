"""Transcripts for the death report (JKM): CONVERSATIONS.md §5 and everything around it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ChatDriver, FixedClock

from handlers.registry import build_engine
from lingkaran_core.storage import Database

# Format-valid Jember NIKs: 3509 + kecamatan + DDMMYY (+40 on DD for women) + serial.
PAIMIN = "3509290101600004"  # Kec. 29, man, 1-01-1960: the deceased, on the roster
SUMIATI = "3509295203650002"  # his widow, 12-03-1965
NOT_ON_ROSTER = "3509291007900003"  # 10-07-1990
SUKORENO_KALISAT = "35.09.27.2002"
REF = re.compile(r"^LC-2026-\d{6}$")

# Someone not on the roster, reported by his son: (answer typed, question it answers).
PATH: list[tuple[str, str]] = [
    ("Tidak", "Apakah peserta meninggal karena kecelakaan kerja"),
    ("3 november", "Kapan beliau meninggal?"),
    ("Anak", "Apa hubungan Bapak/Ibu dengan almarhum/almarhumah?"),
    (NOT_ON_ROSTER, "Berapa NIK almarhum/almarhumah?"),
    ("Paimin", "Siapa nama almarhum/almarhumah, sesuai KTP?"),
    ("Istri/suami beliau", "Siapa ahli waris (penerima santunan)?"),
    ("Sumiati", "Siapa nama lengkap ahli waris (penerima santunan), sesuai KTP?"),
    (SUMIATI, "Berapa NIK ahli waris?"),
    ("Ya", "Apakah ada anak almarhum yang masih sekolah atau kuliah"),
    ("081234567890", "Nomor HP ahli waris yang bisa dihubungi petugas?"),
    ("Kirim", "Kirim laporan kematian untuk"),
]
STEP = {name: i for i, name in enumerate(
    ["cause", "date", "relation", "nik", "name", "heir", "heir_name", "heir_nik", "children",
     "phone", "confirm"]
)}  # fmt: skip


async def seed_worker(
    db: Database,
    *,
    nik: str = PAIMIN,
    name: str = "Paimin",
    birth: str = "1960-01-01",
    start: str = "2025-12-01",
    paid_through: str = "2026-12-31",
) -> int:
    async with db.tx() as tx:
        return await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, registration_status, created_at, updated_at) "
            "VALUES (?, ?, ?, 'L', ?, 'buruh_tani_tembakau', ?, ?, 'verified', "
            "'2025-12-01', '2025-12-01')",
            (nik, name, birth, SUKORENO_KALISAT, start, paid_through),
        )


async def claims(db: Database) -> list[dict[str, object]]:
    async with db.tx() as tx:
        return [dict(r) for r in await tx.all("SELECT * FROM claims ORDER BY id")]


async def open_report(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Lapor kematian")
    chat.expect("Kami turut berduka cita.", "Santunannya berbeda.")
    chat.expect_choices("Ya", "Tidak", "Tidak tahu")


async def answer(chat: ChatDriver, steps: int) -> None:
    """Open the report and answer the first ``steps`` questions of PATH."""
    await open_report(chat)
    for typed, _question in PATH[:steps]:
        await chat.send(typed)


def checklist_of(claim: dict[str, object]) -> list[str]:
    return list(json.loads(str(claim["checklist"])))


# ---------------------------------------------------------------------------------------------
# The happy paths


async def test_son_reports_his_fathers_death_and_the_claim_is_stored(
    chat: ChatDriver, db: Database
) -> None:
    worker_id = await seed_worker(db)
    await open_report(chat)
    await chat.tap("Tidak")
    chat.expect("Kapan beliau meninggal?")
    await chat.send("3 november")
    chat.expect("Apa hubungan Bapak/Ibu dengan almarhum/almarhumah?")
    chat.expect_choices("Anak", "Suami/istri", "Orang tua", "Saudara", "Lainnya")
    await chat.tap("Anak")
    chat.expect("Berapa NIK almarhum/almarhumah? (16 angka di KTP/KK)")
    await chat.send(PAIMIN)
    # On the roster or not, an unlinked chat types the name: the roster is not read back.
    chat.expect("Siapa nama almarhum/almarhumah, sesuai KTP?")
    chat.expect_not("Paimin", "Data ditemukan")
    await chat.send("Paimin")
    chat.expect("Siapa ahli waris (penerima santunan)?")
    chat.expect_choices("Saya sendiri", "Istri/suami beliau", "Orang lain")
    await chat.send("ibu saya")
    chat.expect("Siapa nama lengkap ahli waris (penerima santunan), sesuai KTP?")
    await chat.send("Sumiati")
    chat.expect("Berapa NIK ahli waris?")
    await chat.send(SUMIATI)
    chat.expect("Apakah ada anak almarhum yang masih sekolah atau kuliah")
    await chat.send("Ya")
    chat.expect("Nomor HP ahli waris")
    await chat.send("081234567890")
    chat.expect(
        "Kirim laporan kematian untuk Paimin (NIK 3509********0004), meninggal 3 November 2026?",
        "Ahli waris: Sumiati. Nomor HP: +6281234567890.",
    )
    chat.expect_not("perlindungan almarhum belum atau tidak berlaku", "belum kami temukan")
    chat.expect("Petugas akan mencocokkan data almarhum/almarhumah dan memeriksa kepesertaannya")
    chat.expect_choices("Kirim", "Ubah", "Batal")
    await chat.tap("Kirim")

    [claim] = await claims(db)
    ref = str(claim["ref"])
    assert REF.match(ref)
    chat.expect(
        f"Terkirim. Nomor laporan: {ref}. Mohon disimpan.",
        "Jika kepesertaan aktif pada 3 November 2026, santunannya Rp42.000.000",
        "Rp20.000.000 santunan sekaligus",
        "Rp10.000.000 biaya pemakaman",
        "Ada beasiswa untuk paling banyak 2 anak peserta",
        "Dokumen yang perlu difoto:",
        "Akta kematian",
        "Buku nikah",
    )
    chat.expect_not("Akta kelahiran anak", "2×24 jam")
    assert claim["type"] == "JKM"
    assert claim["status"] == "submitted"
    assert claim["subject_nik"] == PAIMIN
    assert claim["subject_name"] == "Paimin"
    assert claim["worker_id"] == worker_id
    assert claim["desa_code"] == SUKORENO_KALISAT
    assert claim["event_date"] == "2026-11-03"
    assert claim["claimant_name"] == "Sumiati"
    assert claim["claimant_nik"] == SUMIATI
    assert claim["claimant_phone"] == "+6281234567890"
    assert claim["relation"] == "child"
    assert claim["late_report"] == 0
    checklist = checklist_of(claim)
    assert "buku_nikah" in checklist  # the heir is the widow
    assert "akta_kelahiran_anak" not in checklist
    assert {"akta_kematian", "ktp_heir", "kartu_keluarga", "surat_ahli_waris"} <= set(checklist)
    answers = json.loads(str(claim["answers"]))
    assert answers["heir"] == "spouse"
    assert answers["children"] == "yes"
    async with db.tx() as tx:
        events = await tx.all(
            "SELECT from_status, to_status FROM claim_events WHERE claim_id = ?", (claim["id"],)
        )
        jkk_alerts = await tx.scalar(
            "SELECT COUNT(*) FROM outbox WHERE msg_key = 'admin.new_jkk'", ()
        )
    assert [(e["from_status"], e["to_status"]) for e in events] == [("draft", "submitted")]
    assert jkk_alerts == 0  # the 2×24 h alert is for work accidents only


async def test_child_who_is_the_heir_needs_the_birth_certificate(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db)
    await answer(chat, STEP["nik"])
    await chat.send(PAIMIN)
    await chat.send("Paimin")
    await chat.tap("Saya sendiri")
    chat.expect("Siapa nama lengkap Bapak/Ibu, sesuai KTP?")
    await chat.send("Joko Santoso")
    await chat.tap("Tidak tahu")
    await chat.tap("Tidak")
    await chat.send("081234567890")
    chat.expect("Ahli waris: Joko Santoso.")
    await chat.tap("Kirim")
    chat.expect("Akta kelahiran anak")
    chat.expect_not("Buku nikah", "Ada beasiswa")
    [claim] = await claims(db)
    checklist = checklist_of(claim)
    assert "akta_kelahiran_anak" in checklist
    assert "buku_nikah" not in checklist
    assert claim["claimant_nik"] is None


async def test_another_heir_gets_neither_marriage_nor_birth_papers(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["heir"])
    await chat.tap("Orang lain")
    for typed, _ in PATH[STEP["heir_name"] : STEP["confirm"]]:
        await chat.send(typed)
    await chat.tap("Kirim")
    [claim] = await claims(db)
    checklist = checklist_of(claim)
    assert "buku_nikah" not in checklist
    assert "akta_kelahiran_anak" not in checklist
    assert "akta_kematian" in checklist


async def test_deceased_not_on_the_roster_is_reported_with_a_note(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["confirm"])
    # The same note as for a NIK on the roster: an unlinked chat learns nothing of the roster.
    chat.expect(
        "Paimin (NIK 3509********0003), meninggal 3 November 2026",
        "Petugas akan mencocokkan data almarhum/almarhumah dan memeriksa kepesertaannya",
    )
    chat.expect_not("belum kami temukan")
    await chat.tap("Kirim")
    [claim] = await claims(db)
    assert claim["worker_id"] is None
    assert claim["desa_code"] is None
    assert claim["subject_nik"] == NOT_ON_ROSTER


async def test_coverage_not_active_on_the_date_of_death_is_not_told_and_still_filed(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db, start="2026-03-01", paid_through="2026-06-30")
    await answer(chat, STEP["nik"])
    await chat.send(PAIMIN)
    for typed, _ in PATH[STEP["name"] : STEP["confirm"]]:
        await chat.send(typed)
    # Coverage on a date is personal: the unlinked reporter gets the neutral note only.
    chat.expect("Petugas akan mencocokkan data almarhum/almarhumah dan memeriksa kepesertaannya")
    chat.expect_not("perlindungan almarhum belum atau tidak berlaku")
    chat.expect_choices("Kirim", "Ubah", "Batal")
    await chat.tap("Kirim")
    chat.expect("Terkirim. Nomor laporan: LC-2026-")
    [claim] = await claims(db)
    assert claim["status"] == "submitted"
    assert claim["type"] == "JKM"


async def test_death_before_coverage_started_is_not_told_either(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db, start="2026-11-01")
    await answer(chat, STEP["date"])
    await chat.send("20-10-2026")
    await chat.send("Anak")
    await chat.send(PAIMIN)
    for typed, _ in PATH[STEP["name"] : STEP["confirm"]]:
        await chat.send(typed)
    chat.expect("Petugas akan mencocokkan data almarhum/almarhumah dan memeriksa kepesertaannya")
    chat.expect_not("perlindungan almarhum belum atau tidak berlaku")
    await chat.tap("Kirim")
    assert len(await claims(db)) == 1


async def test_death_from_a_work_accident_becomes_a_jkk_claim_with_heir_documents(
    chat: ChatDriver, db: Database
) -> None:
    worker_id = await seed_worker(db)
    await open_report(chat)
    await chat.tap("Ya")
    chat.expect(
        "Karena kecelakaan kerja, ini kami catat sebagai laporan kecelakaan kerja (JKK).",
        "Berapa NIK almarhum/almarhumah?",
    )
    await chat.send(PAIMIN)
    chat.expect("Siapa nama almarhum/almarhumah, sesuai KTP?")
    chat.expect_not("Data ditemukan", "Paimin")
    await chat.send("Paimin")
    chat.expect("Kapan kecelakaan yang menyebabkan beliau")
    await chat.tap("Kemarin")
    await chat.tap("Pagi")
    await chat.send("sawah tembakau di sukoreno")
    await chat.tap("Tidak")
    await chat.send("tersengat listrik pompa air")
    # Reported as a death: never "Bagaimana keadaannya sekarang?" (issue 14, item 6).
    chat.expect_not("Bagaimana keadaannya sekarang?")
    chat.expect("Apa hubungan Bapak/Ibu dengan almarhum/almarhumah?")
    await chat.tap("Anak")
    await chat.send("081234567890")
    chat.expect("- meninggal dunia", "Paimin, NIK 3509********0004")
    await chat.tap("Kirim")
    chat.expect(
        "Terkirim. Nomor laporan",
        "dalam 2×24 jam",
        # The JKK death benefits and the scholarship hint (DOMAIN.md §2.1).
        "Rp48.000.000 santunan kematian",
        "jumlah Rp70.000.000",
        "beasiswa untuk paling banyak 2 anak, tanpa syarat lama kepesertaan",
        "Akta kematian",
        "KTP ahli waris",
        "Akta kelahiran anak",
        "Surat dokter (KK3/3b)",
    )
    chat.expect_not("Tahap II (klaim santunan) dimulai")
    [claim] = await claims(db)
    assert claim["type"] == "JKK"
    assert claim["worker_id"] == worker_id
    assert claim["relation"] == "child"
    assert claim["event_date"] == "2026-11-24"
    answers = json.loads(str(claim["answers"]))
    assert answers["death"] is True
    assert answers["condition"] == "died"
    checklist = checklist_of(claim)
    assert {"akta_kematian", "ktp_heir", "surat_ahli_waris", "akta_kelahiran_anak"} <= set(
        checklist
    )
    assert "laporan_polisi" not in checklist


async def test_cause_unknown_is_taken_as_a_death_report(chat: ChatDriver, db: Database) -> None:
    await open_report(chat)
    await chat.tap("Tidak tahu")
    chat.expect("Kapan beliau meninggal?")
    for typed, _ in PATH[STEP["date"] : len(PATH)]:
        await chat.send(typed)
    [claim] = await claims(db)
    assert claim["type"] == "JKM"
    assert json.loads(str(claim["answers"]))["cause_unknown"] is True


# ---------------------------------------------------------------------------------------------
# A bad answer at every step


@pytest.mark.parametrize(
    ("step", "bad", "reason"),
    [
        ("cause", "9", "ketik angka 1 sampai 4"),
        ("date", "31-02-2026", "Tanggal itu tidak ada di kalender"),
        ("date", "besok", "Tanggal itu belum terjadi"),
        ("date", "01-12-2026", "Tanggal itu belum terjadi"),
        ("date", "kapan ya", "Tanggal itu belum bisa kami baca"),
        ("relation", "9", "ketik angka 1 sampai 5"),
        ("nik", "350929010160000", "NIK harus 16 angka. Yang Bapak/Ibu kirim 15 angka"),
        ("nik", "3509290101600000", "Empat angka terakhir NIK tidak boleh 0000"),
        ("name", "Paimin 2", "Nama tidak boleh berisi angka"),
        ("name", "x", "Mohon tulis nama lengkap dengan huruf"),
        ("heir", "9", "ketik angka 1 sampai 3"),
        ("heir_name", "Sumi4ti", "Nama tidak boleh berisi angka"),
        ("heir_nik", "35092952036500021", "Yang Bapak/Ibu kirim 17 angka"),
        ("heir_nik", NOT_ON_ROSTER, "Itu NIK almarhum/almarhumah. Mohon ketik NIK ahli waris."),
        ("children", "9", "ketik angka 1 sampai 2"),
        ("phone", "12345", "Nomor HP itu tidak bisa kami baca"),
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


# ---------------------------------------------------------------------------------------------
# batal, kembali, bantuan


@pytest.mark.parametrize("i", range(len(PATH)), ids=list(STEP))
async def test_cancel_at_any_step_stores_nothing(chat: ChatDriver, db: Database, i: int) -> None:
    await answer(chat, i)
    chat.expect(PATH[i][1])
    await chat.send("batal")
    chat.expect("Baik, dibatalkan. Tidak ada yang dikirim.", "Menu utama")
    assert "Lanjutkan laporan" not in chat.labels()
    assert await claims(db) == []


@pytest.mark.parametrize("i", range(1, len(PATH)), ids=list(STEP)[1:])
async def test_back_at_any_step_asks_the_previous_question_again(
    chat: ChatDriver, db: Database, i: int
) -> None:
    await answer(chat, i)
    await chat.send("kembali")
    chat.expect(PATH[i - 1][1])
    await chat.send(PATH[i - 1][0])
    chat.expect(PATH[i][1])
    for typed, _ in PATH[i:]:
        await chat.send(typed)
    chat.expect("Terkirim. Nomor laporan")
    assert len(await claims(db)) == 1


async def test_help_at_the_relation_explains_the_heir_order(chat: ChatDriver) -> None:
    await answer(chat, STEP["relation"])
    await chat.send("bantuan")
    chat.expect(
        "Ahli waris utama: istri/suami dan anak",
        "PP 44/2015 Pasal 40",
        "Apa hubungan Bapak/Ibu dengan almarhum/almarhumah?",
    )
    await chat.send("Anak")
    chat.expect("Berapa NIK almarhum/almarhumah?")


async def test_changing_the_heir_name_from_the_confirmation(chat: ChatDriver, db: Database) -> None:
    await answer(chat, STEP["confirm"])
    await chat.tap("Ubah")
    chat.expect_choices("Tanggal meninggal", "NIK almarhum", "Nama ahli waris", "Nomor HP")
    await chat.tap("Nama ahli waris")
    await chat.send("Sumiati Rahayu")
    chat.expect("Ahli waris: Sumiati Rahayu.")
    await chat.tap("Kirim")
    [claim] = await claims(db)
    assert claim["claimant_name"] == "Sumiati Rahayu"


# ---------------------------------------------------------------------------------------------
# Double press, resume, drafts


async def test_pressing_send_twice_stores_one_claim(chat: ChatDriver, db: Database) -> None:
    await answer(chat, STEP["confirm"])
    old = chat.token()
    await chat.tap("Kirim")
    await chat.press("send", old)
    chat.expect("Tombol itu sudah tidak berlaku")
    assert len(await claims(db)) == 1


async def test_report_resumes_after_the_database_is_reopened(
    chat: ChatDriver, db: Database, db_path: Path, clock: FixedClock
) -> None:
    await answer(chat, STEP["heir_name"])
    await db.close()
    reopened = await Database.open(db_path, files_dir=db.files_dir)
    try:
        resumed = ChatDriver(engine=build_engine(reopened, clock=clock), clock=clock, _n=chat._n)
        await resumed.send("Sumiati")
        resumed.expect("Berapa NIK ahli waris?")
        resumed.expect_not("Selamat datang")
        for typed, _ in PATH[STEP["heir_nik"] : STEP["confirm"]]:
            await resumed.send(typed)
        resumed.expect("Paimin (NIK 3509********0003), meninggal 3 November 2026")
        await resumed.tap("Kirim")
        assert len(await claims(reopened)) == 1
    finally:
        await reopened.close()


async def test_menu_mid_report_keeps_a_draft_to_continue(chat: ChatDriver, db: Database) -> None:
    await answer(chat, STEP["heir"])
    await chat.send("menu")
    # Offered above the menu in a message of its own: the menu's numbers do not move.
    assert chat.choices()[0][1] == "Cek kepesertaan"
    assert "Lanjutkan laporan" in chat.labels()
    await chat.tap("Lanjutkan laporan")
    chat.expect("Siapa ahli waris (penerima santunan)?")
    for typed, _ in PATH[STEP["heir"] : STEP["confirm"]]:
        await chat.send(typed)
    chat.expect("Paimin (NIK 3509********0003), meninggal 3 November 2026")
    await chat.tap("Kirim")
    assert len(await claims(db)) == 1
