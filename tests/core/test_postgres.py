"""The PostgreSQL backend: its SQL spelling, its migrations, backup/restore and the SQLite copy.

The spelling and migration checks run on every pass. The rest needs a real server and runs in
the PostgreSQL pass (``make pytest-pg``), where ``db_path`` is a fresh database's URL.
"""

from __future__ import annotations

import asyncio
import os
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import ON_POSTGRES, FixedClock, settings_for

from lingkaran.channels.admin_cli import main
from lingkaran_core.storage import Database
from lingkaran_core.storage.pg import redact_url, translate

needs_server = pytest.mark.skipif(not ON_POSTGRES, reason="runs in the PostgreSQL pass")


@pytest.fixture(autouse=True)
def _files_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A PostgreSQL database's documents default to ./data/files: keep them out of the checkout.
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), settings=settings_for(), clock=FixedClock())
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def test_every_sqlite_migration_has_a_postgresql_twin() -> None:
    root = resources.files("lingkaran_core.storage")
    sqlite = sorted(f.name for f in (root / "migrations").iterdir() if f.name.endswith(".sql"))
    pg = sorted(f.name for f in (root / "migrations_pg").iterdir() if f.name.endswith(".sql"))
    assert sqlite == pg


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
        ("SELECT 'a?b' FROM t WHERE x LIKE ?", "SELECT 'a?b' FROM t WHERE x LIKE %s"),
        ("SELECT '50%' FROM t", "SELECT '50%%' FROM t"),
        ("UPDATE t SET a = :a WHERE id = :id", "UPDATE t SET a = %(a)s WHERE id = %(id)s"),
        ("SELECT x::text FROM t", "SELECT x::text FROM t"),
        (
            "INSERT OR IGNORE INTO u (a) VALUES (?)",
            "INSERT INTO u (a) VALUES (%s) ON CONFLICT DO NOTHING",
        ),
        (
            "INSERT OR IGNORE INTO u (a) VALUES (?) RETURNING a",
            "INSERT INTO u (a) VALUES (%s) ON CONFLICT DO NOTHING RETURNING a",
        ),
        ("BEGIN IMMEDIATE", "BEGIN"),
    ],
)
def test_sqlite_spelling_becomes_postgresql(sql: str, expected: str) -> None:
    assert translate(sql)[0] == expected


def test_lastrowid_adds_returning_only_for_tables_with_an_identity() -> None:
    assert translate("INSERT INTO t (a) VALUES (?)", frozenset({"t"})) == (
        "INSERT INTO t (a) VALUES (%s) RETURNING id",
        True,
    )
    assert translate("INSERT INTO u (a) VALUES (?)", frozenset({"t"}))[1] is False
    assert translate("INSERT INTO t (a) VALUES (?) RETURNING a", frozenset({"t"}))[1] is False


def test_a_url_is_shown_without_its_password() -> None:
    assert redact_url("postgresql://lk:s3cret@db:5432/lk") == "postgresql://lk:***@db:5432/lk"
    assert redact_url("postgresql://lk@db/lk") == "postgresql://lk@db/lk"


@needs_server
async def test_values_come_back_as_sqlite_gives_them(db: Database) -> None:
    async with db.tx() as tx:
        fid = await tx.execute(
            "INSERT INTO facilitators (name, scope_kind, scope_code, created_at) "
            "VALUES (?, 'desa', ?, ?)",
            ("Bu Ani", 3509010001, "2026-11-25T03:00:00+00:00"),  # an int into a TEXT column
        )
        assert fid == 1
        row = await tx.one("SELECT * FROM facilitators WHERE scope_code = ?", ("3509010001",))
        assert row is not None
        assert row["name"] == row[1] == "Bu Ani"
        assert dict(row)["scope_code"] == "3509010001"
        total = await tx.scalar("SELECT SUM(id) FROM facilitators")
        assert total == 1
        assert isinstance(total, int)


@needs_server
async def test_two_instances_migrating_at_once_apply_each_migration_once(db_path: str) -> None:
    async with await psycopg.AsyncConnection.connect(db_path, autocommit=True) as conn:
        await conn.execute("DROP SCHEMA public CASCADE")
        await conn.execute("CREATE SCHEMA public")
    first, second = await asyncio.gather(Database.open(db_path), Database.open(db_path))
    try:
        async with first.read() as r:
            names = [row[0] for row in await r.all("SELECT name FROM schema_migrations")]
        assert len(names) == len(set(names)) >= 10
    finally:
        await first.close()
        await second.close()


