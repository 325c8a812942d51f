"""Find a worker of the scope by NIK or name, and the worker's card (NIK and phone masked)."""

from __future__ import annotations

import re

from handlers.common import (
    coverage_text,
    honorific,
    masked,
    place_of,
    sector_label,
    worker_coverage,
)
from handlers.engine import Answer, Ctx, End, Flow, Invalid, Option, Outcome, Step
from handlers.facilitator.common import (
    BACK,
    MENU,
    NEXT_PAGE,
    NO_ACCESS,
    PAGE,
    ROLES,
    as_id,
    audit,
    current_facilitator,
    no_access,
    page_of,
    paging,
    short,
)
from handlers.i18n import N_
from lingkaran_core import services
from lingkaran_core.errors import NotAuthorised, NotFound
from lingkaran_core.identity import mask_phone, parse_nik
from lingkaran_core.storage.repos import Worker


async def _scoped_worker(ctx: Ctx, worker_id: object) -> Worker | None:
    """A worker by id, only when in this facilitator's scope."""
    f = await current_facilitator(ctx)
    wid = as_id(worker_id)
    if f is None or wid is None:
        return None
    try:
        return await services.worker_for_facilitator(ctx.tx, f, wid)
    except NotFound:
        return None
    except NotAuthorised:
        await audit(ctx, "worker.refused", "worker", wid)
        return None


async def _find_start(ctx: Ctx) -> Outcome | None:
    if await current_facilitator(ctx) is None:
        return await no_access(ctx)
    return None


async def _query_parse(ctx: Ctx, answer: Answer) -> list[int]:
    f = await current_facilitator(ctx)
    if f is None:
        raise Invalid(NO_ACCESS)
    query = " ".join((answer.text or "").split())
    digits = re.sub(r"[\s.\-]", "", query)
    if digits.isdigit():
        nik = parse_nik(digits, today=ctx.today).value
        try:
            found = [(await services.worker_for_facilitator_by_nik(ctx.tx, f, nik)).id]
        except (NotFound, NotAuthorised):
            found = []
        await audit(ctx, "worker.search", by="nik", nik=masked(nik), found=len(found))
        if not found:
            raise Invalid(
                N_("Tidak ada pekerja dengan NIK {nik} di wilayah Bapak/Ibu."), nik=masked(nik)
            )
        return found
    if sum(ch.isalpha() for ch in query) < 2:
        raise Invalid(N_("Mohon ketik NIK (16 angka) atau nama pekerja."))
    found = await services.search_names(ctx.tx, f, query)
    await audit(ctx, "worker.search", by="name", found=len(found))
    if not found:
        raise Invalid(N_('Tidak ada pekerja bernama "{name}" di wilayah Bapak/Ibu.'), name=query)
    return found


async def _query_next(ctx: Ctx, found: list[int]) -> Outcome:
    ctx.data["results"] = found
    ctx.data["page"] = 0
    if len(found) == 1:
        ctx.data["worker_id"] = found[0]
        return "detail"
    return "results"


async def _results_prompt(ctx: Ctx) -> str:
    n = len(ctx.data.get("results") or [])
    page = int(ctx.data.get("page", 0))
    pages = max((n + PAGE - 1) // PAGE, 1)
    return ctx.t(
        N_("Ditemukan {n} pekerja (halaman {page} dari {pages}). Pilih satu:"),
        n=n,
        page=page + 1,
        pages=pages,
    )


async def _results_choices(ctx: Ctx) -> list[Option]:
    ids = list(ctx.data.get("results") or [])
    shown, more = page_of(ids, int(ctx.data.get("page", 0)), PAGE)
    options: list[Option] = []
    for wid in shown:
        worker = await _scoped_worker(ctx, wid)
        if worker is None:
            continue
        desa, _ = place_of(worker.desa_code)
        options.append(
            Option(
                id=f"w:{worker.id}",
                label=short(worker.name, 20),
                description=f"{masked(worker.nik)}, {desa}",
                translate=False,
            )
        )
    if more:
        options.append(NEXT_PAGE)
    options.append(Option(id="again", label=N_("Cari lagi"), aliases=("cari", "cari lagi")))
    options.append(MENU)
    return options


async def _results_next(ctx: Ctx, value: str) -> Outcome:
    if value == "again":
        return "query"
    if (paged := paging(ctx, value)) is not None:
        return paged
    worker = await _scoped_worker(ctx, value.removeprefix("w:"))
    if worker is None:
        raise Invalid(N_("Pekerja itu tidak ada di wilayah Bapak/Ibu."))
    ctx.data["worker_id"] = worker.id
    return "detail"


async def worker_card(ctx: Ctx, worker: Worker) -> str:
    """What a facilitator sees of a worker of their scope (NIK and phone masked)."""
    from handlers.my_claims import status_words, type_words

    t = ctx.t
    desa, kec = place_of(worker.desa_code)
    work = sector_label(ctx, worker.sector)
    if worker.occupation:
        work += f" ({worker.occupation})"
    lines = [
        f"{honorific(ctx, worker)}, NIK {masked(worker.nik)}",
        t(
            N_("Lahir {dob}. Desa {desa}, Kec. {kec}."),
            dob=t.date(worker.birth_date),
            desa=desa,
            kec=kec,
        ),
        t(N_("Pekerjaan: {work}."), work=work),
        t(
            N_("HP: {phone}."),
            phone=mask_phone(worker.phone) if worker.phone else t(N_("belum ada")),
        ),
        coverage_text(ctx, worker, worker_coverage(worker, ctx)),
    ]
    claims = await services.open_claims_of_worker(ctx.tx, worker.id)
    if claims:
        lines.append(t(N_("Laporan yang masih berjalan:")))
        lines += [
            f"- {c.ref} ({type_words(ctx, c).lower()}): {status_words(ctx, c.status)}"
            for c in claims[:5]
        ]
    else:
        lines.append(t(N_("Tidak ada laporan yang masih berjalan.")))
    return "\n".join(lines)


async def _detail_prompt(ctx: Ctx) -> str:
    worker = await _scoped_worker(ctx, ctx.data.get("worker_id"))
    if worker is None:
        return ctx.t(N_("Pekerja itu tidak ada di wilayah Bapak/Ibu."))
    await audit(ctx, "worker.view", "worker", worker.id)
    return await worker_card(ctx, worker)


async def _detail_choices(ctx: Ctx) -> list[Option]:
    options: list[Option] = []
    if len(ctx.data.get("results") or []) > 1:
        options.append(BACK)
    options.append(Option(id="again", label=N_("Cari lagi"), aliases=("cari", "cari lagi")))
    options.append(MENU)
    return options


async def _detail_next(ctx: Ctx, value: str) -> Outcome:
    if value == "back_list":
        return "results"
    if value == "again":
        return "query"
    return End()


FAC_FIND = Flow(
    name="fac_find",
    roles=ROLES,
    on_start=_find_start,
    steps=(
        Step(
            name="query",
            prompt=N_("Ketik NIK (16 angka) atau nama pekerja."),
            parse=_query_parse,
            next=_query_next,
            max_len=80,
        ),
        Step(name="results", prompt=_results_prompt, choices=_results_choices, next=_results_next),
        Step(name="detail", prompt=_detail_prompt, choices=_detail_choices, next=_detail_next),
    ),
)


# ---------------------------------------------------------------------------------------------
