"""Transcripts for village facilitators: bind codes, registering, finding, summary, leads, claims."""

from __future__ import annotations

from datetime import date

from conftest import ChatDriver, FixedClock

from handlers.engine import Engine
from lingkaran_core import services
from lingkaran_core.claims import ClaimType
from lingkaran_core.facilitators import create_facilitator, revoke_facilitator
from lingkaran_core.storage import Database

SUKORENO = "35.09.27.2002"  # Kec. Kalisat
GUMUKSARI = "35.09.27.2001"  # Kec. Kalisat
PUGERKULON = "35.09.08.2004"  # Kec. Puger
KALISAT = "35.09.27"
CODE = "K7QM4XPT"


async def make_facilitator(
    db: Database,
    clock: FixedClock,
    *,
    code: str = CODE,
    scope_kind: str = "desa",
    scope_code: str = SUKORENO,
    name: str = "Bu Rina",
) -> int:
    async with db.tx() as tx:
        fid, _ = await create_facilitator(
            tx,
            name=name,
            phone=None,
            scope_kind=scope_kind,
            scope_code=scope_code,
            now=clock(),
            code=code,
        )
    return fid


async def bound_facilitator(
    engine: Engine, clock: FixedClock, db: Database, *, user: str = "fac1", **kw: str
) -> ChatDriver:
    await make_facilitator(db, clock, **kw)
    fac = ChatDriver(engine=engine, clock=clock, user=user)
    await fac.send(kw.get("code", CODE))
    fac.expect("Kode diterima")
    return fac


async def add_worker(
    db: Database,
    nik: str,
    name: str,
    desa: str,
    *,
    sex: str = "L",
    birth: str = "1978-05-15",
    sector: str = "buruh_tani_tembakau",
    phone: str | None = "+6281234567890",
    paid_through: str | None = "2026-12-31",
    status: str = "verified",
) -> int:
    async with db.tx() as tx:
        return await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, phone, "
            "coverage_start, paid_through, registration_status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, '2025-12-01', ?, ?, 'x', 'x')",
            (nik, name, birth, sex, desa, sector, phone, paid_through, status),
        )


async def scalar(db: Database, sql: str, params: tuple[object, ...] = ()) -> object:
    async with db.tx() as tx:
        return await tx.scalar(sql, params)


# ---------------------------------------------------------------------------------------------
# Bind codes


