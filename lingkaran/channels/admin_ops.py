"""Admin commands for reminders, the outbox and broadcasts (wired into ``bot.py admin``).

::

    reminders run [--now ISO] [--dry-run]        queue what is due (counts per kind)
    outbox [--limit N]                           counts by channel/status, dead letters, OPD queue
    broadcast (--sector S | --desa CODE | --kecamatan CODE)... --message TEXT [--yes]

``broadcast`` prints the recipients and the expected WhatsApp template cost first and queues
only with ``--yes`` (the use case is ``lingkaran_core.services.broadcasts``, shared with the
console's composer; every broadcast is audited): class ``broadcast`` (never sent after opt-out, deferred in quiet hours),
WhatsApp recipients outside the 24 h window spread over days under the configured share of the
messaging tier (``LINGKARAN_WA_TIER``, ``LINGKARAN_WA_TIER_SHARE``,
``LINGKARAN_WA_TEMPLATE_PRICE_IDR``). Recipients are chats linked to verified, living workers
that have not opted out; roster phone numbers without a chat are never broadcast to.

Wiring: ``admin_ops.register(subparsers)`` on the admin parser's sub-parsers (``outbox`` is
only added when the CLI does not define it already); every parser sets ``func=run``, so the
CLI's ``args.func(args)`` lands in ``run(args)``. Each command takes ``--db``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from lingkaran.channels.admin.common import _now_arg, open_db
from lingkaran.channels.scheduler import run_sweep
from lingkaran_core.errors import DomainError
from lingkaran_core.services import broadcasts
from lingkaran_core.storage import Database
from lingkaran_core.storage import outbox_repo as repo
from lingkaran_core.textsafe import PlainWriter


def register(subparsers: Any, *, default_db: str) -> None:
    """Add ``reminders``, ``outbox`` (if absent) and ``broadcast`` to the admin parser."""
    p = subparsers.add_parser("reminders", help="reminder sweeps")
    rsub = p.add_subparsers(dest="reminders_command", required=True)
    r = rsub.add_parser("run", help="queue every reminder due now (idempotent)")
    r.add_argument("--db", default=default_db, help="database file (default %(default)s)")
    r.add_argument(
        "--now", type=_now_arg, help="pretend it is this instant (ISO; WIB when no offset)"
    )
    r.add_argument("--dry-run", action="store_true", help="count only, queue nothing")
    r.set_defaults(func=run, admin_ops="reminders-run")

    if "outbox" not in getattr(subparsers, "choices", {}):
        p = subparsers.add_parser("outbox", help="message queue state and OPD queue")
        p.add_argument("--db", default=default_db, help="database file (default %(default)s)")
        p.add_argument("--limit", type=int, default=30)
        p.set_defaults(func=run, admin_ops="outbox")

    p = subparsers.add_parser("broadcast", help="a message to workers by sector/desa/kecamatan")
    p.add_argument("--db", default=default_db, help="database file (default %(default)s)")
    p.add_argument("--sector", action="append", default=[], help="sector code (repeatable)")
    p.add_argument("--desa", action="append", default=[], help="desa code (repeatable)")
    p.add_argument("--kecamatan", action="append", default=[], help="kecamatan code (repeatable)")
    p.add_argument("--message", required=True, help="the text, as it should reach workers")
    p.add_argument("--yes", action="store_true", help="queue it (without: estimate only)")
    p.add_argument("--now", type=_now_arg, help=argparse.SUPPRESS)
    p.set_defaults(func=run, admin_ops="broadcast")


def run(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run a parsed command of this module; the exit code."""
    stream: Any = PlainWriter(out or sys.stdout)
    try:
        return asyncio.run(_run(args, stream))
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2


