"""numba.cuda kernels of profile and order-statistic modes (issue 8): the ``compiled.py`` rule arrays on a GPU.

One GPU thread runs one auction at a time, with the algorithm of ``kernels_profile`` (see its module doc):
rank the n uniforms, keep the cap = min(M + 1, n) smallest (in two registers when cap = 2) and, with pools,
the count and first ``units`` members of each cell; walk the levels of equal bid and apply the payment rule
of ``mechanisms/rule.py``; evaluate v(q) only for the winners and the price-setting bid. The device
functions here are line-by-line ports of the CPU helpers (numba's CUDA target cannot call them: ``v_of_q``
uses ``np.searchsorted`` and the CPU kernels allocate), so the two must be changed together.

Random numbers: counter-based Philox4x32-10 (Salmon et al., SC'11; Random123's constants, checked against its
known-answer vectors in the tests). Chunk b of a batch has a key (k0, k1) and two counter words (c2, c3), the
four 32-bit halves of words 0 and 1 of the chunk's SeedSequence state (``rng.chunk_state``); buyer i of
auction a of the chunk reads half i % 2 of the Philox block at counter (i // 2, a, c2, c3). Every draw is a
pure function of (seed, chunk, auction, buyer): no generator state, no set-up kernel, no dependence on the
launch configuration. A uniform is made of two 32-bit words as (top 52 bits + 1/2) 2^-52, in float64: it
lies in the open interval (0, 1) by construction (never 0, never 1; smallest 2^-53). Float32 uniforms (e.g.
numba's xoroshiro ``uniform_float32``) round up to exactly 1.0.

Order-statistic mode: ``_draw`` / ``_members`` and the samplers (``min_above``, ``uniform_in``, ``binomial``:
BINV and BTRD with Loader's log-pmf) are ports of ``kernels_orderstat`` and ``samplers``, with the same draws
in the same order; an auction's variates come from its own Philox stream, block (d // 2, a, c2, c3) for its
d-th and (d+1)-th draws (``next_uniform``; d counts the auction's draws, any number of them, so rejection
loops need no bound on the draws). ``_floor`` replaces ``np.floor`` (math.floor goes through int64: n = 1e30).

Reductions on the device: the threads of a block write their auction's metrics (revenue, surplus, welfare,
sold for each of the K mechanisms: NM = 4K numbers) into a shared-memory tile; the block folds each tile into
its running mean and co-moments (two passes over the tile, then Chan et al.; lower triangle), kept in global
memory; a second kernel merges each chunk's block summaries in block order. Only the per-chunk summaries,
(B, 4, K) means and (B, 4, K, K) co-moments, are copied back; ``accumulate.Moments`` merges them in chunk
order as for every backend. The launch shape depends only on the batch (``backend_cuda``), so a run gives the
same numbers on any GPU (up to the device math library).

Kernels are specialised (closure constants: local and shared array sizes) on (K, M, cap, cells, threads per
block) and built once per process (``profile_kernels``).
"""
from __future__ import annotations

import functools
import math

import numpy as np

if not hasattr(np, "row_stack"):  # numba-cuda 0.30 still uses np.row_stack, removed in numpy 2.5
    np.row_stack = np.vstack

from numba import cuda, float64, int64, uint32  # noqa: E402

from distributions.kernels import (DISCRETE, EQUAL_REVENUE, EXAMPLE42, EXPONENTIAL, LOGNORMAL, LOMAX,  # noqa: E402
                                   PARETO, TABLE, TRUNCNORM, UNIFORM, WEIBULL)

