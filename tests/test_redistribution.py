"""Redistribution (slides 003_…): exact values against closed forms derived here for uniform [0, 1] values.

Order statistics of n uniforms: E[v_(k)] = (n+1-k)/(n+1) (the k-th highest), so E[v_(k) - v_(k+1)] = 1/(n+1).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from distributions import Market, parse_spec
from distributions.errors import InputError
from mechanisms.redistribution import partnership as P
from mechanisms.redistribution.cavallo import Cavallo
from mechanisms.redistribution.dagv import DAGV
from mechanisms.redistribution.green_laffont import GreenLaffont

U = parse_spec("uniform")


def top(n, k):
    """E[k-th highest of n uniforms] (0 beyond n)."""
    return (n + 1 - k) / (n + 1) if k <= n else 0.0


@pytest.mark.parametrize("n", [3, 5, 10])
def test_cavallo_uniform_closed_form(n):
    # VCG revenue E v_(2); rebates: agents 1, 2 get v_(3)/n, the n-2 others v_(2)/n
    redistributed = 2 * top(n, 3) / n + (n - 2) * top(n, 2) / n
    assert math.isclose(redistributed, (n - 2) / n, rel_tol=1e-14)  # the algebra: (n-2)/n exactly
    left = top(n, 2) - redistributed  # = (2/n) E[v_(2) - v_(3)] = 2 / (n (n+1))
    ex = Cavallo().exact(Market.iid(U, n))
    assert ex.redistributed == pytest.approx(redistributed, rel=1e-10)
    assert ex.budget_surplus == pytest.approx(left, rel=1e-9)
    assert ex.budget_surplus == pytest.approx(2 / (n * (n + 1)), rel=1e-9)
    assert ex.collected == pytest.approx(top(n, 2), rel=1e-10)
    assert ex.welfare == pytest.approx(top(n, 1), rel=1e-10) and ex.efficiency_loss == 0
    assert ex.per_agent_utility == pytest.approx((top(n, 1) - left) / n, rel=1e-10)


def test_cavallo_m_units_and_huge_n():
    n, m = 10, 3  # keeps m (m+1)/n E[v_(m+1) - v_(m+2)] = m (m+1) / (n (n+1))
    ex = Cavallo().exact(Market.iid(U, n, m))
    assert ex.budget_surplus == pytest.approx(m * (m + 1) / (n * (n + 1)), rel=1e-9)
    assert ex.welfare == pytest.approx(sum(top(n, k) for k in range(1, m + 1)), rel=1e-10)
    n = 1e30  # no cancellation: 2/(n(n+1)) ~ 2e-60
    assert Cavallo().exact(Market.iid(U, n)).budget_surplus == pytest.approx(2 / (n * (n + 1)), rel=1e-8)
    with pytest.raises(InputError):
        Cavallo().exact(Market.iid(U, 3, 3))


@pytest.mark.parametrize("n", [3, 5, 10])
def test_green_laffont_efficiency_loss(n):
    # the second highest gets the object with probability 1/n: loss E[v_(1) - v_(2)]/n = 1/(n (n+1))
    ex = GreenLaffont().exact(Market.iid(U, n))
    assert ex.efficiency_loss == pytest.approx(1 / (n * (n + 1)), rel=1e-9)
    assert ex.welfare == pytest.approx(top(n, 1) - 1 / (n * (n + 1)), rel=1e-10)
    assert ex.budget_surplus == 0.0
    assert ex.collected == pytest.approx((n - 2) / n * top(n, 2) + 2 / n * top(n, 3), rel=1e-10)


def test_spacing_of_heavy_n_matches_difference_for_exponential():
    # exponential: E[v_(1) - v_(2)] = 1 (Rényi), at any n, by the quantile integral (n > 50)
    from mechanisms.redistribution.base import expected_spacing

    E = parse_spec("exponential")
    assert expected_spacing(E, 1000, 1) == pytest.approx(1.0, rel=1e-9)
    assert expected_spacing(E, 1e30, 2) == pytest.approx(0.5, rel=1e-9)


def uniform_criterion(shares):
    """Σ W(v_i*) for uniform values: W(v) = (n-1)/(n(n+1)) - ((n-1)/n) v^n with v* = r^(1/(n-1))."""
    n = len(shares)
    return n * (n - 1) / (n * (n + 1)) - (n - 1) / n * sum(r ** (n / (n - 1)) for r in shares)


@pytest.mark.parametrize("shares, ok", [((0.5, 0.5), True), ((0.7, 0.3), True), ((0.8, 0.2), False),
                                        ((1.0, 0.0), False), ((1 / 3, 1 / 3, 1 / 3), True),
                                        ((1.0, 0.0, 0.0), False), ((0.0, 0.5, 0.5), True)])
def test_partnership_criterion_uniform(shares, ok):
    info = P.analyze(Market.partnership(U, shares))
    assert info.criterion == pytest.approx(uniform_criterion(shares), abs=1e-12)
    assert info.dissolvable is ok
    assert info.ir_margin == pytest.approx(info.criterion / len(shares), abs=1e-13)
    if shares[0] == 1.0:  # one owner (Myerson–Satterthwaite for n = 2): (n-1) ∫ F^(n-1)(F-1) = -(n-1)/(n(n+1))
        n = len(shares)
        assert info.criterion == pytest.approx(-(n - 1) / (n * (n + 1)), abs=1e-12)


def test_partnership_criterion_exponential_by_value_space_quadrature():
    # eq. (1) evaluated as printed on the slides (value space, scipy), n = 2, shares (0.6, 0.4)
    E = parse_spec("exponential")
    F, f = (lambda x: 1 - math.exp(-x)), (lambda x: math.exp(-x))
    g = f  # n = 2: G = F, g = f

    def W(v):
        a = integrate.quad(lambda x: (1 - F(x)) * x * g(x), v, math.inf, epsabs=1e-13)[0]
        b = integrate.quad(lambda x: F(x) * x * g(x), 0, v, epsabs=1e-13)[0]
        return a - b

    shares = (0.6, 0.4)
    expected = sum(W(-math.log(1 - r)) for r in shares)  # G(v*) = F(v*) = r
    assert P.analyze(Market.partnership(E, shares)).criterion == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("n", [2, 3])
def test_bidding_game_uniform(n):
    game = P.BiddingGame().bind(Market.partnership(U, (1 / n,) * n))
    assert game.expected_payment() == pytest.approx(n ** 2 / (n + 1) ** 2, rel=1e-10)  # E[n v_(1)/(n+1)]
    v = np.array([0.2, 0.5, 0.9])
    assert np.allclose(game.bid(v), n * v / (n + 1), atol=1e-10)  # b(v) = E[max of n | max <= v]
    for x in v:  # t(v) = G(v) b(v) (n-1)/n - (1/n) ∫_v^1 b(y) g(y) dy, by scipy here
        g = lambda y: (n - 1) * y ** (n - 2)  # noqa: E731
        direct = x ** (n - 1) * n * x / (n + 1) * (n - 1) / n \
            - integrate.quad(lambda y: n * y / (n + 1) * g(y), x, 1)[0] / n
        assert game.interim_payment(x) == pytest.approx(direct, abs=1e-11)
        assert game.interim_payment(x) == pytest.approx((n - 1) * ((n + 1) * x ** n - 1) / (n * (n + 1)), abs=1e-11)
    # its interim IR margin min_v [v G(v) - t(v) - v/n] equals CGK's (1/n) Σ W(v*) (same interim payoffs)
    grid = np.linspace(0.0, 1.0, 2001)
    margin = min(x ** n - (n - 1) * ((n + 1) * x ** n - 1) / (n * (n + 1)) - x / n for x in grid)
    assert margin == pytest.approx(uniform_criterion((1 / n,) * n) / n, abs=1e-6)
    with pytest.raises(InputError):
        P.BiddingGame().bind(Market.partnership(U, (0.7, 0.3)))


def test_dagv_transfers_one_profile_by_quadrature():
    n, dist = 4, parse_spec("exponential")
    F, f = (lambda x: 1 - math.exp(-x)), (lambda x: math.exp(-x))
    g = lambda y: (n - 1) * F(y) ** (n - 2) * f(y)  # noqa: E731  density of the others' maximum Y

    def r(v):  # E[Y 1{Y > v}], the proof's (unconditional) expected externality
        return integrate.quad(lambda y: y * g(y), v, math.inf, epsabs=1e-13, epsrel=1e-12)[0]

    profile = np.array([0.3, 1.2, 0.7, 2.5])
    rs = np.array([r(v) for v in profile])
    expected = rs - (rs.sum() - rs) / (n - 1)
    mech = DAGV().bind(Market.iid(dist, n))
    Q, T = mech.allocation_transfers(profile)
    assert np.allclose(T[0], expected, atol=1e-10, rtol=1e-10)
    assert Q[0].tolist() == [0, 0, 0, 1] and abs(T.sum()) < 1e-14
    # the slides' wording: E[Y | Y > v] = r(v) / (1 - G(v))
    cond = DAGV(conditional=True).bind(Market.iid(dist, n))
    assert np.allclose(cond.r(profile), rs / (1 - np.array([F(v) ** (n - 1) for v in profile])), rtol=1e-9)
    with pytest.raises(InputError):
        DAGV().bind(Market.iid("discrete:values=1/2,probs=.5/.5", 3))


def test_partnership_transfers_one_profile_and_expected_transfer():
    # T_i = c_i - K(v_i) + (1/(n-1)) Σ_{j≠i} K(v_j), K(v) = ∫_0^v x g(x) dx; uniform n = 3: K(v) = (2/3) v^3
    shares = (0.5, 0.3, 0.2)
    mech = P.PartnershipMechanism().bind(Market.partnership(U, shares))
    W = [1 / 6 - 2 / 3 * r ** 1.5 for r in shares]  # (n-1)/(n(n+1)) - ((n-1)/n) r^(n/(n-1)), n = 3
    c = [sum(W) / 3 - w for w in W]
    v = np.array([0.4, 0.9, 0.1])
    K = 2 / 3 * v ** 3
    expected = np.array(c) - K + (K.sum() - K) / 2
    _, T = mech.allocation_transfers(v)
    assert np.allclose(T[0], expected, atol=1e-12)
    assert np.allclose(mech.info.c, c, atol=1e-12)
