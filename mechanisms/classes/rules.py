"""The standard mechanisms on a market of several classes, as ``ClassRule`` score auctions (``rule.py``).

* second-price / VCG with an anonymous reserve or class-specific (discriminatory) reserves ρ_k: the score is
  the value, class k takes part above ρ_k, lo_k(t) = max(t, ρ_k); atoms of F_k are pools bidding their value;
* the Lagrangian optimum of Π + λU (λ = 0: Myerson's optimal auction, textbook Proposition 5.3 with ironing;
  λ = inf: the buyers'-surplus optimum): per class, iron R_λ,k = λ V_k + (1-λ) R_k (``ironing.iron``, cached by
  ``optimal.lagrangian_ironing``); the score is its derivative λ v + (1-λ) ψ_k (ψ = R' = v - q / f(v(q)), in
  closed form for power tails, ``virtual``) (the ironed one on the ironed intervals, pools there), the reserve
  quantile r_k = sup argmax of the hull (q_m for Myerson);
* the lottery: everyone scores 0 (one tie), pays 0; a posted price p: every buyer with v >= p scores 0 and
  pays p (units to uniformly random buyers among them: a sequential posted price with random arrivals).
"""
from __future__ import annotations

import math

import numpy as np

from distributions.market import Market

from ..compile import add_atom_pools, atom_intervals, merge_intervals, side_bids, side_reserve
from ..ironing import Curve
from ..optimal import lagrangian_ironing
from .rule import ClassRule, ClassScore, Pool
from .virtual import lagrangian_score_values

#: bisection steps of the score inverse in log q (2^-64 of 690: ~1e-17 relative in q)
BISECTION_STEPS = 64
Q_FLOOR = 1e-300
#: the tilt that ranks a flat stretch of a Lagrangian score by value (relative to v(1/2), per unit of log q)
TILT = 1e-14


def _flat(pools, s, q):
    """``s`` with the pools' scores on their intervals, clamped so that it stays non-increasing across them."""
    for pool in pools:
        c = pool.score
        s = np.where(q <= pool.q_lo, np.maximum(s, c), np.where(q > pool.q_hi, np.minimum(s, c), c))
    return s


def value_score(dist, count, reserve: float) -> ClassScore:
    """Second-price with reserve ρ for one class: score v(q) on q <= r = Pr[v >= ρ], lo(t) = max(t, ρ)."""
    r = float(np.clip(dist.sf(reserve), 0.0, 1.0))
    pools = tuple(Pool(a, min(b, r), k, k, k) for a, b, k, _ in add_atom_pools(dist, r, []) if min(b, r) > a)

    def score(q):
        q = np.asarray(q, dtype=float)
        with np.errstate(over="ignore"):  # a heavy tail's values beyond the doubles: inf
            return _flat(pools, np.asarray(dist.v(np.clip(q, 0.0, 1.0)), dtype=float), q)

    def score_sf(t):
        t = np.asarray(t, dtype=float)
        with np.errstate(invalid="ignore"):
            sf = np.asarray(dist.sf(np.where(np.isfinite(t), t, 0.0)), dtype=float)
        sf = np.where(t == -math.inf, 1.0, np.where(t == math.inf, 0.0, sf))
        return np.minimum(sf, r)

    def threshold(t):
        return np.maximum(np.asarray(t, dtype=float), reserve)

    return ClassScore(dist, count, r, score, score_sf, pools, threshold, float(reserve))


def constant_score(dist, count, price: float, r: float) -> ClassScore:
    """Everyone with q <= r scores 0 and pays ``price`` (lottery: r = 1, price 0; posted price p: r = Pr[v >= p])."""
    pools = (Pool(0.0, r, 0.0, price, math.inf),) if r > 0 else ()

    def score(q):
        return np.zeros(np.shape(q))

    def score_sf(t):
        return np.where(np.asarray(t, dtype=float) <= 0.0, r, 0.0)

    def threshold(t):
        return np.where(np.asarray(t, dtype=float) <= 0.0, price, math.inf)

    return ClassScore(dist, count, r, score, score_sf, pools, threshold, float(price))


def inverse_score(score, r: float):
    """t -> Q(t) = sup{q in (0, r] : score(q) >= t} for a non-increasing score, by bisection in log q."""
    log_lo, log_hi = math.log(Q_FLOOR), math.log(r) if r > 0 else math.log(Q_FLOOR)

    def score_sf(t):
        t = np.asarray(t, dtype=float)
        if r <= 0:
            return np.zeros(t.shape)
        lo = np.full(t.shape, log_lo)
        hi = np.full(t.shape, log_hi)
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            up = score(np.exp(mid)) >= t
            lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
        top = score(np.array(r)) >= t
        none = score(np.array(Q_FLOOR)) < t
        return np.where(top, r, np.where(none, 0.0, np.exp(lo)))

    return score_sf


