"""Exact ex-ante values of a ``ClassRule`` (one unit) on a market of several classes, per class and in total.

Products of the classes' score distributions, never per-buyer sums (n_k up to 1e30). Write Q_l(t) =
Pr[a class-l buyer takes part with score >= t] (``ClassScore.score_sf``) and, for a buyer i of class k,
N_l = n_l - [l = k] for the others. Outside the ties (pools):

* allocation:  x_k(q) = Π_l (1 - Q_l(s_k(q)))^{N_l}  (the textbook's q_i(x_i), (5.1), for the rule);
  win probability n_k ∫ x_k dq and welfare n_k ∫ x_k v_k dq over q in (0, r_k] off the pools;
* payment: with one unit the winner pays lo_k(Y), Y the highest other score (``rule.py``). The law of Y is a
  mixture over the class j holding it, at quantile p: Π_k = n_k Σ_j (n_j - [j = k]) ∫ lo_k(s_j(p))
  Q_k(s_j(p)) Π_l (1 - Q_l(s_j(p)))^{n_l - [l = k] - [l = j]} dp.

These integrals run in log p over (1e-300, r_j], with a power-law tail below (quadrature.integrate). A tie at
score c (pools of one or several classes, a_l = Q_l(c+), b_l = Q_l(c)): with C the number of others at c and A
"no other above c", E[1_A u^C] = Φ_k(u) = Π_l (1 - b_l + u (b_l - a_l))^{N_l}, so E[1_A / (C + 1)] = ∫_0^1 Φ_k
(a pool member's allocation; the one-class pool_allocation) and the payment rule gives

    n_k [ a_k (hi_k (Φ_k(1) - Φ_k(0)) - (hi_k - lo_k) (∫Φ_k - Φ_k(0))) + (b_k - a_k) lo_k (∫Φ_k - Φ_k(0)) ].

A lone participant pays her reserve: n_k ρ_k r_k Π_l (1 - r_l)^{N_l}. Surplus U_k = W_k - Π_k (per class).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from distributions.errors import InputError
from distributions.tails import tail_index

from ..base import Exact
from ..curves import curves
from ..quadrature import QuadratureError, integrate
from .rule import ClassRule

RTOL = 1e-11
RTOL_JOINT = 1e-12
LOG_FLOOR = math.log(1e-300)


@dataclass(frozen=True)
class ClassesExact(Exact):
    """``Exact`` plus one row per class: label, count, revenue, surplus, welfare, win_probability (the chance
    that a buyer of the class gets the unit) and per_buyer_surplus."""

    per_class: tuple = ()

    def as_dict(self) -> dict:
        out = super().as_dict()
        out["classes"] = [dict(row) for row in self.per_class]
        return out

    def scaled(self, p: float) -> "ClassesExact":
        base = super().scaled(p)
        rows = tuple({**row, **{k: (0.0 if p == 0 else p * row[k]) for k in _ADDITIVE}} for row in self.per_class)
        return ClassesExact(base.revenue, base.surplus, base.welfare, base.sold, base.n, base.notes, rows)

    def __add__(self, other: "Exact") -> "Exact":
        base = super().__add__(other)
        if not isinstance(other, ClassesExact) or len(other.per_class) != len(self.per_class):
            return base
        rows = tuple({**a, **{k: a[k] + b[k] for k in _ADDITIVE}} for a, b in zip(self.per_class, other.per_class))
        return ClassesExact(base.revenue, base.surplus, base.welfare, base.sold, base.n, base.notes, rows)


_ADDITIVE = ("revenue", "surplus", "welfare", "win_probability", "per_buyer_surplus")


def _log_survivors(Q):
    """log(1 - Q) with log(0) = -inf."""
    with np.errstate(divide="ignore"):
        return np.log1p(-np.minimum(Q, 1.0))


def _weighted(counts, logs):
    """Σ_l counts[l] logs[l] with 0 · (-inf) = 0."""
    total = 0.0
    for c, lg in zip(counts, logs):
        if c != 0:
            total = total + c * lg
    return total


class _Engine:
    """The integrals of the module doc for one rule."""

    def __init__(self, rule: ClassRule):
        if rule.m != 1:
            raise InputError("m", f"exact values on several buyer classes are implemented for one unit (m = 1), "
                                  f"got m = {rule.m}")
        self.rule = rule
        self.cls = rule.classes
        self.n = [float(c.count) for c in self.cls]
        self.K = len(self.cls)
        self.N_total = math.fsum(self.n)

    # ---------------------------------------------------------------- continuous part
    def others(self, k: int, j: int | None = None) -> list[float]:
        """Counts of the other buyers when buyer i is of class k (and one class-j buyer is set aside)."""
        return [self.n[l] - (l == k) - (l == j if j is not None else 0) for l in range(self.K)]

    def integrand(self, j: int):
        """t = log p -> rows [n_j x_j v_j, n_j x_j, Π_k contributions (k = 0..K-1)] · p, p off j's pools."""
        cj = self.cls[j]

        def f(t):
            p = np.exp(t)
            y = cj.score(p)
            Q = [p if l == j else np.asarray(self.cls[l].score_sf(y), dtype=float) for l in range(self.K)]
            logs = [_log_survivors(q) for q in Q]
            off = np.ones(p.shape, dtype=bool)
            for pool in cj.pools:
                off &= ~((p > pool.q_lo) & (p <= pool.q_hi))
            v = np.asarray(cj.dist.v(np.minimum(p, 1.0)), dtype=float)
            with np.errstate(over="ignore", invalid="ignore"):
                x = np.exp(_weighted(self.others(j), logs)) + np.zeros(p.shape)
                rows = [np.where(x > 0, x * v, 0.0) * self.n[j], x * self.n[j]]
                for k in range(self.K):
                    pair = self.n[k] * (self.n[j] - (j == k))
                    if pair <= 0:
                        rows.append(np.zeros(p.shape))
                        continue
                    lo = np.asarray(self.cls[k].threshold_value(y), dtype=float)
                    w = np.exp(_weighted(self.others(k, j), logs)) * Q[k]
                    rows.append(np.where(w > 0, w * lo, 0.0) * pair)
                out = np.vstack(rows) * np.where(off, p, 0.0)
            return out

        return f

    def breaks(self, j: int) -> np.ndarray:
        """Panel ends in log p for class j: its pool edges, the quantiles where another class's Q_l jumps or
        kinks (pool levels, its lowest and highest scores), every 2 in log p."""
        cj = self.cls[j]
        top = math.log(cj.r)
        pts = [q for pool in cj.pools for q in (pool.q_lo, pool.q_hi)]
        for l, cl in enumerate(self.cls):
            if l == j or cl.r <= 0:
                continue
            levels = [pool.score for pool in cl.pools]
            levels += [float(cl.score(np.array(cl.r))), float(cl.score(np.array(min(1e-300, cl.r))))]
            for c in levels:
                if math.isfinite(c):
                    q = float(cj.score_sf(np.array(c)))
                    pts.append(q)
                    pts.append(cj.score_sf_above(c))
        logs = [math.log(q) for q in pts if 1e-300 < q < cj.r]
        grid = np.arange(math.ceil(LOG_FLOOR), top, 2.0)
        return np.unique(np.concatenate([[LOG_FLOOR, top], logs, grid]))

    def continuous(self, j: int) -> np.ndarray:
        """∫ over class j's quantiles (off its pools) of ``integrand(j)``, plus the power-law tail below 1e-300,
        as a (3, K) array [welfare, wins, revenue] by class."""
        out = np.zeros((3, self.K))
        if self.cls[j].r <= 0:
            return out
        f = self.integrand(j)
        val = integrate(f, self.breaks(j), rtol=RTOL, rtol_joint=RTOL_JOINT, what="dist") + _tail(f)
        out[0, j], out[1, j], out[2] = val[0], val[1], val[2:]
        return out

    # ---------------------------------------------------------------- ties
    def levels(self) -> dict:
        """score c -> {class l: its pool at c} over every pool of every class."""
        out: dict = {}
        for l, cl in enumerate(self.cls):
            for pool in cl.pools:
                out.setdefault(pool.score, {})[l] = pool
        return out

    def tie(self, c: float, pools: dict) -> np.ndarray:
        """(3, K) array [welfare, wins, revenue] by class of the tie at score c (module doc)."""
        a = np.array([pools[l].q_lo if l in pools else cl.score_sf_above(c) for l, cl in enumerate(self.cls)])
        b = np.array([pools[l].q_hi if l in pools else float(cl.score_sf(np.array(c)))
                      for l, cl in enumerate(self.cls)])
        out = np.zeros((3, self.K))
        for k, ck in enumerate(self.cls):
            if self.n[k] <= 0:
                continue
            N = self.others(k)
            phi1 = math.exp(float(_weighted(N, _log_survivors(a))))
            phi0 = math.exp(float(_weighted(N, _log_survivors(b))))
            I = _phi_integral(a, b, N)
            if k in pools:
                pool = pools[k]
                _, R, S = curves(ck.dist, np.array([pool.q_lo, pool.q_hi]))
                V = np.where(np.array([pool.q_lo, pool.q_hi]) > 0, R + S, 0.0)
                out[0, k] += self.n[k] * I * float(V[1] - V[0])
                out[1, k] += self.n[k] * I * (pool.q_hi - pool.q_lo)
            lo = pools[k].bid if k in pools else float(ck.threshold_value(np.array(c)))
            hi = pools[k].next if k in pools else lo
            pay = 0.0
            if a[k] > 0:
                pay += a[k] * (hi * (phi1 - phi0) - ((hi - lo) * (I - phi0) if hi != lo else 0.0))
            if b[k] > a[k]:
                pay += (b[k] - a[k]) * lo * (I - phi0)
            out[2, k] += self.n[k] * pay
        return out

    def alone(self) -> np.ndarray:
        """A lone participant pays her reserve: n_k ρ_k r_k Π_l (1 - r_l)^{N_l}."""
        out = np.zeros((3, self.K))
        r = np.array([c.r for c in self.cls])
        for k, ck in enumerate(self.cls):
            if ck.r > 0 and ck.reserve > 0:
                out[2, k] = self.n[k] * ck.reserve * ck.r * math.exp(float(_weighted(self.others(k),
                                                                                       _log_survivors(r))))
        return out


