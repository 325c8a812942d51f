"""The role-aware main menu, free-text routing by intent, and a draft to continue.

The menu's numbers never move: an unfinished report is offered in a message of its own above
the menu (its buttons are hidden choices of the menu step), not pushed in at number 1. Whatever
is typed at the menu is acted on: a number picks that entry, a NIK is kept for the check it most
likely starts (the next message is then the birth date, not read as the NIK again), a date asks
what it is for, free text goes to the flow it asks for, and a message we cannot place gets the
three likeliest entries as buttons.
"""

from __future__ import annotations

import logging
from datetime import date

from handlers import answers, whom
from handlers.engine import ASK_KEY, Ctx, End, Flow, Goto, Next, Option, Outcome, Reply, Step
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core import services
from lingkaran_core.errors import DomainError

logger = logging.getLogger(__name__)

ABOUT_FREE = states(N_("Layanan resmi, gratis"), "official_services_free")
WORKER_MENU = (
    Option(id="coverage", label=N_("Cek kepesertaan"), description=N_("Apakah saya dilindungi?")),
    Option(id="jkk", label=N_("Lapor kecelakaan"), description=N_("Celaka saat bekerja")),
    Option(id="jkm", label=N_("Lapor kematian"), description=N_("Peserta meninggal dunia")),
    Option(id="my_claims", label=N_("Klaim saya"), description=N_("Kabar laporan saya")),
    Option(id="eligibility", label=N_("Bisa ikut program?"), description=N_("Syarat untuk ikut")),
    Option(id="benefits", label=N_("Manfaat & santunan"), description=N_("JKK, JKM, dokumen")),
    Option(id="beasiswa", label=N_("Beasiswa anak"), description=N_("Untuk anak peserta")),
    Option(id="human", label=N_("Bicara dg petugas"), description=N_("Petugas atau pendamping")),
    Option(id="about", label=N_("Tentang program"), description=ABOUT_FREE),
    Option(id="settings", label=N_("Pengaturan"), description=N_("Bahasa, pesan, data saya")),
)
DRAFT_OPTION = Option(
    id="draft",
    label=N_("Lanjutkan laporan"),
    description=N_("Laporan yang belum selesai"),
    aliases=("lanjutkan", "lanjut", "lanjutkan laporan", "teruskan", "continue"),
    hidden=True,
)
DROP_DRAFT = Option(
    id="draft_drop",
    label=N_("Hapus laporan"),
    aliases=("hapus", "hapus laporan", "buang laporan"),
    hidden=True,
)
DRAFT_KIND = {
    "jkk": N_("Laporan kecelakaan kerja"),
    "jkm": N_("Laporan kematian"),
    "beasiswa": N_("Pengajuan beasiswa"),
}
FACILITATOR_MENU = (
    Option(id="fac_register", label=N_("Daftarkan pekerja"), description=N_("Pekerja baru")),
    Option(id="fac_find", label=N_("Cari pekerja"), description=N_("NIK atau nama")),
    Option(id="fac_tickets", label=N_("Tiket terbuka"), description=N_("Pertanyaan warga")),
    Option(id="fac_claims", label=N_("Klaim desa"), description=N_("Dokumen kurang")),
    Option(id="fac_leads", label=N_("Calon peserta"), description=N_("Hasil cek mandiri")),
    Option(id="fac_summary", label=N_("Ringkasan desa"), description=N_("Jumlah & tunggakan")),
    Option(id="fac_verify", label=N_("Verifikasi pekerja"), description=N_("Cocokkan KTP")),
    # The three reports on someone's behalf share one entry (a WhatsApp list holds 10 rows; the
    # next step's three choices are WhatsApp reply buttons): see FAC_REPORT.
    Option(
        id="fac_report",
        label=N_("Lapor atas nama pekerja"),
        description=N_("Kecelakaan, kematian, beasiswa"),
    ),
    Option(id="switch_worker", label=N_("Menu pekerja"), description=N_("Pindah ke menu pekerja")),
)
# What a facilitator reports for a worker or an heir (JKK, JKM, scholarship): the step after
# "Lapor atas nama pekerja", and hidden choices of the menu itself, so "lapor kecelakaan" or
# "beasiswa" typed at the menu still starts the report.
FACILITATOR_REPORTS = (
    Option(
        id="jkk",
        label=N_("Lapor kecelakaan"),
        description=N_("Atas nama pekerja"),
        aliases=("kecelakaan", "kecelakaan kerja", "jkk"),
    ),
    Option(
        id="jkm",
        label=N_("Lapor kematian"),
        description=N_("Atas nama ahli waris"),
        aliases=("kematian", "meninggal", "jkm"),
    ),
    Option(
        id="beasiswa",
        label=N_("Beasiswa anak"),
        description=N_("Atas nama ahli waris"),
        aliases=("beasiswa", "lapor beasiswa", "beasiswa anak"),
    ),
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
        hidden = [
            Option(id=o.id, label=o.label, aliases=o.aliases, hidden=True)
            for o in FACILITATOR_REPORTS
            if o.id in ctx.engine.flows
        ]
        return await _with_counts(ctx, options) + hidden
    options = [o for o in WORKER_MENU if o.id in ctx.engine.flows]
    if ctx.chat.facilitator_id is not None:
        options.append(SWITCH_TO_FACILITATOR)
    # WhatsApp lists hold 10 rows: the least needed entries give way (still reachable by
    # typing "tentang" or "bahasa").
    for spare in ("about", "settings"):
        if len(options) > 10:
            options = [o for o in options if o.id != spare]
    if ctx.state.draft:
        # Offered in its own message above the menu: the menu's numbers stay the same.
        options += [DRAFT_OPTION, DROP_DRAFT]
    return options


async def _with_counts(ctx: Ctx, options: list[Option]) -> list[Option]:
    """ "Tiket terbuka (2)", "Calon peserta (5)": what waits for the facilitator, at a glance."""
    from handlers.facilitator import current_facilitator
    from lingkaran_core import services

    f = await current_facilitator(ctx)
    if f is None:
        return options
    tickets, leads = await ctx.cached("desk_counts", lambda: services.desk_counts(ctx.tx, f))
    counts = {"fac_tickets": tickets, "fac_leads": leads}
    out: list[Option] = []
    for o in options:
        n = counts.get(o.id, 0)
        if n:
            # The label stays translatable; the count is appended after translation.
            o = Option(id=o.id, label=o.label, description=o.description, count=n)
        out.append(o)
    return out


async def menu_prompt(ctx: Ctx) -> list[Reply]:
    """The menu's heading, after the unfinished report (if any) in a message of its own."""
    if ctx.role == "facilitator":
        return [Reply(text=ctx.t(N_("Menu pendamping. Silakan pilih.")))]
    out: list[Reply] = []
    draft = ctx.state.draft
    if draft:
        kind = ctx.t(DRAFT_KIND.get(str(draft.get("flow")), N_("Laporan")))
        out.append(
            Reply(
                text=ctx.t(
                    N_('{kind} Bapak/Ibu belum selesai. Ketik "lanjut" untuk meneruskannya.'),
                    kind=kind,
                ),
                choices=(DRAFT_OPTION.render(ctx.t), DROP_DRAFT.render(ctx.t)),
            )
        )
    out.append(Reply(text=ctx.t(N_("Menu utama. Silakan pilih, atau tulis pertanyaan Bapak/Ibu."))))
    return out


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
        if picked == "draft_drop" and ctx.state.draft:
            ctx.state.draft = None
            return End((ctx.t(N_("Baik, laporan yang belum selesai sudah dihapus.")),))
    text = ctx.incoming.text or ""
    typed = await _typed_value(ctx, text)
    if typed is not None:
        return typed
    routed = await route_text(ctx, text)
    if routed is not None:
        return routed
    return await _suggest(ctx, text)


async def _typed_value(ctx: Ctx, text: str) -> Outcome | None:
    """A NIK or a date typed at the menu: kept for what it most likely starts."""
    from handlers.common import masked, read_nik
    from lingkaran_core.dates import parse_date_id

    if answers.find_nik(text) is not None or _only_digits(text, 16):
        if ctx.role == "facilitator":
            return Goto("fac_find", data={"prefill": text})
        try:
            nik = read_nik(ctx, text)
        except DomainError:
            return Goto("link")  # the NIK step says what is wrong with it
        except Exception as unsure:  # Confirm: letters read as digits
            from handlers.engine import Confirm

            if not isinstance(unsure, Confirm):
                raise
            ask = {
                "kind": "confirm",
                "step": "nik",
                "value": unsure.value,
                "msgid": unsure.msgid,
                "params": unsure.params,
            }
            return Goto("link", step="nik", data={ASK_KEY: ask})
        if ctx.chat.worker_id is not None:
            ctx.data["typed_nik"] = nik
            return "typed_nik"
        kept = ctx.t(N_("NIK {nik} kami terima untuk cek kepesertaan."), nik=masked(nik))
        return Goto("link", step="dob", data={"nik": nik}, before=(kept,))
    if ctx.role == "facilitator" or not text.strip() or len(text) > 40:
        return None
    try:
        day = parse_date_id(text, today=ctx.today)
    except DomainError:
        return None
    ctx.data["typed_date"] = day.isoformat()
    return "typed_date"


def _only_digits(text: str, n: int) -> bool:
    digits = "".join(ch for ch in text if ch.isdigit())
    return len(digits) == n and len(text.replace(" ", "").replace("-", "")) == n


async def _typed_nik_prompt(ctx: Ctx) -> str:
    from handlers.common import masked

    return ctx.t(
        N_("NIK {nik} untuk apa? Pilih, NIK itu kami isikan."),
        nik=masked(ctx.data.get("typed_nik")),
    )


TYPED_NIK_CHOICES = (
    Option(id="jkk", label=N_("Lapor kecelakaan"), description=N_("Celaka saat bekerja")),
    Option(id="jkm", label=N_("Lapor kematian"), description=N_("Peserta meninggal dunia")),
    Option(id="beasiswa", label=N_("Beasiswa anak"), description=N_("Untuk anak peserta")),
)


async def _typed_nik_next(ctx: Ctx, value: str) -> Outcome:
    return Goto(value, data={"typed_nik": ctx.data.get("typed_nik")})


async def _typed_date_prompt(ctx: Ctx) -> str:
    day = date.fromisoformat(str(ctx.data.get("typed_date")))
    return ctx.t(N_("Tanggal {date} untuk apa?"), date=ctx.t.date(day))


TYPED_DATE_CHOICES = (
    Option(id="link", label=N_("Cek kepesertaan"), description=N_("Tanggal lahir Bapak/Ibu")),
    Option(id="jkk", label=N_("Lapor kecelakaan"), description=N_("Tanggal kecelakaan")),
    Option(id="jkm", label=N_("Lapor kematian"), description=N_("Tanggal meninggal")),
)


async def _typed_date_next(ctx: Ctx, value: str) -> Outcome:
    data: dict[str, object] = {"typed_date": ctx.data.get("typed_date")}
    if value == "link":
        data["then"] = "coverage"
    return Goto(value, data=data)


async def _suggest(ctx: Ctx, text: str) -> Outcome:
    """Not understood: the three likeliest entries as buttons (facilitators: their menu)."""
    from handlers.intents import rank

    sorry = ctx.t(
        N_(
            "Maaf, kami belum mengerti. Silakan pilih menu di bawah, atau pilih "
            '"Bicara dg petugas" agar dibantu petugas.'
        )
    )
    if ctx.role == "facilitator":
        return End((Reply(text=sorry),))
    likely: list[str] = []
    for intent, _ in rank(text):
        target = _TARGETS.get(intent, intent)
        if target in {o.id for o in WORKER_MENU} and target not in likely:
            likely.append(target)
    for fallback in ("coverage", "jkk", "human"):
        if len(likely) < 3 and fallback not in likely:
            likely.append(fallback)
    ctx.data["suggest"] = likely[:3]
    return Next("suggest")


async def _suggest_prompt(ctx: Ctx) -> str:
    return ctx.t(
        N_(
            "Maaf, kami belum mengerti. Mungkin salah satu ini? Atau tulis dengan kata lain. "
            'Ketik "menu" untuk semua pilihan.'
        )
    )


async def _suggest_choices(ctx: Ctx) -> list[Option]:
    wanted = list(ctx.data.get("suggest") or ())
    by_id = {o.id: o for o in WORKER_MENU}
    return [by_id[i] for i in wanted if i in by_id and i in ctx.engine.flows]


async def _suggest_next(ctx: Ctx, value: str) -> Outcome:
    picked = ctx.incoming.choice_id is not None or value in (ctx.data.get("suggest") or ())
    if picked and value in ctx.engine.flows:
        return Goto(value)
    return await menu_next(ctx, value)


def _worker_role(ctx: Ctx) -> str:
    return "worker" if ctx.chat.worker_id is not None else "public"


_TARGETS = {"documents": "benefits", "claim": "claim_kind"}
_LANGUAGE_WORDS = frozenset({"bahasa", "language", "english", "inggris", "basa", "jawa", "madura"})


async def route_text(ctx: Ctx, text: str) -> Outcome | None:
    """Start the flow a typed message asks for, or None when nothing matches."""
    from handlers.assist import hospital_answer
    from handlers.intents import classify

    if ctx.role == "facilitator" or not text.strip():
        return None
    match = classify(text)
    intent = match.intent
    if intent is None and ctx.chat.worker_id is not None and whom.asks_for_a_person(text):
        intent = "coverage"  # "cek istri saya" on a household's phone (issue 22)
    logger.info("intent", extra={"intent": intent, "score": round(match.score, 1)})
    if intent is None:
        return None
    if intent in ("greeting", "thanks"):
        return Goto("menu")
    if intent == "scam":
        return Goto("scam", data={"said": text[:1000]})
    if intent == "hospital":
        return hospital_answer(ctx)
    if intent == "settings" and _LANGUAGE_WORDS & set(answers.fold(text).split()):
        return Goto("settings", step="language")
    target = _TARGETS.get(intent, intent)
    if target in ctx.engine.flows:
        data = None
        if target in whom.FLOWS and ctx.chat.worker_id is not None:
            # The person the words name ("istri saya") is who the flow is for.
            links = len(await services.linked_worker_ids(ctx.tx, ctx.chat.id))
            data = whom.hint_for(text, links=links)
        return Goto(target, data=data)
    return None


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
        Step(
            name="suggest",
            prompt=_suggest_prompt,
            choices=_suggest_choices,
            free_text=True,
            next=_suggest_next,
            max_len=2000,
        ),
        Step(
            name="typed_nik",
            prompt=_typed_nik_prompt,
            choices=TYPED_NIK_CHOICES,
            next=_typed_nik_next,
        ),
        Step(
            name="typed_date",
            prompt=_typed_date_prompt,
            choices=TYPED_DATE_CHOICES,
            next=_typed_date_next,
        ),
    ),
)


async def _fac_report_choices(ctx: Ctx) -> list[Option]:
    return [o for o in FACILITATOR_REPORTS if o.id in ctx.engine.flows]


async def _fac_report_next(ctx: Ctx, value: str) -> Outcome:
    return Goto(value)


# "Lapor atas nama pekerja" on the facilitator menu: three buttons, each a report the service
# files for the facilitator (and checks against the facilitator's scope).
FAC_REPORT = Flow(
    name="fac_report",
    steps=(
        Step(
            name="kind",
            prompt=N_("Lapor atas nama pekerja atau ahli warisnya. Laporan apa?"),
            choices=_fac_report_choices,
            next=_fac_report_next,
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
