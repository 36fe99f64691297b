"""The bilateral-trade Pareto frontier (``mechanisms.trade.frontier``): closed forms for uniform traders, an LP
over discretised allocation rules, KS and Nash. Every expected value is computed here, independently."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.optimize import linprog

from distributions import parse_spec
from distributions.errors import InputError
from mechanisms.trade.frontier import TradeFrontier, iron

# grid error of the frontier (O(h^2) on its 4001-node grid; measured ~2e-7 on U(seller-offer))
TOL = 1e-6


@pytest.fixture(scope="module")
def uu():
    return TradeFrontier(parse_spec("uniform"), parse_spec("uniform"), max_points=30)


@pytest.fixture(scope="module")
def eu():
    return TradeFrontier(parse_spec("exponential"), parse_spec("uniform"), max_points=30)


def test_uniform_offer_mechanisms_closed_form(uu):
    # seller-offer: cost c posts p(c) = argmax (p - c)(1 - p) = (1 + c)/2; profit (1-c)^2/4, buyer (1-p)^2/2
    pi_star = integrate.quad(lambda c: (1 - c) ** 2 / 4, 0, 1)[0]  # = 1/12
    u_som = integrate.quad(lambda c: (1 - (1 + c) / 2) ** 2 / 2, 0, 1)[0]  # = 1/24
    assert pi_star == pytest.approx(1 / 12) and u_som == pytest.approx(1 / 24)
    som, bom = uu.seller_offer, uu.buyer_offer
    assert som.lam == 1.0 and bom.lam == 0.0
    assert uu.seller_max == pytest.approx(pi_star, abs=TOL)
    assert som.buyer_utility == pytest.approx(u_som, abs=TOL)
    # buyer-offer: v offers p(v) = v/2; by symmetry U* = 1/12, Π(buyer-offer) = 1/24
    assert uu.buyer_max == pytest.approx(pi_star, abs=TOL)
    assert bom.seller_utility == pytest.approx(u_som, abs=TOL)
    assert som.values.a == pytest.approx(1.0) and som.values.b == pytest.approx(0.0, abs=1e-4)


def test_uniform_second_and_first_best(uu):
    # Myerson-Satterthwaite: trade iff v - c >= 1/4; gains ∫_{1/4}^1 d (1 - d) dd = 9/64
    gains = integrate.quad(lambda d: d * (1 - d), 0.25, 1)[0]
    assert gains == pytest.approx(9 / 64)
    sb = uu.second_best
    assert sb.gains == pytest.approx(gains, abs=TOL)
    # the rule v - a(1 - v) >= c + b c with a = b: (1 + a)(v - c) >= a, so a / (1 + a) = 1/4, a = 1/3
    assert sb.values.a == pytest.approx(1 / 3, abs=1e-4) and sb.values.b == pytest.approx(1 / 3, abs=1e-4)
    assert sb.values.budget == pytest.approx(0.0, abs=TOL)
    assert uu.first_best == pytest.approx(1 / 6, abs=TOL)
    # symmetric market: KS = Nash = the second best, (9/128, 9/128)
    for kind in ("ks", "nash"):
        s = uu.solve(kind)
        assert s.seller_utility == pytest.approx(9 / 128, abs=TOL)
        assert s.buyer_utility == pytest.approx(9 / 128, abs=TOL)


def test_exponential_buyer_uniform_seller_offers(eu):
    # seller-offer: max_p (p - c) e^{-p} at p = 1 + c: Π* = E[e^{-1-c}] = e^{-1}(1 - e^{-1})
    assert eu.seller_max == pytest.approx(math.exp(-1) * (1 - math.exp(-1)), abs=TOL)
    # buyer-offer: v offers p = min(v/2, 1) to c ~ U[0, 1]: U* = E[(v - p) p]
    u_star = integrate.quad(lambda v: (v * v / 4 if v < 2 else v - 1) * math.exp(-v), 0, 60, points=[2])[0]
    assert eu.buyer_max == pytest.approx(u_star, abs=TOL)
    # Π(buyer-offer) = E[∫_0^p G] = E[p^2 / 2]
    pi_bom = integrate.quad(lambda v: min(v / 2, 1) ** 2 / 2 * math.exp(-v), 0, 60, points=[2])[0]
    assert eu.buyer_offer.seller_utility == pytest.approx(pi_bom, abs=TOL)


def test_frontier_is_decreasing_and_concave(eu):
    us = np.array([p.buyer_utility for p in eu.points])
    pis = np.array([p.seller_utility for p in eu.points])
    assert np.all(np.diff(us) > 0) and np.all(np.diff(pis) < 0)
    slopes = np.diff(pis) / np.diff(us)
    assert np.all(np.diff(slopes) <= 1e-6)
    # every point balances the budget (slack >= 0 handed to a side) and Π + U = its gains from trade
    for p in eu.points:
        assert p.values.budget >= 0
        assert p.gains == pytest.approx(p.values.gains, abs=1e-12)


# ---------------------------------------------------------------------- the LP over discretised rules
def _cells_uniform(n):
    e = np.linspace(0.0, 1.0, n + 1)
    mass = np.diff(e)
    mean = np.diff(e ** 2) / 2  # ∫_cell v dF
    rent_b = ((1 - e[:-1]) ** 2 - (1 - e[1:]) ** 2) / 2  # ∫_cell (1 - F(v)) dv
    rent_s = np.diff(e ** 2) / 2  # ∫_cell G(c) dc
    return mass, mean, rent_b, rent_s


def _cells_exponential(n):
    u = np.linspace(0.0, 1.0, n + 1)
    e = np.concatenate([-np.log1p(-u[:-1]), [np.inf]])
    sf = np.exp(-e)
    tail = np.concatenate([(e[:-1] + 1) * sf[:-1], [0.0]])  # ∫_e^inf v e^{-v} dv
    return -np.diff(sf), -np.diff(tail), -np.diff(sf), None


def _lp(buyer, seller, lam):
    """max λΠ + (1-λ)U over x constant on cells (continuous types): the interim X_i nondecreasing in v, Y_j
    nonincreasing in c (IC by the envelope formula), the worst types' utilities u_B, u_S >= 0 (IR), and the
    budget E[x(v - c)] - U - Π >= 0."""
    pf, mf, hb, _ = buyer
    pg, mg, _, hs = seller
    nb, ns = len(pf), len(pg)
    gains = np.outer(mf, pg) - np.outer(pf, mg)
    rb, rs = np.outer(hb, pg), np.outer(pf, hs)
    rows = []
    for i in range(nb - 1):
        r = np.zeros((nb, ns))
        r[i], r[i + 1] = pg, -pg
        rows.append(np.concatenate([r.ravel(), [0, 0]]))
    for j in range(ns - 1):
        r = np.zeros((nb, ns))
        r[:, j + 1], r[:, j] = pf, -pf
        rows.append(np.concatenate([r.ravel(), [0, 0]]))
    rows.append(np.concatenate([-(gains - rb - rs).ravel(), [1, 1]]))
    c = -np.concatenate([(lam * rs + (1 - lam) * rb).ravel(), [1 - lam, lam]])
    res = linprog(c, A_ub=np.array(rows), b_ub=np.zeros(len(rows)),
                  bounds=[(0, 1)] * (nb * ns) + [(0, None)] * 2, method="highs")
    assert res.status == 0
    return -res.fun


@pytest.mark.parametrize("name", ["uniform", "exponential"])
def test_lagrangian_optima_match_lp(name, uu, eu):
    """The LP over step rules is an inner approximation: it never beats the frontier's optimum, and its gap
    shrinks like 1/n^2 (n cells per side). λ = 1, 0 check Π* and U*, λ = 1/2 the second best."""
    fr, cells = (uu, _cells_uniform) if name == "uniform" else (eu, _cells_exponential)
    for lam in (1.0, 0.75, 0.5, 0.25, 0.0):
        mine = fr.point(lam).objective(lam)
        gap20 = mine - _lp(cells(20), _cells_uniform(20), lam)
        gap40 = mine - _lp(cells(40), _cells_uniform(40), lam)
        assert gap20 >= -1e-9 and gap40 >= -1e-9, (lam, gap20, gap40)
        assert gap40 <= 0.4 * gap20 + 1e-9 and gap40 <= 1.5e-4, (lam, gap20, gap40)


# ---------------------------------------------------------------------- solutions, ironing, errors
def test_nash_and_ks_on_the_frontier(eu):
    nash, ks = eu.solve("nash"), eu.solve("ks")
    # Nash: no point of the frontier (dense curve, chords between extreme points) has a larger product
    us, pis = eu.curve(2000)
    assert nash.seller_utility * nash.buyer_utility >= np.max(us * pis) - 1e-9
    # ... and it is on the frontier with the Nash normal: at λ = U/(Π + U) no IC, IR, BB mechanism beats it
    lam = nash.buyer_utility / nash.gains
    best = eu.point(lam).objective(lam)
    assert lam * nash.seller_utility + (1 - lam) * nash.buyer_utility == pytest.approx(best, abs=1e-9)
    # KS: on the ray to (Π*, U*) and on the frontier (a supporting line touches it)
    assert ks.seller_utility / eu.seller_max == pytest.approx(ks.buyer_utility / eu.buyer_max, abs=1e-9)
    lam = ks.low.lam
    assert ks.low.objective(lam) == pytest.approx(eu.point(lam).objective(lam), abs=1e-12)
    assert lam * ks.seller_utility + (1 - lam) * ks.buyer_utility == pytest.approx(ks.low.objective(lam), abs=1e-9)
    assert ks.gains <= eu.second_best.gains + 1e-9 and nash.gains <= eu.second_best.gains + 1e-9


def _brute_lower_hull(x, z):
    """The greatest convex minorant of the points (x, z) at each x, by walking the smallest slopes."""
    k, out = 0, [z[0]]
    while k < len(x) - 1:
        slopes = (z[k + 1:] - z[k]) / (x[k + 1:] - x[k])
        j = k + 1 + int(np.flatnonzero(slopes <= slopes.min() + 1e-15)[-1])
        out += [z[k] + (x[m] - x[k]) * slopes.min() for m in range(k + 1, j + 1)]
        k = j
    return np.array(out)


def test_iron_is_the_hull_slope():
    rng = np.random.default_rng(1)
    y, w = rng.normal(size=40), rng.uniform(0.1, 1.0, 40)
    x = np.concatenate([[0], np.cumsum(w)])
    z = np.concatenate([[0], np.cumsum(w * y)])
    out = iron(x, z, increasing=True)
    assert np.all(np.diff(out) >= -1e-12)
    assert np.allclose(np.concatenate([[0], np.cumsum(w * out)]), _brute_lower_hull(x, z), atol=1e-12)
    # concave (buyer) side: the mirror image
    assert np.allclose(iron(x, -z, increasing=False), -out, atol=1e-12)
    # already monotone: returned as is
    zs = np.concatenate([[0], np.cumsum(w * np.sort(y))])
    assert np.allclose(iron(x, zs, increasing=True), np.sort(y))


def test_iron_bridges_a_jump():
    # a seller curve s c(s) with a gap: c = 2s on [0, 1/2), then 3 + (s - 1/2) on [1/2, 1]; the node 1/2 twice
    t = np.array([0.0, 0.25, 0.5, 0.5, 0.75, 1.0])
    c = np.array([0.0, 0.5, 1.0, 3.0, 3.25, 3.5])
    out = iron(t, t * c, increasing=True)
    # the hull from (1/2, 1/2) bridges the jump to (1, 3.5): slope 6 on the zero-width step and after it
    assert out[:2] == pytest.approx([0.125 / 0.25, (0.5 - 0.125) / 0.25])
    assert out[2:] == pytest.approx([6.0, 6.0, 6.0])


def test_irregular_buyer_is_ironed():
    # a buyer with a gap in the support (R(q) jumps at q = 1/2: not regular, ψ must be ironed)
    F = parse_spec("mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=3;high=4)")
    fr = TradeFrontier(F, parse_spec("uniform"), max_points=10)
    pis = [p.seller_utility for p in fr.points]
    assert np.all(np.diff(pis) < 0)
    # seller-offer: price 3 earns (3 - c)/2 >= 1, any price below 1 earns at most 1/8: Π* = E[(3 - c)/2] = 5/4
    assert fr.seller_max == pytest.approx(1.25, abs=TOL)
    # buyer-offer: v offers p = min(v/2, 1) to c ~ U[0, 1]: U* = (1/2) E[v^2/4 | v < 1] + (1/2)(E[v | v > 3] - 1)
    assert fr.buyer_max == pytest.approx(0.5 / 12 + 0.5 * 2.5, abs=TOL)


def test_irregular_seller_is_ironed():
    # a seller cost with a gap (c ~ U[0, 1] or U[3, 4], each with probability 1/2) facing a buyer v ~ U[4, 5]
    fr = TradeFrontier(parse_spec("uniform:low=4,high=5"),
                       parse_spec("mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=3;high=4)"), max_points=10)
    # buyer-offer: v offers p = 1 ((v-1)/2 beats the best p in [3, 4], (v-2)^2/8): U* = E[(v - 1)/2] = 7/4
    assert fr.buyer_max == pytest.approx(1.75, abs=TOL)
    # seller-offer: c < 1 posts 4 (profit 4 - c); c in [3, 4] posts (5 + c)/2 (profit (5 - c)^2/4)
    pi_star = 0.5 * 3.5 + 0.5 * integrate.quad(lambda c: (5 - c) ** 2 / 4, 3, 4)[0]
    assert fr.seller_max == pytest.approx(pi_star, abs=TOL)


def test_discrete_buyer_atoms_and_gaps():
    # v in {1, 2, 3} w.p. .2, .3, .5 against c ~ U[0, 3]
    fr = TradeFrontier(parse_spec("discrete:values=1/2/3,probs=.2/.3/.5"), parse_spec("uniform:high=3"),
                       max_points=10)
    # seller-offer: price 2 earns .8 (2 - c), price 3 earns .5 (3 - c), price 1 earns 1 - c: 2 for c < 1/3
    pi_star = (integrate.quad(lambda c: 0.8 * (2 - c), 0, 1 / 3)[0]
               + integrate.quad(lambda c: 0.5 * (3 - c), 1 / 3, 3)[0]) / 3
    assert fr.seller_max == pytest.approx(pi_star, abs=TOL)
    # buyer-offer: v offers p = v/2 to c ~ U[0, 3] and keeps (v - p) p / 3 = v^2 / 12
    assert fr.buyer_max == pytest.approx((0.2 * 1 + 0.3 * 4 + 0.5 * 9) / 12, abs=TOL)


def test_agrees_with_the_offer_and_second_best_mechanisms():
    """The frontier's ends and λ = 1/2 against ``mechanisms.trade`` (seller-offer, buyer-offer, second best:
    another implementation, by quadrature with threshold payments)."""
    offers = pytest.importorskip("mechanisms.trade.offers")
    second_best = pytest.importorskip("mechanisms.trade.second_best")
    from distributions import Market

    F, G = parse_spec("weibull:shape=2"), parse_spec("truncnorm:mean=1,sd=0.5")
    fr, market = TradeFrontier(F, G, max_points=2), Market.trade(F, G)
    som, bom = offers.SellerOffer().exact(market), offers.BuyerOffer().exact(market)
    assert fr.seller_max == pytest.approx(som.seller_utility, abs=TOL)
    assert fr.seller_offer.buyer_utility == pytest.approx(som.buyer_utility, abs=TOL)
    assert fr.buyer_max == pytest.approx(bom.buyer_utility, abs=TOL)
    assert fr.buyer_offer.seller_utility == pytest.approx(bom.seller_utility, abs=TOL)
    a, rule = second_best.SecondBest().solve(market)
    assert fr.second_best.gains == pytest.approx(rule.exact().gains, abs=TOL)
    assert fr.second_best.values.a == pytest.approx(a, abs=1e-4)


def test_no_gains_from_trade_is_an_input_error():
    with pytest.raises(InputError, match="no gains from trade"):
        TradeFrontier(parse_spec("uniform:low=0,high=1"), parse_spec("uniform:low=2,high=3"))
    with pytest.raises(InputError):
        TradeFrontier(parse_spec("uniform"), parse_spec("uniform"), max_points=2).solve("median")
