"""numba.cuda kernels of profile and order-statistic modes (issue 8): the ``compiled.py`` rule arrays on a GPU.

One GPU thread runs one auction at a time, with the algorithm of the CPU kernels and, for everything past the
draw of the buyers, their code: the level walk and payment rule (``kernels_profile.record_auction``), the
market draw of order-statistic mode (``kernels_orderstat.draw_market`` with the ``samplers``), v(q)
(``distributions.kernels.v_of_q``) are ``numba.njit`` functions, which numba's CUDA target compiles for the GPU
when a kernel calls them (checked for numba-cuda 0.30 by ``scripts/cuda_ptx_check.py``).
This module holds what is the GPU's own: the profile scan over Philox counters, the launch shapes, and the
reductions.

Random numbers: counter-based Philox4x32-10 (``rng.philox4x32_10``; checked against Random123's known-answer
vectors in the tests). Chunk b of a batch has a key (k0, k1) and two counter words (c2, c3), the four 32-bit
halves of words 0 and 1 of the chunk's SeedSequence state (``rng.chunk_state``). Profile mode: buyer i of
auction a of the chunk reads half i % 2 of the Philox block at counter (i // 2, a, c2, c3). Order-statistic
mode: auction a draws its variates from its own stream (``rng.philox_uniform``: block (d // 2, a, c2, c3) for
its d-th and (d+1)-th draws; d counts the auction's draws, any number of them, so rejection loops need no bound).
Every draw is a pure function of (seed, chunk, auction, draw): no generator state in memory, no set-up kernel,
no dependence on the launch configuration. Uniforms are float64 in the open interval (0, 1) by construction
(``rng.open_uniform``); float32 uniforms (e.g. numba's xoroshiro ``uniform_float32``) round up to exactly 1.0.

Reductions on the device: the threads of a block write their auction's metrics (revenue, surplus, welfare,
sold for each of the K mechanisms) into a shared-memory tile laid out as the CPU kernels' block buffer,
tile[metric, mechanism, thread] (``record_auction`` writes it); the block folds each tile into its running mean
and co-moments (two passes over the tile, then Chan et al.; lower triangle), kept in global memory; a second
kernel merges each chunk's block summaries in block order. Only the per-chunk summaries, (B, 4, K) means and
(B, 4, K, K) co-moments, are copied back; ``accumulate.Moments`` merges them in chunk order as for every
backend. The launch shape depends only on the batch (``backend_cuda``), so a run gives the same numbers on any
GPU (up to the device math library).

Kernels are specialised (closure constants: local and shared array sizes) on (mode, K, M, cap, cells, threads
per block) and built once per process (``auction_kernels``). Import this module after
``cuda_backend.cuda_module()``, which brings numba-cuda's numpy shim (``np.row_stack``) with it.
"""
from __future__ import annotations

import functools

import numpy as np

from numba import config, cuda, float64, int64, uint32, uint64  # noqa: E402

from distributions.kernels import v_of_q  # noqa: E402

from ..kernels.orderstat import draw_market  # noqa: E402
from ..kernels.profile import insert_top, join_cell, record_auction  # noqa: E402
from ..kernels.rng import (AUCTION, C2, C3, DRAWS, K0, K1, KEYS, PHILOX_STREAM, key_uniform, keys_at_most,  # noqa: E402
                  open_uniform, philox4x32_10, words_key)
from distributions.errors import InputError


if getattr(config, "ENABLE_CUDASIM", False):
    def host(a):
        """Under numba's CUDA simulator (kernels run as Python) a kernel's array argument is a wrapper that the
        CPU-compiled helpers cannot take: its numpy array."""
        inner = getattr(a, "_item", None)
        return inner._ary if inner is not None else a
else:
    @cuda.jit(device=True, inline=True)
    def host(a):
        """A kernel's array argument, as it is (see the simulator's version above)."""
        return a


