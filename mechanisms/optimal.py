"""Optimal mechanisms from ironing: the Lagrangian optimum of Π + λU (Section 3.3, Proposition B.6, Appendix
B.3), Myerson's revenue-optimal auction (λ = 0) and the buyer-surplus-optimal mechanism (λ -> ∞).

For the curve C = R_λ (``ironing.Curve.mixed``): x = X̂' on the quantiles where C̄ = C below r = sup argmax C̄,
x = the average of X̂' on each ironed interval (a pool bidding v(b) with next v(a)), x = 0 above r. The same
holds with m units (X̂' = P[Bin(n-1, q) <= m-1]). At gaps of the support the pools and the reserve take the
top of the gap on the revenue side (λ <= 1) and the bottom on the surplus side (λ > 1).
"""
from __future__ import annotations

import functools
import math

from distributions.market import Market

from .auctions import ClassDispatch, check_units
from .compile import rule_from_intervals
from .ironing import Curve, iron
from .rule import QuantileRule


class LagrangianOptimal(ClassDispatch):
    """M*_λ: maximises Π + λU (= λW + (1-λ)Π) over all BIC, IR, symmetric mechanisms (Proposition B.6)."""

    def __init__(self, lam: float = 0.0, m: int | None = None):
        self.m = check_units(m)
        self.curve = Curve.mixed(lam)
        self.lam = float(lam)
        self.name = f"lagrangian:lambda={self.lam:g}" + (f",m={self.m}" if self.m not in (None, 1) else "")

    def ironing(self, market: Market):
        """The hull of R_λ (for λ = 0, r is the distribution's own lowest monopoly quantile q_m)."""
        return lagrangian_ironing(self.lam, self.market_for(market))

    def iid_rule(self, market: Market) -> QuantileRule:
        return lagrangian_rule(self.lam, self.market_for(market))


@functools.lru_cache(maxsize=256)
def lagrangian_ironing(lam: float, market: Market):
    """The ironing of R_λ for the market's distribution and n (Appendix B.3), cached by the market's value."""
    dist = market.dist
    return iron(dist, Curve.mixed(lam), float(market.n), r=dist.q_m if lam == 0 else None)


@functools.lru_cache(maxsize=256)
def lagrangian_rule(lam: float, market: Market) -> QuantileRule:
    """M*_λ's rule for the market (m units): X̂' below r off the ironed intervals, pools on them."""
    ir = lagrangian_ironing(lam, market)
    return rule_from_intervals(market.dist, market.m, ir.r, ir.intervals, side=Curve.mixed(lam).side)


class Myerson(LagrangianOptimal):
    """Myerson's optimal auction for any F (Π = Π*): iron R, reserve at q_m = sup argmax R; for regular F the
    second-price auction with the lowest monopoly reserve (footnote 3); with m units the same ironing."""

    def __init__(self, m: int | None = None):
        super().__init__(0.0, m)
        self.name = "myerson" if self.m in (None, 1) else f"myerson:m={self.m}"


class SurplusOptimal(LagrangianOptimal):
    """The buyers'-surplus-optimal mechanism (U = U*): iron S = V - R (the limit λ -> ∞ of R_λ / λ), every type
    served, the reserve and gap edges at the bottom (Hartline and Roughgarden, 2008: the lottery for MHR F,
    second-price for anti-MHR F with v(1) = 0, in general in between)."""

    def __init__(self, m: int | None = None):
        super().__init__(math.inf, m)
        self.name = "surplus-optimal" if self.m in (None, 1) else f"surplus-optimal:m={self.m}"
