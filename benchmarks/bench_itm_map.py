"""Speed benchmark of issue 14: the 1" ITM map, P.526 cells/s at two latitudes, peak memory.

Prints JSON lines:

* ``itm_map``: one site at the centre of ``S36E149`` upsampled to 1" (3601 x 3601, bilinear),
  30 m mast, 900 MHz, receiver 1.5 m, 20 km, ITM: seconds (median of warm runs) of
  ``coverage.predict`` for the fast path and for ``exact=True``; radial samples computed per cell;
* ``itm_accuracy``: the fast map against the ``exact=True`` map on every cell (share within 1 dB,
  p95, p99, max), and both maps against exact ITM point to point on a random set of cells' own
  geodesic profiles (``Terrain.profile``, ``coverage.itm.p2p``);
* ``p526_map``: P.526 output cells/s per core on the 3" tile (35.5 S) and on the same elevations
  relabelled at 49 N and 60 N (narrower cells east-west), 20 km, 1 and 2 threads;
* ``rss``: peak RSS of the 1" ITM job in a fresh process, and bytes per output cell above the
  process baseline (interpreter + numba + GDAL + terrain).

Usage: PYTHONPATH=src python benchmarks/bench_itm_map.py [--repeat 5] [--cells 1000] [--quick]
SPLAT! 2.0 takes 9.9-12.9 s on the same job (issue 14, 2 threads, whole process).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(os.environ.get("COVERAGE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SITE = (149.5, -35.5)
RADIO = dict(height_m=30.0, freq_mhz=900.0, eirp_dbm=60.0)


def emit(**kw):
    print(json.dumps(kw), flush=True)


def _upsample3(a: np.ndarray) -> np.ndarray:
    """Bilinear 3x upsampling with aligned cell centres (every third cell is an original one)."""
    def along(a, axis):
        n = a.shape[axis]
        x = np.arange(3 * (n - 1) + 1) / 3.0
        i0 = np.minimum(np.floor(x).astype(np.int64), n - 2)
        f = (x - i0).astype(np.float32)
        shape = [1, 1]
        shape[axis] = -1
        f = f.reshape(shape)
        return np.take(a, i0, axis) * (1 - f) + np.take(a, i0 + 1, axis) * f
    return along(along(a, 0), 1)


def terrain_1s():
    """``S36E149`` (3", 1201^2, centres on whole degrees) upsampled to 1" (3601^2)."""
    from affine import Affine

    import coverage

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t3 = coverage.open_terrain(SHARED / "dem" / "S36E149.tif")
    t = t3.transform
    tr = Affine(t.a / 3, 0, t.c + t.a / 3, 0, t.e / 3, t.f + t.e / 3)
    return coverage.Terrain(_upsample3(t3.elevation_m), tr, t3.crs, sources=("S36E149.tif x3 bilinear",)), t3


def relabel(t3, lat_top):
    """The same elevations on a grid whose top edge is at ``lat_top`` (a high-latitude tile)."""
    from affine import Affine

    import coverage

    t = t3.transform
    return coverage.Terrain(t3.elevation_m, Affine(t.a, 0, t.c, 0, t.e, lat_top - t.e / 2), t3.crs)


def site(lon, lat, tech="2g"):
    return pd.DataFrame({"site_id": ["s"], "lon": [lon], "lat": [lat], "technology": [tech], **{
        k: [v] for k, v in RADIO.items()}})


def timed(fn, repeat, cpu=None):
    """Result, wall seconds of each run (after a warm-up: JIT load, caches); with a list ``cpu``,
    also the CPU seconds of each run (process time: all threads, robust to other jobs' load)."""
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        c0 = time.process_time()
        r = fn()
        ts.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.process_time() - c0)
    return r, ts


def itm_map(t1, repeat, n_cells, quick):
    import numba

    import coverage
    from coverage.engine.sweep import Grid, SiteGeometry

    s = site(*SITE)
    run = {}
    for name, params in (("fast", {}), ("exact", {"exact": True})):
        cpu = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r, ts = timed(lambda: coverage.predict(t1, s, model="itm", radius_m=20_000, model_params=params,
                                                   progress=False), 1 if (quick or name == "exact") else repeat, cpu)
            cpu1 = []
            numba.set_num_threads(1)  # CPU seconds of the same job on one thread
            timed(lambda: coverage.predict(t1, s, model="itm", radius_m=20_000, model_params=params,
                                           progress=False), 1 if (quick or name == "exact") else repeat, cpu1)
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        run[name] = r
        geo = SiteGeometry.build(Grid(t1.elevation_m, t1.transform, t1.crs, True), *SITE, 20_000.0)
        if name == "exact":
            nrad, nv, kf = geo.nrad, geo.profiles[1], 1
        else:
            from coverage.propagation import get_model

            itm_model = get_model("itm")
            rs = geo.radial_set(getattr(itm_model, "radial_spacing", "cell"))
            nrad, nv, kf = rs.nrad, rs.profiles[1], rs.k_first
        if name == "fast" and getattr(itm_model, "cell_mapping", "") == "nearest":
            computed = int(rs.nearest[0].sum())  # the samples some cell takes
        else:
            computed = int(np.maximum(nv - kf, 0).sum())
        cells = r.metadata["cell_evaluations"]
        emit(bench="itm_map", path=name, grid="1 arc-second 3601x3601", radius_m=20_000, cells=cells,
             radials=nrad, samples_per_radial=int(nv.max()), samples_computed=computed,
             samples_per_cell=round(computed / cells, 3), seconds_median=round(statistics.median(ts), 3),
             seconds_all=[round(x, 3) for x in ts], cpu_seconds_2_threads_median=round(statistics.median(cpu), 3),
             cpu_seconds_1_thread_median=round(statistics.median(cpu1), 3),
             us_per_computed_sample_1_thread=round(statistics.median(cpu1) / computed * 1e6, 3),
             loadavg=os.getloadavg()[0], splat2_seconds="9.9-12.9",
             speedup_vs_splat2_low=round(9.9 / statistics.median(ts), 1),
             speedup_vs_splat2_low_if_2_idle_cores=round(9.9 / (statistics.median(cpu1) / 2), 1))
    fast, exact = run["fast"].best_dbm, run["exact"].best_dbm
    ok = np.isfinite(fast) & np.isfinite(exact)
    d = np.abs(fast[ok] - exact[ok])
    emit(bench="itm_accuracy", against="exact=True map (same radials)", cells=int(ok.sum()),
         share_within_1_db=round(float((d <= 1).mean()), 5), share_within_0_5_db=round(float((d <= 0.5).mean()), 5),
         p95_db=round(float(np.percentile(d, 95)), 3), p99_db=round(float(np.percentile(d, 99)), 3),
         max_db=round(float(d.max()), 2))
    per_cell(t1, run, n_cells)


def per_cell(t1, run, n_cells):
    """Both maps against ITM point to point on random cells' own geodesic profiles."""
    import coverage.itm as itm

    fast = run["fast"].best_dbm
    cells = np.argwhere(np.isfinite(fast))
    cells = cells[np.random.default_rng(0).choice(len(cells), n_cells, replace=False)]
    step = min(t1.cell_size_m)
    errs = {"fast": [], "exact": []}
    for row, col in cells:
        lon, lat = (float(v) for v in t1.xy_of(row, col))
        d, z = t1.profile(SITE, (lon, lat), step_m=step)
        if len(d) < 3:
            continue
        ref = itm.p2p(z, d[1] - d[0], h_tx_m=30.0, h_rx_m=1.5, freq_mhz=900.0, climate=1, n0=360.0, pol=1,
                      epsilon=15.0, sigma=0.005, mdvar=12).loss_db
        for name in errs:
            errs[name].append(abs((60.0 - run[name].best_dbm[row, col]) - ref))
    for name, e in errs.items():
        e = np.array(e)
        emit(bench="itm_accuracy", path=name, against="exact ITM p2p on each cell's own geodesic profile",
             cells=int(len(e)), share_within_1_db=round(float((e <= 1).mean()), 4),
             share_within_3_db=round(float((e <= 3).mean()), 4), median_db=round(float(np.median(e)), 3),
             p95_db=round(float(np.percentile(e, 95)), 3), p99_db=round(float(np.percentile(e, 99)), 3))


def p526_maps(t3, repeat):
    import numba

    import coverage

    for lat_top in (None, 50.0, 61.0):
        t = t3 if lat_top is None else relabel(t3, lat_top)
        lat = -35.5 if lat_top is None else lat_top - 0.5
        s = site(149.5, lat)
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            cpu = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r, ts = timed(lambda: coverage.predict(t, s, model="p526", radius_m=20_000, progress=False), repeat,
                              cpu)
            cells = r.metadata["cell_evaluations"]
            med = statistics.median(ts)
            cpu_med = statistics.median(cpu)
            ew, ns = t.cell_size_m if lat_top is None else _cell_at(t, lat)
            emit(bench="p526_map", lat=lat, cell_ew_m=round(ew, 1), cell_ns_m=round(ns, 1), threads=threads,
                 cells=cells, seconds_median=round(med, 4), cells_per_s=round(cells / med),
                 cells_per_s_per_core=round(cells / med / threads), cpu_seconds_median=round(cpu_med, 4),
                 cells_per_cpu_second=round(cells / cpu_med), loadavg=os.getloadavg()[0])
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def p526_accuracy(t3, n_cells):
    """P.526 fast map (directional radials, thinned near the site) and the exact=True map (uniform
    radials, per-profile method on every sample) against P.526 on random cells' own geodesic profiles."""
    import coverage
    from coverage.propagation.p526 import path_loss_db

    for lat_top in (None, 61.0):
        t = t3 if lat_top is None else relabel(t3, lat_top)
        lat = -35.5 if lat_top is None else lat_top - 0.5
        s = site(149.5, lat)
        maps = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, params in (("fast", {}), ("exact", {"exact": True})):
                maps[name] = coverage.predict(t, s, model="p526", radius_m=20_000, model_params=params,
                                              progress=False).best_dbm
        cells = np.argwhere(np.isfinite(maps["fast"]))
        cells = cells[np.random.default_rng(0).choice(len(cells), n_cells, replace=False)]
        errs = {"fast": [], "exact": []}
        for row, col in cells:
            lon, lat_c = (float(v) for v in t.xy_of(row, col))
            d, z = t.profile((149.5, lat), (lon, lat_c))
            if len(d) < 3:
                continue
            ref = path_loss_db(d, z, h_tx_m=30.0, h_rx_m=1.5, freq_mhz=900.0)
            for name in errs:
                errs[name].append(abs((60.0 - maps[name][row, col]) - ref))
        ok = np.isfinite(maps["fast"]) & np.isfinite(maps["exact"])
        dm = np.abs(maps["fast"][ok] - maps["exact"][ok])
        for name, e in errs.items():
            e = np.array(e)
            emit(bench="p526_accuracy", lat=lat, path=name, against="P.526 on each cell's own geodesic profile",
                 cells=int(len(e)), share_within_1_db=round(float((e <= 1).mean()), 4),
                 share_within_3_db=round(float((e <= 3).mean()), 4), p95_db=round(float(np.percentile(e, 95)), 3))
        emit(bench="p526_accuracy", lat=lat, path="fast", against="exact=True map", cells=int(ok.sum()),
             share_within_1_db=round(float((dm <= 1).mean()), 4), p95_db=round(float(np.percentile(dm, 95)), 3))


def _cell_at(t, lat):
    from coverage.io.terrain import cell_size_m

    return cell_size_m(t.transform, True, lat)


def kaltim_kaltara_positions() -> tuple[int, float]:
    """Distinct tower positions (OpenCelliD extract, 1e-4 deg) inside Kaltim + Kaltara, and the area (km^2)."""
    import geopandas as gpd

    kab = gpd.read_file(SHARED / "villages" / "kabupaten_boundaries_kaltim_kaltara.geojson")
    df = pd.read_csv(SHARED / "towers" / "opencellid_510_kalimantan_bbox.csv")
    pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326)
    inside = gpd.sjoin(pts, kab[["geometry"]], predicate="within")
    n = len(inside[["lon", "lat"]].round(4).drop_duplicates())
    return n, float(kab.to_crs("EPSG:6933").area.sum() / 1e6)


