"""Who a WhatsApp sender is: business-scoped user ids (BSUIDs), phone numbers, and their changes.

Since April 2026 Meta names a WhatsApp user by a BSUID (``ID.1502576394655843``: a country code,
a dot, up to 128 letters and digits; ``ID.ENT.…`` for a parent BSUID), scoped to our business
portfolio, besides the phone number or instead of it (a user with a username may hide it). A
BSUID lasts as long as the user keeps their number; a new number gives a new BSUID.

- A WhatsApp chat's ``user_ref`` is its BSUID when known, else the number's digits (every chat
  before 2026). The number is the chat's ``phone`` attribute (``+62…``), written only from what
  Meta sent, so the link service may take it as proven by the channel.
- Meta naming a BSUID and a number in one contact (a message, a status) vouches for the pair: a
  chat keyed by the number alone is re-keyed to the BSUID (the first webhook with both), and a
  second chat of the pair is merged into the BSUID's (reports, files, tickets, outbox rows, the
  link move; the other row stays as a tombstone).
- A known number arriving with an unknown BSUID while its chat has another BSUID means another
  WhatsApp account now holds that number (a recycled prepaid number, or a re-registration). The
  chat keeps its history under the new BSUID, but its link and facilitator binding are dropped:
  NIK + date of birth again, and reports the previous holder filed stay hidden from it.
- A change Meta reports (the ``user_id_update`` webhook, the ``user_changed_user_id`` and
  ``user_changed_number`` system messages) moves the chat to the new ids, its number to the new
  number (or none), so the old number's next holder starts a fresh chat. The link is dropped as
  for a number change before (issue 20): the history stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lingkaran_core.services.link import forget_link
from lingkaran_core.services.notify import audit
from lingkaran_core.storage import chats as chat_store
from lingkaran_core.storage import identity_repo
from lingkaran_core.storage.chats import Chat
from lingkaran_core.storage.db import Tx

CHANNEL = "whatsapp"
USER_ID_RE = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
_DIGITS_RE = re.compile(r"\+?[0-9]{1,20}")

CREATED = "created"
MIGRATED = "migrated"  # a number-keyed chat got its BSUID
MERGED = "merged"  # two chats of one user became one
PHONE_ADDED = "phone_added"
NEW_HOLDER = "new_holder"  # a known number, another account: link dropped
USER_ID_CHANGED = "user_id_changed"  # Meta reported the change


def is_user_id(ref: str | None) -> bool:
    """Whether ``ref`` is a business-scoped user id (or a parent one), not a phone number."""
    return bool(ref) and USER_ID_RE.fullmatch(ref or "") is not None


def phone_digits(raw: str | None) -> str | None:
    """The digits of a wa_id / phone number (``"6281…"``); None for a BSUID or anything else."""
    if not raw or is_user_id(raw):
        return None
    text = raw.strip()
    if _DIGITS_RE.fullmatch(text) is None:
        return None
    return text.lstrip("+")


def chat_phone(chat: Chat) -> str | None:
    """A WhatsApp chat's own number (``+62…``) as Meta showed it, if any.

    The phone attribute, else the key of a chat keyed by its number (chats made before 2026,
    or by code paths that know only the number). Never a number a user typed.
    """
    if chat.channel != CHANNEL:
        return None
    if chat.phone:
        return chat.phone
    return "+" + chat.user_ref if chat.user_ref.isdigit() else None


def address_of(chat: Chat) -> str:
    """Where a message to this chat goes: its number (``to``) when known, else its BSUID."""
    if chat.phone:
        return chat.phone.lstrip("+")
    return chat.user_ref


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender:
    """A WhatsApp user as one webhook names them (each part may be missing)."""

    user_id: str | None = None
    phone: str | None = None  # digits, as Meta's wa_id
    parent_user_id: str | None = None
    username: str | None = None

    @property
    def key(self) -> str | None:
        """The chat key this sender has on its own: the BSUID, else the number."""
        return self.user_id or self.phone


@dataclass(frozen=True, slots=True)
class Resolved:
    """The chat a sender belongs to, and what resolving changed (``None``: nothing)."""

    chat: Chat
    event: str | None = None

    @property
    def address(self) -> str:
        """Where replies go (see ``address_of``)."""
        return address_of(self.chat)


def _plus(digits: str | None) -> str | None:
    return None if digits is None else "+" + digits


async def _record(tx: Tx, chat_id: int, event: str, now: datetime, **details: object) -> None:
    await audit(
        tx,
        now=now,
        actor_kind="system",
        actor_id=None,
        action="whatsapp.identity",
        target_kind="chat",
        target_id=chat_id,
        channel=CHANNEL,
        details={"event": event, **details},
    )


async def _set(tx: Tx, chat: Chat, *, user_ref: str, phone: str | None, sender: Sender) -> Chat:
    parent = sender.parent_user_id or chat.parent_user_ref
    username = sender.username or chat.username
    if (chat.user_ref, chat.phone, chat.parent_user_ref, chat.username) != (
        user_ref,
        phone,
        parent,
        username,
    ):
        await chat_store.set_whatsapp_identity(
            tx, chat.id, user_ref=user_ref, phone=phone, parent_user_ref=parent, username=username
        )
        chat.user_ref, chat.phone = user_ref, phone
        chat.parent_user_ref, chat.username = parent, username
    return chat


async def _merge(tx: Tx, *, keep: Chat, drop: Chat, now: datetime) -> None:
    """One user, two chats: everything of ``drop`` moves to ``keep`` (whose link wins)."""
    keep_link = await identity_repo.get(tx, keep.id)
    drop_link = await identity_repo.get(tx, drop.id)
    move_link = keep_link is None and drop_link is not None
    worker_id = keep.worker_id if not move_link else drop.worker_id
    facilitator_id = keep.facilitator_id or drop.facilitator_id
    role = keep.active_role
    if role == "public" and move_link and drop.active_role == "worker":
        role = "worker"
    if facilitator_id is not None and keep.facilitator_id is None:
        role = drop.active_role if drop.active_role == "facilitator" else role
    reset_keep = await identity_repo.reset_at(tx, keep.id)
    reset_drop = await identity_repo.reset_at(tx, drop.id)
    await chat_store.move_chat_history(
        tx,
        keep=keep,
        drop=drop,
        worker_id=worker_id,
        facilitator_id=facilitator_id,
        active_role=role,
        move_link=move_link,
    )
    if reset_drop is not None and (reset_keep is None or reset_drop > reset_keep):
        # What a previous holder of the merged number filed stays hidden here too.
        await identity_repo.mark_reset(tx, keep.id, now=datetime.fromisoformat(reset_drop))
    keep.worker_id, keep.facilitator_id, keep.active_role = worker_id, facilitator_id, role
    keep.phone = keep.phone or drop.phone
    await _record(tx, keep.id, MERGED, now, merged=drop.id)


async def _new_holder(tx: Tx, chat: Chat, *, now: datetime, reason: str) -> None:
    """Another WhatsApp account holds this chat's number now: it inherits no link."""
    await forget_link(tx, chat_id=chat.id, now=now, reason=reason)
    released = await chat_store.release_facilitator(tx, chat.id)
    chat.worker_id = None
    chat.facilitator_id = None
    if chat.active_role in ("worker", "facilitator"):
        chat.active_role = "public"
    await _record(tx, chat.id, NEW_HOLDER, now, facilitator_released=released)


