"""Numba kernels of the Irregular Terrain Model (Longley-Rice), following NTIA ITM v1.4.

These are the private, array-in/array-out building blocks behind :mod:`coverage.itm` and the
radial sweep in :mod:`coverage.propagation._kernels.itm_sweep`. The algorithm is Hufford's "The ITS
Irregular Terrain Model, version 1.2.2: The Algorithm" ([Algorithm]) as implemented by the NTIA/ITS
reference code (github.com/NTIA/itm, v1.4, which carries the later bug fixes of 1.2.2).
Other references cited below: [TN101] Rice et al., NBS Tech. Note 101 (1967); [ERL 79-ITS 67]
Longley & Rice (1968); [Vogler 1964] "Calculation of groundwave attenuation in the far
diffraction region"; [Hufford 1982] the 1.2.2 program notes.

Rules for this module (numba caching and compile time):

* every kernel is ``@numba.njit(cache=True)``; no kernel reads a module-level global: constants are
  literals inside the functions;
* arrays are float64, 1-D or 2-D, C-contiguous; integer counts are int64;
* scalar inputs of the public kernels are packed into one float64 *parameter row* so that the
  dispatcher sees few arguments and one signature (layout in :data:`P2P_PARAMS`).

Floating-point order of operations follows the reference where it decides a truncation (distances
accumulated step by step, ``int()`` of index ratios), because ITM's least-squares fit truncates
indices and is sensitive at the last bit there (NTIA/itm issue 21).
"""

from __future__ import annotations

import cmath
import math

import numba
import numpy as np

# Layout of the parameter row (documentation only: kernels index it with literals).
P2P_PARAMS = (
    "step_m", "h_tx_m", "h_rx_m", "freq_mhz", "climate", "n0", "pol", "epsilon", "sigma",
    "mdvar", "time", "location", "situation", "h_sys_m",
)
AREA_PARAMS = (
    "h_tx_m", "h_rx_m", "tx_siting", "rx_siting", "delta_h_m", "freq_mhz", "climate", "n0",
    "pol", "epsilon", "sigma", "mdvar", "time", "location", "situation",
)
# Layout of one result record.
RECORD = (
    "loss_db", "warnings", "mode", "free_space_loss_db", "d_km", "theta_hzn_tx", "theta_hzn_rx",
    "d_hzn_tx_m", "d_hzn_rx_m", "h_e_tx_m", "h_e_rx_m", "n_s", "delta_h_m", "a_ref_db", "error",
)
N_RECORD = len(RECORD)
N_SCRATCH = 560  # scratch floats per evaluation: 245 resampled points, a gather area, a heap

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------
@numba.njit(**_JIT)
def _fdim(x, y):
    """C ``fdim``: positive difference ``max(x - y, 0)``."""
    return x - y if x > y else 0.0


@numba.njit(**_JIT)
def _cmax(x, y):
    """The reference's ``MAX`` macro, ``x > y ? x : y``: NaN in x yields y (NaN in y yields NaN).

    Python's/numba's ``max`` propagate NaN differently; the reference relies on this behaviour in
    degenerate geometries, e.g. a NaN reference attenuation clamps to 0 in ``MAX(A_ref, 0)``.
    """
    return x if x > y else y


@numba.njit(**_JIT)
def _cmin(x, y):
    """The reference's ``MIN`` macro, ``x < y ? x : y``."""
    return x if x < y else y


@numba.njit(**_JIT)
def iccdf(q):
    """Inverse complementary normal CDF, Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4).

    Parameters
    ----------
    q : float
        Probability, 0 < q < 1.

    Returns
    -------
    float
        z such that Q(z) = q (the standard normal deviate exceeded with probability q).
    """
    x = q if q <= 0.5 else 1.0 - q
    t = math.sqrt(-2.0 * math.log(x))
    zeta = ((0.010328 * t + 0.802853) * t + 2.515516) / (
        ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    )
    z = t - zeta
    return -z if q > 0.5 else z


@numba.njit(**_JIT)
def free_space_loss(d_m, f_mhz):
    """Free-space basic transmission loss (dB) at distance ``d_m`` (m) and ``f_mhz`` (MHz)."""
    return 32.45 + 20.0 * math.log10(f_mhz) + 20.0 * math.log10(d_m / 1000.0)


@numba.njit(**_JIT)
def surface_refractivity(n0, h_sys):
    """Surface refractivity N_s (N-units) scaled to the system elevation ``h_sys`` (m) [TN101 4.3]."""
    if h_sys == 0.0:
        return n0
    return n0 * math.exp(-h_sys / 9460.0)


@numba.njit(**_JIT)
def effective_curvature(n_s):
    """Curvature of the effective earth gamma_e (1/m) from N_s [TN101 4.4, reworked].

    157e-9 1/m is the curvature of the actual earth (radius ~6370 km).
    """
    return 157e-9 * (1.0 - 0.04665 * math.exp(n_s / 179.3))


@numba.njit(**_JIT)
def ground_impedance(f_mhz, pol, epsilon, sigma):
    """Complex surface transfer impedance Z_g of the ground [Algorithm 3.x / ITM InitializePointToPoint]."""
    ep_r = complex(epsilon, 18000.0 * sigma / f_mhz)
    zg = cmath.sqrt(ep_r - 1.0)
    if pol == 1:  # vertical polarisation
        zg = zg / ep_r
    return zg


# --------------------------------------------------------------------------------------------
# terrain-profile analysis (ITM "QuickPfl" chain)
# --------------------------------------------------------------------------------------------
@numba.njit(**_JIT)
def fit_range(np_, xi, d_start, d_end):
    """Index range of the least-squares fit between two distances, as the reference truncates it.

    Returns ``(i_start, i_end)``; ``np_`` is the number of intervals, ``xi`` the spacing (m).
    """
    i_start = int(_fdim(d_start / xi, 0.0))
    i_end = np_ - int(_fdim(float(np_), d_end / xi))
    if i_end <= i_start:
        i_start = int(_fdim(float(i_start), 1.0))
        i_end = np_ - int(_fdim(float(np_), i_end + 1.0))
    return i_start, i_end


