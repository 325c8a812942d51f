"""Replies first: the bot against channel API imitations that enforce the real limits.

Every contender is a real bot process (``python bot.py telegram`` / ``whatsapp``) pointed at an
imitation in another process (``benchmarks.imitation``: the API, the simulated users and the
measurements), on a fresh SQLite file. The baseline is **today's design**: the same commands run
from the tree of ``BASELINE_COMMIT`` (``git archive``; the commit before issue 16), in the same
run, on the same machine, against the same imitation.

(a)/(b) Telegram, 30 msg/s overall and per-chat buckets enforced with 429 + ``retry_after``:
        100 users at 4-6 s think time (self-screening and JKK reports) while an 11,000-message
        broadcast is queued: reply p50/p99 (target p99 < 1.5 s), 429s (target 0), broadcast
        delivered in the window as a share of the budget the replies left (target >= 90 %).
(c)     Flat out, limits off (the bot's budget at 1,000/s), 1,000 users: steps/s of ours
        (durable: every step committed before its reply) against PTB's echo bot and PTB's
        ``ConversationHandler`` + ``PicklePersistence`` (default interval) over the same HTTP
        (``benchmarks.ptb_bots``; target >= 1.0x the latter).
(d)     Shutdown: 1,000 users' updates queued when the bot first polls; SIGTERM once it has
        fetched them all; seconds until it exits (target < 1 s), then a restart on the same
        database: how many of the 1,000 were answered (target all).
(e)     WhatsApp, 80 msg/s enforced (130429 past it): 100 users posting signed webhooks while a
        broadcast is queued: reply p99, 130429s (target 0).
(f)     Budgeted Bot API calls per step for every public flow (in process, the real channel on
        a counting transport), ours beside today's design (one ``✓`` edit per press and a second
        message for a contact request with choices).

``LINGKARAN_BENCH_SECONDS`` (default 40) is the measured window of (a), (b) and (e). Run alone:
``python -m benchmarks.bench_outbound [a c d e f]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
BASELINE_COMMIT = "a9c10a795169732ae9d88e5c8789cbfd13ad68cc"
TOKEN = "4242:BENCH-local-token"
WINDOW = float(os.environ.get("LINGKARAN_BENCH_SECONDS", "40"))
BROADCAST = 11_000
NIK = "3509271505780001"
KPJ = "12345678901"
WA = {
    "WHATSAPP_ACCESS_TOKEN": "bench-token",
    "WHATSAPP_PHONE_NUMBER_ID": "1122334455667",
    "WHATSAPP_APP_SECRET": "bench-secret",
    "WHATSAPP_VERIFY_TOKEN": "bench-verify",
    "WHATSAPP_API_VERSION": "v21.0",
}


# ---------------------------------------------------------------------------------------------
# Trees, databases, processes


def baseline_tree(folder: Path) -> Path | None:
    """Today's design: the baseline commit's files, or None without git or the commit."""
    target = folder / "baseline"
    target.mkdir()
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", BASELINE_COMMIT],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    mo = ROOT / "locales" / "en" / "LC_MESSAGES" / "messages.mo"
    if mo.exists():
        shutil.copy(mo, target / "locales" / "en" / "LC_MESSAGES" / "messages.mo")
    return target


def seed(tree: Path, db: Path, *, channel: str, broadcast: int) -> None:
    """Migrate with the tree's own code, then a worker and a queued broadcast (plain SQL)."""
    subprocess.run(
        [
            PY,
            "-c",
            "import asyncio; from lingkaran_core.storage import Database\n"
            "async def m():\n"
            f"    db = await Database.open({str(db)!r}); await db.close()\n"
            "asyncio.run(m())",
        ],
        cwd=tree,
        check=True,
    )
    now = datetime.now(UTC).isoformat()
    con = sqlite3.connect(db)
    with con:
        con.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, kpj, created_at, updated_at) VALUES (?, 'Sutrisno', '1978-05-15', 'L', "
            "'35.09.27.2002', 'buruh_tani_tembakau', '2025-07-01', '2026-12-01', ?, ?, ?)",
            (NIK, KPJ, now, now),
        )
        base = 50_000_001 if channel == "telegram" else 6289_000_000_00
        con.executemany(
            "INSERT INTO chats (id, channel, user_ref, created_at, last_inbound_at) "
            "VALUES (?, ?, ?, ?, ?)",
            ((i + 1, channel, str(base + i), now, now) for i in range(broadcast)),
        )
        con.executemany(
            "INSERT INTO outbox (chat_id, channel, user_ref, msg_key, params, language, class, "
            "priority, not_before, created_at) VALUES (?, ?, ?, 'broadcast.message', ?, 'id', "
            "'broadcast', 9, ?, ?)",
            (
                (i + 1, channel, str(base + i), json.dumps({"text": "PENGUMUMAN bench"}), now, now)
                for i in range(broadcast)
            ),
        )
    con.close()


