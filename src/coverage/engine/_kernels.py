"""Numba kernels of the coverage engine: site-local metric frame, radial profiles, cell mapping,
antenna pattern and multi-site combination.

Private module: plain arrays and floats in and out; grids are north-up with the pixel-corner
transform given as (x_left, dx, y_top, dy) with dy < 0; ``geographic`` selects degrees on the WGS84
ellipsoid (a, e2 passed in) or projected metres.

The site-local frame maps a point to (east, north) metres from the site. On a geographic grid it uses
the ellipsoidal mid-latitude plane (meridian and prime-vertical radii at the mean latitude), whose
error against the WGS84 geodesic is below 1e-4 of the distance out to 100 km (tested against pyproj):
it only decides which terrain a radial samples and which radial a cell takes, never a path length in
the physics (those are the radial distances themselves).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..propagation._kernels.antenna import sector_attenuation_db


@njit(cache=True, inline="always")
def _radii(phi, a, e2):
    s = math.sin(phi)
    w = math.sqrt(1.0 - e2 * s * s)
    return a * (1.0 - e2) / (w * w * w), a / w  # meridian M, prime vertical N


@njit(cache=True, inline="always")
def local_to_grid(east, north, sx, sy, geographic, a, e2):
    """(east, north) metres from the site -> grid coordinates (degrees or metres)."""
    if not geographic:
        return sx + east, sy + north
    phi0 = math.radians(sy)
    m0, _ = _radii(phi0, a, e2)
    phi = phi0 + north / m0
    for _ in range(3):
        phim = 0.5 * (phi0 + phi)
        m, _ = _radii(phim, a, e2)
        phi = phi0 + north / m
    phim = 0.5 * (phi0 + phi)
    _, n = _radii(phim, a, e2)
    lam = math.radians(sx) + east / (n * math.cos(phim))
    return math.degrees(lam), math.degrees(phi)


@njit(cache=True, inline="always")
def grid_to_local(x, y, sx, sy, geographic, a, e2):
    """Grid coordinates -> (east, north) metres from the site."""
    if not geographic:
        return x - sx, y - sy
    phi0 = math.radians(sy)
    phi = math.radians(y)
    phim = 0.5 * (phi0 + phi)
    m, n = _radii(phim, a, e2)
    return n * math.cos(phim) * math.radians(x - sx), m * (phi - phi0)


@njit(cache=True, inline="always")
def bilinear_off(z, row, col, row_off, col_off):
    """Bilinear value at full-grid fractional (row, col) of a window whose [0, 0] is [row_off, col_off].

    The interpolation weights come from the full-grid coordinates, so a window gives the same bits
    as the whole grid; outside the window the nearest edge value is used.
    """
    nr, nc = z.shape
    rmax = row_off + nr - 1
    cmax = col_off + nc - 1
    if row < row_off:
        row = float(row_off)
    if col < col_off:
        col = float(col_off)
    if row > rmax:
        row = float(rmax)
    if col > cmax:
        col = float(cmax)
    r0 = int(math.floor(row))
    c0 = int(math.floor(col))
    fr = row - r0
    fc = col - c0
    i0 = r0 - row_off
    j0 = c0 - col_off
    i1 = min(i0 + 1, nr - 1)
    j1 = min(j0 + 1, nc - 1)
    top = z[i0, j0] * (1.0 - fc) + z[i0, j1] * fc
    bot = z[i1, j0] * (1.0 - fc) + z[i1, j1] * fc
    return top * (1.0 - fr) + bot * fr


@njit(cache=True, inline="always")
def _lat_tables(sx, sy, geographic, a, e2, rmax, step):
    ntab = int(2.0 * rmax / step) + 3
    lat_tab = np.empty(ntab)
    lonk_tab = np.empty(ntab)
    if geographic:
        for i in range(ntab):
            north = -rmax + i * step
            x1, y1 = local_to_grid(1.0, north, sx, sy, geographic, a, e2)
            lat_tab[i] = y1
            lonk_tab[i] = x1 - sx  # degrees of longitude per metre east at this northing
    return lat_tab, lonk_tab


@njit(cache=True, inline="always")
def _profile_one(elev, row_off, col_off, x_left, dx, y_top, dy, sx, sy, geographic, az, ds, nsamp,
                 rmax, step, lat_tab, lonk_tab, zrow):
    # one radial: bilinear heights every ds m on azimuth az; returns the number of valid samples
    nr, nc = elev.shape
    sa = math.sin(az)
    ca = math.cos(az)
    nv = nsamp
    for k in range(nsamp):
        s = k * ds
        east = s * sa
        north = s * ca
        if geographic:
            f = (north + rmax) / step
            i0 = int(f)
            t = f - i0
            y = lat_tab[i0] * (1.0 - t) + lat_tab[i0 + 1] * t
            x = sx + east * (lonk_tab[i0] * (1.0 - t) + lonk_tab[i0 + 1] * t)
        else:
            x = sx + east
            y = sy + north
        col = (x - x_left) / dx - 0.5
        row = (y - y_top) / dy - 0.5
        if row < row_off - 0.5 or col < col_off - 0.5 or row > row_off + nr - 0.5 or col > col_off + nc - 0.5:
            nv = k
            break
        zrow[k] = bilinear_off(elev, row, col, row_off, col_off)
    for k in range(nv, zrow.shape[0]):
        zrow[k] = np.nan
    return nv


@njit(cache=True, parallel=True)
def radial_profiles(elev, row_off, col_off, x_left, dx, y_top, dy, sx, sy, geographic, a, e2, ds, z2d, nvalid):
    """Fill ``z2d[j, k]`` with the bilinear ground height at distance k*ds on azimuth 2*pi*j/nrad.

    ``elev`` is a window of a larger grid whose transform is given; its cell [0, 0] is the grid's
    cell [row_off, col_off]. Working in the full grid's indices keeps every value bit-identical
    whatever window is used (tiled runs). ``nvalid[j]`` is the number of leading samples that lie on
    the window (a radial stops at its edge: every later sample is NaN).

    On a geographic grid the latitude and the longitude scale depend on the northing alone: they
    are tabulated once per site (every ds/16 m) and interpolated, instead of solving the inverse
    of the site frame at each of the ~10^6 samples.
    """
    nrad, nsamp = z2d.shape
    rmax = (nsamp + 1) * ds
    step = ds / 16.0
    lat_tab, lonk_tab = _lat_tables(sx, sy, geographic, a, e2, rmax, step)
    for j in prange(nrad):
        nvalid[j] = _profile_one(elev, row_off, col_off, x_left, dx, y_top, dy, sx, sy, geographic,
                                 2.0 * math.pi * j / nrad, ds, nsamp, rmax, step, lat_tab, lonk_tab, z2d[j])


@njit(cache=True, parallel=True)
def radial_profiles_dir(elev, row_off, col_off, x_left, dx, y_top, dy, sx, sy, geographic, a, e2, az_j, ds_j,
                        nmax_j, z2d, nvalid):
    """:func:`radial_profiles` for radials at azimuths ``az_j`` (rad), each with its own spacing
    ``ds_j`` (m) and at most ``nmax_j`` samples (the radius)."""
    nrad, nsamp = z2d.shape
    ds_min = np.inf
    rmax = 0.0
    for j in range(nrad):
        ds_min = min(ds_min, ds_j[j])
        rmax = max(rmax, (nmax_j[j] + 1) * ds_j[j])
    step = ds_min / 16.0
    lat_tab, lonk_tab = _lat_tables(sx, sy, geographic, a, e2, rmax, step)
    for j in prange(nrad):
        nvalid[j] = _profile_one(elev, row_off, col_off, x_left, dx, y_top, dy, sx, sy, geographic,
                                 az_j[j], ds_j[j], min(nmax_j[j], nsamp), rmax, step, lat_tab, lonk_tab, z2d[j])


@njit(cache=True, inline="always")
def _perp_density(az, ew, ns):
    # radials per metre of arc at azimuth az: the inverse of the cell spacing across the radial
    # (the distance between cell centres along (cos az, -sin az) on the ew x ns lattice's ellipse)
    c = math.cos(az) / ew
    s = math.sin(az) / ns
    return math.sqrt(c * c + s * s)


@njit(cache=True)
def azimuth_table(ew, ns, phi):
    """Cumulative radial density phi[i] = integral_0^(2 pi i/m) of 1/s_perp(az) d az (trapezoids),
    m = len(phi) - 1: radial j sits where phi = j * phi[m] / nrad."""
    m = phi.shape[0] - 1
    h = 2.0 * math.pi / m
    phi[0] = 0.0
    prev = _perp_density(0.0, ew, ns)
    for i in range(1, m + 1):
        cur = _perp_density(i * h, ew, ns)
        phi[i] = phi[i - 1] + 0.5 * (prev + cur) * h
        prev = cur


@njit(cache=True, inline="always")
def azimuth_index(az, phi, nrad):
    """Fractional radial index of azimuth az (rad, 0..2 pi) on the table of :func:`azimuth_table`."""
    m = phi.shape[0] - 1
    f = az / (2.0 * math.pi) * m
    i = min(max(int(f), 0), m - 1)
    t = f - i
    return (phi[i] * (1.0 - t) + phi[i + 1] * t) / phi[m] * nrad


@njit(cache=True)
def radial_azimuths(phi, nrad, ew, ns, az_out, ds_out):
    """Azimuth (rad) of each radial (the inverse of :func:`azimuth_index`) and its sample spacing (m):
    the cell spacing along the radial, 1 / sqrt((sin az / ew)^2 + (cos az / ns)^2)."""
    m = phi.shape[0] - 1
    i = 0
    for j in range(nrad):
        target = j * phi[m] / nrad
        while i < m - 1 and phi[i + 1] <= target:
            i += 1
        az = 2.0 * math.pi * (i + (target - phi[i]) / (phi[i + 1] - phi[i])) / m
        az_out[j] = az
        sa = math.sin(az) / ew
        ca = math.cos(az) / ns
        ds_out[j] = 1.0 / math.sqrt(sa * sa + ca * ca)


@njit(cache=True, parallel=True)
def cell_geometry(elev, row_off, col_off, x_left, dx, y_top, dy, r0, c0, sx, sy, geographic, a, e2, radius_m,
                  dist_out, az_out, z_out):
    """Horizontal distance (m), azimuth (rad, clockwise from north) and ground height of each cell of
    the block starting at full-grid cell (r0, c0); NaN distance outside the radius. ``elev`` is a
    window whose [0, 0] is full-grid cell [row_off, col_off]."""
    h, w = dist_out.shape
    for r in prange(h):
        y = y_top + (r0 + r + 0.5) * dy
        for c in range(w):
            x = x_left + (c0 + c + 0.5) * dx
            e, n = grid_to_local(x, y, sx, sy, geographic, a, e2)
            d = math.sqrt(e * e + n * n)
            z_out[r, c] = elev[r0 + r - row_off, c0 + c - col_off]
            if d > radius_m:
                dist_out[r, c] = np.nan
                az_out[r, c] = np.nan
            else:
                dist_out[r, c] = d
                az = math.atan2(e, n)
                if az < 0.0:
                    az += 2.0 * math.pi
                az_out[r, c] = az


@njit(cache=True, inline="always")
def _blend(v0, v1, t):
    """Linear between two radials' values; one radial alone where the other has none (NaN)."""
    if v0 == v0 and v1 == v1:
        return v0 * (1.0 - t) + v1 * t
    return v0 if v0 == v0 else v1


