"""The Telegram channel against a fake Bot API on 127.0.0.1: whole conversations as a user.

Assertions are on what the fake *received* (texts, keyboards, edits), plus the database where a
conversation must leave a trace (claims, documents, inbound messages).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import FixedClock
from fake_telegram import TOKEN, FakeTelegram

from handlers.engine import Choice, Engine, Incoming, Reply
from handlers.registry import build_engine
from lingkaran import cli
from lingkaran.channels.telegram import TelegramChannel, TelegramConfig, run_telegram
from lingkaran_core.storage import Database

CHAT = 1001
NIK = "3509271505780001"
KPJ = "12345678901"  # the BPJS TK card number on the roster
DESA = "35.09.27.2002"
# A real JPEG (CPython's test/imghdrdata/python.jpg; see tests/data/README.md).
JPEG = (Path(__file__).resolve().parents[1] / "data" / "uploads" / "kartu.jpg").read_bytes()


# ---------------------------------------------------------------------------------------------
# Fixtures: the fake API, the bot running against it, and a user driving it


def config(fake: FakeTelegram, **kw: Any) -> TelegramConfig:
    """Production settings pointed at the fake (which enforces Telegram's limits), 1 s polls."""
    return TelegramConfig(token=TOKEN, api_root=fake.root, poll_timeout=1.0, **kw)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as tg:
        yield tg


@dataclass
class RunningBot:
    """``run_telegram`` in a task, restartable on the same database."""

    fake: FakeTelegram
    db: Database
    clock: FixedClock
    webhook_url: str | None = None
    secret: str | None = None
    port: int = 0
    task: asyncio.Task[None] | None = None
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    engine: Engine | None = None

    async def start(self) -> None:
        self.stop_event = asyncio.Event()
        ready = asyncio.Event()
        self.engine = build_engine(self.db, clock=self.clock, track_replies=True)
        self.task = asyncio.create_task(
            run_telegram(
                self.engine,
                self.db,
                config=config(self.fake, webhook_url=self.webhook_url, secret_token=self.secret),
                stop_event=self.stop_event,
                port=self.port,
                clock=self.clock,
                ready=ready,
            )
        )
        waiter = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait({waiter, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if self.task in done:
            waiter.cancel()
            await self.task
        assert ready.is_set()

    async def stop(self) -> float:
        """Stop; returns how long it took."""
        assert self.task is not None
        began = time.monotonic()
        self.stop_event.set()
        await self.task
        self.task = None
        return time.monotonic() - began


@pytest.fixture
async def bot(fake: FakeTelegram, db: Database, clock: FixedClock) -> AsyncIterator[RunningBot]:
    running = RunningBot(fake=fake, db=db, clock=clock)
    await running.start()
    yield running
    if running.task is not None:
        await running.stop()


@dataclass
class User:
    """A Telegram user: types, presses buttons, sends photos; reads what the bot sent."""

    fake: FakeTelegram
    chat_id: int = CHAT
    last: list[dict[str, Any]] = field(default_factory=list)

    async def _after(self, mark: int, *, at_least: int = 1) -> list[dict[str, Any]]:
        self.last = await self.fake.wait_replies(self.chat_id, since=mark, at_least=at_least)
        return self.last

    async def say(self, text: str) -> list[dict[str, Any]]:
        mark = self.fake.mark()
        self.fake.user_sends_text(self.chat_id, text)
        return await self._after(mark)

    def button(self, label: str) -> tuple[int, str]:
        """(message id, callback data) of the newest button whose label starts with ``label``."""
        for (chat, mid), message in sorted(self.fake.messages.items(), reverse=True):
            if chat != self.chat_id:
                continue
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for b in row:
                    if b["text"].lower().startswith(label.lower()):
                        return mid, b["callback_data"]
        raise AssertionError(f"no button {label!r}; last replies: {self.texts}")

    async def press(self, label: str) -> list[dict[str, Any]]:
        mid, data = self.button(label)
        mark = self.fake.mark()
        self.fake.user_presses(self.chat_id, data, mid)
        return await self._after(mark)

    async def photo(self, data: bytes = JPEG) -> list[dict[str, Any]]:
        mark = self.fake.mark()
        self.fake.user_sends_photo(self.chat_id, data)
        return await self._after(mark)

    async def contact(self, phone: str, *, someone_else: bool = False) -> list[dict[str, Any]]:
        mark = self.fake.mark()
        other = self.chat_id + 7 if someone_else else None
        self.fake.user_shares_contact(self.chat_id, phone, contact_user_id=other)
        return await self._after(mark)

    @property
    def texts(self) -> str:
        return "\n".join(m["text"] for m in self.last)

    def expect(self, *fragments: str) -> None:
        for f in fragments:
            assert f.lower() in self.texts.lower(), f"{f!r} not in:\n{self.texts}"

    def labels(self) -> list[str]:
        for m in reversed(self.last):
            kb = m.get("reply_markup") or {}
            if "inline_keyboard" in kb:
                return [b["text"] for row in kb["inline_keyboard"] for b in row]
        return []


@pytest.fixture
def user(fake: FakeTelegram) -> User:
    return User(fake)


async def seed_worker(db: Database) -> None:
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, kpj, created_at, updated_at) VALUES (?, 'Sutrisno', '1978-05-15', 'L', "
            "?, 'buruh_tani_tembakau', '2025-07-01', '2026-12-01', ?, 'x', 'x')",
            (NIK, DESA, KPJ),
        )


async def link(user: User) -> None:
    await user.say("/start")
    await user.press("Cek kepesertaan")
    user.expect("NIK")
    await user.say(NIK)
    user.expect("tanggal lahir")
    await user.say("15-05-1978")
    await confirm_with_kpj(user)


async def confirm_with_kpj(user: User) -> None:
    """The second factor: NIK + date of birth alone show nothing (the date is in the NIK)."""
    user.expect("Data belum kami tampilkan")
    await user.press("Nomor kartu KPJ")
    await user.say(KPJ)


async def jkk_until_phone(user: User, *, who: str = "Saya sendiri", name: str = "") -> None:
    await user.press("Lapor kecelakaan")
    user.expect("Siapa yang celaka?")
    await user.press(who)
    if who == "Orang lain":
        await user.press("Tidak tahu")  # NIK unknown
        await user.say(name)
    user.expect("Kapan kecelakaannya terjadi?")
    await user.press("Hari ini")
    await user.press("Pagi")
    user.expect("Di mana kejadiannya?")
    await user.say("sawah di Sukoreno")
    await user.press("Tidak")  # not a traffic accident
    await user.say("tangan terkena sabit")
    await user.press("Rawat jalan")
    user.expect("puskesmas mana")
    await user.say("Puskesmas Kalisat")
    user.expect("Nomor HP")


async def count(db: Database, sql: str, params: tuple[Any, ...] = ()) -> int:
    async with db.read() as r:
        return int(await r.scalar(sql, params))


# ---------------------------------------------------------------------------------------------
# (a) start


async def test_start_sends_the_welcome_and_the_menu_keyboard(
    bot: RunningBot, fake: FakeTelegram, user: User
) -> None:
    replies = await user.say("/start")
    user.expect("Selamat datang", "GRATIS", "Menu utama")
    assert all("parse_mode" not in m for m in replies)
    menu = replies[-1]["reply_markup"]["inline_keyboard"]
    flat = [b for row in menu for b in row]
    assert [b["text"] for b in flat][:3] == [
        "Cek kepesertaan",
        "Lapor kecelakaan",
        "Lapor kematian",
    ]
    assert all(len(row) <= 2 for row in menu)
    assert all(b["callback_data"].split("|")[1] for b in flat)
    assert all(len(b["callback_data"].encode()) <= 64 for b in flat)
    commands = fake.calls_of("setMyCommands")
    assert {c.params.get("language_code") for c in commands} == {None, "en"}
    assert any(cmd["command"] == "batal" for cmd in commands[0].params["commands"])


# ---------------------------------------------------------------------------------------------
# (b) link account -> coverage


async def test_linking_an_account_shows_the_coverage_status(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    await seed_worker(db)
    await user.say("/start")
    mark = fake.mark()
    await user.press("Cek kepesertaan")
    user.expect("NIK")
    # One budgeted call for the press: the next question, which shows the choice first.
    assert user.last[0]["text"].startswith("✓ Cek kepesertaan\n\n")
    counted = [c.method for c in fake.calls[mark:] if c.method.startswith(("send", "edit"))]
    assert counted == ["sendMessage"]
    assert len(fake.calls_of("answerCallbackQuery", since=mark)) == 1
    await user.say(NIK)
    await user.say("15-05-1978")
    await confirm_with_kpj(user)
    user.expect("Data cocok", "Sutrisno DILINDUNGI sampai 31 Desember 2026")
    assert "Cek kepesertaan" in user.labels()  # the menu is back


# ---------------------------------------------------------------------------------------------
# (c) JKK report with buttons and a photo -> stored claim


async def test_a_jkk_report_made_with_buttons_and_a_photo_is_stored_with_its_document(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    await seed_worker(db)
    await link(user)
    await jkk_until_phone(user)
    ask = user.last[-1]
    assert ask["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    await user.contact("6281234567890")
    user.expect("Mohon periksa", "+6281234567890", "Sudah benar?")
    # The contact keyboard is removed from the chat once the contact came.
    assert user.last[-1]["reply_markup"].get("inline_keyboard")
    await user.press("Kirim")
    user.expect("Nomor laporan: LC-2026-", "Silakan kirim foto kartu peserta")
    await user.photo()
    user.expect("Kartu peserta BPJS TK diterima")

    async with db.read() as r:
        claims = await r.all("SELECT id, ref, type, status, claimant_phone FROM claims")
        docs = await r.all("SELECT claim_id, kind, path, mime, size FROM claim_documents")
    assert len(claims) == 1
    assert claims[0]["type"] == "JKK"
    assert claims[0]["claimant_phone"] == "+6281234567890"
    assert len(docs) == 1
    assert docs[0]["claim_id"] == claims[0]["id"]
    assert docs[0]["mime"] == "image/jpeg"
    stored = Path(docs[0]["path"])
    assert await asyncio.to_thread(stored.read_bytes) == JPEG
    assert stored.is_relative_to(db.files_dir)
    # The largest photo size was downloaded, not the thumbnail.
    downloads = fake.calls_of("getFile")
    assert downloads[-1].params["file_id"] != "F1"


# ---------------------------------------------------------------------------------------------
# (d) stale keyboards and double presses


async def test_a_double_press_on_send_submits_the_report_once(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    await seed_worker(db)
    await link(user)
    await jkk_until_phone(user)
    await user.contact("6281234567890")
    mid, data = user.button("Kirim")
    mark = fake.mark()
    first = fake.user_presses(CHAT, data, mid)
    second = fake.user_presses(CHAT, data, mid)
    await user._after(mark)
    await fake.wait_for(lambda: len(fake.calls_of("answerCallbackQuery", since=mark)) == 2)
    answers = {
        c.params["callback_query_id"]: c.params
        for c in fake.calls_of("answerCallbackQuery", since=mark)
    }
    assert "text" not in answers[first]
    assert "tidak berlaku" in answers[second]["text"]
    assert sum("Nomor laporan" in m["text"] for m in user.last) == 1
    assert await count(db, "SELECT COUNT(*) FROM claims") == 1


async def test_a_press_on_an_old_keyboard_only_gets_a_toast(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    await user.say("/start")
    old_mid, old_data = user.button("Lapor kecelakaan")
    await user.say("menu")  # a new menu: the first keyboard is now stale
    mark = fake.mark()
    fake.user_presses(CHAT, old_data, old_mid)
    await fake.wait_for(lambda: bool(fake.calls_of("answerCallbackQuery", since=mark)))
    await asyncio.sleep(0.3)
    assert "tidak berlaku" in fake.calls_of("answerCallbackQuery", since=mark)[0].params["text"]
    assert fake.sent(CHAT, since=mark) == []  # nothing started, no message
    assert "reply_markup" not in fake.messages[(CHAT, old_mid)]  # stale keyboard removed
    async with db.read() as r:
        assert await r.scalar("SELECT flow FROM conversations") == "menu"


# ---------------------------------------------------------------------------------------------
# (e) restart mid-flow


async def test_a_restarted_bot_continues_at_the_same_step(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    await seed_worker(db)
    await link(user)
    await user.press("Lapor kecelakaan")
    await user.press("Saya sendiri")
    await user.press("Hari ini")
    user.expect("jam berapa")
    took = await bot.stop()
    assert took < 1.0, f"shutdown took {took:.2f}s"
    await bot.start()
    await user.press("Pagi")  # a keyboard sent by the previous process
    user.expect("Di mana kejadiannya?")
    await user.say("sawah di Sukoreno")
    user.expect("kecelakaan lalu lintas")


# ---------------------------------------------------------------------------------------------
# (f) 429 with retry_after


async def test_a_429_is_waited_out_and_the_message_delivered_once(
    bot: RunningBot, fake: FakeTelegram, user: User
) -> None:
    fake.fail_next_sends(1, retry_after=1)
    mark = fake.mark()
    fake.user_sends_text(CHAT, "/start")
    # The welcome, the safety note and the menu travel as one message (channels.base.coalesce).
    replies = await fake.wait_replies(CHAT, since=mark, at_least=1, within=10)
    texts = [m["text"] for m in replies]
    assert len(texts) == len(set(texts)) == 1
    sends = [c for c in fake.calls[mark:] if c.method == "sendMessage"]
    assert sends[0].status == 429
    assert sends[1].status == 200
    assert sends[1].params["text"] == sends[0].params["text"]
    assert sends[1].at - sends[0].at >= 1.0


# ---------------------------------------------------------------------------------------------
# (g) long text, (h) characters that are markup elsewhere


async def test_a_long_text_is_split_on_lines_with_the_keyboard_under_the_last_part(
    fake: FakeTelegram, db: Database
) -> None:
    # The outbox path (TelegramSender) renders exactly like conversation replies.
    running = await _channel(fake, RecordingEngine(db))
    lines = [f"{i:04d} " + "Iuran dibayar Pemkab Jember. " * 3 for i in range(120)]
    text = "\n".join(lines)
    reply = Reply(text=text, choices=(Choice(id="ok", label="Oke"),), step_token="3")
    result = await running.sender.send_reply(str(CHAT), reply)
    parts = fake.sent(CHAT)
    assert len(parts) == len(result.message_ids) >= 3
    assert all(len(p["text"]) <= 4096 for p in parts)
    assert "\n".join(p["text"] for p in parts) == text
    assert all("reply_markup" not in p for p in parts[:-1])
    assert parts[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "3|ok"
    await running.stop()


async def test_a_name_with_markup_characters_arrives_exactly_as_typed(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    name = "Siti_*[Aminah]* <b>&amp; `x`"
    await seed_worker(db)
    await link(user)
    await jkk_until_phone(user, who="Orang lain", name=name)
    await user.say("081234567890")
    user.expect("Mohon periksa")
    assert name in user.texts
    assert all("parse_mode" not in c.params for c in fake.calls_of("sendMessage"))


# ---------------------------------------------------------------------------------------------
# (i) contact, media and other message types


async def test_someone_elses_contact_is_refused_and_the_question_asked_again(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    await seed_worker(db)
    await link(user)
    await jkk_until_phone(user)
    await user.contact("6289876543210", someone_else=True)
    user.expect("Itu nomor orang lain", "Nomor HP")
    await user.contact("6281234567890")
    user.expect("Mohon periksa", "+6281234567890")
    assert "6289876543210" not in user.texts


async def test_oversized_or_odd_files_and_stickers_get_a_clear_answer(
    bot: RunningBot, fake: FakeTelegram, user: User
) -> None:
    await user.say("/start")
    mark = fake.mark()
    fake.user_sends_document(CHAT, b"%PDF-1.4", mime="application/pdf", filename="a.pdf",
                             file_size=11 * 1024 * 1024)  # fmt: skip
    await user._after(mark)
    user.expect("terlalu besar")
    assert not fake.calls_of("getFile", since=mark)  # never downloaded
    mark = fake.mark()
    fake.user_sends_document(CHAT, b"PK..", mime="application/zip", filename="a.zip")
    await user._after(mark)
    user.expect("Jenis berkas itu tidak bisa kami terima")
    mark = fake.mark()
    fake.user_sends_sticker(CHAT)
    await user._after(mark)
    user.expect("pesan jenis ini belum bisa kami baca")


async def test_a_voice_note_is_kept_on_a_ticket_and_the_user_asked_to_type(
    bot: RunningBot, fake: FakeTelegram, user: User, db: Database
) -> None:
    await user.say("/start")
    mark = fake.mark()
    fake.user_sends_voice(CHAT, b"OggS\x00\x02" + bytes(4000))
    await user._after(mark)
    user.expect("pesan suara belum bisa kami dengar")
    async with db.read() as r:
        kept = await r.all("SELECT media FROM ticket_messages WHERE media IS NOT NULL")
    assert len(kept) == 1  # for a person to listen to, as on WhatsApp


async def test_group_chats_are_declined_politely_and_nothing_is_recorded(
    bot: RunningBot, fake: FakeTelegram, db: Database
) -> None:
    mark = fake.mark()
    fake.user_sends_text(-500, "/start", chat_type="group", user_id=77)
    replies = await fake.wait_replies(-500, since=mark)
    assert "obrolan pribadi" in replies[0]["text"]
    assert await count(db, "SELECT COUNT(*) FROM inbound_messages") == 0


# ---------------------------------------------------------------------------------------------
# (j) webhook mode


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_rejects_a_wrong_secret_and_processes_the_right_one(
    fake: FakeTelegram, db: Database, clock: FixedClock
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    running = RunningBot(fake=fake, db=db, clock=clock, webhook_url=url, secret="s3cret", port=port)
    await running.start()
    try:
        assert fake.webhook is not None
        assert fake.webhook["url"] == url
        assert fake.webhook["secret_token"] == "s3cret"
        assert not fake.calls_of("getUpdates")
        update = {
            "update_id": 1,
            "message": fake.make_message(CHAT, text="halo"),
        }
        async with httpx.AsyncClient() as client:
            for wrong in ({"X-Telegram-Bot-Api-Secret-Token": "nope"}, {}):
                r = await client.post(url, json=update, headers=wrong)
                assert r.status_code == 403
            await asyncio.sleep(0.2)
            assert await count(db, "SELECT COUNT(*) FROM inbound_messages") == 0
            assert fake.sent(CHAT) == []
            r = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            )
            assert r.status_code == 200
        replies = await fake.wait_replies(CHAT)
        assert any("Selamat datang" in m["text"] for m in replies)
        assert await count(db, "SELECT COUNT(*) FROM inbound_messages") == 1
    finally:
        await running.stop()


# ---------------------------------------------------------------------------------------------
# (k) configuration errors


def test_a_missing_token_exits_with_code_2_and_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for key in list(os.environ):
        if key.startswith(("TELEGRAM_", "LINGKARAN_")):
            monkeypatch.delenv(key)
    assert cli.main(["telegram", "--db", str(tmp_path / "x.db")], clock=FixedClock()) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "TELEGRAM_BOT_TOKEN" in err


async def test_a_rejected_token_exits_with_code_2(
    fake: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "4242:WRONG")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.root)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_URL", raising=False)
    code = await asyncio.to_thread(
        cli.main, ["telegram", "--db", str(tmp_path / "x.db"), "--port", "0"], clock=FixedClock()
    )
    assert code == 2
    assert "rejected TELEGRAM_BOT_TOKEN" in capsys.readouterr().err
    assert fake.calls[-1].method == "getMe"
    assert fake.calls[-1].status == 401


# ---------------------------------------------------------------------------------------------
# The deep-link payload reaches the engine as text


@dataclass
class RecordingEngine:
    """Stands in for the engine: records what the adapter hands over."""

    db: Database
    seen: list[Incoming] = field(default_factory=list)

    async def handle(self, inc: Incoming) -> list[Reply]:
        self.seen.append(inc)
        return [Reply(text="ok")]

    async def replies_sent(self, inc: Incoming) -> None:
        return None


async def _channel(fake: FakeTelegram, engine: Any) -> TelegramChannel:
    """A channel that is initialised (getMe) but not polling: for sending only."""
    return TelegramChannel(engine.db, config(fake), engine=engine, clock=FixedClock())


async def test_a_start_payload_and_slash_commands_reach_the_engine_as_text(
    fake: FakeTelegram, db: Database
) -> None:
    engine = RecordingEngine(db)
    channel = TelegramChannel(db, config(fake), engine=engine, clock=FixedClock())  # type: ignore[arg-type]
    await channel.start()
    try:
        mark = fake.mark()
        for text in ("/start K7PQ2MXR", "/start", "/batal", "/menu@lingkaran_test_bot", "halo"):
            fake.user_sends_text(CHAT, text)
        await fake.wait_replies(CHAT, since=mark, at_least=5)
    finally:
        await channel.stop()
    assert [i.text for i in engine.seen] == ["K7PQ2MXR", "/start", "batal", "menu", "halo"]
    assert {i.user_ref for i in engine.seen} == {str(CHAT)}
    assert all(i.message_id.startswith(f"{CHAT}:") for i in engine.seen)
    assert len({i.message_id for i in engine.seen}) == 5


async def test_updates_go_through_ptbs_application_and_its_rate_limiter(
    fake: FakeTelegram, db: Database
) -> None:
    from telegram import Update
    from telegram.ext import Application, TypeHandler

    from lingkaran.channels.telegram.botapi import BudgetRateLimiter

    engine = RecordingEngine(db)
    channel = TelegramChannel(db, config(fake), engine=engine, clock=FixedClock())  # type: ignore[arg-type]
    app = channel.api.application
    assert isinstance(app, Application)
    assert app.updater is None
    assert isinstance(app.bot.rate_limiter, BudgetRateLimiter)
    assert app.bot.rate_limiter.budget is channel.budget  # the one budget
    seen: list[Update] = []

    async def spy(update: Update, _context: Any) -> None:
        seen.append(update)

    app.add_handler(TypeHandler(Update, spy), group=-1)  # before ours, in the same dispatch
    granted = sum(channel.budget.granted.values())
    await channel.start()
    try:
        assert app.running
        assert channel.username == "lingkaran_test_bot"
        mark = fake.mark()
        fake.user_sends_text(CHAT, "halo")
        await fake.wait_replies(CHAT, since=mark, at_least=1)
    finally:
        await channel.stop()
    assert not app.running
    assert [u.effective_message.text for u in seen if u.effective_message] == ["halo"]
    assert [i.text for i in engine.seen] == ["halo"]
    assert sum(channel.budget.granted.values()) == granted + 1  # the reply took one permit


# ---------------------------------------------------------------------------------------------
# Replies a crash left unsent are sent at the next start


async def test_replies_committed_but_never_sent_go_out_at_the_next_start(
    fake: FakeTelegram, db: Database, clock: FixedClock
) -> None:
    engine = build_engine(db, clock=clock, track_replies=True)
    inc = Incoming(
        channel="telegram", user_ref=str(CHAT), message_id=f"{CHAT}:1", text="/start",
    )  # fmt: skip
    await engine.handle(inc)  # committed; the process "dies" before sending
    running = RunningBot(fake=fake, db=db, clock=clock)
    await running.start()
    try:
        replies = await fake.wait_replies(CHAT, at_least=1)
        assert "Selamat datang" in replies[0]["text"]
        assert replies[-1]["reply_markup"]["inline_keyboard"]
    finally:
        await running.stop()
    async with db.read() as r:
        assert await r.scalar("SELECT replies_sent FROM conversations") == 1
