"""Monte Carlo engine (issue 4) on hand-built rules: estimates against closed forms and hand computations,
paired differences, streaming moments, seeding and reproducibility, precision target, interruption, warnings.

Expected values are derived here (order statistics, the interim formula Pi = n int x dR, or a brute-force
application of the payment identity of ``docs/architecture.md`` over every value profile), never taken from the
code under test (except the bit-for-bit fingerprints at the end, recorded from an earlier version of the kernels).
Agreement is |z| < 4."""
import hashlib
import itertools
import math

import numpy as np
import pytest
from scipy import integrate, stats

from distributions import Discrete, Market
from distributions.errors import InputError, InputTypeError
from mechanisms import parse_mechanism
from mechanisms.ironing import UnboundedError
from mechanisms.rule import MixtureRule, QuantileRule
from simulator import simulate
from simulator.core import engine
from simulator.core.accumulate import Moments
from simulator.core.engine import ChunkPlan
from simulator.kernels.rng import chunk_state, chunk_states, uniforms

Z_MAX = 4.0


def spa(r=1.0, reserve=0.0, m=1):
    """Second-price / (m+1)-th price auction with abstain threshold r and reserve."""
    return QuantileRule(m=m, r=r, reserve=reserve)


def lottery(m=1):
    """The free lottery: one pool (0, 1] bidding 0."""
    return QuantileRule(m=m, r=1.0, reserve=0.0, pool_lo=[0.0], pool_hi=[1.0], pool_bid=[0.0], pool_next=[math.inf])


def assert_agrees(res, mechanism, metric, expected):
    est, se = res.estimate(mechanism, metric)
    if se == 0:
        assert est == pytest.approx(expected, rel=1e-12, abs=1e-12), (mechanism, metric)
    else:
        z = (est - expected) / se
        assert abs(z) < Z_MAX, f"{mechanism} {metric}: {est} vs {expected} (z = {z:.2f})"


# ---------------------------------------------------------------------- closed forms
@pytest.fixture(scope="module")
def uniform2():
    mechs = [("spa", spa()), ("reserve", spa(r=0.5, reserve=0.5)), ("lottery", lottery()),
             ("mix", MixtureRule([0.3, 0.7], [spa(), spa(r=0.5, reserve=0.5)]))]
    return simulate(mechs, Market.iid("uniform:low=0,high=1", 2), samples=1_000_000, seed=11)


def test_uniform_n2_closed_forms(uniform2):
    res = uniform2
    # second price: E[min of 2] = 1/3, E[max] = 2/3
    for metric, value in (("revenue", 1 / 3), ("welfare", 2 / 3), ("surplus", 1 / 3), ("sold", 1.0)):
        assert_agrees(res, "spa", metric, value)
    # reserve 1/2: revenue 5/12, welfare int_{1/2}^1 x 2x dx = 7/12, P(sale) = 3/4
    for metric, value in (("revenue", 5 / 12), ("welfare", 7 / 12), ("surplus", 1 / 6), ("sold", 0.75)):
        assert_agrees(res, "reserve", metric, value)
    # lottery: a uniformly random buyer wins and pays 0
    for metric, value in (("revenue", 0.0), ("welfare", 0.5), ("surplus", 0.5), ("sold", 1.0)):
        assert_agrees(res, "lottery", metric, value)
    # ex-ante mixture: linear
    assert_agrees(res, "mix", "revenue", 0.3 / 3 + 0.7 * 5 / 12)
    assert_agrees(res, "mix", "welfare", 0.3 * 2 / 3 + 0.7 * 7 / 12)
    assert res.samples == 1_000_000 and not res.partial


def test_paired_differences(uniform2):
    res = uniform2
    d = res.paired("spa", "reserve", "revenue")
    assert abs((d["estimate"] - (1 / 3 - 5 / 12)) / d["stderr"]) < Z_MAX
    # common random numbers: far tighter than independent runs
    (_, se_a), (_, se_b) = res.estimate("spa", "revenue"), res.estimate("reserve", "revenue")
    assert d["stderr"] < 0.75 * math.hypot(se_a, se_b)
    w = res.paired("spa", "reserve", "welfare")  # differ only when max < 1/2: E = int_0^{1/2} 2x^2 = 1/12
    assert abs((w["estimate"] - 1 / 12) / w["stderr"]) < Z_MAX
    table = res.differences()
    assert len(table) == 3 * 6 and set(table.columns) >= {"a", "b", "estimate", "stderr", "ci_low", "ci_high"}


