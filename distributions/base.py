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
    """Shape class of Figure 1 (Definition 2.2, checked through Proposition 2.1 in quantile space).

    Atoms and gaps count (``_shape_class``): an atom is a spike of the hazard rate phi = f / (1 - F) (q v'(q)
    = -1/phi = 0 on its flat part of v), a gap a stretch where phi = 0 (v jumps, q v'(q) = -inf). So an atom at
    the top keeps MHR (phi jumps up at v_H, as in Example 4.2, which the paper calls MHR) but breaks anti-MHR;
    an interior atom or a gap breaks both. ``note`` says which of these the distribution has."""

    regular: bool  # R(q) concave on [0, 1]
    mhr: bool  # q v'(q) non-increasing on (0, 1], atoms (0) and gaps (-inf) included
    anti_mhr: bool  # q v'(q) non-decreasing on (0, 1], atoms (0) and gaps (-inf) included
    note: str = ""  # atoms / gaps and what they decided, e.g. "atom at the top (mass 0.01): not anti-MHR"

    def __str__(self) -> str:
        names = [n for n, ok in (("regular", self.regular), ("MHR", self.mhr), ("anti-MHR", self.anti_mhr)) if ok]
        return ", ".join(names) if names else "general"


def as_q(q):
    """Quantiles as a float array, checked to lie in [0, 1] (InputError naming ``q`` otherwise)."""
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
        q = as_q(q)
        return self._v(q)

    def _v(self, q):  # pragma: no cover - abstract
        raise NotImplementedError

    def R(self, q):
        """Price-posting revenue curve R(q) = q v(q) (Definition 2.3), with R(0) = lim_{q->0} R(q)."""
        q = as_q(q)
        with np.errstate(invalid="ignore"):
            out = q * self._v(q)
        return np.where(q == 0, self.R0, out)

    @property
    def R0(self) -> float:
        """R(0) = lim_{q -> 0} q v(q): 0 unless the tail is as heavy as the equal-revenue one."""
        return 0.0

    def V(self, q):
        """V(q) = integral_0^q v(t) dt: the expected value of a buyer times 1{quantile <= q}; V(1) = E[v]."""
        q = as_q(q)
        return self._V(q)

    def _V(self, q):
        return quad_V(self._v, q)

    def S(self, q):
        """S(q) = V(q) - R(q): the surplus of one buyer facing the posted price v(q)."""
        q = as_q(q)
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
        """Virtual value psi(v) = v - (1 - F(v)) / f(v) (Definition 2.2); 1 - F(v) is taken as ``sf`` (accurate in
        the upper tail, where 1 - cdf rounds to 0: exponential values beyond ~37)."""
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return x - self.sf(x) / self.pdf(x)

    def phi(self, x):
        """Hazard rate phi(v) = f(v) / (1 - F(v)) (Definition 2.2; 1 - F as ``sf``, see ``psi``)."""
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.pdf(x) / self.sf(x)

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
#: Largest location or scale a family accepts (values, low/high ends, scales, 1/rate, e^mu): the simulator
#: accumulates squared sums of values over many buyers and samples, (1e100)^2 leaves 1e108 of headroom.
MAX_SCALE = 1e100
#: Quantiles where ``check_curves`` probes an accepted distribution's curves (0, the tails, the bulk, 1).
PROBE_Q = np.array([0.0, 1e-300, 1e-200, 1e-100, 1e-30, 1e-16, 1e-8, 1e-3, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999,
                    1.0 - 1e-9, 1.0])
#: Below this quantile (never drawn by a simulation) v and R may overflow to +inf: the rounded value of a
#: huge but finite heavy-tail value (pareto:shape=0.5 has v(1e-300) = 1e600).
Q_DRAWN = 1e-16


def check_scale(name: str, value: float, lo: float = 1.0 / MAX_SCALE, hi: float = MAX_SCALE) -> float:
    """A location/scale parameter: finite, in [lo, hi] (``MAX_SCALE``); raises InputError naming it."""
    value = float(value)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise InputError(name, f"must be a finite number in [{lo:g}, {hi:g}], got {value!r}")
    return value


