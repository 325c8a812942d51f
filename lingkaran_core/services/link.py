"""Linking a chat to a worker: NIK + date of birth find the record, a second factor proves it.

The date of birth is digits 7-12 of the NIK (DOMAIN.md §5.1), so NIK + date of birth is one
factor: it gives a *pending* link (``chat_identity`` row, ``chats.worker_id`` still NULL) that
shows nothing personal. A factor the NIK does not contain verifies it (rules.LINK_FACTORS_RULE):

    channel_phone  the roster phone proven by the channel (WhatsApp sender number; a Telegram
                   contact whose user_id is the sender, checked by the adapter; the terminal)
    kpj, kk        the KPJ on the card or the KK number, when the roster holds it
    facilitator    the village facilitator confirms in person (code shown by the chat)

Failures are counted per chat, per channel identity and per NIK with a capped back-off. A NIK's
lock-out only stops the knowledge factors (date of birth, KPJ, KK): failures from other sources
never block the owner's proven phone or the facilitator. The owner's known chats hear of every
failed or pending attempt. A link quiet for rules.LINK_INACTIVITY_DAYS expires (recycled
numbers).

A chat may hold several verified links, one per worker of the household the phone serves (issue
22, ``services.household``): every factor above adds one link, up to ``max_links``; a worker of
another household is not verified by the KK number.

The two code factors (a code sent by WhatsApp, a code shown at the facilitator's desk) live in
``link_codes``; they count failures with the helpers kept here.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NoReturn

from lingkaran_core import rules
from lingkaran_core.errors import InvalidPhone, NotAuthorised, NotFound, RateLimited
from lingkaran_core.identity import normalize_phone
from lingkaran_core.services.household import MAX_LINKS, check_room, kk_counts_for
from lingkaran_core.services.notify import audit, enqueue_to_chat
from lingkaran_core.storage import identity_repo, link_repo, tickets_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import Worker, worker_by_id, worker_by_nik

MAX_LINK_FAILURES, _FIRST_MINUTES, _CAP_MINUTES = rules.LINK_LOCKOUT_RULE.value
LOCKOUT = timedelta(minutes=_FIRST_MINUTES)
LOCKOUT_CAP = timedelta(minutes=_CAP_MINUTES)
FAILURE_MEMORY = timedelta(hours=24)
LINK_INACTIVITY = timedelta(days=rules.LINK_INACTIVITY_DAYS)
_TOUCH_EVERY = timedelta(hours=1)  # the inactivity clock is written at most hourly

FACTOR_PHONE = "channel_phone"
FACTOR_KPJ = "kpj"
FACTOR_KK = "kk"
FACTOR_FACILITATOR = "facilitator"
FACTOR_PHONE_CODE = "phone_code"
ATTEMPT_MSG_KEY = "identity.link_attempt"


@dataclass(frozen=True, slots=True)
class LinkMatch:
    """NIK + date of birth matched ``worker``; ``verified`` when a factor proved it already."""

    worker: Worker
    verified: bool
    factor: str | None = None


def _hash(kind: str, value: str) -> str:
    return f"{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _nik_key(nik: str) -> str:
    return _hash("nik", nik)


def _source_keys(chat_id: int, channel: str | None, user_ref: str | None) -> list[str]:
    keys = [f"chat:{chat_id}"]
    if channel and user_ref:
        # The channel identity outlives a chat row (a forgotten chat comes back with a new id).
        keys.append(_hash("src", f"{channel}:{user_ref}"))
    return keys


async def _locked(tx: Tx, keys: list[str], now: datetime) -> datetime | None:
    latest: datetime | None = None
    for key in keys:
        until = await link_repo.locked_until(tx, key)
        if until:
            when = datetime.fromisoformat(until)
            if when > now and (latest is None or when > latest):
                latest = when
    return latest


async def link_locked_until(
    tx: Tx,
    *,
    chat_id: int,
    nik: str | None,
    now: datetime,
    channel: str | None = None,
    user_ref: str | None = None,
) -> datetime | None:
    """When this source (or, for knowledge factors, the NIK) may try again, if locked now."""
    keys = _source_keys(chat_id, channel, user_ref) + ([_nik_key(nik)] if nik else [])
    return await _locked(tx, keys, now)


async def _fail(tx: Tx, key: str, now: datetime) -> datetime | None:
    row = await link_repo.attempts(tx, key)
    failures = (row["failures"] if row else 0) + 1
    lockouts = row["lockouts"] if row else 0
    if row is not None and now - datetime.fromisoformat(row["updated_at"]) > FAILURE_MEMORY:
        failures, lockouts = 1, 0  # a quiet day forgets old mistakes and old lock-outs
    locked_until: datetime | None = None
    if failures >= MAX_LINK_FAILURES:
        # 30 minutes, doubling on every repeat lock-out, never more than the cap (24 h).
        locked_until = now + min(LOCKOUT * (2 ** min(lockouts, 16)), LOCKOUT_CAP)
        lockouts += 1
        failures = 0
    await link_repo.save_attempts(
        tx, key, failures=failures, lockouts=lockouts, locked_until=locked_until, now=now
    )
    return locked_until


async def _failed(
    tx: Tx,
    *,
    chat_id: int,
    channel: str,
    user_ref: str | None,
    nik: str,
    now: datetime,
    worker: Worker | None,
    step: str,
    count_nik: bool = True,
) -> NoReturn:
    """Count a failure per source (and per NIK), audit it, tell the owner; raise."""
    untils = [await _fail(tx, key, now) for key in _source_keys(chat_id, channel, user_ref)]
    if count_nik:
        nik_until = await _fail(tx, _nik_key(nik), now)
        if step in (FACTOR_KPJ, FACTOR_KK):
            untils.append(nik_until)  # the NIK's lock stops only the knowledge factors
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="link.failed",
        target_kind="worker" if worker else None,
        target_id=worker.id if worker else None,
        channel=channel,
        details={"step": step},
    )
    if worker is not None:
        await _tell_owner(tx, worker, chat_id=chat_id, now=now)
    until = max((u for u in untils if u is not None), default=None)
    if until is not None:
        raise RateLimited("link.locked", until=until.isoformat())
    raise NotFound("link.no_match")


async def _tell_owner(tx: Tx, worker: Worker, *, chat_id: int, now: datetime) -> None:
    """Someone tried to link this NIK: tell the worker's known chats (once a day each)."""
    for owner_chat in await identity_repo.owner_chat_ids(tx, worker.id, worker.phone):
        if owner_chat == chat_id:
            continue
        await enqueue_to_chat(
            tx,
            owner_chat,
            now=now,
            msg_key=ATTEMPT_MSG_KEY,
            params={"at": now.isoformat()},
            dedupe_key=f"link-attempt:{worker.id}:{owner_chat}:{now.date().isoformat()}",
            priority=2,
        )


