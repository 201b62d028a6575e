"""Interactive map that works offline: one HTML file with Leaflet, the coverage, villages and sites inside.

    m = coverage.interactive.interactive_map(result, villages=table)
    m            # in a notebook cell: a pannable, zoomable map (an iframe the cell's width)
    m.save("coverage.html")

The page is written here with a vendored copy of Leaflet 1.9.4 (``render/assets/leaflet``, BSD-2
licence beside it): its script, its stylesheet and its icons are inlined, the coverage is a PNG data
URL, villages and sites are GeoJSON in the page. Opening the file fetches nothing. Base-map tiles are
the one exception and optional: with ``offline=True`` (default) the map opens on a plain background
and a tile layer can be switched on from the layer control when there is a network.

Cells without usable signal are drawn as a light grey veil (the legend's swatch is that veil), so
"computed, no signal" differs from "not computed". Villages are outlines coloured by status: no fill
changes the colours of the coverage under them. matplotlib (``[plot]``) colours the raster.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_path
from ..errors import InputError

__all__ = ["interactive_map", "InteractiveMap", "leaflet_assets", "TILES"]

#: Base maps by name: (URL template, attribution). Any other ``tiles`` string is used as a URL template.
TILES: dict[str, tuple[str, str]] = {
    "OpenStreetMap": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                      "&copy; OpenStreetMap contributors"),
    "CartoDB positron": ("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
                         "&copy; OpenStreetMap contributors &copy; CARTO"),
}
#: Background of the map where no base map is shown (and under the legend's swatches).
BACKGROUND = "#eeeeea"
#: The "no usable signal" veil: RGB and opacity inside the overlay PNG.
NO_SIGNAL_RGB = (110, 110, 110)
NO_SIGNAL_ALPHA = 0.45
_VILLAGE_STYLE = {  # outlines only: a transparent fill keeps the polygon clickable
    "covered": {"weight": 1.2, "dashArray": None},
    "partial": {"weight": 2.0, "dashArray": "5 3"},
    "blankspot": {"weight": 3.0, "dashArray": None},
    "unassessed": {"weight": 1.0, "dashArray": "2 3"},
    "unknown": {"weight": 1.0, "dashArray": None},
}


# --------------------------------------------------------------------------------------------- assets
def _asset_dir():
    return Path(__file__).resolve().parent / "assets" / "leaflet"


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's script and stylesheet, ready to inline: ``(js, css)``.

    The stylesheet's ``url(images/...)`` become PNG data URLs; the source-map comment is dropped
    (a browser's developer tools would fetch it).
    """
    d = _asset_dir()
    js = (d / "leaflet.js").read_text(encoding="utf-8")
    js = "\n".join(line for line in js.splitlines() if not line.startswith("//# sourceMappingURL"))
    css = (d / "leaflet.css").read_text(encoding="utf-8")
    for name in ("layers-2x.png", "layers.png", "marker-icon-2x.png", "marker-icon.png", "marker-shadow.png"):
        data = base64.b64encode((d / "images" / name).read_bytes()).decode("ascii")
        css = css.replace(f"url(images/{name})", f"url(data:image/png;base64,{data})")
    return js, css


# --------------------------------------------------------------------------------------------- the map object
@dataclass
class InteractiveMap:
    """A self-contained Leaflet page: shows itself in a notebook, ``save()`` writes it.

    Attributes
    ----------
    html : str
        The whole page.
    height : str
        CSS height of the map in a notebook cell (its width is the cell's).
    counts : dict
        What the page holds: ``overlays``, ``villages``, ``sites`` (checked by the tests in a browser).
    """

    html: str
    height: str = "600px"
    title: str = "coverage"
    counts: dict = field(default_factory=dict)

    def save(self, path) -> str:
        """Write the page (atomically) to ``path``; returns the path."""
        with atomic_path(path) as tmp:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(self.html)
        return os.fspath(path)

    def _repr_html_(self) -> str:
        # an iframe keeps Leaflet's CSS out of the notebook's; srcdoc keeps it inside the notebook file
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" title="{html.escape(self.title)}" '
                f'style="width:100%;height:{self.height};border:1px solid #ccc" loading="lazy"></iframe>')

    def __repr__(self) -> str:
        parts = ", ".join(f"{v} {k}" for k, v in self.counts.items())
        return f"<InteractiveMap {self.title!r}: {parts}; {len(self.html) / 1e6:.1f} MB>"


