"""Symmetric Bayes-Nash equilibrium bid functions of the standard bid formats, in quantile space.

n i.i.d. buyers, F continuous, N = n - 1 rivals; a buyer at quantile q (value v(q), q = 1 - F(v)) faces the
highest rival value Y, whose quantile is the smallest of N uniforms. Revenue equivalence (slides ``002``,
"Generalized Revenue Equivalence"; ``004`` Proposition 5.2, eq. (5.8)) gives the bids; here they are written
as integrals that stay exact for n = 1e30:

* first price with reserve r (q_r = Pr[v >= r]):  b(v) = E[max(Y, r) | Y < v] = v - int_r^v F^N / F(v)^N.
  Conditional on Y < v(q), u = ((1-s)/(1-q))^N (s the quantile of Y) is Uniform(0, 1); with u = e^{-w}:

      b(q) = r e^{-w_r} + int_0^{w_r} v(s(w)) e^{-w} dw,   s(w) = q - (1-q) expm1(-w/N),
      w_r = N (log1p(-q) - log1p(-q_r)),

  so no (1-q)^N is ever formed. Buyers with q > q_r do not bid.
* all pay:  b(v) = int_0^v y d(F(y)^N) = E[Y; Y < v] = F(v)^N b_first(v), F^N = exp(N log1p(-q)).
* third price (n >= 3):  b(v) = v + F(v) / ((n-2) f(v)) (Krishna, *Auction Theory*, §2.5), an equilibrium
  only where it is increasing; ``third_price_bid`` raises InputError where it is not.

The integrals run through ``quadrature.integrate`` (adaptive Gauss-Kronrod; QuadratureError when unconverged),
vectorised over many q at once. ``ChebTable`` tabulates a smooth curve (piecewise Chebyshev, every piece checked
by the decay of its coefficients): the simulator's bid functions in log q, and v itself where it is a slow root
search (``value_curve``: mixtures, scipy distributions).
"""
from __future__ import annotations

import math
import weakref

import numpy as np

from distributions.errors import InputError
from distributions.tails import tail_index

from ..quadrature import integrate

#: the integrals in w = -log u stop at W_MAX: the rest weighs e^{-50} ~ 2e-22 of the largest bid
W_MAX = 50.0
#: relative tolerance of the inner (bid) quadratures
RTOL_BID = 1e-12
#: absolute tolerance of a bid, relative to E[v]: near the bottom v(s) = v(1 - tiny) carries the rounding noise
#: of s itself, ~1e-16 |v'(s)|, which a relative tolerance would chase forever
ATOL_OF_MEAN = 1e-11
#: the bid integrals stop where the rival's quantile s reaches 1 - EPS_BOTTOM (``_first_price_block``)
EPS_BOTTOM = 1e-7
#: initial panel ends of the inner integral in y = log(w / w_top) near 0 (``_first_price_block``)
_Y_BREAKS = np.array([-4.0, -3.0, -2.0, -1.5, -1.0, -0.5, -0.25, 0.0])
#: how many bids one inner quadrature computes together (memory: BLOCK x nodes)
BLOCK = 256
#: smallest quantile a bid function is evaluated at (the value curves are accurate down to it)
Q_FLOOR = 1e-300


def check_bidding_dist(dist) -> None:
    """The formats' equilibria need a continuous F (an atom makes bidding mixed) with a finite mean."""
    if dist.atoms:
        raise InputError("dist", f"the bid formats need a continuous distribution: an atom (at value "
                                 f"{dist.atoms[0][0]:g}) makes the equilibrium bids mixed")
    alpha = tail_index(dist)
    if alpha <= 1.0 + 1e-9:
        raise InputError("dist", f"the bid formats need a finite mean E[v]: tail index {alpha:.4g} <= 1")


def rivals(n) -> float:
    """N = n - 1, the number of rivals of a buyer (n may be 1e30: n - 1 == n there, as it should)."""
    return float(n) - 1.0


