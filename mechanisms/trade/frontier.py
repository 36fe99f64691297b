"""The Pareto frontier of (seller utility Π, buyer utility U) in bilateral trade, and the KS / Nash solutions on
it (paper, Sections 3-4 and Appendix D.4; textbook 004, §5.3 for the two-sided model).

One buyer with value v ~ F, one seller with private cost c ~ G; a mechanism trades with probability x(v, c).
For any IC, IR mechanism (envelope theorem, IR binding or not at the worst types: the lowest buyer v_low,
the highest-cost seller c_high)

    U = E[x h_B(v)] + u_B,   h_B(v) = (1 - F(v)) / f(v)    (buyer's information rent),
    Π = E[x h_S(c)] + u_S,   h_S(c) = G(c) / g(c)           (seller's information rent),
    budget = E[x (ψ(v) - φ(c))] - u_B - u_S >= 0,   ψ(v) = v - h_B(v),  φ(c) = c + h_S(c),

with u_B, u_S >= 0 the worst types' utilities (an ex-ante budget-balanced mechanism is made budget-balanced on
every draw by AGV-style transfers that keep the interim utilities, textbook §5.3). Maximising λΠ + (1-λ)U with a
multiplier μ >= 0 on the budget gives κ = max(λ, 1-λ) + μ and the pointwise rule (the two sides' weighted
virtual values)

    trade  iff  v - a h_B(v) >= c + b h_S(c),   a = 1 - (1-λ)/κ,   b = 1 - λ/κ,

ironed where either side is not monotone; any budget left over goes to the side with the larger weight (its
worst type). μ = 0 while that budget is >= 0, else μ > 0 makes it bind. λ = 1 is the seller-offer mechanism
(a = 1, b = 0: the seller posts her monopoly price against F), λ = 0 the buyer-offer mechanism (a = 0, b = 1),
λ = 1/2 the Myerson-Satterthwaite second best (a = b). The frontier is the concave hull of these optima: between
two extreme points, ex-ante mixtures (as in the one-sided frontier, Corollaries 3.6, 3.8).

Computation, in quantile space: the buyer's q = 1 - F(v) and the seller's s = G(c) on a grid (a gap in a
support is a repeated node). On each grid interval the weighted virtual value is the slope of a curve,
(1-a)V + aR for the buyer (V(q) = ∫_0^q v, R = q v(q)) and (1-b)C + b s c(s) for the seller (C(s) = ∫_0^s c);
ironing = the slopes of the concave (buyer) / convex (seller) hull of that curve. The trade region is then a
staircase {s <= s*(q)} (ties trade), and a mechanism that trades on that staircase is itself IC (monotone
interim allocations) and IR, so every reported (Π, U) is the exact value of a feasible mechanism: the frontier
is approached from inside, to O(grid²) (~1e-7 relative with 4001 nodes) for regular traders; where an ironed
interval binds (a gap, an atom, a non-regular density), the staircase snaps the seller's side to grid nodes
uniformly over the interval and the error is O(grid) (measured 1.1e-5 in the second best's gains for a buyer
with a gap, against ``second_best.SecondBest``, which irons with refined intervals):
E[x v] = Σ s*_j ΔV_j, E[x h_B] = Σ s*_j ΔS_j (S = V - R), E[x c] = Σ Δq_j C(s*_j),
E[x h_S] = Σ Δq_j (s* c(s*) - C(s*))_j.

Bargaining solutions (paper, Section 4 with the disagreement point (0, 0), no trade): KS (Definition 4.1) is the
frontier point with Π/Π* = U/U*, Π* the seller's utility in the seller-offer mechanism and U* the buyer's in the
buyer-offer mechanism (the best each side can get); Nash (Definition 5.1 with one buyer, the same as the
cross-side Nash of Definition 5.2) maximises Π·U. Both are found by bisection on λ (``solve``).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from distributions.base import Distribution
from distributions.errors import InputError, InputTypeError

from .hull import iron

#: grid nodes per side (Chebyshev-spaced: dense near both ends, where unbounded supports live)
GRID = 4001
#: the bisection on λ for the solutions stops when the bracket is this narrow, or when its two optima are
#: closer than SAME (relative to max(Π*, U*)): the chord between them is then the frontier to ~SAME²
BISECT_TOL = 1e-12
SAME = 1e-10
#: the bisection on t = μ/(1+μ) for the budget: a, b move by at most this (values by ~1e-10, far below the
#: grid's O(h²) ~ 1e-7)
MU_TOL = 1e-10
SOLUTIONS = ("ks", "nash")


def _nodes(n: int, jumps=(), edges=()) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, evaluation points) on [0, 1]: n Chebyshev-spaced nodes t = (1 - cos(π u)) / 2 (dense near 0 and
    1, where unbounded supports live), every atom's edges once (so that an atom, where the curves are straight,
    is a union of whole intervals) and every jump of the value function twice, so that a gap in the
    support is a zero-width interval: the first copy evaluates v at the jump (the upper value, v being
    left-continuous), the second just after it (the lower value)."""
    t = 0.5 * (1.0 - np.cos(np.pi * np.linspace(0.0, 1.0, n)))
    t[0], t[-1] = 0.0, 1.0
    jumps = np.array([j for j in jumps if 0.0 < j < 1.0], float)
    edges = np.array([e for e in edges if 0.0 < e < 1.0 and e not in jumps], float)
    t = np.unique(np.concatenate([t[~np.isin(t, jumps)], edges]))
    t = np.sort(np.concatenate([t, jumps, jumps]))
    at = t.copy()
    second = np.concatenate([[False], t[1:] == t[:-1]])
    at[second] = np.nextafter(t[second], 2.0)
    return t, at


