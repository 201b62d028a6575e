"""Calibrate a propagation model against measured path loss, and validate models and results.

:func:`calibrate` fits to the measurements, by bounded linear least squares
(:func:`scipy.optimize.lsq_linear`), the terms of :mod:`coverage.propagation.calibrated`: an offset,
a slope in log-distance, with terrain a diffraction weight, with a clutter column one offset per class.
The bounds keep the model physical: the total log-distance slope stays >= :data:`MIN_SLOPE_DB_PER_DECADE`
(loss never falls with distance) and the diffraction weight >= 0.

Errors are *predicted - measured* (dB): a negative mean error is an optimistic model. ``sigma_db`` is the
population standard deviation, so ``rmse_db**2 == me_db**2 + sigma_db**2``.

Cross-validation holds out **spatial blocks** (squares of ``block_m`` on the ground): drive tests
repeat samples at one spot and neighbouring samples share their shadowing, so random folds would let a
point's twin train the model that is tested on it and report an error that no new area will see.
Log-normal shadowing of 6-10 dB remains at any single point whatever the calibration.

**Local correction.** Shadowing is correlated in space (streets, blocks, the direction from the site),
so near measured places the residuals of the calibrated model predict each other. The calibration
keeps the residuals of its points and :meth:`Calibration.predict_loss` (``local=True``) adds their
inverse-distance-weighted mean (Shepard 1968) over the :data:`LOCAL_NEIGHBOURS` nearest points of the
same site, shrunk towards 0 by a zero pseudo-observation of weight ``1 / local_range_m**2`` (far from
any measurement the correction vanishes and the global model stands alone) and scaled by a gain in
[0, 1] learnt leave-block-out from the residuals themselves (:func:`local_gain`: ~0 when they are
spatially independent). It is cross-validated like the model: each fold's gain and residuals come
from the other folds only (``overall['cv_local']``). It corrects predictions at
points; the engine's rasters use the global terms of ``Calibration.model``.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import CoverageWarning, FileFormatError, InputError
from ..io.measurements import read_measurements
from ..propagation import ProfileModel, get_model
from ..propagation.calibrated import (
    REFERENCE_DISTANCE_M,
    calibrated_model,
    model_from_dict,
)
from ..render.export import write_json

__all__ = ["calibrate", "validate", "Calibration", "Validation", "error_stats", "spatial_folds",
           "loss_at_points", "local_correction_db", "local_gain", "FIT_TERMS", "MIN_SLOPE_DB_PER_DECADE", "DEFAULT_BLOCK_M",
           "DEFAULT_FOLDS", "DEFAULT_LOCAL_RANGE_M"]

#: Terms :func:`calibrate` can fit.
FIT_TERMS = ("offset", "slope", "diffraction", "clutter")
#: Lowest total log-distance slope a calibrated model may have (dB/decade): loss must not fall with distance.
MIN_SLOPE_DB_PER_DECADE = 0.0
#: Side of the spatial blocks held out together in cross-validation (m): a few hundred metres is a city
#: block to a neighbourhood, beyond the decorrelation distance of urban shadowing (tens of metres).
DEFAULT_BLOCK_M = 250.0
DEFAULT_FOLDS = 5
#: Range of the local residual correction (m): the weight of its zero pseudo-observation is 1/range^2.
DEFAULT_LOCAL_RANGE_M = 300.0
#: Nearest residuals (same site) averaged by the local correction; closer than LOCAL_MIN_DISTANCE_M counts as that.
LOCAL_NEIGHBOURS = 20
LOCAL_MIN_DISTANCE_M = 10.0
#: Points on which the local gain (one number) is estimated at most: every k-th point beyond that.
LOCAL_GAIN_SAMPLE = 2000


# ============================================================================ statistics and folds
def error_stats(predicted_db, measured_db) -> dict:
    """n, ME, sigma (population) and RMSE (dB) of ``predicted - measured`` over finite pairs."""
    e = np.asarray(predicted_db, float) - np.asarray(measured_db, float)
    e = e[np.isfinite(e)]
    if e.size == 0:
        return {"n": 0, "me_db": math.nan, "sigma_db": math.nan, "rmse_db": math.nan}
    return {"n": int(e.size), "me_db": float(e.mean()), "sigma_db": float(e.std()),
            "rmse_db": float(math.sqrt(np.mean(e * e)))}


def spatial_folds(lon, lat, *, folds: int = DEFAULT_FOLDS, block_m: float = DEFAULT_BLOCK_M,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Assign points to ``folds`` by square ground blocks of ``block_m``; returns (fold, block id).

    Blocks are squares of a local equirectangular frame; they are shuffled (``seed``) and dealt to the
    fold that has the fewest points so far, so folds hold similar numbers of points and every point of
    a block (all repeats at one spot included) is in one fold.
    """
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    if folds < 2:
        raise InputError(f"folds must be >= 2, got {folds}")
    if not block_m > 0:
        raise InputError(f"block_m must be positive, got {block_m}")
    lat0 = math.radians(float(np.mean(lat)))
    x = np.radians(lon - float(np.mean(lon))) * 6_371_000.0 * math.cos(lat0)
    y = np.radians(lat) * 6_371_000.0
    key = np.floor(x / block_m).astype(np.int64) * 10_000_019 + np.floor(y / block_m).astype(np.int64)
    blocks, block = np.unique(key, return_inverse=True)
    if len(blocks) < folds:
        raise InputError(f"only {len(blocks)} spatial blocks of {block_m:g} m for {folds} folds: "
                         "use a smaller block_m or fewer folds")
    counts = np.bincount(block)
    order = np.random.default_rng(seed).permutation(len(blocks))
    order = order[np.argsort(-counts[order], kind="stable")]
    load = np.zeros(folds, np.int64)
    fold_of_block = np.empty(len(blocks), np.int64)
    for b in order:
        k = int(np.argmin(load))
        fold_of_block[b] = k
        load[k] += counts[b]
    return fold_of_block[block], block


