"""Scholarship (BEASISWA) for the children of a participant who died or became totally disabled.

Rules (DOMAIN.md §3.2, §2.1, §9): up to 2 children, to age 23, 3 years of *masa iur*
(contributions paid) on the JKM route (waived after a work accident), claimed again every school
year. The bot counts only the contributions the Pemkab recorded; earlier memberships count too,
so a short or unknown history is recorded as "needs verification", never refused. A child not
yet at school is recorded now; the scholarship is paid once schooling starts.

A facilitator files it from "Lapor atas nama pekerja" for a worker of their scope, on behalf of
the heir or the worker: the NIK is asked (the service checks the scope again when filing), and
the parent or guardian staff will contact is asked for, named on the confirmation and recorded.
"""

from __future__ import annotations

from datetime import date

from handlers import whom
from handlers.claim_advice import advice, duplicate_warning, forward_note, sees_coverage
from handlers.claim_common import (
    CONFIRM_CHOICES,
    check_subject,
    filing_as,
    mark_if_facilitator,
)
from handlers.claim_common import submit as submit_claim
from handlers.common import (
    honorific,
    masked,
    parse_birth_date,
    parse_name,
    parse_past_date,
    parse_phone,
)
from handlers.docs import doc_list
from handlers.engine import (
    Answer,
    Ctx,
    End,
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
from handlers.i18n import N_
from handlers.sources import states
from handlers.widgets import subject_nik
from lingkaran_core import claims as claim_rules
from lingkaran_core import rules, services
from lingkaran_core.claims import (
    Actor,
    ChecklistFacts,
    ClaimType,
    MasaIur,
    scholarship_masa_iur,
)
from lingkaran_core.coverage import EventCoverage, contribution_months
from lingkaran_core.errors import NotAuthorised
from lingkaran_core.rules import SchoolLevel
from lingkaran_core.storage.repos import worker_by_id, worker_by_nik

CAUSES = (
    Option(
        id="jkk_death",
        label=N_("Meninggal, kec. kerja"),
        description=N_("Meninggal karena kecelakaan kerja"),
    ),
    Option(id="jkm_death", label=N_("Meninggal biasa"), description=N_("Sakit atau sebab lain")),
    Option(
        id="jkk_disabled",
        label=N_("Cacat total, kec. kerja"),
        description=N_("Cacat total tetap karena kecelakaan kerja"),
    ),
)
LEVELS = (
    Option(id="tk", label=N_("TK"), aliases=("paud", "tk")),
    Option(id="sd", label=N_("SD / MI"), aliases=("sd", "mi")),
    Option(id="smp", label=N_("SMP / MTs"), aliases=("smp", "mts")),
    Option(id="sma", label=N_("SMA / SMK / MA"), aliases=("sma", "smk", "ma")),
    Option(id="pt", label=N_("Kuliah / pelatihan"), aliases=("kuliah", "kampus", "pelatihan")),
    Option(
        id="none",
        label=N_("Belum sekolah"),
        description=states(
            N_("Dicatat sekarang, dibayar saat mulai sekolah"), "scholarship_before_school"
        ),
        aliases=("belum", "belum sekolah", "balita"),
    ),
)
CHILD_TOO_OLD = states(
    N_("Anak sudah berumur {age} tahun; beasiswa sampai umur {max_age} tahun."),
    "scholarship_max_child_age",
)
NOT_YET_AT_SCHOOL = states(
    N_(
        "Anak belum usia sekolah. Pengajuan tetap kami catat sekarang; beasiswa dibayar saat "
        "anak mulai sekolah."
    ),
    "scholarship_before_school",
)
# What the recorded contributions say (masa iur), to whoever may read them.
MASA_IUR_SHORT = states(
    N_(
        "Menurut data Pemkab, iuran peserta yang tercatat sampai kejadian {months} bulan; untuk "
        "meninggal biasa perlu paling sedikit {needed} bulan. Kepesertaan sebelumnya (misalnya "
        "bayar sendiri) ikut dihitung, jadi pengajuan tetap kami catat untuk dicek petugas."
    ),
    "scholarship_min_membership_years",
)
MASA_IUR_UNKNOWN = states(
    N_(
        "Riwayat iuran peserta belum ada di data Pemkab. Pengajuan tetap kami catat; petugas "
        "akan memeriksa masa iurnya (untuk meninggal biasa paling sedikit 3 tahun iuran, "
        "kepesertaan sebelumnya ikut dihitung)."
    ),
    "scholarship_min_membership_years",
)
MASA_IUR_CHECKED_BY_STAFF = states(
    N_(
        "Petugas akan memeriksa masa iur peserta: untuk meninggal biasa perlu paling sedikit 3 "
        "tahun iuran, kepesertaan sebelumnya ikut dihitung."
    ),
    "scholarship_min_membership_years",
)


# The school year's start month and our reminder are UNCONFIRMED (rules): said with "biasanya".
REAPPLY = states(
    N_(
        "Beasiswa diajukan lagi setiap tahun ajaran; kami akan mengingatkan Bapak/Ibu sebelum "
        "tahun ajaran baru, yang biasanya mulai {month}. Paling banyak {children} anak per "
        "peserta."
    ),
    "scholarship_school_year_start_month",
    "scholarship_reminder_month",
    "scholarship_max_children",
)


def _next_school_year(today: date) -> date:
    start = rules.SCHOLARSHIP_SCHOOL_YEAR_START_MONTH
    return date(today.year + (today.month >= start), start, 1)


@reads("nik")
async def _nik_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return answer.option.id
    return await subject_nik(ctx, answer.text or "")


async def _nik_choices(ctx: Ctx) -> list[Option]:
    """On a household's phone: for whom? The linked names, or a NIK typed (issue 22)."""
    workers = await whom.linked(ctx)
    return whom.options(ctx, workers) if len(workers) > 1 and ctx.role != "facilitator" else []


async def _nik_prompt(ctx: Ctx) -> str:
    if await _nik_choices(ctx):
        return ctx.t(N_("Untuk siapa? Pilih nama peserta (orang tua anak), atau ketik NIK-nya."))
    return ctx.t(N_("Berapa NIK peserta (orang tua anak)? (16 angka di KTP/KK)"))


async def _on_start(ctx: Ctx) -> Outcome | None:
    mark_if_facilitator(ctx)
    return None


async def _nik_next(ctx: Ctx, value: str) -> Outcome:
    linked = None
    if value.startswith("w:"):
        try:
            linked = await services.linked_worker(
                ctx.tx, chat_id=ctx.chat.id, worker_id=int(value[2:])
            )
        except NotAuthorised:
            raise Invalid(N_("Mohon ketik NIK peserta: 16 angka di KTP atau KK.")) from None
        ctx.data["nik"] = value = linked.nik
    worker = linked or await worker_by_nik(ctx.tx, value)
    await check_subject(ctx, worker)
    ctx.data["worker_id"] = worker.id if worker else None
    # The name is personal: only a facilitator of the desa (checked above) or the worker's own
    # chat gets the roster's answer; anyone else's request is checked by staff.
    ctx.data["name"] = (
        worker.name if worker is not None and await sees_coverage(ctx, worker) else None
    )
    if worker is not None and _by_facilitator(ctx):
        # Only a facilitator of the worker's desa (checked above) sees whom the NIK names.
        found = ctx.t(
            N_("Data ditemukan: {who}, NIK {nik}."),
            who=honorific(ctx, worker),
            nik=masked(worker.nik),
        )
        return Next("event_date", (found,))
    return "event_date"


def _by_facilitator(ctx: Ctx) -> bool:
    return filing_as(ctx)[1] == Actor.FACILITATOR


def _after_child(ctx: Ctx) -> str:
    """A facilitator files for someone else: whom staff contact is asked before the summary."""
    return "contact_name" if _by_facilitator(ctx) else "confirm"


async def _child_dob_next(ctx: Ctx, value: str) -> Outcome:
    born = date.fromisoformat(value)
    age = _full_years(born, ctx.today)
    if age >= rules.SCHOLARSHIP_MAX_CHILD_AGE:
        # Ends when the child turns 23 (the seed's "19" is a probable error, DOMAIN.md §0).
        return End(
            (
                ctx.t(CHILD_TOO_OLD, age=age, max_age=rules.SCHOLARSHIP_MAX_CHILD_AGE)
                + "\n"
                + ctx.t(
                    N_(
                        'Jika menurut Bapak/Ibu data kami keliru, pilih "Bicara dg petugas" di '
                        "menu."
                    )
                ),
            )
        )
    if (ctx.today - born).days < 365 * 3:
        ctx.data["level"] = "none"
        return Next(_after_child(ctx), (ctx.t(NOT_YET_AT_SCHOOL),))
    return "level"


def _full_years(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


async def _masa_iur(ctx: Ctx) -> tuple[MasaIur, int | None, bool]:
    """The JKM-route minimum against the contributions the roster records, and whether this
    chat may be told the figure (DOMAIN.md §9: earlier memberships count, staff check)."""
    route = ClaimType.JKM if ctx.data["cause"] == "jkm_death" else ClaimType.JKK
    worker = (
        await worker_by_id(ctx.tx, ctx.data["worker_id"]) if ctx.data.get("worker_id") else None
    )
    months = None
    if worker is not None and worker.registration_status == "verified":
        months = contribution_months(
            start=worker.coverage_start,
            paid_through=worker.paid_through,
            until=date.fromisoformat(ctx.data["event_date"]),
        )
    return scholarship_masa_iur(route, months), months, await sees_coverage(ctx, worker)


async def _coverage_advice(ctx: Ctx) -> str | None:
    """Coverage on the event date, to a chat that may read it, when it was not protected."""
    worker = (
        await worker_by_id(ctx.tx, ctx.data["worker_id"]) if ctx.data.get("worker_id") else None
    )
    if worker is None or not await sees_coverage(ctx, worker):
        return None
    day = date.fromisoformat(ctx.data["event_date"])
    on_event = services.event_coverage(worker, nik_given=True, event_date=day, today=ctx.today)
    if on_event is EventCoverage.PROTECTED:
        return None
    return " ".join(
        advice(
            ctx,
            claim_type=ClaimType.BEASISWA,
            on_event=on_event,
            worker=worker,
            event_date=day,
            treated=False,
        )
    )


async def _verification_note(ctx: Ctx) -> str | None:
    """Why staff must check the masa iur, in words this chat may read (None: nothing to say)."""
    masa, months, sees = await _masa_iur(ctx)
    ctx.data["masa_iur"] = str(masa)
    ctx.data["masa_iur_months"] = months
    coverage = await _coverage_advice(ctx)
    if masa in (MasaIur.ENOUGH, MasaIur.WAIVED):
        return coverage
    if not sees:
        text = ctx.t(MASA_IUR_CHECKED_BY_STAFF)
    elif masa is MasaIur.SHORT:
        text = ctx.t(
            MASA_IUR_SHORT,
            months=months,
            needed=rules.SCHOLARSHIP_MIN_MEMBERSHIP_YEARS * 12,
        )
    else:
        text = ctx.t(MASA_IUR_UNKNOWN)
    return text if coverage is None else coverage + "\n" + text


async def _level_next(ctx: Ctx, value: str) -> Outcome:
    return _after_child(ctx)


async def _contact_phone_prompt(ctx: Ctx) -> str:
    return ctx.t(
        N_("Nomor HP {name} yang bisa dihubungi petugas? Contoh: 081234567890."),
        name=ctx.data.get("contact_name") or "-",
    )


def _contact_line(ctx: Ctx) -> str | None:
    """Who staff will contact about the application filed by a facilitator."""
    d = ctx.data
    if not _by_facilitator(ctx) or not d.get("contact_name"):
        return None
    return ctx.t(
        N_(
            "Petugas Pemkab akan menghubungi {name} ({phone}), orang tua/wali anak. Kabar "
            "pengajuan juga dikirim ke Bapak/Ibu sebagai pendamping."
        ),
        name=d["contact_name"],
        phone=d.get("contact_phone") or "-",
    )


SCHOLARSHIP_AMOUNT = states(
    N_(
        "Ajukan beasiswa untuk {child} ({level}), anak dari peserta NIK {nik}? Besarnya "
        "{amount} per tahun, jika syarat terpenuhi."
    ),
    "scholarship_tiers",
)
SCHOLARSHIP_BEFORE_SCHOOL = states(
    N_(
        "Ajukan beasiswa untuk {child} (belum sekolah), anak dari peserta NIK {nik}? Dibayar "
        "mulai saat anak masuk sekolah: {amount} per tahun di TK atau SD, jika syarat terpenuhi."
    ),
    "scholarship_tiers",
    "scholarship_before_school",
)


async def _confirm_prompt(ctx: Ctx) -> str | list[Reply]:
    t = ctx.t
    d = ctx.data
    if d.get("level") == "none":
        text = t(
            SCHOLARSHIP_BEFORE_SCHOOL,
            child=d["child_name"],
            nik=masked(d.get("nik")),
            amount=t.money(claim_rules.scholarship_amount(SchoolLevel.TK)),
        )
    else:
        level = SchoolLevel(d["level"])
        text = t(
            SCHOLARSHIP_AMOUNT,
            child=d["child_name"],
            level=t(next(o.label for o in LEVELS if o.id == level)),
            nik=masked(d.get("nik")),
            amount=t.money(claim_rules.scholarship_amount(level)),
        )
    note = await _verification_note(ctx)
    if note is not None:
        text = note + "\n" + text
    contact = _contact_line(ctx)
    if contact is not None:
        text += "\n" + contact
    warning = await duplicate_warning(
        ctx,
        claim_type=ClaimType.BEASISWA,
        worker_id=d.get("worker_id"),
        nik=d.get("nik"),
        event_date=date.fromisoformat(d["event_date"]),
    )
    return text if warning is None else [Reply(text=warning), Reply(text=text)]


async def _confirm_next(ctx: Ctx, value: str) -> Outcome:
    if value == "edit":
        return "cause"
    d = ctx.data
    checklist = tuple(str(k) for k in claim_rules.checklist(ClaimType.BEASISWA, ChecklistFacts()))
    claim = await submit_claim(
        ctx,
        services.NewClaim(
            claim_type=ClaimType.BEASISWA,
            event_date=date.fromisoformat(d["event_date"]),
            reporter_chat_id=ctx.chat.id,
            worker_id=d.get("worker_id"),
            subject_nik=d.get("nik"),
            subject_name=d.get("name"),
            claimant_name=d.get("child_name"),
            claimant_phone=d.get("contact_phone") if _by_facilitator(ctx) else None,
            answers={
                k: d.get(k)
                for k in (
                    "cause",
                    "child_name",
                    "child_dob",
                    "level",
                    "masa_iur",
                    "masa_iur_months",
                    "duplicate_of",
                )
            }
            | ({"contact_name": d["contact_name"]} if d.get("contact_name") else {})
            | {
                # Recorded all the same; staff check the history (issue 14, item 6).
                "needs_verification": d.get("masa_iur") in (MasaIur.SHORT, MasaIur.UNKNOWN),
            },
            checklist=checklist,
        ),
    )
    contact = _contact_line(ctx)
    msgs = (
        ctx.t(N_("Terkirim. Nomor pengajuan: {ref}. Mohon disimpan."), ref=claim.ref),
        forward_note(ctx, ClaimType.BEASISWA),
        *((contact,) if contact is not None else ()),
        ctx.t(
            REAPPLY,
            month=ctx.t.month(_next_school_year(ctx.today)),
            children=rules.SCHOLARSHIP_MAX_CHILDREN,
        ),
        ctx.t(N_("Dokumen yang perlu difoto:")) + "\n" + doc_list(ctx, list(checklist)),
    )
    return Goto("docs", data={"ref": claim.ref}, before=msgs)


BEASISWA = Flow(
    name="beasiswa",
    keeps_draft=True,
    on_start=_on_start,
    steps=(
        Step(
            name="cause",
            prompt=states(
                N_(
                    "Beasiswa untuk paling banyak 2 anak peserta yang meninggal atau cacat total tetap karena kecelakaan kerja, sampai umur 23 tahun, diajukan lagi setiap tahun ajaran. Apa yang terjadi pada peserta?"
                ),
                "scholarship_max_children",
                "scholarship_max_child_age",
            ),
            choices=CAUSES,
            save_as="cause",
            next="nik",
        ),
        Step(
            name="nik",
            prompt=_nik_prompt,
            choices=_nik_choices,
            free_text=True,
            parse=_nik_parse,
            save_as="nik",
            next=_nik_next,
        ),
        Step(
            name="event_date",
            prompt=N_("Kapan peserta meninggal atau mengalami kecelakaan? Contoh: 3-11-2026."),
            parse=parse_past_date,
            save_as="event_date",
            next="child_name",
        ),
        Step(
            name="child_name",
            prompt=N_("Siapa nama anak yang akan menerima beasiswa?"),
            parse=parse_name,
            save_as="child_name",
            next="child_dob",
        ),
        Step(
            name="child_dob",
            prompt=N_("Kapan tanggal lahir anak? Contoh: 12-03-2012."),
            parse=parse_birth_date,
            save_as="child_dob",
            next=_child_dob_next,
        ),
        Step(
            name="level",
            prompt=N_("Sekarang sekolah di tingkat apa?"),
            choices=LEVELS,
            save_as="level",
            next=_level_next,
        ),
        Step(
            name="contact_name",
            prompt=N_(
                "Siapa orang tua atau wali anak yang akan dihubungi petugas? Tulis nama lengkapnya."
            ),
            parse=parse_name,
            save_as="contact_name",
            next="contact_phone",
        ),
        Step(
            name="contact_phone",
            prompt=_contact_phone_prompt,
            free_text=True,
            parse=parse_phone,  # typed or shared; never "this number": the facilitator's own
            save_as="contact_phone",
            request="contact",
            next="confirm",
        ),
        Step(
            name="confirm",
            prompt=_confirm_prompt,
            choices=CONFIRM_CHOICES,
            next=_confirm_next,
        ),
    ),
)
