"""Land cover: class tables, majority resampling to the terrain grid, unknown codes, uniform cover."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from coverage.errors import FileFormatError, InputError
from coverage.io.landcover import CATEGORY_HEIGHT_M, class_table, open_landcover, uniform_landcover
from coverage.io.terrain import Terrain

CRS = "EPSG:32750"
X0, Y0 = 500_000.0, 9_950_000.0


def _write(path, data, transform, crs=CRS, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata) as ds:
        ds.write(data, 1)
    return path


def _terrain(rows=4, cols=5, cell=30.0):
    return Terrain(np.zeros((rows, cols), np.float32), Affine(cell, 0, X0, 0, -cell, Y0), CRS)


def test_builtin_tables():
    wc = class_table("worldcover")
    assert wc["code"].tolist() == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
    row = wc.set_index("code").loc[10]
    assert row["height_m"] == CATEGORY_HEIGHT_M[4] == 15.0 and row["p2108_type"] == 5
    p = class_table("p1812").set_index("code")
    assert p["height_m"].tolist() == [0.0, 0.0, 10.0, 15.0, 20.0]


def test_majority_resampling_never_interpolates(tmp_path):
    # 10 m classes under a 30 m terrain: each 3 x 3 block has 5 cells of one class and 4 of another
    t = _terrain()
    src = np.empty((12, 15), np.uint8)
    rng = np.random.default_rng(0)
    expect = np.empty((4, 5), np.int64)
    for i in range(4):
        for j in range(5):
            a, b = rng.choice([10, 30, 50, 80], 2, replace=False)
            block = np.array([a] * 5 + [b] * 4, np.uint8)
            rng.shuffle(block)
            src[3 * i:3 * i + 3, 3 * j:3 * j + 3] = block.reshape(3, 3)
            expect[i, j] = a
    path = _write(tmp_path / "lc.tif", src, Affine(10.0, 0, X0, 0, -10.0, Y0))
    lc = open_landcover(path, terrain=t)
    assert lc.shape == t.shape
    assert np.array_equal(lc.code, expect)
    heights = class_table().set_index("code")["height_m"]
    assert np.array_equal(lc.height_m, heights.loc[expect.ravel()].to_numpy().reshape(4, 5))
    assert set(np.unique(lc.code)) <= {10, 30, 50, 80}
    assert sum(lc.percentages().values()) == pytest.approx(100.0)


def test_other_crs_is_reprojected(tmp_path):
    # the same cover in geographic coordinates: all tree cover -> all 15 m on the UTM terrain
    t = _terrain()
    lon0, lat0 = rasterio.warp.transform(CRS, "EPSG:4326", [X0 - 100], [Y0 + 100])
    src = np.full((40, 40), 10, np.uint8)
    path = _write(tmp_path / "geo.tif", src, Affine(0.0001, 0, lon0[0], 0, -0.0001, lat0[0]), crs="EPSG:4326")
    lc = open_landcover(path, terrain=t)
    assert (lc.code == 10).all() and (lc.height_m == 15.0).all()


def test_unknown_codes_are_named_with_counts(tmp_path):
    src = np.full((6, 6), 10, np.uint8)
    src[0, :3] = 7
    src[5, 5] = 200
    path = _write(tmp_path / "bad.tif", src, Affine(30.0, 0, X0, 0, -30.0, Y0))
    with pytest.raises(FileFormatError, match=r"7 \(3 cells\), 200 \(1 cells\)"):
        open_landcover(path)


def test_user_table_overrides(tmp_path):
    src = np.array([[10, 50], [7, 7]], np.uint8)
    path = _write(tmp_path / "lc.tif", src, Affine(30.0, 0, X0, 0, -30.0, Y0))
    csv = tmp_path / "t.csv"
    csv.write_text("code,name,height_m,category\n7,oil palm,12,4\n50,built-up,6,3\n")
    lc = open_landcover(path, overrides=csv)
    assert lc.height_m.tolist() == [[15.0, 6.0], [12.0, 12.0]]
    lc2 = open_landcover(path, overrides={7: 20.0})
    assert lc2.height_m[1, 0] == 20.0
    with pytest.raises(FileFormatError, match="height_m"):
        class_table("worldcover", {10: -1.0})


def test_nodata_is_said(tmp_path):
    src = np.array([[10, 0], [0, 10]], np.uint8)
    path = _write(tmp_path / "lc.tif", src, Affine(30.0, 0, X0, 0, -30.0, Y0), nodata=0)
    with pytest.warns(UserWarning, match="2 cells have no class"):
        lc = open_landcover(path)
    assert lc.height_m.tolist() == [[15.0, 0.0], [0.0, 15.0]]
    assert lc.metadata()["no_data_cells"] == 2


def test_uniform_cover():
    t = _terrain()
    lc = uniform_landcover("forest", t)
    assert (lc.height_m == 15.0).all() and (lc.p2108_type == 5).all()
    assert "forest" in lc.source and "everywhere" in lc.source
    with pytest.raises(InputError, match="clutter must be one of"):
        uniform_landcover("jungle", t)
