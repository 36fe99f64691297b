"""The first-price equilibrium of asymmetric buyers: the ODE system for the inverse bid functions and its
backward-shooting solution (issue 15; ``004_…`` §4.3 and the remark after Proposition 5.2).

Class k holds n_k i.i.d. buyers with values F_k on [r, ω_k] (r the common lower end, or the reserve); N = Σ n_k.
In a class-symmetric equilibrium a buyer of class k bids β_k(v); φ_k = β_k⁻¹ is its inverse bid function. A
class-k buyer with value v bidding b wins with probability G_k(b) = F_k(φ_k(b))^(n_k - 1) Π_{j≠k} F_j(φ_j(b))^n_j,
and the first-order condition (v - b) G_k'(b) = G_k(b) at v = φ_k(b) reads, with L_j = log F_j(φ_j),

    Σ_j n_j L_j'(b) - L_k'(b) = 1 / (φ_k(b) - b)        for every class k.

Summing with weights n_k gives Σ_j n_j L_j' = S(b) := (1/(N-1)) Σ_j n_j / (φ_j(b) - b), hence

    L_k'(b) = S(b) - 1/(φ_k(b) - b),    φ_k'(b) = F_k(φ_k)/f_k(φ_k) · [S(b) - 1/(φ_k(b) - b)]   (Krishna §4.3)

with φ_k(r) = r and a common top bid b̄: φ_k(b̄) = ω_k (Lebrun 1999; Kaplan–Zamir 2012 for two buyers). For
one buyer per class this is Krishna's system φ_1' = F_1(φ_1)/f_1(φ_1) · 1/(φ_2 - b). A common top bid needs
every φ_k rising at b̄ (L_k'(b̄) >= 0), true for two buyers or a common ω but not always: against two buyers
on [0, 2], one buyer on [0, 1] bids at most 3 - √5 ≈ 0.764 < b̄ ≈ 1.090. So the system runs over the classes
bidding at b (S, N in it count only those), the others staying at φ_j = ω_j; going down from b̄, class j
starts to bid (enters) where its top buyer's first-order condition holds, S(b) = 1/(ω_j - b), which makes
L_j' = 0 there, so φ_j joins smoothly with φ_j'(b) = 0 (``Classes.top_active``, ``shoot``).

Method: backward shooting on b̄ (Marshall, Meurer, Richard, Stromquist 1994). For a guess b̄ the system is
integrated from φ(b̄) = ω down towards r (scipy DOP853 in the variable t = log(b - r), which gives steps
proportional to b - r where the solutions fan out). A guess above the equilibrium's b̄ sends some φ_k into the
diagonal φ_k = b (where φ_k' blows up), or makes some φ_k fall, before b reaches r; a guess below reaches r
with every φ_k above the diagonal. The Illinois method on a signed miss (``miss_of``), safeguarded by
bisection, first at rtol 1e-8 and then at rtol 1e-12 in a narrow bracket, runs to adjacent doubles
(``asymmetric_search``; ~20-30 shots: 1-2 s for two uniform buyers, 2-4 s for three, 7-10 s for 4-10).
The two solutions of the final bracket enclose the equilibrium; they agree to ``CUT_TOL`` down to a bid b_c
close to r, and no further: backward solutions diverge like (b - r)^-(N-1) there (for N symmetric uniform
buyers they are b(v) = (N-1)v/N + C/v^(N-1)), the instability Fibich and Gavish (2011) describe. Below b_c the
inverse bids are the straight line from (r, r) to (b_c, φ_k(b_c)): both it and the equilibrium lie between b
and φ_k(b_c), so the error there is at most φ_k(b_c) - r (``Equilibrium.error_bound``: 6e-8 for two uniform
buyers, 3e-4 for three, 5e-3 for four, 0.2 for ten), and those bids win with probability
H(b_c) = Π F_k(φ_k(b_c))^n_k, negligible for the exact values (still inside Monte Carlo CIs at ten buyers).

Why shooting: it needs no tuning, handles any number of classes with one scalar unknown, works with a reserve,
and its final bracket gives an error estimate for free. Fibich–Gavish's change of variables or a collocation
(boundary-value) method would keep the low bids accurate for many buyers, at the price of a Newton solve with
a good initial guess; not done. Measured on the uniform pair U[0, 1], U[0, 2] against the closed form: inverse
bids and bids to 3e-11, revenue, welfare and winning probabilities to ~1e-12 (tests/test_bidding_asym.py).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

from distributions.errors import InputError

#: the ODE solver's tolerances
RTOL, ATOL = 1e-12, 1e-15
#: integrate down to b - r = STOP (b̄ - r) when F_k(r) = 0 for every class (there the relative precision of
#: F_k(φ_k) ~ φ_k runs out below), to STOP_RESERVE (b̄ - r) when some F_k(r) > 0 (a reserve above a lower end:
#: a top bid δ too high then hits the diagonal only at b - r ~ δ, where φ_k - r ~ sqrt(b - r))
STOP, STOP_RESERVE = 1e-9, 1e-15
#: a solution whose gap φ_k - b falls below THETA (b - r) has hit the diagonal (b̄ too high)
THETA = 1e-7
#: the two bracketing solutions count as the equilibrium where they agree to CUT_TOL ω_max
CUT_TOL = 1e-8
#: the first search for b̄ runs at the loose COARSE_RTOL; the second, at RTOL, starts from a bracket of width
#: ~COARSE_WIDTH (b̄ - r) around its root
COARSE_RTOL, COARSE_WIDTH = 1e-8, 1e-6
#: the most buyers the solver accepts: the backward solutions fan out like (b - r)^-(N-1), so that with 20
#: buyers the low bids are already only known to ~0.7 (``Equilibrium.error_bound``) and a solve takes ~15 s
MAX_BUYERS = 20


class Classes:
    """The ODE's data: each class's distribution F_k, count n_k and top value ω_k, and the low end r."""

    def __init__(self, dists, counts, low: float):
        self.dists = tuple(dists)
        self.counts = np.asarray(counts, dtype=float)
        self.tops = np.array([float(d.support[1]) for d in self.dists])
        #: the density is read just below ω_k (some densities are 0 at the closed end of their support)
        self.below_tops = np.nextafter(self.tops, -np.inf)
        self.low = float(low)
        self.N = float(self.counts.sum())
        self.scale = float(np.max(self.tops)) - self.low
        self.stop = STOP_RESERVE if any(float(d.cdf(self.low)) > 0 for d in self.dists) else STOP

    def ratio(self, phi):
        """F_k(φ_k) / f_k(φ_k) for each class (rows of ``phi``); 0 where F_k(φ_k) = 0 (φ_k at or below the
        support's lower end, where F/f -> 0 for f(r) > 0): a trial stage of the solver may step a solution that
        is about to meet the diagonal below r, and 0/0 there would end the shot without its path."""
        out = np.empty_like(phi)
        for k, d in enumerate(self.dists):
            F = d.cdf(phi[k])
            with np.errstate(divide="ignore", invalid="ignore"):
                out[k] = np.where(F > 0, F / d.pdf(np.minimum(phi[k], self.below_tops[k])), 0.0)
        return out

    def log_slopes(self, b, phi, active=None):
        """L_k'(b) = S(b) - 1/(φ_k(b) - b): the slope of log F_k(φ_k(b)) (``phi`` has one row per class), with
        S = (1/(N_A - 1)) Σ_{j active} n_j / (φ_j - b) over the classes bidding at b (``active``, a mask per
        class or per class and bid; all by default); 0 for a class above its highest bid (φ_k = ω_k)."""
        gap = phi - b
        if active is None:
            S = (self.counts[:, None] / gap).sum(axis=0) / (self.N - 1.0)
            return S - 1.0 / gap
        active = np.broadcast_to(active if np.ndim(active) == 2 else np.asarray(active)[:, None], gap.shape)
        n = np.where(active, self.counts[:, None], 0.0)
        S = (n / np.where(active, gap, 1.0)).sum(axis=0) / (n.sum(axis=0) - 1.0)
        return np.where(active, S - 1.0 / np.where(active, gap, 1.0), 0.0)

    def slopes(self, b, phi, active=None):
        """φ_k'(b) = F_k(φ_k)/f_k(φ_k) · L_k'(b)."""
        return self.ratio(phi) * self.log_slopes(b, phi, active)

    def top_active(self, top: float):
        """The classes bidding the top bid b̄ = ``top``: those with the highest ω_k, as many levels of ω as keep
        every φ_k rising at b̄ (L_k'(b̄) >= 0) while the next class would not bid b̄ (S(b̄) (ω_j - b̄) < 1), with
        at least two buyers. None when no such set exists (b̄ too high)."""
        gaps = self.tops - top
        for level in sorted(set(self.tops[gaps > 0]), reverse=True):
            active = self.tops >= level
            if self.counts[active].sum() < 2:
                continue
            L = self.log_slopes(top, self.tops[:, None], active)[:, 0]
            if np.min(L[active]) < 0:
                return None
            S = float(np.sum(self.counts[active] / gaps[active])) / (self.counts[active].sum() - 1.0)
            below = (~active) & (gaps > 0)
            if not np.any(below) or S * float(np.max(gaps[below])) < 1.0:
                return active
        return None


class Path:
    """A backward solution in pieces: one per set of classes bidding (``segments``: (active mask, the solver's
    solution), in the order integrated, t = log(b - r) decreasing); classes not yet bidding stay at φ_k = ω_k.
    ``entries``: class -> the bid where it starts bidding (its highest bid), for classes that enter late."""

    def __init__(self, cls: Classes, segments, entries):
        self.cls, self.segments, self.entries = cls, segments, dict(entries)
        self.t_start, self.t_end = segments[0][1].t[0], segments[-1][1].t[-1]

    def __call__(self, t):
        """φ_k at t (rows: classes), from the segments' dense outputs."""
        t = np.asarray(t, dtype=float)
        out = np.repeat(self.cls.tops[:, None], len(t), axis=1)
        for _, sol in self.segments:
            inside = (t <= sol.t[0]) & (t >= sol.t[-1])
            if np.any(inside):
                out[:, inside] = sol.sol(t[inside])
        return out


class Diverged(ArithmeticError):
    """A slope of the ODE that is not finite (at the bid ``args[0]``): the solution reached the diagonal."""


def _gap_ratio(s: float, gaps) -> float:
    """min_k (φ_k - b) / s at b = r + s: positive along the equilibrium, 0 on the diagonal."""
    return float(np.min(gaps)) / s


def _rising(cls: Classes, s: float, phi, active) -> float:
    """min_k (b - r) L_k'(b) over the bidding classes at b = r + s: >= 0 where they all rise, as they must."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(np.min(cls.log_slopes(cls.low + s, phi[:, None], active)[active])) * s
    return -1.0 if math.isnan(value) else value  # NaN: a gap of 0, on the diagonal


def miss_of(cls: Classes, s: float, gap: float) -> float:
    """The signed miss of a backward solution that ends at the bid b = r + s with largest gap max_k (φ_k(b) - b):
    > 0 where it hit the diagonal (gap 0), < 0 where it reached b - r = stop (b̄ - r) above it. Its size makes
    the miss nearly linear in b̄ near the root, so that the Illinois steps of ``find_top`` converge fast: for N
    symmetric uniform buyers the backward solutions are b(v) = (N-1)v/N + C/v^(N-1), whose diagonal point b and
    intercept φ(0) are both ∝ C^(1/N), so the miss is s^N or -gap^N (the power capped at 20, lengths in units
    of the top bid); with a reserve (F_k(r) > 0), where φ(b) = b + sqrt(b² - 2C) for two uniform buyers, it is
    (b² - r²) - gap², 2(C - C*) on both sides."""
    if cls.stop == STOP_RESERVE:
        m = s * (2.0 * cls.low + s) - gap * gap
    else:
        p = min(cls.N, 20.0)
        m = (s / cls.scale) ** p if gap == 0.0 else -(gap / cls.scale) ** p
    return max(m, 1e-300) if gap == 0.0 else min(m, -1e-300)


def shoot(cls: Classes, top: float, rtol: float = RTOL, dense: bool = False):
    """Integrate from φ(b̄) = ω with b̄ = ``top`` towards r, in t = log(b - r): (signed miss, ``Path`` of the
    solution, dense if ``dense``; None when the start already fails). The solution fails (b̄ too high) where
    some bidding φ_k meets the diagonal or starts to fall (L_k' < 0); a class not bidding at b̄ starts to bid
    (enters, with φ_j = ω_j) where S(b) = 1/(ω_j - b), i.e. where its top buyer's first-order condition holds."""
    r = cls.low
    active = cls.top_active(top)
    if active is None or _gap_ratio(top - r, (cls.tops - top)[active]) <= THETA:
        return miss_of(cls, top - r, 0.0), None
    t, y, segments, entries = math.log(top - r), cls.tops.copy(), [], {}
    t_stop = t + math.log(cls.stop)
    while True:
        try:
            sol = _segment(cls, active, (t, t_stop), y, rtol, dense)
        except Diverged as exc:  # a slope that is not finite: on (or across) the diagonal
            return miss_of(cls, exc.args[0], 0.0), None
        segments.append((active, sol))
        s_end = math.exp(sol.t[-1])
        if sol.status < 0 or len(sol.t_events[0]) or len(sol.t_events[1]):
            return miss_of(cls, s_end, 0.0), Path(cls, segments, entries)
        if sol.status == 0:
            gap = float(np.max(sol.y[:, -1] - (r + s_end)))
            return miss_of(cls, s_end, gap), Path(cls, segments, entries)
        entering = [j for j, te in zip(np.nonzero(~active)[0], sol.t_events[2:]) if len(te)]
        active = active.copy()
        active[entering] = True
        entries.update((int(j), r + s_end) for j in entering)
        t, y = sol.t[-1], sol.y[:, -1].copy()
        y[entering] = cls.tops[entering]


def _segment(cls: Classes, active, span, y0, rtol: float, dense: bool):
    """One piece of the backward integration with a fixed set of bidding classes over ``span`` = (t0, t_stop),
    up to the first event: the diagonal, a falling φ_k, or the entry of a class not yet bidding."""
    r = cls.low
    mask = None if np.all(active) else active

    def rhs(t, y):
        s = math.exp(t)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            dy = s * cls.slopes(r + s, y[:, None], mask)[:, 0]
        if not np.all(np.isfinite(dy)):
            raise Diverged(s)
        return dy

    def diagonal(t, y):
        s = math.exp(t)
        return _gap_ratio(s, (y - (r + s))[active]) - THETA

    def falling(t, y):
        return _rising(cls, math.exp(t), y, active)

    def entry(j):
        def event(t, y):
            b = r + math.exp(t)
            gaps = (y - b)[active]
            S = float(np.sum(cls.counts[active] / gaps)) / (cls.counts[active].sum() - 1.0)
            return S * (cls.tops[j] - b) - 1.0
        event.terminal, event.direction = True, 1
        return event

    for event in (diagonal, falling):
        event.terminal, event.direction = True, -1
    events = [diagonal, falling] + [entry(j) for j in np.nonzero(~active)[0]]
    return solve_ivp(rhs, span, y0, method="DOP853", rtol=rtol, atol=ATOL, events=events,
                     dense_output=dense)
