"""Random variates for the order-statistic kernels, drawn from the chunk's random stream (``rng.py``).

Why our own samplers: numba's ``np.random`` keeps one hidden state per thread, so its draws would depend on which
thread runs which chunk unless it were reseeded at every chunk start -- and even then the CPU and a GPU backend
could not share the code. Drawing everything from the stream ``st`` (advanced in place) keeps "chunk i is a pure
function of (seed, i)" for every mode and backend, and costs ~1 ns per uniform. ``st`` is a chunk's xoshiro256+
state on the CPU, an auction's Philox stream on a GPU (``rng.next_uniform``); the CUDA kernels call these very
functions (numba's CUDA target compiles a called ``njit`` function for the GPU), so they allocate nothing.

* ``next_uniform(st)``: a uniform in the open interval (0, 1) (``rng.next_uniform``).
* ``min_above(st, t, hi, count)``: the smallest of ``count`` i.i.d. uniforms on (t, hi]:
  t + (hi - t) (1 - (1 - U)^(1/count)) = t + (hi - t) (-expm1(log1p(-U) / count)); ``count`` is a float, exact
  for any size (1e30 included).
* ``binomial(st, n, p, q)``: Bin(n, p), q = 1 - p given separately (both are differences of quantiles, so each is
  accurate on its own), n a float. p >= 1 gives n exactly, p <= 0 gives 0.

  - mean min(np, nq) < 10: inversion (BINV, Kachitvichyanukul & Schmeiser 1988), expected O(np) steps;
  - otherwise BTRD (Hörmann 1993, "The generation of binomial random variates": transformed rejection with a
    squeeze; ~1.2 uniforms per draw), whose final acceptance test is evaluated with Loader's (2000) saddle-point
    form of the log-pmf, log f(k) = stirlerr(n) - stirlerr(k) - stirlerr(n-k) - bd0(k, np) - bd0(n-k, nq)
    + log sqrt(n / (2 pi k (n-k))), with bd0(x, M) = x log(x/M) + M - x computed from the deviation d = x - M
    (passed exactly, never as a difference of two huge numbers). Hörmann's own test,
    (n+1) log(nm/nk) + ..., loses all digits once n p exceeds ~1e12; this form stays accurate to ~1e-14 (absolute,
    in the log) for any n, so the test errs only when the uniform lands within ~1e-14 of the boundary.

  Exactness: for n < 2^53 (every count an exactly representable integer) the draw is exact in distribution up
  to that ~1e-14 rounding of the acceptance test. Beyond 2^53 no binomial count can be represented exactly: the
  counts live on the float64 grid (spacing ulp(n p) = 2^-52 n p relative), so the sampler returns Bin(n, p)
  coarsened to that grid -- its Wasserstein-1 distance to the exact law is at most ~2 ulp(n p), a relative error
  of 4.4e-16 in the count. No normal or Poisson approximation is used anywhere (none is needed: BTRD is O(1) in
  n, and both its squeeze and its final test are written to hold at any n). What this rounding does to the
  auction outcomes is bounded in ``kernels_orderstat``.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from . import jitcache, rng
from .rng import next_uniform

jitcache.register(__file__, [rng])

#: largest float64 below which every integer is exact: counts are exact integers below it
EXACT_INT = 2.0 ** 53
#: BINV below this mean (of the smaller tail), BTRD above (Hörmann's algorithm needs n p >= 10)
SMALL_MEAN = 10.0
_LN_SQRT_2PI = 0.91893853320467274178
_LN_2PI = 1.8378770664093454836
#: Loader's stirlerr(k) for k = 0..15 (log k! - log(sqrt(2 pi k) (k/e)^k); k = 0 unused)
_SE_TABLE = np.array([
    0.0, 0.0810614667953272582196702, 0.0413406959554092940938221, 0.02767792568499833914878929,
    0.02079067210376509311152277, 0.01664469118982119216319487, 0.01387612882307074799874573,
    0.01189670994589177009505572, 0.010411265261972096497478567, 0.009255462182712732917728637,
    0.008330563433362871256469318, 0.007573675487951840794972024, 0.006942840107209529865664152,
    0.006408994188004207068439631, 0.005951370112758847735624416, 0.005554733551962801371038690])


@numba.njit(cache=True, inline="always")
def above(t):
    """The smallest float above t >= 0 (a draw that rounds onto its lower bound t is moved just above it)."""
    return t + max(t * 2.220446049250313e-16, 5e-324)


@numba.njit(cache=True, inline="always")
def min_above(st, t, hi, count):
    """The smallest of ``count`` (a float >= 1) i.i.d. uniforms on (t, hi]."""
    u = t + (hi - t) * -math.expm1(math.log1p(-next_uniform(st)) / count)
    if u <= t:
        u = above(t)
    return min(u, hi)


@numba.njit(cache=True, inline="always")
def uniform_in(st, lo, hi):
    """A uniform on (lo, hi]."""
    u = lo + (hi - lo) * next_uniform(st)
    if u <= lo:
        u = above(lo)
    return min(u, hi)


# ---------------------------------------------------------------------- binomial
@numba.njit(cache=True, inline="always")
def floor(x):
    """floor(x) as a float at any size: x - (x mod 1), Python's mod (exact; in [0, 1) for negative x too).
    ``math.floor`` goes through int64 (n reaches 1e30) and numba's CUDA target has no ``np.floor``."""
    return x - x % 1.0


