"""Chats (a channel user), their conversation state and the inbound-message ledger."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lingkaran_core.storage.db import Tx, dumps, loads, write_later


@dataclass(slots=True, kw_only=True)
class Chat:
    """One user of one channel, with the identity it is linked to."""

    id: int
    channel: str
    user_ref: str
    worker_id: int | None
    facilitator_id: int | None
    active_role: str
    language: str
    display_name: str | None
    phone: str | None
    opted_out: bool
    last_inbound_at: str | None
    created: bool = False
    # WhatsApp: the parent business-scoped user id (where enabled) and the username, for staff.
    parent_user_ref: str | None = None
    username: str | None = None
    # A facilitator bound to this chat was revoked and the chat has not been told yet.
    revoke_pending: bool = False


@dataclass(slots=True, kw_only=True)
class ConversationState:
    """Where a chat is in a flow; saved after every step."""

    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    stack: list[str] = field(default_factory=list)
    version: int = 0
    draft: dict[str, Any] | None = None
    updated_at: str | None = None


_CHAT_COLS = (
    "id, channel, user_ref, worker_id, facilitator_id, active_role, language, display_name, "
    "phone, opted_out, last_inbound_at, parent_user_ref, username, EXISTS (SELECT 1 FROM facilitators f "
    "WHERE f.bound_chat_id = chats.id AND f.revoked_at IS NOT NULL "
    "AND f.revoke_notified_at IS NULL) AS revoke_pending"
)


# SQL shared by the async helpers (channels, CLI) and the engine's one-hop sync units.
_CLAIM_INBOUND = (
    "INSERT INTO inbound_messages (channel, message_id, user_ref, received_at, status) "
    "VALUES (?, ?, ?, ?, 'processed') ON CONFLICT (channel, message_id) DO UPDATE "
    "SET status = 'processed' WHERE inbound_messages.status != 'processed'"
)
# PostgreSQL only, one round trip for the start of a message: claim the inbound id, lock the
# chat row, read it and its state. Column 0 says whether the claim was fresh; the chat's columns
# are NULL when there is no chat yet; the state (from column 15, flow never NULL in a stored
# state) is NULL when there is none.
_PG_BEGIN_MESSAGE = (
    f"WITH claim AS ({_CLAIM_INBOUND} RETURNING 1), "
    f"c AS (SELECT {_CHAT_COLS} FROM chats WHERE channel = ? AND user_ref = ? FOR UPDATE) "
    "SELECT (SELECT COUNT(*) FROM claim) AS fresh, c.*, s.flow, s.step, s.data, s.stack, "
    "s.version, s.draft, s.updated_at FROM (SELECT 1) AS one LEFT JOIN c ON TRUE "
    "LEFT JOIN conversations s ON s.chat_id = c.id"
)
# PostgreSQL only: a chat seen for the first time, created and read back in one round trip
# (RETURNING evaluates the columns on the new row). No row back: another instance created it
# a moment ago, and the general path locks and reads that one.
_PG_NEW_CHAT = (
    "INSERT INTO chats (channel, user_ref, language, created_at) VALUES (?, ?, 'id', ?) "
    f"ON CONFLICT (channel, user_ref) DO NOTHING RETURNING {_CHAT_COLS}"
)
_TOUCH_INBOUND = (
    "UPDATE chats SET last_inbound_at = ?, display_name = COALESCE(?, display_name) WHERE id = ?"
)
_MARK_SENT = (
    "UPDATE conversations SET replies_sent = 1, last_replies = NULL WHERE last_message_id = ? "
    "AND chat_id = (SELECT id FROM chats WHERE channel = ? AND user_ref = ?)"
)


def _chat(row: Any, created: bool = False) -> Chat:
    return Chat(
        id=row["id"],
        channel=row["channel"],
        user_ref=row["user_ref"],
        worker_id=row["worker_id"],
        facilitator_id=row["facilitator_id"],
        active_role=row["active_role"],
        language=row["language"],
        display_name=row["display_name"],
        phone=row["phone"],
        opted_out=bool(row["opted_out"]),
        last_inbound_at=row["last_inbound_at"],
        created=created,
        revoke_pending=bool(row["revoke_pending"]),
        parent_user_ref=row["parent_user_ref"],
        username=row["username"],
    )


async def get_chat(tx: Tx, channel: str, user_ref: str) -> Chat | None:
    """The chat of a channel user, if it exists."""
    row = await tx.one(
        f"SELECT {_CHAT_COLS} FROM chats WHERE channel = ? AND user_ref = ?", (channel, user_ref)
    )
    return None if row is None else _chat(row)


async def get_chat_by_id(tx: Tx, chat_id: int) -> Chat | None:
    """A chat by its id."""
    row = await tx.one(f"SELECT {_CHAT_COLS} FROM chats WHERE id = ?", (chat_id,))
    return None if row is None else _chat(row)


async def get_state(tx: Tx, channel: str, user_ref: str) -> ConversationState | None:
    """Where a channel user's conversation is (None before the first message)."""
    row = await tx.one(
        "SELECT v.flow, v.step, v.data, v.stack, v.version, v.draft, v.updated_at "
        "FROM conversations v JOIN chats c ON c.id = v.chat_id "
        "WHERE c.channel = ? AND c.user_ref = ?",
        (channel, user_ref),
    )
    if row is None:
        return None
    return ConversationState(
        flow=row[0],
        step=row[1],
        data=loads(row[2]),
        stack=loads(row[3]),
        version=row[4],
        draft=loads(row[5]),
        updated_at=row[6],
    )


