"""Demo roster (deterministic, exact sector mix, every status) and the stats over it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lingkaran_core import demo, stats
from lingkaran_core.claims import ClaimStatus
from lingkaran_core.coverage import CoverageStatus
from lingkaran_core.errors import Conflict
from lingkaran_core.facilitators import redeem_code
from lingkaran_core.identity import parse_nik
from lingkaran_core.rules import SECTORS
from lingkaran_core.storage import Database
from lingkaran_core.storage.chats import get_or_create_chat

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


async def _dump(db: Database) -> list[tuple[object, ...]]:
    async with db.read() as r:
        rows = await r.all(
            "SELECT nik, name, birth_date, sex, desa_code, sector, coverage_start, paid_through "
            "FROM workers ORDER BY nik"
        )
        claims = await r.all("SELECT ref, type, status, subject_nik FROM claims ORDER BY ref")
    return [tuple(x) for x in rows] + [tuple(x) for x in claims]


def test_sector_counts_scale_with_largest_remainder() -> None:
    assert demo.sector_counts(demo.DEFAULT_WORKERS) == {
        s.code: s.cohort_2025.value for s in SECTORS
    }
    small = demo.sector_counts(1000)
    assert sum(small.values()) == 1000
    assert small["buruh_tani_tembakau"] == 491  # 40,300 / 82,091 × 1000 = 490.9
    assert sum(demo.sector_counts(7).values()) == 7
    assert demo.sector_counts(0) == dict.fromkeys(demo.sector_counts(0), 0)


@pytest.mark.parametrize("today", [TODAY, date(2027, 1, 31), date(2028, 2, 29)])
def test_every_sample_worker_has_its_status_on_any_day(today: date) -> None:
    for s in demo.SAMPLE_WORKERS:
        assert demo.sample_status(s, today) is s.coverage, s.name
        nik = parse_nik(s.nik, today=today)
        assert nik.birth_date == s.birth_date
        assert nik.sex.value == s.sex
    assert {s.coverage for s in demo.SAMPLE_WORKERS} == set(CoverageStatus)


async def test_small_demo_is_deterministic_and_complete(tmp_path: Path) -> None:
    dumps = []
    for name in ("a.db", "b.db"):
        db = await Database.open(tmp_path / name)
        try:
            result = await demo.generate_demo(db, workers=1500, seed=7, today=TODAY, now=NOW)
            dumps.append(await _dump(db))
            async with db.read() as r:
                figures = await stats.collect_stats(r, today=TODAY)
        finally:
            await db.close()
    assert dumps[0] == dumps[1]
    assert result.created
    assert figures.total_workers == 1500
    assert {r.sector: r.count for r in figures.sectors} == demo.sector_counts(1500)
    assert all(n > 0 for n in figures.coverage.values()), figures.coverage
    statuses = {s for per_type in figures.claims.values() for s, n in per_type.items() if n}
    assert statuses == {s.value for s in ClaimStatus}
    assert figures.registrations["registered"] == 1
    # Paid: one of each programme, every amount recorded by the admin (none estimated).
    assert figures.benefits.count == 3
    assert figures.benefits.total == 3_750_000 + 42_000_000 + 1_500_000
    assert figures.benefits.unrecorded == 0
    assert figures.benefits.by_type == {
        "JKK": (1, 3_750_000),
        "JKM": (1, 42_000_000),
        "BEASISWA": (1, 1_500_000),
    }
    assert sum(k.count for k in figures.kecamatan) == 1500


async def test_bulk_niks_are_valid_synthetic_and_match_birth_and_sex(db: Database) -> None:
    await demo.generate_demo(db, workers=800, seed=3, today=TODAY, now=NOW)
    async with db.read() as r:
        rows = await r.all("SELECT nik, birth_date, sex, desa_code FROM workers")
    samples = {s.nik for s in demo.SAMPLE_WORKERS}
    for row in rows:
        nik = parse_nik(row["nik"], today=TODAY)
        assert nik.birth_date.isoformat() == row["birth_date"]
        assert nik.sex.value == row["sex"]
        assert row["desa_code"].startswith(nik.kecamatan_code + ".")
        if row["nik"] not in samples:
            assert row["nik"][12] == "9"
        age = (TODAY - nik.birth_date).days // 365.25
        assert 18 <= age <= 64


async def test_demo_facilitator_codes_work(db: Database) -> None:
    result = await demo.generate_demo(db, workers=300, seed=1, today=TODAY, now=NOW)
    async with db.tx() as tx:
        chat = await get_or_create_chat(tx, "telegram", "rina", now=NOW)
        f = await redeem_code(tx, code="K7QM4XPT", chat_id=chat.id, now=NOW)
    assert f is not None
    assert (f.scope_kind, f.scope_code) == ("desa", "35.09.27.2002")
    assert [x.code for _, x in result.facilitators] == ["K7QM4XPT", "KSTPRS27"]


async def test_a_second_run_keeps_demo_data_and_replace_regenerates(db: Database) -> None:
    first = await demo.generate_demo(db, workers=200, seed=1, today=TODAY, now=NOW)
    again = await demo.generate_demo(db, workers=500, seed=2, today=TODAY, now=NOW)
    assert first.created
    assert not again.created
    assert again.workers == 200
    redone = await demo.generate_demo(db, workers=500, seed=2, today=TODAY, now=NOW, replace=True)
    assert redone.created
    async with db.read() as r:
        assert await r.scalar("SELECT COUNT(*) FROM workers") == 500
        assert await r.scalar("SELECT COUNT(*) FROM facilitators") == 2


async def test_demo_refuses_a_database_with_real_workers(db: Database) -> None:
    async with db.tx() as tx:
        await tx.execute(
            "INSERT INTO workers (nik, name, birth_date, sex, desa_code, sector, created_at, "
            "updated_at) VALUES ('3509010101800001', 'X', '1980-01-01', 'L', '35.09.01.2001', "
            "'nelayan_tangkap', 'x', 'x')"
        )
    with pytest.raises(Conflict):
        await demo.generate_demo(db, workers=100, seed=1, today=TODAY, now=NOW, replace=True)


async def test_default_demo_matches_the_published_cohort(db: Database) -> None:
    result = await demo.generate_demo(db, seed=2025, today=TODAY, now=NOW)
    async with db.read() as r:
        figures = await stats.collect_stats(r, today=TODAY)
    assert result.workers == figures.total_workers == 82_091
    for row in figures.sectors:
        assert row.count == row.published_2025, row.sector
    assert sum(figures.coverage.values()) == 82_091
    assert figures.coverage["protected"] > 0.8 * 82_091
    async with db.read() as r:
        fishers = await r.all(
            "SELECT substr(desa_code, 1, 8) AS kec, COUNT(*) AS n FROM workers "
            "WHERE sector = 'nelayan_tangkap' GROUP BY kec"
        )
    coastal = sum(x["n"] for x in fishers if x["kec"] in demo.COASTAL_KECAMATAN)
    assert coastal > 0.85 * 2_000
