"""Exact values of the mechanisms against closed forms, the paper's lemmas and brute-force enumerations.

Every expected value here comes from a closed form, a theorem, or an independent computation in this file
(value-space quadrature, enumeration of discrete profiles with the payment rule of ``docs/architecture.md``,
"Ex-post rules"), never from ``mechanisms`` itself. The LP comparisons live in ``test_mechanisms_lp.py``.
"""
from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from scipy import integrate, stats

from distributions import InputError, Market, parse_spec
from mechanisms import (ExAnteMixture, IndirectVickrey, Lottery, Myerson, PostedPrice, SecondPrice, SurplusOptimal,
                        benchmarks, exact_from_rule, parse_mechanism, two_posted_prices)
from mechanisms.border import X_hat, X_hat_prime

EULER = 0.5772156649015329


def H(k):
    return math.fsum(1.0 / i for i in range(1, int(k) + 1))


def H_big(n):
    """Harmonic number, asymptotic expansion for large n (error < 1e-20 beyond 1e4)."""
    return H(n) if n < 1e4 else math.log(n) + EULER + 1 / (2 * n) - 1 / (12 * n * n)


def top_m_sum(dist, n, m):
    """OPT = sum of the top m of n values, by quadrature over each order statistic's quantile density
    (the i-th smallest of n uniform quantiles is Beta(i, n+1-i); the paper's g_{i,n} with the roles of q and
    1 - q swapped)."""
    total = 0.0
    for i in range(1, m + 1):
        f = lambda q: float(dist.v(q)) * stats.beta.pdf(q, i, n + 1 - i)  # noqa: E731
        pts = [p for p in dist.jumps_q()] + [p for a, b, _ in dist.atoms_q() for p in (a, b)]
        pts = sorted(p for p in set(pts) if 0 < p < 1)
        total += integrate.quad(f, 0, 1, points=pts or None, limit=400, epsabs=0, epsrel=1e-12)[0]
    return total


# ---------------------------------------------------------------------- closed forms
def test_uniform_two_buyers():
    d = parse_spec("uniform:low=0,high=1")
    spa = SecondPrice().exact(Market.iid(d, 2))
    assert spa.revenue == pytest.approx(1 / 3, rel=1e-13)
    assert spa.welfare == pytest.approx(2 / 3, rel=1e-13)
    assert spa.surplus == pytest.approx(1 / 3, rel=1e-13)
    mye = Myerson().exact(Market.iid(d, 2))
    assert mye.revenue == pytest.approx(5 / 12, rel=1e-12)  # reserve 1/2: E[max(second, 1/2); top >= 1/2]
    assert mye.sold == pytest.approx(3 / 4, rel=1e-12)
    assert mye.surplus == pytest.approx(1 / 6, rel=1e-9)
    assert benchmarks.revenue_max(Market.iid(d, 2)) == pytest.approx(5 / 12, rel=1e-12)
    assert benchmarks.opt(Market.iid(d, 2)) == pytest.approx(2 / 3, rel=1e-13)
    assert benchmarks.surplus_max(Market.iid(d, 2)) == pytest.approx(1 / 2, rel=1e-12)  # MHR: the lottery, E[v]
    assert spa.per_buyer_utility == pytest.approx(1 / 6, rel=1e-13)


def test_exponential_five_buyers():
    d = parse_spec("exponential:rate=1")
    spa = SecondPrice().exact(Market.iid(d, 5))
    assert spa.revenue == pytest.approx(H(5) - 1, rel=1e-13)
    assert benchmarks.opt(Market.iid(d, 5)) == pytest.approx(H(5), rel=1e-13)
    assert spa.surplus == pytest.approx(1.0, rel=1e-13)  # E[v_(1)] - E[v_(2)] = 1


@pytest.mark.parametrize("n", [1e6, 123457, 1e15, 1e30])
def test_exponential_huge_markets(n):
    """E[max of n Exp(1)] = H_n: exact at n up to 1e30 (no (1-q)^n formed naively)."""
    d = parse_spec("exponential:rate=1")
    spa = SecondPrice().exact(Market.iid(d, n))
    assert spa.welfare == pytest.approx(H_big(n), rel=1e-13)
    assert spa.revenue == pytest.approx(H_big(n) - 1, rel=1e-13)
    for m in (2, 3, 10):
        vcg = SecondPrice(0, m).exact(Market.iid(d, n))
        # sum_{i<=m} E[X_(i:n)] = m (1 + H_n - H_m); the (m+1)-th price m E[X_(m+1:n)] = m (H_n - H_m)
        assert vcg.welfare == pytest.approx(m * (1 + H_big(n) - H(m)), rel=1e-12)
        assert vcg.revenue == pytest.approx(m * (H_big(n) - H(m)), rel=1e-12)
        assert vcg.sold == pytest.approx(m, rel=1e-12)