async def get_or_create_chat(
    tx: Tx, channel: str, user_ref: str, *, now: datetime, language: str = "id"
) -> Chat:
    """The chat of a channel user, created on first contact."""
    chat = await get_chat(tx, channel, user_ref)
    if chat is not None:
        return chat
    chat_id = await tx.execute(
        "INSERT INTO chats (channel, user_ref, language, created_at) VALUES (?, ?, ?, ?)",
        (channel, user_ref, language, now.isoformat()),
    )
    return Chat(
        id=chat_id,
        channel=channel,
        user_ref=user_ref,
        worker_id=None,
        facilitator_id=None,
        active_role="public",
        language=language,
        display_name=None,
        phone=None,
        opted_out=False,
        last_inbound_at=None,
        created=True,
    )


async def touch_inbound(tx: Tx, chat_id: int, *, now: datetime, display_name: str | None) -> None:
    """Record the time of the user's last message (the WhatsApp 24 h window starts there)."""
    await tx.execute(
        _TOUCH_INBOUND,
        (now.isoformat(), display_name, chat_id),
    )


async def update_chat(tx: Tx, chat_id: int, **fields: Any) -> None:
    """Change chat columns (language, opted_out, worker_id, active_role, phone...)."""
    allowed = {"language", "opted_out", "worker_id", "facilitator_id", "active_role", "phone"}
    bad = set(fields) - allowed
    if bad:
        raise ValueError(f"not updatable: {sorted(bad)}")
    sets = ", ".join(f"{k} = ?" for k in fields)
    await tx.execute(f"UPDATE chats SET {sets} WHERE id = ?", (*fields.values(), chat_id))


async def mark_replies_sent(tx: Tx, channel: str, user_ref: str, message_id: str) -> None:
    """The channel delivered the replies to ``message_id``."""
    await tx.execute(
        _MARK_SENT,
        (message_id, channel, user_ref),
    )


def mark_replies_sent_sync(conn: sqlite3.Connection, sent: list[tuple[str, str, str]]) -> None:
    """Many (message_id, channel, user_ref) deliveries at once: one round trip (group commit)."""
    conn.executemany(
        _MARK_SENT,
        sent,
    ).close()


async def claim_inbound(
    tx: Tx, channel: str, message_id: str, user_ref: str, *, now: datetime
) -> bool:
    """Record an inbound message id; False when it was already processed (a redelivery)."""
    changed = await tx.execute_rowcount(
        _CLAIM_INBOUND,
        (channel, message_id, user_ref, now.isoformat()),
    )
    return changed > 0


async def record_inbound_payload(
    tx: Tx, channel: str, message_id: str, user_ref: str, payload: str, *, now: datetime
) -> bool:
    """Store a raw inbound message before processing (webhooks); False when already known."""
    changed = await tx.execute_rowcount(
        "INSERT INTO inbound_messages (channel, message_id, user_ref, received_at, status, "
        "payload) VALUES (?, ?, ?, ?, 'received', ?) ON CONFLICT (channel, message_id) DO NOTHING",
        (channel, message_id, user_ref, now.isoformat(), payload),
    )
    return changed > 0


