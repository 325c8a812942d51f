"""Jember kecamatan and desa/kelurahan (Kemendagri codes) with fuzzy lookup."""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import TypeVar

from rapidfuzz import fuzz

__all__ = [
    "Desa",
    "DesaMatch",
    "DesaResolution",
    "Kecamatan",
    "KecamatanMatch",
    "KecamatanResolution",
    "Regions",
    "load_regions",
    "normalise_name",
]

# DOMAIN.md §6: all codes are prefixed 35.09 (Kabupaten Jember).
KABUPATEN_CODE = "35.09"
# Scores are rapidfuzz ratios (0-100). Below MIN_SCORE a name is not a candidate at all;
# a fuzzy best match is accepted alone only when it is strong and clearly ahead of the next.
MIN_SCORE = 75.0
ACCEPT_SCORE = 85.0
ACCEPT_GAP = 6.0

_NOISE_WORDS = frozenset(
    {"desa", "ds", "kel", "kelurahan", "kec", "kecamatan", "kab", "kabupaten", "jember"}
)
_KEC_WORDS = frozenset({"kec", "kecamatan"})
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_CODE_DIGITS = re.compile(r"^[0-9][0-9.\s]*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Kecamatan:
    """A kecamatan of Jember, e.g. ``35.09.27`` Kalisat."""

    code: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Desa:
    """A desa or kelurahan of Jember, e.g. ``35.09.27.2001`` Gumuksari."""

    code: str
    name: str
    kecamatan_code: str
    is_kelurahan: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DesaMatch:
    """A desa candidate with its similarity score (0-100)."""

    desa: Desa
    score: float


@dataclass(frozen=True, slots=True, kw_only=True)
class KecamatanMatch:
    """A kecamatan candidate with its similarity score (0-100)."""

    kecamatan: Kecamatan
    score: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DesaResolution:
    """Outcome of resolving free text to one desa: ``match`` only when unambiguous."""

    match: Desa | None
    candidates: tuple[DesaMatch, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class KecamatanResolution:
    """Outcome of resolving free text to one kecamatan: ``match`` only when unambiguous."""

    match: Kecamatan | None
    candidates: tuple[KecamatanMatch, ...]


def _words(text: str) -> list[str]:
    return [w for w in _NON_ALNUM.sub(" ", text.lower()).split() if w]


def normalise_name(text: str) -> str:
    """Lowercase, drop punctuation and words like "desa"/"kel."/"kec", collapse spaces."""
    return " ".join(w for w in _words(text) if w not in _NOISE_WORDS)


def _score(query: str, name: str) -> float:
    """Similarity of two normalised names, also compared with spaces removed."""
    return max(fuzz.ratio(query, name), fuzz.ratio(query.replace(" ", ""), name.replace(" ", "")))


def _canonical_code(code: str, parts: int) -> str | None:
    """``3509272001`` or ``35.09.27.2001`` → dotted form with ``parts`` segments, else None."""
    if not _CODE_DIGITS.match(code.strip()):
        return None
    digits = re.sub(r"[.\s]", "", code)
    widths = (2, 2, 2, 4)[:parts]
    if len(digits) != sum(widths):
        return None
    out: list[str] = []
    pos = 0
    for width in widths:
        out.append(digits[pos : pos + width])
        pos += width
    return ".".join(out)


@dataclass(frozen=True, slots=True)
class _Named:
    key: str  # normalised name
    compact: str  # normalised name without spaces


class Regions:
    """The Jember region table with code and fuzzy name lookups."""

    def __init__(self, kecamatan: Iterable[Kecamatan], desa: Iterable[Desa]) -> None:
        self._kecamatan = {k.code: k for k in kecamatan}
        self._desa = {d.code: d for d in desa}
        self._desa_by_kec: dict[str, tuple[Desa, ...]] = {}
        for d in self._desa.values():
            self._desa_by_kec[d.kecamatan_code] = (*self._desa_by_kec.get(d.kecamatan_code, ()), d)
        self._desa_names = {c: _named(d.name) for c, d in self._desa.items()}
        self._kec_names = {c: _named(k.name) for c, k in self._kecamatan.items()}

    @property
    def all_kecamatan(self) -> tuple[Kecamatan, ...]:
        """Every kecamatan, ordered by code."""
        return tuple(sorted(self._kecamatan.values(), key=lambda k: k.code))

    @property
    def all_desa(self) -> tuple[Desa, ...]:
        """Every desa and kelurahan, ordered by code."""
        return tuple(sorted(self._desa.values(), key=lambda d: d.code))

    def desa(self, code: str) -> Desa | None:
        """Look up a desa by code, with or without dots (``35.09.27.2001``/``3509272001``)."""
        canonical = _canonical_code(code, 4)
        return self._desa.get(canonical) if canonical else None

    def kecamatan(self, code: str) -> Kecamatan | None:
        """Look up a kecamatan by code, with or without dots (``35.09.27``/``350927``)."""
        canonical = _canonical_code(code, 3)
        return self._kecamatan.get(canonical) if canonical else None

    def kecamatan_of(self, desa: Desa) -> Kecamatan:
        """The kecamatan a desa belongs to."""
        return self._kecamatan[desa.kecamatan_code]

    def desa_in(self, kecamatan_code: str) -> tuple[Desa, ...]:
        """The desa of one kecamatan (empty when the code is unknown)."""
        canonical = _canonical_code(kecamatan_code, 3)
        return tuple(sorted(self._desa_by_kec.get(canonical or "", ()), key=lambda d: d.code))

    # -- fuzzy lookup --------------------------------------------------------------------------

    def find_kecamatan(self, query: str, limit: int = 3) -> list[KecamatanMatch]:
        """Kecamatan whose names resemble ``query``, best first."""
        by_code = self.kecamatan(query)
        if by_code is not None:
            return [KecamatanMatch(kecamatan=by_code, score=100.0)]
        key = normalise_name(query)
        if not key:
            return []
        matches = [
            KecamatanMatch(kecamatan=self._kecamatan[code], score=_score(key, named.key))
            for code, named in self._kec_names.items()
        ]
        return _best(matches, limit, lambda m: m.kecamatan.code)

    def resolve_kecamatan(self, query: str) -> KecamatanResolution:
        """One kecamatan when the text clearly names it, else the candidates to choose from."""
        candidates = tuple(self.find_kecamatan(query, limit=3))
        exact = [c for c in candidates if c.score == 100.0]
        if len(exact) == 1:
            return KecamatanResolution(match=exact[0].kecamatan, candidates=candidates)
        clear = _clearly_best([c.score for c in candidates])
        match = candidates[0].kecamatan if clear else None
        return KecamatanResolution(match=match, candidates=candidates)

    def find_desa(self, query: str, limit: int = 5) -> list[DesaMatch]:
        """Desa whose names resemble ``query`` (optionally "X kec Y" / "X, Y"), best first."""
        by_code = self.desa(query)
        if by_code is not None:
            return [DesaMatch(desa=by_code, score=100.0)]
        desa_part, kecamatan = self._split_kecamatan(query)
        key = normalise_name(desa_part)
        if not key:
            return []
        pool = self._desa_by_kec.get(kecamatan.code, ()) if kecamatan else self._desa.values()
        matches = [DesaMatch(desa=d, score=_score(key, self._desa_names[d.code].key)) for d in pool]
        return _best(matches, limit, lambda m: m.desa.code)

    def resolve_desa(self, query: str) -> DesaResolution:
        """One desa when the text clearly names it, else the candidates to choose from."""
        candidates = tuple(self.find_desa(query, limit=10))
        exact = tuple(c for c in candidates if c.score == 100.0)
        if exact:
            # A name used by several desa (e.g. Sukorejo in Bangsalsari and Sukowono) stays
            # ambiguous until the kecamatan is known.
            match = exact[0].desa if len(exact) == 1 else None
            return DesaResolution(match=match, candidates=exact)
        short = candidates[:5]
        clear = _clearly_best([c.score for c in short])
        return DesaResolution(match=short[0].desa if clear else None, candidates=short)

    def _split_kecamatan(self, query: str) -> tuple[str, Kecamatan | None]:
        """Split "X kec Y", "X, Y" or "X Y" (Y an exact kecamatan name) into desa and kecamatan."""
        words = _words(query)
        for i, word in enumerate(words):
            if word in _KEC_WORDS and 0 < i < len(words) - 1:
                kec = self.resolve_kecamatan(" ".join(words[i + 1 :])).match
                if kec is not None:
                    return " ".join(words[:i]), kec
        if "," in query:
            head, _, tail = query.partition(",")
            kec = self.resolve_kecamatan(tail).match
            if kec is not None and normalise_name(head):
                return head, kec
        plain = [w for w in words if w not in _NOISE_WORDS]
        for i in range(1, len(plain)):
            tail = "".join(plain[i:])
            for code, named in self._kec_names.items():
                if named.compact == tail:
                    return " ".join(plain[:i]), self._kecamatan[code]
        return query, None


def _named(name: str) -> _Named:
    key = normalise_name(name)
    return _Named(key=key, compact=key.replace(" ", ""))


_M = TypeVar("_M", DesaMatch, KecamatanMatch)


def _best(matches: list[_M], limit: int, code: Callable[[_M], str]) -> list[_M]:
    """Candidates at or above MIN_SCORE, best first, ties by code."""
    kept = [m for m in matches if m.score >= MIN_SCORE]
    kept.sort(key=lambda m: (-m.score, code(m)))
    return kept[:limit]


def _clearly_best(scores: list[float]) -> bool:
    """Whether the first score is strong enough and far enough ahead of the second."""
    if not scores or scores[0] < ACCEPT_SCORE:
        return False
    return len(scores) == 1 or scores[0] - scores[1] >= ACCEPT_GAP


@functools.cache
def load_regions() -> Regions:
    """Load the packaged Jember table once (DOMAIN.md §6, data/jember_wilayah.csv)."""
    text = resources.files("lingkaran_core").joinpath("data/jember_wilayah.csv").read_text("utf-8")
    kecamatan: list[Kecamatan] = []
    desa: list[Desa] = []
    for row in csv.DictReader(io.StringIO(text)):
        code, name = row["kode"].strip(), row["nama"].strip()
        if row["level"] == "kecamatan":
            kecamatan.append(Kecamatan(code=code, name=name))
        elif row["level"] == "desa":
            # DOMAIN.md §6: kelurahan have a 4th segment starting with 1, desa with 2.
            desa.append(
                Desa(
                    code=code,
                    name=name,
                    kecamatan_code=row["kode_kecamatan"].strip(),
                    is_kelurahan=code.rsplit(".", 1)[1].startswith("1"),
                )
            )
    return Regions(kecamatan, desa)