async def resolve_sender(
    tx: Tx, sender: Sender, *, now: datetime, create: bool = True
) -> Resolved | None:
    """The chat of a WhatsApp sender, re-keying, merging or creating it as the rules say.

    With ``create=False`` (a status naming a recipient) nothing is created: None then.
    """
    if sender.key is None:
        return None
    phone = _plus(sender.phone)
    by_phone = await chat_store.whatsapp_chat_by_phone(tx, sender.phone) if sender.phone else None
    if sender.user_id is None:
        if by_phone is not None:
            added = PHONE_ADDED if by_phone.phone != phone else None
            await _set(tx, by_phone, user_ref=by_phone.user_ref, phone=phone, sender=sender)
            return Resolved(by_phone, added)
        if not create:
            return None
        made = await chat_store.create_whatsapp_chat(
            tx, sender.phone or "", phone=phone, now=now, username=sender.username
        )
        return Resolved(made, CREATED)

    by_id = await chat_store.get_chat(tx, CHANNEL, sender.user_id)
    if by_id is not None and by_phone is not None and by_phone.id == by_id.id:
        by_phone = None
    if by_id is not None:
        event: str | None = None
        if by_phone is not None and not is_user_id(by_phone.user_ref):
            await _merge(tx, keep=by_id, drop=by_phone, now=now)
            event = MERGED
        elif phone is not None and by_id.phone != phone:
            event = PHONE_ADDED
        await _set(tx, by_id, user_ref=sender.user_id, phone=phone or by_id.phone, sender=sender)
        return Resolved(by_id, event)
    if by_phone is not None:
        if is_user_id(by_phone.user_ref):
            # The number's chat belongs to another account: keep its history, not its link.
            await _set(tx, by_phone, user_ref=sender.user_id, phone=phone, sender=sender)
            await _new_holder(tx, by_phone, now=now, reason="whatsapp number has a new user id")
            return Resolved(by_phone, NEW_HOLDER)
        await _set(tx, by_phone, user_ref=sender.user_id, phone=phone, sender=sender)
        await _record(tx, by_phone.id, MIGRATED, now)
        return Resolved(by_phone, MIGRATED)
    if not create:
        return None
    made = await chat_store.create_whatsapp_chat(
        tx,
        sender.user_id,
        phone=phone,
        now=now,
        parent_user_ref=sender.parent_user_id,
        username=sender.username,
    )
    return Resolved(made, CREATED)


