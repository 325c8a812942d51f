"""The console's "messages sent / delivered / read" report reads migration 021's index.

``report_repo.messages_by_key`` counts outbox rows by class, key, channel, status and delivery
status, for everybody or for a viewer's kecamatan (joined through the chat's worker). On a
populated outbox the query plan reads ``outbox_report`` instead of the table: SQLite's
``EXPLAIN QUERY PLAN`` shows a covering-index search with no temporary B-tree for the GROUP
BY, for both; PostgreSQL's ``EXPLAIN`` shows an index-only scan of it for a kecamatan (before
021 the outbox had no index by chat: a sequential scan), and that it can serve the whole
report (see the test). The query text is the repository's own, recorded as it runs.
"""

from __future__ import annotations

from typing import Any

import psycopg
from conftest import ON_POSTGRES

from lingkaran_core.storage import Database, report_repo

ROWS = 20_000
T = "2026-11-01T00:00:00+00:00"
KEYS = (
    "reminder.coverage_ending",
    "claim.status_changed",
    "broadcast.message",
    "identity.verified",
)
CLASSES = ("reminder", "transactional", "broadcast", "transactional")
STATUSES = ("sent", "sent", "sent", "queued", "failed", "held")
DELIVERY = (None, "delivered", "read", "delivered", None)
# A row as the outbox holds them: the message's parameters, a dedupe key, the channel's id.
PARAMS = '{"name": "Siti Aminah", "ref": "LC-2026-000123", "until": "2026-12-31", "days": 14}'


class Recording:
    """A read transaction that remembers the statements the repository runs on it."""

    def __init__(self, tx: Any) -> None:
        self.tx = tx
        self.statements: list[tuple[str, list[Any]]] = []

    async def all(self, sql: str, params: Any = ()) -> list[Any]:
        self.statements.append((sql, list(params)))
        return list(await self.tx.all(sql, params))


async def populate(db: Database) -> None:
    async with db.tx() as tx:
        await tx.executemany(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, created_at, "
            "updated_at) VALUES (?, ?, '1980-01-01', 'L', ?, 'buruh_tani_tembakau', ?, ?)",
            [
                (f"3509270101800{i:03d}", f"W{i}", f"35.09.{i % 31 + 1:02d}.2001", T, T)
                for i in range(200)
            ],
        )
        await tx.executemany(
            "INSERT INTO chats (channel, user_ref, worker_id, created_at) "
            "VALUES ('telegram', ?, ?, ?)",
            [(f"u{i}", i + 1, T) for i in range(200)],
        )
        await tx.executemany(
            "INSERT INTO outbox (chat_id, channel, user_ref, msg_key, params, class, status, "
            "delivery_status, dedupe_key, channel_message_id, not_before, created_at, sent_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i % 200 + 1,
                    "whatsapp" if i % 3 else "telegram",
                    f"u{i % 200}",
                    KEYS[i % len(KEYS)],
                    PARAMS,
                    CLASSES[i % len(CLASSES)],
                    STATUSES[i % len(STATUSES)],
                    DELIVERY[i % len(DELIVERY)],
                    f"reminder:coverage_ending:w{i}:2026-11",
                    f"wamid.HBgLNjI4MTIzNDU2Nzg5MBUCABEYEjk{i:012d}",
                    T,
                    T,
                    T,
                )
                for i in range(ROWS)
            ],
        )
        if not ON_POSTGRES:
            await tx.execute("ANALYZE")


async def report_sql(db: Database, scope: str | None) -> tuple[str, list[Any]]:
    """The repository's statement for the report, as it runs it."""
    async with db.read() as r:
        rec = Recording(r)
        counts = await report_repo.messages_by_key(rec, kecamatan=scope)  # type: ignore[arg-type]
    assert counts, "the report counts something"
    ((sql, params),) = rec.statements
    return sql, params


async def sqlite_plan(db: Database, scope: str | None) -> str:
    sql, params = await report_sql(db, scope)
    async with db.read() as r:
        rows = await r.all("EXPLAIN QUERY PLAN " + sql, params)
    return "\n".join(str(row[-1]) for row in rows)


async def pg_plan(db: Database, db_path: Any, scope: str | None, *, seqscan: bool = True) -> str:
    sql, params = await report_sql(db, scope)
    with psycopg.connect(str(db_path), autocommit=True) as conn, conn.transaction():
        conn.execute(b"ANALYZE")
        if not seqscan:
            conn.execute(b"SET LOCAL enable_seqscan = off")
        rows = conn.execute(("EXPLAIN " + sql.replace("?", "%s")).encode(), params).fetchall()
    return "\n".join(str(row[0]) for row in rows)


async def test_the_messages_report_reads_the_outbox_report_index(
    db: Database, db_path: Any
) -> None:
    await populate(db)
    if not ON_POSTGRES:
        everybody = await sqlite_plan(db, None)
        assert "USING COVERING INDEX outbox_report" in everybody, everybody
        assert "TEMP B-TREE" not in everybody, everybody  # already in group order
        kalisat = await sqlite_plan(db, "35.09.27")
        assert "USING COVERING INDEX outbox_report" in kalisat, kalisat
        return
    # A viewer's kecamatan: from its workers' chats to their rows, in the index alone.
    kalisat = await pg_plan(db, db_path, "35.09.27")
    assert "Index Only Scan using outbox_report on outbox" in kalisat, kalisat
    assert "Seq Scan on outbox" not in kalisat, kalisat
    # Everybody: the report reads nearly every row, and PostgreSQL may prefer a sequential scan
    # with a hash aggregate on a table this small; the index serves the query all the same
    # (its columns in group order: an index-only scan with no sort).
    everybody = await pg_plan(db, db_path, None, seqscan=False)
    assert "Index Only Scan using outbox_report on outbox" in everybody, everybody
    assert "Sort" not in everybody, everybody
