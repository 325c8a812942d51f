"""Information flows: benefits (JKK, JKM, scholarship, claim documents) and about the programme.

Every amount comes from ``lingkaran_core.rules`` (or the claim helpers built on it) and is
formatted with ``ctx.t.money``, so a changed rule changes the answer. Each topic is one short
message under a submenu: a semi-literate user taps a topic instead of reading a wall of text.

Every sentence that states a rule is a module constant tied to its rules with ``states``
(handlers/sources.py), which is why this module runs a little over 600 lines; the next split is
the about flow (from "About the programme" on) into its own module.
"""

from __future__ import annotations

from handlers.docs import doc_list
from handlers.engine import Ctx, End, Flow, Option, Outcome, Reply, Stay, Step
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core import rules
from lingkaran_core.claims import (
    ChecklistFacts,
    ClaimType,
    HeirRelation,
    JKKStage,
    checklist,
    jkk_death_benefit,
    jkm_benefit,
)
from lingkaran_core.rules import SchoolLevel, TransportMode

BACK_TO_MENU = Option(
    id="menu", label=N_("Kembali ke menu"), aliases=("menu", "menu utama", "kembali ke menu")
)
BACK = Option(id="back", label=N_("Kembali"), aliases=("kembali",))


def _report_days() -> int:
    return rules.JKK_REPORT_HOURS // 24


# ---------------------------------------------------------------------------------------------
# JKK (DOMAIN.md §2)


JKK_INTRO = states(
    N_(
        "JKK (jaminan kecelakaan kerja) melindungi jika Bapak/Ibu celaka saat bekerja, di "
        "jalan berangkat atau pulang kerja, atau sakit karena pekerjaan. Pilih yang ingin "
        "diketahui."
    ),
    "jkk_scope",
)


def _jkk_intro(ctx: Ctx) -> str:
    return ctx.t(JKK_INTRO)


# Told to anyone reading about JKK: only a participant protected on the day of the accident
# says it is a work accident of a participant (issue 14, item 2).
JKK_TREATMENT = states(
    N_(
        "Berobat: di rumah sakit mitra BPJS Ketenagakerjaan, sesuai kebutuhan medis, tanpa "
        "batas biaya. Jika Bapak/Ibu dilindungi pada hari kecelakaan, katakan ke rumah sakit: "
        "ini kecelakaan kerja peserta BPJS Ketenagakerjaan.\n"
        "Perawatan di rumah: paling banyak {home_care}, sampai {months} bulan.\n"
        "Ongkos angkutan ke rumah sakit diganti, paling banyak: darat/sungai {land}, laut "
        "{sea}, udara {air}."
    ),
    "jkk_care_at_partner_hospital",
    "home_care_max",
    "transport_caps",
)
JKK_REPORT = states(
    N_(
        "Mohon lapor secepatnya, dalam {days}×24 jam setelah kejadian, lewat menu "
        '"Lapor kecelakaan" atau ke pendamping desa. Terlambat pun tetap laporkan. Laporan '
        "itu pemberitahuan tahap I; dokumen santunan (tahap II) menyusul setelah dokter "
        "menyatakan sembuh atau cacat."
    ),
    "jkk_report_hours",
    "jkk_tahap_ii",
    "late_report_not_forfeited",
)
JKM_TEXT = states(
    N_(
        "JKM (jaminan kematian): jika peserta meninggal bukan karena kecelakaan kerja, "
        "ahli waris menerima {total}:\n"
        "- {lump} santunan sekaligus\n"
        "- {periodic} santunan berkala (dibayar sekaligus)\n"
        "- {funeral} biaya pemakaman\n"
        "Syaratnya: kepesertaan aktif pada tanggal meninggal. Jika meninggal karena "
        "kecelakaan kerja atau mendadak karena pekerjaan, yang berlaku santunan JKK. Lapor "
        'lewat menu "Lapor kematian".'
    ),
    "jkm_benefit",
    "sudden_death_at_work_is_jkk",
)
BEASISWA_RULES = states(
    N_(
        "Paling banyak {children} anak, sampai umur {age} tahun (atau sampai menikah atau "
        "bekerja).\n"
        "Jika peserta meninggal biasa (JKM), iuran peserta harus sudah paling sedikit {years} "
        "tahun (kepesertaan sebelumnya ikut dihitung). Jika karena kecelakaan kerja, tidak ada "
        "syarat lama ikut.\n"
        "Beasiswa diajukan lagi setiap tahun ajaran baru; anak yang belum sekolah bisa dicatat "
        "sekarang."
    ),
    "scholarship_max_children",
    "scholarship_max_child_age",
    "scholarship_min_membership_years",
    "scholarship_jkk_route_waives_minimum",
    "scholarship_before_school",
)


