"""Redistribution (slides ``003_…``, Mishra, "Redistribution mechanisms"): giving the payments of an efficient
allocation of one object back to the agents.

* ``cavallo``: Cavallo's redistribution of the VCG revenue (dominant-strategy IC, never in deficit);
* ``green_laffont``: the Green–Laffont mechanism (DSIC and budget balanced, not efficient);
* ``dagv``: d'Aspremont–Gérard-Varet / Arrow expected-externality mechanism (efficient, budget balanced, BIC);
* ``partnership``: Cramton–Gibbons–Klemperer partnership dissolution (the criterion on shares, the mechanism
  of the proof and the bidding game);
* ``deviation``: the deviation searches (dominant strategy on sampled profiles, Bayesian against simulated
  opponents) that check incentive compatibility;
* ``base``: the exact values' dataclass, order statistics and the per-draw metrics every mechanism shares.

Import the submodules directly (``from mechanisms.redistribution.cavallo import Cavallo``).
"""
