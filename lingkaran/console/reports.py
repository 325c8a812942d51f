"""The programme's reports: tables, server-side SVG bar charts, CSV and XLSX downloads.
The reports over regions and time (kecamatan, claims per month, benefits paid, messages read)
are built in ``lingkaran.console.trends``.

Every cell of a download goes through ``textsafe.csv_cell`` (a name starting with ``=`` is text,
never a formula). The figures come from recorded data: the roster, coverage computed per
(start, paid-through) group as ``lingkaran_core.stats`` does, the claims by type and status.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from html import escape

from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Font

from handlers.i18n import Translator
from lingkaran.console import labels
from lingkaran_core.claims import ClaimStatus, ClaimType
from lingkaran_core.coverage import CoverageStatus, coverage_status
from lingkaran_core.rules import SECTORS, Opd, sector
from lingkaran_core.storage import console_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.textsafe import csv_row

__all__ = ["REPORTS", "Report", "bar_chart", "build_report", "to_csv", "to_xlsx"]

REPORTS = ("sectors", "kecamatan", "coverage", "claims", "claims_monthly", "benefits", "messages")
OPD_NAMES = {
    Opd.DISNAKER: "Disnaker",
    Opd.KESRA: "Bagian Kesra",
    Opd.TPHP: "Dinas TPHP",
    Opd.DISKOP_UMKM: "Dinas Koperasi UMKM",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """A titled table; ``bars`` is what the bar chart shows (label, value), unless the report
    brings its own ``chart`` (the trends: line charts, sorted bars)."""

    name: str
    title: str
    headers: list[str]
    rows: list[list[object]]
    bars: list[tuple[str, int]]
    chart: Markup | None = None


async def build_report(
    tx: Tx, name: str, *, t: Translator, today: date, kecamatan: str | None
) -> Report:
    """One report by name (``sectors``, ``coverage``, ``claims``; the rest in ``trends``)."""
    if name == "sectors":
        counts = await console_repo.workers_by_sector(tx, kecamatan=kecamatan)
        rows: list[list[object]] = []
        for s in SECTORS:
            n = counts.pop(s.code, 0)
            opd = OPD_NAMES.get(sector(s.code).opd.value) or t("belum dipastikan")
            rows.append([labels.label(t, labels.SECTOR, s.code), n, opd])
        rows += [[labels.label(t, labels.SECTOR, c), n, "-"] for c, n in sorted(counts.items())]
        total = sum(int(r[1]) for r in rows)  # type: ignore[call-overload]
        bars = [(str(r[0]), int(r[1])) for r in rows]  # type: ignore[call-overload]
        rows.append([t("Jumlah"), total, ""])
        return Report(
            name=name,
            title=t("Peserta menurut sektor"),
            headers=[t("Sektor"), t("Pekerja"), t("OPD pengelola")],
            rows=rows,
            bars=bars,
        )
    if name == "coverage":
        out = {s.value: 0 for s in CoverageStatus}
        for start_text, paid_month, n in await console_repo.coverage_groups(
            tx, kecamatan=kecamatan
        ):
            start = date.fromisoformat(start_text) if start_text else None
            paid = date.fromisoformat(paid_month + "-01") if paid_month else None
            status = coverage_status(start=start, paid_through=paid, today=today).status
            out[status.value] += n
        rows = [[labels.label(t, labels.COVERAGE, k), v] for k, v in out.items()]
        return Report(
            name=name,
            title=t("Status perlindungan pada {day}", day=t.date(today)),
            headers=[t("Status"), t("Pekerja")],
            rows=rows,
            bars=[(str(r[0]), int(r[1])) for r in rows],  # type: ignore[call-overload]
        )
    if name == "claims":
        table = {ct.value: {s.value: 0 for s in ClaimStatus} for ct in ClaimType}
        for claim_type, claim_status, n in await console_repo.claims_by_type_status(
            tx, kecamatan=kecamatan
        ):
            table.setdefault(claim_type, {})[claim_status] = n
        statuses = [s.value for s in ClaimStatus if s != ClaimStatus.DRAFT]
        rows = [
            [
                labels.label(t, labels.TYPE, ct),
                *(by.get(s, 0) for s in statuses),
                sum(by.values()),
            ]
            for ct, by in table.items()
        ]
        return Report(
            name=name,
            title=t("Klaim menurut jenis dan status"),
            headers=[
                t("Jenis"),
                *(labels.label(t, labels.STATUS, s) for s in statuses),
                t("Jumlah"),
            ],
            rows=rows,
            bars=[(str(r[0]), int(r[-1])) for r in rows],  # type: ignore[call-overload]
        )
    from lingkaran.console import trends  # it builds on this module's Report and bar chart

    return await trends.build(tx, name, t=t, kecamatan=kecamatan)


def bar_chart(bars: list[tuple[str, int]], *, title: str, t: Translator) -> Markup:
    """A horizontal bar chart as inline SVG (labels escaped; scales to the page width)."""
    width, label_w, row_h, pad = 760, 300, 28, 8
    top = max((v for _, v in bars), default=0) or 1
    height = pad * 2 + row_h * len(bars)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (name, value) in enumerate(bars):
        y = pad + i * row_h
        shown = name if len(name) <= 40 else name[:39] + "…"
        bar_w = int((width - label_w - 90) * value / top)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" class="chart-label">'
            f"{escape(shown)}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{max(bar_w, 1)}" height="{row_h - 8}" '
            f'class="chart-bar"><title>{escape(name)}: {escape(t.number(value))}</title></rect>'
            f'<text x="{label_w + bar_w + 6}" y="{y + 18}" class="chart-value">'
            f"{escape(t.number(value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def to_csv(report: Report) -> bytes:
    """The report as CSV (UTF-8 with BOM, so Excel reads the accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_row(list(report.headers)))
    for row in report.rows:
        writer.writerow(csv_row(row))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    """The report as an Excel workbook (one sheet, bold header)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = report.name[:31]
    ws.append(csv_row(list(report.headers)))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in report.rows:
        ws.append(csv_row(row))
    ws.column_dimensions["A"].width = 34
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
