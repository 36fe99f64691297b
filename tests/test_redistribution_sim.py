"""Redistribution by simulation: estimates inside their CIs around closed forms written here (uniform [0, 1]
values, E[v_(k)] = (n+1-k)/(n+1)), the budget checks over every draw, and the incentive checks, which must
find nothing for the mechanisms and a violation for the deliberately broken variants."""
from __future__ import annotations

import numpy as np
import pytest

from distributions import Market, parse_spec
from mechanisms.redistribution.dagv import DAGV
from mechanisms.redistribution.deviation import bayesian_gain, dominance_gain, interim_utility
from mechanisms.redistribution.partnership import PartnershipMechanism
from simulator.families.redistribution import check_rows, simulate_redistribution

U = parse_spec("uniform")
SMALL = dict(profiles=100, opponents=4000, types=8, grid=25)


def z(result, mech, metric, exact):
    est, err = result.estimate(mech, metric)
    return (est - exact) / err


@pytest.fixture(scope="module")
def iid_run():
    names = ["cavallo", "green-laffont", "dagv", "cavallo-own-report", "dagv-conditional"]
    return simulate_redistribution(names, Market.iid(U, 5), samples=60_000, seed=11, **SMALL)


def test_iid_estimates_inside_ci(iid_run):
    n, res = 5, iid_run.result
    e1, e2, e3 = 5 / 6, 4 / 6, 3 / 6
    closed = {
        ("cavallo", "welfare"): e1, ("cavallo", "collected"): e2,
        ("cavallo", "redistributed"): (n - 2) / n, ("cavallo", "budget_surplus"): 2 / (n * (n + 1)),
        ("cavallo", "agent_utility"): (e1 - 2 / (n * (n + 1))) / n,
        ("green-laffont", "welfare"): e1 - 1 / (n * (n + 1)),
        ("green-laffont", "efficiency_loss"): 1 / (n * (n + 1)),
        ("green-laffont", "redistributed"): (n - 2) / n * e2 + 2 / n * e3,
        ("green-laffont", "agent_utility"): (e1 - 1 / (n * (n + 1))) / n,
        ("dagv", "welfare"): e1, ("dagv", "agent_utility"): e1 / n, ("dagv", "transfer"): 0.0,
    }
    zs = {k: z(res, *k, v) for k, v in closed.items()}
    assert all(abs(x) < 4 for x in zs.values()), zs
    # the code's own exact values sit in the rows too (and agree with the closed forms above)
    assert res.row("cavallo", "budget_surplus")["analytic"] == pytest.approx(2 / 30, rel=1e-9)


def test_budget_over_every_draw(iid_run):
    assert iid_run.budget("cavallo")[0] >= 0.0  # never a deficit
    for name in ("green-laffont", "dagv"):
        low, high = iid_run.budget(name)
        assert max(-low, high) < 1e-12  # balanced on every draw
    assert iid_run.result.minimum("cavallo", "min_utility") >= 0.0  # ex-post IR


def test_incentive_checks(iid_run):
    rows = {r["mechanism"]: r for r in check_rows(iid_run)}
    assert not rows["cavallo"]["violation"] and rows["cavallo"]["max_gain"] <= 1e-12
    assert not rows["green-laffont"]["violation"] and rows["green-laffont"]["max_gain"] <= 1e-12
    assert not rows["dagv"]["violation"]
    assert rows["cavallo-own-report"]["violation"] and rows["cavallo-own-report"]["max_gain"] > 0.01
    assert rows["dagv-conditional"]["violation"] and rows["dagv-conditional"]["max_gain"] > 0.05


def test_broken_cavallo_gain_is_the_raised_rebate():
    # the loser ranked 2nd raises her report b in (v_(2), v_(1)): her rebate b/n grows by (b - v_(2))/n
    from mechanisms.redistribution.cavallo import Cavallo

    values = np.array([[0.9, 0.5, 0.2, 0.1]])
    rep = dominance_gain(Cavallo(own_report=True), values, np.array([0.3, 0.8, 0.95]))
    assert rep.violation and rep.agent == 1 and rep.misreport == 0.8
    assert rep.gain == pytest.approx((0.8 - 0.5) / 4, abs=1e-15)
    assert not dominance_gain(Cavallo(), values, np.linspace(0, 1, 101)).violation


def test_partnership_simulation_and_interim_ir():
    shares = (0.7, 0.3)
    market = Market.partnership(U, shares)
    run = simulate_redistribution(["partnership"], market, samples=60_000, seed=5, **SMALL)
    res = run.result
    W = [1 / 6 - r * r / 2 for r in shares]  # n = 2 uniform: W(v*) = 1/6 - r^2/2
    c = [sum(W) / 2 - w for w in W]  # the proof's c_i = E T_i: (0.1, -0.1)
    assert c == pytest.approx([0.1, -0.1], abs=1e-12)
    for i in (0, 1):
        assert abs(z(res, "partnership", f"transfer_{i + 1}", c[i])) < 4
        assert abs(z(res, "partnership", f"utility_{i + 1}", 1 / 3 + c[i])) < 4  # E[v_i G(v_i)] = E v_(1)/2
    low, high = run.budget("partnership")
    assert max(-low, high) < 1e-12
    assert not run.checks["partnership"].violation
    # interim IR binds at v_i* = r_i: U_i(v*) - r_i v* = (1/n) Σ W = (1/3 - 0.58/2)/2
    mech = PartnershipMechanism().bind(market)
    rng = np.random.default_rng(3)
    opponents = rng.random((40_000, 1))
    for i in (0, 1):
        mean, err = interim_utility(mech, shares[i], opponents, agent=i)
        assert abs((mean - shares[i] ** 2) - (1 / 3 - 0.29) / 2) < 4 * err


def test_bidding_game_simulation():
    n = 3
    run = simulate_redistribution(["partnership-bidding"], Market.partnership(U, (1 / 3,) * 3), samples=60_000,
                                  seed=8, **SMALL)
    assert abs(z(run.result, "partnership-bidding", "payment", n ** 2 / (n + 1) ** 2)) < 4
    assert abs(z(run.result, "partnership-bidding", "utility_2", 3 / 4 / 3)) < 4  # E v_(1)/n
    assert not run.checks["partnership-bidding"].violation


def test_dagv_bayesian_search_on_other_distribution():
    # exponential values, n = 3: the proof's version holds, the slides' conditional version does not
    market = Market.iid("exponential", 3)
    rng = np.random.default_rng(1)
    opponents = rng.exponential(size=(6000, 2))
    types, grid = np.array([0.2, 0.7, 1.5, 3.0]), np.linspace(0.05, 5.0, 34)
    assert not bayesian_gain(DAGV().bind(market), types, opponents, grid).violation
    bad = bayesian_gain(DAGV(conditional=True).bind(market), types, opponents, grid)
    assert bad.violation and bad.misreport > bad.value


def test_cavallo_two_units():
    # m = 2, n = 6: keeps m (m+1)/n E[v_(3) - v_(4)] = 6/42; welfare E[v_(1) + v_(2)] = 11/7
    market = Market.iid(U, 6, 2)
    run = simulate_redistribution(["cavallo"], market, samples=30_000, seed=2, profiles=60, grid=21)
    assert abs(z(run.result, "cavallo", "budget_surplus", 6 / 42)) < 4
    assert abs(z(run.result, "cavallo", "welfare", 6 / 7 + 5 / 7)) < 4
    assert run.budget("cavallo")[0] >= 0.0 and not run.checks["cavallo"].violation
