"""Roster CSV import: validate every row, upsert workers by NIK, stream in batches.

Columns are found by header name (any order, extra columns ignored)::

    nik, nama, tanggal_lahir, jenis_kelamin, kode_desa, sektor, pekerjaan, no_hp,
    desil_dtsen, kpj, mulai_perlindungan, iuran_dibayar_sampai, no_kk

``nik, nama, tanggal_lahir, kode_desa, sektor`` are required; the rest may be absent or empty.
The file may be UTF-8 with or without BOM, separated by commas or semicolons (sniffed from the
header line; spreadsheet exports in Indonesian locales use semicolons).

Two modes:

* default, all or nothing: if any row is bad nothing is written and the report lists every
  error (line numbers count the header as line 1).
* ``skip_invalid``: the good rows are imported, bad rows are written to a rejects CSV (original
  columns + ``baris``, ``alasan``; cells that a spreadsheet would run as a formula are
  neutralised). A file that cannot be read to its end (a bad byte) imports nothing.

Either way the import never holds the database for long, whatever the file's size: rows are
staged in a temp table in chunks (no lock on the main database), compared with the stored rows
in chunks under plain reads, and applied in one short transaction at the end (see "writing").
The report's counts come from that transaction: exactly what was committed.

Re-importing the same file changes nothing: rows are upserted by NIK and a row whose fields are
all equal to the stored ones is counted ``unchanged`` and not rewritten. An empty optional cell
never erases a stored value (a phone number given to the bot later stays).

Memory stays bounded: rows are read with ``csv``, validated and written ``batch_size`` at a time;
only the set of NIKs seen (to catch duplicates inside the file) grows with the file, as ints.
The fast path avoids dateparser, rapidfuzz and most phonenumbers calls (see ``_phone``).
The cell parsers live in ``cells``; this module validates rows, reads the file and writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import operator
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, TextIO

from lingkaran_core.errors import DomainError, InvalidNIK
from lingkaran_core.identity import mask_nik
from lingkaran_core.importers.cells import (
    _DIGITS_JUNK,
    SECTOR_NAMES,
    _Bad,
    _date,
    _desa,
    _detail,
    _nik,
    _nik_birth,
    _nik_sound,
    _paid_through,
    _phone,
    _phone_prefix_ok,
    _sex,
    parse_sector,
)
from lingkaran_core.storage import roster_repo
from lingkaran_core.storage.db import Database
from lingkaran_core.textsafe import csv_row

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "SECTOR_NAMES",
    "ImportReport",
    "RosterFormatError",
    "RowIssue",
    "import_roster",
    "parse_sector",
]

logger = logging.getLogger(__name__)

COLUMNS: Final = (
    "nik",
    "nama",
    "tanggal_lahir",
    "jenis_kelamin",
    "kode_desa",
    "sektor",
    "pekerjaan",
    "no_hp",
    "desil_dtsen",
    "kpj",
    "mulai_perlindungan",
    "iuran_dibayar_sampai",
    "no_kk",
)
REQUIRED_COLUMNS: Final = ("nik", "nama", "tanggal_lahir", "kode_desa", "sektor")
BATCH_SIZE: Final = 5_000
KEEP_ISSUES: Final = 1_000  # errors/warnings kept in the report; the counts are always complete
MAX_NAME_LENGTH: Final = 120


class RosterFormatError(DomainError):
    """The file as a whole cannot be read (encoding, missing columns, empty)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RowIssue:
    """One problem in one row: the line number, the column and a reason code with details."""

    line: int
    column: str
    code: str
    detail: str = ""

    def text(self) -> str:
        """``kolom: code (detail)``, as written to the rejects file and printed by the CLI."""
        return f"{self.column}: {self.code}" + (f" ({self.detail})" if self.detail else "")


@dataclass(slots=True, kw_only=True)
class ImportReport:
    """What an import did (or, when ``committed`` is false, would have done)."""

    path: str
    rows: int = 0
    valid: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error_count: int = 0
    warning_count: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    committed: bool = False
    skip_invalid: bool = False
    rejects_path: str | None = None
    delimiter: str = ","

    @property
    def changed(self) -> int:
        """Rows written (inserted + updated)."""
        return self.inserted + self.updated

    def _error(self, issue: RowIssue) -> None:
        self.error_count += 1
        if len(self.errors) < KEEP_ISSUES:
            self.errors.append(issue)

    def _warning(self, issue: RowIssue) -> None:
        self.warning_count += 1
        if len(self.warnings) < KEEP_ISSUES:
            self.warnings.append(issue)


