"""Lingkaran Cinta bot: composition root and command line.

python bot.py chat [--db PATH] [--user ID] [--lang id|en]
python bot.py telegram | whatsapp | serve
python bot.py admin ...        (see `python bot.py admin --help`)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_DB = "data/lingkaran.db"


def utc_now() -> datetime:
    """The real clock (UTC, tz-aware)."""
    return datetime.now(UTC)


def default_db() -> str:
    """The database path from LINGKARAN_DB, or data/lingkaran.db."""
    return os.environ.get("LINGKARAN_DB", DEFAULT_DB)


def load_env() -> None:
    """Read a .env file when present (never overriding the real environment)."""
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover - dotenv is a dependency
        return
    load_dotenv(override=False)


def setup_logging(level: str = "INFO") -> None:
    """Key=value logs with NIKs masked (see lingkaran_core.logs)."""
    from lingkaran_core.logs import configure

    configure(level=os.environ.get("LINGKARAN_LOG_LEVEL", level))


async def _chat(args: argparse.Namespace) -> int:
    from channels.terminal import run_chat
    from handlers.registry import build_engine
    from lingkaran_core.storage import Database
    from lingkaran_core.storage import chats as chat_store

    db = await Database.open(args.db)
    try:
        engine = build_engine(db, clock=utc_now)
        if args.lang:
            async with db.tx() as tx:
                chat = await chat_store.get_or_create_chat(
                    tx, "terminal", args.user, now=utc_now(), language=args.lang
                )
                await chat_store.update_chat(tx, chat.id, language=args.lang)
        await run_chat(engine, user=args.user, clock=utc_now)
    finally:
        await db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    load_env()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "admin":
        from channels.admin_cli import main as admin_main

        setup_logging("WARNING")
        return int(admin_main(argv[1:]))

    parser = argparse.ArgumentParser(prog="bot.py", description="Lingkaran Cinta bot")
    sub = parser.add_subparsers(dest="command", required=True)
    p_chat = sub.add_parser("chat", help="the terminal chat (offline, same flows)")
    p_chat.add_argument("--db", default=default_db())
    p_chat.add_argument("--user", default="local")
    p_chat.add_argument("--lang", choices=("id", "en"))
    sub.add_parser("admin", help="administration (python bot.py admin --help)")
    for name in ("telegram", "whatsapp", "serve"):
        sub.add_parser(name, help=f"run the {name} channel", add_help=False)
    args, rest = parser.parse_known_args(argv)

    if args.command == "chat":
        setup_logging("WARNING")
        Path(args.db).parent.mkdir(parents=True, exist_ok=True)
        return asyncio.run(_chat(args))
    if args.command in ("telegram", "whatsapp", "serve"):
        setup_logging("INFO")
        from channels.runner import main as run_main

        return int(run_main(args.command, rest))
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
