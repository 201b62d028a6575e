"""ITU-R P.2108-1 (09/2021) clutter loss: terminal height-gain correction and statistical models.

* §3.1 height-gain terminal correction model (``height_gain_correction_db``): the loss of a terminal
  standing in clutter of representative height R, eqs. (1)-(2b) with Table 1's clutter types;
  0.03-3 GHz.
* §3.2 statistical clutter loss for terrestrial paths (``terrestrial_clutter_loss_db``), eqs.
  (3)-(6), with the note that the loss at any distance must not exceed its value at 2 km;
  0.5-67 GHz, path length >= 0.25 km, 0 < p < 100 % of locations.
* §3.3 statistical clutter loss for earth-space and aeronautical paths
  (``aeronautical_clutter_loss_db``), eqs. (7)-(8); 10-100 GHz, elevation 0-90 deg.

Checked against every row of the NTIA/ITS p2108 test data (v1), including the rejected inputs:
an input outside a model's range raises :class:`coverage.errors.ModelRangeError` naming the
parameter and the NTIA return code (``.code``). Q^-1 (the inverse complementary normal
distribution) is evaluated exactly (``scipy.special.ndtri``).

All functions take scalars or arrays (broadcast) and return float arrays (0-d for scalars).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from ..errors import ModelRangeError

__all__ = [
    "CLUTTER_TYPES",
    "NOMINAL_CLUTTER_HEIGHT_M",
    "inverse_ccdf",
    "height_gain_correction_db",
    "terrestrial_clutter_loss_db",
    "aeronautical_clutter_loss_db",
]

#: P.2108 Table 1 clutter types (NTIA numbering) -> name
CLUTTER_TYPES = {1: "water/sea", 2: "open/rural", 3: "suburban", 4: "urban", 5: "trees/forest",
                 6: "dense urban"}
#: P.2108 Table 1 default representative clutter heights R (m)
NOMINAL_CLUTTER_HEIGHT_M = {1: 10.0, 2: 10.0, 3: 10.0, 4: 15.0, 5: 15.0, 6: 20.0}
_TYPE_A = (1, 2)  # eq. (2a): height-gain form; the others use the knife-edge form (2b)


def _reject(name: str, value, rng: str, code: int):
    err = ModelRangeError(f"ITU-R P.2108: {name}={_fmt(value)} is outside the valid range {rng} "
                          f"(NTIA return code {code})")
    err.code = code
    raise err


def _fmt(v):
    v = np.unique(np.asarray(v, dtype=float).ravel())
    return f"{v[0]:g}" if v.size == 1 else f"{v.min():g}..{v.max():g}"


def inverse_ccdf(q):
    """Q^-1(q): the standard normal deviate exceeded with probability q (0 < q < 1), exact.

    The NTIA vectors need the exact function: the 4.5e-4 error of the rational approximation of
    P.1812 Attachment 2 moves the 67 GHz / 30.5 % row across a 0.1 dB rounding boundary.
    """
    return -ndtri(np.asarray(q, dtype=float))


def _j(nu):
    # P.526 eq. (31) knife-edge loss, without the nu > -0.78 cut (nu >= 0 here)
    return 6.9 + 20.0 * np.log10(np.sqrt((nu - 0.1) ** 2 + 1.0) + nu - 0.1)


def height_gain_correction_db(freq_ghz, h_m, street_width_m, clutter_height_m, clutter_type):
    """Height-gain terminal correction A_h (dB), P.2108-1 §3.1 eqs. (1)-(2b).

    Parameters
    ----------
    freq_ghz : float or array
        0.03-3 GHz.
    h_m : float or array
        Antenna height above ground (m), > 0.
    street_width_m : float or array
        Street width w_s (m), > 0 (27 m is the Recommendation's default).
    clutter_height_m : float or array
        Representative clutter height R (m), > 0 (``NOMINAL_CLUTTER_HEIGHT_M`` gives Table 1's).
    clutter_type : int or array
        1 water/sea, 2 open/rural (eq. (2a)); 3 suburban, 4 urban, 5 trees/forest, 6 dense urban
        (eq. (2b)).

    Returns
    -------
    loss_db : ndarray
        A_h >= 0; 0 where the antenna is at or above the clutter (h >= R).
    """
    f, h, ws, r, ct = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in
                                            (freq_ghz, h_m, street_width_m, clutter_height_m, clutter_type)))
    if np.any(~((f >= 0.03) & (f <= 3.0))):
        _reject("freq_ghz", f[~((f >= 0.03) & (f <= 3.0))], "0.03-3 GHz", 32)
    if np.any(~(h > 0)):
        _reject("h_m", h[~(h > 0)], "> 0 m", 33)
    if np.any(~(ws > 0)):
        _reject("street_width_m", ws[~(ws > 0)], "> 0 m", 34)
    if np.any(~(r > 0)):
        _reject("clutter_height_m", r[~(r > 0)], "> 0 m", 35)
    bad = ~np.isin(ct, list(CLUTTER_TYPES))
    if np.any(bad):
        _reject("clutter_type", ct[bad], f"{sorted(CLUTTER_TYPES)}", 36)
    with np.errstate(divide="ignore", invalid="ignore"):
        k_h2 = 21.8 + 6.2 * np.log10(f)  # eq. (2c)
        type_a = -k_h2 * np.log10(h / r)  # eq. (2a)
        h_dif = r - h  # eq. (2d)
        theta = np.degrees(np.arctan(h_dif / ws))  # eq. (2e)
        nu = 0.342 * np.sqrt(f) * np.sqrt(h_dif * theta)  # eqs. (2f), (2g)
        type_b = _j(nu) - 6.03  # eq. (2b)
    out = np.where(np.isin(ct, _TYPE_A), type_a, type_b)
    return np.where(h >= r, 0.0, out)


def _l_ctt(f, d, p):
    l_l = -2.0 * np.log10(10.0 ** (-5.0 * np.log10(f) - 12.5) + 10.0 ** (-16.5))  # eq. (4a)
    l_s = 32.98 + 23.9 * np.log10(d) + 3.0 * np.log10(f)  # eq. (5a)
    a_l = 10.0 ** (-0.2 * l_l)
    a_s = 10.0 ** (-0.2 * l_s)
    sigma_cb = np.sqrt((16.0 * a_l + 36.0 * a_s) / (a_l + a_s))  # eq. (6), sigma_l 4, sigma_s 6 dB
    return -5.0 * np.log10(a_l + a_s) - sigma_cb * inverse_ccdf(p / 100.0)  # eq. (3)


def terrestrial_clutter_loss_db(freq_ghz, d_km, p_percent):
    """Statistical clutter loss L_ctt (dB) of a terrestrial path, P.2108-1 §3.2.

    The loss of one end of the path in urban/suburban clutter, not exceeded for ``p_percent`` % of
    locations; per the Recommendation it is limited to its value at 2 km. Apply it once per terminal
    in clutter.

    Parameters
    ----------
    freq_ghz : 0.5-67 GHz
    d_km : path length (km), >= 0.25
    p_percent : percentage of locations, 0 < p < 100
    """
    f, d, p = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (freq_ghz, d_km, p_percent)))
    if np.any(~((f >= 0.5) & (f <= 67.0))):
        _reject("freq_ghz", f[~((f >= 0.5) & (f <= 67.0))], "0.5-67 GHz", 48)
    if np.any(~(d >= 0.25)):
        _reject("d_km", d[~(d >= 0.25)], ">= 0.25 km", 49)
    if np.any(~((p > 0) & (p < 100))):
        _reject("p_percent", p[~((p > 0) & (p < 100))], "0 < p < 100 %", 50)
    return np.minimum(_l_ctt(f, d, p), _l_ctt(f, np.full_like(d, 2.0), p))


def aeronautical_clutter_loss_db(freq_ghz, theta_deg, p_percent):
    """Statistical clutter loss L_ces (dB) of an earth-space or aeronautical path, P.2108-1 §3.3.

    Parameters
    ----------
    freq_ghz : 10-100 GHz
    theta_deg : elevation angle (deg), 0-90
    p_percent : percentage of locations, 0 < p < 100
    """
    f, th, p = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (freq_ghz, theta_deg, p_percent)))
    if np.any(~((f >= 10.0) & (f <= 100.0))):
        _reject("freq_ghz", f[~((f >= 10.0) & (f <= 100.0))], "10-100 GHz", 64)
    if np.any(~((th >= 0.0) & (th <= 90.0))):
        _reject("theta_deg", th[~((th >= 0.0) & (th <= 90.0))], "0-90 deg", 65)
    if np.any(~((p > 0) & (p < 100))):
        _reject("p_percent", p[~((p > 0) & (p < 100))], "0 < p < 100 %", 66)
    k1 = 93.0 * f ** 0.175  # eq. (8a), A_1 = 0.05
    cot = 1.0 / np.tan(0.05 * (1.0 - th / 90.0) + math.pi * th / 180.0)
    base = -k1 * np.log(1.0 - p / 100.0) * cot
    return base ** (0.5 * (90.0 - th) / 90.0) - 1.0 - 0.6 * inverse_ccdf(p / 100.0)  # eq. (7)