def test_exponential_n5_order_statistics():
    h5 = sum(1 / k for k in range(1, 6))
    res = simulate([("spa", spa())], Market.iid("exponential:rate=1", 5), samples=1_000_000, seed=5)
    assert_agrees(res, "spa", "revenue", h5 - 1)  # E[second highest of 5]
    assert_agrees(res, "spa", "welfare", h5)  # E[highest of 5]
    assert_agrees(res, "spa", "surplus", 1.0)  # top spacing of exponentials: mean 1


def test_units_and_lottery_with_m_units():
    # (m+1)-th price with m = 2, uniform n = 5: Pi = 2 E[X_(3)] = 2 * 3/6, W = E[X_(1) + X_(2)] = 5/6 + 4/6
    mechs = [("vcg2", spa(m=2)), ("lottery3", lottery(m=3))]
    res = simulate(mechs, Market.iid("uniform:low=0,high=1", 5), samples=600_000, seed=7)
    assert_agrees(res, "vcg2", "revenue", 1.0)
    assert_agrees(res, "vcg2", "welfare", 1.5)
    assert_agrees(res, "vcg2", "sold", 2.0)
    assert_agrees(res, "lottery3", "welfare", 1.5)
    assert_agrees(res, "lottery3", "revenue", 0.0)
    # fewer buyers than units: everybody wins and pays the reserve
    res2 = simulate([("vcg3", spa(m=3, r=0.6, reserve=0.4))], Market.iid("uniform:low=0,high=1", 2), samples=300_000,
                    seed=8)
    assert_agrees(res2, "vcg3", "sold", 2 * 0.6)
    assert_agrees(res2, "vcg3", "revenue", 2 * 0.6 * 0.4)
    assert_agrees(res2, "vcg3", "welfare", 2 * integrate.quad(lambda q: 1 - q, 0, 0.6)[0])


# ---------------------------------------------------------------------- pools against the interim formula
def x_hat_prime(q, n, m):
    """Chance that a buyer at quantile q is among the top m of n: Pr[Bin(n-1, q) <= m-1]."""
    return stats.binom.cdf(m - 1, n - 1, q)


def interim_exact(v, n, m, r, pools):
    """Pi = n int_0^r x dR and W = n int_0^r x v dq for the standard ironing rule (reserve v(r), pools bidding
    v(hi) with next v(lo)) of a continuous distribution with value function v; x = X-hat' off the pools and
    its average on each pool."""
    def dR(q, h=1e-7):
        return ((q + h) * v(q + h) - (q - h) * v(q - h)) / (2 * h)

    average = {(lo, hi): integrate.quad(lambda t: x_hat_prime(t, n, m), lo, hi)[0] / (hi - lo)
               for lo, hi in pools}

    def x(q):
        for lo, hi in pools:
            if lo < q <= hi:
                return average[(lo, hi)]
        return x_hat_prime(q, n, m)

    pts = sorted({p for pool in pools for p in pool} | {r})
    pts = [p for p in pts if 0 < p <= r]
    rev = n * integrate.quad(lambda q: x(q) * dR(q), 1e-9, r, points=pts[:-1] or None, limit=200)[0]
    wel = n * integrate.quad(lambda q: x(q) * v(q), 0, r, points=pts[:-1] or None, limit=200)[0]
    return rev, wel


@pytest.mark.parametrize("n,m", [(2, 1), (5, 1), (5, 2)])
def test_pool_rule_against_interim_formula(n, m):
    v = lambda q: 1.0 - q  # noqa: E731  uniform[0, 1]
    pools = [(0.1, 0.3), (0.4, 0.8)]
    r = 0.9
    rule = QuantileRule(m=m, r=r, reserve=v(r), pool_lo=[p[0] for p in pools], pool_hi=[p[1] for p in pools],
                        pool_bid=[v(p[1]) for p in pools], pool_next=[v(p[0]) for p in pools])
    # a second mechanism whose pools cut the first one's: cells shared between mechanisms
    pools2 = [(0.2, 0.6)]
    rule2 = QuantileRule(m=m, r=1.0, reserve=0.0, pool_lo=[0.2], pool_hi=[0.6], pool_bid=[v(0.6)],
                         pool_next=[v(0.2)])
    res = simulate([("pools", rule), ("pools2", rule2)], Market.iid("uniform:low=0,high=1", n), samples=1_000_000,
                   seed=100 + n + m)
    for name, (rr, pp) in (("pools", (r, pools)), ("pools2", (1.0, pools2))):
        rev, wel = interim_exact(v, n, m, rr, pp)
        assert_agrees(res, name, "revenue", rev)
        assert_agrees(res, name, "welfare", wel)
        assert_agrees(res, name, "surplus", wel - rev)


