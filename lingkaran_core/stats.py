"""Programme figures for the OPD: cohort by sector, coverage, registrations, claims, benefits.

Returns codes and numbers only (the admin CLI renders them). Everything is aggregated in SQL;
coverage is computed with ``coverage.coverage_status`` once per distinct (start, paid-through
month) pair rather than once per worker: the status depends on nothing else, and a 200k-row
roster has at most a few hundred such pairs.

Counting rules:

* workers whose registration was rejected are left out of the cohort and coverage figures
  (they are not programme participants); pending registrations are counted;
* cohort by sector and by kecamatan (the desa code's first three parts), as the seed reports;
* benefits paid: claims in status ``paid``, by programme (JKK, JKM, BEASISWA), counts and the
  amounts the admin RECORDED when setting ``paid`` (``answers.benefit_paid``, integer rupiah);
  nothing is estimated: a paid claim without a recorded amount is counted in ``unrecorded``.
  With a period, only the claims paid in it (``answers.paid_on``, else the day of the move to
  ``paid``, WIB) count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from lingkaran_core.claims import ClaimStatus, ClaimType
from lingkaran_core.clock import WIB
from lingkaran_core.coverage import CoverageStatus, coverage_status
from lingkaran_core.rules import SECTORS, Opd, sector
from lingkaran_core.storage import stats_repo
from lingkaran_core.storage.db import Tx

__all__ = ["BenefitsPaid", "KecamatanRow", "SectorRow", "Stats", "collect_stats"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SectorRow:
    """One row of the cohort table: sector code, workers, managing OPD, 2025 published count."""

    sector: str
    count: int
    opd: Opd
    published_2025: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BenefitsPaid:
    """Paid claims and their recorded total in rupiah (of a period, when one is given)."""

    count: int
    total: int
    unrecorded: int  # paid claims whose amount was not recorded (counted, not summed)
    by_type: dict[str, tuple[int, int]]  # type -> (count, rupiah)
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class KecamatanRow:
    """The cohort of one kecamatan: its code and workers per sector."""

    kecamatan: str | None
    by_sector: dict[str, int]

    @property
    def count(self) -> int:
        """Workers of every sector in the kecamatan."""
        return sum(self.by_sector.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    """All figures at ``today``."""

    today: date
    sectors: tuple[SectorRow, ...]
    total_workers: int
    coverage: dict[str, int]
    registrations: dict[str, int]
    claims: dict[str, dict[str, int]]  # type -> status -> count
    benefits: BenefitsPaid
    kecamatan: tuple[KecamatanRow, ...] = ()

    @property
    def claims_total(self) -> int:
        """Claims of every type and status."""
        return sum(sum(v.values()) for v in self.claims.values())


KNOWN_SECTORS: Final = tuple(s.code for s in SECTORS)


async def _sectors(tx: Tx) -> tuple[tuple[SectorRow, ...], int]:
    counts = await stats_repo.workers_by_sector(tx)
    out = [
        SectorRow(
            sector=code,
            count=counts.pop(code, 0),
            opd=sector(code).opd.value,
            published_2025=sector(code).cohort_2025.value,
        )
        for code in KNOWN_SECTORS
    ]
    # Sectors outside the programme list (older data) still show up, with no OPD.
    out += [
        SectorRow(sector=code, count=n, opd=Opd.UNKNOWN, published_2025=None)
        for code, n in sorted(counts.items())
    ]
    return tuple(out), sum(r.count for r in out)


async def _coverage(tx: Tx, today: date) -> dict[str, int]:
    out = {s.value: 0 for s in CoverageStatus}
    for start_text, paid_month, n in await stats_repo.coverage_groups(tx):
        start = date.fromisoformat(start_text) if start_text else None
        paid = date.fromisoformat(paid_month + "-01") if paid_month else None
        status = coverage_status(start=start, paid_through=paid, today=today).status
        out[status.value] += n
    return out


async def _registrations(tx: Tx) -> dict[str, int]:
    out = {"registered": 0, "verified": 0, "rejected": 0}
    out.update(await stats_repo.registrations_by_status(tx))
    return out


async def _claims(tx: Tx) -> dict[str, dict[str, int]]:
    out = {t.value: {s.value: 0 for s in ClaimStatus} for t in ClaimType}
    for claim_type, status, n in await stats_repo.claims_by_type_status(tx):
        out.setdefault(claim_type, {})[status] = n
    return out


def benefit_amount(claim_type: str, answers: dict[str, object]) -> int | None:
    """The rupiah recorded for a paid claim, or None when none was recorded."""
    del claim_type  # every programme alike: recorded data only, never an estimate
    recorded = answers.get("benefit_paid")
    if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded >= 0:
        return recorded
    return None


def _paid_day(answers: dict[str, object], paid_at: str | None) -> date | None:
    paid_on = answers.get("paid_on")
    if isinstance(paid_on, str):
        try:
            return date.fromisoformat(paid_on[:10])
        except ValueError:
            pass
    if paid_at:
        return datetime.fromisoformat(paid_at).astimezone(WIB).date()
    return None


async def _benefits(tx: Tx, since: date | None, until: date | None) -> BenefitsPaid:
    rows = await stats_repo.paid_claims_with_dates(tx, ClaimStatus.PAID.value)
    total = unrecorded = count = 0
    by_type: dict[str, tuple[int, int]] = {t.value: (0, 0) for t in ClaimType}
    for claim_type, answers, paid_at in rows:
        if since is not None or until is not None:
            day = _paid_day(answers, paid_at)
            if day is None or (since is not None and day < since):
                continue
            if until is not None and day > until:
                continue
        amount = benefit_amount(claim_type, answers)
        count += 1
        if amount is None:
            unrecorded += 1
            amount = 0
        total += amount
        n, rp = by_type.get(claim_type, (0, 0))
        by_type[claim_type] = (n + 1, rp + amount)
    return BenefitsPaid(
        count=count,
        total=total,
        unrecorded=unrecorded,
        by_type=by_type,
        since=since,
        until=until,
    )


async def _kecamatan(tx: Tx) -> tuple[KecamatanRow, ...]:
    rows: dict[str | None, dict[str, int]] = {}
    for kecamatan, sector_code, n in await stats_repo.workers_by_kecamatan_sector(tx):
        per = rows.setdefault(kecamatan, {})
        per[sector_code] = per.get(sector_code, 0) + n
    ordered = sorted(rows.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    return tuple(KecamatanRow(kecamatan=k, by_sector=v) for k, v in ordered)


async def collect_stats(
    tx: Tx, *, today: date, since: date | None = None, until: date | None = None
) -> Stats:
    """Every figure of ``admin stats`` in one consistent read (benefits of a period, if given)."""
    sectors, total = await _sectors(tx)
    return Stats(
        today=today,
        sectors=sectors,
        total_workers=total,
        coverage=await _coverage(tx, today),
        registrations=await _registrations(tx),
        claims=await _claims(tx),
        benefits=await _benefits(tx, since, until),
        kecamatan=await _kecamatan(tx),
    )
