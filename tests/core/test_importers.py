"""Roster CSV import: validation with line numbers, both modes, formats, idempotent upsert."""

from __future__ import annotations

import csv
import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lingkaran_core import importers
from lingkaran_core.identity import normalize_phone
from lingkaran_core.importers import RosterFormatError, import_roster, parse_sector
from lingkaran_core.storage import Database
from lingkaran_core.storage.repos import worker_by_nik

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
# The round-1 columns (no_kk, optional, is tested on its own below).
HEADER = ",".join(c for c in importers.COLUMNS if c != "no_kk")

GOOD = [
    # Sutrisno, born 15-05-1978 (NIK day 15), Sukoreno (Kalisat)
    "3509271505780001,Sutrisno,1978-05-15,L,35.09.27.2002,buruh_tani_tembakau,buruh tani,"
    "081234567890,2,12345678901,2025-07-01,2026-12",
    # a woman: NIK day 52 = 12 + 40; DD-MM-YYYY dates; code without dots; sector by name
    "3509275208850002,Siti Aminah,12-08-1985,P,3509272002,Guru Ngaji,,,,,01-07-2025,2026-10-31",
]
BAD = [
    # line 4: 15-digit NIK
    "350927150578001,Budi,1978-05-15,L,35.09.27.2002,buruh_tani_tembakau,,,,,,",
    # line 5: unknown desa, bad sector
    "3509270101800003,Joko,1980-01-01,L,35.09.99.9999,tukang,,,,,,",
    # line 6: impossible date, decile 11, kpj too short
    "3509270101800004,Agus,1980-02-31,L,35.09.27.2002,nelayan,,,11,123,,",
]


def _write(path: Path, lines: list[str], *, header: str = HEADER, encoding: str = "utf-8") -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding=encoding)
    return path


async def _count(db: Database) -> int:
    async with db.read() as r:
        return int(await r.scalar("SELECT COUNT(*) FROM workers"))


async def test_a_clean_file_imports_every_row(db: Database, tmp_path: Path) -> None:
    path = _write(tmp_path / "roster.csv", GOOD)
    report = await import_roster(db, path, now=NOW, today=TODAY)
    assert report.committed
    assert (report.rows, report.inserted, report.rejected) == (2, 2, 0)
    async with db.read() as r:
        sutrisno = await worker_by_nik(r, "3509271505780001")
        siti = await worker_by_nik(r, "3509275208850002")
    assert sutrisno is not None
    assert siti is not None
    assert sutrisno.birth_date == date(1978, 5, 15)
    assert sutrisno.phone == "+6281234567890"
    assert sutrisno.kpj == "12345678901"
    assert sutrisno.paid_through == date(2026, 12, 31)  # YYYY-MM: the whole month
    assert siti.sex == "P"
    assert siti.desa_code == "35.09.27.2002"
    assert siti.sector == "pekerja_sosial_keagamaan"
    assert siti.birth_date == date(1985, 8, 12)
    assert siti.coverage_start == date(2025, 7, 1)


async def test_one_bad_row_imports_nothing_and_reports_every_error(
    db: Database, tmp_path: Path
) -> None:
    path = _write(tmp_path / "roster.csv", GOOD + BAD)
    report = await import_roster(db, path, now=NOW, today=TODAY)
    assert not report.committed
    assert report.inserted == 0
    assert await _count(db) == 0
    assert report.rejected == 3
    found = {(e.line, e.column, e.code) for e in report.errors}
    assert found == {
        (4, "nik", "nik.wrong_length"),
        (5, "kode_desa", "desa.unknown"),
        (5, "sektor", "sector.unknown"),
        (6, "tanggal_lahir", "date.impossible"),
        (6, "desil_dtsen", "decile.out_of_range"),
        (6, "kpj", "kpj.wrong_format"),
    }
    assert report.error_count == 6


async def test_skip_invalid_imports_good_rows_and_writes_rejects(
    db: Database, tmp_path: Path
) -> None:
    path = _write(tmp_path / "roster.csv", GOOD + BAD)
    rejects = tmp_path / "rejects.csv"
    report = await import_roster(
        db, path, now=NOW, today=TODAY, skip_invalid=True, rejects_path=rejects
    )
    assert report.committed
    assert (report.inserted, report.rejected) == (2, 3)
    assert await _count(db) == 2
    with rejects.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["baris"] for r in rows] == ["4", "5", "6"]
    assert rows[0]["nik"] == "350927150578001"
    assert rows[0]["nama"] == "Budi"
    assert "nik: nik.wrong_length" in rows[0]["alasan"]
    assert "kode_desa: desa.unknown" in rows[1]["alasan"]
    assert "sektor: sector.unknown" in rows[1]["alasan"]


