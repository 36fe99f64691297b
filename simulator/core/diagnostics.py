"""When normal confidence intervals are not meaningful (``docs/architecture.md`` "Statistics": heavy tails).

The CLT behind the normal CI needs a finite variance. With a power tail Pr[v >= x] ~ x^-alpha, the value of a
buyer has infinite variance for alpha <= 2 (infinite mean for alpha <= 1), and so do welfare and buyers'
surplus (they contain the top value). The payment of an m-unit auction is at most the (m+1)-th highest value
whenever more than m buyers bid (or a pool's fixed bid), and that order statistic has tail index (m+1) alpha:
revenue loses its variance only when (m+1) alpha <= 2.
"""
from __future__ import annotations

from distributions.tails import tail_index

__all__ = ["tail_index", "heavy_tail_warnings"]


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