# ============================================================================ model at the points
def _grid_of(terrain):
    from ..engine.sweep import Grid

    return Grid(terrain.elevation_m, terrain.transform, terrain.crs, terrain.is_geographic)


def _profile_at_points(m, params, g, grid, freq, h_tx, h_rx, radius_m=None):
    """(free-space loss, excess loss) of profile model ``m`` at the points of one site's group ``g``.

    The radial set is the engine's for ``radius_m`` (default: just past the farthest point, the
    densest set that reaches every point)."""
    from ..engine import _kernels as K
    from ..engine.prepare import _site_positions
    from ..engine.sweep import SiteGeometry
    from ..io.terrain import WGS84_A, WGS84_E2
    from ..propagation.fspl import free_space_loss_db

    site = pd.DataFrame({"lon": g["site_lon"].iloc[:1].to_numpy(), "lat": g["site_lat"].iloc[:1].to_numpy()})
    (sx,), (sy,), _, _, site_on = _site_positions(site, grid.transform, grid.crs, grid.shape)
    px, py, _, _, on = _site_positions(g, grid.transform, grid.crs, grid.shape)
    xl, dx, yt, dy = grid.kernel_transform
    for what, inside in (("site", site_on), ("point", on)):
        if not inside.all():
            from ..errors import TerrainExtentError

            i = int(np.flatnonzero(~inside)[0])
            raise TerrainExtentError(f"{what} of site {g['site_id'].iloc[0]!r} (row {int(g.index[i]) + 1}) "
                                     "lies outside the terrain")
    east = np.empty(len(px))
    north = np.empty(len(px))
    for i in range(len(px)):
        east[i], north[i] = K.grid_to_local(px[i], py[i], sx, sy, grid.geographic, WGS84_A, WGS84_E2)
    dist = np.hypot(east, north)
    step = min(grid.cell_size_m(sy if grid.geographic else None))
    radius = float(dist.max()) + 2 * step if radius_m is None else float(radius_m)
    if dist.max() > radius:
        raise InputError(f"a measurement of site {g['site_id'].iloc[0]!r} lies {dist.max():.0f} m away, beyond "
                         f"radius_m={radius:g}")
    geo = SiteGeometry.build(grid, sx, sy, radius)
    # the engine's own pipeline on the site's window (radial set, cell mapping: what a map shows), then
    # each point takes the excess of the cell it lies in and free space over its own 3-D path
    loss_w = geo.loss_db(m, freq_mhz=freq, h_tx_m=h_tx, h_rx_m=h_rx, **params)
    dz_w = geo.site_ground_m + h_tx - (geo.ground_m + h_rx)
    d3_w = np.hypot(geo.dist_m, dz_w) if m.free_space_3d else geo.dist_m
    excess_w = loss_w - free_space_loss_db(np.maximum(d3_w, 1.0), freq)
    r0, c0, h, w = geo.window
    pr = np.clip(np.rint((py - yt) / dy - 0.5).astype(np.int64) - r0, 0, h - 1)
    pc = np.clip(np.rint((px - xl) / dx - 0.5).astype(np.int64) - c0, 0, w - 1)
    excess = excess_w[pr, pc]
    zpt = np.array([K.bilinear_off(grid.elevation_m, (py[i] - yt) / dy - 0.5, (px[i] - xl) / dx - 0.5, 0, 0)
                    for i in range(len(px))])
    d3 = np.hypot(dist, geo.site_ground_m + h_tx - (zpt + h_rx)) if m.free_space_3d else dist
    return free_space_loss_db(np.maximum(d3, 1.0), freq), excess


