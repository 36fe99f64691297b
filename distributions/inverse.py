"""The generalised inverse v(q) = sup{x : sf(x) >= q} of a survival function without a closed-form inverse, to
adjacent doubles (``compound.Mixture``): a safeguarded interpolation search that does, per bracket, about 3-8
rounds of one vectorised call of sf each where bisection takes ~55 (never more than 64).
"""
from __future__ import annotations

import math

import numba
import numpy as np

#: cap on the rounds of ``search``; every round at least halves the doubles in the bracket, so 64 do
_MAX_ROUNDS = 100
_EPS = float(np.finfo(float).eps)
_MAX_DOUBLE = float(np.finfo(float).max)


def search(sf, breaks, q, P, S):
    """The largest x with sf(x) >= q, to adjacent doubles: sf a non-increasing survival function evaluated on
    arrays, ``breaks`` its breakpoints (``Mixture._breaks``: x, lower and upper envelopes of sf there), q a 1-d
    array, P[0] upper bounds with sf(P[0]) < q, P[1] lower bounds of v(q) (taken as sf >= q even where rounding
    says otherwise), P[2:] further probes, S = sf(P).

    The bracket [lo, hi] (sf(lo) >= q > sf(hi)) is cut down by the probes, then to the breakpoints of sf
    next to v(q), so that sf is smooth inside it (``_search_start``). Each round then evaluates sf at
    three points per bracket in one call (``_search_propose``) and keeps the tightest bracket they give
    (``_search_advance``), until lo and hi are adjacent doubles (``_search_settle``):

    * an estimate x^ of the root of g = log sf - log q (log sf is linear in exponential tails and smooth
      where sf is; g = sf - q where sf = 0 at an end): inverse quadratic interpolation through the two
      ends and the nearest earlier probe outside them (Brent's step) where it falls inside the bracket,
      else the root of the chord through the two ends (regula falsi);
    * x^ shifted towards the end farther from it by twice its expected error (its last correction times
      the last rate of decrease of the corrections; at least ~1 ulp, 4 times longer after each miss), so
      that the far end moves in as well: both ends converge superlinearly, not only one (the weakness of
      regula falsi). In the first round, where lo is a breakpoint, this probe is lo + ~1 ulp instead: at
      an atom or at the top of a gap v(q) = lo, which that settles at once;
    * the bisection point (the midpoint of the bit patterns, halving the number of doubles in the
      bracket), so no round does worse than bisection and 64 rounds always suffice.

    Once sf at the two ends differs by a few ulps only (its rounding staircase, e.g. q near 1, or a jump
    of sf at the root) interpolation carries no information and the three points quarter the bracket.
    The bookkeeping is compiled (numba), so a round costs about one call of sf.
    """
    n = q.size
    lo, s_lo = P[1].copy(), np.maximum(S[1], q)
    hi, s_hi = P[0].copy(), S[0].copy()
    bx, lower, upper = breaks
    at_break = np.zeros(n, dtype=np.bool_)
    _search_start(q, lo, s_lo, hi, s_hi, np.ascontiguousarray(P[2:]), np.ascontiguousarray(S[2:]),
                  bx, -lower, -upper, lower, upper, at_break)
    result = np.empty(n)
    act = np.arange(n)
    est, corr, far = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n)
    x3, s3 = np.full(n, np.nan), np.full(n, np.nan)  # a third point near the bracket
    reach = np.ones(n)
    stair = np.zeros(n, dtype=np.bool_)
    probes = np.empty((3, n))
    m = _search_settle(act, n, lo, hi, result)
    for _ in range(_MAX_ROUNDS):
        if not m:
            break
        _search_propose(act, m, q, lo, s_lo, hi, s_hi, x3, s3, est, corr, reach, stair, far, at_break, probes)
        x = probes[:, :m]
        s = np.ascontiguousarray(np.asarray(sf(x.ravel()), dtype=float).reshape(x.shape))
        _search_advance(act, m, q, probes, s, lo, s_lo, hi, s_hi, x3, s3, est, reach, stair, far)
        m = _search_settle(act, m, lo, hi, result)
    else:  # not reached: bisection alone ends within 64 rounds
        result[act[:m]] = lo[act[:m]]
    return result


