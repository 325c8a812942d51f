"""Shared pieces of the admin commands: output, refusals, argument and database helpers."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from lingkaran.settings import documents_dir_for, is_postgres_target
from lingkaran_core.clock import WIB, Clock, OffsetClock, wib_today
from lingkaran_core.errors import DomainError
from lingkaran_core.importers import SECTOR_NAMES
from lingkaran_core.regions import Desa, Kecamatan, load_regions
from lingkaran_core.rules import Opd
from lingkaran_core.storage import Database, backup
from lingkaran_core.textsafe import plain

DEFAULT_DB = "data/lingkaran.db"
MAX_ERRORS_SHOWN = 20

OPD_LABELS = {
    Opd.DISNAKER: "Disnaker",
    Opd.KESRA: "Bagian Kesra",
    Opd.TPHP: "Dinas TPHP",
    Opd.DISKOP_UMKM: "Dinas Koperasi UMKM",
    Opd.UNKNOWN: "(not stated)",
}


class CliError(Exception):
    """A refusal with its message and exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# -- output -------------------------------------------------------------------------------------


def out(text: str = "") -> None:
    """Write a line to stdout, without control characters (names and texts come from users)."""
    sys.stdout.write(plain(text, keep_newlines=True) + "\n")


def err(text: str) -> None:
    """Write a line to stderr, without control characters."""
    sys.stderr.write(plain(text, keep_newlines=True) + "\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table; numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(v))
    numeric = [
        all(isinstance(row[i], int) for row in rows if row[i] != "") if rows else False
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i]) for i, v in enumerate(values)
        ]
        return "  ".join(parts).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(headers)), sep, *(line(r) for r in cells)])


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def rupiah(amount: int) -> str:
    """``Rp42.000.000``."""
    return "Rp" + f"{amount:,}".replace(",", ".")


def wib(value: datetime | str | None) -> str:
    """An instant in Jakarta time."""
    if value is None:
        return "-"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M WIB")


def sector_label(code: str) -> str:
    """The sector's human name."""
    names = SECTOR_NAMES.get(code)
    return names[0] if names else code


def desa_label(code: str | None) -> str:
    """``Sukoreno, Kec. Kalisat (35.09.27.2002)``."""
    if not code:
        return "-"
    regions = load_regions()
    desa = regions.desa(code)
    if desa is None:
        return code
    return f"{desa.name}, Kec. {regions.kecamatan_of(desa).name} ({desa.code})"


def describe(error: DomainError) -> str:
    """A domain error as one line for the terminal."""
    if not error.params:
        return error.code
    return error.code + " (" + ", ".join(f"{k}={v}" for k, v in error.params.items()) + ")"


# -- arguments and database ----------------------------------------------------------------------


def _today_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _today(args: argparse.Namespace) -> date:
    """Today in Jember by the command's clock (``--today`` / ``--now`` already applied)."""
    return wib_today(args.clock)


def _now_arg(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an instant (ISO 8601): {text!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=WIB)


def command_clock(base: Clock, args: argparse.Namespace) -> Clock:
    """The process clock, moved by ``--now`` (that instant) or ``--today`` (that day, WIB).

    Everything the command records (audit rows, outbox rows, claim events) and every rule it
    decides then agrees on the chosen instant.
    """
    now: datetime | None = getattr(args, "now", None)
    today: date | None = getattr(args, "today", None)
    if now is not None and today is not None and now.astimezone(WIB).date() != today:
        raise CliError("--now and --today disagree: give one of them")
    if now is not None:
        return OffsetClock.starting_at(base, now)
    if today is not None:
        return OffsetClock.on_day(base, today)
    return base


async def open_db(args: argparse.Namespace) -> Database:
    """The database ``--db`` names (file or PostgreSQL URL), documents where settings say."""
    settings = getattr(args, "settings", None)
    files = settings.files_dir if settings is not None else None
    return await Database.open(args.db, files_dir=documents_dir_for(args.db, files))


def _require_db(args: argparse.Namespace) -> None:
    if is_postgres_target(args.db):
        return  # a server database: opening it says whether it exists
    path = Path(args.db)
    if not path.exists():
        raise CliError(
            f"database {path} does not exist (create it with `init-db`, `demo-data` or "
            "`import-roster`, or pass --db)"
        )


async def _open(args: argparse.Namespace) -> Database:
    try:
        return await open_db(args)
    except backup.StorageError as exc:
        raise CliError(f"cannot open database {args.db}: {exc}") from None


def _with_db(
    body: Callable[[Database, argparse.Namespace], Awaitable[int]], *, create: bool = False
) -> Callable[[argparse.Namespace], int]:
    """Run ``body`` with an open database inside one ``asyncio.run``."""

    def run(args: argparse.Namespace) -> int:
        if not create:
            _require_db(args)
        file_arg = getattr(args, "file", None)
        if file_arg is not None and not Path(file_arg).is_file():
            raise CliError(f"no such file: {file_arg}")

        async def go() -> int:
            db = await _open(args)
            try:
                return await body(db, args)
            finally:
                await db.close()

        return asyncio.run(go())

    return run


def _digits(text: str) -> str:
    return "".join(c for c in text if not c.isspace() and c not in ".-")


def _resolve_kecamatan(text: str) -> Kecamatan:
    regions = load_regions()
    found = regions.kecamatan(text) or regions.resolve_kecamatan(text).match
    if found is None:
        options = ", ".join(m.kecamatan.name for m in regions.find_kecamatan(text))
        hint = f" (did you mean: {options}?)" if options else ""
        raise CliError(f"unknown kecamatan: {text!r}{hint}")
    return found


def _resolve_desa(text: str, kecamatan: str | None = None) -> Desa:
    regions = load_regions()
    by_code = regions.desa(text)
    if by_code is not None:
        return by_code
    query = text if kecamatan is None else f"{text} kec {_resolve_kecamatan(kecamatan).name}"
    resolution = regions.resolve_desa(query)
    if resolution.match is not None:
        return resolution.match
    if resolution.candidates:
        options = "; ".join(desa_label(c.desa.code) for c in resolution.candidates)
        raise CliError(f"desa {text!r} is ambiguous or unclear; candidates: {options}")
    raise CliError(f"unknown desa: {text!r} (give a Jember desa code like 35.09.27.2002)")


def _kec_label(code: str) -> str:
    kec = load_regions().kecamatan(code)
    return code if kec is None else f"Kec. {kec.name} ({kec.code})"
