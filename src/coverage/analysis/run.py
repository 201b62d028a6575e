"""The whole village chain in one call: terrain (optional) + towers + villages -> village tables,
indicator tables and files (:func:`run_villages`)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import CoverageWarning, InputError
from ..io.villages import read_villages
from ..thresholds import (
    DEFAULT_SHADOWING_SIGMA_DB,
)
from .assess import assess_villages

__all__ = ["run_villages", "VillageRun", "choose_model"]

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

    from ..engine.predict import predict
    from ..io.sites import read_sites
    from ..io.terrain import Terrain, open_terrain
    from .indicator import LEVELS, indicator, indicator_by_technology

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
                          f"terrain run", CoverageWarning, stacklevel=2)
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
        from ..render.export import write_run

        files = write_run(out_dir, tables, inds, meta)
    meta["seconds"] = round(time.perf_counter() - t0, 3)
    for t in tables.values():
        t.attrs["run"] = meta
    return VillageRun(primary, tables, inds, results, meta, files)
