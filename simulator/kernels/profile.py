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
* ``v_of_q`` is called only for winners and the value bid that sets a price: O(m) calls per auction, each value
  computed once per auction and shared by the mechanisms (``vtop``: the top list's values and that of the
  first member of cell 0, the lottery's winner).
* Components with one unit and no pool (second price with a reserve) or one pool holding every buyer (the
  lottery) take a short path (``_single_unit_outcome``, ``_lottery_outcome``): the walk's arithmetic step for
  step, so the numbers are the same to the bit.
* A ``MixtureRule`` (ex-ante randomisation, Corollaries 3.6, 3.8) contributes the probability-weighted outcome
  of its components on the same profile: the expectation over the ex-ante coin given the values, hence
  unbiased and with no more variance than flipping the coin.

Per auction the metrics (revenue, surplus, welfare, units sold) of every mechanism are buffered in blocks of
BLOCK auctions, and each block is folded into the chunk's mean and co-moments (two passes, then Chan et al.);
``accumulate.py`` merges chunks. A chunk is a pure function of (xoshiro state, number of auctions, compiled
rules, distribution (kind, params), n): ``profile_chunk``; a Dask or CUDA backend reproduces it chunk by chunk.
``profile_batch`` runs a batch of chunks in parallel (``prange`` over chunks). Where the rules need only the two
smallest quantiles (one unit; no pool or pools of every buyer) a chunk's draws are scanned in lanes
(``lanes.py``: sixteen streams in SIMD registers, jumped ahead so that each auction sees the serial stream's
uniforms, their values computed in a batch), then the mechanisms run on the auctions in order; the rest of
the chunk, and every other rule set, is scanned one auction at a time (``_scan``). Either way the numbers are
the same to the bit. Numba notes: the per-auction loops live in ``_lane_auctions`` and ``_serial_auctions``,
not in the prange body (numba issue #10132); they are compiled without the reference-counting runtime
(``_nrt=False``, they allocate nothing), so their inlined helpers cost no atomic reference-count updates per
auction -- with them, n = 10 auctions ran 3x slower.

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

from . import compiled, jitcache, jump, lanes as lanes_module, rng
from .jump import jump_words
from .lanes import (AUCTION_LANES_N, LANES, auction_in_lanes, lane_auction, lane_plan, lane_scratch, lane_segment,
                    lanes_fit)
from .rng import to_open_uniform, xoshiro_next

jitcache.register(__file__, [distributions.kernels, distributions.kinds, rng, compiled, jump, lanes_module])

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
def _cached_value(vtop, idx, q, kind, params):
    """v(q), kept in vtop[idx] (NaN: not computed yet in this auction)."""
    v = vtop[idx]
    if v != v:
        v = v_of_q(kind, params, q)
        vtop[idx] = v
    return v


@numba.njit(cache=True, inline="always")
def _top_value(vtop, top, idx, kind, params):
    """v of the idx-th smallest quantile, computed once per auction and shared by the mechanisms."""
    return _cached_value(vtop, idx, top[idx], kind, params)


@numba.njit(cache=True, inline="always")
def _member_value(vtop, cap, cell, t, mem_u, kind, params):
    """v of member t of a cell; the first member of cell 0 (e.g. the lottery's winner) is computed once per
    auction and shared by the mechanisms, in vtop[cap]."""
    if cell == 0 and t == 0:
        return _cached_value(vtop, cap, mem_u[0, 0], kind, params)
    return v_of_q(kind, params, mem_u[cell, t])


@numba.njit(cache=True, inline="always")
def _first_members_value(first, last, s, cnt, mem_u, mem_i, ptr, vtop, cap, kind, params):
    """Sum of the values of the s members of cells first..last met first (smallest buyer index): the uniformly
    random winners of a pooled level."""
    total = 0.0
    if first == last:
        for t in range(s):
            total += _member_value(vtop, cap, first, t, mem_u, kind, params)
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
        total += _member_value(vtop, cap, best, ptr[best], mem_u, kind, params)
        ptr[best] += 1
    return total


@numba.njit(cache=True, inline="always")
def _single_unit_outcome(j, rules, top, cap, vtop, kind, params):
    """``_component_outcome`` of a component with one unit and no pool (second price with a reserve, and every
    mechanism that reduces to it): the top buyer wins if q_(1) <= r and pays v(q_(2)) if q_(2) <= r, else the
    reserve. The walk's own arithmetic, step for step (so the numbers are the same to the bit, inf and NaN
    included), without its loops."""
    r = rules.r[j]
    if cap < 1 or top[0] > r:
        return 0 * rules.reserve[j], 0.0, 0.0
    welfare = 0.0 + _top_value(vtop, top, 0, kind, params)
    if cap < 2 or top[1] > r:
        return 1 * rules.reserve[j], welfare, 1.0
    bid = _top_value(vtop, top, 1, kind, params)
    revenue = 0 * bid
    revenue += 1 * (bid - (bid - bid) * 1 / 2)
    return revenue, welfare, 1.0


@numba.njit(cache=True, inline="always")
def _lottery_outcome(j, p, rules, top, cap, vtop, cnt, mem_u, mem_i, ptr, kind, params):
    """``_component_outcome`` of a component with one unit and one pool that holds every buyer (the lottery, the
    buyer-offer mechanism): with c >= 2 bidders the first member met wins and pays the pool's bid; a lone
    bidder wins and pays the reserve. The walk's own arithmetic, step for step, without its loops."""
    if cap < 1 or top[0] > rules.r[j]:
        return 0 * rules.reserve[j], 0.0, 0.0
    first, last = rules.pool_cell_first[p], rules.pool_cell_last[p]
    c = 0 * cnt[0]
    for cell in range(first, last + 1):
        c += cnt[cell]
    if c > 1:
        welfare = 0.0 + _first_members_value(first, last, 1, cnt, mem_u, mem_i, ptr, vtop, cap, kind, params)
        return 1 * rules.pool_bid[p], welfare, 1.0
    return 1 * rules.reserve[j], 0.0 + _top_value(vtop, top, 0, kind, params), 1.0


@numba.njit(cache=True, inline="always")
def _component_outcome(j, rules, top, cap, vtop, cnt, mem_u, mem_i, ptr, kind, params):
    """(revenue, welfare, units sold) of component rule j on the scanned profile (module doc: the level walk
    and the payment rule of ``mechanisms/rule.py``; ``rules`` a ``compiled.CompiledRules``). Shared with
    ``kernels_orderstat``, whose cell counts ``cnt`` are floats (n up to 1e30) and whose ``mem_i`` are random
    keys instead of buyer indices."""
    pool_lo, pool_hi, pool_bid, pool_next = rules.pool_lo, rules.pool_hi, rules.pool_bid, rules.pool_next
    cell_first, cell_last = rules.pool_cell_first, rules.pool_cell_last
    m = rules.m[j]
    p = rules.pool_start[j]
    p_end = rules.pool_start[j + 1]
    if m == 1 and p == p_end:
        return _single_unit_outcome(j, rules, top, cap, vtop, kind, params)
    if m == 1 and p_end == p + 1 and pool_lo[p] <= 0.0 and pool_hi[p] >= 1.0:
        return _lottery_outcome(j, p, rules, top, cap, vtop, cnt, mem_u, mem_i, ptr, kind, params)
    r = rules.r[j]
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
                welfare += _first_members_value(cell_first[p], cell_last[p], s, cnt, mem_u, mem_i, ptr, vtop, cap,
                                                kind, params)
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
    probability-weighted outcome of its components. ``vtop`` (cap + 1 entries) caches the values of the top list
    and of the first member of cell 0 within the auction. Shared by the profile and order-statistic kernels."""
    for t in range(cap + 1):
        vtop[t] = math.nan
    record_outcomes(rules, top, cap, vtop, cnt, mem_u, mem_i, ptr, kind, params, buf, nb)


@numba.njit(cache=True, inline="always")
def record_outcomes(rules, top, cap, vtop, cnt, mem_u, mem_i, ptr, kind, params, buf, nb):
    """``record_auction`` with the value cache ``vtop`` as the caller left it: values already in it (the lanes
    compute them in a batch, ``lanes.py``) are used, NaN entries computed when needed."""
    prob = rules.component_prob
    first = rules.component_start
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
            k2 = 0
            while k2 <= k1:
                left = k1 + 1 - k2
                step = 4 if left >= 4 else (2 if left >= 2 else 1)
                a0, a1, a2, a3 = _dots(buf[g], k1, k2, step, nb)
                comom[g, k1, k2] += a0 + d1 * (mu[k2] - mean[g, k2]) * w
                if step > 1:
                    comom[g, k1, k2 + 1] += a1 + d1 * (mu[k2 + 1] - mean[g, k2 + 1]) * w
                if step > 2:
                    comom[g, k1, k2 + 2] += a2 + d1 * (mu[k2 + 2] - mean[g, k2 + 2]) * w
                    comom[g, k1, k2 + 3] += a3 + d1 * (mu[k2 + 3] - mean[g, k2 + 3]) * w
                k2 += step
        for k in range(n_mech):
            mean[g, k] += (mu[k] - mean[g, k]) * (nb / total)
    return total


@numba.njit(cache=True, inline="always")
def _dots(c, k1, k2, step, nb):
    """The sums over b < nb of c[k1, b] c[k2 + i, b] for i < step (4, 2 or 1; the others 0), each added in the
    order of b as a single sum would be: independent chains that share the loads of row k1."""
    a0 = a1 = a2 = a3 = 0.0
    if step == 4:
        for b in range(nb):
            x = c[k1, b]
            a0 += x * c[k2, b]
            a1 += x * c[k2 + 1, b]
            a2 += x * c[k2 + 2, b]
            a3 += x * c[k2 + 3, b]
    elif step == 2:
        for b in range(nb):
            x = c[k1, b]
            a0 += x * c[k2, b]
            a1 += x * c[k2 + 1, b]
    else:
        for b in range(nb):
            a0 += c[k1, b] * c[k2, b]
    return a0, a1, a2, a3


@numba.njit(cache=True)
def _scratch(rules, n):
    """Per-chunk work arrays: top list and its values, cell counts and first members, merge pointers,
    a block of auctions' metrics, the block means."""
    units, n_mech = rules.max_units, rules.n_mechanisms
    cap = min(units + 1, n)
    n_cells = rules.cell_bounds.shape[0] + 1
    return (np.empty(cap), np.empty(cap + 1), np.zeros(n_cells, dtype=np.int64), np.empty((n_cells, units)),
            np.empty((n_cells, units), dtype=np.int64), np.zeros(n_cells, dtype=np.int64),
            np.empty((4, n_mech, BLOCK)), np.empty(n_mech))


@numba.njit(cache=True, inline="always")
def _fold(a, size, buf, mean, comom, mu, count, nb):
    """Auction a's metrics are in column nb of ``buf``: fold each full block (and the last one) into the chunk's
    moments; returns the new (count, nb)."""
    nb += 1
    if nb == BLOCK or a == size - 1:
        count = merge_block(buf, nb, count, mean, comom, mu)
        nb = 0
    return count, nb


@numba.njit(cache=True, _nrt=False)
def _lane_auctions(scans, a, size, rules, kind, params, n, mean, comom, scratch, count, nb):
    """Run the mechanisms on the auctions of the segment just scanned (``lanes.lane_segment``), auctions a, a + 1,
    ... of the chunk, in order; returns the new (count, nb). Compiled without the reference-counting runtime (it
    allocates nothing), so the inlined helpers cost no atomic increments per auction -- with them, n = 10
    auctions ran 3x slower."""
    top, vtop, cnt, mem_u, mem_i, ptr, buf, mu = scratch
    for t in range(scans.shape[0]):
        lane_auction(scans, t, n, top, vtop, cnt, mem_u, mem_i)
        record_outcomes(rules, top, top.shape[0], vtop, cnt, mem_u, mem_i, ptr, kind, params, buf, nb)
        count, nb = _fold(a + t, size, buf, mean, comom, mu, count, nb)
    return count, nb


@numba.njit(cache=True, _nrt=False)
def _serial_auctions(st, a, size, rules, kind, params, n, mean, comom, scratch, count, nb):
    """Scan auctions a, ..., size - 1 one by one from the stream ``st`` (advanced in place) and run the mechanisms
    on each (``_lane_auctions``: the same for auctions scanned in lanes)."""
    top, vtop, cnt, mem_u, mem_i, ptr, buf, mu = scratch
    bounds, units, pooled_top, has_pools = rules.cell_bounds, rules.max_units, rules.pooled_top, rules.has_pools
    for b in range(a, size):
        _scan(n, st, top, top.shape[0], bounds, cnt, mem_u, mem_i, units, pooled_top, has_pools)
        record_auction(rules, top, top.shape[0], vtop, cnt, mem_u, mem_i, ptr, kind, params, buf, nb)
        count, nb = _fold(b, size, buf, mean, comom, mu, count, nb)
    return count, nb


@numba.njit(cache=True)
def _chunk_into(state, size, rules, kind, params, n, mean, comom):
    """One chunk from the stream ``state`` (not modified) into ``mean`` (4, K) and ``comom`` (4, K, K): the first
    segments x LANES x P auctions scanned in lanes (``lanes.py``), the rest one by one; either way the same
    draws, auction by auction, and the same numbers."""
    P, segments = lane_plan(size, n, min(rules.max_units + 1, n), rules)
    scratch = _scratch(rules, n)
    scans = lane_scratch(P)
    st = state.copy()
    zero_moments(mean, comom)
    count, nb = 0.0, 0
    done = 0
    if segments > 0:
        poly = jump_words(P * n)
        for s in range(segments):
            lane_segment(st, P, n, poly, scans, kind, params, rules.has_pools)
            count, nb = _lane_auctions(scans, s * LANES * P, size, rules, kind, params, n, mean, comom, scratch,
                                       count, nb)
        done = segments * LANES * P
    elif n >= AUCTION_LANES_N and lanes_fit(min(rules.max_units + 1, n), rules):
        count, nb = _split_auctions(st, size, rules, kind, params, n, mean, comom, scratch, count, nb)
        done = size
    _serial_auctions(st, done, size, rules, kind, params, n, mean, comom, scratch, count, nb)
    mirror_comoments(comom)


@numba.njit(cache=True)
def _split_auctions(st, size, rules, kind, params, n, mean, comom, scratch, count, nb):
    """Every auction of the chunk with its buyers split among the lanes (``lanes.auction_in_lanes``: a chunk of
    fewer than LANES auctions of many buyers), then the mechanisms run on it; returns the new (count, nb)."""
    one = lane_scratch(1)[:1]
    poly = jump_words(n // LANES)
    for a in range(size):
        auction_in_lanes(st, n, poly, kind, params, rules.has_pools, one)
        count, nb = _lane_auctions(one, a, size, rules, kind, params, n, mean, comom, scratch, count, nb)
    return count, nb


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
