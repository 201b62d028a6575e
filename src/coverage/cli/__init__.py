"""The ``blankspot`` command line: the same tools as the Python API.

    blankspot predict --terrain DEM.tif --sites towers.csv --out coverage.tif
    blankspot models

Each sub-command lives in its own module of this package, each with ``add_parser(subparsers)``
and ``run(args) -> int``, listed in :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import traceback
import warnings

from .._version import __version__
from ..errors import CoverageError

log = logging.getLogger("coverage.cli")


#: One-line description and an example for every sub-command's ``--help``.
EXAMPLES = {
    "predict": ("terrain + sites -> coverage raster (best signal, best server, servers above threshold)",
                "blankspot predict --terrain data/samples/terrain.tif --sites data/samples/sites.csv "
                "--radius 10000 --out out/coverage.tif"),
    "models": ("list the propagation models with their references and validity", "blankspot models"),
    "villages": ("towers + villages (+ terrain) -> blankspot villages, indicator tables, XLSX",
                 "blankspot villages --terrain data/samples/terrain.tif --sites data/samples/sites.csv "
                 "--villages data/samples/villages.geojson --radius 10000 --out-dir out/villages"),
    "map": ("coverage or best-server map (PNG/PDF/SVG) over a hillshade, with villages by status",
            "blankspot map --terrain data/samples/terrain.tif --sites data/samples/sites.csv "
            "--villages data/samples/villages.geojson --radius 10000 --out out/map.png"),
    "kmz": ("KMZ for Google Earth: coverage overlay and legend, sites, villages by status",
            "blankspot kmz --coverage out/coverage.tif --sites data/samples/sites.csv "
            "--villages data/samples/villages.geojson --out out/coverage.kmz"),
    "profile": ("path profile from a site to a point or a village, with the losses of several models",
                "blankspot profile --terrain data/samples/terrain.tif --sites data/samples/sites.csv "
                "--site BTS-01 --to 116.80,-0.41 --out out/profile.png"),
    "calibrate": ("fit a model to measured path loss (offset, slope, diffraction, clutter), cross-validated on "
                  "spatial blocks", "blankspot calibrate --measurements drive.csv --sites sites.csv --model cost231 "
                  "--out out/cal.json --plot out/cal.png"),
    "validate": ("error statistics of a model or a calibration against measurements, per site and distance",
                 "blankspot validate --measurements drive.csv --sites sites.csv --model out/cal.json "
                 "--out-dir out/validation"),
    "plan": ("choose new masts among candidates to turn the most blankspot villages (or people) covered",
             "blankspot plan --terrain data/samples/terrain.tif --sites data/samples/sites.csv "
             "--villages data/samples/villages.geojson --candidates hilltops --budget 2 --objective covered_villages "
             "--radius 10000 "
             "--out-dir out/plan"),
}

#: Optional packages -> the extra that brings them (pyproject.toml).
_OPTIONAL = {"matplotlib": "plot", "openpyxl": "excel", "tqdm": "progress", "dask": "dask", "distributed": "dask",
             "xarray": "xarray"}

#: Options whose value may start with a minus sign (a southern latitude, a western longitude).
_COORDINATE_OPTIONS = ("--bounds", "--to")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="blankspot", description="Terrain-aware mobile coverage and blankspot villages.",
                                epilog="Run `blankspot COMMAND --help` for a command's options and an example.")
    p.add_argument("--version", action="version", version=f"blankspot {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for mod in _command_modules():
        mod.add_parser(sub)
    for name, sp in sub.choices.items():
        desc, example = EXAMPLES.get(name, (None, None))
        if desc and not sp.description:
            sp.description = desc[0].upper() + desc[1:] + "."
        if example and not sp.epilog:
            sp.epilog = f"example:\n  {example}"
            sp.formatter_class = argparse.RawDescriptionHelpFormatter
        if "--no-progress" not in sp._option_string_actions:
            sp.add_argument("--no-progress", action="store_true", help="no progress bar")
        if "-v" not in sp._option_string_actions:
            # -v works after the sub-command too (`blankspot villages ... -v`)
            sp.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more logging")
    for action in sub._choices_actions:
        if action.dest in EXAMPLES and not action.help:
            action.help = EXAMPLES[action.dest][0]
    return p


#: Modules (relative to this package) that add sub-commands: ``add_parser(subparsers)``, ``run(args)``.
COMMAND_MODULES: list[str] = ["predict", "maps", "villages", "calibrate", "plan"]


def _command_modules():
    import importlib

    return [importlib.import_module(f".{name}", __package__) for name in COMMAND_MODULES]


def _join_coordinates(argv: list[str]) -> list[str]:
    """``--bounds -0.5,116,...`` as ``--bounds=-0.5,116,...``: argparse would read the value as an option."""
    out, i = [], 0
    while i < len(argv):
        tok = argv[i]
        if tok in _COORDINATE_OPTIONS and i + 1 < len(argv) and re.match(r"^-\d|^-\.\d", argv[i + 1]):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


#: Python phrasing in the library's messages -> what a CLI user types.
_CLI_WORDS = [
    (re.compile(r"\bpass repair=True\b"), "use --repair-geometries"),
    (re.compile(r"\brepair=True\b"), "--repair-geometries"),
    (re.compile(r"\bpass extrapolate=True\b"), "use --extrapolate"),
    (re.compile(r"\bextrapolate=True\b"), "--extrapolate"),
    (re.compile(r"\bpass fill_voids=True\b"), "use the default void filling (omit --keep-voids)"),
    (re.compile(r"\bfill_voids=False\b"), "--keep-voids"),
    (re.compile(r"\bmodel_params=\{"), "--model-params '{"),
    (re.compile(r"\bradius_m\b"), "--radius"),
    (re.compile(r"\brx_height_m\b"), "--rx-height"),
    (re.compile(r"\bresolution_m\b"), "--resolution"),
    (re.compile(r"\bpass sites=\.\.\."), "use --sites"),
    (re.compile(r"\bpass terrain=\.\.\."), "use --terrain"),
]


def cli_words(message: str) -> str:
    """A library message in the words of the command line (``repair=True`` -> ``--repair-geometries``)."""
    for pat, repl in _CLI_WORDS:
        message = pat.sub(repl, message)
    return message


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # a warning is one line of text, without the Python source location and echoed code
    text = cli_words(str(message))
    if text in _SHOWN:
        return
    _SHOWN.add(text)
    log.debug("%s from %s:%s", category.__name__, filename, lineno)
    print(f"blankspot: warning: {text}", file=sys.stderr)


_SHOWN: set[str] = set()


def main(argv=None) -> int:
    parser = build_parser()
    a = parser.parse_args(_join_coordinates(list(sys.argv[1:] if argv is None else argv)))
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(a.verbose, 2)],
                        format="blankspot: %(levelname)s %(name)s: %(message)s")
    warnings.showwarning = _show_warning
    if getattr(a, "no_progress", False):
        os.environ["COVERAGE_NO_PROGRESS"] = "1"
    try:
        for mod in _command_modules():
            if a.command in getattr(mod, "COMMANDS", ()):
                return mod.run(a)
    except KeyboardInterrupt:
        print("blankspot: interrupted", file=sys.stderr)
        return 130
    except (CoverageError, OSError) as exc:
        if a.verbose:
            traceback.print_exc()
        print(f"blankspot: error: {cli_words(str(exc))}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not a user error: one line, the traceback with -v
        extra = _OPTIONAL.get((getattr(exc, "name", None) or "").split(".")[0])
        if isinstance(exc, ModuleNotFoundError) and extra is not None:
            print(f"blankspot: error: `blankspot {a.command}` needs the optional package {exc.name}: "
                  f"python -m pip install 'blankspot-coverage[{extra}]' (or [all])", file=sys.stderr)
            return 2
        if a.verbose:
            traceback.print_exc()
        print(f"blankspot: internal error: {type(exc).__name__}: {exc} (rerun with -v for the traceback, and "
              f"please report it)", file=sys.stderr)
        return 1
    parser.error(f"unknown command {a.command}")
    return 2