async def change_user_id(
    tx: Tx,
    *,
    previous_user_id: str | None,
    previous_phone: str | None,
    user_id: str | None,
    phone: str | None,
    parent_user_id: str | None = None,
    reason: str,
    now: datetime,
) -> int | None:
    """Meta reported that a user's ids changed: the chat follows them; the chat id, if known.

    ``phone`` is the new number (None when Meta does not share it: the old one is dropped).
    Applying the same report twice changes nothing the second time (the old ids are gone).
    """
    chat = await chat_store.get_chat(tx, CHANNEL, previous_user_id) if previous_user_id else None
    if chat is None and previous_phone:
        chat = await chat_store.whatsapp_chat_by_phone(tx, previous_phone)
        if chat is not None and is_user_id(chat.user_ref) and chat.user_ref == user_id:
            chat = None  # already moved
    if chat is None:
        return None
    await forget_link(tx, chat_id=chat.id, now=now, reason=f"whatsapp {reason}")
    new_key = user_id or phone
    if new_key is None:
        # Nothing to move to (an old-style notice without the new ids): the link is gone, the
        # number keeps its chat as before.
        await _record(tx, chat.id, USER_ID_CHANGED, now, reason=reason)
        return chat.id
    sender = Sender(user_id=user_id, phone=phone, parent_user_id=parent_user_id)
    target = await chat_store.get_chat(tx, CHANNEL, new_key)
    if target is None and phone is not None:
        target = await chat_store.whatsapp_chat_by_phone(tx, phone)
    if target is not None and target.id != chat.id:
        # The user wrote from the new ids before this report arrived: one chat again.
        await _merge(tx, keep=target, drop=chat, now=now)
        await _set(tx, target, user_ref=new_key, phone=_plus(phone) or target.phone, sender=sender)
        await _record(tx, target.id, USER_ID_CHANGED, now, reason=reason)
        return target.id
    await _set(tx, chat, user_ref=new_key, phone=_plus(phone), sender=sender)
    await _record(tx, chat.id, USER_ID_CHANGED, now, reason=reason)
    return chat.id
