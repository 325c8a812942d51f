"""What a reporter is told around a claim, decided by the rules data (issue 14).

* coverage on the EVENT date decides the advice: only when the roster shows the subject was
  protected that day is the reporter told to tell the hospital it is a work accident of a
  participant and to show the card; otherwise the report is recorded all the same, what is known
  is said plainly, and the case goes to the facilitator and the OPD (the service flags it);
* coverage is personal data: it is told only to the worker's own linked chat or a facilitator
  of the desa (``sees_coverage``); anyone else gets one neutral note whatever the roster says;
* who forwards, who decides and pays, how long it usually takes, and what comes next.

Every sentence that states a rule is marked with ``states`` (handlers/sources.py).
"""

from __future__ import annotations

from datetime import date, datetime

from handlers.claim_common import filing_as
from handlers.common import honorific
from handlers.docs import can_see_claim
from handlers.engine import Ctx
from handlers.i18n import N_, TZ
from handlers.sources import states
from lingkaran_core import claims as claim_rules
from lingkaran_core import rules, services
from lingkaran_core.claims import Actor, ClaimType, JKKStage
from lingkaran_core.coverage import EventCoverage
from lingkaran_core.rules import INCOME_BASE, SCHOLARSHIP_MAX_CHILDREN
from lingkaran_core.storage.repos import Claim, Worker

__all__ = [
    "ALL_DOCS_IN",
    "advice",
    "duplicate_warning",
    "forward_note",
    "jkk_death_amounts",
    "neutral_note",
    "next_after_documents",
    "sees_coverage",
    "tahap_notes",
]

# -- who may read a worker's coverage ----------------------------------------------------------


async def sees_coverage(ctx: Ctx, worker: Worker | None) -> bool:
    """A chat linked to the worker (its own, or a household phone's verified link, issue 22),
    or a facilitator whose scope holds the worker's desa."""
    if worker is None:
        return filing_as(ctx)[1] == Actor.FACILITATOR
    if ctx.chat.worker_id is not None and ctx.chat.worker_id == worker.id:
        return True
    if worker.id in await services.linked_worker_ids(ctx.tx, ctx.chat.id):
        return True
    if filing_as(ctx)[1] != Actor.FACILITATOR or ctx.chat.facilitator_id is None:
        return False
    f = await services.active_facilitator(ctx.tx, ctx.chat.facilitator_id, ctx.chat.id)
    return f is not None and services.in_scope(f, worker.desa_code)


# -- the advice by coverage on the event date --------------------------------------------------

HOSPITAL = states(
    N_(
        "Menurut data Pemkab, {who} dilindungi BPJS Ketenagakerjaan pada {date}. Katakan ke "
        "rumah sakit: ini kecelakaan kerja peserta BPJS Ketenagakerjaan, dan tunjukkan kartu "
        "peserta (KPJ) atau KTP."
    ),
    "jkk_care_at_partner_hospital",
)
PROTECTED_DEATH = states(
    N_("Menurut data Pemkab, {who} dilindungi BPJS Ketenagakerjaan pada {date}."),
    "protected_while_paid",
)
NOT_STARTED = states(
    N_("Menurut data Pemkab, perlindungan {who} belum mulai pada {date}: mulai {start}."),
    "protection_starts_after_verification",
)
AWAITING = states(
    N_(
        "Menurut data Pemkab, pendaftaran {who} pada {date} masih dicek dan belum disetujui, "
        "jadi perlindungannya belum tercatat."
    ),
    "protection_starts_after_verification",
)
UNPAID = states(
    N_(
        "Menurut data Pemkab, iuran {who} untuk bulan kejadian belum tercatat. Petugas sedang "
        "mengecek apakah kejadian ini bisa dijamin. Jangan membayar siapa pun."
    ),
    "covered_during_arrears",
)
NON_ACTIVE = states(
    N_(
        "Menurut data Pemkab, kepesertaan {who} tercatat tidak aktif pada {date} (iuran lama "
        "belum tercatat)."
    ),
    "lapse_unpaid_months",
)
NOT_ON_ROSTER = N_("NIK itu tidak ada di data program Lingkaran Cinta.")
UNKNOWN = N_("NIK belum ada, jadi kepesertaan belum bisa kami cek.")
RECORDED_ANYWAY = N_(
    "Laporan tetap kami catat dan kami teruskan ke pendamping desa dan petugas Pemkab untuk "
    "dicek; mereka akan menghubungi Bapak/Ibu."
)
# Shown whenever the roster does not show protection on the event date; for an unpaid month the
# cover is UNCONFIRMED, hence "belum tentu" (not necessarily), never "tidak dijamin".
ASK_HOSPITAL = states(
    N_(
        "Selama belum ada kepastian dari petugas, biaya rumah sakit belum tentu dijamin BPJS "
        "Ketenagakerjaan: tanyakan cara pembayarannya ke rumah sakit."
    ),
    "protected_while_paid",
    "covered_during_arrears",
)
NEUTRAL_JKK = N_(
    "Petugas Pemkab akan mengecek kepesertaan pada tanggal kejadian lalu menghubungi Bapak/Ibu."
)
NEUTRAL_HOSPITAL = N_("Sampai ada kabar, tanyakan cara pembayaran ke rumah sakit.")
NEUTRAL_DEATH = N_(
    "Petugas akan mencocokkan data almarhum/almarhumah dan memeriksa kepesertaannya pada "
    "tanggal itu."
)