# ---------------------------------------------------------------------- atoms and ties: brute force
def brute_force(values, probs, n, m, reserve):
    """Exact E[revenue], E[welfare], E[units sold] of the indirect Vickrey auction with B = the support of a
    discrete distribution (every atom a pool), by the payment identity of DESIGN.md applied to every value
    profile: payment = x(b) b - int_0^b x(t) dt, x(t) the chance to win (uniform tie-break) bidding
    max(B cap [0, t])."""
    B = sorted(values)
    rev = wel = sold = 0.0
    for profile in itertools.product(range(len(values)), repeat=n):
        p = math.prod(probs[i] for i in profile)
        bids = [values[i] for i in profile]
        for i, b in enumerate(bids):
            others = bids[:i] + bids[i + 1:]

            def x(beta):
                above = sum(o > beta for o in others)
                equal = sum(o == beta for o in others)
                slots = m - above
                return 0.0 if slots <= 0 else (1.0 if equal + 1 <= slots else slots / (equal + 1))

            below = [beta for beta in B if beta < b]
            area = sum(x(beta) * (nxt - beta) for beta, nxt in zip(below, below[1:] + [b]))
            rev += p * (x(b) * b - area)
            wel += p * x(b) * b
            sold += p * x(b)
    assert reserve == min(B)
    return rev, wel, sold


def discrete_rule(dist: Discrete, m):
    """Every atom a pool: bid its value, next the value of the atom above (inf at the top)."""
    hi = dist.cum
    lo = np.concatenate([[0.0], dist.cum[:-1]])
    nxt = np.concatenate([[math.inf], dist.values[:-1]])
    return QuantileRule(m=m, r=1.0, reserve=float(dist.values[-1]), pool_lo=lo, pool_hi=hi,
                        pool_bid=dist.values, pool_next=nxt)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_discrete_ties_against_brute_force(n):
    values, probs = [3.0, 2.0, 1.0], [0.2, 0.3, 0.5]
    dist = Discrete(values, probs)
    mechs = [(f"m{m}", discrete_rule(dist, m)) for m in (1, 2)]
    res = simulate(mechs, Market.iid(dist, n), samples=600_000, seed=40 + n)
    for m in (1, 2):
        rev, wel, sold = brute_force(values, probs, n, m, reserve=1.0)
        assert_agrees(res, f"m{m}", "revenue", rev)
        assert_agrees(res, f"m{m}", "welfare", wel)
        assert_agrees(res, f"m{m}", "sold", sold)


# ---------------------------------------------------------------------- streams, chunks, moments
def test_uniform_stream_open_interval_and_seed_sequence():
    u = uniforms(chunk_state(3, 0), 1_000_000)
    assert 0.0 < u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / len(u))
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    child = np.random.SeedSequence(3).spawn(5)[4].generate_state(4, np.uint64)
    assert np.array_equal(chunk_state(3, 4), child)
    assert np.array_equal(chunk_states(3, 2, 3)[1], chunk_state(3, 3))


def test_chunk_plan_depends_on_samples_and_n_only():
    plan = ChunkPlan(1_000_003, 1000)
    sizes = plan.sizes(0, plan.n_chunks)
    assert sizes.sum() == 1_000_003 and np.all(sizes > 0)
    assert sum(count for _, count in plan.batches()) == plan.n_chunks
    firsts = [first for first, _ in plan.batches()]
    assert firsts == sorted(firsts) and firsts[0] == 0
    assert ChunkPlan(10, 1).n_chunks == 10


def test_moments_merge_matches_numpy():
    gen = np.random.default_rng(0)
    data = gen.normal(size=(1000, 2, 3)) * [1.0, 5.0, 0.1] + 3.0  # auctions x metrics x mechanisms
    mom = Moments.empty(2, 3)
    bounds = [0, 1, 17, 400, 401, 1000]
    counts, means, comoms = [], [], []
    for a, b in zip(bounds[:-1], bounds[1:]):
        chunk = data[a:b]
        mu = chunk.mean(axis=0)
        c = chunk - mu
        counts.append(b - a)
        means.append(mu)
        comoms.append(np.einsum("agk,agl->gkl", c, c))
    mom = mom.merged(counts, means, comoms)
    assert mom.count == 1000
    assert np.allclose(mom.mean, data.mean(axis=0))
    for g in range(2):
        assert np.allclose(mom.covariance[g], np.cov(data[:, g, :], rowvar=False))
    est, se = mom.difference(1, 0, 2)
    assert est == pytest.approx((data[:, 1, 0] - data[:, 1, 2]).mean())
    assert se == pytest.approx((data[:, 1, 0] - data[:, 1, 2]).std(ddof=1) / math.sqrt(1000))


