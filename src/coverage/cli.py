"""The ``blankspot`` command line: the same tools as the Python API.

    blankspot predict --terrain DEM.tif --sites towers.csv --out coverage.tif
    blankspot models

Further sub-commands live in their own modules (``cli_*.py``), each with ``add_parser(subparsers)``
and ``run(args) -> int``, listed in :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import CoverageError

log = logging.getLogger("coverage.cli")


def _bounds(text: str):
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("bounds must be lon_min,lat_min,lon_max,lat_max") from None
    if len(vals) != 4:
        raise argparse.ArgumentTypeError("bounds must be lon_min,lat_min,lon_max,lat_max")
    return tuple(vals)


def _params(text: str):
    try:
        val = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--model-params must be JSON, e.g. '{{\"environment\": \"open\"}}' ({exc})")
    if not isinstance(val, dict):
        raise argparse.ArgumentTypeError("--model-params must be a JSON object")
    return val


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="blankspot", description="Terrain-aware mobile coverage and blankspot villages.")
    p.add_argument("--version", action="version", version=f"blankspot {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)")
    sub = p.add_subparsers(dest="command", required=True)

    pr = sub.add_parser("predict", help="terrain + sites -> coverage raster (best signal, best server)")
    pr.add_argument("--terrain", nargs="+", help="DEM files (GeoTIFF, .hgt, .hgt.zip; globs allowed); omit for smooth earth")
    pr.add_argument("--sites", required=True, help="sites CSV / GeoJSON / OpenCelliD CSV")
    pr.add_argument("--out", required=True, help="output GeoTIFF")
    pr.add_argument("--model", default="p526", help="fspl, hata, cost231, p526 (terrain), itm (default p526)")
    pr.add_argument("--radius", type=float, default=30_000.0, help="radius around each site, m (default 30000)")
    pr.add_argument("--rx-height", type=float, default=1.5, help="receiver height above ground, m (default 1.5)")
    pr.add_argument("--bounds", type=_bounds, help="lon_min,lat_min,lon_max,lat_max")
    pr.add_argument("--resolution", type=float, help="cell size without terrain, m (default 100)")
    pr.add_argument("--technology", choices=["2g", "3g", "4g", "5g"], help="keep only sites of this technology")
    pr.add_argument("--model-params", type=_params, help="JSON object of model parameters")
    pr.add_argument("--extrapolate", action="store_true", help="allow frequencies outside the model's range")
    pr.add_argument("--cog", action="store_true", help="write a Cloud-Optimized GeoTIFF")
    pr.add_argument("--tile-size", type=int, help="tiled, memory-bounded run with tiles of this many cells")
    pr.add_argument("--no-progress", action="store_true", help="no progress bar")

    sub.add_parser("models", help="list the propagation models with their references and validity")
    for mod in _command_modules():
        mod.add_parser(sub)
    return p


#: Modules (relative to this package) that add sub-commands: ``add_parser(subparsers)``, ``run(args)``.
COMMAND_MODULES: list[str] = ["cli_maps", "cli_villages"]


def _command_modules():
    import importlib

    return [importlib.import_module(f".{name}", __package__) for name in COMMAND_MODULES]


def _cmd_predict(a) -> int:
    from .predict import predict
    from .terrain import open_terrain

    terrain = open_terrain(a.terrain, bounds=a.bounds) if a.terrain else None
    result = predict(terrain, a.sites, model=a.model, radius_m=a.radius, rx_height_m=a.rx_height, bounds=a.bounds,
                     resolution_m=a.resolution, technology=a.technology, model_params=a.model_params,
                     extrapolate=a.extrapolate, progress=False if a.no_progress else None, tile_size=a.tile_size,
                     out=a.out if a.tile_size else None)
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
    from .propagation import available_models

    for name, line in available_models().items():
        print(f"{name:8s} {line}")
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(a.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)
    try:
        if a.command == "predict":
            return _cmd_predict(a)
        if a.command == "models":
            return _cmd_models(a)
        for mod in _command_modules():
            if a.command in getattr(mod, "COMMANDS", ()):
                return mod.run(a)
    except (CoverageError, FileNotFoundError) as exc:
        print(f"blankspot: error: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {a.command}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
