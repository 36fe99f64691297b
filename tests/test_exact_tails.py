"""Exact values with heavy (power) tails: +inf with a note where the expectation is infinite, accurate where it
is finite but slowly convergent, an error (never a silent wrong number) where a quadrature does not converge.

Expected values are closed forms: with v(q) = q^(-1/a) (Pareto, scale 1) or q^(-1/a) - 1 (Lomax), the k-th
highest of n values is v(Q) with Q ~ Beta(k, n-k+1), so E = B(k - 1/a, n-k+1) / B(k, n-k+1) (- 1 for Lomax),
finite iff k a > 1. For n = 2 the second highest is the minimum, Pr[min >= x] = x^(-2a) (Pareto), so
E[min] = 1 + int_1^inf x^(-2a) dx = 2a / (2a - 1).
"""
from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np
import pytest

from distributions.errors import InputError
from distributions.market import Market
from distributions.spec import parse_spec
from mechanisms import exact as exact_mod
from mechanisms.base import Exact
from mechanisms.benchmarks import opt, revenue_max, surplus_max
from mechanisms.quadrature import QuadratureError, integrate
from mechanisms.spec import parse_mechanism


def spa(spec: str, n: int) -> Exact:
    return parse_mechanism("spa").exact(Market.iid(parse_spec(spec), n))


def kth_highest(a: float, n: int, k: int, lomax: bool) -> float:
    """E[k-th highest of n] for Pareto / Lomax(shape a, scale 1), closed form in mpmath (module doc)."""
    a = mp.mpf(a)
    val = mp.beta(k - 1 / a, n - k + 1) / mp.beta(k, n - k + 1)
    return float(val - 1 if lomax else val)


# -- infinite expectations -------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, n", [("pareto:shape=0.5", 2), ("pareto:shape=0.5", 3), ("lomax:shape=0.5", 3),
                                     ("lomax:shape=0.5", 2), ("pareto:shape=0.3", 5)])
def test_second_price_revenue_infinite_when_second_highest_has_index_le_1(spec, n):
    e = spa(spec, n)
    assert e.revenue == math.inf and e.welfare == math.inf and e.surplus == math.inf
    assert any(t.startswith("revenue infinite: the 2nd-highest value has tail index") for t in e.notes)
    assert any("surplus and welfare infinite" in t for t in e.notes)
    assert e.sold == pytest.approx(1.0, rel=1e-12)


def test_vcg_two_units_uses_third_highest():
    # m = 2: payments are the 3rd-highest value, index 3a; a = 0.34 -> 1.02 > 1 finite, a = 1/3 -> 1 infinite
    for a, finite in ((0.34, True), (1 / 3, False)):
        e = parse_mechanism("vcg:m=2").exact(Market.iid(parse_spec(f"pareto:shape={a!r}"), 4))
        if finite:
            assert e.revenue == pytest.approx(2 * kth_highest(a, 4, 3, False), rel=1e-9)
        else:
            assert e.revenue == math.inf
            assert any("3rd-highest value has tail index" in t for t in e.notes)


@pytest.mark.parametrize("spec", ["pareto:shape=1", "lomax:shape=0.8", "pareto:shape=0.505"])
def test_welfare_and_benchmarks_infinite_for_infinite_mean(spec):
    market = Market.iid(parse_spec(spec), 3)
    assert opt(market) == math.inf
    assert surplus_max(market) == math.inf
    e = parse_mechanism("lottery").exact(market)
    assert e.welfare == math.inf and e.surplus == math.inf and e.revenue == 0.0
    assert any("infinite mean" in t for t in e.notes)


def test_revenue_max_infinite_when_R_unbounded():
    # a < 1: posting price p earns p Pr[v >= p] = p^(1-a) -> inf
    assert revenue_max(Market.iid(parse_spec("pareto:shape=0.505"), 2)) == math.inf


# -- finite but slowly convergent ------------------------------------------------------------------------------

def test_pareto_0505_two_buyers_is_101():
    a = 0.505
    e = spa(f"pareto:shape={a}", 2)
    assert e.revenue == pytest.approx(2 * a / (2 * a - 1), rel=1e-9)  # = 101
    assert e.revenue == pytest.approx(101.0, rel=1e-9)
    assert e.notes and not any(t.startswith("revenue") for t in e.notes)


@pytest.mark.parametrize("a", [0.501, 0.502, 0.505, 0.51])
def test_lomax_near_the_boundary_two_buyers(a):
    # Lomax: Pr[min >= x] = (1 + x)^(-2a), E[min] = 1 / (2a - 1)
    assert spa(f"lomax:shape={a}", 2).revenue == pytest.approx(1 / (2 * a - 1), rel=1e-9)


@pytest.mark.parametrize("a, n", [(0.501, 3), (0.505, 5), (0.51, 10), (0.7, 3), (0.55, 1000)])
def test_lomax_and_pareto_second_highest_closed_form(a, n):
    for fam in ("lomax", "pareto"):
        expected = kth_highest(a, n, 2, fam == "lomax")
        assert spa(f"{fam}:shape={a}", n).revenue == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("a, n", [(1.01, 2), (1.05, 5), (1.5, 3)])
def test_welfare_near_infinite_mean_closed_form(a, n):
    e = spa(f"pareto:shape={a}", n)
    assert e.welfare == pytest.approx(kth_highest(a, n, 1, False), rel=1e-9)
    assert e.revenue == pytest.approx(kth_highest(a, n, 2, False), rel=1e-9)
    assert e.notes == ()


