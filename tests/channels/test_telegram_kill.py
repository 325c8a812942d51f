"""``bot.py telegram`` killed with SIGKILL at random points during a JKK and a JKM report.

Two users talk to the real bot process (long polling against the fake Bot API in this test's
loop) at the same time: one reports a work accident, the other a death, both with photos, by
buttons and typed answers. The bot is killed ``LINGKARAN_KILL_POINTS`` times (default 30):
just after a user's update was queued, just after getUpdates handed it over, while the reply is
being sent, between steps, and during start-up; then started again. Telegram keeps what the bot
has not confirmed, so the users simply wait for their answer, as they would.

Every answer must be the answer of an uninterrupted reference run of the same scripts (the
conversation resumed at the same step; a reply sent just before a kill may come twice), and at
the end: every update recorded and processed exactly once with its payload forgotten (0 lost),
each claim exactly once with the reference's data and one document per photo (0 duplicated),
and the database sound. ``LINGKARAN_CRASH_SEED`` replays a run.

Marked ``slow``: it runs once in ``make test``'s main pass, not in the time-shifted reruns.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_telegram import TOKEN, Call, FakeTelegram
from killing import (
    PY,
    ROOT,
    SEED,
    STOP_BOUND,
    assert_no_errors,
    assert_sound,
    claim_scripts,
    claims_with_documents,
    kill_points,
    seed_db,
    sigkill,
)

KILL_POINTS = kill_points(30)
REPLY_WITHIN = 40.0
MODES = ("queued", "fetched", "replying", "idle", "startup")

JKK_CHAT = 7001
JKM_CHAT = 7002
REF = re.compile(r"LC-\d{4}-\d{6}")

pytestmark = pytest.mark.slow


KARTU = (ROOT / "tests" / "data" / "uploads" / "kartu.jpg").read_bytes()


def jpeg(name: str) -> bytes:
    """A real JPEG, different per name (a comment segment right after the start marker)."""
    comment = f"kill test {name}".encode()
    return KARTU[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + KARTU[2:]


def scripts() -> dict[int, list[str]]:
    plan = claim_scripts("/start", lambda name: f"/photo {name}")
    return {JKK_CHAT: plan["jkk"], JKM_CHAT: plan["jkm"]}


class Bot:
    """``python bot.py telegram`` against the fake; killed and restarted at will."""

    def __init__(self, db: Path, fake: FakeTelegram, log: Path) -> None:
        self.db = db
        self.fake = fake
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.started_at = 0

    def start(self) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "WHATSAPP_", "LINGKARAN_"))
        }
        env.update(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=self.fake.root,
            PYTHONUNBUFFERED="1",
        )
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(
                [PY, "bot.py", "telegram", "--db", str(self.db), "--port", "0"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self.starts += 1
        self.started_at = len(self.fake.calls)

    def kill(self) -> None:
        assert self.proc is not None
        sigkill(self.proc)
        self.proc = None

    async def stop(self) -> float:
        """SIGTERM once the bot is serving (polling): a stop, not a kill during start-up."""
        assert self.proc is not None
        deadline = time.monotonic() + 20
        polled = False
        while not polled and time.monotonic() < deadline:
            polled = any(c.method == "getUpdates" for c in self.fake.calls[self.started_at :])
            await asyncio.sleep(0.01)
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        rc = await asyncio.to_thread(self.proc.wait, 10)
        assert rc == 0, rc
        self.proc = None
        return time.monotonic() - t0


@dataclass
class User:
    """One Telegram user following a script: presses numbered buttons, types, sends photos."""

    fake: FakeTelegram
    chat_id: int
    script: list[str]
    updates: int = 0
    duplicates: int = 0
    answers: list[list[str]] = field(default_factory=list)

    def _keyboard(self) -> tuple[int, list[dict[str, str]]] | None:
        """The newest bot message of this chat, if it carries an inline keyboard."""
        mids = [mid for (chat, mid) in self.fake.messages if chat == self.chat_id]
        if not mids:
            return None
        newest = self.fake.messages[(self.chat_id, max(mids))]
        rows = newest.get("reply_markup", {}).get("inline_keyboard")
        if not rows:
            return None
        return max(mids), [b for row in rows for b in row]

    def act(self, step: int) -> int:
        """Send the script's ``step``; the position in the fake's call log before it."""
        mark = self.fake.mark()
        answer = self.script[step]
        kb = self._keyboard()
        if answer.startswith("/photo "):
            self.fake.user_sends_photo(self.chat_id, jpeg(answer.split()[1]))
        elif kb is not None and answer.isdigit() and 1 <= int(answer) <= len(kb[1]):
            self.fake.user_presses(self.chat_id, kb[1][int(answer) - 1]["callback_data"], kb[0])
        else:
            self.fake.user_sends_text(self.chat_id, answer)
        self.updates += 1
        return mark

    async def answer(self, mark: int) -> list[str]:
        """The texts the bot sent this chat since ``mark``, once it went quiet."""
        replies = await self.fake.wait_replies(
            self.chat_id, since=mark, quiet=0.3, within=REPLY_WITHIN
        )
        return [normal(m["text"]) for m in replies]

    async def answer_like(self, mark: int, want: list[str], before: list[str]) -> int:
        """Wait for the reference's answer (late copies of replayed replies allowed); copies."""
        deadline = time.monotonic() + REPLY_WITHIN
        got: list[str] = []
        while time.monotonic() < deadline:
            got = [normal(m["text"]) for m in self.fake.sent(self.chat_id, since=mark)]
            dup = matches(got, want, before)
            if dup is not None:
                await asyncio.sleep(0.05)
                return dup
            await asyncio.sleep(0.01)
        raise AssertionError(
            f"chat {self.chat_id}: no answer like the reference's; got:\n{got}\n"
            f"--- reference ---\n{want}"
        )


