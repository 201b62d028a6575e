"""Tiled, memory-bounded runs of :func:`coverage.predict`, on local cores or on a Dask cluster.

``coverage.predict(..., out="coverage.tif", tile_size=1024, client=None)`` lands here.

Tiles
    The output grid (the terrain grid, cropped to ``bounds``, or the smooth-earth grid) is cut into
    ``tile_size`` x ``tile_size`` tiles. A tile task takes the sites whose radius can reach the tile
    (a box test in cells, a superset of the true disc test), reads the terrain window *tile ± (2 x
    radius + 5 cells)*, runs the per-site loop of :func:`coverage.predict` on that window (one
    :class:`~coverage.sweep.Grid` with ``row_off/col_off``) and keeps the tile.

Same answer, to the bit
    Kernels work in full-grid indices, so a window gives the same bits as the whole grid wherever
    the window holds what a value depends on. With the margin above every radial of every selected
    site lies wholly on the window (or stops at the edge of the *full* grid, as it does untiled), so
    the profiles, ``nvalid`` and therefore any profile model (P.526, ITM, whose sweep centres its
    sums on the radial's length) give identical values; sites are folded in site-index order, so ties
    resolve identically. The price: a site touching k tiles has its radials computed k times (the
    ``redundancy`` figure in the metadata, about ``((T + 2R) / T)^2``).

Engines and numba threads
    ``client=None`` runs a ``ProcessPoolExecutor`` of ``workers`` processes (default: all cores),
    started with *spawn* (GNU OpenMP, numba's usual layer, is not fork-safe, and a fork would count
    the parent's pages in every child's RSS). A Dask ``Client`` (or a scheduler address) runs one
    task per tile on the cluster (``retries=2``: a lost worker's tile runs again elsewhere).
    Parallelism comes from tiles, not from numba: each task sets ``numba.set_num_threads(1)`` for its
    own thread (the setting is thread-local), so ``k`` concurrent tiles use ``k`` cores, never
    ``k x cores`` threads. (Spawn re-imports the caller's main module: scripts that run local
    workers need the usual ``if __name__ == "__main__":`` guard.) The *workqueue* layer (numba's fallback when neither OpenMP nor TBB loads)
    aborts the whole process when two threads enter parallel kernels at once, even with one thread
    each; a task that finds it serialises on a per-process lock and then uses the worker's threads
    inside the tile instead. Dask workers therefore need no special configuration; a cluster of
    single-threaded worker processes (``threads_per_worker=1``) is the most efficient.

Writing and resume
    Finished tiles go, from the single driver process, (1) into ``<out>.parts/`` as one ``.npz`` per
    tile, written to a temporary name and renamed, next to a ``manifest.json`` holding a hash of
    every input (terrain bytes or file identity, sites, model, parameters, grid, tile size), and
    (2) into ``<out>.parts/assembling.tif``, a tiled deflate GeoTIFF written window by window. At the
    end the GeoTIFF is renamed to ``out`` and the parts are removed: ``out`` is never half-written.
    A run that is killed leaves the parts; the same call again reuses every finished tile whose
    manifest hash matches and ends with the identical file. The full raster is never in memory: the
    driver holds at most ``2 x workers`` tiles in flight, a task one terrain window and one tile.

Terrain may also be a path to a single-band raster (GeoTIFF, VRT) without voids: tasks then read
only their window from it (the workers must see the same path).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import shutil
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
from pyproj import CRS

from .._atomic import output_lock
from ..errors import CoverageWarning, InputError, TerrainExtentError, TerrainReadError
from ..io.terrain import WGS84_A, Terrain, _bounds_in_crs
from .prepare import (
    _check_validity,
    _mask_voids,
    _place_sites,
    _prepare,
    _smooth_earth_grid,
    _terrain_meta,
    _warn_resolution_ignored,
)
from .result import LAYERS, CoverageResult, describe_bands, write_site_table
from .sweep import Grid

log = logging.getLogger(__name__)

__all__ = ["predict_tiled", "plan_tiles", "LazyCoverageResult", "DEFAULT_TILE_SIZE"]

#: Tile edge (cells) when ``out`` or ``client`` is given without ``tile_size``.
DEFAULT_TILE_SIZE = 1024
_FORMAT_VERSION = 1  # bump when the tile files or the hash inputs change meaning
# GDAL keeps written (and read) blocks in a cache of 5 % of RAM by default: on a large output that
# grows with the area, so the writer and the terrain reads cap it.
_GDAL_CACHE_BYTES = 16 * 2 ** 20


# ==================================================================================== terrain sources
@dataclass
class _RasterSource:
    """A single-band raster file read window by window (never whole)."""

    path: str
    row_off: int  # offset of the output grid in the file (bounds crop)
    col_off: int

    def read(self, r0, c0, h, w) -> np.ndarray:
        import rasterio
        from rasterio.windows import Window

        try:
            with rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_BYTES), rasterio.open(self.path) as src:
                z = src.read(1, window=Window(c0 + self.col_off, r0 + self.row_off, w, h), out_dtype="float32")
                nodata = src.nodata
        except rasterio.errors.RasterioIOError as exc:
            raise TerrainReadError(f"cannot read terrain window from {self.path}: {exc}") from exc
        bad = ~np.isfinite(z) | (z <= -32767)
        if nodata is not None and np.isfinite(nodata):
            bad |= z == np.float32(nodata)
        if bad.any():
            raise TerrainExtentError(
                f"{self.path}: {int(bad.sum())} void cells in rows {r0}..{r0 + h}, cols {c0}..{c0 + w}; a terrain "
                "file for tiled runs must be void-free (open_terrain(..., fill_voids=True) and write it out)")
        return np.ascontiguousarray(z)


def _open_raster_terrain(path, bounds):
    """(source, transform, crs, shape, meta) of a raster path, cropped to ``bounds`` like
    :meth:`Terrain.window_lonlat`."""
    import rasterio
    import rasterio.windows

    path = os.fspath(path)
    try:
        with rasterio.open(path) as src:
            transform, crs, shape = src.transform, src.crs, (src.height, src.width)
    except rasterio.errors.RasterioIOError as exc:
        raise TerrainReadError(f"cannot read terrain file {path}: {exc}") from exc
    if crs is None:
        raise TerrainReadError(f"{path}: the DEM has no CRS")
    crs = CRS.from_user_input(crs.to_wkt())
    if transform.b != 0 or transform.d != 0 or transform.a <= 0 or transform.e >= 0:
        raise InputError(f"{path}: only north-up grids are supported")
    r0 = c0 = 0
    if bounds is not None:
        left, bottom, right, top = _bounds_in_crs(bounds, crs)
        win = rasterio.windows.from_bounds(left, bottom, right, top, transform)
        # every cell the bounds touch (outward rounding; 1e-6 cell absorbs float noise)
        r0 = max(int(math.floor(win.row_off + 1e-6)), 0)
        c0 = max(int(math.floor(win.col_off + 1e-6)), 0)
        r1 = min(int(math.ceil(win.row_off + win.height - 1e-6)), shape[0])
        c1 = min(int(math.ceil(win.col_off + win.width - 1e-6)), shape[1])
        if r1 <= r0 or c1 <= c0:
            raise TerrainExtentError(f"bounds {bounds} do not overlap the terrain file {path}")
        shape = (r1 - r0, c1 - c0)
        transform = rasterio.windows.transform(rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0), transform)
    st = os.stat(path)
    ident = {"path": os.path.abspath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "crop": [r0, c0]}
    return _RasterSource(path, r0, c0), transform, crs, shape, ident


# ==================================================================================== tile task
@dataclass
class _TileSpec:
    """Everything one tile task needs (pickled to a worker process or a Dask worker)."""

    tile: tuple[int, int, int, int]  # r0, c0, h, w in full-grid cells
    window: tuple[int, int, int, int]  # terrain window, same convention
    elevation: Any  # ndarray of the window, a _RasterSource, or None (smooth earth)
    transform: Any
    crs: Any
    geographic: bool
    sites: pd.DataFrame  # the selected sites, in site-index order
    index: np.ndarray  # their rows in the full site table
    sx: np.ndarray
    sy: np.ndarray
    inside: np.ndarray
    model: Any
    params: dict
    tech: str
    threshold: float
    rx_height_m: float
    radius_m: float
    threads: int | None = None  # numba threads for this task; None: leave numba's setting
    clutter_m: Any = None  # window of the land cover's clutter heights (or None)
    clutter_type: Any = None
    clutter_loss: str | None = None


_PROCESS_LOCK = threading.Lock()


@contextlib.contextmanager
def _numba_slot(threads: int | None):
    """Run a tile's numba kernels safely in the calling thread (see the module notes)."""
    import numba

    if threads is None:
        yield
        return
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))  # launches the layer
    try:
        if numba.threading_layer() == "workqueue":
            # workqueue aborts on concurrent entry: one tile at a time in this process, with all the
            # threads of the (Dask) worker inside it
            with _PROCESS_LOCK:
                numba.set_num_threads(max(1, min(_worker_threads(), numba.config.NUMBA_NUM_THREADS)))
                yield
        else:
            yield
    finally:
        numba.set_num_threads(old)