# --------------------------------------------------------------------------------------------- formatting
def _num(v, fmt: str = "{:.1f}") -> str | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return fmt.format(f) if math.isfinite(f) else None


def _text(v) -> str | None:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    s = str(v)
    return None if s in ("", "nan", "None", "<NA>") else html.escape(s)


def _village_popup(row, metric: str, status_colors: dict) -> str:
    """Popup of one village, in a planner's words ("usable share 71 %")."""
    get = row.get
    name = _text(get("nama")) or _text(get("name")) or _text(get("kode")) or "village"
    lines = [f"<b style='font-size:13px'>{name}</b>"]
    sub = ", ".join(x for x in (_text(get("kode")), _text(get("nama_kec")), _text(get("nama_kab"))) if x)
    if sub:
        lines.append(f"<span style='color:#555'>{sub}</span>")
    rows = []
    st = _text(get("status"))
    if st:
        col = status_colors.get(st.lower(), status_colors["unknown"])
        rows.append(("status", f"<b style='color:{col}'>{st}</b>"))
    share = _num(get("usable_share"), "{:.0%}")
    if share is not None:
        rows.append(("usable share", share.replace("%", " %") + " of its area"))
    med = _num(get("p50_dbm"))
    if med is not None:
        rows.append((f"area median {metric}", f"{med} dBm"))
    pt = _num(get("signal_dbm"))
    if pt is not None:
        rows.append((f"point signal {metric}", f"{pt} dBm (at the village point)"))
    elif "signal_dbm" in row.index:
        rows.append((f"point signal {metric}", "none (at the village point)"))
    srv = _text(get("best_server"))
    if srv:
        km = _num(get("best_server_km"))
        rows.append(("best server", srv + (f", {km} km" if km else "")))
    near = _text(get("nearest_site"))
    if near:
        km = _num(get("nearest_site_km"))
        rows.append(("nearest site", near + (f", {km} km" if km else "")))
    pop = _num(get("population"), "{:,.0f}")
    if pop is not None:
        rows.append(("population", pop))
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return "<br>".join(lines) + f"<table class='cov-popup'>{table}</table>"


def _site_popup(row) -> str:
    get = row.get
    rows = []
    for key, label, fmt, unit in (("technology", "technology", None, ""), ("height_m", "mast height", "{:g}", " m"),
                                  ("freq_mhz", "frequency", "{:g}", " MHz"), ("eirp_dbm", "EIRP", "{:g}", " dBm"),
                                  ("azimuth_deg", "azimuth", "{:g}", "°"),
                                  ("beamwidth_deg", "beamwidth", "{:g}", "°")):
        val = _text(get(key)) if fmt is None else _num(get(key), fmt)
        if val is not None:
            rows.append(f"<tr><th>{label}</th><td>{val}{unit}</td></tr>")
    return f"<b>site {_text(get('site_id')) or ''}</b><table class='cov-popup'>{''.join(rows)}</table>"


# --------------------------------------------------------------------------------------------- layers
def _mercator_rows(rgba: np.ndarray, south: float, north: float) -> np.ndarray:
    """Resample the rows of a lat/lon image so that Leaflet's linear stretch in Web Mercator is right."""
    h = rgba.shape[0]
    if h < 2 or abs(north - south) < 1e-9:
        return rgba
    merc = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))  # noqa: E731
    y_n, y_s = merc(north), merc(south)
    y = y_n - (np.arange(h) + 0.5) * (y_n - y_s) / h
    lat = np.degrees(np.arctan(np.sinh(y)))
    src = np.clip(((north - lat) / (north - south) * h).astype(int), 0, h - 1)
    return rgba[src]


def _overlay_png(rgba: np.ndarray) -> str:
    from .kmz import _png

    return "data:image/png;base64," + base64.b64encode(_png(rgba)).decode("ascii")


