"""Village population from the 2010 census (SP2010, BPS), joined to today's Kemendagri villages.

The census table carries **BPS 2010 codes**, not Kemendagri codes, and 2010's province 64 held what
is now Kalimantan Timur and Kalimantan Utara (Mahakam Ulu was still part of Kutai Barat). No
crosswalk exists here, so :func:`read_population` joins by *names* (kabupaten, kecamatan, village),
normalised (case, prefixes such as "Desa" / "Kelurahan" / "Kabupaten", punctuation, spaces), in tiers,
each tier only among what is still unmatched:

1. ``exact``: same village name in the same kecamatan of the same kabupaten (a kabupaten created
   since 2010, such as Mahakam Ulu, is looked for by its kecamatan names alone);
2. ``same_kabupaten``: same village name in the same kabupaten (kecamatan split or renamed);
3. ``fuzzy``: the most similar name (difflib ratio >= ``fuzzy_min`` on the names without spaces) in
   the same kecamatan, then in the same kabupaten (spelling variants: "Besiq" / "Besik");
4. ``renamed``: one name is the other plus whole words, in the same kecamatan ("Linggang Tutung" /
   "Tutung");
5. ``split``: a village created since 2010 whose name is a census village's name plus a direction or
   ordinal ("Sempaja Barat"), or shares its stem with another direction, in the same kabupaten.

Ordinals are compared as Roman numerals ("Satu" = "1" = "I"), "Sei" as "Sungai", and a census name
with alternatives ("Long Atua/Long Kemuat") matches either.
A census village that several of today's villages come from (a split, or a split plus its
remainder) shares its 2010 population among them **in proportion to their area** (uniform density,
the only assumption the data allow). Nothing is dropped silently: villages left without a population
and census rows left unused come back as tables, and a :class:`~coverage.errors.CoverageWarning`
states the match rate.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CoverageWarning, FileFormatError, InputError
from ._text import read_text_table

__all__ = ["CENSUS_COLUMNS", "PopulationJoin", "normalise_name", "read_population"]

#: Columns the census table must have (SP2010 per village, BPS 2010 codes).
CENSUS_COLUMNS = ("kab_name", "kec_name", "desa_name", "population_2010")

#: Default minimum difflib similarity for the fuzzy tier (0..1). 0.85 accepts one or two letters of
#: spelling difference in a typical 8-12 letter name ("Sungai Meriam" / "Sungai Mariam") and refuses
#: different names sharing a word ("Long Lunuk" / "Long Bagun").
FUZZY_MIN = 0.85

#: Spelling variants written one way: ordinals as Roman numerals, "Sei" for "Sungai", "Lung" for "Long".
_WORDS = {"SATU": "I", "DUA": "II", "TIGA": "III", "EMPAT": "IV", "1": "I", "2": "II", "3": "III", "4": "IV",
          "SEI": "SUNGAI", "SUNGEI": "SUNGAI", "LUNG": "LONG"}

_PREFIXES = ("KABUPATEN", "KAB", "KOTA", "KECAMATAN", "KEC", "DESA", "KELURAHAN", "KEL", "KAMPUNG", "KAMP")


def normalise_name(name) -> str:
    """Upper-case ASCII name without administrative prefixes, punctuation or repeated spaces.

    ``"Kabupaten Kutai  Barat"`` -> ``"KUTAI BARAT"``; ``"Pa' Dalan"`` -> ``"PA DALAN"``;
    ``"Desa Long-Iram"`` -> ``"LONG IRAM"``.
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return ""
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().upper()
    s = re.sub(r"[\'`\u2019]", "", s)  # "PA' DALAN" and "PA DALAN" are the same name
    s = re.sub(r"[^A-Z0-9]+", " ", s).strip()
    words = s.split()
    while len(words) > 1 and words[0] in _PREFIXES:
        words = words[1:]
    return " ".join(_WORDS.get(w, w) for w in words)


