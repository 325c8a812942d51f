"""``bot.py admin tickets``: the human inbox for OPD staff (list, show, reply, close).

Replies are stored as sender ``admin`` and queued to the worker as ``ticket.reply`` (the
dispatcher decides free text or template); NIKs are always masked. Wire it into the admin CLI
with ``admin_tickets.register(subparsers)``; the parsed namespace goes to ``run(args)``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from handlers.facilitator import close_ticket, reply_to_ticket, ticket_messages
from lingkaran.channels.admin.common import open_db
from lingkaran_core import services
from lingkaran_core.clock import Clock
from lingkaran_core.errors import DomainError
from lingkaran_core.identity import mask_nik
from lingkaran_core.regions import load_regions
from lingkaran_core.storage import Database, admin_repo
from lingkaran_core.textsafe import PlainWriter

CHANNEL = "admin_cli"


def register(subparsers: Any, *, default_db: str) -> None:
    """Add ``tickets [list|show ID|reply ID --message TEXT|close ID]`` to the admin parser."""
    p = subparsers.add_parser("tickets", help="the human inbox: list, show, reply, close")
    p.add_argument("--db", default=default_db, help="database file (default %(default)s)")
    p.set_defaults(func=run, tickets_command="list", all=False)
    sub = p.add_subparsers(dest="tickets_command")
    # SUPPRESS: a --db given after the sub-command must not be reset by the sub-parser default.
    db_kw: dict[str, Any] = {"default": argparse.SUPPRESS, "help": "database file"}
    p_list = sub.add_parser("list", help="tickets not closed yet (escalated first)")
    p_list.add_argument("--all", action="store_true", help="include closed tickets")
    p_list.add_argument("--db", **db_kw)
    p_show = sub.add_parser("show", help="one ticket with its messages")
    p_show.add_argument("ticket", help="T-0042 or 42")
    p_show.add_argument("--db", **db_kw)
    p_reply = sub.add_parser("reply", help="answer the worker (queued as ticket.reply)")
    p_reply.add_argument("ticket", help="T-0042 or 42")
    p_reply.add_argument("--message", "-m", required=True, help="the reply text")
    p_reply.add_argument("--db", **db_kw)
    p_close = sub.add_parser("close", help="close a ticket")
    p_close.add_argument("ticket", help="T-0042 or 42")
    p_close.add_argument("--db", **db_kw)


def run(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run a parsed ``tickets`` command; 0 on success, 1 on a user error."""
    return asyncio.run(run_async(args, out=out))


async def run_async(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """The same, for callers already inside an event loop."""
    stream: Any = PlainWriter(out or sys.stdout)
    ticket_id: int | None = None
    if getattr(args, "ticket", None) is not None:
        ticket_id = parse_ticket_id(args.ticket)
        if ticket_id is None:
            stream.write(f"not a ticket number: {args.ticket}\n")
            return 1
    ctx = _Ctx(actor=args.settings.admin_actor, clock=args.clock)
    db = await open_db(args)
    try:
        command = args.tickets_command or "list"
        if command == "list":
            return await _list(db, stream, include_closed=bool(getattr(args, "all", False)))
        assert ticket_id is not None
        if command == "show":
            return await _show(db, stream, ticket_id, ctx)
        if command == "reply":
            return await _reply(db, stream, ticket_id, str(args.message), ctx)
        if command == "close":
            return await _close(db, stream, ticket_id, ctx)
        stream.write(f"unknown command: {command}\n")
        return 1
    finally:
        await db.close()


def parse_ticket_id(text: str) -> int | None:
    """``T-0042`` / ``t42`` / ``42`` → 42."""
    digits = text.strip().upper().removeprefix("T").lstrip("-")
    return int(digits) if digits.isdigit() and int(digits) > 0 else None


@dataclass(frozen=True, slots=True)
class _Ctx:
    """Who acts, and the command's clock."""

    actor: str
    clock: Clock


def _place(desa_code: str | None) -> str:
    if not desa_code:
        return "-"
    desa = load_regions().desa(desa_code)
    return desa.name if desa is not None else desa_code


def _who(row: Any) -> str:
    if row["worker_name"]:
        return f"{row['worker_name']} ({mask_nik(row['worker_nik'])})"
    return str(row["display_name"] or "-")


def _one_line(text: str | None, limit: int = 60) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


async def _list(db: Database, out: TextIO, *, include_closed: bool) -> int:
    async with db.tx() as tx:
        rows = await admin_repo.ticket_rows(tx, include_closed=include_closed)
    if not rows:
        out.write("no tickets\n")
        return 0
    for r in rows:
        flag = " ESCALATED" if r["escalated_at"] else ""
        out.write(
            f"{services.ticket_ref(r['id'])}  {r['status']:<8}{flag}  {r['created_at'][:10]}  "
            f'{_place(r["desa_code"])}  {_who(r)}  "{_one_line(r["last_body"])}"\n'
        )
    return 0


async def _show(db: Database, out: TextIO, ticket_id: int, ctx: _Ctx) -> int:
    async with db.tx() as tx:
        row = await admin_repo.ticket_row(tx, ticket_id)
        if row is None:
            out.write(f"no ticket {services.ticket_ref(ticket_id)}\n")
            return 1
        messages = await ticket_messages(tx, ticket_id)
        await services.audit(
            tx,
            now=ctx.clock(),
            actor_kind="admin",
            actor_id=ctx.actor,
            action="ticket.view",
            target_kind="ticket",
            target_id=services.ticket_ref(ticket_id),
            channel=CHANNEL,
        )
    out.write(
        f"{services.ticket_ref(ticket_id)}  {row['status']}  topic={row['topic']}  "
        f"desa={_place(row['desa_code'])}  from={_who(row)}  via={row['channel']}\n"
    )
    if row["escalated_at"]:
        out.write(f"escalated at {row['escalated_at']}\n")
    for m in messages:
        out.write(f"  [{m['at'][:16]}] {m['sender']}: {m['body'] or '(media)'}\n")
    return 0


async def _reply(db: Database, out: TextIO, ticket_id: int, message: str, ctx: _Ctx) -> int:
    body = message.strip()
    if not body:
        out.write("the message is empty\n")
        return 1
    try:
        async with db.tx() as tx:
            ref = await reply_to_ticket(
                tx,
                ticket_id=ticket_id,
                body=body,
                sender="admin",
                actor_id=ctx.actor,
                now=ctx.clock(),
                channel=CHANNEL,
            )
    except DomainError as err:
        out.write(f"{err.code}: {services.ticket_ref(ticket_id)}\n")
        return 1
    out.write(f"{ref}: reply queued to the worker (ticket.reply)\n")
    return 0


async def _close(db: Database, out: TextIO, ticket_id: int, ctx: _Ctx) -> int:
    try:
        async with db.tx() as tx:
            ref = await close_ticket(
                tx,
                ticket_id=ticket_id,
                actor_kind="admin",
                actor_id=ctx.actor,
                now=ctx.clock(),
                channel=CHANNEL,
            )
    except DomainError as err:
        out.write(f"{err.code}: {services.ticket_ref(ticket_id)}\n")
        return 1
    out.write(f"{ref}: closed\n")
    return 0
