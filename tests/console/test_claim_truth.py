"""The truth of each claim in the console (issue 14): the event-date coverage (anything but
protected flagged "perlu dicek"), the JKK stage and where the tahap I notice stands, the filters
on both, and the staff action that records the notice as forwarded."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta

from lingkaran_core import services
from lingkaran_core.claims import Actor, ClaimType
from lingkaran_core.clock import WIB
from lingkaran_core.storage import console_repo
from tests.console.conftest import NOW, Seeded, client_for, csrf_of, login, user_of

STRANGER_NIK = "3509274101900001"  # on no roster


async def _file(
    s: Seeded,
    key: str,
    *,
    event_date: date,
    event_at: datetime | None = None,
    nik: str | None = None,
    claim_type: ClaimType = ClaimType.JKK,
) -> str:
    async with s.db.tx() as tx:
        worker = None
        if nik is None:
            worker = await tx.one(
                "SELECT id, nik, name FROM workers WHERE registration_status = 'verified' "
                "AND desa_code LIKE '35.09.27.%' ORDER BY id LIMIT 1"
            )
        claim = await services.submit_claim(
            tx,
            services.NewClaim(
                claim_type=claim_type,
                event_date=event_date,
                event_at=event_at,
                worker_id=None if worker is None else worker["id"],
                subject_nik=nik if worker is None else worker["nik"],
                subject_name="Warga Uji" if worker is None else worker["name"],
                desa_code="35.09.27.2002",
                checklist=("ktp_participant",),
            ),
            now=s.clock(),
            idempotency_key=f"truth-{key}",
            channel="admin",
            actor=Actor.ADMIN,
        )
    return claim.ref


def _rows(html: str) -> dict[str, str]:
    """Each queue row's text by claim reference."""
    out: dict[str, str] = {}
    for chunk in html.split("<tr>")[2:]:
        ref = chunk.split("/console/claims/", 1)[1].split('"', 1)[0]
        out[ref] = chunk.split("</tr>", 1)[0]
    return out


async def test_the_queue_flags_every_claim_not_protected_on_the_event_date(seeded: Seeded) -> None:
    stranger = await _file(seeded, "stranger", event_date=date(2026, 11, 24), nik=STRANGER_NIK)
    async with seeded.db.read() as r:
        own = await r.scalar("SELECT event_coverage FROM claims WHERE ref = ?", (seeded.claim_ref,))
    assert own == "protected"
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        rows = _rows((await c.get("/console/claims?type=JKK&open=1")).text)
        assert "perlu dicek" in rows[stranger]
        assert "Tidak ada di data peserta" in rows[stranger]
        assert "perlu dicek" not in rows[seeded.claim_ref]
        assert "Terlindungi" in rows[seeded.claim_ref]
        assert "Tahap I" in rows[seeded.claim_ref]
        flagged = _rows((await c.get("/console/claims?flagged=1")).text)
        assert stranger in flagged
        assert seeded.claim_ref not in flagged
        assert all("perlu dicek" in row for row in flagged.values())
        # A report from before the check existed (no coverage stored) is to be checked too.
        async with seeded.db.tx() as tx:
            await tx.execute(
                "UPDATE claims SET event_coverage = NULL WHERE ref = ?", (seeded.claim_ref,)
            )
        flagged = _rows((await c.get("/console/claims?flagged=1")).text)
        assert "Belum dihitung" in flagged[seeded.claim_ref]


async def test_notice_filters_follow_the_2x24_hours_whatever_the_hour_format(
    seeded: Seeded,
) -> None:
    # Seen at 25 Nov 10:00 WIB: a notice is overdue for an accident before 23 Nov 10:00 WIB.
    assert NOW.astimezone(WIB).hour == 10
    before = await _file(seeded, "before", event_date=date(2026, 11, 22))
    early = await _file(
        seeded,
        "early",
        event_date=date(2026, 11, 23),
        event_at=datetime(2026, 11, 23, 8, 0, tzinfo=WIB),
    )
    early_utc = await _file(  # 09:30 WIB stored as UTC: the offset, not the text, decides
        seeded,
        "early-utc",
        event_date=date(2026, 11, 23),
        event_at=datetime(2026, 11, 23, 2, 30, tzinfo=UTC),
    )
    no_hour = await _file(seeded, "no-hour", event_date=date(2026, 11, 23))
    late = await _file(
        seeded,
        "late",
        event_date=date(2026, 11, 23),
        event_at=datetime(2026, 11, 23, 12, 0, tzinfo=WIB),
    )
    sent = await _file(seeded, "sent", event_date=date(2026, 11, 20))
    death = await _file(seeded, "jkm", event_date=date(2026, 11, 20), claim_type=ClaimType.JKM)
    async with seeded.db.tx() as tx:
        await services.mark_notice_sent(tx, sent, now=seeded.clock(), actor_ref="test")
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        unsent = _rows((await c.get("/console/claims?notice=unsent")).text)
        overdue = _rows((await c.get("/console/claims?notice=overdue")).text)
        everything = _rows((await c.get("/console/claims?type=JKK&sort=newest")).text)
    assert {before, early, early_utc, no_hour, late, seeded.claim_ref} <= set(unsent)
    assert sent not in unsent
    assert death not in unsent
    assert {before, early, early_utc, no_hour} <= set(overdue)
    assert not {late, seeded.claim_ref, sent, death} & set(overdue)
    for ref in overdue:
        assert "Lewat batas sejak" in overdue[ref]
    assert "Lewat batas sejak 25 November 2026 08:00" in overdue[early]
    assert "Batas 25 November 2026 12:00" in unsent[late]
    assert "Diteruskan 25 November 2026 10:00" in everything[sent]
    assert "lewat" not in everything[sent]  # the 2×24 h clock stops once forwarded
    # The filter agrees, claim by claim, with the service the page's sentence uses.
    async with seeded.db.read() as r:
        bound = await services.overdue_notices(r, now=seeded.clock())
        filtered = await console_repo.queue_claims(
            r,
            console_repo.QueueFilter(
                notice="overdue", overdue_day=bound.day, overdue_ids=bound.ids, limit=10_000
            ),
        )
        rows = await r.all(
            "SELECT ref, type, status, event_at, event_date, notice_sent_at FROM claims "
            "WHERE type = 'JKK'"
        )
    by_service = set()
    for row in rows:
        state = services.notice_state(
            claim_type=row["type"],
            status=row["status"],
            event_at=None if row["event_at"] is None else datetime.fromisoformat(row["event_at"]),
            event_date=date.fromisoformat(row["event_date"]),
            notice_sent_at=None
            if row["notice_sent_at"] is None
            else datetime.fromisoformat(row["notice_sent_at"]),
            now=seeded.clock(),
        )
        if state is not None and state.overdue:
            by_service.add(row["ref"])
    assert by_service == {row["ref"] for row in filtered}


