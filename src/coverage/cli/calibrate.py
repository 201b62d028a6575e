"""``blankspot calibrate`` and ``blankspot validate``: tune a model to a drive test, check a model against one.

    blankspot calibrate --measurements drive.csv --sites sites.csv --model cost231 --out cal.json
    blankspot validate --measurements drive.csv --sites sites.csv --model cal.json --out-dir check/

``calibrate`` writes the calibrated model and its cross-validated report (JSON, loadable with
``Calibration.load``), optionally the plot and per-fold / per-site tables; ``validate`` takes a model
name or a calibration JSON and writes the statistics per site and per distance band and the plots.
Both print a JSON summary on stdout.
"""

from __future__ import annotations

import json
from pathlib import Path

from ._common import _params

COMMANDS = ("calibrate", "validate")


def _add_common(p) -> None:
    p.add_argument("--measurements", required=True, help="drive-test table (CSV, GeoJSON, GPKG)")
    p.add_argument("--sites", help="sites table joined on site_id (CSV / GeoJSON)")
    p.add_argument("--technology", choices=["2g", "3g", "4g", "5g"], help="technology of sites that do not say")
    p.add_argument("--rx-height", type=float, help="receiver height above ground for rows without one, m (default 1.5)")
    p.add_argument("--terrain", nargs="+", help="DEM files (profile models and the diffraction term)")
    p.add_argument("--model-params", type=_params, help="JSON object of base-model parameters")
    p.add_argument("--extrapolate", action="store_true", help="allow frequencies outside the model's range")
    p.add_argument("--clutter-raster", help="land-cover GeoTIFF sampled at the points (a 'clutter' class each)")
    p.add_argument("--clutter-classes", type=_params, help='JSON code -> class name, e.g. \'{"50": "urban"}\'')


def add_parser(sub) -> None:
    pc = sub.add_parser("calibrate", help="fit a model to measured path loss (spatially cross-validated)")
    _add_common(pc)
    pc.add_argument("--model", default="hata", help="base model: hata, cost231, fspl, p526, itm (default hata)")
    pc.add_argument("--fit", default="offset,slope", help="terms: offset,slope,diffraction,clutter (default offset,slope)")
    pc.add_argument("--folds", type=int, default=None, help="cross-validation folds (default 5)")
    pc.add_argument("--block", type=float, default=None, help="side of the spatial blocks held out together, m (default 250)")
    pc.add_argument("--name", help="registry name of the calibrated model (default <model>+cal)")
    pc.add_argument("--out", required=True, help="calibration JSON")
    pc.add_argument("--plot", help="figure: predicted vs measured and error vs distance (.png/.pdf/.svg)")
    pc.add_argument("--tables", help="folder for per_fold.csv and per_site.csv")

    pv = sub.add_parser("validate", help="error statistics of a model or a calibration against measurements")
    _add_common(pv)
    pv.add_argument("--model", default="hata", help="model name or calibration JSON from `blankspot calibrate`")
    pv.add_argument("--coverage", help="a coverage GeoTIFF from `blankspot predict` to check instead of a model "
                                       "(needs --sites for the EIRP and sectors)")
    pv.add_argument("--out-dir", help="folder for per_site.csv, per_distance.csv, points.csv and validation.png")


def run(a) -> int:
    return _cmd_calibrate(a) if a.command == "calibrate" else _cmd_validate(a)


def _terrain(a):
    if not a.terrain:
        return None
    from ..io.terrain import open_terrain

    return open_terrain(a.terrain)


def _measurements(a):
    from ..io.measurements import read_measurements, sample_clutter

    meas = read_measurements(a.measurements, sites=a.sites, technology=a.technology, rx_height_m=a.rx_height)
    if a.clutter_raster:
        classes = {(int(k) if str(k).lstrip("-").isdigit() else k): v for k, v in (a.clutter_classes or {}).items()}
        meas = sample_clutter(meas, a.clutter_raster, classes=classes or None)
    return meas


def _coverage_result(a):
    """The result of ``--coverage`` with its sites' link budgets from ``--sites`` (by site id)."""
    from ..engine.result import CoverageResult
    from ..errors import InputError
    from ..io.measurements import _sites_frame

    if not a.sites:
        raise InputError("--coverage needs --sites: the EIRP and sector of each site turn its signal into path loss")
    result = CoverageResult.from_geotiff(a.coverage)
    sites = _sites_frame(a.sites, a.technology).drop_duplicates("site_id").set_index("site_id", drop=False)
    ids = [str(i) for i in result.sites["site_id"]]
    missing = [i for i in ids if i not in sites.index]
    if missing:
        raise InputError(f"{len(missing)} site ids of {a.coverage} are not in {a.sites} (e.g. {missing[0]!r})")
    result.sites = sites.loc[ids].reset_index(drop=True)
    return result


def _cmd_calibrate(a) -> int:
    from ..analysis.calibration import DEFAULT_BLOCK_M, DEFAULT_FOLDS, calibrate
    from ..render.export import write_csv

    cal = calibrate(_measurements(a), a.model, terrain=_terrain(a), fit=[t.strip() for t in a.fit.split(",") if t.strip()],
                    folds=DEFAULT_FOLDS if a.folds is None else a.folds,
                    block_m=DEFAULT_BLOCK_M if a.block is None else a.block, extrapolate=a.extrapolate,
                    name=a.name, **(a.model_params or {}))
    cal.save(a.out)
    if a.plot:
        cal.plot(a.plot)
    if a.tables:
        write_csv(cal.report["per_fold"], Path(a.tables) / "per_fold.csv")
        write_csv(cal.report["per_site"], Path(a.tables) / "per_site.csv")
    print(json.dumps({"out": str(a.out), **cal.summary()}))
    return 0


def _cmd_validate(a) -> int:
    from ..analysis.calibration import Calibration, validate
    from ..render.export import write_csv

    meas = _measurements(a)
    if a.coverage:
        v = validate(meas, _coverage_result(a))
    else:
        model = Calibration.load(a.model) if a.model.lower().endswith(".json") else a.model
        v = validate(meas, model, terrain=_terrain(a), extrapolate=a.extrapolate, **(a.model_params or {}))
    if a.out_dir:
        out = Path(a.out_dir)
        write_csv(v.per_site, out / "per_site.csv")
        write_csv(v.per_distance, out / "per_distance.csv")
        write_csv(v.points, out / "points.csv")
        v.plot(out / "validation.png")
    print(json.dumps(v.summary()))
    return 0