def test_uniform_vcg_order_statistics():
    """Uniform[0,1]: E[X_(i:n)] = (n+1-i)/(n+1); VCG revenue m E[X_(m+1:n)]."""
    d = parse_spec("uniform:low=0,high=1")
    for n, m in [(3, 2), (10, 3), (50, 7)]:
        vcg = SecondPrice(0, m).exact(Market.iid(d, n))
        assert vcg.welfare == pytest.approx(sum((n + 1 - i) / (n + 1) for i in range(1, m + 1)), rel=1e-12)
        assert vcg.revenue == pytest.approx(m * (n - m) / (n + 1), rel=1e-12)


def test_second_price_reserve_closed_form():
    """Uniform[0,1], n = 2, reserve p: revenue 1/3 + p^2 - 4p^3/3 (Myerson's formula; p = 1/2 gives 5/12)."""
    d = parse_spec("uniform:low=0,high=1")
    for p in (0.0, 0.2, 0.5, 0.9):
        ex = SecondPrice(p).exact(Market.iid(d, 2))
        assert ex.revenue == pytest.approx(1 / 3 + p ** 2 - 4 * p ** 3 / 3, rel=1e-12, abs=1e-15)
        assert ex.sold == pytest.approx(1 - p ** 2, rel=1e-12)
        assert ex.welfare == pytest.approx(2 / 3 * (1 - p ** 3), rel=1e-12)


def test_lottery_is_free_even_above_zero():
    d = parse_spec("uniform:low=1,high=2")
    for n in (1, 3, 1000, 1e30):
        ex = Lottery().exact(Market.iid(d, n))
        assert ex.revenue == 0.0
        assert ex.surplus == pytest.approx(1.5, rel=1e-13)
        assert ex.welfare == pytest.approx(1.5, rel=1e-13)
    bom = Lottery(3).exact(Market.iid(d, 5))  # buyer-offer: 3 random buyers, free
    assert (bom.revenue, bom.surplus, bom.sold) == (0.0, pytest.approx(4.5, rel=1e-13), pytest.approx(3.0))


def test_posted_prices_single_buyer():
    """n = 1, uniform[0,1]: price p sells w.p. 1-p, revenue p(1-p), surplus (1-p)^2/2 (Section 3.1)."""
    d = parse_spec("uniform:low=0,high=1")
    for p in (0.0, 0.3, 0.7):
        ex = PostedPrice(p).exact(Market.iid(d, 1))
        assert ex.revenue == pytest.approx(p * (1 - p), abs=1e-15)
        assert ex.surplus == pytest.approx((1 - p) ** 2 / 2, rel=1e-12)
    mix = two_posted_prices(0.3, 0.7, 0.25).exact(Market.iid(d, 1))  # Proposition 3.1: an ex-ante randomisation
    assert mix.revenue == pytest.approx(0.25 * 0.21 + 0.75 * 0.21)
    assert mix.surplus == pytest.approx(0.25 * 0.245 + 0.75 * 0.045)
    assert Myerson().exact(Market.iid(d, 1)).revenue == pytest.approx(0.25, rel=1e-12)  # the monopoly price 1/2


def test_ex_ante_mixture_is_linear():
    d = parse_spec("exponential:rate=1")
    mix = parse_mechanism("mix:0.3*spa+0.7*lottery").exact(Market.iid(d, 4))
    assert mix.revenue == pytest.approx(0.3 * (H(4) - 1), rel=1e-12)
    assert mix.surplus == pytest.approx(0.3 * 1 + 0.7 * 1, rel=1e-12)
    nested = parse_mechanism("mix:0.5*(spa:reserve=1)+0.5*(mix:0.5*spa+0.5*lottery)")
    assert nested.exact(Market.iid(d, 4)).revenue == pytest.approx(
        0.5 * SecondPrice(1.0).exact(Market.iid(d, 4)).revenue + 0.25 * (H(4) - 1), rel=1e-12)
    rule = nested.rule(Market.iid(d, 4))
    assert np.isclose(rule.probs.sum(), 1.0) and len(rule.rules) == 3
    # spa without its own m sells the market's 2 units, as buyer-offer:m=2 does: VCG revenue 2 (H_4 - H_2)
    two = parse_mechanism("mix:0.5*spa+0.5*buyer-offer:m=2").exact(Market.iid(d, 4, 2))
    assert two.revenue == pytest.approx(0.5 * 2 * (H(4) - H(2)), rel=1e-12)
    assert two.surplus == pytest.approx(0.5 * 2 + 0.5 * 2, rel=1e-12) and two.sold == pytest.approx(2.0)


