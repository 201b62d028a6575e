"""The full Kaltim + Kaltara blankspot chain on the shared real data, timed.

Chain: read 1,520 village polygons (+ hierarchy CSV) and 1,025 OpenCelliD cells -> predict 4G
(COST-231 Hata, 1800 MHz) and 2G (Hata, 900 MHz) on a smooth earth over the villages' extent ->
per-village exact-area statistics -> indicators per kecamatan / kabupaten / province -> CSV,
GeoJSON, XLSX. No terrain: no DEM covers the provinces in the shared data.

Prints JSON lines: one per stage and one with the total, then the kabupaten table.
Usage: PYTHONPATH=src python benchmarks/bench_kalimantan.py [--resolution 250] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import coverage

SHARED = Path(os.environ.get("COVERAGE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def emit(**kw):
    print(json.dumps(kw, default=str), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", type=float, default=250.0, help="cell size, m (default 250)")
    ap.add_argument("--technology", action="append", help="default: 4g and 2g")
    ap.add_argument("--out-dir", help="keep the outputs here (default: a temporary folder)")
    a = ap.parse_args(argv)
    techs = a.technology or ["4g", "2g"]
    towers = SHARED / "towers" / "opencellid_510_kalimantan_bbox.csv"
    villages = SHARED / "villages" / "village_boundaries_kaltim_kaltara.geojson"
    hierarchy = SHARED / "villages" / "villages_kaltim_kaltara_centroids.csv"
    if not towers.exists():
        emit(error=f"shared data not found at {SHARED}")
        return 1
    import numba

    emit(machine={"cpus": os.cpu_count(), "numba_threads": numba.get_num_threads(), "python": sys.version.split()[0]})
    out_dir = a.out_dir or tempfile.mkdtemp(prefix="bench_kaltim_")
    warnings.simplefilter("ignore")
    # warm the JIT on a tiny job so the timing is the chain's, not numba's compilation
    t = time.perf_counter()
    s = coverage.read_sites(towers)
    coverage.predict(None, s.iloc[:2], model="hata" if s["freq_mhz"].iloc[0] <= 1500 else "cost231",
                     radius_m=2000, resolution_m=500, technology=s["technology"].iloc[0])
    emit(stage="jit_warmup", seconds=round(time.perf_counter() - t, 2))

    t0 = time.perf_counter()
    v = coverage.read_villages(villages, hierarchy=hierarchy, repair=True)
    t1 = time.perf_counter()
    emit(stage="read_villages", villages=len(v), seconds=round(t1 - t0, 2))
    run = coverage.run_villages(towers, v, technologies=techs, resolution_m=a.resolution, out_dir=out_dir)
    t2 = time.perf_counter()
    for tech, r in run.results.items():
        emit(stage=f"predict_{tech}", model=r.model, sites=len(r.sites), shape=list(r.shape),
             seconds=r.metadata.get("seconds"))
    emit(stage="total", what="read + predict + assess + indicators + CSV/GeoJSON/XLSX", technologies=techs,
         resolution_m=a.resolution, villages=len(run.table), seconds=round(t2 - t0, 2), out_dir=out_dir)
    k = run.indicators["kabupaten"]
    cols = ["kode", "nama", "villages", "covered", "partial", "blankspot", "share_villages_covered",
            "share_area_covered", "score"] + [c for c in k.columns if c.startswith("share_villages_covered_")]
    for row in k[cols].to_dict("records"):
        emit(kabupaten=row)
    for row in run.indicators["province"][cols].to_dict("records"):
        emit(province=row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
