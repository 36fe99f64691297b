"""``auction-sim`` command line (contract in ``shared/DESIGN.md``).

Each subcommand lives in its own module exposing ``register(subparsers)``; only subcommands that exist are
listed. Bad input: one line on stderr naming the argument and what is allowed, exit status 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .cli_common import CLIError

#: subcommand modules, in the order of the DESIGN contract (cmd_frontier registers frontier and solve);
#: missing ones are simply not offered
SUBCOMMANDS = ("simulate", "analyze", "frontier", "demo")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse's default prints the usage too)
        sys.stderr.write(f"auction-sim: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="auction-sim",
                     description="Monte Carlo and exact computation for Bayesian auctions (revenue, buyers' "
                                 "surplus, welfare; the Pareto frontier and bargaining solutions).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"simulator.cmd_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"simulator.cmd_{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (CLIError, ValueError) as exc:
        sys.stderr.write(f"auction-sim {args.command}: error: {str(exc).splitlines()[0]}\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
