"""Villages: reading and validation, exact-area weighting, shadowing probability, assessment."""

from __future__ import annotations

import json
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from pyproj import CRS
from scipy.stats import norm
from shapely.geometry import Point, Polygon, box

import coverage
from coverage import CoverageResult, VillageError
from coverage.analysis.assess import cell_fractions, coverage_probability
from coverage.io.villages import detect_code_system

UTM = CRS.from_epsg(32750)


# --------------------------------------------------------------------------- helpers


def make_result(values, transform, crs=UTM, technology="4g", has_terrain=False, sites=None):
    """A hand-made CoverageResult: best_dbm = values; one site at the grid centre."""
    values = np.asarray(values, dtype=np.float32)
    rows, cols = values.shape
    if sites is None:
        cx, cy = transform @ (cols / 2, rows / 2)
        if crs.is_geographic:
            lon, lat = cx, cy
        else:
            from pyproj import Transformer

            lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(cx, cy)
        sites = gpd.GeoDataFrame({"site_id": ["S1"], "lon": [lon], "lat": [lat]},
                                 geometry=[Point(lon, lat)], crs="EPSG:4326")
    server = np.where(np.isfinite(values), 0, -1).astype(np.int32)
    meta = {"terrain": {"has_terrain": has_terrain, "note": "hand-made"}}
    return CoverageResult(values, server, np.full_like(values, np.nan), (server >= 0).astype(np.int16), transform,
                          crs, sites, {"4g": "rsrp_dbm", "2g": "rxlev_dbm"}[technology], technology, "test", meta)


def villages_utm(polys, codes=None, **cols):
    codes = codes or [f"64.99.01.{2001 + i}" for i in range(len(polys))]
    g = gpd.GeoDataFrame({"kode": codes, **cols}, geometry=list(polys), crs=UTM).to_crs("EPSG:4326")
    return coverage.read_villages(g)


# --------------------------------------------------------------------------- exact area weighting

GRID_T = Affine(100.0, 0, 500_000.0, 0, -100.0, 9_950_000.0)  # 100 m cells, UTM 50S
GRID_SHAPE = (20, 30)

HAND_POLYGONS = {
    "triangle": Polygon([(500_130, 9_949_870), (501_770, 9_948_610), (500_420, 9_948_140)]),
    "with_hole": Polygon([(500_250, 9_949_750), (502_250, 9_949_750), (502_250, 9_948_250), (500_250, 9_948_250)],
                         [[(500_900, 9_949_300), (501_420, 9_949_300), (501_420, 9_948_800), (500_900, 9_948_800)]]),
    "sliver": Polygon([(501_005, 9_949_500), (501_035, 9_949_500), (501_035, 9_948_100), (501_005, 9_948_100)]),
    "tiny": box(501_210, 9_949_210, 501_240, 9_949_260),  # narrower than a cell, inside one cell
    "on_edges": box(500_300, 9_949_700, 500_800, 9_949_000),  # boundary exactly along cell edges
    "multi": shapely.MultiPolygon([box(500_010, 9_948_010, 500_190, 9_948_090),
                                   box(502_605, 9_949_955, 502_985, 9_948_333)]),
    "half_outside": box(499_500, 9_949_500, 500_500, 9_948_500),
}


@pytest.mark.parametrize("name", sorted(HAND_POLYGONS))
def test_cell_fractions_match_shapely_areas(name):
    poly = HAND_POLYGONS[name]
    rows, cols, frac = cell_fractions(poly, GRID_T, GRID_SHAPE)
    grid = box(500_000, 9_948_000, 503_000, 9_950_000)
    # total: fractions x cell area = the polygon's area inside the grid
    assert np.sum(frac) * 100 * 100 == pytest.approx(poly.intersection(grid).area, rel=1e-9)
    # per cell: each fraction is the shapely intersection of the polygon with that cell's box
    for r, c, f in zip(rows, cols, frac):
        x0, y1 = GRID_T @ (c, r)
        assert f == pytest.approx(poly.intersection(box(x0, y1 - 100, x0 + 100, y1)).area / 1e4, abs=1e-9)
    # no cell with a positive intersection is missing
    assert len(set(zip(rows.tolist(), cols.tolist()))) == rows.size
    hits = 0
    for r in range(GRID_SHAPE[0]):
        for c in range(GRID_SHAPE[1]):
            x0, y1 = GRID_T @ (c, r)
            hits += poly.intersection(box(x0, y1 - 100, x0 + 100, y1)).area > 1e-9
    assert hits == rows.size


