"""CIs that are what they say (issue 13): per row ``ci_valid`` / ``ci_note`` in ``SimulationResult.frame`` and the
JSON rows; heavy tails flag exactly the metrics they affect (``simulator.core.diagnostics``: surplus and welfare
have the tail index alpha of the values, revenue of an m-unit auction (m+1) alpha when n > m, units sold are
bounded); fewer than ``MIN_CI_SAMPLES`` auctions give no CI; z and "contains" have one definition
(``result.z_score`` / ``result.ci_contains``) with a rounding slack when the standard error is zero; no NaN.

Expected values are closed forms of order statistics, independent of the library: with n i.i.d. values the k-th
highest is v(U_(k)), U_(k) ~ Beta(k, n + 1 - k), so E = (n + 1 - k)/(n + 1) (uniform), sum_{j=k}^n 1/j
(exponential), Gamma(n+1) Gamma(k - 1/a) / (Gamma(k) Gamma(n + 1 - 1/a)) (Pareto(a), scale 1; Lomax: the
same minus 1). VCG with m units: revenue m E[X_(m+1)], welfare sum_{k<=m} E[X_(k)] (Vickrey; Krishna ch. 13).

Runs on the old API too (``simulate(mechs, dist, n, ...)``, PYTHONPATH=/work/baseline), where these tests fail.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.special import gammaln

from simulator import simulate

try:
    from distributions import Market
except ImportError:  # the pre-refactor code: simulate(mechanisms, dist, n, ...)
    Market = None

N = 10
MECHANISMS = ["spa", "vcg:m=2", "vcg:m=3"]
REPS, SAMPLES = 500, 2000


def run(mechanisms, spec, n, **kw):
    """simulate on either API, quietly."""
    kw.setdefault("progress", False)
    if Market is None:
        return simulate(mechanisms, spec, n, **kw)
    return simulate(mechanisms, Market.iid(spec, n), **kw)


def top(spec: str, k: int, n: int = N) -> float:
    """E[k-th highest of n values] in closed form (module docstring); inf when it has no finite mean."""
    if spec == "uniform":
        return (n + 1 - k) / (n + 1)
    if spec == "exponential":
        return sum(1.0 / j for j in range(k, n + 1))
    a = float(spec.split("shape=")[1])
    if k <= 1 / a:
        return math.inf
    pareto = math.exp(gammaln(n + 1) + gammaln(k - 1 / a) - gammaln(k) - gammaln(n + 1 - 1 / a))
    return pareto - 1.0 if spec.startswith("lomax") else pareto


def truth(spec: str) -> dict:
    """{(mechanism, metric): exact value} of VCG with m = 1, 2, 3 units among N buyers."""
    out = {}
    for name, m in zip(MECHANISMS, (1, 2, 3)):
        welfare = sum(top(spec, k) for k in range(1, m + 1))
        revenue = m * top(spec, m + 1)
        out[(name, "revenue")], out[(name, "welfare")] = revenue, welfare
        out[(name, "surplus")], out[(name, "sold")] = welfare - revenue, float(m)
    return out


#: market -> the rows that must be flagged, with the tail index their note names
HEAVY = {"uniform": {}, "exponential": {},
         "pareto:shape=1.1": {(name, metric): "infinite variance: tail index 1.1 <= 2"
                              for name in MECHANISMS for metric in ("surplus", "welfare")},
         "lomax:shape=1.5": {(name, metric): "infinite variance: tail index 1.5 <= 2"
                             for name in MECHANISMS for metric in ("surplus", "welfare")}}


def coverage(spec: str):
    """REPS runs of SAMPLES auctions: how often each valid row's CI covers its closed form; the flags seen."""
    exact = truth(spec)
    hits, flags, warnings = dict.fromkeys(exact, 0), {}, set()
    for seed in range(REPS):
        res = run(MECHANISMS, spec, N, samples=SAMPLES, seed=seed, mode="profile", backend="serial",
                  exact=False, benchmarks=False)
        warnings.update(res.warnings)
        for row in res.frame.itertuples():
            key = (row.mechanism, row.metric)
            if not row.ci_valid:
                flags[key] = row.ci_note
                assert math.isnan(row.ci_low) and math.isnan(row.ci_high) and math.isnan(row.z), row
                continue
            assert row.ci_note == "", row
            hits[key] += bool(row.ci_low <= exact[key] <= row.ci_high)
    return hits, flags, warnings


@pytest.mark.parametrize("spec", list(HEAVY))
def test_valid_cis_cover_and_heavy_tails_are_flagged(spec):
    """Valid 95% CIs cover the closed form 93-97% of the time pooled over rows, each row within |z| < 4 of 95%
    (binomial, 500 runs); the rows with infinite variance (28% and 76% coverage before) are flagged."""
    hits, flags, warnings = coverage(spec)
    assert flags == HEAVY[spec]
    random_rows = [key for key in hits if key not in flags and key[1] != "sold"]  # sold: constant m here
    rates = {key: hits[key] / REPS for key in random_rows}
    sd = math.sqrt(0.95 * 0.05 / REPS)
    assert all(abs(r - 0.95) < 4 * sd for r in rates.values()), rates
    pooled = float(np.mean(list(rates.values())))
    assert 0.93 <= pooled <= 0.97, rates
    assert all(hits[(name, "sold")] == REPS for name in MECHANISMS)  # zero stderr, exact m: contained
    # the warning lines say the same as the rows: the flagged metrics with their tail index, nothing else
    for note in set(flags.values()):
        assert any(note in w and "welfare and surplus" in w for w in warnings), (note, warnings)
    assert not any("revenue" in w for w in warnings) and (warnings == set()) == (flags == {})


