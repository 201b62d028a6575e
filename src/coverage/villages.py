"""Villages: read and validate desa/kelurahan layers, and assess each one against a coverage result.

Reading (:func:`read_villages`) keeps administrative codes as strings — Kemendagri ``PP.KK.CC.DDDD``
(Permendagri 137/2017) or BPS 10 digits, never both silently — and the hierarchy columns
(``kode_kec/nama_kec``, ``kode_kab/nama_kab``, ``kode_prov/nama_prov``), deriving parent codes from
the village code where they are absent.

Assessment (:func:`assess_villages`) reads only the arrays of a :class:`~coverage.CoverageResult`
(never the numba kernels): every grid cell counts by the exact fraction of it that lies inside the
village polygon (rasterio finds the cells, shapely computes the partial ones), so a village narrower
than one cell still gets a value. Cells the result marks NaN (no site reaches) count as no signal.

:func:`run_villages` is the whole chain in one call: terrain (optional) + towers + villages ->
village table, indicator tables and files.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import CoverageWarning, FileFormatError, InputError, VillageError
from .thresholds import (
    DEFAULT_SHADOWING_SIGMA_DB,
    STATUS_THRESHOLDS,
    USABLE_DBM,
    SignalClasses,
    StatusThresholds,
    classify_signal,
    classify_status,
    signal_classes,
)

__all__ = [
    "read_villages",
    "assess_villages",
    "cell_fractions",
    "coverage_probability",
    "detect_code_system",
    "combine_tables",
    "run_villages",
    "VillageRun",
    "HIERARCHY_COLUMNS",
]

HIERARCHY_COLUMNS = ["kode_kec", "nama_kec", "kode_kab", "nama_kab", "kode_prov", "nama_prov"]

_KEMENDAGRI = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
_BPS = re.compile(r"^\d{10}$")

_CODE_NAMES = ["kode", "kode_desa", "kode_kemendagri", "code", "village_code", "kode_wilayah", "kdepum",
               "iddesa", "kode_bps", "kode10", "id_desa", "desa_id"]
_NAME_NAMES = ["nama", "nama_desa", "name", "village", "desa", "nama_kelurahan"]
_LON_NAMES = ["lng", "lon", "long", "longitude", "x", "bujur"]
_LAT_NAMES = ["lat", "latitude", "y", "lintang"]
_POP_NAMES = ["population", "penduduk", "jumlah_penduduk", "pop", "jiwa", "populasi"]

#: Authalic radius of the WGS84 ellipsoid (m): the sphere of the same area, for cell areas in degrees.
_R_AUTHALIC = 6_371_007.2


class _Warn(CoverageWarning):
    pass


# ---------------------------------------------------------------------------------------------
# codes


def _code_kind(code: str) -> str:
    if _KEMENDAGRI.match(code):
        return "kemendagri"
    if _BPS.match(code):
        return "bps"
    return "other"


def detect_code_system(codes, *, source: str = "<villages>", rows=None) -> str:
    """'kemendagri' or 'bps' for a sequence of string codes; errors on unknown or mixed systems.

    Kemendagri: ``PP.KK.CC.DDDD`` (Permendagri 137/2017); BPS: 10 digits (2 prov + 2 kab + 3 kec +
    3 desa). They are different numbering systems, not two spellings of one code.
    """
    codes = [str(c) for c in codes]
    kinds = np.array([_code_kind(c) for c in codes])
    rows = np.arange(1, len(codes) + 1) if rows is None else np.asarray(rows)
    other = np.flatnonzero(kinds == "other")
    if other.size:
        i = int(other[0])
        raise VillageError(f"{source}: row {rows[i]}: code {codes[i]!r} is neither Kemendagri 'PP.KK.CC.DDDD' "
                           f"nor BPS 10 digits ({other.size} such codes)")
    found = sorted(set(kinds.tolist()))
    if len(found) > 1:
        ik = int(np.flatnonzero(kinds == "kemendagri")[0])
        ib = int(np.flatnonzero(kinds == "bps")[0])
        raise VillageError(
            f"{source}: codes mix the Kemendagri and BPS systems (row {rows[ik]} {codes[ik]!r}, row {rows[ib]} "
            f"{codes[ib]!r}); they are different numberings: give a crosswalk column to translate one into "
            f"the other")
    return found[0] if found else "kemendagri"


def _codes_as_strings(values: pd.Series, source: str, column: str) -> pd.Series:
    """Codes as clean strings; numbers (a GeoJSON/Excel writer's doing) become their integer text."""
    out = []
    numeric = False
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            raise VillageError(f"{source}: row {i + 1}: column {column!r} has no code")
        if isinstance(v, (bool, np.bool_)):
            raise VillageError(f"{source}: row {i + 1}: code {v!r} is not a code")
        if isinstance(v, (int, np.integer)):
            numeric = True
            s = str(int(v))
        elif isinstance(v, (float, np.floating)):
            numeric = True
            if not float(v).is_integer():
                raise VillageError(f"{source}: row {i + 1}: code {v!r} in column {column!r} is a fraction")
            s = str(int(v))
        else:
            s = str(v).strip()
        if not s:
            raise VillageError(f"{source}: row {i + 1}: column {column!r} has an empty code")
        out.append(s)
    if numeric:
        warnings.warn(f"{source}: column {column!r} stored codes as numbers; they are kept as strings "
                      f"(a number cannot keep leading zeros: store codes as text)", _Warn, stacklevel=3)
    return pd.Series(out, index=values.index, dtype=object)


def _parents(code: str, system: str) -> tuple[str, str, str]:
    """(kecamatan, kabupaten, province) codes of a village code, in the same system."""
    if system == "kemendagri":
        return code[:8], code[:5], code[:2]
    return code[:7], code[:4], code[:2]


# ---------------------------------------------------------------------------------------------
# reading


def _pick(columns, names, given=None, what="column"):
    if given is not None:
        if given not in columns:
            raise FileFormatError(f"no {what} column {given!r}; columns are {list(columns)}")
        return given
    low = {str(c).lower().strip(): c for c in columns}
    for n in names:
        if n in low:
            return low[n]
    return None


def _numbers(series: pd.Series, source: str, column: str, rows) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float)
    text = series.astype("string").str.strip()
    blank = text.isna() | text.isin(["", "nan", "NaN", "None", "NA"])
    vals = pd.to_numeric(text.where(~blank, None), errors="coerce")
    bad = (vals.isna() & ~blank).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise VillageError(f"{source}: row {rows[i]}: column {column!r}: {series.iloc[i]!r} is not a number")
    return vals.to_numpy(dtype=float)


