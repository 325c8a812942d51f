"""Report a work accident (JKK): for oneself or someone else, ending in a stored claim.

A death caused by a work accident, on a work errand or a sudden death caused by work is a JKK
claim too (DOMAIN.md §3.1, §9); the death report sends those here, and never asks how the
deceased is "now". The report is the tahap I notice, with its 2×24 h deadline; late reports are
accepted and flagged, never refused (DOMAIN.md §2.3). Coverage on the accident date decides the
advice (handlers/claim_advice.py); tahap II documents are asked once the doctor has declared
the outcome (a death: at once).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from handlers import whom
from handlers.claim_advice import (
    advice,
    duplicate_warning,
    jkk_death_amounts,
    neutral_note,
    sees_coverage,
    tahap_notes,
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
    YES_NO,
    honorific,
    masked,
    parse_name,
    parse_past_date,
    parse_short_text,
    parse_time,
)
from handlers.docs import doc_list
from handlers.engine import (
    Answer,
    Ctx,
    Flow,
    Goto,
    Invalid,
    Next,
    Option,
    Outcome,
    Reply,
    Step,
    reads,
)
from handlers.i18n import N_, TZ
from lingkaran_core import claims as claim_rules
from lingkaran_core import services
from lingkaran_core.claims import Actor, ChecklistFacts, ClaimType, HeirRelation, JKKStage
from lingkaran_core.coverage import EventCoverage
from lingkaran_core.errors import NotAuthorised
from lingkaran_core.storage.repos import Worker, worker_by_id, worker_by_nik

TIME_OPTIONS = (
    Option(id="08", label=N_("Pagi"), aliases=("pagi", "esuk", "isuk")),
    Option(id="12", label=N_("Siang"), aliases=("siang", "awan")),
    Option(id="16", label=N_("Sore"), aliases=("sore",)),
    Option(id="20", label=N_("Malam"), aliases=("malam", "bengi", "wengi")),
)
CONDITIONS = (
    Option(id="inpatient", label=N_("Dirawat inap"), aliases=("rawat inap", "opname", "mondok")),
    Option(id="outpatient", label=N_("Rawat jalan"), aliases=("rawat jalan", "pulang")),
    Option(id="untreated", label=N_("Belum berobat"), aliases=("belum",)),
    Option(id="died", label=N_("Meninggal dunia"), aliases=("meninggal", "wafat", "seda")),
)
CONDITION_TEXT = {
    "inpatient": N_("dirawat inap"),
    "outpatient": N_("rawat jalan"),
    "untreated": N_("belum berobat"),
    "died": N_("meninggal dunia"),
}
RELATIONS = (
    Option(id="spouse", label=N_("Suami/istri"), aliases=("suami", "istri", "bojo")),
    Option(id="child", label=N_("Anak"), aliases=("anak",)),
    Option(id="parent", label=N_("Orang tua"), aliases=("bapak", "ibu", "orang tua")),
    Option(id="sibling", label=N_("Saudara"), aliases=("kakak", "adik", "saudara")),
    Option(id="other", label=N_("Lainnya"), aliases=("lain", "tetangga", "teman")),
)
WHO_SELF = Option(id="self", label=N_("Saya sendiri"), aliases=("saya", "aku", "kulo"))
WHO_OTHER = Option(
    id="other",
    label=N_("Orang lain"),
    description=N_("Keluarga atau tetangga"),
    aliases=("suami", "istri", "keluarga"),
)
EDITABLE = (
    Option(id="date", label=N_("Tanggal")),
    Option(id="place", label=N_("Tempat")),
    Option(id="what", label=N_("Kejadian")),
    Option(id="condition", label=N_("Keadaan")),
    Option(id="phone", label=N_("Nomor HP")),
)


async def _on_start(ctx: Ctx) -> Outcome | None:
    if mark_if_facilitator(ctx):
        ctx.data["who"] = "other"
        return "nik"
    if ctx.data.get("death"):
        return "nik"
    person = await whom.named(ctx)  # "istri saya jatuh" on a household's phone (issue 22)
    if person is not None:
        _for_linked(ctx, person)
        return "date"
    return None


def _for_linked(ctx: Ctx, worker: Worker) -> None:
    own = worker.id == ctx.chat.worker_id
    ctx.data.update(who="self" if own else "household", nik=worker.nik, name=worker.name)
    ctx.data["worker_id"] = worker.id


async def _who_choices(ctx: Ctx) -> list[Option]:
    """Saya sendiri / Orang lain; on a household's phone the linked names instead of "Saya"."""
    workers = await whom.linked(ctx)
    if len(workers) > 1 and ctx.role != "facilitator":
        return [*whom.options(ctx, workers), WHO_OTHER]
    return [WHO_SELF, WHO_OTHER]


