"""Admin commands: online backup and restore, on SQLite (backup API) or PostgreSQL (pg_dump).

On PostgreSQL ``backup --out FILE`` writes a ``pg_dump`` custom-format archive (one consistent
snapshot, taken while the bot runs) and ``restore FILE --force`` replays it with ``pg_restore
--clean --single-transaction`` into the database ``--db`` names: all or nothing.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from lingkaran.channels.admin.common import (
    CliError,
    out,
)
from lingkaran.settings import documents_dir_for, is_postgres_target
from lingkaran_core.storage import Database, backup, transfer
from lingkaran_core.storage.pg import PgDatabase, redact_url

# -- backup and restore ------------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    try:
        backup.check_database_file(path)
    except backup.BackupError as exc:
        raise CliError(str(exc)) from None


def _backup(args: argparse.Namespace) -> int:
    if is_postgres_target(args.db):
        return _backup_postgres(args)
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


def _backup_postgres(args: argparse.Namespace) -> int:
    target = Path(args.out)
    if target.exists():
        raise CliError(f"{target} already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        backup.dump_postgres(args.db, target)
        backup.check_postgres_dump(target)
    except backup.BackupError as exc:
        target.unlink(missing_ok=True)
        raise CliError(f"backup failed: {exc}") from None
    out(f"backup written: {target} ({target.stat().st_size:,} bytes, pg_dump archive, checked)")
    files = documents_dir_for(args.db, getattr(args.settings, "files_dir", None))
    out(f"claim documents are files under {files}: back that folder up too")
    return 0


def _restore_postgres(args: argparse.Namespace, source: Path) -> int:
    if not args.force:
        raise CliError(
            f"restoring replaces every row of {redact_url(args.db)}; stop the bot, then pass "
            "--force"
        )
    try:
        backup.check_postgres_dump(source)
        backup.restore_postgres(source, args.db)
    except backup.BackupError as exc:
        raise CliError(f"restore failed: {exc}") from None

    async def migrate() -> None:
        db = await Database.open(args.db)
        await db.close()

    asyncio.run(migrate())
    out(f"restored {redact_url(args.db)} from {source} (pg_restore, one transaction)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    source = Path(args.file)
    if not source.is_file():
        raise CliError(f"no such file: {source}")
    if is_postgres_target(args.db):
        if not backup.is_postgres_dump(source):
            raise CliError(f"{source} is not a pg_dump archive (a SQLite backup? see `copy-db`)")
        return _restore_postgres(args, source)
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


def _copy_db(args: argparse.Namespace) -> int:
    if is_postgres_target(args.db):
        raise CliError("--db must be the SQLite file to copy from")
    if not is_postgres_target(args.to):
        raise CliError("--to must be a postgresql:// URL")
    source_path = Path(args.db)
    if not source_path.exists():
        raise CliError(f"database {source_path} does not exist")

    async def go() -> transfer.CopyReport:
        source = await Database.open(source_path)
        try:
            target = await Database.open(args.to)
            try:
                assert isinstance(target, PgDatabase)
                return await transfer.copy_sqlite_to_postgres(source, target)
            finally:
                await target.close()
        finally:
            await source.close()

    try:
        report = asyncio.run(go())
    except transfer.CopyError as exc:
        raise CliError(f"copy failed: {exc}") from None
    except backup.StorageError as exc:
        raise CliError(f"copy failed: {exc}") from None
    width = max(len(t) for t in report.counts)
    out(f"{'table':<{width}}  {'sqlite':>9}  {'postgresql':>10}")
    for table, (a, b) in report.counts.items():
        out(f"{table:<{width}}  {a:>9,}  {b:>10,}")
    total = sum(a for a, _ in report.counts.values())
    out(f"copied {total:,} rows into {redact_url(args.to)}; every table's count matches")
    files = documents_dir_for(args.db, getattr(args.settings, "files_dir", None))
    out(f"claim documents stay under {files}: point LINGKARAN_FILES_DIR there")
    return 0
