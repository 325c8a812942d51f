"""Scholarship (BEASISWA) for the children of a participant who died or became totally disabled.

Rules (DOMAIN.md §3.2, §2.1): up to 2 children, to age 23, 3 years of membership on the JKM route
(waived after a work accident), claimed again every school year.
"""

from __future__ import annotations

from datetime import date

from handlers.claim_common import (
    CONFIRM_CHOICES,
    check_subject,
    filing_as,
    mark_if_facilitator,
)
from handlers.claim_common import submit as submit_claim
from handlers.common import masked, parse_birth_date, parse_name, parse_past_date
from handlers.docs import doc_list
from handlers.engine import Answer, Ctx, End, Flow, Goto, Invalid, Option, Outcome, Step, reads
from handlers.i18n import N_
from handlers.widgets import subject_nik
from lingkaran_core import claims as claim_rules
from lingkaran_core import rules, services
from lingkaran_core.claims import Actor, ChecklistFacts, ClaimType
from lingkaran_core.errors import NotEligible
from lingkaran_core.rules import SchoolLevel
from lingkaran_core.storage.repos import worker_by_nik

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
)
NOT_ELIGIBLE_DEFAULT = N_("Syarat beasiswa belum terpenuhi.")
NOT_ELIGIBLE_TEXT = {
    "beasiswa.membership_too_short": N_(
        "Menurut data kami, kepesertaan baru {years} tahun saat kejadian; untuk meninggal biasa "
        "beasiswa perlu paling sedikit {needed} tahun."
    ),
    "beasiswa.child_too_old": N_(
        "Anak sudah berumur {age} tahun; beasiswa sampai umur {max_age} tahun."
    ),
    "beasiswa.event_before_membership": N_(
        "Menurut data kami, kejadian itu sebelum kepesertaan dimulai."
    ),
    "beasiswa.child_not_born": N_("Tanggal lahir anak belum terjadi. Mohon cek lagi."),
}


def _next_school_year(today: date) -> date:
    start = rules.SCHOLARSHIP_SCHOOL_YEAR_START_MONTH
    return date(today.year + (today.month >= start), start, 1)


@reads("nik")
async def _nik_parse(ctx: Ctx, answer: Answer) -> str:
    return await subject_nik(ctx, answer.text or "")


async def _on_start(ctx: Ctx) -> Outcome | None:
    mark_if_facilitator(ctx)
    return None


async def _nik_next(ctx: Ctx, value: str) -> Outcome:
    worker = await worker_by_nik(ctx.tx, value)
    await check_subject(ctx, worker)
    ctx.data["worker_id"] = worker.id if worker else None
    # Name and years of membership are personal: only a facilitator of the desa (checked above)
    # gets the roster's early answer; anyone else's request is checked by staff.
    known = worker if worker is not None and filing_as(ctx)[1] == Actor.FACILITATOR else None
    ctx.data["name"] = known.name if known else None
    ctx.data["membership_start"] = (
        known.coverage_start.isoformat() if known and known.coverage_start else None
    )
    return "event_date"


async def _child_dob_next(ctx: Ctx, value: str) -> Outcome:
    born = date.fromisoformat(value)
    if (ctx.today - born).days < 365 * 3:
        raise Invalid(N_("Anak belum usia sekolah. Beasiswa diberikan saat anak mulai sekolah."))
    return "level"


def _check(ctx: Ctx) -> str | None:
    """The reason a scholarship looks impossible from our data, or None."""
    start = ctx.data.get("membership_start")
    if not start and not ctx.data.get("worker_id"):
        return None
    route = ClaimType.JKM if ctx.data["cause"] == "jkm_death" else ClaimType.JKK
    try:
        claim_rules.check_scholarship(
            # Membership years are personal: without a facilitator's scope only the child's
            # facts (typed by the reporter) are checked here; staff check the membership.
            membership_start=date.fromisoformat(start) if start else date.min,
            event_date=date.fromisoformat(ctx.data["event_date"]),
            route=route,
            child_birth_date=date.fromisoformat(ctx.data["child_dob"]),
            today=ctx.today,
        )
    except NotEligible as err:
        return ctx.t(NOT_ELIGIBLE_TEXT.get(err.code, NOT_ELIGIBLE_DEFAULT), **err.params)
    return None


async def _level_next(ctx: Ctx, value: str) -> Outcome:
    problem = _check(ctx)
    if problem is not None:
        return End(
            (
                problem
                + "\n"
                + ctx.t(
                    N_(
                        'Jika menurut Bapak/Ibu data kami keliru, pilih "Bicara dg petugas" di '
                        "menu."
                    )
                ),
            )
        )
    return "confirm"


async def _confirm_prompt(ctx: Ctx) -> str:
    t = ctx.t
    level = SchoolLevel(ctx.data["level"])
    amount = claim_rules.scholarship_amount(level)
    return t(
        N_(
            "Ajukan beasiswa untuk {child} ({level}), anak dari peserta NIK {nik}? Besarnya "
            "{amount} per tahun, jika syarat terpenuhi."
        ),
        child=ctx.data["child_name"],
        level=t(next(o.label for o in LEVELS if o.id == level)),
        nik=masked(ctx.data.get("nik")),
        amount=t.money(amount),
    )


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
            answers={k: d.get(k) for k in ("cause", "child_name", "child_dob", "level")},
            checklist=checklist,
        ),
    )
    msgs = (
        ctx.t(N_("Terkirim. Nomor pengajuan: {ref}. Mohon disimpan."), ref=claim.ref),
        ctx.t(
            N_(
                "Beasiswa diajukan lagi setiap tahun ajaran; kami akan mengingatkan Bapak/Ibu "
                "sebelum {month}. Paling banyak {children} anak per peserta."
            ),
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
            prompt=N_(
                "Beasiswa untuk paling banyak 2 anak peserta yang meninggal atau cacat total tetap karena kecelakaan kerja, sampai umur 23 tahun, diajukan lagi setiap tahun ajaran. Apa yang terjadi pada peserta?"
            ),
            choices=CAUSES,
            save_as="cause",
            next="nik",
        ),
        Step(
            name="nik",
            prompt=N_("Berapa NIK peserta (orang tua anak)? (16 angka di KTP/KK)"),
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
            name="confirm",
            prompt=_confirm_prompt,
            choices=CONFIRM_CHOICES,
            next=_confirm_next,
        ),
    ),
)
