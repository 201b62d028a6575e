"""Exports planners open elsewhere: a KMZ for Google Earth, and Cloud-Optimized GeoTIFFs.

* :func:`write_kmz` — the coverage raster as a ``GroundOverlay`` (PNG, classed in the technology's
  metric, transparent where there is no usable signal) with its legend as a ``ScreenOverlay`` (12 pt
  at Google Earth's native size), sites as placemarks (sector wedges toward their azimuth) and
  villages as outlines styled by status with a dot inside, each with its attributes in a balloon.
  Every file the KML names is inside the archive: the icons are PNGs drawn here
  (:func:`icon_pngs`), so Google Earth shows the file without the internet. Entries are
  world-readable (``rw-r--r--``); the archive is written to a temporary file and renamed into place.
* :func:`write_cog` / :func:`validate_cog` — a coverage result as a Cloud-Optimized GeoTIFF (GDAL's COG
  driver through :meth:`coverage.CoverageResult.to_geotiff`) and a check of the layout.

KMZ rendering needs matplotlib (the ``plot`` extra) for colours, the PNG and the legend.
"""

from __future__ import annotations

import io
import logging
import math
import os
import time
import zipfile
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np

from .._atomic import atomic_path
from ..errors import InputError

__all__ = ["write_kmz", "kml_document", "write_cog", "validate_cog", "warp_to_wgs84", "coverage_rgba", "legend_png",
           "icon_pngs"]

log = logging.getLogger(__name__)

KML_NS = "http://www.opengis.net/kml/2.2"
#: Icons inside the KMZ (drawn here, :func:`icon_pngs`): nothing is fetched from the internet.
ICON_SITE = "files/icons/site.png"
ICON_VILLAGE = "files/icons/village_{status}.png"
#: Legend text size (pt) and resolution: Google Earth shows a ScreenOverlay at its pixel size, so at
#: 100 dpi 12 pt is 16.7 px, a 12-pt font on a 96-dpi screen.
LEGEND_FONT_PT = 12.0
LEGEND_DPI = 100
#: Permissions of the archive's entries (rw-r--r--): anyone who unpacks it can read them.
ZIP_MODE = 0o644


# --------------------------------------------------------------------------------------------- rasters
def warp_to_wgs84(result, layer: str = "best_dbm"):
    """A result layer on a longitude/latitude grid (nearest neighbour): ``(array, (west, south, east, north))``."""
    import rasterio.warp
    from pyproj import CRS
    from rasterio.enums import Resampling

    arr = np.asarray(getattr(result, layer))
    src = arr.astype(np.float32)
    if layer == "best_server":
        src = np.where(arr < 0, np.nan, src).astype(np.float32)
    crs = CRS.from_user_input(result.crs)
    if crs.is_geographic:
        l, b, r, t = result.bounds
        return src, (l, b, r, t)
    rows, cols = src.shape
    l, b, r, t = result.bounds
    dst_t, w, h = rasterio.warp.calculate_default_transform(crs.to_wkt(), "EPSG:4326", cols, rows, l, b, r, t)
    out = np.full((h, w), np.nan, dtype=np.float32)
    rasterio.warp.reproject(src, out, src_transform=result.transform, src_crs=crs.to_wkt(), dst_transform=dst_t,
                            dst_crs="EPSG:4326", src_nodata=np.nan, dst_nodata=np.nan, resampling=Resampling.nearest)
    west, north = dst_t.c, dst_t.f
    return out, (west, north + h * dst_t.e, west + w * dst_t.a, north)


def coverage_rgba(result, kind: str = "signal", *, alpha: float = 0.7, usable_dbm: float | None = None):
    """RGBA image (uint8) of a result on a lon/lat grid, its bounds, and the legend entries.

    Returns ``(rgba, (west, south, east, north), [(label, colour), ...], title)``.
    """
    from matplotlib.colors import to_rgba

    from .plot import _classes_for, colorize, metric_label, model_label, server_colors

    classes = _classes_for(result, usable_dbm)
    dbm, bounds = warp_to_wgs84(result, "best_dbm")
    if kind == "signal":
        rgba = colorize(dbm, classes, alpha)
        entries = list(zip(classes.labels(), classes.colors))[::-1]
        title = f"{metric_label(classes.metric)}, {model_label(result.model)}"
    elif kind == "server":
        srv, _ = warp_to_wgs84(result, "best_server")
        n = max(int(np.nanmax(srv)) + 1 if np.isfinite(srv).any() else 1, 1)
        colors = server_colors(n)
        lut = np.array([to_rgba(c, alpha) for c in colors])
        ok = np.isfinite(srv) & np.isfinite(dbm) & (dbm >= classes.usable_dbm)
        rgba = np.zeros(srv.shape + (4,), dtype=np.uint8)
        rgba[ok] = np.round(lut[srv[ok].astype(int)] * 255).astype(np.uint8)
        ids = (list(map(str, result.sites["site_id"])) if result.sites is not None and "site_id" in result.sites
               else [str(i) for i in range(n)])
        entries = [(f"served by {ids[i] if i < len(ids) else i}", colors[i]) for i in range(min(n, 20))]
        title = f"best server, {model_label(result.model)}"
    else:
        raise InputError(f"kind must be 'signal' or 'server', got {kind!r}")
    entries.append((f"no usable signal (< {classes.usable_dbm:g} dBm)", "none"))
    return rgba, bounds, entries, title


