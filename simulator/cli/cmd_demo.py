"""``auction-sim demo``: the main job on built-in defaults.

    auction-sim demo [--out DIR] [--samples S] [--seed K] [--budget V]

A representative subset of the paper's claims, each exact and simulated (confidence intervals, and whether each
contains the exact value), in about half a minute on 2 cores once numba's cache is warm:

1. Example 4.2 (the MHR worst case): the welfare ratio W/OPT of the KS, Nash and cross-side Nash solutions
   against n from 10 to 1e30 (Theorems 4.1 (iii), 5.1, 5.3 (iii): KS and cross-side Nash fall towards 1/2,
   Nash towards 0), simulated where the simulator can draw the market.
2. A regular and anti-MHR frontier (Theorem 3.4: second-price auctions with a falling reserve) with the three
   solutions and their simulated (U, Π).
3. Table-1-like cells: each solution's W/OPT against the paper's bound for its class (Theorems 4.1, 5.2, 5.3).
4. Asymmetric buyers (textbook §5.1–5.2): second price with anonymous, own and best discriminatory reserves
   against Myerson's auction, on two buyers U[0,1], U[0,2] and on 1e6 weak + 3 strong buyers.

Writes to DIR (default ./auction-sim-demo): ``demo_cells.csv`` (every exact and simulated number),
``demo_asymmetric.csv`` (section 4),
``demo_example42.png``, ``demo_frontier.png``, ``demo_frontier.csv`` and ``provenance.json`` (package versions,
seed, command line, timestamp, git commit, timings).

The computations it shares with ``scripts/`` live in ``simulator.paper.reproduce``, its cells in
``simulator.paper.demo``: ``auction-sim run experiments/demo.toml`` writes the same demo_cells.csv,
demo_asymmetric.csv and demo_frontier.csv, byte for byte, for the same seed, samples and budget.
"""

from __future__ import annotations

import math
import os
import sys
import time

#: the demo's markets and cells live in ``simulator.paper.demo`` (``experiments/demo.toml`` writes the same
#: demo_cells.csv and demo_asymmetric.csv); this module runs them, prints and plots
from ..paper.demo import DEMO_EX42_CURVE, DEMO_FRONTIER

# ---------------------------------------------------------------------- the demo


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="the paper's main claims, exact and simulated, on built-in defaults",
                              description="Runs a representative subset of the paper's results (Example 4.2, "
                                          "a regular anti-MHR frontier, Table-1 cells against the bounds), exact "
                                          "and simulated with confidence intervals; writes CSV, PNG and a "
                                          "provenance file to DIR.")
    p.add_argument("--out", default="auction-sim-demo", metavar="DIR",
                   help="output folder (default ./auction-sim-demo)")
    p.add_argument("--samples", default="20000", metavar="S", help="auctions per simulated market (default 20000)")
    p.add_argument("--seed", default="0", metavar="K", help="random seed (default 0)")
    p.add_argument("--budget", default="5e8", metavar="V",
                   help="most buyer values a profile-mode cell may draw (default 5e8)")
    p.set_defaults(func=run_demo)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def run_demo(args) -> int:
    """The demo's three sections (Example 4.2, a regular anti-MHR frontier, Table-1 cells), their CSV, PNG and
    provenance files, and the printed summary."""
    from ..paper.reproduce import cells_frame, provenance, write_csv, write_json

    samples, seed, budget, out = demo_arguments(args)
    t_start = time.perf_counter()
    timings: dict = {}
    tol = 1e-5

    _say(f"auction-sim demo: seed {seed}, {samples} auctions per simulated market, output in {out}/")
    t = time.perf_counter()
    rows = example42_section(out, samples, seed, budget, tol)
    timings["example42_s"] = time.perf_counter() - t
    t = time.perf_counter()
    frontier_rows, sols = frontier_section(out, samples, seed, budget)
    rows += frontier_rows
    timings["frontier_s"] = time.perf_counter() - t
    t = time.perf_counter()
    rows += table1_section(samples, seed, budget, tol)
    timings["table1_s"] = time.perf_counter() - t
    t = time.perf_counter()
    asym = asymmetric_section(out, samples, seed)
    timings["asymmetric_s"] = time.perf_counter() - t

    frame = cells_frame(rows)
    write_csv(os.path.join(out, "demo_cells.csv"), frame)
    _print_demo(frame, sols, spec=DEMO_FRONTIER[0], n=DEMO_FRONTIER[1])
    _say("\n4. Asymmetric buyers (textbook Prop. 5.3: Myerson serves the highest ironed virtual value; second price "
         "with own, best discriminatory reserves)\n" + asym)
    timings["total_s"] = time.perf_counter() - t_start
    _say("\n   timings: " + ", ".join(f"{k[:-2]} {v:.1f} s" for k, v in timings.items()))
    write_json(os.path.join(out, "provenance.json"), provenance(seed, {
        "job": "auction-sim demo", "samples": samples, "profile_budget_values": budget, "frontier_tol": tol,
        "timings": timings, "outputs": sorted(os.listdir(out)) + ["provenance.json"]}))
    _say(f"\nwrote {', '.join(sorted(set(os.listdir(out))))} to {out}/ in {timings['total_s']:.1f} s")
    return 0


