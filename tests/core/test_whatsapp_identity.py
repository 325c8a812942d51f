"""services.whatsapp_identity: BSUIDs, numbers, re-keying, merging, and reported changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lingkaran_core import services
from lingkaran_core.services import whatsapp_identity as wi
from lingkaran_core.storage import Database, identity_repo
from lingkaran_core.storage import chats as chat_store

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
B = "ID.1502576394655843"
P = "6281234567890"


@pytest.mark.parametrize(
    ("ref", "user_id", "digits"),
    [
        ("ID.1502576394655843", True, None),
        ("US.ENT.11815799212886844830", True, None),
        ("BR.abcDEF123", True, None),
        ("6281234567890", False, "6281234567890"),
        ("+6281234567890", False, "6281234567890"),
        ("foo_bar", False, None),
        ("id.123", False, None),
        ("", False, None),
    ],
)
def test_user_ids_and_numbers_are_told_apart(ref: str, user_id: bool, digits: str | None) -> None:
    assert wi.is_user_id(ref) is user_id
    assert wi.phone_digits(ref) == digits


async def test_a_number_keyed_chat_gets_its_bsuid_and_a_second_chat_merges(db: Database) -> None:
    async with db.tx() as tx:
        legacy = (await wi.resolve_sender(tx, wi.Sender(phone=P), now=NOW)).chat  # type: ignore[union-attr]
        only_id = (await wi.resolve_sender(tx, wi.Sender(user_id=B), now=NOW)).chat  # type: ignore[union-attr]
        assert legacy.id != only_id.id
        await tx.execute(
            "INSERT INTO tickets (chat_id, topic, status, created_at, updated_at) "
            "VALUES (?, 'question', 'open', ?, ?)",
            (legacy.id, NOW.isoformat(), NOW.isoformat()),
        )
        await tx.execute(
            "INSERT INTO leads (desa_code, chat_id, phone, decision, created_at, updated_at) "
            "VALUES ('35.09.27.2002', ?, ?, 'eligible', ?, ?)",
            (legacy.id, "+" + P, NOW.isoformat(), NOW.isoformat()),
        )
        both = await wi.resolve_sender(tx, wi.Sender(user_id=B, phone=P), now=NOW)
        assert both is not None
        assert (both.chat.id, both.event, both.chat.phone, both.address) == (
            only_id.id,
            wi.MERGED,
            "+" + P,
            P,
        )
        assert await tx.scalar("SELECT chat_id FROM tickets") == only_id.id
        assert await tx.scalar("SELECT chat_id FROM leads") == only_id.id
        tomb = await chat_store.get_chat_by_id(tx, legacy.id)
        assert tomb is not None
        assert tomb.user_ref == f"merged:{only_id.id}:{legacy.id}"
        assert tomb.phone is None
        # Again: nothing left to do.
        again = await wi.resolve_sender(tx, wi.Sender(user_id=B, phone=P), now=NOW)
        assert again is not None
        assert (again.chat.id, again.event) == (only_id.id, None)


async def test_without_create_nothing_is_made_for_a_stranger(db: Database) -> None:
    async with db.tx() as tx:
        assert (
            await wi.resolve_sender(tx, wi.Sender(user_id=B, phone=P), now=NOW, create=False)
            is None
        )
        assert await tx.scalar("SELECT COUNT(*) FROM chats") == 0


async def test_a_reported_change_moves_the_chat_once_and_drops_the_link(db: Database) -> None:
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (id, nik, name, birth_date, sex, desa_code, sector, created_at, "
            "updated_at) VALUES (1, '3509271505780001', 'Sutrisno', '1978-05-15', 'L', "
            "'35.09.27.2002', 'buruh_tani_tembakau', 'x', 'x')"
        )
        chat = (await wi.resolve_sender(tx, wi.Sender(user_id=B, phone=P), now=NOW)).chat  # type: ignore[union-attr]
        await identity_repo.save_verified(tx, chat.id, 1, factor="channel_phone", now=NOW)
        moved = await wi.change_user_id(
            tx,
            previous_user_id=B,
            previous_phone=P,
            user_id="ID.3318877665544332",
            phone="6281299998888",
            reason="user_id_update",
            now=NOW,
        )
        assert moved == chat.id
        again = await wi.change_user_id(
            tx,
            previous_user_id=B,
            previous_phone=P,
            user_id="ID.3318877665544332",
            phone="6281299998888",
            reason="user_id_update",
            now=NOW,
        )
        assert again is None
        now_chat = await chat_store.get_chat_by_id(tx, chat.id)
        assert now_chat is not None
        assert (now_chat.user_ref, now_chat.phone, now_chat.worker_id) == (
            "ID.3318877665544332",
            "+6281299998888",
            None,
        )
        assert await services.pending_worker(tx, chat.id, now=NOW) is None
        assert await tx.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'link.expired'") == 1
