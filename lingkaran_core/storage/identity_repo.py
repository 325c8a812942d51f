"""Chat ↔ worker links with their proof (pending or verified), and the counts abuse limits read."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from lingkaran_core.storage.db import Tx

_COLS = (
    "chat_id, worker_id, matched_at, verified_at, factor, last_active_at, desk_code, "
    "desk_code_until"
)


async def get(tx: Tx, chat_id: int) -> Any | None:
    """The link row of a chat (pending or verified), if any."""
    return await tx.one(f"SELECT {_COLS} FROM chat_identity WHERE chat_id = ?", (chat_id,))


async def by_desk_code(tx: Tx, code: str) -> Any | None:
    """The pending link that shows this facilitator code."""
    return await tx.one(
        f"SELECT {_COLS} FROM chat_identity WHERE desk_code = ? AND verified_at IS NULL", (code,)
    )


async def save_pending(tx: Tx, chat_id: int, worker_id: int, *, now: datetime) -> None:
    """NIK + date of birth matched: a pending link, nothing verified (replaces an old row)."""
    stamp = now.isoformat()
    await tx.execute(
        "INSERT INTO chat_identity (chat_id, worker_id, matched_at, last_active_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET worker_id = excluded.worker_id, "
        "matched_at = excluded.matched_at, verified_at = NULL, factor = NULL, "
        "last_active_at = excluded.last_active_at, desk_code = NULL, desk_code_until = NULL",
        (chat_id, worker_id, stamp, stamp),
    )


async def save_verified(
    tx: Tx,
    chat_id: int,
    worker_id: int,
    *,
    factor: str,
    now: datetime,
    facilitator_id: int | None = None,
) -> None:
    """A factor succeeded: the chat gains a verified link to the worker (issue 22: one more, not
    instead); the chat's first link stays its own (``chats.worker_id``)."""
    stamp = now.isoformat()
    await tx.execute(
        "INSERT INTO chat_identity (chat_id, worker_id, matched_at, verified_at, factor, "
        "last_active_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET "
        "worker_id = excluded.worker_id, verified_at = excluded.verified_at, "
        "factor = excluded.factor, last_active_at = excluded.last_active_at, desk_code = NULL, "
        "desk_code_until = NULL",
        (chat_id, worker_id, stamp, stamp, factor, stamp),
    )
    await tx.execute(
        "INSERT INTO chat_links (chat_id, worker_id, factor, facilitator_id, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, worker_id) DO NOTHING",
        (chat_id, worker_id, factor, facilitator_id, stamp),
    )
    await tx.execute(
        "UPDATE chats SET worker_id = COALESCE(worker_id, ?), active_role = CASE WHEN "
        "active_role = 'facilitator' THEN 'facilitator' ELSE 'worker' END WHERE id = ?",
        (worker_id, chat_id),
    )


async def touch(tx: Tx, chat_id: int, *, now: datetime) -> None:
    """The chat was active now (the inactivity clock restarts)."""
    await tx.execute(
        "UPDATE chat_identity SET last_active_at = ? WHERE chat_id = ?", (now.isoformat(), chat_id)
    )


async def forget(tx: Tx, chat_id: int) -> None:
    """Drop a chat's link attempt and every verified link, and unlink the chat."""
    await tx.execute("DELETE FROM chat_identity WHERE chat_id = ?", (chat_id,))
    await tx.execute("DELETE FROM chat_links WHERE chat_id = ?", (chat_id,))
    await tx.execute(
        "UPDATE chats SET worker_id = NULL, active_role = CASE WHEN active_role = 'worker' "
        "THEN 'public' ELSE active_role END WHERE id = ?",
        (chat_id,),
    )


# -- several links per chat (issue 22) ----------------------------------------------------------


async def linked_worker_ids(tx: Tx, chat_id: int) -> list[int]:
    """The workers a chat is verifiably linked to: its own (first) link first, then by age.

    ``chats.worker_id`` counts even without a ``chat_links`` row (linked by an older release
    or by hand): it is the chat's own link either way.
    """
    rows = await tx.all(  # one round trip: the own link, then the others by age
        "SELECT worker_id, 0 AS k, 0 AS seq FROM chats WHERE id = ? AND worker_id IS NOT NULL "
        "UNION ALL SELECT worker_id, 1 AS k, id AS seq FROM chat_links WHERE chat_id = ? "
        "ORDER BY k, seq",
        (chat_id, chat_id),
    )
    ids: list[int] = []
    for r in rows:
        if int(r["worker_id"]) not in ids:
            ids.append(int(r["worker_id"]))
    return ids


