"""Calibration: speed of the fit on 10,000 points, and the Recife GSM-1800 numbers before / after.

1. Speed: a synthetic 10,000-point drive test around 8 sites (COST-231 + offset + slope + 8 dB
   shadowing); the base model runs once at the points (``loss_at_points``), then the fit with 5-fold
   spatial cross-validation (``fit_points``) is timed: median of ``--repeat`` runs. Target < 2 s.
2. Recife (shared data, 9,308 measurements, 4 sectors on 3 sites): ME / sigma / RMSE of the raw models
   and of the calibrated ones, in-sample and cross-validated on spatial blocks of several sizes, without
   and with the local residual correction (``cv_local``).
3. The local floor: the RMSE between a measurement and its nearest neighbour of the same sector
   (within 10 m) divided by sqrt(2): the point-to-point scatter that no model of distance and terrain
   can follow.

Prints JSON lines. Usage: PYTHONPATH=src python benchmarks/bench_calibration.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import coverage
from coverage.analysis.calibration import fit_points, loss_at_points
from coverage.errors import CoverageWarning, ModelRangeWarning
from coverage.propagation import cost231_loss_db

SHARED = Path(os.environ.get("COVERAGE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
RECIFE = SHARED / "measurements" / "recife_gsm1800"


def emit(**kw):
    print(json.dumps(kw, default=str), flush=True)


def synthetic(n=10_000, n_sites=8, seed=0):
    from pyproj import Geod

    rng = np.random.default_rng(seed)
    g = Geod(ellps="WGS84")
    slon = 117.0 + rng.uniform(-0.1, 0.1, n_sites)
    slat = -0.5 + rng.uniform(-0.1, 0.1, n_sites)
    site = rng.integers(0, n_sites, n)
    d = np.exp(rng.uniform(np.log(200.0), np.log(10_000.0), n))
    lon, lat, _ = g.fwd(slon[site], slat[site], rng.uniform(0, 360, n), d)
    h = rng.choice([30.0, 40.0, 50.0], n_sites)[site]
    loss = np.empty(n)
    for k in range(n_sites):
        s = site == k
        loss[s] = cost231_loss_db(d[s], freq_mhz=1800.0, h_tx_m=float(h[s][0]), h_rx_m=1.5)
    loss += 4.0 - 6.0 * np.log10(d / 1000.0) + rng.normal(0, 8.0, n)
    return pd.DataFrame({"lon": lon, "lat": lat, "site_id": [f"S{k}" for k in site], "site_lon": slon[site],
                         "site_lat": slat[site], "site_height_m": h, "freq_mhz": 1800.0, "rx_height_m": 1.5,
                         "path_loss_db": loss})


def bench_speed(repeat):
    meas = coverage.read_measurements(synthetic())
    t0 = time.perf_counter()
    base = loss_at_points(meas, "cost231")
    t_model = time.perf_counter() - t0
    fit_points(meas, base, "cost231", ("offset", "slope"))  # warm-up (scipy imports)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        cal = fit_points(meas, base, "cost231", ("offset", "slope"), name="bench-cal")
        times.append(time.perf_counter() - t0)
    emit(bench="calibrate_10k_points", n_points=len(meas), model_seconds=round(t_model, 3),
         fit_seconds_median=round(float(np.median(times)), 4), fit_seconds_max=round(max(times), 4),
         target_seconds=2.0, cv_rmse_db=round(cal.report["overall"]["cv"]["rmse_db"], 3),
         coefficients=cal.report["coefficients"])


def bench_recife():
    if not RECIFE.is_dir():
        emit(bench="recife", skipped=f"no shared data at {RECIFE}")
        return
    meas = coverage.read_measurements(RECIFE / "measurements.csv", sites=RECIFE / "bts_sites_corrected.derived.csv",
                                      technology="2g")
    raw = pd.read_csv(RECIFE / "measurements.csv")
    e = raw["PLhata"] - raw["PLreal"]
    emit(bench="recife", model="authors' PLhata column", n=len(e), me_db=round(e.mean(), 3),
         sigma_db=round(e.std(ddof=0), 3), rmse_db=round(float(np.sqrt(np.mean(e ** 2))), 3))
    for model, kw in (("cost231", {}), ("hata", {"extrapolate": True}), ("fspl", {})):
        for block in (100.0, 250.0, 500.0, 1000.0):
            cal = coverage.calibrate(meas, model, block_m=block, name=f"{model}+recife", **kw)
            o = cal.report["overall"]
            emit(bench="recife", model=model, fit=cal.report["terms"], block_m=block, folds=5,
                 before={k: round(v, 3) for k, v in o["before"].items()},
                 fit_in_sample={k: round(v, 3) for k, v in o["fit"].items()},
                 cross_validated={k: round(v, 3) for k, v in o["cv"].items()},
                 cross_validated_local={k: round(v, 3) for k, v in o["cv_local"].items()},
                 coefficients={k: (round(v, 3) if isinstance(v, float) else v)
                               for k, v in cal.report["coefficients"].items()},
                 per_fold_rmse_after=[round(x, 2) for x in cal.report["per_fold"]["rmse_db_after"]],
                 per_fold_rmse_local=[round(x, 2) for x in cal.report["per_fold"]["rmse_db_local"]])
    # the local floor: nearest neighbour of the same sector within 10 m
    from scipy.spatial import cKDTree

    diffs = []
    for _, g in meas.groupby("site_id"):
        lat0 = np.radians(g["lat"].mean())
        xy = np.column_stack([np.radians(g["lon"]) * 6_371_000 * np.cos(lat0), np.radians(g["lat"]) * 6_371_000])
        dd, ii = cKDTree(xy).query(xy, k=2)
        ok = dd[:, 1] <= 10.0
        pl = g["path_loss_db"].to_numpy()
        diffs.append(pl[ok] - pl[ii[ok, 1]])
    diff = np.concatenate(diffs)
    emit(bench="recife_local_floor", pairs=int(diff.size), neighbour_within_m=10.0,
         rmse_single_point_db=round(float(np.sqrt(np.mean(diff ** 2)) / np.sqrt(2)), 3))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore", ModelRangeWarning)
    warnings.simplefilter("ignore", CoverageWarning)
    bench_speed(a.repeat)
    bench_recife()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
