"""Leads: self-screened people who agreed to be contacted; contact, register or close them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.common import place_of, sector_label, sector_options
from handlers.engine import Ctx, End, Flow, Goto, Invalid, Next, Option, Outcome, Step
from handlers.facilitator.common import (
    BACK,
    MENU,
    ROLES,
    as_id,
    audit,
    current_facilitator,
    no_access,
)
from handlers.i18n import N_, TZ
from handlers.widgets import PagedList, Row
from lingkaran_core import services
from lingkaran_core.errors import NotAuthorised, NotFound
from lingkaran_core.services import Lead

LEAD_STATUS = {"open": N_("belum dihubungi"), "contacted": N_("sudah dihubungi")}
CLOSE_REASONS = (
    Option(id="already_member", label=N_("Sudah jadi peserta")),
    Option(id="unreachable", label=N_("Tidak bisa dihubungi")),
    Option(id="declined", label=N_("Tidak berminat")),
    Option(id="moved", label=N_("Pindah / bukan warga")),
    Option(id="cannot_join", label=N_("Belum bisa ikut")),
)
GONE = N_("Calon peserta itu tidak ada di wilayah Bapak/Ibu.")


async def _scoped_leads(ctx: Ctx) -> list[Lead]:
    async def load() -> list[Lead]:
        f = await current_facilitator(ctx)
        return [] if f is None else await services.leads_for_facilitator(ctx.tx, f)

    return await ctx.cached("leads", load)


async def _scoped_lead(ctx: Ctx, lead_id: object) -> Lead | None:
    f = await current_facilitator(ctx)
    lid = as_id(lead_id)
    if f is None or lid is None:
        return None
    listed = next((lead for lead in await _scoped_leads(ctx) if lead.id == lid), None)
    if listed is not None:
        return listed  # already read for this render, within the scope
    try:
        return await services.lead_for_facilitator(ctx.tx, f, lid)
    except (NotFound, NotAuthorised):
        await audit(ctx, "lead.refused", "lead", lid)
        return None


def _lead_title(ctx: Ctx, lead: Lead) -> str:
    return str(lead.name or ctx.t(N_("Calon peserta {n}"), n=lead.id))


async def _leads_start(ctx: Ctx) -> Outcome | None:
    if await current_facilitator(ctx) is None:
        return await no_access(ctx)
    await audit(ctx, "lead.list")
    if not await _scoped_leads(ctx):
        return End((ctx.t(N_("Tidak ada calon peserta yang menunggu dihubungi.")),))
    return None


async def _lead_rows(ctx: Ctx) -> list[Row]:
    rows = []
    for lead in await _scoped_leads(ctx):
        desa, _ = place_of(lead.desa_code)
        facts = (
            f"{ctx.t(N_('umur {age}'), age=lead.answers.get('age', '-'))}, "
            f"{sector_label(ctx, lead.answers.get('sector')).lower()}, {desa}, "
            f"{ctx.t(LEAD_STATUS[lead.status])}"
        )
        rows.append(
            Row(
                id=str(lead.id),
                label=_lead_title(ctx, lead),
                line=f"{_lead_title(ctx, lead)}: {facts}",
                description=facts,
                search=f"{_lead_title(ctx, lead)} {lead.phone or ''}",
            )
        )
    return rows


LEADS = PagedList(
    prefix="l:",
    name="leads",
    load=_lead_rows,
    heading=lambda ctx, n: ctx.t(N_("Calon peserta yang menunggu: {n}."), n=n),
    size=8,
    extra=(MENU,),
)


async def _leads_next(ctx: Ctx, value: str) -> Outcome:
    picked = await LEADS.pick(ctx, value)
    if picked.outcome is not None:
        return picked.outcome
    if picked.other == "menu":
        return End()
    lead = await _scoped_lead(ctx, picked.row)
    if lead is None:
        raise Invalid(GONE)
    ctx.data["lead_id"] = lead.id
    return "lead"


TRI_WORDS = {
    "yes": N_("ya"),
    "no": N_("tidak"),
    "unknown": N_("tidak tahu"),
    "lapsed": N_("dulu, sudah berhenti"),
    "employer": N_("dari tempat kerja"),
}


async def _lead_prompt(ctx: Ctx) -> str:
    t = ctx.t
    lead = await _scoped_lead(ctx, ctx.data.get("lead_id"))
    if lead is None:
        return t(GONE)
    await audit(ctx, "lead.view", "lead", lead.id)
    a = lead.answers
    desa, kec = place_of(lead.desa_code)
    lines = [
        t(
            N_("{who}, Desa {desa}, Kec. {kec}. Cek mandiri {date}."),
            who=_lead_title(ctx, lead),
            desa=desa,
            kec=kec,
            date=t.date(datetime.fromisoformat(lead.created_at).astimezone(TZ).date()),
        ),
        t(
            N_("Umur {age}, {work}. Sudah peserta BPJS TK: {member}. Terdata DTSEN: {dtsen}."),
            age=a.get("age", "-"),
            work=sector_label(ctx, a.get("sector")).lower(),
            member=t(TRI_WORDS.get(str(a.get("other_bpjs")), N_("tidak tahu"))),
            dtsen=t(TRI_WORDS.get(str(a.get("in_dtsen")), N_("tidak tahu"))),
        ),
        # The person agreed to share the number with the desa facilitator: shown in full.
        t(N_("HP: {phone}"), phone=lead.phone or t(N_("tidak ada"))),
        t(N_("Status: {status}."), status=t(LEAD_STATUS[lead.status])),
    ]
    return "\n".join(lines)


LEAD_ACTIONS = (
    Option(id="contacted", label=N_("Sudah dihubungi"), aliases=("dihubungi",)),
    Option(id="register", label=N_("Daftarkan"), aliases=("daftar",)),
    Option(id="close", label=N_("Tutup"), aliases=("tutup",)),
    BACK,
)


async def _lead_next(ctx: Ctx, value: str) -> Outcome:
    if value == "back_list":
        return "leads"
    lead = await _scoped_lead(ctx, ctx.data.get("lead_id"))
    f = await current_facilitator(ctx)
    if lead is None or f is None:
        return End((ctx.t(GONE),))
    if value == "close":
        return "close_reason"
    if value == "register":
        data: dict[str, Any] = {"lead_id": lead.id, "desa_code": lead.desa_code}
        if lead.answers.get("sector") in {o.id for o in sector_options(with_other=False)}:
            data["sector"] = lead.answers["sector"]
        if lead.phone:
            data["phone"] = lead.phone
        await audit(ctx, "lead.register_started", "lead", lead.id)
        return Goto("fac_register", data=data)
    await services.mark_lead_contacted(ctx.tx, f, lead.id, now=ctx.now, channel=ctx.chat.channel)
    return Next("lead", (ctx.t(N_("Dicatat: sudah dihubungi.")),))


async def _close_reason_next(ctx: Ctx, value: str) -> Outcome:
    f = await current_facilitator(ctx)
    lid = as_id(ctx.data.get("lead_id"))
    if f is None or lid is None:
        return End((ctx.t(GONE),))
    try:
        await services.close_lead(
            ctx.tx, f, lid, reason=value, now=ctx.now, channel=ctx.chat.channel
        )
    except (NotFound, NotAuthorised):
        await audit(ctx, "lead.refused", "lead", lid)
        return End((ctx.t(GONE),))
    done = ctx.t(N_("Calon peserta ditutup."))
    ctx.memo.clear()  # the list changed
    if not await _scoped_leads(ctx):
        return End((done,))
    LEADS.reset(ctx)
    return Next("leads", (done,))


FAC_LEADS = Flow(
    name="fac_leads",
    roles=ROLES,
    on_start=_leads_start,
    steps=(
        Step(
            name="leads",
            prompt=LEADS.prompt,
            choices=LEADS.choices,
            free_text=True,
            next=_leads_next,
            max_len=80,
        ),
        Step(name="lead", prompt=_lead_prompt, choices=LEAD_ACTIONS, next=_lead_next),
        Step(
            name="close_reason",
            prompt=N_("Alasan menutup?"),
            choices=CLOSE_REASONS,
            next=_close_reason_next,
        ),
    ),
)
