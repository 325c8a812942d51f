"""The role-aware main menu, free-text routing by intent, and a draft to continue."""

from __future__ import annotations

import logging

from handlers import whom
from handlers.engine import Ctx, End, Flow, Goto, Option, Outcome, Reply, Step
from handlers.i18n import N_
from lingkaran_core import services

logger = logging.getLogger(__name__)

WORKER_MENU = (
    Option(id="coverage", label=N_("Cek kepesertaan"), description=N_("Apakah saya dilindungi?")),
    Option(id="jkk", label=N_("Lapor kecelakaan"), description=N_("Celaka saat bekerja")),
    Option(id="jkm", label=N_("Lapor kematian"), description=N_("Peserta meninggal dunia")),
    Option(id="my_claims", label=N_("Klaim saya"), description=N_("Kabar laporan saya")),
    Option(id="eligibility", label=N_("Bisa ikut program?"), description=N_("Syarat untuk ikut")),
    Option(id="benefits", label=N_("Manfaat & santunan"), description=N_("JKK, JKM, dokumen")),
    Option(id="beasiswa", label=N_("Beasiswa anak"), description=N_("Untuk anak peserta")),
    Option(id="human", label=N_("Bicara dg petugas"), description=N_("Petugas atau pendamping")),
    Option(id="about", label=N_("Tentang program"), description=N_("Layanan resmi, gratis")),
    Option(id="settings", label=N_("Pengaturan"), description=N_("Bahasa, pesan, data saya")),
)
DRAFT_OPTION = Option(
    id="draft", label=N_("Lanjutkan laporan"), description=N_("Laporan yang belum selesai")
)
FACILITATOR_MENU = (
    Option(id="fac_register", label=N_("Daftarkan pekerja"), description=N_("Pekerja baru")),
    Option(id="fac_find", label=N_("Cari pekerja"), description=N_("NIK atau nama")),
    Option(id="fac_tickets", label=N_("Tiket terbuka"), description=N_("Pertanyaan warga")),
    Option(id="fac_claims", label=N_("Klaim desa"), description=N_("Dokumen kurang")),
    Option(id="fac_leads", label=N_("Calon peserta"), description=N_("Hasil cek mandiri")),
    Option(id="fac_summary", label=N_("Ringkasan desa"), description=N_("Jumlah & tunggakan")),
    Option(id="fac_verify", label=N_("Verifikasi pekerja"), description=N_("Cocokkan KTP")),
    Option(id="jkk", label=N_("Lapor kecelakaan"), description=N_("Atas nama pekerja")),
    Option(id="jkm", label=N_("Lapor kematian"), description=N_("Atas nama ahli waris")),
    Option(id="switch_worker", label=N_("Menu pekerja"), description=N_("Pindah ke menu pekerja")),
)
SWITCH_TO_FACILITATOR = Option(
    id="switch_facilitator",
    label=N_("Menu pendamping"),
    description=N_("Pindah ke menu pendamping"),
)


async def menu_choices(ctx: Ctx) -> list[Option]:
    """The options of the menu for this chat's role (and a draft to continue, if any)."""
    if ctx.role == "facilitator":
        options = [
            o for o in FACILITATOR_MENU if o.id in ctx.engine.flows or o.id == "switch_worker"
        ]
        return await _with_counts(ctx, options)
    options = [o for o in WORKER_MENU if o.id in ctx.engine.flows]
    if ctx.state.draft:
        options.insert(0, DRAFT_OPTION)
    if ctx.chat.facilitator_id is not None:
        options.append(SWITCH_TO_FACILITATOR)
    # WhatsApp lists hold 10 rows: the least needed entries give way (still reachable by
    # typing "tentang" or "bahasa").
    for spare in ("about", "settings"):
        if len(options) > 10:
            options = [o for o in options if o.id != spare]
    return options


async def _with_counts(ctx: Ctx, options: list[Option]) -> list[Option]:
    """ "Tiket terbuka (2)", "Calon peserta (5)": what waits for the facilitator, at a glance."""
    from handlers.facilitator import current_facilitator
    from lingkaran_core import services

    f = await current_facilitator(ctx)
    if f is None:
        return options
    tickets, leads = await services.desk_counts(ctx.tx, f)
    counts = {"fac_tickets": tickets, "fac_leads": leads}
    out: list[Option] = []
    for o in options:
        n = counts.get(o.id, 0)
        if n:
            # The label stays translatable; the count is appended after translation.
            o = Option(id=o.id, label=o.label, description=o.description, count=n)
        out.append(o)
    return out


