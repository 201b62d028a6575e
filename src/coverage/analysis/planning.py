"""Where to build next: candidate masts, their coverage matrix, and the choice of the best set.

The question (maximum coverage, NP-hard): given the towers that exist, which ``budget`` new masts
among the candidates serve the most villages or people? Village status is modelled **exactly** as
:func:`coverage.assess_villages` computes it: a village's usable share is the area of the union of
the cells (each counted by the exact fraction inside the polygon) whose best signal reaches the
usable level, and a cell is usable after a plan when an existing site or any chosen candidate makes
it so. So a plan's statuses equal those of :func:`coverage.run_villages` re-run on existing +
chosen sites (tested on the sample region against all pairs).

* :func:`candidate_sites` proposes masts: hilltops (local DEM maxima near the villages to serve),
  a regular grid, the villages' own points, co-location on existing masts, or a user list.
* :func:`coverage_matrix` runs the engine once per candidate on the run's grid (one
  :class:`~coverage.engine.sweep.SiteGeometry` each, one numba thread, ``workers`` processes) and
  keeps the village cells each candidate makes usable that no existing site serves.
* :func:`plan_sites` groups cells by the set of candidates covering them (a group is one variable,
  whatever its size) and solves with

  - ``solver="greedy"``: lazy greedy (Minoux 1978) on marginal gain per cost. For the population
    objective f is a weighted coverage function, monotone submodular, so greedy under a count budget
    is within (1 − 1/e) of the optimum (Nemhauser, Wolsey & Fisher 1978) and f_greedy / (1 − 1/e)
    is a proven upper bound. The village-count objectives are threshold functions (not
    submodular): greedy maximises the submodular surrogate Σ_i min(1, share_i / threshold) and
    carries no guarantee on the count.
  - ``solver="milp"``: an exact MILP solved by HiGHS (``scipy.optimize.milp``): one binary per
    candidate, one continuous u_g ∈ [0, 1] per cell group (u_g ≤ Σ_{j covers g} x_j; at an optimum
    u_g is 0 or 1), one binary per village that can still cross the status threshold
    (threshold_i · y_i ≤ share_i(u)), and the budget (count or total cost). The solver's proven
    gap and bound are reported.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CoverageWarning, InputError, TerrainError
from ..io.population import with_population
from ..io.sites import (
    DEFAULT_HEIGHT_M,
    DEFAULTS_BY_TECHNOLOGY,
    normalize_sites,
    read_sites,
)
from ..io.villages import read_villages
from ..thresholds import STATUS_THRESHOLDS, USABLE_DBM

__all__ = [
    "CANDIDATE_METHODS",
    "OBJECTIVES",
    "CoverageMatrix",
    "Plan",
    "PlanningProblem",
    "candidate_sites",
    "coverage_matrix",
    "plan_sites",
    "prepare_plan",
]

#: Objectives of :func:`plan_sites`.
OBJECTIVES = ("blankspot_villages", "covered_villages", "population")
#: Ways :func:`candidate_sites` proposes masts.
CANDIDATE_METHODS = ("hilltops", "grid", "villages", "existing")
#: Relative cost of a new antenna on an existing mast, a new mast costing 1 (tower, land, power and
#: access road dominate a rural site's cost; the antenna and radio are a minor share). A planning
#: assumption to replace with real quotes through the ``cost`` column.
COLOCATION_COST = 0.4
#: How far from a village to look for a candidate (m): within this distance a 30 m mast still
#: reaches the village at the usable level on most of Kalimantan's lowland at 900-1800 MHz.
SEARCH_RADIUS_M = 5_000.0
#: MILP relative gap at which HiGHS stops (the target is a proven gap <= 1 %).
MIP_REL_GAP = 1e-3


# ---------------------------------------------------------------------------------------------
# candidates


def _target_villages(villages, statuses):
    if "status" in villages.columns and statuses is not None:
        sel = villages["status"].isin(list(statuses)).to_numpy()
        return villages[sel]
    return villages


def _local_proj(lon0: float, lat0: float) -> str:
    """Azimuthal equidistant frame centred on (lon0, lat0): distances from the centre are true."""
    return f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m"


def _local_frame(lon0: float, lat0: float):
    from pyproj import Transformer

    proj = _local_proj(lon0, lat0)
    return Transformer.from_crs("EPSG:4326", proj, always_xy=True), Transformer.from_crs(proj, "EPSG:4326",
                                                                                          always_xy=True)


def _hilltops(targets, terrain, per_village, spacing_m, search_radius_m):
    """Local DEM maxima within ``search_radius_m`` of each target village, highest first, at least
    ``spacing_m`` apart."""
    import shapely
    from scipy import ndimage

    pts = shapely.point_on_surface(targets.geometry.values)
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    cs = terrain.cell_size_m
    ew, ns = cs() if callable(cs) else cs
    size = max(round(spacing_m / max(min(ew, ns), 1.0)), 3) | 1
    rows = []
    for k in range(len(targets)):
        d = search_radius_m / 111_000.0
        win = (lon[k] - d / max(math.cos(math.radians(lat[k])), 0.1), lat[k] - d,
               lon[k] + d / max(math.cos(math.radians(lat[k])), 0.1), lat[k] + d)
        try:
            t = terrain.window_lonlat(win)
        except TerrainError:  # a village off the DEM gets no hilltop (and the plan drops candidates off it)
            continue
        z = np.asarray(t.elevation_m, float)
        if z.size == 0:
            continue
        peak = (z == ndimage.maximum_filter(z, size=size, mode="nearest")) & np.isfinite(z)
        r, c = np.nonzero(peak)
        x, y = t.transform * (c + 0.5, r + 0.5)
        plon, plat = t.to_lonlat(np.asarray(x), np.asarray(y)) if not t.is_geographic else (np.asarray(x), np.asarray(y))
        fwd, _ = _local_frame(lon[k], lat[k])
        ex, ny = fwd.transform(plon, plat)
        dist = np.hypot(ex, ny)
        ok = dist <= search_radius_m
        order = np.argsort(-z[r, c][ok], kind="stable")
        taken: list[tuple[float, float]] = []
        for i in np.flatnonzero(ok)[order]:
            if all(math.hypot(ex[i] - a, ny[i] - b) >= spacing_m for a, b in taken):
                taken.append((ex[i], ny[i]))
                rows.append((plon[i], plat[i], (f"hilltop {z[r[i], c[i]]:.0f} m, {dist[i] / 1e3:.1f} km from "
                                               f"{targets['kode'].iloc[k]}"), targets["kode"].iloc[k]))
            if len(taken) >= per_village:
                break
    return rows


def _grid_points(targets, spacing_m, search_radius_m):
    import shapely

    lo0, la0, lo1, la1 = targets.total_bounds
    _, inv = _local_frame(0.5 * (lo0 + lo1), 0.5 * (la0 + la1))
    g = targets.to_crs(_local_proj(0.5 * (lo0 + lo1), 0.5 * (la0 + la1)))
    x0, y0, x1, y1 = g.total_bounds
    xs = np.arange(x0 - search_radius_m, x1 + search_radius_m + spacing_m, spacing_m)
    ys = np.arange(y0 - search_radius_m, y1 + search_radius_m + spacing_m, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    tree = shapely.STRtree(g.geometry.values)
    p_idx, v_idx = tree.query(shapely.points(gx, gy), predicate="dwithin", distance=search_radius_m)
    keep, first = np.unique(p_idx, return_index=True)
    lon, lat = inv.transform(gx[keep], gy[keep])
    codes = targets["kode"].to_numpy()[v_idx[first]]
    return [(lo, la, f"grid point ({spacing_m / 1e3:g} km) within {search_radius_m / 1e3:g} km of {c}", c)
            for lo, la, c in zip(lon, lat, codes)]


def candidate_sites(villages, *, terrain=None, method: str | Sequence[str] = "hilltops", spacing_m: float = 2000.0,
                    per_village: int = 3, search_radius_m: float = SEARCH_RADIUS_M,
                    height_m: float = DEFAULT_HEIGHT_M, freq_mhz: float | None = None, technology: str = "4g",
                    eirp_dbm: float | None = None, bandwidth_mhz: float | None = None, existing=None,
                    colocation_cost: float = COLOCATION_COST, user=None,
                    statuses: Sequence[str] | None = ("blankspot", "partial")):
    """Candidate masts near the villages to serve, each with an id, a cost and why it was proposed.

    Parameters
    ----------
    villages : GeoDataFrame or path
        Villages (:func:`coverage.read_villages`) or an assessed table; when it has a ``status``
        column only villages of ``statuses`` are served (default blankspot and partial).
    terrain : Terrain, optional
        DEM, needed by ``"hilltops"``.
    method : str or list of str
        ``"hilltops"`` (local DEM maxima, ``per_village`` per village, ``spacing_m`` apart, within
        ``search_radius_m``), ``"grid"`` (a ``spacing_m`` grid within ``search_radius_m`` of a
        village), ``"villages"`` (each village's representative point), ``"existing"`` (co-location
        on the ``existing`` masts within ``search_radius_m``), or several.
    height_m, freq_mhz, technology, eirp_dbm, bandwidth_mhz :
        The new antenna (m above ground, MHz, dBm, MHz); frequency, EIRP and bandwidth default to
        :data:`coverage.io.sites.DEFAULTS_BY_TECHNOLOGY` (LTE 1800 MHz, 60 dBm, 10 MHz), the same
        band as an OpenCelliD network's defaults so that one empirical model serves both.
    colocation_cost : float
        Cost of a co-location relative to a new mast (1); default :data:`COLOCATION_COST`.
    user : DataFrame, optional
        Your own candidates (any sites table; ``cost`` and ``reason`` columns kept if present).

    Returns
    -------
    GeoDataFrame
        A sites table (``site_id``, ``lon``, ``lat``, ``height_m``, ``freq_mhz``, ...) with ``cost``,
        ``kind`` (new / colocation / user), ``reason`` and ``near_kode``.
    """
    import shapely

    if not hasattr(villages, "geometry"):
        villages = read_villages(villages)
    methods = [method] if isinstance(method, str) else list(method)
    bad = [m for m in methods if m not in CANDIDATE_METHODS]
    if bad:
        raise InputError(f"unknown candidate method(s) {bad}; use {list(CANDIDATE_METHODS)}")
    for name, val in (("spacing_m", spacing_m), ("search_radius_m", search_radius_m), ("height_m", height_m)):
        if not (np.isfinite(val) and val > 0):
            raise InputError(f"{name} must be a positive number of metres, got {val}")
    if int(per_village) < 1:
        raise InputError(f"per_village must be >= 1, got {per_village}")
    targets = _target_villages(villages, statuses)
    defs = DEFAULTS_BY_TECHNOLOGY[str(technology).lower()]
    rows, kinds, costs = [], [], []

    def add(found, kind, cost, height=height_m):
        for lo, la, why, code in found:
            rows.append((lo, la, why, code, height))
            kinds.append(kind)
            costs.append(cost)

    if len(targets):
        for m in methods:
            if m == "hilltops":
                if terrain is None:
                    raise InputError("method 'hilltops' needs terrain (a DEM); without one use 'grid' or 'villages'")
                add(_hilltops(targets, terrain, int(per_village), float(spacing_m), float(search_radius_m)), "new", 1.0)
            elif m == "grid":
                add(_grid_points(targets, float(spacing_m), float(search_radius_m)), "new", 1.0)
            elif m == "villages":
                pts = shapely.point_on_surface(targets.geometry.values)
                add([(shapely.get_x(p), shapely.get_y(p), f"representative point of {c} {n}", c)
                     for p, c, n in zip(pts, targets["kode"], targets.get("nama", targets["kode"]))], "new", 1.0)
            elif m == "existing":
                if existing is None:
                    raise InputError("method 'existing' needs the existing sites (existing=...)")
                ex = existing if isinstance(existing, pd.DataFrame) else read_sites(existing)
                ex = ex.drop_duplicates(["lon", "lat"])
                tree = shapely.STRtree(targets.geometry.values)
                d = float(search_radius_m) / 111_000.0
                pi, vi = tree.query(shapely.points(ex["lon"], ex["lat"]), predicate="dwithin", distance=d)
                keep, first = np.unique(pi, return_index=True)
                for k, f in zip(keep, first):
                    r = ex.iloc[int(k)]
                    rows.append((float(r["lon"]), float(r["lat"]), f"co-location on existing mast {r['site_id']}",
                                 targets["kode"].iloc[int(vi[f])], float(r.get("height_m", height_m))))
                    kinds.append("colocation")
                    costs.append(float(colocation_cost))
    table = pd.DataFrame(rows, columns=["lon", "lat", "reason", "near_kode", "height_m"])
    table["kind"], table["cost"] = kinds, costs
    table = table.drop_duplicates(["lon", "lat"]).reset_index(drop=True)
    table.insert(0, "site_id", [f"C{i + 1:05d}" for i in range(len(table))])
    if user is not None:
        u = user.copy() if isinstance(user, pd.DataFrame) else pd.read_csv(user)
        u = u.assign(kind=u.get("kind", "user"), reason=u.get("reason", "user list"),
                     cost=u.get("cost", 1.0), near_kode=u.get("near_kode", None))
        table = pd.concat([table, u], ignore_index=True)
    if len(table) == 0:
        raise InputError("no candidate sites: no village to serve, or nothing found near them")
    table["technology"] = table.get("technology", pd.Series(technology, index=table.index)).fillna(technology)
    for col, val in (("freq_mhz", defs.freq_mhz if freq_mhz is None else freq_mhz),
                     ("eirp_dbm", defs.eirp_dbm if eirp_dbm is None else eirp_dbm),
                     ("bandwidth_mhz", defs.bandwidth_mhz if bandwidth_mhz is None else bandwidth_mhz)):
        table[col] = table[col].fillna(val) if col in table.columns else float(val)
    out = normalize_sites(table, source="candidate_sites", technology=technology)
    for col in ("cost", "kind", "reason", "near_kode"):
        out[col] = table[col].to_numpy()
    out.attrs["candidate_methods"] = methods
    return out


# ---------------------------------------------------------------------------------------------
# the run's grid, baseline and village cells


def _chain(sites, villages, terrain, model, technology, bounds, resolution_m, model_params, candidates,
           hierarchy=None, repair=False):
    """Existing sites, villages, terrain and bounds as :func:`run_villages` settles them; the model of each
    candidate and the model parameters as :func:`coverage.predict` would settle them for existing + candidates.

    Returns (sites or None, villages, terrain, candidates, candidate model names, params, bounds).
    """
    from ..engine.prepare import choose_models
    from ..propagation import get_model
    from .run import _chain_inputs

    tech = str(technology).lower()
    c = candidates if isinstance(candidates, pd.DataFrame) and "geometry" in candidates.columns else \
        (normalize_sites(candidates) if isinstance(candidates, pd.DataFrame) else read_sites(candidates))
    c = c[c["technology"] == tech].reset_index(drop=True)
    if len(c) == 0:
        raise InputError(f"no {tech} candidate sites")
    s, v, terrain, _, bounds = _chain_inputs(c if sites is None else sites, villages, terrain, [tech], bounds,
                                             resolution_m, hierarchy, repair)
    if sites is None:
        s = None
    else:
        s = s[s["technology"] == tech].reset_index(drop=True)
    freqs = np.concatenate([[] if s is None else s["freq_mhz"].to_numpy(float), c["freq_mhz"].to_numpy(float)])
    names = choose_models(model, terrain is not None, freqs)
    # predict's parameters are those of the run's first site's model (PerSiteModel.params)
    params = get_model(names[0]).params(model_params)
    return s, v, terrain, c, names[len(freqs) - len(c):], params, bounds


def _grid(terrain, m, bounds, radius_m, resolution_m, sites):
    from ..engine.prepare import _smooth_earth_grid
    from ..engine.sweep import Grid
    from ..propagation import get_model

    if terrain is None:
        return _smooth_earth_grid(get_model(m), sites, bounds, radius_m, resolution_m, None)[0]
    t = terrain.window_lonlat(bounds) if bounds is not None else terrain
    return Grid(t.elevation_m, t.transform, t.crs, t.is_geographic)


def _empty_result(grid, tech, m, sites):
    from ..engine.result import CoverageResult
    from ..io.sites import METRICS

    best = np.full(grid.shape, np.nan, np.float32)
    return CoverageResult(best, np.full(grid.shape, -1, np.int32), best.copy(), np.zeros(grid.shape, np.int16),
                          grid.transform, grid.crs, sites.iloc[:0], METRICS[tech], tech, m,
                          {"has_terrain": False, "terrain": {"has_terrain": grid.elevation_m.any()}})


@dataclass
class _Villages:
    """Per-village cell weights on the run's grid, as :func:`assess_villages` computes them."""

    vi: np.ndarray  # village index of each (village, cell) pair
    flat: np.ndarray  # full-grid flat cell index
    w: np.ndarray  # weight (m² inside the village; 1 for point villages)
    tot: np.ndarray  # per village: sum of weights (0: unassessed)


