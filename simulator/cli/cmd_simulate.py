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

from .common import add_format_args, emit, input_error, load_market, load_mechanisms, number


#: --backend values (the engine's "serial" stays an API option)
BACKEND_CHOICES = ("threads", "dask", "cuda")
#: --mode values (``simulator.core.engine.MODES``; listed here so that checking the flags imports no numba)
MODE_CHOICES = ("auto", "profile", "orderstat")


#: the engine's argument names (``InputError.argument``) and the flags that give them
ENGINE_FLAGS = {name: f"--{name}" for name in ("n", "samples", "mode", "precision", "confidence", "seed",
                                               "backend", "scheduler")}


def _count(text: str) -> int:
    """--samples: a whole number > 0, also written 1e6."""
    what = "a whole number of auctions > 0 (e.g. 1000000 or 1e6)"
    value = number("--samples", text, what)
    if not math.isfinite(value) or value <= 0 or value != math.floor(value) or value >= 2 ** 63:
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
    p.add_argument("--dist", required=True, metavar="SPEC", help="value distribution, e.g. uniform:low=0,high=1")
    p.add_argument("--n", required=True, metavar="N", help="number of buyers")
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
        frame = frame[["mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high", "samples", "analytic", "z",
                       "ratio"]]
    emit(args, res.to_dict(), frame)
    return 130 if res.partial else 0
