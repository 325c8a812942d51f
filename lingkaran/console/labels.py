"""Human labels for the codes the core returns (msgids in Indonesian, translated at render time).

Staff never read an internal code (``documents_requested``, ``nik.wrong_length``): every status,
type, document kind, role and error shown by the console goes through one of these tables.
"""

from __future__ import annotations

from typing import Final

from handlers.docs import DOC_LABELS
from handlers.i18n import N_, Translator

STATUS: Final[dict[str, str]] = {
    "draft": N_("Draf"),
    "submitted": N_("Baru masuk"),
    "in_review": N_("Sedang diperiksa"),
    "documents_requested": N_("Menunggu dokumen"),
    "forwarded_to_bpjs": N_("Diteruskan ke BPJS TK"),
    "approved": N_("Disetujui BPJS TK"),
    "paid": N_("Sudah dibayar"),
    "rejected": N_("Ditolak"),
    "withdrawn": N_("Dibatalkan pelapor"),
}
# The button that moves a claim to a status.
MOVE: Final[dict[str, str]] = {
    "in_review": N_("Mulai periksa"),
    "documents_requested": N_("Minta dokumen"),
    "forwarded_to_bpjs": N_("Teruskan ke BPJS TK"),
    "approved": N_("Catat: disetujui BPJS TK"),
    "paid": N_("Catat: sudah dibayar"),
    "rejected": N_("Tolak"),
}
TYPE: Final[dict[str, str]] = {
    "JKK": N_("Kecelakaan kerja (JKK)"),
    "JKM": N_("Kematian (JKM)"),
    "BEASISWA": N_("Beasiswa anak"),
}
COVERAGE: Final[dict[str, str]] = {
    "not_enrolled": N_("Belum terdaftar"),
    "not_started": N_("Terdaftar, perlindungan belum mulai"),
    "protected": N_("Terlindungi"),
    "arrears": N_("Iuran belum tercatat"),
    "non_active": N_("Tidak aktif"),
}
# What the roster said on the event date when the report came in (coverage.EventCoverage).
EVENT_COVERAGE: Final[dict[str, str]] = {
    "protected": N_("Terlindungi"),
    "not_started": N_("Perlindungan belum mulai"),
    "awaiting_verification": N_("Menunggu verifikasi"),
    "unpaid": N_("Iuran bulan itu belum tercatat"),
    "non_active": N_("Tidak aktif"),
    "not_on_roster": N_("Tidak ada di data peserta"),
    "unknown": N_("NIK tidak diketahui"),
}
NOT_COMPUTED: Final = N_("Belum dihitung")  # a report from before the check existed
SECTOR: Final[dict[str, str]] = {
    "buruh_tani_tembakau": N_("Buruh tani tembakau"),
    "pekerja_sosial_keagamaan": N_("Pekerja sosial keagamaan"),
    "petani_pangan_hortikultura": N_("Petani pangan & hortikultura"),
    "pekerja_rentan_desa": N_("Pekerja rentan desa"),
    "nelayan_tangkap": N_("Nelayan tangkap"),
    "pedagang_keliling": N_("Pedagang keliling"),
}
ROLE: Final[dict[str, str]] = {
    "admin": N_("Administrator"),
    "opd": N_("Petugas OPD"),
    "viewer": N_("Pemantau kecamatan"),
}
ACTOR: Final[dict[str, str]] = {
    "claimant": N_("Pelapor"),
    "admin": N_("Petugas OPD"),
    "system": N_("Otomatis"),
    "facilitator": N_("Pendamping"),
}
TICKET_STATUS: Final[dict[str, str]] = {
    "open": N_("Menunggu jawaban"),
    "answered": N_("Sudah dijawab"),
    "closed": N_("Selesai"),
}
OUTBOX_STATUS: Final[dict[str, str]] = {
    "queued": N_("Antre"),
    "sending": N_("Sedang dikirim"),
    "sent": N_("Terkirim"),
    "held": N_("Ditahan"),
    "failed": N_("Gagal, dicoba lagi"),
    "dead": N_("Gagal, berhenti dicoba"),
    "skipped": N_("Dilewati"),
    "cancelled": N_("Dibatalkan"),
}
CHANNEL: Final[dict[str, str]] = {
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "terminal": N_("Terminal (uji coba)"),
    "admin": N_("Antrean OPD"),
}
ERRORS: Final[dict[str, str]] = {
    "claim.final_state": N_("Klaim ini sudah selesai; statusnya tidak bisa diubah lagi."),
    "claim.illegal_transition": N_("Perpindahan status itu tidak diizinkan dari status sekarang."),
    "claim.reason_required": N_("Penolakan harus disertai alasan untuk pelapor."),
    "claim.not_found": N_("Klaim tidak ditemukan."),
    "registration.not_found": N_("Pendaftaran tidak ditemukan."),
    "registration.not_waiting": N_("Pendaftaran ini sudah diputuskan sebelumnya."),
    "registration.reason_required": N_("Penolakan harus disertai alasan."),
    "ticket.not_found": N_("Pertanyaan tidak ditemukan."),
    "ticket.closed": N_("Pertanyaan ini sudah ditutup."),
    "facilitator.not_found": N_("Pendamping tidak ditemukan."),
    "facilitator.revoked": N_("Pendamping ini sudah dicabut."),
    "facilitator.bad_scope": N_("Wilayah pendamping tidak sah."),
    "phone.invalid": N_("Nomor HP tidak bisa dipakai."),
}
GENERIC_ERROR: Final = N_("Permintaan tidak bisa diproses.")