def _png(rgba: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def legend_png(entries, title: str, *, status: bool = True, sites: bool = False, sectors: bool = False) -> bytes:
    """The legend as a PNG at Google Earth's native size: coloured boxes, village outlines, site symbols.

    Text is :data:`LEGEND_FONT_PT` points at :data:`LEGEND_DPI` dpi (readable at 1:1 on screen). The
    "no usable signal" entry is an empty box: the overlay is clear there and the imagery shows.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .plot import STATUS_COLORS, STATUS_ORDER, sector_marker

    handles = [Patch(fc=c if c != "none" else "none", ec="#555555", label=lbl + (" — clear" if c == "none" else ""))
               for lbl, c in entries]
    if status:
        handles += [Line2D([], [], color=STATUS_COLORS[s], lw=3, marker="o", mfc=STATUS_COLORS[s], mec="black",
                           ms=8, label=f"village: {s} (outline)") for s in STATUS_ORDER]
    if sites:
        handles.append(Line2D([], [], ls="", marker="^", ms=11, mfc="white", mec="black", mew=1.5, label="site"))
    if sectors:
        handles.append(Line2D([], [], ls="", marker=sector_marker(), ms=16, mfc="white", mec="black",
                              label="sector (toward its azimuth)"))
    n_chars = max(len(h.get_label()) for h in handles + [Patch(label=title)])
    fig = Figure(figsize=(0.6 + 0.105 * n_chars * LEGEND_FONT_PT / 10, 0.32 * (len(handles) + 1.8)), dpi=LEGEND_DPI)
    fig.legend(handles=handles, loc="center", title=title, fontsize=LEGEND_FONT_PT, title_fontsize=LEGEND_FONT_PT + 1,
               frameon=True, framealpha=1.0, handlelength=2.2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=LEGEND_DPI, facecolor="white", bbox_inches="tight", pad_inches=0.04)
    return buf.getvalue()


def icon_pngs() -> dict[str, bytes]:
    """The placemark icons as PNGs (archive path -> bytes): a site mast and one dot per village status."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    from .plot import STATUS_COLORS

    def draw(paint, size_px=64):
        fig = Figure(figsize=(size_px / 100, size_px / 100), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.axis("off")
        paint(ax)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", transparent=True)
        return buf.getvalue()

    def site(ax):  # a mast: white triangle, black edge, the antenna tip as a dot
        ax.fill([-0.55, 0.55, 0.0, -0.55], [-0.8, -0.8, 0.55, -0.8], fc="white", ec="black", lw=3)
        ax.plot([0, 0], [-0.8, 0.75], color="black", lw=2.5)
        ax.plot([0], [0.75], marker="o", ms=9, color="black")

    def dot(col):
        return lambda ax: ax.add_patch(Circle((0, 0), 0.7, fc=col, ec="black", lw=2.5))

    out = {ICON_SITE: draw(site)}
    for status, col in STATUS_COLORS.items():
        out[ICON_VILLAGE.format(status=status)] = draw(dot(col), 40)
    return out


# --------------------------------------------------------------------------------------------- KML
def _kml_color(color, alpha: float = 1.0) -> str:
    """matplotlib colour -> KML ``aabbggrr``."""
    from matplotlib.colors import to_rgba

    r, g, b, _ = to_rgba(color)
    return "".join(f"{int(round(v * 255)):02x}" for v in (alpha, b, g, r))


def _sub(parent, tag, text=None, **attrib):
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrib.items()})
    if text is not None:
        el.text = str(text)
    return el


def _fmt(v) -> str:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.6g}"
    if isinstance(v, (np.floating,)):
        return _fmt(float(v))
    return str(v)


