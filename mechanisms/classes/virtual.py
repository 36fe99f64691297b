"""The Lagrangian score a v(q) + b ψ(q) of one class in quantile space, evaluated without overflow.

ψ(q) = R'(q) = v(q) - q / f(v(q)) (paper Definition 2.2 in quantile space: 1 - F(v(q)) = q). Write h(q) =
q / f(v(q)) = -q v'(q) = -dv/d(ln q); the score of the curve C = a V + b R is C'(q) = (a + b) v(q) - b h(q).

* Pareto I and Lomax (v = s (q^{-1/α} - shift), paper Figure 1): h = (s/α) q^{-1/α}, so
  C' = s [(a + b (1 - 1/α)) q^{-1/α} - (a + b) shift] in closed form (Pareto: ψ = (1 - 1/α) s q^{-1/α}). The
  generic form fails there: f(v(q)) = α s^α v^{-α-1} underflows to 0 for q below ~1e-185 (α = 1.5) and
  q / f becomes inf, ψ = -inf.
* Any other distribution: q / f(v(q)) where the density is a normal double (>= ``PDF_FLOOR``); where it
  underflows (a heavy tail deep in the quantiles) h = -dv/d(ln q) by a Richardson-extrapolated central
  difference in ln q (truncation ~δ^4, rounding ~1e-16 / δ: ~1e-12 relative). Where v(q) itself is +inf the
  score is +inf for a + b > 0 (ψ ~ v for tails lighter than a power law).
"""
from __future__ import annotations

import math

import numpy as np

from distributions import Lomax, Pareto

#: below this the density is a subnormal (or 0) and q / f loses digits: h from the log-derivative of v
PDF_FLOOR = 1e-290
#: step in ln q of the log-derivative
LOG_STEP = 1e-3


def power_tail_score(dist, q, a: float, b: float) -> np.ndarray:
    """C'(q) = s [(a + b (1 - 1/α)) q^{-1/α} - (a + b) shift] for Pareto I / Lomax (module doc), ±inf where the
    power overflows (the true value is beyond the doubles)."""
    alpha, s, shift = dist.shape, dist.scale, dist.shift
    c = a + b * (1.0 - 1.0 / alpha)
    with np.errstate(divide="ignore", over="ignore"):
        lead = 0.0 if c == 0 else math.copysign(1.0, c) * np.exp(math.log(abs(c) * s) - np.log(q) / alpha)
    return lead - (a + b) * s * shift + np.zeros(np.shape(q))


def log_derivative(dist, q) -> np.ndarray:
    """h(q) = -dv/d(ln q), Richardson on central differences with steps δ and 2δ in ln q (module doc)."""
    def central(d):
        up = np.asarray(dist.v(np.minimum(q * math.exp(d), 1.0)), dtype=float)
        down = np.asarray(dist.v(q * math.exp(-d)), dtype=float)
        return (down - up) / (2.0 * d)

    with np.errstate(over="ignore", invalid="ignore"):
        return (4.0 * central(LOG_STEP) - central(2.0 * LOG_STEP)) / 3.0


def lagrangian_score_values(dist, q, a: float, b: float) -> np.ndarray:
    """a v(q) + b ψ(q) at quantiles q in (0, 1] (module doc); never NaN for q in (0, 1]."""
    q = np.clip(np.asarray(q, dtype=float), 1e-320, 1.0)
    if isinstance(dist, (Pareto, Lomax)):
        return power_tail_score(dist, q, a, b)
    v = np.asarray(dist.v(q), dtype=float) + np.zeros(q.shape)
    if b == 0:
        return a * v
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        f = np.asarray(dist.pdf(v), dtype=float) + np.zeros(q.shape)
        normal = np.isfinite(f) & (f >= PDF_FLOOR)
        h = np.where(normal, q / np.where(normal, f, 1.0), 0.0)
        deep = ~normal & np.isfinite(v)
        if np.any(deep):
            h = np.where(deep, log_derivative(dist, np.where(deep, q, 0.5)), h)
        s = (a + b) * v - b * h if a + b != 0 else -b * h
    top = math.inf if a + b > 0 else (-math.inf if a + b < 0 else 0.0)
    return np.where(np.isinf(v) & (v > 0), top, s)