@dataclass(slots=True, kw_only=True)
class MessageStart:
    """What handling one inbound message starts from (read in a single database round trip)."""

    duplicate: bool
    chat: Chat
    state: ConversationState | None
    unsent_replies: list[dict[str, Any]] | None = None


def begin_message_sync(
    conn: sqlite3.Connection,
    channel: str,
    message_id: str,
    user_ref: str,
    now_iso: str,
    display_name: str | None,
) -> MessageStart:
    """Record the inbound id, load (or create) the chat and its state: one hop, in the thread."""
    # Lock the chat row before reading it (PostgreSQL; SQLite's write lock already covers the
    # whole unit): two instances given messages of one user take turns, each reading the state
    # the other committed. A chat created by both at once is created once.
    postgres = getattr(conn, "dialect", "sqlite") == "postgresql"
    row: Any = None
    if postgres:
        # Every round trip counts there: claim, chat and state in one; the touch sent later.
        row = conn.execute(
            _PG_BEGIN_MESSAGE, (channel, message_id, user_ref, now_iso, channel, user_ref)
        ).fetchone()
        fresh_inbound = bool(row[0])
        if row["id"] is None:
            row = None
            if fresh_inbound:  # a first message: no state to read, the touch sent later
                made = conn.execute(_PG_NEW_CHAT, (channel, user_ref, now_iso)).fetchone()
                if made is not None:
                    chat = _chat(made, created=True)
                    write_later(conn, _TOUCH_INBOUND, (now_iso, display_name, chat.id))
                    chat.last_inbound_at = now_iso
                    return MessageStart(duplicate=False, chat=chat, state=None)
        elif fresh_inbound:
            chat = _chat(row)
            write_later(conn, _TOUCH_INBOUND, (now_iso, display_name, chat.id))
            chat.last_inbound_at = now_iso
            return MessageStart(duplicate=False, chat=chat, state=_state(row, 15))
    else:
        cur = conn.execute(
            _CLAIM_INBOUND,
            (channel, message_id, user_ref, now_iso),
        )
        fresh_inbound = cur.rowcount > 0
    lock = " FOR UPDATE" if postgres else ""
    if row is None:
        row = conn.execute(
            f"SELECT {_CHAT_COLS} FROM chats WHERE channel = ? AND user_ref = ?{lock}",
            (channel, user_ref),
        ).fetchone()
    created = row is None
    if created:
        created = (
            conn.execute(
                "INSERT INTO chats (channel, user_ref, language, created_at) VALUES (?, ?, 'id', ?) "
                "ON CONFLICT (channel, user_ref) DO NOTHING",
                (channel, user_ref, now_iso),
            ).rowcount
            > 0
        )
        row = conn.execute(
            f"SELECT {_CHAT_COLS} FROM chats WHERE channel = ? AND user_ref = ?{lock}",
            (channel, user_ref),
        ).fetchone()
    chat = _chat(row, created=created)
    if not fresh_inbound:
        pending = conn.execute(
            "SELECT last_replies FROM conversations WHERE chat_id = ? AND last_message_id = ? "
            "AND replies_sent = 0",
            (chat.id, message_id),
        ).fetchone()
        replies = loads(pending[0]) if pending is not None and pending[0] is not None else None
        return MessageStart(duplicate=True, chat=chat, state=None, unsent_replies=replies)
    conn.execute(
        _TOUCH_INBOUND,
        (now_iso, display_name, chat.id),
    )
    chat.last_inbound_at = now_iso
    srow = conn.execute(
        "SELECT flow, step, data, stack, version, draft, updated_at FROM conversations "
        "WHERE chat_id = ?",
        (chat.id,),
    ).fetchone()
    return MessageStart(duplicate=False, chat=chat, state=_state(srow, 0))