@numba.njit(cache=True)
def stirlerr(k):
    """log k! - log(sqrt(2 pi k) (k/e)^k) for k >= 1 (Loader 2000): a table below 16, the series above."""
    if k < 16.0:
        i = int(k)
        if i == k:
            return _SE_TABLE[i]
        return math.lgamma(k + 1.0) - (k + 0.5) * math.log(k) + k - _LN_SQRT_2PI
    k2 = 1.0 / (k * k)
    if k > 500.0:
        return (1.0 / 12.0 - (1.0 / 360.0) * k2) / k
    return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - k2 / 1188.0) * k2) * k2) * k2) / k


@numba.njit(cache=True)
def bd0(big_m, d):
    """x log(x/M) + M - x at x = M + d (M > 0, x >= 0), accurate for any size of M: the deviation d is given
    exactly, and near x = M the series 2 x sum_j v^(2j+1)/(2j+1), v = d/(x+M), replaces the cancelling sum."""
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


@numba.njit(cache=True)
def binomial_logpmf(k, n, p, q):
    """log Pr[Bin(n, p) = k] (q = 1 - p), accurate to ~1e-14 absolute for any n (Loader's saddle-point form)."""
    if k == 0.0:
        return n * math.log1p(-p) if p < 0.5 else n * math.log(q)
    if k == n:
        return n * math.log(p) if p < 0.5 else n * math.log1p(-q)
    d = k - n * p
    return (stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(n * p, d) - bd0(n * q, -d)
            + 0.5 * (math.log(n / (k * (n - k))) - _LN_2PI))


@numba.njit(cache=True)
def _binv(st, n, p, q):
    """Bin(n, p) by sequential inversion (n p < SMALL_MEAN, p <= 1/2)."""
    s = p / q
    f0 = math.exp(n * math.log1p(-p))
    while True:
        u = next_uniform(st)
        f = f0
        k = 0.0
        ok = True
        while u > f:
            u -= f
            k += 1.0
            if k > 110.0 + 20.0 * n * p or k > n:  # past every mass the rounding of u can reach: redraw
                ok = False
                break
            f *= (n - k + 1.0) / k * s
        if ok:
            return k


@numba.njit(cache=True)
def _btrd(st, n, p, q):
    """Bin(n, p) by Hörmann's BTRD (n p >= SMALL_MEAN, p <= 1/2); final test in Loader's form (module doc)."""
    m = floor((n + 1.0) * p)
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
    small = n < EXACT_INT
    log_fm = math.nan
    while True:
        v = next_uniform(st)
        if v <= urvr:  # 1: the inner region of the hat, accepted at once
            u = v / vr - 0.43
            return floor((2.0 * a / (0.5 - abs(u)) + b) * u + c)
        if v >= vr:  # 2
            u = next_uniform(st) - 0.5
        else:
            u = v / vr - 0.93
            u = math.copysign(0.5, u) - u
            v = vr * next_uniform(st)
        us = 0.5 - abs(u)  # 3.0
        k = floor((2.0 * a / us + b) * u + c)
        if k < 0.0 or k > n:
            continue
        v = v * alpha / (a / (us * us) + b)
        km = abs(k - m)
        if km <= 15.0 and small:  # 3.1: f(k)/f(m) by the recursion f(i)/f(i-1) = (n+1-i) p / (i q)
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
        v = math.log(v)  # 3.2: squeeze around the normal log-density
        rho = (km / npq) * (((km / 3.0 + 0.625) * km + 1.0 / 6.0) / npq + 0.5)
        t = -km * km / (2.0 * npq)
        if v < t - rho:
            return k
        if v > t + rho:
            continue
        if log_fm != log_fm:  # 3.3-3.4: the exact test, log f(k) - log f(m)
            log_fm = binomial_logpmf(m, n, p, q)
        if v <= binomial_logpmf(k, n, p, q) - log_fm:
            return k


@numba.njit(cache=True)
def binomial(st, n, p, q):
    """Bin(n, p) with q = 1 - p (module doc); n a whole float >= 0 (any size), returned as a float."""
    if n <= 0.0 or p <= 0.0:
        return 0.0
    if q <= 0.0:
        return n
    flip = p > q
    if flip:
        p, q = q, p
    k = _binv(st, n, p, q) if n * p < SMALL_MEAN else _btrd(st, n, p, q)
    return n - k if flip else k


@numba.njit(cache=True)
def binomial_array(state, n, p, size):
    """``size`` draws of Bin(n, p) from the stream ``state`` (advanced in place): for tests."""
    out = np.empty(size)
    for i in range(size):
        out[i] = binomial(state, n, p, 1.0 - p)
    return out


@numba.njit(cache=True)
def logpmf_array(k, n, p):
    """binomial_logpmf over an array of k (for tests)."""
    out = np.empty(k.shape[0])
    for i in range(k.shape[0]):
        out[i] = binomial_logpmf(k[i], n, p, 1.0 - p)
    return out
