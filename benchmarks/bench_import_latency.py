"""Reply latency of the engine while a large roster import runs, beside idle, in the same run.

The import runs the way staff run it: ``python bot.py admin import-roster FILE --db DB`` in
another process, on the database file the bot is using. This process is the bot: the engine
(``build_engine(track_replies=True)``, state committed every step) answering 20 users who each
send a message, wait for the replies, think 20 ms and send the next (the self-screening script,
round and round). Latency is ``Engine.handle`` + ``replies_sent`` per message.

* baseline: the same users for ``IDLE_SECONDS`` before the import starts (idle database);
* ours: the same users for as long as the import process runs (validation, staging in chunks,
  the chunked comparison and the one switch transaction), then once more while the same file is
  imported again (every row unchanged: the monthly refresh).

The roster file is the synthetic one of ``bench_import`` (all rows valid, a first import into
an empty ``workers`` table: the worst case for the switch, since every row is new).
``LC_BENCH_IMPORT_ROWS`` sets its size (default 1,000,000). Run:
``python -m benchmarks.bench_import_latency``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.bench_import import write_csv
from handlers.engine import Engine, Incoming
from handlers.registry import build_engine
from lingkaran_core.storage import Database

ROWS = int(os.environ.get("LC_BENCH_IMPORT_ROWS", "1000000"))
USERS = 20
THINK = 0.02
IDLE_SECONDS = 8.0
SCRIPT = ["menu", "5", "2", "47", "puger kulon", "1", "3", "2", "3", "2"]
ROOT = Path(__file__).resolve().parents[1]
_ids = itertools.count()


def clock() -> datetime:
    return datetime.now(UTC)


async def _user(engine: Engine, n: int, until: asyncio.Event, out: list[float]) -> None:
    for text in itertools.cycle(SCRIPT):
        if until.is_set():
            return
        inc = Incoming(channel="bench", user_ref=f"u{n}", message_id=f"m{next(_ids)}", text=text)
        t0 = time.perf_counter()
        await engine.handle(inc)
        await engine.replies_sent(inc)
        out.append(time.perf_counter() - t0)
        await asyncio.sleep(THINK)


async def _phase(engine: Engine, until: asyncio.Event) -> list[float]:
    out: list[float] = []
    await asyncio.gather(*(_user(engine, n, until, out) for n in range(USERS)))
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _fmt(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values) * 1000:.1f} ms, p95 {_pct(values, 0.95) * 1000:.1f} ms, "
        f"max {max(values) * 1000:.0f} ms ({len(values):,} replies)"
    )


async def _measure(folder: Path) -> dict[str, Any]:
    csv_path = folder / "roster.csv"
    t0 = time.perf_counter()
    write_csv(csv_path, rows=ROWS, seed=11)
    write_seconds = time.perf_counter() - t0
    db_path = folder / "bot.db"
    db = await Database.open(db_path)
    try:
        engine = build_engine(db, clock=clock, track_replies=True)
        stop = asyncio.Event()
        await _phase_for(engine, 2.0)  # warm-up: caches, first chats
        idle_task = asyncio.create_task(_phase(engine, stop))
        await asyncio.sleep(IDLE_SECONDS)
        stop.set()
        idle = await idle_task

        busy, import_seconds = await _during_import(engine, csv_path, db_path)
        async with db.read() as r:
            imported = int(await r.scalar("SELECT COUNT(*) FROM workers"))
        # The monthly case: the same roster again, every row unchanged.
        again, again_seconds = await _during_import(engine, csv_path, db_path)
    finally:
        await db.close()
    return {
        "idle": idle,
        "busy": busy,
        "again": again,
        "import_seconds": import_seconds,
        "again_seconds": again_seconds,
        "write_seconds": write_seconds,
        "imported": imported,
    }


async def _during_import(
    engine: Engine, csv_path: Path, db_path: Path
) -> tuple[list[float], float]:
    """Reply latencies while ``admin import-roster`` runs in another process; its seconds."""
    stop = asyncio.Event()
    busy_task = asyncio.create_task(_phase(engine, stop))
    t1 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "bot.py",
        "admin",
        "import-roster",
        str(csv_path),
        "--db",
        str(db_path),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await proc.communicate()
    seconds = time.perf_counter() - t1
    stop.set()
    busy = await busy_task
    if proc.returncode != 0:
        raise RuntimeError(f"import failed: {output.decode(errors='replace')[-2000:]}")
    return busy, seconds


async def _phase_for(engine: Engine, seconds: float) -> list[float]:
    stop = asyncio.Event()
    task = asyncio.create_task(_phase(engine, stop))
    await asyncio.sleep(seconds)
    stop.set()
    return await task


def run() -> list[dict[str, Any]]:
    """One row: reply latency during the import (ours) beside idle (baseline)."""
    with tempfile.TemporaryDirectory(prefix="lc-bench-") as tmp:
        r = asyncio.run(_measure(Path(tmp)))
    idle, busy, again = r["idle"], r["busy"], r["again"]
    ratio = _pct(busy, 0.95) / _pct(idle, 0.95)
    again_ratio = _pct(again, 0.95) / _pct(idle, 0.95)
    note = (
        f"{ROWS:,}-row first import (`admin import-roster`, another process, "
        f"{r['import_seconds']:.1f} s, {r['imported']:,} workers committed) while {USERS} users "
        f"chat with the engine (20 ms think time); p95 during / idle = {ratio:.2f}x "
        f"(target <= 2x); idle measured for {IDLE_SECONDS:.0f} s just before, same process"
    )
    return [
        {
            "benchmark": f"replies during {ROWS // 1000:,}k import",
            "ours": _fmt(busy),
            "baseline": "idle: " + _fmt(idle),
            "note": note,
        },
        {
            "benchmark": f"replies during {ROWS // 1000:,}k re-import",
            "ours": _fmt(again),
            "baseline": "idle: (as above)",
            "note": (
                f"the same file again, every row unchanged ({r['again_seconds']:.1f} s): the "
                f"switch has nothing to write; p95 during / idle = {again_ratio:.2f}x"
            ),
        },
    ]


if __name__ == "__main__":
    for row in run():
        for key, value in row.items():
            print(f"{key}: {value}")
