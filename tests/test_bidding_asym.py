"""Asymmetric first-price equilibrium (mechanisms.bidding.asymmetric): closed forms computed here, in the test.

- symmetric classes: b(v) = (N-1)v/N (φ(b) = N b/(N-1)), revenue E[v_(2)] = ω (N-1)/(N+1) for U[0, ω];
- two uniform buyers U[0, ω1], U[0, ω2] (Griesmer–Levitan–Shubik 1967, Plum 1992, Kaplan–Zamir 2012, Krishna
  §4.3): common top bid b̄ = ω1ω2/(ω1+ω2), φ_i(b) = 2b / (1 + k_i b²) with k_i = 1/ω_i² - 1/ω_j²; checked
  here against Krishna's ODE φ_i' = φ_i / (φ_j - b) (F/f = v for a uniform), values by independent quadrature;
- two symmetric uniform buyers with a reserve r: β(v) = (v² + r²)/(2v), φ(b) = b + sqrt(b² - r²);
- Monte Carlo with numpy against the exact values (|z| < 4).
"""
import math

import numpy as np
import pytest
from scipy import integrate

from distributions.errors import InputError
from distributions.families import Exponential, Uniform
from distributions.market import Market
from mechanisms.bidding.asymmetric import AsymmetricFirstPrice

FPA = AsymmetricFirstPrice()


def closed_pair(w1, w2):
    """The uniform pair's closed form: top bid and inverse bids φ_1, φ_2."""
    top = w1 * w2 / (w1 + w2)
    k1 = 1.0 / w1 ** 2 - 1.0 / w2 ** 2
    return top, (lambda b: 2 * b / (1 + k1 * b * b)), (lambda b: 2 * b / (1 - k1 * b * b))


@pytest.mark.parametrize("counts, N", [((1, 1), 2), ((2, 1), 3)])
def test_symmetric_classes_match_the_symmetric_equilibrium(counts, N):
    w = 2.0
    market = Market.of((Uniform(0, w), counts[0]), (Uniform(0, w), counts[1]))
    eq = FPA.solve(market)
    assert abs(eq.top_bid - w * (N - 1) / N) < 1e-12
    b = np.linspace(0, eq.top_bid, 2001)
    v = np.linspace(0, w, 2001)
    for k in range(2):
        assert np.max(np.abs(eq.phi(k, b) - N * b / (N - 1))) < 1e-6
        assert np.max(np.abs(eq.bid(k, v) - (N - 1) * v / N)) < 1e-6
    e = FPA.exact(market)
    assert abs(e.revenue - w * (N - 1) / (N + 1)) < 1e-9  # E[v_(2)] of N uniforms
    assert abs(e.welfare - w * N / (N + 1)) < 1e-9  # E[v_(1)]
    assert abs(e.surplus - (e.welfare - e.revenue)) < 1e-12
    for k in range(2):
        assert abs(e.win_probability[k] - counts[k] / N) < 1e-9
        assert abs(e.class_surplus[k] - counts[k] / N * w / (N + 1)) < 1e-9  # E[v_(1) - v_(2)] shared
    assert e.sold == 1.0


def test_closed_form_of_the_uniform_pair_solves_krishnas_ode():
    w1, w2 = 1.0, 2.0
    top, phi1, phi2 = closed_pair(w1, w2)
    assert abs(phi1(top) - w1) < 1e-15 and abs(phi2(top) - w2) < 1e-15
    b = np.linspace(0.01, top - 0.01, 50)
    h = 1e-6
    for phi, other in ((phi1, phi2), (phi2, phi1)):
        slope = (phi(b + h) - phi(b - h)) / (2 * h)
        assert np.max(np.abs(slope - phi(b) / (other(b) - b))) < 1e-7


