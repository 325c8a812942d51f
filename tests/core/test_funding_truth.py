"""Telling the truth on the day (issue 14, items 1 and 3; DOMAIN.md §9).

* funded periods: the data says whether next month is funded, until when, or nothing is known;
  a reminder never promises payment beyond a known period;
* nothing is "unpaid" before its due day: sweeps on the 1st, 14th and 16th of a month;
* every rule labelled UNCONFIRMED in the rules data is listed here with where it reaches users,
  and what it renders is hedged, never a certainty.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handlers.eligibility import REASON_TEXT
from handlers.i18n import translator
from handlers.outbound import render
from lingkaran.channels.scheduler import run_sweep
from lingkaran_core import rules
from lingkaran_core.coverage import CoverageStatus, coverage_status
from lingkaran_core.eligibility import Reason
from lingkaran_core.funding import FundingPeriod, Outlook, outlook
from lingkaran_core.reminders import Kind
from lingkaran_core.storage import Database, funding_repo

SECTOR = "nelayan_tangkap"
DESA = "35.09.27.2002"


def _p(pid: int, start: str, end: str, sector: str | None = None) -> FundingPeriod:
    return FundingPeriod(
        id=pid,
        funder="Pemkab Jember",
        reference=f"SK-{pid}",
        starts_on=date.fromisoformat(start),
        ends_on=date.fromisoformat(end),
        sector=sector,
    )


# -- the funding outlook ------------------------------------------------------------------------


def test_touching_periods_are_one_span_and_next_month_is_funded() -> None:
    periods = [_p(1, "2026-01-01", "2026-06-30"), _p(2, "2026-07-01", "2027-06-30")]
    got = outlook(periods, sector=SECTOR, own_period_id=None, today=date(2026, 11, 20))
    assert got.outlook is Outlook.FUNDED
    assert got.funded_until == date(2027, 6, 30)


def test_funding_ending_before_next_month_is_said_so() -> None:
    periods = [_p(1, "2026-06-26", "2026-12-31")]
    got = outlook(periods, sector=SECTOR, own_period_id=None, today=date(2026, 12, 10))
    assert got.outlook is Outlook.ENDING
    assert got.funded_until == date(2026, 12, 31)


def test_a_gap_between_periods_is_not_bridged() -> None:
    periods = [_p(1, "2026-01-01", "2026-12-31"), _p(2, "2027-03-01", "2027-12-31")]
    got = outlook(periods, sector=SECTOR, own_period_id=None, today=date(2026, 12, 10))
    assert (got.outlook, got.funded_until) == (Outlook.ENDING, date(2026, 12, 31))


def test_periods_of_another_sector_or_another_worker_do_not_count() -> None:
    periods = [_p(1, "2026-01-01", "2027-12-31", sector="buruh_tani_tembakau")]
    assert outlook(periods, sector=SECTOR, own_period_id=None, today=date(2026, 12, 1)).outlook is (
        Outlook.UNKNOWN
    )
    own = [_p(1, "2026-01-01", "2027-12-31"), _p(9, "2026-09-01", "2026-12-31")]
    got = outlook(own, sector=SECTOR, own_period_id=9, today=date(2026, 12, 1))
    assert (got.outlook, got.funded_until) == (Outlook.ENDING, date(2026, 12, 31))


# -- reminder sweeps on the 1st, 14th and 16th, and at the end of a funded period ---------------


async def _seed(db: Database, *, paid_through: str) -> None:
    t = "2026-01-01T00:00:00+00:00"
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO chats (id, channel, user_ref, language, created_at, last_inbound_at) "
            "VALUES (1, 'telegram', '1001', 'id', ?, ?)",
            (t, t),
        )
        await tx.execute(
            "INSERT INTO workers (id, nik, name, birth_date, sex, desa_code, sector, "
            "coverage_start, paid_through, registration_status, created_at, updated_at) VALUES "
            "(1, '3509270101900001', 'A', '1990-01-01', 'L', ?, ?, '2026-01-01', ?, "
            "'verified', ?, ?)",
            (DESA, SECTOR, paid_through, t, t),
        )
        await tx.execute("UPDATE chats SET worker_id = 1 WHERE id = 1")


def _wib(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+07:00").astimezone(UTC)


async def _queued(db: Database) -> list[tuple[str, dict[str, Any]]]:
    import json

    async with db.read() as r:
        rows = await r.all(
            "SELECT msg_key, params FROM outbox WHERE channel = 'telegram' ORDER BY id"
        )
    return [(row[0], json.loads(row[1])) for row in rows]


async def _sweep(db: Database, day: str) -> None:
    await run_sweep(db, _wib(day), kinds=[Kind.COVERAGE], whatsapp_enabled=False)


async def test_nothing_is_unpaid_before_the_15th(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "d.db")
    try:
        await _seed(db, paid_through="2026-11-01")  # November paid; December due 15 Dec
        for day in ("2026-11-26", "2026-12-01", "2026-12-14", "2026-12-15"):
            await _sweep(db, day)
        queued = await _queued(db)
        assert [k for k, _ in queued] == ["reminder.coverage_ending"]  # once, no arrears
        key, params = queued[0]
        assert params["payment_due"] == "2026-12-15"
        text = render(key, params, "id").text
        assert "tercatat sampai 30 November 2026" in text
        assert "jatuh tempo 15 Desember 2026" in text
        assert "belum tercatat di data Pemkab" not in text
        await _sweep(db, "2026-12-16")
        queued = await _queued(db)
        assert [k for k, _ in queued] == ["reminder.coverage_ending", "reminder.arrears"]
        arrears = render(*queued[1], "id").text
        assert "Desember 2026 belum tercatat" in arrears
        assert "sedang memproses" not in arrears  # the bot cannot know that
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("ends", "outlook_word", "said", "not_said"),
    [
        ("2026-12-31", "ending", ("berakhir 31 Desember 2026", "Rp8.400"), ("didanai",)),
        (
            "2027-06-30",
            "funded",
            ("didanai Pemkab Jember (SK-1) sampai 30 Juni 2027",),
            ("Rp8.400",),
        ),
        (None, "unknown", ("belum mencatat pendanaan",), ("didanai", "Rp8.400")),
    ],
)
async def test_a_coverage_reminder_promises_nothing_beyond_a_known_funded_period(
    tmp_path: Path,
    ends: str | None,
    outlook_word: str,
    said: tuple[str, ...],
    not_said: tuple[str, ...],
) -> None:
    db = await Database.open(tmp_path / "d.db")
    try:
        await _seed(db, paid_through="2026-12-01")
        if ends is not None:
            async with db.tx() as tx:
                await funding_repo.add_period(
                    tx,
                    funder="Pemkab Jember",
                    reference="SK-1",
                    starts_on=date(2026, 6, 26),
                    ends_on=date.fromisoformat(ends),
                    sector=None,
                    now=_wib("2026-06-26"),
                )
        await _sweep(db, "2026-12-26")
        ((key, params),) = await _queued(db)
        assert params["funding"] == outlook_word
        text = render(key, params, "id").text
        for fragment in said:
            assert fragment in text
        for fragment in (*not_said, "Iuran berikutnya dibayar Pemkab"):
            assert fragment not in text
        assert "JMO" in text  # the official check
        english = render(key, params, "en").text
        assert english != text
    finally:
        await db.close()


# -- UNCONFIRMED rules reach users only hedged --------------------------------------------------

CERTAIN = (
    "perlindungan belum berlaku",
    "tidak dijamin",
    "tidak dilindungi",
    "tidak terlindungi",
    "tetap dilindungi",
    "masih dilindungi",
    "pasti",
    "sedang memproses",
)
HEDGES = (
    "Menurut data Pemkab",
    "perlu dicek",
    "Petugas sedang mengecek",
    "untuk dicek",
    "biasanya",
)


# Hedges in every language the bot speaks (the catalogs' own words for them).
HEDGES_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "id": (*HEDGES, "belum tentu"),
    "en": ("according to", "check", "usually", "not necessarily"),
    "jv": ("miturut", "ngecek", "dicek", "biasane", "biasanipun", "dereng mesthi"),
    "mad": ("manorot", "ngecek", "ècek", "biasana", "dhereng tanto"),
}
CERTAIN_EN = ("not protected", "still protected", "is covered", "definitely", "is processing")


def _says(phrase: str, lowered: str) -> bool:
    """``phrase`` as whole words in ``lowered`` ("pasti" is not in "kepastian")."""
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", lowered) is not None


def _coverage_texts(status: CoverageStatus) -> list[str]:
    from handlers.common import coverage_text

    class _W:
        registration_status = "verified"
        sex = "L"
        name = "Sutrisno"
        coverage_start = date(2025, 12, 1)

    class _Ctx:
        t = translator("id")
        today = date(2026, 11, 25)

    paid = {CoverageStatus.ARREARS: date(2026, 9, 1), CoverageStatus.NON_ACTIVE: date(2026, 5, 1)}
    cov = coverage_status(
        start=date(2025, 12, 1), paid_through=paid[status], today=date(2026, 11, 25)
    )
    assert cov.status is status
    return [coverage_text(_Ctx(), _W(), cov)]  # type: ignore[arg-type]


def _arrears_reminders() -> list[str]:
    return [
        render("reminder.arrears", {"month": "2026-10-01"}, "id").text,
        render("reminder.arrears", {"for": "facilitator", "count": 3}, "id").text,
    ]


def _stated(rule: str) -> list[str]:
    """Every sentence the flows mark as stating ``rule`` (handlers/sources.py), in Indonesian."""
    from handlers.registry import all_flows
    from handlers.sources import STATED

    all_flows()  # import every flow module, so every marked sentence is registered
    import handlers.facilitator.register  # the facilitator's registration flow
    import handlers.messages  # the domain errors' texts, imported lazily
    import handlers.outbound  # noqa: F401  (the reminder and notification texts)

    found = [translator("id")(msgid) for msgid, names in STATED.items() if rule in names]
    assert found, f"no sentence states {rule}"
    return found


# Every UNCONFIRMED rule, with the texts in which its decision reaches users (empty: it decides
# nothing a user reads, with the reason).
WHERE_RENDERED: dict[str, Any] = {
    "COVERED_DURING_ARREARS_RULE": lambda: [
        *_coverage_texts(CoverageStatus.ARREARS),
        *_arrears_reminders(),
        translator("id")(REASON_TEXT[Reason.COVERAGE_ARREARS]),
        *_stated("covered_during_arrears"),  # the advice after a report in an unpaid month
    ],
    "LAPSE_UNPAID_MONTHS_RULE": lambda: [
        *_coverage_texts(CoverageStatus.NON_ACTIVE),
        translator("id")(REASON_TEXT[Reason.COVERAGE_LAPSED]),
        *_stated("lapse_unpaid_months"),  # the advice after a report while non-active
    ],
    # The JKK report's note on weekends (handlers/claim_advice.py DAYS_OFF): "biasanya".
    "OPD_WORKDAYS_RULE": lambda: _stated("opd_workdays"),
    # Screening reasons and the facilitator's warning on a NIK from outside Jember.
    "JEMBER_RESIDENCY_RULE": lambda: _stated("jember_residency"),
    "OTHER_OCCUPATION_NEEDS_CHECK_RULE": lambda: _stated("other_occupation_needs_check"),
    "LAPSED_OR_EMPLOYER_MEMBER_NEEDS_CHECK_RULE": lambda: _stated(
        "lapsed_or_employer_member_needs_check"
    ),
    "REACTIVATION_WINDOW_MONTHS_RULE": lambda: [
        *_coverage_texts(CoverageStatus.ARREARS),
        *_coverage_texts(CoverageStatus.NON_ACTIVE),
    ],
    "MIN_AGE_RULE": lambda: [translator("id")(REASON_TEXT[Reason.AGE_UNDER_LIMIT])],
    # Decides no sentence: the DTSEN decile has no value.
    "DTSEN_MAX_DECILE_RULE": list,
    # The scholarship confirmation names the month: "yang biasanya mulai Juli 2027".
    "SCHOLARSHIP_REMINDER_MONTH_RULE": lambda: _stated("scholarship_reminder_month"),
    "SCHOLARSHIP_SCHOOL_YEAR_START_MONTH_RULE": lambda: _stated(
        "scholarship_school_year_start_month"
    ),
}


def _unconfirmed() -> set[str]:
    return {
        name
        for name in dir(rules)
        if isinstance(getattr(rules, name), rules.Rule)
        and getattr(rules, name).confidence is rules.Confidence.UNCONFIRMED
    }


def test_every_unconfirmed_rule_is_listed_with_where_it_is_rendered() -> None:
    assert set(WHERE_RENDERED) == _unconfirmed()


@pytest.mark.parametrize("rule", sorted(WHERE_RENDERED))
def test_an_unconfirmed_rule_is_rendered_hedged_never_as_a_certainty(rule: str) -> None:
    for text in WHERE_RENDERED[rule]():
        lowered = text.lower()
        for phrase in CERTAIN:
            assert not _says(phrase, lowered), (rule, phrase, text)
        assert any(h.lower() in lowered for h in HEDGES_BY_LANGUAGE["id"]), (rule, text)


def test_the_coverage_answer_names_the_pemkab_as_the_source_and_the_official_checks() -> None:
    from handlers.common import coverage_text

    class _W:
        registration_status = "verified"
        sex = "P"
        name = "Siti"
        coverage_start = date(2025, 12, 1)

    class _Ctx:
        t = translator("id")
        today = date(2026, 12, 3)

    cov = coverage_status(start=date(2025, 12, 1), paid_through=date(2026, 11, 1), today=_Ctx.today)
    text = coverage_text(_Ctx(), _W(), cov)  # type: ignore[arg-type]
    assert text.startswith("Menurut data Pemkab")
    assert "jatuh temponya 15 Desember 2026" in text
    assert "JMO" in text
    assert "175" in text
    assert cov.payment_due == date(2026, 12, 15)
    assert timedelta(0) < cov.payment_due - _Ctx.today


def test_the_admin_records_and_lists_funded_periods(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import FixedClock, settings_for

    from lingkaran.channels import admin_cli

    db = str(tmp_path / "f.db")

    def admin(*argv: str) -> tuple[int, str, str]:
        code = admin_cli.main([*argv, "--db", db], settings=settings_for(), clock=FixedClock())
        got = capsys.readouterr()
        return code, got.out, got.err

    assert admin("init-db")[0] == 0
    code, out, _ = admin(
        "funding", "add", "--reference", "SK 188/2026", "--from", "2026-06-26",
        "--until", "2026-12-31", "--sector", SECTOR,
    )  # fmt: skip
    assert code == 0
    assert "funded period #1" in out
    code, _, err = admin(
        "funding", "add", "--reference", "X", "--from", "2027-01-01", "--until", "2026-01-01"
    )
    assert code == 1
    assert "--until is before --from" in err
    code, _, err = admin(
        "funding",
        "add",
        "--reference",
        "X",
        "--from",
        "2026-01-01",
        "--until",
        "2026-12-31",
        "--sector",
        "dukun",
    )
    assert code == 1
    assert "unknown sector" in err
    code, out, _ = admin("funding", "list")
    assert "SK 188/2026" in out
    assert "2026-12-31" in out


# -- every sentence that states a rule names it in the rules data ------------------------------


def test_every_sentence_stating_a_rule_names_a_sourced_rule() -> None:
    from handlers.sources import STATED

    _stated("jkm_benefit")  # imports every flow
    assert len(STATED) >= 30
    for msgid, names in STATED.items():
        for name in names:
            rule = rules.RULES[name]
            assert rule.source.strip(), (name, msgid)
            assert isinstance(rule.confidence, rules.Confidence), (name, msgid)
        # The English catalog translates it (a test elsewhere checks every msgid; this one
        # makes sure the marked sentences are real msgids of the catalog).
        assert translator("en")(msgid) != msgid, msgid


def _msgids_by_module(
    roots: tuple[str, ...] = ("handlers", "lingkaran_core"),
) -> dict[str, set[str]]:
    """Every ``N_("...")`` literal under ``roots``, with the modules that declare it."""
    import ast

    found: dict[str, set[str]] = {}
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "N_"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.setdefault(node.args[0].value, set()).add(path.as_posix())
    return found


def test_the_unconfirmed_statements_are_listed_with_where_they_are_rendered(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The review list: each UNCONFIRMED rule, the sentences stating it and the module rendering
    them, hedged in every language (never a certainty)."""
    from handlers.sources import STATED

    _stated("jkm_benefit")
    modules = _msgids_by_module()
    listing = sorted(
        (name, sorted(modules.get(msgid, {"?"})), msgid)
        for msgid, names in STATED.items()
        for name in names
        if rules.RULES[name].confidence is rules.Confidence.UNCONFIRMED
    )
    with capsys.disabled():
        # The review list is the point of this test: shown even without -s.
        print("\nUNCONFIRMED rules stated to users (rule | rendered in | sentence):")  # noqa: T201
        for name, where, msgid in listing:
            print(f"  {name} | {', '.join(where)} | {msgid[:70]!r}")  # noqa: T201
    assert {name for name, _, _ in listing} == {
        "covered_during_arrears",
        "lapse_unpaid_months",
        "reactivation_window_months",
        "opd_workdays",
        "jember_residency",
        "other_occupation_needs_check",
        "lapsed_or_employer_member_needs_check",
        "min_age",
        "scholarship_reminder_month",
        "scholarship_school_year_start_month",
    }
    for name, where, msgid in listing:
        assert "?" not in where, (name, msgid)  # every marked sentence is a literal N_ msgid
        for language, hedges in HEDGES_BY_LANGUAGE.items():
            text = translator(language)(msgid).lower()
            assert any(h.lower() in text for h in hedges), (name, language, text)
        lowered = msgid.lower()
        assert not any(_says(p, lowered) for p in CERTAIN), (name, msgid)
        english = translator("en")(msgid).lower()
        assert not any(p in english for p in CERTAIN_EN), (name, english)