def _read_any(path, layer, lon_col, lat_col):
    """(GeoDataFrame, source name, row numbers as the user counts them)."""
    import geopandas as gpd

    if isinstance(path, gpd.GeoDataFrame):
        return path.copy(), path.attrs.get("source", "<GeoDataFrame>"), np.arange(1, len(path) + 1)
    if isinstance(path, pd.DataFrame):
        return _points_from_table(path.copy(), "<DataFrame>", lon_col, lat_col, np.arange(1, len(path) + 1))
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"villages file not found: {p}")
    if p.is_file() and p.stat().st_size == 0:
        raise FileFormatError(f"{p}: the villages file is empty")
    if p.suffix.lower() in (".csv", ".txt", ".tsv"):
        try:
            df = pd.read_csv(p, dtype=str, keep_default_na=False, sep="\t" if p.suffix.lower() == ".tsv" else ",")
        except pd.errors.EmptyDataError as exc:
            raise FileFormatError(f"{p}: the villages file is empty") from exc
        except pd.errors.ParserError as exc:
            raise FileFormatError(f"{p}: malformed CSV ({exc})") from exc
        # rows as in a spreadsheet: line 1 is the header
        return _points_from_table(df, str(p), lon_col, lat_col, np.arange(2, len(df) + 2))
    try:
        gdf = gpd.read_file(p, layer=layer) if layer is not None else gpd.read_file(p)
    except Exception as exc:  # pyogrio raises its own errors for malformed files
        raise FileFormatError(f"{p}: cannot read as a vector file ({exc})") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise FileFormatError(f"{p}: no geometry; give a polygon/point layer or a CSV with lat/lng")
    return gdf, str(p), np.arange(1, len(gdf) + 1)


def _points_from_table(df: pd.DataFrame, source: str, lon_col, lat_col, rows):
    import geopandas as gpd

    if len(df) == 0:
        raise FileFormatError(f"{source}: the villages table has no rows")
    lo = _pick(df.columns, _LON_NAMES, lon_col, "longitude")
    la = _pick(df.columns, _LAT_NAMES, lat_col, "latitude")
    if lo is None or la is None:
        raise FileFormatError(f"{source}: a villages table needs longitude and latitude columns (one of "
                              f"{_LON_NAMES} and {_LAT_NAMES}); columns are {list(df.columns)}")
    lon = _numbers(df[lo], source, lo, rows)
    lat = _numbers(df[la], source, la, rows)
    miss = ~np.isfinite(lon) | ~np.isfinite(lat)
    if miss.any():
        i = int(np.flatnonzero(miss)[0])
        raise VillageError(f"{source}: row {rows[i]}: missing longitude/latitude (empty geometry)")
    bad = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        hint = " (lat/lng swapped?)" if abs(lon[i]) <= 90 < abs(lat[i]) else ""
        raise VillageError(f"{source}: row {rows[i]}: ({lon[i]}, {lat[i]}) is not a lon/lat in degrees{hint}")
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    return gdf, source, rows


