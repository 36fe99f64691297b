"""``auction-sim bidding``: bid formats with their symmetric equilibrium bids (``mechanisms.bidding``).

    auction-sim bidding analyze  --dist SPEC --n N --format-name NAME [--format-name NAME ...] [--reserve R]
    auction-sim bidding simulate --dist SPEC --n N --format-name NAME [--format-name NAME ...] [--reserve R]
                                 [--samples S] [--seed K]
                                 [--mode auto|profile|orderstat] [--confidence C] [--quiet]
    auction-sim bidding check    --dist SPEC --n N --format-name NAME [--reserve R] [--bid equilibrium|truthful|
                                 linear:k=K] [--values K] [--rivals S] [--seed K] [--mode M] [--confidence C]

NAME: first-price, all-pay, third-price (n >= 3); ``--reserve`` is first price's. ``--buyers COUNT*SPEC``
(repeated, instead of --dist/--n) gives several buyer classes: first price only, in the asymmetric equilibrium
(``mechanisms.bidding.asymmetric``), with per class win[k] and surplus[k] rows and the check per class. Every subcommand takes
``--format table|json|csv`` and ``--out FILE``.

* analyze: exact revenue, surplus, welfare and sale probability of each format (revenue from its bid function)
  and of second price with the same reserve; JSON adds "equivalence" (format revenue minus second price's)
  and "bids" (b(v) at a few quantiles).
* simulate: the formats (one or several, all on the same draws) beside second price with the same reserve;
  rows as ``simulate`` plus each format's paired revenue difference (``FORMAT - spa``); JSON adds
  "format_names" and "revenue_sd" (the spread that revenue equivalence leaves free).
  Ctrl-C prints the estimates so far, marked partial, exit status 130.
* check: the epsilon-BNE check: per sampled value the best deviation found and its gain (paired, independent
  sample) with its CI; JSON adds "largest" and "significant" (Bonferroni over the values).
"""
from __future__ import annotations

import math

from .common import (MAX_AUCTIONS, add_format_args, check_writable, emit, input_error, load_market, number,
                     partial_line, whole_number)

#: library argument -> the flag that carries it in this command
FLAGS = {"format": "--format-name", "formats": "--format-name", "reserve": "--reserve", "mode": "--mode", "n": "--n",
         "market": "--dist", "m": "--n", "samples": "--samples", "seed": "--seed", "confidence": "--confidence", "bid": "--bid",
         "buyers": "--buyers"}
NAMES = ("first-price", "all-pay", "third-price")
BID_QUANTILES = (0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)


def _common(p, many: bool = False) -> None:
    p.add_argument("--dist", default=None, metavar="SPEC", help="value distribution, e.g. uniform:low=0,high=1")
    p.add_argument("--n", default=None, metavar="N", help="number of buyers (e.g. 5 or 1e30)")
    p.add_argument("--buyers", action="append", default=None, metavar="COUNT*SPEC",
                   help="a buyer class (repeat for several; instead of --dist/--n): first price in the asymmetric "
                        "equilibrium, e.g. --buyers 1*uniform:high=1 --buyers 1*uniform:high=2")
    p.add_argument("--format-name", required=True, action="append" if many else "store", choices=NAMES,
                   help="bid format" + (" (repeat for several)" if many else ""))
    p.add_argument("--reserve", default=None, metavar="R", help="first price's reserve (default 0)")
    add_format_args(p)


def _sampling(p, samples: str) -> None:
    p.add_argument("--seed", default="0", metavar="K", help="random seed (default 0)")
    p.add_argument("--mode", default="auto", choices=("auto", "profile", "orderstat"),
                   help="draw every buyer (profile, n <= 1000) or the top order statistics (orderstat)")
    p.add_argument("--confidence", default="0.95", metavar="C", help="CI level (default 0.95)")
    p.add_argument("--samples" if samples else "--rivals", default=samples or "20000", metavar="S",
                   help="auctions to simulate" if samples else "rival draws per sample (search and evaluation)")


def register(subparsers) -> None:
    p = subparsers.add_parser("bidding", help="first-price, all-pay, third-price: equilibrium bids, revenue "
                                              "equivalence, epsilon-BNE check",
                              description="Bid formats with their symmetric Bayes-Nash equilibrium bids.")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    a = sub.add_parser("analyze", help="exact values from the bid functions, beside second price")
    _common(a, many=True)
    a.set_defaults(func=run_analyze)
    s = sub.add_parser("simulate", help="Monte Carlo on bids, beside second price on the same draws")
    _common(s, many=True)
    _sampling(s, "1000000")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=run_simulate)
    c = sub.add_parser("check", help="epsilon-BNE check of a bid function")
    _common(c)
    _sampling(c, "")
    c.add_argument("--bid", default="equilibrium", metavar="B",
                   help="the bid function every buyer uses: equilibrium, truthful, or linear:k=K (b = K v)")
    c.add_argument("--values", default="32", metavar="K", help="sampled values of a buyer (default 32)")
    c.set_defaults(func=run_check)