def test_uniform_pair_inverse_bids_and_values_match_the_closed_form():
    w1, w2 = 1.0, 2.0
    top, phi1, phi2 = closed_pair(w1, w2)
    eq = FPA.solve(Market.of((Uniform(0, w1), 1), (Uniform(0, w2), 1)))
    assert abs(eq.top_bid - top) < 1e-12
    assert eq.error_bound < 1e-6
    b = np.linspace(0, top, 20001)
    assert np.max(np.abs(eq.phi(0, b) - phi1(b))) < 1e-6
    assert np.max(np.abs(eq.phi(1, b) - phi2(b))) < 1e-6
    for k, (w, phi) in enumerate(((w1, phi1), (w2, phi2))):
        v = np.linspace(0, w, 20001)
        # the bid inverts φ: φ(β(v)) = v, and β(v) = (1 - sqrt(1 - k v²)) / (k v) from 2b / (1 + k b²) = v
        assert np.max(np.abs(phi(eq.bid(k, v)) - v)) < 1e-6

    # exact values by independent quadrature over the bid: density of "class i wins at bid b" is
    # f_i(φ_i) φ_i'(b) F_j(φ_j(b)) = φ_i'(b) φ_j(b) / (ω1 ω2), with φ_i' = 2 (1 - k_i b²) / (1 + k_i b²)²
    k1 = 1.0 / w1 ** 2 - 1.0 / w2 ** 2
    d1 = lambda x: 2 * (1 - k1 * x * x) / (1 + k1 * x * x) ** 2  # noqa: E731
    d2 = lambda x: 2 * (1 + k1 * x * x) / (1 - k1 * x * x) ** 2  # noqa: E731
    opts = dict(epsabs=1e-13, epsrel=1e-13, limit=200)
    H = integrate.quad(lambda x: phi1(x) * phi2(x) / (w1 * w2), 0, top, **opts)[0]
    win1 = integrate.quad(lambda x: d1(x) * phi2(x) / (w1 * w2), 0, top, **opts)[0]
    welfare = integrate.quad(lambda x: (phi1(x) * d1(x) * phi2(x) + phi2(x) * d2(x) * phi1(x)) / (w1 * w2),
                             0, top, **opts)[0]
    e = FPA.exact(Market.of((Uniform(0, w1), 1), (Uniform(0, w2), 1)))
    assert abs(e.revenue - (top - H)) < 1e-6
    assert abs(e.welfare - welfare) < 1e-6
    assert abs(e.win_probability[0] - win1) < 1e-6
    assert abs(sum(e.win_probability) - 1.0) < 1e-9
    assert abs(e.revenue + e.surplus - e.welfare) < 1e-12
    # Proposition 5.2's remark: first price is not revenue equivalent to second price (E[min value]) here,
    # and it allocates inefficiently (welfare below E[max value])
    lo, hi = sorted((w1, w2))
    spa = integrate.quad(lambda t: (1 - t / lo) * (1 - t / hi), 0, lo)[0]
    best = hi - integrate.quad(lambda t: min(t / lo, 1.0) * t / hi, 0, hi, points=[lo])[0]
    assert e.revenue - spa > 1e-3
    assert best - e.welfare > 1e-3


def test_reserve_with_two_symmetric_uniform_buyers():
    r = 0.3
    market = Market.of((Uniform(0, 1), 1), (Uniform(0, 1), 1))
    mech = AsymmetricFirstPrice(reserve=r)
    eq = mech.solve(market)
    assert abs(eq.top_bid - (1 + r * r) / 2) < 1e-12
    b = np.linspace(r, eq.top_bid, 5001)
    for k in range(2):
        assert np.max(np.abs(eq.phi(k, b) - (b + np.sqrt(b * b - r * r)))) < 1e-6
    v = np.linspace(r, 1, 5001)
    assert np.max(np.abs(eq.bid(0, v) - (v * v + r * r) / (2 * v))) < 1e-6
    e = mech.exact(market)
    # revenue = E[β(v_(1)); v_(1) >= r] with v_(1) ~ 2v dv
    revenue = integrate.quad(lambda x: (x * x + r * r) / (2 * x) * 2 * x, r, 1)[0]
    assert abs(e.revenue - revenue) < 1e-8
    assert abs(e.sold - (1 - r * r)) < 1e-12
    assert abs(e.welfare - integrate.quad(lambda x: x * 2 * x, r, 1)[0]) < 1e-8
    assert abs(e.win_probability[0] - (1 - r * r) / 2) < 1e-8


def test_monte_carlo_revenue_of_the_uniform_pair():
    w1, w2 = 1.0, 2.0
    eq = FPA.solve(Market.of((Uniform(0, w1), 1), (Uniform(0, w2), 1)))
    e = FPA.exact(Market.of((Uniform(0, w1), 1), (Uniform(0, w2), 1)))
    rng = np.random.default_rng(20260415)
    size = 400_000
    v1, v2 = rng.uniform(0, w1, size), rng.uniform(0, w2, size)
    b1, b2 = eq.bid(0, v1), eq.bid(1, v2)
    one = b1 > b2
    for draws, exact in ((np.maximum(b1, b2), e.revenue), (np.where(one, v1, v2), e.welfare),
                         (one.astype(float), e.win_probability[0])):
        z = (draws.mean() - exact) / (draws.std() / math.sqrt(size))
        assert abs(z) < 4, (draws.mean(), exact, z)


DROP_OUT = Market.of((Uniform(0, 1), 1), (Uniform(0, 1.5), 1), (Uniform(0, 2), 1))


