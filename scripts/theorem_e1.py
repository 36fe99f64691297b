"""Theorem E.1 (Appendix E): single buyer, seller revenue of the best single posted price against the Pareto
frontier (the best mechanism, a randomisation over two prices) under a buyers' surplus constraint U.

The revenue approximation ratio of price posting is inf over (F, U) of  max{Π(p) : U(p) >= U} / Π_frontier(U);
the paper: 0 for general F, between 0.8246 and 0.8532 for quasi-regular F, 1 for regular F. This script
recomputes both constants and the instances behind them, each through the library (``Frontier(Market.iid(F, 1))``):

* 0.8532 (E.2.2, an upper bound): v(q) = c (1-ℓ)/ℓ on [0, ℓ], c (1-q)/q on (ℓ, q†], q†/q on (q†, 1], c = q†/(1-q†),
  U = U_F(q†). The script minimises the paper's ratio (q† ln q† - ln ℓ)/(ℓ ln q† - ln ℓ) over 0 < ℓ < q† < 1,
  builds that F, and measures the ratio with the library at the paper's U and at the worst U on a grid; it also
  checks quasi-regularity and λ* = ℓ (the slope of the frontier's edge).
* 0.8246 (E.2.1, a lower bound from a proof): the script minimises the paper's final bound
  [q†(ln q† - ln ℓ) + (1-q†)²] / [q†(ln q† - ln ℓ) + (1-ℓ)(1-q†)] and measures the E.2.2-shaped (quasi-regular)
  instance at its minimiser: the bound comes from a proof, not an instance (its extremal configuration would need
  v flat on (q†, r), which contradicts the definition of q†), and the library shows the slack the proof leaves
  there, consistent with the paper's remark that this lower bound may be loose.
* 0 for general F (E.1): the paper's instance with K = 10, 100, 1e4; the ratio is at most 2/ln K.
* 1 for regular F (Proposition 3.3): uniform and exponential.

The mechanisms behind the worst ratio of the 0.8532 instance (the frontier's two-price mixture and the best
posted price) are simulated (n = 1, common random numbers) with 95% CIs of their revenues.

    python scripts/theorem_e1.py [--out DIR] [--quick] [--samples S] [--seed K]

Outputs: theorem_e1.csv (instances), theorem_e1_curves.csv (ratio against U), theorem_e1_family_scan.csv,
theorem_e1_simulation.csv, theorem_e1.png, provenance.json. The computations are ``simulator.paper.theorem_e1``;
``auction-sim run experiments/theorem_e1.toml`` (``theorem_e1_quick.toml`` for --quick) writes the same four
CSV files, byte for byte, for the same seed.
"""
from __future__ import annotations

from simulator.paper import cli_args
from simulator.paper.reproduce import write_csv
from simulator.paper.theorem_e1 import (PAPER_LOWER, PAPER_UPPER, curve_rows, instance, instance_specs,
                                        library_family_minimum, scan_grid, scan_row, simulation_rows)

#: auctions simulated at the 0.8532 instance (--quick: QUICK_SAMPLES); the k x k family scan (--quick: QUICK_SCAN)
SAMPLES, QUICK_SAMPLES = 200_000, 20_000
SCAN, QUICK_SCAN = 7, 3


def main(argv=None) -> int:
    p = cli_args.parser("theorem_e1", __doc__.splitlines()[0], samples=SAMPLES, quick_samples=QUICK_SAMPLES)
    args = cli_args.parse(p, argv)
    import pandas as pd

    specs = instance_specs(args.quick)
    k = QUICK_SCAN if args.quick else SCAN
    qs, ss = scan_grid(k)
    scan = pd.DataFrame([scan_row(qd, s) for qd in qs for s in ss])
    write_csv(cli_args.out(args, "theorem_e1_family_scan.csv"), scan)
    # minimise the library's worst-U ratio over the family, started away from the paper's point
    family_min = None if args.quick else library_family_minimum(start=(0.2, 0.5))
    instances = [instance(spec) for spec in specs]
    upper, lower = instances[0], instances[1]
    sims = pd.DataFrame(simulation_rows(specs[0], args.samples, args.seed, args.budget))
    write_csv(cli_args.out(args, "theorem_e1_simulation.csv"), sims)

    rows = [inst["row"] for inst in instances]
    write_csv(cli_args.out(args, "theorem_e1.csv"), pd.DataFrame(rows))
    write_csv(cli_args.out(args, "theorem_e1_curves.csv"),
              pd.DataFrame([r for spec in specs for r in curve_rows(spec)]))
    plot_curves({inst["curve_label"]: inst["curve"] for inst in instances}, upper, lower, args)
    print_upper(upper)
    print_lower(lower, family_min, scan, k)
    print_general_and_regular(rows, sims)
    print_verdict(upper, lower)
    cli_args.finish(args, "theorem_e1", {"instances": specs, "family_scan": k})
    return 0


def plot_curves(curves: dict, upper: dict, lower: dict, args) -> None:
    """theorem_e1.png: the ratio against the surplus constraint for every instance, with both constants."""
    from simulator.paper.plots import plot_revenue_ratio_curves

    r_up, r_lo = upper["row"]["formula_min"], lower["row"]["formula_min"]
    plot_revenue_ratio_curves(curves, cli_args.out(args, "theorem_e1.png"),
                              "Theorem E.1: best single posted price / best mechanism (frontier), one buyer\n"
                              "triangles: the worst surplus constraint of each instance",
                              constants={f"recomputed E.2.2 minimum {r_up:.4f}": r_up,
                                         f"recomputed E.2.1 bound {r_lo:.4f}": r_lo})


