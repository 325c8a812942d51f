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
from lingkaran_core.claims import (
    Actor,
    ChecklistFacts,
    ClaimStatus,
    ClaimType,
    DocKind,
    HeirRelation,
    checklist,
)
from lingkaran_core.coverage import CoverageStatus, add_months, coverage_status, month_end
from lingkaran_core.errors import Conflict, DomainError
from lingkaran_core.facilitators import create_facilitator
from lingkaran_core.regions import Desa, load_regions
from lingkaran_core.rules import JKM_BENEFIT, SECTORS
from lingkaran_core.storage import demo_repo
from lingkaran_core.storage.db import Database, Tx, dumps, loads
from lingkaran_core.storage.repos import claim_by_ref

__all__ = [
    "COASTAL_KECAMATAN",
    "DEFAULT_WORKERS",
    "DEMO_FACILITATORS",
    "SAMPLE_WORKERS",
    "DemoFacilitator",
    "DemoResult",
    "SampleWorker",
    "generate_demo",
    "sector_counts",
]

logger = logging.getLogger(__name__)

DEFAULT_WORKERS: Final = sum(s.cohort_2025.value for s in SECTORS)  # 82,091 (DOMAIN.md §0)
DEMO_MARKER: Final = "demo.generate"
MIN_WORKERS: Final = 100  # room for the samples and the claims' subjects
DEMO_CODE_TTL: Final = timedelta(days=90)  # demo codes outlive the usual 72 h
SUKORENO: Final = "35.09.27.2002"  # Desa Sukoreno, Kec. Kalisat
PUGERKULON: Final = "35.09.08.2004"  # Desa Pugerkulon, Kec. Puger
# Fishers live on the south coast: Puger, Ambulu, Gumukmas, Kencong, Tempurejo, Wuluhan.
COASTAL_KECAMATAN: Final = ("35.09.08", "35.09.12", "35.09.04", "35.09.02", "35.09.18", "35.09.11")
COASTAL_SHARE: Final = 0.9

