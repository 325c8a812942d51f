"""Understanding answers inside steps: one vocabulary, used by every step of every flow.

People answer a question the way they talk: ``iyo``, ``ndak``, ``enggih``, ``aku dewe``,
``istrinya``, ``36 th``, ``sd kelas 6``, ``buruh ngarit``, ``pernah dapat pkh``, ``gak jadi``,
``nik saya 3509…``. The engine asks this module when a message is not literally one of a step's
choices (its id, number, label or alias):

- ``command``: a cancel/back/menu wish in any register (``gak jadi``, ``ora sido``, ``keluar``);
- ``navigation``: a menu word (``klaim saya``) typed inside another flow;
- ``choose``: the choice a message means, from the *concepts* it contains (``yes``, ``is:child``,
  ``level:sd``, ``sector:nelayan_tangkap``…) and what each option stands for;
- ``read_age``, ``find_nik``, ``find_phone``: values inside a sentence.

Every word lives in ``handlers/data/answers.json`` (its header names the wordlists the Javanese
and Madurese entries were checked against); this module only folds text, finds phrases (the
longest wins and consumes its words) and reads relations with their possessive ("bapak saya" =
the deceased is my father, so I am the child; "bapaknya" = I am the father).
Dates and times are read by ``lingkaran_core.dates`` (they need the injected clock).
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

__all__ = [
    "NIKCandidate",
    "choose",
    "command",
    "concepts",
    "find_nik",
    "find_phone",
    "fold",
    "navigation",
    "read_age",
]

_APOSTROPHES = re.compile(r"['’`´ʼ‘]")
_NON_WORD = re.compile(r"[^\w]+")
_CLASS = re.compile(r"\b(?:kelas|kls|klas|kelasipun|grade|class)\s*(\d{1,2})\b")
_INVERSE = {"parent": "child", "child": "parent", "spouse": "spouse", "sibling": "sibling"}


class _OptionLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def label(self) -> str: ...


OptionT = TypeVar("OptionT", bound=_OptionLike)


def fold(text: str) -> str:
    """Lower case, no accents or apostrophes, punctuation as spaces, one space between words."""
    text = unicodedata.normalize("NFKD", str(text).casefold())
    text = "".join(
        ch for ch in text if not unicodedata.combining(ch) and unicodedata.category(ch)[0] != "C"
    )
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).replace("_", " ").split())


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(fold(text).split())


@dataclass(frozen=True, slots=True)
class _Vocab:
    fillers: frozenset[str]
    commands: Mapping[tuple[str, ...], str]
    navigation: Mapping[tuple[str, ...], str]
    relation_words: Mapping[tuple[str, ...], str]
    self_pronouns: frozenset[str]
    mine_before: frozenset[str]
    theirs_before: frozenset[str]
    mine_suffix: tuple[str, ...]
    theirs_suffix: tuple[str, ...]
    theirs_after: frozenset[str]
    phrases: Mapping[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]
    weights: Mapping[str, float]
    option_means: Mapping[str, tuple[str, ...]]
    step_means: Mapping[str, Mapping[str, tuple[str, ...]]]
    units: Mapping[tuple[str, ...], int]
    tens: Mapping[tuple[str, ...], int]
    whole: Mapping[tuple[str, ...], int]
    age_noise: frozenset[tuple[str, ...]]


def _build(data: Mapping[str, Any]) -> _Vocab:
    commands = {_phrase(p): cmd for cmd, ps in data["commands"].items() for p in ps}
    navigation = {_phrase(p): flow for flow, ps in data["navigation"].items() for p in ps}
    relation_words = {_phrase(w): rel for rel, ws in data["relations"].items() for w in ws}
    pron = data["pronouns"]
    grouped: dict[tuple[str, ...], list[str]] = {}
    for concept, terms in data["concepts"].items():
        for term in terms:
            toks = _phrase(term)
            if toks and concept not in grouped.setdefault(toks, []):
                grouped[toks].append(concept)
    by_first: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for toks, found in grouped.items():
        by_first.setdefault(toks[0], []).append((toks, tuple(found)))
    numbers = data["numbers"]
    return _Vocab(
        fillers=frozenset(data["fillers"]),
        commands=commands,
        navigation=navigation,
        relation_words=relation_words,
        self_pronouns=frozenset(" ".join(_phrase(p)) for p in pron["self"]),
        mine_before=frozenset(pron["mine_before"]),
        theirs_before=frozenset(pron["theirs_before"]),
        mine_suffix=tuple(sorted(pron["mine_suffix"], key=len, reverse=True)),
        theirs_suffix=tuple(sorted(pron["theirs_suffix"], key=len, reverse=True)),
        theirs_after=frozenset(pron["theirs_after"]),
        # Longest phrase first, so "tidak tahu" beats "tidak".
        phrases={k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in by_first.items()},
        weights={k: float(v) for k, v in data["weights"].items()},
        option_means={k: tuple(v) for k, v in data["option_means"].items()},
        step_means={
            step: {opt: tuple(means) for opt, means in options.items()}
            for step, options in data["step_means"].items()
        },
        units={_phrase(k): int(v) for k, v in numbers["units"].items()},
        tens={_phrase(k): int(v) for k, v in numbers["tens_prefix"].items()},
        whole={_phrase(k): int(v) for k, v in numbers["whole"].items()},
        age_noise=frozenset(_phrase(w) for w in data["age_noise"]),
    )


@functools.cache
def _vocab() -> _Vocab:
    source = importlib.resources.files("handlers").joinpath("data/answers.json")
    return _build(json.loads(source.read_text(encoding="utf-8")))


# -- commands and menu words ------------------------------------------------------------------


def _core(tokens: Sequence[str], v: _Vocab) -> tuple[str, ...]:
    """The words without politeness around them ("gak jadi aja mas" → "gak jadi")."""
    toks = list(tokens)
    while len(toks) > 1 and toks[-1] in v.fillers:
        toks.pop()
    while len(toks) > 1 and toks[0] in v.fillers:
        toks.pop(0)
    return tuple(toks)


def command(text: str) -> str | None:
    """``cancel`` / ``back`` / ``menu`` when the whole message says so, else None."""
    v = _vocab()
    toks = tuple(fold(text).split())
    if not toks or len(toks) > 6:
        return None
    return v.commands.get(toks) or v.commands.get(_core(toks, v))


def navigation(text: str) -> str | None:
    """The flow a menu word names (``klaim saya`` → ``my_claims``), when that is all it says."""
    v = _vocab()
    toks = tuple(fold(text).split())
    if not toks or len(toks) > 6:
        return None
    return v.navigation.get(toks) or v.navigation.get(_core(toks, v))


# -- concepts ---------------------------------------------------------------------------------


def _relation_at(toks: Sequence[str], i: int, v: _Vocab) -> tuple[str, int, str | None] | None:
    """(relation, length, possessive suffix) of a relation word starting at ``toks[i]``."""
    for length in (3, 2, 1):
        key = tuple(toks[i : i + length])
        if len(key) == length and key in v.relation_words:
            return v.relation_words[key], length, None
    tok = toks[i]
    for suffix in (*v.mine_suffix, *v.theirs_suffix):
        stem = tok[: -len(suffix)]
        if tok.endswith(suffix) and len(stem) >= 3 and (stem,) in v.relation_words:
            return v.relation_words[(stem,)], 1, suffix
    return None


def _relations(toks: list[str], used: list[bool], v: _Vocab) -> list[str]:
    """Concepts of the relations named, with whose relative each one is.

    ``is:R`` the user's relation to the person asked about, ``my:R`` a relative of the user,
    ``their:R`` a relative of that person, ``bare:R`` a relation word alone, ``rel`` any.
    """
    found: list[str] = []
    for i in range(len(toks)):
        if used[i]:
            continue
        hit = _relation_at(toks, i, v)
        if hit is None:
            continue
        rel, length, suffix = hit
        end = i + length
        possessor = "bare"
        if suffix in v.mine_suffix:
            possessor = "mine"
        elif suffix in v.theirs_suffix:
            possessor = "theirs"
        if i > 0 and not used[i - 1]:
            before = toks[i - 1]
            if before in v.mine_before:
                possessor, used[i - 1] = "mine", True
            elif before in v.theirs_before:
                possessor, used[i - 1] = "theirs", True
            elif before in v.self_pronouns:
                possessor, used[i - 1] = "self_is", True  # "saya anaknya": I am the child
        if possessor == "bare" and end < len(toks) and not used[end]:
            after = toks[end]
            if after in v.self_pronouns:
                possessor, used[end] = "mine", True  # "bapak saya": my father
            elif after in v.theirs_after:
                possessor, used[end] = "theirs", True
        for k in range(i, end):
            used[k] = True
        found.append("rel")
        if possessor == "mine":
            found += [f"is:{_INVERSE.get(rel, rel)}", f"my:{rel}"]
        elif possessor == "theirs":
            found += [f"is:{rel}", f"their:{rel}"]
        elif possessor == "self_is":
            found.append(f"is:{rel}")
        else:
            found += [f"is:{rel}", f"bare:{rel}"]
    return found


def _unsuffixed(tok: str, v: _Vocab) -> str | None:
    """``tanggalnya`` → ``tanggal``: a known word under a possessive ending."""
    for suffix in ("nya", "ne", "ku", "mu"):
        stem = tok[: -len(suffix)]
        if tok.endswith(suffix) and len(stem) >= 3 and stem in v.phrases:
            return stem
    return None


@functools.lru_cache(maxsize=4096)
def _concepts(folded: str) -> tuple[tuple[str, float], ...]:
    v = _vocab()
    toks = folded.split()
    used = [False] * len(toks)
    found: list[str] = _relations(toks, used, v)
    for i, tok in enumerate(toks):
        if used[i]:
            continue
        for phrase, names in v.phrases.get(tok, ()):
            end = i + len(phrase)
            if tuple(toks[i:end]) == phrase and not any(used[i:end]):
                found += names
                used[i:end] = [True] * len(phrase)
                break
        else:
            stem = _unsuffixed(tok, v)
            for phrase, names in v.phrases.get(stem or "", ()):
                if len(phrase) == 1:
                    found += names
                    used[i] = True
                    break
    # "kelas 8", "kls 2 smp", "grade 6": the class says the level when no level word does.
    if not any(name.startswith("level:") for name in found):
        m = _CLASS.search(folded)
        if m is not None and 1 <= int(m.group(1)) <= 12:
            n = int(m.group(1))
            found.append("level:sd" if n <= 6 else "level:smp" if n <= 9 else "level:sma")
    # A self pronoun left over ("saya", "aku", "engkok") answers "who?" as oneself.
    if any(not used[i] and tok in v.self_pronouns for i, tok in enumerate(toks)):
        found.append("self")
    weights: dict[str, float] = {}
    for name in found:
        weights[name] = weights.get(name, 0.0) + v.weights.get(name, 1.0)
    return tuple(weights.items())


def concepts(text: str) -> dict[str, float]:
    """The concepts a message contains, each with its weight."""
    return dict(_concepts(fold(text)))


def _means(option: _OptionLike, step_key: str | None, v: _Vocab) -> tuple[str, ...]:
    specific = v.step_means.get(step_key or "", {})
    if option.id in specific:
        return specific[option.id]
    if option.id in v.option_means:
        return v.option_means[option.id]
    # An option nobody described stands for what its (Indonesian) label says, when the whole
    # label is one phrase of the vocabulary ("Dirawat inap"; not "Hari ini").
    label = tuple(fold(option.label).split())
    for phrase, names in v.phrases.get(label[0] if label else "", ()):
        if phrase == label:
            return names
    return ()


def choose(options: Iterable[OptionT], text: str, *, step_key: str | None) -> OptionT | None:
    """The option a message means, when exactly one option fits it best."""
    v = _vocab()
    found = concepts(text)
    if not found:
        return None
    scored: list[tuple[float, OptionT]] = []
    for option in options:
        if option.id.startswith("cmd:"):
            continue
        score = sum(found.get(name, 0.0) for name in set(_means(option, step_key, v)))
        if score > 0:
            scored.append((score, option))
    if not scored:
        return None
    scored.sort(key=lambda s: -s[0])
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None
    return scored[0][1]


# -- numbers inside sentences -------------------------------------------------------------------


def _spelled_number(toks: tuple[str, ...], v: _Vocab) -> int | None:
    """``tiga puluh enam`` → 36, ``seket loro`` → 52, ``selawe`` → 25, ``45an`` → 45."""
    if not toks:
        return None
    if toks in v.whole:
        return v.whole[toks]
    for length in (2, 1):
        head = toks[:length]
        if len(head) == length and head in v.tens:
            rest = toks[length:]
            if not rest:
                return v.tens[head]
            if rest in v.units and v.units[rest] < 10:
                return v.tens[head] + v.units[rest]
            return None
    # Indonesian "<n> puluh <m>" and "<n> belas".
    if len(toks) >= 2 and toks[:1] in v.units:
        n = v.units[toks[:1]]
        if toks[1] == "puluh":
            rest = toks[2:]
            if not rest:
                return n * 10
            return n * 10 + v.units[rest] if rest in v.units else None
        if toks[1] == "belas" and len(toks) == 2:
            return 10 + n
    return v.units.get(toks)


def read_age(text: str) -> int | None:
    """An age in years from ``36 th``, ``umur 36``, ``tiga puluh enam``, ``seket``, ``45an``."""
    v = _vocab()
    folded = re.sub(r"(\d+)\s*(?:an|th|thn|tahun|taun|yo|y)\b", r"\1", fold(text))
    toks = folded.split()
    kept: list[str] = []
    i = 0
    while i < len(toks):
        for length in (3, 2, 1):
            if tuple(toks[i : i + length]) in v.age_noise:
                i += length
                break
        else:
            kept.append(toks[i])
            i += 1
    numbers = {int(t) for t in kept if t.isdigit()}
    if len(numbers) == 1 and all(t.isdigit() for t in kept):
        return numbers.pop()
    if numbers:
        return None
    return _spelled_number(tuple(kept), v)


@dataclass(frozen=True, slots=True, kw_only=True)
class NIKCandidate:
    """Sixteen digits found in a message; ``corrected`` when letters were read as digits."""

    digits: str
    corrected: bool


# Not inside a word: the "o" of "kulo" before a NIK is no zero.
_NIK_RUN = re.compile(r"(?<![^\W\d_])[0-9OoIl|][0-9OoIl|\s.\-]{14,40}[0-9OoIl|](?![^\W\d_])")
_AS_DIGIT = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"})


def find_nik(text: str) -> NIKCandidate | None:
    """A NIK written inside a sentence, possibly with O for 0 or l for 1."""
    for m in _NIK_RUN.finditer(text):
        run = re.sub(r"[\s.\-]", "", m.group(0))
        if sum(ch.isdigit() for ch in run) < 12:
            continue
        digits = run.translate(_AS_DIGIT)
        if len(digits) == 16 and digits.isdigit():
            return NIKCandidate(digits=digits, corrected=digits != run)
    return None


_PHONE_RUN = re.compile(r"\+?\d[\d\s\-.()]{7,18}\d")


def find_phone(text: str) -> str | None:
    """The phone number inside a sentence (``hp saya 0812 3456 7890``), unchecked."""
    m = _PHONE_RUN.search(text)
    return m.group(0) if m else None