@needs_server
def test_backup_and_restore_with_pg_dump(
    db_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "demo-data", "--workers", "120", "--seed", "3", "--db", db_path)
    assert code == 0, err
    dump = tmp_path / "backup.pgdump"
    code, out, err = run(capsys, "backup", "--out", str(dump), "--db", db_path)
    assert code == 0, err
    assert "pg_dump archive" in out
    assert os.stat(dump).st_mode & 0o777 == 0o600  # it holds full NIKs
    code, _, err = run(capsys, "backup", "--out", str(dump), "--db", db_path)
    assert code == 1
    assert "already exists" in err

    with psycopg.connect(db_path, autocommit=True) as conn:
        conn.execute("DELETE FROM audit_log")
        conn.execute("UPDATE workers SET name = 'GANTI'")
    code, _, err = run(capsys, "restore", str(dump), "--db", db_path)
    assert code == 1
    assert "--force" in err
    code, out, err = run(capsys, "restore", str(dump), "--db", db_path, "--force")
    assert code == 0, err
    with psycopg.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM workers").fetchone() == (120,)
        assert conn.execute("SELECT COUNT(*) FROM workers WHERE name = 'GANTI'").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] > 0

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\x00" + b"x" * 200)
    code, _, err = run(capsys, "restore", str(junk), "--db", db_path, "--force")
    assert code == 1
    assert "not a pg_dump archive" in err


