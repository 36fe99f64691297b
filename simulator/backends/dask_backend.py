"""Dask backend: the chunks of a batch become tasks on a dask.distributed cluster (issue 8).

``simulate(..., backend="dask", client=Client(...))`` or ``scheduler="tcp://host:port"`` (neither: a
LocalCluster on this machine, one single-threaded worker process per core, closed at the end of the run).

Why the numbers are those of the threads backend, bit for bit: a chunk is a pure function of its xoshiro
state (``kernels_profile.profile_chunk``, ``kernels_orderstat.orderstat_chunk`` in order-statistic mode; the
state comes from ``SeedSequence(seed, spawn_key=(i,))``), the
engine keeps its batches (so precision stops at the same chunk), and the per-chunk summaries come back in
chunk order to be merged by ``Moments.merged`` exactly as for the threads. A task is a run of consecutive
chunks (about ``TASKS_PER_THREAD`` tasks per worker thread and batch), each computed on its own, so the
grouping changes nothing either.

Worker failure: a task whose worker dies (or whose result is lost with it before the gather) is recomputed by
the scheduler on another worker (dask's ``allowed-failures``, default 3); being a pure function of its inputs,
it returns the same summaries. Transient task errors can be retried too (``retries``).

Numba on the workers: the task body imports the kernel module and looks the kernel up by name
("module:function"), so a worker compiles -- or loads from numba's on-disk cache, ``cache=True`` -- once per
process, never per task (a pickled Dispatcher would be rebuilt from its bytecode in each process, outside the
cache). Inputs are made writeable before the call: numba types a read-only array (as dask may deserialise one)
differently, which would compile a second specialisation. A worker plugin (``KernelWarmup``) loads the
kernels when a worker starts, restarted ones included, so no task pays for it; ``worker_kernel_stats`` reports
each worker's cache hits and misses. Workers must be able to import this package (install auction-sim there).

The same machinery serves any pure per-chunk kernel ``f(state, size, *args) -> (mean (4, K), comoment
(4, K, K))``: ``DaskBackend.map_chunks("package.module:function", states, sizes, *args)``.
"""
from __future__ import annotations

import asyncio
import importlib
import os
import uuid

import numpy as np

from ..kernels import jitcache
from distributions.errors import InputError

try:  # optional dependency: pip install 'auction-sim[distributed]'
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover - exercised by monkeypatching sys.modules in the tests
    WorkerPlugin = object

#: mode -> its pure chunk kernel, as the workers import it
CHUNK_KERNELS = {"profile": "simulator.kernels.profile:profile_chunk",
                 "orderstat": "simulator.kernels.orderstat:orderstat_chunk"}
#: tasks per worker thread in each batch (a few, so that a slow or lost worker delays little)
TASKS_PER_THREAD = 2
#: seconds to wait for a scheduler given by address
CONNECT_TIMEOUT = 10


def require_distributed():
    """The ``distributed`` module, or ValueError naming what to install."""
    try:
        import distributed
    except ImportError:
        raise InputError("backend", "dask is not installed; install it with pip install 'auction-sim[distributed]' "
                         "(dask[distributed])") from None
    return distributed


# ---------------------------------------------------------------------- on the workers
def _kernel(path: str):
    module, _, name = path.partition(":")
    kernel = getattr(importlib.import_module(module), name)
    jitcache.refresh_all()  # this process's first kernel call: stale caches go first
    return kernel


