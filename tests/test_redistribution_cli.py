"""``auction-sim redistribute analyze|simulate``: the output contract (json, csv, table, --out, one-line errors)
and the reproduction script ``scripts/redistribution.py --quick``."""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import pathlib

import pandas as pd
import pytest

from simulator.cli.main import main

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(argv, capsys):
    code = main(["redistribute", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_analyze_json(capsys):
    code, out, _ = run(["analyze", "--dist", "uniform", "--n", "10", "--mechanism", "cavallo",
                        "--mechanism", "green-laffont", "--format", "json"], capsys)
    assert code == 0
    rows = {(r["mechanism"], r["metric"]): r["analytic"] for r in json.loads(out)["results"]}
    assert rows[("cavallo", "budget_surplus")] == pytest.approx(2 / 110, rel=1e-9)
    assert rows[("green-laffont", "efficiency_loss")] == pytest.approx(1 / 110, rel=1e-9)


def test_analyze_partnership_table(capsys):
    code, out, _ = run(["analyze", "--dist", "uniform", "--shares", "0.8,0.2", "--mechanism", "partnership"],
                       capsys)
    assert code == 0 and "criterion" in out and "dissolvable" in out
    code, out, _ = run(["analyze", "--dist", "uniform", "--shares", "0.8,0.2", "--mechanism", "partnership",
                        "--format", "json"], capsys)
    rows = {r["metric"]: r["analytic"] for r in json.loads(out)["results"]}
    assert rows["criterion"] == pytest.approx(1 / 3 - 0.68 / 2, abs=1e-12) and rows["dissolvable"] == 0.0


def test_simulate_csv_and_out(capsys, tmp_path):
    path = tmp_path / "r.csv"
    code, out, _ = run(["simulate", "--dist", "uniform", "--n", "4", "--mechanism", "cavallo", "--mechanism",
                        "cavallo-own-report", "--samples", "5000", "--profiles", "30", "--format", "csv", "--out",
                        str(path)], capsys)
    assert code == 0 and out == ""
    frame = pd.read_csv(path)
    assert set(frame["section"]) == {"result", "check"}
    checks = frame[frame["section"] == "check"].set_index("mechanism")
    assert checks.loc["cavallo", "violation"] in (False, "False")
    assert checks.loc["cavallo-own-report", "violation"] in (True, "True")
    assert not frame[frame["section"] == "result"]["estimate"].isna().any()


def test_simulate_json_partnership(capsys):
    code, out, _ = run(["simulate", "--dist", "uniform", "--shares", "0.5,0.5", "--mechanism",
                        "partnership-bidding", "--samples", "3000", "--opponents", "2000", "--format",
                        "json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["partial"] is False and data["shares"] == [0.5, 0.5]
    assert data["checks"][0]["violation"] is False
    assert "NaN" not in out


@pytest.mark.parametrize("argv, flag", [
    (["analyze", "--dist", "uniform", "--mechanism", "cavallo"], "--n"),
    (["analyze", "--dist", "uniform", "--shares", "0.7,0.2", "--mechanism", "partnership"], "--shares"),
    (["analyze", "--dist", "uniform", "--shares", "0.7,0.3", "--mechanism", "partnership-bidding"], "--shares"),
    (["analyze", "--dist", "uniform", "--n", "3", "--mechanism", "partnership"], "--mechanism"),
    (["analyze", "--dist", "uniform", "--n", "3", "--mechanism", "vickrey"], "--mechanism"),
    (["analyze", "--dist", "uniform", "--n", "3", "--m", "3", "--mechanism", "cavallo"], "--m"),
    (["simulate", "--dist", "uniform", "--n", "3", "--mechanism", "dagv", "--samples", "0"], "--samples"),
])
def test_errors_are_one_line(argv, flag, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2 and err.count("\n") == 1 and f"error: {flag}" in err, err


def test_script_quick(tmp_path):
    out = tmp_path / "o"
    spec = importlib.util.spec_from_file_location("redistribution_script", ROOT / "scripts" / "redistribution.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    with contextlib.redirect_stdout(io.StringIO()):
        assert script.main(["--quick", "--samples", "4000", "--out", str(out)]) == 0
    left = pd.read_csv(out / "redistribution_leftover.csv")
    uni = left[(left["dist"] == "uniform")].drop_duplicates("n").set_index("n")
    assert uni.loc[10.0, "cavallo_left_over"] == pytest.approx(2 / 110, rel=1e-9)
    region = pd.read_csv(out / "partnership_region.csv")
    two = region[(region["dist"] == "uniform") & (region["n"] == 2)]
    # r1^2 + r2^2 <= 2/3, i.e. r1 in [0.2113, 0.7887]
    assert ((two["r1"] ** 2 + two["r2"] ** 2 <= 2 / 3) == two["dissolvable"]).all()
    assert (out / "redistribution.png").stat().st_size > 10_000
