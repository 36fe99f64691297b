"""Example 4.2: the MHR worst case. Welfare / OPT of the KS, Nash and cross-side Nash solutions against n from
1e1 to 1e30 (Theorems 4.1 (iii), 5.1, 5.3 (iii): KS and cross-side Nash tend to 1/2, Nash to 0).

The distribution depends on n: K = sqrt(ln n)/2, F(v) = 1 - exp(-v^2) on [0, K), an atom of mass n^(-1/4) at K.
Exact curves at every n of the grid; the implementing mechanisms of the three solutions are simulated on common
random numbers at a few n (mode="auto"; a market the simulator refuses is recorded with the reason), each with
its 95% CI and whether it contains the exact value.

The KS welfare decomposes as W/OPT = ρ (Π* + U*)/OPT with ρ = Π/Π* = U/U* (KS fairness): the paper's proof has
Π* ~ K, U* ~ E[v] = sqrt(pi)/2, OPT ~ K and ρ -> 1/2; the CSV shows each factor, so the slow approach to 1/2
(K = 4.16 at n = 1e30) is visible.

    python scripts/example42.py [--out DIR] [--quick] [--samples S] [--seed K] [--budget V]

Outputs: example42.csv (exact curve), example42_cells.csv (exact + simulated cells), example42.png,
provenance.json. ``auction-sim run experiments/example42.toml`` (``example42_quick.toml`` for --quick) writes
the same two CSV files, byte for byte, for the same seed.
"""
from __future__ import annotations

from simulator.paper import cli_args
from simulator.paper.reproduce import SOLUTIONS, bargaining_cells, cell_text, example42_curve_row, write_csv

#: n = 1e1 .. 1e30 (float("1eK"): exactly the grid of ``experiments/example42.toml``, where 10.0 ** 23 would be
#: 9.999999999999999e22)
CURVE_N = tuple(float(f"1e{k}") for k in range(1, 31))
QUICK_CURVE_N = (10, 1000, 1e6, 1e12, 1e20, 1e30)
SIM_N = (100, 10_000, 1_000_000, 1e12, 1e30)
QUICK_SIM_N = (100, 1e30)


def exact_curve(curve_n, tol: float):
    """The exact curve against n, one row per n (printed as it goes)."""
    import pandas as pd

    rows = []
    for n in curve_n:
        row = example42_curve_row(n, tol)
        rows.append(row)
        print(f"  n = {n:<8g} KS {row['ks_welfare_ratio']:.4f}  Nash {row['nash_welfare_ratio']:.4f}  cross-side "
              f"Nash {row['cross_nash_welfare_ratio']:.4f}", flush=True)
    return pd.DataFrame(rows)


def simulated_cells(sim_n, args, tol: float):
    """Exact and simulated cells (``bargaining_cells``) at the simulated n."""
    import pandas as pd

    cells = []
    for n in sim_n:
        cells += bargaining_cells("example42", n, samples=args.samples, seed=args.seed, tol=tol, budget=args.budget,
                                  timings=False)
    return pd.DataFrame(cells)


def plot_curves(curve, cells, args) -> None:
    """example42.png: the exact curves, the simulated CIs and the limit 1/2."""
    from simulator.paper.plots import plot_ratios_vs_n

    simulated = {}
    for kind in SOLUTIONS:
        g = cells[(cells["solution"] == kind)]
        g = g[g["sim_welfare_ratio"].notna()] if "sim_welfare_ratio" in g else g[:0]
        simulated[kind] = (g["n"].tolist(), g["sim_welfare_ratio"].tolist(), g["sim_welfare_ratio_ci_low"].tolist(),
                           g["sim_welfare_ratio_ci_high"].tolist())
    curves = {"ks": curve["ks_welfare_ratio"].tolist(), "nash": curve["nash_welfare_ratio"].tolist(),
              "cross-nash": curve["cross_nash_welfare_ratio"].tolist()}
    plot_ratios_vs_n(curve["n"].tolist(), curves, cli_args.out(args, "example42.png"),
                     f"Example 4.2 (MHR worst case, K = sqrt(ln n)/2): welfare / OPT\n"
                     f"simulated: {args.samples} auctions per market, seed {args.seed}",
                     bounds={"1/2: KS and cross-side Nash tend to it, Nash to 0 (Thm 4.1 iii, 5.3 iii, 5.1)": 0.5},
                     simulated=simulated, legend_loc="lower left")


def print_report(curve, cells) -> None:
    """The exact curve, the simulated cells, and the limits of Theorems 4.1 (iii), 5.1, 5.3 (iii)."""
    import pandas as pd

    view = curve[["n", "K", "atom_mass", "ks_welfare_ratio", "nash_welfare_ratio", "cross_nash_welfare_ratio",
                  "ks_rho", "revenue_max_over_opt", "surplus_max_over_opt"]].copy()
    view.columns = ["n", "K", "atom", "KS W/OPT", "Nash W/OPT", "xNash W/OPT", "KS Π/Π*=U/U*", "Π*/OPT", "U*/OPT"]
    print("\nExample 4.2, exact (W/OPT of the solutions; KS W/OPT = ρ (Π* + U*)/OPT):")
    print(cli_args.show(view, index=False, float_format=lambda x: f"{x:.4g}"))
    print("\nsimulated cells (95% CI of W/OPT; in = contains the exact value):")
    lines = []
    for n, g in cells.groupby("n", sort=False):
        rec = {r["solution"]: r for r in g.to_dict("records")}
        lines.append({"n": f"{n:g}", **{k: cell_text(rec[k]) for k in SOLUTIONS},
                      "mode": rec["ks"].get("sim_mode"), "samples": rec["ks"].get("sim_samples"),
                      "note": rec["ks"].get("sim_note", "")})
    print(cli_args.show(pd.DataFrame(lines), index=False))
    last = curve.iloc[-1]
    print(f"\nat n = {last['n']:g}: KS {last['ks_welfare_ratio']:.4f} (ρ = {last['ks_rho']:.4f}), Nash "
          f"{last['nash_welfare_ratio']:.4f}, cross-side Nash {last['cross_nash_welfare_ratio']:.4f}; the paper's "
          "limits 1/2, 0, 1/2 are approached slowly (U*/OPT ~ E[v]/K -> 0 like 1/sqrt(ln n)).")
    if "welfare_ci_contains_exact" in cells:
        sims = cells[cells["welfare_ci_contains_exact"].notna()]
        print(f"simulated welfare CIs containing the exact value: {int(sims['welfare_ci_contains_exact'].astype(bool).sum())}"
              f" of {len(sims)}")


def main(argv=None) -> int:
    p = cli_args.parser("example42", __doc__.splitlines()[0], samples=100_000, quick_samples=5000)
    args = cli_args.parse(p, argv)
    curve_n = QUICK_CURVE_N if args.quick else CURVE_N
    sim_n = QUICK_SIM_N if args.quick else SIM_N
    tol = 1e-5 if args.quick else 1e-6

    curve = exact_curve(curve_n, tol)
    write_csv(cli_args.out(args, "example42.csv"), curve)
    cells = simulated_cells(sim_n, args, tol)
    write_csv(cli_args.out(args, "example42_cells.csv"), cells)
    plot_curves(curve, cells, args)
    print_report(curve, cells)
    cli_args.finish(args, "example42", {"curve_n": list(curve_n), "simulated_n": list(sim_n), "frontier_tol": tol})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
