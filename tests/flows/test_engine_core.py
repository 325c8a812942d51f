"""The dialog engine itself: ordering, exactly-once, replay, errors, matching, opt-out."""

from __future__ import annotations

import asyncio
import logging

import pytest
from conftest import ChatDriver, FixedClock

from handlers.engine import (
    End,
    Engine,
    Flow,
    Incoming,
    Option,
    Reply,
    Step,
    match_option,
)
from handlers.i18n import translator
from handlers.registry import all_flows
from lingkaran_core.storage import Database


def _inc(clock: FixedClock, text: str, mid: str, user: str = "u1") -> Incoming:
    return Incoming(channel="terminal", user_ref=user, message_id=mid, text=text)


async def test_messages_of_one_user_are_handled_in_arrival_order(
    engine: Engine, clock: FixedClock
) -> None:
    await engine.handle(_inc(clock, "menu", "m0"))
    # Sent together: the second must see the state the first left (the link flow's NIK step).
    first, second = await asyncio.gather(
        engine.handle(_inc(clock, "Cek kepesertaan", "m1")),
        engine.handle(_inc(clock, "12345", "m2")),
    )
    assert "NIK" in first[-1].text
    assert "16 angka" in second[-1].text


async def test_different_users_do_not_wait_for_each_other_s_lock(
    engine: Engine, clock: FixedClock
) -> None:
    results = await asyncio.gather(
        *(engine.handle(_inc(clock, "menu", f"x{i}", user=f"user{i}")) for i in range(20))
    )
    assert all(r for r in results)


async def test_a_redelivered_message_has_no_second_effect_and_no_second_reply(
    chat: ChatDriver,
) -> None:
    await chat.send("menu", message_id="dup-1")
    assert chat.replies
    await chat.send("menu", message_id="dup-1")
    assert chat.replies == []


async def test_replies_lost_in_a_crash_are_replayed_on_redelivery(
    db: Database, clock: FixedClock
) -> None:
    engine = Engine(db, all_flows(), clock=clock, track_replies=True)
    first = await engine.handle(_inc(clock, "menu", "r1"))
    # The channel died before sending: the redelivery gets the same replies, effects once.
    again = await engine.handle(_inc(clock, "menu", "r1"))
    assert [r.text for r in again] == [r.text for r in first]
    await engine.replies_sent(_inc(clock, "menu", "r1"))
    assert await engine.handle(_inc(clock, "menu", "r1")) == []


async def test_an_unexpected_error_is_logged_with_a_code_and_the_user_gets_the_menu(
    db: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(ctx: object, value: object) -> End:
        raise RuntimeError("bug in a flow")

    flows = dict(all_flows())
    flows["boom"] = Flow(name="boom", steps=(Step(name="s", prompt="x", next=boom),))
    engine = Engine(db, flows, clock=clock)
    await engine.handle(_inc(clock, "menu", "e0"))
    async with db.tx() as tx:
        await tx.execute("UPDATE conversations SET flow = 'boom', step = 's'")
    replies = await engine.handle(_inc(clock, "anything", "e1"))
    assert replies[0].text.startswith("Maaf, ada gangguan")
    assert "Traceback" not in " ".join(r.text for r in replies)
    assert any(c.id == "coverage" for c in replies[-1].choices)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors
    assert getattr(errors[0], "correlation_id", None)
    assert errors[0].correlation_id in replies[0].text  # type: ignore[attr-defined]
    caplog.clear()  # the error was the point of this test


@pytest.mark.parametrize("typed", ["2", "Tidak", "tidak", "  TIDAK ", "2.", "no 2"])
def test_a_choice_can_be_typed_as_its_number_or_label(typed: str) -> None:
    options = [Option(id="yes", label="Ya"), Option(id="no", label="Tidak")]
    inc = Incoming(channel="t", user_ref="u", message_id="m", text=typed)  # type: ignore[arg-type]
    picked = match_option(options, inc, translator("id"))
    assert picked is not None
    assert picked.id == "no"


def test_an_unknown_button_id_matches_nothing() -> None:
    options = [Option(id="yes", label="Ya")]
    inc = Incoming(channel="t", user_ref="u", message_id="m", choice_id="w:99")  # type: ignore[arg-type]
    assert match_option(options, inc, translator("id")) is None


async def test_berhenti_opts_out_mulai_opts_back_in_and_start_does_not(
    chat: ChatDriver, db: Database
) -> None:
    async def opted_out() -> int:
        async with db.read() as r:
            return int(await r.scalar("SELECT opted_out FROM chats WHERE user_ref = 'u1'"))

    await chat.send("menu")
    await chat.send("BERHENTI")
    chat.expect("tidak kami kirim lagi", "Kabar klaim")
    assert await opted_out() == 1
    await chat.send("/start")
    assert await opted_out() == 1
    await chat.send("MULAI")
    chat.expect("Pengingat akan kami kirim lagi")
    assert await opted_out() == 0


async def test_a_stale_conversation_restarts_at_the_menu_with_a_note(
    chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.send("menu")
    await chat.tap("Cek kepesertaan")
    clock.advance(hours=25)
    await chat.send("3509271505780001")
    chat.expect("sudah lama berhenti", "Menu utama")


async def test_the_english_user_gets_english_text(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.send("bahasa")
    await chat.tap("English")
    chat.expect("Language changed to English")
    await chat.send("menu")
    chat.expect("Main menu")


def test_every_reply_type_round_trips_for_replay() -> None:
    from handlers.engine import Choice, reply_from_dict, reply_to_dict

    r = Reply(text="x", choices=(Choice(id="a", label="A", description="d"),), step_token="3")
    assert reply_from_dict(reply_to_dict(r)) == r


@pytest.mark.sqlite_only
async def test_a_write_lock_held_by_another_process_delays_a_message_but_never_fails_it(
    engine: Engine, clock: FixedClock, db_path: object
) -> None:
    import sqlite3

    await engine.handle(_inc(clock, "menu", "lock-0"))
    other = sqlite3.connect(str(db_path), isolation_level=None)  # e.g. the admin CLI
    other.execute("BEGIN IMMEDIATE")
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, other.execute, "COMMIT")
    t0 = loop.time()
    replies = await engine.handle(_inc(clock, "Cek kepesertaan", "lock-1"))
    waited = loop.time() - t0
    other.close()
    assert "NIK" in replies[-1].text  # handled normally, not the apology
    assert waited >= 0.25  # it waited for the lock (in the database thread, not the loop)
