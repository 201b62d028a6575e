"""Land cover: a class raster on the terrain grid, with a representative clutter height per class.

``open_landcover(path, classes="worldcover", terrain=None)`` reads a class raster (any CRS or
resolution) and, given a terrain, resamples it to the terrain grid by the *majority* class of the
source cells under each terrain cell (``rasterio.warp.reproject`` with ``Resampling.mode``: class
codes are never interpolated). Each class maps to

* a representative clutter height R (m): what raises the intermediate points of a P.1812 profile
  (P.1812-7 §3.2) and what a terminal stands in for ITU-R P.2108 §3.1;
* a P.1812 cover category (1 water/sea, 2 open/rural, 3 suburban, 4 urban/trees/forest,
  5 dense urban: the coverage codes of the ITU-R SG3 profile files);
* a P.2108 clutter type (1 water/sea, 2 open/rural, 3 suburban, 4 urban, 5 trees/forest,
  6 dense urban).

Built-in tables: ``"p1812"`` (the five categories with the representative heights of P.1812-7
Table 2: 0, 0, 10, 15, 20 m) and ``"worldcover"`` (ESA WorldCover 10 m v100/v200 codes 10-100,
each assigned to a P.1812 category with that category's Table 2 height; built-up is taken as
suburban, 10 m, the low-rise kampung fabric of Kalimantan towns; mangroves as forest). A user table
(CSV with columns ``code,name,height_m`` and optionally ``category,p2108_type``, or a dict
``{code: height_m}`` / ``{code: {"name":..., "height_m":..., ...}}``) overrides rows of the
built-in table or adds codes. Codes in the raster that the table lacks are an error naming each code
and its cell count.

``uniform_landcover("forest", terrain)`` applies one category everywhere (no raster); its
``source`` says so and the engine's metadata repeats it.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import CoverageWarning, FileFormatError, InputError, TerrainReadError
from ._text import read_text_table

__all__ = ["LandCover", "open_landcover", "uniform_landcover", "landcover_from_array", "class_table",
           "CATEGORY_HEIGHT_M", "CATEGORY_NAMES"]

#: P.1812 cover categories (SG3 coverage codes) -> name
CATEGORY_NAMES = {1: "water/sea", 2: "open/rural", 3: "suburban", 4: "urban/trees/forest", 5: "dense urban"}
#: P.1812-7 Table 2 representative clutter heights (m) per category
CATEGORY_HEIGHT_M = {1: 0.0, 2: 0.0, 3: 10.0, 4: 15.0, 5: 20.0}
#: words accepted for a uniform cover -> (name, P.1812 category, P.2108 type)
UNIFORM = {
    "water": ("water/sea", 1, 1), "sea": ("water/sea", 1, 1),
    "open": ("open/rural", 2, 2), "rural": ("open/rural", 2, 2), "grass": ("open/rural", 2, 2),
    "suburban": ("suburban", 3, 3),
    "urban": ("urban", 4, 4),
    "forest": ("trees/forest", 4, 5), "trees": ("trees/forest", 4, 5),
    "dense_urban": ("dense urban", 5, 6), "dense urban": ("dense urban", 5, 6),
}

_P1812_ROWS = [(1, "water/sea", 1, 1), (2, "open/rural", 2, 2), (3, "suburban", 3, 3),
               (4, "urban/trees/forest", 4, 5), (5, "dense urban", 5, 6)]
_WORLDCOVER_ROWS = [  # code, name, P.1812 category, P.2108 type
    (10, "tree cover", 4, 5), (20, "shrubland", 2, 2), (30, "grassland", 2, 2), (40, "cropland", 2, 2),
    (50, "built-up", 3, 3), (60, "bare / sparse vegetation", 2, 2), (70, "snow and ice", 2, 2),
    (80, "permanent water bodies", 1, 1), (90, "herbaceous wetland", 2, 2), (95, "mangroves", 4, 5),
    (100, "moss and lichen", 2, 2),
]
_COLUMNS = ["code", "name", "height_m", "category", "p2108_type"]


def _builtin(rows) -> pd.DataFrame:
    return pd.DataFrame([(c, n, CATEGORY_HEIGHT_M[cat], cat, t) for c, n, cat, t in rows], columns=_COLUMNS)


def class_table(classes="worldcover", overrides=None) -> pd.DataFrame:
    """The class table: ``code, name, height_m, category, p2108_type`` (one row per code).

    ``classes`` is ``"worldcover"``, ``"p1812"``, a CSV path, a DataFrame or a dict; ``overrides``
    (same forms) replaces rows of it by code or adds codes.
    """
    table = _as_table(classes)
    if overrides is not None:
        extra = _as_table(overrides, base=table)
        table = pd.concat([table[~table["code"].isin(extra["code"])], extra], ignore_index=True)
    return table.sort_values("code").reset_index(drop=True)


def _as_table(spec, base=None) -> pd.DataFrame:
    if isinstance(spec, str) and spec.lower() in ("worldcover", "esa_worldcover"):
        return _builtin(_WORLDCOVER_ROWS)
    if isinstance(spec, str) and spec.lower() in ("p1812", "itu", "sg3"):
        return _builtin(_P1812_ROWS)
    if isinstance(spec, dict):
        rows = []
        for code, v in spec.items():
            old = base[base["code"] == int(code)].iloc[0].to_dict() if base is not None and \
                (base["code"] == int(code)).any() else {}
            row = dict(old) if old else {"name": f"class {code}", "category": 2, "p2108_type": 2}
            if isinstance(v, dict):
                row.update(v)
            else:
                row["height_m"] = v
            row["code"] = int(code)
            rows.append(row)
        df = pd.DataFrame(rows)
    elif isinstance(spec, pd.DataFrame):
        df = spec.copy()
    elif isinstance(spec, (str, os.PathLike)):
        if not os.path.exists(spec):
            raise FileFormatError(f"land-cover class table {spec!r} not found (or name one of 'worldcover', 'p1812')")
        df = read_text_table(spec, "land-cover class table")
    else:
        raise InputError(f"classes must be 'worldcover', 'p1812', a CSV path, a DataFrame or a dict; got {spec!r}")
    return _validate(df, str(spec) if not isinstance(spec, (dict, pd.DataFrame)) else "the class table")


def _validate(df: pd.DataFrame, where: str) -> pd.DataFrame:
    df = df.rename(columns=str.lower)
    for col in ("code", "height_m"):
        if col not in df.columns:
            raise FileFormatError(f"{where}: missing column {col!r} (need code, name, height_m)")
    if "name" not in df.columns:
        df["name"] = [f"class {c}" for c in df["code"]]
    if "category" not in df.columns:
        df["category"] = 2
    if "p2108_type" not in df.columns:
        df["p2108_type"] = df["category"].map({1: 1, 2: 2, 3: 3, 4: 5, 5: 6})
    df = df[_COLUMNS].copy()
    for i, row in df.iterrows():
        if not (np.isfinite(float(row["height_m"])) and float(row["height_m"]) >= 0):
            raise FileFormatError(f"{where}: row {i + 1} (code {row['code']}): height_m must be >= 0, "
                                  f"got {row['height_m']!r}")
        if int(row["category"]) not in CATEGORY_NAMES:
            raise FileFormatError(f"{where}: row {i + 1} (code {row['code']}): category must be 1-5, "
                                  f"got {row['category']!r}")
        if int(row["p2108_type"]) not in range(1, 7):
            raise FileFormatError(f"{where}: row {i + 1} (code {row['code']}): p2108_type must be 1-6, "
                                  f"got {row['p2108_type']!r}")
    if df["code"].duplicated().any():
        raise FileFormatError(f"{where}: duplicated codes {sorted(df.loc[df['code'].duplicated(), 'code'])}")
    return df.astype({"code": np.int64, "height_m": float, "category": np.int64, "p2108_type": np.int64})


@dataclass
class LandCover:
    """Clutter on a grid: per-cell class code, clutter height (m), P.1812 category and P.2108 type.

    ``transform``/``crs`` are those of the grid the arrays are on (the terrain's after resampling).
    ``source`` says where the cover came from ("uniform: forest" when one cover was applied).
    """

    code: np.ndarray
    height_m: np.ndarray
    category: np.ndarray
    p2108_type: np.ndarray
    table: pd.DataFrame
    source: str
    transform: object = None
    crs: object = None
    no_data_cells: int = 0
    _pct: dict = field(default_factory=dict, repr=False)

    @property
    def shape(self):
        return self.height_m.shape

    def percentages(self) -> dict:
        """Share of cells (%) per class name."""
        if not self._pct:
            codes, counts = np.unique(self.code, return_counts=True)
            names = dict(zip(self.table["code"], self.table["name"]))
            total = counts.sum()
            self._pct = {names.get(int(c), "no data"): round(100.0 * n / total, 3) for c, n in zip(codes, counts)}
        return self._pct

    def metadata(self) -> dict:
        """Source, class table and percentages, for result metadata."""
        return {"source": self.source, "percent_by_class": self.percentages(), "no_data_cells": int(self.no_data_cells),
                "class_table": self.table.to_dict("records")}

    def window(self, r0: int, r1: int, c0: int, c1: int) -> "LandCover":
        """Rows r0:r1, columns c0:c1 (same grid as a terrain window cut the same way)."""
        from affine import Affine

        t = self.transform @ Affine.translation(c0, r0) if self.transform is not None else None
        return LandCover(self.code[r0:r1, c0:c1], self.height_m[r0:r1, c0:c1], self.category[r0:r1, c0:c1],
                         self.p2108_type[r0:r1, c0:c1], self.table, self.source, t, self.crs, self.no_data_cells)


def _from_codes(code: np.ndarray, table: pd.DataFrame, source: str, transform, crs, nodata) -> LandCover:
    code = np.asarray(code)
    valid = np.ones(code.shape, bool) if nodata is None else code != nodata
    known = np.isin(code, table["code"].to_numpy())
    unknown = valid & ~known
    if unknown.any():
        vals, counts = np.unique(code[unknown], return_counts=True)
        listing = ", ".join(f"{int(v)} ({int(n)} cells)" for v, n in zip(vals, counts))
        raise FileFormatError(f"land cover {source}: class codes not in the class table: {listing}; "
                              f"known codes: {table['code'].tolist()} (add them with a CSV or dict table)")
    lut_h = dict(zip(table["code"], table["height_m"]))
    lut_c = dict(zip(table["code"], table["category"]))
    lut_t = dict(zip(table["code"], table["p2108_type"]))
    flat = code.ravel()
    uniq, inv = np.unique(flat, return_inverse=True)
    h = np.array([lut_h.get(int(u), 0.0) for u in uniq])[inv].reshape(code.shape)
    c = np.array([lut_c.get(int(u), 2) for u in uniq])[inv].reshape(code.shape)
    t = np.array([lut_t.get(int(u), 2) for u in uniq])[inv].reshape(code.shape)
    n_nodata = int((~valid).sum())
    if n_nodata:
        warnings.warn(f"land cover {source}: {n_nodata} cells have no class (nodata); they are taken as open "
                      f"ground without clutter (0 m)", CoverageWarning, stacklevel=3)
    return LandCover(code.astype(np.int32), np.ascontiguousarray(h, np.float64), c.astype(np.int8),
                     t.astype(np.int8), table, source, transform, crs, n_nodata)


def open_landcover(path, classes="worldcover", terrain=None, *, overrides=None) -> LandCover:
    """Read a land-cover class raster and map its classes to clutter heights.

    Parameters
    ----------
    path : str or path
        Class raster (GeoTIFF or any GDAL raster), any CRS and resolution.
    classes : {"worldcover", "p1812"}, CSV path, DataFrame or dict
        Class table (see the module notes).
    terrain : coverage.Terrain, optional
        Resample to this terrain's grid by majority class (``Resampling.mode``).
    overrides : CSV path, DataFrame or dict, optional
        Rows replacing or adding to ``classes``.

    Returns
    -------
    LandCover
    """
    import rasterio
    from rasterio.warp import Resampling, reproject

    table = class_table(classes, overrides)
    if not os.path.exists(path):
        raise TerrainReadError(f"land-cover raster not found: {path}")
    try:
        with rasterio.open(path) as ds:
            src = ds.read(1)
            nodata = ds.nodata
            s_transform, s_crs = ds.transform, ds.crs
    except rasterio.errors.RasterioIOError as exc:
        raise TerrainReadError(f"cannot read land-cover raster {path}: {exc}") from exc
    if s_crs is None:
        raise FileFormatError(f"land-cover raster {path} has no CRS")
    nodata_val = int(nodata) if nodata is not None else None
    if terrain is None:
        return _from_codes(src, table, str(path), s_transform, s_crs, nodata_val)
    fill = nodata_val if nodata_val is not None else -1
    dst = np.full(terrain.shape, fill, dtype=np.int32)
    reproject(src.astype(np.int32), dst, src_transform=s_transform, src_crs=s_crs, src_nodata=nodata_val,
              dst_transform=terrain.transform, dst_crs=terrain.crs, dst_nodata=fill,
              resampling=Resampling.mode)
    return _from_codes(dst, table, str(path), terrain.transform, terrain.crs, fill)


def uniform_landcover(cover: str, terrain=None, shape=None, *, height_m: float | None = None) -> LandCover:
    """One cover everywhere (``"forest"``, ``"urban"``, ``"suburban"``, ``"open"``, ``"water"``,
    ``"dense_urban"``), at the P.1812-7 Table 2 height of its category unless ``height_m`` is given."""
    key = str(cover).lower()
    if key not in UNIFORM:
        raise InputError(f"clutter must be one of {sorted(UNIFORM)}, got {cover!r}")
    name, cat, typ = UNIFORM[key]
    h = CATEGORY_HEIGHT_M[cat] if height_m is None else float(height_m)
    if shape is None:
        if terrain is None:
            raise InputError("uniform_landcover needs a terrain or a shape")
        shape = terrain.shape
    table = pd.DataFrame([(cat, name, h, cat, typ)], columns=_COLUMNS)
    lc = LandCover(np.full(shape, cat, np.int32), np.full(shape, h), np.full(shape, cat, np.int8),
                   np.full(shape, typ, np.int8), table, f"uniform: {name} ({h:g} m) applied everywhere",
                   getattr(terrain, "transform", None), getattr(terrain, "crs", None))
    return lc


def landcover_from_array(codes, classes, terrain, *, source: str) -> LandCover:
    """A land cover from class codes already on ``terrain``'s grid (e.g. rasterised polygons);
    ``source`` says where they came from (it goes into the metadata)."""
    codes = np.asarray(codes)
    if codes.shape != tuple(terrain.shape):
        raise InputError(f"codes of shape {codes.shape} do not match the terrain grid {terrain.shape}")
    return _from_codes(codes, class_table(classes), source, terrain.transform, terrain.crs, None)
