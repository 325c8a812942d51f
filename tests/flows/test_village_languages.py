"""Javanese and Madurese: offered when a user writes in them, chosen in the menu, and the worker
and heir flows (coverage check, accident report, death report) in each, end to end."""

from __future__ import annotations

import json

import pytest
from conftest import ChatDriver, FixedClock

from handlers.engine import Engine
from handlers.language_offer import OFFER_TURNS, detect
from lingkaran_core.facilitators import create_facilitator
from lingkaran_core.storage import Database

SUTRISNO = "3509271505780001"  # Kec. Kalisat, man, 15-05-1978, on the roster
PAIMIN = "3509270101600004"  # Kec. Kalisat, man, 1-01-1960, on the roster
SUMIATI = "3509274505650002"  # his widow
SUKORENO_KALISAT = "35.09.27.2002"
PHONE = "+6281234567890"

# Words that must not be left in Indonesian once a chat reads jv or mad (programme terms such as
# "kecelakaan kerja", "Pemkab Jember" or "BPJS Ketenagakerjaan" stay, by design).
INDONESIAN = ("silakan", "mohon", "terima kasih", "sudah ", "belum ", "tidak ", "apakah")

# What each language says at the points the transcripts check (the catalogs' own wording).
WORDS = {
    "jv": {
        "name": "Basa Jawa",
        "switched": "Basa sampun diganti dados Basa Jawa.",
        "menu": "Menu utama. Monggo dipilih",
        "report_death": "Lapor tiyang seda",
        "ask_nik": "Kami cocokaken data Bapak/Ibu rumiyin. Ketik NIK",
        "ask_birth": "Kapan tanggal lairipun Bapak/Ibu?",
        "pending": "Data dereng kami tampilaken.",
        "send_phone": "Kirim nomer HP",
        "linked": "Data cocok. Nomer niki sakniki sampun kahubung kaliyan data Bapak/Ibu.",
        "protected": "Bapak Sutrisno DILINDHUNGI ngantos 31 Desember 2026",
        "no_pay": "Bapak/Ibu mboten perlu mbayar nopo-nopo.",
        "jkk_open": "Kami bantu lapor kecelakaan kerja",
        "who": "Sinten sing kecelakaan?",
        "someone_else": "Tiyang sanes",
        "ask_subject_nik": "NIK tiyang sing kecelakaan pinten?",
        "ask_subject_name": "Sinten namine tiyang sing kecelakaan, sesuai KTP?",
        "when": "Kapan kecelakaane kelampahan?",
        "yesterday": "Wingi",
        "what_time": "Kinten-kinten jam pinten?",
        "midday": "Siang",
        "where": "Teng pundi kedadosane?",
        "traffic": "kecelakaan lalu lintas",
        "no": "Mboten",
        "what": "Nopo sing kelampahan?",
        "condition": "Pripun kahanane sakniki?",
        "inpatient": "Rawat inap",
        "hospital": "Teng rumah sakit utawi puskesmas pundi?",
        "phone": "Nomer HP sing saget dihubungi petugas?",
        "check": "Monggo dipriksa:",
        "when_where": "- 24 November 2026, 12:00, teng gudang mbako teng Sukoreno",
        "treated_at": "- Dirawat teng rsd soebandi",
        "correct": "Sampun leres?",
        "send": "Kirim",
        "sent": "Sampun kekirim. Nomer laporan: {ref}. Monggo disimpen.",
        "check_on_date": "Petugas Pemkab badhe ngecek kepesertaan pas tanggal kedadosan",
        "stage_one": "Laporan niki pemberitahuan tahap I (NIK, kronologi, nomer kontak).",
        "stage_two": "Tahap II (klaim santunan) diwiwiti sakmpune dokter nyatakaken mantun utawi cacat.",
        "doctor_says": "Dokter sampun netepaken",
        "deadline": "sajroning 2×24 jam, inggih punika sakderenge 26 November 2026 12:00",
        "docs": "Dokumen sing perlu difoto:",
        "witnesses": "Crita kedadosan + KTP 2 saksi",
        "no_police": "Surat polisi mboten perlu",
        "condolence": "Kami tumut bela sungkawa.",
        "cause": "utawi seda dadakan pas nyambut damel? Santunane benten.",
        "work_accident": "Nggih, kec. kerja",
        "illness": "Mboten: sakit/sanes",
        "sudden": "Dadakan pas kerja",
        "sudden_is_jkk": "Seda dadakan amargi pedamelan kalebet kecelakaan kerja (JKK).",
        "what_sudden": "nembe nyambut damel nopo, teng pundi, lajeng nopo",
        "late": "Laporan niki langkung saking 2×24 jam wiwit kecelakaan.",
        "jkk_death": "santunane (kangge penghasilan Rp1.000.000 sewulan): Rp48.000.000 santunan kematian",
        "doctor_letter": "Surat dokter (KK3/3b)",
        "receipt": "Kuitansi (menawi mbayar piyambak)",
        "died_when": "Kapan panjenenganipun seda?",
        "relation": "Nopo hubungane Bapak/Ibu kaliyan almarhum/almarhumah?",
        "child": "Anak",
        "ask_deceased_nik": "NIK almarhum/almarhumah pinten?",
        "ask_deceased_name": "Sinten asmanipun almarhum/almarhumah",
        "heir": "Sinten ahli warise",
        "spouse_of_deceased": "Garwane almarhum",
        "heir_name": "Sinten nami jangkepe ahli waris",
        "heir_nik": "NIK ahli waris pinten?",
        "children": "Nopo wonten putrane almarhum",
        "yes": "Nggih",
        "heir_phone": "Nomer HP ahli waris",
        "confirm_death": "Kirim laporan seda kangge Paimin (NIK 3509********0004), seda 3 November 2026?",
        "heir_line": "Ahli waris: Sumiati. Nomer HP: +6281234567890.",
        "benefit": "Menawi kepesertaan aktif tanggal 3 November 2026, santunane Rp42.000.000",
        "marriage": "Buku nikah",
        "scholarship_period": "(kepesertaan sakderenge tumut diitung)",
    },
    "mad": {
        "name": "Bhâsa Madhurâ",
        "switched": "Bhâsa ampon èghântè dhâddhi Bhâsa Madhurâ.",
        "menu": "Menu utama. Ngèrèng èpèlè",
        "report_death": "Lapor orèng seda",
        "ask_nik": "Kaulâ cocoghâghi data Bapak/Ibu dhimen. Ketik NIK",
        "ask_birth": "Bilâ tangghâl lahèrra Bapak/Ibu?",
        "pending": "Data dhereng ètampèlaghi.",
        "send_phone": "Kèrèm nomer HP",
        "linked": "Data cocok. Nomer paneka samangkèn ampon nyambung sareng data Bapak/Ibu.",
        "protected": "Bapak Sutrisno ÈLINDHUNGI sampè' 31 Desember 2026",
        "no_pay": "Bapak/Ibu bhunten parlo majâr ponapa bhâi.",
        "jkk_open": "Kaulâ bhântoh lapor kecelakaan kerja",
        "who": "Sèra sè cilaka?",
        "someone_else": "Orèng laèn",
        "ask_subject_nik": "NIK-na orèng sè cilaka saponapa?",
        "ask_subject_name": "Sèra nyamana orèng sè cilaka, sesuai KTP?",
        "when": "Bilâ kecelakaanna kadhâddhiyân?",
        "yesterday": "Bâ'ari",
        "what_time": "Kèra-kèra pokol saponapa?",
        "midday": "Siang",
        "where": "È dhimma kadhâddhiyânna?",
        "traffic": "kecelakaan lalu lintas",
        "no": "Bhunten",
        "what": "Ponapa sè kadhâddhiyân?",
        "condition": "Kadhiponapa kondisina samangkèn?",
        "inpatient": "Èrawat inap",
        "hospital": "È rumah sakit otabâ puskesmas dhimma?",
        "phone": "Nomer HP sè bisa èhubungi petugas?",
        "check": "Ngèrèng èparèksa:",
        "when_where": "- 24 November 2026, 12:00, è gudang mbako teng Sukoreno",
        "treated_at": "- Èrawat è rsd soebandi",
        "correct": "Ampon lerres?",
        "send": "Kèrèm",
        "sent": "Ampon takèrèm. Nomer laporan: {ref}. Ngèrèng èsèmpen.",
        "check_on_date": "Petugas Pemkab bhâkal ngecek kepesertaan è tangghâl kadhâddhiyân",
        "stage_one": "Laporan paneka pemberitahuan tahap I (NIK, kronologi, nomer kontak).",
        "stage_two": "Tahap II (klaim santunan) èmolaè samarèna dokter nyatakaghi bâras otabâ cacat.",
        "doctor_says": "Dokter ampon nyatakaghi",
        "deadline": "dâlem 2×24 jam, engghi ganèka sabelluna 26 November 2026 12:00",
        "docs": "Dokumen sè parlo èfoto:",
        "witnesses": "Carèta kadhâddhiyân + KTP 2 saksi",
        "no_police": "Surat polisi bhunten parlo",
        "condolence": "Kaulâ norok abelasungkawa.",
        "cause": "otabâ seda ngadhâdhâk è bâkto alakoh? Santunanna bhidhâ.",
        "work_accident": "Engghi, kec. kerja",
        "illness": "Bhunten: sakit/laèn",
        "sudden": "Ngadhâdhâk alakoh",
        "sudden_is_jkk": "Seda ngadhâdhâk amarghâ lalakon tamaso' kecelakaan kerja (JKK).",
        "what_sudden": "ghi' alakoh ponapa, è dhimma, lajhu ponapa",
        "late": "Laporan paneka lebbi dâri 2×24 jam dâri kecelakaan.",
        "jkk_death": "santunanna (kaangghuy penghasilan Rp1.000.000 sabulân): Rp48.000.000 santunan kematian",
        "doctor_letter": "Surat dokter (KK3/3b)",
        "receipt": "Kuitansi (manabi majâr dhibi')",
        "died_when": "Bilâ almarhum/almarhumah seda?",
        "relation": "Ponapa hubunganna Bapak/Ibu sareng almarhum/almarhumah?",
        "child": "Ana'",
        "ask_deceased_nik": "NIK-na almarhum/almarhumah saponapa?",
        "ask_deceased_name": "Sèra nyamana almarhum/almarhumah",
        "heir": "Sèra ahli warisna",
        "spouse_of_deceased": "Binè'/lakè'na",
        "heir_name": "Sèra nyama lengkapna ahli waris",
        "heir_nik": "NIK-na ahli waris saponapa?",
        "children": "Ponapa bâdâ ana'na almarhum",
        "yes": "Engghi",
        "heir_phone": "Nomer HP ahli waris",
        "confirm_death": "Kèrèm laporan seda kaangghuy Paimin (NIK 3509********0004), seda 3 November 2026?",
        "heir_line": "Ahli waris: Sumiati. Nomer HP: +6281234567890.",
        "benefit": "Manabi kepesertaan aktif è tangghâl 3 November 2026, santunanna Rp42.000.000",
        "marriage": "Buku nikah",
        "scholarship_period": "(kepesertaan sabelluna norok èètong)",
    },
}
LANGS = tuple(WORDS)


