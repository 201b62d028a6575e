"""Free space and Hata / COST-231 against worked values and their own structure."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from coverage.errors import ModelRangeError, ModelRangeWarning
from coverage.propagation import cost231_loss_db, free_space_loss_db, get_model, hata_loss_db


def test_free_space_worked_values():
    # P.525-4 eq. (4): L = 32.45 + 20 log f(MHz) + 20 log d(km)
    assert free_space_loss_db(1000.0, 1000.0) == pytest.approx(92.45, abs=0.01)
    assert free_space_loss_db(10_000.0, 900.0) == pytest.approx(32.45 + 20 * math.log10(900) + 20, abs=0.01)
    d = np.array([100.0, 200.0, 400.0])
    assert np.allclose(np.diff(free_space_loss_db(d, 1800.0)), 20 * math.log10(2))


def test_hata_worked_values():
    # Hata (1980) urban, medium city: f = 900 MHz, h_b = 30 m, h_m = 1.5 m.
    # a(h_m) = (1.1 log 900 - 0.7) 1.5 - (1.56 log 900 - 0.8) = 0.0159 dB
    # L(1 km) = 69.55 + 26.16 log 900 - 13.82 log 30 - 0.0159 = 126.40 dB; slope 35.22 dB/decade.
    assert hata_loss_db(1000.0, freq_mhz=900, h_tx_m=30, h_rx_m=1.5, environment="urban") == pytest.approx(126.40, abs=0.01)
    l10 = hata_loss_db(10_000.0, freq_mhz=900, h_tx_m=30, h_rx_m=1.5, environment="urban")
    assert l10 - 126.40 == pytest.approx(44.9 - 6.55 * math.log10(30), abs=0.01)
    # suburban and open are Hata's fixed corrections of the urban value
    u = hata_loss_db(5000.0, freq_mhz=900, h_tx_m=40, h_rx_m=1.5, environment="urban")
    s = hata_loss_db(5000.0, freq_mhz=900, h_tx_m=40, h_rx_m=1.5, environment="suburban")
    o = hata_loss_db(5000.0, freq_mhz=900, h_tx_m=40, h_rx_m=1.5, environment="open")
    assert u - s == pytest.approx(2 * math.log10(900 / 28) ** 2 + 5.4)
    lf = math.log10(900)
    assert u - o == pytest.approx(4.78 * lf ** 2 - 18.33 * lf + 40.94)


def test_cost231_worked_value():
    # COST 231: f = 1800 MHz, h_b = 30 m, h_m = 1.5 m, 1 km, medium city (C_m = 0):
    # a = (1.1 log 1800 - 0.7) 1.5 - (1.56 log 1800 - 0.8) = 0.0437
    # L = 46.3 + 33.9 log 1800 - 13.82 log 30 - a = 136.19 dB
    assert cost231_loss_db(1000.0, freq_mhz=1800, h_tx_m=30, h_rx_m=1.5, environment="urban") == pytest.approx(136.19, abs=0.01)
    assert cost231_loss_db(1000.0, freq_mhz=1800, h_tx_m=30, h_rx_m=1.5, environment="urban_large") == \
        pytest.approx(136.19 + 3.0 + 0.0437 - (3.2 * math.log10(11.75 * 1.5) ** 2 - 4.97), abs=0.01)


def test_short_distances_never_below_free_space():
    d = np.array([10.0, 50.0, 200.0, 900.0])
    h = hata_loss_db(d, freq_mhz=900, h_tx_m=30, h_rx_m=1.5, environment="open")
    fs = free_space_loss_db(np.hypot(d, 28.5), 900.0)
    assert np.all(h >= fs - 1e-9)


def test_range_checks():
    m = get_model("hata")
    with pytest.raises(ModelRangeError, match="freq_mhz=1800"):
        m.check(freq_mhz=1800, h_tx_m=30, h_rx_m=1.5)
    with pytest.raises(ValueError):
        m.check(freq_mhz=100, h_tx_m=30, h_rx_m=1.5)
    with pytest.warns(ModelRangeWarning, match="extrapolating"):
        m.check(freq_mhz=1800, h_tx_m=30, h_rx_m=1.5, extrapolate=True)
    with pytest.warns(ModelRangeWarning, match="height"):
        m.check(freq_mhz=900, h_tx_m=15, h_rx_m=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_model("cost231").check(freq_mhz=1800, h_tx_m=30, h_rx_m=1.5)
    with pytest.raises(ValueError, match="unknown model"):
        get_model("okumura")
