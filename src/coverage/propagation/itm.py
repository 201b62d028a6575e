"""Longley-Rice Irregular Terrain Model (ITM), point-to-point and area modes.

A numba implementation of the NTIA/ITS Irregular Terrain Model: Longley & Rice (1968), "Prediction
of tropospheric radio transmission loss over irregular terrain: a computer method", ESSA Tech.
Rep. ERL 79-ITS 67; G. A. Hufford (1995), "The ITS Irregular Terrain Model, version 1.2.2: The
Algorithm"; checked against the NTIA reference implementation (github.com/NTIA/itm, v1.4, which
carries the bug fixes made after 1.2.2): its published test vectors and command-line examples are
reproduced to within their printed precision (see ``tests/test_itm.py``).

Validity (NTIA): frequency 20-20,000 MHz (validated 40-10,000 MHz), path length 1-2000 km,
terminal heights 0.5-3000 m (validated 1-1000 m). Inputs outside the hard limits raise
:class:`coverage.errors.ModelRangeError` naming the parameter, its allowed range and the NTIA error
code (1000-1022). Inputs inside the hard limits but outside the validated range give NTIA warning
bits in :attr:`ItmResult.warnings` (decoded in :attr:`ItmResult.warning_names`); they are issued
as :class:`coverage.errors.ModelRangeWarning` only with ``warn=True`` and never printed.

Units are the NTIA ones: metres, MHz, percent, N-units, S/m. Losses are basic transmission loss
in dB.

Defaults: ``climate=5`` continental temperate, ``n0=301`` N-units, ``pol=1`` vertical,
``epsilon=15``, ``sigma=0.005`` S/m ("average ground") are the values of NTIA's command-line
examples; ``mdvar=12`` (mobile mode with location variability removed: in point-to-point use the
profile itself fixes the location) is that of NTIA's point-to-point test vectors; 50 %
time/location/situation gives the median. For equatorial areas such as Kalimantan set
``climate=1`` and a local N_0 (ITU-R P.453 maps; higher than 301 in the humid tropics).

Variability is given either as time/location/situation percentages ("TLS") or as
``reliability``/``confidence`` ("CR", which the reference maps to time = reliability,
location = 50 %, situation = confidence). ``mdvar``: 0 single message, 1 accidental, 2 mobile,
3 broadcast; +10 removes location variability, +20 removes direct situation variability.

Example
-------
>>> import numpy as np, coverage.itm as itm
>>> r = itm.p2p(np.full(101, 100.0), 100.0, h_tx_m=30, h_rx_m=1.5, freq_mhz=900)
>>> r.mode, round(r.loss_db - r.free_space_loss_db, 1) >= 0
(1, True)
"""

from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ModelRangeError, ModelRangeWarning
from ._kernels import itm as _k
from ._kernels.itm_sweep import itm_radials, itm_radials_fast
from .base import ProfileModel, Validity
from .fspl import free_space_loss_db

__all__ = [
    "ItmResult",
    "p2p",
    "p2p_batch",
    "area",
    "check_inputs",
    "WARNING_FLAGS",
    "MODE_NAMES",
]

#: NTIA warning bits (Warnings.h of NTIA ITM v1.4) and their meaning.
WARNING_FLAGS: dict[int, tuple[str, str]] = {
    0x0001: ("TX_TERMINAL_HEIGHT", "TX terminal height outside 1-1000 m"),
    0x0002: ("RX_TERMINAL_HEIGHT", "RX terminal height outside 1-1000 m"),
    0x0004: ("FREQUENCY", "frequency outside 40-10,000 MHz"),
    0x0008: ("PATH_DISTANCE_TOO_BIG_1", "path distance above 1000 km"),
    0x0010: ("PATH_DISTANCE_TOO_BIG_2", "path distance above 2000 km"),
    0x0020: ("PATH_DISTANCE_TOO_SMALL_1", "path shorter than |h_e,tx - h_e,rx| / 0.2"),
    0x0040: ("PATH_DISTANCE_TOO_SMALL_2", "path distance below 1 km"),
    0x0080: ("TX_HORIZON_ANGLE", "TX horizon angle above 200 mrad"),
    0x0100: ("RX_HORIZON_ANGLE", "RX horizon angle above 200 mrad"),
    0x0200: ("TX_HORIZON_DISTANCE_1", "TX horizon below 0.1 x smooth-earth horizon"),
    0x0400: ("RX_HORIZON_DISTANCE_1", "RX horizon below 0.1 x smooth-earth horizon"),
    0x0800: ("TX_HORIZON_DISTANCE_2", "TX horizon above 3 x smooth-earth horizon"),
    0x1000: ("RX_HORIZON_DISTANCE_2", "RX horizon above 3 x smooth-earth horizon"),
    0x2000: ("EXTREME_VARIABILITIES", "a variability quantile beyond 3.1 sigma"),
    0x4000: ("SURFACE_REFRACTIVITY", "surface refractivity N_s below 250 N-units"),
}

