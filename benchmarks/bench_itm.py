"""Benchmark of the ITM (Longley-Rice) implementation; prints JSON lines (one object per line).

1. Single-profile point-to-point evaluations per second on real terrain profiles of 100, 1,000 and
   5,000 points (transects of the SRTM tile S36E149 sampled bilinearly), median of repeats after
   the JIT warm-up: the public ``coverage.itm.p2p`` (Python checks + result object), the bare
   kernel call, and ``p2p_batch`` throughput; against ``itmlogic`` (a pure-Python port of ITM
   1.2.2, benchmark-only extra: ``pip install itmlogic``) on the same inputs, with the largest
   loss difference and the speed ratios.
   Single evaluations run on one thread; the batch throughput is given on 1 and 2 threads.
2. A full ITM coverage sweep of one site, 50 km radius, on ``S36E149.tif`` at native resolution:
   radials from the tile centre sampled bilinearly at about the cell size, enough radials that
   neighbours are at most one cell apart at 50 km (radials stop at the tile edge: the tile is
   ~91 km wide at this latitude). Seconds with 1 and 2 numba threads, and the share of samples
   within 0.1 dB and 1 dB of the exact per-cell ITM (``itm_radials_exact``) on a random subsample.

Run: ``PYTHONPATH=src python benchmarks/bench_itm.py [--dem PATH] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import numba  # noqa: E402

import coverage.itm as itm  # noqa: E402
from coverage.propagation._kernels import itm as _k  # noqa: E402
from coverage.propagation._kernels.itm_sweep import itm_radials, itm_radials_exact  # noqa: E402

SHARED = Path(os.environ.get("COVERAGE_SHARED_DATA", REPO.parent / "shared" / "data"))
RADIO = dict(h_tx_m=30.0, h_rx_m=1.5, freq_mhz=900.0, climate=5, n0=301.0, pol=1, epsilon=15.0,
             sigma=0.005, mdvar=12, time=50.0, location=50.0, situation=50.0)
EARTH_R = 6371008.8


def emit(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


def read_dem(path: Path) -> tuple[np.ndarray, float, float, float, float]:
    """Elevations (float64) and the pixel-centre geometry: lon0, lat0 (centre of pixel 0,0), dlon, dlat."""
    import rasterio

    with rasterio.open(path) as ds:
        z = ds.read(1).astype(np.float64)
        t = ds.transform
        if ds.nodata is not None:
            z[z == ds.nodata] = np.nan
    return z, t.c + 0.5 * t.a, t.f + 0.5 * t.e, t.a, t.e


def sample(z: np.ndarray, lon0: float, lat0: float, dlon: float, dlat: float,
           lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Bilinear elevations at (lon, lat); NaN outside the tile."""
    from scipy.ndimage import map_coordinates

    col = (lon - lon0) / dlon
    row = (lat - lat0) / dlat
    out = map_coordinates(z, [row.ravel(), col.ravel()], order=1, mode="constant", cval=np.nan)
    inside = (col >= 0) & (col <= z.shape[1] - 1) & (row >= 0) & (row <= z.shape[0] - 1)
    return np.where(inside.ravel(), out, np.nan).reshape(lon.shape)


def destination(lat: float, lon: float, az: np.ndarray, dist: np.ndarray):
    """Great-circle destination points (degrees) at azimuths az (rad) and distances dist (m)."""
    p1, l1 = math.radians(lat), math.radians(lon)
    dd = dist / EARTH_R
    p2 = np.arcsin(np.sin(p1) * np.cos(dd) + np.cos(p1) * np.sin(dd) * np.cos(az))
    l2 = l1 + np.arctan2(np.sin(az) * np.sin(dd) * np.cos(p1), np.cos(dd) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), np.degrees(l2)


