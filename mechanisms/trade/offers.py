"""The seller-offer and buyer-offer mechanisms (paper, Appendix D.4: SOM, the seller-optimal mechanism, and BOM,
the buyer-optimal one).

Seller-offer: the seller, knowing her cost c, posts the price p(c) = argmax_p (p - c) Pr[V >= p]; the buyer buys
iff v >= p(c). For a regular F the first-order condition is ψ(p) = c (ψ the virtual value), i.e. the trade rule
ψ(v) >= c of ``second_best.TradeRule`` with weights (a_buyer, a_seller) = (1, 0), whose threshold θ(c) is p(c).
Buyer-offer: the buyer, knowing v, offers p(v) = argmax_p (v - p) Pr[C <= p]; FOC γ(p) = p + G(p)/g(p) = v,
the rule with weights (0, 1) and p(v) = κ(v). Both are budget balanced on every draw (one price) and ex-post IR.

Two uniform traders on [0, 1]: p(c) = (1 + c)/2, gains 1/8, seller profit 1/12, buyer utility 1/24; the buyer-offer
p(v) = v/2 mirrors it (buyer 1/12, seller 1/24). Any traders: where the offered-to side is not regular (atoms,
gaps, a non-monotone ψ or γ) its virtual value is ironed (``virtual``), and the rule ψ̄(v) >= c still posts the
seller's optimal price (her profit R̄(q) - c q is maximised at a vertex of the revenue curve's hull, where
R̄ = R); ties go to the lowest maximiser.
"""
from __future__ import annotations

import numpy as np

from .outcome import TradeExact, TradeMechanism, outcome_arrays, over_cost, over_value
from .second_best import TradeRule


class SellerOffer(TradeMechanism):
    """The seller posts her monopoly price p(c) (ψ(p) = c); the buyer takes it iff v >= p(c)."""

    name = "seller-offer"

    def price(self, market, c):
        """p(c) = argmax_p (p - c)(1 - F(p)) (inf where no price sells at a profit)."""
        return TradeRule(market, 1.0, 0.0).threshold(c)

    def exact(self, market) -> TradeExact:
        rule = TradeRule(market, 1.0, 0.0)
        tr = rule.traders

        def per_cost(c):
            p = rule.threshold(c)
            q = tr.Q(p)
            with np.errstate(invalid="ignore"):
                return np.array([q, tr.A(p), c * q, np.where(q > 0, p * q, 0.0)])
        trade, value, cost, pays = over_cost(tr, per_cost, rule.jumps()[0], what="seller-offer")
        return TradeExact.from_sums(trade, value, cost, pays, pays)

    def outcome(self, market, v, c):
        p = self.price(market, c)
        trade = v >= p
        pays = np.where(trade, p, 0.0)
        return outcome_arrays(v, c, trade, pays, pays)


class BuyerOffer(TradeMechanism):
    """The buyer offers p(v) (p + G(p)/g(p) = v); the seller takes it iff c <= p(v)."""

    name = "buyer-offer"

    def price(self, market, v):
        """p(v) = argmax_p (v - p) G(p) (-inf where no offer is accepted at a profit)."""
        return TradeRule(market, 0.0, 1.0).critical_cost(v)

    def exact(self, market) -> TradeExact:
        rule = TradeRule(market, 0.0, 1.0)
        tr = rule.traders

        def per_value(v):
            p = rule.critical_cost(v)
            g = tr.Gc(p)
            with np.errstate(invalid="ignore"):
                return np.array([g, v * g, tr.B(p), np.where(g > 0, p * g, 0.0)])
        trade, value, cost, pays = over_value(tr, per_value, rule.jumps()[1], what="buyer-offer")
        return TradeExact.from_sums(trade, value, cost, pays, pays)

    def outcome(self, market, v, c):
        p = self.price(market, v)
        trade = c <= p
        pays = np.where(trade, p, 0.0)
        return outcome_arrays(v, c, trade, pays, pays)
