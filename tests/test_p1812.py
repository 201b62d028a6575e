"""ITU-R P.1812-7 against the 63 ITU-R SG3 validation cases (field strength and every intermediate
term of the Py1812 logs), input checks, and hypothesis properties."""

from __future__ import annotations

import glob
import math
import os

import numpy as np
import pytest
from _p1812 import read_log, read_measurements, read_meta, read_profile
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage.errors import CoverageWarning, ModelRangeError
from coverage.propagation import p1812
from coverage.propagation.p526 import path_loss_db

BASE = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "reference", "p1812")
PROFILES = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(BASE, "validation_profiles", "*.csv")))

#: Py1812 log label -> result term (the log prints the diffraction components for a_beta)
LOG_TERMS = {
    "dlt (km)": "dlt_km", "dlr (km)": "dlr_km", "th_t (mrad)": "theta_t_mrad", "th_r (mrad)": "theta_r_mrad",
    "th (mrad)": "theta_mrad", "w": "omega", "dtm (km)": "dtm_km", "dlm (km)": "dlm_km",
    "phi (deg)": "phi_path_deg", "b0 (%)": "b0_percent", "ae (km)": "ae_km", "hst (m)": "hst_m",
    "hsr (m)": "hsr_m", "hstd (m)": "hstd_m", "hsrd (m)": "hsrd_m", "hte (m)": "hte_m", "hre (m)": "hre_m",
    "hm (m)": "hm_m", "Fi": "fi", "Fj": "fj", "Fk": "fk", "Lbfs": "lbfs_db", "Lb0p": "lb0p_db",
    "Lb0b": "lb0b_db", "Lbulla (dB)": "lbulla_b_db", "Lbulls (dB)": "lbulls_b_db", "Ldsph (dB)": "ldsph_b_db",
    "Ld50 (dB)": "ld50_db", "Ldb (dB)": "ldb_db", "Ldp (dB)": "ldp_db", "Lbd50 (dB)": "lbd50_db",
    # Py1812 binds Lbda to the Lbd array and then modifies it in place (eq. (61)), so its log prints
    # L_bda under the L_bd label; L_bd itself is checked against eq. (43) below
    "Lbd (dB)": "lbda_db", "Lminb0p (dB)": "lminb0p_db", "Lba (dB)": "lba_db", "Lminbap (dB)": "lminbap_db",
    "Lbda (dB)": "lbda_db", "Lbam (dB)": "lbam_db", "Lbs (dB)": "lbs_db", "Lbc (dB)": "lbc_db",
    "Lb (dB)": "lb_db", "Ep (dBuV/m)": "ep_1kw_dbuv_m",
}


def _cases(shared_file, name):
    prof = shared_file(f"reference/p1812/validation_profiles/{name}.csv")
    d, h, r, z = read_profile(prof)
    meta = read_meta(prof)
    for i, m in enumerate(read_measurements(prof)):
        res = p1812.bt_loss(m["freq_ghz"], m["p_percent"], d, h, r, z, m["htg_m"], m["hrg_m"], m["pol"],
                            meta["phi_t"], meta["phi_r"], meta["lam_t"], meta["lam_r"], ptx_kw=m["ptx_kw"],
                            dn=meta["dn"], n0=meta["n0"], dct_km=0 if z[0] == 1 else 500,
                            dcr_km=0 if z[-1] == 1 else 500)
        yield i, m, res


@pytest.mark.parametrize("name", PROFILES or ["<missing>"])
def test_validation_cases_and_logs(shared_file, name):
    n = 0
    for i, m, res in _cases(shared_file, name):
        # the profile files print Ep and Lb with 8 decimals
        assert res.ep_dbuv_m == pytest.approx(m["ep"], abs=1e-7), (name, i)
        assert res.lb_db == pytest.approx(m["lb"], abs=1e-7), (name, i)
        log = read_log(shared_file(f"reference/p1812/validation_results/{name}_{i}_log.csv"))
        for label, term in LOG_TERMS.items():
            # the logs print 10 significant digits
            assert getattr(res, term) == pytest.approx(log[label], rel=2e-9, abs=1e-9), (name, i, label)
        assert res.lbd_db == pytest.approx(log["Lb0p"] + log["Ldp (dB)"], rel=2e-9)
        n += 1
    assert n >= 3


def test_all_63_cases_present(shared_file):
    names = glob.glob(str(shared_file("reference/p1812/validation_results")) + "/*_log.csv")
    assert len(names) == 63


def _flat(n=51, dist_km=10.0, height=100.0):
    d = np.linspace(0, dist_km, n)
    return d, np.full(n, height)


def _call(d, h, **kw):
    args = dict(freq_ghz=0.9, p_percent=50, d_km=d, h_m=h, r_m=None, zone=None, htg_m=30, hrg_m=1.5, pol="v",
                phi_t_deg=0.5, phi_r_deg=0.55, lam_t_deg=117.0, lam_r_deg=117.05, dn=45, n0=325)
    args.update(kw)
    return p1812.bt_loss(**args)