def _village_cells(v, result, cache) -> _Villages:
    import shapely

    ncols = result.shape[1]
    (cached,) = cache.values()
    n = len(v)
    vi, flat, w = [], [], []
    for i, (_, _, rr, cc, wi) in cached.items():
        vi.append(np.full(rr.size, i))
        flat.append(rr.astype(np.int64) * ncols + cc)
        w.append(wi)
    geoms = v.to_crs("EPSG:4326").geometry.values
    is_point = shapely.get_type_id(geoms) == 0
    if is_point.any():
        px, py = shapely.get_x(geoms[is_point]), shapely.get_y(geoms[is_point])
        r, c = result._rowcol(px, py)
        ok = (r >= 0) & (r < result.shape[0]) & (c >= 0) & (c < ncols)
        idx = np.flatnonzero(is_point)[ok]
        vi.append(idx)
        flat.append(r[ok].astype(np.int64) * ncols + c[ok])
        w.append(np.ones(idx.size))
    vi = np.concatenate(vi) if vi else np.zeros(0, int)
    flat = np.concatenate(flat) if flat else np.zeros(0, np.int64)
    w = np.concatenate(w) if w else np.zeros(0)
    tot = np.bincount(vi, weights=w, minlength=n)
    return _Villages(vi, flat, w, tot)


