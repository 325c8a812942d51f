"""The console's pages. Each function gets an authorised ``Call`` (see ``guard``) and calls the
same services as the chat and the admin CLI; what it shows goes through ``labels``."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from handlers.i18n import N_, Translator
from lingkaran.console import labels, reports
from lingkaran.console.guard import Call, forbidden, in_kecamatan, not_found
from lingkaran_core import claims as claim_rules
from lingkaran_core import facilitators as fac
from lingkaran_core import opd, services
from lingkaran_core.claims import Actor, ClaimStatus, ClaimType
from lingkaran_core.clock import WIB, at_wib, wib_today
from lingkaran_core.coverage import coverage_status
from lingkaran_core.errors import DomainError
from lingkaran_core.identity import mask_nik, mask_phone, normalize_phone
from lingkaran_core.importers import RosterFormatError, import_roster
from lingkaran_core.regions import load_regions
from lingkaran_core.storage import Database, admin_repo, console_repo, outbox_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import Claim, claim_by_ref, claim_events, worker_by_id

logger = logging.getLogger(__name__)

CHANNEL = "console"
PAGE_SIZE = 25
MESSAGES: Mapping[str, str] = {
    "moved": N_("Status klaim diperbarui; pelapor diberi tahu."),
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


class Views:
    """Renders pages; holds the database, the templates and the files folder."""

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

    # -- claims --------------------------------------------------------------------------------

    async def claims(self, c: Call) -> Response:
        q = c.request.query_params
        kec = c.staff.kecamatan or (q.get("kecamatan") or None)
        page_no = max(1, _int(q.get("page"), 1))
        f = console_repo.QueueFilter(
            status=q.get("status") if q.get("status") in labels.STATUS else None,
            type=q.get("type") if q.get("type") in labels.TYPE else None,
            kecamatan=kec,
            desa_code=q.get("desa") or None,
            date_from=_date(q.get("from")),
            date_to=_date(q.get("to")),
            open_only=q.get("open") == "1",
            sort="newest" if q.get("sort") == "newest" else "deadline",
            limit=PAGE_SIZE,
            offset=(page_no - 1) * PAGE_SIZE,
        )
        async with self.db.read() as r:
            rows = await console_repo.queue_claims(r, f)
            total = await console_repo.count_claims(r, f)
        items = []
        for row in rows:
            checklist = json.loads(row["checklist"] or "[]")
            items.append(
                {
                    "ref": row["ref"],
                    "type": labels.label(c.t, labels.TYPE, row["type"]),
                    "status": labels.label(c.t, labels.STATUS, row["status"]),
                    "status_code": row["status"],
                    "event_date": c.t.date(date.fromisoformat(row["event_date"])),
                    "desa": self.desa_text(row["desa"]),
                    "subject": row["subject_name"] or "-",
                    "nik": mask_nik(row["subject_nik"]) if row["subject_nik"] else "",
                    "reported": c.t.datetime(_wib(row["reported_at"])),  # type: ignore[arg-type]
                    "docs": f"{row['docs']}/{len(checklist)}",
                    "clock": jkk_clock(c.t, row["type"], row["status"], row, c.now),
                    "late": bool(row["late_report"]),
                }
            )
        kecamatan_options = [(k.code, k.name) for k in self.regions.all_kecamatan]
        desa_options = [(d.code, d.name) for d in self.regions.desa_in(kec)] if kec else []
        pages = max(1, -(-total // PAGE_SIZE))
        return self.page(
            c,
            "claims.html",
            items=items,
            total=total,
            page_no=page_no,
            pages=pages,
            q=dict(q),
            kec=kec,
            kecamatan_options=kecamatan_options,
            desa_options=desa_options,
            statuses=[(s, labels.label(c.t, labels.STATUS, s)) for s in labels.STATUS],
            types=[(k, labels.label(c.t, labels.TYPE, k)) for k in labels.TYPE],
        )

    async def claim(self, c: Call, *, show_nik: bool = False, status: int = 200) -> Response:
        ref = c.path("ref")
        async with self.db.read() as r:
            claim = await claim_by_ref(r, ref)
            if claim is None:
                return not_found(c.t)
            data = await self._claim_data(r, c, claim, show_nik=show_nik)
        return self.page(c, "claim.html", status=status, **data)

    async def _claim_data(self, r: Tx, c: Call, claim: Claim, *, show_nik: bool) -> dict[str, Any]:
        t = c.t
        events = await claim_events(r, claim.id)
        docs = await console_repo.claim_documents(r, claim.id)
        received = sorted({d["kind"] for d in docs})
        missing = services.missing_documents(claim, received)
        worker = None if claim.worker_id is None else await worker_by_id(r, claim.worker_id)
        desa = await services.claim_desa(r, claim)
        cov = None
        if worker is not None:
            cov = coverage_status(
                start=worker.coverage_start,
                paid_through=worker.paid_through,
                today=claim.event_date,
            ).status.value
        status = ClaimStatus(claim.status)
        targets = [
            (
                s.value,
                labels.label(t, labels.MOVE, s.value)
                if s.value in labels.MOVE
                else labels.label(t, labels.STATUS, s.value),
            )
            for s in claim_rules.allowed_targets(status, actor=Actor.ADMIN)
        ]

        def nik(value: str | None) -> str:
            if not value:
                return "-"
            return value if show_nik else mask_nik(value)

        facts = [
            (t("Nomor klaim"), claim.ref),
            (t("Jenis"), labels.label(t, labels.TYPE, claim.type)),
            (t("Status"), labels.label(t, labels.STATUS, claim.status)),
            (t("Tanggal kejadian"), t.date(claim.event_date)),
            (
                t("Dilaporkan"),
                t.datetime(_wib(claim.reported_at))  # type: ignore[arg-type]
                + (" — " + t("terlambat") if claim.late_report else ""),
            ),
            (t("Desa"), self.desa_text(desa)),
            (t("Nama peserta"), claim.subject_name or (worker.name if worker else "-")),
            (t("NIK peserta"), nik(claim.subject_nik or (worker.nik if worker else None))),
            (t("Di data peserta"), t("ya") if worker else t("belum dicocokkan")),
            (
                t("Status perlindungan pada hari kejadian"),
                labels.label(t, labels.COVERAGE, cov) if cov else "-",
            ),
            (t("Pelapor / ahli waris"), claim.claimant_name or "-"),
            (t("NIK pelapor"), nik(claim.claimant_nik)),
            (
                t("HP pelapor"),
                (claim.claimant_phone if show_nik else mask_phone(claim.claimant_phone))
                if claim.claimant_phone
                else "-",
            ),
        ]
        paid = claim.answers.get("benefit_paid")
        if isinstance(paid, int):
            facts.append((t("Manfaat dibayar"), t.money(paid)))
            paid_on = claim.answers.get("paid_on")
            if isinstance(paid_on, str):
                facts.append((t("Tanggal dibayar"), t.date(date.fromisoformat(paid_on))))
        timeline = [
            {
                "at": t.datetime(_wib(e["at"])),  # type: ignore[arg-type]
                "from": labels.label(t, labels.STATUS, e["from_status"]),
                "to": labels.label(t, labels.STATUS, e["to_status"]),
                "actor": labels.label(t, labels.ACTOR, e["actor"]),
                "note": e["note"] or "",
            }
            for e in events
        ]
        documents = [
            {
                "id": d["id"],
                "kind": labels.doc_label(t, d["kind"]),
                "mime": d["mime"],
                "image": str(d["mime"]).startswith("image/") and d["mime"] != "image/heic",
                "pdf": d["mime"] == "application/pdf",
                "received": t.datetime(_wib(d["received_at"])),  # type: ignore[arg-type]
                "purged": d["purged_at"] is not None,
                "url": f"/console/claims/{claim.ref}/documents/{d['id']}",
            }
            for d in docs
        ]
        return {
            "claim": claim,
            "facts": facts,
            "timeline": timeline,
            "documents": documents,
            "missing": [labels.doc_label(t, k) for k in missing],
            "targets": targets,
            "clock": jkk_clock(
                t,
                claim.type,
                claim.status,
                {"event_at": claim.event_at, "event_date": claim.event_date.isoformat()},
                c.now,
            ),
            "show_nik": show_nik,
            "today": wib_today(lambda: c.now).isoformat(),
        }

    async def claim_status(self, c: Call) -> Response:
        ref = c.path("ref")
        target_code = c.field("target")
        if target_code not in labels.STATUS:
            return forbidden(c.t)
        target = ClaimStatus(target_code)
        note = c.field("note") or None
        amount = paid_on = None
        if target == ClaimStatus.PAID:
            amount = _int(c.field("amount").replace(".", "").replace(",", ""), -1)
            paid_on = _date(c.field("paid_on"))
            if amount < 0 or paid_on is None:
                return self.page(
                    c,
                    "error.html",
                    status=400,
                    message=c.t("Isi jumlah manfaat (rupiah) dan tanggal pembayaran."),
                )
        try:
            async with self.db.tx() as tx:
                # The payment is recorded with the move, so the reporter's notification
                # carries the amount (issue 14).
                payment = (
                    services.Payment(amount=amount, paid_on=paid_on)
                    if amount is not None and paid_on is not None
                    else None
                )
                await services.transition_claim(
                    tx,
                    ref,
                    target,
                    actor=Actor.ADMIN,
                    now=c.now,
                    actor_ref=c.staff.actor_ref,
                    channel=CHANNEL,
                    note=note,
                    payment=payment,
                )
                if payment is not None:
                    await _audit(
                        tx,
                        c,
                        "claim.payment",
                        "claim",
                        target_id=ref,
                        details={
                            "amount": payment.amount,
                            "paid_on": payment.paid_on.isoformat(),
                        },
                    )
        except DomainError as exc:
            return self.error(c, exc)
        return RedirectResponse(f"/console/claims/{ref}?msg=moved", status_code=303)

    async def claim_nik(self, c: Call) -> Response:
        async with self.db.tx() as tx:
            await _audit(tx, c, "nik.show", "claim", target_id=c.path("ref"))
        return await self.claim(c, show_nik=True)

    async def claim_document(self, c: Call) -> Response:
        ref = c.path("ref")
        doc_id = _int(c.path("doc"), 0)
        async with self.db.tx() as tx:
            claim = await claim_by_ref(tx, ref)
            doc = None if claim is None else await console_repo.claim_document(tx, claim.id, doc_id)
            if doc is not None:
                await _audit(
                    tx,
                    c,
                    "claim.document_view",
                    "claim",
                    target_id=ref,
                    details={"document": doc_id},
                )
        if doc is None or doc["purged_at"] is not None:
            return not_found(c.t)
        path = self.safe_file(doc["path"])
        if path is None:
            return not_found(c.t)
        return file_response(path, str(doc["mime"]))

    async def claim_export(self, c: Call) -> Response:
        ref = c.path("ref")
        async with self.db.tx() as tx:
            claim = await claim_by_ref(tx, ref)
            if claim is None:
                return not_found(c.t)
            docs = await console_repo.claim_documents(tx, claim.id)
            events = [dict(e) for e in await claim_events(tx, claim.id)]
            worker = None if claim.worker_id is None else await worker_by_id(tx, claim.worker_id)
            await _audit(
                tx, c, "claim.export", "claim", target_id=ref, details={"documents": len(docs)}
            )
        exported: list[dict[str, Any]] = []
        summary: dict[str, Any] = {
            "notice": "Contains full NIKs (personal data): only for forwarding to BPJS TK.",
            "claim": {
                k: getattr(claim, k)
                for k in (
                    "ref",
                    "type",
                    "status",
                    "event_at",
                    "reported_at",
                    "late_report",
                    "desa_code",
                    "subject_name",
                    "subject_nik",
                    "claimant_name",
                    "claimant_nik",
                    "claimant_phone",
                    "relation",
                    "answers",
                    "checklist",
                )
            }
            | {"event_date": claim.event_date.isoformat()},
            "worker": None
            if worker is None
            else {
                "nik": worker.nik,
                "name": worker.name,
                "birth_date": worker.birth_date.isoformat(),
                "sex": worker.sex,
                "desa_code": worker.desa_code,
                "sector": worker.sector,
                "kpj": worker.kpj,
            },
            "events": events,
            "documents": exported,
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for n, d in enumerate(docs, 1):
                path = self.safe_file(d["path"])
                if path is None:
                    continue
                name = f"{n:02d}-{d['kind']}{path.suffix}"
                zf.write(path, name)
                exported.append({"file": name, "kind": d["kind"], "sha256": d["sha256"]})
            zf.writestr(
                "summary.json", json.dumps(summary, ensure_ascii=False, indent=2, default=str)
            )
        return Response(
            buffer.getvalue(),
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="{ref}.zip"',
                "Cache-Control": "no-store",
            },
        )

    # -- registrations -------------------------------------------------------------------------

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

    # -- tickets -------------------------------------------------------------------------------

    async def tickets(self, c: Call) -> Response:
        include_closed = c.request.query_params.get("all") == "1"
        async with self.db.read() as r:
            rows = await console_repo.tickets_in_scope(
                r, kecamatan=c.staff.kecamatan, include_closed=include_closed
            )
        items = [
            {
                "id": x["id"],
                "ref": services.ticket_ref(x["id"]),
                "status": labels.label(c.t, labels.TICKET_STATUS, x["status"]),
                "escalated": x["escalated_at"] is not None,
                "who": x["worker_name"] or x["display_name"] or "-",
                "channel": labels.label(c.t, labels.CHANNEL, x["channel"]),
                "desa": self.desa_text(x["desa_code"]),
                "last": (x["last_body"] or "")[:140],
                "at": c.t.datetime(_wib(x["updated_at"])),  # type: ignore[arg-type]
            }
            for x in rows
        ]
        return self.page(c, "tickets.html", items=items, include_closed=include_closed)

    async def ticket(self, c: Call, *, status: int = 200, message: str | None = None) -> Response:
        ticket_id = _int(c.path("id"), 0)
        async with self.db.read() as r:
            row = await admin_repo.ticket_row(r, ticket_id)
            if row is None:
                return not_found(c.t)
            messages = await services.ticket_messages(r, ticket_id)
        sender = {"user": c.t("Warga"), "facilitator": c.t("Pendamping"), "admin": c.t("Petugas")}
        return self.page(
            c,
            "ticket.html",
            status=status,
            ticket={
                "id": ticket_id,
                "ref": services.ticket_ref(ticket_id),
                "status": labels.label(c.t, labels.TICKET_STATUS, row["status"]),
                "closed": row["status"] == "closed",
                "who": row["worker_name"] or row["display_name"] or "-",
                "channel": labels.label(c.t, labels.CHANNEL, row["channel"]),
                "desa": self.desa_text(row["desa_code"]),
            },
            messages=[
                {
                    "who": sender.get(m["sender"], m["sender"]),
                    "mine": m["sender"] != "user",
                    "body": m["body"] or c.t("(foto atau berkas)"),
                    "at": c.t.datetime(_wib(m["at"])),  # type: ignore[arg-type]
                }
                for m in messages
            ],
            message=message,
        )

    async def ticket_reply(self, c: Call) -> Response:
        ticket_id = _int(c.path("id"), 0)
        body = c.field("message")
        if not body:
            return await self.ticket(c, status=400, message=c.t("Tulis jawabannya dulu."))
        try:
            async with self.db.tx() as tx:
                await services.reply_to_ticket(
                    tx,
                    ticket_id=ticket_id,
                    body=body,
                    sender="admin",
                    actor_id=c.staff.actor_ref,
                    now=c.now,
                    channel=CHANNEL,
                )
        except DomainError as exc:
            return await self.ticket(c, status=409, message=labels.error_text(c.t, exc.code))
        return RedirectResponse(f"/console/tickets/{ticket_id}?msg=replied", status_code=303)

    async def ticket_close(self, c: Call) -> Response:
        ticket_id = _int(c.path("id"), 0)
        try:
            async with self.db.tx() as tx:
                await services.close_ticket(
                    tx,
                    ticket_id=ticket_id,
                    actor_kind="admin",
                    actor_id=c.staff.actor_ref,
                    now=c.now,
                    channel=CHANNEL,
                )
        except DomainError as exc:
            return self.error(c, exc)
        return RedirectResponse("/console/tickets?msg=closed", status_code=303)

    # -- facilitators --------------------------------------------------------------------------

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

    # -- outbox --------------------------------------------------------------------------------

    async def outbox(self, c: Call) -> Response:
        async with self.db.read() as r:
            counts = await admin_repo.outbox_counts(r)
            dead = await outbox_repo.dead_letters(r, limit=50)
        by_status: dict[str, int] = {}
        rows = []
        for channel, msg_class, status, n in sorted(counts):
            by_status[status] = by_status.get(status, 0) + n
            rows.append(
                [
                    labels.label(c.t, labels.CHANNEL, channel),
                    msg_class,
                    labels.label(c.t, labels.OUTBOX_STATUS, status),
                    n,
                ]
            )
        return self.page(
            c,
            "outbox.html",
            rows=rows,
            summary=[
                (labels.label(c.t, labels.OUTBOX_STATUS, s), n)
                for s, n in sorted(by_status.items())
            ],
            dead=[
                {
                    "id": x.id,
                    "channel": labels.label(c.t, labels.CHANNEL, x.channel),
                    "status": labels.label(c.t, labels.OUTBOX_STATUS, x.status),
                    "attempts": x.attempts,
                    "error": (x.last_error or "")[:160],
                }
                for x in dead
            ],
        )

    async def outbox_requeue(self, c: Call) -> Response:
        async with self.db.tx() as tx:
            n = await admin_repo.requeue_outbox(tx, now=c.now, statuses=("failed", "dead"))
            await _audit(tx, c, "outbox.requeue", "outbox", details={"rows": n})
        return RedirectResponse("/console/outbox?msg=requeued", status_code=303)

    # -- roster import -------------------------------------------------------------------------

    async def roster(self, c: Call) -> Response:
        return self.page(c, "roster.html", report=None, issues=[], error=None)

    async def roster_import(self, c: Call) -> Response:
        upload = c.form.get("file") if c.form is not None else None
        if upload is None or isinstance(upload, str) or not upload.filename:
            return self.page(
                c,
                "roster.html",
                status=400,
                report=None,
                issues=[],
                error=c.t("Pilih berkas CSV atau Excel (XLSX) dulu."),
            )
        data = await upload.read()
        name = upload.filename.lower()
        skip = c.field("skip_invalid") == "1"
        with tempfile.TemporaryDirectory(prefix="roster-") as folder:
            path = Path(folder) / "roster.csv"
            if name.endswith(".xlsx"):
                try:
                    await asyncio.to_thread(_xlsx_to_csv, data, path)
                except Exception:
                    return self.page(
                        c,
                        "roster.html",
                        status=400,
                        report=None,
                        issues=[],
                        error=c.t("Berkas Excel tidak bisa dibaca."),
                    )
            else:
                await asyncio.to_thread(path.write_bytes, data)
            try:
                report = await import_roster(
                    self.db,
                    path,
                    now=c.now,
                    today=c.now.astimezone(WIB).date(),
                    skip_invalid=skip,
                )
            except RosterFormatError as exc:
                text = labels.ROSTER_REASON.get(exc.code)
                return self.page(
                    c,
                    "roster.html",
                    status=400,
                    report=None,
                    issues=[],
                    error=c.t(text) if text else labels.error_text(c.t, exc.code),
                )
        async with self.db.tx() as tx:
            await _audit(
                tx,
                c,
                "roster.import",
                "roster",
                details={
                    "file": upload.filename[:80],
                    "rows": report.rows,
                    "inserted": report.inserted,
                    "updated": report.updated,
                    "rejected": report.rejected,
                    "committed": report.committed,
                },
            )
        issues = [
            {"line": i.line, "text": labels.roster_issue(c.t, i.column, i.code)}
            for i in report.errors[:200]
        ]
        return self.page(
            c,
            "roster.html",
            status=200 if report.committed else 422,
            report=report,
            issues=issues,
            error=None,
        )

    # -- reports ---------------------------------------------------------------------------

    async def reports_page(self, c: Call) -> Response:
        today = c.now.astimezone(WIB).date()
        built = []
        async with self.db.read() as r:
            for name in reports.REPORTS:
                rep = await reports.build_report(
                    r, name, t=c.t, today=today, kecamatan=c.staff.kecamatan
                )
                built.append(
                    {
                        "report": rep,
                        "chart": reports.bar_chart(rep.bars, title=rep.title, t=c.t),
                    }
                )
        return self.page(c, "reports.html", reports=built)

    async def report_download(self, c: Call) -> Response:
        name, fmt = c.path("name"), c.path("fmt")
        if name not in reports.REPORTS or fmt not in ("csv", "xlsx"):
            return not_found(c.t)
        today = c.now.astimezone(WIB).date()
        async with self.db.read() as r:
            rep = await reports.build_report(
                r, name, t=c.t, today=today, kecamatan=c.staff.kecamatan
            )
        filename = f"lingkaran-{name}-{today.isoformat()}.{fmt}"
        if fmt == "csv":
            body, media = reports.to_csv(rep), "text/csv; charset=utf-8"
        else:
            body = reports.to_xlsx(rep)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


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


def jkk_clock(
    t: Translator, claim_type: str, status: str, row: Any, now: datetime
) -> dict[str, Any] | None:
    """The 2×24 h tahap I clock of an open JKK report (None for anything else)."""
    if claim_type != ClaimType.JKK.value or status not in (
        "submitted",
        "in_review",
        "documents_requested",
    ):
        return None
    event_at = row["event_at"]
    accident = _wib(event_at) if event_at else at_wib(date.fromisoformat(row["event_date"]))
    assert accident is not None
    left = claim_rules.hours_left(claim_rules.jkk_report_deadline(accident), now)
    if left >= 0:
        return {"late": False, "text": t("sisa {hours} jam", hours=int(left)), "urgent": left < 12}
    return {"late": True, "text": t("lewat {hours} jam", hours=int(-left)), "urgent": True}


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


def _xlsx_to_csv(data: bytes, path: Path) -> None:
    """The first sheet of a workbook as a UTF-8 CSV for the roster importer."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    ws = wb.worksheets[0]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        for row in ws.iter_rows(values_only=True):
            writer.writerow(["" if v is None else _cell_text(v) for v in row])
    wb.close()


def _cell_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
