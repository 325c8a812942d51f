"""My claims: the reports this chat may see, each with its status in plain words.

Security: the choices are recomputed from the database at every step and only offered refs are
accepted; on top of that every claim is re-checked with ``can_see_claim`` before it is shown or
withdrawn, so a forged button id or a typed reference of someone else's claim gets nothing (and
the same answer as a reference that does not exist).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from handlers import whom
from handlers.docs import can_see_claim, doc_list
from handlers.engine import Answer, Ctx, End, Flow, Goto, Invalid, Next, Option, Outcome, Step
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core import services
from lingkaran_core.claims import (
    FINAL_STATES,
    Actor,
    ClaimStatus,
    ClaimType,
    JKKStage,
    allowed_targets,
    claim_expiry,
    days_left,
    parse_claim_ref,
)
from lingkaran_core.errors import DomainError
from lingkaran_core.storage.repos import (
    Claim,
    claim_by_ref,
    claim_events,
    claims_visible_to_chat,
    received_kinds,
)

logger = logging.getLogger(__name__)

MAX_LISTED = 9  # + "Menu utama" = 10 rows, WhatsApp's list limit
MAX_HISTORY = 4

TYPE_WORDS: dict[str, str] = {
    ClaimType.JKK: N_("Kecelakaan kerja"),
    ClaimType.JKM: N_("Kematian"),
    ClaimType.BEASISWA: N_("Beasiswa"),
}
PAID_BY_BPJS = states(
    N_("Dibayar BPJS Ketenagakerjaan: {amount}, tanggal {date}{bank}."), "bpjs_decides_and_pays"
)
LATE_REPORT = states(
    N_("Dilaporkan lewat dari 2×24 jam; tetap diproses."),
    "jkk_report_hours",
    "late_report_not_forfeited",
)
CLAIM_RIGHT_UNTIL = states(
    N_("Hak klaim berlaku sampai {date} ({days} hari lagi)."), "jkk_claim_expiry_years"
)
TAHAP_II_BUTTON = states(N_("Sembuh atau cacat: tahap II"), "jkk_tahap_ii")
STATUS_WORDS: dict[str, str] = {
    ClaimStatus.DRAFT: N_("belum dikirim"),
    ClaimStatus.SUBMITTED: N_("sudah diterima, menunggu dicek petugas"),
    ClaimStatus.IN_REVIEW: N_("sedang dicek petugas"),
    ClaimStatus.DOCUMENTS_REQUESTED: N_("menunggu dokumen"),
    ClaimStatus.FORWARDED_TO_BPJS: N_("sudah diteruskan ke BPJS Ketenagakerjaan"),
    ClaimStatus.APPROVED: N_("disetujui, menunggu pembayaran"),
    ClaimStatus.PAID: states(N_("sudah dibayar"), "bpjs_decides_and_pays"),
    ClaimStatus.REJECTED: N_("belum bisa disetujui"),
    ClaimStatus.WITHDRAWN: N_("dibatalkan"),
}
MENU = Option(id="menu", label=N_("Menu utama"), aliases=("menu",))
NOT_FOUND = N_(
    "Laporan {ref} tidak ditemukan untuk nomor ini. Mohon pilih dari daftar, atau periksa lagi "
    "nomornya."
)


def type_words(ctx: Ctx, claim: Claim) -> str:
    """``Kecelakaan kerja`` / ``Kematian`` / ``Beasiswa``."""
    return ctx.t(TYPE_WORDS.get(claim.type, claim.type))


def status_words(ctx: Ctx, status: str) -> str:
    """The plain-words status of a claim."""
    return ctx.t(STATUS_WORDS.get(status, status))


async def _visible(ctx: Ctx) -> list[Claim]:
    """Claims this chat may see, newest first (re-checked one by one); on a household's phone
    only those about the person chosen (issue 22)."""
    linked = await services.linked_worker_ids(ctx.tx, ctx.chat.id)
    found = await claims_visible_to_chat(ctx.tx, ctx.chat.id, ctx.chat.worker_id)
    chosen = ctx.data.get(whom.FOR)
    if isinstance(chosen, int) and chosen in linked:
        found = [c for c in found if c.worker_id == chosen]
    return [c for c in found if await can_see_claim(ctx, c)]


async def _claim(ctx: Ctx, ref: str | None) -> Claim | None:
    """The claim with this reference, only if this chat may see it."""
    if not ref:
        return None
    claim = await claim_by_ref(ctx.tx, ref)
    if claim is None or not await can_see_claim(ctx, claim):
        if claim is not None:
            logger.warning("claim refused for chat", extra={"chat_id": ctx.chat.id})
        return None
    return claim


async def _missing(ctx: Ctx, claim: Claim) -> list[str]:
    if ClaimStatus(claim.status) in FINAL_STATES:
        return []
    return services.missing_documents(claim, await received_kinds(ctx.tx, claim.id))


def _may_withdraw(ctx: Ctx, claim: Claim) -> bool:
    """Only the chat that filed the report withdraws it, and only while the rules allow."""
    status = ClaimStatus(claim.status)
    return claim.reporter_chat_id == ctx.chat.id and ClaimStatus.WITHDRAWN in allowed_targets(
        status, actor=Actor.CLAIMANT
    )


def _local_date(ctx: Ctx, instant: str) -> date:
    return datetime.fromisoformat(instant).astimezone(ctx.engine.tz).date()


async def _summary(ctx: Ctx, claim: Claim) -> str:
    """Type, date, status (with a rejection reason), flags and a short history."""
    t = ctx.t
    events = await claim_events(ctx.tx, claim.id)
    lines = [
        t(
            N_("{ref} ({kind}, {date}): {status}."),
            ref=claim.ref,
            kind=type_words(ctx, claim).lower(),
            date=t.date(claim.event_date),
            status=status_words(ctx, claim.status),
        )
    ]
    # The staff's latest note goes with the status ("foto KTP buram, mohon kirim ulang").
    staff = next((e for e in reversed(events) if e["actor"] == Actor.ADMIN and e["note"]), None)
    if claim.status == ClaimStatus.REJECTED:
        if staff is not None and staff["to_status"] == ClaimStatus.REJECTED:
            lines.append(t(N_("Alasan: {reason}"), reason=staff["note"]))
        lines.append(
            t(N_('Jika ada pertanyaan, pilih "Tanya petugas" atau tanya pendamping desa.'))
        )
    elif staff is not None:
        lines.append(
            t(
                N_("Catatan petugas ({date}): {note}"),
                date=t.date(_local_date(ctx, staff["at"])),
                note=staff["note"],
            )
        )
    paid = claim.answers.get("benefit_paid")
    if claim.status == ClaimStatus.PAID and isinstance(paid, int):
        paid_on = claim.answers.get("paid_on")
        lines.append(
            t(
                PAID_BY_BPJS,
                amount=t.money(paid),
                date=t.date(date.fromisoformat(paid_on)) if isinstance(paid_on, str) else "-",
                bank=", " + str(claim.answers["paid_bank"])
                if claim.answers.get("paid_bank")
                else "",
            )
        )
    if claim.type == ClaimType.JKK:
        if claim.late_report:
            lines.append(t(LATE_REPORT))
        expiry = claim_expiry(ClaimType.JKK, claim.event_date)
        if expiry is not None and ClaimStatus(claim.status) not in FINAL_STATES:
            lines.append(
                t(
                    CLAIM_RIGHT_UNTIL,
                    date=t.date(expiry),
                    days=t.number(max(days_left(expiry, ctx.today), 0)),
                )
            )
    history = [e for e in events if e["to_status"] != ClaimStatus.DRAFT][-MAX_HISTORY:]
    if history:
        lines.append(t(N_("Riwayat:")))
        lines += [
            f"- {t.date(_local_date(ctx, e['at']))}: {status_words(ctx, e['to_status'])}"
            for e in history
        ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Steps


async def _open(ctx: Ctx, claim: Claim) -> Outcome:
    """Show a claim: its summary first, then the detail step's question and options."""
    ctx.data["ref"] = claim.ref
    return Next("detail", (await _summary(ctx, claim),))


