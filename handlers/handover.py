"""Talk to a person: a written message becomes a ticket for the desa facilitator or Pemkab staff.

``services.open_ticket`` appends to the chat's open ticket if there is one, so a second message
never opens a second ticket. Only text is taken here: claim documents go through "Klaim saya".
"""

from __future__ import annotations

from datetime import datetime

from handlers.common import CANCEL
from handlers.engine import Answer, Ctx, End, Flow, Invalid, Option, Outcome, Reply, Stay, Step
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core import services
from lingkaran_core.storage.repos import worker_by_id

MAX_MESSAGE = 1000
# POLICY (UNCONFIRMED): staff answer on weekdays in office hours; outside them we say so.
OFFICE_DAYS = range(0, 5)  # Monday..Friday
OFFICE_HOURS = (8, 15)  # 08:00 to 15:00 WIB
ANSWER_WITHIN_WORKING_DAYS = 2
# Our own staffing promise (rules.STAFF_REPLY_RULE, POLICY).
RECEIVED = states(
    N_(
        "Pesan diterima. Nomor tiket: {ticket}.\n"
        "{who} akan menjawab lewat chat ini, biasanya dalam {days} hari kerja. Selama "
        "tiket masih dibuka, Bapak/Ibu bisa menambah pesan di sini."
    ),
    "staff_reply",
)
OFFICE_HOURS_NOTE = states(
    N_(
        "Petugas bekerja Senin sampai Jumat, pukul {start}.00 sampai {end}.00 WIB. Pesan "
        "di luar jam itu dijawab pada hari kerja berikutnya."
    ),
    "staff_reply",
)

MENU = Option(id="menu", label=N_("Menu utama"), aliases=("menu",))


async def _open_ticket_id(ctx: Ctx) -> int | None:
    """The chat's ticket that is not closed yet, if any."""
    return await services.open_ticket_of_chat(ctx.tx, ctx.chat.id)


async def _has_facilitator(ctx: Ctx) -> bool:
    """Whether a bound facilitator covers the desa of the chat's linked worker."""
    if ctx.chat.worker_id is None:
        return False
    worker = await worker_by_id(ctx.tx, ctx.chat.worker_id)
    if worker is None:
        return False
    return bool(await services.facilitator_chats_for_desa(ctx.tx, worker.desa_code))


def _in_office_hours(ctx: Ctx, now: datetime) -> bool:
    local = now.astimezone(ctx.engine.tz)
    return local.weekday() in OFFICE_DAYS and OFFICE_HOURS[0] <= local.hour < OFFICE_HOURS[1]


async def _prompt(ctx: Ctx) -> Reply:
    open_id = await _open_ticket_id(ctx)
    if open_id is not None:
        text = ctx.t(
            N_(
                "Pertanyaan Bapak/Ibu sebelumnya masih dibuka (tiket {ticket}). Tulis pesan "
                "tambahan; kami gabungkan ke tiket itu. Tulisan saja, foto belum bisa di sini."
            ),
            ticket=services.ticket_ref(open_id),
        )
    else:
        text = ctx.t(
            N_(
                "Tulis pesan Bapak/Ibu untuk petugas, dalam satu pesan. Tulisan saja, foto belum "
                "bisa di sini."
            )
        )
    return Reply(text=text)


async def _parse(ctx: Ctx, answer: Answer) -> str:
    if answer.media is not None:
        raise Invalid(
            N_(
                "Maaf, di sini hanya bisa tulisan. Foto dokumen klaim dikirim lewat menu "
                '"Klaim saya". Mohon tulis pesan Bapak/Ibu.'
            )
        )
    text = (answer.text or "").strip()
    if len(text) < 2:
        raise Invalid(N_("Mohon tulis pesan Bapak/Ibu dengan sedikit lebih jelas."))
    return text


async def _more_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return answer.option.id
    return await _parse(ctx, answer)


async def _next(ctx: Ctx, text: str) -> Outcome:
    existing = await _open_ticket_id(ctx)
    ticket = await services.open_ticket(
        ctx.tx,
        chat_id=ctx.chat.id,
        body=text,
        now=ctx.now,
        topic="question",
        channel=ctx.chat.channel,
    )
    ref = services.ticket_ref(ticket)
    ctx.data["ticket"] = ref
    if existing is not None:
        first = ctx.t(N_("Pesan ditambahkan ke tiket {ticket}."), ticket=ref)
    else:
        who = (
            ctx.t(N_("Pendamping desa"))
            if await _has_facilitator(ctx)
            else ctx.t(N_("Petugas Pemkab Jember"))
        )
        first = ctx.t(
            RECEIVED,
            ticket=ref,
            who=who,
            days=ANSWER_WITHIN_WORKING_DAYS,
        )
    if not _in_office_hours(ctx, ctx.now):
        first += "\n" + ctx.t(
            OFFICE_HOURS_NOTE,
            start=f"{OFFICE_HOURS[0]:02d}",
            end=f"{OFFICE_HOURS[1]:02d}",
        )
    # The acknowledgement is shown by the "more" prompt, so its button sits under it.
    ctx.data["ack"] = first
    if ctx.state.step == "more":
        return Stay()
    return "more"


async def _more_prompt(ctx: Ctx) -> Reply:
    ack = ctx.data.pop("ack", None)
    more = ctx.t(N_('Ada tambahan? Tulis saja di sini, atau pilih "Menu utama".'))
    return Reply(text=f"{ack}\n\n{more}" if ack else more)


async def _more_next(ctx: Ctx, value: str) -> Outcome:
    if value == "menu":
        return End()
    return await _next(ctx, value)


HUMAN = Flow(
    name="human",
    steps=(
        Step(
            name="message",
            prompt=_prompt,
            choices=(CANCEL,),
            free_text=True,
            accepts_media=True,
            parse=_parse,
            next=_next,
            max_len=MAX_MESSAGE,
            ask_before_leaving=True,
        ),
        Step(
            name="more",
            prompt=_more_prompt,
            choices=(MENU,),
            free_text=True,
            accepts_media=True,
            parse=_more_parse,
            next=_more_next,
            max_len=MAX_MESSAGE,
            ask_before_leaving=True,
        ),
    ),
)
