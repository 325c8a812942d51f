"""The trend reports: participants by kecamatan (sorted), claims per month, benefits paid per
month with the recorded sums, messages sent and read; each as CSV and XLSX, in the viewer's scope."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook

from lingkaran.console import charts
from lingkaran_core import services
from lingkaran_core.claims import Actor, ClaimStatus
from lingkaran_core.storage.chats import get_or_create_chat
from tests.console.conftest import KALISAT, Seeded, client_for, login, user_of


def _xlsx(data: bytes) -> list[tuple[object, ...]]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))  # type: ignore[union-attr]


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def _pay(s: Seeded, amount: int) -> None:
    async with s.db.tx() as tx:
        for target in (ClaimStatus.FORWARDED_TO_BPJS, ClaimStatus.APPROVED, ClaimStatus.PAID):
            await services.transition_claim(
                tx,
                s.claim_ref,
                target,
                actor=Actor.ADMIN,
                now=s.clock(),
                actor_ref="test",
                payment=(
                    services.Payment(amount=amount, paid_on=date(2026, 11, 24))
                    if target is ClaimStatus.PAID
                    else None
                ),
            )


async def test_kecamatan_report_sorted_with_its_chart(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        rows = _xlsx((await c.get("/console/reports/kecamatan.xlsx")).content)
        assert rows[0] == ("Kecamatan", "Kode", "Pekerja")
        counts = [int(r[2]) for r in rows[1:-1]]  # type: ignore[call-overload]
        assert counts == sorted(counts, reverse=True)
        assert len(rows) - 2 >= 31  # every kecamatan of Jember, the empty ones too
        assert rows[-1][0] == "Jumlah"
        assert rows[-1][2] == 300
        assert any(r[1] == KALISAT and r[0] == "Kalisat" for r in rows)
        page = await c.get("/console/reports")
        assert page.text.count("<svg") == 7
        assert 'id="kecamatan"' in page.text
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "vina"))
        rows = _xlsx((await c.get("/console/reports/kecamatan.xlsx")).content)
        assert [r[1] for r in rows[1:-1]] == [KALISAT]


async def test_benefits_paid_by_month_count_the_recorded_sums(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        before = _xlsx((await c.get("/console/reports/benefits.xlsx")).content)
        await _pay(seeded, 5_000_000)
        after = _xlsx((await c.get("/console/reports/benefits.xlsx")).content)
        assert after[0][:3] == (
            "Bulan dibayar",
            "Kecelakaan kerja (JKK): klaim",
            "Kecelakaan kerja (JKK): rupiah",
        )
        assert after[0][-1] == "Dibayar tanpa jumlah tercatat"
        assert int(after[-1][1]) == int(before[-1][1]) + 1  # type: ignore[call-overload]
        assert int(after[-1][2]) == int(before[-1][2]) + 5_000_000  # type: ignore[call-overload]
        november = next(r for r in after if r[0] == "2026-11")
        assert int(november[2]) >= 5_000_000  # type: ignore[call-overload]
        text = _csv((await c.get("/console/reports/benefits.csv")).content)
        assert text[0][0] == "Bulan dibayar"
        page = await c.get("/console/reports")
        assert "Manfaat dibayar per bulan" in page.text
        assert "polyline" in page.text or "<circle" in page.text


async def test_claims_per_month(seeded: Seeded) -> None:
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        rows = _xlsx((await c.get("/console/reports/claims_monthly.xlsx")).content)
        assert rows[0][:2] == ("Bulan", "Jenis")
        assert rows[0][-1] == "Jumlah"
        months = [str(r[0]) for r in rows[1:]]
        assert months == sorted(months)
        assert any(r[0] == "2026-11" and r[1] == "Kecelakaan kerja (JKK)" for r in rows)
        total = sum(int(r[-1]) for r in rows[1:])  # type: ignore[call-overload]
        async with seeded.db.read() as r:
            assert total == await r.scalar("SELECT COUNT(*) FROM claims WHERE status != 'draft'")


async def test_messages_sent_and_read(seeded: Seeded) -> None:
    now = seeded.clock().isoformat()
    async with seeded.db.tx() as tx:
        chat = await get_or_create_chat(tx, "whatsapp", "6281299990000", now=seeded.clock())
        for i, delivery in enumerate(("read", "read", "delivered", None)):
            await tx.execute(
                "INSERT INTO outbox (chat_id, channel, user_ref, msg_key, class, not_before, "
                "status, delivery_status, created_at, sent_at) "
                "VALUES (?, 'whatsapp', '6281299990000', 'reminder.premium', 'reminder', ?, "
                "'sent', ?, ?, ?)",
                (chat.id, now, delivery, now, now),
            )
            del i
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        rows = _xlsx((await c.get("/console/reports/messages.xlsx")).content)
        assert rows[0] == (
            "Jenis pesan",
            "Kode pesan",
            "Saluran",
            "Menunggu",
            "Terkirim",
            "Sampai",
            "Dibaca",
            "Dibaca (%)",
        )
        row = next(r for r in rows if r[1] == "reminder.premium")
        assert row[0] == "Pengingat"
        assert row[4:] == (4, 3, 2, 50.0)
        page = await c.get("/console/reports")
        assert "reminder.premium (WhatsApp)" in page.text


def test_line_chart_svg_is_escaped_and_scaled() -> None:
    from handlers.i18n import translator

    svg = str(
        charts.line_chart(
            ["Jan", "Feb", "<Mar>"],
            [("A & B", [1.0, 3.0, 2.0]), ("C", [0.0, 0.0, 7.0])],
            title="t",
            t=translator("id"),
        )
    )
    assert svg.startswith("<svg")
    assert "&lt;Mar&gt;" in svg
    assert "A &amp; B" in svg
    assert svg.count("<polyline") == 2
    assert svg.count("<circle") == 6
    assert charts._axis(7, whole=True) == 2  # 0, 2, 4, 6, 8
    assert charts._axis(5, whole=True) == 2
    assert charts._axis(2, whole=True) == 1  # never a step of 0.5 for counts
    assert charts._axis(2_100_000, whole=True) == 1_000_000
    assert charts._axis(0.3, whole=False) == 0.1
