"""Jember desa/kecamatan lookups on the real packaged data (DOMAIN.md §6)."""

import pytest

from lingkaran_core.regions import Desa, Regions, load_regions, normalise_name


@pytest.fixture(scope="module")
def regions() -> Regions:
    return load_regions()


def test_the_table_has_31_kecamatan_and_248_desa_of_which_22_kelurahan(regions: Regions) -> None:
    # DOMAIN.md §6: "31 kecamatan, 22 kelurahan, 226 desa".
    assert len(regions.all_kecamatan) == 31
    assert len(regions.all_desa) == 248
    assert sum(d.is_kelurahan for d in regions.all_desa) == 22


def test_load_regions_is_cached() -> None:
    assert load_regions() is load_regions()


@pytest.mark.parametrize(
    "code", ["35.09.27.2001", "3509272001", " 35.09.27.2001 ", "35 09 27 2001"]
)
def test_a_desa_is_found_by_code_with_or_without_dots(regions: Regions, code: str) -> None:
    desa = regions.desa(code)
    assert desa == Desa(
        code="35.09.27.2001", name="Gumuksari", kecamatan_code="35.09.27", is_kelurahan=False
    )
    assert regions.kecamatan_of(desa).name == "Kalisat"


@pytest.mark.parametrize("code", ["35.09.99.2001", "3509", "abc", "", "35.09.27.20011"])
def test_an_unknown_desa_code_gives_none(regions: Regions, code: str) -> None:
    assert regions.desa(code) is None


def test_a_kelurahan_is_recognised_by_its_fourth_segment(regions: Regions) -> None:
    mangli = regions.desa("35.09.19.1001")
    assert mangli is not None
    assert mangli.name == "Mangli"
    assert mangli.is_kelurahan


@pytest.mark.parametrize(("code", "name"), [("35.09.27", "Kalisat"), ("350921", "Sumbersari")])
def test_a_kecamatan_is_found_by_code(regions: Regions, code: str, name: str) -> None:
    kecamatan = regions.kecamatan(code)
    assert kecamatan is not None
    assert kecamatan.name == name


def test_desa_in_lists_the_desa_of_one_kecamatan(regions: Regions) -> None:
    kalisat = regions.desa_in("35.09.27")
    assert len(kalisat) == 12
    assert {d.kecamatan_code for d in kalisat} == {"35.09.27"}
    assert regions.desa_in("3509.27") == kalisat
    assert regions.desa_in("35.09.99") == ()


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("Desa Sumber Sari", "sumber sari"),
        ("Ds. Gumuksari", "gumuksari"),
        ("Kel. Mangli, Kec. Kaliwates", "mangli kaliwates"),
        ("KELURAHAN  Patrang!!", "patrang"),
    ],
)
def test_names_are_normalised_without_admin_words(text: str, normalised: str) -> None:
    assert normalise_name(text) == normalised


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Sumbersari", "35.09.21.1002"),  # also a kecamatan; the kelurahan is unique
        ("sumber sari", "35.09.21.1002"),
        ("sumbrsari", "35.09.21.1002"),
        ("SUMBERSARI", "35.09.21.1002"),
        ("puger kulun", "35.09.08.2004"),  # Pugerkulon
        ("Desa Gumuksari", "35.09.27.2001"),
        ("kel. mangli", "35.09.19.1001"),
        ("karangsemanding", "35.09.10.2002"),  # "Karang Semanding" in the data
        ("karang semanding", "35.09.10.2002"),
        ("Jatiroto", "35.09.03.2002"),  # only once in Jember (the rest is in Lumajang)
        ("sumberjti", "35.09.30.2007"),
        ("3509272001", "35.09.27.2001"),
        ("35.09.27.2001", "35.09.27.2001"),
    ],
)
def test_a_desa_name_resolves_despite_spacing_and_typos(
    regions: Regions, query: str, code: str
) -> None:
    resolution = regions.resolve_desa(query)
    assert resolution.match is not None
    assert resolution.match.code == code