def _state(row: Any, at: int) -> ConversationState | None:
    """The conversation state in ``row[at:at + 7]`` (None when the chat has none yet)."""
    if row is None or row[at] is None:
        return None
    return ConversationState(
        flow=row[at],
        step=row[at + 1],
        data=loads(row[at + 2]),
        stack=loads(row[at + 3]),
        version=row[at + 4],
        draft=loads(row[at + 5]),
        updated_at=row[at + 6],
    )


def finish_message_sync(
    conn: sqlite3.Connection,
    chat_id: int,
    state: ConversationState,
    now_iso: str,
    message_id: str,
    replies: list[dict[str, Any]] | None,
) -> None:
    """Save the state (and the replies to replay if the send never happens): one hop."""
    write_later(
        conn,
        "INSERT INTO conversations (chat_id, flow, step, data, stack, version, draft, updated_at, "
        "last_message_id, last_replies, replies_sent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (chat_id) DO UPDATE SET flow = excluded.flow, step = excluded.step, "
        "data = excluded.data, stack = excluded.stack, version = excluded.version, "
        "draft = excluded.draft, updated_at = excluded.updated_at, "
        "last_message_id = excluded.last_message_id, last_replies = excluded.last_replies, "
        "replies_sent = excluded.replies_sent",
        (
            chat_id,
            state.flow,
            state.step,
            dumps(state.data),
            dumps(state.stack),
            state.version,
            None if state.draft is None else dumps(state.draft),
            now_iso,
            message_id,
            None if replies is None else dumps(replies),
            0 if replies is not None else 1,
        ),
    )


# -- WhatsApp identities (business-scoped user ids and phone numbers; services.whatsapp_identity)

WHATSAPP = "whatsapp"
# A chat merged into another keeps its row (references nobody moved still resolve) under this
# user_ref, which no sender can have: "merged:<kept chat id>:<this chat id>".
MERGED_PREFIX = "merged:"


async def whatsapp_chat_by_phone(tx: Tx, digits: str) -> Chat | None:
    """The WhatsApp chat whose number is ``digits`` (its phone attribute, or its legacy key)."""
    row = await tx.one(
        f"SELECT {_CHAT_COLS} FROM chats WHERE channel = 'whatsapp' "
        "AND (phone = ? OR user_ref = ?) "
        "ORDER BY CASE WHEN phone = ? THEN 0 ELSE 1 END, last_inbound_at IS NULL, "
        "last_inbound_at DESC, id DESC LIMIT 1",
        ("+" + digits, digits, "+" + digits),
    )
    return None if row is None else _chat(row)


async def create_whatsapp_chat(
    tx: Tx,
    user_ref: str,
    *,
    phone: str | None,
    now: datetime,
    parent_user_ref: str | None = None,
    username: str | None = None,
) -> Chat:
    """A new WhatsApp chat (or the one a concurrent message just created under this key)."""
    await tx.execute(
        "INSERT INTO chats (channel, user_ref, phone, parent_user_ref, username, language, "
        "created_at) VALUES ('whatsapp', ?, ?, ?, ?, 'id', ?) "
        "ON CONFLICT (channel, user_ref) DO NOTHING",
        (user_ref, phone, parent_user_ref, username, now.isoformat()),
    )
    chat = await get_chat(tx, WHATSAPP, user_ref)
    if chat is None:  # pragma: no cover - the row was just written
        raise LookupError(user_ref)
    chat.created = True
    return chat


async def set_whatsapp_identity(
    tx: Tx,
    chat_id: int,
    *,
    user_ref: str,
    phone: str | None,
    parent_user_ref: str | None,
    username: str | None,
) -> None:
    """Re-key a WhatsApp chat and set its number; its outbox rows follow the new key.

    The number belongs to one chat only: any other chat holding it loses it. Rows queued for
    the number before the chat had it (no chat id: a notice by roster phone) now belong to it.
    """
    old = await tx.scalar("SELECT user_ref FROM chats WHERE id = ?", (chat_id,))
    if phone is not None:
        await tx.execute(
            "UPDATE chats SET phone = NULL WHERE channel = 'whatsapp' AND phone = ? AND id != ?",
            (phone, chat_id),
        )
    await tx.execute(
        "UPDATE chats SET user_ref = ?, phone = ?, parent_user_ref = ?, username = ? WHERE id = ?",
        (user_ref, phone, parent_user_ref, username, chat_id),
    )
    if old is not None and old != user_ref:
        await tx.execute("UPDATE outbox SET user_ref = ? WHERE chat_id = ?", (user_ref, chat_id))
    if phone is not None:
        await tx.execute(
            "UPDATE outbox SET chat_id = ?, user_ref = ? WHERE channel = 'whatsapp' "
            "AND chat_id IS NULL AND user_ref = ? AND status IN ('queued', 'held')",
            (chat_id, user_ref, phone.lstrip("+")),
        )


