"""The ex-post rule of a mechanism on a market of several buyer classes: a score auction (``ClassRule``).

Every mechanism of ``mechanisms.classes`` (second-price / VCG with an anonymous or class-specific reserve,
Myerson's auction with per-class ironed virtual values, the Lagrangian optima of the frontier, the lottery,
a posted price) is, for a market of K classes (F_k, n_k), an m-unit auction on *scores*:

* a buyer of class k with quantile q = 1 - F_k(v) (= Pr[v_k >= v]; v = F_k's ``v(q)``) takes part iff
  q <= r_k, and then has the score s_k(q) (``ClassScore.score``): non-increasing in q on (0, r_k] -- her value
  v(q) (second-price), her ironed virtual value ψ̄_k(q) (Myerson, textbook Proposition 5.3), λ v + (1-λ) ψ̄_k
  (the frontier), a constant (lottery, posted price);
* the m highest scores win; buyers with EQUAL scores tie and ties are broken uniformly at random (across
  classes too: pools of two classes at the same score value form one tie); fewer than m participants leave
  units unsold;
* the flat pieces of s_k are its ``pools``: quantile intervals (q_lo, q_hi] whose buyers all score
  ``pool.score`` (an ironed interval, an atom of F_k, a lottery); outside the pools two buyers tie with
  probability 0.

Payments follow the DSIC payment identity (textbook (5.15): a winner pays the lowest value with which she
would still win, averaged over the tie-breaking; ``mechanisms/rule.py`` is the one-class version). Write
lo_k(t) = ``threshold_value(t)`` (the lowest value of class k whose score is >= t) and hi_k(t) =
``threshold_above(t)`` (the lowest value whose score is > t: the pool's ``next`` when class k has a pool at
score t, else lo_k(t)). Group the participants into levels of equal score, highest first (a tie of c buyers,
possibly of several classes, is one level of size c; any other score a level of size 1) and fill the m
units from the top. Let T (score t_T) be the first level that does not win entirely, with s >= 0 of its c
members winning (a uniformly random subset). Then a winner of class k

* inside T pays lo_k(t_T);
* above T pays hi_k(t_T) - (hi_k(t_T) - lo_k(t_T)) (s + 1) / (c + 1)  (= lo_k(t_T) when T is a single buyer:
  the (m+1)-th highest score, translated into a value of her own class);
* when there is no such level (at most m participants) pays her class's ``reserve`` = lo_k(-inf).

For second-price lo_k(t) = max(t, reserve_k): the highest losing bid or the own reserve. For Myerson lo_k(t)
= v_k(sup{q <= r_k : ψ̄_k(q) >= t}), the y_i(x_-i) of textbook Proposition 5.3. For one class this is exactly
the i.i.d. ``QuantileRule``'s rule (scores = bids, thresholds = bid / next).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from distributions.base import Distribution


class Pool(NamedTuple):
    """A flat piece of a class's score: its buyers, quantiles (q_lo, q_hi], all score ``score`` and tie.

    ``bid`` = lo_k(score) = v_k(q_hi) (or the reserve / price below the support: what a winner inside the
    tie pays); ``next`` = hi_k(score), the lowest value of the class with a higher score (v_k(q_lo) for an
    ironed interval or an atom; inf when no value scores higher, e.g. the lottery)."""

    q_lo: float
    q_hi: float
    score: float
    bid: float
    next: float


@dataclass(frozen=True, eq=False)
class ClassScore:
    """How the buyers of one class compete, in the class's quantile space q = Pr[v_k >= v] (module doc).

    dist, count: the class (F_k, n_k) the score belongs to (count may be 1e30).
    r: a buyer with quantile q > r does not take part (r = Pr[v_k >= reserve]).
    score: vectorised q -> s_k(q) on (0, r]: non-increasing; on a pool exactly ``pool.score``.
    score_sf: vectorised t -> Q_k(t) = |{q in (0, r] : s_k(q) >= t}| = Pr[a class-k buyer takes part with
        score >= t] (= r for t below every score, 0 above them); the inverse of ``score``.
    pools: the flat pieces of ``score`` (``Pool``), sorted, disjoint, inside [0, r].
    threshold_value: vectorised t -> lo_k(t), the lowest VALUE of this class whose score is >= t (what a
        winner pays when t is the score she had to beat, module doc); lo_k(-inf) = ``reserve``.
    reserve: the price a lone participant pays (= threshold_value(-inf); second-price: the class's reserve;
        lottery: 0; posted price: the price).
    """

    dist: Distribution
    count: int | float
    r: float
    score: Callable
    score_sf: Callable
    pools: tuple
    threshold_value: Callable
    reserve: float

    def pool_at(self, t: float) -> Pool | None:
        """The pool whose score is exactly t, or None."""
        for pool in self.pools:
            if pool.score == t:
                return pool
        return None

    def threshold_above(self, t: float) -> float:
        """hi_k(t): the lowest value of this class whose score is > t (the pool's ``next`` at a pool level)."""
        pool = self.pool_at(t)
        return pool.next if pool is not None else float(self.threshold_value(np.array(t)))

    def score_sf_above(self, t: float) -> float:
        """Q_k(t+) = Pr[take part with score > t] (the pool's q_lo at a pool level)."""
        pool = self.pool_at(t)
        return pool.q_lo if pool is not None else float(self.score_sf(np.array(t)))


@dataclass(frozen=True, eq=False)
class ClassRule:
    """An m-unit score auction on a several-class market: the m highest participating scores win, ties at
    random, units kept when fewer take part; payments by the rule of the module doc. ``classes`` in the
    market's order (one ``ClassScore`` per ``market.classes[k]``); ``name`` the mechanism's name."""

    m: int
    classes: tuple
    name: str = ""
