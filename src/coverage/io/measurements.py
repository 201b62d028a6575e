"""Measurements in: drive-test and crowdsourced tables normalised to path loss at a receiver point.

A measurement row gives the receiver position ``lon, lat`` and either a measured basic transmission
loss ``path_loss_db`` or a received level in the technology's metric (``rsrp_dbm`` 4G, ``rscp_dbm``
3G, ``rxlev_dbm`` 2G, ``rssi_dbm`` total received power), and its serving site either by ``site_id``
(joined to a sites table read by :func:`coverage.read_sites`) or by its own columns
``site_lon, site_lat, site_height_m, freq_mhz``.

A level becomes a path loss through the site's link budget (the inverse of what the engine does in
:func:`coverage.engine._kernels.received_power`)::

    path_loss_db = eirp_dbm + pattern_db + metric_offset_db - level_dbm

with ``pattern_db`` (<= 0) the 3GPP TR 36.814 sector pattern of the site towards the point (0 for an
omni site) and ``metric_offset_db`` that of :func:`coverage.io.sites.metric_offset_db` (RSRP per
resource element, RSCP = CPICH share; 0 for RxLev and RSSI). A measured ``path_loss_db`` is taken as
the basic transmission loss, antenna pattern excluded: that is what the models predict.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CoverageWarning, FileFormatError, InputError, MissingFileError
from ..propagation.antenna import sector_attenuation_db
from ._text import read_text_table
from .sites import _SYNONYMS as _SITE_NAMES
from .sites import metric_offset_db, read_sites

__all__ = ["read_measurements", "sample_clutter", "DEFAULT_RX_HEIGHT_M", "LEVEL_COLUMNS", "MEASUREMENT_COLUMNS"]

#: Receiver height above ground when a table gives none (m): a handset or a drive-test antenna on a car roof.
DEFAULT_RX_HEIGHT_M = 1.5

#: Received-level columns, the technology whose metric each is, and whether it is the total power.
LEVEL_COLUMNS = {"rsrp_dbm": "4g", "rscp_dbm": "3g", "rxlev_dbm": "2g", "ss_rsrp_dbm": "5g", "rssi_dbm": None}

#: Columns of the normalised table, in order (``clutter`` and ``level_dbm`` only when given).
MEASUREMENT_COLUMNS = ["lon", "lat", "path_loss_db", "site_id", "site_lon", "site_lat", "site_height_m",
                       "freq_mhz", "rx_height_m", "distance_m", "azimuth_deg"]

_SYNONYMS = {
    "lon": ["lon", "lng", "long", "longitude", "x", "rx_lon"],
    "lat": ["lat", "latitude", "y", "rx_lat"],
    "path_loss_db": ["path_loss_db", "path_loss", "pathloss", "pl_db", "plreal", "pl", "loss_db", "measured_loss_db"],
    "rsrp_dbm": ["rsrp_dbm", "rsrp"],
    "rscp_dbm": ["rscp_dbm", "rscp"],
    "rxlev_dbm": ["rxlev_dbm", "rxlev", "rx_level_dbm", "rxlevel"],
    "ss_rsrp_dbm": ["ss_rsrp_dbm", "ss_rsrp", "nr_rsrp"],
    "rssi_dbm": ["rssi_dbm", "rssi", "signal_dbm", "dbm"],
    "site_id": ["site_id", "bts_id", "cell_id", "site", "cellid", "bts", "cell", "sector_id"],
    "site_lon": ["site_lon", "bts_lon", "tx_lon", "site_longitude"],
    "site_lat": ["site_lat", "bts_lat", "tx_lat", "site_latitude"],
    "site_height_m": ["site_height_m", "tx_height_m", "bts_height_m", "antenna_height_m", "h_tx_m"],
    "freq_mhz": ["freq_mhz", "frequency_mhz", "freq", "frequency"],
    "rx_height_m": ["rx_height_m", "rx_height", "h_rx_m", "receiver_height_m"],
    "clutter": ["clutter", "clutter_class", "land_cover", "landcover", "cover"],
}

# Sites-table column names seen in drive-test deliveries that read_sites does not know (checked only when
# read_sites' own names are absent).
_SITE_SYNONYMS = {
    "site_id": ["bts_id", "bts", "sector_id", "cell_name"],
    "lon": ["lon_deg", "longitude_deg"],
    "lat": ["lat_deg", "latitude_deg"],
    "height_m": ["antenna_height_agl_m", "height_agl_m"],
    "freq_mhz": ["dl_freq_mhz", "dl_freq_mhz_from_bcch", "downlink_mhz"],
}


def _norm(name) -> str:
    """Column name reduced to lower-case letters and digits: 'RSRP (dBm)', 'rsrp_dbm' and 'Rsrp dBm' are one."""
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def _pick(columns, names) -> str | None:
    low = {}
    for c in columns:
        low.setdefault(_norm(c), c)
    for cand in names:
        if _norm(cand) in low:
            return low[_norm(cand)]
    return None


def _read(source) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        df = source
        if "geometry" in df.columns and _pick(df.columns, _SYNONYMS["lon"]) is None:
            import geopandas as gpd

            g = gpd.GeoDataFrame(df, geometry="geometry")
            g = g.to_crs("EPSG:4326") if g.crs is not None else g
            df = pd.DataFrame(df.drop(columns="geometry"))
            df["lon"], df["lat"] = g.geometry.x.to_numpy(), g.geometry.y.to_numpy()
        return df.reset_index(drop=True), "<DataFrame>"
    p = Path(source)
    if not p.exists():
        raise MissingFileError(f"measurements file not found: {p}")
    if p.stat().st_size == 0:
        raise FileFormatError(f"{p}: the measurements file is empty")
    if p.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp"):
        import geopandas as gpd

        try:
            gdf = gpd.read_file(p)
        except Exception as exc:  # pyogrio raises its own errors for malformed files
            raise FileFormatError(f"{p}: cannot read as a vector file ({exc})") from exc
        if len(gdf) == 0:
            raise FileFormatError(f"{p}: no features")
        if not all(gdf.geometry.geom_type == "Point"):
            bad = int(np.flatnonzero(gdf.geometry.geom_type != "Point")[0])
            raise InputError(f"{p}: feature {bad + 1} is a {gdf.geometry.iloc[bad].geom_type}; "
                             "measurements must be Points")
        return _read(gdf)[0], str(p)
    df = read_text_table(p, "measurements")
    if len(df) == 0:
        raise FileFormatError(f"{p}: the measurements file has a header but no rows")
    return df, str(p)


def _num(df, col, source, name, *, required=True) -> np.ndarray:
    """A numeric column; an unparseable or (when required) blank cell is an error naming row and column."""
    raw = df[col]
    vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    blank = raw.isna().to_numpy() | raw.astype(str).str.strip().isin(["", "nan", "NaN", "None", "NA"]).to_numpy()
    bad = np.isnan(vals) & (~blank | required)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{source}: row {i + 1}, column {col!r} ({name}): {raw.iloc[i]!r} is not a number")
    return vals


def _fail(source, mask, msg) -> None:
    i = int(np.flatnonzero(mask)[0])
    raise InputError(f"{source}: row {i + 1}: {msg(i)}; {int(mask.sum())} rows like it")


def _sites_frame(sites, technology):
    """Sites through read_sites, after mapping drive-test column names it does not know."""
    if sites is None:
        return None
    if not isinstance(sites, pd.DataFrame):
        p = Path(sites)
        if not p.exists():
            raise MissingFileError(f"sites file not found: {p}")
        if p.suffix.lower() in (".csv", ".txt"):
            sites = read_text_table(p, 'sites', dtype=str, keep_default_na=False)
            sites.attrs["source"] = str(p)
        else:
            return read_sites(p, technology=technology)
    if "geometry" in sites.columns and {"site_id", "height_m", "eirp_dbm"} <= set(sites.columns):
        return sites.reset_index(drop=True)  # already normalised
    df = sites.copy()
    for key, names in _SITE_SYNONYMS.items():
        if _pick(df.columns, _SITE_NAMES[key]) is None:
            c = _pick(df.columns, names)
            if c is not None:
                df = df.rename(columns={c: key})
    # total downtilt = electrical + mechanical when a file gives the two
    el = _pick(df.columns, ["electrical_tilt_deg", "tiltele", "tilt_electrical"])
    me = _pick(df.columns, ["mechanical_tilt_deg", "tiltmec", "tilt_mechanical"])
    if el is not None and "downtilt_deg" not in df.columns:
        df["downtilt_deg"] = pd.to_numeric(df[el], errors="coerce") + (
            pd.to_numeric(df[me], errors="coerce").fillna(0.0) if me is not None else 0.0)
    return read_sites(df, technology=technology)


def read_measurements(source, *, sites=None, technology: str | None = None, rx_height_m: float | None = None,
                      clutter: str | None = None):
    """Read a drive-test / crowdsourced table into one row per measurement with its path loss (dB).

    Parameters
    ----------
    source : path (CSV, GeoJSON, GPKG) or DataFrame / GeoDataFrame
        Receiver ``lon, lat`` (or Point geometry), a measured ``path_loss_db`` or a level
        (``rsrp_dbm``, ``rscp_dbm``, ``rxlev_dbm``, ``ss_rsrp_dbm``, ``rssi_dbm``), and the serving
        site by ``site_id`` or by ``site_lon, site_lat, site_height_m, freq_mhz``. Column names are
        matched case-insensitively among common synonyms (``PLreal``, ``BTS_ID``, ``lng``...).
    sites : path or DataFrame, optional
        Sites table joined on ``site_id`` (read with :func:`coverage.read_sites`); it gives position,
        height above ground, frequency, EIRP, technology and sector pattern. Required when the table
        has no site columns of its own, and for level columns (the EIRP).
    technology : str, optional
        Technology of sites that do not say (see :func:`coverage.read_sites`).
    rx_height_m : float, optional
        Receiver height above ground (m) for rows without one (default :data:`DEFAULT_RX_HEIGHT_M`,
        said in a :class:`CoverageWarning` and in ``attrs['assumed']``).
    clutter : str, optional
        Column holding a land-cover / clutter class per point (default: a column named like
        ``clutter``); calibration fits one offset per class.

    Returns
    -------
    pandas.DataFrame
        :data:`MEASUREMENT_COLUMNS` (+ ``clutter``, ``level_dbm``, ``pattern_db``), one row per
        measurement; ``distance_m`` and ``azimuth_deg`` from the site on the WGS84 ellipsoid.
        ``attrs``: ``source``, ``assumed`` (defaults filled in), ``loss_from`` (the column used).
    """
    df, src = _read(source)
    cols = list(df.columns)
    col = {k: _pick(cols, v) for k, v in _SYNONYMS.items()}
    if clutter is not None:
        if clutter not in cols:
            raise FileFormatError(f"{src}: no clutter column {clutter!r}; columns are {cols}")
        col["clutter"] = clutter
    for need in ("lon", "lat"):
        if col[need] is None:
            raise FileFormatError(f"{src}: no {need} column (accepted names: {_SYNONYMS[need]}); columns are {cols}")
    level_cols = [k for k in LEVEL_COLUMNS if col[k] is not None]
    if col["path_loss_db"] is None and not level_cols:
        raise FileFormatError(f"{src}: no measured path loss or level column (accepted: path_loss_db, "
                              f"{', '.join(LEVEL_COLUMNS)} and synonyms); columns are {cols}")
    n = len(df)
    assumed: dict = {}
    out = pd.DataFrame(index=range(n))
    out["lon"] = _num(df, col["lon"], src, "receiver longitude")
    out["lat"] = _num(df, col["lat"], src, "receiver latitude")
    bad = (np.abs(out["lat"]) > 90) | (out["lon"] < -180) | (out["lon"] > 360)
    if bad.any():
        _fail(src, bad.to_numpy(), lambda i: f"({out['lon'][i]}, {out['lat'][i]}) is not a lon/lat in degrees")

    eirp, tech, sector = _site_columns(out, df, col, src, _sites_frame(sites, technology), cols)
    out["rx_height_m"] = _rx_heights(df, col, src, rx_height_m, assumed)

    from pyproj import Geod

    az, _, dist = Geod(ellps="WGS84").inv(out["site_lon"].to_numpy(), out["site_lat"].to_numpy(),
                                          out["lon"].to_numpy(), out["lat"].to_numpy())
    out["distance_m"] = dist
    out["azimuth_deg"] = np.mod(az, 360.0)
    bad = ~(dist > 0)
    if bad.any():
        _fail(src, bad, lambda i: f"the receiver is at its site {out['site_id'][i]!r} (distance 0 m)")

    _path_loss(out, df, col, level_cols, src, eirp, tech, sector, assumed)
    if col["clutter"] is not None:
        cl = df[col["clutter"]]
        if cl.isna().any():
            _fail(src, cl.isna().to_numpy(), lambda i: f"column {col['clutter']!r} (clutter class) is empty")
        out["clutter"] = cl.astype(str).str.strip().to_numpy()
    out.attrs.update(source=src, assumed=assumed, n_sites=int(out["site_id"].nunique()))
    return out


def _site_columns(out, df, col, src, site_tab, cols):
    """Fill the serving site's position, height and frequency in ``out``; return its EIRP, technology and
    sector (azimuth, beamwidth, downtilt, vertical beamwidth, bandwidth; NaN where the table has none).

    A sites table joined on ``site_id`` wins over the rows' own site columns (it also carries the EIRP)."""
    n = len(out)
    own = all(col[k] is not None for k in ("site_lon", "site_lat", "site_height_m", "freq_mhz"))
    if col["site_id"] is not None:
        out["site_id"] = df[col["site_id"]].astype(str).str.strip().to_numpy()
    elif own:
        key = df[col["site_lon"]].astype(str) + "," + df[col["site_lat"]].astype(str)
        out["site_id"] = np.char.add("site", pd.factorize(key)[0].astype(str))
    else:
        raise FileFormatError(f"{src}: no site_id column and not all of site_lon, site_lat, site_height_m, "
                              f"freq_mhz; columns are {cols}")
    eirp = np.full(n, np.nan)
    tech = np.full(n, "", dtype=object)
    sector = np.full((n, 5), np.nan)
    if site_tab is not None and col["site_id"] is not None:
        idx = pd.Index(site_tab["site_id"].astype(str))
        pos = idx.get_indexer(out["site_id"])
        missing = pos < 0
        if missing.any():
            _fail(src, missing, lambda i: f"site_id {out['site_id'][i]!r} is not in the sites table "
                                          f"({len(idx)} sites: {list(idx[:6])}...)")
        st = site_tab.iloc[pos].reset_index(drop=True)
        out["site_lon"], out["site_lat"] = st["lon"].to_numpy(float), st["lat"].to_numpy(float)
        out["site_height_m"], out["freq_mhz"] = st["height_m"].to_numpy(float), st["freq_mhz"].to_numpy(float)
        eirp, tech = st["eirp_dbm"].to_numpy(float), st["technology"].to_numpy(object)
        for k, name in enumerate(("azimuth_deg", "beamwidth_deg", "downtilt_deg", "vertical_beamwidth_deg",
                                  "bandwidth_mhz")):
            sector[:, k] = st[name].to_numpy(float)
    elif own:
        out["site_lon"] = _num(df, col["site_lon"], src, "site longitude")
        out["site_lat"] = _num(df, col["site_lat"], src, "site latitude")
        out["site_height_m"] = _num(df, col["site_height_m"], src, "site antenna height above ground, m")
        out["freq_mhz"] = _num(df, col["freq_mhz"], src, "frequency, MHz")
    else:
        raise FileFormatError(f"{src}: rows name their site by {col['site_id']!r} but no sites table was given "
                              "(pass sites=...)")
    for name in ("site_height_m", "freq_mhz"):
        bad = ~(out[name].to_numpy() > 0)
        if bad.any():
            _fail(src, bad, lambda i, name=name: f"{name}={out[name][i]} must be positive")
    return eirp, tech, sector


