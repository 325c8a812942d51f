"""Our bot through PTB's real ``Application.process_update``, beside PTB baselines in the same run.

Every contender is a real PTB 22 ``Application`` whose Bot API calls are answered in-process by
``LocalRequest`` (a ``telegram.request.BaseRequest`` subclass: getMe, sendMessage,
editMessageText, editMessageReplyMarkup, answerCallbackQuery answered at once, no sockets;
TECH.md §1 "Offline tests B"). The same driver feeds each of them the same updates the same way:
200 simulated users at once, each user's updates one after the other (the next one only when
``process_update`` of the previous one has returned: per-user order, as our adapter and a
``ConversationHandler`` both need), all users gathered. A user presses the button when the bot's
last message offered an inline keyboard and the scripted answer is a button number, otherwise
types the answer. The update is built with ``Update.de_json`` inside the timed region, as a
webhook would.

Contenders:

* **ours**: ``lingkaran.channels.telegram.TelegramChannel`` on
  ``handlers.registry.build_engine(db, track_replies=True)`` over a real SQLite file with
  1k / 50k / 200k users' chats and conversations already stored. Each update goes the
  production way minus the HTTP: recorded by the durable intake (``Intake.record``), then
  processed (``Intake._process``: ``Update.de_json``, PTB's ``Application.process_update``,
  the engine, replies through ``ExtBot`` and the ``BudgetRateLimiter``, the payload forgotten);
  the channel's Application gets the same in-process answers (``LocalRequest``, PTB's
  ``BaseRequest``). The state is committed (WAL, synchronous=NORMAL) before the replies go out,
  at every step.
* **ConversationHandler + PicklePersistence**: the same two flows written the usual PTB way
  (states, ``MessageHandler(filters.TEXT, ...)``, ``CallbackQueryHandler``, answers in
  ``context.user_data``, inline keyboards, ``✓`` edits), with 1k / 50k users' ``user_data`` and
  conversation states already in the pickle. Two settings: ``update_interval=0.05`` (closest to
  durable PTB offers; each dirty user and each changed state rewrites the whole pickle) and the
  default ``update_interval=60`` (a crash loses up to a minute of every user's state).
* **echo**: the cheapest PTB bot (one ``MessageHandler`` that answers the text): PTB's ceiling on
  this path.

The rate limiter is off for every contender (the Bot API answers instantly here; the limiter's
30 msg/s would measure only itself). Run alone: ``python -m benchmarks.bench_ptb [--transcript]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import pickle
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.request import BaseRequest, RequestData

TOKEN = "4242:BENCH-local-token"
USERS = 200
FIRST_USER = 1_000_001  # benchmark users' chat ids; stored users get other ids
STORED_BASE = 50_000_001
NOW_TS = 1_764_039_600  # 2025-11-25 03:00 UTC
# The same scripts as benchmarks/bench_engine.py: self-screening and the JKK report.
ELIGIBILITY = ["menu", "5", "2", "47", "puger kulun", "1", "3", "2", "3", "2"]
JKK = [
    "menu",
    "2",
    "2",
    "3509271505780001",
    "2",
    "3",
    "gudang tembakau di sukoreno",
    "2",
    "jatuh dari tangga, kaki patah",
    "2",
    "rsd soebandi",
    "081234567890",
    "1",
    "1",
]
BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Lingkaran Cinta", "username": "lc_bot"}
STORED_ANSWERS = {
    "age": 47,
    "desa": "35.09.27.2002",
    "sector": "buruh_tani_tembakau",
    "other_bpjs": "no",
    "dtsen": "3",
}


def clock() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------------------
# The Bot API, answered in-process


class LocalRequest(BaseRequest):
    """Answers the Bot API calls in-process; remembers each chat's last inline keyboard."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.keyboards: dict[int, dict[str, Any]] = {}  # chat -> last message with buttons
        self.transcript: list[str] | None = None
        self._ids = itertools.count(100)

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        await asyncio.sleep(0)  # a real round trip suspends: let other tasks run meanwhile
        name = url.rsplit("/", 1)[-1]
        p = request_data.parameters if request_data else {}
        return 200, self.answer(name, p)

    def answer(self, name: str, p: dict[str, Any]) -> bytes:
        """The Bot API's answer to ``name`` with parameters ``p`` (a JSON body)."""
        self.calls[name] += 1
        result: Any = True
        if name == "getMe":
            result = BOT_USER
        elif name in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            chat = int(p["chat_id"])
            mid = next(self._ids) if name == "sendMessage" else int(p["message_id"])
            result = {
                "message_id": mid,
                "date": NOW_TS,
                "chat": {"id": chat, "type": "private"},
                "text": p.get("text", ""),
            }
            markup = p.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                result["reply_markup"] = markup
                if name == "sendMessage":
                    self.keyboards[chat] = result
            if self.transcript is not None:
                buttons = [
                    b["text"]
                    for row in result.get("reply_markup", {}).get("inline_keyboard", [])
                    for b in row
                ]
                self.transcript.append(f"  bot {name}: {p.get('text', '')!r} {buttons or ''}")
        elif name == "answerCallbackQuery" and self.transcript is not None:
            self.transcript.append(f"  bot answerCallbackQuery {p.get('text')!r}")
        return json.dumps({"ok": True, "result": result}).encode()


