"""``auction-sim simulate``: Monte Carlo estimates with CIs and exact values (contract in ``docs/architecture.md``).

    auction-sim simulate --dist SPEC --n N --mechanism SPEC [--mechanism SPEC ...] --samples S --seed K
                         [--mode auto|profile|orderstat] [--precision EPS] [--confidence C]
                         [--format table|json|csv] [--out FILE] [--quiet]
                         [--backend threads|dask|cuda] [--scheduler tcp://host:port]

Ctrl-C prints the estimates gathered so far (marked partial) and exits with status 130. Warnings (heavy
tails, interruption, precision not reached) go to stderr unless --quiet, and into the JSON's "warnings".
"""
from __future__ import annotations

import math
import sys

from .common import (MAX_AUCTIONS, add_format_args, bid_format, check_writable, emit, input_error, load_market,
                     load_mechanisms, number, partial_line)


#: --backend values (the engine's "serial" stays an API option)
BACKEND_CHOICES = ("threads", "dask", "cuda")
#: --mode values (``simulator.core.engine.MODES``; listed here so that checking the flags imports no numba)
MODE_CHOICES = ("auto", "profile", "orderstat")


#: the engine's argument names (``InputError.argument``) and the flags that give them
ENGINE_FLAGS = {name: f"--{name}" for name in ("n", "samples", "mode", "precision", "confidence", "seed",
                                               "backend", "scheduler")}