@njit(cache=True, inline="always")
def _along(values2d, j, nv, kf):
    # value on radial j at fractional sample kf: linear between samples; before sample 1 the first
    # sample after the site; NaN past the radial's last valid sample
    k0 = int(math.floor(kf))
    if k0 < 1:
        return values2d[j, 1] if nv > 1 else np.nan
    if k0 >= nv:
        return np.nan
    if k0 + 1 >= nv:
        return values2d[j, k0]
    t = kf - k0
    return values2d[j, k0] * (1.0 - t) + values2d[j, k0 + 1] * t


@njit(cache=True, inline="always")
def cell_level(d, r_nom, levels):
    """Radial level a cell at distance ``d`` reads: the largest l <= ``levels`` with d * 2**l <= r_nom,
    i.e. the coarsest radial subset (every 2**l-th radial) whose spacing at that distance is still at
    most the spacing of all radials at the nominal radius ``r_nom`` (same units as ``d``)."""
    lv = 0
    while lv < levels and d * (1 << (lv + 1)) <= r_nom:
        lv += 1
    return lv


@njit(cache=True)
def radial_first_samples(r_nom, ds_j, levels, out):
    """First sample of each radial that a cell can read under :func:`cell_level` (one sample of margin).

    Radial j belongs to levels 0..t with t = min(trailing zeros of j, ``levels``) (radial 0: ``levels``);
    cells read it only beyond r_nom / 2**(t+1), i.e. from that distance over ``ds_j[j]`` on.
    """
    for j in range(out.shape[0]):
        t = 0
        while t < levels and (j >> t) & 1 == 0:
            t += 1
        if t >= levels:
            out[j] = 1
        else:
            out[j] = max(1, int(math.floor(r_nom / (1 << (t + 1)) / ds_j[j])) - 1)


