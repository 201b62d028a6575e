"""Terrain: open DEM tiles as one elevation grid, sample it, and cut path profiles.

Reading, mosaicking and void filling are rasterio's (GDAL's SRTMHGT and GTiff drivers,
``rasterio.merge``, ``rasterio.fill``); coordinates and geodesics are pyproj's. What is left here is
bookkeeping: one north-up grid in the DEM's own CRS (geographic or projected), voids counted, and the
metric geometry that the engines need.
"""

from __future__ import annotations

import glob
import math
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import rasterio
import rasterio.fill
import rasterio.merge
import rasterio.warp
from affine import Affine
from pyproj import CRS, Geod, Transformer
from scipy import ndimage

from ..errors import InputError, TerrainExtentError, TerrainReadError, TerrainWarning

__all__ = ["Terrain", "open_terrain", "WGS84_A", "WGS84_E2"]

WGS84_A = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
_GEOD = Geod(ellps="WGS84")


def earth_radii_m(lat_deg: float) -> tuple[float, float]:
    """Meridian and prime-vertical radii of curvature (m) of the WGS84 ellipsoid at a latitude."""
    s = math.sin(math.radians(lat_deg))
    w = math.sqrt(1.0 - WGS84_E2 * s * s)
    return WGS84_A * (1.0 - WGS84_E2) / w ** 3, WGS84_A / w


def cell_size_m(transform, geographic: bool, lat_deg: float) -> tuple[float, float]:
    """(east-west, north-south) size in metres of a cell of a north-up grid, at ``lat_deg`` if geographic."""
    if not geographic:
        return abs(transform.a), abs(transform.e)
    m_rad, n_rad = earth_radii_m(lat_deg)
    return (math.radians(transform.a) * n_rad * math.cos(math.radians(lat_deg)),
            math.radians(-transform.e) * m_rad)


def _expand_paths(paths) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if paths is None or not hasattr(paths, "__iter__"):
        raise InputError(f"open_terrain: give a DEM path, a glob or a list of them, got {paths!r}")
    out: list[str] = []
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            raise InputError(f"open_terrain: {p!r} is not a path")
        s = os.fspath(p)
        if any(ch in s for ch in "*?["):
            hits = sorted(glob.glob(s))
            if not hits:
                raise TerrainReadError(f"no terrain file matches {s!r}")
            out.extend(hits)
        else:
            out.append(s)
    if not out:
        raise InputError("open_terrain: no terrain path given")
    return out


def _gdal_path(path: str) -> str:
    """GDAL path for a DEM file; zipped SRTM tiles are opened inside the archive."""
    if not os.path.exists(path):
        raise TerrainReadError(f"terrain file not found: {path}")
    if path.lower().endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as zf:
                members = [m for m in zf.namelist()
                           if m.lower().endswith((".hgt", ".tif", ".tiff", ".dt0", ".dt1", ".dt2"))]
        except zipfile.BadZipFile as exc:
            raise TerrainReadError(f"{path}: not a readable zip archive ({exc})") from exc
        if len(members) != 1:
            raise TerrainReadError(
                f"{path}: expected exactly one DEM (.hgt/.tif) inside the zip, found {members}")
        return f"/vsizip/{os.path.abspath(path)}/{members[0]}"
    return path


