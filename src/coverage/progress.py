"""Progress bars that appear only when someone is watching and the run is long.

``progress(iterable)`` wraps an iterable in ``tqdm.auto`` (a widget in Jupyter, a text bar in a
terminal) when the session is interactive, and only once the run has taken more than ``delay``
seconds (2 s by default): short runs and library use inside a service stay silent unless asked
(``enabled=True``). Without tqdm it returns the iterable unchanged. Messages go to :mod:`logging`,
never to ``print``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Iterable, TypeVar

__all__ = ["progress", "is_interactive"]

T = TypeVar("T")
log = logging.getLogger(__name__)


def is_interactive() -> bool:
    """True in a Jupyter kernel or when stderr is a terminal (and ``COVERAGE_NO_PROGRESS`` is unset)."""
    if os.environ.get("COVERAGE_NO_PROGRESS"):
        return False
    if "ipykernel" in sys.modules:
        try:
            from IPython import get_ipython

            ip = get_ipython()
            if ip is not None and getattr(ip, "kernel", None) is not None:
                return True
        except ImportError:  # pragma: no cover
            pass
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def progress(iterable: Iterable[T], *, enabled: bool | None = None, total: int | None = None,
             desc: str | None = None, unit: str = "it", delay: float = 2.0) -> Iterable[T]:
    """``iterable``, with a tqdm progress bar when ``enabled`` (default: :func:`is_interactive`).

    The bar shows up only after ``delay`` seconds, so runs shorter than that print nothing.
    """
    if enabled is None:
        enabled = is_interactive()
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        log.debug("tqdm is not installed: no progress bar")
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit=unit, delay=delay, leave=False)
