"""Screens the flows share, declared once: a paged list, a confirm-and-edit summary, a NIK look-up.

- ``PagedList``: records a page at a time. The text numbers each row with the number of its
  button (WhatsApp list rows, Telegram buttons and the terminal's numbers agree), rows open by
  that number, "Berikutnya"/"Sebelumnya" page, and a name or NIK typed at the list searches it.
  Its rows are loaded once per render (``Ctx.cached``): the prompt and the choices share them.
- ``Summary``: the "Mohon periksa" screen of a report: its lines, [Kirim] [Ubah] [Batal], and the
  "Apa yang ingin diubah?" list whose pick asks that step again and comes back.
- ``subject_nik``: the NIK of the person a report is about, from a NIK in a sentence, or for a
  facilitator from a name of their scope (one match: confirm it; several: pick one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.engine import (
    Choose,
    Confirm,
    Ctx,
    Invalid,
    Option,
    Outcome,
    Stay,
)
from handlers.i18n import N_

NEXT_PAGE = Option(id="more", label=N_("Berikutnya"), aliases=("lanjut", "berikut", "next"))
PREV_PAGE = Option(id="prev", label=N_("Sebelumnya"), aliases=("sebelumnya", "prev"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One record of a list: its button, its numbered line, and what a search matches."""

    id: str
    label: str
    line: str
    description: str | None = None
    search: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Picked:
    """What a tap or a typed answer at a list means: a row id, or a page/search outcome."""

    row: str | None = None
    outcome: Outcome | None = None
    other: str | None = None  # one of the list's extra options


