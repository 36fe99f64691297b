"""Figures of studies, for the commands and for a notebook:

    from simulator.studies import plots
    fig = plots.sweep(frame, metrics=("welfare",), y="ratio")     # a tidy sweep frame (or its CSV, read back)
    fig = plots.frontier(Frontier(Market.iid("lomax:shape=3", 3)))  # the frontier with the three solutions
    plots.save(fig, "figure.png")                                 # atomically; or display ``fig`` in Jupyter

Each function returns a ``matplotlib.figure.Figure`` that belongs to no pyplot state (importing this module
loads no matplotlib; nothing global changes). ``sweep`` draws one panel per metric: exact values as lines,
simulated estimates as markers with their CI error bars (capped, drawn above the lines), a log x axis for n
(or any log-spaced axis), and the legend below the panels, where it covers no data.
"""
from __future__ import annotations

import math
import re

#: the y label of each metric, as a ratio to its benchmark and as a value
RATIO_LABEL = {"revenue": "revenue / Π*", "surplus": "buyers' surplus / U*", "welfare": "welfare / OPT",
               "sold": "units sold"}
VALUE_LABEL = {"revenue": "revenue Π", "surplus": "buyers' surplus U", "welfare": "welfare W",
               "sold": "units sold"}
MARKERS = "osD^vP*Xh<>"
#: legend rows below the panels, in inches each
LEGEND_ROW_IN = 0.24


def _columns(y: str, metric: str) -> tuple[str, str, str, str]:
    """(exact, estimate, ci low, ci high) columns of a tidy frame for ``y`` ("ratio" or "value")."""
    if y == "ratio" and metric != "sold":
        return "exact_ratio", "ratio", "ratio_ci_low", "ratio_ci_high"
    return "exact", "estimate", "ci_low", "ci_high"


def _series(frame, by: str | None) -> list:
    """(label, rows) of each line: one per mechanism, and per value of the second axis ``by``."""
    out = []
    for mech in dict.fromkeys(frame["mechanism"]):
        g = frame[frame["mechanism"] == mech]
        if by is None:
            out.append((str(mech), g))
        else:
            out += [(f"{mech}, {by} = {v:g}" if isinstance(v, float) else f"{mech}, {by} = {v}", g[g[by] == v])
                    for v in dict.fromkeys(g[by])]
    return out


def _style(label: str, i: int, paper: bool = True):
    """(colour, marker) of a series: the paper's colours for the bargaining solutions (``paper``: one series
    per mechanism), tab10 otherwise."""
    from ..paper.plots import SOLUTION_STYLE, tab10

    head = label.split(",")[0]
    if paper and head in SOLUTION_STYLE:
        _, color, marker = SOLUTION_STYLE[head]
        return color, marker
    return tab10(10)[i % 10], MARKERS[i % len(MARKERS)]


def _number(v) -> float:
    """A cell as a float for a line: NaN where there is no finite number (matplotlib breaks the line there)."""
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return math.nan
    return float(v)


def _finite(xs, *cols):
    """The rows where x and every column are finite numbers."""
    keep = [all(v is not None and isinstance(v, (int, float)) and math.isfinite(v) for v in vals)
            for vals in zip(*cols)]
    return [[c[i] for i in range(len(keep)) if keep[i]] for c in (xs, *cols)]