@numba.njit(**_JIT)
def _sums(y, a, b, m0):
    """``(sum y[a:b], sum y[i] * (m0 + i - a))`` with four partial sums (breaks the add latency chain)."""
    s0 = s1 = s2 = s3 = 0.0
    t0 = t1 = t2 = t3 = 0.0
    i = a
    m = m0
    while i + 3 < b:
        s0 += y[i]
        s1 += y[i + 1]
        s2 += y[i + 2]
        s3 += y[i + 3]
        t0 += y[i] * m
        t1 += y[i + 1] * (m + 1.0)
        t2 += y[i + 2] * (m + 2.0)
        t3 += y[i + 3] * (m + 3.0)
        i += 4
        m += 4.0
    while i < b:
        s0 += y[i]
        t0 += y[i] * m
        i += 1
        m += 1.0
    return (s0 + s1) + (s2 + s3), (t0 + t1) + (t2 + t3)


@numba.njit(**_JIT)
def lsq_fit(y, np_, xi, d_start, d_end):
    """Least-squares line through ``y[0..np_]`` between two distances ([Algorithm] §43, zlsq1).

    The end points of the range have half weight (trapezoid rule). Returns the fitted line's
    values at index 0 and at index ``np_`` (m).
    """
    i_start, i_end = fit_range(np_, xi, d_start, d_end)
    x_length = float(i_end - i_start)
    mid = -0.5 * x_length  # index offset from the middle of the range
    mid_end = i_end + mid
    s_in, t_in = _sums(y, i_start + 1, i_end, mid + 1.0)
    sum_y = 0.5 * (y[i_start] + y[i_end]) + s_in
    scaled = 0.5 * (y[i_start] - y[i_end]) * mid + t_in
    sum_y = sum_y / x_length
    scaled = scaled * 12.0 / ((x_length * x_length + 2.0) * x_length)
    return sum_y - scaled * mid_end, sum_y + scaled * (np_ - mid_end)


@numba.njit(**_JIT)
def _kth_largest_heap(a, a_off, n, k, heap, h_off, sign):
    """k-th largest of ``sign * a[a_off:a_off+n]``, times ``sign``, with a min-heap of size k.

    Fallback of :func:`_kth_largest` for sets with many tied values.
    """
    for j in range(k):
        v = sign * a[a_off + j]
        c = j
        while c > 0:
            p = (c - 1) >> 1
            if heap[h_off + p] <= v:
                break
            heap[h_off + c] = heap[h_off + p]
            c = p
        heap[h_off + c] = v
    for j in range(k, n):
        v = sign * a[a_off + j]
        if v > heap[h_off]:
            c = 0
            while True:
                lft = 2 * c + 1
                if lft >= k:
                    break
                m = lft
                if lft + 1 < k and heap[h_off + lft + 1] < heap[h_off + lft]:
                    m = lft + 1
                if heap[h_off + m] >= v:
                    break
                heap[h_off + c] = heap[h_off + m]
                c = m
            heap[h_off + c] = v
    return sign * heap[h_off]


@numba.njit(**_JIT)
def _count_ge(buf, n, sign, t):
    """Number of ``sign * buf[j] >= t`` for j < n (a branch-free, vectorisable pass)."""
    c = 0
    for j in range(n):
        c += 1 if sign * buf[j] >= t else 0
    return c


@numba.njit(**_JIT)
def _kth_largest(buf, n, k, sign, lo, hi):
    """k-th largest of ``v = sign * buf[0:n]`` times ``sign`` (sign -1: the k-th smallest).

    ``lo``/``hi`` are min/max of v. The residuals of a terrain profile are spatially correlated
    and change from call to call, so heap or quickselect selection mispredicts branches on most
    elements; here the value range is bisected with branch-free counting passes until at most 8
    values remain in the bracket, which are gathered (into ``buf[256:]``) and ranked by counting.
    Many tied values fall back to a heap (``buf[512:]``).
    """
    c_hi = _count_ge(buf, n, sign, hi)
    if c_hi >= k:
        return sign * hi
    c_lo = n  # invariant: count(v >= lo) >= k > count(v >= hi)
    for _ in range(200):
        if c_lo - c_hi <= 8:
            break
        mid = 0.5 * (lo + hi)
        if not (lo < mid < hi):
            break
        c = _count_ge(buf, n, sign, mid)
        if c >= k:
            lo = mid
            c_lo = c
        else:
            hi = mid
            c_hi = c
    m = 0
    for j in range(n):  # branch-free gather of the values in [lo, hi)
        v = sign * buf[j]
        buf[256 + m] = v
        m += 1 if (v >= lo and v < hi) else 0
    want = k - c_hi  # rank of the answer among the gathered values
    if m > 16:
        return sign * _kth_largest_heap(buf, 256, m, want, buf, 512, 1.0)
    ans = lo
    for i in range(m):
        vi = buf[256 + i]
        g = 0
        ge = 0
        for j in range(m):
            vj = buf[256 + j]
            g += 1 if vj > vi else 0
            ge += 1 if vj >= vi else 0
        if g < want <= ge:
            ans = vi
    return sign * ans


@numba.njit(**_JIT)
def delta_h(z, np_, xi, d_start, d_end, buf):
    """Terrain irregularity parameter Delta h (m) between two distances of a profile.

    The profile is resampled at n = 10 p10 - 5 <= 245 equally spaced points, a least-squares
    line is removed and Delta h_d is the interdecile range (p10-th largest minus p10-th smallest)
    of the residuals; the asymptotic Delta h is recovered by inverting [ERL 79-ITS 67, Eqn 3]
    ([Algorithm] §44-45, dlthx). ``buf`` is scratch (>= ``N_SCRATCH`` floats).

    The sample positions are computed directly (x_start + j * step) where the reference
    accumulates them with a unit-step walk; the interpolated values agree to ~1e-13 relative and
    Delta h enters ITM only through continuous functions.
    """
    x_start = d_start / xi
    x_end = d_end / xi
    if x_end - x_start < 2.0:
        return 0.0
    p10 = int(0.1 * (x_end - x_start + 8.0))
    p10 = min(max(4, p10), 25)
    n = 10 * p10 - 5
    np_s = float(n - 1)
    x_step = (x_end - x_start) / np_s
    last = np_ - 1
    for j in range(n):  # linear interpolation at the resampled positions
        p = x_start + j * x_step
        i = min(int(p), last)
        buf[j] = z[i] + (z[i + 1] - z[i]) * (p - i)
    fit1, fit2 = lsq_fit(buf, n - 1, 1.0, 0.0, np_s)
    slope = (fit2 - fit1) / np_s
    lo0 = lo1 = math.inf
    hi0 = hi1 = -math.inf
    for j in range(n):
        v = buf[j] - (fit1 + j * slope)
        buf[j] = v
        if j & 1:
            lo1 = min(lo1, v)
            hi1 = max(hi1, v)
        else:
            lo0 = min(lo0, v)
            hi0 = max(hi0, v)
    lo = min(lo0, lo1)
    hi = max(hi0, hi1)
    q10 = _kth_largest(buf, n, p10, 1.0, lo, hi)
    q90 = _kth_largest(buf, n, p10, -1.0, -hi, -lo)
    return (q10 - q90) / (1.0 - 0.8 * math.exp(-(d_end - d_start) / 50e3))