# Philox4x32 constants (Random123)
PHILOX_M0 = np.uint64(0xD2511F53)
PHILOX_M1 = np.uint64(0xCD9E8D57)
PHILOX_W0 = np.uint64(0x9E3779B9)
PHILOX_W1 = np.uint64(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S20 = np.uint64(20)
_S12 = np.uint64(12)
_SCALE = 2.0 ** -52
#: cell lookups scan linearly below this many pool boundaries, bisect above (as ``kernels_profile``)
_LINEAR_CELLS = 16
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


# ---------------------------------------------------------------------- random numbers
@cuda.jit(device=True)
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1), all uint32: four uint32 words."""
    for _ in range(10):
        p0 = np.uint64(c0) * PHILOX_M0
        p1 = np.uint64(c2) * PHILOX_M1
        hi0 = np.uint32(p0 >> _S32)
        lo0 = np.uint32(p0 & _MASK32)
        hi1 = np.uint32(p1 >> _S32)
        lo1 = np.uint32(p1 & _MASK32)
        c0 = np.uint32(hi1 ^ c1 ^ k0)
        c1 = lo1
        c2 = np.uint32(hi0 ^ c3 ^ k1)
        c3 = lo0
        k0 = np.uint32((np.uint64(k0) + PHILOX_W0) & _MASK32)
        k1 = np.uint32((np.uint64(k1) + PHILOX_W1) & _MASK32)
    return c0, c1, c2, c3


@cuda.jit(device=True)
def open_uniform(hi, lo):
    """Two uint32 words as a float64 uniform in (0, 1): (top 52 of the 64 bits + 1/2) 2^-52."""
    k = (np.uint64(hi) << _S20) | (np.uint64(lo) >> _S12)
    return (np.float64(k) + 0.5) * _SCALE


# ---------------------------------------------------------------------- v(q): port of distributions.kernels
@cuda.jit(device=True)
def _ndtr_upper(x):
    return 0.5 * math.erfc(x / _SQRT2)


@cuda.jit(device=True)
def ndtri_upper(q):
    """x with Pr[Z >= x] = q (``distributions.kernels.ndtri_upper``, without its recursion)."""
    sign = 1.0
    if q > 0.5:
        q = 1.0 - q
        sign = -1.0
    if q == 0.5:
        return 0.0
    if q <= 0.0:
        return sign * math.inf
    t = math.sqrt(-2.0 * math.log(q))
    x = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1.0 + 1.432788 * t + 0.189269 * t * t
                                                            + 0.001308 * t * t * t)
    lq = math.log(q)
    for _ in range(50):
        tail = _ndtr_upper(x)
        dens = math.exp(-0.5 * x * x) / _SQRT2PI
        step = (math.log(tail) - lq) * tail / dens
        x += step
        if abs(step) <= 1e-15 * max(abs(x), 1.0):
            break
    return sign * x


@cuda.jit(device=True)
def _count_below(params, first, count, q, inclusive):
    """#{i < count : params[first + i] <= q} (inclusive) or < q: ``np.searchsorted`` right / left."""
    lo = 0
    hi = count
    while lo < hi:
        mid = (lo + hi) >> 1
        x = params[first + mid]
        if x < q or (inclusive and x == q):
            lo = mid + 1
        else:
            hi = mid
    return lo


@cuda.jit(device=True)
def _table(params, q):
    m = int(params[0])
    q_first = 3
    v_first = 3 + m
    if q >= params[q_first + m - 1]:
        return params[v_first + m - 1]
    j = _count_below(params, q_first, m, q, True)
    if j == 0:
        j = 1
    q0 = params[q_first + j - 1]
    q1 = params[q_first + j]
    v0 = params[v_first + j - 1]
    v1 = params[v_first + j]
    if q1 <= params[1] and v0 > 0.0 and v1 > 0.0 and q > 0.0:
        t = (math.log(q) - math.log(q0)) / (math.log(q1) - math.log(q0))
        return math.exp(math.log(v0) + t * (math.log(v1) - math.log(v0)))
    if q1 == q0:
        return v0
    if q0 >= params[2] and v0 > 0.0 and v1 > 0.0 and q1 < 1.0:
        t = (math.log1p(-q) - math.log1p(-q0)) / (math.log1p(-q1) - math.log1p(-q0))
        return math.exp(math.log(v0) + t * (math.log(v1) - math.log(v0)))
    return v0 + (q - q0) * (v1 - v0) / (q1 - q0)


