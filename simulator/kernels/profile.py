"""Profile-mode kernels: draw all n buyers of each auction and run every mechanism on them ex post.

Implements ``docs/architecture.md`` "Ex-post rules" and "Performance budget" for the ``QuantileRule`` contract of
``mechanisms/rule.py``:

* Buyer i's quantile is a uniform U_i (v is non-increasing, so ranking quantiles ranks values). The scan keeps
  only the cap = min(M + 1, n) smallest quantiles (M = the most units of any mechanism) and, per cell of the
  merged pool partition (``compiled.py``), the count of buyers and the first M buyers met in index order.
  Buyer indices are independent of values, so the first s members met of a pool are a uniformly random
  s-subset of it: a valid uniform tie-break for every aggregate metric.
* Levels of equal bid are walked from the top: a pool (lo, hi] is one level of its size c bidding pool_bid,
  any other participant (q <= r) a level of size 1 bidding v(q). T = the first level that does not win
  entirely, s of its c members win; winners in T pay bid_T, winners above T pay
  next_T - (next_T - bid_T)(s + 1)/(c + 1); with no such level every winner pays the reserve (min B).
* ``v_of_q`` is called only for winners and the value bid that sets a price: O(m) calls per auction.
* A ``MixtureRule`` (ex-ante randomisation, Corollaries 3.6, 3.8) contributes the probability-weighted outcome
  of its components on the same profile: the expectation over the ex-ante coin given the values, hence
  unbiased and with no more variance than flipping the coin.

Per auction the metrics (revenue, surplus, welfare, units sold) of every mechanism are buffered in blocks of
BLOCK auctions, and each block is folded into the chunk's mean and co-moments (two passes, then Chan et al.);
``accumulate.py`` merges chunks. A chunk is a pure function of (xoshiro state, number of auctions, compiled
rules, distribution (kind, params), n): ``profile_chunk``; a Dask or CUDA backend reproduces it chunk by chunk.
``profile_batch`` runs a batch of chunks in parallel (``prange`` over chunks). Numba notes: the per-auction
loop lives in ``_chunk_core``, not in the prange body (numba issue #10132); ``_chunk_core`` is compiled without
the reference-counting runtime (``_nrt=False``, it allocates nothing), so its inlined helpers cost no atomic
reference-count updates per auction -- with them, n = 10 auctions ran 3x slower.

Portable: the helpers that keep the top list and the cells (``insert_top``, ``join_cell``) and read a drawn
market (the level walk ``_component_outcome``, ``record_auction``) allocate nothing, so the CUDA kernels
(``cuda_kernels``) call these same functions (numba's CUDA target compiles a called ``njit`` function for the
GPU); the GPU's scan (integer keys over Philox counters) and its reductions are its own.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

import distributions.kernels
import distributions.kinds
from distributions.kernels import v_of_q

from . import compiled, jitcache, rng
from .rng import to_open_uniform, xoshiro_next

jitcache.register(__file__, [distributions.kernels, distributions.kinds, rng, compiled])

METRICS = ("revenue", "surplus", "welfare", "sold")
REVENUE, SURPLUS, WELFARE, SOLD = range(4)
#: cell lookups scan linearly below this many pool boundaries, bisect above
_LINEAR_CELLS = 16
#: auctions per block of the streaming co-moments (``merge_block``)
BLOCK = 64


@numba.njit(cache=True, inline="always")
def insert_top(top, cap, u):
    """Insert u into the sorted cap smallest quantiles (u < top[cap-1]); returns the new largest kept."""
    p = cap - 1
    while p > 0 and top[p - 1] > u:
        top[p] = top[p - 1]
        p -= 1
    top[p] = u
    return top[cap - 1]


@numba.njit(cache=True, inline="always")
def cell_of(bounds, nb, u):
    """Index of the cell (b_{i-1}, b_i] holding u: #{b < u} among the nb pool boundaries ``bounds[:nb]``."""
    if nb <= _LINEAR_CELLS:
        c = 0
        while c < nb and bounds[c] < u:
            c += 1
        return c
    lo, hi = 0, nb
    while lo < hi:
        mid = (lo + hi) >> 1
        if bounds[mid] < u:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True, inline="always")