@njit(cache=True, parallel=True)
def radials_to_cells_dir(values2d, nvalid, ds_j, dist, az, phi, r_nom, levels, out):
    """:func:`radials_to_cells` for the directional radial set (:func:`radial_azimuths`): the cell's
    azimuth gives a fractional radial index through ``phi``, each radial has its own spacing, and a
    cell at less than r_nom / 2**l reads every 2**l-th radial only (:func:`cell_level`)."""
    nrad = values2d.shape[0]
    h, w = dist.shape
    for r in prange(h):
        for c in range(w):
            d = dist[r, c]
            if not (d >= 0.0):
                out[r, c] = np.nan
                continue
            a = azimuth_index(az[r, c], phi, nrad)
            lv = cell_level(d, r_nom, levels)
            span = 1 << lv
            ja = int(math.floor(a))
            jb = (ja >> lv) << lv
            ta = (a - jb) / span
            j0 = jb % nrad
            j1 = (j0 + span) % nrad
            v0 = _along(values2d, j0, nvalid[j0], d / ds_j[j0])
            v1 = _along(values2d, j1, nvalid[j1], d / ds_j[j1])
            out[r, c] = _blend(v0, v1, ta)


@njit(cache=True, parallel=True)
def nearest_samples(dist, az, phi, ds_j, nvalid, need, jk):
    """Nearest radial sample of each cell: ``jk[r, c] = j * nsamp + k`` (-1 outside the radius or off
    the radials), and ``need[j, k] = 1`` for every sample some cell takes. Radial j is the nearest in
    azimuth (:func:`azimuth_index`), k the nearest sample (>= 1) to the cell's distance, clamped to the
    radial's last valid sample."""
    nrad, nsamp = need.shape
    h, w = dist.shape
    need[:, :] = 0
    for r in prange(h):  # threads may flag the same sample: they all write 1
        for c in range(w):
            d = dist[r, c]
            if not (d >= 0.0):
                jk[r, c] = -1
                continue
            j = int(math.floor(azimuth_index(az[r, c], phi, nrad) + 0.5)) % nrad
            k = max(int(math.floor(d / ds_j[j] + 0.5)), 1)
            if k >= nvalid[j]:
                k = nvalid[j] - 1
            if k < 1:
                jk[r, c] = -1
                continue
            jk[r, c] = j * nsamp + k
            need[j, k] = 1