_STATUS_TEXT = {
    EventCoverage.NOT_STARTED: NOT_STARTED,
    EventCoverage.AWAITING_VERIFICATION: AWAITING,
    EventCoverage.UNPAID: UNPAID,
    EventCoverage.NON_ACTIVE: NON_ACTIVE,
    EventCoverage.NOT_ON_ROSTER: NOT_ON_ROSTER,
    EventCoverage.UNKNOWN: UNKNOWN,
}


def _who(ctx: Ctx, worker: Worker | None) -> str:
    if worker is None:
        return ctx.t(N_("peserta"))
    if ctx.chat.worker_id == worker.id:
        return ctx.t(N_("Bapak/Ibu"))
    return honorific(ctx, worker)


def neutral_note(ctx: Ctx, claim_type: ClaimType, *, treated: bool = False) -> str:
    """The one note for a reporter who may not read the subject's coverage."""
    if claim_type is not ClaimType.JKK:
        return ctx.t(NEUTRAL_DEATH)
    text = ctx.t(NEUTRAL_JKK)
    return text + " " + ctx.t(NEUTRAL_HOSPITAL) if treated else text


def advice(
    ctx: Ctx,
    *,
    claim_type: ClaimType,
    on_event: EventCoverage,
    worker: Worker | None,
    event_date: date,
    treated: bool,
) -> list[str]:
    """What to tell a reporter who may read the coverage (``sees_coverage``), by its status."""
    t = ctx.t
    who = _who(ctx, worker)
    day = t.date(event_date)
    if on_event is EventCoverage.PROTECTED:
        if claim_type is ClaimType.JKK and treated:
            return [t(HOSPITAL, who=who, date=day)]
        return [t(PROTECTED_DEATH, who=who, date=day)]
    start = worker.coverage_start if worker is not None else None
    lines = [
        t(
            _STATUS_TEXT[on_event],
            who=who,
            date=day,
            start=t.date(start) if start is not None else "-",
        ),
        t(RECORDED_ANYWAY),
    ]
    if claim_type is ClaimType.JKK and treated:
        lines.append(t(ASK_HOSPITAL))
    return [" ".join(lines)]


# -- forwarding, deciding, paying --------------------------------------------------------------

FORWARD_JKK = states(
    N_(
        "Petugas Pemkab meneruskan laporan ini ke BPJS Ketenagakerjaan. BPJS Ketenagakerjaan yang "
        "memutuskan apakah ini kecelakaan kerja (biasanya dalam {days} hari sejak pemberitahuan "
        "tahap I) dan yang membayar."
    ),
    "bpjs_decides_and_pays",
    "jkk_decision_days",
)
FORWARD_JKM = states(
    N_(
        "Petugas Pemkab meneruskan laporan ini ke BPJS Ketenagakerjaan. BPJS Ketenagakerjaan yang "
        "memutuskan dan membayar santunan, paling lambat {days} hari kerja setelah berkas "
        "lengkap."
    ),
    "bpjs_decides_and_pays",
    "jkm_payment_working_days",
)
FORWARD_BEASISWA = states(
    N_(
        "Petugas Pemkab meneruskan pengajuan ini ke BPJS Ketenagakerjaan. BPJS Ketenagakerjaan "
        "yang memutuskan dan membayar beasiswa."
    ),
    "bpjs_decides_and_pays",
)


