"""Atomic file writes: write to a temporary name next to the target, then rename into place.

``os.replace`` is atomic on one filesystem, so a crash never leaves a half-written file under the
final name, and readers see the old file or the new one, never a mix.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path next to ``path``; on success rename it to ``path``, else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix or path.suffix or ".tmp", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # some writers (GDAL) refuse to overwrite an existing file
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield tmp
        if os.path.exists(tmp):
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 -> the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


#: Name of the marker file that says a folder was written whole by :func:`atomic_dir`.
RUN_MARKER = ".coverage-run"


@contextmanager
def output_lock(path):
    """Hold ``<path>.lock`` while writing ``path``: a second writer of the same output refuses
    (:class:`~coverage.errors.OutputLockedError`) instead of interleaving with the first. A lock left
    by a process that no longer exists is taken over."""
    from .errors import OutputLockedError

    lock = Path(os.fspath(path) + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _lock_pid(lock)
            if pid is not None and pid != os.getpid() and _alive(pid):
                raise OutputLockedError(f"{path} is being written by another run (process {pid}; lock file {lock}): "
                                        f"wait for it to finish, or write elsewhere") from None
            with _suppress_oserror():
                os.unlink(lock)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        break
    else:  # pragma: no cover - a race with a third writer
        raise OutputLockedError(f"{path}: cannot take the lock file {lock}")
    try:
        yield lock
    finally:
        with _suppress_oserror():
            os.unlink(lock)


def _lock_pid(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip() or "x")
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _suppress_oserror():
    try:
        yield
    except OSError:
        pass


@contextmanager
def atomic_dir(path):
    """Yield a temporary sibling folder of ``path``; on success it replaces ``path`` whole.

    A run's files appear together or not at all: an interrupt leaves ``path`` as it was (the
    temporary folder is removed), and a second run never mixes its files with the first's (the old
    folder is swapped out, not written into). An existing ``path`` is replaced only when it is empty
    or was itself written by this function (it holds :data:`RUN_MARKER`): a folder of other files is
    refused, never deleted.
    """
    import shutil
    import tempfile

    from .errors import OutputLockedError

    path = Path(path)
    if path.exists() and (not path.is_dir() or (any(path.iterdir()) and not (path / RUN_MARKER).exists())):
        raise OutputLockedError(f"{path} exists and holds files that a run did not write: give a new or empty "
                                f"folder (a run replaces its folder whole and would not keep them)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        yield tmp
        (tmp / RUN_MARKER).write_text("written whole by one run of blankspot-coverage\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's 0700 -> the usual permissions
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            os.rmdir(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
