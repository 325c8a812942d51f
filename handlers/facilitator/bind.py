"""Before every message: bind codes, revocation taking effect, worker answers to a ticket."""

from __future__ import annotations

import re

from handlers.engine import Ctx, Reply, command_of, match_option
from handlers.facilitator.common import FLOW_NAMES, MAX_MESSAGE, scope_name
from handlers.i18n import N_
from lingkaran_core import services
from lingkaran_core.services.facilitators import CODE_ALPHABET, CODE_LENGTH
from lingkaran_core.storage import chats as chat_store

_CODE_CHARS = frozenset(CODE_ALPHABET)
_CODE_JUNK = re.compile(r"[\s\-_.]+")


def code_candidate(text: str | None) -> tuple[str, bool] | None:
    """``(code, strong)`` when a message could be a bind code; strong: it really looks like one.

    A Telegram deep link arrives as ``/start CODE``. Ordinary words of 8 letters from the alphabet
    (``MUHAMMAD``, ``TERUSKAN``) are tried quietly but never answered with "invalid code"; a mix
    of letters and digits, a message in capitals or a deep link is answered.
    """
    if not text:
        return None
    raw = text.strip()
    deep = raw.lower().startswith("/start")
    if deep:
        raw = raw[len("/start") :].strip()
    compact = _CODE_JUNK.sub("", raw)
    if len(compact) != CODE_LENGTH or not set(compact.upper()) <= _CODE_CHARS:
        return None
    has_digit = any(c.isdigit() for c in compact)
    has_alpha = any(c.isalpha() for c in compact)
    strong = deep or (has_digit and has_alpha) or (has_alpha and compact.isupper())
    return compact.upper(), strong


def _in_free_text_step(ctx: Ctx) -> bool:
    """Whether the chat is in a step that could take any text (a name, a message...)."""
    if ctx.state.flow == ctx.engine.menu_flow:
        return False
    flow = ctx.engine.flows.get(ctx.state.flow)
    step = flow.by_name.get(ctx.state.step) if flow is not None else None
    if step is None:
        return False
    return step.free_text or not step.choices


async def bind_code_hook(ctx: Ctx) -> list[Reply] | None:
    """Before every message: end revoked access, redeem bind codes, pass answers to tickets."""
    ended = await _end_revoked_access(ctx)
    if ended is not None:
        return ended
    if ctx.incoming.choice_id is None:
        candidate = code_candidate(ctx.incoming.text)
        if candidate is not None:
            handled = await _try_bind(ctx, *candidate)
            if handled is not None:
                return handled
    return await _answer_to_ticket(ctx)


async def _end_revoked_access(ctx: Ctx) -> list[Reply] | None:
    """Revocation takes effect on the next message: drop the role, say so, show the menu."""
    chat = ctx.chat
    ended = False
    if chat.facilitator_id is not None:
        found = await services.active_facilitator(ctx.tx, chat.facilitator_id, chat.id)
        # The desk's screens read the same facilitator again: once per message is enough.
        ctx.memo[("facilitator", chat.facilitator_id, chat.id)] = found
        ended = found is None
    elif chat.active_role == "facilitator":
        ended = True
    if chat.revoke_pending:  # loaded with the chat, so most messages cost no query here
        told = await services.note_revocation_told(ctx.tx, chat.id, ctx.now)
        ended = ended or told
    if (
        not ended
        and chat.active_role != "facilitator"
        and (ctx.state.flow in FLOW_NAMES or ctx.state.data.get("by_facilitator"))
    ):
        # Revoked (or re-issued) in the middle of a facilitator task.
        ended = True
    if not ended:
        return None
    role = "worker" if chat.worker_id is not None else "public"
    await chat_store.update_chat(ctx.tx, chat.id, facilitator_id=None, active_role=role)
    chat.facilitator_id = None
    chat.active_role = role
    await services.audit(
        ctx.tx,
        now=ctx.now,
        actor_kind="system",
        actor_id=None,
        action="facilitator.access_ended",
        target_kind="chat",
        target_id=chat.id,
        channel=chat.channel,
    )
    note = ctx.t(
        N_(
            "Akses pendamping untuk nomor ini sudah berakhir. Jika ini keliru, hubungi petugas "
            "Pemkab Jember."
        )
    )
    return [Reply(text=note), *await ctx.engine.show_menu(ctx)]


