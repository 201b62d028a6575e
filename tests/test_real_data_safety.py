"""Issue 9: the defects a new user hits on real data, each with the regression test named after it,
and the family of bad inputs that must be answered by a package error naming file, row and parameter."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

import coverage
from coverage.engine import tiles as T
from coverage.engine.tiles import plan_tiles, predict_tiled
from coverage.engine.sweep import Grid
from coverage.errors import (
    CoverageError,
    CoverageWarning,
    FileFormatError,
    InputError,
    ModelRangeWarning,
    OutputLockedError,
    SiteError,
    TerrainExtentError,
    TerrainWarning,
    VillageError,
)
from coverage.propagation import get_model
from coverage.propagation.hata import DEFAULT_ENVIRONMENT

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"
SRC = REPO / "src"


def _csv(tmp_path, text, name="sites.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _flat_terrain(n=60, cell_deg=0.001, lon0=117.0, lat0=-0.4, z=10.0):
    return coverage.Terrain(np.full((n, n), z, np.float32), Affine(cell_deg, 0, lon0, 0, -cell_deg, lat0), "EPSG:4326")


def _site(lon, lat, sid="S1", freq=900.0, tech="4g"):
    return pd.DataFrame({"site_id": [sid], "lon": [lon], "lat": [lat], "height_m": [30.0], "freq_mhz": [freq],
                         "eirp_dbm": [60.0], "technology": [tech], "bandwidth_mhz": [10.0]})


def _villages(polys, codes):
    return coverage.read_villages(gpd.GeoDataFrame({"kode": codes}, geometry=polys, crs="EPSG:4326"))


# ------------------------------------------------------------------------------------------ item 1


def test_issue9_item1_polygon_outside_grid_is_unassessed():
    # grid: lon 117.0-117.06, lat -0.46 - -0.40; the triangle's bounding box overlaps the grid's
    # north-east corner, the triangle itself lies wholly north-east of it
    res = coverage.predict(_flat_terrain(), _site(117.03, -0.43), model="fspl", radius_m=3000)
    tri = shapely.Polygon([(117.05, -0.385), (117.2, -0.385), (117.2, -0.45)])
    assert shapely.box(*res.bounds).intersects(shapely.box(*tri.bounds))
    assert not shapely.box(*res.bounds).intersects(tri)
    inside = shapely.box(117.01, -0.45, 117.02, -0.44)
    v = _villages([tri, inside], ["64.72.01.1001", "64.72.01.1002"])
    with pytest.warns(CoverageWarning, match="1 with no cell in it"):
        t = coverage.assess_villages(v, res)
    assert list(t["status"]) == ["unassessed", "covered"]
    assert t["extent_share"].iloc[0] == 0.0 and bool(t["outside_extent"].iloc[0])


@pytest.mark.shared
def test_issue9_item1_real_villages_crossing_the_samarinda_grid(shared_file):
    dem = shared_file("dem/samarinda_300m.tif")
    villages = shared_file("villages/village_boundaries_kaltim_kaltara.geojson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        terrain = coverage.open_terrain(dem)
        v = coverage.read_villages(villages, repair=True)
        lon0, lat0, lon1, lat1 = terrain.bounds_lonlat
        res = coverage.predict(terrain, _site(0.5 * (lon0 + lon1), 0.5 * (lat0 + lat1)), model="fspl",
                               radius_m=5000)
        t = coverage.assess_villages(v, res)  # crashed with IndexError in _fractions
    box = shapely.box(*res.bounds)
    gv = v.to_crs(res.crs)
    bbox_only = np.array([box.intersects(shapely.box(*g.bounds)) and not box.intersects(g) for g in gv.geometry])
    assert bbox_only.sum() >= 1  # the Kutai Kartanegara villages of the report
    assert (t.loc[bbox_only, "status"] == "unassessed").all()


# ------------------------------------------------------------------------------------------ item 2


def test_issue9_item2_one_default_environment_everywhere(tmp_path):
    sites = coverage.read_sites(SAMPLES / "sites.csv")
    s1800 = sites[sites["freq_mhz"] == 1800].reset_index(drop=True)
    with pytest.warns(CoverageWarning, match=f"{DEFAULT_ENVIRONMENT!r} assumed"):
        r = coverage.predict(None, s1800, model="cost231", radius_m=5000, resolution_m=500)
    assert r.metadata["model_params"]["environment"] == DEFAULT_ENVIRONMENT
    assert r.metadata["assumed"] == {"environment": DEFAULT_ENVIRONMENT}
    assert get_model("hata").defaults["environment"] == get_model("cost231").defaults["environment"] == DEFAULT_ENVIRONMENT
    run = coverage.run_villages(s1800, SAMPLES / "villages.geojson", resolution_m=500, radius_m=5000)
    assert run.metadata["models"]["4g"]["model_params"]["environment"] == DEFAULT_ENVIRONMENT
    assert run.metadata["assumed"]["4g"] == {"environment": DEFAULT_ENVIRONMENT}
    # the same grid and default give the same answer through both entry points
    direct = coverage.predict(None, s1800, model="cost231", radius_m=5000, resolution_m=500,
                              bounds=run.metadata["bounds"], technology="4g")
    np.testing.assert_array_equal(direct.best_dbm, run.results["4g"].best_dbm)


# ------------------------------------------------------------------------------------------ item 3


@pytest.mark.parametrize("bounds, match", [
    ((-0.5, 116.7, -0.4, 116.9), "swapped"),  # (lat, lon, lat, lon)
    ((116.9, -0.5, 116.7, -0.4), "empty or inverted"),
    ((116.7, -0.4, 116.9, -0.4), "empty or inverted"),
    ((116.7, -95.0, 116.9, -0.4), "outside \\[-90, 90\\]"),
    ((116.7, -0.5, 116.9), "four numbers"),
    ((116.7, float("nan"), 116.9, -0.4), "four numbers"),
])
def test_issue9_item3_bad_bounds_are_refused_naming_bounds(bounds, match):
    sites = coverage.read_sites(SAMPLES / "sites.csv")
    with pytest.raises(InputError, match=f"bounds.*{match}|{match}.*bounds|bounds") as exc:
        coverage.predict(None, sites, model="fspl", bounds=bounds, resolution_m=500)
    assert "bounds" in str(exc.value)
    with pytest.raises(InputError, match=match):
        coverage.predict(coverage.open_terrain(SAMPLES / "terrain.tif"), sites, model="fspl", bounds=bounds)
    with pytest.raises(InputError, match=match):
        coverage.run_villages(sites, SAMPLES / "villages.geojson", bounds=bounds)


# ------------------------------------------------------------------------------------------ item 4


def test_issue9_item4_defaults_are_said_per_site_and_in_metadata(tmp_path):
    p = _csv(tmp_path, "site_id,lon,lat,height_m,technology\nA,117.01,-0.41,,4g\nB,117.02,-0.42,45,2g\n")
    with pytest.warns(CoverageWarning, match=r"height_m=30 for 1 of 2.*freq_mhz=2g 900, 4g 1800 for 2 of 2"
                                              r".*eirp_dbm=2g 57, 4g 60 for 2 of 2"):
        s = coverage.read_sites(p)
    assert list(s["defaulted"]) == ["height_m,freq_mhz,bandwidth_mhz,eirp_dbm", "freq_mhz,bandwidth_mhz,eirp_dbm"]
    assert s.attrs["defaults_applied"]["height_m"] == {"sites": 1, "values": {"all": 30.0}}
    assert s.attrs["defaults_applied"]["freq_mhz"]["values"] == {"2g": 900.0, "4g": 1800.0}
    r = coverage.predict(_flat_terrain(), s, model="fspl", radius_m=2000)
    assert r.metadata["site_defaults"]["eirp_dbm"]["sites"] == 2
    # a complete file: nothing assumed, nothing said
    with warnings.catch_warnings():
        warnings.simplefilter("error", CoverageWarning)
        full = coverage.read_sites(_csv(tmp_path, "site_id,lon,lat,height_m,freq_mhz,eirp_dbm,bandwidth_mhz,"
                                                  "technology\nA,117,-0.4,30,900,55,10,4g\n", "full.csv"))
    assert full["defaulted"].iloc[0] == "" and full.attrs["defaults_applied"] == {}


# ------------------------------------------------------------------------------------------ item 5


def test_issue9_item5_opencellid_note_only_for_opencellid_towers(tmp_path):
    ocid = _csv(tmp_path, "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,"
                          "averageSignal\nLTE,510,10,1,2,0,116.79,-0.44,500,3,1,1,1,0\n"
                          "LTE,510,10,1,3,0,116.81,-0.45,500,3,1,1,1,0\n", "ocid.csv")
    kw = dict(resolution_m=500, radius_m=5000, out_dir=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        plain = coverage.run_villages(SAMPLES / "sites.csv", SAMPLES / "villages.geojson", **kw)
        extract = coverage.run_villages(ocid, SAMPLES / "villages.geojson", **kw)
    assert plain.metadata["note"] is None and plain.metadata["sites_layout"] == "plain"
    assert "OpenCelliD extract" in extract.metadata["note"] and extract.metadata["sites_layout"] == "opencellid"


# ------------------------------------------------------------------------------------------ item 6


def _tables():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        run = coverage.run_villages(SAMPLES / "sites.csv", SAMPLES / "villages.geojson", resolution_m=500,
                                    radius_m=5000, technologies=None)
    return run


def test_issue9_item6_output_folder_is_one_set(tmp_path, monkeypatch):
    from coverage.render import export

    run = _tables()
    out = tmp_path / "out"
    both = dict(run.tables, **{"2g": run.tables["4g"].assign(technology="2g")})
    export.write_run(out, both, run.indicators, run.metadata)
    assert (out / "villages_2g.csv").exists()
    # a second run into the same folder replaces the set: no 2g file of the first run survives
    export.write_run(out, {"4g": run.tables["4g"]}, run.indicators, run.metadata)
    assert not (out / "villages_2g.csv").exists() and (out / "villages_4g.csv").exists()
    before = sorted(os.listdir(out))
    # an interrupt while writing leaves the folder as it was and no temporary folder behind
    monkeypatch.setattr(export, "write_json", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        export.write_run(out, {"4g": run.tables["4g"]}, run.indicators, run.metadata)
    assert sorted(os.listdir(out)) == before
    assert sorted(os.listdir(tmp_path)) == ["out"]
    monkeypatch.undo()
    # a folder of someone else's files is refused, never replaced
    other = tmp_path / "home"
    other.mkdir()
    (other / "thesis.docx").write_text("precious")
    with pytest.raises(OutputLockedError, match="did not write"):
        export.write_run(other, {"4g": run.tables["4g"]}, run.indicators, run.metadata)
    assert (other / "thesis.docx").read_text() == "precious"


def test_issue9_item6_second_writer_refuses(tmp_path):
    from coverage.render import export

    run = _tables()
    out = tmp_path / "out"
    # a live process (our parent) holds the lock: this run refuses instead of interleaving
    Path(str(out) + ".lock").write_text(str(os.getppid()))
    with pytest.raises(OutputLockedError, match="another run"):
        export.write_run(out, {"4g": run.tables["4g"]}, run.indicators, run.metadata)
    with pytest.raises(OutputLockedError, match="another run"):
        Path(str(tmp_path / "out.tif") + ".lock").write_text(str(os.getppid()))
        predict_tiled(_flat_terrain(), _site(117.03, -0.43), model="fspl", radius_m=2000,
                      out=tmp_path / "out.tif", workers=0)
    # a lock whose process is gone is taken over
    Path(str(out) + ".lock").write_text("999999999")
    export.write_run(out, {"4g": run.tables["4g"]}, run.indicators, run.metadata)
    assert (out / "metadata.json").exists() and not Path(str(out) + ".lock").exists()


# ------------------------------------------------------------------------------------------ item 9


def test_issue9_item9_every_bad_row_in_one_error(tmp_path):
    p = _csv(tmp_path, "site_id,lon,lat,height_m,freq_mhz\nA,117.1,abc,30,900\nB,117.2,-0.5,-3,900\n"
                       "C,117.3,-0.5,30,900\nD,117.4,-0.5,30,zero\n")
    with pytest.raises(SiteError) as exc:
        coverage.read_sites(p)
    msg = str(exc.value)
    assert str(p) in msg and "3 problem(s) in 3 row(s)" in msg
    assert "row 1, column 'lat'" in msg and "'abc'" in msg
    assert "row 2, column 'height_m'" in msg and "height_m=-3" in msg
    assert "row 4, column 'freq_mhz'" in msg and "'zero'" in msg
    many = "site_id,lon,lat\n" + "".join(f"S{i},117,{100 + i}\n" for i in range(25))
    with pytest.raises(SiteError, match=r"25 problem\(s\)[\s\S]*row 20, column 'lat'[\s\S]*and 5 more") as exc:
        coverage.read_sites(_csv(tmp_path, many, "many.csv"))
    assert "row 21," not in str(exc.value)


def test_issue9_item9_every_bad_village_row_in_one_error(tmp_path):
    p = _csv(tmp_path, "kode,lat,lng,population\n64.01.01.2009,-1.9,115.86,10\n64.01.01.2010,abc,115.8,5\n"
                       "64.01.01.2011,-1.8,115.8,-4\n64.01.01.2012,-1.7,xyz,3\n", "v.csv")
    with pytest.raises(VillageError) as exc:
        coverage.read_villages(p)
    msg = str(exc.value)
    assert "row 3, column 'lat'" in msg and "row 5, column 'lng'" in msg
    bad_codes = _csv(tmp_path, "kode,lat,lng\n64.01.01.2009,-1.9,115.86\nX1,-1.9,115.8\nX2,-1.8,115.8\n", "c.csv")
    with pytest.raises(VillageError, match=r"(?s)row 3, column 'code'.*'X1'.*row 4, column 'code'.*'X2'"):
        coverage.read_villages(bad_codes)


# ------------------------------------------------------------------------------------------ item 10


def test_issue9_item10_semicolon_csv_with_decimal_commas(tmp_path):
    comma = coverage.read_sites(SAMPLES / "sites.csv")
    text = (SAMPLES / "sites.csv").read_text().splitlines()
    semi = "\n".join(";".join(c.replace(".", ",") for c in line.split(",")) for line in text) + "\n"
    s = coverage.read_sites(_csv(tmp_path, semi, "sites_id.csv"))
    cols = ["lon", "lat", "height_m", "freq_mhz", "eirp_dbm", "bandwidth_mhz", "azimuth_deg"]
    pd.testing.assert_frame_equal(pd.DataFrame(s[cols]), pd.DataFrame(comma[cols]))
    assert list(s["site_id"]) == list(comma["site_id"])


def test_issue9_item10_semicolon_villages_csv(tmp_path):
    p = _csv(tmp_path, "kode;lat;lng;penduduk\n64.01.01.2009;-1,9;115,86;1200\n64.01.01.2010;-1,8;115,81;900\n", "v.csv")
    v = coverage.read_villages(p)
    np.testing.assert_allclose(v.geometry.y, [-1.9, -1.8])
    np.testing.assert_allclose(v.geometry.x, [115.86, 115.81])
    assert list(v["kode"]) == ["64.01.01.2009", "64.01.01.2010"] and list(v["population"]) == [1200.0, 900.0]


def test_issue9_item10_xlsx_sites_read_or_refused_clearly(tmp_path):
    pytest.importorskip("openpyxl")
    comma = coverage.read_sites(SAMPLES / "sites.csv")
    x = tmp_path / "sites.xlsx"
    pd.read_csv(SAMPLES / "sites.csv").to_excel(x, index=False)
    s = coverage.read_sites(x)
    np.testing.assert_allclose(s["lon"], comma["lon"])
    assert list(s["site_id"]) == list(comma["site_id"])
    disguised = tmp_path / "sites_export.csv"
    disguised.write_bytes(x.read_bytes())
    with pytest.raises(FileFormatError, match="spreadsheet"):
        coverage.read_sites(disguised)
    old = tmp_path / "sites.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    with pytest.raises(FileFormatError, match=r"\.xls spreadsheets are not read"):
        coverage.read_sites(old)


# ------------------------------------------------------------------------------------------ item 11


def test_issue9_item11_best_server_nodata_units_and_site_table(tmp_path):
    s = pd.concat([_site(117.01, -0.41, "A"), _site(117.05, -0.45, "B")], ignore_index=True)
    r = coverage.predict(_flat_terrain(), s, model="fspl", radius_m=1500)
    assert (r.best_server == 0).any() and (r.best_server < 0).any()
    path = r.to_geotiff(tmp_path / "cov.tif")
    with rasterio.open(path) as src:
        assert src.descriptions == ("best_dbm", "best_server", "second_dbm", "n_servers")
        assert src.units == ("dBm", "site index", "dBm", "count")
        assert "no server" in src.tags(2)["MEANING"]
        band = src.read(2)
    assert np.isnan(band[r.best_server < 0]).all() and (band[r.best_server == 0] == 0).all()
    table = pd.read_csv(tmp_path / "cov.sites.csv")
    assert list(table["best_server"]) == [0, 1] and list(table["site_id"]) == ["A", "B"]
    back = coverage.CoverageResult.from_geotiff(path)
    np.testing.assert_array_equal(back.best_server, r.best_server)


# ------------------------------------------------------------------------------------------ item 12


def test_issue9_item12_towers_outside_the_dem_one_rule():
    t = _flat_terrain()  # lon 117.0-117.06, lat -0.46 - -0.40, 0.001 deg cells
    near = _site(116.995, -0.43, "near")  # ~550 m west of the DEM: a 2 km radius reaches in
    far = _site(116.90, -0.43, "far")  # ~11 km away
    both = pd.concat([near, far], ignore_index=True)
    for model in ("p526", "hata"):
        with pytest.warns(CoverageWarning, match="2 of 2 sites lie outside the terrain: 1 kept .* 1 dropped"):
            r = coverage.predict(t, both, model=model, radius_m=2000, extrapolate=True,
                                 model_params={"environment": "open"} if model == "hata" else None)
        assert list(r.sites["site_id"]) == ["near"]
        assert r.metadata["sites_off_grid"] == {"outside": 2, "kept": 1, "dropped": 1}
        covered = np.isfinite(r.best_dbm)
        assert covered[27:33, :5].all() and not covered[:, -5:].any()
    # the profile runs over the DEM's edge height: on flat terrain that is the answer of a DEM that
    # reaches the site (cells 20 columns further west, same heights)
    r = coverage.predict(t, near, model="p526", radius_m=2000)
    wide = coverage.Terrain(np.full((60, 80), 10.0, np.float32), Affine(0.001, 0, 116.98, 0, -0.001, -0.4),
                            "EPSG:4326")
    ref = coverage.predict(wide, near, model="p526", radius_m=2000)
    np.testing.assert_allclose(r.best_dbm, ref.best_dbm[:, 20:], atol=0.05)
    # tiles see the same edge heights: the same bits as the untiled run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        tiled = predict_tiled(t, both, model="p526", radius_m=2000, tile_size=16, workers=0)
    np.testing.assert_array_equal(tiled.best_dbm, r.best_dbm)
    with pytest.raises(TerrainExtentError, match="outside the terrain"):
        coverage.predict(t, far, model="p526", radius_m=2000)


def test_issue9_item12_villages_use_the_same_rule(tmp_path):
    t = coverage.open_terrain(SAMPLES / "terrain.tif")
    lon0, lat0, lon1, lat1 = t.bounds_lonlat
    sites = pd.concat([_site(lon0 - 0.005, 0.5 * (lat0 + lat1), "near"), _site(lon0 - 1.0, lat0, "far"),
                       _site(0.5 * (lon0 + lon1), 0.5 * (lat0 + lat1), "mid")], ignore_index=True)
    with pytest.warns(CoverageWarning, match="2 of 3 sites lie outside the terrain: 1 kept"):
        run = coverage.run_villages(sites, SAMPLES / "villages.geojson", terrain=t, radius_m=5000, model="fspl")
    assert run.metadata["sites_off_grid"]["4g"] == {"outside": 2, "kept": 1, "dropped": 1}
    assert set(run.results["4g"].sites["site_id"]) == {"near", "mid"}


# ------------------------------------------------------------------------------------------ item 13


def test_issue9_item13_auto_picks_hata_or_cost231_per_site():
    s = pd.concat([_site(117.0, -0.40, "low", 900.0), _site(117.2, -0.60, "high", 1800.0)], ignore_index=True)
    b = (116.95, -0.65, 117.25, -0.35)
    kw = dict(radius_m=8000, bounds=b, resolution_m=500, model_params={"environment": "open"})
    with pytest.warns(CoverageWarning, match="hata for 1 site.*cost231 for 1 site|cost231 for 1 site.*hata for 1"):
        auto = coverage.predict(None, s, model="auto", **kw)
    assert auto.model == "cost231+hata"
    hata = coverage.predict(None, s.iloc[[0]], model="hata", **kw)
    cost = coverage.predict(None, s.iloc[[1]].reset_index(drop=True), model="cost231", **kw)
    expected = np.fmax(hata.best_dbm, cost.best_dbm)
    np.testing.assert_array_equal(auto.best_dbm, expected)
    with pytest.raises(InputError, match="freq_mhz=2600"):
        coverage.predict(None, _site(117.0, -0.4, freq=2600.0), model="auto", **kw)


# ------------------------------------------------------------------------------------------ item 14


def test_issue9_item14_no_sliver_tiles():
    full = Grid(np.broadcast_to(np.float32(0), (1025, 300)), Affine(30, 0, 0, 0, -30, 0), "EPSG:32750", False)
    tiles, per_tile, _ = plan_tiles(full, np.array([10.0, 1000.0]), np.array([5.0, 290.0]), 3000.0, 1024)
    assert [(t[2], t[3]) for t in tiles] == [(512, 300), (513, 300)]
    assert sum(t[2] for t in tiles) == 1025
    assert list(per_tile[tiles[0]]) == [0] and list(per_tile[tiles[1]]) == [1]


def test_issue9_item14_small_tiles_warn_and_interrupt_says_where_parts_are(tmp_path, monkeypatch, caplog):
    t = _flat_terrain(n=80)
    s = pd.concat([_site(117.02, -0.42, "A"), _site(117.06, -0.46, "B")], ignore_index=True)
    out = tmp_path / "cov.tif"
    with pytest.warns(CoverageWarning, match="computed .* times on average"):
        predict_tiled(t, s, model="fspl", radius_m=1500, tile_size=8, workers=0)

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(T._TiledRun, "publish", interrupted)
    with pytest.raises(KeyboardInterrupt) as exc:
        predict_tiled(t, s, model="fspl", radius_m=1500, tile_size=40, workers=0, out=out)
    note = " ".join(getattr(exc.value, "__notes__", []))
    assert str(out) + ".parts" in note and "resumes" in note
    monkeypatch.undo()
    with caplog.at_level(logging.INFO, logger="coverage.engine.tiles"):
        res = predict_tiled(t, s, model="fspl", radius_m=1500, tile_size=40, workers=0, out=out)
    n = res.metadata["tiles"]["resumed"]
    assert n >= 1 and n + res.metadata["tiles"]["empty"] == 4 and res.metadata["tiles"]["computed"] == 0
    assert f"resuming {n} of 4 tiles" in caplog.text


# ------------------------------------------------------------------------------------------ item 15


def test_issue9_item15_extrapolation_warning_states_the_share():
    hata = get_model("hata")  # validated 1-20 km
    share = hata.extrapolated_share(30_000.0, 100.0)
    assert share == pytest.approx(1 - (20_000 ** 2 - 1_000 ** 2) / (30_000 ** 2 - 100 ** 2))
    with pytest.warns(ModelRangeWarning, match=f"{100 * share:.0f} % of each site's cells"):
        hata.warn_distance(30_000.0, 100.0)
    assert hata.extrapolated_share(15_000.0, 1_000.0) == 0.0


def test_issue9_item15_village_assessment_shows_progress(monkeypatch):
    from coverage.analysis import assess

    seen = {}

    def spy(iterable, **kw):
        seen.update(kw)
        return iterable

    monkeypatch.setattr(assess, "_progress", spy)
    res = coverage.predict(_flat_terrain(), _site(117.03, -0.43), model="fspl", radius_m=3000)
    v = _villages([shapely.box(117.01, -0.45, 117.02, -0.44)], ["64.72.01.1002"])
    coverage.assess_villages(v, res, progress=True)
    assert seen["enabled"] is True and seen["desc"] == "villages" and seen["total"] == 1


# ------------------------------------------------------------------------------------------ item 17


def test_issue9_item17_keep_voids_predicts_nan_there(tmp_path):
    z = np.full((40, 40), 20.0, np.float32)
    z[:, :10] = -32768  # a void band along the west edge
    dem = tmp_path / "void.tif"
    tr = Affine(0.001, 0, 117.0, 0, -0.001, -0.4)
    with rasterio.open(dem, "w", driver="GTiff", height=40, width=40, count=1, dtype="float32",
                       crs="EPSG:4326", transform=tr, nodata=-32768) as dst:
        dst.write(z, 1)
    with pytest.warns(TerrainWarning, match="kept as voids"):
        t = coverage.open_terrain(dem, fill_voids=False)
    assert t.keep_voids and t.void_mask[:, :10].all()
    r = coverage.predict(t, _site(117.02, -0.42), model="p526", radius_m=4000)
    assert np.isnan(r.best_dbm[:, :10]).all() and (r.best_server[:, :10] == -1).all()
    assert np.isfinite(r.best_dbm[:, 12:]).all()
    assert r.metadata["terrain"]["voids_kept_as_nan"] is True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)  # small tiles on purpose
        tiled = predict_tiled(t, _site(117.02, -0.42), model="p526", radius_m=4000, tile_size=16, workers=0)
    np.testing.assert_array_equal(tiled.best_dbm, r.best_dbm)


# ------------------------------------------------------------------------------------------ item 18

_LEAK_CHECK = """
import warnings, gc, sys
sys.path.insert(0, {src!r})
warnings.simplefilter("error", ResourceWarning)
import coverage
coverage.read_sites({csv!r}); coverage.read_sites({geojson!r}); coverage.read_sites({semi!r})
coverage.read_villages({villages!r})
gc.collect()
"""


def test_issue9_item18_reading_files_leaks_no_handle(tmp_path):
    s = coverage.read_sites(SAMPLES / "sites.csv")
    s.drop(columns=["defaulted"]).to_file(tmp_path / "s.geojson")
    semi = _csv(tmp_path, "site_id;lon;lat\nA;116,8;-0,5\n", "semi.csv")
    script = _LEAK_CHECK.format(src=str(SRC), csv=str(SAMPLES / "sites.csv"), geojson=str(tmp_path / "s.geojson"),
                                semi=str(semi), villages=str(SAMPLES / "villages.geojson"))
    p = subprocess.run([sys.executable, "-X", "dev", "-c", script], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "ResourceWarning" not in p.stderr


def test_issue9_item18_test_run_errors_on_resource_warnings():
    text = (REPO / "pyproject.toml").read_text()
    assert '"error::ResourceWarning"' in text


# ------------------------------------------------------------------------------------------ the family


def _family_cases(tmp_path):
    t = coverage.open_terrain(SAMPLES / "terrain.tif")
    ok = coverage.read_sites(SAMPLES / "sites.csv")

    def w(name, text):
        p = tmp_path / name
        (p.write_bytes if isinstance(text, bytes) else p.write_text)(text)
        return p

    return {
        "sites missing file": (lambda: coverage.read_sites(tmp_path / "nope.csv"), "nope.csv"),
        "sites binary file": (lambda: coverage.read_sites(w("b.csv", b"\x00\x01\x02")), "b.csv"),
        "sites ragged row": (lambda: coverage.read_sites(w("r.csv", "site_id,lon,lat\nA,116.8,-0.5,9,9\n")),
                             "row 1"),
        "sites infinite height": (lambda: coverage.read_sites(
            pd.DataFrame({"lon": [116.8], "lat": [-0.5], "height_m": [np.inf]})), "height_m"),
        "sites boolean lon": (lambda: coverage.read_sites(pd.DataFrame({"lon": [True], "lat": [-0.5]})), "lon"),
        "sites none": (lambda: coverage.predict(t, None, model="fspl"), "sites"),
        "sites vertical beamwidth 0": (lambda: coverage.read_sites(w(
            "v.csv", "site_id,lon,lat,azimuth_deg,vertical_beamwidth_deg\nA,116.8,-0.5,10,0\n")),
            "vertical_beamwidth_deg"),
        "villages missing file": (lambda: coverage.read_villages(tmp_path / "v.geojson"), "v.geojson"),
        "terrain none": (lambda: coverage.open_terrain(None), "open_terrain"),
        "terrain transform none": (lambda: coverage.Terrain(np.zeros((3, 3)), None, "EPSG:4326"), "transform"),
        "predict rx_height_m boolean": (lambda: coverage.predict(t, ok, model="fspl", rx_height_m=True), "rx_height_m"),
        "predict radius text": (lambda: coverage.predict(t, ok, radius_m="10"), "radius_m"),
        "predict k_factor nan": (lambda: coverage.predict(t, ok, model="p526", radius_m=2000,
                                                          model_params={"k_factor": float("nan")}), "k_factor"),
        "predict k_factor negative": (lambda: coverage.predict(t, ok, model="p526", radius_m=2000,
                                                               model_params={"k_factor": -1}), "k_factor"),
        "predict itm n0 text": (lambda: coverage.predict(t, ok, model="itm", radius_m=2000,
                                                         model_params={"n0": "x"}), "n0"),
        "predict crs unknown": (lambda: coverage.predict(None, ok, model="fspl", crs="EPSG:99999"), "crs"),
        "predict threshold text": (lambda: coverage.predict(t, ok, model="fspl", server_threshold_dbm="x"),
                                   "server_threshold_dbm"),
        "predict resolution tiny": (lambda: coverage.predict(None, ok, model="fspl", resolution_m=0.001),
                                    "resolution_m"),
        "assess not a result": (lambda: coverage.assess_villages(SAMPLES / "villages.geojson", "x"), "result"),
        "assess usable text": (lambda: coverage.assess_villages(
            SAMPLES / "villages.geojson", coverage.predict(t, ok, model="fspl", radius_m=2000), usable_dbm="x"),
            "usable_dbm"),
    }


def test_issue9_bad_inputs_get_a_package_error_naming_what(tmp_path):
    failures = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (call, word) in _family_cases(tmp_path).items():
            try:
                call()
                failures.append(f"{name}: no error")
            except CoverageError as exc:
                if word not in str(exc):
                    failures.append(f"{name}: {word!r} not in {exc}")
            except Exception as exc:  # noqa: BLE001 - what is being tested
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)


def test_issue9_item9_rows_longer_than_the_header_are_refused_in_every_table(tmp_path):
    # one shared reader: a trailing field must not shift the village code into the index silently
    p = tmp_path / "desa.csv"
    p.write_text("kode,nama,lat,lng\n64.01.01.2001,A,-1.5,116.2,\n64.01.01.2002,B,-1.6,116.3\n")
    with pytest.raises(coverage.FileFormatError, match="line|fields"):
        coverage.read_villages(p)
