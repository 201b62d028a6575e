"""Argument types shared by the sub-commands."""

from __future__ import annotations

import argparse
import json


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


def _params(text: str):
    try:
        val = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--model-params must be JSON, e.g. '{{\"environment\": \"open\"}}' ({exc})")
    if not isinstance(val, dict):
        raise argparse.ArgumentTypeError("--model-params must be a JSON object")
    return val
