"""The command line the paper reproductions in ``scripts/`` share (arguments, output folder, provenance):

    --out DIR      output folder (created), default ./paper-out/<script>
    --quick        reduced sizes (what the tests run)
    --samples S    auctions per simulated market (scripts that simulate)
    --seed K       random seed of the simulations
    --budget V     most buyer values a profile-mode cell may draw (the order-statistic mode has no such limit)

The computations they share with ``auction-sim demo`` live in ``simulator.paper.reproduce``.
"""
from __future__ import annotations

import argparse
import os
import time


def parser(name: str, description: str, samples: int | None = None, quick_samples: int | None = None):
    """The argument parser of ``scripts/<name>.py``; with ``samples`` also --samples, --seed and --budget."""
    p = argparse.ArgumentParser(prog=f"scripts/{name}.py", description=description)
    p.add_argument("--out", default=os.path.join("paper-out", name), metavar="DIR",
                   help=f"output folder (default ./paper-out/{name})")
    p.add_argument("--quick", action="store_true", help="reduced sizes (used by the tests)")
    if samples is not None:
        p.add_argument("--samples", type=_count, default=None, metavar="S",
                       help=f"auctions per simulated market (default {samples}; {quick_samples} with --quick)")
        p.add_argument("--seed", type=_count0, default=0, metavar="K", help="random seed (default 0)")
        p.add_argument("--budget", type=float, default=None, metavar="V",
                       help="most buyer values one profile-mode market may draw (default 2e9; 2e8 with --quick)")
        p.set_defaults(default_samples=samples, quick_samples=quick_samples)
    return p


def _count(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1 (e.g. 1e5), got {text!r}") from None
    if not value >= 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1 (e.g. 1e5), got {text!r}")
    return int(value)


def _count0(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def parse(p, argv=None):
    """Parse, fill the --quick defaults of --samples and --budget, create --out and start the clock."""
    args = p.parse_args(argv)
    if hasattr(args, "default_samples"):
        if args.samples is None:
            args.samples = args.quick_samples if args.quick else args.default_samples
        if args.budget is None:
            args.budget = 2e8 if args.quick else 2e9
    os.makedirs(args.out, exist_ok=True)
    args.t0 = time.perf_counter()
    return args


def out(args, name: str) -> str:
    """The path of output file ``name``."""
    return os.path.join(args.out, name)


def finish(args, script: str, extra: dict | None = None) -> None:
    """Write provenance.json (versions, seed, command line, timestamp, timing) and list the outputs."""
    from .reproduce import provenance, write_json

    elapsed = time.perf_counter() - args.t0
    info = {"script": f"scripts/{script}.py", "quick": bool(args.quick), "elapsed_s": elapsed}
    for key in ("samples", "budget"):
        if hasattr(args, key):
            info[key] = getattr(args, key)
    info.update(extra or {})
    write_json(out(args, "provenance.json"), provenance(getattr(args, "seed", None), info))
    print(f"\nwrote {', '.join(sorted(os.listdir(args.out)))} to {args.out}/ in {elapsed:.1f} s")


def show(frame, **kw) -> str:
    """A frame as text, every row and column, wide."""
    import pandas as pd

    with pd.option_context("display.width", 250, "display.max_columns", None, "display.max_rows", None,
                           "display.max_colwidth", 120):
        return frame.to_string(**kw)
