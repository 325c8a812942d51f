"""Sending claim documents: one photo or file at a time, for the document the user picked.

Used right after a report is submitted, from "My claims", and by facilitators for the claims of
their desa. Every step re-checks that this chat may see the claim.
"""

from __future__ import annotations

import logging

from handlers.engine import Answer, Ctx, End, Flow, Invalid, Option, Outcome, Reply, Stay, Step
from handlers.i18n import N_
from lingkaran_core import services
from lingkaran_core.claims import FINAL_STATES, ClaimStatus
from lingkaran_core.errors import DomainError, NotAuthorised
from lingkaran_core.services import Facilitator
from lingkaran_core.storage.repos import Claim, claim_by_ref, received_kinds

logger = logging.getLogger(__name__)

DOC_LABELS: dict[str, str] = {
    "kartu_peserta": N_("Kartu peserta BPJS TK"),
    "ktp_participant": N_("KTP peserta"),
    "kronologi_saksi": N_("Cerita kejadian + KTP 2 saksi"),
    "laporan_polisi": N_("Surat keterangan polisi"),
    "formulir_kk1": N_("Formulir laporan tahap I"),
    "formulir_kk2": N_("Formulir laporan tahap II"),
    "surat_dokter": N_("Surat keterangan dokter"),
    "kuitansi": N_("Kuitansi berobat/angkutan"),
    "buku_tabungan": N_("Buku tabungan"),
    "npwp": N_("NPWP"),
    "akta_kematian": N_("Akta kematian"),
    "ktp_heir": N_("KTP ahli waris"),
    "kartu_keluarga": N_("Kartu Keluarga (KK)"),
    "surat_ahli_waris": N_("Surat keterangan ahli waris"),
    "buku_nikah": N_("Buku nikah"),
    "akta_kelahiran_anak": N_("Akta kelahiran anak"),
    "formulir_beasiswa": N_("Formulir beasiswa"),
    "surat_sekolah": N_("Surat keterangan sekolah"),
    "rapor": N_("Rapor / transkrip"),
    "rekening": N_("Buku rekening anak/wali"),
    "ktp_wali": N_("KTP wali"),
}
DOC_ERRORS: dict[str, str] = {
    "document.too_large": N_(
        "Berkas terlalu besar (paling besar {max_mb} MB). Mohon kirim foto biasa."
    ),
    "document.bad_type": N_(
        "Jenis berkas itu tidak bisa kami terima. Mohon kirim foto (JPG/PNG) atau PDF."
    ),
    "document.claim_closed": N_("Laporan {ref} sudah selesai, jadi dokumen tidak bisa ditambah."),
}


def doc_label(ctx: Ctx, kind: str) -> str:
    """The translated name of a document kind."""
    return ctx.t(DOC_LABELS.get(kind, kind))


def doc_list(ctx: Ctx, kinds: list[str]) -> str:
    """``1. KTP peserta\n2. ...``."""
    return "\n".join(f"{i}. {doc_label(ctx, k)}" for i, k in enumerate(kinds, 1))


async def _own_claim(ctx: Ctx, claim: Claim) -> bool:
    """Filed by this chat (since its link last expired: recycled numbers), or about the
    (verified) worker linked to it."""
    if claim.reporter_chat_id == ctx.chat.id and await services.filed_by_this_owner(
        ctx.tx, chat_id=ctx.chat.id, reported_at=claim.reported_at
    ):
        return True
    return ctx.chat.worker_id is not None and claim.worker_id == ctx.chat.worker_id


async def _acting_facilitator(ctx: Ctx, claim: Claim) -> Facilitator | None:
    """The active facilitator sending for a claim that is not the chat's own."""
    if await _own_claim(ctx, claim) or ctx.role != "facilitator" or ctx.chat.facilitator_id is None:
        return None
    return await services.active_facilitator(ctx.tx, ctx.chat.facilitator_id, ctx.chat.id)


async def can_see_claim(ctx: Ctx, claim: Claim) -> bool:
    """The reporter chat, the linked worker it is about, or a facilitator of its desa."""
    if await _own_claim(ctx, claim):
        return True
    f = await _acting_facilitator(ctx, claim)
    return f is not None and services.in_scope(f, await services.claim_desa(ctx.tx, claim))


async def _claim(ctx: Ctx) -> Claim | None:
    ref = ctx.data.get("ref")
    if not ref:
        return None
    claim = await claim_by_ref(ctx.tx, ref)
    if claim is None or not await can_see_claim(ctx, claim):
        logger.warning("document flow refused for claim", extra={"chat_id": ctx.chat.id})
        return None
    return claim


async def _missing(ctx: Ctx, claim: Claim) -> list[str]:
    return services.missing_documents(claim, await received_kinds(ctx.tx, claim.id))