async def seed_worker(
    db: Database, *, nik: str = SUTRISNO, name: str = "Sutrisno", birth: str = "1978-05-15"
) -> int:
    async with db.tx() as tx:
        return await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, registration_status, phone, created_at, updated_at) "
            "VALUES (?, ?, ?, 'L', ?, 'buruh_tani_tembakau', '2025-12-01', '2026-12-31', "
            "'verified', ?, '2025-12-01', '2025-12-01')",
            (nik, name, birth, SUKORENO_KALISAT, PHONE),
        )


async def language_of(db: Database, user: str = "u1") -> str:
    async with db.tx() as tx:
        return str(await tx.scalar("SELECT language FROM chats WHERE user_ref = ?", (user,)))


async def choose_language(chat: ChatDriver, lang: str) -> None:
    """The language menu (typed BAHASA) offers both, each named in itself."""
    await chat.send("bahasa")
    chat.expect_choices("Bahasa Indonesia", "English", "Basa Jawa", "Bhâsa Madhurâ")
    await chat.tap(WORDS[lang]["name"])
    chat.expect(WORDS[lang]["switched"])
    chat.expect_choices(WORDS[lang]["report_death"])  # the menu, in that language


def offered(chat: ChatDriver) -> list[str]:
    """The language buttons offered in the last replies."""
    return [c.id for r in chat.replies for c in r.choices if c.id.startswith("lang:")]