class Proc:
    """A child process whose stdout lines are collected by a thread."""

    def __init__(self, args: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix: str, timeout: float) -> Any:
        """The JSON after the next line starting with ``prefix``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no {prefix} within {timeout:.0f} s") from None
            if line is None:
                raise RuntimeError(f"the process ended (rc {self.proc.poll()}) before {prefix}")
            if line.startswith(prefix + " "):
                return json.loads(line[len(prefix) + 1 :])

    def stop(self, *, within: float = 60.0) -> float | None:
        """SIGTERM; seconds until it exited (None: killed after ``within``)."""
        if self.proc.poll() is not None:
            return 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        return time.monotonic() - t0

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WHATSAPP_", "LINGKARAN_"))
    }
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def world(kind: str, cfg: dict[str, Any], log: Path) -> tuple[Proc, int]:
    proc = Proc(
        [PY, "-m", "benchmarks.imitation", kind, json.dumps(cfg)], cwd=ROOT, env=_env(), log=log
    )
    return proc, int(proc.expect("PORT", 20))


def telegram_bot(tree: Path, db: Path, root: str, log: Path, **env: str) -> Proc:
    return Proc(
        [PY, "bot.py", "telegram", "--db", str(db), "--port", "0"],
        cwd=tree,
        env=_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=root, **env),
        log=log,
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tail(log: Path) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.strip().splitlines()[-8:])


# ---------------------------------------------------------------------------------------------
# The scenarios


def telegram_load(tree: Path, tmp: Path, label: str) -> dict[str, Any]:
    """(a)/(b): replies during a queued broadcast under Telegram's limits."""
    db = tmp / f"{label}.db"
    seed(tree, db, channel="telegram", broadcast=BROADCAST)
    cfg = {"limits": True, "users": 100, "think": [4.0, 6.0], "warmup": 6.0, "duration": WINDOW}
    w, port = world("telegram", cfg, tmp / f"{label}-world.log")
    bot = telegram_bot(tree, db, f"http://127.0.0.1:{port}", tmp / f"{label}-bot.log")
    try:
        w.expect("EVENT", 60)
        result = dict(w.expect("RESULT", WINDOW + 90))
        result["stop"] = bot.stop()
        return result
    finally:
        bot.kill()
        w.kill()


def flat_out(tmp: Path, label: str, kind: str) -> dict[str, Any]:
    """(c): steps/s of one contender (``ours``, ``conv``, ``echo``), limits off, 1,000 users."""
    cfg = {"limits": False, "users": 1000, "think": [0.0, 0.0], "warmup": 4.0, "duration": 15.0}
    w, port = world("telegram", cfg, tmp / f"flat-{label}-world.log")
    root = f"http://127.0.0.1:{port}"
    folder = tmp / f"flat-{label}"
    folder.mkdir()
    log = tmp / f"flat-{label}-bot.log"
    if kind == "ours":
        db = folder / "ours.db"
        seed(ROOT, db, channel="telegram", broadcast=0)
        bot = telegram_bot(ROOT, db, root, log, LINGKARAN_TELEGRAM_RATE="1000")
    else:
        bot = Proc(
            [PY, "-m", "benchmarks.ptb_bots", kind, root, str(folder)],
            cwd=ROOT,
            env=_env(),
            log=log,
        )
    try:
        w.expect("EVENT", 60)
        result = dict(w.expect("RESULT", 120))
        result["rate"] = result["steps_in_window"] / result["window"]
        result["stop"] = bot.stop(within=90)
        return result
    finally:
        bot.kill()
        w.kill()