def test_accounting_identity():
    d = parse_spec("weibull:shape=0.5")
    for mech in (SecondPrice(), SecondPrice("monopoly"), Myerson(), Lottery(), SurplusOptimal(),
                 parse_mechanism("ivickrey:bids=0-1/2/3-inf,reserve=0.5"), parse_mechanism("vcg:m=2,reserve=1")):
        ex = mech.exact(Market.iid(d, 5))
        assert ex.revenue + ex.surplus == pytest.approx(ex.welfare, rel=1e-12)
        assert ex.revenue >= -1e-12 and ex.surplus >= -1e-12
        assert ex.as_dict()["per_buyer_utility"] == pytest.approx(ex.surplus / 5)


# ---------------------------------------------------------------------- the paper's lemmas
REGULAR = ["uniform:low=0,high=1", "exponential:rate=1", "lomax:shape=3", "pareto:shape=2", "beta:a=2,b=5",
           "truncnorm:mean=1,sd=1,low=0,high=3", "equal-revenue:high=50"]


@pytest.mark.parametrize("spec", REGULAR)
def test_bulow_klemperer(spec):
    """Lemma C.1: Π(SPA) >= (n-1)/n Π* for regular F; also the classic form Π_{n+1}(SPA) >= Π*_n."""
    d = parse_spec(spec)
    assert d.shape_class().regular
    for n in (1, 2, 3, 5, 10, 100):
        spa, opt_rev = SecondPrice().exact(Market.iid(d, n)).revenue, benchmarks.revenue_max(Market.iid(d, n))
        assert spa >= (n - 1) / n * opt_rev * (1 - 1e-10)
        assert SecondPrice().exact(Market.iid(d, n + 1)).revenue >= opt_rev * (1 - 1e-10)
        mye = Myerson().rule(Market.iid(d, n))  # regular: second-price with the lowest monopoly reserve
        assert mye.reserve == pytest.approx(d.monopoly_reserve, rel=1e-12)
        assert all(lo < hi for lo, hi in zip(mye.pool_lo, mye.pool_hi))
        atoms = d.atoms_q()
        assert len(mye.pool_lo) == len([a for a in atoms if a[0] < mye.r])


@pytest.mark.parametrize("spec", ["exponential:rate=1", "lomax:shape=3", "lomax:shape=1.5", "weibull:shape=0.5"])
def test_anti_mhr_second_price_maximises_surplus(spec):
    """Lemma C.2 (Hartline and Roughgarden, 2008): U(SPA) = U* for anti-MHR F (support starting at 0)."""
    d = parse_spec(spec)
    assert d.shape_class().anti_mhr
    for n in (1, 2, 5, 50, 1e30):
        u_spa = SecondPrice().exact(Market.iid(d, n)).surplus
        assert benchmarks.surplus_max(Market.iid(d, n)) == pytest.approx(u_spa, rel=1e-9)
        assert u_spa >= Lottery().exact(Market.iid(d, n)).surplus * (1 - 1e-12)


def test_anti_mhr_with_positive_lowest_value():
    """Pareto I (v >= 1) is anti-MHR above 1, yet the lottery's E[v] = 2 beats U(SPA) = 4/3 at n = 2: Lemma C.2
    needs the support to start at 0 (free service of the lowest types is worth v(1) to each)."""
    d = parse_spec("pareto:shape=2")
    spa = SecondPrice().exact(Market.iid(d, 2)).surplus
    # E[max of 2] = 2 B(2, 1/2) = 8/3, E[min of 2] = 4/3 (Pareto with shape 4)
    assert spa == pytest.approx(8 / 3 - 4 / 3, rel=1e-12)
    assert benchmarks.surplus_max(Market.iid(d, 2)) >= 2.0 - 1e-12


MHR = {"uniform:low=0,high=1": 0.5, "uniform:low=1,high=3": 2.0, "weibull:shape=2": math.gamma(1.5),
       "beta:a=2,b=5": 2 / 7, "exponential:rate=2": 0.5}