async def move_chat_history(
    tx: Tx,
    *,
    keep: Chat,
    drop: Chat,
    worker_id: int | None,
    facilitator_id: int | None,
    active_role: str,
    move_link: bool,
) -> None:
    """Merge ``drop`` into ``keep``: reports, files, leads, tickets, outbox rows, the link.

    ``worker_id``/``facilitator_id``/``active_role`` are what ``keep`` ends with (the caller
    decides whose link wins; ``move_link`` moves ``drop``'s link row, else it is deleted).
    ``keep``'s conversation stays; ``drop``'s moves only when ``keep`` has none. ``drop``
    becomes a tombstone that no sender matches.
    """
    pair = (keep.id, drop.id)
    for sql in (
        "UPDATE claims SET reporter_chat_id = ? WHERE reporter_chat_id = ?",
        "UPDATE claim_documents SET chat_id = ? WHERE chat_id = ?",
        "UPDATE leads SET chat_id = ? WHERE chat_id = ?",
        "UPDATE tickets SET chat_id = ? WHERE chat_id = ?",
        "UPDATE bind_code_failures SET chat_id = ? WHERE chat_id = ?",
    ):
        await tx.execute(sql, pair)
    await tx.execute(
        "UPDATE outbox SET chat_id = ?, user_ref = ? WHERE chat_id = ?",
        (keep.id, keep.user_ref, drop.id),
    )
    if move_link:
        await tx.execute("UPDATE chat_identity SET chat_id = ? WHERE chat_id = ?", pair)
    else:
        await tx.execute("DELETE FROM chat_identity WHERE chat_id = ?", (drop.id,))
    if facilitator_id is not None and facilitator_id == drop.facilitator_id:
        await tx.execute("UPDATE facilitators SET bound_chat_id = ? WHERE bound_chat_id = ?", pair)
    else:
        await tx.execute(
            "UPDATE facilitators SET bound_chat_id = NULL WHERE bound_chat_id = ?", (drop.id,)
        )
    has_state = await tx.scalar("SELECT 1 FROM conversations WHERE chat_id = ?", (keep.id,))
    if has_state is None:
        await tx.execute("UPDATE conversations SET chat_id = ? WHERE chat_id = ?", pair)
    else:
        await tx.execute("DELETE FROM conversations WHERE chat_id = ?", (drop.id,))
    last = max(x for x in (keep.last_inbound_at, drop.last_inbound_at, "") if x is not None)
    await tx.execute(
        "UPDATE chats SET user_ref = ?, phone = NULL, worker_id = NULL, facilitator_id = NULL, "
        "active_role = 'public' WHERE id = ?",
        (f"{MERGED_PREFIX}{keep.id}:{drop.id}", drop.id),
    )
    await tx.execute(
        "UPDATE chats SET worker_id = ?, facilitator_id = ?, active_role = ?, opted_out = ?, "
        "last_inbound_at = ?, phone = COALESCE(phone, ?) WHERE id = ?",
        (
            worker_id,
            facilitator_id,
            active_role,
            int(keep.opted_out or drop.opted_out),
            last or None,
            drop.phone,
            keep.id,
        ),
    )


async def release_facilitator(tx: Tx, chat_id: int) -> bool:
    """Unbind the facilitator bound to this chat (a new holder of the number); True if any."""
    changed = await tx.execute_rowcount(
        "UPDATE facilitators SET bound_chat_id = NULL WHERE bound_chat_id = ?", (chat_id,)
    )
    await tx.execute(
        "UPDATE chats SET facilitator_id = NULL, active_role = CASE WHEN active_role != "
        "'facilitator' THEN active_role WHEN worker_id IS NOT NULL THEN 'worker' ELSE 'public' "
        "END WHERE id = ?",
        (chat_id,),
    )
    return changed > 0
