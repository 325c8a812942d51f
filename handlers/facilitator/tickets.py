"""Tickets of the scope: read the conversation, reply, close."""

from __future__ import annotations

from handlers.common import CANCEL, masked
from handlers.engine import Answer, Ctx, End, Flow, Invalid, Next, Option, Outcome, Step
from handlers.facilitator.common import (
    BACK,
    MAX_MESSAGE,
    MENU,
    ROLES,
    ago,
    as_id,
    audit,
    current_facilitator,
    no_access,
    short,
)
from handlers.i18n import N_
from handlers.widgets import PagedList, Row
from lingkaran_core import services
from lingkaran_core.errors import Conflict, NotAuthorised, NotFound
from lingkaran_core.services import Ticket

SENDER_WORDS = {
    "user": N_("Warga"),
    "facilitator": N_("Pendamping"),
    "admin": N_("Petugas Pemkab"),
}
GONE = N_("Tiket itu tidak ada di wilayah Bapak/Ibu.")


async def _scoped_tickets(ctx: Ctx) -> list[Ticket]:
    async def load() -> list[Ticket]:
        f = await current_facilitator(ctx)
        return [] if f is None else await services.tickets_for_facilitator(ctx.tx, f)

    return await ctx.cached("tickets", load)


async def _scoped_ticket(ctx: Ctx, ticket_id: object) -> Ticket | None:
    f = await current_facilitator(ctx)
    tid = as_id(ticket_id)
    if f is None or tid is None:
        return None
    try:
        return await services.ticket_for_facilitator(ctx.tx, f, tid)
    except (NotFound, NotAuthorised):
        await audit(ctx, "ticket.refused", "ticket", services.ticket_ref(tid))
        return None


def _ticket_who(ctx: Ctx, ticket: Ticket, *, with_nik: bool = True) -> str:
    if ticket.worker_name:
        title = ctx.t(N_("Ibu")) if ticket.worker_sex == "P" else ctx.t(N_("Bapak"))
        who = f"{title} {ticket.worker_name}"
        return f"{who} ({masked(ticket.worker_nik)})" if with_nik else who
    return str(ticket.display_name or ctx.t(N_("warga")))


async def _tickets_start(ctx: Ctx) -> Outcome | None:
    if await current_facilitator(ctx) is None:
        return await no_access(ctx)
    await audit(ctx, "ticket.list")
    if not await _scoped_tickets(ctx):
        return End((ctx.t(N_("Tidak ada tiket terbuka di wilayah Bapak/Ibu.")),))
    return None


async def _ticket_rows(ctx: Ctx) -> list[Row]:
    rows = []
    for tk in await _scoped_tickets(ctx):
        state = ctx.t(N_("menunggu jawaban")) if tk.status == "open" else ctx.t(N_("sudah dibalas"))
        ref = services.ticket_ref(tk.id)
        facts = f"{tk.worker_name or tk.display_name or '-'}, {ago(ctx, tk.created_at)}, {state}"
        rows.append(
            Row(
                id=str(tk.id),
                label=ref,
                line=f"{ref}: {facts}",
                description=facts,
                search=f"{tk.worker_name or ''} {tk.display_name or ''} {tk.worker_nik or ''}",
            )
        )
    return rows


TICKETS = PagedList(
    prefix="t:",
    name="tickets",
    load=_ticket_rows,
    heading=lambda ctx, n: ctx.t(N_("Tiket terbuka: {n}."), n=n),
    size=8,
    extra=(MENU,),
)


async def _tickets_next(ctx: Ctx, value: str) -> Outcome:
    picked = await TICKETS.pick(ctx, value)
    if picked.outcome is not None:
        return picked.outcome
    if picked.other == "menu":
        return End()
    ticket = await _scoped_ticket(ctx, picked.row)
    if ticket is None:
        raise Invalid(GONE)
    ctx.data["ticket_id"] = ticket.id
    return "ticket"


async def _ticket_prompt(ctx: Ctx) -> str:
    t = ctx.t
    ticket = await _scoped_ticket(ctx, ctx.data.get("ticket_id"))
    if ticket is None:
        return t(GONE)
    await audit(ctx, "ticket.view", "ticket", services.ticket_ref(ticket.id))
    messages = await services.ticket_messages(ctx.tx, ticket.id)
    first = next((m for m in messages if m["sender"] == "user"), None)
    lines = [
        t(
            N_('{ticket} dari {who}, {ago}: "{body}"'),
            ticket=services.ticket_ref(ticket.id),
            who=_ticket_who(ctx, ticket),
            ago=ago(ctx, ticket.created_at),
            body=short((first["body"] if first else "") or "-", 200),
        )
    ]
    later = [m for m in messages if m is not first][-4:]
    for m in later:
        lines.append(
            f"- {t(SENDER_WORDS.get(m['sender'], m['sender']))}, {ago(ctx, m['at'])}: "
            f"{short(m['body'] or '-', 160)}"
        )
    return "\n".join(lines)