async def _try_bind(ctx: Ctx, code: str, strong: bool) -> list[Reply] | None:
    free = _in_free_text_step(ctx)
    if free and not strong:
        return None  # a name or a message that happens to look like a code
    if await services.bind_attempts_exhausted(ctx.tx, ctx.chat.id, ctx.now):
        if free or not strong:
            return None
        await services.audit(
            ctx.tx,
            now=ctx.now,
            actor_kind="chat",
            actor_id=ctx.chat.id,
            action="facilitator.bind_limited",
            channel=ctx.chat.channel,
        )
        text = ctx.t(
            N_(
                "Terlalu banyak kode yang tidak berlaku dari nomor ini. Mohon coba lagi 1 jam "
                "lagi, atau minta kode baru ke petugas Pemkab Jember."
            )
        )
        return [Reply(text=text), *await ctx.engine.prompt(ctx)]
    found = await services.redeem_code(ctx.tx, code=code, chat_id=ctx.chat.id, now=ctx.now)
    if found is None:
        await services.record_bind_failure(
            ctx.tx, chat_id=ctx.chat.id, now=ctx.now, channel=ctx.chat.channel
        )
        if free or not strong:
            return None
        # Never say whether the code existed, expired or was used already.
        text = ctx.t(
            N_(
                "Kode tidak berlaku. Mohon periksa lagi, atau minta kode baru ke petugas Pemkab "
                "Jember."
            )
        )
        return [Reply(text=text), *await ctx.engine.prompt(ctx)]
    await services.clear_bind_failures(ctx.tx, ctx.chat.id)
    ctx.chat.facilitator_id = found.id
    ctx.chat.active_role = "facilitator"
    welcome = ctx.t(
        N_("Kode diterima (kini tidak berlaku lagi). Selamat datang, {name}, pendamping {scope}."),
        name=found.name,
        scope=scope_name(ctx, found),
    )
    return [Reply(text=welcome), *await ctx.engine.show_menu(ctx)]


async def _answer_to_ticket(ctx: Ctx) -> list[Reply] | None:
    """Free text at the main menu goes to the chat's ticket that staff already answered."""
    from handlers.intents import classify
    from handlers.menu import menu_choices

    inc = ctx.incoming
    if ctx.role == "facilitator" or inc.choice_id is not None or inc.media is not None:
        return None
    if ctx.state.flow != ctx.engine.menu_flow or ctx.state.step != "main":
        return None
    text = (inc.text or "").strip()
    if len(text) < 2 or len(text) > MAX_MESSAGE or text.isdigit() or command_of(inc):
        return None
    if match_option(await menu_choices(ctx), inc, ctx.t) is not None:
        return None
    ticket = await services.answered_ticket_of_chat(ctx.tx, ctx.chat.id)
    if ticket is None:
        return None
    intent = classify(text).intent
    if intent is not None and intent != "thanks":
        return None  # a question the menu can answer
    # Unless it is only a thank-you, the worker is waiting again (and the ticket may escalate).
    ticket_id = await services.open_ticket(
        ctx.tx,
        chat_id=ctx.chat.id,
        body=text,
        now=ctx.now,
        channel=ctx.chat.channel,
        reopen=intent != "thanks",
    )
    note = ctx.t(
        N_("Pesan diteruskan ke petugas ({ticket})."), ticket=services.ticket_ref(ticket_id)
    )
    menu = await ctx.engine.show_menu(ctx)
    last = menu[-1]
    return [
        *menu[:-1],
        Reply(text=f"{note}\n\n{last.text}", choices=last.choices, step_token=last.step_token),
    ]