async def menu_prompt(ctx: Ctx) -> str:
    """The menu's heading."""
    if ctx.role == "facilitator":
        return ctx.t(N_("Menu pendamping. Silakan pilih."))
    return ctx.t(N_("Menu utama. Silakan pilih, atau tulis pertanyaan Bapak/Ibu."))


async def menu_next(ctx: Ctx, value: str | Option) -> Outcome:
    """Start the chosen flow, or route typed text by intent."""
    from lingkaran_core.storage import chats as chat_store

    choice = ctx.incoming.choice_id
    picked = value if isinstance(value, str) else value.id
    option_ids = {o.id for o in await menu_choices(ctx)}
    if picked in option_ids or choice is not None:
        if picked == "draft" and ctx.state.draft:
            draft = ctx.state.draft
            ctx.state.draft = None
            return Goto(
                draft["flow"],
                step=draft["step"],
                data=draft["data"],
                stack=tuple(draft.get("stack", ())),
            )
        if picked == "switch_worker":
            await chat_store.update_chat(ctx.tx, ctx.chat.id, active_role=_worker_role(ctx))
            ctx.chat.active_role = _worker_role(ctx)
            return Goto("menu")
        if picked == "switch_facilitator" and ctx.chat.facilitator_id is not None:
            await chat_store.update_chat(ctx.tx, ctx.chat.id, active_role="facilitator")
            ctx.chat.active_role = "facilitator"
            return Goto("menu")
        if picked in ctx.engine.flows:
            return Goto(picked)
    routed = await route_text(ctx, ctx.incoming.text or "")
    if routed is not None:
        return routed
    return End(
        (
            Reply(
                text=ctx.t(
                    N_(
                        "Maaf, kami belum mengerti. Silakan pilih menu di bawah, atau pilih "
                        '"Bicara dg petugas" agar dibantu petugas.'
                    )
                )
            ),
        )
    )


def _worker_role(ctx: Ctx) -> str:
    return "worker" if ctx.chat.worker_id is not None else "public"


async def route_text(ctx: Ctx, text: str) -> Outcome | None:
    """Start the flow a typed message asks for, or None when nothing matches."""
    from handlers.intents import classify

    if ctx.role == "facilitator" or not text.strip():
        return None
    match = classify(text)
    intent = match.intent
    if intent is None and ctx.chat.worker_id is not None and whom.asks_for_a_person(text):
        intent = "coverage"  # "cek istri saya" on a household's phone (issue 22)
    logger.info("intent", extra={"intent": intent, "score": round(match.score, 1)})
    if intent is None or intent == "thanks":
        return None
    if intent == "greeting":
        return Goto("menu")
    target = {"documents": "benefits", "claim": "claim_kind"}.get(intent, intent)
    if target in ctx.engine.flows:
        data = None
        if target in whom.FLOWS and ctx.chat.worker_id is not None:
            # The person the words name ("istri saya") is who the flow is for.
            links = len(await services.linked_worker_ids(ctx.tx, ctx.chat.id))
            data = whom.hint_for(text, links=links)
        return Goto(target, data=data)
    return None


async def intent_router(ctx: Ctx, text: str) -> list[Reply] | None:
    """Used by the engine for a first message: start the flow it asks for."""
    outcome = await route_text(ctx, text)
    if outcome is None or not isinstance(outcome, Goto):
        return None
    if outcome.flow == "menu":
        return await ctx.engine.show_menu(ctx)
    return await ctx.engine.start_flow(ctx, outcome.flow, data=outcome.data)


async def _ask_kind_next(ctx: Ctx, value: str) -> Outcome:
    return Goto(value)


MENU = Flow(
    name="menu",
    steps=(
        Step(
            name="main",
            prompt=menu_prompt,
            choices=menu_choices,
            free_text=True,
            next=menu_next,
            max_len=2000,
        ),
    ),
)

CLAIM_KIND = Flow(
    name="claim_kind",
    steps=(
        Step(
            name="kind",
            prompt=N_("Laporan apa yang ingin Bapak/Ibu buat?"),
            choices=(
                Option(id="jkk", label=N_("Kecelakaan kerja"), aliases=("kecelakaan", "jkk")),
                Option(id="jkm", label=N_("Kematian"), aliases=("meninggal", "jkm")),
                Option(id="beasiswa", label=N_("Beasiswa anak"), aliases=("beasiswa",)),
            ),
            next=_ask_kind_next,
        ),
    ),
)
