"""The ``auction-sim`` command line: ``main`` dispatches to one module per subcommand (``cmd_*``); ``common``
holds the argument types and output formats. Uses the core and the paper layer; nothing imports it."""
from .main import build_parser, main

__all__ = ["main", "build_parser"]