def test_revenue_is_flagged_with_its_own_tail_index():
    """(m+1) alpha: lomax 0.8 -> SPA revenue 1.6 <= 2 flagged, VCG m = 2 revenue 2.4 valid; n <= m: bounded."""
    res = run(["spa", "vcg:m=2"], "lomax:shape=0.8", N, samples=1000, seed=3, benchmarks=False)
    rows = res.frame.set_index(["mechanism", "metric"])
    assert rows.loc[("spa", "revenue"), "ci_note"] == "infinite variance: tail index 1.6 <= 2"
    assert rows.loc[("vcg:m=2", "revenue"), "ci_valid"] and rows.loc[("spa", "sold"), "ci_valid"]
    assert rows.loc[("spa", "welfare"), "ci_note"] == "infinite mean: tail index 0.8 <= 1"
    assert any("revenue of spa" in w and "tail index 1.6" in w for w in res.warnings)
    assert not any("vcg:m=2" in w for w in res.warnings)
    from simulator.core.diagnostics import metric_tail_index

    assert metric_tail_index(1.1, 2, 3, "revenue") == math.inf  # n <= m: everyone wins, bounded price
    assert metric_tail_index(1.1, 1e30, 3, "revenue") == pytest.approx(4.4)
    assert metric_tail_index(1.1, 10, 1, "sold") == math.inf


def test_zero_standard_error_compares_within_rounding():
    """n = 1e30 uniform: every auction sells at 1 (to rounding), exact 1 - 2/(n+1); z = 0, CI contains, no NaN."""
    res = run(["spa", "vcg:m=2"], "uniform", 1e30, samples=2000, seed=1, benchmarks=False)
    frame = res.frame
    assert (frame.stderr == 0).all() and frame.ci_valid.all()
    assert (frame.z == 0).all(), frame
    for row in frame.itertuples():
        assert row.ci_low <= row.estimate <= row.ci_high
    text = json.dumps(res.to_dict(), allow_nan=False)
    assert all(r["z"] == 0 for r in json.loads(text)["results"])


def test_z_and_contains_have_one_definition():
    from simulator.core.result import ci_contains, rounding_slack, z_score
    from simulator.paper.reproduce import ci_contains as paper_contains

    assert z_score(1.0, 0.0, 1.0 - 5e-12) == 0.0 and z_score(0.0, 0.0, 1e-30) == 0.0
    assert z_score(1.0, 0.0, 1.0 - 1e-6) is None  # z = -inf: not a number to print
    assert z_score(1.0, 0.5, 0.0) == 2.0 and z_score(1.0, float("nan"), 0.0) is None
    assert ci_contains(1.0, 1.0, 1.0 - 5e-12) and not ci_contains(1.0, 1.0, 1.0 - 1e-6)
    assert ci_contains(None, None, 1.0) is None and ci_contains(float("nan"), 1.0, 0.5) is None
    assert rounding_slack(2.0, 10 ** 9) == pytest.approx(2e9 * np.finfo(float).eps)
    for lo, hi, x in [(1.0, 1.0, 1.0 - 5e-12), (1.0, 1.0, 1.0 - 1e-6), (0.9, 0.99, 1.0), (None, None, 0.5)]:
        assert paper_contains(lo, hi, x) == ci_contains(lo, hi, x)


def test_zero_stderr_beyond_rounding_has_no_z_but_a_note():
    res = run(["spa"], "uniform", 1e30, samples=2000, seed=1, benchmarks=False)
    res.analytic["spa"]["sold"] = 1.0 - 1e-6  # a wrong exact value: the constant estimate 1 is 1e-6 away
    row = res.frame.set_index("metric").loc["sold"]
    assert math.isnan(row.z) and "beyond rounding" in row.ci_note
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert [r["z"] for r in out["results"] if r["metric"] == "sold"] == [None]


@pytest.mark.parametrize("samples,valid", [(2, False), (29, False), (30, True)])
def test_tiny_samples_give_no_ci(samples, valid):
    """Below 30 auctions (``diagnostics.MIN_CI_SAMPLES``) no row has a CI, and a warning says why."""
    res = run(["spa"], "uniform", N, samples=samples, seed=4, benchmarks=False)
    frame = res.frame
    assert (frame.ci_valid == valid).all()
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    for row in out["results"]:
        assert row["ci_valid"] is valid and (row["ci_low"] is None) is (not valid)
        assert ("too few samples" in row["ci_note"]) is (not valid) and row["ratio"] is None
    assert any(f"too few samples ({samples})" in w for w in res.warnings) is (not valid)


def test_precision_target_ignores_revenue_cis_that_are_not_valid():
    """``precision`` stops a run when every revenue CI is narrow enough; a CI that is not valid (lomax 0.8:
    the second-highest value has tail index 1.6 <= 2, infinite variance) measures nothing, so it cannot stop
    the run (the old rule stopped after the first batch), while VCG with 2 units (tail index 2.4) still can."""
    from distributions import Market
    from simulator import simulate

    market = Market.iid("lomax:shape=0.8", 10)
    heavy = simulate(["spa"], market, samples=2_000_000, seed=1, precision=0.5, progress=False)
    assert heavy.samples == 2_000_000
    assert any("precision 0.5 not reached" in w and "no revenue estimate has a valid CI" in w for w in heavy.warnings)
    light = simulate(["vcg:m=2"], market, samples=2_000_000, seed=1, precision=0.5, progress=False)
    assert light.samples < 2_000_000 and not any("precision" in w for w in light.warnings)