def read_villages(path, *, code: str | None = None, name: str | None = None, population: str | None = None,
                  hierarchy=None, crosswalk=None, repair: bool = False, layer: str | None = None,
                  lon: str | None = None, lat: str | None = None):
    """Read villages (polygons or points) with string codes and the administrative hierarchy.

    Parameters
    ----------
    path : str, Path, GeoDataFrame or DataFrame
        GeoJSON, GeoPackage or Shapefile of polygons or points, or a CSV with latitude/longitude
        columns (``lat``/``lng`` and the usual synonyms).
    code, name, population : str, optional
        Column names; by default found among common names (``kode``, ``kode_desa``, ``iddesa``...;
        ``nama``...; ``population``, ``penduduk``...). Population is a head count per village.
    hierarchy : path or DataFrame, optional
        A table with ``kode`` and hierarchy columns (``kode_kec, nama_kec, kode_kab, nama_kab,
        kode_prov, nama_prov``, optionally ``type`` and ``population``) joined on the code, e.g. the
        centroid CSV that accompanies a boundary file. Codes must be in the same system.
    crosswalk : str or mapping, optional
        Column of the table (or a mapping code -> code) translating codes of one system into the
        other. Required when a table mixes Kemendagri and BPS codes; the output ``kode`` is then in
        the crosswalk's target system and ``kode_input`` keeps what the file said.
    repair : bool
        Repair invalid polygons with ``shapely.make_valid`` (warning naming them) instead of raising.
    layer : str, optional
        Layer of a multi-layer file (GeoPackage).
    lon, lat : str, optional
        Coordinate columns of a CSV.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326; columns ``kode`` (str), ``nama``, ``type`` (desa/kelurahan where known), the
        hierarchy columns, ``population`` (float, NaN where unknown), the file's other columns and the
        geometry. ``attrs``: ``source``, ``code_system``, ``geometry_kind`` ('polygon'/'point'),
        ``repaired`` (codes).

    Raises
    ------
    VillageError
        Empty or invalid geometries, duplicate codes, unknown or mixed code systems (the message names
        the file, the row and the code).
    FileFormatError
        Unreadable file or missing columns.
    """
    import geopandas as gpd
    import shapely

    gdf, source, rows = _read_any(path, layer, lon, lat)
    if len(gdf) == 0:
        raise FileFormatError(f"{source}: no villages")
    gdf = gdf.reset_index(drop=True)
    ccol = _pick(gdf.columns, _CODE_NAMES, code, "code")
    if ccol is None:
        raise FileFormatError(f"{source}: no village code column (one of {_CODE_NAMES}); columns are "
                              f"{list(gdf.columns)}")
    codes = _codes_as_strings(gdf[ccol], source, ccol)
    codes_in = codes

    # ---- code system, crosswalk
    kinds = np.array([_code_kind(c) for c in codes])
    if crosswalk is not None:
        if isinstance(crosswalk, str):
            if crosswalk not in gdf.columns:
                raise FileFormatError(f"{source}: no crosswalk column {crosswalk!r}")
            xw_vals = _codes_as_strings(gdf[crosswalk], source, crosswalk)
            target = detect_code_system(xw_vals, source=f"{source} crosswalk column {crosswalk!r}", rows=rows)
            translated = [c if k == target else x for c, k, x in zip(codes, kinds, xw_vals)]
        else:
            m = {str(k): str(v) for k, v in dict(crosswalk).items()}
            target = detect_code_system(list(m.values()), source=f"{source} crosswalk")
            translated = []
            for i, (c, k) in enumerate(zip(codes, kinds)):
                if k == target:
                    translated.append(c)
                elif c in m:
                    translated.append(m[c])
                else:
                    raise VillageError(f"{source}: row {rows[i]}: code {c!r} is not in the crosswalk")
        gdf["kode_input"] = codes.to_numpy()
        codes = pd.Series(translated, index=gdf.index, dtype=object)
    system = detect_code_system(codes, source=source, rows=rows)

    # ---- geometry
    geom = gdf.geometry
    if gdf.crs is None:
        b = geom.total_bounds
        if not (np.all(np.isfinite(b)) and -180 <= b[0] and b[2] <= 180 and -90 <= b[1] and b[3] <= 90):
            raise FileFormatError(f"{source}: no CRS and coordinates are not lon/lat degrees")
        gdf = gdf.set_crs("EPSG:4326")
    elif not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    geom = gdf.geometry.values
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise VillageError(f"{source}: row {rows[i]} (code {codes.iloc[i]!r}): empty geometry "
                           f"({int(missing.sum())} villages have none)")
    types = shapely.get_type_id(geom)  # 0 point, 3 polygon, 6 multipolygon
    ok_type = np.isin(types, [0, 3, 6])
    if not ok_type.all():
        i = int(np.flatnonzero(~ok_type)[0])
        raise VillageError(f"{source}: row {rows[i]} (code {codes.iloc[i]!r}): a {geom[i].geom_type} is "
                           f"neither a village polygon nor a point")
    polygonal = types != 0
    if polygonal.any() and (~polygonal).any():
        raise VillageError(f"{source}: mixes polygons and points (row {rows[int(np.flatnonzero(~polygonal)[0])]} "
                           f"is a point): give one kind per layer")
    invalid = ~shapely.is_valid(geom)
    repaired: list[str] = []
    if invalid.any():
        idx = np.flatnonzero(invalid)
        i = int(idx[0])
        if not repair:
            raise VillageError(f"{source}: row {rows[i]} (code {codes.iloc[i]!r}): invalid geometry "
                               f"({shapely.is_valid_reason(geom[i])}); {idx.size} invalid in all — fix them or "
                               f"pass repair=True (shapely.make_valid)")
        geom = geom.copy()
        for j in idx:
            fixed = shapely.make_valid(geom[j])
            parts = [g for g in shapely.get_parts(fixed) if g.geom_type in ("Polygon", "MultiPolygon")]
            poly = shapely.union_all(parts) if parts else None
            if poly is None or poly.is_empty or poly.area == 0:
                raise VillageError(f"{source}: row {rows[j]} (code {codes.iloc[j]!r}): invalid geometry that "
                                   f"does not repair into a polygon")
            geom[j] = poly
            repaired.append(codes.iloc[j])
        gdf = gdf.set_geometry(gpd.GeoSeries(geom, index=gdf.index, crs="EPSG:4326"))
        warnings.warn(f"{source}: repaired {len(repaired)} invalid polygon(s) with make_valid: {repaired[:10]}",
                      _Warn, stacklevel=2)
    if polygonal.any():
        zero = shapely.area(gdf.geometry.values) <= 0
        if zero.any():
            i = int(np.flatnonzero(zero)[0])
            raise VillageError(f"{source}: row {rows[i]} (code {codes.iloc[i]!r}): polygon of zero area")
    else:
        xy = shapely.get_coordinates(gdf.geometry.values)
        if not np.all(np.isfinite(xy)):
            i = int(np.flatnonzero(~np.isfinite(xy).all(axis=1))[0])
            raise VillageError(f"{source}: row {rows[i]} (code {codes.iloc[i]!r}): point without coordinates")

    # ---- duplicates
    dup = codes.duplicated(keep=False).to_numpy()
    if dup.any():
        first = codes[dup].iloc[0]
        where = [int(rows[i]) for i in np.flatnonzero((codes == first).to_numpy())]
        raise VillageError(f"{source}: duplicate village code {first!r} at rows {where} "
                           f"({int(codes[dup].nunique())} duplicated codes in all)")

    out = gdf.copy()
    if ccol != "kode" and "kode" in out.columns:
        out = out.rename(columns={"kode": "kode_other"})  # a 'kode' that is not the village code
    out["kode"] = codes.to_numpy()
    if ccol != "kode":
        out[ccol] = codes_in.to_numpy()  # the code column itself stays too, as strings
    ncol = _pick(out.columns, _NAME_NAMES, name, "name")
    if ncol is not None and ncol != "nama":
        out["nama"] = out[ncol].astype(str)
    elif ncol is None:
        out["nama"] = pd.Series([None] * len(out), dtype=object)

    # ---- hierarchy table
    if hierarchy is not None:
        h = hierarchy if isinstance(hierarchy, pd.DataFrame) else pd.read_csv(hierarchy, dtype=str,
                                                                               keep_default_na=False)
        hsrc = "<hierarchy DataFrame>" if isinstance(hierarchy, pd.DataFrame) else str(hierarchy)
        hcode = _pick(h.columns, _CODE_NAMES, None, "code")
        if hcode is None:
            raise FileFormatError(f"{hsrc}: no code column to join on")
        hcodes = _codes_as_strings(h[hcode], hsrc, hcode)
        hsys = detect_code_system(hcodes, source=hsrc)
        if hsys != system:
            raise VillageError(f"{hsrc}: codes are {hsys} but the villages' are {system}: they are different "
                               f"numberings and cannot be joined without a crosswalk")
        keep = [c for c in HIERARCHY_COLUMNS + ["type"] + _POP_NAMES if c in h.columns and c != hcode]
        h2 = pd.DataFrame({"kode": hcodes.to_numpy()})
        for c in keep:
            h2[c] = h[c].to_numpy()
        if h2["kode"].duplicated().any():
            raise VillageError(f"{hsrc}: duplicate code {h2.loc[h2['kode'].duplicated(), 'kode'].iloc[0]!r}")
        out = out.drop(columns=[c for c in keep if c in out.columns])
        out = out.merge(h2, on="kode", how="left", validate="one_to_one")
        unmatched = ~out["kode"].isin(set(h2["kode"]))
        if unmatched.any():
            warnings.warn(f"{hsrc}: {int(unmatched.sum())} village codes have no hierarchy row (e.g. "
                          f"{out.loc[unmatched, 'kode'].iloc[0]!r}); parent codes derived from the code",
                          _Warn, stacklevel=2)

    # ---- hierarchy derived from the code where absent
    parents = [_parents(c, system) for c in out["kode"]]
    for j, col in enumerate(("kode_kec", "kode_kab", "kode_prov")):
        derived = pd.Series([p[j] for p in parents], index=out.index, dtype=object)
        if col in out.columns:
            cur = out[col].astype(object)
            blank = cur.isna() | (cur.astype(str).str.strip() == "")
            out[col] = cur.where(~blank, derived).astype(str)
        else:
            out[col] = derived
    for col in ("nama_kec", "nama_kab", "nama_prov"):
        if col not in out.columns:
            out[col] = pd.Series([None] * len(out), dtype=object)
    if "type" not in out.columns:
        # Kemendagri DDDD starting 1 = kelurahan, 2 = desa (Permendagri 137/2017); BPS codes do not say
        out["type"] = [("kelurahan" if c[9] == "1" else "desa" if c[9] == "2" else None)
                       if system == "kemendagri" else None for c in out["kode"]]

    # ---- population
    pcol = _pick(out.columns, _POP_NAMES, population, "population")
    if pcol is not None:
        pop = _numbers(out[pcol], source, pcol, rows)
        neg = pop < 0
        if neg.any():
            i = int(np.flatnonzero(neg)[0])
            raise VillageError(f"{source}: row {rows[i]} (code {out['kode'].iloc[i]!r}): negative population")
        out["population"] = pop
    else:
        out["population"] = np.nan

    first = ["kode", "nama", "type"] + HIERARCHY_COLUMNS + ["population"]
    rest = [c for c in out.columns if c not in first and c != out.geometry.name]
    out = out[first + rest + [out.geometry.name]]
    out = gpd.GeoDataFrame(out, geometry=out.geometry.name, crs="EPSG:4326")
    out.attrs.update(source=source, code_system=system, geometry_kind="polygon" if polygonal.any() else "point",
                     repaired=repaired)
    return out


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
                    population_raster=None, _cache: dict | None = None):
    """Per-village coverage statistics and status from a coverage result.

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
        ``status`` (covered / partial / blankspot; 'unassessed' only when wholly outside the grid),
        ``technology``, ``model``, ``has_terrain``. ``attrs`` carries the thresholds and the
        result's metadata (terrain, model, towers).
    """
    import geopandas as gpd
    import shapely
    from pyproj import CRS, Geod, Transformer

    if not isinstance(villages, gpd.GeoDataFrame):
        villages = read_villages(villages)
    if len(villages) == 0:
        raise InputError("no villages to assess")
    if "kode" not in villages.columns:
        raise InputError("villages need a 'kode' column: read them with coverage.read_villages")
    rtech = str(getattr(result, "technology", "4g")).lower()
    tech = rtech if technology is None else str(technology).lower()
    if tech != rtech:
        hint = (" (the result combines technologies on total received power: predict with technology="
                f"{tech!r})" if rtech == "mixed" else "")
        raise InputError(f"technology {tech!r} does not match the result's {rtech!r} ({result.metric}){hint}")
    T = float(USABLE_DBM[tech] if usable_dbm is None else usable_dbm)
    cls = signal_classes(tech, classes)
    st = status_thresholds or StatusThresholds(
        STATUS_THRESHOLDS.blankspot_below if blankspot_below is None else float(blankspot_below),
        STATUS_THRESHOLDS.covered_from if covered_from is None else float(covered_from))

    v = villages.to_crs("EPSG:4326") if villages.crs is not None and not villages.crs.equals("EPSG:4326") else villages
    geoms = v.geometry.values
    is_point = shapely.get_type_id(geoms) == 0
    n = len(v)
    rcrs = CRS.from_user_input(result.crs)
    tr = result.transform
    shape = result.shape
    best = np.asarray(result.best_dbm, dtype=float)

    # ---- signal at the village point
    pts = np.where(is_point, geoms, shapely.point_on_surface(geoms))
    plon, plat = shapely.get_x(pts), shapely.get_y(pts)
    sig = result.sample(plon, plat, "best_dbm").astype(float)
    srv = result.sample(plon, plat, "best_server").astype(int)

    # ---- area statistics, exact area weights
    if rcrs.is_geographic:
        g_grid = geoms
    else:
        g_grid = np.asarray(gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(rcrs).values)
    grid_box = shapely.box(*result.bounds)
    geod = Geod(ellps="WGS84")
    cols_out = {k: np.full(n, np.nan) for k in (
        "p10_dbm", "p50_dbm", "p90_dbm", "usable_share", "share_good", "share_fair", "share_weak", "share_none",
        "p_cover_area", "area_km2", "extent_share")}
    # the cell weights depend only on the grid: a run assessing several technologies on one grid
    # passes a cache (keyed by the grid) and computes them once
    key = (tuple(tr)[:6], tuple(shape), rcrs.to_wkt())
    cached = None if _cache is None else _cache.get(key)
    if cached is None:
        cached = {}
        for i in range(n):
            if is_point[i]:
                continue
            g = g_grid[i]
            # pyproj sums signed ring areas: orient rings (exterior CCW, holes CW) so holes subtract
            area_km2 = abs(geod.geometry_area_perimeter(shapely.orient_polygons(geoms[i]))[0]) / 1e6
            ext = shapely.area(shapely.intersection(g, grid_box)) / shapely.area(g) if shapely.area(g) > 0 else 0.0
            rr, cc, frac = cell_fractions(g, tr, shape)
            cached[i] = (area_km2, ext, rr, cc, frac * _cell_area_m2(tr, rcrs, rr))
        if _cache is not None:
            _cache[key] = cached
    for i, (area_km2, ext, rr, cc, w) in cached.items():
        cols_out["area_km2"][i] = area_km2
        cols_out["extent_share"][i] = ext
        if rr.size == 0:
            continue
        vals = best[rr, cc]
        tot = w.sum()
        sv = np.where(np.isnan(vals), -np.inf, vals)
        cols_out["usable_share"][i] = w[sv >= T].sum() / tot
        cols_out["share_good"][i] = w[sv >= cls.good_dbm].sum() / tot
        cols_out["share_fair"][i] = w[(sv >= cls.fair_dbm) & (sv < cls.good_dbm)].sum() / tot
        cols_out["share_weak"][i] = w[(sv >= cls.weak_dbm) & (sv < cls.fair_dbm)].sum() / tot
        cols_out["share_none"][i] = w[sv < cls.weak_dbm].sum() / tot
        cols_out["p10_dbm"][i], cols_out["p50_dbm"][i], cols_out["p90_dbm"][i] = _wquantiles(vals, w, (0.1, 0.5, 0.9))
        cols_out["p_cover_area"][i] = float(np.sum(w * coverage_probability(vals, T, sigma_db)) / tot)

    # point villages: the point is the village
    r_pt, c_pt = result._rowcol(plon, plat)
    in_grid_pt = (r_pt >= 0) & (r_pt < shape[0]) & (c_pt >= 0) & (c_pt < shape[1])
    p_point = coverage_probability(sig, T, sigma_db)
    for k in ("p10_dbm", "p50_dbm", "p90_dbm"):
        cols_out[k] = np.where(is_point, sig, cols_out[k])
    sv_pt = np.where(np.isnan(sig), -np.inf, sig)
    for k, m in (("usable_share", sv_pt >= T), ("share_good", sv_pt >= cls.good_dbm),
                 ("share_fair", (sv_pt >= cls.fair_dbm) & (sv_pt < cls.good_dbm)),
                 ("share_weak", (sv_pt >= cls.weak_dbm) & (sv_pt < cls.fair_dbm)), ("share_none", sv_pt < cls.weak_dbm)):
        cols_out[k] = np.where(is_point, np.where(in_grid_pt, m.astype(float), np.nan), cols_out[k])
    cols_out["p_cover_area"] = np.where(is_point, np.where(in_grid_pt, p_point, np.nan), cols_out["p_cover_area"])
    cols_out["extent_share"] = np.where(is_point, in_grid_pt.astype(float), cols_out["extent_share"])

    # ---- population
    pop = v["population"].to_numpy(dtype=float) if "population" in v.columns else np.full(n, np.nan)
    pop_share = cols_out["usable_share"].copy()  # uniform density within a village unless a raster says
    pop_basis = np.where(np.isfinite(pop), "uniform", "none").astype(object)
    pop_raster_total = np.full(n, np.nan)
    if population_raster is not None:
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
        pop = np.where(np.isfinite(pop), pop, pop_raster_total)
    pop_covered = pop * pop_share

    # ---- servers and sites
    sites = result.sites
    site_ids = sites["site_id"].astype(str).to_numpy() if "site_id" in sites.columns else np.array([], str)
    best_id = np.array([site_ids[j] if 0 <= j < site_ids.size else None for j in srv], dtype=object)
    best_km = np.full(n, np.nan)
    near_id = np.full(n, None, dtype=object)
    near_km = np.full(n, np.nan)
    if {"lon", "lat"} <= set(sites.columns) and len(sites):
        slon, slat = sites["lon"].to_numpy(float), sites["lat"].to_numpy(float)
        ok = (srv >= 0) & (srv < slon.size)
        if ok.any():
            _, _, d = geod.inv(plon[ok], plat[ok], slon[srv[ok]], slat[srv[ok]])
            best_km[ok] = np.asarray(d) / 1e3
        j, d = _nearest_sites(plon, plat, slon, slat)
        near_id = site_ids[j].astype(object)
        near_km = d / 1e3

    # ---- assemble
    out = villages.copy()
    out["point_lon"], out["point_lat"] = plon, plat
    out["signal_dbm"] = sig
    out["signal_class"] = classify_signal(sig, tech, cls)
    for k in ("p10_dbm", "p50_dbm", "p90_dbm", "usable_share", "share_good", "share_fair", "share_weak",
              "share_none"):
        out[k] = cols_out[k]
    out["p_cover_point"] = np.where(in_grid_pt, p_point, np.nan)
    out["p_cover_area"] = cols_out["p_cover_area"]
    out["population_share"] = np.where(np.isfinite(pop), pop_share, np.nan)
    out["population_covered"] = pop_covered
    out["population_basis"] = pop_basis
    out["area_km2"] = cols_out["area_km2"]
    out["extent_share"] = cols_out["extent_share"]
    out["outside_extent"] = ~(cols_out["extent_share"] >= 0.999)
    out["best_server"] = best_id
    out["best_server_km"] = best_km
    out["nearest_site"] = near_id
    out["nearest_site_km"] = near_km
    out["status"] = classify_status(cols_out["usable_share"], st)
    out["technology"] = tech
    out["model"] = result.model
    out["has_terrain"] = bool(result.has_terrain)
    outside = out["outside_extent"].to_numpy()
    if outside.any():
        codes = out.loc[outside, "kode"].tolist()
        full = int((cols_out["extent_share"][outside] == 0).sum())
        warnings.warn(f"{int(outside.sum())} of {n} villages lie partly or wholly outside the coverage extent "
                      f"{tuple(round(b, 4) for b in result.bounds)} ({full} wholly: status 'unassessed'): "
                      f"{codes[:8]}{' ...' if len(codes) > 8 else ''}; flagged in 'outside_extent', kept",
                      _Warn, stacklevel=2)
    meta = dict(result.metadata)
    out.attrs = dict(villages.attrs)
    out.attrs.update({
        "technology": tech, "metric": result.metric, "model": result.model, "usable_dbm": T,
        "signal_classes": {"good_dbm": cls.good_dbm, "fair_dbm": cls.fair_dbm, "weak_dbm": cls.weak_dbm,
                           "source": cls.source},
        "status_thresholds": {"blankspot_below": st.blankspot_below, "covered_from": st.covered_from},
        "sigma_db": float(sigma_db), "has_terrain": bool(result.has_terrain),
        "terrain": meta.get("terrain", {"has_terrain": bool(result.has_terrain)}),
        "result_metadata": meta, "n_sites": int(len(sites)),
        "sites_source": sites.attrs.get("source") if hasattr(sites, "attrs") else None,
    })
    return out


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