# -- no rule sentence is left without its source -------------------------------------------------

# Words that mark a sentence stating a rule: an amount, a share, a deadline, who pays, who is
# protected, a benefit, a document of a stage.
RULE_MARKERS = re.compile(
    r"Rp|%|hari kerja|×24|dibayar|membayar|dilindungi|terlindungi|perlindungan|iuran|santunan|"
    r"gratis|jatuh tempo|tanpa batas biaya|paling (?:lama|banyak|sedikit)|tahap I|KK3|NPWP|"
    r"\{amount\}|\{rate\}",
    re.IGNORECASE,
)
# Every module is scanned (the last owners tied theirs after the issue-14 merges).
OWNED_ELSEWHERE = frozenset(set())
# Sentences that carry a marker word but state no rule, each with the reason.
NOT_RULES: dict[str, str] = {
    # Button labels and topic titles: the answer behind them states (and ties) the rule.
    "JKK: berobat dan santunan": "topic button",
    "JKM: santunan untuk keluarga": "topic button",
    "Santunan untuk keluarga": "topic button",
    "Manfaat & santunan": "main menu entry",
    "Selamat datang, Bapak/Ibu. Ini layanan Lingkaran Cinta dari Pemkab Jember: cek perlindungan "
    "BPJS Ketenagakerjaan, lapor kecelakaan kerja atau kematian, dan melihat kabar klaim.": (
        "the welcome: names what the service does"
    ),
    "Jawaban terlalu panjang ({got} huruf). Mohon singkat saja, paling banyak {max} huruf.": (
        "an input length limit of a step, not a programme rule"
    ),
    "Apakah saya dilindungi?": "main menu entry: the question the coverage check answers",
    "Kantor BPJS, telepon 175": "topic button",
    "Manfaat dan santunan untuk peserta. Pilih yang ingin diketahui.": "menu prompt",
    "Masih membayar sendiri (BPU)": "an answer option of the screening question",
    "Dibayar perusahaan/majikan": "an answer option of the screening question",
    "Siapa nama lengkap ahli waris (penerima santunan), sesuai KTP?": "a question",
    # Document names: the checklist sentences that ask for them are tied.
    "Formulir laporan tahap I": "document name",
    "Formulir laporan tahap II": "document name",
    "Surat dokter (KK3/3b)": "document name",
    "NPWP": "document name",
    # What the roster records, said as data (a month, a count), deciding nothing on cover.
    "iuran belum tercatat": "facilitator list label: the roster's record",
    "iuran s.d. {month}": "facilitator list label: the last month recorded",
    "Iuran belum tercatat: {n} pekerja.": "facilitator summary count",
    "Iuran blm tercatat": "facilitator summary button",
    "Perlindungan:": "heading of the facilitator summary",
    # Claim status words and the staff's own notes.
    "Catatan petugas: {note}": "the staff's words, as written",
}


def test_every_rule_sentence_in_the_flows_and_reminders_is_tied_to_a_sourced_rule() -> None:
    """A sentence with a rule marker is tied with ``states`` or listed in NOT_RULES."""
    from handlers.sources import STATED

    _stated("jkm_benefit")
    untied = sorted(
        (sorted(where), msgid)
        for msgid, where in _msgids_by_module().items()
        if RULE_MARKERS.search(msgid)
        and msgid not in STATED
        and msgid not in NOT_RULES
        and not where <= OWNED_ELSEWHERE
    )
    assert not untied, "\n".join(f"{w}: {m[:90]!r}" for w, m in untied)
    stale = [m for m in NOT_RULES if m in STATED]
    assert not stale, stale  # a sentence is either a rule statement or not