#: Mode of propagation numbers of the reference.
MODE_NAMES = {0: "not set", 1: "line of sight", 2: "diffraction", 3: "troposcatter"}

_VALID_MDVAR = frozenset(list(range(0, 4)) + list(range(10, 14)) + list(range(20, 24))
                         + list(range(30, 34)))

_KERNEL_ERRORS = {
    1: ("elevations_m", "the profile must not contain NaN or infinite values"),
    1013: ("epsilon/sigma", "the ground impedance must have a real part larger than its imaginary "
           "part (increase epsilon or decrease sigma)"),
    1016: ("n0", "the effective earth radius must lie within 4000-13,333 km"),
    1021: ("n0", "the surface refractivity N_s = N_0 exp(-h_sys/9460 m) must be >= 150 N-units"),
    1022: ("n0", "the surface refractivity N_s = N_0 exp(-h_sys/9460 m) must be <= 400 N-units "
           "(the profile's mean elevation may lie below sea level)"),
}


def _decode(flags: int) -> tuple[str, ...]:
    return tuple(name for bit, (name, _) in WARNING_FLAGS.items() if flags & bit)


_DECODED_CACHE: dict[int, tuple[str, ...]] = {}


def _names(flags: int) -> tuple[str, ...]:
    names = _DECODED_CACHE.get(flags)
    if names is None:
        names = _DECODED_CACHE.setdefault(flags, _decode(flags))
    return names


@dataclass(frozen=True)
class ItmResult:
    """Result of an ITM evaluation: the loss and the reference's intermediate values.

    Scalars for a single evaluation, arrays (one element per profile / distance) for batched
    calls. Pairs are ``(tx, rx)`` tuples.

    Attributes
    ----------
    loss_db : float or ndarray
        Basic transmission loss (dB) at the requested quantiles.
    warnings : int or ndarray
        NTIA warning bits (see :data:`WARNING_FLAGS`).
    warning_names : tuple of str
        Names of the warning bits set (in any element, for batches).
    mode : int or ndarray
        Mode of propagation: 1 line of sight, 2 diffraction, 3 troposcatter.
    free_space_loss_db : float or ndarray
        Free-space basic transmission loss (dB).
    d_km : float or ndarray
        Path distance (km).
    theta_hzn_rad : tuple
        Terminal horizon elevation angles (rad), (tx, rx).
    d_hzn_m : tuple
        Terminal horizon distances (m), (tx, rx).
    h_e_m : tuple
        Effective terminal heights (m), (tx, rx).
    n_s : float or ndarray
        Surface refractivity (N-units).
    delta_h_m : float or ndarray
        Terrain irregularity parameter Delta h (m).
    a_ref_db : float or ndarray
        Median reference attenuation below free space (dB) before variability.
    """

    loss_db: Any
    warnings: Any
    warning_names: tuple[str, ...]
    mode: Any
    free_space_loss_db: Any
    d_km: Any
    theta_hzn_rad: tuple[Any, Any]
    d_hzn_m: tuple[Any, Any]
    h_e_m: tuple[Any, Any]
    n_s: Any
    delta_h_m: Any
    a_ref_db: Any

    @property
    def mode_name(self) -> str | tuple[str, ...]:
        """Name(s) of the propagation mode."""
        if np.ndim(self.mode) == 0:
            return MODE_NAMES.get(int(self.mode), "?")
        return tuple(MODE_NAMES.get(int(m), "?") for m in np.ravel(self.mode))


def _result_scalar(rec: np.ndarray) -> ItmResult:
    (loss, flags, mode, fs, d_km, th0, th1, dh0, dh1, he0, he1, n_s, dlt, a_ref,
     _err) = rec.tolist()
    flags = int(flags)
    # the frozen dataclass is filled through its __dict__: same object as ItmResult(...), without
    # twelve object.__setattr__ calls (a third of the cost of a 100-point evaluation)
    obj = object.__new__(ItmResult)
    obj.__dict__.update(
        loss_db=loss, warnings=flags, warning_names=_names(flags), mode=int(mode),
        free_space_loss_db=fs, d_km=d_km, theta_hzn_rad=(th0, th1), d_hzn_m=(dh0, dh1),
        h_e_m=(he0, he1), n_s=n_s, delta_h_m=dlt, a_ref_db=a_ref)
    return obj


