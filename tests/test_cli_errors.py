"""The command line's error contract (``docs/architecture.md``, "Errors"; issue 12): bad input is an
``InputError`` shown as one line ``auction-sim CMD: error: ARG: MESSAGE``, exit status 2; any other exception
is a bug and propagates with its traceback; ``--help`` answers at once, without loading numba or scipy."""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import simulator
from distributions.errors import InputError
from simulator import cli

#: the checkout whose ``simulator`` these tests import (the subprocesses run the same code)
CODE_ROOT = Path(simulator.__file__).resolve().parents[1]
HEAVY = ("numba", "scipy", "pandas", "matplotlib", "dask", "mechanisms", "simulator.core.engine")
SIMULATE = ["simulate", "--dist", "uniform", "--n", "5", "--mechanism", "spa", "--samples", "2000", "--quiet"]
ANALYZE = ["analyze", "--dist", "uniform", "--n", "5", "--mechanism", "spa"]
#: builds the parser and every subcommand's help, then reports which heavy modules got imported
PARSER_SCRIPT = f"""
import contextlib, io, json, sys, time
t0 = time.perf_counter()
import simulator.cli as cli
parser = cli.build_parser()
for argv in (["--help"], *([name, "--help"] for name in ("simulate", "analyze", "frontier", "solve", "demo"))):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            parser.parse_args(argv)
        except SystemExit:
            pass
print(json.dumps({{"seconds": time.perf_counter() - t0,
                  "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def run_in_subprocess(args) -> tuple[float, subprocess.CompletedProcess]:
    env = dict(os.environ, PYTHONPATH=str(CODE_ROOT))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=CODE_ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    return time.perf_counter() - start, proc


def run_main(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code, out, err, command: str, flag: str):
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.match(rf"auction-sim {command}: error: {re.escape(flag)}: \S", lines[0]), lines[0]


# ---------------------------------------------------------------------- fast start
def test_building_the_parser_imports_no_numerical_library():
    _, proc = run_in_subprocess(["-c", PARSER_SCRIPT])
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["heavy"] == []
    assert report["seconds"] < 0.5


def best_of_three(args, code: int) -> tuple[float, subprocess.CompletedProcess]:
    """The shortest wall time of three runs (a loaded machine slows a run, never speeds it up)."""
    runs = [run_in_subprocess(args) for _ in range(3)]
    for _, proc in runs:
        assert proc.returncode == code, proc.stderr
    return min(seconds for seconds, _ in runs), runs[0][1]


@pytest.mark.parametrize("argv", [["--help"], ["simulate", "--help"], ["frontier", "--help"]])
def test_help_answers_within_a_second(argv):
    seconds, proc = best_of_three(["-m", "simulator.cli", *argv], 0)
    assert "usage: auction-sim" in proc.stdout
    assert seconds < 1.0


def test_argparse_errors_are_one_line_and_fast():
    seconds, proc = best_of_three(["-m", "simulator.cli", *SIMULATE, "--format", "xml"], 2)
    assert proc.stdout == "" and seconds < 1.0
    assert proc.stderr.startswith("auction-sim simulate: error: argument --format:")
    assert len(proc.stderr.strip().splitlines()) == 1
    _, proc = run_in_subprocess(["-m", "simulator.cli", "simulate", "--dist", "uniform", "--n", "5"])
    assert proc.returncode == 2 and "--mechanism" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------------- bad input: one line, exit 2
@pytest.mark.parametrize("argv,command,flag", [
    (SIMULATE + ["--n", "2.5"], "simulate", "--n"),
    (SIMULATE + ["--n", "abc"], "simulate", "--n"),
    (SIMULATE + ["--n", "0"], "simulate", "--n"),
    (SIMULATE + ["--n", "1e12", "--mode", "profile"], "simulate", "--n"),  # the engine's "n", renamed
    (SIMULATE + ["--dist", "nope"], "simulate", "--dist"),
    (SIMULATE + ["--dist", "uniform:low=2,high=1"], "simulate", "--dist"),
    (SIMULATE + ["--mechanism", "no-such-auction"], "simulate", "--mechanism"),
    (SIMULATE + ["--mechanism", "vcg:m=9"], "simulate", "--mechanism"),  # more units than buyers
    (SIMULATE + ["--samples", "0"], "simulate", "--samples"),
    (SIMULATE + ["--samples", "1e2.5"], "simulate", "--samples"),
    (ANALYZE + ["--n", "-3"], "analyze", "--n"),
    (ANALYZE + ["--m", "6"], "analyze", "--m"),
    (["analyze", "--dist", "pareto:shape=0.8", "--n", "5", "--mechanism", "myerson"], "analyze", "--mechanism"),
    (["frontier", "--dist", "pareto:shape=0.8", "--n", "3"], "frontier", "--dist"),  # unbounded optimum
    (["solve", "--dist", "uniform", "--n", "1e400", "--solution", "ks"], "solve", "--n"),
])
def test_bad_value_is_one_line_naming_the_flag(argv, command, flag, capsys):
    assert_one_line(*run_main(argv, capsys), command, flag)


def test_unwritable_out_is_bad_input(tmp_path, capsys):
    target = tmp_path / "no-such-folder" / "out.json"
    assert_one_line(*run_main(ANALYZE + ["--out", str(target)], capsys), "analyze", "--out")


@pytest.mark.parametrize("argument, shown", [("widgets", "widgets"), ("m", "--m"), ("shape", "--dist: shape"),
                                              ("reserve", "--mechanism: reserve")])
def test_the_line_comes_from_the_error_fields_not_its_text(argument, shown, monkeypatch, capsys):
    """An InputError raised anywhere is printed from .argument and .message: a message with colons and
    several lines stays whole up to its first line break; a library argument is shown under the flag that
    carries it (``cli.main.FLAG_OF``), an unknown one as it is."""
    from mechanisms import benchmarks

    def bad(*args, **kwargs):
        raise InputError(argument, "units: too many for this market\nsecond line")

    monkeypatch.setattr(benchmarks, "opt", bad)
    code, out, err = run_main(ANALYZE, capsys)
    assert code == 2 and out == ""
    assert err == f"auction-sim analyze: error: {shown}: units: too many for this market\n"


# ---------------------------------------------------------------------- bugs keep their traceback
@pytest.mark.parametrize("argv", [ANALYZE, SIMULATE], ids=["analyze", "simulate"])
def test_a_bug_while_building_mechanisms_propagates(argv, monkeypatch):
    import mechanisms

    def broken(*args, **kwargs):
        raise RuntimeError("injected bug")

    monkeypatch.setattr(mechanisms, "parse_mechanism", broken)
    with pytest.raises(RuntimeError, match="injected bug"):
        cli.main(argv)


def test_a_value_error_bug_is_not_bad_input(monkeypatch):
    """A ValueError that is not an InputError (numpy's broadcasting, a failed unpacking) is a bug."""
    from mechanisms import benchmarks

    def broken(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(benchmarks, "opt", broken)
    with pytest.raises(ValueError, match="broadcast") as info:
        cli.main(ANALYZE)
    assert not isinstance(info.value, InputError)


def test_an_arithmetic_bug_in_solve_propagates(monkeypatch):
    import mechanisms.bargaining as bargaining

    def broken(*args, **kwargs):
        return 1 / 0

    monkeypatch.setattr(bargaining, "solve", broken)
    with pytest.raises(ZeroDivisionError):
        cli.main(["solve", "--dist", "uniform", "--n", "3", "--solution", "ks"])


def test_the_cli_lists_the_engines_modes():
    """--mode is checked before numba is imported, against a copy of the engine's list: they must agree."""
    from simulator.cli import cmd_simulate
    from simulator.core.engine import MODES

    assert cmd_simulate.MODE_CHOICES == MODES