def test_reserve_and_mixture_with_a_slow_tail():
    a = 0.505
    # reserve 2: the winner pays max(2, 2nd highest) if the highest is >= 2;
    # E = int_0^inf Pr[pay > x] dx = 2 (1 - (1 - 2^-a)^2) + int_2^inf x^(-2a) dx
    e = parse_mechanism("spa:reserve=2").exact(Market.iid(parse_spec(f"pareto:shape={a}"), 2))
    assert e.revenue == pytest.approx(2 * (1 - (1 - 2 ** -a) ** 2) + 2 ** (1 - 2 * a) / (2 * a - 1), rel=1e-9)
    # half Pareto(a), half Uniform(0, 1): Pr[v >= x] = 1 - x/2 below 1, x^-a / 2 above; E[min of 2] = int sf^2
    e = spa(f"mixture:0.5*pareto(shape={a})+0.5*uniform()", 2)
    assert e.revenue == pytest.approx(7 / 12 + 0.25 / (2 * a - 1), rel=1e-9)


def test_scipy_power_tail_against_mpmath():
    # half-Cauchy: Pr[v >= x] = 1 - (2/pi) atan x, tail index 1; 2nd highest of 3 has index 2 (finite mean)
    sf = lambda x: 1 - 2 / mp.pi * mp.atan(x)  # noqa: E731
    expected = float(mp.quad(lambda x: 3 * sf(x) ** 2 - 2 * sf(x) ** 3, [0, 1, mp.inf]))
    e = spa("scipy:halfcauchy", 3)
    assert e.revenue == pytest.approx(expected, rel=1e-9)
    assert e.welfare == math.inf and any("infinite mean" in t for t in e.notes)


# -- non-convergence raises ------------------------------------------------------------------------------------

def test_integrate_raises_when_not_converged():
    with pytest.raises(QuadratureError) as info:
        integrate(lambda t: np.vstack([np.sin(1.0 / t)]), [1e-9, 1.0], max_panels=50)
    assert isinstance(info.value, InputError) and "did not converge" in str(info.value)


def test_integrate_keeps_finite_rows_exact_next_to_infinite_ones():
    out = integrate(lambda t: np.vstack([np.sin(t), np.full(t.shape, np.inf)]), [0.0, 3.0])
    assert out[0] == pytest.approx(1 - math.cos(3.0), rel=1e-13) and out[1] == math.inf


def test_exact_raises_instead_of_a_wrong_number(monkeypatch):
    monkeypatch.setattr(exact_mod, "integrate", functools.partial(integrate, max_panels=2))
    with pytest.raises(QuadratureError):
        spa("lognormal", 1000)


# -- light tails unchanged, and the Exact value type ---------------------------------------------------------

def test_light_tails_unchanged():
    e = spa("uniform", 2)
    assert e.revenue == pytest.approx(1 / 3, rel=1e-12) and e.notes == ()
    for n in (2, 5, 50):
        h = math.fsum(1.0 / k for k in range(1, n + 1))
        e = spa("exponential", n)
        assert e.welfare == pytest.approx(h, rel=1e-12)        # E[max of n Exp(1)] = H_n
        assert e.revenue == pytest.approx(h - 1.0, rel=1e-12)  # E[2nd highest] = H_n - 1
        assert e.notes == ()


def test_exact_notes_kept_by_scaled_and_add():
    e = spa("pareto:shape=0.5", 2)
    half = e.scaled(0.5)
    assert half.notes == e.notes and half.revenue == math.inf
    zero = e.scaled(0.0)
    assert zero.revenue == 0.0 and not math.isnan(zero.welfare)
    both = half + spa("uniform", 2)
    assert both.notes == e.notes and both.revenue == math.inf


def test_monopoly_reserve_of_a_tail_heavier_than_equal_revenue_is_an_error():
    """R(q) = q v(q) = q^(1 - 1/a) grows without bound as q -> 0 for Pareto a < 1: no price maximises it, so
    ``spa:reserve=monopoly`` is bad input (it used to resolve to q ~ 1e-15 and report a revenue of ~1e15)."""
    from distributions import Market
    from distributions.errors import InputError
    from mechanisms import parse_mechanism

    with pytest.raises(InputError) as info:
        parse_mechanism("spa:reserve=monopoly").exact(Market.iid("pareto:shape=0.5", 2))
    assert info.value.argument == "reserve"
    # a = 1: R is constant (= scale) on the support, q_m = 1, the reserve is the bottom of the support: plain SPA
    # revenue E[second highest of 2 Pareto(1)] = 2
    assert parse_mechanism("spa:reserve=monopoly").exact(Market.iid("pareto:shape=1", 2)).revenue == \
        pytest.approx(2.0, rel=1e-9)


@pytest.mark.parametrize("m", [600, 800])
def test_many_units_steep_order_weight(m):
    """Example 4.2 at n = 1000 with m = 600, 800 units (the Beta(m, n-m) weight underflows one tail step below
    its mass: the tail fit once failed with 'not a power law'): VCG revenue m E[v_(m+1)] = m int P[Bin(n, q(t))
    >= m+1] dt and welfare int E[min(m, Bin(n, q(t)))] dt by scipy, independently."""
    from scipy import integrate, stats

    n = 1000
    d = parse_spec("example42", n)
    top = float(d.v(1e-300))
    j = np.arange(m)

    def units(t):
        return m - np.sum((m - j) * stats.binom.pmf(j, n, float(d.sf(t))))

    pts = list(np.linspace(0, top, 50))
    rev = m * integrate.quad(lambda t: stats.binom.sf(m, n, float(d.sf(t))), 0, top, points=pts, limit=500)[0]
    wel = integrate.quad(units, 0, top, points=pts, limit=500)[0]
    x = parse_mechanism(f"vcg:m={m}").exact(Market.iid(d, n))
    assert x.revenue == pytest.approx(rev, rel=1e-9) and x.welfare == pytest.approx(wel, rel=1e-9)
