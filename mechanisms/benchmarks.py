"""Benchmarks of Section 2: OPT (the optimal welfare), Π* (the optimal revenue) and U* (the optimal buyers'
surplus), exact for any F, n (up to 1e30 and beyond) and m units; +inf where the optimum is unbounded
(infinite mean, or a tail heavier than the equal-revenue one for Π*)."""
from __future__ import annotations

import math

from .auctions import SecondPrice
from .ironing import UnboundedError
from .optimal import Myerson, SurplusOptimal


def opt(dist, n, m: int = 1) -> float:
    """OPT_F = E[max value] (m units: the sum of the top m values) = n ∫ X̂' v dq: the VCG welfare."""
    return SecondPrice(0.0, m).exact(dist, n).welfare


def revenue_max(dist, n, m: int = 1) -> float:
    """Π*_F = Myerson's revenue = n ∫ x dR̄ (R ironed; Myerson, 1981)."""
    try:
        return Myerson(m).exact(dist, n).revenue
    except UnboundedError:
        return math.inf


def surplus_max(dist, n, m: int = 1) -> float:
    """U*_F = max buyers' surplus = n ∫ x dS̄ (S = V - R ironed; Hartline and Roughgarden, 2008)."""
    try:
        return SurplusOptimal(m).exact(dist, n).surplus
    except UnboundedError:
        return math.inf
