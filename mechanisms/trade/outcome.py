"""Bilateral trade: the two sides, ex-ante values and ex-post outcomes (textbook ``004`` §5.3.3).

A buyer with value V ~ F (``market.dist``) and a seller with private cost C ~ G (``market.seller``), independent.
A mechanism decides whether the good is traded, what the buyer pays (P) and what the seller receives (R).
Per draw: the buyer's utility is V·trade - P, the seller's R - C·trade, the gains from trade (V - C)·trade,
and the mechanism's budget P - R (negative: a deficit). Ties trade (v >= c), and every side function below
is exact with atoms: Pr[V >= p] is the left-closed survival function of the project's distributions.

Ex-ante values are one-dimensional integrals over one side's quantile, the other side being done in closed
form through Q(p) = Pr[V >= p], A(p) = E[V; V >= p] = V_F(Q(p)) (quantile space, ``docs/architecture.md``),
Gc(p) = Pr[C <= p] and B(p) = E[C; C <= p] = E[C] - V_G(1 - Gc(p)). The integrals use the project's adaptive
Gauss-Kronrod rule (``mechanisms.quadrature.integrate``), which raises when it does not converge.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from distributions.base import Distribution
from distributions.errors import InputError, InputTypeError
from distributions.market import Market

from ..quadrature import integrate

#: the per-draw metrics of an ex-post outcome (and the fields of ``TradeExact`` they estimate)
METRICS = ("trade", "buyer_pays", "seller_receives", "buyer_utility", "seller_utility", "gains", "budget")
#: relative accuracy of the ex-ante integrals
RTOL = 1e-10


@dataclass(frozen=True)
class TradeExact:
    """Ex-ante values of a bilateral-trade mechanism: E of each metric of ``METRICS``; ``trade`` is the
    probability of trade, ``budget`` = buyer_pays - seller_receives (negative: an expected deficit)."""

    trade: float
    buyer_pays: float
    seller_receives: float
    buyer_utility: float
    seller_utility: float
    gains: float
    budget: float
    notes: tuple[str, ...] = ()

    @classmethod
    def from_sums(cls, trade, value, cost, pays, receives, notes=()) -> "TradeExact":
        """From Pr[trade], E[V; trade], E[C; trade], E[P] and E[R]."""
        trade, value, cost, pays, receives = (float(x) for x in (trade, value, cost, pays, receives))
        return cls(trade, pays, receives, value - pays, receives - cost, value - cost, pays - receives,
                   tuple(notes))

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in METRICS}


def mix_exact(parts, weights, notes=()) -> TradeExact:
    """The ex-ante values of a lottery that runs mechanism k (values ``parts[k]``) with probability
    ``weights[k]``: every metric is the weighted sum."""
    vals = {m: float(sum(w * getattr(p, m) for p, w in zip(parts, weights))) for m in METRICS}
    return TradeExact(**vals, notes=tuple(notes))


def outcome_arrays(v, c, trade, pays, receives) -> dict[str, np.ndarray]:
    """The per-draw metrics (``METRICS``) of an outcome: ``trade`` a boolean array, ``pays`` / ``receives`` the
    buyer's payment and the seller's receipt (whatever the trade; 0 where none is made)."""
    t = np.asarray(trade, dtype=float)
    pays = np.asarray(pays, dtype=float) + np.zeros_like(t)
    receives = np.asarray(receives, dtype=float) + np.zeros_like(t)
    gains = np.where(t > 0, v - c, 0.0)
    return {"trade": t, "buyer_pays": pays, "seller_receives": receives,
            "buyer_utility": np.where(t > 0, v, 0.0) - pays, "seller_utility": receives - np.where(t > 0, c, 0.0),
            "gains": gains, "budget": pays - receives}


@dataclass(frozen=True)
class Traders:
    """The buyer's F and the seller's G of a bilateral-trade market, with the side functions Q, A, Gc, B."""

    F: Distribution
    G: Distribution

    @classmethod
    def of(cls, market) -> "Traders":
        """The two sides of ``Market.trade(F, G)``; InputError unless one buyer and a seller with finite means."""
        if not isinstance(market, Market):
            raise InputTypeError("market", f"expected Market.trade(F, G), got {type(market).__name__}")
        if market.seller is None or not market.is_iid or market.n != 1:
            raise InputError("market", f"bilateral trade needs one buyer and a seller (Market.trade(F, G)), got "
                                       f"{market!r}")
        for side, dist in (("buyer", market.dist), ("seller", market.seller)):
            if not math.isfinite(dist.mean):
                raise InputError(side, f"bilateral trade needs a finite mean, {dist.spec} has E = inf (then AGV's "
                                       "expected externality, the offers' optimal prices and the frontier's rents "
                                       "are infinite or undefined)")
        return cls(market.dist, market.seller)

    # ------------------------------------------------------------------ support
    @property
    def v_lo(self) -> float:
        """v̲, the lowest buyer value (the bottom of F's support)."""
        return float(self.F.v(1.0)) + 0.0  # never -0.0

    @property
    def v_hi(self) -> float:
        return float(self.F.support[1])

    @property
    def c_lo(self) -> float:
        return float(self.G.v(1.0)) + 0.0

    @property
    def c_hi(self) -> float:
        """c̄, the highest cost (inf for an unbounded G)."""
        return float(self.G.support[1])

    # ------------------------------------------------------------------ buyer side
    def Q(self, p):
        """Pr[V >= p] (1 below the support, 0 above it and at p = inf)."""
        p = np.asarray(p, dtype=float)
        with np.errstate(invalid="ignore", over="ignore"):
            q = np.asarray(self.F.sf(np.clip(p, self.v_lo, None)), dtype=float)
        return np.where(p > self.v_hi, 0.0, np.where(p <= self.v_lo, 1.0, np.clip(q, 0.0, 1.0)))

    def A(self, p):
        """E[V; V >= p] = V_F(Pr[V >= p])."""
        return np.asarray(self.F.V(self.Q(p)), dtype=float)

    # ------------------------------------------------------------------ seller side
    def Gc(self, p):
        """Pr[C <= p] (right-continuous: ties trade)."""
        p = np.asarray(p, dtype=float)
        with np.errstate(invalid="ignore", over="ignore"):
            g = np.asarray(self.G.cdf(np.clip(p, self.c_lo, None)), dtype=float)
        return np.where(p < self.c_lo, 0.0, np.where(p >= self.c_hi, 1.0, np.clip(g, 0.0, 1.0)))

    def B(self, p):
        """E[C; C <= p] = E[C] - V_G(Pr[C > p])."""
        top = np.clip(1.0 - self.Gc(p), 0.0, 1.0)
        return np.maximum(self.G.mean - np.asarray(self.G.V(top), dtype=float), 0.0)

    # ------------------------------------------------------------------ breakpoints
    def cost_breaks(self, costs=()) -> list[float]:
        """Seller quantiles s = Pr[C >= c] where an integrand over s may jump: G's atoms and gaps, and both
        sides (Pr[C >= x], Pr[C > x]) of each cost x in ``costs`` (where the mechanism's rule jumps)."""
        pts = [0.0, 1.0] + [p for a, b, _ in self.G.atoms_q() for p in (a, b)] + list(self.G.jumps_q())
        for x in costs:
            if math.isfinite(x):
                pts += [float(self.G.sf(x)), 1.0 - float(self.G.cdf(x))]
        return sorted({min(max(p, 0.0), 1.0) for p in pts})

    def value_breaks(self, values=()) -> list[float]:
        """Buyer quantiles q = Pr[V >= v] where an integrand over q may jump (F's atoms, gaps, ``values``)."""
        pts = [0.0, 1.0] + [p for a, b, _ in self.F.atoms_q() for p in (a, b)] + list(self.F.jumps_q())
        for x in values:
            if math.isfinite(x):
                pts += [float(self.F.sf(x)), 1.0 - float(self.F.cdf(x))]
        return sorted({min(max(p, 0.0), 1.0) for p in pts})


def over_cost(traders: Traders, fn, costs=(), what: str = "trade") -> np.ndarray:
    """E[fn(C)] for ``fn(c) -> array (k, len(c))``: ∫₀¹ fn(c(s)) ds with c(s) = v_G(s) the seller's value
    function (s = Pr[C >= c]); ``costs``: where fn jumps. Raises ``QuadratureError`` when unconverged."""
    def f(s):
        return np.atleast_2d(fn(np.asarray(traders.G.v(s), dtype=float)))
    return integrate(f, traders.cost_breaks(costs), rtol=RTOL, rtol_joint=1e-14, max_rounds=64,
                     what=f"{what} (integral over the seller's cost)")


def over_value(traders: Traders, fn, values=(), what: str = "trade") -> np.ndarray:
    """E[fn(V)] for ``fn(v) -> array (k, len(v))``: ∫₀¹ fn(v_F(q)) dq; ``values``: where fn jumps."""
    def f(q):
        return np.atleast_2d(fn(np.asarray(traders.F.v(q), dtype=float)))
    return integrate(f, traders.value_breaks(values), rtol=RTOL, rtol_joint=1e-14, max_rounds=64,
                     what=f"{what} (integral over the buyer's value)")


class TradeMechanism:
    """A bilateral-trade mechanism: ``exact(market) -> TradeExact`` and the vectorised ex-post
    ``outcome(market, v, c) -> {metric: array}`` (``METRICS``) for draws v ~ F, c ~ G."""

    name: str = "trade-mechanism"
    #: True when ``outcome`` takes a fourth argument ``coin``: independent uniforms on [0, 1), one per draw
    randomized: bool = False

    def exact(self, market) -> TradeExact:  # pragma: no cover - abstract
        raise NotImplementedError

    def outcome(self, market, v, c) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
