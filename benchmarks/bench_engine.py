"""Engine throughput and latency with the real SQLite store, durable after every step.

200 concurrent simulated users walk the self-screening and the JKK report, with 1k and 200k
workers and conversations already stored. Printed beside a baseline measured in the same run:
the same SQLite file doing only the bare minimum per step (one state upsert + commit), i.e. the
storage floor the engine cannot beat.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from handlers.engine import Incoming
from handlers.registry import build_engine
from lingkaran_core.storage import Database

USERS = 200
ELIGIBILITY = ["menu", "5", "2", "47", "puger kulun", "1", "3", "2", "3", "2"]
# A whole JKK report for someone else, to "Terkirim" and "Nanti saja" (checked end to end by
# tests/reliability/test_instances.py, so the script cannot drift into re-asked steps unseen).
JKK = [
    "menu",
    "2",
    "2",
    "3509271505780001",
    "Sutrisno",
    "2",
    "2",
    "gudang tembakau di sukoreno",
    "2",
    "jatuh dari tangga, kaki patah",
    "1",
    "rsd soebandi",
    "081234567890",
    "1",
    "1",
]
_ids = itertools.count()


def clock() -> datetime:
    return datetime.now(UTC)


async def seed(db: Database, n: int) -> None:
    """n workers, n chats and n saved conversations (plus the worker the JKK script uses)."""
    now = clock().isoformat()
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, created_at, updated_at) VALUES ('3509271505780001', 'Sutrisno', "
            "'1978-05-15', 'L', '35.09.27.2002', 'buruh_tani_tembakau', '2025-07-01', "
            "'2026-12-01', ?, ?)",
            (now, now),
        )
    batch = 20_000
    for start in range(0, n, batch):
        rows = range(start, min(n, start + batch))
        async with db.tx() as tx:
            await tx.executemany(
                "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, "
                "created_at, updated_at) VALUES (?, 'Demo', '1980-01-01', 'L', '35.09.27.2002', "
                "'nelayan_tangkap', ?, ?)",
                ((f"35092701018{i:05d}", now, now) for i in rows),
            )
            await tx.executemany(
                "INSERT INTO chats (channel, user_ref, created_at) VALUES ('seed', ?, ?)",
                ((f"s{i}", now) for i in rows),
            )
            await tx.executemany(
                "INSERT INTO conversations (chat_id, flow, step, data, updated_at) "
                "SELECT id, 'eligibility', 'age', '{}', ? FROM chats WHERE channel = 'seed' AND user_ref = ?",
                ((now, f"s{i}") for i in rows),
            )


async def walk(  # type: ignore[no-untyped-def]
    engine, user: str, script: list[str], lat: list[float], think: float = 0.0, skew: int = 0
) -> None:
    if think:
        await asyncio.sleep(think * (skew % USERS) / USERS)  # spread the first messages
    for text in script:
        if think:
            await asyncio.sleep(think)
        inc = Incoming(
            channel="bench",
            user_ref=user,
            message_id=f"b{next(_ids)}",
            text=text,
        )
        t0 = time.perf_counter()
        replies = await engine.handle(inc)
        lat.append(time.perf_counter() - t0)
        assert replies


async def measure(stored: int, *, offered: float = 500.0) -> dict[str, float]:
    """Saturation throughput (no think time) and latency at an offered load (msgs/s)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.db")
        await seed(db, stored)
        engine = build_engine(db, clock=clock)
        await walk(engine, "warm-up", ELIGIBILITY + JKK, [])  # imports, caches
        lat: list[float] = []
        t0 = time.perf_counter()
        await asyncio.gather(
            *(walk(engine, f"u{i}", ELIGIBILITY if i % 2 else JKK, lat) for i in range(USERS))
        )
        wall = time.perf_counter() - t0
        # Latency as users see it: 200 users, each typing one message every USERS/offered s.
        paced: list[float] = []
        think = USERS / offered
        await asyncio.gather(
            *(
                walk(engine, f"p{i}", ELIGIBILITY if i % 2 else JKK, paced, think=think, skew=i)
                for i in range(USERS)
            )
        )
        base = await baseline(db)
        await db.close()
    lat.sort()
    paced.sort()
    return {
        "steps": len(lat),
        "rate": len(lat) / wall,
        "p50": statistics.median(paced) * 1000,
        "p99": paced[int(len(paced) * 0.99)] * 1000,
        "sat_p50": statistics.median(lat) * 1000,
        "baseline_rate": base,
        "offered": offered,
    }


async def baseline(db: Database) -> float:
    """Storage floor: one conversation upsert + commit per step, same file, same concurrency."""
    steps = len(JKK) * USERS

    async def one(i: int) -> None:
        for n in range(len(JKK)):
            async with db.tx() as tx:
                await tx.execute(
                    "UPDATE conversations SET step = ?, version = version + 1 WHERE chat_id = ?",
                    (f"s{n}", i + 1),
                )

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(USERS)))
    return steps / (time.perf_counter() - t0)


def run() -> list[dict[str, str]]:
    rows = []
    for stored in (1_000, 200_000):
        r = asyncio.run(measure(stored))
        rows.append(
            {
                "benchmark": f"engine, {USERS} users, {stored:,} stored",
                "ours": (
                    f"{r['rate']:,.0f} steps/s saturated; at {r['offered']:.0f} msg/s offered "
                    f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms"
                ),
                "baseline": f"{r['baseline_rate']:,.0f} bare commits/s (storage floor)",
                "note": f"{int(r['steps'])} steps, state durable after every step",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row.values()))
    sys.exit(0)
