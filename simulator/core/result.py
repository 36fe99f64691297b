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
from .diagnostics import ci_note
from .output import json_safe
from ..kernels.profile import METRICS

#: the benchmark each metric is compared with: W/OPT, Pi/Pi*, U/U* (``mechanisms.benchmarks``)
BENCHMARK_OF = {"revenue": "revenue_max", "surplus": "surplus_max", "welfare": "opt"}
#: relative accuracy of an exact value (quadratures, ~1e-10) with a margin: an estimate with zero standard
#: error (a constant metric) within EXACT_RTOL * max(1, |exact|) of it has z = 0 and its CI contains it
EXACT_RTOL = 1e-9
#: double-precision unit roundoff: the mean of S floats carries a rounding error up to ~S * EPS relative
EPS = float(np.finfo(float).eps)


#: the columns of ``SimulationResult.frame``; JSON rows (``to_dict``) carry JSON_KEYS
FRAME_COLUMNS = ["mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high", "samples", "analytic", "z",
                 "benchmark", "ratio", "ratio_ci_low", "ratio_ci_high", "ci_valid", "ci_note"]
JSON_KEYS = ("mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high", "analytic", "z", "ratio",
             "ci_valid", "ci_note")


def z_value(confidence: float) -> float:
    """Two-sided normal critical value for the confidence level."""
    return float(stats.norm.ppf(0.5 + 0.5 * confidence))


def rounding_slack(exact: float, samples: int = 1) -> float:
    """How far a simulated mean may sit from an exact value by rounding alone: max(EXACT_RTOL, S * EPS) *
    max(1, |exact|) (quadrature accuracy of the exact value; summation error of a mean of S floats, which
    only dominates beyond S ~ 4.5e6). Absolute below 1, so 0 vs 1e-30 (surplus at n = 1e30) is rounding."""
    return max(EXACT_RTOL, samples * EPS) * max(1.0, abs(float(exact)))