def draw_series(ax, xs, g, metric: str, y: str, color, marker, label: str) -> None:
    """One series on ``ax``: the exact line, and the simulated points with CI error bars (points without a
    valid CI as hollow markers)."""
    ex, est, lo, hi = _columns(y, metric)
    rows = g.to_dict("records")
    ys = [_number(r.get(ex)) for r in rows]
    if any(math.isfinite(v) for v in ys):  # a point without an exact value breaks the line (NaN)
        ax.plot(xs, ys, "-", color=color, lw=1.4, marker=marker, ms=3, label=f"{label} (exact)")
    valid = [r for r in rows if r.get("ci_valid") is True]
    pts = _finite([xs[i] for i, r in enumerate(rows) if r.get("ci_valid") is True],
                  [r.get(est) for r in valid], [r.get(lo) for r in valid], [r.get(hi) for r in valid])
    if pts[0]:
        e = [[m - a for m, a in zip(pts[1], pts[2])], [b - m for m, b in zip(pts[1], pts[3])]]
        ax.errorbar(pts[0], pts[1], yerr=e, fmt=marker, color=color, mfc="white", ms=6, mew=1.4, capsize=4,
                    elinewidth=1.4, capthick=1.4, zorder=4, label=f"{label} (simulated, CI)")
    nov = _finite([xs[i] for i, r in enumerate(rows) if r.get("ci_valid") is False],
                  [r.get(est) for r in rows if r.get("ci_valid") is False])
    if nov[0]:
        ax.plot(nov[0], nov[1], marker, color=color, mfc="none", ms=7, ls="none", zorder=4,
                label=f"{label} (simulated, no valid CI)")


def sweep(frame, x: str | None = None, metrics=("welfare",), y: str = "ratio", by: str | None = None,
          title: str = "", logx: bool | None = None, width: float = 6.0, height: float = 4.4,
          residuals: bool | None = None):
    """A tidy sweep frame (``SweepResult.frame``, or its CSV read back) as a figure: one column of panels per
    metric, x = the first axis (``x``), one line per mechanism and value of the second axis (``by``). ``y``:
    "ratio" (to the metric's benchmark: Π*, U*, OPT) or "value". ``logx``: default for n and log-spaced axes.
    ``residuals`` (default: when some point is simulated and exact): a lower panel of simulated - exact with
    the CIs, where error bars too small to see against the values are visible and zero is the exact value."""
    from ..paper.plots import new_figure

    axes_names = list(frame.attrs.get("axes", []))
    x = x or (axes_names[0] if axes_names else "n")
    if by is None and len(axes_names) > 1:
        by = next(a for a in axes_names if a != x)
    if logx is None:
        logx = x in frame.attrs.get("log_axes", ["n"])
    if residuals is None:
        residuals = bool(((frame["ci_valid"] == True) & frame["exact"].notna()).any())  # noqa: E712
    metrics = list(metrics)
    rows = 2 if residuals else 1
    fig, panels = new_figure((width * len(metrics), height + (1.8 if residuals else 0)), rows, len(metrics),
                             squeeze=False, sharex="col", gridspec_kw={"height_ratios": [3, 1.3][:rows]})
    series = _series(frame, by)
    categorical = any(isinstance(v, str) for v in frame[x])
    ticks = list(dict.fromkeys(frame[x])) if categorical else None
    for j, metric in enumerate(metrics):
        for i, (label, g) in enumerate(series):
            g = g[g["metric"] == metric]
            xs = [ticks.index(v) for v in g[x]] if categorical else [float(v) for v in g[x]]
            style = _style(label, i, paper=by is None)
            draw_series(panels[0][j], xs, g, metric, y, *style, _label(label))
            if residuals:
                shifted = _dodge(xs, i, len(series), logx and not categorical, frame[x], categorical)
                draw_residuals(panels[1][j], shifted, g, metric, y, *style)
        _decorate(panels[0][j], x, metric, y, logx and not categorical, ticks, last=not residuals)
        if residuals:
            _decorate_residuals(panels[1][j], x, metric, y, logx and not categorical, ticks)
    return _finish(fig, panels[0], title, height + (1.8 if residuals else 0))


def _dodge(xs, i: int, k: int, log: bool, all_x, categorical: bool) -> list:
    """Series i of k shifted sideways by up to 1.5% of the axis each (in log on a log axis), so that points
    of different series at the same x do not hide one another's error bars."""
    if k < 2 or not xs:
        return xs
    step = (i - (k - 1) / 2) * 0.015
    if categorical:
        return [v + 8 * step for v in xs]
    vals = [float(v) for v in all_x]
    if log:
        span = math.log10(max(vals)) - math.log10(min(vals)) or 1.0
        return [v * 10 ** (step * span) for v in xs]
    span = (max(vals) - min(vals)) or 1.0
    return [v + step * span for v in xs]


