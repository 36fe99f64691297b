"""A trader's weighted virtual value in bilateral trade, ironed where it is not monotone (textbook ``004``
§5.3.3; Myerson, 1981, for the ironing; Myerson and Satterthwaite, 1983).

The buyer's φ_a(v) = v - a (1 - F(v))/f(v) (a = 1: the virtual value ψ), the seller's γ_a(c) = c + a G(c)/g(c)
(a = 1: the virtual cost). Raw, in the trader's own quantile (buyer q = Pr[V >= v], seller s = Pr[C >= c]) and
in value space (``buyer_virtual_q``, ``buyer_virtual_v``, ``seller_virtual_s``, ``seller_virtual_c``).

``weighted_virtual(dist, side, a)`` returns a ``WeightedVirtual``: the raw functions when the trader is regular
for this weight (``is_regular``: no atoms, no gaps, φ_a / γ_a monotone on a dense grid), else the ironed ones:
φ_a is the slope of (1-a)V(q) + aR(q) in q, γ_a that of (1-a)C(s') + a s'c(s') in s' = G(c) (``frontier.Side``),
and ironing replaces it by the slope of the concave / convex hull of that curve (``hull.flat_pieces``: the
ironed intervals, ends refined to ~1e-8 of a quantile, each with its exact chord slope as the ironed value; every
atom is an interval of its own, at level = the atom's value, where the curve is straight). Outside the ironed
intervals the raw formula is kept, clipped between the neighbouring intervals' levels, which makes the function
monotone whatever the refinement's last digits. A rule built on these values is constant on each ironed
interval (ties trade), so its interim allocations are monotone and the payment identity with thresholds holds.
"""
from __future__ import annotations

import functools

import numpy as np

from distributions.base import Distribution

def buyer_virtual_q(F: Distribution, a: float, q):
    """φ_a at the buyer's quantile q: v(q) - a q / f(v(q)); v(0) at q = 0 (inf for an unbounded F)."""
    q = np.asarray(q, dtype=float)
    v = np.asarray(F.v(q), dtype=float)
    if a == 0:
        return v
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rent = np.where((q > 0) & np.isfinite(v), q / np.asarray(F.pdf(v), dtype=float), 0.0)
    return v - a * rent


def seller_virtual_s(G: Distribution, a: float, s):
    """γ_a at the seller's quantile s = Pr[C >= c]: c(s) + a (1 - s) / g(c(s)); c(1) at s = 1, c̄ at s = 0
    (inf for an unbounded G)."""
    s = np.asarray(s, dtype=float)
    c = np.asarray(G.v(s), dtype=float)
    if a == 0:
        return c
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rent = np.where((s < 1) & np.isfinite(c), (1.0 - s) / np.asarray(G.pdf(c), dtype=float), 0.0)
    return c + a * rent


