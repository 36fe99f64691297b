"""Benchmarks of Section 2: OPT (the optimal welfare), Π* (the optimal revenue) and U* (the optimal buyers'
surplus) of a market, exact for any F, n (up to 1e30 and beyond) and m units; +inf where the optimum is
unbounded (infinite mean, or a tail heavier than the equal-revenue one for Π*). Each is computed once per
market value (``functools.lru_cache`` on the hashable ``Market``)."""
from __future__ import annotations

import functools
import math

from distributions.market import Market

from .auctions import SecondPrice
from .ironing import UnboundedError
from .optimal import Myerson, SurplusOptimal


@functools.lru_cache(maxsize=512)
def opt(market: Market) -> float:
    """OPT_F = E[max value] (m units: the sum of the top m values) = n ∫ X̂' v dq: the VCG welfare."""
    return SecondPrice(0.0).exact(market).welfare


@functools.lru_cache(maxsize=512)
def revenue_max(market: Market) -> float:
    """Π*_F = Myerson's revenue = n ∫ x dR̄ (R ironed; Myerson, 1981)."""
    try:
        return Myerson().exact(market).revenue
    except UnboundedError:
        return math.inf


@functools.lru_cache(maxsize=512)
def surplus_max(market: Market) -> float:
    """U*_F = max buyers' surplus = n ∫ x dS̄ (S = V - R ironed; Hartline and Roughgarden, 2008)."""
    try:
        return SurplusOptimal().exact(market).surplus
    except UnboundedError:
        return math.inf


def all_benchmarks(market: Market) -> dict:
    """{"opt": OPT, "revenue_max": Π*, "surplus_max": U*} of the market."""
    return {"opt": opt(market), "revenue_max": revenue_max(market), "surplus_max": surplus_max(market)}
