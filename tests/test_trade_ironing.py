"""Ironing in bilateral trade (issue 16): the Myerson–Satterthwaite second best and the offer mechanisms for
traders that are not regular (gaps, atoms). Expected values come from closed forms, from an independent
semi-analytic second best written here (its own ironing by the tangent construction, scipy quad and brentq),
from a linear programme over discretised allocation rules (no ironing at all: the LP finds it), and from H3's
grid frontier at λ = 1/2; simulations check IR on every draw and the budget's mean (|z| < 4)."""
import numpy as np
import pytest
from scipy import integrate, optimize, sparse
from scipy.optimize import linprog

from distributions import Market, parse_spec
from mechanisms.trade.frontier import TradeFrontier
from mechanisms.trade.offers import BuyerOffer, SellerOffer
from mechanisms.trade.second_best import SecondBest
from mechanisms.trade.virtual import weighted_virtual
from simulator.families.trade import simulate_trade

# v ~ U[0, 1] or U[2, 3] with probability 1/2 each: a gap (1, 2), so R(q) = q v(q) drops at q = 1/2
BIMODAL = parse_spec("mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)")
UNIFORM = parse_spec("uniform")
GAP_MARKET = Market.trade(BIMODAL, UNIFORM)
DISCRETE = parse_spec("discrete:values=1/2/3,probs=.2/.3/.5")


# ---------------------------------------------------------------------- the ironed virtual value
def test_bimodal_virtual_value_is_ironed_over_the_gap():
    # ψ = 2v - 3 on [2, 3] (1 - F = (3 - v)/2, f = 1/2), 2v - 2 on [0, 1]; R(q) = q(3 - 2q) rises to 1 at q = 1/2,
    # then drops to q·2(1 - q): the concave hull runs from (1/2, 1) to (1, 0), slope -2, over all low values
    psi = weighted_virtual(BIMODAL, "buyer", 1.0)
    assert not psi.regular
    assert psi.levels == pytest.approx([-2.0], abs=1e-12)
    assert psi.at_value(np.array([0.0, 0.3, 0.99])) == pytest.approx([-2.0] * 3, abs=1e-12)
    assert psi.at_value(np.array([2.25, 2.5, 3.0])) == pytest.approx([1.5, 2.0, 3.0], abs=1e-12)
    assert psi.at_quantile(np.array([0.2, 0.7])) == pytest.approx([2 * 2.6 - 3, -2.0], abs=1e-12)
    # a small weight a: the hull leaves the curve from the top of the gap (1/2, Y(1/2)) to a tangent point q2
    # on the low branch, where φ_a(v) = v - a(2 - v) equals the chord's slope
    a = 0.05
    phi = weighted_virtual(BIMODAL, "buyer", a)

    def Y(q):  # (1 - a) V + a R, the value function v(q) = 3 - 2q, then 2 - 2q
        V = 3 * q - q * q if q <= 0.5 else 1.25 + 2 * (q - 0.5) - (q * q - 0.25)
        return (1 - a) * V + a * q * (3 - 2 * q if q <= 0.5 else 2 - 2 * q)

    def tangent(q2):
        v = 2 - 2 * q2
        return Y(q2) - Y(0.5) - (v - a * (2 - v)) * (q2 - 0.5)
    q2 = optimize.brentq(tangent, 0.5 + 1e-9, 1.0, xtol=1e-15)
    level = (2 - 2 * q2) - a * (2 - (2 - 2 * q2))
    assert phi.quantiles[0] == pytest.approx([0.5], abs=1e-12)
    assert phi.quantiles[1] == pytest.approx([q2], abs=1e-7)  # the refined end (~3e-5 of a grid cell)
    assert phi.levels == pytest.approx([level], abs=1e-12)


