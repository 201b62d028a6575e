"""What villages report about their signal, and how predicted statuses compare with it.

Surveys answer in classes, not dBm, so the comparison is a confusion matrix of classes:

* **IDM 2024** (Indeks Desa Membangun, Kemendesa), indicator ``iks29_sinyal_telepon``: 5 = kuat
  (strong), 3 = lemah (weak), 0 = tidak ada sinyal (none); desa only (kelurahan are not scored).
* **Podes** (BPS Potensi Desa), ``R1005C`` signal strength in most of the village: 1 sangat kuat,
  2 kuat, 3 lemah, 4 tidak ada sinyal; ``R1005D`` mobile internet: 1 5G/4G/LTE, 2 3G/H/H+/EVDO,
  3 2.5G/EDGE/GPRS, 4 none (``podes_dictionary.md``). ``IDDESA`` is the BPS 10-digit code, ``R106B``
  the Kemendagri code.

A survey table "of that shape" is any table with a village code column (``kode``) and a class column
(``survey_class`` in {'kuat', 'lemah', 'tidak_ada'}), optionally ``kode_kab``.

Predicted statuses map onto the survey's classes as covered -> kuat, partial -> lemah,
blankspot -> tidak_ada. Disagreement is expected where the towers are a partial extract: the model
can only see the cells in the file, and a village answers for its settlement, not for its area.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import FileFormatError, InputError, VillageError

__all__ = ["read_idm", "read_podes", "read_podes_kabupaten", "compare_survey", "compare_podes_kabupaten",
           "SurveyComparison", "SURVEY_CLASSES", "STATUS_TO_SURVEY"]

SURVEY_CLASSES = ("kuat", "lemah", "tidak_ada")
STATUS_TO_SURVEY = {"covered": "kuat", "partial": "lemah", "blankspot": "tidak_ada"}
IDM_CODES = {5: "kuat", 3: "lemah", 0: "tidak_ada"}
PODES_R1005C = {1: "kuat", 2: "kuat", 3: "lemah", 4: "tidak_ada"}  # sangat kuat and kuat are both "kuat"
PODES_R1005C_DETAIL = {1: "sangat_kuat", 2: "kuat", 3: "lemah", 4: "tidak_ada"}
PODES_R1005D = {1: "4g", 2: "3g", 3: "2g", 4: "none"}


def _read_table(path) -> tuple[pd.DataFrame, str]:
    if isinstance(path, pd.DataFrame):
        return path.copy(), "<DataFrame>"
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"survey file not found: {p}")
    try:
        if p.suffix.lower() in (".xlsx", ".xls"):
            return pd.read_excel(p, dtype=str), str(p)
        return pd.read_csv(p, dtype=str, keep_default_na=False), str(p)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise FileFormatError(f"{p}: cannot read the survey table ({exc})") from exc


def _int_codes(series: pd.Series, mapping: dict, source: str, column: str) -> pd.Series:
    """Map a coded answer column through ``mapping``; blank -> missing; anything else is an error."""
    out = []
    for i, v in enumerate(series.tolist()):
        s = "" if v is None else str(v).strip()
        if s in ("", "nan", "NaN", "NA", "None"):
            out.append(None)
            continue
        try:
            k = int(float(s))
        except ValueError:
            k = None
        if k not in mapping or float(s) != k:
            raise FileFormatError(f"{source}: row {i + 2}: {column}={v!r} is not one of {sorted(mapping)}")
        out.append(mapping[k])
    return pd.Series(out, index=series.index, dtype=object)


def read_idm(path) -> pd.DataFrame:
    """Read the IDM 2024 signal indicator (``iks29_sinyal_telepon``: 5 kuat, 3 lemah, 0 tidak ada).

    Returns
    -------
    pandas.DataFrame
        ``kode`` (Kemendagri, str), ``kode_kab``, ``survey_class``, ``survey_score`` and the file's
        other columns (codes as strings).
    """
    df, src = _read_table(path)
    if "iks29_sinyal_telepon" not in df.columns or "kode" not in df.columns:
        raise FileFormatError(f"{src}: an IDM table needs 'kode' and 'iks29_sinyal_telepon'; columns are "
                              f"{list(df.columns)}")
    df["kode"] = df["kode"].astype(str).str.strip()
    df["survey_class"] = _int_codes(df["iks29_sinyal_telepon"], IDM_CODES, src, "iks29_sinyal_telepon")
    df["survey_score"] = pd.to_numeric(df["iks29_sinyal_telepon"], errors="coerce")
    if "kode_kab" not in df.columns:
        df["kode_kab"] = df["kode"].str[:5]
    df.attrs["source"] = src
    df.attrs["survey"] = "IDM 2024 iks29_sinyal_telepon"
    return df


def read_podes(path, *, code: str | None = None) -> pd.DataFrame:
    """Read village-level Podes answers: ``R1005C`` (signal) and ``R1005D`` (mobile internet).

    Parameters
    ----------
    path : path or DataFrame
        Podes microdata with ``R1005C`` (and optionally ``R1005D``) and a code column.
    code : {'R106B', 'IDDESA'}, optional
        Code column; default ``R106B`` (Kemendagri) where present and filled, else ``IDDESA`` (BPS
        10 digits). The two are different systems: compare with a village table of the same system.

    Returns
    -------
    pandas.DataFrame
        ``kode`` (str), ``code_system``, ``kode_kab``, ``survey_class`` (kuat/lemah/tidak_ada; sangat
        kuat and kuat are both 'kuat'), ``survey_class_detail``, ``survey_internet`` (4g/3g/2g/none).
    """
    from .villages import detect_code_system

    df, src = _read_table(path)
    cols = {c.upper(): c for c in df.columns}
    if "R1005C" not in cols:
        raise FileFormatError(f"{src}: a Podes table needs column R1005C (signal strength)")
    if code is None:
        if "R106B" in cols and df[cols["R106B"]].astype(str).str.strip().ne("").all():
            code = "R106B"
        elif "IDDESA" in cols:
            code = "IDDESA"
        else:
            raise FileFormatError(f"{src}: no code column (R106B or IDDESA)")
    if code.upper() not in cols:
        raise FileFormatError(f"{src}: no code column {code!r}")
    out = pd.DataFrame({"kode": df[cols[code.upper()]].astype(str).str.strip()})
    system = detect_code_system(out["kode"], source=src)
    out["code_system"] = system
    out["kode_kab"] = out["kode"].str[:5] if system == "kemendagri" else out["kode"].str[:4]
    out["survey_class"] = _int_codes(df[cols["R1005C"]], PODES_R1005C, src, "R1005C")
    out["survey_class_detail"] = _int_codes(df[cols["R1005C"]], PODES_R1005C_DETAIL, src, "R1005C")
    if "R1005D" in cols:
        out["survey_internet"] = _int_codes(df[cols["R1005D"]], PODES_R1005D, src, "R1005D")
    for c in ("NAMA_DESA", "NAMA_KAB", "R1005A", "R1005B"):
        if c in cols:
            out[c.lower()] = df[cols[c]].to_numpy()
    out.attrs.update(source=src, survey="Podes R1005C/R1005D", code_system=system)
    return out


def read_podes_kabupaten(path) -> pd.DataFrame:
    """Read the Podes 2024 kabupaten aggregates (villages, with BTS, with 4G/5G, with (very) strong signal).

    Returns
    -------
    pandas.DataFrame
        ``kode_kab`` (Kemendagri ``PP.KK``), ``nama``, ``villages``, ``bts``, ``internet_4g``,
        ``signal_good`` (sangat kuat + kuat) and their shares ``share_bts``, ``share_4g``,
        ``share_signal_good``.
    """
    df, src = _read_table(path)
    need = ["boundary_code_kab_dot", "desa_kelurahan", "bts_ada", "internet_5g_4g_lte", "sinyal_sangat_kuat",
            "sinyal_kuat"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise FileFormatError(f"{src}: Podes kabupaten table lacks {missing}")
    num = {c: pd.to_numeric(df[c], errors="raise") for c in need[1:]}
    out = pd.DataFrame({"kode_kab": df["boundary_code_kab_dot"].astype(str).str.strip(),
                        "nama": df.get("geo_name", df.get("kabupaten_kota")),
                        "villages": num["desa_kelurahan"].astype(int), "bts": num["bts_ada"].astype(int),
                        "internet_4g": num["internet_5g_4g_lte"].astype(int),
                        "signal_good": (num["sinyal_sangat_kuat"] + num["sinyal_kuat"]).astype(int)})
    for c, src_c in (("share_bts", "bts"), ("share_4g", "internet_4g"), ("share_signal_good", "signal_good")):
        out[c] = out[src_c] / out["villages"]
    out.attrs["source"] = src
    return out.sort_values("kode_kab").reset_index(drop=True)


@dataclass
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
    from .villages import detect_code_system

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
