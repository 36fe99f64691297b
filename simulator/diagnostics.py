"""When normal confidence intervals are not meaningful (``shared/DESIGN.md`` "Statistics": heavy tails).

The CLT behind the normal CI needs a finite variance. With a power tail Pr[v >= x] ~ x^-alpha, the value of a
buyer has infinite variance for alpha <= 2 (infinite mean for alpha <= 1), and so do welfare and buyers'
surplus (they contain the top value). The payment of an m-unit auction is at most the (m+1)-th highest value
whenever more than m buyers bid (or a pool's fixed bid), and that order statistic has tail index (m+1) alpha:
revenue loses its variance only when (m+1) alpha <= 2.
"""
from __future__ import annotations

import math

import numpy as np

#: quantiles at which the tail index is read off v(q): far beyond any sample, where power tails are exact
_Q_TAIL = (1e-100, 1e-200)


def tail_index(dist) -> float:
    """Effective tail index alpha = log(q1/q2) / log(v(q2)/v(q1)) at q1 = 1e-100, q2 = 1e-200 (exact for
    Pareto and Lomax); inf for bounded or light tails (exponential gives ~330, lognormal(sigma=1) ~26)."""
    try:
        with np.errstate(all="ignore"):
            v1, v2 = (float(t) for t in np.asarray(dist.v(np.array(_Q_TAIL)), dtype=float))
    except Exception:  # a distribution that cannot evaluate so far out: no diagnosis
        return math.inf
    if math.isinf(v2) and math.isfinite(v1):
        return 0.0
    if not (math.isfinite(v1) and math.isfinite(v2)) or v1 <= 0 or v2 <= v1 * (1 + 1e-12):
        return math.inf
    return math.log(_Q_TAIL[0] / _Q_TAIL[1]) / math.log(v2 / v1)


def heavy_tail_warnings(dist, n, units: dict[str, int]) -> list[str]:
    """Warnings for the output: which estimates have no finite variance (``units``: mechanism -> m)."""
    alpha = tail_index(dist)
    if alpha > 2.0:
        return []
    out = []
    if alpha <= 1.0:
        out.append(f"values have an infinite mean (tail index ~{alpha:.3g} <= 1): welfare and surplus "
                   "estimates are not meaningful")
    else:
        out.append(f"values have an infinite variance (tail index ~{alpha:.3g} <= 2): normal confidence "
                   "intervals for welfare and surplus are not meaningful")
    heavy = [name for name, m in units.items() if n > m and (m + 1) * alpha <= 2.0]
    if heavy:
        out.append(f"revenue has an infinite variance (the (m+1)-th highest value has tail index (m+1)*"
                   f"{alpha:.3g} <= 2) for {', '.join(heavy)}: its confidence intervals are not meaningful")
    return out
