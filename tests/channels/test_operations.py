"""Operating the bot: readiness and metrics, a channel that cannot start, an expired token,
re-queueing, and private files.

Real parts only: ``run_server`` from the composition root on a real port, PTB against the
loopback Bot API fake (through a loopback TCP gate that refuses connections until opened), a
real SQLite file, the admin CLI's own entry point and ``bot.py`` in a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from conftest import FixedClock, settings_for
from fake_telegram import TOKEN, FakeTelegram

from handlers.engine import Reply
from lingkaran import app as app_module
from lingkaran.app import run_server
from lingkaran.channels import admin_cli
from lingkaran.channels.base import ChannelAuthFailed, OutboundMessage, SendResult
from lingkaran.channels.dispatcher import ChannelLimits, Dispatcher
from lingkaran_core.storage import Database

ROOT = Path(__file__).resolve().parents[2]
NO_PACING = ChannelLimits(rate=1000, per_user_interval=0.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.get(url)


@contextlib.asynccontextmanager
async def _serving(settings: object, clock: FixedClock) -> AsyncIterator[str]:
    port = _free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_server("serve", settings, clock=clock, host="127.0.0.1", port=port, stop=stop)  # type: ignore[arg-type]
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(500):
            if task.done():
                task.result()
            with contextlib.suppress(httpx.HTTPError):
                if (await _get(base + "/healthz")).status_code == 200:
                    break
            await asyncio.sleep(0.02)
        yield base
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def _until_ready(base: str, within: float = 10.0) -> httpx.Response:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        resp = await _get(base + "/readyz")
        if resp.status_code == 200 or loop.time() > deadline:
            return resp
        await asyncio.sleep(0.05)


async def test_serve_is_ready_and_exposes_prometheus_metrics(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = settings_for(LINGKARAN_DB=str(tmp_path / "s.db"))
    async with _serving(settings, clock) as base:
        ready = await _until_ready(base)
        assert ready.status_code == 200, ready.text
        assert ready.text == "ready\n"
        metrics = await _get(base + "/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    for name in (
        "lingkaran_step_seconds",
        "lingkaran_outbox_sent_total",
        "lingkaran_outbox_throttled_total",
        "lingkaran_sweep_seconds",
        "lingkaran_outbox_rows",
        "lingkaran_claims",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in metrics.text, name


class _Gate:
    """A loopback TCP port that refuses (closes) connections until opened, then forwards."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.open = False
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> _Gate:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_a_channel_that_cannot_start_is_reported_and_retried_while_serve_goes_on(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "RETRY_FIRST", 0.2)
    async with FakeTelegram() as fake:
        fake_port = int(fake.root.rsplit(":", 1)[1])
        async with _Gate(fake_port) as gate:
            settings = settings_for(
                LINGKARAN_DB=str(tmp_path / "s.db"),
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{gate.port}",
            )
            async with _serving(settings, clock) as base:
                down = await _get(base + "/readyz")
                assert down.status_code == 503
                assert "channel telegram: down" in down.text
                assert "dispatcher" not in down.text  # the rest serves
                gate.open = True
                up = await _until_ready(base, within=15)
                assert up.status_code == 200, up.text
                metrics = await _get(base + "/metrics")
                assert 'lingkaran_channel_up{channel="telegram"} 1.0' in metrics.text


class _Sender:
    """A sender whose channel refuses our token until ``renewed``."""

    channel = "telegram"

    def __init__(self) -> None:
        self.renewed = False
        self.sent: list[int] = []
        self.refused = 0

    async def send_reply(self, user_ref: str, reply: Reply) -> SendResult:
        raise NotImplementedError

    async def send_outbound(self, message: OutboundMessage) -> SendResult:
        if not self.renewed:
            self.refused += 1
            raise ChannelAuthFailed("Unauthorized", code=401)
        self.sent.append(message.outbox_id)
        return SendResult(message_ids=(f"m{message.outbox_id}",))


async def _queue(db: Database, clock: FixedClock, n: int, status: str = "queued") -> None:
    async with db.tx() as tx:
        await tx.executemany(
            "INSERT INTO outbox (channel, user_ref, msg_key, params, class, not_before, "
            "created_at, status) VALUES ('telegram', ?, 'claim.status_changed', "
            '\'{"ref":"LC-2026-000001","status":"in_review","note":""}\', '
            "'transactional', ?, ?, ?)",
            [(f"u{i}", clock().isoformat(), clock().isoformat(), status) for i in range(n)],
        )


async def _statuses(db: Database) -> dict[tuple[str, str], int]:
    async with db.read() as r:
        rows = await r.all("SELECT channel, status, COUNT(*) FROM outbox GROUP BY 1, 2")
    return {(row[0], row[1]): row[2] for row in rows}


async def test_an_expired_token_pauses_the_outbox_and_nothing_fails(
    db: Database, clock: FixedClock
) -> None:
    await _queue(db, clock, 20)
    sender = _Sender()
    disp = Dispatcher(
        db, {"telegram": sender}, clock=clock, limits={"telegram": NO_PACING}, auth_recheck=0.2
    )
    await disp.drain("telegram")
    assert sender.refused == 1  # one row tried, not twenty
    assert disp.auth_paused == {"telegram": "Unauthorized"}
    counts = await _statuses(db)
    assert counts[("telegram", "queued")] == 20
    assert counts[("admin", "queued")] == 1  # the OPD is told, once
    await disp.drain("telegram")
    assert sender.refused == 1  # before the recheck time nothing is tried
    sender.renewed = True
    await asyncio.sleep(0.25)
    await disp.drain("telegram")
    assert disp.auth_paused == {}
    assert sorted(sender.sent) == list(range(1, 21))
    assert (await _statuses(db))[("telegram", "sent")] == 20


