"""Exact ex-ante values of any ex-post rule: the one place where Π, U, W and units sold are computed.

A rule (``mechanisms/rule.py``) is an indirect Vickrey auction: a bid space B whose lowest element is the
reserve ρ, quantile pools (lo, hi] bidding ``bid`` with ``next`` the next element of B, value bids elsewhere
below the reserve quantile r. The payment identity (``docs/architecture.md``) gives a type of value w the utility

    u(w) = int_0^w G(t) dt,   G(t) = the chance to win when bidding max(B ∩ [0, t])  (0 below ρ),

so per buyer U/n = E[u(v)] = int_ρ^∞ G(t) Pr[v >= t] dt and W/n = int_0^r x(q) v(q) dq (Section 2:
Π = W - U). G is known on every piece of the t-axis:

* a pool k covers t in [bid_k, next_k) with G = x_k = (X̂(hi) - X̂(lo)) / (hi - lo) (``border.pool_allocation``);
* a stretch (α, β] of value bids covers t from next of the pool below it (ρ at the bottom) up to the bid of the
  pool above it (∞ at the top), with G(t) = X̂'(Pr[v >= t]) -- including the gaps of F inside it and the parts
  of the gaps at its ends that B leaves to it;
* below the lowest pool, bids in [ρ, bid) win when fewer than m others take part: G = X̂'(r).

In quantile terms (v left-continuous, S = V - R, integration by parts with -X̂'' = Beta(m, n-m) density φ):

    pool (lo, hi]:           Π = x (hi·bid - lo·next)
                             U = x (S(hi) + hi (v(hi) - bid) - S(lo) - lo (v(lo) - next))
    value bids (α, β]:       Π = X̂'(β) β t_lo - X̂'(α) α t_hi + int_α^β R φ dq
                             U = X̂'(β)(S(β) + β (v(β) - t_lo)) - X̂'(α)(S(α) + α (v(α) - t_hi))
                                 + int_α^β S φ dq

(terms at α = 0 vanish; t_hi, t_lo the ends of the stretch's t-range). These are Π = n∫x dR, U = n∫x dS with
each jump of v -- where R = q v jumps too -- weighted by the allocation B gives to the gap: the revenue side
bids the top of a gap, the surplus side the bottom. The integrals run in log q through ``quadrature.integrate``
over the quantiles where φ has mass (around m/n), so n may be 1e30; v, R, S come from ``curves`` (robust where
the distribution layer's V cancels). Ex-ante mixtures (Corollaries 3.6, 3.8) are linear.
"""
from __future__ import annotations

import math

import numpy as np

from distributions.market import Market
from distributions.tails import tail_index

from . import border
from .base import Exact
from .curves import breakpoints, curves
from .quadrature import QuadratureError, integrate
from .rule import MixtureRule, QuantileRule
from distributions.errors import InputError

#: relative tolerance of the quadratures, and relative to the larger of the two (R and S) integrals
RTOL = 1e-11
RTOL_JOINT = 1e-12
#: absolute tolerance of a piece, relative to the median value v(1/2)
ATOL_OF_MEDIAN = 1e-15


#: a power tail whose exponent s (integrand ~ q^(s-1)) is below this is divergent: (m+1)·alpha <= 1 + ~1e-9
S_EPS = 1e-9
#: log-q spacing of the three points that fit the power tail, and how far the quadrature may be pushed down
TAIL_STEP = 10.0
T_FLOOR = math.log(1e-290)
#: the smallest positive double (subnormal): a value that underflows to 0 was below it
DBL_TRUE_MIN = 5e-324


