"""Dask backend (issue 8): bit-for-bit the numbers of the threads backend with 1, 2 and 4 workers (threads and
processes), by Client and by scheduler address, in both modes and with a precision target; workers load the
kernels from numba's on-disk cache (no compilation per task, nor per worker once this process has compiled);
a worker killed mid-run costs a recomputation, not a different result; the errors (no dask, no scheduler) are
one line. The clusters are LocalClusters, small and closed at the end of the module."""
import concurrent.futures
import json
import os
import signal
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
from distributed import Client, LocalCluster, WorkerPlugin  # noqa: E402

from distributions import Market  # noqa: E402
from mechanisms.rule import MixtureRule, QuantileRule  # noqa: E402
from simulator import cli, simulate
from simulator.backends import dask_backend as backend_dask  # noqa: E402

MECHS = [("spa", QuantileRule(1, 1.0, 0.0)),
         ("lottery", QuantileRule(1, 1.0, 0.0, [0.0], [1.0], [0.0], [np.inf])),
         ("pools", QuantileRule(1, 0.9, 0.1, [0.2], [0.5], [0.5], [0.8])),
         ("mix", MixtureRule([0.3, 0.7], [QuantileRule(1, 1.0, 0.0), QuantileRule(2, 0.5, 0.5)]))]
#: 64 chunks in two batches (ChunkPlan), so tasks hold several chunks and batches follow each other
RUN = dict(market=Market.iid("uniform:low=0,high=1", 7), samples=200_000, seed=9, progress=False)
PRECISION = dict(market=Market.iid("exponential:rate=1", 50), samples=10 ** 8, seed=4, precision=0.003,
                 progress=False)
ORDERSTAT = dict(market=Market.iid("exponential:rate=1", 1e30), samples=30_000, seed=5, mode="orderstat",
                 progress=False)
UNIFORM3 = Market.iid("uniform", 3)
TIMEOUT = 120


def identical(a, b):
    return (a.to_json() == b.to_json() and np.array_equal(a.moments.mean, b.moments.mean)
            and np.array_equal(a.moments.comoment, b.moments.comoment))


@pytest.fixture(scope="module")
def reference():
    backend_dask.warm_up()  # compiles (or loads) the chunk kernels here first: workers then load them from disk
    return {"run": simulate(MECHS, **RUN), "precision": simulate(MECHS[:2], **PRECISION),
            "orderstat": simulate(MECHS, **ORDERSTAT)}


@pytest.fixture(scope="module")
def processes(reference):
    """Two single-threaded worker processes (with nannies, which restart a killed worker)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield cluster, client


def bounded(fn, *args, **kwargs):
    """fn(*args, **kwargs) in a thread, failing the test after TIMEOUT seconds instead of hanging."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result(timeout=TIMEOUT)


@pytest.mark.parametrize("workers", [1, 4])
def test_threaded_workers_match_threads_backend(reference, workers):
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        assert identical(bounded(simulate, MECHS, backend="dask", client=client, **RUN), reference["run"])
        if workers == 4:
            res = bounded(simulate, MECHS[:2], backend="dask", client=client, **PRECISION)
            assert res.samples < PRECISION["samples"]  # stopped early, at the same chunk as the threads
            assert identical(res, reference["precision"])


def test_worker_processes_match_threads_backend_and_use_the_cache(reference, processes):
    cluster, client = processes
    assert identical(bounded(simulate, MECHS, backend="dask", client=client, **RUN), reference["run"])
    res = bounded(simulate, MECHS, backend="dask", scheduler=cluster.scheduler_address, **ORDERSTAT)
    assert res.mode == "orderstat" and identical(res, reference["orderstat"])
    stats = client.run(backend_dask.kernel_stats)
    assert len(stats) == 2 and len({s["pid"] for s in stats.values()}) == 2 and os.getpid() not in \
        {s["pid"] for s in stats.values()}
    for s in stats.values():  # one specialisation per kernel, loaded from disk: nothing compiled on a worker
        for mode in ("profile", "orderstat"):
            assert s[mode]["signatures"] == 1 and s[mode]["cache_misses"] == 0 and s[mode]["cache_hits"] == 1, s


def test_cli_dask_with_scheduler_matches_threads(processes, capsys):
    cluster, _ = processes
    argv = ["simulate", "--dist", "uniform", "--n", "5", "--mechanism", "spa", "--mechanism", "lottery",
            "--samples", "50000", "--seed", "2", "--format", "json", "--quiet"]
    outs = []
    for extra in ([], ["--backend", "dask", "--scheduler", cluster.scheduler_address]):
        assert bounded(cli.main, argv + extra) == 0
        outs.append(json.loads(capsys.readouterr().out))
    for data in outs:
        data.pop("elapsed", None)
    assert outs[0]["results"] == outs[1]["results"] and outs[0]["samples"] == outs[1]["samples"] == 50000


class KillOnce(WorkerPlugin):
    """Kills the first worker process that starts its ``after``-th chunk task (SIGKILL, mid-run: the task in
    flight and the results it holds are lost); a marker file makes it happen once in the whole cluster, the
    restarted worker included."""

    def __init__(self, marker, after):
        self.marker, self.after = marker, after

    def setup(self, worker):
        self.started = 0

    def transition(self, key, start, finish, **kwargs):
        if finish != "executing" or not (isinstance(key, tuple) and str(key[0]).startswith("auction-sim-")):
            return
        self.started += 1
        if self.started < self.after:
            return
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)


def test_killed_worker_is_recomputed_same_result(reference, processes, tmp_path):
    """Runs last on the module's cluster: a worker process dies at its second task."""
    cluster, client = processes
    marker = tmp_path / "killed"
    client.register_plugin(KillOnce(str(marker), after=2), name="kill-once")
    try:
        res = bounded(simulate, MECHS, backend="dask", client=client, **RUN)
    finally:
        client.unregister_worker_plugin("kill-once")
    assert marker.exists(), "no worker was killed"
    victim = int(marker.read_text())
    assert victim not in {s["pid"] for s in client.run(backend_dask.kernel_stats).values()}
    assert identical(res, reference["run"])


# ---------------------------------------------------------------------- errors
def test_dask_not_installed_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ValueError, match="dask is not installed"):
        simulate(MECHS[:1], UNIFORM3, samples=100, backend="dask", scheduler="tcp://127.0.0.1:8786")
    code = cli.main(["simulate", "--dist", "uniform", "--n", "3", "--mechanism", "spa", "--samples", "100",
                     "--backend", "dask"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "--backend: dask is not installed" in err


def test_unreachable_scheduler_and_bad_combinations(monkeypatch, capsys):
    monkeypatch.setattr(backend_dask, "CONNECT_TIMEOUT", 1)
    with pytest.raises(ValueError, match="cannot connect"):
        simulate(MECHS[:1], UNIFORM3, samples=100, backend="dask", scheduler="tcp://127.0.0.1:9")
    with pytest.raises(ValueError, match="scheduler"):
        simulate(MECHS[:1], UNIFORM3, samples=100, scheduler="tcp://127.0.0.1:9")  # threads backend
    with pytest.raises(ValueError, match="not both"):
        simulate(MECHS[:1], UNIFORM3, samples=100, backend="dask", client=object(), scheduler="tcp://x:1")
    base = ["simulate", "--dist", "uniform", "--n", "3", "--mechanism", "spa", "--samples", "100"]
    for extra, flag in ((["--backend", "dask", "--scheduler", "tcp://127.0.0.1:9"], "--scheduler"),
                        (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler"), (["--backend", "gpu"], "--backend")):
        code = cli.main(base + extra)
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and flag in err, err
