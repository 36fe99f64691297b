"""``auction-sim bidding analyze|simulate|check``: the output contract (table | json | csv, --out, no NaN, inf
as "inf"), revenue equivalence in the JSON, and bad input as one line with exit status 2."""
from __future__ import annotations

import csv
import io
import json
import math

import pytest

from simulator.cli.main import main


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_analyze_json_shows_equivalence(capsys):
    code, out, _ = run(["bidding", "analyze", "--dist", "uniform", "--n", "5", "--format-name", "first-price",
                        "--format-name", "all-pay", "--format-name", "third-price", "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert "NaN" not in out
    rev = {r["mechanism"]: r["analytic"] for r in data["results"] if r["metric"] == "revenue"}
    assert set(rev) == {"first-price", "all-pay", "third-price", "spa"}
    for name in ("first-price", "all-pay", "third-price"):
        assert rev[name] == pytest.approx(4 / 6, abs=1e-9)
        assert abs(data["equivalence"][name]["revenue_difference"]) < 1e-9
    bids = {p["quantile"]: p for p in data["bids"]["first-price"]}
    assert bids[0.5]["bid"] == pytest.approx(0.8 * 0.5, rel=1e-12)  # b = (n-1) v / n at v = 1/2


def test_simulate_csv_and_json_out(tmp_path, capsys):
    argv = ["bidding", "simulate", "--dist", "exponential", "--n", "1e30", "--format-name", "first-price",
            "--samples", "20000", "--seed", "3", "--quiet"]
    code, out, _ = run(argv + ["--format", "csv"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["mechanism"] for r in rows} == {"first-price", "spa", "first-price - spa"}
    assert all(r["partial"] == "False" for r in rows)
    rev = next(r for r in rows if r["mechanism"] == "first-price" and r["metric"] == "revenue")
    assert abs(float(rev["z"])) < 4
    target = tmp_path / "sim.json"
    code, out, _ = run(argv + ["--format", "json", "--out", str(target)], capsys)
    assert code == 0 and out == ""
    data = json.loads(target.read_text())
    assert data["partial"] is False and data["samples"] == 20000
    assert data["revenue_sd"]["first-price"] < data["revenue_sd"]["spa"]
    for row in data["results"]:
        assert all(not (isinstance(v, float) and math.isnan(v)) for v in row.values())


def test_check_table_and_json(capsys):
    base = ["bidding", "check", "--dist", "uniform", "--n", "3", "--format-name", "first-price", "--values", "6",
            "--rivals", "5000"]
    code, out, _ = run(base + ["--bid", "truthful", "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["significant"] is True and len(data["rows"]) == 6
    code, out, _ = run(base, capsys)
    assert code == 0 and "deviation" in out.splitlines()[0]


@pytest.mark.parametrize("argv, flag", [
    (["analyze", "--dist", "uniform", "--n", "2", "--format-name", "third-price"], "--n"),
    (["analyze", "--dist", "uniform", "--n", "3", "--format-name", "all-pay", "--reserve", "0.2"], "--reserve"),
    (["analyze", "--dist", "uniform", "--n", "3", "--format-name", "first-price", "--reserve", "-1"], "--reserve"),
    (["simulate", "--dist", "uniform", "--n", "5000", "--format-name", "all-pay", "--mode", "profile"], "--mode"),
    (["simulate", "--dist", "uniform", "--n", "3", "--format-name", "all-pay", "--samples", "0"], "--samples"),
    (["check", "--dist", "uniform", "--n", "3", "--format-name", "first-price", "--bid", "linear:k=-1"], "--bid"),
    (["check", "--dist", "uniform", "--n", "3", "--format-name", "first-price", "--confidence", "2"],
     "--confidence"),
])
def test_bad_input_is_one_line(argv, flag, capsys):
    code, out, err = run(["bidding"] + argv, capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"error: {flag}:" in err


def test_main_analyze_accepts_bid_formats(capsys):
    """``auction-sim analyze --mechanism fpa|fpa:reserve=R|allpay|third-price``: revenue from the bid functions,
    against the closed form for n uniform buyers with reserve r: (n-1)/(n+1) + r^n - 2n r^(n+1)/(n+1)."""
    code, out, _ = run(["analyze", "--dist", "uniform", "--n", "5", "--mechanism", "fpa", "--mechanism",
                        "fpa:reserve=0.5", "--mechanism", "allpay", "--mechanism", "third-price", "--format",
                        "json"], capsys)
    assert code == 0
    rev = {r["mechanism"]: r["analytic"] for r in json.loads(out)["results"] if r["metric"] == "revenue"}
    n, r = 5, 0.5
    assert rev["first-price:reserve=0.5"] == pytest.approx((n - 1) / (n + 1) + r ** n - 2 * n * r ** (n + 1) / (n + 1),
                                                           abs=1e-9)
    for name in ("first-price", "all-pay", "third-price"):
        assert rev[name] == pytest.approx(4 / 6, abs=1e-9)
    code, out, _ = run(["analyze", "--buyers", "uniform:high=1", "--buyers", "uniform:high=2", "--mechanism", "fpa",
                        "--format", "json"], capsys)
    assert code == 0
    rows = {r["metric"]: r["analytic"] for r in json.loads(out)["results"] if r["mechanism"] == "fpa"}
    assert rows["win[1]"] + rows["win[2]"] == pytest.approx(1, abs=1e-9)
    assert rows["revenue"] > 5 / 12 + 0.03  # above second price's E[min(V1, V2)] = 5/12


@pytest.mark.parametrize("argv", [
    ["--buyers", "uniform:high=1", "--buyers", "uniform:high=2", "--mechanism", "allpay"],
    ["--dist", "uniform", "--n", "2", "--mechanism", "third-price"],
    ["--dist", "uniform", "--n", "2", "--mechanism", "fpa:floor=1"],
    ["--dist", "uniform", "--n", "2", "--mechanism", "allpay:reserve=1"],
])
def test_main_analyze_bid_format_errors(capsys, argv):
    code, _, err = run(["analyze", *argv], capsys)
    assert code == 2 and "--mechanism" in err and len(err.strip().splitlines()) == 1


def test_main_simulate_runs_a_bid_format_beside_second_price(capsys):
    """``auction-sim simulate --mechanism fpa`` (one class: uniform n = 5, first price's revenue 2/3 = second
    price's; two classes U[0,1], U[0,2]: the asymmetric equilibrium, strong class winning 2/3 (Krishna §4.3's
    closed form gives P[weak wins] = 1/(1 + ω) at ω = 2), second price's 3/4); a bid format with other
    mechanisms is one line and exit 2."""
    code, out, _ = run(["simulate", "--dist", "uniform", "--n", "5", "--mechanism", "fpa", "--samples", "40000",
                        "--quiet", "--format", "json"], capsys)
    rows = {(r["mechanism"], r["metric"]): r for r in json.loads(out)["results"]}
    assert code == 0 and abs(rows[("first-price", "revenue")]["estimate"] - 2 / 3) < 4 * rows[("first-price", "revenue")]["stderr"]
    code, out, _ = run(["simulate", "--buyers", "1*uniform:high=1", "--buyers", "1*uniform:high=2", "--mechanism", "fpa",
                        "--samples", "40000", "--quiet", "--format", "json"], capsys)
    rows = {(r["mechanism"], r["metric"]): r for r in json.loads(out)["results"]}
    assert code == 0
    assert rows[("fpa", "win[2]")]["analytic"] == pytest.approx(2 / 3, abs=1e-8)
    assert rows[("spa", "win[2]")]["analytic"] == pytest.approx(3 / 4, abs=1e-9)
    assert abs(rows[("fpa", "win[2]")]["z"]) < 4
    code, _, err = run(["simulate", "--dist", "uniform", "--n", "5", "--mechanism", "fpa", "--mechanism", "myerson"],
                       capsys)
    assert code == 2 and err.count("\n") == 1 and "--mechanism" in err


def test_formats_together_from_the_command_line(capsys):
    """Several formats in one run, on the same draws (issue 18): ``simulate`` takes them as mechanisms,
    ``bidding simulate`` as repeated --format-name with a paired difference row each; a format twice is one line
    and exit 2 naming --format-name."""
    code, out, _ = run(["simulate", "--dist", "uniform", "--n", "5", "--mechanism", "fpa", "--mechanism", "allpay",
                        "--mechanism", "third-price", "--samples", "30000", "--quiet", "--format", "json"], capsys)
    rows = {(r["mechanism"], r["metric"]): r for r in json.loads(out)["results"]}
    assert code == 0
    for name in ("first-price", "all-pay", "third-price", "spa"):
        row = rows[(name, "revenue")]
        assert abs(row["estimate"] - 2 / 3) < 4 * row["stderr"], name
    code, out, _ = run(["bidding", "simulate", "--dist", "uniform", "--n", "4", "--format-name", "first-price",
                        "--format-name", "all-pay", "--samples", "30000", "--quiet", "--format", "json"], capsys)
    payload = json.loads(out)
    diffs = {r["mechanism"]: r for r in payload["results"] if " - " in r["mechanism"]}
    assert code == 0 and payload["format_names"] == ["first-price", "all-pay"]
    assert set(diffs) == {"first-price - spa", "all-pay - spa"}
    assert all(abs(r["z"]) < 4 and r["analytic"] == pytest.approx(0.0, abs=1e-9) for r in diffs.values())
    code, _, err = run(["bidding", "simulate", "--dist", "uniform", "--n", "4", "--format-name", "first-price",
                        "--format-name", "first-price", "--samples", "100", "--quiet"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--format-name" in err