def order_integrals(dist, alpha: float, beta: float, n: float, m: int = 1) -> tuple[float, float]:
    """(int_α^β R φ dq, int_α^β S φ dq), φ the Beta(m, n-m) density (-X̂''), in the variable log q.

    Quadrature over the quantiles where φ has mass (``border.mass_range``); below them the integrand
    g(t) = R φ q (t = log q) of a power tail v(q) ~ c q^(-1/a) is c' e^{s t}, s = m + 1 - 1/a, integrated in
    closed form (``_tail_piece``): +inf when s <= 0, i.e. the (m+1)-th highest value has tail index
    (m+1) a <= 1 (the payment of a value bid is the next bid; Section 2, Π = n∫x dR)."""
    if m >= n or not beta > alpha:
        return 0.0, 0.0
    q_lo, q_hi = border.mass_range(n, m)
    a, b = max(alpha, q_lo), min(beta, q_hi)
    if not b > a:
        return 0.0, 0.0
    ta, tb = math.log(a), math.log(b)
    peak = math.log(m / (n - 1.0)) if n > 1 else 0.0
    inner = [math.log(p) for p in breakpoints(dist) if a < p < b]
    if ta < peak < tb:
        inner.append(peak)
    brk = np.unique(np.concatenate([[ta, tb], inner, np.arange(math.ceil(ta), math.floor(tb) + 1, 2.0)]))
    brk = brk[(brk >= ta) & (brk <= tb)]

    def f(t):
        q = np.exp(t)
        _, R, S = curves(dist, q)
        w = np.exp(border.log_order_density(q, n, m) + t)
        with np.errstate(invalid="ignore"):
            return np.vstack([R * w, S * w])

    # an absolute floor at the scale of a typical buyer's share, v(1/2) m/n: a piece worth 1e-47 of that need not
    # be known to 1e-11 of itself
    atol = ATOL_OF_MEDIAN * abs(float(np.nan_to_num(dist.v(0.5), posinf=0.0))) * m / n
    out = integrate(f, brk, rtol=RTOL, atol=atol, rtol_joint=RTOL_JOINT, what="dist")
    if a > alpha:
        out = _lower_tail(f, dist, ta, math.log(alpha) if alpha > 0 else -math.inf, out)
    return float(out[0]), float(out[1])


def _lower_tail(f, dist, t_cut: float, t_alpha: float, body: np.ndarray) -> np.ndarray:
    """``body`` (the integrals from t_cut up) plus int_{t_alpha}^{t_cut} f: the power-tail closed form, pushed
    further down by quadrature while the fit's error estimate exceeds RTOL of the total (QuadratureError if it
    still does at q = 1e-290)."""
    total = np.array(body, dtype=float)
    while True:
        tail, err = _tail_piece(f, t_cut, t_alpha)
        with np.errstate(invalid="ignore"):
            out = total + tail
            fine = ~np.isfinite(out) | (err <= RTOL * np.abs(out))
        if np.all(fine) or t_cut - 4.6 * TAIL_STEP < max(T_FLOOR, t_alpha):
            break
        t_next = t_cut - 4.6 * TAIL_STEP
        brk = np.arange(t_next, t_cut + 1.0, 2.0)
        total = total + integrate(f, np.append(brk[brk < t_cut], t_cut), rtol=RTOL, rtol_joint=RTOL_JOINT,
                                  what="dist")
        t_cut = t_next
    if not np.all(fine):
        j = int(np.argmax(~fine))
        raise QuadratureError("dist", f"the tail of the distribution is not a power law down to q = 1e-290: "
                                      f"the tail integral's error estimate {err[j]:.3g} exceeds "
                                      f"{RTOL:g} of the value {out[j]:.12g}")
    return out


