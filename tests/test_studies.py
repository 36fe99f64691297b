"""Studies (issue 19): ``auction-sim sweep``, experiment files (``auction-sim run``), their files and figures.

Expected values come from closed forms written here (uniform values: second-price revenue (n-1)/(n+1), with a
reserve r and two buyers 1/3 + r^2 - 4r^3/3, Myerson's (n-1)/(n+1) + 2^-n/(n+1); Example 4.2's OPT by
quadrature; m = n units: a posted price, uniform KS W/OPT = 0.96), from ``reproduce.bargaining_cells`` (the
demo's and the paper scripts' cells), and from the paper scripts themselves (byte-identical CSV files: each
script's own main on a reduced set of its points, beside its experiment file's, and the shipped experiment files
holding the scripts' settings).
"""
import json
import math
import os

import pandas as pd
import pytest
from scipy import integrate

from simulator.cli.main import main
from simulator.studies.study import build_study

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG = b"\x89PNG\r\n\x1a\n"


def study(**fields):
    return build_study(fields, lambda key: key)


def rows_of(frame, **eq):
    for k, v in eq.items():
        frame = frame[frame[k] == v]
    assert len(frame) == 1, eq
    return frame.iloc[0]


# ---------------------------------------------------------------------- numbers
def test_uniform_closed_forms_over_n_and_over_a_reserve_placeholder():
    from simulator.studies.runner import run_study

    f = run_study(study(dist="uniform", mechanism=["spa", "myerson"], axis=["n=1..100:log:3"])).frame
    assert list(dict.fromkeys(f.n)) == [1, 10, 100]
    for n in (1, 10, 100):
        spa = rows_of(f, n=n, mechanism="spa", metric="revenue")
        pi_star = (n - 1) / (n + 1) + 0.5 ** n / (n + 1)
        assert spa.exact == pytest.approx((n - 1) / (n + 1), abs=1e-10)
        assert spa.benchmark == pytest.approx(pi_star, rel=1e-9)
        assert spa.exact_ratio == pytest.approx((n - 1) / (n + 1) / pi_star, rel=1e-9)
        assert rows_of(f, n=n, mechanism="spa", metric="welfare").exact_ratio == pytest.approx(1.0, rel=1e-9)
        assert rows_of(f, n=n, mechanism="myerson", metric="revenue").exact_ratio == pytest.approx(1.0, rel=1e-9)
    # a {placeholder} of the mechanism and one of the distribution, as the product of two axes
    g = run_study(study(dist="uniform:low=0,high={h}", n=2, mechanism=["spa:reserve={r}"],
                        axis=["r=0..0.5:lin:3", "h=1,2"])).frame
    assert len(g) == 3 * 2 * 4 and list(g.columns[:3]) == ["point", "r", "h"]
    for r in (0, 0.25, 0.5):
        for h in (1, 2):
            row = rows_of(g, r=r, h=h, metric="revenue")
            x = r / h  # the reserve in units of the support; revenue scales with h
            assert row.spec == f"spa:reserve={r}" and row.distribution == f"uniform:low=0,high={h}"
            assert row.exact == pytest.approx(h * (1 / 3 + x * x - 4 * x ** 3 / 3), abs=1e-10)


def test_simulated_points_agree_with_closed_forms_and_are_independent():
    from simulator.studies.runner import run_study

    f = run_study(study(dist="uniform", mechanism=["spa"], axis=["n=2,50"], samples=40000, seed=3)).frame
    for n in (2, 50):
        for metric, exact in (("revenue", (n - 1) / (n + 1)), ("welfare", n / (n + 1))):
            row = rows_of(f, n=n, metric=metric)
            assert row.ci_valid and row.samples == 40000 and row.ci_low < row.estimate < row.ci_high
            assert abs(row.estimate - exact) < 4 * row.stderr, (n, metric)
            assert row.z == pytest.approx((row.estimate - row.exact) / row.stderr)
            assert row.ratio == pytest.approx(row.estimate / row.benchmark)
    assert f[f.n == 2].sim_seed.iloc[0] != f[f.n == 50].sim_seed.iloc[0]  # each market its own stream


