"""Order-statistic kernels: draw only what the outcome depends on; the cost of an auction does not grow with n.

``docs/architecture.md`` "Two ways to draw a market". The profile kernel (``kernels_profile``) scans all n buyers of
an auction and keeps (a) the cap = min(M + 1, n) smallest quantiles, sorted, (b) per cell of the merged pool
partition (``compiled.py``) the number of buyers and (c) the first M members met of each cell. The mechanisms'
outcome and payments (``kernels_profile.record_auction``, the level walk of ``mechanisms/rule.py``) read nothing
else. This module draws the same three things directly, with the same joint law, in O(M + cells) per auction:

* Quantile space is swept upwards from t = 0 with N' buyers left, i.i.d. uniform on (t, 1]. The next order
  statistic is the smallest of N' uniforms on (t, 1]: u = t + (1 - t)(-expm1(log1p(-U)/N')) (``min_above``).
* If u falls in a cell (lo, hi] that belongs to some pool, the others of that cell are counted at once: given u,
  the N' - 1 others are i.i.d. uniform on (u, 1], so Bin(N' - 1, (hi - u)/(1 - u)) of them lie in (u, hi]
  (``samplers.binomial``; p = 1, e.g. the lottery's single cell (0, 1], gives exactly N' - 1). The cell's
  smallest members go to the top list (sequential minima on (u, hi]) while it has room; the rest are i.i.d.
  uniform above the last one listed. The sweep goes on from hi with the buyers left, which lie in (hi, 1].
* A draw in no pool (beyond the largest pool edge, or in a gap between pools) is a plain order statistic.
* Once the top list is full, the sweep still counts, cell by cell (one binomial each), every cell of every pool
  that holds a listed buyer (``reach``): a pool's size includes members far below the top list.
* The members of a cell "met first" (profile mode: smallest buyer index) are a uniformly random ordering of
  its members: each member gets an i.i.d. uniform key (the keys' smallest values are drawn as order statistics
  of C uniforms, C the count, so any C is fine; stored as the cumulative hazard -log(1 - key), a monotone
  transform, by Renyi's representation: one exponential per key) and the member holding the next key is a
  uniformly random one of those not yet taken -- a listed one (its quantile read from the top list) with
  probability (listed left) / (members left), otherwise a fresh uniform above the last listed quantile. Pools spanning
  several cells merge their cells' members by key (``kernels_profile._first_members_value``). So the winners
  inside a pool are a uniformly random subset of its members: exact in distribution.

Everything is exact in distribution except for floating point: beyond 2^53 buyers counts are float64 values
(``samplers``: the binomial comes out on the float grid, Wasserstein-1 distance <= ~2 ulp(n p) from the exact
law, a relative 4.4e-16). A count matters to the outcome only through the level test c > m - filled (exact:
the grid is the integers below 2^53 and far above m beyond) and the payment next - (next - bid)(s+1)/(c+1), whose
change is at most (next - bid)(s+1) * 2^-52 / c <= 1e-16 (next - bid) m / 2^53 beyond 2^53: more than 10^25
times below any Monte Carlo error this engine can reach. Quantiles below 1e-308 would underflow (n ~ 1e308).

A chunk is a pure function of (xoshiro state, number of auctions, compiled rules, distribution, n) with n a
float (any size; the kernel's cost is independent of it): ``orderstat_chunk``; ``orderstat_batch`` runs chunks
in parallel. The per-chunk streams are those of profile mode (``rng.chunk_state``), consumed differently.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

import distributions.kernels
import distributions.kinds

from . import compiled, jitcache, rng, samplers
from . import profile as kernels_profile
from .profile import BLOCK, merge_block, cell_of, mirror_comoments, record_auction, zero_moments
from .samplers import binomial, min_above, next_uniform, uniform_in

jitcache.register(__file__, [distributions.kernels, distributions.kinds, rng, compiled, kernels_profile, samplers])


@numba.njit(cache=True, inline="always")
def cell_layout(rules):
    """What the market draw reads about the cells of ``rules``: (cell_hi, reach, member_keys) = the cells' upper
    edges, each cell's ``reach`` (the last cell of any pool holding it; -1 for cells in no pool), and whether
    any pool spans several cells (then members need keys). The CUDA backend passes them to its kernels."""
    bounds = rules.cell_bounds
    n_cells = bounds.shape[0] + 1
    cell_hi = np.empty(n_cells)
    cell_hi[:n_cells - 1] = bounds
    cell_hi[n_cells - 1] = 1.0
    reach = np.full(n_cells, -1, dtype=np.int64)
    first, last = rules.pool_cell_first, rules.pool_cell_last
    keys = False
    for p in range(first.shape[0]):
        keys = keys or last[p] > first[p]
        for c in range(first[p], last[p] + 1):
            reach[c] = max(reach[c], last[p])
    return cell_hi, reach, keys


@numba.njit(cache=True)
def _scratch(rules, n):
    """Per-chunk work arrays: the top list and its values, cell counts (float), the first members of each cell
    and their keys, merge pointers, a block of metrics, block means; the cells' upper edges and reach, a
    permutation buffer, and the member-keys flag (``cell_layout``)."""
    units, n_mech = rules.max_units, rules.n_mechanisms
    cap = int(min(units + 1.0, n))
    cell_hi, reach, keys = cell_layout(rules)
    n_cells = cell_hi.shape[0]
    return (np.empty(cap), np.empty(cap + 1), np.zeros(n_cells), np.zeros((n_cells, units)),
            np.zeros((n_cells, units)), np.zeros(n_cells, dtype=np.int64), np.empty((4, n_mech, BLOCK)),
            np.empty(n_mech), cell_hi, reach, np.empty(cap, dtype=np.int64), keys)


@numba.njit(cache=True, inline="always")
def _members(st, c, count, listed, first, top, lo, hi, units, mem_u, mem_key, perm, keys):
    """The first min(count, units) members of cell c in a uniformly random order (module doc): ``listed`` of
    its ``count`` members are top[first:first + listed]; the others are i.i.d. uniform on (lo, hi]."""
    k = units if count > units else int(count)
    left = count
    in_list = listed
    for i in range(listed):
        perm[i] = first + i
    key = 0.0
    for j in range(k):
        if keys:  # the next smallest key, as its cumulative hazard -log(1 - key) (monotone: one log per key)
            key -= math.log(next_uniform(st)) / left
        x = next_uniform(st) * left
        if x < in_list:
            i = int(x)
            mem_u[c, j] = top[perm[i]]
            in_list -= 1
            perm[i] = perm[in_list]
        else:
            mem_u[c, j] = uniform_in(st, lo, hi)
        mem_key[c, j] = key
        left -= 1.0


@numba.njit(cache=True, inline="always")
def draw_market(st, n, top, cap, cnt, mem_u, mem_key, bounds, n_bounds, cell_hi, reach, perm, units, pooled_top,
                keys):
    """One market of n buyers (a float) from the stream ``st``: the cap smallest quantiles into ``top``, the
    counts of the cells that can matter into ``cnt`` (n_bounds + 1 cells; others 0), their first members into
    ``mem_u`` / ``mem_key`` (module doc). Portable: the CUDA kernels draw with it too."""
    n_cells = cnt.shape[0]
    for c in range(n_cells):
        cnt[c] = 0.0
    left = n  # buyers not yet placed, i.i.d. uniform on (t, 1]
    t = 0.0
    found = 0  # entries of the top list
    need = -1  # cells up to this index must be counted
    nxt = 0  # the cell just above t, when t is a cell edge
    while left > 0.0:
        if found >= cap:
            if nxt > need:
                break
            hi = cell_hi[nxt]
            count = binomial(st, left, (hi - t) / (1.0 - t), (1.0 - hi) / (1.0 - t))
            _members(st, nxt, count, 0, 0, top, t, hi, units, mem_u, mem_key, perm, keys)
            cnt[nxt] = count
            left -= count
            t = hi
            nxt += 1
            continue
        u = min_above(st, t, 1.0, left)
        c = -1
        if u <= pooled_top:
            c = cell_of(bounds, n_bounds, u)
            if reach[c] < 0:
                c = -1
        if c < 0:  # in no pool: a plain order statistic
            top[found] = u
            found += 1
            left -= 1.0
            t = u
            nxt = n_cells  # past every cell a listed buyer reaches (pools are runs of whole cells)
            continue
        hi = cell_hi[c]
        rest = binomial(st, left - 1.0, (hi - u) / (1.0 - u), (1.0 - hi) / (1.0 - u))
        count = rest + 1.0
        top[found] = u
        listed = 1
        last = u
        while found + listed < cap and rest > 0.0:
            last = min_above(st, last, hi, rest)
            top[found + listed] = last
            listed += 1
            rest -= 1.0
        _members(st, c, count, listed, found, top, last, hi, units, mem_u, mem_key, perm, keys)
        cnt[c] = count
        found += listed
        left -= count
        t = hi
        nxt = c + 1
        if reach[c] > need:
            need = reach[c]


@numba.njit(cache=True, _nrt=False)
def _chunk_core(st, size, rules, kind, params, n, mean, comom, scratch):
    """Run ``size`` auctions of n buyers from the stream ``st`` (advanced in place); write the metrics' means
    (4, K) and co-moment sums (4, K, K) into ``mean`` and ``comom`` (as ``profile._serial_auctions``)."""
    top, vtop, cnt, mem_u, mem_key, ptr, buf, mu, cell_hi, reach, perm, keys = scratch
    bounds, units, pooled_top = rules.cell_bounds, rules.max_units, rules.pooled_top
    cap = top.shape[0]
    zero_moments(mean, comom)
    count = 0.0
    nb = 0
    for a in range(size):
        draw_market(st, n, top, cap, cnt, mem_u, mem_key, bounds, bounds.shape[0], cell_hi, reach, perm, units,
                    pooled_top, keys)
        record_auction(rules, top, cap, vtop, cnt, mem_u, mem_key, ptr, kind, params, buf, nb)
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
def orderstat_chunk(state, size, rules, kind, params, n):
    """One chunk, as a pure function: (mean (4, K), co-moments (4, K, K)) of ``size`` auctions of n buyers
    (n a float: any size). Same signature as ``kernels_profile.profile_chunk``; releases the GIL."""
    n_mech = rules.n_mechanisms
    mean = np.empty((4, n_mech))
    comom = np.empty((4, n_mech, n_mech))
    _chunk_into(state, size, rules, kind, params, float(n), mean, comom)
    return mean, comom


@numba.njit(cache=True, parallel=True)
def orderstat_batch(states, sizes, rules, kind, params, n):
    """Chunks b = 0..B-1 (states[b], sizes[b]) in parallel: means (B, 4, K) and co-moments (B, 4, K, K);
    each chunk computed serially by ``_chunk_into``, so the numbers do not depend on the threads."""
    n_chunks = states.shape[0]
    n_mech = rules.n_mechanisms
    means = np.empty((n_chunks, 4, n_mech))
    comoms = np.empty((n_chunks, 4, n_mech, n_mech))
    for b in prange(n_chunks):
        _chunk_into(states[b], sizes[b], rules, kind, params, float(n), means[b], comoms[b])
    return means, comoms


@numba.njit(cache=True)
def draw_markets(state, size, rules, n):
    """``size`` markets from the stream ``state`` (advanced in place), as the kernel sees them (for tests):
    top lists (size, cap), cell counts (size, cells), first members' quantiles and keys (size, cells, M)."""
    top, _vtop, cnt, mem_u, mem_key, _ptr, _buf, _mu, cell_hi, reach, perm, keys = _scratch(rules, float(n))
    bounds, units, pooled_top = rules.cell_bounds, rules.max_units, rules.pooled_top
    cap = top.shape[0]
    tops = np.empty((size, cap))
    cnts = np.empty((size, cnt.shape[0]))
    mems = np.empty((size, cnt.shape[0], units))
    memk = np.empty((size, cnt.shape[0], units))
    for a in range(size):
        mem_u[:] = np.nan
        draw_market(state, float(n), top, cap, cnt, mem_u, mem_key, bounds, bounds.shape[0], cell_hi, reach, perm,
                    units, pooled_top, keys)
        tops[a] = top
        cnts[a] = cnt
        mems[a] = mem_u
        memk[a] = mem_key
    return tops, cnts, mems, memk