def loss_at_points(measurements, model, *, terrain=None, model_params: Mapping[str, Any] | None = None,
                   extrapolate: bool = False, radius_m: float | None = None) -> pd.DataFrame:
    """Loss of ``model`` at each measurement: ``loss_db``, ``free_space_db``, ``excess_db`` (dB).

    Distance models run on the ellipsoidal site-receiver distance; profile models need ``terrain`` and
    run as in the engine (radial profiles from the site, the excess interpolated to the point, free
    space over the 3-D path). For distance models ``excess_db = loss_db - free_space_db``.
    ``radius_m`` chooses the radial set of profile models as a ``predict`` run of that radius does;
    each point takes the excess loss of the map cell it lies in (default radius: just past the farthest
    point).
    """
    from ..propagation.fspl import FSPL

    m = get_model(model)
    params = m.params(model_params)
    meas = measurements
    if isinstance(m, ProfileModel) and terrain is None:
        raise InputError(f"model {m.name!r} needs terrain (pass terrain=...); without a DEM use a distance model")
    grid = _grid_of(terrain) if isinstance(m, ProfileModel) else None
    fs = np.full(len(meas), np.nan)
    loss = np.full(len(meas), np.nan)
    keys = ["site_id", "freq_mhz", "site_height_m", "rx_height_m"]
    has_clutter = "clutter" in meas.columns and "clutter" in params
    if has_clutter:
        keys.append("clutter")
    d = meas["distance_m"].to_numpy(float)
    for f in np.unique(meas["freq_mhz"]):
        sel = (meas["freq_mhz"] == f).to_numpy()
        m.check(freq_mhz=float(f), h_tx_m=meas.loc[sel, "site_height_m"].to_numpy(),
                h_rx_m=meas.loc[sel, "rx_height_m"].to_numpy(), extrapolate=extrapolate,
                where=f"{int(sel.sum())} measurements at {f:g} MHz")
    m.warn_distance(float(d.max()), float(d.min()))
    for key, g in meas.groupby(keys, sort=False):
        f, h_tx, h_rx = float(key[1]), float(key[2]), float(key[3])
        p = dict(params)
        if has_clutter:
            p["clutter"] = key[4]
        idx = g.index.to_numpy()
        pos = meas.index.get_indexer(idx)
        if grid is None:
            loss[pos] = m.loss_db(d[pos], freq_mhz=f, h_tx_m=h_tx, h_rx_m=h_rx, **p)
            fs[pos] = FSPL.loss_db(d[pos], freq_mhz=f, h_tx_m=h_tx, h_rx_m=h_rx)
        else:
            fs[pos], x = _profile_at_points(m, p, g, grid, f, h_tx, h_rx, radius_m)
            loss[pos] = fs[pos] + x
    return pd.DataFrame({"loss_db": loss, "free_space_db": fs, "excess_db": loss - fs}, index=meas.index)


# ============================================================================ local correction
def _local_xy(lon, lat, lat0_deg: float) -> np.ndarray:
    """Equirectangular metres around latitude ``lat0_deg`` (neighbour search only, a few km across)."""
    k = math.cos(math.radians(lat0_deg))
    return np.column_stack([np.radians(np.asarray(lon, float)) * 6_371_000.0 * k,
                            np.radians(np.asarray(lat, float)) * 6_371_000.0])


def local_correction_db(src_xy, src_site, residual_db, dst_xy, dst_site, *,
                        range_m: float = DEFAULT_LOCAL_RANGE_M, gain: float = 1.0) -> np.ndarray:
    """Shrunk inverse-distance-weighted residual of the nearest source points of the same site (dB).

    ``gain * sum(w r) / (sum(w) + 1/range_m**2)`` with ``w = 1/max(d, 10 m)**2`` over the
    :data:`LOCAL_NEIGHBOURS` nearest source points of the destination's site; 0 for a site without
    source points. Positions in metres of one local frame.
    """
    from scipy.spatial import cKDTree

    if not range_m > 0:
        raise InputError(f"local_range_m must be positive, got {range_m}")
    src_site = np.asarray(src_site).astype(str)
    dst_site = np.asarray(dst_site).astype(str)
    r = np.asarray(residual_db, float)
    out = np.zeros(len(dst_site))
    for sid in np.unique(dst_site):
        a = np.flatnonzero(src_site == sid)
        b = np.flatnonzero(dst_site == sid)
        if a.size == 0:
            continue
        k = min(LOCAL_NEIGHBOURS, a.size)
        d, i = cKDTree(src_xy[a]).query(dst_xy[b], k=k)
        d, i = d.reshape(len(b), k), i.reshape(len(b), k)
        w = 1.0 / np.maximum(d, LOCAL_MIN_DISTANCE_M) ** 2
        out[b] = (w * r[a][i]).sum(axis=1) / (w.sum(axis=1) + 1.0 / range_m ** 2)
    return gain * out


