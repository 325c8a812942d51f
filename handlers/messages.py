"""Indonesian texts (msgids) for the domain's error codes, with their placeholders."""

from __future__ import annotations

from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core.errors import DomainError

GENERIC = N_("Maaf, jawaban itu belum bisa kami terima. Mohon periksa lagi.")

DOMAIN_MESSAGES: dict[str, str] = {
    "nik.empty": N_("Mohon ketik NIK: 16 angka di KTP atau KK."),
    "nik.not_digits": N_("NIK hanya berisi angka. Mohon ketik 16 angka di KTP atau KK."),
    "nik.wrong_length": N_(
        "Maaf, NIK harus 16 angka. Yang Bapak/Ibu kirim {got} angka. Mohon cek lagi, lalu ketik ulang."
    ),
    "nik.bad_month": N_(
        "Angka ke-9 dan ke-10 NIK (bulan lahir) tidak mungkin. Mohon cek lagi NIK-nya."
    ),
    "nik.bad_day": N_(
        "Angka ke-7 dan ke-8 NIK (tanggal lahir) tidak mungkin. Mohon cek lagi NIK-nya."
    ),
    "nik.impossible_date": N_(
        "Tanggal lahir di NIK itu tidak ada di kalender. Mohon cek lagi NIK-nya."
    ),
    "nik.serial_zero": N_("Empat angka terakhir NIK tidak boleh 0000. Mohon cek lagi NIK-nya."),
    "nik.bad_region": N_("Kode wilayah di awal NIK tidak dikenal. Mohon cek lagi NIK-nya."),
    "kpj.empty": N_("Mohon ketik nomor KPJ: 11 angka di kartu peserta."),
    "kpj.not_digits": N_("Nomor KPJ hanya berisi angka: 11 angka di kartu peserta."),
    "kpj.wrong_length": N_("Nomor KPJ harus 11 angka. Yang Bapak/Ibu kirim {got} angka."),
    "phone.invalid": N_("Nomor HP itu tidak bisa kami baca. Contoh: 081234567890."),
    "phone.not_indonesian": N_("Mohon pakai nomor HP Indonesia, contoh: 081234567890."),
    "phone.not_mobile": N_("Itu nomor telepon rumah. Mohon ketik nomor HP, contoh: 081234567890."),
    "date.unreadable": N_("Tanggal itu belum bisa kami baca. Contoh: 15-05-1978."),
    "date.impossible": N_("Tanggal itu tidak ada di kalender. Mohon cek lagi. Contoh: 15-05-1978."),
    "date.in_future": N_("Tanggal itu belum terjadi. Mohon cek lagi."),
    "date.vague": N_(
        "Mohon tulis tanggalnya, misalnya 3-11-2026. Jika lupa tanggal persisnya, tulis kira-kira."
    ),
    "date.too_old": N_("Tanggal itu terlalu lama. Mohon cek lagi tahunnya."),
    "date.no_year": N_("Mohon tulis tanggal lengkap dengan tahunnya. Contoh: 15-05-1978."),
    "limit.claims": states(
        N_(
            "Sudah banyak laporan dari chat ini dalam satu jam terakhir (paling banyak {per_hour}). "
            "Mohon coba lagi nanti, atau hubungi pendamping desa."
        ),
        "abuse_limits",
    ),
    "limit.claims_nik": N_(
        "Laporan untuk NIK itu sudah kami terima dalam satu jam terakhir. Petugas akan "
        "memeriksanya; tidak perlu dikirim lagi."
    ),
    "limit.tickets": N_(
        "Sudah banyak pertanyaan dari chat ini dalam satu jam terakhir. Mohon tunggu jawaban "
        "petugas."
    ),
    "limit.uploads": states(
        N_(
            "Sudah banyak berkas yang dikirim dalam satu jam terakhir (paling banyak "
            "{per_hour}). Mohon kirim sisanya nanti."
        ),
        "abuse_limits",
    ),
    "limit.upload_bytes": states(
        N_(
            "Berkas yang dikirim dalam satu jam terakhir sudah terlalu besar (paling banyak "
            "{mb} MB). Mohon kirim sisanya nanti."
        ),
        "abuse_limits",
    ),
}


def domain_message(err: DomainError) -> tuple[str, dict[str, object]]:
    """The msgid and parameters that explain a domain error to a user."""
    msgid = DOMAIN_MESSAGES.get(err.code, GENERIC)
    return msgid, dict(err.params)
