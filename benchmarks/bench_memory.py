"""Peak memory: the bot with 100k workers stored, serving users, beside an idle app on an empty DB.

Each side is its own fresh process (``VmHWM`` from /proc/self/status, the peak resident set):

* ours: imports the app (engine, every flow, the Telegram adapter), opens a database holding
  100,000 workers with their chats and saved conversations (seeded beforehand by another process,
  so the seeding does not count), and serves 20 users through the self-screening and the JKK
  report (``engine.handle``, state committed every step);
* baseline: the same imports, and an empty freshly migrated database; nothing served.

The difference is what the stored data and the serving cost in memory (target: it stays small,
because state lives in SQLite, not in Python dicts). Run: ``python -m benchmarks.bench_memory``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

WORKERS = 100_000
SERVED = 20


def _peak_rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _import_app() -> None:
    import handlers.registry  # noqa: F401
    import lingkaran.channels.telegram  # noqa: F401


async def _seed(db_path: str) -> None:
    from benchmarks.bench_engine import seed
    from lingkaran_core.storage import Database

    db = await Database.open(db_path)
    try:
        await seed(db, WORKERS)
    finally:
        await db.close()


async def _ours(db_path: str) -> dict[str, Any]:
    _import_app()
    from benchmarks.bench_engine import ELIGIBILITY, JKK, clock, walk
    from handlers.registry import build_engine
    from lingkaran_core.storage import Database

    db = await Database.open(db_path)
    try:
        engine = build_engine(db, clock=clock, track_replies=True)
        lat: list[float] = []
        await asyncio.gather(
            *(walk(engine, f"m{i}", ELIGIBILITY if i % 2 else JKK, lat) for i in range(SERVED))
        )
        async with db.read() as r:
            stored = await r.all("SELECT COUNT(*) AS n FROM workers")
    finally:
        await db.close()
    return {"steps": len(lat), "workers": stored[0]["n"]}


async def _baseline(db_path: str) -> dict[str, Any]:
    _import_app()
    from lingkaran_core.storage import Database

    db = await Database.open(db_path)
    await db.close()
    return {"steps": 0, "workers": 0}


def _child(kind: str, db_path: str) -> int:
    if kind == "seed":
        asyncio.run(_seed(db_path))
        print(json.dumps({}))
        return 0
    result = asyncio.run(_ours(db_path) if kind == "ours" else _baseline(db_path))
    result["rss_kb"] = _peak_rss_kb()
    print(json.dumps(result))
    return 0


def _run_child(kind: str, db_path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_memory", "--child", kind, str(db_path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="lc-bench-mem-") as tmp:
        folder = Path(tmp)
        _run_child("seed", folder / "full.db")
        size_mb = (folder / "full.db").stat().st_size / 1e6
        ours = _run_child("ours", folder / "full.db")
        base = _run_child("baseline", folder / "empty.db")
    mb = 1024
    return [
        {
            "benchmark": f"peak RSS, {WORKERS // 1000}k workers stored, {SERVED} users served",
            "ours": f"{ours['rss_kb'] / mb:.0f} MB",
            "baseline": f"{base['rss_kb'] / mb:.0f} MB (same imports, empty DB, nothing served)",
            "note": (
                f"+{(ours['rss_kb'] - base['rss_kb']) / mb:.0f} MB for {ours['workers']:,} "
                f"workers + chats + conversations ({size_mb:.0f} MB file) and {ours['steps']} "
                "steps served; VmHWM of a fresh process each"
            ),
        }
    ]


def _main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        return _child(argv[1], argv[2])
    for row in run():
        for key, value in row.items():
            print(f"{key:>10}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