def _worker_threads() -> int:
    try:
        from distributed import get_worker

        w = get_worker()
        return int(getattr(w, "nthreads", None) or getattr(w.state, "nthreads", 1))
    except Exception:  # not in a Dask worker
        return 1


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MB).

    Linux: ``VmHWM`` of /proc/self/status, the high-water mark of this process's own memory map.
    Not ``ru_maxrss``: that survives ``exec`` and so reports the peak of whatever process forked
    this one (a big pytest or notebook parent).
    """
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    except (ImportError, OSError):
        return float("nan")


def _run_tile(spec: _TileSpec) -> dict:
    """Compute one tile: the per-site loop of :func:`coverage.predict` on the tile's terrain window."""
    from .prepare import _accumulate

    t0 = time.perf_counter()
    r0, c0, h, w = spec.tile
    wr0, wc0, wh, ww = spec.window
    if spec.elevation is None:
        elev = np.zeros((wh, ww), np.float32)
    elif isinstance(spec.elevation, _RasterSource):
        elev = spec.elevation.read(wr0, wc0, wh, ww)
    else:
        elev = spec.elevation
    grid = Grid(elev, spec.transform, spec.crs, spec.geographic, row_off=wr0, col_off=wc0,
                clutter_m=spec.clutter_m, clutter_type=spec.clutter_type)
    with _numba_slot(spec.threads):
        best, second, server, count, n_cells = _accumulate(
            grid, spec.sites, spec.sx, spec.sy, spec.inside, spec.model, spec.params, spec.tech, spec.threshold,
            spec.rx_height_m, spec.radius_m, index=spec.index, out_window=spec.tile, clutter_loss=spec.clutter_loss)
    del grid, elev
    return {"tile": spec.tile, "best_dbm": best, "second_dbm": second,
            "best_server": server, "n_servers": count, "cell_evaluations": n_cells,
            "seconds": time.perf_counter() - t0, "n_sites": len(spec.index), "pid": os.getpid(),
            "peak_rss_mb": _peak_rss_mb()}


def _run_tile_with(spec: _TileSpec, elevation) -> dict:
    """:func:`_run_tile` with the terrain window passed separately (a Dask future resolves to it)."""
    spec.elevation = elevation
    return _run_tile(spec)


