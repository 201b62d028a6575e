"""Run preparation shared by :func:`coverage.predict` and the tiled engine: checks and
normalisation (:func:`_prepare`), the model of each site (``model="auto"``), site positions and the
one rule for sites off the grid (:func:`_place_sites`), the smooth-earth grid, and the per-site loop
that folds every site into best-signal / best-server arrays (:func:`_accumulate`)."""

from __future__ import annotations

import logging
import math
import os
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS, Transformer

from ..errors import CoverageWarning, InputError, TerrainExtentError
from ..io.sites import METRICS, metric_offset_db, normalize_sites, read_sites
from ..io.terrain import WGS84_A, WGS84_E2, Terrain, check_bounds, earth_radii_m
from ..progress import is_interactive as _interactive  # noqa: F401  (used by tiles)
from ..progress import progress as _progress
from ..propagation import ProfileModel, get_model
from ..propagation.hata import DEFAULT_ENVIRONMENT
from ..thresholds import USABLE_DBM
from . import _kernels as K
from .sweep import Grid, SiteGeometry

log = logging.getLogger(__name__)

#: Most cells a grid without terrain may have (about 2 GB per float32 layer): a bigger one is a typo.
MAX_GRID_CELLS = 500_000_000
#: Frequency bands of ``model="auto"`` without terrain: Okumura-Hata up to 1500 MHz, COST-231 above.
AUTO_EMPIRICAL_BANDS = (("hata", 150.0, 1500.0), ("cost231", 1500.0, 2000.0))


def _as_sites(sites):
    if not isinstance(sites, (pd.DataFrame, str, os.PathLike)):
        raise InputError(f"sites must be a path or a (Geo)DataFrame of towers, got {type(sites).__name__}")
    if isinstance(sites, pd.DataFrame):
        if {"site_id", "lon", "lat", "height_m", "freq_mhz", "eirp_dbm", "technology"} <= set(sites.columns) \
                and "geometry" in sites.columns:
            return sites.reset_index(drop=True)
        return normalize_sites(sites)
    return read_sites(sites)


# ---------------------------------------------------------------------------------------------
# models


@dataclass(frozen=True)
class PerSiteModel:
    """Several distance models, one per site (``model="auto"`` without terrain): each site runs the
    model whose frequency range holds its frequency."""

    models: tuple  # model object of each site, in site order

    @property
    def name(self) -> str:
        return "+".join(sorted({m.name for m in self.models}))

    @property
    def reference(self) -> str:
        return "; ".join(sorted({f"{m.name}: {m.reference}" for m in self.models}))

    def params(self, overrides) -> dict:
        return self.models[0].params(overrides)

    def for_site(self, i: int):
        return self.models[i]

    def subset(self, keep) -> "PerSiteModel":
        return PerSiteModel(tuple(m for m, k in zip(self.models, keep) if k))

    def groups(self):
        """(model, boolean mask of its sites) for each model used."""
        names = np.array([m.name for m in self.models])
        for name in sorted(set(names.tolist())):
            yield get_model(name), names == name

    def warn_distance(self, radius_m: float, min_m: float) -> None:
        for m, _ in self.groups():
            m.warn_distance(radius_m, min_m)


def choose_models(model, has_terrain: bool, freqs_mhz) -> list[str]:
    """Model name of each site: ``model`` itself, or for ``"auto"`` P.526 with terrain and, without,
    Okumura-Hata (150-1500 MHz) or COST-231 Hata (1500-2000 MHz) by each site's frequency."""
    f = np.asarray(list(freqs_mhz), dtype=float)
    if not (isinstance(model, str) and model.lower() == "auto"):
        return [model] * f.size
    if has_terrain:
        return ["p526"] * f.size
    names = []
    for fi in f:
        name = next((n for n, lo, hi in AUTO_EMPIRICAL_BANDS if lo <= fi <= hi), None)
        if name is None:
            raise InputError(f"model='auto' without terrain: freq_mhz={fi:g} is outside both Okumura-Hata "
                             f"(150-1500 MHz) and COST-231 (1500-2000 MHz); give terrain (p526) or a model "
                             f"explicitly (with extrapolate=True)")
        names.append(name)
    return names


