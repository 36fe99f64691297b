"""The ex-post rule every mechanism compiles to: an indirect Vickrey auction in quantile space.

Every mechanism of this package (second-price with reserve, lottery, posted price, indirect Vickrey, Myerson,
VCG, buyer-offer, the frontier's mechanisms) is, for a given distribution F, an indirect Vickrey auction
(Definition 2.4) with m units, or an ex-ante mixture of such auctions. Because v(q) is monotone, its outcome
depends only on the buyers' quantiles q_i = U_i, so the simulator ranks uniforms and never needs the bid
function in value space. ``QuantileRule`` is that description:

* a buyer with quantile q > r abstains (her value is below the reserve);
* a buyer with q in a pool (pool_lo[k], pool_hi[k]] bids pool_bid[k] -- an ironed interval / a gap of the bid
  space, or an atom of F (a flat part of v, where equal values tie); ties are broken uniformly at random;
* any other buyer with q <= r bids her value v(q);
* payments follow the DSIC payment identity of ``docs/architecture.md`` (the winner pays b - (1/x(b)) int_0^b x,
  x(t) her chance to win had she bid max(B cap [0, t])). Group the bidders into levels of equal bid, highest
  first (a pool is one level of its size c; a value bid is a level of size 1) and fill the m slots from the
  top. Let T be the first level that does not win entirely, with s >= 0 of its c members winning (a uniformly
  random subset). Winners inside T pay T's bid. Winners above T pay

        next_T - (next_T - bid_T) * (s + 1) / (c + 1),

  where next_T = pool_next of T (the smallest element of B above bid_T; = bid_T for a value bid, which then
  gives the (m+1)-th price). If there is no such level (at most m bidders), every winner pays ``reserve``.

Pools are disjoint, sorted, and lie inside [0, r]. ``reserve`` may lie below v(r) (the free lottery: one pool
[0, 1] bidding 0), and then every participating type keeps the extra utility x(r) (v(r) - reserve).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from distributions.errors import InputError


@dataclass
class QuantileRule:
    """An m-unit indirect Vickrey auction for a fixed distribution, in quantile space (see module doc)."""

    m: int
    r: float
    reserve: float
    pool_lo: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pool_hi: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pool_bid: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pool_next: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self):
        for name in ("pool_lo", "pool_hi", "pool_bid", "pool_next"):
            setattr(self, name, np.ascontiguousarray(np.asarray(getattr(self, name), dtype=np.float64)))
        k = len(self.pool_lo)
        if not (len(self.pool_hi) == len(self.pool_bid) == len(self.pool_next) == k):
            raise InputError("pools", "pool_lo, pool_hi, pool_bid and pool_next must have the same length")
        if int(self.m) < 1:
            raise InputError("m", f"number of units must be >= 1, got {self.m}")
        self.m = int(self.m)
        if not (0.0 <= self.r <= 1.0):
            raise InputError("r", f"reserve quantile must lie in [0, 1], got {self.r}")
        if k and (np.any(self.pool_hi <= self.pool_lo) or np.any(self.pool_lo[1:] < self.pool_hi[:-1])
                  or self.pool_lo[0] < 0 or self.pool_hi[-1] > self.r + 1e-15):
            raise InputError("pools", "must be disjoint, sorted, non-empty intervals inside [0, r]")


@dataclass
class MixtureRule:
    """An ex-ante randomisation: component i runs with probability probs[i] (Corollaries 3.6, 3.8)."""

    probs: np.ndarray
    rules: list[QuantileRule]

    def __post_init__(self):
        self.probs = np.asarray(self.probs, dtype=np.float64)
        if len(self.probs) != len(self.rules) or len(self.rules) == 0:
            raise InputError("probs", "need one probability per component")
        if np.any(~np.isfinite(self.probs)) or np.any(self.probs < 0) or abs(self.probs.sum() - 1) > 1e-9:
            raise InputError("probs", f"must be >= 0 and sum to 1, got {self.probs.tolist()}")


def as_mixture(rule: QuantileRule | MixtureRule) -> MixtureRule:
    """Every rule as a mixture (a plain rule is a one-component mixture)."""
    return rule if isinstance(rule, MixtureRule) else MixtureRule(np.array([1.0]), [rule])
