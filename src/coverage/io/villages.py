"""Read and validate desa/kelurahan layers.

:func:`read_villages` keeps administrative codes as strings — Kemendagri ``PP.KK.CC.DDDD``
(Permendagri 137/2017) or BPS 10 digits, never both silently — and the hierarchy columns
(``kode_kec/nama_kec``, ``kode_kab/nama_kab``, ``kode_prov/nama_prov``), deriving parent codes from
the village code where they are absent.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CoverageWarning, FileFormatError, MissingFileError, VillageError
from ._problems import RowProblems
from ._text import read_text_table

__all__ = ["read_villages", "detect_code_system", "HIERARCHY_COLUMNS"]

HIERARCHY_COLUMNS = ["kode_kec", "nama_kec", "kode_kab", "nama_kab", "kode_prov", "nama_prov"]

_KEMENDAGRI = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
_BPS = re.compile(r"^\d{10}$")

_CODE_NAMES = ["kode", "kode_desa", "kode_kemendagri", "code", "village_code", "kode_wilayah", "kdepum",
               "iddesa", "kode_bps", "kode10", "id_desa", "desa_id"]
_NAME_NAMES = ["nama", "nama_desa", "name", "village", "desa", "nama_kelurahan"]
_LON_NAMES = ["lng", "lon", "long", "longitude", "x", "bujur"]
_LAT_NAMES = ["lat", "latitude", "y", "lintang"]
_POP_NAMES = ["population", "penduduk", "jumlah_penduduk", "pop", "jiwa", "populasi"]


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
        problems = RowProblems(source)
        for i in other:
            problems.add(rows[i], "code", f"code {codes[i]!r} is neither Kemendagri 'PP.KK.CC.DDDD' nor BPS 10 digits")
        problems.raise_if_any(VillageError)
    found = sorted(set(kinds.tolist()))
    if len(found) > 1:
        ik = int(np.flatnonzero(kinds == "kemendagri")[0])
        ib = int(np.flatnonzero(kinds == "bps")[0])
        raise VillageError(
            f"{source}: codes mix the Kemendagri and BPS systems (row {rows[ik]} {codes[ik]!r}, row {rows[ib]} "
            f"{codes[ib]!r}); they are different numberings: give a crosswalk column to translate one into "
            f"the other")
    return found[0] if found else "kemendagri"


def _codes_as_strings(values: pd.Series, source: str, column: str, rows=None) -> pd.Series:
    """Codes as clean strings; numbers (a GeoJSON/Excel writer's doing) become their integer text.

    Every row without a usable code is reported in one :class:`VillageError`."""
    rows = np.arange(1, len(values) + 1) if rows is None else np.asarray(rows)
    problems = RowProblems(source)
    out = []
    numeric = False
    for i, v in enumerate(values.tolist()):
        s = ""
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            problems.add(rows[i], column, "no code")
        elif isinstance(v, (bool, np.bool_)):
            problems.add(rows[i], column, f"code {v!r} is not a code")
        elif isinstance(v, (int, np.integer)):
            numeric = True
            s = str(int(v))
        elif isinstance(v, (float, np.floating)):
            numeric = True
            if not float(v).is_integer():
                problems.add(rows[i], column, f"code {v!r} is a fraction")
            else:
                s = str(int(v))
        else:
            s = str(v).strip()
            if not s:
                problems.add(rows[i], column, "empty code")
        out.append(s)
    problems.raise_if_any(VillageError)
    if numeric:
        warnings.warn(f"{source}: column {column!r} stored codes as numbers; they are kept as strings "
                      f"(a number cannot keep leading zeros: store codes as text)", CoverageWarning, stacklevel=3)
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


def _numbers(series: pd.Series, source: str, column: str, rows, problems: RowProblems | None = None) -> np.ndarray:
    """Numbers of a column; unparseable cells are added to ``problems`` (or raised at once without it)."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float)
    text = series.astype("string").str.strip()
    blank = text.isna() | text.isin(["", "nan", "NaN", "None", "NA"])
    vals = pd.to_numeric(text.where(~blank, None), errors="coerce")
    bad = (vals.isna() & ~blank).to_numpy()
    own = problems is None
    problems = RowProblems(source) if own else problems
    for i in np.flatnonzero(bad):
        problems.add(rows[i], column, f"{series.iloc[i]!r} is not a number")
    if own:
        problems.raise_if_any(VillageError)
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
        raise MissingFileError(f"villages file not found: {p}")
    if p.is_file() and p.stat().st_size == 0:
        raise FileFormatError(f"{p}: the villages file is empty")
    if p.suffix.lower() in (".csv", ".txt", ".tsv"):
        df = read_text_table(p, "villages", dtype=str, keep_default_na=False)
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
    problems = RowProblems(source)
    lon = _numbers(df[lo], source, lo, rows, problems)
    lat = _numbers(df[la], source, la, rows, problems)
    for i in np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat)):
        problems.add(rows[i], lo if not np.isfinite(lon[i]) else la, "missing longitude/latitude (no position)")
    for i in np.flatnonzero((np.abs(lat) > 90) | (np.abs(lon) > 180)):
        hint = " (lat/lng swapped?)" if abs(lon[i]) <= 90 < abs(lat[i]) else ""
        problems.add(rows[i], la if abs(lat[i]) > 90 else lo, f"({lon[i]}, {lat[i]}) is not a lon/lat in degrees{hint}")
    problems.raise_if_any(VillageError)
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

    gdf, source, rows = _read_any(path, layer, lon, lat)
    if len(gdf) == 0:
        raise FileFormatError(f"{source}: no villages")
    gdf = gdf.reset_index(drop=True)
    ccol, codes, codes_in, system = _village_codes(gdf, source, rows, code, crosswalk)
    gdf, polygonal, repaired = _checked_geometries(gdf, source, rows, codes, repair)
    _check_duplicates(codes, source, rows)
    out = _code_and_name_columns(gdf, ccol, codes, codes_in, name)
    if hierarchy is not None:
        out = _join_hierarchy(out, hierarchy, system)
    _derive_hierarchy(out, system)
    _population_column(out, population, source, rows)
    first = ["kode", "nama", "type"] + HIERARCHY_COLUMNS + ["population"]
    rest = [c for c in out.columns if c not in first and c != out.geometry.name]
    out = out[first + rest + [out.geometry.name]]
    out = gpd.GeoDataFrame(out, geometry=out.geometry.name, crs="EPSG:4326")
    out.attrs.update(source=source, code_system=system, geometry_kind="polygon" if polygonal.any() else "point",
                     repaired=repaired)
    return out