async def _run(args: argparse.Namespace, out: TextIO) -> int:
    command = getattr(args, "admin_ops", None)
    db = await open_db(args)
    try:
        if command == "reminders-run":
            return await _reminders_run(db, args, out)
        if command == "outbox":
            return await _outbox(db, args, out)
        if command == "broadcast":
            return await _broadcast(db, args, out)
        raise ValueError(f"unknown command {command!r}")
    finally:
        await db.close()


async def _reminders_run(db: Database, args: argparse.Namespace, out: TextIO) -> int:
    counts = await run_sweep(
        db,
        args.clock(),
        dry_run=args.dry_run,
        whatsapp_enabled=args.settings.whatsapp_enabled,
    )
    verb = "would queue" if args.dry_run else "queued"
    for kind, n in counts.items():
        out.write(f"{kind:<18} {verb} {n}\n")
    out.write(f"{'total':<18} {verb} {sum(counts.values())}\n")
    return 0


async def _outbox(db: Database, args: argparse.Namespace, out: TextIO) -> int:
    async with db.read() as r:
        counts = await repo.counts(r)
        dead = await repo.dead_letters(r, limit=args.limit)
        queue = await repo.admin_queue(r, limit=args.limit)
    if not counts:
        out.write("outbox is empty\n")
        return 0
    out.write("channel    status        rows\n")
    for (channel, status), n in sorted(counts.items()):
        out.write(f"{channel:<10} {status:<12} {n:>5}\n")
    if dead:
        out.write("\ndead letters (newest first):\n")
        for row in dead:
            out.write(
                f"  #{row.id} {row.channel} {row.msg_key} {row.status} "
                f"attempts={row.attempts} {row.last_error or ''}\n"
            )
    if queue:
        out.write("\nOPD queue:\n")
        for row in queue:
            params = " ".join(f"{k}={v}" for k, v in sorted(row.params.items()))
            out.write(f"  #{row.id} {row.msg_key} {params} (since {row.created_at})\n")
    return 0


async def _broadcast(db: Database, args: argparse.Namespace, out: TextIO) -> int:
    now = args.clock()
    config = args.settings.outbox_config()
    audience = broadcasts.Audience(
        sectors=tuple(args.sector),
        desa_codes=tuple(args.desa),
        kecamatan_codes=tuple(args.kecamatan),
    )
    try:
        async with db.read() as r:
            plan = await broadcasts.plan_broadcast(
                r, message=args.message, audience=audience, now=now, config=config
            )
    except DomainError as exc:
        raise ValueError(_BROADCAST_ERRORS.get(exc.code, exc.code)) from None
    est = plan.estimate
    out.write(f"recipients: {est.recipients} (WhatsApp {est.whatsapp})\n")
    out.write(
        f"WhatsApp outside the 24 h window: {est.outside_window} template messages, "
        f"about Rp{est.cost_rupiah:,}".replace(",", ".")
        + f" at Rp{plan.template_price} each\n"
    )
    if est.outside_window:
        limit = "unlimited" if plan.budget is None else f"{plan.budget} new users a day"
        out.write(f"spread over {est.days_needed} day(s) under the messaging limit ({limit})\n")
    if not args.yes:
        out.write("nothing queued: add --yes to send\n")
        return 0
    try:
        written = await broadcasts.send_broadcast(
            db,
            plan,
            now=now,
            config=config,
            actor_kind="admin",
            actor_id=str(getattr(args.settings, "admin_actor", "admin")),
            channel="admin",
        )
    except DomainError as exc:
        raise ValueError(_BROADCAST_ERRORS.get(exc.code, exc.code)) from None
    out.write(f"queued {written} message(s) (broadcast {plan.digest})\n")
    return 0


_BROADCAST_ERRORS = {
    "broadcast.empty_message": "the message is empty",
    "broadcast.too_long": f"the message is longer than {broadcasts.MAX_MESSAGE_CHARS} characters",
    "broadcast.no_audience": "choose recipients with --sector, --desa or --kecamatan",
    "broadcast.no_budget": "the WhatsApp budget is 0: set LINGKARAN_WA_TIER / _SHARE",
}
