"""Steps and answers the claim reports (JKK, JKM, scholarship) share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from handlers.common import CANCEL, EDIT, SEND, parse_phone
from handlers.engine import Answer, Ctx, Invalid, Option, Outcome, reads
from handlers.i18n import N_
from handlers.widgets import Summary, subject_nik
from lingkaran_core import services
from lingkaran_core.claims import Actor
from lingkaran_core.errors import NotAuthorised
from lingkaran_core.services.whatsapp_identity import chat_phone
from lingkaran_core.storage.repos import Claim, Worker

UNKNOWN_NIK = Option(
    id="unknown", label=N_("Tidak tahu"), aliases=("tidak tahu", "gak tau", "ga tau", "lupa")
)
CONFIRM_CHOICES = (SEND, EDIT, CANCEL)


def go(ctx: Ctx, step: str) -> str:
    """The next step, or back to the confirmation screen while the user edits one answer."""
    return Summary.go(ctx, step)


def then(step: str) -> Callable[[Ctx, Any], Awaitable[Outcome]]:
    """A ``next`` that goes to ``step`` (or back to the confirmation while editing)."""

    async def _next(ctx: Ctx, value: Any) -> Outcome:
        return go(ctx, step)

    return _next


edit_next = Summary.edit_next  # "what to change?": ask that step again, then back


@reads("nik")
async def nik_or_unknown(ctx: Ctx, answer: Answer) -> str:
    """A NIK, or ``"unknown"`` when the user pressed "Tidak tahu"."""
    if answer.option is not None:
        return "unknown"
    # A facilitator may give the worker's name instead: one match is confirmed, several picked.
    return await subject_nik(ctx, answer.text or "")


async def phone_choices(ctx: Ctx) -> list[Option]:
    """On WhatsApp the chat's own number is one tap away, when Meta shows it to us (a user with
    a WhatsApp username may hide it: then the number is asked for like anywhere else)."""
    if chat_phone(ctx.chat):
        return [Option(id="this", label=N_("Pakai nomor ini"), aliases=("nomor ini", "ini"))]
    return []


async def phone_answer(ctx: Ctx, answer: Answer) -> str:
    """A typed or shared phone number, or this WhatsApp number."""
    own = chat_phone(ctx.chat)
    if answer.option is not None and answer.option.id == "this" and own:
        return own
    return await parse_phone(ctx, answer)


# ---------------------------------------------------------------------------------------------
# Reports filed by a facilitator on someone's behalf (JKK, JKM, scholarship alike)

OUT_OF_SCOPE = N_("NIK itu tidak terdaftar di wilayah Bapak/Ibu. Mohon cek lagi.")


def mark_if_facilitator(ctx: Ctx) -> bool:
    """Started from the facilitator menu: the report is filed for the facilitator (and checked)."""
    if ctx.role == "facilitator":
        ctx.data["by_facilitator"] = True
    return bool(ctx.data.get("by_facilitator"))


def filing_as(ctx: Ctx) -> tuple[int | None, Actor]:
    """``(facilitator_id, actor)`` a report of this conversation is filed with.

    A chat in the facilitator role always files for the facilitator, so the scope applies even
    to a conversation that did not start from the facilitator menu.
    """
    if ctx.data.get("by_facilitator") or ctx.role == "facilitator":
        return ctx.chat.facilitator_id, Actor.FACILITATOR
    return None, Actor.CLAIMANT


async def check_subject(ctx: Ctx, worker: Worker | None) -> None:
    """A facilitator files only for roster workers of their own desa/kecamatan."""
    if filing_as(ctx)[1] != Actor.FACILITATOR:
        return
    f = (
        None
        if ctx.chat.facilitator_id is None
        else await services.active_facilitator(ctx.tx, ctx.chat.facilitator_id, ctx.chat.id)
    )
    if worker is None or f is None or not services.in_scope(f, worker.desa_code):
        raise Invalid(OUT_OF_SCOPE)


async def submit(ctx: Ctx, new: services.NewClaim) -> Claim:
    """File the report, once per step, for the facilitator when started from their menu.

    The service checks the facilitator's scope again, whatever the conversation state holds.
    """
    facilitator_id, actor = filing_as(ctx)
    try:
        return await services.submit_claim(
            ctx.tx,
            replace(new, facilitator_id=facilitator_id),
            now=ctx.now,
            idempotency_key=f"chat{ctx.chat.id}-v{ctx.state.version}",
            channel=ctx.chat.channel,
            actor=actor,
        )
    except NotAuthorised:
        raise Invalid(OUT_OF_SCOPE) from None
