"""The d'Aspremont–Gérard-Varet (and Arrow) expected-externality mechanism (slides ``003_…``, "Efficient
mechanism" and "The dAGV mechanism"): efficient, budget balanced on every profile, Bayesian IC.

    r_i(v_i) = E_{v_-i}[ Σ_{j≠i} v_j(Q^e(v_i, v_-i)) ],     T_i(v) = r_i(v_i) - (1/(n-1)) Σ_{j≠i} r_j(v_j)

(T_i is paid to agent i). For one object and i.i.d. values the others' welfare is Y = max_{j≠i} v_j when i
loses, so the proof's r_i is the UNCONDITIONAL expectation

    r(v) = E[Y 1{Y > v}] = ∫_0^{q(v)} v(t) (n-1)(1-t)^(n-2) dt     (q(v) = Pr[value >= v]),

a function of the agent's own report only, decreasing in it: her expected utility v G(b) + r(b) - const is
maximised at b = v because d/db [v G(b) + r(b)] = (v - b) g(b). The slides' example calls r_i(v_i) "the
conditional expectation of the maximum of n-1 draws conditioned on the maximum being higher than v_i", i.e.
E[Y | Y > v] = r(v) / (1 - G(v)): that rebate INCREASES with the report and the mechanism is manipulable
(``conditional=True``, kept as the broken variant that the Bayesian deviation search must catch).
"""
from __future__ import annotations

import numpy as np

from distributions.market import Market

from .base import (RedistributionExact, as_profiles, check_continuous, common_metrics, efficient_allocation,
                   expected_top, iid_market, max_of_others_table)


class DAGV:
    """dAGV: the efficient allocation; each agent receives her expected externality r(v_i) minus the average of
    the others' (module doc). ``conditional=True``: the slides' wording E[Y | Y > v] (manipulable)."""

    incentive = "bayesian"

    def __init__(self, conditional: bool = False):
        self.conditional = bool(conditional)
        self.name = "dagv-conditional" if self.conditional else "dagv"
        self.dist, self.n = None, None

    def bind(self, market: Market) -> "DAGV":
        """The mechanism for this market's F and n (r depends on the prior): a bound copy."""
        dist, n = iid_market(market, 1)
        check_continuous(dist, "dAGV")
        out = DAGV(self.conditional)
        out.dist, out.n = dist, int(n)
        return out

    def r(self, v):
        """The expected externality r(v) = E[Y 1{Y > v}] (or E[Y | Y > v] when ``conditional``), vectorised."""
        table = max_of_others_table(self.dist, self.n)
        q = np.clip(np.asarray(self.dist.sf(np.asarray(v, dtype=float)), dtype=float), 0.0, 1.0)
        out = table.lower(q)
        if not self.conditional:
            return out
        with np.errstate(divide="ignore", invalid="ignore"):
            tail = -np.expm1((self.n - 1.0) * np.log1p(-q))  # Pr[Y > v] = 1 - G(v)
            top = float(self.dist.v(1e-300))
            return np.where(tail > 0, out / np.where(tail > 0, tail, 1.0), top)

    def exact(self, market: Market) -> RedistributionExact:
        """Efficient and budget balanced: welfare E v_(1), nothing kept, each agent E v_(1)/n ex ante."""
        dist, n = iid_market(market, 1)
        check_continuous(dist, "dAGV")
        top = expected_top(dist, n, 1)
        return RedistributionExact(top, 0.0, 0.0, top, n)

    def exact_metrics(self) -> dict:
        """metric -> exact expected value of the bound mechanism (E T_i = 0: Σ_i T_i = 0 and symmetry)."""
        top = expected_top(self.dist, self.n, 1)
        return dict(RedistributionExact(top, 0.0, 0.0, top, self.n).as_dict(), transfer=0.0)

    def allocation_transfers(self, reports, m: int = 1):
        """(Q, T): the highest report wins; T_i = r_i - (Σ_j r_j - r_i)/(n-1)."""
        reports = as_profiles(reports, self.n)
        Q, _ = efficient_allocation(reports)
        r = self.r(reports)
        T = r - (np.sum(r, axis=1, keepdims=True) - r) / (self.n - 1.0)
        return Q, T

    def outcome(self, values, m: int = 1) -> dict:
        """Per-draw metrics (``base.common_metrics``) plus agent 1's transfer (E = 0)."""
        values = as_profiles(values, self.n)
        Q, T = self.allocation_transfers(values, m)
        out = common_metrics(values, Q, T, np.max(values, axis=1))
        out["transfer"] = T[:, 0]
        return out
