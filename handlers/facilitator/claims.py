"""Claims of the scope still under way, those missing documents first; send documents for one."""

from __future__ import annotations

from handlers.common import masked
from handlers.engine import Ctx, End, Flow, Goto, Invalid, Option, Outcome, Step
from handlers.facilitator.common import (
    BACK,
    MENU,
    ROLES,
    audit,
    current_facilitator,
    no_access,
)
from handlers.i18n import N_
from handlers.widgets import PagedList, Row
from lingkaran_core import services
from lingkaran_core.errors import NotAuthorised, NotFound
from lingkaran_core.storage.repos import Claim, received_kinds


async def _scoped_claims(ctx: Ctx) -> list[tuple[Claim, list[str]]]:
    async def load() -> list[tuple[Claim, list[str]]]:
        f = await current_facilitator(ctx)
        return [] if f is None else await services.claims_for_facilitator(ctx.tx, f)

    return await ctx.cached("claims", load)


async def _scoped_claim(ctx: Ctx, ref: object) -> Claim | None:
    f = await current_facilitator(ctx)
    if f is None or not ref:
        return None
    try:
        return await services.claim_for_facilitator(ctx.tx, f, str(ref))
    except NotFound:
        return None
    except NotAuthorised:
        await audit(ctx, "claim.refused", "claim", str(ref).upper())
        return None


async def _claims_start(ctx: Ctx) -> Outcome | None:
    if await current_facilitator(ctx) is None:
        return await no_access(ctx)
    await audit(ctx, "claim.list")
    if not await _scoped_claims(ctx):
        return End((ctx.t(N_("Tidak ada laporan yang masih berjalan di wilayah Bapak/Ibu.")),))
    return None


async def _claim_rows(ctx: Ctx) -> list[Row]:
    from handlers.my_claims import type_words

    rows = []
    for claim, missing in await _scoped_claims(ctx):
        who = claim.subject_name or "-"
        extra = (
            ctx.t(N_("kurang {n} dokumen"), n=len(missing))
            if missing
            else ctx.t(N_("dokumen lengkap"))
        )
        facts = f"{type_words(ctx, claim)}, {who}, {extra}"
        rows.append(
            Row(
                id=claim.ref,
                label=claim.ref,
                line=f"{claim.ref}: {facts}",
                description=facts,
                search=f"{who} {claim.subject_nik or ''} {claim.ref}",
            )
        )
    return rows


async def _claims_heading(ctx: Ctx, n: int) -> str:
    lacking = sum(1 for _, missing in await _scoped_claims(ctx) if missing)
    return ctx.t(N_("Laporan yang masih berjalan: {n} ({k} kurang dokumen)."), n=n, k=lacking)


CLAIMS = PagedList(
    prefix="c:", name="claims", load=_claim_rows, heading=_claims_heading, size=6, extra=(MENU,)
)


async def _claims_next(ctx: Ctx, value: str) -> Outcome:
    picked = await CLAIMS.pick(ctx, value)
    if picked.outcome is not None:
        return picked.outcome
    if picked.other == "menu":
        return End()
    claim = await _scoped_claim(ctx, picked.row)
    if claim is None:
        raise Invalid(N_("Laporan itu tidak ada di wilayah Bapak/Ibu."))
    ctx.data["ref"] = claim.ref
    return "claim"


async def _claim_prompt(ctx: Ctx) -> str:
    from handlers.docs import doc_list
    from handlers.my_claims import status_words, type_words

    t = ctx.t
    claim = await _scoped_claim(ctx, ctx.data.get("ref"))
    if claim is None:
        return t(N_("Laporan itu tidak ada di wilayah Bapak/Ibu."))
    await audit(ctx, "claim.view", "claim", claim.ref)
    lines = [
        t(
            N_("{ref} ({kind}, {date}): {status}."),
            ref=claim.ref,
            kind=type_words(ctx, claim).lower(),
            date=t.date(claim.event_date),
            status=status_words(ctx, claim.status),
        ),
        t(
            N_("Tentang: {name}, NIK {nik}."),
            name=claim.subject_name or "-",
            nik=masked(claim.subject_nik),
        ),
    ]
    missing = services.missing_documents(claim, await received_kinds(ctx.tx, claim.id))
    if missing:
        lines.append(t(N_("Masih kurang {n} dokumen:"), n=len(missing)))
        lines.append(doc_list(ctx, missing))
    else:
        lines.append(t(N_("Dokumen sudah lengkap.")))
    return "\n".join(lines)


async def _claim_choices(ctx: Ctx) -> list[Option]:
    claim = await _scoped_claim(ctx, ctx.data.get("ref"))
    options: list[Option] = []
    if claim is not None and services.missing_documents(
        claim, await received_kinds(ctx.tx, claim.id)
    ):
        options.append(Option(id="docs", label=N_("Kirim dokumen"), aliases=("kirim", "foto")))
    return [*options, BACK, MENU]


async def _claim_next(ctx: Ctx, value: str) -> Outcome:
    if value == "back_list":
        return "claims"
    if value == "menu":
        return End()
    claim = await _scoped_claim(ctx, ctx.data.get("ref"))
    if claim is None:
        return End((ctx.t(N_("Laporan itu tidak ada di wilayah Bapak/Ibu.")),))
    await audit(ctx, "claim.documents_started", "claim", claim.ref)
    return Goto("docs", data={"ref": claim.ref})


FAC_CLAIMS = Flow(
    name="fac_claims",
    roles=ROLES,
    on_start=_claims_start,
    steps=(
        Step(
            name="claims",
            prompt=CLAIMS.prompt,
            choices=CLAIMS.choices,
            free_text=True,
            next=_claims_next,
            max_len=80,
        ),
        Step(name="claim", prompt=_claim_prompt, choices=_claim_choices, next=_claim_next),
    ),
)
