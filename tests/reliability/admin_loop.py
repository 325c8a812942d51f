"""A second process on the bot's database: admin CLI commands in a loop (for the concurrency test).

    python tests/reliability/admin_loop.py --db PATH --roster CSV --out DIR --ref REF ... [--rounds N]

Each round runs, through ``bot.py``'s own entry point: ``claims set-status`` on every ``--ref``
(alternating in_review / documents_requested), ``stats``, ``claims list``, ``outbox``,
``import-roster --skip-invalid`` and ``backup --out``. Prints ``rc=<code> <command>`` per command;
exits 1 if any command failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import bot  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--roster", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--ref", action="append", default=[])
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    failed = 0
    for i in range(a.rounds):
        status = "in_review" if i % 2 == 0 else "documents_requested"
        commands = [["claims", "set-status", ref, status] for ref in a.ref]
        commands += [
            ["stats"],
            ["claims", "list", "--limit", "5"],
            ["outbox"],
            ["import-roster", a.roster, "--skip-invalid"],
            ["backup", "--out", str(Path(a.out) / f"round{i}.db")],
        ]
        for cmd in commands:
            rc = bot.main(["admin", *cmd, "--db", a.db])
            sys.stdout.write(f"rc={rc} {' '.join(cmd)}\n")
            sys.stdout.flush()
            failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
