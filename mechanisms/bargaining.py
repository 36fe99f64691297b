"""Bargaining solutions on the Pareto frontier (Sections 4 and 5).

* KS (Definition 4.1): the frontier point with Π/Π* = U/U* (KS fairness).
* Nash (Definition 5.1): maximises Π · prod_i U_i = Π (U/n)^n (each buyer a bargainer).
* Cross-side Nash (Definition 5.2): maximises Π · U.

Each is found on the frontier's points (``frontier.Frontier``, whatever its ``tol`` and ``max_points``), then the
frontier is refined around the solution (``_Refiner``: dichotomy on λ on the segment that holds it, or on BOTH
segments beside a vertex) until those segments are exact edges (ex-ante mixtures of two extreme points,
Corollaries 3.6, 3.8) or shorter than 1e-11 of U*, Π*; on a curved stretch the Nash first-order condition is
then solved on a local cubic model of Π(U) (``_Refiner.polish``). W/OPT, Π/Π* and U/U* are good to
``SOLUTION_TOL`` = 1e-9; a refinement that would need more than ``MAX_EVALS`` Lagrangian optima raises instead
of returning a coarse answer. The implementing mechanism is that mixture (or one extreme point).
"""
from __future__ import annotations

import functools
import math
import warnings
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


def _locate(kind: str, pts, frontier: Frontier) -> tuple[int, float]:
    """(segment index i, weight mu of point i) of the solution on the piecewise-linear curve through ``pts``."""
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


#: the solutions are refined until W/OPT, Π/Π* and U/U* are good to this (issue 13), whatever the frontier's
#: own ``tol`` and ``max_points``
SOLUTION_TOL = 1e-9
#: safety cap on the Lagrangian evaluations of one solution: reaching it raises, never a silent coarse answer
MAX_EVALS = 600
_SHORT = 1e-11  # a segment this short (relative to U*, Π*) pins the solution far below SOLUTION_TOL
_SAME = 1e-14  # mechanisms this close in (Π, U) (relative to the scale) are one frontier point
_MODEL_D = 1e-4  # half-width (relative to U* - U(Myerson)) of the local model of a curved stretch


class _Node:
    """A frontier point and the weights [lo, hi] of λ whose Lagrangian optimum (as computed) returned it."""

    __slots__ = ("point", "lo", "hi")

    def __init__(self, point, lo: float, hi: float):
        self.point, self.lo, self.hi = point, lo, hi

    revenue = property(lambda self: self.point.revenue)
    surplus = property(lambda self: self.point.surplus)
    rule = property(lambda self: self.point.rule)


