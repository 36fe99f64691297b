"""``auction-sim sweep``: one study over one axis or the product of two (``simulator.studies``).

    auction-sim sweep --dist SPEC --axis NAME=SPEC [--axis NAME=SPEC] [--mechanism SPEC ...] [--n N] [--m M]
                      [--exact | --no-exact] [--samples S] [--seed K] [--confidence C] [--tol T] [--budget V]
                      [--compute KIND] [--name NAME] [--title TEXT]
                      [--plot METRIC,...|none] [--plot-y ratio|value] [--out DIR] [--format table|json|csv]
                      [--backend threads|dask] [--scheduler tcp://host:port] [--quiet]

An axis is n=10..1e30:log:30, shape=2..6:lin:5 or r=0,0.5,1; n and m set the market, any other name is a
{NAME} placeholder of --dist or --mechanism (--dist "lomax:shape={shape}", --mechanism "spa:reserve={r}").
With --out DIR: NAME.csv (one row per point x mechanism x metric), NAME.json, NAME.png, NAME.toml (the
experiment file that reproduces them) and provenance.json, written atomically; otherwise the table on
standard output. --compute (``simulator.studies.compute.KINDS``): metrics (default), frontier,
bargaining-cells, table1-cells, example42-curve, and the paper scripts' own (theorem-e1, theorem-e1-curves,
theorem-e1-scan, theorem-e1-simulation, gallery, gallery-frontier, theorem42, demo-cells: their --dist names an
instance, ``simulator.studies.paper_kinds``). Ctrl-C keeps the finished points, marked partial
(exit status 130). An experiment file with the same keys (``auction-sim run``) writes the same files.
"""
from __future__ import annotations

import argparse
import sys

from .common import input_error, render, write_output

#: the columns of the printed table of a tidy sweep (the CSV has them all)
TABLE_COLUMNS = ("mechanism", "metric", "exact", "estimate", "ci_low", "ci_high", "exact_ratio", "ratio", "z",
                 "ci_note")
#: flags whose value is a list in the study's fields
LIST_FLAGS = ("mechanism", "axis")


def flag_of(key: str) -> str:
    """The flag that carries a study field: ``plot_y`` -> ``--plot-y``."""
    return "--" + key.replace("_", "-")


def register(subparsers) -> None:
    p = subparsers.add_parser("sweep", help="a study over one or two axes: tidy CSV/JSON, figure, provenance",
                              description="Exact values and simulations over a grid of markets or mechanism "
                                          "parameters (an axis over n, m, or a {NAME} placeholder of --dist or "
                                          "--mechanism), one row per point, mechanism and metric.")
    p.add_argument("--dist", metavar="SPEC", help="value distribution; may hold {NAME} placeholders")
    p.add_argument("--axis", action="append", metavar="NAME=SPEC",
                   help="n=10..1e30:log:30, shape=2..6:lin:5 or r=0,0.5,1 (once or twice: the product)")
    p.add_argument("--mechanism", action="append", metavar="SPEC",
                   help="mechanism spec (repeat); spa, myerson, ks, nash, cross-nash, spa:reserve={r}, ...")
    p.add_argument("--n", metavar="N", help="number of buyers (unless an axis is n)")
    p.add_argument("--m", metavar="M", help="number of units (default 1)")
    p.add_argument("--exact", action=argparse.BooleanOptionalAction, default=None,
                   help="exact values (default) or not")
    for flag, metavar, text in (("--samples", "S", "auctions per point (default 0: exact only)"),
                                ("--seed", "K", "random seed (default 0)"),
                                ("--confidence", "C", "CI level (default 0.95)"),
                                ("--tol", "T", "frontier tolerance of the bargaining solutions (default 1e-6)"),
                                ("--budget", "V", "most buyer values a profile-mode point may draw (default 2e9)"),
                                ("--compute", "KIND", "what a point computes: metrics (default: a row per point, "
                                                      "mechanism and metric), frontier, bargaining-cells, "
                                                      "table1-cells, example42-curve, or a paper script's "
                                                      "(theorem-e1, gallery, theorem42, demo-cells, ...)"),
                                ("--name", "NAME", "stem of the output files (default sweep)"),
                                ("--title", "TEXT", "title of the figure"),
                                ("--plot", "METRICS", "metrics of the figure, e.g. welfare,revenue (default "
                                                      "welfare), or none"),
                                ("--plot-y", "Y", "ratio (to Π*, U*, OPT; default) or value")):
        p.add_argument(flag, metavar=metavar, help=text)
    add_run_args(p, "DIR", "write NAME.csv, NAME.json, NAME.png, NAME.toml (the experiment file) and "
                           "provenance.json into DIR")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table",
                   help="standard output's format without --out")
    p.set_defaults(func=run)


