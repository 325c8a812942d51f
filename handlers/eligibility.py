"""Am I eligible? The roster's decision for a linked worker, or a short self-screening.

Self-screening ends in a decision and, where it fits, a lead for the desa's facilitator (only with
the person's consent to share their phone number).
"""

from __future__ import annotations

from handlers import whom
from handlers.common import (
    DONT_KNOW,
    YES_NO_UNKNOWN,
    honorific,
    parse_age,
    parse_phone,
    place_of,
    sector_label,
    sector_options,
    worker_coverage,
)
from handlers.engine import Answer, Ctx, End, Flow, Goto, Invalid, Option, Outcome, Reply, Step
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core import services
from lingkaran_core.eligibility import (
    Decision,
    EligibilityResult,
    NextStep,
    OtherMembership,
    Reason,
    RosterFacts,
    ScreeningAnswers,
    Tri,
    assess_roster,
    screen,
)
from lingkaran_core.regions import load_regions
from lingkaran_core.services.whatsapp_identity import chat_phone
from lingkaran_core.storage.repos import Worker

LEAD_THANKS = states(
    N_(
        "Terima kasih. Pendamping desa akan menghubungi Bapak/Ibu. Siapkan KTP dan "
        "KK. Pendaftaran gratis, jangan beri uang kepada siapa pun."
    ),
    "service_free",
)
REASON_TEXT: dict[Reason, str] = {
    Reason.ON_ROSTER_ACTIVE: states(
        N_("Bapak/Ibu sudah terdaftar dan dilindungi."), "protected_while_paid"
    ),
    Reason.ON_ROSTER_PENDING: N_("Data Bapak/Ibu sudah didaftarkan dan sedang dicek."),
    Reason.COVERAGE_NOT_STARTED: states(
        N_("Bapak/Ibu sudah terdaftar; perlindungan segera dimulai."),
        "protection_starts_after_verification",
    ),
    Reason.COVERAGE_ARREARS: states(
        N_("Iuran beberapa bulan terakhir belum tercatat di data Pemkab; petugas sedang mengecek."),
        "covered_during_arrears",
    ),
    Reason.COVERAGE_LAPSED: states(
        N_("Menurut data Pemkab, kepesertaan Bapak/Ibu tercatat tidak aktif; perlu dicek petugas."),
        "lapse_unpaid_months",
    ),
    Reason.NOT_ENROLLED: N_("Bapak/Ibu belum tercatat sebagai peserta."),
    Reason.AGE_OVER_LIMIT: states(
        N_("Umur di atas 65 tahun: batas umur pendaftaran program ini."), "max_age"
    ),
    Reason.AGE_UNDER_LIMIT: states(N_("Umur di bawah 17 tahun: perlu dicek petugas."), "min_age"),
    Reason.OUTSIDE_JEMBER: states(
        N_(
            "Program ini untuk warga Jember yang terdata di DTSEN; alamat KTP di luar Jember "
            "perlu dicek petugas."
        ),
        "jember_residency",
    ),
    Reason.SECTOR_NOT_IN_PROGRAMME: states(
        N_(
            "Pekerjaan itu di luar enam kelompok program 2025, tetapi program juga mencakup "
            "pekerjaan lain (misalnya perangkat desa, guru PAUD): perlu dicek petugas."
        ),
        "other_occupation_needs_check",
    ),
    Reason.ALREADY_BPU_ELSEWHERE: states(
        N_(
            "Bapak/Ibu masih aktif sebagai peserta BPJS Ketenagakerjaan bayar sendiri (BPU) di "
            "tempat lain."
        ),
        "exclude_bpu_elsewhere",
    ),
    Reason.BPU_MEMBERSHIP_UNKNOWN: N_(
        "Perlu dicek apakah Bapak/Ibu sudah peserta BPJS Ketenagakerjaan."
    ),
    Reason.BPU_LAPSED: states(
        N_(
            "Kepesertaan bayar sendiri yang sudah berhenti tidak menghalangi, tetapi perlu dicek "
            "petugas."
        ),
        "lapsed_or_employer_member_needs_check",
    ),
    Reason.EMPLOYER_COVERED: states(
        N_(
            "Perlindungan dari tempat kerja belum tentu mencakup pekerjaan ini: perlu dicek "
            "petugas."
        ),
        "lapsed_or_employer_member_needs_check",
    ),
    Reason.NOT_IN_DTSEN: N_(
        "Program ini untuk warga yang terdata di DTSEN (data pemerintah untuk bansos)."
    ),
    Reason.DTSEN_UNKNOWN: N_("Perlu dicek apakah keluarga Bapak/Ibu terdata di DTSEN."),
    Reason.DTSEN_DECILE_ABOVE_CUTOFF: N_(
        "Kelompok DTSEN keluarga Bapak/Ibu di atas batas program."
    ),
    Reason.DECEASED: N_("Data ini tercatat sudah meninggal dunia."),
    Reason.REGISTRATION_REJECTED: N_("Pendaftaran sebelumnya belum disetujui."),
}
NEXT_TEXT: dict[NextStep, str] = {
    NextStep.ALREADY_COVERED: N_("Tidak perlu mendaftar lagi."),
    NextStep.ASK_VILLAGE_FACILITATOR: N_("Langkah berikutnya: pendamping desa bisa membantu."),
    NextStep.WAIT_FOR_VERIFICATION: N_(
        "Langkah berikutnya: tunggu hasil pengecekan; kami kabari lewat pesan ini."
    ),
    NextStep.WAIT_FOR_COVERAGE_START: N_("Tidak ada yang perlu dilakukan."),
    NextStep.REGISTER_SELF_PAYING: states(
        N_(
            "Langkah berikutnya: tanyakan petugas Pemkab Jember. Bapak/Ibu juga bisa ikut BPJS "
            "Ketenagakerjaan dengan bayar sendiri, Rp16.800 per bulan (tahun 2026 ada keringanan "
            "PP 50/2025: Rp8.400), di kantor BPJS Ketenagakerjaan atau "
            "bpjsketenagakerjaan.go.id/bpu."
        ),
        "jkk_contribution",
        "jkm_contribution",
        "self_pay_monthly_2026",
    ),
    NextStep.CHECK_DTSEN: N_(
        "Cek DTSEN dengan NIK di dtsen.web.bps.go.id, atau tanya kantor desa/kelurahan."
    ),
    # No time limit for a JKM claim while membership was active (DOMAIN.md §3.5).
    NextStep.FILE_DEATH_CLAIM: states(
        N_('Jika keluarga belum mengurus santunan, pilih "Lapor kematian".'),
        "jkm_claim_expiry_years",
    ),
    NextStep.NONE: N_("Silakan tanya pendamping desa jika ada pertanyaan."),
}
DECISION_TEXT: dict[Decision, str] = {
    Decision.ELIGIBLE: N_("Kemungkinan besar Bapak/Ibu memenuhi syarat."),
    Decision.NEEDS_VERIFICATION: N_(
        "Bapak/Ibu mungkin memenuhi syarat, tetapi perlu dicek petugas."
    ),
    Decision.NOT_ELIGIBLE: N_("Saat ini Bapak/Ibu belum bisa ikut program ini, karena:"),
}