async def _who_next(ctx: Ctx, value: str) -> Outcome:
    if value.startswith("w:"):
        try:
            person = await services.linked_worker(
                ctx.tx, chat_id=ctx.chat.id, worker_id=int(value[2:])
            )
        except NotAuthorised:
            return "nik"
        _for_linked(ctx, person)
        return "date"
    if value == "self" and ctx.chat.worker_id is not None:
        worker = await worker_by_id(ctx.tx, ctx.chat.worker_id)
        if worker is not None:
            ctx.data.update(nik=worker.nik, name=worker.name, worker_id=worker.id)
            return "date"
    return "nik"


async def _nik_prompt(ctx: Ctx) -> str:
    if ctx.data.get("death"):
        return ctx.t(N_("Berapa NIK almarhum/almarhumah? (16 angka di KTP/KK)"))
    if ctx.data.get("who") == "self":
        return ctx.t(N_("Berapa NIK Bapak/Ibu? (16 angka di KTP/KK)"))
    return ctx.t(N_("Berapa NIK orang yang celaka? (16 angka di KTP/KK)"))


async def _nik_next(ctx: Ctx, value: str) -> Outcome:
    # A corrected NIK must not keep the worker found for an earlier one.
    ctx.data.pop("worker_id", None)
    ctx.data.pop("name", None)
    if value == "unknown":
        ctx.data["nik"] = None
        return "name"
    ctx.data["nik"] = value
    worker = await worker_by_nik(ctx.tx, value)
    await check_subject(ctx, worker)
    if worker is not None:
        ctx.data["worker_id"] = worker.id  # staff and the facilitator match it; never echoed
    if worker is not None and filing_as(ctx)[1] == Actor.FACILITATOR:
        # Only a facilitator (checked: the worker is in their scope) sees whom the NIK names.
        ctx.data["name"] = worker.name
        found = ctx.t(
            N_("Data ditemukan: {who}, NIK {nik}."),
            who=honorific(ctx, worker),
            nik=masked(worker.nik),
        )
        return Next(go(ctx, "date"), (found,))
    # Anyone else types the name, found or not: the roster is never read back to a stranger.
    return "name"


async def _name_prompt(ctx: Ctx) -> str:
    if ctx.data.get("death"):
        return ctx.t(N_("Siapa nama almarhum/almarhumah, sesuai KTP?"))
    return ctx.t(N_("Siapa nama orang yang celaka, sesuai KTP?"))


async def _date_prompt(ctx: Ctx) -> str:
    if ctx.data.get("sudden"):
        return ctx.t(N_("Kapan beliau meninggal? Contoh: 3-11-2026."))
    if ctx.data.get("death"):
        return ctx.t(N_("Kapan kecelakaan yang menyebabkan beliau meninggal terjadi?"))
    return ctx.t(
        N_("Kapan kecelakaannya terjadi? Pilih, atau tulis tanggalnya (contoh: 24-11-2026).")
    )


@reads("date")
async def _date_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        delta = {"today": 0, "yesterday": 1}[answer.option.id]
        return (ctx.today - timedelta(days=delta)).isoformat()
    return await parse_past_date(ctx, answer)