def channel_phone(channel: str, user_ref: str, phone: str | None = None) -> str | None:
    """The phone number a channel itself proves for a chat (WhatsApp: the sender's number).

    ``phone`` is the chat's phone attribute, which only the WhatsApp adapter writes from what
    Meta sent; a chat keyed by a business-scoped user id (BSUID) may have none.
    """
    if channel != "whatsapp":
        return None
    raw = phone or ("+" + user_ref if user_ref.isdigit() else None)
    if raw is None:
        return None  # a BSUID is not a number
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return None


def same_phone(proven: str | None, roster: str | None) -> bool:
    """Both numbers normalise to the same E.164 number."""
    if not proven or not roster:
        return False
    try:
        return normalize_phone(proven) == normalize_phone(roster)
    except InvalidPhone:
        return False


async def _verify(
    tx: Tx,
    *,
    chat_id: int,
    worker: Worker,
    factor: str,
    now: datetime,
    channel: str,
    max_links: int = MAX_LINKS,
) -> None:
    await check_room(tx, chat_id=chat_id, worker_id=worker.id, max_links=max_links)
    await identity_repo.save_verified(tx, chat_id, worker.id, factor=factor, now=now)
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="link.ok",
        target_kind="worker",
        target_id=worker.id,
        channel=channel,
        details={"factor": factor},
    )