def test_same_seed_same_numbers_any_backend():
    mechs = [("spa", spa()), ("lottery", lottery()), ("pools", QuantileRule(1, 0.9, 0.1, [0.2], [0.5], [0.5],
                                                                           [0.8]))]
    args = (mechs, Market.iid("uniform:low=0,high=1", 7))
    a = simulate(*args, samples=100_000, seed=9)
    b = simulate(*args, samples=100_000, seed=9, backend="serial")
    c = simulate(*args, samples=100_000, seed=10)
    assert a.to_json() == b.to_json()
    assert np.array_equal(a.moments.comoment, b.moments.comoment)
    assert not np.array_equal(a.moments.mean, c.moments.mean)


def test_precision_target_stops_early_and_deterministically():
    kw = dict(samples=10 ** 9, seed=4, precision=0.01)
    a = simulate([("spa", spa())], Market.iid("uniform:low=0,high=1", 10), **kw)
    b = simulate([("spa", spa())], Market.iid("uniform:low=0,high=1", 10), **kw)
    assert a.samples < 10 ** 9 and a.samples == b.samples
    assert np.all(a.relative_halfwidth("revenue") < 0.01)
    assert not any("precision" in w for w in a.warnings)
    short = simulate([("spa", spa())], Market.iid("uniform:low=0,high=1", 10), samples=100, seed=4, precision=1e-4)
    assert any("precision" in w for w in short.warnings)


def test_keyboard_interrupt_returns_partial(monkeypatch):
    calls = []

    def flaky(states, sizes, *rest):
        calls.append(len(sizes))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return engine.BACKENDS["serial"](states, sizes, *rest)

    monkeypatch.setitem(engine.BACKENDS, "flaky", flaky)
    res = simulate([("spa", spa())], Market.iid("uniform:low=0,high=1", 100), samples=10 ** 7, seed=1,
                   backend="flaky")
    assert res.partial and 0 < res.samples < 10 ** 7
    assert res.to_dict()["partial"] is True
    assert any("interrupted" in w for w in res.warnings)


def test_heavy_tail_warnings():
    res = simulate([("spa", spa())], Market.iid("pareto:shape=1.5", 5), samples=1000, seed=1)
    assert any("infinite variance" in w for w in res.warnings)
    assert not any("revenue" in w for w in res.warnings)  # second highest: tail index 3
    res = simulate([("spa", spa())], Market.iid("lomax:shape=0.8", 5), samples=1000, seed=1)
    assert any("infinite mean" in w for w in res.warnings) and any("revenue" in w for w in res.warnings)
    assert simulate([("spa", spa())], Market.iid("lomax:shape=3", 5), samples=1000, seed=1).warnings == []


def test_json_schema_exact():
    res = simulate([("spa", spa())], Market.iid("uniform:low=0,high=1", 3), samples=1000, seed=2)
    out = res.to_dict()
    assert {"distribution", "n", "samples", "seed", "results"} <= set(out)
    assert out["n"] == 3 and isinstance(out["n"], int) and out["samples"] == 1000 and out["seed"] == 2
    assert len(out["results"]) == 4
    for row in out["results"]:
        assert set(row) == {"mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high", "analytic", "z",
                            "ratio", "ci_valid", "ci_note"}
        assert row["metric"] in ("revenue", "surplus", "welfare", "sold") and row["analytic"] is None


@pytest.mark.parametrize("kw,bad", [({"samples": 0}, "samples"), ({"precision": 1.5}, "precision"),
                                    ({"n": 1e12, "mode": "profile"}, "n"), ({"mode": "fast"}, "mode"),
                                    ({"confidence": 1.0}, "confidence"), ({"backend": "gpu"}, "backend"),
                                    ({"seed": -1}, "seed")])
def test_bad_arguments(kw, bad):
    """Each bad argument is an InputError naming it (n: only what the mode adds; the Market checks the rest)."""
    n = kw.pop("n", 2)
    args = {"mechanisms": [("spa", spa())], "market": Market.iid("uniform", n), "samples": 100} | kw
    with pytest.raises(InputError, match=bad) as info:
        simulate(**args)
    assert info.value.argument == bad


