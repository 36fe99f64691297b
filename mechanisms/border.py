"""Border's bound X̂ and the second-price interim allocation X̂' for n i.i.d. buyers and m units (Section 3.4).

A symmetric interim allocation x(q) is feasible iff x is non-increasing and X(q) = int_0^q x <= X̂(q) for all q
(Border, 1991). With one unit X̂(q) = (1 - (1-q)^n) / n; with m units X̂(q) = E[min(Bin(n, q), m)] / n, the
expected number of the top-m slots taken by quantiles in [0, q], per buyer. The allocation that meets the
bound everywhere is the (m+1)-th price auction:

    X̂'(q) = P[Bin(n-1, q) <= m-1] = P[Q > q],   Q ~ Beta(m, n-m) (the m-th smallest of n-1 uniforms),

so -X̂''(q) is the Beta(m, n-m) density (``log_order_density``), the weight of every integration by parts in
``mechanisms.exact``. Everything is written with log1p / expm1 / regularised incomplete beta functions so that
n may be as large as 1e30 (markets act at q ~ m/n). The binomial tails are sums of positive terms in log
space (exact to ~1e-15 for any n; checked against mpmath): scipy's incomplete beta and betaln lose up to ~1e-8
relative accuracy around n ~ 1e6..1e9, so they serve only beyond ``MAX_TERMS`` units.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special
from distributions.errors import InputError

_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)


def check_market(n, m: int = 1) -> tuple[float, int]:
    """Validate the market size n (a whole number >= 1, up to 1e30 and beyond) and the units m (1 <= m <= n)."""
    try:
        n = float(n)
    except (TypeError, ValueError):
        raise InputError("n", f"number of buyers must be a whole number >= 1, got {n!r}") from None
    if not (math.isfinite(n) and n >= 1) or (n < 2 ** 53 and n != math.floor(n)):
        raise InputError("n", f"number of buyers must be a whole number >= 1, got {n!r}")
    if isinstance(m, bool) or not float(m).is_integer() or m < 1:
        raise InputError("m", f"number of units must be a whole number >= 1, got {m!r}")
    m = int(m)
    if m > n:
        raise InputError("m", f"number of units must be at most n = {n:g}, got {m}")
    return n, m


#: up to this many units the binomial tails are summed term by term (scipy's incomplete beta loses up to ~1e-8
#: relative accuracy for b ~ 1e6..1e9); above it scipy's betainc is used
MAX_TERMS = 4096


def _binom_sum(N: float, q, k_from: int, k_to: int):
    """sum_{k=k_from}^{k_to} P[Bin(N, q) = k] for q in [0, 1), vectorised; the terms in log space as
    N log1p(-q) + k log(N q / (1-q)) - log k! + sum_{j<k} log1p(-j/N) (no cancellation for N up to 1e30)."""
    q = np.asarray(q, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = N * np.log1p(-q)
        lz = np.log(N * q) - np.log1p(-q)
    total = np.zeros(q.shape)
    log_c = 0.0  # log C(N, k) - k log N
    for k in range(0, k_to + 1):
        if k > 0:
            log_c += math.log1p(-(k - 1) / N) - math.log(k)
        if k >= k_from:
            with np.errstate(invalid="ignore", over="ignore"):
                term = np.exp(base + log_c + k * lz) if k > 0 else np.exp(base)
            total = total + np.where(q > 0, term, 1.0 if k == 0 else 0.0)
    return np.where(q >= 1.0, 0.0, total)


def _binom_lower(k: int, N: float, q):
    """P[Bin(N, q) <= k] (k < N)."""
    if k + 1 > MAX_TERMS:
        return special.betaincc(k + 1, N - k, np.asarray(q, dtype=float))
    return np.minimum(_binom_sum(N, q, 0, k), 1.0)


def _binom_upper(k: int, N: float, q):
    """P[Bin(N, q) >= k] (k <= N): summed from k up where the mean N q is below k, else 1 - lower tail."""
    q = np.asarray(q, dtype=float)
    if k > MAX_TERMS:
        return special.betainc(k, N - k + 1, q)
    extra = int(60 + 12 * math.sqrt(k))
    direct = _binom_sum(N, q, k, int(min(k + extra, N)))
    return np.where(N * q < k, direct, 1.0 - _binom_lower(k - 1, N, q))


def X_hat_prime(q, n: float, m: int = 1):
    """Second-price / VCG interim allocation X̂'(q) = P[Bin(n-1, q) <= m-1] (Border's bound is tight)."""
    q = np.asarray(q, dtype=float)
    if m >= n:
        return np.ones(q.shape)
    if m == 1:
        with np.errstate(divide="ignore"):
            return np.exp((n - 1.0) * np.log1p(-q))
    return _binom_lower(m - 1, n - 1.0, q)


def X_hat(q, n: float, m: int = 1):
    """Border's bound X̂(q) = int_0^q X̂' = E[min(Q, q)], Q ~ Beta(m, n-m); = (1 - (1-q)^n)/n for m = 1.
    With m units: X̂(q) = q P[Bin(n-1, q) <= m-1] + (m/n) P[Bin(n, q) >= m+1] = E[min(Bin(n, q), m)] / n."""
    q = np.asarray(q, dtype=float)
    if m >= n:
        return q.copy()
    if m == 1:
        with np.errstate(divide="ignore"):
            return -np.expm1(n * np.log1p(-q)) / n
    return q * _binom_lower(m - 1, n - 1.0, q) + (m / n) * _binom_upper(m + 1, n, q)


def log_order_density(q, n: float, m: int = 1):
    """log of -X̂''(q): the Beta(m, n-m) density of the m-th smallest of n-1 uniform quantiles (m < n),
    log[Γ(n) / (Γ(m) Γ(n-m))] written as m log(n-1) + sum_{j<m} log1p(-j/(n-1)) - log Γ(m) (scipy's betaln
    is off by up to ~1e-9 for n ~ 1e6)."""
    q = np.asarray(q, dtype=float)
    if m <= MAX_TERMS:
        norm = math.fsum(math.log1p(-j / (n - 1.0)) for j in range(m)) - math.lgamma(m)
    else:
        norm = -special.betaln(m, n - m) - m * math.log(n - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lead = (m - 1) * np.log((n - 1.0) * q) + math.log(n - 1.0) if m > 1 else math.log(n - 1.0)
        tail = (n - m - 1.0) * np.log1p(-q) if n - m - 1.0 != 0 else 0.0
    return lead + tail + norm


def pool_allocation(lo: float, hi: float, n: float, m: int = 1) -> float:
    """Interim allocation of a pool (lo, hi] (ironed interval, atom, gap of a bid space): the average of X̂'
    over it, (X̂(hi) - X̂(lo)) / (hi - lo), computed without cancellation."""
    lo, hi = float(lo), float(hi)
    if not hi > lo:
        raise InputError("pool", f"need lo < hi, got ({lo}, {hi}]")
    if m >= n:
        return 1.0
    width = hi - lo
    if m == 1:
        # (1-lo)^n (1 - ((1-hi)/(1-lo))^n) / (n (hi-lo)), the ratio through log1p of the exact width
        head = math.exp(n * math.log1p(-lo))
        frac = width / (1.0 - lo)
        tail = 1.0 if frac >= 1.0 else -math.expm1(n * math.log1p(-frac))
        return head * tail / (n * width)
    if width > 1e-3 * hi:
        return float(X_hat(hi, n, m) - X_hat(lo, n, m)) / width
    t = 0.5 * (lo + hi) + 0.5 * width * _GL_X  # narrow pool: Gauss-Legendre average of X̂'
    return float(0.5 * np.dot(_GL_W, X_hat_prime(t, n, m)))


def units_sold(r: float, n: float, m: int = 1) -> float:
    """Expected number of units sold when every quantile <= r is served in order: n X̂(r) = E[min(Bin(n, r), m)]."""
    if m == 1 and m < n:
        return float(-math.expm1(n * math.log1p(-r))) if r < 1 else 1.0
    return float(n * X_hat(r, n, m))


def mass_range(n: float, m: int = 1, eps_log: float = 46.0) -> tuple[float, float]:
    """Quantiles outside which the Beta(m, n-m) weight carries relative mass below ~exp(-eps_log) (~1e-20):
    P[Q < lo] ~ (n lo)^m / m!, P[Q > hi] ~ e^{-n hi} (n hi)^(m-1) / (m-1)! (with a margin for ln n, since the
    curves integrated against it grow at most like 1/q relative to their value at q ~ m/n)."""
    lo = math.exp((-eps_log + special.gammaln(m + 1.0)) / m) / n
    target = eps_log + math.log(n)
    lam = target + m + 10.0 * math.sqrt(m)
    for _ in range(50):
        lam = target + (m - 1) * math.log(lam) - special.gammaln(m)
        lam = max(lam, m + 10.0 * math.sqrt(m))
    hi = min(1.0, 1.05 * lam / max(n - 1.0, 1.0))
    return max(lo, 1e-300), hi
