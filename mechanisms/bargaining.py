"""Bargaining solutions on the Pareto frontier (Sections 4 and 5).

* KS (Definition 4.1): the frontier point with Π/Π* = U/U* (KS fairness).
* Nash (Definition 5.1): maximises Π · prod_i U_i = Π (U/n)^n (each buyer a bargainer).
* Cross-side Nash (Definition 5.2): maximises Π · U.

Each is found on the piecewise-linear frontier (``frontier.Frontier``), then the frontier is refined around the
solution (dichotomy on supporting lines inside the segment that holds it) until that segment is an exact edge
(an ex-ante mixture of two extreme points) or shorter than 1e-12 of the scale; the implementing mechanism is
that mixture (or one extreme point).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from distributions.market import Market

from .auctions import check_units
from .base import Exact, Mechanism
from .exact import exact_from_rule
from .frontier import Frontier, lagrangian_point
from .rule import MixtureRule, QuantileRule
from distributions.errors import InputError

SOLUTIONS = ("ks", "nash", "cross-nash")


@dataclass
class Solution:
    """A bargaining solution: its frontier point, implementing mechanism and ratios to the benchmarks."""

    kind: str
    revenue: float
    surplus: float
    rule: QuantileRule | MixtureRule
    revenue_max: float  # Π*
    surplus_max: float  # U*
    opt: float  # OPT = E[max value] (m units: sum of the top m)
    exact: Exact  # exact values of ``rule`` (equal to revenue/surplus up to the frontier tolerance)

    @property
    def welfare(self) -> float:
        return self.revenue + self.surplus

    @property
    def revenue_ratio(self) -> float:
        return self.revenue / self.revenue_max if self.revenue_max > 0 else math.nan

    @property
    def surplus_ratio(self) -> float:
        return self.surplus / self.surplus_max if self.surplus_max > 0 else math.nan

    @property
    def welfare_ratio(self) -> float:
        return self.welfare / self.opt if self.opt > 0 else math.nan

    def as_dict(self) -> dict:
        return {"solution": self.kind, "revenue": self.revenue, "surplus": self.surplus, "welfare": self.welfare,
                "revenue_ratio": self.revenue_ratio, "surplus_ratio": self.surplus_ratio,
                "welfare_ratio": self.welfare_ratio}


def _segment_solution(kind: str, a, b, frontier: Frontier) -> float | None:
    """The weight mu in [0, 1] of a (the point with less surplus) in the mixture mu a + (1 - mu) b that solves
    the solution's condition on the segment, or None. mu, not 1 - mu, is computed: at n = 1e30 the Nash point
    sits within 1e-30 of b and 1 - nu would round to 0."""
    pa, ua, pb, ub = a.revenue, a.surplus, b.revenue, b.surplus
    dp, du = pb - pa, ub - ua
    if kind == "ks":
        # g = Π/Π* - U/U* is decreasing along the segment; its root inside it?
        ga = pa / frontier.revenue_max - ua / frontier.surplus_max
        gb = pb / frontier.revenue_max - ub / frontier.surplus_max
        if ga >= 0 >= gb and ga > gb:
            return -gb / (ga - gb)
        return None
    w = frontier.n if kind == "nash" else 1.0
    # maximise log Π + w log U over Π = pb - mu dp, U = ub - mu du (concave in mu): stationary point
    # -dp U = w du Π  =>  mu = (w du pb + dp ub) / ((1 + w) dp du)
    denom = (1.0 + w) * dp * du
    if denom == 0:
        return None
    mu = (w * du * pb + dp * ub) / denom
    return float(np.clip(mu, 0.0, 1.0))


def _mix(a, b, mu: float) -> tuple[float, float]:
    """(Π, U) of mu a + (1 - mu) b."""
    return mu * a.revenue + (1 - mu) * b.revenue, mu * a.surplus + (1 - mu) * b.surplus


def _log_objective(kind, frontier, pi, u):
    if pi <= 0 or u <= 0:
        return -math.inf
    w = frontier.n if kind == "nash" else 1.0
    return math.log(pi) + w * math.log(u)


def _locate(kind: str, frontier: Frontier) -> tuple[int, float]:
    """(segment index i, weight mu of point i) of the solution on the piecewise-linear frontier."""
    pts = frontier.points
    if len(pts) == 1:
        return 0, 1.0
    if kind == "ks":
        for i in range(len(pts) - 1):
            mu = _segment_solution(kind, pts[i], pts[i + 1], frontier)
            if mu is not None:
                return i, mu
        raise RuntimeError("KS: no frontier segment crosses Π/Π* = U/U*")
    best = (-math.inf, 0, 1.0)
    for i in range(len(pts) - 1):
        mu = _segment_solution(kind, pts[i], pts[i + 1], frontier)
        if mu is None:
            continue
        val = _log_objective(kind, frontier, *_mix(pts[i], pts[i + 1], mu))
        if val > best[0]:
            best = (val, i, mu)
    return best[1], best[2]


def _refine(frontier: Frontier, i: int) -> bool:
    """Insert the supporting-line optimum inside segment i if it lies above the chord; True if inserted."""
    pts = frontier.points
    a, b = pts[i], pts[i + 1]
    theta = frontier.chord_theta(a, b)
    if theta is None or b.surplus - a.surplus <= 1e-12 * frontier.scale:
        return False
    mid = lagrangian_point(frontier.market, min(max(theta, a.theta), b.theta))
    if mid.objective(theta) - a.objective(theta) > 1e-13 * frontier.scale and a.surplus < mid.surplus < b.surplus \
            and mid.revenue < a.revenue:
        pts.insert(i + 1, mid)
        return True
    return False


def solve(frontier: Frontier, kind: str) -> Solution:
    """The KS, Nash or cross-side Nash solution on ``frontier`` with its implementing mechanism."""
    from .benchmarks import opt

    if kind not in SOLUTIONS:
        raise InputError("solution", f"must be one of {', '.join(SOLUTIONS)}, got {kind!r}")
    for _ in range(200):
        i, mu = _locate(kind, frontier)
        if len(frontier.points) == 1 or not _refine(frontier, i):
            break
    pts = frontier.points
    if len(pts) == 1 or mu >= 1:
        rule, p = pts[i].rule, (pts[i].revenue, pts[i].surplus)
    elif mu <= 0:
        rule, p = pts[i + 1].rule, (pts[i + 1].revenue, pts[i + 1].surplus)
    else:
        rule = MixtureRule(np.array([mu, 1 - mu]), [pts[i].rule, pts[i + 1].rule])
        p = _mix(pts[i], pts[i + 1], mu)
    return Solution(kind, p[0], p[1], rule, frontier.revenue_max, frontier.surplus_max,
                    opt(frontier.market), exact_from_rule(rule, frontier.market))


@functools.lru_cache(maxsize=128)
def market_solution(kind: str, market: Market) -> Solution:
    """The solution on the market's own frontier (``Frontier(market)``), computed once per market value."""
    return solve(Frontier(market), kind)


def ks_solution(market: Market) -> Solution:
    """The Kalai-Smorodinsky solution (Definition 4.1)."""
    return market_solution("ks", market)


def nash_solution(market: Market) -> Solution:
    """The Nash solution (Definition 5.1): max Π (U/n)^n."""
    return market_solution("nash", market)


def cross_side_nash_solution(market: Market) -> Solution:
    """The cross-side Nash solution (Definition 5.2): max Π U."""
    return market_solution("cross-nash", market)


class BargainingMechanism(Mechanism):
    """The mechanism implementing a bargaining solution (CLI specs ``ks``, ``nash``, ``cross-nash``)."""

    def __init__(self, kind: str, m: int | None = None):
        if kind not in SOLUTIONS:
            raise InputError("solution", f"must be one of {', '.join(SOLUTIONS)}, got {kind!r}")
        self.kind, self.m = kind, check_units(m)
        self.name = kind if self.m in (None, 1) else f"{kind}:m={self.m}"

    def solution(self, market: Market) -> Solution:
        """The solution for ``market`` (cached by the market's value, ``market_solution``)."""
        return market_solution(self.kind, self.market_for(market))

    def rule(self, market: Market):
        return self.solution(market).rule
