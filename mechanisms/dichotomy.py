"""The supporting-line dichotomy that traces a concave frontier between two extreme points (paper Appendix B:
every extreme point is a Lagrangian optimum M*_θ): for a segment a-b, the weight θ whose level lines are
parallel to the chord gives the optimum M*_θ farthest above it; the segment whose chord lies farthest below the
frontier is split first, until every chord is within the tolerance or the evaluation budget is spent.

Shared by the one-class frontier (``mechanisms/frontier.py``), the several-class one (``classes/frontier.py``)
and the bilateral-trade one (``trade/frontier.py``); each supplies its ``probe``.
"""
from __future__ import annotations

import heapq
import math


class WeightedPoint:
    """An extreme point found at the weight θ of (1-θ)Π + θU (λ = θ/(1-θ)), with its exact values ``exact``
    (revenue Π, surplus U): the one-class ``frontier.ExtremePoint`` and the several-class ``ClassPoint``."""

    @property
    def lam(self) -> float:
        return math.inf if self.theta >= 1 else self.theta / (1.0 - self.theta)

    @property
    def revenue(self) -> float:
        return self.exact.revenue

    @property
    def surplus(self) -> float:
        return self.exact.surplus

    def objective(self, theta: float) -> float:
        """(1-θ)Π + θU: the supporting line's height at this point."""
        return (1.0 - theta) * self.revenue + theta * self.surplus


def dichotomy(left, right, probe, tol_abs: float, max_points: int):
    """Extreme points between ``left`` and ``right`` (both included, unsorted) and the largest chord error left
    (0 when every chord is within ``tol_abs``).

    ``probe(a, b) -> (gain, mid, cost)``: the optimum ``mid`` for segment a-b (or None when there is none
    strictly between them), how far it lies above the chord (``gain``), and the evaluations it spent (``cost``,
    counted against ``max_points``; the two ends count as 2)."""
    out, heap, tie, evals = [left, right], [], 0, 2

    def push(a, b):
        nonlocal tie, evals
        gain, mid, cost = probe(a, b)
        evals += cost
        if mid is not None and gain > tol_abs:
            tie += 1
            heapq.heappush(heap, (-gain, tie, a, mid, b))

    push(left, right)
    while heap and evals < max_points:
        _, _, a, mid, b = heapq.heappop(heap)
        out.append(mid)
        push(a, mid)
        push(mid, b)
    return out, (-heap[0][0] if heap else 0.0)
