"""The whole village chain in one call: terrain (optional) + towers + villages -> village tables,
indicator tables and files (:func:`run_villages`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.population import with_population
from ..io.villages import read_villages
from ..thresholds import (
    DEFAULT_SHADOWING_SIGMA_DB,
)
from ..engine.prepare import choose_models
from ..propagation.hata import DEFAULT_ENVIRONMENT
from .assess import assess_villages

__all__ = ["run_villages", "VillageRun", "choose_model"]

# ---------------------------------------------------------------------------------------------
# the whole chain

#: Kept for callers of the old name: the one default lives in :mod:`coverage.propagation.hata`.
DEFAULT_EMPIRICAL_ENVIRONMENT = DEFAULT_ENVIRONMENT

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
    without, Okumura-Hata (<= 1500 MHz) or COST-231 Hata (1500-2000 MHz) by the sites' frequencies
    ('hata+cost231' when the sites need both: each site then runs its own, see :func:`coverage.predict`)."""
    names = choose_models(model, has_terrain, freqs_mhz)
    return "+".join(sorted(set(names))) if names else model


def run_villages(sites, villages, *, terrain=None, model: str = "auto", technologies: Sequence[str] | None = ("4g",),
                 bounds=None, resolution_m: float = 250.0, radius_m: float = 30_000.0, rx_height_m: float = 1.5,
                 model_params: Mapping | None = None, usable_dbm: float | None = None,
                 blankspot_below: float | None = None, covered_from: float | None = None,
                 sigma_db: float = DEFAULT_SHADOWING_SIGMA_DB, hierarchy=None, repair: bool = False,
                 population_raster=None, out_dir=None, extrapolate: bool = False, note: str | None = None,
                 progress: bool | None = False, fill_voids: bool = True, landcover=None,
                 clutter: str | None = None, clutter_loss: str | None = None, population=None) -> VillageRun:
    """Terrain (optional) + towers + villages -> village tables, indicator tables and files, in one call.

    A pipeline: inputs (:func:`_chain_inputs`) -> per technology, predict and assess
    (:func:`_assess_technologies`) -> indicators (:func:`_indicators`) -> metadata -> files.

    Parameters
    ----------
    sites : path or DataFrame
        Towers (:func:`coverage.read_sites`: plain CSV, GeoJSON, OpenCelliD).
    villages : path or GeoDataFrame
        Villages (:func:`read_villages`; ``hierarchy`` and ``repair`` are passed on).
    terrain : Terrain, path(s) or None
        DEM; ``None`` runs on a smooth earth with an empirical model (said in every output).
    model : str
        'auto' (p526 with terrain; Hata or COST-231 by each site's frequency without) or a model name.
    technologies : sequence of str, optional
        Technologies to assess; the first is the primary one (status, indicators); the others add
        their ``share_population_covered_<tech>`` columns (SDG 9.c.1 by technology). ``None``: every
        technology of the sites file, 4G first.
    bounds : (lon_min, lat_min, lon_max, lat_max), optional
        Prediction area; default the villages' extent plus one cell (no terrain) or the terrain's.
    resolution_m : float
        Cell size without terrain (m); with terrain the DEM's grid is used.
    radius_m, rx_height_m, model_params, extrapolate, landcover, clutter, clutter_loss
        Passed to :func:`coverage.predict` (which applies the one rule for towers off the terrain and
        the one default Hata / COST-231 environment, :data:`coverage.propagation.hata.DEFAULT_ENVIRONMENT`).
    usable_dbm, blankspot_below, covered_from, sigma_db, population_raster
        Passed to :func:`assess_villages`.
    population : PopulationJoin, Series by kode or census CSV path, optional
        People per village (e.g. the 2010 census, :func:`coverage.read_population`): fills the
        villages' ``population`` column, so the indicator gets its population term.
    out_dir : path, optional
        Write ``villages_<tech>.csv``, ``villages_<tech>.geojson``, ``indicator_<level>.csv``,
        ``indicators.xlsx`` and ``metadata.json`` there, as one set (see :func:`coverage.render.export.write_run`).
    note : str, optional
        A sentence about the data carried into the metadata (default: the OpenCelliD extract note when
        the towers are an OpenCelliD file, none otherwise).
    progress : bool, optional
        Progress bars of the prediction and of the village assessment.
    fill_voids : bool
        For a terrain path: fill the DEM's voids and predict over them (True) or leave them NaN
        (see :func:`coverage.open_terrain`).

    Returns
    -------
    VillageRun
    """
    import time

    t0 = time.perf_counter()
    s, v, terrain, techs, bounds = _chain_inputs(sites, villages, terrain, technologies, bounds, resolution_m,
                                                 hierarchy, repair, fill_voids)
    v = with_population(v, population)
    tables, results = _assess_technologies(
        s, v, terrain, techs, bounds, model=model, resolution_m=resolution_m, radius_m=radius_m,
        rx_height_m=rx_height_m, model_params=model_params, extrapolate=extrapolate, progress=progress,
        assess_kw=dict(usable_dbm=usable_dbm, blankspot_below=blankspot_below, covered_from=covered_from,
                       sigma_db=sigma_db, population_raster=population_raster),
        predict_kw=dict(landcover=landcover, clutter=clutter, clutter_loss=clutter_loss))
    inds = _indicators(tables, techs)
    meta = _run_metadata(s, v, terrain, techs, tables, results, bounds, resolution_m, radius_m, rx_height_m,
                         sigma_db, note)
    files = {}
    if out_dir is not None:
        from ..render.export import write_run

        files = write_run(out_dir, tables, inds, meta)
    meta["seconds"] = round(time.perf_counter() - t0, 3)
    for t in tables.values():
        t.attrs["run"] = meta
    return VillageRun(tables[techs[0]], tables, inds, results, meta, files)


