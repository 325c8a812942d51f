"""The channel-neutral dialog engine.

Channels turn their updates into ``Incoming`` and render the ``Reply`` list the engine returns.
A flow is a dict of declared ``Step``s; the engine loads the chat's state, applies global
commands, matches the answer against the step's choices (by id, number or label), validates it,
stores it and moves on, then saves the state, all in one database transaction that also records
the inbound message id (so a redelivered message has no second effect). Messages of one user are
handled strictly in order (a lock per user); different users run concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from handlers.engine_asks import (
    ASK_CHOICES,
    ASK_KEY,
    MAX_BUBBLE,
    WAY_OUT,
    EngineAsks,
    pending_ask,
    split_long,
)
from handlers.i18n import N_, Translator, translator
from handlers.steps import (
    Answer,
    Choice,
    ChoicesFn,
    Choose,
    Confirm,
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
)
from lingkaran_core.errors import DomainError
from lingkaran_core.rules import MAX_LINKS_PER_CHAT
from lingkaran_core.storage import Database, Tx
from lingkaran_core.storage import chats as chat_store
from lingkaran_core.storage.chats import Chat, ConversationState
from lingkaran_core.storage.ports import ConversationStore, SqlConversationStore

logger = logging.getLogger(__name__)
T = TypeVar("T")

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

STALE_AFTER = timedelta(hours=24)
MAX_TEXT = 4000

# ---------------------------------------------------------------------------------------------
# Context


@dataclass(slots=True, kw_only=True)
class Ctx:
    """Everything a step needs while one message is handled."""

    tx: Tx
    db: Database
    chat: Chat
    state: ConversationState
    incoming: Incoming
    now: datetime
    t: Translator
    engine: Engine
    effects: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    memo: dict[Any, Any] = field(default_factory=dict)

    @property
    def data(self) -> dict[str, Any]:
        """The current flow's answers."""
        return self.state.data

    @property
    def today(self) -> date:
        """Today in Jember."""
        return self.now.astimezone(self.engine.tz).date()

    @property
    def role(self) -> str:
        """public | worker | facilitator (the menu the chat is using)."""
        return self.chat.active_role

    async def cached(self, key: Any, load: Callable[[], Awaitable[T]]) -> T:
        """``load()`` once per render: a screen's prompt and choices share their queries.

        The key includes the conversation's version, which every step change and every
        ``Stay`` bumps, so what a step changed is read afresh for the next render.
        """
        full = (key, self.state.flow, self.state.version)
        if full not in self.memo:
            self.memo[full] = await load()
        value: T = self.memo[full]
        return value

    def after_commit(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Run ``fn`` once the transaction committed (e.g. wake the outbox dispatcher)."""
        self.effects.append(fn)


# ---------------------------------------------------------------------------------------------
# Global commands

_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalise(text: str) -> str:
    """Casefold, strip accents/zero-width/punctuation, collapse spaces: for matching answers."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Mn"))
    return " ".join(_WORD.sub(" ", text).split())


COMMANDS: dict[str, str] = {}
for _cmd, _words in {
    "menu": ("menu", "menu utama", "start", "mulai ulang", "main menu", "home"),
    "cancel": ("batal", "cancel", "batalkan", "stop isi"),
    "back": ("kembali", "back", "balik", "mundur"),
    "help": ("bantuan", "help", "tolong", "bantu"),
    "language": ("bahasa", "language", "ganti bahasa", "basa"),
    "optout": ("berhenti", "stop", "unsubscribe", "berhenti pengingat"),
    "optin": ("mulai", "lanjut pengingat", "subscribe", "mulai pengingat"),
}.items():
    for _w in _words:
        COMMANDS[_w] = _cmd


