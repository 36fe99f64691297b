"""Bilateral trade (issue 16): one buyer with value v ~ F, one seller with private cost c ~ G
(``Market.trade(F, G)``; textbook ``004`` §5.3.3, paper Appendix D.4).

Modules (import them directly; this file imports nothing):

- ``outcome``: ``Traders`` (the two sides: Q(p) = Pr[V >= p], A(p) = E[V; V >= p], Gc(p) = Pr[C <= p],
  B(p) = E[C; C <= p]), ``TradeExact`` (ex-ante values), ``TradeMechanism`` (base class), the metrics of an
  ex-post outcome (``METRICS``) and the quadratures ``over_cost`` / ``over_value``.
- ``vcg``: first-best VCG (trade iff v >= c; buyer pays max(c, v̲), seller receives min(v, c̄)).
- ``agv``: AGV / expected externality (5.23), interim utilities, worst-off types, Proposition 5.6.
- ``posted``: posted price p (any p, or the best p for gains from trade).
- ``offers``: seller-offer and buyer-offer mechanisms (Appendix D.4's SOM and BOM).
- ``virtual``: the weighted virtual values φ_a, γ_a of one trader, ironed where not monotone (any F, G).
- ``hull``: ironing on a quantile grid (hull slopes, ironed intervals), shared by ``virtual`` and ``frontier``.
- ``second_best``: the weighted virtual-value trade rule and the Myerson–Satterthwaite second best (ironed;
  a lottery between two rules where the budget jumps across 0).
- ``frontier``: the (seller, buyer) utility frontier, KS and Nash (H3); ``solutions``: KS and Nash run as
  mechanisms (a lottery between two frontier points with AGV transfers: budget 0 on every draw).
- ``double_auction``: the k-double auction with the Chatterjee–Samuelson linear equilibrium (uniform traders).
- ``spec``: ``parse_trade_mechanism("posted:price=best", market)``.

Public API for reuse (H3: frontier, Theorem D.1)::

    from mechanisms.trade.second_best import trade_rule, TradeRule, SecondBest
    rule = trade_rule(market, a_buyer, a_seller)   # a_buyer, a_seller >= 0 (floats)
    # trade iff  v - a_buyer (1 - F(v)) / f(v)  >=  c + a_seller G(c) / g(c), each side ironed where it is not
    # monotone (atoms, gaps, non-regular densities: ``virtual.weighted_virtual``; rule.ironed says so)
    rule.buyer_virtual(v), rule.seller_virtual(c)  # the two (ironed) weighted virtual values (numpy, vectorised)
    # module functions: buyer_virtual_v(F, a, v), seller_virtual_c(G, a, c) (value space),
    # buyer_virtual_q(F, a, q), seller_virtual_s(G, a, s) (quantile space: q = 1 - F(v), s = 1 - G(c))
    rule.threshold(c)        # θ(c): the lowest buyer value that trades with cost c (inf: never)
    rule.critical_cost(v)    # κ(v): the highest cost that trades with value v (-inf: never)
    rule.exact() -> TradeExact(gains, buyer_utility, seller_utility, buyer_pays, seller_receives, budget,
                               trade, notes)    # threshold (dominant-strategy) payments θ(C), κ(V); U(v̲) = 0
                                                # = seller's U(c̄); budget = E[θ(C) - κ(V); trade]
    SecondBest().solve(market) -> (a, TradeRule)  # a in [0, 1] with budget exactly 0 (brentq), or >= 0 where
    SecondBest().mixture(market) -> (a, rule, low, ν)  # the budget jumps: then run ``low`` with probability ν

    from mechanisms.trade.offers import SellerOffer, BuyerOffer  # .exact(market) -> TradeExact
    from mechanisms.trade.outcome import Traders                 # Traders.of(market)
    from mechanisms.trade.solutions import BargainingSolution    # BargainingSolution("ks" | "nash")

A randomised mechanism (``randomized = True``: SecondBest, BargainingSolution) takes ``outcome(market, v, c,
coin)`` with one uniform per draw.

``TradeExact.seller_utility`` is the seller's profit Π (receipts minus cost), ``buyer_utility`` the buyer's U.
"""