def assert_no_indonesian(chat: ChatDriver) -> None:
    text = chat.text.lower()
    left = [w for w in INDONESIAN if w in text]
    assert not left, f"Indonesian words {left} in:\n{chat.text}"


# ---------------------------------------------------------------------------------------------
# Offered, never switched silently


@pytest.mark.parametrize(
    ("first", "lang"),
    [
        ("aku keno ulo pas ning tegal", "jv"),
        ("kulo badhe tanglet babagan bpjs", "jv"),
        ("bojoku tilar donya wingi", "jv"),
        ("kaula terro atanya", "mad"),
        ("lakèh kaulâ seda bâ'ari", "mad"),
        ("bedeh se cilaka e sabah", "mad"),
    ],
)
async def test_a_first_message_in_javanese_or_madurese_gets_the_offer(
    chat: ChatDriver, db: Database, first: str, lang: str
) -> None:
    await chat.send(first)
    assert offered(chat) == [f"lang:{lang}", "lang:id"]
    offer = next(r for r in chat.replies if r.choices and r.choices[0].id.startswith("lang:"))
    # In the language itself, with the Indonesian below; the step's question stays last.
    assert offer.text.startswith("Bapak/Ibu n")
    assert "(Bapak/Ibu menulis dalam bahasa" in offer.text
    assert not chat.replies[-1].choices[0].id.startswith("lang:")
    assert await language_of(db) == "id"  # not switched silently
    await chat.press(f"lang:{lang}", chat.token())
    # The question the first message led to is asked again, in the new language.
    chat.expect(WORDS[lang]["switched"])
    assert_no_indonesian(chat)
    assert await language_of(db) == lang
    await chat.send("menu")
    chat.expect(WORDS[lang]["menu"])
    chat.expect_choices(WORDS[lang]["report_death"])


