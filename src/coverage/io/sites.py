"""Sites (transmitters): read, normalise and validate tower lists; technology metrics.

A site row carries ``site_id, lon, lat, height_m`` (antenna above local ground), ``freq_mhz``,
``eirp_dbm`` (peak EIRP, i.e. power + antenna gain - feeder losses), ``technology`` (2g / 3g / 4g / 5g),
``bandwidth_mhz`` and, for sectors, ``azimuth_deg``, ``beamwidth_deg`` (horizontal 3 dB),
``downtilt_deg`` and ``vertical_beamwidth_deg``. Rows are validated one by one and errors name the
file, the row and the column.

Defaults for what a file lacks (OpenCelliD has no height, power or azimuth) are in
:data:`DEFAULTS_BY_TECHNOLOGY` and :data:`DEFAULT_HEIGHT_M`; override them through ``read_sites``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import (
    CoverageWarning,
    FileFormatError,
    InputError,
    MissingFileError,
    SiteError,
)
from ..propagation.antenna import (  # noqa: F401  (re-exported: the defaults of a site's antenna)
    DEFAULT_BEAMWIDTH_DEG,
    DEFAULT_FRONT_TO_BACK_DB,
    DEFAULT_SIDELOBE_DB,
    DEFAULT_VERTICAL_BEAMWIDTH_DEG,
)
from ._problems import RowProblems
from ._text import read_text_table
from ._text import sniff as _sniff

__all__ = [
    "read_sites",
    "normalize_sites",
    "TechnologyDefaults",
    "DEFAULTS_BY_TECHNOLOGY",
    "DEFAULT_HEIGHT_M",
    "METRICS",
    "metric_offset_db",
]

SITE_COLUMNS = ["site_id", "lon", "lat", "height_m", "freq_mhz", "eirp_dbm", "technology", "bandwidth_mhz",
                "azimuth_deg", "beamwidth_deg", "downtilt_deg", "vertical_beamwidth_deg"]

OPENCELLID_COLUMNS = ["radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples",
                      "changeable", "created", "updated", "averageSignal"]

_SYNONYMS = {
    "site_id": ["site_id", "id", "site", "name", "cell_id", "cellid", "site_name"],
    "lon": ["lon", "lng", "long", "longitude", "x"],
    "lat": ["lat", "latitude", "y"],
    "height_m": ["height_m", "height", "antenna_height_m", "antenna_height", "agl_m", "agl", "h_m"],
    "freq_mhz": ["freq_mhz", "frequency_mhz", "freq", "frequency"],
    "eirp_dbm": ["eirp_dbm", "eirp"],
    "power_dbm": ["power_dbm", "tx_power_dbm", "power"],
    "gain_dbi": ["gain_dbi", "antenna_gain_dbi", "gain"],
    "losses_db": ["losses_db", "feeder_loss_db", "loss_db", "losses"],
    "technology": ["technology", "tech", "radio", "rat"],
    "bandwidth_mhz": ["bandwidth_mhz", "bandwidth", "bw_mhz"],
    "azimuth_deg": ["azimuth_deg", "azimuth", "az", "bearing"],
    "beamwidth_deg": ["beamwidth_deg", "beamwidth", "hbw_deg", "horizontal_beamwidth_deg"],
    "downtilt_deg": ["downtilt_deg", "downtilt", "tilt_deg", "tilt"],
    "vertical_beamwidth_deg": ["vertical_beamwidth_deg", "vbw_deg", "vertical_beamwidth"],
}

_TECH = {"2g": "2g", "gsm": "2g", "3g": "3g", "umts": "3g", "wcdma": "3g", "hspa": "3g", "4g": "4g",
         "lte": "4g", "5g": "5g", "nr": "5g"}


@dataclass(frozen=True)
class TechnologyDefaults:
    """What a site of a technology gets when the file does not say.

    The values are typical macro-cell figures, documented so that a planner can replace them:
    frequency = the band most deployed in Indonesia for that technology (GSM 900, UMTS 2100,
    LTE 1800 (band 3), NR 2300 (n40)); EIRP = power + 17 dBi sector gain - 3 dB feeder loss with 20 W
    (GSM/UMTS carrier) or 40 W (LTE/NR) at the antenna port.
    """

    freq_mhz: float
    eirp_dbm: float
    bandwidth_mhz: float


DEFAULTS_BY_TECHNOLOGY: dict[str, TechnologyDefaults] = {
    "2g": TechnologyDefaults(freq_mhz=900.0, eirp_dbm=57.0, bandwidth_mhz=0.2),
    "3g": TechnologyDefaults(freq_mhz=2100.0, eirp_dbm=57.0, bandwidth_mhz=5.0),
    "4g": TechnologyDefaults(freq_mhz=1800.0, eirp_dbm=60.0, bandwidth_mhz=10.0),
    "5g": TechnologyDefaults(freq_mhz=2300.0, eirp_dbm=60.0, bandwidth_mhz=40.0),
}
#: Antenna height above ground when a file gives none (m): a typical rural Indonesian macro tower.
DEFAULT_HEIGHT_M = 30.0

# Metric each technology reports, and how it follows from the total received power P_rx of a carrier.
METRICS = {
    "2g": "rxlev_dbm",  # GSM RxLev is the BCCH carrier power (3GPP TS 45.008 §8.1.4), in dBm
    "3g": "rscp_dbm",  # UMTS RSCP is the CPICH power (TS 25.215 §5.1.1)
    "4g": "rsrp_dbm",  # LTE RSRP is the power of one resource element (TS 36.214 §5.1.1)
    "5g": "ss_rsrp_dbm",  # NR SS-RSRP (TS 38.215 §5.1.1)
}

_LTE_NRB = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}  # TS 36.101 Table 5.6-1
_NR_NRB_30KHZ = {5.0: 11, 10.0: 24, 15.0: 38, 20.0: 51, 25.0: 65, 30.0: 78, 40.0: 106, 50.0: 133,
                 60.0: 162, 70.0: 189, 80.0: 217, 90.0: 245, 100.0: 273}  # TS 38.101-1 Table 5.3.2-1
#: CPICH share of a UMTS cell's total power: 10 % (-10 dB) is the usual planning value
#: (Holma & Toskala, WCDMA for UMTS, §8.2).
CPICH_OFFSET_DB = -10.0


def metric_offset_db(technology: str, bandwidth_mhz: float) -> float:
    """dB to add to the total received power of a carrier to get the technology's metric.

    4G: RSRP = P_rx - 10 log10(12 N_RB); 5G (30 kHz SCS): SS-RSRP likewise; 3G: RSCP = P_rx - 10 dB;
    2G: RxLev = P_rx. ``technology == "mixed"`` gives 0 (total received power).
    """
    if technology == "4g":
        nrb = _LTE_NRB.get(round(float(bandwidth_mhz), 1))
        if nrb is None:
            nrb = max(int(round(bandwidth_mhz * 5)), 1)  # 180 kHz per RB, ~90 % occupancy
        return -10.0 * math.log10(12 * nrb)
    if technology == "5g":
        nrb = _NR_NRB_30KHZ.get(round(float(bandwidth_mhz), 1))
        if nrb is None:
            nrb = max(int(round(bandwidth_mhz * 1e3 * 0.92 / 360.0)), 1)
        return -10.0 * math.log10(12 * nrb)
    if technology == "3g":
        return CPICH_OFFSET_DB
    return 0.0


# ---------------------------------------------------------------------------------------------
# reading



def _pick(columns: list[str], key: str) -> str | None:
    low = {str(c).lower().strip(): c for c in columns}
    for cand in _SYNONYMS[key]:
        if cand in low:
            return low[cand]
    return None


def _looks_like_opencellid(first_line: str) -> tuple[bool, bool]:
    """(is OpenCelliD layout, has header row) from the first line of a comma-separated file."""
    cells = [c.strip() for c in first_line.strip().split(",")]
    if [c.lower() for c in cells[:3]] == ["radio", "mcc", "net"]:
        return True, True
    if len(cells) == 14 and cells[0].upper() in {"GSM", "UMTS", "LTE", "NR", "CDMA"}:
        return True, False
    return False, False


def _read_vector(path: Path) -> pd.DataFrame:
    import geopandas as gpd

    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own errors for malformed files
        raise FileFormatError(f"{path}: cannot read as a vector file ({exc})") from exc
    if len(gdf) == 0:
        raise FileFormatError(f"{path}: no features")
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    geom = gdf.geometry
    bad = np.flatnonzero((geom.geom_type != "Point").to_numpy())
    if bad.size:
        problems = RowProblems(str(path))
        for i in bad:
            problems.add(int(i) + 1, "geometry", f"a {geom.iloc[i].geom_type if geom.iloc[i] is not None else 'missing'}"
                         f" geometry; sites must be Points")
        problems.raise_if_any(SiteError)
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["lon"] = geom.x.values
    df["lat"] = geom.y.values
    return df


def _read_spreadsheet(path: Path) -> pd.DataFrame:
    if path.suffix.lower() != ".xlsx":
        raise FileFormatError(f"{path}: {path.suffix} spreadsheets are not read; save the sheet as .xlsx or CSV")
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise FileFormatError(f"{path}: reading .xlsx needs openpyxl (pip install 'blankspot-coverage[excel]'); "
                              f"or save the sheet as CSV") from None
    try:
        return pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False)
    except Exception as exc:  # openpyxl / zipfile errors on a damaged workbook
        raise FileFormatError(f"{path}: cannot read the workbook ({exc})") from exc


def _read_table(path: Path) -> tuple[pd.DataFrame, str]:
    """Read a file into a DataFrame; returns it and the layout ('opencellid' or 'plain')."""
    if not path.exists():
        raise MissingFileError(f"sites file not found: {path}")
    if path.is_dir():
        raise FileFormatError(f"{path}: is a folder, not a sites file")
    if path.stat().st_size == 0:
        raise FileFormatError(f"{path}: the sites file is empty")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json", ".gpkg", ".shp"):
        return _read_vector(path), "plain"
    if suffix in (".xlsx", ".xls", ".xlsm", ".ods"):
        df, layout = _read_spreadsheet(path), "plain"
    else:
        encoding, delimiter = _sniff(path)
        with open(path, encoding=encoding, errors="replace") as fh:
            first = fh.readline()
        is_ocid, header = _looks_like_opencellid(first) if delimiter == "," else (False, False)
        if is_ocid:
            try:
                df = pd.read_csv(path, header=0 if header else None, names=None if header else OPENCELLID_COLUMNS,
                                 dtype={"radio": str}, encoding=encoding)
            except (pd.errors.ParserError, UnicodeDecodeError) as exc:
                raise FileFormatError(f"{path}: malformed CSV ({exc})") from exc
            return df, "opencellid"
        df, layout = read_text_table(path, "sites", dtype=str, keep_default_na=False), "plain"
    if len(df) == 0:
        raise FileFormatError(f"{path}: the sites file has a header but no rows")
    return df, layout


def read_sites(path, *, height_m: float | None = None, defaults: Mapping[str, TechnologyDefaults] | None = None,
               technology: str | None = None) -> "gpd.GeoDataFrame":  # noqa: F821
    """Read towers from a plain CSV (',' or ';' separated, decimal commas with ';'), an .xlsx sheet,
    GeoJSON/GeoPackage points, or an OpenCelliD CSV (with or without header).

    Parameters
    ----------
    path : str, Path, DataFrame or GeoDataFrame
    height_m : float, optional
        Antenna height above ground for rows that give none (default :data:`DEFAULT_HEIGHT_M`).
    defaults : mapping technology -> TechnologyDefaults, optional
        Replaces :data:`DEFAULTS_BY_TECHNOLOGY` entries (frequency, EIRP, bandwidth by technology).
    technology : str, optional
        Technology of rows that give none (default '4g').

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site with the normalised columns of :data:`SITE_COLUMNS`, a ``defaulted`` column
        naming the values filled in from defaults, and a Point geometry (EPSG:4326). ``attrs``:
        ``source`` (the file), ``layout`` ('opencellid' or 'plain'), ``defaults_applied``.

    Raises
    ------
    SiteError
        Every bad row of the file at once (the first 20 listed with row, column and value).
    FileFormatError
        Unreadable, empty or unknown files, missing lon/lat columns.
    """
    if isinstance(path, pd.DataFrame):
        return normalize_sites(path, source="<DataFrame>", height_m=height_m, defaults=defaults,
                               technology=technology)
    p = Path(path)
    df, layout = _read_table(p)
    if layout == "opencellid":
        df = _from_opencellid(df, p)
    out = normalize_sites(df, source=str(p), height_m=height_m, defaults=defaults, technology=technology)
    out.attrs["layout"] = layout
    return out


def _from_opencellid(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    missing = [c for c in ("radio", "mcc", "net", "area", "cell", "lon", "lat") if c not in df.columns]
    if missing:
        raise FileFormatError(f"{path}: OpenCelliD layout without columns {missing}")
    out = pd.DataFrame({
        "site_id": (df["radio"].astype(str) + "-" + df["mcc"].astype(str) + "-" + df["net"].astype(str) + "-"
                    + df["area"].astype(str) + "-" + df["cell"].astype(str)),
        "lon": df["lon"], "lat": df["lat"], "technology": df["radio"].astype(str),
        "range_m": df.get("range"), "samples": df.get("samples"),
    })
    return out


def _num(df: pd.DataFrame, col: str | None, key: str, name: str, problems: RowProblems) -> np.ndarray:
    """Numeric column; blank cells become NaN, anything else unparseable is recorded as a problem."""
    if col is None:
        return np.full(len(df), np.nan)
    raw = df[col]
    if pd.api.types.is_bool_dtype(raw):
        for i in range(len(raw)):
            problems.add(i + 1, key, f"{raw.iloc[i]!r} in column {col!r} ({name}) is not a number")
        return np.full(len(df), np.nan)
    if pd.api.types.is_numeric_dtype(raw):
        return raw.to_numpy(dtype=float)
    text = raw.astype("string").str.strip()
    blank = text.isna() | text.isin(["", "nan", "NaN", "None", "NA"])
    vals = pd.to_numeric(text.where(~blank, None), errors="coerce")
    bad = (vals.isna() & ~blank).to_numpy()
    for i in np.flatnonzero(bad):
        problems.add(int(i) + 1, key, f"{raw.iloc[i]!r} in column {col!r} ({name}) is not a number")
    return vals.to_numpy(dtype=float)


def normalize_sites(df: pd.DataFrame, *, source: str = "<DataFrame>", height_m: float | None = None,
                    defaults: Mapping[str, TechnologyDefaults] | None = None,
                    technology: str | None = None):
    """Normalise a table of sites to :data:`SITE_COLUMNS`, applying defaults and validating each row.

    Every value taken from a default is named per site in the ``defaulted`` column, counted in
    ``attrs['defaults_applied']`` and said in one :class:`~coverage.errors.CoverageWarning`.
    """
    import geopandas as gpd

    if len(df) == 0:
        raise FileFormatError(f"{source}: no sites")
    if isinstance(df, gpd.GeoDataFrame) and df.geometry is not None and "lon" not in df.columns:
        g = df.to_crs("EPSG:4326") if df.crs is not None else df
        df = pd.DataFrame(df.drop(columns=df.geometry.name))
        df["lon"], df["lat"] = g.geometry.x.values, g.geometry.y.values
    cols = list(df.columns)
    col = {k: _pick(cols, k) for k in _SYNONYMS}
    for need in ("lon", "lat"):
        if col[need] is None:
            raise FileFormatError(f"{source}: no {need} column (accepted names: {_SYNONYMS[need]}); "
                                  f"columns are {cols}")
    if height_m is not None and not (np.isfinite(height_m) and height_m > 0):
        raise InputError(f"height_m must be a positive antenna height above ground (m), got {height_m!r}")
    defs = dict(DEFAULTS_BY_TECHNOLOGY)
    if defaults:
        defs.update({_tech(k, source, None): v for k, v in defaults.items()})
    default_tech = _tech(technology or "4g", source, None)
    problems = RowProblems(source)
    out, defaulted = _columns(df, col, problems, default_tech, defs, height_m)
    _validate(out, problems)
    problems.raise_if_any(SiteError)
    out["defaulted"] = [",".join(k for k, m in defaulted.items() if m[i]) for i in range(len(out))]
    applied = _defaults_applied(out, defaulted)
    radio = {k: v for k, v in applied.items() if k in _WARNED_DEFAULTS}
    if radio:
        _warn_defaults(source, len(out), radio)
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs="EPSG:4326")
    gdf.attrs["source"] = source
    gdf.attrs["defaults_applied"] = applied
    return gdf


def _columns(df, col, problems, default_tech, defs, height_m):
    """The normalised table (defaults filled in) and, per defaulted column, the mask of defaulted rows."""
    n = len(df)
    out = pd.DataFrame(index=range(n))
    out["site_id"] = (df[col["site_id"]].astype(str).str.strip().to_numpy() if col["site_id"] is not None
                      else np.array([f"site{i + 1}" for i in range(n)]))
    out["lon"] = _num(df, col["lon"], "lon", "longitude", problems)
    out["lat"] = _num(df, col["lat"], "lat", "latitude", problems)
    techs, tech_default = [], np.zeros(n, bool)
    for i in range(n):
        raw = df[col["technology"]].iloc[i] if col["technology"] is not None else ""
        if raw is None or str(raw).strip() in ("", "nan"):
            techs.append(default_tech)
            tech_default[i] = True
        else:
            try:
                techs.append(_tech(raw, "", None))
            except SiteError:
                problems.add(i + 1, "technology", f"technology {raw!r} is not one of 2g/3g/4g/5g (or GSM/UMTS/LTE/NR)")
                techs.append(default_tech)
    out["technology"] = techs
    defaulted = {"technology": tech_default}

    def fill(key, name, default_values):
        v = _num(df, col[key], key, name, problems)
        miss = np.isnan(v) & np.array([not problems.has(i + 1, key) for i in range(n)])
        defaulted[key] = miss
        return np.where(np.isnan(v), default_values, v)

    out["height_m"] = fill("height_m", "antenna height above ground, m",
                           DEFAULT_HEIGHT_M if height_m is None else float(height_m))
    out["freq_mhz"] = fill("freq_mhz", "frequency, MHz", [defs[t].freq_mhz for t in techs])
    out["bandwidth_mhz"] = fill("bandwidth_mhz", "bandwidth, MHz", [defs[t].bandwidth_mhz for t in techs])
    eirp = _num(df, col["eirp_dbm"], "eirp_dbm", "EIRP, dBm", problems)
    power = _num(df, col["power_dbm"], "power_dbm", "power, dBm", problems)
    gain = _num(df, col["gain_dbi"], "gain_dbi", "antenna gain, dBi", problems)
    losses = _num(df, col["losses_db"], "losses_db", "losses, dB", problems)
    eirp = np.where(np.isnan(eirp), power + np.nan_to_num(gain) - np.nan_to_num(losses), eirp)
    defaulted["eirp_dbm"] = np.isnan(eirp) & np.array([not problems.has(i + 1, "eirp_dbm") for i in range(n)])
    out["eirp_dbm"] = np.where(np.isnan(eirp), [defs[t].eirp_dbm for t in techs], eirp)
    for key in ("azimuth_deg", "beamwidth_deg", "downtilt_deg", "vertical_beamwidth_deg"):
        out[key] = _num(df, col[key], key, key, problems)
    # a sector needs both an azimuth and a beamwidth; an azimuth alone gets the usual 65 degrees
    has_az = ~np.isnan(out["azimuth_deg"].to_numpy())
    for key, value in (("beamwidth_deg", DEFAULT_BEAMWIDTH_DEG), ("downtilt_deg", 0.0),
                       ("vertical_beamwidth_deg", DEFAULT_VERTICAL_BEAMWIDTH_DEG)):
        miss = has_az & out[key].isna().to_numpy()
        out.loc[miss, key] = value
        defaulted[key] = miss
    for extra in ("range_m", "samples"):
        if extra in df.columns:
            out[extra] = df[extra].to_numpy()
    return out, defaulted


#: Defaults said in a warning: the radio values a file is expected to give. The completion of a sector's
#: pattern (beamwidth, downtilt, vertical beamwidth of 3GPP TR 36.814 when only an azimuth is given) is
#: recorded in the ``defaulted`` column and the metadata, not warned about.
_WARNED_DEFAULTS = ("technology", "height_m", "freq_mhz", "bandwidth_mhz", "eirp_dbm")


def _defaults_applied(out: pd.DataFrame, defaulted: dict) -> dict:
    """{column: {"sites": n, "values": {technology or 'all': value}}} of the defaults used."""
    applied = {}
    for key, mask in defaulted.items():
        if not mask.any():
            continue
        vals = out.loc[mask, key]
        by = out.loc[mask, "technology"]
        values = ({"all": vals.iloc[0]} if vals.nunique() == 1
                  else {t: vals[by == t].iloc[0] for t in sorted(set(by))})
        applied[key] = {"sites": int(mask.sum()),
                        "values": {k: (float(v) if isinstance(v, (int, float, np.number)) else str(v))
                                   for k, v in values.items()}}
    return applied


def _warn_defaults(source: str, n: int, applied: dict) -> None:
    parts = []
    for key, a in applied.items():
        vals = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in a["values"].values()) \
            if "all" in a["values"] else ", ".join(f"{t} {v:g}" if isinstance(v, float) else f"{t} {v}"
                                                   for t, v in a["values"].items())
        parts.append(f"{key}={vals} for {a['sites']} of {n} sites")
    warnings.warn(f"{source}: the file gives no value for some columns; defaults used: " + "; ".join(parts)
                  + " (per site in the 'defaulted' column; override with read_sites(height_m=..., defaults=..., "
                  "technology=...) or fill the columns)", CoverageWarning, stacklevel=3)


def _tech(value, source, row) -> str:
    key = str(value).strip().lower()
    if key not in _TECH:
        where = f"row {row + 1}, " if row is not None else ""
        raise SiteError(f"{source}: {where}technology {value!r} is not one of 2g/3g/4g/5g "
                        f"(or GSM/UMTS/LTE/NR)")
    return _TECH[key]


def _validate(out: pd.DataFrame, problems: RowProblems) -> None:
    """Record every implausible value (row, column, value) in ``problems``."""
    ids = out["site_id"].to_numpy()

    def check(bad, key, msg):
        for i in np.flatnonzero(bad):
            if not problems.has(i + 1, key):
                problems.add(int(i) + 1, key, f"(site {ids[i]!r}) {msg(int(i))}")

    lon = out["lon"].to_numpy()
    lat = out["lat"].to_numpy()
    check(np.isnan(lon), "lon", lambda i: "missing longitude")
    check(np.isnan(lat), "lat", lambda i: "missing latitude")
    swapped = (np.abs(lat) > 90) & (np.abs(lon) <= 90)
    check(swapped, "lat", lambda i: f"lat={lat[i]} is not a latitude but lon={lon[i]} could be: are lon and lat "
                                   f"swapped?")
    check(np.isfinite(lat) & (np.abs(lat) > 90) & ~swapped, "lat", lambda i: f"lat={lat[i]} is not a latitude in degrees")
    check(~np.isnan(lon) & ~((lon >= -180) & (lon <= 360)), "lon",
          lambda i: f"lon={lon[i]} is not a longitude in degrees")
    h = out["height_m"].to_numpy()
    check(~(np.isfinite(h) & (h > 0)), "height_m",
          lambda i: f"height_m={h[i]} must be a positive height of the antenna above ground")
    f = out["freq_mhz"].to_numpy()
    check(~(np.isfinite(f) & (f > 0)), "freq_mhz", lambda i: f"freq_mhz={f[i]} must be positive")
    e = out["eirp_dbm"].to_numpy()
    check(~np.isfinite(e) | (e > 100) | (e < -50), "eirp_dbm", lambda i: f"eirp_dbm={e[i]} is not a plausible EIRP in dBm")
    bw = out["bandwidth_mhz"].to_numpy()
    check(~(np.isfinite(bw) & (bw > 0)), "bandwidth_mhz", lambda i: f"bandwidth_mhz={bw[i]} must be positive")
    az = out["azimuth_deg"].to_numpy()
    check(~np.isnan(az) & ~((az >= 0) & (az <= 360)), "azimuth_deg", lambda i: f"azimuth_deg={az[i]} must be in 0..360")
    bwd = out["beamwidth_deg"].to_numpy()
    check(~np.isnan(bwd) & ~((bwd > 0) & (bwd <= 360)), "beamwidth_deg",
          lambda i: f"beamwidth_deg={bwd[i]} must be in (0, 360]")
    tilt = out["downtilt_deg"].to_numpy()
    check(~np.isnan(tilt) & ~(np.abs(tilt) <= 90), "downtilt_deg", lambda i: f"downtilt_deg={tilt[i]} must be within +-90")
    vbw = out["vertical_beamwidth_deg"].to_numpy()
    check(~np.isnan(vbw) & ~((vbw > 0) & (vbw <= 180)), "vertical_beamwidth_deg",
          lambda i: f"vertical_beamwidth_deg={vbw[i]} must be in (0, 180]")
    blank = out["site_id"].isin(["", "nan", "None"]).to_numpy()
    check(blank, "site_id", lambda i: "empty site_id")
    check(out["site_id"].duplicated().to_numpy() & ~blank, "site_id", lambda i: "duplicate site_id")
