"""Shared pieces of the subcommands: argument types, output formats (table | json | csv), errors."""
from __future__ import annotations

import json
import math
import sys

import numpy as np


class CLIError(ValueError):
    """A bad command-line argument: printed as one line, exit status 2."""


def market_size(text: str) -> float:
    """--n: an integer >= 1, also written as 1e30. Returns int when exactly representable, else float."""
    try:
        value = float(text)
    except ValueError:
        raise CLIError(f"--n: expected a number of buyers >= 1 (e.g. 1000 or 1e30), got {text!r}") from None
    if not math.isfinite(value) or value < 1 or value != math.floor(value):
        raise CLIError(f"--n: expected a whole number of buyers >= 1 (e.g. 1000 or 1e30), got {text!r}")
    return int(value) if value < 2 ** 53 else value


def load_dist(text: str, n):
    """--dist SPEC -> Distribution (example42 takes its n from --n)."""
    from distributions import parse_spec

    try:
        return parse_spec(text, n)
    except ValueError as exc:
        raise CLIError(f"--dist: {str(exc).removeprefix('dist: ')}") from None


def load_mechanisms(specs, dist, n) -> list:
    """--mechanism SPEC ... -> Mechanism objects; any failure to build one is bad input (one line, exit 2)."""
    from mechanisms import parse_mechanism

    out = []
    for spec in specs:
        try:
            out.append(parse_mechanism(spec, dist, n))
        except Exception as exc:
            raise CLIError(f"--mechanism {spec!r}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") \
                from None
    return out


def whole_number(flag: str, text: str, low: int = 1, what: str = "a whole number") -> int:
    """A whole number >= low, also written 1e6."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < low or value != math.floor(value) or value >= 2 ** 63:
        raise CLIError(f"{flag}: expected {what} >= {low} (e.g. 100 or 1e6), got {text!r}")
    return int(value)


def add_format_args(p) -> None:
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    p.add_argument("--out", metavar="FILE", help="write the output to FILE instead of standard output")


def _clean(obj):
    """JSON-safe: numpy scalars to Python, NaN/inf to null."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


def emit(args, payload: dict, frame) -> None:
    """Write ``payload`` (json) or the pandas DataFrame ``frame`` (table / csv) to --out or stdout."""
    if args.format == "json":
        text = json.dumps(_clean(payload), indent=2) + "\n"
    elif args.format == "csv":
        text = frame.to_csv(index=False)
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 160):
            text = frame.to_string(index=False) + "\n"
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
