"""Admin commands: The claims queue: list, show, status changes, export for BPJS TK."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from lingkaran.channels.admin.common import (
    CliError,
    _cell,
    _resolve_desa,
    desa_label,
    out,
    sector_label,
    table,
    wib,
)
from lingkaran_core import services
from lingkaran_core.claims import (
    Actor,
    ClaimStatus,
    allowed_targets,
)
from lingkaran_core.coverage import coverage_status
from lingkaran_core.errors import IllegalTransition
from lingkaran_core.identity import mask_nik
from lingkaran_core.regions import load_regions
from lingkaran_core.storage import Database, Tx, admin_repo
from lingkaran_core.storage.repos import (
    Claim,
    claim_by_ref,
    claim_events,
    worker_by_id,
)

# -- claims ------------------------------------------------------------------------------------------


async def _claim_or_fail(tx: Tx, ref: str) -> Claim:
    claim = await claim_by_ref(tx, ref.strip())
    if claim is None:
        raise CliError(f"no claim {ref.strip().upper()}")
    return claim


async def _claims_list(db: Database, args: argparse.Namespace) -> int:
    wanted = admin_repo.ClaimFilter(
        status=args.status,
        type=args.type,
        desa_code=_resolve_desa(args.desa).code if args.desa else None,
        limit=args.limit,
    )
    async with db.read() as r:
        rows = await admin_repo.list_claims(r, wanted)
    if not rows:
        out("no claims match")
        return 0
    table_rows = []
    for c in rows:
        regions = load_regions()
        desa = regions.desa(c["desa_code"]) if c["desa_code"] else None
        subject = c["subject_name"] or "-"
        if c["subject_nik"]:
            subject += f" ({mask_nik(c['subject_nik'])})"
        needed = len(json.loads(c["checklist"] or "[]"))
        table_rows.append(
            [
                c["ref"],
                c["type"],
                c["status"],
                c["event_date"],
                desa.name if desa else "-",
                subject,
                wib(c["reported_at"]),
                f"{c['docs']}/{needed}",
                "LATE" if c["late_report"] else "",
            ]
        )
    out(
        table(
            ["Ref", "Type", "Status", "Event", "Desa", "Subject", "Reported", "Docs", ""],
            table_rows,
        )
    )
    return 0


async def _claim_details(tx: Tx, claim: Claim) -> dict[str, Any]:
    events = await claim_events(tx, claim.id)
    docs = await admin_repo.claim_documents(tx, claim.id)
    received = sorted({d["kind"] for d in docs})
    worker = None if claim.worker_id is None else await worker_by_id(tx, claim.worker_id)
    return {
        "events": [dict(e) for e in events],
        "documents": [dict(d) for d in docs],
        "missing": services.missing_documents(claim, received),
        "worker": worker,
    }


async def _claims_show(db: Database, args: argparse.Namespace) -> int:
    async with db.read() as r:
        claim = await _claim_or_fail(r, args.ref)
        d = await _claim_details(r, claim)
    fields: list[tuple[str, object]] = [
        ("Ref", claim.ref),
        ("Type", claim.type),
        ("Status", claim.status),
        ("Event date", claim.event_date),
        ("Reported", wib(claim.reported_at) + ("  (LATE)" if claim.late_report else "")),
        ("Desa", desa_label(claim.desa_code)),
        ("Subject", claim.subject_name),
        ("Subject NIK", mask_nik(claim.subject_nik) if claim.subject_nik else None),
        ("On roster", f"worker #{claim.worker_id}" if claim.worker_id else "no (match by hand)"),
        ("Claimant", claim.claimant_name),
        ("Relation", claim.relation),
        ("Reporter chat", claim.reporter_chat_id),
        ("Facilitator", claim.facilitator_id),
    ]
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        out(f"{key.ljust(width)}  {_cell(value)}")
    answers = {k: v for k, v in claim.answers.items() if k != "demo"}
    if answers:
        out(f"{'Answers'.ljust(width)}  {json.dumps(answers, ensure_ascii=False)}")
    out()
    out("History:")
    out(
        table(
            ["At", "From", "To", "Actor", "Channel", "Note"],
            [
                [
                    wib(e["at"]),
                    e["from_status"],
                    e["to_status"],
                    e["actor"],
                    e["channel"],
                    e["note"],
                ]
                for e in d["events"]
            ],
        )
    )
    out()
    if d["documents"]:
        out("Documents:")
        out(
            table(
                ["Kind", "Type", "Bytes", "Received", "File"],
                [
                    [x["kind"], x["mime"], x["size"], wib(x["received_at"]), x["path"]]
                    for x in d["documents"]
                ],
            )
        )
    else:
        out("Documents: none yet")
    out(f"Missing: {', '.join(d['missing']) if d['missing'] else 'nothing'}")
    nexts = allowed_targets(ClaimStatus(claim.status), actor=Actor.ADMIN)
    out(f"Admin can set: {', '.join(nexts) if nexts else '(final state)'}")
    return 0


async def _claims_set_status(db: Database, args: argparse.Namespace) -> int:
    target = ClaimStatus(args.status)
    async with db.tx() as tx:
        claim = await _claim_or_fail(tx, args.ref)
        try:
            updated = await services.transition_claim(
                tx,
                claim.ref,
                target,
                actor=Actor.ADMIN,
                now=args.clock(),
                actor_ref=args.settings.admin_actor,
                channel="admin",
                note=args.note,
            )
        except IllegalTransition as exc:
            current = ClaimStatus(claim.status)
            allowed = allowed_targets(current, actor=Actor.ADMIN)
            if exc.code == "claim.reason_required":
                raise CliError(f"rejecting {claim.ref} needs a reason: add --note TEXT") from None
            options = ", ".join(allowed) if allowed else "none (final state)"
            raise CliError(
                f"cannot move {claim.ref} from {current} to {target}; allowed for the admin: "
                f"{options}"
            ) from None
    out(f"{updated.ref}: {claim.status} -> {updated.status} (notifications queued)")
    return 0


def _summary_text(claim: Claim, d: dict[str, Any], cov: str | None) -> str:
    w = d["worker"]
    lines = [
        f"LAPORAN KLAIM {claim.ref} - Lingkaran Cinta (Pemkab Jember)",
        "PERHATIAN: berisi NIK lengkap (data pribadi). Hanya untuk diteruskan ke BPJS "
        "Ketenagakerjaan; simpan dan kirim dengan aman.",
        "",
        f"Jenis klaim        : {claim.type}",
        f"Status             : {claim.status}",
        f"Tanggal kejadian   : {claim.event_date}",
        f"Dilaporkan         : {wib(claim.reported_at)}"
        + (" (TERLAMBAT)" if claim.late_report else ""),
        f"Desa               : {desa_label(claim.desa_code)}",
        "",
        "PESERTA",
        f"Nama               : {claim.subject_name or (w.name if w else '-')}",
        f"NIK                : {claim.subject_nik or (w.nik if w else '-')}",
    ]
    if w is not None:
        lines += [
            f"Tanggal lahir      : {w.birth_date}",
            f"KPJ                : {w.kpj or '-'}",
            f"Sektor             : {sector_label(w.sector)}",
            f"Pekerjaan          : {w.occupation or '-'}",
            f"Mulai perlindungan : {w.coverage_start or '-'}",
            f"Iuran dibayar s.d. : {w.paid_through or '-'}",
            f"Status pada tanggal kejadian: {cov}",
        ]
    else:
        lines.append("Tidak ditemukan di daftar peserta: cocokkan manual.")
    lines += [
        "",
        "PELAPOR / AHLI WARIS",
        f"Nama               : {claim.claimant_name or '-'}",
        f"NIK                : {claim.claimant_nik or '-'}",
        f"No. HP             : {claim.claimant_phone or '-'}",
        f"Hubungan           : {claim.relation or '-'}",
        "",
        "DOKUMEN",
    ]
    for i, doc in enumerate(d["documents"], 1):
        lines.append(f"  {i}. {doc['kind']} ({doc['mime']}, {doc['size']} byte) {doc['file']}")
    lines.append(f"Kurang: {', '.join(d['missing']) if d['missing'] else 'tidak ada'}")
    lines += ["", "RIWAYAT"]
    for e in d["events"]:
        lines.append(
            f"  {wib(e['at'])}  {e['from_status'] or '-'} -> {e['to_status']}  ({e['actor']})"
            + (f"  {e['note']}" if e["note"] else "")
        )
    answers = {k: v for k, v in claim.answers.items() if k != "demo"}
    if answers:
        lines += ["", "JAWABAN", json.dumps(answers, ensure_ascii=False, indent=2)]
    return "\n".join(lines) + "\n"


def _copy_documents(folder: Path, documents: list[dict[str, Any]]) -> None:
    """Copy a claim's files into ``folder/dokumen`` and note each copy's name."""
    docs_dir = folder / "dokumen"
    docs_dir.mkdir(parents=True, exist_ok=True)
    for i, doc in enumerate(documents, 1):
        source = Path(doc["path"])
        target = docs_dir / f"{i:02d}-{doc['kind']}{source.suffix}"
        if source.is_file():
            shutil.copyfile(source, target)
            doc["file"] = f"dokumen/{target.name}"
        else:
            doc["file"] = "(FILE MISSING on the server)"


def _write_summaries(folder: Path, text: str, summary: dict[str, Any]) -> None:
    (folder / "summary.txt").write_text(text, encoding="utf-8")
    (folder / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )


async def _claims_export(db: Database, args: argparse.Namespace) -> int:
    async with db.tx() as tx:
        claim = await _claim_or_fail(tx, args.ref)
        d = await _claim_details(tx, claim)
        folder = Path(args.out) / claim.ref
        await asyncio.to_thread(_copy_documents, folder, d["documents"])
        w = d["worker"]
        cov = None
        if w is not None:
            cov = coverage_status(
                start=w.coverage_start, paid_through=w.paid_through, today=claim.event_date
            ).status.value
        text = _summary_text(claim, d, cov)
        summary = {
            "notice": "Contains full NIKs (personal data): only for forwarding to BPJS TK.",
            "claim": {
                "ref": claim.ref,
                "type": claim.type,
                "status": claim.status,
                "event_date": claim.event_date.isoformat(),
                "event_at": claim.event_at,
                "reported_at": claim.reported_at,
                "late_report": claim.late_report,
                "desa_code": claim.desa_code,
                "subject_name": claim.subject_name,
                "subject_nik": claim.subject_nik,
                "claimant_name": claim.claimant_name,
                "claimant_nik": claim.claimant_nik,
                "claimant_phone": claim.claimant_phone,
                "relation": claim.relation,
                "answers": claim.answers,
                "checklist": claim.checklist,
                "missing_documents": d["missing"],
            },
            "worker": None
            if w is None
            else {
                "nik": w.nik,
                "name": w.name,
                "birth_date": w.birth_date.isoformat(),
                "sex": w.sex,
                "desa_code": w.desa_code,
                "sector": w.sector,
                "occupation": w.occupation,
                "kpj": w.kpj,
                "coverage_start": None
                if w.coverage_start is None
                else w.coverage_start.isoformat(),
                "paid_through": None if w.paid_through is None else w.paid_through.isoformat(),
                "coverage_on_event_date": cov,
            },
            "documents": [
                {k: doc[k] for k in ("kind", "mime", "size", "sha256", "received_at", "file")}
                for doc in d["documents"]
            ],
            "events": d["events"],
        }
        await asyncio.to_thread(_write_summaries, folder, text, summary)
        await services.audit(
            tx,
            now=args.clock(),
            actor_kind="admin",
            actor_id=args.settings.admin_actor,
            action="claim.export",
            target_kind="claim",
            target_id=claim.ref,
            channel="admin",
            details={"documents": len(d["documents"])},
        )
    out(
        f"exported {claim.ref} to {folder}: summary.txt, summary.json, {len(d['documents'])} documents"
    )
    out("It contains full NIKs: hand it only to BPJS Ketenagakerjaan, over a safe channel.")
    if d["missing"]:
        out(f"still missing: {', '.join(d['missing'])}")
    return 0
