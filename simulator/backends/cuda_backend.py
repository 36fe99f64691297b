"""CUDA backend: profile and order-statistic modes on an NVIDIA GPU with numba.cuda (issue 8; ``cuda_kernels``).

``simulate(..., backend="cuda")``, any ``mode``. The same mechanisms (the ``compiled.py`` arrays of every
``QuantileRule``), the same payment rule, metrics and order-statistic sampling as the CPU kernels; the random
streams are the GPU's own (Philox4x32-10, keyed by the chunks' SeedSequence states), so the estimates agree
with the CPU ones statistically, not bit for bit. Same seed => same numbers on any run of this backend.
In order-statistic mode the engine's plan counts an auction as ``engine.ORDERSTAT_COST`` values.

Chunks: a GPU wants large launches, and the engine's Python work per chunk (seeding, merging) would bound it
far below its speed with the CPU's 1 Mi-value chunks, so this backend brings its own ``ChunkPlan``: chunks of
about CHUNK_VALUES buyer values, batches (one launch each, precision checked between them) of 1 chunk
at first, doubling to BATCH_CHUNKS_MAX. Launch: ``threads_per_block`` threads per block (128,
fewer when many mechanisms fill the shared-memory tile), ``blocks_per_chunk`` blocks per chunk (enough to
fill a GPU, at most what the partial-summary budget allows); both depend only on the batch.

Availability: numba.cuda must import (numba-cuda with numpy >= 2.5 needs ``np.row_stack``, restored before
the import) and see a GPU, or run numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``: slow, for tests, and
then small launches). Otherwise ``open_backend`` raises ValueError with the reason (the CLI: one line, exit 2).
"""
from __future__ import annotations

import numpy as np

from ..core.engine import ChunkPlan
from distributions.errors import InputError

#: buyer values per chunk; chunks per batch: 1 at first, doubling up to BATCH_CHUNKS_MAX (2^36 values)
CHUNK_VALUES = 1 << 30
BATCH_CHUNKS_MAX = 64
#: partial summaries (doubles) a launch may use: caps blocks per chunk (with BLOCKS_PER_CHUNK_MAX)
PARTIAL_DOUBLES = 1 << 24
BLOCKS_PER_CHUNK_MAX = 2048
#: shared memory for a block's tile of metrics and its means (bytes)
TILE_BYTES = 40_000
#: pool cells x units kept per thread in local memory, at most
LOCAL_MEMBERS_MAX = 4096
#: under the CUDA simulator (threads are Python threads): small blocks, few of them
SIM_THREADS_PER_BLOCK = 32
SIM_BLOCKS_PER_CHUNK = 4