def local_gain(xy, site, residual_db, block, *, range_m: float = DEFAULT_LOCAL_RANGE_M) -> float:
    """How much of the local correction to apply, in [0, 1], learnt from the points themselves.

    Each point gets the correction from the points of its site *outside its own spatial block* (as a
    held-out block does); the gain is the least-squares scale of that correction against the point's
    residual, clipped to [0, 1]: ~0 when residuals are spatially independent (the correction would
    only add noise), near 1 when neighbouring blocks predict each other. The neighbours are the
    :data:`LOCAL_NEIGHBOURS` first outside the block among the ``4 * LOCAL_NEIGHBOURS`` nearest; the
    gain is estimated on every k-th point (at most :data:`LOCAL_GAIN_SAMPLE` points), all points
    serving as neighbours.
    """
    from scipy.spatial import cKDTree

    site = np.asarray(site).astype(str)
    r = np.asarray(residual_db, float)
    n = len(r)
    step = max(1, math.ceil(n / LOCAL_GAIN_SAMPLE))
    target = np.arange(n) % step == 0
    c = np.zeros(n)
    for sid in np.unique(site):
        a = np.flatnonzero(site == sid)
        t = a[target[a]]
        k = min(4 * LOCAL_NEIGHBOURS, a.size)
        if k < 2 or t.size == 0:
            continue
        d, i = cKDTree(xy[a]).query(xy[t], k=k)
        other = block[a][i] != block[t][:, None]
        use = other & (np.cumsum(other, axis=1) <= LOCAL_NEIGHBOURS)
        w = use / np.maximum(d, LOCAL_MIN_DISTANCE_M) ** 2
        c[t] = (w * r[a][i]).sum(axis=1) / (w.sum(axis=1) + 1.0 / range_m ** 2)
    c, r = c[target], r[target]
    den = float(np.dot(c, c))
    return float(np.clip(np.dot(r, c) / den, 0.0, 1.0)) if den > 0 else 0.0


# ============================================================================ the fit
def _design(meas, base, terms, classes):
    """Design matrix, column names and the target's base part for the fitted terms."""
    cols, names = [], []
    if "clutter" in terms:
        cl = meas["clutter"].to_numpy()
        for c in classes:
            cols.append((cl == c).astype(float))
            names.append(f"clutter:{c}")
    elif "offset" in terms:
        cols.append(np.ones(len(meas)))
        names.append("offset")
    if "slope" in terms:
        cols.append(np.log10(np.maximum(meas["distance_m"].to_numpy(float), 1.0) / REFERENCE_DISTANCE_M))
        names.append("slope")
    if "diffraction" in terms:
        cols.append(base["excess_db"].to_numpy())
        names.append("diffraction")
        fixed = base["free_space_db"].to_numpy()
    else:
        fixed = base["loss_db"].to_numpy()
    return np.column_stack(cols), names, fixed


def _bounds(names, nominal_slope):
    lo = np.full(len(names), -np.inf)
    hi = np.full(len(names), np.inf)
    for i, n in enumerate(names):
        if n == "slope":
            lo[i] = MIN_SLOPE_DB_PER_DECADE - nominal_slope
        elif n == "diffraction":
            lo[i] = 0.0
    return lo, hi


def _solve(A, b, lo, hi):
    from scipy.optimize import lsq_linear

    if np.all(np.isinf(lo)) and np.all(np.isinf(hi)):
        return np.linalg.lstsq(A, b, rcond=None)[0]
    return lsq_linear(A, b, bounds=(lo, hi), method="bvls").x


def _apply(coef, names, A, fixed, floor_fs, profile):
    """Predicted loss with the fitted terms and the calibrated model's floor at free space."""
    corr = A @ coef  # with a diffraction term, this already holds w * excess
    if profile:
        part = corr if "diffraction" in names else (fixed - floor_fs) + corr
        return floor_fs + np.maximum(part, 0.0)
    return np.maximum(fixed + corr, floor_fs)


