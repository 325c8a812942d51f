"""The demo's people: names, occupations, the fixed sample workers, and the bulk roster rows with
coverage dates placed relative to ``today`` so every coverage status exists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from random import Random
from typing import Any, Final

from lingkaran_core.coverage import CoverageStatus, add_months, coverage_status, month_end
from lingkaran_core.regions import Desa, load_regions
from lingkaran_core.rules import SECTORS

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


def sample_status(sample: SampleWorker, today: date) -> CoverageStatus:
    """The coverage status a sample worker's stored dates give on ``today`` (for checks)."""
    row = _sample_row(sample, today, "", None)
    start = None if row[9] is None else date.fromisoformat(row[9])
    paid = None if row[10] is None else date.fromisoformat(row[10])
    return coverage_status(start=start, paid_through=paid, today=today).status
