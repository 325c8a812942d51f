"""Steps and answers the claim reports (JKK, JKM, scholarship) share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from handlers.common import CANCEL, EDIT, SEND, parse_phone
from handlers.engine import Answer, Ctx, Option, Outcome
from handlers.i18n import N_
from lingkaran_core.identity import parse_nik

UNKNOWN_NIK = Option(
    id="unknown", label=N_("Tidak tahu"), aliases=("tidak tahu", "gak tau", "ga tau", "lupa")
)
CONFIRM_CHOICES = (SEND, EDIT, CANCEL)


def go(ctx: Ctx, step: str) -> str:
    """The next step, or back to the confirmation screen while the user edits one answer."""
    return "confirm" if ctx.data.get("editing") else step


def then(step: str) -> Callable[[Ctx, Any], Awaitable[Outcome]]:
    """A ``next`` that goes to ``step`` (or back to the confirmation while editing)."""

    async def _next(ctx: Ctx, value: Any) -> Outcome:
        return go(ctx, step)

    return _next


async def edit_next(ctx: Ctx, value: str) -> Outcome:
    """From the "what to change?" list: ask that step again, then return to the confirmation."""
    ctx.data["editing"] = True
    return value


async def nik_or_unknown(ctx: Ctx, answer: Answer) -> str:
    """A NIK, or ``"unknown"`` when the user pressed "Tidak tahu"."""
    if answer.option is not None:
        return "unknown"
    return parse_nik(answer.text or "", today=ctx.today).value


async def phone_choices(ctx: Ctx) -> list[Option]:
    """On WhatsApp the chat's own number is one tap away."""
    if ctx.chat.channel == "whatsapp":
        return [Option(id="this", label=N_("Pakai nomor ini"), aliases=("nomor ini", "ini"))]
    return []


async def phone_answer(ctx: Ctx, answer: Answer) -> str:
    """A typed or shared phone number, or this WhatsApp number."""
    if answer.option is not None and answer.option.id == "this":
        return "+" + ctx.chat.user_ref.lstrip("+")
    return await parse_phone(ctx, answer)
