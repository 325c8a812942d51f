"""Offer Basa Jawa or Bhâsa Madhurâ to someone who writes in it; never switch silently.

While a chat still reads Indonesian (the default) and is in its first turns, each typed message is
scored against two small word lists (``handlers/data/language_words.json``). When it reads as
Javanese or Madurese, the replies get one more message just above the step's question, in that
language with the Indonesian below it, and buttons "Basa Jawa" / "Bhâsa Madhurâ" /
"Bahasa Indonesia". A press (or typing "basa jawa", "bahasa madura") switches the chat and asks
the pending question again in the new language; "Bahasa Indonesia" keeps Indonesian and ends the
offers for this chat.

"First turns" is read from the conversation's version, which counts the chat's turns from its
first message and never goes back (``OFFER_TURNS``): no column or query is needed, and declining
moves the version past that window.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import unicodedata

from handlers.engine import Choice, Ctx, Reply, normalise
from handlers.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, N_, translator
from lingkaran_core.storage import chats as chat_store

OFFERED = ("jv", "mad")
OFFER_TURNS = 8
PREFIX = "lang:"
_STRONG, _WEAK = 2, 1
_TOKEN = re.compile(r"[a-z]+")

OFFER_TEXT = {
    "jv": N_("Bapak/Ibu menulis dalam bahasa Jawa. Mau kami layani dalam bahasa Jawa?"),
    "mad": N_("Bapak/Ibu menulis dalam bahasa Madura. Mau kami layani dalam bahasa Madura?"),
}
KEEP_INDONESIAN = N_("Baik, kami tetap memakai Bahasa Indonesia. Ketik BAHASA untuk mengganti.")
_TYPED = {
    "basa jawa": "jv",
    "bahasa jawa": "jv",
    "boso jowo": "jv",
    "bahasa madura": "mad",
    "basa madura": "mad",
    "bhasa madhura": "mad",
    "bhâsa madhurâ": "mad",
}


@functools.cache
def _words() -> dict[str, dict[str, int]]:
    source = importlib.resources.files("handlers").joinpath("data/language_words.json")
    raw = json.loads(source.read_text(encoding="utf-8"))
    out: dict[str, dict[str, int]] = {}
    for lang in OFFERED:
        weights = {w: _WEAK for w in raw[lang]["weak"]}
        weights.update({w: _STRONG for w in raw[lang]["strong"]})
        out[lang] = weights
    return out


def _tokens(text: str) -> list[str]:
    """Lower-case words without diacritics or apostrophes: ``Bâ'na`` -> ``bana``."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    plain = re.sub(r"['’‘`]", "", plain)
    return _TOKEN.findall(plain)


def scores(text: str) -> dict[str, int]:
    """The marker score of each offered language (distinct words, strong 2, weak 1)."""
    tokens = set(_tokens(text))
    return {lang: sum(w.get(t, 0) for t in tokens) for lang, w in _words().items()}


def detect(text: str) -> tuple[str, ...]:
    """The languages to offer for ``text``: (), one, or both when it could be either.

    A message needs two points (one strong word, or two weak ones) and, unless it has four, a
    third of its words must be markers: one Javanese word inside an Indonesian sentence
    ("sudah bayar lho, wis") is common in Jember and is not a reason to ask.
    """
    tokens = _tokens(text)
    if not tokens:
        return ()
    words = _words()
    found: list[tuple[int, str]] = []
    for lang, score in scores(text).items():
        hits = sum(1 for t in tokens if t in words[lang])
        if score >= 4 or (score >= 2 and hits * 3 >= len(tokens)):
            found.append((score, lang))
    if not found:
        return ()
    found.sort(reverse=True)
    if len(found) == 2 and found[0][0] - found[1][0] < 2:
        return ("jv", "mad")
    return (found[0][1],)


def _offer(langs: tuple[str, ...], token: str | None) -> Reply:
    ask = translator(DEFAULT_LANGUAGE)
    lines = [translator(lang)(OFFER_TEXT[lang]) for lang in langs]
    lines += [f"({ask(OFFER_TEXT[lang])})" for lang in langs]
    choices = tuple(Choice(id=PREFIX + lang, label=LANGUAGE_NAMES[lang]) for lang in langs)
    choices += (Choice(id=PREFIX + DEFAULT_LANGUAGE, label=LANGUAGE_NAMES[DEFAULT_LANGUAGE]),)
    return Reply(text="\n".join(lines), choices=choices, step_token=token)


async def add_offer(ctx: Ctx, replies: list[Reply]) -> list[Reply]:
    """After a handled message: put the offer above the question when the text reads jv/mad."""
    text = ctx.incoming.text
    if (
        not text
        or not replies
        or ctx.chat.language != DEFAULT_LANGUAGE
        or ctx.role == "facilitator"
        or ctx.state.version > OFFER_TURNS
        or ctx.state.flow == "settings"
        or any(r.stale_press for r in replies)
    ):
        return replies
    langs = detect(text)
    if not langs:
        return replies
    offer = _offer(langs, replies[-1].step_token)
    return [*replies[:-1], offer, replies[-1]]


async def offer_hook(ctx: Ctx) -> list[Reply] | None:
    """Before the step: a press on the offer (or "basa jawa" typed) switches the language."""
    inc = ctx.incoming
    lang: str | None = None
    if inc.choice_id and inc.choice_id.startswith(PREFIX):
        lang = inc.choice_id[len(PREFIX) :]
        if lang not in LANGUAGES:
            return None
    elif inc.text and ctx.state.flow != "settings" and len(inc.text) <= 30:
        lang = _TYPED.get(normalise(inc.text))
    if lang is None:
        return None
    if lang != ctx.chat.language:
        await chat_store.update_chat(ctx.tx, ctx.chat.id, language=lang)
        ctx.chat.language = lang
        ctx.t = translator(lang)
    # Declining or choosing ends the offers: move the turn count past the offering window.
    ctx.state.version = max(ctx.state.version + 1, OFFER_TURNS + 1)
    if lang == DEFAULT_LANGUAGE:
        note = ctx.t(KEEP_INDONESIAN)
    else:
        note = ctx.t(N_("Bahasa diganti ke Bahasa Indonesia."))
    return [Reply(text=note), *await ctx.engine.prompt(ctx)]