@dataclass(frozen=True, eq=False)
class Side:
    """One trader on a quantile grid t (buyer: q = 1 - F(v), high values first; seller: s = G(c), low costs
    first), so that on both sides the trader is 'better for trade' at small t; a gap in the support is a
    repeated node (a zero-width interval).

    At each node: ``total`` = ∫_0^t value (buyer V(q); seller C(s) = ∫_0^s c), ``rent_curve`` = the curve whose
    slope is the virtual value (buyer R(q) = q v(q): slope ψ; seller s c(s): slope φ), ``info`` = the
    information rent of the types before t (buyer S(q) = V - R = ∫_0^q h_B; seller s c(s) - C(s) = ∫_0^s h_S).
    The weighted virtual value (1-w)·value + w·virtual value is the slope of total + w (rent_curve - total)."""

    t: np.ndarray
    total: np.ndarray
    rent_curve: np.ndarray
    info: np.ndarray
    increasing: bool  # the virtual values must be non-decreasing in t (seller) or non-increasing (buyer)

    @property
    def dt(self) -> np.ndarray:
        return np.diff(self.t)

    def curve(self, w: float) -> np.ndarray:
        """total + w (rent_curve - total) at the nodes (w = 0: no inf·0)."""
        if w == 0.0:
            return self.total.copy()
        with np.errstate(invalid="ignore"):
            out = self.total + w * (self.rent_curve - self.total)
        return np.where(np.isinf(self.rent_curve), self.rent_curve, out)

    def weighted(self, w: float) -> np.ndarray:
        """The ironed weighted virtual value on each interval (``iron``)."""
        return iron(self.t, self.curve(w), self.increasing)


def atom_edges(dist: Distribution) -> list[float]:
    """The quantiles where ``dist``'s atoms begin and end (its own quantile, Pr[X >= x])."""
    return sorted({float(e) for lo, hi, _ in dist.atoms_q() for e in (lo, hi)})


@functools.lru_cache(maxsize=64)
def buyer_side(F: Distribution, n: int = GRID) -> Side:
    """The buyer's curves V(q), R(q), S(q) (the distribution's own closed forms) on the grid."""
    _check(F, "buyer")
    q, at = _nodes(n, F.jumps_q(), atom_edges(F))
    V = np.asarray(F.V(q), float)
    _check_finite("buyer", F, V[-1])
    R, S = np.asarray(F.R(q), float), np.asarray(F.S(q), float)
    second = at != q
    R[second] = q[second] * np.asarray(F.v(at[second]), float)
    S[second] = V[second] - R[second]
    return Side(q, V, R, S, increasing=False)


