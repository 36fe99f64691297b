"""The pieces the paper reproductions share (``scripts/`` and ``auction-sim demo``): the paper's lower bounds on
W/OPT by class (``paper_bounds``), simulation with mode="auto" that records a refused or unaffordable cell
instead of failing (``simulate_rules``), one market's three bargaining solutions with bounds, simulation and CI
checks (``bargaining_cells``), exact W/OPT curves against n (``ratio_curves``), and provenance records.

The bargaining solutions themselves come from the library (``mechanisms.bargaining.solve``); its tests check
them against closed forms and independent maximisations.
"""
from __future__ import annotations

import math
import os
import sys
import time

from distributions.errors import InputError
from mechanisms.bargaining import SOLUTIONS

from ..core.output import json_safe, write_atomic

LABELS = {"ks": "KS", "nash": "Nash", "cross-nash": "cross-side Nash"}
#: the columns of ``bargaining_cells`` that differ from run to run (left out of files that must be the same bytes)
TIMING_COLUMNS = ("exact_seconds", "sim_seconds")
METRICS = ("revenue", "surplus", "welfare", "sold")
#: a ratio "meets" a bound when it is at least bound - BOUND_TOL (the exact values are quadratures, ~1e-10)
BOUND_TOL = 1e-8
#: profile mode draws every buyer: a cell whose n * samples exceeds this gets fewer samples (or none)
DEFAULT_PROFILE_BUDGET = 2e9
#: fewest auctions a reduced cell may use before it is recorded as not simulated
MIN_SAMPLES = 1000
#: the KS fairness check |Π/Π* - U/U*| (Definition 4.1) passes below this
FAIRNESS_TOL = 1e-6
#: the root of the repository (provenance: git state, pyproject.toml of an uninstalled checkout)
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------------- the paper's bounds
def paper_bounds(kind: str, shape, n: float) -> list[tuple[str, float]]:
    """The paper's lower bounds on W/OPT for a solution ``kind`` ('ks', 'nash', 'cross-nash'), a distribution
    of class ``shape`` (``Distribution.shape_class()``) and n buyers: [(source, bound)], weakest first.

    KS: >= 1/2 always (Theorem 4.1 (i)), >= n/(n+1) for regular and anti-MHR (4.1 (ii)). Nash: >= (n-1)/n for
    regular and anti-MHR (Theorem 5.2), nothing in general (Theorem 5.1: o(1)). Cross-side Nash: >= 1/2 always
    (Theorem 5.3 (i)), >= (n-1)/n for regular and anti-MHR (5.3 (ii))."""
    n = float(n)
    reg_anti = bool(shape.regular and shape.anti_mhr)
    out: list[tuple[str, float]] = []
    if kind == "ks":
        out.append(("Thm 4.1(i)", 0.5))
        if reg_anti:
            out.append(("Thm 4.1(ii)", 1.0 - 1.0 / (n + 1.0)))
    elif kind == "nash":
        if reg_anti:
            out.append(("Thm 5.2", 1.0 - 1.0 / n))
    elif kind == "cross-nash":
        out.append(("Thm 5.3(i)", 0.5))
        if reg_anti:
            out.append(("Thm 5.3(ii)", 1.0 - 1.0 / n))
    else:
        raise InputError("solution", f"must be one of {', '.join(SOLUTIONS)}, got {kind!r}")
    return out


def mark_bounds(ratio: float, bounds) -> tuple[str, float, str, bool | None]:
    """(text 'Thm 4.1(i) >= 0.5 yes; ...', strongest bound, its source, meets the strongest) for one cell."""
    if not bounds:
        return "no lower bound (Table 1: o(1))", math.nan, "", None
    parts = [f"{src} >= {b:.6g} {'yes' if ratio >= b - BOUND_TOL else 'NO'}" for src, b in bounds]
    src, b = max(reversed(bounds), key=lambda t: t[1])  # ties: the class-specific (later) theorem
    return "; ".join(parts), b, src, bool(ratio >= b - BOUND_TOL)


