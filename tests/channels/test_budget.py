"""The send budget of one identity: strict priority, no burst past the limit, pauses on 429."""

from __future__ import annotations

import asyncio

from lingkaran.channels.budget import BROADCAST, REMINDER, REPLY, TRANSACTIONAL, SendBudget


def _max_in_window(times: list[float], window: float) -> int:
    best = 0
    j = 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


async def test_a_start_up_burst_stays_inside_the_limit() -> None:
    budget = SendBudget(30)
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def one(priority: int) -> None:
        async with budget.permit(priority):
            times.append(loop.time())

    t0 = loop.time()
    await asyncio.gather(*(one(REPLY if i % 2 else BROADCAST) for i in range(75)))
    times.sort()
    # Never more than 30 in any one-second window, whatever asked at once.
    assert _max_in_window(times, 1.0) <= 30
    assert times[-1] - t0 < 2.6  # and no slower than the budget allows


async def test_waiting_callers_are_served_in_strict_priority() -> None:
    budget = SendBudget(20)
    for _ in range(20):
        async with budget.permit(REPLY):  # the window fills up
            pass
    order: list[int] = []

    async def one(priority: int) -> None:
        async with budget.permit(priority):
            order.append(priority)

    tasks = [asyncio.create_task(one(p)) for p in (BROADCAST, REMINDER, BROADCAST, TRANSACTIONAL)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(one(REPLY)))
    await asyncio.gather(*tasks)
    assert order == [REPLY, TRANSACTIONAL, REMINDER, BROADCAST, BROADCAST]


async def test_a_reply_overtakes_a_saturating_broadcast_within_one_spacing() -> None:
    budget = SendBudget(30)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    async def broadcast() -> None:
        while not stop.is_set():
            async with budget.permit(BROADCAST):
                pass

    workers = [asyncio.create_task(broadcast()) for _ in range(8)]
    await asyncio.sleep(1.2)  # the window is full of bulk by now
    waits = []
    for _ in range(5):
        t0 = loop.time()
        async with budget.permit(REPLY):
            pass
        waits.append(loop.time() - t0)
        await asyncio.sleep(0.13)
    stop.set()
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    assert max(waits) < 3 * budget.spacing + 0.05, waits
    assert budget.granted[BROADCAST] > 25  # bulk used what the replies left


async def test_a_429_for_one_chat_pauses_that_chat_and_for_two_chats_everyone() -> None:
    budget = SendBudget(100)
    loop = asyncio.get_running_loop()
    budget.throttled(0.3, chat="1001")
    t0 = loop.time()
    async with budget.permit(REPLY, chat="2002"):
        pass  # another chat goes at once
    assert loop.time() - t0 < 0.05
    async with budget.permit(REPLY, chat="1001"):
        pass  # this one waits its pause out
    assert loop.time() - t0 >= 0.29
    budget.throttled(0.3, chat="1001")
    budget.throttled(0.3, chat="3003")  # two chats within a second: the whole identity
    t0 = loop.time()
    async with budget.permit(REPLY, chat="4004"):
        pass
    assert loop.time() - t0 >= 0.29
    assert budget.throttles == 3


async def test_a_call_holds_its_slot_until_answered_and_a_window_after() -> None:
    # The API counts a request when it arrives, somewhere before its answer: the slot is free
    # again one window after the answer, whatever the network did to the request.
    budget = SendBudget(2)
    loop = asyncio.get_running_loop()
    t0 = loop.time()

    async def slow_call() -> None:
        async with budget.permit(REPLY):
            await asyncio.sleep(0.3)

    first = asyncio.create_task(slow_call())
    second = asyncio.create_task(slow_call())
    await asyncio.sleep(0)
    async with budget.permit(REPLY):
        waited = loop.time() - t0
    await asyncio.gather(first, second)
    assert waited >= 0.3 + budget.window - 0.01


async def test_a_cancelled_waiter_gives_its_permit_back() -> None:
    budget = SendBudget(1)
    async with budget.permit(REPLY):
        waiter = asyncio.create_task(budget.acquire(BROADCAST))
        await asyncio.sleep(0.01)
        waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert budget.waiting == 0
