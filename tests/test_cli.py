"""The command line as a user runs it: a subprocess on the embedded sample."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import rasterio

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"


def _run(*args, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "coverage.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd or REPO, timeout=600)


def test_predict_on_the_sample(tmp_path):
    out = tmp_path / "cov.tif"
    p = _run("predict", "--terrain", str(SAMPLES / "terrain.tif"), "--sites", str(SAMPLES / "sites.csv"),
             "--radius", "10000", "--out", str(out), "--no-progress")
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["model"] == "p526" and summary["sites"] == 5 and summary["terrain"] is True
    with rasterio.open(out) as src:
        best = src.read(1)
        assert src.crs.to_epsg() == 32750 and np.isfinite(best).all()
    assert 0 < summary["share_usable"] <= 1


def test_smooth_earth_run_and_models_listing(tmp_path):
    out = tmp_path / "hata.tif"
    p = _run("predict", "--sites", str(SAMPLES / "sites.csv"), "--model", "cost231", "--radius", "8000",
             "--resolution", "200", "--technology", "4g", "--model-params", '{"environment": "suburban"}',
             "--extrapolate", "--out", str(out), "--no-progress")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1])["terrain"] is False
    p = _run("models")
    assert p.returncode == 0 and "p526" in p.stdout and "P.526" in p.stdout


def test_errors_are_one_clear_line(tmp_path):
    p = _run("predict", "--terrain", str(SAMPLES / "terrain.tif"), "--sites", str(tmp_path / "none.csv"),
             "--out", str(tmp_path / "x.tif"))
    assert p.returncode == 2 and "blankspot: error:" in p.stderr and "Traceback" not in p.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("site_id,lon,lat\nA,-0.43,116.8\n")
    p = _run("predict", "--terrain", str(SAMPLES / "terrain.tif"), "--sites", str(bad), "--out",
             str(tmp_path / "x.tif"))
    assert p.returncode == 2 and "swapped" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "x.tif").exists()
    p = _run("predict", "--terrain", str(SAMPLES / "terrain.tif"), "--sites", str(SAMPLES / "sites.csv"),
             "--model", "hata", "--out", str(tmp_path / "x.tif"))
    assert p.returncode == 2 and "freq_mhz=1800" in p.stderr and "Traceback" not in p.stderr


def test_numba_and_coverage_import_in_either_order():
    # numba probes for coverage.py with `import coverage`; our package must look absent to it
    for code in ("import numba, coverage, numba.misc.coverage_support as c; assert not c.coverage_available; "
                 "coverage.predict",
                 "import coverage, numba.misc.coverage_support as c; assert not c.coverage_available; "
                 "coverage.open_terrain"):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
        assert p.returncode == 0, p.stderr