# On a household's phone the roster's answer is about someone else: said with their name.
NAMED_DECISION_TEXT: dict[Decision, str] = {
    Decision.ELIGIBLE: N_("Kemungkinan besar {who} memenuhi syarat."),
    Decision.NEEDS_VERIFICATION: N_("{who} mungkin memenuhi syarat, tetapi perlu dicek petugas."),
    Decision.NOT_ELIGIBLE: N_("Saat ini {who} belum bisa ikut program ini, karena:"),
}
NAMED_REASON_TEXT: dict[Reason, str] = {
    Reason.ON_ROSTER_ACTIVE: states(
        N_("{who} sudah terdaftar dan dilindungi."), "protected_while_paid"
    ),
    Reason.ON_ROSTER_PENDING: N_("Data {who} sudah didaftarkan dan sedang dicek."),
    Reason.COVERAGE_NOT_STARTED: states(
        N_("{who} sudah terdaftar; perlindungan segera dimulai."),
        "protection_starts_after_verification",
    ),
    Reason.COVERAGE_LAPSED: states(
        N_("Menurut data Pemkab, kepesertaan {who} tercatat tidak aktif; perlu dicek petugas."),
        "lapse_unpaid_months",
    ),
    Reason.NOT_ENROLLED: N_("{who} belum tercatat sebagai peserta."),
}