def _swatch(color, opacity: float) -> str:
    """CSS background of a legend swatch: the colour at the map's opacity over the map's background."""
    from matplotlib.colors import to_rgba

    r, g, b, a = to_rgba(color)
    a *= opacity
    return (f"linear-gradient(rgba({r * 255:.0f},{g * 255:.0f},{b * 255:.0f},{a:.3f}),"
            f"rgba({r * 255:.0f},{g * 255:.0f},{b * 255:.0f},{a:.3f})),{BACKGROUND}")


def _village_geojson(villages, max_villages: int, simplify_deg: float, metric: str, status_colors: dict):
    import geopandas as gpd
    import shapely

    v = villages if isinstance(villages, gpd.GeoDataFrame) else gpd.GeoDataFrame(villages)
    v = v.set_crs("EPSG:4326") if v.crs is None else v.to_crs("EPSG:4326")
    if len(v) > max_villages:
        order = np.argsort(v["status"].astype(str).map({"blankspot": 0, "partial": 1}).fillna(2).to_numpy(),
                           kind="stable") if "status" in v else np.arange(len(v))
        v = v.iloc[order[:max_villages]]
    geoms = v.geometry.to_numpy()
    if simplify_deg > 0:
        geoms = shapely.simplify(geoms, simplify_deg, preserve_topology=True)
    geoms = shapely.set_precision(geoms, 1e-5)  # ~1 m: keeps the page small
    status = (v["status"].astype(str).str.lower().to_numpy() if "status" in v
              else np.full(len(v), "unknown", dtype=object))
    feats = []
    for (_, row), geom, st in zip(v.iterrows(), geoms, status):
        if geom is None or shapely.is_empty(geom):
            continue
        name = _text(row.get("nama")) or _text(row.get("name")) or ""
        feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                      "properties": {"status": st if st in _VILLAGE_STYLE else "unknown",
                                     "popup": _village_popup(row, metric, status_colors),
                                     "label": f"{name} ({st})" if name else st}})
    return {"type": "FeatureCollection", "features": feats}, status


def _sites_data(site_table, server_colors, wedge_m: float):
    from .plot import _sector_polygon

    items = []
    if site_table is None or not len(site_table) or not {"lon", "lat"} <= set(site_table.columns):
        return items
    lat0 = float(np.nanmean(site_table["lat"]))
    m_per = (111_320.0 * math.cos(math.radians(lat0)), 110_574.0)
    for i, (_, row) in enumerate(site_table.iterrows()):
        lon, lat = float(row["lon"]), float(row["lat"])
        item = {"id": str(row.get("site_id", i)), "lon": round(lon, 6), "lat": round(lat, 6),
                "popup": _site_popup(row)}
        if server_colors is not None and i < len(server_colors):
            item["fill"] = server_colors[i]
        az = row.get("azimuth_deg", np.nan)
        if az is not None and np.isfinite(float(az)):
            bw = row.get("beamwidth_deg", 65.0)
            bw = 65.0 if bw is None or not np.isfinite(float(bw)) else float(bw)
            poly = _sector_polygon(lon, lat, float(az), bw, wedge_m, *m_per)
            item["wedge"] = [[round(float(y), 6), round(float(x), 6)] for x, y in poly]
        items.append(item)
    return items


def _legend_html(title: str, entries, opacity: float, village_counts: dict | None, status_colors: dict,
                 n_sites: int, sectors: bool) -> str:
    rows = []
    for label, color in entries:
        bg = (_swatch(tuple(c / 255 for c in NO_SIGNAL_RGB), NO_SIGNAL_ALPHA * opacity) if color == "none"
              else _swatch(color, opacity))
        rows.append(f"<div class='cov-row'><span class='cov-sw' style='background:{bg}'></span>"
                    f"{html.escape(label)}</div>")
    if village_counts is not None:
        rows.append("<div class='cov-head'>villages (outline)</div>")
        for s in ("covered", "partial", "blankspot", "unassessed", "unknown"):
            if s not in village_counts:
                continue
            st = _VILLAGE_STYLE[s]
            dash = "dashed" if st["dashArray"] else "solid"
            rows.append(f"<div class='cov-row'><span class='cov-sw' style='background:{BACKGROUND};"
                        f"border:{max(st['weight'], 1.0):.0f}px {dash} {status_colors[s]}'></span>"
                        f"{s} ({village_counts[s]})</div>")
    if n_sites:
        rows.append("<div class='cov-row'><span class='cov-sw cov-dot'></span>"
                    f"site ({n_sites})</div>")
        if sectors:
            rows.append("<div class='cov-row'><svg class='cov-sw' viewBox='0 0 16 12' style='border:none'>"
                        "<path d='M8 11 L2 1 A11 11 0 0 1 14 1 Z' fill='#fff' stroke='#000' stroke-width='1'/>"
                        "</svg>sector (azimuth)</div>")
    return (f"<details open><summary><b>{html.escape(title)}</b></summary>{''.join(rows)}"
            "<div class='cov-note'>a prediction, not a measurement</div></details>")


