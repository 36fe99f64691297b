"""Figures a researcher wants from a run (matplotlib, Agg backend): the Pareto frontier with the bargaining
solutions and simulated points; ratio-against-n curves."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

SOLUTION_STYLE = {"ks": ("KS", "tab:red", "o"), "nash": ("Nash", "tab:purple", "s"),
                  "cross-nash": ("cross-side Nash", "tab:green", "D")}


def plot_frontier(F, solutions: dict, sim: dict | None, points, path: str) -> None:
    """Frontier Π(U) (extreme points marked), the KS line Π/Π* = U/U*, the three solutions, and simulated
    estimates with 95% error bars in both coordinates."""
    us, ps = F.curve(400)
    fig, ax = plt.subplots(figsize=(7, 5.2))
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
    ax.set_title(f"{F.dist.spec}, n = {F.n:g}{m}")
    ax.set_xlim(left=min(0, ax.get_xlim()[0]))
    ax.set_ylim(bottom=min(0, ax.get_ylim()[0]))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_ratios_vs_n(ns, curves: dict, path: str, title: str, bounds: dict | None = None,
                     simulated: dict | None = None) -> None:
    """Welfare ratios against n (log axis): exact curves, simulated points with error bars, reference bounds."""
    fig, ax = plt.subplots(figsize=(7, 4.6))
    for kind, ys in curves.items():
        label, color, marker = SOLUTION_STYLE.get(kind, (kind, None, "o"))
        ax.plot(ns, ys, "-", color=color, marker=marker, ms=4, label=f"{label} (exact)")
        if simulated and kind in simulated:
            sx, est, lo, hi = (np.asarray(a, float) for a in simulated[kind])
            ax.errorbar(sx, est, yerr=[est - lo, hi - est], fmt="x", color=color, capsize=3, ms=7,
                        label=f"{label} (simulated, 95% CI)")
    for label, y in (bounds or {}).items():
        ax.axhline(y, ls="--", lw=1, color="gray")
        ax.text(ns[0], y, f" {label}", va="bottom", fontsize=8, color="gray")
    ax.set_xscale("log")
    ax.set_xlabel("number of buyers n")
    ax.set_ylabel("welfare / OPT")
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
