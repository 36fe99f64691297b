"""Exact values on markets of several buyer classes (issue 14; textbook 004 §5.2, Proposition 5.3).

Expected values are computed here, independently, from the textbook's formulas: (5.16) revenue = E[max(ψ_1,
ψ_2, 0)], the allocation (5.14), revenue equivalence (the revenue of any DSIC auction is the expected virtual
value of its winner), and the laws of the highest and second-highest values as products of F_k^{n_k}.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize

from distributions import Market
from distributions.errors import InputError
from mechanisms import IndirectVickrey, Lottery, Myerson, PostedPrice, SecondPrice, parse_mechanism
from mechanisms.classes.dispatch import ClassReserveSecondPrice
from mechanisms.classes.exact import exact_classes
from mechanisms.classes.rules import lagrangian_rule, lottery_rule, posted_price_rule, second_price_rule

U1, U2 = "uniform:low=0,high=1", "uniform:low=0,high=2"


@pytest.fixture(scope="module")
def two():
    return Market.of((U1, 1), (U2, 1))


def quad(f, a, b, points=None):
    return integrate.quad(f, a, b, points=points, epsabs=1e-14, epsrel=1e-12, limit=200)[0]


# ------------------------------------------------------------------ U[0,1] and U[0,2]: ψ1 = 2v - 1, ψ2 = 2v - 2
def spa_revenue_formula(r1: float, r2: float) -> float:
    """Revenue equivalence: E[ψ_winner], buyer 1 wins iff v1 >= r1 and (v2 < r2 or v2 < v1), etc."""
    # buyer 1 with v1 wins when buyer 2 is out (v2 < r2) or below her: probability max(r2, v1) / 2 (v1 <= 1 <= 2)
    t1 = quad(lambda v: (2 * v - 1) * min(max(r2, v), 2.0) / 2.0, r1, 1.0, points=[r2] if r1 < r2 < 1 else None)
    # buyer 2 with v2 wins when buyer 1 is out (v1 < r1) or below her: probability min(1, max(r1, v2))
    t2 = quad(lambda v: (v - 1) * min(1.0, max(r1, v)), r2, 2.0, points=[p for p in (r1, 1.0) if r2 < p < 2])
    return t1 + t2


def test_myerson_two_uniforms(two):
    e = Myerson().exact(two)
    # (5.16): E[max(ψ1, ψ2, 0)] = ∫_0^∞ (1 - G1(t) G2(t)) dt, G_k the law of ψ_k: U[-1, 1] and U[-2, 2]
    G1 = lambda t: min(max((t + 1) / 2, 0.0), 1.0)  # noqa: E731
    G2 = lambda t: min(max((t + 2) / 4, 0.0), 1.0)  # noqa: E731
    revenue = quad(lambda t: 1 - G1(t) * G2(t), 0.0, 2.0, points=[1.0])
    assert revenue == pytest.approx(31 / 48, rel=1e-12)
    assert e.revenue == pytest.approx(revenue, rel=1e-10)
    # (5.14): buyer 1 wins iff ψ1 >= max(ψ2, 0)
    win1 = integrate.dblquad(lambda v2, v1: 0.5 * (2 * v1 - 1 >= max(2 * v2 - 2, 0.0)), 0.5, 1, 0,
                             lambda v1: min(v1 + 0.5, 2.0), epsabs=1e-13)[0]
    win2 = integrate.dblquad(lambda v1, v2: 0.5, 1.0, 2.0, 0.0, lambda v2: min(v2 - 0.5, 1.0), epsabs=1e-13)[0]
    rows = e.per_class
    assert rows[0]["win_probability"] == pytest.approx(win1, rel=1e-10)
    assert rows[1]["win_probability"] == pytest.approx(win2, rel=1e-10)
    assert e.sold == pytest.approx(win1 + win2, rel=1e-10)
    # per-class revenue: E[ψ_k 1{k wins}]
    rev1 = quad(lambda v: (2 * v - 1) * min(v + 0.5, 2.0) / 2, 0.5, 1.0)
    assert rows[0]["revenue"] == pytest.approx(rev1, rel=1e-10)
    # welfare and surplus: E[v_k 1{k wins}]
    wel2 = quad(lambda v: v * min(v - 0.5, 1.0) / 2, 1.0, 2.0, points=[1.5])
    assert rows[1]["welfare"] == pytest.approx(wel2, rel=1e-10)
    assert rows[1]["surplus"] == pytest.approx(wel2 - rows[1]["revenue"], rel=1e-9)
    assert e.welfare == pytest.approx(e.revenue + e.surplus, rel=1e-12)


def test_second_price_reserves_two_uniforms(two):
    # no reserve: E[min(v1, v2)] = ∫ (1 - t)(1 - t/2) dt = 5/12; buyer 2 wins with probability 3/4
    e = SecondPrice(0.0).exact(two)
    assert e.revenue == pytest.approx(quad(lambda t: (1 - t) * (1 - t / 2), 0, 1), rel=1e-12)
    assert e.per_class[1]["win_probability"] == pytest.approx(0.75, rel=1e-12)
    assert e.welfare == pytest.approx(quad(lambda t: 1 - min(t, 1) * t / 2, 0, 2, points=[1.0]), rel=1e-12)
    # each class's own monopoly reserve ψ_k^{-1}(0): 1/2 and 1
    own = ClassReserveSecondPrice("monopoly")
    assert own.reserves_for(two) == pytest.approx((0.5, 1.0), abs=1e-9)
    assert own.exact(two).revenue == pytest.approx(spa_revenue_formula(0.5, 1.0), rel=1e-10)
    assert ClassReserveSecondPrice([0.3, 1.4]).exact(two).revenue == pytest.approx(spa_revenue_formula(0.3, 1.4),
                                                                                rel=1e-10)
    # the best discriminatory reserves, optimised here on the formula
    res = optimize.minimize(lambda r: -spa_revenue_formula(*r), [0.5, 1.0], method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-15, "maxiter": 2000})
    best = ClassReserveSecondPrice("best")
    assert best.exact(two).revenue == pytest.approx(-res.fun, rel=1e-10)
    assert best.reserves_for(two) == pytest.approx(tuple(res.x), abs=1e-5)
    assert -res.fun > spa_revenue_formula(0.5, 1.0) + 1e-3  # own monopoly prices are not the best
    # the best common reserve
    com = optimize.minimize_scalar(lambda r: -spa_revenue_formula(r, r), bounds=(0, 1), method="bounded",
                                   options={"xatol": 1e-10})
    common = parse_mechanism("spa:reserve=best")
    assert common.exact(two).revenue == pytest.approx(-com.fun, rel=1e-10)
    assert common.reserves_for(two)[0] == pytest.approx(com.x, abs=1e-5)
    assert SecondPrice(0.6).exact(two).revenue == pytest.approx(spa_revenue_formula(0.6, 0.6), rel=1e-10)
    assert Myerson().exact(two).revenue > best.exact(two).revenue + 1e-3


def test_lottery_and_posted_price(two):
    lot = Lottery().exact(two)
    assert lot.revenue == 0.0
    assert [r["welfare"] for r in lot.per_class] == pytest.approx([0.25, 0.5], rel=1e-12)
    p = 0.8
    post = PostedPrice(p).exact(two)
    # sold iff someone has v >= p; among those the unit goes at random
    sell = 1 - p * (p / 2)
    assert post.revenue == pytest.approx(p * sell, rel=1e-12)
    w1 = quad(lambda v: v * ((p / 2) + (1 - p / 2) / 2), p, 1)  # buyer 1 alone above p, or both (half)
    assert post.per_class[0]["welfare"] == pytest.approx(w1, rel=1e-10)


# ------------------------------------------------------------------ a class split in two gives the i.i.d. values
@pytest.mark.parametrize("spec", [U1, "exponential", "discrete:values=1/2/3,probs=0.2/0.3/0.5"])
def test_split_class_equals_iid(spec):
    iid, split = Market.iid(spec, 3), Market.of((spec, 1), (spec, 2))
    cases = [(SecondPrice(0.0), second_price_rule(split, [0.0, 0.0])),
             (SecondPrice(1.5), second_price_rule(split, [1.5, 1.5])),
             (Lottery(), lottery_rule(split)), (Myerson(), lagrangian_rule(split, 0.0))]
    for mech, rule in cases:
        a = mech.exact(iid)
        raw = exact_classes(rule, split)  # the several-class engine itself, classes not merged
        for key in ("revenue", "surplus", "welfare", "sold"):
            assert getattr(raw, key) == pytest.approx(getattr(a, key), rel=1e-9, abs=1e-12), (mech.name, key)
        shares = [r["win_probability"] for r in raw.per_class]
        assert shares[1] == pytest.approx(2 * shares[0], rel=1e-9)
        b = mech.exact(split)  # the dispatch merges identical classes: the i.i.d. numbers themselves
        assert (b.revenue, b.surplus, b.welfare, b.sold) == (a.revenue, a.surplus, a.welfare, a.sold)


def test_posted_price_is_the_one_point_bid_space():
    split = Market.of((U1, 2), (U1, 3))
    raw = exact_classes(posted_price_rule(split, 0.7), split)
    ref = IndirectVickrey([0.7]).exact(Market.iid(U1, 5))
    assert (raw.revenue, raw.surplus) == pytest.approx((ref.revenue, ref.surplus), rel=1e-9)


# ------------------------------------------------------------------ huge classes: 1e6 weak + 3 strong buyers
def test_weak_and_strong_exponentials():
    n1, n2, a2 = 1e6, 3, 1 / 3
    mk = Market.of(("exponential", n1), (f"exponential:rate={a2!r}", n2))

    def log_cdf(t, a):
        return np.log(-np.expm1(-a * t))

    def top(t):  # P(max <= t) = F1^n1 F2^n2
        return np.exp(n1 * log_cdf(t, 1.0) + n2 * log_cdf(t, a2))

    def second(t):  # P(second highest <= t) = Π F^n + Σ_k n_k (1 - F_k) F_k^{n_k - 1} Π_{j != k} F_j^{n_j}
        out = top(t)
        for a, n in ((1.0, n1), (a2, n2)):
            out = out + n * np.exp(-a * t - log_cdf(t, a)) * top(t)
        return out

    pts = [5, 10, 13, 14, 15, 20, 30, 60]
    opt = quad(lambda t: -np.expm1(n1 * log_cdf(t, 1.0) + n2 * log_cdf(t, a2)), 0, 200, points=pts)  # 1 - top
    spa_rev = quad(lambda t: 1 - second(t), 0, 200, points=pts)
    spa = SecondPrice(0.0).exact(mk)
    assert spa.welfare == pytest.approx(opt, rel=1e-9)
    assert spa.revenue == pytest.approx(spa_rev, rel=1e-9)
    # strong buyers win when the highest value is theirs: ∫ n2 f2(t) F2^{n2-1} F1^{n1} dt
    strong = quad(lambda t: n2 * a2 * np.exp(-a2 * t - log_cdf(t, a2)) * top(t), 0, 200, points=pts)
    assert spa.per_class[1]["win_probability"] == pytest.approx(strong, rel=1e-9)
    # Myerson: ψ_k(v) = v - 1/a_k, G_k(t) = P(ψ_k <= t) = 1 - e^{-a_k t - 1}; revenue = ∫_0^∞ (1 - Π G_k^{n_k})
    G = lambda t: np.exp(n1 * np.log(-np.expm1(-t - 1)) + n2 * np.log(-np.expm1(-a2 * t - 1)))  # noqa: E731
    my = Myerson().exact(mk)
    assert my.revenue == pytest.approx(quad(lambda t: 1 - G(t), 0, 200, points=pts), rel=1e-9)
    for mech in (SecondPrice(0.0), SecondPrice(3.0), Myerson(), Lottery(), ClassReserveSecondPrice("monopoly")):
        e = mech.exact(mk)
        values = [e.revenue, e.surplus, e.welfare, e.sold] + [r[k] for r in e.per_class for k in r if k != "label"]
        assert all(math.isfinite(x) for x in values), mech.name
        assert e.welfare == pytest.approx(e.revenue + e.surplus, rel=1e-12)
        assert 0 <= e.sold <= 1 + 1e-12
        assert e.sold == pytest.approx(sum(r["win_probability"] for r in e.per_class), rel=1e-12)
        assert e.revenue <= my.revenue * (1 + 1e-9)
        assert e.welfare <= opt * (1 + 1e-9)


# ------------------------------------------------------------------ the spec strings and clear errors
def test_specs_and_errors(two):
    assert parse_mechanism("spa:reserves=0.5/1").reserves_for(two) == (0.5, 1.0)
    assert parse_mechanism("spa:reserves=monopoly").name == "spa:reserves=monopoly"
    with pytest.raises(InputError) as err:
        parse_mechanism("spa:reserves=0.5").exact(two)
    assert err.value.argument == "reserves"
    with pytest.raises(InputError) as err:
        SecondPrice("monopoly").exact(two)
    assert err.value.argument == "reserve"
    with pytest.raises(InputError) as err:
        SecondPrice(0.0, m=5).exact(Market.of((U1, 2), (U2, 2)))  # more units than buyers
    assert err.value.argument == "m"
    with pytest.raises(InputError):
        IndirectVickrey([0.5]).exact(two)
    with pytest.raises(InputError) as err:
        parse_mechanism("nash", two)
    assert "several buyer classes" in str(err.value)
    one = Market.iid(U1, 2)
    assert parse_mechanism("spa:reserves=monopoly").exact(one).revenue == SecondPrice("monopoly").exact(one).revenue


# ------------------------------------------------------------------ m units (VCG, Myerson, lottery, posted price)
def binomial_sum_pmf(pairs, J):
    """P(Σ Bin(n_l, p_l) = j), j < J, by convolving the binomials' pmfs (scipy's, independent of the code)."""
    from scipy import stats

    out = np.zeros(J)
    out[0] = 1.0
    for n, p in pairs:
        out = np.convolve(out, stats.binom.pmf(np.arange(J), n, p))[:J]
    return out


def at_most(pairs, j):
    return binomial_sum_pmf(pairs, j + 1).sum()


def expected_min(pairs, m):
    """E[min(m, N)] = Σ_{i<m} P(N > i) for N = Σ Bin(n_l, p_l)."""
    return sum(1.0 - at_most(pairs, i) for i in range(m))


@pytest.mark.parametrize("spec", [U1, "exponential", "discrete:values=1/2/3,probs=0.2/0.3/0.5"])
def test_split_class_equals_iid_m_units(spec):
    iid, split = Market.iid(spec, 5, m=2), Market.of((spec, 2), (spec, 3), m=2)
    cases = [(SecondPrice(0.0), second_price_rule(split, [0.0, 0.0])),
             (SecondPrice(0.7), second_price_rule(split, [0.7, 0.7])),
             (Lottery(), lottery_rule(split)), (Myerson(), lagrangian_rule(split, 0.0))]
    for mech, rule in cases:
        a, raw = mech.exact(iid), exact_classes(rule, split)  # the i.i.d. vcg:m=2 code against the class engine
        for key in ("revenue", "surplus", "welfare", "sold"):
            assert getattr(raw, key) == pytest.approx(getattr(a, key), rel=1e-9, abs=1e-12), (mech.name, key)
        shares = [r["win_probability"] for r in raw.per_class]
        assert shares[1] == pytest.approx(1.5 * shares[0], rel=1e-9)
    if spec == U1:  # closed forms: VCG earns 2 E[v_(3:5)] = 2 (3/6); the welfare is E[v_(1:5) + v_(2:5)] = 9/6
        e = exact_classes(second_price_rule(split, [0.0, 0.0]), split)
        assert (e.revenue, e.welfare, e.sold) == pytest.approx((1.0, 1.5, 2.0), rel=1e-12)


def test_split_huge_classes_m_units():
    spec = "exponential"
    iid, split = Market.iid(spec, 3e30, m=3), Market.of((spec, 1e30), (spec, 2e30), m=3)
    for mech, rule in [(SecondPrice(0.0), second_price_rule(split, [0.0, 0.0])),
                       (Myerson(), lagrangian_rule(split, 0.0))]:
        a, raw = mech.exact(iid), exact_classes(rule, split)
        # exponential spacings: v_(j) - v_(j+1) ~ Exp(mean 1/j), so U = Σ_{j<=3} E[v_(j) - v_(4)] = 3 (VCG)
        if mech.name == "spa":
            assert raw.surplus == pytest.approx(1 + 1 / 2 + 1 / 3 + (1 / 2 + 1 / 3) + 1 / 3, rel=1e-12)
        for key in ("revenue", "surplus", "welfare", "sold"):
            assert getattr(raw, key) == pytest.approx(getattr(a, key), rel=1e-12), (mech.name, key)


def test_bounded_classes_surplus_without_cancellation():
    # 1e6 U[0,1] + 2e6 U[0,1] buyers: U = E[v_(1) - v_(2)] = 1/(n+1), no W - Π cancellation (W, Π ~ 1)
    n = 3e6
    split = Market.of((U1, 1e6), (U1, 2e6))
    e = exact_classes(second_price_rule(split, [0.0, 0.0]), split)
    assert e.surplus == pytest.approx(1 / (n + 1), rel=1e-9)
    # values near the top are doubles 1 - p: Q = 1 - v carries ~1e-16 / p ~ 3e-10 relative rounding at the
    # p ~ 1/n that matter, which shows at ~1e-11 in Π (``check_resolution`` refuses where it would be O(1))
    assert e.revenue == pytest.approx((n - 1) / (n + 1), rel=3e-11)
    with pytest.raises(InputError) as err:  # values of two huge classes crowding the same top: refused
        SecondPrice(0.0).exact(Market.of((U1, 1e30), ("uniform:low=0.5,high=1", 1e30)))
    assert err.value.argument == "buyers"
    # a huge weak class under a strong one: weak wins iff the 3 strong are below 1, and then its surplus is
    # E[v_(1) - v_(2)] of the 1e30 weak ones
    e = SecondPrice(0.0).exact(Market.of((U1, 1e30), (U2, 3)))
    assert e.per_class[0]["win_probability"] == pytest.approx(1 / 8, rel=1e-12)
    assert e.per_class[0]["surplus"] == pytest.approx(1 / 8 / (1e30 + 1), rel=1e-9)


def _uniform_pairs(v, others, reserves=(0.0, 0.0), psi=False):
    """(count, Pr[above]) for the other buyers of U[0,1] / U[0,2] against value v (or virtual value v)."""
    out = []
    for (n, high), rho in zip(others, reserves):
        if psi:  # ψ = 2v - high: Pr[ψ > t] = Pr[v > (t + high) / 2]
            p = min(max(1 - (v + high) / (2 * high), 0.0), 1.0)
        else:
            p = min(max(1 - max(v, rho) / high, 0.0), 1.0)
        out.append((n, p))
    return out


def test_distinct_uniforms_m2_closed_forms():
    """2 buyers U[0,1] and 3 buyers U[0,2], m = 2: per buyer revenue E[ψ_k x_k], welfare E[v x_k], surplus
    ∫ x_k (1 - F_k) (the payment identity), x_k(v) = P(at most one other above)."""
    m = 2
    mk = Market.of((U1, 2), (U2, 3), m=m)
    highs, counts = (1.0, 2.0), (2, 3)

    def others(k):
        return [(counts[l] - (l == k), highs[l]) for l in range(2)]

    def check(e, reserves, psi=False, rtol=1e-9):
        for k in range(2):
            h = highs[k]
            lo = h / 2 if psi else reserves[k]
            x = lambda v: at_most(_uniform_pairs(2 * v - h if psi else v, others(k), reserves, psi), m - 1)  # noqa
            pts = sorted({p for p in (*reserves, 0.5, 1.0, 1.5) if lo < p < h})
            rev = counts[k] * quad(lambda v: (2 * v - h) * x(v) / h, lo, h, points=pts)
            wel = counts[k] * quad(lambda v: v * x(v) / h, lo, h, points=pts)
            sur = counts[k] * quad(lambda v: x(v) * (1 - v / h), lo, h, points=pts)
            win = counts[k] * quad(lambda v: x(v) / h, lo, h, points=pts)
            row = e.per_class[k]
            assert row["revenue"] == pytest.approx(rev, rel=rtol), (k, "revenue")
            assert row["welfare"] == pytest.approx(wel, rel=rtol), (k, "welfare")
            assert row["surplus"] == pytest.approx(sur, rel=rtol), (k, "surplus")
            assert row["win_probability"] == pytest.approx(win, rel=rtol), (k, "wins")

    check(SecondPrice(0.0).exact(mk), (0.0, 0.0))
    check(SecondPrice(0.6).exact(mk), (0.6, 0.6))
    check(ClassReserveSecondPrice([0.5, 1.0]).exact(mk), (0.5, 1.0))
    my = Myerson().exact(mk)
    check(my, (0.0, 0.0), psi=True)
    # (5.16) with m units: E[Σ of the m highest positive ψ] = ∫_0^∞ E[min(m, #{ψ > t})] dt
    total = quad(lambda t: expected_min([(2, max(1 - t, 0) / 2), (3, max(2 - t, 0) / 4)], m), 0.0, 2.0, points=[1.0])
    assert my.revenue == pytest.approx(total, rel=1e-10)
    # VCG revenue = m E[(m+1)-th highest value] = m ∫ P(at least m + 1 values above t) dt
    vcg = quad(lambda t: 1 - at_most([(2, max(1 - t, 0)), (3, 1 - t / 2)], m), 0.0, 2.0, points=[1.0])
    assert SecondPrice(0.0).exact(mk).revenue == pytest.approx(m * vcg, rel=1e-10)
    lot = Lottery().exact(mk)
    assert (lot.revenue, lot.welfare, lot.sold) == pytest.approx((0.0, 0.4 * (2 * 0.5 + 3 * 1.0), 2.0), abs=1e-12)
    p = 0.8  # posted price: N ~ Bin(2, 0.2) + Bin(3, 0.6) buyers at or above p, min(2, N) units sold at p
    pmf = binomial_sum_pmf([(2, 0.2), (3, 0.6)], 6)
    post = PostedPrice(p).exact(mk)
    assert post.revenue == pytest.approx(p * sum(min(j, 2) * q for j, q in enumerate(pmf)), rel=1e-12)
    share1 = sum(min(1.0, 2 / (j + 1)) * q for j, q in enumerate(binomial_sum_pmf([(1, 0.2), (3, 0.6)], 5)))
    assert post.per_class[0]["welfare"] == pytest.approx(2 * 0.2 * 0.9 * share1, rel=1e-12)


def test_distinct_uniforms_m2_monte_carlo():
    """The ex-post rule itself, 1e6 draws: VCG with reserves 0.5 / 1 (winners pay max(own reserve, the third
    highest participating value)) and Myerson (winners pay ψ_k^{-1}(max(0, third highest ψ)))."""
    rng = np.random.default_rng(20261130)
    size = 1_000_000
    v = np.hstack([rng.uniform(0, 1, (size, 2)), rng.uniform(0, 2, (size, 3))])
    rho = np.array([0.5, 0.5, 1.0, 1.0, 1.0])
    highs = np.array([1.0, 1.0, 2.0, 2.0, 2.0])
    rows = np.arange(size)[:, None]

    def run(score, price_of):
        order = np.argsort(-score, axis=1)
        top, third = order[:, :2], score[rows[:, 0], order[:, 2]]
        win = np.zeros_like(v, dtype=bool)
        win[rows, top] = np.isfinite(score[rows, top])
        pay = np.where(win, price_of(np.where(np.isfinite(third), third, -np.inf)[:, None]), 0.0)
        return win, pay

    bids = np.where(v >= rho, v, -np.inf)
    win, pay = run(bids, lambda t: np.maximum(t, rho))
    e = ClassReserveSecondPrice([0.5, 1.0]).exact(Market.of((U1, 2), (U2, 3), m=2))
    psi = np.where(2 * v - highs >= 0, 2 * v - highs, -np.inf)
    win2, pay2 = run(psi, lambda t: (np.maximum(t, 0.0) + highs) / 2)
    my = Myerson().exact(Market.of((U1, 2), (U2, 3), m=2))
    for (w, p), ex in (((win, pay), e), ((win2, pay2), my)):
        for k, cols in enumerate((slice(0, 2), slice(2, 5))):
            for draws, key in ((p[:, cols].sum(1), "revenue"), (w[:, cols].sum(1), "win_probability"),
                               ((w * v - p)[:, cols].sum(1), "surplus")):
                z = (draws.mean() - ex.per_class[k][key]) / (draws.std() / math.sqrt(size))
                assert abs(z) < 4, (key, k, z)


def test_weak_and_strong_exponentials_m2():
    n1, n2, a2, m = 1e6, 3, 1 / 3, 2
    mk = Market.of(("exponential", n1), (f"exponential:rate={a2!r}", n2), m=m)
    pts = [5, 10, 13, 14, 15, 20, 30, 60]

    def above(t, shift=0.0):  # Pr[v > t] (shift = 1: Pr[ψ > t], ψ = v - 1/a)
        return [(n1, math.exp(-t - shift)), (n2, math.exp(-a2 * t - shift))]

    vcg = quad(lambda t: 1 - at_most(above(t), m), 0, 200, points=pts)  # E[v_(3)]
    welfare = quad(lambda t: expected_min(above(t), m), 0, 200, points=pts)
    e = SecondPrice(0.0).exact(mk)
    assert e.revenue == pytest.approx(m * vcg, rel=1e-9)
    assert e.welfare == pytest.approx(welfare, rel=1e-9)
    strong = quad(lambda t: n2 * a2 * math.exp(-a2 * t) * at_most([(n1, math.exp(-t)), (n2 - 1, math.exp(-a2 * t))],
                                                                 m - 1), 0, 200, points=pts)
    assert e.per_class[1]["win_probability"] == pytest.approx(strong, rel=1e-9)
    my = quad(lambda t: expected_min(above(t, 1.0), m), 0, 200, points=pts)
    assert Myerson().exact(mk).revenue == pytest.approx(my, rel=1e-9)


def test_interim_per_class():
    q = np.array([0.05, 0.3, 0.5, 0.7, 0.95])
    one = Market.of((U1, 1), (U2, 1))
    x = Myerson().interim(one, q)  # (5.14): buyer 1 wins iff ψ1 >= max(ψ2, 0), ψ1 = 2v - 1, ψ2 = 2v - 2
    v1, v2 = 1 - q, 2 * (1 - q)
    assert x[0] == pytest.approx(np.where(v1 >= 0.5, np.minimum(v1 + 0.5, 2) / 2, 0), abs=1e-12)
    assert x[1] == pytest.approx(np.where(v2 >= 1, np.minimum(v2 - 0.5, 1), 0), abs=1e-12)
    mk = Market.of((U1, 2), (U2, 3), m=2)
    x = ClassReserveSecondPrice([0.5, 1.0]).interim(mk, q)
    for k, (h, rho) in enumerate(((1.0, 0.5), (2.0, 1.0))):
        others = [(2 - (k == 0), 1.0), (3 - (k == 1), 2.0)]
        ref = [at_most(_uniform_pairs(h * (1 - qi), others, (0.5, 1.0)), 1) if h * (1 - qi) >= rho else 0.0
               for qi in q]
        assert x[k] == pytest.approx(ref, abs=1e-12)
    e = ClassReserveSecondPrice([0.5, 1.0]).exact(mk)  # n_k ∫_0^{1/2} x_k dq is the class's win probability
    nodes, weights = np.polynomial.legendre.leggauss(20)  # x_k is a polynomial of degree <= 4 on (0, 1/2]
    x = ClassReserveSecondPrice([0.5, 1.0]).interim(mk, 0.25 * (nodes + 1))
    for k, count in enumerate((2, 3)):
        assert count * 0.25 * (x[k] @ weights) == pytest.approx(e.per_class[k]["win_probability"], rel=1e-10)
    assert Lottery().interim(mk, q) == pytest.approx(np.full((2, 5), 0.4), rel=1e-12)
    # posted price 0.8: among those above it (Bin(1, 0.2) + Bin(3, 0.6) others) 2 units at random
    x = PostedPrice(0.8).interim(mk, q)
    share1 = sum(min(1.0, 2 / (j + 1)) * p for j, p in enumerate(binomial_sum_pmf([(1, 0.2), (3, 0.6)], 5)))
    share2 = sum(min(1.0, 2 / (j + 1)) * p for j, p in enumerate(binomial_sum_pmf([(2, 0.2), (2, 0.6)], 5)))
    assert x[0] == pytest.approx([share1, 0, 0, 0, 0], rel=1e-12)
    assert x[1] == pytest.approx([share2, share2, share2, 0, 0], rel=1e-12)


def test_counting_huge_classes():
    """P(Σ Bin(N_l, Q_l) = j) in logs: Bin(1e30, 1e-30) is Poisson(1) to ~1e-30, convolved with Bin(2, 1/2)."""
    from scipy import stats

    from mechanisms.classes.counting import exactly, fewer_than

    ref = np.convolve(stats.poisson.pmf(np.arange(4), 1.0), stats.binom.pmf(np.arange(4), 2, 0.5))[:4]
    got = [float(exactly(j, [1e30, 2], [1e-30, 0.5])) for j in range(4)]
    assert got == pytest.approx(ref, rel=1e-13)
    assert float(fewer_than(3, [1e30, 2], [1e-30, 0.5])) == pytest.approx(ref[:3].sum(), rel=1e-13)
    assert float(fewer_than(2, [0, 3], [0.5, 1.0])) == 0.0  # 3 others, all above
    assert float(exactly(3, [0, 3], [0.5, 1.0])) == pytest.approx(1.0, rel=1e-14)


# ------------------------------------------------------------------ heavy tails, huge classes, no NaN (H4c)
def pareto_psi_law(alpha: float):
    """Pareto(α, 1): ψ(v) = v - v/α = (1 - 1/α) v (v = q^{-1/α}, ψ = R'(q)); law of ψ: G(t) = 1 - (t/c)^{-α} for
    t >= c = 1 - 1/α, density g(t) = α c^α t^{-α-1}."""
    c = 1.0 - 1.0 / alpha
    return c, (lambda t: 0.0 if t < c else 1.0 - (t / c) ** -alpha), (lambda t: 0.0 if t < c else alpha * c ** alpha
                                                                         * t ** (-alpha - 1))


@pytest.mark.parametrize("counts", [(1, 1), (2, 3)])
def test_myerson_with_a_pareto_class(counts):
    """U[0,2] (ψ = 2v - 2 ~ U[-2, 2]) against Pareto(1.5) (ψ = v/3 >= 1/3, always served): (5.16) revenue
    ∫_0^∞ 1 - G_1^{n_1} G_2^{n_2} dt and the win probabilities n_k ∫ g_k G_k^{n_k - 1} Π_{l≠k} G_l^{n_l}."""
    n1, n2 = counts
    mk = Market.of(("uniform:low=0,high=2", n1), ("pareto:shape=1.5", n2))
    c, G2, g2 = pareto_psi_law(1.5)
    G1 = lambda t: min(max((t + 2) / 4, 0.0), 1.0)  # noqa: E731
    rule = lagrangian_rule(mk, 0.0)
    for q in (1e-300, 1e-200, 1e-100, 1e-10, 0.3):  # the score is ψ(q) = (1/3) q^{-2/3} down to 1e-300
        assert float(rule.classes[1].score(np.array(q))) == pytest.approx(q ** (-2 / 3) / 3, rel=1e-10)
    assert float(rule.classes[1].threshold_value(np.array(1.0))) == pytest.approx(3.0, rel=1e-10)  # ψ(3) = 1
    pieces = [(0.0, c), (c, 2.0), (2.0, 50.0), (50.0, math.inf)]
    # above t = 2 (G_1 = 1): 1 - G_2^{n_2} = Σ_i C(n_2, i) (-1)^{i+1} (t/c)^{-αi}, integrated in closed form
    tail = sum(math.comb(n2, i) * (-1) ** (i + 1) * c ** (1.5 * i) * 2.0 ** (1 - 1.5 * i) / (1.5 * i - 1)
               for i in range(1, n2 + 1))
    revenue = sum(quad(lambda t: 1 - G1(t) ** n1 * G2(t) ** n2, a, b) for a, b in pieces[:2]) + tail
    win2 = sum(quad(lambda t: n2 * g2(t) * G2(t) ** (n2 - 1) * G1(t) ** n1, a, b) for a, b in pieces[1:])
    rev2 = sum(quad(lambda t: t * n2 * g2(t) * G2(t) ** (n2 - 1) * G1(t) ** n1, a, b) for a, b in pieces[1:])
    e = Myerson().exact(mk)
    assert e.sold == pytest.approx(1.0, rel=1e-12)  # a Pareto buyer always has ψ > 0
    assert e.revenue == pytest.approx(revenue, rel=1e-9)
    assert e.per_class[1]["win_probability"] == pytest.approx(win2, rel=1e-9)
    assert e.per_class[0]["win_probability"] == pytest.approx(1 - win2, rel=1e-9)
    assert e.per_class[1]["revenue"] == pytest.approx(rev2, rel=1e-9)


def test_lagrangian_scores_deep_in_heavy_tails():
    """ψ(q) = R'(q) where the density underflows: Lomax(2) ψ = q^{-1/2}/2 - 1 (closed form); Weibull(k)
    ψ = v - q/f(v(q)) = x^{1/k} - x^{1/k - 1}/k, x = -ln q (f(v) ~ 1e-326 at q = 1e-300 for k = 0.1); the
    surplus curve's score S'(q) = q/f(v(q)) = x^{1/k - 1}/k."""
    lomax = lagrangian_rule(Market.of(("lomax:shape=2", 1), (U1, 1)), 0.0).classes[0]
    weib = lagrangian_rule(Market.of(("weibull:shape=0.1", 1), (U1, 1)), 0.0).classes[0]
    surplus = lagrangian_rule(Market.of(("weibull:shape=0.1", 1), (U1, 1)), math.inf).classes[0]
    for q in (1e-300, 1e-250, 1e-120, 1e-3):
        assert float(lomax.score(np.array(q))) == pytest.approx(q ** -0.5 / 2 - 1, rel=1e-10)
        x = -math.log(q)
        assert float(weib.score(np.array(q))) == pytest.approx(x ** 10 - 10 * x ** 9, rel=1e-10)
        assert float(surplus.score(np.array(q))) == pytest.approx(10 * x ** 9, rel=1e-10)


def test_million_weak_and_three_strong_closed_forms():
    """1e6 weak U[0,1] + 3 strong U[0,2], second price. For t <= 1: P(max <= t) = t^{n+3}/8, P(exactly one
    above t) = n (1-t) t^{n+2}/8 + 3 (1 - t/2) t^{n+2}/4 (polynomials: ∫_0^1 t^k = 1/(k+1)); above 1 only the
    strong buyers. The weak class wins w.p. E[(W/2)^3] = n / (8 (n + 3)) (W ~ t^n); someone always buys."""
    n = 1e6
    mk = Market.of((U1, n), (U2, 3))
    rev = (1 - 1 / (8 * (n + 4)) - n / 8 * (1 / (n + 3) - 1 / (n + 4)) - 0.75 * (1 / (n + 3) - 0.5 / (n + 4))
           + quad(lambda t: 1 - (t / 2) ** 3 - 3 * (1 - t / 2) * (t / 2) ** 2, 1, 2))
    welfare = 1 - 1 / (8 * (n + 4)) + quad(lambda t: 1 - (t / 2) ** 3, 1, 2)
    e = SecondPrice(0.0).exact(mk)
    assert e.sold == pytest.approx(1.0, abs=1e-12)
    assert e.per_class[0]["win_probability"] == pytest.approx(n / (8 * (n + 3)), abs=1e-12)
    assert e.per_class[1]["win_probability"] == pytest.approx(1 - n / (8 * (n + 3)), abs=1e-12)
    assert e.revenue == pytest.approx(rev, abs=1e-11)
    assert e.welfare == pytest.approx(welfare, abs=1e-11)
    # Myerson: nobody has ψ >= 0 only when all are below their monopoly prices, w.p. 2^{-n} / 8 = 0
    assert Myerson().exact(mk).sold == pytest.approx(1.0, abs=1e-12)


def test_infinite_mean_class_posted_price_and_second_price():
    """U[0,2] + 2 Pareto(0.8) (infinite mean). Posted price 2: revenue 2 P(sold) = 2 (1 - (1 - 2^{-0.8})^2),
    finite; welfare +inf with a note. Second price: revenue E[second highest] = ∫ 1 - F_max - P(one above)
    (its tail (1 - F_p)^2 = t^{-1.6} is integrable: finite), welfare +inf."""
    mk = Market.of((U2, 1), ("pareto:shape=0.8", 2))
    sold = 1 - (1 - 2 ** -0.8) ** 2
    e = PostedPrice(2.0).exact(mk)
    assert e.sold == pytest.approx(sold, rel=1e-12)
    assert e.revenue == pytest.approx(2 * sold, rel=1e-12)
    assert e.per_class[1]["revenue"] == pytest.approx(2 * sold, rel=1e-12) and e.per_class[0]["revenue"] == 0
    assert e.welfare == math.inf and e.surplus == math.inf and e.notes
    Fu = lambda t: min(t / 2, 1.0)  # noqa: E731
    Fp = lambda t: 0.0 if t < 1 else 1 - t ** -0.8  # noqa: E731
    one_above = lambda t: (1 - Fu(t)) * Fp(t) ** 2 + 2 * (1 - Fp(t)) * Fp(t) * Fu(t)  # noqa: E731
    rev = sum(quad(lambda t: 1 - Fu(t) * Fp(t) ** 2 - one_above(t), a, b) for a, b in [(0, 1), (1, 2)])
    rev += 2 ** -0.6 / 0.6  # t >= 2: (1 - F_p)^2 = t^{-1.6}
    e = SecondPrice(0.0).exact(mk)
    assert e.revenue == pytest.approx(rev, rel=1e-9)
    assert e.welfare == math.inf and e.sold == pytest.approx(1.0, rel=1e-12)


ODD_MARKETS = [
    [("pareto:shape=1.0", 2), ("lomax:shape=2", 3)],
    [("pareto:shape=0.8", 1e30), (U1, 3)],
    [("lomax:shape=0.5", 2), ("exponential", 1e30)],
    [("equal-revenue:high=10", 2), ("uniform:low=0,high=5", 1)],
    [("discrete:values=1/2", 2), ("discrete:values=1/3", 2)],
    [("mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)", 2), ("exponential", 1e6)],
    [("lognormal", 3), ("weibull:shape=0.5", 1e30)],
]


@pytest.mark.parametrize("specs", ODD_MARKETS)
def test_no_nan_on_odd_markets(specs):
    """Atoms, discrete laws, heavy tails, 1e30 buyers, m = 1 and 2: every exact value is a number or ±inf,
    units sold within [0, m], welfare = revenue + surplus."""
    for m in (1, 2):
        mk = Market.of(*specs, m=m)
        for name in ("spa", "lottery", "posted:price=2", "spa:reserve=0.5"):
            e = parse_mechanism(name, mk).exact(mk)
            values = [e.revenue, e.surplus, e.welfare, e.sold]
            values += [row[k] for row in e.per_class for k in ("revenue", "surplus", "welfare", "win_probability")]
            assert not any(math.isnan(v) for v in values), (name, m, e)
            assert -1e-12 <= e.sold <= m * (1 + 1e-12), (name, m, e.sold)
            assert all(row["win_probability"] >= -1e-15 for row in e.per_class), (name, m)
            if math.isfinite(e.welfare):
                assert e.welfare == pytest.approx(e.revenue + e.surplus, rel=1e-9, abs=1e-12)
