"""Pieces several flows share: answer parsers, yes/no options, labels for domain codes."""

from __future__ import annotations

import re

from handlers import answers
from handlers.engine import Answer, Confirm, Ctx, Invalid, Option, reads
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core.coverage import CoverageResult, CoverageStatus, coverage_status
from lingkaran_core.dates import parse_time_id
from lingkaran_core.identity import normalize_phone, parse_nik
from lingkaran_core.regions import load_regions
from lingkaran_core.storage.repos import Worker

YES = Option(
    id="yes",
    label=N_("Ya"),
    aliases=(
        "y",
        "iya",
        "ya benar",
        "betul",
        "benar",
        "yes",
        "ok",
        "oke",
        "nggih",
        "enggih",
        "ghi",
        "inggih",
        "sudah",
        "udah",
        "sdh",
    ),
)
NO = Option(
    id="no",
    label=N_("Tidak"),
    aliases=(
        "t",
        "tdk",
        "gak",
        "ga",
        "nggak",
        "enggak",
        "no",
        "ora",
        "mboten",
        "enja",
        "belum",
        "blm",
        "bukan",
    ),
)
DONT_KNOW = Option(
    id="unknown",
    label=N_("Tidak tahu"),
    aliases=(
        "tdk tahu",
        "gak tau",
        "ga tau",
        "nggak tahu",
        "ndak tau",
        "mboten ngertos",
        "ora ngerti",
        "tidak tau",
        "entah",
    ),
)
YES_NO = (YES, NO)
YES_NO_UNKNOWN = (YES, NO, DONT_KNOW)

SEND = Option(
    id="send", label=N_("Kirim"), aliases=("kirim", "ya kirim", "send", "benar", "sudah benar")
)
EDIT = Option(id="edit", label=N_("Ubah"), aliases=("ubah", "edit", "ganti"))
CANCEL = Option(id="cmd:cancel", label=N_("Batal"))

SECTOR_LABELS: dict[str, str] = {
    "buruh_tani_tembakau": N_("Buruh tani / tembakau"),
    "petani_pangan_hortikultura": N_("Petani"),
    "nelayan_tangkap": N_("Nelayan"),
    "pedagang_keliling": N_("Pedagang keliling"),
    "pekerja_sosial_keagamaan": N_("Guru ngaji / modin"),
    "pekerja_rentan_desa": N_("Pekerja rentan desa"),
}
SECTOR_ALIASES: dict[str, tuple[str, ...]] = {
    "buruh_tani_tembakau": ("buruh tani", "buruh", "tembakau", "mbako", "buruh tembakau"),
    "petani_pangan_hortikultura": ("tani", "petani padi", "petani sayur", "kebun"),
    "nelayan_tangkap": ("nelayan", "mancing", "melaut", "perahu"),
    "pedagang_keliling": ("pedagang", "dagang", "jualan", "bakul", "pedagang keliling"),
    "pekerja_sosial_keagamaan": ("guru ngaji", "ustadz", "modin", "ngaji", "takmir"),
    "pekerja_rentan_desa": ("pekerja desa", "serabutan", "kuli", "rentan"),
}


def sector_options(*, with_other: bool = True) -> list[Option]:
    """The six programme sectors (and "other work")."""
    options = [
        Option(id=code, label=label, aliases=SECTOR_ALIASES.get(code, ()))
        for code, label in SECTOR_LABELS.items()
    ]
    if with_other:
        options.append(Option(id="other", label=N_("Lainnya"), aliases=("lain", "lain lain")))
    return options


def sector_label(ctx: Ctx, code: str | None) -> str:
    """The translated name of a sector code."""
    if code is None or code not in SECTOR_LABELS:
        return ctx.t(N_("pekerjaan lain"))
    return ctx.t(SECTOR_LABELS[code])


def read_nik(ctx: Ctx, text: str) -> str:
    """The NIK in a message (``nik saya 3509…``, spaced or dashed); raises the specific reason.

    Letters typed for digits (O for 0, l or I for 1) are read as digits, but the user confirms
    the result before it is used (``Confirm``).
    """
    found = answers.find_nik(text)
    if found is None:
        digits = "".join(ch for ch in text if ch.isdigit())
        # A number inside words ("nik saya 35092715…" one digit short): say what is wrong with
        # the digits, not that words are not digits.
        sentence = re.search(r"[^\W\d_]{2,}", text) is not None
        raw = digits if sentence and len(digits) >= 10 else text
        return parse_nik(raw, today=ctx.today).value
    nik = parse_nik(found.digits, today=ctx.today).value
    if found.corrected:
        raise Confirm(
            nik,
            N_(
                "Maksudnya NIK {nik}? Huruf O kami baca sebagai angka 0, huruf l atau I sebagai "
                "angka 1."
            ),
            nik=" ".join(nik[i : i + 4] for i in range(0, 16, 4)),
        )
    return nik


