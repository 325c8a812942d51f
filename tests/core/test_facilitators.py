"""Facilitator bind codes: format, hashing, one-time use, expiry, revocation, scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from random import Random

import pytest

from lingkaran_core import facilitators as fac
from lingkaran_core.errors import DomainError, NotFound
from lingkaran_core.storage import Database
from lingkaran_core.storage.chats import get_chat_by_id, get_or_create_chat

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
SUKORENO = "35.09.27.2002"


async def _chat(db: Database, user: str = "u1") -> int:
    async with db.tx() as tx:
        return (await get_or_create_chat(tx, "telegram", user, now=NOW)).id


async def _create(db: Database, **kw: object) -> tuple[int, str]:
    args: dict[str, object] = {
        "name": "Rina",
        "phone": "+6281234567890",
        "scope_kind": "desa",
        "scope_code": SUKORENO,
        "now": NOW,
    }
    args.update(kw)
    async with db.tx() as tx:
        return await fac.create_facilitator(tx, **args)  # type: ignore[arg-type]


def test_codes_have_eight_unambiguous_characters() -> None:
    rng = Random(7)
    codes = {fac.new_bind_code(rng) for _ in range(500)} | {fac.new_bind_code() for _ in range(50)}
    assert len(codes) == 550
    for code in codes:
        assert len(code) == 8
        assert set(code) <= set(fac.CODE_ALPHABET)
        assert not set(code) & set("01ILO")


def test_the_same_seed_gives_the_same_code() -> None:
    assert fac.new_bind_code(Random(3)) == fac.new_bind_code(Random(3))


def test_hash_ignores_case_spaces_and_dashes() -> None:
    assert fac.hash_code("k7qm-4xpt") == fac.hash_code(" K7QM 4XPT ") == fac.hash_code("K7QM4XPT")
    assert len(fac.hash_code("K7QM4XPT")) == 64


async def test_only_the_hash_of_the_code_is_stored(db: Database) -> None:
    fid, code = await _create(db)
    async with db.read() as r:
        row = await r.one("SELECT * FROM facilitators WHERE id = ?", (fid,))
        assert row is not None
        stored = " ".join(str(v) for v in tuple(row))
    assert code not in stored
    assert row["code_hash"] == fac.hash_code(code)
    assert row["code_expires_at"] == (NOW + timedelta(hours=72)).isoformat()


async def test_redeeming_binds_the_chat_and_the_code_dies(db: Database) -> None:
    fid, code = await _create(db)
    chat_id = await _chat(db)
    async with db.tx() as tx:
        bound = await fac.redeem_code(tx, code=code.lower(), chat_id=chat_id, now=NOW)
    assert bound is not None
    assert bound.id == fid
    assert bound.bound_chat_id == chat_id
    async with db.tx() as tx:
        chat = await get_chat_by_id(tx, chat_id)
        assert chat is not None
        assert chat.facilitator_id == fid
        assert chat.active_role == "facilitator"
        assert await tx.scalar("SELECT code_hash FROM facilitators WHERE id = ?", (fid,)) is None
        other = await get_or_create_chat(tx, "telegram", "u2", now=NOW)
        assert await fac.redeem_code(tx, code=code, chat_id=other.id, now=NOW) is None
        audit = await tx.scalar("SELECT COUNT(*) FROM audit_log WHERE action='facilitator.bind'")
    assert audit == 1


async def test_an_expired_code_does_nothing(db: Database) -> None:
    _, code = await _create(db, ttl=timedelta(hours=1))
    chat_id = await _chat(db)
    async with db.tx() as tx:
        late = NOW + timedelta(hours=1)
        assert await fac.redeem_code(tx, code=code, chat_id=chat_id, now=late) is None
        chat = await get_chat_by_id(tx, chat_id)
    assert chat is not None
    assert chat.active_role == "public"


async def test_a_wrong_or_malformed_code_does_nothing(db: Database) -> None:
    await _create(db, code="K7QM4XPT")
    chat_id = await _chat(db)
    async with db.tx() as tx:
        assert await fac.redeem_code(tx, code="K7QM4XPA", chat_id=chat_id, now=NOW) is None
        assert await fac.redeem_code(tx, code="hello", chat_id=chat_id, now=NOW) is None
        assert await fac.redeem_code(tx, code="", chat_id=chat_id, now=NOW) is None


async def test_a_revoked_facilitator_code_does_nothing_and_the_chat_is_unbound(
    db: Database,
) -> None:
    fid, code = await _create(db)
    chat_id = await _chat(db)
    async with db.tx() as tx:
        assert await fac.redeem_code(tx, code=code, chat_id=chat_id, now=NOW) is not None
        await tx.execute("UPDATE chats SET worker_id = NULL WHERE id = ?", (chat_id,))
    fid2, code2 = await _create(db, name="Agus")
    async with db.tx() as tx:
        revoked = await fac.revoke_facilitator(tx, fid, NOW)
        await fac.revoke_facilitator(tx, fid2, NOW)
        chat = await get_chat_by_id(tx, chat_id)
        other = await get_or_create_chat(tx, "telegram", "u3", now=NOW)
        assert await fac.redeem_code(tx, code=code2, chat_id=other.id, now=NOW) is None
    assert revoked.revoked
    assert chat is not None
    assert chat.facilitator_id is None
    assert chat.active_role == "public"


async def test_a_new_code_replaces_the_old_one_and_unbinds(db: Database) -> None:
    fid, old = await _create(db)
    chat_id = await _chat(db)
    async with db.tx() as tx:
        await fac.redeem_code(tx, code=old, chat_id=chat_id, now=NOW)
        fresh, expires = await fac.new_code(tx, fid, NOW)
        assert expires == NOW + fac.DEFAULT_CODE_TTL
        assert await fac.redeem_code(tx, code=old, chat_id=chat_id, now=NOW) is None
        chat = await get_chat_by_id(tx, chat_id)
        assert chat is not None
        assert chat.active_role == "public"
        assert await fac.redeem_code(tx, code=fresh, chat_id=chat_id, now=NOW) is not None


async def test_new_code_for_unknown_or_revoked_facilitator_fails(db: Database) -> None:
    fid, _ = await _create(db)
    async with db.tx() as tx:
        with pytest.raises(NotFound):
            await fac.new_code(tx, 999, NOW)
        await fac.revoke_facilitator(tx, fid, NOW)
        with pytest.raises(DomainError):
            await fac.new_code(tx, fid, NOW)


async def test_list_shows_code_state(db: Database) -> None:
    await _create(db, name="Rina")
    await _create(db, name="Agus", scope_kind="kecamatan", scope_code="35.09.27")
    async with db.read() as r:
        listing = await fac.list_facilitators(r)
    assert [x.facilitator.name for x in listing] == ["Rina", "Agus"]
    assert all(x.code_pending for x in listing)


def test_scope_covers_the_desa_or_every_desa_of_the_kecamatan() -> None:
    desa = fac.Facilitator(
        id=1,
        name="R",
        phone=None,
        scope_kind="desa",
        scope_code=SUKORENO,
        bound_chat_id=None,
        revoked=False,
    )
    kec = fac.Facilitator(
        id=2,
        name="A",
        phone=None,
        scope_kind="kecamatan",
        scope_code="35.09.27",
        bound_chat_id=None,
        revoked=False,
    )
    assert fac.in_scope(desa, SUKORENO)
    assert not fac.in_scope(desa, "35.09.27.2001")
    assert fac.in_scope(kec, "35.09.27.2001")
    assert not fac.in_scope(kec, "35.09.05.2001")
    assert not fac.in_scope(kec, "35.09.2.2001")
