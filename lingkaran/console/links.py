"""The console's "Nomor terhubung" page: which chats are linked to a worker, and unlinking.

One phone may serve a whole household (issue 22), and a sold or shared phone keeps its links
until someone removes them: staff find the worker by NIK and remove one chat's link to them, or
every link of that chat, through ``services.unlink`` (audited as the signed-in account). The NIK
travels in the search's POST body only, never in a URL (access logs) nor back in the page. A kecamatan account sees only the
workers of its kecamatan.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from starlette.responses import Response

from handlers.i18n import N_
from lingkaran.console.guard import Call, forbidden, in_kecamatan
from lingkaran_core import services
from lingkaran_core.errors import DomainError
from lingkaran_core.identity import mask_nik, mask_phone
from lingkaran_core.services import ChatLink
from lingkaran_core.storage.repos import Worker

if TYPE_CHECKING:
    from lingkaran.console.views import Views

CHANNEL = "console"
FACTORS = {
    "channel_phone": N_("Nomor HP di data program"),
    "phone_code": N_("Kode ke nomor HP di data program"),
    "kpj": N_("Nomor KPJ"),
    "kk": N_("Nomor KK"),
    "facilitator": N_("Pendamping desa (KTP dilihat)"),
    "legacy": N_("Sebelum aturan verifikasi"),
}


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _user(link: ChatLink) -> str:
    if link.channel == "whatsapp" and link.user_ref.isdigit():
        return mask_phone("+" + link.user_ref)
    ref = link.user_ref
    return ref if len(ref) <= 6 else ref[:3] + "*" * (len(ref) - 6) + ref[-3:]


class LinkPages:
    """The page and its one action; renders through the console's ``Views``."""

    def __init__(self, views: Views) -> None:
        self.views = views
        self.db = views.db

    async def _render(
        self,
        c: Call,
        *,
        worker: Worker | None = None,
        links: list[ChatLink] | None = None,
        message: str | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Response:
        items = [
            {
                "chat": x.chat_id,
                "channel": x.channel,
                "user": _user(x),
                "factor": c.t(FACTORS.get(x.factor, x.factor)),
                "since": c.t.datetime(datetime.fromisoformat(x.created_at))
                if x.created_at
                else "-",
                "own": x.own,
            }
            for x in links or []
        ]
        return self.views.page(
            c,
            "links.html",
            status=status,
            worker=None
            if worker is None
            else {"name": worker.name, "nik": mask_nik(worker.nik), "id": worker.id},
            items=items,
            message=message,
            notice=notice,
        )

    async def page(self, c: Call) -> Response:
        """GET: the search form; POST: the chats linked to the worker with that NIK."""
        if c.request.method != "POST":
            return await self._render(c)
        nik = _digits(c.field("nik"))
        async with self.db.read() as r:
            try:
                worker, links = await services.links_of_worker(r, nik)
            except DomainError:
                return await self._render(
                    c, message=c.t("Tidak ada pekerja dengan NIK itu."), status=404
                )
        if not in_kecamatan(c.staff.kecamatan, worker.desa_code):
            return forbidden(c.t)
        return await self._render(c, worker=worker, links=links)

    async def remove(self, c: Call) -> Response:
        """POST: remove the worker's link on one chat, or every link of that chat."""
        worker_id = int(_digits(c.field("worker")) or 0)
        chat_id = int(_digits(c.field("chat")) or 0)
        everyone = c.field("all") == "1"
        async with self.db.tx() as tx:
            try:
                worker, links = await services.links_of_worker(tx, worker_id)
            except DomainError:
                return await self._render(
                    c, message=c.t("Tidak ada pekerja dengan NIK itu."), status=404
                )
            if not in_kecamatan(c.staff.kecamatan, worker.desa_code):
                return forbidden(c.t)
            if chat_id not in {x.chat_id for x in links}:
                return await self._render(
                    c,
                    worker=worker,
                    links=links,
                    message=c.t("Chat itu tidak terhubung dengan pekerja ini."),
                    status=409,
                )
            await services.unlink(
                tx,
                chat_id=chat_id,
                worker_id=None if everyone else worker.id,
                now=c.now,
                actor_kind="staff",
                actor_id=c.staff.actor_ref,
                channel=CHANNEL,
            )
            _worker, links = await services.links_of_worker(tx, worker.id)
        notice = c.t("Hubungan dilepas. Pekerja bisa menghubungkan nomornya lagi nanti.")
        return await self._render(c, worker=worker, links=links, notice=notice)
