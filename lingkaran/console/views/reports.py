"""The reports page and its CSV/XLSX downloads (built by ``lingkaran.console.reports``)."""

from __future__ import annotations

from starlette.responses import Response

from lingkaran.console import reports
from lingkaran.console.guard import Call, not_found
from lingkaran.console.views.shared import ViewsBase
from lingkaran_core.clock import WIB


class ReportPages(ViewsBase):
    """Reports and their downloads."""

    async def reports_page(self, c: Call) -> Response:
        today = c.now.astimezone(WIB).date()
        built = []
        async with self.db.read() as r:
            for name in reports.REPORTS:
                rep = await reports.build_report(
                    r, name, t=c.t, today=today, kecamatan=c.staff.kecamatan
                )
                built.append(
                    {
                        "report": rep,
                        "chart": reports.bar_chart(rep.bars, title=rep.title, t=c.t),
                    }
                )
        return self.page(c, "reports.html", reports=built)

    async def report_download(self, c: Call) -> Response:
        name, fmt = c.path("name"), c.path("fmt")
        if name not in reports.REPORTS or fmt not in ("csv", "xlsx"):
            return not_found(c.t)
        today = c.now.astimezone(WIB).date()
        async with self.db.read() as r:
            rep = await reports.build_report(
                r, name, t=c.t, today=today, kecamatan=c.staff.kecamatan
            )
        filename = f"lingkaran-{name}-{today.isoformat()}.{fmt}"
        if fmt == "csv":
            body, media = reports.to_csv(rep), "text/csv; charset=utf-8"
        else:
            body = reports.to_xlsx(rep)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