def _count(text: str) -> int:
    """--samples: a whole number > 0 and at most MAX_AUCTIONS (1e12), also written 1e6."""
    what = f"a whole number of auctions between 1 and {MAX_AUCTIONS:.0e} (e.g. 1000000 or 1e6)"
    value = number("--samples", text, what)
    if not math.isfinite(value) or value <= 0 or value != math.floor(value) or value > MAX_AUCTIONS:
        raise input_error("--samples", f"expected {what}, got {text!r}")
    return int(value)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise input_error("--seed", f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise input_error("--seed", f"expected an integer >= 0, got {text!r}")
    return value


def _fraction(flag: str, what: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not 0.0 < value < 1.0:
            raise input_error(flag, f"expected {what} strictly between 0 and 1, got {text!r}")
        return value
    return parse


def register(subparsers) -> None:
    p = subparsers.add_parser("simulate", help="Monte Carlo estimates of revenue, surplus, welfare, units sold",
                              description="Simulate i.i.d. markets and run every mechanism on the same draws.")
    p.add_argument("--dist", metavar="SPEC", help="value distribution, e.g. uniform:low=0,high=1")
    p.add_argument("--n", metavar="N", help="number of buyers")
    p.add_argument("--buyers", action="append", metavar="COUNT*SPEC",
                   help="a buyer class: COUNT buyers with values from SPEC, e.g. 2*uniform:high=1 (repeat for "
                        "several classes; instead of --dist and --n)")
    p.add_argument("--mechanism", required=True, action="append", metavar="SPEC",
                   help="mechanism spec (repeat for several), e.g. spa, spa:reserve=monopoly, myerson, lottery")
    p.add_argument("--samples", default="1000000", metavar="S", help="auctions to simulate (the cap with "
                                                                     "--precision); default 1e6")
    p.add_argument("--seed", default="0", metavar="K", help="random seed (default 0)")
    p.add_argument("--mode", default="auto", metavar="{auto,profile,orderstat}",
                   help="profile: draw all n values per auction (n <= 1e9); orderstat: only the top order "
                        "statistics and pool counts (cost independent of n, e.g. --n 1e30); auto (default): "
                        "orderstat above n = 1000")
    p.add_argument("--precision", metavar="EPS", help="stop once every revenue CI half-width is below EPS times "
                                                      "the estimate (0 < EPS < 1)")
    p.add_argument("--confidence", default="0.95", metavar="C", help="CI level (default 0.95)")
    add_format_args(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar, no warnings on stderr")
    p.add_argument("--backend", default="threads", metavar="{threads,dask,cuda}",
                   help="threads (default), dask (a cluster: --scheduler, else a local one; same numbers as "
                        "threads) or cuda (an NVIDIA GPU; its own random streams)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address, e.g. tcp://host:8786 "
                                                          "(with --backend dask)")
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:  # before or after the simulation loop (which handles its own)
        sys.stderr.write("auction-sim simulate: interrupted\n")
        return 130


def _options(args) -> dict:
    """The checked run options (keyword arguments of ``simulate``), in the order of the flags' checks."""
    samples = _count(args.samples)
    seed = _seed(args.seed)
    precision = None if args.precision is None else _fraction("--precision", "a relative half-width")(args.precision)
    confidence = _fraction("--confidence", "a confidence level")(args.confidence)
    if args.mode not in MODE_CHOICES:
        raise input_error("--mode", f"expected one of {', '.join(MODE_CHOICES)}, got {args.mode!r}")
    if args.backend not in BACKEND_CHOICES:
        raise input_error("--backend", f"expected one of {', '.join(BACKEND_CHOICES)}, got {args.backend!r}")
    if args.scheduler is not None and args.backend != "dask":
        raise input_error("--scheduler", f"only with --backend dask, got --backend {args.backend}")
    return dict(samples=samples, seed=seed, precision=precision, confidence=confidence, mode=args.mode,
                progress=False if args.quiet else None, backend=args.backend, scheduler=args.scheduler)


def _run(args) -> int:
    from distributions.errors import InputError

    market = load_market(args)
    options = _options(args)
    check_writable("--out", args.out)
    formats = [bid_format(spec, market) for spec in args.mechanism]
    if any(formats):
        return _run_bid_format(args, market, options, formats)
    mechanisms = load_mechanisms(args.mechanism, market)
    from ..core.engine import simulate  # numba: only once the flags are known good

    try:
        res = simulate(mechanisms, market, **options)
    except InputError as exc:  # the engine names its arguments (n, samples, ...); here they are flags
        flag = ENGINE_FLAGS.get(exc.argument)
        raise (exc.renamed(flag) if flag else exc) from exc
    if not args.quiet:
        for w in res.warnings:
            sys.stderr.write(f"auction-sim simulate: warning: {w}\n")
    frame = res.frame
    if args.format == "table":
        frame = frame[[c for c in TABLE_COLUMNS if c in frame.columns]]
    head = partial_line(res.samples, res.samples_requested) if res.partial else ""
    emit(args, json_payload(res), frame, partial=res.partial, head=head)
    return 130 if res.partial else 0


def _run_bid_format(args, market, options: dict, formats: list) -> int:
    """Bid formats in their equilibrium, simulated beside second price (each format's reserve) on the same draws
    by the bidding family (``simulator.families.bidding``): values drawn once, transformed to each format's
    bids, each format's rule run on its bids (``auction-sim bidding simulate`` adds the paired revenue
    differences). Several buyer classes: first price alone."""
    from ..families.bidding import simulate_bidding, simulate_classes

    others = [s for s, f in zip(args.mechanism, formats) if f is None and s.strip().lower() != "spa"]
    chosen = [f for f in formats if f is not None]
    if others or (len(market.classes) > 1 and len(chosen) > 1):
        raise input_error("--mechanism", "bid formats (fpa, fpa:reserve=R, allpay, third-price) are simulated "
                                         "among themselves, beside second price on the same draws (with several "
                                         "buyer classes, first price alone): give only formats as --mechanism "
                                         f"(got {', '.join(args.mechanism)})")
    for flag, used in (("--precision", options["precision"] is not None), ("--backend", args.backend != "threads")):
        if used:
            raise input_error(flag, "not available for bid formats (the bidding family runs on the CPU threads "
                                    "for a fixed number of auctions)")
    run = dict(samples=options["samples"], seed=options["seed"], confidence=options["confidence"],
               progress=not args.quiet)
    res = (simulate_classes(market, chosen[0].reserve, **run) if len(market.classes) > 1
           else simulate_bidding(chosen, market, mode=args.mode, **run))
    head = partial_line(res.samples, res.samples_requested) if res.partial else ""
    emit(args, res.to_dict(), res.frame, partial=res.partial, head=head)
    return 130 if res.partial else 0


#: the table's columns (a column the result lacks is left out; the CSV has every column of ``frame``)
TABLE_COLUMNS = ("mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high", "samples", "analytic", "z",
                 "ratio", "ci_valid", "ci_note")
#: columns of ``frame`` that the JSON rows carry besides those of ``to_dict()`` (like the table)
JSON_EXTRA = ("z", "ratio", "ci_valid", "ci_note")


def json_payload(res) -> dict:
    """``res.to_dict()`` with each row's values taken from ``res.frame`` (so that an infinite value stays
    infinite, written "inf", where ``to_dict`` has null) and carrying z, ratio (and ci_valid, ci_note) like
    the table and the CSV; the benchmarks likewise from the result itself."""
    payload = res.to_dict()
    records = res.frame.to_dict("records")
    rows = payload.get("results", [])
    if len(rows) != len(records):  # pragma: no cover - to_dict's rows are the frame's
        raise AssertionError("to_dict() and frame disagree on the rows")
    if not rows:
        return payload
    keys = list(rows[0]) + [k for k in JSON_EXTRA if k not in rows[0] and k in records[0]]
    payload["results"] = [{k: rec.get(k, row.get(k)) for k in keys} for row, rec in zip(rows, records)]
    if "benchmarks" in payload and len(set(res.units)) == 1:
        payload["benchmarks"] = dict(res.benchmarks[res.units[0]])
    return payload
