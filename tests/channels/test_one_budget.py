"""One budget per bot token: replies go first while a broadcast takes what they leave.

``run_server("telegram")`` in process against the fake Bot API, which enforces Telegram's
limits (30 msg/s overall, per-chat buckets, 429 + ``retry_after``): a broadcast is queued before
start-up, a user talks to the bot meanwhile. The broadcast flows, the user's answers come at
once, and Telegram never has to refuse a call.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from conftest import FixedClock, settings_for
from fake_telegram import TOKEN, FakeTelegram

from lingkaran.app import run_server
from lingkaran.channels.budget import BROADCAST, REPLY, BudgetedTransport, SendBudget
from lingkaran_core.storage import Database

CHAT = 4001
RECIPIENTS = 400


async def _queue_broadcast(path: Path, clock: FixedClock) -> None:
    db = await Database.open(path)
    now = clock().isoformat()
    try:
        async with db.tx() as tx:
            await tx.executemany(
                "INSERT INTO chats (id, channel, user_ref, created_at) VALUES (?, 'telegram', ?, ?)",
                [(i, str(900_000 + i), now) for i in range(1, RECIPIENTS + 1)],
            )
            await tx.executemany(
                "INSERT INTO outbox (chat_id, channel, user_ref, msg_key, params, class, priority, "
                "not_before, created_at) VALUES (?, 'telegram', ?, 'broadcast.message', "
                "'{\"text\": \"Pengumuman desa\"}', 'broadcast', 9, ?, ?)",
                [(i, str(900_000 + i), now, now) for i in range(1, RECIPIENTS + 1)],
            )
    finally:
        await db.close()


def _broadcasts(fake: FakeTelegram) -> int:
    return sum(1 for c in fake.calls_of("sendMessage") if c.params["chat_id"] != CHAT)


async def test_replies_go_first_while_a_broadcast_takes_the_rest(
    tmp_path: Path, clock: FixedClock
) -> None:
    path = tmp_path / "b.db"
    await _queue_broadcast(path, clock)
    async with FakeTelegram() as fake:
        settings = settings_for(
            LINGKARAN_DB=str(path), TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.root
        )
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_server("telegram", settings, clock=clock, host="127.0.0.1", port=0, stop=stop)
        )
        try:
            await fake.wait_for(lambda: _broadcasts(fake) >= 40, within=20, what="the broadcast")
            waits = []
            for text in ("/start", "menu", "bantuan", "menu"):
                mark = fake.mark()
                t0 = time.monotonic()
                fake.user_sends_text(CHAT, text)
                await fake.wait_for(lambda m=mark: bool(fake.sent(CHAT, since=m)), within=10)
                waits.append(time.monotonic() - t0)
            assert _broadcasts(fake) < RECIPIENTS  # the broadcast was still going on
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 10) == 0
    # Under 1.5 s at the worst even on a loaded machine; typically tens of milliseconds.
    assert max(waits) < 1.5, waits
    assert fake.throttled == 0
    counted = sorted(c.at for c in fake.calls if c.method == "sendMessage" and c.status == 200)
    assert max(_in_one_second(counted)) <= 30


def _in_one_second(times: list[float]) -> list[int]:
    out, j = [], 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        out.append(i - j + 1)
    return out


async def test_a_budgeted_transport_takes_a_permit_only_for_the_calls_it_is_told() -> None:
    budget = SendBudget(1)
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"ok": True})

    transport = BudgetedTransport(
        budget, lambda r: r.url.path.endswith("/messages"), inner=httpx.MockTransport(answer)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://graph.test") as client:
        await client.post("/v21.0/1/messages", json={})
        t0 = asyncio.get_running_loop().time()
        await client.get("/v21.0/media-1")  # not budgeted: no wait
        assert asyncio.get_running_loop().time() - t0 < 0.2
        await client.post("/v21.0/1/messages", json={})  # the second waits a window
        assert asyncio.get_running_loop().time() - t0 >= budget.window - 0.05
    assert budget.granted == {REPLY: 2}
    assert BROADCAST not in budget.granted
    assert seen == ["/v21.0/1/messages", "/v21.0/media-1", "/v21.0/1/messages"]