@pytest.mark.parametrize("kw, name", [
    ({"freq_ghz": 0.02}, "freq_ghz"), ({"freq_ghz": 6.5}, "freq_ghz"), ({"p_percent": 0.5}, "p_percent"),
    ({"p_percent": 60}, "p_percent"), ({"htg_m": 0.5}, "htg_m"), ({"hrg_m": 4000}, "hrg_m"),
    ({"pol": "c"}, "pol"), ({"pl_percent": 100}, "pl_percent"), ({"sigma_l_db": -1}, "sigma_l_db"),
    ({"flag4": 2}, "flag4"), ({"zone": 2}, "zone"), ({"r_m": -1.0}, "r_m"), ({"ptx_kw": 0}, "ptx_kw"),
])
def test_out_of_range_names_parameter(kw, name):
    d, h = _flat()
    with pytest.raises(ModelRangeError, match=name):
        _call(d, h, **kw)


def test_bad_profiles():
    d, h = _flat()
    with pytest.raises(ModelRangeError, match="at least 5"):
        _call(d[:4], h[:4])
    with pytest.raises(ModelRangeError, match="start at 0"):
        _call(d + 1, h)
    with pytest.raises(ModelRangeError, match="increase"):
        dd = d.copy()
        dd[5] = dd[4]
        _call(dd, h)
    with pytest.raises(ModelRangeError, match="h_m"):
        _call(d, h[:-1])
    hh = h.copy()
    hh[3] = np.nan
    with pytest.raises(ModelRangeError, match="NaN"):
        _call(d, hh)


def test_equatorial_defaults_are_said():
    d, h = _flat()
    with pytest.warns(CoverageWarning, match="equatorial"):
        res = _call(d, h, dn=None, n0=None)
    assert len(res.defaults_used) == 2
    assert res.dn == p1812.EQUATORIAL_DN and res.n0 == p1812.EQUATORIAL_N0
    assert _call(d, h).defaults_used == ()


def test_flat_los_is_free_space_plus_little():
    """A short line-of-sight path over flat ground at 50 %: close to free space (P.1812 eq. (8))."""
    d, h = _flat(n=101, dist_km=2.0)
    res = _call(d, h, htg_m=40, hrg_m=10)
    assert not res.transhorizon
    assert res.lb_db == pytest.approx(res.lbfs_db, abs=1.0)


def test_location_variability_shifts_by_sigma():
    d, h = _flat()
    a = _call(d, h, pl_percent=50, sigma_l_db=5.5)
    b = _call(d, h, pl_percent=10, sigma_l_db=5.5)
    # I(0.1) = -1.2816 -> 7.05 dB less loss, unless the LoS floor L_b0p takes over
    assert b.lb_db == pytest.approx(max(a.lb0p_db, a.lb_db - 1.28155 * 5.5), abs=2e-3)


def test_clutter_raises_loss_under_trees():
    rng = np.random.default_rng(3)
    d = np.linspace(0, 8, 81)
    h = 50 + rng.normal(0, 5, d.size)
    bare = _call(d, h, r_m=0.0)
    trees = _call(d, h, r_m=20.0)
    assert trees.lb_db > bare.lb_db + 3.0


def test_close_to_p526_without_clutter_at_50_percent():
    """No clutter, 50 % time, diffraction path: P.1812 = free space + the same delta-Bullington as P.526
    plus the small ducting/troposcatter blend; the difference stays within a few dB."""
    d = np.linspace(0, 15, 151)
    h = 100 + 80 * np.exp(-((d - 7) / 1.5) ** 2)
    res = _call(d, h, freq_ghz=0.9, htg_m=30, hrg_m=1.5)
    lp = path_loss_db(d * 1e3, h, h_tx_m=30, h_rx_m=1.5, freq_mhz=900, k_factor=157 / (157 - 45))
    assert res.transhorizon
    assert abs(res.lb_db - lp) < 3.0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), f=st.floats(0.03, 6.0), p=st.floats(1, 50), dist=st.floats(1, 60),
       r=st.floats(0, 30))
def test_properties(seed, f, p, dist, r):
    """Finite; not below the LoS floor L_b0p; E and L_b related by eq. (70); more time -> no less loss."""
    rng = np.random.default_rng(seed)
    n = 60
    d = np.linspace(0, dist, n)
    h = np.cumsum(rng.normal(0, 10, n)) + 200
    res = _call(d, h, freq_ghz=f, p_percent=p, r_m=r)
    assert math.isfinite(res.lb_db)
    assert res.lb_db >= res.lb0p_db - 1e-9
    assert res.ep_1kw_dbuv_m == pytest.approx(199.36 + 20 * math.log10(f) - res.lb_db, abs=1e-9)
    more = _call(d, h, freq_ghz=f, p_percent=min(50.0, p * 2), r_m=r)
    assert more.lb_db >= res.lb_db - 1e-6


def test_public_module_paths():
    import coverage.p1812 as a
    import coverage.p2108 as b

    import coverage

    assert a is p1812 and coverage.p1812 is p1812
    assert b is coverage.p2108 and hasattr(b, "height_gain_correction_db")
