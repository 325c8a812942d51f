"""``lingkaran`` (and ``python bot.py``): the command line.

    lingkaran chat [--db PATH] [--user ID] [--lang id|en]
    lingkaran telegram | whatsapp | serve [--db PATH] [--host H] [--port P]
    lingkaran admin ...              (lingkaran admin --help)
    lingkaran settings [--markdown]  (every setting, its default and meaning)

Settings are read and validated once (``lingkaran.settings``), the one clock is created here, and
both go to the composition root (``lingkaran.app``) or the admin CLI. A bad setting or a missing
catalog is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from lingkaran.settings import Settings, SettingsError, load_settings, markdown_table
from lingkaran_core.clock import Clock, SystemClock

__all__ = ["main"]


def _error(text: str) -> None:
    sys.stderr.write(f"error: {text}\n")
    sys.stderr.flush()


def _setup_logging(settings: Settings, default: str) -> None:
    from lingkaran_core.logs import configure

    configure(level=settings.log_level or default, fmt=settings.log_format)


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lingkaran", description="Lingkaran Cinta bot")
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = f"database file (default {settings.db}, LINGKARAN_DB)"
    p = sub.add_parser("chat", help="the terminal chat (offline, same flows)")
    p.add_argument("--db", help=db_help)
    p.add_argument("--user", default="local")
    p.add_argument("--lang", choices=("id", "en"))
    p.add_argument(
        "--phone",
        help="the number /phone shares as your own contact (the roster-phone link factor)",
    )
    for name, text in (
        ("telegram", "Telegram (long polling, or webhook with --webhook-url)"),
        ("whatsapp", "the WhatsApp Cloud API webhook"),
        ("serve", "every configured channel in one process"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--db", help=db_help)
        p.add_argument("--host", help=f"listen address (default {settings.host})")
        p.add_argument("--port", type=int, help=f"listen port (default {settings.port})")
        if name in ("telegram", "serve"):
            p.add_argument("--webhook-url", help="Telegram webhook mode (default: long polling)")
            p.add_argument("--secret-token", help="X-Telegram-Bot-Api-Secret-Token")
    sub.add_parser("admin", help="administration (lingkaran admin --help)", add_help=False)
    p = sub.add_parser("settings", help="every setting with its default and meaning")
    p.add_argument("--markdown", action="store_true", help="the README's table")
    return parser


def _with_db(settings: Settings, db: str | None) -> Settings:
    return settings if not db else settings.model_copy(update={"db": str(db)})


def main(argv: list[str] | None = None, *, clock: Clock | None = None) -> int:
    """Parse the command line and run the chosen command; the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Every file the bot creates (database, WAL, documents, backups, exports) holds personal
    # data: owner-only from the start (0600 files, 0700 folders).
    os.umask(0o077)
    try:
        settings = load_settings()
    except SettingsError as exc:
        _error(f"invalid setting: {exc}".replace("\n", "; "))
        return 2
    clock = clock or SystemClock()
    try:
        from handlers.i18n import check_catalogs

        check_catalogs()
    except RuntimeError as exc:
        _error(str(exc))
        return 2

    if argv and argv[0] == "admin":
        from lingkaran.channels.admin_cli import main as admin_main

        _setup_logging(settings, "WARNING")
        from lingkaran.console import cli as console_cli

        return int(
            admin_main(argv[1:], settings=settings, clock=clock, extra=(console_cli.register,))
        )

    args = _parser(settings).parse_args(argv)
    if args.command == "settings":
        if args.markdown:
            print(markdown_table())
        else:
            for name, value in sorted(settings.model_dump().items()):
                print(f"{name} = {value}")
        return 0
    settings = _with_db(settings, args.db)
    from lingkaran_core.storage.backup import loose_permissions

    if settings.db_file is not None:
        for warning in loose_permissions(settings.db_file):
            sys.stderr.write(f"warning: {warning}\n")
    if args.command == "chat":
        from lingkaran.app import run_chat

        _setup_logging(settings, "WARNING")
        return asyncio.run(
            run_chat(settings, clock=clock, user=args.user, lang=args.lang, phone=args.phone)
        )

    from lingkaran.app import StartError, run_server

    _setup_logging(settings, "INFO")
    overrides = {
        "webhook_url": getattr(args, "webhook_url", None),
        "secret_token": getattr(args, "secret_token", None),
    }
    try:
        return asyncio.run(
            run_server(
                args.command,
                settings,
                clock=clock,
                host=args.host,
                port=args.port,
                telegram_overrides=overrides,
            )
        )
    except StartError as exc:
        _error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
