"""First-price auction with asymmetric buyers: the Bayes–Nash equilibrium of several buyer classes, its bid
functions and its exact revenue, welfare, surplus and winning probabilities (issue 15; ``004_…`` §4.3 and the
remark after Proposition 5.2: with asymmetric buyers first- and second-price auctions allocate differently and
earn different revenues).

The inverse bid functions φ_k solve the ODE system of ``asymmetric_ode`` (backward shooting on the common top bid
b̄; ``asymmetric_equilibrium`` holds them as interpolants). Everything else follows from them by quadrature over
the bid b, with H(b) = P(highest bid <= b) = Π_k F_k(φ_k(b))^n_k and L_k'(b) = (log F_k(φ_k(b)))' =
S(b) - 1/(φ_k(b) - b) read off the ODE:

    revenue   Π = E[highest bid; sale] = b̄ - r H(r) - ∫_r^b̄ H(b) db
    win[k]      = P(class k wins)      = ∫_r^b̄ n_k L_k'(b) H(b) db
    welfare   W = E[winner's value]    = Σ_k ∫_r^b̄ φ_k(b) n_k L_k'(b) H(b) db
    surplus_k   = E[class k's utility] = ∫_r^b̄ (φ_k(b) - b) n_k L_k'(b) H(b) db = ∫ n_k H [(φ_k - b) S - 1] db

(a class-k buyer who wins with bid b has value φ_k(b) and pays b; a class that drops out at the top has
φ_k = ω_k and L_k' = 0 above its highest bid). The substitution b = r + (b̄ - r) u² keeps the
integrands smooth at r, where with a reserve φ_k(b) - r grows like sqrt(b - r).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from distributions.errors import InputError
from distributions.market import Market

from ..base import Exact, Mechanism
from .asymmetric_equilibrium import Equilibrium, solve_classes

__all__ = ["AsymmetricExact", "AsymmetricFirstPrice", "Equilibrium", "exact_values"]


@dataclass(frozen=True)
class AsymmetricExact(Exact):
    """``Exact`` (revenue, buyers' total surplus, welfare, probability of sale, N) plus, per class k, the
    probability that a class-k buyer wins, the class's total expected utility and its highest bid β_k(ω_k),
    and the top bid b̄ (the largest of them)."""

    win_probability: tuple[float, ...] = ()
    class_surplus: tuple[float, ...] = ()
    top_bid: float = 0.0
    top_bids: tuple[float, ...] = ()

    @property
    def per_class(self) -> tuple[dict, ...]:
        """Per class k: its winning probability and surplus, in the shape of ``ClassesExact.per_class``."""
        return tuple({"win_probability": p, "surplus": u} for p, u in zip(self.win_probability, self.class_surplus))

    def as_dict(self) -> dict:
        out = super().as_dict()
        for k, (p, u, b) in enumerate(zip(self.win_probability, self.class_surplus, self.top_bids)):
            out[f"win[{k + 1}]"], out[f"surplus[{k + 1}]"], out[f"top_bid[{k + 1}]"] = p, u, b
        out["top_bid"] = self.top_bid
        return out


def exact_values(eq: Equilibrium) -> AsymmetricExact:
    """Revenue, welfare, surplus and each class's winning probability and surplus of the equilibrium ``eq``, by
    quadrature over the bid (module docstring)."""
    from ..quadrature import integrate

    cls = eq.classes
    r, top, K = cls.low, eq.top_bid, len(cls.dists)
    n = cls.counts[:, None]

    def rows(u):
        b = np.minimum(r + (top - r) * u * u, top)
        phi, slopes = eq.inverse_bids(b)
        F = np.array([d.cdf(phi[k]) for k, d in enumerate(cls.dists)])
        with np.errstate(divide="ignore", invalid="ignore"):
            H = np.exp(np.sum(n * np.log(F), axis=0))
            win = np.where(H > 0, n * slopes * H, 0.0)
        win = np.where(np.isfinite(win), win, 0.0)  # b = r exactly (u ~ 0), a point of no mass
        jac = 2.0 * (top - r) * u
        return np.vstack([H, (phi * win).sum(axis=0), win, (phi - b) * win]) * jac

    u_cut = math.sqrt((eq.b_cut - r) / (top - r))
    I = integrate(rows, [0.0, u_cut, 1.0], rtol=1e-12, rtol_joint=1e-13, what="first-price equilibrium")
    H_r = math.exp(math.fsum(c * math.log(float(d.cdf(r))) if d.cdf(r) > 0 else -math.inf
                             for d, c in zip(cls.dists, cls.counts)))
    revenue = float(top - r * H_r - I[0])
    surplus = math.fsum(I[2 + K:])
    notes = (f"first-price equilibrium by backward shooting: top bid {top:.12g}, inverse bids to "
             f"{eq.error_bound:.1g}, solved in {eq.seconds:.2f} s",)
    return AsymmetricExact(revenue, surplus, float(I[1]), 1.0 - H_r, cls.N, notes,
                           tuple(float(x) for x in I[2:2 + K]), tuple(float(x) for x in I[2 + K:]), top,
                           tuple(float(x) for x in eq.top_bids))


def check_reserve(value) -> float:
    """A reserve price: a finite number >= 0."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError("reserve", f"must be a finite number >= 0, got {value!r}") from None
    if isinstance(value, bool) or not (math.isfinite(x) and x >= 0):
        raise InputError("reserve", f"must be a finite number >= 0, got {value!r}")
    return x


class AsymmetricFirstPrice(Mechanism):
    """First-price auction (highest bid wins, pays its bid; optional reserve r) for buyer classes with different
    value distributions, in its Bayes–Nash equilibrium (``Market.of((F1, n1), (F2, n2))``). Reduces to the
    symmetric first-price auction for one class.

    ``solve(market)`` gives the ``Equilibrium`` (inverse bids φ_k, bids β_k), ``exact(market)`` its exact values,
    ``outcome(market, rng, size)`` one draw per auction for ``simulator.core.draws.simulate_draws``."""

    def __init__(self, reserve=None):
        self.reserve = None if reserve is None else check_reserve(reserve)
        self.name = "fpa" if reserve is None else f"fpa:reserve={self.reserve:g}"

    def solve(self, market: Market) -> Equilibrium:
        """The equilibrium (cached by the market's classes and the reserve)."""
        from .asymmetric_equilibrium import check_classes

        check_classes(market, self.reserve)
        return solve_classes(market.classes, self.reserve)

    def rule(self, market: Market):
        raise InputError("mechanism", f"{self.name} with asymmetric buyers has no quantile-space rule: simulate it "
                                      f"with its ex-post outcome (AsymmetricFirstPrice.outcome)")

    def exact(self, market: Market) -> AsymmetricExact:
        """Exact revenue, welfare, surplus, probability of sale, and per class the winning probability and surplus."""
        return exact_values(self.solve(market))

    def exact_metrics(self, market: Market) -> dict[str, float]:
        """The exact value of every metric of ``outcome``."""
        e = self.exact(market)
        out = {"revenue": e.revenue, "welfare": e.welfare, "surplus": e.surplus, "sold": e.sold}
        for k, (p, u) in enumerate(zip(e.win_probability, e.class_surplus)):
            out[f"win[{k + 1}]"], out[f"surplus[{k + 1}]"] = p, u
        return out

    def outcome(self, market: Market, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
        """``size`` auctions: per draw revenue (the winning bid), welfare (the winner's value), surplus (winner's
        value - bid), sold, and per class k win[k] (1 if a class-k buyer wins) and surplus[k]. Bids increase with
        values, so only each class's highest value matters: its quantile is the minimum of n_k uniforms,
        1 - (1 - U)^(1/n_k) = -expm1(log(U') / n_k)."""
        tops = [c.dist.v(-np.expm1(np.log1p(-rng.random(size)) / c.count)) for c in market.classes]
        return self.outcome_of_values(market, tops)

    def outcome_of_values(self, market: Market, tops) -> dict[str, np.ndarray]:
        """The metrics of ``outcome`` for given draws: ``tops[k]`` holds class k's highest value in each auction
        (the class's highest bid β_k(v)); the highest bid >= r wins and pays it."""
        eq = self.solve(market)
        size = len(tops[0])
        best_bid = np.full(size, -math.inf)
        best_value = np.zeros(size)
        winner = np.full(size, -1)
        for k, v in enumerate(tops):
            v = np.asarray(v, dtype=float)
            b = eq.bid(k, v)
            better = b > best_bid
            best_bid = np.where(better, b, best_bid)
            best_value = np.where(better, v, best_value)
            winner = np.where(better, k, winner)
        sold = best_bid >= eq.classes.low
        pay = np.where(sold, best_bid, 0.0)
        welfare = np.where(sold, best_value, 0.0)
        out = {"revenue": pay, "welfare": welfare, "surplus": welfare - pay, "sold": sold.astype(float)}
        for k in range(len(tops)):
            mine = sold & (winner == k)
            out[f"win[{k + 1}]"] = mine.astype(float)
            out[f"surplus[{k + 1}]"] = np.where(mine, welfare - pay, 0.0)
        return out
