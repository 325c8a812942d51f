"""Dispatch ``bot.py telegram | whatsapp | serve`` to the channel modules."""

from __future__ import annotations

import importlib


def main(command: str, argv: list[str]) -> int:
    """Run a long-lived command; returns the process exit code."""
    module = importlib.import_module(f"channels.{command}")
    result: int = module.main(argv)
    return result
