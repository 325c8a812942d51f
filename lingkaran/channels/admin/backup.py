"""Admin commands: Online backup and restore of the SQLite database."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from lingkaran.channels.admin.common import (
    CliError,
    out,
)
from lingkaran_core.storage import Database, backup

# -- backup and restore ------------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    try:
        backup.check_database_file(path)
    except backup.BackupError as exc:
        raise CliError(str(exc)) from None


def _backup(args: argparse.Namespace) -> int:
    source = Path(args.db)
    if not source.exists():
        raise CliError(f"database {source} does not exist")
    target = Path(args.out)
    if target.exists():
        raise CliError(f"{target} already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        backup.copy_database(source, target)
    except backup.BackupError as exc:
        target.unlink(missing_ok=True)
        raise CliError(f"backup failed: {exc}") from None
    _check_file(target)
    out(f"backup written: {target} ({target.stat().st_size:,} bytes, integrity ok)")
    out(f"claim documents are files under {source.parent / 'files'}: back that folder up too")
    return 0


def _restore(args: argparse.Namespace) -> int:
    source = Path(args.file)
    if not source.is_file():
        raise CliError(f"no such file: {source}")
    _check_file(source)
    target = Path(args.db)
    if target.exists() and not args.force:
        raise CliError(
            f"{target} exists; stop the bot, then pass --force to overwrite it with {source}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        backup.copy_database(source, target)
    except backup.BackupError as exc:
        raise CliError(f"restore failed: {exc}") from None

    async def migrate() -> None:
        db = await Database.open(target)
        await db.close()

    asyncio.run(migrate())
    _check_file(target)
    out(f"restored {target} from {source} (integrity ok)")
    return 0