@pytest.mark.parametrize("spec", list(MHR))
def test_mhr_lottery_maximises_surplus(spec):
    """Hartline and Roughgarden (2008), Lemma C.5: for MHR F the buyer-optimal mechanism is the lottery
    (m units: m random buyers, free), U* = m E[v]."""
    d = parse_spec(spec)
    assert d.shape_class().mhr
    for n in (1, 2, 7, 1e30):
        assert benchmarks.surplus_max(Market.iid(d, n)) == pytest.approx(MHR[spec], rel=1e-9)
        assert Lottery().exact(Market.iid(d, n)).surplus == pytest.approx(MHR[spec], rel=1e-12)
        assert SecondPrice().exact(Market.iid(d, n)).surplus <= MHR[spec] * (1 + 1e-12)
    assert benchmarks.surplus_max(Market.iid(d, 7, 3)) == pytest.approx(3 * MHR[spec], rel=1e-9)


@pytest.mark.parametrize("spec", ["uniform:low=0,high=1", "weibull:shape=2", "truncnorm:mean=1,sd=1,low=0,high=3",
                                  "beta:a=2,b=5"])
def test_lemma_c6_buyer_offer_welfare(spec):
    """Lemma C.6: WEL(BOM) >= OPT / (1 + H_n - H_m) for MHR F (equality for the exponential, below)."""
    d = parse_spec(spec)
    for n, m in [(5, 1), (10, 3), (20, 20), (40, 7)]:
        opt = top_m_sum(d, n, m)
        assert benchmarks.opt(Market.iid(d, n, m)) == pytest.approx(opt, rel=1e-9)
        wel = parse_mechanism(f"buyer-offer:m={m}").exact(Market.iid(d, n)).welfare
        assert wel == pytest.approx(m * d.mean, rel=1e-12)
        assert wel >= opt / (1 + H(n) - H(m)) * (1 - 1e-12)


def test_lemma_c6_tight_for_exponential():
    d = parse_spec("exponential:rate=1")
    for n, m in [(10, 3), (100, 1), (1e30, 4)]:
        ratio = Lottery(m).exact(Market.iid(d, n)).welfare / benchmarks.opt(Market.iid(d, n, m))
        assert ratio == pytest.approx(1 / (1 + H_big(n) - H(m)), rel=1e-12)


@pytest.mark.parametrize("spec", ["uniform:low=0,high=1", "exponential:rate=1", "truncnorm:mean=1,sd=1,low=0,high=3",
                                  "weibull:shape=2", "uniform:low=1,high=2"])
def test_lemma_c8_myerson_welfare(spec):
    """Lemma C.8: WEL(Myerson) >= OPT / (e - 1) for MHR F and m units; Myerson is VCG with the monopoly
    reserve there."""
    d = parse_spec(spec)
    for n, m in [(1, 1), (2, 1), (5, 2), (20, 5), (100, 10)]:
        opt = top_m_sum(d, n, m)
        mye = Myerson(m).exact(Market.iid(d, n))
        vcg_res = SecondPrice("monopoly", m).exact(Market.iid(d, n))
        assert mye.revenue == pytest.approx(vcg_res.revenue, rel=1e-9)
        assert mye.welfare >= opt / (math.e - 1)
        market = Market.iid(d, n, m)
        assert benchmarks.revenue_max(market) >= SecondPrice(0, m).exact(market).revenue * (1 - 1e-12)


# ---------------------------------------------------------------------- huge markets, atoms
def test_example42_huge_market():
    """Example 4.2 at n = 1e30: OPT = E[max] from a value-space integral, E[v] in closed form."""
    n = 1e30
    d = parse_spec("example42", n)
    K = 0.5 * math.sqrt(math.log(n))
    s = lambda t: math.exp(-t * t)  # noqa: E731  Pr[v >= t] for t < K
    p_max = lambda t: -math.expm1(n * math.log1p(-s(t)))  # noqa: E731  Pr[max >= t]
    # Pr[second highest >= t] = 1 - F^n - n (1-F) F^(n-1), F = 1 - s
    p_2nd = lambda t: 1.0 - math.exp(n * math.log1p(-s(t))) - n * s(t) * math.exp((n - 1) * math.log1p(-s(t)))  # noqa
    opt = integrate.quad(p_max, 0, K, limit=400, epsabs=0, epsrel=1e-13, points=[math.sqrt(math.log(n))])[0]
    rev = integrate.quad(p_2nd, 0, K, limit=400, epsabs=0, epsrel=1e-13, points=[math.sqrt(math.log(n))])[0]
    mean = math.sqrt(math.pi) / 2 * math.erf(K)
    assert benchmarks.opt(Market.iid(d, n)) == pytest.approx(opt, rel=1e-12)
    spa = SecondPrice().exact(Market.iid(d, n))
    assert spa.revenue == pytest.approx(rev, rel=1e-12)
    assert spa.welfare == pytest.approx(opt, rel=1e-12) and spa.welfare <= K  # = K - e^(-3e22) K
    assert Lottery().exact(Market.iid(d, n)).surplus == pytest.approx(mean, rel=1e-12)
    assert benchmarks.surplus_max(Market.iid(d, n)) == pytest.approx(mean, rel=1e-9)  # MHR
    # the reserve e^-1/2 is never binding here
    assert benchmarks.revenue_max(Market.iid(d, n)) == pytest.approx(rev, rel=1e-9)
    assert benchmarks.opt(Market.iid(d, n, 3)) == pytest.approx(3 * K, rel=1e-6)  # the atom holds ~n^(3/4) buyers