def command_of(inc: Incoming) -> str | None:
    """The global command a message is, if any (typed word, slash command or button)."""
    if inc.choice_id and inc.choice_id.startswith("cmd:"):
        return inc.choice_id[4:]
    if not inc.text:
        return None
    raw = inc.text.strip()
    if raw.startswith("/"):
        word = raw[1:].split()[0].split("@")[0].lower() if len(raw) > 1 else ""
        if word == "start":
            return "start"
        return COMMANDS.get(word)
    if len(raw) > 30:
        return None
    return COMMANDS.get(normalise(raw))


# ---------------------------------------------------------------------------------------------
# The engine

Hook = Callable[[Ctx], Awaitable[list[Reply] | None]]


class Engine(EngineAsks):
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

    def _welcome(self, ctx: Ctx) -> list[Reply]:
        t = ctx.t
        return [
            Reply(
                text=t(
                    N_(
                        "Selamat datang, Bapak/Ibu. Ini layanan Lingkaran Cinta dari Pemkab "
                        "Jember: cek perlindungan BPJS Ketenagakerjaan, lapor kecelakaan kerja "
                        "atau kematian, dan melihat kabar klaim."
                    )
                )
            ),
            Reply(
                text=t(
                    N_(
                        "Penting: layanan ini GRATIS. Kami tidak pernah meminta uang, kata sandi, "
                        "PIN, atau kode OTP lewat telepon atau orang lain. Kode dari kami hanya "
                        "Bapak/Ibu ketik sendiri di chat ini. Jika ada yang meminta, itu penipuan."
                    )
                )
            ),
        ]

    def _is_stale(self, ctx: Ctx) -> bool:
        st = ctx.state
        if st.flow == self.menu_flow or st.updated_at is None:
            return False
        return ctx.now - datetime.fromisoformat(st.updated_at) > STALE_AFTER

    async def _restart_stale(self, ctx: Ctx) -> list[Reply]:
        flow = self.flows.get(ctx.state.flow)
        note = ctx.t(
            N_("Percakapan sebelumnya sudah lama berhenti, jadi kita mulai lagi dari menu.")
        )
        if flow is not None and flow.keeps_draft and ctx.state.data:
            ctx.state.draft = {
                "flow": ctx.state.flow,
                "step": ctx.state.step,
                "data": ctx.state.data,
            }
            note += "\n" + ctx.t(N_("Laporan yang belum selesai sudah kami simpan."))
        return [Reply(text=note), *await self.show_menu(ctx, keep_draft=True)]

    # -- commands ------------------------------------------------------------------------

    async def _command(self, ctx: Ctx, cmd: str) -> list[Reply]:
        t = ctx.t
        flow = self.flows.get(ctx.state.flow)
        if cmd in ("menu", "start"):
            return await self.show_menu(ctx, keep_draft=True)
        if cmd == "cancel":
            if flow is not None and flow.on_cancel is not None:
                outcome = await flow.on_cancel(ctx)
                if outcome is not None:
                    return await self._apply(ctx, flow, None, outcome)
            in_flow = ctx.state.flow != self.menu_flow
            if flow is not None and flow.keeps_draft:
                ctx.state.draft = None
            if in_flow:
                msg = N_('Baik, dibatalkan. Tidak ada yang dikirim. Ketik "menu" kapan saja.')
            elif ctx.state.draft:
                ctx.state.draft = None  # the unfinished report the menu was offering
                msg = N_("Baik, laporan yang belum selesai sudah dihapus.")
            else:
                msg = N_("Tidak ada yang perlu dibatalkan.")
            return [Reply(text=t(msg)), *await self.show_menu(ctx)]
        if cmd == "back":
            if ctx.state.stack:
                ctx.state.step = ctx.state.stack.pop()
                self._bump(ctx)
                return await self.prompt(ctx)
            return await self.show_menu(ctx, keep_draft=True)
        if cmd == "help":
            step = self._current_step(ctx)
            text = (
                t(step.help)
                if step is not None and step.help
                else t(
                    N_(
                        'Jawab dengan menekan tombol atau mengetik angkanya. Ketik "kembali" untuk '
                        'mengubah jawaban sebelumnya, "batal" untuk berhenti, "menu" untuk menu '
                        'utama. Bantuan petugas: pilih "Bicara dengan petugas" di menu, atau '
                        "telepon BPJS Ketenagakerjaan di 175 (gratis)."
                    )
                )
            )
            return [Reply(text=text), *await self.prompt(ctx)]
        if cmd == "language":
            if flow is not None and flow.keeps_draft and ctx.state.data:
                ctx.state.draft = self._draft_of(ctx)
            return await self.start_flow(ctx, "settings", step="language")
        if cmd == "optout":
            await chat_store.update_chat(ctx.tx, ctx.chat.id, opted_out=1)
            ctx.chat.opted_out = True
            return [
                Reply(
                    text=t(
                        N_(
                            "Baik. Pengingat dan pengumuman tidak kami kirim lagi. Kabar klaim "
                            "Bapak/Ibu tetap dikirim. Perlindungan Bapak/Ibu tidak berubah. "
                            "Ketik MULAI untuk menerima pengingat lagi."
                        )
                    )
                ),
                *await self._pending_question(ctx),
            ]
        if cmd == "optin":
            await chat_store.update_chat(ctx.tx, ctx.chat.id, opted_out=0)
            ctx.chat.opted_out = False
            return [
                Reply(
                    text=t(
                        N_(
                            "Terima kasih. Pengingat akan kami kirim lagi. Ketik BERHENTI kapan saja."
                        )
                    )
                ),
                *await self._pending_question(ctx),
            ]
        return await self.prompt(ctx)

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

    async def _options(self, ctx: Ctx, step: Step) -> Sequence[Option]:
        own = await step.choices(ctx) if callable(step.choices) else step.choices
        remembered = self._remembered(ctx, step)
        return [*remembered, *own] if remembered else own

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

    async def understand(self, ctx: Ctx) -> Meaning:
        """What the current message means where the chat is (a global command comes first)."""
        cmd = command_of(ctx.incoming)
        if cmd is not None:
            return Meaning(kind="command", command=cmd)
        step = self._current_step(ctx)
        if step is None:
            return Meaning(kind="invalid", invalid=Invalid(N_("Mohon tulis jawaban Bapak/Ibu.")))
        return await self.interpret(ctx, step)

    async def interpret(self, ctx: Ctx, step: Step) -> Meaning:
        """What the message answers to ``step``: a choice, a parsed value, a command, or why not.

        Pure with respect to the conversation: nothing is stored, no step is left. The table
        tests (tests/data/step_answers.csv) judge the bot's understanding through this.
        """
        from handlers import answers

        inc = ctx.incoming
        options = await self._options(ctx, step)
        option = match_option(options, inc, ctx.t)
        text = (inc.text or "").strip() or None
        if option is None and inc.choice_id is not None:
            return Meaning(kind="stale")
        if option is None and text is not None and inc.media is None:
            # Not literally a choice: a way out, a menu word, or a choice in the user's words.
            wish = answers.command(text)
            if wish is not None:
                return Meaning(kind="command", command=wish)
            target = answers.navigation(text)
            if (
                target is not None
                and target != ctx.state.flow
                and target in self.flows
                and ctx.state.flow != self.menu_flow
                and ctx.role in self.flows[target].roles
            ):
                return Meaning(kind="navigate", value=target)
            option = answers.choose(options, text, step_key=f"{ctx.state.flow}.{step.name}")
            if option is None and self._is_way_out_number(ctx, step, options, text):
                return Meaning(kind="command", command="cancel")
        if option is not None and option.as_text is not None:
            # A value remembered from earlier: answered as if typed again.
            text, option = option.as_text, None
        # A shared contact only answers a step that asked for one.
        contact = inc.contact_phone if step.request == "contact" else None
        if option is None and inc.media is None and contact is None:
            visible = [o for o in options if not o.hidden and o.as_text is None]
            if visible and not step.free_text:
                return Meaning(
                    kind="invalid",
                    invalid=Invalid(
                        N_("Mohon pilih salah satu: tekan tombol atau ketik angka 1 sampai {n}."),
                        n=len([o for o in options if not o.hidden]),
                    ),
                )
            if text is None and inc.location is None:
                return Meaning(
                    kind="invalid", invalid=Invalid(N_("Mohon tulis jawaban Bapak/Ibu."))
                )
            if text is not None and len(text) > step.max_len:
                return Meaning(
                    kind="invalid",
                    invalid=Invalid(
                        N_(
                            "Jawaban terlalu panjang ({got} huruf). Mohon singkat saja, paling banyak {max} huruf."
                        ),
                        got=len(text),
                        max=step.max_len,
                    ),
                )
        if option is not None and option.id.startswith("cmd:"):
            return Meaning(kind="command", command=option.id[4:])
        answer = Answer(
            text=text,
            option=option,
            media=inc.media,
            contact_phone=contact,
            location=inc.location,
        )
        try:
            value: Any = answer.value
            if step.parse is not None:
                value = await step.parse(ctx, answer)
        except Invalid as bad:
            return Meaning(kind="invalid", invalid=bad)
        except Confirm as unsure:
            return Meaning(kind="confirm", value=unsure.value, confirm=unsure)
        except Choose as several:
            return Meaning(kind="choose", choose=several)
        except DomainError as err:
            return Meaning(kind="invalid", invalid=_domain_invalid(err))
        return Meaning(kind="value", value=value, option=option)

    async def _reask(self, ctx: Ctx, step: Step, bad: Invalid) -> list[Reply]:
        reason = ctx.t(bad.msgid, **bad.params)
        options = await self._options(ctx, step)
        choices = self._render_choices(ctx, step, options)
        if choices or step.request:
            return [
                Reply(
                    text=reason,
                    choices=choices,
                    request=step.request,
                    step_token=str(ctx.state.version),
                )
            ]
        return [Reply(text=reason)]

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


