"""``python -m coverage.cli``: the same as the ``blankspot`` command."""

import sys

from . import main

sys.exit(main())