TICKET_ACTIONS = (
    Option(id="reply", label=N_("Balas"), aliases=("balas", "jawab")),
    Option(id="close", label=N_("Tutup tiket"), aliases=("tutup",)),
    BACK,
)


async def _ticket_next(ctx: Ctx, value: str) -> Outcome:
    if value == "back_list":
        return await _back_to_tickets(ctx)
    if await _scoped_ticket(ctx, ctx.data.get("ticket_id")) is None:
        return End((ctx.t(GONE),))
    if value == "reply":
        return "reply"
    return await _close(ctx)


async def _back_to_tickets(ctx: Ctx, *messages: str) -> Outcome:
    if not await _scoped_tickets(ctx):
        return End((*messages, ctx.t(N_("Tidak ada tiket terbuka lagi."))))
    TICKETS.reset(ctx)
    return Next("tickets", messages)


async def _close(ctx: Ctx) -> Outcome:
    f = await current_facilitator(ctx)
    tid = as_id(ctx.data.get("ticket_id"))
    if f is None or tid is None:
        return End((ctx.t(GONE),))
    try:
        ref = await services.close_ticket(
            ctx.tx,
            ticket_id=tid,
            actor_kind="facilitator",
            actor_id=f.id,
            now=ctx.now,
            channel=ctx.chat.channel,
            facilitator=f,
        )
    except (NotFound, NotAuthorised):
        await audit(ctx, "ticket.refused", "ticket", services.ticket_ref(tid))
        return End((ctx.t(GONE),))
    return await _back_to_tickets(ctx, ctx.t(N_("Tiket {ticket} ditutup."), ticket=ref))


async def _reply_prompt(ctx: Ctx) -> str:
    ticket = await _scoped_ticket(ctx, ctx.data.get("ticket_id"))
    if ticket is None:
        return ctx.t(GONE)
    who = _ticket_who(ctx, ticket, with_nik=False)
    return ctx.t(N_("Tulis balasan untuk {who}."), who=who)


async def _reply_parse(ctx: Ctx, answer: Answer) -> str:
    text = (answer.text or "").strip()
    if len(text) < 2:
        raise Invalid(N_("Mohon tulis balasan dengan sedikit lebih jelas."))
    return text


async def _reply_next(ctx: Ctx, body: str) -> Outcome:
    f = await current_facilitator(ctx)
    tid = as_id(ctx.data.get("ticket_id"))
    if f is None or tid is None:
        return End((ctx.t(GONE),))
    try:
        await services.reply_to_ticket(
            ctx.tx,
            ticket_id=tid,
            body=body,
            sender="facilitator",
            actor_id=f.id,
            now=ctx.now,
            channel=ctx.chat.channel,
            facilitator=f,
        )
    except (NotFound, NotAuthorised, Conflict):
        await audit(ctx, "ticket.refused", "ticket", services.ticket_ref(tid))
        return End((ctx.t(GONE),))
    return "replied"


async def _replied_next(ctx: Ctx, value: str) -> Outcome:
    if value == "close":
        return await _close(ctx)
    return await _back_to_tickets(ctx)


FAC_TICKETS = Flow(
    name="fac_tickets",
    roles=ROLES,
    on_start=_tickets_start,
    steps=(
        Step(
            name="tickets",
            prompt=TICKETS.prompt,
            choices=TICKETS.choices,
            free_text=True,
            next=_tickets_next,
            max_len=80,
        ),
        Step(name="ticket", prompt=_ticket_prompt, choices=TICKET_ACTIONS, next=_ticket_next),
        Step(
            name="reply",
            prompt=_reply_prompt,
            choices=(CANCEL,),
            free_text=True,
            parse=_reply_parse,
            next=_reply_next,
            max_len=MAX_MESSAGE,
        ),
        Step(
            name="replied",
            prompt=N_("Balasan terkirim. Tutup tiket?"),
            choices=(
                Option(id="close", label=N_("Tutup tiket"), aliases=("tutup", "ya")),
                Option(id="keep", label=N_("Biarkan terbuka"), aliases=("biarkan", "tidak")),
            ),
            next=_replied_next,
        ),
    ),
)
