"""Ironing: the concave hull of a curve C(q) = a·V(q) + b·R(q) in quantile space (Myerson, 1981; Appendix B).

R (a=0, b=1) gives Myerson's ironed revenue curve, S = V - R (a=1, b=-1) the buyers' surplus curve, and the
paper's mixed curve R_λ = λV + (1-λ)R (a=λ, b=1-λ) the Lagrangian optimum of Π + λU (Section 3.3,
Proposition B.6). Where the hull C̄ lies above C (an ironed interval) the optimal interim allocation is constant;
r = sup argmax C̄ is the reserve quantile.

Jumps of v (gaps of the support) make C jump by b·q·(v(q+) - v(q)): both one-sided limits enter the hull
(``docs/architecture.md``, "Gaps"), and since only the higher one can be a hull vertex, the hull takes the top
of a gap when b >= 0 (the revenue side) and the bottom when b < 0 (the surplus side). Below the support v(1+) = 0, so the point
(1, a·V(1)) enters too: giving the lowest types the whole reserve (a free lottery at the bottom) is how the
surplus side reaches U* when v(1) > 0.

The hull is computed on a grid (log-spaced down to 1e-300 for markets of 1e30 buyers, linear above 1e-3, every
atom edge and jump; sampled once per distribution and shared by all curves), then each ironed-interval end and
the maximiser that is not a breakpoint is refined by three rounds of 32-point local grids (~3e-5 of a grid cell,
so ~1e-8 in q above 1e-3; the objective errs by the square of that). r = the largest maximiser within a
relative 1e-12 of the maximum (``FLAT_TOL``: flat tops such as the equal-revenue R resolve to their right end;
a smooth maximum may move by ~1e-6 in q, pass ``r`` when it is known exactly, as Myerson does with q_m).
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field

import numpy as np

from .curves import breakpoints
from distributions.errors import InputError

#: an edge of the hull is an ironed interval when the curve dips below it by more than this (relative)
DEPTH_TOL = 1e-9
#: points within this (relative) of the maximum count as maximisers (r = sup argmax)
FLAT_TOL = 1e-12


class UnboundedError(InputError):
    """The curve is infinite somewhere (E[v] = ∞, or R unbounded near q = 0): the optimum is +∞. Bad input
    for anything that needs the optimum's mechanism; the benchmarks report +∞ instead."""


@dataclass(frozen=True)
class Curve:
    """C(q) = a·V(q) + b·R(q)."""

    a: float
    b: float

    @classmethod
    def revenue(cls) -> "Curve":
        return cls(0.0, 1.0)

    @classmethod
    def surplus(cls) -> "Curve":
        return cls(1.0, -1.0)

    @classmethod
    def welfare(cls) -> "Curve":
        return cls(1.0, 0.0)

    @classmethod
    def mixed(cls, lam: float) -> "Curve":
        """The paper's R_λ = λV + (1-λ)R (λ >= 0); λ = inf gives S (the limit of R_λ / λ)."""
        lam = float(lam)
        if math.isnan(lam) or lam < 0:
            raise InputError("lambda", f"must be >= 0 (inf allowed), got {lam!r}")
        return cls.surplus() if math.isinf(lam) else cls(lam, 1.0 - lam)

    @property
    def side(self) -> str:
        """Which end of a gap the hull takes: 'top' (b >= 0, revenue side) or 'bottom' (b < 0)."""
        return "top" if self.b >= 0 else "bottom"

    def __call__(self, dist, q, v=None):
        """C = (a+b) R + a S at quantiles q (left-continuous); ``v`` overrides v(q) (e.g. a right limit v(q+),
        with S(q+) = S(q) + q (v(q) - v(q+)))."""
        from .curves import curves

        q = np.asarray(q, dtype=float)
        safe = np.where(q > 0, q, 1.0)
        v_at, R, S = curves(dist, safe)
        if v is not None:
            v = np.asarray(v, dtype=float)
            with np.errstate(invalid="ignore"):
                S = S + safe * (v_at - v)
                R = safe * v
        C = (self.a + self.b) * R + self.a * S
        return np.where(q > 0, C, self.b * dist.R0 if self.b != 0 else 0.0)


@dataclass
class Ironing:
    """The hull of a curve: ironed intervals (a, b) inside [0, r], r = sup argmax, hull vertices."""

    curve: Curve
    intervals: list[tuple[float, float]]
    r: float
    vertices_q: np.ndarray = field(repr=False)
    vertices_c: np.ndarray = field(repr=False)

    @property
    def side(self) -> str:
        return self.curve.side

    @property
    def maximum(self) -> float:
        return float(np.max(self.vertices_c))

    def hull(self, q):
        """C̄(q), the concave hull (piecewise linear between the vertices)."""
        return np.interp(np.asarray(q, dtype=float), self.vertices_q, self.vertices_c)


def hull_grid(n: float | None = None) -> np.ndarray:
    """Base quantile grid of the hulls: sparse log grid down to 1e-300, denser from 1e-30 (or 1e-8/n), linear
    and log above 1e-3."""
    dense_lo = min(1e-30, 1e-8 / n) if n else 1e-30
    return np.unique(np.concatenate([[0.0, 1.0], np.geomspace(1e-300, dense_lo, 60),
                                     np.geomspace(max(dense_lo, 1e-300), 1e-3, 900),
                                     np.geomspace(1e-3, 1.0, 1200), np.linspace(0.0, 1.0, 2001)]))


