"""Running a study: every point in order, here or as tasks on a Dask cluster, with a progress bar over the
points; Ctrl-C keeps the points finished so far and marks the result partial.

A point is a pure function of (study, point) (``compute.KINDS``; its seed comes from the study's seed and the
point's market, ``study.point_seed``), so the order, the process and the backend that compute it change no
number: ``backend="dask"`` gives the same rows, bit for bit, as the serial loop.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from distributions.errors import InputError

from .study import Study


#: the columns of a tidy frame that hold numbers (or nothing)
NUMBER_COLUMNS = ("exact", "benchmark", "exact_ratio", "estimate", "stderr", "ci_low", "ci_high", "ratio",
                  "ratio_ci_low", "ratio_ci_high", "z")


@dataclass
class SweepResult:
    """The rows of a study's finished points; ``partial`` when interrupted (``done`` of ``total`` points)."""

    study: Study
    rows: list
    done: int
    total: int
    partial: bool = False
    warnings: list = field(default_factory=list)

    @property
    def frame(self):
        """The rows as a pandas frame. A tidy kind (``metrics``): the columns ``point``, one per axis, then
        ``compute.METRIC_COLUMNS`` and ``partial``; another kind: its rows as they are (plus ``partial`` when
        interrupted), so that a paper table is the same bytes as its script's."""
        import pandas as pd

        from .compute import KINDS, METRIC_COLUMNS

        if KINDS[self.study.compute].tidy:
            axes = [a.name for a in self.study.axes]
            columns = ["point"] + axes + [c for c in METRIC_COLUMNS if c not in axes] + ["partial"]
            frame = pd.DataFrame([dict(r, partial=self.partial) for r in self.rows], columns=columns)
            frame = frame.astype({c: float for c in NUMBER_COLUMNS})  # None -> NaN: empty in CSV, n/a in tables
        else:
            kind = KINDS[self.study.compute]
            frame = kind.frame(self.rows) if kind.frame else pd.DataFrame(self.rows)
            if self.partial:
                frame = frame.assign(partial=True)
        frame.attrs["axes"] = [a.name for a in self.study.axes]
        frame.attrs["log_axes"] = [a.name for a in self.study.axes if a.log or a.name == "n"]
        return frame


def point_rows(study: Study, point) -> tuple[list[dict], str]:
    """(rows, "") of one point, each row led by ``point`` and the axis values (a tidy kind), as a Dask task
    runs it; ([], why) when the library cannot compute the point (an InputError such as an unconverged
    integral, ``QuadratureError``): the sweep goes on and says so in its warnings."""
    from .compute import KINDS

    kind = KINDS[study.compute]
    try:
        rows = kind.rows(study, point)
    except InputError as exc:
        where = ", ".join(f"{k} = {v}" for k, v in point.values.items())
        return [], f"point {point.index} ({where}) not computed: {exc}"
    if kind.tidy:
        rows = [{"point": point.index, **point.values, **r} for r in rows]
    return rows, ""


def run_study(study: Study, progress: bool = False, backend: str = "serial", client=None,
              scheduler: str | None = None) -> SweepResult:
    """Compute every point of ``study`` (``backend`` "serial": here, in order; "dask": as tasks on ``client``
    (a ``distributed.Client``), on the cluster at ``scheduler`` ("tcp://host:port"; its workers must be able to
    import auction-sim), or on a local cluster, ``open_cluster``). ``progress``: a bar over the points on
    stderr."""
    points = study.points()
    if backend == "serial":
        results, partial = _run_here(study, points, progress)
    elif backend == "dask":
        results, partial = _run_dask(study, points, progress, client, scheduler)
    else:
        raise InputError("backend", f"expected serial or dask, got {backend!r}")
    rows = [r for new, _ in results for r in new]
    warnings = [f"interrupted after {len(results)} of {len(points)} points"] if partial else []
    warnings += [why for _, why in results if why] + failures(rows)
    return SweepResult(study, rows, len(results), len(points), partial, warnings)


def failures(rows) -> list[str]:
    """One warning per point and mechanism the library could not compute (``compute.computed_values``)."""
    seen = {}
    for r in rows:
        note = r.get("exact_note") or ""
        if note.startswith("not computed"):
            seen.setdefault(f"point {r.get('point')} ({r.get('distribution')}, n = {r.get('n')}, m = {r.get('m')}), "
                            f"{r.get('mechanism')}: {note}", None)
    return list(seen)


def _bar(total: int, progress: bool, name: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not progress, unit="point", desc=name, file=sys.stderr, leave=False)


def _run_here(study: Study, points, progress: bool):
    """([``point_rows`` of each point done], interrupted) of the points computed in order; a point interrupted
    by Ctrl-C (also inside its simulation: ``reproduce.simulate_rules``) is dropped, and the run stops there."""
    results: list = []
    with _bar(len(points), progress, study.name) as bar:
        try:
            for p in points:
                results.append(point_rows(study, p))
                bar.update()
        except KeyboardInterrupt:
            return results, True
    return results, False


def _run_dask(study: Study, points, progress: bool, client, scheduler):
    """([``point_rows`` of each point done], interrupted): every point a task, gathered in point order; on
    Ctrl-C the unfinished tasks are cancelled and the finished points before the first unfinished one kept."""
    owned = [] if client is not None else open_cluster(scheduler)
    client = client or owned[0]
    futures = client.map(point_rows, [study] * len(points), points, pure=False)
    results: dict = {}
    try:
        from distributed import as_completed

        with _bar(len(points), progress, study.name) as bar:
            for fut in as_completed(futures, loop=client.loop):
                results[futures.index(fut)] = fut.result()
                bar.update()
    except KeyboardInterrupt:
        client.cancel(futures)
    finally:
        for thing in owned:
            thing.close()
    done = 0
    while done in results:
        done += 1
    return [results[i] for i in range(done)], done < len(points)


def open_cluster(scheduler: str | None) -> list:
    """[client, ...what to close]: a client of the scheduler at ``scheduler``, or of a local cluster of one
    single-threaded worker process per core (as ``backends.dask_backend``: each point's simulation uses the
    worker's numba threads, and numba's threading layer need not take calls from several threads at once)."""
    from ..backends.dask_backend import CONNECT_TIMEOUT, require_distributed

    distributed = require_distributed()
    if scheduler:
        try:
            return [distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)]
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError("scheduler", f"cannot connect to {scheduler!r}: {str(exc).splitlines()[0]}") from None
    cluster = distributed.LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    return [distributed.Client(cluster, set_as_default=False), cluster]
