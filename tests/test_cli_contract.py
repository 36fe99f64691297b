"""One output contract for every command (issue 13): an interrupted run is marked in every format (with
``--quiet`` too); files are written atomically and a path that cannot be written is one line, exit 2, with no
file left behind; size arguments are bounded; ``frontier --simulate`` estimates appear in the table and the
CSV; JSON rows carry z and ratio like the table; an infinite value prints ``inf`` (JSON: the string "inf"),
never NaN; ``--version``."""
import csv
import io
import json
import math
import os
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

import simulator
from simulator import cli
from simulator.core import engine

CODE_ROOT = Path(simulator.__file__).resolve().parents[1]
SIMULATE = ["simulate", "--dist", "uniform:low=0,high=1", "--n", "5", "--mechanism", "spa", "--samples", "20000",
            "--seed", "3"]
#: uniform values, n = 5: E[second highest] = 4/6; Myerson's revenue (reserve 1/2) = 2n/(n+1) - 1 -
#: 2n r^(n+1)/(n+1) + r^n = 0.671875 (the revenue benchmark Pi*)
SPA_REVENUE, REVENUE_MAX = 4 / 6, 0.671875


def run_main(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors, --version
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code, out, err, flag: str):
    assert code == 2 and out == "", (code, out)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.match(rf"auction-sim \w+: error: {re.escape(flag)}: \S", lines[0]), lines[0]


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


# ---------------------------------------------------------------------- partial results
@pytest.fixture
def interrupted_after_one_batch(monkeypatch):
    """The threads backend runs one batch, then raises KeyboardInterrupt (Ctrl-C between batches)."""
    calls = []

    def backend(states, sizes, *rest):
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return engine.BACKENDS["serial"](states, sizes, *rest)

    monkeypatch.setitem(engine.BACKENDS, "threads", backend)


INTERRUPTED = ["simulate", "--dist", "exponential", "--n", "1000", "--mechanism", "spa", "--samples", "1e8"]


@pytest.mark.parametrize("quiet", [False, True])
@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_partial_results_are_marked_in_every_format(interrupted_after_one_batch, capsys, fmt, quiet):
    code, out, err = run_main(INTERRUPTED + ["--format", fmt] + (["--quiet"] if quiet else []), capsys)
    assert code == 130
    if fmt == "table":
        match = re.fullmatch(r"PARTIAL: interrupted after (\d+) of 100000000 auctions", out.splitlines()[0])
        assert match and 0 < int(match.group(1)) < 10 ** 8, out.splitlines()[0]
        assert int(match.group(1)) == int(out.splitlines()[2].split()[6])  # the samples column
    elif fmt == "csv":
        rows = csv_rows(out)
        assert rows and all(row["partial"] == "True" for row in rows)
        assert all(0 < int(row["samples"]) < 10 ** 8 for row in rows)
    else:
        data = json.loads(out)
        assert data["partial"] is True and 0 < data["samples"] < data["samples_requested"] == 10 ** 8


def test_a_complete_run_is_not_marked(capsys):
    code, out, _ = run_main(SIMULATE + ["--format", "csv", "--quiet"], capsys)
    assert code == 0 and {row["partial"] for row in csv_rows(out)} == {"False"}
    code, out, _ = run_main(SIMULATE + ["--quiet"], capsys)
    assert code == 0 and "PARTIAL" not in out


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_interrupted_solve_simulation_is_marked(interrupted_after_one_batch, capsys, fmt):
    argv = ["solve", "--dist", "exponential", "--n", "1000", "--solution", "ks", "--simulate", "1e8",
            "--format", fmt]
    code, out, _ = run_main(argv, capsys)
    assert code == 130
    if fmt == "table":
        assert re.fullmatch(r"PARTIAL: interrupted after \d+ of 100000000 auctions", out.splitlines()[0])
    elif fmt == "csv":
        assert {row["partial"] for row in csv_rows(out)} == {"True"}
    else:
        assert json.loads(out)["partial"] is True


# ---------------------------------------------------------------------- files
def _targets(tmp_path: Path) -> dict:
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-folder").mkdir()
    return {"missing folder": tmp_path / "no-such-folder" / "out.txt", "a folder": tmp_path / "a-folder",
            "below a file": tmp_path / "a-file" / "out.txt"}


