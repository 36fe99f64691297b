"""A distribution given by a piecewise value function in quantile space, v(q) = a_i / q + b_i on
(q_{i-1}, q_i]: equal-revenue pieces (a > 0) and atoms (a = 0), with closed forms for V, sf, cdf, pdf and a
table for the simulator. The instances of Theorem E.1 (Appendix E of the paper) are of this form
(``simulator.paper.theorem_e1``).
"""
from __future__ import annotations

import numpy as np

from distributions.base import Distribution
from distributions.errors import InputError


class Piecewise(Distribution):
    """v(q) = a_i / q + b_i on (q_{i-1}, q_i] (q_0 = 0; the first piece constant): closed forms for V, sf, cdf;
    a table for the simulator. ``pieces``: [(q_i, a_i, b_i)], q_i increasing to 1; ``label``: its spec. Equal
    pieces and label make equal distributions (``Distribution.key``)."""

    name = "piecewise"

    def __init__(self, pieces, label: str):
        self.hi = np.array([p[0] for p in pieces], float)
        self.a = np.array([p[1] for p in pieces], float)
        self.b = np.array([p[2] for p in pieces], float)
        self.lo = np.concatenate([[0.0], self.hi[:-1]])
        if self.hi[-1] != 1.0 or np.any(np.diff(self.hi) <= 0) or self.a[0] != 0:
            raise InputError("pieces", "q_i must increase to 1 and the first piece must be constant")
        with np.errstate(divide="ignore"):
            self.v_bot = self.a / self.hi + self.b
            self.v_top = np.where(self.a > 0, self.a / np.where(self.lo > 0, self.lo, 1.0) + self.b, self.b)
        if np.any(np.diff(self.v_bot) > 1e-12) or np.any(self.v_top[1:] > self.v_bot[:-1] + 1e-12) \
                or self.v_bot[-1] < 0:
            raise InputError("pieces", "v must be non-increasing and >= 0")
        cell = np.where(self.a > 0, self.a * np.log(self.hi / np.where(self.lo > 0, self.lo, 1.0)), 0.0) \
            + self.b * (self.hi - self.lo)
        self.V_before = np.concatenate([[0.0], np.cumsum(cell)[:-1]])
        self.support = (float(self.v_bot[-1]), float(self.v_top[0]))
        self.label = label
        self.table = None

    def piece(self, q):
        """The index of the piece holding quantile q."""
        return np.minimum(np.searchsorted(self.hi, q, side="left"), len(self.hi) - 1)

    def _v(self, q):
        q = np.asarray(q, float)
        i = self.piece(q)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.a[i] > 0, self.a[i] / np.where(q > 0, q, 1.0) + self.b[i], self.b[i])

    def _V(self, q):
        q = np.asarray(q, float)
        i = self.piece(q)
        lo = self.lo[i]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_part = np.where(self.a[i] > 0, self.a[i] * np.log(np.where(q > 0, q, 1.0) / np.where(lo > 0, lo, 1.0)),
                                0.0)
        return self.V_before[i] + log_part + self.b[i] * (q - lo)

    def prob(self, x, strict: bool):
        """Pr[v > x] (``strict``) or Pr[v >= x], vectorised."""
        x = np.atleast_1d(np.asarray(x, float))
        out = np.zeros(x.shape)
        for lo, hi, a, b, vb, vt in zip(self.lo, self.hi, self.a, self.b, self.v_bot, self.v_top):
            whole = (vb > x) if strict else (vb >= x)
            part = (a > 0) & ~whole & ((vt > x) if strict else (vt >= x))
            with np.errstate(divide="ignore", invalid="ignore"):
                q_in = np.clip(a / (x - b), lo, hi)
            out = np.maximum(out, np.where(whole, hi, np.where(part, q_in, 0.0)))
        return out

    def sf(self, x):  # Pr[v >= x]
        x = np.asarray(x, float)
        return np.where(x <= 0, 1.0, self.prob(x, False).reshape(x.shape))

    def cdf(self, x):  # Pr[v <= x] = 1 - Pr[v > x]
        x = np.asarray(x, float)
        return 1.0 - self.prob(x, True).reshape(x.shape)

    def pdf(self, x):
        x = np.atleast_1d(np.asarray(x, float))
        out = np.zeros(x.shape)
        for a, b, vb, vt in zip(self.a, self.b, self.v_bot, self.v_top):
            if a > 0:
                inside = (x > vb) & (x < vt)
                with np.errstate(divide="ignore"):
                    out += np.where(inside, a / (x - b) ** 2, 0.0)
        return out

    @property
    def atoms(self):
        out = [(float(b), float(hi - lo)) for lo, hi, a, b in zip(self.lo, self.hi, self.a, self.b) if a == 0]
        return sorted(out, reverse=True)

    def atoms_q(self):
        return sorted((float(lo), float(hi), float(b)) for lo, hi, a, b in zip(self.lo, self.hi, self.a, self.b)
                      if a == 0)

    def jumps_q(self):
        return [float(h) for h, vb, vt in zip(self.hi[:-1], self.v_bot[:-1], self.v_top[1:])
                if vb > vt + 1e-12 * max(abs(vb), 1.0)]

    def numba_spec(self):
        from distributions import kernels
        from distributions.compound import build_table

        if self.table is None:
            self.table, self.table_error = build_table(self, list(self.hi[:-1]))
        return kernels.TABLE, self.table

    @property
    def spec(self):
        return self.label


def piecewise(pieces, label: str) -> Piecewise:
    """v(q) = a_i / q + b_i on (q_{i-1}, q_i] (``Piecewise``)."""
    return Piecewise([tuple(float(x) for x in p) for p in pieces], label)