def _example42_opt(n):
    """OPT = int_0^K 1 - (1 - exp(-v^2))^n dv, K = sqrt(ln n)/2 (the atom at K adds nothing above K)."""
    K = 0.5 * math.sqrt(math.log(n))
    return integrate.quad(lambda v: -math.expm1(n * math.log1p(-math.exp(-v * v))) if v > 0 else 1.0, 0.0, K,
                          limit=200, epsabs=0, epsrel=1e-12)[0]


def test_example42_sweep_reproduces_the_demo_cells():
    """The demo's Example 4.2 cells are ``bargaining_cells`` (its seed, tolerance, budget): a sweep over n with
    the same settings gives the same exact and simulated numbers, bit for bit."""
    from simulator.paper.reproduce import bargaining_cells
    from simulator.studies.runner import run_study

    s = study(dist="example42", mechanism=["ks", "nash", "cross-nash"], axis=["n=10,1e30"], samples=2000,
              tol=1e-5, budget=5e8)
    f = run_study(s).frame
    for n in (10, 1e30):
        assert rows_of(f, n=n, mechanism="ks", metric="welfare").benchmark == pytest.approx(_example42_opt(n),
                                                                                             rel=1e-7)
        for cell in bargaining_cells("example42", n, samples=2000, seed=0, tol=1e-5, budget=5e8):
            for metric in ("revenue", "surplus", "welfare"):
                row = rows_of(f, n=n, mechanism=cell["solution"], metric=metric)
                assert (row.exact, row.estimate, row.stderr) == (
                    cell[metric], cell[f"sim_{metric}"], cell[f"sim_{metric}_stderr"])
            w = rows_of(f, n=n, mechanism=cell["solution"], metric="welfare")
            assert (w.exact_ratio, w.ratio) == (cell["welfare_ratio"], cell["sim_welfare_ratio"])
            assert w.sim_mode == ("profile" if n == 10 else "orderstat")


# ---------------------------------------------------------------------- command line and files
SWEEP = ["sweep", "--name", "res", "--dist", "uniform", "--mechanism", "spa:reserve={r}", "--mechanism", "lottery",
         "--axis", "n=2,20", "--axis", "r=0,0.5", "--samples", "400", "--seed", "7", "--plot", "revenue",
         "--quiet"]
TOML = """\
# the same study as SWEEP
out = "{out}"
seed = 7

[[sweep]]
name = "res"
dist = "uniform"
mechanism = ["spa:reserve={{r}}", "lottery"]
axis = ["n=2,20", "r=0,0.5"]
samples = 400
plot = ["revenue"]
"""