def test_cell_fractions_outside_grid_is_empty():
    rows, cols, frac = cell_fractions(box(400_000, 9_000_000, 400_500, 9_000_500), GRID_T, GRID_SHAPE)
    assert rows.size == cols.size == frac.size == 0


def test_usable_share_is_area_weighted_against_shapely():
    # left 12 columns strong signal, the rest below the usable level
    vals = np.full(GRID_SHAPE, -130.0)
    vals[:, :12] = -85.0
    res = make_result(vals, GRID_T)
    usable_zone = box(500_000, 9_948_000, 501_200, 9_950_000)
    polys = [HAND_POLYGONS[k] for k in ("triangle", "with_hole", "sliver", "tiny", "multi")]
    v = villages_utm(polys)
    t = coverage.assess_villages(v, res)
    for poly, share, area in zip(polys, t["usable_share"], t["area_km2"]):
        expected = poly.intersection(usable_zone).area / poly.area
        assert share == pytest.approx(expected, abs=1e-6)
        assert area == pytest.approx(poly.area / 1e6, rel=2e-3)  # geodesic vs UTM plane area
    # a village narrower than a cell still gets a value
    assert np.isfinite(t["usable_share"].iloc[3]) and np.isfinite(t["p50_dbm"].iloc[3])
    assert t["status"].tolist()[2] in ("covered", "partial", "blankspot")


def test_area_weighting_on_a_lonlat_grid_uses_true_cell_areas():
    # 1-degree cells from the equator to 60 N: a polygon spanning two rows, signal only in the
    # southern row -> share = area(south part) / area(all), areas on the sphere (not in degrees^2)
    t = Affine(1.0, 0, 100.0, 0, -1.0, 60.0)
    vals = np.full((60, 4), -130.0)
    vals[59, :] = -80.0  # the row from 0 to 1 N
    res = make_result(vals, t, crs=CRS.from_epsg(4326))
    poly = box(101.0, 0.0, 102.0, 2.0)
    v = coverage.read_villages(gpd.GeoDataFrame({"kode": ["64.99.01.2001"]}, geometry=[poly], crs="EPSG:4326"))
    out = coverage.assess_villages(v, res)
    south = math.sin(math.radians(1.0))
    both = math.sin(math.radians(2.0))
    assert out["usable_share"].iloc[0] == pytest.approx(south / both, rel=1e-9)


def test_percentiles_are_area_weighted():
    vals = np.full(GRID_SHAPE, -120.0)
    vals[:, 10:] = -90.0
    res = make_result(vals, GRID_T)
    # 30 % of the polygon in the -120 zone, 70 % in the -90 zone
    poly = box(500_700, 9_949_500, 501_700, 9_948_500)
    t = coverage.assess_villages(villages_utm([poly]), res)
    assert t["p10_dbm"].iloc[0] == pytest.approx(-120.0)
    assert t["p50_dbm"].iloc[0] == pytest.approx(-90.0)
    assert t["p90_dbm"].iloc[0] == pytest.approx(-90.0)
    assert t["usable_share"].iloc[0] == pytest.approx(0.7)
    assert t["status"].iloc[0] == "partial"
    assert t["share_none"].iloc[0] == pytest.approx(0.3)


# --------------------------------------------------------------------------- shadowing


@pytest.mark.parametrize("sigma", [4.0, 8.0, 10.0])
def test_coverage_probability_closed_form(sigma):
    T = -110.0
    S = np.array([-140.0, -118.0, -110.0, -102.0, -90.0, np.nan])
    p = coverage_probability(S, T, sigma)
    from scipy.special import erfc

    expected = 0.5 * erfc((T - S[:-1]) / (sigma * math.sqrt(2)))
    np.testing.assert_allclose(p[:-1], expected, rtol=1e-12)
    np.testing.assert_allclose(p[:-1], norm.cdf((S[:-1] - T) / sigma), rtol=1e-9)  # = Phi((S - T)/sigma)
    assert p[2] == pytest.approx(0.5)
    assert p[-1] == 0.0  # no signal


def test_coverage_probability_bad_sigma():
    with pytest.raises(ValueError, match="sigma"):
        coverage_probability([-100.0], -110.0, 0.0)


def test_assess_probabilities_use_sigma():
    vals = np.full(GRID_SHAPE, -102.0)  # 8 dB above the 4G usable level everywhere
    res = make_result(vals, GRID_T)
    v = villages_utm([HAND_POLYGONS["triangle"]])
    t8 = coverage.assess_villages(v, res, sigma_db=8.0)
    t4 = coverage.assess_villages(v, res, sigma_db=4.0)
    assert t8["p_cover_point"].iloc[0] == pytest.approx(norm.cdf(1.0), rel=1e-6)
    assert t8["p_cover_area"].iloc[0] == pytest.approx(norm.cdf(1.0), rel=1e-6)
    assert t4["p_cover_area"].iloc[0] == pytest.approx(norm.cdf(2.0), rel=1e-6)


