"""What the engine asks and offers on its own, around the flows' steps (a mixin of ``Engine``).

- Its own questions, kept in the conversation's data under ``ASK_KEY``: confirm a value a parser
  was unsure of (``Confirm``), pick one of several (``Choose``), leave a half-filled report for a
  menu word ("klaim saya"), or keep words typed while writing to staff as the message.
- A way out on every words-only step (a "Batal" button, or a one-line hint beside the step's own
  buttons), values typed earlier offered again as buttons (a NIK or date typed at the menu).
- Voice notes kept on a ticket, the pending question asked again after BERHENTI/MULAI.
- ``split_long``: no bubble over 600 characters (buttons stay on the last one).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from handlers.engine_reading import match_option
from handlers.i18n import N_
from handlers.steps import (
    Answer,
    Choice,
    Flow,
    Invalid,
    Meaning,
    Media,
    Option,
    Reply,
    Step,
)
from lingkaran_core.errors import DomainError

if TYPE_CHECKING:
    from handlers.engine import Ctx

logger = logging.getLogger("handlers.engine")

ASK_KEY = "_ask"
WAY_OUT = Option(id="cmd:cancel", label=N_("Batal"))
ASK_CHOICES = (
    Option(
        id="yes",
        label=N_("Ya, benar"),
        aliases=("ya", "iya", "benar", "betul", "y", "ya pindah", "pindah"),
    ),
    Option(
        id="no",
        label=N_("Bukan"),
        aliases=("bukan", "tidak", "salah", "lanjutkan laporan", "tambahkan", "tambahkan ke pesan"),
    ),
)


def _choose_options(asked: Mapping[str, Any]) -> list[Option]:
    return [
        Option(id=f"pick:{value}", label=label, description=desc, translate=False)
        for value, label, desc in asked.get("options") or ()
    ]


MAX_BUBBLE = 600


def _chunks(text: str, limit: int) -> list[str]:
    """Cut a text at line, then sentence, then word boundaries into pieces of <= ``limit``."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        parts = [line] if len(line) <= limit else re.split(r"(?<=[.!?;:])\s+", line)
        for part in parts:
            while len(part) > limit:
                cut = part.rfind(" ", 0, limit)
                cut = cut if cut > limit // 2 else limit
                if current:
                    pieces.append(current)
                    current = ""
                pieces.append(part[:cut].rstrip())
                part = part[cut:].lstrip()
            joiner = "\n" if current and part is parts[0] else " " if current else ""
            if len(current) + len(joiner) + len(part) > limit:
                pieces.append(current)
                current = part
            else:
                current += joiner + part
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()]


def split_long(replies: Sequence[Reply], limit: int = MAX_BUBBLE) -> list[Reply]:
    """No bubble over ``limit`` characters: a long reply becomes several, buttons on the last."""
    out: list[Reply] = []
    for reply in replies:
        pieces = _chunks(reply.text, limit)
        if len(pieces) == 1:
            out.append(reply)
            continue
        out += [Reply(text=p) for p in pieces[:-1]]
        out.append(
            Reply(
                text=pieces[-1],
                choices=reply.choices,
                request=reply.request,
                step_token=reply.step_token,
                stale_press=reply.stale_press,
            )
        )
    return out


def pending_ask(ctx: Ctx) -> dict[str, Any] | None:
    """The engine's own open question at this step (confirm a value, leave a report), if any."""
    asked = ctx.state.data.get(ASK_KEY)
    if isinstance(asked, dict) and asked.get("step") == ctx.state.step:
        return asked
    return None


