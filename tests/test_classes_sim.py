"""Simulation of markets of several buyer classes (issue 14; ``simulator/kernels/classes.py``).

Expected values are computed here, independently of the code under test: closed forms of the textbook's
two-buyer instance (U[0,1] and U[0,2]; ``004_...`` §5.1-5.2: virtual values psi_1 = 2v - 1, psi_2 = 2v - 2,
Myerson's revenue E[max(psi_1, psi_2, 0)]), products of the classes' distribution functions integrated by scipy
(E[second highest] = int 1 - P(max <= t) - P(exactly one above t) dt), the i.i.d. market's exact values for
a market split into two classes of the same distribution, and the one-class engine path itself (bit for bit).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import integrate

from distributions import Market
from mechanisms import Lottery, Myerson, SecondPrice
from simulator.core.accumulate import Moments
from simulator.core.engine import ORDERSTAT_COST, ChunkPlan, resolve_mechanisms, simulate
from simulator.kernels import rng
from simulator.kernels.compiled import compile_rules
from simulator.kernels.orderstat import orderstat_batch
from simulator.kernels.profile import METRICS, profile_batch


# ---------------------------------------------------------------------- score auctions built here
@dataclass(frozen=True)
class Score:
    """Second-price for one class with its own reserve: score = value, threshold(t) = max(t, reserve)."""

    r: float
    score: object
    threshold_value: object
    reserve: float
    pools: tuple = ()


@dataclass(frozen=True)
class Rule:
    m: int
    classes: tuple


def second_price(market: Market, reserves) -> Rule:
    """The m-unit VCG auction with class-specific reserves for continuous classes (no atoms: no pools)."""
    return Rule(market.m, tuple(Score(float(c.dist.sf(rho)), c.dist.v, lambda t, rho=rho: np.maximum(t, rho), rho)
                                for c, rho in zip(market.classes, reserves)))


def two_uniforms(n1=1, n2=1, m=1) -> Market:
    return Market.of(("uniform:high=1", n1), ("uniform:high=2", n2), m=m)


def z(res, name, metric, exact):
    est, err = res.estimate(name, metric)
    return (est - exact) / err if err > 0 else (0.0 if abs(est - exact) < 1e-12 else math.inf)


def z_between(a, b, name, metric):
    (x, ex), (y, ey) = a.estimate(name, metric), b.estimate(name, metric)
    scale = math.hypot(ex, ey)
    return (x - y) / scale if scale > 0 else (0.0 if abs(x - y) <= 1e-12 * max(1.0, abs(x)) else math.inf)


# ---------------------------------------------------------------------- one class: the engine as before
def _old_engine(mechs, market, samples, seed, mode):
    """The i.i.d. engine's loop, written out: chunk states, the kernels, the chunk-order merge."""
    entries = resolve_mechanisms(mechs, market)
    rules = compile_rules([e.rule for e in entries])
    kind, params = market.dist.numba_spec()
    n = int(market.n) if mode == "profile" else float(market.n)
    plan = ChunkPlan(samples, n if mode == "profile" else ORDERSTAT_COST)
    batch = profile_batch if mode == "profile" else orderstat_batch
    moments = Moments.empty(len(METRICS), len(entries))
    for first, count in plan.batches():
        sizes = plan.sizes(first, count)
        means, comoments = batch(rng.chunk_states(seed, first, count), sizes, rules, kind, params, n)
        moments = moments.merged(sizes, means, comoments)
    return moments


@pytest.mark.parametrize("market,mode", [(Market.iid("example42", 6), "profile"),
                                         (Market.iid("exponential", 1e30, m=2), "orderstat")])
def test_one_class_is_the_iid_engine_bit_for_bit(market, mode):
    mechs = ["vcg:m=2", "myerson:m=2", "buyer-offer:m=2"] if market.m == 2 else ["spa", "myerson", "lottery"]
    res = simulate(mechs, market, samples=20_000, seed=11, mode=mode)
    old = _old_engine(mechs, market, 20_000, 11, mode)
    assert np.array_equal(res.moments.mean, old.mean) and np.array_equal(res.moments.comoment, old.comoment)
    assert res.metrics == METRICS and "classes" not in res.to_dict()
    assert list(res.frame.metric.unique()) == list(METRICS)