def join_cell(u, i, bounds, n_bounds, cnt, mem_u, mem_i, units):
    """Count buyer i (quantile u, in some pool) in her cell, and keep her if among its first ``units`` met."""
    c = cell_of(bounds, n_bounds, u)
    k = cnt[c]
    if k < units:
        mem_u[c, k] = u
        mem_i[c, k] = i
    cnt[c] = k + 1


@numba.njit(cache=True, inline="always")
def keep(u, m1, m2, worst, top, cap, two):
    """Keep u if among the cap smallest so far: in registers (m1 <= m2, branch-free) when cap == 2, else an
    insertion into ``top`` (rare once the list is full: a predictable branch)."""
    if two:
        return min(m1, u), min(m2, max(m1, u)), worst
    if u < worst:
        worst = insert_top(top, cap, u)
    return m1, m2, worst


@numba.njit(cache=True, inline="always")
def _scan(n, st, top, cap, bounds, cnt, mem_u, mem_i, units, pooled_top, has_pools):
    """Draw the n quantiles of one auction from the stream ``st`` (advanced in place): the cap smallest go to
    ``top`` (sorted); with pools, buyers at or below ``pooled_top`` are counted per cell and the first
    ``units`` of each cell kept (quantile, buyer index).

    Three loops: no pools; one cell (every pool boundary is 0 or 1, e.g. the lottery: a counter in a
    register); a cell lookup per pooled draw."""
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    for t in range(cap):
        top[t] = 2.0
    two = cap == 2
    m1 = 2.0
    m2 = 2.0
    worst = 2.0
    if not has_pools:
        for i in range(n):
            x, s0, s1, s2, s3 = xoshiro_next(s0, s1, s2, s3)
            m1, m2, worst = keep(to_open_uniform(x), m1, m2, worst, top, cap, two)
    elif bounds.shape[0] == 0:
        k0 = 0
        for i in range(n):
            x, s0, s1, s2, s3 = xoshiro_next(s0, s1, s2, s3)
            u = to_open_uniform(x)
            m1, m2, worst = keep(u, m1, m2, worst, top, cap, two)
            if u <= pooled_top:
                if k0 < units:
                    mem_u[0, k0] = u
                    mem_i[0, k0] = i
                k0 += 1
        cnt[0] = k0
    else:
        for c in range(cnt.shape[0]):
            cnt[c] = 0
        for i in range(n):
            x, s0, s1, s2, s3 = xoshiro_next(s0, s1, s2, s3)
            u = to_open_uniform(x)
            m1, m2, worst = keep(u, m1, m2, worst, top, cap, two)
            if u <= pooled_top:
                join_cell(u, i, bounds, bounds.shape[0], cnt, mem_u, mem_i, units)
    if two:
        top[0] = m1
        top[1] = m2
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3


@numba.njit(cache=True, inline="always")
def _top_value(vtop, top, idx, kind, params):
    """v of the idx-th smallest quantile, computed once per auction and shared by the mechanisms."""
    v = vtop[idx]
    if v != v:
        v = v_of_q(kind, params, top[idx])
        vtop[idx] = v
    return v


@numba.njit(cache=True, inline="always")
def _first_members_value(first, last, s, cnt, mem_u, mem_i, ptr, kind, params):
    """Sum of the values of the s members of cells first..last met first (smallest buyer index): the uniformly
    random winners of a pooled level."""
    total = 0.0
    if first == last:
        for t in range(s):
            total += v_of_q(kind, params, mem_u[first, t])
        return total
    units = mem_u.shape[1]
    for c in range(first, last + 1):
        ptr[c] = 0
    for _ in range(s):
        best = -1
        best_i = -1
        for c in range(first, last + 1):
            k = ptr[c]
            if k < cnt[c] and k < units and (best < 0 or mem_i[c, k] < best_i):
                best = c
                best_i = mem_i[c, k]
        total += v_of_q(kind, params, mem_u[best, ptr[best]])
        ptr[best] += 1
    return total