def _jkk_treatment(ctx: Ctx) -> str:
    caps = rules.TRANSPORT_CAPS
    return ctx.t(
        JKK_TREATMENT,
        home_care=ctx.t.money(rules.HOME_CARE_MAX),
        months=rules.HOME_CARE_MAX_MONTHS,
        land=ctx.t.money(caps[TransportMode.LAND]),
        sea=ctx.t.money(caps[TransportMode.SEA]),
        air=ctx.t.money(caps[TransportMode.AIR]),
    )


CANNOT_WORK = states(
    N_(
        "Selama belum bisa bekerja karena celaka, penghasilan diganti: {full}% selama "
        "{months} bulan pertama, lalu {after}% sampai sembuh.\n"
        "Jika cacat: ada santunan sekaligus, besarnya menurut bagian tubuh yang cacat. Cacat "
        "total tetap: {total} (untuk penghasilan {income} per bulan) ditambah santunan "
        "berkala {periodic}."
    ),
    "stmb_full_months",
    "total_disability_multiplier",
    "income_base",
    "jkk_death",
)
JKK_DEATH_TEXT = states(
    N_(
        "Jika peserta meninggal karena kecelakaan kerja, ahli waris menerima:\n"
        "- santunan kematian {times} kali penghasilan, paling sedikit {minimum}\n"
        "- biaya pemakaman {funeral}\n"
        "- santunan berkala {periodic}\n"
        "Untuk penghasilan {income} per bulan, jumlahnya {total}. Anak peserta bisa "
        "mendapat beasiswa."
    ),
    "jkk_death",
    "income_base",
    "scholarship_jkk_route_waives_minimum",
)


def _jkk_cannot_work(ctx: Ctx) -> str:
    income = rules.INCOME_BASE
    total_disability = rules.TOTAL_DISABILITY_MULTIPLIER * income  # 70% × 80 × income
    return ctx.t(
        CANNOT_WORK,
        full=rules.STMB_FULL_PERCENT,
        months=rules.STMB_FULL_MONTHS,
        after=rules.STMB_AFTER_PERCENT,
        total=ctx.t.money(total_disability),
        income=ctx.t.money(income),
        periodic=ctx.t.money(rules.JKK_DEATH.periodic),
    )


def _jkk_death(ctx: Ctx) -> str:
    benefit = jkk_death_benefit()
    return ctx.t(
        JKK_DEATH_TEXT,
        times=rules.JKK_DEATH.income_multiplier,
        minimum=ctx.t.money(rules.JKK_DEATH.minimum),
        funeral=ctx.t.money(benefit.funeral),
        periodic=ctx.t.money(benefit.periodic),
        income=ctx.t.money(rules.INCOME_BASE),
        total=ctx.t.money(benefit.total),
    )


def _jkk_report(ctx: Ctx) -> str:
    return ctx.t(JKK_REPORT, days=_report_days())


JKK_TOPICS = {
    "treatment": _jkk_treatment,
    "cannot_work": _jkk_cannot_work,
    "death": _jkk_death,
    "report": _jkk_report,
}

# ---------------------------------------------------------------------------------------------
# JKM and scholarship (DOMAIN.md §3)


