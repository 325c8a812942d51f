"""Who a broadcast by desa, kecamatan or sector reaches, with household phones (issue 22).

The rule: a chat gets one message per broadcast when any worker linked to it (its own link or a
household link in ``chat_links``) is a verified, living worker who matches the audience by
himself (sector and place of the same person); an opted-out chat never does. A household phone
whose three people all live in the desa still gets one message, and a phone linked only through
a household link to someone in the desa is not missed.
"""

from __future__ import annotations

from conftest import FixedClock

from lingkaran_core.services import broadcasts
from lingkaran_core.storage import Database

SUKORENO = "35.09.27.2002"  # Kec. Kalisat
GAMBIRONO = "35.09.27.2001"  # Kec. Kalisat, another desa
AJUNG = "35.09.01.2001"  # another kecamatan
TOBACCO = "buruh_tani_tembakau"
FISHER = "nelayan"
T = "2026-11-01T00:00:00+00:00"


class World:
    """Workers and chats written directly: the query is what is tested, not the link flow."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.n = 0

    async def worker(
        self,
        desa: str,
        *,
        sector: str = TOBACCO,
        status: str = "verified",
        deceased: str | None = None,
    ) -> int:
        self.n += 1
        async with self.db.tx() as tx:
            return await tx.execute(
                "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, "
                "registration_status, deceased_on, created_at, updated_at) "
                "VALUES (?, ?, '1980-01-01', 'L', ?, ?, ?, ?, ?, ?)",
                (f"350927010180{self.n:04d}", f"W{self.n}", desa, sector, status, deceased, T, T),
            )

    async def chat(
        self,
        user: str,
        own: int | None,
        *household: int,
        opted_out: bool = False,
        links: bool = True,
    ) -> int:
        """A chat whose own link is ``own`` and household links ``household`` (all in
        ``chat_links`` unless ``links`` is false: a chat linked before migration 014's rows)."""
        async with self.db.tx() as tx:
            chat_id = await tx.execute(
                "INSERT INTO chats (channel, user_ref, worker_id, opted_out, created_at) "
                "VALUES ('telegram', ?, ?, ?, ?)",
                (user, own, 1 if opted_out else 0, T),
            )
            for worker_id in ([own] if own is not None and links else []) + list(household):
                await tx.execute(
                    "INSERT INTO chat_links (chat_id, worker_id, factor, created_at) "
                    "VALUES (?, ?, 'kk', ?)",
                    (chat_id, worker_id, T),
                )
            return chat_id


async def recipients(db: Database, clock: FixedClock, audience: broadcasts.Audience) -> list[str]:
    async with db.read() as r:
        plan = await broadcasts.plan_broadcast(
            r,
            message="Halo",
            audience=audience,
            now=clock(),
            config=broadcasts.policy.DEFAULT_CONFIG,
        )
    refs = [p.user_ref for p in plan.recipients]
    assert plan.estimate.recipients == len(refs)
    return refs


async def test_a_household_phone_gets_one_message_if_any_of_its_workers_is_in_the_desa(
    db: Database, clock: FixedClock
) -> None:
    w = World(db)
    husband = await w.worker(GAMBIRONO)  # the phone's own link lives in another desa
    wife, son = await w.worker(SUKORENO), await w.worker(SUKORENO)
    await w.chat("household", husband, wife, son)
    await w.chat("single", await w.worker(SUKORENO))
    await w.chat("only-husband", await w.worker(GAMBIRONO))
    await w.chat("legacy", await w.worker(SUKORENO), links=False)  # chats.worker_id alone
    # Never: opted out (own or household link), dead, not verified.
    await w.chat("opted-out", await w.worker(SUKORENO), opted_out=True)
    await w.chat("opted-out-household", await w.worker(AJUNG), wife, opted_out=True)
    await w.chat("deceased", await w.worker(AJUNG), await w.worker(SUKORENO, deceased="2026-10-01"))
    await w.chat("registered", await w.worker(SUKORENO, status="registered"))

    desa = broadcasts.Audience(desa_codes=(SUKORENO,))
    assert await recipients(db, clock, desa) == ["household", "single", "legacy"]
    kalisat = broadcasts.Audience(kecamatan_codes=("35.09.27",))
    assert await recipients(db, clock, kalisat) == ["household", "single", "only-husband", "legacy"]
    both = broadcasts.Audience(desa_codes=(SUKORENO, GAMBIRONO), kecamatan_codes=("35.09.27",))
    assert await recipients(db, clock, both) == ["household", "single", "only-husband", "legacy"]

    async with db.read() as r:
        plan = await broadcasts.plan_broadcast(
            r, message="Halo", audience=desa, now=clock(), config=broadcasts.policy.DEFAULT_CONFIG
        )
    args = {
        "now": clock(),
        "config": broadcasts.policy.DEFAULT_CONFIG,
        "actor_kind": "admin",
        "actor_id": "ops",
        "channel": "admin",
    }
    assert await broadcasts.send_broadcast(db, plan, **args) == 3  # type: ignore[arg-type]
    assert await broadcasts.send_broadcast(db, plan, **args) == 0  # type: ignore[arg-type]
    async with db.read() as r:
        rows = await r.all(
            "SELECT user_ref, COUNT(*) AS n FROM outbox WHERE class = 'broadcast' "
            "GROUP BY user_ref ORDER BY user_ref"
        )
    assert [(x["user_ref"], x["n"]) for x in rows] == [
        ("household", 1),
        ("legacy", 1),
        ("single", 1),
    ]


async def test_sector_and_place_must_match_the_same_person(db: Database, clock: FixedClock) -> None:
    w = World(db)
    # He fishes in another kecamatan, she grows tobacco in Sukoreno: one phone.
    await w.chat("household", await w.worker(AJUNG, sector=FISHER), await w.worker(SUKORENO))
    await w.chat("fisher-here", await w.worker(SUKORENO, sector=FISHER))

    fishers_here = broadcasts.Audience(sectors=(FISHER,), desa_codes=(SUKORENO,))
    assert await recipients(db, clock, fishers_here) == ["fisher-here"]
    tobacco_here = broadcasts.Audience(sectors=(TOBACCO,), desa_codes=(SUKORENO,))
    assert await recipients(db, clock, tobacco_here) == ["household"]
    fishers = broadcasts.Audience(sectors=(FISHER,))
    assert await recipients(db, clock, fishers) == ["household", "fisher-here"]
