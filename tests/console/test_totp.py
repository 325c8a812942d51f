"""Optional TOTP for staff: RFC 6238 codes, enrolment by ``admin staff totp``, the login's second
step (throttled like passwords, a code accepted once), all audited."""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from lingkaran.console import cli as console_cli
from lingkaran.console import totp
from lingkaran_core.storage import Database
from tests.console.conftest import Seeded, client_for, csrf_of, user_of

RFC_KEY = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238 appendix B, SHA-1


@pytest.mark.parametrize(
    ("unix", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
    ],
)
def test_rfc_6238_vectors(unix: int, code: str) -> None:
    assert totp.code_at(RFC_KEY, unix // 30, digits=8) == code
    assert totp.code_at(RFC_KEY, unix // 30) == code[-6:]


def test_verify_allows_one_step_of_drift_only() -> None:
    now = datetime(2026, 11, 25, 3, 0, 10, tzinfo=UTC)
    step = totp.step_of(now)
    secret = totp.new_secret()
    assert len(secret) == 32
    assert totp.verify(secret, totp.code_at(secret, step), now) == step
    assert totp.verify(secret, totp.code_at(secret, step - 1), now) == step - 1
    assert totp.verify(secret, totp.code_at(secret, step + 2), now) is None
    assert totp.verify(secret, "12345", now) is None
    assert totp.verify(secret, "abcdef", now) is None


def test_otpauth_uri() -> None:
    uri = totp.otpauth_uri("ABCDEF", "siti.aminah")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth"
    assert parsed.netloc == "totp"
    assert parsed.path == "/Lingkaran%20Cinta:siti.aminah"
    q = parse_qs(parsed.query)
    assert q["secret"] == ["ABCDEF"]
    assert q["issuer"] == ["Lingkaran Cinta"]
    assert q["digits"] == ["6"]


async def _enrol(s: Seeded, username: str) -> str:
    async with s.db.tx() as tx:
        _, secret = await totp.enrol(tx, username, now=s.clock(), actor="test")
    assert secret
    return secret


async def _password_step(c: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    page = await c.get("/console/login")
    return await c.post(
        "/console/login",
        data={"csrf": csrf_of(page.text), "username": username, "password": password},
        follow_redirects=False,
    )


async def _code(c: httpx.AsyncClient, code: str) -> httpx.Response:
    page = await c.get("/console/login/code")
    assert page.status_code == 200
    return await c.post(
        "/console/login/code",
        data={"csrf": csrf_of(page.text), "code": code},
        follow_redirects=False,
    )


async def _actions(s: Seeded) -> list[str]:
    async with s.db.read() as r:
        rows = await r.all("SELECT action FROM audit_log WHERE action LIKE 'console.%' ORDER BY id")
    return [str(x["action"]) for x in rows]


async def test_enrolled_login_asks_for_the_code(seeded: Seeded) -> None:
    username, password = user_of(seeded, "oki")
    secret = await _enrol(seeded, username)
    async with client_for(seeded) as c:
        r = await _password_step(c, username, password)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/console/login/code")
        assert (await c.get("/console/claims", follow_redirects=False)).status_code == 303
        page = await c.get("/console/login/code")
        assert "6 angka" in page.text
        wrong = next(
            x
            for x in ("000000", "111111", "222222")
            if totp.verify(secret, x, seeded.clock()) is None
        )
        r = await _code(c, wrong)
        assert r.status_code == 401
        assert "Kode salah" in r.text
        good = totp.code_at(secret, totp.step_of(seeded.clock()))
        r = await _code(c, good)
        assert r.status_code == 303
        assert (await c.get("/console/claims")).status_code == 200
    # The same code again (another browser) is refused: a code is accepted once.
    async with client_for(seeded) as c:
        await _password_step(c, username, password)
        r = await _code(c, good)
        assert r.status_code == 401
    actions = await _actions(seeded)
    assert actions.count("console.login_password_ok") == 2
    assert actions.count("console.totp_failed") == 2
    assert actions.count("console.login") == 1


async def test_wrong_codes_are_throttled_like_passwords(seeded: Seeded) -> None:
    username, password = user_of(seeded, "oki")
    secret = await _enrol(seeded, username)
    now = seeded.clock()
    wrong = next(x for x in ("000000", "111111", "222222") if totp.verify(secret, x, now) is None)
    async with client_for(seeded) as c:
        await _password_step(c, username, password)
        for _ in range(5):
            assert (await _code(c, wrong)).status_code == 401
        # A right password again does not reset the count while a code is owed.
        r = await _password_step(c, username, password)
        assert r.status_code == 429
    assert "console.login_throttled" in await _actions(seeded)


async def test_pending_login_expires(seeded: Seeded) -> None:
    username, password = user_of(seeded, "oki")
    secret = await _enrol(seeded, username)
    async with client_for(seeded) as c:
        await _password_step(c, username, password)
        seeded.clock.advance(minutes=6)
        r = await c.get("/console/login/code", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/console/login"
        r = await c.post(
            "/console/login/code",
            data={"code": totp.code_at(secret, totp.step_of(seeded.clock()))},
            follow_redirects=False,
        )
        assert r.status_code == 303
    # Without the cookie of a password step there is nothing to complete.
    async with client_for(seeded) as c:
        r = await c.get("/console/login/code", follow_redirects=False)
        assert r.status_code == 303


def _cli(argv: list[str], db: str) -> int:
    parser = argparse.ArgumentParser(prog="admin")
    sub = parser.add_subparsers(dest="command", required=True)
    console_cli.register(sub, default_db=db)
    args = parser.parse_args(argv)
    args.clock = lambda: datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    args.settings = argparse.Namespace(admin_actor="tester")
    return int(args.func(args))


def test_admin_staff_totp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.db")
    assert _cli(["staff", "totp", "nobody"], db) == 1  # no database yet

    async def make() -> None:
        d = await Database.open(db)
        await d.close()

    asyncio.run(make())
    assert _cli(["staff", "add", "--name", "Siti Aminah", "--role", "opd"], db) == 0
    capsys.readouterr()
    assert _cli(["staff", "totp", "siti.aminah"], db) == 0
    out = capsys.readouterr().out
    uri = re.search(r"otpauth://\S+", out)
    assert uri
    assert "secret=" in uri.group(0)
    assert _cli(["staff", "totp", "ghost"], db) == 1
    assert _cli(["staff", "totp", "siti.aminah", "--off"], db) == 0
    assert "TOTP removed" in capsys.readouterr().out

    async def audits() -> list[str]:
        d = await Database.open(db)
        async with d.read() as r:
            rows = await r.all("SELECT action FROM audit_log WHERE action LIKE 'staff.totp%'")
        await d.close()
        return [str(x["action"]) for x in rows]

    assert asyncio.run(audits()) == ["staff.totp_enrol", "staff.totp_off"]
