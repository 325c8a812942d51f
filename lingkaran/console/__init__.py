"""The OPD's web console (server-rendered, Starlette + Jinja2): an adapter like the channels,
calling the same services as the chat and the admin CLI.

``build_console(db, settings, clock)`` returns the routes, all under ``/console``; the
composition root adds them to its one ``WebServer`` (``serve``) and ``admin web`` serves them
alone. Every page is behind ``guard.Gate`` (session, idle timeout, role, kecamatan scope, CSRF).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from handlers.i18n import translator
from lingkaran.console import accounts
from lingkaran.console.broadcast import BroadcastPages
from lingkaran.console.guard import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Call,
    Gate,
    GateConfig,
    language,
    token_hash,
)
from lingkaran.console.links import LinkPages
from lingkaran.console.totp import CodeStep
from lingkaran.console.views import Views, render
from lingkaran_core.clock import Clock
from lingkaran_core.services import audit
from lingkaran_core.storage import Database, console_repo
from lingkaran_core.storage.db import Tx

__all__ = ["build_console"]

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"


async def _claim_scope(tx: Tx, request: Request) -> tuple[bool, str | None]:
    return await console_repo.claim_desa_by_ref(tx, str(request.path_params["ref"]).upper())


async def _worker_scope(tx: Tx, request: Request) -> tuple[bool, str | None]:
    try:
        worker_id = int(request.path_params["id"])
    except ValueError:
        return False, None
    row = await console_repo.registration_worker(tx, worker_id)
    return (False, None) if row is None else (True, row["desa_code"])


async def _ticket_scope(tx: Tx, request: Request) -> tuple[bool, str | None]:
    try:
        return await console_repo.ticket_desa(tx, int(request.path_params["id"]))
    except ValueError:
        return False, None


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/claims"


class _Login:
    def __init__(self, db: Database, clock: Clock, gate: Gate, views: Views) -> None:
        self.db, self.clock, self.gate, self.views = db, clock, gate, views
        self.code = CodeStep(db, clock, gate, views, safe_next=_safe_next)  # optional TOTP

    def _form(self, request: Request, *, error: str | None = None, status: int = 200) -> Response:
        t = translator(language(request))
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        response = render(
            self.views.env,
            request,
            t,
            "login.html",
            status=status,
            login_csrf=token,
            error=error,
            next=_safe_next(request.query_params.get("next")),
        )
        self.gate.set_cookie(response, request, LOGIN_CSRF_COOKIE, token)
        return response

    async def page(self, request: Request) -> Response:
        if request.method == "GET":
            return self._form(request)
        t = translator(language(request))
        form = await request.form()
        sent = form.get("csrf")
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
        if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
            return self._form(
                request, error=t("Formulir kedaluwarsa. Silakan coba lagi."), status=403
            )
        username = str(form.get("username") or "").strip().lower()[:64]
        password = str(form.get("password") or "")
        remote = request.client.host if request.client else "?"
        now = self.clock()
        cfg = self.gate.config
        async with self.db.tx() as tx:
            failures = await console_repo.count_login_failures(
                tx, username=username, remote=remote, since=now - cfg.throttle_window
            )
            if failures >= cfg.max_login_failures:
                await audit(
                    tx,
                    now=now,
                    actor_kind="staff",
                    actor_id=username,
                    action="console.login_throttled",
                    channel="console",
                    details={"remote": remote},
                )
                throttled = True
                row = None
            else:
                throttled = False
                row = await console_repo.staff_by_username(tx, username)
                ok = accounts.check_password(
                    None if row is None else row["password_hash"], password
                )
                if not ok or row is None or row["disabled_at"] is not None:
                    await console_repo.record_login_failure(
                        tx, username=username, remote=remote, now=now
                    )
                    await audit(
                        tx,
                        now=now,
                        actor_kind="staff",
                        actor_id=username,
                        action="console.login_failed",
                        channel="console",
                        details={"remote": remote},
                    )
                    row = None
                else:
                    if accounts.needs_rehash(row["password_hash"]):
                        await console_repo.set_password_hash(
                            tx, int(row["id"]), accounts.hash_password(password)
                        )
                    # With TOTP the failures are cleared only once the code is right too.
                    wants_code = bool(row["totp_secret"])
                    if not wants_code:
                        await console_repo.clear_login_failures(tx, username=username)
                    await audit(
                        tx,
                        now=now,
                        actor_kind="staff",
                        actor_id=f"staff:{username}",
                        action="console.login_password_ok" if wants_code else "console.login",
                        channel="console",
                        details={"remote": remote},
                    )
        if throttled:
            return self._form(
                request,
                error=t(
                    "Terlalu banyak percobaan. Tunggu {minutes} menit lalu coba lagi.",
                    minutes=int(cfg.throttle_window.total_seconds() // 60),
                ),
                status=429,
            )
        if row is None:
            return self._form(request, error=t("Nama pengguna atau kata sandi salah."), status=401)
        target = _safe_next(str(form.get("next") or ""))
        if row["totp_secret"]:
            return await self.code.begin(request, int(row["id"]), target)
        response = RedirectResponse(target, status_code=303)
        await self.gate.start_session(response, request, int(row["id"]))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
        return response

    async def logout(self, c: Call) -> Response:
        async with self.db.tx() as tx:
            await console_repo.end_session(tx, c.session, now=c.now)
            await audit(
                tx,
                now=c.now,
                actor_kind="staff",
                actor_id=c.staff.actor_ref,
                action="console.logout",
                channel="console",
            )
        response = RedirectResponse("/console/login?msg=bye", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/console")
        return response


async def _language(request: Request) -> Response:
    lang = request.path_params["lang"]
    target = _safe_next(request.query_params.get("next"))
    response = RedirectResponse(target, status_code=303)
    if lang in ("id", "en"):
        response.set_cookie(
            LANG_COOKIE,
            lang,
            path="/console",
            httponly=True,
            samesite="strict",
            max_age=3600 * 24 * 365,
            secure=request.url.scheme == "https",
        )
    return response


async def _home(request: Request) -> Response:
    return RedirectResponse("/console/claims", status_code=303)


def build_console(
    db: Database,
    settings: Any = None,
    clock: Clock | None = None,
    *,
    idle_minutes: int = 30,
    secure_cookies: bool | None = None,
    max_login_failures: int = 5,
    files_dir: Path | None = None,
) -> list[BaseRoute]:
    """The console's routes, mounted under ``/console``.

    ``settings`` may carry ``console_idle_minutes`` and ``console_secure_cookies`` (read when
    present, else the keyword defaults); ``clock`` is the process's one clock.
    """
    if clock is None:
        raise ValueError("build_console needs the process clock")
    idle = int(getattr(settings, "console_idle_minutes", None) or idle_minutes)
    secure = getattr(settings, "console_secure_cookies", secure_cookies)
    gate = Gate(
        db,
        clock,
        GateConfig(
            idle=timedelta(minutes=idle),
            secure_cookies=secure,
            max_login_failures=max_login_failures,
        ),
    )
    views = Views(db, files_dir or db.files_dir)
    login = _Login(db, clock, gate, views)
    links = LinkPages(views)  # chats linked to a worker; unlinking (issue 22)
    broadcast = BroadcastPages(views, db, settings)
    p = gate.page
    routes: list[BaseRoute] = [
        Route("/", _home),
        Route("/login", login.page, methods=["GET", "POST"]),
        Route("/login/code", login.code.page, methods=["GET", "POST"]),
        Route("/logout", p("claims.view", login.logout), methods=["POST"]),
        Route("/lang/{lang}", _language),
        Route("/claims", p("claims.view", views.claims)),
        Route("/claims/{ref}", p("claims.view", views.claim, scope=_claim_scope)),
        Route(
            "/claims/{ref}/status",
            p("claims.act", views.claim_status, scope=_claim_scope),
            methods=["POST"],
        ),
        Route(
            "/claims/{ref}/notice",
            p("claims.act", views.claim_notice, scope=_claim_scope),
            methods=["POST"],
        ),
        Route(
            "/claims/{ref}/nik",
            p("nik.show", views.claim_nik, scope=_claim_scope),
            methods=["POST"],
        ),
        Route(
            "/claims/{ref}/documents/{doc}",
            p("claims.view", views.claim_document, scope=_claim_scope),
        ),
        Route("/claims/{ref}/export", p("claims.export", views.claim_export, scope=_claim_scope)),
        Route("/registrations", p("registrations.view", views.registrations)),
        Route(
            "/registrations/{id}", p("registrations.view", views.registration, scope=_worker_scope)
        ),
        Route(
            "/registrations/{id}/photos/{doc}",
            p("registrations.view", views.registration_photo, scope=_worker_scope),
        ),
        Route(
            "/registrations/{id}/verify",
            p("registrations.act", views.registration_decide, scope=_worker_scope),
            methods=["POST"],
        ),
        Route(
            "/registrations/{id}/reject",
            p("registrations.act", views.registration_decide, scope=_worker_scope),
            methods=["POST"],
        ),
        Route(
            "/registrations/{id}/nik",
            p("nik.show", views.registration_nik, scope=_worker_scope),
            methods=["POST"],
        ),
        Route("/tickets", p("tickets.view", views.tickets)),
        Route("/tickets/{id}", p("tickets.view", views.ticket, scope=_ticket_scope)),
        Route(
            "/tickets/{id}/reply",
            p("tickets.act", views.ticket_reply, scope=_ticket_scope),
            methods=["POST"],
        ),
        Route(
            "/tickets/{id}/close",
            p("tickets.act", views.ticket_close, scope=_ticket_scope),
            methods=["POST"],
        ),
        Route("/facilitators", p("facilitators.view", views.facilitators)),
        Route("/facilitators/add", p("facilitators.act", views.facilitator_add), methods=["POST"]),
        Route(
            "/facilitators/{id}/code",
            p("facilitators.act", views.facilitator_code),
            methods=["POST"],
        ),
        Route(
            "/facilitators/{id}/revoke",
            p("facilitators.act", views.facilitator_revoke),
            methods=["POST"],
        ),
        Route("/links", p("links.act", links.page), methods=["GET", "POST"]),
        Route("/links/remove", p("links.act", links.remove), methods=["POST"]),
        Route("/outbox", p("outbox.view", views.outbox)),
        Route("/outbox/requeue", p("outbox.act", views.outbox_requeue), methods=["POST"]),
        Route("/broadcast", p("broadcast.act", broadcast.form)),
        Route("/broadcast", p("broadcast.act", broadcast.estimate), methods=["POST"]),
        Route("/broadcast/send", p("broadcast.act", broadcast.send), methods=["POST"]),
        Route("/roster", p("roster.act", views.roster)),
        Route("/roster", p("roster.act", views.roster_import), methods=["POST"]),
        Route("/reports", p("reports.view", views.reports_page)),
        Route("/reports/{name}.{fmt}", p("reports.view", views.report_download)),
        Mount("/static", app=StaticFiles(directory=str(STATIC)), name="console-static"),
    ]
    return [Mount("/console", routes=routes)]


def login_url(target: str) -> str:
    """The login page that returns to ``target``."""
    return "/console/login?next=" + quote(target, safe="")


__all__ += ["login_url", "token_hash"]