async def link_rows(tx: Tx, chat_id: int) -> list[Any]:
    """``worker_id, factor, facilitator_id, created_at`` of a chat's links, oldest first."""
    return await tx.all(
        "SELECT worker_id, factor, facilitator_id, created_at FROM chat_links WHERE chat_id = ? "
        "ORDER BY id",
        (chat_id,),
    )


async def linked_chat_ids(tx: Tx, worker_id: int) -> list[int]:
    """Every chat verifiably linked to a worker (any household's phone), by id."""
    rows = await tx.all(
        "SELECT chat_id AS id FROM chat_links WHERE worker_id = ? "
        "UNION SELECT id FROM chats WHERE worker_id = ?",
        (worker_id, worker_id),
    )
    return sorted(int(r["id"]) for r in rows)


async def remove_link(tx: Tx, chat_id: int, worker_id: int) -> bool:
    """Drop one verified link; the chat's next link becomes its own. False if there was none."""
    own = await tx.scalar("SELECT worker_id FROM chats WHERE id = ?", (chat_id,))
    removed = await tx.execute_rowcount(
        "DELETE FROM chat_links WHERE chat_id = ? AND worker_id = ?", (chat_id, worker_id)
    )
    if own is None or int(own) != worker_id:
        return removed > 0
    successor = await tx.scalar(
        "SELECT worker_id FROM chat_links WHERE chat_id = ? ORDER BY id LIMIT 1", (chat_id,)
    )
    if successor is None:
        await forget(tx, chat_id)
        return True
    await tx.execute("UPDATE chats SET worker_id = ? WHERE id = ?", (successor, chat_id))
    # The chat's inactivity clock and codes stay; a verified attempt row now names the new own.
    await tx.execute(
        "UPDATE chat_identity SET worker_id = ? WHERE chat_id = ? AND worker_id = ? "
        "AND verified_at IS NOT NULL",
        (successor, chat_id, worker_id),
    )
    return True


async def household_keys(tx: Tx, worker_ids: list[int]) -> tuple[set[str], set[str]]:
    """(KK numbers, roster phones) of some workers: what makes a household on the roster."""
    kks: set[str] = set()
    phones: set[str] = set()
    for worker_id in worker_ids:  # a chat holds a handful of links
        row = await tx.one("SELECT kk, phone FROM workers WHERE id = ?", (worker_id,))
        if row is not None and row["kk"]:
            kks.add(str(row["kk"]))
        if row is not None and row["phone"]:
            phones.add(str(row["phone"]))
    return kks, phones


def _reset_key(chat_id: int) -> str:
    return f"reset:{chat_id}"


async def mark_reset(tx: Tx, chat_id: int, *, now: datetime) -> None:
    """The chat's link expired now: what it filed before belongs to the number's last owner.

    Kept as a keyed row of ``link_attempts`` (indexed by key, no schema change after 009).
    """
    await tx.execute(
        "INSERT INTO link_attempts (key, failures, lockouts, locked_until, updated_at) "
        "VALUES (?, 0, 0, NULL, ?) ON CONFLICT (key) DO UPDATE SET updated_at = excluded.updated_at",
        (_reset_key(chat_id), now.isoformat()),
    )


async def reset_at(tx: Tx, chat_id: int) -> str | None:
    """When the chat's link last expired (ISO text), if ever."""
    found = await tx.scalar(
        "SELECT updated_at FROM link_attempts WHERE key = ?", (_reset_key(chat_id),)
    )
    return None if found is None else str(found)


async def set_desk_code(tx: Tx, chat_id: int, code: str, *, until: datetime) -> None:
    """The code a worker shows the facilitator (unique among live codes)."""
    await tx.execute(
        "UPDATE chat_identity SET desk_code = NULL, desk_code_until = NULL "
        "WHERE desk_code = ? AND desk_code_until < ?",
        (code, until.isoformat()),
    )
    await tx.execute(
        "UPDATE chat_identity SET desk_code = ?, desk_code_until = ? WHERE chat_id = ?",
        (code, until.isoformat(), chat_id),
    )


async def desk_code_taken(tx: Tx, code: str, *, now: datetime) -> bool:
    """Whether a live code already uses these digits."""
    found = await tx.scalar(
        "SELECT 1 FROM chat_identity WHERE desk_code = ? AND desk_code_until >= ?",
        (code, now.isoformat()),
    )
    return found is not None


async def worker_kk(tx: Tx, worker_id: int) -> str | None:
    """The KK number on the roster, if any."""
    found = await tx.scalar("SELECT kk FROM workers WHERE id = ?", (worker_id,))
    return None if not found else str(found)