def _rx_heights(df, col, src, rx_height_m, assumed) -> np.ndarray:
    """Receiver heights above ground (m); blanks take ``rx_height_m`` or the default, which is said."""
    n = len(df)
    h = (_num(df, col["rx_height_m"], src, "receiver height above ground, m", required=False)
         if col["rx_height_m"] is not None else np.full(n, np.nan))
    if np.isnan(h).any():
        fill = DEFAULT_RX_HEIGHT_M if rx_height_m is None else float(rx_height_m)
        if rx_height_m is None:
            assumed["rx_height_m"] = fill
            warnings.warn(f"{src}: {int(np.isnan(h).sum())} rows give no receiver height: rx_height_m={fill} m "
                          "assumed", CoverageWarning, stacklevel=3)
        h = np.where(np.isnan(h), fill, h)
    if not (h > 0).all():
        _fail(src, ~(h > 0), lambda i: f"rx_height_m={h[i]} must be a positive height above ground")
    return h


def _path_loss(out, df, col, level_cols, src, eirp, tech, sector, assumed) -> None:
    """Fill ``path_loss_db`` (and ``level_dbm``, ``pattern_db`` for levels) in ``out``."""
    n = len(out)
    if col["path_loss_db"] is not None:
        pl = _num(df, col["path_loss_db"], src, "measured path loss, dB")
        out.attrs["loss_from"] = col["path_loss_db"]
    else:
        key = level_cols[0]
        level = _num(df, col[key], src, f"measured level ({key})")
        bad = (level > 0) | (level < -200)
        if bad.any():
            _fail(src, bad, lambda i: f"{col[key]}={level[i]} is not a plausible received level in dBm")
        if np.isnan(eirp).any():
            raise FileFormatError(f"{src}: levels ({col[key]!r}) need each site's EIRP: pass sites=... with "
                                  "eirp_dbm (or power and gain)")
        want = LEVEL_COLUMNS[key]
        offset = np.zeros(n)
        if want is not None:
            wrong = tech != want
            if wrong.any():
                _fail(src, wrong, lambda i: f"{col[key]!r} is a {want} metric but site {out['site_id'][i]!r} "
                                            f"is {tech[i]}")
            offset = np.array([metric_offset_db(want, bw) for bw in sector[:, 4]])
        pattern = _pattern_db(out, sector)
        pl = eirp + pattern + offset - level
        out["level_dbm"] = level
        out["pattern_db"] = pattern
        out.attrs["loss_from"] = f"{col[key]} (path_loss_db = eirp_dbm + pattern_db + metric offset - level)"
    bad = ~((pl > 20) & (pl < 300))
    if bad.any():
        _fail(src, bad, lambda i: f"path loss {pl[i]:.1f} dB is not plausible (20-300 dB)")
    out["path_loss_db"] = pl