def forward_note(ctx: Ctx, claim_type: ClaimType | str) -> str:
    """Who forwards the report, who decides and pays, and how long it usually takes."""
    if claim_type == ClaimType.JKK:
        return ctx.t(FORWARD_JKK, days=rules.JKK_DECISION_DAYS)
    if claim_type == ClaimType.JKM:
        return ctx.t(FORWARD_JKM, days=rules.JKM_PAYMENT_WORKING_DAYS)
    return ctx.t(FORWARD_BEASISWA)


# -- the two JKK stages ------------------------------------------------------------------------

TAHAP_I = states(
    N_(
        "Laporan ini adalah pemberitahuan tahap I (NIK, kronologi, nomor kontak). Petugas Pemkab, "
        "sebagai wadah peserta, meneruskannya ke BPJS Ketenagakerjaan dalam 2×24 jam, yaitu "
        "sebelum {deadline} (rumah sakit yang merawat juga boleh memberitahukan). BPJS "
        "Ketenagakerjaan yang memutuskan apakah ini kecelakaan kerja, biasanya dalam {days} "
        "hari, dan yang membayar."
    ),
    "jkk_tahap_i_content",
    "bpu_notifiers",
    "jkk_report_hours",
    "jkk_decision_days",
    "bpjs_decides_and_pays",
)
TAHAP_I_LATE = states(
    N_(
        "Laporan ini lewat dari 2×24 jam sejak kecelakaan. Tidak apa-apa, laporan tetap kami "
        "terima dan diteruskan. Petugas Pemkab sudah kami beri tahu. BPJS Ketenagakerjaan yang "
        "memutuskan dan membayar."
    ),
    "jkk_report_hours",
    "bpjs_decides_and_pays",
)
DAYS_OFF = states(
    N_(
        "Kantor Pemkab biasanya buka hari kerja (Senin–Jumat), sedangkan 2×24 jam tetap berjalan "
        "di akhir pekan dan hari libur. Agar aman, minta rumah sakit mitra BPJS Ketenagakerjaan "
        "(PLKK) ikut memberitahukan, atau telepon BPJS Ketenagakerjaan di 175."
    ),
    "opd_workdays",
    "plkk_route",
    "bpu_notifiers",
)
TAHAP_II_LATER = states(
    N_(
        "Tahap II (klaim santunan) dimulai setelah dokter menyatakan sembuh atau cacat. Saat itu "
        'buka "Klaim saya" dan pilih "Dokter sudah menyatakan": baru kami minta surat dokter '
        "(formulir KK3/3b), kuitansi jika membayar sendiri, dan buku tabungan."
    ),
    "jkk_tahap_ii",
    "receipts_only_off_partner",
)


def tahap_notes(ctx: Ctx, *, accident_at: datetime, death: bool) -> list[str]:
    """The tahap I notice with its deadline (a day off on the way: the PLKK / 175 route) and,
    for an injury, what tahap II will ask once the doctor has declared the outcome."""
    t = ctx.t
    deadline = claim_rules.jkk_report_deadline(accident_at)
    notes: list[str] = []
    if claim_rules.is_late(deadline, ctx.now):
        notes.append(t(TAHAP_I_LATE))
    else:
        notes.append(t(TAHAP_I, deadline=t.datetime(deadline), days=rules.JKK_DECISION_DAYS))
        if claim_rules.opd_days_off_between(ctx.now, deadline, TZ):
            notes.append(t(DAYS_OFF))
    if not death:
        notes.append(t(TAHAP_II_LATER))
    return notes


JKK_DEATH_AMOUNTS = states(
    N_(
        "Jika BPJS Ketenagakerjaan menetapkan ini kecelakaan kerja dan kepesertaan aktif, "
        "santunannya (untuk penghasilan {income} sebulan): {lump} santunan kematian, {periodic} "
        "santunan berkala, {funeral} biaya pemakaman, jumlah {total}. Ditambah beasiswa untuk "
        "paling banyak {children} anak, tanpa syarat lama kepesertaan."
    ),
    "jkk_death",
    "income_base",
    "scholarship_jkk_route_waives_minimum",
    "scholarship_max_children",
)