@numba.njit(**_JIT)
def find_horizons(z, np_, xi, z_tx, z_rx, a_e):
    """Terminal horizon angles (rad) and distances (m) of a profile ([Algorithm] §46, hzns).

    Starts from the line-of-sight angles [TN101 6.15] and keeps the first profile point that
    raises each terminal's elevation angle, distances accumulated step by step as the reference.
    """
    d = np_ * xi
    curv = 2.0 * a_e
    inv_curv = 1.0 / curv
    th0 = (z_rx - z_tx) / d - d / curv
    th1 = -(z_rx - z_tx) / d - d / curv
    dh0 = d
    dh1 = d
    d_tx = 0.0
    d_rx = d
    for i in range(1, np_):
        d_tx = d_tx + xi
        d_rx = d_rx - xi
        # division-free pre-check of "angle > best" (1e-9 m of slack, far above its rounding);
        # the decision itself uses the reference's expression
        if z[i] - z_tx > (th0 + d_tx * inv_curv) * d_tx - 1e-9:
            t0 = (z[i] - z_tx) / d_tx - d_tx / curv
            if t0 > th0:
                th0 = t0
                dh0 = d_tx
        if z[i] - z_rx > (th1 + d_rx * inv_curv) * d_rx - 1e-9:
            t1 = -(z_rx - z[i]) / d_rx - d_rx / curv
            if t1 > th1:
                th1 = t1
                dh1 = d_rx
    return th0, th1, dh0, dh1


@numba.njit(**_JIT)
def los_geometry(he0, he1, dlt, a_e, d):
    """Horizon geometry of a line-of-sight profile from effective heights ([Algorithm] 3.3-3.4).

    Used when the profile horizons exceed 1.5 times the path: horizon distances from the smooth
    earth with the Delta h correction, heights raised when the horizons would not reach.
    Returns ``(he0, he1, dh0, dh1, th0, th1)``.
    """
    dh0 = math.sqrt(2.0 * he0 * a_e) * math.exp(-0.07 * math.sqrt(dlt / _cmax(he0, 5.0)))
    dh1 = math.sqrt(2.0 * he1 * a_e) * math.exp(-0.07 * math.sqrt(dlt / _cmax(he1, 5.0)))
    comb = dh0 + dh1
    if comb <= d:
        q = (d / comb) ** 2
        he0 = he0 * q
        he1 = he1 * q
        dh0 = math.sqrt(2.0 * he0 * a_e) * math.exp(-0.07 * math.sqrt(dlt / _cmax(he0, 5.0)))
        dh1 = math.sqrt(2.0 * he1 * a_e) * math.exp(-0.07 * math.sqrt(dlt / _cmax(he1, 5.0)))
    q0 = math.sqrt(2.0 * he0 * a_e)
    q1 = math.sqrt(2.0 * he1 * a_e)
    th0 = (0.65 * dlt * (q0 / dh0 - 1.0) - 2.0 * he0) / q0
    th1 = (0.65 * dlt * (q1 / dh1 - 1.0) - 2.0 * he1) / q1
    return he0, he1, dh0, dh1, th0, th1


# --------------------------------------------------------------------------------------------
# reference attenuation (ITM "LongleyRice" and its pieces)
# --------------------------------------------------------------------------------------------
@numba.njit(**_JIT)
def _fresnel(v2):
    """Knife-edge loss A(v, 0) in dB from v^2 [TN101v2 III.24b/c; ERL 79-ITS 67 3.27]."""
    if v2 < 5.76:
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 10.0 * math.log10(v2)


@numba.njit(**_JIT)
def _knife_edge(d, f, a_e, theta_los, dh0, dh1):
    """Double knife-edge diffraction loss (dB) at distance d [TN101 I.1, I.7; Algorithm 4.12]."""
    d_ml = dh0 + dh1
    theta_nlos = d / a_e - theta_los
    d_nlos = d - d_ml
    c = 0.0795775 * (f / 47.7) * theta_nlos * theta_nlos * d_nlos  # 1/(4 pi) * k * theta^2 * d
    v1 = c * dh0 / (d_nlos + dh0)
    v2 = c * dh1 / (d_nlos + dh1)
    return _fresnel(v1) + _fresnel(v2)


@numba.njit(**_JIT)
def _height_function(x_km, k):
    """Vogler's height-gain function F(x, K) in dB for smooth-earth diffraction."""
    if x_km < 200.0:
        w = -math.log(k)
        if k < 1e-5 or x_km * w * w * w > 5495.0:
            result = -117.0
            if x_km > 1.0:
                result = 17.372 * math.log(x_km) + result
        else:
            result = 2.5e-5 * x_km * x_km / k - 8.686 * w - 15.0
    else:
        result = 0.05751 * x_km - 4.343 * math.log(x_km)
        if x_km < 2000.0:
            w = 0.0134 * x_km * math.exp(-0.005 * x_km)
            result = (1.0 - w) * result + w * (17.372 * math.log(x_km) - 117.0)
    return result