def shutdown(tree: Path, tmp: Path, label: str, **env: str) -> dict[str, Any]:
    """(d): SIGTERM with 1,000 updates fetched; then a restart answers the rest."""
    db = tmp / f"stop-{label}.db"
    seed(tree, db, channel="telegram", broadcast=0)
    w, port = world(
        "telegram",
        {"limits": False, "backlog": 1000, "timeout": 150},
        tmp / f"stop-{label}-world.log",
    )
    root = f"http://127.0.0.1:{port}"
    log = tmp / f"stop-{label}-bot.log"
    bot = telegram_bot(tree, db, root, log, **env)
    again: Proc | None = None
    try:
        w.expect("EVENT", 60)  # ready
        w.expect("EVENT", 60)  # all 1,000 fetched
        time.sleep(0.3)
        took = bot.stop(within=90)
        again = telegram_bot(tree, db, root, log, **env)
        result = dict(w.expect("RESULT", 160))
        result["shutdown"] = took
        return result
    finally:
        bot.kill()
        if again is not None:
            again.stop()
            again.kill()
        w.kill()


def whatsapp_load(tree: Path, tmp: Path, label: str) -> dict[str, Any]:
    """(e): WhatsApp replies during a queued broadcast, 80 msg/s enforced."""
    db = tmp / f"wa-{label}.db"
    seed(tree, db, channel="whatsapp", broadcast=3 * BROADCAST)
    bot_port = free_port()
    cfg = {
        "rate": 80,
        "users": 100,
        "think": [4.0, 6.0],
        "warmup": 6.0,
        "duration": WINDOW,
        "webhook": f"http://127.0.0.1:{bot_port}/webhook/whatsapp",
        "app_secret": WA["WHATSAPP_APP_SECRET"],
        "phone_number_id": WA["WHATSAPP_PHONE_NUMBER_ID"],
    }
    w, port = world("whatsapp", cfg, tmp / f"wa-{label}-world.log")
    bot = Proc(
        [PY, "bot.py", "whatsapp", "--db", str(db), "--port", str(bot_port)],
        cwd=tree,
        env=_env(
            WHATSAPP_GRAPH_API_BASE_URL=f"http://127.0.0.1:{port}",
            LINGKARAN_WA_TIER="unlimited",
            **WA,
        ),
        log=tmp / f"wa-{label}-bot.log",
    )
    try:
        w.expect("EVENT", 60)
        result = dict(w.expect("RESULT", WINDOW + 90))
        result["stop"] = bot.stop()
        return result
    finally:
        bot.kill()
        w.kill()


# ---------------------------------------------------------------------------------------------
# (f) budgeted calls per step, every public flow


FLOWS: dict[str, list[str]] = {
    "link + coverage": ["/start", "@Cek kepesertaan", NIK, "15-05-1978", "@Nomor kartu KPJ", KPJ],
    "JKK report": [
        "menu", "2", "2", NIK, "Sutrisno", "2", "1", "sawah di Sukoreno", "2",
        "jatuh dari pohon, kaki patah", "2", "Puskesmas Kalisat", "081234567890", "1",
        "/photo", "/photo",
    ],
    "JKM report": [
        "menu", "3", "2", "15-11-2026", "1", NIK, "Sutrisno", "1", "Siti Aminah",
        "3509274407850003", "2", "081234567891", "1", "/photo",
    ],
    "my claims": ["menu", "4", "1"],
    "self-screening": ["menu", "5", "2", "47", "puger kulun", "1", "3", "2", "3", "2"],
    "benefits": ["menu", "6", "1", "menu", "6", "2"],
    "scholarship": ["menu", "7", "1", "2"],
    "talk to staff": ["menu", "8", "Saya mau tanya soal iuran bulan ini"],
    "about": ["menu", "9"],
    "settings": ["menu", "10", "1", "2"],
    "stale press": ["menu", "@Lapor kecelakaan", "!stale"],
}  # fmt: skip


