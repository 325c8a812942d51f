"""Free-text intent routing: map what a user typed to one of the bot's flows.

Channel-neutral and pure. All words, weights and rules live in ``handlers/data/intents.json``;
this module only normalises text and scores it in three layers:

1. tokens -> canonical tokens (aliases for slang/abbreviations/Javanese/Madurese, suffix
   stripping, doubled-letter repair, then a rapidfuzz lookup for typos),
2. canonical tokens -> *concepts* (lexicons of words and multi-word phrases; phrases win and
   consume their tokens; each concept counts once),
3. concepts -> intent scores (per-intent weights, plus co-occurrence rules such as
   "death + work accident -> jkk").

The best intent wins when its raw score reaches the data's ``threshold``; otherwise ``intent`` is
``None`` and the caller offers the menu and a person to talk to.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

__all__ = ["INTENTS", "IntentMatch", "classify", "rank"]

INTENTS = (
    "greeting",
    "coverage",
    "eligibility",
    "jkk",
    "jkm",
    "beasiswa",
    "my_claims",
    "documents",
    "benefits",
    "human",
    "about",
    "settings",
    "thanks",
    "claim",
    "health_insurance",
    "scam",
    "hospital",
)

_SUFFIXES = ("nya", "ne", "ku", "mu", "lah", "kah", "e")
# Apostrophes carry Madurese glottal stops (engko', ebhu', ta'): drop them, do not split on them.
_APOSTROPHES = re.compile(r"['’`´ʼ‘]")
_NON_WORD = re.compile(r"[\W_]+")
_RUN3 = re.compile(r"([^\W\d_])\1{2,}")  # letters only: NIKs and report numbers keep 000
_DOUBLE = re.compile(r"([^\W\d_])\1")
_DIGIT_WORD = re.compile(r"^([a-z]+)2$")  # anak2 -> anak (Indonesian reduplication shorthand)


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentMatch:
    """The routing decision for one message; ``matched`` is the winning phrase, for debugging."""

    intent: str | None
    score: float
    matched: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rule:
    all_of: frozenset[str]
    any_of: frozenset[str]
    none_of: frozenset[str]
    add: Mapping[str, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Model:
    threshold: float
    full_score: float
    max_chars: int
    fuzzy_min_len: int
    fuzzy_cutoff: float
    aliases: Mapping[str, tuple[str, ...]]
    vocabulary: frozenset[str]
    near_misses: Mapping[str, str]  # one swapped or dropped letter -> the lexicon word
    fuzzy_choices: Mapping[int, tuple[str, ...]]  # token length -> words near that length
    fuzzy_budget: int
    words: Mapping[str, tuple[tuple[str, str], ...]]  # token -> ((concept, term), ...)
    phrases: Mapping[str, tuple[tuple[tuple[str, ...], str, str], ...]]  # first token -> ...
    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    weights: Mapping[str, Mapping[str, float]]  # intent -> concept -> weight
    rules: tuple[_Rule, ...]
    order: Mapping[str, int]


def _fold(text: str) -> str:
    """Lower-case, drop accents, zero-width and control characters, squash letter runs."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(
        ch for ch in text if not unicodedata.combining(ch) and unicodedata.category(ch)[0] != "C"
    )
    text = _APOSTROPHES.sub("", text)
    return _RUN3.sub(r"\1", text)


def _raw_tokens(text: str) -> list[str]:
    return [tok for tok in _NON_WORD.split(text) if tok]


