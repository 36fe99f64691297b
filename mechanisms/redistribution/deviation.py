"""Deviation searches: is truthful reporting a dominant strategy (DSIC), or a Bayesian equilibrium (BIC)?

Every mechanism here exposes ``allocation_transfers(reports) -> (Q, T)`` (draws x n arrays, T paid to the
agent), so agent i with value v_i who reports b gets u_i(b) = v_i Q_i(b, v_-i) + T_i(b, v_-i).

* ``dominance_gain``: on sampled profiles, for every agent and every misreport b of a grid, u_i(b) - u_i(v_i)
  with the others' reports held fixed. DSIC means no gain anywhere: the largest gain is reported (<= rounding).
* ``bayesian_gain``: for sampled types v_i of agent i and a grid of misreports, the interim gain
  E_{v_-i}[u_i(b) - u_i(v_i)] estimated on M simulated opponents (the same opponents for every b: common random
  numbers), with its standard error (floored at one unseen event's worth, max|u|/M, so that a change of
  allocation too rare to appear among M opponents is not read as a sure gain). BIC means no gain beyond noise:
  a violation is a gain above ``Z_VIOLATION`` standard errors (and above rounding).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: a Bayesian gain counts as a violation beyond this many standard errors
Z_VIOLATION = 4.0
#: gains below this (times the scale of the values) are rounding
ROUNDING = 1e-9


@dataclass(frozen=True)
class DeviationReport:
    """The largest gain found: by whom (agent index), with which true value and misreport; ``stderr`` of a
    Bayesian estimate (0 for dominance); ``violation`` whether it is beyond rounding / noise; ``checked``:
    how many (profile or type, agent, misreport) triples were tried."""

    gain: float
    stderr: float
    agent: int
    value: float
    misreport: float
    violation: bool
    checked: int


def dominance_gain(mech, values, grid, agents: int | None = None) -> DeviationReport:
    """Largest ex-post gain u_i(b, v_-i) - u_i(v_i, v_-i) over the profiles ``values`` (draws x n), the first
    ``agents`` agents (default all; with i.i.d. profiles agent 1 holds every rank alike) and every misreport b
    in ``grid`` (module doc)."""
    values = np.asarray(values, dtype=float)
    grid = np.asarray(grid, dtype=float)
    P, n = values.shape
    best = (-np.inf, 0, 0.0, 0.0)
    Q0, T0 = mech.allocation_transfers(values)
    for i in range(n if agents is None else min(n, agents)):
        truth = values[:, i] * Q0[:, i] + T0[:, i]
        reports = np.repeat(values[None, :, :], len(grid), axis=0)
        reports[:, :, i] = grid[:, None]
        Q, T = mech.allocation_transfers(reports.reshape(-1, n))
        u = (values[None, :, i] * Q[:, i].reshape(len(grid), P) + T[:, i].reshape(len(grid), P))
        gain = u - truth[None, :]
        g, p = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if gain[g, p] > best[0]:
            best = (float(gain[g, p]), i, float(values[p, i]), float(grid[g]))
    scale = max(1.0, float(np.max(np.abs(values))))
    return DeviationReport(best[0], 0.0, best[1], best[2], best[3], best[0] > ROUNDING * scale,
                           P * (n if agents is None else min(n, agents)) * len(grid))


def bayesian_gain(mech, types, opponents, grid, agent: int = 0) -> DeviationReport:
    """Largest interim gain of agent ``agent`` over ``types`` (her true values) and misreports ``grid``, each
    against the same simulated opponents ``opponents`` (M x (n-1), the others' values in order), with the
    standard error of the paired difference (module doc)."""
    opponents = np.asarray(opponents, dtype=float)
    grid = np.asarray(grid, dtype=float)
    M, n = opponents.shape[0], opponents.shape[1] + 1
    best = (-np.inf, 0.0, 0.0, 0.0, 0.0)  # (score = gain - Z stderr, gain, stderr, value, misreport)
    for v in np.asarray(types, dtype=float):
        bids = np.concatenate([[v], grid])
        reports = np.empty((len(bids), M, n))
        reports[:, :, :agent] = opponents[None, :, :agent]
        reports[:, :, agent + 1:] = opponents[None, :, agent:]
        reports[:, :, agent] = bids[:, None]
        Q, T = mech.allocation_transfers(reports.reshape(-1, n))
        u = (v * Q[:, agent] + T[:, agent]).reshape(len(bids), M)
        diff = u[1:] - u[:1]
        gain = diff.mean(axis=1)
        # a change of allocation too rare to be seen in M draws (no event: sample stderr 0) could still carry
        # a loss of up to max|u| per event: one such event's worth is the floor of the standard error
        floor = max(abs(v), float(np.max(np.abs(diff)))) / M
        err = np.sqrt(diff.var(axis=1, ddof=1) / M + floor ** 2)
        k = int(np.argmax(gain - Z_VIOLATION * err))
        if gain[k] - Z_VIOLATION * err[k] > best[0]:
            best = (float(gain[k] - Z_VIOLATION * err[k]), float(gain[k]), float(err[k]), float(v), float(grid[k]))
    scale = max(1.0, float(np.max(np.abs(opponents))))
    violation = best[0] > 0 and best[1] > ROUNDING * scale
    return DeviationReport(best[1], best[2], agent, best[3], best[4], violation,
                           len(np.atleast_1d(types)) * len(grid))


def interim_utility(mech, value: float, opponents, agent: int = 0) -> tuple[float, float]:
    """(mean, standard error) of agent ``agent``'s utility when she reports her value ``value`` truthfully against
    the simulated opponents (M x (n-1)): U_i(v) = v q_i(v) + t_i(v) (slides, "Payoffs")."""
    opponents = np.asarray(opponents, dtype=float)
    M = opponents.shape[0]
    reports = np.insert(opponents, agent, value, axis=1)
    Q, T = mech.allocation_transfers(reports)
    u = value * Q[:, agent] + T[:, agent]
    return float(u.mean()), float(u.std(ddof=1) / np.sqrt(M))
