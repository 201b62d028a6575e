"""A base model tuned to measurements: fitted offset, log-distance slope, diffraction weight, clutter offsets.

The usual form of model calibration in planning tools (e.g. the "standard propagation model" tuning
of Atoll / Planet, and ITU-R P.1546 / P.1812 practice of correcting a median model with local
measurements) adds to a base model linear terms fitted by least squares::

    L_cal(d) = L_base(d) + c_0 + c_clutter + s * log10(d / 1 km)                (distance models)
    L_cal(d) = L_fs(d) + w * L_excess(d) + c_0 + c_clutter + s * log10(d / 1 km)  (profile models)

with ``L_excess`` the model's excess over free space (diffraction for ``p526``). The fit itself is
in :func:`coverage.calibrate`; this module holds the fitted model, which runs in ``predict``, the
tiled engine and Dask like any registered model, and round-trips through JSON.

Physical limits kept after the fit: the loss never falls below free space (the fit may shift the
curve down near the site), and the fit's bounds keep the total log-distance slope >= 0 (loss does
not fall with distance) and ``w >= 0``. Validity: that of the base model, and in practice the
distances, frequencies and environments of the calibration data (``fit_range`` says which).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..errors import FileFormatError, InputError
from .base import DistanceModel, ProfileModel, PropagationModel, Validity

__all__ = ["CalibratedDistanceModel", "CalibratedProfileModel", "calibrated_model", "model_from_dict",
           "REFERENCE_DISTANCE_M"]

#: Distance at which the slope term is zero (m): Hata's 1 km, so the offset reads as the change at 1 km.
REFERENCE_DISTANCE_M = 1000.0


def _correction_db(d_m, offset_db, slope_db_per_decade):
    d = np.maximum(np.asarray(d_m, dtype=np.float64), 1.0)
    return offset_db + slope_db_per_decade * np.log10(d / REFERENCE_DISTANCE_M)


@dataclass(frozen=True)
class _Calibrated(PropagationModel):
    """Fields and JSON of a calibrated model; the two concrete classes add the engine interface."""

    base: str = ""
    base_params: Mapping[str, Any] = field(default_factory=dict)
    offset_db: float = 0.0
    slope_db_per_decade: float = 0.0
    diffraction_weight: float = 1.0
    clutter_offsets_db: Mapping[str, float] = field(default_factory=dict)
    default_clutter_offset_db: float = 0.0
    fit_range: Mapping[str, Any] = field(default_factory=dict)

    def _base(self) -> PropagationModel:
        from . import get_model

        return get_model(self.base)

    def clutter_offset_db(self, clutter) -> float:
        """Offset (dB) of a clutter class; ``None``: the calibration points' mean (stated in the model)."""
        if clutter is None or not self.clutter_offsets_db:
            return float(self.default_clutter_offset_db)
        try:
            return float(self.clutter_offsets_db[str(clutter)])
        except KeyError:
            raise InputError(f"model {self.name!r} has no clutter class {clutter!r}; "
                             f"known: {sorted(self.clutter_offsets_db)}") from None

    def to_dict(self) -> dict:
        return {"format": "blankspot-calibrated-model", "version": 1, "name": self.name, "base": self.base,
                "base_params": dict(self.base_params), "offset_db": self.offset_db,
                "slope_db_per_decade": self.slope_db_per_decade, "diffraction_weight": self.diffraction_weight,
                "clutter_offsets_db": dict(self.clutter_offsets_db),
                "default_clutter_offset_db": self.default_clutter_offset_db,
                "reference_distance_m": REFERENCE_DISTANCE_M, "fit_range": dict(self.fit_range)}

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)


@dataclass(frozen=True)
class CalibratedDistanceModel(_Calibrated, DistanceModel):
    """A distance model (Hata, COST-231, free space) with fitted correction terms."""

    base: str = "hata"

    def loss_db(self, distance_m, *, freq_mhz, h_tx_m, h_rx_m, clutter=None, **params):
        from .fspl import FSPL

        d = np.asarray(distance_m, dtype=np.float64)
        base = self._base().loss_db(d, freq_mhz=freq_mhz, h_tx_m=h_tx_m, h_rx_m=h_rx_m, **params)
        loss = base + _correction_db(d, self.offset_db + self.clutter_offset_db(clutter), self.slope_db_per_decade)
        floor = FSPL.loss_db(np.maximum(d, 1.0), freq_mhz=freq_mhz, h_tx_m=h_tx_m, h_rx_m=h_rx_m)
        return np.where(np.isnan(d), np.nan, np.maximum(loss, floor))