# ---------------------------------------------------------------------------------------------
# coverage matrix


@dataclass
class CoverageMatrix:
    """Which village cells each candidate makes usable that no existing site serves.

    ``matrix`` is a boolean CSR (candidates × open cells); ``open_cells`` their full-grid flat
    indices. ``seconds`` the engine time, ``workers`` the processes used.
    """

    matrix: Any
    open_cells: np.ndarray
    candidates: pd.DataFrame
    seconds: float
    workers: int
    cell_evaluations: int


def _reach_m(m, row, params, tech: str, rx_height_m: float, radius_m: float, usable_dbm: float, cell_m: float) -> float:
    """How far a candidate of a distance model can reach ``usable_dbm`` (m), at most ``radius_m``.

    On a smooth earth the signal is EIRP + pattern − loss(d) + offset with the pattern <= 0 dB
    (3GPP TR 36.814) and the empirical losses increasing with distance, so no cell beyond the last
    distance that reaches the level with the pattern at 0 dB can be usable: computing the window
    only that far (plus a cell) gives the same usable cells, far faster than the full radius. A
    profile model (terrain), or a loss found not increasing, keeps the full radius.
    """
    from ..io.sites import metric_offset_db
    from ..propagation import DistanceModel

    if not isinstance(m, DistanceModel):
        return radius_m
    d = np.arange(1.0, radius_m + 10.0, 10.0)  # 10 m steps: the margin below is two cells
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = np.asarray(m.loss_db(d, freq_mhz=float(row["freq_mhz"]), h_tx_m=float(row["height_m"]),
                                    h_rx_m=float(rx_height_m), **params), float)
    off = metric_offset_db(tech, float(row["bandwidth_mhz"])) if tech != "mixed" else 0.0
    sig = float(row["eirp_dbm"]) - loss + off
    if not np.all(np.isfinite(loss)) or np.any(np.diff(loss) < -1e-9):
        return radius_m
    ok = np.flatnonzero(sig >= usable_dbm - 1e-6)
    last = float(d[ok[-1]]) if ok.size else 1.0
    return float(min(radius_m, last + 2.0 * cell_m + 10.0))


def _usable_cells(grid, candidates, model, params, tech, rx_height_m, radius_m, usable_dbm, limit_reach,
                  threads: int = 1):
    """Full-grid flat indices of the cells each candidate makes usable, and the cell evaluations.

    Runs with ``threads`` numba threads: a candidate's window is small, and a parallel kernel's
    start-up costs more than the window (measured 17x slower on 2 busy cores), so the parallelism
    of :func:`coverage_matrix` is across candidates, in processes.
    """
    import numba

    from ..engine.prepare import _geometry, _site_positions, _site_signal
    from ..propagation import ProfileModel, get_model

    names = [model] * len(candidates) if isinstance(model, str) else list(model)
    sx, sy, _, _, inside = _site_positions(candidates, grid.transform, grid.crs, grid.shape)
    ncols = grid.shape[1]
    cell_m = float(np.hypot(*grid.cell_size_m()))
    out, n_eval = [], 0
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        for j in range(len(candidates)):
            row = candidates.iloc[j]
            m = get_model(names[j])
            reach = _reach_m(m, row, params, tech, rx_height_m, radius_m, usable_dbm, cell_m) if limit_reach \
                else radius_m
            geo = _geometry(grid, (float(sx[j]), float(sy[j])), reach, bool(inside[j]), isinstance(m, ProfileModel))
            if geo is None:
                out.append(np.zeros(0, np.int64))
                continue
            sig = _site_signal(geo, m, row, params, tech, rx_height_m)
            n_eval += int(np.isfinite(sig).sum())
            # compared in float32 as the best-server fold stores it; NaN (beyond the radius) is False
            rr, cc = np.nonzero(sig.astype(np.float32) >= usable_dbm)
            r0, c0, _, _ = geo.window
            out.append((rr + r0).astype(np.int64) * ncols + (cc + c0))
    finally:
        numba.set_num_threads(old)
    return out, n_eval


