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

from .common import add_format_args, emit, input_error, load_market, render, whole_number, write_output

METRICS = ("revenue", "surplus", "welfare", "sold")


def _common(p) -> None:
    p.add_argument("--dist", required=True, metavar="SPEC", help="value distribution, e.g. example42 or lomax:shape=3")
    p.add_argument("--n", required=True, metavar="N", help="number of buyers (e.g. 10 or 1e30)")
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
    sim = None if args.simulate is None else whole_number("--simulate", args.simulate, 1, "a number of auctions")
    seed = whole_number("--seed", args.seed, 0, "an integer")
    return market, _frontier(market), sim, seed


def _frontier(market):
    """``Frontier(market)``; a distribution whose optimum is unbounded (an infinite mean) is bad --dist."""
    from distributions.errors import InputError
    from mechanisms import UnboundedError
    from mechanisms.frontier import Frontier

    try:
        return Frontier(market)
    except UnboundedError as exc:
        raise InputError("--dist", f"{market.label!r}: {exc}") from exc


def _simulate(named_rules, market, samples, seed) -> dict:
    """{name: {metric: (estimate, stderr, ci_low, ci_high)}}: all mechanisms on common random numbers."""
    from ..core.engine import simulate

    res = simulate(named_rules, market, samples=samples, seed=seed, mode="auto", progress=False,
                   exact=False, benchmarks=False)
    out: dict = {}
    for row in res.frame.itertuples():
        out.setdefault(row.mechanism, {})[row.metric] = (row.estimate, row.stderr, row.ci_low, row.ci_high)
    return out


def _rows(name, exact, sim) -> list[dict]:
    rows = []
    for metric in METRICS:
        row = {"mechanism": name, "metric": metric, "analytic": float(getattr(exact, metric))}
        if sim is not None:
            est, se, lo, hi = sim[name][metric]
            row.update(estimate=est, stderr=se, ci_low=lo, ci_high=hi)
        rows.append(row)
    return rows


def _benchmarks(F) -> dict:
    from mechanisms import benchmarks

    return {"opt": benchmarks.opt(F.market), "revenue_max": F.revenue_max, "surplus_max": F.surplus_max}


def run_solve(args) -> int:
    import pandas as pd

    from mechanisms.bargaining import solve

    market, F, sim_n, seed = _market(args)
    sol = solve(F, args.solution)
    sim = _simulate([(sol.kind, sol.rule)], market, sim_n, seed) if sim_n else None
    results = _rows(sol.kind, sol.exact, sim)
    payload = {"distribution": market.label, "n": market.n, "m": market.m, "solution": sol.kind, "results": results,
               "benchmarks": _benchmarks(F), "revenue_ratio": sol.revenue_ratio, "surplus_ratio": sol.surplus_ratio,
               "welfare_ratio": sol.welfare_ratio, "mechanism": _mechanism_text(sol.rule)}
    frame = pd.DataFrame(results)
    frame["ratio"] = [sol.revenue_ratio, sol.surplus_ratio, sol.welfare_ratio, math.nan]
    emit(args, payload, frame)
    return 0


def _mechanism_text(rule) -> str:
    from mechanisms.frontier import describe_rule
    from mechanisms.rule import MixtureRule

    if isinstance(rule, MixtureRule):
        return " | ".join(f"p={p:.6g}: {describe_rule(r)}" for p, r in zip(rule.probs, rule.rules))
    return describe_rule(rule)


def run_frontier(args) -> int:
    import numpy as np
    import pandas as pd

    from mechanisms.bargaining import SOLUTIONS, solve

    market, F, sim_n, seed = _market(args)
    k = whole_number("--points", args.points, 2, "a number of points")
    sols = {kind: solve(F, kind) for kind in SOLUTIONS}
    grid = np.linspace(F.surplus_min, F.surplus_max, k)
    points = [(f"U={u:.6g}", F.mechanism_at(u)) for u in grid]
    sim = None
    if sim_n:
        named = [(kind, s.rule) for kind, s in sols.items()] + points
        sim = _simulate(named, market, sim_n, seed)
    payload = {"distribution": market.label, "n": market.n, "m": market.m, "benchmarks": _benchmarks(F),
               "extreme_points": F.to_frame().to_dict(orient="records"),
               "curve": [{"surplus": float(u), "revenue": float(p)} for u, p in zip(grid, map(F.revenue_at, grid))],
               "solutions": [dict(s.as_dict(), mechanism=_mechanism_text(s.rule)) for s in sols.values()],
               "results": _frontier_results(sols, points, sim, market)}
    if args.plot:
        from ..paper.plots import plot_frontier

        plot_frontier(F, sols, sim, points, args.plot)
    frame = pd.DataFrame({"surplus": grid, "revenue": [F.revenue_at(u) for u in grid]})
    frame["welfare"] = frame.surplus + frame.revenue
    frame["mechanism"] = [_mechanism_text(r) for _, r in points]
    text = render(args, payload, frame)
    if args.format == "table":
        sol_frame = pd.DataFrame([s.as_dict() for s in sols.values()])
        text += "\nbargaining solutions:\n" + sol_frame.to_string(index=False) + "\n"
    write_output(args, text)
    return 0


def _frontier_results(sols, points, sim, market) -> list[dict]:
    """The rows of the solutions, and with --simulate those of the K frontier points, exact and estimated."""
    from mechanisms import exact_from_rule

    results = []
    for kind, s in sols.items():
        results += _rows(kind, s.exact, sim)
    if sim is not None:
        for name, rule in points:
            results += _rows(name, exact_from_rule(rule, market), sim)
    return results
