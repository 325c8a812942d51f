"""Nobody trapped, nobody told a wrong "no" (issue 14, items 7, 8, 9).

* someone not on the roster reaches the screening straight from a failed link, in the same words
  whether or not the NIK exists; a date without a year is asked again and is no failed attempt;
* eligibility excludes only an ACTIVE BPU membership elsewhere; "Lainnya" occupations and KTPs
  outside Jember need a check; a facilitator registering a non-Jember NIK is warned;
* the OPD's figures come from recorded data: cohort by sector and kecamatan, benefits paid by
  programme over a period, with the amount the admin recorded when setting paid.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from conftest import ChatDriver, FixedClock, settings_for

from handlers.engine import Engine
from lingkaran.channels import admin_cli
from lingkaran_core.storage import Database

SUTRISNO = "3509271505780001"  # 15-05-1978, on the roster
NOBODY = "3509080101700009"  # not on the roster
BANYUWANGI = "3510011505780001"  # a NIK issued in Banyuwangi (35.10)
SUKORENO = "35.09.27.2002"


async def seed(db: Database) -> None:
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, registration_status, phone, created_at, updated_at) VALUES (?, "
            "'Sutrisno', '1978-05-15', 'L', ?, 'buruh_tani_tembakau', '2025-12-01', "
            "'2026-12-01', 'verified', '+6281234567890', 'x', 'x')",
            (SUTRISNO, SUKORENO),
        )


async def try_link(chat: ChatDriver, nik: str, dob: str) -> None:
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    await chat.send(nik)
    await chat.send(dob)


# -- item 7: not on the roster, not trapped -------------------------------------------------------


async def test_a_person_not_on_the_roster_reaches_the_screening_from_a_failed_link(
    chat: ChatDriver, db: Database
) -> None:
    await seed(db)
    await try_link(chat, SUTRISNO, "16-05-1978")  # exists, wrong date
    known = chat.text
    await try_link(chat, NOBODY, "01-01-1970")  # does not exist
    assert chat.text == known  # the same words: no enumeration
    chat.expect("Mungkin Bapak/Ibu belum terdaftar di program ini")
    chat.expect_choices("Coba lagi", "Jawab 5 pertanyaan", "Tanya pendamping")
    await chat.tap("Jawab 5 pertanyaan")
    chat.expect("Ini belum pendaftaran", "Berapa umur Bapak/Ibu?")
    await chat.send("47")
    await chat.send("puger kulun")
    await chat.tap("Ya, benar")
    await chat.tap("Nelayan")
    await chat.tap("Belum")
    await chat.tap("Ya")
    chat.expect("Kemungkinan besar Bapak/Ibu memenuhi syarat", "pendamping desa Pugerkulon")


async def test_ask_your_facilitator_opens_the_human_inbox(chat: ChatDriver, db: Database) -> None:
    await try_link(chat, NOBODY, "01-01-1970")
    await chat.tap("Tanya pendamping")
    chat.expect_not("Mungkin Bapak/Ibu belum terdaftar")


async def test_a_date_without_a_year_is_asked_again_and_is_no_failed_attempt(
    chat: ChatDriver, db: Database
) -> None:
    await seed(db)
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    await chat.send(SUTRISNO)
    for typed in ("15 mei", "15-05", "mei 15", "15 mei", "15/5", "tanggal 15 mei"):
        await chat.send(typed)
        chat.expect("lengkap dengan tahunnya")
    # A relative day is no birth date: asked again, not counted (either explanation will do).
    await chat.send("kemarin")
    chat.expect("Contoh: 15-05-1978")
    await chat.send("entah kapan")
    chat.expect("Tanggal itu belum bisa kami baca")
    # None of those counted: the right pair still links after seven unreadable answers.
    await chat.send("15 mei 78")
    chat.expect("NIK dan tanggal lahir cocok")
    chat.expect_not("Terlalu banyak percobaan")


async def test_the_lock_out_says_a_plain_time_and_the_facilitator_route(
    chat: ChatDriver, db: Database
) -> None:
    await seed(db)
    for _ in range(5):
        await try_link(chat, SUTRISNO, "01-01-1980")
    chat.expect(
        "Terlalu banyak percobaan",
        "silakan coba lagi pukul 10.30 WIB",
        "minta bantuan pendamping desa: datang dengan KTP",
    )


# -- item 8: eligibility ---------------------------------------------------------------------------


async def screen(chat: ChatDriver, *, work: str, member: str, desa: str = "puger kulun") -> None:
    await chat.send("menu")
    await chat.tap("Bisa ikut program?")
    await chat.tap("Jawab 5 pertanyaan")
    await chat.send("40")
    if desa == "outside":
        await chat.tap("Di luar Jember")
    else:
        await chat.send(desa)
        await chat.tap("Ya, benar")
    await chat.tap(work)
    await chat.tap(member)
    await chat.tap("Ya")  # in DTSEN


@pytest.mark.parametrize(
    ("member", "said"),
    [
        ("Dulu, sudah berhenti", "Kepesertaan bayar sendiri yang sudah berhenti tidak menghalangi"),
        ("Dari tempat kerja", "Perlindungan dari tempat kerja belum tentu mencakup pekerjaan ini"),
    ],
)
async def test_a_lapsed_self_payer_or_an_employer_covered_worker_needs_a_check_not_a_no(
    chat: ChatDriver, db: Database, member: str, said: str
) -> None:
    await screen(chat, work="Nelayan", member=member)
    chat.expect("Bapak/Ibu mungkin memenuhi syarat, tetapi perlu dicek petugas.", said)
    chat.expect_not("Tidak perlu mendaftar lagi", "belum bisa ikut program")
    chat.expect_choices("Boleh", "Tidak usah")  # the facilitator lead is still offered


async def test_only_an_active_self_paid_membership_elsewhere_excludes(
    chat: ChatDriver, db: Database
) -> None:
    await screen(chat, work="Nelayan", member="Ya, bayar sendiri")
    chat.expect(
        "Saat ini Bapak/Ibu belum bisa ikut program ini",
        "masih aktif sebagai peserta BPJS Ketenagakerjaan bayar sendiri (BPU)",
        "Tidak perlu mendaftar lagi",
    )


async def test_another_occupation_needs_a_check(chat: ChatDriver, db: Database) -> None:
    await screen(chat, work="Lainnya", member="Belum")
    chat.expect(
        "perlu dicek petugas",
        "program juga mencakup pekerjaan lain (misalnya perangkat desa, guru PAUD)",
        "pendamping desa bisa membantu",
    )
    chat.expect_choices("Boleh")


async def test_a_facilitator_registering_a_nik_from_outside_jember_is_warned(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    from test_facilitator import bound_facilitator

    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Daftarkan pekerja")
    await fac.send(BANYUWANGI)
    fac.expect(
        "bukan NIK Jember (4 angka awal bukan 3509)",
        "alamat KTP perlu dicek OPD",
        "Siapa nama lengkapnya sesuai KTP?",
    )
    await fac.send("menu")
    await fac.tap("Daftarkan pekerja")
    await fac.send("3509271505780009")
    fac.expect_not("bukan NIK Jember")


# -- item 9: the OPD's figures from recorded data ---------------------------------------------------


def admin(db: str, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = admin_cli.main([*argv, "--db", db], settings=settings_for(), clock=FixedClock())
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.fixture
def demo_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = str(tmp_path / "demo.db")
    code, _, _ = admin(
        path, capsys, "demo-data", "--workers", "300", "--seed", "4", "--today", "2026-11-25"
    )
    assert code == 0
    return path


def _one(path: str, sql: str, *params: object) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


def test_setting_paid_records_the_amount_and_the_figures_count_it_in_its_period(
    demo_db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ref = str(_one(demo_db, "SELECT ref FROM claims WHERE status = 'approved' AND type = 'JKK'"))
    code, _, err = admin(demo_db, capsys, "claims", "set-status", ref, "paid")
    assert code == 1
    assert "needs --amount RUPIAH" in err
    code, out, _ = admin(
        demo_db, capsys, "claims", "set-status", ref, "paid", "--amount", "5000000",
        "--paid-on", "2026-11-20", "--bank", "BRI a.n. Sutrisno", "--note", "sudah ditransfer",
    )  # fmt: skip
    assert code == 0
    assert "recorded paid: Rp5.000.000 on 2026-11-20" in out
    code, out, _ = admin(
        demo_db, capsys, "stats", "--today", "2026-11-25", "--from", "2026-11-20",
        "--until", "2026-11-20", "--csv", str(tmp_path / "stats.csv"),
    )  # fmt: skip
    assert code == 0
    assert "Cohort by kecamatan" in out
    assert "Kalisat" in out
    assert "Benefits paid by programme 2026-11-20 to 2026-11-20 (recorded amounts)" in out
    jkk = next(line for line in out.splitlines() if line.startswith("JKK ") and "Rp" in line)
    assert jkk.split() == ["JKK", "1", "Rp5.000.000"]
    assert "Benefits paid 2026-11-20 to 2026-11-20: 1 claims, Rp5.000.000 recorded" in out
    with (tmp_path / "stats.csv").open(encoding="utf-8") as fh:
        cells = [row for row in csv.reader(fh) if row]
    assert ["JKK", "1", "Rp5.000.000"] in cells
    assert any(row[0] == "Kalisat" for row in cells)
    # Without a period every paid claim counts, each with its recorded amount.
    code, out, _ = admin(demo_db, capsys, "stats", "--today", "2026-11-25")
    assert "Benefits paid: 4 claims, Rp52.250.000 recorded" in out


def test_documents_sent_back_and_the_tahap_one_notice_from_the_admin_cli(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = str(
        _one(
            demo_db,
            "SELECT c.ref FROM claims c JOIN claim_documents d ON d.claim_id = c.id "
            "WHERE c.type = 'JKK' AND c.status = 'documents_requested' "
            "AND d.kind = 'ktp_participant'",
        )
    )  # Suparmi's open JKK claim in the demo: card and KTP received, documents requested
    assert admin(demo_db, capsys, "claims", "set-status", ref, "in_review")[0] == 0
    code, _, err = admin(
        demo_db, capsys, "claims", "set-status", ref, "documents_requested", "--send-back", "npwp"
    )
    assert code == 1
    assert "not on" in err
    code, out, _ = admin(
        demo_db, capsys, "claims", "set-status", ref, "documents_requested",
        "--send-back", "ktp_participant", "--note", "foto KTP buram, mohon kirim ulang",
    )  # fmt: skip
    assert code == 0, out
    assert (
        _one(
            demo_db,
            "SELECT COUNT(*) FROM claim_documents d JOIN claims c ON c.id = d.claim_id "
            "WHERE c.ref = ? AND d.kind = 'ktp_participant' AND d.replaced_at IS NOT NULL",
            ref,
        )
        == 1
    )
    code, out, _ = admin(demo_db, capsys, "claims", "list", "--type", "JKK", "--limit", "100")
    assert "NOTICE?" in out
    code, out, _ = admin(demo_db, capsys, "claims", "notice-sent", ref)
    assert code == 0
    assert "tahap I notice recorded as forwarded" in out
    code, out, _ = admin(demo_db, capsys, "claims", "show", ref)
    assert "forwarded" in out
    assert "CHECK" not in out
