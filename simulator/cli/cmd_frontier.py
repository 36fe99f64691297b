"""``auction-sim frontier`` and ``auction-sim solve``: the Pareto frontier of (revenue, buyers' surplus) and the
KS / Nash / cross-side Nash solutions on it (Sections 3-5), exact, optionally confirmed by simulation.

    auction-sim frontier --dist SPEC --n N [--m M] [--points K] [--simulate S] [--seed K] [--plot FILE]
                         [--format table|json|csv] [--out FILE]
    auction-sim solve    --dist SPEC --n N --solution ks|nash|cross-nash [--m M] [--simulate S] [--seed K]
                         [--format table|json|csv] [--out FILE]

JSON (solve): {"distribution", "n", "m", "solution", "results": [{"mechanism", "metric", "analytic"[, "estimate",
"stderr", "ci_low", "ci_high"]}], "benchmarks": {"opt", "revenue_max", "surplus_max"}, "revenue_ratio",
"surplus_ratio", "welfare_ratio", "mechanism": str}. JSON (frontier): {"distribution", "n", "m", "benchmarks",
"extreme_points": [...], "curve": [{"surplus", "revenue"}], "solutions": [...], "results": [...] (with
--simulate: the estimates of the implementing mechanisms of the solutions and of K frontier points)}.
"""
from __future__ import annotations

import math
import sys

from .common import (MAX_AUCTIONS, add_format_args, check_writable, emit, input_error, load_market, partial_line,
                     render, table_text, whole_number, write_file, write_output)

METRICS = ("revenue", "surplus", "welfare", "sold")
#: the benchmark each metric's ratio divides by: Pi/Pi*, U/U*, W/OPT (units sold: none)
RATIO_TO = {"revenue": "revenue_max", "surplus": "surplus_max", "welfare": "opt"}
#: the most frontier points --points reports (each is a mechanism; with --simulate each is simulated)
MAX_POINTS = 1000
#: the columns of the results rows, in the order of the table, the CSV and the JSON
RESULT_COLUMNS = ("mechanism", "metric", "analytic", "estimate", "stderr", "ci_low", "ci_high", "z", "ratio")


def _common(p) -> None:
    p.add_argument("--dist", metavar="SPEC", help="value distribution, e.g. example42 or lomax:shape=3")
    p.add_argument("--n", metavar="N", help="number of buyers (e.g. 10 or 1e30)")
    p.add_argument("--buyers", action="append", metavar="COUNT*SPEC",
                   help="a buyer class: COUNT buyers with values from SPEC, e.g. 2*uniform:high=1 (repeat for "
                        "several classes; instead of --dist and --n)")
    p.add_argument("--m", default="1", metavar="M", help="identical units (default 1)")
    p.add_argument("--simulate", metavar="S", help="also simulate the implementing mechanisms with S auctions each")
    p.add_argument("--seed", default="0", metavar="K", help="random seed of --simulate (default 0)")
    add_format_args(p)


def register(subparsers) -> None:
    p = subparsers.add_parser("frontier", help="the Pareto frontier of revenue and buyers' surplus",
                              description="Exact Pareto frontier (extreme points: indirect Vickrey auctions; "
                                          "between them ex-ante mixtures) and the bargaining solutions on it.")
    _common(p)
    p.add_argument("--points", default="20", metavar="K", help="frontier points to report (default 20)")
    p.add_argument("--plot", metavar="FILE", help="draw the frontier, the solutions and simulated points to FILE")
    p.set_defaults(func=run_frontier)
    s = subparsers.add_parser("solve", help="the KS, Nash or cross-side Nash solution and its mechanism",
                              description="A bargaining solution on the Pareto frontier: its exact revenue, "
                                          "surplus and welfare, ratios to the benchmarks, implementing mechanism.")
    _common(s)
    s.add_argument("--solution", required=True, choices=("ks", "nash", "cross-nash"))
    s.set_defaults(func=run_solve)


def _market(args):
    """(market, frontier, --simulate auctions or None, --seed): one ``Market`` of --dist, --n and --m units."""
    market = load_market(args)
    m = whole_number("--m", args.m, 1, "a whole number of units")
    if m > market.n:
        raise input_error("--m", f"the number of units must be at most n = {market.n:g}, got {m}")
    market = market.with_units(m)
    sim = None if args.simulate is None else _auctions(args.simulate)
    seed = whole_number("--seed", args.seed, 0, "an integer")
    check_writable("--out", args.out)
    return market, _frontier(market), sim, seed