# --------------------------------------------------------------------------- reading and validation


def _write_geojson(tmp_path, features, name="v.geojson"):
    p = tmp_path / name
    p.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return p


def _feat(code, geom, **props):
    return {"type": "Feature", "properties": {"kode": code, **props}, "geometry": geom}


SQ = {"type": "Polygon", "coordinates": [[[117.0, -0.5], [117.01, -0.5], [117.01, -0.49], [117.0, -0.49], [117.0, -0.5]]]}
SQ2 = {"type": "Polygon", "coordinates": [[[117.02, -0.5], [117.03, -0.5], [117.03, -0.49], [117.02, -0.49], [117.02, -0.5]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[117.0, -0.5], [117.01, -0.49], [117.01, -0.5], [117.0, -0.49], [117.0, -0.5]]]}


def test_read_geojson_codes_and_hierarchy(tmp_path):
    p = _write_geojson(tmp_path, [_feat("64.72.01.1001", SQ, nama="A"), _feat("64.72.01.2002", SQ2, nama="B")])
    v = coverage.read_villages(p)
    assert v["kode"].tolist() == ["64.72.01.1001", "64.72.01.2002"]
    assert all(isinstance(c, str) for c in v["kode"])
    assert v["kode_kec"].tolist() == ["64.72.01", "64.72.01"]
    assert v["kode_kab"].tolist() == ["64.72", "64.72"] and v["kode_prov"].tolist() == ["64", "64"]
    assert v["type"].tolist() == ["kelurahan", "desa"]
    assert v.attrs["code_system"] == "kemendagri" and v.attrs["geometry_kind"] == "polygon"


def test_invalid_geometry_error_names_file_row_code(tmp_path):
    p = _write_geojson(tmp_path, [_feat("64.72.01.1001", SQ), _feat("64.72.01.1002", BOWTIE)])
    with pytest.raises(VillageError, match=r"(?s)v\.geojson: .*row 2, column 'geometry': \(code '64\.72\.01\.1002'\) invalid geometry"):
        coverage.read_villages(p)
    with pytest.warns(coverage.CoverageWarning, match="repaired 1"):
        v = coverage.read_villages(p, repair=True)
    assert v.geometry.is_valid.all() and v.attrs["repaired"] == ["64.72.01.1002"]


def test_empty_geometry_is_an_error(tmp_path):
    p = _write_geojson(tmp_path, [_feat("64.72.01.1001", SQ), _feat("64.72.01.1002", None)])
    with pytest.raises(VillageError, match=r"row 2, column 'geometry': \(code '64\.72\.01\.1002'\) empty geometry"):
        coverage.read_villages(p)
    empty = gpd.GeoDataFrame({"kode": ["64.72.01.1001"]}, geometry=[Polygon()], crs="EPSG:4326")
    with pytest.raises(VillageError, match="empty geometry"):
        coverage.read_villages(empty)


def test_duplicate_codes_are_an_error(tmp_path):
    p = _write_geojson(tmp_path, [_feat("64.72.01.1001", SQ), _feat("64.72.01.1001", SQ2)])
    with pytest.raises(VillageError, match=r"duplicate village code '64\.72\.01\.1001' at rows \[1, 2\]"):
        coverage.read_villages(p)


def test_mixed_code_systems_error_unless_crosswalk(tmp_path):
    feats = [_feat("64.72.01.1001", SQ, kode_kemendagri="64.72.01.1001"),
             _feat("6472010002", SQ2, kode_kemendagri="64.72.01.1002")]
    p = _write_geojson(tmp_path, feats)
    with pytest.raises(VillageError, match="mix the Kemendagri and BPS"):
        coverage.read_villages(p)
    v = coverage.read_villages(p, crosswalk="kode_kemendagri")
    assert v["kode"].tolist() == ["64.72.01.1001", "64.72.01.1002"]
    assert v["kode_input"].tolist() == ["64.72.01.1001", "6472010002"]
    v2 = coverage.read_villages(p, crosswalk={"6472010002": "64.72.01.1002"})
    assert v2["kode"].tolist() == ["64.72.01.1001", "64.72.01.1002"]
    with pytest.raises(VillageError, match="not in the crosswalk"):
        coverage.read_villages(p, crosswalk={"6472019999": "64.72.01.1009"})