@dataclass
class Terrain:
    """A north-up elevation grid (metres above sea level) with its georeference.

    Attributes
    ----------
    elevation_m : ndarray, float32, shape (rows, cols)
        Elevations with voids filled (see ``void_mask``).
    transform : affine.Affine
        Pixel-corner transform of the grid (rasterio convention).
    crs : pyproj.CRS
        Either geographic (degrees, distances computed on the WGS84 ellipsoid) or projected (metres).
    void_mask : ndarray of bool
        Cells that were voids in the source and were filled by interpolation.
    sources : tuple of str
        The files the grid was read from.
    keep_voids : bool
        The void cells are left out of predictions (NaN in every result), not predicted over the
        interpolated ground (``open_terrain(..., fill_voids=False)``).
    """

    elevation_m: np.ndarray
    transform: Affine
    crs: CRS
    void_mask: np.ndarray | None = None
    sources: tuple[str, ...] = ()
    keep_voids: bool = False
    _to_lonlat: Transformer | None = field(default=None, repr=False, compare=False)
    _from_lonlat: Transformer | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.elevation_m = np.ascontiguousarray(self.elevation_m, dtype=np.float32)
        if self.elevation_m.ndim != 2:
            raise InputError("Terrain.elevation_m must be a 2-D array")
        t = self.transform
        if not isinstance(t, Affine):
            raise InputError(f"Terrain.transform must be an affine.Affine, got {type(t).__name__}")
        if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
            raise InputError("only north-up grids (no rotation, rows from north to south) are supported")
        self.crs = CRS.from_user_input(self.crs)
        if self.void_mask is None:
            self.void_mask = np.zeros(self.elevation_m.shape, dtype=bool)
        if not np.isfinite(self.elevation_m).all():
            raise TerrainExtentError("Terrain.elevation_m contains NaN or infinite values: fill voids first")
        self._from_lonlat = Transformer.from_crs(CRS.from_epsg(4326), self.crs, always_xy=True)
        self._to_lonlat = Transformer.from_crs(self.crs, CRS.from_epsg(4326), always_xy=True)

    # ------------------------------------------------------------------ georeference
    @property
    def shape(self) -> tuple[int, int]:
        return self.elevation_m.shape

    @property
    def is_geographic(self) -> bool:
        return bool(self.crs.is_geographic)

    @property
    def void_count(self) -> int:
        """Number of cells that were voids in the source and were filled."""
        return int(self.void_mask.sum())

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) of the grid in its CRS."""
        rows, cols = self.shape
        left, top = self.transform.c, self.transform.f
        return left, top + rows * self.transform.e, left + cols * self.transform.a, top

    @property
    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """(lon_min, lat_min, lon_max, lat_max) of the grid."""
        if self.is_geographic:
            return self.bounds
        return rasterio.warp.transform_bounds(self.crs, "EPSG:4326", *self.bounds, densify_pts=21)

    @property
    def cell_size_m(self) -> tuple[float, float]:
        """(east-west, north-south) cell size in metres at the grid centre."""
        _, lat0 = self.xy_of(self.shape[0] / 2.0 - 0.5, self.shape[1] / 2.0 - 0.5)
        return cell_size_m(self.transform, self.is_geographic, float(lat0))

    def xy_of(self, row, col):
        """Grid-CRS coordinates of (fractional) cell centres."""
        x = self.transform.c + (np.asarray(col, dtype=float) + 0.5) * self.transform.a
        y = self.transform.f + (np.asarray(row, dtype=float) + 0.5) * self.transform.e
        return x, y

    def rowcol_of(self, x, y):
        """Fractional (row, col) of grid-CRS coordinates; cell centres are whole numbers."""
        col = (np.asarray(x, dtype=float) - self.transform.c) / self.transform.a - 0.5
        row = (np.asarray(y, dtype=float) - self.transform.f) / self.transform.e - 0.5
        return row, col

    def from_lonlat(self, lon, lat):
        """Longitude/latitude (degrees) to grid-CRS coordinates."""
        if self.is_geographic:
            return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        return self._from_lonlat.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))

    def to_lonlat(self, x, y):
        """Grid-CRS coordinates to longitude/latitude (degrees)."""
        if self.is_geographic:
            return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        return self._to_lonlat.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))

    def contains(self, lon, lat) -> np.ndarray:
        """Whether points (degrees) fall inside the grid's cells."""
        row, col = self.rowcol_of(*self.from_lonlat(lon, lat))
        rows, cols = self.shape
        return (row >= -0.5) & (row <= rows - 0.5) & (col >= -0.5) & (col <= cols - 0.5)

    # ------------------------------------------------------------------ sampling
    def elevation(self, lon, lat) -> np.ndarray:
        """Bilinear elevation (m) at longitude/latitude points; NaN outside the grid."""
        return self.sample_xy(*self.from_lonlat(lon, lat))

    def sample_xy(self, x, y) -> np.ndarray:
        """Bilinear elevation (m) at grid-CRS coordinates; NaN outside the grid."""
        row, col = self.rowcol_of(x, y)
        row = np.atleast_1d(row)
        col = np.atleast_1d(col)
        rows, cols = self.shape
        inside = (row >= -0.5) & (row <= rows - 0.5) & (col >= -0.5) & (col <= cols - 0.5)
        out = ndimage.map_coordinates(self.elevation_m, [np.clip(row, 0, rows - 1), np.clip(col, 0, cols - 1)],
                                      order=1, mode="nearest").astype(float)
        out[~inside] = np.nan
        return out

    def profile(self, start, end, *, step_m: float | None = None, n: int | None = None):
        """Terrain profile between two (lon, lat) points along the geodesic.

        Parameters
        ----------
        start, end : (lon, lat) in degrees
        step_m : float, optional
            Spacing of the profile points (m); default: the smaller cell size. The last step is
            shortened or lengthened so that the profile ends exactly at ``end``.
        n : int, optional
            Number of points instead of ``step_m``.

        Returns
        -------
        distances_m, elevations_m : ndarray
            Distances from ``start`` along the geodesic and bilinear elevations there.
        """
        (lon1, lat1), (lon2, lat2) = start, end
        _check_lonlat(lon1, lat1, "start")
        _check_lonlat(lon2, lat2, "end")
        _, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
        if dist <= 0:
            raise InputError("profile: start and end are the same point")
        if n is None:
            step = float(step_m) if step_m else min(self.cell_size_m)
            if step <= 0:
                raise InputError(f"profile: step_m must be positive, got {step_m}")
            n = max(int(np.ceil(dist / step)) + 1, 2)
        if n < 2:
            raise InputError(f"profile: n must be at least 2, got {n}")
        if self.is_geographic:
            mid = _GEOD.npts(lon1, lat1, lon2, lat2, n - 2) if n > 2 else []
            lons = np.array([lon1] + [p[0] for p in mid] + [lon2])
            lats = np.array([lat1] + [p[1] for p in mid] + [lat2])
            x, y = lons, lats
        else:
            # a straight line in the projected plane, whose length is the projected distance
            x1, y1 = self.from_lonlat(lon1, lat1)
            x2, y2 = self.from_lonlat(lon2, lat2)
            t = np.linspace(0.0, 1.0, n)
            x = x1 + t * (x2 - x1)
            y = y1 + t * (y2 - y1)
            dist = float(np.hypot(x2 - x1, y2 - y1))
        d = np.linspace(0.0, dist, n)
        z = self.sample_xy(x, y)
        if np.isnan(z).any():
            raise TerrainExtentError(
                f"profile from {start} to {end} leaves the terrain (bounds {self.bounds_lonlat})")
        return d, z

    # ------------------------------------------------------------------ subsetting
    def window_lonlat(self, bounds) -> "Terrain":
        """The part of the grid that covers ``bounds`` (lon_min, lat_min, lon_max, lat_max)."""
        left, bottom, right, top = _bounds_in_crs(bounds, self.crs)
        t = self.transform
        # whole cells that touch the bounds, clipped to the grid
        c0 = max(int(np.floor((left - t.c) / t.a)), 0)
        c1 = min(int(np.ceil((right - t.c) / t.a)), self.shape[1])
        r0 = max(int(np.floor((top - t.f) / t.e)), 0)
        r1 = min(int(np.ceil((bottom - t.f) / t.e)), self.shape[0])
        if r1 <= r0 or c1 <= c0:
            raise TerrainExtentError(f"bounds {bounds} do not overlap the terrain {self.bounds_lonlat}")
        return Terrain(self.elevation_m[r0:r1, c0:c1], t @ Affine.translation(c0, r0),
                       self.crs, self.void_mask[r0:r1, c0:c1], self.sources, self.keep_voids)