async def test_duplicate_nik_in_the_file_is_a_bad_row(db: Database, tmp_path: Path) -> None:
    path = _write(tmp_path / "roster.csv", [GOOD[0], GOOD[1], GOOD[0].replace("Sutrisno", "S")])
    report = await import_roster(db, path, now=NOW, today=TODAY, skip_invalid=True)
    assert report.inserted == 2
    assert [(e.line, e.code) for e in report.errors] == [(4, "nik.duplicate_in_file")]
    assert "3509271505780001" not in report.errors[0].detail  # masked


async def test_reimporting_the_same_file_changes_nothing(db: Database, tmp_path: Path) -> None:
    path = _write(tmp_path / "roster.csv", GOOD)
    await import_roster(db, path, now=NOW, today=TODAY)
    async with db.read() as r:
        before = [tuple(x) for x in await r.all("SELECT * FROM workers ORDER BY id")]
    later = datetime(2026, 12, 1, tzinfo=UTC)
    again = await import_roster(db, path, now=later, today=TODAY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    async with db.read() as r:
        after = [tuple(x) for x in await r.all("SELECT * FROM workers ORDER BY id")]
    assert after == before  # not even updated_at moved


async def test_a_changed_row_is_updated_and_empty_cells_keep_stored_values(
    db: Database, tmp_path: Path
) -> None:
    await import_roster(db, _write(tmp_path / "a.csv", GOOD), now=NOW, today=TODAY)
    changed = GOOD[0].replace("2026-12", "2027-01").replace("081234567890", "")
    report = await import_roster(
        db, _write(tmp_path / "b.csv", [changed, GOOD[1]]), now=NOW, today=TODAY
    )
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    async with db.read() as r:
        w = await worker_by_nik(r, "3509271505780001")
    assert w is not None
    assert w.paid_through == date(2027, 1, 31)
    assert w.phone == "+6281234567890"


async def test_bom_semicolons_and_columns_in_any_order(db: Database, tmp_path: Path) -> None:
    header = "SEKTOR;kode_desa;nama;nik;tanggal_lahir;extra"
    lines = [
        "Buruh tani tembakau;35.09.27.2002;Sutrisno;3509271505780001;15-05-1978;x",
        "nelayan tangkap;3509082001;Slamet;3509080203700003;02/03/1970;y",
    ]
    path = _write(tmp_path / "excel.csv", lines, header=header, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    report = await import_roster(db, path, now=NOW, today=TODAY)
    assert report.delimiter == ";"
    assert (report.inserted, report.rejected) == (2, 0), report.errors
    async with db.read() as r:
        slamet = await worker_by_nik(r, "3509080203700003")
    assert slamet is not None
    assert slamet.sex == "L"  # from the NIK when the column is absent
    assert slamet.sector == "nelayan_tangkap"
    assert slamet.coverage_start is None


async def test_nik_birth_date_mismatch_is_only_a_warning(db: Database, tmp_path: Path) -> None:
    line = GOOD[0].replace("1978-05-15", "1978-05-16")
    report = await import_roster(db, _write(tmp_path / "r.csv", [line]), now=NOW, today=TODAY)
    assert report.inserted == 1
    assert [(w.line, w.code) for w in report.warnings] == [(2, "nik.birth_date_mismatch")]


async def test_sex_words_and_blank_lines(db: Database, tmp_path: Path) -> None:
    lines = [GOOD[0].replace(",L,", ",laki-laki,"), "", GOOD[1].replace(",P,", ",Perempuan,")]
    report = await import_roster(db, _write(tmp_path / "r.csv", lines), now=NOW, today=TODAY)
    assert (report.rows, report.inserted, report.warning_count) == (2, 2, 0)


async def test_missing_required_columns_refuse_the_file(db: Database, tmp_path: Path) -> None:
    path = _write(tmp_path / "r.csv", ["1,2"], header="nik,nama")
    with pytest.raises(RosterFormatError) as info:
        await import_roster(db, path, now=NOW, today=TODAY)
    assert info.value.code == "roster.missing_columns"
    assert "tanggal_lahir" in str(info.value.params["columns"])


async def test_batches_smaller_than_the_file_still_roll_back_together(
    db: Database, tmp_path: Path
) -> None:
    path = _write(tmp_path / "r.csv", [*GOOD, BAD[0]])
    report = await import_roster(db, path, now=NOW, today=TODAY, batch_size=1)
    assert not report.committed
    assert await _count(db) == 0


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("buruh_tani_tembakau", "buruh_tani_tembakau"),
        ("PETANI PANGAN & HORTIKULTURA", "petani_pangan_hortikultura"),
        ("Pedagang-Keliling", "pedagang_keliling"),
        ("pekerja rentan desa", "pekerja_rentan_desa"),
        ("ojol", None),
    ],
)
def test_sector_codes_and_human_names(text: str, code: str | None) -> None:
    assert parse_sector(text) == code


