"""ITM (Longley-Rice) as a coverage model: every cell's loss is ITM point-to-point on its own profile.

The physics is :mod:`coverage.itm` (NTIA ITM 1.2.2 / v1.4, validated against the NTIA reference
vectors); the sweep kernel (``_itm_sweep.itm_radials``) carries the transmitter horizon, the
least-squares sums and the receiver-side hull along each radial so that a radial is not re-scanned
for every sample. Validity: 20-20,000 MHz, 1-2000 km, antenna heights 0.5-3000 m.

Defaults for this project's region: climate 1 (equatorial), N_0 = 360 N-units (the ITS guidance for
equatorial climates), average ground (epsilon 15, sigma 0.005 S/m), vertical polarisation, mobile
variability mode with location variability folded in by the known profile (mdvar 12), median time,
location and situation (50 %).
"""

from __future__ import annotations

import numpy as np

from .. import itm as _itm
from ._itm_sweep import itm_radials, itm_radials_exact
from .base import ProfileModel, Validity
from .fspl import free_space_loss_db


class ItmModel(ProfileModel):
    #: ITM's own free-space term uses the ground distance; keep that for the cells too.
    free_space_3d = False

    def radial_excess_db(self, z2d, nvalid, step_m, *, freq_mhz, h_tx_m, h_rx_m, climate=1, n0=360.0, pol=1,
                         epsilon=15.0, sigma=0.005, mdvar=12, time=50.0, location=50.0, situation=50.0,
                         exact=False, **params):
        _itm.check_inputs(h_tx_m=h_tx_m, h_rx_m=h_rx_m, freq_mhz=freq_mhz, climate=climate, n0=n0, pol=pol,
                          epsilon=epsilon, sigma=sigma, mdvar=mdvar, time=time, location=location,
                          situation=situation)
        out = np.empty(z2d.shape, dtype=np.float64)
        fn = itm_radials_exact if exact else itm_radials
        fn(np.ascontiguousarray(z2d, dtype=np.float64), np.ascontiguousarray(nvalid, dtype=np.int64), float(step_m),
           float(h_tx_m), float(h_rx_m), float(freq_mhz), int(climate), float(n0), int(pol), float(epsilon),
           float(sigma), int(mdvar), float(time), float(location), float(situation), out)
        d = np.arange(z2d.shape[1]) * float(step_m)
        out -= free_space_loss_db(np.where(d > 0, d, np.nan), float(freq_mhz))[None, :]
        return out


ITM_MODEL = ItmModel(
    name="itm",
    title="Longley-Rice ITM (point-to-point)",
    reference="NTIA ITM v1.2.2 (Hufford 1995; NTIA/itm v1.4), Longley & Rice 1968",
    validity=Validity(freq_mhz=(20.0, 20000.0), distance_km=(1.0, 2000.0), h_tx_m=(0.5, 3000.0),
                      h_rx_m=(0.5, 3000.0)),
    defaults={"climate": 1, "n0": 360.0, "pol": 1, "epsilon": 15.0, "sigma": 0.005, "mdvar": 12, "time": 50.0,
              "location": 50.0, "situation": 50.0},
)


def _register():
    from . import register_model

    register_model(ITM_MODEL)


_register()
