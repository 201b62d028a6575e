"""The coverage engine through its public functions: analytic cases, symmetry, real terrain,
best-server combination, exports, geometry reuse and bad input."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coverage
from coverage.engine.sweep import Grid, SiteGeometry
from coverage.errors import (
    InputError,
    ModelRangeError,
    ModelRangeWarning,
    TerrainExtentError,
    TerrainWarning,
)
from coverage.propagation import free_space_loss_db
from coverage.propagation.p526 import path_loss_db

UTM = "EPSG:32750"


def _terrain(z, cell=50.0, x0=500_000.0, y0=9_950_000.0):
    return coverage.Terrain(np.asarray(z, np.float32), Affine(cell, 0, x0, 0, -cell, y0), UTM)


def _site_at(t, row, col, **kw):
    x, y = t.xy_of(row, col)
    lon, lat = t.to_lonlat(x, y)
    d = dict(site_id="S", lon=float(lon), lat=float(lat), height_m=30.0, freq_mhz=900.0, eirp_dbm=60.0,
             technology="2g")
    d.update(kw)
    return pd.DataFrame([d])


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelRangeWarning)
        warnings.simplefilter("ignore", TerrainWarning)
        return fn(*a, **k)


def test_flat_terrain_is_line_of_sight_and_loss_rises_with_distance():
    t = _terrain(np.full((161, 161), 12.0))
    r = _quiet(coverage.predict, t, _site_at(t, 80, 80), model="p526", radius_m=3500, rx_height_m=1.5)
    row = r.best_dbm[80, 81:150]
    assert np.isfinite(row).all() and np.all(np.diff(row) < 0)
    # geometrically every cell is in line of sight (the ray clears the curved earth); what the model
    # adds to free space is the ground entering the 1.5 m receiver's Fresnel zone, growing with distance
    x, y = t.xy_of(80, np.arange(81, 150))
    d = np.hypot(x - t.xy_of(80, 80)[0], 0.0)
    fs = free_space_loss_db(np.hypot(d, 28.5), 900.0)
    excess = (60.0 - fs) - row
    assert np.all(excess >= -1e-4) and np.all(np.diff(excess) > -1e-4) and np.all(excess[d < 1000] < 3.0)
    # and with high antennas there is no diffraction at all: exactly free space
    r2 = _quiet(coverage.predict, t, _site_at(t, 80, 80), model="p526", radius_m=3500, rx_height_m=20.0)
    fs2 = free_space_loss_db(np.hypot(d, 10.0), 900.0)
    np.testing.assert_allclose(r2.best_dbm[80, 81:150], 60.0 - fs2, atol=1e-3)


def test_knife_edge_through_the_engine_matches_the_profile_method():
    z = np.zeros((121, 121), np.float32)
    z[:, 70] = 60.0  # a straight wall 10 cells east of the site
    t = _terrain(z)
    r = _quiet(coverage.predict, t, _site_at(t, 60, 60), model="p526", radius_m=2900, rx_height_m=1.5)
    # cell due east, behind the wall: compare with the exact method on that cell's own profile
    d_cell = 40 * 50.0
    d = np.arange(0, d_cell + 1, 50.0)
    h = np.zeros_like(d)
    h[10] = 60.0
    expect = 60.0 - path_loss_db(d, h, h_tx_m=30, h_rx_m=1.5, freq_mhz=900)
    assert r.best_dbm[60, 100] == pytest.approx(expect, abs=0.05)
    # the wall shadows everything behind it by more than 10 dB relative to the free side
    assert r.best_dbm[60, 100] < r.best_dbm[60, 20] - 10


def test_mirrored_terrain_gives_mirrored_map():
    rng = np.random.default_rng(3)
    z = np.cumsum(rng.normal(0, 4, (101, 101)), axis=1) + 100
    t = _terrain(z)
    tm = _terrain(z[:, ::-1])
    a = _quiet(coverage.predict, t, _site_at(t, 50, 50), model="p526", radius_m=2425)
    b = _quiet(coverage.predict, tm, _site_at(tm, 50, 50), model="p526", radius_m=2425)
    fa, fb = a.best_dbm, b.best_dbm[:, ::-1]
    assert np.array_equal(np.isfinite(fa), np.isfinite(fb))
    np.testing.assert_allclose(fa[np.isfinite(fa)], fb[np.isfinite(fb)], atol=1e-3)


def test_every_cell_within_radius_is_finite_on_real_tile(shared_file):
    t = _quiet(coverage.open_terrain, shared_file("dem/S36E149.tif"))
    sites = pd.DataFrame({"site_id": ["a"], "lon": [149.5], "lat": [-35.5], "height_m": [30.0],
                          "freq_mhz": [900.0], "eirp_dbm": [60.0], "technology": ["4g"]})
    r = _quiet(coverage.predict, t, sites, model="p526", radius_m=30_000)
    geo = SiteGeometry.build(Grid(t.elevation_m, t.transform, t.crs, True), 149.5, -35.5, 30_000)
    inside = np.isfinite(geo.dist_m)
    r0, c0, h, w = geo.window
    block = r.best_dbm[r0:r0 + h, c0:c0 + w]
    assert inside.sum() > 300_000
    assert np.isfinite(block[inside]).all()
    assert np.isnan(block[~inside]).all()
    assert np.isnan(r.best_dbm[:r0]).all() and (r.best_server[np.isfinite(r.best_dbm)] == 0).all()
    # distances of the site frame agree with the WGS84 geodesic (pyproj) to 1e-4
    from pyproj import Geod

    rows, cols = np.nonzero(inside)
    pick = np.random.default_rng(0).choice(len(rows), 500, replace=False)
    lon, lat = t.xy_of(rows[pick] + r0, cols[pick] + c0)
    _, _, dist = Geod(ellps="WGS84").inv(np.full(500, 149.5), np.full(500, -35.5), lon, lat)
    np.testing.assert_allclose(geo.dist_m[rows[pick], cols[pick]], dist, rtol=1e-4)


def test_a_real_ridge_casts_its_shadow_and_sweep_tracks_exact_per_cell(shared_file):
    t = _quiet(coverage.open_terrain, shared_file("dem/S36E149.tif"))
    site = (149.5, -35.5)
    sites = pd.DataFrame({"site_id": ["a"], "lon": [site[0]], "lat": [site[1]], "height_m": [30.0],
                          "freq_mhz": [900.0], "eirp_dbm": [60.0], "technology": ["2g"]})
    r = _quiet(coverage.predict, t, sites, model="p526", radius_m=20_000)
    rng = np.random.default_rng(1)
    cells = np.argwhere(np.isfinite(r.best_dbm))
    cells = cells[rng.choice(len(cells), 250, replace=False)]
    diffs, shadowed, clear = [], [], []
    ce = 1.0 / (4 / 3 * 6371e3)
    for row, col in cells:
        lon, lat = (float(v) for v in t.xy_of(row, col))
        d, z = t.profile(site, (lon, lat))
        if len(d) < 3:
            continue
        exact = 60.0 - path_loss_db(d, z, h_tx_m=30, h_rx_m=1.5, freq_mhz=900)
        diffs.append(exact - r.best_dbm[row, col])
        # geometric clearance of the ray over the curved profile
        ray = (z[0] + 30) + (z[-1] + 1.5 - z[0] - 30) * d / d[-1]
        gap = (ray - z - 0.5 * ce * d * (d[-1] - d))[1:-1]
        clearance = np.min(gap)
        fresnel = np.sqrt(299.792458 / 900 * d[1:-1] * (d[-1] - d[1:-1]) / d[-1])
        fresnel_clear = np.min(gap / fresnel)
        fs = free_space_loss_db(np.hypot(d[-1], z[0] + 30 - z[-1] - 1.5), 900.0)
        excess = (60.0 - fs) - r.best_dbm[row, col]
        if clearance < -100:  # a ridge more than 100 m above the ray
            shadowed.append(excess)
        elif fresnel_clear > 1.0:  # the whole first Fresnel zone is free
            clear.append(excess)
    diffs = np.abs(np.array(diffs))
    # the sweep follows the exact per-cell method on each cell's own geodesic profile
    assert np.median(diffs) < 0.5 and np.percentile(diffs, 90) < 2.0
    assert len(shadowed) > 10 and len(clear) > 3
    assert np.min(shadowed) > 15.0 and np.median(shadowed) > 25.0
    assert np.max(clear) < 3.0


def test_best_server_second_and_count():
    t = _terrain(np.zeros((121, 121)))
    s = pd.concat([_site_at(t, 60, 30, site_id="W"), _site_at(t, 60, 90, site_id="E", eirp_dbm=63.0)])
    r = _quiet(coverage.predict, t, s, model="fspl", radius_m=2400, server_threshold_dbm=-60.0)
    assert r.best_server[60, 10] == 0 and r.best_server[60, 110] == 1
    # the stronger east site wins the midpoint; the west one is second there
    assert r.best_server[60, 60] == 1
    west_only = _quiet(coverage.predict, t, s.iloc[:1], model="fspl", radius_m=2425)
    assert r.second_dbm[60, 60] == pytest.approx(west_only.best_dbm[60, 60])
    both = np.isfinite(r.second_dbm)
    assert (r.n_servers[both & (r.second_dbm >= -60)] == 2).all()
    assert (r.n_servers[np.isfinite(r.best_dbm) & (r.best_dbm < -60)] == 0).all()
    assert (r.best_server[np.isnan(r.best_dbm)] == -1).all()


def test_sector_front_to_back_on_smooth_earth():
    sites = pd.DataFrame([dict(site_id="S", lon=117.0, lat=-0.5, height_m=30, freq_mhz=900, eirp_dbm=60,
                               technology="4g", azimuth_deg=90.0, beamwidth_deg=65.0, downtilt_deg=0.0)])
    r = _quiet(coverage.predict, None, sites, model="hata", radius_m=5000, bounds=(116.95, -0.55, 117.05, -0.45),
               resolution_m=100)
    assert not r.has_terrain and "smooth earth" in r.metadata["terrain"]["note"]
    east = r.sample(117.03, -0.5)[0]
    west = r.sample(116.97, -0.5)[0]
    assert east - west == pytest.approx(25.0, abs=0.5)


def test_geometry_is_reused_across_frequencies():
    t = _terrain(np.random.default_rng(2).normal(100, 20, (81, 81)))
    g = Grid(t.elevation_m, t.transform, t.crs, False)
    x, y = t.xy_of(40, 40)
    geo = SiteGeometry.build(g, float(x), float(y), 1925)
    prof_before = geo.profiles[0].copy()
    l900 = geo.loss_db("p526", freq_mhz=900, h_tx_m=30, h_rx_m=1.5)
    l1800 = geo.loss_db("p526", freq_mhz=1800, h_tx_m=30, h_rx_m=1.5)
    assert geo.profiles[0] is not None and np.array_equal(prof_before, geo.profiles[0])
    ok = np.isfinite(l900)
    assert np.all(l1800[ok] > l900[ok])  # higher frequency, more loss everywhere
    r = _quiet(coverage.predict, t, _site_at(t, 40, 40, freq_mhz=1800.0), model="p526", radius_m=1925)
    r0, c0, h, w = geo.window
    np.testing.assert_allclose(r.best_dbm[r0:r0 + h, c0:c0 + w][ok], (60 - l1800)[ok], atol=1e-4)


def test_geotiff_and_xarray_views(tmp_path):
    t = _terrain(np.zeros((41, 41)))
    r = _quiet(coverage.predict, t, _site_at(t, 20, 20), model="p526", radius_m=900)
    path = r.to_geotiff(tmp_path / "sub" / "cov.tif")
    # no temporary file left behind; the index -> site_id table beside the raster
    assert sorted(os.listdir(tmp_path / "sub")) == ["cov.sites.csv", "cov.tif"]
    with rasterio.open(path) as src:
        assert src.count == 4 and src.dtypes[0] == "float32" and src.crs.to_epsg() == 32750
        assert src.descriptions == ("best_dbm", "best_server", "second_dbm", "n_servers")
        assert np.isnan(src.nodata)
        tags = src.tags()
        assert tags["COVERAGE_MODEL"] == "p526" and "radius_m" in tags["COVERAGE_METADATA"]
        np.testing.assert_array_equal(src.read(1), r.best_dbm)
    back = coverage.CoverageResult.from_geotiff(path)
    np.testing.assert_array_equal(back.best_server, r.best_server)
    ds = r.to_xarray()
    assert set(ds.data_vars) == {"best_dbm", "best_server", "second_dbm", "n_servers"}
    assert ds["best_dbm"].shape == (41, 41) and ds.attrs["model"] == "p526"


def test_bad_input_is_refused_clearly(shared_file):
    t = _terrain(np.zeros((41, 41)))
    ok = _site_at(t, 20, 20)
    with pytest.raises(TerrainExtentError, match="row 1.*outside the terrain"):
        coverage.predict(t, ok.assign(lon=ok.lon + 1.0), model="p526", radius_m=500)
    with pytest.raises(ModelRangeError, match="1800"):
        coverage.predict(t, ok.assign(freq_mhz=1800.0), model="hata", radius_m=500)
    with pytest.warns(ModelRangeWarning):
        coverage.predict(t, ok.assign(freq_mhz=1800.0), model="hata", radius_m=500, extrapolate=True)
    with pytest.raises(InputError, match="needs terrain"):
        coverage.predict(None, ok, model="p526", radius_m=500)
    with pytest.raises(InputError, match="rx_height_m"):
        coverage.predict(t, ok, model="p526", radius_m=500, rx_height_m=-1)
    with pytest.raises(InputError, match="radius_m"):
        coverage.predict(t, ok, model="p526", radius_m=0)
    with pytest.raises(InputError, match="unknown model"):
        coverage.predict(t, ok, model="splat", radius_m=500)
    real = _quiet(coverage.open_terrain, shared_file("dem/S36E149.tif"))
    swapped = pd.DataFrame({"site_id": ["x"], "lon": [-35.5], "lat": [149.5]})
    with pytest.raises(ValueError, match="swapped"):
        coverage.predict(real, swapped, radius_m=500)
    with pytest.raises(InputError, match="parameter"):
        coverage.predict(t, ok, model="p526", radius_m=500, model_params={"k": 1.0})


def test_itm_through_the_engine_is_itm_on_each_cells_profile():
    import coverage.itm as itm

    rng = np.random.default_rng(5)
    z = np.cumsum(rng.normal(0, 6, (81, 81)), axis=1) + 200
    t = _terrain(z, cell=100.0)
    r = _quiet(coverage.predict, t, _site_at(t, 40, 40), model="itm", radius_m=3950, model_params={"exact": True})
    fast = _quiet(coverage.predict, t, _site_at(t, 40, 40), model="itm", radius_m=3950)
    geo = SiteGeometry.build(Grid(t.elevation_m, t.transform, t.crs, False), *map(float, t.xy_of(40, 40)), 3950)
    z2d, nvalid = geo.profiles
    # a cell lying exactly on radial 0 (due north) at sample 30: ITM point to point on that profile
    row = 40 - int(round(30 * geo.step_m / 100.0))
    prof = z2d[0, :31]
    expect = itm.p2p(prof, geo.step_m, h_tx_m=30.0, h_rx_m=1.5, freq_mhz=900.0, climate=1, n0=360.0, pol=1,
                     epsilon=15.0, sigma=0.005, mdvar=12).loss_db
    assert r.best_dbm[row, 40] == pytest.approx(60.0 - expect, abs=1e-3)
    assert r.model == "itm" and np.isfinite(r.best_dbm[np.isfinite(geo.dist_m)]).all()
    # the fast path (Delta h from adaptive nodes, coarser radials near the site) stays close to it
    inside = np.isfinite(geo.dist_m)
    assert np.isfinite(fast.best_dbm[inside]).all() and fast.best_dbm[row, 40] == pytest.approx(r.best_dbm[row, 40], abs=1.0)
    assert fast.metadata["model_params"]["exact"] is False and r.metadata["model_params"]["exact"] is True


def test_bounds_crop_the_terrain_and_keep_values(shared_file):
    t = _quiet(coverage.open_terrain, shared_file("dem/S36E149.tif"))
    sites = pd.DataFrame({"site_id": ["a"], "lon": [149.5], "lat": [-35.5], "height_m": [30.0],
                          "freq_mhz": [900.0], "eirp_dbm": [60.0], "technology": ["4g"]})
    whole = _quiet(coverage.predict, t, sites, model="p526", radius_m=5000)
    part = _quiet(coverage.predict, t, sites, model="p526", radius_m=5000, bounds=(149.4, -35.6, 149.6, -35.4))
    assert part.shape[0] < whole.shape[0]
    r0 = int(round((part.transform.f - whole.transform.f) / whole.transform.e))
    c0 = int(round((part.transform.c - whole.transform.c) / whole.transform.a))
    np.testing.assert_array_equal(part.best_dbm, whole.best_dbm[r0:r0 + part.shape[0], c0:c0 + part.shape[1]])


def test_exact_tie_keeps_the_lower_site_index():
    t = _terrain(np.zeros((61, 61)))
    s = pd.concat([_site_at(t, 30, 20, site_id="A"), _site_at(t, 30, 40, site_id="B")])
    r = _quiet(coverage.predict, t, s, model="fspl", radius_m=2000)
    assert r.best_server[30, 30] == 0 and r.best_dbm[30, 30] == r.second_dbm[30, 30]


# ------------------------------------------------------------------------------------------------
# fast path of the sweep (issue 14): radial sets thinned near the site, spaced by the cell size
# ------------------------------------------------------------------------------------------------
def test_radial_set_on_square_cells_is_the_uniform_one():
    t = _terrain(np.zeros((101, 101)), cell=50.0)
    geo = SiteGeometry.build(Grid(t.elevation_m, t.transform, t.crs, False), *map(float, t.xy_of(50, 50)), 2400.0)
    for spacing in ("cell", "across", "min"):
        rs = geo.radial_set(spacing)
        assert rs.nrad == geo.nrad
        np.testing.assert_allclose(rs.azimuth_rad, 2 * np.pi * np.arange(rs.nrad) / rs.nrad, atol=1e-9)
        np.testing.assert_allclose(rs.step_m, geo.step_m, rtol=1e-12)
        # radial 0 and every 2**levels-th one start at sample 1; the others only where cells read them
        assert rs.k_first[0] == 1 and rs.k_first[1] > 1 and rs.levels >= 3
    with pytest.raises(InputError, match="spacing"):
        geo.radial_set("coarse")


def _relabelled(t, lat_top):
    return coverage.Terrain(t.elevation_m, Affine(t.transform.a, 0, t.transform.c, 0, t.transform.e,
                                                  lat_top - t.transform.e / 2), t.crs)


def test_radials_by_cell_size_at_high_latitude(shared_file):
    t = _relabelled(_quiet(coverage.open_terrain, shared_file("dem/S36E149.tif")), 61.0)
    grid = Grid(t.elevation_m, t.transform, t.crs, True)
    geo = SiteGeometry.build(grid, 149.5, 60.5, 20_000.0)
    ew, ns = grid.cell_size_m(60.5)
    assert ns / ew > 1.9
    rs = geo.radial_set("across")
    # fewer radials than uniform ones at the smaller side, neighbours never further apart than the
    # cell spacing across them at the nominal radius
    assert rs.nrad < 0.85 * geo.nrad
    az = rs.azimuth_rad
    gap = np.diff(np.r_[az, az[0] + 2 * np.pi]) * rs.r_nominal_m
    s_perp = 1.0 / np.hypot(np.cos(az) / ew, np.sin(az) / ns)
    assert np.all(gap <= s_perp * 1.01)
    cell = geo.radial_set("cell")
    np.testing.assert_allclose(cell.step_m[[0, cell.nrad // 4]], [ns, ew], rtol=1e-6)
    # every cell inside the radius reads computed samples only, and the fast map stays close to the
    # exact=True map (uniform radials, the per-profile method on every sample)
    sites = _site_lonlat(149.5, 60.5)
    fast = _quiet(coverage.predict, t, sites, model="p526", radius_m=20_000).best_dbm
    exact = _quiet(coverage.predict, t, sites, model="p526", radius_m=20_000, model_params={"exact": True}).best_dbm
    inside = np.isfinite(exact)
    assert inside.sum() > 250_000 and np.array_equal(np.isfinite(fast), inside)
    d = np.abs(fast[inside] - exact[inside])
    assert (d <= 1.0).mean() >= 0.95 and np.percentile(d, 95) <= 1.0


def _site_lonlat(lon, lat):
    return pd.DataFrame({"site_id": ["a"], "lon": [lon], "lat": [lat], "height_m": [30.0], "freq_mhz": [900.0],
                         "eirp_dbm": [60.0], "technology": ["2g"]})


def test_exact_true_is_the_uniform_per_sample_pipeline(shared_file):
    """exact=True: every sample of the uniform radials, all radials read (the result before issue 14)."""
    from coverage.engine import _kernels as K
    from coverage.propagation import get_model
    from coverage.propagation._kernels.itm_sweep import itm_radials

    t = _quiet(coverage.open_terrain, shared_file("dem/S36E149.tif"))
    geo = SiteGeometry.build(Grid(t.elevation_m, t.transform, t.crs, True), 149.5, -35.5, 8_000.0)
    m = get_model("itm")
    params = dict(m.params(None), exact=True)
    got = geo.loss_db(m, freq_mhz=900.0, h_tx_m=30.0, h_rx_m=1.5, **params)
    z2d, nvalid = geo.profiles
    out = np.empty_like(z2d)
    itm_radials(z2d, nvalid, geo.step_m, 30.0, 1.5, 900.0, 1, 360.0, 1, 15.0, 0.005, 12, 50.0, 50.0, 50.0, out)
    out -= free_space_loss_db(np.where(np.arange(z2d.shape[1]) > 0, np.arange(z2d.shape[1]) * geo.step_m, np.nan),
                              900.0)[None, :]
    cell = np.empty_like(geo.dist_m)
    K.radials_to_cells(out, nvalid, geo.step_m, geo.dist_m, geo.azimuth_rad, cell)
    expect = np.empty_like(cell)
    K.free_space_plus(cell, geo.dist_m, geo.ground_m, np.nan, 1.5, 900.0, expect)
    np.testing.assert_array_equal(got, expect)
    # the fast path: each cell takes ITM on its nearest radial sample's own sub-profile (Delta h from
    # nodes: within 1 dB on >= 99 % of cells), only the samples some cell takes are evaluated
    import coverage.itm as itm

    fast = geo.loss_db(m, freq_mhz=900.0, h_tx_m=30.0, h_rx_m=1.5, **m.params(None))
    inside = np.isfinite(expect)
    assert np.array_equal(np.isfinite(fast), inside)
    rs = geo.radial_set("min")
    need, jk = rs.nearest
    assert need.sum() < 0.5 * (nvalid - 1).sum() and need.sum() <= inside.sum()
    rz, rnv = rs.profiles
    errs = []
    for r, c in np.argwhere(inside)[np.random.default_rng(2).choice(inside.sum(), 300, replace=False)]:
        j, k = divmod(int(jk[r, c]), rz.shape[1])
        assert 1 <= k < rnv[j] and abs(k * rs.step_m[j] - geo.dist_m[r, c]) <= 0.5 * rs.step_m[j] + 1e-6
        p2p = itm.p2p(rz[j, :k + 1], rs.step_m[j], h_tx_m=30.0, h_rx_m=1.5, freq_mhz=900.0, climate=1, n0=360.0,
                      pol=1, epsilon=15.0, sigma=0.005, mdvar=12).loss_db
        want = p2p - free_space_loss_db(k * rs.step_m[j], 900.0) + free_space_loss_db(geo.dist_m[r, c], 900.0)
        errs.append(abs(fast[r, c] - want))
    assert (np.array(errs) <= 1.0).mean() >= 0.99 and np.median(errs) < 0.05


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cx=st.floats(20.0, 120.0), aspect=st.floats(0.4, 2.5), radius_cells=st.floats(5.0, 60.0),
       spacing=st.sampled_from(["cell", "across", "min"]))
def test_radial_set_mapping_reads_only_computed_samples(cx, aspect, radius_cells, spacing):
    """On any cell shape, every cell inside the radius brackets computed samples (none before
    k_first), and a function of distance alone maps back to the cell's own distance."""
    from coverage.engine import _kernels as K

    cy = cx * aspect
    n = int(2 * radius_cells * max(1.0, 1.0 / aspect)) + 9
    m = int(2 * radius_cells * max(1.0, aspect)) + 9
    t = coverage.Terrain(np.zeros((n, m), np.float32), Affine(cx, 0, 500_000.0, 0, -cy, 9_950_000.0), UTM)
    grid = Grid(t.elevation_m, t.transform, t.crs, False)
    radius = radius_cells * max(cx, cy)
    geo = SiteGeometry.build(grid, *map(float, t.xy_of(n // 2, m // 2)), radius)
    rs = geo.radial_set(spacing)
    z2d, nvalid = rs.profiles
    k = np.arange(z2d.shape[1])[None, :]
    values = np.where((k >= rs.k_first[:, None]) & (k < nvalid[:, None]), np.sqrt(k * rs.step_m[:, None] + 1.0),
                      np.nan)
    out = np.empty_like(geo.dist_m)
    K.radials_to_cells_dir(values, nvalid, rs.step_m, geo.dist_m, geo.azimuth_rad, rs.phi, rs.r_nominal_m,
                           rs.levels, out)
    inside = np.isfinite(geo.dist_m) & (geo.dist_m >= rs.step_m.max())
    assert np.isfinite(out[inside]).all()
    # sqrt(d + 1) is concave: linear interpolation between samples lies below it, by at most the
    # curvature times a step squared
    expect = np.sqrt(geo.dist_m[inside] + 1.0)
    err = expect - out[inside]
    assert err.min() >= -1e-9 and err.max() <= 0.125 * rs.step_m.max() ** 2 / (4 * rs.step_m.min() ** 1.5) + 1e-9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 300), h_tx=st.floats(5.0, 100.0))
def test_p526_fast_path_skips_samples_without_changing_the_others(seed, n, h_tx):
    """P.526 with k_first and a spacing per radial = the per-profile method on each sample read."""
    from coverage.propagation.p526 import P526_MODEL

    rng = np.random.default_rng(seed)
    z2d = 200 + np.cumsum(rng.normal(0, 8, (4, n)), axis=1)
    nvalid = np.array([n, max(0, n - 5), min(n, 2), n // 2], dtype=np.int64)
    k_first = rng.integers(1, n, 4)
    steps = rng.uniform(20.0, 120.0, 4)
    fast = P526_MODEL.radial_excess_db(z2d, nvalid, steps, freq_mhz=900.0, h_tx_m=h_tx, h_rx_m=1.5, k_first=k_first)
    cols = np.arange(n)[None, :]
    read = (cols >= k_first[:, None]) & (cols < nvalid[:, None])
    assert np.isnan(fast[~read]).all()
    for j in range(4):
        ref = P526_MODEL.radial_excess_db(z2d[j:j + 1], nvalid[j:j + 1], float(steps[j]), freq_mhz=900.0,
                                          h_tx_m=h_tx, h_rx_m=1.5, exact=True)
        np.testing.assert_allclose(fast[j, read[j]], ref[0, read[j]], atol=1e-6)


def test_itm_fast_path_tiled_is_bit_identical():
    """The nearest-sample mapping and the skipped samples keep tiled runs bit-identical."""
    from coverage.engine.tiles import predict_tiled
    from coverage.synthetic import fractal_terrain

    t = fractal_terrain((100, 100), 50.0, seed=4, relief_m=200.0)
    x, y = t.xy_of(np.array([39.5, 60.0, 20.0]), np.array([39.5, 70.0, 85.0]))
    lon, lat = t.to_lonlat(x, y)
    sites = pd.DataFrame({"site_id": ["a", "b", "c"], "lon": lon, "lat": lat, "height_m": [30.0, 25.0, 40.0],
                          "freq_mhz": 900.0, "eirp_dbm": 58.0, "technology": "2g"})
    ref = _quiet(coverage.predict, t, sites, model="itm", radius_m=1500.0)
    res = _quiet(predict_tiled, t, sites, model="itm", radius_m=1500.0, tile_size=40, workers=0)
    assert np.isfinite(ref.best_dbm).mean() > 0.5
    for name in ("best_dbm", "second_dbm", "best_server", "n_servers"):
        assert np.array_equal(np.asarray(getattr(ref, name)), np.asarray(getattr(res, name)), equal_nan=True), name