# ---------------------------------------------------------------------- independent second best
def semi_analytic_second_best():
    """a, gains, buyer utility for BIMODAL against U[0, 1]: the rule φ̄_a(v) >= (1 + a) c, φ̄_a ironed on
    [v2, 1] ∪ gap by the tangent from the top of the gap; budget by the payment identity with U(0) = 0,
    E[U] = ∫ X̃(u) (1 - F(u)) du where X̃ = X(1) on the gap (the threshold sits at its top); quad + brentq."""
    def ironed(a):
        def Y(q):
            V = 3 * q - q * q if q <= 0.5 else 1.25 + 2 * (q - 0.5) - (q * q - 0.25)
            return (1 - a) * V + a * q * (3 - 2 * q if q <= 0.5 else 2 - 2 * q)

        def g(q2):
            v = 2 - 2 * q2
            return Y(q2) - Y(0.5) - (v - a * (2 - v)) * (q2 - 0.5)
        v2 = 2 - 2 * optimize.brentq(g, 0.5 + 1e-12, 1.0, xtol=1e-15)
        return v2, v2 - a * (2 - v2)

    def values(a):
        v2, level = ironed(a)

        def X(v):  # Pr[trade | v] = the cost threshold c*(v) = φ̄(v) / (1 + a), clipped to [0, 1]
            phi = level if v2 <= v <= 2 else (v - a * (3 - v) if v >= 2 else v - a * (2 - v))
            return min(max(phi / (1 + a), 0.0), 1.0)

        def quad(f, lo, hi, pts=None):
            return integrate.quad(f, lo, hi, points=pts, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
        parts = [(0.0, 1.0, [v2]), (2.0, 3.0, None)]
        ev = sum(quad(lambda v: 0.5 * v * X(v), *p) for p in parts)
        ec = sum(quad(lambda v: 0.5 * X(v) ** 2 / 2, *p) for p in parts)  # E[C; C <= c*] = c*^2 / 2
        eu = quad(lambda u: X(u) * (1 - u / 2), 0, 1, [v2]) + X(1.0) * 0.5 + quad(lambda u: X(u) * (3 - u) / 2, 2, 3)
        receives = sum(quad(lambda v: 0.5 * X(v) ** 2, *p) for p in parts)  # E[γ(C); C <= c*], γ = 2c
        return ev - ec, eu, (ev - eu) - receives
    a = optimize.brentq(lambda a: values(a)[2], 0.01, 0.2, xtol=1e-14)
    gains, buyer_utility, _ = values(a)
    return a, gains, buyer_utility


def test_second_best_with_a_gap_matches_an_independent_computation():
    sb = SecondBest()
    a, rule = sb.solve(GAP_MARKET)
    ex = sb.exact(GAP_MARKET)
    assert rule.ironed and abs(ex.budget) < 1e-12  # budget exactly 0 in expectation
    a_ref, gains, buyer_utility = semi_analytic_second_best()
    assert a == pytest.approx(a_ref, abs=1e-9)
    assert ex.gains == pytest.approx(gains, abs=1e-10)
    assert ex.buyer_utility == pytest.approx(buyer_utility, abs=1e-10)
    assert ex.seller_utility == pytest.approx(gains - buyer_utility, abs=1e-10)


def lp_second_best(q, v, V, s, c, C):
    """max E[(v - c) x] over allocations x constant on the cells of the buyer's grid q (values v(q) left-
    continuous, V = ∫ v) and the seller's grid s = G(c) (C = ∫ c), subject to interim monotonicity (IC) and the
    payment identity's budget Σ x (ΔR Δs - Δq Δ(s c)) >= 0 with U(v̲) = Π(c̄) = 0 (IR); exact for such rules."""
    R, SC = q * v, s * c
    n, m = len(q) - 1, len(s) - 1
    dq, ds = np.diff(q), np.diff(s)
    gain = np.outer(np.diff(V), ds) - np.outer(dq, np.diff(C))
    budget = np.outer(np.diff(R), ds) - np.outer(dq, np.diff(SC))

    def steps(k):
        return sparse.diags([np.ones(k - 1), -np.ones(k - 1)], [0, 1], shape=(k - 1, k))
    A = sparse.vstack([-sparse.kron(steps(n), ds[None, :]), -sparse.kron(dq[None, :], steps(m)),
                       -sparse.csr_matrix(budget.ravel()[None, :])]).tocsr()
    res = linprog(-gain.ravel(), A_ub=A, b_ub=np.zeros(A.shape[0]), bounds=(0, 1), method="highs")
    assert res.status == 0
    return -res.fun


def gap_lp(n):
    q = np.linspace(0.0, 1.0, n + 1)  # q = 1/2, the gap, is a node (n even)
    v = np.where(q <= 0.5, 3 - 2 * q, 2 - 2 * q)
    V = np.where(q <= 0.5, 3 * q - q * q, 1.25 + 2 * (q - 0.5) - (q * q - 0.25))
    s = np.linspace(0.0, 1.0, n + 1)
    return lp_second_best(q, v, V, s, s, s * s / 2)


def test_second_best_with_a_gap_against_an_lp_and_the_frontier():
    ex = SecondBest().exact(GAP_MARKET)
    coarse, fine = gap_lp(40), gap_lp(80)
    # every LP solution is a feasible mechanism: never above the optimum; its error is O(h^2) (4.8e-5, 1.2e-5)
    assert coarse <= ex.gains + 1e-12 and fine <= ex.gains + 1e-12
    assert fine + (fine - coarse) / 3 == pytest.approx(ex.gains, abs=2e-6)  # Richardson: measured 4e-7
    # H3's grid frontier at λ = 1/2: its staircase snaps the seller's side to grid nodes, uniformly over an
    # ironed interval, so its error is O(h) there (1.1e-5 in gains, 1.5e-5 in a on 4001 nodes; 3e-6, 5e-6 on
    # 16001), not the O(h^2) of regular traders
    point = TradeFrontier(BIMODAL, UNIFORM, max_points=2).second_best
    assert point.gains == pytest.approx(ex.gains, abs=3e-5)
    assert point.gains <= ex.gains + 1e-12
    assert point.values.a == pytest.approx(float(ex.notes[0].split("=")[1]), abs=3e-5)
    assert point.buyer_utility == pytest.approx(ex.buyer_utility, abs=3e-4)


def test_second_best_with_a_gap_is_ir_on_every_draw_and_dominant_strategy_ic():
    sb = SecondBest()
    ex = sb.exact(GAP_MARKET)
    res = simulate_trade([sb], GAP_MARKET, samples=300_000, seed=11)
    for metric in ("buyer_utility", "seller_utility", "gains", "trade", "budget"):
        assert abs(res.z(sb.name, metric)) < 4, metric
    assert res.minimum(sb.name, "buyer_utility") >= -1e-12 and res.minimum(sb.name, "seller_utility") >= -1e-12
    assert res.maximum(sb.name, "budget") > 0.1  # balanced in expectation, not draw by draw
    assert ex.budget == 0.0 or abs(ex.budget) < 1e-12
    # dominant-strategy IC: no misreport beats the truth, for the buyer (v' against c) and the seller
    rng = np.random.default_rng(5)
    v, c = BIMODAL.sample(400, rng), UNIFORM.sample(400, rng)
    _, rule = sb.solve(GAP_MARKET)
    truth = rule.outcome(v, c)
    for lie in np.concatenate([np.linspace(0, 3, 31), [0.99, 1.0, 1.5, 2.0, 2.01]]):
        liar = np.full_like(v, lie)
        out = rule.outcome(liar, c)
        assert np.all(np.where(out["trade"] > 0, v, 0.0) - out["buyer_pays"] <= truth["buyer_utility"] + 1e-12)
        out = rule.outcome(v, np.full_like(c, lie / 3))
        assert np.all(out["seller_receives"] - np.where(out["trade"] > 0, c, 0.0) <= truth["seller_utility"] + 1e-12)


# ---------------------------------------------------------------------- atoms
def test_offers_with_atoms_by_closed_forms():
    # H3's instance: v in {1, 2, 3} w.p. .2, .3, .5 against c ~ U[0, 3]; the seller posts 2 for c < 1/3, else 3
    so = SellerOffer().exact(Market.trade(DISCRETE, parse_spec("uniform:high=3")))
    pi = (integrate.quad(lambda c: 0.8 * (2 - c), 0, 1 / 3)[0]
          + integrate.quad(lambda c: 0.5 * (3 - c), 1 / 3, 3)[0]) / 3
    u = (integrate.quad(lambda c: 0.5 * 1, 0, 1 / 3)[0]) / 3  # v = 3 buys at 2: surplus 1
    assert (so.seller_utility, so.buyer_utility, so.budget) == pytest.approx((pi, u, 0.0), abs=1e-12)
    # the mirror: a buyer v ~ U[0, 3] offers p in {1, 2, 3} to the discrete seller, max (v - p) Pr[C <= p]
    bo = BuyerOffer().exact(Market.trade(parse_spec("uniform:high=3"), DISCRETE))
    u = integrate.quad(lambda v: max(0.0, 0.2 * (v - 1), 0.5 * (v - 2)), 0, 3, points=[1, 2, 8 / 3])[0] / 3
    assert bo.buyer_utility == pytest.approx(u, abs=1e-12)


def test_second_best_with_atoms_against_an_lp():
    market = Market.trade(DISCRETE, parse_spec("uniform:high=3"))
    ex = SecondBest().exact(market)
    assert abs(ex.budget) < 1e-12

    def lp(n):  # buyer cells inside the atoms (q in [0, .5]: 3, [.5, .8]: 2, [.8, 1]: 1); seller c = 3 G
        q = np.linspace(0.0, 1.0, n + 1)
        v = np.where(q <= 0.5, 3.0, np.where(q <= 0.8, 2.0, 1.0))
        V = np.where(q <= 0.5, 3 * q, np.where(q <= 0.8, 1.5 + 2 * (q - 0.5), 2.1 + (q - 0.8)))
        s = np.linspace(0.0, 1.0, n + 1)
        return lp_second_best(q, v, V, s, 3 * s, 1.5 * s * s)
    # the LP's feasible mechanisms approach the optimum from below (gaps 2.1e-4, 3.5e-5, 1.1e-5 for n = 40, 80,
    # 160: the trade boundaries are vertical lines in c that its grid snaps to, so not cleanly O(h^2))
    values = [lp(n) for n in (40, 160)]
    assert all(x <= ex.gains + 1e-12 for x in values)
    assert ex.gains - values[-1] < 2e-5 and values[0] < values[-1]


def test_second_best_randomises_where_the_budget_jumps():
    # both traders discrete: the budget jumps across 0 at a ~ 0 and the second best is a lottery between the
    # two rules; here it reaches the first best E[(V - C)^+] = Σ p_i p_j (v_i - v_j)^+
    market = Market.trade(DISCRETE, DISCRETE)
    p = {1: 0.2, 2: 0.3, 3: 0.5}
    first_best = sum(p[x] * p[y] * (x - y) for x in p for y in p if x > y)
    sb = SecondBest()
    ex = sb.exact(market)
    _, _, low, nu = sb.mixture(market)
    assert low is not None and 0 < nu < 1
    assert ex.gains == pytest.approx(first_best, abs=1e-12) and abs(ex.budget) < 1e-12
    res = simulate_trade([sb], market, samples=100_000, seed=2)
    assert abs(res.z(sb.name, "budget")) < 4 and abs(res.z(sb.name, "buyer_utility")) < 4
    assert res.minimum(sb.name, "buyer_utility") >= -1e-12 and res.minimum(sb.name, "seller_utility") >= -1e-12


def test_seller_side_ironing_mirrors_the_buyer_side():
    # v -> 3 - c maps the buyer BIMODAL against c ~ U[0, 1] onto the buyer U[2, 3] against the seller 3 - V, whose
    # law is BIMODAL again: the same second best with the two sides' utilities swapped
    mirror = Market.trade(parse_spec("uniform:low=2,high=3"), BIMODAL)
    ex, mx = SecondBest().exact(GAP_MARKET), SecondBest().exact(mirror)
    assert SecondBest().solve(mirror)[1].seller.levels.size  # ironed on the seller's side
    assert (mx.gains, mx.buyer_utility, mx.seller_utility, mx.trade) == pytest.approx(
        (ex.gains, ex.seller_utility, ex.buyer_utility, ex.trade), abs=1e-10)
    assert abs(mx.budget) < 1e-12
