"""The profile scan in lanes: the draws of many auctions side by side, in SIMD registers (issue 18).

One xoshiro256+ stream is a chain of dependent steps, and a scalar scan of n buyers (draw, keep the two smallest)
is bound by its instruction count; LANES independent streams advanced in lockstep over small arrays are what the
compiler turns into vector instructions (0.2-0.4 ns a draw against 0.86 for one stream, AVX-512 here). The
draws stay those of the chunk's one stream (``profile.py``): a *segment* of LANES x P auctions is cut into LANES
runs of P consecutive auctions, and lane l starts from the segment's state jumped l P n steps ahead
(``jump.jump_words``, ``jump.jump_state``), so every auction sees exactly the uniforms of the serial scan and the kernel's numbers
are the same to the bit. The lanes store each auction's scan (two smallest quantiles; with a pool, its count
and first member) and ``profile.py`` then runs the mechanisms on the auctions in their serial order. A chunk of
fewer than LANES auctions (n above 2^16) splits each auction's buyers among the lanes instead
(``auction_in_lanes``).

Lanes serve the scans that need only the two smallest quantiles (one unit: cap = 2) and no pool or pools that
hold every buyer (quantile interval (0, 1], e.g. the lottery: their count is n and the first member met is
buyer 0); every other rule set is scanned serially. Keys (the 52-bit integers of ``rng.key_uniform``) are
compared as integers: k < k' iff u < u'.
"""
from __future__ import annotations

import math

import numba
import numpy as np

import distributions.kernels
from distributions.kernels import v_of_q

from . import jitcache, jump, rng
from .jump import jump_state
from .rng import key_uniform, xoshiro_next

jitcache.register(__file__, [distributions.kernels, rng, jump])

#: streams advanced in lockstep (16 x uint64: two AVX-512 registers per word of state)
LANES = 16
#: the least buyers of an auction split among the lanes (``auction_in_lanes``: LANES - 1 jumps of ~0.25 us per
#: auction against ~0.6 ns per buyer saved)
AUCTION_LANES_N = 1 << 14
#: buyer values per segment (at most SEGMENT_AUCTIONS auctions, 24 bytes of stored scan each): amortises the
#: LANES - 1 jumps of a segment (~0.25 us each) over ~50-200 us of draws
SEGMENT_VALUES = 1 << 19
SEGMENT_AUCTIONS = 1 << 14
_NO_KEY = np.uint64(0xFFFFFFFFFFFFFFFF)
_U12 = np.uint64(12)


@numba.njit(cache=True)
def lanes_fit(cap, rules):
    """Whether the rules need only what the lanes keep: one unit (cap = 2), no pool or pools that hold every
    buyer, (0, 1] (module doc)."""
    every_buyer = rules.cell_bounds.shape[0] == 0 and rules.pooled_top >= 1.0
    return cap == 2 and rules.max_units == 1 and (every_buyer or not rules.has_pools)


