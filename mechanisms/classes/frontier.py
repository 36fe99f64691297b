"""The Pareto frontier of (revenue Π, buyers' surplus U) on a market of several classes, and its KS point.

Every extreme point maximises Π + λU = Σ_k n_k ∫ x_k dR_λ,k over all BIC, IR mechanisms, R_λ,k = λ V_k +
(1-λ) R_k (the paper's Proposition B.6 per class; textbook (5.12) with ψ_k replaced by the derivative of
R_λ,k): pointwise, the unit goes to the highest ironed per-class score λ v + (1-λ) ψ̄_k when it is >= 0
(``rules.lagrangian_rule``; ties within a pool at random). Weights θ = λ / (1 + λ) in [0, 1); the extreme points
are found by the same dichotomy on supporting lines as the one-class ``mechanisms.frontier``, and between two
of them the frontier is the chord (ex-ante mixtures). KS (the paper's Definition 4.1): the frontier point with
Π/Π* = U/U*, Π* = Myerson's revenue (θ = 0), U* the surplus of θ = 1 - 1e-9.

KS is refined around its ray (``ClassFrontier.ks``): every M*_θ found gives a supporting line (1-θ)Π + θU <=
its value, so the KS ratio t = Π/Π* lies between the chord's crossing with the ray (inner, attained by a
mixture) and min over the lines of value / ((1-θ)Π* + θU*) (outer). The segment holding the crossing is split
at its chord's normal weight (the point of the frontier farthest from the chord) until (outer - inner) / inner
<= ``KS_TOL`` (an exact edge closes the gap at once: its chord is a supporting line); ``ks_gap`` reports it.

Nash solutions weigh the utilities of identical buyers (the paper's Sections 4-5); for several classes there is
no definition that reduces to the paper's, so they are refused with an ``InputError``.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from distributions.errors import InputError
from distributions.market import Market

from ..base import Mechanism
from ..dichotomy import WeightedPoint
from ..frontier import THETA_MAX

#: the KS ratio is refined until its certified relative gap (outer - inner) / inner is at most this
KS_TOL = 1e-9
#: at most this many Lagrangian optima for the KS refinement (then ``ks_gap`` says how far it got)
KS_MAX_EVALS = 40


@dataclass
class ClassPoint(WeightedPoint):
    """An extreme point: weight θ (λ = θ/(1-θ)) and the exact values of M*_λ (``ClassesExact``)."""

    theta: float
    exact: object


def lagrangian_point(market: Market, theta: float) -> ClassPoint:
    """M*_θ on the market and its exact values."""
    from ..optimal import LagrangianOptimal

    lam = math.inf if theta >= 1.0 else theta / (1.0 - theta)
    return ClassPoint(float(theta), LagrangianOptimal(lam).exact(market))


class ClassFrontier:
    """The (Π, U) frontier of a several-class market (one unit): extreme points sorted by surplus."""

    def __init__(self, market: Market, tol: float = 1e-7, max_points: int = 60):
        if not isinstance(market, Market):
            raise InputError("market", f"expected a Market, got {type(market).__name__}")
        if market.m != 1:
            raise InputError("m", f"the frontier of several classes is computed for one unit, got m = {market.m}")
        if not (tol > 0 and math.isfinite(tol)):
            raise InputError("tol", f"must be a positive number, got {tol!r}")
        self.market, self.tol, self.max_points = market, float(tol), int(max_points)
        self.lines: list[tuple[float, float]] = []  # (θ, max of (1-θ)Π + θU) of every M*_θ computed
        self._ks: dict | None = None
        left, right = self.evaluate(0.0), self.evaluate(THETA_MAX)
        self.revenue_max, self.surplus_max = left.revenue, right.surplus
        self.scale = max(abs(self.revenue_max), abs(self.surplus_max), 1e-300)
        self.converged = True
        self.points = self._clean(self._search(left, right))

    def evaluate(self, theta: float) -> ClassPoint:
        """M*_θ, its supporting line recorded."""
        point = lagrangian_point(self.market, theta)
        self.lines.append((point.theta, point.objective(point.theta)))
        return point

    def _search(self, left: ClassPoint, right: ClassPoint) -> list[ClassPoint]:
        """Split the segment whose chord lies farthest below the supporting-line optimum first
        (``mechanisms.dichotomy``)."""
        from ..dichotomy import dichotomy

        def probe(a, b):
            d_pi, d_u = a.revenue - b.revenue, b.surplus - a.surplus
            if d_pi <= 0 or d_u <= 0:
                return 0.0, None, 0
            theta = d_pi / (d_pi + d_u)
            mid = self.evaluate(min(max(theta, a.theta), b.theta))
            inside = a.surplus < mid.surplus < b.surplus
            return mid.objective(theta) - a.objective(theta), (mid if inside else None), 1

        out, self.gap = dichotomy(left, right, probe, self.tol * self.scale, self.max_points)
        self.converged = not self.gap  # gap: the largest chord error left (<= tol * scale when converged)
        return out

    def _clean(self, pts: list[ClassPoint]) -> list[ClassPoint]:
        """Sorted by surplus, dominated and repeated points dropped."""
        keep: list[ClassPoint] = []
        for p in sorted(pts, key=lambda p: (p.surplus, -p.revenue)):
            while keep and p.revenue >= keep[-1].revenue - 1e-12 * self.scale:
                keep.pop()
            keep.append(p)
        return keep

    def revenue_at(self, U: float) -> float:
        """Π(U) on the piecewise-linear frontier, U in [U(Myerson), U*]."""
        us = np.array([p.surplus for p in self.points])
        pis = np.array([p.revenue for p in self.points])
        if not (us[0] - 1e-12 * self.scale <= U <= us[-1] + 1e-12 * self.scale):
            raise InputError("U", f"must lie in [{us[0]:.6g}, {us[-1]:.6g}], got {U:.6g}")
        return float(np.interp(U, us, pis))

    def chord_ks(self) -> tuple[int, dict]:
        """The KS point of the piecewise-linear inner frontier: (segment index, solution), a mixture of the
        segment's ends with probability ν of the upper one."""
        if len(self.points) == 1:  # Π* and U* by one mechanism (the frontier is a point): KS is that point
            p = self.points[0]
            return 0, {"revenue": p.revenue, "surplus": p.surplus, "ratio": p.revenue / self.revenue_max,
                       "nu": 0.0, "lambda_low": p.lam, "lambda_high": p.lam}
        f = [p.revenue / self.revenue_max - p.surplus / self.surplus_max for p in self.points]
        for i in range(len(self.points) - 1):
            if f[i] >= 0 >= f[i + 1]:
                a, b = self.points[i], self.points[i + 1]
                nu = f[i] / (f[i] - f[i + 1]) if f[i] != f[i + 1] else 0.0
                pi = (1 - nu) * a.revenue + nu * b.revenue
                u = (1 - nu) * a.surplus + nu * b.surplus
                return i, {"revenue": pi, "surplus": u, "ratio": pi / self.revenue_max, "nu": nu,
                           "lambda_low": a.lam, "lambda_high": b.lam}
        raise InputError("market", "KS: no frontier segment crosses Π/Π* = U/U*")

    def ks_upper(self) -> float:
        """The outer bound of the KS ratio: min over the supporting lines of value / ((1-θ)Π* + θU*)."""
        return min(v / ((1 - t) * self.revenue_max + t * self.surplus_max) for t, v in self.lines)

    def ks(self) -> dict:
        """The KS point: Π/Π* = U/U* on the frontier (a mixture of two extreme points with probability ν),
        refined around its ray until the certified gap is <= ``KS_TOL`` (module doc); ``gap`` and
        ``ratio_upper`` in the result say how close it is (at most ``KS_MAX_EVALS`` Lagrangian optima)."""
        if self._ks is not None:
            return dict(self._ks)
        edges, evals = set(), 0
        while True:
            i, sol = self.chord_ks()
            upper = self.ks_upper()
            self.ks_gap = max((upper - sol["ratio"]) / sol["ratio"], 0.0)
            if self.ks_gap <= KS_TOL or len(self.points) == 1 or evals >= KS_MAX_EVALS:
                break
            a, b = self.points[i], self.points[i + 1]
            if (a.theta, b.theta) in edges:
                break
            d_pi, d_u = a.revenue - b.revenue, b.surplus - a.surplus
            mid = self.evaluate(min(max(d_pi / (d_pi + d_u), a.theta), b.theta))
            evals += 1
            if a.surplus < mid.surplus < b.surplus and mid.objective(mid.theta) > a.objective(mid.theta):
                self.points = self._clean(self.points + [mid])
            else:
                edges.add((a.theta, b.theta))  # an exact edge: its chord is a supporting line
        self.ks_evals = evals
        self._ks = {**sol, "ratio_upper": upper, "gap": self.ks_gap}
        return dict(self._ks)


