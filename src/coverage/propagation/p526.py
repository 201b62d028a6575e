"""Terrain model: line of sight over the earth-curved profile plus diffraction loss.

Diffraction follows the delta-Bullington method of ITU-R P.526-15 §4.5 as written out in ITU-R
P.1812-7 §4.3 (Bullington §4.3.1, spherical earth §4.3.2, delta-Bullington §4.3.4 eq. (39), with the
smooth-surface heights of Attachment 1 §5.6); the single knife edge is P.526-15 eq. (31). Basic
transmission loss = free-space loss over the 3-D path (P.525) + diffraction loss. The effective earth
radius is k * 6371 km (k = 4/3 by default: median refraction, P.453 / P.1812 eq. (6) with
Delta N = 39.25 N-units/km). Land ground constants (epsilon_r 22, sigma 0.003 S/m) as P.1812 uses.

Validity (P.1812-7 §1): 30-6000 MHz, 0.25-3000 km, terminal heights 1-3000 m above ground. The model
gives the median (50 % time) loss without clutter, foliage or building-entry losses.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ._kernels.p526 import (
    delta_bullington,
    delta_bullington_radials,
    delta_bullington_radials_exact,
    delta_bullington_radials_from,
)
from ._kernels.p526 import (
    knife_edge_loss_db as _j,
)
from .base import ProfileModel, Validity
from .fspl import free_space_loss_db

EARTH_RADIUS_M = 6_371_000.0
_POL = {"horizontal": 0, "h": 0, 0: 0, "vertical": 1, "v": 1, 1: 1}


def _pol_code(pol) -> int:
    key = pol.lower() if isinstance(pol, str) else pol
    try:
        return _POL[key]
    except (KeyError, TypeError):
        raise InputError(f"pol must be 'horizontal' or 'vertical', got {pol!r}") from None


def knife_edge_loss_db(nu) -> np.ndarray:
    """Single knife-edge diffraction loss J(nu) (dB), ITU-R P.526-15 eq. (31); 0 for nu <= -0.78."""
    nu = np.asarray(nu, dtype=float)
    return np.vectorize(_j, otypes=[float])(nu)


def diffraction_loss_db(distances_m, heights_m, *, h_tx_m: float, h_rx_m: float, freq_mhz: float,
                        k_factor: float = 4.0 / 3.0, pol: str = "vertical", eps_r: float = 22.0,
                        sigma_s: float = 0.003, components: bool = False):
    """Delta-Bullington diffraction loss (dB) of one terrain profile.

    Parameters
    ----------
    distances_m, heights_m : array
        Profile from transmitter (first point) to receiver (last point); heights above sea level.
    h_tx_m, h_rx_m : float
        Antenna heights above the ground at the two ends (m).
    freq_mhz : float
    k_factor : float
        Effective earth-radius factor.
    components : bool
        Also return ``(l_bulla, l_bulls, l_dsph)``, the terms of P.1812 eq. (39).
    """
    d = np.ascontiguousarray(distances_m, dtype=np.float64)
    h = np.ascontiguousarray(heights_m, dtype=np.float64)
    if d.ndim != 1 or d.shape != h.shape or d.size < 3:
        raise InputError("distances_m and heights_m must be 1-D arrays of equal length >= 3")
    if d[0] != 0.0 or np.any(np.diff(d) <= 0):
        raise InputError("distances_m must start at 0 and increase strictly")
    if not np.isfinite(h).all():
        raise InputError("heights_m contains NaN or infinite values")
    if not (h_tx_m > 0 and h_rx_m > 0):
        raise InputError(f"antenna heights must be positive (h_tx_m={h_tx_m}, h_rx_m={h_rx_m})")
    if not (freq_mhz > 0 and k_factor > 0):
        raise InputError("freq_mhz and k_factor must be positive")
    ld, la, ls, lsph = delta_bullington(d, h, h[0] + h_tx_m, h[-1] + h_rx_m, k_factor * EARTH_RADIUS_M,
                                        float(freq_mhz), float(eps_r), float(sigma_s), _pol_code(pol))
    return (ld, la, ls, lsph) if components else ld


def path_loss_db(distances_m, heights_m, *, h_tx_m, h_rx_m, freq_mhz, **kw) -> float:
    """Basic transmission loss (dB) of one profile: free space over the 3-D path + diffraction."""
    d = np.asarray(distances_m, dtype=float)
    h = np.asarray(heights_m, dtype=float)
    d3 = np.hypot(d[-1], (h[0] + h_tx_m) - (h[-1] + h_rx_m))
    return float(free_space_loss_db(d3, freq_mhz)) + diffraction_loss_db(
        d, h, h_tx_m=h_tx_m, h_rx_m=h_rx_m, freq_mhz=freq_mhz, **kw)


class P526(ProfileModel):
    #: Takes a spacing per radial (``step_m`` array) and ``k_first`` (first sample read per radial).
    radial_arrays = True
    #: Radial count by the cell size across each direction, samples every smaller cell side along
    #: them: sampling along a radial by its own cell size (up to ns/ew coarser) moved ~6 % more cells
    #: by over 1 dB against the per-cell profile on S36E149 (bench_itm_map, p526_accuracy).
    radial_spacing = "across"

    def radial_excess_db(self, z2d, nvalid, step_m, *, freq_mhz, h_tx_m, h_rx_m, k_factor=4.0 / 3.0,
                         pol="vertical", eps_r=22.0, sigma_s=0.003, exact=False, k_first=None, **params):
        """Diffraction loss (dB) at the radial samples; ``step_m`` a scalar or one spacing per radial,
        ``k_first`` the first sample to evaluate per radial (earlier ones NaN); ``exact=True`` the
        per-profile method on every sub-profile (O(n^2) per radial, uniform spacing only)."""
        out = np.empty(z2d.shape, dtype=np.float64)
        z2d = np.ascontiguousarray(z2d, dtype=np.float64)
        nvalid = np.ascontiguousarray(nvalid, dtype=np.int64)
        radio = (float(h_tx_m), float(h_rx_m), float(k_factor) * EARTH_RADIUS_M, float(freq_mhz), float(eps_r),
                 float(sigma_s), _pol_code(pol), out)
        if exact:
            delta_bullington_radials_exact(z2d, nvalid, float(step_m), *radio)
        elif k_first is not None or np.ndim(step_m) == 1:
            steps = np.ascontiguousarray(np.broadcast_to(np.asarray(step_m, dtype=np.float64), (z2d.shape[0],)))
            kf = np.ones(z2d.shape[0], np.int64) if k_first is None else np.ascontiguousarray(k_first, np.int64)
            delta_bullington_radials_from(z2d, nvalid, kf, steps, *radio)
        else:
            delta_bullington_radials(z2d, nvalid, float(step_m), *radio)
        return out


P526_MODEL = P526(
    name="p526",
    title="Terrain diffraction (delta-Bullington)",
    reference="ITU-R P.526-15 §4.5; ITU-R P.1812-7 §4.3 and Att. 1 §5.6",
    validity=Validity(freq_mhz=(30.0, 6000.0), distance_km=(0.0, 3000.0), h_tx_m=(1.0, 3000.0),
                      h_rx_m=(1.0, 3000.0)),
    defaults={"k_factor": 4.0 / 3.0, "pol": "vertical", "eps_r": 22.0, "sigma_s": 0.003, "exact": False},
    limits={"k_factor": (0.0, math.inf), "eps_r": (0.999999, math.inf), "sigma_s": (0.0, math.inf)},
)
