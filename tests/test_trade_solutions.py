"""The trade frontier's KS and Nash solutions run as mechanisms (``mechanisms.trade.solutions``): exact values
against the frontier's (payment identity) and, for two uniform traders, the closed form (by symmetry both are
the second best, gains 9/64, split equally); simulated utilities inside their CIs (|z| < 4) and the budget 0 on
every draw (AGV transfers); the command line's ``trade simulate --mechanism ks --mechanism nash``."""
import json

import numpy as np
import pytest

from distributions import Market, parse_spec
from distributions.errors import InputError
from mechanisms.trade.frontier import TradeFrontier
from mechanisms.trade.solutions import BargainingSolution, StaircaseMechanism
from mechanisms.trade.spec import parse_trade_mechanism
from simulator import cli
from simulator.families.trade import simulate_trade

UNIFORM = Market.trade(parse_spec("uniform"), parse_spec("uniform"))
GAP = Market.trade(parse_spec("mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)"), parse_spec("uniform"))


def test_uniform_solutions_are_the_second_best_split_equally():
    for kind in ("ks", "nash"):
        ex = BargainingSolution(kind).exact(UNIFORM)
        # symmetric traders: the frontier is symmetric, both solutions sit on the diagonal, which is the second
        # best (max Π + U): trade iff v - c >= 1/4, gains ∫_{1/4}^1 d (1 - d) dd = 9/64
        gains = (0.5 - 1 / 3) - (0.25 ** 2 / 2 - 0.25 ** 3 / 3)
        assert ex.gains == pytest.approx(gains, abs=1e-6)  # the frontier's grid (O(h^2))
        assert ex.seller_utility == pytest.approx(gains / 2, abs=1e-6)
        assert ex.budget == 0.0 and ex.trade == pytest.approx(9 / 32, abs=1e-6)  # Pr[v - c >= 1/4]


@pytest.mark.parametrize("market", [UNIFORM, GAP], ids=["uniform", "gap"])
def test_thresholds_reproduce_the_frontier_points(market):
    """The mechanism's payments (sums of threshold payments on the grid, then AGV transfers) against the
    frontier's utilities (information rents by the payment identity plus the slack)."""
    fr = TradeFrontier.of_market(market, max_points=20)
    for point in fr.points:
        ex = StaircaseMechanism(fr, point).exact()
        assert ex.seller_utility == pytest.approx(point.seller_utility, abs=1e-12)
        assert ex.buyer_utility == pytest.approx(point.buyer_utility, abs=1e-12)
        assert ex.budget == 0.0


def test_simulated_solutions_inside_their_cis_and_balanced_on_every_draw():
    for market in (UNIFORM, GAP):
        mechs = [BargainingSolution("ks"), BargainingSolution("nash")]
        exact = {m.name: m.exact(market) for m in mechs}
        res = simulate_trade(mechs, market, samples=400_000, seed=7)
        for m in mechs:
            for metric in ("buyer_utility", "seller_utility", "gains", "trade", "buyer_pays"):
                assert abs(res.z(m.name, metric)) < 4, (m.name, metric)
            assert res.minimum(m.name, "budget") == 0.0 and res.maximum(m.name, "budget") == 0.0
            # the expected transfers keep every type's interim utility, not each draw's: not ex-post IR
            assert res.minimum(m.name, "buyer_utility") < 0
            assert exact[m.name].budget == 0.0
    # the lottery uses its coin: with the gap, Nash mixes two points (0 < ν < 1)
    sol = BargainingSolution("nash").solve(GAP)[0]
    assert 0.0 < sol.nu_low < 1.0


def test_spec_and_errors():
    assert parse_trade_mechanism("ks").name == "ks" and parse_trade_mechanism("nash").name == "nash"
    with pytest.raises(InputError):
        BargainingSolution("median")
    with pytest.raises(InputError) as exc:
        BargainingSolution("ks").outcome(UNIFORM, np.array([0.5]), np.array([0.2]))
    assert exc.value.argument == "coin"


def test_cli_simulate_ks_and_nash(capsys):
    code = cli.main(["trade", "simulate", "--buyer", "uniform", "--seller", "uniform", "--mechanism", "ks",
                     "--mechanism", "nash", "--samples", "20000", "--seed", "3", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {(r["mechanism"], r["metric"]): r for r in json.loads(out)["results"]}
    assert rows[("ks", "budget")]["max"] == 0.0 and rows[("nash", "budget")]["min"] == 0.0
    assert rows[("ks", "gains")]["analytic"] == pytest.approx(9 / 64, abs=1e-6)
    code = cli.main(["trade", "analyze", "--buyer", "uniform", "--seller", "uniform", "--mechanism", "nash",
                     "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert set(json.loads(out)["details"]["nash"]) == {"nu_low", "lambda_low", "lambda_high"}
