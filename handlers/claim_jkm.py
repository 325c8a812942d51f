"""Report a death (JKM), usually by an heir; a death from a work accident, on a work errand or a
sudden death caused by work goes to JKK (DOMAIN.md §3.1, §9: the flow asks).

Coverage is checked on the date of death (DOMAIN.md §3.5) and explained plainly to whoever may
read it (handlers/claim_advice.py), but the report is always taken: the OPD checks every case.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.claim_advice import (
    advice,
    duplicate_warning,
    forward_note,
    neutral_note,
    sees_coverage,
)
from handlers.claim_common import (
    CONFIRM_CHOICES,
    UNKNOWN_NIK,
    check_subject,
    edit_next,
    filing_as,
    go,
    mark_if_facilitator,
    nik_or_unknown,
    phone_answer,
    phone_choices,
    then,
)
from handlers.claim_common import submit as submit_claim
from handlers.common import (
    DONT_KNOW,
    YES_NO,
    masked,
    parse_name,
    parse_past_date,
    read_nik,
)
from handlers.docs import doc_list
from handlers.engine import Answer, Ctx, Flow, Goto, Invalid, Option, Outcome, Reply, Step
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core import claims as claim_rules
from lingkaran_core import services
from lingkaran_core.claims import Actor, ChecklistFacts, ClaimType, HeirRelation
from lingkaran_core.coverage import EventCoverage
from lingkaran_core.storage.repos import worker_by_nik

RELATIONS = (
    Option(id="child", label=N_("Anak"), aliases=("anak", "putra", "putri")),
    Option(id="spouse", label=N_("Suami/istri"), aliases=("suami", "istri", "bojo")),
    Option(id="parent", label=N_("Orang tua"), aliases=("bapak", "ibu", "orang tua")),
    Option(id="sibling", label=N_("Saudara"), aliases=("kakak", "adik", "saudara")),
    Option(id="other", label=N_("Lainnya"), aliases=("lain", "tetangga")),
)
# "Ya", "Tidak", "Tidak tahu" keep the places they always had (typed numbers 1-3).
CAUSES = (
    Option(
        id="yes",
        label=N_("Ya, kecelakaan kerja"),
        description=N_("Saat bekerja, di jalan pergi/pulang kerja, atau saat tugas"),
        aliases=("ya", "iya", "kecelakaan", "kecelakaan kerja"),
    ),
    Option(
        id="no",
        label=N_("Tidak: sakit/lain"),
        description=N_("Sakit atau sebab lain"),
        aliases=("tidak", "bukan", "sakit", "tdk", "gak", "nggak"),
    ),
    DONT_KNOW,
    Option(
        id="sudden",
        label=N_("Mendadak saat kerja"),
        description=N_("Meninggal mendadak saat sedang bekerja"),
        aliases=("mendadak", "meninggal mendadak"),
    ),
)
CAUSE_PROMPT = states(
    N_(
        "Kami turut berduka cita. Apakah peserta meninggal karena kecelakaan kerja (saat bekerja, "
        "di jalan pergi/pulang kerja, atau saat tugas), atau meninggal mendadak saat bekerja? "
        "Santunannya berbeda."
    ),
    "sudden_death_at_work_is_jkk",
)
HEIRS_HELP = states(
    N_(
        "Ahli waris utama: istri/suami dan anak. Jika tidak ada: orang tua, cucu, kakek/nenek; "
        "lalu saudara kandung; lalu mertua; lalu orang yang ditunjuk dalam wasiat. Jika tidak "
        "ada wasiat, biaya pemakaman diberikan kepada yang mengurus pemakaman (PP 44/2015 "
        "Pasal 40)."
    ),
    "heirs_order",
)
HEIR_CHOICES = (
    Option(id="self", label=N_("Saya sendiri"), aliases=("saya", "aku", "kulo")),
    Option(
        id="spouse",
        label=N_("Istri/suami beliau"),
        aliases=("ibu saya", "bapak saya", "istri", "suami"),
    ),
    Option(id="other", label=N_("Orang lain"), aliases=("lain",)),
)


async def _on_start(ctx: Ctx) -> Outcome | None:
    mark_if_facilitator(ctx)
    return None


SUDDEN_IS_JKK = states(
    N_(
        "Meninggal mendadak karena pekerjaan termasuk kecelakaan kerja (JKK). Kami catat sebagai "
        "laporan kecelakaan kerja; BPJS Ketenagakerjaan yang menilainya."
    ),
    "sudden_death_at_work_is_jkk",
)
CAUSE_UNKNOWN_NOTE = states(
    N_(
        "Petugas juga akan mengecek apakah ini termasuk kecelakaan kerja (JKK), yang santunannya "
        "lebih besar."
    ),
    "sudden_death_at_work_is_jkk",
    "jkk_death",
)


async def _cause_next(ctx: Ctx, value: str) -> Outcome:
    if value == "sudden":
        return Goto(
            "jkk",
            data={"death": True, "who": "other", "sudden": True},
            before=(ctx.t(SUDDEN_IS_JKK),),
        )
    if value == "yes":
        # A death from a work accident is a JKK claim (DOMAIN.md §3.1), with its 2×24 h report.
        return Goto(
            "jkk",
            data={"death": True, "who": "other"},
            before=(
                ctx.t(
                    N_(
                        "Karena kecelakaan kerja, ini kami catat sebagai laporan kecelakaan kerja (JKK)."
                    )
                ),
            ),
        )
    ctx.data["cause_unknown"] = value == "unknown"
    return "date"


async def _nik_next(ctx: Ctx, value: str) -> Outcome:
    ctx.data.pop("worker_id", None)
    if value == "unknown":
        ctx.data["nik"] = None
        return "name"
    worker = await worker_by_nik(ctx.tx, value)
    await check_subject(ctx, worker)
    ctx.data["nik"] = value
    if worker is not None:
        ctx.data["worker_id"] = worker.id  # staff and the facilitator match it; never echoed
    if worker is None or filing_as(ctx)[1] != Actor.FACILITATOR:
        # Found or not, anyone but a facilitator of the desa types the name: no roster echo.
        ctx.data.pop("name", None)
        return "name"
    ctx.data["name"] = worker.name
    return go(ctx, "heir")


async def _heir_next(ctx: Ctx, value: str) -> Outcome:
    ctx.data["heir"] = value
    return "heir_name"


async def _heir_name_prompt(ctx: Ctx) -> str:
    if ctx.data.get("heir") == "self":
        return ctx.t(N_("Siapa nama lengkap Bapak/Ibu, sesuai KTP?"))
    return ctx.t(N_("Siapa nama lengkap ahli waris (penerima santunan), sesuai KTP?"))


async def _heir_nik_prompt(ctx: Ctx) -> str:
    if ctx.data.get("heir") == "self":
        return ctx.t(N_("Berapa NIK Bapak/Ibu sendiri? (16 angka di KTP/KK)"))
    return ctx.t(N_("Berapa NIK ahli waris? (16 angka di KTP/KK)"))


async def _heirnik_or_unknown(ctx: Ctx, answer: Answer) -> str | None:
    if answer.option is not None:
        return None
    nik = read_nik(ctx, answer.text or "")
    if nik == ctx.data.get("nik"):
        raise Invalid(N_("Itu NIK almarhum/almarhumah. Mohon ketik NIK ahli waris."))
    return nik


async def _children_next(ctx: Ctx, value: str) -> Outcome:
    return go(ctx, "phone")


JKM_AMOUNTS = states(
    N_(
        "Jika kepesertaan aktif pada {date}, santunannya {total}: {lump} santunan sekaligus, "
        "{periodic} santunan berkala (dibayar sekaligus), {funeral} biaya pemakaman."
    ),
    "jkm_benefit",
)


def _benefit_text(ctx: Ctx) -> str:
    b = claim_rules.jkm_benefit()
    t = ctx.t
    return t(
        JKM_AMOUNTS,
        date=t.date(date.fromisoformat(ctx.data["date"])),
        total=t.money(b.total),
        lump=t.money(b.lump_sum),
        periodic=t.money(b.periodic),
        funeral=t.money(b.funeral),
    )


async def _on_event(ctx: Ctx) -> tuple[EventCoverage, bool, Any]:
    """Coverage on the date of death, whether this chat may read it, and the roster worker."""
    worker = await services.subject_worker(
        ctx.tx, worker_id=ctx.data.get("worker_id"), nik=ctx.data.get("nik")
    )
    on_event = services.event_coverage(
        worker,
        nik_given=bool(ctx.data.get("nik")),
        event_date=date.fromisoformat(ctx.data["date"]),
        today=ctx.today,
    )
    return on_event, await sees_coverage(ctx, worker), worker


async def _coverage_note(ctx: Ctx) -> str:
    """What the roster says on the date of death, in plain words, to whoever may read it.

    Coverage on a date is personal data: only the worker's linked chat or a facilitator of the
    desa reads it here; anyone else gets one note whatever the roster says.
    """
    on_event, sees, worker = await _on_event(ctx)
    if not sees:
        return neutral_note(ctx, ClaimType.JKM)
    return " ".join(
        advice(
            ctx,
            claim_type=ClaimType.JKM,
            on_event=on_event,
            worker=worker,
            event_date=date.fromisoformat(ctx.data["date"]),
            treated=False,
        )
    )


async def _confirm_prompt(ctx: Ctx) -> str | list[Reply]:
    ctx.data.pop("editing", None)
    t = ctx.t
    d = ctx.data
    lines = [
        t(
            N_("Kirim laporan kematian untuk {name} (NIK {nik}), meninggal {date}?"),
            name=d.get("name") or "-",
            nik=masked(d.get("nik")) if d.get("nik") else t(N_("belum ada")),
            date=t.date(date.fromisoformat(d["date"])),
        ),
        t(
            N_("Ahli waris: {heir}. Nomor HP: {phone}."),
            heir=d.get("heir_name", "-"),
            phone=d.get("phone", "-"),
        ),
    ]
    lines.append(await _coverage_note(ctx))
    if d.get("cause_unknown"):
        lines.append(t(CAUSE_UNKNOWN_NOTE))
    warning = await duplicate_warning(
        ctx,
        claim_type=ClaimType.JKM,
        worker_id=d.get("worker_id"),
        nik=d.get("nik"),
        event_date=date.fromisoformat(d["date"]),
    )
    text = "\n".join(lines)
    return text if warning is None else [Reply(text=warning), Reply(text=text)]


async def _confirm_next(ctx: Ctx, value: str) -> Outcome:
    if value == "edit":
        return "edit"
    return await _submit(ctx)


async def _submit(ctx: Ctx) -> Outcome:
    d = ctx.data
    t = ctx.t
    relation = d.get("relation")
    # The checklist depends on the HEIR's relation to the deceased (buku nikah for a spouse,
    # akta kelahiran for a child); for another heir the officer asks.
    heir_relation = {
        "self": HeirRelation(relation) if relation else None,
        "spouse": HeirRelation.SPOUSE,
    }.get(str(d.get("heir")))
    on_event, sees, _ = await _on_event(ctx)
    card = not (sees and on_event in _NO_CARD)
    facts = ChecklistFacts(
        death=True, heir_relation=heir_relation, self_paid_costs=False, card_expected=card
    )
    checklist = tuple(str(k) for k in claim_rules.checklist(ClaimType.JKM, facts))
    answers = {k: d.get(k) for k in ("cause_unknown", "children", "heir", "heir_nik")}
    if d.get("duplicate_of"):
        answers["duplicate_of"] = d["duplicate_of"]
    claim = await submit_claim(
        ctx,
        services.NewClaim(
            claim_type=ClaimType.JKM,
            event_date=date.fromisoformat(d["date"]),
            reporter_chat_id=ctx.chat.id,
            worker_id=d.get("worker_id"),
            subject_nik=d.get("nik"),
            subject_name=d.get("name"),
            claimant_name=d.get("heir_name"),
            claimant_nik=d.get("heir_nik"),
            claimant_phone=d.get("phone"),
            relation=relation,
            answers=answers,
            checklist=checklist,
        ),
    )
    msgs = [
        t(N_("Terkirim. Nomor laporan: {ref}. Mohon disimpan."), ref=claim.ref),
        _benefit_text(ctx),
        forward_note(ctx, ClaimType.JKM),
    ]
    if d.get("children") == "yes":
        msgs.append(t(SCHOLARSHIP_HINT))
    msgs.append(t(N_("Dokumen yang perlu difoto:")) + "\n" + doc_list(ctx, list(checklist)))
    return Goto("docs", data={"ref": claim.ref}, before=tuple(msgs))


# No card can exist for these (the report still asks for the KTP and the heir's papers).
_NO_CARD = frozenset(
    {EventCoverage.NOT_STARTED, EventCoverage.AWAITING_VERIFICATION, EventCoverage.NOT_ON_ROSTER}
)
SCHOLARSHIP_HINT = states(
    N_(
        "Ada beasiswa untuk paling banyak 2 anak peserta, sampai umur 23 tahun, jika iuran "
        "peserta sudah paling sedikit 3 tahun (kepesertaan sebelumnya ikut dihitung). Petugas "
        'akan memeriksa. Ajukan lewat menu "Beasiswa anak".'
    ),
    "scholarship_max_children",
    "scholarship_max_child_age",
    "scholarship_min_membership_years",
)

JKM = Flow(
    name="jkm",
    keeps_draft=True,
    on_start=_on_start,
    steps=(
        Step(
            name="cause",
            prompt=CAUSE_PROMPT,
            choices=CAUSES,
            next=_cause_next,
        ),
        Step(
            name="date",
            prompt=N_("Kapan beliau meninggal? Contoh: 3-11-2026."),
            parse=parse_past_date,
            save_as="date",
            next=then("relation"),
        ),
        Step(
            name="relation",
            prompt=N_("Apa hubungan Bapak/Ibu dengan almarhum/almarhumah?"),
            choices=RELATIONS,
            save_as="relation",
            next=then("nik"),
            help=HEIRS_HELP,
        ),
        Step(
            name="nik",
            prompt=N_("Berapa NIK almarhum/almarhumah? (16 angka di KTP/KK)"),
            choices=(UNKNOWN_NIK,),
            free_text=True,
            parse=nik_or_unknown,
            next=_nik_next,
        ),
        Step(
            name="name",
            prompt=N_("Siapa nama almarhum/almarhumah, sesuai KTP?"),
            parse=parse_name,
            save_as="name",
            next=then("heir"),
        ),
        Step(
            name="heir",
            prompt=states(
                N_(
                    "Siapa ahli waris (penerima santunan)? Yang utama istri/suami dan anak "
                    "almarhum."
                ),
                "heirs_order",
            ),
            choices=HEIR_CHOICES,
            next=_heir_next,
        ),
        Step(
            name="heir_name",
            prompt=_heir_name_prompt,
            parse=parse_name,
            save_as="heir_name",
            next=then("heir_nik"),
        ),
        Step(
            name="heir_nik",
            prompt=_heir_nik_prompt,
            choices=(UNKNOWN_NIK,),
            free_text=True,
            parse=_heirnik_or_unknown,
            save_as="heir_nik",
            next=then("children"),
        ),
        Step(
            name="children",
            prompt=N_(
                "Apakah ada anak almarhum yang masih sekolah atau kuliah, di bawah 23 tahun?"
            ),
            choices=YES_NO,
            save_as="children",
            next=_children_next,
        ),
        Step(
            name="phone",
            prompt=N_("Nomor HP ahli waris yang bisa dihubungi petugas? Contoh: 081234567890."),
            choices=phone_choices,
            free_text=True,
            parse=phone_answer,
            save_as="phone",
            request="contact",
            next="confirm",
        ),
        Step(
            name="confirm",
            prompt=_confirm_prompt,
            choices=CONFIRM_CHOICES,
            next=_confirm_next,
        ),
        Step(
            name="edit",
            prompt=N_("Apa yang ingin diubah?"),
            choices=(
                Option(id="date", label=N_("Tanggal meninggal")),
                Option(id="nik", label=N_("NIK almarhum")),
                Option(id="heir_name", label=N_("Nama ahli waris")),
                Option(id="phone", label=N_("Nomor HP")),
            ),
            next=edit_next,
        ),
    ),
)
