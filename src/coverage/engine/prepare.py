"""Run preparation shared by :func:`coverage.predict` and the tiled engine: checks and
normalisation, site positions on the grid, the smooth-earth grid, and the per-site loop that folds
every site into best-signal / best-server arrays (:func:`_accumulate`)."""



from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS, Transformer

from ..errors import InputError, TerrainExtentError
from ..io.sites import METRICS, metric_offset_db, normalize_sites, read_sites
from ..io.terrain import WGS84_A, WGS84_E2, Terrain, earth_radii_m
from ..progress import is_interactive as _interactive  # noqa: F401  (used by tiles)
from ..progress import progress as _progress
from ..propagation import ProfileModel, get_model
from ..thresholds import USABLE_DBM
from . import _kernels as K
from .sweep import Grid, SiteGeometry

log = logging.getLogger(__name__)



def _as_sites(sites):
    if isinstance(sites, pd.DataFrame):
        if {"site_id", "lon", "lat", "height_m", "freq_mhz", "eirp_dbm", "technology"} <= set(sites.columns) \
                and "geometry" in sites.columns:
            return sites.reset_index(drop=True)
        return normalize_sites(sites)
    return read_sites(sites)


def _grid_without_terrain(bounds, resolution_m, crs) -> Grid:
    lon_min, lat_min, lon_max, lat_max = bounds
    if crs is None or CRS.from_user_input(crs).is_geographic:
        m_rad, _ = earth_radii_m(0.5 * (lat_min + lat_max))
        dlat = math.degrees(resolution_m / m_rad)
        dlon = dlat  # square cells in degrees; metres differ by cos(lat), handled by the kernels
        cols = max(int(math.ceil((lon_max - lon_min) / dlon)), 1)
        rows = max(int(math.ceil((lat_max - lat_min) / dlat)), 1)
        transform = Affine(dlon, 0, lon_min, 0, -dlat, lat_max)
        return Grid(np.zeros((rows, cols), np.float32), transform, CRS.from_epsg(4326), True)
    crs = CRS.from_user_input(crs)
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xs, ys = tr.transform([lon_min, lon_max, lon_min, lon_max], [lat_min, lat_min, lat_max, lat_max])
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    cols = max(int(math.ceil((x1 - x0) / resolution_m)), 1)
    rows = max(int(math.ceil((y1 - y0) / resolution_m)), 1)
    return Grid(np.zeros((rows, cols), np.float32), Affine(resolution_m, 0, x0, 0, -resolution_m, y1), crs, False)


def _smooth_earth_grid(m, sites, bounds, radius_m, resolution_m, crs):
    """The grid of a run without terrain (ground at 0 m) and its terrain metadata."""
    if isinstance(m, ProfileModel):
        raise InputError(f"model {m.name!r} needs terrain; without a DEM use 'hata', 'cost231' or 'fspl'")
    if bounds is None:
        bounds = _sites_bounds(sites, radius_m)
    res = 100.0 if resolution_m is None else float(resolution_m)
    if not res > 0:
        raise InputError(f"resolution_m must be positive, got {resolution_m}")
    return (_grid_without_terrain(bounds, res, crs),
            {"has_terrain": False, "note": "no terrain: smooth earth, ground at 0 m everywhere"})


def _sites_bounds(sites, radius_m) -> tuple[float, float, float, float]:
    lat = sites["lat"].to_numpy()
    lon = sites["lon"].to_numpy()
    dlat = radius_m / 110_574.0
    dlon = radius_m / (111_320.0 * max(math.cos(math.radians(float(np.max(np.abs(lat))))), 0.05))
    return float(lon.min() - dlon), float(lat.min() - dlat), float(lon.max() + dlon), float(lat.max() + dlat)


