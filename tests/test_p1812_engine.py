"""P.1812 and land cover in the engine: the radial sweep equals ``p1812.bt_loss`` on each sample's own
profile, trees weaken the signal, bare P.1812 stays near P.526, P.2108 terminal loss, tiled runs stay
bit-identical, and the metadata says what cover was used."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st

import coverage
from coverage.engine.tiles import predict_tiled
from coverage.propagation import p1812, p2108
from coverage.propagation.p1812 import P1812_MODEL
from coverage.synthetic import fractal_terrain

PRM = {"dn": 45.0, "n0": 325.0}
RADIUS = 1500.0


def _destination(lat, lon, az, d_km):
    """Great-circle destination on the 6371 km sphere (the one P.1812's path-centre formula uses)."""
    p1, l1, dd = math.radians(lat), math.radians(lon), d_km / 6371.0
    p2 = math.asin(math.sin(p1) * math.cos(dd) + math.cos(p1) * math.sin(dd) * math.cos(az))
    l2 = l1 + math.atan2(math.sin(az) * math.sin(dd) * math.cos(p1), math.cos(dd) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), math.degrees(l2)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), nrad=st.sampled_from([8, 16]), nsamp=st.integers(6, 40),
       step=st.floats(30.0, 300.0), htx=st.floats(5.0, 60.0), f=st.floats(0.1, 5.0), p=st.floats(1.0, 50.0),
       lat=st.floats(-10.0, 10.0), clutter=st.booleans(), flag4=st.sampled_from([0, 1]))
def test_sweep_equals_bt_loss_on_each_radial_profile(seed, nrad, nsamp, step, htx, f, p, lat, clutter, flag4):
    rng = np.random.default_rng(seed)
    z2d = 50 + np.cumsum(rng.normal(0, 8, (nrad, nsamp)), axis=1)
    r2d = rng.choice([0.0, 10.0, 15.0, 20.0], (nrad, nsamp)) if clutter else np.zeros((nrad, nsamp))
    nvalid = rng.integers(2, nsamp + 1, nrad)
    ex = P1812_MODEL.radial_excess_db(z2d, nvalid, step, freq_mhz=f * 1e3, h_tx_m=htx, h_rx_m=1.5, r2d=r2d,
                                      lat_deg=lat, p_percent=p, flag4=flag4, **PRM)
    assert np.isnan(ex[:, 0]).all()
    for j in range(nrad):
        assert np.isnan(ex[j, nvalid[j]:]).all()
        assert (ex[j, 1:min(4, nvalid[j])] == 0.0).all()
        for k in range(4, nvalid[j]):
            d = np.arange(k + 1) * step / 1e3
            az = 2 * math.pi * j / nrad
            lat_r, lon_r = _destination(lat, 117.0, az, d[-1])
            res = p1812.bt_loss(f, p, d, z2d[j, :k + 1], r2d[j, :k + 1], 4, htx, 1.5, "v", lat, lat_r, 117.0,
                                lon_r, flag4=flag4, **PRM)
            d3 = math.hypot(d[-1] * 1e3, (z2d[j, 0] + htx) - (z2d[j, k] + 1.5))
            fs = 20 * math.log10(4 * math.pi * d3 * f * 1e9 / 299792458.0)
            assert ex[j, k] + fs == pytest.approx(res.lb_db, abs=1e-6), (j, k)


@pytest.fixture(scope="module")
def case():
    t = fractal_terrain((100, 100), 50.0, seed=5, relief_m=150.0)
    x, y = t.xy_of(np.array([50.0, 30.0]), np.array([50.0, 64.0]))
    lon, lat = t.to_lonlat(x, y)
    sites = pd.DataFrame({"site_id": ["A", "B"], "lon": lon, "lat": lat, "height_m": [30.0, 25.0],
                          "freq_mhz": [900.0, 900.0], "eirp_dbm": [58.0, 58.0], "technology": ["4g", "4g"],
                          "bandwidth_mhz": [10.0, 10.0]})
    return t, sites