_CSS = """
html, body { height: 100%; margin: 0; padding: 0; }
#map { position: absolute; inset: 0; background: %(bg)s; font: 12px/1.35 system-ui, sans-serif; }
.cov-legend { background: rgba(255,255,255,0.94); padding: 6px 8px; border-radius: 4px;
  max-width: min(270px, calc(100vw - 150px)); max-height: calc(100vh - 110px); overflow: auto; }
.cov-legend summary { cursor: pointer; margin-bottom: 3px; }
.cov-row { display: flex; align-items: center; gap: 6px; margin: 2px 0; white-space: nowrap; }
.cov-head { margin-top: 5px; font-weight: 600; }
.cov-sw { display: inline-block; flex: none; width: 16px; height: 11px; border: 1px solid #777;
  box-sizing: border-box; }
.cov-dot { width: 11px; height: 11px; border-radius: 50%; border: 2px solid #000; background: #fff;
  margin: 0 2px 0 3px; }
.cov-note { margin-top: 4px; color: #666; font-size: 11px; }
table.cov-popup { border-collapse: collapse; margin-top: 3px; }
table.cov-popup th { text-align: left; font-weight: normal; color: #555; padding: 1px 8px 1px 0; }
table.cov-popup td { padding: 1px 0; }
"""

_JS = """
(function () {
  var D = JSON.parse(document.getElementById('coverage-data').textContent);
  var map = L.map('map', {zoomSnap: 0.25});
  var bases = {}, overlays = {}, counts = {overlays: 0, villages: 0, sites: 0};
  var plain = L.layerGroup();
  bases['plain background'] = plain;
  var tiles = null;
  if (D.tiles) {
    tiles = L.tileLayer(D.tiles.url, {attribution: D.tiles.attribution, maxZoom: 19, subdomains: 'abcd'});
    bases[D.tiles.name] = tiles;
  }
  (tiles && D.tiles.on ? tiles : plain).addTo(map);
  var ov = L.imageOverlay(D.overlay.url, D.overlay.bounds,
                          {opacity: D.overlay.opacity, className: 'cov-overlay', interactive: false});
  ov.addTo(map); overlays[D.overlay.name] = ov; counts.overlays += 1;
  if (D.villages) {
    var vl = L.geoJSON(D.villages.geojson, {
      style: function (f) { var s = D.villages.styles[f.properties.status] || D.villages.styles.unknown;
                            return Object.assign({className: 'cov-village'}, s); },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, {radius: 5}); },
      onEachFeature: function (f, layer) {
        layer.bindPopup(f.properties.popup, {maxWidth: 340});
        layer.bindTooltip(f.properties.label, {sticky: true});
        counts.villages += 1;
      }
    });
    vl.addTo(map); overlays[D.villages.name] = vl;
  }
  if (D.sites) {
    var g = L.featureGroup();
    D.sites.items.forEach(function (s) {
      if (s.wedge) L.polygon(s.wedge, {color: '#000', weight: 1, fillColor: s.fill || '#fff', fillOpacity: 0.9,
                                       className: 'cov-sector', interactive: false}).addTo(g);
      L.circleMarker([s.lat, s.lon], {radius: D.sites.radius, color: '#000', weight: D.sites.radius > 4 ? 2 : 1,
                                      fillColor: s.fill || '#fff',
                                      fillOpacity: 1, className: 'cov-site'})
        .bindPopup(s.popup).bindTooltip(s.id).addTo(g);
      counts.sites += 1;
    });
    g.addTo(map); overlays[D.sites.name] = g;
  }
  L.control.scale({position: 'bottomleft', imperial: false, maxWidth: 150}).addTo(map);
  L.control.layers(bases, overlays, {collapsed: true, position: 'topright'}).addTo(map);
  var legend = L.control({position: 'bottomright'});
  legend.onAdd = function () {
    var div = L.DomUtil.create('div', 'cov-legend leaflet-control');
    div.innerHTML = D.legend;
    L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);
  // keep the legend beside the data, not over it: small maps start with it folded
  var size = map.getSize(), box = legend.getContainer();
  if (size.x < 560 || size.y < 360) box.querySelector('details').removeAttribute('open');
  var pad = box.offsetWidth + 16;
  if (D.zoom) map.setView(D.zoom.center, D.zoom.level);
  else map.fitBounds(D.overlay.bounds, size.x > 2.2 * pad ? {paddingBottomRight: [pad, 0], paddingTopLeft: [50, 10]}
                                                          : {padding: [10, 10]});
  window.coverageMap = {map: map, counts: counts};
  // what was drawn and where the controls sit (read by the tests in a headless browser)
  var el = document.getElementById('map');
  var rect = function (node) {
    var r = node.getBoundingClientRect();
    return [Math.round(r.left), Math.round(r.top), Math.round(r.right), Math.round(r.bottom)];
  };
  el.setAttribute('data-counts', JSON.stringify(counts));
  el.setAttribute('data-controls', JSON.stringify({map: rect(el), legend: rect(box),
    scale: rect(el.querySelector('.leaflet-control-scale')), layers: rect(el.querySelector('.leaflet-control-layers')),
    zoom: rect(el.querySelector('.leaflet-control-zoom'))}));
})();
"""