def _chain_inputs(sites, villages, terrain, technologies, bounds, resolution_m, hierarchy, repair, fill_voids=True):
    """(sites, villages, terrain or None, technologies, bounds) of a run, read and checked."""
    from ..io.sites import read_sites
    from ..io.terrain import Terrain, check_bounds, open_terrain

    s = read_sites(sites) if not isinstance(sites, pd.DataFrame) else sites
    # a table read by read_villages is used as is; anything else is read (and validated) first
    v = villages if getattr(villages, "attrs", {}).get("code_system") and hasattr(villages, "geometry") \
        else read_villages(villages, hierarchy=hierarchy, repair=repair)
    if terrain is not None and not isinstance(terrain, Terrain):
        terrain = open_terrain(terrain, fill_voids=fill_voids)
    techs = list(technologies) if technologies else sorted(set(s["technology"]), key=lambda t: (t != "4g", t))
    techs = [str(t).lower() for t in techs]
    present = set(s["technology"])
    missing = [t for t in techs if t not in present]
    if missing:
        raise InputError(f"no {missing} sites in {s.attrs.get('source', 'the sites')}: technologies present "
                         f"are {sorted(present)}")
    if bounds is not None:
        bounds = check_bounds(bounds)
    elif terrain is None:
        if not (np.isfinite(resolution_m) and resolution_m > 0):
            raise InputError(f"resolution_m must be a positive number of metres, got {resolution_m!r}")
        lo0, la0, lo1, la1 = v.total_bounds
        pad = resolution_m / 111_000.0
        bounds = (lo0 - pad, la0 - pad, lo1 + pad, la1 + pad)
    return s, v, terrain, techs, bounds


def _assess_technologies(s, v, terrain, techs, bounds, *, model, resolution_m, radius_m, rx_height_m, model_params,
                         extrapolate, progress, assess_kw, predict_kw=None):
    """Predict and assess each technology on one grid; ({tech: table}, {tech: result})."""
    from ..engine.predict import predict

    tables, results, cache = {}, {}, {}
    predict_kw = predict_kw or {}
    for tech in techs:
        st = s[s["technology"] == tech].reset_index(drop=True)
        st.attrs = dict(s.attrs)
        r = predict(terrain, st, model=model, radius_m=radius_m, rx_height_m=rx_height_m, bounds=bounds,
                    resolution_m=None if terrain is not None else resolution_m, technology=tech,
                    model_params=model_params, extrapolate=extrapolate, progress=progress, **predict_kw)
        results[tech] = r
        kw = dict(assess_kw)
        if tech != techs[0]:
            kw["usable_dbm"] = None  # the given level is the primary technology's
        tables[tech] = assess_villages(v, r, tech, progress=progress, _cache=cache, **kw)
    return tables, results


def _indicators(tables, techs) -> dict:
    from .indicator import LEVELS, indicator, indicator_by_technology

    primary = tables[techs[0]]
    inds = {}
    for level in LEVELS:
        ind = indicator(primary, level=level)
        if len(techs) > 1:
            sdg = indicator_by_technology(tables, level=level)
            ind = ind.merge(sdg.drop(columns=[c for c in sdg.columns if c in ind.columns and c != "kode"]),
                            on="kode", how="left")
        inds[level] = ind
    return inds


def _assumed(s, first: dict, results: dict) -> dict:
    """Everything the run assumed, in one place: model parameters, site values, filled DEM voids."""
    out: dict = {t: r.metadata.get("assumed", {}) for t, r in results.items() if r.metadata.get("assumed")}
    if s.attrs.get("defaults_applied"):
        out["site_values"] = s.attrs["defaults_applied"]
    filled = (first.get("terrain") or {}).get("void_cells_filled") or 0
    if filled:
        out["dem_voids_filled"] = int(filled)
    return out


def _run_metadata(s, v, terrain, techs, tables, results, bounds, resolution_m, radius_m, rx_height_m, sigma_db,
                  note) -> dict:
    primary = tables[techs[0]]
    first = results[techs[0]].metadata
    if note is None and s.attrs.get("layout") == "opencellid":
        note = TOWER_EXTRACT_NOTE
    return {
        "technologies": techs,
        "models": {t: {"model": r.model, "model_params": dict(r.metadata.get("model_params", {})),
                       "landcover": r.metadata.get("landcover")}
                   for t, r in results.items()},
        "assumed": _assumed(s, first, results),
        "has_terrain": terrain is not None, "terrain": first.get("terrain"),
        "sites_source": s.attrs.get("source"), "sites_layout": s.attrs.get("layout"),
        "site_defaults": s.attrs.get("defaults_applied", {}),
        "n_sites": {t: int(r.metadata.get("n_sites", 0)) for t, r in results.items()},
        "sites_off_grid": {t: r.metadata.get("sites_off_grid", {}) for t, r in results.items()},
        "villages_source": v.attrs.get("source"), "n_villages": int(len(v)),
        "code_system": v.attrs.get("code_system"), "repaired_geometries": v.attrs.get("repaired", []),
        "population_source": v.attrs.get("population_source"),
        "resolution_m": None if terrain is not None else float(resolution_m),
        "bounds": None if bounds is None else [float(b) for b in bounds], "radius_m": float(radius_m),
        "rx_height_m": float(rx_height_m), "usable_dbm": primary.attrs["usable_dbm"],
        "status_thresholds": primary.attrs["status_thresholds"], "sigma_db": float(sigma_db),
        "note": note,
    }