@cuda.jit(device=True)
def v_of_q(kind, params, q):
    """The value v(q) of the distribution (kind, params): ``distributions.kernels.v_of_q`` on the device."""
    if kind == UNIFORM:
        return params[1] - q * (params[1] - params[0])
    if kind == EXPONENTIAL:
        return -math.log(q) / params[0]
    if kind == LOMAX:
        return params[1] * math.expm1(-math.log(q) / params[0])
    if kind == PARETO:
        return params[1] * math.exp(-math.log(q) / params[0])
    if kind == EQUAL_REVENUE:
        return params[0] if q <= 1.0 / params[0] else 1.0 / q
    if kind == WEIBULL:
        return params[1] * math.pow(-math.log(q), 1.0 / params[0])
    if kind == EXAMPLE42:
        return params[0] if q <= params[1] else math.sqrt(-math.log(q))
    if kind == LOGNORMAL:
        return math.exp(params[0] + params[1] * ndtri_upper(q))
    if kind == TRUNCNORM:
        ua = _ndtr_upper(params[2])
        ub = _ndtr_upper(params[3])
        return params[0] + params[1] * ndtri_upper(ub + q * (ua - ub))
    if kind == TABLE:
        return _table(params, q)
    if kind == DISCRETE:
        k = int(params[0])
        j = _count_below(params, 1, k, q, False)
        if j >= k:
            j = k - 1
        return params[1 + k + j]
    return math.nan


# ---------------------------------------------------------------------- one auction: ports of kernels_profile
@cuda.jit(device=True)
def _insert_top(top, cap, u):
    p = cap - 1
    while p > 0 and top[p - 1] > u:
        top[p] = top[p - 1]
        p -= 1
    top[p] = u
    return top[cap - 1]


@cuda.jit(device=True)
def _cell(bounds, n_bounds, u):
    """Index of the cell (b_{i-1}, b_i] holding u: #{b < u}."""
    if n_bounds <= _LINEAR_CELLS:
        c = 0
        while c < n_bounds and bounds[c] < u:
            c += 1
        return c
    lo = 0
    hi = n_bounds
    while lo < hi:
        mid = (lo + hi) >> 1
        if bounds[mid] < u:
            lo = mid + 1
        else:
            hi = mid
    return lo


@cuda.jit(device=True)
def _take(u, i, m1, m2, worst, top, cap, bounds, n_bounds, cnt, mem_u, mem_i, units, pooled_top, has_pools):
    """Buyer i with quantile u: into the cap smallest (registers m1 <= m2 when cap == 2), and into her cell."""
    if cap == 2:
        m2 = min(m2, max(m1, u))
        m1 = min(m1, u)
    elif u < worst:
        worst = _insert_top(top, cap, u)
    if has_pools and u <= pooled_top:
        c = _cell(bounds, n_bounds, u)
        k = cnt[c]
        if k < units:
            mem_u[c * units + k] = u
            mem_i[c * units + k] = i
        cnt[c] = k + 1
    return m1, m2, worst


