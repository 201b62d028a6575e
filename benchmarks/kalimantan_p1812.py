"""What surface cover and ITU-R P.1812 change in Kalimantan (issue 10, item 5); prints JSON lines.

No land-cover raster of Kalimantan is available here, so the cover is the one the issue prescribes:
"urban" inside the kelurahan polygons (the towns), "forest" everywhere else, with the representative
heights of P.1812-7 Table 2 (both 15 m: P.1812 puts urban and trees/forest in one category) and the
P.2108 clutter types (urban 4, trees/forest 5). Nothing is tuned; every number is as measured.

1. Kota Samarinda (59 kelurahan) on its real terrain (``samarinda_300m.tif``), 4G from the
   OpenCelliD extract: P.526 on bare terrain, COST-231 on a smooth earth, P.1812 on the
   clutter-raised profile, and P.1812 + the P.2108 §3.1 terminal loss. Status crosstabs against
   P.526 and COST-231 (kelurahan have no IDM score).
2. Kaltim + Kaltara (1,520 villages): no DEM covers the provinces, so P.1812 runs over a flat earth
   (zero elevation) with the same cover, against the smooth-earth COST-231 chain on the same grid;
   confusion matrices of both against IDM 2024 (1,288 desa) and the crosstab between them.

Usage: PYTHONPATH=src python benchmarks/kalimantan_p1812.py [--resolution-deg 0.0045] [--skip-province]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import coverage  # noqa: E402
from coverage.io.landcover import landcover_from_array  # noqa: E402

SHARED = Path(os.environ.get("COVERAGE_SHARED_DATA", REPO.parent / "shared" / "data"))
TABLE = pd.DataFrame({"code": [1, 2], "name": ["urban (kelurahan)", "forest (outside towns)"],
                      "height_m": [15.0, 15.0], "category": [4, 4], "p2108_type": [4, 5]})
PRM = {"p_percent": 50.0}


def emit(**kw):
    print(json.dumps(kw, default=str), flush=True)


def town_cover(terrain, villages):
    """Code 1 inside kelurahan polygons (Kemendagri DDDD starting with 1), 2 elsewhere."""
    from rasterio.features import rasterize

    kel = villages[villages["kode"].str.split(".").str[3].str.startswith("1")]
    geoms = kel.to_crs(terrain.crs).geometry if str(villages.crs) != str(terrain.crs) else kel.geometry
    mask = rasterize(((g, 1) for g in geoms if g is not None and not g.is_empty), out_shape=terrain.shape,
                     transform=terrain.transform, fill=2, dtype="int32")
    return landcover_from_array(mask, TABLE, terrain, source="kelurahan polygons -> urban, elsewhere forest "
                                                               "(issue 10 item 5; no land-cover raster)")


def crosstab(a, b, name_a, name_b):
    t = pd.crosstab(a.table["status"].rename(name_a), b.table["status"].rename(name_b))
    changed = int((a.table["status"].to_numpy() != b.table["status"].to_numpy()).sum())
    # to_dict() is column -> row -> count: "table"[status by name_b][status by name_a]
    return {"rows": name_a, "cols": name_b, "table": t.to_dict(), "changed": changed}


def counts(run):
    return run.table["status"].value_counts().to_dict()


def samarinda():
    terrain = coverage.open_terrain(SHARED / "dem" / "samarinda_300m.tif")
    v = coverage.read_villages(SHARED / "villages" / "village_boundaries_kaltim_kaltara.geojson",
                               hierarchy=SHARED / "villages" / "villages_kaltim_kaltara_centroids.csv", repair=True)
    v = v[v["kode"].str.startswith("64.72")].reset_index(drop=True)
    s = coverage.read_sites(SHARED / "towers" / "opencellid_510_kalimantan_bbox.csv")
    s = s[np.asarray(terrain.contains(s["lon"].to_numpy(), s["lat"].to_numpy()), bool)].reset_index(drop=True)
    lc = town_cover(terrain, v)
    runs = {}
    for name, kw in {
        "p526_bare": dict(terrain=terrain),
        "cost231_smooth": dict(bounds=terrain.bounds_lonlat, resolution_m=300),
        "p1812_cover": dict(terrain=terrain, model="p1812", model_params=PRM, landcover=lc),
        "p1812_cover_p2108": dict(terrain=terrain, model="p1812", model_params=PRM, landcover=lc,
                                  clutter_loss="p2108"),
    }.items():
        t = time.perf_counter()
        runs[name] = coverage.run_villages(s, v, technologies=("4g",), **kw)
        emit(area="Kota Samarinda", run=name, villages=len(v), sites=len(s), status=counts(runs[name]),
             seconds=round(time.perf_counter() - t, 2),
             landcover=(runs[name].metadata["models"]["4g"].get("landcover") or {}).get("percent_by_class"))
    for a in ("p1812_cover", "p1812_cover_p2108"):
        for b in ("p526_bare", "cost231_smooth"):
            emit(area="Kota Samarinda", crosstab=crosstab(runs[a], runs[b], a, b))


def province(res_deg: float):
    v = coverage.read_villages(SHARED / "villages" / "village_boundaries_kaltim_kaltara.geojson",
                               hierarchy=SHARED / "villages" / "villages_kaltim_kaltara_centroids.csv", repair=True)
    s = coverage.read_sites(SHARED / "towers" / "opencellid_510_kalimantan_bbox.csv")
    idm = coverage.read_idm(SHARED / "validation" / "idm2024_signal_desa_kaltim_kaltara.csv")
    lo0, la0, lo1, la1 = v.total_bounds
    pad = 0.35  # the 30 km radius of the sites near the edge
    bounds = (lo0 - pad, la0 - pad, lo1 + pad, la1 + pad)
    res_m = res_deg * 111_320.0
    s = s[(s["lon"] > bounds[0]) & (s["lon"] < bounds[2]) & (s["lat"] > bounds[1])
          & (s["lat"] < bounds[3])].reset_index(drop=True)
    runs = {}
    t = time.perf_counter()
    runs["cost231_smooth"] = coverage.run_villages(s, v, technologies=("4g",), bounds=bounds, resolution_m=res_m)
    secs = {"cost231_smooth": time.perf_counter() - t}
    # P.1812 over a flat earth on exactly the smooth-earth run's grid
    r0 = runs["cost231_smooth"].results["4g"]
    flat = coverage.Terrain(np.zeros(r0.shape, np.float32), r0.transform, r0.crs)
    lc = town_cover(flat, v)
    for name, kw in {
        "cost231_smooth": None,
        "p1812_flat_cover": dict(terrain=flat, model="p1812", model_params=PRM, landcover=lc),
        "p1812_flat_cover_p2108": dict(terrain=flat, model="p1812", model_params=PRM, landcover=lc,
                                       clutter_loss="p2108"),
    }.items():
        if kw is not None:
            t = time.perf_counter()
            runs[name] = coverage.run_villages(s, v, technologies=("4g",), **kw)
            secs[name] = time.perf_counter() - t
        c = coverage.compare_survey(runs[name].table, idm)
        emit(area="Kaltim+Kaltara", run=name, villages=len(v), sites=len(s), grid=list(r0.shape),
             status=counts(runs[name]), seconds=round(secs[name], 2), idm=c.summary(),
             idm_matrix=c.matrix.to_dict())
    for a in ("p1812_flat_cover", "p1812_flat_cover_p2108"):
        emit(area="Kaltim+Kaltara", crosstab=crosstab(runs[a], runs["cost231_smooth"], a, "cost231_smooth"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution-deg", type=float, default=0.0045)
    ap.add_argument("--skip-province", action="store_true")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    samarinda()
    if not a.skip_province:
        province(a.resolution_deg)


if __name__ == "__main__":
    main()
