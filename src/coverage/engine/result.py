"""The coverage result: best-server layers on a georeferenced grid, and their views.

Layers (2-D, same grid):

* ``best_dbm`` (float32): strongest signal of any site, in the technology's metric (RSRP for 4G,
  RSCP for 3G, RxLev for 2G, SS-RSRP for 5G; total received power for mixed technologies); NaN
  where no site reaches.
* ``best_server`` (int32): row index in ``sites`` of that site; -1 where none.
* ``second_dbm`` (float32): second-strongest signal (NaN where fewer than two sites reach).
* ``n_servers`` (int16): number of sites at or above ``server_threshold_dbm``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from affine import Affine
from pyproj import CRS, Transformer

from .._atomic import atomic_path
from ..errors import InputError

__all__ = ["CoverageResult", "write_raster_atomic"]

LAYERS = ("best_dbm", "best_server", "second_dbm", "n_servers")

#: Unit and meaning of each layer, written into the GeoTIFF band metadata.
BAND_UNITS = {"best_dbm": "dBm", "best_server": "site index", "second_dbm": "dBm", "n_servers": "count"}
_BAND_NOTES = {
    "best_dbm": "strongest signal of any site (technology metric); nodata: no site reaches",
    "best_server": "0-based row of the strongest site in the sites table (see the .sites.csv beside this file "
                   "and the COVERAGE_SITE_IDS tag); nodata (NaN): no server, never site 0",
    "second_dbm": "second-strongest signal; nodata: fewer than two sites reach",
    "n_servers": "sites at or above the server threshold",
}


def describe_bands(dst, names) -> None:
    """Band descriptions, units and a one-line meaning of each layer of an open GeoTIFF."""
    for i, name in enumerate(names, start=1):
        dst.set_band_description(i, name)
        if name in BAND_UNITS:
            dst.set_band_unit(i, BAND_UNITS[name])
            dst.update_tags(i, MEANING=_BAND_NOTES[name])


def site_table_path(raster_path) -> str:
    """Path of the index -> site_id table written beside a result GeoTIFF (``x.tif`` -> ``x.sites.csv``)."""
    root, _ = os.path.splitext(os.fspath(raster_path))
    return root + ".sites.csv"


def write_site_table(raster_path, sites) -> str:
    """Write ``best_server`` index -> site_id (and position, technology, frequency) beside a GeoTIFF."""
    import pandas as pd

    cols = [c for c in ("site_id", "lon", "lat", "technology", "freq_mhz", "height_m", "eirp_dbm")
            if c in sites.columns]
    table = pd.DataFrame(sites[cols]).reset_index(drop=True)
    table.insert(0, "best_server", np.arange(len(table)))
    path = site_table_path(raster_path)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return path


def write_raster_atomic(path, arrays: dict[str, np.ndarray], transform, crs, *, tags: dict | None = None,
                        nodata=np.nan, dtype="float32", cog: bool = False) -> str:
    """Write bands to a GeoTIFF through a temporary file renamed into place (never half-written)."""
    import rasterio

    path = os.fspath(path)
    names = list(arrays)
    first = arrays[names[0]]
    profile = dict(driver="GTiff", height=first.shape[0], width=first.shape[1], count=len(names), dtype=dtype,
                   crs=CRS.from_user_input(crs).to_wkt(), transform=transform, nodata=nodata, compress="deflate",
                   tiled=True, blockxsize=256, blockysize=256)
    if cog:
        profile.update(driver="COG")
        for k in ("tiled", "blockxsize", "blockysize"):
            profile.pop(k)
        profile["blocksize"] = 256
    with atomic_path(path, suffix=".tif") as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            for i, name in enumerate(names, start=1):
                dst.write(np.asarray(arrays[name], dtype=dtype), i)
            describe_bands(dst, names)
            if tags:
                dst.update_tags(**{k: (v if isinstance(v, str) else json.dumps(v)) for k, v in tags.items()})
    return path


@dataclass
class CoverageResult:
    """Best-server coverage on a grid. Arrays are numpy; ``transform``/``crs`` georeference them."""

    best_dbm: np.ndarray
    best_server: np.ndarray
    second_dbm: np.ndarray
    n_servers: np.ndarray
    transform: Affine
    crs: CRS
    sites: Any  # GeoDataFrame of the sites, in best_server index order
    metric: str = "rsrp_dbm"
    technology: str = "4g"
    model: str = "p526"
    metadata: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ basics
    @property
    def shape(self) -> tuple[int, int]:
        return self.best_dbm.shape

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in the result's CRS."""
        rows, cols = self.shape
        t = self.transform
        return t.c, t.f + rows * t.e, t.c + cols * t.a, t.f

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(left, right, bottom, top), the order matplotlib's ``imshow(extent=...)`` wants."""
        l, b, r, t = self.bounds
        return l, r, b, t

    @property
    def has_terrain(self) -> bool:
        return bool(self.metadata.get("terrain", {}).get("has_terrain", False))

    def __repr__(self) -> str:
        covered = np.isfinite(self.best_dbm)
        rng = (f"{np.nanmin(self.best_dbm):.1f} .. {np.nanmax(self.best_dbm):.1f}" if covered.any() else "none")
        return (f"<CoverageResult {self.shape[0]}x{self.shape[1]} {self.crs.to_string()} model={self.model} "
                f"{self.metric} {rng}, {len(self.sites)} sites, "
                f"{'terrain' if self.has_terrain else 'no terrain (smooth earth)'}>")

    # ------------------------------------------------------------------ point access
    def _rowcol(self, lon, lat):
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        if self.crs.is_geographic:
            x, y = lon, lat
        else:
            x, y = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True).transform(lon, lat)
        inv = ~self.transform
        col, row = inv @ (np.asarray(x), np.asarray(y))
        return np.floor(row).astype(int), np.floor(col).astype(int)

    def sample(self, lon, lat, layer: str = "best_dbm") -> np.ndarray:
        """Value of ``layer`` in the cell containing each (lon, lat) point; NaN / -1 outside the grid."""
        if layer not in LAYERS:
            raise InputError(f"layer must be one of {LAYERS}, got {layer!r}")
        arr = getattr(self, layer)
        row, col = self._rowcol(lon, lat)
        inside = (row >= 0) & (row < self.shape[0]) & (col >= 0) & (col < self.shape[1])
        fill = -1 if arr.dtype.kind == "i" else np.nan
        out = np.full(row.shape, fill, dtype=arr.dtype if arr.dtype.kind == "i" else float)
        out[inside] = arr[row[inside], col[inside]]
        return out

    # ------------------------------------------------------------------ exports
    def tags(self) -> dict:
        """Metadata written into GeoTIFF tags."""
        return {"COVERAGE_MODEL": self.model, "COVERAGE_METRIC": self.metric, "COVERAGE_TECHNOLOGY": self.technology,
                "COVERAGE_METADATA": self.metadata, "COVERAGE_SITE_IDS": list(map(str, self.sites["site_id"]))}

    def to_geotiff(self, path, layers=LAYERS, *, cog: bool = False) -> str:
        """Write the layers as bands of one float32 GeoTIFF (NaN nodata; best_server -1 becomes NaN).

        Bands carry their name, unit and meaning; tags hold the model, metric, parameters and the site
        ids in ``best_server`` order, and ``<name>.sites.csv`` beside the file maps each ``best_server``
        value to its site_id for GIS users. The file is written to a temporary name and renamed, so a
        crash never leaves a half-written file.
        """
        arrays = {}
        for name in layers:
            if name not in LAYERS:
                raise InputError(f"layer must be one of {LAYERS}, got {name!r}")
            a = getattr(self, name).astype("float32")
            if name == "best_server":
                a[self.best_server < 0] = np.nan
            arrays[name] = a
        out = write_raster_atomic(path, arrays, self.transform, self.crs, tags=self.tags(), cog=cog)
        if "best_server" in arrays and "site_id" in getattr(self.sites, "columns", ()):
            write_site_table(path, self.sites)
        return out

    def to_xarray(self):
        """The layers as an ``xarray.Dataset`` with x/y coordinates of cell centres and CRS attributes."""
        import xarray as xr

        rows, cols = self.shape
        t = self.transform
        x = t.c + (np.arange(cols) + 0.5) * t.a
        y = t.f + (np.arange(rows) + 0.5) * t.e
        names = ("lon", "lat") if self.crs.is_geographic else ("x", "y")
        ds = xr.Dataset({name: ((names[1], names[0]), getattr(self, name)) for name in LAYERS},
                        coords={names[0]: x, names[1]: y})
        ds.attrs.update(crs=self.crs.to_wkt(), transform=tuple(t)[:6], model=self.model, metric=self.metric,
                        technology=self.technology, metadata=json.dumps(self.metadata))
        ds["best_dbm"].attrs["units"] = "dBm"
        ds["second_dbm"].attrs["units"] = "dBm"
        return ds

    @classmethod
    def from_geotiff(cls, path) -> "CoverageResult":
        """Read back a result written by :meth:`to_geotiff` (all four layers needed)."""
        import geopandas as gpd
        import rasterio

        with rasterio.open(path) as src:
            desc = list(src.descriptions)
            missing = [n for n in LAYERS if n not in desc]
            if missing:
                raise InputError(f"{path}: not a coverage result (missing bands {missing})")
            bands = {n: src.read(desc.index(n) + 1) for n in LAYERS}
            tags = src.tags()
            transform, crs = src.transform, CRS.from_user_input(src.crs.to_wkt())
        server = np.where(np.isnan(bands["best_server"]), -1, bands["best_server"]).astype(np.int32)
        ids = json.loads(tags.get("COVERAGE_SITE_IDS", "[]"))
        sites = gpd.GeoDataFrame({"site_id": ids})
        return cls(bands["best_dbm"], server, bands["second_dbm"], bands["n_servers"].astype(np.int16), transform, crs,
                   sites, tags.get("COVERAGE_METRIC", "rsrp_dbm"), tags.get("COVERAGE_TECHNOLOGY", "4g"),
                   tags.get("COVERAGE_MODEL", "?"), json.loads(tags.get("COVERAGE_METADATA", "{}")))
