"""The (revenue, surplus) frontier of several buyer classes against a Border-type LP, and its KS point.

The LP (written here, importing nothing from ``mechanisms``): one buyer per class, interim allocations x_k
piecewise constant on a quantile grid, non-increasing, in [0, 1], and Border's condition for asymmetric buyers
on every pair of top sets: ∫_0^{a_1} x_1 + ∫_0^{a_2} x_2 <= 1 - (1 - a_1)(1 - a_2). Its objective
(1-θ)Π + θU = Σ_k ∫ x_k dC_k, C_k = θ V_k + (1 - 2θ) R_k (Π = ∫ x dR, U = ∫ x dS, S = V - R;
textbook §5.2).
A grid optimum is a lower bound of the true optimum that converges as the grid is refined.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from distributions import Market
from distributions.errors import InputError
from mechanisms import LagrangianOptimal, Myerson, parse_mechanism
from mechanisms.classes.frontier import class_frontier

#: closed forms (V(q) = ∫_0^q v, R(q) = q v(q)) of the two laws used
CURVES = {
    "uniform:low=0,high=1": (lambda q: q - q * q / 2, lambda q: q * (1 - q)),
    "uniform:low=0,high=2": (lambda q: 2 * (q - q * q / 2), lambda q: 2 * q * (1 - q)),
    "exponential": (lambda q: q - q * np.log(np.where(q > 0, q, 1.0)), lambda q: -q * np.log(np.where(q > 0, q, 1.0))),
}


def border_lp(specs, theta: float, cells: int = 24) -> float:
    """max (1-θ)Π + θU over step interim allocations of two single buyers (module doc)."""
    g = np.unique(np.concatenate([np.linspace(0, 1, cells + 1), np.geomspace(1e-4, 1, 9)]))
    K = len(g) - 1
    dq = np.diff(g)
    cost = []
    for spec in specs:
        V, R = CURVES[spec]
        C = theta * V(g) + (1 - 2 * theta) * R(g)
        cost.append(-np.diff(C))
    # variables: x_1 (K), x_2 (K)
    cum = np.tril(np.ones((K, K))) * dq[None, :]  # row i: ∫_0^{g_{i+1}} x
    rows = [np.hstack([np.repeat(cum, K, axis=0), np.tile(cum, (K, 1))])]
    a1, a2 = np.repeat(g[1:], K), np.tile(g[1:], K)
    rhs = [1 - (1 - a1) * (1 - a2)]
    for k in range(2):  # single-set conditions ∫_0^a x_k <= a and monotonicity x_{k,i+1} <= x_{k,i}
        mono = np.zeros((K - 1, 2 * K))
        mono[np.arange(K - 1), k * K + np.arange(K - 1)] = -1
        mono[np.arange(K - 1), k * K + np.arange(1, K)] = 1
        rows.append(mono)
        rhs.append(np.zeros(K - 1))
    res = optimize.linprog(np.concatenate(cost), A_ub=np.vstack(rows), b_ub=np.concatenate(rhs),
                           bounds=[(0, 1)] * (2 * K), method="highs")
    assert res.status == 0, res.message
    return -float(res.fun)


@pytest.mark.parametrize("specs", [("uniform:low=0,high=1", "uniform:low=0,high=2"),
                                   ("uniform:low=0,high=1", "exponential")])
def test_lagrangian_optimum_against_border_lp(specs):
    market = Market.of((specs[0], 1), (specs[1], 1))
    for theta in (0.0, 0.4):
        lam = theta / (1 - theta)
        e = LagrangianOptimal(lam).exact(market)
        exact = (1 - theta) * e.revenue + theta * e.surplus
        lp = border_lp(specs, theta)
        assert lp <= exact + 1e-9, (theta, lp, exact)  # nothing feasible beats the Lagrangian optimum
        finer = border_lp(specs, theta, cells=48)  # a grid containing the first one
        assert lp - 1e-12 <= finer <= exact + 1e-9
        assert exact - finer < 3e-4 * abs(exact), (theta, finer, exact)  # the grid optimum comes close
        assert exact - finer < 0.5 * (exact - lp)  # ... and closer on the finer grid (~1/cells^2)


def test_frontier_and_ks_two_uniforms():
    market = Market.of(("uniform:low=0,high=1", 1), ("uniform:low=0,high=2", 1))
    fr = class_frontier(market)
    assert fr.revenue_max == pytest.approx(31 / 48, rel=1e-10)  # Myerson, (5.16)
    assert fr.surplus_max == pytest.approx(1.0, rel=1e-9)  # U* = E[v_2]: the strong buyer served for free
    us = [p.surplus for p in fr.points]
    pis = [p.revenue for p in fr.points]
    assert np.all(np.diff(us) > 0) and np.all(np.diff(pis) < 0)
    # concave: every point on or above the chord of its neighbours
    for a, b, c in zip(fr.points, fr.points[1:], fr.points[2:]):
        chord = a.revenue + (c.revenue - a.revenue) * (b.surplus - a.surplus) / (c.surplus - a.surplus)
        assert b.revenue >= chord - 1e-12
    ks = fr.ks()
    assert ks["revenue"] / fr.revenue_max == pytest.approx(ks["surplus"] / fr.surplus_max, rel=1e-12)
    assert fr.revenue_at(ks["surplus"]) == pytest.approx(ks["revenue"], rel=1e-12)
    mech = parse_mechanism("ks", market)
    e = mech.exact(market)
    assert (e.revenue, e.surplus) == pytest.approx((ks["revenue"], ks["surplus"]), rel=1e-12)
    # an inner approximation within its reported gap: at the weight of the KS segment's chord, M*_θ is not
    # above the chord
    a = next(p for p in fr.points if p.lam == ks["lambda_low"])
    b = next(p for p in fr.points if p.lam == ks["lambda_high"])
    theta = (a.revenue - b.revenue) / ((a.revenue - b.revenue) + (b.surplus - a.surplus))
    best = LagrangianOptimal(theta / (1 - theta)).exact(market)
    gain = (1 - theta) * best.revenue + theta * best.surplus - a.objective(theta)
    assert -1e-12 <= gain <= max(fr.gap, 1e-5 * fr.scale) + 1e-12
    assert Myerson().exact(market).revenue == fr.revenue_max
    with pytest.raises(InputError):
        parse_mechanism("cross-nash", market)


def test_ks_two_uniforms_against_closed_form():
    """For λ <= 1 M*_λ on U[0,1] and U[0,2] scores (2-λ) v - (1-λ) h_k (no ironing): with δ = (1-λ)/(2-λ)
    buyer 1 takes part above δ and wins when v_2 < v_1 + δ; buyer 2 above 2δ and wins when v_1 < v_2 - δ.
    Π = Σ E[ψ_k x_k], U = Σ ∫ x_k (1 - F_k) (textbook (5.12) and the payment identity); KS solves
    Π(δ)/Π* = U(δ)/U*, Π* = 31/48, U* = 1."""
    from scipy import integrate as si
    from scipy import optimize as so

    def q(f, a, b, points=None):
        return si.quad(f, a, b, points=points, epsabs=1e-15, epsrel=1e-13)[0]

    def values(d):
        pi = q(lambda v: (2 * v - 1) * (v + d) / 2, d, 1) + q(lambda v: (v - 1) * min(v - d, 1), 2 * d, 2, [1 + d])
        u = q(lambda v: (1 - v) * (v + d) / 2, d, 1) + q(lambda v: (1 - v / 2) * min(v - d, 1), 2 * d, 2, [1 + d])
        return pi, u

    assert values(0.5) == pytest.approx((31 / 48, 13 / 48), rel=1e-12)  # Myerson
    d = so.brentq(lambda d: values(d)[0] / (31 / 48) - values(d)[1], 0.0, 0.5, xtol=1e-15)
    ratio = values(d)[1]
    market = Market.of(("uniform:low=0,high=1", 1), ("uniform:low=0,high=2", 1))
    ks = class_frontier(market).ks()
    assert ks["gap"] <= 1e-9
    assert ks["ratio"] == pytest.approx(ratio, rel=1e-8)
    assert ks["ratio"] - 1e-11 <= ratio <= ks["ratio_upper"] + 1e-11  # the certificate brackets the truth
    lam = (1 - 2 * d) / (1 - d)
    assert ks["lambda_low"] <= lam * (1 + 1e-6) and lam <= ks["lambda_high"] * (1 + 1e-6)


def test_frontier_of_one_point():
    """1e30 Pareto(1.5) buyers and 2 exponentials (who never matter): Myerson and the surplus optimum are both
    second price, so the frontier is one point and KS is it. For n i.i.d. Pareto(α, 1) E[X_(n-1:n)] =
    Γ(n+1) Γ(2 - 1/α) / Γ(n+1-1/α) = n^{1/α} Γ(2 - 1/α) (1 + O(1/n)) and E[max] = n^{1/α} Γ(1 - 1/α) (1 + O(1/n))."""
    market = Market.of(("pareto:shape=1.5", 1e30), ("exponential", 2))
    revenue = 1e20 * math.gamma(4 / 3)
    surplus = 1e20 * (math.gamma(1 / 3) - math.gamma(4 / 3))
    e = parse_mechanism("ks", market).exact(market)
    assert (e.revenue, e.surplus) == pytest.approx((revenue, surplus), rel=1e-9)
    assert class_frontier(market).ks()["ratio"] == pytest.approx(1.0, rel=1e-12)