def _label(label: str) -> str:
    """The paper's names of the bargaining solutions in legends (KS, Nash, cross-side Nash); a placeholder
    {r} shown as r."""
    from ..paper.reproduce import LABELS

    head, sep, rest = label.partition(",")
    return re.sub(r"\{(\w+)\}", r"\1", LABELS.get(head, head)) + sep + rest


def draw_residuals(ax, xs, g, metric: str, y: str, color, marker) -> None:
    """Simulated - exact at the points with a valid CI, with the CI as error bars."""
    ex, est, lo, hi = _columns(y, metric)
    rows = [(xv, r) for xv, r in zip(xs, g.to_dict("records")) if r.get("ci_valid") is True]
    pts = _finite([xv for xv, _ in rows], [r.get(est) for _, r in rows], [r.get(lo) for _, r in rows],
                  [r.get(hi) for _, r in rows], [r.get(ex) for _, r in rows])
    if pts[0]:
        d = [m - e for m, e in zip(pts[1], pts[4])]
        err = [[m - a for m, a in zip(pts[1], pts[2])], [b - m for m, b in zip(pts[1], pts[3])]]
        ax.errorbar(pts[0], d, yerr=err, fmt=marker, color=color, mfc="white", ms=5, mew=1.2, capsize=3,
                    elinewidth=1.2, zorder=4)


def _decorate_residuals(ax, x: str, metric: str, y: str, logx: bool, ticks) -> None:
    _decorate(ax, x, metric, y, logx, ticks, last=True)
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_ylabel("simulated − exact", fontsize=9)
    ax.set_ylim(auto=True)


def _decorate(ax, x: str, metric: str, y: str, logx: bool, ticks, last: bool = True) -> None:
    if logx:
        ax.set_xscale("log")
    if ticks is not None:
        ax.set_xticks(range(len(ticks)))
        ax.set_xticklabels([str(t) for t in ticks], rotation=20, fontsize=8)
    if last:
        ax.set_xlabel("number of buyers n" if x == "n" else ("number of units m" if x == "m" else x))
    ax.set_ylabel((RATIO_LABEL if y == "ratio" else VALUE_LABEL)[metric])
    lo, hi = ax.get_ylim()
    if y == "ratio" and metric != "sold" and lo >= 0:
        ax.set_ylim(0, max(hi, 1.02))
    ax.grid(alpha=0.3, which="both")


def _finish(fig, panels, title: str, height: float):
    """The legend (the first panel's entries) below the panels, the title above them."""
    handles, labels = panels[0].get_legend_handles_labels()
    width = fig.get_figwidth()
    per_entry = 0.45 + 0.062 * max((len(t) for t in labels), default=0)  # inches of one entry at font size 8
    ncol = max(1, min(3, len(labels), int(width // per_entry)))
    rows = -(-len(labels) // ncol)
    bottom = min(0.45, (rows * LEGEND_ROW_IN + 0.15) / height)
    if labels:
        fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig


def frontier(F, solutions: dict | None = None, sim: dict | None = None, points=(), zoom: bool = False,
             title: str | None = None):
    """The Pareto frontier Π(U) of ``F`` (a ``mechanisms.frontier.Frontier``) with its extreme points, the KS
    line, the bargaining solutions (solved here when ``solutions`` is None) and simulated (Π, U) with CIs
    (``sim``: {name: {"revenue": (est, se, lo, hi), "surplus": ...}}, as ``reproduce.simulate_rules``)."""
    from mechanisms.bargaining import SOLUTIONS, solve

    from ..paper.plots import draw_frontier, new_figure

    if solutions is None:
        solutions = {k: solve(F, k) for k in SOLUTIONS}
    fig, ax = new_figure((7, 5.2))
    draw_frontier(ax, F, solutions, sim, points, zoom=zoom, title=title)
    fig.tight_layout()
    return fig


def save(fig, path: str, dpi: int = 130) -> None:
    """Write ``fig`` to ``path`` atomically (``paper.plots.save``: PNG unless the extension says otherwise)."""
    from ..paper.plots import save as save_figure

    save_figure(fig, path, dpi)
