"""``blankspot plan``: where to build next — candidate masts and the best set for a budget.

    blankspot plan --sites towers.csv --villages desa.geojson --hierarchy desa.csv \\
        --budget 10 --candidates grid --spacing 4000 --out-dir out/plan
    blankspot plan --sites towers.csv --villages desa.geojson --terrain dem.tif \\
        --candidates hilltops --budget 5 --objective population --census census2010.csv --out-dir out/

Writes ``proposals.csv`` / ``proposals.xlsx`` (ranked: site, position, height, villages and people
newly served, cost), ``candidates.csv``, ``villages_plan.geojson`` (statuses after the plan),
``plan.json`` and, unless ``--no-map``, ``plan_map.png`` and ``plan.kmz``; prints a JSON summary line.
"""

from __future__ import annotations

import json
from pathlib import Path

COMMANDS = ("plan",)


def add_parser(subparsers) -> None:
    from ..analysis.planning import (
        CANDIDATE_METHODS,
        COLOCATION_COST,
        MIP_REL_GAP,
        OBJECTIVES,
        SEARCH_RADIUS_M,
    )
    from ._common import _bounds, _params

    p = subparsers.add_parser("plan", help="choose new masts among candidates to serve the most villages or people")
    p.add_argument("--sites", required=True, help="existing towers: sites CSV / GeoJSON / OpenCelliD CSV")
    p.add_argument("--villages", required=True, help="village polygons or points")
    p.add_argument("--hierarchy", help="CSV with kode + kode_kec/nama_kec/kode_kab/... joined on the village code")
    p.add_argument("--terrain", nargs="+", help="DEM file(s); omit for a smooth earth (empirical model)")
    p.add_argument("--candidates", nargs="+", default=["grid"],
                   help=f"candidate methods {list(CANDIDATE_METHODS)} and/or a CSV of your own sites (default grid)")
    p.add_argument("--budget", type=float, required=True, help="number of new masts (or total cost with --cost)")
    p.add_argument("--cost", action="store_true",
                   help=f"budget is a total cost: candidates' 'cost' column (new mast 1, co-location {COLOCATION_COST})")
    p.add_argument("--objective", choices=OBJECTIVES, default="blankspot_villages")
    p.add_argument("--solver", choices=("milp", "greedy"), default="milp")
    p.add_argument("--time-limit", type=float, default=60.0, help="MILP time limit, s (default 60)")
    p.add_argument("--gap", type=float, default=MIP_REL_GAP, help=f"MILP relative gap to stop at ({MIP_REL_GAP})")
    p.add_argument("--census", help="2010 census CSV (population by village name; see read_population)")
    p.add_argument("--spacing", type=float, default=2000.0, help="candidate spacing, m (default 2000)")
    p.add_argument("--per-village", type=int, default=3, help="hilltops per village (default 3)")
    p.add_argument("--search-radius", type=float, default=SEARCH_RADIUS_M,
                   help=f"candidates within this distance of a village, m (default {SEARCH_RADIUS_M:g})")
    p.add_argument("--height", type=float, help="new antenna height above ground, m (default 30)")
    p.add_argument("--freq", type=float, help="new antenna frequency, MHz (default: the technology's, 1800 for 4g)")
    p.add_argument("--model", default="auto", help="auto, or a model name")
    p.add_argument("--model-params", type=_params, help="JSON object (default for hata/cost231: suburban)")
    p.add_argument("--technology", default="4g")
    p.add_argument("--bounds", type=_bounds, help="lon_min,lat_min,lon_max,lat_max (default: the villages' extent)")
    p.add_argument("--resolution", type=float, default=250.0, help="cell size without terrain, m (default 250)")
    p.add_argument("--radius", type=float, default=30_000.0, help="radius around each site, m (default 30000)")
    p.add_argument("--workers", type=int, help="numba threads for the coverage matrix")
    p.add_argument("--repair-geometries", action="store_true", help="repair invalid polygons (make_valid)")
    p.add_argument("--no-map", action="store_true", help="skip the PNG map and the KMZ")
    p.add_argument("--out-dir", required=True, help="output folder")


