"""Deterministic synthetic terrain, sites and villages for demos, tests and benchmarks.

Everything here is generated from a seed: the same call gives the same bytes on every machine.
The data are *synthetic* (shaped like a lowland East Kalimantan kabupaten: a river plain with hills),
never a description of a real place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS

from .io.terrain import Terrain

__all__ = ["fractal_terrain", "sample_region"]


def fractal_terrain(shape=(256, 256), cell_m: float = 50.0, *, seed: int = 0, relief_m: float = 300.0,
                    beta: float = 3.2, origin=(500_000.0, 9_950_000.0), crs="EPSG:32750",
                    base_m: float = 5.0) -> Terrain:
    """Spectral-synthesis (1/f^beta) terrain with a meandering river plain, as a projected Terrain.

    Parameters
    ----------
    shape : (rows, cols)
    cell_m : float
        Cell size (m).
    seed : int
        Random seed; the output is a pure function of the arguments.
    relief_m : float
        Height of the highest hill above the plain (m).
    origin : (x, y)
        Upper-left corner in ``crs`` (default UTM 50S near the equator).
    """
    rows, cols = shape
    rng = np.random.default_rng(seed)
    ky = np.fft.fftfreq(rows)[:, None]
    kx = np.fft.rfftfreq(cols)[None, :]
    k = np.sqrt(kx * kx + ky * ky)
    k[0, 0] = 1.0
    amp = k ** (-beta / 2.0)
    amp[0, 0] = 0.0
    phase = rng.uniform(0, 2 * np.pi, size=amp.shape)
    spec = amp * np.exp(1j * phase)
    z = np.fft.irfft2(spec, s=(rows, cols))
    z = (z - z.min()) / (z.max() - z.min())
    # a river plain along a meander across the area, hills rising away from it
    yy, xx = np.mgrid[0:rows, 0:cols]
    centre = rows * (0.55 + 0.15 * np.sin(2 * np.pi * xx / cols * 1.5 + rng.uniform(0, 6.28)))
    dist = np.abs(yy - centre) / rows
    plain = np.clip(dist / 0.25, 0.0, 1.0) ** 1.5
    elev = base_m + relief_m * z * plain
    transform = Affine(cell_m, 0.0, origin[0], 0.0, -cell_m, origin[1])
    return Terrain(np.round(elev).astype(np.float32), transform, CRS.from_user_input(crs))


def sample_region(seed: int = 7):
    """The embedded demo region: terrain, towers and villages of a fictional kabupaten.

    Returns
    -------
    terrain : Terrain
        300 x 300 cells of 50 m (15 km square) in UTM 50S.
    sites : pandas.DataFrame
        Five towers (plain sites CSV columns), two of them sectorised.
    villages : geopandas.GeoDataFrame
        24 village polygons (Voronoi cells) with Kemendagri-style codes of a fictional kabupaten
        (64.99), kecamatan, population and type (desa / kelurahan).
    """
    import geopandas as gpd
    import shapely

    terrain = fractal_terrain((300, 300), 50.0, seed=seed, relief_m=260.0, origin=(470_000.0, 9_960_000.0))
    rng = np.random.default_rng(seed + 1)
    left, bottom, right, top = terrain.bounds
    # towers: on the plain near the settlements; the north and the eastern hills are left without
    sites_xy = [(0.30, 0.55), (0.55, 0.60), (0.75, 0.50), (0.20, 0.80), (0.62, 0.82)]
    lon, lat = terrain.to_lonlat(np.array([left + fx * (right - left) for fx, _ in sites_xy]),
                                 np.array([top - fy * (top - bottom) for _, fy in sites_xy]))
    sites = pd.DataFrame({
        "site_id": [f"BTS-{i + 1:02d}" for i in range(len(sites_xy))],
        "lon": np.round(lon, 6), "lat": np.round(lat, 6),
        "height_m": [42.0, 32.0, 32.0, 30.0, 32.0],
        "freq_mhz": [900.0, 1800.0, 1800.0, 900.0, 1800.0],
        "eirp_dbm": [55.0, 57.0, 57.0, 54.0, 57.0],
        "technology": ["4g"] * len(sites_xy),
        "bandwidth_mhz": [10.0, 20.0, 20.0, 5.0, 20.0],
        "azimuth_deg": [np.nan, 120.0, np.nan, 240.0, np.nan],
        "beamwidth_deg": [np.nan, 65.0, np.nan, 65.0, np.nan],
        "downtilt_deg": [np.nan, 4.0, np.nan, 2.0, np.nan],
    })
    # villages: jittered grid of seeds -> Voronoi polygons clipped to the area
    n_side = 6
    pts = []
    for i in range(n_side):
        for j in range(n_side):
            if (i * n_side + j) % 3 == 2:
                continue  # fewer, irregular villages
            fx = (j + 0.5 + rng.uniform(-0.3, 0.3)) / n_side
            fy = (i + 0.5 + rng.uniform(-0.3, 0.3)) / n_side
            pts.append((left + fx * (right - left), top - fy * (top - bottom)))
    box = shapely.box(left, bottom, right, top)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=box)
    polys = [shapely.intersection(c, box) for c in shapely.get_parts(cells)]
    # keep the order of the seeds
    seeds = [shapely.Point(p) for p in pts]
    ordered = [next(pg for pg in polys if pg.contains(s)) for s in seeds]
    gdf = gpd.GeoDataFrame(geometry=ordered, crs=terrain.crs).to_crs("EPSG:4326")
    n = len(gdf)
    kec = [1 + (k * 3) // n for k in range(n)]
    names = ["Sungai", "Batu", "Long", "Muara", "Tanjung", "Bukit", "Loa", "Sepaku", "Gunung", "Tering",
             "Sebulu", "Tenggarong"]
    types = ["kelurahan" if k % 7 == 0 else "desa" for k in range(n)]
    gdf.insert(0, "kode", [f"64.99.{kec[k]:02d}.{(1 if types[k] == 'kelurahan' else 2)}{k + 1:03d}" for k in range(n)])
    gdf.insert(1, "nama", [f"{names[k % len(names)]} {chr(65 + k // len(names))}" for k in range(n)])
    gdf.insert(2, "type", types)
    gdf.insert(3, "kode_kec", [f"64.99.{c:02d}" for c in kec])
    gdf.insert(4, "nama_kec", [f"Kecamatan Contoh {c}" for c in kec])
    gdf.insert(5, "kode_kab", "64.99")
    gdf.insert(6, "nama_kab", "Kabupaten Contoh (synthetic)")
    gdf.insert(7, "kode_prov", "64")
    gdf.insert(8, "nama_prov", "Kalimantan Timur")
    gdf.insert(9, "population", rng.integers(300, 6000, size=n))
    gdf["geometry"] = gdf.geometry.set_precision(1e-6)
    return terrain, sites, gdf