async def _on_start(ctx: Ctx) -> Outcome | None:
    claim = await _claim(ctx)
    if claim is None:
        return End((ctx.t(N_("Laporan itu tidak ditemukan.")),))
    if ClaimStatus(claim.status) in FINAL_STATES:
        return End(
            (
                ctx.t(
                    N_("Laporan {ref} sudah selesai, jadi dokumen tidak bisa ditambah."),
                    ref=claim.ref,
                ),
            )
        )
    missing = await _missing(ctx, claim)
    if not missing:
        return End(
            (
                ctx.t(
                    N_("Semua dokumen untuk {ref} sudah kami terima. Terima kasih."), ref=claim.ref
                ),
            )
        )
    if ctx.data.get("kind") not in missing:
        # Ask for the first missing document straight away: one tap less for the user.
        ctx.data["kind"] = missing[0]
    return "upload"


async def _pick_prompt(ctx: Ctx) -> str:
    return ctx.t(N_("Dokumen mana yang akan difoto?"))


async def _pick_choices(ctx: Ctx) -> list[Option]:
    claim = await _claim(ctx)
    if claim is None:
        return []
    options = [Option(id="k:" + k, label=DOC_LABELS.get(k, k)) for k in await _missing(ctx, claim)]
    options.append(Option(id="later", label=N_("Nanti saja"), aliases=("nanti", "besok")))
    return options[:10]


async def _pick_next(ctx: Ctx, value: str) -> Outcome:
    if value == "later":
        return End((_later_text(ctx),))
    ctx.data["kind"] = value.removeprefix("k:")
    return "upload"


def _later_text(ctx: Ctx) -> str:
    if ctx.role == "facilitator":
        # The facilitator's own menu, not the worker's "Klaim saya".
        return ctx.t(N_('Baik. Kirim kapan saja lewat menu pendamping "Klaim desa".'))
    return ctx.t(
        N_('Baik. Kirim kapan saja lewat menu "Klaim saya", atau minta bantuan pendamping desa.')
    )


async def _upload_prompt(ctx: Ctx) -> Reply:
    kind = str(ctx.data.get("kind", ""))
    hint = {
        "buku_tabungan": N_("Halaman depan buku tabungan: nama dan nomor rekening harus terlihat."),
        "kronologi_saksi": N_(
            "Tulis cerita kejadian di kertas, tanda tangan 2 saksi, foto bersama KTP saksi."
        ),
    }.get(kind)
    text = ctx.t(N_("Silakan kirim foto {doc}."), doc=doc_label(ctx, kind))
    if hint:
        text += "\n" + ctx.t(hint)
    return Reply(text=text)


async def _upload_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return answer.option.id
    if answer.media is None:
        raise Invalid(
            N_(
                "Terima kasih. Kami tetap perlu fotonya, karena petugas harus melihat dokumen "
                'aslinya. Silakan kirim foto, atau pilih "Nanti saja".'
            )
        )
    claim = await _claim(ctx)
    if claim is None:
        raise Invalid(N_("Laporan itu tidak ditemukan."))
    try:
        stored = await services.add_document(
            ctx.tx,
            claim,
            kind=str(ctx.data["kind"]),
            data=answer.media.data,
            mime=answer.media.mime,
            chat_id=ctx.chat.id,
            files_dir=ctx.db.files_dir,
            now=ctx.now,
            channel=ctx.chat.channel,
            facilitator=await _acting_facilitator(ctx, claim),
        )
    except NotAuthorised:
        raise Invalid(N_("Laporan itu tidak ditemukan.")) from None
    except DomainError as err:
        msgid = DOC_ERRORS.get(err.code)
        if msgid is None:
            raise
        raise Invalid(msgid, **err.params) from err
    if stored.duplicate:
        raise Invalid(
            N_("Foto ini sama dengan yang sudah dikirim sebelumnya. Mohon foto dokumen {doc}."),
            doc=doc_label(ctx, stored.kind),
        )
    ctx.data["received"] = doc_label(ctx, stored.kind)
    ctx.data["missing"] = stored.missing
    return "stored"


async def _upload_next(ctx: Ctx, value: str) -> Outcome:
    if value == "later":
        return End((_later_text(ctx),))
    if value == "other":
        ctx.data.pop("kind", None)
        return "pick"
    missing: list[str] = ctx.data.get("missing") or []
    received = ctx.t(N_("{doc} diterima."), doc=ctx.data.get("received", ""))
    if not missing:
        return End((received + " " + ctx.t(N_("Semua dokumen sudah lengkap. Terima kasih.")),))
    left = ctx.t(N_("Kurang {n} dokumen:"), n=len(missing)) + "\n" + doc_list(ctx, missing)
    ctx.data["kind"] = missing[0]
    return Stay((received + " " + left,))


DOCS = Flow(
    name="docs",
    on_start=_on_start,
    steps=(
        Step(name="pick", prompt=_pick_prompt, choices=_pick_choices, next=_pick_next),
        Step(
            name="upload",
            prompt=_upload_prompt,
            choices=(
                Option(id="later", label=N_("Nanti saja"), aliases=("nanti", "besok")),
                Option(id="other", label=N_("Dokumen lain"), aliases=("lain",)),
            ),
            free_text=True,
            accepts_media=True,
            parse=_upload_parse,
            next=_upload_next,
            request="photo",
        ),
    ),
)