# -- rows -------------------------------------------------------------------------------------

# The order of the workers columns an import writes and compares (and which an empty cell keeps).
_FIELDS: Final = roster_repo.FIELDS
_KEEP_WHEN_EMPTY: Final = roster_repo.KEEP_WHEN_EMPTY
_Values = tuple[Any, ...]
_PAD: Final = [""]  # the cell an absent column reads (after the last real one)
_DECILES: Final = {str(i): i for i in range(1, 11)}


class _Validator:
    """Turns one CSV record into (nik, values) or a list of issues."""

    def __init__(self, header: Sequence[str], *, today: date) -> None:
        index = {name: i for i, name in enumerate(header)}
        # Absent columns read the empty cell appended after the last real one.
        self.width = len(header)
        self.pick = operator.itemgetter(*(index.get(c, self.width) for c in COLUMNS))
        self.complete = all(c in index for c in COLUMNS)
        self.pads = [[""] * (n + 1) for n in range(self.width + 1)]  # n cells short, + absent
        self.today = today
        self.today_iso = today.isoformat()
        self.seen: set[int] = set()
        # DDMMYY: (birth, sex), read before the lru_cache; at most 74,400 valid ones.
        self.nik_dates: dict[str, tuple[str, str]] = {}

    def validate(
        self, record: list[str], line: int
    ) -> tuple[str | None, _Values | None, list[RowIssue], list[RowIssue]]:
        """(nik, values, errors, warnings); values is None when there are errors.

        Written as one straight function: it runs for every row of 100k-row files.
        """
        # Pad so every position reads a cell: an absent column, or a short (ragged) row's
        # missing ones, read "" (a long row's extra cells are ignored).
        length = len(record)
        if length == self.width:
            cells = record if self.complete else record + _PAD
        elif length < self.width:
            cells = record + self.pads[self.width - length]
        else:
            cells = record[: self.width] + _PAD
        (
            nik_raw,
            name_raw,
            birth_text,
            sex_text,
            desa_text,
            sector_text,
            occupation_raw,
            phone_text,
            decile_text,
            kpj_raw,
            start_text,
            paid_text,
            kk_raw,
        ) = map(str.strip, self.pick(cells))
        errors: list[RowIssue] = []
        bad = errors.append

        digits = nik_raw if nik_raw.isdigit() else _DIGITS_JUNK.sub("", nik_raw)
        nik: str | None = None
        nik_birth: str | None = None
        nik_sex: str | None = None
        try:
            if _nik_sound(digits):  # cells._nik's cached path, its per-import dict read first
                ddmmyy = digits[6:12]
                decoded = self.nik_dates.get(ddmmyy)
                if decoded is None:
                    decoded = self.nik_dates[ddmmyy] = _nik_birth(ddmmyy, self.today)
                nik_birth, nik_sex = decoded
            else:
                nik_birth, nik_sex = _nik(digits, self.today)
        except InvalidNIK as err:
            bad(RowIssue(line=line, column="nik", code=err.code, detail=_detail(err)))
        else:
            nik = digits
            key = int(digits)
            if key in self.seen:
                dup = "nik.duplicate_in_file"
                bad(RowIssue(line=line, column="nik", code=dup, detail=mask_nik(digits)))
            self.seen.add(key)

        name = " ".join(name_raw.split())
        if not name or len(name) > MAX_NAME_LENGTH:
            code = "nama.empty" if not name else "nama.too_long"
            bad(RowIssue(line=line, column="nama", code=code))

        birth: str | None = None
        try:
            if not birth_text:
                raise _Bad("date.empty")
            birth = _date(birth_text)
            if birth > self.today_iso:
                raise _Bad("date.in_future", birth)
        except _Bad as err:
            bad(RowIssue(line=line, column="tanggal_lahir", code=err.code, detail=err.detail))
            birth = None

        sex = _sex(sex_text) if sex_text else nik_sex  # the NIK encodes it (women's day + 40)
        if sex_text and sex is None:
            bad(RowIssue(line=line, column="jenis_kelamin", code="sex.unknown", detail="L/P"))

        desa: str | None = None
        try:
            desa = _desa(desa_text)
        except _Bad as err:
            bad(RowIssue(line=line, column="kode_desa", code=err.code, detail=err.detail))

        sector = parse_sector(sector_text) if sector_text else None
        if sector is None:
            code = "sector.unknown" if sector_text else "sector.empty"
            bad(RowIssue(line=line, column="sektor", code=code))

        phone: str | None = None
        if phone_text:
            if (
                phone_text.startswith("08")
                and phone_text.isdigit()
                and 10 <= len(phone_text) <= 13
                and _phone_prefix_ok(phone_text[1:5], len(phone_text) - 1) is None
            ):  # cells._phone's common shape, inlined
                phone = "+62" + phone_text[1:]
            else:
                try:
                    phone = _phone(phone_text)
                except _Bad as err:
                    bad(RowIssue(line=line, column="no_hp", code=err.code, detail=err.detail))

        decile: int | None = None
        if decile_text:
            decile = _DECILES.get(decile_text)
            if decile is None and decile_text.isdigit() and 1 <= int(decile_text) <= 10:
                decile = int(decile_text)  # "007": digits, in range, not a plain spelling
            if decile is None:
                bad(RowIssue(line=line, column="desil_dtsen", code="decile.out_of_range"))

        kpj: str | None = None
        if kpj_raw:
            kpj = kpj_raw if kpj_raw.isdigit() else _DIGITS_JUNK.sub("", kpj_raw)
            if not (len(kpj) == 11 and kpj.isascii() and kpj.isdigit()):
                bad(RowIssue(line=line, column="kpj", code="kpj.wrong_format", detail="11 digits"))

        # The family card number: a link factor the NIK does not contain (issue 20).
        kk: str | None = None
        if kk_raw:
            kk = kk_raw if kk_raw.isdigit() else _DIGITS_JUNK.sub("", kk_raw)
            if not (len(kk) == 16 and kk.isascii() and kk.isdigit()):
                bad(RowIssue(line=line, column="no_kk", code="kk.wrong_format", detail="16 digits"))
            elif kk == digits:
                bad(RowIssue(line=line, column="no_kk", code="kk.same_as_nik"))

        start: str | None = None
        if start_text:
            try:
                start = _date(start_text)
            except _Bad as err:
                bad(
                    RowIssue(
                        line=line, column="mulai_perlindungan", code=err.code, detail=err.detail
                    )
                )

        paid: str | None = None
        if paid_text:
            try:
                paid = _paid_through(paid_text)
            except _Bad as err:
                bad(
                    RowIssue(
                        line=line, column="iuran_dibayar_sampai", code=err.code, detail=err.detail
                    )
                )

        if errors:
            return nik, None, errors, []
        warnings: list[RowIssue] = []
        if nik_birth != birth:
            # DOMAIN.md §5.1: the NIK's date is usually the birth date, but data entry slips
            # happen on either side; the row is kept and the admin is told.
            warnings.append(
                RowIssue(line=line, column="tanggal_lahir", code="nik.birth_date_mismatch")
            )
        if sex != nik_sex:
            warnings.append(RowIssue(line=line, column="jenis_kelamin", code="nik.sex_mismatch"))
        occupation = " ".join(occupation_raw.split()) or None
        values: _Values = (
            name,
            birth,
            sex,
            desa,
            sector,
            occupation,
            phone,
            decile,
            kpj,
            start,
            paid,
            kk,
        )
        return nik, values, errors, warnings