@njit(cache=True, parallel=True)
def cells_from_samples(values2d, jk, out):
    """``out[r, c] = values2d.flat[jk[r, c]]`` (NaN where ``jk`` is -1)."""
    nsamp = values2d.shape[1]
    h, w = jk.shape
    for r in prange(h):
        for c in range(w):
            i = jk[r, c]
            out[r, c] = np.nan if i < 0 else values2d[i // nsamp, i % nsamp]


@njit(cache=True, parallel=True)
def radials_to_cells(values2d, nvalid, ds, dist, az, out):
    """Value of each cell interpolated from the radial samples around it: linear in distance along
    the two radials that bracket its azimuth, then linear in azimuth between them (one radial when
    the other has no value there)."""
    nrad = values2d.shape[0]
    dalpha = 2.0 * math.pi / nrad
    h, w = dist.shape
    for r in prange(h):
        for c in range(w):
            d = dist[r, c]
            if not (d >= 0.0):
                out[r, c] = np.nan
                continue
            a = az[r, c] / dalpha
            j0 = int(math.floor(a))
            ta = a - j0
            j0 = j0 % nrad
            j1 = (j0 + 1) % nrad
            kf = d / ds
            v0 = _along(values2d, j0, nvalid[j0], kf)
            v1 = _along(values2d, j1, nvalid[j1], kf)
            out[r, c] = _blend(v0, v1, ta)


@njit(cache=True, parallel=True)
def received_power(loss, dist, az, zcell, h_ts_amsl, h_rx, eirp_dbm, azimuth_deg, hbw_deg, am_db,
                   tilt_deg, vbw_deg, sla_db, offset_db, out):
    """Signal (dBm) = EIRP + pattern attenuation - loss + metric offset, for each cell."""
    h, w = loss.shape
    for r in prange(h):
        for c in range(w):
            L = loss[r, c]
            if not (L == L):
                out[r, c] = np.nan
                continue
            g = 0.0
            if hbw_deg > 0.0 or vbw_deg > 0.0:
                phi = math.degrees(az[r, c]) - azimuth_deg
                d = max(dist[r, c], 1.0)
                theta = math.degrees(math.atan2(h_ts_amsl - (zcell[r, c] + h_rx), d))
                g = sector_attenuation_db(phi, theta, hbw_deg, am_db, tilt_deg, vbw_deg, sla_db)
            out[r, c] = eirp_dbm + g - L + offset_db


@njit(cache=True, parallel=True)
def free_space_plus(excess, dist, zcell, h_ts_amsl, h_rx, freq_mhz, out):
    """Loss = free-space loss (P.525 eq. (4)) over the cell's 3-D distance + excess loss; with
    ``h_ts_amsl`` NaN the ground distance is used instead."""
    h, w = excess.shape
    k = 20.0 * math.log10(4.0 * math.pi * freq_mhz * 1e6 / 299792458.0)
    for r in prange(h):
        for c in range(w):
            x = excess[r, c]
            d = dist[r, c]
            if not (x == x) or not (d == d):
                out[r, c] = np.nan
                continue
            dz = h_ts_amsl - (zcell[r, c] + h_rx)
            d3 = math.sqrt(d * d + dz * dz) if dz == dz else d
            out[r, c] = k + 20.0 * math.log10(max(d3, 1.0)) + x


@njit(cache=True, parallel=True)
def combine_best(sig, r0, c0, site_index, threshold_dbm, best, second, server, count):
    """Fold one site's signal window into the best / second-best / best-server / count grids.

    Strict comparison keeps the lower site index on ties, so the result does not depend on how sites
    are grouped as long as they are folded in index order.
    """
    h, w = sig.shape
    for r in prange(h):
        for c in range(w):
            # compare in the stored precision, so that an exact tie keeps the lower site index
            v = np.float32(sig[r, c])
            if not (v == v):
                continue
            R = r0 + r
            C = c0 + c
            if v >= threshold_dbm:
                count[R, C] += 1
            b = best[R, C]
            if not (b == b) or v > b:
                second[R, C] = b
                best[R, C] = v
                server[R, C] = site_index
            else:
                s = second[R, C]
                if not (s == s) or v > s:
                    second[R, C] = v
