"""``auction-sim run``: every sweep of an experiment file (TOML; ``simulator.studies.experiment``).

    auction-sim run FILE.toml [--out DIR] [--backend threads|dask] [--scheduler tcp://host:port] [--quiet]

Writes each sweep's NAME.csv, NAME.json, NAME.png and one provenance.json (with the file's path and SHA-256)
into the file's ``out`` folder (or --out). The same file gives the same CSV, JSON and PNG files, bit for bit;
a sweep given as ``auction-sim sweep`` flags with the same keys gives the same files too. Ctrl-C keeps the
finished points of the sweep it interrupts, marked partial, and runs no later sweep (exit status 130).
"""
from __future__ import annotations

import sys

from .cmd_sweep import add_run_args, run_options, write_files


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="run an experiment file (TOML): sweeps, figures, provenance",
                              description="Runs every [[sweep]] of an experiment file and writes its CSV, JSON "
                                          "and PNG files and provenance.json.")
    p.add_argument("experiment", metavar="FILE.toml", help="the experiment file")
    add_run_args(p, "DIR", "output folder (default: the file's out key)")
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:
        sys.stderr.write("auction-sim run: interrupted\n")
        return 130


def _run(args) -> int:
    from simulator.studies.experiment import load_experiment

    backend, scheduler, progress = run_options(args)
    studies, settings = load_experiment(args.experiment)
    args.out = args.out or settings["out"]
    job = {"job": "auction-sim run", "experiment": settings["path"], "experiment_sha256": settings["sha256"]}
    return write_files(args, studies, backend, scheduler, progress, job)