def _resolve_model(model, has_terrain: bool, sites):
    """The model object of the run: one model, or a :class:`PerSiteModel` when 'auto' picks several."""
    if not (isinstance(model, str) and model.lower() == "auto"):
        return get_model(model)  # a name, or a model object (a calibrated model) used as given
    names = choose_models(model, has_terrain, sites["freq_mhz"].to_numpy())
    if len(set(names)) <= 1:
        m = get_model(names[0])
        log.info("model='auto' runs %s (%s)", m.name, "terrain" if has_terrain else "no terrain")
        return m
    ms = PerSiteModel(tuple(get_model(n) for n in names))
    counts = {n: names.count(n) for n in sorted(set(names))}
    warnings.warn("model='auto' without terrain picks the model of each site by its frequency: "
                  + ", ".join(f"{n} for {k} site(s)" for n, k in counts.items()), CoverageWarning, stacklevel=4)
    return ms


# ---------------------------------------------------------------------------------------------
# preparation


@dataclass
class Prepared:
    """What :func:`_prepare` checked and decided: the model(s), parameters, sites, technology, metric,
    server threshold, and what was assumed (for the metadata)."""

    m: object
    params: dict
    sites: object
    tech: str
    metric: str
    threshold: float
    assumed: dict = field(default_factory=dict)
    sites_off_grid: dict = field(default_factory=dict)

    def meta(self, radius_m, rx_height_m, terrain_meta) -> dict:
        """The metadata every result carries (predict and tiled runs alike)."""
        return {
            "model": self.m.name, "model_reference": self.m.reference, "model_params": dict(self.params),
            "radius_m": float(radius_m), "rx_height_m": float(rx_height_m), "technology": self.tech,
            "metric": self.metric, "server_threshold_dbm": self.threshold, "terrain": terrain_meta,
            "n_sites": int(len(self.sites)), "assumed": dict(self.assumed),
            "site_defaults": dict(getattr(self.sites, "attrs", {}).get("defaults_applied") or {}),
            "sites_off_grid": dict(self.sites_off_grid),
        }


def _prepare(model, model_params, radius_m, rx_height_m, sites, technology, server_threshold_dbm,
             has_terrain: bool = True) -> Prepared:
    """Checks and normalisation shared by :func:`predict` and the tiled engine."""
    if not (isinstance(radius_m, (int, float, np.number)) and np.isfinite(radius_m) and radius_m > 0):
        raise InputError(f"radius_m must be a positive number of metres, got {radius_m!r}")
    if isinstance(radius_m, (bool, np.bool_)) or isinstance(rx_height_m, (bool, np.bool_)):
        raise InputError(f"radius_m and rx_height_m must be numbers of metres, got {radius_m!r}, {rx_height_m!r}")
    if not (isinstance(rx_height_m, (int, float, np.number)) and np.isfinite(rx_height_m) and rx_height_m > 0):
        raise InputError(f"rx_height_m must be a positive height above ground (m), got {rx_height_m!r}")
    if model_params is not None and not hasattr(model_params, "items"):
        raise InputError(f"model_params must be a mapping of parameter names to values, got {model_params!r}")
    if not (isinstance(model, str) and model.lower() == "auto"):
        get_model(model)  # an unknown name fails before the sites are read
    sites = _as_sites(sites)
    if technology is not None:
        tech = str(technology).lower()
        if tech not in METRICS:
            raise InputError(f"technology must be one of {sorted(METRICS)}, got {technology!r}")
        n_all = len(sites)
        attrs = dict(sites.attrs)
        sites = sites[sites["technology"] == tech].reset_index(drop=True)
        sites.attrs = attrs
        if len(sites) == 0:
            raise InputError(f"no {tech} sites among the {n_all} given")
    m = _resolve_model(model, has_terrain, sites)
    params = m.params(model_params)
    assumed = {}
    if "environment" in params and "environment" not in (model_params or {}):
        assumed["environment"] = DEFAULT_ENVIRONMENT
        warnings.warn(f"model {m.name!r}: no environment given, {DEFAULT_ENVIRONMENT!r} assumed (say otherwise "
                      f"with model_params={{'environment': ...}}: urban_large, urban, suburban, open)",
                      CoverageWarning, stacklevel=3)
    techs = sorted(set(sites["technology"]))
    tech = techs[0] if len(techs) == 1 else "mixed"
    metric = METRICS.get(tech, "rx_power_dbm")
    try:
        threshold = USABLE_DBM[tech] if server_threshold_dbm is None else float(server_threshold_dbm)
    except (TypeError, ValueError):
        threshold = float("nan")
    if not np.isfinite(threshold):
        raise InputError(f"server_threshold_dbm must be a finite level in dBm, got {server_threshold_dbm!r}")
    return Prepared(m, params, sites, tech, metric, threshold, assumed)