@reads("nik")
async def parse_nik_answer(ctx: Ctx, answer: Answer) -> str:
    """A NIK typed by the user; raises the specific reason on a bad one."""
    return read_nik(ctx, answer.text or "")


def masked(nik: str | None) -> str:
    """``3509********0001`` for any stored NIK."""
    if not nik or len(nik) != 16:
        return "-"
    return f"{nik[:4]}********{nik[-4:]}"


@reads("date")
async def parse_past_date(ctx: Ctx, answer: Answer) -> str:
    """A date that already happened (birth, accident, death), as ISO text."""
    from lingkaran_core.dates import parse_date_id

    day = parse_date_id(answer.text or "", today=ctx.today)
    return day.isoformat()


@reads("birth_date")
async def parse_birth_date(ctx: Ctx, answer: Answer) -> str:
    """A date of birth: a past date written out (``kemarin`` or ``3 hari lalu`` is no birth date)."""
    from lingkaran_core.dates import parse_date_id

    day = parse_date_id(answer.text or "", today=ctx.today, relative=False)
    return day.isoformat()


async def parse_phone(ctx: Ctx, answer: Answer) -> str:
    """A mobile number (typed, inside a sentence, or a shared contact), as E.164."""
    raw = answer.contact_phone or answer.text or ""
    return normalize_phone(answers.find_phone(raw) or raw)


async def parse_time(ctx: Ctx, answer: Answer) -> str:
    """A time of day as ``HH:MM``: ``jam 4 pagi``, ``14.30``, ``subuh``, ``setengah 3 sore``."""
    if answer.option is not None:
        return f"{answer.option.id}:00"
    found = parse_time_id(answer.text or "")
    if found is None:
        raise Invalid(
            N_("Mohon pilih pagi, siang, sore atau malam, atau tulis jamnya, misalnya 14.30.")
        )
    return f"{found.hour:02d}:{found.minute:02d}"


async def parse_age(ctx: Ctx, answer: Answer) -> int:
    """An age in years: ``45``, ``36 th``, ``umur 36``, ``tiga puluh enam``, ``seket``."""
    age = answers.read_age(answer.text or "")
    if age is None:
        raise Invalid(N_("Mohon tulis umur dengan angka saja, misalnya 45."))
    if not 10 <= age <= 110:
        raise Invalid(
            N_("Umur {age} tahun tidak mungkin. Mohon tulis umur dengan angka, misalnya 45."),
            age=age,
        )
    return age


async def parse_name(ctx: Ctx, answer: Answer) -> str:
    """A person's name: letters, 2–80 characters."""
    text = " ".join((answer.text or "").split())
    letters = sum(ch.isalpha() for ch in text)
    if letters < 2:
        raise Invalid(N_("Mohon tulis nama lengkap dengan huruf, sesuai KTP."))
    if len(text) > 80:
        raise Invalid(N_("Nama terlalu panjang. Mohon tulis nama sesuai KTP saja."))
    if any(ch.isdigit() for ch in text):
        raise Invalid(N_("Nama tidak boleh berisi angka. Mohon tulis nama sesuai KTP."))
    return text


async def parse_short_text(ctx: Ctx, answer: Answer) -> str:
    """A short free-text answer (place, chronology...)."""
    text = " ".join((answer.text or "").split())
    if len(text) < 2:
        raise Invalid(N_("Mohon tulis sedikit lebih jelas."))
    return text


def honorific(ctx: Ctx, worker: Worker) -> str:
    """``Bapak Sutrisno`` / ``Ibu Sumiati``."""
    title = ctx.t(N_("Ibu")) if worker.sex == "P" else ctx.t(N_("Bapak"))
    return f"{title} {worker.name}"


def place_of(desa_code: str | None) -> tuple[str, str]:
    """(desa, kecamatan) names for a desa code."""
    if not desa_code:
        return "-", "-"
    regions = load_regions()
    desa = regions.desa(desa_code)
    if desa is None:
        return desa_code, "-"
    return desa.name, regions.kecamatan_of(desa).name


def worker_coverage(worker: Worker, ctx: Ctx) -> CoverageResult:
    """Coverage of a roster worker today."""
    if worker.registration_status != "verified":
        return coverage_status(start=None, paid_through=None, today=ctx.today)
    return coverage_status(
        start=worker.coverage_start, paid_through=worker.paid_through, today=ctx.today
    )