def _page(title: str, data: dict) -> str:
    js, css = leaflet_assets()
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title>\n<style>{css}</style>\n"
            f"<style>{_CSS.replace('%(bg)s', BACKGROUND)}</style>\n"
            f"<script>{js}</script>\n</head><body><div id='map'></div>\n"
            f"<script type='application/json' id='coverage-data'>{payload}</script>\n"
            f"<script>{_JS}</script>\n</body></html>\n")


def _tile_spec(tiles: str | None, offline: bool):
    if tiles is None:
        return None
    url, attribution = TILES.get(tiles, (tiles, ""))
    if "{z}" not in url:
        raise InputError(f"tiles must be one of {sorted(TILES)} or a URL template with {{z}}/{{x}}/{{y}}, "
                         f"got {tiles!r}")
    name = tiles if tiles in TILES else "base map"
    return {"url": url, "attribution": attribution, "name": f"{name} (needs internet)", "on": not offline}


# --------------------------------------------------------------------------------------------- public
def interactive_map(result, villages=None, *, sites: bool | Any = True, kind: str = "signal", opacity: float = 0.7,
                    usable_dbm: float | None = None, offline: bool = True, tiles: str | None = "OpenStreetMap",
                    max_villages: int = 5000, simplify_deg: float = 1e-4, height: str | int = "600px",
                    zoom_start: int | None = None, title: str | None = None) -> InteractiveMap:
    """A Leaflet map of a coverage result, in one HTML page that opens without a network.

    Parameters
    ----------
    result : CoverageResult
    villages : GeoDataFrame, optional
        Polygons or points, outlined by ``status`` when present, with a popup of name, status, usable
        share, point signal and area median, best server and nearest site (the columns of
        :func:`coverage.assess_villages`).
    sites : bool or DataFrame
        The result's sites (default), other sites, or ``False``.
    kind : {"signal", "server"}
    opacity : float
        Opacity of the coverage overlay (0..1).
    offline : bool
        ``True`` (default): nothing is fetched when the page opens; the base map (``tiles``) is in the
        layer control, off. ``False``: the base map is on (it needs internet; the rest is inline anyway).
    tiles : str or None
        Base map: ``"OpenStreetMap"``, ``"CartoDB positron"`` or a URL template; ``None`` for none.
    max_villages : int
        At most this many village shapes (blankspot and partial first).
    simplify_deg : float
        Village outlines simplified to this tolerance (degrees; 1e-4 ≈ 11 m) to keep the page small.
    height : str or int
        Height of the map in a notebook cell (CSS, or pixels).
    zoom_start : int, optional
        Initial zoom level on the result's centre (default: fit the result's extent).

    Returns
    -------
    InteractiveMap
        ``save(path)`` writes the page; a notebook shows it. ``counts`` says how many overlays,
        village shapes and site markers it holds.
    """
    from .kmz import coverage_rgba
    from .plot import STATUS_COLORS, _classes_for, metric_label, model_label

    if not 0.0 <= float(opacity) <= 1.0:
        raise InputError(f"opacity must be between 0 and 1, got {opacity!r}")
    if max_villages < 0:
        raise InputError(f"max_villages must be >= 0, got {max_villages!r}")
    rgba, (w, s, e, n), entries, cov_title = coverage_rgba(result, kind, alpha=1.0, usable_dbm=usable_dbm)
    rgba = rgba.copy()
    veil = rgba[..., 3] == 0  # no usable signal (or not computed) inside the grid: a grey veil
    rgba[veil] = (*NO_SIGNAL_RGB, round(255 * NO_SIGNAL_ALPHA))
    rgba = _mercator_rows(rgba, s, n)
    classes = _classes_for(result, usable_dbm)
    metric = metric_label(classes.metric).replace(" (dBm)", "")
    model_name = model_label(result.model)
    layer_title = (f"{metric} (dBm)" if kind == "signal" else "best server")
    legend_title = f"{layer_title} — {model_name}"
    entries = [(lbl, c) for lbl, c in entries]

    data: dict = {"overlay": {"url": _overlay_png(rgba), "bounds": [[s, w], [n, e]], "opacity": float(opacity),
                              "name": f"coverage: {layer_title}"},
                  "tiles": _tile_spec(tiles, offline),
                  "zoom": None if zoom_start is None else {"center": [(s + n) / 2, (w + e) / 2],
                                                           "level": int(zoom_start)}}
    counts = {"overlays": 1, "villages": 0, "sites": 0}
    village_counts = None
    if villages is not None and len(villages) and max_villages:
        gj, status = _village_geojson(villages, max_villages, simplify_deg, metric, STATUS_COLORS)
        vc = {k: int(v) for k, v in zip(*np.unique(status, return_counts=True))}
        village_counts = {k: vc[k] for k in _VILLAGE_STYLE if k in vc}
        styles = {k: {"color": STATUS_COLORS[k], "weight": st["weight"], "dashArray": st["dashArray"],
                      "fill": True, "fillOpacity": 0.0, "opacity": 0.95} for k, st in _VILLAGE_STYLE.items()}
        name = "villages (" + ", ".join(f"{village_counts[k]} {k}" for k in village_counts) + ")"
        data["villages"] = {"geojson": gj, "styles": styles, "name": name}
        counts["villages"] = len(gj["features"])

    site_table = result.sites if sites is True else (sites if sites is not False else None)
    server_colors = None
    if kind == "server" and site_table is result.sites:
        server_colors = [c for lbl, c in entries if lbl.startswith("served by")]
    span_m = (e - w) * 111_320.0 * math.cos(math.radians((s + n) / 2))
    items = _sites_data(site_table, server_colors, 0.04 * span_m)
    if items:
        data["sites"] = {"items": items, "name": f"sites ({len(items)})",
                         "radius": 6 if len(items) <= 60 else 3.5}  # a region: small markers
        counts["sites"] = len(items)
    data["legend"] = _legend_html(legend_title, entries, float(opacity), village_counts, STATUS_COLORS,
                                  len(items), any("wedge" in it for it in items))
    page_title = title or f"{layer_title}, {model_name}"
    h = f"{height}px" if isinstance(height, (int, float)) else str(height)
    return InteractiveMap(_page(page_title, data), h, page_title, counts)
