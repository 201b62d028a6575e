"""ITM (Longley-Rice) against the NTIA reference vectors, input checks and model properties."""

from __future__ import annotations

import csv
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import coverage.itm as itm
from coverage.errors import ModelRangeError, ModelRangeWarning
from coverage.propagation._kernels import itm as kernels

REF = "reference/itm/"
HYP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------------------------
# reference data readers
# ------------------------------------------------------------------------------------------------
def _read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _read_pfls(path):
    out = []
    with open(path) as fh:
        for line in fh:
            if line.strip():
                vals = [float(v) for v in line.split(",") if v.strip()]
                out.append((int(vals[0]), vals[1], np.array(vals[2:])))
    return out


def _read_inputs(path):
    """NTIA driver input file: ``key,value[,value...]`` per line."""
    out = {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            key, *vals = [v.strip() for v in line.split(",")]
            out[key] = [float(v) for v in vals]
    return out


def _read_report(path):
    """NTIA driver report: scalar entries as (value, decimals) and the loss table if any."""
    text = Path(path).read_text()
    vals = {}
    for line in text.splitlines():
        m = re.match(r"^(\S.*?)\s{2,}(-?0x[0-9A-Fa-f]+|-?\d+(?:\.\d+)?)\b", line)
        if m:
            raw = m.group(2)
            dec = len(raw.split(".")[1]) if "." in raw else 0
            vals[m.group(1).strip()] = (int(raw, 16) if raw.startswith("0x") else float(raw), dec)
    table = []
    if "Basic Transmission Loss Results" in text:
        for line in text.split("Basic Transmission Loss Results")[1].splitlines()[3:]:
            if not line.strip() or line.startswith("Intermediate"):
                break
            table.append([float(v) for v in line.split()])
    return vals, table


def _cmd(shared_file, name):
    base = f"{REF}cmd_examples/"
    return (_read_inputs(shared_file(base + f"i_{name}.txt")),
            *_read_report(shared_file(base + f"o_{name}.txt")))


def _cmd_profile(shared_file):
    vals = [float(v) for v in
            Path(shared_file(REF + "cmd_examples/pfl.txt")).read_text().replace("\n", "").split(",")
            if v.strip()]
    assert len(vals) == int(vals[0]) + 3
    return np.array(vals[2:]), vals[1]


def _close(ours, printed, decimals, what):
    """Within the printed precision: half a unit of the last printed digit."""
    tol = 0.5 * 10.0 ** (-decimals) + 1e-9
    assert abs(ours - printed) <= tol, f"{what}: ours {ours!r}, printed {printed} (+-{tol})"


def _check_intermediates(res, vals):
    pairs = {
        "Free Space": res.free_space_loss_db, "d__km": res.d_km,
        "theta_hzn_tx": res.theta_hzn_rad[0] * 1e3, "theta_hzn_rx": res.theta_hzn_rad[1] * 1e3,
        "d_hzn_tx__meter": res.d_hzn_m[0], "d_hzn_rx__meter": res.d_hzn_m[1],
        "h_e_tx__meter": res.h_e_m[0], "h_e_rx__meter": res.h_e_m[1], "N_s": res.n_s,
        "delta_h__meter": res.delta_h_m, "A_ref__db": res.a_ref_db,
    }
    for key, ours in pairs.items():
        printed, dec = vals[key]
        _close(ours, printed, dec, key)
    assert res.mode == vals["Mode of Propagation"][0]
    assert res.warnings == vals["ITM Warning Flags"][0]


def _radio(inp):
    return dict(h_tx_m=inp["h_tx__meter"][0], h_rx_m=inp["h_rx__meter"][0],
                climate=int(inp["climate"][0]), n0=inp["N_0"][0], freq_mhz=inp["f__mhz"][0],
                pol=int(inp["pol"][0]), epsilon=inp["epsilon"][0], sigma=inp["sigma"][0],
                mdvar=int(inp["mdvar"][0]))


def _area_radio(inp):
    r = _radio(inp)
    r.update(tx_siting=int(inp["tx_site_criteria"][0]), rx_siting=int(inp["rx_site_criteria"][0]))
    return r


# ------------------------------------------------------------------------------------------------
# NTIA reference vectors
# ------------------------------------------------------------------------------------------------
@pytest.mark.shared
@pytest.mark.parametrize("row", range(5))
def test_p2p_csv(shared_file, row):
    case = _read_csv(shared_file(REF + "p2p.csv"))[row]
    np_, step, z = _read_pfls(shared_file(REF + "pfls.csv"))[row]
    assert z.shape[0] == np_ + 1
    g = lambda k: float(case[k])  # noqa: E731
    res = itm.p2p(z, step, h_tx_m=g("h_tx__meter"), h_rx_m=g("h_rx__meter"),
                  freq_mhz=g("f__mhz"), climate=int(g("climate")), n0=g("N_0"),
                  pol=int(g("pol")), epsilon=g("epsilon"), sigma=g("sigma"),
                  mdvar=int(g("mdvar")), time=g("time"), location=g("location"),
                  situation=g("situation"))
    # A__db is printed with 2 decimals: within half a unit of the last digit (stricter than 0.05)
    assert abs(res.loss_db - g("A__db")) <= 0.005 + 1e-9
    assert res.mode in (1, 2, 3)
    assert math.isclose(res.d_km, np_ * step / 1e3)


@pytest.mark.shared
def test_p2p_csv_batch_matches_single(shared_file):
    cases = _read_csv(shared_file(REF + "p2p.csv"))
    pfls = _read_pfls(shared_file(REF + "pfls.csv"))
    col = lambda k: np.array([float(c[k]) for c in cases])  # noqa: E731
    res = itm.p2p_batch([p[2] for p in pfls], None, [p[1] for p in pfls],
                        h_tx_m=col("h_tx__meter"), h_rx_m=col("h_rx__meter"),
                        freq_mhz=col("f__mhz"), climate=col("climate"), n0=col("N_0"),
                        pol=col("pol"), epsilon=col("epsilon"), sigma=col("sigma"),
                        mdvar=col("mdvar"), time=col("time"), location=col("location"),
                        situation=col("situation"))
    np.testing.assert_allclose(res.loss_db, col("A__db"), atol=0.005 + 1e-9)
    assert res.loss_db.shape == (5,) and res.theta_hzn_rad[0].shape == (5,)


@pytest.mark.shared
@pytest.mark.parametrize("row", range(5))
def test_area_csv(shared_file, row):
    case = _read_csv(shared_file(REF + "area.csv"))[row]
    g = lambda k: float(case[k])  # noqa: E731
    res = itm.area(g("d__km"), g("delta_h__meter"), h_tx_m=g("h_tx__meter"),
                   h_rx_m=g("h_rx__meter"), tx_siting=int(g("tx_siting_criteria")),
                   rx_siting=int(g("rx_siting_criteria")), freq_mhz=g("f__mhz"),
                   climate=int(g("climate")), n0=g("N_0"), pol=int(g("pol")),
                   epsilon=g("epsilon"), sigma=g("sigma"), mdvar=int(g("mdvar")),
                   time=g("time"), location=g("location"), situation=g("situation"))
    assert abs(res.loss_db - g("A__db")) <= 0.05 + 1e-9  # printed with 1 decimal


@pytest.mark.shared
def test_cmd_p2p_tls(shared_file):
    inp, vals, _ = _cmd(shared_file, "p2ptls")
    z, step = _cmd_profile(shared_file)
    res = itm.p2p(z, step, **_radio(inp), time=inp["time"][0], location=inp["location"][0],
                  situation=inp["situation"][0])
    _close(res.loss_db, *vals["Basic Transmission Loss"], "loss")
    _check_intermediates(res, vals)


@pytest.mark.shared
def test_cmd_p2p_cr(shared_file):
    inp, vals, _ = _cmd(shared_file, "p2pcr")
    z, step = _cmd_profile(shared_file)
    res = itm.p2p(z, step, **_radio(inp), confidence=inp["confidence"][0],
                  reliability=inp["reliability"][0])
    _close(res.loss_db, *vals["Basic Transmission Loss"], "loss")
    _check_intermediates(res, vals)


@pytest.mark.shared
def test_cmd_p2p_cr_table(shared_file):
    inp, vals, table = _cmd(shared_file, "p2pcr_tbl")
    z, step = _cmd_profile(shared_file)
    assert len(table) == len(inp["reliability"])
    for rel, row in zip(inp["reliability"], table):
        assert row[0] == rel
        for conf, printed in zip(inp["confidence"], row[1:]):
            res = itm.p2p(z, step, **_radio(inp), confidence=conf, reliability=rel)
            _close(res.loss_db, printed, 1, f"loss rel={rel} conf={conf}")
    _check_intermediates(res, vals)


@pytest.mark.shared
def test_cmd_area_tls(shared_file):
    inp, vals, _ = _cmd(shared_file, "areatls")
    res = itm.area(inp["d__km"][0], inp["delta_h__meter"][0], **_area_radio(inp),
                   time=inp["time"][0], location=inp["location"][0],
                   situation=inp["situation"][0])
    _close(res.loss_db, *vals["Basic Transmission Loss"], "loss")
    _check_intermediates(res, vals)


@pytest.mark.shared
def test_cmd_area_cr(shared_file):
    inp, vals, _ = _cmd(shared_file, "areacr")
    res = itm.area(inp["d__km"][0], inp["delta_h__meter"][0], **_area_radio(inp),
                   confidence=inp["confidence"][0], reliability=inp["reliability"][0])
    _close(res.loss_db, *vals["Basic Transmission Loss"], "loss")
    _check_intermediates(res, vals)


@pytest.mark.shared
def test_cmd_area_cr_table(shared_file):
    inp, vals, table = _cmd(shared_file, "areacr_tbl")
    start, stop, step, stop2, step2 = inp["d__km"]  # NTIA driver: two ranges of distances
    d = np.r_[np.arange(start, stop + 1e-9, step), np.arange(stop + step2, stop2 + 1e-9, step2)]
    assert [row[0] for row in table] == list(d)
    for j, conf in enumerate(inp["confidence"]):
        res = itm.area(d, inp["delta_h__meter"][0], **_area_radio(inp), confidence=conf,
                       reliability=inp["reliability"][0])
        for i, row in enumerate(table):
            _close(res.free_space_loss_db[i], row[1], 1, f"free space d={row[0]}")
            _close(res.loss_db[i], row[2 + j], 1, f"loss d={row[0]} conf={conf}")
    assert vals["ITM Warning Flags"][0] == int(np.bitwise_or.reduce(res.warnings))


@pytest.mark.shared
def test_crystal_palace_mursley(shared_file):
    case = json.loads(Path(shared_file(REF + "crystal_palace_mursley_itm_p2p.json")).read_text())
    z = np.array(case["profile_elevation_m_tx_to_rx"], dtype=float)
    inp = case["inputs"]
    assert z.shape[0] == case["profile_num_points"]
    for exp in case["expected_basic_transmission_loss_dB"]:
        # the itmlogic test sets the system elevation to 0 (N_s = N_0 = 314)
        res = itm.p2p(z, case["profile_spacing_m"], h_tx_m=inp["h_tx_m"], h_rx_m=inp["h_rx_m"],
                      freq_mhz=inp["f_mhz"], epsilon=inp["eps_r"], sigma=inp["sigma_S_per_m"],
                      pol=0, climate=inp["climate"], n0=inp["N_s0_N_units"],
                      mdvar=inp["mdvar"], h_sys_m=0.0, reliability=exp["reliability_pct"],
                      confidence=exp["confidence_pct"])
        assert abs(res.loss_db - exp["loss_dB"]) <= 0.05, exp
        assert res.n_s == inp["N_s0_N_units"]


# ------------------------------------------------------------------------------------------------
# results, warnings, batches
# ------------------------------------------------------------------------------------------------
def _hill(n=401, step=100.0, top=150.0):
    x = np.linspace(-1, 1, n)
    return 100.0 + top * np.exp(-(x / 0.15) ** 2), step


def test_result_fields_and_modes():
    z, step = _hill()
    res = itm.p2p(z, step, h_tx_m=10, h_rx_m=2, freq_mhz=900)
    # ITM's mode compares the distance with the smooth-earth horizons of the effective heights
    assert res.mode == 2 and res.mode_name == "diffraction"
    assert res.loss_db > res.free_space_loss_db + 10  # a 150 m hill in the way
    assert res.d_km == pytest.approx(40.0)
    assert res.d_hzn_m[0] == pytest.approx(20000.0, abs=3 * step)  # horizons near the hill top
    assert res.d_hzn_m[1] == pytest.approx(20000.0, abs=3 * step)
    assert isinstance(res.warnings, int) and res.warning_names == ()
    flat = itm.p2p(np.full(101, 50.0), 100.0, h_tx_m=30, h_rx_m=10, freq_mhz=900)
    assert flat.mode == 1 and flat.delta_h_m == 0.0
    far = itm.p2p(np.zeros(401), 1000.0, h_tx_m=30, h_rx_m=10, freq_mhz=900)
    assert far.mode == 3 and far.mode_name == "troposcatter"
    with pytest.raises(AttributeError):
        res.loss_db = 0.0  # frozen


def test_warnings_reported_and_issued_on_request():
    z = np.full(11, 10.0)  # 500 m path: below 1 km
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = itm.p2p(z, 50.0, h_tx_m=0.8, h_rx_m=2, freq_mhz=30)
    assert res.warnings & 0x0001 and res.warnings & 0x0004 and res.warnings & 0x0040
    assert {"TX_TERMINAL_HEIGHT", "FREQUENCY", "PATH_DISTANCE_TOO_SMALL_2"} <= set(
        res.warning_names)
    with pytest.warns(ModelRangeWarning, match="frequency outside 40-10,000 MHz"):
        itm.p2p(z, 50.0, h_tx_m=0.8, h_rx_m=2, freq_mhz=30, warn=True)
    with pytest.warns(ModelRangeWarning):
        itm.area([0.5, 10.0], 10.0, h_tx_m=10, h_rx_m=2, freq_mhz=900, warn=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        itm.p2p(np.full(101, 10.0), 100.0, h_tx_m=10, h_rx_m=2, freq_mhz=900, warn=True)


def test_extreme_variability_warning():
    z, step = _hill()
    res = itm.p2p(z, step, h_tx_m=10, h_rx_m=2, freq_mhz=900, confidence=99.95,
                  reliability=50)
    assert "EXTREME_VARIABILITIES" in res.warning_names


def test_batch_matches_single_and_ragged():
    rng = np.random.default_rng(0)
    profiles = [200 + np.cumsum(rng.normal(0, 5, n)) for n in (2, 3, 57, 300)]
    steps = [30.0, 90.0, 75.5, 120.0]
    batch = itm.p2p_batch(profiles, None, steps, h_tx_m=[30, 10, 5, 50], h_rx_m=1.5,
                          freq_mhz=[100, 900, 1800, 3500], mdvar=[0, 1, 2, 13])
    for j, (p, s) in enumerate(zip(profiles, steps)):
        one = itm.p2p(p, s, h_tx_m=[30, 10, 5, 50][j], h_rx_m=1.5,
                      freq_mhz=[100, 900, 1800, 3500][j], mdvar=[0, 1, 2, 13][j])
        assert batch.loss_db[j] == one.loss_db
        assert batch.h_e_m[1][j] == one.h_e_m[1] and batch.mode[j] == one.mode
    # 2-D array with n_points: trailing values ignored
    grid = np.full((2, 300), 1e4)
    grid[0, :57] = profiles[2]
    grid[1, :] = profiles[3]
    b2 = itm.p2p_batch(grid, [57, 300], [75.5, 120.0], h_tx_m=[5, 50], h_rx_m=1.5,
                       freq_mhz=[1800, 3500], mdvar=[2, 13])
    np.testing.assert_array_equal(b2.loss_db, batch.loss_db[2:])


def test_area_array_matches_scalars():
    d = np.array([1.0, 5.0, 50.0, 300.0])
    arr = itm.area(d, 90.0, h_tx_m=30, h_rx_m=1.5, freq_mhz=900, tx_siting=1, rx_siting=2)
    for i, dk in enumerate(d):
        one = itm.area(float(dk), 90.0, h_tx_m=30, h_rx_m=1.5, freq_mhz=900, tx_siting=1,
                       rx_siting=2)
        assert arr.loss_db[i] == one.loss_db and arr.mode[i] == one.mode
    assert arr.loss_db.shape == (4,)
    assert np.all(np.diff(arr.loss_db) > 0)


# ------------------------------------------------------------------------------------------------
# input checks: every NTIA error code that a caller can trigger
# ------------------------------------------------------------------------------------------------
GOOD = dict(h_tx_m=30.0, h_rx_m=1.5, freq_mhz=900.0, climate=5, n0=301.0, pol=1, epsilon=15.0,
            sigma=0.005, mdvar=12, time=50.0, location=50.0, situation=50.0)
BAD = [
    ("h_tx_m", 0.4, "1000", "0.5 <= h_tx_m <= 3000"), ("h_tx_m", 3001.0, "1000", "h_tx_m"),
    ("h_rx_m", 0.0, "1001", "0.5 <= h_rx_m <= 3000"), ("h_rx_m", math.nan, "1001", "h_rx_m"),
    ("climate", 0, "1002", "1..7"), ("climate", 8, "1002", "climate"),
    ("time", 0.0, "1003", "0 < time < 100"), ("time", 100.0, "1003", "time"),
    ("location", 0.0, "1004", "0 < location < 100"), ("location", 100.0, "1004", "location"),
    ("situation", 0.0, "1005", "0 < situation < 100"), ("situation", 120.0, "1005", "situation"),
    ("n0", 249.0, "1008", "250 <= n0 <= 400"), ("n0", 401.0, "1008", "n0"),
    ("freq_mhz", 19.9, "1009", "20 <= freq_mhz <= 20,000"), ("freq_mhz", 20001.0, "1009", "freq"),
    ("pol", 2, "1010", "pol is 0"), ("epsilon", 0.5, "1011", "epsilon >= 1"),
    ("sigma", 0.0, "1012", "sigma > 0"), ("mdvar", 4, "1014", "mdvar"),
    ("mdvar", 19, "1014", "mdvar"), ("mdvar", -1, "1014", "mdvar"), ("mdvar", 34, "1014", "mdvar"),
]


@pytest.mark.parametrize("name,value,code,text", BAD)
def test_input_errors_p2p(name, value, code, text):
    z, step = _hill(51)
    with pytest.raises(ModelRangeError, match=re.escape(text)) as err:
        itm.p2p(z, step, **{**GOOD, name: value})
    assert f"NTIA error {code}" in str(err.value) and name in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("name,value,code,text", BAD)
def test_input_errors_area_and_batch(name, value, code, text):
    with pytest.raises(ModelRangeError, match=f"NTIA error {code}"):
        itm.area(10.0, 30.0, **{**GOOD, name: value})
    z, step = _hill(51)
    vals = {**GOOD, name: [GOOD[name], value]}
    with pytest.raises(ModelRangeError, match=rf"element 1\).*NTIA error {code}"):
        itm.p2p_batch([z, z], None, step, **vals)


@pytest.mark.parametrize("kw,code,name", [
    (dict(reliability=0.0, confidence=50.0), "1007", "reliability"),
    (dict(reliability=100.0, confidence=50.0), "1007", "reliability"),
    (dict(reliability=50.0, confidence=0.0), "1006", "confidence"),
    (dict(reliability=50.0, confidence=100.0), "1006", "confidence"),
])
def test_cr_errors(kw, code, name):
    z, step = _hill(51)
    with pytest.raises(ModelRangeError, match=rf"{name}.*NTIA error {code}"):
        itm.p2p(z, step, h_tx_m=10, h_rx_m=2, freq_mhz=900, **kw)
    with pytest.raises(ModelRangeError, match=rf"{name}.*NTIA error {code}"):
        itm.area(10.0, 20.0, h_tx_m=10, h_rx_m=2, freq_mhz=900, **kw)


def test_area_specific_errors():
    kw = dict(h_tx_m=10, h_rx_m=2, freq_mhz=900)
    with pytest.raises(ModelRangeError, match=r"d_km.*NTIA error 1017"):
        itm.area(0.0, 20.0, **kw)
    with pytest.raises(ModelRangeError, match=r"delta_h_m.*NTIA error 1018"):
        itm.area(10.0, -1.0, **kw)
    with pytest.raises(ModelRangeError, match=r"tx_siting.*NTIA error 1019"):
        itm.area(10.0, 20.0, tx_siting=3, **kw)
    with pytest.raises(ModelRangeError, match=r"rx_siting.*NTIA error 1020"):
        itm.area(10.0, 20.0, rx_siting=-1, **kw)


def test_model_internal_errors():
    kw = dict(h_tx_m=10, h_rx_m=2, freq_mhz=900)
    # epsilon = 1, horizontal: Z_g = sqrt(j x) has equal real and imaginary parts
    with pytest.raises(ModelRangeError, match=r"ground impedance.*NTIA error 1013"):
        itm.p2p(np.full(11, 10.0), 100.0, **kw, epsilon=1.0, pol=0)
    # N_s = N_0 exp(-h_sys / 9460 m): below sea level N_s exceeds 400, on a 5 km plateau < 150
    with pytest.raises(ModelRangeError, match=r"N_s = 4\d\d\.\d N-units \(NTIA error 1022\)"):
        itm.p2p(np.full(11, -400.0), 100.0, **kw, n0=400.0)
    with pytest.raises(ModelRangeError, match=r"NTIA error 1021"):
        itm.p2p(np.full(11, 5000.0), 100.0, **kw, n0=250.0)
    with pytest.raises(ModelRangeError, match=r"element 1\): .*NTIA error 1022"):
        itm.p2p_batch([np.zeros(11), np.full(11, -400.0)], None, 100.0, **kw, n0=400.0)


def test_profile_errors():
    kw = dict(h_tx_m=10, h_rx_m=2, freq_mhz=900)
    for bad in ([], [5.0], np.zeros((2, 3))):
        with pytest.raises(ModelRangeError, match="elevations_m"):
            itm.p2p(bad, 100.0, **kw)
    with pytest.raises(ModelRangeError, match="NaN"):
        itm.p2p([1.0, math.nan, 3.0], 100.0, **kw)
    with pytest.raises(ModelRangeError, match="NaN"):
        itm.p2p([1.0, math.inf, 3.0], 100.0, **kw)
    for step in (0.0, -5.0, math.nan, math.inf):
        with pytest.raises(ModelRangeError, match="step_m"):
            itm.p2p([1.0, 2.0, 3.0], step, **kw)
    with pytest.raises(ModelRangeError, match="n_points"):
        itm.p2p_batch(np.zeros((2, 5)), [5, 1], 100.0, **kw)
    with pytest.raises(ModelRangeError, match="n_points"):
        itm.p2p_batch(np.zeros((2, 5)), [5, 6], 100.0, **kw)
    with pytest.raises(ModelRangeError, match="NaN"):
        itm.p2p_batch(np.array([[1.0, math.nan, 2.0]]), None, 100.0, **kw)
    with pytest.raises(ModelRangeError, match="step_m"):
        itm.p2p_batch(np.zeros((2, 5)), None, [100.0, 0.0], **kw)
    with pytest.raises(ModelRangeError, match="both"):
        itm.p2p([1.0, 2.0], 100.0, **kw, confidence=50.0)
    with pytest.raises(ModelRangeError, match="not both"):
        itm.p2p([1.0, 2.0], 100.0, **kw, confidence=50.0, reliability=50.0, time=90.0)
    with pytest.raises(ModelRangeError, match="integer"):
        itm.p2p([1.0, 2.0], 100.0, **kw, climate=5.5)


# ------------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------------
@st.composite
def radio_paths(draw, dyadic=False):
    """A random terrain profile with radio parameters.

    ``dyadic``: spacing a power of two and heights multiples of 1/16 m, so that every distance
    the reference truncates to an index is computed exactly from both ends (see the reciprocity
    test).
    """
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(2, 400))
    kind = draw(st.sampled_from(["walk", "hills", "flat", "ridge", "integer"]))
    base = rng.uniform(-20, 1500)
    if kind == "walk":
        z = base + np.cumsum(rng.normal(0, rng.uniform(0.1, 20), n))
    elif kind == "hills":
        x = np.linspace(0, 1, n)
        z = base + sum(rng.uniform(0, 300) * np.sin(2 * np.pi * (rng.uniform(0.3, 8) * x
                                                                  + rng.uniform())) for _ in range(3))
    elif kind == "flat":
        z = np.full(n, base)
    elif kind == "ridge":
        z = np.full(n, base)
        z[rng.integers(0, n)] += rng.uniform(10, 500)
    else:
        z = np.round(base + np.cumsum(rng.normal(0, 5, n)))
    z = np.maximum(z, -15.0)  # keep N_s = N_0 exp(-h_sys/9460) <= 400 for N_0 <= 399
    if dyadic:
        step = float(2.0 ** draw(st.integers(4, 9)))
        h = lambda: draw(st.integers(16, 50 * 16)) / 16.0  # noqa: E731
    else:
        step = draw(st.floats(10.0, 2000.0))
        h = lambda: draw(st.floats(1.0, 200.0))  # noqa: E731
    radio = dict(h_tx_m=h(), h_rx_m=h(), freq_mhz=draw(st.floats(40.0, 10000.0)),
                 climate=draw(st.integers(1, 7)), n0=draw(st.floats(250.0, 399.0)),
                 pol=draw(st.integers(0, 1)), epsilon=draw(st.floats(4.0, 81.0)),
                 sigma=draw(st.floats(0.001, 5.0)),
                 mdvar=draw(st.sampled_from(sorted(itm._VALID_MDVAR))))
    return np.ascontiguousarray(z), step, radio


@HYP
@given(radio_paths(), st.floats(1.0, 99.0), st.floats(1.0, 99.0), st.floats(1.0, 99.0))
def test_property_finite_and_not_below_free_space_on_los(path, t, lo, s):
    z, step, radio = path
    res = itm.p2p(z, step, **radio, time=t, location=lo, situation=s)
    assert math.isfinite(res.loss_db) and math.isfinite(res.free_space_loss_db)
    assert res.a_ref_db >= 0.0  # ITM never predicts a gain over free space before variability
    if res.mode == 1:
        # loss = free space + V(A_ref): V increases with A_ref >= 0, so the loss is at least free
        # space plus the variability at A_ref = 0 (the climate's median offset and the quantiles)
        v0, _ = kernels.variability(t, lo, s, res.h_e_m[0], res.h_e_m[1], res.delta_h_m,
                                    radio["freq_mhz"], res.d_km * 1e3, 0.0, radio["climate"],
                                    radio["mdvar"])
        assert res.loss_db >= res.free_space_loss_db + v0 - 1e-9


@HYP
@given(radio_paths())
def test_property_median_los_at_least_free_space(path):
    # at the median (50 % time/location/situation) ITM's loss is free space + A_ref - V_med(d_e)
    # with A_ref >= 0; the desert climate's median offset V_med is negative at every distance, so
    # there every line-of-sight loss is at least free space (up to the 2.4e-7 of the A&S normal
    # quantile at 50 % times the ~10 dB time variability)
    z, step, radio = path
    res = itm.p2p(z, step, **{**radio, "climate": 4, "mdvar": 33})
    assert math.isfinite(res.loss_db)
    if res.mode == 1:
        assert res.loss_db >= res.free_space_loss_db - 1e-5


@HYP
@given(radio_paths(dyadic=True))
def test_property_reciprocity(path):
    # ITM is reciprocal: the same path seen from the other end gives the same loss. The reference
    # truncates distances such as 0.9 d_hzn to profile indices; with a dyadic spacing these are
    # exact from both ends (otherwise an index can differ by one where 0.9 d_hzn / step rounds
    # across an integer, which breaks reciprocity by up to a few tenths of a dB)
    z, step, radio = path
    # ... and with the 10 %-of-horizon rule at both ends, where the fitted range's length
    # (0.1 d_hzn,tx + 0.1 d_hzn,rx) / step is rounded in a different order from each end
    np_ = z.shape[0] - 1
    p10 = int(0.1 * np_)
    n_s = kernels.surface_refractivity(radio["n0"], float(np.mean(z[p10:np_ - p10 + 1])))
    a_e = 1.0 / kernels.effective_curvature(n_s)
    _, _, dh0, dh1 = kernels.find_horizons(z, np_, step, z[0] + radio["h_tx_m"],
                                           z[-1] + radio["h_rx_m"], a_e)
    assume(not (0.1 * dh0 < 15 * radio["h_tx_m"] and 0.1 * dh1 < 15 * radio["h_rx_m"]))
    a = itm.p2p(z, step, **radio)
    b = itm.p2p(z[::-1].copy(), step, **{**radio, "h_tx_m": radio["h_rx_m"],
                                          "h_rx_m": radio["h_tx_m"]})
    assert b.loss_db == pytest.approx(a.loss_db, abs=1e-6)
    assert b.mode == a.mode
    assert b.d_hzn_m[::-1] == pytest.approx(a.d_hzn_m, rel=1e-9)
    assert b.h_e_m[::-1] == pytest.approx(a.h_e_m, rel=1e-9, abs=1e-9)
    assert b.delta_h_m == pytest.approx(a.delta_h_m, rel=1e-9, abs=1e-9)


@HYP
@given(radio_paths(), st.sampled_from(["time", "location", "situation"]),
       st.floats(0.01, 99.99), st.floats(0.01, 99.99))
def test_property_monotone_in_tls(path, which, p1, p2):
    z, step, radio = path
    assume(p1 != p2)
    lo_p, hi_p = min(p1, p2), max(p1, p2)
    a = itm.p2p(z, step, **radio, **{which: lo_p})
    b = itm.p2p(z, step, **radio, **{which: hi_p})
    assert a.loss_db <= b.loss_db + 1e-9


@HYP
@given(radio_paths(), st.floats(0.01, 99.99), st.floats(0.01, 99.99), st.floats(0.01, 99.99))
def test_property_monotone_in_confidence_reliability(path, c1, c2, r):
    z, step, radio = path
    lo_c, hi_c = min(c1, c2), max(c1, c2)
    assert (itm.p2p(z, step, **radio, confidence=lo_c, reliability=r).loss_db
            <= itm.p2p(z, step, **radio, confidence=hi_c, reliability=r).loss_db + 1e-9)
    assert (itm.p2p(z, step, **radio, confidence=r, reliability=lo_c).loss_db
            <= itm.p2p(z, step, **radio, confidence=r, reliability=hi_c).loss_db + 1e-9)


@HYP
@given(st.floats(0.5, 2000.0), st.floats(0.0, 800.0), st.floats(1.0, 99.0),
       st.floats(1.0, 99.0), st.sampled_from([0, 1, 2, 3, 10, 11, 12, 13, 23, 33]))
def test_property_area_monotone_and_finite(d_km, dh, c, r, mdvar):
    kw = dict(h_tx_m=30, h_rx_m=2, freq_mhz=900, mdvar=mdvar)
    res = itm.area(d_km, dh, **kw, confidence=c, reliability=r)
    assert math.isfinite(res.loss_db) and res.a_ref_db >= 0.0
    hi = itm.area(d_km, dh, **kw, confidence=min(99.9, c + 10), reliability=r)
    assert hi.loss_db >= res.loss_db - 1e-9


def test_iccdf_against_normal_quantiles():
    from scipy.stats import norm

    q = np.linspace(0.001, 0.999, 999)
    z = np.array([kernels.iccdf(v) for v in q])
    assert np.max(np.abs(z - norm.isf(q))) < 4.5e-4  # Abramowitz & Stegun 26.2.23
    assert np.all(np.diff(z) < 0)


@pytest.mark.parametrize("call, name", [
    (lambda: itm.p2p(["a", "b", "c"], 10.0, h_tx_m=30, h_rx_m=1.5, freq_mhz=900), "elevations_m"),
    (lambda: itm.p2p(np.full(10, 5.0), 100.0, h_tx_m=30, h_rx_m=1.5, freq_mhz="900 MHz"), "freq_mhz"),
    (lambda: itm.p2p(np.full(10, 5.0), "1 km", h_tx_m=30, h_rx_m=1.5, freq_mhz=900), "step_m"),
    (lambda: itm.area(10.0, "hilly", h_tx_m=30, h_rx_m=1.5, freq_mhz=900), "delta_h_m"),
    (lambda: itm.p2p_batch([[1, 2, "x"]], step_m=100, h_tx_m=30, h_rx_m=1.5, freq_mhz=900), "profiles"),
])
def test_issue9_non_numeric_itm_input_names_the_parameter(call, name):
    from coverage.errors import InputError

    with pytest.raises(InputError, match=name):
        call()
