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

from ..core.output import json_value


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
    """The one ``Market`` of a command: ``Market.iid(--dist, --n, m)``, or with ``--buyers COUNT*SPEC`` (repeated,
    one per class) a market of several buyer classes (``load_classes``). --buyers excludes --dist and --n."""
    from distributions import Market

    buyers = getattr(args, "buyers", None)
    if buyers:
        if args.dist is not None or args.n is not None:
            raise input_error("--buyers", "give either --buyers COUNT*SPEC (one per buyer class) or --dist SPEC "
                                          "--n N (one class), not both")
        return load_classes(buyers, m)
    if args.dist is None or args.n is None:
        raise input_error("--dist" if args.dist is None else "--n",
                          "required (one class: --dist SPEC --n N; several classes: --buyers COUNT*SPEC, repeated)")
    n = buyer_count(args.n)
    return Market.iid(load_dist(args.dist, n), n, m)


def load_classes(specs, m: int = 1):
    """--buyers COUNT*SPEC ... -> ``Market.from_specs`` (e.g. ``2*uniform:high=1``, ``1e6*exponential``; a bare
    SPEC is one buyer). A bad class is InputError("--buyers", "'TEXT': argument: message")."""
    from distributions import Market
    from distributions.errors import InputError

    for text in specs:
        try:
            Market.from_specs([text])
        except InputError as exc:
            raise InputError("--buyers", f"{text!r}: {exc}") from exc
    return Market.from_specs(list(specs), m=m)


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


#: the largest number of auctions a flag accepts (--samples, --simulate): 1e12 auctions take hours on a GPU
MAX_AUCTIONS = 10 ** 12


def bid_format(spec: str, market):
    """fpa, fpa:reserve=R, allpay, third-price: a bid format in its equilibrium (``mechanisms.bidding.spec``), or
    None for another spec; bad input names the spec under --mechanism (``analyze`` and ``simulate``)."""
    from distributions.errors import InputError
    from mechanisms.bidding.spec import parse_bid_format

    try:
        return parse_bid_format(spec, market)
    except InputError as exc:
        raise InputError("--mechanism", f"{spec!r}: {exc}") from exc


def add_format_args(p) -> None:
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    p.add_argument("--out", metavar="FILE", help="write the output to FILE instead of standard output")


def partial_line(done: int, requested: int) -> str:
    """The mark of an interrupted run, first line of the table: ``PARTIAL: interrupted after K of S auctions``."""
    return f"PARTIAL: interrupted after {done} of {requested} auctions"


def table_text(frame) -> str:
    """A frame as a plain-text table: every column, every row, notes in full, NaN (no value) as ``n/a`` and an
    infinite value as ``inf``."""
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 160,
                           "display.max_colwidth", None):
        return frame.to_string(index=False, na_rep="n/a") + "\n"


def render(args, payload: dict, frame, partial: bool | None = None, head: str = "") -> str:
    """``payload`` as JSON, or the pandas DataFrame ``frame`` as a table / CSV, per --format. ``partial``
    (a run that can be interrupted): the CSV gets a ``partial`` column and JSON a ``"partial"`` key; ``head``
    (e.g. the ``PARTIAL`` line) opens the table."""
    if args.format == "json":
        if partial is not None:
            payload = dict(payload, partial=bool(partial))
        return json.dumps(json_value(payload), indent=2, allow_nan=False) + "\n"
    if args.format == "csv":
        if partial is not None:
            frame = frame.assign(partial=bool(partial))
        return frame.to_csv(index=False)
    return (head + "\n" if head else "") + table_text(frame)


def check_writable(flag: str, path: str | None) -> None:
    """InputError(flag) unless ``path`` can be written: its folder exists and is writable, and the path is not
    a folder nor a file without write permission. Checked before the work, so that no run is wasted."""
    import os

    if not path:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise input_error(flag, f"cannot write {path!r}: it is a folder")
    if not os.path.isdir(folder):
        raise input_error(flag, f"cannot write {path!r}: no folder {folder!r}")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise input_error(flag, f"cannot write {path!r}: permission denied")
    if not os.access(folder, os.W_OK | os.X_OK) and not _is_stream(path):
        raise input_error(flag, f"cannot write {path!r}: folder {folder!r} is not writable")


def _is_stream(path: str) -> bool:
    """An existing path that is not a regular file (``/dev/stdout``, a pipe): written in place, not renamed."""
    import os
    import stat

    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def write_file(flag: str, path: str, text: str) -> None:
    """``text`` to ``path`` atomically (``core.output.write_atomic``: a temporary file in the same folder, then
    a rename), through a symbolic link to its target; a device or pipe (``/dev/stdout``) is written in place.
    A path that cannot be written is InputError(flag), and no file is left behind."""
    import os

    from ..core.output import write_atomic

    try:
        if _is_stream(path):
            with open(path, "w") as fh:
                fh.write(text)
        else:
            write_atomic(os.path.realpath(path), text)
    except OSError as exc:
        raise input_error(flag, f"cannot write {path!r}: {exc.strerror or exc}") from exc


def write_output(args, text: str) -> None:
    """``text`` to --out (atomically; a path that cannot be written is InputError("--out")) or to stdout."""
    if not args.out:
        sys.stdout.write(text)
        return
    write_file("--out", args.out, text)


def emit(args, payload: dict, frame, partial: bool | None = None, head: str = "") -> None:
    """Write ``payload`` (json) or ``frame`` (table / csv) to --out or stdout."""
    write_output(args, render(args, payload, frame, partial, head))
