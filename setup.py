"""Build hook: compile the gettext catalogs into the wheel (``handlers/locales/*.mo``).

Everything else about the package is declared in ``pyproject.toml``. The catalogs' sources stay
in the top-level ``locales/`` folder; a source checkout reads the ``.mo`` files that
``make i18n-compile`` writes there, an installed package reads the ones compiled here.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    """``build_py`` plus every ``locales/<lang>/LC_MESSAGES/*.po`` compiled to ``.mo``."""

    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        root = Path(__file__).resolve().parent / "locales"
        sources = sorted(root.glob("*/LC_MESSAGES/*.po"))
        if not sources:
            raise SystemExit("no gettext catalogs under locales/: the package would be broken")
        for po in sources:
            target = Path(self.build_lib) / "handlers" / "locales" / po.relative_to(root)
            target = target.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as f:
                catalog = read_po(f)
            with target.open("wb") as out:
                write_mo(out, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