def test_unknown_code_format_is_an_error(tmp_path):
    p = _write_geojson(tmp_path, [_feat("64-72-01-1001", SQ)])
    with pytest.raises(VillageError, match="neither Kemendagri"):
        coverage.read_villages(p)


def test_numeric_codes_kept_as_strings(tmp_path):
    # a writer stored BPS codes as numbers: they come back as the same 10-digit strings
    p = _write_geojson(tmp_path, [_feat(6472010001, SQ), _feat(6472010002, SQ2)])
    with pytest.warns(coverage.CoverageWarning, match="stored codes as numbers"):
        v = coverage.read_villages(p)
    assert v["kode"].tolist() == ["6472010001", "6472010002"]
    assert all(isinstance(c, str) for c in v["kode"])
    assert v.attrs["code_system"] == "bps"
    assert v["kode_kab"].tolist() == ["6472", "6472"] and v["kode_kec"].tolist() == ["6472010", "6472010"]


def test_csv_points_keep_leading_zeros_and_strings(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("kode,nama,lat,lng,population\n64.01.01.2009,Samurangau,-1.9,115.86,1200\n"
                 "64.01.01.2010,Busui,-1.80,115.81,\n")
    v = coverage.read_villages(p)
    assert v["kode"].tolist() == ["64.01.01.2009", "64.01.01.2010"]
    assert v.attrs["geometry_kind"] == "point"
    assert v.geometry.x.tolist() == [115.86, 115.81]
    assert v["population"].iloc[0] == 1200 and np.isnan(v["population"].iloc[1])


def test_csv_errors_name_the_row(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("kode,lat,lng\n64.01.01.2009,-1.9,115.86\n64.01.01.2010,,115.81\n")
    with pytest.raises(VillageError, match="row 3, column 'lat': missing longitude/latitude"):
        coverage.read_villages(p)
    p.write_text("kode,lat,lng\n64.01.01.2009,115.86,-1.9\n")
    with pytest.raises(VillageError, match="swapped"):
        coverage.read_villages(p)
    p.write_text("kode,lat,lng\n64.01.01.2009,abc,115.8\n")
    with pytest.raises(VillageError, match="row 2, column 'lat'"):
        coverage.read_villages(p)
    p.write_text("nama,lat,lng\nX,-1.9,115.86\n")
    with pytest.raises(coverage.FileFormatError, match="no village code column"):
        coverage.read_villages(p)


def test_hierarchy_join_and_code_system_check(tmp_path):
    p = _write_geojson(tmp_path, [_feat("64.72.01.1001", SQ), _feat("64.72.01.1002", SQ2)])
    h = pd.DataFrame({"kode": ["64.72.01.1001", "64.72.01.1002"], "kode_kec": ["64.72.01", "64.72.01"],
                      "nama_kec": ["Palaran", "Palaran"], "kode_kab": ["64.72", "64.72"],
                      "nama_kab": ["Kota Samarinda"] * 2, "kode_prov": ["64", "64"],
                      "nama_prov": ["Kalimantan Timur"] * 2, "type": ["kelurahan"] * 2})
    v = coverage.read_villages(p, hierarchy=h)
    assert v["nama_kec"].tolist() == ["Palaran", "Palaran"] and v["nama_kab"].iloc[0] == "Kota Samarinda"
    h_bps = h.assign(kode=["6472010001", "6472010002"])
    with pytest.raises(VillageError, match="different numberings"):
        coverage.read_villages(p, hierarchy=h_bps)


def test_detect_code_system():
    assert detect_code_system(["64.01.01.2009"]) == "kemendagri"
    assert detect_code_system(["6401012009"]) == "bps"
    with pytest.raises(VillageError):
        detect_code_system(["64.01.01.2009", "6401012009"])


# --------------------------------------------------------------------------- assessment


def test_outside_extent_reported_not_dropped():
    res = make_result(np.full(GRID_SHAPE, -85.0), GRID_T)
    inside = HAND_POLYGONS["triangle"]
    half = HAND_POLYGONS["half_outside"]
    far = box(600_000, 9_900_000, 601_000, 9_899_000)
    v = villages_utm([inside, half, far])
    with pytest.warns(coverage.CoverageWarning, match="2 of 3 villages lie partly or wholly outside"):
        t = coverage.assess_villages(v, res)
    assert len(t) == 3 and t["kode"].tolist() == v["kode"].tolist()
    assert t["outside_extent"].tolist() == [False, True, True]
    assert t["extent_share"].iloc[1] == pytest.approx(0.5, rel=1e-3)
    assert t["status"].tolist() == ["covered", "covered", "unassessed"]
    assert np.isnan(t["usable_share"].iloc[2])


def test_points_layer_assessment():
    vals = np.full(GRID_SHAPE, -130.0)
    vals[:, :10] = -95.0
    res = make_result(vals, GRID_T)
    pts = [Point(500_500, 9_949_000), Point(502_500, 9_949_000)]
    t = coverage.assess_villages(villages_utm(pts), res)
    assert t["usable_share"].tolist() == [1.0, 0.0]
    assert t["status"].tolist() == ["covered", "blankspot"]
    assert t["signal_dbm"].iloc[0] == pytest.approx(-95.0)
    assert t["signal_class"].tolist() == ["fair", "none"]
    assert np.isnan(t["area_km2"]).all()


def test_servers_and_distances():
    res = make_result(np.full(GRID_SHAPE, -85.0), GRID_T)
    v = villages_utm([HAND_POLYGONS["triangle"]])
    t = coverage.assess_villages(v, res)
    assert t["best_server"].iloc[0] == "S1" and t["nearest_site"].iloc[0] == "S1"
    assert t["best_server_km"].iloc[0] == pytest.approx(t["nearest_site_km"].iloc[0], rel=1e-3)
    assert 0.5 < t["nearest_site_km"].iloc[0] < 2.0


def test_technology_must_match_result():
    res = make_result(np.full(GRID_SHAPE, -85.0), GRID_T)
    v = villages_utm([HAND_POLYGONS["triangle"]])
    with pytest.raises(ValueError, match="does not match"):
        coverage.assess_villages(v, res, technology="2g")


def test_thresholds_are_configurable():
    vals = np.full(GRID_SHAPE, -105.0)
    res = make_result(vals, GRID_T)
    v = villages_utm([HAND_POLYGONS["triangle"]])
    assert coverage.assess_villages(v, res)["status"].iloc[0] == "covered"  # -105 >= -110
    assert coverage.assess_villages(v, res, usable_dbm=-100.0)["status"].iloc[0] == "blankspot"


def test_population_column_and_raster():
    vals = np.full(GRID_SHAPE, -130.0)
    vals[:, :15] = -85.0  # west half covered
    res = make_result(vals, GRID_T)
    poly = box(500_000, 9_950_000, 503_000, 9_948_000)  # the whole grid
    v = villages_utm([poly], population=[1000.0])
    t = coverage.assess_villages(v, res)
    assert t["usable_share"].iloc[0] == pytest.approx(0.5)
    assert t["population_covered"].iloc[0] == pytest.approx(500.0)  # uniform density
    # everyone lives in the west: the raster moves the population share to 1
    pop = np.zeros((4, 6))
    pop[:, :2] = 10.0
    praster = (pop, Affine(500.0, 0, 500_000.0, 0, -500.0, 9_950_000.0), UTM)
    t2 = coverage.assess_villages(v, res, population_raster=praster)
    assert t2["population_share"].iloc[0] == pytest.approx(1.0)
    assert t2["population_covered"].iloc[0] == pytest.approx(1000.0)
    assert t2["population_basis"].iloc[0] == "raster"


def test_terrain_flag_carried():
    v = villages_utm([HAND_POLYGONS["triangle"]])
    t0 = coverage.assess_villages(v, make_result(np.full(GRID_SHAPE, -85.0), GRID_T, has_terrain=False))
    t1 = coverage.assess_villages(v, make_result(np.full(GRID_SHAPE, -85.0), GRID_T, has_terrain=True))
    assert not t0["has_terrain"].iloc[0] and t1["has_terrain"].iloc[0]
    assert t0.attrs["terrain"]["has_terrain"] is False
    with pytest.raises(ValueError, match="terrain"):
        coverage.combine_tables([t0, t1])


def test_sample_region_end_to_end():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1] / "data" / "samples"
    v = coverage.read_villages(repo / "villages.geojson")
    terrain = coverage.open_terrain(repo / "terrain.tif")
    res = coverage.predict(terrain, repo / "sites.csv", model="p526", radius_m=10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", coverage.CoverageWarning)
        t = coverage.assess_villages(v, res, technology="4g")
    assert len(t) == len(v) == 24
    assert set(t["status"]) <= {"covered", "partial", "blankspot"}
    assert t["has_terrain"].all()
    assert (t["population_covered"] <= t["population"] + 1e-9).all()
    assert ((t["usable_share"] >= 0) & (t["usable_share"] <= 1)).all()
    assert (t["p10_dbm"].fillna(-999) <= t["p90_dbm"].fillna(-999) + 1e-9).all()
