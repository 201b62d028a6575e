"""Map outputs on real data: time and size of the offline HTML map, the KMZ and the static map.

    PYTHONPATH=src python benchmarks/bench_maps.py [--repeat 3]

A smooth-earth COST-231 run over Samarinda / Kutai Kartanegara / Balikpapan (116.6–117.6 E,
1.3–0.2 S, 500 m grid) with the LTE cells of the shared OpenCelliD extract, and the real village
polygons there (repaired). Prints one JSON line per output: median seconds over ``--repeat`` runs
and the file size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import shapely  # noqa: E402

import coverage  # noqa: E402
from coverage.render.interactive import interactive_map  # noqa: E402
from coverage.render.kmz import write_kmz  # noqa: E402
from coverage.render.plot import plot_coverage  # noqa: E402

DATA = Path(os.environ.get("COVERAGE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
BOUNDS = (116.6, -1.3, 117.6, -0.2)


def _median(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    towers = pd.read_csv(DATA / "towers" / "opencellid_510_kalimantan_bbox.csv")
    w, s, e, n = BOUNDS
    towers = towers[towers["lon"].between(w, e) & towers["lat"].between(s, n) & (towers["radio"] == "LTE")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        towers.to_csv(tmp / "towers.csv", index=False)
        result = coverage.predict(None, tmp / "towers.csv", model="cost231", radius_m=10_000, bounds=BOUNDS,
                                  resolution_m=500, progress=False)
        villages = coverage.read_villages(DATA / "villages" / "village_boundaries_kaltim_kaltara.geojson",
                                          repair=True)
        villages = villages[villages.geometry.intersects(shapely.box(*BOUNDS))]
        table = coverage.assess_villages(villages, result)
        common = {"sites": len(towers), "villages": len(table), "grid": list(result.shape), "repeat": a.repeat}

        t, m = _median(lambda: interactive_map(result, table).save(tmp / "map.html"), a.repeat)
        print(json.dumps({"output": "interactive_map+save", "median_s": round(t, 3),
                          "bytes": (tmp / "map.html").stat().st_size, **common}))
        t, _ = _median(lambda: write_kmz(tmp / "map.kmz", result, villages=table), a.repeat)
        print(json.dumps({"output": "write_kmz", "median_s": round(t, 3), "bytes": (tmp / "map.kmz").stat().st_size,
                          **common}))

        def static(labels):
            import matplotlib.pyplot as plt

            ax = plot_coverage(result, None, table, village_labels=labels, graticule=True)
            ax.figure.savefig(tmp / "map.png", dpi=100)
            placed = len(ax.village_labels)
            plt.close(ax.figure)
            return placed

        t0, _ = _median(lambda: static(False), a.repeat)
        t1, placed = _median(lambda: static(True), a.repeat)
        print(json.dumps({"output": "plot_coverage+savefig", "median_s": round(t0, 3),
                          "with_village_labels_s": round(t1, 3), "labels_placed": placed, **common}))


if __name__ == "__main__":
    main()
