"""``admin staff add|list|disable`` and ``admin web`` (registered by ``lingkaran.console.cli``)."""

from __future__ import annotations

import argparse
import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from lingkaran.console import cli as console_cli
from lingkaran.console.accounts import check_password
from lingkaran_core.clock import FixedClock
from lingkaran_core.storage import Database, console_repo
from tests.console.conftest import NOW


def _parse(argv: list[str], db: Path) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="admin")
    sub = parser.add_subparsers(dest="command", required=True)
    console_cli.register(sub, default_db=str(db))
    args = parser.parse_args(argv)
    args.clock = FixedClock(NOW)
    args.settings = argparse.Namespace(admin_actor="tester", host="127.0.0.1", port=0)
    return args


def _run(argv: list[str], db: Path) -> int:
    args = _parse(argv, db)
    return int(args.func(args))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "cli.db"

    async def make() -> None:
        d = await Database.open(path)
        await d.close()

    asyncio.run(make())
    return path


def test_staff_add_list_disable(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["staff", "add", "--name", "Siti Aminah", "--role", "opd"], db_path) == 0
    out = capsys.readouterr().out
    assert "username: siti.aminah" in out
    password = out.split("password: ")[1].split()[0]
    assert _run(["staff", "add", "--name", "Camat", "--role", "viewer"], db_path) == 1
    assert "needs --kecamatan" in capsys.readouterr().err
    assert (
        _run(
            ["staff", "add", "--name", "Camat", "--role", "viewer", "--kecamatan", "35.09.99"],
            db_path,
        )
        == 1
    )
    code = _run(
        ["staff", "add", "--name", "Camat Kalisat", "--role", "viewer", "--kecamatan", "35.09.27"],
        db_path,
    )
    assert code == 0
    assert _run(["staff", "add", "--name", "Siti Aminah", "--role", "admin"], db_path) == 0
    assert "username: siti.aminah2" in capsys.readouterr().out
    assert _run(["staff", "list"], db_path) == 0
    listing = capsys.readouterr().out
    assert "siti.aminah" in listing
    assert "35.09.27" in listing
    assert password not in listing

    async def stored() -> str:
        d = await Database.open(db_path)
        try:
            async with d.read() as r:
                row = await console_repo.staff_by_username(r, "siti.aminah")
            assert row is not None
            return str(row["password_hash"])
        finally:
            await d.close()

    hashed = asyncio.run(stored())
    assert hashed.startswith("$argon2id$")
    assert check_password(hashed, password)
    assert _run(["staff", "disable", "1"], db_path) == 0
    assert _run(["staff", "disable", "1"], db_path) == 1


def test_missing_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["staff", "list"], tmp_path / "nope.db") == 1
    assert "does not exist" in capsys.readouterr().err


async def test_admin_web_serves_the_console(db_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = asyncio.Event()
    task = asyncio.create_task(
        console_cli.serve_console(
            str(db_path), None, FixedClock(NOW), host="127.0.0.1", port=port, stop=stop
        )
    )
    try:
        for _ in range(100):
            try:
                async with httpx.AsyncClient() as c:
                    r = await c.get(f"http://127.0.0.1:{port}/console/login")
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
        assert r.status_code == 200
        assert "Masuk ke konsol" in r.text
    finally:
        stop.set()
        assert await task == 0