@cuda.jit(device=True)
def _chunk_stream(st, keys, b):
    """Set the Philox stream ``st`` to chunk b's key and counter words (``backend_cuda.chunk_keys``: keys[b]);
    the auction and the draws so far are set per auction."""
    st[K0] = keys[b, 0]
    st[K1] = keys[b, 1]
    st[C2] = keys[b, 2]
    st[C3] = keys[b, 3]


# ---------------------------------------------------------------------- profile mode: the scan
@cuda.jit(device=True)
def _take(key, i, k1, k2, worst, c0, ktop, cap, pooled, one_cell, bounds, n_bounds, cnt, mem_u, mem_i, units):
    """Buyer i with uniform key ``key``: into the cap smallest keys (k1 <= k2 in registers when cap == 2, else
    the sorted ``ktop``; ``worst`` is the largest kept), and, if her uniform is in a pool (key < ``pooled``),
    into her cell (the single cell's count c0 in a register when ``one_cell``). The uniform itself is formed
    only for a buyer kept as a member."""
    if key < worst:  # rare once the list is full
        if cap == 2:
            if key < k1:
                k2 = k1
                k1 = key
            else:
                k2 = key
            worst = k2
        else:
            worst = insert_top(ktop, cap, key)
    if key < pooled:
        if one_cell:
            if c0 < units:
                mem_u[0, c0] = key_uniform(key)
                mem_i[0, c0] = i
            c0 += 1
        else:
            join_cell(key_uniform(key), i, bounds, n_bounds, cnt, mem_u, mem_i, units)
    return k1, k2, worst, c0