# ---------------------------------------------------------------------- closed forms
def test_two_uniforms_second_price_closed_forms():
    """U[0,1] vs U[0,2], one buyer each. No reserve: revenue E[min] = 5/12, welfare E[max] = 13/12, class 1
    wins w.p. 1/4 with surplus E[(v1 - v2)+] = 1/12. Own reserves 1/2 and 1 (by Myerson's lemma): class 1 wins
    iff v1 >= 1/2 and v2 < 1 (1/4), class 2 iff v2 >= 1 (1/2); revenue E[psi_1; win 1] + E[psi_2; win 2] =
    1/8 + 1/2, welfare 3/16 + 3/4."""
    market = two_uniforms()
    res = simulate([("spa", second_price(market, (0.0, 0.0))), ("own", second_price(market, (0.5, 1.0)))], market,
                   samples=500_000, seed=5, mode="orderstat", benchmarks=False)
    expected = {("spa", "revenue"): 5 / 12, ("spa", "welfare"): 13 / 12, ("spa", "win[1]"): 1 / 4,
                ("spa", "win[2]"): 3 / 4, ("spa", "surplus[1]"): 1 / 12, ("spa", "surplus[2]"): 7 / 12,
                ("own", "revenue"): 5 / 8, ("own", "welfare"): 15 / 16, ("own", "win[1]"): 1 / 4,
                ("own", "win[2]"): 1 / 2, ("own", "sold"): 3 / 4, ("own", "surplus"): 5 / 16}
    for (name, metric), value in expected.items():
        assert abs(z(res, name, metric, value)) < 4, (name, metric, res.estimate(name, metric), value)


def test_two_uniforms_myerson_closed_forms():
    """Myerson on U[0,1] vs U[0,2] (textbook Prop. 5.3): the highest psi_k >= 0 wins, psi_1 ~ U[-1,1],
    psi_2 ~ U[-2,2]. Revenue int_0^2 1 - G_1 G_2 = 31/48; class 1 wins w.p. int_0^1 (t+2)/8 = 5/16, class 2 w.p.
    7/16; welfare 23/96 + 65/96; class 1 pays E[psi_1; win 1] = 1/6, so surplus[1] = 7/96, surplus[2] = 19/96."""
    from mechanisms.classes.rules import lagrangian_rule

    market = two_uniforms()
    res = simulate([("myerson", lagrangian_rule(market, 0.0))], market, samples=400_000, seed=6, mode="profile",
                   benchmarks=False, exact=False)
    expected = {"revenue": 31 / 48, "win[1]": 5 / 16, "win[2]": 7 / 16, "welfare": 88 / 96, "surplus[1]": 7 / 96,
                "surplus[2]": 19 / 96, "sold": 3 / 4}
    for metric, value in expected.items():
        assert abs(z(res, "myerson", metric, value)) < 4, (metric, res.estimate("myerson", metric), value)


def _spa_exact(market: Market):
    """Second-price without reserve by products of distribution functions (counts n_k in the exponents):
    revenue = int 1 - P(max <= t) - P(exactly one above t) dt, welfare = int 1 - P(max <= t) dt, and class k
    wins w.p. int n_k f_k F_k^(n_k - 1) prod_{j != k} F_j^(n_j) dt, in logs (n_k up to 1e6 and beyond)."""
    dists = [c.dist for c in market.classes]
    counts = [float(c.count) for c in market.classes]
    top = max(d.v(1e-300) if math.isfinite(d.v(1e-300)) else 50.0 for d in dists)

    def logs(t):
        return [math.log(max(d.cdf(t), 1e-300)) for d in dists]

    def all_below(t):
        return math.exp(sum(n * lg for n, lg in zip(counts, logs(t))))

    def one_above(t):
        lg = logs(t)
        total = sum(n * g for n, g in zip(counts, lg))
        return sum(n * d.sf(t) * math.exp(total - g) for n, d, g in zip(counts, dists, lg) if d.sf(t) > 0)

    def win(k, t):
        lg = logs(t)
        total = sum(n * g for n, g in zip(counts, lg))
        return counts[k] * dists[k].pdf(t) * math.exp(total - lg[k])

    points = sorted({1 - 1e-3, 1 - 1e-5, 1 - 1e-6, 1 - 1e-7, 1.0, 1.5})
    quad = lambda f: integrate.quad(f, 0, top, points=[p for p in points if p < top], limit=500,  # noqa: E731
                                    epsabs=1e-12, epsrel=1e-11)[0]
    revenue = quad(lambda t: 1 - all_below(t) - one_above(t))
    welfare = quad(lambda t: 1 - all_below(t))
    return revenue, welfare, [quad(lambda t, k=k: win(k, t)) for k in range(len(dists))]


