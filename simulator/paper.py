"""The pieces the paper reproductions share (``scripts/`` and ``auction-sim demo``): the paper's lower bounds on
W/OPT by class (``paper_bounds``), an independent re-solve of the Nash objectives on a frontier (``stable_nash``,
a cross-check of ``mechanisms.bargaining``), simulation with mode="auto" that records a refused or unaffordable
cell instead of failing (``simulate_rules``), one market's three solutions with bounds, simulation and CI checks
(``bargaining_cells``), and provenance records.
"""
from __future__ import annotations

import math
import os
import sys
import time

SOLUTIONS = ("ks", "nash", "cross-nash")
LABELS = {"ks": "KS", "nash": "Nash", "cross-nash": "cross-side Nash"}
METRICS = ("revenue", "surplus", "welfare", "sold")
#: a ratio "meets" a bound when it is at least bound - BOUND_TOL (the exact values are quadratures, ~1e-10)
BOUND_TOL = 1e-8
#: profile mode draws every buyer: a cell whose n * samples exceeds this gets fewer samples (or none)
DEFAULT_PROFILE_BUDGET = 2e9
#: fewest auctions a reduced cell may use before it is recorded as not simulated
MIN_SAMPLES = 1000


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
        raise ValueError(f"solution: must be one of {', '.join(SOLUTIONS)}, got {kind!r}")
    return out


def mark_bounds(ratio: float, bounds) -> tuple[str, float, str, bool | None]:
    """(text 'Thm 4.1(i) >= 0.5 yes; ...', strongest bound, its source, meets the strongest) for one cell."""
    if not bounds:
        return "no lower bound (Table 1: o(1))", math.nan, "", None
    parts = [f"{src} >= {b:.6g} {'yes' if ratio >= b - BOUND_TOL else 'NO'}" for src, b in bounds]
    src, b = max(reversed(bounds), key=lambda t: t[1])  # ties: the class-specific (later) theorem
    return "; ".join(parts), b, src, bool(ratio >= b - BOUND_TOL)


# ---------------------------------------------------------------------- an independent Nash re-solve
def stable_nash(F, weight: float) -> tuple[float, float]:
    """(Π, U) maximising log Π + weight·log U on the piecewise-linear frontier ``F`` (weight = n: the Nash
    solution, Definition 5.1, Π (U/n)^n; weight = 1: cross-side Nash, Definition 5.2).

    Independent of ``mechanisms.bargaining``: on each edge a -> b the stationary point is written for both ν and
    1 - ν, (ν, 1 - ν) ∝ (dΠ U_a + w dU Π_a, -(dΠ U_b + w dU Π_b)) (both positive inside the edge), so that 1 - ν
    keeps its relative precision when it is ~1/n (n = 1e30: the Nash solution sits 1e-30 from the buyer-optimal
    end). The two are divided by their computed sum, not by -(1 + w) dΠ dU (their sum in exact arithmetic): each
    carries its own cancellation error, and weights summing to 1 - 5e-11 put the point below the edge, where it
    scored less than a vertex and lost to it (cross-side Nash on the bimodal mixture at n = 10: 5e-7 off)."""
    pts = F.points
    w = float(weight)
    best = (-math.inf, pts[0].revenue, pts[0].surplus)

    def consider(pi, u):
        nonlocal best
        if pi > 0 and u > 0:
            val = math.log(pi) + w * math.log(u)
            if val > best[0]:
                best = (val, pi, u)

    for p in pts:
        consider(p.revenue, p.surplus)
    for a, b in zip(pts, pts[1:]):
        dp, du = b.revenue - a.revenue, b.surplus - a.surplus
        if dp >= 0 or du <= 0:
            continue
        nu = dp * a.surplus + w * du * a.revenue
        one_minus = -(dp * b.surplus + w * du * b.revenue)
        if 0.0 < nu and 0.0 < one_minus:
            total = nu + one_minus
            nu, one_minus = nu / total, one_minus / total
            consider(one_minus * a.revenue + nu * b.revenue, one_minus * a.surplus + nu * b.surplus)
    return best[1], best[2]