def jkk_death_amounts(ctx: Ctx) -> str:
    """The JKK death benefits and the scholarship hint (DOMAIN.md §2.1)."""
    t = ctx.t
    b = claim_rules.jkk_death_benefit()
    return t(
        JKK_DEATH_AMOUNTS,
        income=t.money(INCOME_BASE),
        lump=t.money(b.lump_sum),
        periodic=t.money(b.periodic),
        funeral=t.money(b.funeral),
        total=t.money(b.total),
        children=SCHOLARSHIP_MAX_CHILDREN,
    )


# -- when every document is in -----------------------------------------------------------------

ALL_DOCS_IN = N_("Semua dokumen sudah lengkap. Terima kasih.")
NEXT_JKK_TAHAP_I = states(
    N_(
        "Dokumen tahap I lengkap. Petugas Pemkab memeriksanya dan meneruskan ke BPJS "
        "Ketenagakerjaan, yang biasanya memutuskan dalam {days} hari apakah ini kecelakaan "
        'kerja. Setelah dokter menyatakan sembuh atau cacat, pilih "Dokter sudah menyatakan" di '
        '"Klaim saya" untuk tahap II.'
    ),
    "jkk_decision_days",
    "jkk_tahap_ii",
)
NEXT_JKK_TAHAP_II = states(
    N_(
        "Petugas Pemkab memeriksa berkas lalu meneruskannya ke BPJS Ketenagakerjaan; BPJS "
        "Ketenagakerjaan yang memutuskan dan membayar. Kami kabari lewat pesan ini setiap ada "
        "perubahan."
    ),
    "bpjs_decides_and_pays",
)
NEXT_JKM = states(
    N_(
        "Petugas Pemkab memeriksa berkas lalu meneruskannya ke BPJS Ketenagakerjaan, yang "
        "membayar santunan paling lambat {days} hari kerja setelah berkas lengkap. Kami kabari "
        "lewat pesan ini setiap ada perubahan."
    ),
    "bpjs_decides_and_pays",
    "jkm_payment_working_days",
)
NEXT_BEASISWA = states(
    N_(
        "Petugas Pemkab memeriksa berkas lalu meneruskannya ke BPJS Ketenagakerjaan, yang "
        "memutuskan dan membayar beasiswa. Kami kabari lewat pesan ini setiap ada perubahan."
    ),
    "bpjs_decides_and_pays",
)


def next_after_documents(ctx: Ctx, claim: Claim) -> str:
    """What happens once every document of the claim's checklist is in, and how long."""
    t = ctx.t
    if claim.type == ClaimType.JKK:
        if services.jkk_stage(claim) is JKKStage.NOTICE:
            return t(NEXT_JKK_TAHAP_I, days=rules.JKK_DECISION_DAYS)
        return t(NEXT_JKK_TAHAP_II)
    if claim.type == ClaimType.JKM:
        return t(NEXT_JKM, days=rules.JKM_PAYMENT_WORKING_DAYS)
    return t(NEXT_BEASISWA)


# -- the same event reported twice -------------------------------------------------------------

DUPLICATE_SEEN = N_(
    "Perhatian: laporan {ref} untuk orang dan tanggal yang sama sudah ada. Kirim lagi hanya jika "
    'ini kejadian lain; untuk menambah dokumen, buka "Klaim saya".'
)
DUPLICATE_UNSEEN = N_(
    "Perhatian: laporan untuk NIK dan tanggal itu sudah pernah kami terima. Jika ini kejadian "
    "yang sama, tidak perlu dikirim lagi; petugas akan mencocokkannya."
)


async def duplicate_warning(
    ctx: Ctx,
    *,
    claim_type: ClaimType,
    worker_id: int | None,
    nik: str | None,
    event_date: date,
) -> str | None:
    """A warning (with the reference when this chat may see it) for a report already filed;
    the reference is kept in ``ctx.data["duplicate_of"]`` for staff."""
    found = await services.same_event_claims(
        ctx.tx, claim_type=claim_type, worker_id=worker_id, subject_nik=nik, event_date=event_date
    )
    if not found:
        ctx.data.pop("duplicate_of", None)
        return None
    first = found[0]
    ctx.data["duplicate_of"] = first.ref
    for claim in found:
        if await can_see_claim(ctx, claim):
            return ctx.t(DUPLICATE_SEEN, ref=claim.ref)
    return ctx.t(DUPLICATE_UNSEEN)