@pytest.mark.parametrize(
    "first",
    ["halo", "saya nelayan apa bisa ikut?", "suami saya meninggal kemarin", "sudah bayar lho, wis"],
)
async def test_indonesian_gets_no_offer(chat: ChatDriver, first: str) -> None:
    await chat.send(first)
    assert offered(chat) == []


async def test_keeping_indonesian_ends_the_offers(chat: ChatDriver, db: Database) -> None:
    await chat.send("kulo badhe tanglet")
    await chat.press("lang:id", chat.token())
    chat.expect("Baik, kami tetap memakai Bahasa Indonesia. Ketik BAHASA untuk mengganti.")
    # "badhe tanglet" (I want to ask) was understood: the question it opened is asked again.
    chat.expect("untuk petugas")
    await chat.send("kulo badhe tanglet malih")
    assert offered(chat) == []
    assert await language_of(db) == "id"


async def test_the_offer_is_made_only_in_the_first_turns(chat: ChatDriver) -> None:
    for _ in range(OFFER_TURNS + 1):
        await chat.send("menu")
    await chat.send("aku keno ulo pas ning tegal")
    assert offered(chat) == []


async def test_typing_basa_jawa_switches_and_asks_the_pending_question_again(
    chat: ChatDriver, db: Database
) -> None:
    await chat.send("menu")
    await chat.tap("Lapor kecelakaan")
    await chat.send("basa jawa")
    chat.expect(WORDS["jv"]["switched"], WORDS["jv"]["who"])
    assert await language_of(db) == "jv"