def _extended(pm, record: dict):
    ext = _sub(pm, "ExtendedData")
    for k, v in record.items():
        d = _sub(ext, "Data", name=k)
        _sub(d, "value", _fmt(v))


def _description(record: dict) -> str:
    rows = "".join(f"<tr><td><b>{k}</b></td><td>{_fmt(v)}</td></tr>" for k, v in record.items())
    return f"<table>{rows}</table>"


def _coords(xy) -> str:
    return " ".join(f"{x:.6f},{y:.6f},0" for x, y in xy)


def _polygon(parent, poly):
    p = _sub(parent, "Polygon")
    _sub(_sub(_sub(p, "outerBoundaryIs"), "LinearRing"), "coordinates", _coords(poly.exterior.coords))
    for ring in poly.interiors:
        _sub(_sub(_sub(p, "innerBoundaryIs"), "LinearRing"), "coordinates", _coords(ring.coords))


def _geometry(parent, geom):
    kind = geom.geom_type
    if kind == "Point":
        _sub(_sub(parent, "Point"), "coordinates", f"{geom.x:.6f},{geom.y:.6f},0")
    elif kind == "Polygon":
        _polygon(parent, geom)
    elif kind in ("MultiPolygon", "GeometryCollection", "MultiPoint", "MultiLineString"):
        mg = _sub(parent, "MultiGeometry")
        for g in geom.geoms:
            _geometry(mg, g)
    elif kind in ("LineString", "LinearRing"):
        _sub(_sub(parent, "LineString"), "coordinates", _coords(geom.coords))


_VILLAGE_FIELDS = ("kode", "nama", "status", "signal_dbm", "signal_class", "p50_dbm", "usable_share",
                   "best_server", "best_server_km", "nearest_site", "nearest_site_km", "nama_kec", "nama_kab", "type",
                   "population")


def _village_record(row, columns) -> dict:
    rec = {}
    for c in _VILLAGE_FIELDS:
        if c in columns:
            rec[c] = row[c]
    for c in columns:  # the remaining simple columns (signal statistics from assess_villages etc.)
        if c not in rec and c != "geometry" and len(rec) < 24:
            v = row[c]
            if isinstance(v, (str, int, float, np.integer, np.floating, bool, np.bool_)):
                rec[c] = v
    return rec


def _kml_styles(doc) -> None:
    """Shared styles: the site icon and one outline style per village status (icons inside the KMZ)."""
    from .plot import STATUS_COLORS

    st = _sub(doc, "Style", id="site")
    ic = _sub(st, "IconStyle")
    _sub(ic, "scale", 1.1)
    _sub(_sub(ic, "Icon"), "href", ICON_SITE)
    _sub(_sub(st, "LabelStyle"), "scale", 0.8)
    ls = _sub(st, "LineStyle")
    _sub(ls, "color", _kml_color("black"))
    _sub(ls, "width", 1.5)
    _sub(_sub(st, "PolyStyle"), "color", _kml_color("white", 0.8))
    for status, col in STATUS_COLORS.items():
        st = _sub(doc, "Style", id=f"village_{status}")
        ls = _sub(st, "LineStyle")
        _sub(ls, "color", _kml_color(col))
        _sub(ls, "width", 2.5 if status == "blankspot" else 1.5)
        ps = _sub(st, "PolyStyle")  # outlines: a fill would change the coverage colours under it
        _sub(ps, "fill", 0)
        _sub(ps, "outline", 1)
        ic = _sub(st, "IconStyle")
        _sub(ic, "scale", 0.7)
        _sub(_sub(ic, "Icon"), "href", ICON_VILLAGE.format(status=status))
        _sub(_sub(st, "LabelStyle"), "scale", 0.0)  # names in the balloon, not cluttering the map



