"""Village facilitators: list, add, a new code, revoke."""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.responses import RedirectResponse, Response

from lingkaran.console import labels
from lingkaran.console.guard import Call, in_kecamatan
from lingkaran.console.views.shared import ViewsBase, _audit, _int
from lingkaran_core import facilitators as fac
from lingkaran_core.errors import DomainError
from lingkaran_core.identity import mask_phone, normalize_phone


class FacilitatorPages(ViewsBase):
    """Facilitators and their codes."""

    async def facilitators(
        self,
        c: Call,
        *,
        status: int = 200,
        message: str | None = None,
        new_code: tuple[str, str, datetime] | None = None,
    ) -> Response:
        async with self.db.read() as r:
            listing = await fac.list_facilitators(r)
        items = []
        for x in listing:
            f = x.facilitator
            if c.staff.kecamatan and not in_kecamatan(c.staff.kecamatan, f.scope_code + "."):
                continue
            if x.revoked_at is not None:
                state = c.t("Dicabut")
            elif f.bound_chat_id is not None:
                state = c.t("Aktif di chat")
            elif x.code_pending and x.code_expires_at is not None and x.code_expires_at > c.now:
                state = c.t(
                    "Kode belum dipakai (berlaku s.d. {when})", when=c.t.datetime(x.code_expires_at)
                )
            else:
                state = c.t("Kode kedaluwarsa")
            if f.scope_kind == "desa":
                scope = c.t("Desa {name}", name=self.desa_text(f.scope_code))
            else:
                kec = self.regions.kecamatan(f.scope_code)
                scope = c.t("Kecamatan {name}", name=kec.name if kec else f.scope_code)
            items.append(
                {
                    "id": f.id,
                    "name": f.name,
                    "phone": mask_phone(f.phone) if f.phone else "-",
                    "scope": scope,
                    "state": state,
                    "revoked": x.revoked_at is not None,
                }
            )
        return self.page(
            c,
            "facilitators.html",
            status=status,
            items=items,
            message=message,
            new_code=new_code,
            kecamatan_options=[(k.code, k.name) for k in self.regions.all_kecamatan],
        )

    async def facilitator_add(self, c: Call) -> Response:
        name = c.field("name")
        place = c.field("place")
        kind = "kecamatan" if self.regions.kecamatan(place) is not None else "desa"
        desa = self.regions.desa(place)
        if not name or (kind == "desa" and desa is None):
            return await self.facilitators(
                c,
                status=400,
                message=c.t("Isi nama dan kode desa (mis. 35.09.27.2002) atau kode kecamatan."),
            )
        code_place = desa.code if desa is not None and kind == "desa" else place
        try:
            phone = normalize_phone(c.field("phone"))
        except DomainError as exc:
            return await self.facilitators(c, status=400, message=labels.error_text(c.t, exc.code))
        ttl = timedelta(hours=72)
        async with self.db.tx() as tx:
            fid, code = await fac.create_facilitator(
                tx,
                name=name,
                phone=phone,
                scope_kind=kind,
                scope_code=code_place,
                now=c.now,
                ttl=ttl,
            )
            await _audit(tx, c, "facilitator.add", "facilitator", target_id=fid)
        return await self.facilitators(c, new_code=(name, code, c.now + ttl))

    async def facilitator_code(self, c: Call) -> Response:
        fid = _int(c.path("id"), 0)
        try:
            async with self.db.tx() as tx:
                code, expires = await fac.new_code(tx, fid, c.now, ttl=timedelta(hours=72))
                await _audit(tx, c, "facilitator.new_code", "facilitator", target_id=fid)
                found = await fac.facilitator_by_id(tx, fid)
        except DomainError as exc:
            return self.error(c, exc)
        return await self.facilitators(
            c, new_code=(found.name if found else str(fid), code, expires)
        )

    async def facilitator_revoke(self, c: Call) -> Response:
        fid = _int(c.path("id"), 0)
        try:
            async with self.db.tx() as tx:
                await fac.revoke_facilitator(tx, fid, c.now)
                await _audit(tx, c, "facilitator.revoke", "facilitator", target_id=fid)
        except DomainError as exc:
            return self.error(c, exc)
        return RedirectResponse("/console/facilitators?msg=revoked", status_code=303)
