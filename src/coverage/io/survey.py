"""Read what villages report about their signal: IDM 2024 and BPS Podes.

* **IDM 2024** (Indeks Desa Membangun, Kemendesa), indicator ``iks29_sinyal_telepon``: 5 = kuat
  (strong), 3 = lemah (weak), 0 = tidak ada sinyal (none); desa only (kelurahan are not scored).
* **Podes** (BPS Potensi Desa), ``R1005C`` signal strength in most of the village: 1 sangat kuat,
  2 kuat, 3 lemah, 4 tidak ada sinyal; ``R1005D`` mobile internet: 1 5G/4G/LTE, 2 3G/H/H+/EVDO,
  3 2.5G/EDGE/GPRS, 4 none (``podes_dictionary.md``). ``IDDESA`` is the BPS 10-digit code, ``R106B``
  the Kemendagri code.

A survey table "of that shape" is any table with a village code column (``kode``) and a class column
(``survey_class`` in {'kuat', 'lemah', 'tidak_ada'}), optionally ``kode_kab``.
:mod:`coverage.analysis.survey` compares them with predicted statuses.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import FileFormatError, MissingFileError
from ._text import read_text_table

__all__ = ["read_idm", "read_podes", "read_podes_kabupaten", "SURVEY_CLASSES", "STATUS_TO_SURVEY"]

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
    if p.suffix.lower() in (".xlsx", ".xls"):
        if not p.exists():
            raise MissingFileError(f"survey file not found: {p}")
        try:
            return pd.read_excel(p, dtype=str), str(p)
        except Exception as exc:  # openpyxl / xlrd errors on a damaged or unsupported workbook
            raise FileFormatError(f"{p}: cannot read the survey table ({exc})") from exc
    return read_text_table(p, "survey", dtype=str, keep_default_na=False), str(p)


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