async def link_account(
    tx: Tx,
    *,
    chat_id: int,
    nik: str,
    birth_date: date,
    now: datetime,
    channel: str,
    user_ref: str | None = None,
    phone: str | None = None,
    max_links: int = MAX_LINKS,
) -> LinkMatch:
    """Match NIK + date of birth; verified at once only when the channel proves the roster phone.

    ``phone``: the chat's number as the channel gave it (WhatsApp), see ``channel_phone``.

    Never says which part was wrong. Only this source's lock-out stops it: a NIK's lock-out
    (failures from anywhere) stops the KPJ/KK factor, never the owner's phone or facilitator.
    A chat holding ``max_links`` links is refused before anything is compared.
    """
    source_lock = await _locked(tx, _source_keys(chat_id, channel, user_ref), now)
    if source_lock is not None:
        raise RateLimited("link.locked", until=source_lock.isoformat())
    worker = await worker_by_nik(tx, nik)
    await check_room(
        tx, chat_id=chat_id, worker_id=None if worker is None else worker.id, max_links=max_links
    )
    proven = channel_phone(channel, user_ref or "", phone)
    owner_phone = worker is not None and same_phone(proven, worker.phone)
    # No NIK lock here: a pending link shows nothing, and the owner must still reach factor (a)
    # or (d) while strangers' failures lock the NIK's knowledge factors (KPJ, KK).
    if worker is None or worker.birth_date != birth_date:
        await _failed(
            tx,
            chat_id=chat_id,
            channel=channel,
            user_ref=user_ref,
            nik=nik,
            now=now,
            worker=worker,
            step="birth_date",
        )
    await link_repo.clear(tx, *_source_keys(chat_id, channel, user_ref))
    if worker.id in await identity_repo.linked_worker_ids(tx, chat_id):
        return LinkMatch(worker=worker, verified=True)  # linked already: nothing new to prove
    if owner_phone:
        await _verify(
            tx,
            chat_id=chat_id,
            worker=worker,
            factor=FACTOR_PHONE,
            now=now,
            channel=channel,
            max_links=max_links,
        )
        return LinkMatch(worker=worker, verified=True, factor=FACTOR_PHONE)
    await identity_repo.save_pending(tx, chat_id, worker.id, now=now)
    await audit(
        tx,
        now=now,
        actor_kind="chat",
        actor_id=chat_id,
        action="link.pending",
        target_kind="worker",
        target_id=worker.id,
        channel=channel,
    )
    await _tell_owner(tx, worker, chat_id=chat_id, now=now)
    return LinkMatch(worker=worker, verified=False)


async def pending_worker(tx: Tx, chat_id: int, *, now: datetime) -> Worker | None:
    """The worker a chat's pending (unverified, still fresh) link points at."""
    row = await identity_repo.get(tx, chat_id)
    if row is None or row["verified_at"] is not None:
        return None
    if now - datetime.fromisoformat(row["last_active_at"]) > LINK_INACTIVITY:
        return None
    return await worker_by_id(tx, int(row["worker_id"]))


async def _pending_or_fail(tx: Tx, chat_id: int, now: datetime) -> Worker:
    worker = await pending_worker(tx, chat_id, now=now)
    if worker is None:
        raise NotFound("link.no_pending")
    return worker


async def verify_by_phone(
    tx: Tx,
    *,
    chat_id: int,
    phone: str,
    now: datetime,
    channel: str,
    user_ref: str | None = None,
    max_links: int = MAX_LINKS,
) -> Worker:
    """Factor (a): a phone the channel proved (a shared own contact) is the roster phone.

    A mismatch counts against this source only: it guesses nothing, and must not lock the NIK.
    """
    source_lock = await _locked(tx, _source_keys(chat_id, channel, user_ref), now)
    if source_lock is not None:
        raise RateLimited("link.locked", until=source_lock.isoformat())
    worker = await _pending_or_fail(tx, chat_id, now)
    if not same_phone(phone, worker.phone):
        await _failed(
            tx,
            chat_id=chat_id,
            channel=channel,
            user_ref=user_ref,
            nik=worker.nik,
            now=now,
            worker=worker,
            step="phone",
            count_nik=False,
        )
    await link_repo.clear(tx, *_source_keys(chat_id, channel, user_ref))
    await _verify(
        tx,
        chat_id=chat_id,
        worker=worker,
        factor=FACTOR_PHONE,
        now=now,
        channel=channel,
        max_links=max_links,
    )
    return worker