@cuda.jit(device=True)
def _scan(n, a, c2, c3, k0, k1, top, cap, bounds, n_bounds, cnt, mem_u, mem_i, units, pooled_top, has_pools):
    """Draw the n quantiles of auction a (Philox counters (j, a, c2, c3), two buyers per block)."""
    for t in range(cap):
        top[t] = 2.0
    for c in range(n_bounds + 1):
        cnt[c] = 0
    m1 = 2.0
    m2 = 2.0
    worst = 2.0
    a32 = np.uint32(a)
    for j in range((n + 1) // 2):
        w0, w1, w2, w3 = philox4x32_10(np.uint32(j), a32, c2, c3, k0, k1)
        i = 2 * j
        m1, m2, worst = _take(open_uniform(w0, w1), i, m1, m2, worst, top, cap, bounds, n_bounds, cnt, mem_u,
                              mem_i, units, pooled_top, has_pools)
        if i + 1 < n:
            m1, m2, worst = _take(open_uniform(w2, w3), i + 1, m1, m2, worst, top, cap, bounds, n_bounds, cnt,
                                  mem_u, mem_i, units, pooled_top, has_pools)
    if cap == 2:
        top[0] = m1
        top[1] = m2


@cuda.jit(device=True)
def _top_value(vtop, top, idx, kind, params):
    v = vtop[idx]
    if v != v:
        v = v_of_q(kind, params, top[idx])
        vtop[idx] = v
    return v


@cuda.jit(device=True)
def _first_members_value(first, last, s, cnt, mem_u, mem_i, ptr, units, kind, params):
    """Sum of the values of the s members of cells first..last met first (smallest buyer index)."""
    total = 0.0
    if first == last:
        for t in range(s):
            total += v_of_q(kind, params, mem_u[first * units + t])
        return total
    for c in range(first, last + 1):
        ptr[c] = 0
    for _ in range(s):
        best = -1
        best_i = -1
        for c in range(first, last + 1):
            k = ptr[c]
            if k < cnt[c] and k < units and (best < 0 or mem_i[c * units + k] < best_i):
                best = c
                best_i = mem_i[c * units + k]
        total += v_of_q(kind, params, mem_u[best * units + ptr[best]])
        ptr[best] += 1
    return total


@cuda.jit(device=True)
def _component_outcome(j, comp_m, comp_r, comp_reserve, comp_pool_start, pool_lo, pool_hi, pool_bid, pool_next,
                       cell_first, cell_last, top, cap, vtop, cnt, mem_u, mem_i, ptr, units, kind, params):
    """(revenue, welfare, units sold) of component rule j (``kernels_profile._component_outcome``)."""
    m = comp_m[j]
    r = comp_r[j]
    p = comp_pool_start[j]
    p_end = comp_pool_start[j + 1]
    filled = 0
    welfare = 0.0
    idx = 0
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
        if filled + c > m:
            s = m - filled
            revenue = s * bid
            if filled > 0:
                revenue += filled * (nxt - (nxt - bid) * (s + 1) / (c + 1))
            if s > 0:
                welfare += _first_members_value(cell_first[p], cell_last[p], s, cnt, mem_u, mem_i, ptr, units,
                                                kind, params)
            return revenue, welfare, float(m)
        c = int(c)  # c <= m - filled here (order-statistic mode counts in floats)
        for t in range(c):
            welfare += _top_value(vtop, top, idx + t, kind, params)
        filled += c
        idx += c
    return filled * comp_reserve[j], welfare, float(filled)


@cuda.jit(device=True)
def _record(row, tile, n_mech, comp_m, comp_r, comp_reserve, comp_pool_start, comp_prob, mech_start, pool_lo,
            pool_hi, pool_bid, pool_next, cell_first, cell_last, top, cap, vtop, cnt, mem_u, mem_i, ptr, units,
            kind, params):
    """Every mechanism on the scanned profile: metrics into tile[row, g * K + k] (g = revenue, surplus,
    welfare, sold); a mixture contributes the probability-weighted outcome of its components."""
    for t in range(cap):
        vtop[t] = math.nan
    for k in range(n_mech):
        rev = 0.0
        wel = 0.0
        sold = 0.0
        for j in range(mech_start[k], mech_start[k + 1]):
            r_j, w_j, s_j = _component_outcome(j, comp_m, comp_r, comp_reserve, comp_pool_start, pool_lo, pool_hi,
                                               pool_bid, pool_next, cell_first, cell_last, top, cap, vtop, cnt,
                                               mem_u, mem_i, ptr, units, kind, params)
            rev += comp_prob[j] * r_j
            wel += comp_prob[j] * w_j
            sold += comp_prob[j] * s_j
        tile[row, k] = rev
        tile[row, n_mech + k] = wel - rev
        tile[row, 2 * n_mech + k] = wel
        tile[row, 3 * n_mech + k] = sold


# ---------------------------------------------------------------------- order-statistic mode: ports of samplers
@cuda.jit(device=True)
def next_uniform(st, buf):
    """The next uniform of an auction's stream: st = (k0, k1, a, c2, c3, d) uint32, d the draws so far; the
    Philox block at counter (d // 2, a, c2, c3) gives draws d and d + 1 (the second waits in buf[0])."""
    d = st[5]
    st[5] = np.uint32(d + np.uint32(1))
    if d & np.uint32(1):
        return buf[0]
    w0, w1, w2, w3 = philox4x32_10(np.uint32(d >> np.uint32(1)), st[2], st[3], st[4], st[0], st[1])
    buf[0] = open_uniform(w2, w3)
    return open_uniform(w0, w1)


@cuda.jit(device=True)
def _floor(x):
    """floor(x) as a float at any size (math.floor would go through int64)."""
    f = x - math.fmod(x, 1.0)
    return f - 1.0 if f > x else f


@cuda.jit(device=True)
def _above(t):
    return t + max(t * 2.220446049250313e-16, 5e-324)


@cuda.jit(device=True)
def min_above(st, buf, t, hi, count):
    """The smallest of ``count`` i.i.d. uniforms on (t, hi] (``samplers.min_above``)."""
    u = t + (hi - t) * -math.expm1(math.log1p(-next_uniform(st, buf)) / count)
    if u <= t:
        u = _above(t)
    return min(u, hi)


@cuda.jit(device=True)
def uniform_in(st, buf, lo, hi):
    u = lo + (hi - lo) * next_uniform(st, buf)
    if u <= lo:
        u = _above(lo)
    return min(u, hi)


_SE_TABLE = np.array([
    0.0, 0.0810614667953272582196702, 0.0413406959554092940938221, 0.02767792568499833914878929,
    0.02079067210376509311152277, 0.01664469118982119216319487, 0.01387612882307074799874573,
    0.01189670994589177009505572, 0.010411265261972096497478567, 0.009255462182712732917728637,
    0.008330563433362871256469318, 0.007573675487951840794972024, 0.006942840107209529865664152,
    0.006408994188004207068439631, 0.005951370112758847735624416, 0.005554733551962801371038690])
_LN_SQRT_2PI = 0.91893853320467274178
_LN_2PI = 1.8378770664093454836
_EXACT_INT = 2.0 ** 53
_SMALL_MEAN = 10.0


@cuda.jit(device=True)
def stirlerr(k):
    if k < 16.0:
        i = int(k)
        if i == k:
            return _SE_TABLE[i]
        return math.lgamma(k + 1.0) - (k + 0.5) * math.log(k) + k - _LN_SQRT_2PI
    k2 = 1.0 / (k * k)
    if k > 500.0:
        return (1.0 / 12.0 - (1.0 / 360.0) * k2) / k
    return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - k2 / 1188.0) * k2) * k2) * k2) / k


