"""Figures a researcher wants from a run: the Pareto frontier with the bargaining solutions and simulated
points; ratio-against-n curves.

Figures are ``matplotlib.figure.Figure`` objects saved straight to a file: no pyplot, no global backend
selection (importing this module changes nothing), no window; ``savefig`` renders PNG with Agg.
"""
from __future__ import annotations

import os

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ..core.output import replace_atomic

SOLUTION_STYLE = {"ks": ("KS", "tab:red", "o"), "nash": ("Nash", "tab:purple", "s"),
                  "cross-nash": ("cross-side Nash", "tab:green", "D")}


def new_figure(figsize, nrows: int = 1, ncols: int = 1, **kw):
    """(figure, axes) of a figure that belongs to no backend and no pyplot state (saved with ``save``)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kw)


def save(fig, path: str, dpi: int) -> None:
    """Render ``fig`` to ``path`` (PNG through Agg, whatever the interactive backend) atomically: into a
    temporary file in the same folder (same extension, so the same format), then a rename, so that a reader or
    a concurrent run never sees half a figure; on failure no temporary file is left."""
    path = os.path.realpath(os.fspath(path))
    replace_atomic(path, lambda fh: fig.savefig(fh, dpi=dpi, format=_format_of(path)), binary=True)


def _format_of(path: str) -> str:
    """The image format named by the file's extension (``savefig``'s rule), PNG when there is none."""
    ext = os.path.splitext(path)[1][1:].lower()
    return ext or matplotlib.rcParams["savefig.format"]


def tab10(k: int):
    """k colours of matplotlib's tab10 cycle."""
    return matplotlib.colormaps["tab10"](np.linspace(0, 1, k))


def plot_frontier(F, solutions: dict, sim: dict | None, points, path: str) -> None:
    """Frontier Π(U) (extreme points marked), the KS line Π/Π* = U/U*, the three solutions, and simulated
    estimates with 95% error bars in both coordinates."""
    fig, ax = new_figure((7, 5.2))
    draw_frontier(ax, F, solutions, sim, points)
    fig.tight_layout()
    save(fig, path, dpi=130)


def draw_frontier(ax, F, solutions: dict, sim: dict | None = None, points=(), zoom: bool = False,
                  title: str | None = None) -> None:
    """The body of ``plot_frontier`` on a given axes. ``zoom``: limits around the frontier itself (the KS line
    from the origin is clipped) instead of from the origin."""
    us, ps = F.curve(400)
    ax.plot(us, ps, color="black", lw=1.6, label="Pareto frontier (exact)")
    ax.plot([p.surplus for p in F.points], [p.revenue for p in F.points], ".", color="gray", ms=3,
            label=f"extreme points ({len(F.points)})")
    ax.plot([0, F.surplus_max], [0, F.revenue_max], ":", color="tab:red", lw=1, label="KS line Π/Π* = U/U*")
    for kind, sol in solutions.items():
        label, color, marker = SOLUTION_STYLE[kind]
        ax.plot(sol.surplus, sol.revenue, marker, color=color, ms=9, mfc="none", mew=2,
                label=f"{label}: W/OPT = {sol.welfare_ratio:.3f}")
    if sim:
        names = [k for k in solutions] + [name for name, _ in points]
        xs = [sim[k]["surplus"] for k in names if k in sim]
        ys = [sim[k]["revenue"] for k in names if k in sim]
        ax.errorbar([x[0] for x in xs], [y[0] for y in ys],
                    xerr=[[x[0] - x[2] for x in xs], [x[3] - x[0] for x in xs]],
                    yerr=[[y[0] - y[2] for y in ys], [y[3] - y[0] for y in ys]],
                    fmt="+", color="tab:blue", ms=7, capsize=2, label="simulated (95% CI)")
    ax.set_xlabel("buyers' surplus U")
    ax.set_ylabel("seller revenue Π")
    m = f", m = {F.m}" if F.m > 1 else ""
    ax.set_title(title or f"{F.dist.spec}, n = {F.n:g}{m}")
    if zoom:
        u_lo, u_hi = F.surplus_min, F.surplus_max
        p_lo, p_hi = min(p.revenue for p in F.points), F.revenue_max
        if sim:  # keep the simulated points and their CIs in view
            names = [k for k in solutions] + [name for name, _ in points]
            cis = [(sim[k]["surplus"], sim[k]["revenue"]) for k in names if k in sim]
            if cis:
                u_lo, u_hi = min([u_lo] + [x[2] for x, _ in cis]), max([u_hi] + [x[3] for x, _ in cis])
                p_lo, p_hi = min([p_lo] + [y[2] for _, y in cis]), max([p_hi] + [y[3] for _, y in cis])
        du, dp = max(u_hi - u_lo, 1e-12 * max(abs(u_hi), 1)), max(p_hi - p_lo, 1e-12 * max(abs(p_hi), 1))
        ax.set_xlim(u_lo - 0.08 * du, u_hi + 0.08 * du)
        ax.set_ylim(p_lo - 0.08 * dp, p_hi + 0.12 * dp)
    else:
        ax.set_xlim(left=min(0, ax.get_xlim()[0]))
        ax.set_ylim(bottom=min(0, ax.get_ylim()[0]))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")


