"""``bot.py serve`` starts with no channel configured and stops promptly (within its graces,
leaving nothing running); the admin reminder commands print their counts."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FixedClock, settings_for
from killing import STOP_BOUND

from lingkaran.app import STOP_GRACE, run_server
from lingkaran.channels import admin_cli
from lingkaran_core.storage import Database

ROOT = Path(__file__).resolve().parents[2]
CHANNEL_VARS = (
    "TELEGRAM_BOT_TOKEN",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CHANNEL_VARS}
    env["PYTHONUNBUFFERED"] = "1"
    return env


assert STOP_GRACE + 0.2 < STOP_BOUND < 5.0


def test_serve_starts_without_channels_and_stops_promptly(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "bot.py", "serve", "--db", str(tmp_path / "s.db"), "--port", "0"],
        cwd=ROOT,
        env=_env(),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 20
        seen = ""
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            seen += line
            if "channels enabled" in line or not line:
                break
        assert "channels enabled: terminal (log)" in seen, seen
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=STOP_BOUND + 10)
        elapsed = time.monotonic() - t0
        rest = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    sys.stdout.write(f"serve stopped {elapsed:.2f} s after SIGINT\n")
    assert rc == 0, rest
    assert "stopping" in rest, rest
    assert "did not stop in time" not in rest, rest
    assert "Traceback" not in rest, rest
    assert elapsed < STOP_BOUND, f"{elapsed:.1f} s: the stop waited for a timeout"


async def test_serve_in_process_stops_on_its_event(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The stop leaves nothing behind: no task still running, the port closed, no overrun."""
    stop = asyncio.Event()
    settings = settings_for(LINGKARAN_DB=str(tmp_path / "s.db"))
    before = asyncio.all_tasks()
    task = asyncio.create_task(
        run_server("serve", settings, clock=FixedClock(), host="127.0.0.1", port=0, stop=stop)
    )

    def serving() -> logging.LogRecord | None:
        return next((r for r in caplog.records if "channels enabled" in r.getMessage()), None)

    deadline = time.monotonic() + 20
    while serving() is None and not task.done() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    record = serving()
    assert record is not None, "serve did not start within 20 s"
    port = int(record.__dict__["port"])
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # it listens
    t0 = time.monotonic()
    stop.set()
    assert await asyncio.wait_for(task, STOP_BOUND + 10) == 0
    elapsed = time.monotonic() - t0
    left = {t for t in asyncio.all_tasks() - before if t is not asyncio.current_task()}
    assert not left, f"still running after the stop: {left}"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    overran = [r.getMessage() for r in caplog.records if "did not stop in time" in r.getMessage()]
    assert not overran, overran
    assert elapsed < STOP_BOUND, f"{elapsed:.1f} s: the stop waited for a timeout"


def _admin(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    """``lingkaran admin ARGV`` in-process on the test clock: exit code and stdout."""
    code = admin_cli.main(argv, settings=settings_for(), clock=FixedClock())
    return code, capsys.readouterr().out


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "a.db"

    async def seed() -> None:
        db = await Database.open(path)
        async with db.tx() as tx:
            await tx.execute(
                "INSERT INTO claims (ref, type, status, event_date, event_at, reported_at, "
                "checklist, created_at, updated_at) VALUES ('LC-2026-000009', 'JKK', "
                "'submitted', '2026-11-24', '2026-11-24T01:00:00+00:00', "
                "'2026-11-24T02:00:00+00:00', '[]', '2026-11-24T02:00:00+00:00', "
                "'2026-11-24T02:00:00+00:00')"
            )
        await db.close()

    asyncio.run(seed())
    return path


def test_reminders_run_dry_run_prints_counts_and_queues_nothing(
    db_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 36 h after the accident: the JKK deadline alert is due.
    argv = ["reminders", "run", "--db", str(db_file), "--now", "2026-11-25T13:00:00+00:00"]
    code, out = _admin(capsys, [*argv, "--dry-run"])
    assert code == 0
    assert "jkk_deadline       would queue 1" in out
    code, out = _admin(capsys, ["outbox", "--db", str(db_file)])
    assert code == 0
    assert "outbox is empty" in out


def test_reminders_run_queues_once(db_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = ["--now", "2026-11-25T13:00:00+00:00"]
    _, out = _admin(capsys, ["reminders", "run", "--db", str(db_file), *now])
    assert "jkk_deadline       queued 1" in out
    _, out = _admin(capsys, ["reminders", "run", "--db", str(db_file), *now])
    assert "total              queued 0" in out
    _, out = _admin(capsys, ["outbox", "--db", str(db_file)])
    assert "admin.jkk_deadline" in out


def test_broadcast_estimates_before_queueing(
    db_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def add_recipients() -> None:
        db = await Database.open(db_file)
        async with db.tx() as tx:
            t = "2026-11-01T00:00:00+00:00"
            for i in range(3):
                await tx.execute(
                    "INSERT INTO workers (id, nik, name, birth_date, sex, desa_code, sector, "
                    "coverage_start, paid_through, created_at, updated_at) VALUES "
                    "(?, ?, 'W', '1990-01-01', 'L', '35.09.01.2001', 'nelayan_tangkap', "
                    "'2026-01-01', '2026-11-01', ?, ?)",
                    (i + 1, f"35090101019000{i:02d}", t, t),
                )
                await tx.execute(
                    "INSERT INTO chats (channel, user_ref, worker_id, created_at) "
                    "VALUES ('whatsapp', ?, ?, ?)",
                    (f"62812000000{i}", i + 1, t),
                )
        await db.close()

    asyncio.run(add_recipients())
    base = ["broadcast", "--db", str(db_file), "--kecamatan", "35.09.01", "--message", "Halo"]
    base += ["--now", "2026-11-25T03:00:00+00:00"]
    code, text = _admin(capsys, base)
    assert code == 0
    assert "recipients: 3 (WhatsApp 3)" in text
    assert "3 template messages" in text
    assert "nothing queued" in text
    code, out = _admin(capsys, [*base, "--yes"])
    assert code == 0
    assert "queued 3 message(s)" in out
    code, out = _admin(capsys, [*base, "--yes"])
    assert code == 0
    assert "queued 0 message(s)" in out  # the same broadcast twice is one
