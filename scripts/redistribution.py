"""Redistribution (slides ``003_…``): how much of VCG's revenue cannot be given back, and which partnerships can
be dissolved efficiently.

* Left over vs n: Cavallo's mechanism keeps (2/n) E[v_(2) - v_(3)] of the VCG revenue E[v_(2)]; the Green–Laffont
  mechanism keeps nothing but loses E[v_(1) - v_(2)]/n of welfare. Exact values for n = 3 … 1e30 (uniform,
  exponential, lomax:shape=3), divided by the optimal welfare E[v_(1)]; at a few n the same numbers simulated,
  with z = (estimate - exact)/stderr and the budget minimum over every draw.
* The partnership region (CGK): the criterion Σ_i W(v_i^*) on a grid of shares, n = 2 (r_1 in [0, 1]) and n = 3
  (the simplex), for the same distributions; dissolvable where >= 0.

    python scripts/redistribution.py [--out DIR] [--quick] [--samples S] [--seed K]

Outputs: redistribution_leftover.csv, partnership_region.csv, redistribution.png, provenance.json.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from distributions import Market, parse_spec
from mechanisms.redistribution.cavallo import Cavallo
from mechanisms.redistribution.green_laffont import GreenLaffont
from mechanisms.redistribution.partnership import criterion
from simulator.families.redistribution import simulate_redistribution
from simulator.paper import cli_args
from simulator.paper.plots import new_figure, save
from simulator.paper.reproduce import write_csv

DISTS = ("uniform", "exponential", "lomax:shape=3")
NS = (3, 4, 5, 7, 10, 20, 50, 100, 1000, 10 ** 4, 10 ** 6, 10 ** 9, 1e12, 1e30)
QUICK_NS = (3, 5, 10, 100, 1e6, 1e30)
SIM_NS = (3, 10)


def leftover_rows(ns) -> pd.DataFrame:
    """Exact Cavallo and Green–Laffont numbers per distribution and n."""
    rows = []
    for spec in DISTS:
        for n in ns:
            market = Market.iid(parse_spec(spec), n)
            cav, gl = Cavallo().exact(market), GreenLaffont().exact(market)
            rows.append({"dist": spec, "n": n, "opt": cav.welfare, "vcg_revenue": cav.collected,
                         "cavallo_redistributed": cav.redistributed, "cavallo_left_over": cav.budget_surplus,
                         "cavallo_left_over_share_of_opt": cav.budget_surplus / cav.welfare,
                         "green_laffont_loss": gl.efficiency_loss,
                         "green_laffont_loss_share_of_opt": gl.efficiency_loss / gl.welfare})
    return pd.DataFrame(rows).astype({"n": float})


def simulated_rows(samples: int, seed: int) -> pd.DataFrame:
    """The same numbers simulated at SIM_NS: estimate, stderr, z, and the budget minimum over every draw."""
    rows = []
    for spec in DISTS:
        for n in SIM_NS:
            run = simulate_redistribution(["cavallo", "green-laffont"], Market.iid(parse_spec(spec), n), samples,
                                          seed, checks=False)
            for mech, metric in (("cavallo", "budget_surplus"), ("green-laffont", "efficiency_loss")):
                row = run.result.row(mech, metric)
                rows.append({"dist": spec, "n": n, "mechanism": mech, "metric": metric,
                             "estimate": row["estimate"], "stderr": row["stderr"], "exact": row["analytic"],
                             "z": row["z"], "min_over_draws": row["min"]})
    return pd.DataFrame(rows).astype({"n": float})


def region_rows(step2: float, step3: float) -> pd.DataFrame:
    """The CGK criterion on share grids: n = 2 (r, 1-r) and n = 3 (r1, r2, 1-r1-r2)."""
    rows = []
    for spec in DISTS:
        dist = parse_spec(spec)
        for r in np.round(np.arange(0.0, 1.0 + step2 / 2, step2), 10):
            rows.append({"dist": spec, "n": 2, "r1": r, "r2": 1 - r, "r3": math.nan,
                         "criterion": criterion(dist, (r, 1 - r))})
        k = int(round(1 / step3))
        for i in range(k + 1):
            for j in range(k + 1 - i):
                shares = (i / k, j / k, (k - i - j) / k)
                rows.append({"dist": spec, "n": 3, "r1": shares[0], "r2": shares[1], "r3": shares[2],
                             "criterion": criterion(dist, shares)})
    frame = pd.DataFrame(rows)
    return frame.assign(dissolvable=frame["criterion"] >= 0)


def plot(left: pd.DataFrame, region: pd.DataFrame, path: str) -> None:
    fig, axes = new_figure((15, 4.6), 1, 3)
    colors = dict(zip(DISTS, ("tab:blue", "tab:orange", "tab:green")))
    ax = axes[0]
    for spec in DISTS:
        g = left[left["dist"] == spec]
        ax.loglog(g["n"], g["cavallo_left_over_share_of_opt"], "o-", color=colors[spec], label=f"Cavallo, {spec}")
        ax.loglog(g["n"], g["green_laffont_loss_share_of_opt"], "s--", color=colors[spec], alpha=0.7,
                  label=f"Green–Laffont loss, {spec}")
    ax.set(xlabel="n", ylabel="share of E[max value]", title="Not given back (Cavallo) / lost (GL)")
    ax.legend(fontsize=7)
    ax = axes[1]
    for spec in DISTS:
        g = region[(region["dist"] == spec) & (region["n"] == 2)]
        ax.plot(g["r1"], g["criterion"], color=colors[spec], label=spec)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set(xlabel="share r1 (r2 = 1 - r1)", ylabel="Σ W(v_i*)", title="n = 2: dissolvable where >= 0")
    ax.legend(fontsize=8)
    ax = axes[2]
    g = region[(region["dist"] == DISTS[0]) & (region["n"] == 3)]
    x = g["r2"] + g["r3"] / 2  # simplex corners: r1 = 1 at (0, 0), r2 = 1 at (1, 0), r3 = 1 at (1/2, √3/2)
    y = g["r3"] * math.sqrt(3) / 2
    sc = ax.scatter(x, y, c=g["criterion"], cmap="RdBu", vmin=-0.2, vmax=0.2, s=14)
    ax.scatter(x[~g["dissolvable"]], y[~g["dissolvable"]], marker="x", color="k", s=8, label="not dissolvable")
    fig.colorbar(sc, ax=ax, label="Σ W(v_i*)")
    for (px, py), name in (((0, 0), "r1=1"), ((1, 0), "r2=1"), ((0.5, math.sqrt(3) / 2), "r3=1")):
        ax.annotate(name, (px, py), fontsize=8)
    ax.set(title=f"n = 3, {DISTS[0]}: the CGK region", xticks=[], yticks=[])
    ax.set_aspect("equal")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    save(fig, path, dpi=110)


def main(argv=None) -> int:
    p = cli_args.parser("redistribution", __doc__.splitlines()[0], samples=200_000, quick_samples=20_000)
    args = cli_args.parse(p, argv)
    left = leftover_rows(QUICK_NS if args.quick else NS)
    sim = simulated_rows(args.samples, args.seed)
    region = region_rows(0.05 if args.quick else 0.01, 0.05 if args.quick else 0.02)
    write_csv(cli_args.out(args, "redistribution_leftover.csv"),
              left.merge(sim, on=["dist", "n"], how="left"))
    write_csv(cli_args.out(args, "partnership_region.csv"), region)
    plot(left, region, cli_args.out(args, "redistribution.png"))
    print(cli_args.show(left[["dist", "n", "vcg_revenue", "cavallo_left_over", "green_laffont_loss"]], index=False))
    print(cli_args.show(sim, index=False))
    two = region[region["n"] == 2]
    for spec in DISTS:
        ok = two[(two["dist"] == spec) & two["dissolvable"]]["r1"]
        print(f"{spec}: n = 2 dissolvable for r1 in [{ok.min():.3f}, {ok.max():.3f}] (grid)")
    cli_args.finish(args, "redistribution", {"max_abs_z": float(np.nanmax(np.abs(sim["z"].astype(float))))})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