def match_option(options: Sequence[Option], inc: Incoming, t: Translator) -> Option | None:
    """The option a message picks: by button id, by its number, or by its label/alias."""
    if not options:
        return None
    if inc.choice_id is not None:
        for o in options:
            if o.id == inc.choice_id:
                return o
        return None
    if not inc.text:
        return None
    raw = normalise(inc.text)
    if not raw:
        return None
    numbered = [o for o in options if not o.hidden]
    if raw.isdigit():
        n = int(raw)
        return numbered[n - 1] if 1 <= n <= len(numbered) else None
    for o in options:
        label = normalise(t(o.label) if o.translate else o.label)
        if raw == label or raw == normalise(o.label) or raw == normalise(o.id):
            return o
        if any(raw == normalise(a) for a in o.aliases):
            return o
    # "1." / "1)" / "no 1" typed by hand
    m = re.fullmatch(r"(?:no|nomor|pilih)?\s*(\d{1,2})", raw)
    if m:
        n = int(m.group(1))
        return numbered[n - 1] if 1 <= n <= len(numbered) else None
    return None


def reply_to_dict(reply: Reply) -> dict[str, Any]:
    """A reply as JSON-able data (for replay after a crash)."""
    return {
        "text": reply.text,
        "choices": [[c.id, c.label, c.description] for c in reply.choices],
        "request": reply.request,
        "step_token": reply.step_token,
    }


def reply_from_dict(data: dict[str, Any]) -> Reply:
    """The inverse of ``reply_to_dict``."""
    return Reply(
        text=data["text"],
        choices=tuple(Choice(id=i, label=lbl, description=d) for i, lbl, d in data["choices"]),
        request=data.get("request"),
        step_token=data.get("step_token"),
    )
