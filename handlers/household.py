"""Lepaskan nomor ini: a chat gives up its link to one person, or to everyone (issue 22).

Reached from Settings. The service (``services.unlink``) checks the link, audits the removal
and, when the last link goes, treats the number as changing hands. The person can link again
later with "Cek kepesertaan" (or "Tambah keluarga" on a phone still linked to others).
"""

from __future__ import annotations

from handlers import whom
from handlers.common import honorific
from handlers.engine import Ctx, End, Flow, Option, Outcome, Step
from handlers.i18n import N_
from lingkaran_core import services
from lingkaran_core.errors import NotFound

ALL = Option(id="all", label=N_("Semua"), aliases=("semua", "semuanya"))
YES = Option(id="yes", label=N_("Ya, lepaskan"), aliases=("ya", "iya", "lepaskan"))
NO = Option(id="no", label=N_("Tidak"), aliases=("tidak", "jangan", "batal"))


async def _on_start(ctx: Ctx) -> Outcome | None:
    workers = await whom.linked(ctx)
    if not workers:
        return End((ctx.t(N_("Nomor ini belum terhubung dengan data siapa pun.")),))
    if len(workers) == 1:
        ctx.data["target"] = workers[0].id
        return "confirm"
    return None


async def _pick_choices(ctx: Ctx) -> list[Option]:
    return [*whom.options(ctx, await whom.linked(ctx)), ALL]


async def _pick_next(ctx: Ctx, value: str) -> Outcome:
    ctx.data["target"] = "all" if value == "all" else int(value.removeprefix("w:"))
    return "confirm"


async def _names(ctx: Ctx) -> tuple[str, str | None]:
    """(the names the confirmation speaks of, the one person's name or None for everyone)."""
    workers = await whom.linked(ctx)
    target = ctx.data.get("target")
    if target == "all":
        return ", ".join(honorific(ctx, w) for w in workers), None
    one = next((w for w in workers if w.id == target), None)
    return ("-", None) if one is None else (honorific(ctx, one), honorific(ctx, one))


async def _confirm_prompt(ctx: Ctx) -> str:
    names, one = await _names(ctx)
    if one is not None:
        text = ctx.t(
            N_(
                "Lepaskan nomor ini dari data {who}? Nomor ini tidak lagi menerima pengingat dan "
                "kabar klaim {who}, dan datanya tidak bisa dilihat dari sini. Nanti bisa "
                "dihubungkan lagi."
            ),
            who=one,
        )
        if len(await whom.linked(ctx)) == 1:
            # The last link: the number is given up, as when a phone changes hands.
            text += "\n" + ctx.t(
                N_("Laporan yang dulu dikirim dari nomor ini juga tidak tampil lagi di sini.")
            )
        return text
    return ctx.t(
        N_(
            "Lepaskan nomor ini dari data semua orang ({names})? Laporan yang dulu dikirim dari "
            "nomor ini juga tidak tampil lagi di sini. Lakukan ini jika HP akan dipakai orang "
            "lain. Nanti bisa dihubungkan lagi."
        ),
        names=names,
    )


async def _confirm_next(ctx: Ctx, value: str) -> Outcome:
    if value != "yes":
        return End((ctx.t(N_("Baik, tidak ada yang dilepas.")),))
    names, one = await _names(ctx)
    target = ctx.data.get("target")
    try:
        await services.unlink(
            ctx.tx,
            chat_id=ctx.chat.id,
            worker_id=None if target == "all" else int(str(target)),
            now=ctx.now,
            actor_kind="chat",
            actor_id=ctx.chat.id,
            channel=ctx.chat.channel,
        )
    except NotFound:
        return End((ctx.t(N_("Data itu sudah tidak terhubung dengan nomor ini.")),))
    remaining = await services.linked_worker_ids(ctx.tx, ctx.chat.id)
    ctx.chat.worker_id = remaining[0] if remaining else None
    if not remaining and ctx.chat.active_role == "worker":
        ctx.chat.active_role = "public"
    return End(
        (
            ctx.t(
                N_(
                    "Sudah dilepas: nomor ini tidak lagi terhubung dengan data {who}. Data itu "
                    'tetap ada di program; bisa dihubungkan lagi kapan saja lewat "Cek '
                    'kepesertaan".'
                ),
                who=one or names,
            ),
        )
    )


UNLINK = Flow(
    name="unlink",
    roles=frozenset({"worker", "facilitator", "public"}),
    on_start=_on_start,
    steps=(
        Step(
            name="pick",
            prompt=N_("Lepaskan data siapa dari nomor ini?"),
            choices=_pick_choices,
            next=_pick_next,
        ),
        Step(name="confirm", prompt=_confirm_prompt, choices=(YES, NO), next=_confirm_next),
    ),
)
