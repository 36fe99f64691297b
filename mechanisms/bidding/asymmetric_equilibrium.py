"""The first-price equilibrium of asymmetric buyers as an object: the checked market, the inverse bid functions
φ_k(b) and the bid functions β_k(v) as interpolants of the ODE solution (``asymmetric_ode``), cached by the
market's value. The mechanism and its exact values are in ``asymmetric``."""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

import numpy as np

from distributions.errors import InputError, InputTypeError
from distributions.market import Market

from .asymmetric_ode import CUT_TOL, MAX_BUYERS, Classes
from .asymmetric_search import agreement_cut, find_top

#: grid of the interpolants: GRID_LINEAR points equally spaced in b, GRID_LOG points equally spaced in log(b - r)
GRID_LINEAR, GRID_LOG = 2001, 801


def check_classes(market, reserve) -> Classes:
    """The market's classes as the ODE's data, checked: bounded continuous supports [r_k, ω_k], no atoms or gaps,
    density positive at ω_k, a common lower end r (without a reserve) or every r_k <= reserve < every ω_k,
    2 <= N <= ``MAX_BUYERS`` buyers."""
    if not isinstance(market, Market):
        raise InputTypeError("market", f"expected a Market (Market.of((F1, n1), (F2, n2))), got "
                                       f"{type(market).__name__}")
    if market.m != 1:
        raise InputError("m", f"the first-price auction sells one unit, got m = {market.m}")
    counts = [c.count for c in market.classes]
    N = math.fsum(counts)
    if not 2 <= N <= MAX_BUYERS:
        raise InputError("buyers", f"the asymmetric first-price equilibrium needs 2 to {MAX_BUYERS} buyers in all "
                                   f"(beyond, backward shooting loses the low bids; i.i.d. buyers have the "
                                   f"symmetric first-price formulas), got {N:g}")
    dists = [c.dist for c in market.classes]
    for d in dists:
        low, top = (float(x) for x in d.support)
        if not math.isfinite(top):
            raise InputError("buyers", f"{d.spec}: the asymmetric first-price equilibrium needs a bounded support "
                                       f"[0, ω], got the upper end {top:g}")
        if d.atoms or d.jumps_q():
            raise InputError("buyers", f"{d.spec}: the asymmetric first-price equilibrium needs a continuous "
                                       f"distribution without atoms or gaps in its support")
        if not float(d.pdf(np.nextafter(top, -math.inf))) > 0:
            raise InputError("buyers", f"{d.spec}: the density must be positive at the top of the support "
                                       f"({top:g}): otherwise the top bids are not determined by the ODE")
    lows = [float(d.support[0]) for d in dists]
    if reserve is None:
        if max(lows) != min(lows):
            raise InputError("buyers", f"without a reserve the supports need a common lower end (the equilibrium "
                                       f"has φ_k(r) = r for all classes), got lower ends {lows}; give a reserve "
                                       f">= {max(lows):g}")
        low = lows[0]
    else:
        low = reserve
        tops = [float(d.support[1]) for d in dists]
        if not max(lows) <= low < min(tops):
            raise InputError("reserve", f"must lie in [{max(lows):g}, {min(tops):g}) (above every class's lower end, "
                                        f"below every class's top value), got {low:g}")
    return Classes(dists, counts, low)