def explain(ctx: Ctx, result: EligibilityResult, *, screening: bool, who: str | None = None) -> str:
    """Decision, every reason, and the next step in plain words (about ``who``, when named)."""
    t = ctx.t
    if who is not None:
        lines = [t(NAMED_DECISION_TEXT[result.decision], who=who)]
    else:
        lines = [t(DECISION_TEXT[result.decision])]
    for reason in result.reasons:
        if who is not None and reason in NAMED_REASON_TEXT:
            lines.append("- " + t(NAMED_REASON_TEXT[reason], who=who))
        else:
            lines.append("- " + t(REASON_TEXT[reason]))
    lines.append(t(NEXT_TEXT[result.next_step]))
    if screening and result.decision != Decision.NOT_ELIGIBLE:
        lines.append(t(N_("Keputusan akhir ada di Pemkab Jember dan BPJS Ketenagakerjaan.")))
    return "\n".join(lines)


async def _on_start(ctx: Ctx) -> Outcome | None:
    if ctx.chat.worker_id is None:
        return None
    # A household's phone: "Untuk siapa?", or someone not linked yet (issue 22).
    worker = await whom.subject(ctx, "eligibility", extras=("other",))
    if isinstance(worker, Goto):
        return worker
    if worker == "other":
        return "age"
    if not isinstance(worker, Worker):
        return None
    facts = RosterFacts(
        birth_date=worker.birth_date,
        desa_code=worker.desa_code,
        sector=worker.sector,
        registration_status=worker.registration_status,
        coverage=worker_coverage(worker, ctx),
        dtsen_decile=worker.dtsen_decile,
        deceased=worker.deceased_on is not None,
    )
    who = honorific(ctx, worker) if len(await whom.linked(ctx)) > 1 else None
    result = assess_roster(facts, today=ctx.today)
    return End((explain(ctx, result, screening=False, who=who),))


async def _how_next(ctx: Ctx, value: str) -> Outcome:
    if value == "nik":
        return Goto("link", data={"then": "eligibility"})
    return "age"


async def _parse_age(ctx: Ctx, answer: Answer) -> int:
    return await parse_age(ctx, answer)


# The exclusion is an ACTIVE self-paying membership elsewhere (DOMAIN.md §9): the question
# tells it from a lapsed one and from an employer's cover, which only need a check.
OTHER_MEMBERSHIP = (
    Option(
        id="yes",
        label=N_("Ya, bayar sendiri"),
        description=N_("Masih membayar sendiri (BPU)"),
        aliases=("ya", "iya", "sudah", "bayar sendiri", "mandiri"),
    ),
    Option(
        id="lapsed",
        label=N_("Dulu, sudah berhenti"),
        description=N_("Pernah bayar sendiri, sekarang tidak"),
        aliases=("dulu", "berhenti", "pernah"),
    ),
    Option(
        id="employer",
        label=N_("Dari tempat kerja"),
        description=N_("Dibayar perusahaan/majikan"),
        aliases=("tempat kerja", "perusahaan", "pabrik", "kantor"),
    ),
    Option(id="no", label=N_("Belum"), aliases=("belum", "tidak", "blm", "gak", "tdk")),
    DONT_KNOW,
)