# ---------------------------------------------------------------------- the compiled bookkeeping of ``search``
# Per bracket e (lo[e] <= v(q[e]) < hi[e], s_lo and s_hi the sf there), in place on the arrays; ``act[:m]`` lists
# the brackets still open. Values are >= 0, where the midpoint of the bit patterns of two doubles halves the
# number of doubles between them (arithmetic midpoint where lo < 0, never the case for value distributions).

@numba.njit(cache=True)
def _midpoint(a, b, fbuf, ibuf):
    if not a >= 0.0:
        return a + 0.5 * (b - a)
    fbuf[0] = a
    ia = ibuf[0]
    fbuf[0] = b
    ibuf[0] = ia + (ibuf[0] - ia) // 2
    return fbuf[0]


@numba.njit(cache=True)
def _search_start(q, lo, s_lo, hi, s_hi, probes, s_probes, bx, neg_lower, neg_upper, lower, upper, at_break):
    """Each probe inside (lo, hi) moves the end on its side; then the breakpoints bx (increasing, with
    lower <= sf <= upper there, both non-increasing): the largest with lower >= q, the smallest with upper < q.
    at_break: lo is a breakpoint, where v(q) = lo is likely (an atom, or the top of a gap)."""
    for e in range(q.size):
        for j in range(probes.shape[0]):
            p = probes[j, e]
            if lo[e] < p < hi[e]:
                if s_probes[j, e] >= q[e]:
                    lo[e], s_lo[e] = p, s_probes[j, e]
                else:
                    hi[e], s_hi[e] = p, s_probes[j, e]
        if bx.size:
            j = np.searchsorted(neg_lower, -q[e], side="right") - 1  # bx[:j + 1] have sf >= q
            if j >= 0 and lo[e] < bx[j] < hi[e]:
                lo[e], s_lo[e] = bx[j], lower[j]
            at_break[e] = j >= 0 and lo[e] == bx[j]
            j = np.searchsorted(neg_upper, -q[e], side="right")  # bx[j:] have sf < q
            if j < bx.size and lo[e] < bx[j] < hi[e]:
                hi[e], s_hi[e] = bx[j], upper[j]


@numba.njit(cache=True)
def _search_settle(act, m, lo, hi, result):
    """Close the brackets down to adjacent doubles (result = lo); returns how many stay open, moved to the
    front of act."""
    fbuf = np.empty(1)
    ibuf = fbuf.view(np.int64)
    k = 0
    for i in range(m):
        e = act[i]
        mid = _midpoint(lo[e], hi[e], fbuf, ibuf)
        if lo[e] < mid < hi[e]:
            act[k] = e
            k += 1
        elif lo[e] == _MAX_DOUBLE and hi[e] == np.inf:  # v(q) is beyond the doubles (a tail heavier than 1/q)
            result[e] = np.inf
        else:
            result[e] = lo[e]
    return k


@numba.njit(cache=True)
def _inside(p, a, b, d, mid):
    p = min(max(p, a + d), b - d)
    return p if a < p < b else mid


