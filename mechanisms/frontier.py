"""The Pareto frontier of (seller revenue Π, buyers' surplus U) for any F, n and m (Section 3, Appendix B).

Every extreme point is the Lagrangian optimum M*_λ of Π + λU (Proposition B.6): an indirect Vickrey auction
from ironing the mixed curve R_λ = λV + (1-λ)R (``optimal.LagrangianOptimal``). We parametrise the weight as
θ = λ / (1 + λ) in [0, 1] (objective (1-θ)Π + θU) and find the extreme points by dichotomy on supporting
lines: between two frontier points A and B, the weight θ* that makes them equally good gives M*_θ*; if its
objective beats A's by more than the tolerance it is a new extreme point and both halves are searched, else AB
is an edge of the frontier, realised by ex-ante mixtures of A and B (Corollaries 3.6, 3.8; where (Π, U) jumps
at one λ these edges are exactly the paper's ν-process of Appendix B.3). So no extreme point is missed by more
than the tolerance, and curved parts of the frontier get as many points as the tolerance asks for.

Between extreme points the frontier is Π(U) = the chord (a mixture with probability ν). At the ends: Myerson
(θ = 0, r = q_m, Π = Π*) and the buyer-optimal mechanism (θ -> 1, U = U*); θ = 1 itself ignores revenue, so the
right end is M*_θ for θ = 1 - 1e-9 (the revenue-best surplus-optimal mechanism).

``tol`` and ``max_points`` only shape this listing (plots, tables): when the budget runs out first,
``converged`` is False and ``gap`` is the largest chord error left. The bargaining solutions do not depend on
them: ``bargaining.solve`` refines the frontier around each solution to its own tolerance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from distributions.errors import InputError, InputTypeError
from distributions.market import Market

from . import border
from .base import Exact
from .dichotomy import WeightedPoint
from .exact import exact_from_rule
from .optimal import lagrangian_rule
from .rule import MixtureRule, QuantileRule

#: weight of the right end (θ = 1 would ignore revenue among the surplus maximisers)
THETA_MAX = 1.0 - 1e-9


@dataclass
class ExtremePoint(WeightedPoint):
    """An extreme point of the frontier: the weight θ (λ = θ/(1-θ)) at which it was found, its mechanism and
    exact values."""

    theta: float
    rule: QuantileRule
    exact: Exact
    weight: float | None = None  # λ as requested (θ = λ/(1+λ) cannot hold λ's precision near θ = 1)

    @property
    def lam(self) -> float:
        return self.weight if self.weight is not None else WeightedPoint.lam.fget(self)

    def bid_space(self) -> str:
        """The implementing auction in value terms (Definition 2.4): reserve and the gaps of B."""
        return describe_rule(self.rule)


def describe_rule(rule: QuantileRule) -> str:
    """'reserve 0.5; pooled bids: 1.2 (next 2)...' -- a pool bidding b with next element b' removes (b, b')."""
    parts = [f"reserve {rule.reserve:.6g}"]
    gaps = [f"{b:.6g}->{nx:.6g}" for b, nx in zip(rule.pool_bid, rule.pool_next) if nx > b]
    if gaps:
        parts.append("pooled bids " + ", ".join(gaps))
    return "; ".join(parts)


def lagrangian_point(market: Market, theta: float | None, lam: float | None = None) -> ExtremePoint:
    """M*_θ and its exact values: iron R_λ, λ = θ/(1-θ) (Proposition B.6), build the indirect Vickrey auction
    (``optimal.lagrangian_rule``, cached by the market's value). Pass ``lam`` instead of θ to keep λ exact."""
    if lam is None:
        lam = math.inf if theta >= 1.0 else theta / (1.0 - theta)
        weight = None
    else:
        lam = weight = float(lam)
        theta = 1.0 if math.isinf(lam) else lam / (1.0 + lam)
    rule = lagrangian_rule(lam, market)
    return ExtremePoint(float(theta), rule, exact_from_rule(rule, market), weight)


class Frontier:
    """The Pareto frontier of a market (i.i.d. buyers, m units): extreme points sorted by surplus, Π(U) between
    them."""

    def __init__(self, market: Market, tol: float = 1e-6, max_points: int = 200):
        if not isinstance(market, Market):
            raise InputTypeError("market", f"expected a Market (e.g. Market.iid(dist, n)), got "
                                           f"{type(market).__name__}")
        n, m = border.check_market(market.n, market.m)
        if not (tol > 0 and math.isfinite(tol)):
            raise InputError("tol", f"must be a positive number, got {tol!r}")
        self.market = market
        self.dist, self.n, self.m, self.tol, self.max_points = market.dist, n, m, tol, int(max_points)
        left = lagrangian_point(market, 0.0)
        right = lagrangian_point(market, THETA_MAX)
        self.revenue_max = left.revenue  # Π*
        self.surplus_max = right.surplus  # U*
        self.scale = max(abs(self.revenue_max), abs(self.surplus_max), 1e-300)
        self.converged, self.gap = True, 0.0
        self.points = self._dedupe(self._search(left, right))

    # ------------------------------------------------------------------ construction
    def chord_theta(self, a: ExtremePoint, b: ExtremePoint) -> float | None:
        """θ at which a and b are equally good; None if b does not trade revenue for surplus against a."""
        d_pi, d_u = a.revenue - b.revenue, b.surplus - a.surplus
        if d_pi <= 0 or d_u <= 0:
            return None
        return d_pi / (d_pi + d_u)

    def _probe(self, a: ExtremePoint, b: ExtremePoint):
        """(gain, M*_θ*) for the segment a-b: how far the supporting-line optimum lies above the chord."""
        theta = self.chord_theta(a, b)
        if theta is None:
            return 0.0, None
        mid = lagrangian_point(self.market, min(max(theta, a.theta), b.theta))
        if not a.surplus < mid.surplus < b.surplus:
            return 0.0, None
        return mid.objective(theta) - a.objective(theta), mid

    def _search(self, left: ExtremePoint, right: ExtremePoint) -> list[ExtremePoint]:
        """Split the segment whose chord is farthest below the frontier first, until every chord is within tol
        or the evaluation budget is spent (then the largest errors have been removed; ``dichotomy``)."""
        from .dichotomy import dichotomy

        def probe(a, b):
            gain, mid = self._probe(a, b)
            return gain, mid, 1

        out, gap = dichotomy(left, right, probe, self.tol * self.scale, self.max_points)
        if gap:  # the budget ran out before the tolerance: say so (the listing is coarser than tol)
            self.converged, self.gap = False, gap
        return out

    def _dedupe(self, pts: list[ExtremePoint]) -> list[ExtremePoint]:
        pts = sorted(pts, key=lambda p: (p.surplus, -p.revenue))
        keep: list[ExtremePoint] = []
        for p in pts:
            if keep and abs(p.surplus - keep[-1].surplus) <= 1e-12 * self.scale \
                    and abs(p.revenue - keep[-1].revenue) <= 1e-12 * self.scale:
                continue
            # drop points below the frontier (dominated): revenue must fall as surplus rises
            while keep and p.revenue >= keep[-1].revenue - 1e-12 * self.scale:
                keep.pop()
            keep.append(p)
        return keep

    # ------------------------------------------------------------------ queries
    @property
    def surplus_min(self) -> float:
        """U(Myerson): the frontier starts here."""
        return self.points[0].surplus

    def _segment(self, U: float) -> tuple[int, float]:
        """(index i, ν) with U = (1-ν) U_i + ν U_{i+1}."""
        U = float(U)
        lo, hi = self.surplus_min, self.surplus_max
        if not (lo - 1e-12 * self.scale <= U <= hi + 1e-12 * self.scale):
            raise InputError("U", f"must lie in [U(Myerson), U*] = [{lo:.6g}, {hi:.6g}], got {U:.6g}")
        us = np.array([p.surplus for p in self.points])
        i = int(np.clip(np.searchsorted(us, U, side="right") - 1, 0, max(len(us) - 2, 0)))
        if len(us) == 1:
            return 0, 0.0
        nu = (U - us[i]) / (us[i + 1] - us[i]) if us[i + 1] > us[i] else 0.0
        return i, float(np.clip(nu, 0.0, 1.0))

    def revenue_at(self, U: float) -> float:
        """Π(U): the most revenue with buyers' surplus at least U (Lemma 3.9), U in [U(Myerson), U*]."""
        i, nu = self._segment(U)
        if len(self.points) == 1:
            return self.points[0].revenue
        return (1 - nu) * self.points[i].revenue + nu * self.points[i + 1].revenue

    def mechanism_at(self, U: float) -> QuantileRule | MixtureRule:
        """A mechanism on the frontier with surplus U: an extreme point's indirect Vickrey auction or the ex-ante
        mixture of the two neighbouring ones (Corollaries 3.6, 3.8)."""
        i, nu = self._segment(U)
        if len(self.points) == 1 or nu <= 0.0:
            return self.points[i].rule
        if nu >= 1.0:
            return self.points[i + 1].rule
        return MixtureRule(np.array([1 - nu, nu]), [self.points[i].rule, self.points[i + 1].rule])

    def curve(self, k: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """k points (U, Π(U)) evenly spaced in U, plus every extreme point."""
        us = np.unique(np.concatenate([np.linspace(self.surplus_min, self.surplus_max, k),
                                       [p.surplus for p in self.points]]))
        return us, np.array([self.revenue_at(u) for u in us])

    def to_frame(self):
        """The extreme points: weight, λ, Π, U, W, reserve (value and quantile) and the bid space."""
        import pandas as pd

        return pd.DataFrame([{"theta": p.theta, "lambda": p.lam, "revenue": p.revenue, "surplus": p.surplus,
                              "welfare": p.exact.welfare, "sold": p.exact.sold, "reserve": p.rule.reserve,
                              "reserve_quantile": p.rule.r, "pools": len(p.rule.pool_lo),
                              "bid_space": p.bid_space()} for p in self.points])