@dataclass(frozen=True, eq=False)
class Equilibrium:
    """The first-price equilibrium: top bid b̄, each class's highest bid ``top_bids[k]`` = β_k(ω_k) (b̄, or less
    for a class that drops out at the top), inverse bid functions φ_k on [r, b̄] (cubic Hermite on a grid of the
    ODE solution with the ODE's slopes, φ_k = ω_k above the class's highest bid; the straight line from (r, r)
    below ``b_cut``), bid functions β_k. ``error_bound`` bounds |φ_k - φ_k^exact| (the final shooting bracket's
    width above b_cut, φ_k(b_cut) - r below); ``seconds`` is the solve time."""

    classes: Classes
    top_bid: float
    top_bids: np.ndarray
    b_cut: float
    grid_b: np.ndarray
    grid_phi: np.ndarray
    grid_slope: np.ndarray
    error_bound: float
    seconds: float

    def __post_init__(self):
        from scipy.interpolate import CubicHermiteSpline, PchipInterpolator

        splines = [CubicHermiteSpline(self.grid_b, p, d) for p, d in zip(self.grid_phi, self.grid_slope)]
        inverses = []
        for p, top in zip(self.grid_phi, self.top_bids):  # nodes where φ_k strictly rises, up to its highest bid
            p, b = p[self.grid_b <= top], self.grid_b[self.grid_b <= top]
            rising = np.concatenate([[True], p[1:] > np.maximum.accumulate(p)[:-1]])
            inverses.append(PchipInterpolator(p[rising], b[rising]))
        object.__setattr__(self, "splines", splines)
        object.__setattr__(self, "inverse_splines", inverses)
        #: slope of the straight line φ_k(b) = r + c_k (b - r) below b_cut
        r = self.classes.low
        object.__setattr__(self, "fill_slope", (self.grid_phi[:, 0] - r) / (self.b_cut - r))

    def _class(self, k) -> int:
        K = len(self.classes.dists)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < K:
            raise InputError("k", f"expected a class index 0 <= k < {K}, got {k!r}")
        return int(k)

    def _bids(self, b) -> np.ndarray:
        r = self.classes.low
        b = np.asarray(b, dtype=float)
        slack = 1e-12 * (self.top_bid - r)  # the top bid is known to ~1e-14: a closed form's b̄ may round above
        if np.any(~(b >= r)) or np.any(b > self.top_bid + slack):
            raise InputError("b", f"bids must lie in [{r:g}, {self.top_bid:.12g}] (reserve or lower end, top bid)")
        return np.minimum(b, self.top_bid)

    def phi(self, k, b):
        """Inverse bid φ_k(b): the value of a class-k buyer who bids b, for r <= b <= b̄ (vectorised)."""
        k, b, r = self._class(k), self._bids(b), self.classes.low
        line = r + (b - r) * self.fill_slope[k]
        return np.where(b >= self.b_cut, self.splines[k](np.maximum(b, self.b_cut)), line)

    def inverse_bids(self, b):
        """(φ_k(b), L_k'(b)) for every class k (rows) at the bids b (1-d): L_k' = (log F_k(φ_k))' is
        S(b) - 1/(φ_k(b) - b) on the ODE's solution and f_k(φ_k) c_k / F_k(φ_k) on the straight line below
        b_cut (which does not solve the ODE)."""
        b = self._bids(b)
        phi = np.array([self.phi(k, b) for k in range(len(self.classes.dists))])
        with np.errstate(divide="ignore", invalid="ignore"):
            ode = self.classes.log_slopes(b, phi, b[None, :] <= self.top_bids[:, None])
            line = np.array([d.pdf(p) * c / d.cdf(p) for d, p, c in zip(self.classes.dists, phi, self.fill_slope)])
        return phi, np.where(b >= self.b_cut, ode, line)

    def bid(self, k, v):
        """Equilibrium bid β_k(v) of a class-k buyer with value v (vectorised). Below the reserve a buyer bids
        its value, which never wins."""
        k, r = self._class(k), self.classes.low
        v = np.asarray(v, dtype=float)
        low, top = (float(x) for x in self.classes.dists[k].support)
        if np.any(~(v >= low)) or np.any(v > top):
            raise InputError("v", f"values of class {k} must lie in its support [{low:g}, {top:g}]")
        phi = self.grid_phi[k]
        line = r + (v - r) / self.fill_slope[k]
        out = np.where(v >= phi[0], self.polish(k, v, self.inverse_splines[k](np.clip(v, phi[0], top))), line)
        return np.where(v < r, v, out)

    def polish(self, k: int, v, b):
        """Two Newton steps on φ_k(b) = v from the monotone interpolant's b, each kept only where it brings
        φ_k(b) closer to v (the Hermite spline of φ_k is the accurate one; near a dropping-out class's highest
        bid φ_k' -> 0)."""
        spline, lo, hi = self.splines[k], self.b_cut, self.top_bids[k]
        for _ in range(2):
            miss = spline(b) - v
            with np.errstate(divide="ignore", invalid="ignore"):
                step = np.clip(b - miss / spline(b, 1), lo, hi)
            better = np.abs(spline(step) - v) < np.abs(miss)
            b = np.where(better, step, b)
        return b


def equilibrium_from_bracket(cls: Classes, lo, path_lo, hi, path_hi, seconds: float) -> Equilibrium:
    """The interpolation grid from the bracket's low solution (which reaches r) above the agreement cut, with
    each dropping-out class's highest bid as a node."""
    r = cls.low
    b_cut = agreement_cut(cls, lo, path_lo, hi, path_hi)
    top_bids = np.full(len(cls.dists), lo)
    for j, b in path_lo.entries.items():
        top_bids[j] = b
    grid = np.unique(np.concatenate([np.linspace(b_cut, lo, GRID_LINEAR), top_bids,
                                     r + np.geomspace(b_cut - r, lo - r, GRID_LOG)]))
    grid = grid[(grid >= b_cut) & (grid <= lo)]
    phi = path_lo(np.log(grid - r))
    phi[:, -1] = cls.tops
    active = grid[None, :] <= top_bids[:, None]
    phi = np.where(active, np.minimum(phi, cls.tops[:, None]), cls.tops[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = cls.slopes(grid, phi, active)
    width = float(np.max(cls.tops)) * CUT_TOL
    bound = max(width, float(np.max(phi[:, 0])) - r)
    return Equilibrium(cls, lo, top_bids, float(grid[0]), grid, phi, slope, bound, seconds)


@functools.lru_cache(maxsize=32)
def solve_classes(classes: tuple, reserve) -> Equilibrium:
    """The equilibrium of the market's classes (cached by their value: distributions and counts)."""
    cls = check_classes(Market(classes), reserve)
    start = time.perf_counter()
    bracket = find_top(cls)
    return equilibrium_from_bracket(cls, *bracket, seconds=time.perf_counter() - start)