def information_rent(x, mass, density):
    """mass(x) / density(x) where x is finite, else 0 (the rent term of a virtual value at values x)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(np.isfinite(x), np.asarray(mass(x), dtype=float) / np.asarray(density(x), dtype=float), 0.0)


def buyer_virtual_v(F: Distribution, a: float, v):
    """φ_a(v) = v - a Pr[V >= v] / f(v) at values v (exact in F's low tail, where q = 1 - F(v) rounds to 1)."""
    v = np.asarray(v, dtype=float)
    return v if a == 0 else v - a * information_rent(v, F.sf, F.pdf)


def seller_virtual_c(G: Distribution, a: float, c):
    """γ_a(c) = c + a G(c) / g(c) at costs c."""
    c = np.asarray(c, dtype=float)
    return c if a == 0 else c + a * information_rent(c, G.cdf, G.pdf)


@functools.lru_cache(maxsize=256)
def is_regular(dist: Distribution, side: str, a: float) -> bool:
    """True when ``dist`` has no atoms or gaps and its weighted virtual value (φ_a for the buyer, γ_a for the
    seller) is monotone on a dense quantile grid (cached by the distribution's value). For 0 <= a <= 1 it checks
    a = 1 (φ_a = (1 - a) v + a ψ is then monotone too); a = 0, the value itself, is always monotone."""
    if a == 0:
        return True
    if dist.atoms or list(dist.jumps_q()):
        return False
    a = 1.0 if 0.0 <= a <= 1.0 else a
    grid = np.unique(np.concatenate([np.geomspace(1e-9, 1.0, 1500), np.linspace(0.0, 1.0, 1501)[1:-1]]))
    if side == "buyer":
        vals = buyer_virtual_q(dist, a, grid)  # non-increasing in q
    else:
        vals = seller_virtual_s(dist, a, grid)  # γ non-increasing in s (c falls as s rises)
    finite = vals[np.isfinite(vals)]
    scale = float(np.max(np.abs(finite))) if finite.size else 1.0
    with np.errstate(invalid="ignore"):
        rise = np.diff(vals)
    return not (np.any(np.isnan(vals)) or np.any(rise > 1e-9 * max(scale, 1e-300)))


def piecewise(x, x1, x2, levels, raw, decreasing: bool):
    """levels[k] on [x1[k], x2[k]] (sorted; neighbours may touch); elsewhere raw(x) clipped between the levels
    of the neighbouring pieces (monotone: non-increasing in x if ``decreasing``). A point where two pieces
    touch belongs to the one of higher values (a node of a quantile grid holds the upper value, v being
    left-continuous): the earlier piece in a quantile (``decreasing``), the later one in value space."""
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        r = np.asarray(raw(x), dtype=float) + np.zeros_like(x)
    if not len(x1):
        return r
    n = len(x1)
    k = np.searchsorted(x1, x, side="left" if decreasing else "right") - 1
    kc = np.clip(k, 0, n - 1)
    inside = (k >= 0) & (x <= x2[kc])
    start = ~inside & (k + 1 < n) & (x == x1[np.clip(k + 1, 0, n - 1)])  # the first piece's start (quantile)
    k = np.where(start, k + 1, k)
    kc = np.clip(k, 0, n - 1)
    inside |= start
    left = np.where(k >= 0, levels[kc], np.nan)
    right = np.where(k + 1 < n, levels[np.clip(k + 1, 0, n - 1)], np.nan)
    upper, lower = (left, right) if decreasing else (right, left)
    upper, lower = np.where(np.isnan(upper), np.inf, upper), np.where(np.isnan(lower), -np.inf, lower)
    return np.where(inside, levels[kc], np.clip(r, lower, upper))


class WeightedVirtual:
    """φ_a (buyer) or γ_a (seller) of one trader: ``at_quantile(x)`` (buyer q = Pr[V >= v], seller
    s = Pr[C >= c]; non-increasing) and ``at_value(x)`` (non-decreasing); ``levels`` the ironed values (empty
    when ``regular``) and ``quantiles`` / ``values`` their intervals (module docstring)."""

    def __init__(self, dist: Distribution, side: str, a: float):
        self.dist, self.side, self.a = dist, side, float(a)
        self.regular = is_regular(dist, side, self.a)
        self.quantiles = self.values = (np.empty(0), np.empty(0))
        self.levels = np.empty(0)
        if not self.regular:
            self._iron()

    def _raw_q(self, x):
        f = buyer_virtual_q if self.side == "buyer" else seller_virtual_s
        return f(self.dist, self.a, x)

    def _raw_v(self, x):
        f = buyer_virtual_v if self.side == "buyer" else seller_virtual_c
        return f(self.dist, self.a, x)

    def _iron(self) -> None:
        """The ironed intervals on the frontier's grid (``frontier.Side``: buyer in q, seller in G(c)), the
        atoms added as intervals of their own; overlapping intervals merged, with the chord of the exact curve."""
        from .frontier import atom_edges, buyer_side, seller_side
        from .hull import flat_pieces

        d, a = self.dist, self.a
        if self.side == "buyer":
            grid = buyer_side(d)
            fixed = list(d.jumps_q()) + atom_edges(d)

            def curve(q):
                return np.asarray(d.V(q), float) + a * (np.asarray(d.R(q), float) - np.asarray(d.V(q), float))
            atoms = [(lo, hi) for lo, hi, _ in d.atoms_q()]
        else:
            grid = seller_side(d)
            fixed = [1.0 - e for e in list(d.jumps_q()) + atom_edges(d)]

            def curve(s):
                r = 1.0 - np.asarray(s, float)
                total = d.mean - np.asarray(d.V(r), float)
                return total + a * ((1.0 - r) * np.asarray(d.v(r), float) - total)
            atoms = [(1.0 - hi, 1.0 - lo) for lo, hi, _ in d.atoms_q()]
        t1, t2, _ = flat_pieces(grid.t, grid.curve(a), grid.increasing, curve, fixed)
        spans = sorted([(float(x), float(y)) for x, y in zip(t1, t2)] + [(float(x), float(y)) for x, y in atoms])
        merged: list[list[float]] = []
        for lo, hi in spans:
            if merged and lo < merged[-1][1]:  # overlapping (touching intervals keep their own levels)
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        t1, t2 = np.array([m[0] for m in merged]), np.array([m[1] for m in merged])
        y1, y2 = self._ends(curve, t1, t2, grid)
        levels = (y2 - y1) / (t2 - t1)
        self._set(t1, t2, levels)

    def _ends(self, curve, t1, t2, grid):
        """The curve at the intervals' ends: ``curve`` there, or at a node of the grid the grid's own value (at
        a gap, a repeated node, the one on the hull: the higher for the buyer, the lower for the seller)."""
        y = grid.curve(self.a)
        pick = np.max if self.side == "buyer" else np.min

        def at(ts):
            out = np.asarray(curve(ts), float).copy()
            lo, hi = np.searchsorted(grid.t, ts, "left"), np.searchsorted(grid.t, ts, "right")
            for i in np.flatnonzero(hi > lo):
                out[i] = pick(y[lo[i]:hi[i]])
            return out
        return at(t1), at(t2)

    def _set(self, t1, t2, levels) -> None:
        """Store the intervals in the trader's quantile and in value space (both sorted ascending)."""
        d = self.dist
        if self.side == "buyer":  # q ascending = values descending
            self.quantiles, self.levels = (t1, t2), levels
            self.values = (np.asarray(d.v(t2), float)[::-1], np.asarray(d.v(t1), float)[::-1])
        else:  # G(c) ascending = s = 1 - G(c) descending = costs ascending
            self.quantiles, self.levels = (1.0 - t2[::-1], 1.0 - t1[::-1]), levels[::-1]
            self.values = (np.asarray(d.v(1.0 - t1), float), np.asarray(d.v(1.0 - t2), float))
        self.value_levels = self.levels[::-1] if self.side == "buyer" else levels

    def at_quantile(self, x):
        """φ_a(v(q)) (buyer) or γ_a(c(s)) (seller), ironed: non-increasing in the quantile."""
        if self.regular:
            return self._raw_q(x)
        return piecewise(x, *self.quantiles, self.levels, self._raw_q, decreasing=True)

    def at_value(self, x):
        """φ_a(v) or γ_a(c), ironed: non-decreasing in the value."""
        if self.regular:
            return self._raw_v(x)
        return piecewise(x, *self.values, self.value_levels, self._raw_v, decreasing=False)


@functools.lru_cache(maxsize=256)
def weighted_virtual(dist: Distribution, side: str, a: float) -> WeightedVirtual:
    """The (ironed where needed) weighted virtual value of a trader, cached by the distribution's value."""
    return WeightedVirtual(dist, side, float(a))
