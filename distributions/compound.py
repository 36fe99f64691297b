"""Distributions without a closed-form v(q): finite mixtures, discrete (empirical) distributions, and an
adapter for any frozen ``scipy.stats`` continuous distribution.

Their numpy value functions are exact to double precision (a bracketed root search on Pr[v >= x] that ends,
like bisection, at adjacent doubles; or scipy's ``isf``);
their numba value functions are tables (``kinds.TABLE``): linear in q above q = 1e-3, log-log below, down to
q = 1e-300, with every atom edge and jump as a breakpoint. ``table_error`` is the largest relative error of the
table measured at the midpoints of its cells when it is built.
"""
from __future__ import annotations

import math
import threading

import numpy as np

from . import kinds
from .base import MAX_SCALE, PROBE_Q, Q_DRAWN, Distribution, check_scale, quad_V
from .errors import InputError

_Q_SWITCH = 0.05
_Q_HIGH = 0.9
#: values v(q) a mixture remembers, and the largest query that looks them up: the exact calculator asks for
#: v at the same quantiles again and again (the same grids for every weight of the frontier)
_MEMO_SIZE = 1 << 15
_MEMO_ARRAY = 4096


def build_table(dist: Distribution, breakpoints=()) -> tuple[np.ndarray, float]:
    """Tabulate v(q) for ``kinds.TABLE``; returns (params, measured max relative error at cell midpoints)."""
    grid = np.concatenate([np.geomspace(1e-300, 1e-12, 6000), np.geomspace(1e-12, 1e-3, 9000),
                           np.geomspace(1e-3, _Q_SWITCH, 4000), np.linspace(_Q_SWITCH, _Q_HIGH, 20000), [1.0],
                           1.0 - np.geomspace(1e-15, 1.0 - _Q_HIGH, 4000)])
    extra = []
    for p in breakpoints:
        if 0 < p < 1:
            extra += [p, min(p * (1 + 1e-12) + 1e-300, 1.0)]
    grid = np.unique(np.concatenate([grid, extra]))
    vals = np.asarray(dist.v(grid), dtype=float)
    # a heavy tail overflows below q ~ 1e-16 (never drawn there): the largest double keeps the log-log
    # interpolation of the kernel finite (inf - inf would be NaN)
    vals = np.minimum(vals, np.finfo(float).max)
    params = np.ascontiguousarray(np.concatenate([[len(grid), _Q_SWITCH, _Q_HIGH], grid, vals]))
    mid = np.exp(0.5 * (np.log(grid[:-1]) + np.log(grid[1:])))
    mid = np.where((grid[1:] > _Q_SWITCH) & (grid[:-1] < _Q_HIGH), 0.5 * (grid[:-1] + grid[1:]), mid)
    mid = np.where(grid[:-1] >= _Q_HIGH, 1.0 - np.sqrt((1.0 - grid[:-1]) * (1.0 - grid[1:])), mid)
    exact = np.asarray(dist.v(mid), dtype=float)
    from . import kernels  # numba, loaded when a table is built

    approx = kernels.v_array(kinds.TABLE, params, mid)
    # the cell [p, p (1 + 1e-12)] right after a jump p interpolates across it (probability ~1e-12): skip it
    jump = np.zeros(len(mid), dtype=bool)
    for p in breakpoints:
        jump |= (grid[:-1] <= p) & (grid[1:] > p) & (grid[1:] - grid[:-1] <= 2e-12 * p + 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        # relative error, absolute in units of 1e-3 median value where v is smaller (v -> 0 at the bottom)
        rel = np.abs(approx - exact) / np.maximum(np.abs(exact), 1e-3 * float(np.nanmedian(np.abs(vals))))
    err = float(np.nanmax(np.where(jump, 0.0, rel))) if len(rel) else 0.0
    return params, err


class Mixture(Distribution):
    """Finite mixture sum_i w_i F_i. v(q) is the generalised inverse of Pr[v >= x] = sum_i w_i Pr_i[v >= x],
    found by a bracketed root search (``_v``)."""

    name = "mixture"

    def __init__(self, components, weights):
        components = list(components)
        w = np.asarray(weights, dtype=float)
        if len(components) == 0 or len(components) != len(w):
            raise InputError("weights", "need one weight per component and at least one component")
        if np.any(~np.isfinite(w)) or np.any(w <= 0) or abs(w.sum() - 1.0) > 1e-9:
            raise InputError("weights", f"must be positive and sum to 1, got {list(w)}")
        for c in components:
            if not isinstance(c, Distribution):
                raise InputError("mixture", f"components must be distributions, got {c!r}")
            with np.errstate(all="ignore"):
                top = float(np.asarray(c.v(np.array(1e-300)), dtype=float))
            if math.isinf(top) and math.isfinite(c.mean):
                raise InputError("mixture", f"component {c.spec} overflows at q = 1e-300 while its mean is finite: "
                                            "R and S of the mixture cannot be computed there")
        self.components = components
        self.weights = w / w.sum()
        self.support = (min(c.support[0] for c in components), max(c.support[1] for c in components))
        self._table = None
        self._breaks_cache = None  # see _breaks
        self._edges_cache = None
        self._jumps_cache = None
        self._v_memo: dict[float, float] = {}

    def sf(self, x):
        return sum(w * c.sf(x) for w, c in zip(self.weights, self.components))

    def cdf(self, x):
        return sum(w * c.cdf(x) for w, c in zip(self.weights, self.components))

    def pdf(self, x):
        return sum(w * c.pdf(x) for w, c in zip(self.weights, self.components))

    def _v(self, q):
        """v(q) = sup{x : sf(x) >= q}, the generalised inverse of the mixture's survival function sf.

        Exact to adjacent doubles, like bisection: the result is the largest double x found with sf(x) >= q
        whose next double up has sf < q, so an atom (a flat part of v) and a gap (a jump) come out at their
        exact values. Algorithm (``_inverse_sf``, ``inverse.search``): bracket v(q) between bounds built from the
        components' own value functions and from the breakpoints of sf (support ends and atoms), then a
        safeguarded interpolation search with three probes per round: about 3-8 rounds (one call of sf each)
        where bisection takes ~55, never more than 64.
        Queries of up to ``_MEMO_ARRAY`` quantiles are looked up in, and added to, a memo of past values
        (``_MEMO_SIZE``, cleared when full): the exact calculator asks for the same quantiles many times.
        """
        q = np.asarray(q, dtype=float)
        if q.size > _MEMO_ARRAY:
            return self._inverse_sf(q.ravel()).reshape(q.shape)
        memo = self._v_memo
        keys = q.ravel().tolist()
        vals = [memo.get(key) for key in keys]
        miss = [i for i, val in enumerate(vals) if val is None]
        if miss:
            if len(memo) + len(miss) > _MEMO_SIZE:
                memo.clear()
            found = self._inverse_sf(np.array([keys[i] for i in miss])).tolist()
            for i, val in zip(miss, found):
                vals[i] = memo[keys[i]] = val
        return np.array(vals, dtype=float).reshape(q.shape)

    def _breaks(self):
        """(x, lower, upper): the components' finite support ends and atoms, increasing, with monotone
        envelopes lower <= sf(x) <= upper of the computed sf there (cached). lower >= q proves sf(x) >= q and
        upper < q proves sf(x) < q, so a bracket can start from them without evaluating sf."""
        if self._breaks_cache is None:
            pts = {float(end) for c in self.components for end in c.support if math.isfinite(end)}
            pts.update(float(value) for c in self.components for value, _mass in c.atoms)
            x = np.array(sorted(pts), dtype=float)
            s = np.asarray(self.sf(x), dtype=float).reshape(x.shape)
            self._breaks_cache = (x, np.minimum.accumulate(s), np.maximum.accumulate(s[::-1])[::-1])
        return self._breaks_cache

    def _inverse_sf(self, q):
        """v(q) for a 1-d array q. The first bracket: with x_i = v_i(q), sf(min_i x_i) >= q and sf(x) < q for
        x > max_i x_i, so v(q) = max_i x_i where sf(max_i x_i) >= q already (q = 0 included). Two more probes
        split q among the components: sf(x) >= w_i sf_i(x) >= q at x = v_i(q / w_i), and sf(x) < q once
        x > v_i(q / (k w_i)) for all k components (tight in the tails, where one component dominates; skipped
        where a component is a mixture itself). All are evaluated in one call of sf."""
        comps, k = self.components, len(self.components)

        def v_max(scale):  # max_i v_i(min(scale_i q, 1))
            return np.max([np.broadcast_to(np.asarray(c._v(np.minimum(q * f, 1.0)), dtype=float), q.shape)
                           for c, f in zip(comps, scale)], axis=0)

        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            vals = [np.broadcast_to(np.asarray(c._v(q), dtype=float), q.shape) for c in comps]
            lo, hi = np.min(vals, axis=0) + 0.0, np.max(vals, axis=0)  # + 0.0: -0.0 becomes 0.0
            if any(isinstance(c, Mixture) for c in comps):  # v_i is a search itself: no extra calls
                P = np.array([hi, lo])
            else:
                P = np.array([hi, lo, np.clip(v_max(1.0 / self.weights), lo, hi),
                              np.clip(v_max(1.0 / (k * self.weights)), lo, hi)])
        S = np.asarray(self.sf(P.ravel()), dtype=float).reshape(P.shape)
        out = hi.copy()
        todo = np.flatnonzero(~(S[0] >= q))
        if todo.size:
            from . import inverse  # numba, loaded on the first search

            out[todo] = inverse.search(self.sf, self._breaks(), q[todo], P[:, todo], S[:, todo])
        return out

    def _V(self, q):
        """V(q) = sum_i w_i V_i(Pr_i[v > x]) + x (q - Pr[v > x]) with x = v(q) (atoms at x fill the rest)."""
        x = self._v(q)
        total = np.zeros(np.shape(q))
        above = np.zeros(np.shape(q))
        for w, c in zip(self.weights, self.components):
            # Pr_i[v > x] = Pr_i[v >= x] minus an atom at x: sf keeps full precision in the tail (1 - cdf does not)
            qi = np.asarray(c.sf(x), float)
            for value, mass in c.atoms:
                qi = qi - np.where(x == value, mass, 0.0)
            qi = np.clip(qi, 0.0, 1.0)
            total = total + w * c._V(qi)
            above = above + w * qi
        with np.errstate(invalid="ignore"):  # x = inf at q = 0 on an unbounded support: no atom there
            return total + np.where(q > above, x * np.maximum(q - above, 0.0), 0.0)

    def _S(self, q):
        """S = V - R; +inf where V is (a component without a mean), 0 at q = 0."""
        V = self._V(q)
        with np.errstate(invalid="ignore"):
            return np.where(np.asarray(q) == 0, 0.0, np.where(np.isinf(V), math.inf, V - self.R(q)))

    @property
    def atoms(self):
        merged: dict[float, float] = {}
        for w, c in zip(self.weights, self.components):
            for value, mass in c.atoms:
                merged[value] = merged.get(value, 0.0) + w * mass
        return sorted(merged.items(), reverse=True)

    def _edges_q(self):
        """Quantiles of the components' support ends: where v may jump (a gap) or kink (cached)."""
        if self._edges_cache is None:
            self._edges_cache = self._find_edges_q()
        return list(self._edges_cache)

    def _find_edges_q(self):
        cands = set()
        for c in self.components:
            for end in c.support:
                if math.isfinite(end):
                    cands.add(float(self.sf(end)))
                    cands.add(float(1.0 - self.cdf(end)))
        out: list[float] = []
        for q in sorted(q for q in cands if 0 < q < 1):
            if out and q - out[-1] <= 1e-12 * q:  # the same edge through sf and 1 - cdf
                continue
            out.append(q)
        return out

    def jumps_q(self):
        if self._jumps_cache is None:
            self._jumps_cache = self._find_jumps_q()
        return list(self._jumps_cache)

    def _find_jumps_q(self):
        out = []
        for qc in self._edges_q():
            if 0 < qc < 1:
                a = float(self._v(np.array(qc)))
                b = float(self._v(np.array(min(qc * (1 + 1e-10) + 1e-14, 1.0))))
                if a - b > 1e-6 * max(abs(a), 1.0):
                    out.append(qc)
        return out

    def numba_spec(self):
        if self._table is None:
            pts = [p for a, b, _ in self.atoms_q() for p in (a, b)] + self._edges_q()
            self._table, self.table_error = build_table(self, pts)
        return kinds.TABLE, self._table

    @property
    def spec(self):
        return "mixture:" + "+".join(f"{w:g}*{_inner_spec(c.spec)}" for w, c in zip(self.weights, self.components))


def _inner_spec(spec: str) -> str:
    name, _, rest = spec.partition(":")
    return f"{name}({rest.replace(',', ';')})" if rest else name


class Discrete(Distribution):
    """A discrete (empirical) distribution: atoms only. v(q) is a step function; ties are common."""

    name = "discrete"

    def __init__(self, values, probs=None):
        values = np.asarray(values, dtype=float).ravel()
        if values.size == 0 or np.any(~np.isfinite(values)) or np.any(values < 0) or np.any(values > MAX_SCALE):
            raise InputError("values", f"need at least one value, each finite, >= 0 and <= {MAX_SCALE:g}")
        probs = np.full(values.size, 1.0 / values.size) if probs is None else np.asarray(probs, float).ravel()
        if probs.shape != values.shape or np.any(~np.isfinite(probs)) or np.any(probs <= 0) \
                or abs(probs.sum() - 1) > 1e-9:
            raise InputError("probs", "need one positive probability per value, summing to 1")
        uv, inv = np.unique(values, return_inverse=True)
        up = np.bincount(inv, weights=probs)
        order = np.argsort(-uv)
        self.values = uv[order]  # highest first
        self.probs = up[order] / up.sum()
        self.cum = np.cumsum(self.probs)
        self.cum[-1] = 1.0
        self.support = (float(self.values[-1]), float(self.values[0]))

    @classmethod
    def empirical(cls, samples):
        """The empirical distribution of observed values (each observation mass 1/len)."""
        return cls(np.asarray(samples, float))

    def _v(self, q):
        j = np.searchsorted(self.cum, q, side="left")
        return self.values[np.minimum(j, len(self.values) - 1)]

    def _V(self, q):
        q = np.asarray(q, float)
        j = np.minimum(np.searchsorted(self.cum, q, side="left"), len(self.values) - 1)
        before = np.concatenate([[0.0], self.cum[:-1]])
        vbefore = np.concatenate([[0.0], np.cumsum(self.values * self.probs)[:-1]])
        return vbefore[j] + (q - before[j]) * self.values[j]

    def sf(self, x):
        x = np.asarray(x, float)
        return np.sum(np.where(self.values[:, None] >= x.ravel()[None, :], self.probs[:, None], 0.0),
                      axis=0).reshape(x.shape)

    def cdf(self, x):
        x = np.asarray(x, float)
        return np.sum(np.where(self.values[:, None] <= x.ravel()[None, :], self.probs[:, None], 0.0),
                      axis=0).reshape(x.shape)

    def pdf(self, x):
        return np.zeros(np.shape(x))

    @property
    def atoms(self):
        return list(zip(self.values.tolist(), self.probs.tolist()))

    def atoms_q(self):
        """Atom j is the quantile interval (cum[j-1], cum[j]]: the same edges v(q) steps at (no rounding gaps)."""
        before = np.concatenate([[0.0], self.cum[:-1]])
        return [(float(a), float(b), float(v)) for a, b, v in zip(before, self.cum, self.values)]

    def jumps_q(self):
        return self.cum[:-1].tolist()

    def numba_spec(self):
        k = len(self.values)
        return kinds.DISCRETE, np.ascontiguousarray(np.concatenate([[k], self.cum, self.values]))

    @property
    def spec(self):
        return ("discrete:values=" + "/".join(f"{v:g}" for v in self.values)
                + ",probs=" + "/".join(f"{p:g}" for p in self.probs))


#: scipy shape parameters beyond this magnitude are refused: scipy's special functions lose accuracy or stall
#: there (beta with a = 1e56, b = 6e15 never returns from isf)
SCIPY_MAX_SHAPE = 1e8
#: seconds the probe of a new scipy distribution (``ScipyDistribution._probe``) may take
SCIPY_TIMEOUT = 5.0
#: how scipy says that parameters are out of its reach (anything else raised in a probe is a bug)
SCIPY_REFUSALS = (ValueError, ArithmeticError, TypeError, IndexError)


def call_within(seconds: float, fn, what: str):
    """fn() on a daemon worker thread, waited for at most ``seconds``: a scipy routine that stalls (and
    cannot be interrupted) is left behind and answered by ``InputError("dist", ...)``. scipy refusing the
    parameters (``SCIPY_REFUSALS``) becomes ``InputError("dist", ...)`` too; any other exception is re-raised."""
    box: dict = {}

    def work():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    worker = threading.Thread(target=work, daemon=True, name="scipy-probe")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise InputError("dist", f"{what} did not answer within {seconds:g} s (parameters too extreme for scipy)")
    error = box.get("error")
    if isinstance(error, InputError) or (error is not None and not isinstance(error, SCIPY_REFUSALS)):
        raise error  # ours, or a bug: as it is
    if error is not None:
        raise InputError("dist", f"{what} failed: {type(error).__name__}: {error}") from None
    return box["value"]


def check_scipy_parameters(frozen) -> None:
    """Every parameter of a frozen scipy law finite, loc and scale within ``MAX_SCALE`` (scale >= 1/MAX_SCALE),
    shapes of magnitude <= ``SCIPY_MAX_SHAPE`` and valid for the family; InputError naming the parameter."""
    names = [t.strip() for t in (frozen.dist.shapes or "").split(",") if t.strip()]
    given = list(zip(names + ["loc", "scale"], frozen.args)) + list(frozen.kwds.items())
    shapes = []
    for name, value in given:
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise InputError(name, f"must be a number, got {value!r}") from None
        if not math.isfinite(x):
            raise InputError(name, f"must be a finite number, got {x!r}")
        if name == "scale":
            check_scale(name, x)
        elif name == "loc":
            check_scale(name, x, -MAX_SCALE)
        elif abs(x) > SCIPY_MAX_SHAPE:
            raise InputError(name, f"must have magnitude <= {SCIPY_MAX_SHAPE:g} (scipy loses accuracy or stalls "
                                   f"beyond), got {x!r}")
        else:
            shapes.append(x)
    if len(shapes) == len(names) and not np.all(frozen.dist._argcheck(*shapes)):
        raise InputError(names[0] if names else "dist", f"invalid parameters for scipy.stats.{frozen.dist.name}")


def _power_tail_without_mean(dist) -> bool:
    """Is an infinite mean true rather than the overflow of a finite one? True for a power tail
    v(q) ~ c q^(-1/alpha) with alpha <= 1: the local index log(q1/q2) / log(v(q2)/v(q1)) (as in
    ``tails.tail_index``) read off v at 1e-16, 1e-30 and 1e-100 must be <= 1 on both stretches and the same
    within 5% (a lognormal with a huge sigma overflows its mean but its local index keeps growing)."""
    q = np.array([1e-16, 1e-30, 1e-100])
    with np.errstate(all="ignore"):
        v = np.asarray(dist._v(q), dtype=float)
    if not (np.isfinite(v).all() and 0 < v[0] < v[1] < v[2]):
        return False
    alpha = [math.log(q[i] / q[i + 1]) / math.log(v[i + 1] / v[i]) for i in (0, 1)]
    return max(alpha) <= 1.0 + 1e-6 and abs(alpha[0] - alpha[1]) <= 0.05 * max(alpha)


class ScipyDistribution(Distribution):
    """Adapter for a frozen ``scipy.stats`` continuous distribution with non-negative support.

    Domain: finite parameters, loc and scale within ``MAX_SCALE``, shapes up to ``SCIPY_MAX_SHAPE``
    (``check_scipy_parameters``); then ``_probe`` evaluates v, sf, cdf and the mean within ``SCIPY_TIMEOUT``
    seconds and refuses NaN, or an infinite value where the mean is finite.

    Accuracy: v(q) = ``isf(q)``, as accurate as scipy's isf for that family (most families compute it from
    the survival function directly and keep full relative precision in the upper tail; a family whose isf
    falls back to ``ppf(1 - q)`` loses precision below q ~ 1e-16). V(q) by adaptive quadrature (~1e-10
    relative); the numba kernel uses a table whose measured error is ``table_error``.
    """

    name = "scipy"

    def __init__(self, frozen, label: str | None = None):
        if not hasattr(frozen, "isf") or not hasattr(frozen, "dist"):
            raise InputError("frozen", "must be a frozen scipy.stats continuous distribution")
        check_scipy_parameters(frozen)
        self.frozen = frozen
        self.label = label or f"scipy:{frozen.dist.name}"
        self._table = None
        lo, hi, self._mean = call_within(SCIPY_TIMEOUT, self._probe, f"scipy.stats.{frozen.dist.name}")
        self.support = (lo, hi)

    def _probe(self):
        """(support low, support high, mean) after checking v(q) at ``PROBE_Q``, sf and cdf at those values:
        no NaN, values >= 0, v finite for q > 0 unless the mean is infinite (a heavy tail)."""
        lo, hi = (float(t) for t in self.frozen.support())
        if not lo >= 0:
            raise InputError("frozen", f"values must be >= 0, the support starts at {lo}")
        with np.errstate(all="ignore"):
            mean = float(self.frozen.mean())
            v = self._v(PROBE_Q)
            probs = np.concatenate([np.asarray(self.sf(v), float), np.asarray(self.cdf(v), float)])
        bad = []
        if math.isnan(mean) or np.isnan(v).any() or np.isnan(probs).any():
            bad.append("NaN in the mean, v(q), sf or cdf")
        elif (v < lo).any() or not np.isfinite(v[PROBE_Q >= Q_DRAWN]).all():
            bad.append(f"v(q) outside the support or not finite at q >= {Q_DRAWN:g}")
        elif math.isinf(mean) and not _power_tail_without_mean(self):
            bad.append("an infinite mean, but v on [1e-100, 1e-16] is not a steady power tail of index <= 1 "
                       "(the mean overflows, or the tail is too heavy for double precision)")
        elif math.isfinite(mean) and not np.isfinite(v[1:]).all():
            bad.append(f"v(q) overflows while the mean ({mean:g}) is finite")
        elif math.isinf(mean) and math.isfinite(hi):
            bad.append("an infinite mean on a bounded support")
        if bad:
            raise InputError("dist", f"scipy.stats.{self.frozen.dist.name} with these parameters is too extreme "
                                     f"for double precision: {bad[0]}")
        return lo, hi, mean

    def _v(self, q):
        v = np.asarray(self.frozen.isf(q), dtype=float)
        if np.isfinite(self.support[1]) and np.any(np.isnan(v)):  # scipy's isf can fail in the far tail of a
            v = np.where(np.isnan(v) & (np.asarray(q) < 1e-100), self.support[1], v)  # bounded law: v -> top
        return v

    def _V(self, q):
        if math.isinf(self._mean):  # a tail too heavy for a mean: V(q) = +inf for every q > 0
            return np.where(np.asarray(q) == 0, 0.0, math.inf)
        return quad_V(self._v, q)

    def _S(self, q):
        if math.isinf(self._mean):
            return np.where(np.asarray(q) == 0, 0.0, math.inf)
        with np.errstate(invalid="ignore"):
            S = np.where(np.asarray(q) == 0, 0.0, self._V(q) - self.R(q))
        # below q = 1e-300 scipy's isf overflows (v = inf, q v = NaN) where S = O(q v) is 0 to rounding anyway
        return np.where(np.isnan(S) & (np.asarray(q) < 1e-300), 0.0, S)

    def sf(self, x):
        return self.frozen.sf(x)

    def cdf(self, x):
        return self.frozen.cdf(x)

    def pdf(self, x):
        return self.frozen.pdf(x)

    def numba_spec(self):
        if self._table is None:
            self._table, self.table_error = build_table(self)
        return kinds.TABLE, self._table

    @property
    def spec(self):
        return self.label
