"""Numba kernels of ITU-R P.1812-7 (08/2021... 2023 edition: "P.1812-7") point-to-area prediction.

Private module: plain arrays and floats. Distances in km, heights in m, frequency in GHz, angles in
mrad, as the Recommendation writes them. The diffraction pieces (Bullington §4.3.1, spherical earth
§4.3.2, smooth-surface heights Att. 1 §5.6.2) are those of ``p526`` (metres there), called with
P.1812's wavelength 0.2998 / f (the constant of the ITU reference software) so that results agree
with the ITU validation set to rounding.

``profile_loss`` evaluates one profile and writes every intermediate term into ``out`` at the
indices named in ``FIELDS`` (the public module builds its result from them).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .p526 import (
    _bullington_from_luc,
    _bullington_point_luc,
    _first_term,
    _first_term_freq,
    _hull_argmax,
    _smooth_bullington,
    bullington,
    knife_edge_loss_db,
    smooth_surface_fit,
    smooth_surface_heights,
)

#: names of the slots of ``out`` (order matters: the kernel writes by index)
FIELDS = (
    "lb_db", "ep_dbuv_m", "ep_1kw_dbuv_m", "lbfs_db", "lb0p_db", "lb0b_db",
    "lbulla50_db", "lbulls50_db", "ldsph50_db", "ld50_db",
    "lbulla_b_db", "lbulls_b_db", "ldsph_b_db", "ldb_db", "ldp_db",
    "lbd50_db", "lbd_db", "lminb0p_db", "lba_db", "lminbap_db", "lbda_db", "lbam_db", "lbs_db",
    "lbc_db", "lloc_db", "fi", "fj", "fk",
    "dlt_km", "dlr_km", "theta_t_mrad", "theta_r_mrad", "theta_mrad",
    "hst_n_m", "hsr_n_m", "hst_m", "hsr_m", "hstd_m", "hsrd_m", "hte_m", "hre_m", "hm_m",
    "omega", "dtm_km", "dlm_km", "b0_percent", "ae_km", "transhorizon",
)
NFIELDS = len(FIELDS)


@njit(cache=True)
def inv_cum_norm(x):
    """I(x), P.1812-7 Attachment 2 eqs. (96)-(97), x clipped to [1e-6, 1 - 1e-6]."""
    if x < 0.000001:
        x = 0.000001
    if x > 0.999999:
        x = 0.999999
    y = x if x <= 0.5 else 1.0 - x
    t = math.sqrt(-2.0 * math.log(y))
    c = ((0.010328 * t + 0.802853) * t + 2.515516698) / (((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0)
    return t - c if x <= 0.5 else -(t - c)


@njit(cache=True)
def path_centre_latitude(phi_t, lam_t, phi_r, lam_r, d_half_km):
    """Latitude (deg) of the great-circle point d_half_km from the transmitter, P.2001 Att. H."""
    rad = math.pi / 180.0
    dlon = (lam_r - lam_t) * rad
    st, ct = math.sin(phi_t * rad), math.cos(phi_t * rad)
    sr, cr = math.sin(phi_r * rad), math.cos(phi_r * rad)
    r = st * sr + ct * cr * math.cos(dlon)
    x1 = sr - r * st
    y1 = ct * cr * math.sin(dlon)
    if abs(x1) < 1e-9 and abs(y1) < 1e-9:
        bt2r = lam_r  # the reference's fallback for coincident terminals
    else:
        bt2r = math.atan2(y1, x1) / rad
    a = d_half_km / 6371.0
    s = st * math.cos(a) + ct * math.sin(a) * math.cos(bt2r * rad)
    return math.asin(s) / rad


@njit(cache=True)
def _zone_extent(d, zone, z1, z2, longest):
    """Longest (or total) length of runs of points whose zone is z1 or z2, P.1812 §3.6 / eq. (1)."""
    n = d.shape[0]
    best = 0.0
    total = 0.0
    i = 0
    while i < n:
        if zone[i] == z1 or zone[i] == z2:
            j = i
            while j + 1 < n and (zone[j + 1] == z1 or zone[j + 1] == z2):
                j += 1
            delta = 0.0
            if d[j] < d[n - 1]:
                delta += 0.5 * (d[j + 1] - d[j])
            if d[i] > 0.0:
                delta += 0.5 * (d[i] - d[i - 1])
            length = d[j] - d[i] + delta
            total += length
            if length > best:
                best = length
            i = j + 1
        else:
            i += 1
    return best if longest else total


@njit(cache=True)
def beta0(phi_deg, dtm_km, dlm_km):
    """Time percentage beta_0 of anomalous refractivity gradients, P.1812-7 eqs. (2)-(5)."""
    tau = 1.0 - math.exp(-(4.12e-4 * dlm_km ** 2.41))
    mu1 = (10.0 ** (-dtm_km / (16.0 - 6.6 * tau)) + 10.0 ** (-5.0 * (0.496 + 0.354 * tau))) ** 0.2
    if mu1 > 1.0:
        mu1 = 1.0
    a = abs(phi_deg)
    if a <= 70.0:
        mu4 = mu1 ** (-0.935 + 0.0176 * a)
        return 10.0 ** (-0.015 * a + 1.67) * mu1 * mu4
    return 4.17 * mu1 * mu1 ** 0.3


@njit(cache=True)
def _bull_att4(dtot, hte, hre, ap, f, lam):
    """L_bulls without terrain analysis, P.1812-7 Attachment 4 eqs. (105)-(112)."""
    ce = 1.0 / ap
    dlos = math.sqrt(2.0 * ap) * (math.sqrt(0.001 * hte) + math.sqrt(0.001 * hre))
    if dtot < dlos:
        c = (hte - hre) / (hte + hre)
        m = 250.0 * dtot * dtot / (ap * (hte + hre))
        b = 2.0 * math.sqrt((m + 1.0) / (3.0 * m)) * math.cos(
            math.pi / 3.0 + math.acos(1.5 * c * math.sqrt(3.0 * m / (m + 1.0) ** 3)) / 3.0)
        dse1 = 0.5 * dtot * (1.0 + b)
        dse2 = dtot - dse1
        hse = ((hte - 500.0 * dse1 * dse1 / ap) * dse2 + (hre - 500.0 * dse2 * dse2 / ap) * dse1) / dtot
        nu = -hse * math.sqrt(0.002 * dtot / (lam * dse1 * (dtot - dse1)))
    else:
        stm = 500.0 * ce * dtot - 2.0 * math.sqrt(500.0 * ce * hte)
        srm = 500.0 * ce * dtot - 2.0 * math.sqrt(500.0 * ce * hre)
        ds = (hre - hte + srm * dtot) / (stm + srm)
        nu = (hte + stm * ds - (hte * (dtot - ds) + hre * ds) / dtot) \
            * math.sqrt(0.002 * dtot / (lam * ds * (dtot - ds)))
    lus = knife_edge_loss_db(nu)
    return lus + (1.0 - math.exp(-lus / 6.0)) * (10.0 + 0.02 * dtot)


@njit(cache=True)
def _spherical_earth(dtot, hte, hre, ap, lam, land, sea, omega):
    """Spherical-earth diffraction loss L_dsph, P.1812-7 §4.3.2 eqs. (22)-(27), km units; the
    first-term part (§4.3.3) is ``p526._first_term`` (metres)."""
    dlos = math.sqrt(2.0 * ap) * (math.sqrt(0.001 * hte) + math.sqrt(0.001 * hre))
    if dtot >= dlos:
        return _first_term(dtot * 1000.0, hte, hre, ap * 1000.0, land, sea, omega)
    c = (hte - hre) / (hte + hre)
    m = 250.0 * dtot * dtot / (ap * (hte + hre))
    b = 2.0 * math.sqrt((m + 1.0) / (3.0 * m)) * math.cos(
        math.pi / 3.0 + math.acos(1.5 * c * math.sqrt(3.0 * m / (m + 1.0) ** 3)) / 3.0)
    dse1 = 0.5 * dtot * (1.0 + b)
    dse2 = dtot - dse1
    hse = ((hte - 500.0 * dse1 * dse1 / ap) * dse2 + (hre - 500.0 * dse2 * dse2 / ap) * dse1) / dtot
    hreq = 17.456 * math.sqrt(dse1 * dse2 * lam / dtot)
    if hse > hreq:
        return 0.0
    aem = 500.0 * (dtot / (math.sqrt(hte) + math.sqrt(hre))) ** 2
    ldft = _first_term(dtot * 1000.0, hte, hre, aem * 1000.0, land, sea, omega)
    return (1.0 - hse / hreq) * max(ldft, 0.0)


@njit(cache=True)
def _delta_bullington(d_m, g, zeros, hts, hrs, hstd, hsrd, ap_km, f, lam, land, sea, omega, flag4):
    """P.1812-7 §4.3.4 eqs. (37)-(39) on the clutter-raised profile g: (L_d, L_bulla, L_bulls, L_dsph)."""
    n = d_m.shape[0]
    ap_m = ap_km * 1000.0
    lbulla = bullington(d_m, g, n, hts, hrs, ap_m, lam)
    hts1 = hts - hstd
    hrs1 = hrs - hsrd
    dtot_m = d_m[n - 1]
    if flag4 == 1:
        lbulls = _bull_att4(dtot_m * 1e-3, hts1, hrs1, ap_km, f, lam)
    else:
        lbulls = bullington(d_m, zeros, n, hts1, hrs1, ap_m, lam)
    ldsph = _spherical_earth(dtot_m * 1e-3, hts1, hrs1, ap_km, lam, land, sea, omega)
    return lbulla + max(ldsph - lbulls, 0.0), lbulla, lbulls, ldsph


@njit(cache=True)
def _horizons(d, h, hts, hrs, ae, lam, out):
    """Horizon angles and distances, Att. 1 §5.3-5.5 eqs. (76)-(84); returns (lt, lr) indices."""
    n = d.shape[0]
    dtot = d[n - 1]
    theta_max = -np.inf
    lt = 1
    for i in range(1, n - 1):
        th = 1000.0 * math.atan((h[i] - hts) / (1000.0 * d[i]) - d[i] / (2.0 * ae))
        if th > theta_max:  # first index of the maximum, as the reference
            theta_max = th
            lt = i
    theta_td = 1000.0 * math.atan((hrs - hts) / (1000.0 * dtot) - dtot / (2.0 * ae))
    theta_rd = 1000.0 * math.atan((hts - hrs) / (1000.0 * dtot) - dtot / (2.0 * ae))
    trans = theta_max > theta_td
    theta_t = max(theta_max, theta_td)
    if trans:
        dlt = d[lt]
        theta_r = -np.inf
        lr = n - 2
        for i in range(1, n - 1):
            th = 1000.0 * math.atan((h[i] - hrs) / (1000.0 * (dtot - d[i])) - (dtot - d[i]) / (2.0 * ae))
            if th >= theta_r:  # last index of the maximum
                theta_r = th
                lr = i
        dlr = dtot - d[lr]
    else:
        theta_r = theta_rd
        ce = 1.0 / ae
        numax = -np.inf
        for i in range(1, n - 1):
            nu = (h[i] + 500.0 * ce * d[i] * (dtot - d[i]) - (hts * (dtot - d[i]) + hrs * d[i]) / dtot) \
                * math.sqrt(0.002 * dtot / (lam * d[i] * (dtot - d[i])))
            if nu >= numax:
                numax = nu
                lt = i
        dlt = d[lt]
        dlr = dtot - dlt
        lr = lt
    out[28] = dlt
    out[29] = dlr
    out[30] = theta_t
    out[31] = theta_r
    out[32] = 1e3 * dtot / ae + theta_t + theta_r
    out[47] = 1.0 if trans else 0.0
    return lt, lr


@njit(cache=True)
def _anomalous(dtot, dlt, dlr, dct, dcr, dlm, hts, hrs, hte, hre, hm, theta_t, theta_r, f, p, omega,
               ae, b0):
    """Basic transmission loss of ducting / layer reflection L_ba, P.1812-7 §4.5 eqs. (46)-(56)."""
    alf = 45.375 - 137.0 * f + 92.5 * f * f if f < 0.5 else 0.0
    f13 = f ** (1.0 / 3.0)
    theta_t2 = theta_t - 0.1 * dlt
    theta_r2 = theta_r - 0.1 * dlr
    ast = 20.0 * math.log10(1.0 + 0.361 * theta_t2 * math.sqrt(f * dlt)) + 0.264 * theta_t2 * f13 \
        if theta_t2 > 0.0 else 0.0
    asr = 20.0 * math.log10(1.0 + 0.361 * theta_r2 * math.sqrt(f * dlr)) + 0.264 * theta_r2 * f13 \
        if theta_r2 > 0.0 else 0.0
    act = 0.0
    acr = 0.0
    if dct <= 5.0 and dct <= dlt and omega >= 0.75:
        act = -3.0 * math.exp(-0.25 * dct * dct) * (1.0 + math.tanh(0.07 * (50.0 - hts)))
    if dcr <= 5.0 and dcr <= dlr and omega >= 0.75:
        acr = -3.0 * math.exp(-0.25 * dcr * dcr) * (1.0 + math.tanh(0.07 * (50.0 - hrs)))
    gamma_d = 5e-5 * ae * f13
    theta_t1 = min(theta_t, 0.1 * dlt)
    theta_r1 = min(theta_r, 0.1 * dlr)
    theta1 = 1e3 * dtot / ae + theta_t1 + theta_r1
    d_i = min(dtot - dlt - dlr, 40.0)
    mu3 = math.exp(-4.6e-5 * (hm - 10.0) * (43.0 + 6.0 * d_i)) if hm > 10.0 else 1.0
    tau = 1.0 - math.exp(-(4.12e-4 * dlm ** 2.41))
    alpha = max(-0.6 - 3.5e-9 * dtot ** 3.1 * tau, -3.4)
    mu2 = min((500.0 / ae * dtot * dtot / (math.sqrt(hte) + math.sqrt(hre)) ** 2) ** alpha, 1.0)
    beta = b0 * mu2 * mu3
    lbeta = math.log10(beta)
    gamma = 1.076 / (2.0058 - lbeta) ** 1.012 \
        * math.exp(-(9.51 - 4.8 * lbeta + 0.198 * lbeta * lbeta) * 1e-6 * dtot ** 1.13)
    ap = -12.0 + (1.2 + 3.7e-3 * dtot) * math.log10(p / beta) + 12.0 * (p / beta) ** gamma
    adp = gamma_d * theta1 + ap
    af = 102.45 + 20.0 * math.log10(f) + 20.0 * math.log10(dlt + dlr) + alf + ast + asr + act + acr
    return af + adp


@njit(cache=True)
def profile_loss(d, h, r, zone, f, p, htg, hrg, pol, phi_path, dn, n0, dct, dcr, pl, sigma_l,
                 ptx_kw, gtx, grx, flag4, out):
    """P.1812-7 basic transmission loss of one profile (Annex 1 §4, eqs. (1)-(70)).

    ``d`` km from the transmitter (d[0] = 0), ``h`` terrain m amsl, ``r`` representative clutter
    height m, ``zone`` 1 sea / 3 coastal / 4 inland, ``pol`` 0 horizontal / 1 vertical, ``phi_path``
    latitude of the path centre (deg). Fills ``out`` (see ``FIELDS``) and returns L_b (dB).
    """
    n = d.shape[0]
    # §3.2: clutter raises the intermediate points of the diffraction profile, not the terminals
    g = h + r
    g[0] = h[0]
    g[n - 1] = h[n - 1]
    return _profile_core(d, h, g, zone, f, p, htg, hrg, pol, phi_path, dn, n0, dct, dcr, pl, sigma_l,
                         ptx_kw, gtx, grx, flag4, out)


@njit(cache=True)
def _profile_core(d, h, g, zone, f, p, htg, hrg, pol, phi_path, dn, n0, dct, dcr, pl, sigma_l,
                  ptx_kw, gtx, grx, flag4, out):
    """``profile_loss`` on the clutter-raised heights ``g`` (terminals bare)."""
    n = d.shape[0]
    d_m = d * 1000.0
    zeros = np.zeros(n)
    dtot = d[n - 1]
    lam = 0.2998 / f
    hts = h[0] + htg
    hrs = h[n - 1] + hrg
    dtm = _zone_extent(d, zone, 3.0, 4.0, True)
    dlm = _zone_extent(d, zone, 4.0, 4.0, True)
    omega = _zone_extent(d, zone, 1.0, 1.0, False) / dtot
    b0 = beta0(phi_path, dtm, dlm)
    ae = 6371.0 * 157.0 / (157.0 - dn)
    ab = 6371.0 * 3.0
    if zone[0] == 1.0:
        dct = 0.0
    if zone[n - 1] == 1.0:
        dcr = 0.0
    # ---- Attachment 1 §5.6: smooth-earth surface on the bare terrain
    hst_n, hsr_n = smooth_surface_fit(d_m, h, n)
    hstd, hsrd = smooth_surface_heights(d_m, h, n, hts, hrs)
    lt, lr = _horizons(d, h, hts, hrs, ae, lam, out)
    dlt = out[28]
    dlr = out[29]
    theta_t = out[30]
    theta_r = out[31]
    theta = out[32]
    hst = min(hst_n, h[0])
    hsr = min(hsr_n, h[n - 1])
    m = (hsr - hst) / dtot
    hte = htg + h[0] - hst
    hre = hrg + h[n - 1] - hsr
    hm = -np.inf
    for i in range(lt, lr + 1):
        hm = max(hm, h[i] - (hst + m * d[i]))
    fm = f * 1000.0
    land = _first_term_freq(fm, 22.0, 0.003, pol)
    sea = _first_term_freq(fm, 80.0, 5.0, pol)
    # ---- §4.3 diffraction at the median and the beta_0 radii
    ld50, la50, ls50, lsph50 = _delta_bullington(d_m, g, zeros, hts, hrs, hstd, hsrd, ae, f, lam, land,
                                                 sea, omega, flag4)
    ldb, lab, lsb, lsphb = _delta_bullington(d_m, g, zeros, hts, hrs, hstd, hsrd, ab, f, lam, land,
                                             sea, omega, flag4)
    _geometry_out(out, hst_n, hsr_n, hst, hsr, hstd, hsrd, hte, hre, hm, omega, dtm, dlm, b0, ae)
    return _finish(f, p, dtot, hts, hrs, dlt, dlr, theta_t, theta_r, theta, hte, hre, hm, omega, dlm, b0, ae,
                   dct, dcr, n0, zone[n - 1] == 1.0, pl, sigma_l, ptx_kw, gtx, grx,
                   ld50, la50, ls50, lsph50, ldb, lab, lsb, lsphb, out)


@njit(cache=True)
def _geometry_out(out, hst_n, hsr_n, hst, hsr, hstd, hsrd, hte, hre, hm, omega, dtm, dlm, b0, ae):
    out[33] = hst_n
    out[34] = hsr_n
    out[35] = hst
    out[36] = hsr
    out[37] = hstd
    out[38] = hsrd
    out[39] = hte
    out[40] = hre
    out[41] = hm
    out[42] = omega
    out[43] = dtm
    out[44] = dlm
    out[45] = b0
    out[46] = ae


@njit(cache=True)
def _finish(f, p, dtot, hts, hrs, dlt, dlr, theta_t, theta_r, theta, hte, hre, hm, omega, dlm, b0, ae,
            dct, dcr, n0, rx_at_sea, pl, sigma_l, ptx_kw, gtx, grx,
            ld50, la50, ls50, lsph50, ldb, lab, lsb, lsphb, out):
    """P.1812-7 §4.1 and §4.4-4.9 from the path geometry and the diffraction terms: fills the loss
    slots of ``out`` and returns L_b (dB)."""
    # ---- §4.1 line of sight, §4.3 time interpolation of diffraction
    fj = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.8 * (theta - 0.3) / 0.3))  # eq. (57)
    fk = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.5 * (dtot - 20.0) / 20.0))  # eq. (58)
    dfs2 = dtot * dtot + ((hts - hrs) / 1000.0) ** 2
    lbfs = 92.4 + 20.0 * math.log10(f) + 10.0 * math.log10(dfs2)  # eq. (8)
    corr = 2.6 * (1.0 - math.exp(-0.1 * (dlt + dlr)))
    lb0p = lbfs + corr * math.log10(p / 50.0)  # eqs. (9a), (10)
    lb0b = lbfs + corr * math.log10(b0 / 50.0)  # eqs. (9b), (11)
    if p == 50.0:
        ldp = ld50
    else:
        fi41 = inv_cum_norm(p / 100.0) / inv_cum_norm(b0 / 100.0) if p > b0 else 1.0
        ldp = ld50 + fi41 * (ldb - ld50)  # eq. (41)
    lbd50 = lbfs + ld50  # eq. (42)
    lbd = lb0p + ldp  # eq. (43)
    lminb0p = lb0p + (1.0 - omega) * ldp
    fi = 1.0
    if p >= b0:
        fi = inv_cum_norm(p / 100.0) / inv_cum_norm(b0 / 100.0)  # eq. (40a)
        lminb0p = lbd50 + (lb0b + (1.0 - omega) * ldp - lbd50) * fi  # eq. (59)
    # ---- §4.5 ducting / layer reflection, §4.6 combination
    lba = _anomalous(dtot, dlt, dlr, dct, dcr, dlm, hts, hrs, hte, hre, hm, theta_t, theta_r, f, p, omega,
                     ae, b0)
    eta = 2.5
    big = max(lba, lb0p)
    lminbap = big + eta * math.log(math.exp((lba - big) / eta) + math.exp((lb0p - big) / eta))  # eq. (60)
    lbda = lbd
    if lminbap <= lbd:
        lbda = lminbap + (lbd - lminbap) * fk  # eq. (61)
    lbam = lbda + (lminb0p - lbda) * fj  # eq. (62)
    # ---- §4.4 troposcatter
    lf = 25.0 * math.log10(f) - 2.5 * math.log10(f / 2.0) ** 2  # eq. (45a)
    lbs = 190.1 + lf + 20.0 * math.log10(dtot) + 0.573 * theta - 0.15 * n0 \
        - 10.125 * math.log10(50.0 / p) ** 0.7  # eq. (44)
    lbc = -5.0 * math.log10(10.0 ** (-0.2 * lbs) + 10.0 ** (-0.2 * lbam))  # eq. (63)
    # ---- §4.8 location variability (outdoor receivers; none at sea), §4.9-4.10
    lloc = 0.0
    if not rx_at_sea:
        lloc = -inv_cum_norm(pl / 100.0) * sigma_l  # eq. (64)
    lb = max(lb0p, lbc + lloc)  # eq. (69)
    ep = 199.36 + 20.0 * math.log10(f) - lb  # eq. (70), 1 kW e.i.r.p.
    out[0] = lb
    out[1] = ep + 10.0 * math.log10(ptx_kw) + gtx + grx
    out[2] = ep
    out[3] = lbfs
    out[4] = lb0p
    out[5] = lb0b
    out[6] = la50
    out[7] = ls50
    out[8] = lsph50
    out[9] = ld50
    out[10] = lab
    out[11] = lsb
    out[12] = lsphb
    out[13] = ldb
    out[14] = ldp
    out[15] = lbd50
    out[16] = lbd
    out[17] = lminb0p
    out[18] = lba
    out[19] = lminbap
    out[20] = lbda
    out[21] = lbam
    out[22] = lbs
    out[23] = lbc
    out[24] = lloc
    out[25] = fi
    out[26] = fj
    out[27] = fk
    return lb


@njit(cache=True)
def _delta_from(lbulla, k, ds_m, h1, h2, ap_km, f, lam, land, sea, flag4):
    """Eq. (39) with L_bulls of the smooth profile in O(1) (``p526._smooth_bullington``)."""
    dtot_km = k * ds_m * 1e-3
    if flag4 == 1:
        lbulls = _bull_att4(dtot_km, h1, h2, ap_km, f, lam)
    else:
        lbulls = _smooth_bullington(k, ds_m, h1, h2, 1.0 / (ap_km * 1000.0), lam)
    ldsph = _spherical_earth(dtot_km, h1, h2, ap_km, lam, land, sea, 0.0)
    return lbulla + max(ldsph - lbulls, 0.0), lbulla, lbulls, ldsph


@njit(cache=True, inline="always")
def _push(hx, hy, hi, m, x, y, idx):
    # upper hull by monotone chain (x increasing), keeping each vertex's profile index
    while m >= 2 and (hx[m - 1] - hx[m - 2]) * (y - hy[m - 2]) - (hy[m - 1] - hy[m - 2]) * (x - hx[m - 2]) >= 0.0:
        m -= 1
    hx[m] = x
    hy[m] = y
    hi[m] = idx
    return m + 1


@njit(cache=True, inline="always")
def _bull_hull(g, k, ds_m, hts, hrs, ce, lam, sa, cx, cy, mc, hint):
    """Bullington loss (eq. (21)) of g[0..k] from the running S_tim maximum ``sa`` (S_tim = sa + C D/2)
    and the upper hull (cx, cy) of (d_i, g_i - C d_i^2 / 2): S_rim is a tangent query from the
    receiver; in line of sight nu_max needs a scan unless the least clearance proves nu <= -0.78.
    Returns (loss, hull hint)."""
    dtot = k * ds_m
    stim = sa + 0.5 * ce * dtot
    s_tr = (hrs - hts) / dtot
    if stim < s_tr:
        slope = s_tr - 0.5 * ce * dtot
        hint = _hull_argmax(cx, cy, mc, slope, 0.0, False, hint)
        cmin = hts - (cy[hint] - slope * cx[hint])
        if cmin * math.sqrt(8.0 / (lam * dtot)) >= 0.78:
            luc = 0.0
        else:
            numax = -np.inf
            for i in range(1, k):
                di = i * ds_m
                nu = (g[i] + 0.5 * ce * di * (dtot - di) - (hts * (dtot - di) + hrs * di) / dtot) \
                    * math.sqrt(2.0 * dtot / (lam * di * (dtot - di)))
                if nu > numax:
                    numax = nu
            luc = knife_edge_loss_db(numax)
    else:
        hq = hrs - 0.5 * ce * dtot * dtot
        hint = _hull_argmax(cx, cy, mc, dtot, hq, True, hint)
        srim = (cy[hint] - hq) / (dtot - cx[hint]) - 0.5 * ce * dtot
        luc = _bullington_point_luc(hts, hrs, stim, srim, dtot, lam)
    return _bullington_from_luc(luc, dtot), hint


@njit(cache=True)
def _radial(h, r, nv, ds_m, htg, hrg, f, p, pol, sphi, cphi, caz, dn, n0, dct, dcr, pl, sigma_l, flag4,
            out, exc):
    """Excess loss over free space at the samples of one radial (see ``radials``).

    The same quantities as ``_profile_core`` on each sub-profile 0..k, organised as a sweep (the
    ideas of ``p526._radial``): what depends only on the intermediate points (smooth-surface sums,
    the transmitter horizon, S_tim) is a running sum or maximum; what depends on the receiver
    (h_obs, alpha_obr, the receiver horizon, S_rim at both radii, h_m) is a support or tangent query
    on an upper hull that grows with the receiver; L_bulls is O(1) on the equally spaced smooth
    profile. Scans remain where the Recommendation asks for the largest nu on a line-of-sight path.
    """
    nsamp = h.shape[0]
    dsk = ds_m * 1e-3
    lam = 0.2998 / f
    ae = 6371.0 * 157.0 / (157.0 - dn)
    ab = 6371.0 * 3.0
    ae_m = ae * 1000.0
    ce_a = 1.0 / ae_m
    ce_b = 1.0 / (ab * 1000.0)
    land = _first_term_freq(f * 1000.0, 22.0, 0.003, pol)
    sea = _first_term_freq(f * 1000.0, 80.0, 5.0, pol)
    kfs = 20.0 * math.log10(4.0 * math.pi * f * 1e9 / 299792458.0)
    rad = math.pi / 180.0
    hts = h[0] + htg
    g = h + r
    g[0] = h[0]
    # hulls: raw terrain (h_obs, alpha_obr), curved terrain (receiver horizon), curved g at both
    # radii (S_rim), raw terrain from the transmitter horizon on (h_m)
    rx_ = np.empty(nsamp)
    ry_ = np.empty(nsamp)
    ri_ = np.empty(nsamp, np.int64)
    tx_ = np.empty(nsamp)
    ty_ = np.empty(nsamp)
    ti_ = np.empty(nsamp, np.int64)
    ax_ = np.empty(nsamp)
    ay_ = np.empty(nsamp)
    ai_ = np.empty(nsamp, np.int64)
    bx_ = np.empty(nsamp)
    by_ = np.empty(nsamp)
    bi_ = np.empty(nsamp, np.int64)
    mx_ = np.empty(nsamp)
    my_ = np.empty(nsamp)
    mi_ = np.empty(nsamp, np.int64)
    mr = 0
    mt = 0
    ma = 0
    mb = 0
    mm = 0
    q_rs = 0
    q_rt = 0
    q_t = 0
    q_a = 0
    q_b = 0
    q_m = 0
    v1 = 0.0
    v2 = 0.0
    tx_max = -np.inf
    lt_tx = 1
    sa_a = -np.inf
    sa_b = -np.inf
    b_max = -np.inf
    exc[0] = np.nan
    for k in range(1, nsamp):
        if k >= nv:
            exc[k] = np.nan
            continue
        dk = k * dsk
        dk1 = (k - 1) * dsk
        dd = dk - dk1
        v1 += dd * (h[k] + h[k - 1])
        v2 += dd * (h[k] * (2.0 * dk + dk1) + h[k - 1] * (dk + 2.0 * dk1))
        if k >= 2:
            i = k - 1
            dim = i * ds_m
            arg = (h[i] - hts) / (1000.0 * dk1) - dk1 / (2.0 * ae)
            if arg > tx_max:
                tx_max = arg
                lt_tx = i
                mm = 0  # h_m looks from the transmitter horizon on
                q_m = 0
            mm = _push(mx_, my_, mi_, mm, dim, h[i], i)
            sa_a = max(sa_a, (g[i] - hts) / dim - 0.5 * ce_a * dim)
            b_max = max(b_max, (h[i] - hts) / dim)
            mr = _push(rx_, ry_, ri_, mr, dim, h[i], i)
            mt = _push(tx_, ty_, ti_, mt, dim, h[i] - 0.5 * ce_a * dim * dim, i)
            ma = _push(ax_, ay_, ai_, ma, dim, g[i] - 0.5 * ce_a * dim * dim, i)
            if p != 50.0:  # the beta_0 radius is read only away from the median time percentage
                sa_b = max(sa_b, (g[i] - hts) / dim - 0.5 * ce_b * dim)
                mb = _push(bx_, by_, bi_, mb, dim, g[i] - 0.5 * ce_b * dim * dim, i)
        if k < 4:
            exc[k] = 0.0
            continue
        D = dk
        Dm = k * ds_m
        hrs = h[k] + hrg
        a = 0.5 * D / 6371.0
        phi = math.asin(sphi * math.cos(a) + cphi * math.sin(a) * caz) / rad
        b0 = beta0(phi, D, D)  # inland everywhere: d_tm = d_lm = d
        hst_n = (2.0 * v1 * D - v2) / (D * D)
        hsr_n = (v2 - v1 * D) / (D * D)
        # ---- smooth surface for diffraction (Att. 1 §5.6.2)
        m_line = (hrs - hts) / Dm
        q_rs = _hull_argmax(rx_, ry_, mr, m_line, 0.0, False, q_rs)
        hobs = ry_[q_rs] - m_line * rx_[q_rs] - hts
        hstp = hst_n
        hsrp = hsr_n
        if hobs > 0.0:
            aobt = b_max - m_line
            q_rt = _hull_argmax(rx_, ry_, mr, Dm, hrs, True, q_rt)
            aobr = (ry_[q_rt] - hrs) / (Dm - rx_[q_rt]) + m_line
            hstp = hst_n - hobs * aobt / (aobt + aobr)
            hsrp = hsr_n - hobs * aobr / (aobt + aobr)
        hstd = min(hstp, h[0])
        hsrd = min(hsrp, h[k])
        # ---- horizons (Att. 1 §5.3-5.5)
        theta_td = 1000.0 * math.atan((hrs - hts) / (1000.0 * D) - D / (2.0 * ae))
        theta_max = 1000.0 * math.atan(tx_max)
        trans = theta_max > theta_td
        if trans:
            theta_t = theta_max
            lt = lt_tx
            cq = hrs - 0.5 * ce_a * Dm * Dm
            q_t = _hull_argmax(tx_, ty_, mt, Dm, cq, True, q_t)
            lr = ti_[q_t]
            rx_max = (ty_[q_t] - cq) / (Dm - tx_[q_t]) - Dm * ce_a
            theta_r = 1000.0 * math.atan(rx_max)
            dlt = lt * dsk
            dlr = D - lr * dsk
        else:
            theta_t = theta_td
            theta_r = 1000.0 * math.atan((hts - hrs) / (1000.0 * D) - D / (2.0 * ae))
            numax = -np.inf
            lt = 1
            for i in range(1, k):
                di = i * dsk
                nu = (h[i] + 500.0 / ae * di * (D - di) - (hts * (D - di) + hrs * di) / D) \
                    * math.sqrt(0.002 * D / (lam * di * (D - di)))
                if nu >= numax:
                    numax = nu
                    lt = i
            dlt = lt * dsk
            dlr = D - dlt
            lr = lt
        theta = 1e3 * D / ae + theta_t + theta_r
        hst = min(hst_n, h[0])
        hsr = min(hsr_n, h[k])
        m = (hsr - hst) / D
        hte = htg + h[0] - hst
        hre = hrg + h[k] - hsr
        hm = -np.inf
        if trans and lr >= lt:
            q_m = _hull_argmax(mx_, my_, mm, m * 1e-3, 0.0, False, q_m)
            if mi_[q_m] <= lr:
                hm = my_[q_m] - m * 1e-3 * mx_[q_m] - hst
            else:
                for i in range(lt, lr + 1):
                    hm = max(hm, h[i] - (hst + m * (i * dsk)))
        elif not trans:
            hm = h[lt] - (hst + m * (lt * dsk))
        # ---- diffraction on the clutter-raised profile (receiver point bare)
        g[k] = h[k]
        h1 = hts - hstd
        h2 = hrs - hsrd
        la, q_a = _bull_hull(g, k, ds_m, hts, hrs, ce_a, lam, sa_a, ax_, ay_, ma, q_a)
        ld50, la50, ls50, lsph50 = _delta_from(la, k, ds_m, h1, h2, ae, f, lam, land, sea, flag4)
        if p != 50.0:
            lb_, q_b = _bull_hull(g, k, ds_m, hts, hrs, ce_b, lam, sa_b, bx_, by_, mb, q_b)
            ldb, lab, lsb, lsphb = _delta_from(lb_, k, ds_m, h1, h2, ab, f, lam, land, sea, flag4)
        else:
            ldb, lab, lsb, lsphb = np.nan, np.nan, np.nan, np.nan
        g[k] = h[k] + r[k]
        lb = _finish(f, p, D, hts, hrs, dlt, dlr, theta_t, theta_r, theta, hte, hre, hm, 0.0, D, b0, ae,
                     dct, dcr, n0, False, pl, sigma_l, 1.0, 0.0, 0.0,
                     ld50, la50, ls50, lsph50, ldb, lab, lsb, lsphb, out)
        dz = hts - hrs
        exc[k] = lb - (kfs + 20.0 * math.log10(math.sqrt(Dm * Dm + dz * dz)))


@njit(cache=True, parallel=True)
def radials(z2d, r2d, nvalid, ds_m, htg, hrg, f, p, pol, phi_site, dn, n0, dct, dcr, pl, sigma_l, flag4,
            nfields, out2d):
    """Excess of the P.1812 loss over free space (dB) at every sample of every radial.

    Sample k of radial j (azimuth 2 pi j / nrad) is a receiver at k * ds_m on the profile of samples
    0..k: ground ``z2d``, clutter heights ``r2d`` (the terminals' own clutter does not raise the
    profile), inland zone, path-centre latitude on a sphere from the site latitude and the azimuth.
    The value is P.1812's L_b minus the free-space loss (P.525) over the same 3-D distance, so that
    the engine, adding free space back at each cell, returns L_b at the samples. Samples 1-3 (a
    profile needs 5 points) are taken as free space; sample 0 is NaN.
    """
    nrad, nsamp = z2d.shape
    rad = math.pi / 180.0
    sphi = math.sin(phi_site * rad)
    cphi = math.cos(phi_site * rad)
    for j in prange(nrad):
        out = np.empty(nfields)
        _radial(z2d[j], r2d[j], nvalid[j], ds_m, htg, hrg, f, p, pol, sphi, cphi, math.cos(2.0 * math.pi * j / nrad),
                dn, n0, dct, dcr, pl, sigma_l, flag4, out, out2d[j])
