"""Entry point of the ``blankspot`` command, outside the ``coverage`` package on purpose.

The import name ``coverage`` is shared with coverage.py. When both are installed in one environment,
``import coverage`` finds whichever comes first on ``sys.path``; if that is coverage.py, the command would
die with "No module named 'coverage.cli'". This launcher notices it and says what to do.
"""

from __future__ import annotations

import sys

_CLASH = ("blankspot: error: the module name 'coverage' resolves to {where}, which is not blankspot-coverage "
          "(probably coverage.py, the test-coverage tool: both packages use the import name 'coverage'). "
          "Uninstall it from this environment (`python -m pip uninstall coverage`), or install blankspot-coverage "
          "in a virtual environment of its own.")


def main() -> int:
    try:
        import coverage
    except ImportError as exc:  # pragma: no cover - a broken install
        print(f"blankspot: error: cannot import the 'coverage' package ({exc}); reinstall blankspot-coverage",
              file=sys.stderr)
        return 2
    if not (hasattr(coverage, "predict") and hasattr(coverage, "open_terrain")):
        print(_CLASH.format(where=getattr(coverage, "__file__", None) or repr(coverage)), file=sys.stderr)
        return 2
    from coverage.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
