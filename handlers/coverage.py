"""My coverage: protected until …, arrears, non-active, not enrolled; who pays; what next."""

from __future__ import annotations

from handlers import whom
from handlers.common import coverage_text, worker_coverage
from handlers.engine import Ctx, End, Flow, Goto, Outcome, Step
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core.coverage import CoverageStatus
from lingkaran_core.storage.repos import Worker

REPORT_IN_TIME = states(
    N_('Jika celaka saat bekerja, laporkan dalam 2×24 jam lewat menu "Lapor kecelakaan".'),
    "jkk_report_hours",
)
SCAM_WARNING = states(
    N_(
        "Hati-hati penipuan: jangan beri uang kepada siapa pun yang meminta atas nama "
        "program ini. Tanya pendamping desa atau BPJS Ketenagakerjaan di 175."
    ),
    "service_free",
    "official_checks",
)
NOTHING_TO_DO = states(
    N_("Tidak ada yang perlu dilakukan. Kami kabari lewat pesan ini saat perlindungan berlaku."),
    "protection_starts_after_verification",
)


async def _on_start(ctx: Ctx) -> Outcome | None:
    if ctx.chat.worker_id is None:
        return Goto("link", data={"then": "coverage"})
    # A household's phone asks "Untuk siapa?" first (issue 22); one link asks nothing.
    worker = await whom.subject(ctx, "coverage")
    if isinstance(worker, Goto):
        return worker
    if not isinstance(worker, Worker):
        return Goto("link", data={"then": "coverage"})
    cov = worker_coverage(worker, ctx)
    text = coverage_text(ctx, worker, cov)
    if cov.status == CoverageStatus.PROTECTED:
        extra = ctx.t(REPORT_IN_TIME)
    elif cov.status in (CoverageStatus.ARREARS, CoverageStatus.NON_ACTIVE):
        extra = ctx.t(SCAM_WARNING)
    elif worker.registration_status == "registered" or cov.status == CoverageStatus.NOT_STARTED:
        extra = ctx.t(NOTHING_TO_DO)
    else:
        extra = ctx.t(N_('Pendamping desa bisa membantu pendaftaran. Pilih "Bisa ikut program?".'))
    return End((text, extra))


COVERAGE = Flow(
    name="coverage",
    on_start=_on_start,
    # on_start always ends the flow; the step exists so a resumed state has somewhere to land.
    steps=(Step(name="show", prompt=N_("Cek kepesertaan."), next=None),),
)
