"""The tail of F: how heavy it is, and so which moments are finite (``docs/architecture.md``, "Statistics").

With a power tail Pr[v >= x] ~ x^-alpha, i.e. v(q) ~ q^(-1/alpha) as q -> 0, E[v^k] is finite iff k < alpha:
the mean needs alpha > 1, the variance alpha > 2. The k-th highest of n values has tail index k·alpha.
"""
from __future__ import annotations

import math

import numpy as np

#: quantiles at which the tail index is read off v(q): far beyond any sample, where power tails are exact
Q_TAIL = (1e-100, 1e-200)


def tail_index(dist) -> float:
    """Effective tail index alpha = log(q1/q2) / log(v(q2)/v(q1)) at q1 = 1e-100, q2 = 1e-200 (exact for
    Pareto and Lomax); inf for bounded or light tails (exponential gives ~330, lognormal(sigma=1) ~26)."""
    try:
        with np.errstate(all="ignore"):
            v1, v2 = (float(t) for t in np.asarray(dist.v(np.array(Q_TAIL)), dtype=float))
    except NotImplementedError:  # a distribution without a value function v(q): no diagnosis
        return math.inf
    if math.isinf(v2) and math.isfinite(v1):
        return 0.0
    if not (math.isfinite(v1) and math.isfinite(v2)) or v1 <= 0 or v2 <= v1 * (1 + 1e-12):
        return math.inf
    return math.log(Q_TAIL[0] / Q_TAIL[1]) / math.log(v2 / v1)
