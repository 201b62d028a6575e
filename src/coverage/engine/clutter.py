"""Surface cover in the engine: land cover onto the output grid, terminal clutter loss per cell.

* ``resolve_landcover`` turns ``predict(landcover=..., clutter=...)`` into a :class:`LandCover` on the
  terrain grid (a path is opened with the WorldCover table; a uniform ``clutter="forest"`` applies one
  cover everywhere) and its metadata.
* The clutter heights ride on the :class:`~coverage.engine.sweep.Grid` (``clutter_m``,
  ``clutter_type``): :class:`~coverage.engine.sweep.SiteGeometry` samples them along the radials
  exactly as it samples the terrain, for models that use them (P.1812's clutter-raised profile).
* ``terminal_loss_db`` adds ITU-R P.2108-1 §3.1 (height-gain terminal correction) at each receiver
  cell whose antenna is below its cell's clutter, for any model (``clutter_loss="p2108"``), with the
  Recommendation's default street width of 27 m.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from ..errors import CoverageWarning, InputError
from ..io.landcover import LandCover, open_landcover, uniform_landcover
from ..propagation.p2108 import height_gain_correction_db

__all__ = ["resolve_landcover", "clutter_arrays", "assumed_defaults", "terminal_loss_db", "CLUTTER_LOSSES",
           "STREET_WIDTH_M"]

CLUTTER_LOSSES = (None, "p2108")
#: P.2108-1 §3.1 default street width (m)
STREET_WIDTH_M = 27.0


def resolve_landcover(landcover, clutter, clutter_loss, terrain, full_shape=None, full_transform=None):
    """(LandCover or None, metadata dict) for a run on ``terrain``'s grid.

    ``landcover`` is a path, a :class:`LandCover` on the terrain grid (or on the unwindowed grid whose
    window ``terrain`` is: it is cut to match) or None; ``clutter`` a uniform cover name.
    """
    if clutter_loss not in CLUTTER_LOSSES:
        raise InputError(f"clutter_loss must be None or 'p2108', got {clutter_loss!r}")
    if landcover is not None and clutter is not None:
        raise InputError("give either landcover= (a raster) or clutter= (one cover everywhere), not both")
    if landcover is None and clutter is None:
        if clutter_loss is not None:
            raise InputError("clutter_loss='p2108' needs a land cover: pass landcover= or clutter=")
        return None, {"source": "none: bare ground (no clutter)"}
    if terrain is None:
        raise InputError("land cover needs terrain: the cover is resampled to the terrain grid")
    if clutter is not None:
        lc = uniform_landcover(clutter, terrain)
    elif isinstance(landcover, (str, os.PathLike)):
        lc = open_landcover(landcover, terrain=terrain)
    elif isinstance(landcover, LandCover):
        lc = _match(landcover, terrain)
    else:
        raise InputError(f"landcover must be a path or a LandCover, got {type(landcover).__name__}")
    meta = lc.metadata()
    meta["terminal_clutter_loss"] = ("ITU-R P.2108-1 §3.1 height-gain correction at the receiver, street width "
                                     f"{STREET_WIDTH_M:g} m" if clutter_loss else None)
    return lc, meta


def clutter_arrays(lc: LandCover | None) -> dict:
    """Grid keyword arguments carrying the cover (float32 heights: the terrain sampler's type)."""
    if lc is None:
        return {}
    return {"clutter_m": np.ascontiguousarray(lc.height_m, dtype=np.float32),
            "clutter_type": np.ascontiguousarray(lc.p2108_type)}


def assumed_defaults(m, params, lc_meta=None) -> dict:
    """Defaults a model fills in that the user should know of (said in a warning, returned for
    ``metadata['assumed']``); also warns when a land cover was given that nothing in the run uses."""
    out = {}
    if lc_meta and not str(lc_meta.get("source", "")).startswith("none") and not getattr(m, "uses_clutter", False) \
            and not lc_meta.get("terminal_clutter_loss"):
        warnings.warn(f"the land cover has no effect on model {m.name!r} without clutter_loss='p2108' "
                      "(only p1812 raises its profiles by the clutter)", CoverageWarning, stacklevel=3)
    if getattr(m, "name", None) == "p1812":
        from ..propagation.p1812 import EQUATORIAL_DN, EQUATORIAL_N0

        said = []
        if params.get("dn") is None:
            out["dn"] = EQUATORIAL_DN
            said.append(f"dn={EQUATORIAL_DN:g} N-units/km")
        if params.get("n0") is None:
            out["n0"] = EQUATORIAL_N0
            said.append(f"n0={EQUATORIAL_N0:g} N-units")
        out["p1812_geometry"] = ("path-centre latitude from the site latitude and each radial's azimuth; "
                                 "inland zone everywhere")
        if said:
            warnings.warn("p1812: no ITU map values given, equatorial defaults assumed: " + ", ".join(said),
                          CoverageWarning, stacklevel=3)
    return out


def _match(lc: LandCover, terrain) -> LandCover:
    if lc.shape == terrain.shape and (lc.transform is None or tuple(lc.transform)[:6] == tuple(terrain.transform)[:6]):
        return lc
    if lc.transform is None:
        raise InputError(f"land cover of shape {lc.shape} does not match the terrain grid {terrain.shape}")
    t, w = lc.transform, terrain.transform
    c0 = int(round((w.c - t.c) / t.a))
    r0 = int(round((w.f - t.f) / t.e))
    if (abs(t.a - w.a) > 1e-9 * abs(t.a) or abs(t.e - w.e) > 1e-9 * abs(t.e) or r0 < 0 or c0 < 0
            or r0 + terrain.shape[0] > lc.shape[0] or c0 + terrain.shape[1] > lc.shape[1]):
        raise InputError("the land cover is not on the terrain grid: open it with open_landcover(path, terrain=...)")
    return lc.window(r0, r0 + terrain.shape[0], c0, c0 + terrain.shape[1])


def terminal_loss_db(geo, freq_mhz: float, rx_height_m: float) -> np.ndarray:
    """P.2108 §3.1 loss (dB) of the receiver in each cell of ``geo``'s window (0 without clutter above it)."""
    grid = geo.grid
    r0, c0, h, w = geo.window
    a, b = r0 - grid.row_off, c0 - grid.col_off
    height = np.asarray(grid.clutter_m[a:a + h, b:b + w], dtype=float)
    typ = np.asarray(grid.clutter_type[a:a + h, b:b + w])
    out = np.zeros((h, w))
    sel = height > rx_height_m
    if sel.any():
        out[sel] = height_gain_correction_db(freq_mhz / 1e3, rx_height_m, STREET_WIDTH_M, height[sel], typ[sel])
    return out
