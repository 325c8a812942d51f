"""``python bot.py admin ...``: the OPD staff's command line.

Commands (each takes ``--db PATH``, default ``$LINGKARAN_DB`` or ``data/lingkaran.db``)::

    init-db
    demo-data [--workers N] [--seed S] [--today D] [--replace]
    import-roster FILE [--skip-invalid] [--rejects OUT.csv] [--today D]
    stats [--today D] [--from D --until D] [--csv FILE]
    worker show NIK [--unmasked] [--today D]
    links show NIK | chat CHAT_ID | remove CHAT_ID (--nik NIK | --all)   (admin/links.py)
    facilitator add --name NAME (--desa CODE|NAME [--kecamatan CODE|NAME] | --kecamatan CODE|NAME)
                    --phone PHONE [--ttl-hours H]
    facilitator list | revoke ID | new-code ID [--ttl-hours H]
    claims list [--status S] [--desa CODE|NAME] [--type T] [--limit N]
    claims show REF
    claims set-status REF STATUS [--note TEXT] [--amount RP [--paid-on D] [--bank TEXT]]
                      [--send-back KIND ...]
    claims notice-sent REF
    claims export REF --out DIR
    registrations list | verify ID [--today D] | reject ID --reason TEXT
    outbox [--limit N]
    tickets [list [--all] | show ID | reply ID --message TEXT | close ID]   (admin_tickets.py)
    backup --out FILE
    restore FILE [--force]
    copy-db --to postgresql://...   (a SQLite --db into an empty PostgreSQL database)

Exit codes: 0 done; 1 refused (unknown NIK/claim/desa, forbidden change, bad rows, missing
database); 2 usage (unknown command, bad option value). Errors are one line on stderr, never a
traceback. Commands other than init-db, demo-data, import-roster and restore refuse a database
path that does not exist rather than creating an empty one.

The output is for OPD staff at a terminal. NIKs are masked (``3509********0001``) except where
the task needs the full number: ``worker show --unmasked``, ``claims export`` (BPJS TK needs it)
and the demo's synthetic sample workers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from lingkaran.channels.admin.backup import (
    _backup,
    _copy_db,
    _restore,
)
from lingkaran.channels.admin.claims import (
    _claims_export,
    _claims_list,
    _claims_notice_sent,
    _claims_set_status,
    _claims_show,
)
from lingkaran.channels.admin.common import (
    DEFAULT_DB,
    CliError,
    _now_arg,
    _require_db,
    _today_arg,
    _with_db,
    command_clock,
    describe,
    err,
)
from lingkaran.channels.admin.facilitators import (
    _facilitator_add,
    _facilitator_list,
    _facilitator_new_code,
    _facilitator_revoke,
)
from lingkaran.channels.admin.ops import (
    _funding_add,
    _funding_list,
    _outbox,
    _retention_run,
)
from lingkaran.channels.admin.registrations import (
    _registrations_list,
    _registrations_reject,
    _registrations_verify,
)
from lingkaran.channels.admin.roster import (
    _demo_data,
    _import_roster,
    _init_db,
    _stats,
    _worker_show,
)
from lingkaran.settings import Settings
from lingkaran_core import demo as demo_mod
from lingkaran_core.claims import (
    ClaimStatus,
    ClaimType,
)
from lingkaran_core.clock import Clock
from lingkaran_core.errors import DomainError
from lingkaran_core.storage import backup

# Adds sub-commands to the admin parser: (subparsers, default_db=...) -> None.
Register = Callable[..., None]

# -- parser ------------------------------------------------------------------------------------------


def build_parser(
    settings: Settings | None = None, extra: Sequence[Register] = ()
) -> argparse.ArgumentParser:
    """The ``admin`` argument parser (``--db`` defaults to the settings' database)."""
    default_db = str(settings.db if settings is not None else DEFAULT_DB)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=default_db, help="database file (default %(default)s)")
    common.add_argument(
        "--now",
        type=_now_arg,
        default=None,
        help="act as of this instant (ISO 8601; WIB when no offset)",
    )
    dated = argparse.ArgumentParser(add_help=False)
    dated.add_argument(
        "--today", type=_today_arg, default=None, help="the day to compute for (YYYY-MM-DD)"
    )
    parser = argparse.ArgumentParser(
        prog="bot.py admin", description="Lingkaran Cinta administration (OPD staff)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init-db", parents=[common], help="create or migrate the database")
    p.set_defaults(func=_with_db(_init_db, create=True))

    p = sub.add_parser(
        "demo-data", parents=[common, dated], help="fill a database with SYNTHETIC demo data"
    )
    p.add_argument("--workers", type=int, default=demo_mod.DEFAULT_WORKERS)
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--replace", action="store_true", help="wipe existing demo data first")
    p.set_defaults(func=_with_db(_demo_data, create=True))

    p = sub.add_parser("import-roster", parents=[common, dated], help="import a roster CSV")
    p.add_argument("file")
    p.add_argument("--skip-invalid", action="store_true", help="import good rows, reject bad")
    p.add_argument("--rejects", help="write rejected rows (with baris, alasan) to this CSV")
    p.set_defaults(func=_with_db(_import_roster, create=True))

    p = sub.add_parser("stats", parents=[common, dated], help="programme figures")
    p.add_argument(
        "--from", dest="since", type=_today_arg, help="benefits paid from this day (YYYY-MM-DD)"
    )
    p.add_argument("--until", type=_today_arg, help="benefits paid up to this day (YYYY-MM-DD)")
    p.add_argument("--csv", help="also write every table to this CSV file")
    p.set_defaults(func=_with_db(_stats))

    worker = sub.add_parser("worker", help="look up workers").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = worker.add_parser("show", parents=[common, dated], help="one worker by NIK")
    p.add_argument("nik")
    p.add_argument("--unmasked", action="store_true", help="print the NIK, phone and KPJ in full")
    p.set_defaults(func=_with_db(_worker_show))

    # Chats linked to workers, and unlinking (issue 22).
    from lingkaran.channels.admin import links

    links.register(sub, parents=[common, dated])

    facil = sub.add_parser("facilitator", help="village facilitators").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = facil.add_parser("add", parents=[common], help="add one and print a one-time code")
    p.add_argument("--name", required=True)
    p.add_argument("--desa", help="desa code or name (a desa-scoped facilitator)")
    p.add_argument("--kecamatan", help="kecamatan code or name (alone: kecamatan scope)")
    p.add_argument("--phone", required=True)
    p.add_argument("--ttl-hours", type=int, default=72)
    p.set_defaults(func=_with_db(_facilitator_add))
    p = facil.add_parser("list", parents=[common], help="all facilitators")
    p.set_defaults(func=_with_db(_facilitator_list))
    p = facil.add_parser("revoke", parents=[common], help="revoke and unbind")
    p.add_argument("id", type=int)
    p.set_defaults(func=_with_db(_facilitator_revoke))
    p = facil.add_parser("new-code", parents=[common], help="issue a fresh one-time code")
    p.add_argument("id", type=int)
    p.add_argument("--ttl-hours", type=int, default=72)
    p.set_defaults(func=_with_db(_facilitator_new_code))

    claims = sub.add_parser("claims", help="the claims queue").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    statuses = [s.value for s in ClaimStatus]
    p = claims.add_parser("list", parents=[common], help="newest claims first")
    p.add_argument("--status", choices=statuses)
    p.add_argument("--type", choices=[t.value for t in ClaimType])
    p.add_argument("--desa")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_with_db(_claims_list))
    p = claims.add_parser("show", parents=[common], help="one claim with history and documents")
    p.add_argument("ref")
    p.set_defaults(func=_with_db(_claims_show))
    p = claims.add_parser("set-status", parents=[common], help="move a claim (as admin)")
    p.add_argument("ref")
    p.add_argument("status", choices=statuses)
    p.add_argument(
        "--note", help="reason (required for rejected); shown to the reporter and facilitator"
    )
    p.add_argument("--amount", type=int, help="paid: the rupiah BPJS TK paid (required)")
    p.add_argument("--paid-on", type=_today_arg, help="paid: the payment day (default today)")
    p.add_argument("--bank", help="paid: the bank or account it went to (told to the reporter)")
    p.add_argument(
        "--send-back",
        action="append",
        metavar="KIND",
        help="documents_requested: a received document to send again (e.g. ktp_participant)",
    )
    p.set_defaults(func=_with_db(_claims_set_status))
    p = claims.add_parser(
        "notice-sent", parents=[common], help="JKK: the tahap I notice was forwarded to BPJS TK"
    )
    p.add_argument("ref")
    p.set_defaults(func=_with_db(_claims_notice_sent))
    p = claims.add_parser("export", parents=[common], help="files to forward to BPJS TK")
    p.add_argument("ref")
    p.add_argument("--out", required=True, help="folder (a REF subfolder is created)")
    p.set_defaults(func=_with_db(_claims_export))

    regs = sub.add_parser("registrations", help="facilitator registrations").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = regs.add_parser("list", parents=[common], help="waiting for verification")
    p.set_defaults(func=_with_db(_registrations_list))
    p = regs.add_parser("verify", parents=[common, dated], help="accept a registration")
    p.add_argument("id", type=int)
    p.set_defaults(func=_with_db(_registrations_verify))
    p = regs.add_parser("reject", parents=[common], help="reject a registration")
    p.add_argument("id", type=int)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=_with_db(_registrations_reject))

    p = sub.add_parser(
        "outbox",
        parents=[common],
        help="message queue state and OPD queue; `outbox requeue` re-sends failed/dead rows",
    )
    p.add_argument("action", nargs="?", choices=("list", "requeue"), default="list")
    p.add_argument("--channel", choices=("telegram", "whatsapp", "terminal"))
    p.add_argument("--class", dest="msg_class", choices=("transactional", "reminder", "broadcast"))
    p.add_argument("--status", action="append", choices=("failed", "dead"))
    p.add_argument("--since", type=_now_arg, help="rows created from this instant (requeue)")
    p.add_argument("--until", type=_now_arg, help="rows created before this instant (requeue)")
    p.add_argument("--yes", action="store_true", help="requeue for real (without: count only)")
    p.add_argument("--limit", type=int, default=30)
    p.set_defaults(func=_with_db(_outbox))

    # The human inbox lives in its own module (channels/admin_tickets.py).
    from lingkaran.channels import admin_tickets

    admin_tickets.register(sub, default_db=default_db)

    # Reminders and broadcasts live in channels/admin_ops.py (it skips `outbox`, defined above).
    from lingkaran.channels import admin_ops

    admin_ops.register(sub, default_db=default_db)
    # Commands of adapters beside this one (the console's `staff` and `web`), given by the root.
    for register in extra:
        register(sub, default_db=default_db)

    funding = sub.add_parser("funding", help="periods the Pemkab funds").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = funding.add_parser("add", parents=[common], help="record a funded period (an SK)")
    p.add_argument("--funder", default="Pemkab Jember")
    p.add_argument("--reference", required=True, help="the SK number, e.g. 188.45/123/1.12/2026")
    p.add_argument("--from", dest="start", required=True, type=_today_arg, help="YYYY-MM-DD")
    p.add_argument("--until", required=True, type=_today_arg, help="YYYY-MM-DD (last day)")
    p.add_argument("--sector", help="one sector's cohort (default: every sector)")
    p.set_defaults(func=_with_db(_funding_add))
    p = funding.add_parser("list", parents=[common], help="every funded period")
    p.set_defaults(func=_with_db(_funding_list))

    retention = sub.add_parser("retention", help="personal data past its period").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = retention.add_parser(
        "run", parents=[common], help="forget idle conversations, delete closed claims' files"
    )
    p.add_argument("--dry-run", action="store_true", help="count only, change nothing")
    p.set_defaults(func=_with_db(_retention_run))

    p = sub.add_parser("backup", parents=[common], help="online backup (safe while running)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_backup)
    p = sub.add_parser("restore", parents=[common], help="restore from a backup file")
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="overwrite an existing database")
    p.set_defaults(func=_restore)
    p = sub.add_parser(
        "copy-db", parents=[common], help="copy the SQLite --db into an empty PostgreSQL database"
    )
    p.add_argument("--to", required=True, help="postgresql://user@host/name (migrated, empty)")
    p.set_defaults(func=_copy_db)
    return parser