_WORKER_GRID: list = []  # the run's grid in a coverage-matrix worker process (set by its initializer)


def _set_worker_grid(grid) -> None:
    _WORKER_GRID[:] = [grid]


def _usable_cells_in_worker(candidates, *args):
    return _usable_cells(_WORKER_GRID[0], candidates, *args)


def coverage_matrix(candidates, grid, open_cells, *, model, params, tech, rx_height_m, radius_m, usable_dbm,
                    workers: int | None = None, progress: bool | None = False,
                    limit_reach: bool = True) -> CoverageMatrix:
    """Run the engine once per candidate and keep the open cells it makes usable.

    Each candidate's signal comes from :func:`coverage.engine.prepare._site_signal` on a
    :class:`SiteGeometry` of the run's grid, compared in float32 as the best-server fold stores it,
    so a cell counts exactly when a full run with that candidate would find it usable.
    ``workers`` processes (spawned; default 1, in this process) each take a share of the candidates;
    ``limit_reach`` computes a distance model's window only as far as it can reach the usable level
    (:func:`_reach_m`; same cells, fewer evaluations).
    """
    import scipy.sparse as sp

    nw = 1 if workers is None else int(workers)
    if nw < 1:
        raise InputError(f"workers must be >= 1, got {workers}")
    ncell = grid.shape[0] * grid.shape[1]
    lookup = np.full(ncell, -1, np.int64)
    lookup[open_cells] = np.arange(open_cells.size)
    names = [model] * len(candidates) if isinstance(model, str) else list(model)
    if len(names) != len(candidates):
        raise InputError(f"model: one name, or one per candidate ({len(candidates)}), got {len(names)}")
    args = (params, tech, rx_height_m, radius_m, usable_dbm, limit_reach)
    t0 = time.perf_counter()
    if nw == 1 or len(candidates) < 2 * nw:
        cells, n_eval = _usable_cells(grid, candidates, names, *args)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: the OpenMP runtime behind numba's parallel kernels is not fork-safe
        bounds = np.linspace(0, len(candidates), 4 * nw + 1).round().astype(int)
        # the grid travels once per process (initializer), the candidates in chunks
        with ProcessPoolExecutor(max_workers=nw, mp_context=mp.get_context("spawn"), initializer=_set_worker_grid,
                                 initargs=(grid,)) as ex:
            futs = [ex.submit(_usable_cells_in_worker, candidates.iloc[a:b], names[a:b], *args)
                    for a, b in itertools.pairwise(bounds) if b > a]
            parts = [f.result() for f in futs]
        cells = [c for part, _ in parts for c in part]
        n_eval = sum(n for _, n in parts)
    indptr, indices = [0], []
    for flat in cells:
        k = lookup[flat]
        k = np.sort(k[k >= 0])
        indices.append(k)
        indptr.append(indptr[-1] + k.size)
    secs = time.perf_counter() - t0
    ind = np.concatenate(indices) if indices else np.zeros(0, np.int64)
    mat = sp.csr_matrix((np.ones(ind.size, bool), ind, np.asarray(indptr)), shape=(len(candidates), open_cells.size))
    return CoverageMatrix(mat, open_cells, candidates, secs, nw, n_eval)


# ---------------------------------------------------------------------------------------------
# the model: cell groups, village weights, objective


@dataclass
class _Model:
    """The planning problem on cell groups.

    ``G`` (groups × candidates, CSR) says which candidates cover each group; ``W`` (villages ×
    groups, CSC) the weight (m²) of each group inside each village; ``cur_w`` the weight each
    village already has usable from existing sites, ``tot`` its total weight (0: unassessed).
    A village's usable share after a plan is (cur_w + Σ_g W_g u_g) / tot, as in assess_villages.
    """

    G: Any
    W: Any
    cur_w: np.ndarray
    tot: np.ndarray
    pop: np.ndarray
    cost: np.ndarray
    objective: str
    threshold: float
    n_open_cells: int

    @property
    def n_groups(self) -> int:
        return self.G.shape[0]

    @property
    def cand_groups(self):
        """Candidates × groups CSR (the groups each candidate covers)."""
        if not hasattr(self, "_cg"):
            self._cg = self.G.T.tocsr()
        return self._cg

    def shares(self, covered_groups: np.ndarray) -> np.ndarray:
        """Usable share of every village with the given groups covered (NaN: unassessed)."""
        extra = self.W @ covered_groups.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.tot > 0, (self.cur_w + extra) / self.tot, np.nan)

    def value(self, shares: np.ndarray) -> float:
        """Objective value: villages at the threshold, or people with a usable signal."""
        if self.objective == "population":
            return float(np.nansum(self.pop * shares))
        return float(np.sum(shares >= self.threshold))

    def covered_by(self, chosen) -> np.ndarray:
        cov = np.zeros(self.n_groups, bool)
        if len(chosen):
            cov[np.unique(self.cand_groups[np.asarray(chosen)].indices)] = True
        return cov


def _groups(mat):
    """Group the open cells by the set of candidates that cover them.

    Returns the group of each open cell (-1: no candidate) and the groups × candidates CSR.
    Two independent 64-bit random hashes of the set identify a group; they are checked against
    each other, and an (astronomically unlikely) disagreement falls back to exact row comparison.
    """
    import scipy.sparse as sp

    cells = mat.T.tocsr()
    cells.sort_indices()
    nnz = np.diff(cells.indptr)
    gid = np.full(cells.shape[0], -1, np.int64)
    hit = np.flatnonzero(nnz > 0)
    if hit.size == 0:
        return gid, sp.csr_matrix((0, mat.shape[0]), dtype=bool)
    rng = np.random.default_rng(12345)
    h = []
    for _ in range(2):
        r = rng.integers(0, np.iinfo(np.uint64).max, size=mat.shape[0], dtype=np.uint64, endpoint=True)
        h.append(np.add.reduceat(r[cells.indices], cells.indptr[hit]))
    _, first, inv = np.unique(h[0], return_index=True, return_inverse=True)
    if not np.array_equal(h[1], h[1][first][inv]):
        _, first, inv = np.unique(np.column_stack(h), axis=0, return_index=True, return_inverse=True)
    gid[hit] = inv.ravel()
    G = cells[hit[first]]
    return gid, G.astype(bool)


def _build_model(cm: CoverageMatrix, vc: _Villages, usable_pair: np.ndarray, objective: str, threshold: float,
                 pop: np.ndarray, cost: np.ndarray) -> _Model:
    """Cell groups and per-village group weights from the coverage matrix and the village cells."""
    import scipy.sparse as sp

    n = vc.tot.size
    gid, G = _groups(cm.matrix)
    cur_w = np.bincount(vc.vi[usable_pair], weights=vc.w[usable_pair], minlength=n)
    op = ~usable_pair
    k = np.searchsorted(cm.open_cells, vc.flat[op])
    g = gid[k]
    ok = g >= 0
    W = sp.coo_matrix((vc.w[op][ok], (vc.vi[op][ok], g[ok])), shape=(n, G.shape[0])).tocsc()
    W.sum_duplicates()
    return _Model(G, W, cur_w, vc.tot, pop, cost, objective, threshold, int(cm.open_cells.size))