@pytest.mark.parametrize("spec", ["example42", "weibull:shape=0.5", "exponential:rate=1", "lognormal:mu=0,sigma=1",
                                  "mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)",
                                  "discrete:values=1/2/3,probs=0.5/0.3/0.2", "equal-revenue:high=100"])
def test_finite_for_every_market_size(spec):
    for n in (1, 2, 10, 1e3, 1e8, 1e15, 1e30):
        if spec == "example42" and n < 2:
            continue
        d = parse_spec(spec, n)
        vals = []
        for mech in (SecondPrice(), SecondPrice("monopoly"), Myerson(), Lottery(), SurplusOptimal()):
            ex = mech.exact(Market.iid(d, n))
            vals.append(ex)
            for x in (ex.revenue, ex.surplus, ex.welfare, ex.sold):
                assert math.isfinite(x)
            assert ex.revenue >= -1e-9 * ex.welfare and ex.surplus >= -1e-9 * ex.welfare
            assert 0 <= ex.sold <= 1 + 1e-12
        opt = benchmarks.opt(Market.iid(d, n))
        assert all(ex.welfare <= opt * (1 + 1e-9) for ex in vals)
        assert vals[2].revenue >= max(ex.revenue for ex in vals) * (1 - 1e-9)  # Myerson is revenue-optimal
        assert vals[4].surplus >= max(ex.surplus for ex in vals) * (1 - 1e-9)  # U* is surplus-optimal
        assert opt > 0 and vals[0].revenue > 0 or n == 1


def test_infinite_mean():
    """Pareto shape 1: E[second highest of n] = n (the n-th order statistic formula), but E[v] = ∞, so U, OPT and
    U* are infinite; shape 0.8: R is unbounded near q = 0 and Π* = ∞ as well."""
    d = parse_spec("pareto:shape=1")
    spa = SecondPrice().exact(Market.iid(d, 3))
    assert spa.revenue == pytest.approx(3.0, rel=1e-12) and math.isinf(spa.surplus)
    assert Myerson().exact(Market.iid(d, 3)).revenue == pytest.approx(3.0, rel=1e-12)  # R = 1: no reserve needed
    assert math.isinf(benchmarks.surplus_max(Market.iid(d, 3))) and math.isinf(benchmarks.opt(Market.iid(d, 3)))
    assert math.isinf(benchmarks.revenue_max(Market.iid(parse_spec("pareto:shape=0.8"), 3)))


def test_exact_is_fast():
    import time

    d = parse_spec(IRONED_MIX)
    Myerson().exact(Market.iid(d, 5))  # warm the per-distribution sample cache
    for mech in (Myerson(), SurplusOptimal(), SecondPrice(), parse_mechanism("ivickrey:bids=0-0.5/0.9/1.2-inf")):
        for n in (5, 1e30):
            t = time.perf_counter()
            mech.exact(Market.iid(d, n))
            assert time.perf_counter() - t < 0.5


def test_bimodal_gap_surplus_side():
    """0.5 U[0,1] + 0.5 U[2,3] (a gap at q = 1/2): S is a straight line once both one-sided limits are in the
    hull, so U* = E[v] = 1.5; the surplus-optimal auction pools (0, 1/2] bidding the bottom of the gap (1) and
    (1/2, 1] bidding 0, and earns revenue 1 - 2^(1-n) (winner alone on top pays 1 - 1/(j+1))."""
    d = parse_spec("mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)")
    for n in (2, 3, 6):
        ex = SurplusOptimal().exact(Market.iid(d, n))
        assert ex.surplus == pytest.approx(1.5, rel=1e-9)
        assert ex.revenue == pytest.approx(1 - 2.0 ** (1 - n), rel=1e-9)
        assert Lottery().exact(Market.iid(d, n)).surplus == pytest.approx(1.5, rel=1e-12)


