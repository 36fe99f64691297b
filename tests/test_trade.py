"""Bilateral trade (issue 16, textbook 004 §5.3, paper Appendix D.4): closed forms for two uniform traders on
[0, 1] computed here, an exponential buyer against a uniform seller checked by scipy's dblquad, atoms and
mixtures by hand, and the Monte Carlo estimates inside their CIs (|z| < 4) with AGV's budget 0 on every draw."""
import math

import numpy as np
import pytest
from scipy import integrate, optimize

from distributions import Market, parse_spec
from distributions.errors import InputError
from mechanisms.trade.agv import AGV, prop56
from mechanisms.trade.double_auction import DoubleAuction
from mechanisms.trade.offers import BuyerOffer, SellerOffer
from mechanisms.trade.outcome import METRICS
from mechanisms.trade.posted import PostedPrice, best_price
from mechanisms.trade.second_best import SecondBest, trade_rule
from mechanisms.trade.spec import parse_trade_mechanism
from mechanisms.trade.vcg import VCG
from simulator.families.trade import simulate_trade

UNIFORM = Market.trade(parse_spec("uniform"), parse_spec("uniform"))
EXP_UNIF = Market.trade(parse_spec("exponential:rate=1"), parse_spec("uniform"))


def dbl(f, lo=lambda c: 0.0, v_hi=1.0):
    """E[f(V, C) 1{V >= lo(C)}] for V ~ U[0, 1] (or Exp(1) with v_hi = inf) and C ~ U[0, 1], by scipy's
    dblquad over the region (its inner limit follows the trade boundary, so the integrand is smooth)."""
    top = 60.0 if math.isinf(v_hi) else v_hi
    dens = (lambda v: math.exp(-v)) if math.isinf(v_hi) else (lambda v: 1.0)
    val, err = integrate.dblquad(lambda v, c: f(v, c) * dens(v), 0, 1, lambda c: min(max(lo(c), 0.0), top),
                                 top, epsabs=1e-13, epsrel=1e-12)
    assert err < 1e-10
    return val


# ---------------------------------------------------------------------- uniform [0, 1] closed forms
def test_vcg_first_best_gains_and_deficit_are_one_sixth():
    ex = VCG().exact(UNIFORM)
    gains = 1 / 2 - 1 / 3  # ∫∫_{v >= c} (v - c) = E[V 1{V>=C}] - E[C 1{C<=V}] = ∫v^2 - ∫c(1-c)
    assert ex.gains == pytest.approx(gains, abs=1e-12) and gains == pytest.approx(1 / 6)
    assert ex.budget == pytest.approx(-1 / 6, abs=1e-12)  # deficit = gains when both sides share [0, 1]
    assert ex.trade == pytest.approx(0.5, abs=1e-12)
    assert ex.buyer_pays == pytest.approx(1 / 6, abs=1e-12)  # E[C; C <= V] = ∫ c (1 - c) dc
    assert ex.seller_receives == pytest.approx(1 / 3, abs=1e-12)  # E[V; V >= C] = ∫ v^2 dv


def test_second_best_trades_iff_v_minus_c_at_least_a_quarter_with_gains_9_64():
    a, rule = SecondBest().solve(UNIFORM)
    # (1+a)(v - c) >= a with budget 0: ∫_δ^1 (2d - 1)(1 - d) dd = 0 at δ = a/(1+a) = 1/4
    assert a == pytest.approx(1 / 3, abs=1e-10)
    c = np.array([0.0, 0.1, 0.4, 0.7])
    assert rule.threshold(c) == pytest.approx(c + 0.25, abs=1e-12)
    v = np.array([0.3, 0.6, 1.0])
    assert rule.critical_cost(v) == pytest.approx(v - 0.25, abs=1e-12)
    assert np.isinf(rule.threshold(np.array([0.8]))[0]) and np.isneginf(rule.critical_cost(np.array([0.2]))[0])
    ex = SecondBest().exact(UNIFORM)
    d = 0.25
    gains = (0.5 - 1 / 3) - (d ** 2 / 2 - d ** 3 / 3)  # ∫_{1/4}^1 d (1 - d) dd
    assert gains == pytest.approx(9 / 64)
    assert ex.gains == pytest.approx(gains, abs=1e-11)
    assert ex.trade == pytest.approx((1 - d) ** 2 / 2, abs=1e-11)
    assert abs(ex.budget) < 1e-12
    assert ex.buyer_utility == pytest.approx(gains / 2, abs=1e-11)  # symmetric market: the gains split evenly


