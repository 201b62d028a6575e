"""Per-site geometry, computed once and reused across models, frequencies and antenna heights.

For one site and radius, :class:`SiteGeometry` holds

* the window of the output grid that the radius covers, with each cell's horizontal distance (m),
  azimuth and ground height;
* on demand, the radial profiles: ``nrad`` radials at equal azimuth steps, sampled every ``step_m``
  by bilinear interpolation of the terrain (``nrad`` is such that neighbouring radials are at most
  ``step_m`` apart at the radius, and a multiple of 8 so that the radial set is symmetric under
  mirroring and quarter turns).

Radio physics runs afterwards on these arrays (:meth:`SiteGeometry.loss_db`): a profile model gives
the excess loss over free space at the radial samples; each cell takes it from the two radials that
bracket its azimuth, linearly in distance and azimuth, and adds free-space loss over its own 3-D
distance. Models that declare ``radial_arrays`` (P.526, ITM) run on a :class:`RadialSet` instead:
coarser near the site, with the samples no cell reads skipped, and spaced by the cell size across
each direction (``radial_spacing = "across"``, P.526) or uniform (``"min"``, ITM). A model whose
loss is not smooth between radials (``cell_mapping = "nearest"``, ITM) gives each cell the excess
loss of its nearest radial sample, and only those samples are evaluated. ``exact=True`` keeps the
uniform radials above, every sample and the interpolation. This is the pycraf idea:
terrain geometry is frequency-independent, so a second frequency or height reuses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, TerrainExtentError
from ..io.terrain import WGS84_A, WGS84_E2
from ..io.terrain import cell_size_m as grid_cell_size_m
from ..propagation import DistanceModel, ProfileModel, get_model
from . import _kernels as K

#: Coarsest radial subset used near the site (every 2**MAX_LEVELS-th radial); limited further by the
#: power of two that divides ``nrad``.
MAX_LEVELS = 6


@dataclass
class Grid:
    """A window of the output grid: ground heights (zeros without terrain), the *full* grid's north-up
    transform and CRS, and the window's offset in the full grid.

    Cell ``[i, j]`` of ``elevation_m`` is full-grid cell ``[i + row_off, j + col_off]``. Kernels work in
    full-grid indices, so any window (a tile plus its margin) gives bit-identical values.
    """

    elevation_m: np.ndarray
    transform: object
    crs: object
    geographic: bool
    row_off: int = 0
    col_off: int = 0
    clutter_m: np.ndarray | None = None  # representative clutter height per cell (m), as elevation_m
    clutter_type: np.ndarray | None = None  # P.2108 clutter type per cell (1-6)

    @property
    def shape(self):
        return self.elevation_m.shape

    @property
    def kernel_transform(self):
        t = self.transform
        return float(t.c), float(t.a), float(t.f), float(t.e)

    def cell_size_m(self, lat_deg: float | None = None) -> tuple[float, float]:
        """(east-west, north-south) cell size (m), at ``lat_deg`` (default: the window's centre)."""
        t = self.transform
        lat = lat_deg if lat_deg is not None else t.f + t.e * (self.row_off + self.shape[0] / 2)
        return grid_cell_size_m(t, self.geographic, lat)


@dataclass
class SiteGeometry:
    """Terrain geometry of one site position: cell window and (lazily) radial profiles."""

    grid: Grid
    x: float  # site position in grid CRS (lon/lat degrees when geographic)
    y: float
    radius_m: float
    window: tuple[int, int, int, int]  # r0, c0 (full-grid indices), rows, cols
    dist_m: np.ndarray
    azimuth_rad: np.ndarray
    ground_m: np.ndarray
    site_ground_m: float
    step_m: float
    nrad: int
    _profiles: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _clutter: np.ndarray | None = field(default=None, repr=False)
    _radial_sets: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, grid: Grid, x: float, y: float, radius_m: float, step_m: float | None = None,
              allow_outside: bool = False) -> SiteGeometry:
        """Geometry of a site at grid coordinates (x, y).

        ``allow_outside`` accepts a site off the grid (smooth-earth runs, where a site outside the
        area still covers part of it); such a site has no profiles.
        """
        if not radius_m > 0:
            raise InputError(f"radius_m must be positive, got {radius_m}")
        rows, cols = grid.shape
        ro, co = grid.row_off, grid.col_off
        xl, dx, yt, dy = grid.kernel_transform
        col_f = (x - xl) / dx - 0.5
        row_f = (y - yt) / dy - 0.5
        inside = ro - 0.5 <= row_f <= ro + rows - 0.5 and co - 0.5 <= col_f <= co + cols - 0.5
        if not inside and not allow_outside:
            raise TerrainExtentError(f"site at ({x}, {y}) is outside the grid")
        ew, ns = grid.cell_size_m(y if grid.geographic else None)
        half_c = int(math.ceil(radius_m / ew)) + 1
        half_r = int(math.ceil(radius_m / ns)) + 1
        ci, ri = int(round(col_f)), int(round(row_f))
        r0, r1 = max(ri - half_r, ro), min(ri + half_r + 1, ro + rows)
        c0, c1 = max(ci - half_c, co), min(ci + half_c + 1, co + cols)
        h, w = max(r1 - r0, 0), max(c1 - c0, 0)
        dist = np.empty((h, w))
        az = np.empty((h, w))
        z = np.empty((h, w))
        K.cell_geometry(grid.elevation_m, ro, co, xl, dx, yt, dy, r0, c0, float(x), float(y), grid.geographic,
                        WGS84_A, WGS84_E2, float(radius_m), dist, az, z)
        site_z = float(K.bilinear_off(grid.elevation_m, row_f, col_f, ro, co)) if inside else 0.0
        step = float(step_m) if step_m else min(ew, ns)
        nrad = int(math.ceil(2.0 * math.pi * radius_m / step / 8.0)) * 8
        return cls(grid, float(x), float(y), float(radius_m), (r0, c0, h, w), dist, az, z, site_z, step, nrad)

    @property
    def profiles(self) -> tuple[np.ndarray, np.ndarray]:
        """(z2d, nvalid): ground height of each radial sample and the valid length of each radial."""
        if self._profiles is None:
            nsamp = int(math.ceil(self.radius_m / self.step_m)) + 2
            z2d = np.empty((self.nrad, nsamp))
            nvalid = np.empty(self.nrad, dtype=np.int64)
            xl, dx, yt, dy = self.grid.kernel_transform
            K.radial_profiles(self.grid.elevation_m, self.grid.row_off, self.grid.col_off, xl, dx, yt, dy,
                              self.x, self.y, self.grid.geographic,
                              WGS84_A, WGS84_E2, self.step_m, z2d, nvalid)
            self._profiles = (z2d, nvalid)
        return self._profiles

    def _clutter_inputs(self) -> dict:
        """Clutter heights along the radials (sampled as the terrain is) and the site latitude."""
        g = self.grid
        if g.geographic:
            lat = self.y
        else:
            from pyproj import Transformer

            lat = Transformer.from_crs(g.crs, "EPSG:4326", always_xy=True).transform(self.x, self.y)[1]
        if g.clutter_m is None:
            return {"r2d": None, "lat_deg": float(lat)}
        if self._clutter is None:
            z2d, _ = self.profiles
            r2d = np.empty_like(z2d)
            nv = np.empty(z2d.shape[0], dtype=np.int64)
            xl, dx, yt, dy = g.kernel_transform
            K.radial_profiles(g.clutter_m, g.row_off, g.col_off, xl, dx, yt, dy, self.x, self.y, g.geographic,
                              WGS84_A, WGS84_E2, self.step_m, r2d, nv)
            self._clutter = r2d
        return {"r2d": self._clutter, "lat_deg": float(lat)}

    def radial_set(self, spacing: str = "cell") -> RadialSet:
        """The radials of the fast path (built on first use, then kept).

        ``spacing="cell"``: spaced and sampled by the cell size across and along each direction;
        ``"across"``: spaced by the cell size across each direction, sampled every smaller cell side;
        ``"min"``: uniform at the smaller cell side (the radials of :attr:`profiles`). All are
        thinned near the site.
        """
        rs = self._radial_sets.get(spacing)
        if rs is None:
            ew, ns = self.grid.cell_size_m(self.y if self.grid.geographic else None)
            if spacing == "min":
                ew = ns = min(ew, ns)
            elif spacing not in ("cell", "across"):
                raise InputError(f"radial spacing must be 'cell', 'across' or 'min', got {spacing!r}")
            rs = RadialSet.build(self, ew, ns, along_min=spacing == "across")
            self._radial_sets[spacing] = rs
        return rs

    def loss_db(self, model, *, freq_mhz: float, h_tx_m: float, h_rx_m: float, **params) -> np.ndarray:
        """Basic transmission loss (dB) on the window; NaN outside the radius.

        ``exact=True`` (profile models that have it) computes every sample of every radial with the
        reference method and maps cells from all radials: today's per-sample result.
        """
        m = get_model(model)
        if isinstance(m, DistanceModel):
            return m.loss_db(self.dist_m, freq_mhz=freq_mhz, h_tx_m=h_tx_m, h_rx_m=h_rx_m, **params)
        if not isinstance(m, ProfileModel):
            raise InputError(f"model {m.name!r} is neither a distance nor a profile model")
        cell_excess = np.empty_like(self.dist_m)
        if params.get("exact", False) or not getattr(m, "radial_arrays", False):
            z2d, nvalid = self.profiles
            # a clutter model (P.1812) reads the clutter heights carried along the same radials
            extra = self._clutter_inputs() if getattr(m, "uses_clutter", False) else {}
            excess = m.radial_excess_db(z2d, nvalid, self.step_m, freq_mhz=freq_mhz, h_tx_m=h_tx_m,
                                        h_rx_m=h_rx_m, **extra, **params)
            K.radials_to_cells(excess, nvalid, self.step_m, self.dist_m, self.azimuth_rad, cell_excess)
        else:
            rs = self.radial_set(getattr(m, "radial_spacing", "cell"))
            z2d, nvalid = rs.profiles
            if getattr(m, "cell_mapping", "interpolate") == "nearest":
                need, jk = rs.nearest
                excess = m.radial_excess_db(z2d, nvalid, rs.step_m, freq_mhz=freq_mhz, h_tx_m=h_tx_m,
                                            h_rx_m=h_rx_m, need=need, **params)
                K.cells_from_samples(excess, jk, cell_excess)
            else:
                excess = m.radial_excess_db(z2d, nvalid, rs.step_m, freq_mhz=freq_mhz, h_tx_m=h_tx_m,
                                            h_rx_m=h_rx_m, k_first=rs.k_first, **params)
                K.radials_to_cells_dir(excess, nvalid, rs.step_m, self.dist_m, self.azimuth_rad, rs.phi,
                                       rs.r_nominal_m, rs.levels, cell_excess)
        loss = np.empty_like(self.dist_m)
        h_ts = self.site_ground_m + h_tx_m
        K.free_space_plus(cell_excess, self.dist_m, self.ground_m, h_ts if m.free_space_3d else np.nan,
                          float(h_rx_m), float(freq_mhz), loss)
        return loss


