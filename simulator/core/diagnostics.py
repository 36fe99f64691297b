"""When normal confidence intervals are not meaningful (``docs/architecture.md`` "Statistics": heavy tails, small
samples). One classification, ``ci_note``, decides each row's ``ci_valid`` / ``ci_note`` in
``SimulationResult.frame`` and the warning lines of the run (``ci_warnings``), so the two always agree.

The CLT behind the normal CI needs a finite variance. With a power tail Pr[v >= x] ~ x^-alpha, the value of a
buyer has infinite variance for alpha <= 2 (infinite mean for alpha <= 1), and so do welfare and buyers'
surplus (they contain the top value). The payment of an m-unit auction is at most the (m+1)-th highest value
whenever more than m buyers bid (or a pool's fixed bid), and that order statistic has tail index (m+1) alpha:
revenue loses its variance only when (m+1) alpha <= 2 (with n <= m every buyer wins and pays a bounded price).
Units sold are bounded (0..m). Small samples: below ``MIN_CI_SAMPLES`` auctions the standard error itself is too
noisy for a normal CI (the Student and skewness corrections are no longer negligible), so no CI is given.
"""
from __future__ import annotations

import math

from distributions.tails import tail_index

__all__ = ["tail_index", "MIN_CI_SAMPLES", "metric_tail_index", "ci_note", "ci_warnings", "heavy_tail_warnings"]

#: fewest auctions behind a normal CI: below it every row is flagged (with 30 draws t_{0.975, 29} = 2.05 vs
#: 1.96, a 4% wider interval, and the skewness of a bounded metric still shifts coverage by ~1 point)
MIN_CI_SAMPLES = 30
#: relative slack on the thresholds alpha = 1, 2: tail_index reads alpha off logarithms (Pareto 2 gives 2 +- 1e-15)
TAIL_SLACK = 1e-9


def metric_tail_index(alpha: float, n: float, m: int, metric: str) -> float:
    """Tail index of one metric of an m-unit mechanism among n buyers with values of tail index alpha:
    alpha for surplus and welfare (they contain the top value), (m+1) alpha for revenue when n > m (the
    (m+1)-th highest value bounds every payment; ``distributions.tails``), inf for revenue when n <= m and for
    units sold (bounded)."""
    if metric in ("surplus", "welfare"):
        return alpha
    if metric == "revenue" and n > m:
        return (m + 1) * alpha
    return math.inf


def _heavy_note(tail: float) -> str:
    if tail <= 1.0 + TAIL_SLACK:
        return f"infinite mean: tail index {tail:.3g} <= 1"
    if tail <= 2.0 + TAIL_SLACK:
        return f"infinite variance: tail index {tail:.3g} <= 2"
    return ""


def ci_note(alpha: float, n: float, m: int, metric: str, samples: int) -> str:
    """Why the normal CI of one row (metric of an m-unit mechanism, n buyers, tail index alpha, ``samples``
    auctions) is not valid; "" when it is. Heavy tails first (no sample size helps), then small samples."""
    note = _heavy_note(metric_tail_index(alpha, n, m, metric))
    if note:
        return note
    if samples < MIN_CI_SAMPLES:
        return f"too few samples ({samples}) for a normal CI (needs >= {MIN_CI_SAMPLES})"
    return ""


def heavy_tail_warnings(dist, n, units: dict[str, int]) -> list[str]:
    """Warnings for the output: which estimates have no finite variance (``units``: mechanism -> m)."""
    return ci_warnings(tail_index(dist), n, units, MIN_CI_SAMPLES)


def ci_warnings(alpha: float, n, units: dict[str, int], samples: int) -> list[str]:
    """The warning lines of a run, from the same ``ci_note`` as the rows: one per (metric group, note), naming
    the mechanisms; one line for too few samples."""
    lines: dict[str, list[str]] = {}
    for metric in ("welfare", "revenue"):  # surplus has the tail of welfare
        for name, m in units.items():
            note = _heavy_note(metric_tail_index(alpha, n, m, metric))
            if note:
                lines.setdefault(f"{metric}|{note}", []).append(name)
    out = []
    for key, names in lines.items():  # welfare lines first (insertion order)
        metric, note = key.split("|", 1)
        if metric == "welfare":
            out.append(f"welfare and surplus: {note} (the top value): their normal confidence intervals are "
                       "not meaningful and are not given")
        else:
            out.append(f"revenue of {', '.join(names)}: {note} (the (m+1)-th highest value): its normal "
                       "confidence intervals are not meaningful and are not given")
    if samples < MIN_CI_SAMPLES:
        out.append(f"too few samples ({samples}) for a normal CI (needs >= {MIN_CI_SAMPLES}): no confidence "
                   "intervals are given")
    return out
