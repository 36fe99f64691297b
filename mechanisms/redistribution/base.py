"""What the redistribution mechanisms share (slides ``003_…``): the exact values' dataclass, expected order
statistics of n i.i.d. values, the weighted quantile integrals their transfers are made of, and the per-draw
metrics of an outcome.

Conventions (the slides' "Mechanism" slide): Q_i(v) is agent i's share of the object, T_i(v) the amount PAID TO
agent i (negative: she pays), u_i = v_i Q_i + T_i her utility. The budget surplus is the money left with the
designer, -Σ_i T_i: >= 0 is feasibility (no deficit), = 0 budget balance. Values are i.i.d. from the market's
F; the k-th highest of n is written v_(k) (v_(k) = 0 for k > n: an auction with too few bidders charges 0).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from distributions.errors import InputError
from distributions.market import Market
from distributions.tails import tail_index

from .. import border
from ..auctions import SecondPrice
from ..quadrature import integrate


@dataclass(frozen=True)
class RedistributionExact:
    """Exact ex-ante values of a redistribution mechanism for n i.i.d. agents.

    welfare = E[Σ v_i Q_i]; efficiency_loss = E[v_(1)] - welfare (m units: the top m values); budget_surplus =
    E[-Σ T_i] (money the designer keeps); utility = E[Σ u_i] = welfare - budget_surplus; collected /
    redistributed = the payments taken and given back (None where the mechanism has no such split); ``notes``
    say why a value is +inf or what the mechanism assumed."""

    welfare: float
    efficiency_loss: float
    budget_surplus: float
    utility: float
    n: float
    collected: float | None = None
    redistributed: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def per_agent_utility(self) -> float:
        """Each agent's ex-ante utility (the mechanisms here are symmetric): utility / n."""
        return self.utility / self.n

    def as_dict(self) -> dict:
        """metric -> value (the metrics of ``outcome``'s per-draw arrays that have an exact value)."""
        out = {"welfare": self.welfare, "efficiency_loss": self.efficiency_loss,
               "budget_surplus": self.budget_surplus, "utility": self.utility,
               "agent_utility": self.per_agent_utility}
        if self.collected is not None:
            out["collected"] = self.collected
        if self.redistributed is not None:
            out["redistributed"] = self.redistributed
        return out


def with_infinity_notes(exact: RedistributionExact, dist) -> RedistributionExact:
    """``exact`` with a note naming every infinite value and why (the tail index of F: the k-th highest of n
    values has tail index k·α, so E[v_(1)] is infinite when α <= 1)."""
    from dataclasses import replace

    names = [k for k, v in exact.as_dict().items() if v is not None and math.isinf(v)]
    if not names:
        return exact
    note = f"{' '.join(names)} infinite: a heavy tail (tail index {tail_index(dist):.3g}) makes the mean infinite"
    return replace(exact, notes=exact.notes + (note,))


def iid_market(market: Market, units: int | None = 1) -> tuple:
    """(F, n) of an i.i.d. market with at least two agents; ``units`` (when given) must be the market's m."""
    if not isinstance(market, Market):
        raise InputError("market", f"expected a Market, got {type(market).__name__}")
    dist, n = market.dist, market.n
    if n < 2:
        raise InputError("n", f"redistribution needs at least 2 agents, got {n:g}")
    if units is not None and market.m != units:
        raise InputError("m", f"this mechanism allocates {units} unit(s); the market has m = {market.m}")
    return dist, n


def check_continuous(dist, what: str) -> None:
    """``what`` needs values without atoms (ties of the efficient allocation) and with a finite mean."""
    if dist.atoms:
        raise InputError("dist", f"{what} needs a distribution without atoms, got {dist.spec}")
    alpha = tail_index(dist)
    if alpha <= 1.0 + 1e-9:
        raise InputError("dist", f"{what} needs a finite mean (tail index {alpha:.3g} <= 1)")


def expected_top(dist, n, k: int) -> float:
    """E[v_(k)], the k-th highest of n i.i.d. values (0 for k > n; +inf where infinite): from the exact VCG
    revenue with k-1 units, (k-1) E[v_(k)] (k >= 2), or OPT = E[v_(1)] (``mechanisms.auctions.SecondPrice``:
    quantile-space integrals, n up to 1e30 and beyond)."""
    return _expected_top(dist, n, int(k))


