"""The k-double auction (Chatterjee and Samuelson, 1983) and its linear equilibrium for uniform traders.

The buyer bids b, the seller asks s; trade iff b >= s, at the price k b + (1 - k) s (k in [0, 1]). With v, c
uniform on [0, 1] the linear Bayes–Nash equilibrium is

    b(v) = v/(1 + k) + k(1 - k)/(2(1 + k)),     s(c) = c/(2 - k) + (1 - k)/2.

Derivation (checked numerically in tests/test_trade.py by best responses): against an ask uniform on
[α_s, α_s + β_s], a buyer bidding b earns ∫_{α_s}^b (v - k b - (1 - k) x) dx / β_s, whose FOC is
v - b - k (b - α_s) = 0, so b(v) = (v + k α_s)/(1 + k); against a bid uniform on [α_b, α_b + β_b] the seller's FOC
is -(s - c) + (1 - k)(α_b + β_b - s) = 0, s(c) = (c + (1 - k)(α_b + β_b))/(2 - k). Matching coefficients gives
β_b = 1/(1 + k), β_s = 1/(2 - k), α_s = (1 - k)/2 and α_b = k(1 - k)/(2(1 + k)). For k = 1/2: b = 2v/3 + 1/12,
s = 2c/3 + 1/4, trade iff v - c >= 1/4: the Myerson–Satterthwaite second best, gains 9/64. k = 0 is the
seller-offer mechanism (b = v, s = (1 + c)/2), k = 1 the buyer-offer one (b = v/2, s = c).

Uniform traders on one common interval [l, h] are the same game in the units x -> (x - l)/(h - l). Any other
pair of distributions is an InputError: no numerical equilibrium is computed.
"""
from __future__ import annotations

import math

import numpy as np

from distributions.errors import InputError
from distributions.families import Uniform

from .outcome import TradeExact, TradeMechanism, Traders, outcome_arrays, over_cost


def linear_equilibrium(k: float) -> tuple[float, float, float, float]:
    """(β_b, α_b, β_s, α_s): b(v) = β_b v + α_b, s(c) = β_s c + α_s for v, c ~ U[0, 1] (module doc)."""
    return 1.0 / (1.0 + k), k * (1.0 - k) / (2.0 * (1.0 + k)), 1.0 / (2.0 - k), (1.0 - k) / 2.0


class DoubleAuction(TradeMechanism):
    """The k-double auction played in its linear equilibrium (uniform buyer and seller on one interval)."""

    def __init__(self, k: float = 0.5):
        if isinstance(k, bool) or not isinstance(k, (int, float)) or not (math.isfinite(k) and 0.0 <= k <= 1.0):
            raise InputError("k", f"expected a number in [0, 1], got {k!r}")
        self.k = float(k)
        self.name = f"double:k={self.k:g}"

    def interval(self, market) -> tuple[float, float]:
        """The common interval [l, h] of the uniform buyer and seller, else InputError."""
        tr = Traders.of(market)
        if not (isinstance(tr.F, Uniform) and isinstance(tr.G, Uniform) and tr.F.low == tr.G.low
                and tr.F.high == tr.G.high):
            raise InputError("market", f"the k-double auction's linear equilibrium is known in closed form only for "
                                       f"uniform buyer and seller on one interval; got buyer {tr.F.spec}, seller "
                                       f"{tr.G.spec} (no numerical equilibrium is computed)")
        return tr.F.low, tr.F.high

    def strategies(self, market):
        """(bid(v), ask(c)) of the linear equilibrium, vectorised, in the market's units."""
        lo, hi = self.interval(market)
        width = hi - lo
        beta_b, alpha_b, beta_s, alpha_s = linear_equilibrium(self.k)

        def bid(v):
            return lo + width * (beta_b * (np.asarray(v, dtype=float) - lo) / width + alpha_b)

        def ask(c):
            return lo + width * (beta_s * (np.asarray(c, dtype=float) - lo) / width + alpha_s)
        return bid, ask

    def threshold(self, market, c):
        """θ(c): the lowest value whose bid meets the ask s(c), b^{-1}(s(c)) (may exceed the support)."""
        lo, hi = self.interval(market)
        beta_b, alpha_b, _, _ = linear_equilibrium(self.k)
        _, ask = self.strategies(market)
        return lo + (hi - lo) * (((ask(c) - lo) / (hi - lo) - alpha_b) / beta_b)

    def exact(self, market) -> TradeExact:
        """Per cost c: trade iff v >= θ(c); the price k b(v) + (1 - k) s(c) has E[b(V); V >= θ] = β_b-affine
        in A(θ) and Q(θ)."""
        tr = Traders.of(market)
        bid, ask = self.strategies(market)
        lo, hi = self.interval(market)
        beta_b, alpha_b, _, _ = linear_equilibrium(self.k)
        k = self.k

        def per_cost(c):
            theta = self.threshold(market, c)
            q, a = tr.Q(theta), tr.A(theta)
            bids = (lo + (hi - lo) * alpha_b - beta_b * lo) * q + beta_b * a  # E[b(V); V >= θ]
            return np.array([q, a, c * q, k * bids + (1.0 - k) * ask(c) * q])
        trade, value, cost, pays = over_cost(tr, per_cost, what=self.name)
        return TradeExact.from_sums(trade, value, cost, pays, pays)

    def outcome(self, market, v, c):
        bid, ask = self.strategies(market)
        b, s = bid(v), ask(c)
        trade = b >= s
        pays = np.where(trade, self.k * b + (1.0 - self.k) * s, 0.0)
        return outcome_arrays(v, c, trade, pays, pays)