def _grid_without_terrain(bounds, resolution_m, crs) -> Grid:
    lon_min, lat_min, lon_max, lat_max = check_bounds(bounds)
    if crs is not None:
        try:
            crs = CRS.from_user_input(crs)
        except Exception as exc:  # pyproj.exceptions.CRSError and whatever a bad object raises
            raise InputError(f"crs {crs!r} is not a coordinate reference system pyproj knows ({exc})") from exc
    if crs is None or crs.is_geographic:
        m_rad, _ = earth_radii_m(0.5 * (lat_min + lat_max))
        dlat = math.degrees(resolution_m / m_rad)
        dlon = dlat  # square cells in degrees; metres differ by cos(lat), handled by the kernels
        cols = max(int(math.ceil((lon_max - lon_min) / dlon)), 1)
        rows = max(int(math.ceil((lat_max - lat_min) / dlat)), 1)
        _check_cells(rows, cols, bounds, resolution_m)
        transform = Affine(dlon, 0, lon_min, 0, -dlat, lat_max)
        return Grid(np.zeros((rows, cols), np.float32), transform, CRS.from_epsg(4326), True)
    crs = CRS.from_user_input(crs)
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xs, ys = tr.transform([lon_min, lon_max, lon_min, lon_max], [lat_min, lat_min, lat_max, lat_max])
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if not all(map(math.isfinite, (x0, x1, y0, y1))):
        raise InputError(f"bounds {tuple(bounds)} cannot be projected to crs {crs.to_string()}")
    cols = max(int(math.ceil((x1 - x0) / resolution_m)), 1)
    rows = max(int(math.ceil((y1 - y0) / resolution_m)), 1)
    _check_cells(rows, cols, bounds, resolution_m)
    return Grid(np.zeros((rows, cols), np.float32), Affine(resolution_m, 0, x0, 0, -resolution_m, y1), crs, False)


def _check_cells(rows, cols, bounds, resolution_m) -> None:
    if rows * cols > MAX_GRID_CELLS:
        raise InputError(f"bounds {tuple(bounds)} at resolution_m={resolution_m:g} make a grid of {rows} x {cols} "
                         f"cells (more than {MAX_GRID_CELLS:,}): give a coarser resolution_m or smaller bounds")


def _smooth_earth_grid(m, sites, bounds, radius_m, resolution_m, crs):
    """The grid of a run without terrain (ground at 0 m) and its terrain metadata."""
    if isinstance(m, ProfileModel):
        raise InputError(f"model {m.name!r} needs terrain; without a DEM use 'hata', 'cost231', 'fspl' or 'auto'")
    if bounds is None:
        bounds = _sites_bounds(sites, radius_m)
    res = 100.0 if resolution_m is None else resolution_m
    if not (isinstance(res, (int, float, np.number)) and np.isfinite(res) and res > 0):
        raise InputError(f"resolution_m must be a positive number of metres, got {resolution_m!r}")
    return (_grid_without_terrain(bounds, float(res), crs),
            {"has_terrain": False, "note": "no terrain: smooth earth, ground at 0 m everywhere"})


def _warn_resolution_ignored(resolution_m) -> None:
    if resolution_m is not None:
        warnings.warn("resolution_m is ignored with terrain: the result is on the terrain's grid", CoverageWarning,
                      stacklevel=4)


