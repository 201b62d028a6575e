"""End to end on the shared real data: the 1,520 villages of Kaltim and Kaltara, OpenCelliD towers.

Without terrain (no DEM covers the provinces in the shared data): COST-231 Hata for the 1800 MHz LTE
cells over a smooth earth, 500 m cells over the villages' extent (the benchmark runs 250 m). The tower
file is a partial extract: blankspots here are the extract's, not the operators'.
Kota Samarinda is also run with its real terrain (P.526) against the smooth-earth model.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import coverage

VILLAGES = "villages/village_boundaries_kaltim_kaltara.geojson"
CENTROIDS = "villages/villages_kaltim_kaltara_centroids.csv"
TOWERS = "towers/opencellid_510_kalimantan_bbox.csv"


@pytest.fixture(scope="module")
def real(shared_file):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distance-range and repaired-geometry warnings are expected
        run = coverage.run_villages(shared_file(TOWERS), shared_file(VILLAGES), hierarchy=shared_file(CENTROIDS),
                                    repair=True, technologies=("4g",), resolution_m=500)
    src = pd.read_csv(shared_file(CENTROIDS), dtype=str, keep_default_na=False)
    return run, src


def test_every_village_once_code_unchanged(real, shared_file):
    run, src = real
    t = run.table
    import geopandas as gpd

    raw = gpd.read_file(shared_file(VILLAGES))
    assert len(t) == 1520 == len(raw)
    assert t["kode"].tolist() == raw["kode"].tolist()  # same codes, same order, unchanged strings
    assert t["kode"].is_unique and all(isinstance(c, str) for c in t["kode"])
    assert set(t["kode"]) == set(src["kode"])
    assert set(t["status"]) <= {"covered", "partial", "blankspot"}
    assert not t["outside_extent"].any()
    assert run.metadata["repaired_geometries"] == ["64.07.07.2002"]


def test_counts_per_kabupaten_match_input_and_add_up(real):
    run, src = real
    kab = run.indicators["kabupaten"].set_index("kode")
    expected = src.groupby("kode_kab").size()
    assert kab["villages"].to_dict() == expected.to_dict()
    assert kab.loc["64.71", "nama"] == "Kota Balikpapan"
    prov = run.indicators["province"].set_index("kode")
    assert prov["villages"].to_dict() == {"64": 1038, "65": 482}
    for col in ("villages", "covered", "partial", "blankspot", "area_km2", "area_covered_km2"):
        by_prov = run.indicators["kabupaten"].groupby("kode_prov")[col].sum()
        for p in ("64", "65"):
            assert by_prov[p] == pytest.approx(prov.loc[p, col])
    kec = run.indicators["kecamatan"]
    assert kec["villages"].sum() == 1520
    assert (kab["covered"] + kab["partial"] + kab["blankspot"] == kab["villages"]).all()


def test_no_terrain_said_everywhere(real):
    run, _ = real
    assert run.metadata["has_terrain"] is False
    assert run.metadata["terrain"]["has_terrain"] is False
    assert run.metadata["models"]["4g"]["model"] == "cost231"
    assert not run.table["has_terrain"].any()
    assert not run.indicators["kabupaten"]["has_terrain"].astype(bool).any()
    assert "partial extract" in run.metadata["note"]


def test_balikpapan_covered_far_villages_blankspot(real):
    run, _ = real
    t = run.table
    sites = run.results["4g"].sites
    from pyproj import Geod

    g = Geod(ellps="WGS84")
    n_near = []
    for lon, lat in zip(t["point_lon"], t["point_lat"]):
        _, _, d = g.inv(np.full(len(sites), lon), np.full(len(sites), lat), sites["lon"].to_numpy(),
                        sites["lat"].to_numpy())
        n_near.append(int((d < 1500).sum()))
    t = t.assign(n_near=n_near)
    dense = t[(t["kode_kab"] == "64.71") & (t["n_near"] >= 10)]
    assert len(dense) >= 10  # Balikpapan's many cells
    assert (dense["status"] == "covered").all(), dense[["kode", "nama", "status", "usable_share"]]
    far = t[t["nearest_site_km"] > 30]
    assert len(far) > 500
    assert (far["status"] == "blankspot").all()
    assert (far["usable_share"] < 0.10).all()


def test_confusion_matrix_against_idm_2024(real, shared_file):
    run, _ = real
    idm = coverage.read_idm(shared_file("validation/idm2024_signal_desa_kaltim_kaltara.csv"))
    c = coverage.compare_survey(run.table, idm)
    assert c.n_matched == 1288 and c.unmatched_table == 232 and not c.unmatched_survey  # kelurahan: no IDM
    rows = c.matrix.sum(axis=1)
    assert rows["kuat"] == 537 + 255 and rows["lemah"] == 281 + 180 and rows["tidak_ada"] == 23 + 12
    # villages that report no signal are predicted blankspots (the model misses no real blankspot)...
    assert c.matrix.loc["tidak_ada", "blankspot"] / rows["tidak_ada"] >= 0.9
    # ...and where the extract does show service, villages report a signal
    served = c.matrix[["covered", "partial"]].sum(axis=0).sum()
    assert served > 0
    assert c.matrix.loc[["kuat", "lemah"], ["covered", "partial"]].to_numpy().sum() / served >= 0.9
    # but most villages reporting a signal are blankspots here: the tower file is a partial extract
    assert c.matrix.loc["kuat", "blankspot"] / rows["kuat"] > 0.5
    assert len(c.per_group) == 11  # the 11 kabupaten that have desa (the 4 kota have only kelurahan)


def test_samarinda_terrain_vs_smooth_earth(shared_file):
    terrain = coverage.open_terrain(shared_file("dem/samarinda_300m.tif"))
    v = coverage.read_villages(shared_file(VILLAGES), hierarchy=shared_file(CENTROIDS), repair=True)
    v = v[v["kode"].str.startswith("64.72")].reset_index(drop=True)
    assert len(v) == 59
    s = coverage.read_sites(shared_file(TOWERS))
    s = s[np.asarray(terrain.contains(s["lon"].to_numpy(), s["lat"].to_numpy()), bool)].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = coverage.run_villages(s, v, terrain=terrain, technologies=("4g",))
        b = coverage.run_villages(s, v, technologies=("4g",), bounds=terrain.bounds_lonlat, resolution_m=300)
    assert a.metadata["models"]["4g"]["model"] == "p526" and a.table["has_terrain"].all()
    assert b.metadata["models"]["4g"]["model"] == "cost231" and not b.table["has_terrain"].any()
    assert a.table["kode"].tolist() == b.table["kode"].tolist() == v["kode"].tolist()
    with pytest.raises(ValueError, match="terrain"):
        coverage.combine_tables([a.table, b.table])
    changes = pd.crosstab(a.table["status"], b.table["status"])
    assert int(changes.to_numpy().sum()) == 59
