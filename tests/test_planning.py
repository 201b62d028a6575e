"""Site planning: candidates, coverage matrix, greedy and MILP against brute force and re-runs."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import coverage
from coverage.analysis import planning as P
from coverage.errors import CoverageWarning, InputError

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
RADIUS_M = 4000.0  # short enough that the sample region has blankspot, partial and covered villages


@pytest.fixture(scope="module")
def region():
    terrain = coverage.open_terrain(SAMPLES / "terrain.tif")
    sites = coverage.read_sites(SAMPLES / "sites.csv")
    villages = coverage.read_villages(SAMPLES / "villages.geojson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        base = coverage.run_villages(sites, villages, terrain=terrain, radius_m=RADIUS_M)
        cands = coverage.candidate_sites(base.table, terrain=terrain, method=["hilltops", "villages"],
                                         per_village=1, spacing_m=1500.0, freq_mhz=900.0)
    # eight candidates spread over the list (hilltops and village points)
    cands = cands.iloc[np.linspace(0, len(cands) - 1, 8).round().astype(int)].reset_index(drop=True)
    return terrain, sites, villages, base, cands


@pytest.fixture(scope="module")
def all_pairs(region):
    """run_villages re-run on existing + every pair of the 8 candidates: the brute-force oracle."""
    terrain, sites, villages, _, cands = region
    out = {}
    cols = list(sites.columns)
    for a, b in itertools.combinations(range(len(cands)), 2):
        extra = cands.iloc[[a, b]][[c for c in cols if c in cands.columns]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)
            run = coverage.run_villages(pd.concat([sites, extra], ignore_index=True), villages, terrain=terrain,
                                        radius_m=RADIUS_M)
        t = run.table
        out[(a, b)] = {"blankspot_villages": int((t["status"] != "blankspot").sum()),
                       "covered_villages": int((t["status"] == "covered").sum()),
                       "population": float(t["population_covered"].sum()), "status": t["status"].tolist()}
    return out


@pytest.mark.parametrize("objective", ["blankspot_villages", "covered_villages", "population"])
def test_plan_is_best_of_all_pairs(region, all_pairs, objective):
    terrain, sites, villages, _base, cands = region
    assert len(all_pairs) == 28
    plan = coverage.plan_sites(sites=sites, candidates=cands, villages=villages, terrain=terrain,
                               radius_m=RADIUS_M, budget=2, objective=objective)
    best = max(r[objective] for r in all_pairs.values())
    ids = sorted(cands.index[cands["site_id"].isin(plan.chosen["site_id"])].tolist())
    assert len(ids) == 2
    oracle = all_pairs[tuple(ids)]
    # the plan's value is the re-run's value of its pair, and no pair does better
    assert plan.value == pytest.approx(oracle[objective], rel=1e-9)
    assert oracle[objective] == pytest.approx(best, rel=1e-9)
    # statuses equal the re-run's (plan.villages is that re-run; the model's own agree with it)
    assert plan.villages["status"].tolist() == oracle["status"]
    assert plan.metadata["status_mismatches"] == 0
    assert plan.gap == pytest.approx(0.0, abs=P.MIP_REL_GAP * 1.01)
    assert plan.greedy["value"] <= plan.value + 1e-9
    if objective == "blankspot_villages":
        assert plan.blankspot_after == len(villages) - best
        assert plan.bound <= plan.blankspot_after


def test_plan_counts_match_baseline(region):
    terrain, sites, villages, base, cands = region
    plan = coverage.plan_sites(sites=sites, candidates=cands, villages=villages, terrain=terrain,
                               radius_m=RADIUS_M, budget=1, solver="greedy", reassess=False)
    t = base.table
    assert plan.blankspot_before == int((t["status"] == "blankspot").sum())
    assert plan.covered_before == int((t["status"] == "covered").sum())
    assert plan.population_covered_before == pytest.approx(float(t["population_covered"].sum()), rel=1e-9)
    assert plan.blankspot_after <= plan.blankspot_before
    # the marginal gains add up to the plan's gain over the existing sites
    p = plan.proposals()
    assert list(p["rank"]) == list(range(1, len(p) + 1))
    assert p["villages_newly_served"].sum() == plan.blankspot_before - plan.blankspot_after


def test_cost_budget_and_colocation(region):
    terrain, sites, villages, base, _cands = region
    c = coverage.candidate_sites(base.table, terrain=terrain, method=["villages", "existing"], existing=sites,
                                 freq_mhz=900.0)
    assert set(c["kind"]) == {"new", "colocation"}
    assert (c.loc[c["kind"] == "colocation", "cost"] == P.COLOCATION_COST).all()
    assert c["site_id"].is_unique and c["reason"].str.len().gt(0).all()
    mine = pd.DataFrame({"site_id": ["MY-1"], "lon": [116.8], "lat": [-0.42], "cost": [0.7]})
    u = coverage.candidate_sites(base.table, terrain=terrain, method="villages", user=mine, freq_mhz=900.0)
    row = u[u["site_id"] == "MY-1"].iloc[0]
    assert (row["kind"], row["cost"], row["freq_mhz"], row["height_m"]) == ("user", 0.7, 900.0, 30.0)
    plan = coverage.plan_sites(sites=sites, candidates=c, villages=villages, terrain=terrain, radius_m=RADIUS_M,
                               budget=1.5, cost="cost", objective="covered_villages", reassess=False)
    assert plan.chosen["cost"].sum() <= 1.5 + 1e-9


def test_bad_inputs(region):
    terrain, sites, villages, _, cands = region
    kw = {"sites": sites, "candidates": cands, "villages": villages, "terrain": terrain, "radius_m": RADIUS_M}
    with pytest.raises(InputError, match="objective"):
        coverage.plan_sites(budget=2, objective="most_bars", **kw)
    with pytest.raises(InputError, match="budget"):
        coverage.plan_sites(budget=0, **kw)
    with pytest.raises(InputError, match="cost"):
        coverage.plan_sites(budget=2, cost=[1.0, 2.0], **kw)
    with pytest.raises(InputError, match="hilltops"):
        coverage.candidate_sites(villages, method="hilltops")
    with pytest.raises(InputError, match="unknown candidate method"):
        coverage.candidate_sites(villages, method="towers")


# ---------------------------------------------------------------------------------------------
# the model alone: random instances against enumeration


def _random_model(seed, n_c=7, n_v=6, n_cells=40, objective="blankspot_villages"):
    rng = np.random.default_rng(seed)
    cover = rng.random((n_c, n_cells)) < 0.25
    mat = sp.csr_matrix(cover)
    open_cells = np.arange(n_cells)
    cm = P.CoverageMatrix(mat, open_cells, pd.DataFrame(index=range(n_c)), 0.0, 1, 0)
    vi = rng.integers(0, n_v, n_cells)
    w = rng.uniform(0.2, 1.0, n_cells)
    # some cells already usable from existing sites
    usable = rng.random(n_cells) < 0.15
    vc = P._Villages(vi, open_cells.astype(np.int64), w, np.bincount(vi, weights=w, minlength=n_v))
    pop = rng.integers(100, 1000, n_v).astype(float)
    cost = np.ones(n_c)
    thr = 0.5 if objective != "population" else 0.1
    return P._build_model(cm, vc, usable, objective, thr, pop, cost), cover, vi, w, usable, pop, thr


def _brute(cover, vi, w, usable, pop, thr, k, objective):
    n_v = vi.max() + 1
    tot = np.bincount(vi, weights=w, minlength=n_v)
    best = -np.inf
    for comb in itertools.combinations(range(cover.shape[0]), k):
        u = usable | cover[list(comb)].any(axis=0)
        share = np.bincount(vi, weights=w * u, minlength=n_v) / np.where(tot > 0, tot, np.inf)
        val = np.sum(pop * share) if objective == "population" else np.sum((share >= thr) & (tot > 0))
        best = max(best, val)
    return best


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 3),
       objective=st.sampled_from(["blankspot_villages", "population"]))
def test_milp_matches_enumeration(seed, k, objective):
    mdl, cover, vi, w, usable, pop, thr = _random_model(seed, objective=objective)
    chosen, _bound, _, _ = P._milp(mdl, k, time_limit_s=10, mip_rel_gap=1e-9)
    best = _brute(cover, vi, w, usable, pop, thr, k, objective)
    val = mdl.value(mdl.shares(mdl.covered_by(chosen)))
    assert len(chosen) <= k
    assert val == pytest.approx(best, rel=1e-7, abs=1e-9)
    g = P._greedy(mdl, k)
    assert mdl.value(mdl.shares(mdl.covered_by(g))) <= best + 1e-9
    if objective == "population":
        v0 = mdl.value(mdl.shares(mdl.covered_by([])))
        # Nemhauser-Wolsey-Fisher: greedy gains at least (1 - 1/e) of the optimal gain
        assert mdl.value(mdl.shares(mdl.covered_by(g))) - v0 >= (1 - 1 / np.e) * (best - v0) - 1e-9


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_groups_are_exact_candidate_sets(seed):
    rng = np.random.default_rng(seed)
    cover = rng.random((6, 50)) < 0.3
    gid, G = P._groups(sp.csr_matrix(cover))
    sets = [frozenset(np.flatnonzero(cover[:, k])) for k in range(50)]
    for k in range(50):
        if not sets[k]:
            assert gid[k] == -1
        else:
            assert frozenset(G[gid[k]].indices) == sets[k]
    # one group per distinct non-empty set
    assert G.shape[0] == len({s for s in sets if s})


def test_smooth_earth_plan_matches_rerun_and_reach_is_exact(region):
    """Without terrain (Hata, smooth earth): the reach-limited windows give the full-radius cells, two
    worker processes give the same matrix, and the plan's statuses equal a re-run."""
    _, sites, villages, _, _ = region
    s900 = sites.assign(freq_mhz=900.0)  # one empirical model (Hata) for all sites
    cands = coverage.candidate_sites(villages, method="villages", freq_mhz=900.0, statuses=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pb = P.prepare_plan(sites=s900, candidates=cands, villages=villages, radius_m=8000.0, resolution_m=100.0)
        grid = P._grid(None, pb.candidate_models[0],
                       P._chain(s900, villages, None, "auto", "4g", None, 100.0, None, cands)[6], 8000.0, 100.0,
                       pb.sites)
        kw = {"model": pb.candidate_models, "params": pb.params, "tech": "4g", "rx_height_m": 1.5, "radius_m": 8000.0,
                  "usable_dbm": pb.usable_dbm}
        full = P.coverage_matrix(pb.candidates, grid, pb.matrix.open_cells, limit_reach=False, **kw)
        two = P.coverage_matrix(pb.candidates, grid, pb.matrix.open_cells, workers=2, **kw)
        plan = coverage.plan_sites(problem=pb, budget=3, objective="covered_villages")
    assert set(pb.candidate_models) == {"hata"}
    assert pb.matrix.matrix.nnz > 0
    assert (full.matrix != pb.matrix.matrix).nnz == 0
    assert (two.matrix != pb.matrix.matrix).nnz == 0
    assert full.cell_evaluations > pb.matrix.cell_evaluations
    assert plan.metadata["status_mismatches"] == 0
    assert plan.covered_after == int((plan.villages["status"] == "covered").sum())


def test_cli_plan(tmp_path):
    from coverage.cli import main

    out = tmp_path / "plan"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = main(["plan", "--sites", str(SAMPLES / "sites.csv"), "--villages", str(SAMPLES / "villages.geojson"),
                   "--terrain", str(SAMPLES / "terrain.tif"), "--candidates", "villages", "--freq", "900",
                   "--radius", str(RADIUS_M), "--budget", "2", "--objective", "covered_villages", "--no-map",
                   "--out-dir", str(out)])
    assert rc == 0
    prop = pd.read_csv(out / "proposals.csv")
    assert list(prop["rank"]) == [1, 2] and prop["villages_newly_covered"].sum() > 0
    assert (out / "proposals.xlsx").is_file() and (out / "villages_plan.geojson").is_file()
    after = coverage.read_villages(out / "villages_plan.geojson")
    assert len(after) == 24
