"""Outbox messages as text: a row's ``msg_key`` + ``params`` rendered at send time.

Rows store the key and parameters, not text, so the message comes out in the recipient's
*current* language (they may have switched since it was queued) and a WhatsApp sender can map
the same key to an approved template outside the 24 h window. Unknown keys get a safe generic
text and a warning in the log; a missing parameter never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from handlers.docs import DOC_LABELS
from handlers.engine import Reply
from handlers.i18n import N_, Translator, translator
from handlers.my_claims import STATUS_WORDS
from handlers.sources import states
from lingkaran_core.rules import SELF_PAY_MONTHLY_2026
from lingkaran_core.services.link import ATTEMPT_MSG_KEY
from lingkaran_core.services.link_codes import PHONE_CODE_MSG_KEY, VERIFIED_MSG_KEY

logger = logging.getLogger(__name__)

GENERIC = N_(
    "Ada kabar baru dari Lingkaran Cinta untuk Bapak/Ibu. Ketik MENU untuk melihat layanan."
)
STOP_HINT = N_("Ketik BERHENTI jika tidak ingin menerima pengingat.")
FREE_HINT = states(
    N_(
        "Layanan ini gratis. Bapak/Ibu tidak perlu membayar apa pun. Jangan beri uang kepada "
        "siapa pun yang memintanya atas nama program ini."
    ),
    "service_free",
)
FREE_SHORT = states(N_("Layanan ini gratis."), "service_free")

# The roster is the Pemkab's; the official checks (rules.OFFICIAL_CHECKS_RULE).
OFFICIAL_CHECK_HINT = states(N_("Cek resmi: aplikasi JMO atau telepon 175."), "official_checks")

Renderer = Callable[[Translator, Mapping[str, Any]], str]


def _d(t: Translator, value: Any) -> str:
    """An ISO date (or datetime) parameter in the reader's words; raw text if unparsable."""
    try:
        if isinstance(value, str) and "T" in value:
            return t.datetime(datetime.fromisoformat(value))
        return t.date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _month(t: Translator, value: Any) -> str:
    try:
        return t.month(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _docs(t: Translator, kinds: Any) -> str:
    if not isinstance(kinds, list | tuple):
        return str(kinds)
    return ", ".join(t(DOC_LABELS.get(str(k), str(k))) for k in kinds)


def _who(t: Translator, p: Mapping[str, Any]) -> str | None:
    """``Ibu Siti Aminah``: the person a message concerns (params ``name``, ``sex``), if named.

    On a household's phone (issue 22) a reminder or claim news says whom it is about.
    """
    name = str(p.get("name") or "").strip()
    if not name:
        return None
    title = t(N_("Ibu")) if p.get("sex") == "P" else t(N_("Bapak"))
    return f"{title} {name}"


PAID_AMOUNT = states(N_("Jumlah dibayar: {amount}{bank}."), "bpjs_decides_and_pays")


def _status_changed(t: Translator, p: Mapping[str, Any]) -> str:
    status = str(p["status"])
    who = _who(t, p)
    if who is not None:
        text = t(
            N_("Kabar laporan {ref} untuk {who}: {status}."),
            ref=p["ref"],
            who=who,
            status=t(STATUS_WORDS.get(status, status)),
        )
    else:
        text = t(
            N_("Kabar laporan {ref}: {status}."),
            ref=p["ref"],
            status=t(STATUS_WORDS.get(status, status)),
        )
    note = str(p.get("note") or "").strip()
    if status == "rejected" and note:
        text += "\n" + t(N_("Alasannya: {note}"), note=note)
    elif note:
        # The staff's words reach the reporter and the facilitator as written.
        text += "\n" + t(N_("Catatan petugas: {note}"), note=note)
    if status == "paid" and isinstance(p.get("amount"), int):
        text += "\n" + t(
            PAID_AMOUNT,
            amount=t.money(int(p["amount"])),
            bank=(", " + str(p["bank"])) if p.get("bank") else "",
        )
    if p.get("send_back"):
        text += "\n" + t(N_("Mohon kirim ulang: {docs}."), docs=_docs(t, p["send_back"]))
    if status == "documents_requested":
        text += "\n" + t(N_("Ketik MENU lalu pilih Klaim saya untuk mengirim foto dokumennya."))
    return text


# Why a report is flagged, as the roster shows it on the event date (said after "menurut data
# Pemkab" to the facilitator and the OPD, never as a decision on cover).
EVENT_COVERAGE_WORDS: dict[str, str] = {
    "not_started": states(
        N_("perlindungan belum mulai pada tanggal kejadian"), "protection_starts_after_verification"
    ),
    "awaiting_verification": states(
        N_("pendaftaran masih dicek pada tanggal kejadian"), "protection_starts_after_verification"
    ),
    "unpaid": states(N_("iuran bulan kejadian belum tercatat"), "protected_while_paid"),
    "non_active": states(
        N_("kepesertaan tercatat tidak aktif pada tanggal kejadian"), "protected_while_paid"
    ),
    "not_on_roster": N_("NIK tidak ada di data program"),
    "unknown": N_("NIK belum diberikan"),
}


TO_MATCH = N_("perlu dicocokkan")


def _flagged(t: Translator, p: Mapping[str, Any]) -> str:
    return t(
        N_(
            "Laporan {ref} di wilayah Bapak/Ibu perlu dicek: menurut data Pemkab, {why}. Laporan "
            "tetap tercatat; mohon bantu warga dan hubungi petugas Pemkab."
        ),
        ref=p["ref"],
        why=t(EVENT_COVERAGE_WORDS.get(str(p.get("event_coverage")), TO_MATCH)),
    )


def _admin_flagged(t: Translator, p: Mapping[str, Any]) -> str:
    return t(
        N_("Laporan {ref} ({type}) perlu dicek: {why}. Laporan tetap tercatat."),
        ref=p["ref"],
        type=p.get("type", ""),
        why=t(EVENT_COVERAGE_WORDS.get(str(p.get("event_coverage")), TO_MATCH)),
    )


def _missing_docs(t: Translator, p: Mapping[str, Any]) -> str:
    if p.get("for") == "facilitator":
        return t(
            N_(
                "Laporan {ref} di desa Bapak/Ibu masih kurang dokumen: {docs}. Mohon bantu "
                "warga melengkapinya."
            ),
            ref=p["ref"],
            docs=_docs(t, p.get("missing", [])),
        )
    who = _who(t, p)
    if who is not None:
        first = t(
            N_(
                "Bapak/Ibu, laporan {ref} untuk {who} masih kurang dokumen: {docs}. Silakan kirim "
                "fotonya dengan membalas pesan ini, atau minta bantuan pendamping desa."
            ),
            ref=p["ref"],
            who=who,
            docs=_docs(t, p.get("missing", [])),
        )
    else:
        first = t(
            N_(
                "Bapak/Ibu, laporan {ref} masih kurang dokumen: {docs}. Silakan kirim fotonya "
                "dengan membalas pesan ini, atau minta bantuan pendamping desa."
            ),
            ref=p["ref"],
            docs=_docs(t, p.get("missing", [])),
        )
    return first + " " + t(FREE_SHORT) + " " + t(STOP_HINT)


FUNDED = states(
    N_("Menurut data Pemkab, iuran didanai {funder} ({reference}) sampai {funded_until}."),
    "funding_in_periods",
    "pemkab_pays_contributions",
)
FUNDING_ENDING = states(
    N_(
        "Pendanaan {funder} yang tercatat berakhir {funded_until}. Setelah itu ada dua "
        "pilihan, tidak perlu diputuskan sekarang: menunggu keputusan (SK) Pemkab "
        "berikutnya, atau membayar sendiri {rate} per bulan (keringanan PP 50/2025). "
        "Tanyakan pendamping desa."
    ),
    "funding_in_periods",
    "self_pay_monthly_2026",
)
FUNDING_UNKNOWN = states(
    N_("Data Pemkab belum mencatat pendanaan bulan berikutnya; kami kabari jika ada kabar."),
    "funding_in_periods",
)


def _funding_line(t: Translator, p: Mapping[str, Any]) -> str:
    """What the data says about who pays next (DOMAIN.md §9: budget periods, no promise)."""
    kind = p.get("funding", "unknown")
    if kind == "funded" and p.get("funded_until"):
        return t(
            FUNDED,
            funder=p.get("funder") or "Pemkab Jember",
            reference=p.get("reference") or "SK",
            funded_until=_d(t, p["funded_until"]),
        )
    if kind == "ending" and p.get("funded_until"):
        return t(
            FUNDING_ENDING,
            funder=p.get("funder") or "Pemkab Jember",
            funded_until=_d(t, p["funded_until"]),
            rate=t.money(SELF_PAY_MONTHLY_2026),
        )
    return t(FUNDING_UNKNOWN)


COVERAGE_ENDING_FACILITATOR = states(
    N_(
        "{count} pekerja di wilayah Bapak/Ibu: perlindungan yang tercatat segera "
        "berakhir dan iuran bulan depan belum tercatat. Mohon sampaikan agar tidak "
        "membayar siapa pun; petugas Pemkab yang mengecek."
    ),
    "protected_while_paid",
    "service_free",
)
NEXT_DUE = states(N_("Iuran bulan berikutnya jatuh tempo {due}."), "contribution_due_day")
COVERAGE_UNTIL_WHO = states(
    N_(
        "Bapak/Ibu, menurut data Pemkab, perlindungan BPJS Ketenagakerjaan {who} "
        "tercatat sampai {until}."
    ),
    "protected_while_paid",
)
COVERAGE_UNTIL = states(
    N_(
        "Bapak/Ibu, menurut data Pemkab, perlindungan BPJS Ketenagakerjaan Bapak/Ibu "
        "tercatat sampai {until}."
    ),
    "protected_while_paid",
)


def _coverage_ending(t: Translator, p: Mapping[str, Any]) -> str:
    if p.get("for") == "facilitator":
        return t(COVERAGE_ENDING_FACILITATOR, count=t.number(int(p.get("count", 0))))
    due = ""
    if p.get("payment_due"):
        due = " " + t(NEXT_DUE, due=_d(t, p["payment_due"]))
    who = _who(t, p)
    if who is not None:
        first = t(COVERAGE_UNTIL_WHO, who=who, until=_d(t, p["until"]))
    else:
        first = t(COVERAGE_UNTIL, until=_d(t, p["until"]))
    return (
        first + due + " " + _funding_line(t, p) + " " + t(OFFICIAL_CHECK_HINT) + " " + t(STOP_HINT)
    )


# Whether unpaid months are covered is UNCONFIRMED (rules.COVERED_DURING_ARREARS_RULE):
# neither promise nor deny it; say what is known and who checks.
ARREARS_FACILITATOR = states(
    N_(
        "{count} pekerja di wilayah Bapak/Ibu: iurannya belum tercatat di data Pemkab. "
        "Petugas sedang mengecek. Mohon sampaikan agar mereka tidak membayar siapa pun, "
        "dan tetap melapor jika ada kecelakaan atau kematian."
    ),
    "covered_during_arrears",
    "contribution_due_day",
)
ARREARS_WHO = states(
    N_(
        "Bapak/Ibu, iuran BPJS Ketenagakerjaan {who} untuk {month} belum tercatat di "
        "data Pemkab. Petugas sedang mengecek. Jika ada kecelakaan atau kematian, tetap "
        "laporkan lewat pesan ini."
    ),
    "covered_during_arrears",
    "contribution_due_day",
)
ARREARS = states(
    N_(
        "Bapak/Ibu, iuran BPJS Ketenagakerjaan Bapak/Ibu untuk {month} belum tercatat "
        "di data Pemkab. Petugas sedang mengecek. Jika ada kecelakaan atau kematian, "
        "tetap laporkan lewat pesan ini."
    ),
    "covered_during_arrears",
    "contribution_due_day",
)


def _arrears(t: Translator, p: Mapping[str, Any]) -> str:
    if p.get("for") == "facilitator":
        return t(ARREARS_FACILITATOR, count=t.number(int(p.get("count", 0))))
    who = _who(t, p)
    if who is not None:
        first = t(ARREARS_WHO, who=who, month=_month(t, p["month"]))
    else:
        first = t(ARREARS, month=_month(t, p["month"]))
    return first + " " + t(FREE_HINT) + " " + t(OFFICIAL_CHECK_HINT) + " " + t(STOP_HINT)


SCHOLARSHIP_REAPPLY = states(
    N_(
        "Bapak/Ibu, beasiswa anak ({refs}) diajukan lagi setiap tahun ajaran. Untuk "
        "tahun ajaran {year}, siapkan surat keterangan sekolah dan rapor terbaru, lalu "
        "ketik MENU dan pilih Beasiswa."
    ),
    "scholarship_yearly",
)


def _scholarship(t: Translator, p: Mapping[str, Any]) -> str:
    refs = p.get("refs") or []
    return (
        t(
            SCHOLARSHIP_REAPPLY,
            refs=", ".join(str(r) for r in refs),
            year=f"{int(p['school_year'])}/{int(p['school_year']) + 1}",
        )
        + " "
        + t(STOP_HINT)
    )


_PROTECTED_RULES = (
    "protected_while_paid",
    "pemkab_pays_contributions",
    "funding_in_periods",
    "jkk_report_hours",
)
NOW_PROTECTED_WHO = states(
    N_(
        "{who} sekarang terlindungi BPJS Ketenagakerjaan (JKK dan JKM) lewat program "
        "Lingkaran Cinta, menurut data Pemkab sampai {until}. Iurannya dibayar Pemkab "
        "Jember untuk periode itu. Jika celaka saat bekerja, laporkan dalam 2×24 jam "
        "lewat pesan ini."
    ),
    *_PROTECTED_RULES,
)
NOW_PROTECTED = states(
    N_(
        "Bapak/Ibu sekarang terlindungi BPJS Ketenagakerjaan (JKK dan JKM) lewat program "
        "Lingkaran Cinta, menurut data Pemkab sampai {until}. Iurannya dibayar Pemkab "
        "Jember untuk periode itu. Jika celaka saat bekerja, laporkan dalam 2×24 jam "
        "lewat pesan ini."
    ),
    *_PROTECTED_RULES,
)


def _protected(t: Translator, p: Mapping[str, Any]) -> str:
    who = _who(t, p)
    if who is not None:
        first = t(NOW_PROTECTED_WHO, who=who, until=_d(t, p["until"]))
    else:
        first = t(NOW_PROTECTED, until=_d(t, p["until"]))
    return first + " " + t(FREE_HINT) + " " + t(STOP_HINT)


def _digest(t: Translator, p: Mapping[str, Any]) -> str:
    return t(
        N_(
            "Ringkasan minggu ini di wilayah Bapak/Ibu:\n- Warga menunggu dihubungi: {leads}\n"
            "- Pendaftaran menunggu dicek OPD: {regs}\n- Klaim berjalan: {claims}\n"
            "- Klaim menunggu dokumen: {missing}\nKetik MENU untuk melihat rinciannya."
        ),
        leads=t.number(int(p.get("new_leads", 0))),
        regs=t.number(int(p.get("registrations_waiting", 0))),
        claims=t.number(int(p.get("open_claims", 0))),
        missing=t.number(int(p.get("missing_documents", 0))),
    )


# Admin texts (the OPD's staff): the tahap I notice and its 2×24 h (DOMAIN.md §9).
NEW_JKK = states(
    N_(
        "Laporan kecelakaan kerja baru {ref} (kejadian {date}). Teruskan pemberitahuan tahap I "
        "dalam 2×24 jam, lalu catat dengan `claims notice-sent {ref}`."
    ),
    "jkk_report_hours",
    "jkk_tahap_i_content",
    "bpu_notifiers",
)
JKK_DEADLINE = states(
    N_(
        "Pemberitahuan tahap I untuk laporan JKK {ref} belum tercatat diteruskan ke BPJS "
        "Ketenagakerjaan. Batas 2×24 jam: {deadline}. Setelah meneruskan, catat dengan "
        "`claims notice-sent {ref}`."
    ),
    "jkk_report_hours",
    "jkk_deadline_alert_hours_before",
)
TAHAP_TWO_OPEN = states(
    N_(
        "Laporan JKK {ref}: dokter sudah menyatakan hasilnya, tahap II (klaim santunan) "
        "dibuka. Dokumen tahap II menyusul."
    ),
    "jkk_tahap_ii",
)
REGISTRATION_VERIFIED = states(
    N_("Pendaftaran sudah dicek dan diterima. Perlindungan mulai setelah iuran tercatat."),
    "protection_starts_after_verification",
    "protected_while_paid",
)


def _jkk_deadline(t: Translator, p: Mapping[str, Any]) -> str:
    text = t(
        JKK_DEADLINE,
        ref=p["ref"],
        deadline=_d(t, p["deadline"]),
    )
    if p.get("day_off"):
        text += " " + t(N_("Batas itu jatuh di hari libur kantor: teruskan hari ini."))
    return text


# Linking a chat to a worker (services.link).
def _render_attempt(t: Translator, p: Mapping[str, Any]) -> str:
    return t(
        N_(
            "Pemberitahuan keamanan: ada yang mencoba menghubungkan NIK Bapak/Ibu dengan chat lain "
            "({at}). Data Bapak/Ibu tidak ditampilkan tanpa bukti kedua. Jika itu bukan "
            "Bapak/Ibu, tidak perlu melakukan apa pun; jika ragu, hubungi pendamping desa."
        ),
        at=t.datetime(datetime.fromisoformat(str(p["at"]))),
    )


def _render_verified(t: Translator, p: Mapping[str, Any]) -> str:
    if p.get("name"):
        title = t(N_("Ibu")) if p.get("sex") == "P" else t(N_("Bapak"))
        return t(
            N_(
                "Pendamping desa sudah memastikan data {who}. Chat ini kini terhubung dengan data "
                "itu. Ketik MENU lalu pilih Cek kepesertaan."
            ),
            who=f"{title} {p['name']}",
        )
    return t(
        N_(
            "Pendamping desa sudah memastikan data Bapak/Ibu. Chat ini kini terhubung. Ketik MENU "
            "lalu pilih Cek kepesertaan."
        )
    )


def _render_phone_code(t: Translator, p: Mapping[str, Any]) -> str:
    return t(
        N_(
            "Kode sambung Lingkaran Cinta: {code}. Ketik kode ini hanya di chat Lingkaran Cinta "
            "yang memintanya (berlaku {minutes} menit). Jangan berikan kepada siapa pun, termasuk "
            "yang mengaku petugas. Jika Bapak/Ibu tidak memintanya, abaikan pesan ini."
        ),
        code=str(p.get("code", "")),
        minutes=int(p.get("minutes", 15)),
    )


RENDERERS: dict[str, Renderer] = {
    "claim.status_changed": _status_changed,
    "admin.new_jkk": lambda t, p: t(
        NEW_JKK,
        ref=p["ref"],
        date=_d(t, p["event_date"]),
    ),
    "admin.jkk_deadline": _jkk_deadline,
    "admin.claim_flagged": _admin_flagged,
    "claim.flagged": _flagged,
    "admin.jkk_tahap_two": lambda t, p: t(TAHAP_TWO_OPEN, ref=p["ref"]),
    "ticket.new": lambda t, p: t(
        N_("Ada pertanyaan baru dari warga ({ticket}). Ketik MENU untuk membalasnya."),
        ticket=p["ticket"],
    ),
    "admin.ticket": lambda t, p: t(
        N_("Pertanyaan {ticket} belum punya pendamping desa. Mohon dijawab."), ticket=p["ticket"]
    ),
    "admin.scam": lambda t, p: t(
        N_("Laporan penipuan atas nama program: tiket {ticket}. Mohon ditindaklanjuti."),
        ticket=p["ticket"],
    ),
    "admin.reregister": lambda t, p: t(
        N_(
            "Pendamping {facilitator} minta {name} (NIK {nik}), yang tercatat tidak aktif, "
            "didaftarkan lagi."
        ),
        facilitator=p["facilitator"],
        name=p["name"],
        nik=p["nik"],
    ),
    "ticket.reply": lambda t, p: (
        t(N_("Balasan petugas untuk pertanyaan {ticket}:"), ticket=p["ticket"])
        + "\n"
        + str(p["body"])
    ),
    "registration.verified": lambda t, p: t(REGISTRATION_VERIFIED),
    "registration.rejected": lambda t, p: t(
        N_("Pendaftaran saat ini belum bisa diterima, karena: {reason}"), reason=p["reason"]
    ),
    "worker.verified": lambda t, p: t(
        N_("Data Bapak/Ibu sudah dicek dan tercatat di program Lingkaran Cinta.")
    ),
    ATTEMPT_MSG_KEY: _render_attempt,
    VERIFIED_MSG_KEY: _render_verified,
    PHONE_CODE_MSG_KEY: _render_phone_code,
    "reminder.missing_docs": _missing_docs,
    "reminder.coverage_ending": _coverage_ending,
    "reminder.arrears": _arrears,
    "reminder.scholarship": _scholarship,
    "notice.protected": _protected,
    "digest.facilitator": _digest,
    # The admin's own words, sent as they wrote them (not translated).
    "broadcast.message": lambda t, p: str(p["text"]) + "\n\n" + t(STOP_HINT),
}


def render_text(msg_key: str, params: Mapping[str, Any], language: str | None) -> str:
    """The message text in ``language`` (Indonesian when unknown)."""
    t = translator(language or "id")
    fn = RENDERERS.get(msg_key)
    if fn is None:
        logger.warning("unknown outbox message key", extra={"msg_key": msg_key})
        return t(GENERIC)
    try:
        return fn(t, params)
    except (KeyError, TypeError, ValueError):
        logger.warning("outbox params do not fit the message", extra={"msg_key": msg_key})
        return t(GENERIC)


def render(msg_key: str, params: Mapping[str, Any], language: str | None) -> Reply:
    """An outbox row as a channel-neutral ``Reply``."""
    return Reply(text=render_text(msg_key, params, language))


def known_keys() -> frozenset[str]:
    """Every message key this module renders."""
    return frozenset(RENDERERS)
