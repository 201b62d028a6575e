"""Sector antenna pattern of 3GPP TR 36.814 (Table A.2.1.1-2), the one the engine applies per cell.

A_h(phi) = -min(12 (phi/phi_3dB)^2, A_m), A_v(theta) = -min(12 ((theta - tilt)/theta_3dB)^2, SLA_v),
combined -min(-(A_h + A_v), A_m). The defaults (front-to-back A_m, vertical beamwidth, side-lobe level)
are defined here and read by :mod:`coverage.io.sites` (a site's antenna), the engine and the
measurement reader (a measured level back to a path loss).
"""

from __future__ import annotations

import numpy as np


__all__ = ["sector_attenuation_db", "DEFAULT_FRONT_TO_BACK_DB", "DEFAULT_SIDELOBE_DB",
           "DEFAULT_VERTICAL_BEAMWIDTH_DEG", "DEFAULT_BEAMWIDTH_DEG"]

#: Sector pattern constants of 3GPP TR 36.814 Table A.2.1.1-2: front-to-back ratio A_m (dB), vertical
#: side-lobe level SLA_v (dB), vertical 3 dB beamwidth (deg); and the usual horizontal 3 dB beamwidth.
DEFAULT_FRONT_TO_BACK_DB = 25.0
DEFAULT_SIDELOBE_DB = 20.0
DEFAULT_VERTICAL_BEAMWIDTH_DEG = 10.0
DEFAULT_BEAMWIDTH_DEG = 65.0


def sector_attenuation_db(phi_deg, theta_deg=0.0, *, beamwidth_deg=DEFAULT_BEAMWIDTH_DEG, front_to_back_db=DEFAULT_FRONT_TO_BACK_DB,
                          downtilt_deg=0.0, vertical_beamwidth_deg=DEFAULT_VERTICAL_BEAMWIDTH_DEG,
                          sidelobe_db=DEFAULT_SIDELOBE_DB) -> np.ndarray:
    """Sector antenna attenuation (dB, <= 0) of 3GPP TR 36.814 Table A.2.1.1-2.

    ``phi_deg``: horizontal angle from boresight; ``theta_deg``: depression angle below the horizon
    (positive down), compared with ``downtilt_deg``. Vectorised over ``phi_deg`` and ``theta_deg``.
    """
    from ._kernels.antenna import sector_attenuation_db as _k

    phi, theta = np.broadcast_arrays(np.asarray(phi_deg, float), np.asarray(theta_deg, float))
    out = np.empty(phi.shape)
    for idx in np.ndindex(phi.shape):
        out[idx] = _k(phi[idx], theta[idx], float(beamwidth_deg), float(front_to_back_db), float(downtilt_deg),
                      float(vertical_beamwidth_deg), float(sidelobe_db))
    return out
