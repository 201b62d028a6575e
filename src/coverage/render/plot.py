"""Maps and charts of coverage results, with no plotting code required of the user.

Every function draws with matplotlib and returns what it drew on (an ``Axes``, or a ``Figure`` for
multi-panel charts), so a notebook shows it and a script saves it with ``ax.figure.savefig(...)``:

* :func:`plot_coverage` — signal (in the technology's metric, classed) or best-server map over a
  hillshade, sites with their sector azimuths, villages outlined by status, scale bar, north arrow,
  the legend below the map (it never hides data); optionally village names placed without
  collisions (:func:`label_villages`) and a latitude/longitude graticule (:func:`add_graticule`);
* :func:`plot_profile` — a path profile between a site and a point: terrain on the k-factor earth,
  line of sight, first Fresnel zone, the obstacles the terrain model used (Bullington point,
  dominant edge) and the predicted losses; its geometry is :func:`profile_geometry`, a pure function;
* :func:`plot_indicator` — village status per kabupaten (or kecamatan) as bar charts.

Signal classes (:func:`signal_classes`) start at the technology's usable level
(:data:`coverage.thresholds.USABLE_DBM`); the class edges above it are the drive-test classes in
common planning use (4G RSRP: -80 excellent, -80..-90 good, -90..-100 fair, below poor). Cells
below the usable level are left uncoloured: the hillshade shows through where there is no service.

matplotlib is an optional dependency (``pip install "blankspot-coverage[plot]"``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import InputError
from ..thresholds import USABLE_DBM

__all__ = [
    "plot_coverage", "plot_profile", "plot_indicator", "profile_geometry", "ProfileGeometry",
    "signal_classes", "SignalClasses", "STATUS_COLORS", "hillshade", "colorize", "metric_label", "model_label",
    "server_colors", "sector_marker", "label_villages", "add_graticule", "add_scale_bar", "add_north_arrow",
]

EARTH_RADIUS_M = 6_371_000.0
C_M_PER_US = 299.792458  # speed of light, m per microsecond: lambda (m) = C / f (MHz)

#: Colours of village statuses (blue covered, orange partial, red blankspot; grey when unknown).
STATUS_COLORS: dict[str, str] = {"covered": "#2166ac", "partial": "#ff7f00", "blankspot": "#e31a1c",
                                 "unassessed": "#bdbdbd", "unknown": "#7f7f7f"}
STATUS_ORDER = ("covered", "partial", "blankspot")

_METRIC_LABELS = {"rsrp_dbm": "RSRP", "rscp_dbm": "RSCP", "rxlev_dbm": "RxLev", "ss_rsrp_dbm": "SS-RSRP",
                  "rx_power_dbm": "received power"}

# Class edges above the usable level (dBm, the technology's metric), weakest first, and their names.
# 4G/5G: the RSRP classes in common use (>= -80 excellent, -80..-90 good, -90..-100 fair, below poor);
# 3G RSCP and 2G RxLev: the usual drive-test classes. All are defaults for display, not regulation.
_CLASS_EDGES = {
    "4g": (-100.0, -90.0, -80.0), "5g": (-100.0, -90.0, -80.0), "3g": (-95.0, -85.0, -75.0),
    "2g": (-95.0, -85.0, -70.0), "mixed": (-90.0, -80.0, -70.0),
}
_CLASS_NAMES = ("poor", "fair", "good", "excellent")
_CLASS_COLORS = ("#ffffb2", "#c2e699", "#78c679", "#238443")  # YlGn: brighter = weaker


def _mpl():
    try:
        import matplotlib  # noqa: F401
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("coverage.plot needs matplotlib: pip install 'blankspot-coverage[plot]'") from exc
    return plt


# --------------------------------------------------------------------------------------------- classes
@dataclass(frozen=True)
class SignalClasses:
    """Display classes of a signal metric: ``bounds`` (dBm, ascending, first = usable level)."""

    technology: str
    metric: str
    bounds: tuple[float, ...]
    names: tuple[str, ...]
    colors: tuple[str, ...]

    @property
    def usable_dbm(self) -> float:
        return self.bounds[0]

    def labels(self) -> list[str]:
        """One label per class, e.g. ``"good  -90 … -80"``."""
        out = []
        for i, name in enumerate(self.names):
            lo, hi = self.bounds[i], self.bounds[i + 1]
            out.append(f"{name}  ≥ {lo:g}" if i == len(self.names) - 1 else f"{name}  {lo:g} … {hi:g}")
        return out

    def classify(self, values) -> np.ndarray:
        """Class index of each value: -1 below the usable level or NaN, else 0..len(names)-1."""
        v = np.asarray(values, dtype=float)
        idx = np.searchsorted(np.asarray(self.bounds[1:-1]), v, side="right")
        idx = np.where(np.isfinite(v) & (v >= self.bounds[0]), idx, -1)
        return idx


#: Model names as a planner reads them (the registry's ``title`` is the fallback).
MODEL_LABELS: dict[str, str] = {
    "p526": "ITU-R P.526 terrain diffraction", "itm": "Longley-Rice ITM terrain model",
    "hata": "Okumura-Hata (empirical)", "cost231": "COST-231 Hata (empirical)",
    "fspl": "free space (ITU-R P.525)", "auto": "Hata / COST-231 by frequency (empirical)",
}


def model_label(model: str | None) -> str:
    """``"p526"`` -> ``"ITU-R P.526 terrain diffraction"``; unknown names come back unchanged.

    Compound names (``"hata+cost231"``) are labelled part by part.
    """
    if model is None:
        return "unknown model"
    key = str(model).strip().lower()
    if key in MODEL_LABELS:
        return MODEL_LABELS[key]
    parts = [p for p in re.split(r"[+,/ ]+", key) if p]
    if len(parts) > 1 and all(p in MODEL_LABELS for p in parts):
        return " + ".join(MODEL_LABELS[p] for p in parts)
    try:
        from ..propagation import get_model

        return get_model(key).title
    except Exception:  # noqa: BLE001 - a label only: show what the result says
        return str(model)


#: Best-server colours: tab10 / tab20 hues without the blue, orange, red and grey that mark village
#: statuses and the no-signal veil, strong ones first, then their light tints.
SERVER_COLORS = ("#2ca02c", "#9467bd", "#17becf", "#e377c2", "#bcbd22", "#8c564b",
                 "#98df8a", "#c5b0d5", "#9edae5", "#f7b6d2", "#dbdb8d", "#c49c94")


def server_colors(n: int) -> list[str]:
    """``n`` colours for best-server maps, distinct from the village status colours; repeated past 12."""
    return [SERVER_COLORS[i % len(SERVER_COLORS)] for i in range(max(int(n), 0))]


def metric_label(metric: str) -> str:
    """``"rsrp_dbm"`` -> ``"RSRP (dBm)"``."""
    return f"{_METRIC_LABELS.get(metric, metric.replace('_dbm', ''))} (dBm)"


def signal_classes(technology: str = "4g", metric: str | None = None, usable_dbm: float | None = None,
                   top_dbm: float = -30.0) -> SignalClasses:
    """Display classes for ``technology``: usable level, then the class edges in common use.

    ``usable_dbm`` defaults to :data:`coverage.thresholds.USABLE_DBM`; edges at or below it are dropped.
    """
    tech = str(technology).lower()
    if tech not in _CLASS_EDGES:
        raise InputError(f"technology must be one of {sorted(_CLASS_EDGES)}, got {technology!r}")
    usable = float(USABLE_DBM[tech] if usable_dbm is None else usable_dbm)
    edges = [e for e in _CLASS_EDGES[tech] if e > usable]
    names = _CLASS_NAMES[len(_CLASS_NAMES) - len(edges) - 1:]
    colors = _CLASS_COLORS[len(_CLASS_COLORS) - len(edges) - 1:]
    top = max(float(top_dbm), (edges[-1] if edges else usable) + 10.0)
    if metric is None:
        metric = {"4g": "rsrp_dbm", "5g": "ss_rsrp_dbm", "3g": "rscp_dbm", "2g": "rxlev_dbm"}.get(tech, "rx_power_dbm")
    return SignalClasses(tech, metric, tuple([usable] + edges + [top]), tuple(names), tuple(colors))


def _classes_for(result, usable_dbm=None) -> SignalClasses:
    usable = usable_dbm
    if usable is None:
        usable = (getattr(result, "metadata", None) or {}).get("server_threshold_dbm")
    tech = str(getattr(result, "technology", "4g") or "4g").lower()
    if tech not in _CLASS_EDGES:
        tech = "mixed"
    return signal_classes(tech, getattr(result, "metric", None), usable)


def colorize(values: np.ndarray, classes: SignalClasses, alpha: float = 0.75) -> np.ndarray:
    """RGBA uint8 image of a signal grid in ``classes`` (transparent below the usable level or NaN)."""
    from matplotlib.colors import to_rgba

    idx = classes.classify(values)
    lut = np.zeros((len(classes.colors) + 1, 4), dtype=float)
    for i, c in enumerate(classes.colors):
        lut[i + 1] = to_rgba(c, alpha)
    return np.round(lut[idx + 1] * 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------- geometry helpers
def _to_crs(crs, lon, lat):
    from pyproj import CRS, Transformer

    crs = CRS.from_user_input(crs)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if crs.is_geographic:
        return lon, lat
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)


def _metres_per_unit(crs, lat_deg: float) -> tuple[float, float]:
    """Metres per CRS unit along x and y near latitude ``lat_deg``."""
    from pyproj import CRS

    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        return 111_320.0 * math.cos(math.radians(lat_deg)), 110_574.0
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return unit, unit


def _centre_lat(transform, shape, crs) -> float:
    from pyproj import CRS, Transformer

    rows, cols = shape
    x = transform.c + transform.a * cols / 2
    y = transform.f + transform.e * rows / 2
    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        return float(y)
    return float(Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)[1])


def _terrain_on_grid(terrain, transform, shape, crs) -> np.ndarray:
    """Terrain elevations resampled (bilinear) onto a grid; the terrain's own array when it matches."""
    from pyproj import CRS

    z = terrain.elevation_m
    voids = getattr(terrain, "void_mask", None)
    if voids is not None and voids.any() and not voids.all():  # filled voids (e.g. outside a city): not shaded
        z = np.where(voids, np.nan, z).astype(np.float32)
    if (tuple(terrain.shape) == tuple(shape) and CRS.from_user_input(terrain.crs) == CRS.from_user_input(crs)
            and np.allclose(tuple(terrain.transform)[:6], tuple(transform)[:6])):
        return z
    import rasterio.warp
    from rasterio.enums import Resampling

    out = np.full(shape, np.nan, dtype=np.float32)
    rasterio.warp.reproject(z, out, src_transform=terrain.transform, src_nodata=np.nan,
                            src_crs=CRS.from_user_input(terrain.crs).to_wkt(), dst_transform=transform,
                            dst_crs=CRS.from_user_input(crs).to_wkt(), dst_nodata=np.nan,
                            resampling=Resampling.bilinear)
    return out


