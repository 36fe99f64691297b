"""``auction-sim trade``: bilateral trade (one buyer v ~ F, one seller with private cost c ~ G; issue 16).

    auction-sim trade analyze  --buyer SPEC --seller SPEC --mechanism SPEC [--mechanism SPEC ...]
                               [--format table|json|csv] [--out FILE]
    auction-sim trade simulate --buyer SPEC --seller SPEC --mechanism SPEC [--mechanism SPEC ...]
                               [--samples S] [--seed K] [--confidence C] [--format table|json|csv] [--out FILE]
                               [--quiet]

Mechanisms (``mechanisms.trade.spec``): vcg, agv, agv:absorb=buyer|seller (Proposition 5.6), posted:price=P,
posted:price=best, seller-offer, buyer-offer, second-best (Myerson–Satterthwaite), double:k=K (uniform traders),
ks and nash (the bargaining solutions on the trade frontier, run as lotteries between two frontier points with
AGV transfers: budget 0 on every draw, Bayesian IC, interim IR; ``mechanisms.trade.solutions``).
Metrics per mechanism: trade (probability), buyer_pays, seller_receives, buyer_utility, seller_utility, gains,
budget (buyer_pays - seller_receives; negative: a deficit). analyze adds the details of each mechanism (AGV: the
worst-off types and their interim utilities; second-best: its weight a and, where its budget jumps, the
probability nu_low of the lower rule; ks / nash: the lottery's nu_low and the two points' lambdas;
posted:price=best: the price) and
``ratio`` = gains / first-best gains. simulate reports, per row, the estimate with its CI, the exact value and
z, and the minimum and maximum over every draw (AGV: budget 0 on every draw). JSON: {"buyer", "seller",
"results": [rows], "details": {mechanism: {...}}} (analyze) or the ``DrawResult.to_dict()`` of
``simulator.core.draws`` plus "buyer", "seller" (simulate). Ctrl-C during simulate prints the finished chunks
marked partial and exits 130. Bad input: one line on stderr, exit status 2.

``trade frontier`` and ``trade solve`` are registered by ``simulator.cli.trade_frontier`` when it exists.
"""
from __future__ import annotations

import importlib
import math
import sys

from .common import (MAX_AUCTIONS, add_format_args, check_writable, emit, input_error, number, partial_line)

#: the simulate table's columns (the CSV and JSON carry every column of the result's frame)
TABLE_COLUMNS = ("mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high", "samples", "analytic", "z",
                 "min", "max", "ci_valid", "ci_note")


def _common(p) -> None:
    p.add_argument("--buyer", required=True, metavar="SPEC", help="the buyer's value distribution F, e.g. uniform")
    p.add_argument("--seller", required=True, metavar="SPEC", help="the seller's cost distribution G, e.g. uniform")
    p.add_argument("--mechanism", required=True, action="append", metavar="SPEC",
                   help="trade mechanism (repeat for several): vcg, agv, agv:absorb=buyer|seller, posted:price=0.5, "
                        "posted:price=best, seller-offer, buyer-offer, second-best, double:k=0.5, ks, nash")
    add_format_args(p)


