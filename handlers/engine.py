"""The channel-neutral dialog engine.

Channels turn their updates into ``Incoming`` and render the ``Reply`` list the engine returns.
A flow is a dict of declared ``Step``s; the engine loads the chat's state, applies global
commands, matches the answer against the step's choices (by id, number or label), validates it,
stores it and moves on, then saves the state, all in one database transaction that also records
the inbound message id (so a redelivered message has no second effect). Messages of one user are
handled strictly in order (a lock per user); different users run concurrently.

This module keeps the context, the runner (ordering, the transaction, replay, recovery) and the
state machine (dispatch, prompt, apply). Mixed into ``Engine`` from beside it: reading answers
(``engine_reading``), the global commands and welcome (``engine_commands``), the engine's own
questions and offers (``engine_asks``); step declarations live in ``steps``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from handlers.engine_asks import (
    ASK_CHOICES,
    ASK_KEY,
    MAX_BUBBLE,
    WAY_OUT,
    EngineAsks,
    pending_ask,
    split_long,
)
from handlers.engine_commands import EngineCommands
from handlers.engine_reading import EngineReading, command_of, match_option, normalise
from handlers.i18n import N_, translator
from handlers.steps import (
    Answer,
    Choice,
    ChoicesFn,
    Choose,
    Confirm,
    Ctx,
    End,
    Flow,
    Goto,
    Incoming,
    Invalid,
    Meaning,
    Media,
    Next,
    NextFn,
    Option,
    Outcome,
    ParseFn,
    PromptFn,
    Reply,
    StartFn,
    Stay,
    Step,
    _domain_invalid,
    reads,
    reply_from_dict,
    reply_to_dict,
)
from lingkaran_core.errors import DomainError
from lingkaran_core.rules import MAX_LINKS_PER_CHAT
from lingkaran_core.storage import Database
from lingkaran_core.storage.chats import ConversationState
from lingkaran_core.storage.ports import ConversationStore, SqlConversationStore

logger = logging.getLogger(__name__)

__all__ = [
    "ASK_CHOICES",
    "ASK_KEY",
    "MAX_BUBBLE",
    "WAY_OUT",
    "Answer",
    "Choice",
    "ChoicesFn",
    "Choose",
    "Confirm",
    "Ctx",
    "End",
    "Engine",
    "Flow",
    "Goto",
    "Incoming",
    "Invalid",
    "Meaning",
    "Media",
    "Next",
    "NextFn",
    "Option",
    "Outcome",
    "ParseFn",
    "PromptFn",
    "Reply",
    "StartFn",
    "Stay",
    "Step",
    "command_of",
    "match_option",
    "normalise",
    "pending_ask",
    "reads",
    "reply_from_dict",
    "reply_to_dict",
    "split_long",
]

MAX_TEXT = 4000

# ---------------------------------------------------------------------------------------------
# The engine

Hook = Callable[[Ctx], Awaitable[list[Reply] | None]]


class Engine(EngineCommands, EngineReading, EngineAsks):
    """Runs flows for every channel."""

    def __init__(
        self,
        db: Database,
        flows: Mapping[str, Flow],
        *,
        clock: Callable[[], datetime],
        menu_flow: str = "menu",
        tz: Any = None,
        track_replies: bool = False,
    ) -> None:
        from zoneinfo import ZoneInfo

        self.db = db
        self.flows = dict(flows)
        self.clock = clock
        self.menu_flow = menu_flow
        self.tz = tz or ZoneInfo("Asia/Jakarta")
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._waiters: dict[tuple[str, str], int] = {}
        # Hooks other parts plug in (facilitator bind codes, intent routing of free text...).
        self.before_step: list[Hook] = []
        # Hooks that may add to the replies of a handled message (the language suggestion).
        self.after_step: list[Callable[[Ctx, list[Reply]], Awaitable[list[Reply]]]] = []
        # One message, one transaction: the storage interface (storage/ports.py).
        self.store: ConversationStore = SqlConversationStore()
        # Channels that confirm delivery (``replies_sent``) get replies replayed after a crash.
        self.track_replies = track_replies
        # Called (in the background) after each handled message commits: `serve` wakes the
        # outbox dispatcher and releases WhatsApp rows held for a closed window.
        self.after_message: list[Callable[[Incoming], Awaitable[None]]] = []
        # Channels this process sends outbox rows on (set by the composition root): a flow
        # offers a code by WhatsApp only when WhatsApp messages can actually go out.
        self.outbound_channels: frozenset[str] = frozenset()
        # Workers one chat may be linked to (LINGKARAN_MAX_LINKS_PER_CHAT, set by the root).
        self.max_links_per_chat: int = MAX_LINKS_PER_CHAT
        self._background: set[asyncio.Task[None]] = set()
        self._sent_batch: list[tuple[str, str, str]] = []
        self._sent_done: asyncio.Future[None] | None = None

    async def replies_sent(self, inc: Incoming) -> None:
        """The channel delivered the replies to ``inc``: no replay needed any more.

        Deliveries of many users are marked together in one transaction (a group commit):
        under load this saves a database round trip and a lock turn per message. The call
        returns once this delivery's mark is committed.
        """
        if not self.track_replies:
            return
        self._sent_batch.append((inc.message_id, inc.channel, inc.user_ref))
        if self._sent_done is None:
            self._sent_done = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._flush_sent())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        await asyncio.shield(self._sent_done)

    async def _flush_sent(self) -> None:
        await asyncio.sleep(0)  # let the deliveries finishing in this loop turn join
        batch, done = self._sent_batch, self._sent_done
        self._sent_batch, self._sent_done = [], None
        assert done is not None
        try:
            async with self.db.tx() as tx:
                await self.store.mark_sent(tx, batch)
        except Exception as exc:  # the callers see it (and log it)
            done.set_exception(exc)
        else:
            done.set_result(None)

    # -- per-user ordering ---------------------------------------------------------------

    async def handle(self, inc: Incoming) -> list[Reply]:
        """Handle one message; replies in order. Never raises for a user's bad input."""
        key = (inc.channel, inc.user_ref)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            async with lock:
                return await self._handle(inc)
        finally:
            left = self._waiters[key] - 1
            if left:
                self._waiters[key] = left
            else:
                del self._waiters[key]
                del self._locks[key]

    async def _handle(self, inc: Incoming) -> list[Reply]:
        effects: list[Callable[[], Awaitable[None]]] = []
        try:
            async with self.db.tx() as tx:
                now = self.clock()
                start = await self.store.begin(
                    tx,
                    channel=inc.channel,
                    message_id=inc.message_id,
                    user_ref=inc.user_ref,
                    now_iso=now.isoformat(),
                    display_name=inc.display_name,
                )
                if start.duplicate:
                    # Its effects happened already. If its replies never went out (a crash
                    # between commit and send), send them again; otherwise ignore it.
                    logger.info(
                        "duplicate inbound",
                        extra={"channel": inc.channel, "replayed": bool(start.unsent_replies)},
                    )
                    return [reply_from_dict(r) for r in start.unsent_replies or []]
                fresh = start.state is None
                ctx = Ctx(
                    tx=tx,
                    db=self.db,
                    chat=start.chat,
                    state=start.state or ConversationState(flow=self.menu_flow, step="main"),
                    incoming=inc,
                    now=now,
                    t=translator(start.chat.language),
                    engine=self,
                    effects=effects,
                )
                replies = await self._dispatch(ctx, fresh=fresh)
                for extend in self.after_step:
                    replies = await extend(ctx, replies)
                replies = split_long(replies)
                await self.store.finish(
                    tx,
                    chat_id=ctx.chat.id,
                    state=ctx.state,
                    now_iso=now.isoformat(),
                    message_id=inc.message_id,
                    replies=[reply_to_dict(r) for r in replies] if self.track_replies else None,
                )
        except Exception:
            return await self._recover(inc)
        for fn in effects:
            try:
                await fn()
            except Exception:
                logger.exception("after-commit effect failed")
        for hook in self.after_message:
            task = asyncio.create_task(self._run_hook(hook, inc))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return replies

    async def _run_hook(self, hook: Callable[[Incoming], Awaitable[None]], inc: Incoming) -> None:
        try:
            await hook(inc)
        except Exception:
            logger.exception("after-message hook failed")

    async def _recover(self, inc: Incoming) -> list[Reply]:
        """Log with a correlation id, put the user back at the menu, apologise."""
        cid = uuid.uuid4().hex[:10]
        logger.exception("unexpected error handling message", extra={"correlation_id": cid})
        try:
            async with self.db.tx() as tx:
                now = self.clock()
                # The failed transaction was rolled back: record the message and read the chat
                # again with the same unit the normal path uses.
                start = await self.store.begin(
                    tx,
                    channel=inc.channel,
                    message_id=inc.message_id,
                    user_ref=inc.user_ref,
                    now_iso=now.isoformat(),
                    display_name=inc.display_name,
                    inline=False,
                )
                ctx = Ctx(
                    tx=tx,
                    db=self.db,
                    chat=start.chat,
                    state=start.state or ConversationState(flow=self.menu_flow, step="main"),
                    incoming=inc,
                    now=now,
                    t=translator(start.chat.language),
                    engine=self,
                )
                sorry = ctx.t(
                    N_("Maaf, ada gangguan di sistem kami. Mohon coba lagi. (Kode: {code})"),
                    code=cid,
                )
                replies = [Reply(text=sorry), *await self.show_menu(ctx)]
                await self.store.finish(
                    tx,
                    chat_id=ctx.chat.id,
                    state=ctx.state,
                    now_iso=now.isoformat(),
                    message_id=inc.message_id,
                    replies=[reply_to_dict(r) for r in replies] if self.track_replies else None,
                    inline=False,
                )
                return replies
        except Exception:
            logger.exception("recovery failed", extra={"correlation_id": cid})
            return [Reply(text=f"Maaf, ada gangguan. Mohon coba lagi nanti. ({cid})")]

    # -- dispatch ------------------------------------------------------------------------

    async def _dispatch(self, ctx: Ctx, *, fresh: bool) -> list[Reply]:
        inc = ctx.incoming
        out: list[Reply] = []
        for hook in self.before_step:
            handled = await hook(ctx)
            if handled is not None:
                return handled
        if fresh or ctx.chat.created:
            out.extend(self._welcome(ctx))
        elif self._is_stale(ctx):
            return await self._restart_stale(ctx)

        stale = inc.step_token is not None and inc.step_token != str(ctx.state.version)
        if stale and not (inc.choice_id or "").startswith("cmd:"):
            # A double press or an old keyboard: never submit twice (TECH.md §9).
            note = ctx.t(N_("Tombol itu sudah tidak berlaku. Silakan pilih yang baru."))
            return [Reply(text=note, stale_press=True)]

        cmd = command_of(inc)
        if cmd is not None:
            return out + await self._command(ctx, cmd)
        if inc.media is not None and inc.media.kind == "voice":
            return [*out, *await self._voice(ctx, inc.media)]
        if inc.unsupported is not None:
            text = ctx.t(
                N_("Maaf, pesan jenis ini belum bisa kami baca. Mohon kirim tulisan atau foto.")
            )
            return [*out, Reply(text=text), *(await self.prompt(ctx))]
        if inc.rejected_media is not None:
            return [*out, Reply(text=ctx.t(inc.rejected_media)), *(await self.prompt(ctx))]
        # First contact too: a menu number, a NIK, a date or a question is acted on at once
        # (the menu step reads it), after the welcome.
        return out + await self._answer(ctx)

    # -- state transitions ---------------------------------------------------------------

    def _bump(self, ctx: Ctx) -> None:
        ctx.state.version += 1

    def _current_step(self, ctx: Ctx) -> Step | None:
        flow = self.flows.get(ctx.state.flow)
        if flow is None:
            return None
        return flow.by_name.get(ctx.state.step)

    async def show_menu(self, ctx: Ctx, *, keep_draft: bool = False) -> list[Reply]:
        """Reset to the main menu and render it."""
        flow = self.flows.get(ctx.state.flow)
        draft = ctx.state.draft
        if (
            keep_draft
            and flow is not None
            and flow.keeps_draft
            and ctx.state.data
            and ctx.state.flow != self.menu_flow
        ):
            draft = {
                "flow": ctx.state.flow,
                "step": ctx.state.step,
                "data": ctx.state.data,
                "stack": ctx.state.stack,
            }
        ctx.state = ConversationState(
            flow=self.menu_flow,
            step="main",
            data={},
            stack=[],
            version=ctx.state.version + 1,
            draft=draft,
        )
        return await self.prompt(ctx)

    async def start_flow(
        self,
        ctx: Ctx,
        name: str,
        *,
        step: str | None = None,
        data: Mapping[str, Any] | None = None,
        stack: Sequence[str] = (),
    ) -> list[Reply]:
        """Enter a flow (checking the chat's role) and render its first prompt."""
        flow = self.flows[name]
        if ctx.role not in flow.roles:
            logger.warning("flow refused for role", extra={"flow": name, "role": ctx.role})
            return [
                Reply(text=ctx.t(N_("Maaf, menu itu tidak tersedia untuk Bapak/Ibu."))),
                *await self.show_menu(ctx),
            ]
        ctx.state = ConversationState(
            flow=name,
            step=step or flow.first,
            data=dict(data or {}),
            stack=list(stack),
            version=ctx.state.version + 1,
            draft=ctx.state.draft,
        )
        if flow.on_start is not None and step is None:
            outcome = await flow.on_start(ctx)
            if outcome is not None:
                return await self._apply(ctx, flow, None, outcome)
        return await self.prompt(ctx)

    async def prompt(self, ctx: Ctx) -> list[Reply]:
        """Render the current step's question."""
        step = self._current_step(ctx)
        if step is None:
            return await self.show_menu(ctx)
        asked = pending_ask(ctx)
        if asked is not None:
            return [self._render_ask(ctx, asked)]
        before: list[Reply] = []
        if isinstance(step.prompt, str):
            reply = Reply(text=ctx.t(step.prompt))
        else:
            produced = await step.prompt(ctx)
            if isinstance(produced, list):
                *before, reply = produced
            else:
                reply = produced if isinstance(produced, Reply) else Reply(text=produced)
        options = await self._options(ctx, step)
        choices = self._render_choices(ctx, step, options) or reply.choices
        text = reply.text
        if self._needs_way_out_hint(ctx, step, options):
            text += "\n" + ctx.t(N_('(Ketik "batal" untuk berhenti.)'))
        if ctx.role == "facilitator" and getattr(step.parse, "reads", None) == "nik":
            text += "\n" + ctx.t(N_("Boleh juga ketik nama pekerja."))
        token = str(ctx.state.version)
        return [
            *(Reply(text=b.text, choices=b.choices, step_token=token) for b in before),
            Reply(
                text=text,
                choices=choices,
                request=step.request or reply.request,
                step_token=token,
            ),
        ]

    async def _answer(self, ctx: Ctx) -> list[Reply]:
        flow = self.flows.get(ctx.state.flow)
        step = self._current_step(ctx)
        if flow is None or step is None:
            return await self.show_menu(ctx)
        inc = ctx.incoming
        if inc.media is not None and not step.accepts_media:
            msg = ctx.t(N_("Terima kasih, tetapi saat ini kami tidak menunggu foto atau berkas."))
            return [Reply(text=msg), *await self.prompt(ctx)]
        meaning: Meaning | None = None
        asked = pending_ask(ctx)
        if asked is not None:
            handled = await self._answer_ask(ctx, flow, step, asked)
            if isinstance(handled, list):
                return handled
            meaning = handled
        if meaning is None:
            meaning = await self.interpret(ctx, step)
        if meaning.kind == "confirm":
            assert meaning.confirm is not None
            ctx.state.data[ASK_KEY] = {
                "kind": "confirm",
                "step": step.name,
                "value": meaning.value,
                "msgid": meaning.confirm.msgid,
                "params": meaning.confirm.params,
            }
            self._bump(ctx)
            return await self.prompt(ctx)
        if meaning.kind == "choose":
            assert meaning.choose is not None
            ctx.state.data[ASK_KEY] = {
                "kind": "choose",
                "step": step.name,
                "options": [list(o) for o in meaning.choose.options],
                "msgid": meaning.choose.msgid,
                "params": meaning.choose.params,
            }
            self._bump(ctx)
            return await self.prompt(ctx)
        if meaning.kind == "navigate":
            return await self._navigate(ctx, flow, step, str(meaning.value))
        if meaning.kind == "stale":
            # A button this step does not offer (an old keyboard, or a forged id): no effect.
            note = ctx.t(N_("Tombol itu sudah tidak berlaku. Silakan pilih yang baru."))
            return [Reply(text=note, stale_press=True), *await self.prompt(ctx)]
        if meaning.kind == "invalid":
            assert meaning.invalid is not None
            return await self._reask(ctx, step, meaning.invalid)
        if meaning.kind == "command":
            assert meaning.command is not None
            return await self._command(ctx, meaning.command)
        try:
            value = meaning.value
            if step.save_as is not None:
                ctx.state.data[step.save_as] = value
            outcome: Outcome | None
            if step.next is None:
                outcome = End()
            elif isinstance(step.next, str):
                outcome = step.next
            else:
                outcome = await step.next(ctx, value)
        except Invalid as bad:
            return await self._reask(ctx, step, bad)
        except DomainError as err:
            return await self._reask(ctx, step, _domain_invalid(err))
        return await self._apply(ctx, flow, step, outcome)

    async def _apply(
        self, ctx: Ctx, flow: Flow, step: Step | None, outcome: Outcome
    ) -> list[Reply]:
        """Carry out what a step decided."""
        pre: list[Reply] = []

        def msgs(items: tuple[Reply | str, ...]) -> list[Reply]:
            return [m if isinstance(m, Reply) else Reply(text=m) for m in items]

        if isinstance(outcome, Next):
            pre = msgs(outcome.messages)
            outcome = outcome.step
        if isinstance(outcome, str):
            if step is not None:
                ctx.state.stack.append(step.name)
            ctx.state.step = outcome
            self._bump(ctx)
            return pre + await self.prompt(ctx)
        if isinstance(outcome, Stay):
            self._bump(ctx)  # the old keyboard (e.g. the previous page) goes stale
            return msgs(outcome.messages) + (await self.prompt(ctx) if outcome.reprompt else [])
        if isinstance(outcome, Goto):
            if flow.keeps_draft:
                ctx.state.draft = None
            return msgs(outcome.before) + await self.start_flow(
                ctx, outcome.flow, step=outcome.step, data=outcome.data, stack=outcome.stack
            )
        # End
        if flow.keeps_draft:
            ctx.state.draft = None
        out = msgs(outcome.messages)
        if outcome.menu:
            menu = await self.show_menu(ctx)
            if out and not out[-1].choices and menu:
                # Put the menu's choices under the last message to keep the chat short.
                last = menu[-1]
                out[-1] = Reply(
                    text=out[-1].text,
                    choices=last.choices,
                    step_token=last.step_token,
                    request=out[-1].request,
                )
                return out
            return out + menu
        ctx.state = ConversationState(
            flow=self.menu_flow,
            step="main",
            version=ctx.state.version + 1,
            draft=ctx.state.draft,
        )
        return out