def _terrain_meta(t: Terrain) -> dict:
    return {"has_terrain": True, "sources": [str(s) for s in t.sources], "void_cells_filled": t.void_count,
            "voids_kept_as_nan": bool(t.keep_voids), "crs": t.crs.to_string()}


def _sites_bounds(sites, radius_m) -> tuple[float, float, float, float]:
    lat = sites["lat"].to_numpy()
    lon = sites["lon"].to_numpy()
    dlat = radius_m / 110_574.0
    dlon = radius_m / (111_320.0 * max(math.cos(math.radians(float(np.max(np.abs(lat))))), 0.05))
    return (float(lon.min() - dlon), float(max(lat.min() - dlat, -89.9)), float(lon.max() + dlon),
            float(min(lat.max() + dlat, 89.9)))


# ---------------------------------------------------------------------------------------------
# sites on the grid


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


def _distance_to_grid_m(grid: Grid, x: float, y: float) -> float:
    """Distance (m) from a site at grid coordinates (x, y) to the nearest point of the grid window."""
    xl, dx, yt, dy = grid.kernel_transform
    rows, cols = grid.shape
    xl, yt = xl + grid.col_off * dx, yt + grid.row_off * dy
    cx = min(max(x, xl), xl + cols * dx)
    cy = min(max(y, yt + rows * dy), yt)
    e, n = K.grid_to_local(cx, cy, x, y, grid.geographic, WGS84_A, WGS84_E2)
    return math.hypot(e, n)


def _place_sites(prep: Prepared, grid: Grid, radius_m: float, terrain=None):
    """Positions of the sites on ``grid`` under the one rule for sites off it (terrain or not).

    A site off the grid whose radius reaches the grid is kept (with terrain, its profiles run over
    the DEM's edge heights where the DEM ends, see :func:`_padded_geometry`); the others are
    dropped with one warning that counts them. No site reaching the grid is an error naming the first.
    Updates ``prep`` (sites, model, ``sites_off_grid``); returns (sx, sy, row_f, col_f, inside).
    """
    sites = prep.sites
    sx, sy, row_f, col_f, inside = _site_positions(sites, grid.transform, grid.crs, grid.shape)
    reach = inside.copy()
    for i in np.flatnonzero(~inside):
        reach[i] = _distance_to_grid_m(grid, float(sx[i]), float(sy[i])) <= radius_m
    n_out, n_drop = int((~inside).sum()), int((~reach).sum())
    if not reach.any():
        _raise_off_grid(sites, inside, terrain)
    if n_out:
        what = "the terrain" if terrain is not None else "the area"
        warnings.warn(f"{n_out} of {len(sites)} sites lie outside {what}: {n_out - n_drop} kept (their "
                      f"{radius_m / 1000:g} km radius reaches it{'; profiles run over the DEM edge height beyond it' if terrain is not None else ''}), "
                      f"{n_drop} dropped (too far)", CoverageWarning, stacklevel=3)
    prep.sites_off_grid = {"outside": n_out, "kept": n_out - n_drop, "dropped": n_drop}
    if n_drop:
        attrs = dict(sites.attrs)
        prep.sites = sites[reach].reset_index(drop=True)
        prep.sites.attrs = attrs
        if isinstance(prep.m, PerSiteModel):
            prep.m = prep.m.subset(reach)
    return sx[reach], sy[reach], row_f[reach], col_f[reach], inside[reach]


def _raise_off_grid(sites, inside, terrain) -> None:  # noqa: D401
    """No site reaches the grid: raise naming the first one (and a lon/lat swap hint)."""
    i = int(np.flatnonzero(~inside)[0])
    lon, lat = float(sites["lon"].iloc[i]), float(sites["lat"].iloc[i])
    hint = ""
    if isinstance(terrain, Terrain):
        if abs(lon) <= 90 and terrain.contains(lat, lon).item():
            hint = " (its lat/lon swapped would be inside: are the columns swapped?)"
        where = f"the terrain {tuple(round(b, 5) for b in terrain.bounds_lonlat)}"
    else:
        where = "the terrain grid" if terrain is not None else "the area (bounds)"
    raise TerrainExtentError(
        f"site {sites['site_id'].iloc[i]!r} (row {i + 1}) at lon={lon}, lat={lat} lies outside {where}{hint}, "
        f"and none of the {len(sites)} sites is within its radius of it")