def hillshade(elevation_m: np.ndarray, cell_size_m: tuple[float, float] = (1.0, 1.0), *,
              vert_exag: float = 2.0, azdeg: float = 315.0, altdeg: float = 45.0) -> np.ndarray:
    """Hillshade (0..1) of an elevation grid lit from the north-west (matplotlib ``LightSource``)."""
    from matplotlib.colors import LightSource

    z = np.asarray(elevation_m, dtype=float)
    nan = ~np.isfinite(z)
    if nan.all():
        return np.full(z.shape, np.nan)
    z = np.where(nan, np.nanmean(z), z)
    hs = LightSource(azdeg=azdeg, altdeg=altdeg).hillshade(z, vert_exag=vert_exag, dx=cell_size_m[0],
                                                          dy=cell_size_m[1])
    hs[nan] = np.nan
    return hs


def _nice_length(target_m: float) -> float:
    if target_m <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(target_m))
    for m in (5, 2, 1):
        if m * p <= target_m:
            return m * p
    return p


def add_scale_bar(ax, metres_per_unit: float, *, loc: str = "lower left", fraction: float = 0.2):
    """A scale bar of a round length (about ``fraction`` of the map width)."""
    import matplotlib.font_manager as fm
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    x0, x1 = ax.get_xlim()
    length_m = _nice_length(abs(x1 - x0) * metres_per_unit * fraction)
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    y0, y1 = ax.get_ylim()
    bar = AnchoredSizeBar(ax.transData, length_m / metres_per_unit, label, loc, pad=0.4, sep=4, borderpad=0.6,
                          frameon=True, size_vertical=abs(y1 - y0) * 0.008, color="black",
                          fontproperties=fm.FontProperties(size=9))
    bar.patch.set_alpha(0.8)
    bar.set_gid("scale_bar")
    ax.add_artist(bar)
    return bar


def add_north_arrow(ax, *, xy=(0.95, 0.95), length: float = 0.09):
    """A north arrow in the upper right corner (axes fraction)."""
    x, y = xy
    ann = ax.annotate("N", xy=(x, y), xytext=(x, y - length), xycoords="axes fraction",
                      ha="center", va="center", fontsize=11, fontweight="bold",
                      arrowprops=dict(facecolor="black", edgecolor="white", width=4, headwidth=11, headlength=9),
                      bbox=dict(boxstyle="circle,pad=0.15", fc="white", ec="none", alpha=0.7))
    ann.set_gid("north_arrow")
    return ann


def _sector_polygon(x, y, azimuth_deg, beamwidth_deg, radius_m, m_per_x, m_per_y, n=24):
    """Wedge of a sector antenna (azimuth clockwise from north) as map-coordinate vertices."""
    half = min(float(beamwidth_deg), 359.0) / 2.0
    ang = np.radians(np.linspace(azimuth_deg - half, azimuth_deg + half, n))
    px = x + radius_m * np.sin(ang) / m_per_x
    py = y + radius_m * np.cos(ang) / m_per_y
    return np.column_stack([np.r_[x, px, x], np.r_[y, py, y]])


def sector_marker(beamwidth_deg: float = 100.0):
    """A matplotlib marker (``Path``) shaped like a sector wedge pointing north, for legends."""
    from matplotlib.path import Path

    poly = _sector_polygon(0.0, -0.5, 0.0, beamwidth_deg, 1.0, 1.0, 1.0, n=24)
    return Path(poly, closed=True)


