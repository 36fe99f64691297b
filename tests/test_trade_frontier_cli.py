"""``auction-sim trade frontier`` / ``trade solve`` (``simulator.cli.trade_frontier``): output contract."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from simulator.cli.main import main


def _run(capsys, *argv):
    rc = main(["trade", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_solve_json_uniform(capsys):
    rc, out, err = _run(capsys, "solve", "--buyer", "uniform", "--seller", "uniform", "--solution", "nash",
                        "--format", "json")
    assert rc == 0, err
    d = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    # symmetric uniform traders: Nash = the second best, each side 9/128; Π* = U* = 1/12
    assert d["seller_utility"] == pytest.approx(9 / 128, abs=1e-6)
    assert d["buyer_utility"] == pytest.approx(9 / 128, abs=1e-6)
    assert d["benchmarks"]["seller_max"] == pytest.approx(1 / 12, abs=1e-6)
    assert d["benchmarks"]["second_best"] == pytest.approx(9 / 64, abs=1e-6)
    assert {r["metric"] for r in d["results"]} == {"seller_utility", "buyer_utility", "gains"}
    assert "trade iff" in d["mechanism"]


def test_frontier_csv_out_and_plot(capsys, tmp_path):
    out_file, png = tmp_path / "f.csv", tmp_path / "f.png"
    rc, out, err = _run(capsys, "frontier", "--buyer", "exponential", "--seller", "uniform", "--points", "5",
                        "--format", "csv", "--out", str(out_file), "--plot", str(png))
    assert rc == 0, err
    assert out == "" and png.stat().st_size > 0
    frame = pd.read_csv(out_file)
    assert set(frame.section) == {"curve", "extreme_point", "solution"}
    curve = frame[frame.section == "curve"]
    assert len(curve) == 5 and curve.seller_utility.is_monotonic_decreasing
    assert not frame[["buyer_utility", "seller_utility"]].isna().any().any()
    rc, out, err = _run(capsys, "frontier", "--buyer", "uniform", "--seller", "uniform", "--points", "3")
    assert rc == 0 and "bargaining solutions" in out and "benchmarks" in out


@pytest.mark.parametrize("argv, flag", [
    (["solve", "--buyer", "unifrm", "--seller", "uniform", "--solution", "ks"], "--buyer"),
    (["solve", "--buyer", "uniform", "--seller", "uniform:low=2,high=3", "--solution", "ks"], "--seller"),
    (["frontier", "--buyer", "uniform", "--seller", "uniform", "--points", "1"], "--points"),
    (["frontier", "--buyer", "uniform", "--seller", "uniform", "--plot", "/tmp/x.notanimage"], "--plot"),
])
def test_bad_input_is_one_line(capsys, argv, flag):
    rc, out, err = _run(capsys, *argv)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and f"error: {flag}:" in err
