"""The link service: capped back-off, whose failures lock what, expiry, abuse limits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import T0

from lingkaran_core import rules, services
from lingkaran_core.claims import ClaimType
from lingkaran_core.errors import NotFound, RateLimited
from lingkaran_core.services import link
from lingkaran_core.storage import Database, identity_repo

NIK = "3509274904820006"  # born 9-04-1982 (woman: day + 40)
PHONE = "+6281333300006"


async def seed(db: Database) -> int:
    async with db.tx() as tx:
        wid = await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, phone, kpj, "
            "created_at, updated_at) VALUES (?, 'Suparmi', '1982-04-09', 'P', '35.09.27.2002', "
            "'buruh_tani_tembakau', ?, '99000000006', 'x', 'x')",
            (NIK, PHONE),
        )
        for i in range(1, 5):
            await tx.execute(
                "INSERT INTO chats (channel, user_ref, created_at) VALUES ('telegram', ?, 'x')",
                (f"c{i}",),
            )
    return wid


def test_the_date_of_birth_is_not_a_factor() -> None:
    assert "birth_date" not in rules.LINK_FACTORS_RULE.value
    assert rules.LINK_FACTORS_RULE.confidence is rules.Confidence.POLICY
    assert rules.LINK_INACTIVITY_DAYS == 180


async def test_back_off_doubles_and_is_capped_at_a_day(db: Database) -> None:
    await seed(db)
    now = T0
    lengths = []
    for _ in range(8):
        until = None
        for _ in range(rules.LINK_LOCKOUT_RULE.value[0]):
            async with db.tx() as tx:  # the failure is counted: callers catch inside the tx
                try:
                    await services.link_account(
                        tx,
                        chat_id=1,
                        nik=NIK,
                        birth_date=date(1980, 1, 1),
                        now=now,
                        channel="telegram",
                        user_ref="c1",
                    )
                except RateLimited as exc:
                    until = exc.params["until"]
                except NotFound:
                    pass
        assert until is not None
        from datetime import datetime

        end = datetime.fromisoformat(str(until))
        lengths.append(end - now)
        now = end + timedelta(minutes=1)
    minutes = [int(x.total_seconds() // 60) for x in lengths]
    assert minutes[:6] == [30, 60, 120, 240, 480, 960]
    assert max(minutes) <= 24 * 60


async def test_a_nik_locked_by_strangers_still_links_the_owners_phone(db: Database) -> None:
    await seed(db)
    for chat in (1, 2, 3):  # strangers' KPJ guesses lock the NIK's knowledge factors
        async with db.tx() as tx:
            await link.link_account(
                tx,
                chat_id=chat,
                nik=NIK,
                birth_date=date(1982, 4, 9),
                now=T0,
                channel="telegram",
                user_ref=f"c{chat}",
            )
        for guess in ("11111111111", "22222222222"):
            async with db.tx() as tx:
                with pytest.raises((NotFound, RateLimited)):
                    await link.verify_by_fact(
                        tx,
                        chat_id=chat,
                        kind="kpj",
                        value=guess,
                        now=T0,
                        channel="telegram",
                        user_ref=f"c{chat}",
                    )
    async with db.tx() as tx:
        await link.link_account(
            tx,
            chat_id=4,
            nik=NIK,
            birth_date=date(1982, 4, 9),
            now=T0,
            channel="telegram",
            user_ref="c4",
        )
    async with db.tx() as tx:
        with pytest.raises(RateLimited):  # the right KPJ: the NIK's lock-out holds
            await link.verify_by_fact(
                tx, chat_id=4, kind="kpj", value="99000000006", now=T0, channel="telegram"
            )
    async with db.tx() as tx:  # the proven phone is not stopped by it
        worker = await link.verify_by_phone(
            tx, chat_id=4, phone="081333300006", now=T0, channel="telegram", user_ref="c4"
        )
        assert worker.nik == NIK
        assert await tx.scalar("SELECT worker_id FROM chats WHERE id = 4") == worker.id


def test_only_a_whatsapp_wa_id_is_a_proven_phone() -> None:
    assert link.channel_phone("whatsapp", "6281333300006") == PHONE
    assert link.channel_phone("whatsapp", "ID.1234567890abcdef") is None  # a BSUID
    assert link.channel_phone("telegram", "6281333300006") is None
    assert link.same_phone("0813-3330-0006", PHONE)
    assert not link.same_phone(None, PHONE)


async def test_a_link_idle_past_the_period_expires(db: Database) -> None:
    wid = await seed(db)
    async with db.tx() as tx:
        await identity_repo.save_verified(tx, 1, wid, factor="kpj", now=T0)
    async with db.tx() as tx:
        later = T0 + timedelta(days=179)
        assert await link.refresh_link(tx, chat_id=1, worker_id=wid, now=later)
    async with db.tx() as tx:
        much_later = later + timedelta(days=181)
        assert not await link.refresh_link(tx, chat_id=1, worker_id=wid, now=much_later)
        assert await tx.scalar("SELECT worker_id FROM chats WHERE id = 1") is None
        # Reports filed before the expiry no longer belong to this chat's user.
        assert not await link.filed_by_this_owner(tx, chat_id=1, reported_at=later.isoformat())
        assert await link.filed_by_this_owner(
            tx, chat_id=1, reported_at=(much_later + timedelta(seconds=1)).isoformat()
        )


async def test_claims_per_nik_and_files_per_chat_are_limited(db: Database) -> None:
    await seed(db)
    for i in range(3):
        async with db.tx() as tx:
            await services.submit_claim(
                tx,
                services.NewClaim(
                    claim_type=ClaimType.JKM,
                    event_date=date(2026, 11, 20),
                    reporter_chat_id=i + 1,
                    subject_nik=NIK,
                ),
                now=T0,
                idempotency_key=f"k{i}",
                channel="telegram",
            )
    with pytest.raises(RateLimited) as err:
        async with db.tx() as tx:
            await services.submit_claim(
                tx,
                services.NewClaim(
                    claim_type=ClaimType.JKM,
                    event_date=date(2026, 11, 20),
                    reporter_chat_id=4,
                    subject_nik=NIK,
                ),
                now=T0,
                idempotency_key="k4",
                channel="telegram",
            )
    assert err.value.code == "limit.claims_nik"
    async with db.tx() as tx:
        claim_id = int(await tx.scalar("SELECT id FROM claims LIMIT 1"))
        await services.check_upload_limit(tx, chat_id=1, claim_id=claim_id, size=10, now=T0)
        with pytest.raises(RateLimited) as big:
            await services.check_upload_limit(
                tx, chat_id=1, claim_id=claim_id, size=75 * 1024 * 1024, now=T0
            )
    assert big.value.code == "limit.upload_bytes"
