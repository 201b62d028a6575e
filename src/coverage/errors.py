"""The package's exception and warning hierarchy.

Every error raised on purpose by ``coverage`` derives from :class:`CoverageError` and also from the
built-in exception a caller would naturally catch (``ValueError`` for bad values, ``OSError`` for
files), so ``except ValueError`` keeps working in code that does not know this package.
"""

from __future__ import annotations

__all__ = [
    "CoverageError",
    "InputError",
    "ModelRangeError",
    "SiteError",
    "TerrainError",
    "TerrainReadError",
    "TerrainExtentError",
    "FileFormatError",
    "VillageError",
    "OutputLockedError",
    "MissingFileError",
    "CoverageWarning",
    "ModelRangeWarning",
    "TerrainWarning",
]


class CoverageError(Exception):
    """Root of every error raised by ``coverage``."""


class InputError(CoverageError, ValueError):
    """A parameter or input value is invalid; the message names it."""


class ModelRangeError(InputError):
    """A value lies outside the validity range of a propagation model."""


class SiteError(InputError):
    """A site (tower) row is invalid; the message names the file, row and column."""


class VillageError(InputError):
    """A village row or geometry is invalid; the message names the file, row and code."""


class FileFormatError(CoverageError, ValueError):
    """A file exists but its content cannot be understood (empty, malformed, missing columns)."""


class MissingFileError(CoverageError, FileNotFoundError):
    """An input file does not exist; the message names it and what it was meant to be."""


class OutputLockedError(CoverageError, OSError):
    """An output is being written by another run, or would overwrite files a run did not write."""


class TerrainError(CoverageError):
    """Base class of terrain problems."""


class TerrainReadError(TerrainError, OSError):
    """A terrain file cannot be found or read."""


class TerrainExtentError(TerrainError, ValueError):
    """A requested area or point is not covered by valid terrain."""


class CoverageWarning(UserWarning):
    """Root of every warning issued by ``coverage``."""


class ModelRangeWarning(CoverageWarning):
    """A model is used outside the range it was validated for; results are extrapolated."""


class TerrainWarning(CoverageWarning):
    """Terrain was repaired (voids filled) or only partly covers the request."""
