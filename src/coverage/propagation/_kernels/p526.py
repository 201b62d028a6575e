"""Numba kernels of the terrain diffraction model (ITU-R P.526-15 §4.5 / P.1812-7 §4.3).

Private module: plain floats and arrays in and out, lengths in metres, heights in metres above sea
level, frequency in MHz. Nothing here reads module globals (``cache=True`` would freeze them).

Two forms of the same physics:

* ``delta_bullington`` evaluates one profile exactly as the recommendation writes it (O(n));
* ``delta_bullington_radials`` sweeps whole radials and gives every sample the value that
  ``delta_bullington`` would give on the sub-profile from the site to that sample, in O(log n)
  amortised per sample instead of O(n): the maxima the method needs are running maxima or tangent /
  support queries on upper convex hulls that grow as the receiver moves out (see the notes in
  ``_radial``). Only the line-of-sight ``nu_max`` of the terrain profile needs a scan, and only when a
  hull query cannot prove that no point reaches ``nu = -0.78``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# ---------------------------------------------------------------------------------------------
# Scalar pieces
# ---------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def knife_edge_loss_db(nu):
    """J(nu) of P.526-15 eq. (31): single knife-edge loss (dB), 0 for nu <= -0.78."""
    if nu <= -0.78:
        return 0.0
    t = nu - 0.1
    return 6.9 + 20.0 * math.log10(math.sqrt(t * t + 1.0) + t)


@njit(cache=True, inline="always")
def _bullington_from_luc(luc, d_m):
    # P.1812-7 eq. (21): the empirical correction for the number of edges.
    if luc == 0.0:
        return 0.0
    return luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.00002 * d_m)


@njit(cache=True, inline="always")
def _first_term_freq(freq_mhz, eps_r, sigma_s, pol):
    """Frequency- and ground-dependent constants of the first-term formula, P.1812-7 eqs. (29)-(31).

    Returns (kc, f13, f23): K = kc * a_km**(-1/3), f**(1/3) and f**(2/3) (f in GHz); with these the
    radius-dependent factors need a single cube root per radius (``_first_term_radius``).
    """
    f_ghz = freq_mhz * 1e-3
    f13 = f_ghz ** (1.0 / 3.0)
    kc = 0.036 / f13 * ((eps_r - 1.0) ** 2 + (18.0 * sigma_s / f_ghz) ** 2) ** (-0.25)
    if pol == 1:
        kc *= math.sqrt(eps_r * eps_r + (18.0 * sigma_s / f_ghz) ** 2)
    return kc, f13, f13 * f13


@njit(cache=True, inline="always")
def _first_term_radius(adft_m, kc, f13, f23):
    """(xfac per metre of distance, bfac = beta*Y per metre of height, G floor) for one radius."""
    t = (adft_m * 1e-3) ** (-1.0 / 3.0)
    k = kc * t
    k2 = k * k
    beta = (1.0 + 1.6 * k2 + 0.67 * k2 * k2) / (1.0 + 4.5 * k2 + 1.53 * k2 * k2)
    xfac = 21.88e-3 * beta * f13 * t * t
    bfac = 0.9575 * beta * beta * f23 * t
    gmin = 2.0 + 20.0 * math.log10(k)
    return xfac, bfac, gmin


@njit(cache=True, inline="always")
def _first_term_from(d_m, hte_m, hre_m, xfac, bfac, gmin):
    x = xfac * d_m
    if x >= 1.6:
        fx = 11.0 + 10.0 * math.log10(x) - 17.6 * x
    else:
        fx = -20.0 * math.log10(x) - 5.6488 * x ** 1.425
    g_sum = 0.0
    for h in (hte_m, hre_m):
        b = bfac * h
        if b > 2.0:
            g = 17.6 * math.sqrt(b - 1.1) - 5.0 * math.log10(b - 1.1) - 8.0
        else:
            g = 20.0 * math.log10(b + 0.1 * b * b * b)
        if g < gmin:
            g = gmin
        g_sum += g
    return -fx - g_sum


@njit(cache=True, inline="always")
def _first_term(d_m, hte_m, hre_m, adft_m, land, sea, omega):
    # P.1812-7 eq. (29): land and sea terms weighted by the fraction of the path over sea
    xfac, bfac, gmin = _first_term_radius(adft_m, land[0], land[1], land[2])
    ld = _first_term_from(d_m, hte_m, hre_m, xfac, bfac, gmin)
    if omega <= 0.0:
        return ld
    xfac, bfac, gmin = _first_term_radius(adft_m, sea[0], sea[1], sea[2])
    return omega * _first_term_from(d_m, hte_m, hre_m, xfac, bfac, gmin) + (1.0 - omega) * ld


@njit(cache=True)
def _spherical_earth(d_m, hte_m, hre_m, ae_m, lam, land, sea, omega):
    d_los = math.sqrt(2.0 * ae_m) * (math.sqrt(hte_m) + math.sqrt(hre_m))
    if d_m >= d_los:
        return _first_term(d_m, hte_m, hre_m, ae_m, land, sea, omega)
    hsum = hte_m + hre_m
    c = (hte_m - hre_m) / hsum
    m = d_m * d_m / (4.0 * ae_m * hsum)
    b = 2.0 * math.sqrt((m + 1.0) / (3.0 * m)) * math.cos(
        math.pi / 3.0 + math.acos(1.5 * c * math.sqrt(3.0 * m / (m + 1.0) ** 3)) / 3.0)
    dse1 = 0.5 * d_m * (1.0 + b)
    dse2 = d_m - dse1
    hse = ((hte_m - dse1 * dse1 / (2.0 * ae_m)) * dse2
           + (hre_m - dse2 * dse2 / (2.0 * ae_m)) * dse1) / d_m
    hreq = 0.5520123 * math.sqrt(dse1 * dse2 * lam / d_m)  # 17.456 / sqrt(1000), metres
    if hse > hreq:
        return 0.0
    s = math.sqrt(hte_m) + math.sqrt(hre_m)
    aem = 0.5 * (d_m / s) ** 2
    ldft = _first_term(d_m, hte_m, hre_m, aem, land, sea, omega)
    if ldft < 0.0:
        return 0.0
    return (1.0 - hse / hreq) * ldft


@njit(cache=True)
def spherical_earth_loss_db(d_m, hte_m, hre_m, ae_m, freq_mhz, eps_r, sigma_s, pol, omega=0.0):
    """Spherical-earth diffraction loss L_dsph, P.1812-7 §4.3.2 eqs. (22)-(27) (P.526-15 §3.2);
    ``omega`` is the fraction of the path over sea (sea: epsilon 80, sigma 5 S/m)."""
    land = _first_term_freq(freq_mhz, eps_r, sigma_s, pol)
    sea = _first_term_freq(freq_mhz, 80.0, 5.0, pol)
    return _spherical_earth(d_m, hte_m, hre_m, ae_m, 299.792458 / freq_mhz, land, sea, omega)


# ---------------------------------------------------------------------------------------------
# Exact, one profile
# ---------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _bullington_point_luc(h1, h2, stim, srim, dtot, lam):
    """Knife-edge loss at the Bullington point, P.1812-7 eqs. (18)-(20)."""
    dbp = (h2 - h1 + srim * dtot) / (stim + srim)
    nub = (h1 + stim * dbp - (h1 * (dtot - dbp) + h2 * dbp) / dtot) \
        * math.sqrt(2.0 * dtot / (lam * dbp * (dtot - dbp)))
    return knife_edge_loss_db(nub)


@njit(cache=True)
def bullington(d_m, h_m, n, hts, hrs, ae_m, lam_m):
    """Bullington loss of P.1812-7 §4.3.1 on points 0..n-1 (terminals at 0 and n-1)."""
    dtot = d_m[n - 1]
    ce = 1.0 / ae_m
    stim = -np.inf
    for i in range(1, n - 1):
        di = d_m[i]
        s = (h_m[i] + 0.5 * ce * di * (dtot - di) - hts) / di
        if s > stim:
            stim = s
    s_tr = (hrs - hts) / dtot
    if stim < s_tr:
        numax = -np.inf
        for i in range(1, n - 1):
            di = d_m[i]
            nu = (h_m[i] + 0.5 * ce * di * (dtot - di) - (hts * (dtot - di) + hrs * di) / dtot) \
                * math.sqrt(2.0 * dtot / (lam_m * di * (dtot - di)))
            if nu > numax:
                numax = nu
        luc = knife_edge_loss_db(numax)
    else:
        srim = -np.inf
        for i in range(1, n - 1):
            di = d_m[i]
            s = (h_m[i] + 0.5 * ce * di * (dtot - di) - hrs) / (dtot - di)
            if s > srim:
                srim = s
        luc = _bullington_point_luc(hts, hrs, stim, srim, dtot, lam_m)
    return _bullington_from_luc(luc, dtot)


@njit(cache=True)
def smooth_surface_fit(d_m, h_m, n):
    """Least-squares smooth-earth surface heights at the terminals, P.1812-7 Att. 1 §5.6.1 (eqs. 85-87)."""
    dtot = d_m[n - 1]
    v1 = 0.0
    v2 = 0.0
    for i in range(1, n):
        dd = d_m[i] - d_m[i - 1]
        v1 += dd * (h_m[i] + h_m[i - 1])
        v2 += dd * (h_m[i] * (2.0 * d_m[i] + d_m[i - 1]) + h_m[i - 1] * (d_m[i] + 2.0 * d_m[i - 1]))
    return (2.0 * v1 * dtot - v2) / (dtot * dtot), (v2 - v1 * dtot) / (dtot * dtot)


@njit(cache=True)
def smooth_surface_heights(d_m, h_m, n, hts, hrs):
    """Smooth-surface terminal heights h_std, h_srd for diffraction, P.1812-7 Att. 1 §5.6.1-5.6.2."""
    dtot = d_m[n - 1]
    hst, hsr = smooth_surface_fit(d_m, h_m, n)
    hobs = -np.inf
    aobt = -np.inf
    aobr = -np.inf
    for i in range(1, n - 1):
        di = d_m[i]
        hh = h_m[i] - (hts * (dtot - di) + hrs * di) / dtot
        hobs = max(hobs, hh)
        aobt = max(aobt, hh / di)
        aobr = max(aobr, hh / (dtot - di))
    if hobs > 0.0:
        gt = aobt / (aobt + aobr)
        gr = aobr / (aobt + aobr)
        hst = hst - hobs * gt
        hsr = hsr - hobs * gr
    return min(hst, h_m[0]), min(hsr, h_m[n - 1])


@njit(cache=True)
def delta_bullington(d_m, h_m, hts, hrs, ae_m, freq_mhz, eps_r, sigma_s, pol):
    """Delta-Bullington diffraction loss of one profile, P.1812-7 §4.3.4 / P.526-15 §4.5.

    ``h_m`` are the heights used for diffraction (terrain, plus clutter at intermediate points if
    wanted); the smooth surface is fitted to the same heights. Returns
    ``(l_d, l_bulla, l_bulls, l_dsph)`` in dB.
    """
    return delta_bullington_split(d_m, h_m, h_m, hts, hrs, ae_m, freq_mhz, eps_r, sigma_s, pol, 0.0)


@njit(cache=True)
def delta_bullington_split(d_m, terrain_m, diff_m, hts, hrs, ae_m, freq_mhz, eps_r, sigma_s, pol,
                           omega):
    """As ``delta_bullington`` with P.1812's split: ``diff_m`` (terrain + clutter) for the
    Bullington terms, ``terrain_m`` (bare) for the smooth surface (Att. 1 §5.6), and a fraction
    ``omega`` of the path over sea."""
    n = d_m.shape[0]
    lam = 299.792458 / freq_mhz
    dtot = d_m[n - 1]
    l_bulla = bullington(d_m, diff_m, n, hts, hrs, ae_m, lam)
    hstd, hsrd = smooth_surface_heights(d_m, terrain_m, n, hts, hrs)
    hts1 = hts - hstd
    hrs1 = hrs - hsrd
    zeros = np.zeros(n)
    l_bulls = bullington(d_m, zeros, n, hts1, hrs1, ae_m, lam)
    l_dsph = spherical_earth_loss_db(dtot, hts1, hrs1, ae_m, freq_mhz, eps_r, sigma_s, pol, omega)
    return l_bulla + max(l_dsph - l_bulls, 0.0), l_bulla, l_bulls, l_dsph


# ---------------------------------------------------------------------------------------------
# Incremental, along radials
# ---------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _cross(ax, ay, bx, by, cx, cy):
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


@njit(cache=True, inline="always")
def _hull_push(hx, hy, m, x, y):
    # Upper hull by monotone chain: x arrives in increasing order.
    while m >= 2 and _cross(hx[m - 2], hy[m - 2], hx[m - 1], hy[m - 1], x, y) >= 0.0:
        m -= 1
    hx[m] = x
    hy[m] = y
    return m + 1


@njit(cache=True, inline="always")
def _tangent_better(hx, hy, a, b, qx, qy):
    # (y_a - q)/(qx - x_a) > (y_b - q)/(qx - x_b) without divisions (denominators are positive)
    return (hy[a] - qy) * (qx - hx[b]) > (hy[b] - qy) * (qx - hx[a])


@njit(cache=True, inline="always")
def _support_better(hx, hy, a, b, slope):
    # y_a - slope x_a > y_b - slope x_b
    return (hy[a] - hy[b]) > slope * (hx[a] - hx[b])


@njit(cache=True, inline="always")
def _hull_argmax(hx, hy, m, q, r, tangent, hint):
    """Index of the hull vertex that maximises a unimodal score along the upper hull.

    ``tangent``: the score is the slope seen from the point (q, r) right of every vertex
    ((y - r) / (q - x): a receiver's horizon); otherwise it is y - q * x (a support line of slope q:
    the highest point above a line). The answer moves little from one receiver to the next, so a
    short walk from ``hint`` usually finds it; a binary search on the side the walk points to bounds
    the cost otherwise.
    """
    i = min(max(hint, 0), m - 1)
    lo = 0
    hi = m - 1
    right = i + 1 < m and (_tangent_better(hx, hy, i + 1, i, q, r) if tangent
                           else _support_better(hx, hy, i + 1, i, q))
    steps = 0
    while True:
        j = i + 1 if right else i - 1
        if j < 0 or j >= m:
            return i
        if not (_tangent_better(hx, hy, j, i, q, r) if tangent else _support_better(hx, hy, j, i, q)):
            return i
        i = j
        steps += 1
        if steps == 6:
            break
    if right:
        lo = i
    else:
        hi = i
    while lo < hi:
        mid = (lo + hi) >> 1
        if _tangent_better(hx, hy, mid + 1, mid, q, r) if tangent else _support_better(hx, hy, mid + 1, mid, q):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _smooth_nu(di, dtot, h1, h2, ce, lam):
    return (0.5 * ce * di * (dtot - di) - (h1 * (dtot - di) + h2 * di) / dtot) \
        * math.sqrt(2.0 * dtot / (lam * di * (dtot - di)))


@njit(cache=True, inline="always")
def _smooth_slope_max(k, ds, h, ce):
    """max over samples x = i*ds (i = 1..k-1) of C(d - x)/2 - h/x: the steepest slope from a terminal
    of height h to a zero-height curved profile. Concave in x for h > 0, with its continuous maximum
    at x = sqrt(2h/C), so the discrete maximum is at one of the two samples around it."""
    dtot = k * ds
    xs = math.sqrt(2.0 * h / ce) / ds if h > 0.0 else 1.0
    i0 = int(math.floor(xs))
    best = -np.inf
    for i in (i0, i0 + 1):
        x = min(max(i, 1), k - 1) * ds
        v = 0.5 * ce * (dtot - x) - h / x
        if v > best:
            best = v
    return best


@njit(cache=True)
def _smooth_bullington(k, ds, h1, h2, ce, lam):
    """Bullington on a zero-height profile with samples i*ds, i = 1..k-1 and terminal heights
    h1, h2: the same value as ``bullington`` on that profile, in O(1).

    The maxima over samples have closed-form continuous maximisers (concave functions of d_i for
    the slopes; a cubic's roots for nu), and the discrete maximum lies at a sample adjacent to a
    continuous local maximum.
    """
    dtot = k * ds
    # S_tim: max_i C(dtot - d_i)/2 - h1/d_i, concave in d_i for h1 > 0.
    stim = _smooth_slope_max(k, ds, h1, ce)
    s_tr = (h2 - h1) / dtot
    if stim < s_tr:
        # nu(t), t = d_i/dtot, has critical points at the roots of the cubic
        # P(t) = A t (1-t)(1-2t) + (h1 - (h1+h2) t) / dtot with A = C dtot / 2 (see module notes).
        a = 0.5 * ce * dtot
        # coefficients of P(t) = c3 t^3 + c2 t^2 + c1 t + c0
        c3 = 2.0 * a
        c2 = -3.0 * a
        c1 = a - (h1 + h2) / dtot
        c0 = h1 / dtot
        numax = -np.inf
        # P is monotone between the roots of P'(t) = 3 c3 t^2 + 2 c2 t + c1, so bisection on each
        # monotone piece finds every root; a + to - change is a local maximum of nu.
        r1 = 0.0
        r2 = 0.0
        qa = 3.0 * c3
        qb = 2.0 * c2
        disc = qb * qb - 4.0 * qa * c1
        if disc > 0.0:
            sq = math.sqrt(disc)
            r1 = min(max((-qb - sq) / (2.0 * qa), 0.0), 1.0)
            r2 = min(max((-qb + sq) / (2.0 * qa), 0.0), 1.0)
            if r1 > r2:
                r1, r2 = r2, r1
        for seg in range(3):
            if seg == 0:
                lo = 0.0
                hi = r1
            elif seg == 1:
                lo = r1
                hi = r2
            else:
                lo = r2
                hi = 1.0
            if hi <= lo:
                continue
            plo = ((c3 * lo + c2) * lo + c1) * lo + c0
            phi_ = ((c3 * hi + c2) * hi + c1) * hi + c0
            if plo > 0.0 and phi_ <= 0.0:
                # bracket the root to within half a sample; the discrete maximum is then at one of
                # the samples around the bracket
                while (hi - lo) * k > 0.5:
                    mid = 0.5 * (lo + hi)
                    pm = ((c3 * mid + c2) * mid + c1) * mid + c0
                    if pm > 0.0:
                        lo = mid
                    else:
                        hi = mid
                i_lo = max(int(math.floor(lo * k)), 1)
                i_hi = min(int(math.ceil(hi * k)), k - 1)
                for ii in range(i_lo, i_hi + 1):
                    nu = _smooth_nu(ii * ds, dtot, h1, h2, ce, lam)
                    if nu > numax:
                        numax = nu
        luc = knife_edge_loss_db(numax)
    else:
        srim = _smooth_slope_max(k, ds, h2, ce)  # the same function, seen from the receiver
        luc = _bullington_point_luc(h1, h2, stim, srim, dtot, lam)
    return _bullington_from_luc(luc, dtot)


@njit(cache=True, inline="always")
def _block_bound(i0, i1, k, ds, hts, m_l, gmax_b, half, dtot):
    """Lower bound of q_i = c_i^2 / (d_i (dtot - d_i)) over intermediate points i0..i1 (clipped to
    1..k-1) of a line-of-sight path: c_i = hts + m_l d_i - g_i >= (the line's minimum) - max g."""
    i0 = max(i0, 1)
    i1 = min(i1, k - 1)
    if i0 > i1:
        return np.inf
    d0 = i0 * ds
    d1 = i1 * ds
    c_lb = hts + min(m_l * d0, m_l * d1) - gmax_b
    if c_lb <= 0.0:
        return -np.inf
    if d0 <= half <= d1:
        pmax = half * half
    elif d1 < half:
        pmax = d1 * (dtot - d1)
    else:
        pmax = d0 * (dtot - d0)
    return c_lb * c_lb / pmax


@njit(cache=True)
def _radial(z, nvalid, ds, h_tx, h_rx, ae_m, freq_mhz, eps_r, sigma_s, pol, out,
            cx, cy, rx_, ry_, kfirst):
    """Excess loss over free space (dB) for receivers at samples kfirst..nvalid-1 of one radial
    (earlier samples only feed the running state and are NaN).

    ``z[k]`` is the ground height at distance k*ds; transmitter antenna at z[0] + h_tx, receiver
    antennas at z[k] + h_rx. ``cx, cy`` and ``rx_, ry_`` are scratch arrays for two upper hulls:
    (d_i, z_i - d_i^2/(2 a_e)) (the curved profile, for S_rim and the LOS clearance bound) and
    (d_i, z_i) (the raw profile, for h_obs and alpha_obr of the smooth-surface fit).
    """
    ce = 1.0 / ae_m
    lam = 299.792458 / freq_mhz
    hts = z[0] + h_tx
    land = _first_term_freq(freq_mhz, eps_r, sigma_s, pol)
    sea = land  # no sea along a coverage radial (omega = 0)
    out[0] = np.nan
    if nvalid < 2:
        for k in range(1, out.shape[0]):
            out[k] = np.nan
        return
    # block maxima of the curved heights g_i = z_i - d_i^2 / (2 a_e), 16 points a block (LOS scan bound)
    gmax = np.full((nvalid >> 4) + 1, -np.inf)
    gmax2 = np.full((nvalid >> 8) + 1, -np.inf)
    for i in range(nvalid):
        gi = z[i] - 0.5 * ce * (i * ds) * (i * ds)
        if gi > gmax[i >> 4]:
            gmax[i >> 4] = gi
        if gi > gmax2[i >> 8]:
            gmax2[i >> 8] = gi
    # Receiver at sample 1: no intermediate point, free space.
    out[1] = 0.0 if kfirst <= 1 else np.nan
    # running state over intermediate points 1..k-1
    mc = 0  # curved hull size
    mr = 0  # raw hull size
    a_max = -np.inf  # max (g_i - hts)/d_i with g_i = z_i - d_i^2/(2 a_e)  -> S_tim = a_max + C d/2
    b_max = -np.inf  # max (z_i - hts)/d_i                                -> alpha_obt
    v1 = 0.0  # smooth-surface sums, P.1812 Att.1 eqs (85)-(86), over segments 0..k
    v2 = 0.0
    h_cs = 0  # last answers of the four hull queries, used as starting points
    h_ct = 0
    h_rs = 0
    h_rt = 0
    for k in range(2, nvalid):
        # add point k-1 as an intermediate point
        i = k - 1
        di = i * ds
        zi = z[i]
        gi = zi - 0.5 * ce * di * di
        mc = _hull_push(cx, cy, mc, di, gi)
        mr = _hull_push(rx_, ry_, mr, di, zi)
        s = (gi - hts) / di
        if s > a_max:
            a_max = s
        s = (zi - hts) / di
        if s > b_max:
            b_max = s
        # segment (k-1, k) enters the smooth-surface sums; segment (k-2,k-1) was added before
        dprev = (k - 1) * ds
        dk = k * ds
        v1 += ds * (z[k] + z[k - 1])
        v2 += ds * (z[k] * (2.0 * dk + dprev) + z[k - 1] * (dk + 2.0 * dprev))
        if k == 2:
            # first segment (0,1) as well
            v1 += ds * (z[1] + z[0])
            v2 += ds * (z[1] * (2.0 * ds) + z[0] * ds)
        if k < kfirst:
            out[k] = np.nan  # no cell reads this sample (engine.sweep): state only
            continue
        dtot = dk
        hrs = z[k] + h_rx
        # ---- Bullington on the actual profile (S_tim from the running max, S_rim from the hull)
        stim = a_max + 0.5 * ce * dtot
        s_tr = (hrs - hts) / dtot
        if stim < s_tr:
            # LOS: nu_max needs a scan, unless the minimum clearance proves every nu <= -0.78.
            slope = s_tr - 0.5 * ce * dtot
            h_cs = _hull_argmax(cx, cy, mc, slope, 0.0, False, h_cs)
            cmin = hts - (cy[h_cs] - slope * cx[h_cs])
            if cmin * math.sqrt(8.0 / (lam * dtot)) >= 0.78:
                luc = 0.0
            else:
                # Every point is below the ray here (S_tim < S_tr), so nu_i = -c_i sqrt(2d/(lam d_i d2_i))
                # with clearance c_i > 0: the largest nu is the smallest c_i^2 / (d_i d2_i), no sqrt.
                # Blocks of 16 points whose bound c_lb^2 / max(d (dtot - d)) cannot beat the best q
                # so far are skipped (c = L(d) - g with L linear, g <= the block's max): same minimum,
                # O(k / 16) per sample instead of O(k) where the ray grazes the terrain.
                slope_c = (hrs - hts) / dtot
                m_l = slope_c - 0.5 * ce * dtot
                ii = min(max(int(round(cx[h_cs] / ds)), 1), k - 1)  # the hull's closest point: a seed
                dd = ii * ds
                c = hts + slope_c * dd - z[ii] - 0.5 * ce * dd * (dtot - dd)  # as in the scan: same bits
                qmin = c * c / (dd * (dtot - dd))
                half = 0.5 * dtot
                for sb in range(0, ((k - 1) >> 8) + 1):  # super-blocks of 256 points, then blocks of 16
                    if _block_bound(sb << 8, (sb << 8) + 255, k, ds, hts, m_l, gmax2[sb], half, dtot) >= qmin:
                        continue
                    for b in range(sb << 4, min((sb << 4) + 16, ((k - 1) >> 4) + 1)):
                        if _block_bound(b << 4, (b << 4) + 15, k, ds, hts, m_l, gmax[b], half, dtot) >= qmin:
                            continue
                        for ii in range(max(b << 4, 1), min((b << 4) + 15, k - 1) + 1):
                            dd = ii * ds
                            c = hts + slope_c * dd - z[ii] - 0.5 * ce * dd * (dtot - dd)
                            q = c * c / (dd * (dtot - dd))
                            if q < qmin:
                                qmin = q
                luc = knife_edge_loss_db(-math.sqrt(qmin * 2.0 * dtot / lam))
        else:
            hq = hrs - 0.5 * ce * dtot * dtot
            h_ct = _hull_argmax(cx, cy, mc, dtot, hq, True, h_ct)
            srim = (cy[h_ct] - hq) / (dtot - cx[h_ct]) - 0.5 * ce * dtot
            luc = _bullington_point_luc(hts, hrs, stim, srim, dtot, lam)
        l_bulla = _bullington_from_luc(luc, dtot)
        # ---- smooth surface (P.1812 Att.1 §5.6)
        hst = (2.0 * v1 * dtot - v2) / (dtot * dtot)
        hsr = (v2 - v1 * dtot) / (dtot * dtot)
        m_line = (hrs - hts) / dtot
        h_rs = _hull_argmax(rx_, ry_, mr, m_line, 0.0, False, h_rs)
        hobs = ry_[h_rs] - m_line * rx_[h_rs] - hts
        if hobs > 0.0:
            aobt = b_max - m_line
            h_rt = _hull_argmax(rx_, ry_, mr, dtot, hrs, True, h_rt)
            aobr = (ry_[h_rt] - hrs) / (dtot - rx_[h_rt]) + (hrs - hts) / dtot
            gt = aobt / (aobt + aobr)
            gr = aobr / (aobt + aobr)
            hst = hst - hobs * gt
            hsr = hsr - hobs * gr
        hstd = min(hst, z[0])
        hsrd = min(hsr, z[k])
        h1 = hts - hstd
        h2 = hrs - hsrd
        l_dsph = _spherical_earth(dtot, h1, h2, ae_m, lam, land, sea, 0.0)
        if l_dsph > 0.0:
            # L_bulls >= 0, so it only matters when L_dsph is positive (eq. (39))
            l_bulls = _smooth_bullington(k, ds, h1, h2, ce, lam)
            out[k] = l_bulla + max(l_dsph - l_bulls, 0.0)
        else:
            out[k] = l_bulla
    for k in range(nvalid, out.shape[0]):
        out[k] = np.nan


@njit(cache=True, parallel=True)
def delta_bullington_radials(z2d, nvalid, ds, h_tx, h_rx, ae_m, freq_mhz, eps_r, sigma_s, pol,
                             out2d):
    """Diffraction loss (dB) at every sample of every radial; parallel over radials."""
    nrad, nsamp = z2d.shape
    for j in prange(nrad):
        cx = np.empty(nsamp)
        cy = np.empty(nsamp)
        rx_ = np.empty(nsamp)
        ry_ = np.empty(nsamp)
        _radial(z2d[j], nvalid[j], ds, h_tx, h_rx, ae_m, freq_mhz, eps_r, sigma_s, pol,
                out2d[j], cx, cy, rx_, ry_, 1)


@njit(cache=True, parallel=True)
def delta_bullington_radials_from(z2d, nvalid, kfirst, ds_j, h_tx, h_rx, ae_m, freq_mhz, eps_r, sigma_s,
                                  pol, out2d):
    """:func:`delta_bullington_radials` with radial j sampled every ``ds_j[j]`` m and evaluated from
    sample ``kfirst[j]`` on (NaN before: the engine reads no cell there)."""
    nrad, nsamp = z2d.shape
    for j in prange(nrad):
        cx = np.empty(nsamp)
        cy = np.empty(nsamp)
        rx_ = np.empty(nsamp)
        ry_ = np.empty(nsamp)
        _radial(z2d[j], nvalid[j], ds_j[j], h_tx, h_rx, ae_m, freq_mhz, eps_r, sigma_s, pol,
                out2d[j], cx, cy, rx_, ry_, kfirst[j])


@njit(cache=True, parallel=True)
def delta_bullington_radials_exact(z2d, nvalid, ds, h_tx, h_rx, ae_m, freq_mhz, eps_r, sigma_s,
                                   pol, out2d):
    """Reference for the sweep: the exact per-profile method on every sub-profile (O(n^2))."""
    nrad, nsamp = z2d.shape
    for j in prange(nrad):
        d = np.arange(nsamp) * ds
        out2d[j, 0] = np.nan
        nv = nvalid[j]
        for k in range(1, nsamp):
            if k >= nv:
                out2d[j, k] = np.nan
            elif k == 1:
                out2d[j, k] = 0.0
            else:
                zz = z2d[j, :k + 1]
                ld, _, _, _ = delta_bullington(d[:k + 1], zz, zz[0] + h_tx, zz[k] + h_rx, ae_m,
                                               freq_mhz, eps_r, sigma_s, pol)
                out2d[j, k] = ld
