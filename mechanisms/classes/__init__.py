"""Markets of several buyer classes (asymmetric buyers; textbook ``004_…`` §5.1–5.2, Proposition 5.3).

``rule``: the ex-post description of a mechanism on such a market (``ClassRule``: per-class scores, a score
auction); ``rules``: the standard mechanisms as ClassRules (``virtual``: the Lagrangian score λ v + (1-λ) ψ in
quantile space, without overflow in heavy tails); ``exact``: their exact values (m units) and per-class
interim allocations from products of the classes' distribution functions (counts up to 1e30; ``counting``: how
many others score above a level, sums of binomials in logs); ``reserves``: the best discriminatory / common reserves of
second-price; ``frontier``: the (revenue, buyers' surplus) frontier and KS. Light: nothing heavy is imported
here.
"""