def timeit_median(fn, repeats: int, number: int) -> float:
    """Median seconds per call of ``fn`` over ``repeats`` batches of ``number`` calls."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return statistics.median(times)


def itmlogic_p2p(z: np.ndarray, step: float) -> float:
    """itmlogic point-to-point (its test-suite's call sequence), same inputs as ours."""
    from itmlogic.misc.qerfi import qerfi
    from itmlogic.preparatory_subroutines.qlrpfl import qlrpfl
    from itmlogic.statistics.avar import avar

    r = RADIO
    prop = {"eps": r["epsilon"], "sgm": r["sigma"], "ipol": r["pol"], "fmhz": r["freq_mhz"],
            "hg": [r["h_tx_m"], r["h_rx_m"]], "klim": r["climate"], "ens0": r["n0"]}
    np_ = len(z) - 1
    prop["pfl"] = [np_, step] + [float(v) for v in z]
    prop["kwx"] = 0
    prop["wn"] = r["freq_mhz"] / 47.7
    prop["ens"] = r["n0"]
    p10 = int(0.1 * np_)
    zsys = float(np.mean(z[p10:np_ - p10 + 1]))  # the reference's system elevation
    if zsys != 0:
        prop["ens"] *= math.exp(-zsys / 9460.0)
    prop["gme"] = 157e-9 * (1 - 0.04665 * math.exp(prop["ens"] / 179.3))
    zq = complex(r["epsilon"], 376.62 * r["sigma"] / prop["wn"])
    prop["zgnd"] = np.sqrt(zq - 1)
    if r["pol"] != 0:
        prop["zgnd"] = prop["zgnd"] / zq
    prop["klimx"] = 0
    prop["mdvarx"] = r["mdvar"]
    prop["lvar"] = 5
    prop["gma"] = 157e-9
    prop = qlrpfl(prop)
    fs = 8.685890 * np.log(2 * prop["wn"] * prop["dist"])
    zt, zc = qerfi([r["time"] / 100, r["situation"] / 100])
    a, prop = avar(zt, 0, zc, prop)
    return float(fs + a)


def bench_p2p(dem, quick: bool) -> None:
    z, lon0, lat0, dlon, dlat = dem
    rng = np.random.default_rng(3)
    try:
        import itmlogic  # noqa: F401

        have_itmlogic = True
    except ImportError:
        have_itmlogic = False
    prm_keys = {k: v for k, v in RADIO.items()}
    for n in (100, 1000, 5000):
        # transects across the tile: random start, azimuth and length 20-120 km
        profiles, steps = [], []
        while len(profiles) < (8 if quick else 20):
            lat = -35.5 + rng.uniform(-0.4, 0.4)
            lon = 149.5 + rng.uniform(-0.4, 0.4)
            length = rng.uniform(20e3, 120e3)
            la, lo = destination(lat, lon, np.full(n, rng.uniform(0, 2 * np.pi)),
                                 np.linspace(0.0, length, n))
            prof = sample(z, lon0, lat0, dlon, dlat, lo, la)
            if np.isfinite(prof).all():
                profiles.append(np.ascontiguousarray(prof))
                steps.append(length / (n - 1))
        ours = [itm.p2p(p, s, **prm_keys).loss_db for p, s in zip(profiles, steps)]
        n_prof = len(profiles)
        # every timing cycles through all profiles (the cost depends on the path: line of sight,
        # diffraction, troposcatter) and reports the mean per evaluation
        number = max(1, 20000 // (n * n_prof))
        repeats = 5 if quick else 9

        def api_cycle():
            for p, s in zip(profiles, steps):
                itm.p2p(p, s, **prm_keys)

        t_api = timeit_median(api_cycle, repeats, number) / n_prof
        prms = [np.array([s, RADIO["h_tx_m"], RADIO["h_rx_m"], RADIO["freq_mhz"], RADIO["climate"],
                          RADIO["n0"], RADIO["pol"], RADIO["epsilon"], RADIO["sigma"],
                          RADIO["mdvar"], RADIO["time"], RADIO["location"], RADIO["situation"],
                          math.nan]) for s in steps]
        rec = np.empty(_k.N_RECORD)

        def kernel_cycle():
            for p, prm in zip(profiles, prms):
                _k.p2p_one(p, n - 1, prm, rec)

        t_kernel = timeit_median(kernel_cycle, repeats, number) / n_prof
        batch = np.ascontiguousarray(np.stack([profiles[i % n_prof] for i in range(256)]))
        bsteps = np.array([steps[i % n_prof] for i in range(256)])
        itm.p2p_batch(batch, None, bsteps, **prm_keys)
        # batch throughput: best of the repeats (a 2-thread region stalls whenever another
        # process takes one of the two cores, which the median would report)
        t_batch = {}
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            t_batch[threads] = min(
                timeit_median(lambda: itm.p2p_batch(batch, None, bsteps, **prm_keys), 1,
                              max(1, 20000 // (n * 256))) for _ in range(repeats)) / 256
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        line = {"bench": "itm_p2p", "points": n, "profiles": len(profiles),
                "api_evals_per_s": round(1.0 / t_api), "api_us": round(t_api * 1e6, 2),
                "kernel_evals_per_s": round(1.0 / t_kernel), "kernel_us": round(t_kernel * 1e6, 2),
                "batch_evals_per_s_1_thread": round(1.0 / t_batch[1]),
                "batch_evals_per_s_2_threads": round(1.0 / t_batch[2]),
                "load_avg_1min": round(os.getloadavg()[0], 2)}
        if have_itmlogic:
            theirs = [itmlogic_p2p(p, s) for p, s in zip(profiles, steps)]
            diff = np.abs(np.array(ours) - np.array(theirs))
            modes = [itm.p2p(p, s, **prm_keys).mode for p, s in zip(profiles, steps)]
            los = np.array(modes) == 1
            t_it = timeit_median(lambda: [itmlogic_p2p(p, s) for p, s in zip(profiles, steps)],
                                 repeats, 1) / n_prof
            line.update({
                "itmlogic_evals_per_s": round(1.0 / t_it, 1), "itmlogic_us": round(t_it * 1e6, 1),
                "speed_ratio_api": round(t_it / t_api, 1),
                "speed_ratio_kernel": round(t_it / t_kernel, 1),
                "speed_ratio_batch_1_thread": round(t_it / t_batch[1], 1),
                "max_abs_diff_db": round(float(diff.max()), 4),
                "max_abs_diff_db_trans_horizon": round(float(diff[~los].max()), 4)
                if (~los).any() else None,
                "line_of_sight_paths": int(los.sum()),
                "note": "itmlogic is ITM 1.2.2 (Z_g with 376.62 sigma/k, 4-decimal quantiles, "
                        "LOS branch reads the second-to-last elevation for the receiver)"})
        else:
            line["itmlogic"] = "not installed (pip install itmlogic)"
        emit(line)


def build_radials(dem, lat: float, lon: float, radius_m: float):
    z, lon0, lat0, dlon, dlat = dem
    cell_ns = abs(dlat) * math.pi / 180 * EARTH_R
    cell_ew = abs(dlon) * math.pi / 180 * EARTH_R * math.cos(math.radians(lat))
    step = min(cell_ns, cell_ew)  # about the cell size (the smaller side)
    n_samp = int(math.ceil(radius_m / step)) + 1
    n_rad = int(math.ceil(2 * math.pi * radius_m / min(cell_ns, cell_ew)))  # <= 1 cell apart at R
    az = np.linspace(0.0, 2 * np.pi, n_rad, endpoint=False)
    dist = np.arange(n_samp) * step
    la, lo = destination(lat, lon, az[:, None], dist[None, :])
    elev = sample(z, lon0, lat0, dlon, dlat, lo, la)
    finite = np.isfinite(elev)
    n_valid = np.where(finite.all(axis=1), n_samp, np.argmin(finite, axis=1)).astype(np.int64)
    elev = np.ascontiguousarray(np.where(finite, elev, 0.0))
    return elev, n_valid, step


def bench_sweep(dem, quick: bool, full_exact: bool) -> None:
    lat, lon = -35.5, 149.5  # the tile centre
    radius = 50e3
    elev, n_valid, step = build_radials(dem, lat, lon, radius)
    args = (step, RADIO["h_tx_m"], RADIO["h_rx_m"], RADIO["freq_mhz"], RADIO["climate"],
            RADIO["n0"], RADIO["pol"], RADIO["epsilon"], RADIO["sigma"], RADIO["mdvar"],
            RADIO["time"], RADIO["location"], RADIO["situation"])
    out = np.empty_like(elev)
    itm_radials(elev[:4], n_valid[:4], *args, out[:4])  # JIT warm-up (cached after the first run)
    ex_small = np.empty_like(elev[:4])
    itm_radials_exact(elev[:4], n_valid[:4], *args, ex_small)
    secs = {}
    max_threads = numba.config.NUMBA_NUM_THREADS
    for threads in (1, 2):
        if threads > max_threads:
            continue
        numba.set_num_threads(threads)
        reps = []
        for _ in range(1 if quick else 3):
            t = time.perf_counter()
            itm_radials(elev, n_valid, *args, out)
            reps.append(time.perf_counter() - t)
        secs[threads] = min(reps)
    numba.set_num_threads(min(2, max_threads))
    # exact per-cell ITM on a random subsample of samples
    rng = np.random.default_rng(7)
    j_all, k_all = np.nonzero(np.arange(elev.shape[1])[None, :] < n_valid[:, None])
    keep = k_all >= 1
    j_all, k_all = j_all[keep], k_all[keep]
    pick = rng.choice(j_all.size, size=min(3000 if quick else 5000, j_all.size), replace=False)
    js, ks = j_all[pick], k_all[pick]
    exact = itm.p2p_batch(elev[js], ks + 1, step, **RADIO).loss_db
    sweep = out[js, ks]
    diff = np.abs(sweep - exact)
    valid = (np.arange(elev.shape[1])[None, :] >= 1) & (
        np.arange(elev.shape[1])[None, :] < n_valid[:, None])
    full = {}
    if full_exact:  # every sample against the exact per-cell ITM (a re-scan per sample)
        ref = np.empty_like(elev)
        t = time.perf_counter()
        itm_radials_exact(elev, n_valid, *args, ref)
        full_secs = time.perf_counter() - t
        dall = np.abs(out - ref)[valid]
        full = {"exact_all_samples_seconds_2_threads": round(full_secs, 3),
                "all_share_within_0.1_db": round(float(np.mean(dall <= 0.1)), 6),
                "all_share_within_1_db": round(float(np.mean(dall <= 1.0)), 6),
                "all_max_abs_diff_db": float(dall.max())}
    emit({"bench": "itm_sweep", "dem": "S36E149.tif", "site_lat": lat, "site_lon": lon,
          "radius_km": radius / 1e3, "step_m": round(step, 2), "radials": int(elev.shape[0]),
          "samples_per_radial": int(elev.shape[1]), "samples": int(j_all.size),
          "samples_truncated_at_tile_edge": int(elev.shape[0] * (elev.shape[1] - 1) - j_all.size),
          "seconds_1_thread": round(secs.get(1, float("nan")), 3),
          "seconds_2_threads": round(secs.get(2, float("nan")), 3),
          "us_per_sample_1_thread": round(secs.get(1, float("nan")) / j_all.size * 1e6, 3),
          "exact_subsample": int(js.size),
          "share_within_0.1_db": round(float(np.mean(diff <= 0.1)), 5),
          "share_within_1_db": round(float(np.mean(diff <= 1.0)), 5),
          "max_abs_diff_db": float(diff.max()),
          "nan_samples": int(np.isnan(out[valid]).sum()), **full,
          "load_avg_1min": round(os.getloadavg()[0], 2),
          "radio": RADIO, "cpu": platform.processor() or platform.machine()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dem", type=Path, default=SHARED / "dem" / "S36E149.tif")
    ap.add_argument("--quick", action="store_true", help="fewer repeats and profiles")
    ap.add_argument("--skip-p2p", action="store_true")
    ap.add_argument("--skip-sweep", action="store_true")
    ap.add_argument("--full-exact", action="store_true",
                    help="also compare every sweep sample with the exact per-cell ITM")
    a = ap.parse_args()
    dem = read_dem(a.dem)
    if not a.skip_p2p:
        bench_p2p(dem, a.quick)
    if not a.skip_sweep:
        bench_sweep(dem, a.quick, a.full_exact)


if __name__ == "__main__":
    main()