def _auctions(text: str) -> int:
    """--simulate: a whole number of auctions between 1 and MAX_AUCTIONS (1e12)."""
    value = whole_number("--simulate", text, 1, "a number of auctions")
    if value > MAX_AUCTIONS:
        raise input_error("--simulate", f"expected at most {MAX_AUCTIONS:.0e} auctions, got {text!r}")
    return value


def _points(text: str) -> int:
    """--points: a whole number of frontier points between 2 and MAX_POINTS (1000)."""
    value = whole_number("--points", text, 2, "a number of points")
    if value > MAX_POINTS:
        raise input_error("--points", f"expected at most {MAX_POINTS} points, got {text!r}")
    return value


def _plot_path(path: str | None) -> None:
    """--plot: a writable file whose extension is an image format matplotlib writes (none: PNG)."""
    import os

    from matplotlib.backend_bases import FigureCanvasBase

    if path is None:
        return
    check_writable("--plot", path)
    ext = os.path.splitext(path)[1][1:].lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if ext and ext not in formats:
        raise input_error("--plot", f"cannot draw {path!r}: unknown image format {ext!r} (one of "
                                    f"{', '.join(sorted(formats))})")


def _frontier(market):
    """``Frontier(market)``; a distribution whose optimum is unbounded (an infinite mean) is bad --dist."""
    from distributions.errors import InputError
    from mechanisms import UnboundedError
    from mechanisms.frontier import Frontier

    try:
        if len(market.classes) > 1:  # several buyer classes (--buyers): ``mechanisms.classes.frontier``
            from mechanisms.classes.frontier import class_frontier

            return class_frontier(market)
        return Frontier(market)
    except UnboundedError as exc:
        raise InputError("--dist", f"{market.label!r}: {exc}") from exc


def _simulate(named_rules, market, samples, seed) -> tuple[dict, object]:
    """({name: {metric: (estimate, stderr, ci_low, ci_high)}}, the SimulationResult): all mechanisms on common
    random numbers (Ctrl-C: the auctions so far, ``partial`` set)."""
    from ..core.engine import simulate

    res = simulate(named_rules, market, samples=samples, seed=seed, mode="auto", progress=False,
                   exact=False, benchmarks=False)
    out: dict = {}
    for row in res.frame.itertuples():
        out.setdefault(row.mechanism, {})[row.metric] = (row.estimate, row.stderr, row.ci_low, row.ci_high)
    return out, res


def _rows(name, exact, sim, bench: dict) -> list[dict]:
    """One row per metric: the exact value, its ratio to the metric's benchmark (Pi/Pi*, U/U*, W/OPT) and, with
    a simulation, the estimate, its CI and z = (estimate - exact) / stderr."""
    rows = []
    for metric in METRICS:
        exact_value = float(getattr(exact, metric))
        row = {"mechanism": name, "metric": metric, "analytic": exact_value}
        if sim is not None:
            est, se, lo, hi = (float(x) for x in sim[name][metric])
            row.update(estimate=est, stderr=se, ci_low=lo, ci_high=hi, z=_z(est, se, exact_value))
        b = bench.get(RATIO_TO.get(metric))
        row["ratio"] = exact_value / float(b) if b else math.nan
        rows.append(row)
    return rows


def _z(est: float, se: float, exact: float) -> float:
    """z = (estimate - exact) / stderr; with no spread 0 when they agree, else no value (NaN)."""
    if se > 0:
        return (est - exact) / se
    return 0.0 if est == exact else math.nan


def _sim_keys(res, samples: int) -> dict:
    """The top-level JSON keys of a --simulate run: auctions done and asked, and whether it was interrupted."""
    if res is None:
        return {}
    return {"samples": res.samples, "samples_requested": samples, "partial": bool(res.partial)}


def _benchmarks(F) -> dict:
    from mechanisms import benchmarks

    return {"opt": benchmarks.opt(F.market), "revenue_max": F.revenue_max, "surplus_max": F.surplus_max}


