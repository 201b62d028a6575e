"""Survey readers (IDM 2024, Podes) and the confusion matrix of predicted statuses against them."""

from __future__ import annotations

import pandas as pd
import pytest

import coverage
from coverage import VillageError
from coverage.analysis.survey import compare_podes_kabupaten


def table(codes, statuses):
    return pd.DataFrame({"kode": codes, "status": statuses, "kode_kab": [c[:5] for c in codes]})


def test_confusion_matrix_and_agreement():
    codes = [f"64.01.01.20{i:02d}" for i in range(1, 7)] + [f"64.02.01.20{i:02d}" for i in range(1, 5)]
    pred = ["covered", "covered", "partial", "blankspot", "blankspot", "blankspot",
            "covered", "partial", "blankspot", "unassessed"]
    obs = ["kuat", "lemah", "lemah", "tidak_ada", "kuat", "lemah", "kuat", "kuat", "tidak_ada", "kuat"]
    survey = pd.DataFrame({"kode": codes, "survey_class": obs})
    c = coverage.compare_survey(table(codes, pred), survey)
    # 'unassessed' villages are left out of the comparison
    assert c.n_matched == 9
    m = c.matrix
    assert m.loc["kuat", "covered"] == 2 and m.loc["kuat", "partial"] == 1 and m.loc["kuat", "blankspot"] == 1
    assert m.loc["lemah", "covered"] == 1 and m.loc["lemah", "partial"] == 1 and m.loc["lemah", "blankspot"] == 1
    assert m.loc["tidak_ada", "blankspot"] == 2 and int(m.to_numpy().sum()) == 9
    # agreement: covered-kuat (2) + partial-lemah (1) + blankspot-tidak_ada (2) = 5 of 9
    assert c.agreement == pytest.approx(5 / 9)
    # service (some signal vs none): mismatches are the blankspots reporting kuat/lemah (2)
    assert c.service_agreement == pytest.approx(7 / 9)
    g = c.per_group.set_index("kode_kab")
    assert g.loc["64.01", "villages"] == 6 and g.loc["64.01", "agreement"] == pytest.approx(3 / 6)
    assert g.loc["64.02", "villages"] == 3 and g.loc["64.02", "agreement"] == pytest.approx(2 / 3)
    assert -1 <= c.kappa <= 1


def test_perfect_agreement_kappa_one():
    codes = ["64.01.01.2001", "64.01.01.2002", "64.01.01.2003"]
    c = coverage.compare_survey(table(codes, ["covered", "partial", "blankspot"]),
                                pd.DataFrame({"kode": codes, "survey_class": ["kuat", "lemah", "tidak_ada"]}))
    assert c.agreement == 1.0 and c.kappa == pytest.approx(1.0)


def test_code_systems_are_never_joined_silently():
    t = table(["64.01.01.2001"], ["covered"])
    s = pd.DataFrame({"kode": ["6401012001"], "survey_class": ["kuat"]})
    with pytest.raises(VillageError, match="different numberings"):
        coverage.compare_survey(t, s)


def test_bad_survey_class():
    t = table(["64.01.01.2001"], ["covered"])
    with pytest.raises(ValueError, match="survey class"):
        coverage.compare_survey(t, pd.DataFrame({"kode": ["64.01.01.2001"], "survey_class": ["strong"]}))


def test_read_idm_coding(tmp_path):
    p = tmp_path / "idm.csv"
    p.write_text("kode,kode10,iks29_sinyal_telepon\n64.01.01.2009,6401012009,3\n64.01.01.2010,6401012010,5\n"
                 "64.01.01.2011,6401012011,0\n")
    d = coverage.read_idm(p)
    assert d["survey_class"].tolist() == ["lemah", "kuat", "tidak_ada"]
    assert d["kode"].tolist() == ["64.01.01.2009", "64.01.01.2010", "64.01.01.2011"]
    assert d["kode10"].tolist()[0] == "6401012009" and d["kode_kab"].tolist()[0] == "64.01"
    p.write_text("kode,iks29_sinyal_telepon\n64.01.01.2009,4\n")
    with pytest.raises(ValueError, match="iks29_sinyal_telepon='4'"):
        coverage.read_idm(p)


