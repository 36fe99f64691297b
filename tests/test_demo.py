"""``auction-sim demo``: the main job on defaults (subprocess), and the helpers it shares with scripts/."""
import json
import math
import os
import subprocess
import sys
from types import SimpleNamespace

import pandas as pd
import pytest

from simulator.paper.reproduce import ci_contains, market_seed, paper_bounds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], capture_output=True, text=True,
                          timeout=900, cwd=ROOT, env=env)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = cli("demo", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout


def test_demo_writes_table_csv_png_and_provenance(demo):
    out, stdout = demo
    for name in ("demo_cells.csv", "demo_frontier.csv", "demo_example42.png", "demo_frontier.png", "provenance.json"):
        assert (out / name).exists() and (out / name).stat().st_size > 0, name
    assert (out / "demo_example42.png").read_bytes()[:4] == b"\x89PNG"
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == 0 and prov["samples"] == 20000
    assert {"numpy", "numba", "scipy", "pandas", "matplotlib", "python"} <= set(prov["versions"])
    assert "demo" in prov["command_line"] and prov["timestamp_utc"]
    assert prov["timings"]["total_s"] > 0
    assert "Example 4.2" in stdout and "Table-1 cells" in stdout and "Frontier of" in stdout


def test_demo_numbers(demo):
    out, _ = demo
    f = pd.read_csv(out / "demo_cells.csv")
    ex = f[(f.section == "example42") & (f.solution == "ks")].sort_values("n")
    assert (abs(ex.revenue_ratio - ex.surplus_ratio) < 1e-6).all()  # KS fairness
    assert ex.welfare_ratio.is_monotonic_decreasing and (ex.welfare_ratio > 0.5).all()
    nash = f[(f.section == "example42") & (f.solution == "nash")].sort_values("n")
    assert (nash.welfare_ratio.to_numpy() < ex.welfare_ratio.to_numpy()).all()  # Nash falls faster (Theorem 5.1)
    sims = f[f.sim_welfare.notna()]
    assert len(sims) >= 20
    assert sims[["sim_welfare_ci_low", "sim_welfare_ci_high", "welfare_ci_contains_exact"]].notna().all().all()
    assert sims.welfare_ci_contains_exact.astype(bool).mean() > 0.7
    small = f[(f.section == "example42") & (f.n <= 1000)]
    assert small.sim_welfare.notna().all()  # profile mode always reaches these
    table = f[f.section == "table1"]
    lomax = table[table.distribution == "lomax:shape=3"]
    assert lomax.meets_bound.astype(bool).all()


def test_demo_bad_argument_is_one_line_exit_2(tmp_path):
    proc = cli("demo", "--out", str(tmp_path / "x"), "--samples", "0")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--samples" in proc.stderr


# ---------------------------------------------------------------------- shared helpers
def test_paper_bounds_by_class():
    reg_anti = SimpleNamespace(regular=True, anti_mhr=True, mhr=False)
    mhr = SimpleNamespace(regular=True, anti_mhr=False, mhr=True)
    assert paper_bounds("ks", reg_anti, 10) == [("Thm 4.1(i)", 0.5), ("Thm 4.1(ii)", pytest.approx(10 / 11))]
    assert paper_bounds("nash", reg_anti, 10) == [("Thm 5.2", pytest.approx(0.9))]
    assert paper_bounds("nash", mhr, 10) == []
    assert paper_bounds("cross-nash", mhr, 10) == [("Thm 5.3(i)", 0.5)]
    with pytest.raises(ValueError):
        paper_bounds("kalai", mhr, 10)


def test_market_seeds_and_ci_slack():
    a, b = market_seed(0, "uniform", 10), market_seed(0, "uniform", 100)
    assert a != b and a == market_seed(0, "uniform", 10) and 0 <= a < 2 ** 63
    assert ci_contains(1.0 - 1e-16, 1.0 - 1e-16, 1.0) and not ci_contains(0.9, 0.99, 1.0)
    assert not math.isnan(float(market_seed(5, "x")))


def test_cells_frame_keeps_large_seeds_exact():
    """A whole-number column missing in some rows stays exact (not a float that loses the seed's digits)."""
    from simulator.paper.reproduce import cells_frame

    seed = 8506221768809880123  # > 2^53: a float would print 8.50622176880988e+18
    text = cells_frame([{"sim_seed": seed, "x": 1.5}, {"x": 2.0}]).to_csv(index=False)
    assert str(seed) in text.splitlines()[1] and "e+18" not in text


def test_demo_asymmetric_cells(demo):
    """Section 4 against the textbook's two buyers U[0,1], U[0,2] in closed form: second price 5/12 (the strong
    buyer wins 3/4), own monopoly reserves 1/2, 1: 5/8, Myerson 31/48 with win probabilities 5/16, 7/16; and the
    1e6 weak + 3 strong market's second price: E[v_(2)] with the weak top at 1 and the strong three on [0, 2]."""
    out, stdout = demo
    f = pd.read_csv(out / "demo_asymmetric.csv").set_index(["market", "mechanism", "metric"])
    two = "two buyers U[0,1], U[0,2]"
    expected = {("spa", "revenue"): 5 / 12, ("spa", "win[2]"): 3 / 4, ("spa:reserves=monopoly", "revenue"): 5 / 8,
                ("myerson", "revenue"): 31 / 48, ("myerson", "win[1]"): 5 / 16, ("myerson", "win[2]"): 7 / 16}
    for (mech, metric), value in expected.items():
        assert f.loc[(two, mech, metric), "exact"] == pytest.approx(value, rel=1e-9)
    assert f.ci_contains_exact.astype(bool).mean() > 0.7 and "Asymmetric buyers" in stdout
    big = f.loc["1e6 weak U[0,1] + 3 strong U[0,2]"]
    assert (big["mode"] == "orderstat").all()
    assert big.loc[("spa", "win[1]"), "exact"] + big.loc[("spa", "win[2]"), "exact"] == pytest.approx(1.0, rel=1e-9)