@numba.njit(cache=True, inline="always")
def _component_outcome(j, rules, top, cap, vtop, cnt, mem_u, mem_i, ptr, kind, params):
    """(revenue, welfare, units sold) of component rule j on the scanned profile (module doc: the level walk
    and the payment rule of ``mechanisms/rule.py``; ``rules`` a ``compiled.CompiledRules``). Shared with
    ``kernels_orderstat``, whose cell counts ``cnt`` are floats (n up to 1e30) and whose ``mem_i`` are random
    keys instead of buyer indices."""
    pool_lo, pool_hi, pool_bid, pool_next = rules.pool_lo, rules.pool_hi, rules.pool_bid, rules.pool_next
    cell_first, cell_last = rules.pool_cell_first, rules.pool_cell_last
    m = rules.m[j]
    r = rules.r[j]
    p = rules.pool_start[j]
    p_end = rules.pool_start[j + 1]
    filled = 0  # buyers in the levels above the current one (all winners)
    welfare = 0.0
    idx = 0  # == filled: the top list holds every member of the levels above T
    while idx < cap and top[idx] <= r:
        u = top[idx]
        while p < p_end and pool_hi[p] < u:
            p += 1
        pooled = p < p_end and pool_lo[p] < u
        if pooled:
            c = 0
            for cell in range(cell_first[p], cell_last[p] + 1):
                c += cnt[cell]
            bid = pool_bid[p]
            nxt = pool_next[p]
        else:
            c = 1
            bid = _top_value(vtop, top, idx, kind, params)
            nxt = bid
        if filled + c > m:  # level T: s of its c members win
            s = m - filled
            revenue = s * bid
            if filled > 0:  # next_T is finite here (inf only for a pool at the top, with nobody above)
                revenue += filled * (nxt - (nxt - bid) * (s + 1) / (c + 1))
            if s > 0:
                welfare += _first_members_value(cell_first[p], cell_last[p], s, cnt, mem_u, mem_i, ptr, kind,
                                                params)
            return revenue, welfare, float(m)
        whole = int(c)  # c <= m - filled here (order-statistic mode counts in floats)
        for t in range(whole):
            welfare += _top_value(vtop, top, idx + t, kind, params)
        filled += whole
        idx += whole
    return filled * rules.reserve[j], welfare, float(filled)


@numba.njit(cache=True, inline="always")
def record_auction(rules, top, cap, vtop, cnt, mem_u, mem_i, ptr, kind, params, buf, nb):
    """Run every mechanism on one drawn market (top list, cell counts, first members) and write its metrics
    into column ``nb`` of the block ``buf`` (metric, mechanism, auction); a MixtureRule contributes the
    probability-weighted outcome of its components. Shared by the profile and order-statistic kernels."""
    prob = rules.component_prob
    first = rules.component_start
    for t in range(cap):
        vtop[t] = math.nan
    for k in range(buf.shape[1]):  # the K = rules.n_mechanisms mechanisms: buf's axis
        rev = 0.0
        wel = 0.0
        sold = 0.0
        for j in range(first[k], first[k + 1]):
            r_j, w_j, s_j = _component_outcome(j, rules, top, cap, vtop, cnt, mem_u, mem_i, ptr, kind, params)
            rev += prob[j] * r_j
            wel += prob[j] * w_j
            sold += prob[j] * s_j
        buf[REVENUE, k, nb] = rev
        buf[SURPLUS, k, nb] = wel - rev
        buf[WELFARE, k, nb] = wel
        buf[SOLD, k, nb] = sold


@numba.njit(cache=True, inline="always")
def zero_moments(mean, comom):
    """Start a chunk's summary: means and co-moments to 0."""
    for g in range(mean.shape[0]):
        for k1 in range(mean.shape[1]):
            mean[g, k1] = 0.0
            for k2 in range(mean.shape[1]):
                comom[g, k1, k2] = 0.0


@numba.njit(cache=True, inline="always")
def mirror_comoments(comom):
    """End a chunk's summary: ``merge_block`` keeps the lower triangle; copy it to the upper one."""
    for g in range(comom.shape[0]):
        for k1 in range(comom.shape[1]):
            for k2 in range(k1):
                comom[g, k2, k1] = comom[g, k1, k2]