@functools.lru_cache(maxsize=64)
def seller_side(G: Distribution, n: int = GRID) -> Side:
    """The seller's curves in s = G(c) from the distribution's quantile r = 1 - s = Pr[c >= x] (kept as r, so
    that s -> 1 keeps its precision): c(s) = v_G(r), C(s) = E[c] - V_G(r), s c(s) - C(s)."""
    _check(G, "seller")
    r, at = _nodes(n, G.jumps_q(), atom_edges(G))
    r, at = r[::-1], at[::-1]
    s = 1.0 - r
    mean = G.mean
    _check_finite("seller", G, mean)
    C = mean - np.asarray(G.V(r), float)
    C[0] = 0.0
    with np.errstate(invalid="ignore"):
        sc = np.where(s == 0, 0.0, s * np.asarray(G.v(at), float))
    if not math.isfinite(sc[-1]):  # unbounded costs: a staircase trading with the top interval's costs up to
        C = C.copy()  # infinity would pay an infinite rent; it never trades there (slope inf on both curves)
        C[-1] = math.inf
    with np.errstate(invalid="ignore"):
        info = sc - C  # inf - inf at the top of an unbounded seller: never read (that interval never trades)
    return Side(s, C, sc, info, increasing=True)


def _check(dist, role: str) -> None:
    if not isinstance(dist, Distribution):
        raise InputTypeError(role, f"expected a Distribution, got {type(dist).__name__} {dist!r}")


def _check_finite(role: str, dist, mean) -> None:
    if not math.isfinite(float(mean)):
        raise InputError(role, f"{dist.spec}: the mean is infinite; bilateral trade needs a finite mean")


@dataclass(frozen=True)
class TradeValues:
    """Ex-ante values of the rule 'trade iff v - a h_B >= c + b h_S' (ironed) before the budget's slack is
    handed out: trade probability, gains from trade E[x (v - c)], the information rents E[x h_B], E[x h_S] and
    the budget E[x (ψ - φ)] (the most the worst types can be given); ``value`` = E[x v], ``cost`` = E[x c]."""

    a: float
    b: float
    prob: float
    gains: float
    buyer_rent: float
    seller_rent: float
    value: float = math.nan
    cost: float = math.nan

    @property
    def budget(self) -> float:
        return self.gains - self.buyer_rent - self.seller_rent


def rule_values(buyer: Side, seller: Side, a: float, b: float) -> TradeValues:
    """Exact values of the staircase rule on the grid (module docstring): s*(q) = the seller quantile up to
    which Φ_b(s) <= Ψ_a(q), ties trade."""
    psi, phi = buyer.weighted(a), seller.weighted(b)
    k = np.searchsorted(phi, psi, side="right")
    s_star = seller.t[k]
    dq = buyer.dt
    prob = float(np.dot(dq, s_star))
    ev = float(np.dot(np.diff(buyer.total), s_star))
    ec = float(np.dot(dq, seller.total[k]))
    rent_b = float(np.dot(np.diff(buyer.info), s_star))
    rent_s = float(np.dot(dq, seller.info[k]))
    return TradeValues(a, b, prob, ev - ec, rent_b, rent_s, ev, ec)


@dataclass(frozen=True)
class FrontierPoint:
    """The Lagrangian optimum for the weight λ on Π (1 - λ on U): its rule (a, b), the budget's multiplier μ,
    who gets the budget left over (``slack_to``) and the ex-ante (Π, U)."""

    lam: float
    mu: float
    values: TradeValues
    slack_to: str  # "seller" or "buyer"

    @property
    def slack(self) -> float:
        return max(self.values.budget, 0.0)

    @property
    def seller_utility(self) -> float:
        return self.values.seller_rent + (self.slack if self.slack_to == "seller" else 0.0)

    @property
    def buyer_utility(self) -> float:
        return self.values.buyer_rent + (self.slack if self.slack_to == "buyer" else 0.0)

    @property
    def gains(self) -> float:
        return self.seller_utility + self.buyer_utility

    def objective(self, lam: float) -> float:
        return lam * self.seller_utility + (1.0 - lam) * self.buyer_utility

    def describe(self) -> str:
        a, b = self.values.a, self.values.b
        return (f"trade iff v - {a:.6g}(1-F(v))/f(v) >= c + {b:.6g} G(c)/g(c) (ironed); "
                f"budget left {self.slack:.3g} to the worst {self.slack_to}")