# --------------------------------------------------------------------------------------------- map layers
def _draw_sites(ax, sites, crs, m_per, wedge_m, *, labels=True, color="black", server_colors=None):
    from matplotlib.patches import Polygon

    if sites is None or len(sites) == 0 or not {"lon", "lat"} <= set(sites.columns):
        return
    x, y = _to_crs(crs, sites["lon"].to_numpy(float), sites["lat"].to_numpy(float))
    x = np.atleast_1d(x)
    y = np.atleast_1d(y)
    if len(sites) > 60:  # a region: small markers, no wedges or labels
        ax.scatter(x, y, marker="^", s=14, c="white", edgecolors=color, linewidths=0.7, zorder=7, gid="sites_omni")
        return
    az = sites["azimuth_deg"].to_numpy(float) if "azimuth_deg" in sites else np.full(len(sites), np.nan)
    bw = sites["beamwidth_deg"].to_numpy(float) if "beamwidth_deg" in sites else np.full(len(sites), np.nan)
    bw = np.where(np.isfinite(bw), bw, 65.0)
    for i in range(len(sites)):
        if np.isfinite(az[i]):
            fc = server_colors[i] if server_colors is not None else "white"
            poly = Polygon(_sector_polygon(x[i], y[i], az[i], bw[i], wedge_m, *m_per), closed=True, fc=fc,
                           ec=color, lw=1.0, alpha=0.9, zorder=6, gid="sector")
            ax.add_patch(poly)
    sector = np.isfinite(az)
    ax.scatter(x[~sector], y[~sector], marker="^", s=70, c="white", edgecolors=color, linewidths=1.3, zorder=7,
               label="site (omni)", gid="sites_omni")
    if sector.any():
        ax.scatter(x[sector], y[sector], marker="o", s=18, c=color, zorder=7, label="site (sector wedge)",
                   gid="sites_sector")
    if labels and "site_id" in sites and len(sites) <= 40:
        seen = set()
        for i, sid in enumerate(sites["site_id"].astype(str)):
            key = (round(float(x[i]), 3), round(float(y[i]), 3))
            if key in seen:  # co-located sectors: one label
                continue
            seen.add(key)
            ax.annotate(sid, (x[i], y[i]), xytext=(5, -11), textcoords="offset points", fontsize=7.5, zorder=8,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75))


def _village_status(villages) -> np.ndarray:
    if "status" in villages:
        return villages["status"].astype(str).str.lower().to_numpy()
    return np.full(len(villages), "unknown", dtype=object)


_VILLAGE_LINES = {  # outlines, as in the interactive map; only blankspot adds a (light) hatch the legend shows
    "covered": dict(lw=0.9, ls="-", hatch=None), "partial": dict(lw=1.6, ls=(0, (4, 2)), hatch=None),
    "blankspot": dict(lw=2.2, ls="-", hatch="////"), "unassessed": dict(lw=0.6, ls=":", hatch=None),
    "unknown": dict(lw=0.6, ls="-", hatch=None),
}
_LABEL_PRIORITY = {"blankspot": 0, "partial": 1, "covered": 2, "unassessed": 3, "unknown": 3}