def _alias_tokens(tokens: Iterable[str], aliases: Mapping[str, tuple[str, ...]]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        out.extend(aliases.get(tok, (tok,)))
    return out


def _build(data: Mapping[str, Any]) -> _Model:
    raw_aliases: dict[str, tuple[str, ...]] = {}
    for key, value in data["aliases"].items():
        keys = _raw_tokens(_fold(key))
        if len(keys) == 1:
            raw_aliases[keys[0]] = tuple(_raw_tokens(_fold(value)))
    aliases = {k: v for k, v in raw_aliases.items() if v != (k,)}

    words: dict[str, list[tuple[str, str]]] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
    vocabulary: set[str] = set(aliases)
    for value in aliases.values():
        vocabulary.update(value)
    for word in data.get("known_words", ()):
        vocabulary.update(_raw_tokens(_fold(word)))
    for concept, terms in data["concepts"].items():
        for term in terms:
            toks = tuple(_alias_tokens(_raw_tokens(_fold(term)), aliases))
            if not toks:
                continue
            vocabulary.update(toks)
            if len(toks) == 1:
                words.setdefault(toks[0], []).append((concept, term))
            else:
                phrases.setdefault(toks[0], []).append((toks, concept, term))

    weights: dict[str, dict[str, float]] = {
        intent: {c: float(w) for c, w in concepts.items()}
        for intent, concepts in data["intents"].items()
    }
    rules = tuple(
        _Rule(
            all_of=frozenset(rule.get("all", ())),
            any_of=frozenset(rule.get("any", ())),
            none_of=frozenset(rule.get("none", ())),
            add={k: float(v) for k, v in rule["add"].items()},
        )
        for rule in data.get("rules", ())
    )
    # Short typos are below the fuzzy length, and fuzz.ratio cannot tell "daftr" (daftar) from
    # "bekas" (berkas): accept only one swap of neighbours, or one dropped letter in a long word.
    near_misses: dict[str, str] = {}
    for word in sorted(vocabulary):
        variants = [word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)]
        if len(word) >= 6:
            variants += [word[:i] + word[i + 1 :] for i in range(len(word))]
        for variant in variants:
            if len(word) >= 4 and variant not in vocabulary:
                near_misses.setdefault(variant, word)
    fuzzy = data.get("fuzzy", {})
    min_len = int(fuzzy.get("min_len", 6))
    cutoff = float(fuzzy.get("cutoff", 85))
    # fuzz.ratio <= 200 * min(a, b) / (a + b), so only words of a near length can reach cutoff.
    candidates = sorted(w for w in vocabulary if len(w) >= min_len - 2)
    longest = max((len(w) for w in candidates), default=0) + 3
    choices = {
        n: tuple(w for w in candidates if 200 * min(n, len(w)) / (n + len(w)) >= cutoff)
        for n in range(min_len, longest)
    }
    return _Model(
        threshold=float(data["threshold"]),
        full_score=float(data["full_score"]),
        max_chars=int(data.get("max_chars", 300)),
        fuzzy_min_len=min_len,
        fuzzy_cutoff=cutoff,
        aliases=aliases,
        vocabulary=frozenset(vocabulary),
        near_misses=near_misses,
        fuzzy_choices=choices,
        fuzzy_budget=int(fuzzy.get("max_tokens", 12)),
        words={k: tuple(v) for k, v in words.items()},
        # Longest phrase first, so "sudah sampai mana" beats "sudah sampai".
        phrases={k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in phrases.items()},
        patterns=tuple((c, re.compile(p)) for c, p in data.get("patterns", {}).items()),
        weights=weights,
        rules=rules,
        order={intent: i for i, intent in enumerate(weights)},
    )


