"""The command line with several buyer classes (issue 14): ``--buyers COUNT*SPEC`` (repeated) in analyze,
simulate and frontier; per-class rows (surplus[k], win[k]) in every format; one-line errors for bad --buyers.

Expected values: the textbook's two-buyer instance U[0,1] vs U[0,2] (closed forms computed here: second-price
revenue E[min] = 5/12, class 1 wins w.p. 1/4 with surplus E[(v1 - v2)+] = 1/12; Myerson's revenue 31/48 with
win probabilities 5/16 and 7/16)."""
from __future__ import annotations

import contextlib
import io
import json

import pytest

from simulator import cli

TWO = ["--buyers", "1*uniform:high=1", "--buyers", "1*uniform:high=2"]


def invoke(argv):
    """``cli.main(argv)`` in process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def rows(payload):
    return {(r["mechanism"], r["metric"]): r for r in payload["results"]}


def test_analyze_per_class_rows_closed_forms():
    code, out, _ = invoke(["analyze", *TWO, "--mechanism", "spa", "--mechanism", "myerson", "--format", "json"])
    assert code == 0
    payload = json.loads(out)
    got = rows(payload)
    expected = {("spa", "revenue"): 5 / 12, ("spa", "win[1]"): 1 / 4, ("spa", "surplus[1]"): 1 / 12,
                ("myerson", "revenue"): 31 / 48, ("myerson", "win[1]"): 5 / 16, ("myerson", "win[2]"): 7 / 16}
    for key, value in expected.items():
        assert got[key]["analytic"] == pytest.approx(value, abs=1e-9), key
    assert payload["classes"][1] == {"class": 2, "count": 1, "distribution": "uniform:low=0,high=2"}
    code, table, _ = invoke(["analyze", *TWO, "--mechanism", "spa"])
    assert code == 0 and " win[2] " in table and " surplus[1] " in table


def test_simulate_json_and_csv_carry_the_classes():
    argv = ["simulate", *TWO, "--mechanism", "spa", "--samples", "20000", "--seed", "3", "--quiet"]
    code, out, _ = invoke(argv + ["--format", "json"])
    assert code == 0
    payload = json.loads(out)
    got = rows(payload)
    assert [c["count"] for c in payload["classes"]] == [1, 1] and payload["n"] == 2
    for metric in ("revenue", "surplus", "welfare", "surplus[1]", "surplus[2]", "win[1]", "win[2]"):
        row = got[("spa", metric)]
        assert row["analytic"] is not None and row["ci_valid"] and abs(row["z"]) < 4, (metric, row)
    assert got[("spa", "win[1]")]["analytic"] == pytest.approx(0.25, abs=1e-9)
    code, csv, _ = invoke(argv + ["--format", "csv"])
    lines = csv.splitlines()
    assert code == 0 and len(lines) == 1 + 8 and "nan" not in csv.lower()
    assert lines[0].startswith("mechanism,metric,estimate") and lines[5].startswith("spa,surplus[1],")


def test_one_class_by_buyers_is_dist_and_n():
    """``--buyers 5*uniform`` is ``--dist uniform --n 5``: the same output, byte for byte."""
    tail = ["--mechanism", "spa", "--samples", "5000", "--seed", "1", "--quiet", "--format", "json"]
    a = invoke(["simulate", "--buyers", "5*uniform", *tail])
    b = invoke(["simulate", "--dist", "uniform", "--n", "5", *tail])
    assert a[0] == 0 and a == b and "classes" not in json.loads(a[1])


def test_frontier_of_two_classes():
    code, out, _ = invoke(["frontier", *TWO, "--points", "4", "--format", "json"])
    assert code == 0
    payload = json.loads(out)
    assert payload["benchmarks"]["revenue_max"] == pytest.approx(31 / 48, abs=1e-9)  # Myerson
    assert payload["extreme_points"][0]["revenue"] == pytest.approx(31 / 48, abs=1e-9)
    assert len(payload["curve"]) == 4 and payload["solutions"][0]["solution"] == "ks"
    ks = payload["solutions"][0]
    assert ks["revenue"] / (31 / 48) == pytest.approx(ks["surplus"] / payload["benchmarks"]["surplus_max"])
    assert {"win[1]", "surplus[2]"} <= {r["metric"] for r in payload["results"]}
    code, csv, _ = invoke(["frontier", *TWO, "--points", "3", "--format", "csv"])
    assert code == 0 and csv.splitlines()[0].startswith("section,") and ",ks,win[2]," in csv


@pytest.mark.parametrize("argv,flag,words", [
    (["simulate", "--buyers", "2*uniform", "--dist", "uniform", "--mechanism", "spa"], "--buyers", "not both"),
    (["simulate", "--buyers", "2*uniform", "--n", "3", "--mechanism", "spa"], "--buyers", "not both"),
    (["simulate", "--buyers", "0*uniform", "--mechanism", "spa"], "--buyers", "'0*uniform'"),
    (["analyze", "--buyers", "2*uniform", "--buyers", "1.5*exponential", "--mechanism", "spa"], "--buyers",
     "'1.5*exponential'"),
    (["analyze", "--buyers", "2*nosuch", "--mechanism", "spa"], "--buyers", "unknown distribution"),
    (["frontier", "--buyers", "2*uniform:high=-1"], "--buyers", "high"),
    (["simulate", "--mechanism", "spa"], "--dist", "--buyers COUNT*SPEC"),
    (["analyze", "--dist", "uniform", "--mechanism", "spa"], "--n", "required"),
    (["frontier", *TWO, "--plot", "x.png"], "--plot", "not drawn"),
    (["solve", *TWO, "--solution", "ks"], "--buyers", "use frontier"),
    (["simulate", "--buyers", "1e9*uniform", "--buyers", "2*exponential", "--mechanism", "spa", "--mode", "profile"],
     "--buyers", "profile mode draws every buyer"),
])
def test_bad_buyers_is_one_line_exit_2(argv, flag, words):
    code, out, err = invoke(argv)
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith(f"auction-sim {argv[0]}: error: {flag}: ") and words in err, err