@numba.njit(**_JIT)
def _smooth_earth_terminals(dh0, dh1, he0, he1, f, zg_abs):
    """Terminal part of Vogler's three-radii smooth-earth diffraction [Vogler 1964].

    The terminal radii a_i = d_hzn,i^2 / (2 h_e,i) do not depend on the path distance, so the
    normalised distances x_1, x_2 and the height-gain terms F(x_1, K_1) + F(x_2, K_2) are computed
    once per evaluation. Returns ``(x1 + x2, F1 + F2, f^(1/3), f^(-1/3) / |Z_g|)``.
    """
    f_third = np.cbrt(f)
    kf = 0.017778 / (f_third * zg_abs)  # [Vogler 1964, Eqn 6a/7a] without C_0
    a1 = 0.5 * dh0 * dh0 / he0
    a2 = 0.5 * dh1 * dh1 / he1
    c1 = np.cbrt((4.0 / 3.0) * 6370e3 / a1)  # C_0 = (4/3 a_0 / a_i)^(1/3), a_0 = 6370 km
    c2 = np.cbrt((4.0 / 3.0) * 6370e3 / a2)
    k1 = kf * c1
    k2 = kf * c2
    x1 = (1.607 - k1) * c1 * c1 * f_third * dh0 / 1000.0  # B_0 = 1.607 - K [Vogler 1964, fig 4]
    x2 = (1.607 - k2) * c2 * c2 * f_third * dh1 / 1000.0
    return x1 + x2, _height_function(x1, k1) + _height_function(x2, k2), f_third, kf


@numba.njit(**_JIT)
def _smooth_earth(d, a_e, theta_los, d_ml, x12, f12, f_third, kf):
    """Smooth-earth diffraction loss (dB) at distance d, three-radii method [Algorithm 4.20]."""
    theta_nlos = d / a_e - theta_los
    a0 = (d - d_ml) / theta_nlos
    c0 = np.cbrt((4.0 / 3.0) * 6370e3 / a0)
    k0 = kf * c0
    x0 = (1.607 - k0) * c0 * c0 * f_third * (a0 * theta_nlos / 1000.0) + x12
    g_x = 0.05751 * x0 - 10.0 * math.log10(x0)  # [TN101 8.4]
    return g_x - f12 - 20.0


@numba.njit(**_JIT)
def _roughness(d, dlt):
    """Delta h(d) (m): terrain irregularity seen over distance d [ERL 79-ITS 67, Eqn 3]."""
    return dlt * (1.0 - 0.8 * math.exp(-d / 50e3))


@numba.njit(**_JIT)
def _sigma_h(dlt_d):
    """RMS terrain deviation within the first Fresnel zone (m) [ERL 79-ITS 67, Eqn 3.6a]."""
    return 0.78 * dlt_d * math.exp(-0.5 * dlt_d ** 0.25)


@numba.njit(**_JIT)
def _diffraction_terms(he0, he1, dlt, h0, h1, area_mode, d_sml, f):
    """Distance-independent parts of the diffraction attenuation: ``(A_fo, sqrt(1 + qk / q))``.

    Clutter factor A_fo from the terrain roughness over d_sML [ERL 79-ITS 67, p 3-13, Eqn 3.38c],
    and the effective-height term of the knife-edge / smooth-earth weighting [Eqn 3.23].
    """
    sigma_hd = _sigma_h(_roughness(d_sml, dlt))
    a_fo = _cmin(15.0, 5.0 * math.log10(1.0 + 1e-5 * h0 * h1 * f * sigma_hd))
    q = h0 * h1
    qk = he0 * he1 - q
    if area_mode == 0:
        q += 10.0  # known path, low antennas: C ~ 10 [ERL 79-ITS 67, p 3-8]
    return a_fo, math.sqrt(1.0 + qk / q)


@numba.njit(**_JIT)
def _diffraction_loss(d, dh0, dh1, se, a_e, dlt, theta_los, f, a_fo, term1):
    """Diffraction attenuation (dB): weighted knife-edge / smooth earth plus clutter [Algorithm 4.x].

    ``se`` is the tuple of :func:`_smooth_earth_terminals`; ``a_fo`` (clutter factor) and
    ``term1`` (height term of the weighting) do not depend on d: :func:`_diffraction_terms`.
    """
    a_k = _knife_edge(d, f, a_e, theta_los, dh0, dh1)
    a_se = _smooth_earth(d, a_e, theta_los, dh0 + dh1, se[0], se[1], se[2], se[3])
    dlt_d = _roughness(d, dlt)
    d_ml = dh0 + dh1
    q = (term1 + (-theta_los * a_e + d_ml) / d) * _cmin(dlt_d * f / 47.7, 6283.2)
    w = 25.1 / (25.1 + math.sqrt(q))  # [ERL 79-ITS 67, Eqn 3.23]
    return w * a_se + (1.0 - w) * a_k + a_fo


@numba.njit(**_JIT)
def _los_loss(d, he0, he1, zg, dlt, m_d, a_d0, d_sml, f):
    """Line-of-sight attenuation (dB): two-ray with rough-ground reflection blended with the
    extended diffraction line [Algorithm 4.46-4.50]."""
    sigma_hd = _sigma_h(_roughness(d, dlt))
    wn = f / 47.7
    hs = he0 + he1
    sin_psi = hs / math.sqrt(d * d + hs * hs)
    r_e = (sin_psi - zg) / (sin_psi + zg) * math.exp(-_cmin(10.0, wn * sigma_hd * sin_psi))
    q = r_e.real * r_e.real + r_e.imag * r_e.imag
    if q < 0.25 or q < sin_psi:
        r_e = r_e * math.sqrt(sin_psi / q)
    delta_phi = wn * 2.0 * he0 * he1 / d
    half_pi = 0.5 * 3.1415926535897932384
    if delta_phi > half_pi:
        delta_phi = 3.1415926535897932384 - half_pi * half_pi / delta_phi
    rr = complex(math.cos(delta_phi), -math.sin(delta_phi)) + r_e
    a_t = -10.0 * math.log10(rr.real * rr.real + rr.imag * rr.imag)
    a_d = m_d * d + a_d0
    w = 1.0 / (1.0 + f * dlt / _cmax(10e3, d_sml))
    return w * a_t + (1.0 - w) * a_d


@numba.njit(**_JIT)
def _h0_curve(j, r):
    """Curve fit H_01(r, j) for the troposcatter frequency-gain function [Algorithm 6.13]."""
    if j == 0:
        a, b = 25.0, 24.0
    elif j == 1:
        a, b = 80.0, 45.0
    elif j == 2:
        a, b = 177.0, 68.0
    elif j == 3:
        a, b = 395.0, 80.0
    else:
        a, b = 705.0, 105.0
    ir = 1.0 / r
    return 10.0 * math.log10(1.0 + a * ir ** 4 + b * ir * ir)