@numba.njit(cache=True)
def lane_plan(size, n, cap, rules):
    """(P, segments): lane runs of P auctions, in ``segments`` segments of LANES x P auctions (the rest of the
    chunk is scanned serially); (0, 0) when lanes do not apply (``lanes_fit``) or the chunk holds fewer than
    LANES auctions (then an auction of at least AUCTION_LANES_N buyers is split among the lanes instead,
    ``auction_in_lanes``)."""
    if not lanes_fit(cap, rules) or size < LANES:
        return 0, 0
    segments = max(1, size // max(LANES, min(SEGMENT_AUCTIONS, SEGMENT_VALUES // n)))
    return size // (LANES * segments), segments  # fewer than LANES x segments auctions left to the serial scan


@numba.njit(cache=True)
def lane_scratch(P):
    """The stored scans of a segment of LANES x P auctions: per auction the two smallest quantiles, the quantile of
    buyer 0, and their three values."""
    return np.empty((max(1, LANES * P), 6))


@numba.njit(cache=True, inline="always")
def _lanes_from(st, P, n, poly):
    """The lanes' streams, lane l's = ``st`` jumped l P n steps (``poly`` = x^(P n) mod p), as four arrays of
    LANES words (separate allocations: the compiler sees they do not alias, and vectorises), and three arrays
    for the keys of ``_draws``."""
    s0, s1, s2, s3 = (np.empty(LANES, dtype=np.uint64), np.empty(LANES, dtype=np.uint64),
                      np.empty(LANES, dtype=np.uint64), np.empty(LANES, dtype=np.uint64))
    x0, x1, x2, x3 = st[0], st[1], st[2], st[3]
    for l in range(LANES):
        s0[l], s1[l], s2[l], s3[l] = x0, x1, x2, x3
        x0, x1, x2, x3 = jump_state(poly, x0, x1, x2, x3)
    keys = (np.empty(LANES, dtype=np.uint64), np.empty(LANES, dtype=np.uint64), np.empty(LANES, dtype=np.uint64))
    return s0, s1, s2, s3, keys


@numba.njit(cache=True)
def lane_segment(st, P, n, poly, scans, kind, params, pooled):
    """Scan one segment of LANES x P auctions from the stream ``st`` (advanced in place past the segment) into
    ``scans`` (``lane_scratch``; auction l P + t of the segment is lane l's t-th), then their values
    (``_segment_values``)."""
    s0, s1, s2, s3, (k0, k1, k2) = _lanes_from(st, P, n, poly)
    for t in range(P):
        _draws(n, s0, s1, s2, s3, k0, k1, k2)
        for l in range(LANES):
            a = l * P + t
            scans[a, 0] = key_uniform(k1[l])
            scans[a, 1] = key_uniform(k2[l])
            scans[a, 2] = key_uniform(k0[l])
    last = LANES - 1
    st[0], st[1], st[2], st[3] = s0[last], s1[last], s2[last], s3[last]
    _segment_values(scans, kind, params, pooled)


@numba.njit(cache=True, inline="always")
def _segment_values(scans, kind, params, pooled):
    """v(q_(1)), v(q_(2)) and, with pools, buyer 0's value, for every auction of the segment: one tight loop of
    independent v(q) calls runs about twice as fast as the same calls made one auction at a time. (A one-unit
    auction needs both top values whenever both bid; ``profile`` computes any value left NaN on demand.)"""
    for a in range(scans.shape[0]):
        scans[a, 3] = v_of_q(kind, params, scans[a, 0])
        scans[a, 4] = v_of_q(kind, params, scans[a, 1])
        scans[a, 5] = v_of_q(kind, params, scans[a, 2]) if pooled else math.nan


@numba.njit(cache=True, inline="always")
def _draws(n, s0, s1, s2, s3, k0, k1, k2):
    """One auction per lane: n draws of each lane's stream; k0 = buyer 0's key, k1 <= k2 the two smallest keys.
    Branch-free bodies over the lanes, which the compiler vectorises."""
    for l in range(LANES):
        x, a0, a1, a2, a3 = xoshiro_next(s0[l], s1[l], s2[l], s3[l])
        s0[l], s1[l], s2[l], s3[l] = a0, a1, a2, a3
        k0[l] = x >> _U12
        k1[l] = k0[l]
        k2[l] = _NO_KEY
    for _ in range(1, n):
        for l in range(LANES):
            x, a0, a1, a2, a3 = xoshiro_next(s0[l], s1[l], s2[l], s3[l])
            s0[l], s1[l], s2[l], s3[l] = a0, a1, a2, a3
            key = x >> _U12
            b1 = k1[l]
            k2[l] = min(k2[l], max(b1, key))
            k1[l] = min(b1, key)


@numba.njit(cache=True, inline="always")
def lane_auction(scans, a, n, top, vtop, cnt, mem_u, mem_i):
    """Auction a of the last segment into the per-auction arrays of ``profile._scan``'s output: the two smallest
    quantiles and, for the pool that holds every buyer, its count n and first member met, buyer 0; their values
    into the value cache ``vtop`` of ``profile.record_outcomes``."""
    top[0] = scans[a, 0]
    top[1] = scans[a, 1]
    cnt[0] = n
    mem_u[0, 0] = scans[a, 2]
    mem_i[0, 0] = 0
    vtop[0] = scans[a, 3]
    vtop[1] = scans[a, 4]
    vtop[2] = scans[a, 5]


@numba.njit(cache=True)
def auction_in_lanes(st, n, poly, kind, params, pooled, scans):
    """One auction of n >= LANES buyers from the stream ``st`` (advanced in place past it), its buyers split
    among the lanes: lane l draws buyers l m .. (l + 1) m - 1 (m = n // LANES; ``poly`` = x^m mod p), the
    n - LANES m left are drawn after lane LANES - 1's. Writes the auction's scan and values into row 0 of
    ``scans`` (as ``lane_segment``): the two smallest of the lanes' pairs, buyer 0 = lane 0's first draw."""
    m = n // LANES
    s0, s1, s2, s3, (k0, k1, k2) = _lanes_from(st, 1, m, poly)
    _draws(m, s0, s1, s2, s3, k0, k1, k2)
    a, b = _NO_KEY, _NO_KEY
    for l in range(LANES):
        for key in (k1[l], k2[l]):
            b = min(b, max(a, key))
            a = min(a, key)
    last = LANES - 1
    x0, x1, x2, x3 = s0[last], s1[last], s2[last], s3[last]
    for _ in range(n - LANES * m):
        x, x0, x1, x2, x3 = xoshiro_next(x0, x1, x2, x3)
        key = x >> _U12
        b = min(b, max(a, key))
        a = min(a, key)
    st[0], st[1], st[2], st[3] = x0, x1, x2, x3
    scans[0, 0], scans[0, 1], scans[0, 2] = key_uniform(a), key_uniform(b), key_uniform(k0[0])
    _segment_values(scans[:1], kind, params, pooled)
