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
