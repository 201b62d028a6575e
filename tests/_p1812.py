"""Reader of the ITU-R SG3 validation profiles and Py1812 logs (test helper)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def read_profile(path: Path):
    """(d_km, h_m, R_m, zone) of an SG3 profile file."""
    rows = []
    inside = False
    with open(path, newline="", encoding="latin-1") as fh:
        for line in fh:
            if line.startswith("{Begin of Profile}"):
                inside = True
                continue
            if line.startswith("{End of Profile}"):
                break
            if inside and line[:1].isdigit():
                parts = line.strip().split(",")
                rows.append([float(parts[0]), float(parts[1]), float(parts[3] or 0), float(parts[4] or 4)])
    a = np.array(rows)
    return a[:, 0], a[:, 1], a[:, 2], a[:, 3]


def read_log(path: Path) -> dict:
    """Parameter name -> value of a Py1812 log (the last value wins for repeated names)."""
    out = {}
    with open(path, newline="", encoding="latin-1") as fh:
        for row in csv.reader(fh):
            if len(row) >= 4 and row[0] and not row[0].startswith("#"):
                try:
                    out[row[0].strip()] = float(row[3])
                except ValueError:
                    pass
    return out


def read_meta(path: Path) -> dict:
    """Tx/Rx coordinates, Delta N and N0 of an SG3 profile file."""
    keys = {"Tx LAT:": "phi_t", "Tx LON:": "lam_t", "Rx LAT:": "phi_r", "Rx LON:": "lam_r",
            "Average annual values dN (N-units/km):": "dn",
            "Average annual sea-level surface refractivity No (N-units):": "n0"}
    out = {}
    with open(path, newline="", encoding="latin-1") as fh:
        for line in fh:
            parts = line.rstrip("\r\n").split(",")
            if parts[0] in keys and len(parts) > 1 and parts[1]:
                out[keys[parts[0]]] = float(parts[1])
    return out


def read_measurements(path: Path) -> list[dict]:
    """Measurement rows of an SG3 profile file: frequency (GHz), heights, pol ('h'/'v'), time %,
    transmitter power (kW, from ERP as the ITU validation script derives it), expected Ep and Lb."""
    rows = []
    inside = False
    with open(path, newline="", encoding="latin-1") as fh:
        for line in fh:
            if line.startswith("{Begin of Measurements"):
                inside = True
                continue
            if line.startswith("{End of Measurements"):
                break
            if inside and line[:1].isdigit():
                c = line.strip().split(",")
                f_mhz = float(c[0])
                ep, lb = float(c[16]), float(c[17])
                if c[12]:
                    ptx = 10 ** (float(c[12]) / 10) * 1e-3
                else:
                    ptx = 10 ** ((-137.2217 + ep - 20 * np.log10(f_mhz) + lb) / 10)
                rows.append({"freq_ghz": f_mhz / 1e3, "htg_m": float(c[1]), "hrg_m": float(c[3]),
                             "pol": "h" if c[4] == "1" else "v", "p_percent": float(c[14]),
                             "ptx_kw": ptx, "ep": ep, "lb": lb})
    return rows