@functools.lru_cache(maxsize=256)
def _expected_top(dist, n, k: int) -> float:
    if k > n:
        return 0.0
    if k == 1:
        return float(SecondPrice(0.0).exact(Market.iid(dist, n)).welfare)
    return float(SecondPrice(0.0, m=k - 1).exact(Market.iid(dist, n)).revenue) / (k - 1)


def expected_spacing(dist, n, k: int) -> float:
    """E[v_(k) - v_(k+1)] without the cancellation of the difference at large n: for F without atoms or gaps,
    ∫_0^1 P[Bin(n, q) = k] |dv(q)| = ∫ P[Bin(n, q) = k] q / f(v(q)) d(log q) over the quantiles where the
    binomial has mass (n up to 1e30); otherwise the difference of ``expected_top``."""
    return _expected_spacing(dist, n, int(k))


@functools.lru_cache(maxsize=256)
def _expected_spacing(dist, n, k: int) -> float:
    if k >= n:
        return expected_top(dist, n, k)
    upper, lower = expected_top(dist, n, k), expected_top(dist, n, k + 1)
    if math.isinf(upper) or dist.atoms or len(dist.jumps_q()) or n <= 50:
        return upper - lower
    log_c = sum(math.log(n - j) - math.log(j + 1) for j in range(k))
    lo, hi = border.mass_range(n + 2.0, k + 1)
    ta, tb = math.log(lo), math.log(hi)
    breaks = np.unique(np.concatenate([[ta, tb], np.arange(math.ceil(ta), math.floor(tb) + 1, 2.0)]))
    breaks = breaks[(breaks >= ta) & (breaks <= tb)]

    def f(t):
        q = np.exp(t)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            pmf = np.exp(log_c + k * t + (n - k) * np.log1p(-q))
            return pmf * q / np.asarray(dist.pdf(dist.v(q)), dtype=float)

    return float(integrate(f, breaks, rtol=1e-10, what="dist")[0])


class WeightedIntegral:
    """H(q) = ∫_0^q v(t) w(t) dt and its complement ∫_q^1 v(t) w(t) dt, for a weight w (a density of a quantile
    of an order statistic), tabulated once on a grid dense in log q near 0 and in q near 1 (Gauss–Legendre on
    each panel) and read by cubic Hermite interpolation with the exact derivative v w: the expected
    externalities of dAGV and the partnership mechanism, and the bidding game's bid."""

    #: the grid: N_LOG points uniform in log q on [Q_MIN, Q_SPLIT], then N_LIN uniform in q up to 1 (so that a
    #: value's panel is found by arithmetic, not by a binary search)
    Q_MIN, Q_SPLIT, N_LOG, N_LIN = 1e-14, 1e-2, 3000, 4000
    GRID = np.concatenate([np.geomspace(Q_MIN, Q_SPLIT, N_LOG), np.linspace(Q_SPLIT, 1.0, N_LIN + 1)[1:]])
    _X, _W = np.polynomial.legendre.leggauss(8)

    def __init__(self, dist, weight):
        self.dist, self.weight = dist, weight
        g = self.GRID
        a, b = np.concatenate([[0.0], g[:-1]]), g
        t = 0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None] * self._X[None, :]
        panel = 0.5 * (b - a) * ((self._vw(t.ravel()).reshape(t.shape)) @ self._W)
        self.low = np.cumsum(panel)  # ∫_0^{g_j}
        self.high = np.concatenate([np.cumsum(panel[::-1])[::-1][1:], [0.0]])  # ∫_{g_j}^1
        self.total = float(np.sum(panel))
        self.slope = self._vw(g)

    def panel_of(self, q):
        """Index j of the grid panel [g_j, g_{j+1}] holding q (q >= Q_MIN), by arithmetic on the two grids."""
        with np.errstate(divide="ignore"):
            step = math.log(self.Q_SPLIT / self.Q_MIN) / (self.N_LOG - 1)
            j_log = np.floor(np.log(np.maximum(q, self.Q_MIN) / self.Q_MIN) / step)
            j_lin = self.N_LOG - 1 + np.floor((q - self.Q_SPLIT) * (self.N_LIN / (1.0 - self.Q_SPLIT)))
        j = np.where(q < self.Q_SPLIT, j_log, j_lin)
        return np.clip(j, 0, len(self.GRID) - 2).astype(np.int64)

    def _vw(self, t):
        t = np.asarray(t, dtype=float)
        with np.errstate(invalid="ignore", over="ignore"):
            out = np.asarray(self.dist.v(np.clip(t, 0.0, 1.0)), dtype=float) * self.weight(t)
        return np.where(self.weight(t) == 0, 0.0, out)

    def _hermite(self, values, q, sign: float):
        """Cubic Hermite interpolation of the tabulated ``values`` (derivative sign * v w), in Horner form."""
        q = np.clip(np.asarray(q, dtype=float), 0.0, 1.0)
        g = self.GRID
        j = self.panel_of(q)
        a = g[j]
        h = g[j + 1] - a
        s = (q - a) / h
        y0 = values[j]
        d = values[j + 1] - y0
        m0, m1 = (sign * h) * self.slope[j], (sign * h) * self.slope[j + 1]
        out = y0 + s * (m0 + s * (3.0 * d - 2.0 * m0 - m1 + s * (m0 + m1 - 2.0 * d)))
        low = q < g[0]
        if np.any(low):  # below the first grid point (q < 1e-14): linear from H(0) = 0
            first = self.low[0] * q[low] / g[0]
            out[low] = first if sign > 0 else self.total - first
        return out

    def lower(self, q):
        """∫_0^q v(t) w(t) dt (vectorised)."""
        return self._hermite(self.low, q, 1.0)

    def upper(self, q):
        """∫_q^1 v(t) w(t) dt (vectorised; accurate relative to itself as q -> 1)."""
        return self._hermite(self.high, q, -1.0)