def _gather(csc, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row indices and values of the given columns of a CSC matrix."""
    starts, ends = csc.indptr[cols], csc.indptr[cols + 1]
    lens = ends - starts
    if lens.sum() == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    idx = np.arange(lens.sum()) + np.repeat(starts - np.cumsum(np.r_[0, lens[:-1]]), lens)
    return csc.indices[idx], csc.data[idx]


def _surrogate(model: _Model, shares: np.ndarray) -> np.ndarray:
    """Per-village submodular value: people covered, or min(1, share / threshold)."""
    s = np.nan_to_num(shares, nan=0.0)
    if model.objective == "population":
        return np.nan_to_num(model.pop) * s
    return np.minimum(1.0, s / model.threshold)


def _greedy(model: _Model, budget: float, eligible: np.ndarray | None = None) -> list[int]:
    """Lazy greedy on the submodular surrogate, by gain per unit cost; with unequal costs the best
    single candidate is kept instead when it does better (Khuller, Moss & Naor 1999)."""
    cg = model.cand_groups
    W = model.W
    covered = np.zeros(model.n_groups, bool)
    extra = np.zeros(model.tot.size)
    tot = np.where(model.tot > 0, model.tot, np.inf)

    def gain(j):
        gs = cg.indices[cg.indptr[j]:cg.indptr[j + 1]]
        gs = gs[~covered[gs]]
        rows, vals = _gather(W, gs)
        if rows.size == 0:
            return 0.0, gs
        u, inv = np.unique(rows, return_inverse=True)
        d = np.bincount(inv, weights=vals)
        before = _surrogate_rows(model, u, (model.cur_w[u] + extra[u]) / tot[u])
        after = _surrogate_rows(model, u, (model.cur_w[u] + extra[u] + d) / tot[u])
        return float(np.sum(after - before)), gs

    cand = np.arange(cg.shape[0]) if eligible is None else np.flatnonzero(eligible)
    heap = []
    singles = {}
    for j in cand:
        gj, _ = gain(j)
        singles[j] = gj
        if gj > 0:
            heap.append((-gj / model.cost[j], int(j), 0))
    heapq.heapify(heap)
    chosen, spent, it = [], 0.0, 0
    while heap:
        neg, j, stamp = heapq.heappop(heap)
        if model.cost[j] > budget - spent + 1e-9:
            continue
        if stamp == it:
            if -neg <= 0:
                break
            _, gs = gain(j)
            rows, vals = _gather(W, gs)
            np.add.at(extra, rows, vals)
            covered[gs] = True
            chosen.append(j)
            spent += model.cost[j]
            it += 1
            continue
        gj, _ = gain(j)
        if gj > 0:
            heapq.heappush(heap, (-gj / model.cost[j], j, it))
    if len(np.unique(model.cost)) > 1 and singles:
        feasible = [j for j in singles if model.cost[j] <= budget + 1e-9]
        if feasible:
            best = max(feasible, key=lambda j: singles[j])
            if singles[best] > _surrogate(model, model.shares(model.covered_by(chosen))).sum() - \
                    _surrogate(model, model.shares(model.covered_by([]))).sum():
                chosen = [best]
    return chosen


def _surrogate_rows(model, rows, shares):
    if model.objective == "population":
        return np.nan_to_num(model.pop[rows]) * shares
    return np.minimum(1.0, shares / model.threshold)


def _village_cuts(Wy, Gk, need, Y, cost, budget):
    """Valid inequalities that tighten the LP relaxation of the village-threshold rows.

    With c_ij the share candidate j alone adds to village i (the union of several is at most the
    sum of theirs), a village needs at least k_i candidates, k_i = the fewest of its largest c_ij
    adding up to its need: so k_i · y_i <= Σ_{c_ij>0} x_j; and need_i · y_i <= Σ_j min(c_ij, need_i) x_j
    (one candidate never has to bring more than the need). Villages whose k_i cheapest candidates
    exceed the budget cannot cross and are dropped. Returns the kept villages, their rows of Wy,
    and the two cuts as (x coefficients, y coefficients).
    """

    C = (Wy @ Gk).tocsr()
    ny = C.shape[0]
    k = np.zeros(ny)
    keep = np.zeros(ny, bool)
    for i in range(ny):
        vals = C.data[C.indptr[i]:C.indptr[i + 1]]
        cols = C.indices[C.indptr[i]:C.indptr[i + 1]]
        order = np.argsort(-vals, kind="stable")
        reach = np.flatnonzero(np.cumsum(vals[order]) >= need[i] - 1e-12)
        if reach.size:
            k[i] = reach[0] + 1
            keep[i] = np.sort(cost[cols])[:int(k[i])].sum() <= budget + 1e-9
    C = C[keep]
    need = need[keep]
    cnt = C.copy()
    cnt.data[:] = 1.0
    cap = C.copy()
    rows_of = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
    cap.data = np.minimum(cap.data, need[rows_of])
    return Y[keep], Wy[keep], [(cnt, k[keep]), (cap, need)]


def _milp(model: _Model, budget: float, time_limit_s: float, mip_rel_gap: float):
    """Exact MILP with HiGHS. Returns (chosen, gain bound, solver status text, HiGHS result).

    (A row "gain >= greedy's gain" as a cut-off was tried: on Berau it kept HiGHS from finding any
    solution within 30 s where the plain model proved optimality in 22 s; not used.)
    """
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    _nc, ng = model.G.shape[1], model.n_groups
    base = model.shares(np.zeros(ng, bool))
    if model.objective == "population":
        coef = np.asarray(model.W.T @ (np.nan_to_num(model.pop) / np.where(model.tot > 0, model.tot, np.inf))).ravel()
        keep_g = coef > 0
        Y = np.zeros(0, np.int64)
    else:
        top = model.shares(np.ones(ng, bool))
        Y = np.flatnonzero((model.tot > 0) & (base < model.threshold) & (top >= model.threshold))
        keep_g = np.asarray((model.W[Y] != 0).sum(axis=0)).ravel() > 0
        coef = np.zeros(ng)
    gk = np.flatnonzero(keep_g)
    Gk = model.G[gk].astype(float)
    keep_c = np.asarray(Gk.sum(axis=0)).ravel() > 0
    ck = np.flatnonzero(keep_c)
    Gk = Gk[:, ck]
    nx, nu, ny = ck.size, gk.size, Y.size
    if nx == 0:
        return [], 0.0, "nothing to gain", None
    if ny:
        Wy = model.W[Y][:, gk].multiply(1.0 / model.tot[Y][:, None]).tocsr()
        Y, Wy, cuts = _village_cuts(Wy, Gk, model.threshold - base[Y], Y, model.cost[ck], budget)
        ny = Y.size
    rows = [sp.hstack([-Gk, sp.identity(nu), sp.csr_matrix((nu, ny))])]
    lb, ub = [np.full(nu, -np.inf)], [np.zeros(nu)]
    if ny:
        rows.append(sp.hstack([sp.csr_matrix((ny, nx)), -Wy, model.threshold * sp.identity(ny)]))
        lb.append(np.full(ny, -np.inf))
        ub.append(base[Y])
        for Cx, Cy in cuts:
            rows.append(sp.hstack([-Cx, sp.csr_matrix((ny, nu)), sp.diags(Cy)]))
            lb.append(np.full(ny, -np.inf))
            ub.append(np.zeros(ny))
    rows.append(sp.hstack([sp.csr_matrix(model.cost[ck][None, :]), sp.csr_matrix((1, nu + ny))]))
    lb.append([-np.inf])
    ub.append([float(budget)])
    c = np.concatenate([np.zeros(nx), -coef[gk], -np.ones(ny)])
    A = sp.vstack(rows).tocsr()
    integ = np.concatenate([np.ones(nx), np.zeros(nu), np.ones(ny)])
    res = milp(c, constraints=LinearConstraint(A, np.concatenate(lb), np.concatenate(ub)), integrality=integ,
               bounds=Bounds(0, 1), options={"time_limit": float(time_limit_s), "mip_rel_gap": float(mip_rel_gap),
                                             "disp": False})
    if res.x is None:
        return None, (np.inf if getattr(res, "mip_dual_bound", None) is None else -res.mip_dual_bound), \
            res.message, res
    chosen = [int(ck[i]) for i in np.flatnonzero(res.x[:nx] > 0.5)]
    bound = -float(res.mip_dual_bound) if getattr(res, "mip_dual_bound", None) is not None else np.nan
    return chosen, bound, res.message, res


# ---------------------------------------------------------------------------------------------
# the plan


@dataclass
class Plan:
    """What :func:`plan_sites` returns.

    Attributes
    ----------
    chosen : DataFrame
        The chosen candidates in greedy order of their marginal gain within the plan: the sites
        columns plus ``rank``, ``gain`` (objective units), ``villages_newly_served`` (leaving
        blankspot), ``villages_newly_covered``, ``people_newly_served`` and ``cost``.
    villages : GeoDataFrame
        The village table re-assessed with existing + chosen sites (``run_villages``), or the
        model's statuses when ``reassess=False``.
    blankspot_before, blankspot_after, covered_before, covered_after : int
    population_covered_before, population_covered_after : float
        People with a usable signal (uniform density in each village; NaN populations count 0).
    value : float
        Objective value of the plan (villages not in blankspot / covered villages / people covered).
    bound : float
        Proven bound on the objective *in its own terms*: the fewest blankspot villages any plan
        within the budget can reach, the most covered villages, the most people (NaN when none
        was proven, e.g. greedy on a village count).
    gap : float
        Proven relative gap on the *gain* over the existing sites: (bound_gain − gain) / gain.
    greedy : dict
        Greedy's result beside the MILP (value, chosen ids, seconds).
    metadata : dict
        Settings, sizes (candidates, open cells, groups, MILP rows/columns), solver status, times.
    """

    chosen: pd.DataFrame
    villages: Any
    objective: str
    solver: str
    blankspot_before: int
    blankspot_after: int
    covered_before: int
    covered_after: int
    population_covered_before: float
    population_covered_after: float
    value: float
    bound: float
    gap: float
    greedy: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    run: Any = None

    def proposals(self) -> pd.DataFrame:
        """The ranked proposals table: site, position, height, villages and people newly served, cost."""
        cols = ["rank", "site_id", "lon", "lat", "height_m", "freq_mhz", "kind", "reason", "cost", "gain",
                "villages_newly_served", "villages_newly_covered", "people_newly_served"]
        return pd.DataFrame(self.chosen[[c for c in cols if c in self.chosen.columns]]).reset_index(drop=True)

    def summary(self) -> dict:
        return {k: getattr(self, k) for k in (
            "objective", "solver", "blankspot_before", "blankspot_after", "covered_before", "covered_after",
            "population_covered_before", "population_covered_after", "value", "bound", "gap")} | {
            "n_chosen": len(self.chosen), "total_cost": float(self.chosen["cost"].sum()) if len(self.chosen) else 0.0}


def _status_counts(model: _Model, shares, st) -> tuple[int, int, float]:
    ok = model.tot > 0
    return (int(np.sum(ok & (shares < st.blankspot_below))), int(np.sum(ok & (shares >= st.covered_from))),
            float(np.nansum(np.nan_to_num(model.pop) * shares)))


def _order(model: _Model, chosen: list[int], st) -> tuple[list[int], list[tuple]]:
    """Chosen candidates in greedy order within the plan, with each one's marginal numbers."""
    if not chosen:
        return [], []
    elig = np.zeros(model.G.shape[1], bool)
    elig[chosen] = True
    order = _greedy(model, float(np.sum(model.cost[chosen])) + 1e-6, eligible=elig)
    order += [j for j in chosen if j not in order]  # zero-gain members last
    steps, cov = [], np.zeros(model.n_groups, bool)
    prev_sh = model.shares(cov)
    for j in order:
        cov |= model.covered_by([j])
        sh = model.shares(cov)
        b0, c0, p0 = _status_counts(model, prev_sh, st)
        b1, c1, p1 = _status_counts(model, sh, st)
        steps.append((model.value(sh) - model.value(prev_sh), b0 - b1, c1 - c0, p1 - p0))
        prev_sh = sh
    return order, steps


@dataclass
class PlanningProblem:
    """Everything a plan needs that does not depend on the objective or the budget: the run's
    settings, the baseline (existing sites), the village cells and the candidates' coverage matrix.
    Build it once with :func:`prepare_plan` and pass it to :func:`plan_sites` for several budgets."""

    sites: Any
    villages: Any
    terrain: Any
    candidates: pd.DataFrame
    model: str
    params: dict
    technology: str
    usable_dbm: float
    status_thresholds: Any
    before: Any
    cells: _Villages
    usable_pair: np.ndarray
    matrix: CoverageMatrix
    radius_m: float
    rx_height_m: float
    resolution_m: float
    bounds: Any
    times: dict
    model_params: Any = None  # as given (the re-run passes them on)
    candidate_models: list = field(default_factory=list)  # model name of each candidate


def prepare_plan(*, sites, candidates, villages, terrain=None, model: str = "auto", radius_m: float = 30_000.0,
                 resolution_m: float = 250.0, bounds=None, rx_height_m: float = 1.5,
                 model_params: Mapping | None = None, technology: str = "4g", usable_dbm: float | None = None,
                 blankspot_below: float | None = None, covered_from: float | None = None, population=None,
                 workers: int | None = None, hierarchy=None, repair: bool = False,
                 progress: bool | None = False, baseline=None) -> PlanningProblem:
    """The objective- and budget-independent part of :func:`plan_sites` (same parameters).

    ``baseline``: the existing sites' :class:`~coverage.CoverageResult` when the caller already has it
    (``run_villages(...).results[technology]`` with the same settings): it is used, not predicted again.
    """
    from ..engine.predict import predict
    from ..thresholds import StatusThresholds
    from .assess import assess_villages

    tech = str(technology).lower()
    T = float(USABLE_DBM[tech] if usable_dbm is None else usable_dbm)
    st = StatusThresholds(STATUS_THRESHOLDS.blankspot_below if blankspot_below is None else float(blankspot_below),
                          STATUS_THRESHOLDS.covered_from if covered_from is None else float(covered_from))
    s, v, terrain, cands, cmodels, params, run_bounds = _chain(sites, villages, terrain, model, tech, bounds,
                                                               resolution_m, model_params, candidates, hierarchy,
                                                               repair)
    v = with_population(v, population)
    times = {}

    # ---- baseline: existing sites on the run's grid, village cells as assess_villages weighs them
    t0 = time.perf_counter()
    grid = _grid(terrain, cmodels[0], run_bounds, radius_m, resolution_m, cands if s is None else s)
    if baseline is not None:
        base = baseline
    elif s is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)  # the run says what it assumed (metadata)
            base = predict(terrain, s, model=model, radius_m=radius_m, rx_height_m=rx_height_m, bounds=run_bounds,
                           resolution_m=None if terrain is not None else resolution_m, technology=tech,
                           model_params=model_params, progress=progress)
    else:
        base = _empty_result(grid, tech, cmodels[0], cands)
    if tuple(base.transform)[:6] != tuple(grid.transform)[:6] or base.shape != grid.shape:
        raise InputError("the baseline result's grid differs from the planning grid: run it with the same "
                         "terrain, bounds, radius and resolution")
    cache: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        before = assess_villages(v, base, tech, usable_dbm=T, status_thresholds=st, _cache=cache)
    vc = _village_cells(v, base, cache)
    best = np.asarray(base.best_dbm).ravel()
    usable_pair = np.nan_to_num(best[vc.flat], nan=-np.inf) >= T
    open_cells = np.unique(vc.flat[~usable_pair])
    times["baseline_s"] = round(time.perf_counter() - t0, 3)

    # ---- coverage matrix and model
    cm = coverage_matrix(cands, grid, open_cells, model=cmodels, params=params, tech=tech, rx_height_m=rx_height_m,
                         radius_m=radius_m, usable_dbm=T, workers=workers, progress=progress)
    times["matrix_s"] = round(cm.seconds, 3)

    return PlanningProblem(s, v, terrain, cands, model, params, tech, T, st, before, vc, usable_pair, cm,
                           float(radius_m), float(rx_height_m), float(resolution_m), bounds, times, model_params,
                           list(cmodels))


