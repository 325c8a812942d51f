"""Transcripts for one phone serving a whole household (issue 22): a husband's phone linked to
him and to his wife checks both coverages, files a JKK report for her and receives her reminder
addressed to her; unlinking one leaves the other; a seventh link is refused in plain words.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import pytest
from conftest import ChatDriver, FixedClock

from handlers.engine import Engine, Reply
from lingkaran.channels.base import OutboundMessage, SendResult
from lingkaran.channels.dispatcher import ChannelLimits, Dispatcher
from lingkaran.channels.scheduler import run_sweep
from lingkaran_core import services
from lingkaran_core.claims import Actor, ClaimStatus
from lingkaran_core.errors import NotAuthorised
from lingkaran_core.reminders import Kind
from lingkaran_core.storage import Database

# Format-valid Jember NIKs: 3509 + kecamatan + DDMMYY (+40 on DD for women) + serial.
SUTRISNO = "3509271505780001"  # Kec. Kalisat, man, 15-05-1978
SITI = "3509275203820002"  # Kec. Kalisat, woman, 12-03-1982
NEIGHBOUR = "3509274407850003"  # Kec. Kalisat, woman, 4-07-1985, another household
SUKORENO_KALISAT = "35.09.27.2002"
PHONE = "+6281234567890"  # the household's phone, on the roster for Sutrisno (and Siti)
KK = "3509270101090001"  # the family card of Sutrisno and Siti
PENDING = "Data belum kami tampilkan"
WHOM = "Untuk siapa?"


async def seed(
    db: Database,
    *,
    nik: str,
    name: str,
    birth: str,
    sex: str,
    paid_through: str = "2026-12-31",
    phone: str | None = PHONE,
    kk: str | None = KK,
) -> int:
    async with db.tx() as tx:
        return await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, registration_status, phone, kk, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'buruh_tani_tembakau', '2025-12-01', ?, 'verified', ?, ?, "
            "'2025-12-01', '2025-12-01')",
            (nik, name, birth, sex, SUKORENO_KALISAT, paid_through, phone, kk),
        )


async def link_self(chat: ChatDriver) -> None:
    """The husband links his own data: NIK + date of birth, then the roster phone."""
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    await chat.send(SUTRISNO)
    await chat.send("15-05-1978")
    chat.expect(PENDING)
    await chat.tap("Kirim nomor HP")
    await chat.contact(PHONE)
    chat.expect("Nomor ini kini terhubung", "Bapak Sutrisno DILINDUNGI sampai 31 Desember 2026")


async def add_person(chat: ChatDriver, nik: str, birth: str, *, phone: str = PHONE) -> None:
    """Settings, "Tambah keluarga": one more person of the household, proven by the phone."""
    await chat.send("menu")
    await chat.tap("Pengaturan")
    await chat.tap("Tambah keluarga")
    chat.expect("Ketik NIK orang yang akan ditambahkan")
    await chat.send(nik)
    chat.expect("Kapan tanggal lahirnya?")
    await chat.send(birth)
    chat.expect(PENDING)
    await chat.tap("Kirim nomor HP")
    await chat.contact(phone)


class Household(NamedTuple):
    """The worker ids of the husband and the wife whose roster phone is the household's."""

    husband: int
    wife: int


@pytest.fixture
async def workers(db: Database) -> Household:
    """Sutrisno and Siti Aminah on the roster, both with the household's phone and family card."""
    husband = await seed(db, nik=SUTRISNO, name="Sutrisno", birth="1978-05-15", sex="L")
    # Her cover ends with November: the coverage reminder is due this week.
    wife = await seed(
        db, nik=SITI, name="Siti Aminah", birth="1982-03-12", sex="P", paid_through="2026-11-01"
    )
    return Household(husband, wife)


@pytest.fixture
async def his_phone(chat: ChatDriver, workers: Household) -> Household:
    """The household's phone, linked to the husband alone."""
    await link_self(chat)
    return workers