def _prepare(model, model_params, radius_m, rx_height_m, sites, technology, server_threshold_dbm):
    """Checks and normalisation shared by :func:`predict` and the tiled engine.

    Returns the model, its parameters, the (filtered) sites, the technology ('mixed' for several),
    the metric name and the server threshold.
    """
    m = get_model(model)
    params = m.params(model_params)
    if not (np.isfinite(radius_m) and radius_m > 0):
        raise InputError(f"radius_m must be a positive number of metres, got {radius_m}")
    if not (np.isfinite(rx_height_m) and rx_height_m > 0):
        raise InputError(f"rx_height_m must be a positive height above ground (m), got {rx_height_m}")
    sites = _as_sites(sites)
    if technology is not None:
        tech = str(technology).lower()
        if tech not in METRICS:
            raise InputError(f"technology must be one of {sorted(METRICS)}, got {technology!r}")
        n_all = len(sites)
        sites = sites[sites["technology"] == tech].reset_index(drop=True)
        if len(sites) == 0:
            raise InputError(f"no {tech} sites among the {n_all} given")
    techs = sorted(set(sites["technology"]))
    tech = techs[0] if len(techs) == 1 else "mixed"
    metric = METRICS.get(tech, "rx_power_dbm")
    threshold = USABLE_DBM[tech] if server_threshold_dbm is None else float(server_threshold_dbm)
    return m, params, sites, tech, metric, threshold


def _site_positions(sites, transform, crs, shape):
    """Grid coordinates (x, y), fractional full-grid (row, col) and on-grid flags of the sites."""
    lon = sites["lon"].to_numpy(float)
    lat = sites["lat"].to_numpy(float)
    if CRS.from_user_input(crs).is_geographic:
        sx, sy = lon, lat
    else:
        sx, sy = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    sx, sy = np.asarray(sx, float), np.asarray(sy, float)
    col_f = (sx - transform.c) / transform.a - 0.5
    row_f = (sy - transform.f) / transform.e - 0.5
    inside = (row_f >= -0.5) & (row_f <= shape[0] - 0.5) & (col_f >= -0.5) & (col_f <= shape[1] - 0.5)
    return sx, sy, row_f, col_f, inside


def _require_inside(sites, inside, terrain) -> None:
    """With terrain every site must lie on it: raise naming the first one outside (and a swap hint)."""
    if inside.all():
        return
    i = int(np.flatnonzero(~inside)[0])
    lon, lat = float(sites["lon"].iloc[i]), float(sites["lat"].iloc[i])
    hint = ""
    if isinstance(terrain, Terrain):
        if terrain.contains(lat, lon).item():
            hint = " (its lat/lon swapped would be inside: are the columns swapped?)"
        where = f"the terrain {tuple(round(b, 5) for b in terrain.bounds_lonlat)}"
    else:
        where = "the terrain grid"
    raise TerrainExtentError(
        f"site {sites['site_id'].iloc[i]!r} (row {i + 1}) at lon={lon}, lat={lat} lies outside {where}{hint}; "
        f"{int((~inside).sum())} of {len(sites)} sites are outside")


def _check_validity(m, sites, rx_height_m, radius_m, extrapolate, cell_min_m) -> None:
    for f in np.unique(sites["freq_mhz"]):
        sel = sites["freq_mhz"] == f
        m.check(freq_mhz=float(f), h_tx_m=sites.loc[sel, "height_m"].to_numpy(), h_rx_m=rx_height_m,
                extrapolate=extrapolate, where=f"{int(sel.sum())} sites at {f:g} MHz")
    m.warn_distance(radius_m, cell_min_m)