def upper_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the upper concave hull of points sorted by strictly increasing x (monotone chain)."""
    from .hull import upper_hull_indices  # numba, loaded on the first hull

    return upper_hull_indices(np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64))


class _Samples:
    """R and S at quantiles, with the right limits R(q+), S(q+) (different at jumps of v and at q = 1, where
    v(1+) = 0); any curve a V + b R = (a+b) R + a S is then a linear combination, so one sampling of a
    distribution serves every λ (the frontier irons R_λ for many λ)."""

    def __init__(self, dist, q, jumps):
        from .compile import v_right
        from .curves import curves

        q = np.unique(np.asarray(q, dtype=float))
        safe = np.where(q > 0, q, 1.0)
        v, R, S = curves(dist, safe)
        R = np.where(q > 0, R, dist.R0)
        S = np.where(q > 0, S, -dist.R0)  # V(0) = R + S = 0
        Rr, Sr = R.copy(), S.copy()
        for i in np.nonzero(np.isin(q, jumps) & (q > 0))[0]:
            vr = v_right(dist, q[i])
            Rr[i] = q[i] * vr
            Sr[i] = S[i] + q[i] * (v[i] - vr)
        self.q, self.R, self.S, self.Rr, self.Sr = q, R, S, Rr, Sr

    def merged(self, other: "_Samples") -> "_Samples":
        out = object.__new__(_Samples)
        q = np.concatenate([self.q, other.q])
        order = np.argsort(q, kind="stable")
        keep = np.concatenate([[True], np.diff(q[order]) > 0])
        idx = order[keep]
        for name in ("q", "R", "S", "Rr", "Sr"):
            setattr(out, name, np.concatenate([getattr(self, name), getattr(other, name)])[idx])
        return out

    def curve(self, curve: Curve) -> np.ndarray:
        """C at the samples: the higher one-sided limit where they differ."""
        ab = curve.a + curve.b
        with np.errstate(invalid="ignore"):
            left = (ab * self.R if ab else 0.0) + (curve.a * self.S if curve.a else 0.0)
            right = (ab * self.Rr if ab else 0.0) + (curve.a * self.Sr if curve.a else 0.0)
        return np.fmax(left, right) + np.zeros(len(self.q))


_BASE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _base_samples(dist, n) -> _Samples:
    """The samples on ``hull_grid(n)`` plus every breakpoint, cached per distribution."""
    key = min(1e-30, 1e-8 / n) if n else 1e-30
    cache = _BASE.setdefault(dist, {})
    if key not in cache:
        jumps = np.array([float(p) for p in dist.jumps_q()] + [1.0])
        cache[key] = _Samples(dist, np.concatenate([hull_grid(n), breakpoints(dist), [0.0, 1.0]]), jumps)
    return cache[key]


class _Points:
    """The curve at the samples (finite values only), refinable."""

    def __init__(self, dist, curve: Curve, samples: _Samples):
        self.dist, self.curve, self.samples = dist, curve, samples
        self._update()

    def _update(self):
        c = self.samples.curve(self.curve)
        inner = self.samples.q > 0
        if not np.all(np.isfinite(c[inner])):
            raise UnboundedError("dist", "the curve to iron is infinite (an infinite mean, or R unbounded as "
                                         "q -> 0): the optimum is unbounded")
        keep = np.isfinite(c)
        self.q, self.c = self.samples.q[keep], c[keep]

    def add(self, q):
        q = np.setdiff1d(np.unique(np.asarray(q, dtype=float)), self.samples.q)
        if len(q):
            self.samples = self.samples.merged(_Samples(self.dist, q, np.empty(0)))
            self._update()

    def neighbours(self, x: float) -> tuple[float, float]:
        i = int(np.searchsorted(self.q, x))
        return float(self.q[max(i - 1, 0)]), float(self.q[min(i + 1, len(self.q) - 1)])


def _analyse(pts: _Points):
    h = upper_hull(pts.q, pts.c)
    hq, hc = pts.q[h], pts.c[h]
    best = float(np.max(hc))
    k = int(np.nonzero(hc >= best - FLAT_TOL * abs(best))[0][-1])
    intervals = []
    for i, j in zip(h[:-1], h[1:]):
        if j - i < 2:
            continue
        qi = pts.q[i + 1:j]
        line = pts.c[i] + (pts.c[j] - pts.c[i]) / (pts.q[j] - pts.q[i]) * (qi - pts.q[i])
        depth = line - pts.c[i + 1:j]
        if np.any(depth > DEPTH_TOL * (np.abs(line) + np.abs(pts.c[i + 1:j])) + 1e-300):
            intervals.append((float(pts.q[i]), float(pts.q[j])))
    return hq, hc, float(hq[k]), intervals


def iron(dist, curve: Curve, n: float | None = None, rounds: int = 3, points: int = 32,
         r: float | None = None) -> Ironing:
    """Concave hull of ``curve`` for ``dist``: ironed intervals, r = sup argmax C̄ (``r`` overrides it, e.g.
    ``dist.q_m`` for the revenue curve), hull vertices. ``n`` only sets where the log grid is dense."""
    brk = np.array(breakpoints(dist) + [0.0, 1.0])
    pts = _Points(dist, curve, _base_samples(dist, n))
    hq, hc, top, intervals = _analyse(pts)
    for _ in range(rounds):
        ends = {e for iv in intervals for e in iv} | ({top} if r is None else set())
        new = []
        for e in ends:
            if np.any(np.isclose(e, brk, rtol=1e-14, atol=0.0)):
                continue
            a, b = pts.neighbours(e)
            new.append(np.linspace(a, b, points + 2)[1:-1])
        if not new:
            break
        pts.add(np.concatenate(new))
        hq, hc, top, intervals = _analyse(pts)
    r = top if r is None else float(r)
    inside = [(a, min(b, r)) for a, b in intervals if a < r]
    return Ironing(curve, inside, r, hq, hc)