def register(subparsers) -> None:
    p = subparsers.add_parser("trade", help="bilateral trade: VCG, AGV, posted prices, offers, second best",
                              description="One buyer (value v ~ F) and one seller (private cost c ~ G).")
    trade_subparsers = p.add_subparsers(dest="trade_command", metavar="TRADE_COMMAND", parser_class=type(p))
    a = trade_subparsers.add_parser("analyze", help="exact ex-ante values of trade mechanisms")
    _common(a)
    a.set_defaults(func=run_analyze)
    s = trade_subparsers.add_parser("simulate", help="Monte Carlo estimates with CIs, exact values, min/max")
    _common(s)
    s.add_argument("--samples", default="1000000", metavar="S", help="draws of (v, c) (default 1e6)")
    s.add_argument("--seed", default="0", metavar="K", help="random seed (default 0)")
    s.add_argument("--confidence", default="0.95", metavar="C", help="CI level (default 0.95)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=run_simulate)
    p.set_defaults(func=lambda args: _usage(p))
    try:
        extra = importlib.import_module("simulator.cli.trade_frontier")
    except ModuleNotFoundError as exc:
        if exc.name != "simulator.cli.trade_frontier":
            raise
    else:
        extra.register(trade_subparsers)


def _usage(parser) -> int:
    parser.print_usage(sys.stderr)
    return 2


def load_trade_market(args):
    """``Market.trade(F, G)`` of --buyer and --seller (a bad spec names its flag)."""
    from distributions import Market, parse_spec
    from distributions.errors import InputError

    sides = []
    for flag, text in (("--buyer", args.buyer), ("--seller", args.seller)):
        try:
            sides.append(parse_spec(text, 1))
        except InputError as exc:
            raise (exc.renamed(flag) if exc.argument == "dist" else InputError(flag, str(exc))) from exc
    market = Market.trade(*sides)
    try:
        from mechanisms.trade.outcome import Traders

        Traders.of(market)
    except InputError as exc:
        raise InputError(f"--{exc.argument}" if exc.argument in ("buyer", "seller") else "--buyer",
                         exc.message) from exc
    return market


def _checked(spec: str, fn):
    """``fn()``, with a library InputError shown under --mechanism with the spec (``'second-best': ...``)."""
    from distributions.errors import InputError

    try:
        return fn()
    except InputError as exc:
        raise InputError("--mechanism", f"{spec!r}: {exc}") from exc


def load_trade_mechanisms(specs) -> list:
    from mechanisms.trade.spec import parse_trade_mechanism

    mechs = [_checked(spec, lambda spec=spec: parse_trade_mechanism(spec)) for spec in specs]
    names = [m.name for m in mechs]
    if len(set(names)) != len(names):
        raise input_error("--mechanism", f"each mechanism may be given once, got {', '.join(names)}")
    return mechs


def details(mech, market) -> dict:
    """The extra facts analyze reports for a mechanism (AGV's worst-off types, the second best's a, a price)."""
    from mechanisms.trade.agv import AGV
    from mechanisms.trade.posted import PostedPrice
    from mechanisms.trade.second_best import SecondBest
    from mechanisms.trade.solutions import BargainingSolution

    if isinstance(mech, AGV):
        info = mech.interim(market)
        keys = ("buyer_worst_type", "buyer_worst_utility", "buyer_shortfall", "buyer_ir_from", "seller_worst_type",
                "seller_worst_utility", "seller_shortfall", "seller_ir_to", "vcg_deficit")
        return {k: info[k] for k in keys if info[k] is not None}
    if isinstance(mech, SecondBest):
        a, _, low, nu = mech.mixture(market)
        return {"a": a} if low is None else {"a": a, "a_low": low.a_buyer, "nu_low": nu}
    if isinstance(mech, BargainingSolution):
        sol = mech.solve(market)[0]
        return {"nu_low": sol.nu_low, "lambda_low": sol.low.lam, "lambda_high": sol.high.lam}
    if isinstance(mech, PostedPrice):
        return {"price": mech.price_for(market)}
    return {}


def run_analyze(args) -> int:
    import pandas as pd

    from mechanisms.trade.vcg import VCG

    market = load_trade_market(args)
    mechs = load_trade_mechanisms(args.mechanism)
    check_writable("--out", args.out)
    first_best = VCG().exact(market).gains
    rows, info = [], {}
    for spec, mech in zip(args.mechanism, mechs):
        ex = _checked(spec, lambda mech=mech: mech.exact(market))
        for metric, value in ex.as_dict().items():
            ratio = value / first_best if metric == "gains" and first_best > 0 else math.nan
            rows.append({"mechanism": mech.name, "metric": metric, "analytic": value, "ratio": ratio})
        info[mech.name] = _checked(spec, lambda mech=mech: details(mech, market))
        rows += [{"mechanism": mech.name, "metric": k, "analytic": v, "ratio": math.nan}
                 for k, v in info[mech.name].items()]
    payload = {"buyer": market.dist.spec, "seller": market.seller.spec, "first_best_gains": first_best,
               "results": [r for r in rows], "details": info}
    emit(args, payload, pd.DataFrame(rows, columns=["mechanism", "metric", "analytic", "ratio"]))
    return 0


def _options(args) -> dict:
    what = f"a whole number of draws between 1 and {MAX_AUCTIONS:.0e} (e.g. 1000000 or 1e6)"
    samples = number("--samples", args.samples, what)
    if not math.isfinite(samples) or samples <= 0 or samples != math.floor(samples) or samples > MAX_AUCTIONS:
        raise input_error("--samples", f"expected {what}, got {args.samples!r}")
    try:
        seed = int(args.seed)
    except ValueError:
        seed = -1
    if seed < 0:
        raise input_error("--seed", f"expected an integer >= 0, got {args.seed!r}")
    try:
        confidence = float(args.confidence)
    except ValueError:
        confidence = math.nan
    if not 0.0 < confidence < 1.0:
        raise input_error("--confidence", f"expected a confidence level strictly between 0 and 1, got "
                                          f"{args.confidence!r}")
    return {"samples": int(samples), "seed": seed, "confidence": confidence}


def run_simulate(args) -> int:
    try:
        return _simulate(args)
    except KeyboardInterrupt:  # before the first chunk finished
        sys.stderr.write("auction-sim trade simulate: interrupted\n")
        return 130


def _simulate(args) -> int:
    from ..families.trade import simulate_trade

    market = load_trade_market(args)
    options = _options(args)
    check_writable("--out", args.out)
    mechs = load_trade_mechanisms(args.mechanism)
    for spec, mech in zip(args.mechanism, mechs):  # bad input for this market before any draw
        _checked(spec, lambda mech=mech: mech.exact(market))
    res = simulate_trade(mechs, market, progress=not args.quiet and sys.stderr.isatty(), **options)
    frame = res.frame
    if args.format == "table":
        frame = frame[[c for c in TABLE_COLUMNS if c in frame.columns]]
    payload = dict(res.to_dict(), buyer=market.dist.spec, seller=market.seller.spec)
    head = partial_line(res.samples, res.samples_requested) if res.partial else ""
    emit(args, payload, frame, partial=res.partial, head=head)
    return 130 if res.partial else 0