def _empty_tile(tile) -> dict:
    h, w = tile[2], tile[3]
    return {"tile": tile, "best_dbm": np.full((h, w), np.nan, np.float32),
            "second_dbm": np.full((h, w), np.nan, np.float32), "best_server": np.full((h, w), -1, np.int32),
            "n_servers": np.zeros((h, w), np.int16), "cell_evaluations": 0, "seconds": 0.0, "n_sites": 0}


# ==================================================================================== memory sampler
class _MemorySampler:
    """Peak RSS of the driver plus all its child processes, sampled with psutil (if installed)."""

    def __init__(self, interval_s: float = 0.1):
        self.peak_total_mb = float("nan")
        self._stop = threading.Event()
        self._interval = interval_s
        self._thread = None
        try:
            import psutil

            self._proc = psutil.Process()
        except ImportError:
            self._proc = None

    def _sample(self):
        import psutil

        total = self._proc.memory_info().rss
        for ch in self._proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += ch.memory_info().rss
        mb = total / 2 ** 20
        if not mb <= self.peak_total_mb:  # also replaces the initial NaN
            self.peak_total_mb = mb

    def _loop(self):
        while not self._stop.wait(self._interval):
            with contextlib.suppress(Exception):
                self._sample()

    def __enter__(self):
        if self._proc is not None:
            self._sample()
            self._thread = threading.Thread(target=self._loop, name="coverage-memory", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            with contextlib.suppress(Exception):
                self._sample()


# ==================================================================================== outputs
class _Parts:
    """The sidecar directory of finished tiles (resume) and the GeoTIFF being assembled."""

    def __init__(self, out: str, key: str):
        self.out = os.path.abspath(out)
        self.dir = self.out + ".parts"
        self.key = key
        os.makedirs(self.dir, exist_ok=True)
        manifest = os.path.join(self.dir, "manifest.json")
        old = None
        with contextlib.suppress(OSError, ValueError):
            with open(manifest) as f:
                old = json.load(f).get("key")
        if old != key:
            # parts of another run (other inputs): they cannot be reused
            for name in os.listdir(self.dir):
                if name.endswith((".npz", ".tmp", ".tif")):
                    os.unlink(os.path.join(self.dir, name))
            tmp = manifest + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"key": key, "format": _FORMAT_VERSION, "out": self.out}, f)
            os.replace(tmp, manifest)

    def _name(self, tile) -> str:
        return os.path.join(self.dir, f"tile_r{tile[0]}_c{tile[1]}_{tile[2]}x{tile[3]}.npz")

    def load(self, tile) -> dict | None:
        """The finished tile, or None (absent or unreadable: it is computed again)."""
        try:
            with np.load(self._name(tile)) as z:
                return {"tile": tile, **{k: z[k] for k in LAYERS}, "cell_evaluations": int(z["cell_evaluations"]),
                        "seconds": 0.0, "n_sites": int(z["n_sites"])}
        except (OSError, ValueError, KeyError):
            return None

    def save(self, res: dict):
        name = self._name(res["tile"])
        tmp = name + ".tmp"
        with open(tmp, "wb") as f:
            np.savez(f, **{k: res[k] for k in LAYERS}, cell_evaluations=res["cell_evaluations"],
                     n_sites=res["n_sites"])
        os.replace(tmp, name)  # a tile file is either whole or absent

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class _GeoTiffWriter:
    """Window-by-window writes into a tiled deflate GeoTIFF (four float32 bands, NaN nodata)."""

    def __init__(self, path, shape, transform, crs, tile_size):
        import rasterio

        self.path = path
        block = next((b for b in (512, 256, 128, 64, 32, 16) if tile_size % b == 0), 256)
        block = min(block, 512)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        self.ds = rasterio.open(path, "w", driver="GTiff", height=shape[0], width=shape[1], count=len(LAYERS),
                                dtype="float32", crs=crs.to_wkt(), transform=transform, nodata=np.nan,
                                compress="deflate", tiled=True, blockxsize=block, blockysize=block,
                                BIGTIFF="IF_SAFER")
        describe_bands(self.ds, LAYERS)

    def write(self, res):
        from rasterio.windows import Window

        r0, c0, h, w = res["tile"]
        win = Window(c0, r0, w, h)
        for i, name in enumerate(LAYERS, start=1):
            a = res[name].astype(np.float32)
            if name == "best_server":
                a[res[name] < 0] = np.nan  # as CoverageResult.to_geotiff writes it
            self.ds.write(a, i, window=win)

    def close(self, tags=None):
        if tags:
            self.ds.update_tags(**{k: (v if isinstance(v, str) else json.dumps(v)) for k, v in tags.items()})
        self.ds.close()


class _MemoryWriter:
    """Assemble the tiles in memory (``out=None``)."""

    def __init__(self, shape):
        self.best = np.full(shape, np.nan, np.float32)
        self.second = np.full(shape, np.nan, np.float32)
        self.server = np.full(shape, -1, np.int32)
        self.count = np.zeros(shape, np.int16)

    def write(self, res):
        r0, c0, h, w = res["tile"]
        sl = (slice(r0, r0 + h), slice(c0, c0 + w))
        self.best[sl] = res["best_dbm"]
        self.second[sl] = res["second_dbm"]
        self.server[sl] = res["best_server"]
        self.count[sl] = res["n_servers"]


