"""``python -m benchmarks [NAME ...]``: every ``benchmarks/bench_*.py``, one side-by-side table.

Each module's ``run() -> list[dict]`` (keys ``benchmark``, ``ours``, ``baseline``, ``note``) runs
in its own subprocess, so a crash or a memory spike in one does not spoil the others; the rows
come back as JSON on the child's last stdout line. NAMEs pick a subset (``engine ptb`` runs
``bench_engine`` and ``bench_ptb``). Exit status 1 when any module fails.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COLUMNS = ("benchmark", "ours", "baseline", "note")
WIDTHS = {"benchmark": 30, "ours": 38, "baseline": 44, "note": 54}
MARK = "BENCH-ROWS "


def modules() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def run_module(name: str) -> tuple[list[dict[str, Any]], float, str | None]:
    """Rows, seconds, and an error text (None when it went well)."""
    code = (
        "import json, sys\n"
        f"from benchmarks.bench_{name} import run\n"
        "rows = run()\n"
        f"print({MARK!r} + json.dumps(rows), flush=True)\n"
    )
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
    )
    seconds = time.perf_counter() - t0
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        return [], seconds, f"exit {proc.returncode}: {tail}"
    rows: list[dict[str, Any]] = json.loads(lines[-1][len(MARK) :])
    return rows, seconds, None


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.machine()}, "
        f"load average at the end {load}"
    )


def table(rows: list[dict[str, Any]]) -> str:
    """An aligned plain-text table; long cells wrap inside their column."""
    sep = "-+-".join("-" * WIDTHS[c] for c in COLUMNS)
    out = [" | ".join(c.ljust(WIDTHS[c]) for c in COLUMNS).rstrip(), sep]
    for row in rows:
        cells = [textwrap.wrap(str(row.get(c, "")), WIDTHS[c]) or [""] for c in COLUMNS]
        for i in range(max(map(len, cells))):
            out.append(
                " | ".join(
                    (cell[i] if i < len(cell) else "").ljust(WIDTHS[c])
                    for c, cell in zip(COLUMNS, cells, strict=True)
                ).rstrip()
            )
        out.append(sep)
    return "\n".join(out)


def main(argv: list[str]) -> int:
    available = modules()
    chosen = argv or available
    unknown = [n for n in chosen if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(available)}")
        return 2
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    started = time.perf_counter()
    for name in chosen:
        print(f"running bench_{name} ...", file=sys.stderr, flush=True)
        got, seconds, error = run_module(name)
        print(f"  bench_{name}: {seconds:.0f} s", file=sys.stderr, flush=True)
        rows.extend(got)
        if error is not None:
            failures.append(name)
            rows.append(
                {"benchmark": f"bench_{name}", "ours": "FAILED", "baseline": "", "note": error}
            )
    print(table(rows))
    print(f"\nMachine: {machine()}")
    print(f"Total: {time.perf_counter() - started:.0f} s, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    if failures:
        print(f"FAILED: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
