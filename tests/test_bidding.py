"""Bid formats with symmetric equilibrium bidding (issue 15): bid functions against their closed forms, exact
revenue against second price's (revenue equivalence, checked to 1e-9), simulation on bids inside its CIs (also
at n = 1e30), and the epsilon-BNE check telling the equilibrium from a wrong bid function."""
from __future__ import annotations

import math

import numpy as np
import pytest

from distributions import Market, parse_spec
from distributions.errors import InputError
from mechanisms.auctions import SecondPrice
from mechanisms.bidding import AllPay, FirstPrice, ThirdPrice, make_format
from simulator.families.bidding import bid_function, bne_check, simulate_bidding

V = np.array([0.05, 0.2, 0.5, 0.77, 0.99])


def uniform(n):
    return Market.iid(parse_spec("uniform"), n)


def expo(n):
    return Market.iid(parse_spec("exponential"), n)


# ----------------------------------------------------------------------------------------- bid functions
@pytest.mark.parametrize("n", [2, 5])
def test_uniform_bid_functions(n):
    m = uniform(n)
    assert np.allclose(FirstPrice().bid(m, V), (n - 1) * V / n, rtol=1e-12, atol=1e-15)
    assert np.allclose(AllPay().bid(m, V), (n - 1) * V ** n / n, rtol=1e-12, atol=1e-15)
    if n >= 3:
        assert np.allclose(ThirdPrice().bid(m, V), (n - 1) * V / (n - 2), rtol=1e-12)


@pytest.mark.parametrize("n, r", [(2, 0.5), (5, 0.3)])
def test_uniform_first_price_reserve(n, r):
    """b(v) = v - int_r^v t^(n-1) dt / v^(n-1) = v - (v^n - r^n) / (n v^(n-1)) for v >= r; no bid below."""
    b = FirstPrice(r).bid(uniform(n), V)
    above = V >= r
    assert np.allclose(b[above], V[above] - (V[above] ** n - r ** n) / (n * V[above] ** (n - 1)), rtol=1e-12)
    assert np.all(b[~above] == -np.inf)


def test_exponential_n3_bid_functions():
    """Y = max of two Exp(1): F(t)^2 = (1 - e^-t)^2, int_0^v F^2 = v - 2(1 - e^-v) + (1 - e^-2v)/2."""
    v = np.array([0.1, 0.7, 1.5, 4.0, 9.0])
    F2 = (-np.expm1(-v)) ** 2
    first = v - (v - 2 * (-np.expm1(-v)) + (-np.expm1(-2 * v)) / 2) / F2
    m = expo(3)
    assert np.allclose(FirstPrice().bid(m, v), first, rtol=1e-11)
    assert np.allclose(AllPay().bid(m, v), F2 * first, rtol=1e-11)
    assert np.allclose(ThirdPrice().bid(m, v), v + np.expm1(v), rtol=1e-12)  # v + F/f with n - 2 = 1


def test_first_price_bid_at_1e30_is_quantile_exact():
    """n = 1e30, exponential: b(q) = E[Y | Y < v(q)] -> E[Y] = H_N (q << 1/N) and b = v - O(1/N) for q >> 1/N."""
    m = expo(1e30)
    euler = 0.5772156649015329
    b = FirstPrice().bid_q(m, np.array([1e-45, 0.5]))
    assert b[0] == pytest.approx(math.log(1e30) + euler, rel=1e-12)
    assert b[1] == pytest.approx(math.log(2.0), rel=1e-12)


def test_bid_table_matches_direct_bids():
    """The simulator's tabulated bids agree with the quadrature bids to 1e-11 of the largest bid."""
    for fmt, m in ((FirstPrice(0.4), expo(7)), (AllPay(), expo(1e30))):
        table = bid_function(fmt, m)
        q = np.exp(np.random.default_rng(5).uniform(math.log(1e-20 / m.n), 0.0, 400))
        direct = fmt.bid_q(m, q)
        fin = np.isfinite(direct)
        assert np.array_equal(fin, np.isfinite(table(q)))
        assert np.max(np.abs(table(q)[fin] - direct[fin])) <= 1e-11 * np.max(np.abs(direct[fin]))


# ----------------------------------------------------------------------------------------- exact values
CASES = [("uniform", 2), ("uniform", 5), ("exponential", 3), ("exponential", 1e30), ("pareto:shape=2.5", 4),
         ("weibull:shape=4", 2)]  # the last: v ~ (1-q)^(1/4) at the bottom, where v(1 - tiny) is rounding noise


def closed_spa_revenue(spec, n):
    """E[second-highest value]: (n-1)/(n+1) for U[0,1]; H_n - 1 for Exp(1); None otherwise."""
    if spec == "uniform":
        return (n - 1) / (n + 1)
    if spec == "exponential":
        return (math.log(n) + 0.5772156649015329 - 1 + 0.5 / n) if n > 1e6 else sum(1 / k for k in range(2, n + 1))
    return None


