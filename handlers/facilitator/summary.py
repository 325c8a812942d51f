"""The summary of the scope: workers by sector and coverage, arrears, missing phone numbers."""

from __future__ import annotations

from handlers.common import sector_label
from handlers.engine import Ctx, End, Flow, Goto, Invalid, Option, Outcome, Step
from handlers.facilitator.common import (
    MENU,
    NO_ACCESS,
    PAGE,
    ROLES,
    STATUS_LABELS,
    audit,
    current_facilitator,
    no_access,
    scope_name,
    worker_row,
    worker_status_key,
)
from handlers.i18n import N_
from handlers.widgets import PagedList, Row
from lingkaran_core import services
from lingkaran_core.coverage import CoverageStatus
from lingkaran_core.storage.repos import Worker

LIST_HEADINGS = {
    "arrears": N_("Iuran belum tercatat: {n} pekerja."),
    "nophone": N_("Belum ada nomor HP: {n} pekerja."),
    "all": N_("Semua pekerja: {n}."),
}


async def _scope_workers(ctx: Ctx) -> list[Worker]:
    async def load() -> list[Worker]:
        f = await current_facilitator(ctx)
        return [] if f is None else await services.workers_for_facilitator(ctx.tx, f)

    return await ctx.cached("scope_workers", load)


async def _summary_lists(ctx: Ctx) -> dict[str, list[Worker]]:
    workers = await _scope_workers(ctx)
    return {
        "arrears": [w for w in workers if worker_status_key(ctx, w) == CoverageStatus.ARREARS],
        "nophone": [w for w in workers if not w.phone],
        "all": workers,
    }


async def _summary_start(ctx: Ctx) -> Outcome | None:
    if await current_facilitator(ctx) is None:
        return await no_access(ctx)
    await audit(ctx, "scope.summary")
    return None


async def _summary_prompt(ctx: Ctx) -> str:
    t = ctx.t
    f = await current_facilitator(ctx)
    if f is None:
        return t(NO_ACCESS)
    lists = await _summary_lists(ctx)
    workers = lists["all"]
    lines = [
        t(
            N_("Ringkasan {scope} ({date}): {n} pekerja."),
            scope=scope_name(ctx, f),
            date=t.date(ctx.today),
            n=len(workers),
        )
    ]
    if not workers:
        return lines[0]
    by_sector: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for w in workers:
        by_sector[w.sector] = by_sector.get(w.sector, 0) + 1
        key = worker_status_key(ctx, w)
        by_status[key] = by_status.get(key, 0) + 1
    lines.append(
        t(N_("Per pekerjaan:"))
        + " "
        + ", ".join(
            f"{sector_label(ctx, s)} {n}" for s, n in sorted(by_sector.items(), key=lambda i: -i[1])
        )
        + "."
    )
    lines.append(
        t(N_("Perlindungan:"))
        + " "
        + ", ".join(f"{t(STATUS_LABELS[k])} {n}" for k, n in by_status.items())
        + "."
    )
    for kind in ("arrears", "nophone"):
        lines.append(t(LIST_HEADINGS[kind], n=len(lists[kind])))
    lines.append(t(N_("Pilih daftar untuk melihat dan membuka pekerjanya.")))
    return "\n".join(lines)


async def _summary_choices(ctx: Ctx) -> list[Option]:
    lists = await _summary_lists(ctx)
    options: list[Option] = []
    if lists["arrears"]:
        options.append(
            Option(id="arrears", label=N_("Iuran blm tercatat"), count=len(lists["arrears"]))
        )
    if lists["nophone"]:
        options.append(
            Option(id="nophone", label=N_("Tanpa nomor HP"), count=len(lists["nophone"]))
        )
    if lists["all"]:
        options.append(Option(id="all", label=N_("Semua pekerja"), count=len(lists["all"])))
    options.append(MENU)
    return options


async def _summary_next(ctx: Ctx, value: str) -> Outcome:
    if value == "menu":
        return End()
    ctx.data["list"] = value
    WORKERS.reset(ctx)
    return "list"


async def _list_rows(ctx: Ctx) -> list[Row]:
    f = await current_facilitator(ctx)
    kind = str(ctx.data.get("list", "arrears"))
    listed = (await _summary_lists(ctx)).get(kind, [])
    return [worker_row(ctx, w, place=f is not None and f.scope_kind != "desa") for w in listed]


def _list_heading(ctx: Ctx, n: int) -> str:
    kind = str(ctx.data.get("list", "arrears"))
    return ctx.t(LIST_HEADINGS.get(kind, LIST_HEADINGS["all"]), n=n)


SUMMARY = Option(id="summary", label=N_("Ringkasan"), aliases=("ringkasan",))
WORKERS = PagedList(
    name="workers",
    prefix="w:",
    load=_list_rows,
    heading=_list_heading,
    size=PAGE,
    extra=(SUMMARY, MENU),
)


async def _list_next(ctx: Ctx, value: str) -> Outcome:
    picked = await WORKERS.pick(ctx, value)
    if picked.outcome is not None:
        return picked.outcome
    if picked.other == "summary":
        return "summary"
    if picked.other == "menu":
        return End()
    listed = [r.id for r in await WORKERS.rows(ctx)]
    if picked.row not in listed:
        raise Invalid(N_("Pekerja itu tidak ada di wilayah Bapak/Ibu."))
    # The worker's card, with the list to come back to.
    return Goto(
        "fac_find",
        step="detail",
        data={"worker_id": int(picked.row or 0), "results": [int(i) for i in listed]},
    )


FAC_SUMMARY = Flow(
    name="fac_summary",
    roles=ROLES,
    on_start=_summary_start,
    steps=(
        Step(name="summary", prompt=_summary_prompt, choices=_summary_choices, next=_summary_next),
        Step(
            name="list",
            prompt=WORKERS.prompt,
            choices=WORKERS.choices,
            free_text=True,
            next=_list_next,
            max_len=80,
        ),
    ),
)


# ---------------------------------------------------------------------------------------------