def test_read_podes_coding(tmp_path):
    p = tmp_path / "podes.csv"
    p.write_text("IDDESA,R106B,NAMA_DESA,R1005C,R1005D\n"
                 "6401010001,64.01.01.2001,A,1,1\n6401010002,64.01.01.2002,B,2,2\n"
                 "6401010003,64.01.01.2003,C,3,3\n6401010004,64.01.01.2004,D,4,4\n")
    d = coverage.read_podes(p)
    assert d["kode"].tolist()[0] == "64.01.01.2001" and d.attrs["code_system"] == "kemendagri"
    assert d["survey_class"].tolist() == ["kuat", "kuat", "lemah", "tidak_ada"]
    assert d["survey_class_detail"].tolist() == ["sangat_kuat", "kuat", "lemah", "tidak_ada"]
    assert d["survey_internet"].tolist() == ["4g", "3g", "2g", "none"]
    b = coverage.read_podes(p, code="IDDESA")
    assert b["kode"].tolist()[0] == "6401010001" and b.attrs["code_system"] == "bps"
    assert b["kode_kab"].tolist()[0] == "6401"
    # a BPS-coded survey against a Kemendagri table: refused
    with pytest.raises(VillageError):
        coverage.compare_survey(table(["64.01.01.2001"], ["covered"]), b)
    p.write_text("IDDESA,R1005C\n6401010001,7\n")
    with pytest.raises(ValueError, match="R1005C='7'"):
        coverage.read_podes(p)


def test_real_idm_file(shared_file):
    d = coverage.read_idm(shared_file("validation/idm2024_signal_desa_kaltim_kaltara.csv"))
    assert len(d) == 1288 and d["kode"].is_unique
    counts = d.groupby([d["kode"].str[:2], "survey_class"]).size()
    assert counts[("64", "kuat")] == 537 and counts[("64", "lemah")] == 281 and counts[("64", "tidak_ada")] == 23
    assert counts[("65", "kuat")] == 255 and counts[("65", "lemah")] == 180 and counts[("65", "tidak_ada")] == 12


def test_real_podes_kabupaten(shared_file):
    p = coverage.read_podes_kabupaten(shared_file("validation/podes2024_kabupaten_kaltim_kaltara.csv"))
    assert len(p) == 15 and p["kode_kab"].str.match(r"^\d{2}\.\d{2}$").all()
    bpn = p.set_index("kode_kab").loc["64.71"]
    assert bpn["villages"] == 34 and bpn["share_signal_good"] == pytest.approx(1.0)
    ind = pd.DataFrame({"kode": ["64.71"], "nama": ["Kota Balikpapan"], "villages": [34], "covered": [30],
                        "partial": [2], "villages_assessed": [34]})
    cmp = compare_podes_kabupaten(ind, p).set_index("kode_kab")
    assert cmp.loc["64.71", "share_villages_served"] == pytest.approx(32 / 34)
    assert cmp.loc["64.71", "diff_served_vs_signal_good"] == pytest.approx(32 / 34 - 1.0)


def test_issue9_item15_comparison_prints_short_and_gives_a_frame():
    codes = [f"64.01.01.20{i:02d}" for i in range(1, 5)]
    c = coverage.compare_survey(table(codes, ["covered", "partial", "blankspot", "covered"]),
                                pd.DataFrame({"kode": codes, "survey_class": ["kuat", "kuat", "tidak_ada", "lemah"]}))
    text = repr(c)
    assert len(text) < 200 and "\n" not in text and "agreement=50.0%" in text and "n_matched=4" in text
    f = c.to_frame()
    assert f.loc["total", "total"] == 4 and f.loc["kuat", "total"] == 2 and f.loc["total", "covered"] == 2
    assert "<table" in c._repr_html_()
