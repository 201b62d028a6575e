"""Sites: every accepted layout, defaults, technology metrics, sector pattern, and clear errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import coverage
from coverage.errors import FileFormatError, SiteError
from coverage.io.sites import DEFAULT_HEIGHT_M, DEFAULTS_BY_TECHNOLOGY, metric_offset_db
from coverage.propagation.antenna import sector_attenuation_db


def _csv(tmp_path, text, name="sites.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_plain_csv_with_synonyms_and_defaults(tmp_path):
    p = _csv(tmp_path, "id,longitude,latitude,height,frequency,power_dbm,gain_dbi,losses_db,tech\n"
                       "A,117.1,-0.5,35,900,43,17,3,GSM\n"
                       "B,117.2,-0.6,,,,,,LTE\n")
    s = coverage.read_sites(p)
    assert list(s["site_id"]) == ["A", "B"]
    a, b = s.iloc[0], s.iloc[1]
    assert a["eirp_dbm"] == 57.0 and a["technology"] == "2g" and a["height_m"] == 35.0
    assert b["technology"] == "4g" and b["height_m"] == DEFAULT_HEIGHT_M
    assert b["freq_mhz"] == DEFAULTS_BY_TECHNOLOGY["4g"].freq_mhz
    assert b["eirp_dbm"] == DEFAULTS_BY_TECHNOLOGY["4g"].eirp_dbm
    assert s.crs.to_epsg() == 4326 and s.geometry.x.iloc[0] == pytest.approx(117.1)
    # a sector gets the standard pattern's missing pieces
    p2 = _csv(tmp_path, "site_id,lon,lat,height_m,freq_mhz,eirp_dbm,azimuth_deg\nS,117,-0.5,30,1800,60,90\n", "s2.csv")
    s2 = coverage.read_sites(p2)
    assert s2["beamwidth_deg"].iloc[0] == 65.0 and s2["downtilt_deg"].iloc[0] == 0.0


def test_geojson_points_and_dataframes(tmp_path):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.9, -1.2]},
         "properties": {"site_id": "G1", "height_m": 40, "freq_mhz": 1800, "eirp_dbm": 59}}]}
    p = tmp_path / "s.geojson"
    p.write_text(json.dumps(fc))
    s = coverage.read_sites(p)
    assert s["lon"].iloc[0] == 116.9 and s["eirp_dbm"].iloc[0] == 59
    df = pd.DataFrame({"site_id": ["x"], "lng": [116.0], "lat": [-1.0]})
    assert coverage.read_sites(df)["lon"].iloc[0] == 116.0


def test_opencellid_with_and_without_header(shared_file, tmp_path):
    with_header = coverage.read_sites(shared_file("towers/opencellid_510_kalimantan_bbox.csv"))
    assert len(with_header) == 1025
    assert set(with_header["technology"]) <= {"2g", "3g", "4g", "5g"}
    lte = with_header[with_header["technology"] == "4g"]
    assert (lte["freq_mhz"] == 1800).all() and (lte["height_m"] == DEFAULT_HEIGHT_M).all()
    assert with_header["site_id"].is_unique
    head = shared_file("towers/opencellid_510_indonesia.csv").read_text().splitlines()[:50]
    p = _csv(tmp_path, "\n".join(head) + "\n", "ocid.csv")
    no_header = coverage.read_sites(p)
    assert len(no_header) == 50 and no_header["site_id"].iloc[0].startswith("GSM-510-")
    assert no_header["technology"].iloc[0] == "2g"


@pytest.mark.parametrize("text, match", [
    ("site_id,lon,lat\nA,117.1,abc\n", r"row 1, column 'lat'"),
    ("site_id,lon,lat\nA,-0.5,117.1\n", "swapped"),
    ("site_id,lon,lat,height_m\nA,117,-0.5,-3\n", "height_m=-3"),
    ("site_id,lon,lat,technology\nA,117,-0.5,wifi\n", "technology 'wifi'"),
    ("site_id,lon,lat\nA,117,-0.5\nA,117.1,-0.5\n", "duplicate site_id"),
    ("site_id,lon,lat,azimuth_deg\nA,117,-0.5,400\n", "azimuth_deg=400"),
    ("site_id,lon,lat,freq_mhz\nA,117,-0.5,0\n", "freq_mhz=0"),
])
def test_bad_rows_name_the_row(tmp_path, text, match):
    with pytest.raises(SiteError, match=match):
        coverage.read_sites(_csv(tmp_path, text))


def test_bad_files(tmp_path):
    with pytest.raises(FileFormatError, match="empty"):
        coverage.read_sites(_csv(tmp_path, ""))
    with pytest.raises(FileFormatError, match="no rows"):
        coverage.read_sites(_csv(tmp_path, "site_id,lon,lat\n", "h.csv"))
    with pytest.raises(FileFormatError, match="no lon column"):
        coverage.read_sites(_csv(tmp_path, "a,b\n1,2\n", "x.csv"))
    with pytest.raises(FileNotFoundError):
        coverage.read_sites(tmp_path / "none.csv")
    poly = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}
    p = tmp_path / "p.geojson"
    p.write_text(json.dumps(poly))
    with pytest.raises(SiteError, match="Points"):
        coverage.read_sites(p)


def test_metric_offsets():
    # LTE 10 MHz: 50 RB x 12 subcarriers -> RSRP = P - 27.78 dB
    assert metric_offset_db("4g", 10) == pytest.approx(-10 * math.log10(600))
    assert metric_offset_db("4g", 20) == pytest.approx(-30.79, abs=0.01)
    assert metric_offset_db("3g", 5) == -10.0
    assert metric_offset_db("2g", 0.2) == 0.0
    assert metric_offset_db("5g", 40) == pytest.approx(-10 * math.log10(12 * 106))


def test_sector_pattern_3gpp_tr36814():
    assert sector_attenuation_db(0.0) == 0.0
    assert sector_attenuation_db(32.5) == pytest.approx(-3.0)  # half the 65 deg beamwidth
    assert sector_attenuation_db(-32.5) == pytest.approx(-3.0)
    assert sector_attenuation_db(180.0) == -25.0  # front-to-back
    assert sector_attenuation_db(360.0 + 10) == pytest.approx(sector_attenuation_db(10.0))
    # vertical: 5 deg off a 10 deg beam is -3 dB; combined loss is capped at A_m
    assert sector_attenuation_db(0.0, 5.0, downtilt_deg=0.0) == pytest.approx(-3.0)
    assert sector_attenuation_db(180.0, 40.0) == -25.0
    v = sector_attenuation_db(np.array([0, 30, 90]), np.array([0, 0, 0]))
    assert v.shape == (3,) and np.all(np.diff(v) < 0)
