"""Assess villages against a coverage result: exact-area cell fractions, statistics, status.

:func:`assess_villages` reads only the arrays of a :class:`~coverage.CoverageResult` (never the numba
kernels): every grid cell counts by the exact fraction of it that lies inside the village polygon
(rasterio finds the cells, shapely computes the partial ones), so a village narrower than one cell
still gets a value. Cells the result marks NaN (no site reaches) count as no signal.
"""

from __future__ import annotations

import math
import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import CoverageWarning, InputError
from ..io.villages import read_villages
from ..progress import progress as _progress
from ..thresholds import (
    DEFAULT_SHADOWING_SIGMA_DB,
    STATUS_THRESHOLDS,
    USABLE_DBM,
    SignalClasses,
    StatusThresholds,
    classify_signal,
    classify_status,
    signal_classes,
)

__all__ = ["assess_villages", "cell_fractions", "coverage_probability", "combine_tables"]

#: Authalic radius of the WGS84 ellipsoid (m): the sphere of the same area, for cell areas in degrees.
_R_AUTHALIC = 6_371_007.2

# ---------------------------------------------------------------------------------------------
# exact-area cell fractions


def cell_fractions(geom, transform, shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of a grid that a polygon covers, with the covered fraction of each cell.

    Parameters
    ----------
    geom : shapely Polygon or MultiPolygon
        In the grid's CRS.
    transform : affine.Affine
        North-up grid transform (``e < 0``).
    shape : (rows, cols)

    Returns
    -------
    rows, cols : int ndarrays
    fraction : float ndarray
        Area of cell ∩ polygon divided by the cell's area (0..1], in the grid's coordinates.

    Notes
    -----
    rasterio (GDAL) finds the cells the polygon touches and those its boundary crosses (``all_touched``);
    cells touched but not crossed lie wholly inside (fraction 1); the crossed ones get their exact
    intersection area from shapely (the polygon is first clipped to the cell row, so each cell
    intersects a small strip, not the whole polygon). The fractions must add up to the polygon's area
    inside the grid; if they do not (a boundary running exactly along a cell edge that GDAL did not
    burn), the crossed cells are widened by one cell and computed again. So the sum of fractions ×
    cell area equals the polygon's area inside the grid to floating-point rounding.
    """
    import shapely
    from affine import Affine
    from rasterio.features import rasterize
    from scipy import ndimage

    a, e = transform.a, transform.e
    if not (transform.b == 0 and transform.d == 0 and a > 0 and e < 0):
        raise InputError("cell_fractions needs a north-up grid (no rotation, e < 0)")
    nrows, ncols = shape
    minx, miny, maxx, maxy = geom.bounds
    c0 = max(int(math.floor((minx - transform.c) / a)) - 1, 0)
    c1 = min(int(math.ceil((maxx - transform.c) / a)) + 1, ncols)
    r0 = max(int(math.floor((maxy - transform.f) / e)) - 1, 0)
    r1 = min(int(math.ceil((miny - transform.f) / e)) + 1, nrows)
    empty = (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    if c0 >= c1 or r0 >= r1:
        return empty
    h, w = r1 - r0, c1 - c0
    wt = transform @ Affine.translation(c0, r0)
    touched = rasterize([(geom, 1)], out_shape=(h, w), transform=wt, all_touched=True, fill=0,
                        dtype="uint8").astype(bool)
    edge0 = rasterize([(geom.boundary, 1)], out_shape=(h, w), transform=wt, all_touched=True, fill=0,
                      dtype="uint8").astype(bool)
    # exact only if every cell the boundary crosses was burnt: check the areas add up, and widen the
    # boundary by one cell (a line running exactly along a cell edge) when they do not
    expected = shapely.area(shapely.clip_by_rect(geom, *_window_bounds(wt, h, w))) / (a * -e)
    for widen in (False, True):
        edge = ndimage.binary_dilation(edge0, structure=np.ones((3, 3), bool)) if widen else edge0
        rows, cols, frac = _fractions(geom, wt, touched & ~edge, edge, a, e)
        if abs(frac.sum() - expected) <= 1e-6 * max(expected, 1.0):
            break
    rows, cols = rows + r0, cols + c0
    keep = frac > 0
    return rows[keep], cols[keep], frac[keep]


def _window_bounds(wt, h, w):
    return wt.c, wt.f + h * wt.e, wt.c + w * wt.a, wt.f


def _fractions(geom, wt, inner, edge, a, e):
    """Cells of ``inner`` (fraction 1) and exact fractions of the cells of ``edge`` (window indices)."""
    import shapely

    er, ec = np.nonzero(edge)
    frac_edge = np.zeros(er.size)
    if er.size == 0:  # the polygon misses the window (its bounding box overlaps it, the polygon does not)
        ir, ic = np.nonzero(inner)
        return ir, ic, np.ones(ir.size)
    # Clip the polygon to one row of cells first (GEOS clip_by_rect, linear in its vertices), then
    # intersect that row's cells with the small strip: a cell never pays for the whole polygon.
    order = np.argsort(er, kind="stable")
    er, ec = er[order], ec[order]
    starts = np.flatnonzero(np.r_[True, er[1:] != er[:-1]])
    ends = np.r_[starts[1:], er.size]
    for s0, s1 in zip(starts, ends):
        y_top = wt.f + er[s0] * e
        xs = wt.c + ec[s0:s1] * a
        strip = shapely.clip_by_rect(geom, float(xs.min()), y_top + e, float(xs.max()) + a, y_top)
        if strip.is_empty:
            continue
        boxes = shapely.box(xs, y_top + e, xs + a, y_top)
        frac_edge[s0:s1] = shapely.area(shapely.intersection(boxes, strip)) / (a * -e)
    ir, ic = np.nonzero(inner)
    rows = np.concatenate([ir, er])
    cols = np.concatenate([ic, ec])
    frac = np.concatenate([np.ones(ir.size), np.minimum(frac_edge, 1.0)])
    return rows, cols, frac


def _cell_area_m2(transform, crs, rows: np.ndarray) -> np.ndarray:
    """True area (m²) of the cells in ``rows``: spherical (authalic radius) for lon/lat grids."""
    if crs.is_geographic:
        lat_top = np.radians(transform.f + rows * transform.e)
        lat_bot = np.radians(transform.f + (rows + 1) * transform.e)
        return _R_AUTHALIC ** 2 * math.radians(transform.a) * np.abs(np.sin(lat_top) - np.sin(lat_bot))
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return np.full(rows.shape, abs(transform.a * transform.e) * unit * unit)


def _wquantiles(values: np.ndarray, weights: np.ndarray, qs) -> list[float]:
    """Weighted quantiles (lower value at the quantile of cumulative weight); -inf/NaN -> NaN."""
    if values.size == 0 or not np.sum(weights) > 0:
        return [np.nan] * len(qs)
    v = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(v, kind="stable")
    v, w = v[order], weights[order]
    cum = np.cumsum(w) / np.sum(w)
    out = []
    for q in qs:
        i = min(int(np.searchsorted(cum, q - 1e-12, side="left")), v.size - 1)
        out.append(float(v[i]) if np.isfinite(v[i]) else np.nan)
    return out


def coverage_probability(signal_dbm, threshold_dbm: float, sigma_db: float = DEFAULT_SHADOWING_SIGMA_DB):
    """Probability that the signal reaches ``threshold_dbm`` under log-normal shadowing.

    P = ½ erfc((T − S) / (σ √2)), with S the predicted median signal (dBm), T the threshold (dBm) and
    σ the shadowing standard deviation (dB). NaN signal (no site reaches) gives 0.
    """
    from scipy.special import erfc

    if not (np.isfinite(sigma_db) and sigma_db > 0):
        raise InputError(f"sigma_db must be a positive standard deviation in dB, got {sigma_db}")
    s = np.asarray(signal_dbm, dtype=float)
    p = 0.5 * erfc((float(threshold_dbm) - s) / (float(sigma_db) * math.sqrt(2.0)))
    return np.where(np.isnan(s), 0.0, p)


# ---------------------------------------------------------------------------------------------
# assessment


def _nearest_sites(lon, lat, slon, slat) -> tuple[np.ndarray, np.ndarray]:
    """Index of and great-circle distance (m) to the nearest site, via a k-d tree on the unit sphere."""
    from scipy.spatial import cKDTree

    def xyz(lo, la):
        lo, la = np.radians(lo), np.radians(la)
        return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])

    tree = cKDTree(xyz(slon, slat))
    chord, idx = tree.query(xyz(lon, lat))
    return idx, 2.0 * _R_AUTHALIC * np.arcsin(np.clip(chord / 2.0, 0, 1))


def _population_raster(path_or_tuple, bounds_lonlat):
    """(array, transform, crs) of a population raster (people per cell), read around the villages."""
    import rasterio
    from pyproj import CRS
    from rasterio.windows import from_bounds

    if isinstance(path_or_tuple, tuple):
        arr, transform, crs = path_or_tuple
        return np.asarray(arr, dtype=float), transform, CRS.from_user_input(crs)
    with rasterio.open(path_or_tuple) as src:
        crs = CRS.from_user_input(src.crs.to_wkt()) if src.crs else CRS.from_epsg(4326)
        if crs.is_geographic:
            win = from_bounds(*bounds_lonlat, transform=src.transform).round_offsets().round_lengths()
            win = win.intersection(rasterio.windows.Window(0, 0, src.width, src.height))
        else:
            win = rasterio.windows.Window(0, 0, src.width, src.height)
        arr = src.read(1, window=win, masked=True).astype(float).filled(0.0)
        transform = src.window_transform(win)
    arr[~np.isfinite(arr) | (arr < 0)] = 0.0
    return arr, transform, crs


def assess_villages(villages, result, technology: str | None = None, *, usable_dbm: float | None = None,
                    classes: SignalClasses | Mapping | None = None,
                    status_thresholds: StatusThresholds | None = None, blankspot_below: float | None = None,
                    covered_from: float | None = None, sigma_db: float = DEFAULT_SHADOWING_SIGMA_DB,
                    population_raster=None, progress: bool | None = None, _cache: dict | None = None):
    """Per-village coverage statistics and status from a coverage result.

    A pipeline of named steps: cells per village (:func:`village_cells`) -> area statistics
    (:func:`area_statistics`) -> point villages -> population -> servers -> status and table.

    Parameters
    ----------
    villages : GeoDataFrame or path
        From :func:`read_villages` (a path is read with it).
    result : CoverageResult
        From :func:`coverage.predict`; only its arrays, grid and sites are read.
    technology : {'2g', '3g', '4g', '5g'}, optional
        Must match the result's (its metric decides which thresholds apply); default the result's.
    usable_dbm : float, optional
        Weakest usable signal (dBm); default :data:`coverage.thresholds.USABLE_DBM` of the technology.
    classes : SignalClasses or dict, optional
        Bounds of good / fair / weak (default :data:`coverage.thresholds.SIGNAL_CLASSES`).
    status_thresholds, blankspot_below, covered_from :
        Status from the usable share (defaults: blankspot below 0.10, covered from 0.90).
    sigma_db : float
        Log-normal shadowing standard deviation for the coverage probabilities (dB, default 8).
    population_raster : path or (array, transform, crs), optional
        People per cell; gives ``population_share`` weighted by where people live.
    progress : bool, optional
        Progress bar over the villages (after 2 s); default: only in an interactive session.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per village, in input order, with the input columns and: ``signal_dbm`` (at the
        representative point: a point inside the polygon, or the given point), ``signal_class``,
        ``p10_dbm``/``p50_dbm``/``p90_dbm`` (area-weighted; NaN = no signal), ``usable_share`` (0..1
        of the area inside the grid; 0/1 for point villages), ``share_good/fair/weak/none``,
        ``p_cover_point`` and ``p_cover_area`` (coverage probability under shadowing),
        ``population_share``, ``population_covered``, ``area_km2``, ``extent_share``,
        ``outside_extent``, ``best_server``/``best_server_km``, ``nearest_site``/``nearest_site_km``,
        ``status`` (covered / partial / blankspot; 'unassessed' when no cell of the grid lies in the
        village, even where its bounding box overlaps the grid), ``technology``, ``model``,
        ``has_terrain``. ``attrs`` carries the thresholds and the result's metadata (terrain, model, towers).
    """
    import shapely

    v, tech, T, cls, st = _assessment_inputs(villages, result, technology, usable_dbm, classes, status_thresholds,
                                             blankspot_below, covered_from)
    geoms = v.geometry.values
    is_point = shapely.get_type_id(geoms) == 0
    # the signal at the village point: a point inside the polygon, or the given point
    pts = np.where(is_point, geoms, shapely.point_on_surface(geoms))
    plon, plat = shapely.get_x(pts), shapely.get_y(pts)
    sig = result.sample(plon, plat, "best_dbm").astype(float)
    srv = result.sample(plon, plat, "best_server").astype(int)

    cells = village_cells(geoms, is_point, result, cache=_cache, progress=progress)
    stats = area_statistics(cells, np.asarray(result.best_dbm, dtype=float), len(v), T, cls, sigma_db)
    r_pt, c_pt = result._rowcol(plon, plat)
    in_grid_pt = (r_pt >= 0) & (r_pt < result.shape[0]) & (c_pt >= 0) & (c_pt < result.shape[1])
    _point_statistics(stats, is_point, sig, in_grid_pt, T, cls, sigma_db)
    pop, pop_share, pop_basis = _population(v, geoms, is_point, stats["usable_share"], result, T, population_raster)
    servers = _servers(result.sites, srv, plon, plat)

    out = villages.copy()
    out["point_lon"], out["point_lat"] = plon, plat
    out["signal_dbm"] = sig
    out["signal_class"] = classify_signal(sig, tech, cls)
    for k in ("p10_dbm", "p50_dbm", "p90_dbm", "usable_share", "share_good", "share_fair", "share_weak",
              "share_none"):
        out[k] = stats[k]
    out["p_cover_point"] = np.where(in_grid_pt, coverage_probability(sig, T, sigma_db), np.nan)
    out["p_cover_area"] = stats["p_cover_area"]
    out["population_share"] = np.where(np.isfinite(pop), pop_share, np.nan)
    out["population_covered"] = pop * pop_share
    out["population_basis"] = pop_basis
    out["area_km2"] = stats["area_km2"]
    out["extent_share"] = stats["extent_share"]
    out["outside_extent"] = ~(stats["extent_share"] >= 0.999)
    for k, col in servers.items():
        out[k] = col
    out["status"] = classify_status(stats["usable_share"], st)
    out["technology"] = tech
    out["model"] = result.model
    out["has_terrain"] = bool(result.has_terrain)
    _warn_outside(out, stats["extent_share"], result)
    out.attrs = dict(villages.attrs)
    out.attrs.update(_assessment_attrs(result, tech, T, cls, st, sigma_db))
    return out


def _assessment_inputs(villages, result, technology, usable_dbm, classes, status_thresholds, blankspot_below,
                       covered_from):
    """(villages in EPSG:4326, technology, usable level, classes, status thresholds), checked."""
    import geopandas as gpd

    if not isinstance(villages, gpd.GeoDataFrame):
        villages = read_villages(villages)
    if len(villages) == 0:
        raise InputError("no villages to assess")
    if "kode" not in villages.columns:
        raise InputError("villages need a 'kode' column: read them with coverage.read_villages")
    missing = [a for a in ("best_dbm", "transform", "crs", "sites", "sample") if not hasattr(result, a)]
    if missing:
        raise InputError(f"result must be a CoverageResult (coverage.predict), got {type(result).__name__} "
                         f"without {missing}")
    rtech = str(getattr(result, "technology", "4g")).lower()
    tech = rtech if technology is None else str(technology).lower()
    if tech != rtech:
        hint = (" (the result combines technologies on total received power: predict with technology="
                f"{tech!r})" if rtech == "mixed" else "")
        raise InputError(f"technology {tech!r} does not match the result's {rtech!r} ({result.metric}){hint}")
    if tech not in USABLE_DBM and usable_dbm is None:
        raise InputError(f"technology {tech!r} has no usable level: give usable_dbm")
    try:
        T = float(USABLE_DBM[tech] if usable_dbm is None else usable_dbm)
    except (TypeError, ValueError):
        T = float("nan")
    if not np.isfinite(T):
        raise InputError(f"usable_dbm must be a finite level in dBm, got {usable_dbm!r}")
    cls = signal_classes(tech, classes)
    st = status_thresholds or StatusThresholds(
        STATUS_THRESHOLDS.blankspot_below if blankspot_below is None else float(blankspot_below),
        STATUS_THRESHOLDS.covered_from if covered_from is None else float(covered_from))
    v = villages.to_crs("EPSG:4326") if villages.crs is not None and not villages.crs.equals("EPSG:4326") else villages
    return v, tech, T, cls, st


def village_cells(geoms, is_point, result, *, cache: dict | None = None, progress: bool | None = None) -> dict:
    """Cells per polygon village: ``{i: (area_km2, extent_share, rows, cols, weight_m2)}``.

    ``weight_m2`` is each cell's area inside the village (exact fraction x true cell area). The
    weights depend only on the grid: a run assessing several technologies on one grid passes a
    ``cache`` (keyed by the grid) and computes them once. A village with no cell (outside the grid,
    or only its bounding box overlapping it) has empty arrays.
    """
    import geopandas as gpd
    import shapely
    from pyproj import CRS, Geod

    rcrs = CRS.from_user_input(result.crs)
    tr, shape = result.transform, result.shape
    key = (tuple(tr)[:6], tuple(shape), rcrs.to_wkt())
    cached = None if cache is None else cache.get(key)
    if cached is not None:
        return cached
    g_grid = geoms if rcrs.is_geographic else np.asarray(gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(rcrs).values)
    grid_box = shapely.box(*result.bounds)
    geod = Geod(ellps="WGS84")
    cells = {}
    for i in _progress(range(len(geoms)), enabled=progress, total=len(geoms), desc="villages", unit="village"):
        if is_point[i]:
            continue
        g = g_grid[i]
        # pyproj sums signed ring areas: orient rings (exterior CCW, holes CW) so holes subtract
        area_km2 = abs(geod.geometry_area_perimeter(shapely.orient_polygons(geoms[i]))[0]) / 1e6
        ext = shapely.area(shapely.intersection(g, grid_box)) / shapely.area(g) if shapely.area(g) > 0 else 0.0
        rr, cc, frac = cell_fractions(g, tr, shape)
        cells[i] = (area_km2, ext, rr, cc, frac * _cell_area_m2(tr, rcrs, rr))
    if cache is not None:
        cache[key] = cells
    return cells


_STAT_COLUMNS = ("p10_dbm", "p50_dbm", "p90_dbm", "usable_share", "share_good", "share_fair", "share_weak",
                 "share_none", "p_cover_area", "area_km2", "extent_share")


def area_statistics(cells: dict, best: np.ndarray, n: int, usable_dbm: float, cls, sigma_db: float) -> dict:
    """Area-weighted statistics of each polygon village from its cells (NaN where it has none)."""
    out = {k: np.full(n, np.nan) for k in _STAT_COLUMNS}
    for i, (area_km2, ext, rr, cc, w) in cells.items():
        out["area_km2"][i] = area_km2
        out["extent_share"][i] = ext
        if rr.size == 0 or not w.sum() > 0:
            continue
        vals = best[rr, cc]
        tot = w.sum()
        sv = np.where(np.isnan(vals), -np.inf, vals)
        out["usable_share"][i] = w[sv >= usable_dbm].sum() / tot
        out["share_good"][i] = w[sv >= cls.good_dbm].sum() / tot
        out["share_fair"][i] = w[(sv >= cls.fair_dbm) & (sv < cls.good_dbm)].sum() / tot
        out["share_weak"][i] = w[(sv >= cls.weak_dbm) & (sv < cls.fair_dbm)].sum() / tot
        out["share_none"][i] = w[sv < cls.weak_dbm].sum() / tot
        out["p10_dbm"][i], out["p50_dbm"][i], out["p90_dbm"][i] = _wquantiles(vals, w, (0.1, 0.5, 0.9))
        out["p_cover_area"][i] = float(np.sum(w * coverage_probability(vals, usable_dbm, sigma_db)) / tot)
    return out


def _point_statistics(stats: dict, is_point, sig, in_grid_pt, T, cls, sigma_db) -> None:
    """Point villages: the point is the village (shares 0/1, quantiles = the point's signal)."""
    for k in ("p10_dbm", "p50_dbm", "p90_dbm"):
        stats[k] = np.where(is_point, sig, stats[k])
    sv = np.where(np.isnan(sig), -np.inf, sig)
    for k, m in (("usable_share", sv >= T), ("share_good", sv >= cls.good_dbm),
                 ("share_fair", (sv >= cls.fair_dbm) & (sv < cls.good_dbm)),
                 ("share_weak", (sv >= cls.weak_dbm) & (sv < cls.fair_dbm)), ("share_none", sv < cls.weak_dbm)):
        stats[k] = np.where(is_point, np.where(in_grid_pt, m.astype(float), np.nan), stats[k])
    p_point = coverage_probability(sig, T, sigma_db)
    stats["p_cover_area"] = np.where(is_point, np.where(in_grid_pt, p_point, np.nan), stats["p_cover_area"])
    stats["extent_share"] = np.where(is_point, in_grid_pt.astype(float), stats["extent_share"])


def _population(v, geoms, is_point, usable_share, result, T, population_raster):
    """(population, covered share of it, basis 'uniform'/'raster'/'none') of each village."""
    import geopandas as gpd
    from pyproj import Transformer

    n = len(v)
    pop = v["population"].to_numpy(dtype=float) if "population" in v.columns else np.full(n, np.nan)
    pop_share = np.array(usable_share, dtype=float)  # uniform density within a village unless a raster says
    pop_basis = np.where(np.isfinite(pop), "uniform", "none").astype(object)
    if population_raster is None:
        return pop, pop_share, pop_basis
    pop_raster_total = np.full(n, np.nan)
    parr, ptr, pcrs = _population_raster(population_raster, tuple(v.total_bounds))
    g_pop = geoms if pcrs.is_geographic else np.asarray(gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(pcrs).values)
    to_ll = None if pcrs.is_geographic else Transformer.from_crs(pcrs, "EPSG:4326", always_xy=True)
    for i in range(n):
        if is_point[i]:
            continue
        rr, cc, frac = cell_fractions(g_pop[i], ptr, parr.shape)
        if rr.size == 0:
            continue
        people = frac * parr[rr, cc]
        x, y = ptr @ (cc + 0.5, rr + 0.5)
        if to_ll is not None:
            x, y = to_ll.transform(x, y)
        s = result.sample(x, y, "best_dbm")
        pop_raster_total[i] = people.sum()
        if people.sum() > 0:
            pop_share[i] = people[np.nan_to_num(s, nan=-np.inf) >= T].sum() / people.sum()
            pop_basis[i] = "raster"
    return np.where(np.isfinite(pop), pop, pop_raster_total), pop_share, pop_basis


def _servers(sites, srv, plon, plat) -> dict:
    """Best server and nearest site (ids and km) of each village point."""
    from pyproj import Geod

    n = len(srv)
    site_ids = sites["site_id"].astype(str).to_numpy() if "site_id" in sites.columns else np.array([], str)
    best_id = np.array([site_ids[j] if 0 <= j < site_ids.size else None for j in srv], dtype=object)
    best_km = np.full(n, np.nan)
    near_id = np.full(n, None, dtype=object)
    near_km = np.full(n, np.nan)
    if {"lon", "lat"} <= set(sites.columns) and len(sites):
        slon, slat = sites["lon"].to_numpy(float), sites["lat"].to_numpy(float)
        ok = (srv >= 0) & (srv < slon.size)
        if ok.any():
            _, _, d = Geod(ellps="WGS84").inv(plon[ok], plat[ok], slon[srv[ok]], slat[srv[ok]])
            best_km[ok] = np.asarray(d) / 1e3
        j, d = _nearest_sites(plon, plat, slon, slat)
        near_id = site_ids[j].astype(object)
        near_km = d / 1e3
    return {"best_server": best_id, "best_server_km": best_km, "nearest_site": near_id, "nearest_site_km": near_km}


def _warn_outside(out, extent_share, result) -> None:
    outside = out["outside_extent"].to_numpy()
    if not outside.any():
        return
    codes = out.loc[outside, "kode"].tolist()
    unassessed = int((out["status"] == "unassessed").sum())
    warnings.warn(f"{int(outside.sum())} of {len(out)} villages lie partly or wholly outside the coverage extent "
                  f"{tuple(round(b, 4) for b in result.bounds)} ({unassessed} with no cell in it: status "
                  f"'unassessed'): {codes[:8]}{' ...' if len(codes) > 8 else ''}; flagged in 'outside_extent', kept",
                  CoverageWarning, stacklevel=3)


def _assessment_attrs(result, tech, T, cls, st, sigma_db) -> dict:
    meta = dict(result.metadata)
    sites = result.sites
    return {
        "technology": tech, "metric": result.metric, "model": result.model, "usable_dbm": T,
        "signal_classes": {"good_dbm": cls.good_dbm, "fair_dbm": cls.fair_dbm, "weak_dbm": cls.weak_dbm,
                           "source": cls.source},
        "status_thresholds": {"blankspot_below": st.blankspot_below, "covered_from": st.covered_from},
        "sigma_db": float(sigma_db), "has_terrain": bool(result.has_terrain),
        "terrain": meta.get("terrain", {"has_terrain": bool(result.has_terrain)}),
        "result_metadata": meta, "n_sites": int(len(sites)),
        "sites_source": sites.attrs.get("source") if hasattr(sites, "attrs") else None,
    }


def combine_tables(tables: Sequence) -> "pd.DataFrame":
    """Concatenate village tables of one technology and one terrain setting.

    Raises :class:`InputError` when the tables mix terrain and smooth-earth (no terrain) results, or
    technologies, or repeat a village code: such numbers are not comparable and must not be mixed
    silently.
    """
    import geopandas as gpd

    tables = list(tables)
    if not tables:
        raise InputError("no tables to combine")
    _check_uniform(pd.concat([pd.DataFrame({"has_terrain": t["has_terrain"], "technology": t["technology"]})
                              for t in tables]))
    out = pd.concat(tables, ignore_index=True)
    dup = out["kode"].duplicated()
    if dup.any():
        raise InputError(f"village {out.loc[dup, 'kode'].iloc[0]!r} appears in more than one table")
    out = gpd.GeoDataFrame(out, geometry=tables[0].geometry.name, crs=tables[0].crs)
    out.attrs = dict(tables[0].attrs)
    return out


def _as_bool(values) -> pd.Series:
    """Booleans, also from the 'True'/'False' text of a table read back from CSV."""
    s = pd.Series(values)
    if s.dtype == bool:
        return s
    return s.map(lambda x: str(x).strip().lower() in ("true", "1", "yes"))


def _check_uniform(table) -> None:
    """Refuse a table that mixes terrain and no-terrain rows, or technologies."""
    if "has_terrain" in table.columns:
        flags = set(_as_bool(table["has_terrain"]).unique().tolist())
        if len(flags) > 1:
            raise InputError("the village tables mix results with terrain and results without terrain (smooth "
                             "earth); they are not comparable — assess them separately")
    if "technology" in table.columns:
        techs = set(pd.Series(table["technology"]).astype(str).unique().tolist())
        if len(techs) > 1:
            raise InputError(f"the village tables mix technologies {sorted(techs)}; combine one technology at "
                             f"a time (coverage.indicator_by_technology compares them)")
