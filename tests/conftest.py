"""Shared fixtures: the location of ../shared/data and the CI rule for absent data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the same hypothesis examples every time (a red run must be reproducible, not a draw);
# locally the examples stay random and the failures found are replayed from .hypothesis/.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("COVERAGE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the shared real data; skips the test when absent, fails in CI (CI=true)."""
    path = shared_data_dir()
    if not path.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data not found at {path} (CI=true requires it)")
        pytest.skip(f"shared data not found at {path}")
    return path


@pytest.fixture(scope="session")
def shared_file(shared_data):
    """Return a function that resolves a path under the shared data, with the same skip/fail rule."""

    def get(rel: str) -> Path:
        p = shared_data / rel
        if not p.exists():
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"shared file {p} missing (CI=true requires it)")
            pytest.skip(f"shared file {p} missing")
        return p

    return get