def lagrangian_score(dist, count, lam: float) -> ClassScore:
    """One class's score in M*_λ: the derivative of the hull of R_λ = λV + (1-λ)R (λ = 0: ψ̄_k, Myerson).

    Off the ironed intervals and atoms the score is a v(q) + b ψ(v(q)) (curve C = aV + bR, C' = a v + b R',
    R'(q) = ψ(v(q))); on each pool the hull's slope (C̄(hi) - C̄(lo)) / (hi - lo). Gaps of the support and the
    reserve take the top on the revenue side (λ <= 1) and the bottom on the surplus side (``compile``).
    Where the curve is straight but not ironed (a flat score: S of the exponential, R of the equal-revenue
    distribution) the higher value wins, as in the one-class rule: the score carries a tilt - TILT v(1/2) log q
    (at most ~7e-12 v(1/2)), which makes it strictly decreasing off the pools."""
    curve = Curve.mixed(lam)
    ir = lagrangian_ironing(float(lam), Market.iid(dist, count))
    r = float(ir.r)
    for a, b in atom_intervals(dist, r):
        if a < r < b:
            r = b
    merged = merge_intervals([(a, min(b, r)) for a, b in ir.intervals if a < r] + atom_intervals(dist, r))
    hull = ir.hull(np.array([p for iv in merged for p in iv])).reshape(-1, 2) if merged else np.zeros((0, 2))
    pools = tuple(Pool(lo, hi, float((c[1] - c[0]) / (hi - lo)), *side_bids(dist, lo, hi, curve.side))
                  for (lo, hi), c in zip(merged, hull))

    tilt = TILT * max(abs(float(dist.v(np.array(0.5)))), 1e-300)

    def score(q):
        q = np.asarray(q, dtype=float)
        s = lagrangian_score_values(dist, q, curve.a, curve.b) - tilt * np.log(np.clip(q, Q_FLOOR, 1.0))
        return _flat(pools, np.nan_to_num(s) + np.zeros(q.shape), q)

    score_sf = inverse_score(score, r)
    reserve = side_reserve(dist, r, curve.side) if r > 0 else math.inf

    def threshold(t):
        t = np.asarray(t, dtype=float)
        Q = score_sf(t)
        v = np.asarray(dist.v(np.clip(Q, 0.0, 1.0)), dtype=float)
        if curve.side == "bottom":
            below = np.asarray(dist.v(np.minimum(Q + np.maximum(Q * 1e-12, 1e-300), 1.0)), dtype=float)
            v = np.where(Q >= 1.0, 0.0, np.where(np.abs(v - below) <= 1e-9 * np.abs(v), v, below))
        return np.where(t == -math.inf, reserve, np.where(Q > 0, v, math.inf))

    return ClassScore(dist, count, r, score, score_sf, pools, threshold, float(reserve))


def second_price_rule(market: Market, reserves, name: str = "") -> ClassRule:
    """Second-price (m = 1) / VCG with reserve ρ_k for class k (anonymous: all equal)."""
    return ClassRule(market.m, tuple(value_score(c.dist, c.count, float(rho))
                                     for c, rho in zip(market.classes, reserves)), name)


def lagrangian_rule(market: Market, lam: float, name: str = "") -> ClassRule:
    """M*_λ on several classes: the highest per-class ironed λ v + (1-λ) ψ_k wins when >= 0 (its r_k)."""
    return ClassRule(market.m, tuple(lagrangian_score(c.dist, c.count, lam) for c in market.classes), name)


def lottery_rule(market: Market, name: str = "lottery") -> ClassRule:
    """The units to uniformly random buyers, free."""
    return ClassRule(market.m, tuple(constant_score(c.dist, c.count, 0.0, 1.0) for c in market.classes), name)


def posted_price_rule(market: Market, price: float, name: str = "") -> ClassRule:
    """Price p to every buyer; the units go to uniformly random buyers among those with v >= p."""
    return ClassRule(market.m, tuple(constant_score(c.dist, c.count, float(price),
                                                    float(np.clip(c.dist.sf(price), 0.0, 1.0)))
                                     for c in market.classes), name)
