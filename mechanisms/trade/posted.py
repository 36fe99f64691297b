"""A posted price p in bilateral trade: trade iff v >= p >= c, at the price p (ties trade).

Dominant-strategy IC, ex-post IR, budget balanced on every draw. Closed forms in the side functions of
``outcome.Traders``: Pr[trade] = Gc(p) Q(p), gains GFT(p) = Gc(p) A(p) - Q(p) B(p), buyer U = Gc(p) (A(p) - p Q(p)),
seller profit Q(p) (p Gc(p) - B(p)). Two uniform traders on [0, 1]: GFT(p) = p (1 - p^2)/2 - (1 - p) p^2/2 =
p(1 - p)/2, best at p = 1/2 with 1/8 (3/4 of the first-best 1/6).

``best_price(market)`` maximises GFT(p) over p in [max(v̲, c̲), min(v̄, c̄)] by a grid (with every atom of F
and G, where GFT jumps) refined by a bounded 1-D search around the best grid point.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from distributions.errors import InputError

from .outcome import TradeExact, TradeMechanism, Traders, outcome_arrays


def gains_at(tr: Traders, p):
    """GFT(p) = E[(V - C) 1{V >= p >= C}] = Gc(p) A(p) - Q(p) B(p) (vectorised)."""
    p = np.asarray(p, dtype=float)
    return tr.Gc(p) * tr.A(p) - tr.Q(p) * tr.B(p)


def price_range(tr: Traders) -> tuple[float, float]:
    """[max(v̲, c̲), min(v̄, c̄)], an infinite top replaced by the 1 - 1e-12 quantile of the lighter side."""
    lo = max(tr.v_lo, tr.c_lo)
    hi = min(tr.v_hi, tr.c_hi)
    if math.isinf(hi):
        hi = min(float(tr.F.v(1e-12)), float(tr.G.v(1e-12)))
    return lo, max(lo, hi)


def best_price(market) -> float:
    """The price that maximises the expected gains from trade (the lowest one on a flat top)."""
    tr = Traders.of(market)
    lo, hi = price_range(tr)
    if hi <= lo:
        return lo
    q = np.linspace(0.0, 1.0, 1001)[1:-1]
    grid = [np.linspace(lo, hi, 2001), np.asarray(tr.F.v(q)), np.asarray(tr.G.v(q))]
    grid += [np.array([x for x, _ in dist.atoms]) for dist in (tr.F, tr.G) if dist.atoms]
    grid = np.unique(np.clip(np.concatenate(grid), lo, hi))
    vals = gains_at(tr, grid)
    i = int(np.argmax(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    best, top = float(grid[i]), float(vals[i])
    if b > a:
        res = optimize.minimize_scalar(lambda p: -float(gains_at(tr, p)), bounds=(a, b), method="bounded",
                                       options={"xatol": 1e-13 * max(1.0, abs(b))})
        if -res.fun > top:
            best = float(res.x)
    return best


class PostedPrice(TradeMechanism):
    """Trade at the posted price p iff v >= p >= c; ``price`` a number, or "best" (``best_price``)."""

    def __init__(self, price="best"):
        if isinstance(price, str):
            if price != "best":
                raise InputError("price", f"expected a price >= 0 or 'best', got {price!r}")
        elif isinstance(price, bool) or not isinstance(price, (int, float)) or not (math.isfinite(price)
                                                                                     and price >= 0):
            raise InputError("price", f"expected a finite price >= 0 or 'best', got {price!r}")
        self.price = price if isinstance(price, str) else float(price)
        self.name = f"posted:price={self.price if isinstance(self.price, str) else format(self.price, 'g')}"
        self._best: dict = {}  # market (a value) -> best price

    def price_for(self, market) -> float:
        """The posted price in ``market`` (``best_price`` computed once per market)."""
        if self.price != "best":
            return self.price
        if market not in self._best:
            self._best[market] = best_price(market)
        return self._best[market]

    def exact(self, market) -> TradeExact:
        tr = Traders.of(market)
        p = self.price_for(market)
        q, g = float(tr.Q(p)), float(tr.Gc(p))
        value, cost = g * float(tr.A(p)), q * float(tr.B(p))
        notes = (f"price {p:.12g}",) if self.price == "best" else ()
        return TradeExact.from_sums(q * g, value, cost, p * q * g, p * q * g, notes)

    def outcome(self, market, v, c):
        p = self.price_for(market)
        trade = (v >= p) & (c <= p)
        pays = np.where(trade, p, 0.0)
        return outcome_arrays(v, c, trade, pays, pays)
