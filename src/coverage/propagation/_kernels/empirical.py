"""Numba kernels of the distance-only models (free space, Okumura-Hata, COST-231 Hata).

Private module: arrays of distances in metres in, losses in dB out; NaN distances stay NaN.
Environment codes: 0 large city, 1 medium/small city (urban), 2 suburban, 3 open (rural).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _fspl(d_m, freq_mhz):
    # ITU-R P.525-4 eq. (4): L = 32.45 + 20 log f(MHz) + 20 log d(km), with the exact constant.
    return 20.0 * math.log10(4.0 * math.pi * freq_mhz * 1e6 / 299792458.0) + 20.0 * math.log10(d_m)


@njit(cache=True, inline="always")
def _a_hm(freq_mhz, h_m, env):
    lf = math.log10(freq_mhz)
    if env == 0:
        # Hata (1980) eqs. (8)-(9): large city
        if freq_mhz <= 300.0:
            return 8.29 * math.log10(1.54 * h_m) ** 2 - 1.1
        return 3.2 * math.log10(11.75 * h_m) ** 2 - 4.97
    return (1.1 * lf - 0.7) * h_m - (1.56 * lf - 0.8)


@njit(cache=True, inline="always")
def _hata(d_m, freq_mhz, h_b, h_m, env, cost231):
    lf = math.log10(freq_mhz)
    lhb = math.log10(h_b)
    ld = math.log10(d_m * 1e-3)
    if cost231:
        # COST 231 final report §4.4.1 eq. (4.4.3); C_m = 3 dB in metropolitan centres (env 0)
        L = 46.3 + 33.9 * lf - 13.82 * lhb - _a_hm(freq_mhz, h_m, env) + (44.9 - 6.55 * lhb) * ld
        if env == 0:
            L += 3.0
    else:
        # Hata (1980) eq. (7): urban
        L = 69.55 + 26.16 * lf - 13.82 * lhb - _a_hm(freq_mhz, h_m, env) + (44.9 - 6.55 * lhb) * ld
    if env == 2:
        L -= 2.0 * math.log10(freq_mhz / 28.0) ** 2 + 5.4  # Hata eq. (11): suburban
    elif env == 3:
        L -= 4.78 * lf * lf - 18.33 * lf + 40.94  # Hata eq. (12): open area
    return L


@njit(cache=True, parallel=True)
def fspl_many(d_m, freq_mhz, out):
    n = d_m.shape[0]
    for i in prange(n):
        d = d_m[i]
        out[i] = _fspl(max(d, 1.0), freq_mhz) if d == d else np.nan


@njit(cache=True, parallel=True)
def hata_many(d_m, freq_mhz, h_b, h_m, env, cost231, floor_fspl, out):
    """Hata / COST-231 loss; ``floor_fspl`` keeps it at least free-space loss (short distances)."""
    n = d_m.shape[0]
    for i in prange(n):
        d = d_m[i]
        if not (d == d):
            out[i] = np.nan
            continue
        d = max(d, 1.0)
        L = _hata(d, freq_mhz, h_b, h_m, env, cost231)
        if floor_fspl:
            f = _fspl(math.sqrt(d * d + (h_b - h_m) ** 2), freq_mhz)
            if f > L:
                L = f
        out[i] = L
