"""KMZ for Google Earth and Cloud-Optimized GeoTIFF: the files open and hold what they should."""

from __future__ import annotations

import io
import os
import re
import zipfile
from xml.etree import ElementTree as ET

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import rasterio  # noqa: E402
import rasterio.warp  # noqa: E402

import coverage  # noqa: E402
from coverage import kmz  # noqa: E402
from conftest import REPO  # noqa: E402

SAMPLES = REPO / "data" / "samples"
NS = {"k": "http://www.opengis.net/kml/2.2"}


@pytest.fixture(scope="module")
def sample():
    terrain = coverage.open_terrain(SAMPLES / "terrain.tif")
    result = coverage.predict(terrain, SAMPLES / "sites.csv", model="p526", radius_m=8000, progress=False)
    table = coverage.assess_villages(coverage.read_villages(SAMPLES / "villages.geojson"), result)
    return result, table


def _open(path):
    zf = zipfile.ZipFile(path)
    assert zf.testzip() is None
    root = ET.fromstring(zf.read("doc.kml"))
    return zf, root


def test_kmz_holds_overlay_legend_and_placemarks(sample, tmp_path):
    from PIL import Image

    result, table = sample
    out = kmz.write_kmz(tmp_path / "cov.kmz", result, villages=table)
    zf, root = _open(out)
    assert zf.namelist()[0] == "doc.kml"  # Google Earth reads the first KML
    assert {"files/coverage.png", "files/legend.png"} <= set(zf.namelist())
    # the ground overlay: the PNG it names, over the result's lon/lat bounds
    go = root.find(".//k:GroundOverlay", NS)
    assert go.find("k:Icon/k:href", NS).text == "files/coverage.png"
    box = {t: float(go.find(f"k:LatLonBox/k:{t}", NS).text) for t in ("north", "south", "east", "west")}
    w, s, e, n = rasterio.warp.transform_bounds(result.crs.to_wkt(), "EPSG:4326", *result.bounds)
    assert box["west"] == pytest.approx(w, abs=1e-3) and box["east"] == pytest.approx(e, abs=1e-3)
    assert box["south"] == pytest.approx(s, abs=1e-3) and box["north"] == pytest.approx(n, abs=1e-3)
    img = Image.open(io.BytesIO(zf.read("files/coverage.png")))
    assert img.mode == "RGBA"
    alpha = np.asarray(img)[..., 3]
    usable = float((result.best_dbm >= -110).mean())
    assert abs(float((alpha > 0).mean()) - usable) < 0.05  # opaque where usable, transparent elsewhere
    # the legend as a screen overlay
    so = root.find(".//k:ScreenOverlay", NS)
    assert so.find("k:Icon/k:href", NS).text == "files/legend.png"
    assert Image.open(io.BytesIO(zf.read("files/legend.png"))).size[0] > 100
    # placemarks: every site and every village, villages styled by their status
    folders = {f.find("k:name", NS).text: f for f in root.iter(f"{{{NS['k']}}}Folder")}
    sites_folder = next(f for name, f in folders.items() if name.startswith("Sites"))
    site_pm = sites_folder.findall("k:Placemark", NS)
    assert [p.find("k:name", NS).text for p in site_pm] == list(result.sites["site_id"])
    sector = [p for p in site_pm if p.find("k:MultiGeometry/k:Polygon", NS) is not None]
    assert len(sector) == int(np.isfinite(result.sites["azimuth_deg"]).sum())
    village_pm = [p for name, f in folders.items() if name.startswith("Villages")
                  for p in f.iter(f"{{{NS['k']}}}Placemark")]
    assert len(village_pm) == len(table)
    by_name = {}
    for p in village_pm:
        data = {d.get("name"): d.find("k:value", NS).text for d in p.findall("k:ExtendedData/k:Data", NS)}
        assert p.find("k:styleUrl", NS).text == f"#village_{data['status']}"
        assert p.find(".//k:Polygon/k:outerBoundaryIs/k:LinearRing/k:coordinates", NS) is not None
        by_name[data["kode"]] = data
    for _, row in table.iterrows():
        assert by_name[row["kode"]]["status"] == row["status"]
        assert by_name[row["kode"]]["nearest_site"] == str(row["nearest_site"])
    styles = {s.get("id") for s in root.iter(f"{{{NS['k']}}}Style")}
    assert {"village_covered", "village_partial", "village_blankspot", "site"} <= styles


def test_kmz_server_kind_and_atomic_write(sample, tmp_path):
    result, _ = sample
    path = tmp_path / "cov.kmz"
    path.write_bytes(b"old")
    kmz.write_kmz(path, result, kind="server", sites=False)
    zf, root = _open(path)
    assert root.find(".//k:GroundOverlay/k:name", NS).text.startswith("best server")
    assert not any(f.find("k:name", NS).text.startswith("Sites") for f in root.iter(f"{{{NS['k']}}}Folder"))
    before = path.read_bytes()
    with pytest.raises(coverage.InputError):
        kmz.write_kmz(path, result, kind="nonsense")
    assert path.read_bytes() == before  # a failed write leaves the old file
    assert [p.name for p in tmp_path.iterdir()] == ["cov.kmz"]  # and no temporary file