def plan_sites(*, sites=None, candidates=None, villages=None, budget: float, objective: str = "blankspot_villages",
               terrain=None, model: str = "auto", radius_m: float = 30_000.0, resolution_m: float = 250.0,
               bounds=None, rx_height_m: float = 1.5, model_params: Mapping | None = None,
               technology: str = "4g", usable_dbm: float | None = None, blankspot_below: float | None = None,
               covered_from: float | None = None, population=None, cost: str | Sequence[float] | None = None,
               solver: str = "milp", time_limit_s: float = 60.0, mip_rel_gap: float = MIP_REL_GAP,
               workers: int | None = None, reassess: bool = True, hierarchy=None, repair: bool = False,
               progress: bool | None = False, problem: PlanningProblem | None = None) -> Plan:
    """Choose new masts among ``candidates`` to serve the most villages or people, given ``sites``.

    Parameters
    ----------
    sites, candidates, villages :
        Existing towers (path, table or ``None``), candidate masts (:func:`candidate_sites` or any
        sites table) and villages (as for :func:`coverage.run_villages`; ``hierarchy``, ``repair``).
    budget : float
        Number of new masts, or the total cost when ``cost`` is given.
    objective : {'blankspot_villages', 'covered_villages', 'population'}
        Fewest blankspot villages (most villages reaching ``blankspot_below`` usable share), most
        covered villages (``covered_from``), or most people with a usable signal (needs a
        population: the villages' column, or ``population``).
    terrain, model, radius_m, resolution_m, bounds, rx_height_m, model_params, technology, usable_dbm,
    blankspot_below, covered_from :
        The run's settings, the same as :func:`coverage.run_villages`'s (and its defaults).
    population : PopulationJoin, Series (by kode) or path to the census CSV, optional
        People per village (see :func:`coverage.io.population.read_population`).
    cost : str or sequence, optional
        Column of ``candidates`` (e.g. ``'cost'``) or one cost per candidate; default 1 each.
    solver : {'milp', 'greedy'}
    time_limit_s, mip_rel_gap : float
        HiGHS limits: the MILP stops at the time limit or once its proven relative gap is below
        ``mip_rel_gap`` (default :data:`MIP_REL_GAP`).
    workers : int, optional
        Processes for the coverage matrix (default 1).
    problem : PlanningProblem, optional
        From :func:`prepare_plan`: reuse its baseline and coverage matrix (the run's settings are
        then taken from it, not from the arguments).
    reassess : bool
        Re-run the chain (:func:`run_villages`) on existing + chosen sites for ``.villages`` (and
        check that its statuses equal the model's; a difference is warned about).

    Returns
    -------
    Plan
    """
    from ..thresholds import classify_status

    t_all = time.perf_counter()
    if objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {list(OBJECTIVES)}, got {objective!r}")
    if solver not in ("milp", "greedy"):
        raise InputError(f"solver must be 'milp' or 'greedy', got {solver!r}")
    if not (np.isfinite(budget) and budget > 0):
        raise InputError(f"budget must be a positive number (of masts, or of cost), got {budget}")
    if problem is None:
        problem = prepare_plan(sites=sites, candidates=candidates, villages=villages, terrain=terrain, model=model,
                               radius_m=radius_m, resolution_m=resolution_m, bounds=bounds,
                               rx_height_m=rx_height_m, model_params=model_params, technology=technology,
                               usable_dbm=usable_dbm, blankspot_below=blankspot_below, covered_from=covered_from,
                               population=population, workers=workers, hierarchy=hierarchy, repair=repair,
                               progress=progress)
    pb = problem
    s, v, cands, st = pb.sites, pb.villages, pb.candidates, pb.status_thresholds
    before, vc, usable_pair, cm = pb.before, pb.cells, pb.usable_pair, pb.matrix
    times = dict(pb.times)
    cvec = _cost_vector(cost, cands)
    t0 = time.perf_counter()
    pop = v["population"].to_numpy(float) if "population" in v.columns else np.full(len(v), np.nan)
    if objective == "population" and not np.any(np.isfinite(pop) & (pop > 0)):
        raise InputError("objective 'population' needs village populations: a 'population' column or population=")
    thr = st.blankspot_below if objective == "blankspot_villages" else st.covered_from
    mdl = _build_model(cm, vc, usable_pair, objective, thr, pop, cvec)
    times["model_s"] = round(time.perf_counter() - t0, 3)

    # ---- solve: greedy always (beside the MILP, and as its fallback)
    chosen, bound_gain, greedy, status, res = _solve(mdl, budget, objective, cost is None, solver, time_limit_s,
                                                     mip_rel_gap, times)
    greedy["chosen"] = cands["site_id"].iloc[greedy.pop("index")].tolist()
    base_sh = mdl.shares(np.zeros(mdl.n_groups, bool))
    v0 = mdl.value(base_sh)
    sh = mdl.shares(mdl.covered_by(chosen))
    val = mdl.value(sh)
    gain = val - v0
    # every candidate built at once is a valid (trivial) bound, for greedy too
    max_gain = mdl.value(mdl.shares(np.ones(mdl.n_groups, bool))) - v0
    bound_gain = max_gain if not np.isfinite(bound_gain) else min(bound_gain, max_gain)
    if objective != "population" and np.isfinite(bound_gain):
        bound_gain = math.floor(bound_gain + 1e-6)  # a count of villages
    if np.isfinite(bound_gain):
        bound_gain = max(bound_gain, gain)
        gap = (bound_gain - gain) / gain if gain > 0 else (0.0 if bound_gain <= 0 else np.inf)
    else:
        gap = np.nan
    b0, c0, p0 = _status_counts(mdl, base_sh, st)
    b1, c1, p1 = _status_counts(mdl, sh, st)
    n_ok = int(np.sum(mdl.tot > 0))
    bound = {"blankspot_villages": n_ok - (v0 + bound_gain), "covered_villages": v0 + bound_gain,
             "population": v0 + bound_gain}[objective] if np.isfinite(bound_gain) else np.nan

    # ---- the chosen sites in order, with their marginal numbers
    ch = _chosen_table(mdl, chosen, cands, cvec, st)

    # ---- the plan's village table: a re-run of the chain on existing + chosen sites
    meta = _plan_metadata(pb, mdl, budget, cost, status, res, time_limit_s, mip_rel_gap, objective, times)
    run = None
    table = before.copy()
    table["usable_share"] = sh
    table["status"] = classify_status(sh, st)
    if reassess:
        t0 = time.perf_counter()
        run = _rerun(s, ch, pb, progress)
        times["reassess_s"] = round(time.perf_counter() - t0, 3)
        mism = int(np.sum(run.table["status"].to_numpy() != table["status"].to_numpy()))
        meta["status_mismatches"] = mism
        if mism:
            warnings.warn(f"{mism} village statuses of the re-run differ from the plan's model (rounding at a "
                          f"threshold): .villages holds the re-run's", CoverageWarning, stacklevel=2)
        table = run.table
    times["total_s"] = round(time.perf_counter() - t_all, 3)
    return Plan(ch, table, objective, solver, b0, b1, c0, c1, p0, p1, val, float(bound), float(gap), greedy, meta, run)


