"""Find a worker of the scope by NIK or name, and the worker's card (NIK and phone masked)."""

from __future__ import annotations

from handlers.common import (
    coverage_text,
    honorific,
    masked,
    place_of,
    sector_label,
    worker_coverage,
)
from handlers.engine import Answer, Ctx, End, Flow, Goto, Invalid, Next, Option, Outcome, Step
from handlers.facilitator.common import (
    BACK,
    MENU,
    NO_ACCESS,
    PAGE,
    ROLES,
    as_id,
    audit,
    current_facilitator,
    no_access,
    worker_row,
    worker_status_key,
)
from handlers.i18n import N_
from handlers.widgets import PagedList, Row
from lingkaran_core import services
from lingkaran_core.coverage import CoverageStatus
from lingkaran_core.errors import DomainError, NotAuthorised, NotFound
from lingkaran_core.identity import mask_phone
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
    prefill = ctx.data.pop("prefill", None)
    if prefill:
        # A NIK or name typed at the desk's menu: search it straight away.
        try:
            found = await _search(ctx, str(prefill))
        except (Invalid, DomainError) as bad:
            if isinstance(bad, Invalid):
                return Next("query", (ctx.t(bad.msgid, **bad.params),))
            return "query"
        return await _query_next(ctx, found)
    return None


async def _query_parse(ctx: Ctx, answer: Answer) -> list[int]:
    if answer.option is not None:
        return []  # "Menu pendamping"
    return await _search(ctx, answer.text or "")


async def _search(ctx: Ctx, text: str) -> list[int]:
    from handlers.common import read_nik

    f = await current_facilitator(ctx)
    if f is None:
        raise Invalid(NO_ACCESS)
    query = " ".join(text.split())
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 10 or (digits and sum(ch.isalpha() for ch in query) < 2):
        nik = read_nik(ctx, query)
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
    if not found:
        return End()
    ctx.data["results"] = found
    RESULTS.reset(ctx)
    if len(found) == 1:
        ctx.data["worker_id"] = found[0]
        return "detail"
    return "results"


async def _result_rows(ctx: Ctx) -> list[Row]:
    f = await current_facilitator(ctx)
    if f is None:
        return []
    ids = [int(i) for i in ctx.data.get("results") or []]
    workers = await services.workers_for_facilitator_by_ids(ctx.tx, f, ids)
    return [worker_row(ctx, w, place=f.scope_kind != "desa") for w in workers]


AGAIN = Option(id="again", label=N_("Cari lagi"), aliases=("cari", "cari lagi"))
RESULTS = PagedList(
    prefix="w:",
    name="results",
    load=_result_rows,
    heading=lambda ctx, n: ctx.t(N_("Ditemukan {n} pekerja."), n=n),
    size=PAGE,
    extra=(AGAIN, MENU),
)


async def _results_next(ctx: Ctx, value: str) -> Outcome:
    picked = await RESULTS.pick(ctx, value)
    if picked.outcome is not None:
        return picked.outcome
    if picked.other == "again":
        return "query"
    if picked.other == "menu":
        return End()
    worker = await _scoped_worker(ctx, picked.row)
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
        coverage_text(ctx, worker, worker_coverage(worker, ctx), for_facilitator=True),
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


REREGISTER = Option(
    id="reregister",
    label=N_("Bantu daftarkan lagi"),
    description=N_("Minta Pemkab mendaftarkan lagi"),
    aliases=("daftarkan lagi", "daftar lagi", "bantu daftar"),
)
NOT_ACTIVE = frozenset({"rejected", CoverageStatus.NON_ACTIVE, CoverageStatus.NOT_ENROLLED})


async def _detail_choices(ctx: Ctx) -> list[Option]:
    options: list[Option] = []
    worker = await _scoped_worker(ctx, ctx.data.get("worker_id"))
    if worker is not None and worker_status_key(ctx, worker) in NOT_ACTIVE:
        options.append(REREGISTER)
    if worker is not None and worker.deceased_on is None:
        options.append(Option(id="jkk", label=N_("Lapor kecelakaan"), aliases=("kecelakaan",)))
    if len(ctx.data.get("results") or []) > 1:
        options.append(BACK)
    options.append(AGAIN)
    options.append(MENU)
    return options


async def _detail_next(ctx: Ctx, value: str) -> Outcome:
    if value == "back_list":
        return "results"
    if value == "again":
        return "query"
    worker = await _scoped_worker(ctx, ctx.data.get("worker_id"))
    if value == "jkk" and worker is not None:
        return Goto("jkk", data={"typed_nik": worker.nik})
    if value == "reregister" and worker is not None:
        f = await current_facilitator(ctx)
        if f is None:
            return await no_access(ctx)
        try:
            await services.request_reregistration(
                ctx.tx, f, worker.id, now=ctx.now, channel=ctx.chat.channel
            )
        except (NotFound, NotAuthorised):
            raise Invalid(N_("Pekerja itu tidak ada di wilayah Bapak/Ibu.")) from None
        return End(
            (
                ctx.t(
                    N_(
                        "Permintaan pendaftaran ulang {who} sudah kami teruskan ke Pemkab "
                        "Jember. Siapkan KTP dan KK pekerja; petugas akan mengecek."
                    ),
                    who=honorific(ctx, worker),
                ),
            )
        )
    return End()


FAC_FIND = Flow(
    name="fac_find",
    roles=ROLES,
    on_start=_find_start,
    steps=(
        Step(
            name="query",
            prompt=N_("Ketik NIK (16 angka) atau nama pekerja."),
            choices=(MENU,),
            free_text=True,
            parse=_query_parse,
            next=_query_next,
            max_len=80,
        ),
        Step(
            name="results",
            prompt=RESULTS.prompt,
            choices=RESULTS.choices,
            free_text=True,
            next=_results_next,
            max_len=80,
        ),
        Step(name="detail", prompt=_detail_prompt, choices=_detail_choices, next=_detail_next),
    ),
)


# ---------------------------------------------------------------------------------------------