def plot_ratios_vs_n(ns, curves: dict, path: str, title: str, bounds: dict | None = None,
                     simulated: dict | None = None, legend_loc: str = "best", ylabel: str = "welfare / OPT"
                     ) -> None:
    """Welfare ratios against n (log axis): exact curves, simulated points with error bars, reference bounds
    (Example 4.2: Theorems 4.1 (iii), 5.1, 5.3 (iii))."""
    fig, ax = new_figure((7.6, 5.0))
    for kind, ys in curves.items():
        label, color, marker = SOLUTION_STYLE.get(kind, (kind, None, "o"))
        ax.plot(ns, ys, "-", color=color, marker=marker, ms=4, label=f"{label} (exact)")
        if simulated and kind in simulated and len(simulated[kind][0]):
            sx, est, lo, hi = (np.asarray(a, float) for a in simulated[kind])
            ax.errorbar(sx, est, yerr=[est - lo, hi - est], fmt="x", color=color, capsize=4, ms=9, mew=1.5,
                        label=f"{label} (simulated, 95% CI)")
    for label, y in (bounds or {}).items():
        ax.axhline(y, ls="--", lw=1, color="gray")
        ax.text(ns[0], y, f" {label}", va="bottom", fontsize=8, color="dimgray")
    ax.set_xscale("log")
    ax.set_xlabel("number of buyers n")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc=legend_loc)
    fig.tight_layout()
    save(fig, path, dpi=130)


def _pool_value_ranges(dist, rule, top: float):
    """Pooled value ranges [v(q_hi), v(q_lo)] of a rule's pools (bid-space gaps and ironed intervals), capped at
    ``top``; pools of zero width in value (an atom of F: equal values tie anyway) are left out."""
    out = []
    for lo, hi, bid, nxt in zip(rule.pool_lo, rule.pool_hi, rule.pool_bid, rule.pool_next):
        v_lo = float(dist.v(min(max(hi, 0.0), 1.0)))
        v_hi = float(dist.v(max(lo, 0.0)))
        v_hi = min(v_hi if np.isfinite(v_hi) else top, top)
        if v_hi - v_lo > 1e-9 * max(abs(v_hi), 1.0):
            out.append((v_lo, v_hi))
    return out


def _value_top(dist, points) -> float:
    """Upper limit of the value axis: above every reserve and finite pool edge; the top of the support when
    that is not far above them."""
    cands = []
    for p in points:
        r = p.rule
        cands += [r.reserve] + list(r.pool_bid) + [x for x in r.pool_next if np.isfinite(x)]
    cands = [float(c) for c in cands if np.isfinite(c)]
    top = max(cands) if cands and max(cands) > 0 else float(dist.v(0.5)) or 1.0
    v0 = float(dist.v(0.0))
    if np.isfinite(v0) and v0 <= 2.0 * top:
        return 1.05 * max(v0, top)
    return 1.3 * top


