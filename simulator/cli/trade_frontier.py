"""``auction-sim trade frontier`` and ``auction-sim trade solve``: the Pareto frontier of (seller utility Π,
buyer utility U) over IC, IR, budget-balanced bilateral-trade mechanisms and the KS / Nash solutions on it
(``mechanisms.trade.frontier``; registered by ``cmd_trade.register``).

    auction-sim trade frontier --buyer SPEC --seller SPEC [--points K] [--plot FILE] [--format table|json|csv]
                               [--out FILE]
    auction-sim trade solve    --buyer SPEC --seller SPEC --solution ks|nash [--format table|json|csv] [--out FILE]

JSON (frontier): {"buyer", "seller", "benchmarks": {"seller_max" (Π*, seller-offer), "buyer_max" (U*,
buyer-offer), "first_best", "second_best"}, "extreme_points": [{"lambda", "mu", "a", "b", "seller_utility",
"buyer_utility", "gains", "trade_prob", "slack", "slack_to", "mechanism"}], "curve": [{"buyer_utility",
"seller_utility", "gains"}], "solutions": [{"solution", "seller_utility", "buyer_utility", "gains",
"seller_ratio", "buyer_ratio", "gains_over_ideal", "gains_over_first_best", "gains_over_second_best",
"mechanism"}], "converged"}. The CSV is one table with a "section" column (curve, extreme_point, solution).
JSON (solve): {"buyer", "seller", "solution", "results": [{"metric", "analytic", "ratio", "ratio_to"}],
"benchmarks", "mechanism"}; the table and CSV show the results rows.
"""
from __future__ import annotations

import sys

from .common import add_format_args, check_writable, emit, input_error, render, table_text, whole_number, write_output

#: the most curve points --points reports
MAX_POINTS = 1000


def _common(p) -> None:
    p.add_argument("--buyer", required=True, metavar="SPEC", help="the buyer's value distribution F, e.g. uniform")
    p.add_argument("--seller", required=True, metavar="SPEC", help="the seller's cost distribution G, e.g. uniform")
    add_format_args(p)


def register(trade_subparsers) -> None:
    """Add ``frontier`` and ``solve`` to the ``trade`` subcommand's subparsers."""
    f = trade_subparsers.add_parser("frontier", help="Pareto frontier of seller and buyer utility (IC, IR, BB)",
                                    description="Exact Pareto frontier of (seller utility, buyer utility) over IC, "
                                                "IR, budget-balanced trade mechanisms, and its KS / Nash points.")
    _common(f)
    f.add_argument("--points", default="20", metavar="K", help="curve points to report (default 20)")
    f.add_argument("--plot", metavar="FILE", help="draw the frontier and the solutions to FILE (PNG, PDF, SVG)")
    f.set_defaults(func=_interruptible("trade frontier", run_frontier))
    s = trade_subparsers.add_parser("solve", help="the KS or Nash solution on the trade frontier",
                                    description="A bargaining solution on the trade frontier: its utilities, "
                                                "ratios to Π*, U*, the first and second best, its mechanism.")
    _common(s)
    s.add_argument("--solution", required=True, choices=("ks", "nash"))
    s.set_defaults(func=_interruptible("trade solve", run_solve))


def load_market(args):
    """``Market.trade(F, G)`` of --buyer and --seller (``cmd_trade.load_trade_market``: a bad spec or an
    infinite mean names its flag); --out is checked here too."""
    from .cmd_trade import load_trade_market

    market = load_trade_market(args)
    check_writable("--out", args.out)
    return market


def frontier_of(market):
    """``TradeFrontier`` of the market; no gains from trade names --seller."""
    from distributions.errors import InputError
    from mechanisms.trade.frontier import TradeFrontier

    try:
        return TradeFrontier.of_market(market, max_points=60)
    except InputError as exc:
        flag = f"--{exc.argument}" if exc.argument in ("buyer", "seller") else "--buyer"
        raise InputError(flag, exc.message) from exc


def _benchmarks(fr) -> dict:
    return {"seller_max": fr.seller_max, "buyer_max": fr.buyer_max, "first_best": fr.first_best,
            "second_best": fr.second_best.gains}


def run_solve(args) -> int:
    import pandas as pd

    fr = frontier_of(load_market(args))
    sol = fr.solve(args.solution)
    bench = _benchmarks(fr)
    results = [{"metric": "seller_utility", "analytic": sol.seller_utility,
                "ratio": sol.seller_utility / fr.seller_max, "ratio_to": "seller_max"},
               {"metric": "buyer_utility", "analytic": sol.buyer_utility, "ratio": sol.buyer_utility / fr.buyer_max,
                "ratio_to": "buyer_max"},
               {"metric": "gains", "analytic": sol.gains, "ratio": sol.gains / fr.first_best,
                "ratio_to": "first_best"}]
    payload = {"buyer": fr.F.spec, "seller": fr.G.spec, "solution": sol.kind, "results": results,
               "benchmarks": bench, "mechanism": sol.describe()} | sol.as_dict()
    emit(args, payload, pd.DataFrame(results))
    if args.format == "table":
        write_output_tail(args, f"mechanism: {sol.describe()}\n")
    return 0