def _pattern_db(out, sector) -> np.ndarray:
    """3GPP TR 36.814 sector attenuation of each row's site towards the receiver (dB, <= 0), the engine's
    pattern (:func:`coverage.propagation.antenna.sector_attenuation_db`). The depression angle is taken
    over flat ground (site height above the receiver): the sites table gives heights above local ground,
    not ground elevations. Omni sites (no azimuth) get 0.
    """
    az, bw, tilt, vbw = sector[:, 0], sector[:, 1], sector[:, 2], sector[:, 3]
    has = np.isfinite(az) & np.isfinite(bw)
    g = np.zeros(len(out))
    if not has.any():
        return g
    d = out["distance_m"].to_numpy()
    theta = np.degrees(np.arctan2(out["site_height_m"].to_numpy() - out["rx_height_m"].to_numpy(), d))
    phi = out["azimuth_deg"].to_numpy() - az
    for i in np.flatnonzero(has):
        g[i] = sector_attenuation_db(phi[i], theta[i], beamwidth_deg=bw[i], downtilt_deg=np.nan_to_num(tilt[i]),
                                     vertical_beamwidth_deg=vbw[i] if np.isfinite(vbw[i]) else 0.0).item()
    return g


def sample_clutter(measurements, raster, *, classes: dict | None = None, column: str = "clutter"):
    """Add the land-cover class at each measurement point from a raster (nearest cell).

    Parameters
    ----------
    measurements : DataFrame
        From :func:`read_measurements` (``lon``, ``lat``).
    raster : path or (array, transform, crs)
        Land-cover codes, e.g. ESA WorldCover (10 tree cover, 50 built-up, 80 water...).
    classes : dict, optional
        Code -> class name (several codes may share a name); codes not listed keep their number.
    column : str
        Name of the new column (``"clutter"``, the one :func:`coverage.calibrate` fits offsets for).

    Returns
    -------
    DataFrame
        A copy with ``column`` (strings). A point off the raster or on its nodata is an error naming the row.
    """
    from pyproj import CRS, Transformer

    if isinstance(raster, tuple):
        arr, transform, crs = raster
        arr = np.asarray(arr)
        nodata = None
        src = "<array>"
    else:
        import rasterio

        with rasterio.open(raster) as ds:
            arr, transform, crs, nodata = ds.read(1), ds.transform, ds.crs, ds.nodata
        src = str(raster)
    crs = CRS.from_user_input(crs)
    lon, lat = measurements["lon"].to_numpy(float), measurements["lat"].to_numpy(float)
    if crs.is_geographic:
        x, y = lon, lat
    else:
        x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    col = np.floor((np.asarray(x) - transform.c) / transform.a).astype(np.int64)
    row = np.floor((np.asarray(y) - transform.f) / transform.e).astype(np.int64)
    off = (row < 0) | (row >= arr.shape[0]) | (col < 0) | (col >= arr.shape[1])
    if off.any():
        _fail(src, off, lambda i: f"measurement at ({lon[i]}, {lat[i]}) lies off the land-cover raster")
    codes = arr[row, col]
    bad = (codes == nodata) if nodata is not None else np.zeros(len(codes), bool)
    if np.issubdtype(codes.dtype, np.floating):
        bad |= ~np.isfinite(codes)
    if bad.any():
        _fail(src, bad, lambda i: f"measurement at ({lon[i]}, {lat[i]}) falls on the raster's nodata")
    names = [str(classes.get(c.item(), c.item())) if classes else str(c.item()) for c in codes]
    out = measurements.copy()
    out[column] = names
    return out
