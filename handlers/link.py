"""Link my account: NIK + date of birth, with a cool-down against guessing."""

from __future__ import annotations

from datetime import datetime

from handlers.common import (
    honorific,
    masked,
    parse_birth_date,
    parse_nik_answer,
    place_of,
    sector_label,
)
from handlers.engine import Ctx, End, Flow, Goto, Next, Option, Outcome, Reply, Step
from handlers.i18n import N_
from lingkaran_core import services
from lingkaran_core.errors import NotFound, RateLimited
from lingkaran_core.storage.repos import Worker, worker_by_id


def summary(ctx: Ctx, worker: Worker) -> str:
    """Who the chat is linked to: masked NIK, KPJ, desa, sector."""
    desa, kec = place_of(worker.desa_code)
    return ctx.t(
        N_(
            "Data Bapak/Ibu: {who}, NIK {nik}, nomor kartu (KPJ) {kpj}, Desa {desa}, Kec. {kec}, "
            "pekerjaan {sector}."
        ),
        who=honorific(ctx, worker),
        nik=masked(worker.nik),
        kpj=worker.kpj or ctx.t(N_("belum ada")),
        desa=desa,
        kec=kec,
        sector=sector_label(ctx, worker.sector),
    )


def _locked_message(ctx: Ctx, until: datetime) -> str:
    return ctx.t(
        N_(
            "Terlalu banyak percobaan yang belum cocok. Demi keamanan data, silakan coba lagi "
            "setelah pukul {time}. Atau minta bantuan pendamping desa."
        ),
        time=ctx.t.datetime(until),
    )


async def _on_start(ctx: Ctx) -> Outcome | None:
    if ctx.chat.worker_id is not None:
        worker = await worker_by_id(ctx.tx, ctx.chat.worker_id)
        if worker is not None:
            then = ctx.data.get("then")
            if then:
                return Goto(then)
            return Goto("my_data")
    until = await services.link_locked_until(ctx.tx, chat_id=ctx.chat.id, nik=None, now=ctx.now)
    if until is not None:
        return End((_locked_message(ctx, until),))
    return None


async def _dob_next(ctx: Ctx, birth_iso: str) -> Outcome:
    from datetime import date

    try:
        worker = await services.link_account(
            ctx.tx,
            chat_id=ctx.chat.id,
            nik=ctx.data["nik"],
            birth_date=date.fromisoformat(birth_iso),
            now=ctx.now,
            channel=ctx.chat.channel,
        )
    except RateLimited as exc:
        return End((_locked_message(ctx, datetime.fromisoformat(str(exc.params["until"]))),))
    except NotFound:
        # Never reveal whether the NIK exists: the same answer for both mistakes.
        return Next(
            "nik",
            (
                ctx.t(
                    N_(
                        "Maaf, NIK dan tanggal lahir itu belum cocok dengan data kami. Mohon "
                        'periksa KTP, lalu coba lagi. Jika yakin benar, pilih "Bicara dg '
                        'petugas" di menu.'
                    )
                ),
            ),
        )
    ctx.chat.worker_id = worker.id
    if ctx.chat.active_role != "facilitator":
        ctx.chat.active_role = "worker"
    then = ctx.data.get("then")
    linked = ctx.t(N_("Data cocok. Nomor ini kini terhubung dengan data Bapak/Ibu."))
    if then:
        return Goto(then, before=(linked,))
    return Goto("my_data", before=(linked,))


LINK = Flow(
    name="link",
    on_start=_on_start,
    steps=(
        Step(
            name="nik",
            prompt=N_(
                "Kami cocokkan data Bapak/Ibu dulu. Ketik NIK (Nomor Induk Kependudukan): 16 "
                "angka di KTP atau KK."
            ),
            parse=parse_nik_answer,
            save_as="nik",
            next="dob",
            help=N_("NIK ada di KTP (baris paling atas) atau di Kartu Keluarga, 16 angka."),
        ),
        Step(
            name="dob",
            prompt=N_("Terima kasih. Kapan tanggal lahir Bapak/Ibu? Contoh: 15-05-1978."),
            parse=parse_birth_date,
            save_as="birth_date",
            next=_dob_next,
        ),
    ),
)


async def _my_data_prompt(ctx: Ctx) -> Reply:
    worker = await worker_by_id(ctx.tx, ctx.chat.worker_id) if ctx.chat.worker_id else None
    if worker is None:
        return Reply(text=ctx.t(N_("Nomor ini belum terhubung dengan data pekerja.")))
    return Reply(text=summary(ctx, worker) + "\n" + ctx.t(N_("Ada yang perlu dilakukan?")))


async def _my_data_start(ctx: Ctx) -> Outcome | None:
    if ctx.chat.worker_id is None:
        return Goto("link")
    return None


async def _my_data_next(ctx: Ctx, value: str) -> Outcome:
    if value == "wrong":
        return "fix"
    return Goto(value)


async def _fix_next(ctx: Ctx, text: str) -> Outcome:
    ticket = await services.open_ticket(
        ctx.tx,
        chat_id=ctx.chat.id,
        body=text,
        now=ctx.now,
        topic="data_change",
        channel=ctx.chat.channel,
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
