"""Optional TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) for staff accounts.

``admin staff totp USERNAME`` enrols an account (``enrol``: a fresh 160-bit key from ``secrets``,
printed once as an ``otpauth://`` URI for an authenticator app) or removes it (``--off``). When
an account is enrolled, a right password does not start a session: the login waits (a row of
``staff_login_pending`` named by the hash of a short-lived cookie token) for the 6-digit code,
typed on ``/console/login/code``. A wrong code counts as a failed login (the same throttle as
passwords: per user and per address); a code is accepted once (its step is remembered) and one
step either side is allowed for clock drift. Every step is audited.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from handlers.i18n import translator
from lingkaran.console.guard import LOGIN_CSRF_COOKIE, Gate, language
from lingkaran.console.views import render
from lingkaran_core.clock import Clock
from lingkaran_core.services import audit
from lingkaran_core.storage import Database, console_repo, totp_repo
from lingkaran_core.storage.db import Tx

__all__ = ["PENDING_COOKIE", "code_at", "enrol", "new_secret", "otpauth_uri", "verify"]

PERIOD = 30
DIGITS = 6
DRIFT_STEPS = 1
ISSUER = "Lingkaran Cinta"
PENDING_COOKIE = "lc_login_totp"
PENDING_FOR = timedelta(minutes=5)


def new_secret() -> str:
    """A fresh key: 20 random bytes, base32 without padding (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    text = secret.strip().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def step_of(now: datetime) -> int:
    """The 30-second step ``now`` falls in (Unix time / 30)."""
    return int(now.timestamp()) // PERIOD


def code_at(secret: str, step: int, *, digits: int = DIGITS) -> str:
    """The code of ``step`` (RFC 4226 HOTP with the step as counter)."""
    mac = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(number).zfill(digits)


def verify(secret: str, code: str, now: datetime) -> int | None:
    """The step ``code`` belongs to (now, or one step either side), else None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    here = step_of(now)
    for step in range(here - DRIFT_STEPS, here + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def otpauth_uri(secret: str, username: str) -> str:
    """The enrolment URI an authenticator app reads (as a QR code or pasted)."""
    label = quote(f"{ISSUER}:{username}", safe=":")
    query = urlencode(
        {
            "secret": secret,
            "issuer": ISSUER,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": PERIOD,
        }
    )
    return f"otpauth://totp/{label}?{query}"


async def enrol(
    tx: Tx, username: str, *, now: datetime, actor: str, off: bool = False
) -> tuple[int, str | None]:
    """Enrol (a new key, returned once) or remove TOTP for ``username``; (staff id, key).

    ``LookupError`` for an unknown account.
    """
    row = await console_repo.staff_by_username(tx, username.strip().lower())
    if row is None:
        raise LookupError(username)
    secret = None if off else new_secret()
    await totp_repo.set_totp_secret(tx, int(row["id"]), secret)
    await audit(
        tx,
        now=now,
        actor_kind="admin",
        actor_id=actor,
        action="staff.totp_off" if off else "staff.totp_enrol",
        target_kind="staff",
        target_id=int(row["id"]),
        channel="admin",
        details={"username": row["username"]},
    )
    return int(row["id"]), secret


def token_hash(token: str) -> str:
    """What is stored of a pending-login token."""
    return hashlib.sha256(token.encode()).hexdigest()


class CodeStep:
    """The second login step: the form, and checking the code."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        gate: Gate,
        views: Any,
        *,
        safe_next: Callable[[str | None], str],
    ) -> None:
        self.db, self.clock, self.gate, self.views = db, clock, gate, views
        self.safe_next = safe_next

    async def begin(self, request: Request, staff_id: int, target: str) -> Response:
        """After a right password: remember the login and ask for the code."""
        token = secrets.token_urlsafe(32)
        async with self.db.tx() as tx:
            await totp_repo.insert_pending(
                tx, token_hash=token_hash(token), staff_id=staff_id, now=self.clock()
            )
        response = RedirectResponse(
            "/console/login/code?" + urlencode({"next": target}), status_code=303
        )
        self.gate.set_cookie(response, request, PENDING_COOKIE, token)
        return response

    def _form(self, request: Request, *, error: str | None = None, status: int = 200) -> Response:
        t = translator(language(request))
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        response = render(
            self.views.env,
            request,
            t,
            "login_code.html",
            status=status,
            login_csrf=token,
            error=error,
            next=self.safe_next(request.query_params.get("next")),
        )
        self.gate.set_cookie(response, request, LOGIN_CSRF_COOKIE, token)
        return response

    async def page(self, request: Request) -> Response:
        t = translator(language(request))
        now = self.clock()
        pending = request.cookies.get(PENDING_COOKIE)
        restart = RedirectResponse("/console/login", status_code=303)
        if not pending:
            return restart
        hashed = token_hash(pending)
        async with self.db.read() as r:
            row = await totp_repo.pending_login(r, hashed, since=now - PENDING_FOR)
        if row is None or row["disabled_at"] is not None or not row["totp_secret"]:
            restart.delete_cookie(PENDING_COOKIE, path="/console")
            return restart
        if request.method == "GET":
            return self._form(request)
        form = await request.form()
        sent, cookie = form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)
        if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
            return self._form(
                request, error=t("Formulir kedaluwarsa. Silakan coba lagi."), status=403
            )
        username = str(row["username"])
        remote = request.client.host if request.client else "?"
        cfg = self.gate.config
        step = verify(str(row["totp_secret"]), str(form.get("code") or ""), now)
        async with self.db.tx() as tx:
            failures = await console_repo.count_login_failures(
                tx, username=username, remote=remote, since=now - cfg.throttle_window
            )
            if failures >= cfg.max_login_failures:
                await totp_repo.delete_pending(tx, hashed)
                outcome = "throttled"
            elif step is None or not await totp_repo.accept_step(tx, int(row["id"]), step):
                await console_repo.record_login_failure(
                    tx, username=username, remote=remote, now=now
                )
                outcome = "failed"
            else:
                await totp_repo.delete_pending(tx, hashed)
                await console_repo.clear_login_failures(tx, username=username)
                outcome = "ok"
            await audit(
                tx,
                now=now,
                actor_kind="staff",
                actor_id=f"staff:{username}" if outcome == "ok" else username,
                action={
                    "ok": "console.login",
                    "failed": "console.totp_failed",
                    "throttled": "console.login_throttled",
                }[outcome],
                channel="console",
                details={"remote": remote, "totp": True},
            )
        if outcome == "throttled":
            response = self._form(
                request,
                error=t(
                    "Terlalu banyak percobaan. Tunggu {minutes} menit lalu coba lagi.",
                    minutes=int(cfg.throttle_window.total_seconds() // 60),
                ),
                status=429,
            )
            response.delete_cookie(PENDING_COOKIE, path="/console")
            return response
        if outcome == "failed":
            return self._form(request, error=t("Kode salah atau sudah dipakai."), status=401)
        target = self.safe_next(str(form.get("next") or ""))
        response = RedirectResponse(target, status_code=303)
        await self.gate.start_session(response, request, int(row["id"]))
        response.delete_cookie(PENDING_COOKIE, path="/console")
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
        return response
