"""Dissolving a partnership (slides ``003_…``; Cramton, Gibbons and Klemperer, 1987, "CGK"): n partners own
shares r_i (Σ r_i = 1) of one object, values i.i.d. from F on [0, β]; which shares admit an efficient, Bayesian
IC, interim IR (U_i(v_i) >= r_i v_i) and budget-balanced mechanism?

With G = F^(n-1) (the chance to win) and g = G', v_i^* solves G(v_i^*) = r_i and (slides, eq. (2))

    W(v) = ∫_v^β (1 - F(x)) x g(x) dx - ∫_0^v F(x) x g(x) dx.

Theorem (CGK): dissolvable iff Σ_i W(v_i^*) >= 0 (eq. (1)). In quantile space (q = 1 - F, w(q) = (n-1)(1-q)^(n-2)
the density of the quantile of the others' maximum) W(v(q*)) = ∫_0^{q*} q v w dq - ∫_{q*}^1 (1-q) v w dq, with
q_i^* = 1 - r_i^(1/(n-1)); for a support [a, β] with a > 0 the integrals start at a (the slides take a = 0).
Uniform [0, 1]: W(v) = (n-1)/(n(n+1)) - ((n-1)/n) v^n, so the criterion is Σ r_i^(n/(n-1)) <= n/(n+1)
(n = 2: r_1^2 + r_2^2 <= 2/3, i.e. r_1 in [0.2113, 0.7887]).

The mechanism of the proof (``PartnershipMechanism``): c_i = (1/n) Σ_j W(v_j^*) - W(v_i^*) and, with
K(v) = ∫_0^v x g(x) dx = E[Y 1{Y < v}] (Y the others' maximum),

    T_i(v) = c_i - K(v_i) + (1/(n-1)) Σ_{j≠i} K(v_j),     t_i(v_i) = E T_i = c_i + W(v_i),

so E T_i = c_i and the interim IR margin U_i(v_i^*) - r_i v_i^* is (1/n) Σ_j W(v_j^*) for every i. (The slides'
sufficiency step writes W(v_i) - W(v_i^*) = +∫_{v_i^*}^{v_i} x g; it is -∫_{v_i^*}^{v_i} x g, which is what the
IC lemma needs: t_i(v_i) - t_i(v_i^*) = v_i^* G(v_i^*) - v_i G(v_i) + ∫_{v_i^*}^{v_i} G.)

The bidding game (``BiddingGame``, equal shares): the highest bidder wins and pays her bid b, which is split
equally among all n partners (herself included). Its symmetric equilibrium solves (1/n) F b' + f b = f v:
b(v) = E[max of n values | max <= v] = v - ∫_0^v (F(x)/F(v))^n dx (uniform: b = n v/(n+1)); expected winning bid
∫_0^1 v(q) n^2 (1-q)^(n-1) (-log(1-q)) dq (uniform: n^2/(n+1)^2); a type v pays on net, in expectation,
t(v) = ((n-1)/n)[∫_0^v x dF^n - ∫_v^β x (1/F(x) - 1) dF^n(x)] (uniform: (n-1)((n+1)v^n - 1)/(n(n+1))).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from distributions.errors import InputError
from distributions.market import Market

from .base import (WeightedIntegral, as_profiles, check_continuous, common_metrics, efficient_allocation,
                   expected_top, max_of_others_table)
from ..quadrature import integrate

#: initial panel ends of the quantile integrals (dense near q = 0, where v may grow without bound)
BREAKS = (0.0, 1e-12, 1e-9, 1e-6, 1e-4, 1e-2, 0.1, 0.5, 0.9, 0.99, 1.0)


def partnership_of(market: Market) -> tuple:
    """(F, n, shares) of a partnership market (``Market.partnership``), F without atoms and with a finite mean."""
    if not isinstance(market, Market) or market.shares is None:
        raise InputError("shares", "a partnership needs a market with shares (Market.partnership(F, shares))")
    dist = market.dist
    check_continuous(dist, "partnership dissolution")
    return dist, int(market.n), market.shares


def threshold_quantile(r: float, n: int) -> float:
    """q^* = 1 - F(v^*) with G(v^*) = F(v^*)^(n-1) = r: 1 - r^(1/(n-1)) (r = 0: the bottom, r = 1: the top β)."""
    if r <= 0.0:
        return 1.0
    return float(-math.expm1(math.log(r) / (n - 1.0)))


def _breaks(q_star: float, lo: float, hi: float):
    return sorted({lo, hi, *[b for b in BREAKS if lo < b < hi], *([q_star] if lo < q_star < hi else [])})


@functools.lru_cache(maxsize=4096)
def W(dist, n: int, r: float) -> float:
    """W(v^*) of eq. (2) at the v^* with G(v^*) = r (module doc), by quadrature in quantile space."""
    q_star = threshold_quantile(r, n)
    w = lambda q: (n - 1.0) * np.power(1.0 - q, n - 2.0)  # noqa: E731
    with np.errstate(invalid="ignore", over="ignore"):
        above = integrate(lambda q: q * dist.v(q) * w(q), _breaks(q_star, 0.0, q_star), rtol=1e-12,
                          atol=1e-15, what="dist")[0] if q_star > 0 else 0.0
        below = integrate(lambda q: (1.0 - q) * dist.v(q) * w(q), _breaks(q_star, q_star, 1.0), rtol=1e-12,
                          atol=1e-15, what="dist")[0] if q_star < 1 else 0.0
    return float(above - below)


def criterion(dist, shares) -> float:
    """Σ_i W(v_i^*) (CGK's eq. (1)): the partnership can be dissolved efficiently iff >= 0."""
    n = len(shares)
    return math.fsum(W(dist, n, float(r)) for r in shares)


@dataclass(frozen=True)
class PartnershipExact:
    """The CGK criterion and the proof's mechanism for one partnership (module doc). ``ir_margin`` =
    (1/n) Σ W(v_j^*) is every partner's smallest interim IR slack U_i(v) - r_i v (at v_i^*)."""

    shares: tuple[float, ...]
    v_star: tuple[float, ...]
    W: tuple[float, ...]
    criterion: float
    dissolvable: bool
    c: tuple[float, ...]
    ir_margin: float
    welfare: float
    mean_value: float

    @property
    def n(self) -> int:
        return len(self.shares)

    def expected_utility(self, i: int) -> float:
        """E[u_i] = E[v_i G(v_i)] + E[T_i] = E[v_(1)]/n + c_i."""
        return self.welfare / self.n + self.c[i]

    def expected_ir_slack(self, i: int) -> float:
        """E[u_i - r_i v_i]."""
        return self.expected_utility(i) - self.shares[i] * self.mean_value


def analyze(market: Market) -> PartnershipExact:
    """The CGK criterion, thresholds v_i^*, constants c_i and IR margin of a partnership market."""
    dist, n, shares = partnership_of(market)
    Ws = tuple(W(dist, n, r) for r in shares)
    total = math.fsum(Ws)
    c = tuple(total / n - x for x in Ws)
    v_star = tuple(float(dist.v(threshold_quantile(r, n))) for r in shares)
    return PartnershipExact(tuple(shares), v_star, Ws, total, total >= 0.0, c, total / n,
                            expected_top(dist, n, 1), dist.mean)


class PartnershipMechanism:
    """CGK's mechanism from the sufficiency proof (module doc): efficient, BIC, budget balanced; interim IR
    iff the partnership is dissolvable."""

    incentive = "bayesian"
    name = "partnership"

    def __init__(self):
        self.dist = self.n = self.shares = self.info = None

    def bind(self, market: Market) -> "PartnershipMechanism":
        out = PartnershipMechanism()
        out.dist, out.n, out.shares = partnership_of(market)
        out.info = analyze(market)
        return out

    def exact(self, market: Market) -> PartnershipExact:
        return analyze(market)

    def K(self, v):
        """K(v) = ∫_0^v x g(x) dx = E[Y 1{Y < v}], vectorised."""
        q = np.clip(np.asarray(self.dist.sf(np.asarray(v, dtype=float)), dtype=float), 0.0, 1.0)
        return max_of_others_table(self.dist, self.n).upper(q)

    def allocation_transfers(self, reports, m: int = 1):
        reports = as_profiles(reports, self.n)
        Q, _ = efficient_allocation(reports)
        k = self.K(reports)
        T = np.asarray(self.info.c)[None, :] - k + (np.sum(k, axis=1, keepdims=True) - k) / (self.n - 1.0)
        return Q, T

    def outcome(self, values, m: int = 1) -> dict:
        """Per-draw metrics plus, per partner i, transfer_i, utility_i and ir_slack_i = u_i - r_i v_i."""
        values = as_profiles(values, self.n)
        Q, T = self.allocation_transfers(values)
        return partner_metrics(values, Q, T, self.shares)

    def exact_metrics(self) -> dict:
        """metric -> exact expected value, for the simulation's z-scores."""
        info = self.info
        out = {"welfare": info.welfare, "efficiency_loss": 0.0, "budget_surplus": 0.0, "utility": info.welfare}
        for i in range(self.n):
            out[f"transfer_{i + 1}"] = info.c[i]
            out[f"utility_{i + 1}"] = info.expected_utility(i)
            out[f"ir_slack_{i + 1}"] = info.expected_ir_slack(i)
        return out


def partner_metrics(values, Q, T, shares) -> dict:
    """``base.common_metrics`` (without agent_utility) plus transfer_i, utility_i, ir_slack_i for every partner."""
    out = common_metrics(values, Q, T, np.max(values, axis=1))
    del out["agent_utility"]
    u = values * Q + T
    for i, r in enumerate(shares):
        out[f"transfer_{i + 1}"] = T[:, i]
        out[f"utility_{i + 1}"] = u[:, i]
        out[f"ir_slack_{i + 1}"] = u[:, i] - r * values[:, i]
    return out


class BiddingGame:
    """The slides' simple mechanism for equal shares, played in its symmetric equilibrium b(v) (module doc):
    as a direct mechanism, the highest report wins and pays b(report), split equally among all n."""

    incentive = "bayesian"
    name = "partnership-bidding"

    def __init__(self):
        self.dist = self.n = self.shares = None

    def bind(self, market: Market) -> "BiddingGame":
        dist, n, shares = partnership_of(market)
        if max(abs(r - 1.0 / n) for r in shares) > 1e-9:
            raise InputError("shares", f"the bidding game's equilibrium is for equal shares (1/{n} each), got "
                                       f"{shares}")
        out = BiddingGame()
        out.dist, out.n, out.shares = dist, n, shares
        return out

    def bid(self, v):
        """b(v) = E[max of n | max <= v] = (1/F(v)^n) ∫_{q(v)}^1 v(t) n (1-t)^(n-1) dt, vectorised."""
        n = self.n
        table = _max_of_all_table(self.dist, n)
        q = np.clip(np.asarray(self.dist.sf(np.asarray(v, dtype=float)), dtype=float), 0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
            mass = np.exp(n * np.log1p(-q))  # F(v)^n
            return np.where(mass > 1e-280, table.upper(q) / np.where(mass > 0, mass, 1.0),
                            float(self.dist.v(1.0)))

    def allocation_transfers(self, reports, m: int = 1):
        reports = as_profiles(reports, self.n)
        Q, s = efficient_allocation(reports)
        b = self.bid(s[:, 0])[:, None]
        return Q, b / self.n - Q * b

    def outcome(self, values, m: int = 1) -> dict:
        """Partner metrics plus ``payment``: the winning bid b(v_(1)) (shared out again)."""
        values = as_profiles(values, self.n)
        Q, T = self.allocation_transfers(values)
        out = partner_metrics(values, Q, T, self.shares)
        out["payment"] = self.bid(np.max(values, axis=1))
        return out

    def expected_payment(self) -> float:
        """E[b(v_(1))] = ∫_0^1 v(q) n^2 (1-q)^(n-1) (-log(1-q)) dq."""
        n, dist = self.n, self.dist
        with np.errstate(invalid="ignore", over="ignore"):
            f = lambda q: dist.v(q) * n * n * np.power(1.0 - q, n - 1.0) * -np.log1p(-q)  # noqa: E731
            return float(integrate(f, list(BREAKS), rtol=1e-12, atol=1e-15, what="dist")[0])

    def interim_payment(self, v: float) -> float:
        """t(v): a type v's expected net payment, ((n-1)/n)[∫_{q(v)}^1 v(t) n(1-t)^(n-1) dt
        - ∫_0^{q(v)} v(t) n t (1-t)^(n-2) dt] (module doc)."""
        n, dist = self.n, self.dist
        qv = float(np.clip(dist.sf(float(v)), 0.0, 1.0))
        with np.errstate(invalid="ignore", over="ignore"):
            a = integrate(lambda t: dist.v(t) * n * np.power(1.0 - t, n - 1.0), _breaks(qv, qv, 1.0),
                          rtol=1e-12, atol=1e-15, what="dist")[0] if qv < 1 else 0.0
            c = integrate(lambda t: dist.v(t) * n * t * np.power(1.0 - t, n - 2.0), _breaks(qv, 0.0, qv),
                          rtol=1e-12, atol=1e-15, what="dist")[0] if qv > 0 else 0.0
        return float((n - 1.0) / n * (a - c))

    def exact_metrics(self) -> dict:
        """metric -> exact expected value (symmetric: each partner gets E v_(1)/n, pays 0 on average)."""
        top = expected_top(self.dist, self.n, 1)
        out = {"welfare": top, "efficiency_loss": 0.0, "budget_surplus": 0.0, "utility": top,
               "payment": self.expected_payment()}
        for i in range(self.n):
            out[f"transfer_{i + 1}"] = 0.0
            out[f"utility_{i + 1}"] = top / self.n
            out[f"ir_slack_{i + 1}"] = top / self.n - self.dist.mean / self.n
        return out


@functools.lru_cache(maxsize=64)
def _max_of_all_table(dist, n: int) -> WeightedIntegral:
    """Weight n (1-t)^(n-1): the density of the quantile of the maximum of all n values."""
    return WeightedIntegral(dist, lambda t: n * np.power(1.0 - np.clip(t, 0, 1), n - 1.0))