def _check_validity(m, sites, rx_height_m, radius_m, extrapolate, cell_min_m) -> None:
    groups = m.groups() if isinstance(m, PerSiteModel) else [(m, np.ones(len(sites), bool))]
    for mm, mask in groups:
        sub = sites[mask]
        for f in np.unique(sub["freq_mhz"]):
            sel = sub["freq_mhz"] == f
            mm.check(freq_mhz=float(f), h_tx_m=sub.loc[sel, "height_m"].to_numpy(), h_rx_m=rx_height_m,
                     extrapolate=extrapolate, where=f"{int(sel.sum())} sites at {f:g} MHz")
    m.warn_distance(radius_m, cell_min_m)


def _mask_voids(voids, best, second, server, count) -> None:
    """Cells that are voids of a terrain kept as voids: no prediction there."""
    if voids is None or not voids.any():
        return
    best[voids] = np.nan
    second[voids] = np.nan
    server[voids] = -1
    count[voids] = 0


# ---------------------------------------------------------------------------------------------
# the per-site loop


def _accumulate(grid: Grid, sites, sx, sy, inside, m, params, tech: str, threshold: float, rx_height_m: float,
                radius_m: float, *, index=None, progress: bool | None = False, out_window=None,
                clutter_loss: str | None = None):
    """Fold every site's signal into best / second / best-server / count arrays on ``grid``.

    The one per-site loop of the engine, shared by :func:`predict` and each tile of
    :mod:`coverage.tiles`: ``grid`` may be a window of the full grid, and ``index`` gives each row's
    site index in the full site table (default ``0..n-1``). Sites are folded in row order, so ties
    resolve as in an untiled run. ``inside`` says whether each site lies on the *full* grid.
    ``out_window`` (r0, c0, rows, cols in full-grid cells, within ``grid``) keeps only that part: a
    tile needs its terrain margin for the profiles, not output arrays over it. ``m`` is a model or a
    :class:`PerSiteModel` (indexed by the full site index). ``clutter_loss="p2108"`` adds the P.2108
    terminal loss of each cell's clutter (``grid.clutter_m``) to every model.

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
        site_index = i if index is None else int(index[i])
        mi = m.for_site(site_index) if isinstance(m, PerSiteModel) else m
        key = (float(sx[i]), float(sy[i]))
        geo = geometry_cache.get(key)
        if geo is None:
            geo = _geometry(grid, key, radius_m, inside[i], isinstance(mi, ProfileModel))
            if geo is None:
                continue
            geometry_cache = {key: geo}  # sites are usually grouped by position: keep one
        sig = _site_signal(geo, mi, row, params, tech, rx_height_m, clutter_loss)
        n_cells += int(np.isfinite(sig).sum())
        placed = _clip(sig, geo.window, (o_r, o_c, o_h, o_w))
        if placed is None:
            continue
        sig, r0, c0 = placed
        K.combine_best(sig, r0 - o_r, c0 - o_c, site_index, threshold, best, second, server, count)
    return best, second, server, count, n_cells


def _geometry(grid: Grid, key, radius_m, inside: bool, profile: bool) -> SiteGeometry | None:
    """The site's geometry: on the grid, or for a site off it, the geometry that reaches in (or None)."""
    if inside:
        return SiteGeometry.build(grid, key[0], key[1], radius_m)
    if _distance_to_grid_m(grid, *key) > radius_m:
        return None
    if profile:
        return _padded_geometry(grid, key, radius_m)
    geo = SiteGeometry.build(grid, key[0], key[1], radius_m, allow_outside=True)
    return geo if geo.dist_m.size else None