# ---------------------------------------------------------------------- brute force on discrete profiles
def _brute_force(values, probs, n, bid_of, B, m=1, continuous=False):
    """Enumerate all value profiles; bids b_i = bid_of(v_i) (None: abstain), highest bids win (ties uniformly),
    payments from the rule of ``docs/architecture.md`` ("Ex-post rules"): tied winners pay their bid; a winner
    above the first level T that does not win entirely pays next_T - (next_T - bid_T)(s+1)/(c+1), s of its c
    members winning (next_T: the next element of B, = bid_T where B is continuous); with at most m bidders every
    winner pays min B. Returns expected (revenue, welfare, sold)."""
    B = sorted(B)
    nxt = (lambda b: b) if continuous else (lambda b: min([x for x in B if x > b], default=b))
    rev = wel = sold = 0.0
    for prof in itertools.product(range(len(values)), repeat=n):
        pr = math.prod(probs[i] for i in prof)
        vals = [values[i] for i in prof]
        bids = [bid_of(v) for v in vals]
        active = [i for i in range(n) if bids[i] is not None]
        levels = sorted({bids[i] for i in active}, reverse=True)
        slots, win_p, pay = m, [0.0] * n, [0.0] * n
        T = None
        for b in levels:
            members = [i for i in active if bids[i] == b]
            if len(members) <= slots:
                for i in members:
                    win_p[i] = 1.0
                slots -= len(members)
            else:
                T = (b, len(members), slots)
                for i in members:
                    win_p[i] = slots / len(members)
                    pay[i] = b
                break
        for i in active:
            if win_p[i] == 1.0:
                if T is None:
                    pay[i] = min(B)
                else:
                    b, c, s = T
                    pay[i] = nxt(b) - (nxt(b) - b) * (s + 1) / (c + 1)
        rev += pr * sum(win_p[i] * pay[i] if win_p[i] < 1 else pay[i] for i in active)
        wel += pr * sum(win_p[i] * vals[i] for i in active)
        sold += pr * sum(win_p[i] for i in active)
    return rev, wel, sold


DISCRETE = "discrete:values=1/2/3,probs=0.5/0.3/0.2"
IRONED_MIX = "mixture:0.8*uniform(low=0;high=1)+0.2*uniform(low=1.1;high=1.5)"


@pytest.mark.parametrize("n,m", [(1, 1), (2, 1), (3, 1), (4, 2)])
def test_discrete_with_ties(n, m):
    d = parse_spec(DISCRETE)
    values, probs = [1.0, 2.0, 3.0], [0.5, 0.3, 0.2]
    # second-price / VCG: bids are values, B = [0, ∞) continuous; each winner pays the (m+1)-th value
    rev, wel, sold = _brute_force(values, probs, n, lambda v: v, [0.0], m, continuous=True)
    ex = SecondPrice(0, m).exact(Market.iid(d, n))
    assert (ex.revenue, ex.welfare, ex.sold) == (pytest.approx(rev, rel=1e-12, abs=1e-15),
                                                pytest.approx(wel, rel=1e-12), pytest.approx(sold, rel=1e-12))
    vcg_rev = sum(math.prod(probs[i] for i in prof) * m * sorted([values[i] for i in prof] + [0.0], reverse=True)[m]
                  for prof in itertools.product(range(3), repeat=n))
    assert ex.revenue == pytest.approx(vcg_rev, rel=1e-12, abs=1e-15)
    # indirect Vickrey with B = {1, 3}: values 2 bid 1; gaps (1, 3) pooled at 1 with next 3
    iv = IndirectVickrey([1.0, 3.0], m=m).exact(Market.iid(d, n))
    rev, wel, sold = _brute_force(values, probs, n, lambda v: 3.0 if v >= 3 else 1.0, [1.0, 3.0], m)
    assert (iv.revenue, iv.welfare, iv.sold) == (pytest.approx(rev, rel=1e-12), pytest.approx(wel, rel=1e-12),
                                                pytest.approx(sold, rel=1e-12))
    # the same with reserve 2: B' = {3}, values 1 and 2 abstain
    iv2 = IndirectVickrey([1.0, 3.0], reserve=2.0, m=m).exact(Market.iid(d, n))
    rev, wel, sold = _brute_force(values, probs, n, lambda v: 3.0 if v >= 3 else None, [3.0], m)
    assert (iv2.revenue, iv2.welfare) == (pytest.approx(rev, rel=1e-12), pytest.approx(wel, rel=1e-12))
    # Myerson for a discrete F bids the top of each gap: B = {1, 2, 3} as points, reserve v(q_m)
    mye = Myerson(m).exact(Market.iid(d, n))
    rule = Myerson(m).rule(Market.iid(d, n))
    B = sorted({float(b) for b in rule.pool_bid})
    rev, wel, sold = _brute_force(values, probs, n, lambda v: max([b for b in B if b <= v], default=None), B, m)
    assert mye.revenue == pytest.approx(rev, rel=1e-12)
    assert mye.welfare == pytest.approx(wel, rel=1e-12)