@functools.lru_cache(maxsize=64)
def max_of_others_table(dist, n: int) -> WeightedIntegral:
    """Weight (n-1)(1-t)^(n-2): the density of the quantile of Y = max of the n-1 others' values, so that
    lower(q(v)) = E[Y 1{Y > v}] and upper(q(v)) = E[Y 1{Y < v}] = ∫_0^v x g(x) dx (slides' g = G', G = F^(n-1))."""
    return WeightedIntegral(dist, lambda t: (n - 1.0) * np.power(1.0 - np.clip(t, 0, 1), n - 2.0))


def sort_desc(values):
    """(order, sorted): agents by decreasing value (ties by index) and the values in that order."""
    order = np.argsort(-values, axis=1, kind="stable")
    return order, np.take_along_axis(values, order, axis=1)


def efficient_allocation(reports):
    """(Q, sorted): the whole object to the highest report (ties to the lowest index), and the reports sorted
    in decreasing order."""
    order, s = sort_desc(reports)
    Q = np.zeros_like(reports)
    Q[np.arange(reports.shape[0])[:, None], order[:, :1]] = 1.0
    return Q, s


def column(sorted_values, k: int):
    """The (k+1)-th highest value of every draw (0 where there are fewer than k+1 agents)."""
    if k < sorted_values.shape[1]:
        return sorted_values[:, k]
    return np.zeros(sorted_values.shape[0])


def common_metrics(values, Q, T, best) -> dict:
    """The per-draw metrics every mechanism reports: welfare Σ v_i Q_i, efficiency_loss best - welfare,
    budget_surplus -Σ T_i, utility Σ u_i, agent_utility u_1 (agent 1; symmetric mechanisms), min_utility
    min_i u_i (ex-post individual rationality with no property rights: >= 0?)."""
    u = values * Q + T
    welfare = np.sum(values * Q, axis=1)
    return {"welfare": welfare, "efficiency_loss": best - welfare, "budget_surplus": -np.sum(T, axis=1),
            "utility": np.sum(u, axis=1), "agent_utility": u[:, 0], "min_utility": np.min(u, axis=1)}


def as_profiles(values, n=None):
    """Reports as a float array of shape (draws, n) (a single profile becomes one draw)."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2 or values.shape[1] < 2 or (n is not None and values.shape[1] != n):
        raise InputError("values", f"expected profiles of shape (draws, {n or 'n >= 2'}), got {values.shape}")
    if np.isnan(values).any():
        raise InputError("values", "NaN in the reported values")
    return values
