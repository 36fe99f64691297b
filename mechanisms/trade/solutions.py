"""The trade frontier's points and bargaining solutions as mechanisms with an ex-post outcome (paper, Section 4
and Appendix D.4; ``frontier``).

A frontier point (``frontier.FrontierPoint``) is a staircase rule on the frontier's grid: the buyer's quantile
q = Pr[V >= v] lies in a grid cell i, the seller's s = Pr[C < c] in a cell j, and they trade iff j < k_i, with k
non-increasing in i (``frontier.rule_values``: k_i = the number of seller cells whose ironed weighted virtual
cost is at most the buyer cell's ironed weighted virtual value). Per draw:

- dominant-strategy thresholds: the buyer would pay θ_j = v(q at the end of the last buyer cell that trades
  with j), the seller would receive κ_i = c(s at the end of the last seller cell that trades with i); their
  expectations are the payment identity's, E[θ x] = E[v x] - E[x h_B], E[κ x] = E[c x] + E[x h_S];
- budget balance on every draw (textbook 004, §5.3.2, the AGV / expected-externality construction): the buyer
  pays the seller T(i, j) = p_B(i) + r_S(j) - K, whatever the trade, with p_B(i) = E[θ x | i] and
  r_S(j) = E[κ x | j] the thresholds' interim values, and K = E[r_S] when the budget's slack
  S = E[θ x] - E[κ x] >= 0 goes to the seller (λ >= 1/2), K = E[p_B] when it goes to the buyer. Then
  E[T | i] = p_B(i) (- S), E[T | j] = r_S(j) (+ S): the interim allocations and payments are those of the
  threshold mechanism plus the slack, so the mechanism is Bayesian IC and interim IR with exactly the frontier
  point's (Π, U), and its budget is 0 on every draw. It is not ex-post IR: a trader can lose on a draw.

KS and Nash (``frontier.solve``) are ex-ante lotteries: run the point ``low`` with probability ν, else
``high`` (a coin per draw, drawn by the simulator). Each branch balances its budget on every draw, so the
lottery does too; its exact values are the ν-mixture of the two points' (``outcome.mix_exact``).
"""
from __future__ import annotations

import functools

import numpy as np

from distributions.errors import InputError

from .outcome import TradeExact, TradeMechanism, Traders, mix_exact, outcome_arrays

#: the bargaining solutions offered as mechanisms
KINDS = ("ks", "nash")
#: extreme points searched for the frontier (as the command line's ``trade frontier``)
MAX_POINTS = 60


@functools.lru_cache(maxsize=16)
def frontier_of(market):
    """The market's ``TradeFrontier`` (``MAX_POINTS`` extreme points), cached by the market's value: KS and
    Nash share it."""
    from .frontier import TradeFrontier

    Traders.of(market)
    return TradeFrontier.of_market(market, max_points=MAX_POINTS)


class StaircaseMechanism:
    """One frontier point run on the frontier's grid, with AGV transfers (module docstring)."""

    def __init__(self, frontier, point):
        self.F, self.G, self.point = frontier.F, frontier.G, point
        buyer, seller = frontier.buyer, frontier.seller
        self.q, self.s = buyer.t, seller.t
        psi, phi = buyer.weighted(point.values.a), seller.weighted(point.values.b)
        k = np.searchsorted(phi, psi, side="right")  # buyer cell i trades with seller cells j < k_i
        cells = np.arange(len(self.s) - 1)
        last = np.searchsorted(-k, -cells, side="left")  # I(j): buyer cells i < I(j) trade with j
        self.k, self.last = k, last
        with np.errstate(invalid="ignore"):
            theta = np.where(last > 0, np.asarray(self.F.v(self.q[last]), float), 0.0)
            r_top = np.nextafter(1.0 - self.s[k], 2.0)  # the low side of a gap in the costs
            kappa = np.where(k > 0, np.asarray(self.G.v(np.clip(r_top, 0.0, 1.0)), float), 0.0)
        self.p_buyer = np.concatenate([[0.0], np.cumsum(np.diff(self.s) * theta)])[k]  # p_B(i)
        self.r_seller = np.concatenate([[0.0], np.cumsum(np.diff(self.q) * kappa)])[last]  # r_S(j)
        pays, receives = float(np.dot(np.diff(self.q), self.p_buyer)), float(np.dot(np.diff(self.s), self.r_seller))
        self.slack = pays - receives
        self.constant = receives if point.slack_to == "seller" else pays  # K
        self.transfer = pays + receives - self.constant  # E[T]

    def cells(self, v, c) -> tuple[np.ndarray, np.ndarray]:
        """(i, j): the grid cells of the draws, by q = Pr[V > v] (an atom's first cell) and s = Pr[C < c]."""
        with np.errstate(invalid="ignore", over="ignore"):
            q = np.asarray(self.F.sf(np.nextafter(np.asarray(v, float), np.inf)), float)
            s = 1.0 - np.asarray(self.G.sf(np.asarray(c, float)), float)
        i = np.clip(np.searchsorted(self.q, q, side="right") - 1, 0, len(self.q) - 2)
        j = np.clip(np.searchsorted(self.s, s, side="right") - 1, 0, len(self.s) - 2)
        return i, j

    def outcome(self, v, c) -> dict[str, np.ndarray]:
        """Trade iff j < k_i; the buyer pays the seller T(i, j) on every draw (budget 0)."""
        v, c = np.asarray(v, float), np.asarray(c, float)
        i, j = self.cells(v, c)
        transfer = self.p_buyer[i] + self.r_seller[j] - self.constant
        return outcome_arrays(v, c, j < self.k[i], transfer, transfer)

    def exact(self) -> TradeExact:
        """The point's values: E[T] paid and received, utilities E[v x] - E[T] and E[T] - E[c x]."""
        vals = self.point.values
        return TradeExact.from_sums(vals.prob, vals.value, vals.cost, self.transfer, self.transfer)


class BargainingSolution(TradeMechanism):
    """The KS or Nash solution on the trade frontier as a mechanism: the lottery between two frontier points
    (module docstring); budget 0 on every draw, Bayesian IC, interim IR."""

    randomized = True

    def __init__(self, kind: str):
        if kind not in KINDS:
            raise InputError("mechanism", f"unknown bargaining solution {kind!r}; allowed: {', '.join(KINDS)}")
        self.kind = self.name = kind
        self._solved: dict = {}  # market (a value) -> (solution, low, high)

    def solve(self, market):
        """(solution, low, high): ``frontier.TradeSolution`` and its two points as ``StaircaseMechanism``."""
        if market not in self._solved:
            frontier = frontier_of(market)
            sol = frontier.solve(self.kind)
            self._solved[market] = (sol, StaircaseMechanism(frontier, sol.low), StaircaseMechanism(frontier, sol.high))
        return self._solved[market]

    def exact(self, market) -> TradeExact:
        sol, low, high = self.solve(market)
        return mix_exact([low.exact(), high.exact()], [sol.nu_low, 1.0 - sol.nu_low], (sol.describe(),))

    def outcome(self, market, v, c, coin=None):
        sol, low, high = self.solve(market)
        if coin is None:
            raise InputError("coin", f"{self.kind} is a lottery: pass one uniform on [0, 1) per draw")
        a, b = low.outcome(v, c), high.outcome(v, c)
        pick = np.asarray(coin) < sol.nu_low
        return {key: np.where(pick, a[key], b[key]) for key in a}
