"""What a point of a sweep computes: a registry (``KINDS``) of named kinds, each a pure function of (study,
point) giving rows. A new mechanism family (several buyer classes, bid formats, trade, redistribution) plugs
in with ``register(Kind(...))``; the runner, the Dask backend, the files and the experiment format need no
change.

- ``metrics`` (the default): the tidy table, one row per point x mechanism x metric (revenue, surplus,
  welfare, sold) with the exact value, the benchmark of the metric (Π*, U*, OPT: ``mechanisms.benchmarks``),
  the exact ratio, and with ``samples`` > 0 the Monte Carlo estimate on common random numbers, its standard
  error, CI, ratio, z = (estimate - exact)/stderr, ``ci_valid`` and ``ci_note``. The bargaining solutions
  (``ks``, ``nash``, ``cross-nash``) are solved on ``Frontier(market, tol)``, as the demo does.
- ``bargaining-cells``: ``reproduce.bargaining_cells`` (the rows of ``scripts/example42.py``,
  ``scripts/table1.py`` and the demo) without its timing columns.
- ``example42-curve``: ``reproduce.example42_curve_row`` (``scripts/example42.py``'s exact curve).
- ``frontier``: the extreme points of each point's Pareto frontier (the demo's demo_frontier.csv).
- ``table1-cells``: ``reproduce.table1_cells`` (``scripts/table1.py``'s table1.csv: the cells with the paper's
  class of each distribution, key columns first).
- the kinds of the other paper scripts (``paper_kinds``): ``theorem-e1``, ``theorem-e1-curves``,
  ``theorem-e1-scan``, ``theorem-e1-simulation`` (``scripts/theorem_e1.py``), ``gallery``,
  ``gallery-frontier`` (``scripts/gallery.py``), ``theorem42`` (``scripts/theorem42.py``) and ``demo-cells``
  (``auction-sim demo``'s demo_cells.csv and demo_asymmetric.csv).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from distributions.errors import InputError

from .study import METRICS, Point, Study, point_seed

#: the columns of a ``metrics`` row after the point's own (``point`` and one per axis)
METRIC_COLUMNS = ["distribution", "n", "m", "mechanism", "spec", "metric", "exact", "benchmark", "exact_ratio",
                  "estimate", "stderr", "ci_low", "ci_high", "ratio", "ratio_ci_low", "ratio_ci_high", "z",
                  "samples", "ci_valid", "ci_note", "exact_note", "sim_mode", "sim_seed", "sim_note"]
#: the benchmark of each metric (``mechanisms.benchmarks.all_benchmarks`` keys); units sold have none
BENCHMARK_OF = {"revenue": "revenue_max", "surplus": "surplus_max", "welfare": "opt"}


@dataclass(frozen=True)
class Kind:
    """A kind of point: ``rows(study, point) -> [dict]``; ``tidy``: its rows are point x mechanism x metric
    with the columns of ``METRIC_COLUMNS`` (plotted by ``plots.sweep``); ``check(study, label)`` refuses a
    study the kind cannot compute (InputError naming the field); ``frame(rows)``: the rows as a pandas frame
    (default ``pandas.DataFrame(rows)``); ``skips_bad_markets``: an undefined market (example42 at n = 1)
    gives rows saying it was skipped, as the paper's tables do, instead of failing the study before it runs;
    ``markets``: the points are markets (dist, n, m), checked before any work (``study.check_points``); False
    for a kind whose ``dist`` names something else (a paper's instance, ``paper_kinds``), which its ``check``
    validates and which needs no n."""

    name: str
    rows: Callable
    tidy: bool = False
    check: Callable = lambda study, label: None
    frame: Callable | None = None
    skips_bad_markets: bool = False
    markets: bool = True


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add (or replace) a kind of point."""
    KINDS[kind.name] = kind
    return kind


# ---------------------------------------------------------------------- metrics: the tidy table
def mechanism_values(spec: str, market, tol: float, frontiers: dict, exact: bool):
    """(rule, Exact or None, benchmarks) of one mechanism in ``market``. A bargaining solution is solved on
    ``Frontier(market, tol)`` (one per market and units, kept in ``frontiers``) like ``bargaining_cells``;
    another mechanism gives ``Mechanism.rule`` and ``Mechanism.exact``, and the benchmarks of its units."""
    from mechanisms import parse_mechanism
    from mechanisms.bargaining import BargainingMechanism, solve
    from mechanisms.benchmarks import all_benchmarks
    from mechanisms.frontier import Frontier

    mech = parse_mechanism(spec, market)
    own = mech.market_for(market)
    if isinstance(mech, BargainingMechanism):
        if own not in frontiers:
            frontiers[own] = Frontier(own, tol=tol)
        s = solve(frontiers[own], mech.kind)
        return s.rule, (s.exact if exact else None), {"opt": s.opt, "revenue_max": s.revenue_max,
                                                      "surplus_max": s.surplus_max}
    return mech.rule(market), (mech.exact(market) if exact else None), all_benchmarks(own)


def metrics_rows(study: Study, point: Point) -> list[dict]:
    """The ``metrics`` rows of one point (module doc): exact values, benchmarks and ratios of every mechanism,
    and with ``study.samples`` the estimates of all of them on the same draws (``reproduce.simulate_rules``:
    mode auto, the point's seed ``point_seed``, a profile-mode point over ``study.budget`` buyer values
    reduced or recorded as not simulated)."""
    from distributions import Market

    from ..paper.reproduce import simulate_rules

    market = Market.iid(point.dist, point.n, point.m)
    frontiers: dict = {}
    values = [computed_values(spec, market, study.tol, frontiers, study.exact) for spec in point.mechanisms]
    seed = point_seed(study.seed, point)
    sim, info = None, {"mode": "", "samples": 0, "note": "not simulated (samples = 0)"}
    named = [(label, v[0]) for label, v in zip(study.mechanisms, values) if v[0] is not None]
    if study.samples and named:
        sim, info = simulate_rules(named, market, study.samples, seed, study.budget)
    frame = info["result"].frame if sim is not None else None
    common = {"distribution": point.dist, "n": point.n, "m": point.m, "sim_mode": info["mode"],
              "sim_seed": seed if study.samples else None, "sim_note": info["note"]}
    rows = []
    for label, spec, (rule, ex, bench, failed) in zip(study.mechanisms, point.mechanisms, values):
        for metric in METRICS:
            row = dict(common, mechanism=label, spec=spec, metric=metric)
            row.update(exact_columns(ex, bench, metric))
            row.update(simulated_columns(frame if rule is not None else None, label, metric, row,
                                         study.confidence))
            if failed:
                row.update(exact_note=failed, sim_note="not simulated: the mechanism could not be computed")
            rows.append(row)
    return rows


def computed_values(spec: str, market, tol: float, frontiers: dict, exact: bool):
    """(rule, Exact, benchmarks, "") of ``mechanism_values``, or (None, None, {}, "not computed: why") when
    the library cannot compute the mechanism at this point (an unconverged integral: ``QuadratureError``, an
    InputError): the point's row says so, and the other points of the sweep still count."""
    try:
        return (*mechanism_values(spec, market, tol, frontiers, exact), "")
    except InputError as exc:
        return None, None, {}, f"not computed: {exc}"


def exact_columns(ex, bench: dict, metric: str) -> dict:
    """exact, benchmark, exact_ratio (None over a zero or infinite benchmark) and exact_note (why a value is
    infinite) of one mechanism and metric."""
    b = bench.get(BENCHMARK_OF.get(metric))
    value = None if ex is None else float(getattr(ex, metric))
    ratio = None  # as ``SimulationResult``: no ratio to a zero or infinite benchmark
    if value is not None and b is not None and b != 0 and math.isfinite(b):
        ratio = value / b
    return {"exact": value, "benchmark": b, "exact_ratio": ratio,
            "exact_note": "; ".join(ex.notes) if ex is not None and ex.notes else ""}


def simulated_columns(frame, label: str, metric: str, row: dict, confidence: float) -> dict:
    """The Monte Carlo columns of one mechanism and metric from the run's ``SimulationResult.frame``: estimate,
    stderr, CI, ratio and its CI (over the benchmark), z against the exact value (``result.z_score``: only
    where the CI is valid), samples, ci_valid, ci_note. Empty (None) when the point is not simulated."""
    from ..core.result import rounding_slack, z_score

    keys = ("estimate", "stderr", "ci_low", "ci_high", "ratio", "ratio_ci_low", "ratio_ci_high", "z", "samples",
            "ci_valid", "ci_note")
    if frame is None:
        return dict.fromkeys(keys)
    r = frame[(frame.mechanism == label) & (frame.metric == metric)].iloc[0]
    out = {k: _value(r[k]) for k in ("estimate", "stderr", "ci_low", "ci_high", "samples", "ci_valid", "ci_note")}
    out["samples"] = int(out["samples"])
    out["ci_valid"] = bool(out["ci_valid"])
    b = row["benchmark"]
    for key, src in (("ratio", "estimate"), ("ratio_ci_low", "ci_low"), ("ratio_ci_high", "ci_high")):
        out[key] = None if out[src] is None or not b or b == float("inf") else out[src] / b
    out["z"] = z_score(out["estimate"], out["stderr"], row["exact"], out["samples"]) if out["ci_valid"] else None
    if out["ci_valid"] and out["z"] is None and row["exact"] is not None and math.isfinite(row["exact"]):
        gap = out["estimate"] - row["exact"]  # the rule of ``SimulationResult``: zero stderr, beyond rounding
        out["ci_note"] = (f"zero standard error, estimate - exact = {gap:.3g} beyond rounding "
                          f"({rounding_slack(row['exact'], out['samples']):.2g}): z undefined")
    return out


def _value(x):
    """A frame cell as a plain Python value, None for NaN."""
    if hasattr(x, "item"):
        x = x.item()
    return None if isinstance(x, float) and math.isnan(x) else x


def _needs_mechanisms(study: Study, label) -> None:
    if not study.mechanisms:
        raise InputError(label("mechanism"), "give at least one mechanism (e.g. spa, myerson, ks, nash, cross-nash)")
    if not study.exact and not study.samples:
        raise InputError(label("exact"), "with no exact values and no simulation (samples = 0) there is nothing to "
                                         "compute")


# ---------------------------------------------------------------------- the paper's tables
def bargaining_rows(study: Study, point: Point) -> list[dict]:
    """``reproduce.bargaining_cells`` at the point, without its timing columns (files the same on every run)."""
    from ..paper.reproduce import bargaining_cells

    return bargaining_cells(point.dist, point.n, samples=study.samples, seed=study.seed, tol=study.tol,
                            budget=study.budget, timings=False)


def _single_unit_solutions(study: Study, label) -> None:
    if study.mechanisms:
        raise InputError(label("mechanism"), f"compute = {study.compute} computes the three bargaining solutions "
                                             "itself; give no mechanism")
    if study.m != 1 or any(a.name == "m" for a in study.axes):
        raise InputError(label("m"), f"compute = {study.compute} is for one unit (m = 1)")


def table1_rows(study: Study, point: Point) -> list[dict]:
    """``reproduce.table1_cells`` at the point (a cell of Table 1 with the paper's class)."""
    from ..paper.reproduce import table1_cells

    return table1_cells(point.dist, point.n, samples=study.samples, seed=study.seed, tol=study.tol,
                        budget=study.budget)


def table1_frame(rows):
    from ..paper.reproduce import table1_frame as frame

    return frame(rows)


def example42_rows(study: Study, point: Point) -> list[dict]:
    """``reproduce.example42_curve_row`` at the point's n."""
    from ..paper.reproduce import example42_curve_row

    return [example42_curve_row(point.n, study.tol)]


def frontier_rows(study: Study, point: Point) -> list[dict]:
    """The extreme points of the point's Pareto frontier (``Frontier(market, tol).to_frame()``: θ, λ, Π, U,
    W, units sold, reserve, bid space), led by the distribution and n (and m when it is not 1), as the demo's
    demo_frontier.csv."""
    from distributions import Market
    from mechanisms.frontier import Frontier

    frame = Frontier(Market.iid(point.dist, point.n, point.m), tol=study.tol).to_frame()
    lead = {"distribution": point.dist, "n": point.n, **({"m": point.m} if point.m != 1 else {})}
    return [{**lead, **r} for r in frame.to_dict("records")]


def _no_mechanisms(study: Study, label) -> None:
    if study.mechanisms:
        raise InputError(label("mechanism"), f"compute = {study.compute} takes no mechanism")
    if study.samples:
        raise InputError(label("samples"), f"compute = {study.compute} is exact only (samples = 0)")


def _example42_only(study: Study, label) -> None:
    _single_unit_solutions(study, label)
    if study.dist != "example42":
        raise InputError(label("dist"), f"compute = example42-curve is Example 4.2's curve: dist = example42, got "
                                        f"{study.dist!r}")
    if study.samples:
        raise InputError(label("samples"), "compute = example42-curve is exact only (samples = 0)")


register(Kind("metrics", metrics_rows, tidy=True, check=_needs_mechanisms))
register(Kind("bargaining-cells", bargaining_rows, check=_single_unit_solutions, skips_bad_markets=True))
register(Kind("example42-curve", example42_rows, check=_example42_only))
register(Kind("frontier", frontier_rows, check=_no_mechanisms))
register(Kind("table1-cells", table1_rows, check=_single_unit_solutions, frame=table1_frame,
              skips_bad_markets=True))


def _register_paper_kinds() -> None:
    """The kinds of the paper scripts whose points are instances, not markets (``paper_kinds``)."""
    from . import paper_kinds as pk

    for name, rows, check in (("theorem-e1", pk.e1_rows, pk.check_e1),
                              ("theorem-e1-curves", pk.e1_curve_rows, pk.check_e1),
                              ("theorem-e1-scan", pk.e1_scan_rows, pk.check_e1_scan),
                              ("theorem-e1-simulation", pk.e1_simulation_rows, pk.check_e1_simulation),
                              ("gallery", pk.gallery_rows, pk.check_gallery),
                              ("gallery-frontier", pk.gallery_frontier_rows, pk.check_gallery_frontier)):
        register(Kind(name, rows, check=check, markets=False))
    register(Kind("theorem42", pk.theorem42_rows, check=pk.check_theorem42, markets=False))
    register(Kind("demo-cells", pk.demo_rows, check=pk.check_demo, frame=pk.demo_frame, markets=False))


_register_paper_kinds()
