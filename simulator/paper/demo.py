"""The cells of ``auction-sim demo`` (``simulator.cli.cmd_demo``): its markets and what each section computes, so
that ``experiments/demo.toml`` writes the demo's demo_cells.csv and demo_asymmetric.csv byte for byte
(``compute = "demo-cells"``, ``simulator.studies.paper_kinds``) and the demo only prints and plots.

Sections (``section_rows``): ``example42`` (Example 4.2 at ``DEMO_EX42_N``: the three bargaining solutions exact
and simulated, ``reproduce.bargaining_cells``), ``frontier`` (the regular anti-MHR frontier of ``DEMO_FRONTIER``:
the three solutions and six frontier points simulated on common random numbers, ``frontier_cells``), ``table1``
(one distribution per class of Table 1 at ``DEMO_CELL_N``) and ``asymmetric`` (``paper.asymmetric``). Rows carry
no timings, so that the same settings give the same bytes.
"""
from __future__ import annotations

from functools import lru_cache

#: Example 4.2 markets, exact and simulated (mode="auto": profile mode up to n = 1000, order statistics above; a
#: simulator without the order-statistic mode records n = 1e12 and 1e30 as not simulated, with its reason)
DEMO_EX42_N = (10, 1000, 10_000, 1e12, 1e30)
#: the n of the exact curve in demo_example42.png
DEMO_EX42_CURVE = (10, 30, 100, 1000, 1e4, 1e5, 1e6, 1e8, 1e10, 1e12, 1e15, 1e20, 1e25, 1e30)
#: Table-1-like cells: one distribution per class of the paper's Figure 1 / Table 1
DEMO_CELLS = (("lomax:shape=3", "regular, anti-MHR"),
              ("equal-revenue:high=100", "regular (atom at the top: not anti-MHR), v(1) = 1 > 0"),
              ("exponential", "regular, MHR and anti-MHR"), ("uniform", "MHR"),
              ("weibull:shape=0.5", "anti-MHR, not regular"),
              ("mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)", "general (a gap)"))
DEMO_CELL_N = (10, 1000)
#: the frontier of section 2, its tolerance, and its simulated frontier points (between U(Myerson) and U*)
DEMO_FRONTIER = ("lomax:shape=3", 3)
DEMO_FRONTIER_TOL = 1e-6
DEMO_FRONTIER_POINTS = 6
#: the sections of demo_cells.csv, in order (``section_rows``), and the demo's own file of section 4
CELL_SECTIONS = ("example42", "frontier", "table1")
SECTIONS = CELL_SECTIONS + ("asymmetric",)


def example42_rows(samples: int, seed: int, budget: float, tol: float) -> list[dict]:
    """1. Example 4.2 (the MHR worst case): the three solutions at ``DEMO_EX42_N``, exact and simulated."""
    from .reproduce import bargaining_cells

    return [dict(r, section="example42") for n in DEMO_EX42_N
            for r in bargaining_cells("example42", n, samples=samples, seed=seed, tol=tol, budget=budget,
                                      timings=False)]


def table1_rows(samples: int, seed: int, budget: float, tol: float) -> list[dict]:
    """3. Table-1-like cells: each solution's W/OPT against the paper's bound for the class (Theorems 4.1, 5.2,
    5.3), exact and simulated."""
    from .reproduce import bargaining_cells

    return [dict(r, section="table1") for spec, _ in DEMO_CELLS for n in DEMO_CELL_N
            for r in bargaining_cells(spec, n, samples=samples, seed=seed, tol=tol, budget=budget, timings=False)]


@lru_cache(maxsize=4)
def frontier_cells(samples: int, seed: int, budget: float) -> dict:
    """2. A regular and anti-MHR frontier (Theorem 3.4: second-price auctions with a reserve falling along it):
    the three solutions and ``DEMO_FRONTIER_POINTS`` frontier points, exact and simulated on common random
    numbers (5 ``samples`` auctions, the market's seed ``market_seed(seed, "frontier", spec, n)``). Returns
    {"rows", "market", "frontier", "solutions", "points", "sim", "info", "seed"}; kept per arguments (callers
    must not change it)."""
    import numpy as np

    from distributions import Market
    from mechanisms.bargaining import SOLUTIONS, solve
    from mechanisms.frontier import Frontier

    from .reproduce import market_seed, simulate_rules

    spec, n = DEMO_FRONTIER
    market = Market.iid(spec, n)
    F = Frontier(market, tol=DEMO_FRONTIER_TOL)
    sols = {kind: solve(F, kind) for kind in SOLUTIONS}
    grid = np.linspace(F.surplus_min, F.surplus_max, DEMO_FRONTIER_POINTS)
    points = [(f"U={u:.4g}", F.mechanism_at(u)) for u in grid]
    fseed = market_seed(seed, "frontier", spec, n)
    named = [(k, s.rule) for k, s in sols.items()] + points
    sim, info = simulate_rules(named, market, samples * 5, fseed, budget)
    rows = [frontier_row(market, name, rule, sols, sim, info) for name, rule in named]
    return {"rows": rows, "market": market, "frontier": F, "solutions": sols, "points": points, "sim": sim,
            "info": info, "seed": fseed}


def frontier_row(market, name: str, rule, sols: dict, sim, info: dict) -> dict:
    """One mechanism of the frontier section: exact Π, U, W; for a solution its ratios and the paper's bounds
    (Theorems 4.1, 5.2, 5.3); simulated estimates with CIs."""
    from mechanisms import exact_from_rule

    from .reproduce import mark_bounds, paper_bounds, simulated_columns

    d, n = market.dist, market.n
    ex = sols[name].exact if name in sols else exact_from_rule(rule, market)
    row = {"section": "frontier", "distribution": DEMO_FRONTIER[0], "n": float(n), "solution": name,
           "shape": str(d.shape_class()), "revenue": ex.revenue, "surplus": ex.surplus, "welfare": ex.welfare,
           "sim_mode": info["mode"], "sim_samples": info["samples"], "sim_note": info["note"]}
    if name in sols:
        s = sols[name]
        row.update(opt=s.opt, revenue_max=s.revenue_max, surplus_max=s.surplus_max,
                   welfare_ratio=s.exact.welfare / s.opt, revenue_ratio=s.exact.revenue / s.revenue_max,
                   surplus_ratio=s.exact.surplus / s.surplus_max)
        row["bounds"], row["bound"], row["bound_source"], row["meets_bound"] = mark_bounds(
            row["welfare_ratio"], paper_bounds(name, d.shape_class(), n))
    if sim is not None:
        row.update(simulated_columns(sim, name, ex))
    return row


def section_rows(section: str, samples: int, seed: int, budget: float, tol: float) -> list[dict]:
    """The rows of one section (module doc): ``example42`` and ``table1`` with frontier tolerance ``tol``,
    ``frontier`` with ``DEMO_FRONTIER_TOL``, ``asymmetric`` (no budget or tolerance: exact products of the
    classes' laws and order-statistic draws)."""
    from distributions.errors import InputError

    if section == "example42":
        return example42_rows(samples, seed, budget, tol)
    if section == "frontier":
        return frontier_cells(samples, seed, budget)["rows"]
    if section == "table1":
        return table1_rows(samples, seed, budget, tol)
    if section == "asymmetric":
        from .asymmetric import asymmetric_cells

        return asymmetric_cells(samples, seed)
    raise InputError("dist", f"expected a section of the demo ({', '.join(SECTIONS)}), got {section!r}")
