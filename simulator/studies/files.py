"""The files of a study, written atomically into one folder (``core.output.write_atomic``): for each sweep
NAME.csv (its frame), NAME.json (the study's fields, the points done, ``partial``, warnings and the rows),
NAME.png (a tidy sweep with metrics to plot: ``plots.sweep``), and one provenance.json for the run (package
versions, seed, command line, timestamp, git commit, timings). Only provenance.json changes from one run of
the same study to the next: the CSV, JSON and PNG files are the same bytes.
"""
from __future__ import annotations

import json
import os

from ..core.output import json_value, write_atomic


def sweep_payload(result) -> dict:
    """The JSON object of one sweep: {"study", "points", "done", "partial", "warnings", "rows"}; an infinite
    value is "inf", a missing one null (``core.output.json_value``)."""
    records = result.frame.to_dict("records")
    return json_value({"study": result.study.as_dict(), "points": result.total, "done": result.done,
                       "partial": result.partial, "warnings": list(result.warnings), "rows": records})


def write_sweep(result, folder: str) -> list[str]:
    """NAME.csv, NAME.json and (a tidy kind with metrics to plot) NAME.png of one sweep in ``folder``; returns
    the names written."""
    from .compute import KINDS

    name = result.study.name
    frame = result.frame
    write_atomic(os.path.join(folder, f"{name}.csv"), frame.to_csv(index=False))
    write_atomic(os.path.join(folder, f"{name}.json"),
                 json.dumps(sweep_payload(result), indent=2, allow_nan=False) + "\n")
    written = [f"{name}.csv", f"{name}.json"]
    if KINDS[result.study.compute].tidy and result.study.plot and len(frame):
        from . import plots

        fig = plots.sweep(frame, metrics=result.study.plot, y=result.study.plot_y,
                          title=figure_title(result))
        plots.save(fig, os.path.join(folder, f"{name}.png"))
        written.append(f"{name}.png")
    return written


def figure_title(result) -> str:
    """The study's title (or its distribution), with the simulation's size and seed, and the partial mark."""
    s = result.study
    title = s.title or f"{s.dist}" + ("" if any(a.name == "n" for a in s.axes) else f", n = {s.n:g}")
    if s.samples:
        title += f"\nsimulated: {s.samples} auctions per point, seed {s.seed}, {int(100 * s.confidence)}% CIs"
    if result.partial:
        title += f"\nPARTIAL: {result.done} of {result.total} points (interrupted)"
    return title


def write_provenance(folder: str, seed, extra: dict) -> None:
    """provenance.json (``reproduce.provenance``: versions, seed, command line, timestamp, git commit) plus
    ``extra``."""
    from ..paper.reproduce import provenance, write_json

    write_json(os.path.join(folder, "provenance.json"), provenance(seed, extra))


def make_folder(path: str, label: str) -> str:
    """Create the output folder; InputError(label) when it cannot be created or written."""
    from distributions.errors import InputError

    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise InputError(label, f"cannot create folder {path!r}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(label, f"cannot write into folder {path!r}: permission denied")
    return path