def _check_lonlat(lon, lat, what):
    if not (-180.0 <= lon <= 360.0) or not (-90.0 <= lat <= 90.0):
        raise InputError(f"{what}: ({lon}, {lat}) is not a valid (lon, lat) in degrees")


def check_bounds(bounds, name: str = "bounds") -> tuple[float, float, float, float]:
    """``bounds`` as four floats (lon_min, lat_min, lon_max, lat_max) in degrees, or an
    :class:`InputError` naming ``name``: not four numbers, a latitude outside +-90 (a (lat, lon, ...)
    order is named), a longitude outside -180..360, an empty or inverted box."""
    try:
        vals = tuple(float(b) for b in bounds)
    except (TypeError, ValueError):
        vals = ()
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise InputError(f"{name} must be four numbers (lon_min, lat_min, lon_max, lat_max) in degrees, "
                         f"got {bounds!r}")
    lon_min, lat_min, lon_max, lat_max = vals
    if abs(lat_min) > 90 or abs(lat_max) > 90:
        swapped = abs(lon_min) <= 90 and abs(lon_max) <= 90
        raise InputError(f"{name} {vals}: latitude {lat_min if abs(lat_min) > 90 else lat_max} is outside "
                         f"[-90, 90]" + ("; the order is (lon_min, lat_min, lon_max, lat_max): lon and lat look "
                                         "swapped" if swapped else ""))
    if not (-180 <= lon_min <= 360 and -180 <= lon_max <= 360):
        raise InputError(f"{name} {vals}: longitude outside [-180, 360]")
    if not (lon_min < lon_max and lat_min < lat_max):
        raise InputError(f"{name} {vals} is an empty or inverted box: need lon_min < lon_max and "
                         f"lat_min < lat_max (order: lon_min, lat_min, lon_max, lat_max)")
    return vals


def _bounds_in_crs(bounds, crs):
    lon_min, lat_min, lon_max, lat_max = check_bounds(bounds)
    if CRS.from_user_input(crs).is_geographic:
        return lon_min, lat_min, lon_max, lat_max
    return rasterio.warp.transform_bounds("EPSG:4326", crs, lon_min, lat_min, lon_max, lat_max,
                                          densify_pts=21)