def _myerson_revenue(market: Market) -> float:
    """Myerson on uniform classes U[0, h_k]: psi_k = 2v - h_k ~ U[-h_k, h_k], G_k(t) = (t + h_k) / (2 h_k);
    revenue = int_0^inf 1 - prod_k G_k(t)^(n_k) dt (the issue's product formula), in logs."""
    highs = [c.dist.v(1e-300) for c in market.classes]
    counts = [float(c.count) for c in market.classes]

    def f(t):
        return -math.expm1(sum(n * math.log(min(1.0, (t + h) / (2 * h))) for n, h in zip(counts, highs)))

    return integrate.quad(f, 0, max(highs), points=[1 - 1e-4, 1 - 1e-6, 1.0], limit=500, epsabs=1e-12)[0]


def test_million_weak_and_three_strong_orderstat_against_exact():
    """1e6 weak buyers U[0,1] and 3 strong U[0,2], order-statistic mode: second-price revenue, welfare and the
    classes' win probabilities against the product formulas; Myerson's revenue against int 1 - prod G_k^(n_k)."""
    from mechanisms.classes.rules import lagrangian_rule

    market = Market.of(("uniform:high=1", 1e6), ("uniform:high=2", 3))
    res = simulate([("spa", second_price(market, (0.0, 0.0))), ("myerson", lagrangian_rule(market, 0.0))], market,
                   samples=500_000, seed=8, mode="orderstat", benchmarks=False, exact=False)
    revenue, welfare, wins = _spa_exact(market)
    assert abs(revenue - 1.0) < 0.5 and abs(wins[0] - 0.125) < 0.01  # the instance is what we think it is
    for metric, value in [("revenue", revenue), ("welfare", welfare), ("win[1]", wins[0]), ("win[2]", wins[1])]:
        assert abs(z(res, "spa", metric, value)) < 4, (metric, res.estimate("spa", metric), value)
    assert abs(z(res, "myerson", "revenue", _myerson_revenue(market))) < 4


def test_dispatched_mechanisms_against_their_exact_values():
    """Spec strings on a two-class market (``mechanisms.classes``' dispatch): ex-ante mixtures (KS, a mix), the
    best discriminatory and common reserves, a posted price; every row with an exact value (``Mechanism.exact``,
    per class too) within |z| < 4 of it, and the posted price's closed forms: class 2 buys at 1.2 w.p. 0.4."""
    market = two_uniforms()
    specs = ["ks", "mix:0.3*spa+0.7*myerson", "spa:reserves=best", "spa:reserve=best", "posted:price=1.2"]
    res = simulate(specs, market, samples=100_000, seed=2, mode="orderstat", benchmarks=False)
    frame = res.frame
    checked = frame[frame.analytic.notna() & frame.z.notna()]
    assert len(checked) == 5 * 8  # every mechanism, every metric (per class too) has its exact value and a z
    assert (checked.z.abs() < 4).all(), checked[checked.z.abs() >= 4]
    assert abs(z(res, "posted:price=1.2", "revenue", 0.48)) < 4 and res.estimate("posted:price=1.2", "win[1]")[0] == 0


# ---------------------------------------------------------------------- a market split into two equal classes
SPLIT_DISTS = (("uniform", 0.5), ("discrete:values=1/2/3,probs=.2/.3/.5", 1.5),
               ("mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)", 1.5))


