"""Theorem D.1 (Appendix D.4): in bilateral trade with MHR buyer and seller, the Nash solution (max Π·U on the
Pareto frontier of IC, IR, budget-balanced mechanisms) keeps at least 1/(e-1) of Π* + U*.

Every (buyer, seller) pair of a grid of MHR distributions (uniform, exponential, truncated normals, Weibull
shape >= 1, several parameters; ``mechanisms.trade.theorem_d1.MHR_SPECS``) is solved exactly
(``mechanisms.trade.frontier.TradeFrontier``) and compared with the bound in both readings: against Π* + U*
(the statement) and against the first-best gains from trade (what the proof's last step shows); the second
best is compared with Π* + U* (footnote 11).

    python scripts/theorem_d1.py [--out DIR] [--quick]

Outputs: theorem_d1.csv (one row per pair), theorem_d1.png (ratios per pair; the frontiers of the worst pair and
of uniform/uniform), provenance.json.
"""
from __future__ import annotations

from mechanisms.trade.frontier import GRID, TradeFrontier
from mechanisms.trade.theorem_d1 import BOUND, MHR_SPECS, QUICK_SPECS, grid_frame, worst
from simulator.paper import cli_args
from simulator.paper.reproduce import write_csv

QUICK_EXTRA = ("uniform:low=4,high=5",)  # --quick keeps one pair with separated supports
QUICK_GRID = 1001  # --quick: a coarser quantile grid (grid error ~1e-6 relative instead of ~1e-7)


def plot(df, path: str, grid: int = GRID) -> None:
    """Left: the three ratios per pair, sorted by the stated one, with 1/(e-1). Right: the frontiers of the
    pair with the smallest stated ratio and of uniform/uniform, their Nash points and the line
    Π + U = (Π* + U*)/(e-1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from distributions import parse_spec

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 5))
    d = df.sort_values("ratio_ideal").reset_index(drop=True)
    k = np.arange(len(d))
    ax.plot(k, d.ratio_ideal, "o", ms=3, label="W(Nash) / (Π* + U*)  (stated)")
    ax.plot(k, d.ratio_first_best, "s", ms=3, label="W(Nash) / first best  (proved)")
    ax.plot(k, d.second_best_over_ideal, "^", ms=3, label="second best / (Π* + U*)  (footnote 11)")
    ax.axhline(BOUND, color="k", lw=1, ls="--", label="1/(e-1)")
    ax.set_xlabel("MHR pair (sorted by the stated ratio)")
    ax.set_ylabel("ratio")
    ax.set_title(f"Theorem D.1 on {len(d)} MHR pairs")
    ax.legend(fontsize=8)
    w = worst(df, "ratio_ideal")
    for (b, s), colour in (((w["buyer"], w["seller"]), "C3"), (("uniform:low=0,high=1",) * 2, "C0")):
        fr = TradeFrontier(parse_spec(b), parse_spec(s), max_points=60, grid=grid)
        us, pis = fr.curve(200)
        scale = fr.seller_max + fr.buyer_max
        nash = fr.solve("nash")
        bx.plot(us / scale, pis / scale, color=colour, label=f"buyer {b}, seller {s}")
        bx.plot(nash.buyer_utility / scale, nash.seller_utility / scale, "*", ms=12, color=colour)
        bx.plot([fr.seller_offer.buyer_utility / scale, fr.buyer_max / scale],
                [fr.seller_max / scale, fr.buyer_offer.seller_utility / scale], "o", color=colour)
    x = np.linspace(0, BOUND, 2)
    bx.plot(x, BOUND - x, "k--", lw=1, label="Π + U = (Π* + U*)/(e-1)")
    bx.set_xlabel("U / (Π* + U*)")
    bx.set_ylabel("Π / (Π* + U*)")
    bx.set_title("trade frontiers (dots: seller-/buyer-offer, stars: Nash)")
    bx.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(df) -> None:
    """The smallest ratios, where they occur, and the verdicts."""
    print(f"{len(df)} pairs; all MHR: buyer {bool(df.buyer_mhr.all())}, seller {bool(df.seller_mhr.all())}; "
          f"1/(e-1) = {BOUND:.6f}")
    for col, what, pick in (("ratio_ideal", "W(Nash) / (Π* + U*)   [as stated]", "min"),
                            ("ratio_first_best", "W(Nash) / first best  [the proof's bound]", "min"),
                            ("ratio_second_best", "W(Nash) / second best", "min"),
                            ("second_best_over_ideal", "second best / (Π* + U*)  [footnote 11: <= 1]", "max"),
                            ("offers_over_first_best", "min(W(SOM), W(BOM)) / first best  [Fei 2022]", "min")):
        w = df.loc[df[col].idxmin() if pick == "min" else df[col].idxmax()]
        print(f"  {pick} {what}: {w[col]:.6f} at buyer {w['buyer']}, seller {w['seller']}")
    bad = df[~df.holds_as_stated]
    print(f"stated bound holds on {len(df) - len(bad)} of {len(df)} pairs; the proof's bound (first best) on "
          f"{int(df.holds_first_best.sum())}; footnote 11 (second best <= Π* + U*) on "
          f"{int((df.second_best_over_ideal <= 1 + 1e-6).sum())}")
    if len(bad):
        print("pairs where W(Nash) < (Π* + U*)/(e-1):")
        print(cli_args.show(bad[["buyer", "seller", "ratio_ideal", "ratio_first_best", "seller_max", "buyer_max",
                                 "first_best", "nash_gains"]], index=False))


def main(argv=None) -> int:
    p = cli_args.parser("theorem_d1", __doc__.splitlines()[0])
    args = cli_args.parse(p, argv)
    specs = QUICK_SPECS + QUICK_EXTRA if args.quick else MHR_SPECS
    grid = QUICK_GRID if args.quick else None
    df = grid_frame(specs, grid=grid)
    write_csv(cli_args.out(args, "theorem_d1.csv"), df)
    plot(df, cli_args.out(args, "theorem_d1.png"), grid or GRID)
    report(df)
    cli_args.finish(args, "theorem_d1", {"specs": list(specs), "grid": grid or GRID})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
