"""Every user-facing Indonesian msgid has an English translation with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locales" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"N_": None, "_": None}
SOURCE_DIRS = ("handlers", "lingkaran_core", "channels")


def _source_msgids() -> set[str]:
    found: set[str] = set()
    for folder in SOURCE_DIRS:
        method_map = [("**.py", "python")]
        for _fname, _line, msg, _comments, _ctx in extract_from_dir(
            str(ROOT / folder), method_map, keywords=KEYWORDS
        ):
            if isinstance(msg, str) and msg:
                found.add(msg)
    return found


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as fh:
        return read_po(fh, locale="en")


def test_every_source_string_is_in_the_english_catalog(catalog) -> None:  # type: ignore[no-untyped-def]
    missing = sorted(m for m in _source_msgids() if m not in catalog)
    assert not missing, f"{len(missing)} msgids not in {PO} (run make i18n-update):\n" + "\n".join(
        missing[:20]
    )


def test_every_english_entry_is_translated_and_not_fuzzy(catalog) -> None:  # type: ignore[no-untyped-def]
    wanted = _source_msgids()
    bad = [m.id for m in catalog if m.id and m.id in wanted and (not m.string or m.fuzzy)]
    assert not bad, f"{len(bad)} untranslated/fuzzy entries:\n" + "\n".join(map(str, bad[:20]))


def test_placeholders_match_between_languages(catalog) -> None:  # type: ignore[no-untyped-def]
    bad = [
        (m.id, m.string)
        for m in catalog
        if m.id and m.string and _placeholders(str(m.id)) != _placeholders(str(m.string))
    ]
    assert not bad, "placeholder mismatch:\n" + "\n".join(f"{a!r} -> {b!r}" for a, b in bad[:20])


def test_english_text_is_used_at_render_time() -> None:
    from handlers.i18n import translator

    assert translator("en")("Menu utama. Silakan pilih, atau tulis pertanyaan Bapak/Ibu.") != (
        "Menu utama. Silakan pilih, atau tulis pertanyaan Bapak/Ibu."
    )
    assert re.fullmatch(r"Rp42\.000\.000", translator("id").money(42_000_000))
    assert translator("id").date(__import__("datetime").date(2026, 11, 25)) == "25 November 2026"
