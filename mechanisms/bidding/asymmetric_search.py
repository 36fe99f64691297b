"""The search for the common top bid b̄ of the asymmetric first-price equilibrium (backward shooting,
``asymmetric_ode``): the Illinois method on the signed miss, and where the two solutions of its final bracket
agree."""
from __future__ import annotations

import math

import numpy as np

from distributions.errors import InputError

from .asymmetric_ode import COARSE_RTOL, COARSE_WIDTH, CUT_TOL, RTOL, Classes, miss_of, shoot


def illinois(cls: Classes, lo: float, m_lo, hi: float, m_hi: float, rtol: float):
    """The Illinois method on the signed miss of ``shoot`` (at tolerance ``rtol``) in the bracket [lo, hi]
    (m_lo < 0 < m_hi; m_lo None while lo is r, where no solution starts), safeguarded by bisection (the bracket
    must halve every three steps), down to adjacent doubles. Returns the final bracket (lo, hi)."""
    side, widths = 0, [hi - lo] * 3
    for step in range(300):
        x = 0.5 * (lo + hi)
        if m_lo is not None and m_hi > m_lo and (step % 3 or hi - lo < 0.5 * widths[0]):
            x = (lo * m_hi - hi * m_lo) / (m_hi - m_lo)
        widths = widths[1:] + [hi - lo]
        x = min(max(x, math.nextafter(lo, math.inf)), math.nextafter(hi, -math.inf))
        if not lo < x < hi:
            break
        m = shoot(cls, x, rtol)[0]
        if m > 0:
            hi, m_hi = x, m
            m_lo = m_lo / 2 if side > 0 and m_lo is not None else m_lo
            side = 1
        else:
            lo, m_lo = x, m
            m_hi = m_hi / 2 if side < 0 else m_hi
            side = -1
    return lo, hi


def find_top(cls: Classes):
    """The top bid b̄ in (r, ω_(2)) (ω_(2): the second highest top value among the buyers): the Illinois method
    at COARSE_RTOL from that bracket, then at RTOL from a bracket of width ~COARSE_WIDTH (b̄ - r) around the
    coarse root, widened until it brackets. Returns the final bracket and its two solutions as ``Path`` s (low,
    path, high, path)."""
    r = cls.low
    top = float(np.sort(np.repeat(cls.tops, np.minimum(cls.counts, 2).astype(int)))[-2])
    lo, hi = illinois(cls, r, None, top, miss_of(cls, top - r, 0.0), COARSE_RTOL)
    x, d = 0.5 * (lo + hi), COARSE_WIDTH * (hi - r)
    for _ in range(60):
        lo, hi = max(x - d, 0.5 * (r + x)), min(x + d, top)
        m_lo, m_hi = shoot(cls, lo)[0], shoot(cls, hi)[0]
        if m_lo <= 0 < m_hi:
            break
        d *= 8
    else:
        raise InputError("buyers", "the first-price equilibrium could not be found: no top bid sends every "
                                   "inverse bid function down to the lower end (check the value distributions)")
    lo, hi = illinois(cls, lo, m_lo, hi, m_hi, RTOL)
    path_hi = shoot(cls, hi, dense=True)[1]
    path_lo = shoot(cls, lo, dense=True)[1]
    if path_hi is None or path_lo is None:
        raise InputError("buyers", "the first-price equilibrium could not be verified: the search for the top "
                                   "bid ended at a bid whose solution fails at its start")
    return lo, path_lo, hi, path_hi


def agreement_cut(cls: Classes, lo: float, path_lo, hi: float, path_hi) -> float:
    """The lowest bid b_c down to which the bracketing solutions agree to CUT_TOL ω_max (scanned downwards)."""
    r = cls.low
    t = np.linspace(path_lo.t_start, path_lo.t_end, 4001)
    t = t[t >= path_hi.t_end]
    diff = np.max(np.abs(path_lo(t) - path_hi(t)), axis=0)
    bad = np.nonzero(diff > CUT_TOL * float(np.max(cls.tops)))[0]
    k = (bad[0] - 1) if len(bad) else len(t) - 1
    return r + math.exp(t[max(k, 1)])
