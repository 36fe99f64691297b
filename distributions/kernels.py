"""Value functions v(q) in numba nopython mode, for the simulator's kernels, on the CPU and on a GPU.

One dispatch function ``v_of_q(kind, params, q)`` serves every distribution: a kernel compiles once for all of
them (and caches), and takes a distribution as the pair ``Distribution.numba_spec() -> (kind, params)``.
Kernels rank buyers by their uniform draw U (= quantile) and call ``v_of_q`` only for the few draws the outcome
depends on, so an inverse-CDF that costs a special function is affordable.

Portable: numba's CUDA target compiles a ``numba.njit`` function called from a kernel for the GPU (from its
Python source), so the CUDA kernels (``simulator/cuda_kernels``) call these very functions. They therefore use
only scalar math and array indexing (no allocation, no recursion, no ``np.searchsorted``): one copy of every
value function for the CPU and the GPU.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from .kinds import (DISCRETE, EQUAL_REVENUE, EXAMPLE42, EXPONENTIAL, LOGNORMAL, LOMAX, PARETO, TABLE,  # noqa: F401
                    TRUNCNORM, UNIFORM, WEIBULL, pack)

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


@numba.njit(cache=True)
def _ndtr_upper(x):
    """Pr[Z >= x] for a standard normal Z, accurate in the upper tail."""
    return 0.5 * math.erfc(x / _SQRT2)


@numba.njit(cache=True)
def ndtri_upper(q):
    """x with Pr[Z >= x] = q (standard normal), full double precision for q down to 1e-300.

    Abramowitz-Stegun 26.2.23 as the start, then Newton steps on ln Pr[Z >= x] - ln q (for q > 1/2 on 1 - q,
    by symmetry)."""
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


@numba.njit(cache=True)
def count_below(a, first, count, x, inclusive):
    """#{i < count : a[first + i] <= x} (inclusive) or < x, for a[first:first + count] sorted increasing:
    ``np.searchsorted(a[first:first + count], x, side="right" / "left")``."""
    lo = 0
    hi = count
    while lo < hi:
        mid = (lo + hi) >> 1
        y = a[first + mid]
        if y < x or (inclusive and y == x):
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True)
def _table(params, q):
    """params = [m, q_lo, q_hi, q_0..q_{m-1}, v_0..v_{m-1}] with q increasing: linear in (log q, log v) below
    q_lo (power-law tails), in (log(1-q), log v) above q_hi (v ~ c (1-q)^k), linear in q between."""
    m = int(params[0])
    q_first = 3
    v_first = 3 + m
    if q >= params[q_first + m - 1]:
        return params[v_first + m - 1]
    j = count_below(params, q_first, m, q, True)  # q_{j-1} <= q < q_j
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
        # near the bottom of the support v ~ c (1-q)^k: linear in (log(1-q), log v)
        t = (math.log1p(-q) - math.log1p(-q0)) / (math.log1p(-q1) - math.log1p(-q0))
        return math.exp(math.log(v0) + t * (math.log(v1) - math.log(v0)))
    return v0 + (q - q0) * (v1 - v0) / (q1 - q0)


@numba.njit(cache=True, inline="always")
def v_of_q(kind, params, q):
    """The value v(q) of the distribution described by (kind, params); q in (0, 1]. The two commonest kinds are
    inlined into the caller (a kernel calls v(q) a few times per auction: the call and the dispatch cost as much
    as -log q); every other kind goes through ``v_of_q_other``."""
    if kind == UNIFORM:  # low, high
        return params[1] - q * (params[1] - params[0])
    if kind == EXPONENTIAL:  # rate
        return -math.log(q) / params[0]
    return v_of_q_other(kind, params, q)


@numba.njit(cache=True)
def v_of_q_other(kind, params, q):
    """v(q) for the kinds other than uniform and exponential (``v_of_q``)."""
    if kind == LOMAX:  # shape, scale
        return params[1] * math.expm1(-math.log(q) / params[0])
    if kind == PARETO:  # shape, scale
        return params[1] * math.exp(-math.log(q) / params[0])
    if kind == EQUAL_REVENUE:  # high
        return params[0] if q <= 1.0 / params[0] else 1.0 / q
    if kind == WEIBULL:  # shape, scale
        return params[1] * math.pow(-math.log(q), 1.0 / params[0])
    if kind == EXAMPLE42:  # K, atom mass
        return params[0] if q <= params[1] else math.sqrt(-math.log(q))
    if kind == LOGNORMAL:  # mu, sigma
        return math.exp(params[0] + params[1] * ndtri_upper(q))
    if kind == TRUNCNORM:  # mean, sd, a, b (standardised bounds)
        ua = _ndtr_upper(params[2])
        ub = _ndtr_upper(params[3])
        return params[0] + params[1] * ndtri_upper(ub + q * (ua - ub))
    if kind == TABLE:
        return _table(params, q)
    if kind == DISCRETE:  # k, cumulative masses from the top (k), values highest first (k)
        k = int(params[0])
        j = count_below(params, 1, k, q, False)
        if j >= k:
            j = k - 1
        return params[1 + k + j]
    return math.nan


@numba.njit(cache=True)
def v_array(kind, params, q):
    """v_of_q over an array (used to check the kernel against the numpy value function)."""
    out = np.empty(q.shape[0])
    for i in range(q.shape[0]):
        out[i] = v_of_q(kind, params, q[i])
    return out
