"""Order-statistic mode (issue 5): samplers, the drawn markets, agreement with profile mode, exact values at
n = 1e6, 1e12, 1e30, mode selection and the command line.

* Agreement: for each distribution with atoms, gaps or ironing (example42, a discrete one, the bimodal mixture,
  weibull shape 0.5) and n in {2, 10, 1000}, every mechanism (second price with reserves, lottery, Myerson,
  indirect Vickrey with pools, an ex-ante mixture, KS / Nash / cross-side Nash, VCG, buyer-offer, Myerson and
  indirect Vickrey with m units) runs in one simulation per mode (common random numbers), 1e6 auctions each;
  every (mechanism, metric) agrees between the modes by a two-sample |z| < 4. m = 100 separately at n = 200.
* Exact values (``Mechanism.exact``) at n = 1e6, 1e12, 1e30: |z| < 4.
Expected values come from profile mode, closed forms or ``mechanisms`` (checked in their own tests)."""
import json
import math

import numpy as np
import pytest
from scipy import stats

from distributions import Market
from mechanisms import parse_mechanism
from mechanisms.bargaining import SOLUTIONS, solve
from mechanisms.frontier import Frontier
from mechanisms.rule import QuantileRule
from simulator import cli, simulate
from simulator.kernels.compiled import compile_rules
from simulator.core.engine import AUTO_ORDERSTAT_N
from simulator.kernels.orderstat import draw_markets
from simulator.kernels.rng import chunk_state
from simulator.kernels.samplers import binomial_array, logpmf_array

SAMPLES = 1_000_000
Z_MAX = 4.0
#: relative floor for deterministic metrics (both standard errors 0) and quadrature error of exact values
REL_FLOOR = 1e-6
INF = math.inf
BIMODAL = "mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)"

# distribution, indirect Vickrey bid space (pools at its gaps and bounded top) and reserve
CASES = {
    "example42": ("example42", "0-0.5/0.8/1-inf", 0.2),
    "discrete": ("discrete:values=1/2/3,probs=0.25/0.25/0.5", "0-1.5/2.5/2.8-inf", 0.5),
    "bimodal": (BIMODAL, "0-0.5/1.5/2.5-inf", 0.2),
    "weibull": ("weibull:shape=0.5", "0-1/2/4-inf", 0.3),
}
MARKETS = [2, 10, 1000]


# ---------------------------------------------------------------------- samplers
@pytest.mark.parametrize("n,p", [(20, 0.3), (1000, 0.004), (1000, 0.3), (60, 0.93), (200, 0.05), (5000, 0.5)])
def test_binomial_matches_pmf(n, p):
    """Inversion (n p < 10) and BTRD (n p >= 10), both tails: chi-square against scipy's pmf."""
    x = binomial_array(chunk_state(7, n), float(n), p, 300_000)
    assert np.all(x == np.round(x)) and x.min() >= 0 and x.max() <= n
    ks = np.arange(n + 1)
    expected = stats.binom.pmf(ks, n, p) * len(x)
    observed = np.bincount(x.astype(np.int64), minlength=n + 1)
    keep = expected > 5
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    rest = observed[~keep].sum() - expected[~keep].sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4 and abs(rest) < 6 * math.sqrt(expected[~keep].sum() + 1)


@pytest.mark.parametrize("n,p", [(2.0 ** 53, 0.3), (1e20, 0.3), (2.0 ** 62, 1e-3), (1e30, 3.2e-8), (1e30, 4e-30)])
def test_binomial_huge_n_mean_and_variance(n, p):
    x = binomial_array(chunk_state(8, 0), n, p, 200_000)
    mean, var = n * p, n * p * (1 - p)
    assert abs(x.mean() - mean) < Z_MAX * math.sqrt(var / len(x))
    assert abs(x.var() / var - 1) < Z_MAX * math.sqrt(2 / len(x)) * 1.5  # (kurtosis ~ 3)


