"""The reports over regions and time: participants by kecamatan (sorted bar chart), claims by type
and status per month (line chart), benefits paid per month (JKK, JKM, scholarship: counts and
the RECORDED sums, as ``lingkaran_core.stats`` counts them), messages sent and read.

``build`` returns a ``reports.Report`` (the same CSV/XLSX downloads); a trend report carries its
own ``chart`` (SVG). Everything comes from recorded data in the viewer's scope.
"""

from __future__ import annotations

from datetime import date

from handlers.i18n import N_, Translator
from lingkaran.console import labels
from lingkaran.console.charts import line_chart
from lingkaran.console.reports import Report, bar_chart
from lingkaran_core.claims import ClaimStatus, ClaimType
from lingkaran_core.regions import load_regions
from lingkaran_core.stats import _paid_day as paid_day  # the one rule for a claim's paid day
from lingkaran_core.stats import benefit_amount
from lingkaran_core.storage import report_repo
from lingkaran_core.storage.db import Tx

__all__ = ["TRENDS", "build"]

TRENDS = ("kecamatan", "claims_monthly", "benefits", "messages")
CLASS_LABEL = {
    "reminder": N_("Pengingat"),
    "broadcast": N_("Siaran"),
    "transactional": N_("Pemberitahuan"),
}