def _run_solve(args) -> int:
    import pandas as pd

    from mechanisms.bargaining import solve

    if getattr(args, "buyers", None) and len(args.buyers) > 1:
        raise input_error("--buyers", "solve takes one buyer class (--dist, --n); for several classes use "
                                      "frontier (its KS point)")
    market, F, sim_n, seed = _market(args)
    sol = solve(F, args.solution)
    sim, res = _simulate([(sol.kind, sol.rule)], market, sim_n, seed) if sim_n else (None, None)
    bench = _benchmarks(F)
    results = _rows(sol.kind, sol.exact, sim, bench)
    payload = {"distribution": market.label, "n": market.n, "m": market.m, "solution": sol.kind, "results": results,
               "benchmarks": bench, "revenue_ratio": sol.revenue_ratio, "surplus_ratio": sol.surplus_ratio,
               "welfare_ratio": sol.welfare_ratio, "mechanism": _mechanism_text(sol.rule)} | _sim_keys(res, sim_n)
    partial = None if res is None else res.partial
    head = partial_line(res.samples, sim_n) if partial else ""
    emit(args, payload, pd.DataFrame(results), partial=partial, head=head)
    return 130 if partial else 0


def _mechanism_text(rule) -> str:
    from mechanisms.frontier import describe_rule
    from mechanisms.rule import MixtureRule

    if isinstance(rule, MixtureRule):
        return " | ".join(f"p={p:.6g}: {describe_rule(r)}" for p, r in zip(rule.probs, rule.rules))
    return describe_rule(rule)


def _run_frontier(args) -> int:
    import numpy as np
    import pandas as pd

    from mechanisms.bargaining import SOLUTIONS, solve

    market, F, sim_n, seed = _market(args)
    k = _points(args.points)
    if len(market.classes) > 1:
        return _run_class_frontier(args, market, F, k, (sim_n, seed))
    _plot_path(args.plot)
    sols = {kind: solve(F, kind) for kind in SOLUTIONS}
    grid = np.linspace(F.surplus_min, F.surplus_max, k)
    points = [(f"U={u:.6g}", F.mechanism_at(u)) for u in grid]
    sim, res = None, None
    if sim_n:
        named = [(kind, s.rule) for kind, s in sols.items()] + points
        sim, res = _simulate(named, market, sim_n, seed)
    bench = _benchmarks(F)
    curve = pd.DataFrame({"surplus": grid, "revenue": [F.revenue_at(u) for u in grid]})
    curve["welfare"] = curve.surplus + curve.revenue
    curve["mechanism"] = [_mechanism_text(r) for _, r in points]
    payload = {"distribution": market.label, "n": market.n, "m": market.m, "benchmarks": bench,
               "extreme_points": F.to_frame().to_dict(orient="records"),
               "curve": [{"surplus": float(u), "revenue": float(p)} for u, p in zip(curve.surplus, curve.revenue)],
               "solutions": [dict(s.as_dict(), mechanism=_mechanism_text(s.rule)) for s in sols.values()],
               "results": _frontier_results(sols, points, sim, market, bench)} | _sim_keys(res, sim_n)
    if args.plot:
        from ..paper.plots import plot_frontier

        _draw(args.plot, lambda path: plot_frontier(F, sols, sim, points, path))
    write_output(args, _frontier_text(args, payload, curve, sols, res, sim_n))
    return 130 if res is not None and res.partial else 0


def _draw(path: str, draw) -> None:
    """``draw(path)`` (an atomic figure save); a path that cannot be written is InputError("--plot")."""
    try:
        draw(path)
    except OSError as exc:
        raise input_error("--plot", f"cannot write {path!r}: {exc.strerror or exc}") from exc


def _frontier_text(args, payload: dict, curve, sols: dict, res, samples) -> str:
    """The frontier in the --format: JSON as is; the CSV is one table, the curve's rows (section "curve") and
    the JSON's "results" rows (section "result"); the table shows the curve, the bargaining solutions and the
    results (exact, and with --simulate the estimates). An interrupted --simulate is marked in each."""
    import pandas as pd

    partial = None if res is None else res.partial
    head = partial_line(res.samples, samples) if partial else ""
    results = pd.DataFrame(payload["results"])
    results = results[[c for c in RESULT_COLUMNS if c in results.columns]]
    if args.format == "csv":
        frame = pd.concat([curve.assign(section="curve"), results.assign(section="result")], ignore_index=True)
        return render(args, payload, frame[["section"] + [c for c in frame.columns if c != "section"]], partial)
    text = render(args, payload, curve, partial, head)
    if args.format == "table":
        text += "\nbargaining solutions:\n" + table_text(pd.DataFrame([s.as_dict() for s in sols.values()]))
        title = "exact" if res is None else f"exact, and simulated with {res.samples} auctions each"
        text += f"\nresults ({title}):\n" + table_text(results)
    return text