# ---------------------------------------------------------------------------------------------
# The simulated users


class Driver:
    """Feeds updates to ``process_update``: per-user order, all users at once."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any] | None,
        req: LocalRequest,
        process: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    ) -> None:
        self.app = app
        self.req = req
        self.process = process or self._ptb
        self.lat: list[float] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)

    def _user(self, uid: int) -> dict[str, Any]:
        return {"id": uid, "is_bot": False, "first_name": f"U{uid}", "language_code": "id"}

    def update_for(self, uid: int, answer: str) -> dict[str, Any]:
        """A press when the last message has a button numbered ``answer``, else a text."""
        kb = self.req.keyboards.pop(uid, None)
        if kb is not None and answer.isdigit():
            buttons = [b for row in kb["reply_markup"]["inline_keyboard"] for b in row]
            n = int(answer)
            if 1 <= n <= len(buttons):
                return {
                    "update_id": next(self._update_ids),
                    "callback_query": {
                        "id": f"cb{next(self._update_ids)}",
                        "chat_instance": f"ci{uid}",
                        "from": self._user(uid),
                        "data": buttons[n - 1]["callback_data"],
                        "message": kb,
                    },
                }
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": NOW_TS,
            "chat": {"id": uid, "type": "private"},
            "from": self._user(uid),
            "text": answer,
        }
        if answer.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(answer)}]
        return {"update_id": next(self._update_ids), "message": message}

    async def walk(self, uid: int, script: list[str]) -> None:
        for answer in script:
            t0 = time.perf_counter()
            data = self.update_for(uid, answer)
            if self.req.transcript is not None:
                kind = "press" if "callback_query" in data else "types"
                self.req.transcript.append(f"user {uid} {kind} {answer!r}")
            await self.process(data)
            self.lat.append(time.perf_counter() - t0)

    async def _ptb(self, data: dict[str, Any]) -> None:
        assert self.app is not None
        await self.app.process_update(Update.de_json(data, self.app.bot))

    async def run(
        self, first: int, users: int, *, limit: float | None = None, on_cap: Any = None
    ) -> dict[str, Any] | None:
        """``users`` users (odd: self-screening, even: JKK); steps/s over the wall time.

        With ``limit``, only the steps finished within that many seconds count. A watchdog thread
        reports them through ``on_cap`` (and this returns None) when the event loop itself is
        blocked past the limit, as a big pickle rewrite loop does.
        """
        self.lat = []
        scripts = [ELIGIBILITY if i % 2 else JKK for i in range(users)]
        total = sum(map(len, scripts))
        t0 = time.perf_counter()
        fired = threading.Event()
        finished = threading.Event()

        def watchdog() -> None:
            if limit is None or on_cap is None or finished.wait(limit + 1.0):
                return
            fired.set()
            on_cap(self._stats(list(self.lat), time.perf_counter() - t0, total, blocked=True))

        threading.Thread(target=watchdog, daemon=True).start()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                await asyncio.gather(*(self.walk(first + i, s) for i, s in enumerate(scripts)))
        finished.set()
        if fired.is_set():
            return None
        return self._stats(self.lat, time.perf_counter() - t0, total, blocked=False)

    @staticmethod
    def _stats(lat: list[float], wall: float, total: int, *, blocked: bool) -> dict[str, Any]:
        lat = sorted(lat) or [float("nan")]
        return {
            "steps": len(lat),
            "capped": len(lat) < total,
            "loop_blocked": blocked,
            "wall": wall,
            "rate": len(lat) / wall,
            "p50": statistics.median(lat) * 1000,
            "p99": lat[int(len(lat) * 0.99)] * 1000,
        }


# ---------------------------------------------------------------------------------------------
# Ours


async def seed_db(db: Any, n: int) -> None:
    """n stored Telegram users: a chat and a conversation half-way through the self-screening."""
    now = clock().isoformat()
    state = json.dumps(STORED_ANSWERS)
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, created_at, updated_at) VALUES ('3509271505780001', 'Sutrisno', "
            "'1978-05-15', 'L', '35.09.27.2002', 'buruh_tani_tembakau', '2025-07-01', "
            "'2026-12-01', ?, ?)",
            (now, now),
        )
    batch = 25_000
    for start in range(0, n, batch):
        ids = range(start + 1, min(n, start + batch) + 1)
        async with db.tx() as tx:
            await tx.executemany(
                "INSERT INTO chats (id, channel, user_ref, created_at) VALUES (?, 'telegram', ?, ?)",
                ((i, str(STORED_BASE + i), now) for i in ids),
            )
            await tx.executemany(
                "INSERT INTO conversations (chat_id, flow, step, data, updated_at) "
                "VALUES (?, 'eligibility', 'consent', ?, ?)",
                ((i, state, now) for i in ids),
            )


async def measure_ours(
    stored: int, folder: Path, limit: float | None = None, transcript: list[str] | None = None
) -> None:
    """Our adapter and engine: ``emit`` the run's figures, then the shutdown time."""
    from handlers.registry import build_engine
    from lingkaran.channels.telegram import TelegramChannel, TelegramConfig, parse_update
    from lingkaran_core.storage import Database

    db = await Database.open(folder / f"ours-{stored}.db")
    try:
        t0 = time.perf_counter()
        await seed_db(db, stored)
        seed_s = time.perf_counter() - t0
        engine = build_engine(db, clock=clock, track_replies=True)
        req = LocalRequest()
        channel = TelegramChannel(
            db, TelegramConfig(token=TOKEN, rate=1000), engine=engine, clock=clock, request=req
        )
        await channel.api.application.initialize()  # getMe, answered in-process: no sockets
        intake = channel.intake

        async def process(data: dict[str, Any]) -> None:
            await intake.record([data])
            await intake._process(parse_update(data))

        driver = Driver(None, req, process)
        if transcript is not None:
            req.transcript = transcript
            await driver.run(FIRST_USER - 2, 2)
            req.transcript = None
        await driver.run(FIRST_USER - 100, 2)  # warm-up: imports, caches
        req.calls.clear()
        result = await driver.run(FIRST_USER, USERS, limit=limit)
        assert result is not None
        result["calls"] = dict(req.calls)
        async with db.read() as r:
            marks = ",".join("?" * USERS)
            rows = await r.all(
                "SELECT v.flow, v.step FROM conversations v JOIN chats c ON c.id = v.chat_id "
                f"WHERE c.channel = 'telegram' AND c.user_ref IN ({marks})",
                tuple(str(FIRST_USER + i) for i in range(USERS)),
            )
        result["ended"] = dict(Counter(f"{r['flow']}:{r['step']}" for r in rows))
        result["seed_s"] = seed_s
        emit(result)
        t0 = time.perf_counter()
        await channel.stop()
        emit({"shutdown": time.perf_counter() - t0})
    finally:
        await db.close()