@pytest.mark.parametrize("spec,reserve", SPLIT_DISTS)
def test_split_market_gives_the_iid_values(spec, reserve):
    """Two classes with the same distribution (2 + 3 buyers; atoms and a gap that needs ironing) against the
    i.i.d. market of 5 buyers: the exact values of the i.i.d. mechanisms; class k holds n_k / n of the units
    sold and of the surplus (symmetry)."""
    from mechanisms.classes.rules import lagrangian_rule, lottery_rule, second_price_rule

    split, iid = Market.of((spec, 2), (spec, 3)), Market.iid(spec, 5)
    rules = [("spa", second_price_rule(split, (0.0, 0.0)), SecondPrice()),
             ("spa-r", second_price_rule(split, (reserve, reserve)), SecondPrice(reserve)),
             ("myerson", lagrangian_rule(split, 0.0), Myerson()), ("lottery", lottery_rule(split), Lottery())]
    samples = 60_000 if spec.startswith("mixture") else 300_000  # a mixture's v(q) is slow (Python)
    res = simulate([(name, rule) for name, rule, _ in rules], split, samples=samples, seed=9, mode="orderstat",
                   benchmarks=False)
    for name, _, mech in rules:
        ex = mech.exact(iid)
        for metric in ("revenue", "surplus", "welfare", "sold"):
            assert abs(z(res, name, metric, getattr(ex, metric))) < 4, (spec, name, metric)
        for k, share in ((1, 2 / 5), (2, 3 / 5)):
            assert abs(z(res, name, f"win[{k}]", share * ex.sold)) < 4, (spec, name, k)
            assert abs(z(res, name, f"surplus[{k}]", share * ex.surplus)) < 4, (spec, name, k)


# ---------------------------------------------------------------------- the two draws agree
def _all_rules(market):
    from mechanisms.classes.rules import lagrangian_rule, lottery_rule, posted_price_rule, second_price_rule

    return [("spa", second_price_rule(market, (0.0, 0.0))), ("spa-own", second_price_rule(market, (0.8, 1.2))),
            ("myerson", lagrangian_rule(market, 0.0)), ("lagrangian", lagrangian_rule(market, 0.5)),
            ("surplus-opt", lagrangian_rule(market, math.inf)), ("lottery", lottery_rule(market)),
            ("posted", posted_price_rule(market, 0.9))]


@pytest.mark.parametrize("specs,m", [(("3*discrete:values=0.5/1/2,probs=.3/.4/.3", "4*uniform:high=2"), 1),
                                     (("5*discrete:values=1/2/10,probs=.5/.3/.2", "3*exponential"), 2)])
def test_profile_and_orderstat_agree(specs, m):
    """Every mechanism, every metric, on the same market drawn both ways (independent seeds): |z| < 4."""
    market = Market.from_specs(list(specs), m=m)
    rules = _all_rules(market)
    samples = 1_000_000 if m == 1 else 200_000
    a = simulate(rules, market, samples=samples, seed=1, mode="profile", exact=False, benchmarks=False)
    b = simulate(rules, market, samples=samples, seed=2, mode="orderstat", exact=False, benchmarks=False)
    assert a.metrics == b.metrics and len(a.metrics) == 8
    for name, _ in rules:
        for metric in a.metrics:
            assert abs(z_between(a, b, name, metric)) < 4, (name, metric, a.estimate(name, metric),
                                                             b.estimate(name, metric))


# ---------------------------------------------------------------------- reproducibility and output
def test_same_seed_same_numbers_and_output_rows():
    market = two_uniforms(2, 1e30)
    rules = [("spa", second_price(market, (0.0, 0.0)))]
    a = simulate(rules, market, samples=5_000, seed=4, benchmarks=False)
    b = simulate(rules, market, samples=5_000, seed=4, benchmarks=False)
    assert a.mode == "orderstat" and np.array_equal(a.moments.mean, b.moments.mean)
    out = a.to_dict()
    assert out["classes"] == [{"class": 1, "count": 2, "distribution": "uniform:low=0,high=1"},
                              {"class": 2, "count": 1e30, "distribution": "uniform:low=0,high=2"}]
    assert [r["metric"] for r in out["results"]] == ["revenue", "surplus", "welfare", "sold", "surplus[1]",
                                                     "surplus[2]", "win[1]", "win[2]"]
    assert a.estimate("spa", "win[1]")[0] == 0.0  # 1e30 buyers of U[0,2] always beat two of U[0,1]
    with pytest.raises(ValueError, match="profile mode"):
        simulate(rules, market, samples=10, mode="profile")


def test_an_inconsistent_threshold_is_an_error_not_nan():
    """A winner's payment threshold(t) must be finite (her own value scores above t): a description whose
    threshold is infinite there stops the run with the class named, instead of a NaN estimate."""
    market = two_uniforms()
    good = second_price(market, (0.0, 0.0))
    broken = Rule(1, (good.classes[0], Score(1.0, market.classes[1].dist.v, lambda t: np.full(np.shape(t), np.inf),
                                             0.0)))
    with pytest.raises(FloatingPointError, match="class 2's threshold_value"):
        simulate([("broken", broken)], market, samples=1000, seed=0, benchmarks=False)
