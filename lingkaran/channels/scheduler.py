"""Periodic reminder sweeps (APScheduler 3.11, Asia/Jakarta) and ``run_sweep`` for the CLI.

A sweep loads records in chunks (``sweeps_repo.iter_*``), asks the pure policy
(``lingkaran_core.reminders``) what is due and writes outbox rows keyed by dedupe key: running it
twice, or every hour, never doubles a message. Jobs:

* hourly at :05: every kind (missing documents, JKK deadline, protection notice, coverage; the
  digest and scholarship kinds too, which only fire on Monday from 08:00 / in the reminder
  month, so the hourly run catches up a cron run missed while the bot was down);
* Monday 08:00 WIB: the facilitators' digest, on time (``CronTrigger(day_of_week="mon")``;
  never ``from_crontab``, where 0 means Monday: TECH.md §4);
* yearly, on the 1st of ``SCHOLARSHIP_REMINDER_MONTH`` at 09:00: scholarship re-application;
* daily 07:30: held rows re-examined (``Dispatcher.release_held``);
* daily 03:15: retention (``lingkaran_core.retention``: idle conversations' contents forgotten,
  finished claims' files deleted after their periods);
* once shortly after start-up: a catch-up sweep.

``misfire_grace_time`` is an hour (APScheduler's default of 1 s would drop a run delayed by a
busy loop) and runs coalesce. Jobs are rebuilt at every start (memory job store): the dedupe keys
in the database, not the job store, are what make reminders exactly-once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from lingkaran_core import reminders as policy
from lingkaran_core.reminders import CoverageTally, DueReminder, Kind
from lingkaran_core.rules import SCHOLARSHIP_REMINDER_MONTH
from lingkaran_core.services import leases
from lingkaran_core.storage import Database, funding_repo, sweeps_repo
from lingkaran_core.storage import outbox_repo as repo

logger = logging.getLogger(__name__)

TZ_NAME = "Asia/Jakarta"  # Jember; every rule is in WIB (lingkaran_core.clock.WIB)
JOB_DEFAULTS: Mapping[str, Any] = {"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1}
# How long one run of a job keeps it from the other instances (shorter than the hourly period).
JOB_LEASE = timedelta(minutes=20)
ALL_KINDS: tuple[Kind, ...] = tuple(k for k in Kind if k is not Kind.BROADCAST)


async def run_sweep(
    db: Database,
    now: datetime,
    dry_run: bool = False,
    *,
    kinds: Collection[Kind] | None = None,
    whatsapp_enabled: bool,
    chunk: int = sweeps_repo.CHUNK,
) -> dict[str, int]:
    """Queue every reminder due at ``now``; return how many new rows per kind.

    With ``dry_run`` nothing is written: the counts are what would have been queued.
    """
    wanted = set(ALL_KINDS if kinds is None else kinds)
    wa = whatsapp_enabled
    counts: dict[str, int] = {str(k): 0 for k in ALL_KINDS if k in wanted}
    facilitators = await sweeps_repo.load_facilitators(db)
    funding = await funding_repo.load_periods(db)

    async def write(due: Sequence[DueReminder]) -> None:
        if not due:
            return
        if dry_run:
            async with db.read() as r:
                seen = await repo.existing_dedupe_keys(r, [d.dedupe_key for d in due])
            fresh = [d for d in due if d.dedupe_key not in seen]
        else:
            async with db.tx() as tx:
                fresh = await repo.insert_due(tx, due, now=now)
                notified = [d.worker_id for d in due if d.worker_id is not None]
                if notified:
                    await repo.mark_protected_notice(tx, notified, now=now)
        for d in fresh:
            counts[str(d.kind)] += 1

    if Kind.MISSING_DOCS in wanted:
        async for claims in sweeps_repo.iter_missing_docs_claims(db, chunk=chunk):
            await write(policy.due_missing_docs(claims, facilitators, now))
    if Kind.JKK_DEADLINE in wanted:
        async for jkk in sweeps_repo.iter_jkk_claims(db, chunk=chunk):
            await write(policy.due_jkk_deadline(jkk, now))
    if Kind.COVERAGE in wanted or Kind.PROTECTED_NOTICE in wanted:
        tally = CoverageTally(today=now.astimezone(policy.TZ).date())
        async for part in sweeps_repo.iter_worker_chunks(db, today=tally.today):
            due: list[DueReminder] = []
            if Kind.COVERAGE in wanted:
                for g in part.groups:
                    tally.add(g.desa_code, g.coverage_start, g.paid_through, g.count)
                due += policy.due_coverage(
                    part.linked, now, tally=tally, count=False, funding=funding
                )
            if Kind.PROTECTED_NOTICE in wanted:
                due += policy.due_protected_notice(
                    part.notice, now, whatsapp_enabled=wa, status_cache=tally.cache
                )
            await write(due)
        if Kind.COVERAGE in wanted:
            await write(policy.due_coverage_facilitators(tally, facilitators, now))
    if Kind.SCHOLARSHIP in wanted and now.astimezone(policy.TZ).month == (
        SCHOLARSHIP_REMINDER_MONTH
    ):
        async for sch in sweeps_repo.iter_scholarship_claims(db, chunk=chunk):
            await write(policy.due_scholarship(sch, now))
    if Kind.DIGEST in wanted and policy.digest_due_now(now):
        per_desa = await sweeps_repo.load_digest_counts(db, now=now)
        await write(policy.due_digest(facilitators, per_desa, now))
    logger.info(
        "reminder sweep", extra={"dry_run": dry_run, **{f"n_{k}": v for k, v in counts.items()}}
    )
    return counts


def build_scheduler(
    db: Database,
    *,
    clock: Callable[[], datetime],
    on_queued: Callable[[], None] | None = None,
    release_held: Callable[[], Any] | None = None,
    whatsapp_enabled: bool,
    startup_delay: float = 10.0,
    on_sweep: Callable[[float], None] | None = None,
    retention: Callable[[], Awaitable[Any]] | None = None,
    instance: str | None = None,
) -> AsyncIOScheduler:
    """The scheduler with every sweep job; call ``start()`` inside the running loop.

    ``on_sweep`` gets each sweep's duration in seconds (metrics). Every instance sharing the
    database runs the same jobs; a lease per job (``instance`` names the holder) lets only the
    first one of each run do the work.
    """
    sched = AsyncIOScheduler(timezone=TZ_NAME, job_defaults=dict(JOB_DEFAULTS))
    holder = instance or leases.instance_id()

    async def first(job: str) -> bool:
        try:
            taken = await leases.take(db, f"job:{job}", holder, now=clock(), ttl=JOB_LEASE)
        except Exception:
            logger.exception("job lease failed", extra={"job": job})
            return False
        if not taken:
            logger.info("job run by another instance", extra={"job": job})
        return taken

    async def sweep(kinds: Sequence[Kind]) -> None:
        job = "sweep" if tuple(kinds) == tuple(ALL_KINDS) else "+".join(str(k) for k in kinds)
        if not await first(job):
            return
        began = time.perf_counter()
        try:
            counts = await run_sweep(db, clock(), kinds=kinds, whatsapp_enabled=whatsapp_enabled)
        except Exception:
            logger.exception("reminder sweep failed")
            return
        finally:
            if on_sweep is not None:
                on_sweep(time.perf_counter() - began)
        if on_queued is not None and any(counts.values()):
            on_queued()

    sched.add_job(
        sweep,
        CronTrigger(minute=5, timezone=TZ_NAME),
        args=[ALL_KINDS],
        id="sweep-hourly",
        replace_existing=True,
    )
    sched.add_job(
        sweep,
        CronTrigger(day_of_week="mon", hour=8, minute=0, timezone=TZ_NAME),
        args=[(Kind.DIGEST,)],
        id="digest-weekly",
        replace_existing=True,
    )
    sched.add_job(
        sweep,
        CronTrigger(month=SCHOLARSHIP_REMINDER_MONTH, day=1, hour=9, minute=0, timezone=TZ_NAME),
        args=[(Kind.SCHOLARSHIP,)],
        id="scholarship-yearly",
        replace_existing=True,
    )
    if release_held is not None:
        sched.add_job(
            release_held,
            CronTrigger(hour=7, minute=30, timezone=TZ_NAME),
            id="held-daily",
            replace_existing=True,
        )
    if retention is not None:

        async def purge() -> None:
            if not await first("retention"):
                return
            try:
                await retention()
            except Exception:
                logger.exception("retention run failed")

        sched.add_job(
            purge,
            CronTrigger(hour=3, minute=15, timezone=TZ_NAME),
            id="retention-daily",
            replace_existing=True,
        )

    async def catch_up() -> None:
        # The delay is a plain sleep: APScheduler's triggers run on the wall clock, and a
        # run date computed from the injected clock would never (or at once) come round.
        try:
            await asyncio.sleep(startup_delay)
        except asyncio.CancelledError:
            return  # stopped before the catch-up was due: nothing to do, nothing to log
        await sweep(ALL_KINDS)

    sched.add_job(
        catch_up, DateTrigger(timezone=TZ_NAME), id="sweep-startup", replace_existing=True
    )
    return sched