@cuda.jit(device=True)
def _scan(n, st, top, ktop, cap, bounds, n_bounds, cnt, mem_u, mem_i, units, pooled_top, has_pools):
    """Draw the n quantiles of auction a = st[AUCTION] of the chunk keyed by st (Philox counters (j, a, c2, c3),
    two buyers per block): the market ``kernels_profile._scan`` leaves (top list, cell counts, first members in
    buyer order).

    Buyers are ranked by their 52-bit uniform keys (``rng.words_key``: the uniform is increasing in the key),
    whose top 32 bits are the block's first word of the pair. A block whose two buyers can matter neither to
    the top list (first words above the largest kept key's) nor to a pool (both first words above the pooled
    keys', or, with the single cell of a lottery-like pool, both surely inside it once its first members are
    kept: a count of 2) costs its Philox rounds and a few 32-bit comparisons; the others go through ``_take``.
    Uniforms are formed for the top list and the members kept only."""
    k0 = st[K0]
    k1w = st[K1]
    c2 = st[C2]
    c3 = st[C3]
    a32 = st[AUCTION]
    for t in range(cap):
        ktop[t] = KEYS
    for c in range(cnt.shape[0]):
        cnt[c] = 0
    pooled = keys_at_most(pooled_top) if has_pools else np.uint64(0)
    one_cell = n_bounds == 0
    # first words: above ``outside`` a buyer is in no pool; below ``inside`` surely in the pool
    outside = np.uint64((pooled - np.uint64(1)) >> np.uint64(20)) if pooled > 0 else np.uint64(0)
    inside = pooled >> np.uint64(20)
    k1 = KEYS
    k2 = KEYS
    worst = KEYS
    worst_hi = np.uint64(worst >> np.uint64(20))
    c0 = 0
    for j in range((n + 1) // 2):
        w0, w1, w2, w3 = philox4x32_10(np.uint32(j), a32, c2, c3, k0, k1w)
        i = 2 * j
        lo_hi = np.uint64(min(w0, w2))
        plain = lo_hi > worst_hi and i + 1 < n
        if plain and has_pools:
            if lo_hi > outside:
                pass
            elif one_cell and c0 >= units and np.uint64(max(w0, w2)) < inside:
                c0 += 2
                continue
            else:
                plain = False
        if plain:
            continue
        k1, k2, worst, c0 = _take(words_key(w0, w1), i, k1, k2, worst, c0, ktop, cap, pooled, one_cell, bounds,
                                  n_bounds, cnt, mem_u, mem_i, units)
        if i + 1 < n:
            k1, k2, worst, c0 = _take(words_key(w2, w3), i + 1, k1, k2, worst, c0, ktop, cap, pooled, one_cell,
                                      bounds, n_bounds, cnt, mem_u, mem_i, units)
        worst_hi = np.uint64(worst >> np.uint64(20))
    if one_cell:
        cnt[0] = c0
    if cap == 2:
        ktop[0] = k1
        ktop[1] = k2
    for t in range(cap):
        top[t] = key_uniform(ktop[t])


# ---------------------------------------------------------------------- reductions
@cuda.jit(device=True)
def _comoment_entry(e, n_mech):
    """Entry e of the flattened co-moments (4, K, K): metric g, mechanisms a1 and a2, and their indices
    g K + a1, g K + a2 among the 4K means (the reductions keep the lower triangle a2 <= a1)."""
    kk = n_mech * n_mech
    g = e // kk
    rest = e - g * kk
    a1 = rest // n_mech
    a2 = rest - a1 * n_mech
    return g, a1, a2, g * n_mech + a1, g * n_mech + a2


@cuda.jit(device=True)
def _fold_tile(tile, tmu, nv, count, t, tpb, n_mech, b, x, part_mean, part_com):
    """Fold the nv auctions of the tile (tile[metric, mechanism, auction]) into the block's running summary
    part_*[b, x] (two passes over the tile, then Chan et al.; lower triangles); returns the new count. Every
    thread of the block calls it."""
    nm = 4 * n_mech
    for e in range(t, nm, tpb):
        g = e // n_mech
        k = e - g * n_mech
        acc = 0.0
        for row in range(nv):
            acc += tile[g, k, row]
        tmu[e] = acc / nv
    cuda.syncthreads()
    total = count + nv
    w = count * nv / total
    for e in range(t, nm * n_mech, tpb):
        g, a1, a2, i1, i2 = _comoment_entry(e, n_mech)
        if a2 <= a1:
            acc = 0.0
            for row in range(nv):
                acc += (tile[g, a1, row] - tmu[i1]) * (tile[g, a2, row] - tmu[i2])
            part_com[b, x, e] += acc + (tmu[i1] - part_mean[b, x, i1]) * (tmu[i2] - part_mean[b, x, i2]) * w
    cuda.syncthreads()
    for e in range(t, nm, tpb):
        part_mean[b, x, e] += (tmu[e] - part_mean[b, x, e]) * (nv / total)
    cuda.syncthreads()
    return total


@cuda.jit(device=True)
def _clear_block(t, tpb, n_mech, b, x, part_mean, part_com):
    for e in range(t, 4 * n_mech, tpb):
        part_mean[b, x, e] = 0.0
    for e in range(t, 4 * n_mech * n_mech, tpb):
        part_com[b, x, e] = 0.0
    cuda.syncthreads()


# ---------------------------------------------------------------------- kernels
@functools.lru_cache(maxsize=None)
def auction_kernels(mode: str, n_mech: int, units: int, cap: int, n_cells: int, tpb: int):
    """(auctions, merge) kernels of ``mode`` ("profile" or "orderstat") for K = n_mech mechanisms, M = units,
    cap = min(M + 1, n), ``n_cells`` cells of the pool partition (1 without pools in profile mode) and ``tpb``
    threads per block.

    ``auctions[(X, B), tpb](keys, sizes, rules, n_bounds, cell_hi, reach, member_keys, kind, params, n,
    part_count, part_mean, part_com)``: ``rules`` is the run's ``compiled.CompiledRules``, a named tuple (its
    arrays on the device, each padded to one element when empty: the number of cell bounds is ``n_bounds``),
    read by field in the kernel and by the shared ``record_auction``; block (x, b) runs auctions x*tpb + t,
    (x + X)*tpb + t, ... of chunk b and leaves its count, means (4K) and co-moments (4K * K, lower triangles) in
    part_*[b, x]. Profile mode scans n (an int) buyers per auction (``_scan``); order-statistic mode draws the
    market of n (a float) buyers with ``kernels_orderstat.draw_market``, which reads the cells' upper edges
    ``cell_hi``, their ``reach`` and ``member_keys`` (whether a pool spans several cells;
    ``kernels_orderstat.cell_layout``; profile mode ignores these three).
    ``merge[B, threads](part_count, part_mean, part_com, out_mean, out_com)``: chunk b's summary, its blocks
    merged in order, into out_mean[b] (4, K) and out_com[b] (4, K, K)."""
    if mode not in ("profile", "orderstat"):
        raise InputError("mode", f"the cuda backend runs profile and orderstat, got {mode!r}")
    ORDERSTAT = mode == "orderstat"
    COUNT = float64 if ORDERSTAT else int64  # cell counts: floats up to n = 1e30 in order-statistic mode
    MEMBER = float64 if ORDERSTAT else int64  # members met first: by random key, or by buyer index
    TPB = tpb
    TILE = (4, n_mech, tpb + 1)  # one padding column: the fold's reads of a row hit distinct banks
    NM = 4 * n_mech
    CAP = cap
    CELLS = n_cells
    UNITS = units

    @cuda.jit
    def auctions(keys, sizes, rules, n_bounds, cell_hi, reach, member_keys, kind, params, n, part_count, part_mean,
                 part_com):
        params = host(params)
        bounds = rules.cell_bounds
        tile = cuda.shared.array(TILE, float64)
        tmu = cuda.shared.array(NM, float64)
        top = cuda.local.array(CAP, float64)
        vtop = cuda.local.array(CAP + 1, float64)  # the top list's values and cell 0's first member's
        ktop = cuda.local.array(CAP, uint64)
        perm = cuda.local.array(CAP, int64)
        cnt = cuda.local.array(CELLS, COUNT)
        ptr = cuda.local.array(CELLS, int64)
        mem_u = cuda.local.array((CELLS, UNITS), float64)
        mem_i = cuda.local.array((CELLS, UNITS), MEMBER)
        st = cuda.local.array(PHILOX_STREAM, uint32)
        has_pools = rules.has_pools
        pooled_top = rules.pooled_top
        t = cuda.threadIdx.x
        x = cuda.blockIdx.x
        b = cuda.blockIdx.y
        size = sizes[b]
        _chunk_stream(st, keys, b)
        _clear_block(t, TPB, n_mech, b, x, part_mean, part_com)
        count = 0.0
        start = x * TPB
        while start < size:  # the same trip count for every thread of the block: syncthreads is safe
            nv = min(TPB, size - start)
            if t < nv:
                st[AUCTION] = np.uint32(start + t)
                st[DRAWS] = np.uint32(0)
                if ORDERSTAT:
                    draw_market(st, n, top, CAP, cnt, mem_u, mem_i, bounds, n_bounds, host(cell_hi), host(reach),
                                perm, UNITS, pooled_top, member_keys)
                else:
                    _scan(n, st, top, ktop, CAP, bounds, n_bounds, cnt, mem_u, mem_i, UNITS, pooled_top, has_pools)
                record_auction(rules, top, CAP, vtop, cnt, mem_u, mem_i, ptr, kind, params, tile, t)
            cuda.syncthreads()
            count = _fold_tile(tile, tmu, nv, count, t, TPB, n_mech, b, x, part_mean, part_com)
            start += cuda.gridDim.x * TPB
        if t == 0:
            part_count[b, x] = count

    return auctions, _merge_kernel(n_mech)


@functools.lru_cache(maxsize=None)
def _merge_kernel(n_mech: int):
    NE = 4 * n_mech * n_mech

    @cuda.jit
    def merge(part_count, part_mean, part_com, out_mean, out_com):
        b = cuda.blockIdx.x
        n_blocks = part_count.shape[1]
        for e in range(cuda.threadIdx.x, NE, cuda.blockDim.x):
            g, a1, a2, i1, i2 = _comoment_entry(e, n_mech)
            if a2 <= a1:
                na = 0.0
                m1 = 0.0
                m2 = 0.0
                com = 0.0
                for x in range(n_blocks):
                    nb = part_count[b, x]
                    if nb > 0.0:
                        tot = na + nb
                        d1 = part_mean[b, x, i1] - m1
                        d2 = part_mean[b, x, i2] - m2
                        com += part_com[b, x, e] + d1 * d2 * (na * nb / tot)
                        m1 += d1 * (nb / tot)
                        m2 += d2 * (nb / tot)
                        na = tot
                out_com[b, g, a1, a2] = com
                out_com[b, g, a2, a1] = com
                if a1 == a2:
                    out_mean[b, g, a1] = m1

    return merge


@cuda.jit
def philox_kernel(counters, keys, out):
    """Test kernel: out[i] = Philox4x32-10(counters[i], keys[i])."""
    i = cuda.grid(1)
    if i < out.shape[0]:
        w0, w1, w2, w3 = philox4x32_10(counters[i, 0], counters[i, 1], counters[i, 2], counters[i, 3], keys[i, 0],
                                       keys[i, 1])
        out[i, 0] = w0
        out[i, 1] = w1
        out[i, 2] = w2
        out[i, 3] = w3


@cuda.jit
def uniform_kernel(words, out):
    """Test kernel: out[i] = open_uniform(words[i, 0], words[i, 1])."""
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = open_uniform(words[i, 0], words[i, 1])


@cuda.jit
def v_of_q_kernel(kind, params, q, out):
    """Test kernel: out[i] = v_of_q(kind, params, q[i])."""
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = v_of_q(kind, host(params), q[i])


#: sizes of the test kernel ``scan_kernel``'s local arrays: cap, cells and units at most
SCAN_TEST_CAP, SCAN_TEST_CELLS, SCAN_TEST_UNITS = 4, 4, 3


@cuda.jit
def scan_kernel(keys, n, bounds, n_bounds, pooled_top, has_pools, cap, units, top_out, cnt_out, mem_u_out, mem_i_out):
    """Test kernel: the market ``_scan`` draws for auction a (a thread each) of the chunk keyed by ``keys[0]``: the
    cap smallest uniforms, the n_bounds + 1 cell counts, each cell's first ``units`` members (uniform, index)."""
    a = cuda.grid(1)
    if a < top_out.shape[0]:
        st = cuda.local.array(PHILOX_STREAM, uint32)
        top = cuda.local.array(SCAN_TEST_CAP, float64)
        ktop = cuda.local.array(SCAN_TEST_CAP, uint64)
        cnt = cuda.local.array(SCAN_TEST_CELLS, int64)
        mem_u = cuda.local.array((SCAN_TEST_CELLS, SCAN_TEST_UNITS), float64)
        mem_i = cuda.local.array((SCAN_TEST_CELLS, SCAN_TEST_UNITS), int64)
        _chunk_stream(st, keys, 0)
        st[AUCTION] = np.uint32(a)
        _scan(n, st, top, ktop, cap, host(bounds), n_bounds, cnt, mem_u, mem_i, units, pooled_top, has_pools)
        for t in range(cap):
            top_out[a, t] = top[t]
        for c in range(n_bounds + 1):
            cnt_out[a, c] = cnt[c]
            for k in range(min(cnt[c], units)):
                mem_u_out[a, c, k] = mem_u[c, k]
                mem_i_out[a, c, k] = mem_i[c, k]