# ---------------------------------------------------------------------------------------------
# the whole chain


#: Hata / COST-231 environment used by the chain when the caller gives none: "suburban". Kalimantan
#: villages are scattered settlements in forest and plantation; Hata's "open" correction (-30 dB at
#: 1800 MHz) assumes open farmland and ignores foliage loss, the "urban" curve is for built-up
#: cities; "suburban" sits between. Say otherwise with model_params={"environment": ...}.
DEFAULT_EMPIRICAL_ENVIRONMENT = "suburban"

TOWER_EXTRACT_NOTE = ("The towers are an OpenCelliD extract (crowd-sourced cell positions, no heights, powers or "
                      "azimuths: documented defaults). A partial extract shows the extract's coverage, not the "
                      "operators' network.")


@dataclass
class VillageRun:
    """What :func:`run_villages` returns."""

    table: Any  # GeoDataFrame of the primary technology
    tables: dict = field(default_factory=dict)  # technology -> village table
    indicators: dict = field(default_factory=dict)  # level -> DataFrame
    results: dict = field(default_factory=dict)  # technology -> CoverageResult
    metadata: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)


def choose_model(model: str, has_terrain: bool, freqs_mhz) -> str:
    """The propagation model the chain uses: ``model`` itself, or for 'auto' p526 with terrain and,
    without, Okumura-Hata (<= 1500 MHz) or COST-231 Hata (1500-2000 MHz) by the sites' frequencies."""
    if model != "auto":
        return model
    if has_terrain:
        return "p526"
    f = np.asarray(list(freqs_mhz), dtype=float)
    if np.all(f <= 1500.0):
        return "hata"
    if np.all((f >= 1500.0) & (f <= 2000.0)):
        return "cost231"
    raise InputError(f"no single empirical model covers the frequencies {sorted(set(f.tolist()))} MHz "
                     f"(Hata 150-1500, COST-231 1500-2000): give terrain (p526) or a model explicitly")