def first_price_bid(dist, n, reserve: float, q) -> np.ndarray:
    """First-price equilibrium bid b(q) = E[max(Y, r) | Y < v(q)] (module doc), vectorised; -inf (no bid) for
    q > q_r. With no rival (n = 1) the buyer bids the reserve."""
    q = np.clip(np.asarray(q, dtype=float), Q_FLOOR, 1.0)
    q_r = float(np.clip(dist.sf(reserve), 0.0, 1.0)) if reserve > 0 else 1.0
    out = np.full(q.shape, -np.inf)
    bids = q <= q_r
    N = rivals(n)
    if N == 0.0:
        out[bids] = reserve
        return out
    raw = q[bids].ravel()
    order = np.argsort(raw, kind="stable")
    flat = raw[order]  # sorted: neighbours share a block's panels
    atol = ATOL_OF_MEAN * float(dist.mean)
    vals = np.concatenate([_first_price_block(dist, N, reserve, q_r, flat[i:i + BLOCK], atol)
                           for i in range(0, flat.size, BLOCK)]) if flat.size else flat
    res = np.empty(flat.size)
    res[order] = vals
    out[bids] = res
    return out


def _first_price_block(dist, N: float, reserve: float, q_r: float, q: np.ndarray, atol: float) -> np.ndarray:
    """r e^{-w_r} + int_0^{min(w_r, W_MAX)} v(s(w)) e^{-w} dw for a block of quantiles q <= q_r, split at the
    w where s(w) crosses a jump of v (a gap of the support): w_j = N (log1p(-q) - log1p(-p_j)), so that every
    piece is smooth. The quadrature stops where 1 - s(w) = EPS_BOTTOM: below it v(s) = v(1 - tiny) is mostly
    the rounding noise of s (~1e-16 |v'(s)|); the rest of the integral, at most v(1 - EPS_BOTTOM)
    (EPS_BOTTOM / (1-q))^N, is taken from the local power law of v there (``_bottom_tail``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        w_r = N * (np.log1p(-q) - np.log1p(-q_r)) if q_r < 1.0 else np.full(q.shape, np.inf)
    w_r = np.maximum(w_r, 0.0)
    with np.errstate(divide="ignore"):
        floor = N * (np.log1p(-q) - math.log(EPS_BOTTOM))  # where 1 - s(w) = EPS_BOTTOM
    top = np.clip(np.minimum(w_r, floor), 0.0, W_MAX)
    v = value_curve(dist)
    jumps = sorted(float(p) for p in dist.jumps_q() if 0.0 < p < q_r)
    cuts = [np.clip(N * (np.log1p(-q) - math.log1p(-p)), 0.0, top) for p in jumps]
    ends = [np.zeros(q.shape)] + cuts + [top]
    body = _head_piece(v, N, q, ends[1], atol)
    for lo, hi in zip(ends[1:-1], ends[2:]):
        body = body + _linear_piece(v, N, q, lo, hi, atol)
    body = body + np.where((floor < np.minimum(w_r, W_MAX)) & (floor > 0), _bottom_tail(v, N, q_r, floor), 0.0)
    with np.errstate(over="ignore"):
        return body + np.where(np.isfinite(w_r), reserve * np.exp(-w_r), 0.0)


def _bottom_tail(v, N: float, q_r: float, w_c: np.ndarray) -> np.ndarray:
    """int_{w_c}^inf v(s(w)) e^{-w} dw where 1 - s(w_c) = EPS_BOTTOM, with v(s) = v_c ((1-s)/EPS_BOTTOM)^beta
    (beta read off v at 1 - s = EPS_BOTTOM and 10 EPS_BOTTOM) and 1 - s = EPS_BOTTOM e^{-(w - w_c)/N}:
    v_c e^{-w_c} / (1 + beta/N). (Only below the reserve's quantile: q_r = 1 here, else w_r < w_c mostly.)"""
    v_c, v_10 = (float(np.asarray(v(np.array([1.0 - e])), dtype=float)[0]) for e in (EPS_BOTTOM, 10 * EPS_BOTTOM))
    beta = math.log(v_10 / v_c) / math.log(10.0) if v_c > 0 and v_10 > 0 else 0.0
    return v_c * np.exp(-w_c) / (1.0 + max(beta, 0.0) / N)


def _integrand(v, N: float, q: np.ndarray, w: np.ndarray) -> np.ndarray:
    """v(s(w)) e^{-w} on a (len(q), nodes) grid of w."""
    qq = q[:, None]
    s = np.clip(qq - (1.0 - qq) * np.expm1(-w / N), qq, 1.0)
    return np.asarray(v(s), dtype=float).reshape(s.shape) * np.exp(-w)


def _head_piece(v, N: float, q: np.ndarray, hi: np.ndarray, atol: float) -> np.ndarray:
    """int_0^hi v(s(w)) e^{-w} dw with w = hi x, in y = log x from y_lo: a power tail v(s) ~ s^(-1/a) makes the
    integrand ~ (q + w/N)^(-1/a), whose mass reaches down to w ~ q N, so y_lo = log(1e-17 min(1, q N) / hi)
    (clipped at 1e-300); the piece [0, x_lo], where the integrand is flat, is added as x_lo times its value."""
    live = hi > 0
    if not np.any(live):
        return np.zeros(q.shape)
    x_lo = max(1e-300, 1e-17 * min(1.0, float(np.min(q[live])) * N) / float(np.max(hi)))
    breaks = np.unique(np.concatenate([np.arange(math.log(x_lo), -4.0, 4.0), _Y_BREAKS]))
    hh = hi[:, None]

    def g(y):
        x = np.exp(y)[None, :]
        return hh * _integrand(v, N, q, hh * x) * x

    body = integrate(g, breaks, rtol=RTOL_BID, atol=atol, what="dist")
    return np.where(live, body + x_lo * hi * _integrand(v, N, q, x_lo * hh)[:, 0], 0.0)


def _linear_piece(v, N: float, q: np.ndarray, lo: np.ndarray, hi: np.ndarray, atol: float) -> np.ndarray:
    """int_lo^hi v(s(w)) e^{-w} dw, w = lo + (hi - lo) x (0 where hi = lo)."""
    width = (hi - lo)[:, None]
    if not np.any(width > 0):
        return np.zeros(q.shape)

    def g(x):
        return width * _integrand(v, N, q, lo[:, None] + width * x[None, :])

    return integrate(g, np.linspace(0.0, 1.0, 9), rtol=RTOL_BID, atol=atol, what="dist")


def all_pay_bid(dist, n, q) -> np.ndarray:
    """All-pay equilibrium bid b(q) = E[Y; Y < v(q)] = F(v)^N b_first(q), F(v)^N = exp(N log1p(-q))."""
    q = np.clip(np.asarray(q, dtype=float), Q_FLOOR, 1.0)
    N = rivals(n)
    if N == 0.0:
        return np.zeros(q.shape)
    with np.errstate(divide="ignore"):
        weight = np.exp(N * np.log1p(-q))
    return weight * first_price_bid(dist, n, 0.0, q)


def third_price_bid(dist, n, q) -> np.ndarray:
    """Third-price candidate equilibrium b(q) = v(q) + (1-q) / ((n-2) f(v(q))) (n >= 3), vectorised; +inf
    where f = 0 (``check_third_price`` turns that into an InputError)."""
    if float(n) < 3:
        raise InputError("n", f"a third-price auction needs n >= 3 buyers, got n = {n:g}")
    q = np.clip(np.asarray(q, dtype=float), Q_FLOOR, 1.0)
    v = np.asarray(value_curve(dist)(q), dtype=float)
    f = np.asarray(dist.pdf(v), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shade = np.where(q >= 1.0, 0.0, (1.0 - q) / ((float(n) - 2.0) * f))
    return v + np.where(np.isnan(shade), np.inf, shade)


def monotone_grid(dist, q_min: float = 1e-300) -> np.ndarray:
    """Quantiles on which a bid function's monotonicity is checked: log-spaced from q_min, linear, near 1,
    and both sides of every kink or jump of v."""
    brk = [float(p) for p in dist.jumps_q()]
    near = [p * (1 + s * 1e-9) for p in brk for s in (-1, 1)]
    grid = np.concatenate([np.geomspace(q_min, 1e-3, 1500), np.linspace(1e-3, 1.0, 3000),
                           1.0 - np.geomspace(1e-12, 1e-3, 200), near])
    return np.unique(np.clip(grid, q_min, 1.0))


def third_price_floor(n) -> float:
    """The smallest quantile where third-price bids are used: 1e-12/n (Pr[q_(3) < it] ~ 1e-37)."""
    return max(Q_FLOOR, 1e-12 / float(n))


def check_third_price(dist, n) -> None:
    """InputError unless b(v) = v + F/((n-2) f) is finite and increasing in v (non-increasing in q) on the
    check grid, and the support has no gap: where it is not, it is no equilibrium (Krishna §2.5 needs an
    increasing b; the derivation needs E[b(Y_2) | Y_1 = x] = x for every type x, impossible across a gap). The grid reaches
    down to ``third_price_floor(n)``: the third-highest of n values falls below it with probability ~1e-37,
    and further down f(v(q)) underflows (lognormal: f(v(1e-300)) = 0 in floating point)."""
    gaps = [float(p) for p in dist.jumps_q() if 0.0 < p < 1.0]
    if gaps:
        lo, hi = float(dist.v(gaps[0] * (1 + 1e-12))), float(dist.v(gaps[0]))
        raise InputError("format", f"third price: the support has a gap (no values between {lo:.6g} and "
                                   f"{hi:.6g}); the equilibrium needs E[b(Y_2) | Y_1 = x] = x at every type x, "
                                   f"which cannot hold on both sides of a gap: no increasing symmetric equilibrium")
    q = monotone_grid(dist, third_price_floor(n))
    b = third_price_bid(dist, n, q)
    bad = ~np.isfinite(b)
    if np.any(bad[:-1]):
        x = float(dist.v(q[np.argmax(bad)]))
        raise InputError("format", f"third price: the density is 0 at value {x:.6g}, so b(v) = v + F/((n-2) f) "
                                   f"is infinite there; no increasing equilibrium")
    drop = np.diff(b[:-1]) > 1e-9 * np.maximum(np.abs(b[:-2]), 1e-300)
    if np.any(drop):
        j = int(np.argmax(drop))
        lo, hi = float(dist.v(q[j + 1])), float(dist.v(q[j]))
        raise InputError("format", f"third price: the candidate equilibrium b(v) = v + F(v)/((n-2) f(v)) "
                                   f"decreases between values {lo:.6g} and {hi:.6g} (it needs (n-2) + (F/f)' > 0); "
                                   f"no increasing symmetric equilibrium")


class ChebTable:
    """A smooth function g(t) tabulated as piecewise Chebyshev polynomials on [t_lo, t_hi].

    Pieces start at width <= 4 with edges at ``breaks`` (kinks or jumps of g) and are bisected until their last
    three coefficients are below tol max(|g| on the piece, ``floor``) (InputError after ``max_depth``
    bisections). ``floor`` defaults to the largest |g| seen (an absolute tolerance). Outside [t_lo, t_hi] the
    end values are used."""

    DEG = 24

    def __init__(self, g, t_lo: float, t_hi: float, breaks=(), tol: float = 1e-12, floor: float | None = None,
                 max_depth: int = 30):
        edges = np.unique(np.concatenate([np.linspace(t_lo, t_hi, max(2, int(math.ceil((t_hi - t_lo) / 4)) + 1)),
                                          [b for b in breaks if t_lo < b < t_hi]]))
        k = np.arange(self.DEG + 1)
        nodes = np.cos(np.pi * (k + 0.5) / (self.DEG + 1))[::-1]
        inv = np.linalg.inv(np.polynomial.chebyshev.chebvander(nodes, self.DEG))
        pending = list(zip(edges[:-1], edges[1:]))
        done, scale = [], 0.0
        for _ in range(max_depth):
            if not pending:
                break
            a, b = np.array(pending).T
            vals = np.asarray(g((0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None] * nodes[None, :]).ravel()),
                              dtype=float).reshape(len(a), -1)
            scale = max(scale, float(np.max(np.abs(vals))))
            coefs = vals @ inv.T
            size = np.max(np.abs(vals), axis=1) if floor is not None else np.full(len(a), scale)
            ok = np.max(np.abs(coefs[:, -3:]), axis=1) <= tol * np.maximum(size, floor or 0.0)
            done += [(a[i], b[i], coefs[i]) for i in np.flatnonzero(ok)]
            pending = [p for i in np.flatnonzero(~ok) for p in ((a[i], 0.5 * (a[i] + b[i])), (0.5 * (a[i] + b[i]), b[i]))]
        if pending:
            raise InputError("dist", f"a bid or value curve could not be tabulated to {tol:g}: it is not smooth "
                                     f"near t = {pending[0][0]:.6g}")
        done.sort(key=lambda piece: piece[0])
        self.lo = np.array([p[0] for p in done])
        self.hi = np.array([p[1] for p in done])
        self.coefs = np.array([p[2] for p in done])

    def __call__(self, t) -> np.ndarray:
        """The table at t (Clenshaw's recurrence on each point's piece)."""
        t = np.asarray(t, dtype=float)
        flat = np.clip(t, self.lo[0], self.hi[-1]).ravel()
        j = np.clip(np.searchsorted(self.hi, flat, side="left"), 0, len(self.hi) - 1)
        x2 = 2.0 * np.clip((2.0 * flat - self.lo[j] - self.hi[j]) / (self.hi[j] - self.lo[j]), -1.0, 1.0)
        b1 = np.zeros(flat.shape)
        b2 = np.zeros(flat.shape)
        for k in range(self.DEG, 0, -1):
            b1, b2 = self.coefs[j, k] + x2 * b1 - b2, b1
        return (self.coefs[j, 0] + 0.5 * x2 * b1 - b2).reshape(t.shape)


#: v tabulated per distribution whose v(q) is a root search (``value_curve``); keyed by the distribution's value
_V_TABLES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
#: the value table spans z = -log(1 - s) from 1e-300 (the top) to 18 (1 - s = 1.5e-8); further down, where
#: a scipy distribution's v(1 - tiny) = ppf(tiny) carries rounding noise of relative size 1e-16 / (1 - s),
#: v is called directly (few points)
Z_RANGE = (1e-300, 18.0)


def kinks_q(dist) -> list[float]:
    """Quantiles in (0, 1) where v may jump or kink: the gaps, and for a mixture the quantiles of its
    components' finite support ends (``Mixture.components``)."""
    pts = {float(p) for p in dist.jumps_q()}
    for comp in getattr(dist, "components", ()):
        pts.update(float(dist.sf(end)) for end in comp.support if math.isfinite(end))
    return sorted(p for p in pts if 0.0 < p < 1.0)


def value_curve(dist):
    """s -> v(s), vectorised and fast: ``dist.v`` itself, except for a mixture or a scipy distribution (v is a
    root search, ~0.3 ms a point), where v is tabulated once (``ChebTable``, accuracy 1e-13 of
    max(|v|, 10 |v(1/2)|)) in t = log z, z = -log1p(-s), which is smooth at the top, with pieces ending at
    the gaps and kinks (``kinks_q``); beyond ``Z_RANGE`` (1 - s < 1.5e-8) v is called directly."""
    from distributions import Mixture, ScipyDistribution

    if not isinstance(dist, (Mixture, ScipyDistribution)):
        return dist.v
    table = _V_TABLES.get(dist)
    if table is None:
        brk = [math.log(-math.log1p(-p)) for p in kinks_q(dist)]
        t_lo, t_hi = (math.log(z) for z in Z_RANGE)
        table = ChebTable(lambda t: dist.v(-np.expm1(-np.exp(t))), t_lo, t_hi, brk, tol=1e-13,
                          floor=10.0 * abs(float(dist.v(0.5))) or 1e-300)
        _V_TABLES[dist] = table

    def v(s):
        s = np.clip(np.asarray(s, dtype=float), 0.0, 1.0)
        with np.errstate(divide="ignore"):
            t = np.log(-np.log1p(-s))
        out = table(t)
        low = t > math.log(Z_RANGE[1])
        if np.any(low):
            out[low] = np.asarray(dist.v(s[low]), dtype=float)
        return out
    return v
