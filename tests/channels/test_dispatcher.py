"""The outbox dispatcher against a local rate-limited imitation of a channel API (127.0.0.1),
and against in-memory senders with an injected clock for the policy paths."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handlers.engine import Reply
from lingkaran.channels.base import HoldMessage, OutboundMessage, RetryLater, SendResult
from lingkaran.channels.dispatcher import ChannelLimits, Dispatcher, LogSender
from lingkaran_core.clock import FixedClock as Clock
from lingkaran_core.outbox import OutboxConfig
from lingkaran_core.storage import Database

# The imitation lives with the benchmark that also uses it; make the repo root importable.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks.bench_reminders import (  # noqa: E402
    HttpSender,
    RateLimitedAPI,
    moving_clock,
    serve_api,
)

WIB = ZoneInfo("Asia/Jakarta")
DAY = datetime(2026, 11, 25, 10, 0, tzinfo=WIB)  # Wednesday 10:00 WIB
# The per-user buckets run on real time; tests that drive an injected clock switch them off.
NO_PACING = ChannelLimits(rate=1000, per_user_interval=0.0)


class MemorySender:
    """Records what it sends; can be told to fail."""

    channel = "telegram"

    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[OutboundMessage] = []
        self.fail = fail

    async def send_reply(self, user_ref: str, reply: Reply) -> SendResult:
        raise NotImplementedError

    async def send_outbound(self, message: OutboundMessage) -> SendResult:
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)
        return SendResult(message_ids=(f"m{message.outbox_id}",))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "d.db")
    yield database
    await database.close()


async def _queue(
    db: Database,
    n: int,
    *,
    users: int | None = None,
    msg_class: str = "reminder",
    chat_id: int | None = None,
    not_before: datetime = DAY,
    channel: str = "telegram",
) -> None:
    users = users or n
    async with db.tx() as tx:
        await tx.executemany(
            "INSERT INTO outbox (chat_id, channel, user_ref, msg_key, params, class, not_before, "
            "created_at) VALUES (?, ?, ?, 'claim.status_changed', "
            '\'{"ref":"LC-2026-000001","status":"in_review","note":""}\', ?, ?, ?)',
            [
                (
                    chat_id,
                    channel,
                    f"u{i % users}",
                    msg_class,
                    not_before.isoformat(),
                    DAY.isoformat(),
                )
                for i in range(n)
            ],
        )


async def _until(cond: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll ``cond`` until it holds (real time: the fake API's limits are real)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < within:
        if await cond():
            return
        await asyncio.sleep(0.02)


async def _statuses(db: Database) -> dict[str, int]:
    async with db.read() as r:
        rows = await r.all("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
    return {row["status"]: row["n"] for row in rows}


async def test_every_message_arrives_exactly_once_under_the_rate_limit(db: Database) -> None:
    # 120 messages, 40 users × 3: the per-chat limit forces releases, the API's tight overall
    # bucket forces some 429s; retries must neither lose nor double a message.
    await _queue(db, 120, users=40, msg_class="transactional")
    api = RateLimitedAPI(rate=150, per_user_interval=0.2, burst=2)
    async with serve_api(api) as url:
        sender = HttpSender(url)
        disp = Dispatcher(
            db,
            {"telegram": sender},
            clock=moving_clock(DAY),
            limits={"telegram": ChannelLimits(rate=300, per_user_interval=0.2)},
            config=OutboxConfig(backoff_base=0.05, backoff_cap=0.2),
            idle_interval=0.1,
        )
        await disp.start()

        async def all_arrived() -> bool:
            return len(api.received) >= 120

        await _until(all_arrived, 15)
        await disp.stop()
        await sender.aclose()
    assert sorted(api.received) == list(range(1, 121))
    assert set(api.received.values()) == {1}
    assert api.rejected > 0  # the retry path was exercised
    assert await _statuses(db) == {"sent": 120}


async def test_a_crash_mid_dispatch_costs_at_most_a_retry(db: Database) -> None:
    await _queue(db, 30, msg_class="transactional")
    api = RateLimitedAPI(rate=1000, burst=100, delay=0.3)
    async with serve_api(api) as url:
        sender = HttpSender(url)
        limits = {"telegram": ChannelLimits(rate=1000, per_user_interval=0.0)}
        crashed = Dispatcher(db, {"telegram": sender}, clock=moving_clock(DAY), limits=limits)
        task = asyncio.create_task(crashed.drain("telegram"))

        async def in_flight() -> bool:
            return (await _statuses(db)).get("sending", 0) > 0

        await _until(in_flight)
        await asyncio.sleep(0.1)
        task.cancel()  # the process dies with rows in hand
        with pytest.raises(asyncio.CancelledError):
            await task
        in_hand = (await _statuses(db)).get("sending", 0)
        assert in_hand > 0
        restarted = Dispatcher(
            db, {"telegram": sender}, clock=moving_clock(DAY), limits=limits, idle_interval=0.1
        )
        await restarted.start()  # re-queues the 'sending' rows

        async def all_sent() -> bool:
            return (await _statuses(db)).get("sent", 0) >= 30

        await _until(all_sent)
        await restarted.stop()
        await sender.aclose()
    assert sorted(api.received) == list(range(1, 31))  # nothing lost
    assert max(api.received.values()) <= 2  # at most one repeat
    assert sum(c - 1 for c in api.received.values()) <= in_hand


async def test_quiet_hours_defer_reminders_to_seven_but_send_replies(db: Database) -> None:
    clock = Clock(datetime(2026, 11, 25, 22, 0, tzinfo=WIB))
    await _queue(db, 1, msg_class="reminder", not_before=clock.instant)
    await _queue(db, 1, msg_class="reply", not_before=clock.instant)
    sender = MemorySender()
    disp = Dispatcher(db, {"telegram": sender}, clock=clock)
    stats = await disp.drain("telegram")
    assert [m.msg_class for m in sender.sent] == ["reply"]
    assert stats.deferred == 1
    async with db.read() as r:
        row = await r.one("SELECT status, not_before FROM outbox WHERE class = 'reminder'")
    assert row is not None
    assert row["status"] == "queued"
    assert datetime.fromisoformat(row["not_before"]) == datetime(2026, 11, 26, 7, 0, tzinfo=WIB)


async def test_opt_out_is_read_at_send_time(db: Database) -> None:
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO chats (id, channel, user_ref, language, created_at) "
            "VALUES (1, 'telegram', 'u0', 'en', ?)",
            (DAY.isoformat(),),
        )
    await _queue(db, 1, msg_class="reminder", chat_id=1)
    await _queue(db, 1, msg_class="transactional", chat_id=1)
    async with db.tx() as tx:  # the user typed BERHENTI after the rows were queued
        await tx.execute("UPDATE chats SET opted_out = 1 WHERE id = 1")
    sender = MemorySender()
    stats = await Dispatcher(db, {"telegram": sender}, clock=Clock(DAY)).drain("telegram")
    assert stats.dropped == 1
    assert [m.msg_class for m in sender.sent] == ["transactional"]
    assert sender.sent[0].language == "en"  # the chat's language now
    assert await _statuses(db) == {"dropped": 1, "sent": 1}


async def test_held_rows_go_again_when_the_user_writes(db: Database) -> None:
    await _queue(db, 1, msg_class="reminder", channel="whatsapp")
    held = MemorySender(fail=HoldMessage("window closed, no template"))
    held.channel = "whatsapp"
    clock = Clock(DAY)
    disp = Dispatcher(
        db,
        {"whatsapp": held},
        clock=clock,
        config=OutboxConfig(wa_tier=None),
        limits={"whatsapp": NO_PACING},
    )
    assert (await disp.drain("whatsapp")).held == 1
    assert await _statuses(db) == {"held": 1}
    assert await disp.on_inbound("whatsapp", "u0") == 1
    held.fail = None
    assert (await disp.drain("whatsapp")).sent == 1


async def test_retries_back_off_then_dead_letter_with_the_last_error(db: Database) -> None:
    await _queue(db, 1, msg_class="transactional")
    clock = Clock(DAY)
    sender = MemorySender(fail=RetryLater("HTTP 502", code=502))
    disp = Dispatcher(
        db,
        {"telegram": sender},
        clock=clock,
        config=OutboxConfig(max_attempts=3),
        limits={"telegram": NO_PACING},
    )
    waits: list[float] = []
    for _ in range(3):
        await disp.drain("telegram")
        async with db.read() as r:
            row = await r.one("SELECT status, not_before, attempts, last_error FROM outbox")
        assert row is not None
        if row["status"] == "queued":
            waits.append(
                (datetime.fromisoformat(row["not_before"]) - clock.instant).total_seconds()
            )
        clock.instant += timedelta(hours=2)
    assert row["status"] == "dead"
    assert row["attempts"] == 3
    assert "HTTP 502" in row["last_error"]
    assert len(waits) == 2
    assert waits[1] > waits[0]


async def test_log_sender_delivers_terminal_rows_offline(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await _queue(db, 1, msg_class="transactional", channel="terminal")
    stats = await Dispatcher(db, {"terminal": LogSender()}, clock=Clock(DAY)).drain("terminal")
    assert stats.sent == 1
    assert any("LC-2026-000001" in str(getattr(r, "text", "")) for r in caplog.records)


async def test_admin_rows_stay_on_the_admin_queue(db: Database) -> None:
    await _queue(db, 1, msg_class="transactional", channel="admin")
    disp = Dispatcher(db, {"admin": MemorySender()}, clock=Clock(DAY))
    assert (await disp.drain("admin")).sent == 0
    assert await _statuses(db) == {"queued": 1}


def test_clock_helper_is_daytime() -> None:
    assert moving_clock(DAY)().astimezone(UTC).hour == 3
