"""Admin commands: The outbox (state, requeue), funded periods and retention."""

from __future__ import annotations

import argparse

from lingkaran.channels.admin.common import (
    CliError,
    out,
    sector_label,
    table,
    wib,
)
from lingkaran_core import services
from lingkaran_core.importers import SECTOR_NAMES
from lingkaran_core.retention import run_retention
from lingkaran_core.storage import Database, admin_repo, funding_repo
from lingkaran_core.storage.db import dumps

# -- outbox ------------------------------------------------------------------------------------------


async def _funding_add(db: Database, args: argparse.Namespace) -> int:
    if args.until < args.start:
        raise CliError("--until is before --from")
    if args.sector and args.sector not in SECTOR_NAMES:
        raise CliError(f"unknown sector {args.sector!r}; one of: {', '.join(SECTOR_NAMES)}")
    async with db.tx() as tx:
        pid = await funding_repo.add_period(
            tx,
            funder=args.funder.strip(),
            reference=args.reference.strip(),
            starts_on=args.start,
            ends_on=args.until,
            sector=args.sector,
            now=args.clock(),
        )
        await services.audit(
            tx,
            now=args.clock(),
            actor_kind="admin",
            actor_id=args.settings.admin_actor,
            action="funding.add",
            target_kind="funding_period",
            target_id=pid,
            channel="admin",
            details={
                "reference": args.reference,
                "from": str(args.start),
                "until": str(args.until),
            },
        )
    scope = sector_label(args.sector) if args.sector else "every sector"
    out(
        f"funded period #{pid}: {args.funder} {args.reference}, {args.start} to {args.until} ({scope})"
    )
    return 0


async def _funding_list(db: Database, args: argparse.Namespace) -> int:
    async with db.read() as r:
        periods = await funding_repo.all_periods(r)
    if not periods:
        out("no funded periods recorded: reminders say nothing about who pays next")
        return 0
    out(
        table(
            ["Id", "Funder", "Reference", "From", "Until", "Sector"],
            [
                [
                    p.id,
                    p.funder,
                    p.reference,
                    p.starts_on,
                    p.ends_on,
                    sector_label(p.sector) if p.sector else "all",
                ]
                for p in periods
            ],
        )
    )
    return 0


async def _retention_run(db: Database, args: argparse.Namespace) -> int:
    report = await run_retention(
        db, now=args.clock(), policy=args.settings.retention(), dry_run=args.dry_run
    )
    verb = "would forget" if report.dry_run else "forgot"
    out(
        f"conversations idle > {args.settings.retention_conversation_days} days: {verb} "
        f"{report.conversations}"
    )
    verb = "would delete" if report.dry_run else "deleted"
    out(
        f"files of claims closed > {args.settings.retention_document_days} days: {verb} "
        f"{report.documents} ({report.bytes_freed:,} bytes)"
    )
    return 0


async def _outbox_requeue(db: Database, args: argparse.Namespace) -> int:
    statuses = args.status or ["failed", "dead"]
    async with db.tx() as tx:
        n = await admin_repo.requeue_outbox(
            tx,
            now=args.clock(),
            statuses=statuses,
            channel=args.channel,
            msg_class=args.msg_class,
            since=args.since,
            until=args.until,
            dry_run=not args.yes,
        )
        if args.yes and n:
            await services.audit(
                tx,
                now=args.clock(),
                actor_kind="admin",
                actor_id=args.settings.admin_actor,
                action="outbox.requeue",
                target_kind="outbox",
                target_id=None,
                channel="admin",
                details={
                    "rows": n,
                    "statuses": statuses,
                    "channel": args.channel,
                    "class": args.msg_class,
                },
            )
    if not args.yes:
        out(f"{n} message(s) would go back to the queue; run again with --yes to do it")
    else:
        out(f"{n} message(s) back in the queue; a running bot sends them at its next pass")
    return 0


async def _outbox(db: Database, args: argparse.Namespace) -> int:
    from lingkaran_core.storage import outbox_repo

    if args.action == "requeue":
        return await _outbox_requeue(db, args)

    async with db.read() as r:
        counts = await outbox_repo.counts(r)
        queue = await outbox_repo.admin_queue(r, limit=args.limit)
        dead = await outbox_repo.dead_letters(r, limit=args.limit)
    if counts:
        out(
            table(
                ["Channel", "Status", "Messages"],
                [[c, s, n] for (c, s), n in sorted(counts.items())],
            )
        )
    else:
        out("outbox is empty")
    if queue:
        out()
        out("OPD queue (newest JKK reports, tickets without a facilitator, ...):")
        out(
            table(
                ["Id", "Key", "Params", "Queued"],
                [[q.id, q.msg_key, dumps(q.params), wib(q.created_at)] for q in queue],
            )
        )
    if dead:
        out()
        out("Given up:")
        out(
            table(
                ["Id", "Channel", "Key", "Attempts", "Error"],
                [[x.id, x.channel, x.msg_key, x.attempts, x.last_error] for x in dead],
            )
        )
    return 0