@numba.njit(cache=True, inline="always")
def merge_block(buf, nb, count, mean, comom, mu):
    """Fold a block of nb auctions, buf[metric, mechanism, b], into the running (count, mean, co-moments): the
    block's mean and centred co-moments (two passes, contiguous inner loops that vectorise), then Chan's
    merge (``accumulate.py``). Only the lower triangle of ``comom`` is kept. Returns the new count."""
    n_mech = buf.shape[1]
    total = count + nb
    w = count * nb / total
    for g in range(buf.shape[0]):
        for k in range(n_mech):
            acc = 0.0
            for b in range(nb):
                acc += buf[g, k, b]
            mu[k] = acc / nb
            for b in range(nb):
                buf[g, k, b] -= mu[k]
        for k1 in range(n_mech):
            d1 = mu[k1] - mean[g, k1]
            for k2 in range(k1 + 1):
                acc = 0.0
                for b in range(nb):
                    acc += buf[g, k1, b] * buf[g, k2, b]
                comom[g, k1, k2] += acc + d1 * (mu[k2] - mean[g, k2]) * w
        for k in range(n_mech):
            mean[g, k] += (mu[k] - mean[g, k]) * (nb / total)
    return total


@numba.njit(cache=True)
def _scratch(rules, n):
    """Per-chunk work arrays: top list and its values, cell counts and first members, merge pointers,
    a block of auctions' metrics, the block means."""
    units, n_mech = rules.max_units, rules.n_mechanisms
    cap = min(units + 1, n)
    n_cells = rules.cell_bounds.shape[0] + 1
    return (np.empty(cap), np.empty(cap), np.zeros(n_cells, dtype=np.int64), np.empty((n_cells, units)),
            np.empty((n_cells, units), dtype=np.int64), np.zeros(n_cells, dtype=np.int64),
            np.empty((4, n_mech, BLOCK)), np.empty(n_mech))


@numba.njit(cache=True, _nrt=False)
def _chunk_core(st, size, rules, kind, params, n, mean, comom, scratch):
    """Run ``size`` auctions of n buyers from the stream ``st`` (advanced in place); write the metrics' means
    (4, K) and co-moment sums (4, K, K) into ``mean`` and ``comom``. Compiled without the reference-counting
    runtime (it allocates nothing), so the inlined helpers cost no atomic increments per auction."""
    top, vtop, cnt, mem_u, mem_i, ptr, buf, mu = scratch
    bounds, units, pooled_top, has_pools = rules.cell_bounds, rules.max_units, rules.pooled_top, rules.has_pools
    cap = top.shape[0]
    zero_moments(mean, comom)
    count = 0.0
    nb = 0
    for a in range(size):
        _scan(n, st, top, cap, bounds, cnt, mem_u, mem_i, units, pooled_top, has_pools)
        record_auction(rules, top, cap, vtop, cnt, mem_u, mem_i, ptr, kind, params, buf, nb)
        nb += 1
        if nb == BLOCK or a == size - 1:
            count = merge_block(buf, nb, count, mean, comom, mu)
            nb = 0
    mirror_comoments(comom)


@numba.njit(cache=True)
def _chunk_into(state, size, rules, kind, params, n, mean, comom):
    """One chunk from the stream ``state`` (not modified) into ``mean`` and ``comom``."""
    _chunk_core(state.copy(), size, rules, kind, params, n, mean, comom, _scratch(rules, n))


@numba.njit(cache=True, nogil=True)
def profile_chunk(state, size, rules, kind, params, n):
    """One chunk, as a pure function: (mean (4, K), co-moments (4, K, K)) of ``size`` auctions. Releases the GIL
    (the Dask backend's worker threads run chunks side by side)."""
    n_mech = rules.n_mechanisms
    mean = np.empty((4, n_mech))
    comom = np.empty((4, n_mech, n_mech))
    _chunk_into(state, size, rules, kind, params, n, mean, comom)
    return mean, comom


@numba.njit(cache=True, parallel=True)
def profile_batch(states, sizes, rules, kind, params, n):
    """Chunks b = 0..B-1 (states[b], sizes[b]) in parallel: means (B, 4, K) and co-moments (B, 4, K, K).
    Each chunk is computed serially by ``_chunk_into``, so the numbers do not depend on the threads."""
    n_chunks = states.shape[0]
    n_mech = rules.n_mechanisms
    means = np.empty((n_chunks, 4, n_mech))
    comoms = np.empty((n_chunks, 4, n_mech, n_mech))
    for b in prange(n_chunks):
        _chunk_into(states[b], sizes[b], rules, kind, params, n, means[b], comoms[b])
    return means, comoms
