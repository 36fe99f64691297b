"""Monte Carlo for any ex-post outcome computed with numpy (``docs/architecture.md`` "Statistics").

The families beyond i.i.d. single-item auctions (bid-based formats, two-sided trade, redistribution) describe
a mechanism by a vectorised ex-post rule: draws in, one number per draw and metric out. ``simulate_draws``
runs such a rule over fixed chunks: chunk i draws from ``default_rng(SeedSequence(seed, spawn_key=(i,)))``, the
chunk sizes depend only on (samples, chunk), and the summaries (``accumulate.Moments``, plus the minimum and
maximum of every metric over every draw) merge in chunk order: same seed, same numbers. Co-moments are kept
between rows of the same metric only (``paired``: mechanism a against b on one metric;
``kernels.moments.pair_comoments``). Ctrl-C keeps the chunks
finished so far (``partial``). The rows follow the output contract of ``result.SimulationResult``: a normal CI
and z only where the CI is valid (``ci_note`` says why not: too few samples, or a reason the caller gives, such
as a heavy tail), no NaN, +inf kept as inf.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from distributions.errors import InputError, InputTypeError

from .accumulate import Moments
from .diagnostics import MIN_CI_SAMPLES
from .output import json_value
from .result import finite_number, rounding_slack, z_score, z_value

FRAME_COLUMNS = ["mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high", "samples", "analytic", "z",
                 "min", "max", "ci_valid", "ci_note"]


@dataclass
class DrawResult:
    """Estimates of every (mechanism, metric) of an ex-post rule on the same draws (common random numbers)."""

    keys: list[tuple[str, str]]
    moments: Moments
    low: np.ndarray
    high: np.ndarray
    seed: int
    samples_requested: int
    confidence: float = 0.95
    analytic: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    partial: bool = False
    title: str = ""

    @property
    def samples(self) -> int:
        return int(self.moments.count)

    @property
    def mechanisms(self) -> list[str]:
        return list(dict.fromkeys(k[0] for k in self.keys))

    def _index(self, mechanism: str, metric: str) -> int:
        try:
            return self.keys.index((mechanism, metric))
        except ValueError:
            raise InputError("metric", f"no estimate of {metric!r} for {mechanism!r}; have "
                                       f"{', '.join(f'{a}/{b}' for a, b in self.keys)}") from None

    def estimate(self, mechanism: str, metric: str) -> tuple[float, float]:
        """(mean, standard error) over the draws."""
        i = self._index(mechanism, metric)
        return float(self.moments.mean[0, i]), float(self.moments.stderr[0, i])

    def minimum(self, mechanism: str, metric: str) -> float:
        """The smallest value over every draw (e.g. the budget: never negative?)."""
        return float(self.low[self._index(mechanism, metric)])

    def maximum(self, mechanism: str, metric: str) -> float:
        """The largest value over every draw."""
        return float(self.high[self._index(mechanism, metric)])

    def exact(self, mechanism: str, metric: str):
        raw = (self.analytic.get(mechanism) or {}).get(metric)
        return None if raw is None or math.isnan(float(raw)) else float(raw)

    def ci_note(self, mechanism: str, metric: str) -> str:
        """Why the normal CI of a row is not valid ("" when it is)."""
        given = (self.notes.get(mechanism) or {}).get(metric) or ""
        if given:
            return given
        if self.samples < MIN_CI_SAMPLES:
            return f"only {self.samples} samples (< {MIN_CI_SAMPLES}): no normal CI"
        return ""

    def z(self, mechanism: str, metric: str) -> float | None:
        """(estimate - exact) / stderr, None without an exact value or a valid CI."""
        return self.row(mechanism, metric)["z"]

    def row(self, mechanism: str, metric: str) -> dict:
        """One row of ``frame`` (None where undefined)."""
        i = self._index(mechanism, metric)
        est = finite_number(self.moments.mean[0, i]) if self.samples else None
        err = finite_number(self.moments.stderr[0, i]) if self.samples else None
        exact = self.exact(mechanism, metric)
        note = self.ci_note(mechanism, metric)
        valid = not note and est is not None and err is not None
        zcrit = z_value(self.confidence)
        lo, hi = (est - zcrit * err, est + zcrit * err) if valid else (None, None)
        z = z_score(est, err, finite_number(exact), self.samples) if valid else None
        if valid and z is None and finite_number(exact) is not None:
            note = (f"zero standard error, estimate - exact = {est - exact:.3g} beyond rounding "
                    f"({rounding_slack(exact, self.samples):.2g}): z undefined")
        return {"mechanism": mechanism, "metric": metric, "estimate": est, "stderr": err, "ci_low": lo,
                "ci_high": hi, "samples": self.samples, "analytic": exact, "z": z,
                "min": finite_number(self.low[i]) if self.samples else None,
                "max": finite_number(self.high[i]) if self.samples else None, "ci_valid": bool(valid), "ci_note": note}

    @property
    def frame(self) -> pd.DataFrame:
        """One row per (mechanism, metric): FRAME_COLUMNS; missing values NaN here, None in JSON."""
        rows = [self.row(a, b) for a, b in self.keys]
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        return frame.astype({c: float for c in FRAME_COLUMNS[2:-2] if c != "samples"})

    def paired(self, a: str, b: str, metric: str) -> dict:
        """Paired difference a - b of one metric on the same draws, with its CI where both rows have one (the
        co-moments of rows of the same metric are kept, module doc)."""
        ia, ib = self._index(a, metric), self._index(b, metric)
        est, err = self.moments.difference(0, ia, ib)
        note = self.ci_note(a, metric) or self.ci_note(b, metric)
        zc = z_value(self.confidence)
        lo, hi = (est - zc * err, est + zc * err) if not note else (None, None)
        return {"a": a, "b": b, "metric": metric, "estimate": est, "stderr": err, "ci_low": lo, "ci_high": hi,
                "ci_valid": not note, "ci_note": note}

    def differences(self, metric: str) -> pd.DataFrame:
        """Paired differences between every pair of mechanisms that report ``metric``."""
        names = [m for m in self.mechanisms if (m, metric) in self.keys]
        return pd.DataFrame([self.paired(a, b, metric) for a, b in combinations(names, 2)])

    def to_dict(self) -> dict:
        """JSON-ready (``output.json_value``): None where undefined, "inf" for an infinite exact value."""
        out = {"title": self.title, "samples": self.samples, "samples_requested": int(self.samples_requested),
               "seed": int(self.seed), "confidence": self.confidence, "partial": bool(self.partial),
               "results": [self.row(a, b) for a, b in self.keys]}
        return json_value(out)

    def __str__(self) -> str:
        cols = ["mechanism", "metric", "estimate", "stderr", "ci_low", "ci_high", "analytic", "z", "min", "max",
                "ci_note"]
        with pd.option_context("display.max_rows", None, "display.width", 200):
            text = self.frame[cols].to_string(index=False, na_rep="-")
        head = (f"{self.title}{', ' if self.title else ''}{self.samples} samples, seed {self.seed}"
                + (" (PARTIAL: interrupted)" if self.partial else ""))
        return head + "\n" + text


def _flatten(out, size: int, keys=None) -> tuple[list, np.ndarray]:
    """The outcome's mapping mechanism -> metric -> array as (keys, matrix[draw, key]), checked."""
    if not isinstance(out, dict):
        raise InputTypeError("outcome", f"must return a dict mechanism -> metric -> array, got {type(out).__name__}")
    found = [(a, b) for a, metrics in out.items() for b in metrics]
    if keys is not None and found != keys:
        raise InputError("outcome", f"returned different keys in a later chunk: {found} vs {keys}")
    cols = []
    for a, b in found:
        x = np.asarray(out[a][b], dtype=np.float64)
        if x.shape != (size,):
            raise InputError("outcome", f"{a}/{b}: expected {size} values, got shape {x.shape}")
        if np.isnan(x).any():
            raise InputError("outcome", f"{a}/{b}: NaN in the per-draw values (a bug in the ex-post rule)")
        cols.append(x)
    return found, np.column_stack(cols) if cols else np.zeros((size, 0))