def _draw_villages(ax, villages, crs, *, dense=None):
    """Villages by status; returns ``(legend handles, GeoDataFrame in the map CRS, statuses)``."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if villages is None or len(villages) == 0:
        return [], None, None
    import geopandas as gpd

    v = villages if isinstance(villages, gpd.GeoDataFrame) else gpd.GeoDataFrame(villages)
    if v.crs is None:
        v = v.set_crs("EPSG:4326")
    v = v.to_crs(crs)
    status = _village_status(v)
    geoms = v.geometry
    polys = geoms.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    handles = []
    other = ~np.isin(status, list(STATUS_COLORS))
    status = np.where(other, "unknown", status)
    present = [s for s in (*STATUS_ORDER, "unassessed", "unknown") if (status == s).any()]
    if dense is None:
        dense = len(v) > 150
    for s in present or ["unknown"]:
        sel = status == s
        if not sel.any():
            continue
        col = STATUS_COLORS[s]
        st = _VILLAGE_LINES[s]
        n = int(sel.sum())
        label = f"{s} ({n} village{'s' if n != 1 else ''})" if s != "unknown" else f"village ({n})"
        if dense:  # a region: a choropleth of status under the coverage, no markers
            if (sel & polys).any():
                v[sel & polys].plot(ax=ax, facecolor=col, edgecolor="white", linewidth=0.15, alpha=0.45, zorder=1.5)
            if (sel & ~polys).any():
                pts = geoms[sel & ~polys]
                ax.scatter(pts.x, pts.y, s=4, c=col, zorder=5, gid=f"villages_{s}")
            handles.append(Patch(fc=col, alpha=0.45, ec="white", label=label + ", under the coverage"))
            continue
        if (sel & polys).any():
            v[sel & polys].plot(ax=ax, facecolor="none", edgecolor=col, linewidth=st["lw"], linestyle=st["ls"],
                                hatch=st["hatch"], zorder=4, gid=f"village_outlines_{s}")
        pts = geoms[sel].representative_point()
        ax.scatter(pts.x, pts.y, s=22, c=col, edgecolors="black", linewidths=0.5, zorder=5, gid=f"villages_{s}")
        if st["hatch"] and (sel & polys).any():
            handles.append(Patch(fc="none", ec=col, lw=st["lw"], hatch=st["hatch"], label=label + ", hatched"))
        else:
            handles.append(Line2D([], [], marker="o", ls=st["ls"], lw=st["lw"], color=col, mfc=col, mec="black", ms=6,
                                  label=label))
    return handles, v, status


def _hits(bb, boxes: np.ndarray) -> bool:
    """Does the display box ``bb`` overlap any row (x0, y0, x1, y1) of ``boxes``?"""
    if len(boxes) == 0:
        return False
    return bool(np.any((bb.x0 < boxes[:, 2]) & (boxes[:, 0] < bb.x1) & (bb.y0 < boxes[:, 3]) & (boxes[:, 1] < bb.y1)))


def label_villages(ax, villages, status, *, which=("blankspot", "partial"), max_labels: int = 150,
                   fontsize: float = 7.0):
    """Village names placed without collisions, most important first (placement by priority).

    Blankspot villages come first, then partial (then covered with ``which="all"``), larger
    populations (else areas) first within a status. Each name tries eight positions around its
    village's dot and is kept at the first that overlaps no earlier label, site label, marker, scale
    bar or north arrow and stays inside the map; a name with no free position is left out.

    Returns
    -------
    list of matplotlib.text.Annotation
        The names placed; ``ax.village_labels_skipped`` counts those that found no room.
    """
    import matplotlib.patheffects as pe

    if villages is None or len(villages) == 0:
        return []
    name_col = next((c for c in ("nama", "name", "NAMA") if c in villages), None)
    if name_col is None:
        return []
    want = set(_LABEL_PRIORITY) if which == "all" else set(which)
    fig = ax.figure
    fig.draw_without_rendering()  # final layout first: positions are measured on screen
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    obstacles = []  # display boxes of what labels must not cover
    for child in ax.get_children():  # site labels, scale bar, north arrow, the legend if inside
        gid = child.get_gid() if hasattr(child, "get_gid") else None
        if gid in ("scale_bar", "north_arrow") or type(child).__name__ in ("Annotation", "Legend"):
            try:
                obstacles.append(child.get_window_extent(renderer))
            except Exception:  # noqa: BLE001 - an artist without extent is no obstacle
                pass
    pts = villages.geometry.representative_point()
    xy = ax.transData.transform(np.column_stack([pts.x, pts.y]))
    r = 3.0 * fig.dpi / 72.0  # the dots themselves (radius ~3 pt) are obstacles
    dots = np.column_stack([xy[:, 0] - r, xy[:, 1] - r, xy[:, 0] + r, xy[:, 1] + r])
    fixed = np.array([[b.x0, b.y0, b.x1, b.y1] for b in obstacles]).reshape(-1, 4)
    if "population" in villages:
        weight = np.nan_to_num(np.asarray(villages["population"], dtype=float))
    else:
        weight = np.asarray(villages.geometry.area, dtype=float)
    prio = np.array([_LABEL_PRIORITY.get(s, 3) for s in status])
    order = np.lexsort((-weight, prio))
    offsets = ((5, 4, "left", "bottom"), (5, -4, "left", "top"), (-5, 4, "right", "bottom"), (-5, -4, "right", "top"),
               (0, 7, "center", "bottom"), (0, -7, "center", "top"), (8, 0, "left", "center"),
               (-8, 0, "right", "center"))
    on_map = ((xy[:, 0] >= frame.x0) & (xy[:, 0] <= frame.x1) & (xy[:, 1] >= frame.y0) & (xy[:, 1] <= frame.y1))
    placed, boxes, skipped = [], np.empty((0, 4)), 0
    halo = [pe.withStroke(linewidth=2.2, foreground="white")]
    for i in order:
        if status[i] not in want or not on_map[i]:
            continue
        if len(placed) >= max_labels:
            skipped += 1
            continue
        others = np.delete(dots, i, axis=0)
        t = ax.annotate(str(villages[name_col].iloc[i]), (pts.x.iloc[i], pts.y.iloc[i]), xytext=(0, 0),
                        textcoords="offset points", fontsize=fontsize, zorder=8.5, color="#111111",
                        gid="village_label", annotation_clip=True, path_effects=halo)
        t.set_in_layout(False)
        for dx, dy, ha, va in offsets:
            t.set_position((dx, dy))
            t.set_horizontalalignment(ha)
            t.set_verticalalignment(va)
            bb = t.get_window_extent(renderer).expanded(1.04, 1.08)
            inside = frame.x0 <= bb.x0 and bb.x1 <= frame.x1 and frame.y0 <= bb.y0 and bb.y1 <= frame.y1
            if inside and not _hits(bb, boxes) and not _hits(bb, fixed) and not _hits(bb, others):
                placed.append(t)
                boxes = np.vstack([boxes, [bb.x0, bb.y0, bb.x1, bb.y1]])
                break
        else:
            t.remove()
            skipped += 1
    ax.village_labels_skipped = skipped
    return placed


def _nice_degrees(span: float) -> float:
    for step in (5.0, 2.0, 1.0, 0.5, 0.25, 0.2, 0.1, 0.05, 0.025, 0.02, 0.01, 0.005, 0.0025, 0.002, 0.001):
        if span / step >= 3:
            return step
    return 0.0005


def _deg_label(v: float, axis: str, step: float) -> str:
    text = f"{step:g}"
    nd = len(text.split(".")[1]) if "." in text else 0
    hemi = ("E" if v >= 0 else "W") if axis == "x" else ("N" if v >= 0 else "S")
    return f"{abs(v):.{nd}f}°{hemi}"


def add_graticule(ax, crs, *, color: str = "#444444"):
    """Latitude/longitude lines and degree labels on the map's axes (any CRS).

    In a projected CRS the meridians and parallels are drawn as lines and the axis ticks sit where
    they cross the map's bottom and left edges; in a geographic CRS the ticks are relabelled.
    """
    from pyproj import CRS, Transformer

    crs = CRS.from_user_input(crs)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    if crs.is_geographic:
        lon_min, lon_max, lat_min, lat_max = x0, x1, y0, y1
        fwd = lambda lon, lat: (np.asarray(lon, float), np.asarray(lat, float))  # noqa: E731
    else:
        t_inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        t_fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        fwd = t_fwd.transform
        ex = np.r_[np.linspace(x0, x1, 50), np.full(50, x1), np.linspace(x1, x0, 50), np.full(50, x0)]
        ey = np.r_[np.full(50, y0), np.linspace(y0, y1, 50), np.full(50, y1), np.linspace(y1, y0, 50)]
        lon, lat = t_inv.transform(ex, ey)
        lon_min, lon_max, lat_min, lat_max = np.min(lon), np.max(lon), np.min(lat), np.max(lat)
    step = _nice_degrees(min(lon_max - lon_min, lat_max - lat_min))
    lons = np.arange(math.ceil(lon_min / step) * step, lon_max + 1e-12, step)
    lats = np.arange(math.ceil(lat_min / step) * step, lat_max + 1e-12, step)
    s = np.linspace(0, 1, 100)
    xt, xl, yt, yl = [], [], [], []
    for lo in lons:
        x, y = fwd(np.full(s.size, lo), lat_min + s * (lat_max - lat_min))
        ax.plot(x, y, color=color, lw=0.4, alpha=0.6, zorder=3.5, gid="graticule")
        if y[0] <= y0 <= y[-1]:
            xt.append(float(np.interp(y0, y, x)))
            xl.append(_deg_label(lo, "x", step))
    for la in lats:
        x, y = fwd(lon_min + s * (lon_max - lon_min), np.full(s.size, la))
        ax.plot(x, y, color=color, lw=0.4, alpha=0.6, zorder=3.5, gid="graticule")
        if x[0] <= x0 <= x[-1]:
            yt.append(float(np.interp(x0, x, y)))
            yl.append(_deg_label(la, "y", step))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xticks(xt, xl)
    ax.set_yticks(yt, yl)
    ax.tick_params(axis="both", labelsize=8)
    ax.set_xlabel("longitude (WGS 84)")
    ax.set_ylabel("latitude (WGS 84)")
    return lons, lats


def _draw_coverage_layer(ax, result, kind, classes, extent, alpha, has_terrain, voids):
    """The signal classes (with a colour bar) or best-server colours; returns (legend handles, site colours)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    values = np.asarray(result.best_dbm, dtype=float)
    handles = []
    # what the map shows where there is no usable signal: the hillshade (mid grey) or the blank background
    no_signal = [Patch(fc="#b4b4b4" if has_terrain else "#f2f2f2", ec="grey",
                       label=f"no usable signal (< {classes.usable_dbm:g} dBm): "
                             + ("terrain shows" if has_terrain else "blank"))]
    if voids:
        no_signal.append(Patch(fc="white", ec="grey", label="no terrain data (DEM void): blank"))
    if kind == "signal":
        cmap = ListedColormap(list(classes.colors)).with_extremes(bad=(0, 0, 0, 0))
        norm = BoundaryNorm(list(classes.bounds), cmap.N)
        masked = np.ma.masked_where(~np.isfinite(values) | (values < classes.usable_dbm), values)
        shown = np.ma.minimum(masked, classes.bounds[-1] - 1e-3)
        im = ax.imshow(shown, extent=extent, cmap=cmap, norm=norm, alpha=alpha, interpolation="nearest", zorder=2,
                       gid="coverage")
        cb = ax.figure.colorbar(im, ax=ax, shrink=0.75, pad=0.02, ticks=list(classes.bounds[:-1]))
        cb.set_label(f"{metric_label(classes.metric)} — {model_label(result.model)}")
        for i, name in enumerate(classes.names):
            mid = 0.5 * (classes.bounds[i] + classes.bounds[i + 1])
            cb.ax.text(0.5, mid, name, rotation=90, ha="center", va="center", fontsize=8,
                       transform=cb.ax.get_yaxis_transform())
        return handles + no_signal, None
    srv = np.asarray(result.best_server)
    n = max(int(srv.max()) + 1, 1) if srv.size else 1
    colors = server_colors(n)
    cmap = ListedColormap(colors).with_extremes(bad=(0, 0, 0, 0))
    usable = np.isfinite(values) & (values >= classes.usable_dbm) & (srv >= 0)
    shown = np.ma.masked_where(~usable, srv)
    ax.imshow(shown, extent=extent, cmap=cmap, vmin=-0.5, vmax=n - 0.5, alpha=alpha, interpolation="nearest",
              zorder=2, gid="coverage")
    ids = (result.sites["site_id"].astype(str).tolist() if result.sites is not None and "site_id" in result.sites
           else [str(i) for i in range(n)])
    if n <= 20:
        for i in range(n):
            if (shown == i).any():
                handles.append(Patch(fc=colors[i], alpha=alpha, label=f"served by {ids[i] if i < len(ids) else i}"))
    return handles + no_signal, colors


