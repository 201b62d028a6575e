"""Interactive map for Jupyter: coverage overlay, villages with popups, sites (folium / Leaflet).

    m = coverage.interactive.interactive_map(result, villages=table)
    m            # in a notebook cell: a pannable, zoomable map
    m.save("coverage.html")

folium is an optional extra (``pip install "blankspot-coverage[map]"``); matplotlib (``[plot]``) colours
the raster. The map is a self-contained HTML document (the coverage PNG is embedded).
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

__all__ = ["interactive_map"]

_POPUP_FIELDS = (("kode", "code"), ("nama", "name"), ("status", "status"), ("signal_dbm", "signal (dBm)"),
                 ("p50_dbm", "median signal (dBm)"), ("usable_share", "usable share"),
                 ("best_server", "best server"), ("nearest_site", "nearest site"),
                 ("nearest_site_km", "nearest site (km)"), ("nama_kec", "kecamatan"), ("nama_kab", "kabupaten"))


def _folium():
    try:
        import folium
    except ImportError as exc:
        raise ImportError("coverage.interactive needs folium, an optional extra: "
                          "pip install 'blankspot-coverage[map]' (or pip install folium)") from exc
    return folium


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(float(v)):
            return "–"
        return f"{float(v):.3g}" if abs(float(v)) < 1 else f"{float(v):.1f}"
    return html.escape(str(v))


def _popup_html(row, columns) -> str:
    rows = []
    for col, label in _POPUP_FIELDS:
        if col in columns:
            rows.append(f"<tr><th style='text-align:left;padding-right:6px'>{label}</th><td>{_fmt(row[col])}</td></tr>")
    return "<table style='font-size:12px'>" + "".join(rows) + "</table>"


def interactive_map(result, villages=None, *, sites: bool | Any = True, kind: str = "signal", opacity: float = 0.7,
                    usable_dbm: float | None = None, tiles: str = "OpenStreetMap", zoom_start: int | None = None,
                    max_villages: int = 5000, height: str | int = "600px"):
    """A folium map of a coverage result.

    Parameters
    ----------
    result : CoverageResult
    villages : GeoDataFrame, optional
        Polygons or points; coloured by ``status`` when present, with a popup of code, name, status,
        signal and nearest site (the columns of :func:`coverage.assess_villages`).
    sites : bool or DataFrame
        The result's sites (default), other sites, or ``False``.
    kind : {"signal", "server"}
    opacity : float
        Opacity of the coverage overlay.
    tiles : str
        Base map (``"OpenStreetMap"``, ``"CartoDB positron"``, ...; needs internet to show).

    Returns
    -------
    folium.Map
        With layer control (coverage, villages, sites can be switched on and off).
    """
    folium = _folium()
    from branca.element import Element

    from .kmz import coverage_rgba
    from .plot import STATUS_COLORS

    rgba, (w, s, e, n), entries, title = coverage_rgba(result, kind, alpha=1.0, usable_dbm=usable_dbm)
    centre = ((s + n) / 2.0, (w + e) / 2.0)
    if zoom_start is None:
        span = max(e - w, n - s, 1e-6)
        zoom_start = int(np.clip(round(math.log2(360.0 / span)) + 1, 3, 16))
    m = folium.Map(location=centre, zoom_start=zoom_start, tiles=tiles, control_scale=True, height=height)
    folium.raster_layers.ImageOverlay(image=rgba, bounds=[[s, w], [n, e]], opacity=opacity, mercator_project=True,
                                      name=title, interactive=False, zindex=2).add_to(m)

    if villages is not None and len(villages):
        import geopandas as gpd

        v = villages if isinstance(villages, gpd.GeoDataFrame) else gpd.GeoDataFrame(villages)
        v = v.set_crs("EPSG:4326") if v.crs is None else v.to_crs("EPSG:4326")
        if len(v) > max_villages:
            v = v.iloc[:max_villages]
        cols = [c for c, _ in _POPUP_FIELDS if c in v.columns]
        keep = v[cols + [v.geometry.name]].copy()
        for c in cols:  # JSON-safe values
            if keep[c].dtype.kind == "f":
                keep[c] = keep[c].round(3)
            elif keep[c].dtype.kind not in "iub":
                keep[c] = keep[c].astype(str)
        keep["_popup"] = [_popup_html(row, cols) for _, row in keep.iterrows()]
        status_of = keep["status"].astype(str) if "status" in keep else None

        def style(feature):
            st = str(feature["properties"].get("status", "unknown")).lower()
            col = STATUS_COLORS.get(st, STATUS_COLORS["unknown"])
            return {"color": col, "weight": 2.5 if st == "blankspot" else 1.2, "fillColor": col,
                    "fillOpacity": 0.35 if st == "blankspot" else 0.12}

        layer_name = "villages"
        if status_of is not None:
            counts = status_of.value_counts()
            layer_name += " (" + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("covered", "partial", "blankspot")) + ")"
        folium.GeoJson(keep, name=layer_name, style_function=style,
                       popup=folium.GeoJsonPopup(fields=["_popup"], labels=False),
                       tooltip=folium.GeoJsonTooltip(fields=[c for c in ("nama", "status") if c in keep.columns] or None)
                       if any(c in keep.columns for c in ("nama", "status")) else None,
                       zoom_on_click=False).add_to(m)

    site_table = result.sites if sites is True else (sites if sites is not False else None)
    if site_table is not None and len(site_table) and {"lon", "lat"} <= set(site_table.columns):
        fg = folium.FeatureGroup(name=f"sites ({len(site_table)})")
        for _, row in site_table.iterrows():
            info = "<br>".join(f"<b>{k}</b>: {_fmt(row[k])}" for k in ("site_id", "technology", "height_m", "freq_mhz",
                                                                       "eirp_dbm", "azimuth_deg") if k in row.index)
            folium.CircleMarker([float(row["lat"]), float(row["lon"])], radius=6, color="black", weight=2,
                                fill=True, fill_color="white", fill_opacity=1.0, popup=folium.Popup(info, max_width=250),
                                tooltip=str(row.get("site_id", ""))).add_to(fg)
        fg.add_to(m)

    # a legend (plain HTML in the corner)
    items = "".join(
        f"<div><span style='display:inline-block;width:14px;height:10px;margin-right:5px;border:1px solid #555;"
        f"background:{c if c != 'none' else 'transparent'}'></span>{html.escape(lbl)}</div>" for lbl, c in entries)
    if villages is not None:
        items += "".join(f"<div><span style='display:inline-block;width:14px;height:3px;margin:0 5px 3px 0;"
                         f"background:{STATUS_COLORS[k]}'></span>village {k}</div>"
                         for k in ("covered", "partial", "blankspot"))
    legend = (f"<div style='position:absolute;bottom:30px;left:10px;z-index:9999;background:white;padding:6px 8px;"
              f"border:1px solid #999;border-radius:4px;font-size:12px'><b>{html.escape(title)}</b>{items}</div>")
    m.get_root().html.add_child(Element(legend))
    folium.LayerControl(collapsed=True).add_to(m)
    m.fit_bounds([[s, w], [n, e]])
    return m
