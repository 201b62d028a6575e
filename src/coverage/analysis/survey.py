"""How predicted statuses compare with what villages report (IDM 2024, Podes).

Surveys answer in classes, not dBm, so the comparison is a confusion matrix of classes. Predicted
statuses map onto the survey's classes as covered -> kuat, partial -> lemah, blankspot -> tidak_ada.
Disagreement is expected where the towers are a partial extract: the model can only see the cells in
the file, and a village answers for its settlement, not for its area.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError, VillageError
from ..io.survey import STATUS_TO_SURVEY, SURVEY_CLASSES
from ..io.villages import detect_code_system

__all__ = ["compare_survey", "compare_podes_kabupaten", "SurveyComparison", "likely_missing_towers"]


@dataclass(repr=False)
class SurveyComparison:
    """Predicted status against reported signal, for the villages in both tables."""

    matrix: pd.DataFrame  # rows: survey class, columns: predicted status (counts)
    per_group: pd.DataFrame  # per kabupaten (or the given grouping)
    agreement: float  # share of villages whose predicted status maps to the reported class
    service_agreement: float  # same on two classes: some signal (kuat/lemah) vs none
    kappa: float  # Cohen's kappa of the three-class agreement
    n_matched: int
    unmatched_survey: list = field(default_factory=list)  # survey codes absent from the table
    unmatched_table: int = 0  # table villages without a survey answer (e.g. kelurahan for IDM)
    pairs: pd.DataFrame | None = None  # kode, predicted, observed per village

    def summary(self) -> dict:
        return {"n_matched": self.n_matched, "agreement": round(self.agreement, 4),
                "service_agreement": round(self.service_agreement, 4), "kappa": round(self.kappa, 4),
                "unmatched_survey": len(self.unmatched_survey), "unmatched_table": self.unmatched_table}

    def to_frame(self) -> pd.DataFrame:
        """The confusion matrix with row and column totals (rows: reported class, columns: predicted)."""
        m = self.matrix.copy()
        m["total"] = m.sum(axis=1)
        m.loc["total"] = m.sum(axis=0)
        m.index.name, m.columns.name = "reported", "predicted"
        return m

    def __repr__(self) -> str:
        return (f"SurveyComparison(n_matched={self.n_matched}, agreement={self.agreement:.1%}, "
                f"service_agreement={self.service_agreement:.1%}, kappa={self.kappa:.3f}, "
                f"unmatched_survey={len(self.unmatched_survey)}, unmatched_table={self.unmatched_table})")

    def _repr_html_(self) -> str:  # Jupyter: the short line, then the matrix
        return f"<p><code>{self.__repr__()}</code></p>" + self.to_frame()._repr_html_()


def _kappa(obs: np.ndarray, pred: np.ndarray, labels) -> float:
    n = obs.size
    if n == 0:
        return float("nan")
    po = float(np.mean(obs == pred))
    pe = sum(float(np.mean(obs == c)) * float(np.mean(pred == c)) for c in labels)
    return float((po - pe) / (1 - pe)) if pe < 1 else float("nan")


def compare_survey(table, survey, *, predicted: str = "status", observed: str = "survey_class",
                   by: str = "kode_kab", mapping: dict | None = None) -> SurveyComparison:
    """Confusion matrix and agreement of predicted statuses against a survey's reported classes.

    Parameters
    ----------
    table : DataFrame
        Village table (``kode``, ``status``, ``kode_kab``...) from :func:`coverage.assess_villages`.
    survey : DataFrame
        Any table with ``kode`` and ``observed`` (classes kuat / lemah / tidak_ada), e.g. from
        :func:`read_idm` or :func:`read_podes`.
    predicted, observed : str
        Column names of the predicted status and of the reported class.
    by : str
        Grouping column for the per-group agreement (default kabupaten).
    mapping : dict, optional
        Predicted status -> survey class (default covered->kuat, partial->lemah, blankspot->tidak_ada).

    Returns
    -------
    SurveyComparison

    Raises
    ------
    VillageError
        When the two tables use different code systems (Kemendagri vs BPS): no silent join.
    """

    mp = dict(STATUS_TO_SURVEY if mapping is None else mapping)
    for name, df, col in (("table", table, predicted), ("survey", survey, observed)):
        if "kode" not in df.columns or col not in df.columns:
            raise InputError(f"the {name} needs columns 'kode' and {col!r}")
    t = pd.DataFrame({"kode": table["kode"].astype(str), "predicted": table[predicted].astype(str)})
    if by in table.columns:
        t[by] = table[by].astype(str).to_numpy()
    s = pd.DataFrame({"kode": survey["kode"].astype(str), "observed": survey[observed]})
    s = s[s["observed"].notna()]
    bad = ~s["observed"].isin(SURVEY_CLASSES)
    if bad.any():
        raise InputError(f"survey class {s.loc[bad, 'observed'].iloc[0]!r} is not one of {SURVEY_CLASSES}")
    sys_t = detect_code_system(t["kode"], source="village table")
    sys_s = detect_code_system(s["kode"], source="survey")
    if sys_t != sys_s:
        raise VillageError(f"the village table has {sys_t} codes and the survey {sys_s} codes: different "
                           f"numberings, not joined without a crosswalk")
    if s["kode"].duplicated().any():
        raise VillageError(f"survey code {s.loc[s['kode'].duplicated(), 'kode'].iloc[0]!r} appears twice")
    m = t.merge(s, on="kode", how="inner")
    m = m[m["predicted"].isin(mp)]  # 'unassessed' villages have no prediction to compare
    unmatched_survey = sorted(set(s["kode"]) - set(t["kode"]))
    unmatched_table = int((~t["kode"].isin(set(s["kode"]))).sum())
    m["predicted_class"] = m["predicted"].map(mp)
    statuses = [k for k in ("covered", "partial", "blankspot") if k in mp] + \
        [k for k in mp if k not in ("covered", "partial", "blankspot")]
    matrix = pd.crosstab(pd.Categorical(m["observed"], SURVEY_CLASSES),
                         pd.Categorical(m["predicted"], statuses), dropna=False)
    matrix.index.name, matrix.columns.name = "reported", "predicted"
    obs = m["observed"].to_numpy()
    pc = m["predicted_class"].to_numpy()
    agree = obs == pc
    service = (obs != "tidak_ada") == (pc != "tidak_ada")
    m["agree"] = agree
    m["service_agree"] = service
    if by in m.columns:
        g = m.groupby(by, sort=True)
        per = pd.DataFrame({
            "villages": g.size(), "agreement": g["agree"].mean(), "service_agreement": g["service_agree"].mean(),
            "reported_kuat": g["observed"].apply(lambda x: float(np.mean(x == "kuat"))),
            "reported_lemah": g["observed"].apply(lambda x: float(np.mean(x == "lemah"))),
            "reported_tidak_ada": g["observed"].apply(lambda x: float(np.mean(x == "tidak_ada"))),
            "predicted_covered": g["predicted"].apply(lambda x: float(np.mean(x == "covered"))),
            "predicted_partial": g["predicted"].apply(lambda x: float(np.mean(x == "partial"))),
            "predicted_blankspot": g["predicted"].apply(lambda x: float(np.mean(x == "blankspot"))),
            "kappa": g.apply(lambda x: _kappa(x["observed"].to_numpy(), x["predicted_class"].to_numpy(),
                                              SURVEY_CLASSES), include_groups=False),
        }).reset_index()
    else:
        per = pd.DataFrame()
    return SurveyComparison(matrix=matrix, per_group=per, agreement=float(np.mean(agree)) if agree.size else np.nan,
                            service_agreement=float(np.mean(service)) if service.size else np.nan,
                            kappa=_kappa(obs, pc, SURVEY_CLASSES), n_matched=int(len(m)),
                            unmatched_survey=unmatched_survey, unmatched_table=unmatched_table,
                            pairs=m[["kode", "predicted", "observed"] + ([by] if by in m.columns else [])])


def compare_podes_kabupaten(kabupaten_indicator: pd.DataFrame, podes: pd.DataFrame) -> pd.DataFrame:
    """Predicted kabupaten shares against the Podes kabupaten aggregates.

    Returns one row per kabupaten with the predicted ``share_villages_covered`` and
    ``share_villages_served`` (covered or partial) next to Podes' ``share_signal_good`` (villages
    reporting very strong or strong signal), ``share_4g`` and ``share_bts``, and the differences.
    """
    k = kabupaten_indicator
    need = {"kode", "villages", "covered", "partial", "villages_assessed"}
    if not need <= set(k.columns):
        raise InputError(f"the kabupaten indicator lacks {sorted(need - set(k.columns))}")
    pred = pd.DataFrame({"kode_kab": k["kode"].astype(str), "nama": k.get("nama"), "villages_predicted": k["villages"],
                         "share_villages_covered": k["covered"] / k["villages_assessed"],
                         "share_villages_served": (k["covered"] + k["partial"]) / k["villages_assessed"]})
    p = podes.rename(columns={"villages": "villages_podes", "nama": "nama_podes"})
    out = pred.merge(p[["kode_kab", "villages_podes", "share_signal_good", "share_4g", "share_bts"]],
                     on="kode_kab", how="outer")
    out["diff_served_vs_signal_good"] = out["share_villages_served"] - out["share_signal_good"]
    out["diff_covered_vs_4g"] = out["share_villages_covered"] - out["share_4g"]
    return out.sort_values("kode_kab").reset_index(drop=True)


def likely_missing_towers(table, survey, sites=None, *, predicted: str = "status", observed: str = "survey_class",
                          unreached: tuple = ("blankspot",)) -> pd.DataFrame:
    """Villages that report a signal where no listed tower reaches them: a tower likely missing from the list.

    The survey used as a measurement: a village answering *kuat* or *lemah* while every listed tower
    leaves it in a blankspot says the tower list (e.g. a partial OpenCelliD extract) lacks a tower
    near it, not that the propagation model is wrong. Sorted by the distance to the nearest listed
    tower, farthest first (the likeliest gaps).

    Parameters
    ----------
    table : DataFrame
        Village table of :func:`coverage.assess_villages` (``kode``, ``status``, ``point_lon`` /
        ``point_lat`` or ``nearest_site_km``).
    survey : DataFrame
        ``kode`` and the reported class (``survey_class``: kuat / lemah / tidak_ada).
    sites : DataFrame, optional
        Towers (``site_id``, ``lon``, ``lat``); default: the table's ``nearest_site`` columns.
    unreached : tuple of str
        Predicted statuses that mean "no listed tower reaches it".

    Returns
    -------
    DataFrame
        ``kode`` (+ ``nama``, ``kode_kab`` when present), ``reported``, ``predicted``, ``nearest_site``,
        ``nearest_site_km``, ``reason``; ``attrs['note']`` says these are the tower list's gaps.
    """
    from .assess import _nearest_sites

    for name, df, col in (("table", table, predicted), ("survey", survey, observed)):
        if "kode" not in df.columns or col not in df.columns:
            raise InputError(f"the {name} needs columns 'kode' and {col!r}")
    t = pd.DataFrame(table).copy()
    t["kode"] = t["kode"].astype(str)
    s = pd.DataFrame({"kode": survey["kode"].astype(str), "reported": survey[observed]})
    if s["kode"].duplicated().any():
        raise VillageError(f"survey code {s.loc[s['kode'].duplicated(), 'kode'].iloc[0]!r} appears twice")
    m = t.merge(s, on="kode", how="inner")
    hit = m[m["reported"].isin(["kuat", "lemah"]) & m[predicted].isin(unreached)].copy()
    if sites is not None:
        if not {"lon", "lat"} <= set(sites.columns) or len(sites) == 0:
            raise InputError("sites need 'lon' and 'lat' columns and at least one row")
        lon_c = "point_lon" if "point_lon" in hit.columns else "lon"
        lat_c = "point_lat" if "point_lat" in hit.columns else "lat"
        if not {lon_c, lat_c} <= set(hit.columns):
            raise InputError("the table needs point_lon/point_lat (or lon/lat) to measure distances to sites")
        if len(hit):
            j, d = _nearest_sites(hit[lon_c].to_numpy(float), hit[lat_c].to_numpy(float),
                                  sites["lon"].to_numpy(float), sites["lat"].to_numpy(float))
            ids = sites["site_id"].astype(str).to_numpy() if "site_id" in sites.columns else np.arange(len(sites))
            hit["nearest_site"], hit["nearest_site_km"] = ids[j], d / 1e3
        else:
            hit["nearest_site"], hit["nearest_site_km"] = pd.Series(dtype=object), pd.Series(dtype=float)
    elif not {"nearest_site", "nearest_site_km"} <= set(hit.columns):
        raise InputError("pass sites=... or a table with nearest_site / nearest_site_km columns")
    hit["predicted"] = hit[predicted]
    hit["reason"] = ("reports '" + hit["reported"].astype(str) + "' but no listed tower reaches it; nearest listed "
                     + hit["nearest_site_km"].round(1).astype(str) + " km")
    keep = ["kode"] + [c for c in ("nama", "kode_kab") if c in hit.columns] + \
        ["reported", "predicted", "nearest_site", "nearest_site_km", "reason"]
    out = pd.DataFrame(hit[keep]).sort_values("nearest_site_km", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs["note"] = ("villages reporting signal where no listed tower reaches: gaps of the tower list (a likely "
                         "missing tower), not errors of the propagation model")
    return out
