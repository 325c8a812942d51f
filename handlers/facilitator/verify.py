"""Confirm a worker's identity in person: the worker's chat shows a code, the facilitator checks
the KTP and binds that chat to the worker (link factor d). Scope checked by the service, audited.

The chat may be a household's phone already linked to others (issue 22): the person in front of
the facilitator is added to it, up to the chat's limit of links.
"""

from __future__ import annotations

from handlers.common import YES_NO, honorific, masked
from handlers.engine import Answer, Ctx, End, Flow, Invalid, Outcome, Step
from handlers.facilitator.common import ROLES, audit, current_facilitator, no_access
from handlers.i18n import N_
from handlers.sources import states
from lingkaran_core import services
from lingkaran_core.errors import Conflict, NotAuthorised, NotFound

# One phone, a whole household: at most rules.MAX_LINKS_PER_CHAT links (POLICY, issue 22).
PHONE_FULL = states(
    N_(
        "HP itu sudah terhubung dengan {max} orang, batas paling banyak. Minta "
        'pekerja melepaskan salah satu dulu lewat "Pengaturan".'
    ),
    "max_links_per_chat",
)


async def _start(ctx: Ctx) -> Outcome | None:
    if await current_facilitator(ctx) is None:
        return await no_access(ctx)
    return None


async def _code_parse(ctx: Ctx, answer: Answer) -> str:
    digits = "".join(ch for ch in (answer.text or "") if ch.isdigit())
    if len(digits) != 6:
        raise Invalid(N_("Kode verifikasi 6 angka, tampil di HP pekerja. Mohon ketik lagi."))
    f = await current_facilitator(ctx)
    if f is None:
        raise Invalid(N_("Maaf, menu itu hanya untuk pendamping yang masih aktif."))
    try:
        pending = await services.pending_for_desk(ctx.tx, facilitator=f, code=digits, now=ctx.now)
    except NotFound:
        await audit(ctx, "link.desk_code_unknown")  # many of these: someone is guessing
        raise Invalid(
            N_("Kode itu tidak ada atau sudah kedaluwarsa. Minta pekerja membuat kode baru.")
        ) from None
    except NotAuthorised:
        await audit(ctx, "link.desk_refused")
        raise Invalid(N_("Kode itu untuk pekerja di luar wilayah Bapak/Ibu.")) from None
    ctx.data["worker_id"] = pending.worker.id
    ctx.data["who"] = honorific(ctx, pending.worker)
    ctx.data["nik"] = masked(pending.worker.nik)
    ctx.data["born"] = pending.worker.birth_date.isoformat()
    ctx.data["others"] = len(
        [
            w
            for w in await services.linked_worker_ids(ctx.tx, pending.chat_id)
            if w != pending.worker.id
        ]
    )
    return digits


async def _confirm_prompt(ctx: Ctx) -> str:
    from datetime import date

    text = ctx.t(
        N_(
            "Cocokkan dengan KTP yang ditunjukkan: {who}, NIK {nik}, lahir {born}. Apakah orang "
            "di depan Bapak/Ibu benar pemilik KTP itu? Chat di HP-nya akan terhubung dengan data "
            "ini."
        ),
        who=ctx.data["who"],
        nik=ctx.data["nik"],
        born=ctx.t.date(date.fromisoformat(ctx.data["born"])),
    )
    if ctx.data.get("others"):
        text += "\n" + ctx.t(
            N_(
                "HP itu sudah terhubung dengan data {n} orang lain (satu keluarga); data ini "
                "ditambahkan, yang lain tetap."
            ),
            n=ctx.data["others"],
        )
    return text


async def _confirm_next(ctx: Ctx, value: str) -> Outcome:
    if value != "yes":
        return End((ctx.t(N_("Baik, tidak ada yang dihubungkan.")),))
    f = await current_facilitator(ctx)
    if f is None:
        return await no_access(ctx)
    try:
        await services.confirm_by_facilitator(
            ctx.tx,
            facilitator=f,
            code=ctx.data["code"],
            worker_id=int(ctx.data["worker_id"]),
            now=ctx.now,
            channel=ctx.chat.channel,
            max_links=ctx.engine.max_links_per_chat,
        )
    except Conflict:
        return End((ctx.t(PHONE_FULL, max=ctx.engine.max_links_per_chat),))
    except (NotFound, NotAuthorised):
        return End((ctx.t(N_("Kode itu sudah tidak berlaku. Minta pekerja membuat kode baru.")),))
    return End(
        (
            ctx.t(
                N_("Terima kasih. Chat {who} sudah terhubung dan kami beri tahu."),
                who=ctx.data["who"],
            ),
        )
    )


FAC_VERIFY = Flow(
    name="fac_verify",
    roles=ROLES,
    on_start=_start,
    steps=(
        Step(
            name="code",
            prompt=N_(
                'Pekerja memilih "Lewat pendamping" di chat-nya dan mendapat kode 6 angka. '
                "Ketik kode itu. Lihat KTP aslinya sebelum menghubungkan."
            ),
            parse=_code_parse,
            save_as="code",
            next="confirm",
        ),
        Step(name="confirm", prompt=_confirm_prompt, choices=YES_NO, next=_confirm_next),
    ),
)
