"""The broadcast composer: recipients by sector, kecamatan and desa, the WhatsApp template cost,
a confirmation step, then the queue (class ``broadcast``).

Three requests, all behind ``broadcast.act`` (admins): the form (GET), the estimate (POST
``/broadcast``: nothing is written), the confirmation (POST ``/broadcast/send``, with the
estimate's digest and a ticked box; the plan is made again, so what is queued is what the
recipients are at that moment). The use case is ``lingkaran_core.services.broadcasts``, the same
as ``admin broadcast``; it audits the broadcast with the signed-in account.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from handlers.i18n import N_
from lingkaran.console import labels
from lingkaran.console.guard import Call
from lingkaran.console.views import Views
from lingkaran_core import outbox as policy
from lingkaran_core.errors import DomainError
from lingkaran_core.rules import SECTORS
from lingkaran_core.services import broadcasts
from lingkaran_core.storage import Database

__all__ = ["BroadcastPages"]

ERRORS = {
    "broadcast.empty_message": N_("Tulis pesannya dulu."),
    "broadcast.too_long": N_("Pesan terlalu panjang (paling banyak {limit} huruf)."),
    "broadcast.no_audience": N_("Pilih penerima: sektor, kecamatan atau desa."),
    "broadcast.no_budget": N_(
        "Batas pesan WhatsApp 0: pesan templat tidak bisa dikirim. Atur LINGKARAN_WA_TIER."
    ),
    "broadcast.changed": N_("Pesan atau penerima berubah. Periksa perkiraan lagi."),
    "broadcast.unconfirmed": N_("Centang persetujuan dulu untuk mengirim."),
    "broadcast.bad_place": N_("Kode wilayah tidak dikenal: {codes}"),
}
_CODE_SPLIT = re.compile(r"[\s,;]+")


class BroadcastPages:
    """The composer's three requests."""

    def __init__(self, views: Views, db: Database, settings: Any = None) -> None:
        self.views, self.db = views, db
        config = getattr(settings, "outbox_config", None)
        self.config: policy.OutboxConfig = config() if callable(config) else policy.DEFAULT_CONFIG

    def _form_data(self, c: Call) -> dict[str, Any]:
        form = c.form
        sectors = [s for s in (form.getlist("sector") if form else []) if isinstance(s, str)]
        kecamatan = [k for k in (form.getlist("kecamatan") if form else []) if isinstance(k, str)]
        desa_text = c.field("desa")
        return {
            "message": c.field("message"),
            "sectors": sectors,
            "kecamatan": kecamatan,
            "desa_text": desa_text,
            "desa": [d for d in _CODE_SPLIT.split(desa_text) if d],
        }

    def _render(
        self,
        c: Call,
        data: dict[str, Any],
        *,
        plan: broadcasts.BroadcastPlan | None = None,
        error: str | None = None,
        queued: int | None = None,
        status: int = 200,
    ) -> Response:
        v = self.views
        audience: list[str] = []
        if plan is not None:
            audience += [labels.label(c.t, labels.SECTOR, s) for s in plan.audience.sectors]
            places = [
                (k.name if (k := v.regions.kecamatan(code)) else code)
                for code in plan.audience.kecamatan_codes
            ]
            audience += [c.t("Kec. {name}", name=p) for p in places]
            audience += [v.desa_text(d) for d in plan.audience.desa_codes]
        return v.page(
            c,
            "broadcast.html",
            status=status,
            data=data,
            plan=plan,
            audience=audience,
            error=error,
            queued=queued,
            sector_options=[(s.code, labels.label(c.t, labels.SECTOR, s.code)) for s in SECTORS],
            kecamatan_options=[(k.code, k.name) for k in v.regions.all_kecamatan],
            limit=broadcasts.MAX_MESSAGE_CHARS,
        )

    def _error(self, c: Call, code: str, **params: object) -> str:
        return c.t(ERRORS.get(code) or labels.GENERIC_ERROR, **params)

    async def _plan(self, c: Call, data: dict[str, Any]) -> broadcasts.BroadcastPlan:
        unknown = [k for k in data["kecamatan"] if self.views.regions.kecamatan(k) is None]
        unknown += [d for d in data["desa"] if self.views.regions.desa(d) is None]
        if unknown:
            raise DomainError("broadcast.bad_place", codes=", ".join(unknown[:5]))
        audience = broadcasts.Audience(
            sectors=tuple(s for s in data["sectors"] if any(s == x.code for x in SECTORS)),
            kecamatan_codes=tuple(data["kecamatan"]),
            desa_codes=tuple(data["desa"]),
        )
        async with self.db.read() as r:
            return await broadcasts.plan_broadcast(
                r, message=data["message"], audience=audience, now=c.now, config=self.config
            )

    async def form(self, c: Call) -> Response:
        empty = {"message": "", "sectors": [], "kecamatan": [], "desa_text": "", "desa": []}
        return self._render(c, empty)

    async def estimate(self, c: Call) -> Response:
        data = self._form_data(c)
        try:
            plan = await self._plan(c, data)
        except DomainError as exc:
            msg = self._error(c, exc.code, limit=broadcasts.MAX_MESSAGE_CHARS, **exc.params)
            return self._render(c, data, error=msg, status=400)
        return self._render(c, data, plan=plan)

    async def send(self, c: Call) -> Response:
        data = self._form_data(c)
        try:
            plan = await self._plan(c, data)
            if c.field("digest") != plan.digest:
                raise DomainError("broadcast.changed")
            if c.field("confirm") != "1":
                raise DomainError("broadcast.unconfirmed")
            queued = await broadcasts.send_broadcast(
                self.db,
                plan,
                now=c.now,
                config=self.config,
                actor_kind="staff",
                actor_id=c.staff.actor_ref,
                channel="console",
            )
        except DomainError as exc:
            msg = self._error(c, exc.code, limit=broadcasts.MAX_MESSAGE_CHARS, **exc.params)
            return self._render(c, data, error=msg, status=409)
        return self._render(c, data, plan=plan, queued=queued)