def test_weighted_rule_with_unequal_weights_matches_its_closed_form():
    # trade iff (1 + a_b) v - a_b >= (1 + a_s) c: check Pr[trade] and gains against dblquad
    rule = trade_rule(UNIFORM, 0.5, 0.2)
    ex = rule.exact()
    theta = lambda c: (1.2 * c + 0.5) / 1.5  # noqa: E731  trade iff 1.5 v - 0.5 >= 1.2 c
    assert ex.trade == pytest.approx(dbl(lambda v, c: 1.0, theta), abs=1e-10)
    assert ex.gains == pytest.approx(dbl(lambda v, c: v - c, theta), abs=1e-10)
    # threshold payments: the buyer pays θ(c), the seller receives κ(v) = (1.5 v - 0.5)/1.2
    assert ex.buyer_pays == pytest.approx(dbl(lambda v, c: theta(c), theta), abs=1e-10)
    assert ex.seller_receives == pytest.approx(dbl(lambda v, c: (1.5 * v - 0.5) / 1.2, theta), abs=1e-10)


@pytest.mark.parametrize("buyer, seller", [("uniform", "uniform"), ("lognormal:mu=0,sigma=0.5", "uniform:high=2"),
                                           ("uniform:low=0.5,high=1.5", "lognormal:mu=-1,sigma=0.5")])
def test_weighted_rule_at_zero_is_vcg(buyer, seller):
    """a = 0: θ(c) = max(c, v̲), κ(v) = min(v, c̄), the VCG payments (lognormal: low tails that the quantile
    q = 1 - F(v) cannot resolve, where the roots are found in value space)."""
    market = Market.trade(parse_spec(buyer), parse_spec(seller))
    rule, vcg = trade_rule(market, 0.0, 0.0).exact(), VCG().exact(market)
    for name in METRICS:
        assert getattr(rule, name) == pytest.approx(getattr(vcg, name), rel=1e-9, abs=1e-12), name
    c = np.array([1e-4, 0.01, 0.3, 0.9])
    lo = trade_rule(market, 0.0, 0.0).traders.v_lo
    assert trade_rule(market, 0.0, 0.0).threshold(c) == pytest.approx(np.maximum(c, lo), rel=1e-12)


def test_posted_price_half_gains_one_eighth_and_best_price_is_half():
    ex = PostedPrice(0.5).exact(UNIFORM)
    p = 0.5
    gains = p * (1 - p * p) / 2 - (1 - p) * p * p / 2  # Pr[C<=p] E[V;V>=p] - Pr[V>=p] E[C;C<=p]
    assert ex.gains == pytest.approx(gains, abs=1e-14) and gains == pytest.approx(1 / 8)
    assert ex.buyer_utility == pytest.approx(1 / 16, abs=1e-14) and ex.budget == 0.0
    assert best_price(UNIFORM) == pytest.approx(0.5, abs=1e-7)  # GFT(p) = p(1 - p)/2
    assert best_price(EXP_UNIF) == pytest.approx(optimize.minimize_scalar(
        lambda p: -(p * (math.exp(-p) * (1 + p)) - math.exp(-p) * p * p / 2), bounds=(0, 1), method="bounded",
        options={"xatol": 1e-12}).x, abs=1e-6)