def check_curves(dist: "Distribution", argument: str) -> None:
    """Probe v, R, V, S (at ``PROBE_Q``), the mean and sf / cdf (at the values v(q)) of a freshly built
    distribution; raise ``InputError(argument, ...)`` where double precision cannot compute them: a NaN, an
    OverflowError, or +inf where the true value is finite (v or R at a quantile a simulation can draw,
    V or S while the mean is finite). The domains of the families are chosen so that this never fires
    (it is the safety net, and the check of the scipy adapter).
    """
    q = PROBE_Q
    try:
        with np.errstate(all="ignore"):
            curves = {name: np.asarray(getattr(dist, name)(q), dtype=float) for name in ("v", "R", "V", "S")}
            x = curves["v"]
            probs = {"sf": np.asarray(dist.sf(x), dtype=float), "cdf": np.asarray(dist.cdf(x), dtype=float)}
    except (OverflowError, ZeroDivisionError, FloatingPointError) as exc:
        raise InputError(argument, f"too extreme: the curves of {dist.spec} overflow in double precision "
                                   f"({exc})") from None
    bad = [f"{name}(q) is NaN" for name, y in {**curves, **probs}.items() if np.isnan(y).any()]
    drawn = q >= Q_DRAWN
    for name in ("v", "R"):
        if np.isinf(curves[name][drawn]).any() or (curves[name][q > 0] < 0).any():
            bad.append(f"{name}(q) is not finite and >= 0 on [{Q_DRAWN:g}, 1]")
    mean_finite = math.isfinite(float(curves["V"][-1]))
    if mean_finite and not np.isfinite(np.concatenate([curves["V"], curves["S"]])).all():
        bad.append("V or S overflows while the mean is finite")
    if not mean_finite and math.isfinite(float(curves["v"][0])):
        bad.append("the mean overflows on a bounded support")
    if bad:
        raise InputError(argument, f"too extreme for double precision ({dist.spec}): {'; '.join(bad)}")


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
    """Regular / MHR / anti-MHR (Definition 2.2, through Proposition 2.1), atoms and gaps included.

    Regular: R(q) = q v(q) concave on [0, 1] (slopes between grid points non-increasing; the breakpoints of
    atoms and gaps are on the grid, so a gap or an interior atom shows as a kink the wrong way).
    MHR / anti-MHR: g(q) = q v'(q) = -1 / phi(v(q)) non-increasing / non-decreasing in q, phi = f / (1 - F)
    the hazard rate. g is checked on a dense grid over the continuous part; an atom is a flat part of v
    (g = 0: a spike of phi), a gap a jump of v (g = -inf: phi = 0 across it). As g <= 0 everywhere:
      * atom at the top (q in (0, m]): g = 0, then g <= 0 -- still non-increasing, so MHR is kept (the
        paper's Example 4.2, "F (which is MHR)" with an atom of mass n^(-1/4) at K: phi = 2v, then a jump up
        at K); non-decreasing only if g = 0 throughout, so anti-MHR is broken unless F is a point mass;
      * interior atom (g < 0, 0, < 0) or gap (g finite, -inf, finite): neither monotone, both broken;
      * atom at the bottom (q in [b, 1]): g <= 0, then 0 -- keeps anti-MHR, breaks MHR.
    The paper allows an atom only at v_H (Section 2); the other cases follow from the same definitions.
    """
    atoms = dist.atoms_q()
    top = max([b for a, b, _ in atoms if a <= 1e-9 * b], default=0.0)
    if top >= 1.0 - 1e-12:  # one atom holds everything: v constant, g = 0, R linear
        return ShapeClass(regular=True, mhr=True, anti_mhr=True, note="a point mass (q v'(q) = 0 throughout)")
    inner = [(a, b) for a, b, _ in atoms if a > 1e-9 * b and b < 1.0 - 1e-12]
    bottom = [(a, b) for a, b, _ in atoms if a > 1e-9 * b and b >= 1.0 - 1e-12]
    gaps = list(dist.jumps_q())
    # Regular: R concave on [0, 1] -> slopes of R between grid points non-increasing.
    grid = quantile_grid(1e-12, 3000, 3001)
    grid = np.concatenate([[0.0], grid])
    grid = _add_breakpoints(dist, grid)
    R = np.asarray(dist.R(grid), dtype=float)
    slopes = np.diff(R) / np.diff(grid)
    regular = _monotone(slopes, -1, 1e-6, 1e-15 * np.nanmax(np.abs(R)) / np.diff(grid))
    # g(q) = q v'(q) = dv / d ln q on the continuous part below the top atom (its flat part, g = 0, is the
    # rule above); interior atoms and gaps sit on the grid through their breakpoints.
    lo = 1e-12 if top == 0.0 else min(top * (1 + 1e-9) + 1e-15, 0.5 * (top + 1.0))
    lg = np.unique(np.concatenate([np.geomspace(lo, 1.0, 4000),
                                   np.linspace(lo, 1.0, 4001)[1:]]))
    lg = _add_breakpoints(dist, lg, inside=(lo, 1.0))
    vq = np.asarray(dist.v(lg), dtype=float)
    dl = np.diff(np.log(lg))
    g = np.diff(vq) / dl
    noise = 1e-15 * np.maximum(np.abs(vq[1:]), np.abs(vq[:-1])) / dl
    mhr_cont = _monotone(g, -1, 1e-4, noise)
    anti_cont = _monotone(g, +1, 1e-4, noise)
    both_broken = bool(inner or gaps)
    mhr = mhr_cont and not both_broken and not bottom
    anti = anti_cont and not both_broken and top == 0.0
    notes = []
    if top > 0.0:
        notes.append(f"atom at the top (mass {top:.3g}): a spike of the hazard rate at v_H, compatible with MHR, "
                     "not with anti-MHR" + (" (the continuous part is anti-MHR)" if anti_cont else ""))
    if inner:
        notes.append(f"{len(inner)} interior atom(s): hazard-rate spikes inside the support, neither MHR nor "
                     "anti-MHR")
    if gaps:
        notes.append(f"{len(gaps)} gap(s) in the support: zero hazard rate inside, neither MHR nor anti-MHR")
    if bottom:
        notes.append(f"atom at the bottom (mass {bottom[0][1] - bottom[0][0]:.3g}): a hazard-rate spike at v_L, "
                     "not MHR")
    return ShapeClass(regular=regular, mhr=mhr, anti_mhr=anti, note="; ".join(notes))


def _add_breakpoints(dist, grid, inside=(0.0, 1.0)):
    pts = [p for a, b, _ in dist.atoms_q() for p in (a, b)] + list(dist.jumps_q())
    extra = []
    for p in pts:
        for t in (p * (1 - 1e-9), p, p * (1 + 1e-9)):
            if inside[0] < t <= inside[1]:
                extra.append(t)
    return np.unique(np.concatenate([grid, extra])) if extra else grid