def kml_document(result=None, *, villages=None, sites=None, overlay_href: str | None = "files/coverage.png",
                 overlay_bounds=None, legend_href: str | None = "files/legend.png", name: str = "coverage",
                 overlay_name: str = "coverage", description: str = "", wedge_m: float = 400.0) -> ET.Element:
    """The KML tree of :func:`write_kmz` (without the images): coverage overlay, legend, sites, villages."""
    ET.register_namespace("", KML_NS)
    kml = ET.Element("kml", xmlns=KML_NS)
    doc = _sub(kml, "Document")
    _sub(doc, "name", name)
    if description:
        _sub(doc, "description", description)
    _sub(doc, "open", 1)

    from .plot import STATUS_COLORS, _sector_polygon

    _kml_styles(doc)

    # coverage
    if overlay_href is not None and overlay_bounds is not None:
        fo = _sub(doc, "Folder")
        _sub(fo, "name", "Coverage")
        go = _sub(fo, "GroundOverlay")
        _sub(go, "name", overlay_name)
        if result is not None:
            from .plot import model_label

            _sub(go, "description", f"{model_label(result.model)} ({result.model}), metric {result.metric}, "
                                    f"technology {result.technology}")
        _sub(_sub(go, "Icon"), "href", overlay_href)
        w, s, e, n = overlay_bounds
        box = _sub(go, "LatLonBox")
        for tag, val in (("north", n), ("south", s), ("east", e), ("west", w)):
            _sub(box, tag, f"{val:.8f}")
        if legend_href is not None:
            so = _sub(fo, "ScreenOverlay")
            _sub(so, "name", "Legend")
            _sub(_sub(so, "Icon"), "href", legend_href)
            _sub(so, "overlayXY", x=0, y=0, xunits="fraction", yunits="fraction")
            _sub(so, "screenXY", x=0.01, y=0.06, xunits="fraction", yunits="fraction")
            _sub(so, "size", x=0, y=0, xunits="fraction", yunits="fraction")

    # sites
    if sites is not None and len(sites) and {"lon", "lat"} <= set(sites.columns):
        fo = _sub(doc, "Folder")
        _sub(fo, "name", f"Sites ({len(sites)})")
        lat0 = float(np.nanmean(sites["lat"]))
        m_per = (111_320.0 * math.cos(math.radians(lat0)), 110_574.0)
        fields = [c for c in ("site_id", "technology", "height_m", "freq_mhz", "eirp_dbm", "bandwidth_mhz",
                              "azimuth_deg", "beamwidth_deg", "downtilt_deg") if c in sites.columns]
        for _, row in sites.iterrows():
            pm = _sub(fo, "Placemark")
            _sub(pm, "name", row.get("site_id", ""))
            rec = {c: row[c] for c in fields}
            _sub(pm, "description", _description(rec))
            _sub(pm, "styleUrl", "#site")
            _extended(pm, rec)
            az = row.get("azimuth_deg", np.nan)
            pt = f"{float(row['lon']):.6f},{float(row['lat']):.6f},0"
            if az is not None and np.isfinite(float(az)):
                mg = _sub(pm, "MultiGeometry")
                _sub(_sub(mg, "Point"), "coordinates", pt)
                bw = row.get("beamwidth_deg", 65.0)
                bw = 65.0 if bw is None or not np.isfinite(float(bw)) else float(bw)
                wedge = _sector_polygon(float(row["lon"]), float(row["lat"]), float(az), bw, wedge_m, *m_per)
                p = _sub(mg, "Polygon")
                _sub(_sub(_sub(p, "outerBoundaryIs"), "LinearRing"), "coordinates", _coords(wedge))
            else:
                _sub(_sub(pm, "Point"), "coordinates", pt)

    # villages
    if villages is not None and len(villages):
        import geopandas as gpd

        v = villages if isinstance(villages, gpd.GeoDataFrame) else gpd.GeoDataFrame(villages)
        v = v.set_crs("EPSG:4326") if v.crs is None else v.to_crs("EPSG:4326")
        status = (v["status"].astype(str).str.lower() if "status" in v else None)
        fo = _sub(doc, "Folder")
        _sub(fo, "name", f"Villages ({len(v)})")
        cols = list(v.columns)
        groups = (["blankspot", "partial", "covered", "unassessed", "unknown"] if status is not None
                  else ["unknown"])
        for grp in groups:
            sel = (status.where(status.isin(list(STATUS_COLORS)), "unknown") == grp) if status is not None \
                else np.ones(len(v), bool)
            if not np.any(sel):
                continue
            sub = _sub(fo, "Folder")
            _sub(sub, "name", f"{grp} ({int(np.sum(sel))})")
            for _, row in v[np.asarray(sel)].iterrows():
                pm = _sub(sub, "Placemark")
                _sub(pm, "name", row.get("nama", row.get("name", row.get("kode", ""))))
                rec = _village_record(row, cols)
                _sub(pm, "description", _description(rec))
                _sub(pm, "styleUrl", f"#village_{grp}")
                _extended(pm, rec)
                if row.geometry is not None and not row.geometry.is_empty:
                    if row.geometry.geom_type in ("Polygon", "MultiPolygon"):
                        # an outline is not clickable inside: a dot at a point inside opens the balloon
                        mg = _sub(pm, "MultiGeometry")
                        p = row.geometry.representative_point()
                        _sub(_sub(mg, "Point"), "coordinates", f"{p.x:.6f},{p.y:.6f},0")
                        _geometry(mg, row.geometry)
                    else:
                        _geometry(pm, row.geometry)
    return kml


