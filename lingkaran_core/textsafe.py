"""Making user-supplied text safe for the places staff read it.

* ``csv_cell``: a cell for a CSV/XLSX file that a spreadsheet opens. A value starting with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel and LibreOffice
  (OWASP "CSV Injection"); it gets a leading apostrophe, which both show as plain text. Numbers
  we wrote ourselves (negative amounts) are not user text and stay as they are.
* ``plain``: text for an admin's terminal: control characters (ANSI escape sequences, bells,
  backspaces, bidi overrides) are removed so a profile name or a ticket cannot repaint or hide
  lines on the operator's screen. Newlines and tabs may be kept or flattened.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, TextIO

__all__ = ["PlainWriter", "csv_cell", "csv_row", "plain"]

_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_ESCAPE_SEQ: Final = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|.)")
# Bidi controls can reorder what the operator sees (Trojan Source, CVE-2021-42574).
_BIDI: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def csv_cell(value: object) -> object:
    """``value`` for a spreadsheet cell: user text that would start a formula is neutralised."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(values: list[object] | tuple[object, ...]) -> list[object]:
    """Every cell of a row through ``csv_cell``."""
    return [csv_cell(v) for v in values]


def plain(text: str | None, *, keep_newlines: bool = False) -> str:
    """``text`` without escape sequences or control characters (newlines kept on request)."""
    if not text:
        return ""
    text = _ESCAPE_SEQ.sub("", text)
    out = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif ch in "\n\r\t":
            out.append(" ")
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        else:
            out.append(ch)
    return "".join(out)


class PlainWriter:
    """A text stream wrapper whose ``write`` passes everything through ``plain`` (newlines kept)."""

    __slots__ = ("stream",)

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        """Write ``text`` without control characters."""
        return self.stream.write(plain(text, keep_newlines=True))

    def flush(self) -> None:
        """Flush the underlying stream."""
        self.stream.flush()