@numba.njit(**_JIT)
def _h0_function(r, eta_s):
    """Troposcatter frequency-gain function H_0 [TN101v1 ch 9.2], interpolated in eta_s."""
    eta_s = _cmin(_cmax(eta_s, 1.0), 5.0)
    i = int(eta_s)
    q = eta_s - i
    result = _h0_curve(i - 1, r)
    if q != 0.0:
        result = (1.0 - q) * result + q * _h0_curve(i, r)
    return result


@numba.njit(**_JIT)
def _f_function(td):
    """Attenuation function F(theta d) in dB [Algorithm 6.9]."""
    if td <= 10e3:
        return 133.4 + 0.332e-3 * td - 10.0 * math.log10(td)
    if td <= 70e3:
        return 104.6 + 0.212e-3 * td - 2.5 * math.log10(td)
    return 71.8 + 0.157e-3 * td + 5.0 * math.log10(td)


@numba.njit(**_JIT)
def _troposcatter(d, th0, th1, dh0, dh1, he0, he1, a_e, n_s, f, theta_los, h0_in):
    """Troposcatter attenuation (dB) at distance d [Algorithm 4.63-4.67; TN101 9.3-9.5].

    ``h0_in`` carries H_0 between the two calls (negative = not yet computed); returns
    ``(A_scat, H_0)``. 1001 dB flags an undefined value (both r_1, r_2 < 0.2).
    """
    wn = f / 47.7
    if h0_in > 15.0:
        h_0 = h0_in
    else:
        ad = dh0 - dh1
        rr = he1 / he0
        if ad < 0.0:
            ad = -ad
            rr = 1.0 / rr
        theta = th0 + th1 + d / a_e
        r1 = 2.0 * wn * theta * he0
        r2 = 2.0 * wn * theta * he1
        if r1 < 0.2 and r2 < 0.2:
            return 1001.0, h0_in
        s = (d - ad) / (d + ad)
        q = _cmin(_cmax(0.1, rr / s), 10.0)
        s = _cmax(0.1, s)
        h_0m = (d - ad) * (d + ad) * theta * 0.25 / d  # cross-over height [Algorithm 4.66]
        eta_s = (h_0m / 1.7556e3) * (
            1.0 + (0.031 - n_s * 2.32e-3 + n_s * n_s * 5.67e-6)
            * math.exp(-_cmin(1.7, h_0m / 8.0e3) ** 6)
        )
        h_00 = 0.5 * (_h0_function(r1, eta_s) + _h0_function(r2, eta_s))
        dh_0 = _cmin(h_00, 6.0 * (0.6 - math.log10(_cmax(eta_s, 1.0))) * math.log10(s) * math.log10(q))
        h_0 = _cmax(h_00 + dh_0, 0.0)
        if eta_s < 1.0:
            sq2 = math.sqrt(2.0)
            h_0 = eta_s * h_0 + (1.0 - eta_s) * 10.0 * math.log10(
                ((1.0 + sq2 / r1) * (1.0 + sq2 / r2)) ** 2 * (r1 + r2) / (r1 + r2 + 2.0 * sq2)
            )
        if h_0 > 15.0 and h0_in >= 0.0:  # [Algorithm p 12]: keep the value found at d_6
            h_0 = h0_in
    th = d / a_e - theta_los
    loss = (_f_function(th * d) + 10.0 * math.log10(wn * 47.7 * th ** 4)
            - 0.1 * (n_s - 301.0) * math.exp(-th * d / 40e3) + h_0)
    return loss, h_0


