"""Attacks with only a worker's NIK (issue 20), tried as an attacker would.

The date of birth is digits 7-12 of the NIK, so every attacker here derives it from the NIK
(``parse_nik(...).birth_date``) and still gets nothing personal until a factor the NIK does not
contain succeeds: the roster phone proven by the channel, the KPJ/KK number, or the facilitator.
"""

from __future__ import annotations

import json
from datetime import date

from conftest import ChatDriver, FixedClock

from handlers.engine import Engine
from lingkaran.channels.terminal import to_incoming
from lingkaran_core import services
from lingkaran_core.claims import Actor, ClaimStatus, ClaimType
from lingkaran_core.facilitators import create_facilitator
from lingkaran_core.identity import parse_nik
from lingkaran_core.storage import Database, identity_repo

SUKORENO = "35.09.27.2002"  # Kec. Kalisat
PUGERKULON = "35.09.08.2004"  # Kec. Puger
SUPARMI = "3509274904820006"  # woman, 9-04-1982 (day + 40)
SUPARMI_PHONE = "+6281333300006"
SUPARMI_KPJ = "99000000006"
SUPARMI_KK = "3509270101090042"
SLAMET = "3509080203700003"  # Puger: outside a Sukoreno facilitator's scope
CODE = "K7QM4XPT"
PENDING = "Data belum kami tampilkan"
JKK_DOCS = ("ktp_participant", "surat_dokter", "buku_tabungan")


def dob(nik: str) -> str:
    """What an attacker types as the date of birth: the one the NIK itself contains."""
    return parse_nik(nik, today=date(2026, 11, 25)).birth_date.strftime("%d-%m-%Y")


async def add_worker(
    db: Database,
    nik: str,
    name: str,
    *,
    desa: str = SUKORENO,
    phone: str | None = None,
    kpj: str | None = None,
) -> int:
    birth = parse_nik(nik, today=date(2026, 11, 25))
    async with db.tx() as tx:
        return await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, phone, kpj, "
            "coverage_start, paid_through, registration_status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'buruh_tani_tembakau', ?, ?, '2022-01-01', '2026-12-31', "
            "'verified', 'x', 'x')",
            (nik, name, birth.birth_date.isoformat(), str(birth.sex), desa, phone, kpj),
        )


async def suparmi(db: Database) -> int:
    wid = await add_worker(db, SUPARMI, "Suparmi", phone=SUPARMI_PHONE, kpj=SUPARMI_KPJ)
    async with db.tx() as tx:
        await identity_repo.set_worker_kk(tx, SUPARMI, SUPARMI_KK)
    return wid


async def open_claim_about(db: Database, clock: FixedClock, worker_id: int) -> str:
    """Suparmi's open JKK claim, filed by her husband's chat, missing documents."""
    async with db.tx() as tx:
        husband = await tx.execute(
            "INSERT INTO chats (channel, user_ref, created_at) VALUES ('telegram', 'husband', 'x')"
        )
        claim = await services.submit_claim(
            tx,
            services.NewClaim(
                claim_type=ClaimType.JKK,
                event_date=date(2026, 11, 24),
                reporter_chat_id=husband,
                worker_id=worker_id,
                subject_nik=SUPARMI,
                subject_name="Suparmi",
                checklist=JKK_DOCS,
            ),
            now=clock(),
            idempotency_key="husband-1",
            channel="telegram",
        )
        for target in (ClaimStatus.IN_REVIEW, ClaimStatus.DOCUMENTS_REQUESTED):
            await services.transition_claim(
                tx, claim.ref, target, actor=Actor.ADMIN, now=clock(), channel="admin"
            )
    return claim.ref


async def link_pair(chat: ChatDriver, nik: str) -> None:
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    await chat.send(nik)
    await chat.send(dob(nik))


async def scalar(db: Database, sql: str, params: tuple[object, ...] = ()) -> object:
    async with db.tx() as tx:
        return await tx.scalar(sql, params)