# The coverage answer, sentence by sentence, each tied to the rules it states (handlers/sources.py).
AWAITING_VERIFICATION = states(
    N_(
        "{who} sudah didaftarkan dan sedang dicek oleh Pemkab dan BPJS Ketenagakerjaan. "
        "Perlindungan belum berlaku sampai disetujui."
    ),
    "protection_starts_after_verification",
)
REJECTED_FOR_FACILITATOR = N_(
    'Pendaftaran {who} belum disetujui Pemkab. Pilih "Bantu daftarkan lagi" untuk '
    "meminta pengecekan ulang."
)
REJECTED = N_("Pendaftaran {who} belum bisa disetujui. Silakan tanya pendamping desa.")
PROTECTED_FOR_FACILITATOR = states(
    N_("Menurut data Pemkab, {who} dilindungi (JKK dan JKM) sampai {until}."),
    "protected_while_paid",
)
PROTECTED = states(
    N_(
        "Menurut data Pemkab, {who} DILINDUNGI sampai {until}:\n"
        "- JKK (jaminan kecelakaan kerja): jika celaka saat bekerja, berobat di rumah "
        "sakit mitra tanpa batas biaya.\n"
        "- JKM (jaminan kematian): jika peserta meninggal, keluarga menerima santunan "
        "{jkm}.\n"
        "Selama periode yang didanai, iuran (uang bulanan perlindungan) dibayar Pemkab "
        "Jember. Bapak/Ibu tidak perlu membayar apa pun."
    ),
    "protected_while_paid",
    "jkk_care_at_partner_hospital",
    "jkm_benefit",
    "funding_in_periods",
    "pemkab_pays_contributions",
)
# Nothing is unpaid before its due day (DOMAIN.md §9): say when it is due, calmly.
PAYMENT_DUE = states(
    N_("Iuran bulan ini belum tercatat; jatuh temponya {due}."), "contribution_due_day"
)
OFFICIAL_CHECK = states(N_("Cek resmi: aplikasi JMO atau telepon 175."), "official_checks")
NOT_STARTED = states(
    N_("{who} sudah terdaftar. Perlindungan mulai berlaku {start}."),
    "protection_starts_after_verification",
)
ARREARS = states(
    N_(
        "Menurut data Pemkab, iuran {who} untuk {months} bulan terakhir belum tercatat. "
        "Petugas sedang mengecek; jangan membayar siapa pun. Jika ada kecelakaan atau "
        "kematian, tetap laporkan: laporan tetap dicatat dan dicek petugas."
    ),
    "covered_during_arrears",
    "reactivation_window_months",
)
NON_ACTIVE_FOR_FACILITATOR = states(
    N_(
        "Menurut data Pemkab, kepesertaan {who} tercatat tidak aktif (iuran lama belum "
        'tercatat). Pilih "Bantu daftarkan lagi" agar Pemkab mendaftarkannya lagi.'
    ),
    "lapse_unpaid_months",
)
NON_ACTIVE = states(
    N_(
        "Menurut data Pemkab, kepesertaan {who} tercatat tidak aktif (iuran lama belum "
        "tercatat). Silakan hubungi pendamping desa untuk dicek dan, bila perlu, "
        "didaftarkan lagi. Pendaftaran gratis."
    ),
    "lapse_unpaid_months",
    "reactivation_window_months",
    "service_free",
)
NOT_ENROLLED = N_("{who} belum terdaftar sebagai peserta Lingkaran Cinta.")


def coverage_text(
    ctx: Ctx, worker: Worker, cov: CoverageResult, *, for_facilitator: bool = False
) -> str:
    """The plain-words status of a worker's protection (for the worker, or their facilitator)."""
    t = ctx.t
    who = honorific(ctx, worker)
    s = cov.status
    if worker.registration_status == "registered":
        return t(AWAITING_VERIFICATION, who=who)
    if worker.registration_status == "rejected" and for_facilitator:
        return t(REJECTED_FOR_FACILITATOR, who=who)
    if worker.registration_status == "rejected":
        return t(REJECTED, who=who)
    if s == CoverageStatus.PROTECTED and cov.protected_until is not None and for_facilitator:
        # The facilitator knows what JKK and JKM are: the status in one line.
        return t(PROTECTED_FOR_FACILITATOR, who=who, until=t.date(cov.protected_until))
    if s == CoverageStatus.PROTECTED and cov.protected_until is not None:
        text = t(PROTECTED, who=who, until=t.date(cov.protected_until), jkm=t.money(_jkm_total()))
        if cov.payment_due is not None:
            text += "\n" + t(PAYMENT_DUE, due=t.date(cov.payment_due))
        return text + "\n" + t(OFFICIAL_CHECK)
    if s == CoverageStatus.NOT_STARTED and worker.coverage_start is not None:
        return t(NOT_STARTED, who=who, start=t.date(worker.coverage_start))
    if s == CoverageStatus.ARREARS:
        return t(ARREARS, who=who, months=cov.unpaid_months)
    if s == CoverageStatus.NON_ACTIVE and for_facilitator:
        return t(NON_ACTIVE_FOR_FACILITATOR, who=who)
    if s == CoverageStatus.NON_ACTIVE:
        return t(NON_ACTIVE, who=who)
    return t(NOT_ENROLLED, who=who)


def _jkm_total() -> int:
    from lingkaran_core import rules

    return rules.JKM_BENEFIT.total