# ---------------------------------------------------------------------- simulation with graceful refusal
def simulate_rules(named_rules, market, samples: int, seed: int,
                   budget: float = DEFAULT_PROFILE_BUDGET, min_samples: int = MIN_SAMPLES):
    """Simulate (name, rule) pairs on common random numbers with mode="auto" in ``market`` (a ``Market``).

    Returns (estimates, info): estimates = {name: {metric: (estimate, stderr, ci_low, ci_high)}} or None when
    the cell is not simulated; info = {"mode", "samples", "note", "warnings"}. A market the simulator refuses
    (``InputError``, e.g. n beyond profile mode without the order-statistic mode) is recorded with the
    simulator's reason. Ctrl-C raises KeyboardInterrupt (never a partial cell). When n * samples exceeds ``budget`` buyer values, a 64-auction pilot asks which mode
    "auto" picks: a mode whose cost does not grow with n runs in full; profile mode runs budget / n auctions
    (noted), or none if that is below ``min_samples``."""
    from ..core.engine import simulate

    def run(s):
        return simulate(named_rules, market, samples=int(s), seed=seed, mode="auto", progress=False,
                        exact=False, benchmarks=False)

    info = {"mode": "", "samples": 0, "note": "", "warnings": ""}
    try:
        target = affordable_samples(run, float(market.n), int(samples), budget, min_samples, info)
        if target is None:
            return None, info
        res = run(target)
    except InputError as exc:
        info["note"] = "not simulated: " + (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return None, info
    if res.partial:  # Ctrl-C inside the simulation: it returned what it had; the cell is not a result
        raise KeyboardInterrupt
    out: dict = {}
    for row in res.frame.itertuples():
        out.setdefault(row.mechanism, {})[row.metric] = (row.estimate, row.stderr, row.ci_low, row.ci_high)
    info.update(mode=res.mode, samples=res.samples, warnings=" | ".join(res.warnings), result=res)
    return out, info


def affordable_samples(run, n: float, target: int, budget: float, min_samples: int, info: dict) -> int | None:
    """The number of auctions ``simulate_rules`` can afford: ``target``, or budget / n when a pilot run shows
    that mode="auto" picks profile mode (cost n per auction), or None (with ``info["note"]`` saying why)."""
    if n * target <= budget:
        return target
    pilot = run(min(64, target))
    if pilot.mode != "profile":
        return target
    reduced = int(budget // n)
    if reduced < min_samples:
        info["note"] = (f"not simulated: mode=auto runs profile mode here (O(n) per auction) and "
                        f"{min_samples} auctions of n = {n:g} exceed the budget of "
                        f"{budget:.3g} buyer values (the order-statistic mode would make it cheap)")
        return None
    info["note"] = (f"samples reduced from {target} to {reduced}: profile mode costs n per auction "
                    f"(budget {budget:.3g} buyer values)")
    return reduced


def ci_contains(lo: float, hi: float, x: float) -> bool | None:
    """lo <= x <= hi up to the rounding of an exact value (n = 1e30: a CI of zero width around 1 - 1e-30); None
    when there is no CI (not valid: heavy tail, too few samples). The single definition is
    ``simulator.core.result.ci_contains``."""
    from ..core.result import ci_contains as contains_exact  # imported on use: result loads the kernels

    return contains_exact(lo, hi, x)


def market_seed(seed: int, *key) -> int:
    """The seed of one market of a multi-market run: SeedSequence([seed, crc32 of each key]) -> a 63-bit int.
    The mechanisms of a market share its draws (common random numbers); different markets get independent
    streams (the same seed for all would make every market's errors move together)."""
    import zlib

    import numpy as np

    words = [int(seed)] + [zlib.crc32(str(k).encode()) for k in key]
    state = np.random.SeedSequence(words).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & (2 ** 63 - 1)


def simulated_columns(sim: dict, name: str, exact, metrics=("revenue", "surplus", "welfare"),
                      z_scores: bool = False) -> dict:
    """sim_<metric>, its stderr and CI, and whether the CI contains the exact value (with ``z_scores`` also
    (estimate - exact) / stderr), for one simulated mechanism ``name``: ``simulator.core.result.ci_contains`` and
    ``z_score``, None where the CI is not valid."""
    from ..core.result import z_score

    row = {}
    for metric in metrics:
        est, se, lo, hi = sim[name][metric]
        exact_value = getattr(exact, metric)
        row[f"sim_{metric}"], row[f"sim_{metric}_stderr"] = est, se
        row[f"sim_{metric}_ci_low"], row[f"sim_{metric}_ci_high"] = lo, hi
        row[f"{metric}_ci_contains_exact"] = ci_contains(lo, hi, exact_value)
        if z_scores:
            no_ci = row[f"{metric}_ci_contains_exact"] is None
            row[f"{metric}_z"] = None if no_ci else z_score(est, se, exact_value)  # None: no CI, or z = +-inf
    return row


# ---------------------------------------------------------------------- one market, three solutions
def bargaining_cells(spec: str, n, *, samples: int = 0, seed: int = 0, tol: float = 1e-6,
                     budget: float = DEFAULT_PROFILE_BUDGET, extra_columns: bool = True,
                     timings: bool = True) -> list[dict]:
    """Rows (one per solution) for the market (spec, n): exact Π, U, W of the implementing mechanism, the
    benchmarks, W/OPT and the paper's bounds for the class (Theorems 4.1, 5.2, 5.3), KS fairness
    (Definition 4.1), and with ``samples`` > 0 the simulated estimates (all three mechanisms on common random
    numbers, the market's own seed ``market_seed(seed, spec, n)``) with their CIs and whether each CI contains
    the exact value. An undefined market (example42 at n = 1) gives one 'skipped' row per solution.
    ``timings``: the columns exact_seconds and sim_seconds (leave them out for a file that must be the same
    bytes on every run: ``TIMING_COLUMNS``).
    """
    from distributions import Market

    base = {"distribution": spec, "n": float(n)}
    try:
        market = Market.iid(spec, n)
    except InputError as exc:
        return [dict(base, solution=kind, note=f"skipped: {exc}") for kind in SOLUTIONS]
    t0 = time.perf_counter()
    F, sols, spa_surplus = solve_market(market, tol)
    exact_seconds = time.perf_counter() - t0
    cell_seed = market_seed(seed, spec, f"{float(n):.17g}")
    t1 = time.perf_counter()
    sim, info = None, {"mode": "", "samples": 0, "note": "not simulated (samples = 0)", "warnings": ""}
    if samples:
        sim, info = simulate_rules([(k, s.rule) for k, s in sols.items()], market, samples, cell_seed, budget)
    sim_seconds = time.perf_counter() - t1
    rows = []
    for kind, s in sols.items():
        row = dict(base, **solution_columns(market, kind, s, spec))
        if extra_columns:
            row.update(market_columns(market, F, s, spa_surplus))
        row.update(sim_mode=info["mode"], sim_samples=info["samples"], sim_seed=cell_seed if samples else None,
                   sim_note=info["note"], sim_warnings=info["warnings"])
        if sim is not None:
            row.update(simulated_ratio_columns(sim, kind, s))
        if timings:
            row["exact_seconds"], row["sim_seconds"] = exact_seconds, sim_seconds
        rows.append(row)
    return rows


def solve_market(market, tol: float):
    """(frontier, {kind: Solution}, U of the second-price auction) of one market: the Pareto frontier
    (Section 3), the KS, Nash and cross-side Nash solutions on it (Definitions 4.1, 5.1, 5.2) and
    U(SPA), the surplus the regular and anti-MHR bounds take as U* (Lemma C.2)."""
    from mechanisms.auctions import SecondPrice
    from mechanisms.bargaining import solve
    from mechanisms.frontier import Frontier

    F = Frontier(market, tol=tol)
    sols = {kind: solve(F, kind) for kind in SOLUTIONS}
    return F, sols, SecondPrice(0.0).exact(market).surplus


def solution_columns(market, kind: str, s, spec: str) -> dict:
    """The exact columns of one solution: Π, U, W of its mechanism, the benchmarks Π*, U*, OPT, the ratios,
    the paper's bounds for the class, and for KS the fairness check |Π/Π* - U/U*| (Definition 4.1)."""
    ex, dist = s.exact, market.dist
    ratio = ex.welfare / s.opt
    text, bound, source, meets = mark_bounds(ratio, paper_bounds(kind, dist.shape_class(), market.n))
    row = dict(distribution=dist.spec if spec == "example42" else spec, shape=str(dist.shape_class()),
               solution=kind, revenue=ex.revenue, surplus=ex.surplus, welfare=ex.welfare, opt=s.opt,
               revenue_max=s.revenue_max, surplus_max=s.surplus_max, revenue_ratio=ex.revenue / s.revenue_max,
               surplus_ratio=ex.surplus / s.surplus_max, welfare_ratio=ratio, bound=bound,
               bound_source=source, meets_bound=meets, bounds=text)
    if kind == "ks":
        row["check"] = "KS fairness |Π/Π* - U/U*|"
        row["check_value"] = abs(s.revenue_ratio - s.surplus_ratio)
        row["check_ok"] = bool(row["check_value"] <= FAIRNESS_TOL)
    return row


def market_columns(market, F, s, spa_surplus: float) -> dict:
    """What explains a missed bound: U(SPA), U*/U(SPA), the lowest value v(1), and the frontier's size."""
    over_spa = s.surplus_max / spa_surplus if spa_surplus > 0 else (math.inf if s.surplus_max > 0 else math.nan)
    return {"spa_surplus": spa_surplus, "surplus_max_over_spa": over_spa,
            "lowest_value": float(market.dist.v(1.0)) + 0.0, "frontier_points": len(F.points)}


def simulated_ratio_columns(sim: dict, kind: str, s) -> dict:
    """The simulated columns of one solution, its z-scores against the exact values, and W/OPT with its CI."""
    row = simulated_columns(sim, kind, s.exact, z_scores=True)
    row["sim_welfare_ratio"] = row["sim_welfare"] / s.opt
    row["sim_welfare_ratio_ci_low"] = row["sim_welfare_ci_low"] / s.opt
    row["sim_welfare_ratio_ci_high"] = row["sim_welfare_ci_high"] / s.opt
    return row


#: Table 1's distributions and the paper's class of each (``scripts/table1.py``, ``experiments/table1.toml``)
TABLE1_DISTRIBUTIONS = (
    ("lomax:shape=3", "regular, anti-MHR"),
    ("pareto:shape=2", "regular, anti-MHR"),
    ("equal-revenue:high=100", "regular (atom at high: not anti-MHR; untruncated: regular, anti-MHR)"),
    ("uniform", "MHR"),
    ("exponential", "MHR (and regular, anti-MHR)"),
    ("example42", "MHR worst case (Example 4.2; its atom at K keeps MHR)"),
    ("weibull:shape=0.5", "anti-MHR, not regular"),
    ("mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)", "general"),
)
#: the key columns of table1.csv, first
TABLE1_FIRST_COLUMNS = ["distribution", "paper_class", "shape", "n", "solution", "welfare_ratio", "bound",
                        "bound_source", "meets_bound", "bounds", "sim_welfare_ratio", "sim_welfare_ratio_ci_low",
                        "sim_welfare_ratio_ci_high", "welfare_ci_contains_exact", "welfare_z", "sim_mode",
                        "sim_samples", "sim_note", "sim_warnings"]


def table1_cells(spec: str, n, *, samples: int, seed: int, tol: float, budget: float) -> list[dict]:
    """One market of Table 1: ``bargaining_cells`` without timings, named by the table's spec (example42, not
    its n-dependent spec) and with the paper's class of the distribution (``TABLE1_DISTRIBUTIONS``; "" for
    another one)."""
    paper_class = dict(TABLE1_DISTRIBUTIONS).get(spec, "")
    cells = bargaining_cells(spec, n, samples=samples, seed=seed, tol=tol, budget=budget, timings=False)
    for r in cells:
        r["distribution"] = spec
        r["paper_class"] = paper_class
    return cells


def table1_frame(rows):
    """The rows of ``table1_cells`` as table1.csv's frame: the key columns first (``TABLE1_FIRST_COLUMNS``)."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    first = [c for c in TABLE1_FIRST_COLUMNS if c in frame]
    return frame[first + [c for c in frame.columns if c not in first]]


def example42_curve_row(n, tol: float) -> dict:
    """One n of Example 4.2's exact curve (``scripts/example42.py``, ``auction-sim run
    experiments/example42.toml``): K, the atom, E[v], the benchmarks OPT, Π*, U*, and the three solutions; for
    KS the factors of W/OPT = ρ (Π* + U*)/OPT (Theorem 4.1 (iii)), for Nash and cross-side Nash their ratios
    (Theorems 5.1, 5.3 (iii))."""
    from distributions import Market
    from mechanisms.bargaining import solve
    from mechanisms.frontier import Frontier

    market = Market.iid("example42", n)
    d = market.dist
    F = Frontier(market, tol=tol)
    sols = {k: solve(F, k) for k in SOLUTIONS}
    ks = sols["ks"]
    row = {"n": float(n), "K": d.K, "atom_mass": d.atom_mass, "mean_value": d.mean, "opt": ks.opt,
           "revenue_max": ks.revenue_max, "surplus_max": ks.surplus_max,
           "opt_over_K": ks.opt / d.K, "revenue_max_over_opt": ks.revenue_max / ks.opt,
           "surplus_max_over_opt": ks.surplus_max / ks.opt,
           "ks_rho": ks.revenue_ratio, "ks_fairness_gap": abs(ks.revenue_ratio - ks.surplus_ratio),
           "ks_welfare_ratio": ks.welfare_ratio,
           "ks_rho_times_benchmarks_over_opt": ks.revenue_ratio * (ks.revenue_max + ks.surplus_max) / ks.opt,
           "frontier_points": len(F.points)}
    for kind in ("nash", "cross-nash"):
        s, key = sols[kind], kind.replace("-", "_")
        row[f"{key}_revenue_ratio"] = s.revenue_ratio
        row[f"{key}_surplus_ratio"] = s.surplus_ratio
        row[f"{key}_welfare_ratio"] = s.welfare_ratio
    return row


def ratio_curves(spec: str, ns, tol: float = 1e-6, m: int = 1) -> dict:
    """Exact W/OPT of the three solutions at each n: {kind: [ratio]} (Theorems 4.1 (iii), 5.1, 5.3 (iii) for
    Example 4.2)."""
    from distributions import Market
    from mechanisms.bargaining import solve
    from mechanisms.frontier import Frontier

    curve = {k: [] for k in SOLUTIONS}
    for n in ns:
        F = Frontier(Market.iid(spec, n, m), tol=tol)
        for kind in SOLUTIONS:
            curve[kind].append(solve(F, kind).welfare_ratio)
    return curve


def is_missing(value) -> bool:
    """None or NaN (a cell a frame left empty)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def cell_text(row: dict) -> str:
    """'0.9468 ok | sim 0.9465 [0.9431, 0.9499] in' for printed tables."""
    if is_missing(row.get("welfare_ratio")):
        return "skipped"
    meets = row.get("meets_bound")
    mark = "" if is_missing(meets) else (" ok" if meets else f" MISS(<{row['bound']:.4g})")
    text = f"{row['welfare_ratio']:.4f}{mark}"
    if not is_missing(row.get("check_ok")) and not row["check_ok"]:
        text += f" [{row['check']} {row['check_value']:.2g}!]"
    lo = row.get("sim_welfare_ratio_ci_low")
    if not is_missing(lo):
        hit = "in" if row.get("welfare_ci_contains_exact") else "OUT"
        if "not meaningful" in str(row.get("sim_warnings") or ""):
            hit += "*"  # heavy tail: the normal CI is not meaningful
        text += f" | sim [{lo:.4f}, {row['sim_welfare_ratio_ci_high']:.4f}] {hit}"
    elif row.get("sim_note"):
        text += " | not sim."
    return text


# ---------------------------------------------------------------------- provenance and files
def git_state(root: str | None = None) -> dict:
    """{"commit", "dirty"} of the checkout at ``root`` (default: this repository), or {} outside git."""
    import subprocess

    root = root or REPO_ROOT
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": head or None, "dirty": bool(dirty)} if head else {}


def provenance(seed=None, extra: dict | None = None) -> dict:
    """Package versions, seed, command line, timestamp (UTC), git commit, machine: what reproduces a run."""
    import datetime
    import platform
    from importlib import metadata

    versions = {"python": sys.version.split()[0]}
    for pkg in ("auction-sim", "numpy", "numba", "scipy", "pandas", "matplotlib", "tqdm"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    if versions.get("auction-sim") is None:  # running from a checkout without `pip install -e .`
        versions["auction-sim"] = pyproject_version()
    out = {"timestamp_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command_line": [os.path.basename(sys.argv[0])] + sys.argv[1:], "cwd": os.getcwd(), "seed": seed,
           "versions": versions, "git": git_state(), "platform": platform.platform(),
           "cpu_count": os.cpu_count(), "numba_num_threads": os.environ.get("NUMBA_NUM_THREADS"),
           "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR")}
    out.update(extra or {})
    return out


def pyproject_version() -> str | None:
    """The version in the checkout's pyproject.toml, or None."""
    import tomllib

    try:
        with open(os.path.join(REPO_ROOT, "pyproject.toml"), "rb") as fh:
            return tomllib.load(fh)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None


def write_json(path: str, obj) -> None:
    """``obj`` as indented JSON (NaN/inf as null), written atomically."""
    import json

    write_atomic(path, json.dumps(json_safe(obj), indent=2, default=str) + "\n")


def cells_frame(rows: list[dict]):
    """Rows (dicts) as a pandas frame whose whole-number columns stay exact where some rows lack them (a seed
    such as 8506221768809880123 would otherwise become a float and lose digits): pandas' nullable Int64."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    for col in frame.columns:
        values = [r.get(col) for r in rows]
        present = [v for v in values if v is not None]
        if present and frame[col].dtype.kind == "f" and all(isinstance(v, int) and not isinstance(v, bool)
                                                             for v in present):
            frame[col] = pd.array(values, dtype="Int64")
    return frame


def write_csv(path: str, frame) -> None:
    """A pandas frame as CSV without its index, written atomically."""
    write_atomic(path, frame.to_csv(index=False))


def write_text(path: str, text: str) -> None:
    """A text file, written atomically."""
    write_atomic(path, text)
