"""``python bot.py admin ...``: the OPD staff's command line.

Commands (each takes ``--db PATH``, default ``$LINGKARAN_DB`` or ``data/lingkaran.db``)::

    init-db
    demo-data [--workers N] [--seed S] [--today D] [--replace]
    import-roster FILE [--skip-invalid] [--rejects OUT.csv] [--today D]
    stats [--today D]
    worker show NIK [--unmasked] [--today D]
    facilitator add --name NAME (--desa CODE|NAME [--kecamatan CODE|NAME] | --kecamatan CODE|NAME)
                    --phone PHONE [--ttl-hours H]
    facilitator list | revoke ID | new-code ID [--ttl-hours H]
    claims list [--status S] [--desa CODE|NAME] [--type T] [--limit N]
    claims show REF
    claims set-status REF STATUS [--note TEXT]
    claims export REF --out DIR
    registrations list | verify ID [--today D] | reject ID --reason TEXT
    outbox [--limit N]
    tickets [list [--all] | show ID | reply ID --message TEXT | close ID]   (admin_tickets.py)
    backup --out FILE
    restore FILE [--force]

Exit codes: 0 done; 1 refused (unknown NIK/claim/desa, forbidden change, bad rows, missing
database); 2 usage (unknown command, bad option value). Errors are one line on stderr, never a
traceback. Commands other than init-db, demo-data, import-roster and restore refuse a database
path that does not exist rather than creating an empty one.

The output is for OPD staff at a terminal. NIKs are masked (``3509********0001``) except where
the task needs the full number: ``worker show --unmasked``, ``claims export`` (BPJS TK needs it)
and the demo's synthetic sample workers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lingkaran.settings import Settings
from lingkaran_core import demo as demo_mod
from lingkaran_core import facilitators as fac
from lingkaran_core import opd, services
from lingkaran_core.claims import (
    Actor,
    ClaimStatus,
    ClaimType,
    allowed_targets,
)
from lingkaran_core.clock import Clock, OffsetClock, wib_today
from lingkaran_core.coverage import CoverageStatus, coverage_status
from lingkaran_core.errors import DomainError, IllegalTransition, InvalidNIK, InvalidPhone
from lingkaran_core.identity import mask_nik, mask_phone, normalize_phone, parse_nik
from lingkaran_core.importers import SECTOR_NAMES, RosterFormatError, import_roster
from lingkaran_core.regions import Desa, Kecamatan, load_regions
from lingkaran_core.retention import run_retention
from lingkaran_core.rules import Opd
from lingkaran_core.stats import collect_stats
from lingkaran_core.storage import Database, Tx, admin_repo, backup, funding_repo
from lingkaran_core.storage.db import dumps
from lingkaran_core.storage.repos import (
    Claim,
    claim_by_ref,
    claim_events,
    worker_by_id,
    worker_by_nik,
)
from lingkaran_core.textsafe import plain

DEFAULT_DB = "data/lingkaran.db"
WIB = ZoneInfo("Asia/Jakarta")
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


def _require_db(args: argparse.Namespace) -> None:
    path = Path(args.db)
    if not path.exists():
        raise CliError(
            f"database {path} does not exist (create it with `init-db`, `demo-data` or "
            "`import-roster`, or pass --db)"
        )


async def _open(args: argparse.Namespace) -> Database:
    try:
        return await Database.open(args.db)
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


# -- init-db, demo-data, import-roster, stats ------------------------------------------------------


async def _init_db(db: Database, args: argparse.Namespace) -> int:
    async with db.read() as r:
        applied = await admin_repo.applied_migrations(r)
    out(f"database ready: {db.path}")
    out(f"migrations: {', '.join(applied)}")
    return 0


async def _demo_data(db: Database, args: argparse.Namespace) -> int:
    today = _today(args)
    now = args.clock()
    if args.today is not None:
        # Keep instants consistent with the chosen day (10:00 WIB on it).
        now = datetime.combine(today, datetime.min.time(), WIB).replace(hour=10).astimezone(UTC)
    result = await demo_mod.generate_demo(
        db, workers=args.workers, seed=args.seed, today=today, now=now, replace=args.replace
    )
    if not result.created:
        out(
            f"{db.path} already holds demo data ({result.workers:,} workers, seed {result.seed}, "
            f"generated for {result.today}); nothing changed. Use --replace to regenerate it."
        )
    else:
        out(
            f"Demo data written to {db.path}: {result.workers:,} SYNTHETIC workers (seed {result.seed}, today {today})."
        )
        out("All names, NIKs (serials 9xxx) and claims are made up; no demo worker has a phone.")
        out()
        out(table(["Sector", "Workers"], [[sector_label(c), n] for c, n in result.sectors.items()]))
        out()
        out(table(["Coverage", "Workers"], sorted(result.coverage.items())))
        out()
        out(
            table(
                ["Claim status", "References"],
                [[s, ", ".join(r)] for s, r in result.claims.items()],
            )
        )
    out()
    out("Facilitator bind codes (send one to the bot, or /start CODE on Telegram):")
    async with db.read() as r:
        listing = await fac.list_facilitators(r)
    expiry = {x.facilitator.id: x.code_expires_at for x in listing}
    rows = []
    for f in demo_mod.DEMO_FACILITATORS:
        match = next((x for x in listing if x.facilitator.name == f.name), None)
        state = "-"
        if match is not None:
            state = (
                f"valid until {wib(expiry[match.facilitator.id])}"
                if match.code_pending
                else "already used or replaced"
            )
        scope = desa_label(f.scope_code) if f.scope_kind == "desa" else _kec_label(f.scope_code)
        rows.append([f.code, f.name, f"{f.scope_kind}: {scope}", state])
    out(table(["Code", "Facilitator", "Scope", "State"], rows))
    out()
    out(
        "Sample workers (synthetic): in the chat type the NIK and birth date, then the KPJ "
        "(the card number) as the second factor:"
    )
    today_status = [
        [
            s.name,
            s.nik,
            s.birth_date.strftime("%d-%m-%Y"),
            "-" if s.coverage is CoverageStatus.NOT_ENROLLED else f"990000000{s.nik[-2:]}",
            demo_mod.sample_status(s, today).value,
            desa_label(s.desa_code),
            s.note or "-",
        ]
        for s in demo_mod.SAMPLE_WORKERS
    ]
    out(table(["Name", "NIK", "Born", "KPJ", "Coverage", "Desa", "Note"], today_status))
    return 0


def _kec_label(code: str) -> str:
    kec = load_regions().kecamatan(code)
    return code if kec is None else f"Kec. {kec.name} ({kec.code})"


async def _import_roster(db: Database, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        report = await import_roster(
            db,
            path,
            now=args.clock(),
            today=_today(args),
            skip_invalid=args.skip_invalid,
            rejects_path=args.rejects,
        )
    except RosterFormatError as exc:
        raise CliError(f"cannot import {path}: {describe(exc)}") from None
    out(f"{path}: {report.rows:,} rows read (separator {report.delimiter!r})")
    for issue in report.errors[:MAX_ERRORS_SHOWN]:
        out(f"  baris {issue.line}: {issue.text()}")
    if report.error_count > MAX_ERRORS_SHOWN:
        out(f"  ... and {report.error_count - MAX_ERRORS_SHOWN:,} more errors")
    if report.warning_count:
        out(f"warnings: {report.warning_count:,} (rows imported anyway)")
        for issue in report.warnings[:5]:
            out(f"  baris {issue.line}: {issue.text()}")
    if report.rejects_path:
        out(f"rejected rows written to {report.rejects_path}")
    if not report.committed:
        err(
            f"nothing imported: {report.rejected:,} bad rows ({report.error_count:,} errors). "
            "Fix them, or import the good rows with --skip-invalid [--rejects OUT.csv]."
        )
        return 1
    out(
        f"imported: {report.inserted:,} new, {report.updated:,} updated, "
        f"{report.unchanged:,} unchanged, {report.rejected:,} rejected"
    )
    return 0


async def _stats(db: Database, args: argparse.Namespace) -> int:
    today = _today(args)
    async with db.read() as r:
        s = await collect_stats(r, today=today)
    out(f"Lingkaran Cinta figures on {today} ({db.path})")
    out()
    rows: list[list[object]] = [
        [sector_label(x.sector), x.count, OPD_LABELS.get(x.opd, str(x.opd)), x.published_2025]
        for x in s.sectors
    ]
    published = sum(x.published_2025 or 0 for x in s.sectors)
    rows.append(["Total", s.total_workers, "", published])
    out(table(["Sector", "Workers", "Managing OPD", "Published 2025"], rows))
    out()
    out(table(["Coverage status", "Workers"], [[k, v] for k, v in s.coverage.items()]))
    out()
    out(table(["Registration", "Workers"], [[k, v] for k, v in s.registrations.items()]))
    out()
    statuses = [st.value for st in ClaimStatus]
    claim_rows: list[list[object]] = [
        [t, *(by.get(st, 0) for st in statuses), sum(by.values())] for t, by in s.claims.items()
    ]
    out(table(["Claims", *statuses, "total"], claim_rows))
    out()
    b = s.benefits
    out(
        f"Benefits paid: {b.count:,} claims, {rupiah(b.total)}"
        + (f" ({b.estimated} JKM claims counted at the fixed Rp42.000.000)" if b.estimated else "")
    )
    for t, (n, amount) in sorted(b.by_type.items()):
        out(f"  {t}: {n:,} claims, {rupiah(amount)}")
    return 0


# -- workers ---------------------------------------------------------------------------------------


async def _worker_show(db: Database, args: argparse.Namespace) -> int:
    today = _today(args)
    try:
        nik = parse_nik(args.nik, today=today).value
    except InvalidNIK as exc:
        raise CliError(f"not a valid NIK: {describe(exc)}") from None
    async with db.read() as r:
        w = await worker_by_nik(r, nik)
        if w is None:
            raise CliError(f"no worker with NIK {mask_nik(nik)}")
        chats = len(await admin_repo.worker_chat_ids(r, w.id))
        claims = await admin_repo.worker_claims(r, w.id)
    show = args.unmasked
    cov = coverage_status(start=w.coverage_start, paid_through=w.paid_through, today=today)
    fields: list[tuple[str, object]] = [
        ("Worker id", w.id),
        ("NIK", w.nik if show else mask_nik(w.nik)),
        ("Name", w.name),
        ("Born", w.birth_date.isoformat()),
        ("Sex", w.sex),
        ("Desa", desa_label(w.desa_code)),
        ("Sector", sector_label(w.sector)),
        ("Occupation", w.occupation),
        ("Phone", (w.phone if show else mask_phone(w.phone)) if w.phone else None),
        ("DTSEN decile", w.dtsen_decile),
        ("KPJ", (w.kpj if show else mask_nik(w.kpj)) if w.kpj else None),
        (
            "Registration",
            w.registration_status + (f" ({w.rejection_reason})" if w.rejection_reason else ""),
        ),
        ("Coverage start", w.coverage_start),
        ("Paid through", w.paid_through),
        (f"Coverage on {today}", cov.status.value),
        ("Protected until", cov.protected_until),
        ("Unpaid months", cov.unpaid_months),
        ("Reactivate by", cov.reactivate_by),
        ("Deceased on", w.deceased_on),
        ("Linked chats", chats),
    ]
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        out(f"{key.ljust(width)}  {_cell(value)}")
    if claims:
        out()
        out(table(["Claim", "Type", "Status", "Event"], [list(c) for c in claims]))
    return 0


# -- facilitators ----------------------------------------------------------------------------------


async def _facilitator_add(db: Database, args: argparse.Namespace) -> int:
    if args.desa:
        desa = _resolve_desa(args.desa, args.kecamatan)
        scope_kind, scope_code, scope_text = "desa", desa.code, desa_label(desa.code)
    elif args.kecamatan:
        kec = _resolve_kecamatan(args.kecamatan)
        scope_kind, scope_code, scope_text = "kecamatan", kec.code, _kec_label(kec.code)
    else:
        raise CliError("give --desa (a desa facilitator) or --kecamatan (a kecamatan one)", 2)
    try:
        phone = normalize_phone(args.phone)
    except InvalidPhone as exc:
        raise CliError(f"not a usable mobile number: {describe(exc)}") from None
    now = args.clock()
    ttl = timedelta(hours=args.ttl_hours)
    async with db.tx() as tx:
        fid, code = await fac.create_facilitator(
            tx,
            name=args.name,
            phone=phone,
            scope_kind=scope_kind,
            scope_code=scope_code,
            now=now,
            ttl=ttl,
        )
    out(f"facilitator #{fid}: {args.name.strip()}, {scope_kind} {scope_text}")
    out(f"one-time code: {code}   (valid until {wib(now + ttl)}; shown once, stored hashed)")
    out("The facilitator sends this code to the bot (or opens t.me/<bot>?start=CODE).")
    return 0


async def _facilitator_list(db: Database, args: argparse.Namespace) -> int:
    now = args.clock()
    async with db.read() as r:
        listing = await fac.list_facilitators(r)
    rows = []
    for x in listing:
        f = x.facilitator
        if x.revoked_at is not None:
            state = f"revoked {wib(x.revoked_at)}"
        elif f.bound_chat_id is not None:
            state = f"bound to chat {f.bound_chat_id} since {wib(x.bound_at)}"
        elif x.code_pending and x.code_expires_at is not None and x.code_expires_at > now:
            state = f"code pending until {wib(x.code_expires_at)}"
        elif x.code_pending:
            state = "code expired (use new-code)"
        else:
            state = "no code (use new-code)"
        scope = desa_label(f.scope_code) if f.scope_kind == "desa" else _kec_label(f.scope_code)
        phone = mask_phone(f.phone) if f.phone else None
        rows.append([f.id, f.name, phone, f"{f.scope_kind}: {scope}", state])
    if not rows:
        out("no facilitators yet (add one with `facilitator add`)")
        return 0
    out(table(["Id", "Name", "Phone", "Scope", "State"], rows))
    return 0


async def _facilitator_revoke(db: Database, args: argparse.Namespace) -> int:
    async with db.tx() as tx:
        f = await fac.revoke_facilitator(tx, args.id, args.clock())
    out(f"facilitator #{f.id} {f.name} revoked: code invalid, chat unbound")
    return 0


async def _facilitator_new_code(db: Database, args: argparse.Namespace) -> int:
    async with db.tx() as tx:
        code, expires = await fac.new_code(
            tx, args.id, args.clock(), ttl=timedelta(hours=args.ttl_hours)
        )
    out(f"new one-time code for facilitator #{args.id}: {code}   (valid until {wib(expires)})")
    out("The old code and any chat bound with it no longer work.")
    return 0


# -- claims ------------------------------------------------------------------------------------------


async def _claim_or_fail(tx: Tx, ref: str) -> Claim:
    claim = await claim_by_ref(tx, ref.strip())
    if claim is None:
        raise CliError(f"no claim {ref.strip().upper()}")
    return claim


async def _claims_list(db: Database, args: argparse.Namespace) -> int:
    wanted = admin_repo.ClaimFilter(
        status=args.status,
        type=args.type,
        desa_code=_resolve_desa(args.desa).code if args.desa else None,
        limit=args.limit,
    )
    async with db.read() as r:
        rows = await admin_repo.list_claims(r, wanted)
    if not rows:
        out("no claims match")
        return 0
    table_rows = []
    for c in rows:
        regions = load_regions()
        desa = regions.desa(c["desa_code"]) if c["desa_code"] else None
        subject = c["subject_name"] or "-"
        if c["subject_nik"]:
            subject += f" ({mask_nik(c['subject_nik'])})"
        needed = len(json.loads(c["checklist"] or "[]"))
        table_rows.append(
            [
                c["ref"],
                c["type"],
                c["status"],
                c["event_date"],
                desa.name if desa else "-",
                subject,
                wib(c["reported_at"]),
                f"{c['docs']}/{needed}",
                "LATE" if c["late_report"] else "",
            ]
        )
    out(
        table(
            ["Ref", "Type", "Status", "Event", "Desa", "Subject", "Reported", "Docs", ""],
            table_rows,
        )
    )
    return 0


async def _claim_details(tx: Tx, claim: Claim) -> dict[str, Any]:
    events = await claim_events(tx, claim.id)
    docs = await admin_repo.claim_documents(tx, claim.id)
    received = sorted({d["kind"] for d in docs})
    worker = None if claim.worker_id is None else await worker_by_id(tx, claim.worker_id)
    return {
        "events": [dict(e) for e in events],
        "documents": [dict(d) for d in docs],
        "missing": services.missing_documents(claim, received),
        "worker": worker,
    }


async def _claims_show(db: Database, args: argparse.Namespace) -> int:
    async with db.read() as r:
        claim = await _claim_or_fail(r, args.ref)
        d = await _claim_details(r, claim)
    fields: list[tuple[str, object]] = [
        ("Ref", claim.ref),
        ("Type", claim.type),
        ("Status", claim.status),
        ("Event date", claim.event_date),
        ("Reported", wib(claim.reported_at) + ("  (LATE)" if claim.late_report else "")),
        ("Desa", desa_label(claim.desa_code)),
        ("Subject", claim.subject_name),
        ("Subject NIK", mask_nik(claim.subject_nik) if claim.subject_nik else None),
        ("On roster", f"worker #{claim.worker_id}" if claim.worker_id else "no (match by hand)"),
        ("Claimant", claim.claimant_name),
        ("Relation", claim.relation),
        ("Reporter chat", claim.reporter_chat_id),
        ("Facilitator", claim.facilitator_id),
    ]
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        out(f"{key.ljust(width)}  {_cell(value)}")
    answers = {k: v for k, v in claim.answers.items() if k != "demo"}
    if answers:
        out(f"{'Answers'.ljust(width)}  {json.dumps(answers, ensure_ascii=False)}")
    out()
    out("History:")
    out(
        table(
            ["At", "From", "To", "Actor", "Channel", "Note"],
            [
                [
                    wib(e["at"]),
                    e["from_status"],
                    e["to_status"],
                    e["actor"],
                    e["channel"],
                    e["note"],
                ]
                for e in d["events"]
            ],
        )
    )
    out()
    if d["documents"]:
        out("Documents:")
        out(
            table(
                ["Kind", "Type", "Bytes", "Received", "File"],
                [
                    [x["kind"], x["mime"], x["size"], wib(x["received_at"]), x["path"]]
                    for x in d["documents"]
                ],
            )
        )
    else:
        out("Documents: none yet")
    out(f"Missing: {', '.join(d['missing']) if d['missing'] else 'nothing'}")
    nexts = allowed_targets(ClaimStatus(claim.status), actor=Actor.ADMIN)
    out(f"Admin can set: {', '.join(nexts) if nexts else '(final state)'}")
    return 0


async def _claims_set_status(db: Database, args: argparse.Namespace) -> int:
    target = ClaimStatus(args.status)
    async with db.tx() as tx:
        claim = await _claim_or_fail(tx, args.ref)
        try:
            updated = await services.transition_claim(
                tx,
                claim.ref,
                target,
                actor=Actor.ADMIN,
                now=args.clock(),
                actor_ref=args.settings.admin_actor,
                channel="admin",
                note=args.note,
            )
        except IllegalTransition as exc:
            current = ClaimStatus(claim.status)
            allowed = allowed_targets(current, actor=Actor.ADMIN)
            if exc.code == "claim.reason_required":
                raise CliError(f"rejecting {claim.ref} needs a reason: add --note TEXT") from None
            options = ", ".join(allowed) if allowed else "none (final state)"
            raise CliError(
                f"cannot move {claim.ref} from {current} to {target}; allowed for the admin: "
                f"{options}"
            ) from None
    out(f"{updated.ref}: {claim.status} -> {updated.status} (notifications queued)")
    return 0


def _summary_text(claim: Claim, d: dict[str, Any], cov: str | None) -> str:
    w = d["worker"]
    lines = [
        f"LAPORAN KLAIM {claim.ref} - Lingkaran Cinta (Pemkab Jember)",
        "PERHATIAN: berisi NIK lengkap (data pribadi). Hanya untuk diteruskan ke BPJS "
        "Ketenagakerjaan; simpan dan kirim dengan aman.",
        "",
        f"Jenis klaim        : {claim.type}",
        f"Status             : {claim.status}",
        f"Tanggal kejadian   : {claim.event_date}",
        f"Dilaporkan         : {wib(claim.reported_at)}"
        + (" (TERLAMBAT)" if claim.late_report else ""),
        f"Desa               : {desa_label(claim.desa_code)}",
        "",
        "PESERTA",
        f"Nama               : {claim.subject_name or (w.name if w else '-')}",
        f"NIK                : {claim.subject_nik or (w.nik if w else '-')}",
    ]
    if w is not None:
        lines += [
            f"Tanggal lahir      : {w.birth_date}",
            f"KPJ                : {w.kpj or '-'}",
            f"Sektor             : {sector_label(w.sector)}",
            f"Pekerjaan          : {w.occupation or '-'}",
            f"Mulai perlindungan : {w.coverage_start or '-'}",
            f"Iuran dibayar s.d. : {w.paid_through or '-'}",
            f"Status pada tanggal kejadian: {cov}",
        ]
    else:
        lines.append("Tidak ditemukan di daftar peserta: cocokkan manual.")
    lines += [
        "",
        "PELAPOR / AHLI WARIS",
        f"Nama               : {claim.claimant_name or '-'}",
        f"NIK                : {claim.claimant_nik or '-'}",
        f"No. HP             : {claim.claimant_phone or '-'}",
        f"Hubungan           : {claim.relation or '-'}",
        "",
        "DOKUMEN",
    ]
    for i, doc in enumerate(d["documents"], 1):
        lines.append(f"  {i}. {doc['kind']} ({doc['mime']}, {doc['size']} byte) {doc['file']}")
    lines.append(f"Kurang: {', '.join(d['missing']) if d['missing'] else 'tidak ada'}")
    lines += ["", "RIWAYAT"]
    for e in d["events"]:
        lines.append(
            f"  {wib(e['at'])}  {e['from_status'] or '-'} -> {e['to_status']}  ({e['actor']})"
            + (f"  {e['note']}" if e["note"] else "")
        )
    answers = {k: v for k, v in claim.answers.items() if k != "demo"}
    if answers:
        lines += ["", "JAWABAN", json.dumps(answers, ensure_ascii=False, indent=2)]
    return "\n".join(lines) + "\n"


def _copy_documents(folder: Path, documents: list[dict[str, Any]]) -> None:
    """Copy a claim's files into ``folder/dokumen`` and note each copy's name."""
    docs_dir = folder / "dokumen"
    docs_dir.mkdir(parents=True, exist_ok=True)
    for i, doc in enumerate(documents, 1):
        source = Path(doc["path"])
        target = docs_dir / f"{i:02d}-{doc['kind']}{source.suffix}"
        if source.is_file():
            shutil.copyfile(source, target)
            doc["file"] = f"dokumen/{target.name}"
        else:
            doc["file"] = "(FILE MISSING on the server)"


def _write_summaries(folder: Path, text: str, summary: dict[str, Any]) -> None:
    (folder / "summary.txt").write_text(text, encoding="utf-8")
    (folder / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )


async def _claims_export(db: Database, args: argparse.Namespace) -> int:
    async with db.tx() as tx:
        claim = await _claim_or_fail(tx, args.ref)
        d = await _claim_details(tx, claim)
        folder = Path(args.out) / claim.ref
        await asyncio.to_thread(_copy_documents, folder, d["documents"])
        w = d["worker"]
        cov = None
        if w is not None:
            cov = coverage_status(
                start=w.coverage_start, paid_through=w.paid_through, today=claim.event_date
            ).status.value
        text = _summary_text(claim, d, cov)
        summary = {
            "notice": "Contains full NIKs (personal data): only for forwarding to BPJS TK.",
            "claim": {
                "ref": claim.ref,
                "type": claim.type,
                "status": claim.status,
                "event_date": claim.event_date.isoformat(),
                "event_at": claim.event_at,
                "reported_at": claim.reported_at,
                "late_report": claim.late_report,
                "desa_code": claim.desa_code,
                "subject_name": claim.subject_name,
                "subject_nik": claim.subject_nik,
                "claimant_name": claim.claimant_name,
                "claimant_nik": claim.claimant_nik,
                "claimant_phone": claim.claimant_phone,
                "relation": claim.relation,
                "answers": claim.answers,
                "checklist": claim.checklist,
                "missing_documents": d["missing"],
            },
            "worker": None
            if w is None
            else {
                "nik": w.nik,
                "name": w.name,
                "birth_date": w.birth_date.isoformat(),
                "sex": w.sex,
                "desa_code": w.desa_code,
                "sector": w.sector,
                "occupation": w.occupation,
                "kpj": w.kpj,
                "coverage_start": None
                if w.coverage_start is None
                else w.coverage_start.isoformat(),
                "paid_through": None if w.paid_through is None else w.paid_through.isoformat(),
                "coverage_on_event_date": cov,
            },
            "documents": [
                {k: doc[k] for k in ("kind", "mime", "size", "sha256", "received_at", "file")}
                for doc in d["documents"]
            ],
            "events": d["events"],
        }
        await asyncio.to_thread(_write_summaries, folder, text, summary)
        await services.audit(
            tx,
            now=args.clock(),
            actor_kind="admin",
            actor_id=args.settings.admin_actor,
            action="claim.export",
            target_kind="claim",
            target_id=claim.ref,
            channel="admin",
            details={"documents": len(d["documents"])},
        )
    out(
        f"exported {claim.ref} to {folder}: summary.txt, summary.json, {len(d['documents'])} documents"
    )
    out("It contains full NIKs: hand it only to BPJS Ketenagakerjaan, over a safe channel.")
    if d["missing"]:
        out(f"still missing: {', '.join(d['missing'])}")
    return 0


# -- registrations ---------------------------------------------------------------------------------


async def _registrations_list(db: Database, args: argparse.Namespace) -> int:
    async with db.read() as r:
        rows = await admin_repo.pending_registrations(r)
    if not rows:
        out("no registrations waiting")
        return 0
    out(
        table(
            ["Id", "NIK", "Name", "Desa", "Sector", "By", "Registered"],
            [
                [
                    x.id,
                    mask_nik(x.nik),
                    x.name,
                    desa_label(x.desa_code),
                    sector_label(x.sector or ""),
                    x.facilitator_name,
                    wib(x.created_at),
                ]
                for x in rows
            ],
        )
    )
    return 0


def _registration_error(exc: DomainError) -> CliError:
    if exc.code == "registration.not_found":
        return CliError(f"no worker #{exc.params['worker_id']}")
    if exc.code == "registration.not_waiting":
        return CliError(
            f"worker #{exc.params['worker_id']} is not waiting for verification "
            f"(registration status: {exc.params['status']})"
        )
    if exc.code == "registration.reason_required":
        return CliError("a rejection needs --reason TEXT", 2)
    return CliError(describe(exc))


async def _registrations_verify(db: Database, args: argparse.Namespace) -> int:
    try:
        async with db.tx() as tx:
            done = await opd.verify_registration(
                tx,
                args.id,
                actor=args.settings.admin_actor,
                today=_today(args),
                now=args.clock(),
            )
    except DomainError as exc:
        raise _registration_error(exc) from None
    out(
        f"worker #{done.worker_id} {done.name} verified; coverage start {done.coverage_start}; "
        f"{done.chats_notified} chats notified"
    )
    return 0


async def _registrations_reject(db: Database, args: argparse.Namespace) -> int:
    try:
        async with db.tx() as tx:
            done = await opd.reject_registration(
                tx, args.id, reason=args.reason, actor=args.settings.admin_actor, now=args.clock()
            )
    except DomainError as exc:
        raise _registration_error(exc) from None
    told = " (facilitator notified)" if done.chats_notified else ""
    out(f"worker #{done.worker_id} {done.name} rejected: {args.reason.strip()}{told}")
    return 0


# -- outbox ------------------------------------------------------------------------------------------


async def _funding_add(db: Database, args: argparse.Namespace) -> int:
    if args.until < args.start:
        raise CliError("--until is before --from")
    if args.sector and args.sector not in SECTOR_NAMES:
        raise CliError(f"unknown sector {args.sector!r}; one of: {', '.join(SECTOR_NAMES)}")
    async with db.tx() as tx:
        pid = await funding_repo.add_period(
            tx,
            funder=args.funder.strip(),
            reference=args.reference.strip(),
            starts_on=args.start,
            ends_on=args.until,
            sector=args.sector,
            now=args.clock(),
        )
        await services.audit(
            tx,
            now=args.clock(),
            actor_kind="admin",
            actor_id=args.settings.admin_actor,
            action="funding.add",
            target_kind="funding_period",
            target_id=pid,
            channel="admin",
            details={
                "reference": args.reference,
                "from": str(args.start),
                "until": str(args.until),
            },
        )
    scope = sector_label(args.sector) if args.sector else "every sector"
    out(
        f"funded period #{pid}: {args.funder} {args.reference}, {args.start} to {args.until} ({scope})"
    )
    return 0


async def _funding_list(db: Database, args: argparse.Namespace) -> int:
    async with db.read() as r:
        periods = await funding_repo.all_periods(r)
    if not periods:
        out("no funded periods recorded: reminders say nothing about who pays next")
        return 0
    out(
        table(
            ["Id", "Funder", "Reference", "From", "Until", "Sector"],
            [
                [
                    p.id,
                    p.funder,
                    p.reference,
                    p.starts_on,
                    p.ends_on,
                    sector_label(p.sector) if p.sector else "all",
                ]
                for p in periods
            ],
        )
    )
    return 0


async def _retention_run(db: Database, args: argparse.Namespace) -> int:
    report = await run_retention(
        db, now=args.clock(), policy=args.settings.retention(), dry_run=args.dry_run
    )
    verb = "would forget" if report.dry_run else "forgot"
    out(
        f"conversations idle > {args.settings.retention_conversation_days} days: {verb} "
        f"{report.conversations}"
    )
    verb = "would delete" if report.dry_run else "deleted"
    out(
        f"files of claims closed > {args.settings.retention_document_days} days: {verb} "
        f"{report.documents} ({report.bytes_freed:,} bytes)"
    )
    return 0


async def _outbox_requeue(db: Database, args: argparse.Namespace) -> int:
    statuses = args.status or ["failed", "dead"]
    async with db.tx() as tx:
        n = await admin_repo.requeue_outbox(
            tx,
            now=args.clock(),
            statuses=statuses,
            channel=args.channel,
            msg_class=args.msg_class,
            since=args.since,
            until=args.until,
            dry_run=not args.yes,
        )
        if args.yes and n:
            await services.audit(
                tx,
                now=args.clock(),
                actor_kind="admin",
                actor_id=args.settings.admin_actor,
                action="outbox.requeue",
                target_kind="outbox",
                target_id=None,
                channel="admin",
                details={
                    "rows": n,
                    "statuses": statuses,
                    "channel": args.channel,
                    "class": args.msg_class,
                },
            )
    if not args.yes:
        out(f"{n} message(s) would go back to the queue; run again with --yes to do it")
    else:
        out(f"{n} message(s) back in the queue; a running bot sends them at its next pass")
    return 0


async def _outbox(db: Database, args: argparse.Namespace) -> int:
    from lingkaran_core.storage import outbox_repo

    if args.action == "requeue":
        return await _outbox_requeue(db, args)

    async with db.read() as r:
        counts = await outbox_repo.counts(r)
        queue = await outbox_repo.admin_queue(r, limit=args.limit)
        dead = await outbox_repo.dead_letters(r, limit=args.limit)
    if counts:
        out(
            table(
                ["Channel", "Status", "Messages"],
                [[c, s, n] for (c, s), n in sorted(counts.items())],
            )
        )
    else:
        out("outbox is empty")
    if queue:
        out()
        out("OPD queue (newest JKK reports, tickets without a facilitator, ...):")
        out(
            table(
                ["Id", "Key", "Params", "Queued"],
                [[q.id, q.msg_key, dumps(q.params), wib(q.created_at)] for q in queue],
            )
        )
    if dead:
        out()
        out("Given up:")
        out(
            table(
                ["Id", "Channel", "Key", "Attempts", "Error"],
                [[x.id, x.channel, x.msg_key, x.attempts, x.last_error] for x in dead],
            )
        )
    return 0


# -- backup and restore ------------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    try:
        backup.check_database_file(path)
    except backup.BackupError as exc:
        raise CliError(str(exc)) from None


def _backup(args: argparse.Namespace) -> int:
    source = Path(args.db)
    if not source.exists():
        raise CliError(f"database {source} does not exist")
    target = Path(args.out)
    if target.exists():
        raise CliError(f"{target} already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        backup.copy_database(source, target)
    except backup.BackupError as exc:
        target.unlink(missing_ok=True)
        raise CliError(f"backup failed: {exc}") from None
    _check_file(target)
    out(f"backup written: {target} ({target.stat().st_size:,} bytes, integrity ok)")
    out(f"claim documents are files under {source.parent / 'files'}: back that folder up too")
    return 0


def _restore(args: argparse.Namespace) -> int:
    source = Path(args.file)
    if not source.is_file():
        raise CliError(f"no such file: {source}")
    _check_file(source)
    target = Path(args.db)
    if target.exists() and not args.force:
        raise CliError(
            f"{target} exists; stop the bot, then pass --force to overwrite it with {source}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        backup.copy_database(source, target)
    except backup.BackupError as exc:
        raise CliError(f"restore failed: {exc}") from None

    async def migrate() -> None:
        db = await Database.open(target)
        await db.close()

    asyncio.run(migrate())
    _check_file(target)
    out(f"restored {target} from {source} (integrity ok)")
    return 0


# -- parser ------------------------------------------------------------------------------------------


def build_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    """The ``admin`` argument parser (``--db`` defaults to the settings' database)."""
    default_db = str(settings.db if settings is not None else DEFAULT_DB)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=default_db, help="database file (default %(default)s)")
    common.add_argument(
        "--now",
        type=_now_arg,
        default=None,
        help="act as of this instant (ISO 8601; WIB when no offset)",
    )
    dated = argparse.ArgumentParser(add_help=False)
    dated.add_argument(
        "--today", type=_today_arg, default=None, help="the day to compute for (YYYY-MM-DD)"
    )
    parser = argparse.ArgumentParser(
        prog="bot.py admin", description="Lingkaran Cinta administration (OPD staff)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init-db", parents=[common], help="create or migrate the database")
    p.set_defaults(func=_with_db(_init_db, create=True))

    p = sub.add_parser(
        "demo-data", parents=[common, dated], help="fill a database with SYNTHETIC demo data"
    )
    p.add_argument("--workers", type=int, default=demo_mod.DEFAULT_WORKERS)
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--replace", action="store_true", help="wipe existing demo data first")
    p.set_defaults(func=_with_db(_demo_data, create=True))

    p = sub.add_parser("import-roster", parents=[common, dated], help="import a roster CSV")
    p.add_argument("file")
    p.add_argument("--skip-invalid", action="store_true", help="import good rows, reject bad")
    p.add_argument("--rejects", help="write rejected rows (with baris, alasan) to this CSV")
    p.set_defaults(func=_with_db(_import_roster, create=True))

    p = sub.add_parser("stats", parents=[common, dated], help="programme figures")
    p.set_defaults(func=_with_db(_stats))

    worker = sub.add_parser("worker", help="look up workers").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = worker.add_parser("show", parents=[common, dated], help="one worker by NIK")
    p.add_argument("nik")
    p.add_argument("--unmasked", action="store_true", help="print the NIK, phone and KPJ in full")
    p.set_defaults(func=_with_db(_worker_show))

    facil = sub.add_parser("facilitator", help="village facilitators").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = facil.add_parser("add", parents=[common], help="add one and print a one-time code")
    p.add_argument("--name", required=True)
    p.add_argument("--desa", help="desa code or name (a desa-scoped facilitator)")
    p.add_argument("--kecamatan", help="kecamatan code or name (alone: kecamatan scope)")
    p.add_argument("--phone", required=True)
    p.add_argument("--ttl-hours", type=int, default=72)
    p.set_defaults(func=_with_db(_facilitator_add))
    p = facil.add_parser("list", parents=[common], help="all facilitators")
    p.set_defaults(func=_with_db(_facilitator_list))
    p = facil.add_parser("revoke", parents=[common], help="revoke and unbind")
    p.add_argument("id", type=int)
    p.set_defaults(func=_with_db(_facilitator_revoke))
    p = facil.add_parser("new-code", parents=[common], help="issue a fresh one-time code")
    p.add_argument("id", type=int)
    p.add_argument("--ttl-hours", type=int, default=72)
    p.set_defaults(func=_with_db(_facilitator_new_code))

    claims = sub.add_parser("claims", help="the claims queue").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    statuses = [s.value for s in ClaimStatus]
    p = claims.add_parser("list", parents=[common], help="newest claims first")
    p.add_argument("--status", choices=statuses)
    p.add_argument("--type", choices=[t.value for t in ClaimType])
    p.add_argument("--desa")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_with_db(_claims_list))
    p = claims.add_parser("show", parents=[common], help="one claim with history and documents")
    p.add_argument("ref")
    p.set_defaults(func=_with_db(_claims_show))
    p = claims.add_parser("set-status", parents=[common], help="move a claim (as admin)")
    p.add_argument("ref")
    p.add_argument("status", choices=statuses)
    p.add_argument("--note", help="reason (required for rejected)")
    p.set_defaults(func=_with_db(_claims_set_status))
    p = claims.add_parser("export", parents=[common], help="files to forward to BPJS TK")
    p.add_argument("ref")
    p.add_argument("--out", required=True, help="folder (a REF subfolder is created)")
    p.set_defaults(func=_with_db(_claims_export))

    regs = sub.add_parser("registrations", help="facilitator registrations").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = regs.add_parser("list", parents=[common], help="waiting for verification")
    p.set_defaults(func=_with_db(_registrations_list))
    p = regs.add_parser("verify", parents=[common, dated], help="accept a registration")
    p.add_argument("id", type=int)
    p.set_defaults(func=_with_db(_registrations_verify))
    p = regs.add_parser("reject", parents=[common], help="reject a registration")
    p.add_argument("id", type=int)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=_with_db(_registrations_reject))

    p = sub.add_parser(
        "outbox",
        parents=[common],
        help="message queue state and OPD queue; `outbox requeue` re-sends failed/dead rows",
    )
    p.add_argument("action", nargs="?", choices=("list", "requeue"), default="list")
    p.add_argument("--channel", choices=("telegram", "whatsapp", "terminal"))
    p.add_argument("--class", dest="msg_class", choices=("transactional", "reminder", "broadcast"))
    p.add_argument("--status", action="append", choices=("failed", "dead"))
    p.add_argument("--since", type=_now_arg, help="rows created from this instant (requeue)")
    p.add_argument("--until", type=_now_arg, help="rows created before this instant (requeue)")
    p.add_argument("--yes", action="store_true", help="requeue for real (without: count only)")
    p.add_argument("--limit", type=int, default=30)
    p.set_defaults(func=_with_db(_outbox))

    # The human inbox lives in its own module (channels/admin_tickets.py).
    from lingkaran.channels import admin_tickets

    admin_tickets.register(sub, default_db=default_db)

    # Reminders and broadcasts live in channels/admin_ops.py (it skips `outbox`, defined above).
    from lingkaran.channels import admin_ops

    admin_ops.register(sub, default_db=default_db)

    funding = sub.add_parser("funding", help="periods the Pemkab funds").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = funding.add_parser("add", parents=[common], help="record a funded period (an SK)")
    p.add_argument("--funder", default="Pemkab Jember")
    p.add_argument("--reference", required=True, help="the SK number, e.g. 188.45/123/1.12/2026")
    p.add_argument("--from", dest="start", required=True, type=_today_arg, help="YYYY-MM-DD")
    p.add_argument("--until", required=True, type=_today_arg, help="YYYY-MM-DD (last day)")
    p.add_argument("--sector", help="one sector's cohort (default: every sector)")
    p.set_defaults(func=_with_db(_funding_add))
    p = funding.add_parser("list", parents=[common], help="every funded period")
    p.set_defaults(func=_with_db(_funding_list))

    retention = sub.add_parser("retention", help="personal data past its period").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = retention.add_parser(
        "run", parents=[common], help="forget idle conversations, delete closed claims' files"
    )
    p.add_argument("--dry-run", action="store_true", help="count only, change nothing")
    p.set_defaults(func=_with_db(_retention_run))

    p = sub.add_parser("backup", parents=[common], help="online backup (safe while running)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_backup)
    p = sub.add_parser("restore", parents=[common], help="restore from a backup file")
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="overwrite an existing database")
    p.set_defaults(func=_restore)
    return parser