async def test_a_facilitator_is_not_offered_a_language(
    engine: Engine, clock: FixedClock, db: Database
) -> None:
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
    fac = ChatDriver(engine=engine, clock=clock, user="fac1")
    await fac.send("K7QM4XPT")
    fac.expect("Kode diterima")
    await fac.send("kulo badhe tanglet")
    assert offered(fac) == []


def test_the_detector_tells_the_two_languages_apart() -> None:
    assert detect("ora iso mlebu") == ("jv",)
    assert detect("engghi, bhunten") == ("mad",)
    assert detect("sampeyan enggih") == ("jv", "mad")  # shared words: offer both
    assert detect("NIK saya 3509271505780001") == ()


# ---------------------------------------------------------------------------------------------
# The flows, end to end, in each language


@pytest.mark.parametrize("lang", LANGS)
async def test_coverage_check(chat: ChatDriver, db: Database, lang: str) -> None:
    w = WORDS[lang]
    await seed_worker(db)
    await choose_language(chat, lang)
    await chat.tap("Cek kepesertaan")
    chat.expect(w["ask_nik"])
    await chat.send(SUTRISNO)
    chat.expect(w["ask_birth"])
    await chat.send("15-05-1978")
    chat.expect(w["pending"])
    chat.expect_not("Sutrisno")
    await chat.tap(w["send_phone"])
    await chat.contact(PHONE)
    chat.expect(w["linked"], w["protected"], "Rp42.000.000", "Pemkab Jember", w["no_pay"])
    assert_no_indonesian(chat)
    # Linked: the next check needs no NIK, and still reads in the chosen language.
    await chat.tap("Cek kepesertaan")
    chat.expect(w["protected"])
    assert_no_indonesian(chat)


@pytest.mark.parametrize("lang", LANGS)
async def test_accident_report(chat: ChatDriver, db: Database, lang: str) -> None:
    w = WORDS[lang]
    worker_id = await seed_worker(db)
    await choose_language(chat, lang)
    await chat.tap("Lapor kecelakaan")
    chat.expect(w["jkk_open"], w["who"])
    await chat.tap(w["someone_else"])
    chat.expect(w["ask_subject_nik"])
    await chat.send("3509 2715 0578 0001")
    chat.expect(w["ask_subject_name"])
    await chat.send("Sutrisno")
    chat.expect(w["when"])
    await chat.tap(w["yesterday"])
    chat.expect(w["what_time"])
    await chat.tap(w["midday"])
    chat.expect(w["where"])
    await chat.send("gudang mbako teng Sukoreno")
    chat.expect(w["traffic"])
    await chat.tap(w["no"])
    chat.expect(w["what"])
    await chat.send("tibo saking wit mbako, sikile patah")
    chat.expect(w["condition"])
    await chat.tap(w["inpatient"])
    chat.expect(w["hospital"])
    await chat.send("rsd soebandi")
    chat.expect(w["phone"])
    await chat.send("081234567890")
    chat.expect(
        w["check"],
        "- Sutrisno, NIK 3509********0001",
        w["when_where"],
        w["treated_at"],
        w["correct"],
    )
    assert_no_indonesian(chat)
    await chat.tap(w["send"])
    async with db.tx() as tx:
        claim = dict(await tx.one("SELECT * FROM claims"))
    chat.expect(w["sent"].format(ref=claim["ref"]), w["deadline"], w["docs"], w["witnesses"])
    chat.expect(w["no_police"])
    # Reported for someone else: coverage on the event date is not shown, the officer checks it;
    # the report is the stage I notice, stage II waits for the doctor.
    chat.expect(w["check_on_date"], w["stage_one"], w["stage_two"], f'"{w["doctor_says"]}"')
    assert_no_indonesian(chat)
    assert claim["type"] == "JKK"
    assert claim["subject_nik"] == SUTRISNO
    assert claim["worker_id"] == worker_id
    assert claim["event_at"] == "2026-11-24T12:00:00+07:00"
    assert json.loads(str(claim["answers"]))["traffic"] == "no"


