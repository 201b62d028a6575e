"""Benchmark of ITU-R P.1812-7 (``coverage.p1812``); prints JSON lines (one object per line).

1. Point-to-point: seconds per ``bt_loss`` call (public function: checks + result object) and per
   bare kernel call, on real profiles of 100, 1,000 and 5,000 points (transects of the SRTM tile
   S36E149, bilinear), 900 MHz, 50 % and 10 % time, 10 m clutter; medians after the JIT warm-up.
2. Map (``--map``): one site, 30 m mast, 900 MHz, 30 km radius on ``S36E149.tif`` with
   ``model="p1812"`` (uniform "forest" cover: clutter raised profile) against ``model="p526"`` on
   the same job; medians of ``--repeat`` runs after warm-up, and the ratio.

Run: ``PYTHONPATH=src python benchmarks/bench_p1812.py [--map] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import numba  # noqa: E402

import coverage  # noqa: E402
from coverage.propagation import p1812  # noqa: E402
from coverage.propagation._kernels import p1812 as _k  # noqa: E402

SHARED = Path(os.environ.get("COVERAGE_SHARED_DATA", REPO.parent / "shared" / "data"))
DEM = SHARED / "dem" / "S36E149.tif"
SITE = (149.5, -35.5)


def emit(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


def median_time(fn, repeats: int, number: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return statistics.median(times)


def transect(n: int, length_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear heights along a west-east transect through the tile centre."""
    import rasterio
    from scipy.ndimage import map_coordinates

    with rasterio.open(DEM) as ds:
        z = ds.read(1).astype(float)
        t = ds.transform
    lon = SITE[0] - 0.3 + np.linspace(0, length_km, n) / (111.32 * math.cos(math.radians(SITE[1])))
    col = (lon - (t.c + 0.5 * t.a)) / t.a
    row = np.full(n, (SITE[1] - (t.f + 0.5 * t.e)) / t.e)
    return np.linspace(0, length_km, n), map_coordinates(z, [row, col], order=1)


def bench_p2p() -> None:
    for n in (100, 1000, 5000):
        d, h = transect(n, 40.0)
        r = np.full(n, 10.0)
        zone = np.full(n, 4.0)
        for p in (50.0, 10.0):
            kw = dict(dn=45.0, n0=325.0)
            args = (0.9, p, d, h, r, zone, 30.0, 1.5, "v", SITE[1], SITE[1], SITE[0], SITE[0] + 0.36)
            res = p1812.bt_loss(*args, **kw)
            number = max(1, 20_000 // n)
            t_pub = median_time(lambda: p1812.bt_loss(*args, **kw), 5, number)
            out = np.empty(_k.NFIELDS)
            t_ker = median_time(lambda: _k.profile_loss(d, h, r, zone, 0.9, p, 30.0, 1.5, 1, SITE[1], 45.0, 325.0,
                                                        500.0, 500.0, 50.0, 0.0, 1.0, 0.0, 0.0, 0, out), 5, number)
            emit({"bench": "p1812_p2p", "points": n, "p_percent": p, "lb_db": round(res.lb_db, 3),
                  "public_us": round(t_pub * 1e6, 1), "kernel_us": round(t_ker * 1e6, 1)})


def bench_map(repeat: int) -> None:
    import pandas as pd

    terrain = coverage.open_terrain(DEM)
    sites = pd.DataFrame({"site_id": ["S1"], "lon": [SITE[0]], "lat": [SITE[1]], "height_m": [30.0],
                          "freq_mhz": [900.0]})
    runs = {
        "p526": dict(model="p526"),
        "p1812_forest": dict(model="p1812", clutter="forest", model_params={"dn": 45.0, "n0": 325.0}),
    }
    times = {}
    for name, kw in runs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coverage.predict(terrain, sites, radius_m=30_000, **kw)  # warm-up (JIT)
            ts = []
            for _ in range(repeat):
                t = time.perf_counter()
                res = coverage.predict(terrain, sites, radius_m=30_000, **kw)
                ts.append(time.perf_counter() - t)
        times[name] = statistics.median(ts)
        emit({"bench": "map_30km_S36E149", "run": name, "seconds_median": round(times[name], 3),
              "cells": int(np.isfinite(res.best_dbm).sum()), "threads": numba.get_num_threads(),
              "median_dbm": round(float(np.nanmedian(res.best_dbm)), 2)})
    emit({"bench": "map_30km_S36E149", "ratio_p1812_over_p526": round(times["p1812_forest"] / times["p526"], 2)})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--map", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    bench_p2p()
    if a.map:
        bench_map(a.repeat)


if __name__ == "__main__":
    main()
