"""Telling every worker and heir the truth on the day (issue 14, items 2, 4, 5, 6).

Transcripts for each persona of the issue's "Done means": an unprotected worker's accident (not
started, awaiting verification, unpaid months, non-active), a protected one's, an heir's JKM, a
sudden death at work routed to JKK, a scholarship with an unknown contribution history, a
re-requested document replaced after an admin note, 12 missing documents all reachable, "batal"
after submit, a duplicate report; and the JKK lifecycle (tahap I now, tahap II after the doctor,
reminders only for what can exist, the notice alert, weekends).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import ChatDriver, FixedClock

from handlers.engine import Engine
from handlers.outbound import render
from lingkaran.channels.scheduler import run_sweep
from lingkaran_core import services
from lingkaran_core.claims import Actor, ClaimStatus, ClaimType
from lingkaran_core.reminders import Kind
from lingkaran_core.storage import Database

SUKORENO = "35.09.27.2002"  # Kec. Kalisat
PHONE = "+6281234567890"

# Format-valid Jember NIKs (Kec. Kalisat, birth date in digits 7-12).
SUTRISNO = "3509271505780001"  # 15-05-1978
PAIMIN = "3509270101600004"  # 01-01-1960
SUMIATI = "3509274202650002"  # woman, 02-02-1965
NOBODY = "3509080101700009"  # not on the roster


async def seed(
    db: Database,
    *,
    nik: str = SUTRISNO,
    name: str = "Sutrisno",
    birth: str = "1978-05-15",
    start: str | None = "2025-12-01",
    paid_through: str | None = "2026-12-01",
    status: str = "verified",
) -> int:
    async with db.tx() as tx:
        return await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, registration_status, phone, created_at, updated_at) "
            "VALUES (?, ?, ?, 'L', ?, 'buruh_tani_tembakau', ?, ?, ?, ?, 'x', 'x')",
            (nik, name, birth, SUKORENO, start, paid_through, status, PHONE),
        )


async def link(chat: ChatDriver, nik: str = SUTRISNO, dob: str = "15-05-1978") -> None:
    """Link the chat the real way: NIK + date of birth, then the roster phone (factor a)."""
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    await chat.send(nik)
    await chat.send(dob)
    await chat.tap("Kirim nomor HP")
    await chat.contact(PHONE)
    chat.expect("Data cocok")


async def report_own_accident(chat: ChatDriver, *, condition: str = "Dirawat inap") -> None:
    await chat.send("menu")
    await chat.tap("Lapor kecelakaan")
    await chat.tap("Saya sendiri")
    await chat.tap("Kemarin")
    await chat.tap("Siang")
    await chat.send("sawah tembakau di sukoreno")
    await chat.tap("Tidak")  # not a road accident
    await chat.send("jatuh dari gudang, kaki patah")
    await chat.tap(condition)
    if condition in ("Dirawat inap", "Rawat jalan"):
        await chat.send("rsd soebandi")
    await chat.send("081234567890")
    chat.expect("Mohon periksa:")
    await chat.tap("Kirim")


async def claims(db: Database) -> list[dict[str, Any]]:
    async with db.read() as r:
        return [dict(x) for x in await r.all("SELECT * FROM claims ORDER BY id")]


async def outbox(db: Database, key: str) -> list[tuple[str, dict[str, Any]]]:
    async with db.read() as r:
        rows = await r.all(
            "SELECT channel, params FROM outbox WHERE msg_key = ? ORDER BY id", (key,)
        )
    return [(x["channel"], json.loads(x["params"])) for x in rows]


HOSPITAL = "Katakan ke rumah sakit: ini kecelakaan kerja peserta BPJS Ketenagakerjaan"


# -- item 2: coverage on the event date decides the advice ---------------------------------------


async def test_a_protected_worker_is_told_to_tell_the_hospital_and_asked_for_the_card(
    chat: ChatDriver, db: Database
) -> None:
    await seed(db)
    await link(chat)
    await report_own_accident(chat)
    chat.expect(
        "Menurut data Pemkab, Bapak/Ibu dilindungi BPJS Ketenagakerjaan pada 24 November 2026.",
        HOSPITAL,
        "tunjukkan kartu peserta (KPJ)",
        "1. Kartu peserta BPJS TK",
    )
    chat.expect_not("Laporan tetap kami catat dan kami teruskan")
    [claim] = await claims(db)
    assert claim["event_coverage"] == "protected"
    assert await outbox(db, "admin.claim_flagged") == []


@pytest.mark.parametrize(
    ("worker", "said", "coverage"),
    [
        (
            {"start": "2026-12-01", "paid_through": None},
            "perlindungan Bapak/Ibu belum mulai pada 24 November 2026: mulai 1 Desember 2026",
            "not_started",
        ),
        (
            {"status": "registered", "start": None, "paid_through": None},
            "pendaftaran Bapak/Ibu pada 24 November 2026 masih dicek dan belum disetujui",
            "awaiting_verification",
        ),
        (
            {"paid_through": "2026-09-01"},
            "iuran Bapak/Ibu untuk bulan kejadian belum tercatat. Petugas sedang mengecek",
            "unpaid",
        ),
        (
            {"paid_through": "2026-05-01"},
            "kepesertaan Bapak/Ibu tercatat tidak aktif pada 24 November 2026",
            "non_active",
        ),
    ],
    ids=["not_started", "awaiting_verification", "unpaid_months", "non_active"],
)
async def test_an_unprotected_worker_is_recorded_told_plainly_and_routed_never_promised(
    chat: ChatDriver, db: Database, worker: dict[str, Any], said: str, coverage: str
) -> None:
    await seed(db, **worker)
    await link(chat)
    await report_own_accident(chat)
    chat.expect(
        "Terkirim. Nomor laporan: LC-2026-",
        "Menurut data Pemkab",
        said,
        "Laporan tetap kami catat dan kami teruskan ke pendamping desa dan petugas Pemkab",
        "biaya rumah sakit belum tentu dijamin BPJS Ketenagakerjaan",
    )
    chat.expect_not(HOSPITAL, "tunjukkan kartu peserta")
    [claim] = await claims(db)
    assert claim["status"] == "submitted"  # recorded all the same, never refused
    assert claim["event_coverage"] == coverage
    checklist = json.loads(claim["checklist"])
    # No card can exist before protection started or while the registration is checked.
    assert ("kartu_peserta" in checklist) == (coverage in ("unpaid", "non_active"))
    [(_, flag)] = await outbox(db, "admin.claim_flagged")
    assert flag == {"ref": claim["ref"], "type": "JKK", "event_coverage": coverage}
    text = render("admin.claim_flagged", flag, "id").text
    assert "perlu dicek" in text


async def test_a_stranger_gets_one_neutral_note_whatever_the_roster_says(
    chat: ChatDriver, db: Database, engine: Engine, clock: FixedClock
) -> None:
    await seed(db, paid_through="2026-09-01")  # unpaid months
    await chat.send("menu")
    await chat.tap("Lapor kecelakaan")
    await chat.tap("Orang lain")
    await chat.send(SUTRISNO)
    for typed in ("Sutrisno", "kemarin", "14.30", "sawah", "Tidak", "jatuh", "Rawat jalan"):
        await chat.send(typed)
    await chat.send("puskesmas kalisat")
    await chat.send("081234567890")
    await chat.tap("Kirim")
    chat.expect("Petugas Pemkab akan mengecek kepesertaan pada tanggal kejadian")
    chat.expect_not(HOSPITAL, "belum tercatat", "tidak aktif", "Menurut data Pemkab, iuran")
    [claim] = await claims(db)
    assert claim["event_coverage"] == "unpaid"  # flagged for staff all the same
    assert len(await outbox(db, "admin.claim_flagged")) == 1


# -- item 4: the JKK lifecycle -------------------------------------------------------------------


async def test_tahap_two_opens_when_the_doctor_has_declared_and_asks_its_documents(
    chat: ChatDriver, db: Database
) -> None:
    await seed(db)
    await link(chat)
    await report_own_accident(chat)
    chat.expect("pemberitahuan tahap I", "Tahap II (klaim santunan) dimulai setelah dokter")
    chat.expect_not("Surat dokter (KK3/3b)\n", "2. Surat dokter")
    [claim] = await claims(db)
    assert json.loads(claim["checklist"]) == ["kartu_peserta", "ktp_participant", "kronologi_saksi"]
    await chat.tap("Nanti saja")
    await chat.send("menu")
    await chat.tap("Klaim saya")
    chat.expect_choices("Kirim dokumen", "Dokter sudah menyatakan")
    await chat.tap("Dokter sudah menyatakan")
    chat.expect("Apa yang dinyatakan dokter?")
    await chat.tap("Sudah sembuh")
    chat.expect("Kuitansi hanya perlu jika rumah sakit bukan mitra BPJS Ketenagakerjaan")
    await chat.tap("Tidak")  # treated at a partner hospital: nothing paid, no receipts
    chat.expect(
        "Tahap II (klaim santunan) untuk",
        "dalam 2×24 jam sejak dokter menyatakan",
        "Surat dokter (KK3/3b)",
        "Buku tabungan",
    )
    chat.expect_not("Kuitansi (jika bayar sendiri)")
    [claim] = await claims(db)
    assert json.loads(claim["checklist"]) == [
        "kartu_peserta",
        "ktp_participant",
        "kronologi_saksi",
        "surat_dokter",
        "buku_tabungan",
    ]
    answers = json.loads(claim["answers"])
    assert (answers["stage"], answers["doctor_outcome"]) == (2, "recovered")
    assert len(await outbox(db, "admin.jkk_tahap_two")) == 1


async def test_a_missing_documents_reminder_asks_only_for_what_can_exist(
    chat: ChatDriver, db: Database, clock: FixedClock
) -> None:
    await seed(db)
    await link(chat)
    await report_own_accident(chat)
    await chat.tap("Nanti saja")
    await run_sweep(
        db, clock() + timedelta(days=3), kinds=[Kind.MISSING_DOCS], whatsapp_enabled=False
    )
    [(_, params)] = await outbox(db, "reminder.missing_docs")
    assert params["missing"] == ["kartu_peserta", "ktp_participant", "kronologi_saksi"]
    text = render("reminder.missing_docs", params, "id").text
    assert "Surat dokter" not in text
    assert "Buku tabungan" not in text


async def test_the_notice_alert_follows_the_forwarded_notice_not_the_claim_status(
    chat: ChatDriver, db: Database, clock: FixedClock
) -> None:
    await seed(db)
    await link(chat)
    await report_own_accident(chat)  # accident yesterday 12:00: deadline tomorrow 12:00
    [claim] = await claims(db)
    async with db.tx() as tx:
        await services.transition_claim(
            tx, claim["ref"], ClaimStatus.IN_REVIEW, actor=Actor.ADMIN, now=clock()
        )
    later = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)  # 08:30 WIB, 3.5 h before the deadline
    await run_sweep(db, later, kinds=[Kind.JKK_DEADLINE], whatsapp_enabled=False)
    [(_, alert)] = await outbox(db, "admin.jkk_deadline")
    assert "claims notice-sent" in render("admin.jkk_deadline", alert, "id").text
    # Recorded as forwarded: the next report's alert would stop too; this one is not repeated.
    async with db.tx() as tx:
        await services.mark_notice_sent(tx, claim["ref"], now=later, actor_ref="opd")
    [claim] = await claims(db)
    assert claim["notice_sent_at"] is not None


async def test_a_report_before_a_weekend_says_the_office_days_and_the_plkk_175_route(
    db: Database, engine: Engine
) -> None:
    friday = FixedClock(datetime(2026, 11, 27, 3, 0, tzinfo=UTC))  # Friday 10:00 WIB
    engine.clock = friday
    chat = ChatDriver(engine=engine, clock=friday)
    await seed(db)
    await link(chat)
    await chat.send("menu")
    await chat.tap("Lapor kecelakaan")
    await chat.tap("Saya sendiri")
    await chat.tap("Hari ini")
    await chat.tap("Pagi")
    for typed in ("sawah", "Tidak", "jatuh", "Rawat jalan", "puskesmas", "081234567890"):
        await chat.send(typed)
    await chat.tap("Kirim")
    chat.expect(
        "sebelum 29 November 2026 08:00",
        "Kantor Pemkab biasanya buka hari kerja (Senin–Jumat)",
        "rumah sakit mitra BPJS Ketenagakerjaan (PLKK)",
        "175",
    )


# -- item 6: heirs, the death flow, scholarship --------------------------------------------------


async def test_an_heir_reporting_a_death_is_asked_their_own_nik_and_told_who_pays_and_when(
    chat: ChatDriver, db: Database
) -> None:
    await seed(db, nik=PAIMIN, name="Paimin", birth="1960-01-01")
    await chat.send("menu")
    await chat.tap("Lapor kematian")
    await chat.tap("Tidak")  # illness
    await chat.send("3-11-2026")
    await chat.tap("Suami/istri")
    await chat.send(PAIMIN)
    await chat.send("Paimin")
    await chat.tap("Saya sendiri")
    chat.expect("Siapa nama lengkap Bapak/Ibu, sesuai KTP?")
    await chat.send("Sumiati")
    chat.expect("Berapa NIK Bapak/Ibu sendiri?")
    chat.expect_not("Berapa NIK ahli waris?")
    await chat.send(SUMIATI)
    await chat.tap("Ya")  # children at school
    await chat.send("081234567890")
    chat.expect("Petugas akan mencocokkan data almarhum/almarhumah")  # a stranger: no roster
    await chat.tap("Kirim")
    chat.expect(
        "Jika kepesertaan aktif pada 3 November 2026, santunannya Rp42.000.000",
        "Petugas Pemkab meneruskan laporan ini ke BPJS Ketenagakerjaan",
        "memutuskan dan membayar santunan, paling lambat 3 hari kerja setelah berkas lengkap",
        "kepesertaan sebelumnya ikut dihitung",
    )
    chat.expect_not("Bagaimana keadaannya sekarang?")
    [claim] = await claims(db)
    assert (claim["type"], claim["claimant_nik"]) == ("JKM", SUMIATI)


async def test_the_heirs_order_includes_the_will_and_the_fallback(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Lapor kematian")
    await chat.tap("Tidak")
    await chat.send("3-11-2026")
    await chat.send("bantuan")
    chat.expect(
        "lalu mertua; lalu orang yang ditunjuk dalam wasiat",
        "biaya pemakaman diberikan kepada yang mengurus pemakaman",
        "PP 44/2015 Pasal 40",
    )


async def test_a_sudden_death_at_work_is_routed_to_jkk_with_its_amounts_and_scholarship(
    chat: ChatDriver, db: Database
) -> None:
    await chat.send("menu")
    await chat.tap("Lapor kematian")
    chat.expect("meninggal mendadak saat bekerja")
    await chat.tap("Mendadak saat kerja")
    chat.expect("Meninggal mendadak karena pekerjaan termasuk kecelakaan kerja (JKK)")
    await chat.send(PAIMIN)
    await chat.send("Paimin")
    chat.expect("Kapan beliau meninggal?")
    await chat.tap("Kemarin")
    await chat.tap("Pagi")
    await chat.send("sawah di sukoreno")
    chat.expect("Apa yang terjadi?", "pingsan saat mencangkul")  # no road-accident question
    await chat.send("pingsan saat mencangkul lalu meninggal")
    chat.expect_not("Bagaimana keadaannya sekarang?")
    chat.expect("Apa hubungan Bapak/Ibu dengan almarhum/almarhumah?")
    await chat.tap("Anak")
    await chat.send("081234567890")
    await chat.tap("Kirim")
    chat.expect(
        "Rp48.000.000 santunan kematian",
        "Rp12.000.000 santunan berkala",
        "Rp10.000.000 biaya pemakaman",
        "jumlah Rp70.000.000",
        "beasiswa untuk paling banyak 2 anak, tanpa syarat lama kepesertaan",
        "Akta kematian",
        "Surat dokter (KK3/3b)",
    )
    [claim] = await claims(db)
    answers = json.loads(claim["answers"])
    assert (claim["type"], answers["sudden"], answers["condition"]) == ("JKK", True, "died")
    assert answers["traffic"] == "no"


async def scholarship(chat: ChatDriver, nik: str, *, child_dob: str, level: str | None) -> None:
    await chat.send("menu")
    await chat.tap("Beasiswa anak")
    await chat.tap("Meninggal biasa")
    await chat.send(nik)
    await chat.send("3-11-2026")
    await chat.send("Dewi Lestari")
    await chat.send(child_dob)
    if level is not None:
        await chat.tap(level)


async def test_a_scholarship_with_an_unknown_history_is_recorded_as_needing_verification(
    chat: ChatDriver, db: Database
) -> None:
    await scholarship(chat, NOBODY, child_dob="12-03-2012", level="SMP")
    chat.expect("Petugas akan memeriksa masa iur peserta", "Ajukan beasiswa untuk Dewi Lestari")
    await chat.tap("Kirim")
    chat.expect(
        "Terkirim. Nomor pengajuan",
        "BPJS Ketenagakerjaan yang memutuskan dan membayar beasiswa",
    )
    [claim] = await claims(db)
    answers = json.loads(claim["answers"])
    assert (answers["masa_iur"], answers["needs_verification"]) == ("unknown", True)
    assert claim["status"] == "submitted"


async def test_a_facilitator_sees_the_recorded_masa_iur_and_a_short_one_is_still_recorded(
    db: Database, engine: Engine, clock: FixedClock
) -> None:
    from test_facilitator import bound_facilitator

    await seed(db, nik=PAIMIN, name="Paimin", birth="1960-01-01", start="2025-12-01")
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Lapor atas nama pekerja")
    await fac.tap("Beasiswa anak")
    await fac.tap("Meninggal biasa")
    await fac.send(PAIMIN)
    await fac.send("3-11-2026")
    await fac.send("Dewi Lestari")
    await fac.send("12-03-2012")
    await fac.tap("SMP")
    await fac.send("Sumiati")  # the parent staff will contact
    await fac.send("081234567890")
    fac.expect(
        "Menurut data Pemkab, iuran peserta yang tercatat sampai kejadian 12 bulan",
        "perlu paling sedikit 36 bulan",
        "pengajuan tetap kami catat untuk dicek petugas",
    )
    await fac.tap("Kirim")
    [claim] = await claims(db)
    answers = json.loads(claim["answers"])
    assert (answers["masa_iur"], answers["masa_iur_months"]) == ("short", 12)
    assert answers["needs_verification"] is True


async def test_a_child_not_yet_at_school_is_recorded_now(chat: ChatDriver, db: Database) -> None:
    await scholarship(chat, NOBODY, child_dob="01-06-2025", level=None)
    chat.expect(
        "Anak belum usia sekolah. Pengajuan tetap kami catat sekarang",
        "Dibayar mulai saat anak masuk sekolah: Rp1.500.000 per tahun",
    )
    await chat.tap("Kirim")
    [claim] = await claims(db)
    assert json.loads(claim["answers"])["level"] == "none"


# -- item 5: claims that never stall --------------------------------------------------------------


async def test_a_document_sent_back_with_a_note_is_replaced_and_the_note_reaches_everyone(
    chat: ChatDriver, db: Database, clock: FixedClock
) -> None:
    await seed(db)
    await link(chat)
    await report_own_accident(chat)
    await chat.photo(data=b"\xff\xd8\xff kartu")
    await chat.photo(data=b"\xff\xd8\xff ktp buram")
    chat.expect("KTP peserta diterima. Kurang 1 dokumen")
    [claim] = await claims(db)
    ref = claim["ref"]
    async with db.tx() as tx:
        await services.transition_claim(
            tx, ref, ClaimStatus.IN_REVIEW, actor=Actor.ADMIN, now=clock()
        )
        await services.transition_claim(
            tx,
            ref,
            ClaimStatus.DOCUMENTS_REQUESTED,
            actor=Actor.ADMIN,
            now=clock(),
            note="foto KTP buram, mohon kirim ulang",
            send_back=("ktp_participant",),
        )
    notes = [p for _, p in await outbox(db, "claim.status_changed") if p["note"]]
    [params] = notes
    text = render("claim.status_changed", params, "id").text
    assert "Catatan petugas: foto KTP buram, mohon kirim ulang" in text
    assert "Mohon kirim ulang: KTP peserta" in text
    await chat.send("menu")
    await chat.tap("Klaim saya")
    chat.expect(
        "menunggu dokumen",
        "Catatan petugas (25 November 2026): foto KTP buram, mohon kirim ulang",
        "Masih kurang 2 dokumen:",
        "KTP peserta",
    )
    await chat.tap("Kirim dokumen")
    await chat.send("ktp")  # chosen by name
    chat.expect("Silakan kirim foto KTP peserta")
    await chat.photo(data=b"\xff\xd8\xff ktp jelas")
    chat.expect("KTP peserta diterima")
    async with db.read() as r:
        rows = await r.all(
            "SELECT sha256, replaced_at FROM claim_documents WHERE kind = 'ktp_participant' "
            "ORDER BY id"
        )
    assert [row["replaced_at"] is None for row in rows] == [False, True]


async def test_any_received_document_can_be_replaced_from_my_claims(
    chat: ChatDriver, db: Database
) -> None:
    await seed(db)
    await link(chat)
    await report_own_accident(chat)
    await chat.photo(data=b"\xff\xd8\xff kartu salah")
    await chat.tap("Nanti saja")
    await chat.send("menu")
    await chat.tap("Klaim saya")
    await chat.tap("Ganti dokumen")
    chat.expect("Dokumen mana yang ingin diganti?")
    await chat.tap("Kartu peserta")
    await chat.photo(data=b"\xff\xd8\xff kartu benar")
    chat.expect("Kartu peserta BPJS TK diterima, menggantikan yang lama.")
    async with db.read() as r:
        live = await r.scalar(
            "SELECT COUNT(*) FROM claim_documents WHERE kind = 'kartu_peserta' "
            "AND replaced_at IS NULL"
        )
    assert live == 1


async def twelve_documents(chat: ChatDriver) -> None:
    """A death from a road accident, heir the spouse: 12 documents at once (tahap II too)."""
    await chat.send("menu")
    await chat.tap("Lapor kematian")
    await chat.tap("Ya, kecelakaan kerja")
    await chat.send(PAIMIN)
    await chat.send("Paimin")
    await chat.tap("Kemarin")
    await chat.tap("Pagi")
    await chat.send("jalan raya kalisat")
    await chat.tap("Ya")  # traffic
    await chat.send("ditabrak truk saat berangkat ke sawah")
    await chat.tap("Suami/istri")
    await chat.send("081234567890")
    await chat.tap("Kirim")


async def test_twelve_missing_documents_are_all_reachable_by_page_name_and_number(
    chat: ChatDriver, db: Database
) -> None:
    await twelve_documents(chat)
    [claim] = await claims(db)
    checklist = json.loads(claim["checklist"])
    assert len(checklist) == 12
    chat.expect("12. Buku tabungan")
    await chat.tap("Dokumen lain")
    first = [lbl for _, lbl in chat.choices()]
    assert len(first) == 10
    assert first[-2:] == ["Lainnya", "Nanti saja"]
    await chat.tap("Lainnya")
    chat.expect("Dokumen lainnya")
    second = [lbl for _, lbl in chat.choices()]
    shown = {lbl for lbl in first + second if lbl not in ("Lainnya", "Nanti saja")}
    assert len(shown) == 12  # every missing document on one of the two pages
    await chat.tap("Buku tabungan")  # a page-2 document by its button
    chat.expect("Silakan kirim foto Buku tabungan")
    await chat.tap("Dokumen lain")
    await chat.send("surat polisi")  # by name, wherever its page
    chat.expect("Silakan kirim foto Surat polisi / Jasa Raharja")
    await chat.tap("Dokumen lain")
    await chat.send("2")  # by its number in the list shown
    chat.expect(f"Silakan kirim foto {first[1]}")
    await chat.tap("Dokumen lain")
    await chat.tap("Lainnya")
    await chat.tap("Lainnya")  # the pages wrap round
    assert [lbl for _, lbl in chat.choices()] == first


async def test_batal_after_submit_says_the_report_stays_and_offers_withdrawal(
    chat: ChatDriver, db: Database
) -> None:
    await seed(db)
    await link(chat)
    await report_own_accident(chat)
    await chat.send("batal")
    chat.expect('sudah terkirim dan tetap tersimpan: "batal" tidak menghapusnya')
    chat.expect_not("Tidak ada yang dikirim")
    chat.expect_choices("Kirim dokumen", "Tarik laporan")
    [claim] = await claims(db)
    assert claim["status"] == "submitted"
    await chat.tap("Tarik laporan")
    await chat.tap("Ya, tarik")
    chat.expect("sudah ditarik")
    [claim] = await claims(db)
    assert claim["status"] == "withdrawn"


async def test_the_same_report_twice_warns_with_the_existing_reference(
    chat: ChatDriver, db: Database, engine: Engine, clock: FixedClock
) -> None:
    await seed(db)
    await link(chat)
    await report_own_accident(chat)
    [first] = await claims(db)
    await chat.tap("Nanti saja")
    await report_own_accident(chat)
    # The confirmation of the second report warned before "Kirim" was pressed.
    assert any(
        f"Perhatian: laporan {first['ref']} untuk orang dan tanggal yang sama sudah ada" in line
        for line in chat.transcript
    )
    second = (await claims(db))[1]
    assert json.loads(second["answers"])["duplicate_of"] == first["ref"]
    # Someone else reporting the same NIK and day is warned without the reference.
    other = ChatDriver(engine=engine, clock=clock, user="tetangga")
    await other.send("menu")
    await other.tap("Lapor kecelakaan")
    await other.tap("Orang lain")
    await other.send(SUTRISNO)
    for typed in ("Sutrisno", "kemarin", "14.30", "sawah", "Tidak", "jatuh", "Belum berobat"):
        await other.send(typed)
    await other.send("081234567890")
    other.expect("laporan untuk NIK dan tanggal itu sudah pernah kami terima")
    other.expect_not(first["ref"])


async def test_when_every_document_is_in_the_reporter_hears_what_happens_next(
    chat: ChatDriver, db: Database
) -> None:
    await seed(db, nik=PAIMIN, name="Paimin", birth="1960-01-01")
    await chat.send("menu")
    await chat.tap("Lapor kematian")
    await chat.tap("Tidak")
    await chat.send("3-11-2026")
    await chat.tap("Orang tua")
    await chat.send(PAIMIN)
    await chat.send("Paimin")
    await chat.tap("Orang lain")
    await chat.send("Sumiati")
    await chat.tap("Tidak tahu")
    await chat.tap("Tidak")
    await chat.send("081234567890")
    await chat.tap("Kirim")
    [claim] = await claims(db)
    for i, _kind in enumerate(json.loads(claim["checklist"])):
        await chat.photo(data=b"\xff\xd8\xff doc %d" % i)
    chat.expect(
        "Semua dokumen sudah lengkap.",
        "BPJS Ketenagakerjaan, yang membayar santunan paling lambat 3 hari kerja",
    )


async def test_a_paid_notification_gives_the_amount_and_the_bank(
    db: Database, clock: FixedClock
) -> None:
    await seed(db)
    async with db.tx() as tx:
        claim = await services.submit_claim(
            tx,
            services.NewClaim(
                claim_type=ClaimType.JKK,
                event_date=clock().date(),
                subject_nik=SUTRISNO,
            ),
            now=clock(),
            idempotency_key="paid-1",
            channel="admin",
            actor=Actor.ADMIN,
        )
        for target in (ClaimStatus.IN_REVIEW, ClaimStatus.FORWARDED_TO_BPJS, ClaimStatus.APPROVED):
            await services.transition_claim(tx, claim.ref, target, actor=Actor.ADMIN, now=clock())
        await services.transition_claim(
            tx,
            claim.ref,
            ClaimStatus.PAID,
            actor=Actor.ADMIN,
            now=clock(),
            note="ditransfer",
            payment=services.Payment(amount=3_750_000, paid_on=clock().date(), bank="BRI"),
        )
    paid = [p for _, p in await outbox(db, "claim.status_changed") if p["status"] == "paid"]
    assert paid == []  # no reporter chat, no facilitator: nobody to tell
    [row] = await claims(db)
    answers = json.loads(row["answers"])
    assert (answers["benefit_paid"], answers["paid_bank"]) == (3_750_000, "BRI")
    assert row["notice_sent_at"] is not None  # forwarded to BPJS TK: the notice went with it
    text = render(
        "claim.status_changed",
        {
            "ref": row["ref"],
            "status": "paid",
            "note": "ditransfer",
            "amount": 3_750_000,
            "bank": "BRI",
        },
        "id",
    ).text
    assert "Jumlah dibayar: Rp3.750.000, BRI." in text
    assert "Catatan petugas: ditransfer" in text
