"""Site planning on the real Kaltim + Kaltara villages with the OpenCelliD towers, timed.

Chain: 1,520 village polygons + hierarchy, 2010 census population (name join), 4G OpenCelliD cells
(COST-231 Hata 1800 MHz, smooth earth: no DEM covers the provinces) -> candidates on a regular grid
near the blankspot / partial villages -> coverage matrix (engine once per candidate) on 1 and 2
numba workers -> greedy and MILP (HiGHS) plans for 10 / 50 / 200 new masts.

Prints JSON lines: setup, one per matrix run (workers), one per (objective, budget) with greedy and
MILP values, the proven gap and solve times.
Usage: PYTHONPATH=src python benchmarks/bench_plan.py [--resolution 250] [--spacing 4000]
       [--budgets 10 50 200] [--objectives blankspot_villages population] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import coverage
from coverage.analysis.planning import coverage_matrix, plan_sites, prepare_plan

SHARED = Path(os.environ.get("COVERAGE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def emit(**kw):
    print(json.dumps(kw, default=str), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", type=float, default=250.0, help="cell size, m (default 250)")
    ap.add_argument("--radius", type=float, default=30_000.0, help="prediction radius, m (default 30 km)")
    ap.add_argument("--spacing", type=float, default=4000.0, help="candidate grid spacing, m")
    ap.add_argument("--search", type=float, default=5000.0, help="candidates within this of a village, m")
    ap.add_argument("--budgets", type=int, nargs="+", default=[10, 50, 200])
    ap.add_argument("--objectives", nargs="+", default=["blankspot_villages", "population"])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    towers = SHARED / "towers" / "opencellid_510_kalimantan_bbox.csv"
    v = coverage.read_villages(SHARED / "villages" / "village_boundaries_kaltim_kaltara.geojson",
                               hierarchy=SHARED / "villages" / "villages_kaltim_kaltara_centroids.csv", repair=True)
    pj = coverage.read_population(SHARED / "population" / "census2010_villages_kaltim_kaltara.csv", v)
    v = pj.apply(v)
    emit(stage="population", match_rate=round(pj.match_rate, 4), people_matched=round(pj.people_matched_share, 4),
         counts=pj.counts)
    base = coverage.run_villages(towers, v, resolution_m=a.resolution, radius_m=a.radius)
    cands = coverage.candidate_sites(base.table, method="grid", spacing_m=a.spacing, search_radius_m=a.search)
    emit(stage="setup", villages=len(v), towers_4g=int(base.metadata["n_sites"]["4g"]), candidates=len(cands),
         status=base.table["status"].value_counts().to_dict(), seconds=round(time.perf_counter() - t0, 2))
    t1 = time.perf_counter()
    pb = prepare_plan(sites=towers, candidates=cands, villages=v, resolution_m=a.resolution, radius_m=a.radius,
                      workers=a.workers[0])
    emit(stage="prepare", seconds=round(time.perf_counter() - t1, 2), times=pb.times, model=pb.model,
         open_cells=int(pb.matrix.open_cells.size), matrix_nnz=int(pb.matrix.matrix.nnz))
    # the coverage matrix on each number of workers (numba threads), median of 3
    grid = None
    from coverage.analysis.planning import _grid

    grid = _grid(pb.terrain, pb.candidate_models[0], None if pb.terrain is not None else _bounds(v, a.resolution), pb.radius_m,
                 pb.resolution_m, pb.sites)
    for w in a.workers:
        secs = []
        for _ in range(3):
            cm = coverage_matrix(pb.candidates, grid, pb.matrix.open_cells, model=pb.candidate_models, params=pb.params,
                                 tech=pb.technology, rx_height_m=pb.rx_height_m, radius_m=pb.radius_m,
                                 usable_dbm=pb.usable_dbm, workers=w)
            secs.append(cm.seconds)
        assert (cm.matrix != pb.matrix.matrix).nnz == 0
        emit(stage="coverage_matrix", workers=w, candidates=len(pb.candidates), median_s=round(sorted(secs)[1], 3),
             runs_s=[round(x, 3) for x in secs], cell_evaluations=cm.cell_evaluations, nnz=int(cm.matrix.nnz))
    for obj in a.objectives:
        for b in a.budgets:
            t2 = time.perf_counter()
            p = plan_sites(problem=pb, budget=b, objective=obj, time_limit_s=a.time_limit, reassess=False)
            emit(stage="plan", objective=obj, budget=b, candidates=len(pb.candidates), milp_value=p.value,
                 greedy_value=p.greedy["value"], bound=p.bound, gap=p.gap,
                 blankspot=[p.blankspot_before, p.blankspot_after], covered=[p.covered_before, p.covered_after],
                 population_covered=[round(p.population_covered_before), round(p.population_covered_after)],
                 groups=p.metadata["n_groups"], solver_status=p.metadata["solver_status"],
                 milp_s=p.metadata["times"].get("milp_s"), greedy_s=p.metadata["times"]["greedy_s"],
                 model_s=p.metadata["times"]["model_s"], total_s=round(time.perf_counter() - t2, 2))
    emit(stage="total", seconds=round(time.perf_counter() - t0, 2))
    return 0


def _bounds(v, resolution_m):
    lo0, la0, lo1, la1 = v.total_bounds
    pad = resolution_m / 111_000.0
    return (lo0 - pad, la0 - pad, lo1 + pad, la1 + pad)


if __name__ == "__main__":
    raise SystemExit(main())
