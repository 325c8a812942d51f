"""My data: whom this phone is linked to, and a request to correct the roster (a ticket).

On a household's phone (issue 22) it asks "Untuk siapa?" first and names the person; the
correction request is opened about that person.
"""

from __future__ import annotations

from handlers import whom
from handlers.common import honorific, masked, place_of, sector_label
from handlers.engine import Ctx, End, Flow, Goto, Option, Outcome, Reply, Step
from handlers.i18n import N_
from lingkaran_core import services
from lingkaran_core.storage.repos import Worker, worker_by_id

OWN_DATA = N_(
    "Data Bapak/Ibu: {who}, NIK {nik}, nomor kartu (KPJ) {kpj}, Desa {desa}, Kec. {kec}, "
    "pekerjaan {sector}."
)
# On a household's phone: whose data this is, by name (issue 22).
NAMED_DATA = N_(
    "Data {who}: NIK {nik}, nomor kartu (KPJ) {kpj}, Desa {desa}, Kec. {kec}, pekerjaan {sector}."
)


def summary(ctx: Ctx, worker: Worker, *, named: bool = False) -> str:
    """Who the chat is linked to: masked NIK, KPJ, desa, sector (``named``: by name)."""
    desa, kec = place_of(worker.desa_code)
    return ctx.t(
        NAMED_DATA if named else OWN_DATA,
        who=honorific(ctx, worker),
        nik=masked(worker.nik),
        kpj=worker.kpj or ctx.t(N_("belum ada")),
        desa=desa,
        kec=kec,
        sector=sector_label(ctx, worker.sector),
    )


async def _my_data_prompt(ctx: Ctx) -> Reply:
    worker = await whom.chosen(ctx)
    if worker is None and ctx.chat.worker_id:
        worker = await worker_by_id(ctx.tx, ctx.chat.worker_id)
    if worker is None:
        return Reply(text=ctx.t(N_("Nomor ini belum terhubung dengan data pekerja.")))
    household = len(await whom.linked(ctx)) > 1
    text = summary(ctx, worker, named=household)
    return Reply(text=text + "\n" + ctx.t(N_("Ada yang perlu dilakukan?")))


async def _my_data_start(ctx: Ctx) -> Outcome | None:
    if ctx.chat.worker_id is None:
        return Goto("link")
    picked = await whom.subject(ctx, "my_data")
    if isinstance(picked, Goto):
        return picked
    return None


async def _my_data_next(ctx: Ctx, value: str) -> Outcome:
    if value == "wrong":
        return "fix"
    if value == "coverage" and isinstance(ctx.data.get(whom.FOR), int):
        return Goto(value, data={whom.FOR: ctx.data[whom.FOR]})
    return Goto(value)


async def _fix_next(ctx: Ctx, text: str) -> Outcome:
    worker = await whom.chosen(ctx)
    ticket = await services.open_ticket(
        ctx.tx,
        chat_id=ctx.chat.id,
        body=text,
        now=ctx.now,
        topic="data_change",
        channel=ctx.chat.channel,
        worker_id=None if worker is None else worker.id,
    )
    return End(
        (
            ctx.t(
                N_(
                    "Terima kasih. Permintaan perbaikan data sudah kami teruskan ke pendamping "
                    "desa (tiket {ticket}). Petugas akan menghubungi Bapak/Ibu."
                ),
                ticket=services.ticket_ref(ticket),
            ),
        )
    )


MY_DATA = Flow(
    name="my_data",
    roles=frozenset({"worker", "facilitator", "public"}),
    on_start=_my_data_start,
    steps=(
        Step(
            name="main",
            prompt=_my_data_prompt,
            choices=(
                Option(id="coverage", label=N_("Cek kepesertaan")),
                Option(
                    id="wrong", label=N_("Data saya salah"), description=N_("Atau nomor HP ganti")
                ),
                Option(id="menu", label=N_("Menu utama")),
            ),
            next=_my_data_next,
        ),
        Step(
            name="fix",
            prompt=N_(
                'Apa yang salah atau berubah? Tulis singkat, misalnya: "nomor HP saya ganti '
                '0812..." atau "nama saya salah tulis".'
            ),
            free_text=True,
            next=_fix_next,
        ),
    ),
)