def _months(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from ``first`` to ``last``."""
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _month_label(t: Translator, month: str) -> str:
    return t.month(date.fromisoformat(month + "-01"))


async def build(tx: Tx, name: str, *, t: Translator, kecamatan: str | None) -> Report:
    """One trend report by name (see ``TRENDS``)."""
    if name == "kecamatan":
        return await _kecamatan(tx, t, kecamatan)
    if name == "claims_monthly":
        return await _claims_monthly(tx, t, kecamatan)
    if name == "benefits":
        return await _benefits(tx, t, kecamatan)
    if name == "messages":
        return await _messages(tx, t, kecamatan)
    raise KeyError(name)


async def _kecamatan(tx: Tx, t: Translator, kecamatan: str | None) -> Report:
    regions = load_regions()
    counts = await report_repo.workers_by_kecamatan(tx, kecamatan=kecamatan)
    if kecamatan is None:  # every kecamatan of Jember, the empty ones too
        for k in regions.all_kecamatan:
            counts.setdefault(k.code, 0)
    items = []
    for code, n in counts.items():
        found = regions.kecamatan(code) if code else None
        items.append([found.name if found else (code or t("tanpa desa")), code, n])
    items.sort(key=lambda r: (-int(r[2]), str(r[0])))  # type: ignore[call-overload]
    total = sum(int(r[2]) for r in items)  # type: ignore[call-overload]
    bars = [(str(r[0]), int(r[2])) for r in items]  # type: ignore[call-overload]
    title = t("Peserta menurut kecamatan")
    return Report(
        name="kecamatan",
        title=title,
        headers=[t("Kecamatan"), t("Kode"), t("Pekerja")],
        rows=[*items, [t("Jumlah"), "", total]],
        bars=bars,
        chart=bar_chart(bars, title=title, t=t),
    )


async def _claims_monthly(tx: Tx, t: Translator, kecamatan: str | None) -> Report:
    rows = await report_repo.claims_by_month(tx, kecamatan=kecamatan)
    statuses = [s.value for s in ClaimStatus if s != ClaimStatus.DRAFT]
    table: dict[tuple[str, str], dict[str, int]] = {}
    for month, claim_type, status, n in rows:
        per = table.setdefault((month, claim_type), {})
        per[status] = per.get(status, 0) + n
    months = _months(min(m for m, _ in table), max(m for m, _ in table)) if table else []
    types = [ct.value for ct in ClaimType]
    out: list[list[object]] = []
    for month in months:
        for ct in types:
            per = table.get((month, ct), {})
            if per:
                out.append(
                    [
                        month,
                        labels.label(t, labels.TYPE, ct),
                        *(per.get(s, 0) for s in statuses),
                        sum(per.values()),
                    ]
                )
    series = [
        (
            labels.label(t, labels.TYPE, ct),
            [float(sum(table.get((m, ct), {}).values())) for m in months],
        )
        for ct in types
    ]
    title = t("Klaim per bulan menurut jenis dan status")
    return Report(
        name="claims_monthly",
        title=title,
        headers=[
            t("Bulan"),
            t("Jenis"),
            *(labels.label(t, labels.STATUS, s) for s in statuses),
            t("Jumlah"),
        ],
        rows=out,
        bars=[(name, int(sum(v))) for name, v in series],
        chart=line_chart([_month_label(t, m) for m in months], series, title=title, t=t),
    )


async def _benefits(tx: Tx, t: Translator, kecamatan: str | None) -> Report:
    rows = await report_repo.paid_claims(tx, ClaimStatus.PAID.value, kecamatan=kecamatan)
    types = [ct.value for ct in ClaimType]
    by_month: dict[str, dict[str, list[int]]] = {}  # month -> type -> [count, rupiah]
    unrecorded: dict[str, int] = {}
    for claim_type, answers, paid_at in rows:
        day = paid_day(answers, paid_at)
        month = day.isoformat()[:7] if day else "-"
        cell = by_month.setdefault(month, {}).setdefault(claim_type, [0, 0])
        amount = benefit_amount(claim_type, answers)
        cell[0] += 1
        if amount is None:
            unrecorded[month] = unrecorded.get(month, 0) + 1
        else:
            cell[1] += amount
    dated = sorted(m for m in by_month if m != "-")
    months = _months(dated[0], dated[-1]) if dated else []
    if "-" in by_month:
        months.append("-")
    out: list[list[object]] = []
    totals = [0] * (2 * len(types) + 1)
    for month in months:
        per = by_month.get(month, {})
        row: list[object] = [month if month != "-" else t("tanpa tanggal")]
        for i, ct in enumerate(types):
            n, rp = per.get(ct, [0, 0])
            row += [n, rp]
            totals[2 * i] += n
            totals[2 * i + 1] += rp
        row.append(unrecorded.get(month, 0))
        totals[-1] += unrecorded.get(month, 0)
        out.append(row)
    out.append([t("Jumlah"), *totals])
    headers = [t("Bulan dibayar")]
    for ct in types:
        name = labels.label(t, labels.TYPE, ct)
        headers += [t("{type}: klaim", type=name), t("{type}: rupiah", type=name)]
    headers.append(t("Dibayar tanpa jumlah tercatat"))
    series = [
        (
            labels.label(t, labels.TYPE, ct),
            [float(by_month.get(m, {}).get(ct, [0, 0])[1]) for m in months if m != "-"],
        )
        for ct in types
    ]
    title = t("Manfaat dibayar per bulan (jumlah yang dicatat, rupiah)")
    x_labels = [_month_label(t, m) for m in months if m != "-"]
    return Report(
        name="benefits",
        title=title,
        headers=headers,
        rows=out,
        bars=[(name, int(sum(v))) for name, v in series],
        chart=line_chart(x_labels, series, title=title, t=t),
    )


async def _messages(tx: Tx, t: Translator, kecamatan: str | None) -> Report:
    rows = await report_repo.messages_by_key(tx, kecamatan=kecamatan)
    table: dict[tuple[str, str, str], list[int]] = {}  # -> [queued or held, sent, delivered, read]
    for msg_class, msg_key, channel, status, delivery, n in rows:
        cell = table.setdefault((msg_class, msg_key, channel), [0, 0, 0, 0])
        if status == "sent":
            cell[1] += n
            if delivery in ("delivered", "read"):
                cell[2] += n
            if delivery == "read":
                cell[3] += n
        elif status in ("queued", "sending", "held", "failed"):
            cell[0] += n
    out: list[list[object]] = []
    bars: list[tuple[str, int]] = []
    for (msg_class, msg_key, channel), (waiting, sent, delivered, read) in sorted(table.items()):
        # Only WhatsApp reports reads; elsewhere the rate is unknown, not zero.
        rate: object = round(100 * read / sent, 1) if sent and channel == "whatsapp" else "-"
        out.append(
            [
                labels.label(t, CLASS_LABEL, msg_class),
                msg_key,
                labels.label(t, labels.CHANNEL, channel),
                waiting,
                sent,
                delivered,
                read,
                rate,
            ]
        )
        if isinstance(rate, float):
            bars.append((f"{msg_key} ({labels.label(t, labels.CHANNEL, channel)})", round(rate)))
    bars.sort(key=lambda b: -b[1])
    title = t("Pesan terkirim dan dibaca")
    return Report(
        name="messages",
        title=title,
        headers=[
            t("Jenis pesan"),
            t("Kode pesan"),
            t("Saluran"),
            t("Menunggu"),
            t("Terkirim"),
            t("Sampai"),
            t("Dibaca"),
            t("Dibaca (%)"),
        ],
        rows=out,
        bars=bars,
        chart=bar_chart(bars, title=t("Persentase dibaca (WhatsApp)"), t=t),
    )