# ==================================================================================== lazy result
class LazyCoverageResult(CoverageResult):
    """A :class:`CoverageResult` over a GeoTIFF written by a tiled run: layers are read on demand.

    Reading a layer attribute (``best_dbm``...) reads that whole band once and keeps it; use
    :meth:`read` with a window, or :meth:`sample`, to stay within memory on large outputs.
    """

    def __init__(self, path, sites=None, metadata: dict | None = None):
        import geopandas as gpd
        import rasterio

        self.path = os.fspath(path)
        with rasterio.open(self.path) as src:
            desc = list(src.descriptions)
            missing = [n for n in LAYERS if n not in desc]
            if missing:
                raise InputError(f"{path}: not a coverage result (missing bands {missing})")
            self._band = {n: desc.index(n) + 1 for n in LAYERS}
            self._shape = (src.height, src.width)
            tags = src.tags()
            self.transform = src.transform
            self.crs = CRS.from_user_input(src.crs.to_wkt())
        if sites is None:
            sites = gpd.GeoDataFrame({"site_id": json.loads(tags.get("COVERAGE_SITE_IDS", "[]"))})
        self.sites = sites
        self.metric = tags.get("COVERAGE_METRIC", "rsrp_dbm")
        self.technology = tags.get("COVERAGE_TECHNOLOGY", "4g")
        self.model = tags.get("COVERAGE_MODEL", "?")
        self.metadata = metadata if metadata is not None else json.loads(tags.get("COVERAGE_METADATA", "{}"))
        self._cache: dict[str, np.ndarray] = {}

    @property
    def shape(self) -> tuple[int, int]:
        return self._shape

    def read(self, layer: str, window=None) -> np.ndarray:
        """One layer (optionally a ``rasterio.windows.Window`` of it) with the in-memory dtypes."""
        import rasterio

        if layer not in LAYERS:
            raise InputError(f"layer must be one of {LAYERS}, got {layer!r}")
        with rasterio.open(self.path) as src:
            a = src.read(self._band[layer], window=window)
        if layer == "best_server":
            return np.where(np.isnan(a), -1, a).astype(np.int32)
        if layer == "n_servers":
            return a.astype(np.int16)
        return a

    def _layer(self, name):
        if name not in self._cache:
            self._cache[name] = self.read(name)
        return self._cache[name]

    best_dbm = property(lambda self: self._layer("best_dbm"))
    best_server = property(lambda self: self._layer("best_server"))
    second_dbm = property(lambda self: self._layer("second_dbm"))
    n_servers = property(lambda self: self._layer("n_servers"))

    def sample(self, lon, lat, layer: str = "best_dbm") -> np.ndarray:
        """Value of ``layer`` at each (lon, lat) point, reading only those pixels."""
        import rasterio

        if layer not in LAYERS:
            raise InputError(f"layer must be one of {LAYERS}, got {layer!r}")
        row, col = self._rowcol(lon, lat)
        inside = (row >= 0) & (row < self.shape[0]) & (col >= 0) & (col < self.shape[1])
        integer = layer in ("best_server", "n_servers")
        dtype = {"best_server": np.int32, "n_servers": np.int16}.get(layer, float)  # as CoverageResult.sample
        out = np.full(row.shape, -1 if integer else np.nan, dtype=dtype)
        if inside.any():
            t = self.transform
            xy = [(t.c + (c + 0.5) * t.a, t.f + (r + 0.5) * t.e) for r, c in zip(row[inside], col[inside])]
            with rasterio.open(self.path) as src:
                v = np.array([s[0] for s in src.sample(xy, indexes=self._band[layer])], dtype=float)
            if integer:
                v = np.where(np.isnan(v), -1, v)
            out[inside] = v
        return out

    def load(self) -> CoverageResult:
        """The whole result in memory."""
        return CoverageResult(*(self.read(n) for n in ("best_dbm", "best_server", "second_dbm", "n_servers")),
                              self.transform, self.crs, self.sites, self.metric, self.technology, self.model,
                              self.metadata)

    def __repr__(self) -> str:
        return (f"<LazyCoverageResult {self.shape[0]}x{self.shape[1]} {self.crs.to_string()} model={self.model} "
                f"{self.metric}, {len(self.sites)} sites, file {self.path}>")


# ==================================================================================== driver
def _hash_inputs(parts: dict, elevation, sites: pd.DataFrame) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps(parts, sort_keys=True, default=str).encode())
    if isinstance(elevation, np.ndarray):
        h.update(str((elevation.shape, elevation.dtype.str)).encode())
        for i in range(0, elevation.shape[0], 256):  # row blocks: no full contiguous copy of a view
            h.update(np.ascontiguousarray(elevation[i:i + 256]).tobytes())
    cols = [c for c in sites.columns if c != "geometry"]
    h.update(json.dumps(cols).encode())
    h.update(pd.util.hash_pandas_object(pd.DataFrame(sites[cols]), index=True).to_numpy().tobytes())
    return h.hexdigest()