@pytest.mark.parametrize("n", [2.5, 0, "3"])
def test_bad_market_size_is_the_markets_error(n):
    with pytest.raises(InputError) as info:
        Market.iid("uniform", n)
    assert info.value.argument == "n"


@pytest.mark.parametrize("seed", [True, 1.0, 2.5, "3"])
def test_seed_must_be_an_int(seed):
    with pytest.raises(InputTypeError, match="seed") as info:
        simulate([("spa", spa())], Market.iid("uniform", 2), samples=100, seed=seed)
    assert info.value.argument == "seed"


@pytest.mark.parametrize("market", ["uniform", Market.iid("uniform", 2).dist, ("uniform", 2), 2])
def test_simulate_takes_a_market_only(market):
    """A bare distribution, spec string or (dist, n) pair is refused with an error naming ``market`` that says
    how to build one -- never read silently with some default n."""
    with pytest.raises(InputTypeError, match="Market.iid") as info:
        simulate([("spa", spa())], market, samples=100, seed=1)
    assert info.value.argument == "market"


def test_old_positional_dist_n_call_is_refused():
    """simulate(mechanisms, dist, n, ...) of before the Market: the arguments after the market are keywords, so
    the old call fails loudly instead of reading n as the number of samples."""
    with pytest.raises(TypeError, match="positional"):
        simulate([("spa", spa())], "uniform", 2, samples=100)


def test_analytic_values_are_the_mechanisms_exact_values():
    """The engine reports ``Mechanism.exact(market)`` itself (each mechanism its own units) and the benchmarks of
    ``mechanisms.benchmarks`` for each number of units: the same numbers, not a recomputation. Bare rules have
    no exact values."""
    from mechanisms import benchmarks

    market = Market.iid("exponential:rate=1", 4)
    mechs = [parse_mechanism(s) for s in ("spa", "spa:reserve=monopoly", "myerson", "vcg:m=2", "lottery")]
    res = simulate(mechs + [("rule", spa())], market, samples=1000, seed=3, progress=False)
    assert res.units == [1, 1, 1, 2, 1, 1] and res.n == 4 and res.distribution == market.label
    for mech in mechs:
        ex = mech.exact(market)
        assert res.analytic[mech.name] == {metric: getattr(ex, metric) for metric in
                                           ("revenue", "surplus", "welfare", "sold")}
    assert res.analytic["rule"] == {}
    for m in (1, 2):
        assert res.benchmarks[m] == benchmarks.all_benchmarks(market.with_units(m))
    # a closed form, as a check that these are the right objects: E[2nd highest of 4 exponentials] = H_4 - 1
    assert res.analytic["spa"]["revenue"] == pytest.approx(1 / 2 + 1 / 3 + 1 / 4, rel=1e-9)
    assert res.benchmarks[1]["opt"] == pytest.approx(1 + 1 / 2 + 1 / 3 + 1 / 4, rel=1e-9)


@pytest.mark.parametrize("error,skipped", [(NotImplementedError("no closed form"), True),
                                           (UnboundedError("dist", "the optimum is unbounded"), True),
                                           (InputError("market", "needs i.i.d. buyers"), True),
                                           (ZeroDivisionError("a bug"), False), (KeyError("a bug"), False)])
def test_unavailable_exact_values_are_skipped_and_bugs_propagate(monkeypatch, error, skipped):
    """An exact value that is genuinely unavailable (no closed form, an unbounded optimum, a market the mechanism
    does not apply to) is left out -- with a warning unless there is simply no closed form; any other exception
    is a bug and is raised, not turned into a warning."""
    mech = parse_mechanism("spa")

    def exact(market):
        raise error

    monkeypatch.setattr(mech, "exact", exact)
    run = lambda: simulate([mech, "lottery"], Market.iid("uniform", 2), samples=100, seed=1)  # noqa: E731
    if not skipped:
        with pytest.raises(type(error)):
            run()
        return
    res = run()
    assert res.analytic["spa"] == {} and res.analytic["lottery"]["welfare"] == pytest.approx(0.5)
    warned = [w for w in res.warnings if "exact values of spa unavailable" in w]
    assert len(warned) == (0 if isinstance(error, NotImplementedError) else 1)


