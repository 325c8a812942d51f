"""A synthetic demo roster: 82,091 made-up workers with the 2025 cohort's sector mix.

Everything here is invented. Names come from a short list of common Javanese and Madurese
names; every bulk NIK has a serial from 9001 upwards so it is recognisably synthetic, and no
demo worker has a phone number (a made-up number could belong to a real person, and the
dispatcher would message it). A handful of fixed SAMPLE_WORKERS (serials 0001-0007) let people
try the bot by typing a known NIK and birth date.

The data are deterministic for a given seed and ``today``: dates are placed relative to
``today`` so every coverage status exists whatever the real date is.

An existing database is handled so that ``make demo`` can run twice: a database that already
holds demo data is left alone (``replace=True`` wipes and regenerates it); a database with any
other workers is refused, so the demo can never be mixed into real data.

The people live in ``roster``, the claims in ``claims``; this module puts them in a database.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random
from typing import Any, Final

from lingkaran_core import services
from lingkaran_core.claims import Actor, ClaimStatus, ClaimType, DocKind
from lingkaran_core.coverage import CoverageStatus
from lingkaran_core.demo.claims import (
    _PATHS,
    _REJECT_NOTES,
    CLAIMS_PER_STATUS,
    _claim,
    _draft_claim,
)
from lingkaran_core.demo.roster import (
    COASTAL_KECAMATAN,
    COASTAL_SHARE,
    PUGERKULON,
    SAMPLE_WORKERS,
    SUKORENO,
    SampleWorker,
    _Roster,
    _sample_row,
    sample_status,
    sector_counts,
)
from lingkaran_core.errors import Conflict, DomainError
from lingkaran_core.facilitators import create_facilitator
from lingkaran_core.rules import JKM_BENEFIT, SECTORS
from lingkaran_core.storage import demo_repo
from lingkaran_core.storage.db import Database, Tx, loads
from lingkaran_core.storage.repos import claim_by_ref

__all__ = [
    "CLAIMS_PER_STATUS",
    "COASTAL_KECAMATAN",
    "COASTAL_SHARE",
    "DEFAULT_WORKERS",
    "DEMO_FACILITATORS",
    "PUGERKULON",
    "SAMPLE_WORKERS",
    "SUKORENO",
    "DemoFacilitator",
    "DemoResult",
    "SampleWorker",
    "generate_demo",
    "sample_status",
    "sector_counts",
]

logger = logging.getLogger(__name__)

DEFAULT_WORKERS: Final = sum(s.cohort_2025.value for s in SECTORS)  # 82,091 (DOMAIN.md §0)
DEMO_MARKER: Final = "demo.generate"
MIN_WORKERS: Final = 100  # room for the samples and the claims' subjects
DEMO_CODE_TTL: Final = timedelta(days=90)  # demo codes outlive the usual 72 h


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoFacilitator:
    """A demo facilitator with a fixed bind code."""

    name: str
    scope_kind: str
    scope_code: str
    code: str


DEMO_FACILITATORS: Final[tuple[DemoFacilitator, ...]] = (
    DemoFacilitator(name="Rina", scope_kind="desa", scope_code=SUKORENO, code="K7QM4XPT"),
    DemoFacilitator(
        name="Agus Salim (Perisai)", scope_kind="kecamatan", scope_code="35.09.27", code="KSTPRS27"
    ),
)


@dataclass(slots=True, kw_only=True)
class DemoResult:
    """What ``generate_demo`` did."""

    created: bool
    workers: int = 0
    seed: int = 0
    today: date | None = None
    sectors: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, int] = field(default_factory=dict)
    claims: dict[str, list[str]] = field(default_factory=dict)  # status -> refs
    facilitators: list[tuple[int, DemoFacilitator]] = field(default_factory=list)
    samples: tuple[SampleWorker, ...] = SAMPLE_WORKERS
    sample_claim: str | None = None


async def _state(tx: Tx) -> tuple[int, dict[str, Any] | None]:
    workers = await demo_repo.count_workers(tx)
    marker = await demo_repo.last_audit_details(tx, DEMO_MARKER)
    return workers, (None if marker is None else loads(marker))


async def generate_demo(
    db: Database,
    *,
    workers: int = DEFAULT_WORKERS,
    seed: int = 2025,
    today: date,
    now: datetime,
    replace: bool = False,
) -> DemoResult:
    """Fill ``db`` with the synthetic roster, claims in every status and two facilitators."""
    if workers < MIN_WORKERS:
        raise DomainError("demo.too_few_workers", minimum=MIN_WORKERS)
    async with db.read() as r:
        existing, marker = await _state(r)
    if existing and marker is None:
        raise Conflict("demo.not_a_demo_database", workers=existing)
    if marker is not None and not replace:
        return DemoResult(
            created=False,
            workers=existing,
            seed=int(marker.get("seed", 0)),
            today=date.fromisoformat(marker["today"]) if marker.get("today") else None,
        )
    rng = Random(seed)
    stamp = now.isoformat()
    result = DemoResult(created=True, workers=workers, seed=seed, today=today)

    # Exact sector totals: the samples take their places in the mix.
    totals = sector_counts(workers)
    bulk = dict(totals)
    for s in SAMPLE_WORKERS:
        bulk[s.sector] -= 1
    for code in [c for c, n in bulk.items() if n < 0]:  # only for tiny N
        while bulk[code] < 0:
            donor = max(bulk, key=lambda c: bulk[c])
            bulk[donor] -= 1
            bulk[code] += 1
    order = [code for code, n in sorted(bulk.items()) for _ in range(n)]
    rng.shuffle(order)

    roster = _Roster(rng, today, stamp)
    pick = min(1.0, 100 / workers)  # about 86 protected bulk workers to file claims about
    coverage_counts: Counter[str] = Counter()
    protected_subjects: list[tuple[Any, ...]] = []
    async with db.tx() as tx:
        if marker is not None:
            await demo_repo.wipe(tx)
        facilitator_ids: list[int] = []
        for f in DEMO_FACILITATORS:
            fid, _ = await create_facilitator(
                tx,
                name=f.name,
                phone=None,
                scope_kind=f.scope_kind,
                scope_code=f.scope_code,
                now=now,
                code=f.code,
                ttl=DEMO_CODE_TTL,
            )
            facilitator_ids.append(fid)
            result.facilitators.append((fid, f))
        batch: list[tuple[Any, ...]] = []
        for s in SAMPLE_WORKERS:
            by = facilitator_ids[0] if s.coverage is CoverageStatus.NOT_ENROLLED else None
            batch.append(_sample_row(s, today, stamp, by))
            coverage_counts[s.coverage.value] += 1
        for sector in order:
            row, cov = roster.row(sector)
            coverage_counts[cov.value] += 1
            batch.append(row)
            if cov is CoverageStatus.PROTECTED and rng.random() < pick:
                protected_subjects.append(row)
            if len(batch) >= 10_000:
                await demo_repo.insert_workers(tx, batch)
                batch.clear()
        await demo_repo.insert_workers(tx, batch)

        # Claims: a handful in every status, filed and moved through the real services so their
        # events, audit rows and notifications exist.
        rng.shuffle(protected_subjects)
        subjects = itertools.cycle(protected_subjects)
        types = (ClaimType.JKK, ClaimType.JKM, ClaimType.BEASISWA)
        n = 0
        for status, path in _PATHS.items():
            for i in range(CLAIMS_PER_STATUS):
                n += 1
                claim_type = types[i % len(types)]
                benefit = None
                if status is ClaimStatus.PAID:
                    # The admin records what BPJS TK paid when setting paid (the figures count
                    # recorded amounts only): JKM its fixed Rp42 jt, the others an example.
                    benefit = {
                        ClaimType.JKK: 3_750_000,
                        ClaimType.JKM: JKM_BENEFIT.total,
                        ClaimType.BEASISWA: 1_500_000,
                    }[claim_type]
                reported = now - timedelta(days=40 - n, hours=rng.randint(0, 8))
                ref = await _claim(
                    tx,
                    key=f"demo:{seed}:{n}",
                    claim_type=claim_type,
                    subject=next(subjects),
                    reported=reported,
                    rng=rng,
                    path=path,
                    note=_REJECT_NOTES[i % len(_REJECT_NOTES)],
                    benefit=benefit,
                )
                result.claims.setdefault(status.value, []).append(ref)
        draft_subject = next(subjects)
        wid = await demo_repo.worker_id_by_nik(tx, draft_subject[0])
        result.claims[ClaimStatus.DRAFT.value] = [
            await _draft_claim(tx, subject=draft_subject, now=now, worker_id=wid)
        ]

        # Suparmi's open JKK claim: reported 3 days ago, two documents in, more requested.
        suparmi = next(s for s in SAMPLE_WORKERS if s.name == "Suparmi")
        reported = now - timedelta(days=3)
        sample_ref = await _claim(
            tx,
            key=f"demo:{seed}:suparmi",
            claim_type=ClaimType.JKK,
            subject=_sample_row(suparmi, today, stamp, None),
            reported=reported,
            rng=Random(1),
            path=(ClaimStatus.IN_REVIEW,),
            note=None,
            benefit=None,
        )
        claim = await claim_by_ref(tx, sample_ref)
        assert claim is not None
        for kind in (DocKind.KARTU_PESERTA, DocKind.KTP_PARTICIPANT):
            await services.add_document(
                tx,
                claim,
                kind=kind.value,
                data=b"\xff\xd8\xff\xe0 DEMO " + kind.value.encode(),
                mime="image/jpeg",
                chat_id=None,
                files_dir=db.files_dir,
                now=reported + timedelta(hours=2),
                channel="admin",
            )
        await services.transition_claim(
            tx,
            sample_ref,
            ClaimStatus.DOCUMENTS_REQUESTED,
            actor=Actor.ADMIN,
            now=reported + timedelta(days=2),
            actor_ref="demo",
            channel="admin",
        )
        result.claims[ClaimStatus.DOCUMENTS_REQUESTED.value].append(sample_ref)
        result.sample_claim = sample_ref

        await services.audit(
            tx,
            now=now,
            actor_kind="admin",
            actor_id=None,
            action=DEMO_MARKER,
            details={"seed": seed, "workers": workers, "today": today.isoformat()},
        )
    result.sectors = totals
    result.coverage = dict(coverage_counts)
    logger.info("demo data generated", extra={"workers": workers, "seed": seed})
    return result
