"""Studies: sweeps over one or two axes, experiment files, and their figures (issue 19).

``study`` (the ``Study`` value and its fields), ``axes`` (``NAME=SPEC`` grids and placeholders), ``compute``
(what a point computes: a registry new families plug into), ``runner`` (the points in order or on Dask,
partial on Ctrl-C), ``files`` (CSV, JSON, PNG, provenance), ``experiment`` (TOML files) and ``plots``
(``sweep``, ``frontier``). In a notebook:

    from simulator import studies
    from simulator.studies import plots
    res = studies.sweep(dist="example42", mechanism=["ks", "nash"], axis=["n=10..1e30:log:10"], samples=2000)
    res.frame                      # one row per point x mechanism x metric
    plots.sweep(res.frame)         # a matplotlib Figure

Nothing heavy is imported here.
"""
from __future__ import annotations


def sweep(*, backend: str = "serial", client=None, scheduler: str | None = None, progress: bool = False,
          **fields):
    """Run the study of ``fields`` (the keys of an experiment file's sweep: dist, n, m, mechanism, axis,
    samples, seed, ...) and return its ``runner.SweepResult``; bad input raises ``InputError`` naming the key.
    ``backend="dask"`` runs the points on ``client`` (or ``scheduler``, or a local cluster)."""
    from .runner import run_study
    from .study import build_study, check_points

    study = build_study(fields, lambda key: key)
    check_points(study, lambda key: key)
    return run_study(study, progress=progress, backend=backend, client=client, scheduler=scheduler)