@pytest.fixture
async def household(chat: ChatDriver, his_phone: Household) -> Household:
    """The household's phone, linked to the husband and then to his wife."""
    await add_person(chat, SITI, "12-03-1982")
    chat.expect("Nomor ini kini juga terhubung dengan data Ibu Siti Aminah")
    return his_phone


class TerminalInbox:
    """The terminal channel's outgoing side, recording what the outbox sends to each user."""

    channel = "terminal"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send_reply(self, user_ref: str, reply: Reply) -> SendResult:
        raise NotImplementedError

    async def send_outbound(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(message_ids=(f"t{message.outbox_id}",))

    def texts(self, user_ref: str) -> list[str]:
        return [m.reply.text for m in self.sent if m.user_ref == user_ref]


async def deliver(db: Database, clock: FixedClock) -> TerminalInbox:
    inbox = TerminalInbox()
    limits = {"terminal": ChannelLimits(rate=1000, per_user_interval=0.0)}
    await Dispatcher(db, {"terminal": inbox}, clock=clock, limits=limits).drain("terminal")
    return inbox


async def file_jkk_for_wife(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Lapor kecelakaan")
    chat.expect("Siapa yang celaka?")
    chat.expect_choices("Bapak Sutrisno", "Ibu Siti Aminah", "Orang lain")
    await chat.tap("Ibu Siti Aminah")
    chat.expect("Kapan kecelakaannya terjadi?")
    await chat.tap("Kemarin")
    await chat.tap("Pagi")
    await chat.send("sawah di sukoreno")
    await chat.tap("Tidak")
    await chat.send("terpeleset di pematang, tangan patah")
    await chat.tap("Rawat jalan")
    await chat.send("puskesmas kalisat")
    await chat.send("081234567890")
    chat.expect("Mohon periksa:", "Siti Aminah, NIK 3509********0002")
    await chat.tap("Kirim")
    chat.expect("Terkirim. Nomor laporan: LC-2026-")
    # The documents asked next are hers, and the bot says so.
    chat.expect("untuk Ibu Siti Aminah.\nSilakan kirim foto")


# ---------------------------------------------------------------------------------------------


async def test_a_husbands_phone_checks_both_coverages_files_for_his_wife_and_gets_her_reminder(
    chat: ChatDriver, db: Database, clock: FixedClock, household: Household
) -> None:
    husband, wife = household

    # Coverage: "Untuk siapa?" with both names, and the answer speaks of that person by name.
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    chat.expect(WHOM)
    chat.expect_choices("Bapak Sutrisno", "Ibu Siti Aminah")
    await chat.tap("Ibu Siti Aminah")
    chat.expect("Ibu Siti Aminah DILINDUNGI sampai 30 November 2026")
    chat.expect_not("Bapak Sutrisno DILINDUNGI")
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    await chat.tap("Bapak Sutrisno")
    chat.expect("Bapak Sutrisno DILINDUNGI sampai 31 Desember 2026")

    # Typed words name the person: no question.
    await chat.send("cek istri saya")
    chat.expect("Ibu Siti Aminah DILINDUNGI sampai 30 November 2026")
    chat.expect_not(WHOM)

    # A JKK report for the wife: her roster record, filed from his phone.
    await file_jkk_for_wife(chat)
    async with db.read() as r:
        claim = await r.one("SELECT ref, worker_id, subject_nik FROM claims")
    assert claim is not None
    assert (claim["worker_id"], claim["subject_nik"]) == (wife, SITI)

    # Her reminder reaches this phone, addressed to her; his cover is not ending: none for him.
    counts = await run_sweep(db, clock(), kinds=[Kind.COVERAGE], whatsapp_enabled=False)
    assert counts[Kind.COVERAGE] >= 1
    inbox = await deliver(db, clock)
    texts = inbox.texts(chat.user)
    assert len(texts) == 1, texts
    assert (
        "perlindungan BPJS Ketenagakerjaan Ibu Siti Aminah tercatat sampai 30 November"
        in (texts[0])
    )
    assert "Sutrisno" not in texts[0]

    # Claim news names her too.
    async with db.tx() as tx:
        await services.transition_claim(
            tx, claim["ref"], ClaimStatus.IN_REVIEW, actor=Actor.ADMIN, now=clock()
        )
    inbox = await deliver(db, clock)
    assert inbox.texts(chat.user) == [
        f"Kabar laporan {claim['ref']} untuk Ibu Siti Aminah: sedang dicek petugas."
    ]
    assert husband != wife


async def test_her_reminder_goes_to_every_chat_linked_to_her_once_each_and_respects_opt_out(
    chat: ChatDriver, db: Database, clock: FixedClock, household: Household
) -> None:
    # Her own phone (another chat) is linked to her too, and typed BERHENTI.
    own = ChatDriver(engine=chat.engine, clock=clock, user="siti")
    await own.send("menu")
    await own.tap("Cek kepesertaan")
    await own.send(SITI)
    await own.send("12-03-1982")
    await own.tap("Kirim nomor HP")
    await own.contact(PHONE)
    own.expect("Ibu Siti Aminah DILINDUNGI")
    await run_sweep(db, clock(), kinds=[Kind.COVERAGE], whatsapp_enabled=False)
    await run_sweep(db, clock() + timedelta(hours=1), kinds=[Kind.COVERAGE], whatsapp_enabled=False)
    async with db.read() as r:
        rows = await r.all(
            "SELECT user_ref, COUNT(*) AS n FROM outbox WHERE msg_key = 'reminder.coverage_ending' "
            "GROUP BY user_ref ORDER BY user_ref"
        )
    assert [(x["user_ref"], x["n"]) for x in rows] == [("siti", 1), ("u1", 1)]
    await own.send("BERHENTI")
    inbox = await deliver(db, clock)
    # His phone was also told that someone linked her NIK elsewhere (her own phone).
    assert [t for t in inbox.texts("u1") if "Ibu Siti Aminah tercatat sampai" in t] != []
    assert inbox.texts("siti") == []  # her opt-out holds on her chat


async def test_one_link_asks_nothing_and_names_nobody_else(
    chat: ChatDriver, db: Database, his_phone: Household
) -> None:
    for entry in ("Cek kepesertaan", "Bisa ikut program?"):
        await chat.send("menu")
        await chat.tap(entry)
        chat.expect_not(WHOM)
    chat.expect("Bapak/Ibu sudah terdaftar dan dilindungi.")
    await chat.send("menu")
    await chat.tap("Lapor kecelakaan")
    chat.expect_choices("Saya sendiri", "Orang lain")


async def test_eligibility_on_a_household_phone_speaks_of_the_person_chosen(
    chat: ChatDriver, db: Database, household: Household
) -> None:
    await chat.send("menu")
    await chat.tap("Bisa ikut program?")
    chat.expect(WHOM)
    chat.expect_choices("Bapak Sutrisno", "Ibu Siti Aminah", "Orang lain")
    await chat.tap("Ibu Siti Aminah")
    chat.expect("Ibu Siti Aminah sudah terdaftar dan dilindungi.")
    chat.expect_not("Bapak/Ibu sudah terdaftar")
    await chat.send("menu")
    await chat.tap("Bisa ikut program?")
    await chat.tap("Orang lain")
    chat.expect("Berapa umur Bapak/Ibu?")


async def test_cek_istri_saya_on_his_phone_alone_offers_to_link_her_then_shows_her(
    chat: ChatDriver, db: Database, his_phone: Household
) -> None:
    await chat.send("cek istri saya")
    chat.expect("Data istri belum terhubung dengan nomor ini")
    await chat.tap("Hubungkan")
    chat.expect("Ketik NIK orang yang akan ditambahkan")
    await chat.send(SITI)
    await chat.send("12-03-1982")
    await chat.tap("Kirim nomor HP")
    await chat.contact(PHONE)
    chat.expect("juga terhubung dengan data Ibu Siti Aminah", "Ibu Siti Aminah DILINDUNGI")


async def test_my_claims_and_data_correction_are_for_the_person_chosen(
    chat: ChatDriver, db: Database, household: Household
) -> None:
    _husband, wife = household
    await file_jkk_for_wife(chat)
    await chat.send("menu")
    await chat.tap("Klaim saya")
    chat.expect(WHOM)
    await chat.tap("Bapak Sutrisno")
    chat.expect("Belum ada laporan dari nomor ini.")
    await chat.send("menu")
    await chat.tap("Klaim saya")
    await chat.tap("Ibu Siti Aminah")
    chat.expect("(kecelakaan kerja,")
    # Data correction about her: the ticket is about her.
    await chat.send("menu")
    await chat.tap("Pengaturan")
    await chat.tap("Data saya")
    chat.expect(WHOM)
    await chat.tap("Ibu Siti Aminah")
    chat.expect("Data Ibu Siti Aminah: NIK 3509********0002")
    await chat.tap("Data saya salah")
    await chat.send("nama istri saya salah tulis, harusnya Siti Aminah binti Kasim")
    chat.expect("tiket T-")
    async with db.read() as r:
        assert await r.scalar("SELECT worker_id FROM tickets") == wife


async def test_unlinking_one_leaves_the_other_and_she_can_link_again_later(
    chat: ChatDriver, db: Database, household: Household
) -> None:
    _husband, wife = household
    await chat.send("menu")
    await chat.tap("Pengaturan")
    await chat.tap("Lepaskan nomor ini")
    chat.expect("Lepaskan data siapa dari nomor ini?")
    chat.expect_choices("Bapak Sutrisno", "Ibu Siti Aminah", "Semua")
    await chat.tap("Ibu Siti Aminah")
    chat.expect("Lepaskan nomor ini dari data Ibu Siti Aminah?")
    await chat.tap("Ya, lepaskan")
    chat.expect("Sudah dilepas: nomor ini tidak lagi terhubung dengan data Ibu Siti Aminah")
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    chat.expect_not(WHOM)
    chat.expect("Bapak Sutrisno DILINDUNGI")
    async with db.read() as r:
        audit = await r.one(
            "SELECT actor_kind, target_id FROM audit_log WHERE action = 'link.removed'"
        )
    assert audit is not None
    assert (audit["actor_kind"], audit["target_id"]) == ("chat", str(wife))
    # Later she is linked again, as before.
    await add_person(chat, SITI, "12-03-1982")
    chat.expect("juga terhubung dengan data Ibu Siti Aminah")


async def test_unlinking_everyone_returns_the_phone_to_a_stranger_state(
    chat: ChatDriver, db: Database, household: Household
) -> None:
    await file_jkk_for_wife(chat)
    await chat.send("menu")
    await chat.tap("Pengaturan")
    await chat.tap("Lepaskan nomor ini")
    await chat.tap("Semua")
    chat.expect("Lepaskan nomor ini dari data semua orang (Bapak Sutrisno, Ibu Siti Aminah)?")
    await chat.tap("Ya, lepaskan")
    chat.expect("Sudah dilepas")
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    chat.expect("Ketik NIK")
    await chat.send("menu")
    await chat.tap("Klaim saya")
    # The next holder of the number does not see what was filed before.
    chat.expect("Belum ada laporan dari nomor ini.")


async def test_a_seventh_link_is_refused_in_plain_words(chat: ChatDriver, db: Database) -> None:
    await seed(db, nik=SUTRISNO, name="Sutrisno", birth="1978-05-15", sex="L")
    family = [(f"350927{10 + i:02d}0600{i:04d}", f"Anak {i}", f"2006-06-{10 + i:02d}") for i in
              range(1, 7)]  # fmt: skip
    for nik, name, birth in family:
        await seed(db, nik=nik, name=name, birth=birth, sex="L")
    await link_self(chat)
    for nik, _name, birth in family[:5]:
        day, month, year = birth[8:], birth[5:7], birth[:4]
        await add_person(chat, nik, f"{day}-{month}-{year}")
        chat.expect("juga terhubung")
    async with db.read() as r:
        assert await r.scalar("SELECT COUNT(*) FROM chat_links") == 6
    await chat.send("menu")
    await chat.tap("Pengaturan")
    await chat.tap("Tambah keluarga")
    chat.expect("Nomor ini sudah terhubung dengan 6 orang, batas paling banyak")
    chat.expect("Lepaskan nomor ini")
    async with db.read() as r:
        assert await r.scalar("SELECT COUNT(*) FROM chat_links") == 6


@pytest.mark.parametrize("limit", [2])
async def test_the_limit_is_the_setting(
    chat: ChatDriver, db: Database, limit: int, household: Household
) -> None:
    chat.engine.max_links_per_chat = limit
    await seed(db, nik=NEIGHBOUR, name="Suwarni", birth="1985-07-04", sex="P")
    await chat.send("menu")
    await chat.tap("Pengaturan")
    await chat.tap("Tambah keluarga")
    chat.expect(f"sudah terhubung dengan {limit} orang")


async def test_the_kk_number_links_a_family_member_but_not_another_household(
    chat: ChatDriver, db: Database
) -> None:
    await seed(db, nik=SUTRISNO, name="Sutrisno", birth="1978-05-15", sex="L")
    await seed(db, nik=SITI, name="Siti Aminah", birth="1982-03-12", sex="P", phone=None)
    await seed(
        db,
        nik=NEIGHBOUR,
        name="Suwarni",
        birth="1985-07-04",
        sex="P",
        phone="+6285200000003",
        kk="3509270101090099",
    )
    await link_self(chat)
    # The wife, same KK: the family card proves her.
    await chat.send("menu")
    await chat.tap("Pengaturan")
    await chat.tap("Tambah keluarga")
    await chat.send(SITI)
    await chat.send("12-03-1982")
    chat.expect_choices("Nomor KK")
    await chat.tap("Nomor KK")
    await chat.send(KK)
    chat.expect("juga terhubung dengan data Ibu Siti Aminah")
    # A neighbour of another household: her KK number is not offered, and not accepted.
    await chat.send("menu")
    await chat.tap("Pengaturan")
    await chat.tap("Tambah keluarga")
    await chat.send(NEIGHBOUR)
    await chat.send("04-07-1985")
    chat.expect(PENDING)
    assert "kk" not in [cid for cid, _ in chat.choices()]
    chat.expect_choices("Kirim nomor HP", "Nomor kartu KPJ", "Lewat pendamping")
    async with db.tx() as tx:
        with pytest.raises(NotAuthorised):
            await services.verify_by_fact(
                tx,
                chat_id=1,
                kind="kk",
                value="3509270101090099",
                now=chat.clock(),
                channel="terminal",
            )
    async with db.read() as r:
        assert await r.scalar("SELECT COUNT(*) FROM chat_links") == 2


async def test_the_facilitator_adds_a_household_member_in_person(
    chat: ChatDriver, db: Database, clock: FixedClock
) -> None:
    from lingkaran_core.facilitators import create_facilitator

    husband = await seed(db, nik=SUTRISNO, name="Sutrisno", birth="1978-05-15", sex="L")
    wife = await seed(db, nik=SITI, name="Siti Aminah", birth="1982-03-12", sex="P", phone=None)
    async with db.tx() as tx:
        await create_facilitator(
            tx,
            name="Bu Rina",
            phone=None,
            scope_kind="desa",
            scope_code=SUKORENO_KALISAT,
            now=clock(),
            code="K7QM4XPT",
        )
    fac = ChatDriver(engine=chat.engine, clock=clock, channel="telegram", user="fac1")
    await fac.send("K7QM4XPT")
    fac.expect("Kode diterima")
    await link_self(chat)
    await chat.send("menu")
    await chat.tap("Pengaturan")
    await chat.tap("Tambah keluarga")
    await chat.send(SITI)
    await chat.send("12-03-1982")
    await chat.tap("Lewat pendamping")
    code = chat.text.split("Kode verifikasi: ")[1][:6]
    await fac.send("menu")
    await fac.tap("Verifikasi pekerja")
    await fac.send(code)
    fac.expect("Ibu Siti Aminah", "HP itu sudah terhubung dengan data 1 orang lain")
    await fac.tap("Ya")
    fac.expect("sudah terhubung")
    async with db.read() as r:
        links = await r.all("SELECT worker_id, factor, facilitator_id FROM chat_links ORDER BY id")
        told = await r.one("SELECT params FROM outbox WHERE msg_key = 'identity.verified'")
    assert [(x["worker_id"], x["factor"]) for x in links] == [
        (husband, "channel_phone"),
        (wife, "facilitator"),
    ]
    assert links[1]["facilitator_id"] is not None
    assert told is not None
    assert "Siti Aminah" in told["params"]
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    chat.expect(WHOM)


async def test_staff_list_and_remove_links_with_the_admin_command_line(
    chat: ChatDriver,
    db: Database,
    db_path: Path,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    household: Household,
) -> None:
    import asyncio

    from conftest import settings_for

    from lingkaran.channels.admin_cli import main

    async def admin(*argv: str) -> tuple[int, str]:
        code = await asyncio.to_thread(
            main, [*argv, "--db", str(db_path)], settings=settings_for(), clock=clock
        )
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return code, captured.out + captured.err

    _husband, wife = household
    code, text = await admin("links", "show", SITI)
    assert code == 0
    assert "Siti Aminah" in text
    assert "channel_phone" in text
    assert SITI not in text
    code, text = await admin("links", "chat", "1")
    assert code == 0
    assert "Sutrisno" in text
    assert "Siti Aminah" in text
    assert "3509********0002" in text
    code, text = await admin("links", "remove", "1")
    assert code == 2
    code, text = await admin("links", "remove", "1", "--nik", SITI)
    assert code == 0
    assert f"removed the link to worker #{wife}; still linked to 1" in text
    async with db.read() as r:
        audit = await r.one(
            "SELECT actor_kind, channel FROM audit_log WHERE action = 'link.removed'"
        )
    assert audit is not None
    assert (audit["actor_kind"], audit["channel"]) == ("admin", "admin")
    code, text = await admin("links", "remove", "1", "--nik", SITI)
    assert code == 1
    code, text = await admin("links", "remove", "1", "--all")
    assert code == 0
    assert "no link left" in text
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    chat.expect("Ketik NIK")


async def test_the_only_link_can_be_released_and_the_prompt_says_what_goes(
    chat: ChatDriver, db: Database, his_phone: Household
) -> None:
    await chat.send("menu")
    await chat.tap("Pengaturan")
    await chat.tap("Lepaskan nomor ini")
    chat.expect(
        "Lepaskan nomor ini dari data Bapak Sutrisno?",
        "Laporan yang dulu dikirim dari nomor ini juga tidak tampil lagi",
    )
    await chat.tap("Tidak")
    chat.expect("Baik, tidak ada yang dilepas.")
    await chat.send("menu")
    await chat.tap("Pengaturan")
    await chat.tap("Lepaskan nomor ini")
    await chat.tap("Ya, lepaskan")
    chat.expect("Sudah dilepas: nomor ini tidak lagi terhubung dengan data Bapak Sutrisno")
    await chat.send("menu")
    await chat.tap("Pengaturan")
    chat.expect_not("Lepaskan nomor ini")


async def test_on_whatsapp_the_roster_phone_proves_everyone_whose_roster_phone_it_is(
    engine: Engine, db: Database, clock: FixedClock, workers: Household
) -> None:
    wa = ChatDriver(engine=engine, clock=clock, channel="whatsapp", user=PHONE.lstrip("+"))
    await wa.send("menu")
    await wa.tap("Cek kepesertaan")
    await wa.send(SUTRISNO)
    await wa.send("15-05-1978")
    wa.expect("Nomor ini kini terhubung", "Bapak Sutrisno DILINDUNGI")
    await wa.send("cek istri saya")
    wa.expect("Data istri belum terhubung")
    await wa.tap("Hubungkan")
    await wa.send(SITI)
    await wa.send("12-03-1982")
    wa.expect("juga terhubung dengan data Ibu Siti Aminah", "Ibu Siti Aminah DILINDUNGI")
    wa.expect_not(PENDING)
    async with db.read() as r:
        factors = await r.all("SELECT factor FROM chat_links ORDER BY id")
    assert [f["factor"] for f in factors] == ["channel_phone", "channel_phone"]