@needs_server
def test_copy_db_moves_a_sqlite_file_into_postgresql_with_matching_counts(
    db_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = str(tmp_path / "old.db")
    code, _, err = run(capsys, "demo-data", "--workers", "150", "--seed", "5", "--db", source)
    assert code == 0, err
    code, out, err = run(capsys, "copy-db", "--db", source, "--to", db_path)
    assert code == 0, err
    assert "every table's count matches" in out
    assert "workers" in out
    assert "150" in out
    # The identity sequences moved past the copied ids: new rows get new ids.
    code, out, err = run(
        capsys,
        "facilitator",
        "add",
        "--name",
        "Pak Baru",
        "--desa",
        "35.09.27.2002",
        "--phone",
        "081234567890",
        "--db",
        db_path,
    )
    assert code == 0, err
    # Copying again into a database that now holds rows is refused, nothing is changed.
    code, _, err = run(capsys, "copy-db", "--db", source, "--to", db_path)
    assert code == 1
    assert "not empty" in err


def _roster_rows(n: int) -> list[tuple[str, tuple[object, ...]]]:
    # (nik, values in roster_repo.FIELDS order): name, birth, sex, desa, sector, rest empty
    return [
        (
            f"35092715057800{i:02d}",
            (f"Pekerja {i}", "1978-05-15", "L", "35.09.27.2002", "nelayan", *([None] * 7)),
        )
        for i in range(1, n + 1)
    ]


async def _names(db: Database) -> dict[str, str]:
    async with db.read() as r:
        return {row[0]: row[1] for row in await r.all("SELECT nik, name FROM workers")}


@needs_server
async def test_a_first_import_is_invisible_until_it_switches_and_keeps_a_concurrent_nik(
    db: Database, db_path: str
) -> None:
    """Into an empty roster the batches go straight in, inside the one switch transaction."""
    from lingkaran_core.storage.roster_repo import roster_stage

    rows = _roster_rows(6)
    stage = roster_stage(db)
    await stage.open(stamp="2026-11-25T03:00:00+00:00")
    try:
        await stage.add(rows[:3])
        assert await _names(db) == {}  # another connection sees nothing yet
        # Someone registers the fifth NIK meanwhile (committed before the batch holding it).
        async with await psycopg.AsyncConnection.connect(db_path, autocommit=True) as other:
            await other.execute(
                "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, created_at, "
                "updated_at) VALUES (%s, 'Didaftar pendamping', '1978-05-15', 'L', "
                "'35.09.27.2002', 'nelayan', 'x', 'x')",
                (rows[4][0],),
            )
        await stage.add(rows[3:])
        assert await stage.drop_unchanged() == 0
        inserted, updated = await stage.switch(stamp="2026-11-25T03:00:00+00:00")
    finally:
        await stage.close()
    assert (inserted, updated) == (5, 0)
    names = await _names(db)
    assert len(names) == 6
    assert names[rows[4][0]] == "Didaftar pendamping"
    assert names[rows[0][0]] == "Pekerja 1"


@needs_server
async def test_a_first_import_not_switched_leaves_nothing(db: Database) -> None:
    from lingkaran_core.storage.roster_repo import roster_stage

    stage = roster_stage(db)
    await stage.open(stamp="2026-11-25T03:00:00+00:00")
    try:
        await stage.add(_roster_rows(4))
    finally:
        await stage.close()
    assert await _names(db) == {}
    async with db.tx() as tx:  # and the connection is whole again
        await tx.execute(
            "INSERT INTO facilitators (name, scope_kind, scope_code, created_at) "
            "VALUES ('Bu Ani', 'desa', '3509272002', 'x')"
        )


@needs_server
async def test_deferred_writes_travel_with_the_next_statement_and_fail_inside_the_unit(
    db: Database,
) -> None:
    """``defer`` and the deferred BEGIN save round trips without changing what commits."""

    def ok(conn: object) -> int:
        conn.execute("BEGIN IMMEDIATE")  # type: ignore[attr-defined]
        conn.defer(  # type: ignore[attr-defined]
            "INSERT INTO facilitators (name, scope_kind, scope_code, created_at) "
            "VALUES ('Bu Ani', 'desa', '3509272002', 'x')"
        )
        # the next statement carries it, so it sees it
        return int(conn.execute("SELECT COUNT(*) FROM facilitators").fetchone()[0])  # type: ignore[attr-defined]

    async with db.tx() as tx:
        assert await tx.run(ok) == 1
    async with db.read() as r:
        assert await r.scalar("SELECT COUNT(*) FROM facilitators") == 1

    def bad(conn: object) -> None:
        conn.execute("UPDATE facilitators SET name = 'Bu Siti'")  # type: ignore[attr-defined]
        conn.defer("INSERT INTO facilitators (id, name) VALUES (1, 'again')")  # type: ignore[attr-defined]

    with pytest.raises(psycopg.Error):
        async with db.tx() as tx:
            await tx.run_and_commit(bad)  # the deferred insert fails at the COMMIT
    async with db.read() as r:  # and the unit rolled back whole: the update is gone too
        assert await r.scalar("SELECT name FROM facilitators") == "Bu Ani"
    async with db.tx() as tx:  # a unit that began and wrote nothing sends nothing, fails nothing
        await tx.run_and_commit(lambda conn: None)
        assert await tx.scalar("SELECT COUNT(*) FROM facilitators") == 1


@needs_server
async def test_held_back_statements_are_prepared_once_and_carry_values_exactly(
    db: Database,
) -> None:
    """What travels held back is ``EXECUTE`` of a statement the session prepared once; its
    values reach the server exactly as bound parameters would, and a failed query leaves the
    session able to go on (no half-remembered prepared name)."""
    tricky = [
        'O\'Brien \\ "x"; DROP TABLE workers; --',
        "100% %s %% $1",
        "",
        "Ñgòmé 🌾\n\t",
        None,
    ]

    def write(conn: Any, name: str, phone: str | None) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.defer(
            "INSERT INTO facilitators (name, phone, scope_kind, scope_code, created_at) "
            "VALUES (?, ?, 'desa', '3509272002', '2026-12-01')",
            (name, phone),
        )
        conn.defer(
            "UPDATE facilitators SET bound_at = 'h' WHERE name LIKE '%' AND id > ?", (-(2**40),)
        )

    async with db.pinned() as one:
        for value in tricky:
            async with one.tx() as tx:
                await tx.run_and_commit(write, value or "-", value)
        async with one.read() as r:
            rows = await r.all("SELECT name, phone, bound_at FROM facilitators ORDER BY id")
            prepared = await r.all(
                "SELECT name FROM pg_prepared_statements WHERE name LIKE 'lc%' ORDER BY name"
            )
        assert [tuple(row) for row in rows] == [(v or "-", v, "h") for v in tricky]
        assert len(prepared) == 2  # the insert and the update, once each, for five units

        def duplicate(conn: Any) -> None:  # fails at its COMMIT: the id is taken
            conn.execute("BEGIN IMMEDIATE")
            conn.defer(
                "INSERT INTO facilitators (id, name, scope_kind, scope_code, created_at) "
                "VALUES (?, 'again', 'desa', '3509272002', 'x')",
                (1,),
            )

        for _ in range(2):  # the same failing statement twice: a new name each time, no clash
            with pytest.raises(psycopg.errors.UniqueViolation):
                async with one.tx() as tx:
                    await tx.run_and_commit(duplicate)
        async with one.tx() as tx:  # and the session goes on with what it had prepared
            await tx.run_and_commit(write, "after", None)
        async with one.read() as r:
            assert await r.scalar("SELECT COUNT(*) FROM facilitators") == len(tricky) + 1


@needs_server
async def test_a_unit_cancelled_mid_statement_rolls_back_and_its_connection_goes_on(
    db: Database,
) -> None:
    """A cancelled unit of work (a stopping bot) has its statement in flight cancelled on the
    server, not waited for, rolls back, and leaves the connection usable for the next unit."""
    loop = asyncio.get_running_loop()
    async with db.pinned() as one:

        async def slow() -> None:
            async with one.tx() as tx:
                await tx.execute(
                    "INSERT INTO facilitators (name, scope_kind, scope_code, created_at) "
                    "VALUES ('Bu Ani', 'desa', '3509272002', 'x')"
                )
                await tx.scalar("SELECT pg_sleep(5)")  # as a statement waiting for a lock
                await tx.execute("UPDATE facilitators SET name = 'never'")

        task = asyncio.create_task(slow())
        await asyncio.sleep(0.2)
        began = loop.time()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert loop.time() - began < 2.0  # the server stopped the sleep
        async with one.tx() as tx:
            assert await tx.scalar("SELECT COUNT(*) FROM facilitators") == 0
            await tx.execute(
                "INSERT INTO facilitators (name, scope_kind, scope_code, created_at) "
                "VALUES ('Bu Siti', 'desa', '3509272002', 'x')"
            )
        async with one.read() as r:
            assert await r.scalar("SELECT name FROM facilitators") == "Bu Siti"


@needs_server
async def test_statements_run_on_the_loop_and_their_waits_let_other_work_run(
    db: Database,
) -> None:
    """Three units each waiting 0.3 s on the server take about 0.3 s together, on the loop's
    own thread, and the loop goes on ticking meanwhile: a wait blocks nothing."""
    import threading

    loop = asyncio.get_running_loop()
    threads: set[int] = set()

    def where(conn: Any) -> int:  # a repository function, run the way the chat step's are
        threads.add(threading.get_ident())
        return int(conn.execute("SELECT 1 FROM pg_sleep(0.3)").fetchone()[0])

    async def unit() -> int:
        async with db.read() as r:
            value: int = await r.run_inline(where)
            return value

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    tick = asyncio.create_task(ticker())
    began = loop.time()
    assert await asyncio.gather(unit(), unit(), unit()) == [1, 1, 1]
    took = loop.time() - began
    tick.cancel()
    assert threads == {threading.get_ident()}
    assert took < 0.8, took  # not 3 x 0.3 s one after the other
    assert ticks >= 10, ticks  # the loop was free while the server slept


@needs_server
async def test_a_connection_stays_on_the_selector_and_its_greenlets_serve_call_after_call(
    db: Database,
) -> None:
    """Statement after statement on one connection registers its socket with the loop once,
    not at every wait, and the calls run in a few reused greenlets, not one new each (each new
    one maps and unmaps its own Python stack). An error in a call reaches the caller as raised,
    and the next call runs as usual."""
    import greenlet

    loop = asyncio.get_running_loop()
    added: list[int] = []
    real_add = loop.add_reader

    def counting_add(fd: int, callback: Any, *args: Any) -> Any:
        added.append(fd)
        return real_add(fd, callback, *args)

    seen: set[int] = set()

    def whose(conn: Any) -> int:
        seen.add(id(greenlet.getcurrent()))
        return int(conn.execute("SELECT 1").fetchone()[0])

    def broken(conn: Any) -> None:
        conn.execute("SELECT no_such_column FROM facilitators")

    async with db.pinned() as one:
        async with one.read() as r:
            await r.scalar("SELECT 1")  # the socket is registered from here on
        loop.add_reader = counting_add  # type: ignore[method-assign]
        try:
            for _ in range(30):
                async with one.read() as r:
                    assert await r.run_inline(whose) == 1
                    assert await r.scalar("SELECT 2") == 2
            with pytest.raises(psycopg.errors.UndefinedColumn):
                async with one.read() as r:
                    await r.run_inline(broken)
            async with one.read() as r:
                assert await r.run_inline(whose) == 1
        finally:
            del loop.add_reader
    assert added == []
    assert len(seen) <= 2, len(seen)


@needs_server
async def test_a_connection_dropped_by_the_server_leaves_the_selector_and_fails_cleanly(
    db: Database,
) -> None:
    """The server ends an idle connection (a restart, an administrator): its socket turns
    readable with nobody waiting. It unregisters itself at once instead of waking the loop at
    every turn, and the next statement on it fails with psycopg's OperationalError."""
    loop = asyncio.get_running_loop()
    async with db.pinned() as one:
        async with one.read() as r:
            pid = await r.scalar("SELECT pg_backend_pid()")
        raw = one._handles[0]._conn.raw  # type: ignore[attr-defined]
        fd = raw.pgconn.socket
        assert fd in loop._selector.get_map()  # type: ignore[attr-defined]
        async with db.read() as other:
            assert await other.scalar("SELECT pg_terminate_backend(?)", (pid,)) is True
        for _ in range(100):
            await asyncio.sleep(0.01)
            if fd not in loop._selector.get_map():  # type: ignore[attr-defined]
                break
        assert fd not in loop._selector.get_map()  # type: ignore[attr-defined]
        with pytest.raises(psycopg.OperationalError):
            async with one.read() as r:
                await r.scalar("SELECT 1")


@needs_server
async def test_a_claim_takes_at_most_its_limit_whatever_plan_it_was_prepared_with(
    db: Database,
) -> None:
    """A dispatcher starts with an empty outbox, so its claim statement gets prepared (and
    planned) for an empty table; then a broadcast queues thousands of rows. Each claim must
    still take at most ``limit`` of them: a claim that took them all would hold them
    ``sending`` until another instance finds them stale and sends them a second time."""
    from datetime import UTC, datetime

    from lingkaran_core.storage import outbox_repo

    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    async with db.pinned() as one:
        async with one.tx() as tx:  # the plan a long-running instance may hold, every time
            await tx.execute("SET plan_cache_mode = force_generic_plan")
        for _ in range(8):  # prepared by psycopg (5th use) and on the server, on no rows
            async with one.tx() as tx:
                assert await outbox_repo.claim_due(tx, channel="telegram", now=now, limit=20) == []
        async with one.tx() as tx:
            await tx.executemany(
                "INSERT INTO outbox (channel, user_ref, msg_key, params, class, not_before, "
                "created_at) VALUES ('telegram', ?, 'claim.status_changed', '{}', 'broadcast', "
                "?, ?)",
                [(f"u{i}", now.isoformat(), now.isoformat()) for i in range(300)],
            )
        for taken in (20, 40, 60):
            async with one.tx() as tx:
                rows = await outbox_repo.claim_due(tx, channel="telegram", now=now, limit=20)
            assert len(rows) == 20
            async with one.read() as r:
                assert await r.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sending'") == (
                    taken
                )


