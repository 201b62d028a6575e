"""Terrain diffraction model: knife edge, Bullington, delta-Bullington against the ITU-R P.1812
validation logs, and the incremental radial sweep against the exact per-profile method."""

from __future__ import annotations

import glob
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from coverage.errors import InputError
from coverage.propagation import diffraction_loss_db, knife_edge_loss_db
from coverage.propagation._kernels.p526 import delta_bullington_split
from coverage.propagation.p526 import P526_MODEL, path_loss_db

from _p1812 import read_log, read_profile


def test_knife_edge_formula_p526_eq31():
    nu = np.array([-1.0, -0.78, -0.5, 0.0, 0.5, 1.0, 2.4, 5.0])
    expect = np.where(nu > -0.78, 6.9 + 20 * np.log10(np.sqrt((nu - 0.1) ** 2 + 1) + nu - 0.1), 0.0)
    assert np.allclose(knife_edge_loss_db(nu), expect, atol=1e-12)
    # grazing incidence: J(0) = 6.03 dB (P.526-15 Fig. 9)
    assert knife_edge_loss_db(0.0) == pytest.approx(6.03, abs=0.01)


def _knife_edge_profile(h_edge, n=401, d_total=10_000.0):
    d = np.linspace(0.0, d_total, n)
    h = np.zeros(n)
    h[n // 2] = h_edge
    return d, h


@pytest.mark.parametrize("h_edge", [20.0, 40.0, 80.0, 150.0])
def test_single_knife_edge_matches_j_of_nu(h_edge):
    # Flat earth (k -> huge), one edge at mid-path: Bullington reduces to J(nu) of that edge plus
    # P.1812 eq. (21)'s correction term.
    d, h = _knife_edge_profile(h_edge)
    f = 900.0
    lam = 299.792458 / f
    hts = hrs = 10.0
    dt = d[-1]
    d1 = d[len(d) // 2]
    clearance = h_edge - hts  # line of sight at 10 m
    nu = clearance * math.sqrt(2 * dt / (lam * d1 * (dt - d1)))
    j = 6.9 + 20 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1) + nu - 0.1)
    expect = j + (1 - math.exp(-j / 6)) * (10 + 0.02 * dt / 1000)
    ld, la, ls, lsph = diffraction_loss_db(d, h, h_tx_m=hts, h_rx_m=hrs, freq_mhz=f, k_factor=1e9,
                                           components=True)
    assert la == pytest.approx(expect, abs=1e-6)
    # the delta-Bullington correction (smooth-earth terms, eq. (39)) is non-negative and small here
    assert 0.0 <= ld - la < 0.5


def test_flat_earth_short_path_is_line_of_sight():
    d = np.linspace(0, 2000.0, 101)
    h = np.zeros_like(d)
    # antennas clear of the first Fresnel zone: no diffraction at all
    assert diffraction_loss_db(d, h, h_tx_m=30, h_rx_m=15, freq_mhz=900) == 0.0
    # a 1.5 m receiver has the ground inside its Fresnel zone: some loss, but never beyond grazing
    # incidence (J(0) = 6 dB), since the ray itself clears the ground
    ld = diffraction_loss_db(d, h, h_tx_m=30, h_rx_m=1.5, freq_mhz=900)
    assert 0.0 < ld < 6.03


def test_curved_earth_adds_loss_beyond_the_radio_horizon():
    # On a smooth sphere (k = 4/3) with 30 m and 1.5 m antennas, the radio horizon is
    # sqrt(2 a h1) + sqrt(2 a h2) = 22.6 + 5.0 km: loss rises with distance and is large beyond.
    losses = []
    for dist in (5e3, 15e3, 25e3, 35e3, 45e3):
        d = np.linspace(0, dist, 201)
        losses.append(diffraction_loss_db(d, np.zeros_like(d), h_tx_m=30, h_rx_m=1.5, freq_mhz=900))
    assert np.all(np.diff(losses) > 0)
    assert losses[-1] > 20


def test_bad_profiles_raise():
    d = np.linspace(0, 1000, 11)
    with pytest.raises(InputError):
        diffraction_loss_db(d, np.zeros(10), h_tx_m=10, h_rx_m=2, freq_mhz=900)
    with pytest.raises(InputError):
        diffraction_loss_db(d[::-1], np.zeros(11), h_tx_m=10, h_rx_m=2, freq_mhz=900)
    with pytest.raises(InputError):
        diffraction_loss_db(d, np.full(11, np.nan), h_tx_m=10, h_rx_m=2, freq_mhz=900)
    with pytest.raises(InputError):
        diffraction_loss_db(d, np.zeros(11), h_tx_m=-1, h_rx_m=2, freq_mhz=900)
    with pytest.raises(ValueError):  # the package's errors are ValueErrors too
        diffraction_loss_db(d, np.zeros(11), h_tx_m=10, h_rx_m=2, freq_mhz=900, pol="circular")