def test_binomial_edge_cases():
    state = chunk_state(9, 0)
    assert np.all(binomial_array(state, 1e30, 1.0, 10) == 1e30)  # p = 1: exactly N'
    assert np.all(binomial_array(state, 12345.0, 1.0, 10) == 12345.0)
    assert np.all(binomial_array(state, 1e30, 0.0, 10) == 0.0)
    assert np.all(binomial_array(state, 0.0, 0.5, 10) == 0.0)


def test_binomial_logpmf_accurate_for_any_n():
    """Loader's form against mpmath at 60 digits, for the binomial whose mean is the float64 n*p."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 60
    for n, p in [(100, 0.3), (1e9, 0.4), (1e18, 0.3), (1e30, 3e-8), (1e30, 0.5)]:
        ks = np.unique(np.round(n * p + math.sqrt(n * p * (1 - p)) * np.linspace(-6, 6, 7)))
        got = logpmf_array(ks, float(n), p)
        pe = mpmath.mpf(n * p) / mpmath.mpf(n)
        for k, g in zip(ks, got):
            k_, n_ = mpmath.mpf(int(k)), mpmath.mpf(int(n))
            want = (mpmath.loggamma(n_ + 1) - mpmath.loggamma(k_ + 1) - mpmath.loggamma(n_ - k_ + 1)
                    + k_ * mpmath.log(pe) + (n_ - k_) * mpmath.log1p(-pe))
            assert abs(g - float(want)) < 1e-13, (n, p, k)


# ---------------------------------------------------------------------- the drawn markets
def test_top_order_statistics():
    rules = compile_rules([QuantileRule(m=1, r=1.0, reserve=0.0)])
    tops = draw_markets(chunk_state(1, 0), 100_000, rules, 5)[0]
    assert stats.kstest(tops[:, 0], stats.beta(1, 5).cdf).pvalue > 1e-4
    assert stats.kstest(tops[:, 1], stats.beta(2, 4).cdf).pvalue > 1e-4
    assert np.all(tops[:, 0] < tops[:, 1])
    tops = draw_markets(chunk_state(2, 0), 100_000, rules, 1e30)[0]
    assert stats.kstest(tops[:, 0] * 1e30, "expon").pvalue > 1e-4  # n q_(1) -> Exp(1)
    assert stats.kstest(tops[:, 1] * 1e30, stats.gamma(2).cdf).pvalue > 1e-4


@pytest.mark.parametrize("n", [50, 1e30])
def test_pool_count_and_members(n):
    """A pool (0, 0.3]: its count is Bin(n, 0.3) (the first order statistic finds it whenever it is not empty)
    and its first member is uniform on (0, 0.3]; the lottery's cell (0, 1] holds exactly n."""
    rules = compile_rules([QuantileRule(m=1, r=1.0, reserve=0.0, pool_lo=[0.0], pool_hi=[0.3], pool_bid=[0.5],
                                        pool_next=[INF])])
    tops, cnts, mems, _ = draw_markets(chunk_state(3, 0), 100_000, rules, n)
    count = cnts[:, 0]
    if n == 50:
        observed = np.bincount(count.astype(np.int64), minlength=51)
        expected = stats.binom.pmf(np.arange(51), 50, 0.3) * len(count)
        keep = expected > 5
        chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
        assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4
    else:
        sd = math.sqrt(n * 0.21)  # 4.6e14: ~13 float64 steps of 3e29 (ulp 3.6e13)
        dev = count - 0.3 * n  # exact differences of nearby floats
        # the float64 pool edge 0.3 and (0.3 - u)/(1 - u) carry relative errors ~1e-16: a few ulps of the mean
        assert abs(dev.mean()) < Z_MAX * sd / math.sqrt(len(count)) + 4 * np.spacing(0.3 * n)
        assert abs(dev.std() / sd - 1) < 0.02
    member = mems[count > 0, 0, 0]
    assert stats.kstest(member / 0.3, "uniform").pvalue > 1e-4
    lottery = compile_rules([QuantileRule(m=2, r=1.0, reserve=0.0, pool_lo=[0.0], pool_hi=[1.0], pool_bid=[0.0],
                                          pool_next=[INF])])
    tops, cnts, mems, _ = draw_markets(chunk_state(4, 0), 20_000, lottery, n)
    assert np.all(cnts[:, 0] == n)
    assert stats.kstest(mems[:, 0, :].ravel(), "uniform").pvalue > 1e-4  # random members: uniform values