async def bound_facilitator(
    engine: Engine, clock: FixedClock, db: Database, scope: str = SUKORENO
) -> ChatDriver:
    async with db.tx() as tx:
        await create_facilitator(
            tx,
            name="Bu Rina",
            phone=None,
            scope_kind="desa",
            scope_code=scope,
            now=clock(),
            code=CODE,
        )
    fac = ChatDriver(engine=engine, clock=clock, channel="telegram", user="fac1")
    await fac.send(CODE)
    fac.expect("Kode diterima")
    return fac


# ---------------------------------------------------------------------------------------------
# NIK + NIK-derived date of birth, no second factor


async def test_nik_and_its_own_birth_date_show_nothing_and_open_no_claim(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    wid = await suparmi(db)
    ref = await open_claim_about(db, clock, wid)
    attacker = ChatDriver(engine=engine, clock=clock, channel="telegram", user="attacker")
    await link_pair(attacker, SUPARMI)
    attacker.expect(PENDING)
    secrets = ("Suparmi", SUPARMI_KPJ, "3509********0006", "Sukoreno", "DILINDUNGI", ref)
    attacker.expect_not(*secrets)
    # Every personal screen: coverage, my data, claims; a typed claim reference; a photo.
    await attacker.send("menu")
    await attacker.tap("Cek kepesertaan")
    attacker.expect(PENDING)
    await attacker.send("menu")
    await attacker.tap("Klaim saya")
    attacker.expect_not(*secrets)
    await attacker.send(ref)
    attacker.expect_not("Suparmi", "kecelakaan kerja, ")
    await attacker.photo()
    for _ in range(7):
        await attacker.photo()
    attacker.expect_not(*secrets)
    transcript = "\n".join(attacker.transcript)
    assert "Suparmi" not in transcript
    assert SUPARMI_KPJ not in transcript
    assert await scalar(db, "SELECT COUNT(*) FROM claim_documents") == 0
    assert await scalar(db, "SELECT status FROM claims WHERE ref = ?", (ref,)) == (
        "documents_requested"
    )
    assert await scalar(db, "SELECT worker_id FROM chats WHERE user_ref = 'attacker'") is None


# ---------------------------------------------------------------------------------------------
# Each factor links


async def test_factor_a_whatsapp_sender_number_is_the_roster_phone(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await suparmi(db)
    owner = ChatDriver(engine=engine, clock=clock, channel="whatsapp", user="6281333300006")
    await link_pair(owner, SUPARMI)
    owner.expect("Data cocok", "Ibu Suparmi")
    owner.expect_not(PENDING)


async def test_factor_a_telegram_contact_of_the_sender_is_the_roster_phone(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await suparmi(db)
    owner = ChatDriver(engine=engine, clock=clock, channel="telegram", user="5550001")
    await link_pair(owner, SUPARMI)
    owner.expect(PENDING)
    await owner.tap("Kirim nomor HP")
    owner.expect("Kirim nomor HP saya")
    await owner.send("081333300006")  # typed: proves nothing
    owner.expect("Nomor yang diketik tidak bisa kami periksa")
    await owner.contact("6281333300006")  # the adapter checked contact.user_id == sender
    owner.expect("Data cocok", "Ibu Suparmi")


async def test_factor_a_someone_elses_contact_number_does_not_link(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await suparmi(db)
    attacker = ChatDriver(engine=engine, clock=clock, channel="telegram", user="5550002")
    await link_pair(attacker, SUPARMI)
    await attacker.tap("Kirim nomor HP")
    await attacker.contact("+6281299998888")
    attacker.expect("tidak sama dengan nomor di data kami")
    attacker.expect_not("Suparmi")


async def test_factor_a_terminal_phone_command(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await suparmi(db)
    term = ChatDriver(engine=engine, clock=clock, channel="terminal", user="42")
    await link_pair(term, SUPARMI)
    await term.tap("Kirim nomor HP")
    replies = await engine.handle(to_incoming("/phone 0813-3330-0006", user="42"))
    assert "Data cocok" in "\n".join(r.text for r in replies)
    preset = to_incoming("/phone", user="43", phone="081333300006")
    assert preset.contact_phone == "081333300006"


async def test_factor_c_kpj_and_kk(engine: Engine, clock: FixedClock, db: Database) -> None:
    await suparmi(db)
    by_kpj = ChatDriver(engine=engine, clock=clock, channel="telegram", user="k1")
    await link_pair(by_kpj, SUPARMI)
    await by_kpj.tap("Nomor kartu KPJ")
    await by_kpj.send("99000000007")
    by_kpj.expect("belum cocok")
    by_kpj.expect_not("Suparmi")
    await by_kpj.tap("Nomor kartu KPJ")
    await by_kpj.send(SUPARMI_KPJ)
    by_kpj.expect("Data cocok", "Ibu Suparmi")
    by_kk = ChatDriver(engine=engine, clock=clock, channel="whatsapp", user="6281200001111")
    await link_pair(by_kk, SUPARMI)
    by_kk.expect("Nomor WhatsApp ini tidak sama")
    by_kk.expect_not("Kirim nomor HP")  # WhatsApp proved (or not) the number already
    await by_kk.tap("Nomor KK")
    await by_kk.send("3509 2701 0109 0042")
    by_kk.expect("Data cocok", "Ibu Suparmi")


async def test_factor_d_the_facilitator_confirms_in_person(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    wid = await suparmi(db)
    fac = await bound_facilitator(engine, clock, db)
    owner = ChatDriver(engine=engine, clock=clock, channel="telegram", user="nokpj")
    await link_pair(owner, SUPARMI)
    await owner.tap("Lewat pendamping")
    owner.expect("Kode verifikasi:", "membawa KTP")
    owner.expect_not("Suparmi")
    code = owner.text.split("Kode verifikasi: ")[1][:6]
    await fac.send("menu")
    await fac.tap("Verifikasi pekerja")
    await fac.send("000000" if code != "000000" else "111111")
    fac.expect("tidak ada atau sudah kedaluwarsa")
    await fac.send(code)
    fac.expect("Ibu Suparmi", "3509********0006", "9 April 1982")
    await fac.tap("Ya")
    fac.expect("sudah terhubung")
    assert await scalar(db, "SELECT worker_id FROM chats WHERE user_ref = 'nokpj'") == wid
    assert await scalar(
        db, "SELECT COUNT(*) FROM audit_log WHERE action = 'link.ok' AND actor_kind = 'facilitator'"
    )
    assert await scalar(db, "SELECT COUNT(*) FROM outbox WHERE msg_key = 'identity.verified'")
    await owner.send("menu")
    await owner.tap("Cek kepesertaan")
    owner.expect("Ibu Suparmi DILINDUNGI")


async def test_factor_d_refuses_a_code_of_another_desa(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await add_worker(db, SLAMET, "Slamet", desa=PUGERKULON)
    fac = await bound_facilitator(engine, clock, db)
    owner = ChatDriver(engine=engine, clock=clock, channel="telegram", user="slamet")
    await link_pair(owner, SLAMET)
    await owner.tap("Lewat pendamping")
    code = owner.text.split("Kode verifikasi: ")[1][:6]
    await fac.send("menu")
    await fac.tap("Verifikasi pekerja")
    await fac.send(code)
    fac.expect("di luar wilayah")
    fac.expect_not("Slamet")
    assert await scalar(db, "SELECT worker_id FROM chats WHERE user_ref = 'slamet'") is None


# ---------------------------------------------------------------------------------------------
# Lock-outs that protect the owner


async def test_25_failing_chats_do_not_block_the_owners_phone_and_the_owner_is_told(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await suparmi(db)
    # The owner's Telegram chat, already verified by the KPJ, hears of the attempts.
    mine = ChatDriver(engine=engine, clock=clock, channel="telegram", user="mine")
    await link_pair(mine, SUPARMI)
    await mine.tap("Nomor kartu KPJ")
    await mine.send(SUPARMI_KPJ)
    mine.expect("Data cocok")
    for i in range(25):
        attacker = ChatDriver(engine=engine, clock=clock, channel="whatsapp", user=f"62899{i:07d}")
        await attacker.send("menu")
        await attacker.tap("Cek kepesertaan")
        await attacker.send(SUPARMI)
        await attacker.send("01-01-1980")
        attacker.expect_not("Suparmi")
    # The owner's WhatsApp links at once; a new Telegram chat of hers links by her contact.
    owner = ChatDriver(engine=engine, clock=clock, channel="whatsapp", user="6281333300006")
    await link_pair(owner, SUPARMI)
    owner.expect("Data cocok", "Ibu Suparmi")
    second = ChatDriver(engine=engine, clock=clock, channel="telegram", user="mine2")
    await link_pair(second, SUPARMI)
    await second.tap("Kirim nomor HP")
    await second.contact(SUPARMI_PHONE)
    second.expect("Data cocok")
    # The knowledge factor is what the NIK's lock-out stops (the KPJ from a stranger).
    stranger = ChatDriver(engine=engine, clock=clock, channel="telegram", user="stranger")
    await link_pair(stranger, SUPARMI)
    await stranger.tap("Nomor kartu KPJ")
    await stranger.send(SUPARMI_KPJ)
    stranger.expect("Terlalu banyak percobaan", "pendamping desa tetap bisa")
    mine_id = await scalar(db, "SELECT id FROM chats WHERE user_ref = 'mine'")
    told = await scalar(
        db,
        "SELECT COUNT(*) FROM outbox WHERE msg_key = 'identity.link_attempt' AND chat_id = ?",
        (mine_id,),
    )
    assert told == 1  # once a day, however many tried


# ---------------------------------------------------------------------------------------------
# Nothing personal to unverified chats


async def test_orang_lain_with_100_roster_niks_reveals_no_name(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    niks = [f"35092715057{8000 + i:05d}" for i in range(1, 101)]
    names = [f"Pekerja Rahasia {chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(100)]
    for nik, name in zip(niks, names, strict=True):
        await add_worker(db, nik, name)
    chat = ChatDriver(engine=engine, clock=clock, channel="telegram", user="scraper")
    for i, nik in enumerate(niks):
        await chat.send("menu")
        if i % 3 == 0:
            await chat.tap("Lapor kecelakaan")
            await chat.tap("Orang lain")
            await chat.send(nik)
        elif i % 3 == 1:
            await chat.tap("Lapor kematian")
            await chat.tap("Tidak")
            await chat.send("3 november")
            await chat.tap("Anak")
            await chat.send(nik)
        else:
            await chat.tap("Beasiswa anak")
            await chat.tap("Meninggal biasa")
            await chat.send(nik)
        await chat.send("batal")
    transcript = "\n".join(chat.transcript)
    assert not [n for n in names if n in transcript]
    assert "Rahasia" not in transcript
    assert "Sukoreno" not in transcript.replace("sawah di Sukoreno", "")
    assert "Data ditemukan" not in transcript


async def test_a_facilitator_in_menu_pekerja_sees_no_worker_of_another_desa(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await add_worker(db, SLAMET, "Slamet", desa=PUGERKULON)
    fac = await bound_facilitator(engine, clock, db)
    await fac.send("menu")
    await fac.tap("Menu pekerja")
    await fac.tap("Lapor kecelakaan")
    await fac.tap("Orang lain")
    await fac.send(SLAMET)
    fac.expect("Siapa nama orang yang celaka")
    fac.expect_not("Slamet", "Data ditemukan")
    await fac.send("batal")
    await fac.tap("Lapor kematian")
    await fac.tap("Tidak")
    await fac.send("3 november")
    await fac.tap("Anak")
    await fac.send(SLAMET)
    fac.expect_not("Slamet")
    await fac.send("batal")
    await link_pair(fac, SLAMET)
    fac.expect(PENDING)
    fac.expect_not("Slamet", "Puger", "tidak aktif")
    transcript = "\n".join(fac.transcript)
    assert "Slamet" not in transcript


# ---------------------------------------------------------------------------------------------
# Recycled numbers


async def test_a_recycled_number_400_days_later_sees_nothing_of_the_previous_owner(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await suparmi(db)
    number = "6281333300006"
    owner = ChatDriver(engine=engine, clock=clock, channel="whatsapp", user=number)
    await link_pair(owner, SUPARMI)
    owner.expect("Data cocok")
    # She files a report about herself from this chat, and leaves a report half-typed.
    await owner.send("menu")
    await owner.tap("Lapor kecelakaan")
    await owner.tap("Saya sendiri")
    for typed in ("Kemarin", "Pagi", "sawah di Sukoreno", "Tidak", "terkena sabit"):
        await owner.send(typed)
    await owner.tap("Rawat jalan")
    await owner.send("Puskesmas Kalisat")
    await owner.tap("Pakai nomor ini")
    await owner.tap("Kirim")
    owner.expect("Nomor laporan")
    ref = await scalar(db, "SELECT ref FROM claims")
    # She also asked staff something; their answer must not reach the next holder.
    async with db.tx() as tx:
        chat_id = await tx.scalar("SELECT id FROM chats WHERE user_ref = ?", (number,))
        await services.open_ticket(tx, chat_id=chat_id, body="kartu saya hilang", now=clock())
    clock.advance(days=400)
    newcomer = ChatDriver(engine=engine, clock=clock, channel="whatsapp", user=number)
    newcomer._n = 1000  # new message ids
    await newcomer.send("halo")
    await newcomer.send("menu")
    await newcomer.tap("Cek kepesertaan")
    newcomer.expect("Ketik NIK")
    await newcomer.send("menu")
    await newcomer.tap("Klaim saya")
    await newcomer.send(str(ref))
    transcript = "\n".join(newcomer.transcript)
    for secret in ("Suparmi", "3509********0006", SUPARMI_KPJ, "Sukoreno", str(ref), "DILINDUNGI"):
        assert secret not in transcript.replace(f"USER: {ref}", ""), secret
    assert await scalar(db, "SELECT worker_id FROM chats WHERE user_ref = ?", (number,)) is None
    assert await scalar(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'link.expired'") == 1
    # The previous owner's claim stays for staff, untouched.
    assert await scalar(db, "SELECT status FROM claims WHERE ref = ?", (ref,)) == "submitted"
    # Her ticket is closed with the link: a staff reply cannot be sent into it any more.
    assert await scalar(db, "SELECT status FROM tickets") == "closed"
    assert "kartu saya hilang" not in transcript


# ---------------------------------------------------------------------------------------------
# Abuse limits


async def test_30_claims_from_one_chat_in_a_second_hit_the_limit(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    chat = ChatDriver(engine=engine, clock=clock, channel="telegram", user="flood")
    refused = 0
    for _ in range(30):
        await chat.send("menu")
        await chat.tap("Lapor kecelakaan")
        await chat.tap("Orang lain")
        await chat.tap("Tidak tahu")
        for typed in ("Paijo", "Hari ini", "Pagi", "sawah", "Tidak", "jatuh"):
            await chat.send(typed)
        await chat.tap("Rawat jalan")
        await chat.send("Puskesmas")
        await chat.send("081234567890")
        await chat.tap("Kirim")
        if "dalam satu jam terakhir" in chat.text:
            refused += 1
    filed = await scalar(db, "SELECT COUNT(*) FROM claims")
    assert filed == 5
    assert refused == 25
    # One OPD alert for the first two, then one for the batch of the hour.
    alerts = await scalar(db, "SELECT COUNT(*) FROM outbox WHERE msg_key = 'admin.new_jkk'")
    assert alerts == 3
    chat.expect("Sudah banyak laporan dari chat ini")
    params = await scalar(db, "SELECT params FROM outbox WHERE msg_key = 'admin.new_jkk' LIMIT 1")
    assert "ref" in json.loads(str(params))


async def _sent_code(db: Database) -> str:
    async with db.read() as r:
        row = await r.one(
            "SELECT user_ref, params FROM outbox WHERE msg_key = 'identity.phone_code' "
            "ORDER BY id DESC LIMIT 1"
        )
    assert row is not None
    assert row["user_ref"] == "6281333300006"  # the roster phone's WhatsApp, not this chat
    return str(json.loads(row["params"])["code"])


async def test_factor_b_a_code_by_whatsapp_to_the_roster_phone(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await suparmi(db)
    owner = ChatDriver(engine=engine, clock=clock, channel="telegram", user="5550009")
    await link_pair(owner, SUPARMI)
    assert not any("WhatsApp" in label for _i, label in owner.choices())  # WhatsApp not running
    engine.outbound_channels = frozenset({"telegram", "whatsapp"})
    await link_pair(owner, SUPARMI)
    await owner.tap("Kode lewat WhatsApp")
    owner.expect("+62813****0006", "Berlaku 15 menit")
    owner.expect_not("Suparmi")
    code = await _sent_code(db)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    await owner.send(wrong)
    owner.expect("salah atau sudah tidak berlaku")
    owner.expect_not("Suparmi")
    await owner.tap("Cara lain")
    await owner.tap("Kode lewat WhatsApp")  # a new code replaces the old one
    fresh = await _sent_code(db)
    await owner.send(fresh)
    owner.expect("Data cocok", "Ibu Suparmi")
    from handlers.outbound import render

    text = render("identity.phone_code", {"code": fresh, "minutes": 15}, "id").text
    assert fresh in text
    assert "Jangan berikan kepada siapa pun" in text


async def test_factor_b_codes_expire_are_capped_and_cannot_be_guessed(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
    await suparmi(db)
    engine.outbound_channels = frozenset({"whatsapp"})
    attacker = ChatDriver(engine=engine, clock=clock, channel="telegram", user="5550010")
    await link_pair(attacker, SUPARMI)
    await attacker.tap("Kode lewat WhatsApp")
    code = await _sent_code(db)
    clock.advance(minutes=16)
    await attacker.send(code)  # too late
    attacker.expect("salah atau sudah tidak berlaku")
    attacker.expect_not("Suparmi")
    await attacker.tap("Cara lain")
    for _ in range(2):
        await attacker.tap("Kode lewat WhatsApp")
        await attacker.tap("Cara lain")
    await attacker.tap("Kode lewat WhatsApp")  # a fourth code within the hour
    attacker.expect("coba lagi")
    async with db.read() as r:
        sent = await r.scalar("SELECT COUNT(*) FROM outbox WHERE msg_key = 'identity.phone_code'")
    assert sent == 3  # the owner's WhatsApp is not flooded
    clock.advance(hours=1)
    await link_pair(attacker, SUPARMI)
    await attacker.tap("Kode lewat WhatsApp")
    code = await _sent_code(db)
    for guess in range(5):  # five wrong guesses void the code, the right one then fails too
        await attacker.send(f"{(int(code) + 1 + guess) % 10**6:06d}")
    await attacker.send(code)
    attacker.expect_not("Data cocok")
    async with db.read() as r:
        linked = await r.scalar("SELECT worker_id FROM chats WHERE user_ref = '5550010'")
    assert linked is None
