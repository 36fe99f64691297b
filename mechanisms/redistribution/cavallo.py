"""Cavallo's mechanism (slides ``003_…``, "Cavallo mechanism"): a Vickrey auction whose revenue is given back
without touching incentives.

Each agent i receives 1/n of the VCG revenue of the economy without her, which her report cannot move. One
object, values v_(1) >= v_(2) >= ...: the winner pays v_(2); agents 1 and 2 get v_(3)/n back, the others v_(2)/n;
the designer keeps (2/n)(v_(2) - v_(3)) >= 0. With m units (unit demand; VCG charges each winner the
(m+1)-th highest value) the rebate is (m/n) times the (m+1)-th highest of the others: v_(m+2) for the top m+1
agents, v_(m+1) for the rest, and the designer keeps m(m+1)/n (v_(m+1) - v_(m+2)) (Bailey–Cavallo). Exact values
from the order statistics: collected m E[v_(m+1)], redistributed (m/n)[(m+1) E v_(m+2) + (n-m-1) E v_(m+1)].

``own_report=True`` is a deliberately broken variant for the tests of the dominance check: the rebate is 1/n of
the revenue of the whole economy, the agent's own report included, so a loser gains by raising her report.
"""
from __future__ import annotations

import math

import numpy as np

from distributions.errors import InputError
from distributions.market import Market

from .base import (RedistributionExact, as_profiles, column, common_metrics, expected_spacing, expected_top,
                   iid_market, sort_desc, with_infinity_notes)


class Cavallo:
    """Cavallo's redistribution of the VCG revenue: efficient, dominant-strategy IC, ex-post IR, no deficit."""

    incentive = "dominant"

    def __init__(self, own_report: bool = False):
        self.own_report = bool(own_report)
        self.name = "cavallo-own-report" if self.own_report else "cavallo"
        self.m = 1

    def bind(self, market: Market) -> "Cavallo":
        """The mechanism for this market's units (prior-free otherwise): a copy with ``m`` set."""
        out = Cavallo(self.own_report)
        out.m = self.units(market)
        return out

    def units(self, market: Market) -> int:
        dist, n = iid_market(market, None)
        if market.m >= n:
            raise InputError("m", f"Cavallo needs fewer units than agents (m < n = {n:g}), got m = {market.m}")
        return market.m

    def exact(self, market: Market) -> RedistributionExact:
        """Exact expected welfare, payments collected, redistribution and remaining budget surplus."""
        m = self.units(market)
        dist, n = market.dist, market.n
        welfare = sum(expected_top(dist, n, k) for k in range(1, m + 1))
        e1, e2 = expected_top(dist, n, m + 1), expected_top(dist, n, m + 2)
        collected = m * e1
        if self.own_report:
            redistributed = collected
            surplus = 0.0
        else:
            redistributed = (m / n) * ((m + 1) * e2 + (n - m - 1) * e1)
            surplus = m * (m + 1) / n * expected_spacing(dist, n, m + 1) if math.isfinite(collected) else math.inf
        utility = welfare - surplus if math.isfinite(surplus) else math.inf  # u >= (1 - (m+1)/n) Σ top m values
        return with_infinity_notes(RedistributionExact(welfare, 0.0, surplus, utility, n, collected, redistributed),
                                   dist)

    def allocation_transfers(self, reports, m: int | None = None):
        """(Q, T) of the reported profiles (draws x n): the top m win; T = rebate - payment (paid to the agent)."""
        m = self.m if m is None else int(m)
        reports = as_profiles(reports)
        n = reports.shape[1]
        if m >= n:
            raise InputError("m", f"Cavallo needs m < n = {n}, got m = {m}")
        order, s = sort_desc(reports)
        rows = np.arange(reports.shape[0])[:, None]
        Q = np.zeros_like(reports)
        Q[rows, order[:, :m]] = 1.0
        price = s[:, m]
        rank = np.empty_like(order)
        rank[rows, order] = np.arange(n)[None, :]
        if self.own_report:
            rebate = np.repeat((m / n) * price[:, None], n, axis=1)
        else:
            rebate = (m / n) * np.where(rank <= m, column(s, m + 1)[:, None], price[:, None])
        return Q, rebate - Q * price[:, None]

    def outcome(self, values, m: int | None = None) -> dict:
        """Per-draw metrics (``base.common_metrics``) plus collected (VCG revenue) and redistributed."""
        m = self.m if m is None else int(m)
        values = as_profiles(values)
        Q, T = self.allocation_transfers(values, m)
        _, s = sort_desc(values)
        out = common_metrics(values, Q, T, np.sum(s[:, :m], axis=1))
        out["collected"] = m * s[:, m]
        out["redistributed"] = out["collected"] - out["budget_surplus"]
        return out
