"""Shared pieces of the subcommands: argument types, the market, output formats (table | json | csv).

Argument types take the flag's text and return a checked value or raise ``InputError`` named by the flag
(``InputError("--n", ...)``); ``main`` prints it as one line, exit status 2 (``docs/architecture.md``,
"Errors"). They are applied inside the command functions, not as argparse ``type=`` (argparse would replace
an InputError's message by its own "invalid value"). Nothing heavy is imported at module level: the library
(distributions, mechanisms: scipy, numba) and pandas are imported inside the functions, so ``auction-sim
--help`` and argparse's own errors answer without loading them.
"""
from __future__ import annotations

import json
import math
import sys


def input_error(flag: str, message: str):
    """``distributions.errors.InputError(flag, message)`` (imported here so that the CLI starts fast)."""
    from distributions.errors import InputError

    return InputError(flag, message)


def number(flag: str, text: str, what: str) -> int | float:
    """The flag's text as an int (``10``) or a float (``1e6``, ``2.5``), else InputError naming the flag."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise input_error(flag, f"expected {what}, got {text!r}") from None


def buyer_count(text: str, flag: str = "--n"):
    """--n: a number of buyers, checked by ``distributions.market.check_count`` (10, 1e30; int when exact)."""
    from distributions.market import check_count

    return check_count(number(flag, text, "a number of buyers >= 1 (e.g. 1000 or 1e30)"), flag)


def whole_number(flag: str, text: str, low: int = 1, what: str = "a whole number") -> int:
    """A whole number >= low, also written 1e6."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < low or value != math.floor(value) or value >= 2 ** 63:
        raise input_error(flag, f"expected {what} >= {low} (e.g. 100 or 1e6), got {text!r}")
    return int(value)


def load_dist(text: str, n):
    """--dist SPEC -> Distribution (``example42`` takes its n from --n). A bad spec is InputError("--dist"):
    the library's error renamed when it names the spec itself, else kept whole after the flag (a parameter)."""
    from distributions import parse_spec
    from distributions.errors import InputError

    try:
        return parse_spec(text, n)
    except InputError as exc:
        raise (exc.renamed("--dist") if exc.argument == "dist" else InputError("--dist", str(exc))) from exc


def load_market(args, m: int = 1):
    """The one ``Market`` of a command: ``Market.iid(--dist, --n, m)``."""
    from distributions import Market

    n = buyer_count(args.n)
    return Market.iid(load_dist(args.dist, n), n, m)


def load_mechanisms(specs, market) -> list:
    """--mechanism SPEC ... -> Mechanism objects, each checked against ``market`` (its units at most n).
    Bad input is InputError("--mechanism", "'SPEC': argument: message"); anything else is a bug and propagates."""
    from distributions.errors import InputError
    from mechanisms import parse_mechanism

    out = []
    for spec in specs:
        try:
            mech = parse_mechanism(spec, market)
            mech.market_for(market)
        except InputError as exc:
            raise InputError("--mechanism", f"{spec!r}: {exc}") from exc
        out.append(mech)
    return out


def add_format_args(p) -> None:
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    p.add_argument("--out", metavar="FILE", help="write the output to FILE instead of standard output")


def render(args, payload: dict, frame) -> str:
    """``payload`` as JSON, or the pandas DataFrame ``frame`` as a table / CSV, per --format."""
    if args.format == "json":
        from ..core.output import json_safe

        return json.dumps(json_safe(payload), indent=2) + "\n"
    if args.format == "csv":
        return frame.to_csv(index=False)
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 160):
        return frame.to_string(index=False) + "\n"


def write_output(args, text: str) -> None:
    """``text`` to --out (a path that cannot be written is InputError("--out")) or to standard output."""
    if not args.out:
        sys.stdout.write(text)
        return
    try:
        with open(args.out, "w") as fh:
            fh.write(text)
    except OSError as exc:
        raise input_error("--out", f"cannot write {args.out!r}: {exc.strerror or exc}") from exc


def emit(args, payload: dict, frame) -> None:
    """Write ``payload`` (json) or ``frame`` (table / csv) to --out or stdout."""
    write_output(args, render(args, payload, frame))