def plot_frontier_structure(F, solutions: dict, path: str, sim: dict | None = None, points=(),
                            title: str | None = None, markers: dict | None = None, note: str | None = None,
                            value_top: float | None = None) -> None:
    """Two panels sharing the U axis: the frontier Π(U) (zoomed on the frontier, solutions, simulated points),
    and the structure of the implementing indirect Vickrey auctions along it (Definition 2.4): at every extreme
    point the reserve (a value) and the pooled value ranges (values in a range all bid its bottom: the gaps of
    the bid space, ironed intervals). Between extreme points the frontier is an ex-ante mixture of the two
    neighbours (Corollaries 3.6, 3.8). ``markers``: {label: U} vertical reference lines (e.g. U+ = U(SPA))."""
    dist = F.dist
    fig, (ax, bx) = new_figure((7.6, 8.4), 2, 1, sharex=True, gridspec_kw={"height_ratios": [1.15, 1]})
    draw_frontier(ax, F, solutions, sim, points, zoom=True, title=title)
    ax.title.set_fontsize(10)
    ax.set_xlabel("")
    us = np.array([p.surplus for p in F.points])
    reserves = np.array([p.rule.reserve for p in F.points])
    if value_top is None:
        value_top = _value_top(dist, F.points)
    first = True
    for p in F.points:
        for v_lo, v_hi in _pool_value_ranges(dist, p.rule, value_top):
            bx.vlines(p.surplus, v_lo, v_hi, color="tab:orange", lw=2.2, alpha=0.75,
                      label="pooled values (bid their bottom)" if first else None)
            first = False
    bx.step(us, reserves, where="post", color="black", lw=1.0, alpha=0.5)
    bx.plot(us, reserves, "o", color="black", ms=3, label="reserve (value) at extreme points")
    for kind, sol in solutions.items():
        label, color, _ = SOLUTION_STYLE[kind]
        for a in (ax, bx):
            a.axvline(sol.surplus, color=color, ls=":", lw=1.2)
    for label, u in (markers or {}).items():
        for a in (ax, bx):
            a.axvline(u, color="gray", ls="--", lw=1)
        bx.text(u, value_top * 0.97, f" {label}", fontsize=8, color="dimgray", va="top")
    bx.set_ylim(0, value_top)
    bx.set_xlabel("buyers' surplus U")
    bx.set_ylabel("value")
    bx.set_title("implementing auction along the frontier (dotted: the solutions)", fontsize=9)
    bx.grid(alpha=0.3)
    bx.legend(fontsize=8, loc="upper right")
    if note:
        import textwrap

        note = textwrap.fill(note, 125)
        fig.text(0.01, 0.005, note, fontsize=7, color="dimgray", va="bottom")
    fig.tight_layout(rect=(0, 0.012 * (note.count("\n") + 1) + 0.01 if note else 0, 1, 1))
    save(fig, path, dpi=130)


def plot_table1(frame, path: str, title: str = "Table 1 cells: welfare / OPT against n") -> None:
    """One panel per solution: exact W/OPT against n (n on an evenly spaced categorical axis) for each
    distribution, simulated 95% CIs (error bars, slightly to the right), the strongest applicable bound of the
    paper for each cell when above 1/2 (short bars; Theorems 4.1, 5.2, 5.3), cells below it ringed in red."""
    kinds = [k for k in SOLUTION_STYLE if k in set(frame["solution"])]
    dists = list(dict.fromkeys(frame["distribution"]))
    ns = sorted(set(frame["n"].astype(float)))
    pos = {n: i for i, n in enumerate(ns)}
    fig, axes = new_figure((5.4 * len(kinds), 5.8), 1, len(kinds), sharey=True)
    axes = np.atleast_1d(axes)
    width = 0.8 / max(len(dists), 1)
    for ax, kind in zip(axes, kinds):
        sub = frame[(frame["solution"] == kind) & frame["welfare_ratio"].notna()]
        for i, d in enumerate(dists):
            g = sub[sub["distribution"] == d].sort_values("n")
            if not g.empty:
                draw_table1_cells(ax, g, pos, TABLE1_COLORS[i % 10], d, (i - (len(dists) - 1) / 2) * width * 0.5)
        ax.set_title(f"{SOLUTION_STYLE[kind][0]} solution", fontsize=10)
        ax.set_xticks(range(len(ns)))
        ax.set_xticklabels([f"{n:g}" for n in ns], fontsize=8)
        ax.set_xlabel("number of buyers n")
        ax.axhline(0.5, color="gray", ls="--", lw=0.8)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("welfare / OPT")
    axes[0].set_ylim(0, 1.04)
    axes[-1].legend(fontsize=7, loc="lower left")
    fig.suptitle(title + "\nlines: exact; x: simulated 95% CI; short bars: the paper's class bound (> 1/2); red ring: "
                 "below it", fontsize=10)
    fig.tight_layout()
    save(fig, path, dpi=120)


#: one colour per distribution of ``plot_table1``; no red: red rings mark cells below their bound
TABLE1_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:gray",
                 "tab:olive", "tab:cyan", "navy"]


