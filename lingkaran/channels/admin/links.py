"""Admin commands: which chats are linked to a worker, and unlinking (issue 22).

    links show NIK                       the chats linked to a worker
    links chat CHAT_ID                   the workers one chat (a household's phone) is linked to
    links remove CHAT_ID (--nik NIK | --all)   drop one link or every link of a chat, audited

A worker who calls the OPD because a phone was sold or is shared is unlinked here; they can link
again later from their new phone. User refs are masked like phone numbers.
"""

from __future__ import annotations

import argparse
from typing import Any

from lingkaran.channels.admin.common import (
    CliError,
    _today,
    _with_db,
    describe,
    out,
    table,
    wib,
)
from lingkaran_core import services
from lingkaran_core.errors import InvalidNIK, NotFound
from lingkaran_core.identity import mask_nik, parse_nik
from lingkaran_core.services import ChatLink
from lingkaran_core.storage import Database
from lingkaran_core.storage.repos import worker_by_id


def _ref(link: ChatLink) -> str:
    """A chat's user ref, masked (a WhatsApp ref is the phone number)."""
    ref = link.user_ref
    return ref if len(ref) <= 6 else ref[:3] + "*" * (len(ref) - 6) + ref[-3:]


def _nik(args: argparse.Namespace, text: str) -> str:
    try:
        return parse_nik(text, today=_today(args)).value
    except InvalidNIK as exc:
        raise CliError(f"not a valid NIK: {describe(exc)}") from None


async def _links_show(db: Database, args: argparse.Namespace) -> int:
    nik = _nik(args, args.nik)
    async with db.read() as r:
        try:
            worker, links = await services.links_of_worker(r, nik)
        except NotFound:
            raise CliError(f"no worker with NIK {mask_nik(nik)}") from None
    out(f"worker #{worker.id} {worker.name} ({mask_nik(worker.nik)})")
    if not links:
        out("no chat is linked to this worker")
        return 0
    out(
        table(
            ["Chat", "Channel", "User", "Factor", "Linked", "Own link"],
            [
                [x.chat_id, x.channel, _ref(x), x.factor, wib(x.created_at), "yes" if x.own else ""]
                for x in links
            ],
        )
    )
    return 0


async def _links_chat(db: Database, args: argparse.Namespace) -> int:
    async with db.read() as r:
        links = await services.links_of_chat(r, args.chat_id)
        rows: list[list[Any]] = []
        for x in links:
            w = await worker_by_id(r, x.worker_id)
            rows.append(
                [
                    x.worker_id,
                    mask_nik(w.nik) if w else "-",
                    w.name if w else "-",
                    x.factor,
                    wib(x.created_at),
                    "yes" if x.own else "",
                ]
            )
    if not rows:
        out(f"chat #{args.chat_id} is not linked to any worker")
        return 0
    out(table(["Worker", "NIK", "Name", "Factor", "Linked", "Own link"], rows))
    return 0


async def _links_remove(db: Database, args: argparse.Namespace) -> int:
    if bool(args.nik) == bool(args.all):
        raise CliError("give --nik NIK (one link) or --all (every link of the chat)", 2)
    async with db.tx() as tx:
        worker_id = None
        if args.nik:
            nik = _nik(args, args.nik)
            try:
                worker, _links = await services.links_of_worker(tx, nik)
            except NotFound:
                raise CliError(f"no worker with NIK {mask_nik(nik)}") from None
            worker_id = worker.id
        try:
            removed = await services.unlink(
                tx,
                chat_id=args.chat_id,
                worker_id=worker_id,
                now=args.clock(),
                actor_kind="admin",
                actor_id=args.settings.admin_actor,
                channel="admin",
            )
        except NotFound:
            raise CliError(f"chat #{args.chat_id} has no such link") from None
        left = await services.linked_worker_ids(tx, args.chat_id)
    out(
        f"chat #{args.chat_id}: removed the link to worker "
        + ", ".join(f"#{w}" for w in removed)
        + (f"; still linked to {len(left)}" if left else "; no link left (the number is free)")
    )
    return 0


def register(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``links`` to the admin parser (``parents``: the shared --db/--now/--today options)."""
    links = sub.add_parser("links", help="chats linked to workers; unlink").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = links.add_parser("show", parents=parents, help="the chats linked to a worker")
    p.add_argument("nik")
    p.set_defaults(func=_with_db(_links_show))
    p = links.add_parser("chat", parents=parents, help="the workers a chat is linked to")
    p.add_argument("chat_id", type=int)
    p.set_defaults(func=_with_db(_links_chat))
    p = links.add_parser("remove", parents=parents, help="unlink one worker or all (audited)")
    p.add_argument("chat_id", type=int)
    p.add_argument("--nik", help="the worker whose link goes")
    p.add_argument("--all", action="store_true", help="every link of the chat")
    p.set_defaults(func=_with_db(_links_remove))