def _result_array(rec: np.ndarray, shape: tuple[int, ...]) -> ItmResult:
    flags = rec[:, 1].astype(np.int64)
    anyflags = int(np.bitwise_or.reduce(flags)) if flags.size else 0

    def col(i: int) -> np.ndarray:
        return rec[:, i].reshape(shape).copy()

    return ItmResult(
        loss_db=col(0), warnings=flags.reshape(shape), warning_names=_names(anyflags),
        mode=rec[:, 2].astype(np.int64).reshape(shape), free_space_loss_db=col(3), d_km=col(4),
        theta_hzn_rad=(col(5), col(6)), d_hzn_m=(col(7), col(8)), h_e_m=(col(9), col(10)),
        n_s=col(11), delta_h_m=col(12), a_ref_db=col(13),
    )


# ------------------------------------------------------------------------------------------------
# input checks (NTIA error codes 1000-1022)
# ------------------------------------------------------------------------------------------------
def _bad(name: str, value: Any, rule: str, code: int | None,
         index: Any = None) -> ModelRangeError:
    where = "" if index is None else f" (element {index})"
    ntia = "" if code is None else f" (NTIA error {code})"
    return ModelRangeError(f"ITM: {name} = {value!r}{where} is out of range: {rule}{ntia}")


def _check(name: str, value: Any, ok: Any, rule: str, code: int) -> None:
    """Raise when ``ok`` is False anywhere; ``value``/``ok`` scalars or arrays of equal shape."""
    if np.ndim(ok) == 0:
        if not ok:
            raise _bad(name, value, rule, code)
        return
    ok = np.asarray(ok)
    if not ok.all():
        idx = np.unravel_index(int(np.argmin(ok)), ok.shape)
        idx = idx[0] if len(idx) == 1 else idx
        raise _bad(name, np.asarray(value)[idx].item(), rule, code, idx)


def check_inputs(*, h_tx_m: Any, h_rx_m: Any, freq_mhz: Any, climate: Any = 5, n0: Any = 301.0,
                 pol: Any = 1, epsilon: Any = 15.0, sigma: Any = 0.005, mdvar: Any = 12,
                 time: Any = 50.0, location: Any = 50.0, situation: Any = 50.0,
                 cr: bool = False) -> None:
    """Check ITM inputs against the reference's hard limits; raise ModelRangeError if outside.

    Scalars or arrays. With ``cr=True`` the time and situation percentages are reported as
    ``reliability`` and ``confidence`` (the CR form), as the reference does (codes 1007, 1006).
    Used by :func:`p2p`, :func:`p2p_batch`, :func:`area`; the radial-sweep kernel does no checks,
    so its callers should call this first.
    """
    a = np.asarray
    _check("h_tx_m", h_tx_m, (a(h_tx_m) >= 0.5) & (a(h_tx_m) <= 3000.0),
           "0.5 <= h_tx_m <= 3000 m", 1000)
    _check("h_rx_m", h_rx_m, (a(h_rx_m) >= 0.5) & (a(h_rx_m) <= 3000.0),
           "0.5 <= h_rx_m <= 3000 m", 1001)
    _check("climate", climate, np.isin(a(climate), (1, 2, 3, 4, 5, 6, 7)),
           "climate is one of 1..7 (1 equatorial ... 7 maritime temperate over sea)", 1002)
    _check("n0", n0, (a(n0) >= 250.0) & (a(n0) <= 400.0), "250 <= n0 <= 400 N-units", 1008)
    _check("freq_mhz", freq_mhz, (a(freq_mhz) >= 20.0) & (a(freq_mhz) <= 20000.0),
           "20 <= freq_mhz <= 20,000 MHz", 1009)
    _check("pol", pol, np.isin(a(pol), (0, 1)), "pol is 0 (horizontal) or 1 (vertical)", 1010)
    _check("epsilon", epsilon, a(epsilon) >= 1.0, "epsilon >= 1 (relative permittivity)", 1011)
    _check("sigma", sigma, a(sigma) > 0.0, "sigma > 0 S/m", 1012)
    _check("mdvar", mdvar, np.isin(a(mdvar), sorted(_VALID_MDVAR)),
           "mdvar is 0..3 (single message, accidental, mobile, broadcast), plus 10 and/or 20",
           1014)
    s_name, t_name = ("confidence", "reliability") if cr else ("situation", "time")
    _check(s_name, situation, (a(situation) > 0.0) & (a(situation) < 100.0),
           f"0 < {s_name} < 100 %", 1006 if cr else 1005)
    _check(t_name, time, (a(time) > 0.0) & (a(time) < 100.0), f"0 < {t_name} < 100 %",
           1007 if cr else 1003)
    _check("location", location, (a(location) > 0.0) & (a(location) < 100.0),
           "0 < location < 100 %", 1004)


