"""Every console text (templates and code) has an English translation with the same placeholders."""

from __future__ import annotations

import string
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locales" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "N_": None, "t": None}


def _console_msgids() -> set[str]:
    found: set[str] = set()
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    for _f, _l, msg, _c, _x in extract_from_dir(
        str(ROOT / "lingkaran" / "console"), method_map, keywords=KEYWORDS
    ):
        if isinstance(msg, str) and msg:
            found.add(msg)
    return found


def _names(text: str) -> set[str]:
    return {n for _, n, _, _ in string.Formatter().parse(text) if n}


def test_console_texts_are_translated() -> None:
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    ids = _console_msgids()
    assert len(ids) > 150
    missing = sorted(m for m in ids if m not in catalog or not catalog[m].string)
    assert not missing, missing[:20]
    bad = [m for m in ids if _names(m) != _names(str(catalog[m].string))]
    assert not bad, bad
