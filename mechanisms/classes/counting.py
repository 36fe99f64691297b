"""How many of the other buyers score above a level: sums of independent binomials, for counts up to 1e30.

With m units a buyer wins when fewer than m others score above her. The others of class l each score above
the level with probability Q_l, independently, so their number is B = Σ_l B_l, B_l ~ Bin(N_l, Q_l) (a
Poisson-binomial sum of binomials): P(B = j) is the coefficient of z^j in Π_l (1 - Q_l + z Q_l)^{N_l}.
Only j < m is ever needed, so the pmf of each class is formed in logs,

    log P(B_l = j) = log C(N_l, j) + j log Q_l + (N_l - j) log(1 - Q_l)   (log1p; C from Π_{i<j} (N_l - i) / j!),

which is exact for N_l = 1e30 (no (1 - Q)^N is ever formed), and the classes are convolved in log space
(logsumexp), j = 0..m-1: O(K m^2) per point. For m = 1 this is Π_l (1 - Q_l)^{N_l} = exp(Σ N_l log1p(-Q_l)).
"""
from __future__ import annotations

import math

import numpy as np


def binomial_log_pmf(n: float, q, J: int) -> np.ndarray:
    """log P(Bin(n, q) = j) for j = 0..J-1, as an array (J,) + shape(q); n >= 0 (may be 1e30), q in [0, 1]."""
    q = np.asarray(q, dtype=float)
    shape = (J,) + (1,) * q.ndim
    j = np.arange(J, dtype=float).reshape(shape)
    with np.errstate(divide="ignore"):
        log_choose = np.cumsum([0.0] + [math.log(n - i) if n - i > 0 else -math.inf for i in range(J - 1)])
    log_choose = log_choose - np.array([math.lgamma(i + 1.0) for i in range(J)])
    log_choose = log_choose.reshape(shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(j == 0, 0.0, j * np.log(q))
        down = np.where(n - j == 0, 0.0, (n - j) * np.log1p(-np.minimum(q, 1.0)))
        out = log_choose + up + down
    return np.where(np.isneginf(log_choose) | np.isnan(out), -math.inf, out)


def log_pmf(counts, probs, J: int) -> np.ndarray:
    """log P(B = j), j = 0..J-1, for B = Σ_l Bin(counts[l], probs[l]) (the probs broadcast together)."""
    from scipy.special import logsumexp

    probs = np.broadcast_arrays(*[np.asarray(p, dtype=float) for p in probs])
    total = None
    for n, q in zip(counts, probs):
        if n == 0:
            continue
        part = binomial_log_pmf(float(n), q, J)
        if total is None:
            total = part
            continue
        rows = [logsumexp(total[: j + 1] + part[j::-1], axis=0) for j in range(J)]
        total = np.stack(rows)
    if total is None:  # nobody else: B = 0
        total = np.full((J,) + probs[0].shape, -math.inf)
        total[0] = 0.0
    return total


def _log_none(counts, probs) -> np.ndarray:
    """log P(B = 0) = Σ_l N_l log(1 - Q_l), with 0 · (-inf) = 0."""
    total = 0.0
    with np.errstate(divide="ignore"):
        for n, q in zip(counts, probs):
            if n != 0:
                total = total + n * np.log1p(-np.minimum(np.asarray(q, dtype=float), 1.0))
    return np.asarray(total, dtype=float)


def exactly(j: int, counts, probs) -> np.ndarray:
    """P(B = j) (module doc)."""
    if j == 0:
        return np.exp(_log_none(counts, probs))
    return np.exp(log_pmf(counts, probs, j + 1)[j])


def fewer_than(m: int, counts, probs) -> np.ndarray:
    """P(B < m) = P(B <= m - 1): a buyer above the level wins one of m units (module doc)."""
    if m == 1:
        return np.exp(_log_none(counts, probs))
    return np.minimum(np.exp(log_pmf(counts, probs, m)).sum(axis=0), 1.0)
