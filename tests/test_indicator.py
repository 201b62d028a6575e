"""Indicator aggregation, score formula, exports and the `blankspot villages` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import coverage
from coverage.render.export import atomic_path, write_csv, write_excel, write_villages

REPO = Path(__file__).resolve().parents[1]


def village_table(has_terrain=False, technology="4g"):
    """A hand-made assessed table: 2 kabupaten in one province, 3 kecamatan, 6 villages."""
    rows = [
        # kode, status, usable_share, area_km2, population
        ("64.01.01.2001", "covered", 0.95, 10.0, 1000.0),
        ("64.01.01.2002", "partial", 0.50, 20.0, 500.0),
        ("64.01.02.2001", "blankspot", 0.00, 30.0, np.nan),
        ("64.02.01.2001", "covered", 1.00, 5.0, 2000.0),
        ("64.02.01.2002", "blankspot", 0.05, 40.0, 100.0),
        ("64.02.01.2003", "unassessed", np.nan, 8.0, 50.0),
    ]
    df = pd.DataFrame(rows, columns=["kode", "status", "usable_share", "area_km2", "population"])
    df["kode_kec"] = df["kode"].str[:8]
    df["kode_kab"] = df["kode"].str[:5]
    df["kode_prov"] = "64"
    df["nama_kec"] = "Kec " + df["kode_kec"]
    df["nama_kab"] = "Kab " + df["kode_kab"]
    df["nama_prov"] = "Kalimantan Timur"
    df["extent_share"] = np.where(df["status"] == "unassessed", 0.0, 1.0)
    df["outside_extent"] = df["status"] == "unassessed"
    df["population_covered"] = df["population"] * df["usable_share"]
    df["technology"] = technology
    df["model"] = "hata"
    df["has_terrain"] = has_terrain
    geoms = [box(117 + i * 0.01, -0.5, 117.005 + i * 0.01, -0.495) for i in range(len(df))]
    return gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4326")


def test_indicator_counts_and_score_formula():
    t = village_table()
    k = coverage.indicator(t, level="kabupaten")
    assert k["kode"].tolist() == ["64.01", "64.02"]
    a = k.iloc[0]
    assert (a["villages"], a["covered"], a["partial"], a["blankspot"], a["unassessed"]) == (3, 1, 1, 1, 0)
    assert a["share_villages_covered"] == pytest.approx(1 / 3)
    assert a["area_km2"] == pytest.approx(60.0)
    assert a["area_covered_km2"] == pytest.approx(0.95 * 10 + 0.5 * 20)
    assert a["share_area_covered"] == pytest.approx((9.5 + 10) / 60)
    # population only where known (the blankspot village has none)
    assert a["population"] == pytest.approx(1500)
    assert a["share_population_covered"] == pytest.approx((950 + 250) / 1500)
    V = (1 + 0.5) / 3
    P = 1200 / 1500
    A = 19.5 / 60
    assert a["score"] == pytest.approx(round(100 * (0.4 * V + 0.4 * P + 0.2 * A), 2))
    assert a["score_terms"] == "V+P+A"
    b = k.iloc[1]
    # the unassessed village counts as a village but not in the shares
    assert (b["villages"], b["villages_assessed"], b["unassessed"], b["outside_extent"]) == (3, 2, 1, 1)
    assert b["share_villages_covered"] == pytest.approx(0.5)
    assert b["area_km2"] == pytest.approx(53.0)
    assert b["share_area_covered"] == pytest.approx((5 + 2) / 45)


def test_score_without_population_renormalises():
    t = village_table()
    t["population"] = np.nan
    t["population_covered"] = np.nan
    k = coverage.indicator(t, level="kabupaten").iloc[0]
    V, A = 1.5 / 3, 19.5 / 60
    assert np.isnan(k["share_population_covered"])
    assert k["score"] == pytest.approx(round(100 * (0.4 * V + 0.2 * A) / 0.6, 2))
    assert k["score_terms"] == "V+A"


def test_levels_add_up():
    t = village_table()
    kec = coverage.indicator(t, "kecamatan")
    kab = coverage.indicator(t, "kabupaten")
    prov = coverage.indicator(t, "province")
    assert kec["kode"].tolist() == ["64.01.01", "64.01.02", "64.02.01"]
    assert kec["kode_kab"].tolist() == ["64.01", "64.01", "64.02"]
    assert len(prov) == 1 and prov["kode"].iloc[0] == "64"
    for col in ("villages", "villages_assessed", "covered", "partial", "blankspot", "unassessed", "area_km2",
                "area_covered_km2", "population", "population_covered"):
        assert kec[col].sum() == pytest.approx(prov[col].iloc[0])
        assert kab[col].sum() == pytest.approx(prov[col].iloc[0])
    with pytest.raises(ValueError, match="level"):
        coverage.indicator(t, "desa")


def test_indicator_refuses_mixed_terrain_and_technologies():
    t = pd.concat([village_table(False).iloc[:3], village_table(True).iloc[3:]])
    with pytest.raises(ValueError, match="terrain"):
        coverage.indicator(t)
    t2 = pd.concat([village_table(technology="4g").iloc[:3], village_table(technology="2g").iloc[3:]])
    with pytest.raises(ValueError, match="technologies"):
        coverage.indicator(t2)
    with pytest.raises(ValueError, match="terrain"):
        coverage.indicator_by_technology({"4g": village_table(False), "2g": village_table(True, "2g")})


def test_indicator_by_technology():
    t4 = village_table()
    t2 = village_table(technology="2g")
    t2["status"] = "covered"
    t2["usable_share"] = 1.0
    t2["population_covered"] = t2["population"]
    s = coverage.indicator_by_technology({"4g": t4, "2g": t2}, level="province")
    assert s["share_population_covered_2g"].iloc[0] == pytest.approx(1.0)
    assert s["share_population_covered_4g"].iloc[0] < 1.0
    assert s["blankspot_2g"].iloc[0] == 0 and s["blankspot_4g"].iloc[0] == 2


# --------------------------------------------------------------------------- exports


def test_exports_keep_codes_as_text(tmp_path):
    t = village_table()
    t.loc[0, "kode"] = "64.01.01.2001"
    csv = write_csv(t, tmp_path / "v.csv")
    back = pd.read_csv(csv, dtype=str)
    assert back["kode"].tolist() == t["kode"].tolist()
    gj = write_villages(t, tmp_path / "v.geojson")
    g = gpd.read_file(gj)
    assert g["kode"].tolist() == t["kode"].tolist() and g["status"].tolist() == t["status"].tolist()
    assert g["has_terrain"].dtype == bool and not g["has_terrain"].any()
    gp = write_villages(t, tmp_path / "v.gpkg")
    assert gpd.read_file(gp)["kode"].tolist() == t["kode"].tolist()
    sheets = {lv: coverage.indicator(t, lv) for lv in ("kecamatan", "kabupaten", "province")}
    xl = write_excel(sheets, tmp_path / "i.xlsx", about={"terrain": "none (smooth earth)"})
    from openpyxl import load_workbook

    wb = load_workbook(xl)
    assert wb.sheetnames == ["kecamatan", "kabupaten", "province", "about"]
    ws = wb["kabupaten"]
    assert ws["A1"].value == "kode" and ws["A2"].value == "64.01" and isinstance(ws["A2"].value, str)
    assert [c.value for c in wb["about"]["A"]][1] == "terrain"
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            Path(tmp).write_text("half")
            raise RuntimeError("crash while writing")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.csv"]


# --------------------------------------------------------------------------- one call and command line


def test_run_villages_one_call(tmp_path):
    s = REPO / "data" / "samples"
    run = coverage.run_villages(s / "sites.csv", s / "villages.geojson", terrain=s / "terrain.tif",
                                radius_m=10_000, out_dir=tmp_path)
    assert run.metadata["models"]["4g"]["model"] == "p526" and run.metadata["has_terrain"]
    assert len(run.table) == 24 and set(run.indicators) == {"kecamatan", "kabupaten", "province"}
    assert run.indicators["province"]["villages"].iloc[0] == 24
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["has_terrain"] is True and meta["note"] is None  # the sample towers are no OpenCelliD extract


def test_run_villages_without_terrain_picks_model_by_frequency(tmp_path):
    s = REPO / "data" / "samples"
    sites = coverage.read_sites(s / "sites.csv")
    sites = sites[sites["freq_mhz"] == 1800].reset_index(drop=True)
    run = coverage.run_villages(sites, s / "villages.geojson", resolution_m=200, radius_m=10_000)
    used = run.metadata["models"]["4g"]
    assert used["model"] == "cost231" and used["model_params"] == {"environment": "suburban"}
    assert run.metadata["has_terrain"] is False and not run.table["has_terrain"].any()
    assert run.indicators["kabupaten"]["has_terrain"].iloc[0] is False or \
        not bool(run.indicators["kabupaten"]["has_terrain"].iloc[0])
    mixed = coverage.read_sites(s / "sites.csv")
    assert mixed["freq_mhz"].nunique() > 1  # 900 and 1800 MHz: each site gets its own model
    run = coverage.run_villages(mixed, s / "villages.geojson", resolution_m=200, radius_m=10_000)
    assert run.metadata["models"]["4g"]["model"] == "cost231+hata"


def test_cli_villages_as_a_user_runs_it(tmp_path):
    s = REPO / "data" / "samples"
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "coverage.cli", "villages", "--sites", str(s / "sites.csv"),
           "--villages", str(s / "villages.geojson"), "--terrain", str(s / "terrain.tif"), "--radius", "10000",
           "--out-dir", str(tmp_path / "out")]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["villages"] == 24 and summary["has_terrain"] is True
    out = tmp_path / "out"
    for f in ("villages_4g.csv", "villages_4g.geojson", "indicator_kecamatan.csv", "indicator_kabupaten.csv",
              "indicator_province.csv", "indicators.xlsx", "metadata.json"):
        assert (out / f).is_file(), f
    kab = pd.read_csv(out / "indicator_kabupaten.csv", dtype={"kode": str})
    assert kab["kode"].tolist() == ["64.99"] and kab["villages"].iloc[0] == 24
    # a bad input is a clear error, exit code 2
    bad = tmp_path / "bad.csv"
    bad.write_text("kode,lat,lng\n64.99.01.2001,-0.4,116.8\n64.99.01.2001,-0.41,116.8\n")
    p = subprocess.run(cmd[:6] + ["--villages", str(bad), "--terrain", str(s / "terrain.tif"),
                                  "--out-dir", str(tmp_path / "o2")], capture_output=True, text=True, env=env,
                       timeout=300)
    assert p.returncode == 2 and "duplicate village code" in p.stderr


def test_tables_read_back_from_csv_keep_the_terrain_check(tmp_path):
    t = pd.concat([village_table(False).iloc[:3], village_table(True).iloc[3:]])
    write_csv(t, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", dtype=str)
    back["usable_share"] = back["usable_share"].astype(float)
    with pytest.raises(ValueError, match="terrain"):
        coverage.indicator(back)