def _nominal_slope(m, meas, params) -> float:
    """Smallest log-distance slope (dB/decade) of the base model over the data's frequencies and heights."""
    if isinstance(m, ProfileModel):
        return 20.0  # free space; the excess is the terrain's
    slopes = []
    for (f, h_tx, h_rx), _ in meas.groupby(["freq_mhz", "site_height_m", "rx_height_m"]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            l1, l10 = m.loss_db(np.array([1000.0, 10_000.0]), freq_mhz=float(f), h_tx_m=float(h_tx),
                                h_rx_m=float(h_rx), **params)
        slopes.append(float(l10 - l1))
    return min(slopes)


def _coefficients(names, coef, meas) -> dict:
    out = {"offset_db": 0.0, "slope_db_per_decade": 0.0, "diffraction_weight": 1.0, "clutter_offsets_db": {}}
    for n, c in zip(names, coef):
        if n == "offset":
            out["offset_db"] = float(c)
        elif n == "slope":
            out["slope_db_per_decade"] = float(c)
        elif n == "diffraction":
            out["diffraction_weight"] = float(c)
        else:
            out["clutter_offsets_db"][n.split(":", 1)[1]] = float(c)
    if out["clutter_offsets_db"]:
        share = meas["clutter"].value_counts(normalize=True)
        out["default_clutter_offset_db"] = float(sum(out["clutter_offsets_db"][k] * v for k, v in share.items()))
    return out


def _check_terms(fit, m, meas, terrain):
    terms = (fit,) if isinstance(fit, str) else tuple(fit)
    for t in terms:
        if t not in FIT_TERMS:
            raise InputError(f"unknown fit term {t!r}; known: {FIT_TERMS}")
    if not terms:
        raise InputError("fit needs at least one term")
    if "diffraction" in terms and not (isinstance(m, ProfileModel) and terrain is not None):
        raise InputError(f"fit term 'diffraction' needs a terrain model and terrain (model {m.name!r}, "
                         f"terrain {'given' if terrain is not None else 'None'})")
    if "clutter" in terms and "clutter" not in meas.columns:
        raise InputError("fit term 'clutter' needs a clutter class per measurement (a 'clutter' column)")
    return terms


def calibrate(measurements, model: str = "hata", *, terrain=None, sites=None,
              fit=("offset", "slope"), folds: int = DEFAULT_FOLDS, block_m: float = DEFAULT_BLOCK_M,
              seed: int = 0, extrapolate: bool = False, name: str | None = None,
              local_range_m: float = DEFAULT_LOCAL_RANGE_M, **model_params) -> "Calibration":
    """Fit ``model`` to measured path loss and cross-validate it on spatial blocks.

    Parameters
    ----------
    measurements : path, DataFrame
        Drive-test table (see :func:`coverage.read_measurements`; a raw table is read with ``sites``).
    model : str or model
        Base model (``"hata"``, ``"cost231"``, ``"fspl"``, ``"p526"``, ``"itm"``...).
    terrain : Terrain, optional
        Needed by profile models and by the ``"diffraction"`` term.
    sites : path or DataFrame, optional
        Sites table for :func:`read_measurements` when ``measurements`` is not read yet.
    fit : sequence of {"offset", "slope", "diffraction", "clutter"}
        Terms to fit; ``"clutter"`` fits one offset per class instead of one offset.
    folds, block_m, seed
        Cross-validation: number of folds, side of the spatial blocks (m), shuffle seed.
    extrapolate : bool
        Run the base model outside its frequency range (e.g. Hata at 1800 MHz) with a warning.
    name : str, optional
        Registry name of the calibrated model (default ``"<base>+cal"``).
    local_range_m : float
        Range of the local residual correction (see the module notes), reported as ``cv_local``.
    **model_params
        Parameters of the base model (e.g. ``environment="suburban"``).

    Returns
    -------
    Calibration
        ``.model`` (registered, usable in :func:`coverage.predict`), ``.report``, ``.points``.
    """
    import time

    t0 = time.perf_counter()
    meas = measurements if _is_read(measurements) else read_measurements(measurements, sites=sites)
    meas = meas.reset_index(drop=True)
    m = get_model(model)
    terms = _check_terms(fit, m, meas, terrain)
    base = loss_at_points(meas, m, terrain=terrain, model_params=model_params, extrapolate=extrapolate)
    t_model = time.perf_counter() - t0
    cal = fit_points(meas, base, m, terms, model_params=model_params, folds=folds, block_m=block_m, seed=seed,
                     name=name, extrapolate=extrapolate, local_range_m=local_range_m)
    cal.report["seconds"] = {"model": round(t_model, 3), "fit": round(time.perf_counter() - t0 - t_model, 3)}
    return cal


def fit_points(meas, base, m, terms, *, model_params=None, folds=DEFAULT_FOLDS, block_m=DEFAULT_BLOCK_M, seed=0,
               name=None, extrapolate=False, local_range_m=DEFAULT_LOCAL_RANGE_M) -> "Calibration":
    """The fit and cross-validation of :func:`calibrate` once the base model has run at the points.

    ``base`` is :func:`loss_at_points` of the base model ``m``; this part takes well under a second
    for 10,000 points (``benchmarks/bench_calibration.py``).
    """
    m = get_model(m)
    params = m.params(model_params)
    profile = isinstance(m, ProfileModel)
    measured = meas["path_loss_db"].to_numpy(float)
    classes = sorted(meas["clutter"].unique()) if "clutter" in terms else []
    A, names, fixed = _design(meas, base, terms, classes)
    floor_fs = base["free_space_db"].to_numpy()
    lo, hi = _bounds(names, _nominal_slope(m, meas, params))
    fold, block = spatial_folds(meas["lon"], meas["lat"], folds=folds, block_m=block_m, seed=seed)
    lat0 = float(meas["lat"].mean())
    xy = _local_xy(meas["lon"], meas["lat"], lat0)
    site = meas["site_id"].astype(str).to_numpy()

    cv = np.full(len(meas), np.nan)
    cv_local = np.full(len(meas), np.nan)
    fold_rows = []
    for k in range(folds):
        test = fold == k
        train = ~test
        if "clutter" in terms:
            missing = sorted(set(meas.loc[test, "clutter"]) - set(meas.loc[train, "clutter"]))
            if missing:
                warnings.warn(f"fold {k}: clutter classes {missing} have no training points; their offset is 0 "
                              "in this fold", CoverageWarning, stacklevel=2)
        coef = _solve(A[train], measured[train] - fixed[train], lo, hi)
        cv[test] = _apply(coef, names, A[test], fixed[test], floor_fs[test], profile)
        r_train = measured[train] - _apply(coef, names, A[train], fixed[train], floor_fs[train], profile)
        gain = local_gain(xy[train], site[train], r_train, block[train], range_m=local_range_m)
        cv_local[test] = cv[test] + local_correction_db(xy[train], site[train], r_train, xy[test], site[test],
                                                        range_m=local_range_m, gain=gain)
        row = {"fold": k, "n_points": int(test.sum()), "n_sites": int(meas.loc[test, "site_id"].nunique()),
               "n_blocks": int(np.unique(block[test]).size)}
        row.update({f"{s}_before": v for s, v in error_stats(base["loss_db"].to_numpy()[test], measured[test]).items()
                    if s != "n"})
        row.update({f"{s}_after": v for s, v in error_stats(cv[test], measured[test]).items() if s != "n"})
        row.update({f"{s}_local": v for s, v in error_stats(cv_local[test], measured[test]).items() if s != "n"})
        row["local_gain"] = gain
        row.update({f"coef_{n}": float(c) for n, c in zip(names, coef)})
        fold_rows.append(row)

    coef = _solve(A, measured - fixed, lo, hi)
    co = _coefficients(names, coef, meas)
    fit_range = {"distance_m": [float(meas["distance_m"].min()), float(meas["distance_m"].max())],
                 "freq_mhz": [float(meas["freq_mhz"].min()), float(meas["freq_mhz"].max())],
                 "n_points": int(len(meas)), "n_sites": int(meas["site_id"].nunique()), "terms": list(terms)}
    model = calibrated_model(m, name=name, base_params=params, fit_range=fit_range, **co)
    fitted = _apply(coef, names, A, fixed, floor_fs, profile)
    points = meas.copy()
    points["measured_db"] = measured
    points["base_db"] = base["loss_db"].to_numpy()
    points["free_space_db"] = floor_fs
    points["predicted_db"] = fitted
    points["cv_predicted_db"] = cv
    points["cv_local_db"] = cv_local
    points["fold"] = fold
    points["block"] = block
    active = [n for n, c, a, b in zip(names, coef, lo, hi) if np.isclose(c, a) or np.isclose(c, b)]
    report = {
        "model": model.name, "base": m.name, "base_params": {k: v for k, v in params.items()},
        "terms": list(terms), "coefficients": co, "bounds_active": active,
        "bounds": {n: [float(a) if np.isfinite(a) else None, float(b) if np.isfinite(b) else None]
                   for n, a, b in zip(names, lo, hi)},  # None: unbounded (JSON has no infinity)
        "folds": int(folds), "block_m": float(block_m), "seed": int(seed), "extrapolate": bool(extrapolate),
        "n_points": int(len(meas)), "n_sites": int(meas["site_id"].nunique()),
        "n_blocks": int(np.unique(block).size),
        "overall": {"before": error_stats(points["base_db"], measured), "fit": error_stats(fitted, measured),
                    "cv": error_stats(cv, measured), "cv_local": error_stats(cv_local, measured)},
        "local": {"range_m": float(local_range_m), "neighbours": LOCAL_NEIGHBOURS,
                  "min_distance_m": LOCAL_MIN_DISTANCE_M, "lat0_deg": lat0,
                  "gain": local_gain(xy, site, measured - fitted, block, range_m=local_range_m)},
        "per_fold": pd.DataFrame(fold_rows),
        "per_site": _per_site(points),
        "assumed": dict(meas.attrs.get("assumed", {})),
        "sigma": "population standard deviation of predicted - measured",
    }
    residuals = pd.DataFrame({"site_id": site, "lon": meas["lon"].to_numpy(float), "lat": meas["lat"].to_numpy(float),
                              "residual_db": measured - fitted})
    return Calibration(model=model, report=report, points=points, residuals=residuals)


def _per_site(points) -> pd.DataFrame:
    rows = []
    for sid, g in points.groupby("site_id", sort=True):
        r = {"site_id": sid, "n": len(g)}
        for label, col in (("before", "base_db"), ("after", "cv_predicted_db"), ("local", "cv_local_db")):
            r.update({f"{k}_{label}": v for k, v in error_stats(g[col], g["measured_db"]).items() if k != "n"})
        rows.append(r)
    return pd.DataFrame(rows)


def _is_read(meas) -> bool:
    return isinstance(meas, pd.DataFrame) and {"path_loss_db", "distance_m", "site_id", "freq_mhz"} <= set(meas.columns)


# ============================================================================ the result
@dataclass
class Calibration:
    """A fitted model, its cross-validated report and the points it was fitted on.

    ``report``: ``overall`` (``before`` = base model, ``fit`` = in-sample, ``cv`` = out-of-fold
    predictions), ``per_fold`` and ``per_site`` tables, the coefficients and which bounds are active.
    ``points``: the measurements with ``measured_db``, ``base_db``, ``predicted_db`` (final model),
    ``cv_predicted_db`` (each point predicted by the fit without its fold), ``cv_local_db`` (the same
    plus the local correction from the other folds' residuals), ``fold``, ``block``; absent (``None``)
    after :meth:`load`. ``residuals``: site, position and residual (measured - fitted, dB) of every
    point, the source of the local correction (kept through :meth:`save` / :meth:`load`).
    """

    model: Any
    report: dict
    points: pd.DataFrame | None = field(default=None, repr=False)
    residuals: pd.DataFrame | None = field(default=None, repr=False)

    def predict_loss(self, measurements, *, terrain=None, sites=None, extrapolate: bool | None = None,
                     radius_m: float | None = None, local: bool = False, **model_params) -> np.ndarray:
        """Path loss (dB) predicted by the calibrated model at each measurement point.

        ``terrain`` for profile models; ``radius_m`` as in :func:`loss_at_points`; ``local`` adds the
        local correction from this calibration's residuals (see the module notes)."""
        meas = measurements if _is_read(measurements) else read_measurements(measurements, sites=sites)
        meas = meas.reset_index(drop=True)
        ext = self.report.get("extrapolate", False) if extrapolate is None else extrapolate
        loss = loss_at_points(meas, self.model, terrain=terrain, model_params=model_params,
                              extrapolate=ext, radius_m=radius_m)["loss_db"].to_numpy()
        if local:
            if self.residuals is None:
                raise InputError("this calibration holds no residuals: no local correction")
            lo = self.report["local"]
            r = self.residuals
            loss = loss + local_correction_db(_local_xy(r["lon"], r["lat"], lo["lat0_deg"]), r["site_id"],
                                              r["residual_db"], _local_xy(meas["lon"], meas["lat"], lo["lat0_deg"]),
                                              meas["site_id"], range_m=lo["range_m"], gain=lo["gain"])
        return loss

    def summary(self) -> dict:
        """Overall numbers before, fitted and cross-validated, and the coefficients (JSON-ready)."""
        o = self.report["overall"]
        return {"model": self.model.name, "base": self.report["base"], "terms": self.report["terms"],
                "n_points": self.report["n_points"], "n_sites": self.report["n_sites"],
                "folds": self.report["folds"], "block_m": self.report["block_m"],
                **{f"{k}_{s}": round(v, 3) for k in ("before", "fit", "cv", "cv_local") for s, v in o[k].items()
                   if s != "n"},
                "local_gain": round(self.report.get("local", {}).get("gain", float("nan")), 3),
                "coefficients": self.report["coefficients"], "bounds_active": self.report["bounds_active"]}

    def plot(self, path=None, *, cross_validated: bool = True):
        """Predicted-vs-measured and error-vs-distance figure (matplotlib); saved when ``path`` is given."""
        from ..render.calibration_plots import plot_validation

        if self.points is None:
            raise InputError("this calibration was loaded from JSON: its points are not stored")
        col = "cv_predicted_db" if cross_validated else "predicted_db"
        title = f"{self.model.name} ({'cross-validated' if cross_validated else 'in-sample'}) vs {self.report['base']}"
        return plot_validation(self.points["distance_m"], self.points["measured_db"], self.points[col],
                               before_db=self.points["base_db"], title=title, path=path)

    def to_dict(self) -> dict:
        rep = dict(self.report)
        rep["per_fold"] = self.report["per_fold"].to_dict(orient="records")
        rep["per_site"] = self.report["per_site"].to_dict(orient="records")
        res = None if self.residuals is None else {k: self.residuals[k].tolist() for k in self.residuals.columns}
        return {"format": "blankspot-calibration", "version": 1, "model": self.model.to_dict(), "report": rep,
                "residuals": res}

    def save(self, path) -> Path:
        """Write the model and the report as JSON (atomically)."""
        return Path(write_json(self.to_dict(), path))

    @classmethod
    def load(cls, path) -> "Calibration":
        """Read a calibration written by :meth:`save`; its model is registered again under its name."""
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"calibration file not found: {p}")
        try:
            d = json.loads(p.read_text())
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"{p}: not JSON ({exc})") from exc
        if not isinstance(d, dict) or d.get("format") != "blankspot-calibration":
            raise FileFormatError(f"{p}: not a calibration file (format 'blankspot-calibration' expected)")
        rep = dict(d["report"])
        rep["per_fold"] = pd.DataFrame(rep.get("per_fold", []))
        rep["per_site"] = pd.DataFrame(rep.get("per_site", []))
        res = d.get("residuals")
        return cls(model=model_from_dict(d["model"]), report=rep, points=None,
                   residuals=None if res is None else pd.DataFrame(res))