def _radius_cells(grid: Grid, radius_m: float) -> tuple[int, int]:
    """(rows, cols) that ``radius_m`` spans at most anywhere on the grid (rounded up, with slack)."""
    t = grid.transform
    rows = grid.shape[0]
    if grid.geographic:
        top, bottom = t.f, t.f + rows * t.e
        pad = math.degrees(radius_m / WGS84_A) * 1.01
        lats = [max(min(top + pad, 89.0), -89.0), max(min(bottom - pad, 89.0), -89.0)]
        if bottom - pad < 0.0 < top + pad:
            lats.append(0.0)
        sizes = [grid.cell_size_m(lat) for lat in lats]
        ew, ns = min(s[0] for s in sizes), min(s[1] for s in sizes)
    else:
        ew, ns = grid.cell_size_m()
    return int(math.ceil(1.01 * radius_m / ns)) + 2, int(math.ceil(1.01 * radius_m / ew)) + 2


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _edges(n: int, tile_size: int) -> np.ndarray:
    """Tile edges along one axis: ``ceil(n / tile_size)`` tiles of nearly equal size (never a sliver)."""
    k = max(-(-n // tile_size), 1)
    return np.array([(i * n) // k for i in range(k + 1)], dtype=np.int64)


def _plan_tiles(shape, tile_size):
    er, ec = _edges(shape[0], tile_size), _edges(shape[1], tile_size)
    return [(int(er[i]), int(ec[j]), int(er[i + 1] - er[i]), int(ec[j + 1] - ec[j]))
            for i in range(er.size - 1) for j in range(ec.size - 1)]


def plan_tiles(grid: Grid, row_f, col_f, radius_m: float, tile_size: int):
    """Tiles of ``grid`` and, for each, the sites (ascending index) whose radius can reach it.

    Tiles are at most ``tile_size`` cells on a side and split each axis evenly (a 1025-row grid at
    1024 gives 513 + 512 rows, never 1024 + a 1-row sliver that costs as much as a whole tile).

    Parameters
    ----------
    grid : Grid
        The full output grid (only its shape, transform and CRS are used).
    row_f, col_f : ndarray
        Fractional full-grid (row, col) of each site; cell centres are whole numbers.

    Returns
    -------
    tiles : list of (r0, c0, rows, cols)
    per_tile : dict tile -> int64 array of site indices
    margin : (rows, cols)
        Terrain margin around a tile that holds every radial of every selected site.
    """
    shape = grid.shape
    er, ec = _edges(shape[0], tile_size), _edges(shape[1], tile_size)
    tiles = _plan_tiles(shape, tile_size)
    rad_r, rad_c = _radius_cells(grid, radius_m)
    row_f, col_f = np.asarray(row_f, float), np.asarray(col_f, float)
    buckets: dict[tuple[int, int], list[int]] = {}
    for s in np.flatnonzero(np.isfinite(row_f) & np.isfinite(col_f)):
        ti0, ti1 = _tile_range(er, row_f[s] - rad_r, row_f[s] + rad_r)
        tj0, tj1 = _tile_range(ec, col_f[s] - rad_c, col_f[s] + rad_c)
        for ti in range(ti0, ti1 + 1):
            for tj in range(tj0, tj1 + 1):
                buckets.setdefault((int(er[ti]), int(ec[tj])), []).append(int(s))  # ascending site index
    per_tile = {t: np.asarray(buckets.get((t[0], t[1]), []), dtype=np.int64) for t in tiles}
    # a selected site is within rad of the tile; its radials reach radius + 2 steps (<= 2 cells) beyond
    # it, and bilinear sampling one more cell
    return tiles, per_tile, (2 * rad_r + 5, 2 * rad_c + 5)


def _tile_range(edges: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
    """First and last tile index along an axis that the interval [lo, hi] (cells) touches."""
    n = edges.size - 1
    i0 = int(np.searchsorted(edges, np.floor(lo), side="right")) - 1
    i1 = int(np.searchsorted(edges, np.floor(hi), side="right")) - 1
    return max(i0, 0), min(i1, n - 1)


#: Site recomputation (site-tile pairs per site) above which a run warns that the tiles are too small.
REDUNDANCY_WARN = 3.0


def _warn_redundancy(pairs: int, n_sites: int, tile_size: int, margin) -> None:
    redundancy = pairs / max(n_sites, 1)
    # the default tile size is a memory bound, not a choice: only a smaller, chosen one is warned about
    if redundancy > REDUNDANCY_WARN and tile_size < DEFAULT_TILE_SIZE:
        better = int(2 ** math.ceil(math.log2(max(2 * max(margin), tile_size))))
        warnings.warn(f"tile_size={tile_size} makes each site be computed {redundancy:.1f} times on average (every "
                      f"tile its radius reaches recomputes its radials); a tile_size of about {better} cells "
                      f"(several radii) would cost less", CoverageWarning, stacklevel=4)


def predict_tiled(terrain, sites, model: str = "p526", radius_m: float = 30_000.0, rx_height_m: float = 1.5, *,
                  bounds=None, resolution_m: float | None = None, crs=None, technology: str | None = None,
                  model_params: Mapping[str, Any] | None = None, server_threshold_dbm: float | None = None,
                  extrapolate: bool = False, progress: bool | None = None, out=None, tile_size: int | None = None,
                  client=None, workers: int | None = None, resume: bool = True, cog: bool = False,
                  landcover=None, clutter: str | None = None, clutter_loss: str | None = None):
    """Tiled :func:`coverage.predict`: bounded memory, local processes or Dask, resumable.

    Parameters
    ----------
    terrain : Terrain, path or None
        As for :func:`coverage.predict`; a path to a void-free single-band raster is read window by
        window, so the DEM itself need not fit in memory.
    sites, model, radius_m, rx_height_m, bounds, resolution_m, crs, technology, model_params,
    server_threshold_dbm, extrapolate, progress, landcover, clutter, clutter_loss
        As for :func:`coverage.predict` (the land cover is held in memory and cut per tile).
    out : path, optional
        GeoTIFF to write (four float32 bands, as :meth:`CoverageResult.to_geotiff`); the result is then
        a :class:`LazyCoverageResult` over it. Without ``out`` the tiles are assembled in memory.
    tile_size : int, optional
        Tile edge in cells (default 1024).
    client : dask.distributed.Client or str, optional
        Run the tiles on this Dask cluster (a scheduler address opens a client and closes it after).
    workers : int, optional
        Local worker processes when ``client`` is None (default: all cores; 0 runs in this process).
    resume : bool
        Reuse the finished tiles of an interrupted run with the same inputs (needs ``out``).
    cog : bool
        Rewrite the output as a Cloud-Optimized GeoTIFF (with overviews) at the end.

    Returns
    -------
    LazyCoverageResult or CoverageResult
        The metadata adds ``tiles``, ``engine`` and ``memory`` (peak RSS of the driver, of the busiest
        worker and, with psutil, of driver plus local children together, in MB).

    Raises
    ------
    InputError
        Bad arguments (as :func:`coverage.predict`), an output that is not a GeoTIFF.
    TerrainExtentError
        A site outside the terrain; voids in a terrain file.
    """
    t_start = time.perf_counter()
    tile_size, out = _check_tiled_args(tile_size, out, workers)
    prep = _prepare(model, model_params, radius_m, rx_height_m, sites, technology, server_threshold_dbm,
                    has_terrain=terrain is not None)
    src = _open_source(prep, terrain, bounds, radius_m, resolution_m, crs)
    from types import SimpleNamespace

    from .clutter import assumed_defaults, clutter_arrays, resolve_landcover

    lc, lc_meta = resolve_landcover(landcover, clutter, clutter_loss, None if terrain is None else
                                    SimpleNamespace(shape=src.shape, transform=src.transform, crs=src.crs))
    prep.assumed.update(assumed_defaults(prep.m, prep.params, lc_meta))
    # a shape-only stand-in for the full grid: geometry helpers need its shape and transform
    full = Grid(np.broadcast_to(np.float32(0.0), src.shape), src.transform, src.crs, bool(src.crs.is_geographic))
    sx, sy, row_f, col_f, inside = _place_sites(prep, full, radius_m, terrain)
    _check_validity(prep.m, prep.sites, rx_height_m, radius_m, extrapolate, min(full.cell_size_m()))
    tiles, per_tile, margin = plan_tiles(full, row_f, col_f, radius_m, tile_size)
    pairs = int(sum(len(v) for v in per_tile.values()))
    _warn_redundancy(pairs, len(prep.sites), tile_size, margin)
    base_meta = prep.meta(radius_m, rx_height_m, src.terrain_meta)
    base_meta["landcover"] = lc_meta
    client, own_client, engine, n_workers = _engine(client, workers)
    spec_of = _spec_factory(prep, src, per_tile, margin, (sx, sy, inside), rx_height_m, radius_m, engine,
                            clutter_arrays(lc), clutter_loss)
    with contextlib.ExitStack() as stack:
        if own_client:
            stack.callback(client.close)
        if out is not None:
            # a second run writing the same out refuses instead of interleaving its tiles with ours
            stack.enter_context(output_lock(out))
        parts = _open_parts(out, base_meta, src, tile_size, prep) if out is not None else None
        run = _TiledRun(tiles, per_tile, parts, resume, out, src, tile_size, progress, prep.m.name)
        with run:
            run.schedule(client, engine, n_workers, spec_of)
            meta = dict(base_meta)
            meta.update(run.metadata(t_start, src.shape, tile_size, pairs, len(prep.sites), margin, engine,
                                     n_workers))
            if out is None:
                w = run.writer
                return CoverageResult(w.best, w.server, w.second, w.count, src.transform, src.crs, prep.sites,
                                      prep.metric, prep.tech, prep.m.name, meta)
            return run.publish(out, meta, prep, cog)


def _check_tiled_args(tile_size, out, workers):
    """Validated (tile_size, out)."""
    tile_size = DEFAULT_TILE_SIZE if tile_size is None else tile_size
    if not isinstance(tile_size, (int, np.integer)) or isinstance(tile_size, bool) or tile_size < 1:
        raise InputError(f"tile_size must be a positive number of cells, got {tile_size!r}")
    if out is not None:
        out = os.fspath(out)
        if out.lower().endswith(".zarr"):
            raise InputError("Zarr output is not supported yet; write a GeoTIFF (.tif)")
        if not out.lower().endswith((".tif", ".tiff")):
            raise InputError(f"out must be a GeoTIFF path ending in .tif, got {out!r}")
    if workers is not None and (not isinstance(workers, (int, np.integer)) or isinstance(workers, bool)
                                or workers < 0):
        raise InputError(f"workers must be a non-negative integer, got {workers!r}")
    return int(tile_size), out


@dataclass
class _Source:
    """The full output grid of a tiled run and where its terrain comes from (never a full array)."""

    data: Any  # ndarray (a Terrain's elevations), a _RasterSource, or None (smooth earth)
    transform: Any
    crs: Any
    shape: tuple
    terrain_meta: dict
    hash_terrain: dict
    voids: Any = None  # void mask of a terrain whose voids are kept (NaN in the result)


def _open_source(prep, terrain, bounds, radius_m, resolution_m, crs) -> _Source:
    if terrain is None:
        g, meta = _smooth_earth_grid(prep.m, prep.sites, bounds, radius_m, resolution_m, crs)  # zeros: lazy pages
        return _Source(None, g.transform, g.crs, g.shape, meta, {"none": True})
    _warn_resolution_ignored(resolution_m)
    if isinstance(terrain, Terrain):
        t = terrain.window_lonlat(bounds) if bounds is not None else terrain
        return _Source(t.elevation_m, t.transform, t.crs, t.shape, _terrain_meta(t), {"array": True},
                       t.void_mask if t.keep_voids else None)
    if isinstance(terrain, (str, os.PathLike)):
        data, transform, gcrs, shape, ident = _open_raster_terrain(terrain, bounds)
        meta = {"has_terrain": True, "sources": [os.fspath(terrain)], "void_cells_filled": 0,
                "voids_kept_as_nan": False, "crs": gcrs.to_string()}
        return _Source(data, transform, gcrs, shape, meta, ident)
    raise InputError(f"terrain must be a Terrain, a raster path or None, got {type(terrain).__name__}")


def _open_parts(out, base_meta, src, tile_size, prep) -> "_Parts":
    """The resume folder of ``out``, keyed by a hash of every input."""
    from .._version import __version__

    key = _hash_inputs({"v": _FORMAT_VERSION, "pkg": __version__, "meta": base_meta, "terrain": src.hash_terrain,
                        "grid": [list(src.shape), list(src.transform)[:6], src.crs.to_wkt()],
                        "tile_size": tile_size, "model_object": repr(prep.m)},
                       src.data if isinstance(src.data, np.ndarray) else None, prep.sites)
    return _Parts(out, key)


def _engine(client, workers):
    """(client, own_client, engine kind, workers)."""
    own_client = False
    if client is not None and isinstance(client, str):
        from distributed import Client

        client = Client(client)
        own_client = True
    if client is not None:
        return client, own_client, "dask", max(1, sum(client.nthreads().values()))
    n_workers = _cpu_count() if workers is None else int(workers)
    return None, False, ("processes" if n_workers > 0 else "in-process"), n_workers


def _spec_factory(prep, src, per_tile, margin, positions, rx_height_m, radius_m, engine, cover=None,
                  clutter_loss=None):
    """A function tile -> _TileSpec (the tile's terrain window, its sites and everything else)."""
    marg_r, marg_c = margin
    sx, sy, inside = positions
    shape = src.shape
    site_table = pd.DataFrame(prep.sites[[c for c in prep.sites.columns if c != "geometry"]])

    def spec_of(t) -> _TileSpec:
        r0, c0, h, w = t
        wr0, wc0 = max(r0 - marg_r, 0), max(c0 - marg_c, 0)
        wr1, wc1 = min(r0 + h + marg_r, shape[0]), min(c0 + w + marg_c, shape[1])
        idx = per_tile[t]
        elev = (np.ascontiguousarray(src.data[wr0:wr1, wc0:wc1], dtype=np.float32)
                if isinstance(src.data, np.ndarray) else src.data)
        cut = {k: np.ascontiguousarray(v[wr0:wr1, wc0:wc1]) for k, v in (cover or {}).items()}
        return _TileSpec(t, (wr0, wc0, wr1 - wr0, wc1 - wc0), elev, src.transform, src.crs,
                         bool(src.crs.is_geographic), site_table.iloc[idx].reset_index(drop=True), idx, sx[idx],
                         sy[idx], inside[idx], prep.m, dict(prep.params), prep.tech, prep.threshold,
                         float(rx_height_m), float(radius_m), None if engine == "in-process" else 1,
                         clutter_loss=clutter_loss, **cut)

    return spec_of


class _TiledRun:
    """Resume, schedule, write: the tiles of one run into a writer (GeoTIFF or memory)."""

    def __init__(self, tiles, per_tile, parts, resume, out, src, tile_size, progress, name):
        from ..progress import is_interactive

        self.tiles, self.per_tile, self.parts, self.resume, self.out = tiles, per_tile, parts, resume, out
        self.src, self.tile_size = src, tile_size
        self.tmp_tif = os.path.join(parts.dir, "assembling.tif") if parts is not None else None
        self.stats = {"computed": 0, "resumed": 0, "empty": 0, "cell_evaluations": 0, "task_seconds": 0.0,
                      "worker_peak_rss_mb": float("nan")}
        self.bar = None
        if progress or (progress is None and is_interactive() and len(tiles) > 4):
            with contextlib.suppress(ImportError):
                from tqdm.auto import tqdm

                self.bar = tqdm(total=len(tiles), desc=f"{name} tiles", unit="tile")
        self.writer: Any = None
        self._stack = contextlib.ExitStack()
        self.sampler = _MemorySampler()

    def __enter__(self):
        import rasterio

        self._stack.enter_context(rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_BYTES))
        if self.out is not None:
            self.writer = _GeoTiffWriter(self.tmp_tif, self.src.shape, self.src.transform, self.src.crs,
                                         self.tile_size)
        else:
            self.writer = _MemoryWriter(self.src.shape)
        self._stack.enter_context(self.sampler)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.bar is not None:
            self.bar.close()
        if exc_type is not None and self.out is not None:
            # interrupted: the half-assembled GeoTIFF is useless, the tile parts are kept for resume
            with contextlib.suppress(Exception):
                self.writer.ds.close()
            with contextlib.suppress(OSError):
                os.unlink(self.tmp_tif)
            self.writer = None
            n_saved = len([f for f in os.listdir(self.parts.dir) if f.endswith(".npz")]) \
                if os.path.isdir(self.parts.dir) else 0
            note = (f"coverage: interrupted; {n_saved} finished tile(s) of {len(self.tiles)} are kept in "
                    f"{self.parts.dir}: the same call again resumes from them")
            log.warning(note)
            if exc is not None and hasattr(exc, "add_note"):
                exc.add_note(note)
        self._stack.close()
        return False

    def finish(self, res, fresh):
        """Write one finished tile (and save it for resume when it was computed now)."""
        if self.src.voids is not None:
            r0, c0, h, w = res["tile"]
            _mask_voids(self.src.voids[r0:r0 + h, c0:c0 + w], res["best_dbm"], res["second_dbm"],
                        res["best_server"], res["n_servers"])
        self.writer.write(res)
        if fresh and self.parts is not None:
            self.parts.save(res)
        st = self.stats
        st["cell_evaluations"] += int(res["cell_evaluations"])
        st["task_seconds"] += float(res["seconds"])
        if "peak_rss_mb" in res and not res["peak_rss_mb"] <= st["worker_peak_rss_mb"]:
            st["worker_peak_rss_mb"] = float(res["peak_rss_mb"])
        if self.bar is not None:
            self.bar.update(1)

    def schedule(self, client, engine, n_workers, spec_of) -> None:
        """Resume the finished tiles, write the empty ones, run the rest on the engine."""
        todo = []
        for t in self.tiles:
            done = self.parts.load(t) if (self.parts is not None and self.resume) else None
            if done is not None:
                self.stats["resumed"] += 1
                self.finish(done, fresh=False)
            elif len(self.per_tile[t]) == 0:
                self.stats["empty"] += 1
                self.finish(_empty_tile(t), fresh=False)  # nothing to save: free to redo
            else:
                todo.append(t)
        if self.stats["resumed"]:
            log.info("resuming %d of %d tiles from %s", self.stats["resumed"], len(self.tiles), self.parts.dir)
        if not todo:
            return
        if engine == "dask":
            _run_dask(client, todo, spec_of, self.finish, self.stats, n_workers)
        elif engine == "processes" and len(todo) > 1:
            _run_processes(todo, spec_of, self.finish, self.stats, min(n_workers, len(todo)))
        else:
            for t in todo:
                self.finish(_run_tile(spec_of(t)), fresh=True)
                self.stats["computed"] += 1

    def metadata(self, t_start, shape, tile_size, pairs, n_sites, margin, engine, n_workers) -> dict:
        st = self.stats
        elapsed = time.perf_counter() - t_start
        cells = shape[0] * shape[1]
        meta = {
            "cell_evaluations": st["cell_evaluations"], "seconds": round(elapsed, 3),
            "tiles": {"tile_size": tile_size, "n_tiles": len(self.tiles), "computed": st["computed"],
                      "resumed": st["resumed"], "empty": st["empty"], "site_tile_pairs": pairs,
                      "redundancy": round(pairs / max(n_sites, 1), 3), "margin_cells": list(margin)},
            "engine": {"kind": engine, "workers": n_workers if engine != "in-process" else 1,
                       "numba_threads_per_task": None if engine == "in-process" else 1,
                       "task_seconds": round(st["task_seconds"], 3)},
            "memory": {"driver_peak_rss_mb": round(_peak_rss_mb(), 1),
                       "worker_peak_rss_mb": round(st["worker_peak_rss_mb"], 1),
                       "total_peak_rss_mb": round(self.sampler.peak_total_mb, 1)},
            "cells": cells, "cells_per_second": round(cells / elapsed, 1) if elapsed > 0 else None,
        }
        if engine == "dask":
            meta["memory"]["note"] = "total_peak_rss_mb counts only local child processes of the driver"
        return meta

    def publish(self, out, meta, prep, cog) -> "LazyCoverageResult":
        """Close the assembled GeoTIFF and rename it to ``out`` (whole or not at all); drop the parts."""
        meta["out"] = os.path.abspath(out)
        tags = {"COVERAGE_MODEL": prep.m.name, "COVERAGE_METRIC": prep.metric, "COVERAGE_TECHNOLOGY": prep.tech,
                "COVERAGE_METADATA": meta, "COVERAGE_SITE_IDS": list(map(str, prep.sites["site_id"]))}
        self.writer.close(tags)
        self.writer = None
        final = self.tmp_tif
        if cog:
            import rasterio.shutil

            final = os.path.join(self.parts.dir, "assembling-cog.tif")
            with rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_BYTES):
                rasterio.shutil.copy(self.tmp_tif, final, driver="COG", compress="deflate", blocksize=256,
                                     BIGTIFF="IF_SAFER")
        write_site_table(out, prep.sites)
        os.replace(final, out)  # out appears whole or not at all
        self.parts.remove()
        return LazyCoverageResult(out, prep.sites, meta)


def _run_processes(todo, spec_of, finish, stats, n_workers, max_restarts: int = 2):
    """Tiles on a spawn-started process pool; a crashed pool is restarted for the unfinished tiles.

    An interrupt (Ctrl-C) or an error stops at once: queued tiles are cancelled and the workers
    terminated instead of waiting for their running tiles (the finished ones are saved for resume).
    """
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    pending = list(todo)
    restarts = 0
    while pending:
        ex = ProcessPoolExecutor(n_workers, mp_context=mp.get_context("spawn"))
        try:
            inflight = {}
            queue = list(pending)
            while queue or inflight:
                while queue and len(inflight) < 2 * n_workers:  # bounded: the driver holds few tiles
                    t = queue.pop(0)
                    inflight[ex.submit(_run_tile, spec_of(t))] = t
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    t = inflight.pop(fut)
                    finish(fut.result(), fresh=True)
                    stats["computed"] += 1
                    pending.remove(t)
            ex.shutdown(wait=True)
        except BrokenProcessPool:
            _stop_pool(ex)
            restarts += 1
            if restarts > max_restarts:
                raise
            log.warning("a worker process died; restarting the pool for %d unfinished tiles", len(pending))
        except BaseException:
            _stop_pool(ex)
            raise


def _stop_pool(ex) -> None:
    """Cancel queued tiles and terminate the workers now (never wait for running tiles)."""
    procs = list(getattr(ex, "_processes", {}).values())  # private, but the only handle on the workers
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(timeout=5)


def _run_dask(client, todo, spec_of, finish, stats, n_workers):
    """Tiles as Dask tasks; at most ``2 x threads`` in flight, results written as they complete."""
    from distributed import as_completed

    queue = list(todo)
    ac = as_completed()

    data = {}

    def submit(t):
        spec = spec_of(t)
        elev = spec.elevation
        if isinstance(elev, np.ndarray):
            # the window travels as its own piece of data, not inline in the task message
            elev = client.scatter(elev, hash=False)
            spec.elevation = None
        fut = client.submit(_run_tile_with, spec, elev, pure=False, retries=2)
        data[fut.key] = elev
        ac.add(fut)

    try:
        for _ in range(min(len(queue), 2 * n_workers)):
            submit(queue.pop(0))
        for fut in ac:
            res = fut.result()
            data.pop(fut.key, None)  # drop our reference: the cluster may free the window
            fut.release()
            finish(res, fresh=True)
            stats["computed"] += 1
            if queue:
                submit(queue.pop(0))
    except BaseException:
        # an interrupt or an error: cancel the tiles still on the cluster instead of letting them run on
        with contextlib.suppress(Exception):
            client.cancel(list(ac.futures), force=True)
        raise