def parse(
    argv: list[str], *, settings: Settings, clock: Clock, extra: Sequence[Register] = ()
) -> argparse.Namespace:
    """Parse an admin command line; the namespace carries ``settings`` and the command's clock.

    ``SystemExit`` on bad arguments (argparse prints why), ``CliError`` on conflicting ones.
    """
    args = build_parser(settings, extra).parse_args(argv)
    args.settings = settings
    args.clock = command_clock(clock, args)
    if getattr(args, "db", None) is None:
        args.db = str(settings.db)
    return args


def main(
    argv: list[str], *, settings: Settings, clock: Clock, extra: Sequence[Register] = ()
) -> int:
    """Run one admin command with the process's settings and clock; return the exit code."""
    try:
        args = parse(argv, settings=settings, clock=clock, extra=extra)
    except SystemExit as exc:  # argparse already printed usage or help
        return int(exc.code) if isinstance(exc.code, int) else 2
    except CliError as exc:
        err(f"error: {exc.message}")
        return exc.code
    try:
        if args.command in ("tickets", "reminders", "broadcast"):  # these open the DB themselves
            _require_db(args)
        return int(args.func(args))
    except CliError as exc:
        err(f"error: {exc.message}")
        return exc.code
    except DomainError as exc:
        err(f"error: {describe(exc)}")
        return 1
    except backup.StorageError as exc:
        err(f"error: database: {exc}")
        return 1
    except OSError as exc:
        err(f"error: {exc}")
        return 1