async def _date_next(ctx: Ctx, value: str) -> Outcome:
    day = date.fromisoformat(value)
    # Claim right expires after 5 years (DOMAIN.md §2.5): say so, but still take the report.
    expiry = claim_rules.claim_expiry(ClaimType.JKK, day)
    ctx.data["expired"] = expiry is not None and expiry < ctx.today
    if ctx.data.get("time") and accident_at(ctx) > ctx.now:
        return "time"  # the new date with the old time lies in the future: ask the time again
    return go(ctx, "time")


async def _time_parse(ctx: Ctx, answer: Answer) -> str:
    return await parse_time(ctx, answer)


def accident_at(ctx: Ctx) -> datetime:
    """When the accident happened (Jember time)."""
    day = date.fromisoformat(ctx.data["date"])
    hh, mm = (int(x) for x in str(ctx.data.get("time", "12:00")).split(":"))
    return datetime.combine(day, time(hh, mm), tzinfo=TZ)


async def _time_next(ctx: Ctx, value: str) -> Outcome:
    when = accident_at(ctx)
    if when > ctx.now:
        raise Invalid(N_("Waktu itu belum terjadi. Mohon pilih lagi."))
    return go(ctx, "place")


async def _place_next(ctx: Ctx, value: str) -> Outcome:
    if ctx.data.get("sudden"):
        ctx.data["traffic"] = "no"  # a sudden death at work is not a road accident
        return go(ctx, "what")
    return go(ctx, "traffic")


async def _what_prompt(ctx: Ctx) -> str:
    if ctx.data.get("sudden"):
        return ctx.t(
            N_(
                "Apa yang terjadi? Ceritakan singkat: sedang bekerja apa, di mana, lalu apa, "
                "misalnya: pingsan saat mencangkul lalu meninggal."
            )
        )
    return ctx.t(N_("Apa yang terjadi? Ceritakan singkat, misalnya: jatuh dari pohon, kaki patah."))


async def _what_next(ctx: Ctx, value: str) -> Outcome:
    if ctx.data.get("death"):
        # Reported as a death: never ask how the deceased is now (issue 14, item 6).
        ctx.data["condition"] = "died"
        return go(ctx, "relation")
    return go(ctx, "condition")


async def _condition_next(ctx: Ctx, value: str) -> Outcome:
    if value == "died":
        ctx.data["death"] = True
        return "relation"
    # Changed away from "died": no death, no heir, no heir documents.
    ctx.data["death"] = False
    ctx.data.pop("relation", None)
    if value == "untreated":
        ctx.data["treated_at"] = None
        return go(ctx, "phone")
    return "treated_at"


async def _relation_next(ctx: Ctx, value: str) -> Outcome:
    return go(ctx, "phone")


async def _phone_prompt(ctx: Ctx) -> Reply:
    return Reply(text=ctx.t(N_("Nomor HP yang bisa dihubungi petugas? Contoh: 081234567890.")))


def summary(ctx: Ctx) -> str:
    """The confirmation screen's text."""
    t = ctx.t
    d = ctx.data
    lines = [t(N_("Mohon periksa:"))]
    who = d.get("name") or "-"
    lines.append(
        t(
            N_("- {name}, NIK {nik}"),
            name=who,
            nik=masked(d.get("nik")) if d.get("nik") else t(N_("belum ada")),
        )
    )
    lines.append(
        t(
            N_("- {date}, {period}, di {place}"),
            date=t.date(date.fromisoformat(d["date"])),
            period=str(d.get("time", "")),
            place=d.get("place", "-"),
        )
    )
    lines.append("- " + str(d.get("what", "-")))
    lines.append("- " + t(CONDITION_TEXT.get(str(d.get("condition")), N_("belum berobat"))))
    if d.get("treated_at"):
        lines.append(t(N_("- Dirawat di {place}"), place=d["treated_at"]))
    if d.get("traffic") == "yes":
        lines.append(t(N_("- Kecelakaan lalu lintas")))
    lines.append(t(N_("- Nomor HP: {phone}"), phone=d.get("phone", "-")))
    lines.append(t(N_("Sudah benar?")))
    return "\n".join(lines)