# -- reading ----------------------------------------------------------------------------------


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_records(handle: TextIO) -> tuple[list[str], list[str], str, Iterator[list[str]]]:
    """(raw header, normalised header, delimiter, records) from an open text file."""
    first = handle.readline()
    if not first.strip():
        raise RosterFormatError("roster.empty")
    delimiter = _sniff_delimiter(first)
    raw_header = next(csv.reader([first], delimiter=delimiter))
    header = [h.strip().lower().lstrip("\ufeff") for h in raw_header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RosterFormatError("roster.missing_columns", columns=",".join(missing))
    return raw_header, header, delimiter, csv.reader(handle, delimiter=delimiter)


# -- writing: see lingkaran_core.storage.roster_repo (stage in chunks, one short switch) -------


def _open_text(path: str | Path, mode: str) -> TextIO:
    """Open a CSV for streaming (plain blocking I/O: the import is a batch job, not a handler)."""
    if mode == "w":
        return open(path, "w", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


# CPython hands the GIL to a waiting thread after this long (its default: 5 ms); see _handoffs.
IMPORT_SWITCH_INTERVAL: Final = 0.0005
_importing = 0  # imports running in this process (the interval is the process's)
_saved_interval = 0.005  # the interval before the first of them began


@contextlib.contextmanager
def _handoffs() -> Iterator[None]:
    """Quick GIL hand-offs while an import runs.

    This thread validates without pause while the connection's thread feeds the batch before
    to the database (COPY on PostgreSQL). Each time that thread waits on its socket it must get
    the GIL back from the validator, which keeps it up to the switch interval: with CPython's
    5 ms the writer spent much of each batch waiting for the GIL, not for the server. 0.5 ms
    while any import runs, then the interval as it was: measured in docs/storage.md.
    """
    global _importing, _saved_interval
    if _importing == 0:
        _saved_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(_saved_interval, IMPORT_SWITCH_INTERVAL))
    _importing += 1
    try:
        yield
    finally:
        _importing -= 1
        if _importing == 0:
            sys.setswitchinterval(_saved_interval)


async def import_roster(
    db: Database,
    path: str | Path,
    *,
    now: datetime,
    today: date,
    skip_invalid: bool = False,
    rejects_path: str | Path | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import a roster CSV (see the module docstring for the format and the two modes)."""
    with _handoffs():
        return await _import(db, path, now, today, skip_invalid, rejects_path, batch_size)


async def _import(
    db: Database,
    path: str | Path,
    now: datetime,
    today: date,
    skip_invalid: bool,
    rejects_path: str | Path | None,
    batch_size: int,
) -> ImportReport:
    report = ImportReport(path=str(path), skip_invalid=skip_invalid)
    try:
        handle = _open_text(path, "r")
    except OSError as err:
        raise RosterFormatError("roster.unreadable", reason=err.strerror or str(err)) from None
    rejects: TextIO | None = None
    stage = roster_repo.roster_stage(db)
    stamp = now.isoformat()
    await stage.open(stamp=stamp)
    # One batch is written while the next is validated: the connection's thread (and, on
    # PostgreSQL, the server) works while this thread parses.
    staging: list[asyncio.Future[None]] = []  # the batch being written, if any

    async def stage_batch(rows: list[tuple[str, _Values]]) -> None:
        while staging:
            await staging.pop()
        staging.append(asyncio.ensure_future(stage.add(rows)))
        await asyncio.sleep(0)  # let it hand the rows to the connection's thread

    try:
        raw_header, header, delimiter, records = _open_records(handle)
        report.delimiter = delimiter
        if rejects_path is not None:
            rejects = _open_text(rejects_path, "w")
            report.rejects_path = str(rejects_path)
        reject_writer = None if rejects is None else csv.writer(rejects, delimiter=delimiter)
        if reject_writer is not None:
            reject_writer.writerow(csv_row([*raw_header, "baris", "alasan"]))
        validator = _Validator(header, today=today)
        batch: list[tuple[str, _Values]] = []
        # All or nothing: after the first bad row nothing will be written, so stop staging
        # (validation goes on, to report every error).
        for record in records:
            line = records.line_num + 1  # type: ignore[attr-defined]  # + header line
            if not record or (not record[0].strip() and not any(c.strip() for c in record)):
                continue  # blank lines (spreadsheets add them at the end)
            report.rows += 1
            nik, values, errors, warnings = validator.validate(record, line)
            for w in warnings:
                report._warning(w)
            if values is None:
                report.rejected += 1
                for e in errors:
                    report._error(e)
                if reject_writer is not None:
                    reason = "; ".join(e.text() for e in errors)
                    reject_writer.writerow(csv_row([*record, line, reason]))
                if not skip_invalid:
                    batch.clear()
                continue
            assert nik is not None
            report.valid += 1
            if skip_invalid or not report.rejected:
                batch.append((nik, values))
                if len(batch) >= batch_size:
                    await stage_batch(batch)
                    batch = []
        if batch and (skip_invalid or not report.rejected):
            await stage_batch(batch)
        while staging:
            await staging.pop()
        if report.rejected and not skip_invalid:
            return report  # nothing committed
        report.unchanged = await stage.drop_unchanged()
        report.inserted, report.updated = await stage.switch(stamp=stamp)
        report.committed = True
    except UnicodeDecodeError:
        raise RosterFormatError("roster.not_utf8") from None
    finally:
        handle.close()
        if rejects is not None:
            rejects.close()
        while staging:  # an error while a batch was being written: let it end first
            with contextlib.suppress(Exception):
                await staging.pop()
        with contextlib.suppress(Exception):
            await stage.close()
        logger.info(
            "roster import",
            extra={
                "rows": report.rows,
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
                "committed": report.committed,
            },
        )
    return report


def read_header(text: str) -> list[str]:
    """The normalised header of a CSV text (for tests and previews)."""
    return _open_records(io.StringIO(text))[1]
