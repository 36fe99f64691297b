"""The Green–Laffont mechanism (slides ``003_…``, "Relax efficiency"): DSIC and budget balanced, giving up a
little efficiency: the highest-valued agent gets the object with probability 1 - 1/n, the second highest with
probability 1/n.

The slides give only the allocation. The payments here are those of the standard construction that produces it:
draw one agent uniformly at random (probability 1/n each) and set her aside; run a Vickrey auction among the
other n-1; give its revenue to the agent set aside. Every realisation is DSIC (the set-aside agent's report
changes nothing; the others face a Vickrey auction) and budget balanced, and the top agent wins unless she is
set aside. Averaged over the draw (what ``allocation_transfers`` returns), with v_(1) >= v_(2) >= v_(3) (v_(3)
= 0 when n = 2):

    T_(1) = -((n-2)/n) v_(2),   T_(2) = 0,   T_(k) = v_(2)/n (k >= 3),   Σ T = 0,

collected (= redistributed) = ((n-2)/n) v_(2) + (2/n) v_(3), efficiency loss (v_(1) - v_(2))/n: for uniform
[0, 1] values 1/(n(n+1)), half of what Cavallo's mechanism keeps (2/(n(n+1))).
"""
from __future__ import annotations

import math

import numpy as np

from distributions.errors import InputError
from distributions.market import Market

from .base import (RedistributionExact, as_profiles, column, common_metrics, expected_spacing, expected_top,
                   iid_market, sort_desc, with_infinity_notes)


class GreenLaffont:
    """Green–Laffont: the top two agents share the object (1 - 1/n, 1/n); DSIC, budget balanced."""

    incentive = "dominant"
    name = "green-laffont"

    def bind(self, market: Market) -> "GreenLaffont":
        """Prior-free: the mechanism itself, once the market is checked (one object, n >= 2)."""
        iid_market(market, 1)
        return self

    def exact(self, market: Market) -> RedistributionExact:
        """Exact expected welfare E v_(1) - E[v_(1) - v_(2)]/n, its loss, and the money passed around."""
        dist, n = iid_market(market, 1)
        top = expected_top(dist, n, 1)
        loss = expected_spacing(dist, n, 1) / n
        collected = (n - 2) / n * expected_top(dist, n, 2) + 2 / n * expected_top(dist, n, 3)
        welfare = top - loss if math.isfinite(loss) else math.inf
        return with_infinity_notes(RedistributionExact(welfare, loss, 0.0, welfare, n, collected, collected), dist)

    def allocation_transfers(self, reports, m: int = 1):
        """(Q, T) averaged over the set-aside draw (module doc)."""
        if m != 1:
            raise InputError("m", f"Green–Laffont allocates one object, got m = {m}")
        reports = as_profiles(reports)
        n = reports.shape[1]
        order, s = sort_desc(reports)
        rows = np.arange(reports.shape[0])[:, None]
        v2 = s[:, 1][:, None]
        Q = np.zeros_like(reports)
        T = np.repeat(v2 / n, n, axis=1)
        Q[rows, order[:, :1]] = (n - 1.0) / n
        Q[rows, order[:, 1:2]] = 1.0 / n
        T[rows, order[:, :1]] = -((n - 2.0) / n) * v2
        T[rows, order[:, 1:2]] = 0.0
        return Q, T

    def outcome(self, values, m: int = 1) -> dict:
        """Per-draw metrics (``base.common_metrics``) plus collected and redistributed (equal: no money kept)."""
        values = as_profiles(values)
        Q, T = self.allocation_transfers(values, m)
        _, s = sort_desc(values)
        out = common_metrics(values, Q, T, s[:, 0])
        n = values.shape[1]
        out["collected"] = (n - 2.0) / n * s[:, 1] + 2.0 / n * column(s, 2)
        out["redistributed"] = out["collected"] - out["budget_surplus"]
        return out
