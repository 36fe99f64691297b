"""``auction-sim simulate`` (issue 4): the JSON contract, bad input (one line on stderr, exit 2), Ctrl-C
(partial estimates, exit 130), and the same seed giving identical JSON with 1 and 2 numba threads."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import cli
from simulator.core import engine

ROOT = Path(__file__).resolve().parents[1]
BASE = ["simulate", "--dist", "uniform:low=0,high=1", "--n", "5", "--mechanism", "spa", "--samples", "20000",
        "--seed", "3"]


def run_cli(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_follows_the_contract(capsys, tmp_path):
    target = tmp_path / "out.json"
    code, out, err = run_cli(BASE + ["--mechanism", "lottery", "--format", "json", "--out", str(target)], capsys)
    assert code == 0 and out == ""
    data = json.loads(target.read_text())
    assert data["distribution"] == "uniform:low=0,high=1" and data["n"] == 5
    assert data["samples"] == 20000 and data["seed"] == 3 and data["partial"] is False
    assert [(r["mechanism"], r["metric"]) for r in data["results"]] == [
        (m, g) for m in ("spa", "lottery") for g in ("revenue", "surplus", "welfare", "sold")]
    for row in data["results"]:
        assert set(row) >= {"mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high", "analytic", "z",
                            "ratio"}  # issue 13: the rows carry z and ratio like the table and the CSV
        assert isinstance(row["analytic"], float)
        assert row["ci_low"] <= row["estimate"] <= row["ci_high"]
    spa_revenue = data["results"][0]
    assert abs(spa_revenue["estimate"] - 4 / 6) < 4 * spa_revenue["stderr"]  # E[second highest of 5] = 4/6


def test_table_and_csv(capsys):
    code, out, _ = run_cli(BASE + ["--format", "csv"], capsys)
    assert code == 0 and out.splitlines()[0].startswith("mechanism,metric,estimate,stderr,ci_low,ci_high")
    code, out, _ = run_cli(BASE, capsys)
    assert code == 0 and "revenue" in out and "analytic" in out


@pytest.mark.parametrize("extra,flag", [
    (["--samples", "0"], "--samples"), (["--samples", "abc"], "--samples"),
    (["--mechanism", "no-such-auction"], "--mechanism"), (["--precision", "1.5"], "--precision"),
    (["--precision", "0"], "--precision"), (["--n", "2.5"], "--n"), (["--n", "1e12", "--mode", "profile"], "--n"),
    (["--n", "1e400", "--mode", "orderstat"], "--n"), (["--mode", "fast"], "--mode"), (["--dist", "nope"], "--dist"),
    (["--confidence", "1"], "--confidence"), (["--seed", "x"], "--seed"),
    (["--mechanism", "posted:price=0.5"], "--mechanism"), (["--format", "xml"], "--format")])
def test_bad_input_is_one_line_exit_2(extra, flag, capsys):
    code, out, err = run_cli(BASE + extra, capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and flag in err and "Traceback" not in err


def test_ctrl_c_prints_partial_estimates(monkeypatch, capsys):
    calls = []

    def interrupted_after_one_batch(states, sizes, *rest):
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return engine.BACKENDS["serial"](states, sizes, *rest)

    monkeypatch.setitem(engine.BACKENDS, "threads", interrupted_after_one_batch)
    argv = ["simulate", "--dist", "exponential", "--n", "1000", "--mechanism", "spa", "--samples", "1e8",
            "--format", "json"]
    code, out, err = run_cli(argv, capsys)
    data = json.loads(out)
    assert code == 130 and data["partial"] is True and 0 < data["samples"] < 10 ** 8
    assert "interrupted" in err


def test_same_seed_identical_json_with_1_and_2_threads():
    argv = [sys.executable, "-m", "simulator.cli", "simulate", "--dist", "weibull:shape=0.5", "--n", "50",
            "--mechanism", "spa", "--mechanism", "myerson", "--mechanism", "lottery", "--mechanism", "vcg:m=2",
            "--samples", "300000", "--seed", "12345", "--format", "json", "--quiet"]
    outs = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads, PYTHONPATH=str(ROOT))
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout)
    assert outs[0] == outs[1]
    assert json.loads(outs[0])["samples"] == 300000