def province(repeat):
    """P.526 at 30 m, 30 km radius on bench_scale's synthetic relief: CPU seconds per site (one
    thread) on a 120 km x 120 km cut with 3 sites, projected to Kaltim + Kaltara with the tile plan's
    redundancy (tiles of 4,096 cells, as bench_scale projects 30 m runs)."""
    import numba

    import coverage
    from coverage.synthetic import fractal_terrain

    cell, radius = 30.0, 30_000.0
    n = 4000  # 120 km: every site's 30 km disc lies on the cut
    t = fractal_terrain((n, n), cell, seed=3, relief_m=900.0)
    rows = np.array([1300.0, 2000.0, 2700.0])
    cols = np.array([1300.0, 2700.0, 2000.0])
    x, y = t.xy_of(rows, cols)
    lon, lat = t.to_lonlat(x, y)
    sites = pd.DataFrame({"site_id": ["a", "b", "c"], "lon": lon, "lat": lat, "height_m": 35.0, "freq_mhz": 900.0,
                          "eirp_dbm": 60.0, "technology": "4g", "bandwidth_mhz": 10.0})
    numba.set_num_threads(1)
    cpu = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r, ts = timed(lambda: coverage.predict(t, sites, model="p526", radius_m=radius, progress=False), repeat, cpu)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    per_site = statistics.median(cpu) / 3
    cells = r.metadata["cell_evaluations"] / 3
    try:
        positions, area = kaltim_kaltara_positions()
    except Exception:  # geopandas or the shared files absent: the figures counted on 2026-12-03
        positions, area = 658, 196_877.0
    rad = math.ceil(1.01 * radius / cell) + 2
    redundancy = ((4096 + 2 * rad) / 4096) ** 2
    core_h = positions * redundancy * per_site / 3600.0
    emit(bench="province", model="p526", cell_m=cell, radius_m=radius, cut_cells=n * n, cells_per_site=round(cells),
         cpu_seconds_per_site=round(per_site, 3), cells_per_cpu_second=round(cells / per_site),
         kaltim_kaltara_positions=positions, area_km2=round(area), redundancy_tiles_4096=round(redundancy, 2),
         core_hours=round(core_h, 2), indonesia_30m_core_hours_before="560 (bench_scale, 300,000 positions)",
         indonesia_30m_core_hours_at_this_cost=round(300_000 * redundancy * per_site / 3600.0, 1))


