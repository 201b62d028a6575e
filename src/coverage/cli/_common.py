"""Argument types shared by the sub-commands."""

from __future__ import annotations

import argparse
import json


def _bounds(text: str):
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("bounds must be lon_min,lat_min,lon_max,lat_max") from None
    if len(vals) != 4:
        raise argparse.ArgumentTypeError("bounds must be lon_min,lat_min,lon_max,lat_max")
    return tuple(vals)


def _params(text: str):
    try:
        val = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--model-params must be JSON, e.g. '{{\"environment\": \"open\"}}' ({exc})")
    if not isinstance(val, dict):
        raise argparse.ArgumentTypeError("--model-params must be a JSON object")
    return val