def _atomic_write(path, write):
    with atomic_path(path) as tmp:
        write(tmp)
    return os.fspath(path)


def _zip_put(zf, name: str, data: bytes, compress_type: int) -> None:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.create_system = 3  # unix, so that the permissions below are read
    info.external_attr = (0o100000 | ZIP_MODE) << 16  # a regular file, rw-r--r--
    info.compress_type = compress_type
    zf.writestr(info, data)


def write_kmz(path, result, *, villages=None, sites: bool | Any = True, kind: str = "signal", alpha: float = 0.7,
              usable_dbm: float | None = None, name: str | None = None) -> str:
    """Write a KMZ for Google Earth: coverage overlay + legend, sites and villages as placemarks.

    Parameters
    ----------
    path : str or path
        Output ``.kmz`` (written to a temporary file and renamed into place).
    result : CoverageResult
    villages : GeoDataFrame, optional
        Polygons or points, styled by a ``status`` column (covered / partial / blankspot) when present;
        every simple column goes into the balloon and ``ExtendedData``.
    sites : bool or DataFrame
        The result's sites (default), other sites, or ``False``.
    kind : {"signal", "server"}
        Classed signal in the technology's metric, or best server.
    alpha : float
        Opacity of the coverage overlay.

    Returns
    -------
    str
        The path written.
    """
    rgba, bounds, entries, title = coverage_rgba(result, kind, alpha=alpha, usable_dbm=usable_dbm)
    site_table = result.sites if sites is True else (sites if sites is not False else None)
    from .plot import _classes_for

    usable = _classes_for(result, usable_dbm).usable_dbm
    desc = (f"Predicted {title} by blankspot-coverage; usable signal from {usable:g} dBm (transparent below). "
            f"A prediction, not a measurement.")
    root = kml_document(result, villages=villages, sites=site_table, overlay_bounds=bounds, overlay_name=title,
                        name=name or f"coverage ({result.model})", description=desc)
    ET.indent(root)
    kml_bytes = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
    has_sites = site_table is not None and len(site_table) > 0
    sectors = bool(has_sites and "azimuth_deg" in site_table and np.isfinite(
        np.asarray(site_table["azimuth_deg"], dtype=float)).any())
    files = {"files/coverage.png": _png(rgba),
             "files/legend.png": legend_png(entries, title, status=villages is not None, sites=has_sites,
                                            sectors=sectors)}
    files.update(icon_pngs())

    def write(tmp):
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            _zip_put(zf, "doc.kml", kml_bytes, zipfile.ZIP_DEFLATED)  # Google Earth reads the first .kml
            for name, data in files.items():
                _zip_put(zf, name, data, zipfile.ZIP_STORED)  # PNGs are compressed already

    out = _atomic_write(path, write)
    log.info("wrote %s (%d x %d overlay, %d villages)", out, rgba.shape[1], rgba.shape[0],
             0 if villages is None else len(villages))
    return out


# --------------------------------------------------------------------------------------------- COG
def write_cog(result, path, layers=None) -> str:
    """Write ``result`` as a Cloud-Optimized GeoTIFF (tiled, overviews, IFDs first)."""
    from ..engine.result import LAYERS

    return result.to_geotiff(path, layers if layers is not None else LAYERS, cog=True)


def validate_cog(path) -> tuple[bool, list[str]]:
    """Check that a GeoTIFF is cloud-optimized: ``(ok, problems)``.

    Checks GDAL's COG layout marker (``LAYOUT=COG``, the ``IFDS_BEFORE_DATA`` ghost header), internal
    tiling and, for rasters larger than one block, internal overviews. ``rio_cogeo.cog_validate`` is
    stricter where it is installed.
    """
    import rasterio

    problems = []
    with rasterio.open(path) as src:
        if src.driver != "GTiff":
            problems.append(f"driver is {src.driver}, not GTiff")
        layout = src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT", "")
        if layout.upper() != "COG":
            problems.append(f"IMAGE_STRUCTURE LAYOUT is {layout!r}, not 'COG'")
        bh, bw = src.block_shapes[0]
        if bw == src.width and src.width > 512 or bh == 1:
            problems.append(f"not tiled (block {bh}x{bw})")
        if max(src.width, src.height) > max(bw, bh) and not src.overviews(1):
            problems.append("no internal overviews")
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if b"LAYOUT=IFDS_BEFORE_DATA" not in head:
        problems.append("no GDAL COG ghost header (IFDs not before the data)")
    return (not problems), problems
