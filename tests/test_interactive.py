"""The interactive map works offline: one HTML file, nothing fetched, layers there in a real browser."""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import coverage  # noqa: E402
from coverage.render import interactive as I  # noqa: E402
from conftest import REPO  # noqa: E402

SAMPLES = REPO / "data" / "samples"
ASSETS = REPO / "src" / "coverage" / "render" / "assets" / "leaflet"


@pytest.fixture(scope="module")
def sample():
    terrain = coverage.open_terrain(SAMPLES / "terrain.tif")
    result = coverage.predict(terrain, SAMPLES / "sites.csv", model="p526", radius_m=8000, progress=False)
    table = coverage.assess_villages(coverage.read_villages(SAMPLES / "villages.geojson"), result)
    return result, table


class _Refs(HTMLParser):
    """Every tag with a src/href, and the text of <style> and <script> blocks."""

    def __init__(self):
        super().__init__()
        self.tags, self.styles, self.scripts, self._in = [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.styles.append(data)
        elif self._in == "script":
            self.scripts.append(data)


def _payload(page: str) -> dict:
    m = re.search(r"<script type='application/json' id='coverage-data'>(.*?)</script>", page, re.S)
    return json.loads(m.group(1))


def test_page_references_nothing_outside_itself(sample, tmp_path):
    result, table = sample
    m = I.interactive_map(result, table)
    page = Path(m.save(tmp_path / "map.html")).read_text(encoding="utf-8")
    p = _Refs()
    p.feed(page)
    scripts = [a for t, a in p.tags if t == "script"]
    assert len(scripts) == 3 and all("src" not in a for a in scripts)  # Leaflet, the data, the map: inline
    assert not [a for t, a in p.tags if t == "link"]
    for t, a in p.tags:
        for key in ("src", "href", "srcset", "data"):
            assert key not in a or a[key].startswith(("data:", "#")), (t, a)
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", "".join(p.styles))
    assert urls and all(u.startswith(("data:", "#")) for u in urls), urls  # Leaflet's icons as data URLs
    assert "sourceMappingURL" not in page and "@import" not in page
    assert "L.map(" in p.scripts[-1] and "window.L" in p.scripts[0]  # Leaflet itself is in the page
    data = _payload(page)
    # images inside the data (overlay, popups, legend) are data URLs too
    assert data["overlay"]["url"].startswith("data:image/png;base64,")
    blobs = json.dumps(data)
    assert not re.search(r"<img|src=|url\((?!data:)", blobs.replace(data["overlay"]["url"], ""))
    # the base map is offered but off: opening the page fetches nothing
    assert data["tiles"]["on"] is False and "needs internet" in data["tiles"]["name"]
    assert I.interactive_map(result, table, offline=False).html.count('"on":true') == 1
    assert _payload(I.interactive_map(result, table, tiles=None).html)["tiles"] is None
    zoomed = _payload(I.interactive_map(result, zoom_start=12).html)["zoom"]
    assert zoomed["level"] == 12 and data["zoom"] is None  # default: fit the result's extent


def test_vendored_leaflet_keeps_its_licence():
    lic = (ASSETS / "LICENSE").read_text()
    assert "BSD 2-Clause" in lic and "Agafonkin" in lic
    js, css = I.leaflet_assets()
    assert 'version="1.9.4"' in js.replace("'", '"').replace(" ", "")
    assert "images/" not in css


def test_layers_popups_and_legend(sample):
    result, table = sample
    m = I.interactive_map(result, table, height=450)
    assert m.counts == {"overlays": 1, "villages": len(table), "sites": len(result.sites)}
    data = _payload(m.html)
    feats = data["villages"]["geojson"]["features"]
    assert [f["properties"]["status"] for f in feats] == list(table["status"])
    # outlines: no fill changes the coverage colours under a village
    assert all(st["fillOpacity"] == 0 for st in data["villages"]["styles"].values())
    for f, (_, row) in zip(feats, table.iterrows()):
        pop = f["properties"]["popup"]
        assert f"usable share</th><td>{100 * row['usable_share']:.0f} %" in pop
        assert row["nama"] in pop
        if np.isfinite(row["signal_dbm"]):
            assert f"point signal RSRP</th><td>{row['signal_dbm']:.1f} dBm (at the village point)" in pop
        if np.isfinite(row["p50_dbm"]):
            assert f"area median RSRP</th><td>{row['p50_dbm']:.1f} dBm" in pop
            # beside each other: the area median row comes just before the point signal
            assert pop.index("area median") < pop.index("point signal")
    assert [s["id"] for s in data["sites"]["items"]] == list(result.sites["site_id"])
    n_sector = int(np.isfinite(result.sites["azimuth_deg"]).sum())
    assert sum("wedge" in s for s in data["sites"]["items"]) == n_sector
    legend = data["legend"]
    assert "ITU-R P.526 terrain diffraction" in legend and "p526" not in legend
    assert "no usable signal" in legend and "sector (azimuth)" in legend
    for status, n in table["status"].value_counts().items():
        assert f"{status} ({n})" in legend
    # notebook view: an iframe the cell's width, the page inside it
    rep = m._repr_html_()
    assert rep.startswith("<iframe srcdoc=") and "width:100%" in rep and "height:450px" in rep
    assert html.unescape(rep.split('srcdoc="', 1)[1].split('" title=', 1)[0]) == m.html


def test_overlay_png_matches_the_result(sample):
    from PIL import Image

    result, table = sample
    data = _payload(I.interactive_map(result, table, opacity=0.6).html)
    png = base64.b64decode(data["overlay"]["url"].split(",", 1)[1])
    img = np.asarray(Image.open(io.BytesIO(png)))
    veil = np.all(img[..., :3] == I.NO_SIGNAL_RGB, axis=-1)
    usable = float((result.best_dbm >= -110.0).mean())
    assert abs(float(veil.mean()) - (1.0 - usable)) < 0.03  # the grey veil where there is no usable signal
    assert data["overlay"]["opacity"] == 0.6
    # the legend swatch of "no usable signal" is the veil at the overlay's opacity over the map background
    a = I.NO_SIGNAL_ALPHA * 0.6
    assert f"rgba(110,110,110,{a:.3f})" in data["legend"] and I.BACKGROUND in data["legend"]
    # best server: one distinct colour per site, the markers filled with their site's colour
    srv = _payload(I.interactive_map(result, table, kind="server").html)
    fills = [s["fill"] for s in srv["sites"]["items"]]
    assert len(set(fills)) == len(fills)


def test_mercator_rows():
    h = 1000
    img = np.arange(h, dtype=np.uint8 if h < 256 else np.uint16).reshape(h, 1, 1).repeat(4, axis=2)
    out = I._mercator_rows(img, -60.0, 60.0)
    # symmetric bounds: the equator stays in the middle; high latitudes are stretched in Mercator
    assert abs(int(out[h // 2, 0, 0]) - h // 2) <= 1
    assert out[10, 0, 0] < 10  # near the top, rows come from nearer the north edge
    near_eq = I._mercator_rows(img, -0.6, -0.3)  # a Samarinda-sized box: almost the identity
    assert np.max(np.abs(near_eq[:, 0, 0].astype(int) - np.arange(h))) <= 1


def test_bad_arguments(sample, tmp_path):
    result, table = sample
    with pytest.raises(coverage.InputError, match="tiles"):
        I.interactive_map(result, tiles="not a url")
    with pytest.raises(coverage.InputError, match="opacity"):
        I.interactive_map(result, opacity=2.0)
    with pytest.raises(coverage.InputError):
        I.interactive_map(result, kind="nonsense")
    out = tmp_path / "m.html"
    out.write_text("old")
    with pytest.raises(TypeError):
        I.InteractiveMap(None).save(out)  # a failed write leaves the old file and no temporary file
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["m.html"]


# ------------------------------------------------------------------ a real browser, no network
def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome-headless-shell", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class _Sink:
    """A loopback 'proxy' that counts the requests a page makes and answers none of them."""

    def __init__(self):
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    self.requests.append(conn.recv(512).split(b"\r\n")[0].decode("latin-1"))
                except OSError:
                    self.requests.append("?")

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


def _dump_dom(browser, page, proxy_port, size=(1000, 700)):
    # no network: every request goes to a loopback sink that counts it and answers nothing
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--proxy-server=http://127.0.0.1:{proxy_port}", "--proxy-bypass-list=<-loopback>",
           f"--window-size={size[0]},{size[1]}", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]
    env = dict(os.environ, HOME=str(page.parent))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, env=env)


# the browser's own update / time / account checks, not the page's
_BROWSER_OWN = re.compile(r"(clients\d*\.google\.com|update\.googleapis\.com|accounts\.google\.com|\.gvt1\.com)")


def _page_requests(sink):
    return [r for r in sink.requests if not _BROWSER_OWN.search(r)]


@pytest.fixture()
def sink():
    s = _Sink()
    yield s
    s.close()


def test_browser_offline_renders_layers(sample, tmp_path, sink):
    browser = _browser()
    if browser is None:
        pytest.skip("no headless browser installed (apt-get install chromium); the page checks above still ran")
    result, table = sample
    page = tmp_path / "map.html"
    I.interactive_map(result, table).save(page)
    run = _dump_dom(browser, page, sink.port)
    dom = run.stdout
    assert "leaflet-container" in dom, run.stderr[-2000:]  # Leaflet ran
    classes = re.findall(r'class="([^"]*)"', dom)
    n = lambda name: sum(1 for c in classes if name in c.split())  # noqa: E731
    assert n("cov-overlay") == 1
    assert n("cov-village") == len(table)
    assert n("cov-site") == len(result.sites)
    assert n("cov-legend") == 1 and n("leaflet-control-layers") == 1 and n("leaflet-control-scale") == 1
    counts = json.loads(re.search(r'data-counts="([^"]*)"', dom).group(1).replace("&quot;", '"'))
    assert counts == {"overlays": 1, "villages": len(table), "sites": len(result.sites)}
    # the legend sits in the map's corner, not over the scale bar (opposite bottom corners)
    assert re.search(r'leaflet-bottom leaflet-right"><div class="cov-legend', dom)
    assert re.search(r'leaflet-bottom leaflet-left"><div class="leaflet-control-scale', dom)
    assert _page_requests(sink) == []  # the page asked the network for nothing
    # the check can see a fetch: the same page with its base map on asks for tiles
    online = tmp_path / "online.html"
    I.interactive_map(result, table, offline=False).save(online)
    _dump_dom(browser, online, sink.port)
    assert any("tile.openstreetmap.org" in r for r in sink.requests), sink.requests


# 500 px: the narrowest window headless Chromium opens
@pytest.mark.parametrize("size", [(1280, 800), (1000, 700), (800, 450), (500, 600)])
def test_browser_legend_inside_the_map_and_off_the_scale_bar(sample, tmp_path, sink, size):
    """At common window sizes the legend is inside the map frame and covers no other control."""
    browser = _browser()
    if browser is None:
        pytest.skip("no headless browser installed (apt-get install chromium)")
    result, table = sample
    page = tmp_path / "map.html"
    I.interactive_map(result, table).save(page)
    dom = _dump_dom(browser, page, sink.port, size=size).stdout
    ctl = json.loads(re.search(r'data-controls="([^"]*)"', dom).group(1).replace("&quot;", '"'))
    mx0, my0, mx1, my1 = ctl["map"]
    lx0, ly0, lx1, ly1 = ctl["legend"]
    assert mx0 <= lx0 < lx1 <= mx1 and my0 <= ly0 < ly1 <= my1, ctl  # inside the map frame
    for other in ("scale", "layers", "zoom"):
        ox0, oy0, ox1, oy1 = ctl[other]
        assert lx1 <= ox0 or ox1 <= lx0 or ly1 <= oy0 or oy1 <= ly0, (other, ctl)
    # the map fills the page's width (a notebook cell's, in its iframe); the window's height less the browser's bar
    assert mx1 - mx0 == size[0] and my1 - my0 >= size[1] - 100

