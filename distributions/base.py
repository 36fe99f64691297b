"""The value-distribution interface, in quantile space (paper, Section 2.1).

Conventions (``docs/architecture.md``): the quantile of a value is q = Pr[v >= value] = 1 - F(value) with the
paper's left-continuous F(t) = Pr[v < t]; small q = high value. ``v(q) = sup{x : Pr[v >= x] >= q}`` is
non-increasing and left-continuous; an atom is a flat part of v, a gap in the support is a jump. Sampling
is ``v(U)`` with ``U ~ Uniform(0, 1)``.

Every method taking ``q`` is vectorised over numpy arrays and accurate down to q = 1e-300: markets of 1e30
buyers live at q ~ 1e-30, so subclasses give closed forms (or log-space formulas) wherever they exist; the
generic fall-backs here (quadrature for V, a numerical search for q_m) are accurate to ~1e-10 relative.
"""
from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize

from .errors import InputError

#: Smallest quantile the numerical checks look at (the top of the continuous part, when there is a top atom,
#: is excluded separately).
Q_FLOOR = 1e-300


@dataclass(frozen=True)
class ShapeClass:
    """Shape class of Figure 1 (Definition 2.2, checked through Proposition 2.1 in quantile space)."""

    regular: bool  # R(q) concave on [0, 1]
    mhr: bool  # q v'(q) non-increasing on the continuous part
    anti_mhr: bool  # q v'(q) non-decreasing on the continuous part

    def __str__(self) -> str:
        names = [n for n, ok in (("regular", self.regular), ("MHR", self.mhr), ("anti-MHR", self.anti_mhr)) if ok]
        return ", ".join(names) if names else "general"


def _as_q(q):
    q = np.asarray(q, dtype=float)
    if np.any(np.isnan(q)) or np.any(q < 0) or np.any(q > 1):
        raise InputError("q", "quantiles must lie in [0, 1]")
    return q


