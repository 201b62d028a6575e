"""Okumura-Hata and COST-231 Hata empirical path loss.

* Okumura-Hata: M. Hata, "Empirical formula for propagation loss in land mobile radio services",
  IEEE Trans. Veh. Tech. VT-29(3), 1980, eqs. (7)-(12); also ITU-R P.529-3 Annex 1 §1.1.
  Valid 150-1500 MHz, base height 30-200 m, mobile height 1-10 m, 1-20 km.
* COST-231 Hata: COST Action 231 final report (1999) §4.4.1, eq. (4.4.3): 1500-2000 MHz, same heights
  and distances; C_m = 3 dB for metropolitan centres, 0 dB otherwise.

Heights are above *local ground* (Hata's h_b is the effective base-station height): never pass
ground elevation plus mast height, which makes the loss tens of dB too optimistic on hills.
Environment: ``"urban_large"`` (large city), ``"urban"`` (medium/small city), ``"suburban"``,
``"open"`` (quasi-open/rural). The suburban and open corrections are Hata's eqs. (11)-(12); applying
them to COST-231 is common planning practice, not part of COST 231. Below 1 km the loss is kept at
least the free-space loss.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ._kernels.empirical import hata_many
from .base import DistanceModel, Validity

ENVIRONMENTS = {"urban_large": 0, "urban": 1, "suburban": 2, "open": 3, "rural": 3}

#: The one default environment of Hata / COST-231, read by every entry point (``predict``,
#: ``run_villages``, the CLI): "suburban". Kalimantan settlements are scattered in forest and
#: plantation; Hata's "open" correction (-30 dB at 1800 MHz) assumes open farmland and ignores foliage
#: loss, the "urban" curve is for built-up cities; "suburban" sits between. Say otherwise with
#: ``model_params={"environment": ...}``; a run that assumed it says so in a warning and its metadata.
DEFAULT_ENVIRONMENT = "suburban"


def _env_code(environment: str) -> int:
    try:
        return ENVIRONMENTS[str(environment).lower()]
    except KeyError:
        raise InputError(f"environment must be one of {sorted(ENVIRONMENTS)}, got {environment!r}") from None


def _run(distance_m, freq_mhz, h_tx_m, h_rx_m, environment, cost231):
    d = np.asarray(distance_m, dtype=np.float64)
    if not (h_tx_m > 0 and h_rx_m > 0):
        raise InputError(f"antenna heights must be positive (h_tx_m={h_tx_m}, h_rx_m={h_rx_m})")
    if not freq_mhz > 0:
        raise InputError(f"freq_mhz must be positive, got {freq_mhz}")
    flat = np.ascontiguousarray(d.ravel())
    out = np.empty_like(flat)
    hata_many(flat, float(freq_mhz), float(h_tx_m), float(h_rx_m), _env_code(environment), cost231, True, out)
    return out.reshape(d.shape)


def hata_loss_db(distance_m, *, freq_mhz: float, h_tx_m: float, h_rx_m: float,
                 environment: str = DEFAULT_ENVIRONMENT) -> np.ndarray:
    """Okumura-Hata loss (dB); heights above local ground (m), distance in metres."""
    return _run(distance_m, freq_mhz, h_tx_m, h_rx_m, environment, False)


def cost231_loss_db(distance_m, *, freq_mhz: float, h_tx_m: float, h_rx_m: float,
                    environment: str = DEFAULT_ENVIRONMENT) -> np.ndarray:
    """COST-231 Hata loss (dB); heights above local ground (m), distance in metres."""
    return _run(distance_m, freq_mhz, h_tx_m, h_rx_m, environment, True)


class Hata(DistanceModel):
    def loss_db(self, distance_m, *, freq_mhz, h_tx_m, h_rx_m, environment=DEFAULT_ENVIRONMENT, **params):
        fn = cost231_loss_db if self.name == "cost231" else hata_loss_db
        return fn(distance_m, freq_mhz=freq_mhz, h_tx_m=h_tx_m, h_rx_m=h_rx_m, environment=environment)


_HEIGHTS = dict(h_tx_m=(30.0, 200.0), h_rx_m=(1.0, 10.0), distance_km=(1.0, 20.0))

HATA = Hata(
    name="hata",
    title="Okumura-Hata",
    reference="Hata (1980) IEEE VT-29(3) eqs. (7)-(12); ITU-R P.529-3 Annex 1",
    validity=Validity(freq_mhz=(150.0, 1500.0), **_HEIGHTS),
    defaults={"environment": DEFAULT_ENVIRONMENT},
)

COST231 = Hata(
    name="cost231",
    title="COST-231 Hata",
    reference="COST 231 final report (1999) §4.4.1 eq. (4.4.3)",
    validity=Validity(freq_mhz=(1500.0, 2000.0), **_HEIGHTS),
    defaults={"environment": DEFAULT_ENVIRONMENT},
)