def _check_scalar(h_tx: float, h_rx: float, f: float, climate: int, n0: float, pol: int,
                  eps: float, sigma: float, mdvar: int, time: float, loc: float, sit: float,
                  cr: bool) -> None:
    # fast path of check_inputs for one evaluation (the checks cost more than ITM itself otherwise)
    if (0.5 <= h_tx <= 3000.0 and 0.5 <= h_rx <= 3000.0 and 1 <= climate <= 7
            and 250.0 <= n0 <= 400.0 and 20.0 <= f <= 20000.0 and (pol == 0 or pol == 1)
            and eps >= 1.0 and sigma > 0.0 and mdvar in _VALID_MDVAR and 0.0 < time < 100.0
            and 0.0 < loc < 100.0 and 0.0 < sit < 100.0):
        return
    check_inputs(h_tx_m=h_tx, h_rx_m=h_rx, freq_mhz=f, climate=climate, n0=n0, pol=pol,
                 epsilon=eps, sigma=sigma, mdvar=mdvar, time=time, location=loc,
                 situation=sit, cr=cr)
    raise AssertionError("unreachable")  # pragma: no cover


def _as_int(name: str, value: Any) -> int:
    iv = int(value)
    if iv != value:
        raise ModelRangeError(f"ITM: {name} = {value!r} must be an integer")
    return iv


def _resolve_variability(time: Any, location: Any, situation: Any, confidence: Any,
                         reliability: Any) -> tuple[Any, Any, Any, bool]:
    if confidence is None and reliability is None:
        return time, location, situation, False
    if confidence is None or reliability is None:
        raise ModelRangeError("ITM: give both confidence and reliability (the CR form), or neither")
    if np.any(np.asarray(time) != 50.0) or np.any(np.asarray(location) != 50.0) or np.any(
            np.asarray(situation) != 50.0):
        raise ModelRangeError("ITM: give either time/location/situation or "
                              "confidence/reliability, not both")
    # CR form of the reference: time = reliability, location = 50 %, situation = confidence
    return reliability, 50.0, confidence, True


def _raise_kernel_error(code: int, index: Any = None, n_s: float = math.nan) -> None:
    name, rule = _KERNEL_ERRORS.get(code, ("input", "unknown error"))
    where = "" if index is None else f" (element {index})"
    extra = "" if code == 1 or math.isnan(n_s) else f"; N_s = {n_s:.1f} N-units"
    raise ModelRangeError(f"ITM: {name}{where}: {rule}{extra} (NTIA error {code})")


def _warn(flags: int, warn: bool) -> None:
    if warn and flags:
        text = "; ".join(WARNING_FLAGS[b][1] for b in WARNING_FLAGS if flags & b)
        _warnings.warn(f"ITM used outside its validated range: {text}", ModelRangeWarning,
                       stacklevel=3)


# ------------------------------------------------------------------------------------------------
# point-to-point
# ------------------------------------------------------------------------------------------------
# validated parameter rows of recent p2p calls (checks and array construction cost as much as a
# 100-point evaluation); keyed on the exact argument values, so a hit is a call already validated
_PRM_CACHE: dict[tuple, np.ndarray] = {}


def _p2p_params(step_m: Any, h_tx_m: Any, h_rx_m: Any, freq_mhz: Any, climate: Any, n0: Any,
                pol: Any, epsilon: Any, sigma: Any, mdvar: Any, t: Any, loc: Any, sit: Any,
                h_sys_m: Any, cr: bool) -> np.ndarray:
    step = float(step_m)
    if not (step > 0.0 and math.isfinite(step)):
        raise ModelRangeError(f"ITM: step_m = {step_m!r} must be a finite distance > 0 m")
    climate_i = _as_int("climate", climate)
    pol_i = _as_int("pol", pol)
    mdvar_i = _as_int("mdvar", mdvar)
    t, loc, sit = float(t), float(loc), float(sit)
    h_tx, h_rx, f = float(h_tx_m), float(h_rx_m), float(freq_mhz)
    _check_scalar(h_tx, h_rx, f, climate_i, float(n0), pol_i, float(epsilon), float(sigma),
                  mdvar_i, t, loc, sit, cr)
    hs = math.nan if h_sys_m is None else float(h_sys_m)
    prm = np.array([step, h_tx, h_rx, f, climate_i, float(n0), pol_i, float(epsilon),
                    float(sigma), mdvar_i, t, loc, sit, hs])
    return prm


def _numeric_inputs(fn):
    """Refuse a non-numeric argument with a package error naming it (not numpy's bare ValueError)."""
    import functools
    import inspect

    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)  # a missing or unknown argument stays a TypeError
        for name, value in bound.arguments.items():
            if value is None or isinstance(value, bool) or name == "warn":
                continue
            try:
                if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple, np.ndarray)):
                    for v in value:  # ragged profiles of p2p_batch
                        np.asarray(v, dtype=np.float64)
                else:
                    np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                shown = repr(value)
                raise InputError(f"ITM {fn.__name__}: {name} must be a number (or an array of numbers), got "
                                 f"{shown[:60] + ('...' if len(shown) > 60 else '')}") from None
        return fn(*args, **kwargs)

    return wrapper


