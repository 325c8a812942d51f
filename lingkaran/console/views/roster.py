"""The roster import page: a CSV or Excel upload through the roster importer."""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from datetime import date, datetime
from pathlib import Path

from starlette.responses import Response

from lingkaran.console import labels
from lingkaran.console.guard import Call
from lingkaran.console.views.shared import ViewsBase, _audit
from lingkaran_core.clock import WIB
from lingkaran_core.importers import RosterFormatError, import_roster


class RosterPages(ViewsBase):
    """The roster upload."""

    async def roster(self, c: Call) -> Response:
        return self.page(c, "roster.html", report=None, issues=[], error=None)

    async def roster_import(self, c: Call) -> Response:
        upload = c.form.get("file") if c.form is not None else None
        if upload is None or isinstance(upload, str) or not upload.filename:
            return self.page(
                c,
                "roster.html",
                status=400,
                report=None,
                issues=[],
                error=c.t("Pilih berkas CSV atau Excel (XLSX) dulu."),
            )
        data = await upload.read()
        name = upload.filename.lower()
        skip = c.field("skip_invalid") == "1"
        with tempfile.TemporaryDirectory(prefix="roster-") as folder:
            path = Path(folder) / "roster.csv"
            if name.endswith(".xlsx"):
                try:
                    await asyncio.to_thread(_xlsx_to_csv, data, path)
                except Exception:
                    return self.page(
                        c,
                        "roster.html",
                        status=400,
                        report=None,
                        issues=[],
                        error=c.t("Berkas Excel tidak bisa dibaca."),
                    )
            else:
                await asyncio.to_thread(path.write_bytes, data)
            try:
                report = await import_roster(
                    self.db,
                    path,
                    now=c.now,
                    today=c.now.astimezone(WIB).date(),
                    skip_invalid=skip,
                )
            except RosterFormatError as exc:
                text = labels.ROSTER_REASON.get(exc.code)
                return self.page(
                    c,
                    "roster.html",
                    status=400,
                    report=None,
                    issues=[],
                    error=c.t(text) if text else labels.error_text(c.t, exc.code),
                )
        async with self.db.tx() as tx:
            await _audit(
                tx,
                c,
                "roster.import",
                "roster",
                details={
                    "file": upload.filename[:80],
                    "rows": report.rows,
                    "inserted": report.inserted,
                    "updated": report.updated,
                    "rejected": report.rejected,
                    "committed": report.committed,
                },
            )
        issues = [
            {"line": i.line, "text": labels.roster_issue(c.t, i.column, i.code)}
            for i in report.errors[:200]
        ]
        return self.page(
            c,
            "roster.html",
            status=200 if report.committed else 422,
            report=report,
            issues=issues,
            error=None,
        )


def _xlsx_to_csv(data: bytes, path: Path) -> None:
    """The first sheet of a workbook as a UTF-8 CSV for the roster importer."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    ws = wb.worksheets[0]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        for row in ws.iter_rows(values_only=True):
            writer.writerow(["" if v is None else _cell_text(v) for v in row])
    wb.close()


def _cell_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
