"""Terrain: readers agree, tiles mosaic without seams, voids are filled and counted, profiles are
geodesic on geographic grids and straight on projected ones; bad input raises clearly."""

from __future__ import annotations

import warnings
import zipfile

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Geod

import coverage
from coverage.errors import InputError, TerrainExtentError, TerrainReadError, TerrainWarning


def _open(*a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TerrainWarning)
        return coverage.open_terrain(*a, **k)


def _write(path, arr, transform, crs="EPSG:4326", nodata=-32768, dtype="int16"):
    with rasterio.open(path, "w", driver="GTiff", height=arr.shape[0], width=arr.shape[1], count=1,
                       dtype=dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(arr.astype(dtype), 1)
    return path


def test_hgt_zip_hgt_and_geotiff_agree_cell_for_cell(shared_file, tmp_path):
    tif = _open(shared_file("dem/N46E008.tif"))
    hgz = _open(shared_file("dem/N46E008.hgt.zip"))
    with zipfile.ZipFile(shared_file("dem/N46E008.hgt.zip")) as zf:
        zf.extract("N46E008.hgt", tmp_path)
    hgt = _open(tmp_path / "N46E008.hgt")
    assert tif.shape == hgz.shape == hgt.shape == (1201, 1201)
    assert tif.transform == hgz.transform == hgt.transform
    # the same voids (DTED -32767 in the GeoTIFF, -32768 in the .hgt), counted in the metadata
    assert np.array_equal(tif.void_mask, hgz.void_mask)
    assert tif.void_count == hgz.void_count == 103_743
    valid = ~tif.void_mask
    assert np.array_equal(tif.elevation_m[valid], hgz.elevation_m[valid])
    assert np.array_equal(hgt.elevation_m, hgz.elevation_m)


def test_voids_are_filled_finite_and_warned(shared_file):
    with pytest.warns(TerrainWarning, match="103743 void cells"):
        t = coverage.open_terrain(shared_file("dem/N46E008.tif"))
    assert np.isfinite(t.elevation_m).all()
    filled = t.elevation_m[t.void_mask]
    assert filled.min() >= 187 - 1 and filled.max() <= 4173 + 1  # within the tile's range


def test_no_seam_across_tile_edges(shared_file, tmp_path):
    whole = _open(shared_file("dem/S36E149.tif"))
    z = whole.elevation_m.astype(np.int16)
    t = whole.transform
    # four SRTM-style tiles sharing their edge row/column, like adjacent 1-degree tiles
    a = _write(tmp_path / "a.tif", z[:601, :601], t)
    b = _write(tmp_path / "b.tif", z[:601, 600:], t @ Affine.translation(600, 0))
    c = _write(tmp_path / "c.tif", z[600:, :601], t @ Affine.translation(0, 600))
    d = _write(tmp_path / "d.tif", z[600:, 600:], t @ Affine.translation(600, 600))
    mosaic = _open([a, b, c, d])
    assert mosaic.transform.almost_equals(t)
    assert np.array_equal(mosaic.elevation_m, whole.elevation_m)
    # also through a glob, and a profile across both seams is identical
    globbed = _open(str(tmp_path / "*.tif"))
    assert np.array_equal(globbed.elevation_m, whole.elevation_m)
    p1 = whole.profile((149.2, -35.2), (149.8, -35.8))
    p2 = mosaic.profile((149.2, -35.2), (149.8, -35.8))
    np.testing.assert_array_equal(p1[1], p2[1])


def test_bounds_subset_keeps_source_cells(shared_file):
    whole = _open(shared_file("dem/S36E149.tif"))
    sub = _open(shared_file("dem/S36E149.tif"), bounds=(149.2, -35.6, 149.5, -35.3))
    row, col = whole.rowcol_of(*sub.xy_of(0, 0))
    r, c = int(round(float(row))), int(round(float(col)))
    np.testing.assert_array_equal(sub.elevation_m, whole.elevation_m[r:r + sub.shape[0], c:c + sub.shape[1]])
    lon_min, lat_min, lon_max, lat_max = sub.bounds_lonlat
    assert lon_min <= 149.2 and lat_min <= -35.6 and lon_max >= 149.5 and lat_max >= -35.3


def test_bilinear_sampling():
    z = np.array([[0.0, 10.0], [20.0, 30.0]], dtype=np.float32)
    t = coverage.Terrain(z, Affine(1.0, 0, 0.0, 0, -1.0, 2.0), "EPSG:32750")
    # cell centres are at x = 0.5, 1.5 and y = 1.5, 0.5
    assert t.sample_xy(0.5, 1.5)[0] == 0.0
    assert t.sample_xy(1.0, 1.0)[0] == pytest.approx(15.0)
    assert t.sample_xy(1.5, 1.0)[0] == pytest.approx(20.0)
    assert np.isnan(t.sample_xy(5.0, 1.0)[0])


def test_profile_is_geodesic_on_geographic_grid(shared_file):
    t = _open(shared_file("dem/S36E149.tif"))
    a, b = (149.1, -35.9), (149.9, -35.2)
    d, z = t.profile(a, b)
    _, _, dist = Geod(ellps="WGS84").inv(*a, *b)
    assert d[0] == 0 and d[-1] == pytest.approx(dist, abs=1e-6)
    assert np.all(np.diff(d) > 0) and np.isfinite(z).all()
    assert np.diff(d).max() <= min(t.cell_size_m) + 1e-6
    # the first and last samples are the terrain at the end points
    assert z[0] == pytest.approx(t.elevation(*a)[0])
    assert z[-1] == pytest.approx(t.elevation(*b)[0])


def test_profile_on_projected_grid_uses_projected_metres(shared_file):
    t = _open(shared_file("dem/samarinda_300m.tif"))
    assert not t.is_geographic and t.cell_size_m == (300.0, 300.0)
    a, b = (117.10, -0.60), (117.25, -0.45)
    d, z = t.profile(a, b, step_m=100)
    x1, y1 = t.from_lonlat(*a)
    x2, y2 = t.from_lonlat(*b)
    assert d[-1] == pytest.approx(np.hypot(x2 - x1, y2 - y1))
    assert np.isfinite(z).all()


def test_errors(tmp_path, shared_file):
    with pytest.raises(TerrainReadError):
        coverage.open_terrain(tmp_path / "missing.tif")
    with pytest.raises(OSError):  # TerrainReadError is an OSError
        coverage.open_terrain(str(tmp_path / "nothing*.tif"))
    bad = tmp_path / "bad.hgt.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(TerrainReadError):
        coverage.open_terrain(bad)
    empty = _write(tmp_path / "void.tif", np.full((20, 20), -32768), Affine(0.01, 0, 100, 0, -0.01, 1))
    with pytest.raises(TerrainExtentError, match="no valid elevation"):
        coverage.open_terrain(empty)
    with pytest.raises(TerrainExtentError, match="do not overlap"):
        _open(shared_file("dem/S36E149.tif"), bounds=(10, 10, 11, 11))
    with pytest.raises(InputError, match="swapped"):
        _open(shared_file("dem/S36E149.tif"), bounds=(-35.6, 149.2, -35.3, 149.5))
    t = _open(shared_file("dem/S36E149.tif"))
    with pytest.raises(TerrainExtentError):
        t.profile((149.5, -35.5), (151.0, -35.5))
    with pytest.raises(InputError):
        t.profile((149.5, -35.5), (149.5, -35.5))