class _Refiner:
    """Refines the frontier around one solution (Definitions 4.1, 5.1, 5.2) by dichotomy on λ.

    The solution of the piecewise-linear curve through the points found so far is on one segment or at a
    vertex; the true frontier is concave, the objectives concave along it, so the true solution lies on that
    segment or on one of the two segments beside the vertex (BOTH are refined). A segment is done when it is
    shorter than ``_SHORT`` (the solution is pinned) or no λ is left between its ends' weights (an exact
    edge: ex-ante mixtures, Corollaries 3.6, 3.8). Nothing stops on a point budget: ``MAX_EVALS`` raises."""

    def __init__(self, frontier: Frontier, kind: str):
        self.f, self.kind, self.evals = frontier, kind, 0
        self.nodes = [_Node(p, p.lam, p.lam) for p in frontier.points]
        self.su, self.sp = max(frontier.surplus_max, 1e-300), max(frontier.revenue_max, 1e-300)

    def evaluate(self, lam: float):
        self.evals += 1
        if self.evals > MAX_EVALS:
            raise RuntimeError(f"{self.kind}: the solution did not reach its tolerance {SOLUTION_TOL:g} within "
                               f"{MAX_EVALS} Lagrangian evaluations")
        return lagrangian_point(self.f.market, None, lam=lam)

    def length(self, i: int) -> tuple[float, float]:
        a, b = self.nodes[i], self.nodes[i + 1]
        return (b.surplus - a.surplus) / self.su, abs(a.revenue - b.revenue) / self.sp

    def next_label(self, i: int) -> float | None:
        """A weight strictly between segment i's ends' weights, or None when there is none left."""
        lo, hi = self.nodes[i].hi, self.nodes[i + 1].lo
        if lo <= 0.0:
            return hi * 1e-3 if hi > 1e-12 else None
        mid = math.sqrt(lo * hi) if hi > 2.0 * lo else 0.5 * (lo + hi)
        return mid if lo < mid < hi else None

    def done(self, i: int) -> bool:
        return max(self.length(i)) <= _SHORT or self.next_label(i) is None

    def split(self, i: int, lam: float) -> None:
        """M*_λ for λ inside segment i: a new point, or one end again (then that end's weights widen)."""
        a, b = self.nodes[i], self.nodes[i + 1]
        m, tol = self.evaluate(lam), _SAME * self.f.scale
        if m.surplus <= a.surplus + tol:
            a.hi = lam
        elif m.surplus >= b.surplus - tol:
            b.lo = lam
        else:
            self.nodes.insert(i + 1, _Node(m, lam, lam))

    def active(self, i: int, mu: float) -> list[int]:
        """The segments that may hold the true solution: segment i, or both beside a vertex."""
        segs = [i - 1, i] if mu >= 1.0 else [i, i + 1] if mu <= 0.0 else [i]
        return [s for s in segs if 0 <= s < len(self.nodes) - 1]

    def bracket(self) -> tuple[int, float]:
        while True:
            i, mu = _locate(self.kind, self.nodes, self.f)
            todo = [s for s in self.active(i, mu) if not self.done(s)]
            if not todo:
                return i, mu
            s = max(todo, key=lambda s: max(self.length(s)))
            self.split(s, self.next_label(s))

    def narrow(self, target: float) -> int:
        """The segment holding surplus ``target``, split until done (short, or an exact edge)."""
        while True:
            j = max(0, min(int(np.searchsorted([p.surplus for p in self.nodes], target)) - 1,
                           len(self.nodes) - 2))
            if self.done(j):
                return j
            self.split(j, self.next_label(j))

    def polish(self, i: int, mu: float) -> tuple[int, float]:
        """Nash / cross-side Nash on a curved stretch. The computed M*_λ come on a grid of reserve quantiles
        (``ironing``: ~1e-8), so the last segments are ~1e-8 long and the chord's optimum may sit anywhere on
        them; the first-order condition d/dU [log Π(U) + w log U] = 0 is solved on a cubic fitted to M*_λ at
        about ±D, ±2D instead, and the solution is the mixture on the short segment with that U. Kept only if
        the stretch is smooth (fit residual <= 1e-13), the root lies inside the bracket and the product is not
        lower; otherwise the bracket's solution stands (a kink: the vertex or an exact edge)."""
        segs = self.active(i, mu)
        if not segs or max(max(self.length(s)) for s in segs) > _MODEL_D:
            return i, mu
        lo_node, hi_node = self.nodes[segs[0]], self.nodes[segs[-1] + 1]
        lam0 = math.sqrt(max(lo_node.hi, 1e-300) * hi_node.lo)
        pts = [self.evaluate(lam0 * math.exp(e)) for e in (-1e-3, 1e-3)]
        du = pts[1].surplus - pts[0].surplus
        D = _MODEL_D * (self.f.surplus_max - self.f.surplus_min)
        if not du > 0 or D <= 0:
            return i, mu
        eta = min(2e-3 * D / du, 0.2)
        pts += [self.evaluate(lam0 * math.exp(k * eta)) for k in (-2, -1, 1, 2)]
        u_g = _mix(self.nodes[i], self.nodes[i + 1], mu)[1]
        x = np.array([(p.surplus - u_g) / D for p in pts])
        y = np.array([p.revenue for p in pts])
        if np.ptp(x) < 1.0:
            return i, mu
        with warnings.catch_warnings():  # a poorly conditioned fit is caught by the residual test below
            warnings.simplefilter("ignore", np.exceptions.RankWarning)
            coef = np.polyfit(x, y, 3)
        if np.max(np.abs(np.polyval(coef, x) - y)) > 1e-13 * self.f.scale:
            return i, mu
        target = _model_root(coef, u_g, D, self.f.n if self.kind == "nash" else 1.0, x.min(), x.max())
        span = (lo_node.surplus, hi_node.surplus)
        if target is None or not span[0] <= target <= span[1]:
            return i, mu
        j = self.narrow(target)
        a, b = self.nodes[j], self.nodes[j + 1]
        nu = (b.surplus - target) / (b.surplus - a.surplus) if b.surplus > a.surplus else 1.0
        old = _log_objective(self.kind, self.f, *_mix(self.nodes[i], self.nodes[i + 1], mu))
        new = _log_objective(self.kind, self.f, *_mix(a, b, nu))
        return (j, nu) if new >= old - 1e-13 * abs(old) else (i, mu)


def _model_root(coef, u_g: float, D: float, w: float, x_lo: float, x_hi: float) -> float | None:
    """U where Π'(U)/Π(U) + w/U = 0 on the model Π(U) = polyval(coef, (U - u_g)/D), by bisection (decreasing in
    U on a concave model); None if it has no root in [x_lo, x_hi]."""
    d = np.polyder(coef)

    def g(x):
        pi = np.polyval(coef, x)
        return -math.inf if pi <= 0 else np.polyval(d, x) / (D * pi) + w / (u_g + x * D)

    if not (g(x_lo) > 0 > g(x_hi)):
        return None
    for _ in range(200):
        mid = 0.5 * (x_lo + x_hi)
        if mid in (x_lo, x_hi):
            break
        x_lo, x_hi = (mid, x_hi) if g(mid) > 0 else (x_lo, mid)
    return u_g + 0.5 * (x_lo + x_hi) * D


def solve(frontier: Frontier, kind: str) -> Solution:
    """The KS, Nash or cross-side Nash solution on ``frontier`` with its implementing mechanism, good to
    ``SOLUTION_TOL`` in W/OPT, Π/Π*, U/U* whatever the frontier's ``tol`` (``_Refiner``); the frontier's own
    points are left as they are."""
    from .benchmarks import opt

    if kind not in SOLUTIONS:
        raise InputError("solution", f"must be one of {', '.join(SOLUTIONS)}, got {kind!r}")
    ref = _Refiner(frontier, kind)
    i, mu = ref.bracket()
    if kind != "ks":
        i, mu = ref.polish(i, mu)
    pts = ref.nodes
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