@cuda.jit(device=True)
def bd0(big_m, d):
    x = big_m + d
    if x <= 0.0:
        return big_m
    if abs(d) < 0.1 * (x + big_m):
        v = d / (x + big_m)
        s = d * v
        ej = 2.0 * x * v
        v2 = v * v
        for j in range(1, 1000):
            ej *= v2
            s1 = s + ej / (2 * j + 1)
            if s1 == s:
                return s1
            s = s1
        return s
    return x * math.log(x / big_m) - d


@cuda.jit(device=True)
def binomial_logpmf(k, n, p, q):
    if k == 0.0:
        return n * math.log1p(-p) if p < 0.5 else n * math.log(q)
    if k == n:
        return n * math.log(p) if p < 0.5 else n * math.log1p(-q)
    d = k - n * p
    return (stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(n * p, d) - bd0(n * q, -d)
            + 0.5 * (math.log(n / (k * (n - k))) - _LN_2PI))


@cuda.jit(device=True)
def _binv(st, buf, n, p, q):
    s = p / q
    f0 = math.exp(n * math.log1p(-p))
    while True:
        u = next_uniform(st, buf)
        f = f0
        k = 0.0
        ok = True
        while u > f:
            u -= f
            k += 1.0
            if k > 110.0 + 20.0 * n * p or k > n:
                ok = False
                break
            f *= (n - k + 1.0) / k * s
        if ok:
            return k