# ---------------------------------------------------------------------------------------------
# Baseline (a): the same two flows as a ConversationHandler with PicklePersistence

MENU_ITEMS = [
    ("cek", "Cek kepesertaan"),
    ("jkk", "Lapor kecelakaan"),
    ("jkm", "Lapor kematian"),
    ("klaim", "Klaim saya"),
    ("elig", "Bisa ikut program?"),
    ("manfaat", "Manfaat & santunan"),
    ("beasiswa", "Beasiswa anak"),
    ("petugas", "Bicara dg petugas"),
    ("tentang", "Tentang program"),
    ("atur", "Pengaturan"),
]
SECTORS = [
    ("buruh_tani_tembakau", "Buruh tani / tembakau"),
    ("petani", "Petani"),
    ("nelayan_tangkap", "Nelayan"),
    ("pedagang", "Pedagang keliling"),
    ("guru_ngaji", "Guru ngaji / modin"),
    ("rentan", "Pekerja rentan desa"),
    ("lain", "Lainnya"),
]
DESA = {"pugerkulon": "Pugerkulon", "puger kulun": "Pugerkulon", "sukoreno": "Sukoreno"}
WORKERS = {"3509271505780001": "Sutrisno"}
(
    MENU,
    E_HOW,
    E_AGE,
    E_DESA,
    E_DESA_OK,
    E_SECTOR,
    E_OTHER,
    E_DTSEN,
    E_CONSENT,
    J_WHO,
    J_NIK,
    J_DATE,
    J_TIME,
    J_PLACE,
    J_TRAFFIC,
    J_WHAT,
    J_CONDITION,
    J_TREATED,
    J_PHONE,
    J_CONFIRM,
    J_DOCS,
) = range(21)
Ctx = ContextTypes.DEFAULT_TYPE