@dataclass(frozen=True)
class CalibratedProfileModel(_Calibrated, ProfileModel):
    """A terrain (profile) model with a fitted diffraction weight and correction terms."""

    base: str = "p526"

    # the engine runs a calibrated model on its base model's radials and cell mapping (same cells, same bits)
    @property
    def radial_arrays(self) -> bool:
        return bool(getattr(self._base(), "radial_arrays", False))

    @property
    def radial_spacing(self) -> str:
        return getattr(self._base(), "radial_spacing", "cell")

    @property
    def cell_mapping(self) -> str:
        return getattr(self._base(), "cell_mapping", "interpolate")

    @property
    def free_space_3d(self) -> bool:
        return bool(getattr(self._base(), "free_space_3d", True))

    def radial_excess_db(self, z2d, nvalid, step_m, *, freq_mhz, h_tx_m, h_rx_m, clutter=None, **params):
        excess = self._base().radial_excess_db(z2d, nvalid, step_m, freq_mhz=freq_mhz, h_tx_m=h_tx_m,
                                               h_rx_m=h_rx_m, **params)
        # one spacing for all radials, or one per radial (the engine's directional radial sets)
        step = np.asarray(step_m, dtype=np.float64).reshape(-1, 1)
        d = np.arange(z2d.shape[1], dtype=np.float64)[None, :] * step
        corr = _correction_db(np.maximum(d, step), self.offset_db + self.clutter_offset_db(clutter),
                              self.slope_db_per_decade)
        # the engine adds free space over each cell's path: an excess >= 0 keeps the loss above it
        return np.maximum(self.diffraction_weight * excess + corr, 0.0)


def calibrated_model(base, *, name: str | None = None, base_params: Mapping[str, Any] | None = None,
                     offset_db: float = 0.0, slope_db_per_decade: float = 0.0, diffraction_weight: float = 1.0,
                     clutter_offsets_db: Mapping[str, float] | None = None, default_clutter_offset_db: float = 0.0,
                     fit_range: Mapping[str, Any] | None = None, register: bool = True):
    """A calibrated variant of model ``base`` (name or object), registered under ``name``.

    ``name`` defaults to ``"<base>+cal"``; ``base_params`` become its defaults (with ``clutter``:
    ``None`` means the calibration points' mean clutter offset, ``default_clutter_offset_db``).
    """
    from . import get_model, register_model

    b = get_model(base)
    if isinstance(b, _Calibrated):
        raise InputError(f"model {b.name!r} is already calibrated: calibrate its base {b.base!r}")
    params = b.params(base_params)
    for key, val in (("offset_db", offset_db), ("slope_db_per_decade", slope_db_per_decade),
                     ("diffraction_weight", diffraction_weight)):
        if not np.isfinite(val):
            raise InputError(f"{key} must be finite, got {val}")
    if diffraction_weight < 0:
        raise InputError(f"diffraction_weight must be >= 0, got {diffraction_weight}")
    cls = CalibratedProfileModel if isinstance(b, ProfileModel) else CalibratedDistanceModel
    if cls is CalibratedDistanceModel and diffraction_weight != 1.0:
        raise InputError(f"model {b.name!r} has no terrain term: a diffraction weight needs a profile model")
    terms = f"offset {offset_db:+.4f} dB, slope {slope_db_per_decade:+.4f} dB/decade"
    if cls is CalibratedProfileModel:
        terms += f", diffraction x{diffraction_weight:.4f}"
    if clutter_offsets_db:
        terms += f", {len(clutter_offsets_db)} clutter offsets"
    m = cls(name=(name or f"{b.name}+cal").lower(), title=f"{b.title}, calibrated",
            reference=f"{b.reference}; calibrated to measurements ({terms})",
            validity=Validity(**{k: getattr(b.validity, k) for k in ("freq_mhz", "distance_km", "h_tx_m", "h_rx_m")}),
            defaults={**params, "clutter": None}, base=b.name, base_params=params, offset_db=float(offset_db),
            slope_db_per_decade=float(slope_db_per_decade), diffraction_weight=float(diffraction_weight),
            clutter_offsets_db={str(k): float(v) for k, v in (clutter_offsets_db or {}).items()},
            default_clutter_offset_db=float(default_clutter_offset_db), fit_range=dict(fit_range or {}))
    if register:
        register_model(m)
    return m


def model_from_dict(d: Mapping[str, Any], *, register: bool = True):
    """The calibrated model of :meth:`to_dict` (registered again under its name)."""
    if d.get("format") != "blankspot-calibrated-model":
        raise FileFormatError("not a calibrated-model record (format 'blankspot-calibrated-model' expected)")
    if float(d.get("reference_distance_m", REFERENCE_DISTANCE_M)) != REFERENCE_DISTANCE_M:
        raise FileFormatError(f"calibrated model with reference distance {d['reference_distance_m']} m; "
                              f"this version uses {REFERENCE_DISTANCE_M} m")
    try:
        return calibrated_model(d["base"], name=d["name"], base_params=d.get("base_params"),
                                offset_db=d["offset_db"], slope_db_per_decade=d["slope_db_per_decade"],
                                diffraction_weight=d.get("diffraction_weight", 1.0),
                                clutter_offsets_db=d.get("clutter_offsets_db"),
                                default_clutter_offset_db=d.get("default_clutter_offset_db", 0.0),
                                fit_range=d.get("fit_range"), register=register)
    except KeyError as exc:
        raise FileFormatError(f"calibrated-model record without {exc.args[0]!r}") from None
