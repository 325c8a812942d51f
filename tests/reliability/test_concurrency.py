"""Two processes on one SQLite file: the engine under load while the admin CLI works beside it.

* The engine (in this process) handles claims from several users at once while a subprocess
  (``tests/reliability/admin_loop.py``) runs ``bot.py admin`` commands in a loop: status changes
  on claims, ``stats``, ``claims list``, ``outbox``, ``import-roster`` and ``backup``. No user may
  see the lock: no ERROR log, no apology ("Maaf, ada gangguan"), every message answered as usual,
  every claim stored, every admin command successful.
* ``python bot.py admin backup`` taken while the engine is busy restores (``admin restore``) to a
  database that passes ``integrity_check``/``foreign_key_check`` and holds every claim that was
  committed before the backup began.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from conftest import ChatDriver, FixedClock

from handlers.engine import Engine
from lingkaran_core import services
from lingkaran_core.claims import ClaimType
from lingkaran_core.storage import Database

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
LOOP = ROOT / "tests" / "reliability" / "admin_loop.py"
USERS = 6
APOLOGY = "Maaf, ada gangguan"

# One JKK report by typed answers: someone else, NIK unknown, yesterday morning, outpatient.
JKK = [
    "menu",
    "2",
    "2",
    "1",  # Tidak tahu (NIK)
    "Budi Santoso",
    "2",  # Kemarin
    "1",  # Pagi
    "sawah di Sukoreno",
    "2",
    "terkena sabit",
    "2",  # Rawat jalan
    "Puskesmas Kalisat",
    "081234567890",
    "1",  # Kirim
]


def roster(path: Path, n: int = 40) -> Path:
    rows = ["nik;nama;tanggal_lahir;kode_desa;sektor"]
    rows += [
        f"35092715057{8000 + i:05d};Pekerja {i};15-05-1978;35.09.27.2002;buruh tani tembakau"
        for i in range(1, n + 1)
    ]
    rows.append("123;Rusak;15-05-1978;35.09.27.2002;buruh tani tembakau")  # rejected row
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


async def file_claims(db: Database, clock: FixedClock, n: int) -> list[str]:
    refs = []
    async with db.tx() as tx:
        for i in range(n):
            claim = await services.submit_claim(
                tx,
                services.NewClaim(
                    claim_type=ClaimType.JKK,
                    event_date=clock().date(),
                    checklist=("ktp_participant",),
                ),
                now=clock(),
                idempotency_key=f"admin-target-{i}",
                channel="terminal",
            )
            refs.append(claim.ref)
    return refs


class Load:
    """Users filing JKK reports (with a photo) in parallel until told to stop."""

    def __init__(self, engine: Engine, clock: FixedClock) -> None:
        self.engine = engine
        self.clock = clock
        self.stop = asyncio.Event()
        self.messages = 0
        self.refs: list[str] = []
        self.drivers: list[ChatDriver] = []
        self.filed = asyncio.Condition()

    async def until(self, n_claims: int) -> None:
        """Wait until the users filed ``n_claims`` claims."""
        async with self.filed:
            await self.filed.wait_for(lambda: len(self.refs) >= n_claims)

    async def user(self, n: int) -> None:
        rounds = 0
        while not self.stop.is_set():
            rounds += 1
            # A new chat per report: one chat may file 5 reports an hour (abuse limit) and the
            # clock stands still here.
            chat = ChatDriver(engine=self.engine, clock=self.clock, user=f"load-{n}-{rounds}")
            self.drivers.append(chat)
            for text in JKK:
                await chat.send(text)
                self.messages += 1
                assert chat.replies, f"no reply to {text!r}"
            chat.expect("Nomor laporan: LC-")
            ref = chat.text.split("Nomor laporan: ", 1)[1][:14]
            await chat.photo(data=b"\xff\xd8\xff load " + f"{n}-{rounds}".encode())
            chat.expect("diterima")
            self.messages += 1
            self.refs.append(ref)
            async with self.filed:
                self.filed.notify_all()

    def run(self) -> asyncio.Future[list[None]]:
        return asyncio.gather(*(self.user(i) for i in range(USERS)))

    def assert_clean(self, caplog: pytest.LogCaptureFixture) -> None:
        for chat in self.drivers:
            text = "\n".join(chat.transcript)
            assert APOLOGY not in text, chat.dump()
            assert "locked" not in text.lower()
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, errors[0].getMessage()


async def _run(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        PY, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode("utf-8", "replace")


async def test_admin_cli_in_another_process_never_shows_a_lock_to_users(
    engine: Engine,
    db: Database,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    refs = await file_claims(db, clock, 3)
    csv_path = roster(tmp_path / "roster.csv")
    (tmp_path / "backups").mkdir()
    load = Load(engine, clock)
    users = load.run()
    await asyncio.sleep(0.2)  # the load is running before the admin starts
    started = load.messages
    t0 = time.monotonic()
    rc, out = await _run(
        str(LOOP),
        "--db",
        str(db_path),
        "--roster",
        str(csv_path),
        "--out",
        str(tmp_path / "backups"),
        *(x for ref in refs for x in ("--ref", ref)),
        "--rounds",
        "3",
    )
    admin_seconds = time.monotonic() - t0
    during = load.messages - started
    load.stop.set()
    await users
    sys.stdout.write(
        f"\nconcurrency: {during} messages during {admin_seconds:.1f}s of admin commands\n"
    )

    assert rc == 0, out
    lines = [line for line in out.splitlines() if line.startswith("rc=")]
    assert len(lines) == 3 * (len(refs) + 5), out
    assert all(line.startswith("rc=0 ") for line in lines), out
    assert "locked" not in out.lower()
    assert during >= 50, "the engine was not under load while the admin worked"
    load.assert_clean(caplog)

    async with db.read() as r:
        stored = {row[0] for row in await r.all("SELECT ref FROM claims")}
        statuses = {
            row[0]: row[1]
            for row in await r.all(
                f"SELECT ref, status FROM claims WHERE ref IN ({','.join('?' * len(refs))})",
                refs,
            )
        }
        workers = await r.scalar("SELECT COUNT(*) FROM workers")
        docs = await r.scalar("SELECT COUNT(*) FROM claim_documents")
    assert set(load.refs) <= stored
    assert len(set(load.refs)) == len(load.refs)
    assert docs == len(load.refs)
    assert set(statuses.values()) == {"in_review"}  # in_review → documents_requested → in_review
    assert workers == 40
    assert await db.integrity_check() == "ok"
    assert await db.foreign_key_violations() == 0


@pytest.mark.sqlite_only
async def test_backup_under_load_restores_every_claim_committed_before_it(
    engine: Engine,
    db: Database,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    load = Load(engine, clock)
    users = load.run()
    backups = []
    for i in range(3):
        await load.until(4 * (i + 1))
        async with db.read() as r:
            before = {row[0] for row in await r.all("SELECT ref FROM claims")}
        target = tmp_path / f"backup{i}.db"
        rc, out = await _run(
            "bot.py", "admin", "backup", "--out", str(target), "--db", str(db_path)
        )
        assert rc == 0, out
        assert "integrity ok" in out
        backups.append((target, before))
    load.stop.set()
    await users
    load.assert_clean(caplog)

    for i, (target, before) in enumerate(backups):
        restored = tmp_path / f"restored{i}" / "lingkaran.db"
        rc, out = await _run("bot.py", "admin", "restore", str(target), "--db", str(restored))
        assert rc == 0, out
        con = sqlite3.connect(restored)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []
            refs = {row[0] for row in con.execute("SELECT ref FROM claims")}
            orphans = con.execute(
                "SELECT COUNT(*) FROM claim_documents d LEFT JOIN claims c "
                "ON c.id = d.claim_id WHERE c.id IS NULL"
            ).fetchone()[0]
        finally:
            con.close()
        assert before <= refs, sorted(before - refs)
        assert orphans == 0
    assert len(backups[-1][1]) >= 12
