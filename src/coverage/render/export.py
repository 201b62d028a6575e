"""Exports of village tables and indicators: CSV, GeoJSON / GeoPackage, an Excel workbook.

Every write goes to a temporary file in the target folder and is renamed into place with
``os.replace``: a crash never leaves a half-written file under the final name. Codes stay text in
every format (CSV cells are text; Excel cells are written as strings, so ``64.01.01.2009`` and
``6401012009`` keep their form and leading zeros).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from .._atomic import atomic_path
from ..errors import InputError

__all__ = ["write_csv", "write_villages", "write_excel", "write_json", "write_run", "atomic_path"]


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    if hasattr(df, "geometry") and "geometry" in df.columns:
        df = pd.DataFrame(df.drop(columns=["geometry"]))
    return df


def write_csv(df: pd.DataFrame, path) -> str:
    """Write a table as UTF-8 CSV (no index, no geometry), atomically. Returns the path."""
    with atomic_path(path) as tmp:
        _plain(df).to_csv(tmp, index=False)
    return str(path)


def write_json(obj, path) -> str:
    """Write JSON (numpy values converted), atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=2, default=_jsonable, ensure_ascii=False)
    return str(path)


def _jsonable(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def write_villages(table, path, *, driver: str | None = None) -> str:
    """Write villages with their status as GeoJSON (``.geojson``/``.json``) or GeoPackage (``.gpkg``).

    Object columns are written as text; the metadata (terrain or smooth earth, model, thresholds)
    goes into columns already in the table (``has_terrain``, ``model``, ``technology``) and, for a
    GeoPackage, into the layer's metadata too.
    """
    import geopandas as gpd

    if not isinstance(table, gpd.GeoDataFrame):
        raise InputError("write_villages needs a GeoDataFrame (the output of assess_villages)")
    suffix = Path(path).suffix.lower()
    if driver is None:
        driver = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}.get(suffix)
        if driver is None:
            raise InputError(f"{path}: use .geojson or .gpkg (or give driver=)")
    out = table.copy()
    for c in out.columns:
        if c != out.geometry.name and out[c].dtype == object:
            out[c] = out[c].map(lambda x: None if x is None or (isinstance(x, float) and np.isnan(x)) else str(x))
    if "has_terrain" in out.columns:
        out["has_terrain"] = out["has_terrain"].astype(bool)
    out = out.to_crs("EPSG:4326") if out.crs is not None else out
    kwargs = {}
    if driver == "GPKG":
        meta = {k: v for k, v in table.attrs.items() if k != "result_metadata"}
        kwargs["metadata"] = {"coverage": json.dumps(meta, default=_jsonable)}
        kwargs["layer"] = "villages"
    with atomic_path(path) as tmp:
        try:
            out.to_file(tmp, driver=driver, **kwargs)
        except TypeError:  # an older pyogrio without layer metadata
            kwargs.pop("metadata", None)
            out.to_file(tmp, driver=driver, **kwargs)
    return str(path)


