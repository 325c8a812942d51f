"""Transcripts for the scholarship request (beasiswa anak): routes, membership, every step."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ChatDriver, FixedClock

from handlers.registry import build_engine
from lingkaran_core.storage import Database

PAIMIN = "3509290101600004"  # the participant, man, 1-01-1960
SUKORENO_KALISAT = "35.09.27.2002"
REF = re.compile(r"^LC-2026-\d{6}$")
BEASISWA_DOCS = [
    "formulir_beasiswa",
    "akta_kelahiran_anak",
    "kartu_keluarga",
    "surat_sekolah",
    "rapor",
    "rekening",
    "ktp_wali",
]

# A child of a participant who died (JKM route, 4 years of membership): (typed, question).
PATH: list[tuple[str, str]] = [
    ("Meninggal biasa", "Apa yang terjadi pada peserta?"),
    (PAIMIN, "Berapa NIK peserta (orang tua anak)?"),
    ("3-11-2026", "Kapan peserta meninggal atau mengalami kecelakaan?"),
    ("Dewi Lestari", "Siapa nama anak yang akan menerima beasiswa?"),
    ("12-03-2012", "Kapan tanggal lahir anak?"),
    ("SMP", "Sekarang sekolah di tingkat apa?"),
    ("Kirim", "Ajukan beasiswa untuk Dewi Lestari"),
]
STEP = {
    name: i
    for i, name in enumerate(
        ["cause", "nik", "event_date", "child_name", "child_dob", "level", "confirm"]
    )
}


async def seed_worker(db: Database, *, start: str = "2022-08-01") -> int:
    async with db.tx() as tx:
        return await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, registration_status, created_at, updated_at) "
            "VALUES (?, 'Paimin', '1960-01-01', 'L', ?, 'buruh_tani_tembakau', ?, '2026-12-31', "
            "'verified', '2022-08-01', '2022-08-01')",
            (PAIMIN, SUKORENO_KALISAT, start),
        )


async def claims(db: Database) -> list[dict[str, object]]:
    async with db.tx() as tx:
        return [dict(r) for r in await tx.all("SELECT * FROM claims ORDER BY id")]


async def open_request(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Beasiswa anak")
    chat.expect("Beasiswa untuk paling banyak 2 anak peserta", "Apa yang terjadi pada peserta?")
    chat.expect_choices("Meninggal, kec. kerja", "Meninggal biasa", "Cacat total, kec. kerja")


async def answer(chat: ChatDriver, steps: int) -> None:
    await open_request(chat)
    for typed, _question in PATH[:steps]:
        await chat.send(typed)


# ---------------------------------------------------------------------------------------------
# Routes


async def test_child_of_a_long_time_participant_applies_and_the_claim_is_stored(
    chat: ChatDriver, db: Database
) -> None:
    worker_id = await seed_worker(db)
    await open_request(chat)
    await chat.tap("Meninggal biasa")
    chat.expect("Berapa NIK peserta (orang tua anak)? (16 angka di KTP/KK)")
    await chat.send(PAIMIN)
    chat.expect("Kapan peserta meninggal atau mengalami kecelakaan?")
    await chat.send("3-11-2026")
    chat.expect("Siapa nama anak yang akan menerima beasiswa?")
    await chat.send("Dewi Lestari")
    chat.expect("Kapan tanggal lahir anak?")
    await chat.send("12 maret 2012")
    chat.expect("Sekarang sekolah di tingkat apa?")
    chat.expect_choices("TK", "SD / MI", "SMP / MTs", "SMA / SMK / MA", "Kuliah / pelatihan")
    await chat.tap("SMP / MTs")
    chat.expect(
        "Ajukan beasiswa untuk Dewi Lestari (SMP / MTs), anak dari peserta NIK 3509********0004?",
        "Besarnya Rp2.000.000 per tahun, jika syarat terpenuhi.",
    )
    chat.expect_not(PAIMIN)
    chat.expect_choices("Kirim", "Ubah", "Batal")
    await chat.tap("Kirim")

    [claim] = await claims(db)
    ref = str(claim["ref"])
    assert REF.match(ref)
    chat.expect(
        f"Terkirim. Nomor pengajuan: {ref}. Mohon disimpan.",
        "Beasiswa diajukan lagi setiap tahun ajaran",
        "Paling banyak 2 anak per peserta",
        "Dokumen yang perlu difoto:",
        "Formulir beasiswa",
        "Surat keterangan sekolah",
    )
    assert claim["type"] == "BEASISWA"
    assert claim["status"] == "submitted"
    assert claim["subject_nik"] == PAIMIN
    assert claim["worker_id"] == worker_id
    assert claim["desa_code"] == SUKORENO_KALISAT
    assert claim["event_date"] == "2026-11-03"
    assert claim["claimant_name"] == "Dewi Lestari"
    assert json.loads(str(claim["checklist"])) == BEASISWA_DOCS
    answers = json.loads(str(claim["answers"]))
    assert answers == {
        "cause": "jkm_death",
        "child_name": "Dewi Lestari",
        "child_dob": "2012-03-12",
        "level": "smp",
        # Masa iur counted from the contributions the roster records (Aug 2022 - Nov 2026).
        "masa_iur": "enough",
        "masa_iur_months": 52,
        "needs_verification": False,
        "duplicate_of": None,
    }
    async with db.tx() as tx:
        events = await tx.all(
            "SELECT from_status, to_status FROM claim_events WHERE claim_id = ?", (claim["id"],)
        )
    assert [(e["from_status"], e["to_status"]) for e in events] == [("draft", "submitted")]


async def test_one_year_of_membership_is_not_told_to_an_unlinked_chat_and_staff_check_it(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db, start="2025-08-01")
    await answer(chat, STEP["level"])
    await chat.send("SMP")
    # Years of membership are personal data: an unlinked chat is not told them; the request
    # is filed and the officer checks the membership.
    chat.expect_not("kepesertaan baru 1 tahun", "tahun saat kejadian")
    chat.expect("Ajukan beasiswa untuk Dewi Lestari")
    await chat.tap("Kirim")
    [claim] = await claims(db)
    assert claim["type"] == "BEASISWA"
    assert claim["worker_id"] is not None  # matched for staff


async def test_one_year_of_membership_is_enough_after_a_work_accident(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db, start="2025-08-01")
    await open_request(chat)
    await chat.tap("Meninggal, kec. kerja")
    for typed, _ in PATH[STEP["nik"] : STEP["confirm"]]:
        await chat.send(typed)
    chat.expect("Ajukan beasiswa untuk Dewi Lestari")
    await chat.tap("Kirim")
    chat.expect("Terkirim. Nomor pengajuan")
    [claim] = await claims(db)
    assert claim["type"] == "BEASISWA"
    assert json.loads(str(claim["answers"]))["cause"] == "jkk_death"


async def test_total_disability_from_a_work_accident_is_filed_too(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db, start="2026-01-01")
    await open_request(chat)
    await chat.tap("Cacat total")
    for typed, _ in PATH[STEP["nik"] : len(PATH)]:
        await chat.send(typed)
    [claim] = await claims(db)
    assert json.loads(str(claim["answers"]))["cause"] == "jkk_disabled"


async def test_event_before_membership_is_not_told_to_an_unlinked_chat(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db, start="2026-11-10")
    await answer(chat, STEP["level"])
    await chat.send("SMP")
    chat.expect_not("kejadian itu sebelum kepesertaan dimulai")
    chat.expect("Ajukan beasiswa untuk Dewi Lestari")


async def test_a_child_of_23_or_more_is_explained_and_not_filed(
    chat: ChatDriver, db: Database
) -> None:
    await seed_worker(db)
    await answer(chat, STEP["child_dob"])
    await chat.send("01-01-2000")
    chat.expect("Anak sudah berumur 26 tahun; beasiswa sampai umur 23 tahun.")
    assert await claims(db) == []


async def test_participant_not_on_the_roster_is_filed_for_the_officer_to_check(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, len(PATH))
    [claim] = await claims(db)
    assert claim["worker_id"] is None
    assert claim["subject_nik"] == PAIMIN


# ---------------------------------------------------------------------------------------------
# A bad answer at every step


@pytest.mark.parametrize(
    ("step", "bad", "reason"),
    [
        ("cause", "9", "ketik angka 1 sampai 3"),
        ("nik", "350929010160000", "NIK harus 16 angka. Yang Bapak/Ibu kirim 15 angka"),
        ("nik", "35092901016000a4", "NIK hanya berisi angka"),
        ("event_date", "31-02-2026", "Tanggal itu tidak ada di kalender"),
        ("event_date", "01-12-2026", "Tanggal itu belum terjadi"),
        ("child_name", "Dewi 2", "Nama tidak boleh berisi angka"),
        ("child_name", "d", "Mohon tulis nama lengkap dengan huruf"),
        ("child_dob", "30-02-2012", "Tanggal itu tidak ada di kalender"),
        ("child_dob", "01-01-2027", "Tanggal itu belum terjadi"),
        ("level", "9", "ketik angka 1 sampai 6"),
        ("confirm", "9", "ketik angka 1 sampai 3"),
    ],
)
async def test_bad_answer_is_asked_again_with_its_reason(
    chat: ChatDriver, db: Database, step: str, bad: str, reason: str
) -> None:
    await seed_worker(db)
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
        chat.expect("Terkirim. Nomor pengajuan")
    assert len(await claims(db)) == (1 if step == "confirm" else 0)


# ---------------------------------------------------------------------------------------------
# batal, kembali, bantuan, Ubah


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
    chat.expect("Terkirim. Nomor pengajuan")
    assert len(await claims(db)) == 1


async def test_help_explains_and_asks_the_same_question(chat: ChatDriver) -> None:
    await answer(chat, STEP["child_dob"])
    await chat.send("bantuan")
    chat.expect('"kembali"', "175", "Kapan tanggal lahir anak?")


async def test_change_from_the_confirmation_starts_the_questions_again(
    chat: ChatDriver, db: Database
) -> None:
    await answer(chat, STEP["confirm"])
    await chat.tap("Ubah")
    chat.expect("Apa yang terjadi pada peserta?")
    for typed, _ in PATH[: STEP["child_name"]]:
        await chat.send(typed)
    await chat.send("Dewi Anggraini")
    for typed, _ in PATH[STEP["child_dob"] : STEP["confirm"]]:
        await chat.send(typed)
    chat.expect("Ajukan beasiswa untuk Dewi Anggraini")
    await chat.tap("Kirim")
    [claim] = await claims(db)
    assert claim["claimant_name"] == "Dewi Anggraini"


# ---------------------------------------------------------------------------------------------
# Double press, resume, draft


async def test_pressing_send_twice_stores_one_claim(chat: ChatDriver, db: Database) -> None:
    await answer(chat, STEP["confirm"])
    old = chat.token()
    await chat.tap("Kirim")
    await chat.press("send", old)
    chat.expect("Tombol itu sudah tidak berlaku")
    assert len(await claims(db)) == 1


async def test_request_resumes_after_the_database_is_reopened(
    chat: ChatDriver, db: Database, db_path: Path, clock: FixedClock
) -> None:
    await answer(chat, STEP["child_name"])
    await db.close()
    reopened = await Database.open(db_path, files_dir=db.files_dir)
    try:
        resumed = ChatDriver(engine=build_engine(reopened, clock=clock), clock=clock, _n=chat._n)
        await resumed.send("Dewi Lestari")
        resumed.expect("Kapan tanggal lahir anak?")
        resumed.expect_not("Selamat datang")
        for typed, _ in PATH[STEP["child_dob"] :]:
            await resumed.send(typed)
        resumed.expect("Terkirim. Nomor pengajuan")
        assert len(await claims(reopened)) == 1
    finally:
        await reopened.close()


async def test_menu_mid_request_keeps_a_draft_to_continue(chat: ChatDriver) -> None:
    await answer(chat, STEP["child_dob"])
    await chat.send("menu")
    # Offered above the menu in a message of its own: the menu's numbers do not move.
    assert chat.choices()[0][1] == "Cek kepesertaan"
    assert "Lanjutkan laporan" in chat.labels()
    await chat.tap("Lanjutkan laporan")
    chat.expect("Kapan tanggal lahir anak?")
    await chat.send("12-03-2012")
    await chat.send("SMP")
    chat.expect("Ajukan beasiswa untuk Dewi Lestari (SMP / MTs)")