@numba.njit(**_JIT)
def longley_rice(th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, dlt, h0, h1, d, area_mode):
    """Reference attenuation A_ref (dB) below free space ([Algorithm] §4, lrprop).

    Returns ``(a_ref, warnings, mode, error)``; mode 1 line of sight, 2 diffraction,
    3 troposcatter; error is an NTIA code (0 = none).
    """
    warn = 0
    a_e = 1.0 / gamma_e
    d_hs0 = math.sqrt(2.0 * he0 * a_e)
    d_hs1 = math.sqrt(2.0 * he1 * a_e)
    d_sml = d_hs0 + d_hs1  # smooth-earth maximum line-of-sight distance
    d_ml = dh0 + dh1  # maximum line-of-sight distance of the actual path
    theta_los = -_cmax(th0 + th1, -d_ml / a_e)
    if abs(th0) > 200e-3:
        warn |= 0x0080
    if abs(th1) > 200e-3:
        warn |= 0x0100
    if dh0 < 0.1 * d_hs0:
        warn |= 0x0200
    if dh1 < 0.1 * d_hs1:
        warn |= 0x0400
    if dh0 > 3.0 * d_hs0:
        warn |= 0x0800
    if dh1 > 3.0 * d_hs1:
        warn |= 0x1000
    if n_s < 150.0:
        return math.nan, warn, 0, 1021
    if n_s > 400.0:
        return math.nan, warn, 0, 1022
    if n_s < 250.0:
        warn |= 0x4000
    if a_e < 4000000.0 or a_e > 13333333.0:
        return math.nan, warn, 0, 1016
    if zg.real <= abs(zg.imag):
        return math.nan, warn, 0, 1013
    se = _smooth_earth_terminals(dh0, dh1, he0, he1, f, abs(zg))

    # diffraction line through two distances far in the diffraction region
    scale = np.cbrt(a_e * a_e / f)
    d3 = _cmax(d_sml, d_ml + 5.0 * scale)
    d4 = d3 + 10.0 * scale
    a_fo, term1 = _diffraction_terms(he0, he1, dlt, h0, h1, area_mode, d_sml, f)
    a3 = _diffraction_loss(d3, dh0, dh1, se, a_e, dlt, theta_los, f, a_fo, term1)
    a4 = _diffraction_loss(d4, dh0, dh1, se, a_e, dlt, theta_los, f, a_fo, term1)
    m_d = (a4 - a3) / (d4 - d3)
    a_d0 = a3 - m_d * d3

    d_min = abs(he0 - he1) / 200e-3
    if d < d_min:
        warn |= 0x0020
    if d < 1e3:
        warn |= 0x0040
    if d > 1000e3:
        warn |= 0x0008
    if d > 2000e3:
        warn |= 0x0010

    if d < d_sml:
        # line-of-sight region: A = A_o + k1 d + k2 ln d fitted to two-ray values [ERL 79-ITS 67 3.16-3.21]
        a_sml = d_sml * m_d + a_d0
        d0 = 0.04 * f * he0 * he1
        if a_d0 >= 0.0:
            d0 = _cmin(d0, 0.5 * d_ml)
            d1 = d0 + 0.25 * (d_ml - d0)
        else:
            d1 = _cmax(-a_d0 / m_d, 0.25 * d_ml)
        a1 = _los_loss(d1, he0, he1, zg, dlt, m_d, a_d0, d_sml, f)
        flag = False
        k1 = 0.0
        k2 = 0.0
        if d0 < d1:
            a0 = _los_loss(d0, he0, he1, zg, dlt, m_d, a_d0, d_sml, f)
            q = math.log(d_sml / d0)
            k2 = _cmax(0.0, ((d_sml - d0) * (a1 - a0) - (d1 - d0) * (a_sml - a0))
                     / ((d_sml - d0) * math.log(d1 / d0) - (d1 - d0) * q))
            flag = a_d0 > 0.0 or k2 > 0.0
            if flag:
                k1 = (a_sml - a0 - k2 * q) / (d_sml - d0)
                if k1 < 0.0:
                    k1 = 0.0
                    k2 = _fdim(a_sml, a0) / q
                    if k2 == 0.0:
                        k1 = m_d
        if not flag:
            k1 = _fdim(a_sml, a1) / (d_sml - d1)
            k2 = 0.0
            if k1 == 0.0:
                k1 = m_d
        a_o = a_sml - k1 * d_sml - k2 * math.log(d_sml)
        a_ref = a_o + k1 * d + k2 * math.log(d)
        mode = 1
    else:
        # trans-horizon: diffraction line, or troposcatter line beyond the transition distance d_x.
        # d_x >= d_ML + 1.088 scale ln f (and d_x = 10e6 m when the scatter line is undefined), so a
        # shorter path is in the diffraction mode whatever the troposcatter values: skip them (the
        # result is identical; most coverage paths are far shorter than d_ML + ~30 km).
        if d <= d_ml + 1.088 * scale * math.log(f) and d <= 10e6:
            return _cmax(m_d * d + a_d0, 0.0), warn, 2, 0
        d5 = d_ml + 200e3
        d6 = d_ml + 400e3
        a6, h0v = _troposcatter(d6, th0, th1, dh0, dh1, he0, he1, a_e, n_s, f, theta_los, -1.0)
        a5, h0v = _troposcatter(d5, th0, th1, dh0, dh1, he0, he1, a_e, n_s, f, theta_los, h0v)
        if a5 < 1000.0:
            m_s = (a6 - a5) / 200e3
            d_x = _cmax(_cmax(d_sml, d_ml + 1.088 * scale * math.log(f)),
                      (a5 - a_d0 - m_s * d5) / (m_d - m_s))
            a_s0 = (m_d - m_s) * d_x + a_d0
        else:
            m_s = m_d
            a_s0 = a_d0
            d_x = 10e6
        if d > d_x:
            a_ref = m_s * d + a_s0
            mode = 3
        else:
            a_ref = m_d * d + a_d0
            mode = 2
    return _cmax(a_ref, 0.0), warn, mode, 0


# --------------------------------------------------------------------------------------------
# variability ([Algorithm] §5, avar)
# --------------------------------------------------------------------------------------------
@numba.njit(**_JIT)
def _curve(c1, c2, x1, x2, x3, d_e):
    """Climate curve fit of [TN101v2 III.69/III.70]."""
    r = (d_e / x1) ** 2
    return (c1 + c2 / (1.0 + ((d_e - x2) / x3) ** 2)) * r / (1.0 + r)