class EngineAsks:
    """The engine's own questions and offers (``Engine`` inherits them)."""

    if TYPE_CHECKING:
        flows: dict[str, Flow]
        menu_flow: str

        async def prompt(self, ctx: Ctx) -> list[Reply]: ...

        async def start_flow(self, ctx: Ctx, name: str) -> list[Reply]: ...

        async def _reask(self, ctx: Ctx, step: Step, bad: Invalid) -> list[Reply]: ...

        def _bump(self, ctx: Ctx) -> None: ...

    async def _voice(self, ctx: Ctx, media: Media) -> list[Reply]:
        """A voice note: kept on a ticket for a person to listen to; the step is asked again."""
        from lingkaran_core import services

        text = ctx.t(N_("Pesan suara belum bisa kami dengar; mohon ketik atau tekan tombol."))
        try:
            ticket = await services.keep_voice_note(
                ctx.tx,
                chat_id=ctx.chat.id,
                data=media.data,
                mime=media.mime,
                files_dir=ctx.db.files_dir,
                now=ctx.now,
                channel=ctx.chat.channel,
            )
        except DomainError:
            logger.info("voice note not kept", extra={"channel": ctx.chat.channel})
        else:
            text += "\n" + ctx.t(
                N_("Pesan suara itu kami simpan untuk didengar petugas (tiket {ticket})."),
                ticket=services.ticket_ref(ticket),
            )
        return [Reply(text=text), *await self.prompt(ctx)]

    async def _pending_question(self, ctx: Ctx) -> list[Reply]:
        """The question a flow was waiting for, again (not the whole menu at the menu)."""
        if ctx.state.flow == self.menu_flow and ctx.state.step == "main":
            return []
        return await self.prompt(ctx)

    def _free_text(self, ctx: Ctx, step: Step, options: Sequence[Option]) -> bool:
        """A step answered in the user's own words (inside a flow, not the menu)."""
        if ctx.state.flow == self.menu_flow:
            return False
        declared_words_only = not callable(step.choices) and not step.choices
        return step.free_text or declared_words_only

    def _needs_way_out_hint(self, ctx: Ctx, step: Step, options: Sequence[Option]) -> bool:
        visible = [o for o in options if not o.hidden]
        if not visible or not self._free_text(ctx, step, options):
            return False
        return not any(o.id.startswith("cmd:") or o.id == "menu" for o in visible)

    def _render_choices(
        self, ctx: Ctx, step: Step, options: Sequence[Option]
    ) -> tuple[Choice, ...]:
        """The buttons of a step: its visible options, or "Batal" for a words-only step."""
        shown = tuple(o.render(ctx.t) for o in options if not o.hidden)
        if not shown and self._free_text(ctx, step, options):
            return (WAY_OUT.render(ctx.t),)
        return shown

    def _render_ask(self, ctx: Ctx, asked: dict[str, Any]) -> Reply:
        t = ctx.t
        if asked["kind"] == "leave":
            text = t(
                N_(
                    "Laporan ini belum selesai. Pindah ke menu lain sekarang? Jawaban yang sudah "
                    'diisi kami simpan; bisa dilanjutkan lewat "Lanjutkan laporan".'
                )
            )
            choices: tuple[Choice, ...] = (
                Choice(id="yes", label=t(N_("Ya, pindah"))),
                Choice(id="no", label=t(N_("Lanjutkan laporan"))),
            )
        elif asked["kind"] == "words":
            text = t(
                N_(
                    'Tulisan "{said}" kami tambahkan ke pesan untuk petugas, atau Bapak/Ibu mau '
                    "pindah ke menu itu?"
                ),
                said=str(asked.get("text", ""))[:60],
            )
            choices = (
                Choice(id="no", label=t(N_("Tambahkan ke pesan"))),
                Choice(id="yes", label=t(N_("Pindah ke menu itu"))),
            )
        elif asked["kind"] == "choose":
            text = t(str(asked["msgid"]), **dict(asked.get("params") or {}))
            listed = _choose_options(asked)
            text += "\n" + "\n".join(
                f"{i}. {o.label}" + (f" ({o.description})" if o.description else "")
                for i, o in enumerate(listed, 1)
            )
            choices = tuple(o.render(t) for o in listed)
        else:
            text = t(str(asked["msgid"]), **dict(asked.get("params") or {}))
            choices = tuple(o.render(t) for o in ASK_CHOICES)
        return Reply(text=text, choices=choices, step_token=str(ctx.state.version))

    def _remembered(self, ctx: Ctx, step: Step) -> list[Option]:
        """A NIK or date the user typed before this flow, offered where the step reads one."""
        kind = getattr(step.parse, "reads", None)
        if kind == "nik" and ctx.state.data.get("typed_nik"):
            nik = str(ctx.state.data["typed_nik"])
            return [
                Option(
                    id="typed:nik",
                    label=N_("Pakai NIK tadi"),
                    description=f"{nik[:4]}********{nik[-4:]}",
                    as_text=nik,
                    translate=True,
                )
            ]
        if kind in ("date", "birth_date") and ctx.state.data.get("typed_date"):
            day = str(ctx.state.data["typed_date"])
            return [
                Option(
                    id="typed:date",
                    label=ctx.t.date(date.fromisoformat(day)),
                    as_text=day,
                    translate=False,
                )
            ]
        return []

    async def _answer_ask(
        self, ctx: Ctx, flow: Flow, step: Step, asked: dict[str, Any]
    ) -> list[Reply] | Meaning | None:
        """The answer to a question the engine asked itself (confirm a value, leave a report)."""
        from handlers import answers

        inc = ctx.incoming
        if asked["kind"] == "choose":
            listed = _choose_options(asked)
            chosen = match_option(listed, inc, ctx.t)
            if chosen is None and inc.choice_id is not None:
                note = ctx.t(N_("Tombol itu sudah tidak berlaku. Silakan pilih yang baru."))
                return [Reply(text=note, stale_press=True), *await self.prompt(ctx)]
            ctx.state.data.pop(ASK_KEY, None)
            self._bump(ctx)
            if chosen is None:
                return None  # typed something else: read it afresh
            return Meaning(kind="value", value=chosen.id.removeprefix("pick:"))
        picked = match_option(ASK_CHOICES, inc, ctx.t)
        if picked is None and inc.text and inc.choice_id is None:
            picked = answers.choose(ASK_CHOICES, inc.text, step_key=None)
        if picked is None and inc.choice_id is not None:
            note = ctx.t(N_("Tombol itu sudah tidak berlaku. Silakan pilih yang baru."))
            return [Reply(text=note, stale_press=True), *await self.prompt(ctx)]
        ctx.state.data.pop(ASK_KEY, None)
        self._bump(ctx)
        if asked["kind"] == "leave":
            if picked is not None and picked.id == "yes":
                return await self._leave_for(ctx, str(asked["target"]))
            if picked is not None:
                return await self.prompt(ctx)
            return None  # something else: read it as an answer to the step
        if asked["kind"] == "words":
            if picked is not None and picked.id == "yes":
                return await self._leave_for(ctx, str(asked["target"]))
            if picked is None:
                return None
            said = str(asked.get("text") or "")
            try:
                value = await step.parse(ctx, Answer(text=said)) if step.parse else said
            except Invalid as bad:
                return await self._reask(ctx, step, bad)
            return Meaning(kind="value", value=value)
        if picked is None:
            return None  # typed again (a corrected NIK): read it afresh
        if picked.id == "no":
            again = ctx.t(N_("Baik. Mohon ketik lagi."))
            return [Reply(text=again), *await self.prompt(ctx)]
        return Meaning(kind="value", value=asked["value"])

    async def _navigate(self, ctx: Ctx, flow: Flow, step: Step, target: str) -> list[Reply]:
        """A menu word inside a flow: go there, asking first when a report is half filled."""
        if flow.keeps_draft and ctx.state.data:
            ctx.state.data[ASK_KEY] = {"kind": "leave", "step": step.name, "target": target}
            self._bump(ctx)
            return await self.prompt(ctx)
        if step.ask_before_leaving:
            ctx.state.data[ASK_KEY] = {
                "kind": "words",
                "step": step.name,
                "target": target,
                "text": (ctx.incoming.text or "").strip(),
            }
            self._bump(ctx)
            return await self.prompt(ctx)
        return await self._leave_for(ctx, target)

    async def _leave_for(self, ctx: Ctx, target: str) -> list[Reply]:
        flow = self.flows.get(ctx.state.flow)
        if flow is not None and flow.keeps_draft and ctx.state.data:
            ctx.state.draft = self._draft_of(ctx)
        return await self.start_flow(ctx, target)

    def _draft_of(self, ctx: Ctx) -> dict[str, Any]:
        data = {k: v for k, v in ctx.state.data.items() if k != ASK_KEY}
        return {
            "flow": ctx.state.flow,
            "step": ctx.state.step,
            "data": data,
            "stack": ctx.state.stack,
        }

    def _is_way_out_number(
        self, ctx: Ctx, step: Step, options: Sequence[Option], text: str
    ) -> bool:
        """ "1" typed at a words-only step whose one button, numbered 1, is "Batal"."""
        return (
            text.strip() == "1"
            and not any(not o.hidden for o in options)
            and (self._free_text(ctx, step, options))
        )