def test_cog_validates(sample, tmp_path):
    result, _ = sample
    path = kmz.write_cog(result, tmp_path / "cov.tif")
    ok, problems = kmz.validate_cog(path)
    assert ok, problems
    with rasterio.open(path) as src:
        assert src.driver == "GTiff"
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.profile.get("tiled") and src.block_shapes[0] == (256, 256)
        assert src.overviews(1)  # 300 x 300 > one block: internal overviews
        assert src.descriptions[0] == "best_dbm"
        np.testing.assert_array_equal(np.isnan(src.read(1)), np.isnan(result.best_dbm))
    try:
        from rio_cogeo.cogeo import cog_validate
    except ImportError:
        pass
    else:  # the stricter validator, where it is installed (not a dependency)
        valid, errors, _ = cog_validate(str(path))
        assert valid, errors
    # a plain tiled GeoTIFF is not a COG
    plain = result.to_geotiff(tmp_path / "plain.tif")
    ok, problems = kmz.validate_cog(plain)
    assert not ok and any("LAYOUT" in p for p in problems)
    assert os.path.exists(plain)


def test_kmz_works_without_the_internet(sample, tmp_path):
    """Every file the KML names is inside the KMZ, icons included; entries are world-readable."""
    from PIL import Image

    result, table = sample
    zf, root = _open(kmz.write_kmz(tmp_path / "cov.kmz", result, villages=table))
    names = set(zf.namelist())
    hrefs = [h.text for h in root.iter(f"{{{NS['k']}}}href")]
    assert hrefs and all(h in names for h in hrefs), [h for h in hrefs if h not in names]
    text = zf.read("doc.kml").decode()
    assert not [u for u in re.findall(r"https?://[^\s\"<]+", text) if "opengis.net/kml" not in u]
    # the icons: PNGs drawn by the project, one for sites and one per village status
    icons = {h for h in hrefs if h.startswith("files/icons/")}
    assert {kmz.ICON_SITE, kmz.ICON_VILLAGE.format(status="blankspot")} <= icons
    for name in icons:
        img = Image.open(io.BytesIO(zf.read(name)))
        assert img.format == "PNG" and img.mode == "RGBA"
        a = np.asarray(img)[..., 3]
        assert a[0, 0] == 0 and a.max() == 255  # transparent around a drawn symbol
    red = np.asarray(Image.open(io.BytesIO(zf.read(kmz.ICON_VILLAGE.format(status="blankspot")))).convert("RGB"))
    centre = red[red.shape[0] // 2, red.shape[1] // 2]
    assert centre[0] > 200 and centre[1] < 60  # the blankspot dot is red
    # world-readable entries (rw-r--r--), regular files
    for info in zf.infolist():
        mode = info.external_attr >> 16
        assert info.create_system == 3 and mode & 0o444 == 0o444 and mode & 0o170000 == 0o100000, info
    # village polygons are outlines (no fill over the coverage) with a clickable dot inside
    for st in root.iter(f"{{{NS['k']}}}Style"):
        if st.get("id", "").startswith("village_"):
            assert st.find("k:PolyStyle/k:fill", NS).text == "0"
    pm = next(p for p in root.iter(f"{{{NS['k']}}}Placemark") if p.find("k:styleUrl", NS).text.startswith("#village"))
    assert pm.find("k:MultiGeometry/k:Point", NS) is not None and pm.find(".//k:Polygon", NS) is not None
    # the model as a planner reads it
    assert "ITU-R P.526 terrain diffraction" in root.find(".//k:GroundOverlay/k:name", NS).text


def test_kmz_legend_readable_at_native_size(sample, tmp_path):
    """Google Earth shows the legend at its pixel size: 12-pt text on a 96-dpi screen is 16 px."""
    from PIL import Image

    result, table = sample
    zf, root = _open(kmz.write_kmz(tmp_path / "cov.kmz", result, villages=table))
    so = root.find(".//k:ScreenOverlay", NS)
    assert so.find("k:size", NS).get("x") == "0" and so.find("k:size", NS).get("y") == "0"  # native size
    assert kmz.LEGEND_FONT_PT * kmz.LEGEND_DPI / 72.0 >= 16.0
    img = np.asarray(Image.open(io.BytesIO(zf.read("files/legend.png"))).convert("L"))
    # measure the text: rows of dark pixels form one band per legend line; a band is the glyphs' height
    dark = (img < 100).any(axis=1)
    edges = np.flatnonzero(np.diff(dark.astype(int)))
    bands = np.diff(edges)[::2]
    n_rows = 5 + 3 + 2  # classes + no signal, village statuses, site and sector (title apart)
    assert len(bands) >= n_rows
    # a line's ink (ascenders to descenders, or the swatch) is ~16 px at 12 pt; 10 pt gives ~14, 8 pt ~11
    assert np.median(bands) >= 15
