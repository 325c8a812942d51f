"""The one gate every console route passes: session, idle timeout, role, scope, CSRF.

A route is declared with the permission it needs and, for a page about one record, how to find
that record's desa (``Scope``). ``Gate.page`` wraps the route's function so that, before it runs:

1. the session cookie names a live session of an enabled account (else: redirect to the login
   page, or 401 for a download);
2. the session was used within the idle timeout (else it ends: redirect to the login page);
3. the account's role grants the permission (else 403);
4. a POST carries the session's CSRF token (else 403);
5. the record exists (else 404) and, for a kecamatan viewer, lies in their kecamatan (else 403).

Nothing else in the console decides who may do what.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from handlers.i18n import Translator, translator
from lingkaran.console.accounts import Staff, may, staff_from_row
from lingkaran_core.clock import Clock
from lingkaran_core.storage import Database, console_repo
from lingkaran_core.storage.db import Tx

logger = logging.getLogger(__name__)

SESSION_COOKIE = "lc_console"
LOGIN_CSRF_COOKIE = "lc_login_csrf"
LANG_COOKIE = "lc_lang"
COOKIE_PATH = "/console"
TOUCH_EVERY = timedelta(seconds=60)

# (exists, desa code) of the record a route is about, from its path parameters.
Scope = Callable[[Tx, Request], Awaitable[tuple[bool, str | None]]]


def token_hash(token: str) -> str:
    """What is stored of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def in_kecamatan(kecamatan: str | None, desa: str | None) -> bool:
    """Whether a record of ``desa`` is visible to an account limited to ``kecamatan``."""
    if kecamatan is None:
        return True
    return desa is not None and desa.startswith(kecamatan.rstrip(".") + ".")


def language(request: Request) -> str:
    """The console language: the cookie, else Indonesian."""
    lang = request.cookies.get(LANG_COOKIE, "id")
    return lang if lang in ("id", "en") else "id"


@dataclass(slots=True)
class Call:
    """One authorised request, as a route function sees it."""

    request: Request
    staff: Staff
    csrf: str
    session: str  # token hash
    t: Translator
    now: datetime
    form: FormData | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def may(self, permission: str) -> bool:
        """Whether this account may ``permission`` (for showing buttons and links)."""
        return may(self.staff, permission)

    def field(self, name: str) -> str:
        """A form field's text (empty when absent)."""
        if self.form is None:
            return ""
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def path(self, name: str) -> str:
        """A path parameter."""
        return str(self.request.path_params[name])


Route = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True, slots=True, kw_only=True)
class GateConfig:
    """How sessions behave."""

    idle: timedelta = timedelta(minutes=30)
    secure_cookies: bool | None = None  # None: Secure when the request came over https
    max_login_failures: int = 5
    throttle_window: timedelta = timedelta(minutes=15)


class Gate:
    """Checks every request against the permission table and the account's scope."""

    def __init__(self, db: Database, clock: Clock, config: GateConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config

    def secure(self, request: Request) -> bool:
        """Whether cookies get the Secure flag."""
        if self.config.secure_cookies is not None:
            return self.config.secure_cookies
        return request.url.scheme == "https"

    def set_cookie(self, response: Response, request: Request, name: str, value: str) -> None:
        """An HttpOnly, SameSite=Strict cookie for the console's path."""
        response.set_cookie(
            name,
            value,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=self.secure(request),
        )

    async def start_session(self, response: Response, request: Request, staff_id: int) -> None:
        """Log an account in: a fresh token (any old one is forgotten) and CSRF token."""
        token = secrets.token_urlsafe(32)
        async with self.db.tx() as tx:
            await console_repo.create_session(
                tx,
                token_hash=token_hash(token),
                staff_id=staff_id,
                csrf_token=secrets.token_urlsafe(32),
                now=self.clock(),
            )
        self.set_cookie(response, request, SESSION_COOKIE, token)

    def _to_login(self, request: Request, reason: str | None = None) -> Response:
        if request.method != "GET" or request.url.path.endswith((".csv", ".xlsx")):
            return PlainTextResponse("login required", status_code=401)
        target = request.url.path + (("?" + request.url.query) if request.url.query else "")
        url = "/console/login?next=" + quote(target, safe="")
        if reason:
            url += "&msg=" + reason
        response = RedirectResponse(url, status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
        return response

    def page(
        self, permission: str, fn: Route, *, scope: Scope | None = None
    ) -> Callable[[Request], Awaitable[Response]]:
        """``fn`` behind the gate (see the module docstring)."""

        async def endpoint(request: Request) -> Response:
            now = self.clock()
            token = request.cookies.get(SESSION_COOKIE)
            if not token:
                return self._to_login(request)
            hashed = token_hash(token)
            async with self.db.read() as r:
                row = await console_repo.session(r, hashed)
            if row is None or row["disabled_at"] is not None:
                return self._to_login(request)
            last_seen = datetime.fromisoformat(row["s_last_seen"])
            if now - last_seen > self.config.idle:
                async with self.db.tx() as tx:
                    await console_repo.end_session(tx, hashed, now=now)
                return self._to_login(request, "idle")
            staff = staff_from_row(row)
            t = translator(language(request))
            if not may(staff, permission):
                return forbidden(t)
            form: FormData | None = None
            if request.method == "POST":
                form = await request.form()
                sent = form.get("csrf")
                if not isinstance(sent, str) or not hmac.compare_digest(sent, row["s_csrf"]):
                    logger.warning("console: POST without a valid CSRF token")
                    return forbidden(t)
            if scope is not None:
                async with self.db.read() as r:
                    exists, desa = await scope(r, request)
                if not exists:
                    return not_found(t)
                if not in_kecamatan(staff.kecamatan, desa):
                    return forbidden(t)
            if now - last_seen > TOUCH_EVERY or request.method == "POST":
                async with self.db.tx() as tx:
                    await console_repo.touch_session(tx, hashed, now=now)
            call = Call(
                request=request,
                staff=staff,
                csrf=str(row["s_csrf"]),
                session=hashed,
                t=t,
                now=now,
                form=form,
            )
            return await fn(call)

        return endpoint


def forbidden(t: Translator) -> Response:
    """403, in words."""
    return PlainTextResponse(t("Anda tidak punya izin untuk membuka halaman ini."), status_code=403)


def not_found(t: Translator) -> Response:
    """404, in words."""
    return PlainTextResponse(t("Data tidak ditemukan."), status_code=404)
