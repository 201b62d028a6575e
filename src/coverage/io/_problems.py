"""Collect every bad row of an input file and report them in one error.

A file with three bad rows should take one run to fix, not three: readers add each problem
(row, column, value, what is wrong) to a :class:`RowProblems` and raise once at the end, listing the
first :data:`MAX_LISTED` and counting the rest.
"""

from __future__ import annotations

from typing import Type

from ..errors import CoverageError

__all__ = ["RowProblems", "MAX_LISTED"]

#: Problems listed one per line in the error; the rest are counted.
MAX_LISTED = 20


class RowProblems:
    """Problems of one file, in the order found; one entry per (row, column)."""

    def __init__(self, source: str):
        self.source = source
        self._items: dict[tuple[int, str], str] = {}

    def add(self, row: int, column: str, message: str) -> None:
        """Record ``message`` for ``row`` (as the user counts rows) and ``column``; first one wins."""
        self._items.setdefault((int(row), str(column)), message)

    def has(self, row: int, column: str) -> bool:
        return (int(row), str(column)) in self._items

    def __len__(self) -> int:
        return len(self._items)

    def message(self, hint: str | None = None) -> str:
        """One line for one problem; for several, a count and one line per problem (the first
        :data:`MAX_LISTED`); ``hint`` (what to do) at the end."""
        items = sorted(self._items.items())
        if len(items) == 1:
            (r, c), m = items[0]
            return f"{self.source}: row {r}, column {c!r}: {m}" + (f"; {hint}" if hint else "")
        rows = {r for r, _ in self._items}
        lines = [f"row {r}, column {c!r}: {m}" for (r, c), m in items[:MAX_LISTED]]
        more = len(items) - len(lines)
        tail = f"\n  ... and {more} more problem(s)" if more > 0 else ""
        return (f"{self.source}: {len(items)} problem(s) in {len(rows)} row(s):\n  "
                + "\n  ".join(lines) + tail + (f"\n  {hint}" if hint else ""))

    def raise_if_any(self, error: Type[CoverageError]) -> None:
        if self._items:
            raise error(self.message())
