"""What every console screen shares: the page renderer and its security headers, the base class
holding the database, templates and files folder, staff audit, stored-file responses and the
small parsers of query and form values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from handlers.i18n import N_, Translator
from lingkaran.console import labels
from lingkaran.console.guard import Call
from lingkaran_core import services
from lingkaran_core.clock import WIB
from lingkaran_core.errors import DomainError
from lingkaran_core.regions import load_regions
from lingkaran_core.storage import Database
from lingkaran_core.storage.db import Tx

CHANNEL = "console"
PAGE_SIZE = 25
MESSAGES: Mapping[str, str] = {
    "moved": N_("Status klaim diperbarui; pelapor diberi tahu."),
    "notice": N_("Dicatat: pemberitahuan tahap I sudah diteruskan ke BPJS TK."),
    "verified": N_("Pendaftaran disahkan; pekerja dan pendamping diberi tahu."),
    "rejected": N_("Pendaftaran ditolak; pendamping diberi tahu alasannya."),
    "replied": N_("Jawaban terkirim ke antrean pesan."),
    "closed": N_("Pertanyaan ditutup."),
    "revoked": N_("Pendamping dicabut; kodenya tidak berlaku lagi."),
    "requeued": N_("Pesan yang gagal dimasukkan lagi ke antrean."),
    "idle": N_("Sesi berakhir karena lama tidak dipakai. Silakan masuk lagi."),
    "bye": N_("Anda sudah keluar."),
}


def _wib(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=WIB)


async def _audit(
    tx: Tx,
    c: Call,
    action: str,
    target_kind: str,
    *,
    target_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit a staff action: the signed-in account, on the console's channel."""
    await services.audit(
        tx,
        now=c.now,
        actor_kind="staff",
        actor_id=c.staff.actor_ref,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        channel=CHANNEL,
        details=details,
    )


class ViewsBase:
    """What every screen uses: the database, the templates, the files folder, the regions."""

    def __init__(self, db: Database, files_dir: Path) -> None:
        self.db = db
        self.files_dir = files_dir.resolve()
        self.env = Environment(
            loader=PackageLoader("lingkaran.console", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.regions = load_regions()

    # -- helpers -------------------------------------------------------------------------------

    def page(self, c: Call, template: str, status: int = 200, **data: Any) -> Response:
        """Render ``template`` with the shared context."""
        return render(self.env, c.request, c.t, template, status=status, call=c, **data)

    def desa_text(self, code: str | None) -> str:
        """``Sukoreno, Kec. Kalisat``."""
        if not code:
            return "-"
        desa = self.regions.desa(code)
        if desa is None:
            return code
        return f"{desa.name}, Kec. {self.regions.kecamatan_of(desa).name}"

    def error(self, c: Call, exc: DomainError, status: int = 409) -> Response:
        """A refused action, in words."""
        return self.page(c, "error.html", status=status, message=labels.error_text(c.t, exc.code))

    def safe_file(self, path_text: str) -> Path | None:
        """A stored file's path, only when it lies inside the files folder."""
        path = Path(path_text).resolve()
        if not path.is_relative_to(self.files_dir) or not path.is_file():
            return None
        return path


# -- shared ------------------------------------------------------------------------------------


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; "
        "base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def render(
    env: Environment,
    request: Request,
    t: Translator,
    template: str,
    *,
    status: int = 200,
    call: Call | None = None,
    **data: Any,
) -> Response:
    """A page with the context every template expects."""
    msg_key = request.query_params.get("msg")
    flash = t(MESSAGES[msg_key]) if msg_key and msg_key in MESSAGES else None

    def qs(**changes: Any) -> str:
        params = {k: v for k, v in request.query_params.items() if k != "msg"}
        for k, v in changes.items():
            if v is None:
                params.pop(k, None)
            else:
                params[k] = str(v)
        return "?" + urlencode(params)

    html = env.get_template(template).render(
        _=t,
        t=t,
        lang=t.lang,
        c=call,
        staff=None if call is None else call.staff,
        csrf="" if call is None else call.csrf,
        may=(lambda p: False) if call is None else call.may,
        flash=flash,
        path=request.url.path,
        qs=qs,
        role_label=lambda code: labels.label(t, labels.ROLE, code),
        **data,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def file_response(path: Path, mime: str) -> Response:
    """A stored document, shown inline, never cached, never sniffed."""
    return Response(
        path.read_bytes(),
        media_type=mime,
        headers={
            "Content-Disposition": "inline",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        },
    )


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
