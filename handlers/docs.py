"""Sending claim documents: one photo or file at a time, for the document the user picked.

Used right after a report is submitted, from "My claims", and by facilitators for the claims of
their desa. Every step re-checks that this chat may see the claim. A document already received
can be replaced (a blurred photo staff sent back); more documents than a list holds are paged
("Lainnya"), and any missing document can also be picked by typing its name. "batal" here does
not undo the report: it stays sent, and withdrawing it is offered instead.
"""

from __future__ import annotations

import logging

from handlers.common import honorific
from handlers.engine import (
    Answer,
    Ctx,
    End,
    Flow,
    Goto,
    Invalid,
    Option,
    Outcome,
    Reply,
    Stay,
    Step,
    normalise,
)
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
    "laporan_polisi": N_("Surat polisi / Jasa Raharja"),
    "formulir_kk1": N_("Formulir laporan tahap I"),
    "formulir_kk2": N_("Formulir laporan tahap II"),
    "surat_dokter": N_("Surat dokter (KK3/3b)"),
    "kuitansi": N_("Kuitansi (jika bayar sendiri)"),
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
    """Filed by this chat (since its link last expired: recycled numbers), or about a
    (verified) worker linked to it."""
    if claim.reporter_chat_id == ctx.chat.id and await services.filed_by_this_owner(
        ctx.tx, chat_id=ctx.chat.id, reported_at=claim.reported_at
    ):
        return True
    if claim.worker_id is None or ctx.chat.worker_id is None:
        return False
    # A household's phone sees the claims about every person linked to it (issue 22).
    return claim.worker_id in await services.linked_worker_ids(ctx.tx, ctx.chat.id)


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


async def _received(ctx: Ctx, claim: Claim) -> list[str]:
    """Checklist documents received (in checklist order): the ones that can be replaced."""
    have = set(await received_kinds(ctx.tx, claim.id))
    return [k for k in claim.checklist if k in have]


async def _on_start(ctx: Ctx) -> Outcome | None:
    claim = await _claim(ctx)
    if claim is None:
        return End((ctx.t(N_("Laporan itu tidak ditemukan.")),))
    if ctx.data.get("mode") == "replace" and ClaimStatus(claim.status) not in FINAL_STATES:
        return "replace"
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


MAX_CHOICES = 10  # WhatsApp's list holds 10 rows
LATER = Option(id="later", label=N_("Nanti saja"), aliases=("nanti", "besok"))
MORE = Option(id="more", label=N_("Lainnya"), aliases=("lainnya", "berikutnya", "lagi"))
REPLACE = Option(
    id="replace",
    label=N_("Ganti dokumen terkirim"),
    description=N_("Foto buram atau salah"),
    aliases=("ganti", "ganti dokumen", "kirim ulang"),
)


