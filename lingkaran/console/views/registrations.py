"""Registrations waiting for the OPD: list, one registration, its photos, verify or reject."""

from __future__ import annotations

from datetime import date

from starlette.responses import RedirectResponse, Response

from handlers.i18n import N_
from lingkaran.console import labels
from lingkaran.console.guard import Call, not_found
from lingkaran.console.views.shared import CHANNEL, ViewsBase, _audit, _int, _wib, file_response
from lingkaran_core import opd
from lingkaran_core.clock import WIB
from lingkaran_core.errors import DomainError
from lingkaran_core.identity import mask_nik, mask_phone
from lingkaran_core.storage import console_repo


class RegistrationPages(ViewsBase):
    """Registrations waiting for verification."""

    async def registrations(self, c: Call) -> Response:
        async with self.db.read() as r:
            rows = await console_repo.pending_registrations(r, kecamatan=c.staff.kecamatan)
        items = [
            {
                "id": x["id"],
                "name": x["name"],
                "nik": mask_nik(x["nik"]),
                "desa": self.desa_text(x["desa_code"]),
                "sector": labels.label(c.t, labels.SECTOR, x["sector"]),
                "by": x["facilitator_name"] or "-",
                "at": c.t.datetime(_wib(x["created_at"])),  # type: ignore[arg-type]
                "photos": x["photos"],
            }
            for x in rows
        ]
        return self.page(c, "registrations.html", items=items)

    async def registration(
        self, c: Call, *, show_nik: bool = False, status: int = 200, message: str | None = None
    ) -> Response:
        worker_id = _int(c.path("id"), 0)
        async with self.db.read() as r:
            w = await console_repo.registration_worker(r, worker_id)
            if w is None:
                return not_found(c.t)
            photos = await console_repo.registration_documents(r, worker_id)
        t = c.t
        facts = [
            (t("Nama"), w["name"]),
            (t("NIK"), w["nik"] if show_nik else mask_nik(w["nik"])),
            (t("Tanggal lahir"), t.date(date.fromisoformat(w["birth_date"]))),
            (t("Jenis kelamin"), t("Laki-laki") if w["sex"] == "L" else t("Perempuan")),
            (t("Desa"), self.desa_text(w["desa_code"])),
            (t("Sektor"), labels.label(t, labels.SECTOR, w["sector"])),
            (t("Pekerjaan"), w["occupation"] or "-"),
            (t("HP"), (w["phone"] if show_nik else mask_phone(w["phone"])) if w["phone"] else "-"),
            (t("Didaftarkan oleh"), w["facilitator_name"] or "-"),
            (t("Didaftarkan pada"), t.datetime(_wib(w["created_at"]))),  # type: ignore[arg-type]
        ]
        return self.page(
            c,
            "registration.html",
            status=status,
            worker=w,
            facts=facts,
            waiting=w["registration_status"] == "registered",
            decided=labels.label(
                t,
                {"verified": N_("Sudah disahkan"), "rejected": N_("Ditolak")},
                w["registration_status"],
            ),
            reason=w["rejection_reason"],
            photos=[
                {
                    "id": p["id"],
                    "kind": labels.doc_label(t, p["kind"]),
                    "url": f"/console/registrations/{worker_id}/photos/{p['id']}",
                    "image": str(p["mime"]).startswith("image/"),
                }
                for p in photos
            ],
            show_nik=show_nik,
            message=message,
        )

    async def registration_photo(self, c: Call) -> Response:
        worker_id = _int(c.path("id"), 0)
        doc_id = _int(c.path("doc"), 0)
        async with self.db.tx() as tx:
            doc = await console_repo.registration_document(tx, worker_id, doc_id)
            if doc is not None:
                await _audit(
                    tx,
                    c,
                    "registration.photo_view",
                    "worker",
                    target_id=worker_id,
                    details={"document": doc_id},
                )
        if doc is None:
            return not_found(c.t)
        path = self.safe_file(doc["path"])
        if path is None:
            return not_found(c.t)
        return file_response(path, str(doc["mime"]))

    async def registration_decide(self, c: Call) -> Response:
        worker_id = _int(c.path("id"), 0)
        verify = c.request.url.path.endswith("/verify")
        try:
            async with self.db.tx() as tx:
                if verify:
                    await opd.verify_registration(
                        tx,
                        worker_id,
                        actor=c.staff.actor_ref,
                        today=c.now.astimezone(WIB).date(),
                        now=c.now,
                        channel=CHANNEL,
                    )
                else:
                    await opd.reject_registration(
                        tx,
                        worker_id,
                        reason=c.field("reason"),
                        actor=c.staff.actor_ref,
                        now=c.now,
                        channel=CHANNEL,
                    )
        except DomainError as exc:
            return await self.registration(c, status=409, message=labels.error_text(c.t, exc.code))
        msg = "verified" if verify else "rejected"
        return RedirectResponse(f"/console/registrations?msg={msg}", status_code=303)

    async def registration_nik(self, c: Call) -> Response:
        async with self.db.tx() as tx:
            await _audit(tx, c, "nik.show", "worker", target_id=c.path("id"))
        return await self.registration(c, show_nik=True)
