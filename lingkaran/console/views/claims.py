"""The claims queue and one claim's page: status moves, documents, NIK reveal, the export for
BPJS TK, and the JKK tahap I clock shown on both.

Both also show the truth of each claim (issue 14): what the roster said about protection on the
event date (anything but protected is "perlu dicek"), and for JKK the stage and where the tahap I
notice stands (forwarded at, due by, overdue since: ``services.notice_state``). The queue filters
on both, and a claim's page records "Tahap I sudah diteruskan ke BPJS TK" through
``services.mark_notice_sent``.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from starlette.responses import RedirectResponse, Response

from handlers.i18n import N_, Translator
from handlers.outbound import EVENT_COVERAGE_WORDS, TO_MATCH
from lingkaran.console import labels
from lingkaran.console.guard import Call, forbidden, not_found
from lingkaran.console.views.shared import (
    CHANNEL,
    PAGE_SIZE,
    ViewsBase,
    _audit,
    _date,
    _int,
    _wib,
    file_response,
)
from lingkaran_core import claims as claim_rules
from lingkaran_core import services
from lingkaran_core.claims import Actor, ClaimStatus, ClaimType, JKKStage
from lingkaran_core.clock import at_wib, wib_today
from lingkaran_core.coverage import coverage_status
from lingkaran_core.errors import DomainError
from lingkaran_core.identity import mask_nik, mask_phone
from lingkaran_core.services import NoticeState
from lingkaran_core.storage import console_repo
from lingkaran_core.storage.db import Tx
from lingkaran_core.storage.repos import Claim, claim_by_ref, claim_events, worker_by_id


class ClaimPages(ViewsBase):
    """The claims queue and a claim's page."""

    async def claims(self, c: Call) -> Response:
        q = c.request.query_params
        kec = c.staff.kecamatan or (q.get("kecamatan") or None)
        page_no = max(1, _int(q.get("page"), 1))
        notice = q.get("notice") if q.get("notice") in NOTICE_FILTERS else None
        f = console_repo.QueueFilter(
            status=q.get("status") if q.get("status") in labels.STATUS else None,
            type=q.get("type") if q.get("type") in labels.TYPE else None,
            kecamatan=kec,
            desa_code=q.get("desa") or None,
            date_from=_date(q.get("from")),
            date_to=_date(q.get("to")),
            open_only=q.get("open") == "1",
            flagged=q.get("flagged") == "1",
            notice=notice,
            sort="newest" if q.get("sort") == "newest" else "deadline",
            limit=PAGE_SIZE,
            offset=(page_no - 1) * PAGE_SIZE,
        )
        async with self.db.read() as r:
            if notice == "overdue":
                overdue = await services.overdue_notices(r, now=c.now)
                f = replace(f, overdue_day=overdue.day, overdue_ids=overdue.ids)
            rows = await console_repo.queue_claims(r, f)
            total = await console_repo.count_claims(r, f)
        items = []
        for row in rows:
            checklist = json.loads(row["checklist"] or "[]")
            state = _notice_of_row(row, c.now)
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
                    "clock": None
                    if state is not None and state.sent_at is not None
                    else jkk_clock(c.t, row["type"], row["status"], row, c.now),
                    "late": bool(row["late_report"]),
                    "coverage": coverage_badge(c.t, row["event_coverage"]),
                    "notice": notice_badge(c.t, state),
                    "stage": stage_label(c.t, row["type"], json.loads(row["answers"] or "{}")),
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
            notice_filters=[(k, c.t(v)) for k, v in NOTICE_FILTERS.items()],
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
        notice = services.notice_state(
            claim_type=claim.type,
            status=claim.status,
            event_at=_wib(claim.event_at),
            event_date=claim.event_date,
            notice_sent_at=_wib(claim.notice_sent_at),
            now=c.now,
        )
        truth = [coverage_sentence(t, claim.event_coverage, claim.event_date)]
        if notice is not None:
            truth.append(stage_sentence(t, claim.answers))
            truth.append(notice_sentence(t, notice))
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
            (
                t("Menurut data saat laporan masuk"),
                coverage_badge(t, claim.event_coverage)["label"],
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
            "truth": truth,
            "coverage": coverage_badge(t, claim.event_coverage),
            "notice": notice,
            "notice_badge": notice_badge(t, notice),
            "clock": None
            if notice is not None and notice.sent_at is not None
            else jkk_clock(
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

    async def claim_notice(self, c: Call) -> Response:
        """Staff record that the JKK tahap I notice was forwarded to BPJS TK (the 2×24 h alert
        stops); audited with the staff account by the service."""
        ref = c.path("ref")
        try:
            async with self.db.tx() as tx:
                await services.mark_notice_sent(
                    tx,
                    ref,
                    now=c.now,
                    actor_ref=c.staff.actor_ref,
                    actor_kind="staff",
                    channel=CHANNEL,
                )
        except DomainError as exc:
            return self.error(c, exc, status=404)
        return RedirectResponse(f"/console/claims/{ref}?msg=notice", status_code=303)

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
                    "event_coverage",
                    "notice_sent_at",
                )
            }
            | {"event_date": claim.event_date.isoformat()}
            | (
                {"jkk_stage": int(services.jkk_stage(claim))} if claim.type == ClaimType.JKK else {}
            ),
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


