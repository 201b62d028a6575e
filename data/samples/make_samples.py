"""Regenerate the embedded sample region (synthetic, deterministic): ``python data/samples/make_samples.py``.

Writes, next to this script:
  terrain.tif       300 x 300 cells of 50 m, UTM 50S (EPSG:32750), int16 metres
  sites.csv         5 towers (plain sites CSV layout)
  villages.geojson  24 village polygons of the fictional Kabupaten Contoh (kode 64.99.*)
All of it comes from coverage.synthetic.sample_region(seed=7): no real data is copied here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coverage.engine.result import write_raster_atomic
from coverage.synthetic import sample_region

HERE = Path(__file__).resolve().parent


def main() -> None:
    terrain, sites, villages = sample_region(seed=7)
    write_raster_atomic(HERE / "terrain.tif", {"elevation": terrain.elevation_m.astype(np.int16)}, terrain.transform,
                        terrain.crs, nodata=-32768, dtype="int16",
                        tags={"DESCRIPTION": "synthetic terrain, coverage.synthetic.sample_region(seed=7)"})
    sites.to_csv(HERE / "sites.csv", index=False, float_format="%.6g")
    villages.to_file(HERE / "villages.geojson", driver="GeoJSON", COORDINATE_PRECISION=6)
    print(f"wrote {HERE / 'terrain.tif'}, {HERE / 'sites.csv'}, {HERE / 'villages.geojson'}")


if __name__ == "__main__":
    main()