# ---------------------------------------------------------------------- simulation with graceful refusal
def simulate_rules(named_rules, dist, n, samples: int, seed: int,
                   budget: float = DEFAULT_PROFILE_BUDGET, min_samples: int = MIN_SAMPLES):
    """Simulate (name, rule) pairs on common random numbers with mode="auto".

    Returns (estimates, info): estimates = {name: {metric: (estimate, stderr, ci_low, ci_high)}} or None when
    the cell is not simulated; info = {"mode", "samples", "note", "warnings"}. A market the simulator refuses
    (ValueError, e.g. n beyond profile mode before the order-statistic mode exists) is recorded with the
    simulator's reason. When n * samples exceeds ``budget`` buyer values, a 64-auction pilot asks which mode
    "auto" picks: a mode whose cost does not grow with n runs in full; profile mode runs budget / n auctions
    (noted), or none if that is below ``min_samples``."""
    from .engine import simulate

    def run(s):
        return simulate(named_rules, dist, n, samples=int(s), seed=seed, mode="auto", progress=False,
                        exact=False, benchmarks=False)

    info = {"mode": "", "samples": 0, "note": "", "warnings": ""}
    target = int(samples)
    try:
        if float(n) * target > budget:
            pilot = run(min(64, target))
            if pilot.mode == "profile":
                reduced = int(budget // float(n))
                if reduced < min_samples:
                    info["note"] = (f"not simulated: mode=auto runs profile mode here (O(n) per auction) and "
                                    f"{min_samples} auctions of n = {float(n):g} exceed the budget of "
                                    f"{budget:.3g} buyer values (the order-statistic mode would make it cheap)")
                    return None, info
                info["note"] = (f"samples reduced from {target} to {reduced}: profile mode costs n per auction "
                                f"(budget {budget:.3g} buyer values)")
                target = reduced
        res = run(target)
    except ValueError as exc:
        info["note"] = "not simulated: " + (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return None, info
    out: dict = {}
    for row in res.frame.itertuples():
        out.setdefault(row.mechanism, {})[row.metric] = (row.estimate, row.stderr, row.ci_low, row.ci_high)
    info.update(mode=res.mode, samples=res.samples, warnings=" | ".join(res.warnings))
    return out, info


def ci_contains(lo: float, hi: float, x: float) -> bool:
    """lo <= x <= hi, with a relative slack of 1e-12 for the rounding of an exact value (n = 1e30: a CI of zero
    width around 1 - 1e-30)."""
    slack = 1e-12 * max(abs(x), abs(lo), abs(hi))
    return bool(lo - slack <= x <= hi + slack)


def market_seed(seed: int, *key) -> int:
    """The seed of one market of a multi-market run: SeedSequence([seed, crc32 of each key]) -> a 63-bit int.
    The mechanisms of a market share its draws (common random numbers); different markets get independent
    streams (the same seed for all would make every market's errors move together)."""
    import zlib

    import numpy as np

    words = [int(seed)] + [zlib.crc32(str(k).encode()) for k in key]
    state = np.random.SeedSequence(words).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & (2 ** 63 - 1)


# ---------------------------------------------------------------------- one market, three solutions
def bargaining_cells(spec: str, n, *, samples: int = 0, seed: int = 0, tol: float = 1e-6,
                     budget: float = DEFAULT_PROFILE_BUDGET, extra_columns: bool = True) -> list[dict]:
    """Rows (one per solution) for the market (spec, n): exact Π, U, W of the implementing mechanism, the
    benchmarks, W/OPT and the paper's bounds for the class, KS fairness, an independent Nash re-solve, and with
    ``samples`` > 0 the simulated estimates (all three mechanisms on common random numbers, the market's own
    seed ``market_seed(seed, spec, n)``) with their CIs and whether each CI contains the exact value. An undefined market (example42 at n = 1) gives one 'skipped' row.
    """
    from distributions import parse_spec
    from mechanisms.auctions import SecondPrice
    from mechanisms.bargaining import solve
    from mechanisms.frontier import Frontier

    base = {"distribution": spec, "n": float(n)}
    try:
        dist = parse_spec(spec, n=n)
    except ValueError as exc:
        return [dict(base, solution=kind, note=f"skipped: {exc}") for kind in SOLUTIONS]
    t0 = time.perf_counter()
    shape = dist.shape_class()
    F = Frontier(dist, n, tol=tol)
    sols = {kind: solve(F, kind) for kind in SOLUTIONS}
    spa_surplus = SecondPrice(0.0).exact(dist, n).surplus
    exact_seconds = time.perf_counter() - t0
    sim, info = (None, {"mode": "", "samples": 0, "note": "not simulated (samples = 0)", "warnings": ""})
    t1 = time.perf_counter()
    cell_seed = market_seed(seed, spec, f"{float(n):.17g}")
    if samples:
        sim, info = simulate_rules([(k, s.rule) for k, s in sols.items()], dist, n, samples, cell_seed, budget)
    sim_seconds = time.perf_counter() - t1
    rows = []
    for kind, s in sols.items():
        ex = s.exact
        ratio = ex.welfare / s.opt
        text, bound, source, meets = mark_bounds(ratio, paper_bounds(kind, shape, n))
        row = dict(base, distribution=dist.spec if spec == "example42" else spec, shape=str(shape),
                   solution=kind, revenue=ex.revenue, surplus=ex.surplus, welfare=ex.welfare, opt=s.opt,
                   revenue_max=s.revenue_max, surplus_max=s.surplus_max, revenue_ratio=ex.revenue / s.revenue_max,
                   surplus_ratio=ex.surplus / s.surplus_max, welfare_ratio=ratio, bound=bound,
                   bound_source=source, meets_bound=meets, bounds=text)
        if kind == "ks":
            row["check"] = "KS fairness |Π/Π* - U/U*|"
            row["check_value"] = abs(s.revenue_ratio - s.surplus_ratio)
        else:
            pi, u = stable_nash(F, float(n) if kind == "nash" else 1.0)
            row["check"] = "independent re-solve W/OPT"
            row["check_value"] = (pi + u) / s.opt
        row["check_ok"] = bool(abs(row["check_value"] - (0.0 if kind == "ks" else ratio)) <= 1e-6)
        if extra_columns:
            row["spa_surplus"] = spa_surplus
            row["surplus_max_over_spa"] = s.surplus_max / spa_surplus if spa_surplus > 0 else \
                (math.inf if s.surplus_max > 0 else math.nan)
            row["lowest_value"] = float(dist.v(1.0)) + 0.0
            row["frontier_points"] = len(F.points)
        row.update(sim_mode=info["mode"], sim_samples=info["samples"], sim_seed=cell_seed if samples else None,
                   sim_note=info["note"], sim_warnings=info["warnings"])
        if sim is not None:
            for metric in ("revenue", "surplus", "welfare"):
                est, se, lo, hi = sim[kind][metric]
                exact_value = getattr(ex, metric)
                row[f"sim_{metric}"], row[f"sim_{metric}_stderr"] = est, se
                row[f"sim_{metric}_ci_low"], row[f"sim_{metric}_ci_high"] = lo, hi
                row[f"{metric}_ci_contains_exact"] = ci_contains(lo, hi, exact_value)
                row[f"{metric}_z"] = (est - exact_value) / se if se > 0 else (0.0 if est == exact_value else math.inf)
            row["sim_welfare_ratio"] = row["sim_welfare"] / s.opt
            row["sim_welfare_ratio_ci_low"] = row["sim_welfare_ci_low"] / s.opt
            row["sim_welfare_ratio_ci_high"] = row["sim_welfare_ci_high"] / s.opt
        row["exact_seconds"], row["sim_seconds"] = exact_seconds, sim_seconds
        rows.append(row)
    return rows


def ratio_curves(spec: str, ns, tol: float = 1e-6, m: int = 1):
    """Exact W/OPT of the three solutions at each n: ({kind: [ratio]}, {kind: [(n, library, re-solved)]}).

    The Nash and cross-side Nash ratios are also re-solved independently on the same frontier
    (``stable_nash``); where the two disagree by more than 1e-6 the curve takes the re-solved value (an exact
    maximisation of the same objective on the same frontier) and the disagreement is returned for reporting."""
    from distributions import parse_spec
    from mechanisms.bargaining import solve
    from mechanisms.frontier import Frontier

    curve = {k: [] for k in SOLUTIONS}
    disagree = {k: [] for k in SOLUTIONS if k != "ks"}
    for n in ns:
        d = parse_spec(spec, n=n)
        F = Frontier(d, n, m, tol=tol)
        for kind in SOLUTIONS:
            sol = solve(F, kind)
            value = sol.welfare_ratio
            if kind != "ks":
                pi, u = stable_nash(F, float(n) if kind == "nash" else 1.0)
                check = (pi + u) / sol.opt
                if abs(check - value) > 1e-6:
                    disagree[kind].append((n, value, check))
                    value = check
            curve[kind].append(value)
    return curve, disagree


def disagreement_markers(disagree: dict) -> dict:
    """Plot markers (``plots.plot_ratios_vs_n(extra=...)``) of the library's values where its solve disagrees
    with the independent re-solve (the curves show the re-solved values there)."""
    from .plots import SOLUTION_STYLE

    out = {}
    for kind, pts in disagree.items():
        if pts:
            label, color, _ = SOLUTION_STYLE[kind]
            out[f"{label}: library solve() where it disagrees with the re-solve (curve: re-solved)"] = (
                [p[0] for p in pts], [p[1] for p in pts],
                {"marker": "o", "color": color, "mfc": "none", "ms": 10, "mew": 1.5})
    return out

def cell_text(row: dict) -> str:
    """'0.9468 ok | sim 0.9465 [0.9431, 0.9499] in' for printed tables."""
    if "welfare_ratio" not in row or row.get("welfare_ratio") is None or \
            (isinstance(row.get("welfare_ratio"), float) and math.isnan(row["welfare_ratio"])):
        return "skipped"
    meets = row.get("meets_bound")
    mark = "" if meets is None or (isinstance(meets, float) and math.isnan(meets)) else \
        (" ok" if meets else f" MISS(<{row['bound']:.4g})")
    text = f"{row['welfare_ratio']:.4f}{mark}"
    if not row.get("check_ok", True):
        text += f" [re-solve {row['check_value']:.4f}!]"
    lo = row.get("sim_welfare_ratio_ci_low")
    if lo is not None and not (isinstance(lo, float) and math.isnan(lo)):
        hit = "in" if row.get("welfare_ci_contains_exact") else "OUT"
        if "not meaningful" in str(row.get("sim_warnings") or ""):
            hit += "*"  # heavy tail: the normal CI is not meaningful
        text += f" | sim [{lo:.4f}, {row['sim_welfare_ratio_ci_high']:.4f}] {hit}"
    elif row.get("sim_note"):
        text += " | not sim."
    return text


# ---------------------------------------------------------------------- provenance
def git_state(root: str | None = None) -> dict:
    import subprocess

    root = root or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
        return {"commit": head or None, "dirty": bool(dirty)} if head else {}
    except Exception:
        return {}


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
        versions["auction-sim"] = _pyproject_version()
    out = {"timestamp_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command_line": [os.path.basename(sys.argv[0])] + sys.argv[1:], "cwd": os.getcwd(), "seed": seed,
           "versions": versions, "git": git_state(), "platform": platform.platform(),
           "cpu_count": os.cpu_count(), "numba_num_threads": os.environ.get("NUMBA_NUM_THREADS"),
           "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR")}
    out.update(extra or {})
    return out


def _pyproject_version() -> str | None:
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pyproject.toml")
    try:
        import tomllib

        with open(path, "rb") as fh:
            return tomllib.load(fh)["project"]["version"]
    except Exception:
        return None


def write_json(path: str, obj) -> None:
    import json

    from .cli_common import _clean

    with open(path, "w") as fh:
        json.dump(_clean(obj), fh, indent=2, default=str)
        fh.write("\n")
