"""User-supplied text reaches the OPD's terminal without control characters, and the OPD's
use cases live in ``lingkaran_core.opd`` (refusals change nothing)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import FixedClock, settings_for

from lingkaran.channels import admin_cli
from lingkaran_core import opd, services
from lingkaran_core.errors import DomainError
from lingkaran_core.storage import Database
from lingkaran_core.storage import chats as chat_store
from lingkaran_core.textsafe import csv_cell, plain

HOSTILE = "Siti\x1b[2J\x1b[31m\u202eAminah\x07"


def test_plain_removes_escape_sequences_bells_and_bidi_overrides() -> None:
    assert plain(HOSTILE) == "SitiAminah"
    assert plain("baris 1\nbaris 2", keep_newlines=True) == "baris 1\nbaris 2"
    assert plain("baris 1\nbaris 2") == "baris 1 baris 2"


@pytest.mark.parametrize("value", ["=1+1", "+62812", "-2", "@SUM(A1)", "\t=x"])
def test_formula_leading_cells_are_neutralised(value: str) -> None:
    assert csv_cell(value) == "'" + value
    assert csv_cell("Siti Aminah") == "Siti Aminah"
    assert csv_cell(-2) == -2  # our own numbers stay numbers


def test_ticket_texts_and_names_reach_the_terminal_plain(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "t.db"

    async def seed() -> None:
        db = await Database.open(db_path)
        async with db.tx() as tx:
            chat = await chat_store.get_or_create_chat(tx, "whatsapp", "628123456789", now=clock())
            await chat_store.touch_inbound(tx, chat.id, now=clock(), display_name=HOSTILE)
            await services.open_ticket(
                tx, chat_id=chat.id, body="tolong\x1b]0;owned\x07 dibantu", now=clock()
            )
        await db.close()

    asyncio.run(seed())
    for argv in (["tickets", "list"], ["tickets", "show", "T-0001"]):
        code = admin_cli.main([*argv, "--db", str(db_path)], settings=settings_for(), clock=clock)
        printed = capsys.readouterr()
        assert code == 0
        assert "\x1b" not in printed.out + printed.err
        assert "\x07" not in printed.out
        assert "\u202e" not in printed.out
        assert "dibantu" in printed.out


async def test_a_registration_not_waiting_is_refused_and_nothing_changes(
    db: Database, clock: FixedClock
) -> None:
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (id, nik, name, birth_date, sex, desa_code, sector, "
            "registration_status, created_at, updated_at) VALUES (7, '3509271203750007', "
            "'Misnadi', '1975-03-12', 'L', '35.09.27.2002', 'nelayan_tangkap', 'verified', "
            "'2026-11-01', '2026-11-01')"
        )
    for use_case in (
        lambda tx: opd.verify_registration(tx, 7, actor="t", today=clock().date(), now=clock()),
        lambda tx: opd.reject_registration(tx, 7, reason="x", actor="t", now=clock()),
        lambda tx: opd.verify_registration(tx, 99, actor="t", today=clock().date(), now=clock()),
        lambda tx: opd.reject_registration(tx, 7, reason="  ", actor="t", now=clock()),
    ):
        with pytest.raises(DomainError):
            async with db.tx() as tx:
                await use_case(tx)
    async with db.read() as r:
        assert await r.scalar("SELECT registration_status FROM workers WHERE id = 7") == "verified"
        assert await r.scalar("SELECT COUNT(*) FROM outbox") == 0
        assert await r.scalar("SELECT COUNT(*) FROM audit_log") == 0