@_numeric_inputs
def p2p(elevations_m: Any, step_m: float, *, h_tx_m: float, h_rx_m: float, freq_mhz: float,
        climate: int = 5, n0: float = 301.0, pol: int = 1, epsilon: float = 15.0,
        sigma: float = 0.005, mdvar: int = 12, time: float = 50.0, location: float = 50.0,
        situation: float = 50.0, confidence: float | None = None,
        reliability: float | None = None, h_sys_m: float | None = None,
        warn: bool = False) -> ItmResult:
    """ITM point-to-point basic transmission loss over a terrain profile (ITM_P2P_TLS/CR_Ex).

    Parameters
    ----------
    elevations_m : array_like
        Ground elevations (m above sea level) from the transmitter to the receiver, equally
        spaced; at least 2 points (the NTIA PFL array without its two leading numbers).
    step_m : float
        Spacing of the elevations (m), > 0.
    h_tx_m, h_rx_m : float
        Antenna heights above ground (m), 0.5-3000 (validated 1-1000).
    freq_mhz : float
        Frequency (MHz), 20-20,000 (validated 40-10,000).
    climate : int
        Radio climate 1 equatorial, 2 continental subtropical, 3 maritime subtropical, 4 desert,
        5 continental temperate, 6 maritime temperate over land, 7 maritime temperate over sea.
    n0 : float
        Sea-level surface refractivity N_0 (N-units), 250-400.
    pol : int
        Polarisation, 0 horizontal, 1 vertical.
    epsilon, sigma : float
        Ground relative permittivity (>= 1) and conductivity (S/m, > 0).
    mdvar : int
        Mode of variability (0-3, +10, +20; see the module docstring).
    time, location, situation : float
        Variability percentages, each strictly between 0 and 100.
    confidence, reliability : float, optional
        The CR form instead of TLS (both or neither).
    h_sys_m : float, optional
        System elevation (m) that scales N_0 to N_s; default the reference's mean elevation of the
        middle 80 % of the profile. ``0`` uses N_s = N_0 (as itmlogic's examples do).
    warn : bool
        Also issue the NTIA warning bits as :class:`ModelRangeWarning`.

    Returns
    -------
    ItmResult
    """
    z = np.ascontiguousarray(elevations_m, dtype=np.float64)
    if z.ndim != 1:
        raise ModelRangeError(f"ITM: elevations_m must be 1-D, got shape {z.shape}")
    if z.shape[0] < 2:
        raise ModelRangeError(f"ITM: elevations_m needs at least 2 points (a path of non-zero "
                              f"length), got {z.shape[0]}")
    if confidence is None and reliability is None:
        t, loc, sit, cr = time, location, situation, False
    else:
        t, loc, sit, cr = _resolve_variability(time, location, situation, confidence,
                                               reliability)
    key = (step_m, h_tx_m, h_rx_m, freq_mhz, climate, n0, pol, epsilon, sigma, mdvar, t, loc,
           sit, h_sys_m, cr)
    try:
        prm = _PRM_CACHE.get(key)
    except TypeError:  # unhashable argument (e.g. a 0-d array)
        prm, key = None, None
    if prm is None:
        prm = _p2p_params(step_m, h_tx_m, h_rx_m, freq_mhz, climate, n0, pol, epsilon, sigma,
                          mdvar, t, loc, sit, h_sys_m, cr)
        if key is not None:
            if len(_PRM_CACHE) >= 256:
                _PRM_CACHE.clear()
            _PRM_CACHE[key] = prm
    rec = np.empty(_k.N_RECORD)
    _k.p2p_one(z, z.shape[0] - 1, prm, rec)
    if rec[14] != 0.0:
        _raise_kernel_error(int(rec[14]), None, rec[11])
    result = _result_scalar(rec)
    _warn(result.warnings, warn)
    return result


def _broadcast_params(n: int, **params: Any) -> dict[str, np.ndarray]:
    out = {}
    for name, v in params.items():
        arr = np.asarray(v, dtype=np.float64)
        if arr.ndim == 0:
            arr = np.full(n, float(arr))
        elif arr.shape != (n,):
            raise ModelRangeError(f"ITM: {name} has shape {arr.shape}; expected a scalar or "
                                  f"one value per element ({n},)")
        out[name] = arr
    return out


def _int_valued(name: str, arr: np.ndarray) -> None:
    if not np.all(arr == np.round(arr)):
        raise ModelRangeError(f"ITM: {name} must hold integers")