# ---------------------------------------------------------------------- agreement with profile mode
def mechanisms_for(key, n):
    spec, bids, reserve = CASES[key]
    market = Market.iid(spec, n)
    v = lambda q: float(market.dist.v(q))  # noqa: E731
    m = min(n, 3)
    specs = ["spa", "spa:reserve=monopoly", f"spa:reserve={0.5 * (v(0.6) + v(0.8)):.6g}", "myerson", "lottery",
             "mix:0.3*(spa:reserve=monopoly)+0.7*lottery", f"ivickrey:bids={bids},reserve={reserve}",
             f"vcg:m={m}", f"buyer-offer:m={m}", f"myerson:m={m}", f"ivickrey:bids={bids},reserve={reserve},m={m}"]
    mechs = [(s, parse_mechanism(s, market)) for s in specs]
    if key != "bimodal" or n >= 1000:  # the bimodal frontier takes ~10 s per solution at small n
        frontier = Frontier(market)
        mechs += [(kind, solve(frontier, kind).rule) for kind in SOLUTIONS]
    return market, mechs


def assert_modes_agree(market, mechs, seed):
    kw = dict(samples=SAMPLES, exact=False, benchmarks=False, progress=False)
    a = simulate(mechs, market, seed=seed, mode="profile", **kw)
    b = simulate(mechs, market, seed=seed + 1, mode="orderstat", **kw)
    assert a.mode == "profile" and b.mode == "orderstat" and a.samples == b.samples == SAMPLES
    fa, fb = a.frame, b.frame
    se = np.hypot(fa["stderr"], fb["stderr"])
    diff = (fa["estimate"] - fb["estimate"]).abs()
    tol = Z_MAX * se + REL_FLOOR * np.maximum(np.maximum(fa["estimate"].abs(), fb["estimate"].abs()), 1.0)
    bad = fa.assign(orderstat=fb["estimate"], se_orderstat=fb["stderr"], z=diff / se)[diff > tol]
    return bad[["mechanism", "metric", "estimate", "stderr", "orderstat", "se_orderstat", "z"]]


@pytest.mark.parametrize("key", list(CASES))
def test_orderstat_agrees_with_profile(key):
    failures = []
    for n in MARKETS:
        market, mechs = mechanisms_for(key, n)
        bad = assert_modes_agree(market, mechs, seed=100 * list(CASES).index(key) + n)
        if len(bad):
            failures.append(f"{key} n={n}:\n{bad.to_string()}")
    assert not failures, "\n".join(failures)


def test_orderstat_agrees_with_profile_100_units():
    """m = 100 at n = 200 (profile mode's top-101 list is slow at n = 1000) on example42: VCG and Myerson pool
    the atom, buyer-offer is one pool of everybody, the indirect Vickrey auction pools its gaps."""
    spec, bids, reserve = CASES["example42"]
    market = Market.iid(spec, 200)
    specs = ["vcg:m=100", "buyer-offer:m=100", "myerson:m=100", f"ivickrey:bids={bids},reserve={reserve},m=100"]
    mechs = [(s, parse_mechanism(s, market)) for s in specs]
    bad = assert_modes_agree(market, mechs, seed=7000)
    assert not len(bad), bad.to_string()


def test_posted_price_single_buyer():
    market = Market.iid("weibull:shape=0.5", 1)
    res = simulate(["posted:price=1.5", "spa:reserve=0.7"], market, samples=200_000, seed=5, mode="orderstat")
    frame = res.frame
    assert np.all(np.abs(frame["z"].fillna(0.0)) < Z_MAX)


