"""``lingkaran admin staff ...`` (console accounts) and ``lingkaran admin web`` (the console alone).

Wire it into the admin parser with ``console_cli.register(sub, default_db=default_db)``; the
admin CLI's ``parse`` puts ``settings`` and the command's ``clock`` on the namespace::

    staff add --name NAME --role admin|opd|viewer [--kecamatan CODE] [--username U]
    staff list
    staff disable ID
    staff totp USERNAME [--off]     enrol TOTP (prints an otpauth:// URI once) or remove it
    web [--host H] [--port N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from lingkaran.console import build_console, totp
from lingkaran.console.accounts import ROLES, AccountError, add_staff, disable_staff
from lingkaran.server import WebServer
from lingkaran.settings import documents_dir_for, is_postgres_target
from lingkaran_core.storage import Database, console_repo
from lingkaran_core.textsafe import plain

__all__ = ["register"]

ROSTER_MAX_BYTES = 32 * 1024 * 1024


def _out(text: str) -> None:
    sys.stdout.write(plain(text, keep_newlines=True) + "\n")


def _err(text: str) -> None:
    sys.stderr.write(plain(text, keep_newlines=True) + "\n")


def register(subparsers: Any, default_db: str) -> None:
    """Add ``staff`` and ``web`` to the admin parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=default_db, help="database file (default %(default)s)")
    staff = subparsers.add_parser("staff", help="web console accounts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = staff.add_parser("add", parents=[common], help="add an account; prints a one-time password")
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--kecamatan", help="kecamatan code, e.g. 35.09.27 (required for viewer)")
    p.add_argument("--username", help="login name (default: from the name)")
    p.set_defaults(func=_run(_staff_add))
    p = staff.add_parser("list", parents=[common], help="every account")
    p.set_defaults(func=_run(_staff_list))
    p = staff.add_parser("disable", parents=[common], help="disable an account, end its sessions")
    p.add_argument("id", type=int)
    p.set_defaults(func=_run(_staff_disable))
    p = staff.add_parser(
        "totp", parents=[common], help="enrol an account in TOTP; prints an otpauth:// URI once"
    )
    p.add_argument("username")
    p.add_argument("--off", action="store_true", help="remove TOTP from the account")
    p.set_defaults(func=_run(_staff_totp))

    p = subparsers.add_parser("web", parents=[common], help="serve the OPD web console alone")
    p.add_argument("--host", default=None, help="address (default: LINGKARAN_HOST)")
    p.add_argument("--port", type=int, default=None, help="port (default: LINGKARAN_PORT)")
    p.set_defaults(func=_web)


async def _open(target: str, settings: Any) -> Database:
    """The database ``--db`` names, its documents where the settings put them."""
    files = getattr(settings, "files_dir", None)
    return await Database.open(target, files_dir=documents_dir_for(target, files))


def _run(body: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        if not is_postgres_target(args.db) and not Path(args.db).exists():
            _err(f"error: database {args.db} does not exist (create it with `init-db`)")
            return 1

        async def go() -> int:
            db = await _open(args.db, getattr(args, "settings", None))
            try:
                return int(await body(db, args))
            finally:
                await db.close()

        return asyncio.run(go())

    return run


def _actor(args: argparse.Namespace) -> str:
    settings = getattr(args, "settings", None)
    return str(getattr(settings, "admin_actor", "admin"))


async def _staff_add(db: Database, args: argparse.Namespace) -> int:
    try:
        async with db.tx() as tx:
            staff_id, username, password = await add_staff(
                tx,
                name=args.name,
                role=args.role,
                kecamatan=args.kecamatan,
                now=args.clock(),
                actor=_actor(args),
                username=args.username,
            )
    except AccountError as exc:
        _err(f"error: {exc}")
        return 1
    _out(f"staff #{staff_id}: {args.name.strip()} ({args.role})")
    _out(f"username: {username}")
    _out(f"password: {password}   (shown once; stored as an argon2 hash)")
    return 0


async def _staff_list(db: Database, args: argparse.Namespace) -> int:
    async with db.read() as r:
        rows = await console_repo.list_staff(r)
    if not rows:
        _out("no staff accounts yet (add one with `staff add`)")
        return 0
    for row in rows:
        state = "disabled" if row["disabled_at"] else "active"
        scope = row["kecamatan_code"] or "whole regency"
        last = row["last_login_at"] or "never"
        _out(
            f"#{row['id']:<4} {row['username']:<20} {row['name']:<24} {row['role']:<7} "
            f"{scope:<14} {state:<9} last login: {last}"
        )
    return 0


async def _staff_disable(db: Database, args: argparse.Namespace) -> int:
    async with db.tx() as tx:
        done = await disable_staff(tx, args.id, now=args.clock(), actor=_actor(args))
    if not done:
        _err(f"error: no active staff account #{args.id}")
        return 1
    _out(f"staff #{args.id} disabled; their sessions ended")
    return 0


async def _staff_totp(db: Database, args: argparse.Namespace) -> int:
    try:
        async with db.tx() as tx:
            staff_id, secret = await totp.enrol(
                tx, args.username, now=args.clock(), actor=_actor(args), off=args.off
            )
    except LookupError:
        _err(f"error: no staff account {args.username!r}")
        return 1
    if secret is None:
        _out(f"staff #{staff_id}: TOTP removed; the password alone logs in")
        return 0
    _out(f"staff #{staff_id}: TOTP enrolled; the login now asks for a 6-digit code")
    _out(f"key: {secret}")
    _out(totp.otpauth_uri(secret, args.username.strip().lower()))
    _out("(shown once: add it to an authenticator app, e.g. as a QR code of the URI)")
    return 0


def _web(args: argparse.Namespace) -> int:
    settings = args.settings
    host = args.host if args.host is not None else str(getattr(settings, "host", "127.0.0.1"))
    port = args.port if args.port is not None else int(getattr(settings, "port", 8080))
    return asyncio.run(serve_console(args.db, settings, args.clock, host=host, port=port))


async def serve_console(
    db_path: str,
    settings: Any,
    clock: Any,
    *,
    host: str,
    port: int,
    stop: asyncio.Event | None = None,
) -> int:
    """Serve only the console until SIGINT/SIGTERM (or ``stop``)."""
    db = await _open(db_path, settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    server = WebServer(
        build_console(db, settings, clock),
        host=host,
        port=port,
        # A roster upload is larger than a webhook body: at least 32 MiB here.
        max_body_bytes=max(int(getattr(settings, "max_body_bytes", 0) or 0), ROSTER_MAX_BYTES),
    )
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)
        try:
            await server.start()
        except (OSError, SystemExit) as exc:
            _err(f"error: cannot listen on {host}:{port}: {exc}")
            return 1
        _out(f"OPD console on http://{host}:{server.port}/console/ (Ctrl+C stops)")
        await stop.wait()
        await server.stop()
        return 0
    finally:
        for sig in installed:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        await db.close()
