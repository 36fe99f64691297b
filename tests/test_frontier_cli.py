"""auction-sim frontier / solve: the DESIGN's JSON shape, the ratios, --simulate CIs, plot, errors."""
import json
import subprocess
import sys

import pytest

from distributions import Market
from mechanisms import benchmarks
from mechanisms.bargaining import ks_solution


def cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "simulator.cli", *args], capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_solve_json_matches_the_library_and_the_benchmarks():
    out = json.loads(cli("solve", "--dist", "uniform", "--n", "3", "--solution", "ks", "--format", "json").stdout)
    market = Market.iid("uniform", 3)
    sol = ks_solution(market)
    assert set(out) >= {"distribution", "n", "results", "benchmarks", "revenue_ratio", "surplus_ratio",
                        "welfare_ratio"}
    assert set(out["benchmarks"]) == {"opt", "revenue_max", "surplus_max"}
    # OPT = E[max of 3 uniforms] = 3/4; U* = E[v] = 1/2 (the lottery, MHR)
    assert out["benchmarks"]["opt"] == pytest.approx(0.75)
    assert out["benchmarks"]["surplus_max"] == pytest.approx(0.5)
    assert out["revenue_ratio"] == pytest.approx(out["surplus_ratio"])  # KS fairness
    rev = next(r for r in out["results"] if r["metric"] == "revenue")
    assert rev["analytic"] == pytest.approx(sol.revenue)
    assert out["welfare_ratio"] == pytest.approx(sol.welfare / benchmarks.opt(market))


def test_solve_simulated_ci_contains_exact():
    out = json.loads(cli("solve", "--dist", "example42", "--n", "100", "--solution", "nash", "--simulate", "400000",
                         "--format", "json").stdout)
    for r in out["results"]:
        if r["metric"] in ("revenue", "surplus", "welfare"):
            z = (r["estimate"] - r["analytic"]) / max(r["stderr"], 1e-12)
            assert abs(z) < 4, r


def test_frontier_plot_and_table(tmp_path):
    png = tmp_path / "f.png"
    proc = cli("frontier", "--dist", "lomax:shape=3", "--n", "5", "--points", "5", "--simulate", "100000",
               "--plot", str(png))
    assert png.stat().st_size > 10_000
    assert "bargaining solutions" in proc.stdout and "cross-nash" in proc.stdout
    out = json.loads(cli("frontier", "--dist", "lomax:shape=3", "--n", "5", "--points", "5",
                         "--format", "json").stdout)
    assert len(out["curve"]) == 5 and out["extreme_points"] and len(out["solutions"]) == 3


@pytest.mark.parametrize("args,flag", [
    (["solve", "--dist", "uniform", "--n", "0", "--solution", "ks"], "--n"),
    (["solve", "--dist", "uniform", "--n", "3", "--solution", "egal"], "--solution"),
    (["frontier", "--dist", "nosuch", "--n", "3"], "--dist"),
    (["frontier", "--dist", "uniform", "--n", "3", "--points", "1"], "--points"),
    (["frontier", "--dist", "uniform", "--n", "3", "--m", "5"], "--m"),
])
def test_bad_input_one_line_exit_2(args, flag):
    proc = cli(*args, check=False)
    assert proc.returncode == 2
    assert flag in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