def _peak_rss_bytes() -> int:
    """This process's peak RSS: VmHWM (per address space, so not inherited from the parent across
    exec as ``ru_maxrss`` is on Linux), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def rss_child():
    """Peak RSS of the 1" ITM job alone (run in a fresh process)."""
    import coverage

    t1, _ = terrain_1s()
    base = _peak_rss_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = coverage.predict(t1, site(*SITE), model="itm", radius_m=20_000, progress=False)
    peak = _peak_rss_bytes()
    cells = r.metadata["cell_evaluations"]
    emit(bench="rss", job="1 arc-second ITM map", peak_rss_mib=round(peak / 2**20, 1),
         baseline_rss_mib=round(base / 2**20, 1), grid_cells=int(t1.elevation_m.size), cells=cells,
         bytes_per_output_cell_above_baseline=round((peak - base) / cells, 1),
         bytes_per_grid_cell_above_baseline=round((peak - base) / t1.elevation_m.size, 1))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="itm,p526,rss,province")
    ap.add_argument("--rss-child", action="store_true")
    a = ap.parse_args(argv)
    if a.rss_child:
        rss_child()
        return 0
    if not (SHARED / "dem" / "S36E149.tif").exists():
        print(f"shared tile missing under {SHARED}", file=sys.stderr)
        return 1
    import numba

    emit(bench="machine", cores=numba.config.NUMBA_NUM_THREADS, loadavg=os.getloadavg())
    t1, t3 = terrain_1s()
    only = a.only.split(",")
    if "itm" in only:
        itm_map(t1, a.repeat, 200 if a.quick else a.cells, a.quick)
    if "p526" in only:
        p526_maps(t3, a.repeat)
        p526_accuracy(t3, 200 if a.quick else a.cells)
    if "province" in only:
        province(1 if a.quick else 3)
    if "rss" in only:
        subprocess.run([sys.executable, __file__, "--rss-child"], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