# The real duplicate names in the data (checked against jember_wilayah.csv).
DUPLICATES = {
    "Ajung": {"35.09.17", "35.09.27"},
    "Arjasa": {"35.09.22", "35.09.29"},
    "Glagahwero": {"35.09.14", "35.09.27"},
    "Jambearum": {"35.09.08", "35.09.31"},
    "Karangrejo": {"35.09.04", "35.09.21"},
    "Patemon": {"35.09.06", "35.09.24"},
    "Sidomulyo": {"35.09.07", "35.09.30"},
    "Sukorejo": {"35.09.09", "35.09.29"},
    "Sukoreno": {"35.09.05", "35.09.27"},
    "Tamansari": {"35.09.11", "35.09.23"},
}


def test_the_duplicate_names_are_exactly_the_known_ten(regions: Regions) -> None:
    names = [d.name for d in regions.all_desa]
    duplicates = {n for n in names if names.count(n) > 1}
    assert duplicates == set(DUPLICATES)


@pytest.mark.parametrize(("name", "kecamatan_codes"), sorted(DUPLICATES.items()))
def test_a_name_used_in_two_kecamatan_is_not_resolved_alone(
    regions: Regions, name: str, kecamatan_codes: set[str]
) -> None:
    resolution = regions.resolve_desa(name)
    assert resolution.match is None
    assert {c.desa.kecamatan_code for c in resolution.candidates} == kecamatan_codes
    assert all(c.desa.name == name for c in resolution.candidates)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Sukorejo kec Sukowono", "35.09.29.2006"),
        ("Sukorejo, Bangsalsari", "35.09.09.2006"),
        ("sukorejo bangsalsari", "35.09.09.2006"),
        ("Desa Ajung Kec. Kalisat", "35.09.27.2008"),
        ("Karangrejo kecamatan sumbersari", "35.09.21.1004"),
        ("karangrejo, gumukmas", "35.09.04.2008"),
        ("karangrejo kec gumukmaz", "35.09.04.2008"),
    ],
)
def test_naming_the_kecamatan_disambiguates_a_duplicate(
    regions: Regions, query: str, code: str
) -> None:
    resolution = regions.resolve_desa(query)
    assert resolution.match is not None
    assert resolution.match.code == code


@pytest.mark.parametrize("query", ["", "   ", "xyzzy", "asdfgh qwerty", "jember", "12345", "!!"])
def test_garbage_finds_no_desa(regions: Regions, query: str) -> None:
    assert regions.find_desa(query) == []
    resolution = regions.resolve_desa(query)
    assert resolution.match is None
    assert resolution.candidates == ()


def test_find_desa_ranks_best_first_and_respects_the_limit(regions: Regions) -> None:
    matches = regions.find_desa("sumber", limit=3)
    assert len(matches) <= 3
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)


def test_a_weak_guess_is_offered_but_not_chosen(regions: Regions) -> None:
    resolution = regions.resolve_desa("sumberjat")
    assert resolution.candidates
    assert resolution.candidates[0].desa.name == "Sumberjati"
    # 'sumberjat' is close to several Sumber* names; it is still clearly Sumberjati.
    assert resolution.match is not None


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Kalisat", "Kalisat"),
        ("kec. puger", "Puger"),
        ("sumbrsari", "Sumbersari"),
        ("35.09.27", "Kalisat"),
        ("350927", "Kalisat"),
    ],
)
def test_a_kecamatan_resolves_by_name_or_code(regions: Regions, query: str, name: str) -> None:
    resolution = regions.resolve_kecamatan(query)
    assert resolution.match is not None
    assert resolution.match.name == name


def test_find_kecamatan_returns_nothing_for_garbage(regions: Regions) -> None:
    assert regions.find_kecamatan("qqqq") == []
    assert regions.resolve_kecamatan("qqqq").match is None
