"""What every screen of the facilitator's desk shares: the acting facilitator, lists, audit.

Every list, detail and action re-reads the facilitator (not revoked, still bound to this chat)
and asks a service, which checks the record's desa against the scope, so a forged choice id or
a revocation between two messages yields nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from handlers.common import place_of, worker_coverage
from handlers.engine import Ctx, End, Option, Outcome, Stay
from handlers.i18n import N_, TZ
from handlers.sources import states
from handlers.widgets import Row
from lingkaran_core import services
from lingkaran_core.coverage import CoverageStatus
from lingkaran_core.regions import load_regions
from lingkaran_core.services import Facilitator
from lingkaran_core.storage.repos import Worker

logger = logging.getLogger(__name__)

ROLES = frozenset({"facilitator"})
# The desk's flow ids: conversation state stored in the database refers to them.
FLOW_NAMES = frozenset(
    {
        "fac_register",
        "fac_find",
        "fac_summary",
        "fac_leads",
        "fac_claims",
        "fac_tickets",
        "fac_verify",
    }
)
PAGE = 5  # workers per page (search results, summary lists)
LIST_PAGE = 8  # claims, leads, tickets per page (+ next + menu <= 10 options)
MAX_MESSAGE = 1000

MENU = Option(id="menu", label=N_("Menu pendamping"), aliases=("menu", "menu pendamping"))
NEXT_PAGE = Option(id="more", label=N_("Berikutnya"), aliases=("lanjut", "berikut", "next"))
BACK = Option(id="back_list", label=N_("Kembali"), aliases=("kembali ke daftar",))
NO_ACCESS = N_("Maaf, menu itu hanya untuk pendamping yang masih aktif.")

STATUS_LABELS: dict[str, str] = {
    "registered": N_("menunggu dicek Pemkab"),
    "rejected": N_("pendaftaran belum disetujui"),
    CoverageStatus.PROTECTED: states(N_("dilindungi"), "protected_while_paid"),
    CoverageStatus.ARREARS: N_("iuran belum tercatat"),
    CoverageStatus.NOT_STARTED: states(
        N_("perlindungan belum mulai"), "protection_starts_after_verification"
    ),
    CoverageStatus.NON_ACTIVE: N_("kepesertaan tidak aktif"),
    CoverageStatus.NOT_ENROLLED: N_("belum terdaftar"),
}


async def current_facilitator(ctx: Ctx) -> Facilitator | None:
    """The chat's facilitator, only while the facilitator menu is active, bound and unrevoked.

    Read once per message (every screen asks for it several times while rendering).
    """
    if ctx.role != "facilitator" or ctx.chat.facilitator_id is None:
        return None
    key = ("facilitator", ctx.chat.facilitator_id, ctx.chat.id)
    if key not in ctx.memo:
        ctx.memo[key] = await services.active_facilitator(
            ctx.tx, ctx.chat.facilitator_id, ctx.chat.id
        )
    found: Facilitator | None = ctx.memo[key]
    return found


async def covers(ctx: Ctx, desa_code: str | None) -> bool:
    """Whether this chat's active facilitator covers a desa (re-read from the database)."""
    f = await current_facilitator(ctx)
    return f is not None and services.in_scope(f, desa_code)


async def audit(
    ctx: Ctx,
    action: str,
    target_kind: str | None = None,
    target_id: str | int | None = None,
    **details: Any,
) -> None:
    """Audit what the facilitator saw or was refused (the services audit what they change)."""
    await services.audit(
        ctx.tx,
        now=ctx.now,
        actor_kind="facilitator",
        actor_id=ctx.chat.facilitator_id,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        channel=ctx.chat.channel,
        details=details or None,
    )


def as_id(value: object) -> int | None:
    """A record id from a choice id or stored data; None for anything else."""
    try:
        return int(str(value))
    except ValueError:
        return None


def scope_name(ctx: Ctx, f: Facilitator) -> str:
    """``Desa Sukoreno, Kecamatan Kalisat`` or ``Kecamatan Kalisat``."""
    regions = load_regions()
    if f.scope_kind == "desa":
        desa, kec = place_of(f.scope_code)
        return ctx.t(N_("Desa {desa}, Kecamatan {kec}"), desa=desa, kec=kec)
    kecamatan = regions.kecamatan(f.scope_code)
    return ctx.t(
        N_("Kecamatan {kec}"), kec=kecamatan.name if kecamatan is not None else f.scope_code
    )


def short(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ago(ctx: Ctx, instant: str) -> str:
    """``hari ini``, ``kemarin``, ``3 hari lalu``."""
    days = (ctx.today - datetime.fromisoformat(instant).astimezone(TZ).date()).days
    if days <= 0:
        return ctx.t(N_("hari ini"))
    if days == 1:
        return ctx.t(N_("kemarin"))
    return ctx.t(N_("{n} hari lalu"), n=days)


def page_of(items: Sequence[Any], page: int, size: int) -> tuple[list[Any], bool]:
    """One page of a list, and whether more follow."""
    start = page * size
    return list(items[start : start + size]), len(items) > start + size


def paging(ctx: Ctx, value: str) -> Outcome | None:
    """The "Berikutnya" and "Menu pendamping" rows every scoped list ends with."""
    if value == "more":
        ctx.data["page"] = int(ctx.data.get("page", 0)) + 1
        return Stay()
    if value == "menu":
        return End()
    return None


async def no_access(ctx: Ctx) -> Outcome:
    """End a desk flow for a chat that is not (or no longer) an active facilitator."""
    logger.warning("facilitator flow refused", extra={"chat_id": ctx.chat.id})
    return End((ctx.t(NO_ACCESS),))


def worker_row(ctx: Ctx, worker: Worker, *, place: bool = False) -> Row:
    """A worker as a list row that tells namesakes apart: birth year, NIK end, contribution."""
    t = ctx.t
    facts = [t(N_("lahir {year}"), year=worker.birth_date.year), f"NIK …{worker.nik[-4:]}"]
    if place:
        desa, _ = place_of(worker.desa_code)
        facts.append(desa)
    if worker.paid_through is not None:
        facts.append(t(N_("iuran s.d. {month}"), month=t.month(worker.paid_through)))
    else:
        facts.append(t(STATUS_LABELS[worker_status_key(ctx, worker)]))
    return Row(
        id=str(worker.id),
        label=worker.name,
        line=f"{worker.name}, " + ", ".join(facts),
        description=", ".join(facts),
        search=f"{worker.name} {worker.nik}",
    )


def worker_status_key(ctx: Ctx, worker: Worker) -> str:
    """``registered`` / ``rejected`` or the coverage status of a verified worker."""
    if worker.registration_status in ("registered", "rejected"):
        return worker.registration_status
    return str(worker_coverage(worker, ctx).status)


def status_short(ctx: Ctx, worker: Worker) -> str:
    """``Dilindungi.``, ``Menunggu dicek Pemkab.``."""
    key = worker_status_key(ctx, worker)
    return ctx.t(STATUS_LABELS[key]).capitalize() + "."
