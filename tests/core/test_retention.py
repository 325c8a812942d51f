"""Retention: idle conversations' contents are forgotten and closed claims' files deleted after
their periods; nothing younger, nothing still open, nothing outside the files folder."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import ChatDriver, FixedClock

from lingkaran_core.retention import RetentionPolicy, run_retention
from lingkaran_core.storage import Database

POLICY = RetentionPolicy(conversation_days=30, document_days=365)


async def _claim(db: Database, clock: FixedClock, ref: str, status: str, updated_days: int) -> int:
    updated = (clock() - timedelta(days=updated_days)).isoformat()
    async with db.tx() as tx:
        claim_id = await tx.execute(
            "INSERT INTO claims (ref, type, status, event_date, event_at, reported_at, checklist, "
            "created_at, updated_at) VALUES (?, 'JKK', ?, '2025-01-01', ?, ?, '[]', ?, ?)",
            (ref, status, updated, updated, updated, updated),
        )
    folder = db.files_dir / "claims" / ref
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ktp.jpg"
    path.write_bytes(b"\xff\xd8" + b"x" * 996 + b"\xff\xd9")
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO claim_documents (claim_id, kind, path, sha256, mime, size, received_at) "
            "VALUES (?, 'ktp', ?, ?, 'image/jpeg', 1000, ?)",
            (claim_id, str(path), ref, updated),
        )
    return claim_id


async def test_closed_claims_lose_their_files_after_a_year_open_ones_never(
    db: Database, clock: FixedClock
) -> None:
    await _claim(db, clock, "LC-2025-000001", "paid", 400)
    await _claim(db, clock, "LC-2025-000002", "rejected", 200)  # closed, not long enough
    await _claim(db, clock, "LC-2025-000003", "in_review", 900)  # old but still open
    dry = await run_retention(db, now=clock(), policy=POLICY, dry_run=True)
    assert (dry.documents, dry.bytes_freed) == (1, 1000)
    assert (db.files_dir / "claims" / "LC-2025-000001" / "ktp.jpg").exists()
    done = await run_retention(db, now=clock(), policy=POLICY)
    assert (done.documents, done.bytes_freed) == (1, 1000)
    assert not (db.files_dir / "claims" / "LC-2025-000001" / "ktp.jpg").exists()
    assert (db.files_dir / "claims" / "LC-2025-000002" / "ktp.jpg").exists()
    assert (db.files_dir / "claims" / "LC-2025-000003" / "ktp.jpg").exists()
    async with db.read() as r:
        rows = await r.all("SELECT sha256, path, purged_at FROM claim_documents ORDER BY id")
    assert rows[0]["path"] == ""
    assert rows[0]["purged_at"] == clock().isoformat()
    assert all(row["purged_at"] is None for row in rows[1:])
    again = await run_retention(db, now=clock(), policy=POLICY)
    assert again.documents == 0


async def test_a_file_outside_the_files_folder_is_never_deleted(
    db: Database, clock: FixedClock, tmp_path: object
) -> None:
    claim_id = await _claim(db, clock, "LC-2025-000009", "withdrawn", 800)
    outside = db.path.parent / "not-ours.jpg"
    outside.write_bytes(b"keep me")
    async with db.tx() as tx:
        await tx.execute(
            "UPDATE claim_documents SET path = ? WHERE claim_id = ?", (str(outside), claim_id)
        )
    report = await run_retention(db, now=clock(), policy=POLICY)
    assert report.documents == 0
    assert outside.read_bytes() == b"keep me"


async def test_a_quiet_chat_forgets_what_was_typed_and_starts_again_at_the_menu(
    chat: ChatDriver, db: Database, clock: FixedClock
) -> None:
    await chat.send("menu")
    await chat.send("2")  # Lapor kecelakaan: a draft-keeping flow
    await chat.send("Saya sendiri")
    async with db.read() as r:
        before = await r.one("SELECT data, version FROM conversations")
    assert before is not None
    clock.advance(days=29)
    assert (await run_retention(db, now=clock(), policy=POLICY)).conversations == 0
    clock.advance(days=2)
    assert (await run_retention(db, now=clock(), policy=POLICY)).conversations == 1
    async with db.read() as r:
        after = await r.one("SELECT data, draft, last_replies, version FROM conversations")
    assert after is not None
    assert json.loads(after["data"]) == {}
    assert after["draft"] is None
    assert after["version"] == before["version"] + 1
    replies = await chat.send("halo")
    assert replies  # the bot answers, from the menu, with nothing of the old report
    assert not any("Lanjutkan" in label for _id, label in chat.choices())


@pytest.mark.parametrize("days", [0, -1])
def test_retention_periods_must_be_positive(days: int) -> None:
    from lingkaran.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="LINGKARAN_RETENTION_CONVERSATION_DAYS"):
        Settings.from_mapping({"LINGKARAN_RETENTION_CONVERSATION_DAYS": str(days)})


def test_json_logs_are_one_object_per_line_with_niks_masked() -> None:
    import io
    import logging

    from lingkaran_core.logs import configure

    stream = io.StringIO()
    configure("INFO", stream=stream, fmt="json")
    logging.getLogger("lingkaran.test").info(
        "linked 3509271505780001", extra={"phone": "081234567890", "n": 3}
    )
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "linked 3509********0001"
    assert line["n"] == 3
    assert "1234567" not in line["phone"]
    assert line["level"] == "INFO"
