"""One bot instance for the multi-instance tests and benchmark: the real engine and dispatcher.

    python tests/reliability/instance_worker.py --db postgresql://... [--send-url URL]

Reads one JSON message per stdin line (``{"id", "user", "text"}``: what a load balancer hands
this instance), handles it with the production engine (one transaction per message, durable
before the answer) and writes ``{"id", "replies", "pid", "ms"}`` per message to stdout as soon
as it is answered; several messages are handled at once, as in ``serve``. With ``--send-url``
it also runs the production ``Dispatcher``, draining the shared outbox to that loopback endpoint
(``dispatch_worker.HttpSender``). Prints ``started`` when ready. At stdin's end it finishes the
messages in hand, waits until the outbox is empty, and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from dispatch_worker import DAY, HttpSender  # noqa: E402

from handlers.engine import Incoming  # noqa: E402
from handlers.registry import build_engine  # noqa: E402
from lingkaran.channels.dispatcher import ChannelLimits, Dispatcher  # noqa: E402
from lingkaran_core.storage import Database  # noqa: E402


async def main(
    db_url: str,
    send_url: str | None,
    files: str | None,
    epoch: float | None = None,
    send_rate: float = 5000.0,
) -> int:
    db = await Database.open(db_url, files_dir=files)
    loop = asyncio.get_running_loop()
    t0 = loop.time() if epoch is None else epoch

    def clock() -> datetime:
        # One clock for the whole fleet: the system-wide monotonic clock from the fleet's epoch
        # (loop.time() is time.monotonic()). Per-process clocks started seconds apart would make
        # one instance see the other's fresh outbox claims as stale, and send them again.
        return DAY + timedelta(seconds=loop.time() - t0)

    engine = build_engine(db, clock=clock, track_replies=True)
    disp = None
    if send_url:
        disp = Dispatcher(
            db,
            {"telegram": HttpSender(send_url)},
            clock=clock,
            limits={
                "telegram": ChannelLimits(
                    rate=send_rate, per_user_interval=0.0, batch=20, concurrency=8
                )
            },
            idle_interval=0.05,
            stale_claim=timedelta(seconds=3),  # the test's sends take milliseconds
            stale_check_every=0.5,
        )
        await disp.start()
    out = sys.stdout
    out.write("started\n")
    out.flush()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks: set[asyncio.Task[None]] = set()

    async def handle(msg: dict[str, str]) -> None:
        began = time.perf_counter()
        replies = await engine.handle(
            Incoming(
                channel="telegram", user_ref=msg["user"], message_id=msg["id"], text=msg["text"]
            )
        )
        ms = (time.perf_counter() - began) * 1000
        line = {"id": msg["id"], "replies": len(replies), "pid": os.getpid(), "ms": ms}
        out.write(json.dumps(line) + "\n")
        out.flush()

    while line := await reader.readline():
        task = asyncio.create_task(handle(json.loads(line)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    try:
        while disp is not None:
            async with db.read() as r:
                left = await r.scalar(
                    "SELECT COUNT(*) FROM outbox WHERE channel = 'telegram' "
                    "AND status IN ('queued', 'sending')"
                )
            if not left:
                break
            disp.poke()
            await asyncio.sleep(0.05)
    finally:
        if disp is not None:
            await disp.stop()
        await db.close()
    out.write("done\n")
    out.flush()
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--send-url", default=None)
    p.add_argument("--files", default=None)
    p.add_argument("--epoch", type=float, default=None, help="the fleet's time.monotonic() zero")
    p.add_argument("--send-rate", type=float, default=5000.0, help="this instance's msg/s")
    a = p.parse_args()
    sys.exit(asyncio.run(main(a.db, a.send_url, a.files, a.epoch, a.send_rate)))