@functools.cache
def _model() -> _Model:
    source = importlib.resources.files("handlers").joinpath("data/intents.json")
    return _build(json.loads(source.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=8192)
def _canonical(token: str) -> tuple[str, ...] | None:
    """One typed token -> the lexicon's spelling of it (maybe several tokens); None if unknown."""
    m = _model()
    if token in m.aliases:
        return m.aliases[token]
    if token in m.vocabulary:
        return (token,)
    reduplicated = _DIGIT_WORD.match(token)
    candidates = [reduplicated.group(1)] if reduplicated else []
    candidates += [token[: -len(s)] for s in _SUFFIXES if token.endswith(s) and len(token) > 4]
    candidates.append(_DOUBLE.sub(r"\1", token))
    for cand in candidates:
        if cand in m.aliases:
            return m.aliases[cand]
        if cand in m.vocabulary:
            return (cand,)
    if token in m.near_misses:
        word = m.near_misses[token]
        return m.aliases.get(word, (word,))
    return None


@functools.lru_cache(maxsize=8192)
def _typo(token: str) -> tuple[str, ...]:
    """The nearest lexicon word for a misspelt token, or the token itself."""
    m = _model()
    choices = m.fuzzy_choices.get(len(token), ())
    if len(token) < m.fuzzy_min_len or token.isdigit() or not choices:
        return (token,)
    hit = process.extractOne(token, choices, scorer=fuzz.ratio, score_cutoff=m.fuzzy_cutoff)
    return (token,) if hit is None else m.aliases.get(hit[0], (hit[0],))


def _concepts(m: _Model, folded: str) -> dict[str, str]:
    """Concepts present in the text, each with the term that showed it first."""
    found: dict[str, str] = {}
    for concept, pattern in m.patterns:
        hit = pattern.search(folded)
        if hit is not None:
            # Name the pattern, not the digits: ``matched`` may be logged and a NIK must not be.
            found.setdefault(concept, f"<{concept}>")
    tokens: list[str] = []
    budget = m.fuzzy_budget  # bounds the typo lookups a long message can cost
    for tok in _raw_tokens(folded):
        known = _canonical(tok)
        if known is None and budget > 0 and len(tok) >= m.fuzzy_min_len:
            budget -= 1
            known = _typo(tok)
        tokens.extend(known or (tok,))
    used = [False] * len(tokens)
    for i, tok in enumerate(tokens):
        if used[i]:
            continue
        for phrase, concept, term in m.phrases.get(tok, ()):
            end = i + len(phrase)
            if tuple(tokens[i:end]) == phrase and not any(used[i:end]):
                found.setdefault(concept, term)
                used[i:end] = [True] * len(phrase)
                break
    for i, tok in enumerate(tokens):
        if not used[i]:
            for concept, term in m.words.get(tok, ()):
                found.setdefault(concept, term)
    return found


def _scores(m: _Model, found: Mapping[str, str]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for intent, weights in m.weights.items():
        scores[intent] = sum(w for c, w in weights.items() if c in found)
    for rule in m.rules:
        if (
            rule.all_of.issubset(found)
            and (not rule.any_of or not rule.any_of.isdisjoint(found))
            and rule.none_of.isdisjoint(found)
        ):
            for intent, add in rule.add.items():
                scores[intent] = scores.get(intent, 0.0) + add
    return scores


def _decide(m: _Model, found: Mapping[str, str]) -> IntentMatch:
    scores: dict[str, float] = {}
    best_term: dict[str, tuple[float, str]] = {}
    for intent, weights in m.weights.items():
        total = 0.0
        for concept, weight in weights.items():
            if concept in found:
                total += weight
                if weight > best_term.get(intent, (0.0, ""))[0]:
                    best_term[intent] = (weight, found[concept])
        scores[intent] = total
    for rule in m.rules:
        if (
            rule.all_of.issubset(found)
            and (not rule.any_of or not rule.any_of.isdisjoint(found))
            and rule.none_of.isdisjoint(found)
        ):
            for intent, add in rule.add.items():
                scores[intent] = scores.get(intent, 0.0) + add
                if add > 0 and intent not in best_term:
                    trigger = min(rule.all_of) if rule.all_of else min(rule.any_of & found.keys())
                    best_term[intent] = (0.0, found[trigger])
    if not scores:
        return IntentMatch(intent=None, score=0.0, matched=None)
    winner = min(scores, key=lambda i: (-scores[i], m.order.get(i, len(m.order))))
    raw = scores[winner]
    score = round(max(0.0, min(1.0, raw / m.full_score)), 3)
    if raw < m.threshold:
        return IntentMatch(intent=None, score=score, matched=None)
    return IntentMatch(intent=winner, score=score, matched=best_term.get(winner, (0.0, None))[1])


def classify(text: str) -> IntentMatch:
    """Guess which flow a free-text message asks for; ``intent`` is None when unsure."""
    m = _model()  # a broken data file is a deployment bug: let it fail loudly
    try:
        folded = _fold(str(text)[: m.max_chars])
        return _decide(m, _concepts(m, folded))
    except (ValueError, TypeError, KeyError, IndexError, re.error):
        # Routing is a convenience: a bad input must never break the conversation.
        return IntentMatch(intent=None, score=0.0, matched=None)


def rank(text: str) -> list[tuple[str, float]]:
    """Every intent with a positive score for ``text``, likeliest first (for suggestions)."""
    m = _model()
    try:
        folded = _fold(str(text)[: m.max_chars])
        scores = _scores(m, _concepts(m, folded))
    except (ValueError, TypeError, KeyError, IndexError, re.error):
        return []
    ranked = [(i, s) for i, s in scores.items() if s > 0]
    return sorted(ranked, key=lambda p: (-p[1], m.order.get(p[0], len(m.order))))
