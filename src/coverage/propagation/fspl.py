"""Free-space basic transmission loss, ITU-R P.525-4 §2.2 eq. (4).

L_bf = 20 log10(4 pi d / lambda), i.e. 32.45 + 20 log10 f(MHz) + 20 log10 d(km). Valid at any
frequency in the far field; it ignores terrain and the earth, so it is an optimistic bound.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ._kernels.empirical import fspl_many
from .base import DistanceModel, Validity


def free_space_loss_db(distance_m, freq_mhz: float) -> np.ndarray:
    """Free-space loss (dB) at distances ``distance_m`` (m) and ``freq_mhz``; P.525-4 eq. (4)."""
    d = np.asarray(distance_m, dtype=np.float64)
    if not freq_mhz > 0:
        raise InputError(f"freq_mhz must be positive, got {freq_mhz}")
    if np.any(d[np.isfinite(d)] <= 0):
        raise InputError("distance_m must be positive")
    flat = np.ascontiguousarray(d.ravel())
    out = np.empty_like(flat)
    fspl_many(flat, float(freq_mhz), out)
    return out.reshape(d.shape)


class FreeSpace(DistanceModel):
    def loss_db(self, distance_m, *, freq_mhz, h_tx_m=0.0, h_rx_m=0.0, **params):
        d = np.asarray(distance_m, dtype=np.float64)
        d3 = np.sqrt(d * d + (float(h_tx_m) - float(h_rx_m)) ** 2)
        return free_space_loss_db(np.where(d3 > 0, d3, np.nan), freq_mhz)


FSPL = FreeSpace(
    name="fspl",
    title="Free space",
    reference="ITU-R P.525-4 (08/2019) §2.2 eq. (4)",
    validity=Validity(freq_mhz=(0.01, 1.0e6)),
)