def _renamed(func):
    """Run ``func(args)``, showing a library argument under this command's flag (``FLAGS``)."""
    def run(args) -> int:
        from distributions.errors import InputError

        try:
            return func(args)
        except InputError as exc:
            flag = FLAGS.get(exc.argument)
            if flag is None or exc.argument.startswith("--"):
                raise
            raise exc.renamed(flag) from exc
    return run


def _market(args):
    return load_market(args)


def _reserve(args) -> float | None:
    return None if args.reserve is None else float(number("--reserve", args.reserve, "a reserve price >= 0"))


def _fraction(flag: str, text: str) -> float:
    value = float(number(flag, text, "a level strictly between 0 and 1"))
    if not 0.0 < value < 1.0:
        raise input_error(flag, f"expected a level strictly between 0 and 1, got {text!r}")
    return value


def _several(args, market) -> bool:
    """Whether ``market`` has several buyer classes; then only first price (asymmetric equilibrium) is known and
    values are drawn per class as top order statistics (no profile mode)."""
    if len(market.classes) < 2:
        return False
    names = args.format_name if isinstance(args.format_name, list) else [args.format_name]
    other = [name for name in names if name != "first-price"]
    if other:
        raise input_error("--format-name", f"with several buyer classes only first-price has an equilibrium here "
                                           f"(the asymmetric one), got {', '.join(other)}")
    if getattr(args, "mode", "auto") == "profile":
        raise input_error("--mode", "several buyer classes are drawn as each class's top values (orderstat); "
                                    "profile is for one class")
    return True


def _formats(names, reserve):
    from mechanisms.bidding import make_format

    return [make_format(name, reserve) for name in names]


@_renamed
def run_analyze(args) -> int:
    import pandas as pd

    from mechanisms.auctions import SecondPrice

    market = _market(args)
    if _several(args, market):
        return _analyze_classes(args, market)
    fmts = _formats(args.format_name, _reserve(args))
    check_writable("--out", args.out)
    rows, equiv, bids = [], {}, {}
    refs = {}
    for fmt in fmts:
        ex = fmt.exact(market)
        ref = refs.setdefault(fmt.reserve, SecondPrice(fmt.reserve))
        spa = ref.exact(market)
        equiv[fmt.name] = {"versus": ref.name, "revenue_difference": ex.revenue - spa.revenue,
                           "relative": (ex.revenue - spa.revenue) / spa.revenue if spa.revenue else 0.0}
        q = [x for x in BID_QUANTILES]
        v = market.dist.v(q)
        bids[fmt.name] = [{"quantile": a, "value": float(b), "bid": float(c)}
                          for a, b, c in zip(q, v, fmt.bid_q(market, q))]
        rows += [{"mechanism": fmt.name, "metric": k, "analytic": float(getattr(ex, k))} for k in _METRICS]
    for ref in refs.values():
        ex = ref.exact(market)
        rows += [{"mechanism": ref.name, "metric": k, "analytic": float(getattr(ex, k))} for k in _METRICS]
    payload = {"distribution": market.label, "n": market.n, "results": rows, "equivalence": equiv, "bids": bids}
    emit(args, payload, pd.DataFrame(rows, columns=["mechanism", "metric", "analytic"]))
    return 0


_METRICS = ("revenue", "surplus", "welfare", "sold")


def _analyze_classes(args, market) -> int:
    """analyze with several classes: first price in the asymmetric equilibrium and second price, exact revenue,
    welfare, surplus, sale and per class win[k], surplus[k]; JSON adds "equivalence" and per class "bids"."""
    import pandas as pd

    from mechanisms.auctions import SecondPrice
    from mechanisms.bidding.asymmetric import AsymmetricFirstPrice
    from simulator.families.bidding import classes_exact

    fpa = AsymmetricFirstPrice(_reserve(args))
    spa = SecondPrice(fpa.reserve or 0.0)
    check_writable("--out", args.out)
    exact = classes_exact(fpa, spa, market)
    rows = [{"mechanism": name, "metric": k, "analytic": float(x)} for name, d in exact.items() for k, x in d.items()]
    eq = fpa.solve(market)
    bids = {}
    for k, c in enumerate(market.classes):
        v = c.dist.v(list(BID_QUANTILES))
        bids[f"class {k + 1}: {c.count:g}*{c.dist.spec}"] = [
            {"quantile": a, "value": float(b), "bid": float(x)} for a, b, x in zip(BID_QUANTILES, v, eq.bid(k, v))]
    diff = exact[fpa.name]["revenue"] - exact[spa.name]["revenue"]
    equiv = {fpa.name: {"versus": spa.name, "revenue_difference": diff,
                        "relative": diff / exact[spa.name]["revenue"] if exact[spa.name]["revenue"] else 0.0,
                        "welfare_loss": exact[spa.name]["welfare"] - exact[fpa.name]["welfare"]}}
    payload = {"buyers": market.label, "n": market.n, "results": rows, "equivalence": equiv, "bids": bids,
               "top_bid": float(eq.top_bid), "error_bound": float(eq.error_bound)}
    emit(args, payload, pd.DataFrame(rows, columns=["mechanism", "metric", "analytic"]))
    return 0


