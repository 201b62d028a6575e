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


# --- issue 9: the command line as a new user meets it ----------------------------------------------


def test_issue9_item7_errors_speak_cli_not_python(tmp_path):
    # an invalid (self-intersecting) village polygon: the hint names the flag, not repair=True
    bowtie = tmp_path / "bow.geojson"
    bowtie.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"kode": "64.72.01.2001", "nama": "Bow"},
        "geometry": {"type": "Polygon", "coordinates": [[[116.78, -0.45], [116.80, -0.43], [116.80, -0.45],
                                                         [116.78, -0.43], [116.78, -0.45]]]}}]}))
    p = _run("villages", "--terrain", str(SAMPLES / "terrain.tif"), "--sites", str(SAMPLES / "sites.csv"),
             "--villages", str(bowtie), "--radius", "5000", "--out-dir", str(tmp_path / "o"), "--no-progress")
    assert p.returncode == 2, p.stderr
    assert "--repair-geometries" in p.stderr and "repair=True" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    # a frequency outside the model: the hint is --extrapolate
    p = _run("predict", "--terrain", str(SAMPLES / "terrain.tif"), "--sites", str(SAMPLES / "sites.csv"),
             "--model", "hata", "--out", str(tmp_path / "x.tif"), "--no-progress")
    assert p.returncode == 2 and "--extrapolate" in p.stderr and "extrapolate=True" not in p.stderr


def test_issue9_item7_ctrl_c_is_one_line_exit_130(monkeypatch, capsys):
    from coverage import cli
    from coverage.cli import predict as cli_predict

    def interrupted(a):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_predict, "run", interrupted)
    rc = cli.main(["predict", "--sites", "x.csv", "--out", "x.tif", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 130 and err.strip() == "blankspot: interrupted"


def test_issue9_item7_unexpected_failure_is_one_line_traceback_with_v(monkeypatch, capsys):
    from coverage import cli
    from coverage.cli import predict as cli_predict

    def broken(a):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(cli_predict, "run", broken)
    assert cli.main(["predict", "--sites", "x.csv", "--out", "x.tif"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "ZeroDivisionError: boom" in err and "-v" in err
    assert cli.main(["-v", "predict", "--sites", "x.csv", "--out", "x.tif"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_issue9_item15_warnings_print_the_message_alone(tmp_path):
    # COST-231 over a 10 km radius: cells nearer than 1 km are outside its validated distances
    p = _run("predict", "--sites", str(SAMPLES / "sites.csv"), "--model", "cost231", "--technology", "4g",
             "--radius", "10000", "--resolution", "250", "--extrapolate", "--out", str(tmp_path / "c.tif"),
             "--no-progress")
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert lines, "expected a validity warning"
    for ln in lines:
        assert ln.startswith("blankspot: warning: "), ln
        assert "py.warnings" not in ln and ".py:" not in ln


def test_issue9_every_subcommand_has_help_with_example_and_no_progress():
    from coverage.cli import EXAMPLES, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, sp in sub.choices.items():
        assert name in EXAMPLES, name
        assert sp.description and sp.epilog and f"blankspot {name}" in sp.epilog, name
        assert "--no-progress" in sp._option_string_actions, name
        assert any(a.dest == name and a.help for a in sub._choices_actions), name


def test_issue9_item3_bounds_with_a_leading_minus_sign():
    from coverage.cli import _join_coordinates, build_parser

    argv = _join_coordinates(["villages", "--sites", "s.csv", "--villages", "v.geojson", "--bounds",
                              "-0.5,-1.0,117.0,1.0", "--out-dir", "o"])
    a = build_parser().parse_args(argv)
    assert a.bounds == (-0.5, -1.0, 117.0, 1.0)


def test_issue9_item16_name_clash_with_coverage_py_is_said_plainly(tmp_path):
    # a stand-in for coverage.py earlier on the path: the command says what is wrong and what to do
    fake = tmp_path / "site" / "coverage"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("version_info = (7, 0, 0)\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), str(REPO / "src")])
    p = subprocess.run([sys.executable, "-c", "import sys, _blankspot_cli; sys.exit(_blankspot_cli.main())"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2
    assert "coverage.py" in p.stderr and "pip uninstall coverage" in p.stderr and "Traceback" not in p.stderr


def test_a_missing_optional_package_names_the_extra(monkeypatch, capsys):
    from coverage import cli
    from coverage.cli import predict as cli_predict

    def needs_matplotlib(a):
        raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")

    monkeypatch.setattr(cli_predict, "run", needs_matplotlib)
    assert cli.main(["predict", "--sites", "x.csv", "--out", "x.tif"]) == 2
    err = capsys.readouterr().err
    assert "blankspot-coverage[plot]" in err and len(err.strip().splitlines()) == 1