def open_terrain(paths, bounds: Sequence[float] | None = None, *, fill_voids: bool = True) -> Terrain:
    """Open one or many DEM tiles as one terrain grid.

    Parameters
    ----------
    paths : str, path, or list of them; glob patterns allowed
        GeoTIFF, SRTM ``.hgt`` or zipped ``.hgt``. All tiles must share a CRS and resolution.
    bounds : (lon_min, lat_min, lon_max, lat_max), optional
        Area to read, in degrees. Default: the union of the tiles.
    fill_voids : bool
        True: fill nodata cells by inverse-distance interpolation (``rasterio.fill.fillnodata``) and
        predict over them, counting them in ``Terrain.void_mask`` (a
        :class:`~coverage.errors.TerrainWarning` says how many). False: keep the voids out of every
        prediction (NaN there, ``Terrain.keep_voids``); radials that cross a void still need a ground
        height and use the interpolated one.

    Raises
    ------
    TerrainReadError
        A file is missing or unreadable.
    TerrainExtentError
        The bounds miss every tile, or the area holds no valid elevation.
    """
    files = _expand_paths(paths)
    datasets = []
    try:
        for f in files:
            try:
                datasets.append(rasterio.open(_gdal_path(f)))
            except rasterio.errors.RasterioIOError as exc:
                raise TerrainReadError(f"cannot read terrain file {f}: {exc}") from exc
        crs0 = datasets[0].crs
        if crs0 is None:
            raise TerrainReadError(f"{files[0]}: the DEM has no CRS")
        for f, ds in zip(files, datasets):
            if ds.crs != crs0:
                raise InputError(f"{f}: CRS {ds.crs} differs from {files[0]} ({crs0}); reproject first")
            if not np.allclose(ds.res, datasets[0].res, rtol=1e-9):
                raise InputError(f"{f}: resolution {ds.res} differs from {files[0]} ({datasets[0].res})")
        nodata = [ds.nodata for ds in datasets]
        merge_bounds = None
        if bounds is not None:
            merge_bounds = _bounds_in_crs(bounds, crs0)
            union = rasterio.coords.BoundingBox(
                min(ds.bounds.left for ds in datasets), min(ds.bounds.bottom for ds in datasets),
                max(ds.bounds.right for ds in datasets), max(ds.bounds.top for ds in datasets))
            if rasterio.coords.disjoint_bounds(union, rasterio.coords.BoundingBox(*merge_bounds)):
                raise TerrainExtentError(
                    f"bounds {tuple(bounds)} do not overlap the terrain files {files} ({tuple(union)})")
            res = datasets[0].res
            # snap to the tiles' grid so that a subset keeps the cell centres of the source
            x0 = datasets[0].bounds.left
            y0 = datasets[0].bounds.top
            l, b, r, t = merge_bounds
            l = x0 + np.floor((l - x0) / res[0]) * res[0]
            r = x0 + np.ceil((r - x0) / res[0]) * res[0]
            t = y0 - np.floor((y0 - t) / res[1]) * res[1]
            b = y0 - np.ceil((y0 - b) / res[1]) * res[1]
            merge_bounds = (l, b, r, t)
        # Each tile's own nodata mask marks its voids; merging into float32 with NaN lets a void on
        # one tile's edge row be taken from the neighbour that shares that row (SRTM tiles overlap).
        mosaic, transform = rasterio.merge.merge(datasets, bounds=merge_bounds, nodata=np.nan,
                                                 dtype="float32", method="first")
        elev = mosaic[0].astype(np.float32)
    finally:
        for ds in datasets:
            ds.close()
    nodata0 = nodata[0]
    voids = ~np.isfinite(elev)
    if nodata0 is not None and np.isfinite(nodata0):
        voids |= elev == np.float32(nodata0)
    # SRTM void conventions (-32768 .hgt, -32767 DTED) even where a file forgot to declare them
    voids |= elev <= -32767
    if voids.all():
        raise TerrainExtentError(f"no valid elevation in the requested area of {files}"
                                 + (f" within bounds {tuple(bounds)}" if bounds is not None else ""))
    n_void = int(voids.sum())
    if n_void:
        elev[voids] = 0.0
        filled = rasterio.fill.fillnodata(elev, mask=(~voids).astype(np.uint8),
                                          max_search_distance=float(max(elev.shape)), smoothing_iterations=0)
        elev = np.asarray(filled, dtype=np.float32)
        what = ("kept as voids: NaN in predictions (radials across them use interpolated ground)"
                if not fill_voids else "filled by interpolation and predicted over")
        warnings.warn(f"terrain: {n_void} void cells ({100.0 * n_void / voids.size:.2f} %) {what}",
                      TerrainWarning, stacklevel=2)
    return Terrain(elev, transform, CRS.from_user_input(crs0), voids, tuple(files), keep_voids=not fill_voids)
