"""Revenue equivalence (slides ``002``; ``004`` Proposition 5.2) checked on the bid formats, and how it fails
with asymmetric buyers (``004``, the remark after Proposition 5.2; Krishna §4.3).

* Symmetric: i.i.d. buyers, first price, all pay, third price (n >= 3) in their Bayes–Nash equilibria and second
  price. Each format's exact revenue is computed from its bid function (``mechanisms.bidding.formats``), not
  assumed, and compared with second price's; each is also simulated on bids (``simulator.families.bidding``)
  with its CI.
* Asymmetric: one buyer U[0, 1] against one buyer U[0, ω], ω from 1 to 3: first price in its equilibrium
  (backward shooting, ``mechanisms.bidding.asymmetric``) against second price: revenues, the efficiency loss
  W(second price) - W(first price) (second price allocates efficiently), the weak buyer's winning probability,
  and the simulated paired revenue difference with its CI.

    python scripts/revenue_equivalence.py [--out DIR] [--quick] [--samples S] [--seed K]

Outputs: revenue_equivalence_symmetric.csv, revenue_equivalence_asymmetric.csv, revenue_equivalence.png,
provenance.json.
"""
from __future__ import annotations

from simulator.paper import cli_args
from simulator.paper.reproduce import write_csv

#: symmetric markets (distribution spec, n); --quick keeps the first two
SYMMETRIC = (("uniform:low=0,high=1", 2), ("uniform:low=0,high=1", 5), ("exponential:rate=1", 3),
             ("exponential:rate=1", 1e6))
QUICK_SYMMETRIC = SYMMETRIC[1:3]
FORMATS = ("first-price", "all-pay", "third-price")
#: the strong buyer's top value ω (the weak buyer is U[0, 1])
OMEGAS = tuple(1.0 + 0.1 * k for k in range(21))
QUICK_OMEGAS = (1.0, 2.0, 3.0)


def symmetric_rows(spec: str, n, samples: int, seed: int) -> list[dict]:
    """One row per format (and second price) at (spec, n): exact revenue, second price's, their difference, and
    the simulated revenue with its CI and z against the exact value."""
    from distributions import Market, parse_spec
    from mechanisms.auctions import SecondPrice
    from mechanisms.bidding import make_format
    from simulator.families.bidding import simulate_bidding

    market = Market.iid(parse_spec(spec, n), n)
    spa = SecondPrice().exact(market).revenue
    rows = []
    for name in FORMATS:
        if name == "third-price" and float(n) < 3:
            continue
        fmt = make_format(name)
        res = simulate_bidding(fmt, market, samples=samples, seed=seed)
        targets = [(name, fmt.exact(market).revenue)] + ([("spa", spa)] if name == "first-price" else [])
        for mech, exact in targets:
            row = res.row(fmt.name if mech == name else "spa", "revenue")
            rows.append({"distribution": spec, "n": float(n), "format": mech, "exact_revenue": exact,
                         "spa_revenue": spa, "difference": exact - spa, "simulated": row["estimate"],
                         "stderr": row["stderr"], "ci_low": row["ci_low"], "ci_high": row["ci_high"],
                         "z": row["z"], "samples": res.samples, "ci_valid": row["ci_valid"]})
    return rows


def asymmetric_row(omega: float, samples: int, seed: int) -> dict:
    """U[0, 1] against U[0, ω]: exact first- and second-price revenue and welfare, the efficiency loss, each
    format's weak-buyer winning probability, the simulated paired revenue difference with its CI."""
    from distributions import Market
    from simulator.families.bidding import simulate_classes

    market = Market.from_specs(["1*uniform:low=0,high=1", f"1*uniform:low=0,high={omega!r}"])
    res = simulate_classes(market, samples=samples, seed=seed)
    f, s = (lambda k: res.exact("fpa", k)), (lambda k: res.exact("spa", k))
    pair = res.paired("fpa", "spa", "revenue")
    return {"omega": omega, "fpa_revenue": f("revenue"), "spa_revenue": s("revenue"),
            "revenue_difference": f("revenue") - s("revenue"), "fpa_welfare": f("welfare"),
            "spa_welfare": s("welfare"), "efficiency_loss": s("welfare") - f("welfare"),
            "relative_efficiency_loss": (s("welfare") - f("welfare")) / s("welfare"),
            "fpa_win_weak": f("win[1]"), "spa_win_weak": s("win[1]"),
            "simulated_difference": pair["estimate"], "difference_ci_low": pair["ci_low"],
            "difference_ci_high": pair["ci_high"], "fpa_revenue_z": res.z("fpa", "revenue"),
            "spa_revenue_z": res.z("spa", "revenue"), "samples": res.samples}