@needs_server
async def test_first_messages_of_one_user_on_two_instances_at_once_make_one_chat(
    db_path: str, tmp_path: Path, clock: FixedClock
) -> None:
    """A new user's first two messages reach two instances at the same moment: both are
    answered, the chat is created once (by one of them, the other reading it back), and the
    two steps take turns on it."""
    from handlers.engine import Incoming
    from handlers.registry import build_engine

    first = await Database.open(db_path, files_dir=tmp_path / "files")
    second = await Database.open(db_path, files_dir=tmp_path / "files")
    try:
        engines = [build_engine(first, clock=clock), build_engine(second, clock=clock)]
        users = [f"new{i}" for i in range(20)]
        answers = await asyncio.gather(
            *(
                engines[k].handle(
                    Incoming(channel="telegram", user_ref=u, message_id=f"{u}-{k}", text="menu")
                )
                for u in users
                for k in (0, 1)
            )
        )
        assert all(answers), "every message answered"
        async with first.read() as r:
            assert await r.scalar("SELECT COUNT(*) FROM chats") == len(users)
            assert await r.scalar("SELECT COUNT(*) FROM inbound_messages") == 2 * len(users)
            assert await r.scalar("SELECT COUNT(*) FROM chats WHERE last_inbound_at IS NULL") == 0
    finally:
        await first.close()
        await second.close()