class Distribution:
    """A value distribution F of i.i.d. buyers, described by its value function v(q).

    Subclasses implement ``_v`` (value function on a float array with 0 <= q <= 1), ``sf`` (Pr[v >= x]),
    ``cdf`` and, where defined, ``pdf``; they override ``_V`` / ``_S`` with closed forms when they have them.
    """

    name: str = "distribution"
    #: lower and upper end of the support (upper may be inf)
    support: tuple[float, float] = (0.0, math.inf)

    # ------------------------------------------------------------------ value identity
    def __init_subclass__(cls, **kwargs):
        """Record each instance's constructor arguments (``key``): distributions compare and hash by value."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self, *args, **kw):
            if "_init_args" not in self.__dict__:  # the outermost constructor's arguments
                bound = signature.bind(self, *args, **kw)
                bound.apply_defaults()
                self._init_args = tuple((k, canonical(v)) for k, v in list(bound.arguments.items())[1:])
            init(self, *args, **kw)

        cls.__init__ = recording_init

    @property
    def key(self) -> tuple:
        """The distribution's value: its class and constructor arguments (floats exact, not as printed). The
        class itself, not its name: two classes of one name (a notebook cell run again with a new ``_v``)
        must not share cached results."""
        return (type(self), self.__dict__.get("_init_args", ()))

    def __eq__(self, other):
        return isinstance(other, Distribution) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    # ------------------------------------------------------------------ value function and curves
    def v(self, q):
        """Value function v(q) = sup{x : Pr[v >= x] >= q} (Section 2.1), vectorised."""
        q = _as_q(q)
        return self._v(q)

    def _v(self, q):  # pragma: no cover - abstract
        raise NotImplementedError

    def R(self, q):
        """Price-posting revenue curve R(q) = q v(q) (Definition 2.3), with R(0) = lim_{q->0} R(q)."""
        q = _as_q(q)
        with np.errstate(invalid="ignore"):
            out = q * self._v(q)
        return np.where(q == 0, self.R0, out)

    @property
    def R0(self) -> float:
        """R(0) = lim_{q -> 0} q v(q): 0 unless the tail is as heavy as the equal-revenue one."""
        return 0.0

    def V(self, q):
        """V(q) = integral_0^q v(t) dt: the expected value of a buyer times 1{quantile <= q}; V(1) = E[v]."""
        q = _as_q(q)
        return self._V(q)

    def _V(self, q):
        return quad_V(self._v, q)

    def S(self, q):
        """S(q) = V(q) - R(q): the surplus of one buyer facing the posted price v(q)."""
        q = _as_q(q)
        return self._S(q)

    def _S(self, q):
        return self._V(q) - self.R(q)

    # ------------------------------------------------------------------ value space
    def sf(self, x):
        """Pr[v >= x] (the quantile of the value x; left-closed survival function)."""
        raise NotImplementedError

    def cdf(self, x):
        """Pr[v <= x] (right-continuous, as scipy's)."""
        raise NotImplementedError

    def pdf(self, x):
        """Density of the continuous part (0 outside the support)."""
        raise NotImplementedError

    def quantile_of(self, x):
        """The quantile q = 1 - F(x) = Pr[v >= x] of a value x (the paper's F is left-continuous)."""
        return self.sf(x)

    def psi(self, x):
        """Virtual value psi(v) = v - (1 - F(v)) / f(v) (Definition 2.2)."""
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return x - (1.0 - self.cdf(x)) / self.pdf(x)

    def phi(self, x):
        """Hazard rate phi(v) = f(v) / (1 - F(v)) (Definition 2.2)."""
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.pdf(x) / (1.0 - self.cdf(x))

    # ------------------------------------------------------------------ summaries
    @property
    def mean(self) -> float:
        """E[v] = V(1)."""
        return float(self.V(1.0))

    @property
    def atoms(self) -> list[tuple[float, float]]:
        """Atoms as (value, mass), highest value first."""
        return []

    def atoms_q(self) -> list[tuple[float, float, float]]:
        """Atoms as flat parts of v in quantile space: (q_low, q_high, value), q_low < q_high."""
        out = []
        for value, _mass in self.atoms:
            q_hi = float(self.sf(value))
            q_lo = q_hi - _mass
            out.append((max(q_lo, 0.0), q_hi, value))
        return sorted(out)

    def jumps_q(self) -> list[float]:
        """Quantiles at which v jumps (gaps in the support), increasing."""
        return []

    @property
    def q_m(self) -> float:
        """Lowest monopoly quantile q_m = sup argmax_q R(q) (Section 2.1), found numerically."""
        if not hasattr(self, "_q_m_cache"):
            pts = [p for a, b, _ in self.atoms_q() for p in (a, b)] + list(self.jumps_q())
            self._q_m_cache = _sup_argmax(self.R, pts)
        return self._q_m_cache

    @property
    def monopoly_reserve(self) -> float:
        """The lowest monopoly reserve v(q_m)."""
        return float(self.v(self.q_m))

    def shape_class(self) -> ShapeClass:
        """Regular / MHR / anti-MHR, checked numerically on a dense grid (Proposition 2.1)."""
        if not hasattr(self, "_shape_cache"):
            self._shape_cache = _shape_class(self)
        return self._shape_cache

    # ------------------------------------------------------------------ sampling
    def sample(self, size, rng=None):
        """Draw i.i.d. values v(U), U ~ Uniform(0, 1) (numpy; the simulator uses ``numba_spec``)."""
        rng = np.random.default_rng(rng)
        u = rng.random(size)
        return self._v(np.where(u == 0.0, np.finfo(float).tiny, u))

    def numba_spec(self) -> tuple[int, np.ndarray]:
        """(kind, params) for ``distributions.kernels.v_of_q``: the value function in nopython mode."""
        raise NotImplementedError

    def v_numba(self, q):
        """v(q) evaluated through the numba kernel (used by tests to check it against ``v``)."""
        from . import kernels  # numba, loaded on use

        kind, params = self.numba_spec()
        return kernels.v_array(kind, params, np.ascontiguousarray(np.asarray(q, dtype=float)))

    # ------------------------------------------------------------------ misc
    @property
    def spec(self) -> str:
        """The CLI spec string of this distribution."""
        return self.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"


# ---------------------------------------------------------------------- value keys
def canonical(value):
    """A hashable, exact stand-in for a constructor argument (``Distribution.key``)."""
    if isinstance(value, Distribution):
        return value.key
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return tuple(sorted((str(k), canonical(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(canonical(v) for v in value)
    if hasattr(value, "dist") and hasattr(value, "args") and hasattr(value, "kwds"):  # a frozen scipy.stats law
        return ("scipy", value.dist.name, canonical(value.args), canonical(value.kwds))
    return (type(value).__name__, repr(value))


# ---------------------------------------------------------------------- numerical helpers
def quad_V(v, q):
    """V(q) = int_0^q v = int_0^inf v(q e^{-s}) q e^{-s} ds, by adaptive quadrature (generic fall-back)."""
    q = np.asarray(q, dtype=float)
    out = np.empty(q.shape)
    for idx, qi in np.ndenumerate(q):
        if qi == 0:
            out[idx] = 0.0
            continue
        out[idx] = quad_V_one(v, float(qi))
    return out if out.shape else float(out)


def quad_V_one(v, q: float) -> float:
    """int_0^q v(t) dt for one q, substituting t = q e^{-s} (integrable singularities of v at 0 are fine)."""
    def f(s):
        t = q * math.exp(-s)
        return 0.0 if t == 0.0 else float(v(np.array(t))) * t
    return integrate.quad(f, 0.0, np.inf, limit=200, epsabs=0.0, epsrel=1e-11)[0]


def quantile_grid(lo: float = 1e-12, n_log: int = 3000, n_lin: int = 3000) -> np.ndarray:
    """A grid on (lo, 1]: log-spaced near 0, linear elsewhere (for numerical shape checks and maxima)."""
    g = np.concatenate([np.geomspace(lo, 1.0, n_log), np.linspace(lo, 1.0, n_lin)])
    return np.unique(g)


def _sup_argmax(R, points=()) -> float:
    """sup argmax of a function on [0, 1]: grid search (with the given breakpoints), local refinement, then
    the largest near-maximiser (for an R that is flat at its maximum)."""
    grid = np.unique(np.concatenate([quantile_grid(1e-15, 4000, 4001), [p for p in points if 0 < p <= 1]]))
    vals = np.asarray(R(grid), dtype=float)
    i = int(np.nanargmax(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(lambda t: -float(R(np.array(t))), bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-13})
    best_q, best = (res.x, -res.fun) if -res.fun >= vals[i] else (grid[i], vals[i])
    tol = 1e-12 * max(abs(best), 1e-300)
    # R flat at its maximum (equal revenue): the largest grid point still within tol, then bisect upward
    near = np.nonzero(vals >= best - tol)[0]
    j = int(near.max()) if len(near) else i
    if grid[j] <= best_q or j <= i + 1:
        return float(best_q)
    q_lo = grid[j]
    if j + 1 < len(grid):
        a, b = q_lo, grid[j + 1]
        for _ in range(80):
            mid = 0.5 * (a + b)
            if float(R(np.array(mid))) >= best - tol:
                a = mid
            else:
                b = mid
        q_lo = a
    return float(min(q_lo, 1.0))


def _monotone(g, direction, rel_tol, noise):
    """Is the sequence g non-increasing (direction=-1) or non-decreasing (+1), up to a relative tolerance plus
    the rounding noise of each finite difference?"""
    d = np.diff(g) * direction
    scale = np.maximum(np.abs(g[1:]), np.abs(g[:-1]))
    allow = rel_tol * scale + noise[1:] + noise[:-1] + 1e-12 * np.nanmax(np.abs(g))
    return bool(np.all(d >= -allow))


def _shape_class(dist: Distribution) -> ShapeClass:
    # Regular: R concave on [0, 1] -> slopes of R between grid points non-increasing.
    grid = quantile_grid(1e-12, 3000, 3001)
    grid = np.concatenate([[0.0], grid])
    grid = _add_breakpoints(dist, grid)
    R = np.asarray(dist.R(grid), dtype=float)
    slopes = np.diff(R) / np.diff(grid)
    regular = _monotone(slopes, -1, 1e-6, 1e-15 * np.nanmax(np.abs(R)) / np.diff(grid))
    # MHR / anti-MHR: g(q) = q v'(q) = dv / d ln q monotone on the continuous part (a top atom excluded; an
    # interior atom or a gap makes g non-monotone, as it should).
    top = 0.0
    for q_lo, q_hi, _val in dist.atoms_q():
        if q_lo <= 0.0:
            top = q_hi
    lo = max(top, 1e-12) if top == 0.0 else top * (1 + 1e-9) + 1e-15
    lg = np.unique(np.concatenate([np.geomspace(lo, 1.0, 4000),
                                   np.linspace(lo, 1.0, 4001)[1:]]))
    lg = _add_breakpoints(dist, lg, inside=(lo, 1.0))
    vq = np.asarray(dist.v(lg), dtype=float)
    dl = np.diff(np.log(lg))
    g = np.diff(vq) / dl
    noise = 1e-15 * np.maximum(np.abs(vq[1:]), np.abs(vq[:-1])) / dl
    mhr = _monotone(g, -1, 1e-4, noise)
    anti = _monotone(g, +1, 1e-4, noise)
    return ShapeClass(regular=regular, mhr=mhr, anti_mhr=anti)


def _add_breakpoints(dist, grid, inside=(0.0, 1.0)):
    pts = [p for a, b, _ in dist.atoms_q() for p in (a, b)] + list(dist.jumps_q())
    extra = []
    for p in pts:
        for t in (p * (1 - 1e-9), p, p * (1 + 1e-9)):
            if inside[0] < t <= inside[1]:
                extra.append(t)
    return np.unique(np.concatenate([grid, extra])) if extra else grid