def keyboard(prefix: str, items: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for key, label in items:
        button = InlineKeyboardButton(label, callback_data=f"{prefix}:{key}")
        if len(label) > 20 or not rows or len(rows[-1]) == 2 or len(rows[-1][0].text) > 20:
            rows.append([button])
        else:
            rows[-1].append(button)
    return InlineKeyboardMarkup(rows)


YES_NO = [("ya", "Ya"), ("tidak", "Tidak")]
YES_NO_DK = [*YES_NO, ("tt", "Tidak tahu")]


async def pressed(update: Update) -> str:
    """Answer the press, mark the chosen label on the message, drop the keyboard; the key."""
    q = update.callback_query
    assert q is not None
    assert q.data is not None
    await q.answer()
    label = next(
        (
            b.text
            for row in (q.message.reply_markup.inline_keyboard if q.message else ())  # type: ignore[union-attr]
            for b in row
            if b.callback_data == q.data
        ),
        "",
    )
    await q.edit_message_text(f"{q.message.text}\n\n✓ {label}")  # type: ignore[union-attr]
    return q.data.split(":", 1)[1]


async def say(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    await update.effective_chat.send_message(text, reply_markup=markup)  # type: ignore[union-attr]


async def show_menu(update: Update, context: Ctx) -> int:
    context.user_data.clear()  # type: ignore[union-attr]
    await say(update, "Menu utama. Silakan pilih.", keyboard("m", MENU_ITEMS))
    return MENU


async def on_menu(update: Update, context: Ctx) -> int:
    key = await pressed(update)
    context.user_data["flow"] = key  # type: ignore[index]
    if key == "elig":
        await say(
            update,
            "Cek dengan NIK, atau jawab 5 pertanyaan?",
            keyboard("h", [("nik", "Cek dengan NIK"), ("tanya", "Jawab 5 pertanyaan")]),
        )
        return E_HOW
    await say(
        update,
        "Siapa yang celaka?",
        keyboard("w", [("saya", "Saya sendiri"), ("lain", "Orang lain")]),
    )
    return J_WHO


async def e_how(update: Update, context: Ctx) -> int:
    context.user_data["how"] = await pressed(update)  # type: ignore[index]
    await say(update, "Berapa umur Bapak/Ibu? Tulis angka saja, misalnya 45.")
    return E_AGE


async def e_age(update: Update, context: Ctx) -> int:
    text = update.message.text.strip()  # type: ignore[union-attr]
    if not text.isdigit() or not 10 <= int(text) <= 100:
        await say(update, "Mohon tulis umur dengan angka, misalnya 45.")
        return E_AGE
    context.user_data["age"] = int(text)  # type: ignore[index]
    await say(update, "Bapak/Ibu tinggal di desa apa?", keyboard("d", [("luar", "Di luar Jember")]))
    return E_DESA


async def e_desa(update: Update, context: Ctx) -> int:
    desa = DESA.get(update.message.text.strip().lower())  # type: ignore[union-attr]
    if desa is None:
        await say(update, "Desa itu tidak kami kenal. Tulis lagi nama desanya.")
        return E_DESA
    context.user_data["desa"] = desa  # type: ignore[index]
    await say(
        update, f"Maksudnya Desa {desa}?", keyboard("dc", [("ya", "Ya, benar"), ("no", "Bukan")])
    )
    return E_DESA_OK


async def e_desa_ok(update: Update, context: Ctx) -> int:
    if await pressed(update) != "ya":
        await say(update, "Tulis lagi nama desanya.")
        return E_DESA
    await say(update, "Apa pekerjaan utama Bapak/Ibu?", keyboard("s", SECTORS))
    return E_SECTOR


async def e_sector(update: Update, context: Ctx) -> int:
    context.user_data["sector"] = await pressed(update)  # type: ignore[index]
    await say(
        update, "Sudah jadi peserta BPJS Ketenagakerjaan di tempat lain?", keyboard("o", YES_NO_DK)
    )
    return E_OTHER


async def e_other(update: Update, context: Ctx) -> int:
    context.user_data["other_bpjs"] = await pressed(update)  # type: ignore[index]
    await say(update, "Apakah keluarga Bapak/Ibu terdata di DTSEN?", keyboard("t", YES_NO_DK))
    return E_DTSEN


async def e_dtsen(update: Update, context: Ctx) -> int:
    context.user_data["dtsen"] = await pressed(update)  # type: ignore[index]
    await say(
        update,
        "Mungkin memenuhi syarat. Boleh kami teruskan ke pendamping desa?",
        keyboard("c", [("ya", "Boleh"), ("no", "Tidak usah")]),
    )
    return E_CONSENT


async def e_consent(update: Update, context: Ctx) -> int:
    context.user_data["consent"] = await pressed(update)  # type: ignore[index]
    await say(update, "Baik. Terima kasih.", keyboard("m", MENU_ITEMS))
    return MENU


async def j_who(update: Update, context: Ctx) -> int:
    context.user_data["who"] = await pressed(update)  # type: ignore[index]
    await say(update, "Berapa NIK orang yang celaka?", keyboard("n", [("tt", "Tidak tahu")]))
    return J_NIK


async def j_nik(update: Update, context: Ctx) -> int:
    nik = update.message.text.strip()  # type: ignore[union-attr]
    if len(nik) != 16 or not nik.isdigit():
        await say(update, "NIK harus 16 angka. Tulis lagi.")
        return J_NIK
    context.user_data["nik"] = nik  # type: ignore[index]
    context.user_data["name"] = WORKERS.get(nik, "")  # type: ignore[index]
    await say(update, f"Data ditemukan: {context.user_data['name']}.")  # type: ignore[index]
    await say(
        update,
        "Kapan kecelakaannya terjadi?",
        keyboard("dt", [("today", "Hari ini"), ("kemarin", "Kemarin")]),
    )
    return J_DATE


async def j_date(update: Update, context: Ctx) -> int:
    context.user_data["date"] = await pressed(update)  # type: ignore[index]
    times = [("pagi", "Pagi"), ("siang", "Siang"), ("sore", "Sore"), ("malam", "Malam")]
    await say(update, "Kira-kira jam berapa?", keyboard("tm", times))
    return J_TIME


async def j_time(update: Update, context: Ctx) -> int:
    context.user_data["time"] = await pressed(update)  # type: ignore[index]
    await say(update, "Di mana kejadiannya?")
    return J_PLACE


async def j_place(update: Update, context: Ctx) -> int:
    context.user_data["place"] = update.message.text.strip()  # type: ignore[union-attr,index]
    await say(update, "Apakah ini kecelakaan lalu lintas?", keyboard("tr", YES_NO))
    return J_TRAFFIC


async def j_traffic(update: Update, context: Ctx) -> int:
    context.user_data["traffic"] = await pressed(update)  # type: ignore[index]
    await say(update, "Apa yang terjadi?")
    return J_WHAT


async def j_what(update: Update, context: Ctx) -> int:
    context.user_data["what"] = update.message.text.strip()  # type: ignore[union-attr,index]
    conditions = [
        ("inap", "Dirawat inap"),
        ("jalan", "Rawat jalan"),
        ("belum", "Belum berobat"),
        ("md", "Meninggal dunia"),
    ]
    await say(update, "Bagaimana keadaannya sekarang?", keyboard("cd", conditions))
    return J_CONDITION


async def j_condition(update: Update, context: Ctx) -> int:
    context.user_data["condition"] = await pressed(update)  # type: ignore[index]
    await say(update, "Di rumah sakit atau puskesmas mana?")
    return J_TREATED


async def j_treated(update: Update, context: Ctx) -> int:
    context.user_data["treated_at"] = update.message.text.strip()  # type: ignore[union-attr,index]
    await say(update, "Nomor HP yang bisa dihubungi petugas?")
    return J_PHONE


async def j_phone(update: Update, context: Ctx) -> int:
    phone = update.message.text.strip()  # type: ignore[union-attr]
    if not (phone.startswith("08") and phone.isdigit() and 10 <= len(phone) <= 13):
        await say(update, "Nomor HP tidak dikenali. Tulis lagi.")
        return J_PHONE
    context.user_data["phone"] = "+62" + phone[1:]  # type: ignore[index]
    summary = "\n".join(f"- {k}: {v}" for k, v in context.user_data.items())  # type: ignore[union-attr]
    await say(
        update,
        f"Mohon periksa:\n{summary}\nSudah benar?",
        keyboard("cf", [("kirim", "Kirim"), ("ubah", "Ubah"), ("batal", "Batal")]),
    )
    return J_CONFIRM


async def j_confirm(update: Update, context: Ctx) -> int:
    await pressed(update)
    context.bot_data["claims"] = number = context.bot_data.get("claims", 0) + 1
    context.user_data["claim"] = number  # type: ignore[index]
    await say(update, f"Terkirim. Nomor laporan: LC-2026-{number:06d}.")
    await say(update, "Kecelakaan kerja perlu sampai ke BPJS Ketenagakerjaan dalam 2×24 jam.")
    await say(update, "Katakan ke rumah sakit: ini kecelakaan kerja.")
    await say(update, "Dokumen yang perlu difoto: ...")
    await say(
        update,
        "Silakan kirim foto kartu peserta.",
        keyboard("dc", [("nanti", "Nanti saja"), ("lain", "Dokumen lain")]),
    )
    return J_DOCS


async def j_docs(update: Update, context: Ctx) -> int:
    await pressed(update)
    await say(update, "Baik. Kirim kapan saja lewat menu.", keyboard("m", MENU_ITEMS))
    return MENU


def conversation_handler(*, persistent: bool = True) -> ConversationHandler[Any]:
    def button(callback: Callable[[Update, Ctx], Awaitable[int]]) -> list[Any]:
        return [CallbackQueryHandler(callback)]

    def text(callback: Callable[[Update, Ctx], Awaitable[int]]) -> list[Any]:
        return [MessageHandler(filters.TEXT & ~filters.COMMAND, callback)]

    menu = MessageHandler(filters.Regex(r"(?i)^menu$"), show_menu)
    return ConversationHandler(
        entry_points=[menu, CommandHandler("start", show_menu)],
        states={
            MENU: button(on_menu),
            E_HOW: button(e_how),
            E_AGE: text(e_age),
            E_DESA: text(e_desa),
            E_DESA_OK: button(e_desa_ok),
            E_SECTOR: button(e_sector),
            E_OTHER: button(e_other),
            E_DTSEN: button(e_dtsen),
            E_CONSENT: button(e_consent),
            J_WHO: button(j_who),
            J_NIK: text(j_nik),
            J_DATE: button(j_date),
            J_TIME: button(j_time),
            J_PLACE: text(j_place),
            J_TRAFFIC: button(j_traffic),
            J_WHAT: text(j_what),
            J_CONDITION: button(j_condition),
            J_TREATED: text(j_treated),
            J_PHONE: text(j_phone),
            J_CONFIRM: button(j_confirm),
            J_DOCS: button(j_docs),
        },
        fallbacks=[menu],
        allow_reentry=True,
        name="lingkaran",
        persistent=persistent,
    )


def seed_pickle(path: Path, n: int) -> None:
    """n stored users half-way through the self-screening, flushed once (PTB's file layout)."""
    users = range(STORED_BASE + 1, STORED_BASE + n + 1)
    data = {
        "user_data": {u: {"flow": "elig", **STORED_ANSWERS} for u in users},
        "chat_data": {u: {} for u in users},
        "bot_data": {},
        "callback_data": None,
        "conversations": {"lingkaran": {(u, u): E_CONSENT for u in users}},
    }
    with path.open("wb") as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)


def ptb_app(req: LocalRequest, persistence: PicklePersistence[Any, Any, Any] | None = None) -> Any:
    builder = Application.builder().token(TOKEN).request(req).updater(None)
    builder = builder.concurrent_updates(True)  # as ours; process_update ignores it
    if persistence is not None:
        builder = builder.persistence(persistence)
    return builder.build()


async def measure_ptb(
    kind: str, stored: int, folder: Path, *, interval: float = 60.0, limit: float | None = None
) -> None:
    """One PTB baseline: ``emit`` the run's figures, then the shutdown time."""
    # Warm PTB and the handlers up on a throwaway app (a persistent one would start with
    # the warm-up users' writes pending).
    warm_req = LocalRequest()
    warm = ptb_app(warm_req)
    add_bot_handlers(warm, kind, persistent=False)
    await warm.initialize()
    await Driver(warm, warm_req).run(FIRST_USER - 100, 2)
    await warm.shutdown()

    req = LocalRequest()
    extra: dict[str, Any] = {}
    persistence: PicklePersistence[Any, Any, Any] | None = None
    if kind != "echo":
        path = folder / f"conv-{stored}-{interval}.pickle"
        seed_pickle(path, stored)
        persistence = PicklePersistence(path, on_flush=False, update_interval=interval)
    app = ptb_app(req, persistence)
    add_bot_handlers(app, kind, persistent=True)
    await app.initialize()
    if persistence is not None:
        t0 = time.perf_counter()
        persistence._dump_singlefile()  # what every dirty entry costs when on_flush=False
        extra = {"dump_ms": (time.perf_counter() - t0) * 1000}
        extra["pickle_mb"] = persistence.filepath.stat().st_size / 1e6
    await app.start()
    driver = Driver(app, req)

    def capped(result: dict[str, Any]) -> None:
        emit({**result, **extra, "calls": dict(req.calls)})

    result = await driver.run(FIRST_USER, USERS, limit=limit, on_cap=capped)
    if kind == "echo":  # a run lasts ~0.5 s: take the median of five, less noise
        runs = [result] + [await driver.run(FIRST_USER, USERS) for _ in range(4)]
        result = sorted(runs, key=lambda r: r["rate"] if r else 0.0)[2]
    if result is None:
        return  # the parent has the figures and stops waiting for the shutdown soon
    capped(result)
    t0 = time.perf_counter()
    await app.stop()  # writes the persistence one last time
    await app.shutdown()
    emit({"shutdown": time.perf_counter() - t0})


def add_bot_handlers(app: Any, kind: str, *, persistent: bool) -> None:
    if kind == "echo":

        async def echo(update: Update, context: Ctx) -> None:
            await update.message.reply_text(update.message.text)  # type: ignore[union-attr]

        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    else:
        app.add_handler(conversation_handler(persistent=persistent))


# ---------------------------------------------------------------------------------------------
# Each contender in its own process (same start, no memory or GC left over from another)


def emit(result: dict[str, Any]) -> None:
    """A child's result line for the parent."""
    print("RESULT " + json.dumps(result), flush=True)


CONTENDERS: dict[str, dict[str, Any]] = {
    "echo": {"kind": "echo", "stored": 0},
    "ours-1k": {"kind": "ours", "stored": 1_000},
    "ours-50k": {"kind": "ours", "stored": 50_000},
    "ours-200k": {"kind": "ours", "stored": 200_000},
    "conv-durable-1k": {"kind": "conv", "stored": 1_000, "interval": 0.05, "limit": 20.0},
    "conv-durable-50k": {"kind": "conv", "stored": 50_000, "interval": 0.05, "limit": 10.0},
    "conv-default-1k": {"kind": "conv", "stored": 1_000, "interval": 60.0},
    "conv-default-50k": {"kind": "conv", "stored": 50_000, "interval": 60.0},
}
SHUTDOWN_WAIT = 15.0  # seconds we wait for a contender's shutdown before killing it


async def _child(name: str) -> None:
    spec = dict(CONTENDERS[name])
    kind = spec.pop("kind")
    with tempfile.TemporaryDirectory(prefix="lc-bench-ptb-") as tmp:
        if kind == "ours":
            await measure_ours(spec["stored"], Path(tmp), limit=spec.get("limit"))
        else:
            await measure_ptb(kind, spec.pop("stored"), Path(tmp), **spec)


def contender(name: str) -> dict[str, Any]:
    """Run one contender in a subprocess; its figures plus ``shutdown`` (None: killed)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_ptb", "--child", name],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.stdout is not None
    results: list[dict[str, Any]] = []
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline: float | None = None
    while True:
        try:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            line = lines.get(timeout=wait)
        except queue.Empty:
            proc.kill()
            break
        if line is None:
            break
        if line.startswith("RESULT "):
            results.append(json.loads(line[7:]))
            deadline = time.monotonic() + SHUTDOWN_WAIT
    proc.wait()
    if not results:
        raise RuntimeError(f"bench_ptb contender {name} failed (exit {proc.returncode})")
    merged = {"shutdown": None, **results[0]}
    for r in results[1:]:
        if "shutdown" in r:
            merged["shutdown"] = r["shutdown"]
    return merged


def _rate(r: dict[str, Any]) -> str:
    capped = f", {r['steps']:,} steps in a {r['wall']:.0f} s cap" if r["capped"] else ""
    if r.get("loop_blocked"):
        capped += ", then the event loop stayed blocked by pickle rewrites"
    return f"{r['rate']:,.0f} steps/s (p50 {r['p50']:.0f} ms, p99 {r['p99']:.0f} ms{capped})"


def _shutdown(r: dict[str, Any]) -> str:
    if r["shutdown"] is None:
        return f"> {SHUTDOWN_WAIT:.0f} s (killed)"
    return f"{r['shutdown']:.2f} s"


def run() -> list[dict[str, Any]]:
    r = {name: contender(name) for name in CONTENDERS}
    echo = r["echo"]["rate"]
    rows: list[dict[str, Any]] = []
    for size, label in ((1_000, "1k"), (50_000, "50k")):
        ours, dur, dft = r[f"ours-{label}"], r[f"conv-durable-{label}"], r[f"conv-default-{label}"]
        rows.append(
            {
                "benchmark": f"Telegram via PTB process_update, {USERS} users, {size:,} stored",
                "ours": f"{_rate(ours)}, committed every step",
                "baseline": (
                    f"ConversationHandler+PicklePersistence: update_interval=0.05 {_rate(dur)}; "
                    f"default 60 s {_rate(dft)}; echo bot {echo:,.0f} steps/s"
                ),
                "note": (
                    f"ours/echo {ours['rate'] / echo:.0%} (target >= 90%); "
                    f"ours/pickle-0.05 {ours['rate'] / dur['rate']:.2f}x; "
                    f"ours/pickle-60 {ours['rate'] / dft['rate']:.2f}x; one pickle rewrite "
                    f"({dur['pickle_mb']:.1f} MB) {dur['dump_ms']:.0f} ms, paid per dirty "
                    f"user/chat/state each interval"
                ),
            }
        )
    big = r["ours-200k"]
    small = r["ours-1k"]
    rows.append(
        {
            "benchmark": f"Telegram via PTB process_update, {USERS} users, 200,000 stored",
            "ours": f"{_rate(big)}, committed every step",
            "baseline": f"ours at 1,000 stored {small['rate']:,.0f} steps/s; echo bot {echo:,.0f}",
            "note": (
                f"200k/1k {big['rate'] / small['rate']:.0%} (target: flat); "
                f"50k/1k {r['ours-50k']['rate'] / small['rate']:.0%}; "
                f"seeding 200k chats+conversations took {big['seed_s']:.1f} s (not timed)"
            ),
        }
    )
    calls = r["ours-1k"]["calls"]
    rows.append(
        {
            "benchmark": "Telegram shutdown after the run (stop + shutdown)",
            "ours": f"{_shutdown(small)} (1k), {_shutdown(big)} (200k stored)",
            "baseline": (
                f"pickle 60 s: {_shutdown(r['conv-default-1k'])} (1k), "
                f"{_shutdown(r['conv-default-50k'])} (50k); pickle 0.05 s: "
                f"{_shutdown(r['conv-durable-1k'])} (1k), {_shutdown(r['conv-durable-50k'])} (50k)"
            ),
            "note": (
                "target < 1 s; PTB's stop() writes every dirty user, chat and state, one whole "
                "pickle rewrite each; Bot API calls answered by an in-process BaseRequest "
                f"(ours per run: {', '.join(f'{k} {v:,}' for k, v in sorted(calls.items()))}); "
                "rate limiter off for all"
            ),
        }
    )
    return rows


def _main(argv: list[str]) -> int:
    warnings.simplefilter("ignore")  # PTB's per_message hint about CallbackQueryHandler
    if argv[:1] == ["--child"]:
        asyncio.run(_child(argv[1]))
        return 0
    if argv[:1] == ["--transcript"]:
        lines: list[str] = []
        with tempfile.TemporaryDirectory(prefix="lc-bench-") as tmp:
            asyncio.run(measure_ours(10, Path(tmp), transcript=lines))
        print("\n".join(lines))
        return 0
    for row in run():
        for key, value in row.items():
            print(f"{key:>10}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
