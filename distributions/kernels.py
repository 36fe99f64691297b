"""Value functions v(q) in numba nopython mode, for the simulator's kernels.

One dispatch function ``v_of_q(kind, params, q)`` serves every distribution: a kernel compiles once for all of
them (and caches), and takes a distribution as the pair ``Distribution.numba_spec() -> (kind, params)``.
Kernels rank buyers by their uniform draw U (= quantile) and call ``v_of_q`` only for the few draws the outcome
depends on, so an inverse-CDF that costs a special function is affordable.
"""
from __future__ import annotations

import math

import numba
import numpy as np

UNIFORM, EXPONENTIAL, LOMAX, PARETO, EQUAL_REVENUE, WEIBULL, EXAMPLE42, LOGNORMAL, TRUNCNORM, TABLE, \
    DISCRETE = range(11)



@numba.njit(cache=True)
def _ndtr_upper(x):
    """Pr[Z >= x] for a standard normal Z, accurate in the upper tail."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


@numba.njit(cache=True)
def ndtri_upper(q):
    """x with Pr[Z >= x] = q (standard normal), full double precision for q down to 1e-300.

    Abramowitz-Stegun 26.2.23 as the start, then Newton steps on ln Pr[Z >= x] - ln q."""
    if q > 0.5:
        return -ndtri_upper(1.0 - q)
    if q == 0.5:
        return 0.0
    if q <= 0.0:
        return math.inf
    t = math.sqrt(-2.0 * math.log(q))
    x = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1.0 + 1.432788 * t + 0.189269 * t * t
                                                            + 0.001308 * t * t * t)
    lq = math.log(q)
    for _ in range(50):
        tail = _ndtr_upper(x)
        dens = math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        step = (math.log(tail) - lq) * tail / dens
        x += step
        if abs(step) <= 1e-15 * max(abs(x), 1.0):
            break
    return x


@numba.njit(cache=True)
def _table(params, q):
    # params = [m, q_lo, q_hi, q_0..q_{m-1}, v_0..v_{m-1}] with q increasing; linear in (log q, log v) below
    # q_lo (power-law tails), in (log(1-q), log v) above q_hi (v ~ c (1-q)^k), linear in q between.
    m = int(params[0])
    qs = params[3:3 + m]
    vs = params[3 + m:3 + 2 * m]
    if q >= qs[m - 1]:
        return vs[m - 1]
    j = np.searchsorted(qs, q, side="right")  # qs[j-1] <= q < qs[j]
    if j == 0:
        j = 1
    q0, q1, v0, v1 = qs[j - 1], qs[j], vs[j - 1], vs[j]
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


@numba.njit(cache=True)
def v_of_q(kind, params, q):
    """The value v(q) of the distribution described by (kind, params); q in (0, 1]."""
    if kind == UNIFORM:  # low, high
        return params[1] - q * (params[1] - params[0])
    if kind == EXPONENTIAL:  # rate
        return -math.log(q) / params[0]
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
        cum = params[1:1 + k]
        j = np.searchsorted(cum, q, side="left")
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


def pack(kind: int, *params: float) -> tuple[int, np.ndarray]:
    return kind, np.ascontiguousarray(np.array(params, dtype=np.float64))