@_renamed
def run_simulate(args) -> int:
    import pandas as pd

    from mechanisms.auctions import SecondPrice
    from simulator.families.bidding import simulate_bidding, simulate_classes

    market = _market(args)
    several = _several(args, market)
    formats = None if several else _formats(args.format_name, _reserve(args))
    samples = whole_number("--samples", args.samples, 1, "a number of auctions")
    if samples > MAX_AUCTIONS:
        raise input_error("--samples", f"expected at most {MAX_AUCTIONS:.0e} auctions, got {args.samples!r}")
    seed = whole_number("--seed", args.seed, 0, "an integer seed")
    confidence = _fraction("--confidence", args.confidence)
    check_writable("--out", args.out)
    if several:
        res = simulate_classes(market, _reserve(args), samples=samples, seed=seed, confidence=confidence,
                               progress=not args.quiet)
        pairs = [(res.mechanisms[0], res.mechanisms[1])]
    else:  # every format on the same draws (one draw serves them all)
        res = simulate_bidding(formats, market, samples=samples, seed=seed, mode=args.mode, confidence=confidence,
                               progress=not args.quiet)
        pairs = [(f.name, SecondPrice(f.reserve).name) for f in formats]
    frame = pd.concat([res.frame, pd.DataFrame([_difference(res, a, b) for a, b in pairs])], ignore_index=True)
    sd = {name: res.estimate(name, "revenue")[1] * math.sqrt(res.samples) for name in res.mechanisms}
    payload = {"distribution": market.label, "n": market.n, "format_name": pairs[0][0],
               "format_names": [a for a, _ in pairs], "samples": res.samples, "samples_requested": samples,
               "seed": seed, "confidence": confidence, "mode": args.mode,
               "results": frame.astype(object).where(frame.notna(), None).to_dict("records"), "revenue_sd": sd,
               "warnings": (["interrupted: partial estimates"] if res.partial else [])}
    head = partial_line(res.samples, samples) if res.partial else ""
    emit(args, payload, frame, partial=res.partial, head=head)
    return 130 if res.partial else 0


def _difference(res, name: str, spa: str) -> dict:
    """The row of the paired revenue difference name - spa on the same draws, against its exact value."""
    from simulator.core.result import z_score

    pair = res.paired(name, spa, "revenue")
    exact_diff = (res.exact(name, "revenue") or 0.0) - (res.exact(spa, "revenue") or 0.0)
    z = z_score(pair["estimate"], pair["stderr"], exact_diff, res.samples) if pair["ci_valid"] else None
    return {"mechanism": f"{name} - {spa}", "metric": "revenue", "estimate": pair["estimate"],
            "stderr": pair["stderr"], "ci_low": pair["ci_low"], "ci_high": pair["ci_high"], "samples": res.samples,
            "analytic": exact_diff, "ci_valid": pair["ci_valid"], "ci_note": pair["ci_note"],
            "z": math.nan if z is None else z}


def _bid_function(text: str):
    """--bid: None (the equilibrium), truthful (b = v) or linear:k=K (b = K v, K > 0)."""
    if text == "equilibrium":
        return None
    if text == "truthful":
        return lambda v: v
    if text.startswith("linear:k="):
        k = float(number("--bid", text[len("linear:k="):], "linear:k=K with K > 0"))
        if k > 0 and math.isfinite(k):
            return lambda v: k * v
    raise input_error("--bid", f"expected equilibrium, truthful or linear:k=K (K > 0), got {text!r}")


@_renamed
def run_check(args) -> int:
    import pandas as pd

    from simulator.families.bidding import bne_check

    from simulator.families.bidding import classes_bne_check

    market = _market(args)
    several = _several(args, market)
    fmt = None if several else _formats([args.format_name], _reserve(args))[0]
    bid = _bid_function(args.bid)
    values = whole_number("--values", args.values, 1, "a number of sampled values")
    rivals = whole_number("--rivals", args.rivals, 2, "a number of rival draws")
    seed = whole_number("--seed", args.seed, 0, "an integer seed")
    confidence = _fraction("--confidence", args.confidence)
    check_writable("--out", args.out)
    if several:
        out = classes_bne_check(market, _reserve(args), bid=bid, values=values, rivals=rivals, seed=seed,
                                confidence=confidence)
    else:
        out = bne_check(fmt, market, bid=bid, values=values, rivals=rivals, seed=seed, mode=args.mode,
                        confidence=confidence)
    out = dict(out, distribution=market.label, bid_function=args.bid)
    cols = (["class"] if several else []) + ["value", "bid", "deviation", "gain", "stderr", "z"]
    emit(args, out, pd.DataFrame(out["rows"], columns=cols))
    return 0
