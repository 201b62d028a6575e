"""``blankspot predict`` (terrain + sites -> coverage raster) and ``blankspot models``."""

from __future__ import annotations

import json
from pathlib import Path

from ._common import _bounds, _params

COMMANDS = ("predict", "models")


def add_parser(sub) -> None:
    pr = sub.add_parser("predict", help="terrain + sites -> coverage raster (best signal, best server)")
    pr.add_argument("--terrain", nargs="+", help="DEM files (GeoTIFF, .hgt, .hgt.zip; globs allowed); omit for smooth earth")
    pr.add_argument("--keep-voids", action="store_true",
                    help="leave the DEM's nodata cells unpredicted (NaN) instead of filling and predicting over them")
    pr.add_argument("--sites", required=True, help="sites CSV / GeoJSON / OpenCelliD CSV")
    pr.add_argument("--out", required=True, help="output GeoTIFF")
    pr.add_argument("--model", default="p526", help="fspl, hata, cost231, p526 (terrain), itm, p1812, or auto "
                         "(p526 with terrain; hata/cost231 by each site's frequency without) (default p526)")
    pr.add_argument("--radius", type=float, default=30_000.0, help="radius around each site, m (default 30000)")
    pr.add_argument("--rx-height", type=float, default=1.5, help="receiver height above ground, m (default 1.5)")
    pr.add_argument("--bounds", type=_bounds, help="lon_min,lat_min,lon_max,lat_max")
    pr.add_argument("--resolution", type=float, help="cell size without terrain, m (default 100)")
    pr.add_argument("--technology", choices=["2g", "3g", "4g", "5g"], help="keep only sites of this technology")
    pr.add_argument("--model-params", type=_params, help="JSON object of model parameters")
    pr.add_argument("--extrapolate", action="store_true", help="allow frequencies outside the model's range")
    pr.add_argument("--landcover", help="land-cover class raster (ESA WorldCover codes), resampled to the terrain")
    pr.add_argument("--clutter", help="one cover everywhere instead: forest, urban, suburban, open, water, dense_urban")
    pr.add_argument("--clutter-loss", choices=["p2108"], help="add the ITU-R P.2108 terminal clutter loss")
    pr.add_argument("--cog", action="store_true", help="write a Cloud-Optimized GeoTIFF")
    pr.add_argument("--tile-size", type=int, help="tiled, memory-bounded run with tiles of this many cells")

    sub.add_parser("models", help="list the propagation models with their references and validity")


def run(a) -> int:
    return _cmd_predict(a) if a.command == "predict" else _cmd_models(a)


def _cmd_predict(a) -> int:
    from ..engine.predict import predict
    from ..io.terrain import open_terrain

    terrain = open_terrain(a.terrain, bounds=a.bounds, fill_voids=not a.keep_voids) if a.terrain else None
    result = predict(terrain, a.sites, model=a.model, radius_m=a.radius, rx_height_m=a.rx_height, bounds=a.bounds,
                     resolution_m=a.resolution, technology=a.technology, model_params=a.model_params,
                     extrapolate=a.extrapolate, progress=False if a.no_progress else None, tile_size=a.tile_size,
                     out=a.out if a.tile_size else None, landcover=a.landcover, clutter=a.clutter,
                     clutter_loss=a.clutter_loss)
    if not a.tile_size:
        result.to_geotiff(a.out, cog=a.cog)
    import numpy as np

    covered = np.isfinite(result.best_dbm)
    usable = covered & (result.best_dbm >= result.metadata["server_threshold_dbm"])
    print(json.dumps({
        "out": str(Path(a.out)), "model": result.model, "metric": result.metric, "sites": len(result.sites),
        "shape": list(result.shape), "cells_predicted": int(covered.sum()),
        "share_usable": round(float(usable.sum() / max(covered.size, 1)), 4),
        "usable_threshold_dbm": result.metadata["server_threshold_dbm"],
        "terrain": result.metadata["terrain"].get("has_terrain"), "seconds": result.metadata.get("seconds"),
    }))
    return 0


def _cmd_models(a) -> int:
    from ..propagation import available_models

    for name, line in available_models().items():
        print(f"{name:8s} {line}")
    return 0