def _jkm_text(ctx: Ctx) -> str:
    b = jkm_benefit()
    return ctx.t(
        JKM_TEXT,
        total=ctx.t.money(b.total),
        lump=ctx.t.money(b.lump_sum),
        periodic=ctx.t.money(b.periodic),
        funeral=ctx.t.money(b.funeral),
    )


LEVEL_LABELS: dict[SchoolLevel, str] = {
    SchoolLevel.TK: N_("TK"),
    SchoolLevel.SD: N_("SD"),
    SchoolLevel.SMP: N_("SMP"),
    SchoolLevel.SMA: N_("SMA/SMK"),
    SchoolLevel.PT: N_("Kuliah (sampai S1) atau pelatihan"),
}


SCHOLARSHIP_TITLE = states(
    N_("Beasiswa untuk anak peserta yang meninggal atau cacat total tetap, per tahun:"),
    "scholarship_tiers",
)
SCHOLARSHIP_TIER_LINE = states(
    N_("- {level}: {amount}, paling lama {years} tahun"), "scholarship_tiers"
)


def _beasiswa_texts(ctx: Ctx) -> tuple[str, str]:
    lines = [ctx.t(SCHOLARSHIP_TITLE)]
    for level, tier in rules.SCHOLARSHIP_TIERS.items():
        lines.append(
            ctx.t(
                SCHOLARSHIP_TIER_LINE,
                level=ctx.t(LEVEL_LABELS[level]),
                amount=ctx.t.money(tier.per_year),
                years=tier.max_years,
            )
        )
    rules_text = ctx.t(
        BEASISWA_RULES,
        children=rules.SCHOLARSHIP_MAX_CHILDREN,
        age=rules.SCHOLARSHIP_MAX_CHILD_AGE,
        years=rules.SCHOLARSHIP_MIN_MEMBERSHIP_YEARS,
    )
    return "\n".join(lines), rules_text


# ---------------------------------------------------------------------------------------------
# Claim documents (DOMAIN.md §2.6, §3.2, §3.4), derived from the core checklist


TAHAP_II_DOCS = states(
    N_(
        "Tahap II, setelah dokter menyatakan sembuh, cacat atau meninggal: {docs}; kuitansi "
        "hanya jika Bapak/Ibu membayar sendiri."
    ),
    "jkk_tahap_ii",
    "receipts_only_off_partner",
)


JKK_TRAFFIC_DOCS = states(
    N_("Jika kecelakaan lalu lintas, tambah: {docs}."), "traffic_police_or_jasa_raharja"
)
JKK_TAHAP_I_DOCS = states(
    N_("Dokumen klaim kecelakaan kerja (JKK), tahap I saat melapor:"), "jkk_tahap_i_content"
)
JKM_SPOUSE_DOCS = states(N_("Jika ahli waris suami/istri, tambah: {docs}."), "jkm_documents")
JKM_CHILD_DOCS = states(N_("Jika ahli waris anak, tambah: {docs}."), "jkm_documents")
JKM_DOCS_TITLE = states(N_("Dokumen klaim kematian (JKM):"), "jkm_documents")
SCHOLARSHIP_DOCS_YEARLY = states(
    N_("Dokumen ini dikirim lagi setiap tahun ajaran."), "scholarship_yearly"
)
NPWP_NOTE = states(N_("Jika santunan lebih dari {amount}, tambah NPWP."), "npwp_threshold")


def _extra(claim_type: ClaimType, base: ChecklistFacts, more: ChecklistFacts) -> list[str]:
    have = set(checklist(claim_type, base))
    return [str(k) for k in checklist(claim_type, more) if k not in have]