async def _on_start(ctx: Ctx) -> Outcome | None:
    asked = await _claim(ctx, ctx.data.get("ref"))
    if asked is not None:
        return await _open(ctx, asked)  # e.g. after "batal" in the documents flow
    if await _visible(ctx):
        picked = await whom.subject(ctx, "my_claims", extras=("all",))
        if isinstance(picked, Goto):
            return picked
    claims = await _visible(ctx)
    if not claims:
        text = ctx.t(N_("Belum ada laporan dari nomor ini."))
        if ctx.chat.worker_id is None:
            text += "\n" + ctx.t(
                N_(
                    "Jika laporan dibuat dari nomor lain, hubungkan dulu nomor ini dengan data "
                    'Bapak/Ibu lewat "Cek kepesertaan".'
                )
            )
        return End((text,))
    if len(claims) == 1:
        return await _open(ctx, claims[0])
    return None


async def _list_prompt(ctx: Ctx) -> str:
    return ctx.t(N_("Pilih laporan untuk melihat kabarnya, atau ketik nomor laporannya (LC-...)."))


async def _list_choices(ctx: Ctx) -> list[Option]:
    options = [
        Option(
            id="c:" + c.ref,
            label=c.ref,
            description=f"{type_words(ctx, c)}, {ctx.t.date(c.event_date)}",
            translate=False,
        )
        for c in (await _visible(ctx))[:MAX_LISTED]
    ]
    options.append(MENU)
    return options