def plot_symmetric(ax, sym) -> None:
    """Each format's revenue relative to second price's: simulated with its CI, exact as a bar."""
    marks = {"spa": ("k", "o"), "first-price": ("C0", "s"), "all-pay": ("C1", "^"), "third-price": ("C2", "D")}
    label = {"spa": "second price", "first-price": "first price", "all-pay": "all pay", "third-price": "third price"}
    markets, seen = list(dict.fromkeys(zip(sym.distribution, sym.n))), set()
    for i, (spec, n) in enumerate(markets):
        d = sym[(sym.distribution == spec) & (sym.n == n)].sort_values("format", key=lambda f: f.map(list(marks).index))
        for j, (_, r) in enumerate(d.iterrows()):
            colour, m = marks[r.format]
            x = i + 0.16 * (j - (len(d) - 1) / 2)
            ax.errorbar(x, r.simulated / r.spa_revenue, yerr=[[(r.simulated - r.ci_low) / r.spa_revenue],
                        [(r.ci_high - r.simulated) / r.spa_revenue]], fmt=m, color=colour, ms=5, capsize=3,
                        label=None if r.format in seen else label[r.format])
            seen.add(r.format)
            ax.plot(x, r.exact_revenue / r.spa_revenue, "_", color="k", ms=14, mew=1.5)
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set_xticks(range(len(markets)))
    ax.set_xticklabels([f"{s.split(':')[0]}\nn = {n:g}" for s, n in markets])
    ax.set_ylabel("revenue / second-price revenue")
    ax.set_title("(a) symmetric buyers: simulated (95% CI), exact (—)")
    ax.legend(fontsize=8, loc="lower left", ncol=2)


def plot(sym, asym, path: str) -> None:
    """(a) symmetric: each format's revenue relative to second price's; (b) asymmetric: first- and second-price
    revenue against ω; (c) first price's efficiency loss; (d) the weak buyer's winning probability."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    (ax, bx), (cx, dx) = axes
    plot_symmetric(ax, sym)
    w = asym.omega.to_numpy()
    bx.plot(w, asym.fpa_revenue, "C0-", label="first price (equilibrium)")
    bx.plot(w, asym.spa_revenue, "k--", label="second price")
    bx.errorbar(w, asym.spa_revenue + asym.simulated_difference,
                yerr=[asym.simulated_difference - asym.difference_ci_low,
                      asym.difference_ci_high - asym.simulated_difference], fmt="none", ecolor="C0", capsize=2,
                label="second price + simulated difference (95% CI)")
    bx.set_ylabel("expected revenue")
    bx.set_title("(b) buyers U[0, 1] and U[0, ω]: revenue")
    cx.plot(w, 100 * asym.relative_efficiency_loss, "C3-o", ms=3)
    cx.set_ylabel("welfare shortfall of first price (% of efficient)")
    cx.set_title("(c) efficiency loss of first price")
    cx.set_ylim(bottom=0)
    dx.plot(w, asym.fpa_win_weak, "C0-", label="first price")
    dx.plot(w, asym.spa_win_weak, "k--", label="second price (efficient)")
    dx.set_ylabel("P(the weak buyer U[0, 1] wins)")
    dx.set_title("(d) the weak buyer wins more often under first price")
    for a in (bx, cx, dx):
        a.set_xlabel("ω (strong buyer's top value)")
        a.grid(alpha=0.3)
    for a in (bx, dx):
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def report(sym, asym) -> None:
    """The largest symmetric deviation from second price and the asymmetric extremes."""
    print(f"symmetric: {len(sym)} rows, largest |exact - second price| = {sym.difference.abs().max():.2e}, "
          f"largest |z| = {sym.z.abs().max():.2f}")
    top = asym.loc[asym.omega.idxmax()]
    print(f"asymmetric: at ω = {top.omega:g} first price {top.fpa_revenue:.6f} vs second price "
          f"{top.spa_revenue:.6f} (difference {top.revenue_difference:+.6f}, simulated "
          f"[{top.difference_ci_low:.6f}, {top.difference_ci_high:.6f}]); efficiency loss "
          f"{top.efficiency_loss:.6f} ({100 * top.relative_efficiency_loss:.2f}%), largest loss "
          f"{100 * asym.relative_efficiency_loss.max():.2f}% at ω = {asym.omega[asym.relative_efficiency_loss.idxmax()]:g}")


def main(argv=None) -> int:
    import pandas as pd

    p = cli_args.parser("revenue_equivalence", __doc__.splitlines()[0], samples=1_000_000, quick_samples=20_000)
    args = cli_args.parse(p, argv)
    markets = QUICK_SYMMETRIC if args.quick else SYMMETRIC
    omegas = QUICK_OMEGAS if args.quick else OMEGAS
    sym = pd.DataFrame([r for spec, n in markets for r in symmetric_rows(spec, n, args.samples, args.seed)])
    asym = pd.DataFrame([asymmetric_row(w, args.samples, args.seed) for w in omegas])
    write_csv(cli_args.out(args, "revenue_equivalence_symmetric.csv"), sym)
    write_csv(cli_args.out(args, "revenue_equivalence_asymmetric.csv"), asym)
    plot(sym, asym, cli_args.out(args, "revenue_equivalence.png"))
    report(sym, asym)
    cli_args.finish(args, "revenue_equivalence", {"symmetric": [list(m) for m in markets], "omegas": list(omegas)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