OUTSIDE = Option(
    id="outside", label=N_("Di luar Jember"), aliases=("luar jember", "bukan jember", "luar kota")
)


async def _desa_next(ctx: Ctx, value: str) -> Outcome:
    if value == "outside":
        ctx.data["desa_code"] = None
        return "sector"
    resolution = load_regions().resolve_desa(value)
    if resolution.match is not None:
        ctx.data["desa_guess"] = [resolution.match.code]
        return "desa_confirm"
    good = [c for c in resolution.candidates if c.score >= 60][:5]
    if not good:
        raise Invalid(
            N_(
                'Desa "{name}" belum kami temukan di Jember. Mohon tulis nama desanya saja, '
                'misalnya Sukoreno. Jika tinggal di luar Jember, pilih "Di luar Jember".'
            ),
            name=value[:40],
        )
    ctx.data["desa_guess"] = [c.desa.code for c in good]
    return "desa_confirm"


def _desa_label(code: str) -> str:
    desa, kec = place_of(code)
    return f"{desa}, Kec. {kec}"


async def _confirm_prompt(ctx: Ctx) -> str:
    guesses = ctx.data.get("desa_guess") or []
    if len(guesses) == 1:
        desa, kec = place_of(guesses[0])
        return ctx.t(N_("Maksudnya Desa {desa}, Kecamatan {kec}?"), desa=desa, kec=kec)
    return ctx.t(N_("Desa yang mana?"))


async def _confirm_choices(ctx: Ctx) -> list[Option]:
    guesses = ctx.data.get("desa_guess") or []
    if len(guesses) == 1:
        return [
            Option(
                id="d:" + guesses[0],
                label=N_("Ya, benar"),
                aliases=("ya", "iya", "benar", "betul", "y"),
            ),
            Option(id="retry", label=N_("Bukan"), aliases=("bukan", "tidak", "salah")),
        ]
    options = [Option(id="d:" + code, label=_desa_label(code), translate=False) for code in guesses]
    options.append(Option(id="retry", label=N_("Bukan semuanya"), aliases=("bukan", "tidak")))
    return options


async def _confirm_next(ctx: Ctx, value: str) -> Outcome:
    if value == "retry":
        return "desa"
    ctx.data["desa_code"] = value.removeprefix("d:")
    ctx.data.pop("desa_guess", None)
    return "sector"


async def _dtsen_next(ctx: Ctx, value: str) -> Outcome:
    answers = ScreeningAnswers(
        age=int(ctx.data["age"]),
        desa_code=ctx.data.get("desa_code"),
        sector=None if ctx.data["sector"] == "other" else ctx.data["sector"],
        other_bpjs_tk=OtherMembership(ctx.data["other_bpjs"]),
        in_dtsen=Tri(value),
    )
    result = screen(answers, today=ctx.today)
    ctx.data["decision"] = str(result.decision)
    ctx.data["reasons"] = [str(r) for r in result.reasons]
    text = explain(ctx, result, screening=True)
    if result.decision == Decision.NOT_ELIGIBLE or not answers.desa_code:
        return End((text,))
    ctx.data["result_text"] = text
    return "consent"


async def _consent_prompt(ctx: Ctx) -> str:
    desa, _ = place_of(ctx.data.get("desa_code"))
    return (
        str(ctx.data.get("result_text", ""))
        + "\n\n"
        + ctx.t(
            N_(
                "Bolehkah nomor ini dan jawaban tadi kami berikan kepada pendamping desa {desa}, "
                "agar Bapak/Ibu dibantu mendaftar?"
            ),
            desa=desa,
        )
    )


async def _consent_next(ctx: Ctx, value: str) -> Outcome:
    if value != "yes":
        return End((ctx.t(N_("Baik, tidak kami teruskan. Terima kasih.")),))
    own = chat_phone(ctx.chat)
    if own:
        return await _save_lead(ctx, own)
    return "phone"  # off WhatsApp, or a WhatsApp user whose number Meta does not show


