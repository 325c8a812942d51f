"""Backups of the SQLite database: an online copy, and the checks a restore needs.

``copy_database`` uses SQLite's online backup API, so the copy is consistent even while the bot
writes; ``check_database_file`` runs ``PRAGMA integrity_check`` and makes sure the file is a
Lingkaran database before anyone restores it. Both raise ``BackupError`` with one line.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import psycopg

__all__ = [
    "BackupError",
    "StorageError",
    "check_database_file",
    "copy_database",
    "loose_permissions",
]

# What adapters catch for "the database said no" without importing the driver themselves.
StorageError: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)

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


def loose_permissions(db_path: Path) -> list[str]:
    """Files and folders of the database that others than the owner can read (one line each).

    The database, its WAL and the ``files`` folder beside it hold NIKs, birth dates and claim
    documents: they must be 0600 / 0700. Nothing is changed here; the operator is told how.
    """
    paths = [db_path, db_path.with_name(db_path.name + "-wal"), db_path.parent / "files"]
    out = []
    for path in paths:
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            continue
        if mode & 0o077:
            out.append(
                f"{path} is readable by others (mode {mode:o}); it holds personal data: "
                f"chmod {'700' if path.is_dir() else '600'} {path}"
            )
    return out


# --- PostgreSQL: pg_dump / pg_restore ---------------------------------------------------------

PG_DUMP_TIMEOUT_S = 3600


def pg_tool(name: str) -> str:
    """The newest ``pg_dump``/``pg_restore`` on this machine (``BackupError`` when missing)."""
    import glob
    import shutil

    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise BackupError(f"{name} not found: install the PostgreSQL client (postgresql-client)")


def _run_tool(argv: list[str]) -> str:
    import subprocess

    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=PG_DUMP_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupError(f"{Path(argv[0]).name} failed: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{Path(argv[0]).name} failed: {last}")
    return done.stdout


def dump_postgres(url: str, target: Path) -> None:
    """A consistent dump of the database at ``url`` (custom format, one snapshot), 0600."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        _run_tool([pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", url])
    except BackupError:
        target.unlink(missing_ok=True)
        raise
    os.chmod(target, 0o600)


def check_postgres_dump(path: Path) -> None:
    """Raise ``BackupError`` unless ``path`` is a pg_dump archive of a Lingkaran database."""
    listing = _run_tool([pg_tool("pg_restore"), "--list", str(path)])
    tables = {
        parts[-2]
        for line in listing.splitlines()
        if " TABLE DATA " in line and len(parts := line.split()) >= 2
    }
    if not tables >= _REQUIRED_TABLES:
        raise BackupError(f"{path} is a PostgreSQL dump but not of a Lingkaran database")


def restore_postgres(path: Path, url: str) -> None:
    """Replace the contents of the database at ``url`` with the dump ``path``."""
    _run_tool(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url}",
            str(path),
        ]
    )


def is_postgres_dump(path: Path) -> bool:
    """Whether ``path`` starts like a pg_dump custom-format archive."""
    try:
        with path.open("rb") as fh:
            return fh.read(5) == b"PGDMP"
    except OSError:
        return False
