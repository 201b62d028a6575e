"""2010 census population joined to today's villages by name."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import coverage
from coverage.errors import CoverageWarning, FileFormatError, InputError
from coverage.io.population import normalise_name, read_population, with_population

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


@pytest.mark.parametrize("raw, norm", [
    ("Kabupaten Kutai  Barat", "KUTAI BARAT"), ("Pa' Dalan", "PA DALAN"), ("Desa Long-Iram", "LONG IRAM"),
    ("LONG PENANEH SATU", "LONG PENANEH I"), ("Long Penaneh 1", "LONG PENANEH I"), ("Sei Bebanir", "SUNGAI BEBANIR"),
    ("Kota", "KOTA"), (None, ""),
])
def test_normalise_name(raw, norm):
    assert normalise_name(raw) == norm


def _villages(rows):
    """Villages with square polygons of the given areas (degrees²), in one kecamatan."""
    geoms, x = [], 116.0
    for _, _, side in rows:
        geoms.append(shapely.box(x, -1.0, x + side, -1.0 + side))
        x += side + 0.01
    return gpd.GeoDataFrame({
        "kode": [r[0] for r in rows], "nama": [r[1] for r in rows], "nama_kec": "Kec A",
        "nama_kab": "Kabupaten Contoh"}, geometry=geoms, crs="EPSG:4326")


CENSUS = pd.DataFrame({
    "kab_name": "CONTOH", "kec_name": "KEC A",
    "desa_name": ["BATU", "LONG IRAM", "SUNGAI MERIAM", "TANJUNG"],
    "population_2010": [1000, 500, 700, 300], "bps_code_10": ["1", "2", "3", "4"],
})


def test_tiers_split_by_area_and_unmatched_reported():
    v = _villages([("64.99.01.2001", "Batu", 0.01), ("64.99.01.2002", "Batu Utara", 0.02),
                   ("64.99.01.2003", "Long-Iram", 0.01), ("64.99.01.2004", "Sungai Mariam", 0.01),
                   ("64.99.01.2005", "Muara Baru", 0.01)])
    with pytest.warns(CoverageWarning, match="4 of 5 villages"):
        j = read_population(CENSUS, v)
    t = j.table.set_index("kode")
    # Batu (exact) and Batu Utara (split off it, twice the side: four times the area) share Batu's 1000
    # people by area, 1 : 4 (the cos-latitude difference between the boxes is below 1e-3 here)
    assert t.loc["64.99.01.2001", "population_method"] == "exact"
    assert t.loc["64.99.01.2002", "population_method"] == "split"
    assert t.loc["64.99.01.2001", "population"] == pytest.approx(1000 / 5, rel=1e-3)
    assert t.loc["64.99.01.2002", "population"] == pytest.approx(4000 / 5, rel=1e-3)
    assert t.loc["64.99.01.2003", "population"] == 500
    assert t.loc["64.99.01.2004", "population_method"] == "fuzzy"
    assert t.loc["64.99.01.2004", "population"] == 700
    # nothing dropped: the unmatched village is there with NaN and listed; the unused row is listed
    assert np.isnan(t.loc["64.99.01.2005", "population"])
    assert j.unmatched["kode"].tolist() == ["64.99.01.2005"]
    assert j.unused["desa_name"].tolist() == ["TANJUNG"]
    assert j.match_rate == pytest.approx(0.8)
    assert j.people_matched_share == pytest.approx(2200 / 2500)
    # the people of each census row are conserved
    assert t["population"].sum() == pytest.approx(2200)


def test_ambiguous_names_are_not_guessed():
    census = pd.concat([CENSUS, CENSUS.iloc[[0]].assign(bps_code_10="9")], ignore_index=True)  # two BATU
    v = _villages([("64.99.01.2001", "Batu", 0.01)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        j = read_population(census, v)
    assert j.table["population_method"].iloc[0] == "unmatched"


def test_bad_census_and_villages(tmp_path):
    v = _villages([("64.99.01.2001", "Batu", 0.01)])
    with pytest.raises(FileFormatError, match="missing column"):
        read_population(CENSUS.drop(columns="desa_name"), v)
    bad = tmp_path / "c.csv"
    CENSUS.assign(population_2010=["1000", "-5", "x", "3"]).to_csv(bad, index=False)
    with pytest.raises(FileFormatError, match=r"c\.csv: row 3 .*-5"):
        read_population(bad, v)
    with pytest.raises(InputError, match="nama_kec"):
        read_population(CENSUS, v.drop(columns="nama_kec"))
    with pytest.raises(FileFormatError, match="does not exist"):
        read_population(tmp_path / "none.csv", v)
    with pytest.raises(InputError, match="population must be"):
        with_population(v, 3)


def test_population_reaches_the_indicator():
    """run_villages(population=...) fills the villages' population: the indicator's P term uses it."""
    terrain = coverage.open_terrain(SAMPLES / "terrain.tif")
    villages = coverage.read_villages(SAMPLES / "villages.geojson").drop(columns="population")
    pop = pd.Series(np.arange(1, len(villages) + 1) * 100.0, index=villages["kode"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        plain = coverage.run_villages(SAMPLES / "sites.csv", villages, terrain=terrain, radius_m=4000)
        run = coverage.run_villages(SAMPLES / "sites.csv", villages, terrain=terrain, radius_m=4000, population=pop)
    t = run.table
    assert t["population"].tolist() == pop.tolist()
    assert np.allclose(t["population_covered"], pop.to_numpy() * t["usable_share"].to_numpy())
    prov = run.indicators["province"].iloc[0]
    assert prov["share_population_covered"] == pytest.approx(t["population_covered"].sum() / pop.sum())
    assert "P" in str(prov["score_terms"])
    assert "P" not in str(plain.indicators["province"].iloc[0]["score_terms"])


def test_real_census_join(shared_file):
    v = coverage.read_villages(shared_file("villages/village_boundaries_kaltim_kaltara.geojson"),
                               hierarchy=shared_file("villages/villages_kaltim_kaltara_centroids.csv"), repair=True)
    census = shared_file("population/census2010_villages_kaltim_kaltara.csv")
    with pytest.warns(CoverageWarning, match="census 2010 population joined"):
        j = read_population(census, v)
    total = pd.read_csv(census)["population_2010"].sum()
    assert total == 3_553_143  # the official SP2010 total of 2010's province 64
    assert len(j.table) == len(v) == 1520
    assert j.match_rate >= 0.90
    assert j.people_matched_share >= 0.95
    # nothing silent: every village without population is in .unmatched, every unused census row in .unused
    nan = j.table["population"].isna()
    assert sorted(j.table.loc[nan, "kode"]) == sorted(j.unmatched["kode"])
    assert j.table["population"].sum() + j.unused["population_2010"].sum() == pytest.approx(total)
    # Kota Samarinda: 53 kelurahan in 2010, 59 today; most of its people found
    sam = j.table[j.table["kode"].str.startswith("64.72.")]
    assert sam["population"].sum() / 727_500 > 0.9
