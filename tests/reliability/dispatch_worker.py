"""A dispatcher process for the crash tests: drains the outbox to a loopback HTTP endpoint.

    python tests/reliability/dispatch_worker.py --db PATH --url http://127.0.0.1:PORT/send

Starts ``lingkaran.channels.dispatcher.Dispatcher`` (which re-queues rows a crash left ``sending``) with a
sender that POSTs ``{"outbox_id", "user_ref", "text", "pid"}`` for every row, prints ``started`` once
running, and exits 0 when no row is ``queued`` or ``sending`` any more. The test SIGKILLs it at
random moments and starts it again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from handlers.engine import Reply  # noqa: E402
from lingkaran.channels.base import OutboundMessage, SendResult  # noqa: E402
from lingkaran.channels.dispatcher import ChannelLimits, Dispatcher  # noqa: E402
from lingkaran_core.storage import Database  # noqa: E402

# A Wednesday 10:00 WIB: outside the quiet hours whatever the wall clock says.
DAY = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def notice_rows(count: int) -> list[tuple[str, str, str, str]]:
    """``count`` claim-status notices to queue, one per recipient ``r0``, ``r1``...: the
    (user_ref, params, not_before, created_at) of each outbox row, due at ``DAY``."""
    return [
        (
            f"r{i}",
            json.dumps({"ref": f"LC-2026-9{i:05d}", "status": "in_review", "note": ""}),
            DAY.isoformat(),
            DAY.isoformat(),
        )
        for i in range(count)
    ]


class HttpSender:
    """POSTs each outbox row to the test's server (a blocking call in a worker thread)."""

    channel = "telegram"

    def __init__(self, url: str) -> None:
        self.url = url

    def _post(self, body: dict[str, object]) -> str:
        req = urllib.request.Request(
            self.url,
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return str(json.loads(resp.read())["message_id"])

    async def send_reply(self, user_ref: str, reply: Reply) -> SendResult:
        raise NotImplementedError

    async def send_outbound(self, message: OutboundMessage) -> SendResult:
        body = {
            "outbox_id": message.outbox_id,
            "user_ref": message.user_ref,
            "text": message.reply.text,
            "pid": os.getpid(),
        }
        mid = await asyncio.to_thread(self._post, body)
        return SendResult(message_ids=(mid,))


async def main(db_path: str, url: str) -> int:
    db = await Database.open(db_path)
    loop = asyncio.get_running_loop()
    t0 = loop.time()

    def clock() -> datetime:
        return DAY + timedelta(seconds=loop.time() - t0)

    disp = Dispatcher(
        db,
        {"telegram": HttpSender(url)},
        clock=clock,
        limits={"telegram": ChannelLimits(rate=5000, per_user_interval=0.0, concurrency=8)},
        idle_interval=0.05,
    )
    await disp.start()
    sys.stdout.write("started\n")
    sys.stdout.flush()
    try:
        while True:
            await asyncio.sleep(0.05)
            async with db.read() as r:
                left = await r.scalar(
                    "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')"
                )
            if not left:
                break
    finally:
        await disp.stop()
        await db.close()
    sys.stdout.write("done\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--url", required=True)
    a = p.parse_args()
    sys.exit(asyncio.run(main(a.db, a.url)))