@cuda.jit(device=True)
def _btrd(st, buf, n, p, q):
    m = _floor((n + 1.0) * p)
    r = p / q
    nr = (n + 1.0) * r
    npq = n * p * q
    spq = math.sqrt(npq)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    alpha = (2.83 + 5.1 / b) * spq
    vr = 0.92 - 4.2 / b
    urvr = 0.86 * vr
    small = n < _EXACT_INT
    log_fm = math.nan
    while True:
        v = next_uniform(st, buf)
        if v <= urvr:
            u = v / vr - 0.43
            return _floor((2.0 * a / (0.5 - abs(u)) + b) * u + c)
        if v >= vr:
            u = next_uniform(st, buf) - 0.5
        else:
            u = v / vr - 0.93
            u = math.copysign(0.5, u) - u
            v = vr * next_uniform(st, buf)
        us = 0.5 - abs(u)
        k = _floor((2.0 * a / us + b) * u + c)
        if k < 0.0 or k > n:
            continue
        v = v * alpha / (a / (us * us) + b)
        km = abs(k - m)
        if km <= 15.0 and small:
            f = 1.0
            if m < k:
                i = m
                while i < k:
                    i += 1.0
                    f *= nr / i - r
            elif m > k:
                i = k
                while i < m:
                    i += 1.0
                    v *= nr / i - r
            if v <= f:
                return k
            continue
        v = math.log(v)
        rho = (km / npq) * (((km / 3.0 + 0.625) * km + 1.0 / 6.0) / npq + 0.5)
        t = -km * km / (2.0 * npq)
        if v < t - rho:
            return k
        if v > t + rho:
            continue
        if log_fm != log_fm:
            log_fm = binomial_logpmf(m, n, p, q)
        if v <= binomial_logpmf(k, n, p, q) - log_fm:
            return k


@cuda.jit(device=True)
def binomial(st, buf, n, p, q):
    """Bin(n, p), q = 1 - p, n a whole float (``samplers.binomial``: BINV below mean 10, BTRD above)."""
    if n <= 0.0 or p <= 0.0:
        return 0.0
    if q <= 0.0:
        return n
    flip = p > q
    if flip:
        p, q = q, p
    if n * p < _SMALL_MEAN:
        k = _binv(st, buf, n, p, q)
    else:
        k = _btrd(st, buf, n, p, q)
    return n - k if flip else k


# ---------------------------------------------------------------------- order-statistic mode: kernels_orderstat
@cuda.jit(device=True)
def _members(st, buf, c, count, listed, first, top, lo, hi, units, mem_u, mem_key, perm, keys):
    """The first min(count, units) members of cell c in a uniformly random order (``kernels_orderstat``)."""
    k = units if count > units else int(count)
    left = count
    in_list = listed
    for i in range(listed):
        perm[i] = first + i
    key = 0.0
    for j in range(k):
        if keys:
            key = min_above(st, buf, key, 1.0, left)
        x = next_uniform(st, buf) * left
        if x < in_list:
            i = int(x)
            mem_u[c * units + j] = top[perm[i]]
            in_list -= 1
            perm[i] = perm[in_list]
        else:
            mem_u[c * units + j] = uniform_in(st, buf, lo, hi)
        mem_key[c * units + j] = key
        left -= 1.0


@cuda.jit(device=True)
def _draw(st, buf, n, top, cap, cnt, n_cells, mem_u, mem_key, bounds, n_bounds, cell_hi, reach, perm, units,
          pooled_top, keys):
    """One market of n buyers (a float): ``kernels_orderstat._draw`` (the top list, the counts of the cells
    that can matter, their first members)."""
    for c in range(n_cells):
        cnt[c] = 0.0
    left = n
    t = 0.0
    found = 0
    need = -1
    nxt = 0
    while left > 0.0:
        if found >= cap:
            if nxt > need:
                break
            hi = cell_hi[nxt]
            count = binomial(st, buf, left, (hi - t) / (1.0 - t), (1.0 - hi) / (1.0 - t))
            _members(st, buf, nxt, count, 0, 0, top, t, hi, units, mem_u, mem_key, perm, keys)
            cnt[nxt] = count
            left -= count
            t = hi
            nxt += 1
            continue
        u = min_above(st, buf, t, 1.0, left)
        c = -1
        if u <= pooled_top:
            c = _cell(bounds, n_bounds, u)
            if reach[c] < 0:
                c = -1
        if c < 0:
            top[found] = u
            found += 1
            left -= 1.0
            t = u
            nxt = n_cells
            continue
        hi = cell_hi[c]
        rest = binomial(st, buf, left - 1.0, (hi - u) / (1.0 - u), (1.0 - hi) / (1.0 - u))
        count = rest + 1.0
        top[found] = u
        listed = 1
        last = u
        while found + listed < cap and rest > 0.0:
            last = min_above(st, buf, last, hi, rest)
            top[found + listed] = last
            listed += 1
            rest -= 1.0
        _members(st, buf, c, count, listed, found, top, last, hi, units, mem_u, mem_key, perm, keys)
        cnt[c] = count
        found += listed
        left -= count
        t = hi
        nxt = c + 1
        if reach[c] > need:
            need = reach[c]