def weights(lam: float, mu: float) -> tuple[float, float]:
    """(a, b) of the Lagrangian rule: κ = max(λ, 1-λ) + μ, a = 1 - (1-λ)/κ, b = 1 - λ/κ (module docstring)."""
    kappa = max(lam, 1.0 - lam) + mu
    return 1.0 - (1.0 - lam) / kappa, 1.0 - lam / kappa


def lagrangian_point(buyer: Side, seller: Side, lam: float) -> FrontierPoint:
    """max λΠ + (1-λ)U over IC, IR, budget-balanced mechanisms. μ = 0 if that rule's budget is >= 0; else the
    smallest μ (bisection on t = μ/(1+μ) in [0, 1], t = 1: a = b = 1, trade iff ψ >= φ, budget >= 0) whose
    rule balances the budget: on the grid the budget is a step function of μ, and the feasible end of the
    final bracket is kept (its slack, at most one grid step, goes to the favoured side)."""
    lam = float(lam)
    if not 0.0 <= lam <= 1.0:
        raise InputError("lam", f"the weight on the seller's utility must lie in [0, 1], got {lam!r}")
    side = "seller" if lam >= 0.5 else "buyer"
    vals = rule_values(buyer, seller, *weights(lam, 0.0))
    if vals.budget >= 0:
        return FrontierPoint(lam, 0.0, vals, side)
    lo, hi = 0.0, 1.0
    best = rule_values(buyer, seller, 1.0, 1.0)
    while hi - lo > MU_TOL:
        t = 0.5 * (lo + hi)
        trial = rule_values(buyer, seller, *weights(lam, t / (1.0 - t)))
        if trial.budget >= 0:
            hi, best = t, trial
        else:
            lo = t
    return FrontierPoint(lam, hi / (1.0 - hi) if hi < 1 else math.inf, best, side)


