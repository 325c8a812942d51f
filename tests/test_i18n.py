"""Every user-facing Indonesian msgid has an English translation with the same placeholders."""

from __future__ import annotations

import ast
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


# ---------------------------------------------------------------------------------------------
# Javanese and Madurese: every worker and heir text; facilitator screens may stay Indonesian.

VILLAGE_LANGUAGES = ("jv", "mad")
# A msgid used ONLY under these paths may stay empty in jv/mad: gettext then shows the
# Indonesian msgid (the facilitator screens, the staff console). Used anywhere else, it must be
# translated.
INDONESIAN_ONLY = ("handlers/facilitator/", "lingkaran/console/")
PY_SOURCES = ("handlers", "lingkaran_core", "lingkaran")


def _msgid_files() -> dict[str, set[str]]:
    files: dict[str, set[str]] = {}
    for folder in PY_SOURCES:
        for fname, _line, msg, _comments, _ctx in extract_from_dir(
            str(ROOT / folder), [("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(msg, str) and msg:
                files.setdefault(msg, set()).add(f"{folder}/{fname}")
    return files


def village_msgids() -> set[str]:
    """The msgids jv and mad must translate (all but those of the facilitator screens only)."""
    return {
        msg
        for msg, where in _msgid_files().items()
        if any(not f.startswith(INDONESIAN_ONLY) for f in where)
    }


def untranslated(lang: str) -> list[str]:
    """The required msgids that ``lang`` lacks, leaves empty or marks fuzzy (sorted)."""
    path = ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        cat = read_po(fh)
    bad = []
    for msg in village_msgids():
        entry = cat.get(msg)
        if entry is None or not entry.string or entry.fuzzy:
            bad.append(msg)
    return sorted(bad)


@pytest.fixture(scope="module")
def required() -> set[str]:
    return village_msgids()


def test_the_indonesian_only_set_is_the_facilitator_screens(required: set[str]) -> None:
    files = _msgid_files()
    exempt = set(files) - required
    assert exempt, "no facilitator-only msgid found: is the path rule still right?"
    assert all(f.startswith(INDONESIAN_ONLY) for m in exempt for f in files[m])
    # The worker/heir flows themselves are never exempt.
    assert "Menu utama. Silakan pilih, atau tulis pertanyaan Bapak/Ibu." in required
    assert "Menu pendamping. Silakan pilih." in required  # in handlers/menu.py


@pytest.mark.parametrize("lang", VILLAGE_LANGUAGES)
def test_every_worker_and_heir_text_is_translated(lang: str, required: set[str]) -> None:
    missing = untranslated(lang)
    assert not missing, (
        f"{len(missing)} worker/heir msgids untranslated or fuzzy in {lang} "
        f"(list them: python tests/test_i18n.py {lang}):\n" + "\n".join(missing[:20])
    )


@pytest.mark.parametrize("lang", VILLAGE_LANGUAGES)
def test_village_placeholders_match_the_indonesian(lang: str) -> None:
    path = ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        cat = read_po(fh)
    bad = [
        (m.id, m.string)
        for m in cat
        if m.id and m.string and _placeholders(str(m.id)) != _placeholders(str(m.string))
    ]
    assert not bad, "placeholder mismatch:\n" + "\n".join(f"{a!r} -> {b!r}" for a, b in bad[:20])
    # Numbered lines and line breaks keep the Indonesian shape (a list stays a list).
    shape = [
        m.id
        for m in cat
        if m.id
        and m.string
        and (
            str(m.id).count("\n") != str(m.string).count("\n")
            or re.findall(r"(?m)^\d+\.", str(m.id)) != re.findall(r"(?m)^\d+\.", str(m.string))
        )
    ]
    assert not shape, "line/number structure differs:\n" + "\n".join(map(repr, shape[:20]))
    # pybabel compile refuses an entry whose %-placeholders differ ("50% selama" reads as "% s").
    errors = [(m.id, str(e)) for m, errs in cat.check() for e in errs]
    assert not errors, errors[:10]


def _option_labels() -> set[str]:
    """Every literal ``Option(label=N_("..."))``/``Choice`` label in the handlers."""
    labels: set[str] = set()
    for path in (ROOT / "handlers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in ("Option", "Choice"):
                continue
            for kw in node.keywords:
                arg = kw.value
                if (
                    kw.arg == "label"
                    and isinstance(arg, ast.Call)
                    and arg.args
                    and isinstance(arg.args[0], ast.Constant)
                    and isinstance(arg.args[0].value, str)
                ):
                    labels.add(arg.args[0].value)
    return labels


@pytest.mark.parametrize("lang", VILLAGE_LANGUAGES)
def test_village_button_labels_fit_a_whatsapp_button(lang: str) -> None:
    """A label fits a WhatsApp reply button (20) when the Indonesian one does."""
    labels = _option_labels()
    assert len(labels) > 50
    path = ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        cat = read_po(fh)
    long = [
        (m.id, m.string)
        for m in cat
        if m.id in labels and m.string and len(str(m.string)) > max(20, len(str(m.id)))
    ]
    assert not long, long


@pytest.mark.parametrize("lang", VILLAGE_LANGUAGES)
def test_village_catalogs_are_used_and_format_like_indonesian(lang: str) -> None:
    import datetime as dt

    from handlers.i18n import translator

    t = translator(lang)
    menu = "Menu utama. Silakan pilih, atau tulis pertanyaan Bapak/Ibu."
    assert t(menu) != menu
    # A facilitator-only text reads in Indonesian.
    assert t("Menu pendamping. Silakan pilih.") != ""
    assert t.money(42_000_000) == "Rp42.000.000"
    assert t.number(1_234_567) == "1.234.567"
    assert t.date(dt.date(2026, 11, 25)) == "25 November 2026"
    assert t.month(dt.date(2026, 11, 25)) == "November 2026"
    when = dt.datetime(2026, 11, 25, 7, 5, tzinfo=dt.UTC)
    assert t.datetime(when) == "25 November 2026 14:05"


if __name__ == "__main__":  # python tests/test_i18n.py jv mad: what is left to translate
    import sys

    for code in sys.argv[1:] or VILLAGE_LANGUAGES:
        todo = untranslated(code)
        sys.stdout.write(f"# {code}: {len(todo)} untranslated worker/heir msgids\n")
        sys.stdout.writelines(f"{msg!r}\n" for msg in todo)