# ---------------------------------------------------------------------- kernels
@cuda.jit(device=True)
def _fold_tile(tile, tmu, nv, count, t, tpb, n_mech, b, x, part_mean, part_com):
    """Fold the tile's nv rows of metrics into the block's running summary part_*[b, x] (two passes over the
    tile, then Chan et al.; lower triangles); returns the new count. Every thread of the block calls it."""
    nm = 4 * n_mech
    kk = n_mech * n_mech
    for e in range(t, nm, tpb):
        acc = 0.0
        for row in range(nv):
            acc += tile[row, e]
        tmu[e] = acc / nv
    cuda.syncthreads()
    total = count + nv
    w = count * nv / total
    for e in range(t, nm * n_mech, tpb):
        g = e // kk
        rest = e - g * kk
        a1 = rest // n_mech
        a2 = rest - a1 * n_mech
        if a2 <= a1:
            i1 = g * n_mech + a1
            i2 = g * n_mech + a2
            acc = 0.0
            for row in range(nv):
                acc += (tile[row, i1] - tmu[i1]) * (tile[row, i2] - tmu[i2])
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


@functools.lru_cache(maxsize=None)
def profile_kernels(n_mech: int, units: int, cap: int, n_cells: int, tpb: int):
    """(auctions, merge) kernels of profile mode for K = n_mech mechanisms, M = units, cap = min(M + 1, n),
    ``n_cells`` cells of the pool partition (1 without pools) and ``tpb`` threads per block.

    ``auctions[(X, B), tpb](keys, sizes, <13 rule arrays>, n_bounds, pooled_top, has_pools, kind, params, n,
    part_count, part_mean, part_com)``: block (x, b) runs auctions x*tpb + t, (x + X)*tpb + t, ... of chunk b
    and leaves its count, means (4K) and co-moments (4K * K, lower triangles) in part_*[b, x].
    ``merge[B, threads](part_count, part_mean, part_com, out_mean, out_com)``: chunk b's summary, its blocks
    merged in order, into out_mean[b] (4, K) and out_com[b] (4, K, K)."""
    NM = 4 * n_mech
    TPB = tpb
    CAP = cap
    CELLS = n_cells
    MEM = max(1, n_cells * units)

    @cuda.jit
    def auctions(keys, sizes, comp_m, comp_r, comp_reserve, comp_pool_start, comp_prob, mech_start, pool_lo,
                 pool_hi, pool_bid, pool_next, cell_first, cell_last, bounds, n_bounds, pooled_top, has_pools, kind,
                 params, n, part_count, part_mean, part_com):
        tile = cuda.shared.array((TPB, NM), float64)
        tmu = cuda.shared.array(NM, float64)
        top = cuda.local.array(CAP, float64)
        vtop = cuda.local.array(CAP, float64)
        cnt = cuda.local.array(CELLS, int64)
        ptr = cuda.local.array(CELLS, int64)
        mem_u = cuda.local.array(MEM, float64)
        mem_i = cuda.local.array(MEM, int64)
        t = cuda.threadIdx.x
        x = cuda.blockIdx.x
        b = cuda.blockIdx.y
        size = sizes[b]
        k0 = keys[b, 0]
        k1 = keys[b, 1]
        c2 = keys[b, 2]
        c3 = keys[b, 3]
        _clear_block(t, TPB, n_mech, b, x, part_mean, part_com)
        count = 0.0
        start = x * TPB
        while start < size:  # the same trip count for every thread of the block: syncthreads is safe
            nv = min(TPB, size - start)
            if t < nv:
                _scan(n, start + t, c2, c3, k0, k1, top, CAP, bounds, n_bounds, cnt, mem_u, mem_i, units,
                      pooled_top, has_pools)
                _record(t, tile, n_mech, comp_m, comp_r, comp_reserve, comp_pool_start, comp_prob, mech_start,
                        pool_lo, pool_hi, pool_bid, pool_next, cell_first, cell_last, top, CAP, vtop, cnt, mem_u,
                        mem_i, ptr, units, kind, params)
            cuda.syncthreads()
            count = _fold_tile(tile, tmu, nv, count, t, TPB, n_mech, b, x, part_mean, part_com)
            start += cuda.gridDim.x * TPB
        if t == 0:
            part_count[b, x] = count

    return auctions, _merge_kernel(n_mech)