@dataclass(frozen=True, kw_only=True)
class PagedList:
    """A list screen: ``heading(ctx, total)``, numbered rows, paging, search, extra options."""

    name: str
    load: Callable[[Ctx], Awaitable[Sequence[Row]]]
    heading: Callable[[Ctx, int], str | Awaitable[str]]
    size: int = 8
    extra: Sequence[Option] = ()
    searchable: bool = True
    prefix: str = "row:"  # a row's choice id is prefix + id

    def _key(self, part: str) -> str:
        return f"{self.name}_{part}"

    async def rows(self, ctx: Ctx) -> list[Row]:
        """Every row (after the search typed, if any), loaded once per render."""
        rows = list(await ctx.cached(("paged", self.name), lambda: self.load(ctx)))
        query = str(ctx.data.get(self._key("q")) or "").casefold().strip()
        if query:
            rows = [r for r in rows if _matches(query, r)]
        return rows

    async def _page(self, ctx: Ctx) -> tuple[list[Row], int, int]:
        rows = await self.rows(ctx)
        pages = max((len(rows) + self.size - 1) // self.size, 1)
        page = min(int(ctx.data.get(self._key("page"), 0)), pages - 1)
        return rows[page * self.size : (page + 1) * self.size], page, pages

    async def prompt(self, ctx: Ctx) -> str:
        """The heading, the page, and each row numbered as its button."""
        shown, page, pages = await self._page(ctx)
        total = len(await self.rows(ctx))
        heading = self.heading(ctx, total)
        lines = [heading if isinstance(heading, str) else await heading]
        if ctx.data.get(self._key("q")):
            lines.append(ctx.t(N_('Hasil cari "{q}":'), q=str(ctx.data[self._key("q")])[:30]))
        if pages > 1:
            lines.append(ctx.t(N_("Halaman {page} dari {pages}."), page=page + 1, pages=pages))
        lines += [f"{i}. {r.line}" for i, r in enumerate(shown, 1)]
        if self.searchable and total > 1:
            lines.append(ctx.t(N_("Pilih nomornya, atau ketik nama/NIK untuk mencari.")))
        return "\n".join(lines)

    async def choices(self, ctx: Ctx) -> list[Option]:
        """The rows of the page as buttons, then paging and the list's own options."""
        shown, page, pages = await self._page(ctx)
        options = [
            Option(
                id=f"{self.prefix}{r.id}",
                label=_short(r.label, 24),
                description=_short(r.description, 72) if r.description else None,
                translate=False,
            )
            for r in shown
        ]
        if page + 1 < pages:
            options.append(NEXT_PAGE)
        if page > 0:
            options.append(PREV_PAGE)
        return [*options, *self.extra]

    async def pick(self, ctx: Ctx, value: Any) -> Picked:
        """Read a tap or a typed answer at the list."""
        text = str(value)
        if text.startswith(self.prefix):
            return Picked(row=text[len(self.prefix) :])
        if text in ("more", "prev"):
            page = int(ctx.data.get(self._key("page"), 0)) + (1 if text == "more" else -1)
            ctx.data[self._key("page")] = max(page, 0)
            return Picked(outcome=Stay())
        if any(o.id == text for o in self.extra):
            return Picked(other=text)
        if not self.searchable:
            raise Invalid(N_("Mohon pilih nomor dari daftar."))
        # Typed words: a search of the list (an empty result keeps the list as it was).
        query = " ".join(text.split())[:40]
        if not any(_matches(query.casefold(), r) for r in await self._all(ctx)):
            raise Invalid(N_('Tidak ada yang cocok dengan "{q}" di daftar ini.'), q=query)
        ctx.data[self._key("q")] = query
        ctx.data[self._key("page")] = 0
        matched = await self.rows(ctx)
        if len(matched) == 1:
            return Picked(row=matched[0].id)
        return Picked(outcome=Stay())

    async def _all(self, ctx: Ctx) -> list[Row]:
        return list(await ctx.cached(("paged", self.name), lambda: self.load(ctx)))

    def reset(self, ctx: Ctx) -> None:
        """Back to the first page, without a search."""
        ctx.data.pop(self._key("q"), None)
        ctx.data.pop(self._key("page"), None)


def _matches(query: str, row: Row) -> bool:
    hay = f"{row.label} {row.search}".casefold()
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 4 and digits in "".join(ch for ch in row.search if ch.isdigit()):
        return True
    return all(word in hay for word in query.split())


def _short(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------------------------------------
# Confirm-and-edit summaries


@dataclass(frozen=True, kw_only=True)
class Summary:
    """The check screen of a report, and its "what to change?" list.

    ``edit_next`` sends the user to the chosen step with ``editing`` set; the flow's steps go
    back to the summary (``go``) instead of on, until the summary is shown again.
    """

    fields: Sequence[Option]

    @staticmethod
    def go(ctx: Ctx, step: str) -> str:
        """The next step, or back to the summary while the user edits one answer."""
        return "confirm" if ctx.data.get("editing") else step

    @staticmethod
    def shown(ctx: Ctx) -> None:
        """Call when the summary renders: editing is over."""
        ctx.data.pop("editing", None)

    @staticmethod
    async def edit_next(ctx: Ctx, value: str) -> Outcome:
        """From the "what to change?" list: ask that step again, then return to the summary."""
        ctx.data["editing"] = True
        return value


# ---------------------------------------------------------------------------------------------
# NIK look-up


async def subject_nik(ctx: Ctx, text: str) -> str:
    """The NIK of the person a report is about: typed, or found by name for a facilitator."""
    from handlers.common import masked, read_nik
    from handlers.facilitator.common import current_facilitator
    from lingkaran_core import services

    f = await current_facilitator(ctx)
    letters = sum(ch.isalpha() for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    if f is None or digits >= 10 or letters < 3:
        return read_nik(ctx, text)
    ids = await services.search_names(ctx.tx, f, text)
    workers = await services.workers_for_facilitator_by_ids(ctx.tx, f, ids[:8])
    if not workers:
        raise Invalid(
            N_(
                'Tidak ada pekerja bernama "{name}" di wilayah Bapak/Ibu. Ketik NIK atau nama lain.'
            ),
            name=text[:40],
        )
    if len(workers) == 1:
        w = workers[0]
        raise Confirm(
            w.nik,
            N_("Maksudnya {name}, lahir {year}, NIK {nik}?"),
            name=w.name,
            year=w.birth_date.year,
            nik=masked(w.nik),
        )
    raise Choose(
        [
            (
                w.nik,
                w.name,
                ctx.t(N_("lahir {year}, NIK {nik}"), year=w.birth_date.year, nik=masked(w.nik)),
            )
            for w in workers
        ],
        N_("Pekerja yang mana?"),
    )