def write_excel(sheets: Mapping[str, pd.DataFrame], path, *, about: Mapping | None = None) -> str | None:
    """Write one sheet per table (e.g. per administrative level) and an 'about' sheet, atomically.

    Codes are written as text cells; shares keep their 0..1 values with a percent number format;
    the header row is frozen and bold. ``about`` (key -> value) lists what the numbers rest on
    (terrain or smooth earth, model, thresholds, the tower extract's caveat). Without the optional
    package openpyxl nothing is written, a warning says so, and ``None`` is returned.
    """
    try:
        import openpyxl  # noqa: F401
    except ImportError:  # an optional extra: the CSV tables hold the same numbers
        import warnings

        from ..errors import CoverageWarning

        warnings.warn(f"{Path(path).name} not written: it needs the optional package openpyxl "
                      "(python -m pip install 'blankspot-coverage[excel]'); the CSV tables hold the same numbers",
                      CoverageWarning, stacklevel=2)
        return None
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for name, df in sheets.items():
        ws = wb.create_sheet(str(name)[:31])
        df = _plain(df)
        cols = list(df.columns)
        ws.append(cols)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in df.itertuples(index=False):
            ws.append([_cell(v) for v in row])
        for j, c in enumerate(cols, start=1):
            letter = get_column_letter(j)
            if str(c).startswith("share_") or c in ("usable_share", "extent_share", "mean_usable_share"):
                for cell in ws[letter][1:]:
                    cell.number_format = "0.0%"
            elif str(c).startswith("kode"):
                for cell in ws[letter][1:]:
                    cell.number_format = "@"
            ws.column_dimensions[letter].width = min(max(len(str(c)) + 2, 10), 40)
        ws.freeze_panes = "A2"
    if about:
        ws = wb.create_sheet("about")
        ws.append(["key", "value"])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for k, v in about.items():
            ws.append([str(k), v if isinstance(v, (int, float, str)) else json.dumps(v, default=_jsonable)])
        ws.column_dimensions["A"].width = 28
        ws.column_dimensions["B"].width = 100
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return str(path)


def _cell(v):
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, (list, dict, tuple)):
        return json.dumps(v, default=_jsonable)
    return v


def write_run(out_dir, tables: Mapping[str, pd.DataFrame], indicators: Mapping[str, pd.DataFrame],
              metadata: Mapping) -> dict:
    """Write a run's outputs into ``out_dir`` as one set; returns {what: final path}.

    ``villages_<tech>.csv`` and ``villages_<tech>.geojson`` per technology, ``indicator_<level>.csv``
    per level, ``indicators.xlsx`` (one sheet per level + 'villages' + 'about') and ``metadata.json``.
    The set is written into a temporary sibling folder and swapped in whole
    (:func:`coverage._atomic.atomic_dir`): an interrupt leaves ``out_dir`` as it was, a second run
    never keeps the first run's files, and a folder of other files is refused. While writing,
    ``<out_dir>.lock`` makes a second run into the same folder refuse instead of interleaving.
    """
    from .._atomic import atomic_dir, output_lock

    out_dir = Path(out_dir)
    with output_lock(out_dir), atomic_dir(out_dir) as tmp:
        names = _write_set(tmp, tables, indicators, metadata)
    return {k: str(out_dir / Path(v).name) for k, v in names.items()}


def _write_set(out_dir: Path, tables, indicators, metadata) -> dict:
    files = {}
    for tech, t in tables.items():
        files[f"villages_{tech}_csv"] = write_csv(t, out_dir / f"villages_{tech}.csv")
        files[f"villages_{tech}_geojson"] = write_villages(t, out_dir / f"villages_{tech}.geojson")
    for level, ind in indicators.items():
        files[f"indicator_{level}_csv"] = write_csv(ind, out_dir / f"indicator_{level}.csv")
    primary = next(iter(tables.values()))
    about = {
        "what": "Villages without usable mobile signal (blankspot) and the Smart Living telecom indicator",
        "terrain": ("terrain model over a DEM" if metadata.get("has_terrain") else
                    "NO TERRAIN: empirical model over a smooth earth (ground at 0 m everywhere)"),
        **{k: v for k, v in metadata.items() if k != "seconds"},
        "score": "100 x (0.4 V + 0.4 P + 0.2 A) / (weights of the terms available); V = (covered + partial/2)"
                 " / villages, P = population share covered, A = area share covered",
    }
    sheets = {level: ind for level, ind in indicators.items()}
    keep = [c for c in primary.columns if c != "geometry"]
    sheets["villages"] = pd.DataFrame(primary[keep])
    xlsx = write_excel(sheets, out_dir / "indicators.xlsx", about=about)
    if xlsx is not None:
        files["xlsx"] = xlsx
    files["metadata"] = write_json(dict(metadata), out_dir / "metadata.json")
    return files
