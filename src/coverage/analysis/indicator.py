"""The Smart Living telecom indicator: village tables aggregated to kecamatan, kabupaten and province.

Per administrative unit: villages (assessed / unassessed), covered / partial / blankspot villages and
their shares, share of population covered (SDG 9.c.1 style: people within reach of a usable mobile
signal of the technology), share of area covered (ITU-T smart sustainable city KPI "area with mobile
broadband"), and one 0–100 telecom-availability score.

Telecom-availability score (0–100)
----------------------------------
::

    score = 100 × (0.4·V + 0.4·P + 0.2·A) / (sum of the weights of the terms available)

* ``V`` = (covered + ½·partial) / assessed villages — villages are the unit the Smart City
  evaluation and the blankspot programme count; a partial village counts half.
* ``P`` = population with a usable signal / population (SDG 9.c.1); left out when no population is
  known (the weights of the remaining terms are renormalised and ``score_terms`` says which were used).
* ``A`` = area with a usable signal / area — weighted lowest because most of Kalimantan's area is
  uninhabited forest where coverage matters less than where people live.

Counts and areas are additive: the kabupaten rows of a province sum to the province row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .assess import _as_bool, _check_uniform

__all__ = ["indicator", "indicator_by_technology", "LEVELS", "SCORE_WEIGHTS"]

LEVELS = ("kecamatan", "kabupaten", "province")
_KEYS = {"kecamatan": ("kode_kec", "nama_kec"), "kabupaten": ("kode_kab", "nama_kab"),
         "province": ("kode_prov", "nama_prov")}
_PARENTS = {"kecamatan": ["kode_kab", "nama_kab", "kode_prov", "nama_prov"],
            "kabupaten": ["kode_prov", "nama_prov"], "province": []}

#: Weights of the score's terms: villages served (V), population covered (P), area covered (A).
SCORE_WEIGHTS = {"V": 0.4, "P": 0.4, "A": 0.2}


def _level(level: str) -> str:
    key = str(level).lower()
    aliases = {"kec": "kecamatan", "district": "kecamatan", "kab": "kabupaten", "kota": "kabupaten",
               "regency": "kabupaten", "prov": "province", "provinsi": "province"}
    key = aliases.get(key, key)
    if key not in LEVELS:
        raise InputError(f"level must be one of {LEVELS}, got {level!r}")
    return key


def _ratio(num, den):
    num = np.asarray(num, float)
    den = np.asarray(den, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def indicator(table, level: str = "kabupaten") -> pd.DataFrame:
    """Aggregate a village table (from :func:`coverage.assess_villages`) to one administrative level.

    Parameters
    ----------
    table : DataFrame
        One row per village with ``status``, ``usable_share``, ``area_km2``, ``extent_share``,
        ``population``, ``population_covered`` and the hierarchy columns.
    level : {'kecamatan', 'kabupaten', 'province'}

    Returns
    -------
    pandas.DataFrame
        One row per unit (sorted by code): ``kode, nama`` (+ parent codes/names), ``villages``,
        ``villages_assessed``, ``covered``, ``partial``, ``blankspot``, ``unassessed``,
        ``outside_extent``, ``share_villages_covered``, ``share_villages_blankspot``,
        ``area_km2``, ``area_covered_km2``, ``share_area_covered``, ``population``,
        ``population_covered``, ``share_population_covered``, ``mean_usable_share``, ``score``
        (0–100, see the module docstring), ``score_terms``, ``technology``, ``model``, ``has_terrain``.
        ``attrs`` keeps the table's metadata.

    Raises
    ------
    InputError
        Unknown level, missing columns, or a table mixing terrain and no-terrain rows or technologies.
    """

    lv = _level(level)
    kcol, ncol = _KEYS[lv]
    need = {"kode", "status", "usable_share", kcol}
    missing = need - set(table.columns)
    if missing:
        raise InputError(f"the village table lacks columns {sorted(missing)} (assess_villages makes them)")
    _check_uniform(table)
    df = pd.DataFrame(table.drop(columns=[table.geometry.name]) if hasattr(table, "geometry") else table).copy()
    for c in (ncol, *_PARENTS[lv]):
        if c not in df.columns:
            df[c] = None
    for c in ("area_km2", "extent_share", "population", "population_covered"):
        if c not in df.columns:
            df[c] = np.nan
    st = df["status"].astype(str)
    assessed = st != "unassessed"
    area_in = df["area_km2"].astype(float) * df["extent_share"].astype(float)
    df["_assessed"] = assessed.astype(int)
    df["_covered"] = (st == "covered").astype(int)
    df["_partial"] = (st == "partial").astype(int)
    df["_blankspot"] = (st == "blankspot").astype(int)
    df["_unassessed"] = (~assessed).astype(int)
    df["_outside"] = df.get("outside_extent", pd.Series(False, index=df.index)).astype(bool).astype(int)
    df["_area"] = df["area_km2"].astype(float)
    df["_area_in"] = area_in.where(assessed, np.nan)
    df["_area_cov"] = (area_in * df["usable_share"].astype(float)).where(assessed, np.nan)
    pop = df["population"].astype(float)
    has_pop = pop.notna() & assessed
    df["_pop"] = pop.where(has_pop, np.nan)
    df["_pop_cov"] = df["population_covered"].astype(float).where(has_pop, np.nan)
    df["_us"] = df["usable_share"].astype(float).where(assessed, np.nan)
    df[kcol] = df[kcol].astype(str)
    g = df.groupby(kcol, sort=True, dropna=False)
    out = pd.DataFrame({
        "kode": list(g.groups.keys()),
    })
    first = g[[ncol, *_PARENTS[lv]]].first().reset_index(drop=True)
    out["nama"] = first[ncol].to_numpy()
    for c in _PARENTS[lv]:
        out[c] = first[c].to_numpy()
    out["level"] = lv
    out["villages"] = g.size().to_numpy()
    for name, col in (("villages_assessed", "_assessed"), ("covered", "_covered"), ("partial", "_partial"),
                      ("blankspot", "_blankspot"), ("unassessed", "_unassessed"), ("outside_extent", "_outside")):
        out[name] = g[col].sum().to_numpy().astype(int)
    out["share_villages_covered"] = _ratio(out["covered"], out["villages_assessed"])
    out["share_villages_partial"] = _ratio(out["partial"], out["villages_assessed"])
    out["share_villages_blankspot"] = _ratio(out["blankspot"], out["villages_assessed"])
    out["area_km2"] = g["_area"].sum(min_count=1).to_numpy()
    area_in = g["_area_in"].sum(min_count=1).to_numpy()
    out["area_covered_km2"] = g["_area_cov"].sum(min_count=1).to_numpy()
    out["share_area_covered"] = _ratio(out["area_covered_km2"], area_in)
    out["population"] = g["_pop"].sum(min_count=1).to_numpy()
    out["population_covered"] = g["_pop_cov"].sum(min_count=1).to_numpy()
    out["share_population_covered"] = _ratio(out["population_covered"], out["population"])
    out["mean_usable_share"] = g["_us"].mean().to_numpy()
    V = _ratio(out["covered"] + 0.5 * out["partial"], out["villages_assessed"])
    terms = {"V": V, "P": out["share_population_covered"].to_numpy(float), "A": out["share_area_covered"].to_numpy(float)}
    num = np.zeros(len(out))
    den = np.zeros(len(out))
    used = [[] for _ in range(len(out))]
    for k, vals in terms.items():
        ok = np.isfinite(vals)
        num[ok] += SCORE_WEIGHTS[k] * vals[ok]
        den[ok] += SCORE_WEIGHTS[k]
        for i in np.flatnonzero(ok):
            used[i].append(k)
    out["score"] = np.round(100.0 * _ratio(num, den), 2)
    out["score_terms"] = ["+".join(u) for u in used]
    for c in ("technology", "model", "has_terrain"):
        out[c] = df[c].iloc[0] if c in df.columns else None
    out.attrs = {k: v for k, v in getattr(table, "attrs", {}).items() if k != "result_metadata"}
    out.attrs["level"] = lv
    return out


def indicator_by_technology(tables, level: str = "kabupaten") -> pd.DataFrame:
    """SDG 9.c.1 by technology: shares covered per unit for several village tables, one per technology.

    Parameters
    ----------
    tables : mapping technology -> village table (or a sequence of tables)
        All from results with the same terrain setting (terrain and no-terrain are never mixed).
    level : {'kecamatan', 'kabupaten', 'province'}

    Returns
    -------
    pandas.DataFrame
        ``kode, nama`` and, per technology ``t``, ``share_villages_covered_t``,
        ``share_population_covered_t``, ``share_area_covered_t`` and ``blankspot_t``.
    """
    if not isinstance(tables, dict):
        tables = {str(t["technology"].iloc[0]): t for t in tables}
    if not tables:
        raise InputError("no tables given")

    flags = {bool(v) for t in tables.values() if "has_terrain" in t for v in _as_bool(t["has_terrain"]).unique()}
    if len(flags) > 1:
        raise InputError("the tables mix results with terrain and without terrain (smooth earth); compare "
                         "technologies on one setting")
    out = None
    for tech, t in tables.items():
        ind = indicator(t, level)
        part = ind[["kode", "nama"]].copy()
        for c in ("share_villages_covered", "share_population_covered", "share_area_covered", "blankspot"):
            part[f"{c}_{tech}"] = ind[c].to_numpy()
        out = part if out is None else out.merge(part.drop(columns=["nama"]), on="kode", how="outer")
    return out.sort_values("kode").reset_index(drop=True)