async def calls_per_step(tmp: Path) -> dict[str, dict[str, Any]]:
    """Each flow through the real channel on a counting transport: budgeted calls per step."""
    from telegram.request import BaseRequest, RequestData

    from handlers.registry import build_engine
    from lingkaran.channels.telegram import TelegramChannel, TelegramConfig, parse_update
    from lingkaran.channels.telegram.botapi import is_budgeted
    from lingkaran_core.storage import Database

    jpeg = (ROOT / "tests" / "data" / "uploads" / "kartu.jpg").read_bytes()
    out: dict[str, dict[str, Any]] = {}
    for n, (flow, script) in enumerate(FLOWS.items()):
        path = tmp / f"steps-{n}.db"
        seed(ROOT, path, channel="telegram", broadcast=0)
        db = await Database.open(path)
        calls: list[str] = []
        last: dict[str, Any] = {}
        ids = iter(range(100, 10_000))

        class Answers(BaseRequest):
            """The Bot API answered in-process (PTB's HTTP layer): counts each call."""

            async def initialize(self) -> None:
                pass

            async def shutdown(self) -> None:
                pass

            @property
            def read_timeout(self) -> float | None:
                return None

            async def do_request(
                self,
                url: str,
                method: str,
                request_data: RequestData | None = None,
                *_a: Any,
                calls: list[str] = calls,
                ids: Any = ids,
                last: dict[str, Any] = last,
                **_k: Any,
            ) -> tuple[int, bytes]:
                if "/file/" in url:
                    return 200, jpeg
                name = url.rsplit("/", 1)[-1]
                calls.append(name)
                p = request_data.parameters if request_data else {}
                result: Any = True
                if name == "getMe":
                    result = {"id": 1, "is_bot": True, "first_name": "LC", "username": "lc_bot"}
                elif name == "getFile":
                    result = {"file_id": p["file_id"], "file_unique_id": "u",
                              "file_size": len(jpeg), "file_path": "p/x.jpg"}  # fmt: skip
                elif name in ("sendMessage", "editMessageReplyMarkup"):
                    result = {"message_id": next(ids), "date": 0, "text": p.get("text", ""),
                              "chat": {"id": int(p["chat_id"]), "type": "private"}}  # fmt: skip
                    markup = p.get("reply_markup") or {}
                    if isinstance(markup, str):
                        markup = json.loads(markup)
                    if name == "sendMessage" and "inline_keyboard" in markup:
                        last.update(message=result, markup=markup)
                    if len(markup.get("keyboard") or ()) > 1:
                        calls.append("(a second message in today's design)")
                return 200, json.dumps({"ok": True, "result": result}).encode()

        engine = build_engine(db, clock=lambda: datetime.now(UTC), track_replies=True)
        channel = TelegramChannel(
            db,
            TelegramConfig(token=TOKEN, rate=1000),
            engine=engine,
            clock=lambda: datetime.now(UTC),
            request=Answers(),
        )
        await channel.api.application.initialize()
        calls.clear()  # getMe is not a step
        chat = 9_000_001
        per_step: list[int] = []
        old: list[int] = []
        stale_msg: dict[str, Any] | None = None
        for i, action in enumerate(script):
            mark = len(calls)
            raw: dict[str, Any]
            message = {"message_id": 10 + i, "date": 0, "chat": {"id": chat, "type": "private"},
                       "from": {"id": chat, "is_bot": False, "first_name": "Ani"}}  # fmt: skip
            kb = last.get("markup")
            buttons = [b for row in kb["inline_keyboard"] for b in row] if kb else []
            pick = None
            if action == "!stale" and stale_msg is not None:
                pick, msg = stale_msg["button"], stale_msg["message"]
            elif action.startswith("@"):
                pick = next(b for b in buttons if b["text"].startswith(action[1:]))
            elif action.isdigit() and 1 <= int(action) <= len(buttons):
                pick = buttons[int(action) - 1]
            if pick is not None:
                if action != "!stale":
                    msg = {**last["message"], "reply_markup": kb}
                    stale_msg = {"button": pick, "message": msg}
                raw = {"update_id": i + 1, "callback_query": {
                    "id": f"cb{i}", "data": pick["callback_data"], "message": msg,
                    "from": {"id": chat, "is_bot": False, "first_name": "Ani"}}}  # fmt: skip
            elif action == "/photo":
                raw = {"update_id": i + 1, "message": {**message, "photo": [
                    {"file_id": f"F{i}", "file_unique_id": f"U{i}", "width": 90, "height": 90,
                     "file_size": len(jpeg)}]}}  # fmt: skip
            else:
                raw = {"update_id": i + 1, "message": {**message, "text": action}}
            await channel.handle_update(parse_update(raw))
            step_calls = calls[mark:]
            budgeted = sum(1 for c in step_calls if is_budgeted(c))
            per_step.append(budgeted)
            # Today's design: a press also edits the pressed message (the ✓), and a contact
            # request with choices is two messages.
            extra = 1 if pick is not None and action != "!stale" else 0
            extra += sum(1 for c in step_calls if c.startswith("(a second"))
            old.append(budgeted + extra)
        await channel.stop()
        await db.close()
        out[flow] = {
            "steps": len(per_step),
            "calls": sum(per_step),
            "max": max(per_step),
            "old_calls": sum(old),
            "old_max": max(old),
        }
    return out