def _owned(x):
    """Numpy arrays as writeable C-contiguous arrays (tuples element-wise, a named tuple such as the kernels'
    ``CompiledRules`` kept of its class); numpy integers as Python ints."""
    if isinstance(x, np.ndarray):
        return x if x.flags.writeable and x.flags.c_contiguous else np.array(x, order="C")
    if isinstance(x, tuple):
        items = [_owned(v) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(x, np.integer):
        return int(x)
    return x


def run_chunks(path: str, states: np.ndarray, sizes: np.ndarray, *args):
    """A task: chunks b = 0..B-1 of a group, each by the pure kernel at ``path`` on (states[b], sizes[b], *args);
    returns their means (B, ...) and co-moments (B, ...) stacked in order."""
    kernel = _kernel(path)
    args = _owned(args)
    states = np.array(states, dtype=np.uint64, order="C")
    pairs = [kernel(states[b], int(sizes[b]), *args) for b in range(len(sizes))]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def warm_up() -> dict:
    """Load (or compile once) the chunk kernels in this process, with the types every task uses (n an int in
    profile mode, a float in order-statistic mode); returns ``kernel_stats()``."""
    from mechanisms.rule import QuantileRule

    from ..kernels.compiled import compile_rules

    rules = compile_rules([QuantileRule(m=1, r=1.0, reserve=0.0)])
    for mode, n in (("profile", 2), ("orderstat", 2.0)):
        _kernel(CHUNK_KERNELS[mode])(np.arange(1, 5, dtype=np.uint64), 1, rules, 0, np.array([0.0, 1.0]), n)
    return kernel_stats()


def kernel_stats() -> dict:
    """This process's chunk kernels (mode -> compiled signatures, on-disk cache hits and misses: a miss is a
    compilation), and its pid."""
    out: dict = {"pid": os.getpid()}
    for mode, path in CHUNK_KERNELS.items():
        kernel = _kernel(path)
        stats = kernel.stats
        out[mode] = {"signatures": len(kernel.signatures), "cache_hits": int(sum(stats.cache_hits.values())),
                     "cache_misses": int(sum(stats.cache_misses.values()))}
    return out


class KernelWarmup(WorkerPlugin):
    """Worker plugin: ``warm_up`` when a worker starts (in a thread: the worker's event loop keeps running)."""

    name = "auction-sim-kernels"
    idempotent = True

    async def setup(self, worker):
        await asyncio.to_thread(warm_up)


# ---------------------------------------------------------------------- on the client
class DaskBackend:
    """A backend for ``simulate``: ``backend(states, sizes, rules, kind, params, n, mode="profile") -> (means,
    comoments)`` runs the chunk kernel of ``mode`` on the cluster; ``close()`` releases what it opened."""

    def __init__(self, client=None, scheduler: str | None = None, retries: int = 0,
                 tasks_per_thread: int = TASKS_PER_THREAD):
        distributed = require_distributed()
        if client is not None and scheduler is not None:
            raise InputError("scheduler", "give either client= or scheduler=, not both")
        self._owned: list = []  # what close() shuts: a client we opened, a local cluster we started
        if client is None and scheduler is not None:
            try:
                client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise InputError("scheduler", f"cannot connect to {scheduler!r}: {_first_line(exc)}") from None
            self._owned.append(client)
        elif client is None:
            cluster = distributed.LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                               dashboard_address=":0")
            client = distributed.Client(cluster, set_as_default=False)
            self._owned += [client, cluster]
        self.client = client
        self.retries = int(retries)
        self.tasks_per_thread = max(1, int(tasks_per_thread))
        self._run = f"auction-sim-{uuid.uuid4().hex[:12]}"
        self._batch = 0
        warm_up()  # here first: workers on this machine then load the kernels from the on-disk cache
        try:
            client.register_plugin(KernelWarmup())
        except (ImportError, OSError, RuntimeError) as exc:  # e.g. the workers cannot import this package
            self.close()
            raise InputError("backend", f"the dask workers cannot load the kernels: {_first_line(exc)}") from None

    def __call__(self, states, sizes, rules, kind, params, n, mode: str = "profile"):
        return self.map_chunks(CHUNK_KERNELS[mode], states, sizes, rules, kind, params, n)

    def map_chunks(self, path: str, states, sizes, *args):
        """Run the pure per-chunk kernel at ``path`` ("module:function") on chunks b = 0..B-1 as tasks of
        consecutive chunks; returns the stacked (means, comoments) in chunk order."""
        threads = sum(self.client.nthreads().values()) or 1
        groups = np.array_split(np.arange(len(sizes)), min(len(sizes), self.tasks_per_thread * threads))
        args = tuple(int(a) if isinstance(a, np.integer) else a for a in args)
        futures = [self.client.submit(run_chunks, path, states[g], sizes[g], *args, key=(self._run, self._batch, i),
                                      retries=self.retries, pure=False) for i, g in enumerate(groups)]
        self._batch += 1
        try:
            parts = self.client.gather(futures)
        except BaseException:  # an error or an interruption: nothing of this batch is left running
            self.client.cancel(futures)
            raise
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def worker_kernel_stats(self) -> dict:
        """worker address -> ``kernel_stats()`` of that worker process."""
        return self.client.run(kernel_stats)

    def close(self) -> None:
        for thing in self._owned:
            thing.close()
        self._owned = []


def open_backend(client=None, scheduler: str | None = None) -> DaskBackend:
    """The engine's entry point (``simulate(backend="dask", client=..., scheduler=...)``)."""
    return DaskBackend(client=client, scheduler=scheduler)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