# ============================================================================ validation
@dataclass
class Validation:
    """Predicted against measured path loss: overall statistics, per site, per distance band, points."""

    model: str
    stats: dict
    per_site: pd.DataFrame
    per_distance: pd.DataFrame
    points: pd.DataFrame = field(repr=False)
    notes: list = field(default_factory=list)

    def summary(self) -> dict:
        return {"model": self.model, **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.stats.items()},
                "notes": self.notes}

    def plot(self, path=None):
        from ..render.calibration_plots import plot_validation

        return plot_validation(self.points["distance_m"], self.points["measured_db"], self.points["predicted_db"],
                               title=f"{self.model} vs measurements", path=path)


#: Distance bands of the validation table (m).
DISTANCE_BANDS_M = (0, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, np.inf)


def validate(measurements, result_or_model, *, terrain=None, sites=None, extrapolate: bool = False,
             **model_params) -> Validation:
    """Error statistics of a model or a coverage result against measured path loss.

    Parameters
    ----------
    measurements : path or DataFrame
        See :func:`coverage.read_measurements` (``sites`` is passed on to it).
    result_or_model : CoverageResult, Calibration, model or model name
        A model runs at the points (``terrain`` for profile models). A :class:`CoverageResult` is
        sampled at the points (nearest cell) where its best server is the measurement's own site; its
        signal is turned back into path loss with that site's EIRP, sector pattern and metric offset.
    """
    from ..engine.result import CoverageResult

    meas = measurements if _is_read(measurements) else read_measurements(measurements, sites=sites)
    meas = meas.reset_index(drop=True)
    notes = []
    if isinstance(result_or_model, CoverageResult):
        pred, keep, label, more = _from_result(meas, result_or_model)
        notes += more
        meas = meas[keep].reset_index(drop=True)
        pred = pred[keep]
    else:
        mod = result_or_model.model if isinstance(result_or_model, Calibration) else result_or_model
        if isinstance(result_or_model, Calibration):
            extrapolate = extrapolate or result_or_model.report.get("extrapolate", False)
        m = get_model(mod)
        pred = loss_at_points(meas, m, terrain=terrain, model_params=model_params,
                              extrapolate=extrapolate)["loss_db"].to_numpy()
        label = m.name
    pts = pd.DataFrame({"site_id": meas["site_id"], "lon": meas["lon"], "lat": meas["lat"],
                        "distance_m": meas["distance_m"], "measured_db": meas["path_loss_db"],
                        "predicted_db": pred})
    pts["error_db"] = pts["predicted_db"] - pts["measured_db"]
    stats = error_stats(pts["predicted_db"], pts["measured_db"])
    stats["n_sites"] = int(pts["site_id"].nunique())
    per_site = pd.DataFrame([{"site_id": s, **error_stats(g["predicted_db"], g["measured_db"]),
                              "distance_m_median": float(g["distance_m"].median())}
                             for s, g in pts.groupby("site_id", sort=True)])
    band = pd.cut(pts["distance_m"], DISTANCE_BANDS_M, right=False)
    per_distance = pd.DataFrame([{"band_m": str(b), **error_stats(g["predicted_db"], g["measured_db"])}
                                 for b, g in pts.groupby(band, observed=True)])
    return Validation(model=label, stats=stats, per_site=per_site, per_distance=per_distance, points=pts, notes=notes)


