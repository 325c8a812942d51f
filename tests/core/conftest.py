"""Shared fixtures for the domain tests."""

import sys
from datetime import date
from pathlib import Path

import pytest

# The project is not pip-installed in the dev venv; make `lingkaran_core` importable when pytest
# runs from any directory. Harmless once pyproject sets `pythonpath = ["."]`.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

TODAY = date(2026, 11, 25)


@pytest.fixture
def today() -> date:
    """The fixed 'today' used by every core test (DOMAIN.md was collected 2026-11)."""
    return TODAY