@pytest.mark.parametrize("spec, n", CASES)
def test_revenue_equivalence_is_a_checked_fact(spec, n):
    m = Market.iid(parse_spec(spec), n)
    spa = SecondPrice().exact(m)
    closed = closed_spa_revenue(spec, n)
    if closed is not None:
        assert spa.revenue == pytest.approx(closed, rel=1e-12)
    for fmt in (FirstPrice(), AllPay()) + ((ThirdPrice(),) if n >= 3 else ()):
        ex = fmt.exact(m)
        assert abs(ex.revenue - spa.revenue) <= 1e-9 * max(1.0, spa.revenue), fmt.name
        assert ex.welfare == spa.welfare and ex.sold == spa.sold
        assert ex.surplus == pytest.approx(spa.surplus, rel=1e-9, abs=1e-9 * spa.welfare)


@pytest.mark.parametrize("spec, n, r", [("uniform", 2, 0.5), ("uniform", 5, 0.3), ("exponential", 3, 1.0)])
def test_first_price_with_reserve_equals_second_price_with_it(spec, n, r):
    m = Market.iid(parse_spec(spec), n)
    spa = SecondPrice(r).exact(m)
    if spec == "uniform" and n == 2:  # E[max(v2, r); v1 >= r] = 1/3 + r^2 - 4 r^3 / 3
        assert spa.revenue == pytest.approx(1 / 3 + r ** 2 - 4 * r ** 3 / 3, rel=1e-12)
    assert abs(FirstPrice(r).exact(m).revenue - spa.revenue) <= 1e-9


GAP = "mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)"


def test_gap_in_the_support():
    """First price and all pay across a gap (v tabulated: a mixture's v is a root search); third price has no
    increasing equilibrium there. E[v_(2)] for n = 4 of this mixture, by its binomial split, is 1.8875."""
    m = Market.iid(parse_spec(GAP), 4)
    spa = SecondPrice().exact(m).revenue
    # k buyers in the upper half U[2,3] (prob C(4,k)/16): v_(2) is the 2nd of k U[2,3] (k >= 2), else the top of
    # the 4-k U[0,1] (k = 1), else the 2nd of 4 U[0,1] (k = 0)
    closed = (1 / 16) * 3 / 5 + (4 / 16) * 3 / 4 + (6 / 16) * (2 + 1 / 3) + (4 / 16) * (2 + 2 / 4) + (1 / 16) * (2 + 3 / 5)
    assert spa == pytest.approx(closed, rel=1e-12)
    for fmt in (FirstPrice(), AllPay(), FirstPrice(0.5)):
        ref = SecondPrice(fmt.reserve).exact(m).revenue
        assert abs(fmt.exact(m).revenue - ref) <= 1e-9
    with pytest.raises(InputError, match="gap"):
        ThirdPrice().exact(m)


def test_value_table_of_a_mixture():
    from mechanisms.bidding.equilibrium import value_curve

    dist = parse_spec(GAP)
    q = np.concatenate([np.geomspace(1e-300, 1e-3, 200), np.linspace(1e-3, 1.0, 2000), 1 - np.geomspace(1e-15, 1e-3, 200)])
    assert np.max(np.abs(value_curve(dist)(q) - dist.v(q))) <= 1e-12


# ----------------------------------------------------------------------------------------- bad input
def test_bad_input_is_named():
    with pytest.raises(InputError, match="n >= 3") as exc:
        ThirdPrice().exact(uniform(2))
    assert exc.value.argument == "n"
    spike = Market.iid(parse_spec("mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=0.5;high=0.51)"), 3)
    with pytest.raises(InputError, match="decreases") as exc:
        ThirdPrice().bid(spike, [0.3])
    assert exc.value.argument == "format"
    with pytest.raises(InputError, match="continuous") as exc:
        FirstPrice().exact(Market.iid(parse_spec("discrete:values=1/2,probs=.5/.5"), 3))
    assert exc.value.argument == "dist"
    with pytest.raises(InputError, match="finite mean"):
        FirstPrice().exact(Market.iid(parse_spec("pareto:shape=0.9"), 3))
    with pytest.raises(InputError) as exc:
        make_format("all-pay", 0.3)
    assert exc.value.argument == "reserve"
    with pytest.raises(InputError, match="one buyer class"):
        FirstPrice().exact(Market.of((parse_spec("uniform"), 2), (parse_spec("exponential"), 1)))


# ----------------------------------------------------------------------------------------- simulation
def assert_inside(res, name, metrics=("revenue", "welfare", "surplus", "sold")):
    for metric in metrics:
        est, err = res.estimate(name, metric)
        exact = res.exact(name, metric)
        if err == 0:
            assert est == pytest.approx(exact, rel=1e-12)
        else:
            assert abs(est - exact) < 4 * err, (name, metric, est, exact, err)


@pytest.mark.parametrize("spec, n, formats", [("uniform", 2, ("first-price", "all-pay")),
                                               ("uniform", 5, ("first-price", "all-pay", "third-price")),
                                               ("exponential", 3, ("first-price", "all-pay", "third-price"))])
