"""The code factors of linking a chat (``services.link``): codes sent or shown, then checked.

    phone_code   (b) a 6-digit code to the roster phone's WhatsApp comes back in this chat
    facilitator  (d) a 6-digit desk code the worker shows the village facilitator with the KTP;
                 the facilitator (in scope) confirms and the chat is linked

Failures count and lock out with ``services.link``'s helpers, like every other factor.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from lingkaran_core import rules
from lingkaran_core.errors import NotFound, RateLimited
from lingkaran_core.identity import mask_phone
from lingkaran_core.services.facilitators import Facilitator, check_scope
from lingkaran_core.services.household import MAX_LINKS, check_room
from lingkaran_core.services.link import (
    FACTOR_FACILITATOR,
    FACTOR_PHONE_CODE,
    _digits,
    _failed,
    _hash,
    _locked,
    _pending_or_fail,
    _source_keys,
    _verify,
)
from lingkaran_core.services.notify import audit, enqueue_to_chat
from lingkaran_core.storage import chats as chat_store
from lingkaran_core.storage import identity_repo, link_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import Worker, worker_by_id

DESK_CODE_TTL = timedelta(days=rules.LINK_DESK_CODE_DAYS_RULE.value)
PHONE_CODE_MSG_KEY = "identity.phone_code"
PHONE_CODE_TTL = timedelta(minutes=15)
PHONE_CODE_TRIES = 5  # wrong codes before the code is void (10^6 codes: guessing is hopeless)
PHONE_CODES_PER_HOUR = 3  # a stranger cannot flood the owner's WhatsApp
VERIFIED_MSG_KEY = "identity.verified"


@dataclass(frozen=True, slots=True)
class PendingLink:
    """A chat's pending link, as the facilitator's desk sees it (after the scope check)."""

    chat_id: int
    worker: Worker


async def _whatsapp_chat_for(tx: Tx, phone: str, now: datetime) -> int:
    """The WhatsApp chat that reaches a roster phone: the chat that has this number (keyed by
    a business-scoped user id or by the number), else a new one keyed by the number."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    found = await chat_store.whatsapp_chat_by_phone(tx, digits)
    if found is not None:
        return found.id
    made = await chat_store.create_whatsapp_chat(tx, digits, phone="+" + digits, now=now)
    return made.id


