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
from lingkaran_core.clock import WIB
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
                _flags(c),
            ]
        )
    out(
        table(
            ["Ref", "Type", "Status", "Event", "Desa", "Subject", "Reported", "Docs", "Check"],
            table_rows,
        )
    )
    return 0


def _flags(c: Any) -> str:
    """LATE, the coverage on the event date when it was not protected (a case to check), and
    a JKK whose tahap I notice is not recorded as forwarded."""
    flags = []
    if c["late_report"]:
        flags.append("LATE")
    coverage = c["event_coverage"]
    if coverage and coverage != "protected":
        flags.append(f"CHECK:{coverage}")
    if c["type"] == "JKK" and not c["notice_sent_at"] and c["status"] not in _CLOSED:
        flags.append("NOTICE?")
    return " ".join(flags)


_CLOSED = frozenset({"paid", "rejected", "withdrawn"})


async def _claim_details(tx: Tx, claim: Claim) -> dict[str, Any]:
    events = await claim_events(tx, claim.id)
    docs = await admin_repo.claim_documents(tx, claim.id)
    received = sorted({d["kind"] for d in docs if not d["replaced_at"]})
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
        ("On event date", claim.event_coverage or "-"),
        ("Claimant", claim.claimant_name),
        ("Relation", claim.relation),
        ("Reporter chat", claim.reporter_chat_id),
        ("Facilitator", claim.facilitator_id),
    ]
    if claim.type == "JKK":
        notice = claim.notice_sent_at
        fields.append(("Tahap I notice", f"forwarded {wib(notice)}" if notice else "not recorded"))
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
                ["Kind", "Type", "Bytes", "Received", "File", "Replaced"],
                [
                    [
                        x["kind"],
                        x["mime"],
                        x["size"],
                        wib(x["received_at"]),
                        x["path"],
                        wib(x["replaced_at"]) if x["replaced_at"] else "",
                    ]
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


def _payment(
    args: argparse.Namespace, claim: Claim, target: ClaimStatus
) -> services.Payment | None:
    """What BPJS TK paid: required when setting ``paid`` (the figures count recorded amounts)."""
    given = args.amount is not None or args.paid_on is not None or args.bank is not None
    if target is not ClaimStatus.PAID:
        if given:
            raise CliError("--amount, --paid-on and --bank go with the status paid")
        return None
    if args.amount is None:
        raise CliError(
            f"setting {claim.ref} paid needs --amount RUPIAH (what BPJS TK paid); "
            "--paid-on YYYY-MM-DD and --bank are optional"
        )
    if args.amount < 0:
        raise CliError("--amount must be 0 or more")
    paid_on = args.paid_on or args.clock().astimezone(WIB).date()
    return services.Payment(amount=args.amount, paid_on=paid_on, bank=args.bank)


async def _claims_set_status(db: Database, args: argparse.Namespace) -> int:
    target = ClaimStatus(args.status)
    async with db.tx() as tx:
        claim = await _claim_or_fail(tx, args.ref)
        current = ClaimStatus(claim.status)
        if target in allowed_targets(current, actor=Actor.ADMIN):
            payment = _payment(args, claim, target)
        else:
            payment = None  # the transition check below explains what is allowed
        send_back = tuple(args.send_back or ())
        unknown = [k for k in send_back if k not in claim.checklist]
        if unknown:
            raise CliError(
                f"--send-back {', '.join(unknown)}: not on {claim.ref}'s checklist "
                f"({', '.join(claim.checklist)})"
            )
        if send_back and target is not ClaimStatus.DOCUMENTS_REQUESTED:
            raise CliError("--send-back goes with the status documents_requested")
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
                payment=payment,
                send_back=send_back,
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
    if payment is not None:
        out(f"recorded paid: Rp{payment.amount:,} on {payment.paid_on}".replace(",", "."))
    return 0


async def _claims_notice_sent(db: Database, args: argparse.Namespace) -> int:
    """The OPD forwarded the JKK tahap I notice to BPJS TK: the 2×24 h alert stops."""
    async with db.tx() as tx:
        claim = await _claim_or_fail(tx, args.ref)
        if claim.type != "JKK":
            raise CliError(f"{claim.ref} is a {claim.type} claim: only JKK has a tahap I notice")
        updated = await services.mark_notice_sent(
            tx, claim.ref, now=args.clock(), actor_ref=args.settings.admin_actor
        )
    out(f"{updated.ref}: tahap I notice recorded as forwarded {wib(updated.notice_sent_at)}")
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
