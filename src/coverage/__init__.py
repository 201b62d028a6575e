"""coverage — terrain-aware mobile coverage and blankspot villages.

Public API::

    terrain = coverage.open_terrain(paths, bounds=None)
    sites = coverage.read_sites(path)
    result = coverage.predict(terrain, sites, model="p526", radius_m=30_000, rx_height_m=1.5)
    result.best_dbm, result.best_server, result.transform, result.crs
    result.to_geotiff("coverage.tif")
"""

from __future__ import annotations

import sys as _sys

# The import name `coverage` is also coverage.py's. numba probes for coverage.py with
# `import coverage` while it initialises (numba.misc.coverage_support) and then uses
# coverage.py's API. Make that probe see "coverage.py is not installed":
_probe = _sys.modules.get("numba.misc.coverage_support")
if _probe is not None and not hasattr(_probe, "coverage_available"):
    # numba is being imported first and is probing right now: answer like an absent package.
    raise ImportError("this 'coverage' is the blankspot-coverage package, not coverage.py")
if _probe is None:
    _self = _sys.modules[__name__]
    _sys.modules[__name__] = None  # type: ignore[assignment]  # makes `import coverage` raise ImportError
    try:
        import numba.misc.coverage_support  # noqa: F401
    finally:
        _sys.modules[__name__] = _self
del _probe

from . import _aliases  # noqa: E402
from .errors import (  # noqa: E402
    CoverageError,
    CoverageWarning,
    FileFormatError,
    InputError,
    ModelRangeError,
    ModelRangeWarning,
    SiteError,
    TerrainError,
    TerrainExtentError,
    TerrainReadError,
    TerrainWarning,
    VillageError,
)

from ._version import __version__  # noqa: E402, F401

# inputs
from .io.landcover import LandCover, open_landcover, uniform_landcover  # noqa: E402
from .io.measurements import read_measurements  # noqa: E402
from .io.sites import read_sites  # noqa: E402
from .io.survey import read_idm, read_podes, read_podes_kabupaten  # noqa: E402
from .io.terrain import Terrain, open_terrain  # noqa: E402
from .io.villages import read_villages  # noqa: E402

# physics: `coverage.itm.p2p`, `coverage.p1812.bt_loss`, `coverage.p2108`, the model registry
from .propagation import itm, p1812, p2108  # noqa: E402

# the engine
from .engine.predict import predict  # noqa: E402
from .engine.result import CoverageResult  # noqa: E402
from .engine.sweep import SiteGeometry  # noqa: E402

# analysis
from .analysis.assess import assess_villages, combine_tables  # noqa: E402
from .analysis.calibration import Calibration, calibrate, validate  # noqa: E402
from .analysis.indicator import indicator, indicator_by_technology  # noqa: E402
from .analysis.run import VillageRun, run_villages  # noqa: E402
from .analysis.survey import compare_podes_kabupaten, compare_survey  # noqa: E402
from .analysis.planning import Plan, candidate_sites, plan_sites  # noqa: E402
from .io.population import PopulationJoin, read_population  # noqa: E402

# outputs (plot, kmz and interactive import matplotlib: loaded on first use)
from .render.export import write_csv, write_excel, write_villages  # noqa: E402

_aliases.install()

__all__ = [
    "open_terrain", "Terrain", "read_sites", "predict", "CoverageResult", "SiteGeometry",
    "CoverageError", "InputError", "ModelRangeError", "SiteError", "VillageError", "FileFormatError",
    "TerrainError", "TerrainReadError", "TerrainExtentError", "CoverageWarning", "ModelRangeWarning",
    "TerrainWarning",
    "read_villages", "assess_villages", "combine_tables", "run_villages", "VillageRun", "indicator",
    "indicator_by_technology", "write_csv", "write_excel", "write_villages", "compare_survey",
    "compare_podes_kabupaten", "read_idm", "read_podes", "read_podes_kabupaten", "itm",
    "read_measurements", "calibrate", "validate", "Calibration",
    "p1812", "p2108", "open_landcover", "uniform_landcover", "LandCover",
    "candidate_sites", "plan_sites", "Plan", "read_population", "PopulationJoin",
]

_LAZY_MODULES = {"plot": "coverage.render.plot", "kmz": "coverage.render.kmz",
                 "interactive": "coverage.render.interactive"}


def __getattr__(name):
    # coverage.plot / .kmz / .interactive without importing matplotlib at `import coverage`
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(_LAZY_MODULES[name])
    raise AttributeError(f"module 'coverage' has no attribute {name!r}")