def same_metric_pairs(keys) -> tuple[np.ndarray, np.ndarray]:
    """The (i, j), j <= i, of keys with the same metric: the co-moments that paired differences use."""
    pairs = [(i, j) for i, (_, a) in enumerate(keys) for j, (_, b) in enumerate(keys[:i + 1]) if a == b]
    return np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64)


def _summary(x: np.ndarray, pairs):
    """The chunk's mean (1, K) and co-moments (1, K, K), the latter only between keys of the same metric."""
    from ..kernels.moments import pair_comoments

    mean = x.mean(axis=0)
    d = np.ascontiguousarray(x - mean)
    first, second = pairs
    comoment = np.zeros((1, x.shape[1], x.shape[1]))
    values = pair_comoments(d, first, second)
    comoment[0, first, second] = values
    comoment[0, second, first] = values
    return mean[None, :], comoment


def _check(samples, seed, chunk, confidence) -> tuple[int, int, int]:
    for name, value, low in (("samples", samples, 1), ("chunk", chunk, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InputError(name, f"must be a whole number >= {low}, got {value!r}")
    if not (isinstance(confidence, (int, float)) and 0 < confidence < 1):
        raise InputError("confidence", f"must lie in (0, 1), got {confidence!r}")
    return int(samples), int(seed), int(chunk)


def simulate_draws(outcome, *, samples: int, seed: int = 0, exact: dict | None = None,
                   confidence: float = 0.95, chunk: int = 1 << 16, progress: bool = False,
                   notes: dict | None = None, title: str = "") -> DrawResult:
    """Estimate every metric of ``outcome(rng, size) -> {mechanism: {metric: per-draw array}}`` (module doc)."""
    samples, seed, chunk = _check(samples, seed, chunk, confidence)
    sizes = [chunk] * (samples // chunk) + ([samples % chunk] if samples % chunk else [])
    keys, moments, low, high = None, None, None, None
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=samples, unit="draw", leave=False)
    partial = False
    try:
        for i, size in enumerate(sizes):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))
            keys, x = _flatten(outcome(rng, size), size, keys)
            if moments is None:
                moments = Moments.empty(1, len(keys))
                pairs = same_metric_pairs(keys)
                low, high = np.full(len(keys), np.inf), np.full(len(keys), -np.inf)
            mean, comoment = _summary(x, pairs)
            moments.merge(size, mean, comoment)
            low, high = np.minimum(low, x.min(axis=0)), np.maximum(high, x.max(axis=0))
            if bar is not None:
                bar.update(size)
    except KeyboardInterrupt:
        partial = True
        if moments is None:
            raise
    finally:
        if bar is not None:
            bar.close()
    return DrawResult(keys, moments, low, high, seed, samples, confidence, dict(exact or {}), dict(notes or {}),
                      partial, title)
