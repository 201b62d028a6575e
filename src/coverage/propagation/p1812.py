"""ITU-R P.1812-7: path-specific point-to-area prediction, 30 MHz - 6 GHz (numba).

Recommendation ITU-R P.1812-7 (2023), Annex 1: line of sight with multipath/focusing (§4.1),
delta-Bullington diffraction on the clutter-raised profile (§3.2, §4.3), troposcatter (§4.4),
ducting / layer reflection (§4.5), their combination (§4.6-4.7), location variability (§4.8) and
the field strength (§4.9, eq. (70)). Edition 7 no longer carries terminal clutter losses: the
Recommendation points to ITU-R P.2108 for them (``coverage.p2108``; the engine's
``clutter_loss="p2108"``). Checked against the 63 cases of the ITU-R SG3 validation set (Py1812
logs, every intermediate term): ``tests/test_p1812.py``.

Validity (§1 and the reference software's checks): frequency 0.03-6 GHz, time percentage 1-50 %,
terminal heights 1-3000 m above ground, location percentage 0-100 % (exclusive), profiles of at
least 5 points starting at 0 km. Inputs outside raise :class:`coverage.errors.ModelRangeError`
naming the parameter. Path lengths of 0.25-3000 km are the stated range.

Refractivity defaults: without the ITU digital maps (DN50, N050) ``dn`` and ``n0`` default to
``EQUATORIAL_DN`` = 50 N-units/km and ``EQUATORIAL_N0`` = 380 N-units, values read off the maps of
P.1812-7 Figs. 1 and 2 for the maritime-continent equatorial belt around Borneo (0-5 deg N,
114-119 deg E; read from the figures, about +-5 units). Pass the path-centre map values for exact
work; the result's ``defaults_used`` lists what was assumed, and a CoverageWarning says so.

In the engine (``model="p1812"``) every radial sample is a receiver evaluated on the profile from the
site to it, with the land cover's clutter heights sampled along the radial as the terrain is; the
sweep gives the same value as ``bt_loss`` on that profile (tested) at a few times the cost of P.526.
Assumptions there: inland zone everywhere, the path-centre latitude from the site latitude and the
radial's azimuth on a sphere, and free space within 3 samples of the site (a profile needs 5 points).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..errors import CoverageWarning, ModelRangeError
from ._kernels import p1812 as _k
from .base import ProfileModel, Validity

__all__ = ["P1812Result", "bt_loss", "P1812_MODEL", "EQUATORIAL_DN", "EQUATORIAL_N0", "EDITION", "path_centre_latitude"]

EDITION = "ITU-R P.1812-7"
#: default average refractivity lapse rate over the lowest 1 km, N-units/km (see module notes)
EQUATORIAL_DN = 50.0
#: default sea-level surface refractivity, N-units (see module notes)
EQUATORIAL_N0 = 380.0
_POL = {"h": 0, "horizontal": 0, "v": 1, "vertical": 1}


@dataclass(frozen=True)
class P1812Result:
    """Basic transmission loss, field strength and the intermediate terms of one P.1812 path.

    Names follow the Recommendation's symbols with units; ``*_b_db`` are the diffraction terms for
    the beta_0 effective radius (a_beta = 3 x 6371 km), ``*50_db`` those for the median radius.
    """

    lb_db: float
    ep_dbuv_m: float
    terms: dict = field(repr=False)
    defaults_used: tuple = ()
    edition: str = EDITION

    def __getattr__(self, name):
        terms = object.__getattribute__(self, "terms")
        if name in terms:
            return terms[name]
        raise AttributeError(name)


def path_centre_latitude(phi_t_deg, lam_t_deg, phi_r_deg, lam_r_deg, d_km) -> float:
    """Latitude (deg) of the great-circle point half-way along ``d_km`` (P.2001 Attachment H)."""
    return float(_k.path_centre_latitude(float(phi_t_deg), float(lam_t_deg), float(phi_r_deg),
                                         float(lam_r_deg), 0.5 * float(d_km)))


def _range(name, value, lo, hi, unit="", lo_open=False, hi_open=False):
    v = float(value)
    ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        raise ModelRangeError(f"{EDITION}: {name}={v:g}{unit} is outside the valid range "
                              f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}{unit}")
    return v


def _profile(d_km, h_m, r_m, zone):
    d = np.ascontiguousarray(d_km, dtype=np.float64)
    h = np.ascontiguousarray(h_m, dtype=np.float64)
    if d.ndim != 1 or h.shape != d.shape:
        raise ModelRangeError(f"{EDITION}: d_km and h_m must be 1-D arrays of one length "
                              f"(got shapes {d.shape} and {h.shape})")
    if d.size < 5:
        raise ModelRangeError(f"{EDITION}: the profile (d_km) needs at least 5 points, got {d.size}")
    r = np.zeros_like(d) if r_m is None else np.ascontiguousarray(np.broadcast_to(r_m, d.shape), dtype=np.float64)
    z = np.full_like(d, 4.0) if zone is None else np.ascontiguousarray(np.broadcast_to(zone, d.shape), dtype=np.float64)
    for name, a in (("d_km", d), ("h_m", h), ("r_m", r), ("zone", z)):
        if not np.isfinite(a).all():
            raise ModelRangeError(f"{EDITION}: {name} contains NaN or infinite values "
                                  f"(first at index {int(np.flatnonzero(~np.isfinite(a))[0])})")
    if d[0] != 0.0:
        raise ModelRangeError(f"{EDITION}: d_km must start at 0 (the transmitter), got {d[0]:g}")
    if np.any(np.diff(d) <= 0):
        i = int(np.flatnonzero(np.diff(d) <= 0)[0]) + 1
        raise ModelRangeError(f"{EDITION}: d_km must increase strictly (index {i}: {d[i]:g} km)")
    if np.any(r < 0):
        raise ModelRangeError(f"{EDITION}: r_m (clutter height) must be >= 0 "
                              f"(index {int(np.flatnonzero(r < 0)[0])})")
    bad = ~np.isin(z, (1.0, 3.0, 4.0))
    if bad.any():
        raise ModelRangeError(f"{EDITION}: zone may only hold 1 (sea), 3 (coastal land), 4 (inland); "
                              f"got {sorted(set(z[bad].tolist()))}")
    return d, h, r, z


def bt_loss(freq_ghz, p_percent, d_km, h_m, r_m, zone, htg_m, hrg_m, pol, phi_t_deg, phi_r_deg,
            lam_t_deg, lam_r_deg, *, pl_percent=50.0, sigma_l_db=0.0, ptx_kw=1.0, gtx_dbi=0.0,
            grx_dbi=0.0, dn=None, n0=None, dct_km=500.0, dcr_km=500.0, flag4=0, warn=True) -> P1812Result:
    """Basic transmission loss of a terrain profile by ITU-R P.1812-7.

    Parameters
    ----------
    freq_ghz : float
        Frequency, 0.03-6 GHz.
    p_percent : float
        Time percentage not exceeded, 1-50 %.
    d_km, h_m : array
        Profile distances from the transmitter (km, d[0] = 0, increasing) and terrain heights (m amsl).
    r_m : array, scalar or None
        Representative clutter height at each point (m); raises the intermediate points (§3.2).
    zone : array, scalar or None
        Radio-climatic zone per point: 1 sea, 3 coastal land, 4 inland (None: inland).
    htg_m, hrg_m : float
        Antenna heights above ground, 1-3000 m.
    pol : {"h", "v"}
        Polarisation (also "horizontal"/"vertical").
    phi_t_deg, phi_r_deg, lam_t_deg, lam_r_deg : float
        Latitudes and longitudes of the terminals (deg); the path-centre latitude sets beta_0.
    pl_percent, sigma_l_db : float
        Location percentage (0-100 exclusive) and location-variability standard deviation (dB).
    ptx_kw, gtx_dbi, grx_dbi : float
        Transmitter power (kW) and antenna gains added to ``ep_dbuv_m`` (as the ITU reference log).
    dn, n0 : float, optional
        Path-centre Delta N (N-units/km) and N_0 (N-units); None: the equatorial defaults.
    dct_km, dcr_km : float
        Distances of the terminals from the coast over land (km); set to 0 for a terminal at sea.
    flag4 : {0, 1}
        1: L_bulls by Attachment 4 (no terrain analysis).

    Returns
    -------
    P1812Result
        ``.lb_db``, ``.ep_dbuv_m`` and every intermediate term (``.terms``; also as attributes).
    """
    f = _range("freq_ghz", freq_ghz, 0.03, 6.0, " GHz")
    p = _range("p_percent", p_percent, 1.0, 50.0, " %")
    htg = _range("htg_m", htg_m, 1.0, 3000.0, " m")
    hrg = _range("hrg_m", hrg_m, 1.0, 3000.0, " m")
    pl = _range("pl_percent", pl_percent, 0.0, 100.0, " %", lo_open=True, hi_open=True)
    key = pol.lower() if isinstance(pol, str) else pol
    if key not in _POL:
        raise ModelRangeError(f"{EDITION}: pol must be 'h' or 'v', got {pol!r}")
    if not float(ptx_kw) > 0:
        raise ModelRangeError(f"{EDITION}: ptx_kw must be positive, got {ptx_kw!r}")
    if float(dct_km) < 0 or float(dcr_km) < 0:
        raise ModelRangeError(f"{EDITION}: dct_km and dcr_km must be >= 0 (got {dct_km}, {dcr_km})")
    if float(sigma_l_db) < 0:
        raise ModelRangeError(f"{EDITION}: sigma_l_db must be >= 0, got {sigma_l_db}")
    if flag4 not in (0, 1):
        raise ModelRangeError(f"{EDITION}: flag4 must be 0 or 1, got {flag4!r}")
    for name, v, lim in (("phi_t_deg", phi_t_deg, 90), ("phi_r_deg", phi_r_deg, 90),
                         ("lam_t_deg", lam_t_deg, 360), ("lam_r_deg", lam_r_deg, 360)):
        _range(name, v, -lim, lim, " deg")
    d, h, r, z = _profile(d_km, h_m, r_m, zone)
    defaults = []
    if dn is None:
        dn = EQUATORIAL_DN
        defaults.append(f"dn={EQUATORIAL_DN:g} N-units/km (equatorial default)")
    if n0 is None:
        n0 = EQUATORIAL_N0
        defaults.append(f"n0={EQUATORIAL_N0:g} N-units (equatorial default)")
    dn = _range("dn", dn, 0.0, 156.0, " N-units/km", lo_open=True)
    n0 = _range("n0", n0, 0.0, 500.0, " N-units", lo_open=True)
    if defaults and warn:
        warnings.warn(f"{EDITION}: no path-centre refractivity given; assumed " + ", ".join(defaults),
                      CoverageWarning, stacklevel=2)
    phi = path_centre_latitude(phi_t_deg, lam_t_deg, phi_r_deg, lam_r_deg, d[-1])
    out = np.empty(_k.NFIELDS)
    _k.profile_loss(d, h, r, z, f, p, htg, hrg, _POL[key], phi, float(dn), float(n0), float(dct_km),
                    float(dcr_km), pl, float(sigma_l_db), float(ptx_kw), float(gtx_dbi), float(grx_dbi),
                    int(flag4), out)
    terms = dict(zip(_k.FIELDS, out.tolist()))
    terms["transhorizon"] = bool(terms["transhorizon"])
    terms["phi_path_deg"] = phi
    terms["dn"] = float(dn)
    terms["n0"] = float(n0)
    return P1812Result(lb_db=terms["lb_db"], ep_dbuv_m=terms["ep_dbuv_m"], terms=terms,
                       defaults_used=tuple(defaults))


class P1812(ProfileModel):
    """P.1812-7 in the engine: every radial sample evaluated on its own sub-profile (clutter-raised
    with the land cover's heights carried along the radial), excess over free space returned."""

    #: the engine passes ``r2d`` (clutter heights along the radials) and ``lat_deg`` (site latitude)
    uses_clutter: ClassVar[bool] = True

    def radial_excess_db(self, z2d, nvalid, step_m, *, freq_mhz, h_tx_m, h_rx_m, r2d=None, lat_deg=0.0,
                         p_percent=50.0, pl_percent=50.0, sigma_l_db=0.0, pol="v", dn=None, n0=None,
                         dct_km=500.0, dcr_km=500.0, flag4=0, **params):
        f = _range("freq_ghz", float(freq_mhz) / 1e3, 0.03, 6.0, " GHz")
        p = _range("p_percent", p_percent, 1.0, 50.0, " %")
        pl = _range("pl_percent", pl_percent, 0.0, 100.0, " %", lo_open=True, hi_open=True)
        key = pol.lower() if isinstance(pol, str) else pol
        if key not in _POL:
            raise ModelRangeError(f"{EDITION}: pol must be 'h' or 'v', got {pol!r}")
        if float(sigma_l_db) < 0:
            raise ModelRangeError(f"{EDITION}: sigma_l_db must be >= 0, got {sigma_l_db}")
        dn = _range("dn", EQUATORIAL_DN if dn is None else dn, 0.0, 156.0, " N-units/km", lo_open=True)
        n0 = _range("n0", EQUATORIAL_N0 if n0 is None else n0, 0.0, 500.0, " N-units", lo_open=True)
        if flag4 not in (0, 1):
            raise ModelRangeError(f"{EDITION}: flag4 must be 0 or 1, got {flag4!r}")
        z2d = np.ascontiguousarray(z2d, dtype=np.float64)
        r2d = np.zeros_like(z2d) if r2d is None else np.ascontiguousarray(r2d, dtype=np.float64)
        out = np.empty(z2d.shape, dtype=np.float64)
        _k.radials(z2d, r2d, np.ascontiguousarray(nvalid, dtype=np.int64), float(step_m), float(h_tx_m),
                   float(h_rx_m), f, p, _POL[key], float(lat_deg),
                   dn, n0,
                   float(dct_km), float(dcr_km), pl, float(sigma_l_db), int(flag4), _k.NFIELDS, out)
        return out


P1812_MODEL = P1812(
    name="p1812",
    title="ITU-R P.1812-7 point-to-area (diffraction on the clutter-raised profile, troposcatter, ducting)",
    reference="ITU-R P.1812-7 Annex 1",
    validity=Validity(freq_mhz=(30.0, 6000.0), distance_km=(0.25, 3000.0), h_tx_m=(1.0, 3000.0),
                      h_rx_m=(1.0, 3000.0)),
    defaults={"p_percent": 50.0, "pl_percent": 50.0, "sigma_l_db": 0.0, "pol": "v", "dn": None, "n0": None,
              "dct_km": 500.0, "dcr_km": 500.0, "flag4": 0},
)
