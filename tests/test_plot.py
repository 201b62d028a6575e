"""Plots render headlessly and draw what they claim: map layers, profile geometry, indicator bars."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import coverage  # noqa: E402
from coverage import plot as P  # noqa: E402
from conftest import REPO  # noqa: E402

SAMPLES = REPO / "data" / "samples"


@pytest.fixture(scope="module")
def sample():
    terrain = coverage.open_terrain(SAMPLES / "terrain.tif")
    result = coverage.predict(terrain, SAMPLES / "sites.csv", model="p526", radius_m=8000, progress=False)
    villages = coverage.read_villages(SAMPLES / "villages.geojson")
    table = coverage.assess_villages(villages, result)
    return terrain, result, table


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


# ------------------------------------------------------------------ profile geometry, numerically
def test_profile_geometry_flat_earth_terms():
    d = np.linspace(0.0, 10_000.0, 101)
    z = np.full(d.size, 10.0)
    g = P.profile_geometry(d, z, h_tx_m=30.0, h_rx_m=1.5, freq_mhz=900.0, k_factor=4.0 / 3.0)
    lam = 299.792458 / 900.0
    ae = 4.0 / 3.0 * 6_371_000.0
    # line of sight: straight between the antenna tips
    np.testing.assert_allclose(g.los_m, 40.0 + (11.5 - 40.0) * d / 10_000.0, atol=1e-9)
    assert g.tx_height_m == 40.0 and g.rx_height_m == 11.5
    # earth bulge d1 d2 / (2 k R): 1.47 m in the middle of 10 km
    np.testing.assert_allclose(g.bulge_m, d * (10_000.0 - d) / (2 * ae), rtol=1e-12)
    assert g.bulge_m[50] == pytest.approx(25e6 / (2 * ae)) and 1.4 < g.bulge_m[50] < 1.5
    # first Fresnel zone r1 = sqrt(lambda d1 d2 / d): 28.9 m in the middle at 900 MHz
    np.testing.assert_allclose(g.fresnel_radius_m, np.sqrt(lam * d * (10_000.0 - d) / 10_000.0), rtol=1e-12)
    assert g.fresnel_radius_m[50] == pytest.approx(math.sqrt(lam * 2500.0), rel=1e-12)
    assert g.fresnel_radius_m[0] == 0.0 and g.fresnel_radius_m[-1] == 0.0
    np.testing.assert_allclose(g.terrain_m, 10.0 + g.bulge_m)
    assert g.los_clear
    assert g.bullington_point is None  # line of sight: no Bullington point
    # clearance relative to r1 at the worst interior point
    inner = slice(1, -1)
    assert g.fresnel_clear == pytest.approx(np.min((g.los_m - g.terrain_m)[inner] / g.fresnel_radius_m[inner]))


def test_profile_geometry_knife_edge():
    d = np.linspace(0.0, 8_000.0, 81)
    z = np.zeros(d.size)
    z[30] = 80.0  # a ridge at 3 km
    g = P.profile_geometry(d, z, h_tx_m=40.0, h_rx_m=10.0, freq_mhz=1800.0)
    lam = 299.792458 / 1800.0
    h_over = g.terrain_m[30] - g.los_m[30]
    r1 = math.sqrt(lam * 3000.0 * 5000.0 / 8000.0)
    assert g.dominant_index == 30
    # nu = sqrt(2) * h / r1 (P.526 eq. 26 in terms of the Fresnel radius)
    assert g.nu_max == pytest.approx(math.sqrt(2.0) * h_over / r1, rel=1e-9)
    assert not g.los_clear
    # one edge: both horizon rays touch it, so the Bullington point is the edge itself
    assert g.tx_horizon_index == 30 and g.rx_horizon_index == 30
    dbp, hbp = g.bullington_point
    assert dbp == pytest.approx(3000.0, rel=1e-9) and hbp == pytest.approx(g.terrain_m[30], rel=1e-9)
    # the single-edge loss J(nu) is what the p526 Bullington term sees for this profile
    from coverage.propagation import knife_edge_loss_db

    assert float(knife_edge_loss_db(g.nu_max)) > 6.0


def test_profile_geometry_bad_input():
    with pytest.raises(coverage.InputError):
        P.profile_geometry([0, 1], [0, 0], h_tx_m=1, h_rx_m=1, freq_mhz=900)
    with pytest.raises(coverage.InputError):
        P.profile_geometry([0, 2, 1], [0, 0, 0], h_tx_m=1, h_rx_m=1, freq_mhz=900)


def test_plot_profile_draws_the_geometry(sample, tmp_path):
    terrain, result, table = sample
    site = result.sites.iloc[3]
    village = table.sort_values("signal_dbm").iloc[0]
    ax = P.plot_profile(terrain, site, village, models=("fspl", "hata", "p526", "itm"))
    g = ax.profile_geometry
    lines = {ln.get_gid(): ln for ln in ax.get_lines() if ln.get_gid()}
    los = lines["los"]
    np.testing.assert_allclose(los.get_xdata(), g.distance_m / 1000.0)
    np.testing.assert_allclose(los.get_ydata(), g.los_m)
    np.testing.assert_allclose(lines["terrain"].get_ydata(), g.terrain_m)
    # the Fresnel band spans los +- r1
    band = next(c for c in ax.collections if c.get_gid() == "fresnel")
    verts = band.get_paths()[0].vertices
    ys = verts[:, 1]
    assert ys.min() == pytest.approx(np.min(g.los_m - g.fresnel_radius_m), abs=1e-6)
    assert ys.max() == pytest.approx(np.max(g.los_m + g.fresnel_radius_m), abs=1e-6)
    # the model's loss: the p526 value in the title matches the library's exact profile loss
    from coverage.propagation.p526 import path_loss_db

    d, z = terrain.profile((site["lon"], site["lat"]), (village["point_lon"], village["point_lat"]))
    losses = ax.profile_losses
    assert set(losses) >= {"fspl", "hata", "p526", "itm", "p526_diffraction"}
    assert f"{losses['p526']:.1f} dB" in ax.get_title()
    assert losses["p526"] >= losses["fspl"] - 1e-9
    assert np.isfinite(losses["itm"])
    if g.bullington_point is not None:
        assert "bullington_point" in lines and "horizon_rays" in lines
    assert "dominant_edge" in lines
    exact = path_loss_db(d, z, h_tx_m=float(site["height_m"]), h_rx_m=1.5, freq_mhz=float(site["freq_mhz"]))
    assert losses["p526"] == pytest.approx(exact, abs=1e-9)
    ax.figure.savefig(tmp_path / "profile.png", dpi=60)
    assert (tmp_path / "profile.png").stat().st_size > 10_000


def test_plot_profile_legend_and_unclipped_ends(sample):
    terrain, result, table = sample
    site = result.sites.iloc[3]
    village = table.sort_values("signal_dbm").iloc[0]
    ax = P.plot_profile(terrain, site, village, models=("fspl", "p526"))
    leg_labels = {t.get_text() for t in ax.get_legend().get_texts()}
    for ln in ax.get_lines():  # every marker drawn has a legend entry
        if ln.get_marker() not in (None, "None", "", " ") and len(ln.get_xdata()):
            assert not ln.get_label().startswith("_") and ln.get_label() in leg_labels, ln.get_gid()
    assert any(lbl.startswith("site antenna (mast") for lbl in leg_labels)
    assert any(lbl.startswith("receiver (1.5 m") for lbl in leg_labels)
    # the end symbols are not clipped: inside the view with margin, and drawn unclipped
    lo, hi = ax.get_xlim()
    L = ax.profile_geometry.length_m / 1000.0
    assert lo < 0 and hi > L
    ends = {ln.get_gid(): ln for ln in ax.get_lines() if ln.get_gid() in ("tx_antenna", "rx_antenna")}
    assert set(ends) == {"tx_antenna", "rx_antenna"} and not any(ln.get_clip_on() for ln in ends.values())
    assert ax.get_ylim()[1] > ax.profile_geometry.tx_height_m and ax.get_ylim()[1] > ax.profile_geometry.rx_height_m
    text = next(t for t in ax.texts if t.get_gid() == "losses").get_text()
    assert "ITU-R P.526 terrain diffraction" in text and "free space" in text


def test_plot_profile_accepts_tuples(sample):
    terrain, result, _ = sample
    s = result.sites.iloc[0]
    ax = P.plot_profile(terrain, (s["lon"], s["lat"]), (s["lon"] + 0.02, s["lat"] + 0.01), freq_mhz=900, h_tx_m=30)
    assert "900 MHz" in ax.get_title()
    with pytest.raises(coverage.InputError):
        P.plot_profile(terrain, (s["lon"], s["lat"]), (s["lon"] + 0.02, s["lat"]))  # no frequency


# ------------------------------------------------------------------ maps
def test_signal_classes():
    c = P.signal_classes("4g")
    assert c.bounds[:4] == (-110.0, -100.0, -90.0, -80.0)
    assert c.names == ("poor", "fair", "good", "excellent")
    np.testing.assert_array_equal(c.classify([-120, -105, -95, -85, -60, np.nan]), [-1, 0, 1, 2, 3, -1])
    assert P.signal_classes("4g", usable_dbm=-95).bounds[:3] == (-95.0, -90.0, -80.0)
    assert P.metric_label("rsrp_dbm") == "RSRP (dBm)"
    rgba = P.colorize(np.array([[-120.0, -70.0]]), c)
    assert rgba[0, 0, 3] == 0 and rgba[0, 1, 3] > 0


def test_plot_coverage_signal(sample, tmp_path):
    terrain, result, table = sample
    ax = P.plot_coverage(result, terrain, table)
    gids = {im.get_gid() for im in ax.get_images()}
    assert {"hillshade", "coverage"} <= gids
    cov = next(im for im in ax.get_images() if im.get_gid() == "coverage")
    arr = cov.get_array()
    # uncoloured exactly where the signal is below the usable level
    below = ~(result.best_dbm >= -110.0)
    np.testing.assert_array_equal(np.ma.getmaskarray(arr), below)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    counts = table["status"].value_counts()
    for status, n in counts.items():
        assert any(lbl.startswith(f"{status} ({n} village") for lbl in labels), labels
    assert any("no usable signal" in lbl for lbl in labels)
    artists = {a.get_gid() for a in ax.get_children()}
    assert "scale_bar" in artists and "north_arrow" in artists
    # sector sites drawn as wedges, omni sites as triangles
    n_sector = int(np.isfinite(result.sites["azimuth_deg"]).sum())
    assert sum(1 for p in ax.patches if p.get_gid() == "sector") == n_sector
    # the colour bar is in the metric, ticks on the class bounds
    cbar_ax = [a for a in ax.figure.axes if a is not ax][0]
    assert "RSRP" in cbar_ax.get_ylabel()
    np.testing.assert_allclose(cbar_ax.get_yticks(), [-110, -100, -90, -80])
    ax.figure.savefig(tmp_path / "map.png", dpi=60)
    assert (tmp_path / "map.png").stat().st_size > 20_000


def test_sector_wedge_points_to_azimuth():
    poly = P._sector_polygon(0.0, 0.0, 90.0, 60.0, 1000.0, 1.0, 1.0)
    tip = poly[1:-1]
    assert np.all(tip[:, 0] > 0)  # east
    mid = tip[len(tip) // 2]
    assert mid[0] == pytest.approx(1000.0, rel=1e-2) and abs(mid[1]) < 30


def test_plot_coverage_server_and_geographic(sample):
    terrain, result, table = sample
    ax = P.plot_coverage(result, terrain, table, kind="server")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lbl.startswith("served by BTS-") for lbl in labels)
    # a smooth-earth result on a lon/lat grid, villages without status
    import geopandas as gpd

    b = terrain.bounds_lonlat
    r2 = coverage.predict(None, SAMPLES / "sites.csv", model="fspl", radius_m=5000, bounds=b, resolution_m=250,
                          progress=False)
    assert r2.crs.is_geographic
    ax2 = P.plot_coverage(r2, None, gpd.read_file(SAMPLES / "villages.geojson"))
    assert ax2.get_aspect() == pytest.approx(1 / math.cos(math.radians((b[1] + b[3]) / 2)), rel=1e-3)
    assert any("village (24)" in t.get_text() for t in ax2.get_legend().get_texts())
    with pytest.raises(coverage.InputError):
        P.plot_coverage(result, kind="nonsense")


def _extent(artist, renderer):
    return artist.get_window_extent(renderer)


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_legend_never_hides_data_and_shows_wedges(sample):
    terrain, result, table = sample
    for kind in ("signal", "server"):
        ax = P.plot_coverage(result, terrain, table, kind=kind)
        fig = ax.figure
        fig.draw_without_rendering()
        r = fig.canvas.get_renderer()
        leg = ax.get_legend()
        assert not _overlap(_extent(leg, r), ax.get_window_extent(r))  # outside the map frame
        assert _extent(leg, r).y1 <= ax.xaxis.label.get_window_extent(r).y0 + 1  # below the axis label
        labels = [t.get_text() for t in leg.get_texts()]
        assert any("sector antenna" in lbl for lbl in labels)
        assert any(lbl.startswith("blankspot") and "hatched" in lbl for lbl in labels)
        assert "ITU-R P.526 terrain diffraction" in ax.get_title()
        plt.close(fig)


def test_best_server_colours_differ_from_village_statuses():
    cols = P.server_colors(12)
    assert len(set(cols)) == 12
    from matplotlib.colors import to_rgb

    for c in cols:
        for st in ("covered", "partial", "blankspot"):
            d = np.abs(np.subtract(to_rgb(c), to_rgb(P.STATUS_COLORS[st]))).sum()
            assert d > 0.35, (c, st)


def test_village_labels_by_priority_without_collisions(sample):
    terrain, result, table = sample
    ax = P.plot_coverage(result, terrain, table, village_labels=True)
    fig = ax.figure
    fig.draw_without_rendering()
    r = fig.canvas.get_renderer()
    placed = ax.village_labels
    names = [t.get_text() for t in placed]
    wanted = table[table["status"].isin(["blankspot", "partial"])]
    assert set(names) <= set(wanted["nama"])
    assert set(table.loc[table["status"] == "blankspot", "nama"]) <= set(names)  # the first priority all placed
    assert len(names) + ax.village_labels_skipped == len(wanted)
    assert len(names) >= 0.8 * len(wanted)
    boxes = [_extent(t, r) for t in placed]
    frame = ax.get_window_extent(r)
    for i, a in enumerate(boxes):
        assert frame.x0 <= a.x0 and a.x1 <= frame.x1 and frame.y0 <= a.y0 and a.y1 <= frame.y1
        assert not any(_overlap(a, b) for b in boxes[i + 1:]), names[i]
    site_labels = [c for c in ax.get_children() if type(c).__name__ == "Annotation" and c.get_gid() != "village_label"
                   and c.get_gid() != "north_arrow"]
    assert site_labels and not any(_overlap(a, _extent(s, r)) for a in boxes for s in site_labels)
    plt.close(fig)
    ax_all = P.plot_coverage(result, terrain, table, village_labels="all")
    assert len(ax_all.village_labels) > len(placed)
    # dense labels: a crowded map skips names rather than overlapping them
    ax_small = P.plot_coverage(result, terrain, table, village_labels="all", figsize=(5, 4.5), legend=False)
    ax_small.figure.draw_without_rendering()
    rs = ax_small.figure.canvas.get_renderer()
    b2 = [_extent(t, rs) for t in ax_small.village_labels]
    assert ax_small.village_labels_skipped > 0
    assert not any(_overlap(a, b) for i, a in enumerate(b2) for b in b2[i + 1:])


def test_graticule_labels_are_true_coordinates(sample):
    from pyproj import Transformer

    terrain, result, table = sample
    assert not result.crs.is_geographic
    ax = P.plot_coverage(result, terrain, table, graticule=True)
    inv = Transformer.from_crs(result.crs, "EPSG:4326", always_xy=True)
    y0, x0 = ax.get_ylim()[0], ax.get_xlim()[0]
    xt, yt = ax.get_xticks(), ax.get_yticks()
    assert len(xt) >= 3 and len(yt) >= 3
    for x, lbl in zip(xt, [t.get_text() for t in ax.get_xticklabels()]):
        lon, _ = inv.transform(x, y0)
        assert lbl.endswith("°E") and float(lbl[:-2]) == pytest.approx(lon, abs=1e-4)
    for y, lbl in zip(yt, [t.get_text() for t in ax.get_yticklabels()]):
        _, lat = inv.transform(x0, y)
        assert lbl.endswith("°S") and -float(lbl[:-2]) == pytest.approx(lat, abs=1e-4)
    # one line per meridian and parallel, at least those that reach the bottom and left edges
    assert sum(1 for ln in ax.get_lines() if ln.get_gid() == "graticule") >= len(xt) + len(yt)
    assert "longitude" in ax.get_xlabel()


def test_hillshade_range():
    z = np.add.outer(np.arange(50.0), np.arange(50.0)) * 3
    hs = P.hillshade(z, (30.0, 30.0))
    assert hs.shape == z.shape and np.nanmin(hs) >= 0 and np.nanmax(hs) <= 1


# ------------------------------------------------------------------ indicators
def test_plot_indicator_from_indicator_and_village_table(sample, tmp_path):
    _, _, table = sample
    ind = coverage.indicator(table, level="kecamatan")
    fig = P.plot_indicator(ind, level="kecamatan")
    a1 = fig.axes[0]
    # stacked bars: the widths per status add up to the indicator's counts
    for status in ("covered", "partial", "blankspot"):
        bars = [p for p in a1.patches if p.get_gid() == f"bar_{status}"]
        assert sum(b.get_width() for b in bars) == int(ind[status].sum())
    assert f"{int(ind['blankspot'].sum())} of {int(ind[['covered', 'partial', 'blankspot']].to_numpy().sum())}" in \
        fig._suptitle.get_text()
    fig2 = P.plot_indicator(table, level="kecamatan")  # counted from the village table itself
    widths = sorted(round(p.get_width()) for p in fig2.axes[0].patches if p.get_gid() == "bar_covered")
    assert widths == sorted(int(x) for x in ind["covered"])
    fig.savefig(tmp_path / "ind.png", dpi=60)
    with pytest.raises(coverage.InputError):
        P.plot_indicator(ind[["kode", "nama"]])


# ------------------------------------------------------------------ progress, CLI (interactive: test_interactive.py)
def test_progress_silent_by_default():
    from coverage.progress import progress

    items = [1, 2, 3]
    assert progress(items, enabled=False) is items
    assert list(progress(items, enabled=True, delay=100)) == items


def test_cli_map_kmz_profile(tmp_path, capsys):
    from coverage.cli import main

    s = str(SAMPLES)
    common = ["--terrain", f"{s}/terrain.tif", "--sites", f"{s}/sites.csv"]
    assert main(["map", *common, "--villages", f"{s}/villages.geojson", "--radius", "6000", "--no-progress",
                 "--out", str(tmp_path / "map.png"), "--dpi", "50"]) == 0
    assert (tmp_path / "map.png").stat().st_size > 10_000
    assert main(["predict", *common, "--radius", "6000", "--no-progress", "--out", str(tmp_path / "c.tif")]) == 0
    assert main(["kmz", "--coverage", str(tmp_path / "c.tif"), "--sites", f"{s}/sites.csv", "--villages",
                 f"{s}/villages.geojson", "--out", str(tmp_path / "c.kmz")]) == 0
    assert (tmp_path / "c.kmz").exists()
    assert main(["profile", *common, "--site", "BTS-04", "--to", "116.76,-0.37", "--models", "fspl,p526",
                 "--out", str(tmp_path / "p.png"), "--dpi", "50"]) == 0
    out = capsys.readouterr().out
    assert '"losses_db"' in out and '"villages"' in out
    assert main(["profile", *common, "--site", "NOPE", "--to", "116.76,-0.37", "--out", str(tmp_path / "x.png")]) == 2


def test_cli_map_labels_graticule_and_html(tmp_path, capsys):
    import json

    from coverage.cli import main

    s = str(SAMPLES)
    common = ["--terrain", f"{s}/terrain.tif", "--sites", f"{s}/sites.csv", "--villages", f"{s}/villages.geojson",
              "--radius", "6000", "--no-progress"]
    assert main(["map", *common, "--village-labels", "--graticule", "--out", str(tmp_path / "m.png"),
                 "--dpi", "50"]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    n_wanted = info["villages"].get("blankspot", 0) + info["villages"].get("partial", 0)
    assert info["village_labels"]["placed"] + info["village_labels"]["no_room"] == n_wanted
    assert main(["map", *common, "--out", str(tmp_path / "m.html")]) == 0
    page = (tmp_path / "m.html").read_text()
    assert "<script src" not in page and "L.map(" in page and '"on":false' in page
    assert main(["map", *common, "--tiles", "none", "--out", str(tmp_path / "m2.html")]) == 0
    assert '"tiles":null' in (tmp_path / "m2.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.html", "m.png", "m2.html"]  # no temporary files


@pytest.mark.shared
def test_cli_maps_read_the_real_village_file(tmp_path, shared_file, capsys):
    """map / kmz / profile take --repair-geometries and so read the real Kaltim/Kaltara village file."""
    import json
    import zipfile

    import pandas as pd

    from coverage.cli import main

    dem = shared_file("dem/samarinda_300m.tif")
    desa = shared_file("villages/village_boundaries_kaltim_kaltara.geojson")
    towers = pd.read_csv(shared_file("towers/opencellid_510_kalimantan_bbox.csv"))
    b = coverage.open_terrain(dem).bounds_lonlat
    inside = towers[towers["lon"].between(b[0], b[2]) & towers["lat"].between(b[1], b[3])]
    assert len(inside) >= 1
    inside.to_csv(tmp_path / "towers.csv", index=False)
    common = ["--terrain", str(dem), "--sites", str(tmp_path / "towers.csv"), "--villages", str(desa),
              "--no-progress"]
    assert main(["predict", "--terrain", str(dem), "--sites", str(tmp_path / "towers.csv"), "--no-progress",
                 "--out", str(tmp_path / "c.tif")]) == 0
    capsys.readouterr()
    # without the flag: a clear error that names the CLI option, not a traceback
    assert main(["map", "--coverage", str(tmp_path / "c.tif"), *common, "--out", str(tmp_path / "x.png")]) != 0
    assert "--repair-geometries" in capsys.readouterr().err
    assert main(["map", "--coverage", str(tmp_path / "c.tif"), *common, "--repair-geometries", "--village-labels",
                 "--out", str(tmp_path / "m.png"), "--dpi", "40"]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert sum(info["villages"].values()) >= 59  # Samarinda's kelurahan and the villages around them
    assert main(["kmz", "--coverage", str(tmp_path / "c.tif"), *common, "--repair-geometries",
                 "--out", str(tmp_path / "m.kmz")]) == 0
    with zipfile.ZipFile(tmp_path / "m.kmz") as zf:
        assert "files/icons/site.png" in zf.namelist()
    capsys.readouterr()
    sites = coverage.read_sites(tmp_path / "towers.csv")
    site = str(sites["site_id"].iloc[0])
    assert main(["profile", *common, "--repair-geometries", "--site", site, "--village", "Sidomulyo",
                 "--out", str(tmp_path / "p.png"), "--dpi", "40"]) == 0
