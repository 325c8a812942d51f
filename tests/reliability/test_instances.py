"""Two real bot processes on one real PostgreSQL behave as one bot (the PostgreSQL pass only).

Twenty users walk the self-screening or the JKK report; every message goes to a random
instance, so each user's conversation hops between them. Meanwhile both instances' dispatchers
drain a shared outbox of 300 rows to a loopback endpoint. Checked: every message answered, each
conversation's replies in order (the claim is filed: the state each step read was the one the
previous step wrote, wherever it ran), one claim per reporter, every outbox row sent, and no row
sent twice, except, after a SIGKILL of one instance mid-load, a row that instance had in flight.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from conftest import ON_POSTGRES
from dispatch_worker import notice_rows
from instances import Fleet
from test_crash_recovery import Endpoint

from benchmarks.bench_engine import ELIGIBILITY, JKK

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="runs in the PostgreSQL pass")

NIK = "3509271505780001"
OUTBOX_ROWS = 300
USERS = 20


def nik(i: int) -> str:
    return f"{NIK[:12]}{i + 1:04d}"  # same birth date, one worker per reporting user


def seed(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.cursor().executemany(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, coverage_start, "
            "paid_through, created_at, updated_at) VALUES (%s, 'Sutrisno', '1978-05-15', 'L', "
            "'35.09.27.2002', 'buruh_tani_tembakau', '2025-07-01', '2026-12-31', 'x', 'x')",
            [(nik(i),) for i in range(USERS)],
        )


def queue_outbox(url: str) -> None:
    """The shared outbox rows, queued once both instances run (each must take its share)."""
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO outbox (channel, user_ref, msg_key, params, class, not_before, "
            "created_at) VALUES ('telegram', %s, 'claim.status_changed', %s, 'transactional', "
            "%s, %s)",
            notice_rows(OUTBOX_ROWS),
        )


def scripts() -> dict[str, list[str]]:
    return {
        f"u{i}": ([nik(i) if s == NIK else s for s in JKK] if i % 2 else ELIGIBILITY)
        for i in range(USERS)
    }


def check(url: str, fleet: Fleet, api: Endpoint, *, killed: set[int]) -> None:
    all_ids = {f"{u}-{k}" for u, s in scripts().items() for k in range(len(s))}
    assert set(fleet.answers) == all_ids, "every message answered"
    assert set(fleet.answers.values()) == {1}
    assert fleet.errors == []
    with psycopg.connect(url) as conn:
        inbound = conn.execute(
            "SELECT COUNT(*) FROM inbound_messages WHERE status = 'processed'"
        ).fetchone()
        assert inbound == (len(all_ids),), "each message handled once"
        claims = conn.execute(
            "SELECT c.user_ref, COUNT(*) FROM claims k JOIN chats c ON c.id = k.reporter_chat_id "
            "WHERE k.status != 'draft' GROUP BY c.user_ref"
        ).fetchall()
        jkk_users = {u for i, u in enumerate(scripts()) if i % 2}
        assert dict(claims) == dict.fromkeys(jkk_users, 1), "one claim per reporter"
        statuses = dict(
            conn.execute("SELECT id, status FROM outbox WHERE channel = %s", ("telegram",))
        )
    assert set(statuses.values()) == {"sent"}, Counter(statuses.values())
    got = Counter(oid for oid, _, _ in api.received)
    assert set(got) >= set(statuses), "every outbox row delivered"
    by_row: dict[int, list[int]] = {}
    for oid, pid, _ in api.received:
        by_row.setdefault(oid, []).append(pid)
    for oid, pids in by_row.items():
        for earlier in pids[:-1]:
            assert earlier in killed, f"row {oid} sent twice by live instances {pids}"


def test_two_instances_share_users_and_outbox_with_no_duplicate(
    db_path: str, tmp_path: Path
) -> None:
    seed(db_path)
    with Endpoint() as api:
        api.delay = 0.02
        fleet = Fleet(db_path, 2, send_url=api.url, files=tmp_path / "files", seed=1)
        queue_outbox(db_path)
        fleet.run_users(scripts())
        assert fleet.close() == [0, 0]
        check(db_path, fleet, api, killed=set())
        assert len(api.received) == OUTBOX_ROWS, "no row sent twice"


def test_killing_one_of_two_instances_mid_load_loses_nothing(db_path: str, tmp_path: Path) -> None:
    seed(db_path)
    with Endpoint() as api:
        api.delay = 0.02
        fleet = Fleet(
            db_path, 2, send_url=api.url, files=tmp_path / "files", log=tmp_path / "log", seed=2
        )
        queue_outbox(db_path)
        users = threading.Thread(target=fleet.run_users, args=(scripts(),))
        users.start()
        total = sum(len(s) for s in scripts().values())
        while sum(fleet.answers.values()) < total * 0.35:
            time.sleep(0.01)
        killed = {fleet.kill(0)}
        users.join(timeout=180)
        assert not users.is_alive(), "the survivor did not carry on"
        assert fleet.close() == [0]
        check(db_path, fleet, api, killed=killed)
    log = (tmp_path / "log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