def test_fast_phone_path_agrees_with_normalize_phone() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        raw = (
            "08"
            + str(rng.randint(0, 9))
            + "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 11)))
        )
        try:
            expected: str | None = normalize_phone(raw)
        except Exception:
            expected = None
        try:
            got: str | None = importers._phone(raw)
        except importers._Bad:
            got = None
        assert got == expected, raw


def test_cached_nik_path_agrees_with_parse_nik() -> None:
    from lingkaran_core.identity import parse_nik

    rng = random.Random(9)
    for _ in range(3000):
        raw = "3509" + "".join(rng.choice("0123456789") for _ in range(12))
        try:
            p = parse_nik(raw, today=TODAY)
            expected: tuple[str, str] | None = (p.birth_date.isoformat(), p.sex.value)
        except Exception:
            expected = None
        try:
            got: tuple[str, str] | None = importers._nik(raw, TODAY)
        except Exception:
            got = None
        assert got == expected, raw


async def _indexes(db: Database) -> set[str]:
    async with db.read() as r:
        rows = await r.all(
            "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='workers'"
        )
    return {row[0] for row in rows}


@pytest.mark.sqlite_only
async def test_a_first_import_keeps_every_index_of_workers(db: Database, tmp_path: Path) -> None:
    before = await _indexes(db)
    assert "workers_desa" in before
    await import_roster(db, _write(tmp_path / "bad.csv", GOOD + BAD), now=NOW, today=TODAY)
    assert await _indexes(db) == before  # rolled back
    await import_roster(db, _write(tmp_path / "good.csv", GOOD), now=NOW, today=TODAY)
    assert await _indexes(db) == before  # rebuilt
    async with db.read() as r:
        assert await r.scalar("PRAGMA integrity_check") == "ok"


# -- bounded transactions (issue 21) ----------------------------------------------------------


def _synthetic(path: Path, rows: int) -> Path:
    from benchmarks.bench_import import write_csv

    write_csv(path, rows=rows, seed=3)
    return path


async def test_skip_invalid_with_a_bad_byte_mid_file_commits_nothing_and_says_so(
    db: Database, tmp_path: Path
) -> None:
    path = _synthetic(tmp_path / "roster.csv", 12_000)
    data = path.read_bytes()
    cut = data.index(b"\n", len(data) * 3 // 4)
    path.write_bytes(data[:cut] + b"\n\xff\xfe bad bytes" + data[cut:])
    with pytest.raises(RosterFormatError) as caught:
        await import_roster(db, path, now=NOW, today=TODAY, skip_invalid=True, batch_size=1000)
    assert caught.value.code == "roster.not_utf8"
    assert await _count(db) == 0  # not the 9,000 rows before the bad byte


async def test_skip_invalid_reports_exactly_what_was_committed(
    db: Database, tmp_path: Path
) -> None:
    path = _write(tmp_path / "roster.csv", [*GOOD, *BAD])
    first = await import_roster(db, path, now=NOW, today=TODAY, skip_invalid=True)
    assert (first.inserted, first.updated, first.unchanged, first.rejected) == (2, 0, 0, 3)
    assert await _count(db) == first.inserted
    changed = GOOD[0].replace("buruh tani,", "petani,")
    path = _write(tmp_path / "roster2.csv", [changed, GOOD[1], BAD[0]])
    second = await import_roster(db, path, now=NOW, today=TODAY, skip_invalid=True)
    assert (second.inserted, second.updated, second.unchanged, second.rejected) == (0, 1, 1, 1)
    assert second.committed


async def test_formula_cells_are_neutralised_in_the_rejects_file(
    db: Database, tmp_path: Path
) -> None:
    evil = '3509270101800009,=HYPERLINK("http://x.test";"klik"),1980-01-01,L,35.09.99.9999,x,,,,,,'
    path = _write(tmp_path / "roster.csv", [*GOOD, evil, "+62812,@SUM(A1),-1,L,,,,,,,,"])
    rejects = tmp_path / "rejects.csv"
    await import_roster(db, path, now=NOW, today=TODAY, skip_invalid=True, rejects_path=rejects)
    with rejects.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    cells = [c for row in rows[1:] for c in row]
    assert '\'=HYPERLINK("http://x.test";"klik")' in cells
    assert "'+62812" in cells
    assert "'@SUM(A1)" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)