_MALE: Final = (
    "Sutrisno", "Slamet", "Bambang", "Agus", "Budi", "Joko", "Suparno", "Sugeng", "Hariyanto",
    "Mulyadi", "Samsul", "Abdul Rahman", "Moh. Hasan", "Holil", "Marzuki", "Sahrul", "Fathor",
    "Subaidi", "Matsari", "Busiri", "Hosnan", "Sunarto", "Jumali", "Misnadi", "Suroso",
    "Nur Hadi", "Ahmad Fauzi", "Imam", "Sukarji", "Rahmat", "Wagiman", "Paiman", "Sulaiman",
    "Juhari", "Sanusi", "Zainal", "Haris", "Tohir", "Maksum", "Edi Santoso",
)  # fmt: skip
_FEMALE: Final = (
    "Siti Aminah", "Suparmi", "Sumiati", "Sulastri", "Wati", "Rukmini", "Tini", "Juwariyah",
    "Maryam", "Hosniyah", "Rohimah", "Misnati", "Suliha", "Nurul Hidayah", "Sunarsih", "Ponirah",
    "Sri Wahyuni", "Endang", "Musrifah", "Halimah", "Fatimah", "Asmuni", "Saodah", "Marlina",
    "Rina", "Sumarni", "Yuliati", "Siti Romlah", "Hartini", "Zubaidah",
)  # fmt: skip
_OCCUPATIONS: Final = {
    "buruh_tani_tembakau": ("buruh tani tembakau", "buruh sortir tembakau", "buruh tani"),
    "pekerja_sosial_keagamaan": ("guru ngaji", "guru ngaji; pedagang", "marbot masjid"),
    "petani_pangan_hortikultura": ("petani padi", "petani sayur", "petani jagung"),
    "pekerja_rentan_desa": ("pekerja harian desa", "tukang kebun", "kuli angkut"),
    "nelayan_tangkap": ("nelayan tangkap", "nelayan perahu kecil"),
    "pedagang_keliling": ("pedagang sayur keliling", "penjual bakso keliling", "pedagang keliling"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleWorker:
    """A fixed demo worker to type into the bot (synthetic NIK, printed in full)."""

    name: str
    nik: str
    birth_date: date
    sex: str
    desa_code: str
    sector: str
    coverage: CoverageStatus
    note: str = ""


SAMPLE_WORKERS: Final[tuple[SampleWorker, ...]] = (
    SampleWorker(
        name="Sutrisno",
        nik="3509271505780001",
        birth_date=date(1978, 5, 15),
        sex="L",
        desa_code=SUKORENO,
        sector="buruh_tani_tembakau",
        coverage=CoverageStatus.PROTECTED,
    ),
    SampleWorker(
        name="Siti Aminah",
        nik="3509275208850002",
        birth_date=date(1985, 8, 12),
        sex="P",
        desa_code=SUKORENO,
        sector="pekerja_sosial_keagamaan",
        coverage=CoverageStatus.ARREARS,
    ),
    SampleWorker(
        name="Slamet",
        nik="3509080203700003",
        birth_date=date(1970, 3, 2),
        sex="L",
        desa_code=PUGERKULON,
        sector="nelayan_tangkap",
        coverage=CoverageStatus.NON_ACTIVE,
    ),
    SampleWorker(
        name="Wati",
        nik="3509276111900004",
        birth_date=date(1990, 11, 21),
        sex="P",
        desa_code=SUKORENO,
        sector="petani_pangan_hortikultura",
        coverage=CoverageStatus.NOT_STARTED,
    ),
    SampleWorker(
        name="Bambang",
        nik="3509270701950005",
        birth_date=date(1995, 1, 7),
        sex="L",
        desa_code=SUKORENO,
        sector="pekerja_rentan_desa",
        coverage=CoverageStatus.NOT_ENROLLED,
        note="registered by facilitator Rina, awaiting OPD verification",
    ),
    SampleWorker(
        name="Suparmi",
        nik="3509274904820006",
        birth_date=date(1982, 4, 9),
        sex="P",
        desa_code=SUKORENO,
        sector="pedagang_keliling",
        coverage=CoverageStatus.PROTECTED,
        note="open JKK claim waiting for documents",
    ),
    SampleWorker(
        name="Misnadi",
        nik="3509271203750007",
        birth_date=date(1975, 3, 12),
        sex="L",
        desa_code=SUKORENO,
        sector="buruh_tani_tembakau",
        coverage=CoverageStatus.PROTECTED,
    ),
)


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


def sector_counts(total: int) -> dict[str, int]:
    """Split ``total`` over the sectors in the 2025 cohort's proportions (largest remainder)."""
    if total < 0:
        raise ValueError("total must not be negative")
    weights = {s.code: s.cohort_2025.value for s in SECTORS}
    whole = sum(weights.values())
    exact = {code: total * w / whole for code, w in weights.items()}
    counts = {code: int(x) for code, x in exact.items()}
    left = total - sum(counts.values())
    by_remainder = sorted(weights, key=lambda c: (-(exact[c] - counts[c]), -weights[c], c))
    for code in by_remainder[:left]:
        counts[code] += 1
    return counts


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _month_start(today: date, months: int) -> date:
    return add_months(today.replace(day=1), months)


def _coverage_dates(
    status: CoverageStatus, today: date, rng: Random
) -> tuple[str | None, str | None]:
    """(coverage_start, paid_through) ISO texts that give ``status`` on ``today``."""
    if status is CoverageStatus.NOT_ENROLLED:
        return None, None
    if status is CoverageStatus.NOT_STARTED:
        return _month_start(today, rng.choice((1, 2))).isoformat(), None
    if status is CoverageStatus.PROTECTED:
        start = _month_start(today, -rng.randint(3, 17))
        ahead = 1 if rng.random() < 0.7 else 0
        return start.isoformat(), month_end(_month_start(today, ahead)).isoformat()
    if status is CoverageStatus.ARREARS:
        # Two or three months behind: one month behind is not yet unpaid before the due day
        # (the 15th, DOMAIN.md §9), so it would read "protected" early in the month.
        behind = rng.randint(2, 3)
        start = _month_start(today, -behind - rng.randint(2, 12))
        return start.isoformat(), month_end(_month_start(today, -behind)).isoformat()
    behind = rng.randint(5, 9)
    start = _month_start(today, -behind - rng.randint(2, 8))
    return start.isoformat(), month_end(_month_start(today, -behind)).isoformat()


_BULK_STATUS_WEIGHTS: Final = (
    (CoverageStatus.PROTECTED, 86),
    (CoverageStatus.ARREARS, 5),
    (CoverageStatus.NON_ACTIVE, 3),
    (CoverageStatus.NOT_STARTED, 3),
    (CoverageStatus.NOT_ENROLLED, 3),
)


class _Roster:
    """Generates bulk worker rows (tuples for ``demo_repo.insert_workers``)."""

    def __init__(self, rng: Random, today: date, stamp: str) -> None:
        self.rng = rng
        self.today = today
        self.stamp = stamp
        regions = load_regions()
        self.all_desa: tuple[Desa, ...] = regions.all_desa
        self.coastal: tuple[Desa, ...] = tuple(
            d for k in COASTAL_KECAMATAN for d in regions.desa_in(k)
        )
        self.serials: dict[str, int] = {}
        self.oldest = _years_before(today, 65).toordinal() + 1  # aged 18-64 today
        self.youngest = _years_before(today, 18).toordinal()
        self.statuses = tuple(s for s, _ in _BULK_STATUS_WEIGHTS)
        self.weights = tuple(w for _, w in _BULK_STATUS_WEIGHTS)

    def row(self, sector: str) -> tuple[tuple[Any, ...], CoverageStatus]:
        rng = self.rng
        if sector == "nelayan_tangkap" and rng.random() < COASTAL_SHARE:
            desa = rng.choice(self.coastal)
        else:
            desa = rng.choice(self.all_desa)
        female = rng.random() < (0.05 if sector == "nelayan_tangkap" else 0.5)
        while True:
            born = date.fromordinal(rng.randint(self.oldest, self.youngest))
            day = born.day + (40 if female else 0)  # DOMAIN.md §5.1
            stem = f"3509{desa.code[6:8]}{day:02d}{born.month:02d}{born.year % 100:02d}"
            serial = self.serials.get(stem, 9000) + 1
            if serial <= 9999:
                break
        self.serials[stem] = serial
        name = rng.choice(_FEMALE if female else _MALE)
        status = rng.choices(self.statuses, self.weights)[0]
        start, paid = _coverage_dates(status, self.today, rng)
        enrolled = status is not CoverageStatus.NOT_ENROLLED
        kpj = f"99{rng.randint(0, 10**9 - 1):09d}" if enrolled else None
        decile = rng.choice((1, 1, 2, 2, 3, 3, 4, 5)) if rng.random() < 0.9 else None
        return (
            f"{stem}{serial:04d}",
            name,
            born.isoformat(),
            "P" if female else "L",
            desa.code,
            sector,
            rng.choice(_OCCUPATIONS[sector]),
            decile,
            kpj,
            start,
            paid,
            "verified",
            None,
            None,
            self.stamp,
            self.stamp,
        ), status


def _sample_row(
    sample: SampleWorker, today: date, stamp: str, registered_by: int | None
) -> tuple[Any, ...]:
    rng = Random(sample.nik)  # sample dates do not depend on the seed
    start, paid = _coverage_dates(sample.coverage, today, rng)
    if sample.coverage is CoverageStatus.PROTECTED:
        # "dilindungi sampai" the end of next month (CONVERSATIONS.md §2).
        paid = month_end(_month_start(today, 1)).isoformat()
    registered = registered_by is not None
    return (
        sample.nik,
        sample.name,
        sample.birth_date.isoformat(),
        sample.sex,
        sample.desa_code,
        sample.sector,
        _OCCUPATIONS[sample.sector][0],
        2,
        None if sample.coverage is CoverageStatus.NOT_ENROLLED else f"990000000{sample.nik[-2:]}",
        start,
        paid,
        "registered" if registered else "verified",
        registered_by,
        stamp if registered else None,
        stamp,
        stamp,
    )


async def _state(tx: Tx) -> tuple[int, dict[str, Any] | None]:
    workers = await demo_repo.count_workers(tx)
    marker = await demo_repo.last_audit_details(tx, DEMO_MARKER)
    return workers, (None if marker is None else loads(marker))


_RELATIONS: Final = (HeirRelation.SPOUSE, HeirRelation.CHILD, HeirRelation.PARENT)
_REJECT_NOTES: Final = (
    "Kecelakaan terjadi di luar kegiatan kerja",
    "Kepesertaan tidak aktif pada tanggal kejadian",
    "Dokumen tidak dilengkapi setelah 3 kali pengingat",
)
_PATHS: Final[dict[ClaimStatus, tuple[ClaimStatus, ...]]] = {
    ClaimStatus.SUBMITTED: (),
    ClaimStatus.IN_REVIEW: (ClaimStatus.IN_REVIEW,),
    ClaimStatus.DOCUMENTS_REQUESTED: (ClaimStatus.IN_REVIEW, ClaimStatus.DOCUMENTS_REQUESTED),
    ClaimStatus.FORWARDED_TO_BPJS: (ClaimStatus.IN_REVIEW, ClaimStatus.FORWARDED_TO_BPJS),
    ClaimStatus.APPROVED: (
        ClaimStatus.IN_REVIEW,
        ClaimStatus.FORWARDED_TO_BPJS,
        ClaimStatus.APPROVED,
    ),
    ClaimStatus.PAID: (
        ClaimStatus.IN_REVIEW,
        ClaimStatus.FORWARDED_TO_BPJS,
        ClaimStatus.APPROVED,
        ClaimStatus.PAID,
    ),
    ClaimStatus.REJECTED: (ClaimStatus.IN_REVIEW, ClaimStatus.REJECTED),
    ClaimStatus.WITHDRAWN: (ClaimStatus.WITHDRAWN,),
}
CLAIMS_PER_STATUS: Final = 3


async def _claim(
    tx: Tx,
    *,
    key: str,
    claim_type: ClaimType,
    subject: tuple[Any, ...],
    reported: datetime,
    rng: Random,
    path: tuple[ClaimStatus, ...],
    note: str | None,
    benefit: int | None,
) -> str:
    """File one demo claim and walk it along ``path`` (one day per step, all before now)."""
    nik, name, _birth, _sex, desa = subject[:5]
    relation: HeirRelation | None = None
    facts = ChecklistFacts(traffic_accident=rng.random() < 0.3)
    answers: dict[str, Any] = {"demo": True}
    event_date = (reported - timedelta(days=rng.randint(0, 2))).date()
    claimant = name
    if claim_type is not ClaimType.JKK:
        relation = rng.choice(_RELATIONS) if claim_type is ClaimType.JKM else HeirRelation.CHILD
        facts = ChecklistFacts(death=True, heir_relation=relation)
        claimant = rng.choice(_FEMALE)
        await demo_repo.mark_deceased(tx, nik, event_date.isoformat())
    if benefit is not None:
        answers["benefit_paid"] = benefit
    new = services.NewClaim(
        claim_type=claim_type,
        event_date=event_date,
        subject_nik=nik,
        subject_name=name,
        desa_code=desa,
        claimant_name=claimant,
        relation=None if relation is None else relation.value,
        answers=answers,
        checklist=tuple(d.value for d in checklist(claim_type, facts)),
    )
    claim = await services.submit_claim(
        tx, new, now=reported, idempotency_key=key, channel="admin", actor=Actor.CLAIMANT
    )
    when = reported
    for target in path:
        when += timedelta(days=1)
        withdraw = target is ClaimStatus.WITHDRAWN
        await services.transition_claim(
            tx,
            claim.ref,
            target,
            actor=Actor.CLAIMANT if withdraw else Actor.ADMIN,
            now=when,
            actor_ref="demo",
            channel="admin",
            note=note if target is ClaimStatus.REJECTED else None,
        )
    return claim.ref


async def _draft_claim(tx: Tx, *, subject: tuple[Any, ...], now: datetime, worker_id: int) -> str:
    """A claim still being written (drafts are not filed through ``submit_claim``)."""
    ref = await services.next_claim_ref(tx, now.year)
    await demo_repo.insert_draft_claim(
        tx,
        (
            ref,
            now.date().isoformat(),
            now.isoformat(),
            worker_id,
            subject[0],
            subject[1],
            subject[4],
            dumps({"demo": True}),
            dumps([d.value for d in checklist(ClaimType.JKK, ChecklistFacts())]),
            now.isoformat(),
            now.isoformat(),
        ),
    )
    return ref


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


def sample_status(sample: SampleWorker, today: date) -> CoverageStatus:
    """The coverage status a sample worker's stored dates give on ``today`` (for checks)."""
    row = _sample_row(sample, today, "", None)
    start = None if row[9] is None else date.fromisoformat(row[9])
    paid = None if row[10] is None else date.fromisoformat(row[10])
    return coverage_status(start=start, paid_through=paid, today=today).status
