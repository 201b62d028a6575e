"""The ``blankspot`` command line: the same tools as the Python API.

    blankspot predict --terrain DEM.tif --sites towers.csv --out coverage.tif
    blankspot models

Each sub-command lives in its own module of this package, each with ``add_parser(subparsers)``
and ``run(args) -> int``, listed in :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .._version import __version__
from ..errors import CoverageError

log = logging.getLogger("coverage.cli")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="blankspot", description="Terrain-aware mobile coverage and blankspot villages.")
    p.add_argument("--version", action="version", version=f"blankspot {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)")
    sub = p.add_subparsers(dest="command", required=True)

    for mod in _command_modules():
        mod.add_parser(sub)
    return p


#: Modules (relative to this package) that add sub-commands: ``add_parser(subparsers)``, ``run(args)``.
COMMAND_MODULES: list[str] = ["predict", "maps", "villages"]


def _command_modules():
    import importlib

    return [importlib.import_module(f".{name}", __package__) for name in COMMAND_MODULES]


def main(argv=None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(a.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)
    try:
        for mod in _command_modules():
            if a.command in getattr(mod, "COMMANDS", ()):
                return mod.run(a)
    except (CoverageError, FileNotFoundError) as exc:
        print(f"blankspot: error: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {a.command}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
