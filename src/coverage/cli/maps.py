"""``blankspot map``, ``blankspot kmz`` and ``blankspot profile``: pictures and Google Earth files.

    blankspot map --terrain DEM.tif --sites towers.csv --villages desa.geojson --out map.png
    blankspot map --coverage coverage.tif --villages desa.geojson --village-labels --graticule --out map.pdf
    blankspot map --coverage coverage.tif --villages desa.geojson --out map.html    (interactive, offline)
    blankspot kmz --coverage coverage.tif --sites towers.csv --villages desa.geojson --out coverage.kmz
    blankspot profile --terrain DEM.tif --sites towers.csv --site BTS-01 --to 116.80,-0.41 --out profile.png

``map`` and ``kmz`` take a result written by ``blankspot predict`` (``--coverage``) or predict one
from ``--terrain``/``--sites``; villages are assessed (covered / partial / blankspot) when given.
``map --out NAME.html`` writes the interactive map: one HTML file that opens without a network.
``--repair-geometries`` repairs invalid village polygons (as ``blankspot villages`` does).
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
    p.add_argument("--repair-geometries", action="store_true",
                   help="repair invalid village polygons (shapely make_valid) instead of stopping")
    p.add_argument("--model", default="p526", help="model when predicting (default p526)")
    p.add_argument("--radius", type=float, default=30_000.0, help="radius around each site when predicting, m")
    p.add_argument("--rx-height", type=float, default=1.5, help="receiver height above ground, m (default 1.5)")
    p.add_argument("--technology", choices=["2g", "3g", "4g", "5g"], help="keep only sites of this technology")


def add_parser(sub) -> None:
    pm = sub.add_parser("map", help="coverage or best-server map (PNG/PDF/SVG) over a hillshade, with villages")
    _add_common(pm)
    pm.add_argument("--kind", choices=["signal", "server"], default="signal", help="signal classes or best server")
    pm.add_argument("--out", required=True,
                    help="image file (.png, .pdf, .svg), or .html for an interactive map that works offline")
    pm.add_argument("--dpi", type=int, default=150)
    pm.add_argument("--title", help="map title")
    pm.add_argument("--village-labels", nargs="?", const="priority", choices=["priority", "all"],
                    help="name villages without overlaps: blankspot and partial ones (default), or 'all' where "
                         "there is room")
    pm.add_argument("--graticule", action="store_true", help="latitude/longitude lines and degree labels on the axes")
    pm.add_argument("--tiles", help="interactive map (.html): base map offered in the layer control "
                                    "(OpenStreetMap, 'CartoDB positron', a URL template, or 'none'); off until chosen")

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
    from ..analysis.assess import assess_villages
    from ..io.villages import read_villages

    # an invalid polygon's hint names --repair-geometries (the CLI words every library message)
    villages = read_villages(a.villages, repair=bool(getattr(a, "repair_geometries", False)))
    if result is not None:
        villages = _on_map(villages, result, a.villages)
        return assess_villages(villages, result) if len(villages) else villages
    return villages


def _on_map(villages, result, source):
    """The villages whose shape meets the map's grid: a map draws no others, and a province-wide
    village file would otherwise be assessed whole for one city's map."""
    import shapely
    from pyproj import CRS

    from ..errors import InputError

    grid = shapely.box(*result.bounds)
    v = villages if villages.crs is None else villages.to_crs(CRS.from_user_input(result.crs))
    if villages.crs is None:
        v = villages.set_crs("EPSG:4326").to_crs(CRS.from_user_input(result.crs))
    keep = v.geometry.intersects(grid).to_numpy()
    if not keep.any():
        raise InputError(f"none of the {len(villages)} villages of {source} lies on the map's grid "
                         f"(bounds {tuple(round(b, 3) for b in result.bounds)} in {result.crs.to_string()})")
    if not keep.all():
        log.info("%d of %d villages of %s lie on the map; the others are left out", int(keep.sum()), len(keep),
                 source)
    return villages[keep]


def _summary(result, villages, out) -> dict:
    info = {"out": str(Path(out)), "model": result.model, "metric": result.metric,
            "sites": 0 if result.sites is None else len(result.sites)}
    if villages is not None and "status" in villages:
        info["villages"] = {k: int(v) for k, v in villages["status"].value_counts().items()}
    return info


def _save_figure(fig, out, dpi: int) -> None:
    """Save a figure atomically (a temporary file renamed into place), in the format of its suffix."""
    from .._atomic import atomic_path

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=dpi, format=out.suffix.lstrip(".").lower() or "png")


def run(a) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    if a.command == "map":
        from ..render.plot import plot_coverage

        result, terrain = _result(a)
        villages = _villages(a, result)
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        if str(a.out).lower().endswith((".html", ".htm")):
            from ..render.interactive import interactive_map

            tiles = None if (a.tiles or "").lower() == "none" else (a.tiles or "OpenStreetMap")
            interactive_map(result, villages, kind=a.kind, tiles=tiles, title=a.title).save(a.out)
            print(json.dumps(_summary(result, villages, a.out)))
            return 0
        labels = {"priority": True, "all": "all"}.get(a.village_labels, False)
        ax = plot_coverage(result, terrain, villages, kind=a.kind, title=a.title, village_labels=labels,
                           graticule=a.graticule)
        _save_figure(ax.figure, a.out, a.dpi)
        info = _summary(result, villages, a.out)
        if labels:
            info["village_labels"] = {"placed": len(ax.village_labels), "no_room": int(ax.village_labels_skipped)}
        print(json.dumps(info))
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
    _save_figure(ax.figure, a.out, a.dpi)
    geo = ax.profile_geometry
    print(json.dumps({"out": str(Path(a.out)), "distance_km": round(geo.length_m / 1000, 3),
                      "line_of_sight": geo.los_clear, "min_fresnel_clearance": round(geo.fresnel_clear, 3),
                      "losses_db": {k: round(v, 2) for k, v in ax.profile_losses.items()}}))
    return 0