async def set_worker_kk(tx: Tx, nik: str, kk: str | None) -> None:
    """Store a worker's KK number (the roster importer's column ``kk``)."""
    await tx.execute("UPDATE workers SET kk = ? WHERE nik = ?", (kk, nik))


async def owner_chat_ids(tx: Tx, worker_id: int, phone: str | None) -> list[int]:
    """Chats that surely belong to the worker: verified links and the roster phone's WhatsApp."""
    ids = set(await linked_chat_ids(tx, worker_id))
    if phone:
        digits = phone.lstrip("+")
        found = await tx.all(
            "SELECT id FROM chats WHERE channel = 'whatsapp' AND (user_ref = ? OR phone = ?)",
            (digits, "+" + digits),
        )
        ids.update(int(r["id"]) for r in found)
    return sorted(ids)


# -- counts for the abuse limits ----------------------------------------------------------------


async def claims_by_chat_since(tx: Tx, chat_id: int, since: datetime) -> int:
    """Claims a chat filed since an instant."""
    return int(
        await tx.scalar(
            "SELECT COUNT(*) FROM claims WHERE reporter_chat_id = ? AND created_at >= ?",
            (chat_id, since.isoformat()),
        )
        or 0
    )


async def claims_by_nik_since(tx: Tx, nik: str, since: datetime) -> int:
    """Claims about one NIK filed since an instant (any chat)."""
    return int(
        await tx.scalar(
            "SELECT COUNT(*) FROM claims WHERE subject_nik = ? AND created_at >= ?",
            (nik, since.isoformat()),
        )
        or 0
    )


async def jkk_alerts_by_chat_since(tx: Tx, chat_id: int, since: datetime) -> int:
    """JKK reports a chat filed since an instant (for batching the OPD's alert)."""
    return int(
        await tx.scalar(
            "SELECT COUNT(*) FROM claims WHERE reporter_chat_id = ? AND type = 'JKK' "
            "AND created_at >= ?",
            (chat_id, since.isoformat()),
        )
        or 0
    )


async def tickets_by_chat_since(tx: Tx, chat_id: int, since: datetime) -> int:
    """Tickets a chat opened since an instant."""
    return int(
        await tx.scalar(
            "SELECT COUNT(*) FROM tickets WHERE chat_id = ? AND created_at >= ?",
            (chat_id, since.isoformat()),
        )
        or 0
    )


async def uploads_by_chat_since(tx: Tx, chat_id: int, since: datetime) -> tuple[int, int]:
    """(count, bytes) of the files a chat sent since an instant."""
    row = await tx.one(
        "SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS total FROM claim_documents "
        "WHERE chat_id = ? AND received_at >= ?",
        (chat_id, since.isoformat()),
    )
    return (0, 0) if row is None else (int(row["n"]), int(row["total"]))


async def uploads_for_claim_since(tx: Tx, claim_id: int, since: datetime) -> int:
    """Files a claim received since an instant (any chat: the per-record limit)."""
    return int(
        await tx.scalar(
            "SELECT COUNT(*) FROM claim_documents WHERE claim_id = ? AND received_at >= ?",
            (claim_id, since.isoformat()),
        )
        or 0
    )


async def set_phone_code(
    tx: Tx, chat_id: int, code_hash: str, *, until: datetime, sent: list[str]
) -> None:
    """Store a new phone code (hash), its expiry and the recent send times."""
    await tx.execute(
        "UPDATE chat_identity SET phone_code = ?, phone_code_until = ?, phone_code_tries = 0, "
        "phone_codes_sent = ? WHERE chat_id = ?",
        (code_hash, until.isoformat(), json.dumps(sent), chat_id),
    )


async def phone_code(tx: Tx, chat_id: int) -> Any | None:
    """(phone_code, phone_code_until, phone_code_tries, phone_codes_sent) of a chat."""
    return await tx.one(
        "SELECT phone_code, phone_code_until, phone_code_tries, phone_codes_sent "
        "FROM chat_identity WHERE chat_id = ?",
        (chat_id,),
    )


async def count_phone_code_try(tx: Tx, chat_id: int) -> None:
    """One more wrong code."""
    await tx.execute(
        "UPDATE chat_identity SET phone_code_tries = phone_code_tries + 1 WHERE chat_id = ?",
        (chat_id,),
    )


async def clear_phone_code(tx: Tx, chat_id: int) -> None:
    """The code was used or exhausted."""
    await tx.execute(
        "UPDATE chat_identity SET phone_code = NULL, phone_code_until = NULL WHERE chat_id = ?",
        (chat_id,),
    )
