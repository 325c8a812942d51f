"""The roster import's fast paths give exactly what the slow, general ones give.

The validator inlines the common NIK and phone shapes and decodes NIK dates without building
a ``NIK``: each is checked here against the general path. A first import on PostgreSQL COPYs
each batch in (desa, sector, NIK) order: names COPY has to escape still arrive exactly.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

from lingkaran_core import importers
from lingkaran_core.errors import InvalidNIK
from lingkaran_core.identity import normalize_phone, parse_nik
from lingkaran_core.importers import cells, import_roster
from lingkaran_core.storage import Database

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
HEADER = list(importers.COLUMNS)
ROW = {
    "nik": "3509271505780001",
    "nama": "Sutrisno",
    "tanggal_lahir": "1978-05-15",
    "jenis_kelamin": "L",
    "kode_desa": "35.09.27.2002",
    "sektor": "buruh_tani_tembakau",
}


def _validate(**cells_: str) -> tuple[tuple[object, ...] | None, list[str]]:
    validator = importers._Validator(HEADER, today=TODAY)
    row = {**ROW, **cells_}
    _, values, errors, _ = validator.validate([row.get(c, "") for c in HEADER], 2)
    return values, [f"{e.column}:{e.code}:{e.detail}" for e in errors]


def test_every_nik_date_decodes_as_parse_nik_decodes_it() -> None:
    for dd in range(0, 72):
        for mm in range(0, 14):
            for yy in (0, 4, 25, 26, 27, 78, 99):
                ddmmyy = f"{dd:02d}{mm:02d}{yy:02d}"
                try:
                    nik = parse_nik(f"350901{ddmmyy}0001", today=TODAY)
                    expected: object = (nik.birth_date.isoformat(), nik.sex.value)
                except InvalidNIK as err:
                    expected = (err.code, err.params)
                try:
                    got: object = cells._nik_birth.__wrapped__(ddmmyy, TODAY)
                except InvalidNIK as err:
                    got = (err.code, err.params)
                assert got == expected, ddmmyy


def test_the_validators_nik_checks_match_parse_nik() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        digits = rng.choice(["3509", "0009", "3500", ""]) + "".join(
            rng.choice("0123456789") for _ in range(rng.choice([11, 12, 12, 12, 13]))
        )
        if rng.random() < 0.1:
            digits = digits[:12] + "0000"
        _, errors = _validate(nik=digits)
        try:
            parse_nik(digits, today=TODAY)
            expected: list[str] = []
        except InvalidNIK as err:
            expected = [f"nik:{err.code}:{cells._detail(err)}"]
        assert [e for e in errors if e.startswith("nik:")] == expected, digits


def test_the_validators_phone_path_matches_normalize_phone() -> None:
    rng = random.Random(12)
    for _ in range(3000):
        raw = rng.choice(["08", "08", "8", "628", "+628", "07"]) + "".join(
            rng.choice("0123456789") for _ in range(rng.randint(6, 12))
        )
        values, errors = _validate(no_hp=raw)
        try:
            expected: str | None = normalize_phone(raw)
        except Exception:
            expected = None
        got = None if values is None else values[6]
        assert got == expected, raw
        assert (values is None) == bool(errors), raw


def test_deciles_and_ragged_rows_read_as_before() -> None:
    for text, decile in [("1", 1), ("10", 10), ("05", 5), ("0", None), ("11", None), ("x", None)]:
        values, errors = _validate(desil_dtsen=text)
        assert (values[7] if values else None) == decile, text
        assert bool(errors) == (decile is None), text
    validator = importers._Validator(HEADER[:6], today=TODAY)  # the optional columns absent
    short = [ROW[c] for c in HEADER[:5]]  # and the sektor cell missing: a ragged row
    _, short_values, issues, _ = validator.validate(short, 2)
    assert short_values is None
    assert [e.code for e in issues] == ["sector.empty"]
    long = [*(ROW[c] for c in HEADER[:6]), "extra", "cells"]
    _, long_values, issues, _ = importers._Validator(HEADER[:6], today=TODAY).validate(long, 3)
    assert issues == []
    assert long_values is not None
    assert long_values[4] == "buruh_tani_tembakau"


async def test_names_that_copy_must_escape_are_stored_exactly_in_any_order(
    db: Database, tmp_path: Path
) -> None:
    names = ["Back\\slash", "\\N", "Tab\\tName", "Plain"]
    lines = [",".join(HEADER[:6])]
    for i, name in reversed(list(enumerate(names))):  # the file out of NIK order
        lines.append(f"350927150578{i + 1:04d},{name},1978-05-15,L,35.09.27.2002,nelayan")
    path = tmp_path / "odd.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for _ in range(2):  # the first import (straight into workers), then the re-import (stage)
        report = await import_roster(db, path, now=NOW, today=TODAY)
        assert report.committed
        async with db.read() as r:
            rows = await r.all("SELECT name FROM workers ORDER BY nik")
        assert [row[0] for row in rows] == names
    assert (report.inserted, report.unchanged) == (0, 4)


async def test_imports_hand_the_gil_over_quickly_and_restore_the_interval(
    db: Database, tmp_path: Path
) -> None:
    """While an import runs the switch interval is 0.5 ms; after the last one running (failed
    or not) it is what it was."""
    import sys

    import pytest

    good = tmp_path / "good.csv"
    good.write_text(
        ",".join(HEADER[:6]) + "\n3509271505780001,Siti,1978-05-15,P,35.09.27.2002,nelayan\n",
        encoding="utf-8",
    )
    seen: list[float] = []
    real = importers._import

    async def watching(*args: object) -> importers.ImportReport:
        seen.append(sys.getswitchinterval())
        return await real(*args)  # type: ignore[arg-type]

    before = sys.getswitchinterval()
    sys.setswitchinterval(0.004)
    try:
        importers._import = watching  # type: ignore[assignment]
        assert (await import_roster(db, good, now=NOW, today=TODAY)).committed
        importers._import = real
        assert seen == [importers.IMPORT_SWITCH_INTERVAL]
        assert sys.getswitchinterval() == 0.004
        with pytest.raises(importers.RosterFormatError):
            await import_roster(db, tmp_path / "missing.csv", now=NOW, today=TODAY)
        assert sys.getswitchinterval() == 0.004
        with importers._handoffs():  # two imports at once in one process (two databases)
            with importers._handoffs():
                assert sys.getswitchinterval() == importers.IMPORT_SWITCH_INTERVAL
            assert sys.getswitchinterval() == importers.IMPORT_SWITCH_INTERVAL
        assert sys.getswitchinterval() == 0.004
    finally:
        importers._import = real
        sys.setswitchinterval(before)
