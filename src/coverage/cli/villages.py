"""``blankspot villages``: terrain (optional) + towers + villages -> village table, indicators, maps.

    blankspot villages --sites towers.csv --villages villages.geojson --out-dir out/
    blankspot villages --sites towers.csv --villages desa.geojson --hierarchy desa.csv \\
        --terrain dem.tif --model p526 --out-dir out/

Writes ``villages_<tech>.csv`` / ``.geojson``, ``indicator_<level>.csv``, ``indicators.xlsx`` and
``metadata.json`` into ``--out-dir`` and prints a JSON summary line.
"""

from __future__ import annotations

import json

from ..thresholds import DEFAULT_SHADOWING_SIGMA_DB

COMMANDS = ("villages",)


def add_parser(subparsers) -> None:
    from ._common import _bounds, _params

    p = subparsers.add_parser("villages", help="towers + villages (+ terrain) -> blankspot villages and indicators")
    p.add_argument("--sites", required=True, help="towers: sites CSV / GeoJSON / OpenCelliD CSV")
    p.add_argument("--villages", required=True, help="village polygons or points (GeoJSON, GPKG, SHP, CSV lat/lng)")
    p.add_argument("--hierarchy", help="CSV with kode + kode_kec/nama_kec/kode_kab/... joined on the village code")
    p.add_argument("--terrain", nargs="+", help="DEM file(s); omit for a smooth earth (empirical model)")
    p.add_argument("--keep-voids", action="store_true",
                   help="leave the DEM's nodata cells unpredicted (NaN) instead of filling and predicting over them")
    p.add_argument("--model", default="auto",
                   help="auto (p526 with terrain; hata <=1500 MHz / cost231 1500-2000 MHz without), or a name")
    p.add_argument("--model-params", type=_params, help="JSON object, e.g. '{\"environment\": \"open\"}' "
                                                         "(default for hata/cost231: the one default environment, said in the metadata)")
    p.add_argument("--technology", action="append", dest="technologies",
                   help="technology to assess (repeatable; first = primary). Default 4g")
    p.add_argument("--bounds", type=_bounds, help="lon_min,lat_min,lon_max,lat_max (default: the villages' extent)")
    p.add_argument("--resolution", type=float, default=250.0, help="cell size without terrain, m (default 250)")
    p.add_argument("--radius", type=float, default=30_000.0, help="radius around each site, m (default 30000)")
    p.add_argument("--rx-height", type=float, default=1.5, help="receiver height above ground, m (default 1.5)")
    p.add_argument("--usable-dbm", type=float, help="weakest usable signal, dBm (default per technology)")
    p.add_argument("--blankspot-below", type=float, help="usable share below which a village is a blankspot (0.10)")
    p.add_argument("--covered-from", type=float, help="usable share from which a village is covered (0.90)")
    p.add_argument("--sigma", type=float, default=DEFAULT_SHADOWING_SIGMA_DB,
                   help=f"log-normal shadowing sigma, dB (default {DEFAULT_SHADOWING_SIGMA_DB:g})")
    p.add_argument("--population-raster", help="population raster (people per cell)")
    p.add_argument("--repair-geometries", action="store_true", help="repair invalid polygons (make_valid)")
    p.add_argument("--extrapolate", action="store_true", help="allow frequencies outside the model's range")
    p.add_argument("--note", help="a sentence about the data, written into the metadata")
    p.add_argument("--out-dir", required=True, help="output folder")


def run(args) -> int:
    from ..analysis.run import run_villages

    techs = args.technologies or ["4g"]
    r = run_villages(args.sites, args.villages, terrain=args.terrain, model=args.model, technologies=techs,
                     bounds=args.bounds, resolution_m=args.resolution, radius_m=args.radius,
                     rx_height_m=args.rx_height, model_params=args.model_params, usable_dbm=args.usable_dbm,
                     blankspot_below=args.blankspot_below, covered_from=args.covered_from, sigma_db=args.sigma,
                     hierarchy=args.hierarchy, repair=args.repair_geometries,
                     population_raster=args.population_raster, out_dir=args.out_dir,
                     extrapolate=args.extrapolate, note=args.note, fill_voids=not args.keep_voids,
                     progress=False if args.no_progress else None)
    counts = r.table["status"].value_counts().to_dict()
    print(json.dumps({
        "out_dir": str(args.out_dir), "villages": int(len(r.table)),
        "status": {k: int(v) for k, v in counts.items()},
        "technologies": r.metadata["technologies"], "models": {t: m["model"] for t, m in r.metadata["models"].items()},
        "has_terrain": r.metadata["has_terrain"], "files": sorted(r.files.values()), "seconds": r.metadata["seconds"],
    }))
    return 0