@numba.njit(**_JIT)
def variability(time, location, situation, he0, he1, dlt, f, d, a_ref, climate, mdvar):
    """Attenuation A (dB) below free space at the requested time/location/situation quantiles.

    ``mdvar``: 0 single message, 1 accidental, 2 mobile, 3 broadcast; +10 removes location
    variability (point-to-point), +20 removes direct situation variability (interference).
    Returns ``(attenuation_db, warnings)``.
    """
    warn = 0
    c = climate - 1
    # [TN101 fig 10.13] climate tables (columns: the 7 radio climates)
    all0 = (-9.67, -0.62, 1.26, -9.21, -0.62, -0.39, 3.15)
    all1 = (12.7, 9.19, 15.5, 9.05, 9.19, 2.86, 857.9)
    all2 = (144.9e3, 228.9e3, 262.6e3, 84.1e3, 228.9e3, 141.7e3, 2222.e3)
    all3 = (190.3e3, 205.2e3, 185.2e3, 101.1e3, 205.2e3, 315.9e3, 164.8e3)
    all4 = (133.8e3, 143.6e3, 99.8e3, 98.6e3, 143.6e3, 167.4e3, 116.3e3)
    bsm1 = (2.13, 2.66, 6.11, 1.98, 2.68, 6.86, 8.51)
    bsm2 = (159.5, 7.67, 6.65, 13.11, 7.16, 10.38, 169.8)
    xsm1 = (762.2e3, 100.4e3, 138.2e3, 139.1e3, 93.7e3, 187.8e3, 609.8e3)
    xsm2 = (123.6e3, 172.5e3, 242.2e3, 132.7e3, 186.8e3, 169.6e3, 119.9e3)
    xsm3 = (94.5e3, 136.4e3, 178.6e3, 193.5e3, 133.5e3, 108.9e3, 106.6e3)
    bsp1 = (2.11, 6.87, 10.08, 3.68, 4.75, 8.58, 8.43)
    bsp2 = (102.3, 15.53, 9.60, 159.3, 8.12, 13.97, 8.19)
    xsp1 = (636.9e3, 138.7e3, 165.3e3, 464.4e3, 93.2e3, 216.0e3, 136.2e3)
    xsp2 = (134.8e3, 143.7e3, 225.7e3, 93.1e3, 135.9e3, 152.0e3, 188.5e3)
    xsp3 = (95.6e3, 98.6e3, 129.7e3, 94.2e3, 113.4e3, 122.7e3, 122.9e3)
    c_d = (1.224, 0.801, 1.380, 1.000, 1.224, 1.518, 1.518)  # [Algorithm table 5.1]
    z_d = (1.282, 2.161, 1.282, 20.0, 1.282, 1.282, 1.282)
    bfm1 = (1.0, 1.0, 1.0, 1.0, 0.92, 1.0, 1.0)
    bfm2 = (0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0)
    bfm3 = (0.0, 0.0, 0.0, 0.0, 1.77, 0.0, 0.0)
    bfp1 = (1.0, 0.93, 1.0, 0.93, 0.93, 1.0, 1.0)
    bfp2 = (0.0, 0.31, 0.0, 0.19, 0.31, 0.0, 0.0)
    bfp3 = (0.0, 2.00, 0.0, 1.79, 2.00, 0.0, 0.0)

    z_t = iccdf(time / 100.0)
    z_l = iccdf(location / 100.0)
    z_s = iccdf(situation / 100.0)
    wn = f / 47.7
    # effective distance [Algorithm 5.3], a_9000 = 9000 km
    d_ex = (math.sqrt(2.0 * 9000e3 * he0) + math.sqrt(2.0 * 9000e3 * he1)
            + np.cbrt(575.7e12 / wn))
    if d < d_ex:
        d_e = 130e3 * d / d_ex
    else:
        d_e = 130e3 + d - d_ex

    kdv = mdvar
    plus20 = kdv >= 20
    if plus20:
        kdv -= 20
    sigma_s = 0.0 if plus20 else 5.0 + 3.0 * math.exp(-d_e / 100e3)  # [Algorithm 5.10]
    plus10 = kdv >= 10
    if plus10:
        kdv -= 10

    v_med = _curve(all0[c], all1[c], all2[c], all3[c], all4[c], d_e)
    if kdv == 0:
        z_t = z_s
        z_l = z_s
    elif kdv == 1:
        z_l = z_s
    elif kdv == 2:
        z_l = z_t
    if abs(z_t) > 3.10 or abs(z_l) > 3.10 or abs(z_s) > 3.10:
        warn |= 0x2000

    if plus10:
        sigma_l = 0.0
    else:
        dd = _roughness(d, dlt)
        sigma_l = 10.0 * wn * dd / (wn * dd + 13.0)  # [Algorithm 5.9]
    y_l = sigma_l * z_l

    q = math.log(0.133 * wn)
    g_minus = bfm1[c] + bfm2[c] / ((bfm3[c] * q) ** 2 + 1.0)
    g_plus = bfp1[c] + bfp2[c] / ((bfp3[c] * q) ** 2 + 1.0)
    sigma_tm = _curve(bsm1[c], bsm2[c], xsm1[c], xsm2[c], xsm3[c], d_e) * g_minus
    sigma_tp = _curve(bsp1[c], bsp2[c], xsp1[c], xsp2[c], xsp3[c], d_e) * g_plus
    sigma_td = c_d[c] * sigma_tp
    tgtd = (sigma_tp - sigma_td) * z_d[c]
    if z_t < 0.0:
        sigma_t = sigma_tm
    elif z_t <= z_d[c]:
        sigma_t = sigma_tp
    else:
        sigma_t = sigma_td + tgtd / z_t
    y_t = sigma_t * z_t

    y_s_temp = sigma_s ** 2 + y_t ** 2 / (7.8 + z_s ** 2) + y_l ** 2 / (24.0 + z_s ** 2)  # [Algorithm 5.11]
    if kdv == 0:
        y_r = 0.0
        y_s = math.sqrt(sigma_t ** 2 + sigma_l ** 2 + y_s_temp) * z_s
    elif kdv == 1:
        y_r = y_t
        y_s = math.sqrt(sigma_l ** 2 + y_s_temp) * z_s
    elif kdv == 2:
        y_r = math.sqrt(sigma_t ** 2 + sigma_l ** 2) * z_t
        y_s = math.sqrt(y_s_temp) * z_s
    else:
        y_r = y_t + y_l
        y_s = math.sqrt(y_s_temp) * z_s
    result = a_ref - v_med - y_r - y_s
    if result < 0.0:  # soft limit of the gain over free space [Algorithm 5.2]
        result = result * (29.0 - result) / (29.0 - 10.0 * result)
    return result, warn


@numba.njit(**_JIT)
def input_warnings(h_tx, h_rx, f):
    """Warning bits of the terminal heights and frequency (validated 1-1000 m, 40-10,000 MHz)."""
    warn = 0
    if h_tx < 1.0 or h_tx > 1000.0:
        warn |= 0x0001
    if h_rx < 1.0 or h_rx > 1000.0:
        warn |= 0x0002
    if f < 40.0 or f > 10000.0:
        warn |= 0x0004
    return warn


@numba.njit(**_JIT)
def finish(th0, th1, dh0, dh1, he0, he1, dlt, d, gamma_e, n_s, zg, h_tx, h_rx, f, climate, mdvar,
           time, location, situation, area_mode):
    """Reference attenuation + variability + free space. Returns
    ``(loss_db, warnings, mode, a_fs_db, a_ref_db, error)``."""
    a_ref, warn, mode, err = longley_rice(th0, th1, f, zg, dh0, dh1, he0, he1, gamma_e, n_s, dlt,
                                          h_tx, h_rx, d, area_mode)
    warn |= input_warnings(h_tx, h_rx, f)
    a_fs = free_space_loss(d, f)
    if err != 0:
        return math.nan, warn, mode, a_fs, a_ref, err
    a_var, w2 = variability(time, location, situation, he0, he1, dlt, f, d, a_ref, climate, mdvar)
    return a_var + a_fs, warn | w2, mode, a_fs, a_ref, 0


# --------------------------------------------------------------------------------------------
# point-to-point and area entry points
# --------------------------------------------------------------------------------------------
@numba.njit(inline="always", **_JIT)
def _store(rec, loss, warn, mode, a_fs, d_km, th0, th1, dh0, dh1, he0, he1, n_s, dlt, a_ref, err):
    """Write one evaluation's result record (the layout ``coverage.itm`` unpacks)."""
    rec[0] = loss
    rec[1] = warn
    rec[2] = mode
    rec[3] = a_fs
    rec[4] = d_km
    rec[5] = th0
    rec[6] = th1
    rec[7] = dh0
    rec[8] = dh1
    rec[9] = he0
    rec[10] = he1
    rec[11] = n_s
    rec[12] = dlt
    rec[13] = a_ref
    rec[14] = err