def test_command_and_experiment_file_write_identical_files(tmp_path):
    assert main(SWEEP + ["--out", str(tmp_path / "cmd")]) == 0
    (tmp_path / "study.toml").write_text(TOML.format(out=tmp_path / "toml"))
    assert main(["run", str(tmp_path / "study.toml"), "--quiet"]) == 0
    for name in ("res.csv", "res.json", "res.png", "res.toml"):
        assert (tmp_path / "cmd" / name).read_bytes() == (tmp_path / "toml" / name).read_bytes(), name
    # the experiment file a run writes beside its outputs reproduces them
    assert main(["run", str(tmp_path / "cmd" / "res.toml"), "--out", str(tmp_path / "again"), "--quiet"]) == 0
    for name in ("res.csv", "res.json", "res.png", "res.toml"):
        assert (tmp_path / "cmd" / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    assert (tmp_path / "cmd" / "res.png").read_bytes()[:8] == PNG
    f = pd.read_csv(tmp_path / "cmd" / "res.csv")
    assert len(f) == 2 * 2 * 2 * 4 and not f.partial.any() and f.ci_valid.all()
    payload = json.loads((tmp_path / "toml" / "res.json").read_text())
    assert payload["partial"] is False and payload["done"] == payload["points"] == 4
    assert payload["study"]["axis"][1] == {"name": "r", "values": [0, 0.5], "log": False}
    prov = json.loads((tmp_path / "toml" / "provenance.json").read_text())
    assert prov["seed"] == 7 and prov["experiment_sha256"] and prov["partial"] is False
    assert {"numpy", "numba", "matplotlib", "auction-sim"} <= set(prov["versions"])
    assert sorted(prov["outputs"]) == ["provenance.json", "res.csv", "res.json", "res.png", "res.toml"]


def _script(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"{name}_script", os.path.join(ROOT, "scripts", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paper_script_and_its_experiment_file_write_the_same_csv(tmp_path):
    """scripts/example42.py's two CSV files (its own functions, on two n) and the experiment file's, byte for
    byte; and experiments/example42_quick.toml holds the script's --quick settings."""
    from argparse import Namespace

    from simulator.paper.reproduce import write_csv
    from simulator.studies.experiment import load_experiment

    script = _script("example42")
    (tmp_path / "script").mkdir()
    write_csv(str(tmp_path / "script" / "example42.csv"), script.exact_curve((10, 1e30), 1e-5))
    args = Namespace(samples=1500, seed=4, budget=2e8)
    write_csv(str(tmp_path / "script" / "example42_cells.csv"), script.simulated_cells((100, 1e30), args, 1e-5))
    text = (open(os.path.join(ROOT, "experiments", "example42_quick.toml")).read()
            .replace("n=10,1000,1e6,1e12,1e20,1e30", "n=10,1e30").replace("samples = 5000", "samples = 1500")
            .replace("seed = 0", "seed = 4"))
    (tmp_path / "e.toml").write_text(text)
    assert main(["run", str(tmp_path / "e.toml"), "--out", str(tmp_path / "toml"), "--quiet"]) == 0
    for name in ("example42.csv", "example42_cells.csv"):
        assert (tmp_path / "script" / name).read_bytes() == (tmp_path / "toml" / name).read_bytes(), name
    curve, cells = load_experiment(os.path.join(ROOT, "experiments", "example42_quick.toml"))[0]
    assert curve.axes[0].values == script.QUICK_CURVE_N and cells.axes[0].values == script.QUICK_SIM_N
    assert (cells.samples, cells.budget, cells.tol, cells.seed) == (5000, 2e8, 1e-5, 0)
    full_curve, full_cells = load_experiment(os.path.join(ROOT, "experiments", "example42.toml"))[0]
    assert full_curve.axes[0].values == script.CURVE_N and full_cells.axes[0].values == script.SIM_N
    assert (full_cells.samples, full_cells.budget, full_cells.tol) == (100_000, 2e9, 1e-6)


def test_table1_script_and_its_experiment_file_write_the_same_csv(tmp_path):
    """scripts/table1.py's table1.csv (its own function, on two distributions and two n, with the undefined
    example42 at n = 1 recorded as skipped) and the experiment file's, byte for byte."""
    from argparse import Namespace

    from simulator.paper.reproduce import write_csv
    from simulator.studies.experiment import load_experiment

    script = _script("table1")
    script.DISTRIBUTIONS = script.DISTRIBUTIONS[3:6:2]  # uniform, example42
    (tmp_path / "script").mkdir()
    args = Namespace(samples=400, seed=2, budget=2e8)
    write_csv(str(tmp_path / "script" / "table1.csv"), script.table_cells((1, 20), 1e-4, args))
    (tmp_path / "t.toml").write_text('seed = 2\n[[sweep]]\nname = "table1"\ncompute = "table1-cells"\n'
                                     'dist = "{d}"\naxis = [{name = "d", values = ["uniform", "example42"]}, '
                                     '"n=1,20"]\nsamples = 400\nbudget = 2e8\ntol = 1e-4\n')
    assert main(["run", str(tmp_path / "t.toml"), "--out", str(tmp_path / "toml"), "--quiet"]) == 0
    assert (tmp_path / "script" / "table1.csv").read_bytes() == (tmp_path / "toml" / "table1.csv").read_bytes()
    f = pd.read_csv(tmp_path / "toml" / "table1.csv")
    assert f[f.distribution == "example42"].note.str.startswith("skipped").sum() == 3
    for quick in (True, False):
        (table,), _ = load_experiment(os.path.join(ROOT, "experiments", f"table1{'_quick' if quick else ''}.toml"))
        assert table.axes[0].values == tuple(spec for spec, _ in _script("table1").DISTRIBUTIONS)
        assert table.axes[1].values == (script.QUICK_NS if quick else script.NS)
        assert (table.samples, table.budget, table.tol) == ((4000, 2e8, 1e-4) if quick else (100_000, 2e9, 1e-6))


@pytest.mark.parametrize("argv, flag", [
    (["--axis", "n=1..10:cubic:3"], "--axis"),
    (["--axis", "n=2", "--axis", "q=1,2"], "--axis"),          # q is no placeholder of the specs
    (["--axis", "n=2,3", "--axis", "n=4"], "--axis"),           # the same axis twice
    (["--axis", "n=2", "--axis", "a=1", "--axis", "b=2"], "--axis"),
    (["--axis", "n=0,2"], "--axis"),                            # n = 0 is no market
    (["--n", "2", "--axis", "x=1,2", "--mechanism", "spa:reserve={r}"], "--mechanism"),
    (["--axis", "n=2", "--samples", "-5"], "--samples"),
    (["--axis", "n=2", "--plot", "profit"], "--plot"),
    (["--axis", "n=2", "--compute", "nonsense"], "--compute"),
])
def test_bad_sweep_input_is_one_line_and_exit_2(capsys, argv, flag):
    base = ["sweep", "--dist", "uniform:high={x}" if "x=1,2" in argv else "uniform", "--mechanism", "spa"]
    assert main(base + argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"auction-sim sweep: error: {flag}: "), err


@pytest.mark.parametrize("text, where", [
    ("dist = 'uniform'\nmechanism = ['spa']\naxis = ['n=2'\n", "bad.toml: not a valid TOML file"),
    ("dist = 'uniform'\nmechanism = ['spa']\naxis = ['n=2']\ncolour = 1\n", "bad.toml: colour: unknown key"),
    ("seed = 1\n[[sweep]]\ndist = 'uniform'\nmechanism = ['spa']\naxis = ['n=2']\nsamples = 'many'\n",
     "bad.toml: sweep 1: samples: expected"),
    ("[[sweep]]\ndist = 'uniform'\nmechanism = ['spa']\naxis = ['n=2']\n[[sweep]]\ndist = 'lomax:shape={a}'\n"
     "mechanism = ['spa']\naxis = ['n=2']\n", "bad.toml: sweep 2: dist: placeholder {a} has no axis"),
    ("compute = 'theorem-e1'\ndist = '{i}'\naxis = [{name = 'i', values = ['E.2.2:grid=x']}]\n",
     "bad.toml: axis: at i = E.2.2:grid=x: expected E.2.2:grid=G"),
    ("compute = 'theorem-e1-simulation'\ndist = '{i}'\naxis = ['i=E.2.2:grid=30']\n",
     "bad.toml: samples: compute = theorem-e1-simulation simulates"),
    ("compute = 'gallery'\ndist = '{c}'\nsamples = 10\naxis = ['c=nope']\n",
     "bad.toml: axis: at c = nope: expected a class of the gallery"),
    ("compute = 'theorem42'\ndist = 'uniform'\naxis = ['m=1,2']\n", "bad.toml: n: give the number of buyers"),
    ("compute = 'theorem42'\ndist = 'uniform'\nn = 3\naxis = ['m=1,5']\n",
     "bad.toml: axis: at m = 5: the number of units m = 5 exceeds the number of buyers n = 3"),
])
def test_bad_experiment_file_is_one_line_and_exit_2(tmp_path, capsys, text, where):
    (tmp_path / "bad.toml").write_text(text)
    assert main(["run", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"auction-sim run: error: {where}"), err
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


def test_interrupted_sweep_keeps_finished_points_marked_partial(tmp_path, monkeypatch):
    from simulator.studies import compute

    real = compute.KINDS["metrics"]

    def rows(s, point):  # Ctrl-C while the third point is computed
        if point.index == 2:
            raise KeyboardInterrupt
        return real.rows(s, point)

    monkeypatch.setitem(compute.KINDS, "metrics", compute.Kind("metrics", rows, tidy=True, check=real.check))
    argv = ["sweep", "--dist", "uniform", "--mechanism", "spa", "--axis", "n=2,3,4,5", "--quiet",
            "--out", str(tmp_path)]
    assert main(argv) == 130
    f = pd.read_csv(tmp_path / "sweep.csv")
    assert sorted(set(f.n)) == [2, 3] and f.partial.all()
    payload = json.loads((tmp_path / "sweep.json").read_text())
    assert payload["partial"] is True and (payload["done"], payload["points"]) == (2, 4)
    assert "interrupted after 2 of 4 points" in payload["warnings"][0]
    assert json.loads((tmp_path / "provenance.json").read_text())["partial"] is True
    assert (tmp_path / "sweep.png").read_bytes()[:8] == PNG


def test_a_point_the_library_cannot_compute_is_recorded_not_fatal(monkeypatch):
    from distributions.errors import InputError
    from simulator.studies import compute
    from simulator.studies.runner import run_study

    real = compute.mechanism_values

    def values(spec, market, *args):
        if spec == "myerson" and market.n == 3:
            raise InputError("dist", "the integral did not converge")
        return real(spec, market, *args)

    monkeypatch.setattr(compute, "mechanism_values", values)
    res = run_study(study(dist="uniform", mechanism=["spa", "myerson"], axis=["n=2,3"], samples=300))
    f = res.frame
    bad = f[(f.n == 3) & (f.mechanism == "myerson")]
    assert bad.exact.isna().all() and bad.estimate.isna().all()
    assert bad.exact_note.str.startswith("not computed: dist: the integral did not converge").all()
    good = f[(f.n == 3) & (f.mechanism == "spa") & (f.metric == "revenue")].iloc[0]
    assert good.exact == pytest.approx(0.5) and good.ci_valid  # (n-1)/(n+1), still simulated
    assert len(res.warnings) == 1 and "point 1" in res.warnings[0] and "myerson" in res.warnings[0]
    # any kind: a point that raises an InputError is left out with a warning, and the sweep goes on
    def rows(s, point):
        if point.index == 0:
            raise InputError("dist", "no convergence")
        return [{"n": point.n, "value": 1.0}]

    monkeypatch.setitem(compute.KINDS, "test-kind", compute.Kind("test-kind", rows))
    res = run_study(study(dist="uniform", axis=["n=2,3"], compute="test-kind"))
    assert res.rows == [{"n": 3, "value": 1.0}] and not res.partial and res.done == 2
    assert res.warnings == ["point 0 (n = 2) not computed: dist: no convergence"]


def test_demo_and_its_experiment_file_write_the_same_csv(tmp_path, monkeypatch, capsys):
    """experiments/demo.toml holds the demo's sections, seed, samples, budget and tolerances; on reduced markets
    (one n of Example 4.2, one Table-1 cell, the two-buyer asymmetric market; 500 auctions, seed 2) ``auction-sim demo`` and the file write the
    same demo_cells.csv, demo_asymmetric.csv and demo_frontier.csv."""
    from simulator.cli import cmd_demo
    from simulator.paper import asymmetric, demo
    from simulator.studies.experiment import load_experiment

    studies, _ = load_experiment(os.path.join(ROOT, "experiments", "demo.toml"))
    by_name = {s.name: s for s in studies}
    cells, asym, frontier = by_name["demo_cells"], by_name["demo_asymmetric"], by_name["demo_frontier"]
    assert _values(cells) == (demo.CELL_SECTIONS,) and _values(asym) == (("asymmetric",),)
    assert set(demo.DEMO_EX42_N) <= set(by_name["demo_example42_sweep"].axes[0].values)
    for s in (cells, asym, by_name["demo_example42_sweep"]):
        assert (s.seed, s.samples, s.budget, s.tol) == (0, 20000, 5e8, 1e-5)  # the demo's defaults
    spec, n = cmd_demo.DEMO_FRONTIER
    assert (frontier.dist, frontier.axes[0].values, frontier.tol) == (spec, (n,), demo.DEMO_FRONTIER_TOL)
    monkeypatch.setattr(demo, "DEMO_EX42_N", (10,))
    monkeypatch.setattr(demo, "DEMO_CELLS", demo.DEMO_CELLS[:1])
    monkeypatch.setattr(demo, "DEMO_CELL_N", (10,))
    monkeypatch.setattr(cmd_demo, "DEMO_EX42_CURVE", (10, 100))
    monkeypatch.setattr(asymmetric, "ASYMMETRIC_MARKETS", asymmetric.ASYMMETRIC_MARKETS[:1])
    assert main(["demo", "--out", str(tmp_path / "demo"), "--samples", "500", "--seed", "2"]) == 0
    assert "Example 4.2" in capsys.readouterr().out
    doc = _experiment("demo")
    doc.update(seed=2, samples=500)
    doc["sweep"] = [t for t in doc["sweep"] if t["name"] != "demo_example42_sweep"]
    _write_toml(tmp_path / "e.toml", doc)
    assert main(["run", str(tmp_path / "e.toml"), "--out", str(tmp_path / "toml"), "--quiet"]) == 0
    for name in ("demo_cells.csv", "demo_asymmetric.csv", "demo_frontier.csv"):
        assert (tmp_path / "demo" / name).read_bytes() == (tmp_path / "toml" / name).read_bytes(), name
    f = pd.read_csv(tmp_path / "toml" / "demo_cells.csv")
    assert list(dict.fromkeys(f.section)) == list(demo.CELL_SECTIONS) and "exact_seconds" not in f
    assert (f[f.section == "frontier"].sim_samples == 2500).all()  # the frontier section simulates 5 x samples


def test_every_shipped_experiment_file_loads():
    from simulator.studies.experiment import load_experiment

    folder = os.path.join(ROOT, "experiments")
    names = sorted(f for f in os.listdir(folder) if f.endswith(".toml"))
    assert {"example42.toml", "example42_sweep.toml", "table1.toml", "demo.toml"} <= set(names)
    for name in names:
        studies, settings = load_experiment(os.path.join(folder, name))
        assert studies and settings["out"], name


def test_dask_backend_gives_the_same_rows():
    pytest.importorskip("distributed")
    from simulator.studies.runner import run_study

    from distributed import Client

    s = study(dist="lomax:shape=3", mechanism=["spa", "lottery"], axis=["n=2,2000"], samples=500, seed=5)
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        there = run_study(s, backend="dask", client=client)  # an in-process cluster: cheap to start
    assert run_study(s).frame.to_csv() == there.frame.to_csv() and not there.partial


def test_plot_api_for_a_notebook():
    from simulator import studies
    from simulator.studies import plots

    f = studies.sweep(dist="uniform", mechanism=["spa", "lottery"], axis=["n=1..1e6:log:4"]).frame
    fig = plots.sweep(f, metrics=("revenue", "surplus"))
    panels = fig.axes
    assert len(panels) == 2 and panels[0].get_xscale() == "log" and panels[0].get_ylabel() == "revenue / Π*"
    assert fig.legends and not panels[0].get_legend()  # the legend is below the panels, not on the data


# ---------------------------------------------------------------------- the other paper scripts
def _write_toml(path, doc):
    """An experiment file from a parsed one (``tomllib``): its top-level keys, then its [[sweep]] tables."""
    from simulator.studies.experiment import toml_value

    lines = [f"{k} = {toml_value(v)}" for k, v in doc.items() if k != "sweep"]
    for table in doc["sweep"]:
        lines += ["", "[[sweep]]"] + [f"{k} = {toml_value(v)}" for k, v in table.items()]
    path.write_text("\n".join(lines) + "\n")


def _experiment(name):
    import tomllib

    with open(os.path.join(ROOT, "experiments", f"{name}.toml"), "rb") as fh:
        return tomllib.load(fh)


def _same_csv(tmp_path, script, argv, doc, names):
    """scripts/X.py's main (``argv`` and --quick) and ``auction-sim run`` of ``doc`` write the same bytes."""
    assert script.main(["--quick", "--out", str(tmp_path / "script")] + argv) == 0
    _write_toml(tmp_path / "e.toml", doc)
    assert main(["run", str(tmp_path / "e.toml"), "--out", str(tmp_path / "toml"), "--quiet"]) == 0
    for name in names:
        assert (tmp_path / "script" / name).read_bytes() == (tmp_path / "toml" / name).read_bytes(), name


def _values(study):
    return tuple(a.values for a in study.axes)


def test_theorem_e1_script_and_its_experiment_files(tmp_path, capsys):
    """experiments/theorem_e1{_quick}.toml hold the script's instances, scan, samples and budget, and on a
    reduced set of the same instances (and seed 3) the script and the file write the same four CSV files."""
    from simulator.paper.theorem_e1 import instance_specs, scan_grid
    from simulator.studies.experiment import load_experiment

    script = _script("theorem_e1")
    for quick, k, samples, budget in ((True, script.QUICK_SCAN, script.QUICK_SAMPLES, 2e8),
                                      (False, script.SCAN, script.SAMPLES, 2e9)):
        studies, _ = load_experiment(os.path.join(ROOT, "experiments", f"theorem_e1{'_quick' if quick else ''}.toml"))
        by = {s.name: s for s in studies}
        specs = tuple(instance_specs(quick))
        assert _values(by["theorem_e1"]) == _values(by["theorem_e1_curves"]) == (specs,)
        assert _values(by["theorem_e1_family_scan"]) == scan_grid(k)
        assert _values(by["theorem_e1_simulation"]) == (specs[:1],)
        assert (by["theorem_e1_simulation"].samples, by["theorem_e1_simulation"].budget) == (samples, budget)
        assert {s.seed for s in studies} == {0}
    specs = ["E.2.2:grid=30", "E.2.1:grid=30", "E.1:K=10", "uniform"]  # E.2.2 and E.2.1 first, as the script
    script.instance_specs = lambda quick: specs
    script.scan_grid = lambda k: ((0.5,), (0.4,))
    doc = _experiment("theorem_e1_quick")
    doc["seed"] = 3
    for table in doc["sweep"]:
        table["axis"] = {"theorem-e1-scan": ["q=0.5", "s=0.4"], "theorem-e1-simulation": ["instance=E.2.2:grid=30"]
                         }.get(table["compute"], [{"name": "instance", "values": specs}])
    names = ["theorem_e1.csv", "theorem_e1_curves.csv", "theorem_e1_family_scan.csv", "theorem_e1_simulation.csv"]
    _same_csv(tmp_path, script, ["--seed", "3"], doc, names)
    assert "reproduced: 0.8532" in capsys.readouterr().out
    f = pd.read_csv(tmp_path / "toml" / "theorem_e1.csv")
    assert list(f.instance) == ["E.2.2 (upper bound 0.8532)",
                                "E.2.1 extremal parameters, quasi-regular completion", "E.1 general, K=10",
                                "regular: uniform"]
    assert f.min_ratio.iloc[3] == pytest.approx(1.0, abs=1e-6)  # Proposition 3.3: posting a price is optimal
    assert f.ratio_at_paper_U.iloc[2] <= 2 / math.log(10)  # E.1: at most 2/ln K
    sim = pd.read_csv(tmp_path / "toml" / "theorem_e1_simulation.csv")
    assert (sim.sim_samples == 20000).all() and sim.revenue_ci_contains_exact.notna().all()


def test_gallery_script_and_its_experiment_files(tmp_path, capsys):
    """experiments/gallery{_quick}.toml hold the script's classes, samples and tolerance; on two classes (2000
    auctions, seed 5) the script and the file write the same gallery.csv and gallery_<class>.csv."""
    from simulator.paper.gallery import GALLERY
    from simulator.studies.experiment import load_experiment

    script = _script("gallery")
    keys = tuple(key for key, *_ in GALLERY)
    for quick, samples, tol in ((True, script.QUICK_SAMPLES, script.QUICK_TOL), (False, script.SAMPLES, script.TOL)):
        studies, _ = load_experiment(os.path.join(ROOT, "experiments", f"gallery{'_quick' if quick else ''}.toml"))
        assert [s.name for s in studies] == ["gallery"] + [f"gallery_{k}" for k in keys]
        assert _values(studies[0]) == (keys,) and studies[0].samples == samples
        assert [_values(s) for s in studies[1:]] == [((k,),) for k in keys]
        assert {s.tol for s in studies} == {tol} and {s.seed for s in studies} == {0}
    two = ("regular_antimhr", "mhr")
    script.GALLERY = tuple(e for e in GALLERY if e[0] in two)
    doc = _experiment("gallery_quick")
    doc.update(seed=5)
    doc["sweep"] = [dict(t, samples=2000) if t["compute"] == "gallery" else t for t in doc["sweep"]
                    if t["name"] in ("gallery", "gallery_regular_antimhr", "gallery_mhr")]
    doc["sweep"][0]["axis"] = [{"name": "class", "values": list(two)}]
    _same_csv(tmp_path, script, ["--seed", "5", "--samples", "2000"], doc,
              ["gallery.csv", "gallery_regular_antimhr.csv", "gallery_mhr.csv"])
    assert "all structure checks hold" in capsys.readouterr().out
    f = pd.read_csv(tmp_path / "toml" / "gallery.csv")
    assert list(f["class"]) == list(two) and (f.sim_samples == 2000).all()
    lomax = pd.read_csv(tmp_path / "toml" / "gallery_regular_antimhr.csv")
    assert (lomax.reserve.diff().dropna() <= 1e-9).all()  # Theorem 3.4: the reserve falls along the frontier


def test_theorem42_script_and_its_experiment_files(tmp_path, capsys):
    """experiments/theorem42{_quick}.toml hold the script's fixed grid, distributions, samples and tolerance; on
    two distributions with m = n = 50 the script and the file write the same theorem42.csv. m = n: every buyer
    faces a posted price p (Proposition 3.3); uniform: Π = p(1-p), U = (1-p)²/2, KS p = 1/5, W/OPT = 0.96."""
    from simulator.studies.experiment import load_experiment

    script = _script("theorem42")
    for quick, ms, samples, tol in ((True, script.QUICK_M, script.QUICK_SAMPLES, script.QUICK_TOL),
                                    (False, script.TAU_M, script.SAMPLES, script.TOL)):
        (s,), _ = load_experiment(os.path.join(ROOT, "experiments", f"theorem42{'_quick' if quick else ''}.toml"))
        assert _values(s) == (tuple(script.distributions(1000)), ms) and s.n == 1000
        assert (s.samples, s.tol, s.seed, s.budget) == (samples, tol, 0, 2e8 if quick else 2e9)
    script.QUICK_M = (50,)
    script.distributions = lambda n: ["uniform", "truncexp-atom:K=1"]
    doc = _experiment("theorem42_quick")
    doc["sweep"][0].update(n=50, samples=2000, axis=[{"name": "d", "values": ["uniform", "truncexp-atom:K=1"]},
                                                     {"name": "m", "values": [50]}])
    _same_csv(tmp_path, script, ["--n", "50", "--samples", "2000"], doc, ["theorem42.csv"])
    assert "gap to the bound" in capsys.readouterr().out
    f = pd.read_csv(tmp_path / "toml" / "theorem42.csv")
    assert list(zip(f.distribution, f.m)) == [("uniform", 50), ("truncexp-atom:K=1", 50)]
    assert f.ks_welfare_ratio.iloc[0] == pytest.approx(0.96, abs=1e-6)
    assert (f.ks_welfare_ratio >= f.psi - 1e-8).all() and f.welfare_ci_contains_exact.notna().all()
