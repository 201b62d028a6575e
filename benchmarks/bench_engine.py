"""Coverage engine benchmark on the shared S36E149 SRTM tile (3 arc-second, native resolution).

Prints JSON lines:
  * one site, 30 km radius: seconds and cells per second after JIT warm-up, per model, on 1 and on
    all cores (numba threads);
  * the terrain model's sweep against the exact method on each cell's own geodesic profile;
  * 200 sites into one best-server map with the terrain model: total seconds and peak memory.

Usage: python benchmarks/bench_engine.py [--sites 200] [--repeat 5]
No peer tool (SPLAT!, Signal-Server) is installed on this machine, so no ratio is printed; the
field notes give SPLAT! 2.0 at ~1.0 s for one 20 km ITM site on a 3" tile on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

import numba
import numpy as np
import pandas as pd

import coverage
from coverage.engine.sweep import Grid, SiteGeometry

SHARED = Path(os.environ.get("COVERAGE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
MODELS = {"fspl": 900.0, "hata": 900.0, "cost231": 1800.0, "p526": 900.0, "itm": 900.0}


def emit(**kw):
    print(json.dumps(kw), flush=True)


def one_site(terrain, model, freq, threads, repeat):
    numba.set_num_threads(threads)
    sites = pd.DataFrame({"site_id": ["s"], "lon": [149.5], "lat": [-35.5], "height_m": [30.0], "freq_mhz": [freq],
                          "eirp_dbm": [60.0], "technology": ["4g"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coverage.predict(terrain, sites, model=model, radius_m=30_000)  # warm-up (JIT, caches)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            r = coverage.predict(terrain, sites, model=model, radius_m=30_000)
            times.append(time.perf_counter() - t0)
    cells = r.metadata["cell_evaluations"]
    med = statistics.median(times)
    grid = Grid(terrain.elevation_m, terrain.transform, terrain.crs, True)
    geo = SiteGeometry.build(grid, 149.5, -35.5, 30_000)
    samples = geo.nrad * (int(np.ceil(30_000 / geo.step_m)) + 2)
    emit(bench="one_site", model=model, threads=threads, radius_m=30_000, cells=cells,
         radial_samples=samples if model in ("p526", "itm") else 0, seconds_median=round(med, 4),
         seconds_min=round(min(times), 4), cells_per_s=round(cells / med), cells_per_s_per_core=round(cells / med / threads))


def agreement(terrain, n_cells=1000, radius_m=20_000.0):
    """p526 sweep vs the exact method on each cell's own geodesic profile (Terrain.profile)."""
    from coverage.propagation.p526 import path_loss_db

    site = (149.5, -35.5)
    sites = pd.DataFrame({"site_id": ["s"], "lon": [site[0]], "lat": [site[1]], "height_m": [30.0],
                          "freq_mhz": [900.0], "eirp_dbm": [60.0], "technology": ["2g"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = coverage.predict(terrain, sites, model="p526", radius_m=radius_m)
    cells = np.argwhere(np.isfinite(r.best_dbm))
    cells = cells[np.random.default_rng(0).choice(len(cells), n_cells, replace=False)]
    diffs = []
    for row, col in cells:
        lon, lat = (float(v) for v in terrain.xy_of(row, col))
        d, z = terrain.profile(site, (lon, lat))
        if len(d) < 3:
            continue
        diffs.append(abs((60.0 - path_loss_db(d, z, h_tx_m=30, h_rx_m=1.5, freq_mhz=900)) - r.best_dbm[row, col]))
    diffs = np.array(diffs)
    emit(bench="sweep_vs_exact_per_cell", model="p526", radius_m=radius_m, cells=int(len(diffs)),
         abs_diff_db_median=round(float(np.median(diffs)), 3),
         abs_diff_db_p90=round(float(np.percentile(diffs, 90)), 3),
         abs_diff_db_p95=round(float(np.percentile(diffs, 95)), 3),
         share_within_1_db=round(float((diffs < 1).mean()), 4), share_within_3_db=round(float((diffs < 3).mean()), 4))


def many_sites(terrain, n, threads):
    numba.set_num_threads(threads)
    rng = np.random.default_rng(42)
    lon = rng.uniform(149.05, 149.95, n)
    lat = rng.uniform(-35.95, -35.05, n)
    sites = pd.DataFrame({"site_id": [f"s{i}" for i in range(n)], "lon": lon, "lat": lat,
                          "height_m": rng.choice([25.0, 30.0, 42.0], n), "freq_mhz": 900.0, "eirp_dbm": 60.0,
                          "technology": "4g", "azimuth_deg": rng.uniform(0, 360, n), "beamwidth_deg": 65.0,
                          "downtilt_deg": 3.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        r = coverage.predict(terrain, sites, model="p526", radius_m=30_000, progress=False)
        dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    emit(bench="best_server_map", model="p526", sites=n, threads=threads, radius_m=30_000, seconds=round(dt, 2),
         cell_evaluations=r.metadata["cell_evaluations"],
         cells_per_s=round(r.metadata["cell_evaluations"] / dt), peak_rss_mib=round(peak, 1),
         share_covered=round(float(np.isfinite(r.best_dbm).mean()), 4))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--agreement-cells", type=int, default=1000)
    a = ap.parse_args(argv)
    tile = SHARED / "dem" / "S36E149.tif"
    if not tile.exists():
        print(f"shared tile missing: {tile}", file=sys.stderr)
        return 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        terrain = coverage.open_terrain(tile)
    ncores = numba.config.NUMBA_NUM_THREADS
    emit(bench="machine", cores=ncores, numba_threading_layer=str(numba.config.THREADING_LAYER))
    for model in a.models.split(","):
        for threads in sorted({1, ncores}):
            one_site(terrain, model, MODELS[model], threads, a.repeat)
    if a.agreement_cells:
        agreement(terrain, a.agreement_cells)
    if a.sites:
        many_sites(terrain, a.sites, ncores)
    return 0


if __name__ == "__main__":
    sys.exit(main())
