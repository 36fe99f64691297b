"""Building ex-post rules (``QuantileRule``) from quantile pools: the one place that places pools, bids and the
reserve, so that every mechanism honours the rule contract (``mechanisms/rule.py``).

* Atoms of F (flat parts of v) always become pools: equal values tie. Where B is continuous around an atom its
  pool bids the atom's value and its next element is that value too (``add_atom_pools``).
* At a gap of the support (a jump of v at q_c) a pool edge may bid either end of the gap: the same allocation
  with different payments (``docs/architecture.md``, "Gaps"). ``side="top"`` takes the top of each gap (the
  revenue side: bid v(hi), next v(lo), reserve v(r)); ``side="bottom"`` the bottom (the surplus side: bid v(hi+), next
  v(lo+), reserve v(r+)), with v(1+) = 0 below the support (a free lottery at the bottom).
"""
from __future__ import annotations

import math

import numpy as np

from .rule import QuantileRule
from distributions.errors import InputError

SIDES = ("top", "bottom")


def v_left(dist, q: float) -> float:
    """v(q), the value at quantile q (left-continuous: the top of a gap at q); v(0) may be inf."""
    return float(dist.v(np.array(q)))


def v_right(dist, q: float) -> float:
    """v(q+), the right limit (the bottom of a gap at q); v(1+) = 0 (below the support)."""
    if q >= 1.0:
        return 0.0
    at = v_left(dist, q)
    below = float(dist.v(np.array(min(q + max(q * 1e-12, 1e-300), 1.0))))
    return at if abs(at - below) <= 1e-9 * abs(at) else below


def merge_intervals(intervals) -> list[tuple[float, float]]:
    """Union of intervals (a, b]: overlapping ones merge, merely touching ones stay apart (distinct pools)."""
    out: list[list[float]] = []
    for a, b in sorted((float(a), float(b)) for a, b in intervals if b > a):
        if out and a < out[-1][1] - 1e-15 * max(out[-1][1], 1e-300):
            out[-1][1] = max(out[-1][1], b)
        elif out and a < out[-1][1]:  # touching up to rounding (an atom's edge 1 ulp inside): no overlap
            if b > out[-1][1]:
                out.append([out[-1][1], b])
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def atom_intervals(dist, r: float) -> list[tuple[float, float]]:
    """Atoms served below the reserve quantile r, as quantile intervals (a, b]."""
    return [(a, b) for a, b, _ in dist.atoms_q() if b > a and a < r]


def side_bids(dist, lo: float, hi: float, side: str) -> tuple[float, float]:
    """(bid, next) of a pool (lo, hi] taking the top or the bottom of the gaps at its edges (module doc)."""
    if side == "top":
        bid, nxt = v_left(dist, hi), (v_left(dist, lo) if lo > 0 else math.inf)
    else:
        bid, nxt = v_right(dist, hi), (v_right(dist, lo) if lo > 0 else math.inf)
    return bid, max(nxt, bid)


def side_reserve(dist, r: float, side: str) -> float:
    """The reserve at quantile r: v(r) on the top side, v(r+) on the bottom side."""
    return v_left(dist, r) if side == "top" else v_right(dist, r)


def add_atom_pools(dist, r: float, pools) -> list[tuple[float, float, float, float]]:
    """Pools (lo, hi, bid, next) plus a pool (a, b, K, K) for every atom (a, b] of value K not inside one;
    an atom overlapping a pool extends that pool (same bid and next)."""
    pools = sorted([tuple(map(float, p)) for p in pools])
    for a, b in atom_intervals(dist, r):
        value = v_left(dist, b)
        tol = 1e-9 * (b - a) + 1e-15 * b
        hit = [i for i, p in enumerate(pools) if p[0] < b - tol and p[1] > a + tol]
        if not hit:
            pools.append((a, b, value, value))
        else:
            lo = min(a, min(pools[i][0] for i in hit))
            hi = max(b, max(pools[i][1] for i in hit))
            first, last = pools[hit[0]], pools[hit[-1]]
            merged = (lo, hi, last[2], first[3])
            pools = [p for i, p in enumerate(pools) if i not in hit] + [merged]
        pools.sort()
    return pools


def make_rule(m: int, r: float, reserve: float, pools) -> QuantileRule:
    """A ``QuantileRule`` from pools (lo, hi, bid, next), sorted, clipped to [0, r]."""
    pools = sorted(p for p in pools if p[1] > p[0])
    arr = np.array(pools, dtype=float).reshape(-1, 4)
    if len(arr):
        arr[:, 1] = np.minimum(arr[:, 1], r)
        arr = arr[arr[:, 1] > arr[:, 0]]
    return QuantileRule(m=m, r=float(r), reserve=float(reserve), pool_lo=arr[:, 0], pool_hi=arr[:, 1],
                        pool_bid=arr[:, 2], pool_next=arr[:, 3])


def rule_from_intervals(dist, m: int, r: float, intervals, side: str = "top") -> QuantileRule:
    """The indirect Vickrey auction pooling the given quantile intervals and every atom below r, with the
    gap edges and the reserve on ``side`` (Appendix B.3: an ironed interval [a, b] is a pooled bid)."""
    if side not in SIDES:
        raise InputError("side", f"must be one of {', '.join(SIDES)}, got {side!r}")
    r = float(r)
    for a, b in atom_intervals(dist, r):
        if a < r < b:  # never cut an atom: serve all of it (its types have one value)
            r = b
    merged = merge_intervals([(a, min(b, r)) for a, b in intervals if a < r] + atom_intervals(dist, r))
    pools = [(lo, hi, *side_bids(dist, lo, hi, side)) for lo, hi in merged]
    return make_rule(m, r, side_reserve(dist, r, side), pools)
