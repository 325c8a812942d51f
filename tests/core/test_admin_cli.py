"""The admin command line, run in-process on temporary databases."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FixedClock, settings_for

from lingkaran.channels.admin_cli import main
from lingkaran_core.demo import SAMPLE_WORKERS
from lingkaran_core.facilitators import redeem_code
from lingkaran_core.storage import Database
from lingkaran_core.storage.chats import get_or_create_chat

TODAY = "2026-11-25"
SUTRISNO = SAMPLE_WORKERS[0].nik


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), settings=settings_for(), clock=FixedClock())
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


@pytest.fixture
def demo_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = str(tmp_path / "demo.db")
    code, out, _ = run(
        capsys, "demo-data", "--workers", "200", "--seed", "4", "--today", TODAY, "--db", path
    )
    assert code == 0
    assert SUTRISNO in out  # sample NIKs are printed in full: they are synthetic
    return path


def _sql(path: str, query: str, *params: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def test_stats_show_the_sector_table_with_a_total(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "stats", "--db", demo_db, "--today", TODAY)
    assert code == 0
    assert "Buruh tani tembakau" in out
    assert "Disnaker" in out
    total = next(line for line in out.splitlines() if line.startswith("Total"))
    assert "200" in total
    assert "82,091" in total
    assert "Benefits paid: 3 claims, Rp47.250.000" in out


def test_worker_show_masks_the_nik_unless_asked(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "worker", "show", SUTRISNO, "--db", demo_db, "--today", TODAY)
    assert code == 0
    assert "3509********0001" in out
    assert SUTRISNO not in out
    assert "protected" in out
    assert "Sukoreno" in out
    _, full, _ = run(capsys, "worker", "show", SUTRISNO, "--unmasked", "--db", demo_db)
    assert SUTRISNO in full


def test_unknown_or_bad_nik_is_a_clear_error(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "worker", "show", "3509271505780099", "--db", demo_db)
    assert code == 1
    assert "no worker with NIK 3509********0099" in err
    code, _, err = run(capsys, "worker", "show", "12345", "--db", demo_db)
    assert code == 1
    assert "nik.wrong_length" in err


def _ref(path: str, status: str) -> str:
    return str(_sql(path, "SELECT ref FROM claims WHERE status = ? ORDER BY id", status)[0][0])


def test_a_forbidden_status_change_is_refused_with_the_allowed_targets(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = _ref(demo_db, "submitted")
    code, _, err = run(capsys, "claims", "set-status", ref, "paid", "--db", demo_db)
    assert code == 1
    assert f"cannot move {ref} from submitted to paid" in err
    assert "allowed for the admin: in_review" in err
    assert _sql(demo_db, "SELECT status FROM claims WHERE ref = ?", ref) == [("submitted",)]

    final = _ref(demo_db, "paid")
    code, _, err = run(capsys, "claims", "set-status", final, "in_review", "--db", demo_db)
    assert code == 1
    assert "none (final state)" in err


def test_status_change_records_an_event_and_rejection_needs_a_note(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = _ref(demo_db, "in_review")
    code, _, err = run(capsys, "claims", "set-status", ref, "rejected", "--db", demo_db)
    assert code == 1
    assert "--note" in err
    code, out, _ = run(
        capsys, "claims", "set-status", ref, "rejected", "--note", "bukan kecelakaan kerja",
        "--db", demo_db,
    )  # fmt: skip
    assert code == 0
    assert "in_review -> rejected" in out
    events = _sql(
        demo_db,
        "SELECT e.to_status, e.actor, e.note FROM claim_events e JOIN claims c "
        "ON c.id = e.claim_id WHERE c.ref = ? ORDER BY e.id DESC LIMIT 1",
        ref,
    )
    assert events == [("rejected", "admin", "bukan kecelakaan kerja")]
    code, out, _ = run(capsys, "claims", "show", ref, "--db", demo_db)
    assert code == 0
    assert "bukan kecelakaan kerja" in out
    assert "(final state)" in out


def test_unknown_claim_and_bad_status_name(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "claims", "show", "LC-2026-999999", "--db", demo_db)
    assert (code, err.strip()) == (1, "error: no claim LC-2026-999999")
    code, _, err = run(capsys, "claims", "set-status", "LC-2026-000001", "done", "--db", demo_db)
    assert code == 2
    assert "invalid choice" in err


def test_claims_list_filters(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "claims", "list", "--status", "paid", "--db", demo_db)
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("LC-")]
    assert len(lines) == 3
    assert all(" paid " in line for line in lines)
    code, out, _ = run(
        capsys, "claims", "list", "--desa", "35.09.27.2002", "--type", "JKK", "--db", demo_db
    )
    assert code == 0
    assert "Suparmi" in out


def test_export_gives_summary_with_full_nik_and_document_copies(
    demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = _sql(demo_db, "SELECT ref FROM claims WHERE subject_nik = '3509274904820006'")[0][0]
    code, _, _ = run(
        capsys, "claims", "export", str(ref), "--out", str(tmp_path / "x"), "--db", demo_db
    )
    assert code == 0
    folder = tmp_path / "x" / str(ref)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["worker"]["nik"] == "3509274904820006"
    assert summary["worker"]["coverage_on_event_date"] == "protected"
    assert len(summary["documents"]) == 2
    assert "kronologi_saksi" in summary["claim"]["missing_documents"]
    text = (folder / "summary.txt").read_text(encoding="utf-8")
    assert "3509274904820006" in text
    assert "NIK lengkap" in text
    copies = sorted(p.name for p in (folder / "dokumen").iterdir())
    assert copies == ["01-kartu_peserta.jpg", "02-ktp_participant.jpg"]
    assert _sql(demo_db, "SELECT COUNT(*) FROM audit_log WHERE action = 'claim.export'") == [(1,)]


def test_backup_and_restore_keep_the_data_intact(
    demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = str(tmp_path / "backup.db")
    code, out, _ = run(capsys, "backup", "--out", backup, "--db", demo_db)
    assert code == 0
    assert "integrity ok" in out
    assert _sql(backup, "PRAGMA integrity_check") == [("ok",)]
    code, _, err = run(capsys, "backup", "--out", backup, "--db", demo_db)
    assert code == 1
    assert "already exists" in err

    target = str(tmp_path / "restored.db")
    code, _, _ = run(capsys, "restore", backup, "--db", target)
    assert code == 0
    assert _sql(target, "SELECT COUNT(*) FROM workers") == [(200,)]
    code, _, err = run(capsys, "restore", backup, "--db", target)
    assert code == 1
    assert "--force" in err
    assert run(capsys, "restore", backup, "--db", target, "--force")[0] == 0

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    code, _, err = run(capsys, "restore", str(junk), "--db", str(tmp_path / "other.db"))
    assert code == 1
    assert "not a database" in err
    assert not (tmp_path / "other.db").exists()


def test_a_missing_database_is_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nowhere" / "lingkaran.db"
    for argv in (
        ["stats"],
        ["worker", "show", SUTRISNO],
        ["claims", "list"],
        ["facilitator", "list"],
        ["backup", "--out", str(tmp_path / "b.db")],
        ["tickets", "list"],
    ):
        code, _, err = run(capsys, *argv, "--db", str(path))
        assert code == 1, argv
        assert "does not exist" in err
    assert not path.exists()
    assert not path.parent.exists()


def test_import_roster_reports_bad_rows_and_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "roster.csv"
    csv_path.write_text(
        "nik;nama;tanggal_lahir;kode_desa;sektor\n"
        "3509271505780001;Sutrisno;15-05-1978;35.09.27.2002;buruh tani tembakau\n"
        "350927150578;Budi;15-05-1978;35.09.27.2002;buruh tani tembakau\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "r.db")
    code, out, err = run(capsys, "import-roster", str(csv_path), "--db", db)
    assert code == 1
    assert "baris 3: nik: nik.wrong_length" in out
    assert "nothing imported" in err
    code, out, _ = run(capsys, "import-roster", str(csv_path), "--skip-invalid", "--db", db)
    assert code == 0
    assert "1 new" in out
    code, _, err = run(capsys, "import-roster", str(tmp_path / "none.csv"), "--db", db)
    assert code == 1
    assert "no such file" in err


def _bind(path: str, code: str, user: str) -> int:
    async def go() -> int:
        db = await Database.open(path)
        now = datetime(2026, 11, 25, 4, tzinfo=UTC)
        try:
            async with db.tx() as tx:
                chat = await get_or_create_chat(tx, "telegram", user, now=now)
                assert await redeem_code(tx, code=code, chat_id=chat.id, now=now) is not None
                return chat.id
        finally:
            await db.close()

    return asyncio.run(go())


def test_verifying_a_registration_tells_the_facilitator(
    demo_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    chat_id = _bind(demo_db, "K7QM4XPT", "rina")
    code, out, _ = run(capsys, "registrations", "list", "--db", demo_db)
    assert code == 0
    assert "Bambang" in out
    assert "3509********0005" in out
    worker_id = _sql(demo_db, "SELECT id FROM workers WHERE name = 'Bambang'")[0][0]
    code, out, _ = run(
        capsys, "registrations", "verify", str(worker_id), "--db", demo_db, "--today", TODAY
    )
    assert code == 0
    assert _sql(
        demo_db, "SELECT registration_status, coverage_start FROM workers WHERE id = ?", worker_id
    ) == [("verified", TODAY)]
    assert _sql(demo_db, "SELECT chat_id FROM outbox WHERE msg_key = 'registration.verified'") == [
        (chat_id,)
    ]
    code, _, err = run(capsys, "registrations", "verify", str(worker_id), "--db", demo_db)
    assert code == 1
    assert "not waiting" in err


def test_facilitator_add_list_revoke(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "facilitator", "add", "--name", "Ani", "--desa", "Sukoreno",
        "--phone", "081234567890", "--db", demo_db,
    )  # fmt: skip
    assert code == 1
    assert "ambiguous" in err
    code, out, _ = run(
        capsys, "facilitator", "add", "--name", "Ani", "--desa", "Sukoreno",
        "--kecamatan", "Kalisat", "--phone", "081234567890", "--db", demo_db,
    )  # fmt: skip
    assert code == 0
    assert "one-time code:" in out
    fid = _sql(demo_db, "SELECT id FROM facilitators WHERE name = 'Ani'")[0][0]
    code, out, _ = run(capsys, "facilitator", "list", "--db", demo_db)
    assert "+62812****7890" in out
    assert "code pending" in out
    assert run(capsys, "facilitator", "revoke", str(fid), "--db", demo_db)[0] == 0
    code, out, _ = run(capsys, "facilitator", "list", "--db", demo_db)
    assert "revoked" in out
    code, _, err = run(capsys, "facilitator", "new-code", str(fid), "--db", demo_db)
    assert code == 1
    assert "facilitator.revoked" in err


def test_demo_data_twice_keeps_the_data(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo-data", "--workers", "300", "--db", demo_db)
    assert code == 0
    assert "already holds demo data" in out
    assert _sql(demo_db, "SELECT COUNT(*) FROM workers") == [(200,)]


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "frobnicate")
    assert code == 2
    assert "invalid choice" in err