@_numeric_inputs
def p2p_batch(profiles: Any, n_points: Any = None, step_m: Any = None, *, h_tx_m: Any,
              h_rx_m: Any, freq_mhz: Any, climate: Any = 5, n0: Any = 301.0, pol: Any = 1,
              epsilon: Any = 15.0, sigma: Any = 0.005, mdvar: Any = 12, time: Any = 50.0,
              location: Any = 50.0, situation: Any = 50.0, confidence: Any = None,
              reliability: Any = None, h_sys_m: Any = None, warn: bool = False) -> ItmResult:
    """ITM point-to-point on many profiles at once, in parallel (numba prange).

    Parameters
    ----------
    profiles : array_like, shape (n, m), or sequence of 1-D arrays
        Row ``j`` holds the elevations (m) of profile ``j`` from transmitter to receiver in its
        first ``n_points[j]`` entries (the rest is ignored). A ragged sequence is padded.
    n_points : array_like of int, optional
        Number of valid points per row (>= 2); default the row length (or each array's length).
    step_m : float or array_like
        Spacing (m) per profile.
    h_tx_m, h_rx_m, freq_mhz, climate, n0, pol, epsilon, sigma, mdvar, time, location, situation,
    confidence, reliability, h_sys_m
        As for :func:`p2p`; scalars or one value per profile.
    warn : bool
        Issue the union of the warning bits as :class:`ModelRangeWarning`.

    Returns
    -------
    ItmResult
        Arrays of shape (n,).
    """
    if step_m is None:
        raise ModelRangeError("ITM: step_m is required")
    if isinstance(profiles, np.ndarray) and profiles.ndim == 2:
        z2 = np.ascontiguousarray(profiles, dtype=np.float64)
        lengths = np.full(z2.shape[0], z2.shape[1], dtype=np.int64)
    else:
        rows = [np.asarray(p, dtype=np.float64).ravel() for p in profiles]
        lengths = np.array([r.shape[0] for r in rows], dtype=np.int64)
        width = int(lengths.max()) if rows else 0
        z2 = np.zeros((len(rows), width))
        for j, r in enumerate(rows):
            z2[j, : r.shape[0]] = r
    n = z2.shape[0]
    if n_points is None:
        npts = lengths
    else:
        npts = np.ascontiguousarray(np.broadcast_to(np.asarray(n_points), (n,)), dtype=np.int64)
    if np.any(npts < 2):
        j = int(np.argmin(npts))
        raise ModelRangeError(f"ITM: n_points = {int(npts[j])} (element {j}) must be >= 2 "
                              f"(a path of non-zero length)")
    if np.any(npts > z2.shape[1]):
        j = int(np.argmax(npts))
        raise ModelRangeError(f"ITM: n_points = {int(npts[j])} (element {j}) exceeds the "
                              f"profile width {z2.shape[1]}")
    valid = np.arange(z2.shape[1])[None, :] < npts[:, None]
    if not np.isfinite(np.where(valid, z2, 0.0)).all():
        raise ModelRangeError("ITM: profiles contain NaN or infinite values within n_points")
    t, loc, sit, cr = _resolve_variability(time, location, situation, confidence, reliability)
    p = _broadcast_params(n, step_m=step_m, h_tx_m=h_tx_m, h_rx_m=h_rx_m, freq_mhz=freq_mhz,
                          climate=climate, n0=n0, pol=pol, epsilon=epsilon, sigma=sigma,
                          mdvar=mdvar, time=t, location=loc, situation=sit,
                          h_sys_m=np.nan if h_sys_m is None else h_sys_m)
    if not np.all((p["step_m"] > 0.0) & np.isfinite(p["step_m"])):
        j = int(np.argmin((p["step_m"] > 0.0) & np.isfinite(p["step_m"])))
        raise _bad("step_m", float(p["step_m"][j]), "step_m > 0 m", None, j)
    for name in ("climate", "pol", "mdvar"):
        _int_valued(name, p[name])
    check_inputs(h_tx_m=p["h_tx_m"], h_rx_m=p["h_rx_m"], freq_mhz=p["freq_mhz"],
                 climate=p["climate"], n0=p["n0"], pol=p["pol"], epsilon=p["epsilon"],
                 sigma=p["sigma"], mdvar=p["mdvar"], time=p["time"], location=p["location"],
                 situation=p["situation"], cr=cr)
    prm = np.ascontiguousarray(np.stack([p[k] for k in _k.P2P_PARAMS], axis=1))
    rec = np.empty((n, _k.N_RECORD))
    if n:
        _k.p2p_batch(z2, npts, prm, rec)
    err = rec[:, 14]
    if np.any(err != 0.0):
        j = int(np.flatnonzero(err)[0])
        _raise_kernel_error(int(err[j]), j, rec[j, 11])
    result = _result_array(rec, (n,))
    _warn(int(np.bitwise_or.reduce(result.warnings)) if n else 0, warn)
    return result