class CudaChunkPlan(ChunkPlan):
    """``ChunkPlan`` with GPU-sized chunks and batches (see module doc); a function of (samples, n) only."""

    @property
    def per_chunk(self) -> int:
        return max(1, -(-CHUNK_VALUES // self.n))

    def batches(self):
        first, count = 0, 1
        while first < self.n_chunks:
            yield first, min(count, self.n_chunks - first)
            first += count
            count = min(2 * count, BATCH_CHUNKS_MAX)


def rules_key(rules, params, mode: str) -> bytes:
    """A digest of the rules' and the distribution's values and the mode: the device copies are reused while
    it stays the same (a cache keyed by value, not by object identity)."""
    import hashlib

    digest = hashlib.sha256(mode.encode())
    for value in (*rules, params):
        array = np.ascontiguousarray(value)
        digest.update(str((array.dtype, array.shape)).encode())
        digest.update(array.tobytes())
    return digest.digest()


def cuda_module():
    """numba.cuda, usable (a GPU, or the simulator), else ValueError saying why."""
    if not hasattr(np, "row_stack"):  # numba-cuda 0.30 with numpy >= 2.5 (see cuda_kernels)
        np.row_stack = np.vstack
    try:
        from numba import cuda
    except (ImportError, OSError, RuntimeError, AttributeError) as exc:  # not installed, or numba-cuda failing
        # inside its import (a missing CUDA library, an incompatible numpy)
        raise InputError("backend", f"cuda is unavailable: numba.cuda does not import ({_first_line(exc)})") from None
    if simulator_active():
        return cuda
    try:
        available = cuda.is_available()
    except (ImportError, OSError, RuntimeError):  # a broken driver install
        available = False
    if not available:
        raise InputError("backend", "cuda needs an NVIDIA GPU with its driver, and numba.cuda finds none; use "
                         "backend threads or dask (NUMBA_ENABLE_CUDASIM=1 runs numba's slow CUDA simulator)")
    return cuda


def simulator_active() -> bool:
    """Whether numba.cuda is numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1)."""
    from numba import config

    return bool(getattr(config, "ENABLE_CUDASIM", False))


def threads_per_block(n_mech: int) -> int:
    """The largest of 128, 64, 32 whose tile (4K x (threads + 1) doubles) and means (4K) fit TILE_BYTES."""
    for tpb in (128, 64, 32):
        if 8 * 4 * n_mech * (tpb + 2) <= TILE_BYTES:
            return tpb
    raise InputError("backend", f"cuda runs at most {TILE_BYTES // (8 * 4 * 34)} mechanisms at once, got {n_mech}; "
                     "split the run or use backend threads")


class CudaBackend:
    """``backend(states, sizes, rules, kind, params, n, mode="profile") -> (means (B, 4, K), comoments
    (B, 4, K, K))``: chunk b of ``sizes[b]`` auctions keyed by ``states[b]``, on the GPU; mode "profile" or
    "orderstat" (then n is a float of any size)."""

    plan = CudaChunkPlan

    def __init__(self, threads: int | None = None, blocks_per_chunk: int | None = None):
        self.cuda = cuda_module()
        from . import cuda_kernels

        self.kernels = cuda_kernels
        self.sim = simulator_active()
        self.threads = threads or (SIM_THREADS_PER_BLOCK if self.sim else None)
        self.blocks_per_chunk = blocks_per_chunk or (SIM_BLOCKS_PER_CHUNK if self.sim else None)
        self._rules = None  # (key, device arrays, params, extras, the host objects kept alive)
        self._buffers: dict = {}

    def _device_rules(self, rules, params, mode):
        """The kernel's rules (``CompiledRules`` with its arrays on the device), params, and (cell_hi, reach,
        member_keys): in order-statistic mode the cells' upper edges and reach with the member-keys flag
        (``kernels_orderstat.cell_layout``), placeholders in profile mode. Made once per run: the engine passes
        the same values (``rules_key``). Under the simulator the rules stay on the host: a kernel's tuple
        argument reaches it as it is, and the CPU-compiled helpers it calls take numpy arrays only."""
        key = rules_key(rules, params, mode)
        if self._rules is None or self._rules[0] != key:
            dev = _with_arrays(rules, (lambda a: a) if self.sim else self.cuda.to_device)
            if mode == "orderstat":
                from ..kernels.orderstat import cell_layout  # the cells' edges and reach, as the CPU kernel has them

                cell_hi, reach, member_keys = cell_layout(rules)
                extra = (self.cuda.to_device(cell_hi), self.cuda.to_device(reach), bool(member_keys))
            else:  # profile mode reads none of them
                extra = (dev.cell_bounds, self.cuda.to_device(np.zeros(1, dtype=np.int64)), False)
            self._rules = (key, dev, self.cuda.to_device(_nonempty(params)), extra, (rules, params))
        return self._rules[1], self._rules[2], self._rules[3]

    def _buffer(self, name, shape, dtype=np.float64):
        key = (name, shape)
        if key not in self._buffers:
            self._buffers[key] = self.cuda.device_array(shape, dtype=dtype)
        return self._buffers[key]

    def __call__(self, states, sizes, rules, kind, params, n, mode: str = "profile"):
        if mode not in ("profile", "orderstat"):
            raise InputError("mode", f"the cuda backend runs profile and orderstat, got {mode!r}")
        n_mech = int(rules.n_mechanisms)
        units = int(rules.max_units)
        has_pools = bool(rules.has_pools)
        n_bounds = int(len(rules.cell_bounds))
        if mode == "profile":
            n = int(n)
            n_cells = n_bounds + 1 if has_pools else 1
            cap = min(units + 1, n)
        else:
            n = float(n)
            n_cells = n_bounds + 1
            cap = int(min(units + 1.0, n))
        if n_cells * units > LOCAL_MEMBERS_MAX:
            raise InputError("backend", f"cuda keeps at most {LOCAL_MEMBERS_MAX} pool members per auction "
                             f"({n_cells} cells x {units} units here); use backend threads")
        tpb = self.threads or threads_per_block(n_mech)
        auctions, merge = self.kernels.auction_kernels(mode, n_mech, units, cap, n_cells, tpb)
        n_chunks = len(sizes)
        nm = 4 * n_mech
        per_block = nm + nm * n_mech + 1
        blocks = self.blocks_per_chunk or min(BLOCKS_PER_CHUNK_MAX, max(1, PARTIAL_DOUBLES // (n_chunks * per_block)))
        blocks = max(1, min(blocks, -(-int(np.max(sizes)) // tpb)))
        dev_rules, dev_params, extra = self._device_rules(rules, params, mode)
        part_count = self._buffer("count", (n_chunks, blocks))
        part_mean = self._buffer("mean", (n_chunks, blocks, nm))
        part_com = self._buffer("com", (n_chunks, blocks, nm * n_mech))
        out_mean = self._buffer("out_mean", (n_chunks, 4, n_mech))
        out_com = self._buffer("out_com", (n_chunks, 4, n_mech, n_mech))
        auctions[(blocks, n_chunks), tpb](self.cuda.to_device(chunk_keys(states)),
                                          self.cuda.to_device(np.asarray(sizes, dtype=np.int64)), dev_rules,
                                          n_bounds, *extra, int(kind), dev_params, n, part_count, part_mean,
                                          part_com)
        merge[n_chunks, min(tpb, 128)](part_count, part_mean, part_com, out_mean, out_com)
        return out_mean.copy_to_host(), out_com.copy_to_host()

    def close(self) -> None:
        self._buffers.clear()
        self._rules = None


def chunk_keys(states: np.ndarray) -> np.ndarray:
    """Philox key and counter words of each chunk: the 32-bit halves of state words 0 and 1, (B, 4) uint32."""
    s = np.asarray(states, dtype=np.uint64)
    mask = np.uint64(0xFFFFFFFF)
    return np.ascontiguousarray(np.stack([s[:, 0] & mask, s[:, 0] >> np.uint64(32), s[:, 1] & mask,
                                          s[:, 1] >> np.uint64(32)], axis=1).astype(np.uint32))


def open_backend(client=None, scheduler=None) -> CudaBackend:
    """The engine's entry point (``simulate(backend="cuda")``)."""
    if client is not None or scheduler is not None:
        raise InputError("scheduler", "client= and scheduler= are for backend='dask'")
    return CudaBackend()


def _with_arrays(rules, to_device):
    """``rules`` (a ``CompiledRules``) with every array field replaced by ``to_device`` of it, padded to one
    element when empty; the sizes (ints, bool, float) stay as they are."""
    return rules._replace(**{name: to_device(_nonempty(value)) for name, value in rules._asdict().items()
                             if isinstance(value, np.ndarray)})


def _nonempty(a: np.ndarray) -> np.ndarray:
    """A device copy of an empty array is padded to one element (sizes travel separately)."""
    a = np.ascontiguousarray(a)
    return a if a.size else np.zeros(1, dtype=a.dtype)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def describe() -> str:
    """One line on the GPU numba.cuda sees (or the simulator)."""
    cuda = cuda_module()
    if simulator_active():
        return "numba CUDA simulator"
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    major, minor = dev.compute_capability
    return f"{name} (compute capability {major}.{minor}, {dev.MULTIPROCESSOR_COUNT} SMs)"