# ---------------------------------------------------------------------- exact values at huge n
EXACT_CASES = [("example42", ["spa", "myerson", "lottery"]),
               ("exponential:rate=1", ["spa", "spa:reserve=monopoly", "spa:reserve=2"]),
               ("lomax:shape=3", ["spa", "spa:reserve=monopoly", "spa:reserve=0.8"])]


@pytest.mark.parametrize("n", [1e6, 1e12, 1e30])
@pytest.mark.parametrize("case", range(len(EXACT_CASES)), ids=[c[0].split(":")[0] for c in EXACT_CASES])
def test_orderstat_against_exact_values(case, n):
    spec, specs = EXACT_CASES[case]
    market = Market.iid(spec, n)  # example42's K and atom follow the market
    res = simulate(specs, market, samples=SAMPLES, seed=int(math.log10(n)) + 100 * case, mode="auto",
                   progress=False)
    assert res.mode == "orderstat"
    frame = res.frame
    assert frame["analytic"].notna().all(), frame
    tol = Z_MAX * frame["stderr"] + REL_FLOOR * np.maximum(frame["analytic"].abs(), 1.0)
    bad = frame[(frame["estimate"] - frame["analytic"]).abs() > tol]
    assert not len(bad), bad[["mechanism", "metric", "estimate", "stderr", "analytic", "z"]].to_string()


# ---------------------------------------------------------------------- engine and command line
def test_mode_selection_and_reproducibility():
    spa = [("spa", QuantileRule(m=1, r=1.0, reserve=0.0))]
    uniform = lambda n: Market.iid("uniform", n)  # noqa: E731
    assert simulate(spa, uniform(AUTO_ORDERSTAT_N), samples=1000, seed=1).mode == "profile"
    assert simulate(spa, uniform(AUTO_ORDERSTAT_N + 1), samples=1000, seed=1).mode == "orderstat"
    assert simulate(spa, uniform(10), samples=1000, seed=1, mode="orderstat").mode == "orderstat"
    big = simulate(spa, uniform(1e30), samples=1000, seed=1)
    assert big.mode == "orderstat" and big.to_dict()["mode"] == "orderstat" and big.to_dict()["n"] == 1e30
    pools = [("lottery", QuantileRule(m=2, r=1.0, reserve=0.0, pool_lo=[0.0], pool_hi=[1.0], pool_bid=[0.0],
                                      pool_next=[INF])),
             ("pools", QuantileRule(1, 0.9, 0.1, [0.2, 0.6], [0.5, 0.8], [0.5, 0.3], [0.8, 0.5]))] + spa
    exponential = Market.iid("exponential", 7)
    a = simulate(pools, exponential, samples=100_000, seed=9, mode="orderstat")
    b = simulate(pools, exponential, samples=100_000, seed=9, mode="orderstat", backend="serial")
    c = simulate(pools, exponential, samples=100_000, seed=10, mode="orderstat")
    assert a.to_json() == b.to_json() and not np.array_equal(a.moments.mean, c.moments.mean)
    with pytest.raises(ValueError, match="orderstat"):
        simulate(spa, uniform(1e12), samples=100, mode="profile")
    p = simulate(spa, uniform(1e9 + 1), samples=10 ** 8, seed=4, precision=0.01)
    assert p.mode == "orderstat" and p.samples < 10 ** 8 and np.all(p.relative_halfwidth() < 0.01)


def test_cli_orderstat_at_1e30(capsys):
    argv = ["simulate", "--dist", "exponential", "--n", "1e30", "--mechanism", "spa", "--mechanism", "lottery",
            "--samples", "200000", "--seed", "3", "--mode", "orderstat", "--format", "json", "--quiet"]
    assert cli.main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n"] == 1e30 and data["mode"] == "orderstat" and data["samples"] == 200000
    spa = next(r for r in data["results"] if r["mechanism"] == "spa" and r["metric"] == "revenue")
    assert abs(spa["estimate"] - spa["analytic"]) < Z_MAX * spa["stderr"]  # E[2nd highest] = H_n - 1
    assert cli.main(argv[:-5] + ["--mode", "auto", "--format", "json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "orderstat"