def test_seller_offer_and_buyer_offer_uniform():
    so, bo = SellerOffer().exact(UNIFORM), BuyerOffer().exact(UNIFORM)
    # p(c) = (1 + c)/2: seller profit E[((1 - C)/2)^2] = 1/12, gains ∫ 3(1 - c)^2/8 = 1/8
    assert SellerOffer().price(UNIFORM, np.array([0.0, 0.5])) == pytest.approx([0.5, 0.75], abs=1e-12)
    assert BuyerOffer().price(UNIFORM, np.array([0.5, 1.0])) == pytest.approx([0.25, 0.5], abs=1e-12)
    assert (so.gains, so.seller_utility, so.buyer_utility) == pytest.approx((1 / 8, 1 / 12, 1 / 24), abs=1e-11)
    assert (bo.gains, bo.seller_utility, bo.buyer_utility) == pytest.approx((1 / 8, 1 / 24, 1 / 12), abs=1e-11)
    assert so.budget == 0 and bo.budget == 0


def gauss(f, lo, hi, nodes=8):
    """∫_lo^hi f(x) dx by Gauss-Legendre, vectorised over arrays lo, hi (exact for the affine payoffs here)."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    mid, half = 0.5 * (hi + lo), 0.5 * (hi - lo)
    pts = mid[:, None] + half[:, None] * x[None, :]
    return half * (f(pts) @ w)


@pytest.mark.parametrize("k", [0.0, 0.3, 0.5, 0.8, 1.0])
def test_double_auction_linear_strategies_are_mutual_best_responses(k):
    bid, ask = DoubleAuction(k).strategies(UNIFORM)
    if k == 0.5:
        v = np.linspace(0, 1, 5)
        assert bid(v) == pytest.approx(2 * v / 3 + 1 / 12) and ask(v) == pytest.approx(2 * v / 3 + 1 / 4)
    grid = np.linspace(0.0, 1.2, 601)  # step 0.002
    ends = np.array([0.0, 1.0])
    for v in (0.4, 0.7, 0.95):  # buyer bidding b: ∫_0^{s^-1(b)} (v - k b - (1-k) s(c)) dc, C ~ U[0, 1]
        top = np.clip(np.interp(grid, ask(ends), ends), 0.0, 1.0)
        util = gauss(lambda c: v - k * grid[:, None] - (1 - k) * ask(c), np.zeros_like(top), top)
        if v >= float(ask(0.0)):  # a type that trades: the linear bid is a best response (within the grid)
            assert abs(grid[int(np.argmax(util))] - float(bid(v))) <= 0.0021
    for c in (0.05, 0.3, 0.6):  # seller asking s: ∫_{b^-1(s)}^1 (k b(v) + (1-k) s - c) dv, V ~ U[0, 1]
        low = np.clip(np.interp(grid, bid(ends), ends), 0.0, 1.0)
        util = gauss(lambda v: k * bid(v) + (1 - k) * grid[:, None] - c, low, np.ones_like(low))
        if c <= float(bid(1.0)):
            assert abs(grid[int(np.argmax(util))] - float(ask(c))) <= 0.0021


def test_double_auction_half_is_the_second_best_and_other_k_match_dblquad():
    ex = DoubleAuction(0.5).exact(UNIFORM)
    assert ex.gains == pytest.approx(9 / 64, abs=1e-12) and ex.trade == pytest.approx(9 / 32, abs=1e-12)
    k = 0.3
    bb, ab, bs, as_ = 1 / (1 + k), k * (1 - k) / (2 * (1 + k)), 1 / (2 - k), (1 - k) / 2
    theta = lambda c: (bs * c + as_ - ab) / bb  # noqa: E731  b(v) >= s(c)
    ex = DoubleAuction(k).exact(UNIFORM)
    assert ex.gains == pytest.approx(dbl(lambda v, c: v - c, theta), abs=1e-10)
    price = lambda v, c: k * (bb * v + ab) + (1 - k) * (bs * c + as_)  # noqa: E731
    assert ex.buyer_pays == pytest.approx(dbl(price, theta), abs=1e-10)
    with pytest.raises(InputError, match="uniform"):
        DoubleAuction(0.5).exact(EXP_UNIF)


def test_agv_worst_off_type_is_the_lowest_buyer_short_one_third():
    info = AGV().interim(UNIFORM, v=np.array([0.0, 0.5, 1.0]), c=np.array([0.0, 1.0]))
    K = 1 / 3  # E[V 1{V >= C}] = ∫ v·v dv
    L = 1 / 6  # E[C 1{C <= V}] = ∫ c (1 - c) dc
    assert info["buyer_utility"] == pytest.approx(np.array([0.0, 0.125, 0.5]) - K, abs=1e-12)  # v^2/2 - K
    assert info["seller_utility"] == pytest.approx(np.array([0.5, 0.0]) + L, abs=1e-12)  # (1-c)^2/2 + L
    assert info["buyer_worst_type"] == 0.0 and info["buyer_worst_utility"] == pytest.approx(-K, abs=1e-12)
    assert info["buyer_shortfall"] == pytest.approx(K, abs=1e-12)
    assert info["buyer_ir_from"] == pytest.approx(math.sqrt(2 * K), abs=1e-10)  # v^2/2 = K
    assert info["seller_worst_type"] == 1.0 and info["seller_shortfall"] == 0.0
    ex = AGV().exact(UNIFORM)
    assert ex.budget == 0.0 and ex.gains == pytest.approx(1 / 6, abs=1e-12)


def test_prop_56_construction_fails_by_exactly_the_vcg_deficit():
    p = prop56(UNIFORM)
    assert not p["exists"] and p["vcg_surplus"] == pytest.approx(-1 / 6, abs=1e-12)
    for side in ("buyer", "seller"):
        assert p[f"absorb_{side}_worst_utility"] == pytest.approx(-1 / 6, abs=1e-12)
        assert p[f"absorb_{side}_other_worst_utility"] == pytest.approx(0.0, abs=1e-12)  # U^V of the lowest type
    # a market where VCG runs a surplus (v̲ = 2 > c̄ = 1: always trade, buyer pays 2, seller gets 1): IR + BB exist
    rich = Market.trade(parse_spec("uniform:low=2,high=3"), parse_spec("uniform"))
    q = prop56(rich)
    assert q["exists"] and q["vcg_surplus"] == pytest.approx(1.0, abs=1e-12)
    assert q["absorb_seller_worst_utility"] >= 0 and q["absorb_buyer_worst_utility"] >= 0


# ---------------------------------------------------------------------- non-uniform pairs, atoms
def test_exponential_buyer_uniform_seller_against_dblquad():
    inf, ident = math.inf, (lambda c: c)
    assert VCG().exact(EXP_UNIF).gains == pytest.approx(dbl(lambda v, c: v - c, ident, inf), abs=1e-10)
    # v̲ = 0, c̄ = 1: E[max(C, 0) - min(V, 1); V >= C] = -(gains - E[(V - 1)^+]) = -((1 - 1/e) - 1/e)
    vcg_budget = dbl(lambda v, c: c - v, ident, inf) + math.exp(-1)
    assert vcg_budget == pytest.approx(-(1 - 2 / math.e), abs=1e-10)
    assert VCG().exact(EXP_UNIF).budget == pytest.approx(vcg_budget, abs=1e-10)
    so = SellerOffer().exact(EXP_UNIF)  # ψ(p) = p - 1 = c: p(c) = 1 + c
    assert so.gains == pytest.approx(dbl(lambda v, c: v - c, lambda c: 1 + c, inf), abs=1e-10)
    assert so.seller_utility == pytest.approx(dbl(lambda v, c: 1.0, lambda c: 1 + c, inf), abs=1e-10)
    a, _ = SecondBest().solve(EXP_UNIF)
    theta = lambda c: a + (1 + a) * c  # noqa: E731  φ_a = v - a >= γ_a = (1 + a) c
    assert dbl(lambda v, c: v - 1 - 2 * c, theta, inf) == pytest.approx(0.0, abs=1e-10)  # E[(ψ - γ); trade] = 0
    ex = SecondBest().exact(EXP_UNIF)
    assert ex.gains == pytest.approx(dbl(lambda v, c: v - c, theta, inf), abs=1e-10)
    assert abs(ex.budget) < 1e-10
    K = dbl(lambda v, c: v, ident, inf)
    assert AGV().interim(EXP_UNIF)["buyer_worst_utility"] == pytest.approx(-K, abs=1e-9)


def test_atoms_and_mixtures_vcg_agv_posted():
    disc = Market.trade(parse_spec("discrete:values=0.2/0.6/1,probs=.3/.3/.4"), parse_spec("uniform"))
    ex = VCG().exact(disc)
    gains = 0.3 * 0.2 ** 2 / 2 + 0.3 * 0.6 ** 2 / 2 + 0.4 / 2  # Σ p_i v_i^2 / 2
    assert ex.gains == pytest.approx(gains, abs=1e-12)
    assert ex.budget == pytest.approx(-(gains - 0.2 ** 2 / 2), abs=1e-12)  # deficit = gains - E[(v̲ - C)^+]
    assert PostedPrice(0.6).exact(disc).gains == pytest.approx(0.6 * (0.3 * 0.6 + 0.4) - 0.7 * 0.18, abs=1e-12)
    mix = Market.trade(parse_spec("mixture:0.5*uniform(low=0;high=1)+0.5*discrete(values=0.5)"),
                       parse_spec("uniform"))
    assert VCG().exact(mix).gains == pytest.approx(0.5 / 6 + 0.5 * 0.125, abs=1e-10)
    assert AGV().exact(mix).budget == 0.0
    sb = SecondBest().exact(disc)  # atoms are ironed (tests/test_trade_ironing.py checks the values)
    assert abs(sb.budget) < 1e-12 and sb.gains <= gains + 1e-12
    # the other side may have atoms: a uniform seller takes p(v) = v/2
    bo = BuyerOffer().exact(disc)
    e = sum(p * (v / 2) ** 2 for v, p in ((0.2, 0.3), (0.6, 0.3), (1.0, 0.4)))  # buyer's (v - p) p
    assert (bo.buyer_utility, bo.seller_utility, bo.gains) == pytest.approx((e, e / 2, 1.5 * e), abs=1e-12)
    so = SellerOffer().exact(Market.trade(parse_spec("uniform"), parse_spec("discrete:values=0.2/0.6")))
    e = sum(0.5 * ((1 - c) / 2) ** 2 for c in (0.2, 0.6))  # p(c) = (1 + c)/2, profit ((1 - c)/2)^2
    assert (so.seller_utility, so.buyer_utility) == pytest.approx((e, e / 2), abs=1e-12)


def test_non_regular_offering_side_is_ironed():
    # buyer v ~ U[0, .1] or U[.9, 1] (1/2 each) against c ~ U[0, 1]: Pr[V >= p] = 1/2 on [.1, .9], so the seller
    # posts p(c) = .9 (profit (.9 - c)/2) for c < .8 and (1 + c)/2 (profit 5(1 - c)^2/4) above
    odd = parse_spec("mixture:0.5*uniform(low=0;high=0.1)+0.5*uniform(low=0.9;high=1)")
    so = SellerOffer().exact(Market.trade(odd, parse_spec("uniform")))
    pi = integrate.quad(lambda c: (0.9 - c) / 2, 0, 0.8)[0] + integrate.quad(lambda c: 5 * (1 - c) ** 2 / 4, 0.8, 1)[0]
    # the buyer's E[(V - p)^+]: (V - .9)^+ = 5 ∫ (v - .9) over [.9, 1] = 1/40 for c < .8; 5 (1 - p)^2 / 2 above
    u = 0.8 / 40 + integrate.quad(lambda c: 5 * (1 - (1 + c) / 2) ** 2 / 2, 0.8, 1)[0]
    assert (so.seller_utility, so.buyer_utility, so.budget) == pytest.approx((pi, u, 0.0), abs=1e-11)
    # the mirror image: a uniform buyer offers p(v) = v/2 (v <= .2), else .1 to c ~ the same bimodal law
    bo = BuyerOffer().exact(Market.trade(parse_spec("uniform"), odd))
    assert (bo.buyer_utility, bo.seller_utility) == pytest.approx((pi, u), abs=1e-11)


def test_spec_parser():
    assert [parse_trade_mechanism(s).name for s in ("vcg", "agv", "agv:absorb=seller", "posted:price=0.5",
                                                     "posted", "seller-offer", "buyer-offer", "second-best",
                                                     "double:k=0.25")] == [
        "vcg", "agv", "agv:absorb=seller", "posted:price=0.5", "posted:price=best", "seller-offer", "buyer-offer",
        "second-best", "double:k=0.25"]
    for bad, arg in (("nope", "mechanism"), ("posted:price=-1", "price"), ("double:k=2", "k"),
                     ("vcg:k=1", "mechanism"), ("agv:absorb=both", "absorb")):
        with pytest.raises(InputError) as exc:
            parse_trade_mechanism(bad)
        assert exc.value.argument == arg


# ---------------------------------------------------------------------- simulation
def _all_inside(res, names):
    for name in names:
        for metric in METRICS:
            z = res.z(name, metric)
            if z is not None:
                assert abs(z) < 4, (name, metric, z)


def test_simulation_uniform_1e6_draws_agv_budget_balanced_on_every_draw():
    # at most two mechanisms per run: simulate_draws's comoment matrix grows as (mechanisms x metrics)^2
    res = simulate_trade([VCG(), AGV()], UNIFORM, samples=1_000_000, seed=7)
    assert res.samples == 1_000_000
    _all_inside(res, ["vcg", "agv"])
    assert res.minimum("agv", "budget") == 0.0 == res.maximum("agv", "budget")  # every draw, not on average
    assert res.maximum("vcg", "budget") <= 0 and res.minimum("vcg", "budget") < -0.99  # a deficit on every trade
    assert res.minimum("vcg", "buyer_utility") >= 0 and res.minimum("vcg", "seller_utility") >= 0  # ex-post IR
    assert res.minimum("agv", "buyer_utility") < 0  # AGV is not IR
    est, err = res.estimate("vcg", "gains")
    assert abs(est - 1 / 6) < 4 * err and err < 3e-4
    res = simulate_trade([AGV("seller"), PostedPrice(0.5)], UNIFORM, samples=1_000_000, seed=8)
    _all_inside(res, ["agv:absorb=seller", "posted:price=0.5"])
    for name in ("agv:absorb=seller", "posted:price=0.5"):
        assert max(abs(res.minimum(name, "budget")), abs(res.maximum(name, "budget"))) <= 1e-12
    res = simulate_trade([DoubleAuction(0.5)], UNIFORM, samples=1_000_000, seed=9)
    _all_inside(res, ["double:k=0.5"])
    assert res.minimum("double:k=0.5", "buyer_utility") >= 0 and res.minimum("double:k=0.5", "seller_utility") >= 0
    assert abs(res.estimate("double:k=0.5", "gains")[0] - 9 / 64) < 4 * res.estimate("double:k=0.5", "gains")[1]


def test_simulation_bisection_rules_and_non_uniform_pairs():
    runs = [([SellerOffer(), BuyerOffer()], UNIFORM), ([SecondBest()], UNIFORM), ([AGV(), SecondBest()], EXP_UNIF),
            ([VCG(), PostedPrice("best")], EXP_UNIF)]
    for i, (mechs, market) in enumerate(runs):
        res = simulate_trade(mechs, market, samples=1 << 18, seed=i)
        _all_inside(res, [m.name for m in mechs])
        for m in mechs:  # ex-post IR, except AGV
            if m.name != "agv":
                assert res.minimum(m.name, "buyer_utility") >= -1e-12 <= res.minimum(m.name, "seller_utility")
        if mechs[0].name == "second-best":
            assert res.minimum("second-best", "budget") < 0 < res.maximum("second-best", "budget")  # on average
        if mechs[0].name == "agv":
            assert res.minimum("agv", "budget") == 0.0 == res.maximum("agv", "budget")
    disc = Market.trade(parse_spec("discrete:values=0.2/0.6/1,probs=.3/.3/.4"), parse_spec("uniform"))
    res = simulate_trade([AGV(), PostedPrice(0.6)], disc, samples=1 << 18, seed=2)
    _all_inside(res, ["agv", "posted:price=0.6"])
    assert res.minimum("agv", "budget") == 0.0 == res.maximum("agv", "budget")
