"""Several verified links per chat (issue 22): migration 014, the limit, the household rule for
the KK number, unlinking and what it leaves behind, and where claim news goes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from conftest import T0

from lingkaran_core import rules, services
from lingkaran_core.claims import Actor, ClaimStatus, ClaimType
from lingkaran_core.errors import Conflict, NotAuthorised, NotFound
from lingkaran_core.storage import Database, identity_repo

KALISAT = "35.09.27.2002"


async def seed(db: Database, *, workers: int = 3, kk: str | None = "3509270101090001") -> None:
    async with db.tx() as tx:
        for i in range(1, workers + 1):
            await tx.execute(
                "INSERT INTO workers (id, nik, name, birth_date, sex, desa_code, sector, kk, "
                "created_at, updated_at) VALUES (?, ?, ?, '1980-01-01', ?, ?, "
                "'buruh_tani_tembakau', ?, 'x', 'x')",
                (i, f"350927010180{i:04d}", f"W{i}", "LP"[i % 2], KALISAT, kk),
            )
        for i in range(1, 4):
            await tx.execute(
                "INSERT INTO chats (id, channel, user_ref, created_at) "
                "VALUES (?, 'telegram', ?, 'x')",
                (i, f"c{i}"),
            )


async def link(db: Database, chat: int, worker: int, factor: str = "kpj") -> None:
    async with db.tx() as tx:
        await identity_repo.save_verified(tx, chat, worker, factor=factor, now=T0)


def test_the_limit_is_a_policy_of_six() -> None:
    assert rules.MAX_LINKS_PER_CHAT == 6
    assert rules.MAX_LINKS_PER_CHAT_RULE.confidence is rules.Confidence.POLICY


async def test_migration_014_moves_every_existing_link_with_its_proof(db_path: Path) -> None:
    db = await Database.open(db_path)
    await seed(db)
    async with db.tx() as tx:
        # The schema as it was before 014: links live in chats.worker_id (+ chat_identity).
        await tx.execute("DROP TABLE chat_links")
        await tx.execute("DELETE FROM schema_migrations WHERE name LIKE '014%'")
        await tx.execute("UPDATE chats SET worker_id = 1 WHERE id = 1")
        await tx.execute("UPDATE chats SET worker_id = 2 WHERE id = 2")
        await tx.execute(
            "INSERT INTO chat_identity (chat_id, worker_id, matched_at, verified_at, factor, "
            "last_active_at) VALUES (1, 1, 'a', '2026-01-02T00:00:00+00:00', 'kk', 'a'), "
            "(3, 3, 'a', NULL, NULL, 'a')"
        )
    await db.close()
    db = await Database.open(db_path)  # 014 runs again
    try:
        async with db.read() as r:
            rows = await r.all("SELECT chat_id, worker_id, factor FROM chat_links ORDER BY chat_id")
        # Chat 1 keeps its factor, chat 2 (linked by an older release) is "legacy", chat 3's
        # pending attempt is no link.
        assert [tuple(x) for x in rows] == [(1, 1, "kk"), (2, 2, "legacy")]
    finally:
        await db.close()


async def test_a_second_link_adds_and_the_first_stays_the_chats_own(db: Database) -> None:
    await seed(db)
    await link(db, 1, 1)
    await link(db, 1, 2)
    async with db.read() as r:
        assert await services.linked_worker_ids(r, 1) == [1, 2]
        assert await r.scalar("SELECT worker_id FROM chats WHERE id = 1") == 1
        assert await services.chats_of_worker(r, 2) == [1]
        assert (await services.linked_worker(r, chat_id=1, worker_id=2)).name == "W2"
        with pytest.raises(NotAuthorised):
            await services.linked_worker(r, chat_id=2, worker_id=2)


async def test_the_limit_refuses_a_new_worker_but_not_one_linked_already(db: Database) -> None:
    await seed(db)
    await link(db, 1, 1)
    await link(db, 1, 2)
    async with db.read() as r:
        await services.check_room(r, chat_id=1, worker_id=2, max_links=2)
        with pytest.raises(Conflict) as refused:
            await services.check_room(r, chat_id=1, worker_id=3, max_links=2)
    assert refused.value.params == {"max": 2}
    async with db.tx() as tx:
        await identity_repo.save_pending(tx, 1, 3, now=T0)
        with pytest.raises(Conflict):
            await services.verify_by_fact(
                tx, chat_id=1, kind="kk", value="3509270101090001", now=T0, channel="terminal",
                max_links=2,
            )  # fmt: skip


async def test_the_kk_number_counts_only_within_the_household(db: Database) -> None:
    await seed(db)
    async with db.tx() as tx:
        await tx.execute("UPDATE workers SET kk = '3509270101090099' WHERE id = 3")
    await link(db, 1, 1)
    async with db.tx() as tx:
        w2 = await services.linked_worker(tx, chat_id=1, worker_id=1)
        assert await services.kk_counts_for(tx, chat_id=1, worker=w2)
        await identity_repo.save_pending(tx, 1, 3, now=T0)
        with pytest.raises(NotAuthorised):
            await services.verify_by_fact(
                tx, chat_id=1, kind="kk", value="3509270101090099", now=T0, channel="terminal"
            )
        # Nothing was counted as a wrong guess: the KK was never compared.
        assert await tx.scalar("SELECT COUNT(*) FROM link_attempts") == 0
        await identity_repo.save_pending(tx, 1, 2, now=T0)
        found = await services.verify_by_fact(
            tx, chat_id=1, kind="kk", value="3509270101090001", now=T0, channel="terminal"
        )
    assert found.id == 2
    async with db.read() as r:
        assert await services.linked_worker_ids(r, 1) == [1, 2]


async def test_unlinking_the_own_link_hands_the_chat_to_the_next_one(db: Database) -> None:
    await seed(db)
    await link(db, 1, 1)
    await link(db, 1, 2)
    async with db.tx() as tx:
        removed = await services.unlink(
            tx, chat_id=1, worker_id=1, now=T0, actor_kind="chat", actor_id=1
        )
        assert removed == [1]
        assert await services.linked_worker_ids(tx, 1) == [2]
        assert await tx.scalar("SELECT worker_id FROM chats WHERE id = 1") == 2
        with pytest.raises(NotFound):
            await services.unlink(tx, chat_id=1, worker_id=1, now=T0, actor_kind="chat", actor_id=1)


async def test_unlinking_everyone_frees_the_number(db: Database) -> None:
    await seed(db)
    await link(db, 1, 1)
    await link(db, 1, 2)
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO outbox (chat_id, channel, user_ref, msg_key, class, not_before, "
            "created_at) VALUES (1, 'telegram', 'c1', 'reminder.arrears', 'reminder', 'x', 'x'), "
            "(1, 'telegram', 'c1', 'ticket.reply', 'transactional', 'x', 'x')"
        )
        ticket = await services.open_ticket(tx, chat_id=1, body="halo", now=T0)
        removed = await services.unlink(
            tx, chat_id=1, worker_id=None, now=T0, actor_kind="admin", actor_id="ani"
        )
        assert removed == [1, 2]
        assert await services.linked_worker_ids(tx, 1) == []
        assert await tx.scalar("SELECT active_role FROM chats WHERE id = 1") == "public"
        assert await tx.scalar("SELECT status FROM tickets WHERE id = ?", (ticket,)) == "closed"
        statuses = await tx.all("SELECT class, status FROM outbox WHERE chat_id = 1 ORDER BY id")
        assert [tuple(s) for s in statuses] == [
            ("reminder", "dropped"),
            ("transactional", "queued"),
        ]
        actions = await tx.all("SELECT action, actor_kind FROM audit_log ORDER BY id")
        assert [tuple(a) for a in actions][-3:] == [
            ("link.removed", "admin"),
            ("link.removed", "admin"),
            ("link.released", "admin"),
        ]
        assert await identity_repo.reset_at(tx, 1) is not None


async def test_claim_news_reaches_every_linked_chat_once_by_name(db: Database) -> None:
    await seed(db)
    await link(db, 1, 2)  # the household's phone: W2 is its own link
    await link(db, 2, 1)
    await link(db, 2, 2)  # another household phone, where W2 is not the own link
    async with db.tx() as tx:
        claim = await services.submit_claim(
            tx,
            services.NewClaim(
                claim_type=ClaimType.JKK,
                event_date=date(2026, 11, 24),
                reporter_chat_id=3,
                worker_id=2,
                subject_nik="3509270101800002",
            ),
            now=T0,
            idempotency_key="k1",
            channel="terminal",
        )
        await services.transition_claim(
            tx, claim.ref, ClaimStatus.IN_REVIEW, actor=Actor.ADMIN, now=T0
        )
        rows = await tx.all(
            "SELECT chat_id, class, params FROM outbox WHERE msg_key = 'claim.status_changed' "
            "ORDER BY chat_id"
        )
    assert [(r["chat_id"], r["class"]) for r in rows] == [
        (1, "transactional"),  # W2's own phone: claim news, whatever the opt-out
        (2, "reminder"),  # someone else's phone: respects its opt-out
        (3, "transactional"),  # the reporter
    ]
    assert all(json.loads(r["params"])["name"] == "W2" for r in rows)