def _tail_piece(f, t_cut: float, t_alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """(int_{t_alpha}^{t_cut} g dt, error estimate) for each row g of f, fitting g = g(t_cut) e^{s (t - t_cut)}
    through t_cut and t_cut - TAIL_STEP; the estimate is the change when s is fitted one step further down.
    +inf where t_alpha = -inf and s <= S_EPS (a divergent power tail)."""
    t = t_cut - TAIL_STEP * np.arange(3.0)
    with np.errstate(all="ignore"):
        g = np.asarray(f(t), dtype=float)
        lg = np.log(np.abs(g))
        s1 = (lg[:, 0] - lg[:, 1]) / TAIL_STEP
        s2 = (lg[:, 1] - lg[:, 2]) / TAIL_STEP
    span = t_cut - t_alpha
    v1, v2 = _exp_integral(g[:, 0], s1, span), _exp_integral(g[:, 0], s2, span)
    with np.errstate(invalid="ignore"):
        err = np.where(np.isfinite(v1) & np.isfinite(v2), np.abs(v1 - v2), np.where(v1 == v2, 0.0, np.inf))
    # g underflows one step down (a steep tail, e.g. the Beta(m, n-m) weight with m = 600): it fell by more than
    # g(t_cut) / DBL_TRUE_MIN over TAIL_STEP, so the tail is at most g(t_cut) / s_lo; count it as 0 +- that bound
    under = (g[:, 0] != 0) & (g[:, 1] == 0)
    if under.any():
        with np.errstate(divide="ignore"):
            s_lo = (lg[:, 0] - math.log(DBL_TRUE_MIN)) / TAIL_STEP
            bound = np.abs(g[:, 0]) / s_lo
        v1, err = np.where(under, 0.0, v1), np.where(under, bound, err)
    return v1, err


def _exp_integral(g0, s, span):
    """int_{-span}^0 g0 e^{s t} dt, = g0 (1 - e^{-s span}) / s; +inf for span = inf and s <= S_EPS."""
    g0, s = np.asarray(g0, float), np.asarray(s, float)
    out = np.zeros(g0.shape)
    for i, (g, si) in enumerate(zip(g0, s)):
        if g == 0.0 or si == math.inf:
            out[i] = 0.0
        elif not (math.isfinite(g) and not math.isnan(si)):
            out[i] = g if math.isnan(g) else math.copysign(math.inf, g) if math.isinf(g) else math.nan
        elif math.isinf(span):
            out[i] = g / si if si > S_EPS else math.copysign(math.inf, g)
        elif abs(si * span) < 1e-8:
            out[i] = g * span * (1.0 - 0.5 * si * span)
        else:
            out[i] = -g * math.expm1(-si * span) / si
    return out


def _point(dist, q: float) -> tuple[float, float]:
    """(v(q), S(q)) at one quantile (S(0) = 0)."""
    if q <= 0.0:
        return float(dist.v(0.0)), 0.0
    v, _, S = curves(dist, np.array([q]))
    return float(v[0]), float(S[0])


def _value_bids(dist, n, m, alpha, beta, t_hi, t_lo) -> tuple[float, float]:
    """Per-buyer (Π, U) of the stretch (α, β] of value bids whose t-range is [t_lo, t_hi) (module doc)."""
    if alpha == beta:  # no types, only bids (t_lo, t_hi) that win against everyone below α
        x = float(border.X_hat_prime(alpha, n, m)) if alpha > 0 else 0.0
        gap = alpha * (t_hi - t_lo) if x > 0 and t_hi != t_lo else 0.0
        return -x * gap, x * gap
    pi = u = 0.0
    if beta > 0.0:
        xb = float(border.X_hat_prime(beta, n, m))
        if xb > 0.0:
            vb, Sb = _point(dist, beta)
            pi += xb * beta * t_lo
            u += xb * (Sb + beta * (vb - t_lo))
    if alpha > 0.0:
        xa = float(border.X_hat_prime(alpha, n, m))
        if xa > 0.0:
            va, Sa = _point(dist, alpha)
            pi -= xa * alpha * t_hi
            u -= xa * (Sa + alpha * (va - t_hi))
    IR, IS = order_integrals(dist, alpha, beta, n, m)
    return pi + IR, u + IS


def _pool(dist, n, m, lo, hi, bid, nxt) -> tuple[float, float]:
    """Per-buyer (Π, U) of the pool (lo, hi] bidding ``bid`` with next element ``nxt`` (module doc)."""
    x = border.pool_allocation(lo, hi, n, m)
    vh, Sh = _point(dist, hi)
    pi = hi * bid
    u = Sh + hi * (vh - bid)
    if lo > 0.0:
        vl, Sl = _point(dist, lo)
        pi -= lo * nxt
        u -= Sl + lo * (vl - nxt)
    return x * pi, x * u


def check_atoms_pooled(rule: QuantileRule, dist) -> None:
    """Every atom of F (a flat part of v) served by the rule must lie inside one pool: equal values tie."""
    for a, b, value in dist.atoms_q():
        if a >= rule.r or b - a <= 0:
            continue
        tol = 1e-9 * (b - a) + 1e-15 * b
        if b > rule.r + tol:
            raise InputError("rule", f"the reserve quantile r = {rule.r:.12g} cuts the atom at value {value:g} "
                             f"(quantiles ({a:.12g}, {b:.12g}])")
        inside = np.any((rule.pool_lo <= a + tol) & (rule.pool_hi >= b - tol))
        if not inside:
            raise InputError("rule", f"the atom at value {value:g} (quantiles ({a:.12g}, {b:.12g}]) is not inside a "
                             f"pool; build rules with mechanisms.compile")


def exact_from_rule(rule: QuantileRule | MixtureRule, market: Market) -> Exact:
    """Exact Π, U, W and units sold of a rule for the market's n i.i.d. buyers (module doc); the rule's own m
    units."""
    if isinstance(rule, MixtureRule):
        total = None
        for p, comp in zip(rule.probs, rule.rules):
            part = exact_from_rule(comp, market).scaled(float(p))
            total = part if total is None else total + part
        return total
    dist = market.dist
    n, m = border.check_market(market.n, rule.m)
    r, rho = float(rule.r), float(rule.reserve)
    if r <= 0.0:
        return Exact(0.0, 0.0, 0.0, 0.0, n)
    check_atoms_pooled(rule, dist)
    pi = u = 0.0
    cur, t_hi = 0.0, math.inf
    for lo, hi, bid, nxt in zip(rule.pool_lo, rule.pool_hi, rule.pool_bid, rule.pool_next):
        dp, du = _value_bids(dist, n, m, cur, float(lo), t_hi, float(nxt))
        pi, u = pi + dp, u + du
        dp, du = _pool(dist, n, m, float(lo), float(hi), float(bid), float(nxt))
        pi, u = pi + dp, u + du
        cur, t_hi = float(hi), float(bid)
    dp, du = _value_bids(dist, n, m, cur, r, t_hi, rho)
    pi, u = pi + dp, u + du
    return _with_tails(dist, n, m, pi, u, border.units_sold(r, n, m))


def _with_tails(dist, n: float, m: int, pi: float, u: float, sold: float) -> Exact:
    """The per-buyer values as an Exact, +inf with a note where the expectation is infinite: W = n∫x dV and
    U = W - Π when E[v] = inf (some type is served, so x(0+) > 0); Π when the payment integral diverges
    (``order_integrals``: the (m+1)-th highest value has tail index (m+1) a <= 1)."""
    notes = []
    a = tail_index(dist)
    if math.isnan(pi):
        raise QuadratureError("dist", "the revenue integral is undefined (NaN): the curves of F are not finite")
    if pi == math.inf:
        notes.append(f"revenue infinite: the {_ordinal(m + 1)}-highest value has tail index "
                     f"{(m + 1) * a:.4g} <= 1")
    mean = float(getattr(dist, "mean", math.nan))
    if mean == math.inf or (math.isnan(mean) and not math.isfinite(u)):
        u = math.inf
        notes.append(f"surplus and welfare infinite: the value has tail index {a:.4g} <= 1 (infinite mean) "
                     f"and the highest types are served")
    elif not math.isfinite(u):
        raise QuadratureError("dist", f"the buyers' surplus integral is {u} although the mean {mean:g} is finite")
    return Exact(n * pi, n * u, n * (pi + u), sold, n, tuple(notes))


def _ordinal(k: int) -> str:
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


def interim_from_rule(rule: QuantileRule | MixtureRule, market: Market, q):
    """Interim allocation x(q): X̂' on value bids, the pool average on pools, 0 above r; mixtures average."""
    q = np.asarray(q, dtype=float)
    if isinstance(rule, MixtureRule):
        return sum(float(p) * interim_from_rule(c, market, q) for p, c in zip(rule.probs, rule.rules))
    n, m = border.check_market(market.n, rule.m)
    x = np.where(q <= rule.r, border.X_hat_prime(q, n, m), 0.0)
    for lo, hi in zip(rule.pool_lo, rule.pool_hi):
        x = np.where((q > lo) & (q <= hi), border.pool_allocation(lo, hi, n, m), x)
    return x