async def test_a_good_code_binds_the_chat_and_shows_the_facilitator_menu(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    fid = await make_facilitator(db, clock)
    fac = ChatDriver(engine=engine, clock=clock, user="fac1")
    await fac.send("k7qm-4xpt")
    fac.expect(
        "Kode diterima (kini tidak berlaku lagi)",
        "Selamat datang, Bu Rina, pendamping Desa Sukoreno, Kecamatan Kalisat",
        "Menu pendamping",
    )
    fac.expect_choices("Daftarkan pekerja", "Cari pekerja", "Tiket terbuka", "Calon peserta")
    assert await scalar(db, "SELECT bound_chat_id FROM facilitators WHERE id = ?", (fid,))
    assert await scalar(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'facilitator.bind'") == 1


async def test_a_telegram_deep_link_payload_binds_too(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await make_facilitator(db, clock)
    fac = ChatDriver(engine=engine, clock=clock, user="fac1", channel="telegram")
    await fac.send(f"/start {CODE}")
    fac.expect("Kode diterima")


async def test_used_expired_and_revoked_codes_do_nothing(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await bound_facilitator(engine, clock, db)
    other = ChatDriver(engine=engine, clock=clock, user="u2")
    await other.send(CODE)  # used already
    used_text = other.text
    other.expect("Kode tidak berlaku")
    other.expect_not("Selamat datang, Bu Rina")
    other.expect_choices("Cek kepesertaan")

    await make_facilitator(db, clock, code="ABCD2345", name="Pak Budi")
    clock.advance(hours=73)
    await other.send("ABCD2345")  # expired
    other.expect("Kode tidak berlaku")
    assert other.text == used_text

    fid = await make_facilitator(db, clock, code="WXYZ6789", name="Pak Joko")
    async with db.tx() as tx:
        await revoke_facilitator(tx, fid, clock())
    await other.send("WXYZ6789")  # revoked
    assert other.text == used_text
    async with db.tx() as tx:
        row = await tx.one("SELECT facilitator_id, active_role FROM chats WHERE user_ref = 'u2'")
    assert row is not None
    assert (row["facilitator_id"], row["active_role"]) == (None, "public")


async def test_an_ordinary_word_is_not_answered_as_a_bad_code(
    chat: ChatDriver, engine: Engine
) -> None:
    await chat.send("menu")
    await chat.send("muhammad")
    chat.expect_not("Kode tidak berlaku")


async def test_bad_codes_are_rate_limited_after_five_within_an_hour(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    chat = ChatDriver(engine=engine, clock=clock, user="u3")
    for code in ("AAAA2222", "AAAA3333", "AAAA4444", "AAAA5555", "AAAA6666"):
        await chat.send(code)
        chat.expect("Kode tidak berlaku")
    await make_facilitator(db, clock)
    await chat.send(CODE)  # even the good code waits for the hour to pass
    chat.expect("Terlalu banyak kode")
    clock.advance(minutes=61)
    await chat.send(CODE)
    chat.expect("Kode diterima")


async def test_revocation_takes_effect_on_the_next_message(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await add_worker(db, "3509271505780001", "Sutrisno", SUKORENO)
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Cari pekerja")
    fac.expect("Ketik NIK")
    fid = int(str(await scalar(db, "SELECT id FROM facilitators")))
    async with db.tx() as tx:
        await revoke_facilitator(tx, fid, clock())
    await fac.send("3509271505780001")
    fac.expect("Akses pendamping untuk nomor ini sudah berakhir")
    fac.expect_not("Sutrisno")
    fac.expect_choices("Cek kepesertaan")
    await fac.send("menu")
    fac.expect_not("Akses pendamping")  # said once


async def test_a_revocation_written_straight_to_the_database_also_ends_access(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    fac = await bound_facilitator(engine, clock, db)
    async with db.tx() as tx:
        await tx.execute("UPDATE facilitators SET revoked_at = 'x'")
    await fac.tap("Ringkasan desa")
    fac.expect("Akses pendamping untuk nomor ini sudah berakhir")
    fac.expect_choices("Cek kepesertaan")


# ---------------------------------------------------------------------------------------------
# Registering a worker


async def test_register_a_worker_with_bad_input_at_every_step(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await add_worker(db, "3509271505780001", "Sutrisno", SUKORENO)
    await add_worker(db, "3509081203800002", "Darmaji", PUGERKULON)
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Daftarkan pekerja")
    fac.expect("Berapa NIK pekerja?")
    await fac.send("350927440785000")
    fac.expect("NIK harus 16 angka", "15 angka")
    await fac.send("3509271505780001")  # already on the roster, in this desa
    fac.expect("NIK 3509********0001 sudah terdaftar", "Bapak Sutrisno", "Desa Sukoreno")
    fac.expect("Tidak perlu didaftarkan lagi", "Berapa NIK pekerja?")
    await fac.send("3509081203800002")  # on the roster in another desa: nothing about them
    fac.expect("sudah terdaftar di wilayah lain")
    fac.expect_not("Darmaji", "Pugerkulon")
    await fac.send("3509274407850003")
    fac.expect("NIK 3509********0003 belum terdaftar", "Lahir 4 Juli 1985 (menurut NIK)")
    await fac.send("12")
    fac.expect("Mohon tulis nama lengkap")
    await fac.send("Suwarni")
    fac.expect("Menurut NIK: 4 Juli 1985")
    await fac.send("31-02-1985")
    fac.expect("tidak ada di kalender")
    await fac.send("5-7-1985")
    fac.expect("Perhatian: tanggal lahir 5 Juli 1985 berbeda dengan NIK (4 Juli 1985)")
    await fac.tap("Ubah tanggal")
    await fac.tap("Sesuai NIK")
    fac.expect("Menurut NIK, jenis kelaminnya perempuan")
    await fac.send("xyz")
    fac.expect("Mohon pilih salah satu")
    await fac.tap("Ya, benar")
    fac.expect("Apa pekerjaan utamanya?")  # the desa of a desa facilitator is preselected
    await fac.send("9")
    fac.expect("Mohon pilih salah satu")
    await fac.send("1")
    fac.expect("Keterangan pekerjaan")
    await fac.send("x")
    fac.expect("sedikit lebih jelas")
    await fac.tap("Lewati")
    fac.expect("Nomor HP pekerja?")
    await fac.send("12345")
    fac.expect("Nomor HP itu tidak bisa kami baca")
    await fac.send("0812-3456-7899")
    fac.expect("Pekerja setuju datanya dikirim ke Pemkab dan BPJS Ketenagakerjaan?")
    await fac.send("mungkin")
    fac.expect("Mohon pilih salah satu")
    await fac.tap("Setuju")
    fac.expect(
        "Simpan: Suwarni, 3509********0003, 4 Juli 1985, perempuan, buruh tani / tembakau, "
        "Desa Sukoreno, HP +62812****7899?"
    )
    fac.expect_choices("Simpan", "Ubah", "Batal")
    await fac.tap("Ubah")
    await fac.tap("Nama")
    await fac.send("Suwarni Binti Karto")
    fac.expect("Simpan: Suwarni Binti Karto,")
    await fac.tap("Simpan")
    fac.expect(
        "Tersimpan. Pemkab akan mengecek. Ibu Suwarni Binti Karto belum dilindungi sampai "
        "disetujui."
    )
    fac.expect_choices("Daftarkan lagi", "Menu pendamping")
    async with db.tx() as tx:
        row = await tx.one("SELECT * FROM workers WHERE nik = '3509274407850003'")
        audited = await tx.scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'worker.register' "
            "AND actor_kind = 'facilitator' AND target_kind = 'worker'"
        )
        fid = await tx.scalar("SELECT id FROM facilitators")
    assert row is not None
    assert row["registration_status"] == "registered"
    assert row["registered_by"] == fid
    assert row["consent_at"] is not None
    assert (row["name"], row["birth_date"], row["sex"], row["desa_code"], row["phone"]) == (
        "Suwarni Binti Karto",
        "1985-07-04",
        "P",
        SUKORENO,
        "+6281234567899",
    )
    assert audited == 1
    await fac.tap("Daftarkan lagi")
    fac.expect("Berapa NIK pekerja?")
    await fac.send("3509274407850003")
    fac.expect("sudah terdaftar", "menunggu dicek Pemkab")
    assert await scalar(db, "SELECT COUNT(*) FROM workers") == 3


async def test_a_date_of_birth_that_disagrees_with_the_nik_is_kept_when_confirmed(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Daftarkan pekerja")
    await fac.send("3509271505780009")
    await fac.send("Slamet")
    await fac.send("16-05-1978")
    fac.expect("berbeda dengan NIK")
    await fac.tap("Ya, tetap")
    await fac.tap("Ya, benar")
    await fac.tap("Petani")
    await fac.send("petani padi")
    await fac.tap("Tidak ada HP")
    await fac.tap("Setuju")
    fac.expect("16 Mei 1978", "tanpa HP", "petani padi", "tanggal lahir berbeda dengan NIK")
    await fac.tap("Simpan")
    fac.expect("Tersimpan", "Bapak Slamet")
    assert (
        await scalar(db, "SELECT birth_date FROM workers WHERE nik = '3509271505780009'")
        == "1978-05-16"
    )


async def test_consent_is_required_and_nothing_is_stored_without_it(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Daftarkan pekerja")
    await fac.send("3509271505780009")
    await fac.send("Slamet")
    await fac.tap("Sesuai NIK")
    await fac.tap("Ya, benar")
    await fac.tap("Nelayan")
    await fac.tap("Lewati")
    await fac.tap("Tidak ada HP")
    await fac.tap("Tidak setuju")
    fac.expect("Tanpa persetujuan pekerja, data tidak bisa kami simpan")
    fac.expect_choices("Daftarkan pekerja")
    assert await scalar(db, "SELECT COUNT(*) FROM workers") == 0


async def test_a_kecamatan_facilitator_picks_a_desa_of_the_kecamatan_only(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    fac = await bound_facilitator(engine, clock, db, scope_kind="kecamatan", scope_code=KALISAT)
    fac.expect("pendamping Kecamatan Kalisat")
    await fac.tap("Daftarkan pekerja")
    await fac.send("3509271505780009")
    await fac.send("Slamet")
    await fac.tap("Sesuai NIK")
    await fac.tap("Ya, benar")
    fac.expect("Pekerja tinggal di desa mana (Kecamatan Kalisat)?")
    fac.expect_choices("Gumuksari", "Sukoreno", "Berikutnya")
    assert len(fac.choices()) == 10
    await fac.tap("Berikutnya")
    fac.expect_choices("Gambiran", "Sumberketempa", "Sebanen", "Berikutnya")
    assert len(fac.choices()) == 4  # 12 desa: 9 + 3, then "Berikutnya" back to the start
    await fac.send("Pugerkulon")
    fac.expect("Desa Pugerkulon di luar wilayah Bapak/Ibu (Kecamatan Kalisat)")
    await fac.press("d:" + PUGERKULON, fac.token())
    fac.expect_not("Apa pekerjaan utamanya?")
    await fac.send("sukoreno")
    fac.expect("Apa pekerjaan utamanya?")
    await fac.tap("Nelayan")
    await fac.tap("Lewati")
    await fac.tap("Tidak ada HP")
    await fac.tap("Setuju")
    fac.expect("Desa Sukoreno")
    await fac.tap("Simpan")
    assert await scalar(db, "SELECT desa_code FROM workers") == SUKORENO


# ---------------------------------------------------------------------------------------------
# Finding workers, the summary


async def test_find_by_nik_and_by_fuzzy_name_within_the_scope(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    for i, name in enumerate(
        ("Sutrisno", "Sutrisna", "Sutrisno Hadi", "Sutrisni", "Sutris", "Sutrisno Adi"), 1
    ):
        await add_worker(db, f"350927150578{i:04d}", name, SUKORENO)
    await add_worker(db, "3509271505780099", "Misnadi", SUKORENO, phone=None)
    await add_worker(db, "3509081203800077", "Sutrisno Puger", PUGERKULON)
    async with db.tx() as tx:
        wid = await tx.scalar("SELECT id FROM workers WHERE nik = '3509271505780001'")
        await services.submit_claim(
            tx,
            services.NewClaim(
                claim_type=ClaimType.JKK,
                event_date=date(2026, 11, 20),
                worker_id=wid,
                desa_code=SUKORENO,
                checklist=("ktp_participant",),
            ),
            now=clock(),
            idempotency_key="k1",
            channel="terminal",
        )
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Cari pekerja")
    await fac.send("x")
    fac.expect("Mohon ketik NIK (16 angka) atau nama pekerja.")
    await fac.send("sutrisno")
    fac.expect("Ditemukan 6 pekerja.", "Halaman 1 dari 2")
    labels = [label for _, label in fac.choices()]
    assert "Sutrisno" in labels
    assert not any("Puger" in label for label in labels)
    assert "3509********0077" not in str(fac.replies)
    await fac.tap("Berikutnya")
    fac.expect("Halaman 2 dari 2")
    assert len([c for c in fac.choices() if c[0].startswith("w:")]) == 1
    await fac.tap("Cari lagi")
    await fac.send("3509081203800077")
    fac.expect("Tidak ada pekerja dengan NIK 3509********0077 di wilayah Bapak/Ibu")
    await fac.send("3509271505780001")
    fac.expect(
        "Bapak Sutrisno, NIK 3509********0001",
        "Desa Sukoreno, Kec. Kalisat",
        "Buruh tani / tembakau",
        "HP: +62812****7890",
        "dilindungi (JKK dan JKM) sampai 31 Desember 2026",
        "LC-2026-000001 (kecelakaan kerja)",
    )
    assert "3509271505780001" not in fac.text
    await fac.tap("Cari lagi")
    await fac.send("misnadi")
    fac.expect("Bapak Misnadi", "HP: belum ada")
    assert await scalar(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'worker.view'") == 2


async def test_summary_counts_by_sector_and_coverage_with_arrears_and_no_phone_lists(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await add_worker(db, "3509271505780001", "Sutrisno", SUKORENO)
    await add_worker(db, "3509271505780002", "Paimo", SUKORENO, phone=None)
    await add_worker(
        db,
        "3509271505780003",
        "Kasim",
        SUKORENO,
        sector="petani_pangan_hortikultura",
        paid_through="2026-09-30",
    )
    await add_worker(
        db,
        "3509274407850004",
        "Suwarni",
        SUKORENO,
        sex="P",
        phone=None,
        status="registered",
        paid_through=None,
    )
    await add_worker(db, "3509081203800002", "Darmaji", PUGERKULON, paid_through="2026-08-31")
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Ringkasan desa")
    fac.expect(
        "Ringkasan Desa Sukoreno, Kecamatan Kalisat (25 November 2026): 4 pekerja.",
        "Buruh tani / tembakau 3",
        "Petani 1",
        "dilindungi 2",
        "iuran belum tercatat 1",
        "menunggu dicek Pemkab 1",
        "Iuran belum tercatat: 1 pekerja.",
        "Belum ada nomor HP: 2 pekerja.",
    )
    # The lists are one tap away; every row opens the worker by its number.
    await fac.tap("Iuran blm tercatat")
    fac.expect("1. Kasim, lahir 1978, NIK …0003, iuran s.d. September 2026")
    await fac.tap("Ringkasan")
    await fac.tap("Tanpa nomor HP")
    fac.expect("Paimo", "Suwarni")
    fac.expect_not("Darmaji")
    await fac.send("1")
    fac.expect("Bapak Paimo, NIK 3509********0002")
    fac.expect_not("Darmaji", "menunggak")


# ---------------------------------------------------------------------------------------------
# Leads, assisted reports, documents


async def test_leads_round_trip_contacted_registered_and_closed(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    async with db.tx() as tx:
        c1 = await tx.execute(
            "INSERT INTO chats (channel, user_ref, created_at) VALUES ('whatsapp', 'p1', 'x')"
        )
        lead1 = await services.create_lead(
            tx,
            desa_code=SUKORENO,
            chat_id=c1,
            phone="+6281299990001",
            answers={
                "age": 47,
                "sector": "nelayan_tangkap",
                "other_bpjs": "no",
                "in_dtsen": "unknown",
            },
            decision="likely",
            now=clock(),
        )
        lead2 = await services.create_lead(
            tx,
            desa_code=SUKORENO,
            chat_id=c1,
            phone="+6281299990002",
            answers={"age": 30},
            decision="likely",
            now=clock(),
        )
        await services.create_lead(
            tx,
            desa_code=PUGERKULON,
            chat_id=c1,
            phone="+6281299990003",
            answers={"age": 50},
            decision="likely",
            now=clock(),
        )
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Calon peserta")
    fac.expect("Calon peserta yang menunggu: 2")
    await fac.tap(f"Calon peserta {lead1}")
    fac.expect("Umur 47, nelayan", "HP: +6281299990001", "Status: belum dihubungi")
    await fac.tap("Sudah dihubungi")
    fac.expect("Dicatat: sudah dihubungi", "Status: sudah dihubungi")
    await fac.tap("Daftarkan")
    fac.expect("Daftarkan calon peserta.", "Berapa NIK pekerja?")
    await fac.send("3509271505780009")
    await fac.send("Slamet")
    await fac.tap("Sesuai NIK")
    await fac.tap("Ya, benar")
    fac.expect("Keterangan pekerjaan")  # desa, and sector from the lead, are prefilled
    await fac.tap("Lewati")
    fac.expect("Pekerja setuju")  # the phone too
    await fac.tap("Setuju")
    fac.expect("nelayan", "HP +62812****0001")
    await fac.tap("Simpan")
    async with db.tx() as tx:
        status = await tx.scalar("SELECT status FROM leads WHERE id = ?", (lead1,))
        phone = await tx.scalar("SELECT phone FROM workers")
    assert (status, phone) == ("registered", "+6281299990001")
    await fac.send("menu")
    await fac.tap("Calon peserta")
    fac.expect("Calon peserta yang menunggu: 1")
    await fac.tap(f"Calon peserta {lead2}")
    await fac.tap("Tutup")
    fac.expect("Alasan menutup?")
    await fac.tap("Tidak bisa dihubungi")
    fac.expect("Calon peserta ditutup.")
    async with db.tx() as tx:
        row = await tx.one("SELECT status, close_reason FROM leads WHERE id = ?", (lead2,))
        actions = {
            r["action"]
            for r in await tx.all("SELECT action FROM audit_log WHERE actor_kind = 'facilitator'")
        }
    assert row is not None
    assert (row["status"], row["close_reason"]) == ("closed", "unreachable")
    assert {"lead.view", "lead.contacted", "lead.registered", "lead.close"} <= actions


async def test_assisted_jkk_report_for_a_worker_of_the_desa(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await add_worker(db, "3509271505780001", "Sutrisno", SUKORENO)
    await add_worker(db, "3509081203800002", "Darmaji", PUGERKULON)
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Lapor atas nama pekerja")
    await fac.tap("Lapor kecelakaan")
    fac.expect("Berapa NIK orang yang celaka?")
    await fac.send("3509081203800002")
    fac.expect("tidak terdaftar di wilayah Bapak/Ibu")
    await fac.send("3509271505780001")
    fac.expect("Data ditemukan: Bapak Sutrisno, NIK 3509********0001")
    await fac.tap("Kemarin")
    await fac.tap("Pagi")
    await fac.send("gudang tembakau di Sukoreno")
    await fac.tap("Tidak")
    await fac.send("jatuh dari tangga, kaki patah")
    await fac.tap("Rawat jalan")
    await fac.send("puskesmas kalisat")
    await fac.send("081234567890")
    fac.expect("Mohon periksa")
    await fac.tap("Kirim")
    fac.expect("Terkirim. Nomor laporan: LC-2026-000001")
    await fac.photo()
    fac.expect("diterima")
    async with db.tx() as tx:
        claim = await tx.one("SELECT facilitator_id, worker_id, reporter_chat_id FROM claims")
        fid = await tx.scalar("SELECT id FROM facilitators")
    assert claim is not None
    assert claim["facilitator_id"] == fid
    await fac.send("menu")
    await fac.tap("Klaim desa")
    fac.expect("Laporan yang masih berjalan: 1")
    fac.expect_choices("LC-2026-000001")


async def test_documents_for_a_claim_of_the_scope(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    async with db.tx() as tx:
        for key, desa in (("k1", SUKORENO), ("k2", PUGERKULON)):
            await services.submit_claim(
                tx,
                services.NewClaim(
                    claim_type=ClaimType.JKM,
                    event_date=date(2026, 11, 3),
                    subject_name="Almarhum " + key,
                    subject_nik="3509290101600004",
                    desa_code=desa,
                    checklist=("akta_kematian", "kartu_keluarga"),
                ),
                now=clock(),
                idempotency_key=key,
                channel="whatsapp",
            )
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Klaim desa")
    fac.expect("Laporan yang masih berjalan: 1 (1 kurang dokumen)")
    fac.expect_not("LC-2026-000002")
    await fac.tap("LC-2026-000001")
    fac.expect("LC-2026-000001 (kematian", "NIK 3509********0004", "Masih kurang 2 dokumen:")
    fac.expect("Akta kematian", "Kartu Keluarga (KK)")
    await fac.tap("Kirim dokumen")
    fac.expect("Silakan kirim foto akta kematian")
    await fac.photo(b"\xff\xd8\xff akta")
    fac.expect("Akta kematian diterima", "Kurang 1 dokumen")
    await fac.photo(b"\xff\xd8\xff kk")
    fac.expect("Semua dokumen sudah lengkap")
    assert await scalar(db, "SELECT COUNT(*) FROM claim_documents") == 2


async def test_going_back_after_saving_does_not_save_twice(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    fac = await bound_facilitator(engine, clock, db)
    await fac.tap("Daftarkan pekerja")
    await fac.send("3509271505780009")
    await fac.send("Slamet")
    await fac.tap("Sesuai NIK")
    await fac.tap("Ya, benar")
    await fac.tap("Nelayan")
    await fac.tap("Lewati")
    await fac.tap("Tidak ada HP")
    await fac.tap("Setuju")
    await fac.tap("Simpan")
    await fac.send("kembali")
    fac.expect("Menu pendamping")
    fac.expect_not("Maaf, ada gangguan")
    assert await scalar(db, "SELECT COUNT(*) FROM workers") == 1
