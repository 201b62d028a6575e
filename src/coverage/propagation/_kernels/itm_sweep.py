"""ITM point-to-point along radials: the coverage engine's Longley-Rice kernel.

``itm_radials`` gives, for every sample k >= 1 of every radial, the ITM point-to-point basic
transmission loss from the site to a receiver at that sample over the cell's own profile
``elev2d[j, 0:k+1]`` -- the same quantity as :func:`coverage.itm.p2p` on that sub-profile -- but
carries along the radial everything that does not need a re-scan:

* **system elevation** (mean of the middle 80 % of the profile, which scales N_0 to N_s and the
  effective earth curvature gamma_e): prefix sums, O(1) per sample;
* **least-squares fits** of the effective heights ([Algorithm] §43, zlsq1): prefix sums of the
  elevations and of index x elevation, centred on the site elevation and the radial's middle
  index to avoid the cancellation behind NTIA/itm issue 21, O(1) per fit; the fitted index range
  is truncated exactly as the reference truncates it;
* **transmitter horizon**: the horizon angle of point i is a line in gamma_e,
  A_i - B_i gamma_e with A_i = (z_i - z_tx)/d_i, B_i = d_i/2. gamma_e changes (slightly) from
  sample to sample with the system elevation, so instead of a running maximum (exact only for a
  fixed gamma_e) the kernel keeps the upper envelope of these lines over the radial's own range
  [min gamma_e, max gamma_e]; lines dominated over that range are dropped for good. Exact;
* **receiver horizon**: the angle from receiver k to point i is
  (w_i - Y_k)/(x_k - x_i) - gamma x_k with w_i = z_i - gamma x_i^2/2, the slope to the upper convex
  hull of the points (x_i, w_i). The hull is kept incrementally (monotone chain) for the radial's
  largest curvature gamma_hi; for a sample with gamma_k <= gamma_hi the hull points remain a
  superset of the candidates (adding the convex (gamma_hi - gamma_k) x^2/2 never lifts a point
  above a chord), the tangent at gamma_hi is found by bisection and the exact maximum at gamma_k by
  a short walk towards the site, stopped by the bound
  theta_i(gamma_k) <= theta_i(gamma_hi) + (gamma_hi - gamma_k) u_max / 2. Exact; O(log n) per
  sample.

What is *not* carried: the terrain irregularity Delta h resamples the sub-profile between
d_start and d_end (both depend on the sample's own horizons) at up to 245 points and takes the
interdecile range of the residuals of a new fit, so it is recomputed per sample with the reference
algorithm (O(245), which sets the cost per sample), as are the Longley-Rice reference attenuation
and the variability.

Nothing is approximated in the model: the sweep differs from the exact per-cell evaluation only
through floating-point rounding (sums in another order; horizon candidates compared in another but
algebraically equal form). The horizon distances and the index truncations that follow them are
computed with the reference's arithmetic (distances accumulated step by step), so that a rounding
difference can change a result only where two horizon candidates tie to ~1e-15 rad; the measured
agreement with ``itm_radials_exact`` is in ``tests/test_itm_sweep.py`` and
``benchmarks/bench_itm.py``.

``itm_radials`` is parallel over radials (numba prange); ``itm_radials_serial`` is the same on the
calling thread (for callers that parallelise themselves) and ``itm_radials_exact`` the validation
reference (the full point-to-point model on every sub-profile).

``itm_radials_fast`` is the coverage engine's path (issue 14). Per radial it runs in three passes:
(1) the carried horizons above for every sample (each sample is an interior point of the later
ones, so none can be skipped here); (2) Delta h, the one statistic of the whole path that is not
carried, exact at adaptive nodes and linear between them (:func:`_delta_h_adaptive`: an interval is
accepted when its exact midpoint is within 1 m + 2 % of the interpolation, else split), which takes
Delta h from ~60 % of the per-sample cost to ~4 %; (3) the fits, the Longley-Rice attenuation and the
variability, exact, only at the samples some cell reads (``k_first``: the engine thins radials near
the site). The receiver-side terms (receiver horizon, its fit, the receiver's ground) stay exact at
every evaluated sample: interpolating the loss itself along a radial is what fails (field notes:
91.5 % within 1 dB with every second sample exact). What remains per evaluated sample is the
Longley-Rice attenuation plus variability (~0.6 us, ~45 transcendental calls, 75 % of the time)
and pass 1 with the fits (~0.2 us). Measured error and speed: ``tests/test_itm_sweep.py``,
``benchmarks/bench_itm_map.py``.

Kernels follow the package rules: plain arrays and scalars, ``cache=True``, no module globals read
inside kernels. Note that numba's cache does not notice edits to ``_itm_kernels.py``, whose
functions are compiled into these kernels: clear ``__pycache__`` after editing it.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .itm import (
    _cmin,
    _fdim,
    delta_h,
    effective_curvature,
    finish,
    fit_range,
    ground_impedance,
    los_geometry,
    p2p_core,
    surface_refractivity,
)

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def _fit_prefix(z, q0, q1, zref, c0, np_, xi, d_start, d_end):
    """The reference least-squares fit of ``z[0..np_]`` between two distances, from prefix sums.

    ``q0[m] = sum_{i<m} (z_i - zref)`` and ``q1[m] = sum_{i<m} (i - c0)(z_i - zref)``. Same index
    truncation and trapezoid weights as :func:`_itm_kernels.lsq_fit`; returns the fitted line at
    index 0 and index ``np_``.
    """
    i_s, i_e = fit_range(np_, xi, d_start, d_end)
    x_len = float(i_e - i_s)
    ys = z[i_s] - zref
    ye = z[i_e] - zref
    t0 = q0[i_e + 1] - q0[i_s] - 0.5 * (ys + ye)
    t1 = q1[i_e + 1] - q1[i_s] - 0.5 * ((i_s - c0) * ys + (i_e - c0) * ye)
    c_m = i_e - 0.5 * x_len
    sum_y = t0 / x_len + zref
    scaled = (t1 - (c_m - c0) * t0) * 12.0 / ((x_len * x_len + 2.0) * x_len)
    return sum_y - scaled * c_m, sum_y + scaled * (np_ - c_m)


@numba.njit(**_JIT)
def _radial(z, n, xi, h_tx, h_rx, f, climate, n0, pol, eps, sigma, mdvar, time, location,
            situation, out, buf, dacc, q0, q1, gam, ns, env_i, env_a, env_b, hull_i, hull_x,
            hull_w, hz, kfirst, dh_tol, need, use_need):
    """ITM p2p from sample 0 to every sample kfirst..n-1 of one radial ``z``; losses into ``out``.

    Pass 1 carries the horizons along the whole radial (every sample is an interior point of the
    later ones) and stores each sample's horizon angles and distances and Delta h range in ``hz``
    (6 rows); pass 2 computes Delta h (every sample when ``dh_tol`` < 0, else :func:`_delta_h_adaptive`);
    pass 3 the fits and the Longley-Rice attenuation of every sample from ``kfirst`` on.
    """
    for k in range(out.shape[0]):
        out[k] = math.nan
    if n < 2:
        return
    zg = ground_impedance(f, pol, eps, sigma)
    zref = z[0]
    c0 = 0.5 * (n - 1)
    q0[0] = 0.0
    q1[0] = 0.0
    for i in range(n):
        y = z[i] - zref
        q0[i + 1] = q0[i] + y
        q1[i + 1] = q1[i] + (i - c0) * y
    dacc[0] = 0.0
    for i in range(1, n):
        dacc[i] = dacc[i - 1] + xi  # the reference accumulates distances step by step

    # system elevation -> N_s -> gamma_e of every sub-profile 0..k (mean of the middle 80 %)
    g_lo = math.inf
    g_hi = -math.inf
    for k in range(1, n):
        p10 = int(0.1 * k)
        cnt = k - 2 * p10 + 1
        h_sys = (q0[k - p10 + 1] - q0[p10]) / cnt + zref
        ns[k] = surface_refractivity(n0, h_sys)
        gam[k] = effective_curvature(ns[k])
        g_lo = min(g_lo, gam[k])
        g_hi = max(g_hi, gam[k])

    z_tx = z[0] + h_tx
    n_env = 0
    n_hull = 0
    for k in range(1, n):
        d = k * xi
        g = gam[k]
        a_e = 1.0 / g
        curv = 2.0 * a_e
        z_rx = z[k] + h_rx
        # line-of-sight horizon angles [TN101 6.15], then the profile's own horizons
        th0 = (z_rx - z_tx) / d - d / curv
        th1 = -(z_rx - z_tx) / d - d / curv
        dh0 = d
        dh1 = d

        if n_env > 0:  # transmitter: best line of the envelope at this gamma_e
            best = -math.inf
            ib = -1
            for e in range(n_env):
                v = env_a[e] - env_b[e] * g
                if v > best:
                    best = v
                    ib = env_i[e]
            t0 = (z[ib] - z_tx) / dacc[ib] - dacc[ib] / curv
            if t0 > th0:
                th0 = t0
                dh0 = dacc[ib]

        if n_hull > 0:  # receiver: tangent to the upper hull
            xk = k * xi
            y_k = z_rx - 0.5 * g_hi * xk * xk
            lo = 0
            hi = n_hull - 1
            while lo < hi:
                mid = (lo + hi) >> 1
                f_mid = (hull_w[mid] - y_k) / (xk - hull_x[mid])
                f_nxt = (hull_w[mid + 1] - y_k) / (xk - hull_x[mid + 1])
                if f_nxt > f_mid:
                    lo = mid + 1
                else:
                    hi = mid
            dg = g_hi - g
            slack = 0.5 * dg * (xk - hull_x[0]) + 1e-12
            best = -math.inf
            ib = -1
            t = lo
            while t >= 0:
                f_hi = (hull_w[t] - y_k) / (xk - hull_x[t]) - g_hi * xk
                if f_hi + slack < best:
                    break
                i = hull_i[t]
                u = xk - hull_x[t]
                v = (z[i] - z_rx) / u - 0.5 * g * u
                if v >= best:
                    best = v
                    ib = i
                t -= 1
            if best > th1 - 1e-9:  # the candidate may beat the line-of-sight angle
                if dh_tol < 0.0:
                    d_rx = d
                    for _ in range(ib):
                        d_rx = d_rx - xi  # the reference's distance arithmetic (step by step)
                else:
                    d_rx = (k - ib) * xi  # fast path: O(1), equal to ~1e-16 relative
                t1 = -(z_rx - z[ib]) / d_rx - d_rx / curv
                if t1 > th1:
                    th1 = t1
                    dh1 = d_rx

        hz[0, k] = th0
        hz[1, k] = th1
        hz[2, k] = dh0
        hz[3, k] = dh1
        hz[4, k] = _cmin(15.0 * h_tx, 0.1 * dh0)  # d_start
        hz[5, k] = d - _cmin(15.0 * h_rx, 0.1 * dh1)  # d_end

        # sample k becomes an interior point for the samples beyond it
        a_k = (z[k] - z_tx) / dacc[k]
        b_k = 0.5 * dacc[k]
        if n_env == 0 or a_k - b_k * g_lo > env_a[n_env - 1] - env_b[n_env - 1] * g_lo:
            while n_env > 0 and a_k - b_k * g_hi > env_a[n_env - 1] - env_b[n_env - 1] * g_hi:
                n_env -= 1
            env_i[n_env] = k
            env_a[n_env] = a_k
            env_b[n_env] = b_k
            n_env += 1
        x_new = k * xi
        w_new = z[k] - 0.5 * g_hi * x_new * x_new
        while n_hull >= 2:
            x1 = hull_x[n_hull - 2]
            w1 = hull_w[n_hull - 2]
            if (hull_w[n_hull - 1] - w1) * (x_new - x1) <= (w_new - w1) * (hull_x[n_hull - 1] - x1):
                n_hull -= 1
            else:
                break
        hull_i[n_hull] = k
        hull_x[n_hull] = x_new
        hull_w[n_hull] = w_new
        n_hull += 1

    dlt_k = hz[6]
    # exact over the first 128 samples, where one sample is a large share of the path and an exact
    # Delta h is cheap (O(k) each); adaptive nodes beyond (a literal: cached kernels freeze globals)
    k_exact = n if dh_tol < 0.0 else min(n, 128)
    for k in range(max(kfirst, 1), k_exact):
        dlt_k[k] = delta_h(z, k, xi, hz[4, k], hz[5, k], buf)
    if k_exact < n:
        _delta_h_adaptive(z, n, xi, hz, max(kfirst, 1, k_exact - 1), dh_tol, buf)

    for k in range(1, min(kfirst, n)):
        out[k] = math.nan
    for k in range(max(kfirst, 1), n):
        if use_need and need[k] == 0:
            out[k] = math.nan  # no cell takes this sample (nearest-sample mapping)
            continue
        d = k * xi
        g = gam[k]
        a_e = 1.0 / g
        th0 = hz[0, k]
        th1 = hz[1, k]
        dh0 = hz[2, k]
        dh1 = hz[3, k]
        d_start = hz[4, k]
        d_end = hz[5, k]
        dlt = dlt_k[k]
        if dh0 + dh1 > 1.5 * d:
            fit0, fit1 = _fit_prefix(z, q0, q1, zref, c0, k, xi, d_start, d_end)
            he0 = h_tx + _fdim(z[0], fit0)
            he1 = h_rx + _fdim(z[k], fit1)
            he0, he1, dh0, dh1, th0, th1 = los_geometry(he0, he1, dlt, a_e, d)
        else:
            fit0, _unused = _fit_prefix(z, q0, q1, zref, c0, k, xi, d_start, 0.9 * dh0)
            he0 = h_tx + _fdim(z[0], fit0)
            _unused, fit1 = _fit_prefix(z, q0, q1, zref, c0, k, xi, d - 0.9 * dh1, d_end)
            he1 = h_rx + _fdim(z[k], fit1)
        loss, _w, _m, _fs, _ar, _err = finish(
            th0, th1, dh0, dh1, he0, he1, dlt, d, g, ns[k], zg, h_tx, h_rx, f, climate, mdvar,
            time, location, situation, 0)
        out[k] = loss


@numba.njit(**_JIT)
def _delta_h_adaptive(z, n, xi, hz, k0, tol, buf):
    """Delta h of samples k0..n-1 into ``hz[6]``: exact at nodes, linear in k between them.

    Delta h is a statistic of the whole path (interdecile range of the detrended terrain between
    d_start and d_end): it changes slowly along a radial, by one sample's share of the path per
    step, except where the transmitter horizon moves d_start. Nodes start every k/4 samples (at
    least 2); an interval is accepted when the exact value at its midpoint is within
    ``tol`` m + 2 % of the linear interpolation between its ends, else it is split (down to
    intervals of 2, which are exact). The error bound is checked, not proven, between nodes: the
    benchmark and the tests measure the resulting loss error against the exact sweep.
    """
    dl = hz[6]
    if k0 >= n:
        return
    stack_a = np.empty(64, dtype=np.int64)
    stack_b = np.empty(64, dtype=np.int64)
    a = k0
    dl[a] = delta_h(z, a, xi, hz[4, a], hz[5, a], buf)
    while a < n - 1:
        b = min(n - 1, a + max(2, a >> 2))
        dl[b] = delta_h(z, b, xi, hz[4, b], hz[5, b], buf)
        top = 0
        stack_a[0] = a
        stack_b[0] = b
        top = 1
        while top > 0:
            top -= 1
            lo = stack_a[top]
            hi = stack_b[top]
            if hi - lo < 2:
                continue
            mid = (lo + hi) >> 1
            dl[mid] = delta_h(z, mid, xi, hz[4, mid], hz[5, mid], buf)
            if hi - lo == 2:
                continue
            t = (mid - lo) / (hi - lo)
            lin = dl[lo] * (1.0 - t) + dl[hi] * t
            if abs(dl[mid] - lin) <= tol + 0.02 * max(abs(dl[lo]), abs(dl[hi])) or top >= 62:
                for k in range(lo + 1, hi):
                    if k != mid:
                        if k < mid:
                            u = (k - lo) / (mid - lo)
                            dl[k] = dl[lo] * (1.0 - u) + dl[mid] * u
                        else:
                            u = (k - mid) / (hi - mid)
                            dl[k] = dl[mid] * (1.0 - u) + dl[hi] * u
            else:
                stack_a[top] = lo
                stack_b[top] = mid
                stack_a[top + 1] = mid
                stack_b[top + 1] = hi
                top += 2
        a = b


@numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def itm_radials(elev2d, n_valid, step_m, h_tx_m, h_rx_m, freq_mhz, climate, n0, pol, epsilon,
                sigma, mdvar, time, location, situation, out2d):
    """ITM point-to-point loss from the site to every sample of every radial (parallel over radials).

    Parameters
    ----------
    elev2d : ndarray, float64 (n_radials, n_samples), C-contiguous
        Ground elevation (m) of radial j at distance k * step_m from the site (k = 0: the site).
    n_valid : ndarray, int64 (n_radials,)
        Number of valid samples of each radial (samples beyond are ignored).
    step_m : float
        Sample spacing (m).
    h_tx_m, h_rx_m, freq_mhz, n0, epsilon, sigma, time, location, situation : float
        As for :func:`coverage.itm.p2p` (no range checks here: see ``coverage.itm.check_inputs``).
    climate, pol, mdvar : int
    out2d : ndarray, float64 (n_radials, n_samples), C-contiguous
        Receives the basic transmission loss (dB) of each sample; NaN at k = 0, beyond
        ``n_valid`` and where the reference would return an error.
    """
    n_rad, n_col = elev2d.shape
    for j in numba.prange(n_rad):
        _radial_alloc(elev2d, n_valid, j, n_col, step_m, h_tx_m, h_rx_m, freq_mhz, climate, n0,
                      pol, epsilon, sigma, mdvar, time, location, situation, out2d, 1, -1.0,
                      np.ones(1, dtype=np.uint8), False)


@numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def itm_radials_fast(elev2d, n_valid, k_first, step_j, h_tx_m, h_rx_m, freq_mhz, climate, n0, pol,
                     epsilon, sigma, mdvar, time, location, situation, dh_tol_m, need2d, out2d):
    """The engine's fast path of :func:`itm_radials`: radial j sampled every ``step_j[j]`` m, its
    samples from ``k_first[j]`` on only (earlier ones are NaN: no cell reads them), and Delta h exact
    at adaptive nodes, linear between (:func:`_delta_h_adaptive`, tolerance ``dh_tol_m`` m + 2 %).
    With ``need2d`` (uint8, the shape of ``elev2d``) only the samples flagged there are evaluated
    (a (1, 1) array: all). Horizons, fits, N_s, the Longley-Rice attenuation and the variability stay
    exact at every computed sample; only the path statistic Delta h is approximated (and the
    receiver-horizon distance is computed in one product instead of the reference's step-by-step
    sum)."""
    n_rad, n_col = elev2d.shape
    use_need = need2d.shape[0] == n_rad and need2d.shape[1] == n_col
    row_of = 1 if use_need else 0  # need2d row of radial j: j, or the single row 0
    for j in numba.prange(n_rad):
        _radial_alloc(elev2d, n_valid, j, n_col, step_j[j], h_tx_m, h_rx_m, freq_mhz, climate, n0,
                      pol, epsilon, sigma, mdvar, time, location, situation, out2d, k_first[j],
                      dh_tol_m, need2d[j * row_of], use_need)


@numba.njit(**_JIT)
def itm_radials_serial(elev2d, n_valid, step_m, h_tx_m, h_rx_m, freq_mhz, climate, n0, pol,
                       epsilon, sigma, mdvar, time, location, situation, out2d):
    """:func:`itm_radials` on the calling thread only (no numba thread pool).

    For callers that provide their own parallelism (Dask or thread-pool workers): numba's
    ``workqueue`` threading layer aborts when ``parallel=True`` kernels are entered from several
    threads at once. Same arguments and results.
    """
    n_rad, n_col = elev2d.shape
    for j in range(n_rad):
        _radial_alloc(elev2d, n_valid, j, n_col, step_m, h_tx_m, h_rx_m, freq_mhz, climate, n0,
                      pol, epsilon, sigma, mdvar, time, location, situation, out2d, 1, -1.0,
                      np.ones(1, dtype=np.uint8), False)


@numba.njit(**_JIT)
def _radial_alloc(elev2d, n_valid, j, n_col, step_m, h_tx_m, h_rx_m, freq_mhz, climate, n0, pol,
                  epsilon, sigma, mdvar, time, location, situation, out2d, kfirst, dh_tol, need,
                  use_need):
    """Scratch arrays for radial j, then :func:`_radial`."""
    n = min(n_valid[j], n_col)
    m = max(n, 1)
    buf = np.empty(560)
    dacc = np.empty(m)
    q0 = np.empty(m + 1)
    q1 = np.empty(m + 1)
    gam = np.empty(m)
    ns = np.empty(m)
    env_i = np.empty(m, dtype=np.int64)
    env_a = np.empty(m)
    env_b = np.empty(m)
    hull_i = np.empty(m, dtype=np.int64)
    hull_x = np.empty(m)
    hull_w = np.empty(m)
    hz = np.empty((7, m))
    _radial(elev2d[j], n, step_m, h_tx_m, h_rx_m, freq_mhz, climate, n0, pol, epsilon, sigma,
            mdvar, time, location, situation, out2d[j], buf, dacc, q0, q1, gam, ns, env_i,
            env_a, env_b, hull_i, hull_x, hull_w, hz, kfirst, dh_tol, need, use_need)


@numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def itm_radials_exact(elev2d, n_valid, step_m, h_tx_m, h_rx_m, freq_mhz, climate, n0, pol,
                      epsilon, sigma, mdvar, time, location, situation, out2d):
    """Reference for :func:`itm_radials`: the full point-to-point ITM on every sub-profile.

    Same arguments and output; O(n^2) per radial (a re-scan per sample), for validation.
    """
    n_rad, n_col = elev2d.shape
    for j in numba.prange(n_rad):
        n = min(n_valid[j], n_col)
        prm = np.empty(14)
        prm[0] = step_m
        prm[1] = h_tx_m
        prm[2] = h_rx_m
        prm[3] = freq_mhz
        prm[4] = climate
        prm[5] = n0
        prm[6] = pol
        prm[7] = epsilon
        prm[8] = sigma
        prm[9] = mdvar
        prm[10] = time
        prm[11] = location
        prm[12] = situation
        prm[13] = math.nan
        rec = np.empty(15)
        buf = np.empty(560)
        row = out2d[j]
        for k in range(n_col):
            row[k] = math.nan
        for k in range(1, n):
            p2p_core(elev2d[j], k, prm, rec, buf)
            row[k] = rec[0]