def _page(kinds: list[str], page: int, extras: int) -> tuple[list[str], bool]:
    """The kinds shown on ``page`` (wrapping round) and whether "Lainnya" is needed."""
    if len(kinds) + extras <= MAX_CHOICES:
        return kinds, False
    size = MAX_CHOICES - extras - 1
    pages = -(-len(kinds) // size)
    start = (page % pages) * size
    return kinds[start : start + size], True


def _doc_options(kinds: list[str]) -> list[Option]:
    return [Option(id="k:" + k, label=DOC_LABELS.get(k, k)) for k in kinds]


def _by_name(ctx: Ctx, kinds: list[str], text: str) -> str | None:
    """The one document of ``kinds`` whose name the user typed (whole or its start)."""
    typed = normalise(text)
    if len(typed) < 3:
        return None
    found = [
        k
        for k in kinds
        if normalise(doc_label(ctx, k)).startswith(typed)
        or typed in normalise(doc_label(ctx, k)).split(" / ")
        or normalise(doc_label(ctx, k)) == typed
        or typed == normalise(k.replace("_", " "))
    ]
    if len(found) != 1:
        found = [k for k in kinds if typed in normalise(doc_label(ctx, k))]
    return found[0] if len(found) == 1 else None


async def _pick_prompt(ctx: Ctx) -> str:
    if ctx.data.get("page"):
        return ctx.t(N_("Dokumen lainnya. Pilih, atau ketik nama dokumennya:"))
    return ctx.t(N_("Dokumen mana yang akan difoto? Pilih, atau ketik nama dokumennya."))


async def _pick_choices(ctx: Ctx) -> list[Option]:
    claim = await _claim(ctx)
    if claim is None:
        return []
    extras = [LATER]
    if await _received(ctx, claim):
        extras.insert(0, REPLACE)
    shown, more = _page(await _missing(ctx, claim), int(ctx.data.get("page", 0)), len(extras))
    return [*_doc_options(shown), *([MORE] if more else []), *extras]


async def _pick_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return answer.option.id
    claim = await _claim(ctx)
    if claim is None:
        raise Invalid(N_("Laporan itu tidak ditemukan."))
    if answer.media is not None:
        raise Invalid(N_("Mohon pilih dulu dokumen mana yang ada di foto itu, lalu kirim lagi."))
    kind = _by_name(ctx, await _missing(ctx, claim), answer.text or "")
    if kind is None:
        raise Invalid(
            N_(
                "Dokumen itu tidak ada di daftar yang kurang. Mohon pilih dari daftar, atau ketik namanya."
            )
        )
    return "k:" + kind


async def _pick_next(ctx: Ctx, value: str) -> Outcome:
    if value == "later":
        return End((_later_text(ctx),))
    if value == "more":
        ctx.data["page"] = int(ctx.data.get("page", 0)) + 1
        return Stay(())
    if value == "replace":
        ctx.data.pop("page", None)
        return "replace"
    ctx.data.pop("page", None)
    ctx.data.pop("replace", None)
    ctx.data["kind"] = value.removeprefix("k:")
    return "upload"


async def _replace_prompt(ctx: Ctx) -> str:
    return ctx.t(N_("Dokumen mana yang ingin diganti? Foto baru akan menggantikan yang lama."))


async def _replace_choices(ctx: Ctx) -> list[Option]:
    claim = await _claim(ctx)
    if claim is None:
        return []
    extras = [LATER]
    shown, more = _page(await _received(ctx, claim), int(ctx.data.get("page", 0)), len(extras))
    return [*_doc_options(shown), *([MORE] if more else []), *extras]


async def _replace_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return answer.option.id
    claim = await _claim(ctx)
    if claim is None:
        raise Invalid(N_("Laporan itu tidak ditemukan."))
    kind = _by_name(ctx, await _received(ctx, claim), answer.text or "")
    if kind is None:
        raise Invalid(N_("Mohon pilih dokumen yang ingin diganti dari daftar."))
    return "k:" + kind


async def _replace_next(ctx: Ctx, value: str) -> Outcome:
    if value == "later":
        return End((_later_text(ctx),))
    if value == "more":
        ctx.data["page"] = int(ctx.data.get("page", 0)) + 1
        return Stay(())
    ctx.data.pop("page", None)
    ctx.data["kind"] = value.removeprefix("k:")
    ctx.data["replace"] = True
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
    whose = await _whose(ctx)
    if whose:
        text = whose + "\n" + text
    return Reply(text=text)


async def _whose(ctx: Ctx) -> str | None:
    """On a household's phone: which person's report the documents are for (issue 22)."""
    claim = await _claim(ctx)
    if claim is None or claim.worker_id is None or ctx.role == "facilitator":
        return None
    linked = await services.linked_workers(ctx.tx, ctx.chat.id)
    person = next((w for w in linked if w.id == claim.worker_id), None)
    if person is None or len(linked) < 2:
        return None
    return ctx.t(N_("Laporan {ref} untuk {who}."), ref=claim.ref, who=honorific(ctx, person))


async def _upload_parse(ctx: Ctx, answer: Answer) -> str:
    if answer.option is not None:
        return answer.option.id
    if answer.media is None and answer.text:
        # A document's name typed here switches to it ("buku tabungan dulu").
        claim = await _claim(ctx)
        kind = None if claim is None else _by_name(ctx, await _missing(ctx, claim), answer.text)
        if kind is not None and not ctx.data.get("replace"):
            return "k:" + kind
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
            replaces=bool(ctx.data.get("replace")),
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
    ctx.data["replaced"] = bool(ctx.data.pop("replace", None))
    return "stored"


async def _upload_next(ctx: Ctx, value: str) -> Outcome:
    if value == "later":
        return End((_later_text(ctx),))
    if value == "other":
        ctx.data.pop("kind", None)
        ctx.data.pop("replace", None)
        return "pick"
    if value.startswith("k:"):
        ctx.data["kind"] = value.removeprefix("k:")
        return Stay(())
    missing: list[str] = ctx.data.get("missing") or []
    word = N_("{doc} diterima, menggantikan yang lama.") if ctx.data.get("replaced") else None
    received = ctx.t(word or N_("{doc} diterima."), doc=ctx.data.get("received", ""))
    if not missing:
        from handlers.claim_advice import ALL_DOCS_IN, next_after_documents  # (imports docs)

        claim = await _claim(ctx)
        after = "" if claim is None else " " + next_after_documents(ctx, claim)
        return End((received + " " + ctx.t(ALL_DOCS_IN) + after,))
    left = ctx.t(N_("Kurang {n} dokumen:"), n=len(missing)) + "\n" + doc_list(ctx, missing)
    ctx.data["kind"] = missing[0]
    return Stay((received + " " + left,))


async def _on_cancel(ctx: Ctx) -> Outcome | None:
    """After a report was sent, "batal" cannot unsend it: say so and offer the withdrawal."""
    claim = await _claim(ctx)
    if claim is None or ClaimStatus(claim.status) in FINAL_STATES:
        return None
    return Goto(
        "my_claims",
        data={"ref": claim.ref},
        before=(
            ctx.t(
                N_(
                    'Laporan {ref} sudah terkirim dan tetap tersimpan: "batal" tidak menghapusnya. '
                    'Dokumen bisa dikirim nanti lewat "Klaim saya". Jika laporan ini keliru, pilih '
                    '"Tarik laporan".'
                ),
                ref=claim.ref,
            ),
        ),
    )


DOCS = Flow(
    name="docs",
    on_start=_on_start,
    on_cancel=_on_cancel,
    steps=(
        Step(
            name="pick",
            prompt=_pick_prompt,
            choices=_pick_choices,
            free_text=True,
            parse=_pick_parse,
            next=_pick_next,
            accepts_media=True,
            max_len=80,
        ),
        Step(
            name="replace",
            prompt=_replace_prompt,
            choices=_replace_choices,
            free_text=True,
            parse=_replace_parse,
            next=_replace_next,
            accepts_media=True,
            max_len=80,
        ),
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