# ---------------------------------------------------------------------- bit for bit: the kernels' numbers
#: (distribution, rules) of the recorded runs: lottery, the Myerson rule (uniform: a reserve; discrete: ironed
#: pools), a reserve, indirect Vickrey auctions (pools), vcg with m = 3, an ex-ante mixture
_GOLDEN_POOLS = dict(pool_lo=[0.0, 0.2, 0.5], pool_hi=[0.2, 0.5, 1.0], pool_bid=[3.0, 2.0, 1.0])
GOLDEN_RULES = {
    "uniform": [lottery(), spa(r=0.5000000000000004, reserve=0.49999999999999956), spa(r=0.5, reserve=0.5),
                QuantileRule(1, 0.9, 0.1, [0.4, 0.5], [0.5, 0.7], [0.5, 0.3], [0.6, 0.5]), spa(m=3),
                MixtureRule([0.3, 0.7], [spa(r=0.5, reserve=0.5), lottery()])],
    "discrete:values=1/2/3,probs=0.5/0.3/0.2": [
        lottery(), QuantileRule(1, 1.0, 1.0, pool_next=[math.inf, 3.0, 2.0], **_GOLDEN_POOLS),
        QuantileRule(1, 1.0, 0.5, pool_next=[3.0, 2.0, 1.0], **_GOLDEN_POOLS),
        QuantileRule(3, 1.0, 0.0, pool_next=[3.0, 2.0, 1.0], **_GOLDEN_POOLS)],
    "exponential:rate=1": [lottery(), spa(r=0.36787944832421476, reserve=0.9999999805567489),
                           QuantileRule(1, 0.9048374180359595, 0.1, [0.5488116360940264, 0.6065306597126334],
                                        [0.6065306597126334, 0.7408182206817179], [0.5, 0.3], [0.6, 0.5]),
                           spa(m=3)],
}
#: sha-256 (first 16 hex digits) of the chunk kernels' (means, co-moments), recorded from the kernels that took
#: the rules as a positional tuple (before ``CompiledRules`` became a named tuple), on x86-64 Linux
GOLDEN = {
    ("uniform", "profile", 50): ("8833a0a778bf8651", "69615c51196056c8"),
    ("uniform", "orderstat", 1e6): ("8b7dcf96e4be771b", "2eb58d6b74cb9892"),
    ("uniform", "orderstat", 1e30): ("1bc204f845925ebe", "1dfdacfb63b0b870"),
    ("discrete:values=1/2/3,probs=0.5/0.3/0.2", "profile", 50): ("348e5ad6b1d15ca9", "72b05dcf8f527616"),
    ("discrete:values=1/2/3,probs=0.5/0.3/0.2", "orderstat", 1e6): ("d73dbc5520b08715", "f1ed3debc0adc8ca"),
    ("discrete:values=1/2/3,probs=0.5/0.3/0.2", "orderstat", 1e30): ("f027f6c57623a7f6", "19ff939b9400257f"),
    ("exponential:rate=1", "profile", 50): ("7c39fed2ee35cd76", "8cde11f3636784f2"),
    ("exponential:rate=1", "orderstat", 1e6): ("6b898b5f95b80b57", "c21be85ad44d35ff"),
    ("exponential:rate=1", "orderstat", 1e30): ("eb3e6d15bc98d034", "e870cf096c78a33d"),
}


def _fingerprint(*arrays) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize("spec, mode, n", list(GOLDEN))
def test_kernels_bit_identical_to_recorded(spec, mode, n):
    """Same seed, same numbers, bit for bit, as the recorded ones: one chunk (``*_chunk``) and a batch of three
    chunks in parallel (``*_batch``) of profile (n = 50) and order-statistic (n = 1e6, 1e30) mode. A change of
    the kernels' interface must not change a bit; a change of the numbers (a new algorithm) re-records them."""
    from distributions import parse_spec
    from simulator.kernels.compiled import compile_rules
    from simulator.kernels.orderstat import orderstat_batch, orderstat_chunk
    from simulator.kernels.profile import profile_batch, profile_chunk

    chunk, batch = (profile_chunk, profile_batch) if mode == "profile" else (orderstat_chunk, orderstat_batch)
    rules = compile_rules(GOLDEN_RULES[spec])
    kind, params = parse_spec(spec).numba_spec()
    one = _fingerprint(*chunk(chunk_state(7, 3), 500, rules, kind, params, n))
    three = _fingerprint(*batch(chunk_states(11, 0, 3), np.array([200, 130, 77]), rules, kind, params, n))
    assert (one, three) == GOLDEN[spec, mode, n]