def run_villages(sites, villages, *, terrain=None, model: str = "auto", technologies: Sequence[str] | None = ("4g",),
                 bounds=None, resolution_m: float = 250.0, radius_m: float = 30_000.0, rx_height_m: float = 1.5,
                 model_params: Mapping | None = None, usable_dbm: float | None = None,
                 blankspot_below: float | None = None, covered_from: float | None = None,
                 sigma_db: float = DEFAULT_SHADOWING_SIGMA_DB, hierarchy=None, repair: bool = False,
                 population_raster=None, out_dir=None, extrapolate: bool = False, note: str | None = None,
                 progress: bool | None = False) -> VillageRun:
    """Terrain (optional) + towers + villages -> village tables, indicator tables and files, in one call.

    Parameters
    ----------
    sites : path or DataFrame
        Towers (:func:`coverage.read_sites`: plain CSV, GeoJSON, OpenCelliD).
    villages : path or GeoDataFrame
        Villages (:func:`read_villages`; ``hierarchy`` and ``repair`` are passed on).
    terrain : Terrain, path(s) or None
        DEM; ``None`` runs on a smooth earth with an empirical model (said in every output).
    model : str
        'auto' (p526 with terrain; Hata or COST-231 by frequency without) or a model name.
    technologies : sequence of str, optional
        Technologies to assess; the first is the primary one (status, indicators); the others add
        their ``share_population_covered_<tech>`` columns (SDG 9.c.1 by technology). ``None``: every
        technology of the sites file, 4G first.
    bounds : (lon_min, lat_min, lon_max, lat_max), optional
        Prediction area; default the villages' extent plus one cell (no terrain) or the terrain's.
    resolution_m : float
        Cell size without terrain (m); with terrain the DEM's grid is used.
    radius_m, rx_height_m, model_params, extrapolate
        Passed to :func:`coverage.predict`; ``model_params`` defaults to the environment
        :data:`DEFAULT_EMPIRICAL_ENVIRONMENT` for Hata / COST-231.
    usable_dbm, blankspot_below, covered_from, sigma_db, population_raster
        Passed to :func:`assess_villages`.
    out_dir : path, optional
        Write ``villages_<tech>.csv``, ``villages_<tech>.geojson``, ``indicator_<level>.csv``,
        ``indicators.xlsx`` and ``metadata.json`` there (atomically).
    note : str, optional
        A sentence about the data carried into the metadata (default: the OpenCelliD extract note).

    Returns
    -------
    VillageRun
    """
    import time

    from .indicator import LEVELS, indicator, indicator_by_technology
    from .predict import predict
    from .sites import read_sites
    from .terrain import Terrain, open_terrain

    t0 = time.perf_counter()
    s = read_sites(sites) if not isinstance(sites, pd.DataFrame) else sites
    # a table read by read_villages is used as is; anything else is read (and validated) first
    v = villages if getattr(villages, "attrs", {}).get("code_system") and hasattr(villages, "geometry") \
        else read_villages(villages, hierarchy=hierarchy, repair=repair)
    if terrain is not None and not isinstance(terrain, Terrain):
        terrain = open_terrain(terrain)
    techs = list(technologies) if technologies else sorted(set(s["technology"]), key=lambda t: (t != "4g", t))
    techs = [str(t).lower() for t in techs]
    present = set(s["technology"])
    missing = [t for t in techs if t not in present]
    if missing:
        raise InputError(f"no {missing} sites in {s.attrs.get('source', 'the sites')}: technologies present "
                         f"are {sorted(present)}")
    dropped = 0
    if terrain is not None:
        # a terrain model cannot run a site outside the DEM: keep those inside, and say so
        inside = np.asarray(terrain.contains(s["lon"].to_numpy(), s["lat"].to_numpy()), bool)
        dropped = int((~inside).sum())
        if dropped:
            warnings.warn(f"{dropped} of {len(s)} sites lie outside the terrain and are left out of the "
                          f"terrain run", _Warn, stacklevel=2)
        s = s[inside].reset_index(drop=True)
        techs = [t for t in techs if t in set(s["technology"])]
        if not techs:
            raise InputError("no site of the requested technologies lies inside the terrain")
    if bounds is None and terrain is None:
        lo0, la0, lo1, la1 = v.total_bounds
        pad = resolution_m / 111_000.0
        bounds = (lo0 - pad, la0 - pad, lo1 + pad, la1 + pad)
    tables, results, models, cache = {}, {}, {}, {}
    for tech in techs:
        st = s[s["technology"] == tech].reset_index(drop=True)
        st.attrs = dict(s.attrs)
        m = choose_model(model, terrain is not None, st["freq_mhz"].unique())
        params = dict(model_params or {})
        if m in ("hata", "cost231") and "environment" not in params:
            params["environment"] = DEFAULT_EMPIRICAL_ENVIRONMENT
        r = predict(terrain, st, model=m, radius_m=radius_m, rx_height_m=rx_height_m, bounds=bounds,
                    resolution_m=None if terrain is not None else resolution_m, technology=tech,
                    model_params=params, extrapolate=extrapolate, progress=progress)
        results[tech], models[tech] = r, {"model": m, "model_params": params}
        tables[tech] = assess_villages(v, r, tech, usable_dbm=usable_dbm if tech == techs[0] else None,
                                       blankspot_below=blankspot_below, covered_from=covered_from,
                                       sigma_db=sigma_db, population_raster=population_raster, _cache=cache)
    primary = tables[techs[0]]
    inds = {}
    for level in LEVELS:
        ind = indicator(primary, level=level)
        if len(techs) > 1:
            sdg = indicator_by_technology(tables, level=level)
            ind = ind.merge(sdg.drop(columns=[c for c in sdg.columns if c in ind.columns and c != "kode"]),
                            on="kode", how="left")
        inds[level] = ind
    meta = {
        "technologies": techs, "models": models, "has_terrain": terrain is not None,
        "terrain": results[techs[0]].metadata.get("terrain"),
        "sites_source": s.attrs.get("source"), "n_sites": {t: int((s["technology"] == t).sum()) for t in techs},
        "sites_outside_terrain_left_out": dropped,
        "villages_source": v.attrs.get("source"), "n_villages": int(len(v)),
        "code_system": v.attrs.get("code_system"), "repaired_geometries": v.attrs.get("repaired", []),
        "resolution_m": None if terrain is not None else float(resolution_m),
        "bounds": None if bounds is None else [float(b) for b in bounds], "radius_m": float(radius_m),
        "rx_height_m": float(rx_height_m), "usable_dbm": primary.attrs["usable_dbm"],
        "status_thresholds": primary.attrs["status_thresholds"], "sigma_db": float(sigma_db),
        "note": TOWER_EXTRACT_NOTE if note is None else note,
    }
    files = {}
    if out_dir is not None:
        from .export import write_run

        files = write_run(out_dir, tables, inds, meta)
    meta["seconds"] = round(time.perf_counter() - t0, 3)
    for t in tables.values():
        t.attrs["run"] = meta
    return VillageRun(primary, tables, inds, results, meta, files)
