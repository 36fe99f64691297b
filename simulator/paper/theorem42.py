"""Theorem 4.2 / Figure 2 (``scripts/theorem42.py``): the KS solution with m identical units and n unit-demand
buyers with MHR values keeps at least Ψ(m/n) of the optimal welfare, Ψ(τ) = min{(2 - ln τ)/(2 - 2 ln τ),
(e - 1)/e + 1/(e + e² τ)}.

``ks_cell`` computes one (distribution, m) cell: the exact KS welfare ratio against Ψ(m/n), and with samples the
KS mechanism simulated with its 95% CI. A distribution is a library spec or ``truncexp-atom:K=K`` (``TruncExpAtom``:
the extremal instance of Lemma C.8, exponential values truncated at K with the missing mass as an atom at K).
``experiments/theorem42.toml`` writes the script's theorem42.csv with ``compute = "theorem42"``
(``simulator.studies.paper_kinds``).
"""
from __future__ import annotations

import math

import numpy as np

from distributions.base import Distribution
from distributions.errors import InputError

from .reproduce import ci_contains, market_seed, simulate_rules


def psi(tau):
    """Ψ(τ) of Theorem 4.2 and its two branches (vectorised)."""
    tau = np.asarray(tau, dtype=float)
    a = (2 - np.log(tau)) / (2 - 2 * np.log(tau))
    b = (math.e - 1) / math.e + 1 / (math.e + math.e ** 2 * tau)
    return np.minimum(a, b), a, b


class TruncExpAtom(Distribution):
    """Exponential(1) values truncated at K, the mass e^-K above K put on an atom at K: v(q) = min(ln(1/q), K).
    MHR (hazard rate 1 on [0, K), then the atom): the extremal instance of Lemma C.8. Closed forms for V and S;
    a table for the simulator."""

    name = "truncexp-atom"

    def __init__(self, K: float = 1.0):
        self.K = float(K)
        if not (self.K > 0 and math.isfinite(self.K)):
            raise InputError("K", f"must be a finite number > 0, got {K!r}")
        self.atom_mass = math.exp(-self.K)
        self.support = (0.0, self.K)
        self.table = None

    def _v(self, q):
        with np.errstate(divide="ignore"):
            return np.minimum(-np.log(q), self.K)

    def _V(self, q):
        p = self.atom_mass
        with np.errstate(divide="ignore", invalid="ignore"):
            cont = p * self.K + q * (1 - np.log(np.maximum(q, p))) - p * (1 + self.K)
        return np.where(q <= p, q * self.K, cont)

    def _S(self, q):  # S = V - q v: q K - q K = 0 on the atom, q - p above it
        return np.where(q <= self.atom_mass, 0.0, q - self.atom_mass)

    def sf(self, x):
        x = np.asarray(x, float)
        return np.where(x <= 0, 1.0, np.where(x <= self.K, np.exp(-np.maximum(x, 0.0)), 0.0))

    def cdf(self, x):
        x = np.asarray(x, float)
        return np.where(x < 0, 0.0, np.where(x < self.K, -np.expm1(-np.maximum(x, 0.0)), 1.0))

    def pdf(self, x):
        x = np.asarray(x, float)
        return np.where((x >= 0) & (x < self.K), np.exp(-np.maximum(x, 0.0)), 0.0)

    @property
    def atoms(self):
        return [(self.K, self.atom_mass)]

    def numba_spec(self):
        from distributions import kernels
        from distributions.compound import build_table

        if self.table is None:
            self.table, self.table_error = build_table(self, [self.atom_mass])
        return kernels.TABLE, self.table

    @property
    def spec(self):
        return f"truncexp-atom:K={self.K:g}"


def theorem42_market(name: str, n, m: int):
    """The market of n buyers and m units with values ``name``: ``truncexp-atom:K=K`` (``TruncExpAtom``) or a
    library spec (``example42:n=1000``)."""
    from distributions import Market

    if name.startswith("truncexp-atom"):
        key, _, value = name.partition(":")[2].partition("=")
        try:
            K = float(value)
        except ValueError:
            K = math.nan
        if key.strip() != "K" or not math.isfinite(K):
            raise InputError("dist", f"expected truncexp-atom:K=K with a number K > 0, got {name!r}")
        return Market.iid(TruncExpAtom(K), n, m)
    return Market.iid(name, n, m)


def ks_cell(name: str, n, m: int, tol: float, samples: int = 0, seed: int = 0, budget: float = 2e9) -> dict:
    """One (distribution, m) cell of Theorem 4.2: the exact KS welfare ratio with m units against Ψ(m/n), the
    KS fairness gap (Definition 4.1), the benchmarks; with ``samples`` the KS mechanism simulated
    (``simulated_ks``)."""
    from mechanisms.bargaining import solve
    from mechanisms.frontier import Frontier

    market = theorem42_market(name, n, m)
    d = market.dist
    tau = m / n
    F = Frontier(market, tol=tol)
    s = solve(F, "ks")
    bound, b1, b2 = (float(x) for x in psi(tau))
    ratio = s.exact.welfare / s.opt
    row = {"distribution": name, "shape": str(d.shape_class()), "n": n, "m": m, "tau": tau,
           "ks_welfare_ratio": ratio, "psi": bound, "psi_branch_log": b1, "psi_branch_e": b2,
           "gap": ratio - bound, "meets_psi": bool(ratio >= bound - 1e-8),
           "ks_revenue_ratio": s.revenue_ratio, "ks_surplus_ratio": s.surplus_ratio,
           "ks_fairness_gap": abs(s.revenue_ratio - s.surplus_ratio), "opt": s.opt,
           "revenue_max": s.revenue_max, "surplus_max": s.surplus_max, "revenue": s.exact.revenue,
           "surplus": s.exact.surplus, "welfare": s.exact.welfare, "frontier_points": len(F.points)}
    if samples:
        row.update(simulated_ks(name, market, s, samples, seed, budget))
    return row


def simulated_ks(name: str, market, s, samples: int, seed: int, budget: float) -> dict:
    """The KS mechanism simulated (mode="auto", the market's seed ``market_seed(seed, name, n, m)``): welfare,
    its CI, and W/OPT."""
    cell_seed = market_seed(seed, name, market.n, market.m)
    sim, info = simulate_rules([("ks", s.rule)], market, samples, cell_seed, budget)
    row = dict(sim_mode=info["mode"], sim_samples=info["samples"], sim_seed=cell_seed, sim_note=info["note"])
    if sim is not None:
        est, se, lo, hi = sim["ks"]["welfare"]
        row.update(sim_welfare=est, sim_welfare_stderr=se, sim_welfare_ci_low=lo, sim_welfare_ci_high=hi,
                   welfare_ci_contains_exact=ci_contains(lo, hi, s.exact.welfare),
                   sim_ratio=est / s.opt, sim_ratio_ci_low=lo / s.opt, sim_ratio_ci_high=hi / s.opt)
    return row
