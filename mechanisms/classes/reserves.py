"""The best reserves of the second-price auction on a market of several classes (one unit).

With asymmetric buyers Myerson's optimum (textbook Proposition 5.3) is not a second-price auction, and each
class's own monopoly price ψ_k^{-1}(0) is not the best class-specific reserve either: raising ρ_k also moves
the price that the other classes' winners pay. ``best_reserves`` maximises the exact revenue
(``exact.exact_classes``) over (ρ_1, ..., ρ_K) by cyclic coordinate search: for each class a coarse grid in
its quantile space (q from 1e-9 to 1, the current reserve included), then Brent's bounded search between the
grid neighbours of the best point; sweeps repeat until the revenue gains less than 1e-13 of itself.
``best_common_reserve`` is the same search over one anonymous reserve. Both are cached by the market's value.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from distributions.errors import InputError
from distributions.market import Market

from .exact import exact_classes
from .rules import second_price_rule

GRID = 41
SWEEPS = 30
XTOL = 1e-10


def spa_revenue(market: Market, reserves) -> float:
    """Exact revenue of second-price with reserve ρ_k for class k (one class: the i.i.d. code)."""
    if len(market.classes) == 1:
        from ..auctions import SecondPrice

        return SecondPrice(float(reserves[0])).exact(market).revenue
    return exact_classes(second_price_rule(market, reserves), market).revenue


def _check(market: Market) -> None:
    if not isinstance(market, Market):
        raise InputError("market", f"expected a Market, got {type(market).__name__}")
    if market.m != 1:
        raise InputError("m", f"the best reserves are computed for one unit (m = 1), got m = {market.m}")
    for k, c in enumerate(market.classes):
        if not math.isfinite(float(c.dist.mean)):
            raise InputError("dist", f"class {k + 1} ({c.dist.spec}) has an infinite mean: no best reserve")


def _candidates(dists, current: float) -> np.ndarray:
    """Prices to try: each distribution's values at quantiles 1e-9..1 (log and linear), 0 and ``current``."""
    q = np.unique(np.concatenate([np.geomspace(1e-9, 1.0, GRID), np.linspace(0.0, 1.0, GRID)[1:]]))
    vals = np.concatenate([np.asarray(d.v(q), dtype=float) for d in dists] + [[0.0, current]])
    return np.unique(vals[np.isfinite(vals) & (vals >= 0)])


def _line_search(f, candidates: np.ndarray) -> float:
    """argmax of f: the best candidate, then Brent's bounded search between its neighbours."""
    from scipy import optimize

    values = np.array([f(x) for x in candidates])
    i = int(np.argmax(values))
    lo, hi = candidates[max(i - 1, 0)], candidates[min(i + 1, len(candidates) - 1)]
    best_x, best = float(candidates[i]), float(values[i])
    if hi > lo:
        res = optimize.minimize_scalar(lambda x: -f(x), bounds=(lo, hi), method="bounded",
                                       options={"xatol": XTOL * max(1.0, abs(best_x))})
        if -res.fun > best:
            best_x, best = float(res.x), float(-res.fun)
    return best_x


@functools.lru_cache(maxsize=128)
def best_reserves(market: Market) -> tuple[float, ...]:
    """The revenue-maximising class-specific reserves (ρ_1, ..., ρ_K) of second-price (module doc)."""
    _check(market)
    rho = [float(c.dist.monopoly_reserve) for c in market.classes]
    best = spa_revenue(market, rho)
    for _ in range(SWEEPS):
        start = best
        for k, c in enumerate(market.classes):
            def f(x, k=k):
                trial = list(rho)
                trial[k] = float(x)
                return spa_revenue(market, trial)

            rho[k] = _line_search(f, _candidates([c.dist], rho[k]))
            best = spa_revenue(market, rho)
        if best - start <= 1e-13 * abs(best):
            break
    return tuple(rho)


@functools.lru_cache(maxsize=128)
def best_common_reserve(market: Market) -> float:
    """The revenue-maximising anonymous reserve of second-price."""
    _check(market)
    dists = [c.dist for c in market.classes]
    return _line_search(lambda x: spa_revenue(market, [float(x)] * len(dists)),
                        _candidates(dists, float(dists[0].monopoly_reserve)))