@pytest.mark.parametrize("lang", LANGS)
async def test_death_report(chat: ChatDriver, db: Database, lang: str) -> None:
    w = WORDS[lang]
    worker_id = await seed_worker(db, nik=PAIMIN, name="Paimin", birth="1960-01-01")
    await choose_language(chat, lang)
    await chat.tap(w["report_death"])
    chat.expect(w["condolence"], w["cause"])
    chat.expect_choices(w["work_accident"], w["illness"], w["sudden"])
    assert_no_indonesian(chat)
    await chat.tap(w["illness"])
    chat.expect(w["died_when"])
    await chat.send("3-11-2026")
    chat.expect(w["relation"])
    await chat.tap(w["child"])
    await chat.send(PAIMIN)
    chat.expect(w["ask_deceased_name"])
    await chat.send("Paimin")
    chat.expect(w["heir"])
    await chat.tap(w["spouse_of_deceased"])
    chat.expect(w["heir_name"])
    await chat.send("Sumiati")
    chat.expect(w["heir_nik"])
    await chat.send(SUMIATI)
    chat.expect(w["children"])
    await chat.tap(w["yes"])
    chat.expect(w["heir_phone"])
    await chat.send("081234567890")
    chat.expect(w["confirm_death"], w["heir_line"])
    assert_no_indonesian(chat)
    await chat.tap(w["send"])
    async with db.tx() as tx:
        claim = dict(await tx.one("SELECT * FROM claims"))
    chat.expect(w["sent"].format(ref=claim["ref"]), w["benefit"], w["docs"], w["marriage"])
    chat.expect(w["scholarship_period"])  # the scholarship counts earlier membership too
    assert_no_indonesian(chat)
    assert claim["type"] == "JKM"
    assert claim["subject_nik"] == PAIMIN
    assert claim["worker_id"] == worker_id
    assert claim["claimant_nik"] == SUMIATI
    assert claim["relation"] == "child"
    assert claim["event_date"] == "2026-11-03"


@pytest.mark.parametrize("lang", LANGS)
async def test_sudden_death_at_work_is_reported_as_a_work_accident(
    chat: ChatDriver, db: Database, lang: str
) -> None:
    w = WORDS[lang]
    worker_id = await seed_worker(db, nik=PAIMIN, name="Paimin", birth="1960-01-01")
    await choose_language(chat, lang)
    await chat.tap(w["report_death"])
    await chat.tap(w["sudden"])
    chat.expect(w["sudden_is_jkk"], w["ask_deceased_nik"])
    assert_no_indonesian(chat)
    await chat.send(PAIMIN)
    chat.expect(w["ask_deceased_name"])
    await chat.send("Paimin")
    chat.expect(w["died_when"])
    await chat.send("3-11-2026")
    chat.expect(w["what_time"])
    await chat.tap(w["midday"])
    chat.expect(w["where"])
    await chat.send("sawah teng Sukoreno")
    chat.expect(w["what"], w["what_sudden"])  # no traffic question for a sudden death
    await chat.send("semaput pas macul lajeng seda")
    chat.expect(w["relation"])
    await chat.tap(w["child"])
    chat.expect(w["phone"])
    await chat.send("081234567890")
    chat.expect(w["check"], "- Paimin, NIK 3509********0004", w["correct"])
    assert_no_indonesian(chat)
    await chat.tap(w["send"])
    async with db.tx() as tx:
        claim = dict(await tx.one("SELECT * FROM claims"))
    chat.expect(w["sent"].format(ref=claim["ref"]), w["check_on_date"], w["late"], w["jkk_death"])
    chat.expect(w["docs"], w["witnesses"], w["doctor_letter"], w["receipt"], w["no_police"])
    assert_no_indonesian(chat)
    assert claim["type"] == "JKK"
    assert claim["subject_nik"] == PAIMIN
    assert claim["worker_id"] == worker_id
    assert claim["event_at"] == "2026-11-03T12:00:00+07:00"