def test_simulation_on_bids_profile(spec, n, formats):
    m = Market.iid(parse_spec(spec), n)
    for name in formats:
        fmt = make_format(name)
        res = simulate_bidding(fmt, m, samples=100_000, seed=7)
        assert_inside(res, fmt.name)
        assert_inside(res, "spa")
        # revenue equivalence: same mean; the paired difference covers the exact 0 (up to 1e-9)
        pair = res.paired(fmt.name, "spa", "revenue")
        assert abs(pair["estimate"]) < 4 * pair["stderr"]


def test_first_price_reserve_and_revenue_spread():
    """With a reserve, on the same draws; first price's revenue is less spread out than second price's."""
    fmt = FirstPrice(0.5)
    res = simulate_bidding(fmt, uniform(5), samples=100_000, seed=3)
    assert_inside(res, fmt.name)
    assert_inside(res, "spa:reserve=0.5")
    assert res.estimate(fmt.name, "revenue")[1] < 0.8 * res.estimate("spa:reserve=0.5", "revenue")[1]


@pytest.mark.parametrize("name, samples", [("first-price", 200_000), ("third-price", 200_000), ("all-pay", 20_000)])
def test_orderstat_at_1e30(name, samples):
    """Exponential at n = 1e30 (order-statistic mode; all pay by the sweep): the CIs contain the exact values
    (revenue ~ log n + gamma - 1 = 68.65)."""
    m = expo(1e30)
    fmt = make_format(name)
    res = simulate_bidding(fmt, m, samples=samples, seed=11)
    assert_inside(res, fmt.name)
    assert res.exact(fmt.name, "revenue") == pytest.approx(math.log(1e30) + 0.5772156649015329 - 1, rel=1e-12)


def test_profile_and_orderstat_agree():
    m = expo(12)
    for mode in ("profile", "orderstat"):
        for fmt in (AllPay(), ThirdPrice()):
            assert_inside(simulate_bidding(fmt, m, samples=40_000, seed=2, mode=mode), fmt.name)


# ----------------------------------------------------------------------------------------- epsilon-BNE
def test_bne_check_separates_equilibrium_from_truthful_bidding():
    m = uniform(3)
    eq = bne_check(FirstPrice(), m, values=16, rivals=20_000, seed=4)
    assert not eq["significant"]
    assert eq["largest"]["gain"] < 4 * eq["largest"]["stderr"] + 1e-12
    wrong = bne_check(FirstPrice(), m, bid=lambda v: v, values=16, rivals=20_000, seed=4)
    assert wrong["significant"]
    # the best reply of the top sampled value v to truthful rivals maximises (v - b) b^2: b = 2v/3, gain 4v^3/27
    top = max(wrong["rows"], key=lambda r: r["value"])
    v = top["value"]
    assert abs(top["gain"] - 4 * v ** 3 / 27) < 4 * top["stderr"]
    assert top["deviation"] == pytest.approx(2 * v / 3, abs=0.02)


def test_bne_check_third_price_and_all_pay():
    m = uniform(4)
    for fmt in (ThirdPrice(), AllPay()):
        assert not bne_check(fmt, m, values=12, rivals=20_000, seed=9)["significant"]
        assert bne_check(fmt, m, bid=lambda v: v, values=12, rivals=20_000, seed=9)["significant"]


@pytest.mark.parametrize("spec, n, mode", [("uniform", 6, "profile"), ("exponential", 1000, "orderstat"),
                                           ("exponential", 3, "orderstat")])
def test_formats_together_on_one_draw(spec, n, mode):
    """First price (with and without a reserve), all pay and third price on the same draws (issue 18: one
    ranking serves every format): each inside its exact value, every revenue difference to second price and
    between formats covering the exact 0 (revenue equivalence), second price once per reserve."""
    m = Market.iid(parse_spec(spec), n)
    formats = [FirstPrice(), AllPay(), ThirdPrice(), FirstPrice(0.5)]
    res = simulate_bidding(formats, m, samples=60_000, seed=5, mode=mode)
    assert res.mechanisms == [f.name for f in formats] + ["spa", "spa:reserve=0.5"]
    for name in res.mechanisms:
        assert_inside(res, name)
    for a, b in (("first-price", "spa"), ("all-pay", "first-price"), ("third-price", "all-pay"),
                 ("first-price:reserve=0.5", "spa:reserve=0.5")):
        exact = res.exact(a, "revenue") - res.exact(b, "revenue")
        assert abs(exact) < 1e-9
        pair = res.paired(a, b, "revenue")
        assert abs(pair["estimate"] - exact) < 4 * pair["stderr"], (a, b, pair)


def test_formats_together_profile_draws_are_each_formats_own():
    """In profile mode every format sees the draws of its own run: its numbers are those of running it alone."""
    m = uniform(4)
    both = simulate_bidding([FirstPrice(), AllPay()], m, samples=5_000, seed=9, mode="profile")
    for fmt in (FirstPrice(), AllPay()):
        alone = simulate_bidding(fmt, m, samples=5_000, seed=9, mode="profile")
        for metric in ("revenue", "welfare"):
            assert both.estimate(fmt.name, metric) == alone.estimate(fmt.name, metric)
    with pytest.raises(InputError, match="formats"):
        simulate_bidding([FirstPrice(), FirstPrice()], m, samples=100)