async def _confirm_prompt(ctx: Ctx) -> str | list[Reply]:
    ctx.data.pop("editing", None)
    text = summary(ctx)
    warning = await duplicate_warning(
        ctx,
        claim_type=ClaimType.JKK,
        worker_id=ctx.data.get("worker_id"),
        nik=ctx.data.get("nik"),
        event_date=date.fromisoformat(ctx.data["date"]),
    )
    # The warning is its own bubble: the summary above the buttons stays whole and short.
    return text if warning is None else [Reply(text=warning), Reply(text=text)]


async def _editable(ctx: Ctx) -> list[Option]:
    # A death report never asks how the deceased is now, not even to change an answer.
    return [o for o in EDITABLE if not (ctx.data.get("death") and o.id == "condition")]


async def _confirm_next(ctx: Ctx, value: str) -> Outcome:
    if value == "edit":
        return "edit"
    return await submit(ctx)


def facts(ctx: Ctx, *, card_expected: bool = True) -> ChecklistFacts:
    """What makes documents required for this report (tahap I; a death: tahap II at once)."""
    relation = ctx.data.get("relation")
    return ChecklistFacts(
        traffic_accident=ctx.data.get("traffic") == "yes",
        death=bool(ctx.data.get("death")),
        heir_relation=HeirRelation(relation) if relation else None,
        self_paid_costs=ctx.data.get("condition") != "untreated",
        stage=JKKStage.BENEFIT if ctx.data.get("death") else JKKStage.NOTICE,
        card_expected=card_expected,
    )


# No card can exist for these (the report still asks for the KTP and the chronology).
_NO_CARD = frozenset(
    {EventCoverage.NOT_STARTED, EventCoverage.AWAITING_VERIFICATION, EventCoverage.NOT_ON_ROSTER}
)


async def submit(ctx: Ctx) -> Outcome:
    """Store the claim, tell the reporter the reference, deadline, advice and checklist."""
    d = ctx.data
    t = ctx.t
    when = accident_at(ctx)
    deadline = claim_rules.jkk_report_deadline(when)
    late = claim_rules.is_late(deadline, ctx.now)
    worker = await services.subject_worker(ctx.tx, worker_id=d.get("worker_id"), nik=d.get("nik"))
    on_event = services.event_coverage(
        worker, nik_given=bool(d.get("nik")), event_date=when.date(), today=ctx.today
    )
    sees = await sees_coverage(ctx, worker)
    # The card is left out only for someone allowed to know none can exist: anyone else's
    # checklist must not give the roster away.
    card = not (sees and on_event in _NO_CARD)
    checklist = tuple(
        str(k) for k in claim_rules.checklist(ClaimType.JKK, facts(ctx, card_expected=card))
    )
    answers: dict[str, Any] = {
        k: d.get(k)
        for k in (
            "who",
            "time",
            "place",
            "what",
            "condition",
            "treated_at",
            "traffic",
            "death",
            "sudden",
        )
    }
    if d.get("death"):
        answers["stage"] = int(JKKStage.BENEFIT)
    if d.get("duplicate_of"):
        answers["duplicate_of"] = d["duplicate_of"]
    claim = await submit_claim(
        ctx,
        services.NewClaim(
            claim_type=ClaimType.JKK,
            event_date=when.date(),
            event_at=when,
            reporter_chat_id=ctx.chat.id,
            worker_id=d.get("worker_id"),
            subject_nik=d.get("nik"),
            subject_name=d.get("name"),
            claimant_phone=d.get("phone"),
            relation=d.get("relation"),
            answers=answers,
            checklist=checklist,
            late_report=late,
        ),
    )
    msgs: list[str] = [t(N_("Terkirim. Nomor laporan: {ref}. Mohon disimpan."), ref=claim.ref)]
    treated = d.get("condition") in ("inpatient", "outpatient")
    if sees:
        msgs += advice(
            ctx,
            claim_type=ClaimType.JKK,
            on_event=on_event,
            worker=worker,
            event_date=when.date(),
            treated=treated,
        )
    else:
        msgs.append(neutral_note(ctx, ClaimType.JKK, treated=treated))
    msgs += tahap_notes(ctx, accident_at=when, death=bool(d.get("death")))
    if d.get("death"):
        msgs.append(jkk_death_amounts(ctx))
    if d.get("expired"):
        msgs.append(
            t(
                N_(
                    "Catatan: kecelakaan ini lebih dari 5 tahun lalu; petugas akan memeriksa apakah masih bisa diklaim."
                )
            )
        )
    docs = t(N_("Dokumen yang perlu difoto:")) + "\n" + doc_list(ctx, list(checklist))
    if d.get("traffic") != "yes":
        docs += "\n" + t(N_("Surat polisi tidak perlu (bukan kecelakaan lalu lintas)."))
    msgs.append(docs)
    return Goto("docs", data={"ref": claim.ref}, before=tuple(msgs))