def parse(argv: list[str], *, settings: Settings, clock: Clock) -> argparse.Namespace:
    """Parse an admin command line; the namespace carries ``settings`` and the command's clock.

    ``SystemExit`` on bad arguments (argparse prints why), ``CliError`` on conflicting ones.
    """
    args = build_parser(settings).parse_args(argv)
    args.settings = settings
    args.clock = command_clock(clock, args)
    if getattr(args, "db", None) is None:
        args.db = str(settings.db)
    return args


def main(argv: list[str], *, settings: Settings, clock: Clock) -> int:
    """Run one admin command with the process's settings and clock; return the exit code."""
    try:
        args = parse(argv, settings=settings, clock=clock)
    except SystemExit as exc:  # argparse already printed usage or help
        return int(exc.code) if isinstance(exc.code, int) else 2
    except CliError as exc:
        err(f"error: {exc.message}")
        return exc.code
    try:
        if args.command in ("tickets", "reminders", "broadcast"):  # these open the DB themselves
            _require_db(args)
        return int(args.func(args))
    except CliError as exc:
        err(f"error: {exc.message}")
        return exc.code
    except DomainError as exc:
        err(f"error: {describe(exc)}")
        return 1
    except backup.StorageError as exc:
        err(f"error: database: {exc}")
        return 1
    except OSError as exc:
        err(f"error: {exc}")
        return 1