def _frontier_results(sols, points, sim, market, bench: dict) -> list[dict]:
    """The rows of the solutions, and with --simulate those of the K frontier points, exact and estimated."""
    from mechanisms import exact_from_rule

    results = []
    for kind, s in sols.items():
        results += _rows(kind, s.exact, sim, bench)
    if sim is not None:
        for name, rule in points:
            results += _rows(name, exact_from_rule(rule, market), sim, bench)
    return results


def _run_class_frontier(args, market, F, k: int, simulation) -> int:
    """``frontier`` on several buyer classes (``mechanisms.classes.frontier.ClassFrontier``): the extreme points
    M*_λ, the curve at k surplus levels, the KS solution (the Nash solutions have no several-class definition)
    and its mechanism's rows, exact and with --simulate estimated, per class too (surplus[k], win[k])."""
    import types

    import numpy as np
    import pandas as pd

    from mechanisms import benchmarks
    from mechanisms.classes.frontier import ClassKS

    if args.plot:
        raise input_error("--plot", "the frontier of several buyer classes is not drawn; leave out --plot")
    sim_n, seed = simulation
    grid = np.linspace(F.points[0].surplus, F.points[-1].surplus, k)
    curve = pd.DataFrame({"surplus": grid, "revenue": [F.revenue_at(u) for u in grid]})
    curve["welfare"] = curve.surplus + curve.revenue
    bench = {"opt": benchmarks.opt(market), "revenue_max": F.revenue_max, "surplus_max": F.surplus_max}
    ks = dict(solution="ks", **F.ks())
    res = None
    if sim_n:
        res = _simulate([("ks", ClassKS())], market, sim_n, seed)[1]
    rows = _class_results(ClassKS().exact(market), res, bench)
    points = [{"theta": p.theta, "lambda": p.lam, "revenue": p.revenue, "surplus": p.surplus,
               "welfare": p.revenue + p.surplus} for p in F.points]
    payload = {"distribution": market.label, "n": market.n, "m": market.m,
               "classes": [{"class": i + 1, "count": c.count, "distribution": c.dist.spec}
                           for i, c in enumerate(market.classes)],
               "benchmarks": bench, "extreme_points": points,
               "curve": [{"surplus": float(u), "revenue": float(p)} for u, p in zip(curve.surplus, curve.revenue)],
               "solutions": [ks], "results": rows} | _sim_keys(res, sim_n)
    sols = {"ks": types.SimpleNamespace(as_dict=lambda: ks)}
    write_output(args, _frontier_text(args, payload, curve, sols, res, sim_n))
    return 130 if res is not None and res.partial else 0


def _class_results(exact, res, bench: dict) -> list[dict]:
    """The KS mechanism's rows on several classes: its exact values (``cmd_analyze.class_rows`` per class), their
    ratios to the benchmarks and, with a simulation ``res``, the estimates, CIs and z."""
    from .cmd_analyze import class_rows

    rows = [{"mechanism": "ks", "metric": m, "analytic": float(getattr(exact, m))} for m in METRICS]
    rows += class_rows("ks", exact)
    frame = None if res is None else res.frame.set_index("metric")
    for row in rows:
        b = bench.get(RATIO_TO.get(row["metric"]))
        row["ratio"] = row["analytic"] / float(b) if b else math.nan
        if frame is not None:
            est, se, lo, hi = (float(frame.at[row["metric"], c]) for c in ("estimate", "stderr", "ci_low", "ci_high"))
            row.update(estimate=est, stderr=se, ci_low=lo, ci_high=hi, z=_z(est, se, row["analytic"]))
    return rows


def _interruptible(command: str, body):
    """``body(args)``, with Ctrl-C outside the simulation loop (which handles its own) as one line, exit 130."""
    def run(args) -> int:
        try:
            return body(args)
        except KeyboardInterrupt:
            sys.stderr.write(f"auction-sim {command}: interrupted\n")
            return 130
    return run


run_solve = _interruptible("solve", _run_solve)
run_frontier = _interruptible("frontier", _run_frontier)
