"""An independent optimum for the tests: a linear program over piecewise-constant interim allocations.

For a quantile grid 0 = g_0 < ... < g_K = 1 and x constant (x_k) on each cell, a symmetric BIC mechanism is
feasible iff x is non-increasing, x >= 0 and Border's condition holds: sum_{j <= k} x_j (g_{j+1} - g_j) <=
X_hat(g_{k+1}) for every k, with X_hat(q) = (1 - (1 - q)^n) / n (m units: the expected number of the top m
slots in [0, q], over n). Its revenue, surplus and welfare are exact Stieltjes sums n sum_k x_k dR_k etc. The
LP maximises Pi + lam * U; the grid optimum is a lower bound of the true optimum that converges as the grid
is refined (the grid includes the distribution's atom edges and jumps, where the true optimum has breaks).

Nothing here imports ``mechanisms``: it is the reference the mechanisms are tested against.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats


def X_hat(q, n, m=1):
    """Border's bound: (1/n) E[# of the top m order statistics of n uniforms that are <= q]."""
    q = np.asarray(q, float)
    # sum_{j=1}^m P[U_(j) <= q] = sum_{j=1}^m P[Bin(n, q) >= j]
    return sum(stats.binom.sf(j - 1, n, q) for j in range(1, m + 1)) / n


def grid_for(dist, cells=600):
    g = np.concatenate([np.linspace(0, 1, cells + 1), np.geomspace(1e-6, 1, cells // 3)])
    for a, b, _ in dist.atoms_q():
        g = np.concatenate([g, [a, b]])
    g = np.concatenate([g, dist.jumps_q()])
    return np.unique(np.clip(g, 0, 1))


def setup(dist, n, m=1, cells=600):
    """Grid, cell increments dR, dS (one-sided limits inside each cell), the Border + monotonicity rows, and
    the jumps of v. At a jump q_c between cells k and k+1, R = q v jumps by dR_c < 0 (S by -dR_c); the
    allocation charged for it may be anything between x_{k+1} and x_k (the pool's bid at either end of the
    gap, ``docs/architecture.md``, "Gaps"), so each jump gets a variable z_c with x_{k+1} <= z_c <= x_k.
    Variables: x (K), z (J)."""
    g = grid_for(dist, cells)
    K = len(g) - 1
    dq = np.diff(g)
    eps = 1e-13  # inside a cell v is continuous; atoms and jumps sit on cell edges
    lo = np.minimum(g[:-1] + eps, g[1:])
    hi = np.maximum(g[1:] - eps, g[:-1])
    dR = np.asarray(dist.R(hi), float) - np.asarray(dist.R(lo), float)
    dS = np.asarray(dist.V(hi), float) - np.asarray(dist.V(lo), float) - dR
    jumps = [float(j) for j in dist.jumps_q() if 0 < j < 1]
    J = len(jumps)
    jR = np.array([j * (float(dist.v(min(j * (1 + 1e-12), 1.0))) - float(dist.v(j))) for j in jumps])
    rows, rhs = [], []
    border_rows = np.hstack([np.tril(np.ones((K, K))) * dq[None, :], np.zeros((K, J))])
    mono = np.zeros((K - 1, K + J))
    mono[np.arange(K - 1), np.arange(K - 1)] = -1
    mono[np.arange(K - 1), np.arange(1, K)] = 1
    for c, j in enumerate(jumps):
        k = int(np.argmin(np.abs(g - j)))  # the grid point at the jump: cell k-1 ends there, cell k starts
        row = np.zeros(K + J)
        row[K + c], row[k - 1] = 1, -1  # z <= x_{k-1}
        rows.append(row)
        row = np.zeros(K + J)
        row[K + c], row[k] = -1, 1  # x_k <= z
        rows.append(row)
        rhs += [0.0, 0.0]
    A = np.vstack([border_rows, mono] + ([np.array(rows)] if rows else []))
    b = np.concatenate([X_hat(g[1:], n, m), np.zeros(K - 1), rhs])
    dR_all = np.concatenate([dR, jR])
    dS_all = np.concatenate([dS, -jR])
    return g, dR_all, dS_all, A, b, K


def solve(dist, n, lam, m=1, cells=600):
    """max Pi + lam U over piecewise-constant feasible x; returns (Pi, U, x, grid)."""
    g, dR, dS, A, b, K = setup(dist, n, m, cells)
    res = optimize.linprog(-n * (dR + lam * dS), A_ub=A, b_ub=b, bounds=[(0, 1)] * len(dR), method="highs")
    assert res.status == 0, res.message
    return n * float(res.x @ dR), n * float(res.x @ dS), res.x[:K], g


def max_revenue(dist, n, m=1, cells=600):
    return solve(dist, n, 0.0, m, cells)[0]


def frontier_revenue_at(dist, n, U_target, m=1, cells=600):
    """max Pi subject to U >= U_target (Lemma 3.9's program), on the grid; None if infeasible."""
    g, dR, dS, A, b, K = setup(dist, n, m, cells)
    res = optimize.linprog(-n * dR, A_ub=np.vstack([A, -n * dS[None, :]]), b_ub=np.concatenate([b, [-U_target]]),
                           bounds=[(0, 1)] * len(dR), method="highs")
    return n * float(res.x @ dR) if res.status == 0 else None
