"""First-best VCG for bilateral trade (textbook ``004`` §5.3.1, (5.22); §5.3.3, proof of Proposition 5.7).

Trade iff v >= c (efficient; ties trade). By (5.22), with the buyer's lowest value v̲ and the seller's highest
cost c̄ (her lowest "value" -c̄), the buyer pays max(c, v̲) and the seller receives min(v, c̄). Truth-telling is
dominant, the buyer of value v̲ and the seller of cost c̄ get 0 (IR). The budget per trade is
max(c, v̲) - min(v, c̄) <= 0: a deficit.

Where the text is too quick: it says the deficit R - P "is exactly equal to the ex post gains" v - c. That holds
when v <= c̄ and c >= v̲ (e.g. F and G on the same interval); in general R - P = min(v, c̄) - max(c, v̲) <= v - c,
so E[deficit] = E[gains] - E[(V - c̄)^+] - E[(v̲ - C)^+] (checked in tests/test_trade.py). It is still > 0
whenever v̲ < c̄ and trade has positive probability, which is all Proposition 5.7 needs.
"""
from __future__ import annotations

import numpy as np

from .outcome import TradeExact, TradeMechanism, Traders, outcome_arrays, over_cost


class VCG(TradeMechanism):
    """First-best VCG: efficient, dominant-strategy IC, ex-post IR, runs an expected deficit."""

    name = "vcg"

    def exact(self, market) -> TradeExact:
        """Per cost c: Pr[trade] = Q(c), E[V; V >= c] = A(c), the buyer pays max(c, v̲) Q(c) and the seller
        receives E[min(V, c̄); V >= c] = A(c) - A(c̄) + c̄ Q(c̄) (c <= c̄); integrated over c ~ G."""
        tr = Traders.of(market)
        v_lo, c_hi = tr.v_lo, tr.c_hi
        top = 0.0 if np.isinf(c_hi) else float(tr.A(c_hi) - c_hi * tr.Q(c_hi))  # E[(V - c̄)^+]

        def per_cost(c):
            q, a = tr.Q(c), tr.A(c)
            return np.array([q, a, c * q, np.maximum(c, v_lo) * q, a - top])
        atoms = [x for x, _ in tr.F.atoms]  # Q(c) jumps where c crosses an atom of F
        trade, value, cost, pays, receives = over_cost(tr, per_cost, atoms, what="vcg")
        return TradeExact.from_sums(trade, value, cost, pays, receives)

    def outcome(self, market, v, c):
        tr = Traders.of(market)
        trade = v >= c
        return outcome_arrays(v, c, trade, np.where(trade, np.maximum(c, tr.v_lo), 0.0),
                              np.where(trade, np.minimum(v, tr.c_hi), 0.0))