def write_output_tail(args, text: str) -> None:
    """A line after the table on stdout (with --out the file holds the table only)."""
    if not args.out:
        sys.stdout.write(text)


def run_frontier(args) -> int:
    import numpy as np
    import pandas as pd

    market = load_market(args)
    k = whole_number("--points", args.points, 2, "a number of points")
    if k > MAX_POINTS:
        raise input_error("--points", f"expected at most {MAX_POINTS} points, got {args.points!r}")
    _check_plot(args.plot)
    fr = frontier_of(market)
    sols = {kind: fr.solve(kind) for kind in ("ks", "nash")}
    us = np.linspace(fr.seller_offer.buyer_utility, fr.buyer_max, k)
    curve = pd.DataFrame({"buyer_utility": us, "seller_utility": [fr.seller_utility_at(u) for u in us]})
    curve["gains"] = curve.buyer_utility + curve.seller_utility
    points = fr.to_frame()
    points["mechanism"] = [p.describe() for p in fr.points]
    solutions = pd.DataFrame([dict(s.as_dict(), mechanism=s.describe()) for s in sols.values()])
    payload = {"buyer": fr.F.spec, "seller": fr.G.spec, "benchmarks": _benchmarks(fr),
               "extreme_points": points.to_dict(orient="records"), "curve": curve.to_dict(orient="records"),
               "solutions": solutions.to_dict(orient="records"), "converged": fr.converged}
    if args.plot:
        _draw(fr, sols, args.plot)
    if args.format == "csv":
        frame = pd.concat([curve.assign(section="curve"), points.assign(section="extreme_point"),
                           solutions.assign(section="solution")], ignore_index=True)
        text = render(args, payload, frame[["section"] + [c for c in frame.columns if c != "section"]])
    else:
        text = render(args, payload, curve)
        if args.format == "table":
            bench = pd.DataFrame([_benchmarks(fr)])
            text += "\nbenchmarks:\n" + table_text(bench)
            text += "\nbargaining solutions:\n" + table_text(solutions.drop(columns="mechanism"))
            text += "".join(f"{s.kind}: {s.describe()}\n" for s in sols.values())
    write_output(args, text)
    return 0


def _check_plot(path) -> None:
    """--plot: a writable file whose extension matplotlib writes (none: PNG)."""
    import os

    if path is None:
        return
    check_writable("--plot", path)
    ext = os.path.splitext(path)[1][1:].lower()
    if ext and ext not in ("png", "pdf", "svg", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp"):
        raise input_error("--plot", f"cannot draw {path!r}: unknown image format {ext!r} (png, pdf, svg, ...)")


def _draw(fr, sols: dict, path: str) -> None:
    """The frontier (U, Π), the offer mechanisms, the second best and the solutions, saved atomically."""
    import os
    import tempfile

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    us, pis = fr.curve(200)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.plot(us, pis, label="Pareto frontier (IC, IR, BB)")
    ax.plot([p.buyer_utility for p in fr.points], [p.seller_utility for p in fr.points], ".", ms=3)
    sb = fr.second_best
    ax.plot(sb.buyer_utility, sb.seller_utility, "s", label=f"second best (gains {sb.gains:.4g})")
    for s in sols.values():
        ax.plot(s.buyer_utility, s.seller_utility, "*", ms=12, label=f"{s.kind} (gains {s.gains:.4g})")
    ax.set_xlabel("buyer utility U")
    ax.set_ylabel("seller utility Π")
    ax.set_title(f"buyer {fr.F.spec}, seller {fr.G.spec}", fontsize=9)
    ax.legend(fontsize=8)
    folder = os.path.dirname(os.path.abspath(path))
    ext = os.path.splitext(path)[1] or ".png"
    fd, tmp = tempfile.mkstemp(suffix=ext, dir=folder)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, format=ext[1:])
        os.replace(tmp, path)
    except OSError as exc:
        raise input_error("--plot", f"cannot write {path!r}: {exc.strerror or exc}") from exc
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)


def _interruptible(command: str, body):
    """``body(args)``, with Ctrl-C as one line and exit status 130."""
    def run(args) -> int:
        try:
            return body(args)
        except KeyboardInterrupt:
            sys.stderr.write(f"auction-sim {command}: interrupted\n")
            return 130
    return run