async def test_the_claim_page_explains_and_staff_record_the_notice(seeded: Seeded) -> None:
    stranger = await _file(
        seeded,
        "page",
        event_date=date(2026, 11, 22),
        event_at=datetime(2026, 11, 22, 7, 0, tzinfo=WIB),
        nik=STRANGER_NIK,
    )
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get(f"/console/claims/{stranger}")
        text = page.text
        assert "Perlu dicek: menurut data Pemkab saat laporan masuk, NIK tidak ada di data" in text
        assert "Tahap I (pemberitahuan)" in text
        assert "batas 2×24 jam sejak kecelakaan sudah lewat sejak 24 November 2026 07:00" in text
        assert "Tahap I sudah diteruskan ke BPJS TK" in text
        # Without the form's CSRF token nothing is recorded.
        r = await c.post(f"/console/claims/{stranger}/notice", data={"csrf": "forged"})
        assert r.status_code == 403
        async with seeded.db.read() as rd:
            assert (
                await rd.scalar("SELECT notice_sent_at FROM claims WHERE ref = ?", (stranger,))
                is None
            )
        seeded.clock.advance(minutes=5)
        r = await c.post(f"/console/claims/{stranger}/notice", data={"csrf": csrf_of(text)})
        assert r.status_code == 200
        assert "Dicatat: pemberitahuan tahap I sudah diteruskan" in r.text
        assert "sudah diteruskan ke BPJS TK pada 25 November 2026 10:05" in r.text
        assert "<button>Tahap I sudah diteruskan" not in r.text
        assert "Batas laporan tahap I" not in r.text  # the clock is gone
        # A second post (another tab) keeps the first time and audits once.
        seeded.clock.advance(minutes=5)
        await c.post(f"/console/claims/{stranger}/notice", data={"csrf": csrf_of(text)})
    async with seeded.db.read() as rd:
        at = await rd.scalar("SELECT notice_sent_at FROM claims WHERE ref = ?", (stranger,))
        audits = await rd.all(
            "SELECT actor_kind, actor_id, channel FROM audit_log WHERE action = "
            "'claim.notice_sent' AND target_id = ?",
            (stranger,),
        )
    assert datetime.fromisoformat(at) == NOW + timedelta(minutes=5)
    assert [tuple(a) for a in audits] == [("staff", "staff:oki.opd", "console")]


async def test_only_staff_who_act_record_a_notice_and_only_on_jkk(seeded: Seeded) -> None:
    jkm = await _file(seeded, "jkm-page", event_date=date(2026, 11, 20), claim_type=ClaimType.JKM)
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        page = await c.get(f"/console/claims/{jkm}")
        assert "Tahap I sudah diteruskan" not in page.text
        r = await c.post(f"/console/claims/{jkm}/notice", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 404
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "vina"))  # a kecamatan viewer: reads, never acts
        page = await c.get(f"/console/claims/{seeded.claim_ref}")
        assert page.status_code == 200
        assert "belum tercatat diteruskan" in page.text
        assert "Tahap I sudah diteruskan ke BPJS TK</button>" not in page.text
        r = await c.post(
            f"/console/claims/{seeded.claim_ref}/notice", data={"csrf": csrf_of(page.text)}
        )
        assert r.status_code == 403
    async with seeded.db.read() as rd:
        assert (
            await rd.scalar(
                "SELECT COUNT(*) FROM claims WHERE ref IN (?, ?) AND notice_sent_at IS NOT NULL",
                (jkm, seeded.claim_ref),
            )
            == 0
        )


async def test_the_bpjs_export_carries_the_coverage_stage_and_notice(seeded: Seeded) -> None:
    async with seeded.db.tx() as tx:
        await services.mark_notice_sent(tx, seeded.claim_ref, now=seeded.clock(), actor_ref="t")
    async with client_for(seeded) as c:
        await login(c, *user_of(seeded, "oki"))
        r = await c.get(f"/console/claims/{seeded.claim_ref}/export")
    summary = json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("summary.json"))
    assert summary["claim"]["event_coverage"] == "protected"
    assert summary["claim"]["notice_sent_at"] == NOW.isoformat()
    assert summary["claim"]["jkk_stage"] == 1