def finite_number(x) -> float | None:
    """x as a finite float, or None (None, NaN, +-inf)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def ci_contains(lo, hi, exact, samples: int = 1) -> bool | None:
    """Whether the CI [lo, hi] contains the exact value, up to ``rounding_slack`` (a zero-width CI of a
    constant metric contains a quadrature that agrees to rounding). None when there is no CI or no exact
    value. The single definition behind ``SimulationResult`` and ``simulator.paper.reproduce``."""
    lo, hi, exact = finite_number(lo), finite_number(hi), finite_number(exact)
    if lo is None or hi is None or exact is None:
        return None
    slack = rounding_slack(exact, samples)
    return bool(lo - slack <= exact <= hi + slack)


def z_score(estimate, stderr, exact, samples: int = 1) -> float | None:
    """(estimate - exact) / stderr (``docs/architecture.md`` "Statistics"; tests accept |z| < 4). With zero
    stderr: 0 when the two agree within ``rounding_slack``, else None (z = +-inf is no number to print).
    None when anything is missing. Never NaN."""
    estimate, stderr, exact = finite_number(estimate), finite_number(stderr), finite_number(exact)
    if estimate is None or stderr is None or exact is None:
        return None
    if stderr > 0:
        return finite_number((estimate - exact) / stderr)
    return 0.0 if abs(estimate - exact) <= rounding_slack(exact, samples) else None


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
    tail_index: float = math.inf  # of the values (``diagnostics``): which rows have a valid normal CI
    metrics: tuple = METRICS  # several classes add surplus[k], win[k] (``kernels.classes.metric_names``)
    classes: list | None = None  # several classes: [{"class", "count", "distribution"}], in the JSON

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
        g, k = self.metrics.index(metric), self._index(mechanism)
        return float(self.moments.mean[g, k]), float(self.moments.stderr[g, k])

    def ci_note(self, mechanism, metric: str) -> str:
        """Why the normal CI of a row is not valid ("" when it is): heavy tail or too few samples
        (``diagnostics.ci_note``, the same rule as the warnings); surplus[k] has the tail of surplus, win[k] is
        bounded."""
        return ci_note(self.tail_index, float(self.n), self.units[self._index(mechanism)], metric.partition("[")[0],
                       self.samples)

    def _row(self, k: int, g: int, zcrit: float) -> dict:
        """One row of ``frame``: a CI and z only where the normal CI is valid; None where undefined."""
        name, metric = self.mechanisms[k], self.metrics[g]
        est = finite_number(self.moments.mean[g, k]) if self.samples else None
        err = finite_number(self.moments.stderr[g, k])
        raw = (self.analytic.get(name) or {}).get(metric)
        analytic = None if raw is None or math.isnan(float(raw)) else float(raw)  # +inf stays: printed as inf
        exact = finite_number(raw)
        note = self.ci_note(k, metric)
        valid = not note and est is not None and err is not None
        lo, hi = (est - zcrit * err, est + zcrit * err) if valid else (None, None)
        z = z_score(est, err, exact, self.samples) if valid else None
        if valid and z is None and exact is not None:
            note = (f"zero standard error, estimate - exact = {est - exact:.3g} beyond rounding "
                    f"({rounding_slack(exact, self.samples):.2g}): z undefined")
        b = finite_number((self.benchmarks.get(self.units[k]) or {}).get(BENCHMARK_OF.get(metric))) or None

        def ratio(x):
            return None if x is None or b is None else finite_number(x / b)

        return {"mechanism": name, "metric": metric, "estimate": est, "stderr": err, "ci_low": lo, "ci_high": hi,
                "samples": self.samples, "analytic": analytic, "z": z, "benchmark": b, "ratio": ratio(est),
                "ratio_ci_low": ratio(lo), "ratio_ci_high": ratio(hi), "ci_valid": bool(valid), "ci_note": note}

    @property
    def frame(self) -> pd.DataFrame:
        """Columns: mechanism, metric, estimate, stderr, ci_low, ci_high, samples, analytic, z (``z_score``),
        benchmark (OPT, Pi* or U* for the mechanism's m), ratio, ratio_ci_low, ratio_ci_high (estimate and CI
        divided by the benchmark), ci_valid, ci_note (why not valid, ``diagnostics.ci_note``; "" when valid).
        Rows whose normal CI is not valid have no CI and no z; missing values are NaN here, None in JSON."""
        zcrit = z_value(self.confidence)
        rows = [self._row(k, g, zcrit) for k in range(len(self.mechanisms)) for g in range(len(self.metrics))]
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        return frame.astype({col: float for col in FRAME_COLUMNS[2:-2] if col != "samples"})

    def paired(self, a, b, metric: str = "revenue") -> dict:
        """Paired difference a - b of one metric on the same draws (common random numbers): estimate, stderr,
        CI; far tighter than the difference of two independent estimates. No CI (ci_valid False, ci_note why)
        when either side's CI is not valid."""
        g, ia, ib = self.metrics.index(metric), self._index(a), self._index(b)
        est, err = self.moments.difference(g, ia, ib)
        note = self.ci_note(ia, metric) or self.ci_note(ib, metric)
        z = z_value(self.confidence)
        lo, hi = (est - z * err, est + z * err) if not note else (None, None)
        return {"a": self.mechanisms[ia], "b": self.mechanisms[ib], "metric": metric, "estimate": est,
                "stderr": err, "ci_low": lo, "ci_high": hi, "ci_valid": not note, "ci_note": note}

    def differences(self, metrics=("revenue", "surplus", "welfare")) -> pd.DataFrame:
        """Paired differences between every pair of mechanisms, for each metric."""
        rows = [self.paired(a, b, metric) for metric in metrics
                for a, b in combinations(range(len(self.mechanisms)), 2)]
        return pd.DataFrame(rows, columns=["a", "b", "metric", "estimate", "stderr", "ci_low", "ci_high", "ci_valid",
                                           "ci_note"])

    def relative_halfwidth(self, metric: str = "revenue") -> np.ndarray:
        """CI half-width / |estimate| per mechanism (0 where both are 0, inf where only the estimate is)."""
        g = self.metrics.index(metric)
        half = z_value(self.confidence) * self.moments.stderr[g]
        est = np.abs(self.moments.mean[g])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(half == 0, 0.0, half / est)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict:
        """The JSON object of ``docs/architecture.md``; each row also carries z, ratio, ci_valid and ci_note
        (``JSON_KEYS``), None where undefined (no NaN)."""
        n = int(self.n) if float(self.n).is_integer() and abs(self.n) < 2 ** 63 else float(self.n)
        zcrit = z_value(self.confidence)
        results = [{key: row[key] for key in JSON_KEYS}
                   for row in (self._row(k, g, zcrit) for k in range(len(self.mechanisms))
                               for g in range(len(self.metrics)))]
        out = {"distribution": self.distribution, "n": n, "samples": self.samples, "seed": int(self.seed),
               "results": results, "mode": self.mode, "confidence": self.confidence,
               "samples_requested": int(self.samples_requested), "partial": bool(self.partial),
               "warnings": list(self.warnings)}
        if self.classes is not None:
            out["classes"] = [dict(c) for c in self.classes]
        if len(set(self.units)) == 1 and self.benchmarks.get(self.units[0]):
            out["benchmarks"] = dict(self.benchmarks[self.units[0]])
        return json_safe(out)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        cols = ["mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high", "analytic", "z", "ratio", "ci_note"]
        with pd.option_context("display.max_rows", None, "display.width", 200):
            text = self.frame[cols].to_string(index=False, na_rep="-")
        head = (f"{self.distribution}, n = {self.n:g}, {self.samples} samples, seed {self.seed}"
                + (" (PARTIAL: interrupted)" if self.partial else ""))
        return "\n".join([head, text] + [f"warning: {w}" for w in self.warnings])
