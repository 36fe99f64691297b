"""``auction-sim trade analyze|simulate`` (issue 16): the output contract (json, csv, table, --out), the values
for two uniform traders computed here, bad input as one line with exit status 2, and the hook through which
``simulator.cli.trade_frontier`` adds its own subcommands."""
import json
import sys
import types

import pytest

from simulator import cli

BASE = ["--buyer", "uniform", "--seller", "uniform"]


def run_cli(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_analyze_json_uniform_values(capsys):
    code, out, err = run_cli(["trade", "analyze", *BASE, "--mechanism", "vcg", "--mechanism", "agv",
                              "--mechanism", "second-best", "--mechanism", "posted:price=best", "--format", "json"],
                             capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["buyer"] == "uniform:low=0,high=1" and data["first_best_gains"] == pytest.approx(1 / 6)
    value = {(r["mechanism"], r["metric"]): r["analytic"] for r in data["results"]}
    assert value[("vcg", "budget")] == pytest.approx(-1 / 6)
    assert value[("second-best", "gains")] == pytest.approx(9 / 64)
    assert value[("agv", "budget")] == 0.0
    ratio = {(r["mechanism"], r["metric"]): r["ratio"] for r in data["results"]}
    assert ratio[("second-best", "gains")] == pytest.approx((9 / 64) / (1 / 6))
    assert ratio[("vcg", "budget")] is None  # no ratio: null, never NaN
    assert data["details"]["second-best"]["a"] == pytest.approx(1 / 3)
    assert data["details"]["agv"]["buyer_worst_utility"] == pytest.approx(-1 / 3)
    assert data["details"]["posted:price=best"]["price"] == pytest.approx(0.5, abs=1e-7)


def test_analyze_table_and_csv(capsys, tmp_path):
    code, out, err = run_cli(["trade", "analyze", *BASE, "--mechanism", "double:k=0.5"], capsys)
    assert code == 0 and "double:k=0.5" in out and "gains" in out and "nan" not in out.lower()
    target = tmp_path / "t.csv"
    code, out, err = run_cli(["trade", "analyze", *BASE, "--mechanism", "seller-offer", "--format", "csv",
                              "--out", str(target)], capsys)
    assert code == 0 and out == ""
    lines = target.read_text().splitlines()
    assert lines[0] == "mechanism,metric,analytic,ratio" and len(lines) == 1 + 7


def test_simulate_json_contract_and_same_seed_same_numbers(capsys):
    argv = ["trade", "simulate", *BASE, "--mechanism", "agv", "--mechanism", "vcg", "--samples", "20000",
            "--seed", "3", "--format", "json", "--quiet"]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["samples"] == 20000 and data["seed"] == 3 and data["partial"] is False
    assert data["seller"] == "uniform:low=0,high=1"
    rows = {(r["mechanism"], r["metric"]): r for r in data["results"]}
    assert rows[("agv", "budget")]["min"] == 0.0 == rows[("agv", "budget")]["max"]
    assert rows[("vcg", "gains")]["analytic"] == pytest.approx(1 / 6)
    assert abs(rows[("vcg", "gains")]["z"]) < 4
    for row in data["results"]:
        assert set(row) >= {"estimate", "stderr", "ci_low", "ci_high", "analytic", "z", "min", "max", "ci_valid"}
    code, again, _ = run_cli(argv, capsys)
    assert again == out


def test_simulate_table_and_csv(capsys):
    code, out, err = run_cli(["trade", "simulate", *BASE, "--mechanism", "posted:price=0.5", "--samples", "5000",
                              "--quiet"], capsys)
    assert code == 0 and "posted:price=0.5" in out and "ci_low" in out
    code, out, err = run_cli(["trade", "simulate", *BASE, "--mechanism", "buyer-offer", "--samples", "5000",
                              "--format", "csv", "--quiet"], capsys)
    assert code == 0 and out.splitlines()[0].startswith("mechanism,metric,estimate") and "partial" in out


@pytest.mark.parametrize("argv, flag", [
    (["trade", "analyze", "--buyer", "unif", "--seller", "uniform", "--mechanism", "vcg"], "--buyer"),
    (["trade", "analyze", "--buyer", "uniform", "--seller", "pareto:shape=0.5", "--mechanism", "vcg"], "--seller"),
    (["trade", "analyze", *BASE, "--mechanism", "nope"], "--mechanism"),
    (["trade", "analyze", *BASE, "--mechanism", "posted:price=-2"], "--mechanism"),
    (["trade", "analyze", "--buyer", "exponential", "--seller", "uniform", "--mechanism", "double:k=0.5"],
     "--mechanism"),
    (["trade", "analyze", *BASE, "--mechanism", "second-best:a=1"], "--mechanism"),
    (["trade", "analyze", *BASE, "--mechanism", "vcg", "--mechanism", "vcg"], "--mechanism"),
    (["trade", "simulate", *BASE, "--mechanism", "vcg", "--samples", "0"], "--samples"),
    (["trade", "simulate", *BASE, "--mechanism", "vcg", "--seed", "-1"], "--seed"),
    (["trade", "simulate", *BASE, "--mechanism", "vcg", "--confidence", "2"], "--confidence"),
])
def test_bad_input_is_one_line_exit_2(argv, flag, capsys):
    code, out, err = run_cli(argv, capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and f"error: {flag}" in err, err


def test_trade_without_subcommand_is_exit_2(capsys):
    code, out, err = run_cli(["trade"], capsys)
    assert code == 2 and "usage" in err


def test_trade_frontier_module_registers_its_subcommands(monkeypatch):
    fake = types.ModuleType("simulator.cli.trade_frontier")

    def register(subparsers):
        p = subparsers.add_parser("frontier")
        p.set_defaults(func=lambda args: 0)
    fake.register = register
    monkeypatch.setitem(sys.modules, "simulator.cli.trade_frontier", fake)
    parser = cli.build_parser()
    args = parser.parse_args(["trade", "frontier"])
    assert args.trade_command == "frontier"


def test_ctrl_c_prints_the_finished_chunks_marked_partial(capsys, monkeypatch):
    import simulator.families.trade as family

    real, calls = family.draw_traders, []

    def interrupted(market, rng, size):
        calls.append(size)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(market, rng, size)
    monkeypatch.setattr(family, "draw_traders", interrupted)
    code, out, err = run_cli(["trade", "simulate", *BASE, "--mechanism", "vcg", "--samples", str(3 << 16),
                              "--format", "json", "--quiet"], capsys)
    assert code == 130
    data = json.loads(out)
    assert data["partial"] is True and data["samples"] == 1 << 16 and data["samples_requested"] == 3 << 16