def demo_arguments(args) -> tuple[int, int, float, str]:
    """(samples, seed, budget, output folder) from the command line; the folder is created."""
    from .common import MAX_AUCTIONS, input_error, whole_number

    samples = whole_number("--samples", args.samples, 1, "a number of auctions")
    if samples > MAX_AUCTIONS:
        raise input_error("--samples", f"expected at most {MAX_AUCTIONS:.0e} auctions, got {args.samples!r}")
    seed = whole_number("--seed", args.seed, 0, "an integer")
    try:
        budget = float(args.budget)
    except ValueError:
        budget = math.nan
    if not (budget > 0 and math.isfinite(budget)):
        raise input_error("--budget", f"expected a positive number of buyer values (e.g. 5e8), got {args.budget!r}")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise input_error("--out", f"cannot create folder {args.out!r}: {exc.strerror}") from None
    if not os.access(args.out, os.W_OK | os.X_OK):
        raise input_error("--out", f"cannot write into folder {args.out!r}: permission denied")
    return samples, seed, budget, args.out


def example42_section(out: str, samples: int, seed: int, budget: float, tol: float) -> list[dict]:
    """1. Example 4.2 (the MHR worst case): the three solutions' W/OPT at a few n, exact and simulated, and the
    exact curve up to n = 1e30 (Theorems 4.1 (iii), 5.1, 5.3 (iii)) in demo_example42.png."""
    from ..paper.plots import plot_ratios_vs_n
    from ..paper.demo import example42_rows
    from ..paper.reproduce import SOLUTIONS, ratio_curves

    rows = example42_rows(samples, seed, budget, tol)
    curve = ratio_curves("example42", DEMO_EX42_CURVE, tol=tol)
    simulated = {}
    for kind in SOLUTIONS:
        pts = [r for r in rows if r["solution"] == kind and "sim_welfare_ratio" in r]
        simulated[kind] = ([r["n"] for r in pts], [r["sim_welfare_ratio"] for r in pts],
                           [r["sim_welfare_ratio_ci_low"] for r in pts], [r["sim_welfare_ratio_ci_high"] for r in pts])
    plot_ratios_vs_n(list(DEMO_EX42_CURVE), curve, os.path.join(out, "demo_example42.png"),
                     "Example 4.2 (MHR worst case): welfare / OPT of the bargaining solutions",
                     bounds={"1/2: KS and cross-side Nash tend to it, Nash to 0 (Thm 4.1 iii, 5.3 iii, 5.1)": 0.5},
                     simulated=simulated, legend_loc="lower left")
    return rows


def frontier_section(out: str, samples: int, seed: int, budget: float) -> tuple[list[dict], dict]:
    """2. A regular and anti-MHR frontier (Theorem 3.4: second-price auctions with a reserve falling along it):
    the three solutions and six frontier points, exact and simulated on common random numbers;
    demo_frontier.png and demo_frontier.csv. Returns (rows, solutions)."""
    from ..paper.demo import frontier_cells
    from ..paper.plots import plot_frontier_structure
    from ..paper.reproduce import write_csv

    spec, n = DEMO_FRONTIER
    cells = frontier_cells(samples, seed, budget)
    F, sols, sim, info, fseed = cells["frontier"], cells["solutions"], cells["sim"], cells["info"], cells["seed"]
    d = F.dist
    plot_frontier_structure(F, sols, os.path.join(out, "demo_frontier.png"), sim=sim, points=cells["points"],
                            title=f"{d.spec}, n = {n:g} ({d.shape_class()})\nTheorem 3.4: second-price auctions with a reserve "
                                  "falling along the frontier",
                            note="blue +: simulated (Π, U) of the solutions and of 6 frontier points, 95% CIs "
                                 f"({info['samples']} auctions, market seed {fseed} from seed {seed}, common random numbers)")
    fr = F.to_frame()
    fr.insert(0, "distribution", spec)
    fr.insert(1, "n", n)
    write_csv(os.path.join(out, "demo_frontier.csv"), fr)
    return cells["rows"], sols


def table1_section(samples: int, seed: int, budget: float, tol: float) -> list[dict]:
    """3. Table-1-like cells: one distribution per class of the paper's Figure 1, each solution's W/OPT against
    the paper's bound for the class (Theorems 4.1, 5.2, 5.3), exact and simulated."""
    from ..paper.demo import table1_rows

    return table1_rows(samples, seed, budget, tol)


def asymmetric_section(out: str, samples: int, seed: int) -> str:
    """4. Asymmetric buyers: the cells of ``paper.asymmetric`` in demo_asymmetric.csv; returns the printed table."""
    from ..paper.asymmetric import asymmetric_cells, asymmetric_text
    from ..paper.reproduce import cells_frame, write_csv

    rows = asymmetric_cells(samples, seed)
    write_csv(os.path.join(out, "demo_asymmetric.csv"), cells_frame(rows))
    return asymmetric_text(rows)


