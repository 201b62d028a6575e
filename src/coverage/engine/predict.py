"""Orchestration behind :func:`coverage.predict`: grid, sites, geometry, physics, best server."""

from __future__ import annotations

import logging
import time
from typing import Any, Mapping

from ..errors import InputError
from ..io.terrain import Terrain
from .clutter import assumed_defaults, clutter_arrays, resolve_landcover
from .prepare import (
    _accumulate,
    _check_validity,
    _mask_voids,
    _place_sites,
    _prepare,
    _smooth_earth_grid,
    _terrain_meta,
    _warn_resolution_ignored,
)
from .result import CoverageResult
from .sweep import Grid

log = logging.getLogger(__name__)

__all__ = ["predict"]


def predict(terrain: Terrain | None, sites, model: str = "p526", radius_m: float = 30_000.0,
            rx_height_m: float = 1.5, *, bounds=None, resolution_m: float | None = None, crs=None,
            technology: str | None = None, model_params: Mapping[str, Any] | None = None,
            server_threshold_dbm: float | None = None, extrapolate: bool = False,
            progress: bool | None = None, out=None, tile_size: int | None = None, client=None,
            landcover=None, clutter: str | None = None, clutter_loss: str | None = None) -> CoverageResult:
    """Predict the coverage of ``sites`` and combine them into a best-server result.

    Parameters
    ----------
    terrain : Terrain or None
        Elevation grid; the result is on its grid (cropped to ``bounds`` if given). ``None`` runs on a
        smooth earth (no terrain) on a grid built from ``bounds`` and ``resolution_m``: only distance
        models (``fspl``, ``hata``, ``cost231``) can run so, and the metadata says so. Voids of a
        terrain opened with ``fill_voids=False`` are NaN in the result.
    sites : path, DataFrame or GeoDataFrame
        Towers (see :func:`coverage.read_sites`). A site off the grid is kept when its radius reaches
        the grid (with terrain its profiles run over the DEM's edge height beyond the DEM) and dropped
        otherwise; a warning counts both, ``metadata['sites_off_grid']`` records them.
    model : str
        ``"fspl"``, ``"hata"``, ``"cost231"``, ``"p526"`` (terrain diffraction), ``"itm"``, ``"p1812"``
        (ITU-R P.1812-7 on the clutter-raised profile; ``model_params`` ``p_percent``, ``pl_percent``,
        ``sigma_l_db``, ``pol``, ``dn``, ``n0``, ...), or ``"auto"``: P.526 with terrain; without, Hata or
        COST-231 for each site by its frequency.
    radius_m : float
        Prediction radius around each site (m).
    rx_height_m : float
        Receiver antenna height above ground (m).
    bounds : (lon_min, lat_min, lon_max, lat_max), optional
        In degrees; an inverted or empty box or a latitude outside +-90 is refused.
    resolution_m : float, optional
        Cell size without terrain (default 100 m).
    crs : optional
        CRS of the grid without terrain (default EPSG:4326 with square cells in degrees).
    technology : {"2g", "3g", "4g", "5g"}, optional
        Keep only the sites of this technology. Without it, sites of mixed technologies are combined
        on total received power (metric ``rx_power_dbm``).
    model_params : mapping, optional
        Model parameters (e.g. ``{"environment": "open"}`` for Hata, ``{"k_factor": 1.33}``). Hata and
        COST-231 default to :data:`coverage.propagation.hata.DEFAULT_ENVIRONMENT` (said in a warning and
        in ``metadata['assumed']``).
    server_threshold_dbm : float, optional
        Threshold for ``n_servers`` (default: the technology's usable level, :data:`USABLE_DBM`).
    extrapolate : bool
        Allow frequencies outside the model's validity range (with a warning instead of an error).
    progress : bool, optional
        Progress bar (tqdm) on runs longer than 2 s; default: only in an interactive session
        (Jupyter or a terminal), never inside a service unless asked.
    out, tile_size, client
        Tiled / distributed execution (see :mod:`coverage.tiles`); ``out`` streams to a file.
    landcover : path or LandCover, optional
        Land-cover class raster (WorldCover codes for a path; see :func:`coverage.open_landcover`),
        resampled to the terrain grid by majority. Its clutter heights raise P.1812's profiles.
    clutter : str, optional
        One cover everywhere instead of a raster (``"forest"``, ``"urban"``, ``"suburban"``, ``"open"``, ...).
    clutter_loss : {None, "p2108"}
        Add ITU-R P.2108 §3.1 terminal clutter loss at each receiver below its cell's clutter (any model).

    Returns
    -------
    CoverageResult
    """
    if out is not None or tile_size is not None or client is not None:
        from .tiles import predict_tiled

        return predict_tiled(terrain, sites, model=model, radius_m=radius_m, rx_height_m=rx_height_m,
                             bounds=bounds, resolution_m=resolution_m, crs=crs, technology=technology,
                             model_params=model_params, server_threshold_dbm=server_threshold_dbm,
                             extrapolate=extrapolate, progress=progress, out=out, tile_size=tile_size,
                             client=client, landcover=landcover, clutter=clutter, clutter_loss=clutter_loss)
    t_start = time.perf_counter()
    if terrain is not None and not isinstance(terrain, Terrain):
        raise InputError(f"terrain must be a Terrain (coverage.open_terrain) or None, got {type(terrain).__name__}")
    prep = _prepare(model, model_params, radius_m, rx_height_m, sites, technology, server_threshold_dbm,
                    has_terrain=terrain is not None)
    grid, terrain_meta, terrain = _grid(prep, terrain, bounds, radius_m, resolution_m, crs)
    lc, lc_meta = resolve_landcover(landcover, clutter, clutter_loss, terrain)
    for key, arr in clutter_arrays(lc).items():
        setattr(grid, key, arr)
    prep.assumed.update(assumed_defaults(prep.m, prep.params, lc_meta))
    sx, sy, row_f, col_f, inside = _place_sites(prep, grid, radius_m, terrain)
    _check_validity(prep.m, prep.sites, rx_height_m, radius_m, extrapolate, min(grid.cell_size_m()))
    best, second, server, count, n_cells = _accumulate(grid, prep.sites, sx, sy, inside, prep.m, prep.params,
                                                       prep.tech, prep.threshold, rx_height_m, radius_m,
                                                       progress=progress, clutter_loss=clutter_loss)
    if terrain is not None and terrain.keep_voids:
        _mask_voids(terrain.void_mask, best, second, server, count)
    elapsed = time.perf_counter() - t_start
    log.info("predicted %d sites, %d cell evaluations in %.2f s", len(prep.sites), n_cells, elapsed)
    meta = prep.meta(radius_m, rx_height_m, terrain_meta)
    meta.update({"cell_evaluations": n_cells, "seconds": round(elapsed, 3), "landcover": lc_meta})
    return CoverageResult(best, server, second, count, grid.transform, grid.crs, prep.sites, prep.metric, prep.tech,
                          prep.m.name, meta)


def _grid(prep, terrain, bounds, radius_m, resolution_m, crs):
    """(grid, terrain metadata, terrain cropped to bounds or None) of an in-memory run."""
    if terrain is None:
        grid, meta = _smooth_earth_grid(prep.m, prep.sites, bounds, radius_m, resolution_m, crs)
        return grid, meta, None
    _warn_resolution_ignored(resolution_m)
    t = terrain.window_lonlat(bounds) if bounds is not None else terrain
    return Grid(t.elevation_m, t.transform, t.crs, t.is_geographic), _terrain_meta(t), t