async def _list_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return answer.option.id
    ref = parse_claim_ref(answer.text or "")
    if ref is None:
        raise Invalid(
            N_(
                "Mohon pilih laporan dari daftar, atau ketik nomor laporannya, misalnya "
                "LC-2026-000123."
            )
        )
    return "c:" + ref


async def _list_next(ctx: Ctx, value: str) -> Outcome:
    if value == "menu":
        return End()
    ref = value.removeprefix("c:")
    claim = await _claim(ctx, ref)
    if claim is None:
        raise Invalid(NOT_FOUND, ref=ref)
    return await _open(ctx, claim)


async def _detail_prompt(ctx: Ctx) -> str:
    claim = await _claim(ctx, ctx.data.get("ref"))
    if claim is None:
        return ctx.t(N_("Laporan itu tidak ditemukan."))
    missing = await _missing(ctx, claim)
    if missing:
        return (
            ctx.t(N_("Masih kurang {n} dokumen:"), n=len(missing))
            + "\n"
            + doc_list(ctx, missing)
            + "\n"
            + ctx.t(N_("Kirim fotonya sekarang?"))
        )
    if ClaimStatus(claim.status) in FINAL_STATES:
        return ctx.t(N_("Ada lagi yang bisa kami bantu?"))
    return ctx.t(N_("Dokumen sudah lengkap. Ada lagi yang bisa kami bantu?"))


async def _detail_choices(ctx: Ctx) -> list[Option]:
    claim = await _claim(ctx, ctx.data.get("ref"))
    if claim is None:
        return [MENU]
    options: list[Option] = []
    if await _missing(ctx, claim):
        options.append(Option(id="docs", label=N_("Kirim dokumen"), aliases=("kirim", "foto")))
    open_claim = ClaimStatus(claim.status) not in FINAL_STATES
    if open_claim and await received_kinds(ctx.tx, claim.id):
        options.append(
            Option(id="replace", label=N_("Ganti dokumen"), aliases=("ganti", "kirim ulang"))
        )
    if (
        open_claim
        and claim.type == ClaimType.JKK
        and (services.jkk_stage(claim) is JKKStage.NOTICE)
    ):
        options.append(
            Option(
                id="tahap2",
                label=N_("Dokter sudah menyatakan"),
                description=TAHAP_II_BUTTON,
                aliases=("dokter", "sembuh", "tahap 2", "tahap ii"),
            )
        )
    if _may_withdraw(ctx, claim):
        options.append(Option(id="withdraw", label=N_("Tarik laporan"), aliases=("tarik",)))
    options.append(Option(id="human", label=N_("Tanya petugas"), aliases=("petugas", "tanya")))
    if len(await _visible(ctx)) > 1:
        options.append(Option(id="list", label=N_("Laporan lain"), aliases=("lain",)))
    options.append(MENU)
    return options


async def _detail_next(ctx: Ctx, value: str) -> Outcome:
    claim = await _claim(ctx, ctx.data.get("ref"))
    if value == "menu" or claim is None:
        return End()
    if value == "docs":
        return Goto("docs", data={"ref": claim.ref})
    if value == "replace":
        return Goto("docs", data={"ref": claim.ref, "mode": "replace"})
    if value == "tahap2":
        return "doctor"
    if value == "withdraw":
        return "confirm_withdraw"
    if value == "human":
        return Goto("human")
    return "list"


async def _confirm_prompt(ctx: Ctx) -> str:
    return ctx.t(
        N_(
            "Tarik laporan {ref}? Laporan ini dibatalkan dan tidak diproses lagi. Jika perlu, "
            "Bapak/Ibu bisa melapor lagi nanti."
        ),
        ref=ctx.data.get("ref", ""),
    )


async def _confirm_next(ctx: Ctx, value: str) -> Outcome:
    claim = await _claim(ctx, ctx.data.get("ref"))
    if claim is None:
        return End((ctx.t(N_("Laporan itu tidak ditemukan.")),))
    if value != "yes":
        return await _open(ctx, claim)
    if not _may_withdraw(ctx, claim):
        # The status changed since the question (e.g. staff picked it up): nothing happens.
        return Next(
            "detail",
            (
                ctx.t(
                    N_("Laporan {ref} sudah {status}, jadi tidak bisa ditarik lagi."),
                    ref=claim.ref,
                    status=status_words(ctx, claim.status),
                ),
            ),
        )
    try:
        await services.transition_claim(
            ctx.tx,
            claim.ref,
            ClaimStatus.WITHDRAWN,
            actor=Actor.CLAIMANT,
            now=ctx.now,
            actor_ref=str(ctx.chat.id),
            channel=ctx.chat.channel,
            note="ditarik oleh pelapor",
        )
    except DomainError:
        logger.warning("withdraw refused", extra={"chat_id": ctx.chat.id})
        return End((ctx.t(N_("Laporan {ref} tidak bisa ditarik."), ref=claim.ref),))
    return End(
        (
            ctx.t(
                N_(
                    "Laporan {ref} sudah ditarik dan tidak diproses lagi. Jika perlu, Bapak/Ibu "
                    "bisa melapor lagi kapan saja."
                ),
                ref=claim.ref,
            ),
        )
    )