def _phi_integral(a, b, N) -> float:
    """∫_0^1 Π_l (1 - a_l - σ (b_l - a_l))^{N_l} dσ (σ = 1 - u), in log σ down to 1e-300."""
    w = b - a

    def f(t):
        s = np.exp(t)
        logs = [_log_survivors(a[l] + s * w[l]) for l in range(len(a))]
        return np.exp(_weighted(N, logs) + t)[None, :]

    head = math.exp(float(_weighted(N, _log_survivors(a)))) * 1e-300
    brk = np.arange(LOG_FLOOR, 0.0, 2.0)
    return float(integrate(f, np.append(brk, 0.0), rtol=RTOL, what="dist")[0]) + head


def _tail(f) -> np.ndarray:
    """∫_{-inf}^{log 1e-300} f dt for integrands that are power laws e^{s t} there (s fitted from two points
    above); +inf where s <= 0 (a divergent expectation)."""
    t = np.array([LOG_FLOOR, LOG_FLOOR + 10.0])
    g = np.asarray(f(t), dtype=float)
    out = np.zeros(g.shape[0])
    for i, (g0, g1) in enumerate(g):
        if g0 == 0.0 or not math.isfinite(g0):
            out[i] = 0.0 if g0 == 0.0 else g0
            continue
        s = (math.log(abs(g1)) - math.log(abs(g0))) / 10.0 if g1 != 0 else math.inf
        out[i] = g0 / s if s > 1e-9 else math.copysign(math.inf, g0)
    return out