def _from_result(meas, result):
    """Predicted path loss from a result's best signal at the points, where the server is the point's site."""
    from ..io.sites import metric_offset_db
    from ..propagation.antenna import sector_attenuation_db

    sites = result.sites.reset_index(drop=True)
    lon, lat = meas["lon"].to_numpy(), meas["lat"].to_numpy()
    level = result.sample(lon, lat, "best_dbm")
    server = result.sample(lon, lat, "best_server")
    pos = pd.Index(sites["site_id"].astype(str)).get_indexer(meas["site_id"].astype(str))
    keep = (pos >= 0) & (server == pos) & np.isfinite(level)
    pred = np.full(len(meas), np.nan)
    for j in np.unique(pos[keep]):  # one site at a time: its pattern and metric offset
        s = sites.iloc[j]
        i = np.flatnonzero(keep & (pos == j))
        g = np.zeros(i.size)
        if np.isfinite(s.get("azimuth_deg", np.nan)):
            theta = np.degrees(np.arctan2(float(s["height_m"]) - meas["rx_height_m"].to_numpy()[i],
                                          meas["distance_m"].to_numpy()[i]))
            g = sector_attenuation_db(meas["azimuth_deg"].to_numpy()[i] - s["azimuth_deg"], theta,
                                      beamwidth_deg=s["beamwidth_deg"], downtilt_deg=s["downtilt_deg"],
                                      vertical_beamwidth_deg=s["vertical_beamwidth_deg"])
        off = metric_offset_db(result.technology, float(s["bandwidth_mhz"])) if result.technology != "mixed" else 0.0
        pred[i] = float(s["eirp_dbm"]) + g + off - level[i]
    notes = [f"{int(keep.sum())} of {len(meas)} measurements compared: the others lie off the result, at a cell "
             "whose best server is another site, or on a site missing from the result"]
    return pred, keep, f"{result.model} (coverage result)", notes