def normal(text: str) -> str:
    """A reply as compared: claim refs vary between runs, and a replayed reply has no ✓ line."""
    if text.startswith("✓ ") and "\n\n" in text:
        text = text.split("\n\n", 1)[1]
    return REF.sub("LC-X", text)


def matches(got: list[str], want: list[str], before: list[str]) -> int | None:
    """None when ``got`` is not ``want``; else how many replies came twice.

    A reply sent just before a kill is sent again at the next start (it was not marked sent):
    the previous step's answer may come first, and this step's may come twice.
    """
    dup = 0
    while before and got[: len(before)] == before and got != want:
        got = got[len(before) :]
        dup += 1
    if got == want:
        return dup
    if want and got == want + want:
        return dup + 1
    return None


async def play(
    fake: FakeTelegram,
    bot: Bot,
    rng: random.Random | None,
    kills: int,
    reference: dict[int, list[list[str]]] | None = None,
) -> tuple[dict[int, list[list[str]]], dict[str, int]]:
    """Both scripts at once, round by round; ``kills`` SIGKILLs at random points."""
    plan = scripts()
    users = {chat: User(fake, chat, script) for chat, script in plan.items()}
    rounds = max(len(s) for s in plan.values())
    events: dict[int, list[tuple[str, int]]] = {}
    if rng is not None:
        for _ in range(kills):
            events.setdefault(rng.randrange(rounds), []).append(
                (rng.choice(MODES), rng.choice(list(users)))
            )
    done: dict[str, int] = {}
    armed: dict[str, Any] = {}

    def on_call(call: Call) -> None:
        chat = armed.get("reply_to")
        if chat is not None and call.method == "sendMessage" and call.params.get("chat_id") == chat:
            armed.clear()
            if bot.proc is not None and bot.proc.poll() is None:
                os.kill(bot.proc.pid, signal.SIGKILL)

    fake.on_call = on_call
    bot.start()
    ref_answers = reference
    for r in range(rounds):
        kills_here = events.get(r, [])
        for mode, _chat in kills_here:
            if mode == "startup":
                assert rng is not None
                await asyncio.sleep(rng.uniform(0.0, 0.8))
                bot.kill()
                bot.start()
                done[mode] = done.get(mode, 0) + 1
        in_flight = {c: u for c, u in users.items() if r < len(u.script)}
        marks: dict[int, int] = {}
        for mode, chat in kills_here:
            if mode == "replying" and chat in in_flight:
                armed["reply_to"] = chat
        for chat, user in in_flight.items():
            marks[chat] = user.act(r)
        for mode, _chat in kills_here:
            assert rng is not None
            if mode == "queued":
                await asyncio.sleep(rng.uniform(0.0, 0.03))
            elif mode == "fetched":
                last = max(u["update_id"] for u in fake._updates) if fake._updates else 0
                deadline = time.monotonic() + 20
                while last not in fake.served and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.002)
                await asyncio.sleep(rng.uniform(0.0, 0.02))
            elif mode == "replying":
                deadline = time.monotonic() + 20
                while armed and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
                armed.clear()
            else:
                continue
            bot.kill()
            bot.start()
            done[mode] = done.get(mode, 0) + 1
        for chat, user in in_flight.items():
            if ref_answers is None:
                user.answers.append(await user.answer(marks[chat]))
                continue
            want = ref_answers[chat][r]
            before = ref_answers[chat][r - 1] if r else []
            try:
                user.duplicates += await user.answer_like(marks[chat], want, before)
            except AssertionError as exc:
                raise AssertionError(
                    f"step {r} ({user.script[r]!r}) did not resume at the same step: {exc}"
                ) from None
            user.answers.append(want)
        for mode, _chat in kills_here:
            if mode == "idle":
                bot.kill()
                bot.start()
                done[mode] = done.get(mode, 0) + 1
    done["duplicated replies"] = sum(u.duplicates for u in users.values())
    done["updates"] = sum(u.updates for u in users.values())
    return {c: u.answers for c, u in users.items()}, done


