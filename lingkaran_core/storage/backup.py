"""Backups of the SQLite database: an online copy, and the checks a restore needs.

``copy_database`` uses SQLite's online backup API, so the copy is consistent even while the bot
writes; ``check_database_file`` runs ``PRAGMA integrity_check`` and makes sure the file is a
Lingkaran database before anyone restores it. Both raise ``BackupError`` with one line.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["BackupError", "StorageError", "check_database_file", "copy_database"]

# What adapters catch for "the database said no" without importing the driver themselves.
StorageError = sqlite3.Error

_REQUIRED_TABLES = frozenset({"workers", "claims", "schema_migrations"})


class BackupError(Exception):
    """A backup or restore cannot go ahead; ``str()`` says why in one line."""


def check_database_file(path: Path) -> None:
    """Raise ``BackupError`` unless ``path`` is a sound Lingkaran database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is not readable as a database: {exc}") from None
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a database: {exc}") from None
    finally:
        conn.close()
    if result != "ok":
        raise BackupError(f"{path} failed the integrity check: {result}")
    if not tables >= _REQUIRED_TABLES:
        raise BackupError(f"{path} is a SQLite file but not a Lingkaran database")


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of ``source`` into ``target`` (private: it holds full NIKs)."""
    try:
        src = sqlite3.connect(source, timeout=30)
        dst = sqlite3.connect(target)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {source} or {target}: {exc}") from None
    try:
        src.backup(dst, pages=4096)
    except sqlite3.Error as exc:
        raise BackupError(f"copy failed: {exc}") from None
    finally:
        dst.close()
        src.close()
    os.chmod(target, 0o600)