def test_continuous_indirect_vickrey_by_hand():
    """Uniform[0,1], n = 2, B = {0.5} ∪ [0.8, ∞): case by case (both >= .8: second value; one >= .8 and one in
    [.5, .8): 0.8 - 0.3/2; one >= .8 alone: 0.5; both in [.5,.8): tie at 0.5; one in [.5,.8) alone: 0.5)."""
    d = parse_spec("uniform:low=0,high=1")
    ex = parse_mechanism("ivickrey:bids=0.5/0.8-inf").exact(Market.iid(d, 2))
    expected = 0.04 * (0.8 + 0.2 / 3) + 0.12 * 0.65 + 0.2 * 0.5 + 0.09 * 0.5 + 0.3 * 0.5
    assert ex.revenue == pytest.approx(expected, rel=1e-12)
    # welfare: the top value when it is >= .8; a random member of the pool [.5, .8) otherwise
    assert ex.welfare == pytest.approx(0.04 * (0.8 + 0.4 / 3) + 0.32 * 0.9 + 0.39 * 0.65, rel=1e-12)


# ---------------------------------------------------------------------- interim allocations and Border
@pytest.mark.parametrize("spec", ["weibull:shape=0.5", DISCRETE,
                                  "mixture:0.7*uniform(low=0;high=1)+0.3*uniform(low=2;high=3)"])
def test_interim_allocations_are_border_feasible(spec):
    d = parse_spec(spec)
    q = np.linspace(0, 1, 20001)[1:]
    for n, m in [(3, 1), (6, 2)]:
        for mech in (SecondPrice(0.5, m), Myerson(m), SurplusOptimal(m), Lottery(m),
                     IndirectVickrey([(0, 1), 2, (3, math.inf)], 0.2, m)):
            x = mech.interim(Market.iid(d, n), q)
            assert np.all(np.diff(x) <= 1e-12)
            X = np.cumsum(x) * (q[1] - q[0])
            assert np.all(X <= X_hat(q, n, m) + 2e-4)
            # the lemma-free check: welfare from the interim allocation, by the quantile integral n ∫ x v dq
            w = n * np.sum(x * d.v(q - 0.5 * (q[1] - q[0]))) * (q[1] - q[0])
            assert mech.exact(Market.iid(d, n)).welfare == pytest.approx(w, rel=2e-3)


def test_border_functions():
    """X̂'(q) = P[Bin(n-1, q) <= m-1], X̂(q) = E[min(Bin(n, q), m)] / n (scipy's binomial, summed directly)."""
    for n in (2, 5, 1000, 10 ** 6):
        for m in (1, 2, 3):
            if m >= n:
                continue
            q = np.array([1e-9, 1e-7, 1e-4, 0.01, 0.3, 0.9])
            expect = stats.binom.cdf(m - 1, n - 1, q)
            assert np.allclose(X_hat_prime(q, n, m), expect, rtol=1e-9, atol=1e-300)  # scipy: ~1e-11
            expect_X = sum(stats.binom.sf(j - 1, n, q) for j in range(1, m + 1)) / n
            assert np.allclose(X_hat(q, n, m), expect_X, rtol=1e-9, atol=0)


# ---------------------------------------------------------------------- specs and bad input
def test_spec_names_round_trip():
    for spec in ("spa", "spa:reserve=1.5", "spa:reserve=monopoly", "myerson", "lottery", "posted:price=0.7",
                 "vcg:m=3", "vcg:m=3,reserve=0.5", "buyer-offer:m=3", "ivickrey:bids=0-1/2/3-inf,reserve=0.5",
                 "mix:0.3*spa+0.7*lottery"):
        mech = parse_mechanism(spec)
        assert mech.name == spec
        assert parse_mechanism(mech.name).name == mech.name


