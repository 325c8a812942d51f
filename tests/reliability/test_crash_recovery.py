"""Crash recovery: the real bot as a subprocess, SIGKILLed at random moments and restarted.

(a) Terminal chat (``python bot.py chat`` with stdin a pipe): a scripted user files a JKK or a JKM
    claim with photos. The bot is killed between messages, right after a line is written, a few
    milliseconds later, while the message is being handled, and during start-up. After each kill
    the database tells which messages committed (``inbound_messages``: one row per handled
    message, written in the same transaction as its effects); the script re-types the rest, as a
    user who saw no answer would. Every reply read must equal the reply of an uninterrupted
    reference run of the same script (so the conversation resumed at the same step), and at the
    end the claims, documents, events and queued notifications equal the reference run's
    (each claim exactly once) and the file passes ``integrity_check``/``foreign_key_check`` with
    no orphan document.
(b) Outbox dispatch (``tests/reliability/dispatch_worker.py``) to a loopback HTTP server in this
    process, killed in the middle of a request, just after a response and at random times: every
    row arrives at least once, and a row arrives twice only when the process that sent it first
    was killed before recording the send.

``LINGKARAN_KILL_POINTS`` (default 50) is the total number of kills in this file;
``LINGKARAN_CRASH_SEED`` replays a run (the seed is printed).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from killing import (
    PY,
    ROOT,
    SEED,
    assert_no_errors,
    assert_sound,
    claim_scripts,
    claims_with_documents,
    kill_points,
    seed_db,
    sigkill,
)

WORKER = ROOT / "tests" / "reliability" / "dispatch_worker.py"
WIB = ZoneInfo("Asia/Jakarta")

KILL_POINTS = kill_points(50)
CHAT_SHARE = round(KILL_POINTS * 0.4)  # per chat scenario (JKK, JKM); the rest: dispatcher
DISPATCH_KILLS = max(0, KILL_POINTS - 2 * CHAT_SHARE)
REPLY_TIMEOUT = 20.0

USER = "crash-user"

# Where a kill lands relative to one scripted message.
MODES = ("between", "after_write", "after_write_delay", "after_echo", "startup")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LINGKARAN_LOG_LEVEL", None)
    # Each run's documents beside its own SQLite file (the reference's apart from the crash run's).
    env.pop("LINGKARAN_FILES_DIR", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="module")
def seed() -> int:
    sys.stdout.write(f"\ncrash-recovery seed: {SEED} (LINGKARAN_CRASH_SEED={SEED} replays)\n")
    return SEED


# ---------------------------------------------------------------------------------------------
# The scripted user


def script(flow: str, tmp: Path) -> tuple[list[str], list[Path]]:
    """The ``flow`` report typed in the terminal chat; its photos are files ``/photo`` sends."""
    photos: dict[str, Path] = {}

    def photo(name: str) -> str:
        photos[name] = p = tmp / f"{name}.jpg"
        p.write_bytes(b"\xff\xd8\xff\xe0 crash test " + name.encode() * 50)
        return f"/photo {p}"

    lines = claim_scripts("menu", photo)[flow]
    return lines, [p for p in photos.values() if f"/photo {p}" in lines]


# ---------------------------------------------------------------------------------------------
# The bot process


class ChatProcess:
    """``python bot.py chat`` on pipes; a reader thread collects stdout lines."""

    def __init__(self, db: Path, log: Path) -> None:
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [PY, "bot.py", "chat", "--db", str(db), "--user", USER],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            encoding="utf-8",
            bufsize=1,
            env=_env(),
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def write(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def next_line(self, timeout: float = REPLY_TIMEOUT) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output within {timeout}s") from None
        if line is None:
            raise AssertionError(f"bot exited (rc={self.proc.poll()})")
        return line

    def wait_echo(self, line: str) -> None:
        got = self.next_line()
        assert got == f"> {line}", f"expected the echo of {line!r}, got {got!r}"

    def exchange(self, line: str, n_lines: int) -> list[str]:
        """Type one line; return the ``n_lines`` lines of replies (the reference's count)."""
        self.write(line)
        self.wait_echo(line)
        return [self.next_line() for _ in range(n_lines)]

    def kill(self) -> None:
        sigkill(self.proc)
        self.close()

    def finish(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        assert self.proc.wait(timeout=REPLY_TIMEOUT) == 0
        self.close()

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self.log.close()


def reference_run(db: Path, script: list[str], log: Path) -> list[list[str]]:
    """The same script without a crash; the reply lines to each message."""
    with log.open("ab") as err:
        out = subprocess.run(
            [PY, "bot.py", "chat", "--db", str(db), "--user", USER],
            cwd=ROOT,
            input="".join(s + "\n" for s in script),
            capture_output=False,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            encoding="utf-8",
            env=_env(),
            check=True,
            timeout=120,
        ).stdout
    blocks: list[list[str]] = []
    i = 0
    for line in out.splitlines():
        if i < len(script) and line == f"> {script[i]}":
            blocks.append([])
            i += 1
        else:
            assert blocks, f"output before the first echo: {line!r}"
            blocks[-1].append(line)
    assert len(blocks) == len(script), out[-2000:]
    return blocks


def committed(db: Path) -> int:
    """How many of the user's messages the database holds (each one exactly once)."""
    con = sqlite3.connect(db, timeout=10)
    try:
        return int(
            con.execute(
                "SELECT COUNT(*) FROM inbound_messages WHERE channel = 'terminal' AND user_ref = ?",
                (USER,),
            ).fetchone()[0]
        )
    finally:
        con.close()


def crash_run(
    db: Path, script: list[str], ref: list[list[str]], kills: int, rng: random.Random, log: Path
) -> Counter[str]:
    """Play ``script`` killing the bot ``kills`` times; every reply read must match ``ref``."""
    events = sorted(
        ((rng.randrange(len(script)), rng.choice(MODES)) for _ in range(kills)),
        key=lambda e: e[0],
    )
    done: Counter[str] = Counter()
    proc: ChatProcess | None = None
    pos = 0
    while pos < len(script):
        if proc is None:
            proc = ChatProcess(db, log)
        if events and events[0][0] <= pos:
            _, mode = events.pop(0)
            line = script[pos]
            acked = pos  # messages whose replies the user has seen
            if mode == "startup":
                time.sleep(rng.uniform(0.0, 0.4))
            elif mode == "between":
                got = proc.exchange(line, len(ref[pos]))
                assert got == ref[pos], _diff(pos, line, got, ref[pos])
                acked = pos + 1
            else:
                proc.write(line)
                if mode == "after_write_delay":
                    time.sleep(rng.uniform(0.0, 0.03))
                elif mode == "after_echo":
                    proc.wait_echo(line)  # the message is in the engine's hands now
            proc.kill()
            proc = None
            done[mode] += 1
            n = committed(db)
            # A message whose reply was printed is committed; a message in flight is either
            # wholly committed or not at all; nothing beyond it.
            limit = pos if mode == "startup" else pos + 1
            assert acked <= n <= limit, (mode, pos, n)
            if mode != "between" and n == pos + 1:
                done["(in-flight message had committed)"] += 1
            pos = n  # re-type what did not commit
            continue
        got = proc.exchange(script[pos], len(ref[pos]))
        assert got == ref[pos], _diff(pos, script[pos], got, ref[pos])
        pos += 1
    while events:  # kill points left past the last message: kill an idle bot
        events.pop(0)
        proc = proc or ChatProcess(db, log)
        time.sleep(rng.uniform(0.0, 0.4))
        proc.kill()
        proc = None
        done["idle"] += 1
        assert committed(db) == len(script)
    proc = proc or ChatProcess(db, log)
    proc.finish()
    return done


def _diff(pos: int, line: str, got: list[str], want: list[str]) -> str:
    return (
        f"message {pos} ({line!r}) did not resume at the same step:\n"
        + "\n".join(got)
        + "\n--- reference ---\n"
        + "\n".join(want)
    )


# ---------------------------------------------------------------------------------------------
# What the database holds


def facts(db: Path) -> dict[str, Any]:
    """Everything the run should have produced, without ids, refs and timestamps."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        out: dict[str, Any] = {"claims": claims_with_documents(con)}
        out["outbox"] = sorted(
            tuple(r)
            for r in con.execute("SELECT channel, msg_key, class, status FROM outbox").fetchall()
        )
        out["conversation"] = tuple(
            con.execute(
                "SELECT flow, step, data, stack, version, draft FROM conversations"
            ).fetchone()
        )
        out["inbound"] = con.execute("SELECT COUNT(*) FROM inbound_messages").fetchone()[0]
        out["chats"] = con.execute("SELECT COUNT(*) FROM chats").fetchone()[0]
        out["audit"] = sorted(
            tuple(r)
            for r in con.execute(
                "SELECT action, COUNT(*) FROM audit_log GROUP BY action"
            ).fetchall()
        )
        return out
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# (a) terminal chat


@pytest.mark.parametrize("flow", ["jkk", "jkm"])
def test_terminal_chat_survives_sigkill_at_random_points(
    flow: str, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(f"{seed}-{flow}")
    lines, photo_files = script(flow, tmp_path)
    photos = [p.read_bytes() for p in photo_files]

    ref_db = tmp_path / "ref" / "lingkaran.db"
    ref_db.parent.mkdir()
    seed_db(ref_db, _env())
    ref_log = tmp_path / "ref.log"
    ref = reference_run(ref_db, lines, ref_log)
    assert any("Nomor laporan: LC-" in line for block in ref for line in block)

    db = tmp_path / "crash" / "lingkaran.db"
    db.parent.mkdir()
    seed_db(db, _env())
    log = tmp_path / "crash.log"
    done = crash_run(db, lines, ref, CHAT_SHARE, rng, log)
    sys.stdout.write(f"{flow}: {dict(done)}\n")
    assert sum(n for m, n in done.items() if not m.startswith("(")) == CHAT_SHARE

    want, got = facts(ref_db), facts(db)
    assert len(want["claims"]) == 1
    assert got == want
    assert got["inbound"] == len(lines)
    assert_sound(ref_db, photos)
    assert_sound(db, photos)
    assert_no_errors(ref_log)
    assert_no_errors(log)


# ---------------------------------------------------------------------------------------------
# (b) outbox dispatch

DISPATCH_ROWS = 200
DAY = datetime(2026, 11, 25, 10, 0, tzinfo=WIB)


class _PooledHTTPServer(HTTPServer):
    """Connections served by a fixed pool of worker threads, as a threaded production server does.

    ``ThreadingHTTPServer`` starts a thread per connection, and every send opens one: in the
    multi-instance bench that cost the driver process ~0.7 ms of CPU per request, taken from
    the system it measures; the pool halves it. 32 workers: more than the senders in flight
    (two dispatchers of 8), so a request never waits for a worker.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="endpoint")

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self._serve, request, client_address)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


