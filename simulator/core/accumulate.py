"""Streaming moments of the per-auction metrics: merged chunk by chunk in chunk order (constant memory).

``docs/architecture.md`` "Statistics": per chunk the kernels return the mean vector and the co-moment matrix
C = sum (x - mean)(x - mean)^T of each metric across the K mechanisms (one draw of each market feeds every
mechanism, so the off-diagonal terms give paired-difference confidence intervals). Two summaries merge exactly
by Chan, Golub & LeVeque (1979):

    n = n_a + n_b,  delta = mean_b - mean_a,  mean = mean_a + delta n_b / n,
    C = C_a + C_b + delta delta^T n_a n_b / n.

Merging always happens in chunk order, so the result is the same whatever the threads or the backend.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: relative size of the rounding noise of the streaming co-moments (a constant metric has variance ~1e-32)
ROUNDING = 1e-13


@dataclass
class Moments:
    """count, mean[metric, mechanism] and co-moments comoment[metric, mechanism, mechanism] of a sample."""

    count: int
    mean: np.ndarray
    comoment: np.ndarray

    @classmethod
    def empty(cls, n_metrics: int, n_mechanisms: int) -> "Moments":
        return cls(0, np.zeros((n_metrics, n_mechanisms)), np.zeros((n_metrics, n_mechanisms, n_mechanisms)))

    def merge(self, count: int, mean: np.ndarray, comoment: np.ndarray) -> None:
        """Add a chunk's summary (Chan et al.), in place."""
        if count <= 0:
            return
        if self.count == 0:
            self.count, self.mean, self.comoment = int(count), mean.copy(), comoment.copy()
            return
        total = self.count + count
        delta = mean - self.mean
        self.comoment = (self.comoment + comoment
                         + delta[:, :, None] * delta[:, None, :] * (self.count * count / total))
        self.mean = self.mean + delta * (count / total)
        self.count = total

    def merged(self, counts, means, comoments) -> "Moments":
        """A new summary: this one plus chunks b = 0, 1, ... in order (self is left untouched, so an
        interruption never leaves a half-merged summary behind)."""
        out = Moments(self.count, self.mean.copy(), self.comoment.copy())
        for b in range(len(counts)):
            out.merge(int(counts[b]), means[b], comoments[b])
        return out

    # ------------------------------------------------------------------ estimators
    @property
    def covariance(self) -> np.ndarray:
        """Sample covariance matrices (unbiased, divisor count - 1), one per metric."""
        if self.count < 2:
            return np.full(self.comoment.shape, np.nan)
        return self.comoment / (self.count - 1)

    @property
    def variance(self) -> np.ndarray:
        """Sample variance of each metric and mechanism; 0 where it is at the rounding level of a constant
        metric (below (ROUNDING * mean)^2), so that a constant outcome gets a zero standard error."""
        var = np.diagonal(self.covariance, axis1=1, axis2=2).copy()
        return np.where(var <= (ROUNDING * self.mean) ** 2, 0.0, var)

    @property
    def stderr(self) -> np.ndarray:
        """Standard error of each mean: sqrt(variance / count)."""
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.maximum(self.variance, 0.0) / max(self.count, 1))

    def difference(self, metric: int, a: int, b: int) -> tuple[float, float]:
        """Mean and standard error of the paired difference (mechanism a - mechanism b) of one metric."""
        cov = self.covariance[metric]
        var = cov[a, a] + cov[b, b] - 2.0 * cov[a, b]
        if var <= ROUNDING * (cov[a, a] + cov[b, b]):  # identical outcomes: rounding noise only
            var = 0.0
        return float(self.mean[metric, a] - self.mean[metric, b]), float(np.sqrt(max(var, 0.0) / self.count))