TAHAP_II_OPEN = states(
    N_(
        "Tahap II (klaim santunan) untuk {ref} dibuka. Mohon kirim dokumennya dalam 2×24 jam "
        "sejak dokter menyatakan; terlambat pun tetap kirim."
    ),
    "jkk_tahap_ii",
)
PAID_SELF = states(
    N_(
        "Apakah biaya berobat atau angkutan dibayar sendiri? Kuitansi hanya perlu jika rumah sakit "
        "bukan mitra BPJS Ketenagakerjaan (Bapak/Ibu membayar)."
    ),
    "receipts_only_off_partner",
)


async def _doctor_next(ctx: Ctx, value: str) -> Outcome:
    if value == "not_yet":
        claim = await _claim(ctx, ctx.data.get("ref"))
        text = ctx.t(
            N_(
                "Baik. Surat dokter, kuitansi dan buku tabungan belum perlu. Jika dokter sudah "
                'menyatakan sembuh atau cacat, buka lagi "Klaim saya".'
            )
        )
        return End((text,)) if claim is None else Next("detail", (text,))
    ctx.data["doctor"] = value
    return "paid_self"


async def _paid_self_next(ctx: Ctx, value: str) -> Outcome:
    claim = await _claim(ctx, ctx.data.get("ref"))
    if claim is None:
        return End((ctx.t(N_("Laporan itu tidak ditemukan.")),))
    try:
        opened = await services.open_tahap_two(
            ctx.tx,
            claim.ref,
            outcome=services.DoctorOutcome(ctx.data.get("doctor", "recovered")),
            self_paid=value == "yes",
            now=ctx.now,
            chat_id=ctx.chat.id,
            channel=ctx.chat.channel,
        )
    except DomainError:
        logger.warning("tahap II refused", extra={"chat_id": ctx.chat.id})
        return End((ctx.t(N_("Laporan {ref} tidak bisa diubah lagi."), ref=claim.ref),))
    missing = await _missing(ctx, opened)
    text = ctx.t(TAHAP_II_OPEN, ref=opened.ref)
    if missing:
        text += (
            "\n"
            + ctx.t(N_("Masih kurang {n} dokumen:"), n=len(missing))
            + "\n"
            + doc_list(ctx, missing)
        )
    return Goto("docs", data={"ref": opened.ref}, before=(text,))


async def _on_cancel(ctx: Ctx) -> Outcome | None:
    return End((ctx.t(N_("Baik. Laporan tidak berubah.")),))


MY_CLAIMS = Flow(
    name="my_claims",
    on_start=_on_start,
    on_cancel=_on_cancel,
    steps=(
        Step(
            name="list",
            prompt=_list_prompt,
            choices=_list_choices,
            free_text=True,
            parse=_list_parse,
            next=_list_next,
            max_len=60,
        ),
        Step(name="detail", prompt=_detail_prompt, choices=_detail_choices, next=_detail_next),
        Step(
            name="confirm_withdraw",
            prompt=_confirm_prompt,
            choices=(
                Option(id="yes", label=N_("Ya, tarik"), aliases=("ya", "iya", "tarik")),
                Option(id="no", label=N_("Tidak"), aliases=("tidak", "jangan", "batal tarik")),
            ),
            next=_confirm_next,
        ),
        Step(
            name="doctor",
            prompt=N_("Apa yang dinyatakan dokter?"),
            choices=(
                Option(id="recovered", label=N_("Sudah sembuh"), aliases=("sembuh", "pulih")),
                Option(id="disabled", label=N_("Cacat"), aliases=("cacat",)),
                Option(id="not_yet", label=N_("Belum"), aliases=("belum", "masih dirawat")),
            ),
            next=_doctor_next,
        ),
        Step(
            name="paid_self",
            prompt=PAID_SELF,
            choices=(
                Option(id="yes", label=N_("Ya, ada kuitansi"), aliases=("ya", "iya", "bayar")),
                Option(id="no", label=N_("Tidak"), aliases=("tidak", "gratis", "mitra")),
            ),
            next=_paid_self_next,
        ),
    ),
)

__all__ = ["MY_CLAIMS", "status_words", "type_words"]