async def send_phone_code(tx: Tx, *, chat_id: int, now: datetime) -> str:
    """Factor (b), first half: a 6-digit code to the roster phone's WhatsApp; the masked number.

    Only the code's hash is stored; at most ``PHONE_CODES_PER_HOUR`` codes an hour per chat.
    """
    worker = await _pending_or_fail(tx, chat_id, now)
    if not worker.phone:
        raise NotFound("link.no_phone")
    row = await identity_repo.phone_code(tx, chat_id)
    recent = [
        t
        for t in (json.loads(row["phone_codes_sent"]) if row is not None else [])
        if datetime.fromisoformat(t) > now - timedelta(hours=1)
    ]
    if len(recent) >= PHONE_CODES_PER_HOUR:
        until = min(datetime.fromisoformat(t) for t in recent) + timedelta(hours=1)
        raise RateLimited("link.locked", until=until.isoformat())
    code = f"{secrets.randbelow(10**6):06d}"
    await identity_repo.set_phone_code(
        tx,
        chat_id,
        _hash(FACTOR_PHONE_CODE, f"{chat_id}:{code}"),
        until=now + PHONE_CODE_TTL,
        sent=[*recent, now.isoformat()],
    )
    owner = await _whatsapp_chat_for(tx, worker.phone, now)
    await enqueue_to_chat(
        tx,
        owner,
        now=now,
        msg_key=PHONE_CODE_MSG_KEY,
        params={"code": code, "minutes": int(PHONE_CODE_TTL.total_seconds() // 60)},
        dedupe_key=f"phone-code:{chat_id}:{now.isoformat()}:{len(recent)}",
        priority=0,
    )
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="link.code_sent",
        target_kind="worker",
        target_id=worker.id,
    )
    return mask_phone(worker.phone)


async def verify_by_phone_code(
    tx: Tx,
    *,
    chat_id: int,
    code: str,
    now: datetime,
    channel: str,
    user_ref: str | None = None,
    max_links: int = MAX_LINKS,
) -> Worker:
    """Factor (b): the code sent to the roster phone came back in this chat, in time."""
    source_lock = await _locked(tx, _source_keys(chat_id, channel, user_ref), now)
    if source_lock is not None:
        raise RateLimited("link.locked", until=source_lock.isoformat())
    worker = await _pending_or_fail(tx, chat_id, now)
    row = await identity_repo.phone_code(tx, chat_id)
    live = (
        row is not None
        and row["phone_code"]
        and row["phone_code_until"]
        and datetime.fromisoformat(row["phone_code_until"]) >= now
        and int(row["phone_code_tries"]) < PHONE_CODE_TRIES
    )
    expected = _hash(FACTOR_PHONE_CODE, f"{chat_id}:{_digits(code)}")
    if not live or not secrets.compare_digest(str(row["phone_code"]), expected):  # type: ignore[index]
        if live:
            await identity_repo.count_phone_code_try(tx, chat_id)
        else:
            await identity_repo.clear_phone_code(tx, chat_id)
        await _failed(
            tx,
            chat_id=chat_id,
            channel=channel,
            user_ref=user_ref,
            nik=worker.nik,
            now=now,
            worker=None,  # the owner was just sent the code: no second notice
            step=FACTOR_PHONE_CODE,
            count_nik=False,
        )
    await identity_repo.clear_phone_code(tx, chat_id)
    await link_repo.clear(tx, *_source_keys(chat_id, channel, user_ref))
    await _verify(
        tx,
        chat_id=chat_id,
        worker=worker,
        factor=FACTOR_PHONE_CODE,
        now=now,
        channel=channel,
        max_links=max_links,
    )
    return worker


async def issue_desk_code(tx: Tx, *, chat_id: int, now: datetime) -> tuple[str, datetime]:
    """Factor (d), first half: a 6-digit code the worker shows the facilitator with the KTP."""
    await _pending_or_fail(tx, chat_id, now)
    for _ in range(20):
        code = f"{secrets.randbelow(10**6):06d}"
        if not await identity_repo.desk_code_taken(tx, code, now=now):
            break
    until = now + DESK_CODE_TTL
    await identity_repo.set_desk_code(tx, chat_id, code, until=until)
    return code, until


async def pending_for_desk(
    tx: Tx, *, facilitator: Facilitator, code: str, now: datetime
) -> PendingLink:
    """The pending link behind a code, if its worker lies in the facilitator's scope."""
    row = await identity_repo.by_desk_code(tx, _digits(code))
    if (
        row is None
        or not row["desk_code_until"]
        or datetime.fromisoformat(row["desk_code_until"]) < now
    ):
        raise NotFound("link.no_code")
    worker = await worker_by_id(tx, int(row["worker_id"]))
    if worker is None:
        raise NotFound("link.no_code")
    check_scope(facilitator, worker.desa_code, target="worker")
    return PendingLink(chat_id=int(row["chat_id"]), worker=worker)


async def confirm_by_facilitator(
    tx: Tx,
    *,
    facilitator: Facilitator,
    code: str,
    worker_id: int,
    now: datetime,
    channel: str,
    max_links: int = MAX_LINKS,
) -> PendingLink:
    """Factor (d): the facilitator saw the KTP and binds the chat; checked again, audited.

    The chat may be a household's phone already: the worker is added to its links.
    """
    pending = await pending_for_desk(tx, facilitator=facilitator, code=code, now=now)
    if pending.worker.id != worker_id:
        raise NotFound("link.no_code")
    await check_room(tx, chat_id=pending.chat_id, worker_id=worker_id, max_links=max_links)
    await identity_repo.save_verified(
        tx,
        pending.chat_id,
        pending.worker.id,
        factor=FACTOR_FACILITATOR,
        now=now,
        facilitator_id=facilitator.id,
    )
    await link_repo.clear(tx, f"chat:{pending.chat_id}")
    await audit(
        tx,
        now=now,
        actor_kind="facilitator",
        actor_id=facilitator.id,
        action="link.ok",
        target_kind="worker",
        target_id=pending.worker.id,
        channel=channel,
        details={"factor": FACTOR_FACILITATOR, "chat": pending.chat_id},
    )
    await enqueue_to_chat(
        tx,
        pending.chat_id,
        now=now,
        msg_key=VERIFIED_MSG_KEY,
        params={"name": pending.worker.name, "sex": pending.worker.sex},
        dedupe_key=f"link-verified:{pending.chat_id}:{now.isoformat()}",
        priority=2,
    )
    return pending