JKK = Flow(
    name="jkk",
    on_start=_on_start,
    keeps_draft=True,
    steps=(
        Step(
            name="who",
            prompt=N_(
                'Kami bantu lapor kecelakaan kerja ("kembali" = ubah jawaban, "batal" = '
                "berhenti). Siapa yang celaka?"
            ),
            choices=_who_choices,
            save_as="who",
            next=_who_next,
        ),
        Step(
            name="nik",
            prompt=_nik_prompt,
            choices=(UNKNOWN_NIK,),
            free_text=True,
            parse=nik_or_unknown,
            next=_nik_next,
        ),
        Step(name="name", prompt=_name_prompt, parse=parse_name, save_as="name", next=then("date")),
        Step(
            name="date",
            prompt=_date_prompt,
            choices=(
                Option(id="today", label=N_("Hari ini"), aliases=("hari ini", "saiki", "tadi")),
                Option(id="yesterday", label=N_("Kemarin"), aliases=("kemarin", "wingi")),
            ),
            free_text=True,
            parse=_date_parse,
            save_as="date",
            next=_date_next,
        ),
        Step(
            name="time",
            prompt=N_("Kira-kira jam berapa?"),
            choices=TIME_OPTIONS,
            free_text=True,
            parse=_time_parse,
            save_as="time",
            next=_time_next,
        ),
        Step(
            name="place",
            prompt=N_("Di mana kejadiannya? Tulis tempat dan desa, misalnya: sawah di Sukoreno."),
            parse=parse_short_text,
            save_as="place",
            next=_place_next,
            max_len=200,
        ),
        Step(
            name="traffic",
            prompt=N_(
                "Apakah ini kecelakaan lalu lintas (di jalan, misalnya saat berangkat kerja)?"
            ),
            choices=YES_NO,
            save_as="traffic",
            next=then("what"),
        ),
        Step(
            name="what",
            prompt=_what_prompt,
            parse=parse_short_text,
            save_as="what",
            next=_what_next,
            max_len=500,
        ),
        Step(
            name="condition",
            prompt=N_("Bagaimana keadaannya sekarang?"),
            choices=CONDITIONS,
            save_as="condition",
            next=_condition_next,
        ),
        Step(
            name="relation",
            prompt=N_(
                "Kami turut berduka cita. Apa hubungan Bapak/Ibu dengan almarhum/almarhumah?"
            ),
            choices=RELATIONS,
            save_as="relation",
            next=_relation_next,
        ),
        Step(
            name="treated_at",
            prompt=N_("Di rumah sakit atau puskesmas mana?"),
            parse=parse_short_text,
            save_as="treated_at",
            next=then("phone"),
            max_len=120,
        ),
        Step(
            name="phone",
            prompt=_phone_prompt,
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
        Step(name="edit", prompt=N_("Apa yang ingin diubah?"), choices=_editable, next=edit_next),
    ),
)
