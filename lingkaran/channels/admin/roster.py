"""Admin commands: init-db, demo-data, import-roster, stats and worker look-up."""

from __future__ import annotations

import argparse
import csv
from datetime import UTC, date, datetime
from pathlib import Path

from lingkaran.channels.admin.common import (
    MAX_ERRORS_SHOWN,
    OPD_LABELS,
    CliError,
    _cell,
    _kec_label,
    _today,
    desa_label,
    describe,
    err,
    out,
    rupiah,
    sector_label,
    table,
    wib,
)
from lingkaran_core import demo as demo_mod
from lingkaran_core import facilitators as fac
from lingkaran_core.claims import (
    ClaimStatus,
)
from lingkaran_core.clock import WIB
from lingkaran_core.coverage import CoverageStatus, coverage_status
from lingkaran_core.errors import InvalidNIK
from lingkaran_core.identity import mask_nik, mask_phone, parse_nik
from lingkaran_core.importers import RosterFormatError, import_roster
from lingkaran_core.regions import load_regions
from lingkaran_core.stats import Stats, collect_stats
from lingkaran_core.storage import Database, admin_repo
from lingkaran_core.storage.repos import (
    worker_by_nik,
)
from lingkaran_core.textsafe import csv_row

# -- init-db, demo-data, import-roster, stats ------------------------------------------------------


async def _init_db(db: Database, args: argparse.Namespace) -> int:
    async with db.read() as r:
        applied = await admin_repo.applied_migrations(r)
    out(f"database ready: {db.label}")
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
            f"{db.label} already holds demo data ({result.workers:,} workers, seed {result.seed}, "
            f"generated for {result.today}); nothing changed. Use --replace to regenerate it."
        )
    else:
        out(
            f"Demo data written to {db.label}: {result.workers:,} SYNTHETIC workers (seed {result.seed}, today {today})."
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
    since, until = args.since, args.until
    if since is not None and until is not None and until < since:
        raise CliError("--until is before --from")
    async with db.read() as r:
        s = await collect_stats(r, today=today, since=since, until=until)
    sections = _stats_tables(s)
    out(f"Lingkaran Cinta figures on {today} ({db.label})")
    for title, headers, rows in sections:
        out()
        if title:
            out(title)
        out(table(headers, rows))
    b = s.benefits
    out()
    out(
        f"Benefits paid{_period(b.since, b.until)}: {b.count:,} claims, {rupiah(b.total)} recorded"
        + (f" ({b.unrecorded} paid claims without a recorded amount)" if b.unrecorded else "")
    )
    if args.csv:
        _write_csv(Path(args.csv), s, sections)
        out(f"wrote {args.csv}")
    return 0


def _period(since: date | None, until: date | None) -> str:
    if since is None and until is None:
        return ""
    return f" {since or '…'} to {until or '…'}"


Section = tuple[str, list[str], list[list[object]]]


def _stats_tables(s: Stats) -> list[Section]:
    """Every table of ``admin stats``: cohort by sector and kecamatan, coverage, registrations,
    claims, benefits paid by programme (the seed's report, from recorded data)."""
    rows: list[list[object]] = [
        [sector_label(x.sector), x.count, OPD_LABELS.get(x.opd, str(x.opd)), x.published_2025]
        for x in s.sectors
    ]
    published = sum(x.published_2025 or 0 for x in s.sectors)
    rows.append(["Total", s.total_workers, "", published])
    codes = [x.sector for x in s.sectors]
    regions = load_regions()
    kec_rows: list[list[object]] = []
    for k in s.kecamatan:
        found = regions.kecamatan(k.kecamatan) if k.kecamatan else None
        name = found.name if found is not None else (k.kecamatan or "-")
        kec_rows.append([name, *(k.by_sector.get(c, 0) for c in codes), k.count])
    statuses = [st.value for st in ClaimStatus]
    claim_rows: list[list[object]] = [
        [t, *(by.get(st, 0) for st in statuses), sum(by.values())] for t, by in s.claims.items()
    ]
    b = s.benefits
    paid_rows: list[list[object]] = [
        [t, n, rupiah(amount)] for t, (n, amount) in sorted(b.by_type.items())
    ]
    paid_rows.append(["Total", b.count, rupiah(b.total)])
    return [
        ("", ["Sector", "Workers", "Managing OPD", "Published 2025"], rows),
        (
            "Cohort by kecamatan",
            ["Kecamatan", *(sector_label(c) for c in codes), "Total"],
            kec_rows,
        ),
        ("", ["Coverage status", "Workers"], [[k, v] for k, v in s.coverage.items()]),
        ("", ["Registration", "Workers"], [[k, v] for k, v in s.registrations.items()]),
        ("", ["Claims", *statuses, "total"], claim_rows),
        (
            f"Benefits paid by programme{_period(b.since, b.until)} (recorded amounts)",
            ["Programme", "Claims paid", "Recorded amount"],
            paid_rows,
        ),
    ]


def _write_csv(path: Path, s: Stats, sections: list[Section]) -> None:
    """Every table one after another (title row, header row, rows), cells formula-safe."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(csv_row([f"Lingkaran Cinta figures on {s.today}"]))
        for title, headers, rows in sections:
            writer.writerow([])
            writer.writerow(csv_row([title or headers[0]]))
            writer.writerow(csv_row(list[object](headers)))
            for row in rows:
                writer.writerow(csv_row([str(v) if v is not None else "" for v in row]))


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