def _print_demo(frame, sols, spec, n) -> None:
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_colwidth", 80, "display.max_rows", None):
        print_example42(frame[frame.section == "example42"])
        print_frontier(frame, spec, n)
        print_table1(frame[frame.section == "table1"])
        print_checks(frame)


def print_example42(ex) -> None:
    """1. Example 4.2: W/OPT of the three solutions against n, exact and simulated."""
    from ..paper.reproduce import SOLUTIONS, cell_text

    _say("\n1. Example 4.2 (MHR worst case; paper: KS and cross-side Nash -> 1/2, Nash -> 0 as n -> inf)")
    _say("   W/OPT exact (ok = meets the paper's bound for its class) | simulated 95% CI of W/OPT, "
         "in = contains the exact value")
    ex = ex.assign(cell=[cell_text(r) for r in ex.to_dict("records")])
    table = ex.pivot(index="n", columns="solution", values="cell")[list(SOLUTIONS)]
    table.index = [f"{v:g}" for v in table.index]
    _say(table.to_string())
    notes = sorted({r["sim_note"] for r in ex.to_dict("records") if r.get("sim_note")})
    for note in notes:
        _say(f"   note: {note}")


def print_frontier(frame, spec, n) -> None:
    """2. The regular anti-MHR frontier: each solution's Π, U, W/OPT, exact and simulated (Theorem 3.4)."""
    import pandas as pd

    from ..paper.reproduce import LABELS, SOLUTIONS

    _say(f"\n2. Frontier of {spec}, n = {n} (regular, anti-MHR; Theorem 3.4: second-price auctions with a "
         f"reserve falling along the frontier)")
    fr = frame[(frame.section == "frontier") & frame.solution.isin(SOLUTIONS)]
    for r in fr.to_dict("records"):
        sim = ""
        if "sim_revenue" in r and not pd.isna(r.get("sim_revenue")):
            sim = (f" | sim Π {r['sim_revenue']:.4f} [{r['sim_revenue_ci_low']:.4f}, {r['sim_revenue_ci_high']:.4f}]"
                   f" {'in' if r['revenue_ci_contains_exact'] else 'OUT'}, U {r['sim_surplus']:.4f} "
                   f"[{r['sim_surplus_ci_low']:.4f}, {r['sim_surplus_ci_high']:.4f}] "
                   f"{'in' if r['surplus_ci_contains_exact'] else 'OUT'}")
        _say(f"   {LABELS[r['solution']]:>15}: Π = {r['revenue']:.4f} (Π/Π* {r['revenue_ratio']:.4f}), U = "
             f"{r['surplus']:.4f} (U/U* {r['surplus_ratio']:.4f}), W/OPT = {r['welfare_ratio']:.4f}{sim}")


def print_table1(t1) -> None:
    """3. Table-1 cells against the paper's class bounds (Theorems 4.1, 5.2, 5.3), and why cells miss them."""
    from ..paper.reproduce import SOLUTIONS, cell_text

    t1 = t1.assign(cell=[cell_text(r) for r in t1.to_dict("records")])
    _say("\n3. Table-1 cells: W/OPT against the paper's bound for the class (Theorems 4.1, 5.2, 5.3)")
    t1 = t1.assign(market=[f"{s} [{c}] n={v:g}" for s, c, v in zip(t1.distribution, t1["shape"], t1.n)])
    table = t1.pivot(index="market", columns="solution", values="cell")[list(SOLUTIONS)]
    table = table.loc[list(dict.fromkeys(t1.market))]
    _say(table.to_string())
    miss = t1[t1.meets_bound == False]  # noqa: E712
    if len(miss):
        _say("   MISS cells (a cell below the bound the paper proves for its class): "
             + ", ".join(f"{r['distribution']} n={r['n']:g} {r['solution']}" for r in miss.to_dict('records')))


def print_checks(frame) -> None:
    """How many simulated welfare CIs contain the exact value, and any failed KS fairness check."""
    sims = frame.dropna(subset=["welfare_ci_contains_exact"]) if "welfare_ci_contains_exact" in frame else frame[:0]
    if len(sims):
        k = int(sims.welfare_ci_contains_exact.astype(bool).sum())
        markets = sims.groupby(["section", "distribution", "n"])["welfare_ci_contains_exact"].apply(
            lambda s: bool(s.astype(bool).all()))
        _say(f"\n   simulated welfare CIs containing the exact value: {k} of {len(sims)} cells (95% CIs: about "
             f"{0.95 * len(sims):.0f} expected); markets with every CI containing it: {int(markets.sum())} of "
             f"{len(markets)} (the mechanisms of a market share draws, so their misses come together)")
    ks = frame[frame.solution == "ks"]
    bad = ks[ks["check_ok"] == False] if "check_ok" in ks else ks[:0]  # noqa: E712
    for r in bad.to_dict("records"):
        _say(f"   CHECK FAILS: {r['distribution']} n={r['n']:g} {r['solution']}: {r['check']} = "
             f"{r['check_value']:.3g}")
