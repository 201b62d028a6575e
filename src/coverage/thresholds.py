"""Signal thresholds by technology, each with its source. All are defaults: override them.

No Indonesian regulation fixes coverage thresholds; these are the values in common planning use.

Three things live here:

* :data:`USABLE_DBM` — the weakest signal counted as usable service (used by :func:`coverage.predict`
  for ``n_servers`` and by :func:`coverage.assess_villages` for ``usable_share``);
* :data:`SIGNAL_CLASSES` — lower bounds of the classes *good / fair / weak* per technology (below
  *weak* is *none*); the *weak* bound equals the usable level so "usable" = class weak or better;
* :data:`STATUS_THRESHOLDS` — a village is a *blankspot* below 10 % usable share, *covered* from 90 %,
  *partial* in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError

__all__ = [
    "USABLE_DBM",
    "SIGNAL_CLASSES",
    "SignalClasses",
    "STATUS_THRESHOLDS",
    "StatusThresholds",
    "DEFAULT_SHADOWING_SIGMA_DB",
    "CLASS_LABELS",
    "STATUS_LABELS",
    "signal_classes",
    "classify_signal",
    "classify_status",
]

#: Weakest signal (dBm, in the technology's metric) counted as usable service.
#: 4G: RSRP -110 dBm, the usual cell-edge planning value (the field's range is -110 to -120 dBm);
#: 3G: RSCP -100 dBm ("poor" below it in drive-test practice); 2G: RxLev -100 dBm, a few dB above the
#: -102 dBm reference sensitivity of a GSM handset (3GPP TS 45.005 §6.2); 5G: SS-RSRP -110 dBm as 4G.
USABLE_DBM: dict[str, float] = {"4g": -110.0, "3g": -100.0, "2g": -100.0, "5g": -110.0, "mixed": -100.0}

CLASS_LABELS = ("good", "fair", "weak", "none")
STATUS_LABELS = ("covered", "partial", "blankspot")


@dataclass(frozen=True)
class SignalClasses:
    """Lower bounds (dBm) of the classes good / fair / weak; anything below ``weak_dbm`` is *none*."""

    good_dbm: float
    fair_dbm: float
    weak_dbm: float
    source: str = ""

    def __post_init__(self):
        if not (self.good_dbm > self.fair_dbm > self.weak_dbm):
            raise InputError(f"signal class bounds must decrease good > fair > weak, got "
                             f"{self.good_dbm}, {self.fair_dbm}, {self.weak_dbm}")


#: Class bounds per technology (dBm of the technology's metric).
SIGNAL_CLASSES: dict[str, SignalClasses] = {
    # LTE RSRP: the drive-test scale in common use (>= -80 excellent, -80..-90 good, -90..-100 fair,
    # < -100 poor; e.g. the operators' and Ookla/OpenSignal RSRP bands, NOTES "Indonesian context");
    # "excellent" and "good" merged into good; the usable edge -110 dBm (USABLE_DBM) closes "weak".
    "4g": SignalClasses(-90.0, -100.0, USABLE_DBM["4g"],
                        "RSRP drive-test scale (>=-90 good, -90..-100 fair); cell edge -110 dBm"),
    # NR SS-RSRP: the same scale as LTE RSRP (TS 38.215 defines SS-RSRP per resource element like RSRP).
    "5g": SignalClasses(-90.0, -100.0, USABLE_DBM["5g"], "as 4G RSRP (TS 38.215 §5.1.1)"),
    # UMTS RSCP: drive-test practice (>= -80 excellent, -80..-90 good, -90..-100 fair, < -100 poor);
    # good starts at -85 between the two upper bands; usable edge -100 dBm.
    "3g": SignalClasses(-85.0, -95.0, USABLE_DBM["3g"],
                        "RSCP drive-test scale (>=-85 good, -85..-95 fair); usable edge -100 dBm"),
    # GSM RxLev: RXLEV steps of TS 45.008 §8.1.4 (-110 dBm = RXLEV 0); common classes >= -70 good,
    # -70..-85 fair; usable edge -100 dBm, above the -102 dBm handset sensitivity (TS 45.005 §6.2).
    "2g": SignalClasses(-70.0, -85.0, USABLE_DBM["2g"],
                        "RxLev scale of TS 45.008 §8.1.4 (>=-70 good, -70..-85 fair); usable -100 dBm"),
    # Total received power of mixed technologies: the 2G scale (RxLev is the carrier power).
    "mixed": SignalClasses(-70.0, -85.0, USABLE_DBM["mixed"], "total received power, as 2G RxLev"),
}


@dataclass(frozen=True)
class StatusThresholds:
    """Village status from the usable share of its area (0..1).

    ``blankspot`` below ``blankspot_below``; ``covered`` from ``covered_from``; ``partial`` between.
    """

    blankspot_below: float = 0.10
    covered_from: float = 0.90

    def __post_init__(self):
        if not (0.0 <= self.blankspot_below <= self.covered_from <= 1.0):
            raise InputError(f"status thresholds need 0 <= blankspot_below <= covered_from <= 1, got "
                             f"{self.blankspot_below}, {self.covered_from}")


#: Defaults of the issue ("blankspot below 10 %, covered from 90 %"): a village with under a tenth of
#: its area served is what BAKTI's programme calls a blankspot village; 90 % is the usual "area
#: coverage" target of rural broadband obligations (the remaining 10 % being uninhabited land).
STATUS_THRESHOLDS = StatusThresholds()

#: Standard deviation of log-normal shadowing (dB) for coverage probabilities: 8 dB, the middle of the
#: 6-10 dB range measured for macro cells (Rappaport, *Wireless Communications*, 2nd ed., §4.9.2;
#: 3GPP TR 36.942 §4.5 uses 10 dB for macro-cell system simulations).
DEFAULT_SHADOWING_SIGMA_DB = 8.0


def signal_classes(technology: str, overrides: SignalClasses | dict | None = None) -> SignalClasses:
    """The class bounds of ``technology`` ('2g', '3g', '4g', '5g', 'mixed'), optionally overridden."""
    tech = str(technology).lower()
    if tech not in SIGNAL_CLASSES:
        raise InputError(f"technology must be one of {sorted(SIGNAL_CLASSES)}, got {technology!r}")
    if overrides is None:
        return SIGNAL_CLASSES[tech]
    if isinstance(overrides, SignalClasses):
        return overrides
    base = SIGNAL_CLASSES[tech]
    vals = {"good_dbm": base.good_dbm, "fair_dbm": base.fair_dbm, "weak_dbm": base.weak_dbm}
    unknown = set(overrides) - set(vals)
    if unknown:
        raise InputError(f"unknown signal class bounds {sorted(unknown)}; use good_dbm, fair_dbm, weak_dbm")
    vals.update({k: float(v) for k, v in overrides.items()})
    return SignalClasses(**vals, source="user")


def classify_signal(dbm, technology: str = "4g", classes: SignalClasses | dict | None = None) -> np.ndarray:
    """Signal class ('good', 'fair', 'weak', 'none') of each value (dBm); NaN (no signal) is 'none'."""
    c = signal_classes(technology, classes)
    v = np.asarray(dbm, dtype=float)
    v = np.where(np.isnan(v), -np.inf, v)
    idx = np.where(v >= c.good_dbm, 0, np.where(v >= c.fair_dbm, 1, np.where(v >= c.weak_dbm, 2, 3)))
    return np.asarray(CLASS_LABELS, dtype=object)[idx]


def classify_status(usable_share, thresholds: StatusThresholds | None = None) -> np.ndarray:
    """Status ('covered', 'partial', 'blankspot') from the usable share (0..1); NaN gives 'unassessed'."""
    t = STATUS_THRESHOLDS if thresholds is None else thresholds
    s = np.asarray(usable_share, dtype=float)
    out = np.where(s >= t.covered_from, "covered", np.where(s < t.blankspot_below, "blankspot", "partial"))
    out = out.astype(object)
    out[np.isnan(s)] = "unassessed"
    return out