async def test_the_bot_keeps_writing_while_a_large_import_stages(
    db: Database, tmp_path: Path
) -> None:
    """Another connection's writes go through during the import, not only after it."""
    import asyncio
    import sqlite3
    import threading
    import time

    path = _synthetic(tmp_path / "roster.csv", 40_000)
    done = threading.Event()
    writes: list[tuple[float, float]] = []  # (finished at, waited)

    def bot_writes() -> None:
        conn = sqlite3.connect(db.path, timeout=30, isolation_level=None)
        conn.execute("CREATE TABLE IF NOT EXISTS bench_ping (at REAL)")
        while not done.is_set():
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO bench_ping VALUES (?)", (t0,))
            conn.execute("COMMIT")
            writes.append((time.perf_counter(), time.perf_counter() - t0))
            time.sleep(0.01)
        conn.close()

    thread = threading.Thread(target=bot_writes)
    thread.start()
    try:
        began = time.perf_counter()
        report = await import_roster(db, path, now=NOW, today=TODAY, batch_size=2_000)
        ended = time.perf_counter()
    finally:
        done.set()
        await asyncio.to_thread(thread.join)
    assert report.committed
    assert report.inserted == 40_000
    during = [w for at, w in writes if began < at < ended]
    assert len(during) >= 20  # a single import transaction would have let none through
    assert max(during) < (ended - began) / 2


async def test_a_chat_step_waits_out_an_import_switch_instead_of_failing(db: Database) -> None:
    """The engine's inline BEGIN falls back to the thread *with* the busy timeout restored."""
    import sqlite3
    import threading

    other = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # the import's switch, in another process
    other.execute("CREATE TABLE held (x)")
    release = threading.Timer(1.5, lambda: other.execute("COMMIT"))
    release.start()
    try:
        async with db.tx() as tx:
            await tx.run_inline(
                lambda c: c.execute(
                    "INSERT INTO chats (channel, user_ref, created_at) VALUES ('t', 'u', 'x')"
                ).close()
            )
    finally:
        release.join()
        other.close()
    assert await _count_chats(db) == 1


async def _count_chats(db: Database) -> int:
    async with db.read() as r:
        return int(await r.scalar("SELECT COUNT(*) FROM chats"))


async def test_the_family_card_number_is_imported_and_checked(db: Database, tmp_path: Path) -> None:
    header = HEADER + ",no_kk"
    rows = [
        GOOD[0] + ",3509270101090123",
        GOOD[1] + ",",  # empty: optional
        "3509270101800003,Joko,1980-01-01,L,35.09.27.2002,nelayan,,,,,,,12345",
        "3509270101800004,Agus,1980-01-01,L,35.09.27.2002,nelayan,,,,,,,3509270101800004",
    ]
    path = _write(tmp_path / "kk.csv", rows, header=header)
    report = await import_roster(db, path, now=NOW, today=TODAY, skip_invalid=True)
    assert report.inserted == 2
    assert sorted((e.line, e.code) for e in report.errors) == [
        (4, "kk.wrong_format"),
        (5, "kk.same_as_nik"),
    ]
    async with db.read() as r:
        kk = await r.scalar("SELECT kk FROM workers WHERE nik = '3509271505780001'")
    assert kk == "3509270101090123"
