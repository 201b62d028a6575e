"""Argument types shared by the sub-commands."""

from __future__ import annotations

import argparse
import json


#: Options whose value may start with '-' (a southern latitude, a western longitude).
NEGATIVE_VALUE_OPTIONS = ("--bounds",)


def _bounds(text: str):
    from ..errors import InputError
    from ..io.terrain import check_bounds

    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("--bounds must be lon_min,lat_min,lon_max,lat_max in degrees") from None
    try:
        return check_bounds(vals, name="--bounds")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def join_negative_values(argv):
    """``--bounds -0.5,...`` as ``--bounds=-0.5,...``: argparse takes a value starting with '-' and
    holding commas for an option, not for the value it is."""
    out = []
    it = iter(argv)
    for arg in it:
        if arg in NEGATIVE_VALUE_OPTIONS:
            nxt = next(it, None)
            if nxt is not None and nxt.startswith("-") and "," in nxt:
                out.append(f"{arg}={nxt}")
                continue
            out.append(arg)
            if nxt is not None:
                out.append(nxt)
            continue
        out.append(arg)
    return out


def _params(text: str):
    try:
        val = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--model-params must be JSON, e.g. '{{\"environment\": \"open\"}}' ({exc})")
    if not isinstance(val, dict):
        raise argparse.ArgumentTypeError("--model-params must be a JSON object")
    return val