@numba.njit(cache=True, error_model="numpy")
def _search_propose(act, m, q, lo, s_lo, hi, s_hi, x3, s3, est, corr, reach, stair, far, at_break, probes):
    """The three probes of each open bracket (``search``), sorted, into probes[:, :m]; at a breakpoint
    lo (first round only) the second probe is the next double or so above lo, which settles v(q) = lo at once."""
    fbuf = np.empty(1)
    ibuf = fbuf.view(np.int64)
    for i in range(m):
        e = act[i]
        a, b = lo[e], hi[e]
        mid = _midpoint(a, b, fbuf, ibuf)
        if s_lo[e] - s_hi[e] <= 8.0 * _EPS * s_lo[e]:
            stair[e] = True
        if stair[e]:
            probes[0, i] = _midpoint(a, mid, fbuf, ibuf)
            probes[1, i] = mid
            probes[2, i] = _midpoint(mid, b, fbuf, ibuf)
            continue
        c3, t3 = x3[e], s3[e]
        if s_lo[e] > 2.0 * s_hi[e] and s_hi[e] > 0.0 and not t3 <= 0.0:  # sf over orders of magnitude: log sf
            lq = math.log(q[e])
            g_lo = max(math.log(s_lo[e]) - lq, 0.0)
            g_hi = min(math.log(s_hi[e]) - lq, 0.0)
            g3 = math.log(t3) - lq
        else:
            g_lo, g_hi, g3 = s_lo[e] - q[e], s_hi[e] - q[e], t3 - q[e]
        x = np.nan
        if c3 == c3 and g_lo != g_hi and g3 != g_lo and g3 != g_hi:  # inverse quadratic interpolation
            x = a + ((b - a) * g_lo * g3 / ((g_hi - g_lo) * (g_hi - g3))
                     + (c3 - a) * g_lo * g_hi / ((g3 - g_lo) * (g3 - g_hi)))
        if not a < x < b:  # the chord
            x = a + (b - a) * (g_lo / (g_lo - g_hi))
        x = min(max(x, a), b) if x == x else mid
        d = _EPS * abs(b) + 1e-320  # about one ulp
        c = abs(x - est[e])  # NaN in the first round
        rate = min(c / corr[e], 1.0) if corr[e] > 0.0 else 1.0
        shift = max(2.0 * c * rate if c == c else 0.0, d) * reach[e]
        est[e], corr[e] = x, c
        far[e] = x + shift if x - a <= b - x else x - shift
        if at_break[e]:
            far[e], at_break[e] = a + d, False
        p0 = _inside(x, a, b, d, mid)
        p1 = _inside(far[e], a, b, d, mid)
        if p0 > p1:
            p0, p1 = p1, p0
        if mid < p0:
            p0, p1, p2 = mid, p0, p1
        elif mid < p1:
            p0, p1, p2 = p0, mid, p1
        else:
            p2 = mid
        probes[0, i], probes[1, i], probes[2, i] = p0, p1, p2


@numba.njit(cache=True)
def _search_advance(act, m, q, probes, s, lo, s_lo, hi, s_hi, x3, s3, est, reach, stair, far):
    """The new brackets: the first probe with sf < q and the one below it (or the old ends, where all probes
    fall on one side); a miss of the far probe (the root beyond it) lengthens its next shift."""
    for i in range(m):
        e = act[i]
        k = 0
        while k < 3 and s[k, i] >= q[e]:
            k += 1
        # a third point for the interpolation: the nearest one outside the new bracket
        if k >= 2:
            below, s_below = probes[k - 2, i], s[k - 2, i]
        elif k == 1:
            below, s_below = lo[e], s_lo[e]
        else:
            below, s_below = np.nan, np.nan
        if k <= 1:
            above, s_above = probes[k + 1, i], s[k + 1, i]
        elif k == 2:
            above, s_above = hi[e], s_hi[e]
        else:
            above, s_above = np.nan, np.nan
        new_lo = probes[k - 1, i] if k > 0 else lo[e]
        new_hi = probes[k, i] if k < 3 else hi[e]
        if below != below or (above == above and above - new_hi < new_lo - below):
            x3[e], s3[e] = above, s_above
        else:
            x3[e], s3[e] = below, s_below
        if k > 0:
            lo[e], s_lo[e] = probes[k - 1, i], s[k - 1, i]
        if k < 3:
            hi[e], s_hi[e] = probes[k, i], s[k, i]
        if not stair[e]:
            missed = lo[e] >= far[e] if far[e] >= est[e] else hi[e] <= far[e]
            reach[e] = 4.0 * reach[e] if missed else 1.0