class TradeFrontier:
    """The Pareto frontier of (Π, U) for one buyer v ~ F and one seller c ~ G: extreme points from the
    seller-offer mechanism (λ = 1, Π = Π*) to the buyer-offer mechanism (λ = 0, U = U*), sorted by U; between
    them ex-ante mixtures. Extreme points are found by dichotomy on supporting lines (as ``mechanisms.frontier``):
    between A and B the weight λ* that makes them equally good gives M*_λ*, a new extreme point when it beats
    the chord by more than ``tol`` (relative to max(Π*, U*))."""

    def __init__(self, buyer: Distribution, seller: Distribution, tol: float = 1e-7, max_points: int = 200,
                 grid: int = GRID):
        self.F, self.G = buyer, seller
        self.buyer, self.seller = buyer_side(buyer, grid), seller_side(seller, grid)
        som, bom = self.point(1.0), self.point(0.0)
        self.seller_max, self.buyer_max = som.seller_utility, bom.buyer_utility  # Π*, U*
        if not (self.seller_max > 0 and self.buyer_max > 0):
            raise InputError("seller", f"no gains from trade between buyer {buyer.spec} and seller {seller.spec} "
                                       f"(the seller's cost is never below the buyer's value)")
        self.scale, self.tol, self.max_points = max(self.seller_max, self.buyer_max), tol, int(max_points)
        self.converged = True
        self.points = self._search(som, bom)

    @classmethod
    def of_market(cls, market, **kw) -> "TradeFrontier":
        """The frontier of ``Market.trade(F, G)`` (buyer ``market.dist``, seller ``market.seller``)."""
        if getattr(market, "seller", None) is None:
            raise InputError("market", "expected a bilateral-trade market (Market.trade(F, G)) with a seller")
        return cls(market.dist, market.seller, **kw)

    def point(self, lam: float) -> FrontierPoint:
        return lagrangian_point(self.buyer, self.seller, lam)

    @property
    def seller_offer(self) -> FrontierPoint:
        return self.points[0]

    @property
    def buyer_offer(self) -> FrontierPoint:
        return self.points[-1]

    @functools.cached_property
    def second_best(self) -> FrontierPoint:
        """Myerson-Satterthwaite's second best: max Π + U (λ = 1/2, a = b where the budget binds)."""
        return self.point(0.5)

    @functools.cached_property
    def first_best(self) -> float:
        """E[(v - c)+]: the gains of trading whenever v >= c (a = b = 0, ignoring the budget)."""
        return rule_values(self.buyer, self.seller, 0.0, 0.0).gains

    def _search(self, left: FrontierPoint, right: FrontierPoint) -> list[FrontierPoint]:
        """Extreme points between the offer mechanisms by supporting lines (``mechanisms.dichotomy``)."""
        from ..dichotomy import dichotomy

        def probe(a, b):
            d_pi, d_u = a.seller_utility - b.seller_utility, b.buyer_utility - a.buyer_utility
            if d_pi <= 0 or d_u <= 0:
                return 0.0, None, 0
            lam = d_u / (d_pi + d_u)
            mid = self.point(lam)
            inside = a.buyer_utility < mid.buyer_utility < b.buyer_utility
            return mid.objective(lam) - a.objective(lam), (mid if inside else None), 1

        out, gap = dichotomy(left, right, probe, self.tol * self.scale, self.max_points)
        self.converged = not gap
        return _upper_chain(out)

    # ------------------------------------------------------------------ queries
    def seller_utility_at(self, U: float) -> float:
        """Π(U) on the frontier: the chord between the neighbouring extreme points (a mixture), U in
        [U(seller-offer), U*]."""
        us = np.array([p.buyer_utility for p in self.points])
        pis = np.array([p.seller_utility for p in self.points])
        if not us[0] - 1e-12 * self.scale <= U <= us[-1] + 1e-12 * self.scale:
            raise InputError("U", f"must lie in [U(seller-offer), U*] = [{us[0]:.6g}, {us[-1]:.6g}], got {U:.6g}")
        return float(np.interp(U, us, pis))

    def curve(self, k: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """k points (U, Π(U)) evenly spaced in U, plus every extreme point."""
        us = np.unique(np.concatenate([np.linspace(self.points[0].buyer_utility, self.buyer_max, k),
                                       [p.buyer_utility for p in self.points]]))
        return us, np.array([self.seller_utility_at(u) for u in us])

    def to_frame(self):
        """The extreme points: λ, μ, the rule's weights a, b, Π, U, gains, trade probability, slack."""
        import pandas as pd

        return pd.DataFrame([{"lambda": p.lam, "mu": p.mu, "a": p.values.a, "b": p.values.b,
                              "seller_utility": p.seller_utility, "buyer_utility": p.buyer_utility,
                              "gains": p.gains, "trade_prob": p.values.prob, "slack": p.slack,
                              "slack_to": p.slack_to} for p in self.points])

    def solve(self, kind: str) -> "TradeSolution":
        return solve(self, kind)


def _upper_chain(pts: list[FrontierPoint]) -> list[FrontierPoint]:
    """Sorted by U; points not strictly better in Π than every point with more U are dropped."""
    pts = sorted(pts, key=lambda p: (p.buyer_utility, -p.seller_utility))
    keep: list[FrontierPoint] = []
    for p in pts:
        while keep and p.seller_utility >= keep[-1].seller_utility:
            keep.pop()
        keep.append(p)
    return keep


@dataclass(frozen=True)
class TradeSolution:
    """A bargaining solution on the trade frontier: the ex-ante mixture 'run ``low`` (the point with less U)
    with probability ``nu_low``, else ``high``' and its (Π, U)."""

    kind: str
    seller_utility: float
    buyer_utility: float
    low: FrontierPoint
    high: FrontierPoint
    nu_low: float
    seller_max: float  # Π*
    buyer_max: float  # U*
    first_best: float
    second_best: float

    @property
    def gains(self) -> float:
        return self.seller_utility + self.buyer_utility

    def as_dict(self) -> dict:
        return {"solution": self.kind, "seller_utility": self.seller_utility, "buyer_utility": self.buyer_utility,
                "gains": self.gains, "seller_ratio": self.seller_utility / self.seller_max,
                "buyer_ratio": self.buyer_utility / self.buyer_max,
                "gains_over_ideal": self.gains / (self.seller_max + self.buyer_max),
                "gains_over_first_best": self.gains / self.first_best,
                "gains_over_second_best": self.gains / self.second_best}

    def describe(self) -> str:
        """The implementing mechanism: one extreme point, or the ex-ante mixture of the two (two points closer
        than 1e-9 of Π* + U* are one mechanism to the digits shown)."""
        close = abs(self.high.buyer_utility - self.low.buyer_utility) <= 1e-9 * (self.seller_max + self.buyer_max)
        if self.nu_low >= 1.0 or self.low is self.high or (close and self.nu_low >= 0.5):
            return self.low.describe()
        if self.nu_low <= 0.0 or close:
            return self.high.describe()
        return f"p={self.nu_low:.6g}: {self.low.describe()} | p={1 - self.nu_low:.6g}: {self.high.describe()}"


def _condition(kind: str, f: TradeFrontier, p: FrontierPoint) -> float:
    """Increasing in λ along the frontier; its root is the solution. KS (Definition 4.1 with Π*, U* the two
    offer mechanisms' utilities): Π/Π* - U/U*. Nash (max Π·U, Definition 5.2 with one buyer): the supporting
    line's normal (λ, 1-λ) is parallel to (1/Π, 1/U) at the optimum, i.e. λ = U / (Π + U)."""
    if kind == "ks":
        return p.seller_utility / f.seller_max - p.buyer_utility / f.buyer_max
    return p.lam - p.buyer_utility / p.gains if p.gains > 0 else p.lam - 0.5


def _on_segment(kind: str, f: TradeFrontier, a: FrontierPoint, b: FrontierPoint) -> float:
    """The weight ν of a (less U) in ν a + (1-ν) b solving the condition on the chord a-b, clipped to [0, 1]."""
    pa, ua, pb, ub = a.seller_utility, a.buyer_utility, b.seller_utility, b.buyer_utility
    dp, du = pb - pa, ub - ua
    if abs(du) <= 1e-15 * f.scale:
        return 1.0
    if kind == "ks":
        ga, gb = pa / f.seller_max - ua / f.buyer_max, pb / f.seller_max - ub / f.buyer_max
        nu = -gb / (ga - gb) if ga != gb else 1.0
    else:  # max (pb - ν dp)(ub - ν du): stationary at ν = (dp ub + du pb) / (2 dp du)
        nu = (dp * ub + du * pb) / (2.0 * dp * du) if dp * du != 0 else 1.0
    return float(np.clip(nu, 0.0, 1.0))


def solve(f: TradeFrontier, kind: str) -> TradeSolution:
    """KS or Nash: bisection on λ for the root of ``_condition`` (increasing in λ); the final bracket's two
    optima are equal or the ends of an exact edge of the frontier (a jump of M*_λ), and the solution is the
    mixture on that chord solving the condition."""
    if kind not in SOLUTIONS:
        raise InputError("solution", f"must be one of {', '.join(SOLUTIONS)}, got {kind!r}")
    lo, hi = f.buyer_offer, f.seller_offer  # condition <= 0 at λ = 0, >= 0 at λ = 1
    while hi.lam - lo.lam > BISECT_TOL and max(abs(hi.seller_utility - lo.seller_utility),
                                               abs(hi.buyer_utility - lo.buyer_utility)) > SAME * f.scale:
        mid = f.point(0.5 * (lo.lam + hi.lam))
        if _condition(kind, f, mid) < 0:
            lo = mid
        else:
            hi = mid
    a, b = hi, lo  # a: less U (larger λ)
    nu = _on_segment(kind, f, a, b)
    pi = nu * a.seller_utility + (1 - nu) * b.seller_utility
    u = nu * a.buyer_utility + (1 - nu) * b.buyer_utility
    return TradeSolution(kind, pi, u, a, b, nu, f.seller_max, f.buyer_max, f.first_best, f.second_best.gains)
