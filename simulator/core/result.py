"""The result of a simulation: estimates, normal CIs, exact values, z-scores, benchmark ratios, paired
differences; a tidy DataFrame and the JSON of ``docs/architecture.md`` ("Command line")."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from .accumulate import Moments
from .output import json_safe
from ..kernels.profile import METRICS

#: the benchmark each metric is compared with: W/OPT, Pi/Pi*, U/U* (``mechanisms.benchmarks``)
BENCHMARK_OF = {"revenue": "revenue_max", "surplus": "surplus_max", "welfare": "opt"}


def z_value(confidence: float) -> float:
    """Two-sided normal critical value for the confidence level."""
    return float(stats.norm.ppf(0.5 + 0.5 * confidence))


@dataclass
class SimulationResult:
    """Monte Carlo estimates of revenue, buyers' surplus, welfare and units sold of several mechanisms on the
    same draws. ``frame`` is the tidy table (one row per mechanism and metric); ``to_json()`` the CLI JSON."""

    distribution: str
    n: float
    seed: int
    mechanisms: list[str]
    units: list[int]
    moments: Moments
    confidence: float = 0.95
    mode: str = "profile"
    samples_requested: int = 0
    analytic: dict = field(default_factory=dict)  # mechanism -> {metric: exact value or None}
    benchmarks: dict = field(default_factory=dict)  # m -> {"opt", "revenue_max", "surplus_max"}
    partial: bool = False
    warnings: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    # ------------------------------------------------------------------ estimates
    @property
    def samples(self) -> int:
        """Number of auctions the estimates rest on."""
        return int(self.moments.count)

    def _index(self, mechanism) -> int:
        if isinstance(mechanism, (int, np.integer)):
            return int(mechanism)
        return self.mechanisms.index(mechanism)

    def estimate(self, mechanism, metric: str = "revenue") -> tuple[float, float]:
        """(estimate, standard error) of one mechanism's metric."""
        g, k = METRICS.index(metric), self._index(mechanism)
        return float(self.moments.mean[g, k]), float(self.moments.stderr[g, k])

    @property
    def frame(self) -> pd.DataFrame:
        """Columns: mechanism, metric, estimate, stderr, ci_low, ci_high, samples, analytic, z (=(estimate -
        analytic)/stderr), benchmark (OPT, Pi* or U* for the mechanism's m), ratio, ratio_ci_low,
        ratio_ci_high (estimate and CI divided by the benchmark)."""
        z = z_value(self.confidence)
        mean, se = self.moments.mean, self.moments.stderr
        rows = []
        for k, name in enumerate(self.mechanisms):
            bench = self.benchmarks.get(self.units[k]) or {}
            for g, metric in enumerate(METRICS):
                est, err = float(mean[g, k]), float(se[g, k])
                exact = (self.analytic.get(name) or {}).get(metric)
                exact = np.nan if exact is None else float(exact)
                with np.errstate(divide="ignore", invalid="ignore"):
                    zscore = (est - exact) / err if err > 0 else (0.0 if est == exact else np.nan)
                b = bench.get(BENCHMARK_OF.get(metric))
                b = np.nan if b is None or not b else float(b)
                rows.append({"mechanism": name, "metric": metric, "estimate": est, "stderr": err,
                             "ci_low": est - z * err, "ci_high": est + z * err, "samples": self.samples,
                             "analytic": exact, "z": zscore, "benchmark": b, "ratio": est / b,
                             "ratio_ci_low": (est - z * err) / b, "ratio_ci_high": (est + z * err) / b})
        return pd.DataFrame(rows)

    def paired(self, a, b, metric: str = "revenue") -> dict:
        """Paired difference a - b of one metric on the same draws (common random numbers): estimate, stderr,
        CI; far tighter than the difference of two independent estimates."""
        g = METRICS.index(metric)
        est, err = self.moments.difference(g, self._index(a), self._index(b))
        z = z_value(self.confidence)
        return {"a": self.mechanisms[self._index(a)], "b": self.mechanisms[self._index(b)], "metric": metric,
                "estimate": est, "stderr": err, "ci_low": est - z * err, "ci_high": est + z * err}

    def differences(self, metrics=("revenue", "surplus", "welfare")) -> pd.DataFrame:
        """Paired differences between every pair of mechanisms, for each metric."""
        rows = [self.paired(a, b, metric) for metric in metrics
                for a, b in combinations(range(len(self.mechanisms)), 2)]
        return pd.DataFrame(rows, columns=["a", "b", "metric", "estimate", "stderr", "ci_low", "ci_high"])

    def relative_halfwidth(self, metric: str = "revenue") -> np.ndarray:
        """CI half-width / |estimate| per mechanism (0 where both are 0, inf where only the estimate is)."""
        g = METRICS.index(metric)
        half = z_value(self.confidence) * self.moments.stderr[g]
        est = np.abs(self.moments.mean[g])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(half == 0, 0.0, half / est)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict:
        """The JSON object of ``docs/architecture.md``; extra keys only at the top level."""
        n = int(self.n) if float(self.n).is_integer() and abs(self.n) < 2 ** 63 else float(self.n)
        results = [{key: row[key] for key in ("mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high")}
                   | {"analytic": None if math.isnan(row["analytic"]) else row["analytic"]}
                   for row in self.frame.to_dict("records")]
        out = {"distribution": self.distribution, "n": n, "samples": self.samples, "seed": int(self.seed),
               "results": results, "mode": self.mode, "confidence": self.confidence,
               "samples_requested": int(self.samples_requested), "partial": bool(self.partial),
               "warnings": list(self.warnings)}
        if len(set(self.units)) == 1 and self.benchmarks.get(self.units[0]):
            out["benchmarks"] = dict(self.benchmarks[self.units[0]])
        return json_safe(out)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        cols = ["mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high", "analytic", "z", "ratio"]
        with pd.option_context("display.max_rows", None, "display.width", 160):
            text = self.frame[cols].to_string(index=False)
        head = (f"{self.distribution}, n = {self.n:g}, {self.samples} samples, seed {self.seed}"
                + (" (PARTIAL: interrupted)" if self.partial else ""))
        return "\n".join([head, text] + [f"warning: {w}" for w in self.warnings])