def _site_handles(site_table) -> list:
    from matplotlib.lines import Line2D

    if not {"lon", "lat"} <= set(site_table.columns):
        return []
    many = len(site_table) > 60
    out = [Line2D([], [], marker="^", ls="", mfc="white", mec="black", ms=8,
                  label=f"site ({len(site_table)})" if many else "site")]
    az = np.asarray(site_table["azimuth_deg"], dtype=float) if "azimuth_deg" in site_table else np.array([np.nan])
    if not many and np.isfinite(az).any():
        out.append(Line2D([], [], marker=sector_marker(), ls="", ms=15, mfc="white", mec="black",
                          label="sector antenna (wedge toward its azimuth)"))
    return out


def _frame_axes(ax, result, lat0, extent):
    left, right, bottom, top = extent
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    if result.crs.is_geographic:
        ax.set_aspect(1.0 / max(math.cos(math.radians(lat0)), 1e-6))
        ax.set_xlabel("longitude (°)")
        ax.set_ylabel("latitude (°)")
    else:
        ax.set_aspect("equal")
        ax.set_xlabel(f"easting (m, {result.crs.to_string()})")
        ax.set_ylabel("northing (m)")
        ax.ticklabel_format(style="plain", useOffset=False)
        ax.tick_params(axis="both", labelsize=8)


def _legend_below(ax, handles):
    """The legend under the axis labels (~34 pt below the frame), outside the map: it never hides data."""
    from matplotlib.transforms import ScaledTranslation

    below = ax.transAxes + ScaledTranslation(0, -34 / 72, ax.figure.dpi_scale_trans)
    leg = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below,
                    ncol=2 if len(handles) > 3 else 1, fontsize=8, frameon=False, borderaxespad=0.0)
    leg.set_zorder(10)
    return leg