@pytest.mark.parametrize("call,needle", [
    (lambda d: Market.iid(d, 0), "n:"),  # n and m are checked once, where the market is built
    (lambda d: Market.iid(d, float("nan")), "n:"),
    (lambda d: Market.iid(d, 2.5), "n:"),
    (lambda d: Market.iid(d, 3, 0), "m:"),
    (lambda d: SecondPrice(0, 5).exact(Market.iid(d, 3)), "m:"),  # m <= n: checked by Mechanism.market_for
    (lambda d: SecondPrice().exact(Market.iid(d, 3, 4)), "m:"),
    (lambda d: benchmarks.opt(Market.iid(d, 3, 4)), "m:"),
    (lambda d: Lottery(0), "m:"),
    (lambda d: SecondPrice(-1.0), "reserve:"),
    (lambda d: SecondPrice(float("nan")), "reserve:"),
    (lambda d: SecondPrice("high"), "reserve:"),
    (lambda d: IndirectVickrey([]), "bids:"),
    (lambda d: IndirectVickrey([(2, 3), (0, 1)]), "bids:"),
    (lambda d: IndirectVickrey([(0, 2), (1, 3)]), "bids:"),
    (lambda d: IndirectVickrey([(1, 0)]), "bids:"),
    (lambda d: ExAnteMixture([(0.3, SecondPrice()), (0.3, Lottery())]), "mix:"),
    (lambda d: ExAnteMixture([(0.5, SecondPrice(0, 1)), (0.5, Lottery(2))]), "mix:"),
    # spa sells the market's m = 1, buyer-offer 2 units (fine on a market with m = 2, below)
    (lambda d: ExAnteMixture([(0.5, SecondPrice()), (0.5, Lottery(2))]).exact(Market.iid(d, 3)), "mix:"),
    (lambda d: parse_mechanism("mix:0.5*spa+0.5*buyer-offer:m=2").rule(Market.iid(d, 3)), "mix:"),
    (lambda d: PostedPrice(0.5).exact(Market.iid(d, 2)), "n:"),
    (lambda d: parse_mechanism("posted:price=0.5", Market.iid(d, 3)), "n:"),
    (lambda d: parse_mechanism("mix:0.3*spa+0.6*lottery"), "mix:"),
    (lambda d: parse_mechanism("ivickrey:bids=3-inf/0-1"), "bids:"),
    (lambda d: parse_mechanism("ivickrey:bids="), "mechanism:"),
    (lambda d: parse_mechanism("ivickrey:bids=a-b"), "bids:"),
    (lambda d: parse_mechanism("spa:price=3"), "price:"),
    (lambda d: parse_mechanism("vcg:m=2.5"), "m:"),
    (lambda d: parse_mechanism("egalitarian"), "allowed:"),
    (lambda d: parse_mechanism(""), "mechanism:"),
])
def test_bad_input(call, needle):
    d = parse_spec("uniform:low=0,high=1")
    with pytest.raises(InputError) as err:
        call(d)
    msg = str(err.value)
    assert needle in msg and "\n" not in msg
    if needle != "allowed:":  # the error names the argument (the CLI maps it without reading the text)
        assert err.value.argument == needle[:-1]


def test_unknown_spec_names_the_allowed_ones():
    with pytest.raises(ValueError, match="allowed: spa, .*myerson.*lottery.*vcg"):
        parse_mechanism("egalitarian")


def test_rule_with_unpooled_atom_is_rejected():
    from mechanisms.rule import QuantileRule

    d = parse_spec(DISCRETE)
    with pytest.raises(ValueError, match="atom"):
        exact_from_rule(QuantileRule(m=1, r=1.0, reserve=0.0), Market.iid(d, 3))


# ---------------------------------------------------------------------- command line
def test_cli_analyze(capsys):
    from simulator.cli import main

    rc = main(["analyze", "--dist", "uniform:low=0,high=1", "--n", "2", "--mechanism", "spa", "--mechanism",
               "myerson", "--format", "json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"distribution", "n", "results", "benchmarks"}
    assert out["n"] == 2
    got = {(r["mechanism"], r["metric"]): r["analytic"] for r in out["results"]}
    assert got[("spa", "revenue")] == pytest.approx(1 / 3)
    assert got[("myerson", "revenue")] == pytest.approx(5 / 12)
    assert {r["metric"] for r in out["results"]} == {"revenue", "surplus", "welfare", "sold"}
    assert out["benchmarks"] == {"opt": pytest.approx(2 / 3), "revenue_max": pytest.approx(5 / 12),
                                 "surplus_max": pytest.approx(0.5)}
    rc = main(["analyze", "--dist", "example42", "--n", "1e30", "--mechanism", "vcg:m=3", "--format", "csv"])
    assert rc == 0 and "vcg:m=3,revenue" in capsys.readouterr().out
    for bad in (["--mechanism", "egalitarian"], ["--mechanism", "posted:price=1"], ["--mechanism", "spa", "--m", "9"]):
        assert main(["analyze", "--dist", "uniform", "--n", "3"] + bad) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "error" in err