def test_outcome_of_three_classes_matches_exact():
    # the weakest buyer's highest bid lies below the common top bid of the two others (it drops out at the top)
    eq = FPA.solve(DROP_OUT)
    assert eq.top_bids[0] < eq.top_bid - 0.1 and eq.top_bids[1] == eq.top_bids[2] == eq.top_bid
    exact = FPA.exact_metrics(DROP_OUT)
    draws = FPA.outcome(DROP_OUT, np.random.default_rng(7), 200_000)
    assert set(draws) == set(exact)
    assert abs(exact["win[1]"] + exact["win[2]"] + exact["win[3]"] - 1) < 1e-9
    for name, x in draws.items():
        sd = x.std()
        if sd == 0:
            assert x.mean() == exact[name]
            continue
        assert abs((x.mean() - exact[name]) / (sd / math.sqrt(len(x)))) < 4, name


@pytest.mark.parametrize("mech, market", [
    (FPA, Market.of((Uniform(0, 1), 1), (Uniform(0, 2), 1))),
    (FPA, Market.of((Uniform(0, 2), 2), (Uniform(0, 1), 1))),  # the single buyer drops out at the top
    (FPA, DROP_OUT),
    (AsymmetricFirstPrice(reserve=0.3), Market.of((Uniform(0, 1), 1), (Uniform(0, 2), 1))),
])
def test_equilibrium_bids_are_best_responses(mech, market):
    """Bayes–Nash: against the others' equilibrium bids, no bid on a fine grid beats β_k(v) (computed here from
    the win probability G_k(b) = F_k(φ_k(b))^(n_k - 1) Π_{j≠k} F_j(φ_j(b))^n_j; bids below r lose)."""
    eq = mech.solve(market)
    r = eq.classes.low
    b = np.linspace(r, eq.top_bid, 100_001)
    n = np.array([c.count for c in market.classes], dtype=float)
    K = len(n)

    def win(k, bids):
        F = np.array([market.classes[j].dist.cdf(eq.phi(j, bids)) for j in range(K)])
        return np.prod(F ** (n - (np.arange(K) == k))[:, None], axis=0)

    for k, c in enumerate(market.classes):
        v = r + np.linspace(0.02, 1, 25) * (c.dist.support[1] - r)
        own = (v - eq.bid(k, v)) * win(k, eq.bid(k, v))
        best = np.max((v[:, None] - b[None, :]) * win(k, b)[None, :], axis=1)
        assert np.max(best - own) < 1e-9, (k, np.max(best - own))
        # a wrong bid function loses: bidding 10% below the equilibrium bid, for values in the upper half
        high = v[v >= 0.5 * c.dist.support[1]]
        shaded = (high - 0.9 * eq.bid(k, high)) * win(k, 0.9 * eq.bid(k, high))
        assert np.min(best[v >= 0.5 * c.dist.support[1]] - shaded) > 1e-4


@pytest.mark.parametrize("market, reserve, argument", [
    (Market.of((Exponential(), 1), (Uniform(0, 1), 1)), None, "buyers"),  # unbounded support
    (Market.of((Uniform(0, 1), 1), (Uniform(0.5, 2), 1)), None, "buyers"),  # lower ends differ
    (Market.of((Uniform(0, 1), 1), (Uniform(0, 2), 1)), 1.0, "reserve"),  # reserve at a class's top
    (Market.of((Uniform(0, 1), 1), (Uniform(0.5, 2), 1)), 0.2, "reserve"),  # reserve below a lower end
    (Market.iid(Uniform(0, 1), 1), None, "buyers"),  # one buyer
    (Market.of((Uniform(0, 1), 11), (Uniform(0, 2), 10)), None, "buyers"),  # more than MAX_BUYERS = 20
    (Market.of((Uniform(0, 1), 1), (Uniform(0, 2), 1), m=2), None, "m"),
])
def test_bad_markets_raise_input_errors(market, reserve, argument):
    with pytest.raises(InputError) as info:
        AsymmetricFirstPrice(reserve=reserve).exact(market)
    assert info.value.argument == argument


def test_bad_arguments_raise_input_errors():
    with pytest.raises(InputError) as info:
        AsymmetricFirstPrice(reserve=-1)
    assert info.value.argument == "reserve"
    eq = FPA.solve(Market.of((Uniform(0, 1.0), 1), (Uniform(0, 2.0), 1)))
    for call, argument in ((lambda: eq.bid(2, 0.5), "k"), (lambda: eq.bid(0, 1.5), "v"),
                           (lambda: eq.phi(0, 0.9), "b"), (lambda: eq.phi(True, 0.1), "k")):
        with pytest.raises(InputError) as info:
            call()
        assert info.value.argument == argument