def print_upper(upper: dict) -> None:
    """E.2.2: the recomputed 0.8532, and the library on its instance against the paper's closed forms."""
    r = upper["row"]
    r_up, l_up, qd_up = r["formula_min"], r["l"], r["q_dagger"]
    print("Theorem E.1: revenue approximation ratio of single price posting (one buyer)\n")
    print(f"0.8532 (E.2.2): the paper's ratio minimised over 0 < ℓ < q† < 1: {r_up:.6f} at ℓ = {l_up:.6f}, "
          f"q† = {qd_up:.6f} (paper: {PAPER_UPPER}, ℓ ≈ 0.325268, q† ≈ 0.589198)")
    print(f"   library on that instance: ratio at the paper's U = U_F(q†) = {upper['U']:.6f} (closed form "
          f"{r['U_closed_form']:.6f}): {r['ratio_at_paper_U']:.6f}; worst U on a grid: {r['min_ratio']:.6f} at U = "
          f"{r['argmin_U']:.6f}")
    print(f"   frontier revenue at U: library {r['frontier_revenue_at_paper_U']:.6f}, paper's closed form "
          f"{r['frontier_revenue_closed_form']:.6f}; best posted price {r['posted_price_at_paper_U']:.6f} earns "
          f"{r['posted_revenue_at_paper_U']:.6f} (= q†)")
    print(f"   λ* of the frontier's edge {r['lambda_of_frontier_edge']:.6f} vs the paper's λ* = ℓ = {l_up:.6f}; "
          f"quasi-regularity violation {r['quasi_regular_violation']:.2e} (0 = quasi-regular); regular: "
          f"{r['regular']}")


def print_lower(lower: dict, family_min, scan, k: int) -> None:
    """E.2.1: the recomputed 0.8246, the library's family minimum, and the slack the proof leaves."""
    r21 = lower["row"]
    r_lo = r21["formula_min"]
    print(f"\n0.8246 (E.2.1): the proof's bound minimised: {r_lo:.6f} at ℓ = {r21['l']:.6f}, q† = "
          f"{r21['q_dagger']:.6f} (paper: {PAPER_LOWER}, ℓ ≈ 0.238405, q† ≈ 0.528482)")
    if family_min is not None:
        print(f"   library minimisation over the E.2.2 family (Nelder-Mead from ℓ = 0.2, q† = 0.5, worst U each time): "
              f"{family_min[0]:.6f} at ℓ = {family_min[1]:.6f}, q† = {family_min[2]:.6f} ({family_min[3]} instances)")
    print(f"   E.2.2-shaped instance at those parameters (quasi-regular; violation {r21['quasi_regular_violation']:.1e}): "
          f"library ratio at U_F(q†) {r21['ratio_at_paper_U']:.6f} (E.2.2 formula {r21['formula_at_params_e22']:.6f}), "
          f"worst U {r21['min_ratio']:.6f}: the proof's bound is not attained there (slack "
          f"{r21['min_ratio'] - r_lo:.4f})")
    print(f"   E.2.2 family on a {k}x{k} grid of (ℓ, q†), through the library: smallest ratio "
          f"{scan['library_min_ratio'].min():.6f} (formula {scan['formula'].min():.6f}); all >= the lower bound "
          f"{r_lo:.4f}: {bool((scan['library_min_ratio'] >= r_lo - 1e-9).all())}; library = formula at U_F(q†) to "
          f"{(scan['library_ratio_at_paper_U'] - scan['formula']).abs().max():.1e}")


def print_general_and_regular(rows: list[dict], sims) -> None:
    """E.1 (ratio -> 0 for general F), Proposition 3.3 (ratio 1 for regular F), and the simulation."""
    print("\n0 (E.1, general F):")
    for r in rows:
        if r["instance"].startswith("E.1"):
            print(f"   {r['instance']}: library ratio at U = K/2: {r['ratio_at_paper_U']:.6f} <= 2/ln K = "
                  f"{r['paper_ratio_upper_2_over_lnK']:.4f}; the paper's closed form {r['paper_ratio_at_U']:.6f} uses "
                  f"U_F(1/2) = (K + ln K - ln 2)/2 = {r['paper_U_half']:.4f}, recomputed U_F(1/2) = "
                  f"{r['recomputed_U_half']:.4f} gives {r['recomputed_ratio_at_U']:.6f}; worst U {r['min_ratio']:.6f}")
    print("\n1 (regular F, Proposition 3.3):")
    for r in rows:
        if r["instance"].startswith("regular"):
            print(f"   {r['spec']}: worst ratio over U {r['min_ratio']:.8f}")
    print("\nsimulated at the worst U of the 0.8532 instance (n = 1, common random numbers, 95% CIs):")
    print(cli_args.show(sims, index=False))


def print_verdict(upper: dict, lower: dict) -> None:
    """Whether both constants of Theorem E.1 are reproduced."""
    r_up, r_lo, worst = upper["row"]["formula_min"], lower["row"]["formula_min"], upper["row"]["min_ratio"]
    verdict_up = abs(r_up - PAPER_UPPER) < 5e-5 and abs(worst - r_up) < 1e-4
    verdict_lo = abs(r_lo - PAPER_LOWER) < 5e-5
    print(f"\nreproduced: 0.8532 {'yes' if verdict_up else 'NO'} (formula {r_up:.5f}, library {worst:.5f}); "
          f"0.8246 {'yes' if verdict_lo else 'NO'} (formula {r_lo:.5f}; a proof bound: no instance here attains it, "
          "the gap [0.8246, 0.8532] stays open as in the paper)")


if __name__ == "__main__":
    raise SystemExit(main())
