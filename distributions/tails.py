"""The tail of F: how heavy it is, and so which moments are finite (``docs/architecture.md``, "Statistics").

With a power tail Pr[v >= x] ~ x^-alpha, i.e. v(q) ~ q^(-1/alpha) as q -> 0, E[v^k] is finite iff k < alpha:
the mean needs alpha > 1, the variance alpha > 2. The k-th highest of n values has tail index k·alpha.
"""
from __future__ import annotations

import math

import numpy as np

#: the ladder of quantiles on which the tail index is read off v(q), far beyond any sample: the two smallest
#: where v is still finite (a tail as heavy as q^-4 overflows doubles below q ~ 1e-77)
Q_LADDER = tuple(10.0 ** -k for k in range(10, 301, 10))


def tail_index(dist) -> float:
    """Effective tail index alpha = log(q1/q2) / log(v(q2)/v(q1)) at the two smallest quantiles of ``Q_LADDER``
    (1e-10 ... 1e-300) where v is finite (exact for Pareto and Lomax): inf for bounded or light tails
    (exponential gives ~680, lognormal(sigma=1) ~37), 0 when v overflows already at q = 1e-10."""
    q = np.array(Q_LADDER)
    try:
        with np.errstate(all="ignore"):
            v = np.asarray(dist.v(q), dtype=float)
    except NotImplementedError:  # a distribution without a value function v(q): no diagnosis
        return math.inf
    finite = np.flatnonzero(np.isfinite(v) & (v > 0))
    if len(finite) == 0:
        return 0.0 if np.all(np.isinf(v)) else math.inf
    if len(finite) == 1:
        return 0.0
    i, j = finite[-2], finite[-1]
    v1, v2 = float(v[i]), float(v[j])
    if v2 <= v1 * (1 + 1e-12):
        return math.inf
    return math.log(q[i] / q[j]) / math.log(v2 / v1)