def _digits(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())


async def verify_by_fact(
    tx: Tx,
    *,
    chat_id: int,
    kind: str,
    value: str,
    now: datetime,
    channel: str,
    user_ref: str | None = None,
    max_links: int = MAX_LINKS,
) -> Worker:
    """Factor (c): the KPJ on the card or the KK number, compared with the roster's.

    The KK number is the household's: it does not verify a worker of another household than
    the chat's links (refused before comparing, so it tells nothing about the number).
    """
    if kind not in (FACTOR_KPJ, FACTOR_KK):
        raise ValueError(kind)
    worker = await _pending_or_fail(tx, chat_id, now)
    if kind == FACTOR_KK and not await kk_counts_for(tx, chat_id=chat_id, worker=worker):
        raise NotAuthorised("link.other_household")
    locked = await link_locked_until(
        tx, chat_id=chat_id, nik=worker.nik, now=now, channel=channel, user_ref=user_ref
    )
    if locked is not None:
        raise RateLimited("link.locked", until=locked.isoformat())
    expected = worker.kpj if kind == FACTOR_KPJ else await identity_repo.worker_kk(tx, worker.id)
    given = _digits(value)
    if not expected or not given or not secrets.compare_digest(_digits(expected), given):
        await _failed(
            tx,
            chat_id=chat_id,
            channel=channel,
            user_ref=user_ref,
            nik=worker.nik,
            now=now,
            worker=worker,
            step=kind,
        )
    await link_repo.clear(tx, *_source_keys(chat_id, channel, user_ref), _nik_key(worker.nik))
    await _verify(
        tx,
        chat_id=chat_id,
        worker=worker,
        factor=kind,
        now=now,
        channel=channel,
        max_links=max_links,
    )
    return worker


async def refresh_link(tx: Tx, *, chat_id: int, worker_id: int | None, now: datetime) -> bool:
    """Keep a chat's link alive, or expire it after the inactivity period. False when expired.

    Called before every message of a linked (or pending) chat: a recycled number written from
    months later finds no link and must verify afresh before anything personal is shown.
    """
    row = await identity_repo.get(tx, chat_id)
    if row is None:
        if worker_id is not None:
            # Linked by other means (the admin, an older release): start its clock now.
            await identity_repo.save_verified(tx, chat_id, worker_id, factor="legacy", now=now)
        return True
    last = datetime.fromisoformat(row["last_active_at"])
    if now - last > LINK_INACTIVITY:
        await identity_repo.forget(tx, chat_id)
        await identity_repo.mark_reset(tx, chat_id, now=now)
        closed = await tickets_repo.close_all_of_chat(tx, chat_id, now=now)
        await audit(
            tx,
            now=now,
            actor_kind="system",
            actor_id=None,
            action="link.expired",
            target_kind="worker",
            target_id=row["worker_id"],
            details={"chat": chat_id, "idle_days": (now - last).days, "tickets_closed": closed},
        )
        return False
    if now - last > _TOUCH_EVERY:
        await identity_repo.touch(tx, chat_id, now=now)
    return True


async def forget_link(tx: Tx, *, chat_id: int, now: datetime, reason: str) -> None:
    """Drop a chat's link at once (e.g. the channel reported a number change).

    The chat's open tickets are closed too: staff replies meant for the previous holder of the
    number must not reach the next one (staff still see the tickets).
    """
    await identity_repo.forget(tx, chat_id)
    await identity_repo.mark_reset(tx, chat_id, now=now)
    closed = await tickets_repo.close_all_of_chat(tx, chat_id, now=now)
    await audit(
        tx,
        now=now,
        actor_kind="system",
        actor_id=None,
        action="link.expired",
        details={"chat": chat_id, "reason": reason, "tickets_closed": closed},
    )


async def filed_by_this_owner(tx: Tx, *, chat_id: int, reported_at: str) -> bool:
    """A claim this chat filed belongs to its current user: filed after the last link expiry.

    A recycled number inherits the chat row; reports its previous owner filed stay hidden.
    """
    reset = await identity_repo.reset_at(tx, chat_id)
    return reset is None or datetime.fromisoformat(reported_at) > datetime.fromisoformat(reset)
