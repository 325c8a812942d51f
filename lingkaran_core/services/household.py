"""One phone, a whole household (issue 22): the workers a chat is linked to, and unlinking.

A chat holds up to ``max_links`` verified links (rules.MAX_LINKS_PER_CHAT_RULE; the setting
``LINGKARAN_MAX_LINKS_PER_CHAT``), each proved with a factor of ``services.link``. The chat's
first link is its own (``chats.worker_id``); the others are members of the household the phone
serves. A flow acting for a worker asks ``linked_worker`` first: it refuses a worker the chat is
not linked to, whatever the conversation state holds.

A *household* on the roster: workers sharing a KK number or a roster phone with a worker the
chat is already linked to. Linking a worker of another household counts only factors that worker
controls (``kk_counts_for``): the KK number, which every member of a family holds, does not.

Unlinking (Settings "Lepaskan nomor ini", ``admin links remove``, the console) drops one link or
all, audited; nothing stops the worker from linking again later. Dropping all of them is what
happens when a phone changes hands, so it also hides the chat's earlier reports from the next
holder and closes its open tickets (as an expired link does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lingkaran_core import rules
from lingkaran_core.errors import Conflict, NotAuthorised, NotFound
from lingkaran_core.services.notify import audit
from lingkaran_core.storage import identity_repo, queue_repo, tickets_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import Worker, worker_by_id, worker_by_nik

MAX_LINKS: int = rules.MAX_LINKS_PER_CHAT


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatLink:
    """One chat linked to a worker, as staff see it (no personal data of the chat's holder)."""

    chat_id: int
    channel: str
    user_ref: str
    worker_id: int
    factor: str
    created_at: str | None
    own: bool  # the chat's first link


async def linked_workers(tx: Tx, chat_id: int) -> list[Worker]:
    """The workers a chat is linked to: its own first, then in the order they were linked."""
    out: list[Worker] = []
    for worker_id in await identity_repo.linked_worker_ids(tx, chat_id):
        worker = await worker_by_id(tx, worker_id)
        if worker is not None:
            out.append(worker)
    return out


async def linked_worker_ids(tx: Tx, chat_id: int) -> list[int]:
    """The ids of the workers a chat is linked to (its own first)."""
    return await identity_repo.linked_worker_ids(tx, chat_id)


async def linked_worker(tx: Tx, *, chat_id: int, worker_id: int) -> Worker:
    """The worker, only when this chat holds a verified link to them (else ``NotAuthorised``)."""
    if worker_id not in await identity_repo.linked_worker_ids(tx, chat_id):
        raise NotAuthorised("link.not_linked")
    worker = await worker_by_id(tx, worker_id)
    if worker is None:
        raise NotAuthorised("link.not_linked")
    return worker


async def own_worker_id(tx: Tx, chat_id: int) -> int | None:
    """The chat's own (first) link, if any."""
    ids = await identity_repo.linked_worker_ids(tx, chat_id)
    return ids[0] if ids else None


async def chats_of_worker(tx: Tx, worker_id: int) -> list[int]:
    """Every chat linked to a worker (their own phone and the household phones)."""
    return await identity_repo.linked_chat_ids(tx, worker_id)


async def check_room(
    tx: Tx, *, chat_id: int, worker_id: int | None, max_links: int = MAX_LINKS
) -> None:
    """Refuse a new link once the chat holds ``max_links`` (a worker linked already is fine)."""
    linked = await identity_repo.linked_worker_ids(tx, chat_id)
    if worker_id is not None and worker_id in linked:
        return
    if len(linked) >= max_links:
        raise Conflict("link.limit", max=max_links)


async def has_room(tx: Tx, *, chat_id: int, max_links: int = MAX_LINKS) -> bool:
    """Whether the chat may add one more link."""
    return len(await identity_repo.linked_worker_ids(tx, chat_id)) < max_links


async def same_household(tx: Tx, *, chat_id: int, worker: Worker) -> bool:
    """Whether the worker shares a KK number or a roster phone with a worker the chat is linked
    to (a chat with no link yet is nobody's household: True)."""
    others = [w for w in await identity_repo.linked_worker_ids(tx, chat_id) if w != worker.id]
    if not others:
        return True
    kks, phones = await identity_repo.household_keys(tx, others)
    own_kk = await identity_repo.worker_kk(tx, worker.id)
    return bool((own_kk and own_kk in kks) or (worker.phone and worker.phone in phones))


async def kk_counts_for(tx: Tx, *, chat_id: int, worker: Worker) -> bool:
    """Whether the KK number may verify this worker on this chat (a factor of the household,
    so only for the chat's first link or a member of the same household)."""
    return await same_household(tx, chat_id=chat_id, worker=worker)


async def unlink(
    tx: Tx,
    *,
    chat_id: int,
    worker_id: int | None,
    now: datetime,
    actor_kind: str,
    actor_id: str | int | None,
    channel: str | None = None,
) -> list[int]:
    """Remove one link (``worker_id``) or every link (None) of a chat; the ids removed.

    Audited per worker. Removing the last link also forgets the chat's link attempt, hides the
    reports it filed before from whoever holds the number next, closes its open tickets and
    drops its queued reminders (they name people no longer linked).
    """
    linked = await identity_repo.linked_worker_ids(tx, chat_id)
    targets = linked if worker_id is None else [w for w in linked if w == worker_id]
    if not targets:
        raise NotFound("link.not_linked")
    for target in targets:
        await identity_repo.remove_link(tx, chat_id, target)
        await audit(
            tx,
            now=now,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action="link.removed",
            target_kind="worker",
            target_id=target,
            channel=channel,
            details={"chat": chat_id, "all": worker_id is None},
        )
    if not await identity_repo.linked_worker_ids(tx, chat_id):
        await identity_repo.forget(tx, chat_id)
        await identity_repo.mark_reset(tx, chat_id, now=now)
        closed = await tickets_repo.close_all_of_chat(tx, chat_id, now=now)
        dropped = await queue_repo.drop_queued_reminders(tx, chat_id)
        await audit(
            tx,
            now=now,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action="link.released",
            channel=channel,
            details={"chat": chat_id, "tickets_closed": closed, "reminders_dropped": dropped},
        )
    return targets


async def links_of_worker(tx: Tx, nik: str | int) -> tuple[Worker, list[ChatLink]]:
    """A worker (by NIK, or by id) and every chat linked to them, for staff."""
    worker = await (worker_by_id(tx, nik) if isinstance(nik, int) else worker_by_nik(tx, nik))
    if worker is None:
        raise NotFound("worker.not_found")
    out: list[ChatLink] = []
    for chat_id in await identity_repo.linked_chat_ids(tx, worker.id):
        out.append(await _chat_link(tx, chat_id, worker.id))
    return worker, out


async def links_of_chat(tx: Tx, chat_id: int) -> list[ChatLink]:
    """Every link of one chat, for staff."""
    return [
        await _chat_link(tx, chat_id, w) for w in await identity_repo.linked_worker_ids(tx, chat_id)
    ]


async def _chat_link(tx: Tx, chat_id: int, worker_id: int) -> ChatLink:
    address = await queue_repo.chat_address(tx, chat_id)
    channel, user_ref = address if address is not None else ("?", "?")
    rows = {int(r["worker_id"]): r for r in await identity_repo.link_rows(tx, chat_id)}
    row = rows.get(worker_id)
    ids = await identity_repo.linked_worker_ids(tx, chat_id)
    return ChatLink(
        chat_id=chat_id,
        channel=channel,
        user_ref=user_ref,
        worker_id=worker_id,
        factor=str(row["factor"]) if row is not None else "legacy",
        created_at=str(row["created_at"]) if row is not None else None,
        own=bool(ids) and ids[0] == worker_id,
    )