class Endpoint:
    """A loopback channel API: records each POST (outbox id, sender pid); can kill the sender."""

    def __init__(self) -> None:
        self.received: list[tuple[int, int, str]] = []  # (outbox_id, pid, text)
        self.lock = threading.Lock()
        self.kill_in_request_at: int | None = None
        self.kill_after_response_at: int | None = None
        self.killed_pids: set[int] = set()
        self.delay = 0.01
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["content-length"]))
                try:
                    body = json.loads(raw)
                except ValueError:  # the sender died while writing its request: not a send
                    return
                with endpoint.lock:
                    endpoint.received.append((body["outbox_id"], body["pid"], body["text"]))
                    n = len(endpoint.received)
                    in_req = endpoint.kill_in_request_at == n
                    after = endpoint.kill_after_response_at == n
                if in_req:
                    endpoint.kill(body["pid"])  # the send happened; its response never arrives
                time.sleep(endpoint.delay)
                try:
                    payload = json.dumps({"message_id": f"m{n}"}).encode()
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass
                if after:
                    endpoint.kill(body["pid"])

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _PooledHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"

    def kill(self, pid: int) -> None:
        with self.lock:
            self.killed_pids.add(pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def __enter__(self) -> Endpoint:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def add_outbox_rows(db: Path, n: int) -> None:
    """``n`` more queued rows, each naming its own id in its params (checked on arrival)."""
    con = sqlite3.connect(db)
    with con:
        first = con.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM outbox").fetchone()[0]
        con.executemany(
            "INSERT INTO outbox (id, channel, user_ref, msg_key, params, class, not_before, "
            "created_at) VALUES (?, 'telegram', ?, 'claim.status_changed', ?, 'transactional', "
            "?, ?)",
            [
                (
                    i,
                    f"u{i}",
                    json.dumps({"ref": f"LC-2026-{i:06d}", "status": "in_review", "note": ""}),
                    DAY.isoformat(),
                    DAY.isoformat(),
                )
                for i in range(first, first + n)
            ],
        )
    con.close()


@pytest.fixture
def outbox_db(tmp_path: Path) -> Path:
    db = tmp_path / "lingkaran.db"
    seed_db(db, _env())
    add_outbox_rows(db, DISPATCH_ROWS)
    return db


def test_outbox_dispatch_survives_sigkill_at_random_points(
    outbox_db: Path, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(f"{seed}-dispatch")
    log = tmp_path / "dispatch.log"
    kills: Counter[str] = Counter()
    runs = 0
    with Endpoint() as api:
        while True:
            runs += 1
            assert runs < DISPATCH_KILLS + 20, "the dispatcher never finished"
            mode = rng.choice(("in_request", "after_response", "timer"))
            if sum(kills.values()) >= DISPATCH_KILLS:
                mode = "none"
            with api.lock:
                step = rng.randint(1, 40)
                api.kill_in_request_at = len(api.received) + step if mode == "in_request" else None
                api.kill_after_response_at = (
                    len(api.received) + step if mode == "after_response" else None
                )
            with log.open("ab") as err:
                proc = subprocess.Popen(
                    [PY, str(WORKER), "--db", str(outbox_db), "--url", api.url],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                    env=_env(),
                )
            assert proc.stdout is not None
            if mode == "timer":
                assert proc.stdout.readline().strip() == "started"
                time.sleep(rng.uniform(0.0, 0.15))
                if proc.poll() is None:
                    api.kill(proc.pid)
            rc = proc.wait(timeout=60)
            proc.stdout.close()
            if rc == -signal.SIGKILL:
                kills[mode] += 1
                continue
            assert rc == 0, log.read_text()
            if mode == "none":
                break
            add_outbox_rows(outbox_db, 50)  # finished before the kill landed: more work
    sys.stdout.write(f"dispatch: {sum(kills.values())} kills {dict(kills)} in {runs} runs\n")
    assert sum(kills.values()) == DISPATCH_KILLS

    con = sqlite3.connect(outbox_db)
    rows = dict(con.execute("SELECT id, status FROM outbox").fetchall())
    con.close()
    assert set(rows.values()) == {"sent"}, Counter(rows.values())
    got = Counter(oid for oid, _, _ in api.received)
    assert set(got) == set(rows), "every row delivered at least once"
    for oid, _pid, text in api.received:
        assert f"LC-2026-{oid:06d}" in text, "each POST carries its own row"
    # A second delivery of a row only ever follows a first one by a process that was killed.
    by_row: dict[int, list[int]] = {}
    for oid, pid, _ in api.received:
        by_row.setdefault(oid, []).append(pid)
    for oid, pids in by_row.items():
        for earlier in pids[:-1]:
            assert earlier in api.killed_pids, (oid, pids)
    dupes = sum(n - 1 for n in got.values())
    assert dupes <= 8 * sum(kills.values()), dupes  # at most the rows in flight per kill
    assert dupes >= kills["in_request"], "a kill mid-request must lead to a resend"
    assert "Traceback" not in log.read_text()