def _p1812_cases():
    base = os.path.join(os.environ.get("COVERAGE_SHARED_DATA", os.path.join(
        os.path.dirname(__file__), "..", "..", "shared", "data")), "reference", "p1812")
    logs = sorted(glob.glob(os.path.join(base, "validation_results", "*_0_log.csv")))
    return [os.path.basename(p) for p in logs] or ["<missing>"]


@pytest.mark.parametrize("log_name", _p1812_cases())
def test_delta_bullington_matches_p1812_validation_logs(shared_file, log_name):
    """Every ITU-R SG3 / Py1812 validation case: L_d at 50 % (a_e) and at beta_0 (a_beta = 3 x 6371
    km), and the terms L_bulla, L_bulls, L_dsph of eq. (39), to 0.001 dB."""
    log = read_log(shared_file(f"reference/p1812/validation_results/{log_name}"))
    name = log_name.rsplit("_", 2)[0]
    d_km, h, r, _zone = read_profile(shared_file(f"reference/p1812/validation_profiles/{name}.csv"))
    g = h + r
    g[0], g[-1] = h[0], h[-1]
    hts, hrs = h[0] + log["htg (m)"], h[-1] + log["hrg (m)"]
    # P.1812 uses lambda = 0.2998 / f(GHz); our kernels use c = 299.792458 m/us
    f_mhz = log["f (GHz)"] * 1000 * (0.299792458 / 0.2998)
    pol = 1 if log["pol"] == 2 else 0
    omega = log.get("w", 0.0)
    ld50, *_ = delta_bullington_split(d_km * 1e3, h, g, hts, hrs, log["ae (km)"] * 1e3, f_mhz, 22.0,
                                      0.003, pol, omega)
    ldb, la, ls, lsph = delta_bullington_split(d_km * 1e3, h, g, hts, hrs, 3 * 6371e3, f_mhz, 22.0,
                                               0.003, pol, omega)
    assert ld50 == pytest.approx(log["Ld50 (dB)"], abs=1e-3)
    assert ldb == pytest.approx(log["Ldb (dB)"], abs=1e-3)
    assert la == pytest.approx(log["Lbulla (dB)"], abs=1e-3)
    assert ls == pytest.approx(log["Lbulls (dB)"], abs=1e-3)
    assert lsph == pytest.approx(log["Ldsph (dB)"], abs=1e-3)


def test_path_loss_is_free_space_plus_diffraction():
    d = np.linspace(0, 8000.0, 81)
    h = 100 + 60 * np.sin(d / 900.0)
    ld = diffraction_loss_db(d, h, h_tx_m=25, h_rx_m=1.5, freq_mhz=1800)
    d3 = math.hypot(8000.0, (h[0] + 25) - (h[-1] + 1.5))
    fs = 20 * math.log10(4 * math.pi * d3 * 1800e6 / 299792458.0)
    assert path_loss_db(d, h, h_tx_m=25, h_rx_m=1.5, freq_mhz=1800) == pytest.approx(fs + ld, abs=1e-9)


# ------------------------------------------------------------------ radial sweep vs exact
def _radials_both(z2d, ds, h_tx, h_rx, f, k=4.0 / 3.0):
    nvalid = np.full(z2d.shape[0], z2d.shape[1], dtype=np.int64)
    fast = P526_MODEL.radial_excess_db(z2d, nvalid, ds, freq_mhz=f, h_tx_m=h_tx, h_rx_m=h_rx, k_factor=k)
    exact = P526_MODEL.radial_excess_db(z2d, nvalid, ds, freq_mhz=f, h_tx_m=h_tx, h_rx_m=h_rx, k_factor=k,
                                        exact=True)
    return fast, exact


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    rough=st.sampled_from([0.0, 2.0, 20.0, 150.0]),
    h_tx=st.floats(1.0, 80.0),
    h_rx=st.floats(1.0, 10.0),
    f=st.sampled_from([150.0, 900.0, 1800.0, 3500.0]),
    ds=st.sampled_from([30.0, 90.0, 250.0]),
)
def test_incremental_sweep_equals_exact_per_profile(seed, rough, h_tx, h_rx, f, ds):
    rng = np.random.default_rng(seed)
    n = 120
    # random walk terrain with a trend, plus occasional spikes
    z = np.cumsum(rng.normal(0, rough, size=(3, n)), axis=1) + rng.uniform(-50, 400)
    z += rng.uniform(-1, 1) * np.arange(n) * rough * 0.2
    fast, exact = _radials_both(z, ds, h_tx, h_rx, f)
    assert np.isnan(fast[:, 0]).all()
    np.testing.assert_allclose(fast[:, 1:], exact[:, 1:], atol=1e-6, rtol=1e-9)


def test_incremental_sweep_flat_and_ridge():
    n = 400
    z = np.zeros((2, n))
    z[1, 150:160] = 120.0  # a ridge
    fast, exact = _radials_both(z, 75.0, 30.0, 1.5, 900.0)
    np.testing.assert_allclose(fast[:, 1:], exact[:, 1:], atol=1e-6)
    # behind the ridge the loss jumps; on flat ground it grows smoothly beyond the horizon
    assert fast[1, 170] > fast[0, 170] + 15
