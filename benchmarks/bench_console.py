"""The OPD web console's page load times on the 82,091-worker demo database.

The console is served by ``lingkaran.server.WebServer`` (uvicorn) on loopback and every page is
fetched over HTTP by a logged-in client, 7 times; the median is reported (target: < 300 ms per
page). Baseline: the same queue page with ``admin_repo.list_claims`` (the CLI's query, newest
first, no filters, no count), to show what the queue's filters, deadline order and paging cost.

Run: ``python -m benchmarks.bench_console [DB]`` (a DB path reuses an existing demo database).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from lingkaran.console import build_console
from lingkaran.console.accounts import add_staff
from lingkaran.server import WebServer
from lingkaran_core.clock import FixedClock
from lingkaran_core.demo import DEFAULT_WORKERS, generate_demo
from lingkaran_core.storage import Database, admin_repo

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
RUNS = 7
TARGET_MS = 300.0
PAGES = (
    "/console/claims",
    "/console/claims?type=JKK&kecamatan=35.09.27&open=1",
    "/console/claims?flagged=1",
    "/console/claims?notice=overdue",
    "/console/claims?notice=unsent&kecamatan=35.09.27&flagged=1",
    "/console/claims/LC-2026-000026",
    "/console/registrations",
    "/console/tickets",
    "/console/facilitators",
    "/console/outbox",
    "/console/reports",
    "/console/reports/sectors.xlsx",
    "/console/reports/kecamatan.xlsx",
    "/console/broadcast",
)


async def _median_ms(client: httpx.AsyncClient, url: str) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        r = await client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    return statistics.median(times)


async def measure(db_path: Path) -> list[dict[str, Any]]:
    clock = FixedClock(NOW)
    db = await Database.open(db_path)
    try:
        async with db.read() as r:
            workers = int(await r.scalar("SELECT COUNT(*) FROM workers"))
        async with db.tx() as tx:
            _, username, password = await add_staff(
                tx, name="Bench Admin", role="admin", kecamatan=None, now=clock(), actor="bench"
            )
        server = WebServer(build_console(db, None, clock), host="127.0.0.1", port=0)
        await server.start()
        rows: list[dict[str, Any]] = []
        try:
            base = f"http://127.0.0.1:{server.port}"
            async with httpx.AsyncClient(base_url=base, follow_redirects=True) as c:
                page = await c.get("/console/login")
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
                assert csrf is not None
                await c.post(
                    "/console/login",
                    data={"csrf": csrf.group(1), "username": username, "password": password},
                )
                for url in PAGES:
                    ms = await _median_ms(c, url)
                    rows.append(
                        {
                            "benchmark": f"console {url.removeprefix('/console')}"[:30],
                            "ours": f"{ms:.1f} ms (median of {RUNS})",
                            "baseline": f"target < {TARGET_MS:.0f} ms",
                            "note": f"{workers:,} workers; {'OK' if ms < TARGET_MS else 'SLOW'}",
                        }
                    )
            t0 = time.perf_counter()
            for _ in range(RUNS):
                async with db.read() as r:
                    await admin_repo.list_claims(r, admin_repo.ClaimFilter(limit=25))
            cli_ms = (time.perf_counter() - t0) * 1000 / RUNS
            rows.append(
                {
                    "benchmark": "console queue query vs CLI's",
                    "ours": rows[0]["ours"] + " (whole page over HTTP)",
                    "baseline": f"{cli_ms:.1f} ms (CLI list_claims query only)",
                    "note": "the page adds filters, count, paging, render",
                }
            )
        finally:
            await server.stop()
        return rows
    finally:
        await db.close()


def run(db: str | None = None) -> list[dict[str, Any]]:
    """The rows for ``python -m benchmarks``."""
    folder = Path(tempfile.mkdtemp(prefix="bench-console-"))
    try:
        path = folder / "demo.db"
        if db is not None:
            shutil.copy(db, path)
        else:

            async def make() -> None:
                d = await Database.open(path)
                try:
                    await generate_demo(
                        d, workers=DEFAULT_WORKERS, seed=2025, today=date(2026, 11, 25), now=NOW
                    )
                finally:
                    await d.close()

            asyncio.run(make())
        return asyncio.run(measure(path))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    for row in run(sys.argv[1] if len(sys.argv) > 1 else None):
        print(f"{row['benchmark']:<32} {row['ours']:<40} {row['baseline']:<40} {row['note']}")
