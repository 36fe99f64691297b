"""Several buyer classes in the bidding family and command: first price in the asymmetric equilibrium
(``mechanisms.bidding.asymmetric``) simulated beside second price on the same draws, and the epsilon-BNE check
per class. Market: one buyer U[0, 1] against one buyer U[0, 2] (Krishna §4.3; ``004`` remark after
Proposition 5.2: first and second price then earn different revenues)."""
from __future__ import annotations

import json

import pytest

from distributions import Market
from simulator.cli.main import main
from simulator.families.bidding import classes_bne_check, simulate_classes

PAIR = ["1*uniform:high=1", "1*uniform:high=2"]


@pytest.fixture(scope="module")
def pair_sim():
    return simulate_classes(Market.from_specs(PAIR), samples=200_000, seed=11)


def test_pair_simulation_inside_exact_cis(pair_sim):
    res = pair_sim
    # second price: the efficient allocation. With V1 ~ U[0,1], V2 ~ U[0,2]: P(1 wins) = P(V1 > V2) = 1/4,
    # revenue E[min(V1, V2)] = int_0^1 (1 - x)(1 - x/2) dx = 5/12, welfare E[max] = 3/2 - 5/12 = 13/12.
    for metric, value in (("revenue", 5 / 12), ("welfare", 13 / 12), ("win[1]", 0.25), ("win[2]", 0.75)):
        assert res.exact("spa", metric) == pytest.approx(value, abs=1e-12)
        assert abs(res.z("spa", metric)) < 4, metric
    for metric in ("revenue", "welfare", "surplus", "win[1]", "win[2]", "surplus[1]", "surplus[2]"):
        assert abs(res.z("fpa", metric)) < 4, (metric, res.estimate("fpa", metric), res.exact("fpa", metric))
    # first price is inefficient (the weak buyer bids more aggressively and sometimes wins with the lower value)
    assert res.exact("fpa", "win[1]") > 0.25 + 0.05
    assert res.exact("fpa", "welfare") < 13 / 12 - 0.01
    assert res.maximum("fpa", "revenue") <= res.exact("fpa", "revenue") * 2  # bids stay below the top bid


def test_pair_revenues_differ(pair_sim):
    pair = pair_sim.paired("fpa", "spa", "revenue")
    assert pair["ci_valid"] and pair["ci_low"] > 0, pair  # first price earns more here
    exact = pair_sim.exact("fpa", "revenue") - pair_sim.exact("spa", "revenue")
    assert abs(pair["estimate"] - exact) < 4 * pair["stderr"]


def test_reserve_and_three_buyers_inside_cis():
    market = Market.from_specs(["2*uniform:high=1", "1*uniform:high=2"])
    res = simulate_classes(market, reserve=0.3, samples=60_000, seed=5)
    # sale: some value >= 0.3; P(no sale) = 0.3^2 * 0.15
    assert res.exact("spa:reserve=0.3", "sold") == pytest.approx(1 - 0.09 * 0.15, abs=1e-12)
    for name in res.mechanisms:
        for metric in ("revenue", "welfare", "sold", "win[1]", "win[2]"):
            assert abs(res.z(name, metric)) < 4, (name, metric)


def test_bne_check_separates_equilibrium_from_truthful():
    market = Market.from_specs(PAIR)
    eq = classes_bne_check(market, values=12, rivals=20_000, seed=3)
    assert not eq["significant"], eq["largest"]
    assert eq["largest"]["gain"] < 0.005
    assert {r["class"] for r in eq["rows"]} == {1, 2}
    truthful = classes_bne_check(market, bid=lambda v: v, values=12, rivals=20_000, seed=3)
    assert truthful["significant"]
    # a class-2 buyer of value v bidding truthfully earns 0; bidding v/2 already earns about (v/2) P(win) > 0.
    assert truthful["largest"]["gain"] > 0.3
    assert all(r["gain"] > 0 for r in truthful["rows"] if r["value"] > 0.2)


def test_cli_buyers(capsys, tmp_path):
    base = ["--buyers", PAIR[0], "--buyers", PAIR[1], "--format-name", "first-price"]
    assert main(["bidding", "analyze", *base, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {(r["mechanism"], r["metric"]): r["analytic"] for r in data["results"]}
    assert rows[("spa", "revenue")] == pytest.approx(5 / 12, abs=1e-12)
    assert rows[("fpa", "win[1]")] + rows[("fpa", "win[2]")] == pytest.approx(1, abs=1e-9)
    assert data["equivalence"]["fpa"]["revenue_difference"] > 0.01
    out = tmp_path / "sim.json"
    assert main(["bidding", "simulate", *base, "--samples", "20000", "--quiet", "--format", "json",
                 "--out", str(out)]) == 0
    sim = json.loads(out.read_text())
    assert "NaN" not in out.read_text()
    assert {r["mechanism"] for r in sim["results"]} == {"fpa", "spa", "fpa - spa"}
    assert main(["bidding", "check", *base, "--values", "3", "--rivals", "2000", "--bid", "truthful",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["significant"] is True


@pytest.mark.parametrize("extra, flag", [
    (["--buyers", PAIR[1], "--format-name", "all-pay"], "--format-name"),
    (["--buyers", PAIR[1], "--format-name", "first-price", "--mode", "profile"], "--mode"),
    (["--format-name", "first-price", "--dist", "uniform"], "--buyers"),
    (["--format-name", "first-price", "--buyers", "uniform:low=1,high=2"], "--buyers"),
])
def test_cli_buyers_errors(capsys, extra, flag):
    action = "simulate" if "--mode" in extra else "analyze"
    assert main(["bidding", action, "--buyers", "uniform:high=1", *extra]) == 2
    err = capsys.readouterr().err
    assert flag in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("w", [1.4, 1.9, 2.1])
def test_uniform_pair_solves_where_shooting_once_failed(w):
    """U[0,1] vs U[0,w] at top values where the shot just above b̄ once stepped a solution below r (F/f = 0/0)
    and the search ended without its path. Closed form (Krishna §4.3): b̄ = 1/(1/w1 + 1/w2),
    φ_1 = 2b/(1 + k b²), φ_2 = 2b/(1 - k b²), k = 1/w1² - 1/w2²."""
    import numpy as np

    from mechanisms.bidding.asymmetric import AsymmetricFirstPrice

    eq = AsymmetricFirstPrice().solve(Market.from_specs(["1*uniform:high=1", f"1*uniform:high={w!r}"]))
    k = 1.0 - 1.0 / w ** 2
    assert eq.top_bid == pytest.approx(1.0 / (1.0 + 1.0 / w), abs=1e-9)
    b = np.linspace(0.05, 0.95, 7) * eq.top_bid
    assert np.max(np.abs(eq.phi(0, b) - 2 * b / (1 + k * b * b))) < 1e-6
    assert np.max(np.abs(eq.phi(1, b) - 2 * b / (1 - k * b * b))) < 1e-6