async def _phone_next(ctx: Ctx, phone: str) -> Outcome:
    return await _save_lead(ctx, phone)


async def _save_lead(ctx: Ctx, phone: str) -> Outcome:
    answers = {k: ctx.data.get(k) for k in ("age", "sector", "other_bpjs", "in_dtsen", "reasons")}
    await services.create_lead(
        ctx.tx,
        desa_code=ctx.data["desa_code"],
        chat_id=ctx.chat.id,
        phone=phone,
        answers=answers,
        decision=ctx.data.get("decision", ""),
        now=ctx.now,
    )
    return End((ctx.t(LEAD_THANKS),))


async def _sector_prompt(ctx: Ctx) -> Reply:
    return Reply(text=ctx.t(N_("Apa pekerjaan utama Bapak/Ibu?")))


ELIGIBILITY = Flow(
    name="eligibility",
    on_start=_on_start,
    steps=(
        Step(
            name="how",
            prompt=N_(
                "Bisa kami bantu cek. Jika Bapak/Ibu mungkin sudah didaftarkan desa, cek dengan "
                "NIK. Jika belum, jawab 5 pertanyaan singkat (ini belum pendaftaran)."
            ),
            choices=(
                Option(id="nik", label=N_("Cek dengan NIK"), aliases=("nik",)),
                Option(
                    id="screen", label=N_("Jawab 5 pertanyaan"), aliases=("pertanyaan", "tanya")
                ),
            ),
            next=_how_next,
        ),
        Step(
            name="age",
            prompt=N_("Berapa umur Bapak/Ibu? Tulis angka saja, misalnya 45."),
            parse=_parse_age,
            save_as="age",
            next="desa",
        ),
        Step(
            name="desa",
            prompt=N_("Bapak/Ibu tinggal di desa apa? Tulis nama desanya, misalnya Sukoreno."),
            choices=(OUTSIDE,),
            free_text=True,
            next=_desa_next,
            max_len=80,
        ),
        Step(
            name="desa_confirm",
            prompt=_confirm_prompt,
            choices=_confirm_choices,
            next=_confirm_next,
        ),
        Step(
            name="sector",
            prompt=_sector_prompt,
            choices=tuple(sector_options()),
            save_as="sector",
            next="other_bpjs",
        ),
        Step(
            name="other_bpjs",
            prompt=N_(
                "Apakah Bapak/Ibu sudah jadi peserta BPJS Ketenagakerjaan di luar program ini?"
            ),
            choices=OTHER_MEMBERSHIP,
            save_as="other_bpjs",
            next="dtsen",
        ),
        Step(
            name="dtsen",
            prompt=N_(
                "Apakah keluarga Bapak/Ibu terdata di DTSEN (data pemerintah untuk bansos)? Jika "
                "pernah menerima PKH atau BPNT, kemungkinan terdata."
            ),
            choices=YES_NO_UNKNOWN,
            save_as="in_dtsen",
            next=_dtsen_next,
            help=N_("DTSEN bisa dicek dengan NIK di dtsen.web.bps.go.id atau di kantor desa."),
        ),
        Step(
            name="consent",
            prompt=_consent_prompt,
            choices=(
                Option(id="yes", label=N_("Boleh"), aliases=("ya", "iya", "boleh", "silakan")),
                Option(id="no", label=N_("Tidak usah"), aliases=("tidak", "jangan", "gak usah")),
            ),
            next=_consent_next,
        ),
        Step(
            name="phone",
            prompt=N_("Nomor HP yang bisa dihubungi? Contoh: 081234567890."),
            parse=parse_phone,
            request="contact",
            next=_phone_next,
        ),
    ),
)

__all__ = ["ELIGIBILITY", "explain", "sector_label"]