def _run(t, sites, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return coverage.predict(t, sites, radius_m=RADIUS, **kw)


def _worldcover(path, t, code):
    with rasterio.open(path, "w", driver="GTiff", height=t.shape[0], width=t.shape[1], count=1, dtype="uint8",
                       crs=t.crs, transform=t.transform) as ds:
        ds.write(np.asarray(code, np.uint8) * np.ones(t.shape, np.uint8), 1)
    return path


def test_trees_weaker_than_grass_and_metadata(case, tmp_path):
    t, sites = case
    grass = _run(t, sites, model="p1812", model_params=PRM, landcover=_worldcover(tmp_path / "g.tif", t, 30))
    trees = _run(t, sites, model="p1812", model_params=PRM, landcover=_worldcover(tmp_path / "t.tif", t, 10))
    both = np.isfinite(grass.best_dbm) & np.isfinite(trees.best_dbm)
    diff = grass.best_dbm[both] - trees.best_dbm[both]
    assert (diff >= -1e-3).all() and np.median(diff) > 3.0
    lc = trees.metadata["landcover"]
    assert lc["percent_by_class"] == {"tree cover": 100.0}
    assert lc["source"].endswith("t.tif") and len(lc["class_table"]) == 11
    assert grass.metadata["model"] == "p1812"


def test_uniform_clutter_said_in_metadata(case):
    t, sites = case
    res = _run(t, sites, model="p1812", model_params=PRM, clutter="forest")
    assert "applied everywhere" in res.metadata["landcover"]["source"]
    with pytest.warns(coverage.CoverageWarning, match="equatorial"):
        res2 = coverage.predict(t, sites.iloc[:1], radius_m=500.0, model="p1812")
    assert res2.metadata["assumed"]["dn"] == coverage.p1812.EQUATORIAL_DN


def test_bare_p1812_close_to_p526(case):
    """No clutter, 50 % time: P.1812 = free space + delta-Bullington (as P.526, same k-factor) blended
    with the ducting/troposcatter terms (eqs. (60)-(63)) and the LoS term; on these short LoS and
    diffraction paths that changes the loss by at most a few dB."""
    t, sites = case
    a = _run(t, sites, model="p1812", model_params=PRM)
    b = _run(t, sites, model="p526", model_params={"k_factor": 157.0 / (157.0 - 45.0)})
    ok = np.isfinite(a.best_dbm) & np.isfinite(b.best_dbm)
    d = np.abs(a.best_dbm[ok] - b.best_dbm[ok])
    assert np.median(d) < 1.0 and np.quantile(d, 0.95) < 3.0


def test_p2108_terminal_loss_on_any_model(case):
    t, sites = case
    base = _run(t, sites.iloc[:1], model="p526")
    res = _run(t, sites.iloc[:1], model="p526", clutter="forest", clutter_loss="p2108")
    ah = float(p2108.height_gain_correction_db(0.9, 1.5, 27.0, 15.0, 5))
    ok = np.isfinite(base.best_dbm)
    assert np.allclose(base.best_dbm[ok] - res.best_dbm[ok], ah, atol=1e-3)
    assert "P.2108" in res.metadata["landcover"]["terminal_clutter_loss"]
    with pytest.raises(coverage.InputError, match="needs a land cover"):
        _run(t, sites, model="p526", clutter_loss="p2108")


@pytest.mark.parametrize("tile_size", [37, 64])
def test_tiled_bit_identical_with_landcover(case, tmp_path, tile_size):
    t, sites = case
    rng = np.random.default_rng(1)
    codes = rng.choice([10, 30, 50, 80], t.shape).astype(np.uint8)
    path = tmp_path / "lc.tif"
    with rasterio.open(path, "w", driver="GTiff", height=t.shape[0], width=t.shape[1], count=1, dtype="uint8",
                       crs=t.crs, transform=t.transform) as ds:
        ds.write(codes, 1)
    lc = coverage.open_landcover(path, terrain=t)
    kw = dict(model="p1812", model_params=PRM, landcover=lc, clutter_loss="p2108")
    ref = _run(t, sites, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tiled = predict_tiled(t, sites, radius_m=RADIUS, tile_size=tile_size, workers=0, **kw)
    for name in ("best_dbm", "second_dbm", "best_server", "n_servers"):
        x, y = np.asarray(getattr(ref, name)), np.asarray(getattr(tiled, name))
        assert np.array_equal(x, y, equal_nan=True), name
    assert tiled.metadata["landcover"]["percent_by_class"] == ref.metadata["landcover"]["percent_by_class"]


def test_cli_predict_with_clutter(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    out = tmp_path / "c.tif"
    samples = repo / "data" / "samples"
    p = subprocess.run([sys.executable, "-m", "coverage.cli", "predict", "--terrain", str(samples / "terrain.tif"),
                        "--sites", str(samples / "sites.csv"), "--model", "p1812", "--radius", "1500",
                        "--clutter", "forest", "--clutter-loss", "p2108", "--out", str(out), "--no-progress"],
                       capture_output=True, text=True, check=False,
                       env={**os.environ, "PYTHONPATH": str(repo / "src")})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1])["model"] == "p1812" and out.exists()


def test_dask_bit_identical_with_landcover(case):
    distributed = pytest.importorskip("distributed")
    t, sites = case
    kw = dict(model="p1812", model_params=PRM, clutter="forest", clutter_loss="p2108")
    ref = _run(t, sites, **kw)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = coverage.predict(t, sites, radius_m=RADIUS, tile_size=64, client=client, **kw)
    assert res.metadata["engine"]["kind"] == "dask"
    for name in ("best_dbm", "best_server"):
        assert np.array_equal(np.asarray(getattr(ref, name)), np.asarray(getattr(res, name)), equal_nan=True)


def test_unused_landcover_is_said(case):
    t, sites = case
    with pytest.warns(coverage.CoverageWarning, match="no effect"):
        coverage.predict(t, sites.iloc[:1], radius_m=500.0, model="p526", clutter="forest")


def test_landcover_of_the_full_grid_is_cut_to_bounds(case, tmp_path):
    t, sites = case
    rng = np.random.default_rng(2)
    path = tmp_path / "lc.tif"
    with rasterio.open(path, "w", driver="GTiff", height=t.shape[0], width=t.shape[1], count=1, dtype="uint8",
                       crs=t.crs, transform=t.transform) as ds:
        ds.write(rng.choice([10, 30], t.shape).astype(np.uint8), 1)
    lon, lat = sites["lon"].iloc[0], sites["lat"].iloc[0]
    bounds = (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
    kw = dict(model="p1812", model_params=PRM, bounds=bounds)
    a = _run(t, sites.iloc[:1], landcover=coverage.open_landcover(path, terrain=t), **kw)
    b = _run(t, sites.iloc[:1], landcover=path, **kw)
    assert a.shape == b.shape and a.shape != t.shape
    assert np.array_equal(a.best_dbm, b.best_dbm, equal_nan=True)


def test_site_off_the_terrain_carries_the_edge_cover(case):
    t, sites = case
    x, y = t.xy_of(np.array([-5.0]), np.array([50.0]))  # 5 cells north of the grid
    lon, lat = t.to_lonlat(x, y)
    off = sites.iloc[:1].assign(lon=lon, lat=lat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bare = coverage.predict(t, off, radius_m=RADIUS, model="p1812", model_params=PRM)
        trees = coverage.predict(t, off, radius_m=RADIUS, model="p1812", model_params=PRM, clutter="forest",
                                 clutter_loss="p2108")
    ok = np.isfinite(bare.best_dbm) & np.isfinite(trees.best_dbm)
    assert ok.sum() > 100 and np.median(bare.best_dbm[ok] - trees.best_dbm[ok]) > 10.0