@dataclass
class PopulationJoin:
    """What :func:`read_population` returns.

    Attributes
    ----------
    table : DataFrame
        One row per village of the input, in its order: ``kode``, ``population`` (people, float;
        NaN where no census row was found), ``population_method`` (exact / same_kabupaten / fuzzy /
        split / unmatched), ``population_share`` (this village's share of its census parent(s)),
        ``census_desa`` / ``census_code`` (the 2010 village(s) it was matched to).
    unmatched : DataFrame
        Today's villages left without a population.
    unused : DataFrame
        Census rows assigned to no village (their people are in no total).
    match_rate : float
        Share of today's villages that received a population.
    people_matched_share : float
        Share of the census total that reached a village.
    """

    table: pd.DataFrame
    unmatched: pd.DataFrame
    unused: pd.DataFrame
    match_rate: float
    people_matched_share: float
    counts: dict = field(default_factory=dict)

    def apply(self, villages):
        """A copy of ``villages`` with the ``population`` column filled from the census, by ``kode``."""
        out = villages.copy()
        pop = self.table.set_index("kode")["population"]
        out["population"] = out["kode"].astype(str).map(pop).astype(float)
        out.attrs = dict(villages.attrs)
        out.attrs["population_source"] = {"source": "SP2010 (BPS) by name join", "match_rate": self.match_rate,
                                          "counts": self.counts}
        return out


def _read_census(path) -> pd.DataFrame:
    if isinstance(path, pd.DataFrame):
        df = path.copy()
        src = "census table"
    else:
        p = Path(path)
        if not p.exists():
            raise FileFormatError(f"census file {p} does not exist")
        df = read_text_table(p, "census", dtype=str)  # a spreadsheet export reads too (';', cp1252)
        src = str(p)
    missing = [c for c in CENSUS_COLUMNS if c not in df.columns]
    if missing:
        raise FileFormatError(f"{src}: missing column(s) {missing}; expected {list(CENSUS_COLUMNS)}")
    pop = pd.to_numeric(df["population_2010"], errors="coerce")
    bad = np.flatnonzero(~(pop >= 0))
    if bad.size:
        i = int(bad[0])
        raise FileFormatError(f"{src}: row {i + 2} has population_2010={df['population_2010'].iloc[i]!r}, "
                              f"not a head count ({bad.size} such rows)")
    df["population_2010"] = pop.astype(float)
    for c in ("kab", "kec", "desa"):
        df[f"_{c}"] = df[f"{c}_name"].map(normalise_name)
    if "bps_code_10" not in df.columns:
        df["bps_code_10"] = [f"row{i + 2}" for i in range(len(df))]
    return df.reset_index(drop=True)


def _village_columns(villages) -> pd.DataFrame:
    need = ("kode", "nama", "nama_kec", "nama_kab")
    missing = [c for c in need if c not in villages.columns]
    if missing:
        raise InputError(f"villages need the columns {list(need)} for the name join (missing {missing}): read "
                         f"them with coverage.read_villages(..., hierarchy=<centroid CSV>)")
    v = pd.DataFrame({"kode": villages["kode"].astype(str).to_numpy()})
    for c, src in (("kab", "nama_kab"), ("kec", "nama_kec"), ("desa", "nama")):
        v[f"_{c}"] = villages[src].map(normalise_name).to_numpy()
    if hasattr(villages, "geometry") and villages.geometry is not None:
        g = villages.geometry
        # equal-area projection for the area shares (units do not matter, only ratios)
        v["_area"] = g.to_crs("+proj=cea +lat_ts=0").area.to_numpy() if g.crs is not None else g.area.to_numpy()
    else:
        v["_area"] = np.nan
    return v


def _census_names(c: pd.DataFrame) -> pd.DataFrame:
    """One row per census name: rows naming alternatives ("LONG ATUA/LONG KEMUAT") give one each."""
    rows = []
    for j, (kab, kec, desa) in enumerate(zip(c["_kab"], c["_kec"], c["desa_name"])):
        for alt in str(desa).split("/"):
            n = normalise_name(alt)
            if n:
                rows.append((j, kab, kec, n, n.replace(" ", "")))
    return pd.DataFrame(rows, columns=["j", "_kab", "_kec", "_desa", "_key"])


