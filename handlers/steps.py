"""What flows are made of: the channel-neutral messages and the step declarations.

Split out of ``handlers.engine`` (which re-exports every name here, so flows keep importing
``from handlers.engine import Step, Option, ...``): a flow module declares ``Step``s and
``Option``s, parsers raise ``Invalid`` (re-ask), ``Confirm`` (ask Ya/Bukan before using a value)
or ``Choose`` (pick one of several), and ``next`` returns an ``Outcome``. Every step function
gets the ``Ctx`` of the message being handled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from handlers.i18n import Translator
from lingkaran_core.errors import DomainError
from lingkaran_core.storage import Database, Tx
from lingkaran_core.storage.chats import Chat, ConversationState

if TYPE_CHECKING:
    from handlers.engine import Engine

# ---------------------------------------------------------------------------------------------
# Channel-neutral messages


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    """A file the user sent (photo, document or voice note), already downloaded by the channel."""

    data: bytes
    mime: str
    kind: Literal["photo", "document", "voice", "other"] = "photo"
    filename: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Incoming:
    """One message from a user, whatever the channel."""

    channel: str
    user_ref: str
    message_id: str
    text: str | None = None
    choice_id: str | None = None
    step_token: str | None = None
    media: Media | None = None
    contact_phone: str | None = None
    location: tuple[float, float] | None = None
    display_name: str | None = None
    unsupported: str | None = None
    rejected_media: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """A closed answer offered with a message: a button, a list row, a numbered line."""

    id: str
    label: str
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One outgoing message."""

    text: str
    choices: tuple[Choice, ...] = ()
    request: Literal["photo", "contact", "location"] | None = None
    step_token: str | None = None
    stale_press: bool = False


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


# ---------------------------------------------------------------------------------------------
# Declarations


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """A choice as declared in a flow: its label is a msgid unless ``translate`` is False."""

    id: str
    label: str
    description: str | None = None
    aliases: tuple[str, ...] = ()
    translate: bool = True
    count: int | None = None  # shown after the label: "Tiket terbuka (2)"
    # Accepted (by id, alias or label) but not listed: its button is shown elsewhere.
    hidden: bool = False
    # Picking it answers the step as if this text had been typed (a NIK given earlier).
    as_text: str | None = None

    def render(self, t: Translator) -> Choice:
        """The translated choice."""
        label = t(self.label) if self.translate else self.label
        if self.count is not None:
            label = f"{label} ({self.count})"
        description = self.description
        if self.translate and description:
            description = t(description)
        return Choice(id=self.id, label=label, description=description)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What the user answered to a step."""

    text: str | None = None
    option: Option | None = None
    media: Media | None = None
    contact_phone: str | None = None
    location: tuple[float, float] | None = None

    @property
    def value(self) -> str:
        """The option id when a choice was made, else the text."""
        if self.option is not None:
            return self.option.id
        return self.text or ""


class Invalid(Exception):
    """A bad answer: re-ask the step with this reason (a msgid with parameters)."""

    def __init__(self, msgid: str, /, **params: object) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params


class Choose(Exception):
    """Several values fit the answer (three workers named Sutrisno): the user picks one.

    ``options`` are (value, label, description); picking one carries on with its value as if
    it had been parsed.
    """

    def __init__(
        self, options: Sequence[tuple[str, str, str | None]], msgid: str, /, **params: object
    ) -> None:
        super().__init__(msgid)
        self.options = list(options)
        self.msgid = msgid
        self.params = params


class Confirm(Exception):
    """A value the parser is not sure of (a NIK typed with O for 0): ask before using it.

    The question (a msgid with parameters) is answered Ya/Bukan; "Ya" carries on with ``value``
    as if it had been parsed, "Bukan" asks the step again.
    """

    def __init__(self, value: Any, msgid: str, /, **params: object) -> None:
        super().__init__(msgid)
        self.value = value
        self.msgid = msgid
        self.params = params


@dataclass(frozen=True, slots=True, kw_only=True)
class Meaning:
    """How the engine understood a message at a step (``Engine.interpret``)."""

    kind: Literal["value", "command", "invalid", "stale", "confirm", "navigate", "choose"]
    value: Any = None
    option: Option | None = None
    command: str | None = None
    invalid: Invalid | None = None
    confirm: Confirm | None = None
    choose: Choose | None = None


def _domain_invalid(err: DomainError) -> Invalid:
    from handlers.messages import domain_message

    msgid, params = domain_message(err)
    return Invalid(msgid, **params)


@dataclass(frozen=True, slots=True)
class Goto:
    """Leave this flow and start another (optionally at a given step, with data)."""

    flow: str
    step: str | None = None
    data: Mapping[str, Any] | None = None
    before: tuple[Reply | str, ...] = ()
    stack: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class End:
    """Finish the flow: send these messages, then show the menu (unless ``menu`` is False)."""

    messages: tuple[Reply | str, ...] = ()
    menu: bool = True


@dataclass(frozen=True, slots=True)
class Stay:
    """Stay on the step: send these messages, then the step's prompt again."""

    messages: tuple[Reply | str, ...] = ()
    reprompt: bool = True


@dataclass(frozen=True, slots=True)
class Next:
    """Move to ``step`` after sending ``messages`` first."""

    step: str
    messages: tuple[Reply | str, ...] = ()


Outcome = str | Goto | End | Stay | Next
PromptFn = Callable[["Ctx"], Awaitable[str | Reply | list[Reply]]]
ChoicesFn = Callable[["Ctx"], Awaitable[Sequence[Option]]]
ParseFn = Callable[["Ctx", Answer], Awaitable[Any]]
NextFn = Callable[["Ctx", Any], Awaitable[Outcome]]
StartFn = Callable[["Ctx"], Awaitable[Outcome | None]]


ParserT = TypeVar("ParserT", bound=Callable[..., Awaitable[Any]])


def reads(kind: Literal["nik", "date", "birth_date"]) -> Callable[[ParserT], ParserT]:
    """Mark a parser with what it reads: the step then offers a value the user typed earlier
    (a NIK or a date typed at the menu) as a button."""

    def mark(fn: ParserT) -> ParserT:
        fn.reads = kind  # type: ignore[attr-defined]
        return fn

    return mark


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One question of a flow."""

    name: str
    prompt: str | PromptFn
    choices: Sequence[Option] | ChoicesFn = ()
    free_text: bool = False
    parse: ParseFn | None = None
    save_as: str | None = None
    next: str | NextFn | None = None
    accepts_media: bool = False
    request: Literal["photo", "contact", "location"] | None = None
    help: str | None = None
    max_len: int = 500
    # A menu word typed here may be meant as the answer (a message to a ticket): ask first.
    ask_before_leaving: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """A named sequence of steps."""

    name: str
    steps: tuple[Step, ...]
    start: str | None = None
    on_start: StartFn | None = None
    roles: frozenset[str] = frozenset({"public", "worker", "facilitator"})
    keeps_draft: bool = False
    # "batal" inside this flow: what to do instead of "nothing was sent" (e.g. a report that was
    # sent already stays sent); None keeps the default.
    on_cancel: StartFn | None = None
    by_name: dict[str, Step] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for s in self.steps:
            self.by_name[s.name] = s

    @property
    def first(self) -> str:
        """The step a fresh start lands on."""
        return self.start or self.steps[0].name

    def step(self, name: str) -> Step:
        """A step by name."""
        return self.by_name[name]


# ---------------------------------------------------------------------------------------------
# Context

T = TypeVar("T")


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
