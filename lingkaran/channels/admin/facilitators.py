"""Admin commands: Village facilitators: add, list, revoke, new codes."""

from __future__ import annotations

import argparse
from datetime import timedelta

from lingkaran.channels.admin.common import (
    CliError,
    _kec_label,
    _resolve_desa,
    _resolve_kecamatan,
    desa_label,
    describe,
    out,
    table,
    wib,
)
from lingkaran_core import facilitators as fac
from lingkaran_core.errors import InvalidPhone
from lingkaran_core.identity import mask_phone, normalize_phone
from lingkaran_core.storage import Database

# -- facilitators ----------------------------------------------------------------------------------


async def _facilitator_add(db: Database, args: argparse.Namespace) -> int:
    if args.desa:
        desa = _resolve_desa(args.desa, args.kecamatan)
        scope_kind, scope_code, scope_text = "desa", desa.code, desa_label(desa.code)
    elif args.kecamatan:
        kec = _resolve_kecamatan(args.kecamatan)
        scope_kind, scope_code, scope_text = "kecamatan", kec.code, _kec_label(kec.code)
    else:
        raise CliError("give --desa (a desa facilitator) or --kecamatan (a kecamatan one)", 2)
    try:
        phone = normalize_phone(args.phone)
    except InvalidPhone as exc:
        raise CliError(f"not a usable mobile number: {describe(exc)}") from None
    now = args.clock()
    ttl = timedelta(hours=args.ttl_hours)
    async with db.tx() as tx:
        fid, code = await fac.create_facilitator(
            tx,
            name=args.name,
            phone=phone,
            scope_kind=scope_kind,
            scope_code=scope_code,
            now=now,
            ttl=ttl,
        )
    out(f"facilitator #{fid}: {args.name.strip()}, {scope_kind} {scope_text}")
    out(f"one-time code: {code}   (valid until {wib(now + ttl)}; shown once, stored hashed)")
    out("The facilitator sends this code to the bot (or opens t.me/<bot>?start=CODE).")
    return 0


async def _facilitator_list(db: Database, args: argparse.Namespace) -> int:
    now = args.clock()
    async with db.read() as r:
        listing = await fac.list_facilitators(r)
    rows = []
    for x in listing:
        f = x.facilitator
        if x.revoked_at is not None:
            state = f"revoked {wib(x.revoked_at)}"
        elif f.bound_chat_id is not None:
            state = f"bound to chat {f.bound_chat_id} since {wib(x.bound_at)}"
        elif x.code_pending and x.code_expires_at is not None and x.code_expires_at > now:
            state = f"code pending until {wib(x.code_expires_at)}"
        elif x.code_pending:
            state = "code expired (use new-code)"
        else:
            state = "no code (use new-code)"
        scope = desa_label(f.scope_code) if f.scope_kind == "desa" else _kec_label(f.scope_code)
        phone = mask_phone(f.phone) if f.phone else None
        rows.append([f.id, f.name, phone, f"{f.scope_kind}: {scope}", state])
    if not rows:
        out("no facilitators yet (add one with `facilitator add`)")
        return 0
    out(table(["Id", "Name", "Phone", "Scope", "State"], rows))
    return 0


async def _facilitator_revoke(db: Database, args: argparse.Namespace) -> int:
    async with db.tx() as tx:
        f = await fac.revoke_facilitator(tx, args.id, args.clock())
    out(f"facilitator #{f.id} {f.name} revoked: code invalid, chat unbound")
    return 0


async def _facilitator_new_code(db: Database, args: argparse.Namespace) -> int:
    async with db.tx() as tx:
        code, expires = await fac.new_code(
            tx, args.id, args.clock(), ttl=timedelta(hours=args.ttl_hours)
        )
    out(f"new one-time code for facilitator #{args.id}: {code}   (valid until {wib(expires)})")
    out("The old code and any chat bound with it no longer work.")
    return 0
