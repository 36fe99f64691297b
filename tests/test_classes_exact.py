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
    opt = quad(lambda t: 1 - top(t), 0, 200, points=pts)
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
        SecondPrice(0.0, m=2).exact(Market.of((U1, 2), (U2, 2)))
    assert err.value.argument == "m"
    with pytest.raises(InputError):
        IndirectVickrey([0.5]).exact(two)
    with pytest.raises(InputError) as err:
        parse_mechanism("nash", two)
    assert "several buyer classes" in str(err.value)
    one = Market.iid(U1, 2)
    assert parse_mechanism("spa:reserves=monopoly").exact(one).revenue == SecondPrice("monopoly").exact(one).revenue