def _match_tiers(v: pd.DataFrame, c: pd.DataFrame, fuzzy_min: float) -> tuple[np.ndarray, np.ndarray]:
    """Census row index per village (-1 none) and the tier name."""
    n = len(v)
    parent = np.full(n, -1, dtype=np.int64)
    method = np.full(n, "unmatched", dtype=object)
    used = np.zeros(len(c), dtype=bool)
    cn = _census_names(c)
    census_kabs = set(c["_kab"])
    v = v.assign(_key=v["_desa"].str.replace(" ", "", regex=False))
    # a village of a kabupaten created since 2010 (Mahakam Ulu) is looked for by kecamatan alone
    new_kab = ~v["_kab"].isin(census_kabs).to_numpy()

    def scope_mask(i, level):
        m = ~used[cn["j"].to_numpy()]
        if level in ("kec", "kab") and not new_kab[i]:
            m &= (cn["_kab"] == v.at[i, "_kab"]).to_numpy()
        if level == "kec" or (new_kab[i] and level == "kab"):
            m &= (cn["_kec"] == v.at[i, "_kec"]).to_numpy()
        return m

    def assign(i, j, how):
        parent[i], method[i] = j, how
        used[j] = True

    # tiers, each among what is still free; a name that is ambiguous in its scope is not taken
    for how, level in (("exact", "kec"), ("same_kabupaten", "kab")):
        for i in np.flatnonzero(parent < 0):
            hit = np.flatnonzero(scope_mask(i, level) & (cn["_key"] == v.at[i, "_key"]).to_numpy())
            js = set(cn["j"].to_numpy()[hit].tolist())
            if len(js) == 1:
                assign(i, js.pop(), how)
    for level in ("kec", "kab"):
        pairs = []
        for i in np.flatnonzero(parent < 0):
            cand = {}
            for k in np.flatnonzero(scope_mask(i, level)):
                r = difflib.SequenceMatcher(None, v.at[i, "_key"], cn.at[k, "_key"]).ratio()
                if r >= fuzzy_min:
                    j = int(cn.at[k, "j"])
                    cand[j] = max(r, cand.get(j, 0.0))
            top = max(cand.values(), default=0.0)
            if sum(1 for r in cand.values() if r == top) == 1:  # a tie between two census rows: no guess
                pairs.extend((r, i, j) for j, r in cand.items())
        for r, i, j in sorted(pairs, reverse=True):
            if parent[i] < 0 and not used[j]:
                assign(i, j, "fuzzy")
    # renamed ("Linggang Tutung" / "Tutung", "Payung-Payung" / "Maratua Payung-Payung"): one name is
    # the other plus whole words, in the same kecamatan
    for i in np.flatnonzero(parent < 0):
        name = v.at[i, "_desa"]
        hit = [k for k in np.flatnonzero(scope_mask(i, "kec")) if _contains_words(name, cn.at[k, "_desa"])]
        js = {int(cn.at[k, "j"]) for k in hit}
        if len(js) == 1:
            assign(i, js.pop(), "renamed")
    # splits: today's name begins with a census name ("Sempaja Barat" from "Sempaja Utara"'s parent
    # "Sempaja"), census rows already used allowed (they share), longest name wins, same kabupaten
    for i in np.flatnonzero(parent < 0):
        name = v.at[i, "_desa"]
        m = (cn["_kab"] == v.at[i, "_kab"]).to_numpy() if not new_kab[i] else (cn["_kec"] == v.at[i, "_kec"]).to_numpy()
        best, best_len = -1, 0
        for k in np.flatnonzero(m):
            cname = cn.at[k, "_desa"]
            if len(cname) > best_len and _split_of(name, cname):
                best, best_len = int(cn.at[k, "j"]), len(cname)
        if best >= 0:
            parent[i], method[i] = best, "split"
            used[best] = True
    return parent, method


_DIRECTIONS = ("UTARA", "SELATAN", "TIMUR", "BARAT", "TENGAH", "ILIR", "ULU", "HULU", "HILIR", "BARU", "LAMA",
               "RAYA", "JAYA", "INDAH", "I", "II", "III", "IV", "DARAT", "SEBERANG", "BESAR", "KECIL")


def _contains_words(a: str, b: str) -> bool:
    """One name is the other with whole words added before or after it."""
    if not a or not b or a == b:
        return False
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return long_.startswith(short + " ") or long_.endswith(" " + short)


def _split_of(name: str, parent: str) -> bool:
    """``name`` looks like a part split off ``parent``: the parent's name plus a direction or ordinal,
    or both the same stem with different directions ("Sempaja Barat" / "Sempaja Utara")."""
    if name.startswith(parent + " ") and name[len(parent) + 1:].split()[0] in _DIRECTIONS:
        return True
    a, b = name.split(), parent.split()
    return len(a) >= 2 and len(b) >= 2 and a[:-1] == b[:-1] and a[-1] in _DIRECTIONS and b[-1] in _DIRECTIONS