def draw_table1_cells(ax, g, pos: dict, color, label: str, offset: float) -> None:
    """One distribution's cells of one solution (rows ``g``, sorted by n) on ``ax``: the exact line, the
    simulated CIs shifted right by 0.18 + ``offset``, the class bounds above 1/2, red rings where missed."""
    import pandas as pd

    def false(v):
        return v is False or (not pd.isna(v) and v == False)  # noqa: E712

    x = np.array([pos[float(n)] for n in g["n"]], float)
    short = label if len(label) <= 30 else label[:28] + "…"
    ax.plot(x, g["welfare_ratio"].to_numpy(float), "-o", color=color, ms=3.5, lw=1.2, label=short)
    if "sim_welfare_ratio" in g:
        s = g[g["sim_welfare_ratio"].notna()]
        if len(s):
            est = s["sim_welfare_ratio"].to_numpy(float)
            xs = np.array([pos[float(n)] for n in s["n"]], float) + 0.18 + offset
            ax.errorbar(xs, est, yerr=[est - s["sim_welfare_ratio_ci_low"].to_numpy(float),
                                       s["sim_welfare_ratio_ci_high"].to_numpy(float) - est],
                        fmt="x", color=color, ms=4, capsize=1.5, lw=0.8)
    b = g[g["bound"].notna() & (g["bound"] > 0.5)]
    if len(b):
        ax.plot([pos[float(n)] for n in b["n"]], b["bound"].to_numpy(float), "_", color=color, ms=12, mew=1.8)
    miss = g[g["meets_bound"].apply(false)]
    if len(miss):
        ax.plot([pos[float(n)] for n in miss["n"]], miss["welfare_ratio"].to_numpy(float), "o", mfc="none",
                mec="red", ms=12, mew=1.5)


def plot_psi(taus, series: dict, path: str, title: str, simulated: dict | None = None) -> None:
    """Theorem 4.2 / Figure 2: the KS welfare ratio against τ = m/n for several distributions, with
    Ψ(τ) = min{(2 - ln τ)/(2 - 2 ln τ), (e-1)/e + 1/(e + e² τ)} and its two branches; left log τ, right linear τ
    (the paper's Figure 2)."""
    fig, axes = new_figure((12.5, 5.2), 1, 2, sharey=True)
    lo = min(min(t) for t, _ in series.values()) if series else 1e-3
    colors = tab10(10)
    for ax, log in zip(axes, (True, False)):
        grid = np.geomspace(lo, 1.0, 400) if log else np.linspace(lo, 1.0, 400)
        b1 = (2 - np.log(grid)) / (2 - 2 * np.log(grid))
        b2 = (np.e - 1) / np.e + 1 / (np.e + np.e ** 2 * grid)
        ax.plot(grid, b1, "--", color="gray", lw=1, label="(2 − ln τ)/(2 − 2 ln τ)")
        ax.plot(grid, b2, "-", color="lightgray", lw=1.5, label="(e−1)/e + 1/(e + e²τ)")
        ax.plot(grid, np.minimum(b1, b2), "-", color="black", lw=2, label="Ψ(τ) (Theorem 4.2 lower bound)")
        for i, (label, (ts, ys)) in enumerate(series.items()):
            ax.plot(ts, ys, "-o", color=colors[i % 10], ms=4, lw=1.3, label=f"{label} (exact)")
            if simulated and label in simulated and len(simulated[label][0]):
                sx, est, elo, ehi = (np.asarray(a, float) for a in simulated[label])
                ax.errorbar(sx, est, yerr=[est - elo, ehi - est], fmt="x", color=colors[i % 10], ms=8, capsize=3,
                            label=f"{label} (simulated, 95% CI)")
        ax.axhline(0.5, color="gray", ls=":", lw=0.8)
        if log:
            ax.set_xscale("log")
        ax.set_xlabel("τ = m / n (supply / demand)" + (", log scale" if log else ""))
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("KS welfare / OPT")
    axes[0].set_ylim(0.45, 1.02)
    axes[0].legend(fontsize=7.5, loc="lower left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, path, dpi=120)


def plot_revenue_ratio_curves(curves: dict, path: str, title: str, constants: dict | None = None) -> None:
    """Theorem E.1: for each instance the ratio (best single posted price / best mechanism) of seller revenue
    against the buyers' surplus constraint U (normalised to [0, 1] over [U(Myerson), U*]), with the paper's
    constants as horizontal lines."""
    fig, ax = new_figure((7.6, 5.0))
    colors = tab10(10)
    for i, (label, (xs, ys, star)) in enumerate(curves.items()):
        ax.plot(xs, ys, "-", color=colors[i % 10], lw=1.5, label=label)
        if star is not None:
            ax.plot([star[0]], [star[1]], "v", color=colors[i % 10], ms=8)
    for k, (label, y) in enumerate(sorted((constants or {}).items(), key=lambda t: -t[1])):
        ax.axhline(y, ls="--", lw=1, color="gray")
        ax.text(0.0, y, f" {label}", va="bottom" if k == 0 else "top", fontsize=8, color="dimgray")
    ax.set_xlabel("surplus constraint (U − U(Myerson)) / (U* − U(Myerson))")
    ax.set_ylabel("revenue: best posted price / best mechanism")
    ax.set_ylim(0, 1.04)
    ax.set_xlim(-0.02, 1.02)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    save(fig, path, dpi=130)
