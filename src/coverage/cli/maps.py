"""``blankspot map``, ``blankspot kmz`` and ``blankspot profile``: pictures and Google Earth files.

    blankspot map --terrain DEM.tif --sites towers.csv --villages desa.geojson --out map.png
    blankspot kmz --coverage coverage.tif --sites towers.csv --villages desa.geojson --out coverage.kmz
    blankspot profile --terrain DEM.tif --sites towers.csv --site BTS-01 --to 116.80,-0.41 --out profile.png

``map`` and ``kmz`` take a result written by ``blankspot predict`` (``--coverage``) or predict one
from ``--terrain``/``--sites``; villages are assessed (covered / partial / blankspot) when given.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("coverage.cli")

COMMANDS = ("map", "kmz", "profile")


def _lonlat(text: str):
    import argparse

    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected LON,LAT in degrees, e.g. 116.80,-0.41") from None
    return lon, lat


def _add_common(p, *, coverage: bool = True):
    if coverage:
        p.add_argument("--coverage", help="coverage GeoTIFF from `blankspot predict` (else predict from --sites)")
    p.add_argument("--terrain", nargs="+", help="DEM files (hillshade; and the terrain model when predicting)")
    p.add_argument("--sites", help="sites CSV / GeoJSON / OpenCelliD CSV")
    p.add_argument("--villages", help="village polygons or points (GeoJSON, GeoPackage, Shapefile, CSV)")
    p.add_argument("--model", default="p526", help="model when predicting (default p526)")
    p.add_argument("--radius", type=float, default=30_000.0, help="radius around each site when predicting, m")
    p.add_argument("--rx-height", type=float, default=1.5, help="receiver height above ground, m (default 1.5)")
    p.add_argument("--technology", choices=["2g", "3g", "4g", "5g"], help="keep only sites of this technology")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_parser(sub) -> None:
    pm = sub.add_parser("map", help="coverage or best-server map (PNG/PDF/SVG) over a hillshade, with villages")
    _add_common(pm)
    pm.add_argument("--kind", choices=["signal", "server"], default="signal", help="signal classes or best server")
    pm.add_argument("--out", required=True, help="image file (.png, .pdf, .svg)")
    pm.add_argument("--dpi", type=int, default=150)
    pm.add_argument("--title", help="map title")

    pk = sub.add_parser("kmz", help="KMZ for Google Earth: coverage overlay + legend, sites, villages by status")
    _add_common(pk)
    pk.add_argument("--kind", choices=["signal", "server"], default="signal")
    pk.add_argument("--opacity", type=float, default=0.7, help="overlay opacity (default 0.7)")
    pk.add_argument("--out", required=True, help="output .kmz")

    pp = sub.add_parser("profile", help="path profile from a site to a point or village (PNG)")
    _add_common(pp, coverage=False)
    pp.add_argument("--site", required=True, help="site_id of the transmitting site")
    target = pp.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", type=_lonlat, help="LON,LAT of the receiver")
    target.add_argument("--village", help="code (kode) or name of a village in --villages")
    pp.add_argument("--models", default="fspl,hata,p526,itm", help="losses to report (default fspl,hata,p526,itm)")
    pp.add_argument("--out", required=True, help="image file")
    pp.add_argument("--dpi", type=int, default=150)


def _result(a):
    from ..errors import InputError

    terrain = None
    if a.terrain:
        from ..io.terrain import open_terrain

        terrain = open_terrain(a.terrain)
    if getattr(a, "coverage", None):
        from ..engine.result import CoverageResult

        result = CoverageResult.from_geotiff(a.coverage)
        if a.sites:  # give the stored site ids their positions and sectors back
            from ..io.sites import read_sites

            sites = read_sites(a.sites).drop_duplicates("site_id").set_index("site_id", drop=False)
            ids = [str(i) for i in result.sites["site_id"]]
            known = [i for i in ids if i in sites.index]
            if len(known) == len(ids):
                result.sites = sites.loc[ids].reset_index(drop=True)
            else:
                log.warning("%d of %d site ids of %s are not in %s: sites drawn without positions",
                            len(ids) - len(known), len(ids), a.coverage, a.sites)
        return result, terrain
    if not a.sites:
        raise InputError("give --coverage (a result of `blankspot predict`) or --sites to predict one")
    from ..engine.predict import predict

    result = predict(terrain, a.sites, model=a.model, radius_m=a.radius, rx_height_m=a.rx_height,
                     technology=a.technology, progress=False if a.no_progress else None)
    return result, terrain


def _villages(a, result):
    if not a.villages:
        return None
    import coverage

    if hasattr(coverage, "read_villages"):
        villages = coverage.read_villages(a.villages)
    else:  # pragma: no cover - older trees
        import geopandas as gpd

        villages = gpd.read_file(a.villages)
    if result is not None and hasattr(coverage, "assess_villages"):
        return coverage.assess_villages(villages, result)
    return villages


def _summary(result, villages, out) -> dict:
    info = {"out": str(Path(out)), "model": result.model, "metric": result.metric,
            "sites": 0 if result.sites is None else len(result.sites)}
    if villages is not None and "status" in villages:
        info["villages"] = {k: int(v) for k, v in villages["status"].value_counts().items()}
    return info


def run(a) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    if a.command == "map":
        from ..render.plot import plot_coverage

        result, terrain = _result(a)
        villages = _villages(a, result)
        ax = plot_coverage(result, terrain, villages, kind=a.kind, title=a.title)
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        ax.figure.savefig(a.out, dpi=a.dpi)
        print(json.dumps(_summary(result, villages, a.out)))
        return 0
    if a.command == "kmz":
        from ..render.kmz import write_kmz

        result, _ = _result(a)
        villages = _villages(a, result)
        write_kmz(a.out, result, villages=villages, kind=a.kind, alpha=a.opacity)
        print(json.dumps(_summary(result, villages, a.out)))
        return 0
    if a.command == "profile":
        return _profile(a)
    return 2


def _profile(a) -> int:
    from ..errors import InputError
    from ..io.sites import read_sites
    from ..io.terrain import open_terrain
    from ..render.plot import plot_profile

    if not a.terrain or not a.sites:
        raise InputError("blankspot profile needs --terrain and --sites")
    terrain = open_terrain(a.terrain)
    sites = read_sites(a.sites)
    hit = sites[sites["site_id"].astype(str) == str(a.site)]
    if hit.empty:
        raise InputError(f"site {a.site!r} is not in {a.sites} (site ids: {', '.join(map(str, sites['site_id'][:10]))} ...)")
    site = hit.iloc[0]
    if a.to is not None:
        point = a.to
    else:
        if not a.villages:
            raise InputError("--village needs --villages")
        villages = _villages(a, None)
        sel = villages[(villages.get("kode", villages.index).astype(str) == a.village)
                       | (villages.get("nama", villages.index).astype(str).str.lower() == a.village.lower())]
        if sel.empty:
            raise InputError(f"village {a.village!r} not found (by kode or nama) in {a.villages}")
        point = sel.iloc[0]
    models = tuple(m.strip() for m in a.models.split(",") if m.strip())
    ax = plot_profile(terrain, site, point, h_rx_m=a.rx_height, models=models)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(a.out, dpi=a.dpi)
    geo = ax.profile_geometry
    print(json.dumps({"out": str(Path(a.out)), "distance_km": round(geo.length_m / 1000, 3),
                      "line_of_sight": geo.los_clear, "min_fresnel_clearance": round(geo.fresnel_clear, 3),
                      "losses_db": {k: round(v, 2) for k, v in ax.profile_losses.items()}}))
    return 0
