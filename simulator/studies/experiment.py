"""Experiment files: a study's markets, mechanisms, sweeps, samples, seed and outputs in one TOML file, run by
``auction-sim run FILE.toml`` (Python's ``tomllib``).

    out = "example42-out"          # output folder, relative to the current directory (--out overrides)
    seed = 0                       # any sweep key at the top is the default of every [[sweep]]

    [[sweep]]
    name = "example42_sweep"       # the files NAME.csv, NAME.json, NAME.png
    dist = "example42"
    mechanism = ["ks", "nash", "cross-nash"]
    axis = ["n=10..1e30:log:30"]   # one or two: NAME=SPEC, or {name = "d", values = ["uniform", "lomax:shape=3"]}
    samples = 20000
    tol = 1e-5

The keys of a sweep are those of ``auction-sim sweep``'s flags (``study.FIELDS``); a file without [[sweep]]
tables is one sweep. The same fields give the same ``Study``, hence the same CSV, JSON and PNG files, bit for
bit, whether they come from a file or from the command line; provenance.json records the command line, the
file's path and its SHA-256.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time

from distributions.errors import InputError

from ..core.output import write_atomic

from .study import FIELDS, build_study, check_points

#: top-level keys besides the defaults of the sweeps
TOP_KEYS = ("out", "sweep")


def load_experiment(path: str) -> tuple[list, dict]:
    """(studies, settings) of an experiment file; settings = {"out", "path", "sha256"}. Every point is checked
    (``study.check_points``) before any work; bad input is an InputError naming the file and the key
    (``study.toml: sweep 2: samples``)."""
    import tomllib

    base = os.path.basename(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise InputError(path, f"cannot read the experiment file: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(base, f"not a valid TOML file: {exc}") from None
    unknown = sorted(set(doc) - set(FIELDS) - set(TOP_KEYS))
    if unknown:
        raise InputError(f"{base}: {unknown[0]}", f"unknown key; allowed: {', '.join(TOP_KEYS + FIELDS)}")
    defaults = {k: v for k, v in doc.items() if k in FIELDS}
    sweeps = doc.get("sweep", [{}] if defaults else None)
    if not isinstance(sweeps, list) or not sweeps or not all(isinstance(s, dict) for s in sweeps):
        raise InputError(f"{base}: sweep", "give one or more [[sweep]] tables (or the keys of one sweep at the top)")
    studies = []
    for i, table in enumerate(sweeps, 1):
        where = f"{base}: sweep {i}" if "sweep" in doc else base
        label = (lambda key, w=where: f"{w}: {key}")
        study = build_study({**defaults, **table}, label)
        check_points(study, label)
        studies.append(study)
    names = [s.name for s in studies]
    for name in names:
        if names.count(name) > 1:
            raise InputError(f"{base}: name", f"two sweeps named {name!r} would write the same files")
    out = doc.get("out", "study-out")
    if not isinstance(out, str) or not out:
        raise InputError(f"{base}: out", f"expected a folder name, got {out!r}")
    return studies, {"out": out, "path": os.path.abspath(path), "sha256": hashlib.sha256(raw).hexdigest()}


def execute(studies, folder: str, job: dict, progress: bool = False, backend: str = "serial",
            scheduler: str | None = None, say=None) -> list:
    """Run the studies in order (``runner.run_study``), write each one's files (``files.write_sweep``, and
    its experiment file NAME.toml, ``to_toml``) as it finishes and provenance.json at the end; stop after an interrupted study (its finished points are
    written, marked partial). Returns (the ``SweepResult``s, the names of the files written)."""
    from .files import write_provenance, write_sweep
    from .runner import run_study

    results, records, outputs = [], [], []
    for s in studies:
        t0 = time.perf_counter()
        res = run_study(s, progress=progress, backend=backend, scheduler=scheduler)
        outputs += write_sweep(res, folder)
        write_atomic(os.path.join(folder, f"{s.name}.toml"), to_toml(s))
        outputs.append(f"{s.name}.toml")
        results.append(res)
        records.append({"name": s.name, "points": res.total, "done": res.done, "partial": res.partial,
                        "seconds": time.perf_counter() - t0})
        if say:
            say(f"{s.name}: {res.done} of {res.total} points" + (" (PARTIAL: interrupted)" if res.partial else ""))
        for w in res.warnings if say else ():
            sys.stderr.write(f"auction-sim: warning: {s.name}: {w}\n")
        if res.partial:
            break
    extra = dict(job)
    extra.update(backend=backend, studies=records, partial=any(r.partial for r in results),
                 not_run=[s.name for s in studies[len(results):]], outputs=sorted(outputs) + ["provenance.json"])
    write_provenance(folder, studies[0].seed if len({s.seed for s in studies}) == 1 else None, extra)
    return results, extra["outputs"]


# ---------------------------------------------------------------------- writing a study back as a file
def toml_value(value) -> str:
    """A TOML value: a string (quoted, escaped), a bool, a number (shortest exact form), a list or an inline
    table of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def to_toml(study) -> str:
    """The experiment file of one study (every field; the axes as their values): ``auction-sim run FILE --out
    DIR`` writes the same NAME.csv, NAME.json, NAME.png and NAME.toml (``execute`` writes it beside them)."""
    d = study.as_dict()
    lines = ["# the experiment file of this sweep, written by auction-sim: auction-sim run NAME.toml --out DIR",
             "# writes the same NAME.csv, NAME.json and NAME.png files", "", "[[sweep]]"]
    return "\n".join(lines + [f"{k} = {toml_value(v)}" for k, v in d.items() if v is not None]) + "\n"

