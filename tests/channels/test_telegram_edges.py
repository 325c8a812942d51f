# ruff: noqa: F811  (fixtures imported from test_telegram_e2e)
"""Telegram edges (issue 21): odd and unreadable updates, blocked chats, corrected messages,
uploads checked by content, bounded webhook bodies. The channel against the fake Bot API, with
recorded payloads from ``tests/data/telegram`` (sources in tests/data/README.md).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import FixedClock
from fake_telegram import FakeTelegram
from test_telegram_e2e import (  # noqa: F401  (fixtures)
    CHAT,
    JPEG,
    NIK,
    RunningBot,
    User,
    _free_port,
    bot,
    confirm_with_kpj,
    count,
    fake,
    seed_worker,
    user,
)

from handlers.engine import Reply
from lingkaran.channels.base import HoldMessage, OutboundMessage
from lingkaran.channels.telegram import TelegramSender
from lingkaran_core.storage import Database

DATA = Path(__file__).resolve().parents[1] / "data"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "telegram" / f"{name}.json").read_text())
    return data


def unreadable(chat_id: int = CHAT, **content: Any) -> dict[str, Any]:
    """A message without an integer message id: nothing the bot can answer or record."""
    return {
        "message": {
            "message_id": "not-a-number",
            "date": 1735689600,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ani"},
            **content,
        }
    }


# -- odd and unreadable updates ------------------------------------------------------------------


async def test_shapes_ptb_cannot_parse_are_answered_for_what_they_are(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    # A document with an empty thumbnail (a WEBM video) and a poll from an older Bot API
    # server: python-telegram-bot raises on both; the bot reads the fields it uses.
    await user.say("/start")
    mark = fake.mark()
    fake.queue_recorded(recorded("document_empty_thumbnail"), chat_id=CHAT)
    await user._after(mark)
    user.expect("Jenis berkas itu tidak bisa kami terima")
    mark = fake.mark()
    fake.queue_recorded(recorded("poll_old_server"), chat_id=CHAT)
    await user._after(mark)
    user.expect("pesan jenis ini belum bisa kami baca")
    assert await count(db, "SELECT COUNT(*) FROM unparsed_updates") == 0


async def test_unreadable_updates_are_recorded_confirmed_and_polling_moves_on(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    bad_ids = [
        fake.queue_update(unreadable(text="halo")),
        fake.queue_update({"callback_query": {"id": "cq-x", "data": "1|a"}}),
    ]
    mark = fake.mark()
    fake.user_sends_text(CHAT, "/start")
    replies = await fake.wait_replies(CHAT, since=mark)
    assert any("Selamat datang" in m["text"] for m in replies)
    # Answered nothing for the two, confirmed both (the next getUpdates asked past them).
    assert len(replies) == len(fake.sent(CHAT))
    await fake.wait_for(lambda: fake.offset_confirmed(bad_ids[-1]), what="the offset")
    async with db.read() as r:
        rows = await r.all(
            "SELECT update_id, kind, error, payload FROM unparsed_updates ORDER BY update_id"
        )
    assert [int(r["update_id"]) for r in rows] == bad_ids
    assert [r["kind"] for r in rows] == ["message", "callback_query"]
    assert "message id" in rows[0]["error"]
    assert '"not-a-number"' in rows[0]["payload"]
    # Neither is in the inbound ledger: only what the bot can process is.
    assert await count(db, "SELECT COUNT(*) FROM inbound_messages") == 1


async def test_the_webhook_confirms_an_unreadable_update_with_200_and_records_it(
    fake: FakeTelegram, db: Database, clock: FixedClock
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    running = RunningBot(fake=fake, db=db, clock=clock, webhook_url=url, secret="s3cret", port=port)
    await running.start()
    try:
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        async with httpx.AsyncClient() as client:
            for i in (1, 2):
                r = await client.post(url, json={**unreadable(), "update_id": i}, headers=headers)
                assert r.status_code == 200  # anything else and Telegram redelivers it forever
        assert await count(db, "SELECT COUNT(*) FROM unparsed_updates") == 2
        assert fake.sent(CHAT) == []
    finally:
        await running.stop()


# -- a chat that blocks the bot ------------------------------------------------------------------


async def _outbox_row(db: Database, status: str = "queued") -> int:
    async with db.tx() as tx:
        chat = await tx.scalar(
            "SELECT id FROM chats WHERE channel = 'telegram' AND user_ref = ?", (str(CHAT),)
        )
        return await tx.execute(
            "INSERT INTO outbox (chat_id, channel, user_ref, msg_key, params, language, class, "
            "status, not_before, created_at, dedupe_key) VALUES (?, 'telegram', ?, 'x', '{}', 'id', "
            "'reminder', ?, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00', ?)",
            (chat, str(CHAT), status, f"k{status}"),
        )


def _message(outbox_id: int) -> OutboundMessage:
    return OutboundMessage(
        outbox_id=outbox_id,
        channel="telegram",
        user_ref=str(CHAT),
        msg_key="x",
        params={},
        language="id",
        msg_class="reminder",
        reply=Reply(text="Pengingat dokumen"),
    )


async def _blocked_at(db: Database) -> str | None:
    async with db.read() as r:
        value = await r.scalar(
            "SELECT blocked_at FROM chats WHERE channel = 'telegram' AND user_ref = ?", (str(CHAT),)
        )
    return None if value is None else str(value)


async def test_my_chat_member_blocks_and_unblocks_and_held_rows_go_again(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    await user.say("/start")
    fake.queue_recorded(recorded("my_chat_member_kicked"), chat_id=CHAT)
    for _ in range(100):
        if await _blocked_at(db):
            break
        await asyncio.sleep(0.02)
    assert await _blocked_at(db) is not None
    # The outbox sender holds the chat's rows without calling Telegram (no 403 one row at a time).
    row = await _outbox_row(db, status="held")
    assert bot.engine is not None
    sender = _sender(bot)
    mark = fake.mark()
    with pytest.raises(HoldMessage):
        await sender.send_outbound(_message(row))
    assert fake.calls_of("sendMessage", since=mark) == []
    fake.queue_recorded(recorded("my_chat_member_member"), chat_id=CHAT)
    for _ in range(100):
        if await _blocked_at(db) is None:
            break
        await asyncio.sleep(0.02)
    assert await _blocked_at(db) is None
    async with db.read() as r:
        assert await r.scalar("SELECT status FROM outbox WHERE id = ?", (row,)) == "queued"
    result = await sender.send_outbound(_message(row))
    assert result.message_ids
    assert fake.sent(CHAT, since=mark)[-1]["text"] == "Pengingat dokumen"


def _sender(bot: RunningBot) -> TelegramSender:
    # run_telegram keeps its channel private: build the sender on a channel sharing the fake.
    from test_telegram_e2e import config

    from lingkaran.channels.telegram import TelegramChannel

    assert bot.engine is not None
    channel = TelegramChannel(bot.db, config(bot.fake), engine=bot.engine, clock=bot.clock)
    _channels.append(channel)
    return channel.sender


_channels: list[Any] = []


@pytest.fixture(autouse=True)
async def _close_channels() -> Any:
    yield
    while _channels:
        await _channels.pop().stop()


async def test_a_403_blocked_marks_the_chat_and_holds_instead_of_failing(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    await user.say("/start")
    fake.blocked.add(CHAT)
    sender = _sender(bot)
    row = await _outbox_row(db)
    with pytest.raises(HoldMessage):
        await sender.send_outbound(_message(row))
    assert await _blocked_at(db) is not None
    mark = fake.mark()
    with pytest.raises(HoldMessage):
        await sender.send_outbound(_message(row))
    assert not [c for c in fake.calls[mark:] if c.method == "sendMessage"]  # not even tried


# -- a corrected message -------------------------------------------------------------------------


async def test_an_edit_at_a_text_step_is_offered_and_used_when_accepted(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    await seed_worker(db)
    await user.say("/start")
    await user.press("Cek kepesertaan")
    user.expect("NIK")
    mark = fake.mark()
    fake.user_sends_text(CHAT, "3509271505780")  # a digit short
    await user._after(mark)
    wrong_id = max(mid for (chat, mid) in fake.messages if chat == CHAT) - 1
    edit = recorded("edited_message")
    edit["edited_message"]["message_id"] = wrong_id
    mark = fake.mark()
    fake.queue_recorded(edit, chat_id=CHAT)
    offer = await user._after(mark)
    assert NIK in offer[-1]["text"]
    assert "Pakai teks ini" in user.labels()
    await user.press("Pakai teks ini")
    user.expect("tanggal lahir")  # the corrected NIK was taken
    # Pressing the offer again does nothing more.
    assert len([m for m in user.last if "tanggal lahir" in m["text"].lower()]) == 1


async def test_an_edit_at_a_button_step_is_ignored_quietly(
    bot: RunningBot, fake: FakeTelegram, user: User
) -> None:
    await user.say("/start")  # the main menu: buttons
    edit = recorded("edited_message")
    edit["edited_message"]["message_id"] = 1
    mark = fake.mark()
    uid = fake.queue_recorded(edit, chat_id=CHAT)
    await fake.wait_for(lambda: fake.offset_confirmed(uid), what="the edit confirmed")
    await asyncio.sleep(0.3)
    assert fake.sent(CHAT, since=mark) == []


# -- uploads checked by content ------------------------------------------------------------------


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(400)
HTML = b"<!doctype html><html><body>" + b"x" * 400 + b"</body></html>"


@pytest.mark.parametrize(
    ("data", "mime", "name", "answer"),
    [
        (ELF, "application/pdf", "surat.pdf", "Jenis berkas itu tidak bisa kami terima"),
        (HTML, "application/pdf", "surat.pdf", "Jenis berkas itu tidak bisa kami terima"),
        (b"", "application/pdf", "kosong.pdf", "kosong atau terlalu kecil"),
        (b"%", "application/pdf", "satu.pdf", "kosong atau terlalu kecil"),
        (JPEG[: len(JPEG) // 2], "image/jpeg", "potong.jpg", "rusak atau tidak lengkap"),
    ],
)
async def test_a_document_is_judged_by_its_bytes_and_refused_ones_are_not_stored(
    bot: RunningBot,
    fake: FakeTelegram,
    user: User,
    db: Database,
    data: bytes,
    mime: str,
    name: str,
    answer: str,
) -> None:
    await user.say("/start")
    mark = fake.mark()
    fake.user_sends_document(CHAT, data, mime=mime, filename=name)
    await user._after(mark)
    user.expect(answer)
    assert await count(db, "SELECT COUNT(*) FROM claim_documents") == 0
    files = db.files_dir
    assert not files.exists() or not any(p.is_file() for p in files.rglob("*"))


# -- bounded webhook bodies ----------------------------------------------------------------------


async def test_the_webhook_refuses_a_body_over_the_limit_with_or_without_a_length(
    fake: FakeTelegram, db: Database, clock: FixedClock
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    running = RunningBot(fake=fake, db=db, clock=clock, webhook_url=url, secret="s3cret", port=port)
    await running.start()
    try:
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret", "content-type": "application/json"}
        big = b'{"update_id": 1, "x": "' + b"a" * (2 * 1024 * 1024) + b'"}'

        async def chunked() -> Any:
            for i in range(0, len(big), 65536):
                yield big[i : i + 65536]

        async with httpx.AsyncClient() as client:
            r = await client.post(url, content=big, headers=headers)
            assert r.status_code == 413
            try:
                r = await client.post(url, content=chunked(), headers=headers)
                assert r.status_code == 413
            except httpx.HTTPError:
                pass  # the server may close the connection while the client still writes
        assert await count(db, "SELECT COUNT(*) FROM inbound_messages") == 0
    finally:
        await running.stop()


# -- no secret in any log line -------------------------------------------------------------------


async def test_neither_the_token_nor_the_webhook_secret_reaches_a_log_line(
    fake: FakeTelegram, db: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from fake_telegram import TOKEN

    caplog.set_level(logging.DEBUG)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    running = RunningBot(
        fake=fake, db=db, clock=clock, webhook_url=url, secret="s3cret-x", port=port
    )
    await running.start()
    try:
        update = {"update_id": 1, "message": fake.make_message(CHAT, text="halo")}
        async with httpx.AsyncClient() as client:
            await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "bad"})
            r = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-x"}
            )
            assert r.status_code == 200
        await fake.wait_replies(CHAT)
    finally:
        await running.stop()
    assert caplog.records
    for secret in (TOKEN, "s3cret-x"):
        leaks = [
            (r.name, r.getMessage())
            for r in caplog.records
            if secret in f"{r.getMessage()} {r.__dict__} {r.exc_text}"
        ]
        assert not leaks, leaks[:3]


async def test_after_a_telegram_conversation_no_full_nik_is_left_outside_its_tables(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    from test_whatsapp_edges import full_niks

    await seed_worker(db)
    await user.say("/start")
    await user.press("Cek kepesertaan")
    await user.say(NIK)
    await user.say("15-05-1978")
    await confirm_with_kpj(user)
    user.expect("Sutrisno")
    fake.queue_update(unreadable(caption=f"KTP saya, NIK {NIK}"))  # kept for staff, masked
    document = recorded("document_empty_thumbnail")
    document["message"]["caption"] = f"NIK {NIK}"  # recorded until processed, then forgotten
    fake.queue_recorded(document, chat_id=CHAT)
    edit = recorded("edited_message")  # carries the NIK, and is recorded nowhere in full
    edit["edited_message"]["message_id"] = 1
    fake.queue_recorded(edit, chat_id=CHAT)
    for _ in range(200):
        if await count(db, "SELECT COUNT(*) FROM unparsed_updates") == 1 and not await count(
            db, "SELECT COUNT(*) FROM inbound_messages WHERE payload IS NOT NULL"
        ):
            break
        await asyncio.sleep(0.02)
    assert any("Jenis berkas" in m["text"] for m in fake.sent(CHAT))
    assert await full_niks(db, NIK) == []
    async with db.read() as r:
        assert "3509********0001" in str(await r.scalar("SELECT payload FROM unparsed_updates"))