def read_population(path, villages, *, fuzzy_min: float = FUZZY_MIN, warn: bool = True) -> PopulationJoin:
    """Join 2010 census populations (BPS codes) to today's villages (Kemendagri codes) by name.

    Parameters
    ----------
    path : path or DataFrame
        The census table (``kab_name, kec_name, desa_name, population_2010``, optionally
        ``bps_code_10``), e.g. ``census2010_villages_kaltim_kaltara.csv``.
    villages : (Geo)DataFrame
        Today's villages with ``kode, nama, nama_kec, nama_kab`` (from
        :func:`coverage.read_villages` with the hierarchy); polygons give the area shares of splits,
        without geometry a parent's population is shared equally.
    fuzzy_min : float
        Minimum name similarity (difflib ratio, 0..1) for the fuzzy tier (default :data:`FUZZY_MIN`).
    warn : bool
        Warn (:class:`CoverageWarning`) with the match rate and the unmatched count.

    Returns
    -------
    PopulationJoin
        ``.table`` per village, ``.unmatched`` / ``.unused``, ``.match_rate``; ``.apply(villages)``
        fills their ``population`` column.

    Notes
    -----
    2010 populations are applied to today's villages unchanged (no growth projection): a population
    term built on them is the 2010 distribution of people, which is what it should be called.
    """
    if not 0 < float(fuzzy_min) <= 1:
        raise InputError(f"fuzzy_min must be in (0, 1], got {fuzzy_min}")
    c = _read_census(path)
    v = _village_columns(villages)
    parent, method = _match_tiers(v, c, float(fuzzy_min))
    # share each census village among the villages that came from it, by area
    pop = np.full(len(v), np.nan)
    share = np.full(len(v), np.nan)
    for j, idx in pd.Series(np.arange(len(v))[parent >= 0]).groupby(parent[parent >= 0]).groups.items():
        rows = np.arange(len(v))[parent >= 0][np.asarray(list(idx))]
        area = v["_area"].to_numpy()[rows]
        w = area / area.sum() if np.all(np.isfinite(area)) and area.sum() > 0 else np.full(rows.size, 1 / rows.size)
        share[rows] = w
        pop[rows] = c.at[int(j), "population_2010"] * w
    pj = np.where(parent >= 0, parent, 0)
    table = pd.DataFrame({
        "kode": v["kode"], "population": pop, "population_method": method, "population_share": share,
        "census_desa": np.where(parent >= 0, c["desa_name"].to_numpy()[pj], None),
        "census_code": np.where(parent >= 0, c["bps_code_10"].to_numpy()[pj], None),
    })
    used = np.zeros(len(c), bool)
    used[parent[parent >= 0]] = True
    unmatched = pd.DataFrame({"kode": v["kode"], "nama": villages["nama"].to_numpy(),
                              "nama_kec": villages["nama_kec"].to_numpy(),
                              "nama_kab": villages["nama_kab"].to_numpy()})[parent < 0].reset_index(drop=True)
    unused = c.loc[~used, [k for k in c.columns if not k.startswith("_")]].reset_index(drop=True)
    rate = float((parent >= 0).mean()) if len(v) else 0.0
    total = float(c["population_2010"].sum())
    people = float(c.loc[used, "population_2010"].sum()) / total if total > 0 else 0.0
    counts = {k: int((method == k).sum()) for k in ("exact", "same_kabupaten", "fuzzy", "renamed", "split", "unmatched")}
    if warn:
        warnings.warn(f"census 2010 population joined by name to {int((parent >= 0).sum())} of {len(v)} villages "
                      f"({rate:.1%}; {counts}); {len(unmatched)} villages have no population (NaN, kept: see "
                      f".unmatched) and {len(unused)} census villages ({1 - people:.1%} of the people) matched "
                      f"none (see .unused)", CoverageWarning, stacklevel=2)
    return PopulationJoin(table, unmatched, unused, rate, people, counts)


def with_population(villages, population):
    """``villages`` with their ``population`` column from ``population``.

    ``population`` is a :class:`PopulationJoin`, a Series or mapping kode -> people, or the path of
    the census CSV (joined with :func:`read_population`); ``None`` returns ``villages`` unchanged.
    Villages it does not name get NaN (no population), never 0.
    """
    if population is None:
        return villages
    if isinstance(population, PopulationJoin):
        return population.apply(villages)
    if isinstance(population, (pd.Series, dict)):
        out = villages.copy()
        out["population"] = out["kode"].astype(str).map(pd.Series(population)).astype(float)
        out.attrs = dict(villages.attrs)
        return out
    if isinstance(population, (str, Path)):
        return read_population(population, villages).apply(villages)
    raise InputError(f"population must be a PopulationJoin, a Series / dict by kode or the census CSV path, "
                     f"got {type(population).__name__}")