# ---------------------------------------------------------------------------------------------
# The table


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:,.0f} ms"


def _load_cell(r: dict[str, Any]) -> str:
    left = 30 * r["window"] - r["other_budgeted_in_window"]
    share = r["broadcast_in_window"] / left if left > 0 else 0.0
    return (
        f"reply p50 {_ms(r['p50'])}, p99 {_ms(r['p99'])} ({r['replies']:,} replies); "
        f"429s {r['throttled']:,} ({r['throttled_first_second']} in the first second); "
        f"broadcast {r['broadcast_in_window']:,} in {r['window']:.0f} s = {share:.0%} of the "
        f"{left:,.0f} sends the replies left"
    )


def _stop(value: float | None) -> str:
    return "> 90 s (killed)" if value is None else f"{value:.2f} s"


def run(only: list[str] | None = None) -> list[dict[str, Any]]:
    """Every scenario (or the ones named: a c d e f); one table row per figure."""
    chosen = set(only or "acdef")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="lc-bench-outbound-") as d:
        tmp = Path(d)
        base = baseline_tree(tmp)
        note_base = f"baseline: commit {BASELINE_COMMIT[:10]} (today's design), same run"
        if base is None:
            note_base = "baseline skipped: no git checkout with the baseline commit"
        if "a" in chosen:
            ours = telegram_load(ROOT, tmp, "ours")
            old = telegram_load(base, tmp, "baseline") if base else None
            rows.append(
                {
                    "benchmark": "(a)/(b) Telegram replies during an 11,000-message broadcast, "
                    "100 users at 4-6 s think time, 30 msg/s + per-chat limits enforced",
                    "ours": _load_cell(ours),
                    "baseline": _load_cell(old) if old else "n/a",
                    "note": f"targets: p99 < 1.5 s, 0 x 429, >= 90 % of the budget left; "
                    f"{note_base}",
                }
            )
        if "c" in chosen:
            # Two rounds, interleaved, the better of each: the machine's other load varies.
            r: dict[str, dict[str, Any]] = {}
            for round_ in range(2):
                for name in ("ours", "conv", "echo"):
                    got = flat_out(tmp, f"{name}-{round_}" if round_ else name, name)
                    if name not in r or got["rate"] > r[name]["rate"]:
                        r[name] = got
            rows.append(
                {
                    "benchmark": "(c) Telegram flat out over HTTP, 1,000 users, limits off",
                    "ours": f"{r['ours']['rate']:,.0f} steps/s, every step committed (SQLite "
                    "WAL) before its reply",
                    "baseline": f"PTB ConversationHandler + PicklePersistence (60 s): "
                    f"{r['conv']['rate']:,.0f} steps/s; PTB echo bot {r['echo']['rate']:,.0f}",
                    "note": f"ours/conversation {r['ours']['rate'] / max(r['conv']['rate'], 1e-9):.2f}x "
                    f"(target >= 1.0x), ours/echo {r['ours']['rate'] / max(r['echo']['rate'], 1e-9):.0%}; "
                    "same imitation, polling, concurrent updates, no rate limiter",
                }
            )
        if "d" in chosen:
            ours = shutdown(ROOT, tmp, "ours", LINGKARAN_TELEGRAM_RATE="1000")
            old = shutdown(base, tmp, "baseline") if base else None

            def cell(x: dict[str, Any]) -> str:
                return (
                    f"stopped in {_stop(x['shutdown'])}; after a restart "
                    f"{x['answered']:,}/{x['backlog']:,} answered"
                )

            rows.append(
                {
                    "benchmark": "(d) Telegram SIGTERM with 1,000 updates fetched",
                    "ours": cell(ours),
                    "baseline": cell(old) if old else "n/a",
                    "note": "target < 1 s, none lost: ours leaves the rest recorded for the next "
                    "start; " + note_base,
                }
            )
        if "e" in chosen:
            ours = whatsapp_load(ROOT, tmp, "ours")
            old = whatsapp_load(base, tmp, "baseline") if base else None

            def wa(x: dict[str, Any]) -> str:
                left = 80 * x["window"] - x["other_in_window"]
                return (
                    f"reply p50 {_ms(x['p50'])}, p99 {_ms(x['p99'])} ({x['replies']:,}); "
                    f"130429s {x['throttled']:,}; broadcast {x['broadcast_in_window']:,} = "
                    f"{x['broadcast_in_window'] / left if left > 0 else 0:.0%} of what replies left"
                )

            rows.append(
                {
                    "benchmark": "(e) WhatsApp replies during a 33,000-message broadcast, 100 "
                    "users, 80 msg/s enforced",
                    "ours": wa(ours),
                    "baseline": wa(old) if old else "n/a",
                    "note": "target 0 x 130429; WhatsApp's 0.25 s settle (out-of-order "
                    "webhooks) is in both; " + note_base,
                }
            )
        if "f" in chosen:
            steps = asyncio.run(calls_per_step(tmp))
            rows.append(
                {
                    "benchmark": "(f) Telegram budgeted calls per step, every public flow",
                    "ours": "; ".join(
                        f"{k} {v['calls']}/{v['steps']} (max {v['max']})" for k, v in steps.items()
                    ),
                    "baseline": "; ".join(
                        f"{k} {v['old_calls']}/{v['steps']} (max {v['old_max']})"
                        for k, v in steps.items()
                    ),
                    "note": "calls/steps: sendMessage + edits; answering a press is free. "
                    "Baseline = the same steps plus today's ✓ edit per press",
                }
            )
    return rows


if __name__ == "__main__":
    from benchmarks.__main__ import table

    got = run(sys.argv[1:] or None)
    print(table(got))
    with contextlib.suppress(Exception):
        print(json.dumps(got, indent=1), file=sys.stderr)