def test_admin_outbox_requeue_counts_first_then_moves_failed_and_dead_rows(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.db"

    async def seed() -> None:
        db = await Database.open(path)
        await _queue(db, clock, 3, status="failed")
        await _queue(db, clock, 2, status="dead")
        await _queue(db, clock, 4, status="sent")
        await db.close()

    asyncio.run(seed())

    def admin(*argv: str) -> str:
        code = admin_cli.main(
            ["outbox", *argv, "--db", str(path)], settings=settings_for(), clock=clock
        )
        assert code == 0
        return capsys.readouterr().out

    assert "5 message(s) would go back" in admin("requeue")
    assert "2 message(s) back in the queue" in admin("requeue", "--status", "dead", "--yes")
    assert "3 message(s) back in the queue" in admin("requeue", "--yes")

    async def check() -> dict[tuple[str, str], int]:
        db = await Database.open(path)
        try:
            async with db.read() as r:
                audit = await r.scalar(
                    "SELECT COUNT(*) FROM audit_log WHERE action = ?", ("outbox.requeue",)
                )
                attempts = await r.scalar(
                    "SELECT MAX(attempts) FROM outbox WHERE status = 'queued'"
                )
            assert audit == 2
            assert attempts == 0
            return await _statuses(db)
        finally:
            await db.close()

    assert asyncio.run(check()) == {("telegram", "queued"): 5, ("telegram", "sent"): 4}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_file_the_bot_creates_is_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    db = folder / "bot.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINGKARAN_")}

    def run(*argv: str) -> None:
        done = subprocess.run(
            [sys.executable, str(ROOT / "bot.py"), *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            preexec_fn=lambda: os.umask(0o022),  # a typical, permissive login umask
        )
        assert done.returncode == 0, done.stderr

    run("admin", "demo-data", "--workers", "200", "--db", str(db))
    run("admin", "backup", "--out", str(tmp_path / "backups" / "b.db"), "--db", str(db))
    created = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert db in created
    loose = [f"{p} {_mode(p):o}" for p in created if _mode(p) & 0o077]
    assert loose == []
    folders = [p for p in tmp_path.rglob("*") if p.is_dir()]
    assert [f"{p} {_mode(p):o}" for p in folders if _mode(p) & 0o077] == []


async def test_an_expired_whatsapp_token_pauses_the_outbox_until_a_new_token_and_a_requeue(
    db: Database, clock: FixedClock
) -> None:
    """End to end against the Graph fake: 401 / code 190 pauses, a new token sends."""
    import wa_payloads as wp
    from fake_graph import FakeGraph, running

    from lingkaran.channels.whatsapp import WhatsAppConfig, WhatsAppSender
    from lingkaran_core.storage import admin_repo

    async with running(FakeGraph(phone_number_id=wp.PNID)) as graph:

        def sender(token: str) -> WhatsAppSender:
            config = WhatsAppConfig(
                app_secret="s",
                verify_token="v",
                access_token=token,
                phone_number_id=wp.PNID,
                api_root=graph.base_url,
                api_version="v21.0",
            )
            return WhatsAppSender(config, clock=clock)

        now = clock().isoformat()
        async with db.tx() as tx:
            for i in range(6):
                chat_id = await tx.execute(
                    "INSERT INTO chats (channel, user_ref, language, last_inbound_at, created_at) "
                    "VALUES ('whatsapp', ?, 'id', ?, ?)",
                    (f"62812000000{i}", now, now),
                )
                await tx.execute(
                    "INSERT INTO outbox (chat_id, channel, user_ref, msg_key, params, class, "
                    "not_before, created_at) VALUES (?, 'whatsapp', ?, 'claim.status_changed', "
                    '\'{"ref":"LC-2026-000001","status":"in_review","note":""}\', '
                    "'transactional', ?, ?)",
                    (chat_id, f"62812000000{i}", now, now),
                )
            # One row failed for good before anyone noticed the token (round 1's behaviour).
            await tx.execute("UPDATE outbox SET status = 'failed' WHERE id = 6")
        expired = sender("an-expired-token")
        disp = Dispatcher(db, {"whatsapp": expired}, clock=clock, limits={"whatsapp": NO_PACING})
        await disp.drain("whatsapp")
        await expired.aclose()
        assert "whatsapp" in disp.auth_paused
        assert graph.sent == []
        counts = await _statuses(db)
        assert counts[("whatsapp", "queued")] == 5  # nothing failed for the token's sake
        assert counts[("whatsapp", "failed")] == 1
        # The operator renews the token, restarts, and re-queues what failed before.
        async with db.tx() as tx:
            moved = await admin_repo.requeue_outbox(tx, now=clock(), statuses=["failed"])
        assert moved == 1
        renewed = sender(graph.token)
        disp = Dispatcher(db, {"whatsapp": renewed}, clock=clock, limits={"whatsapp": NO_PACING})
        await disp.drain("whatsapp")
        await renewed.aclose()
        assert disp.auth_paused == {}
        assert (await _statuses(db))[("whatsapp", "sent")] == 6
        assert len(graph.sent) == 6


async def test_only_the_console_roster_upload_may_exceed_the_webhook_body_limit(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = settings_for(LINGKARAN_DB=str(tmp_path / "s.db"))
    body = b"x" * (2 * 1024 * 1024)  # 2 MiB: over the 1 MiB default, under the roster cap
    async with _serving(settings, clock) as base, httpx.AsyncClient(timeout=10) as client:
        webhook = await client.post(base + "/webhook/whatsapp", content=body)
        roster = await client.post(
            base + "/console/roster",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert webhook.status_code == 413
    assert roster.status_code != 413  # the console's own gate answers (not logged in)
    assert roster.status_code in (302, 303, 401, 403)