@dataclass
class RadialSet:
    """Radials spaced by the cell size across them, sampled by the cell size along them.

    On a grid whose cells are ``ew`` x ``ns`` m, the spacing of cell centres across a radial at
    azimuth az (clockwise from north) is s_perp = 1 / sqrt((cos az / ew)^2 + (sin az / ns)^2) and
    along it s_along = 1 / sqrt((sin az / ew)^2 + (cos az / ns)^2). The radial density is made
    proportional to 1 / s_perp (neighbours exactly s_perp apart at the radius) and each radial is
    sampled every s_along: about one sample per cell in every direction, where uniform radials at
    the smaller side oversample by ns/ew (2x at 60 degrees latitude). ``phi`` tabulates the
    cumulative density, which maps a cell's azimuth to a fractional radial index.

    Near the site the radials are denser than the cells: a cell closer than ``r_nominal_m / 2**l``
    reads every 2**l-th radial only (still at most s_perp apart there), so the samples before
    ``k_first[j]`` are never read, and models that declare ``radial_arrays`` skip them. On square
    cells the set is the uniform one (up to rounding).
    """

    azimuth_rad: np.ndarray
    step_m: np.ndarray
    phi: np.ndarray
    nrad: int
    r_nominal_m: float
    levels: int
    k_first: np.ndarray
    geometry: SiteGeometry = field(repr=False)
    _profiles: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _nearest: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def nearest(self) -> tuple[np.ndarray, np.ndarray]:
        """(need, jk): the samples some cell takes (uint8, shape of the profiles) and each cell's
        nearest sample as a flat index (int64, window shape; -1: none) -- for models whose loss is
        not smooth between radials (``cell_mapping = "nearest"``, ITM)."""
        if self._nearest is None:
            z2d, nvalid = self.profiles
            geo = self.geometry
            need = np.zeros(z2d.shape, dtype=np.uint8)
            jk = np.empty(geo.dist_m.shape, dtype=np.int64)
            K.nearest_samples(geo.dist_m, geo.azimuth_rad, self.phi, self.step_m, nvalid, need, jk)
            self._nearest = (need, jk)
        return self._nearest

    @classmethod
    def build(cls, geo: SiteGeometry, ew: float, ns: float, table: int = 8192,
              along_min: bool = False) -> RadialSet:
        phi = np.empty(table + 1)
        K.azimuth_table(float(ew), float(ns), phi)
        nrad = int(math.ceil(geo.radius_m * phi[-1] / 8.0)) * 8
        az = np.empty(nrad)
        step = np.empty(nrad)
        K.radial_azimuths(phi, nrad, float(ew), float(ns), az, step)
        if along_min:
            step[:] = min(ew, ns)
        levels = min((nrad & -nrad).bit_length() - 1, MAX_LEVELS)
        r_nom = nrad / phi[-1]  # where neighbouring radials are exactly s_perp apart
        k_first = np.empty(nrad, dtype=np.int64)
        K.radial_first_samples(r_nom, step, levels, k_first)
        return cls(az, step, phi, nrad, float(r_nom), levels, k_first, geo)

    @property
    def profiles(self) -> tuple[np.ndarray, np.ndarray]:
        """(z2d, nvalid) of the directional radials (rows padded with NaN to the longest)."""
        if self._profiles is None:
            geo = self.geometry
            nmax = (np.ceil(geo.radius_m / self.step_m) + 2).astype(np.int64)
            z2d = np.empty((self.nrad, int(nmax.max())))
            nvalid = np.empty(self.nrad, dtype=np.int64)
            xl, dx, yt, dy = geo.grid.kernel_transform
            K.radial_profiles_dir(geo.grid.elevation_m, geo.grid.row_off, geo.grid.col_off, xl, dx, yt, dy,
                                  geo.x, geo.y, geo.grid.geographic, WGS84_A, WGS84_E2, self.azimuth_rad,
                                  self.step_m, nmax, z2d, nvalid)
            self._profiles = (z2d, nvalid)
        return self._profiles