def _leftovers(tmp_path: Path) -> set:
    return {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")}


@pytest.mark.parametrize("where", ["missing folder", "a folder", "below a file"])
@pytest.mark.parametrize("argv,flag", [
    (SIMULATE + ["--format", "json", "--out"], "--out"),
    (["analyze", "--dist", "uniform", "--n", "5", "--mechanism", "spa", "--format", "csv", "--out"], "--out"),
    (["frontier", "--dist", "uniform", "--n", "3", "--points", "3", "--out"], "--out"),
    (["frontier", "--dist", "uniform", "--n", "3", "--points", "3", "--plot"], "--plot"),
])
def test_unwritable_path_is_one_line_exit_2(tmp_path, capsys, argv, flag, where):
    target = _targets(tmp_path)[where]
    before = _leftovers(tmp_path)
    code, out, err = run_main(argv + [str(target)], capsys)
    assert_one_line(code, out, err, flag)
    assert _leftovers(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file")
def test_read_only_file_is_one_line_exit_2(tmp_path, capsys):
    target = tmp_path / "read-only.json"
    target.write_text("old")
    target.chmod(0o444)
    code, out, err = run_main(SIMULATE + ["--format", "json", "--out", str(target)], capsys)
    assert_one_line(code, out, err, "--out")
    assert target.read_text() == "old" and _leftovers(tmp_path) == {"read-only.json"}


def test_out_is_replaced_atomically_or_left_intact(tmp_path, capsys, monkeypatch):
    """A failure at the rename leaves the old file whole and no temporary file; a success replaces it."""
    target = tmp_path / "out.json"
    target.write_text("old")

    def failing_replace(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", failing_replace)
    code, out, err = run_main(SIMULATE + ["--format", "json", "--out", str(target)], capsys)
    assert_one_line(code, out, err, "--out")
    assert target.read_text() == "old" and _leftovers(tmp_path) == {"out.json"}
    monkeypatch.undo()
    code, _, _ = run_main(SIMULATE + ["--format", "json", "--out", str(target)], capsys)
    assert code == 0 and json.loads(target.read_text())["samples"] == 20000
    assert _leftovers(tmp_path) == {"out.json"}


def test_plot_is_saved_atomically_or_not_at_all(tmp_path, capsys, monkeypatch):
    png = tmp_path / "f.png"
    argv = ["frontier", "--dist", "uniform", "--n", "3", "--points", "3", "--plot", str(png)]

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    code, out, err = run_main(argv, capsys)
    assert_one_line(code, out, err, "--plot")
    assert _leftovers(tmp_path) == set()
    monkeypatch.undo()
    code, _, _ = run_main(argv, capsys)
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and _leftovers(tmp_path) == {"f.png"}


def test_unknown_plot_format_is_one_line_exit_2(tmp_path, capsys):
    code, out, err = run_main(["frontier", "--dist", "uniform", "--n", "3", "--plot", str(tmp_path / "f.xyz")],
                              capsys)
    assert_one_line(code, out, err, "--plot")
    assert _leftovers(tmp_path) == set()


# ---------------------------------------------------------------------- sizes
@pytest.mark.parametrize("argv,flag", [
    (["frontier", "--dist", "uniform", "--n", "3", "--points", "1e7"], "--points"),
    (["frontier", "--dist", "uniform", "--n", "3", "--points", "1001"], "--points"),
    (["frontier", "--dist", "uniform", "--n", "3", "--simulate", "1e13"], "--simulate"),
    (["solve", "--dist", "uniform", "--n", "3", "--solution", "ks", "--simulate", "1e13"], "--simulate"),
    (SIMULATE[:-4] + ["--samples", "1e13"], "--samples"),
    (["demo", "--samples", "1e13"], "--samples"),
])
def test_size_arguments_are_bounded(argv, flag, capsys):
    start = time.perf_counter()
    code, out, err = run_main(argv, capsys)
    assert_one_line(code, out, err, flag)
    assert time.perf_counter() - start < 30  # rejected, not attempted


# ---------------------------------------------------------------------- one contract
def test_frontier_simulate_rows_are_in_table_csv_and_json(capsys):
    argv = ["frontier", "--dist", "uniform", "--n", "3", "--points", "3", "--simulate", "20000", "--seed", "1"]
    code, table, _ = run_main(argv, capsys)
    assert code == 0
    code, text, _ = run_main(argv + ["--format", "csv"], capsys)
    assert code == 0
    code, js, _ = run_main(argv + ["--format", "json"], capsys)
    assert code == 0
    results = json.loads(js)["results"]
    assert len(results) == (3 + 3) * 4  # the three solutions and the three points, four metrics each
    rows = [row for row in csv_rows(text) if row["section"] == "result"]
    assert [(r["mechanism"], r["metric"]) for r in rows] == [(r["mechanism"], r["metric"]) for r in results]
    for row, res in zip(rows, results):
        est, se, exact = float(row["estimate"]), float(row["stderr"]), float(row["analytic"])
        assert est == pytest.approx(res["estimate"], rel=1e-12) and se == pytest.approx(res["stderr"], rel=1e-12)
        if se > 0:
            assert float(row["z"]) == pytest.approx((est - exact) / se) and abs(float(row["z"])) < 4
    section = table.split("\nresults (")[1]
    assert "estimate" in section.splitlines()[1]
    for res in results:
        assert re.search(rf"^\s*{re.escape(res['mechanism'])}\s+{res['metric']}\s", section, re.M), res


def test_json_rows_carry_z_and_ratio(capsys):
    code, out, _ = run_main(SIMULATE + ["--format", "json", "--quiet"], capsys)
    assert code == 0
    data = json.loads(out)
    for row in data["results"]:
        assert {"z", "ratio"} <= set(row)
    rev = next(r for r in data["results"] if r["metric"] == "revenue")
    assert rev["z"] == pytest.approx((rev["estimate"] - SPA_REVENUE) / rev["stderr"]) and abs(rev["z"]) < 4
    assert rev["ratio"] == pytest.approx(rev["estimate"] / REVENUE_MAX)
    code, out, _ = run_main(["analyze", "--dist", "uniform", "--n", "5", "--mechanism", "spa", "--format", "json"],
                            capsys)
    rev = next(r for r in json.loads(out)["results"] if r["metric"] == "revenue")
    assert rev["ratio"] == pytest.approx(SPA_REVENUE / REVENUE_MAX)


def test_version_prints_the_package_version():
    env = dict(os.environ, PYTHONPATH=str(CODE_ROOT))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "simulator.cli", "--version"], cwd=CODE_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert time.perf_counter() - start < 5
    assert proc.returncode == 0 and proc.stdout == f"auction-sim {metadata.version('auction-sim')}\n"


# ---------------------------------------------------------------------- infinite values, never NaN
def _args(fmt):
    return type("Args", (), {"format": fmt})()


def test_infinite_values_print_inf_and_missing_values_never_nan():
    from simulator.cli.common import json_value, render

    frame = pd.DataFrame({"mechanism": ["a", "b"], "analytic": [math.inf, math.nan], "z": [-math.inf, 0.5]})
    payload = {"results": frame.to_dict("records"), "benchmarks": {"opt": math.inf}}
    data = json.loads(render(_args("json"), payload, frame))
    assert data["results"][0]["analytic"] == "inf" and data["results"][0]["z"] == "-inf"
    assert data["results"][1]["analytic"] is None and data["benchmarks"]["opt"] == "inf"
    rows = csv_rows(render(_args("csv"), payload, frame))
    assert rows[0]["analytic"] == "inf" and rows[0]["z"] == "-inf" and rows[1]["analytic"] == ""
    table = render(_args("table"), payload, frame)
    assert "inf" in table.splitlines()[1] and "nan" not in table.lower()
    assert json_value([float("nan"), math.inf]) == [None, "inf"]


def test_infinite_exact_value_from_analyze(capsys):
    """Lomax(0.8): E[v] is infinite (tail index 0.8 <= 1), so every mechanism's welfare is +inf."""
    argv = ["analyze", "--dist", "lomax:shape=0.8", "--n", "5", "--mechanism", "spa"]
    code, out, _ = run_main(argv + ["--format", "json"], capsys)
    assert code == 0 and "NaN" not in out and "Infinity" not in out
    welfare = next(r for r in json.loads(out)["results"] if r["metric"] == "welfare")
    assert welfare["analytic"] == "inf"
    code, out, _ = run_main(argv + ["--format", "csv"], capsys)
    assert next(r for r in csv_rows(out) if r["metric"] == "welfare")["analytic"] == "inf"
    code, out, _ = run_main(argv, capsys)
    assert re.search(r"^\s*spa\s+welfare\s+inf\b", out, re.M) and "nan" not in out.lower()