def _accumulate(grid: Grid, sites, sx, sy, inside, m, params, tech: str, threshold: float, rx_height_m: float,
                radius_m: float, *, index=None, progress: bool | None = False, out_window=None):
    """Fold every site's signal into best / second / best-server / count arrays on ``grid``.

    The one per-site loop of the engine, shared by :func:`predict` and each tile of
    :mod:`coverage.tiles`: ``grid`` may be a window of the full grid, and ``index`` gives each row's
    site index in the full site table (default ``0..n-1``). Sites are folded in row order, so ties
    resolve as in an untiled run. ``inside`` says whether each site lies on the *full* grid.
    ``out_window`` (r0, c0, rows, cols in full-grid cells, within ``grid``) keeps only that part: a
    tile needs its terrain margin for the profiles, not output arrays over it.

    Returns
    -------
    best, second, server, count : ndarray
        float32, float32, int32, int16 arrays of ``grid.shape``.
    n_cells : int
        Number of cell evaluations.
    """
    o_r, o_c, o_h, o_w = (grid.row_off, grid.col_off, *grid.shape) if out_window is None else out_window
    best = np.full((o_h, o_w), np.nan, np.float32)
    second = np.full((o_h, o_w), np.nan, np.float32)
    server = np.full((o_h, o_w), -1, np.int32)
    count = np.zeros((o_h, o_w), np.int16)
    geometry_cache: dict[tuple[float, float], SiteGeometry] = {}
    # a bar only when asked or interactive, and only once the run has lasted 2 s
    iterator = _progress(range(len(sites)), enabled=progress, total=len(sites), desc=f"{m.name} sites", unit="site")
    n_cells = 0
    for i in iterator:
        row = sites.iloc[i]
        key = (float(sx[i]), float(sy[i]))
        if not inside[i]:
            # no terrain: a site outside the area may still reach into it
            geo = _outside_geometry(grid, key, radius_m)
            if geo is None:
                continue
        else:
            geo = geometry_cache.get(key)
            if geo is None:
                geo = SiteGeometry.build(grid, key[0], key[1], radius_m)
                geometry_cache = {key: geo}  # sites are usually grouped by position: keep one
        loss = geo.loss_db(m, freq_mhz=float(row["freq_mhz"]), h_tx_m=float(row["height_m"]),
                           h_rx_m=float(rx_height_m), **params)
        sig = np.empty(loss.shape, np.float64)
        az = row.get("azimuth_deg")
        sector = az is not None and np.isfinite(az)
        K.received_power(loss, geo.dist_m, geo.azimuth_rad, geo.ground_m, geo.site_ground_m + float(row["height_m"]),
                         float(rx_height_m), float(row["eirp_dbm"]), float(az) if sector else 0.0,
                         float(row["beamwidth_deg"]) if sector else 0.0, 25.0,
                         float(row["downtilt_deg"]) if sector else 0.0,
                         float(row["vertical_beamwidth_deg"]) if sector else 0.0, 20.0,
                         metric_offset_db(tech, float(row["bandwidth_mhz"])) if tech != "mixed" else 0.0, sig)
        n_cells += int(np.isfinite(sig).sum())
        r0, c0, _, _ = geo.window
        if out_window is not None:
            # the part of the site's window inside the output window (same cells, same bits)
            a, b = max(r0, o_r), min(r0 + sig.shape[0], o_r + o_h)
            c, d = max(c0, o_c), min(c0 + sig.shape[1], o_c + o_w)
            if a >= b or c >= d:
                continue
            sig = np.ascontiguousarray(sig[a - r0:b - r0, c - c0:d - c0])
            r0, c0 = a, c
        site_index = i if index is None else int(index[i])
        K.combine_best(sig, r0 - o_r, c0 - o_c, site_index, threshold, best, second, server, count)
    return best, second, server, count, n_cells


def _outside_geometry(grid: Grid, key, radius_m) -> SiteGeometry | None:
    """Geometry of a site outside a no-terrain grid whose radius still reaches it (or None)."""
    xl, dx, yt, dy = grid.kernel_transform
    rows, cols = grid.shape
    # the window's own edges (a tile's window sits at row_off/col_off of the full grid's transform)
    xl, yt = xl + grid.col_off * dx, yt + grid.row_off * dy
    # nearest grid point to the site, then the distance to it in the site frame
    cx = min(max(key[0], xl), xl + cols * dx)
    cy = min(max(key[1], yt + rows * dy), yt)
    e, n = K.grid_to_local(cx, cy, key[0], key[1], grid.geographic, WGS84_A, WGS84_E2)
    if math.hypot(e, n) > radius_m:
        return None
    geo = SiteGeometry.build(grid, key[0], key[1], radius_m, allow_outside=True)
    return geo if geo.dist_m.size else None