def exact_classes(rule: ClassRule, market) -> ClassesExact:
    """Exact Π, U, W, units sold in total and per class of a one-unit ``ClassRule`` on ``market`` (whose
    classes the rule's ``ClassScore``s describe, in order)."""
    eng = _Engine(rule)
    total = eng.alone()
    for j in range(eng.K):
        total = total + eng.continuous(j)
    for c, pools in eng.levels().items():
        total = total + eng.tie(c, pools)
    return _assemble(eng, market, total)


def _assemble(eng: _Engine, market, total: np.ndarray) -> ClassesExact:
    """The (3, K) [welfare, wins, revenue] array as a ``ClassesExact``; +inf with notes where an expectation
    is infinite (decided from the classes' tails), an error for NaN."""
    welfare, wins, revenue = (np.array(row, dtype=float) for row in total)
    notes = []
    for k, c in enumerate(eng.cls):
        if not math.isfinite(welfare[k]) or math.isnan(revenue[k]):
            mean = float(getattr(c.dist, "mean", math.nan))
            if mean == math.inf and wins[k] > 0:
                welfare[k] = math.inf
                notes.append(f"class {k + 1}: surplus and welfare infinite (tail index "
                             f"{tail_index(c.dist):.4g} <= 1, infinite mean)")
            else:
                raise QuadratureError("dist", f"class {k + 1}: welfare {welfare[k]} / revenue {revenue[k]} not finite "
                                              f"although the mean {mean:g} is finite")
        if revenue[k] == math.inf:
            notes.append(f"class {k + 1}: revenue infinite (the payment's tail is too heavy)")
    with np.errstate(invalid="ignore"):
        surplus = np.where(np.isinf(welfare) & np.isinf(revenue), math.inf, welfare - revenue)
    rows = tuple({"label": f"{c.count:g}*{c.dist.spec}", "count": c.count, "revenue": float(revenue[k]),
                  "surplus": float(surplus[k]), "welfare": float(welfare[k]), "win_probability": float(wins[k]),
                  "per_buyer_surplus": float(surplus[k]) / float(c.count)} for k, c in enumerate(eng.cls))
    return ClassesExact(math.fsum(revenue), math.fsum(surplus), math.fsum(welfare), math.fsum(wins),
                        float(market.n), tuple(notes), rows)
