"""Programme figures for the OPD: cohort by sector, coverage, registrations, claims, benefits.

Returns codes and numbers only (the admin CLI renders them). Everything is aggregated in SQL;
coverage is computed with ``coverage.coverage_status`` once per distinct (start, paid-through
month) pair rather than once per worker: the status depends on nothing else, and a 200k-row
roster has at most a few hundred such pairs.

Counting rules:

* workers whose registration was rejected are left out of the cohort and coverage figures
  (they are not programme participants); pending registrations are counted;
* benefits paid: claims in status ``paid``; the amount is the claim's ``answers.benefit_paid``
  (integer rupiah, recorded by the admin) when present, else the fixed JKM total (Rp42 jt,
  DOMAIN.md §3.1) for JKM, else 0 (JKK and scholarship amounts vary, so nothing is guessed).
  ``estimated`` counts the claims whose amount was estimated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from lingkaran_core.claims import ClaimStatus, ClaimType, jkm_benefit
from lingkaran_core.coverage import CoverageStatus, coverage_status
from lingkaran_core.rules import SECTORS, Opd, sector
from lingkaran_core.storage import stats_repo
from lingkaran_core.storage.db import Tx

__all__ = ["BenefitsPaid", "SectorRow", "Stats", "collect_stats"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SectorRow:
    """One row of the cohort table: sector code, workers, managing OPD, 2025 published count."""

    sector: str
    count: int
    opd: Opd
    published_2025: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BenefitsPaid:
    """Paid claims and their total in rupiah."""

    count: int
    total: int
    estimated: int
    by_type: dict[str, tuple[int, int]]  # type -> (count, rupiah)


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


def benefit_amount(claim_type: str, answers: dict[str, object]) -> tuple[int, bool]:
    """(rupiah, estimated) for a paid claim (see the module docstring)."""
    recorded = answers.get("benefit_paid")
    if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded >= 0:
        return recorded, False
    if claim_type == ClaimType.JKM.value:
        return jkm_benefit().total, True
    return 0, False


async def _benefits(tx: Tx) -> BenefitsPaid:
    rows = await stats_repo.paid_claims(tx, ClaimStatus.PAID.value)
    total = estimated = 0
    by_type: dict[str, tuple[int, int]] = {}
    for claim_type, answers in rows:
        amount, guessed = benefit_amount(claim_type, answers)
        total += amount
        estimated += guessed
        n, rp = by_type.get(claim_type, (0, 0))
        by_type[claim_type] = (n + 1, rp + amount)
    return BenefitsPaid(count=len(rows), total=total, estimated=estimated, by_type=by_type)


async def collect_stats(tx: Tx, *, today: date) -> Stats:
    """Every figure of ``admin stats`` in one consistent read."""
    sectors, total = await _sectors(tx)
    return Stats(
        today=today,
        sectors=sectors,
        total_workers=total,
        coverage=await _coverage(tx, today),
        registrations=await _registrations(tx),
        claims=await _claims(tx),
        benefits=await _benefits(tx),
    )