@numba.njit(**_JIT)
def p2p_core(z, np_, prm, rec, buf):
    """ITM point-to-point on ``z[0..np_]`` (``np_`` intervals of ``prm[0]`` m) into ``rec``.

    ``prm`` is a parameter row (layout :data:`P2P_PARAMS`; ``h_sys_m`` NaN = the reference's mean
    elevation of the middle 80 % of the profile), ``rec`` a record (:data:`RECORD`), ``buf``
    scratch of ``N_SCRATCH`` floats. Follows ITM_P2P_TLS_Ex of NTIA ITM v1.4.
    """
    xi = prm[0]
    h_tx = prm[1]
    h_rx = prm[2]
    f = prm[3]
    climate = int(prm[4])
    n0 = prm[5]
    pol = int(prm[6])
    eps = prm[7]
    sigma = prm[8]
    mdvar = int(prm[9])
    d = np_ * xi
    total, _unused = _sums(z, 0, np_ + 1, 0.0)
    if not math.isfinite(total):
        rec[0] = math.nan
        rec[14] = 1
        return
    h_sys = prm[13]
    if math.isnan(h_sys):
        # mean elevation ignoring the first and last 10 % of the profile
        p10 = int(0.1 * np_)
        h_sys, _unused = _sums(z, p10, np_ - p10 + 1, 0.0)
        h_sys = h_sys / (np_ - 2 * p10 + 1)
    n_s = surface_refractivity(n0, h_sys)
    gamma_e = effective_curvature(n_s)
    zg = ground_impedance(f, pol, eps, sigma)
    a_e = 1.0 / gamma_e

    z_tx = z[0] + h_tx
    z_rx = z[np_] + h_rx
    th0, th1, dh0, dh1 = find_horizons(z, np_, xi, z_tx, z_rx, a_e)
    # terrain is considered from ~15 tower heights (or 10 % of the horizon) [Hufford 1982, p 25]
    d_start = _cmin(15.0 * h_tx, 0.1 * dh0)
    d_end = d - _cmin(15.0 * h_rx, 0.1 * dh1)
    dlt = delta_h(z, np_, xi, d_start, d_end, buf)
    if dh0 + dh1 > 1.5 * d:
        fit0, fit1 = lsq_fit(z, np_, xi, d_start, d_end)
        he0 = h_tx + _fdim(z[0], fit0)
        he1 = h_rx + _fdim(z[np_], fit1)
        he0, he1, dh0, dh1, th0, th1 = los_geometry(he0, he1, dlt, a_e, d)
    else:
        fit0, _unused = lsq_fit(z, np_, xi, d_start, 0.9 * dh0)
        he0 = h_tx + _fdim(z[0], fit0)
        _unused, fit1 = lsq_fit(z, np_, xi, d - 0.9 * dh1, d_end)
        he1 = h_rx + _fdim(z[np_], fit1)

    loss, warn, mode, a_fs, a_ref, err = finish(
        th0, th1, dh0, dh1, he0, he1, dlt, d, gamma_e, n_s, zg, h_tx, h_rx, f, climate, mdvar,
        prm[10], prm[11], prm[12], 0)
    _store(rec, loss, warn, mode, a_fs, d / 1000.0, th0, th1, dh0, dh1, he0, he1, n_s, dlt, a_ref, err)


@numba.njit(**_JIT)
def p2p_one(z, np_, prm, rec):
    """One point-to-point evaluation (see :func:`p2p_core`); allocates its own scratch."""
    buf = np.empty(560)
    p2p_core(z, np_, prm, rec, buf)


@numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def p2p_batch(profiles, n_points, prm2d, rec2d):
    """Point-to-point on every row: ``profiles[j, 0:n_points[j]]``, parameters ``prm2d[j]``."""
    n = profiles.shape[0]
    for j in numba.prange(n):
        buf = np.empty(560)
        p2p_core(profiles[j], n_points[j] - 1, prm2d[j], rec2d[j], buf)


@numba.njit(**_JIT)
def _area_terminal(h, crit, dlt, gamma_e):
    """Effective height, horizon distance and angle of an area-mode terminal [Algorithm 3.2-3.4].

    ``crit``: siting criterion, 0 random, 1 careful, 2 very careful.
    """
    if crit == 0:
        he = h
    else:
        b = 4.0 if crit == 1 else 9.0
        if h < 5.0:
            b = b * math.sin(0.1 * 3.1415926535897932384 * h)
        he = h + (1.0 + b) * math.exp(-_cmin(20.0, 2.0 * h / _cmax(1e-3, dlt)))
    d_ls = math.sqrt(2.0 * he / gamma_e)  # smooth-earth horizon
    dh = d_ls * math.exp(-0.07 * math.sqrt(dlt / _cmax(he, 5.0)))
    th = (0.65 * dlt * (d_ls / dh - 1.0) - 2.0 * he) / d_ls
    return he, dh, th


@numba.njit(**_JIT)
def area_core(d_km, prm, rec):
    """ITM area mode at distance ``d_km`` (km) with parameter row ``prm`` (:data:`AREA_PARAMS`).

    Follows ITM_AREA_TLS_Ex of NTIA ITM v1.4: N_s = N_0 (no elevation scaling), effective heights
    and horizons from the siting criteria and Delta h [Algorithm 3.1-3.4].
    """
    h_tx = prm[0]
    h_rx = prm[1]
    dlt = prm[4]
    f = prm[5]
    climate = int(prm[6])
    n_s = surface_refractivity(prm[7], 0.0)
    gamma_e = effective_curvature(n_s)
    zg = ground_impedance(f, int(prm[8]), prm[9], prm[10])
    mdvar = int(prm[11])
    he0, dh0, th0 = _area_terminal(h_tx, int(prm[2]), dlt, gamma_e)
    he1, dh1, th1 = _area_terminal(h_rx, int(prm[3]), dlt, gamma_e)
    d = d_km * 1000.0
    loss, warn, mode, a_fs, a_ref, err = finish(
        th0, th1, dh0, dh1, he0, he1, dlt, d, gamma_e, n_s, zg, h_tx, h_rx, f, climate,
        mdvar, prm[12], prm[13], prm[14], 1)
    _store(rec, loss, warn, mode, a_fs, d_km, th0, th1, dh0, dh1, he0, he1, n_s, dlt, a_ref, err)


@numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def area_batch(d_km, prm2d, rec2d):
    """Area mode for every ``d_km[j]`` with parameter row ``prm2d[j]``."""
    for j in numba.prange(d_km.shape[0]):
        area_core(d_km[j], prm2d[j], rec2d[j])