def run(args) -> int:
    import pandas as pd

    from ..analysis.planning import CANDIDATE_METHODS, candidate_sites, plan_sites, prepare_plan
    from ..analysis.run import run_villages
    from ..io.population import read_population
    from ..io.sites import DEFAULT_HEIGHT_M
    from ..io.villages import read_villages
    from ..render.export import write_csv, write_excel, write_json, write_villages

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    v = read_villages(args.villages, hierarchy=args.hierarchy, repair=args.repair_geometries)
    if args.census:
        v = read_population(args.census, v).apply(v)
    methods = [m for m in args.candidates if m in CANDIDATE_METHODS]
    users = [m for m in args.candidates if m not in CANDIDATE_METHODS]
    user = pd.concat([pd.read_csv(u) for u in users], ignore_index=True) if users else None
    terrain = args.terrain
    if terrain is not None:
        from ..io.terrain import open_terrain

        terrain = open_terrain(terrain)
    # the villages to serve: today's blankspot and partial ones
    base = run_villages(args.sites, v, terrain=terrain, model=args.model, technologies=[args.technology],
                        bounds=args.bounds, resolution_m=args.resolution, radius_m=args.radius,
                        model_params=args.model_params)
    cands = candidate_sites(base.table, terrain=terrain, method=methods or [], spacing_m=args.spacing,
                            per_village=args.per_village, search_radius_m=args.search_radius,
                            height_m=DEFAULT_HEIGHT_M if args.height is None else args.height, freq_mhz=args.freq,
                            technology=args.technology, existing=args.sites if "existing" in methods else None,
                            user=user)
    # the baseline the candidates were chosen from is the plan's baseline: predicted once
    problem = prepare_plan(sites=args.sites, candidates=cands, villages=v, terrain=terrain, model=args.model,
                           radius_m=args.radius, resolution_m=args.resolution, bounds=args.bounds,
                           model_params=args.model_params, technology=args.technology, workers=args.workers,
                           baseline=base.results[args.technology])
    plan = plan_sites(problem=problem, budget=args.budget, objective=args.objective,
                      cost="cost" if args.cost else None, solver=args.solver, time_limit_s=args.time_limit,
                      mip_rel_gap=args.gap)
    files = {
        "proposals_csv": write_csv(plan.proposals(), out / "proposals.csv"),
        "proposals_xlsx": write_excel({"proposals": plan.proposals()}, out / "proposals.xlsx",
                                      about=plan.summary() | {"note": base.metadata.get("note")}),
        "candidates_csv": write_csv(pd.DataFrame(cands.drop(columns="geometry")), out / "candidates.csv"),
        "villages_geojson": write_villages(plan.villages, out / "villages_plan.geojson"),
    }
    files = {k: v for k, v in files.items() if v is not None}  # no XLSX without openpyxl (said in a warning)
    if not args.no_map:
        files.update(_maps(plan, terrain, out))
    summary = plan.summary() | {"greedy_value": plan.greedy["value"], "candidates": len(cands),
                                "times": plan.metadata["times"], "files": sorted(files.values())}
    files["plan_json"] = write_json(summary | {"metadata": plan.metadata}, out / "plan.json")
    print(json.dumps(summary, default=str))
    return 0


def _maps(plan, terrain, out: Path) -> dict:
    """Map (PNG) and KMZ of the plan's coverage: proposed masts with the villages they turn covered."""
    from ..render import kmz, plot

    res = plan.run.results[plan.metadata["technology"]]
    # the proposed masts are the sites drawn; the existing ones show through their coverage
    ax = plot.plot_coverage(res, terrain, plan.villages, sites=plan.chosen,
                            title=f"Plan: {len(plan.chosen)} new masts (objective: "
                                  f"{plan.objective.replace('_', ' ')}); existing towers show through their coverage")
    png = out / "plan_map.png"
    ax.figure.savefig(png, dpi=120, bbox_inches="tight")  # the legend sits below the axes
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
    kz = kmz.write_kmz(out / "plan.kmz", res, villages=plan.villages, sites=plan.chosen,
                       name=f"Plan: {len(plan.chosen)} new masts")
    return {"map_png": str(png), "kmz": str(kz)}