def _docs_text(ctx: Ctx, claim_type: ClaimType) -> str:
    if claim_type is ClaimType.JKK:
        # DOMAIN.md §9: tahap I (the report) and tahap II (after the doctor's declaration).
        base = ChecklistFacts(self_paid_costs=False)
        kinds = [str(k) for k in checklist(claim_type, base)]
        stage_two = ChecklistFacts(self_paid_costs=False, stage=JKKStage.BENEFIT)
        notes = [
            ctx.t(
                JKK_TRAFFIC_DOCS,
                docs=_names(
                    ctx,
                    _extra(
                        claim_type,
                        base,
                        ChecklistFacts(traffic_accident=True, self_paid_costs=False),
                    ),
                ),
            ),
            ctx.t(TAHAP_II_DOCS, docs=_names(ctx, _extra(claim_type, base, stage_two))),
        ]
        title = ctx.t(JKK_TAHAP_I_DOCS)
    elif claim_type is ClaimType.JKM:
        base = ChecklistFacts()
        kinds = [str(k) for k in checklist(claim_type, base)]
        notes = [
            ctx.t(
                JKM_SPOUSE_DOCS,
                docs=_names(
                    ctx,
                    _extra(claim_type, base, ChecklistFacts(heir_relation=HeirRelation.SPOUSE)),
                ),
            ),
            ctx.t(
                JKM_CHILD_DOCS,
                docs=_names(
                    ctx, _extra(claim_type, base, ChecklistFacts(heir_relation=HeirRelation.CHILD))
                ),
            ),
        ]
        title = ctx.t(JKM_DOCS_TITLE)
    else:
        kinds = [str(k) for k in checklist(claim_type, ChecklistFacts())]
        notes = [ctx.t(SCHOLARSHIP_DOCS_YEARLY)]
        title = ctx.t(N_("Dokumen beasiswa anak:"))
    if claim_type is not ClaimType.BEASISWA:
        notes.append(
            ctx.t(
                NPWP_NOTE,
                amount=ctx.t.money(rules.NPWP_THRESHOLD),
            )
        )
    return "\n".join([title, doc_list(ctx, kinds), *notes])


def _names(ctx: Ctx, kinds: list[str]) -> str:
    from handlers.docs import doc_label

    return ", ".join(doc_label(ctx, k) for k in kinds) or "-"


# ---------------------------------------------------------------------------------------------
# The benefits flow


async def _benefits_prompt(ctx: Ctx) -> str:
    if ctx.data.get("seen"):
        return ctx.t(N_("Ada lagi yang ingin Bapak/Ibu ketahui?"))
    return ctx.t(N_("Manfaat dan santunan untuk peserta. Pilih yang ingin diketahui."))


async def _benefits_next(ctx: Ctx, value: str) -> Outcome:
    ctx.data["seen"] = True
    if value == "menu":
        return End()
    if value == "jkm":
        return Stay((_jkm_text(ctx),))
    if value == "beasiswa":
        return Stay(_beasiswa_texts(ctx))
    return value  # the "jkk" and "docs" submenus


async def _jkk_prompt(ctx: Ctx) -> str:
    if ctx.data.get("jkk_seen"):
        return ctx.t(N_("Ada lagi tentang JKK?"))
    return _jkk_intro(ctx)


async def _jkk_next(ctx: Ctx, value: str) -> Outcome:
    if value == "back":
        return "main"
    ctx.data["jkk_seen"] = True
    return Stay((JKK_TOPICS[value](ctx),))


async def _docs_prompt(ctx: Ctx) -> str:
    if ctx.data.get("docs_seen"):
        return ctx.t(N_("Dokumen untuk klaim lain?"))
    return ctx.t(
        N_('Dokumen untuk klaim apa? Siapkan fotonya; nanti dikirim lewat menu "Klaim saya".')
    )


async def _docs_next(ctx: Ctx, value: str) -> Outcome:
    if value == "back":
        return "main"
    ctx.data["docs_seen"] = True
    return Stay((_docs_text(ctx, ClaimType(value)),))


