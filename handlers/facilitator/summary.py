"""The summary of the scope: workers by sector and coverage, arrears, missing phone numbers."""

from __future__ import annotations

from handlers.common import honorific, masked, place_of, sector_label
from handlers.engine import Ctx, End, Flow, Option, Outcome, Step
from handlers.facilitator.common import (
    MENU,
    NEXT_PAGE,
    NO_ACCESS,
    PAGE,
    ROLES,
    STATUS_LABELS,
    audit,
    current_facilitator,
    no_access,
    page_of,
    paging,
    scope_name,
    worker_status_key,
)
from handlers.i18n import N_
from lingkaran_core import services
from lingkaran_core.coverage import CoverageStatus
from lingkaran_core.storage.repos import Worker


async def _scope_workers(ctx: Ctx) -> list[Worker]:
    f = await current_facilitator(ctx)
    if f is None:
        return []
    return await services.workers_for_facilitator(ctx.tx, f)


def _worker_line(ctx: Ctx, i: int, worker: Worker) -> str:
    desa, _ = place_of(worker.desa_code)
    return f"{i}. {honorific(ctx, worker)} ({masked(worker.nik)}), {desa}"


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
    lines.append(t(N_("Per pekerjaan:")))
    lines += [
        f"- {sector_label(ctx, s)}: {n}" for s, n in sorted(by_sector.items(), key=lambda i: -i[1])
    ]
    lines.append(t(N_("Perlindungan:")))
    lines += [f"- {t(STATUS_LABELS[k])}: {n}" for k, n in by_status.items()]
    for kind, heading in (
        ("arrears", N_("Iuran belum tercatat: {n} pekerja.")),
        ("nophone", N_("Belum ada nomor HP: {n} pekerja.")),
    ):
        listed = lists[kind]
        lines.append(t(heading, n=len(listed)))
        lines += [_worker_line(ctx, i, w) for i, w in enumerate(listed[:PAGE], 1)]
    return "\n".join(lines)


async def _summary_choices(ctx: Ctx) -> list[Option]:
    lists = await _summary_lists(ctx)
    options: list[Option] = []
    if len(lists["arrears"]) > PAGE:
        options.append(Option(id="arrears", label=N_("Semua iuran blm ada")))
    if len(lists["nophone"]) > PAGE:
        options.append(Option(id="nophone", label=N_("Semua tanpa HP")))
    options.append(MENU)
    return options


async def _summary_next(ctx: Ctx, value: str) -> Outcome:
    if value == "menu":
        return End()
    ctx.data["list"] = value
    ctx.data["page"] = 0
    return "list"


async def _list_prompt(ctx: Ctx) -> str:
    kind = str(ctx.data.get("list", "arrears"))
    listed = (await _summary_lists(ctx)).get(kind, [])
    page = int(ctx.data.get("page", 0))
    shown, _ = page_of(listed, page, PAGE)
    heading = (
        N_("Iuran belum tercatat: {n} pekerja.")
        if kind == "arrears"
        else N_("Belum ada nomor HP: {n} pekerja.")
    )
    lines = [ctx.t(heading, n=len(listed))]
    lines += [_worker_line(ctx, page * PAGE + i, w) for i, w in enumerate(shown, 1)]
    return "\n".join(lines)


async def _list_choices(ctx: Ctx) -> list[Option]:
    kind = str(ctx.data.get("list", "arrears"))
    listed = (await _summary_lists(ctx)).get(kind, [])
    _, more = page_of(listed, int(ctx.data.get("page", 0)), PAGE)
    options = [NEXT_PAGE] if more else []
    return [*options, Option(id="summary", label=N_("Ringkasan")), MENU]


async def _list_next(ctx: Ctx, value: str) -> Outcome:
    if value == "summary":
        return "summary"
    return paging(ctx, value) or End()


FAC_SUMMARY = Flow(
    name="fac_summary",
    roles=ROLES,
    on_start=_summary_start,
    steps=(
        Step(name="summary", prompt=_summary_prompt, choices=_summary_choices, next=_summary_next),
        Step(name="list", prompt=_list_prompt, choices=_list_choices, next=_list_next),
    ),
)


# ---------------------------------------------------------------------------------------------
