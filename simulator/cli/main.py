"""``auction-sim`` command line (contract in ``docs/architecture.md``).

Each subcommand lives in its own module exposing ``register(subparsers)``; only subcommands that exist are
listed. Bad input is an ``InputError`` (``distributions.errors``): one line ``auction-sim CMD: error: ARG:
MESSAGE`` on stderr, exit status 2, built from the error's ``argument`` and ``message`` (never from its text).
Any other exception is a bug and propagates with its traceback. Building the parser imports no numerical
library (the subcommand modules import them inside their functions), so ``--help`` answers at once.
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand modules, in the order of the command-line contract (docs/architecture.md) (cmd_frontier
#: registers frontier and solve); missing ones are simply not offered
SUBCOMMANDS = ("simulate", "analyze", "frontier", "demo", "trade", "redistribute", "bidding", "sweep", "run")


def package_version() -> str:
    """The installed ``auction-sim`` version (package metadata); from a source checkout that is not installed,
    the ``version`` of its ``pyproject.toml``; else ``unknown``."""
    from importlib import metadata

    try:
        return metadata.version("auction-sim")
    except metadata.PackageNotFoundError:
        pass
    import tomllib
    from pathlib import Path

    try:
        with open(Path(__file__).resolve().parents[2] / "pyproject.toml", "rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, ValueError):
        return "unknown"


class VersionAction(argparse.Action):
    """``--version``: print ``auction-sim X.Y.Z`` and exit 0 (the version is looked up only when asked)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        sys.stdout.write(f"auction-sim {package_version()}\n")
        sys.stdout.flush()
        parser.exit(0)


class OneLineParser(argparse.ArgumentParser):
    """argparse's own errors (unknown flag, bad choice, missing argument) as one line, exit 2 (argparse's
    default prints the usage too)."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="auction-sim",
                           description="Monte Carlo and exact computation for Bayesian auctions (revenue, buyers' "
                                       "surplus, welfare; the Pareto frontier and bargaining solutions).")
    parser.add_argument("--version", action=VersionAction, help="print the version (auction-sim X.Y.Z) and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"simulator.cli.cmd_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"simulator.cli.cmd_{name}":
                continue
            raise
        module.register(sub)
    return parser


#: the flag that carries a library argument (a parameter of a distribution or mechanism spec, or an engine
#: argument), so that every error line names what the user typed; a flag itself is printed as it is
FLAG_OF = {**dict.fromkeys(("dist", "market", "mixture", "q", "shape", "scale", "low", "high", "rate", "mean",
                            "sd", "mu", "sigma", "a", "b", "values", "probs", "loc", "low, high"), "--dist"),
           **dict.fromkeys(("mechanism", "reserve", "reserves", "price", "bids", "mix", "pools", "rule", "nu",
                            "formats"), "--mechanism"),
           "n": "--n", "m": "--m", "samples": "--samples", "seed": "--seed", "mode": "--mode",
           "precision": "--precision", "confidence": "--confidence", "backend": "--backend",
           "scheduler": "--scheduler", "solution": "--solution", "shares": "--shares", "buyers": "--buyers",
           "buyer": "--buyer", "seller": "--seller"}


def error_line(command: str, exc) -> str:
    """The one line of an InputError: ``auction-sim CMD: error: FLAG: [ARG: ]MESSAGE`` (first line of the
    message); a library argument is shown under the flag that carries it (``FLAG_OF``)."""
    message = exc.message.splitlines()[0] if exc.message else type(exc).__name__
    argument = exc.argument
    if not argument.startswith("--"):
        flag = FLAG_OF.get(argument)
        argument = argument if flag is None else (flag if flag == f"--{argument}" else f"{flag}: {argument}")
    return f"auction-sim {command}: error: {argument}: {message}\n"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    from distributions.errors import InputError  # after parsing: --help and argparse errors stay light

    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        sys.stderr.write(error_line(args.command, exc))
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