NOTICE_FILTERS: dict[str, str] = {
    "unsent": N_("Belum diteruskan"),
    "overdue": N_("Lewat batas 2×24 jam"),
}


def _notice_of_row(row: Any, now: datetime) -> NoticeState | None:
    return services.notice_state(
        claim_type=row["type"],
        status=row["status"],
        event_at=_wib(row["event_at"]),
        event_date=date.fromisoformat(row["event_date"]),
        notice_sent_at=_wib(row["notice_sent_at"]),
        now=now,
    )


def coverage_badge(t: Translator, code: str | None) -> dict[str, Any]:
    """The event-date coverage as a badge: anything but protected is flagged "perlu dicek"."""
    label = labels.label(t, labels.EVENT_COVERAGE, code) if code else t(labels.NOT_COMPUTED)
    return {"code": code or "none", "label": label, "flagged": code != "protected"}


def notice_badge(t: Translator, state: NoticeState | None) -> dict[str, Any] | None:
    """The tahap I notice in a few words: forwarded at, due by, or overdue since."""
    if state is None:
        return None
    if state.sent_at is not None:
        return {"kind": "sent", "text": t("Diteruskan {at}", at=t.datetime(state.sent_at))}
    if state.closed:
        return {"kind": "closed", "text": t("Tidak tercatat diteruskan")}
    if state.overdue:
        return {"kind": "overdue", "text": t("Lewat batas sejak {at}", at=t.datetime(state.due))}
    return {"kind": "due", "text": t("Batas {at}", at=t.datetime(state.due))}


def stage_label(t: Translator, claim_type: str, answers: dict[str, Any]) -> str | None:
    """ "Tahap I" / "Tahap II" of a JKK claim (None for the others)."""
    if claim_type != ClaimType.JKK.value:
        return None
    if services.stage_of_answers(answers) is JKKStage.BENEFIT:
        return t("Tahap II")
    return t("Tahap I")


def coverage_sentence(t: Translator, code: str | None, event_date: date) -> str:
    """What the roster said about protection on the event date, as one sentence for staff."""
    day = t.date(event_date)
    if code == "protected":
        return t(
            "Menurut data Pemkab saat laporan masuk, peserta terlindungi pada hari kejadian "
            "({day}).",
            day=day,
        )
    if not code:
        return t(
            "Perlu dicek: laporan ini masuk sebelum status pada hari kejadian ({day}) dicatat; "
            "cocokkan dengan data peserta.",
            day=day,
        )
    why = t(EVENT_COVERAGE_WORDS.get(code, TO_MATCH))
    return t(
        "Perlu dicek: menurut data Pemkab saat laporan masuk, {why} ({day}). Laporan tetap "
        "tercatat; periksa kepesertaan sebelum meneruskannya ke BPJS TK.",
        why=why,
        day=day,
    )


def stage_sentence(t: Translator, answers: dict[str, Any]) -> str:
    """Which stage a JKK claim is in, and what that stage asks for."""
    if services.stage_of_answers(answers) is JKKStage.BENEFIT:
        return t(
            "Tahap II (klaim manfaat): dokter sudah menyatakan sembuh, cacat, atau meninggal; "
            "surat dokter (KK3/3b) dan berkas pembayaran diminta sekarang."
        )
    return t(
        "Tahap I (pemberitahuan): NIK/KPJ, kronologi dan kontak dari laporan ini; tahap II "
        "dibuka setelah dokter menyatakan sembuh, cacat, atau meninggal."
    )


def notice_sentence(t: Translator, state: NoticeState) -> str:
    """Where the tahap I notice stands, in one sentence (2×24 h, weekends counted)."""
    if state.sent_at is not None:
        return t(
            "Pemberitahuan tahap I sudah diteruskan ke BPJS TK pada {at}.",
            at=t.datetime(state.sent_at),
        )
    if state.closed:
        return t("Klaim sudah selesai; penerusan pemberitahuan tahap I tidak tercatat.")
    days_off = " " + t("Sabtu, Minggu dan hari libur ikut dihitung.") if state.days_off else ""
    if state.overdue:
        return (
            t(
                "Pemberitahuan tahap I belum tercatat diteruskan ke BPJS TK; batas 2×24 jam "
                "sejak kecelakaan sudah lewat sejak {at}.",
                at=t.datetime(state.due),
            )
            + days_off
        )
    return (
        t(
            "Pemberitahuan tahap I belum tercatat diteruskan ke BPJS TK; batasnya {at} (2×24 "
            "jam sejak kecelakaan).",
            at=t.datetime(state.due),
        )
        + days_off
    )