@functools.lru_cache(maxsize=32)
def class_frontier(market: Market) -> ClassFrontier:
    """The frontier that ``ClassKS`` and the ``frontier`` command use (tol 1e-5 of max(Π*, U*), at most 24
    Lagrangian optima; ``ks`` refines around its own ray), cached by the market's value."""
    return ClassFrontier(market, tol=1e-5, max_points=24)


class ClassKS(Mechanism):
    """The KS solution's mechanism on a several-class market: an ex-ante mixture of two M*_λ."""

    def __init__(self, m: int | None = None):
        if m not in (None, 1):
            raise InputError("m", f"KS on several buyer classes is computed for one unit, got m = {m}")
        self.m = None
        self.name = "ks"

    def components(self, market: Market):
        from ..optimal import LagrangianOptimal

        sol = class_frontier(market).ks()
        return [(1.0 - sol["nu"], LagrangianOptimal(sol["lambda_low"])),
                (sol["nu"], LagrangianOptimal(sol["lambda_high"]))]

    def rule(self, market: Market):
        from ..auctions import ExAnteMixture

        if len(market.classes) == 1:
            from ..bargaining import BargainingMechanism

            return BargainingMechanism("ks").rule(market)
        return ExAnteMixture(self.components(market)).rule(market)

    def exact(self, market: Market):
        from ..auctions import ExAnteMixture

        if len(market.classes) == 1:
            from ..bargaining import BargainingMechanism

            return BargainingMechanism("ks").exact(market)
        return ExAnteMixture(self.components(market)).exact(market)


def class_bargaining(kind: str, m: int | None = None) -> Mechanism:
    """The bargaining solution ``kind`` on several classes: KS; Nash solutions are refused (module doc)."""
    if kind == "ks":
        return ClassKS(m)
    raise InputError("mechanism", f"{kind} is defined for identical buyers (the paper's Nash product weighs "
                                  f"each buyer's utility); on several buyer classes use ks")
