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
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import FileFormatError, SiteError
from ..propagation.antenna import (  # noqa: F401  (re-exported: the defaults of a site's antenna)
    DEFAULT_BEAMWIDTH_DEG,
    DEFAULT_FRONT_TO_BACK_DB,
    DEFAULT_SIDELOBE_DB,
    DEFAULT_VERTICAL_BEAMWIDTH_DEG,
)

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
    low = {c.lower().strip(): c for c in columns}
    for cand in _SYNONYMS[key]:
        if cand in low:
            return low[cand]
    return None


def _looks_like_opencellid(path: Path) -> tuple[bool, bool]:
    """(is OpenCelliD layout, has header row)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.readline().strip()
    cells = [c.strip() for c in first.split(",")]
    if [c.lower() for c in cells[:3]] == ["radio", "mcc", "net"]:
        return True, True
    if len(cells) == 14 and cells[0].upper() in {"GSM", "UMTS", "LTE", "NR", "CDMA"}:
        return True, False
    return False, False


def _read_table(path: Path) -> tuple[pd.DataFrame, str]:
    """Read a file into a DataFrame; returns it and the layout ('opencellid' or 'plain')."""
    if not path.exists():
        raise FileNotFoundError(f"sites file not found: {path}")
    if path.stat().st_size == 0:
        raise FileFormatError(f"{path}: the sites file is empty")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json", ".gpkg", ".shp"):
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
        if not all(geom.geom_type == "Point"):
            bad = int(np.flatnonzero(geom.geom_type != "Point")[0])
            raise SiteError(f"{path}: feature {bad} is a {geom.iloc[bad].geom_type}, sites must be Points")
        df = pd.DataFrame(gdf.drop(columns="geometry"))
        df["lon"] = geom.x.values
        df["lat"] = geom.y.values
        return df, "plain"
    is_ocid, header = _looks_like_opencellid(path)
    try:
        if is_ocid:
            df = pd.read_csv(path, header=0 if header else None, names=None if header else OPENCELLID_COLUMNS,
                             dtype={"radio": str})
            return df, "opencellid"
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise FileFormatError(f"{path}: the sites file is empty") from exc
    except pd.errors.ParserError as exc:
        raise FileFormatError(f"{path}: malformed CSV ({exc})") from exc
    if len(df) == 0:
        raise FileFormatError(f"{path}: the sites file has a header but no rows")
    return df, "plain"


def read_sites(path, *, height_m: float | None = None, defaults: Mapping[str, TechnologyDefaults] | None = None,
               technology: str | None = None) -> "gpd.GeoDataFrame":  # noqa: F821
    """Read towers from a plain CSV, GeoJSON/GeoPackage points, or OpenCelliD CSV (with or without header).

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
        One row per site with the normalised columns of :data:`SITE_COLUMNS` and a Point geometry
        (EPSG:4326). ``attrs['source']`` names the file.
    """
    if isinstance(path, pd.DataFrame):
        return normalize_sites(path, source="<DataFrame>", height_m=height_m, defaults=defaults,
                               technology=technology)
    p = Path(path)
    df, layout = _read_table(p)
    if layout == "opencellid":
        df = _from_opencellid(df, p)
    return normalize_sites(df, source=str(p), height_m=height_m, defaults=defaults, technology=technology)


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


def _num(df: pd.DataFrame, col: str | None, source: str, name: str) -> np.ndarray:
    """Numeric column; blank cells become NaN, anything else unparseable is an error naming the row."""
    if col is None:
        return np.full(len(df), np.nan)
    raw = df[col]
    if pd.api.types.is_numeric_dtype(raw):
        return raw.to_numpy(dtype=float)
    text = raw.astype("string").str.strip()
    blank = text.isna() | text.isin(["", "nan", "NaN", "None", "NA"])
    vals = pd.to_numeric(text.where(~blank, None), errors="coerce")
    bad = vals.isna() & ~blank
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise SiteError(f"{source}: row {i + 1}, column {col!r} ({name}): {raw.iloc[i]!r} is not a number")
    return vals.to_numpy(dtype=float)


def normalize_sites(df: pd.DataFrame, *, source: str = "<DataFrame>", height_m: float | None = None,
                    defaults: Mapping[str, TechnologyDefaults] | None = None,
                    technology: str | None = None):
    """Normalise a table of sites to :data:`SITE_COLUMNS`, applying defaults and validating each row."""
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
    n = len(df)
    defs = dict(DEFAULTS_BY_TECHNOLOGY)
    if defaults:
        defs.update({_tech(k, source, None): v for k, v in defaults.items()})
    default_tech = _tech(technology or "4g", source, None)

    lon = _num(df, col["lon"], source, "longitude")
    lat = _num(df, col["lat"], source, "latitude")
    out = pd.DataFrame(index=range(n))
    if col["site_id"] is not None:
        ids = df[col["site_id"]].astype(str).str.strip().to_numpy()
    else:
        ids = np.array([f"site{i + 1}" for i in range(n)])
    out["site_id"] = ids
    out["lon"] = lon
    out["lat"] = lat
    techs = []
    tcol = col["technology"]
    for i in range(n):
        raw = df[tcol].iloc[i] if tcol is not None else ""
        techs.append(default_tech if (raw is None or str(raw).strip() in ("", "nan")) else _tech(raw, source, i))
    out["technology"] = techs
    h = _num(df, col["height_m"], source, "antenna height above ground, m")
    out["height_m"] = np.where(np.isnan(h), DEFAULT_HEIGHT_M if height_m is None else float(height_m), h)
    f = _num(df, col["freq_mhz"], source, "frequency, MHz")
    out["freq_mhz"] = np.where(np.isnan(f), [defs[t].freq_mhz for t in techs], f)
    bw = _num(df, col["bandwidth_mhz"], source, "bandwidth, MHz")
    out["bandwidth_mhz"] = np.where(np.isnan(bw), [defs[t].bandwidth_mhz for t in techs], bw)
    eirp = _num(df, col["eirp_dbm"], source, "EIRP, dBm")
    power = _num(df, col["power_dbm"], source, "power, dBm")
    gain = _num(df, col["gain_dbi"], source, "antenna gain, dBi")
    losses = _num(df, col["losses_db"], source, "losses, dB")
    from_power = power + np.nan_to_num(gain) - np.nan_to_num(losses)
    eirp = np.where(np.isnan(eirp), from_power, eirp)
    out["eirp_dbm"] = np.where(np.isnan(eirp), [defs[t].eirp_dbm for t in techs], eirp)
    for key in ("azimuth_deg", "beamwidth_deg", "downtilt_deg", "vertical_beamwidth_deg"):
        out[key] = _num(df, col[key], source, key)
    # a sector needs both an azimuth and a beamwidth; an azimuth alone gets the usual 65 degrees
    has_az = ~np.isnan(out["azimuth_deg"].to_numpy())
    out.loc[has_az & out["beamwidth_deg"].isna(), "beamwidth_deg"] = DEFAULT_BEAMWIDTH_DEG
    out.loc[has_az & out["downtilt_deg"].isna(), "downtilt_deg"] = 0.0
    out.loc[has_az & out["vertical_beamwidth_deg"].isna(), "vertical_beamwidth_deg"] = DEFAULT_VERTICAL_BEAMWIDTH_DEG
    for extra in ("range_m", "samples"):
        if extra in df.columns:
            out[extra] = df[extra].to_numpy()
    _validate(out, source)
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs="EPSG:4326")
    gdf.attrs["source"] = source
    return gdf


def _tech(value, source, row) -> str:
    key = str(value).strip().lower()
    if key not in _TECH:
        where = f"row {row + 1}, " if row is not None else ""
        raise SiteError(f"{source}: {where}technology {value!r} is not one of 2g/3g/4g/5g "
                        f"(or GSM/UMTS/LTE/NR)")
    return _TECH[key]


def _validate(out: pd.DataFrame, source: str) -> None:
    def fail(mask, msg):
        i = int(np.flatnonzero(mask)[0])
        raise SiteError(f"{source}: row {i + 1} (site {out['site_id'].iloc[i]!r}): {msg(i)}")

    lon = out["lon"].to_numpy()
    lat = out["lat"].to_numpy()
    bad = ~np.isfinite(lon) | ~np.isfinite(lat)
    if bad.any():
        fail(bad, lambda i: "missing longitude or latitude")
    swapped = (np.abs(lat) > 90) & (np.abs(lon) <= 90)
    if swapped.any():
        fail(swapped, lambda i: f"lat={lat[i]} is not a latitude but lon={lon[i]} could be: are lon and lat swapped?")
    bad = (np.abs(lat) > 90) | (lon < -180) | (lon > 360)
    if bad.any():
        fail(bad, lambda i: f"({lon[i]}, {lat[i]}) is not a valid lon/lat in degrees")
    h = out["height_m"].to_numpy()
    bad = ~(h > 0)
    if bad.any():
        fail(bad, lambda i: f"height_m={h[i]} must be a positive height of the antenna above ground")
    f = out["freq_mhz"].to_numpy()
    bad = ~(f > 0)
    if bad.any():
        fail(bad, lambda i: f"freq_mhz={f[i]} must be positive")
    e = out["eirp_dbm"].to_numpy()
    bad = ~np.isfinite(e) | (e > 100) | (e < -50)
    if bad.any():
        fail(bad, lambda i: f"eirp_dbm={e[i]} is not a plausible EIRP in dBm")
    bw = out["bandwidth_mhz"].to_numpy()
    bad = ~(bw > 0)
    if bad.any():
        fail(bad, lambda i: f"bandwidth_mhz={bw[i]} must be positive")
    az = out["azimuth_deg"].to_numpy()
    bad = np.isfinite(az) & ((az < 0) | (az > 360))
    if bad.any():
        fail(bad, lambda i: f"azimuth_deg={az[i]} must be in 0..360")
    bwd = out["beamwidth_deg"].to_numpy()
    bad = np.isfinite(bwd) & ~((bwd > 0) & (bwd <= 360))
    if bad.any():
        fail(bad, lambda i: f"beamwidth_deg={bwd[i]} must be in (0, 360]")
    tilt = out["downtilt_deg"].to_numpy()
    bad = np.isfinite(tilt) & (np.abs(tilt) > 90)
    if bad.any():
        fail(bad, lambda i: f"downtilt_deg={tilt[i]} must be within +-90")
    dup = out["site_id"].duplicated().to_numpy()
    if dup.any():
        fail(dup, lambda i: "duplicate site_id")