def _padded_geometry(grid: Grid, key, radius_m) -> SiteGeometry | None:
    """Geometry of a site off the terrain for a profile model.

    The terrain between the site and the DEM is unknown: the part of the grid within the radius is
    extended to the site with the DEM's nearest edge heights (a flat continuation), so each radial
    runs from the site over that edge height and then over the real terrain; the result is clipped
    back to the grid by the caller.
    """
    xl, dx, yt, dy = grid.kernel_transform
    rows, cols = grid.shape
    ro, co = grid.row_off, grid.col_off
    ci, ri = int(round((key[0] - xl) / dx - 0.5)), int(round((key[1] - yt) / dy - 0.5))
    ew, ns = grid.cell_size_m(key[1] if grid.geographic else None)
    hr, hc = int(math.ceil(radius_m / ns)) + 2, int(math.ceil(radius_m / ew)) + 2
    wr0, wr1 = max(ro, ri - hr), min(ro + rows, ri + hr + 1)
    wc0, wc1 = max(co, ci - hc), min(co + cols, ci + hc + 1)
    if wr0 >= wr1 or wc0 >= wc1:
        return None
    sub = grid.elevation_m[wr0 - ro:wr1 - ro, wc0 - co:wc1 - co]
    nr0, nr1 = min(wr0, ri - 2), max(wr1, ri + 3)
    nc0, nc1 = min(wc0, ci - 2), max(wc1, ci + 3)
    pad = ((wr0 - nr0, nr1 - wr1), (wc0 - nc0, nc1 - wc1))
    elev = np.pad(sub, pad, mode="edge")
    cover = {}
    if grid.clutter_m is not None:
        # the cover continues like the terrain: the DEM edge's clutter out to the site
        for name in ("clutter_m", "clutter_type"):
            arr = getattr(grid, name)[wr0 - ro:wr1 - ro, wc0 - co:wc1 - co]
            cover[name] = np.ascontiguousarray(np.pad(arr, pad, mode="edge"))
    padded = Grid(np.ascontiguousarray(elev, np.float32), grid.transform, grid.crs, grid.geographic,
                  row_off=nr0, col_off=nc0, **cover)
    return SiteGeometry.build(padded, key[0], key[1], radius_m)


def _site_signal(geo: SiteGeometry, m, row, params, tech, rx_height_m, clutter_loss=None) -> np.ndarray:
    """The site's signal (dBm, in the technology's metric) on its geometry window; NaN out of reach."""
    loss = geo.loss_db(m, freq_mhz=float(row["freq_mhz"]), h_tx_m=float(row["height_m"]),
                       h_rx_m=float(rx_height_m), **params)
    if clutter_loss is not None:
        from .clutter import terminal_loss_db

        loss = loss + terminal_loss_db(geo, float(row["freq_mhz"]), float(rx_height_m))
    sig = np.empty(loss.shape, np.float64)
    az = row.get("azimuth_deg")
    sector = az is not None and np.isfinite(az)
    K.received_power(loss, geo.dist_m, geo.azimuth_rad, geo.ground_m, geo.site_ground_m + float(row["height_m"]),
                     float(rx_height_m), float(row["eirp_dbm"]), float(az) if sector else 0.0,
                     float(row["beamwidth_deg"]) if sector else 0.0, 25.0,
                     float(row["downtilt_deg"]) if sector else 0.0,
                     float(row["vertical_beamwidth_deg"]) if sector else 0.0, 20.0,
                     metric_offset_db(tech, float(row["bandwidth_mhz"])) if tech != "mixed" else 0.0, sig)
    return sig


def _clip(sig, window, out_window):
    """The part of a site's window inside the output window (same cells, same bits), or None."""
    r0, c0, _, _ = window
    o_r, o_c, o_h, o_w = out_window
    a, b = max(r0, o_r), min(r0 + sig.shape[0], o_r + o_h)
    c, d = max(c0, o_c), min(c0 + sig.shape[1], o_c + o_w)
    if a >= b or c >= d:
        return None
    if (a, b, c, d) != (r0, r0 + sig.shape[0], c0, c0 + sig.shape[1]):
        sig = np.ascontiguousarray(sig[a - r0:b - r0, c - c0:d - c0])
    return sig, a, c