def _village_codes(gdf, source, rows, code, crosswalk):
    """(code column, codes in the output system, codes as the file has them, system)."""
    ccol = _pick(gdf.columns, _CODE_NAMES, code, "code")
    if ccol is None:
        raise FileFormatError(f"{source}: no village code column (one of {_CODE_NAMES}); columns are "
                              f"{list(gdf.columns)}")
    codes = _codes_as_strings(gdf[ccol], source, ccol, rows)
    codes_in = codes
    if crosswalk is not None:
        codes = _translate(codes, gdf, source, rows, crosswalk)
        gdf["kode_input"] = codes_in.to_numpy()
    return ccol, codes, codes_in, detect_code_system(codes, source=source, rows=rows)


def _translate(codes, gdf, source, rows, crosswalk) -> pd.Series:
    """Codes translated into the crosswalk's target system (codes already in it are kept)."""
    kinds = np.array([_code_kind(c) for c in codes])
    if isinstance(crosswalk, str):
        if crosswalk not in gdf.columns:
            raise FileFormatError(f"{source}: no crosswalk column {crosswalk!r}")
        xw_vals = _codes_as_strings(gdf[crosswalk], source, crosswalk, rows)
        target = detect_code_system(xw_vals, source=f"{source} crosswalk column {crosswalk!r}", rows=rows)
        translated = [c if k == target else x for c, k, x in zip(codes, kinds, xw_vals)]
    else:
        m = {str(k): str(v) for k, v in dict(crosswalk).items()}
        target = detect_code_system(list(m.values()), source=f"{source} crosswalk")
        problems = RowProblems(source)
        translated = []
        for i, (c, k) in enumerate(zip(codes, kinds)):
            if k != target and c not in m:
                problems.add(rows[i], "code", f"code {c!r} is not in the crosswalk")
            translated.append(c if k == target else m.get(c, c))
        problems.raise_if_any(VillageError)
    return pd.Series(translated, index=gdf.index, dtype=object)