# ------------------------------------------------------------------------------------------------
# area mode
# ------------------------------------------------------------------------------------------------
@_numeric_inputs
def area(d_km: Any, delta_h_m: Any, *, h_tx_m: Any, h_rx_m: Any, tx_siting: Any = 0,
         rx_siting: Any = 0, freq_mhz: Any, climate: Any = 5, n0: Any = 301.0, pol: Any = 1,
         epsilon: Any = 15.0, sigma: Any = 0.005, mdvar: Any = 12, time: Any = 50.0,
         location: Any = 50.0, situation: Any = 50.0, confidence: Any = None,
         reliability: Any = None, warn: bool = False) -> ItmResult:
    """ITM area-prediction mode (ITM_AREA_TLS/CR_Ex): loss from distance and terrain statistics.

    Parameters
    ----------
    d_km : float or array_like
        Path distance(s) (km), > 0 (ITM is meant for 1-2000 km). An array gives array results,
        computed in parallel.
    delta_h_m : float or array_like
        Terrain irregularity parameter Delta h (m), >= 0 (e.g. 0 water/plains, 30 rolling plains,
        90 hills, 200 mountains, 500 rugged mountains).
    h_tx_m, h_rx_m : float
        Antenna heights above ground (m), 0.5-3000.
    tx_siting, rx_siting : int
        Siting criteria: 0 random, 1 careful, 2 very careful.
    freq_mhz, climate, n0, pol, epsilon, sigma, mdvar, time, location, situation, confidence, reliability, warn
        As for :func:`p2p` (all may be arrays broadcast against ``d_km``). In area mode N_s = N_0.

    Returns
    -------
    ItmResult
        Scalars when every input is scalar, else arrays of the broadcast shape.
    """
    t, loc, sit, cr = _resolve_variability(time, location, situation, confidence, reliability)
    args = dict(d_km=d_km, h_tx_m=h_tx_m, h_rx_m=h_rx_m, tx_siting=tx_siting,
                rx_siting=rx_siting, delta_h_m=delta_h_m, freq_mhz=freq_mhz, climate=climate,
                n0=n0, pol=pol, epsilon=epsilon, sigma=sigma, mdvar=mdvar, time=t,
                location=loc, situation=sit)
    arrays = np.broadcast_arrays(*[np.asarray(v, dtype=np.float64) for v in args.values()])
    shape = arrays[0].shape
    p = {k: np.ascontiguousarray(a.ravel()) for k, a in zip(args, arrays)}
    for name in ("climate", "pol", "mdvar", "tx_siting", "rx_siting"):
        _int_valued(name, p[name])
    check_inputs(h_tx_m=p["h_tx_m"], h_rx_m=p["h_rx_m"], freq_mhz=p["freq_mhz"],
                 climate=p["climate"], n0=p["n0"], pol=p["pol"], epsilon=p["epsilon"],
                 sigma=p["sigma"], mdvar=p["mdvar"], time=p["time"], location=p["location"],
                 situation=p["situation"], cr=cr)
    _check("d_km", p["d_km"], p["d_km"] > 0.0, "d_km > 0 km", 1017)
    _check("delta_h_m", p["delta_h_m"], p["delta_h_m"] >= 0.0, "delta_h_m >= 0 m", 1018)
    _check("tx_siting", p["tx_siting"], np.isin(p["tx_siting"], (0, 1, 2)),
           "tx_siting is 0 (random), 1 (careful) or 2 (very careful)", 1019)
    _check("rx_siting", p["rx_siting"], np.isin(p["rx_siting"], (0, 1, 2)),
           "rx_siting is 0 (random), 1 (careful) or 2 (very careful)", 1020)
    prm = np.ascontiguousarray(np.stack([p[k] for k in _k.AREA_PARAMS], axis=1))
    n = prm.shape[0]
    rec = np.empty((n, _k.N_RECORD))
    _k.area_batch(p["d_km"], prm, rec)
    err = rec[:, 14]
    if np.any(err != 0.0):
        j = int(np.flatnonzero(err)[0])
        _raise_kernel_error(int(err[j]), None if shape == () else j, rec[j, 11])
    result = _result_scalar(rec[0]) if shape == () else _result_array(rec, shape)
    flags = result.warnings if shape == () else (
        int(np.bitwise_or.reduce(result.warnings.ravel())) if n else 0)
    _warn(int(flags), warn)
    return result


# ---------------------------------------------------------------------------------------------
# ITM as a coverage model
#
# ITM (Longley-Rice) as a coverage model: every cell's loss is ITM point-to-point on its own profile.
# 
# The physics is the point-to-point ITM above (NTIA ITM 1.2.2 / v1.4, validated against the NTIA reference
# vectors); the sweep kernel (``_kernels.itm_sweep.itm_radials``) carries the transmitter horizon, the
# least-squares sums and the receiver-side hull along each radial so that a radial is not re-scanned
# for every sample. Validity: 20-20,000 MHz, 1-2000 km, antenna heights 0.5-3000 m.
# 
# Defaults for this project's region: climate 1 (equatorial), N_0 = 360 N-units (the ITS guidance for
# equatorial climates), average ground (epsilon 15, sigma 0.005 S/m), vertical polarisation, mobile
# variability mode with location variability folded in by the known profile (mdvar 12), median time,
# location and situation (50 %).