@functools.lru_cache(maxsize=None)
def orderstat_kernels(n_mech: int, units: int, cap: int, n_cells: int, tpb: int):
    """(auctions, merge) kernels of order-statistic mode (``kernels_orderstat``): as ``profile_kernels``, with
    ``auctions`` taking, after ``has_pools``, the cells' upper edges ``cell_hi`` and ``reach`` (from
    ``kernels_orderstat._scratch``) and ``member_keys`` (whether a pool spans several cells); n is a float."""
    NM = 4 * n_mech
    TPB = tpb
    CAP = cap
    CELLS = n_cells
    MEM = max(1, n_cells * units)

    @cuda.jit
    def auctions(keys, sizes, comp_m, comp_r, comp_reserve, comp_pool_start, comp_prob, mech_start, pool_lo,
                 pool_hi, pool_bid, pool_next, cell_first, cell_last, bounds, n_bounds, pooled_top, has_pools,
                 cell_hi, reach, member_keys, kind, params, n, part_count, part_mean, part_com):
        tile = cuda.shared.array((TPB, NM), float64)
        tmu = cuda.shared.array(NM, float64)
        top = cuda.local.array(CAP, float64)
        vtop = cuda.local.array(CAP, float64)
        perm = cuda.local.array(CAP, int64)
        cnt = cuda.local.array(CELLS, float64)
        ptr = cuda.local.array(CELLS, int64)
        mem_u = cuda.local.array(MEM, float64)
        mem_key = cuda.local.array(MEM, float64)
        st = cuda.local.array(6, uint32)
        buf = cuda.local.array(1, float64)
        t = cuda.threadIdx.x
        x = cuda.blockIdx.x
        b = cuda.blockIdx.y
        size = sizes[b]
        st[0] = keys[b, 0]
        st[1] = keys[b, 1]
        st[3] = keys[b, 2]
        st[4] = keys[b, 3]
        _clear_block(t, TPB, n_mech, b, x, part_mean, part_com)
        count = 0.0
        start = x * TPB
        while start < size:
            nv = min(TPB, size - start)
            if t < nv:
                st[2] = np.uint32(start + t)
                st[5] = np.uint32(0)
                _draw(st, buf, n, top, CAP, cnt, CELLS, mem_u, mem_key, bounds, n_bounds, cell_hi, reach, perm,
                      units, pooled_top, member_keys)
                _record(t, tile, n_mech, comp_m, comp_r, comp_reserve, comp_pool_start, comp_prob, mech_start,
                        pool_lo, pool_hi, pool_bid, pool_next, cell_first, cell_last, top, CAP, vtop, cnt, mem_u,
                        mem_key, ptr, units, kind, params)
            cuda.syncthreads()
            count = _fold_tile(tile, tmu, nv, count, t, TPB, n_mech, b, x, part_mean, part_com)
            start += cuda.gridDim.x * TPB
        if t == 0:
            part_count[b, x] = count

    return auctions, _merge_kernel(n_mech)


@functools.lru_cache(maxsize=None)
def _merge_kernel(n_mech: int):
    NE = 4 * n_mech * n_mech
    KK = n_mech * n_mech

    @cuda.jit
    def merge(part_count, part_mean, part_com, out_mean, out_com):
        b = cuda.blockIdx.x
        n_blocks = part_count.shape[1]
        for e in range(cuda.threadIdx.x, NE, cuda.blockDim.x):
            g = e // KK
            rest = e - g * KK
            a1 = rest // n_mech
            a2 = rest - a1 * n_mech
            if a2 <= a1:
                i1 = g * n_mech + a1
                i2 = g * n_mech + a2
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
        out[i] = v_of_q(kind, params, q[i])