def _checked_geometries(gdf, source, rows, codes, repair):
    """(GeoDataFrame in EPSG:4326 with valid geometries, polygonal mask, repaired codes)."""
    import shapely

    if gdf.crs is None:
        b = gdf.geometry.total_bounds
        if not (np.all(np.isfinite(b)) and -180 <= b[0] and b[2] <= 180 and -90 <= b[1] and b[3] <= 90):
            raise FileFormatError(f"{source}: no CRS and coordinates are not lon/lat degrees")
        gdf = gdf.set_crs("EPSG:4326")
    elif not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    geom = gdf.geometry.values
    problems = RowProblems(source)
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    for i in np.flatnonzero(missing):
        problems.add(rows[i], "geometry", f"(code {codes.iloc[i]!r}) empty geometry")
    types = shapely.get_type_id(geom)  # 0 point, 3 polygon, 6 multipolygon
    for i in np.flatnonzero(~np.isin(types, [0, 3, 6]) & ~missing):
        problems.add(rows[i], "geometry", f"(code {codes.iloc[i]!r}) a {geom[i].geom_type} is neither a village "
                                          f"polygon nor a point")
    problems.raise_if_any(VillageError)
    polygonal = types != 0
    if polygonal.any() and (~polygonal).any():
        raise VillageError(f"{source}: mixes polygons and points (row {rows[int(np.flatnonzero(~polygonal)[0])]} "
                           f"is a point): give one kind per layer")
    gdf, repaired = _repaired(gdf, source, rows, codes, repair)
    if polygonal.any():
        for i in np.flatnonzero(shapely.area(gdf.geometry.values) <= 0):
            problems.add(rows[i], "geometry", f"(code {codes.iloc[i]!r}) polygon of zero area")
    else:
        xy = shapely.get_coordinates(gdf.geometry.values)
        for i in np.flatnonzero(~np.isfinite(xy).all(axis=1)):
            problems.add(rows[i], "geometry", f"(code {codes.iloc[i]!r}) point without coordinates")
    problems.raise_if_any(VillageError)
    return gdf, polygonal, repaired


def _repaired(gdf, source, rows, codes, repair):
    """Invalid polygons: every one named in one error, or repaired with make_valid (and said)."""
    import geopandas as gpd
    import shapely

    geom = gdf.geometry.values
    idx = np.flatnonzero(~shapely.is_valid(geom))
    if idx.size == 0:
        return gdf, []
    problems = RowProblems(source)
    if not repair:
        for j in idx:
            problems.add(rows[j], "geometry", f"(code {codes.iloc[j]!r}) invalid geometry "
                                              f"({shapely.is_valid_reason(geom[j])})")
        raise VillageError(problems.message("fix them or pass repair=True (shapely.make_valid)"))
    geom = geom.copy()
    repaired = []
    for j in idx:
        parts = [g for g in shapely.get_parts(shapely.make_valid(geom[j]))
                 if g.geom_type in ("Polygon", "MultiPolygon")]
        poly = shapely.union_all(parts) if parts else None
        if poly is None or poly.is_empty or poly.area == 0:
            problems.add(rows[j], "geometry", f"(code {codes.iloc[j]!r}) invalid geometry that does not repair "
                                              f"into a polygon")
            continue
        geom[j] = poly
        repaired.append(codes.iloc[j])
    problems.raise_if_any(VillageError)
    gdf = gdf.set_geometry(gpd.GeoSeries(geom, index=gdf.index, crs="EPSG:4326"))
    warnings.warn(f"{source}: repaired {len(repaired)} invalid polygon(s) with make_valid: {repaired[:10]}",
                  CoverageWarning, stacklevel=4)
    return gdf, repaired


def _check_duplicates(codes, source, rows) -> None:
    dup = codes.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    problems = RowProblems(source)
    for code_value in pd.unique(codes[dup]):
        where = [int(rows[i]) for i in np.flatnonzero((codes == code_value).to_numpy())]
        problems.add(where[0], "code", f"duplicate village code {code_value!r} at rows {where}")
    problems.raise_if_any(VillageError)


def _code_and_name_columns(gdf, ccol, codes, codes_in, name):
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
    return out


def _join_hierarchy(out, hierarchy, system):
    """Join a hierarchy table (same code system) on the code."""
    h = hierarchy if isinstance(hierarchy, pd.DataFrame) else read_text_table(hierarchy, "hierarchy", dtype=str,
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
                      CoverageWarning, stacklevel=4)
    return out


def _derive_hierarchy(out, system) -> None:
    """Parent codes derived from the village code where absent; names and type columns present."""
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


def _population_column(out, population, source, rows) -> None:
    pcol = _pick(out.columns, _POP_NAMES, population, "population")
    if pcol is None:
        out["population"] = np.nan
        return
    pop = _numbers(out[pcol], source, pcol, rows)
    problems = RowProblems(source)
    for i in np.flatnonzero(pop < 0):
        problems.add(rows[i], pcol, f"(code {out['kode'].iloc[i]!r}) negative population {pop[i]:g}")
    problems.raise_if_any(VillageError)
    out["population"] = pop