#: Delta h tolerance of the fast sweep (m, plus 2 % of Delta h): see ``_kernels.itm_sweep._delta_h_adaptive``.
DH_TOL_M = 1.0


class ItmModel(ProfileModel):
    #: ITM's own free-space term uses the ground distance; keep that for the cells too.
    free_space_3d = False
    #: Takes a spacing per radial (``step_m`` array) and ``k_first`` (first sample read per radial).
    radial_arrays = True
    #: Uniform radials at the smaller cell side: ITM's horizons, fits and Delta h depend on the profile
    #: resolution, and radials sampled by the cell size along them (up to ns/ew coarser) move ~8 % of
    #: cells by more than 1 dB (bench_itm_map); the engine still thins them near the site.
    radial_spacing = "min"
    #: Each cell takes the excess loss of its nearest radial sample (no interpolation between radials):
    #: ITM is not smooth across or along radials, so interpolating between two profiles' losses does not
    #: bring a cell closer to ITM on its own profile, and only the samples some cell takes are evaluated.
    cell_mapping = "nearest"

    def radial_excess_db(self, z2d, nvalid, step_m, *, freq_mhz, h_tx_m, h_rx_m, climate=1, n0=360.0, pol=1,
                         epsilon=15.0, sigma=0.005, mdvar=12, time=50.0, location=50.0, situation=50.0,
                         exact=False, dh_tol_m=DH_TOL_M, k_first=None, need=None, **params):
        """Excess loss over free space (dB) at the radial samples.

        ``exact=True``: the point-to-point model at every sample on its own sub-profile, horizons
        and fits carried along the radial (``itm_radials``, equal to re-running ITM on each
        sub-profile, ``itm_radials_exact``, to rounding): the result before the fast path. Otherwise,
        the fast path: horizons and fits stay exact at each sample; with ``k_first`` (the engine's
        first sample read per radial) the samples before it are skipped; Delta h, a statistic of the
        whole path, comes from adaptive exact nodes within ``dh_tol_m`` m + 2 % (negative: exact at
        every sample). ``need`` (uint8 per sample, the shape of ``z2d``): evaluate only those samples.
        """
        check_inputs(h_tx_m=h_tx_m, h_rx_m=h_rx_m, freq_mhz=freq_mhz, climate=climate, n0=n0, pol=pol,
                     epsilon=epsilon, sigma=sigma, mdvar=mdvar, time=time, location=location,
                     situation=situation)
        out = np.empty(z2d.shape, dtype=np.float64)
        z2d = np.ascontiguousarray(z2d, dtype=np.float64)
        nvalid = np.ascontiguousarray(nvalid, dtype=np.int64)
        radio = (float(h_tx_m), float(h_rx_m), float(freq_mhz), int(climate), float(n0), int(pol),
                 float(epsilon), float(sigma), int(mdvar), float(time), float(location), float(situation))
        steps = np.ascontiguousarray(np.broadcast_to(np.asarray(step_m, dtype=np.float64), (z2d.shape[0],)))
        if not exact and (k_first is not None or need is not None or dh_tol_m >= 0 or np.ndim(step_m) == 1):
            if need is None:
                need = np.ones((1, 1), np.uint8)
            else:
                need = np.ascontiguousarray(need, dtype=np.uint8)
                if k_first is None:  # Delta h nodes from the first sample needed
                    k_first = np.where(need.any(axis=1), need.argmax(axis=1), z2d.shape[1])
            kf = np.ones(z2d.shape[0], np.int64) if k_first is None else np.ascontiguousarray(k_first, np.int64)
            itm_radials_fast(z2d, nvalid, kf, steps, *radio, float(dh_tol_m), need, out)
        else:
            itm_radials(z2d, nvalid, float(step_m), *radio, out)  # (itm_radials_exact: the O(n^2) reference)
        d = np.arange(z2d.shape[1])[None, :] * steps[:, None]
        out -= free_space_loss_db(np.where(d > 0, d, np.nan), float(freq_mhz))
        return out


ITM_MODEL = ItmModel(
    name="itm",
    title="Longley-Rice ITM (point-to-point)",
    reference="NTIA ITM v1.2.2 (Hufford 1995; NTIA/itm v1.4), Longley & Rice 1968",
    validity=Validity(freq_mhz=(20.0, 20000.0), distance_km=(1.0, 2000.0), h_tx_m=(0.5, 3000.0),
                      h_rx_m=(0.5, 3000.0)),
    defaults={"climate": 1, "n0": 360.0, "pol": 1, "epsilon": 15.0, "sigma": 0.005, "mdvar": 12, "time": 50.0,
              "location": 50.0, "situation": 50.0, "exact": False, "dh_tol_m": DH_TOL_M},
)
