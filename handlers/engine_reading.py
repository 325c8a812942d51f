"""How the engine reads a message (``EngineReading``, a mixin of ``Engine``; pure matchers).

- ``command_of``: the global command a message is (menu, batal, kembali, bantuan, bahasa,
  berhenti, mulai), typed, as a slash command or as a button.
- ``match_option``: the option a message picks, by button id, by its number, or by its label.
- ``interpret``: what a message answers to a step (a choice, a parsed value, a command, a value
  to confirm, or why not), without changing the conversation; ``_reask`` says why not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from handlers.i18n import N_, Translator
from handlers.steps import (
    Answer,
    Choice,
    Choose,
    Confirm,
    Flow,
    Incoming,
    Invalid,
    Meaning,
    Option,
    Reply,
    Step,
    _domain_invalid,
)
from lingkaran_core.errors import DomainError

if TYPE_CHECKING:
    from handlers.engine import Ctx

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


class EngineReading:
    """Reading an answer against the current step (``Engine`` inherits it)."""

    if TYPE_CHECKING:
        flows: dict[str, Flow]
        menu_flow: str

        def _current_step(self, ctx: Ctx) -> Step | None: ...

        def _remembered(self, ctx: Ctx, step: Step) -> list[Option]: ...

        def _render_choices(
            self, ctx: Ctx, step: Step, options: Sequence[Option]
        ) -> tuple[Choice, ...]: ...

        def _is_way_out_number(
            self, ctx: Ctx, step: Step, options: Sequence[Option], text: str
        ) -> bool: ...

    async def _options(self, ctx: Ctx, step: Step) -> Sequence[Option]:
        own = await step.choices(ctx) if callable(step.choices) else step.choices
        remembered = self._remembered(ctx, step)
        return [*remembered, *own] if remembered else own

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