def _cost_vector(cost, cands) -> np.ndarray:
    """One positive cost per candidate: 1 each, a column of ``cands``, or the given values."""
    if cost is None:
        cvec = np.ones(len(cands))
    elif isinstance(cost, str):
        if cost not in cands.columns:
            raise InputError(f"candidates have no cost column {cost!r}")
        cvec = pd.to_numeric(cands[cost], errors="coerce").to_numpy(float)
    else:
        cvec = np.asarray(cost, float)
        if cvec.shape != (len(cands),):
            raise InputError(f"cost must give one value per candidate ({len(cands)}), got {cvec.shape}")
    if not np.all(np.isfinite(cvec) & (cvec > 0)):
        raise InputError("every candidate cost must be a positive number")
    return cvec


def _solve(mdl: _Model, budget, objective, count_budget: bool, solver, time_limit_s, mip_rel_gap, times):
    """Greedy, then (``solver='milp'``) the MILP; the better plan and the best proven bound on the gain.

    Returns (chosen indices, gain bound or NaN, greedy summary, solver status, HiGHS result or None).
    """
    t0 = time.perf_counter()
    g_chosen = _greedy(mdl, float(budget))
    times["greedy_s"] = round(time.perf_counter() - t0, 3)
    v0 = mdl.value(mdl.shares(np.zeros(mdl.n_groups, bool)))
    g_val = mdl.value(mdl.shares(mdl.covered_by(g_chosen)))
    greedy = {"value": g_val, "gain": g_val - v0, "index": g_chosen, "seconds": times["greedy_s"]}
    status, res, chosen, bound_gain = "greedy", None, g_chosen, np.nan
    if objective == "population" and count_budget:
        bound_gain = (g_val - v0) / (1.0 - 1.0 / math.e)  # Nemhauser-Wolsey-Fisher
    if solver == "milp":
        t0 = time.perf_counter()
        m_chosen, m_bound, status, res = _milp(mdl, float(budget), time_limit_s, mip_rel_gap)
        times["milp_s"] = round(time.perf_counter() - t0, 3)
        if m_chosen is not None and mdl.value(mdl.shares(mdl.covered_by(m_chosen))) >= g_val:
            chosen = m_chosen
        if m_bound is not None and np.isfinite(m_bound):
            # the greedy bound (people) may be tighter than a time-limited MILP's
            bound_gain = m_bound if not np.isfinite(bound_gain) else min(bound_gain, m_bound)
    return chosen, bound_gain, greedy, status, res


