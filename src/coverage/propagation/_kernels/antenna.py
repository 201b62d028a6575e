"""Numba kernel of the sector antenna pattern (3GPP TR 36.814 Table A.2.1.1-2)."""

from __future__ import annotations

from numba import njit


@njit(cache=True, inline="always")
def sector_attenuation_db(phi_deg, theta_deg, hbw_deg, am_db, tilt_deg, vbw_deg, sla_db):
    """3GPP TR 36.814 Table A.2.1.1-2 sector pattern attenuation (dB, <= 0).

    ``phi_deg`` horizontal angle from boresight (any range), ``theta_deg`` depression angle below the
    horizon (positive down); tilt positive down. ``hbw_deg <= 0`` means omnidirectional.
    """
    if hbw_deg <= 0.0:
        ah = 0.0
    else:
        p = (phi_deg + 180.0) % 360.0 - 180.0
        ah = -min(12.0 * (p / hbw_deg) ** 2, am_db)
    if vbw_deg <= 0.0:
        av = 0.0
    else:
        av = -min(12.0 * ((theta_deg - tilt_deg) / vbw_deg) ** 2, sla_db)
    return -min(-(ah + av), am_db)
