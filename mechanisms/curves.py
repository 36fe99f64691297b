"""The quantile-space curves of a distribution as the exact calculator needs them: v(q), R(q) = q v(q) and
S(q) = V(q) - R(q), accurate where the distribution layer's generic forms are not.

* Families with a closed-form S use it.
* A mixture's V(q) - q v(q) cancels at q < 1e-16 (v(q) then sits at the top of a bounded component and the
  mixture's V clips a difference of rounding errors), so S comes from the value-space form
  S(q) = E[(v - v(q))^+] = sum_i w_i E_i[(v - v(q))^+], each component in its own closed form (``excess``).
* Distributions whose V is a scalar quadrature (``ScipyDistribution``, the generic fall-back) get V from a
  table built once (Gauss-Legendre on a log-spaced grid, ~1e-15 relative) plus one vectorised call per use.
* Without a closed form S is capped by the exact bound q (v(0) - v(q)), so rounding of v near a finite top of
  the support leaves an absolute error ~1e-16 q instead of noise.
"""
from __future__ import annotations

import weakref

import numpy as np

_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_V_TABLES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def breakpoints(dist) -> list[float]:
    """Quantiles in (0, 1) where v jumps or has a kink (gaps of the support, atom edges), sorted."""
    pts = {float(p) for p in dist.jumps_q()}
    pts.update(float(p) for a, b, _ in dist.atoms_q() for p in (a, b))
    return sorted(p for p in pts if 0.0 < p < 1.0)


def _has_closed_S(dist) -> bool:
    """A family's own closed-form S (not the generic V - R, which cancels: mixtures use ``excess``, quadrature
    families ``table_V``)."""
    from distributions import Mixture, ScipyDistribution
    from distributions.base import Distribution

    return type(dist)._S not in (Distribution._S, Mixture._S, ScipyDistribution._S)


def _has_quadrature_V(dist) -> bool:
    from distributions import ScipyDistribution
    from distributions.base import Distribution

    return type(dist)._V in (Distribution._V, ScipyDistribution._V)


def _cell_integrals(dist, a, b):
    """int_a^b v for cells 0 < a < b, by 8-point Gauss-Legendre in log q (one vectorised v call)."""
    la, lb = np.log(a), np.log(b)
    mid, half = 0.5 * (la + lb), 0.5 * (lb - la)
    t = mid[:, None] + half[:, None] * _GL_X[None, :]
    q = np.exp(t)
    vals = np.asarray(dist.v(np.minimum(q, 1.0)), dtype=float).reshape(q.shape) * q
    return half * (vals @ _GL_W)


def table_V(dist, q):
    """V(q) = int_0^q v for a distribution whose own V is a scalar quadrature: cumulative table on a grid
    (log-spaced from 1e-300 and towards 1, every breakpoint) plus the integral from the grid point below q."""
    table = _V_TABLES.get(dist)
    if table is None:
        grid = np.unique(np.concatenate([np.geomspace(1e-300, 1.0, 6001), np.linspace(1e-3, 1.0, 2000),
                                         1.0 - np.geomspace(1e-15, 1e-3, 300), breakpoints(dist), [1.0]]))
        first = float(dist.V(grid[0]))
        cum = np.concatenate([[first], first + np.cumsum(_cell_integrals(dist, grid[:-1], grid[1:]))])
        table = (grid, cum)
        _V_TABLES[dist] = table
    grid, cum = table
    q = np.asarray(q, dtype=float)
    flat = q.ravel()
    j = np.clip(np.searchsorted(grid, flat, side="right") - 1, 0, len(grid) - 1)
    out = cum[j].copy()
    inside = flat > grid[j]
    if np.any(inside):
        out[inside] += _cell_integrals(dist, grid[j][inside], flat[inside])
    below = flat < grid[0]
    out[below] = flat[below] * np.asarray(dist.v(np.maximum(flat[below], 1e-300)), float)  # V ~ q v there
    return out.reshape(q.shape)


def excess(dist, x):
    """E[(v - x)^+] = int_x^∞ Pr[v >= t] dt, vectorised over values x: S(q_x) + q_x (v(q_x) - x) with
    q_x = Pr[v >= x], summed over the components of a mixture."""
    from distributions import Mixture

    x = np.asarray(x, dtype=float)
    if isinstance(dist, Mixture):
        return sum(w * excess(c, x) for w, c in zip(dist.weights, dist.components))
    qx = np.clip(np.asarray(dist.sf(x), dtype=float), 0.0, 1.0)
    safe = np.where(qx > 0, qx, 1.0)
    vq = np.asarray(dist.v(safe), dtype=float)
    with np.errstate(invalid="ignore"):
        out = surplus_curve(dist, safe, vq) + safe * (vq - x)
    return np.where(qx > 0, out, 0.0)


def surplus_curve(dist, q, v):
    """S(q) = V(q) - q v(q) = E[(v - v(q))^+] given v = v(q) (module doc)."""
    from distributions import Mixture

    q = np.asarray(q, dtype=float)
    if _has_closed_S(dist):
        return np.asarray(dist.S(q), dtype=float)
    if isinstance(dist, Mixture):
        S = excess(dist, v)
    else:
        V = table_V(dist, q) if _has_quadrature_V(dist) else np.asarray(dist.V(q), dtype=float)
        with np.errstate(invalid="ignore"):
            S = V - q * v
    top = float(dist.v(0.0))
    if np.isfinite(top):
        with np.errstate(invalid="ignore"):
            S = np.minimum(S, q * (top - v))
    return np.maximum(S, 0.0)


def curves(dist, q):
    """(v, R, S) at quantiles q > 0: one value-function call, S by ``surplus_curve``."""
    q = np.asarray(q, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):  # v = inf near q = 0 for tails heavier than q^-1
        v = np.asarray(dist.v(q), dtype=float)
        R = q * v
        return v, R, surplus_curve(dist, q, v)