def add_run_args(p, metavar: str, out_help: str) -> None:
    """--out, --backend, --scheduler, --quiet (shared with ``auction-sim run``)."""
    p.add_argument("--out", metavar=metavar, help=out_help)
    p.add_argument("--backend", default="threads", metavar="{threads,dask}",
                   help="threads (default: the points in turn) or dask (the points as tasks on --scheduler, "
                        "else on a local cluster; the same numbers)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address (with --backend dask)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run_options(args) -> tuple[str, str | None, bool]:
    """(runner backend, scheduler, progress) from --backend, --scheduler, --quiet."""
    if args.backend not in ("threads", "dask"):
        raise input_error("--backend", f"expected threads or dask, got {args.backend!r}")
    if args.scheduler is not None and args.backend != "dask":
        raise input_error("--scheduler", f"only with --backend dask, got --backend {args.backend}")
    return ("serial" if args.backend == "threads" else "dask"), args.scheduler, \
        (not args.quiet and sys.stderr.isatty())


def study_fields(args) -> dict:
    """The study's fields from the flags given (a flag left out takes the study's default)."""
    from simulator.studies.study import FIELDS

    fields = {}
    for key in FIELDS:
        value = getattr(args, key, None)
        if value is None:
            continue
        if key == "plot":
            value = [v.strip() for v in value.split(",")]
        fields[key] = value
    return fields


def run(args) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:  # outside the points (which keep what is finished)
        sys.stderr.write("auction-sim sweep: interrupted\n")
        return 130


def _run(args) -> int:
    from simulator.studies.study import build_study, check_points

    if args.dist is None:
        raise input_error("--dist", "give a distribution spec, e.g. --dist example42 or --dist 'lomax:shape={a}'")
    if not args.axis:
        raise input_error("--axis", "give an axis, e.g. --axis n=10..1e30:log:30")
    backend, scheduler, progress = run_options(args)
    study = build_study(study_fields(args), flag_of)
    check_points(study, flag_of)
    if args.out:
        return write_files(args, [study], backend, scheduler, progress, {"job": "auction-sim sweep"})
    from simulator.studies.runner import run_study

    res = run_study(study, progress=progress, backend=backend, scheduler=scheduler)
    frame = res.frame
    if args.format == "table":
        from simulator.studies.compute import KINDS

        if KINDS[study.compute].tidy:
            frame = frame[["point"] + [a.name for a in study.axes if a.name not in TABLE_COLUMNS]
                          + list(TABLE_COLUMNS)]
    from simulator.studies.files import sweep_payload

    head = f"PARTIAL: interrupted after {res.done} of {res.total} points" if res.partial else ""
    write_output(args, render(args, sweep_payload(res), frame, head=head))
    return 130 if res.partial else 0


def write_files(args, studies, backend, scheduler, progress, job: dict) -> int:
    """Run ``studies`` and write their files into --out (``studies.experiment.execute``); 130 when
    interrupted."""
    from simulator.studies.experiment import execute
    from simulator.studies.files import make_folder

    folder = make_folder(args.out, "--out")
    results, outputs = execute(studies, folder, job, progress=progress, backend=backend, scheduler=scheduler,
                               say=None if args.quiet else _say)
    if not args.quiet:
        _say(f"wrote {', '.join(outputs)} to {folder}/")
    return 130 if any(r.partial for r in results) else 0


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