BENEFITS = Flow(
    name="benefits",
    steps=(
        Step(
            name="main",
            prompt=_benefits_prompt,
            choices=(
                Option(
                    id="jkk",
                    label=N_("Kecelakaan kerja"),
                    description=N_("JKK: berobat dan santunan"),
                    aliases=("jkk", "kecelakaan"),
                ),
                Option(
                    id="jkm",
                    label=N_("Kematian"),
                    description=N_("JKM: santunan untuk keluarga"),
                    aliases=("jkm", "meninggal"),
                ),
                Option(
                    id="beasiswa",
                    label=N_("Beasiswa anak"),
                    description=N_("Untuk anak peserta"),
                    aliases=("beasiswa",),
                ),
                Option(
                    id="docs",
                    label=N_("Dokumen klaim"),
                    description=N_("Berkas yang disiapkan"),
                    aliases=("dokumen", "berkas", "syarat"),
                ),
                BACK_TO_MENU,
            ),
            next=_benefits_next,
        ),
        Step(
            name="jkk",
            prompt=_jkk_prompt,
            choices=(
                Option(
                    id="treatment",
                    label=N_("Berobat"),
                    description=N_("Rumah sakit dan ongkos angkutan"),
                    aliases=("rumah sakit", "obat"),
                ),
                Option(
                    id="cannot_work",
                    label=N_("Tidak bisa bekerja"),
                    description=N_("Ganti penghasilan dan cacat"),
                    aliases=("cacat", "stmb"),
                ),
                Option(
                    id="death",
                    label=N_("Meninggal saat kerja"),
                    description=N_("Santunan untuk keluarga"),
                    aliases=("meninggal",),
                ),
                Option(
                    id="report",
                    label=N_("Cara melapor"),
                    description=states(N_("Dalam 2×24 jam"), "jkk_report_hours"),
                    aliases=("lapor",),
                ),
                BACK,
            ),
            next=_jkk_next,
        ),
        Step(
            name="docs",
            prompt=_docs_prompt,
            choices=(
                Option(id=str(ClaimType.JKK), label=N_("Kecelakaan kerja"), aliases=("jkk",)),
                Option(id=str(ClaimType.JKM), label=N_("Kematian"), aliases=("jkm",)),
                Option(
                    id=str(ClaimType.BEASISWA), label=N_("Beasiswa anak"), aliases=("beasiswa",)
                ),
                BACK,
            ),
            next=_docs_next,
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# About the programme (DOMAIN.md §0, §7.1)


ABOUT_INTRO = states(
    N_(
        "Lingkaran Cinta adalah program Pemkab Jember bersama BPJS Ketenagakerjaan. Pemkab "
        "membayar iuran JKK (kecelakaan kerja) dan JKM (kematian) untuk sekitar {n} pekerja "
        "di Jember yang terdata di DTSEN (buruh tani, guru ngaji, petani, nelayan, pedagang "
        "keliling, pekerja desa), per periode anggaran yang ditetapkan dengan SK Bupati. "
        "Selama periode itu peserta tidak membayar apa pun."
    ),
    "pemkab_pays_contributions",
    "funding_in_periods",
    "cohort_2025_announced_total",
)
ABOUT_OFFICIAL = states(
    N_(
        "Layanan resmi:\n"
        "- BPJS Ketenagakerjaan Kantor Cabang Jember\n"
        "- Contact Center BPJS Ketenagakerjaan: telepon 175\n"
        "- Situs: bpjsketenagakerjaan.go.id\n"
        "- Pendamping desa dan layanan ini\n"
        "Semua layanan resmi gratis."
    ),
    "official_checks",
    "official_services_free",
)
# Like JKK_TREATMENT: only a participant protected on the day says it is a work accident of a
# participant (issue 14, item 2).
ABOUT_TREATMENT = states(
    N_(
        "Jika celaka saat bekerja, berobatlah ke rumah sakit mitra BPJS Ketenagakerjaan "
        "(PLKK: pusat layanan kecelakaan kerja). Jika Bapak/Ibu dilindungi pada hari "
        "kecelakaan, katakan ke rumah sakit: ini kecelakaan kerja peserta BPJS "
        "Ketenagakerjaan. Bawa KTP, dan kartu peserta jika ada.\n"
        "Daftar rumah sakit mitra bisa ditanyakan ke 175 atau Kantor Cabang Jember.\n"
        'Lalu laporkan dalam {days}×24 jam lewat menu "Lapor kecelakaan".'
    ),
    "jkk_care_at_partner_hospital",
    "plkk_route",
    "jkk_report_hours",
)


def _about_intro(ctx: Ctx) -> str:
    workers = round(rules.COHORT_2025_ANNOUNCED_TOTAL, -3)
    return ctx.t(ABOUT_INTRO, n=ctx.t.number(workers))


def _about_official(ctx: Ctx) -> str:
    return ctx.t(ABOUT_OFFICIAL)


def _about_treatment(ctx: Ctx) -> str:
    return ctx.t(ABOUT_TREATMENT, days=_report_days())


SELF_PAYING = states(
    N_(
        "Jika Bapak/Ibu tidak lagi termasuk program ini, perlindungan bisa dilanjutkan "
        "dengan bayar sendiri sebagai peserta BPU (pekerja bukan penerima upah), mulai "
        "{amount} per bulan (JKK {jkk} + JKM {jkm}).\n"
        "Daftar di bpjsketenagakerjaan.go.id/bpu atau di Kantor Cabang Jember. "
        "Pendaftarannya gratis."
    ),
    "income_base",
    "jkk_contribution",
    "jkm_contribution",
    "official_services_free",
)
SAFETY = states(
    N_(
        "Hati-hati penipuan. Layanan resmi BPJS Ketenagakerjaan dan layanan ini GRATIS. "
        "Kami tidak pernah meminta uang, PIN, kode OTP, atau kata sandi lewat telepon atau "
        "orang lain; kode dari kami hanya diketik sendiri di chat ini. Selama periode "
        "yang didanai, iuran Bapak/Ibu dibayar Pemkab Jember.\n"
        "Jika ada yang meminta uang atas nama program ini, jangan dibayar. Tanyakan ke "
        "pendamping desa atau telepon 175."
    ),
    "service_free",
    "official_services_free",
    "funding_in_periods",
    "pemkab_pays_contributions",
)


def _about_self_paying(ctx: Ctx) -> str:
    return ctx.t(
        SELF_PAYING,
        amount=ctx.t.money(rules.MONTHLY_CONTRIBUTION),
        jkk=ctx.t.money(rules.JKK_CONTRIBUTION),
        jkm=ctx.t.money(rules.JKM_CONTRIBUTION),
    )


def _about_safety(ctx: Ctx) -> str:
    return ctx.t(SAFETY)


ABOUT_TOPICS = {
    "official": _about_official,
    "treatment": _about_treatment,
    "self_paying": _about_self_paying,
    "safety": _about_safety,
}


async def _about_prompt(ctx: Ctx) -> Reply:
    if ctx.data.get("seen"):
        return Reply(text=ctx.t(N_("Ada lagi yang ingin Bapak/Ibu ketahui?")))
    return Reply(text=_about_intro(ctx) + "\n\n" + ctx.t(N_("Pilih yang ingin Bapak/Ibu ketahui.")))


async def _about_next(ctx: Ctx, value: str) -> Outcome:
    if value == "menu":
        return End()
    ctx.data["seen"] = True
    return Stay((ABOUT_TOPICS[value](ctx),))


ABOUT = Flow(
    name="about",
    steps=(
        Step(
            name="main",
            prompt=_about_prompt,
            choices=(
                Option(
                    id="official",
                    label=N_("Layanan resmi"),
                    description=N_("Kantor BPJS, telepon 175"),
                    aliases=("resmi", "kantor", "175"),
                ),
                Option(
                    id="treatment",
                    label=N_("Berobat jika celaka"),
                    description=N_("Rumah sakit mitra (PLKK)"),
                    aliases=("berobat", "rumah sakit"),
                ),
                Option(
                    id="self_paying",
                    label=N_("Lanjut bayar sendiri"),
                    description=N_("Jika keluar dari program"),
                    aliases=("bayar sendiri", "bpu"),
                ),
                Option(
                    id="safety",
                    label=N_("Awas penipuan"),
                    description=states(N_("Layanan resmi gratis"), "official_services_free"),
                    aliases=("penipuan", "tipu"),
                ),
                BACK_TO_MENU,
            ),
            next=_about_next,
        ),
    ),
)
