"""Translation and formatting for the conversations.

The msgid is the Indonesian text itself (Indonesian is the source language). Step declarations are
built at import time, so strings there are only *marked* with ``N_`` and translated at render time
with the user's language (TECH.md §9). Money and dates always go through babel.

Javanese (``jv``) and Madurese (``mad``) translate the worker and heir texts; a msgid they leave
empty (the facilitator screens) reads in Indonesian, gettext's own fallback to the msgid. Babel
has no Madurese locale data, so its numbers and dates use the Indonesian formats (Javanese CLDR
data gives the same ``25 November 2026`` and ``Rp42.000.000``).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

# An installed package carries compiled catalogs beside this module (setup.py compiles them at
# build time); a source checkout reads the top-level ``locales/`` (``make i18n-compile``).
_CATALOG_DIRS = (
    Path(__file__).resolve().parent / "locales",
    Path(__file__).resolve().parent.parent / "locales",
)
LANGUAGES = ("id", "en", "jv", "mad")
DEFAULT_LANGUAGE = "id"
TZ = ZoneInfo("Asia/Jakarta")
_BABEL_LOCALE = {"id": "id_ID", "en": "en_US", "jv": "jv_ID", "mad": "id_ID"}
# The name of each language in itself (menus, the "switched" note).
LANGUAGE_NAMES = {
    "id": "Bahasa Indonesia",
    "en": "English",
    "jv": "Basa Jawa",
    "mad": "Bhâsa Madhurâ",
}


def N_(msgid: str) -> str:
    """Mark a string for extraction; it is translated later, at render time."""
    return msgid


def _catalog_dir(lang: str) -> Path | None:
    for folder in _CATALOG_DIRS:
        if (folder / lang / "LC_MESSAGES" / "messages.mo").is_file():
            return folder
    return None


def check_catalogs() -> None:
    """Fail at start-up (``RuntimeError``, one line) when a language's catalog is missing.

    Without it every English user would silently read Indonesian.
    """
    missing = [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE and not _catalog_dir(lang)]
    if missing:
        raise RuntimeError(
            "missing compiled catalog(s) for "
            + ", ".join(missing)
            + ": run `make i18n-compile` (looked in "
            + ", ".join(str(d) for d in _CATALOG_DIRS)
            + ")"
        )


@functools.cache
def _catalog(lang: str) -> NullTranslations:
    if lang == DEFAULT_LANGUAGE:
        return NullTranslations()
    folder = _catalog_dir(lang)
    if folder is None:
        check_catalogs()
    catalog = Translations.load(str(folder), [lang], domain="messages")
    if not isinstance(catalog, Translations):  # babel returns NullTranslations when not found
        raise RuntimeError(f"the {lang} catalog could not be loaded from {folder}")
    return catalog


class Translator:
    """Everything language-dependent for one user: text, money, dates."""

    __slots__ = ("_gettext", "lang", "locale")

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.locale = _BABEL_LOCALE[self.lang]
        self._gettext = _catalog(self.lang).gettext

    def __call__(self, msgid: str, /, **params: object) -> str:
        """Translate ``msgid`` and fill its ``{placeholders}``."""
        text = self._gettext(msgid)
        return text.format(**params) if params else text

    def money(self, rupiah: int) -> str:
        """``Rp42.000.000`` (whole rupiah, no decimals)."""
        return format_currency(
            rupiah, "IDR", locale=self.locale, format="¤#,##0", currency_digits=False
        )

    def number(self, n: int) -> str:
        """A grouped integer in the user's locale."""
        return format_decimal(n, locale=self.locale)

    def date(self, d: dt.date) -> str:
        """``25 November 2026``."""
        return format_date(d, "long", locale=self.locale)

    def datetime(self, when: dt.datetime) -> str:
        """``25 November 2026 14:05`` in Jember's time."""
        return format_datetime(when, "d MMMM yyyy HH:mm", tzinfo=TZ, locale=self.locale)

    def month(self, d: dt.date) -> str:
        """``November 2026``."""
        return format_date(d, "MMMM yyyy", locale=self.locale)


@functools.cache
def translator(lang: str) -> Translator:
    """A cached translator per language."""
    return Translator(lang)
