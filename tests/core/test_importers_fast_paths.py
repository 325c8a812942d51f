"""The roster import's fast paths give exactly what the slow, general ones give.

The validator inlines the common NIK and phone shapes, decodes NIK dates without building a
``NIK``, and on PostgreSQL each batch goes to COPY as text built by ``roster_repo.copy_text``
instead of psycopg's ``write_row``: each is checked here against the general path.
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
from lingkaran_core.storage.roster_repo import copy_text

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
        values, errors = _validate(nik=digits)
        try:
            parse_nik(digits, today=TODAY)
        except InvalidNIK as err:
            assert errors[:1] == [f"nik:{err.code}:{cells._detail(err)}"], digits
            continue
        assert not [e for e in errors if e.startswith("nik:")], digits


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
    _, values, errors, _ = validator.validate(short, 2)
    assert values is None
    assert [e.code for e in errors] == ["sector.empty"]
    long = [*(ROW[c] for c in HEADER[:6]), "extra", "cells"]
    _, values, errors, _ = importers._Validator(HEADER[:6], today=TODAY).validate(long, 3)
    assert errors == []
    assert values is not None
    assert values[4] == "buruh_tani_tembakau"


def _escaped(value: object) -> str:
    """PostgreSQL's COPY text format for one value (the documented escapes)."""
    if value is None:
        return "\\N"
    text = str(value)
    for raw, esc in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        text = text.replace(raw, esc)
    return text


def test_copy_text_writes_plain_rows_and_refuses_anything_that_needs_escaping() -> None:
    batch: list[tuple[str, tuple[object, ...]]] = [
        ("3509271505780001", ("Sutrisno", "1978-05-15", None, 4, "é ü")),
        ("3509275208850002", ("Siti", None, None, 10, "x")),
    ]
    data = copy_text(batch, ("stamp", "stamp"), "utf-8")
    expected = "".join(
        "\t".join(_escaped(v) for v in (nik, *values, "stamp", "stamp")) + "\n"
        for nik, values in batch
    )
    assert data == expected.encode()
    for odd in ["a\\b", "\\N", "a\tb", "a\nb", "a\rb", "a\x00b", True, 1.5, date(2026, 1, 1)]:
        assert copy_text([("1", ("x", odd))], (), "utf-8") is None, odd
    assert copy_text([("1", ("x",)), ("2", ("x", "y"))], (), "utf-8") is None  # ragged
    assert copy_text([], (), "utf-8") is None


async def test_names_that_copy_must_escape_are_stored_exactly(
    db: Database, tmp_path: Path
) -> None:
    names = ["Back\\slash", "\\N", "Tab\\tName", "Plain"]
    lines = [",".join(HEADER[:6])]
    for i, name in enumerate(names):
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