def label(t: Translator, table: dict[str, str], code: str | None) -> str:
    """The translated label of ``code`` (``-`` for none; never the bare code for known tables)."""
    if not code:
        return "-"
    text = table.get(code)
    return t(text) if text is not None else code.replace("_", " ")


def doc_label(t: Translator, kind: str) -> str:
    """A document kind's name."""
    text = DOC_LABELS.get(kind)
    if text is None and kind == "ktp":
        text = N_("KTP")
    if text is None and kind == "foto_lain":  # a registration's further photos
        text = N_("Foto lain")
    return t(text) if text is not None else kind.replace("_", " ")


def error_text(t: Translator, code: str) -> str:
    """A domain error code as a sentence."""
    text = ERRORS.get(code)
    if text is None and code.startswith("phone."):
        text = ERRORS["phone.invalid"]
    return t(text or GENERIC_ERROR)


ROSTER_COLUMN: Final[dict[str, str]] = {
    "nik": N_("NIK"),
    "nama": N_("Nama"),
    "tanggal_lahir": N_("Tanggal lahir"),
    "jenis_kelamin": N_("Jenis kelamin"),
    "kode_desa": N_("Kode desa"),
    "sektor": N_("Sektor"),
    "no_hp": N_("Nomor HP"),
    "desil_dtsen": N_("Desil DTSEN"),
    "kpj": N_("KPJ"),
    "no_kk": N_("Nomor KK"),
    "mulai_perlindungan": N_("Mulai perlindungan"),
    "iuran_dibayar_sampai": N_("Iuran dibayar sampai"),
}
ROSTER_REASON: Final[dict[str, str]] = {
    "nik.empty": N_("kosong"),
    "nik.not_digits": N_("harus angka saja"),
    "nik.wrong_length": N_("harus 16 angka"),
    "nik.bad_month": N_("bulan lahir di NIK tidak sah"),
    "nik.bad_day": N_("tanggal lahir di NIK tidak sah"),
    "nik.impossible_date": N_("tanggal lahir di NIK tidak ada"),
    "nik.serial_zero": N_("empat angka terakhir tidak boleh 0000"),
    "nik.bad_region": N_("kode wilayah di NIK tidak sah"),
    "nik.duplicate": N_("NIK muncul dua kali di berkas"),
    "nik.birth_date_mismatch": N_("tidak cocok dengan tanggal lahir di NIK"),
    "nik.sex_mismatch": N_("tidak cocok dengan jenis kelamin di NIK"),
    "nama.empty": N_("kosong"),
    "date.empty": N_("kosong"),
    "date.unreadable": N_("tanggal tidak terbaca (pakai TTTT-BB-HH atau HH-BB-TTTT)"),
    "date.impossible": N_("tanggal tidak ada"),
    "date.in_future": N_("tanggal di masa depan"),
    "date.too_old": N_("tanggal terlalu lama"),
    "sex.unknown": N_("isi L atau P"),
    "desa.empty": N_("kosong"),
    "desa.unknown": N_("bukan kode desa di Jember"),
    "sector.unknown": N_("sektor tidak dikenal"),
    "phone.invalid": N_("nomor HP tidak sah"),
    "phone.not_indonesian": N_("bukan nomor Indonesia"),
    "phone.not_mobile": N_("bukan nomor HP"),
    "decile.out_of_range": N_("harus 1 sampai 10"),
    "kpj.wrong_format": N_("harus 11 angka"),
    "kk.wrong_format": N_("harus 16 angka"),
    "kk.same_as_nik": N_("tidak boleh sama dengan NIK"),
    "roster.empty": N_("Berkas kosong."),
    "roster.missing_columns": N_("Kolom wajib tidak ada di baris judul."),
    "roster.unreadable": N_("Berkas tidak bisa dibaca."),
}


def roster_issue(t: Translator, column: str, code: str) -> str:
    """``NIK: harus 16 angka``."""
    col = label(t, ROSTER_COLUMN, column)
    text = ROSTER_REASON.get(code) or ROSTER_REASON.get("nik.duplicate" if "dup" in code else "")
    reason = t(text) if text else t(N_("isi tidak sah"))
    return col + ": " + reason
