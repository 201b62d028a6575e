"""What every propagation model declares: name, reference, validity range, and how it computes.

Two kinds of model feed the engine:

* ``"distance"`` models (free space, Hata, COST-231) give loss as a function of distance, frequency
  and antenna heights above local ground; the engine evaluates them directly on each cell.
* ``"profile"`` models (P.526 terrain diffraction, ITM) need the terrain between site and cell; the
  engine extracts radial profiles once per site and asks the model for the *excess loss over free
  space* at every radial sample, then adds free-space loss at each cell's own 3-D distance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import numpy as np

from ..errors import InputError, ModelRangeError, ModelRangeWarning

__all__ = ["Validity", "PropagationModel", "DistanceModel", "ProfileModel"]


@dataclass(frozen=True)
class Validity:
    """Ranges a model was validated for (inclusive); ``None`` means no stated limit."""

    freq_mhz: tuple[float, float] | None = None
    distance_km: tuple[float, float] | None = None
    h_tx_m: tuple[float, float] | None = None
    h_rx_m: tuple[float, float] | None = None

    def describe(self) -> str:
        parts = []
        for name, rng in (("freq_mhz", self.freq_mhz), ("distance_km", self.distance_km),
                          ("h_tx_m", self.h_tx_m), ("h_rx_m", self.h_rx_m)):
            if rng is not None:
                parts.append(f"{name} {rng[0]:g}-{rng[1]:g}")
        return ", ".join(parts) or "no stated limits"


def _checked_param(model: str, name: str, value, default, limits):
    """``value`` of model parameter ``name``, checked against the kind of its default and its limits."""
    numeric = isinstance(default, (int, float, np.number)) and not isinstance(default, (bool, np.bool_))
    if numeric:
        ok = isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))
        if not ok or not np.isfinite(value):
            raise InputError(f"model {model!r}: parameter {name!r} must be a finite number, got {value!r}")
        if limits is not None and not (limits[0] < value < limits[1]):
            raise InputError(f"model {model!r}: parameter {name!r}={value!r} is outside ({limits[0]:g}, "
                             f"{limits[1]:g})")
    elif isinstance(default, str) and not isinstance(value, str):
        raise InputError(f"model {model!r}: parameter {name!r} must be text, got {value!r}")
    return value


def _show(value):
    v = np.unique(np.asarray(value, dtype=float).ravel())
    return v[0] if v.size == 1 else f"{v.min():g}..{v.max():g}"


def _outside(value, rng) -> bool:
    if rng is None:
        return False
    v = np.asarray(value, dtype=float)
    return bool(np.any((v < rng[0]) | (v > rng[1])))


@dataclass(frozen=True)
class PropagationModel:
    """Base of the registered models."""

    name: str
    title: str
    reference: str
    validity: Validity
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: Open interval (lo, hi) each numeric parameter must lie in, e.g. ``{"k_factor": (0, inf)}``.
    limits: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    kind: ClassVar[str] = "abstract"

    def params(self, overrides: Mapping[str, Any] | None) -> dict:
        """Model parameters with defaults applied; unknown names, values of the wrong kind (text for a
        number, NaN) and values outside :attr:`limits` are an :class:`InputError` naming the parameter."""
        if overrides is not None and not hasattr(overrides, "items"):
            raise InputError(f"model_params must be a mapping of parameter names to values, got {overrides!r}")
        out = dict(self.defaults)
        for k, v in (overrides or {}).items():
            if k not in out:
                raise InputError(f"model {self.name!r} has no parameter {k!r}; "
                                 f"known: {sorted(out) or 'none'}")
            out[k] = _checked_param(self.name, k, v, out[k], self.limits.get(k))
        return out

    def check(self, *, freq_mhz, h_tx_m, h_rx_m, extrapolate: bool = False, where: str = "") -> None:
        """Check frequency and antenna heights against the validity range.

        A frequency outside the range raises :class:`ModelRangeError` (the model is the wrong choice:
        pick another) unless ``extrapolate`` is true, which turns it into a warning. Heights outside
        the range give a :class:`ModelRangeWarning`: masts lower than a model's range are common and
        the result is still the model's best estimate. Distances are warned about by the engine.
        """
        v = self.validity
        at = f" ({where})" if where else ""
        if _outside(freq_mhz, v.freq_mhz):
            rng = v.freq_mhz
            msg = (f"freq_mhz={_show(freq_mhz)} is outside the validity range {rng[0]:g}-{rng[1]:g} MHz "
                   f"of model {self.name!r} ({self.reference}){at}")
            if not extrapolate:
                raise ModelRangeError(msg + "; choose another model or pass extrapolate=True")
            warnings.warn(msg + "; extrapolating", ModelRangeWarning, stacklevel=3)
        for label, value, rng in (("height_m (transmitter above ground)", h_tx_m, v.h_tx_m),
                                  ("rx_height_m", h_rx_m, v.h_rx_m)):
            if _outside(value, rng):
                warnings.warn(f"{label}={_show(value)} is outside the validity range {rng[0]:g}-{rng[1]:g} m "
                              f"of model {self.name!r} ({self.reference}){at}; extrapolating",
                              ModelRangeWarning, stacklevel=3)

    def warn_distance(self, radius_m: float, min_m: float) -> None:
        """Warn when part of a site's disc (cells from ``min_m`` to ``radius_m``) lies outside the
        validated distances, saying which share of the disc's area (hence of its cells) that is."""
        share = self.extrapolated_share(radius_m, min_m)
        if share <= 0:
            return
        lo, hi = self.validity.distance_km
        parts = []
        if min_m / 1000.0 < lo:
            parts.append(f"nearer than {lo:g} km")
        if radius_m / 1000.0 > hi:
            parts.append(f"farther than {hi:g} km")
        warnings.warn(f"model {self.name!r} is validated for {lo:g}-{hi:g} km; {100 * share:.0f} % of each "
                      f"site's cells (those {' or '.join(parts)}, out to the {radius_m / 1000:.1f} km radius) "
                      f"are extrapolated ({self.reference})", ModelRangeWarning, stacklevel=3)

    def extrapolated_share(self, radius_m: float, min_m: float = 0.0) -> float:
        """Share (0..1) of the area of a disc of ``radius_m`` outside the validated distances."""
        rng = self.validity.distance_km
        if rng is None or not radius_m > 0:
            return 0.0
        r = float(radius_m)
        d0 = min(max(rng[0] * 1000.0, float(min_m), 0.0), r)
        d1 = min(rng[1] * 1000.0, r)
        inside = max(d1 * d1 - d0 * d0, 0.0) if d1 > d0 else 0.0
        # the cells nearer than min_m do not exist (the site's own cell): count the disc from min_m
        total = r * r - min(float(min_m), r) ** 2
        return float(min(max(1.0 - inside / total, 0.0), 1.0)) if total > 0 else 0.0


@dataclass(frozen=True)
class DistanceModel(PropagationModel):
    kind: ClassVar[str] = "distance"

    def loss_db(self, distance_m, *, freq_mhz: float, h_tx_m: float, h_rx_m: float, **params) -> np.ndarray:
        """Basic transmission loss (dB) at horizontal distances ``distance_m``."""
        raise NotImplementedError


@dataclass(frozen=True)
class ProfileModel(PropagationModel):
    kind: ClassVar[str] = "profile"
    #: Free-space part added back at each cell over its 3-D distance (P.1812 eq. (8)); False: ground distance.
    free_space_3d: ClassVar[bool] = True

    def radial_excess_db(self, z2d: np.ndarray, nvalid: np.ndarray, step_m: float, *, freq_mhz: float,
                         h_tx_m: float, h_rx_m: float, **params) -> np.ndarray:
        """Excess loss over free space (dB) at every sample of every radial profile."""
        raise NotImplementedError