def _chosen_table(mdl: _Model, chosen, cands, cvec, st) -> pd.DataFrame:
    """The chosen candidates in greedy order with rank, cost and marginal numbers."""
    order, steps = _order(mdl, chosen, st)
    ch = cands.iloc[order].copy()
    ch.insert(0, "rank", np.arange(1, len(order) + 1))
    ch["cost"] = cvec[order]
    ch["gain"] = [x[0] for x in steps]
    ch["villages_newly_served"] = [x[1] for x in steps]
    ch["villages_newly_covered"] = [x[2] for x in steps]
    ch["people_newly_served"] = [x[3] for x in steps]
    return ch.reset_index(drop=True)


def _rerun(s, ch, pb: PlanningProblem, progress):
    """:func:`run_villages` on existing + chosen sites with the problem's settings."""
    from .run import run_villages

    after = ch if s is None else pd.concat([s, ch[[c for c in s.columns if c in ch.columns]]], ignore_index=True)
    after = normalize_sites(pd.DataFrame(after.drop(columns="geometry")), source="plan")
    st = pb.status_thresholds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        return run_villages(after, pb.villages, terrain=pb.terrain, model=pb.model, technologies=[pb.technology],
                            bounds=pb.bounds, resolution_m=pb.resolution_m, radius_m=pb.radius_m,
                            rx_height_m=pb.rx_height_m, model_params=pb.model_params, usable_dbm=pb.usable_dbm,
                            blankspot_below=st.blankspot_below, covered_from=st.covered_from, progress=progress)


def _plan_metadata(pb: PlanningProblem, mdl: _Model, budget, cost, status, res, time_limit_s, mip_rel_gap,
                   objective, times) -> dict:
    """Settings, sizes, solver status and times of a plan."""
    cm, st, s = pb.matrix, pb.status_thresholds, pb.sites
    return {
        "model": pb.model, "candidate_models": {k: pb.candidate_models.count(k) for k in set(pb.candidate_models)},
        "model_params": pb.params, "technology": pb.technology, "usable_dbm": pb.usable_dbm,
        "radius_m": pb.radius_m, "resolution_m": None if pb.terrain is not None else pb.resolution_m,
        "has_terrain": pb.terrain is not None, "budget": float(budget), "cost": "count" if cost is None else "cost",
        "n_candidates": len(pb.candidates), "n_existing_sites": 0 if s is None else len(s),
        "n_villages": len(pb.villages), "n_open_cells": int(cm.open_cells.size), "n_groups": int(mdl.n_groups),
        "matrix_nnz": int(cm.matrix.nnz), "cell_evaluations": int(cm.cell_evaluations), "workers": cm.workers,
        "solver_status": str(status), "time_limit_s": float(time_limit_s), "mip_rel_gap": float(mip_rel_gap),
        "milp_gap_highs": None if res is None or getattr(res, "mip_gap", None) is None else float(res.mip_gap),
        "status_thresholds": {"blankspot_below": st.blankspot_below, "covered_from": st.covered_from},
        "greedy_guarantee": ("(1-1/e) of the optimum (population, count budget: submodular)"
                             if objective == "population" and cost is None else
                             "none on a village count (threshold objective, not submodular); greedy runs on "
                             "the submodular surrogate sum min(1, share/threshold)"),
        "times": times}
