"""Exact ex-ante values of a ``ClassRule`` (m units) on a market of several classes, per class and in total.

Products of the classes' score distributions, never per-buyer sums (n_k up to 1e30). Write Q_l(t) =
Pr[a class-l buyer takes part with score >= t] (``ClassScore.score_sf``), for a buyer i of class k N_l =
n_l - [l = k] for the others, and B(N, Q) = Σ_l Bin(N_l, Q_l) the number of others above a level
(``counting``: P(B = j) is the coefficient of z^j in Π_l (1 - Q_l + z Q_l)^{N_l}). Outside the ties (pools):

* allocation:  x_k(q) = P(B(N, Q(s_k(q))) < m)  (fewer than m others score higher; m = 1: Π_l (1 - Q_l)^{N_l},
  the textbook's q_i(x_i), (5.1)); win probability n_k ∫ x_k dq and welfare n_k ∫ x_k v_k dq over
  q in (0, r_k] off the pools;
* payment: a winner pays lo_k(Y), Y the m-th highest other score, when that score is a single buyer
  (``rule.py``; m = 1: the highest other score). Its law is a mixture over the class j holding it, at
  quantile p, with exactly m - 1 of the remaining others above it: Π_k = n_k Σ_j (n_j - [j = k]) ∫
  lo_k(s_j(p)) Q_k(s_j(p)) P(B(N - e_j, Q(s_j(p))) = m - 1) dp.

These integrals run in log p over (1e-300, r_j], with a power-law tail below (quadrature.integrate); the
panels break where another class's count crowds (n_l Q_l = 1e-3 m .. 1e3 m, ``_Engine.crowd``), and where
v_j(p) overflows (a heavy tail) the own-class payment Q lo = p v_j(p) is R_j(p). A tie at
score c (pools of one or several classes, a_l = Q_l(c+), b_l = Q_l(c), A others above c, C others at c):
random tie-breaking is a uniform key per tied buyer, so a tied buyer whose key puts a fraction σ of the tie
ahead of her wins with probability F(a + σ (b - a)), F(Q) = P(B(N, Q) < m), and E[1{A < m} min(1, (m - A) /
(C + 1))] = ∫_0^1 F(a + σ (b - a)) dσ =: ∫F (a pool member's allocation; m = 1: the one-class
pool_allocation). The level is the first one that does not win entirely iff A < m <= A + C (+ her, when she
is above it), which has probability F(a) - F(b); there E[(m - A) / (C + 1)] = ∫F - F(b), and the payment rule
gives

    n_k [ a_k (hi_k (F(a) - F(b)) - (hi_k - lo_k) (∫F - F(b))) + (b_k - a_k) lo_k (∫F - F(b)) ].

With at most m participants everyone pays her reserve: n_k ρ_k r_k F(r). Surplus U_k = W_k - Π_k (per class).
An infinite surplus (a class of infinite mean that wins) is reported as +inf with a note; a NaN anywhere is
an error, never an output.
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
from .counting import exactly, fewer_than
from .rule import ClassRule

RTOL = 1e-11
RTOL_JOINT = 1e-12
#: absolute tolerance of a class's integrals, relative to m min(1, max_k v_k(1/2))
ATOL = 1e-17
LOG_FLOOR = math.log(1e-300)
#: classes with at least this many buyers get panel breaks at their crowding scores (``_Engine.crowd``)
CROWD = 30


@dataclass(frozen=True)
class ClassesExact(Exact):
    """``Exact`` plus one row per class: label, count, revenue, surplus, welfare, win_probability (the expected
    number of units the class gets: with one unit, the chance that a buyer of the class gets it) and
    per_buyer_surplus."""

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


class _Engine:
    """The integrals of the module doc for one rule."""

    def __init__(self, rule: ClassRule):
        if not (isinstance(rule.m, (int, np.integer)) and rule.m >= 1):
            raise InputError("m", f"the number of units must be a whole number >= 1, got {rule.m!r}")
        self.rule = rule
        self.m = int(rule.m)
        self.cls = rule.classes
        self.n = [float(c.count) for c in self.cls]
        self.K = len(self.cls)
        self.N_total = math.fsum(self.n)
        # an absolute floor for a class whose whole contribution is negligible (~1e-40: it almost never wins)
        scale = max([abs(float(c.dist.v(np.array(0.5)))) for c in self.cls] + [1e-300])
        self.atol = ATOL * self.m * min(1.0, scale)

    # ---------------------------------------------------------------- continuous part
    def others(self, k: int, j: int | None = None) -> list[float]:
        """Counts of the other buyers when buyer i is of class k (and one class-j buyer is set aside)."""
        return [self.n[l] - (l == k) - (l == j if j is not None else 0) for l in range(self.K)]

    def integrand(self, j: int):
        """t = log p -> rows [n_j x_j, Π_k contributions (k = 0..K-1), U_k contributions (k = 0..K-1)] · p,
        p off j's pools: the class-j buyer at p is the m-th highest other score Y of a class-k winner, who
        pays lo_k(Y) and keeps ∫_0^{Q_k(Y)} (v_k - lo_k(Y)) dq (``excess``: no W - Π cancellation)."""
        cj = self.cls[j]

        def f(t):
            p = np.exp(t)
            y = cj.score(p)
            Q = [p if l == j else np.asarray(self.cls[l].score_sf(y), dtype=float) for l in range(self.K)]
            off = np.ones(p.shape, dtype=bool)
            for pool in cj.pools:
                off &= ~((p > pool.q_lo) & (p <= pool.q_hi))
            zero = np.zeros(p.shape)
            with np.errstate(over="ignore", invalid="ignore"):  # v_j(p) = inf below ~1e-250 in a heavy tail
                v_j = np.asarray(cj.dist.v(np.minimum(p, 1.0)), dtype=float)
                x = fewer_than(self.m, self.others(j), Q) + zero
                pay, keep = [], []
                for k in range(self.K):
                    pair = self.n[k] * (self.n[j] - (j == k))
                    if pair <= 0:
                        pay.append(np.zeros(p.shape))
                        keep.append(np.zeros(p.shape))
                        continue
                    # her own class: the lowest value scoring >= s_j(p) is v_j(p) (exact; the score inverse
                    # would round where the score is flat to double precision, e.g. θ -> 1), and Q_k lo_k =
                    # R_j(p) (finite where v_j(p) overflows: a heavy tail below p ~ 1e-250)
                    lo = (v_j if k == j else np.asarray(self.cls[k].threshold_value(y), dtype=float)) + zero
                    Q_lo = np.asarray(cj.dist.R(np.minimum(p, 1.0)), dtype=float) if k == j else Q[k] * lo
                    w = exactly(self.m - 1, self.others(k, j), Q) + np.zeros(p.shape)
                    pay.append(np.where(w * Q[k] > 0, w * Q_lo, 0.0) * pair)
                    keep.append(np.where(w > 0, w * excess(self.cls[k].dist, Q[k], lo), 0.0) * pair)
                rows = np.vstack([x * self.n[j]] + pay + keep)
            # zero on j's pools (the ties are counted by ``tie``): masked, as an infinite row times 0 is NaN
            return np.where(off, rows * p, 0.0)

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
            levels += [float(cl.score(np.array(q))) for q in self.crowd(l) if q < cl.r]
            for c in levels:
                if math.isfinite(c):
                    q = float(cj.score_sf(np.array(c)))
                    pts.append(q)
                    pts.append(cj.score_sf_above(c))
        logs = [math.log(q) for q in pts if 1e-300 < q < cj.r]
        grid = np.arange(math.ceil(LOG_FLOOR), top, 2.0)
        return np.unique(np.concatenate([[LOG_FLOOR, top], logs, grid]))

    def crowd(self, l: int) -> np.ndarray:
        """Quantiles of class l where n_l Q runs through 1e-3 m .. 1e3 m: where P(B < m) falls from ~1 to ~0
        (width ~1/n_l in Q_l). Another class's panels break at the same scores, or a large class's steep step
        (1 - Q_l)^{n_l}, narrower than that class's own panels (0.5 in ln p at p = 1/2: 1e6 buyers of U[0, 1]
        against U[0, 2]), would fall between the quadrature's nodes. Classes under ``CROWD`` buyers have no
        such narrow step (width >= 1/CROWD)."""
        if self.n[l] < CROWD:
            return np.zeros(0)
        return np.power(10.0, np.arange(-3.0, 3.01 + math.log10(self.m), 0.5)) / self.n[l]

    def continuous(self, j: int) -> np.ndarray:
        """∫ over class j's quantiles (off its pools) of ``integrand(j)``, plus the power-law tail below 1e-300,
        as a (3, K) array [surplus, wins, revenue] by class."""
        out = np.zeros((3, self.K))
        if self.cls[j].r <= 0:
            return out
        f = self.integrand(j)
        val = integrate(f, self.breaks(j), rtol=RTOL, atol=self.atol, rtol_joint=RTOL_JOINT, what="dist") + _tail(f)
        out[1, j], out[2], out[0] = val[0], val[1:1 + self.K], val[1 + self.K:]
        return out

    # ---------------------------------------------------------------- ties
    def levels(self) -> dict:
        """score c -> {class l: its pool at c} over every pool of every class."""
        out: dict = {}
        for l, cl in enumerate(self.cls):
            for pool in cl.pools:
                out.setdefault(pool.score, {})[l] = pool
        return out

    def tie_bounds(self, c: float, pools: dict) -> tuple[np.ndarray, np.ndarray]:
        """(a, b): a_l = Q_l(c+), b_l = Q_l(c) of every class at the level c (``pools``: its pools there)."""
        a = np.array([pools[l].q_lo if l in pools else cl.score_sf_above(c) for l, cl in enumerate(self.cls)])
        b = np.array([pools[l].q_hi if l in pools else float(cl.score_sf(np.array(c)))
                      for l, cl in enumerate(self.cls)])
        return a, b

    def tie(self, c: float, pools: dict) -> np.ndarray:
        """(3, K) array [surplus, wins, revenue] by class of the tie at score c (module doc)."""
        a, b = self.tie_bounds(c, pools)
        out = np.zeros((3, self.K))
        for k, ck in enumerate(self.cls):
            if self.n[k] <= 0:
                continue
            N = self.others(k)
            F_a, F_b = float(fewer_than(self.m, N, a)), float(fewer_than(self.m, N, b))
            I = _phi_integral(a, b, N, self.m)
            if k in pools:
                out[1, k] += self.n[k] * I * (pools[k].q_hi - pools[k].q_lo)
            lo = pools[k].bid if k in pools else float(ck.threshold_value(np.array(c)))
            hi = pools[k].next if k in pools else lo
            out[:, k] += self.n[k] * _tie_values(ck.dist, a[k], b[k], lo, hi, F_a - F_b, I - F_b)
        return out

    def alone(self) -> np.ndarray:
        """With at most m participants each pays her reserve ρ_k: Π_k = n_k ρ_k r_k P(B(N, r) < m), and keeps
        U_k = n_k ∫_0^{r_k} (v_k - ρ_k) dq P(B(N, r) < m)."""
        out = np.zeros((3, self.K))
        r = np.array([c.r for c in self.cls])
        for k, ck in enumerate(self.cls):
            if ck.r > 0 and self.n[k] > 0:
                share = self.n[k] * float(fewer_than(self.m, self.others(k), r))
                out[0, k] = share * float(excess(ck.dist, ck.r, ck.reserve)) if share > 0 else 0.0
                out[2, k] = share * ck.reserve * ck.r if ck.reserve > 0 else 0.0
        return out


def _tie_values(dist, a: float, b: float, lo: float, hi: float, P1: float, E1: float) -> np.ndarray:
    """Per buyer [surplus, 0, payment] of the level-c events (module doc): P1 = F(a) - F(b) = P(the level is
    the first not won entirely), E1 = ∫F - F(b) = E[(m - A) / (C + 1) on it]. Above the level (q <= a) a
    winner pays hi - (hi - lo)(m - A)/(C + 1); inside it (a < q <= b) a winner pays lo."""
    pay = keep = 0.0
    if a > 0:
        pay += a * (hi * P1 - ((hi - lo) * E1 if hi != lo else 0.0))
        keep += (float(excess(dist, a, hi)) * P1 if P1 > 0 else 0.0) + (a * (hi - lo) * E1 if hi != lo else 0.0)
    if b > a and E1 > 0:
        pay += (b - a) * lo * E1
        keep += E1 * float(excess(dist, b, lo) - excess(dist, a, lo))
    return np.array([keep, 0.0, pay])


def excess(dist, Q, price):
    """∫_0^Q (v(q) - price) dq = S(Q) + Q (v(Q) - price): what the buyers of a class above quantile Q keep
    when each pays ``price`` (S from ``curves``, no cancellation for huge counts; v(Q) - price below 1e-12
    relative is rounding of the same value, set to 0; 0 at Q = 0)."""
    Q = np.clip(np.asarray(Q, dtype=float), 0.0, 1.0)
    price = np.asarray(price, dtype=float)
    pos = Q > 0
    q = np.where(pos, Q, 1.0)
    v, _, S = curves(dist, q)
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.where(v == price, 0.0, v - price)  # v = price = inf (a heavy tail's overflow): nothing kept
        d = np.where(np.abs(d) <= 1e-12 * np.abs(price), 0.0, d)
        return np.where(pos, np.where(q > 0, S, 0.0) + np.where(d != 0, q * d, 0.0), 0.0)


def _phi_integral(a, b, N, m: int = 1) -> float:
    """∫F = ∫_0^1 P(B(N, a + σ (b - a)) < m) dσ (m = 1: ∫ Π_l (1 - a_l - σ (b_l - a_l))^{N_l} dσ), in log σ
    down to 1e-300."""
    w = b - a

    def f(t):
        s = np.exp(t)
        return (fewer_than(m, N, [a[l] + s * w[l] for l in range(len(a))]) * s)[None, :]

    head = float(fewer_than(m, N, a)) * 1e-300
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


def interim_classes(rule: ClassRule, k: int, q) -> np.ndarray:
    """x_k(q): the chance that a class-k buyer at quantile q (= Pr[v_k >= v]) gets a unit (module doc): 0 above
    r_k, P(B(N, Q(s_k(q))) < m) off the pools (Q_k = q for her own class), ∫F on a pool (vectorised in q)."""
    eng = _Engine(rule)
    if not 0 <= k < eng.K:
        raise InputError("class", f"must be a class index in 0..{eng.K - 1}, got {k!r}")
    ck = eng.cls[k]
    q = np.asarray(q, dtype=float)
    qq = np.clip(q, 1e-300, 1.0)
    y = ck.score(qq)
    Q = [qq if l == k else np.asarray(cl.score_sf(y), dtype=float) for l, cl in enumerate(eng.cls)]
    x = np.asarray(fewer_than(eng.m, eng.others(k), Q) + np.zeros(q.shape), dtype=float)
    levels = eng.levels()
    for pool in ck.pools:
        a, b = eng.tie_bounds(pool.score, levels[pool.score])
        x = np.where((q > pool.q_lo) & (q <= pool.q_hi), _phi_integral(a, b, eng.others(k), eng.m), x)
    return np.where((q > ck.r) | (q < 0), 0.0, x)


def unresolved_top(score, count: float) -> float | None:
    """The top value v(0+) of a class when the class is so large (n q >= 1e-6 at a q whose value rounds to the
    top) that its highest values are not distinct doubles; None otherwise (unbounded, an atom at the top)."""
    if score.r <= 0 or count <= 0:
        return None
    with np.errstate(over="ignore"):  # a heavy tail's v(1e-300) beyond the doubles: inf, unbounded
        top = float(score.dist.v(np.array(1e-300)))
    if not math.isfinite(top) or any(a <= 0.0 < b for a, b, _ in score.dist.atoms_q()):
        return None
    probe = min(score.r, 1e-6 / count)
    return top if float(score.dist.v(np.array(probe))) == top else None


def check_resolution(eng: _Engine) -> None:
    """Scores of different classes are compared as doubles: two huge classes whose values crowd the same top
    of the support (U[0,1] with 1e30 buyers and U[0.5,1] with 1e30) would tie by rounding. Refused with an
    error naming the classes (identical classes are merged before they come here, ``dispatch.merged``)."""
    tops = [unresolved_top(c, n) for c, n in zip(eng.cls, eng.n)]
    for k in range(eng.K):
        for l in range(k):
            if tops[k] is not None and tops[k] == tops[l]:
                raise InputError("buyers", f"classes {l + 1} and {k + 1} share the top value {tops[k]:g} and have "
                                           f"so many buyers that their highest values round to it (exact values "
                                           f"compare values as doubles); use fewer buyers in these classes")


def exact_classes(rule: ClassRule, market) -> ClassesExact:
    """Exact Π, U, W, units sold in total and per class of an m-unit ``ClassRule`` on ``market`` (whose
    classes the rule's ``ClassScore``s describe, in order)."""
    eng = _Engine(rule)
    check_resolution(eng)
    total = eng.alone()
    for j in range(eng.K):
        total = total + eng.continuous(j)
    for c, pools in eng.levels().items():
        total = total + eng.tie(c, pools)
    return _assemble(eng, market, total)


def _assemble(eng: _Engine, market, total: np.ndarray) -> ClassesExact:
    """The (3, K) [surplus, wins, revenue] array as a ``ClassesExact`` (welfare W_k = Π_k + U_k); +inf with
    notes where an expectation is infinite (decided from the classes' tails), an error for NaN."""
    surplus, wins, revenue = (np.array(row, dtype=float) for row in total)
    notes = []
    for k, c in enumerate(eng.cls):
        if math.isnan(revenue[k]) or math.isnan(wins[k]):
            raise QuadratureError("dist", f"class {k + 1}: revenue {revenue[k]} / units {wins[k]} not a number")
        if not math.isfinite(surplus[k]):
            mean = float(getattr(c.dist, "mean", math.nan))
            if mean == math.inf and wins[k] > 0:
                surplus[k] = math.inf
                notes.append(f"class {k + 1}: surplus and welfare infinite (tail index "
                             f"{tail_index(c.dist):.4g} <= 1, infinite mean)")
            else:
                raise QuadratureError("dist", f"class {k + 1}: surplus {surplus[k]} / revenue {revenue[k]} not "
                                              f"finite although the mean {mean:g} is finite")
        if revenue[k] == math.inf:
            notes.append(f"class {k + 1}: revenue infinite (the payment's tail is too heavy)")
    welfare = revenue + surplus
    rows = tuple({"label": f"{c.count:g}*{c.dist.spec}", "count": c.count, "revenue": float(revenue[k]),
                  "surplus": float(surplus[k]), "welfare": float(welfare[k]), "win_probability": float(wins[k]),
                  "per_buyer_surplus": float(surplus[k]) / float(c.count)} for k, c in enumerate(eng.cls))
    return ClassesExact(math.fsum(revenue), math.fsum(surplus), math.fsum(welfare), math.fsum(wins),
                        float(market.n), tuple(notes), rows)