# Written after the word lists, not tuned on (measured: jv 29/30, mad 29/30, Indonesian 0/40
# wrongly offered). Kept as a floor: the detector may only get better.
HELD_OUT = {
    "jv": [
        "aku keno ulo pas ning tegal", "bojoku tilar donya wingi", "piye carane daftar",
        "kulo badhe tanglet", "bapak kulo sedo", "sampeyan iso mbantu ta",
        "aku wis mbayar opo durung", "anakku tibo teko sepeda", "kulo dereng gadah kartu",
        "nopo kulo saget tumut", "bojo kulo kecelakan ning dalan", "mbok kulo sedo minggu wingi",
        "aku ora ngerti nik e", "piro santunane", "sopo sing iso ditakoni", "aku kerjo neng sawah",
        "wonten petugas mboten", "matur suwun nggih", "ngapunten kulo badhe lapor",
        "garwo kulo gerah", "omahku ning Sukowono", "aku gak duwe hp", "iki nomerku",
        "awakmu sopo", "kulo nyuwun tulung", "sikilku patah keno arit", "wingi sore aku tibo",
        "nek aku mati bojoku oleh opo", "kapan iso cair", "lek kecelakan lapor nang endi",
    ],
    "mad": [
        "engkok terro daftar", "kaula terro atanya", "lakeh kaula seda", "bede se cilaka e sabah",
        "ebu' kaula ampon seda", "been sapa", "sengkok ta' ngerteh", "kaula bhunten oneng nik",
        "anak kaula labu", "dimma kantorra", "berempah santunanna", "sakalangkong",
        "saporana kaula terro lapor", "bapak kaula mateh bâ'ari", "engghi", "bhunten",
        "kaula alakoh e tegal", "ponapa kaula tadaftar", "bini kaula sakek",
        "sengkok kenneng arit", "tadek hp", "mon cilaka lapor dimma", "reya nomerra kaula",
        "ngereng abhanto", "ampon majar", "abdina nyo'on tolong",
        "lakek kaula kacelakaan e jalan", "kaula ta' andi' kartu", "kapan cair pessena",
        "kanak kaula sakola",
    ],
    "id": [
        "halo", "selamat pagi", "saya nelayan apa bisa ikut?", "suami saya meninggal kemarin",
        "bagaimana cara daftar", "berapa santunannya", "saya jatuh dari pohon kelapa",
        "nik saya 3509271505780001", "Sutrisno", "tolong bantu saya", "kapan uangnya cair",
        "apakah saya terdaftar", "ibu saya sakit", "anak saya mau sekolah", "di mana kantornya",
        "saya tidak punya kartu", "terima kasih", "iya", "tidak", "gak jadi", "ndak tahu",
        "sudah bayar lho, wis", "menu", "batal", "rsd soebandi", "gudang tembakau di sukoreno",
        "buruh tani", "kaki saya patah", "ada yang minta transfer 200rb katanya dari bpjs",
        "bpjs kesehatan saya mati", "rumah sakit mana yang bisa", "my husband died",
        "do I have to pay", "aku mau daftar", "pak saya mau tanya", "istrinya", "tadi pagi",
        "minggu lalu", "36 th", "sd kelas 6",
    ],
}  # fmt: skip


def test_the_detector_on_held_out_messages() -> None:
    for lang in ("jv", "mad"):
        hits = sum(lang in detect(m) for m in HELD_OUT[lang])
        assert hits >= 29, (lang, hits)
    wrongly_offered = [m for m in HELD_OUT["id"] if detect(m)]
    assert not wrongly_offered
