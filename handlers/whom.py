"""For whom? One phone, a whole household (issue 22).

A chat may be linked to several workers (``services.household``). A worker-specific flow
(coverage, eligibility, my claims, scholarship, my data; the JKK report asks in its own first
step) calls ``subject`` in its ``on_start``: with one link nothing is asked and the flow goes on
as before; with several, the ``whom`` flow asks "Untuk siapa?" with the linked names as buttons
and starts the flow again with the choice in its data (``FOR``), where it stays for the rest of
that flow. Every use of the choice goes through ``services.linked_worker``, which refuses a
worker the chat is not linked to, whatever the conversation data says.

Typed words pick the person too: "cek istri saya", "klaim suami", "cek Siti" (``pick``).
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.common import honorific
from handlers.engine import Ctx, End, Flow, Goto, Option, Outcome, Step, normalise
from handlers.i18n import N_
from lingkaran_core import services
from lingkaran_core.errors import NotAuthorised
from lingkaran_core.storage.repos import Worker

FOR = "for_worker"  # the conversation data key of the choice: a worker id, or an EXTRAS id
HINT = "for_hint"  # the typed words that named a person ("cek istri saya"), resolved on start
MAX_LABEL = 24  # WhatsApp list row titles

# Flows that act for one worker: free text naming a person starts them for that person.
FLOWS = frozenset({"coverage", "eligibility", "my_claims", "beasiswa", "my_data", "jkk"})

EXTRAS: dict[str, Option] = {
    "other": Option(id="other", label=N_("Orang lain"), description=N_("Belum terhubung")),
    "all": Option(id="all", label=N_("Semua laporan"), aliases=("semua",)),
}

# Words for the people of a household, as typed (normalised): (sex among the links, the word
# the bot says back). Sex "P"/"L": that sex only; None: anyone but the chat's own link.
_RELATIVES: dict[str, tuple[str | None, str]] = {
    "istri": ("P", N_("istri")),
    "istriku": ("P", N_("istri")),
    "bini": ("P", N_("istri")),
    "garwo": ("P", N_("istri")),
    "bojo": (None, N_("suami/istri")),
    "bojoku": (None, N_("suami/istri")),
    "suami": ("L", N_("suami")),
    "suamiku": ("L", N_("suami")),
    "ibu": ("P", N_("ibu")),
    "ibuku": ("P", N_("ibu")),
    "emak": ("P", N_("ibu")),
    "simbok": ("P", N_("ibu")),
    "bapak": ("L", N_("bapak")),
    "bapakku": ("L", N_("bapak")),
    "ayah": ("L", N_("bapak")),
    "anak": (None, N_("anak")),
    "anakku": (None, N_("anak")),
    "mertua": (None, N_("mertua")),
    "adik": (None, N_("adik")),
    "kakak": (None, N_("kakak")),
}
# "Bapak"/"Ibu" also address the reader ("bu, cek saya"): a relative only before "saya".
_NEEDS_OWNER = frozenset({"ibu", "bapak", "ayah"})
_SELF = frozenset({"saya", "aku", "kulo", "kula", "sendiri", "ku"})
# Words that mean "look up" without naming a flow: with a person named, they ask for coverage.
_CHECK = frozenset({"cek", "cik", "check", "lihat", "liat", "periksa", "status", "data"})


def _label(ctx: Ctx, worker: Worker) -> str:
    text = honorific(ctx, worker)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _relatives(tokens: Sequence[str]) -> list[str]:
    found = []
    for i, token in enumerate(tokens):
        if token not in _RELATIVES:
            continue
        if token in _NEEDS_OWNER and (i + 1 >= len(tokens) or tokens[i + 1] not in _SELF):
            continue
        found.append(token)
    return found


def relative_in(text: str) -> str | None:
    """The household word a message names ("istri", "suami"...), if any."""
    found = _relatives(normalise(text).split())
    return found[0] if found else None


def asks_for_a_person(text: str) -> bool:
    """ "cek istri saya": a look-up word and a household word, no flow named."""
    tokens = normalise(text).split()
    return bool(set(tokens) & _CHECK) and bool(_relatives(tokens))


def pick(workers: Sequence[Worker], text: str) -> Worker | None:
    """The one linked worker typed words point at: a name, a relative, or "saya" (the own link).

    None when nothing, or more than one, fits (then the question is asked).
    """
    if not workers:
        return None
    tokens = normalise(text).split()
    named = [w for w in workers if _name_hit(w, tokens)]
    if len(named) == 1:
        return named[0]
    own, others = workers[0], list(workers[1:])
    relatives = _relatives(tokens)
    if relatives:
        sex = _RELATIVES[relatives[0]][0]
        fits = [w for w in others if sex is None or w.sex == sex]
        return fits[0] if len(fits) == 1 else None
    if any(t in _SELF for t in tokens):
        return own
    return None


def _name_hit(worker: Worker, tokens: Sequence[str]) -> bool:
    parts = [p for p in normalise(worker.name).split() if len(p) >= 3]
    return any(t in parts for t in tokens)


def _aliases(worker: Worker, workers: Sequence[Worker]) -> tuple[str, ...]:
    """What a person may type to choose a name: the name, the first name, a unique relative."""
    out = [worker.name, *[p for p in normalise(worker.name).split() if len(p) >= 3][:1]]
    if worker.id == workers[0].id:
        out += ["saya", "saya sendiri", "aku"]
    else:
        for word, (sex, _said) in _RELATIVES.items():
            fits = [w for w in workers[1:] if sex is None or w.sex == sex]
            if len(fits) == 1 and fits[0].id == worker.id:
                out += [word, f"{word} saya"]
    return tuple(dict.fromkeys(out))


def options(ctx: Ctx, workers: Sequence[Worker], *, prefix: str = "w:") -> list[Option]:
    """One button per linked worker ("Ibu Siti Aminah"), with the words that pick it."""
    return [
        Option(
            id=f"{prefix}{w.id}",
            label=_label(ctx, w),
            translate=False,
            aliases=_aliases(w, workers),
        )
        for w in workers
    ]


async def linked(ctx: Ctx) -> list[Worker]:
    """The workers this chat is linked to (its own first)."""
    return await services.linked_workers(ctx.tx, ctx.chat.id)


async def chosen(ctx: Ctx) -> Worker | None:
    """The worker remembered for this flow, checked by the service (None when none or stale)."""
    value = ctx.data.get(FOR)
    if not isinstance(value, int):
        return None
    try:
        return await services.linked_worker(ctx.tx, chat_id=ctx.chat.id, worker_id=value)
    except NotAuthorised:
        ctx.data.pop(FOR, None)
        return None


async def named(ctx: Ctx) -> Worker | None:
    """The linked worker this flow was started for by typed words or an earlier choice, if any
    (nothing is asked: a flow with its own "who?" step uses this)."""
    worker = await chosen(ctx)
    if worker is not None:
        return worker
    hint = ctx.data.get(HINT)
    if not isinstance(hint, str):
        return None
    found = pick(await linked(ctx), hint)
    if found is not None:
        ctx.data[FOR] = found.id
    return found


def hint_for(text: str, *, links: int) -> dict[str, object] | None:
    """The data that starts a flow for the person typed words name ("cek istri saya"), or None.

    Kept only when it can matter: a household word, or a phone linked to several people (then a
    name or "saya" picks one too).
    """
    if links == 0 or (links == 1 and relative_in(text) is None):
        return None
    return {HINT: text[:200]}


async def subject(
    ctx: Ctx, flow: str, *, extras: Sequence[str] = ()
) -> Worker | str | Outcome | None:
    """Whom this flow is for.

    A ``Worker`` (the remembered choice, or the only link), an ``EXTRAS`` id the user chose
    (returned as ``str`` only when it was offered: "other", "all"), ``None`` when the chat has
    no link, or the outcome that asks the question first (a ``Goto``).
    """
    value = ctx.data.get(FOR)
    if isinstance(value, str) and value in extras:
        return value
    worker = await chosen(ctx)
    if worker is not None:
        return worker
    workers = await linked(ctx)
    hint = ctx.data.get(HINT)
    if isinstance(hint, str) and workers:
        found = pick(workers, hint)
        if found is not None:
            ctx.data[FOR] = found.id
            return found
        if len(workers) == 1 and relative_in(hint) is not None:
            # "cek istri saya" on a phone linked to the husband alone: offer to link her.
            return Goto("whom", step="missing", data=_carry(ctx, flow, extras))
    if not workers:
        return None
    if len(workers) == 1:
        return workers[0]  # nothing to ask, nothing remembered: the flow works as before
    return Goto("whom", data=_carry(ctx, flow, extras))


def _carry(ctx: Ctx, flow: str, extras: Sequence[str]) -> dict[str, object]:
    keep = {k: v for k, v in ctx.data.items() if k not in (FOR, HINT)}
    return {"then": flow, "keep": keep, "extras": list(extras), "hint": ctx.data.get(HINT)}


async def _prompt(ctx: Ctx) -> str:
    return ctx.t(N_("Untuk siapa? Nomor ini terhubung dengan data beberapa orang."))


async def _choices(ctx: Ctx) -> list[Option]:
    out = options(ctx, await linked(ctx))
    out += [EXTRAS[e] for e in ctx.data.get("extras", ()) if e in EXTRAS]
    out.append(Option(id="menu", label=N_("Menu utama"), aliases=("menu",)))  # a way out
    return out


async def _next(ctx: Ctx, value: str) -> Outcome:
    if value == "menu":
        return End()
    then = str(ctx.data.get("then") or "menu")
    keep = dict(ctx.data.get("keep") or {})
    if value.startswith("w:"):
        keep[FOR] = int(value[2:])
    else:
        keep[FOR] = value
    return Goto(then, data=keep)


async def _missing_prompt(ctx: Ctx) -> str:
    word = relative_in(str(ctx.data.get("hint") or ""))
    who = ctx.t(_RELATIVES[word][1]) if word else ctx.t(N_("orang itu"))
    return ctx.t(
        N_(
            "Data {who} belum terhubung dengan nomor ini. Bisa dihubungkan sekarang: perlu NIK "
            "dan tanggal lahirnya, lalu satu bukti (misalnya nomor HP di data program)."
        ),
        who=who,
    )


async def _missing_next(ctx: Ctx, value: str) -> Outcome:
    if value == "add":
        return Goto("link", data={"add": True, "then": ctx.data.get("then")})
    if value == "self":
        keep = dict(ctx.data.get("keep") or {})
        return Goto(str(ctx.data.get("then") or "menu"), data=keep)
    return End()


WHOM = Flow(
    name="whom",
    roles=frozenset({"worker", "facilitator", "public"}),
    steps=(
        Step(name="pick", prompt=_prompt, choices=_choices, next=_next),
        Step(
            name="missing",
            prompt=_missing_prompt,
            choices=(
                Option(id="add", label=N_("Hubungkan"), aliases=("ya", "hubungkan", "tambah")),
                Option(id="self", label=N_("Data saya saja"), aliases=("saya",)),
                Option(id="menu", label=N_("Menu utama")),
            ),
            next=_missing_next,
        ),
    ),
)