def plot_coverage(result, terrain=None, villages=None, ax=None, *, kind: str = "signal", sites: bool | Any = True,
                  usable_dbm: float | None = None, alpha: float = 0.75, site_labels: bool = True,
                  village_labels: bool | str = False, graticule: bool = False, scale_bar: bool = True,
                  north_arrow: bool = True,
                  vert_exag: float = 2.0, wedge_m: float | None = None, title: str | None = None,
                  figsize=(9, 8), legend: bool = True):
    """Coverage map: signal classes (``kind="signal"``) or best server (``kind="server"``) over a hillshade.

    Parameters
    ----------
    result : CoverageResult
    terrain : Terrain, optional
        Drawn as a hillshade under the coverage (resampled onto the result's grid).
    villages : GeoDataFrame, optional
        Village polygons or points; coloured by a ``status`` column (covered / partial / blankspot, e.g.
        from :func:`coverage.assess_villages`) when present, else drawn as grey outlines.
    ax : matplotlib Axes, optional
    kind : {"signal", "server"}
        ``"signal"``: ``best_dbm`` in the technology's metric, in the classes of :func:`signal_classes`;
        ``"server"``: one colour per serving site where the signal is usable.
    sites : bool or DataFrame
        Draw the result's sites (omni sites as triangles, sectors as wedges toward their azimuth), or
        these sites instead.
    usable_dbm : float, optional
        Usable level (default: the result's ``server_threshold_dbm``, else the technology's default).
    alpha : float
        Opacity of the coverage layer.
    wedge_m : float, optional
        Radius of the sector wedges in metres (default 6 % of the map width).
    village_labels : bool or "all"
        Name blankspot and partial villages (``"all"``: covered ones too, where there is room),
        placed without collisions by :func:`label_villages`.
    graticule : bool
        Latitude/longitude lines with degree labels on the axes (:func:`add_graticule`).
    legend : bool
        The legend goes below the map, outside it, so that it never hides data.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.village_labels`` holds the placed names.
    """
    plt = _mpl()

    if kind not in ("signal", "server"):
        raise InputError(f"kind must be 'signal' or 'server', got {kind!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    left, right, bottom, top = result.extent
    extent = (left, right, bottom, top)
    lat0 = _centre_lat(result.transform, result.shape, result.crs)
    m_per = _metres_per_unit(result.crs, lat0)
    cell_m = (abs(result.transform.a) * m_per[0], abs(result.transform.e) * m_per[1])

    if terrain is not None:
        z = _terrain_on_grid(terrain, result.transform, result.shape, result.crs)
        hs = hillshade(z, cell_m, vert_exag=vert_exag)
        voids = bool(np.isnan(hs).any())
        ax.imshow(hs, extent=extent, cmap="gray", vmin=0, vmax=1, interpolation="bilinear", zorder=1,
                  gid="hillshade")
    else:
        voids = False
        ax.set_facecolor("#f2f2f2")

    classes = _classes_for(result, usable_dbm)
    values = np.asarray(result.best_dbm, dtype=float)
    handles, site_fill = _draw_coverage_layer(ax, result, kind, classes, extent, alpha, terrain is not None, voids)

    site_table = result.sites if sites is True else (sites if sites is not False else None)
    if site_table is not None and not hasattr(site_table, "columns"):
        site_table = None
    if wedge_m is None:
        wedge_m = 0.06 * (right - left) * m_per[0]
    if site_table is not None and len(site_table):
        same = site_table is result.sites and kind == "server"
        _draw_sites(ax, site_table, result.crs, m_per, wedge_m, labels=site_labels,
                    server_colors=site_fill if same else None)
        handles += _site_handles(site_table)
    v_handles, v_proj, v_status = _draw_villages(ax, villages, result.crs)
    handles += v_handles
    _frame_axes(ax, result, lat0, extent)
    if graticule:
        add_graticule(ax, result.crs)
    if scale_bar:
        add_scale_bar(ax, m_per[0])
    if north_arrow:
        add_north_arrow(ax)
    if legend and handles:
        _legend_below(ax, handles)
    if title is None:
        what = metric_label(classes.metric) if kind == "signal" else "best server"
        n_sites = len(result.sites) if result.sites is not None else 0
        covered = np.isfinite(values) & (values >= classes.usable_dbm)
        title = (f"{what} — {model_label(result.model)}\n{n_sites} site{'s' if n_sites != 1 else ''}; "
                 f"usable signal on {100.0 * covered.mean():.0f} % of the area")
    ax.set_title(title, fontsize=11)
    ax.village_labels = []
    if village_labels and v_proj is not None:
        which = "all" if village_labels == "all" else ("blankspot", "partial")
        ax.village_labels = label_villages(ax, v_proj, v_status, which=which)
    return ax


# --------------------------------------------------------------------------------------------- profiles
@dataclass
class ProfileGeometry:
    """Geometry of a path profile on the k-factor earth (all heights in metres above sea level).

    The earth's curvature is drawn as a bulge added to the terrain (``bulge_m = d1 d2 / (2 k R)``), so
    that the line of sight is a straight line between the antennas, as in P.526 / P.1812.
    """

    distance_m: np.ndarray  #: distance from the transmitter
    ground_m: np.ndarray  #: terrain elevation
    bulge_m: np.ndarray  #: earth bulge d1 d2 / (2 a_e)
    terrain_m: np.ndarray  #: ground + bulge (the obstacle heights the model sees)
    los_m: np.ndarray  #: line of sight between the antenna tips
    fresnel_radius_m: np.ndarray  #: first Fresnel zone radius sqrt(lambda d1 d2 / d)
    clearance_m: np.ndarray  #: los - terrain (negative: the terrain blocks the line of sight)
    nu: np.ndarray  #: diffraction parameter of each point, sqrt(2) * (terrain - los) / r1 (-inf at ends)
    tx_height_m: float  #: transmitter antenna tip (ground + mast)
    rx_height_m: float  #: receiver antenna tip
    freq_mhz: float
    k_factor: float
    wavelength_m: float
    los_clear: bool  #: no interior point above the line of sight
    fresnel_clear: float  #: min clearance / r1 over the interior (>= 0.6: Fresnel zone clear enough)
    dominant_index: int  #: index of the point with the largest nu (the dominant knife edge)
    tx_horizon_index: int  #: interior point of largest elevation angle seen from the transmitter
    rx_horizon_index: int  #: the same from the receiver
    bullington_point: tuple[float, float] | None  #: (distance, height) where the horizon rays meet; None if LOS

    @property
    def length_m(self) -> float:
        return float(self.distance_m[-1])

    @property
    def nu_max(self) -> float:
        return float(self.nu[self.dominant_index])


def profile_geometry(distances_m, elevations_m, *, h_tx_m: float, h_rx_m: float, freq_mhz: float,
                     k_factor: float = 4.0 / 3.0) -> ProfileGeometry:
    """Line of sight, earth bulge, first Fresnel zone and Bullington point of a terrain profile.

    Parameters
    ----------
    distances_m, elevations_m : array
        Profile from the transmitter (first point) to the receiver (last point), e.g. from
        :meth:`coverage.Terrain.profile`.
    h_tx_m, h_rx_m : float
        Antenna heights above ground at the two ends (m).
    freq_mhz : float
    k_factor : float
        Effective earth-radius factor (4/3: median refraction).

    The Bullington construction follows ITU-R P.1812-7 §4.3.1 (as :mod:`coverage.propagation.p526`):
    the steepest ray from each terminal over the bulged terrain; where the line of sight is blocked
    they meet at the Bullington point.
    """
    d = np.asarray(distances_m, dtype=float)
    g = np.asarray(elevations_m, dtype=float)
    if d.ndim != 1 or d.shape != g.shape or d.size < 3:
        raise InputError("distances_m and elevations_m must be 1-D arrays of equal length >= 3")
    if d[0] != 0.0 or np.any(np.diff(d) <= 0):
        raise InputError("distances_m must start at 0 and increase strictly")
    if not (freq_mhz > 0 and k_factor > 0):
        raise InputError("freq_mhz and k_factor must be positive")
    dtot = d[-1]
    ae = k_factor * EARTH_RADIUS_M
    lam = C_M_PER_US / float(freq_mhz)
    bulge = d * (dtot - d) / (2.0 * ae)
    terr = g + bulge
    hts = g[0] + float(h_tx_m)
    hrs = g[-1] + float(h_rx_m)
    los = hts + (hrs - hts) * d / dtot
    r1 = np.sqrt(lam * d * (dtot - d) / dtot)
    clear = los - terr
    inner = slice(1, d.size - 1)
    di = d[inner]
    nu = np.full(d.size, -np.inf)
    nu[inner] = (terr[inner] - los[inner]) * np.sqrt(2.0 * dtot / (lam * di * (dtot - di)))
    dom = int(np.argmax(nu))
    stim = (terr[inner] - hts) / di
    srim = (terr[inner] - hrs) / (dtot - di)
    it, ir = int(np.argmax(stim)) + 1, int(np.argmax(srim)) + 1
    s_tr = (hrs - hts) / dtot
    bp = None
    if stim.max() >= s_tr:
        s_t, s_r = float(stim.max()), float(srim.max())
        dbp = (hrs - hts + s_r * dtot) / (s_t + s_r)
        bp = (float(dbp), float(hts + s_t * dbp))
    return ProfileGeometry(d, g, bulge, terr, los, r1, clear, nu, hts, hrs, float(freq_mhz), float(k_factor), lam,
                           bool((clear[inner] >= 0).all()), float(np.min(clear[inner] / r1[inner])), dom, it, ir, bp)


def _lonlat_of(obj, what: str) -> tuple[float, float]:
    """(lon, lat) of a tuple, a mapping/Series with lon/lat, or an object with a shapely geometry."""
    if isinstance(obj, (tuple, list, np.ndarray)) and len(obj) == 2:
        return float(obj[0]), float(obj[1])
    get = obj.get if hasattr(obj, "get") else (lambda k, default=None: getattr(obj, k, default))
    lon, lat = get("lon", None), get("lat", None)
    if lon is None or lat is None:  # assess_villages' representative point, or a centroid table's lng
        lon, lat = get("point_lon", get("lng", None)), get("point_lat", lat)
    if lon is not None and lat is not None and np.isfinite(float(lon)) and np.isfinite(float(lat)):
        return float(lon), float(lat)
    geom = get("geometry", None) if not hasattr(obj, "geom_type") else obj
    if geom is not None and hasattr(geom, "representative_point"):
        p = geom.representative_point() if geom.geom_type != "Point" else geom
        return float(p.x), float(p.y)
    raise InputError(f"{what}: give (lon, lat), a row with lon/lat columns, or a geometry; got {type(obj).__name__}")


def _label_of(obj, keys, default):
    if hasattr(obj, "get"):
        for k in keys:
            v = obj.get(k, None)
            if v is not None and str(v) not in ("", "nan"):
                return str(v)
    return default


def profile_losses(distances_m, elevations_m, *, h_tx_m: float, h_rx_m: float, freq_mhz: float,
                   models: Sequence[str] = ("p526",), k_factor: float = 4.0 / 3.0,
                   hata_environment: str = "open") -> dict[str, float]:
    """Basic transmission loss (dB) of one profile by each of ``models`` (fspl, hata, cost231, p526, itm).

    ``p526`` also reports ``p526_diffraction``, its excess loss over free space. A model outside its
    validity range is evaluated anyway (``extrapolate``), quietly: this is a diagnostic view.
    """
    import warnings

    from ..propagation import (
        cost231_loss_db,
        diffraction_loss_db,
        free_space_loss_db,
        hata_loss_db,
    )

    d = np.asarray(distances_m, dtype=float)
    z = np.asarray(elevations_m, dtype=float)
    d3 = float(np.hypot(d[-1], (z[0] + h_tx_m) - (z[-1] + h_rx_m)))
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in models:
            key = str(name).lower()
            if key == "fspl":
                out["fspl"] = float(free_space_loss_db(d3, freq_mhz))
            elif key in ("hata", "cost231"):
                fn = hata_loss_db if key == "hata" else cost231_loss_db
                try:
                    out[key] = float(fn(max(d[-1], 1.0), freq_mhz=freq_mhz, h_tx_m=h_tx_m, h_rx_m=h_rx_m,
                                        environment=hata_environment))
                except Exception:  # noqa: BLE001 - e.g. frequency outside the formula
                    out[key] = float("nan")
            elif key == "p526":
                ld = float(diffraction_loss_db(d, z, h_tx_m=h_tx_m, h_rx_m=h_rx_m, freq_mhz=freq_mhz,
                                               k_factor=k_factor))
                out["p526"] = float(free_space_loss_db(d3, freq_mhz)) + ld
                out["p526_diffraction"] = ld
            elif key == "itm":
                from ..propagation import itm

                step = float(np.mean(np.diff(d)))
                res = itm.p2p(z, step, h_tx_m=max(h_tx_m, 0.5), h_rx_m=max(h_rx_m, 0.5), freq_mhz=freq_mhz)
                out["itm"] = float(getattr(res, "loss_db", getattr(res, "A_db", np.nan)))
            else:
                raise InputError(f"unknown model {name!r} for a profile: fspl, hata, cost231, p526, itm")
    return out


def _loss_lines(models, losses, freq_mhz, site, eirp_dbm) -> list[str]:
    """The loss box of a profile: each model's loss (planner's names), and the received signal."""
    lines = []
    for name in models:
        key = str(name).lower()
        val = losses.get(key)
        if val is None:
            continue
        txt = f"{model_label(key)}: {val:.1f} dB"
        try:
            from ..propagation import get_model

            lo, hi = get_model(key).validity.freq_mhz
            if not lo <= freq_mhz <= hi:
                txt += f" (outside {lo:g}–{hi:g} MHz)"
        except Exception:  # noqa: BLE001 - a label only
            pass
        if key == "p526":
            txt += f"\n    of which diffraction {losses['p526_diffraction']:.1f} dB"
        lines.append(txt)
    if eirp_dbm is not None and "p526" in losses:
        p_rx = eirp_dbm - losses["p526"]
        tech = str(site.get("technology", "")).lower() if hasattr(site, "get") else ""
        bw = site.get("bandwidth_mhz", None) if hasattr(site, "get") else None
        if tech in ("2g", "3g", "4g", "5g") and (tech in ("2g", "3g") or (bw is not None and np.isfinite(float(bw)))):
            from ..io.sites import metric_offset_db

            metric = signal_classes(tech).metric
            val = p_rx + metric_offset_db(tech, float(bw) if bw is not None else 0.0)
            lines.append(f"{metric_label(metric).replace(' (dBm)', '')} (P.526, main lobe): {val:.1f} dBm")
        else:
            lines.append(f"received power (P.526, main lobe): {p_rx:.1f} dBm")
    return lines


def plot_profile(terrain, site, point, *, freq_mhz: float | None = None, h_tx_m: float | None = None,
                 h_rx_m: float = 1.5, k_factor: float = 4.0 / 3.0, models: Sequence[str] = ("p526",),
                 step_m: float | None = None, ax=None, title: str | None = None, site_label: str | None = None,
                 point_label: str | None = None, eirp_dbm: float | None = None, figsize=(12, 4.8)):
    """Path profile from a site to a point: why is this village in shadow?

    Draws the terrain on the k-factor earth (earth bulge added, so the line of sight is straight), the
    line of sight between the antenna tips, the first Fresnel zone, the horizon rays and Bullington
    point the terrain model used, the dominant edge (largest ν) and the predicted loss of each model.

    Parameters
    ----------
    terrain : Terrain
    site : row of a sites table (lon, lat, height_m, freq_mhz, site_id, eirp_dbm) or (lon, lat)
    point : (lon, lat), a village row (its geometry's representative point) or a shapely geometry
    freq_mhz, h_tx_m : float, optional
        Default: the site's ``freq_mhz`` and ``height_m``.
    h_rx_m : float
        Receiver height above ground (m).
    models : sequence of str
        Losses to report: any of ``"fspl"``, ``"hata"``, ``"cost231"``, ``"p526"``, ``"itm"``.

    Returns
    -------
    matplotlib.axes.Axes
        The geometry is in ``ax.profile_geometry`` and the losses in ``ax.profile_losses``.
    """
    plt = _mpl()

    lon1, lat1 = _lonlat_of(site, "site")
    lon2, lat2 = _lonlat_of(point, "point")
    if freq_mhz is None:
        freq_mhz = float(site.get("freq_mhz")) if hasattr(site, "get") and site.get("freq_mhz") is not None else None
    if freq_mhz is None:
        raise InputError("plot_profile: give freq_mhz (or a site row with a freq_mhz column)")
    if h_tx_m is None:
        h_tx_m = float(site.get("height_m")) if hasattr(site, "get") and site.get("height_m") is not None else 30.0
    if eirp_dbm is None and hasattr(site, "get") and site.get("eirp_dbm") is not None:
        eirp_dbm = float(site.get("eirp_dbm"))
    d, z = terrain.profile((lon1, lat1), (lon2, lat2), step_m=step_m)
    if d.size < 3:
        d, z = terrain.profile((lon1, lat1), (lon2, lat2), n=3)
    geo = profile_geometry(d, z, h_tx_m=h_tx_m, h_rx_m=h_rx_m, freq_mhz=freq_mhz, k_factor=k_factor)
    losses = profile_losses(d, z, h_tx_m=h_tx_m, h_rx_m=h_rx_m, freq_mhz=freq_mhz, models=models,
                            k_factor=k_factor)

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    km = geo.distance_m / 1000.0
    span = max(float(np.ptp(geo.terrain_m)), geo.tx_height_m - float(np.min(geo.terrain_m)), 10.0)
    floor = float(np.min(geo.ground_m)) - 0.15 * span
    if floor < 0.15 * span:  # near sea level: start at (or below) sea level
        floor = min(0.0, float(np.min(geo.ground_m))) - 0.05 * span
    curve = floor + geo.bulge_m  # the curved earth: a datum below the terrain, bulged like it
    ax.fill_between(km, floor, curve, color="#c6dbef", alpha=0.7, lw=0, zorder=1)
    ax.plot(km, curve, color="#4292c6", lw=0.9, ls="--", zorder=2, gid="earth_curve",
            label=f"earth curvature (k = {k_factor:.3g}), {float(np.max(geo.bulge_m)):.1f} m bulge")
    ax.fill_between(km, curve, geo.terrain_m, color="#bf9b6b", alpha=0.9, lw=0, zorder=2)
    ax.plot(km, geo.terrain_m, color="#6b4a2b", lw=1.2, zorder=3, gid="terrain", label="terrain + earth bulge")
    ax.fill_between(km, geo.los_m - geo.fresnel_radius_m, geo.los_m + geo.fresnel_radius_m, color="#fdd49e",
                    alpha=0.45, lw=0, zorder=3, gid="fresnel", label="1st Fresnel zone")
    ax.plot(km, geo.los_m, color="#d7301f", lw=1.4, zorder=5, gid="los", label="line of sight")
    # masts: symbols at the path's ends, never clipped (margins below, clip_on=False)
    ax.plot([0, 0], [geo.terrain_m[0], geo.tx_height_m], color="black", lw=2.5, zorder=6, clip_on=False,
            gid="tx_mast")
    ax.plot([km[-1], km[-1]], [geo.terrain_m[-1], geo.rx_height_m], color="black", lw=2.0, zorder=6, clip_on=False,
            gid="rx_mast")
    ax.plot([0], [geo.tx_height_m], marker="^", ms=9, color="black", ls="", zorder=7, clip_on=False, gid="tx_antenna",
            label=f"site antenna (mast {h_tx_m:g} m)")
    ax.plot([km[-1]], [geo.rx_height_m], marker="o", ms=6, color="black", ls="", zorder=7, clip_on=False,
            gid="rx_antenna", label=f"receiver ({h_rx_m:g} m above ground)")
    if geo.bullington_point is not None:
        dbp, hbp = geo.bullington_point
        ax.plot([0, dbp / 1000.0, km[-1]], [geo.tx_height_m, hbp, geo.rx_height_m], color="#54278f", lw=1.0,
                ls="--", zorder=5, gid="horizon_rays", label="horizon rays (Bullington)")
        ax.plot([dbp / 1000.0], [hbp], marker="X", ms=9, color="#54278f", zorder=8, ls="", gid="bullington_point",
                label=f"Bullington point ({dbp / 1000:.2f} km)")
        hz = sorted({geo.tx_horizon_index, geo.rx_horizon_index})
        ax.plot(km[hz], geo.terrain_m[hz], marker="v", ms=7, color="#54278f", ls="", zorder=8, gid="horizons",
                label="horizon seen from site / receiver" if len(hz) == 2 else "horizon seen from both ends")
    i = geo.dominant_index
    edge_label = (f"dominant edge, ν = {geo.nu_max:.2f}" if geo.nu_max > -0.78
                  else f"closest approach, ν = {geo.nu_max:.2f} (clear)")
    ax.plot([km[i]], [geo.terrain_m[i]], marker="*", ms=13, color="#ffd92f", mec="black", ls="", zorder=9,
            gid="dominant_edge", label=edge_label)

    lines = _loss_lines(models, losses, freq_mhz, site, eirp_dbm)
    state = ("line of sight clear" if geo.los_clear and geo.fresnel_clear >= 0.6 else
             "line of sight clear, Fresnel zone obstructed" if geo.los_clear else "line of sight blocked")
    lines[:0] = [state, f"min clearance {geo.fresnel_clear:.2f} × r₁ (Fresnel)", ""]
    ax.text(1.015, 1.0, "\n".join(lines), transform=ax.transAxes, ha="left", va="top", fontsize=8.5, zorder=10,
            bbox=dict(boxstyle="round,pad=0.4", fc="white", ec="#999999"), gid="losses")
    ax.set_xlim(-0.025 * km[-1], 1.025 * km[-1])  # room for the end symbols
    top = max(float(np.max(geo.terrain_m)), geo.tx_height_m, geo.rx_height_m,
              float(np.max(geo.los_m + geo.fresnel_radius_m)),
              geo.bullington_point[1] if geo.bullington_point is not None else -np.inf)
    ax.set_ylim(floor, top + 0.12 * (top - floor))
    ax.set_xlabel("distance from the site (km)")
    ax.set_ylabel("height above sea level (m)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.015, 0.55), fontsize=7.5, framealpha=0.9, borderaxespad=0)
    ax.grid(alpha=0.3, zorder=0)
    if title is None:
        s_lbl = site_label or _label_of(site, ("site_id",), f"({lon1:.4f}, {lat1:.4f})")
        p_lbl = point_label or _label_of(point, ("nama", "name", "kode"), f"({lon2:.4f}, {lat2:.4f})")
        main = losses.get("p526", next(iter(losses.values()), float("nan")))
        title = (f"{s_lbl} → {p_lbl}: {geo.length_m / 1000:.2f} km, {freq_mhz:g} MHz, mast {h_tx_m:g} m, "
                 f"rx {h_rx_m:g} m — loss {main:.1f} dB")
    ax.set_title(title, fontsize=10.5)
    ax.profile_geometry = geo
    ax.profile_losses = losses
    return ax


# --------------------------------------------------------------------------------------------- indicators
_LEVEL_NAME_COLS = {
    "kabupaten": ("nama_kab", "kabupaten", "name", "nama"),
    "kecamatan": ("nama_kec", "kecamatan", "name", "nama"),
    "provinsi": ("nama_prov", "provinsi", "province", "name", "nama"),
}
_LEVEL_CODE_COLS = {"kabupaten": ("kode_kab",), "kecamatan": ("kode_kec",), "provinsi": ("kode_prov",)}


def _status_counts(table, level: str):
    """Per-area counts of covered / partial / blankspot villages from a summary or a village table."""
    import pandas as pd

    df = pd.DataFrame(table.drop(columns="geometry", errors="ignore"))
    names = _LEVEL_NAME_COLS.get(level, (level, "name", "nama"))
    if "status" in df:  # a village table: count it
        key = next((c for c in names + _LEVEL_CODE_COLS.get(level, ()) if c in df), None)
        if key is None:
            raise InputError(f"plot_indicator: the village table has no {level} column ({names})")
        counts = pd.crosstab(df[key].astype(str), df["status"].astype(str).str.lower())
        for s in (*STATUS_ORDER, "unassessed"):
            if s not in counts:
                counts[s] = 0
        return counts[[*STATUS_ORDER, "unassessed"]]
    key = next((c for c in names if c in df), None)
    cols = {}
    for s in (*STATUS_ORDER, "unassessed"):
        cand = [c for c in (f"n_{s}", s, f"{s}_villages", f"villages_{s}", f"n_{s}_villages") if c in df]
        if cand:
            cols[s] = cand[0]
    if not cols:
        raise InputError("plot_indicator: expected a village table with a 'status' column or a summary with "
                         "counts per status (n_covered, n_partial, n_blankspot)")
    counts = pd.DataFrame({s: pd.to_numeric(df[c], errors="coerce").fillna(0) for s, c in cols.items()})
    for s in (*STATUS_ORDER, "unassessed"):
        if s not in counts:
            counts[s] = 0
    counts.index = df[key].astype(str) if key else df.index.astype(str)
    return counts[[*STATUS_ORDER, "unassessed"]]


def plot_indicator(summary, level: str = "kabupaten", *, sort: str = "blankspot_share", title: str | None = None,
                   figsize=None):
    """Village status per area: stacked counts and the blankspot share, one bar per kabupaten.

    Parameters
    ----------
    summary : DataFrame
        Either an indicator table (e.g. :func:`coverage.indicator`) with counts per status
        (``n_covered``, ``n_partial``, ``n_blankspot`` or ``covered`` / ...) and a name column, or a
        village table with a ``status`` column and the level's name/code column (``nama_kab``), which
        is counted here.
    level : {"kabupaten", "kecamatan", "provinsi"}
    sort : {"blankspot_share", "blankspot", "name"}

    Returns
    -------
    matplotlib.figure.Figure
        Left: villages per status (stacked); right: share of villages in blankspot (and partial).
    """
    plt = _mpl()

    counts = _status_counts(summary, level)
    total = counts[list(STATUS_ORDER)].sum(axis=1).replace(0, np.nan)  # assessed villages
    share_b = 100.0 * counts["blankspot"] / total
    share_p = 100.0 * counts["partial"] / total
    if sort == "blankspot_share":
        order = share_b.fillna(-1).sort_values().index
    elif sort == "blankspot":
        order = counts["blankspot"].sort_values().index
    else:
        order = counts.index.sort_values(ascending=False)
    counts, share_b, share_p = counts.loc[order], share_b.loc[order], share_p.loc[order]
    n = len(counts)
    if figsize is None:
        figsize = (11, max(2.5, 0.38 * n + 1.3))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=figsize, sharey=True, layout="constrained",
                                 gridspec_kw={"width_ratios": [1.3, 1]})
    y = np.arange(n)
    left = np.zeros(n)
    shown = [*STATUS_ORDER] + (["unassessed"] if counts["unassessed"].sum() > 0 else [])
    for s in shown:
        vals = counts[s].to_numpy(float)
        a1.barh(y, vals, left=left, color=STATUS_COLORS[s], label=s, edgecolor="white", linewidth=0.5, gid=f"bar_{s}")
        left += vals
    for yi, tot in zip(y, left):
        a1.text(tot, yi, f" {int(tot)}", va="center", fontsize=8)
    a1.set_yticks(y, counts.index)
    a1.set_xlabel("number of villages by status")
    a1.set_xlim(0, max(left.max(), 1) * 1.12)
    a2.barh(y, share_b.to_numpy(float), color=STATUS_COLORS["blankspot"], label="blankspot", gid="share_blankspot")
    a2.barh(y, share_p.to_numpy(float), left=share_b.to_numpy(float), color=STATUS_COLORS["partial"], alpha=0.6,
            label="partial", gid="share_partial")
    for yi, sb, sp in zip(y, share_b.to_numpy(float), share_p.to_numpy(float)):
        if np.isfinite(sb):
            a2.text(sb + sp, yi, f" {sb:.0f} %" + (f" (+{sp:.0f} % partial)" if sp > 0 else ""), va="center",
                    fontsize=8)
    a2.set_xlim(0, 118)
    a2.set_xlabel("share of villages in blankspot (+ partial), %")
    for a in (a1, a2):
        a.grid(axis="x", alpha=0.3)
        a.set_axisbelow(True)
    fig.legend(*a1.get_legend_handles_labels(), loc="outside lower center", ncol=len(shown), fontsize=8.5, frameon=False)
    tot_b = int(counts["blankspot"].sum())
    tot = int(counts[list(STATUS_ORDER)].to_numpy().sum())
    fig.suptitle(title or f"Blankspot villages by {level}: {tot_b} of {tot} ({100.0 * tot_b / max(tot, 1):.1f} %)",
                 fontsize=11)
    return fig
