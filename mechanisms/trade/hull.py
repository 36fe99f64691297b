"""Ironing on a quantile grid (Myerson, 1981), shared by the trade frontier (``frontier``) and the ironed trade
rules (``virtual``, used by ``second_best`` and ``offers``).

A trader's weighted virtual value is the slope of a curve in its quantile t (buyer: (1-a)V + aR in q = 1 - F(v),
concave where regular; seller: (1-b)C + b s c(s) in s = G(c), convex where regular). Ironing replaces it by the
slope of the concave (buyer) / convex (seller) hull of that curve: constant on each ironed interval, where the
hull lies strictly above (buyer) / below (seller) the curve.

- ``iron(t, y, increasing)``: the hull's slope on every interval of a grid (H3's frontier works on the grid).
- ``flat_pieces(t, y, increasing, curve, fixed)``: the ironed intervals themselves, their ends refined by local
  grids (three rounds of 32 points around each end that is not a breakpoint: ~3e-5 of a grid cell), with the
  exact chord slope of the curve on each (the ironed value); ``curve(t)`` evaluates the curve anywhere.
"""
from __future__ import annotations

import numpy as np

#: an edge of the hull is an ironed interval when the curve leaves it by more than this (relative)
DEPTH_TOL = 1e-9


def slopes(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ΔY/Δt per interval; a zero-width interval (a gap) is ±inf where Y jumps, else its right neighbour's."""
    dt, dy = np.diff(t), np.diff(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(dt > 0, dy / np.where(dt > 0, dt, 1.0), np.sign(dy) * np.inf)
    out[np.isinf(dy)] = np.inf  # the top interval of an unbounded seller
    empty = (dt == 0) & (dy == 0)
    for i in np.flatnonzero(empty)[::-1]:
        out[i] = out[i + 1] if i + 1 < len(out) else out[i - 1]
    return out


def lower_hull_indices(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the lower convex hull of points sorted by (x, y) (Andrew's monotone chain; a repeated x, a
    jump, is a vertical step the hull bridges)."""
    idx: list[int] = []
    xs, ys = x.tolist(), y.tolist()
    for k, (px, py) in enumerate(zip(xs, ys)):
        while len(idx) >= 2:
            i, j = idx[-2], idx[-1]
            if (xs[j] - xs[i]) * (py - ys[i]) - (ys[j] - ys[i]) * (px - xs[i]) > 0:
                break
            idx.pop()
        idx.append(k)
    return np.array(idx, dtype=int)


def lower_hull(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lower convex hull's vertices (x, y) (``lower_hull_indices``)."""
    k = lower_hull_indices(x, y)
    return x[k], y[k]


def hull_vertices(t: np.ndarray, y: np.ndarray, increasing: bool) -> np.ndarray:
    """Indices of the vertices of the convex (``increasing``) / concave hull of the finite points (t, y) (only a
    top node can be infinite). Nodes where the slope does not turn the hull's way (by more than rounding) cannot
    be vertices and are dropped first, so the scan runs over few nodes where the curve is straight."""
    sign = 1.0 if increasing else -1.0
    m = int(np.count_nonzero(np.isfinite(y)))
    r = sign * slopes(t[:m], y[:m])
    finite = np.abs(r[np.isfinite(r)])
    keep = np.ones(m, bool)
    keep[1:-1] = r[:-1] < r[1:] - 1e-12 * (finite.max() if finite.size else 1.0)
    kept = np.flatnonzero(keep)
    return kept[lower_hull_indices(t[kept], sign * y[kept])]


def iron(t: np.ndarray, y: np.ndarray, increasing: bool) -> np.ndarray:
    """Ironing (Myerson): the slopes, per interval, of the convex (seller: ``increasing``) or concave (buyer)
    hull of the curve (t, y), i.e. the ironed weighted virtual values. The raw slopes when they are already
    monotone. Nodes where y is infinite (the top of an unbounded seller) keep slope inf."""
    raw = slopes(t, y)
    sign = 1.0 if increasing else -1.0
    with np.errstate(invalid="ignore"):  # inf - inf between two gaps' infinite slopes: not monotone, iron
        monotone = bool(np.all(np.diff(sign * raw) >= 0))
    if monotone:
        return raw
    m = int(np.count_nonzero(np.isfinite(y)))
    h = hull_vertices(t, y, increasing)
    hx, hy = t[h], y[h]
    with np.errstate(divide="ignore", invalid="ignore"):
        seg = np.diff(hy) / np.diff(hx)
    k = np.clip(np.searchsorted(hx, t[:-1], side="right") - 1, 0, len(seg) - 1)
    out = seg[k]
    out[m - 1:] = raw[m - 1:] if m < len(t) else out[m - 1:]
    return out


def _pieces(t: np.ndarray, y: np.ndarray, increasing: bool) -> list[tuple[int, int]]:
    """(i, j): the hull edges from node i to node j > i + 1 that the curve leaves by more than ``DEPTH_TOL``."""
    sign = 1.0 if increasing else -1.0
    h = hull_vertices(t, y, increasing)
    out = []
    for i, j in zip(h[:-1].tolist(), h[1:].tolist()):
        if j - i < 2 or t[j] <= t[i]:
            continue
        line = y[i] + (y[j] - y[i]) / (t[j] - t[i]) * (t[i + 1:j] - t[i])
        depth = sign * (y[i + 1:j] - line)
        if np.any(depth > DEPTH_TOL * (np.abs(line) + np.abs(y[i + 1:j])) + 1e-300):
            out.append((i, j))
    return out


def flat_pieces(t, y, increasing: bool, curve, fixed=(), rounds: int = 3, points: int = 32):
    """The ironed intervals of the curve (t, y) as arrays (t1, t2, level), sorted by t: the hull's edges that
    leave the curve, each end not in ``fixed`` (breakpoints: atom edges, gaps) refined ``rounds`` times by
    ``points`` new nodes between its two neighbours (``curve(t)`` evaluates the curve there), and the level the
    chord's slope (y2 - y1) / (t2 - t1): the ironed virtual value."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    m = int(np.count_nonzero(np.isfinite(y)))
    t, y = t[:m], y[:m]
    fixed = np.asarray(list(fixed), float)
    edges = _pieces(t, y, increasing)
    for _ in range(rounds):
        new = []
        for k in {e for edge in edges for e in edge}:
            if fixed.size and np.any(t[k] == fixed) or 0 < k < len(t) - 1 and t[k - 1] == t[k] or \
                    k + 1 < len(t) and t[k + 1] == t[k]:
                continue
            lo, hi = t[max(k - 1, 0)], t[min(k + 1, len(t) - 1)]
            new.append(np.linspace(lo, hi, points + 2)[1:-1])
        extra = np.setdiff1d(np.concatenate(new), t) if new else np.empty(0)
        if not extra.size:
            break
        pos = np.searchsorted(t, extra, side="left")
        t, y = np.insert(t, pos, extra), np.insert(y, pos, np.asarray(curve(extra), float))
        edges = _pieces(t, y, increasing)
    i, j = np.array([e[0] for e in edges], int), np.array([e[1] for e in edges], int)
    return t[i], t[j], (y[j] - y[i]) / (t[j] - t[i])
