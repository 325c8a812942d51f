"""Admin commands: Registrations by facilitators: list, verify, reject."""

from __future__ import annotations

import argparse

from lingkaran.channels.admin.common import (
    CliError,
    _today,
    desa_label,
    describe,
    out,
    sector_label,
    table,
    wib,
)
from lingkaran_core import opd
from lingkaran_core.errors import DomainError
from lingkaran_core.identity import mask_nik
from lingkaran_core.storage import Database, admin_repo

# -- registrations ---------------------------------------------------------------------------------


async def _registrations_list(db: Database, args: argparse.Namespace) -> int:
    async with db.read() as r:
        rows = await admin_repo.pending_registrations(r)
    if not rows:
        out("no registrations waiting")
        return 0
    out(
        table(
            ["Id", "NIK", "Name", "Desa", "Sector", "By", "Registered"],
            [
                [
                    x.id,
                    mask_nik(x.nik),
                    x.name,
                    desa_label(x.desa_code),
                    sector_label(x.sector or ""),
                    x.facilitator_name,
                    wib(x.created_at),
                ]
                for x in rows
            ],
        )
    )
    return 0


def _registration_error(exc: DomainError) -> CliError:
    if exc.code == "registration.not_found":
        return CliError(f"no worker #{exc.params['worker_id']}")
    if exc.code == "registration.not_waiting":
        return CliError(
            f"worker #{exc.params['worker_id']} is not waiting for verification "
            f"(registration status: {exc.params['status']})"
        )
    if exc.code == "registration.reason_required":
        return CliError("a rejection needs --reason TEXT", 2)
    return CliError(describe(exc))


async def _registrations_verify(db: Database, args: argparse.Namespace) -> int:
    try:
        async with db.tx() as tx:
            done = await opd.verify_registration(
                tx,
                args.id,
                actor=args.settings.admin_actor,
                today=_today(args),
                now=args.clock(),
            )
    except DomainError as exc:
        raise _registration_error(exc) from None
    out(
        f"worker #{done.worker_id} {done.name} verified; coverage start {done.coverage_start}; "
        f"{done.chats_notified} chats notified"
    )
    return 0


async def _registrations_reject(db: Database, args: argparse.Namespace) -> int:
    try:
        async with db.tx() as tx:
            done = await opd.reject_registration(
                tx, args.id, reason=args.reason, actor=args.settings.admin_actor, now=args.clock()
            )
    except DomainError as exc:
        raise _registration_error(exc) from None
    told = " (facilitator notified)" if done.chats_notified else ""
    out(f"worker #{done.worker_id} {done.name} rejected: {args.reason.strip()}{told}")
    return 0