def facts(db: Path) -> dict[str, Any]:
    con = sqlite3.connect(db)
    try:
        out: dict[str, Any] = {"claims": claims_with_documents(con)}
        out["conversations"] = sorted(
            con.execute(
                "SELECT c.user_ref, v.flow, v.step, v.data, v.stack, v.draft FROM conversations v "
                "JOIN chats c ON c.id = v.chat_id"
            ).fetchall()
        )
        out["outbox"] = sorted(con.execute("SELECT channel, msg_key, class FROM outbox").fetchall())
        return out
    finally:
        con.close()


def ledger(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT status, payload IS NULL, COUNT(*) FROM inbound_messages "
            "WHERE channel = 'telegram' GROUP BY 1, 2"
        ).fetchall()
        return {f"{status}{'' if forgotten else '+payload'}": n for status, forgotten, n in rows}
    finally:
        con.close()


async def test_telegram_survives_sigkill_at_random_points(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    sys.stdout.write(f"\ntelegram kill seed: {SEED} (LINGKARAN_CRASH_SEED={SEED} replays)\n")
    started = time.monotonic()

    ref_db = tmp_path / "ref" / "lingkaran.db"
    ref_db.parent.mkdir()
    seed_db(ref_db)
    async with FakeTelegram() as fake:
        bot = Bot(ref_db, fake, tmp_path / "ref.log")
        reference, _ = await play(fake, bot, None, 0)
        await bot.stop()
    assert any("Nomor laporan: LC-X" in t for block in reference[JKK_CHAT] for t in block)
    assert any("Nomor laporan: LC-X" in t for block in reference[JKM_CHAT] for t in block)

    db = tmp_path / "crash" / "lingkaran.db"
    db.parent.mkdir()
    seed_db(db)
    log = tmp_path / "crash.log"
    async with FakeTelegram() as fake:
        bot = Bot(db, fake, log)
        _answers, done = await play(fake, bot, rng, KILL_POINTS, reference)
        took = await bot.stop()
        throttled = fake.throttled
    sys.stdout.write(f"kills: {done}, {bot.starts} starts, {time.monotonic() - started:.0f} s\n")
    kills = sum(v for k, v in done.items() if k in MODES)
    assert kills == KILL_POINTS
    # 0 lost: every update recorded once, processed, its payload forgotten.
    assert ledger(db) == {"processed": done["updates"]}, ledger(db)
    # 0 duplicated, and the same claims, documents, events and conversations as the reference.
    assert facts(db) == facts(ref_db)
    assert len(facts(db)["claims"]) == 2
    assert_sound(db, [jpeg(n) for n in ("jkk1", "jkk2", "jkm1", "jkm2")])
    assert throttled == 0
    assert_no_errors(log)
    assert "did not stop in time" not in log.read_text(encoding="utf-8", errors="replace")
    assert took < STOP_BOUND, f"{took:.1f} s: the stop waited for a timeout"
