"""Gallery: one Pareto frontier per distribution class with the structure of the mechanisms along it
(Section 3: Theorems 3.4, 3.5, 3.7), checked, not just drawn.

Top panel: the frontier Π(U), its extreme points, the KS / Nash / cross-side Nash solutions and their simulated
(U, Π) with 95% CIs. Bottom panel, against the same U: the implementing indirect Vickrey auction at every extreme
point (Definition 2.4) -- its reserve and its pooled value ranges (all values in a range bid its bottom: the
gaps of the bid space and ironed intervals). Between extreme points the frontier mixes the two neighbours.

Classes and the structure the paper proves, which the script tests on the computed extreme points:
* regular, anti-MHR (lomax shape 3): second-price auctions, no pooling, reserve falling in U (Theorem 3.4);
* anti-MHR, not regular (0.9 exponential(1) + 0.1 exponential(0.05), a hyperexponential: Weibull shape 0.5,
  Table 1's representative, needs no pooling on its frontier at small n, so it would not show the bid space):
  reserve falling, the bid space expanding -- gaps nested, shrinking -- as U grows (Theorem 3.5);
* MHR (truncnorm mean 1, sd 1 on [0, 3]): below U+ = U(SPA) second-price auctions with a falling reserve, above
  it zero reserve and a shrinking bid space -- gaps growing (Theorem 3.7);
* MHR worst case (Example 4.2, n = 100): the same theorem, U+ ~ 0 there;
* general (0.5 U[0,1] + 0.5 U[2,3], a gap in the support): no theorem; what the frontier does.

    python scripts/gallery.py [--out DIR] [--quick] [--samples S] [--seed K]

Outputs: gallery_<class>.png, gallery_<class>.csv (extreme points: λ, Π, U, W, reserve, pooled ranges),
gallery.csv (the structure checks), provenance.json.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from simulator.paper import cli_args
from simulator.paper.reproduce import SOLUTIONS, ci_contains, market_seed, simulate_rules, write_csv

GALLERY = (
    ("regular_antimhr", "lomax:shape=3", 3, "regular, anti-MHR: Theorem 3.4", "thm34"),
    ("antimhr_not_regular", "mixture:0.9*exponential(rate=1)+0.1*exponential(rate=0.05)", 2,
     "anti-MHR, not regular: Theorem 3.5", "thm35"),
    ("mhr", "truncnorm:mean=1,sd=1,low=0,high=3", 3, "MHR: Theorem 3.7", "thm37"),
    ("mhr_worst_case", "example42", 100, "MHR worst case (Example 4.2): Theorem 3.7", "thm37"),
    ("general", "mixture:0.5*uniform(low=0;high=1)+0.5*uniform(low=2;high=3)", 3, "general (a gap in the support)",
     None),
)
TOL = 1e-9  # relative slack of the structure checks


def gaps(rule, dist):
    """Effective gaps of the bid space: (pool_bid, pool_next) for the pools that hold values above their bid
    (an atom of F pooled at its own value, e.g. Example 4.2's top atom with nothing above it, restricts nothing)."""
    out = []
    for lo, b, nx in zip(rule.pool_lo, rule.pool_bid, rule.pool_next):
        top = float(dist.v(max(float(lo), 0.0)))
        if nx > b * (1 + 1e-12) + 1e-300 and top > b * (1 + 1e-12) + 1e-300:
            out.append((float(b), float(nx)))
    return out


def bid_space(rule, dist):
    """The effective bid space B of the indirect Vickrey auction as closed intervals: [reserve, inf) minus the
    open gaps (bid, next)."""
    pieces = [(float(rule.reserve), math.inf)]
    for g0, g1 in sorted(gaps(rule, dist)):
        out = []
        for a, b in pieces:
            if g1 <= a or g0 >= b:
                out.append((a, b))
                continue
            if a <= g0:
                out.append((a, g0))
            if g1 < b:
                out.append((g1, b))
        pieces = out
    return pieces


def subset(inner, outer, scale) -> bool:
    """Bid space ``inner`` contained in ``outer`` (closed intervals, slack TOL * scale)."""
    eps = TOL * scale + 1e-12
    return all(any(a >= c - eps and b <= d + eps for c, d in outer) for a, b in inner)


def structure_checks(F, kind, u_plus):
    """The paper's structure along the frontier, tested on consecutive extreme points (sorted by U):
    Theorem 3.4: no gaps, reserve falling; 3.5: reserve falling, B(U) growing (B at lower U inside B at higher U);
    3.7: up to U+ no gaps and the reserve falling, beyond U+ zero reserve and B(U) shrinking."""
    pts = F.points
    scale = max([abs(p.rule.reserve) for p in pts] + [1.0])
    uscale = max(abs(F.surplus_max), 1e-300)

    def falling(ps):
        return bool(np.all(np.diff([p.rule.reserve for p in ps]) <= TOL * scale))

    out = {}
    if kind == "thm34":
        out["second-price (no gaps in B)"] = all(not gaps(p.rule, F.dist) for p in pts)
        out["reserve non-increasing in U"] = falling(pts)
    elif kind == "thm35":
        out["reserve non-increasing in U"] = falling(pts)
        out["B(U) expands with U"] = all(subset(bid_space(a.rule, F.dist), bid_space(b.rule, F.dist), scale)
                                         for a, b in zip(pts, pts[1:]))
        out["points with gaps in B"] = sum(bool(gaps(p.rule, F.dist)) for p in pts)
    elif kind == "thm37":
        below = [p for p in pts if p.surplus <= u_plus + 1e-9 * uscale]
        above = [p for p in pts if p.surplus > u_plus + 1e-9 * uscale]
        out["U <= U+: second-price (no gaps)"] = all(not gaps(p.rule, F.dist) for p in below)
        out["U <= U+: reserve non-increasing"] = falling(below)
        out["U > U+: zero reserve"] = all(p.rule.reserve <= TOL * scale for p in above)
        out["U > U+: B(U) shrinks with U"] = all(subset(bid_space(b.rule, F.dist), bid_space(a.rule, F.dist), scale)
                                                 for a, b in zip(above, above[1:]))
        out["points at or below U+"], out["points above U+"] = len(below), len(above)
    return out


def pooled_text(dist, rule) -> str:
    parts = []
    for lo, hi, b, nx in zip(rule.pool_lo, rule.pool_hi, rule.pool_bid, rule.pool_next):
        top = float(dist.v(max(lo, 0.0)))
        parts.append(f"values [{float(dist.v(min(hi, 1.0))):.4g}, {top:.4g}] bid {b:.4g} (next bid {nx:.4g})")
    return "; ".join(parts)


def main(argv=None) -> int:
    p = cli_args.parser("gallery", __doc__.splitlines()[0], samples=100_000, quick_samples=5000)
    args = cli_args.parse(p, argv)
    import pandas as pd

    tol = 1e-4 if args.quick else 1e-7
    checks = [gallery_market(key, spec, n, label, kind, tol, args) for key, spec, n, label, kind in GALLERY]
    write_csv(cli_args.out(args, "gallery.csv"), pd.DataFrame(checks))
    print_report(checks)
    cli_args.finish(args, "gallery", {"frontier_tol": tol})
    return 0


def gallery_market(key: str, spec: str, n, label: str, kind, tol: float, args) -> dict:
    """One class of the gallery: the frontier, its three solutions simulated, the structure theorem checked on
    the extreme points (Theorems 3.4, 3.5, 3.7), gallery_<key>.csv and gallery_<key>.png. Returns its row of
    gallery.csv."""
    from distributions import Market
    from mechanisms.auctions import SecondPrice
    from mechanisms.bargaining import solve
    from mechanisms.frontier import Frontier

    market = Market.iid(spec, n)
    d = market.dist
    F = Frontier(market, tol=tol)
    sols = {k: solve(F, k) for k in SOLUTIONS}
    u_plus = SecondPrice(0.0).exact(market).surplus
    seed = market_seed(args.seed, "gallery", spec, n)
    sim, info = simulate_rules([(k, s.rule) for k, s in sols.items()], market, args.samples, seed, args.budget)
    result = structure_checks(F, kind, u_plus) if kind else {}
    covered = []
    if sim is not None:
        for k, s in sols.items():
            for metric in ("revenue", "surplus"):
                _, _, lo, hi = sim[k][metric]
                covered.append(ci_contains(lo, hi, getattr(s.exact, metric)))
    row = {"class": key, "distribution": d.spec, "n": n, "shape": str(d.shape_class()),
           "theorem": label, "extreme_points": len(F.points), "U_myerson": F.surplus_min,
           "U_plus_spa": u_plus, "U_star": F.surplus_max, "revenue_max": F.revenue_max,
           **{f"{k}_welfare_ratio": s.welfare_ratio for k, s in sols.items()},
           "sim_samples": info["samples"], "sim_seed": seed, "sim_mode": info["mode"],
           "sim_cis_containing_exact": f"{sum(covered)} of {len(covered)}" if covered else info["note"],
           **{f"check: {k}": v for k, v in result.items()}}
    frame = F.to_frame()
    frame["pooled"] = [pooled_text(d, pt.rule) for pt in F.points]
    frame.insert(0, "n", n)
    frame.insert(0, "distribution", d.spec)
    write_csv(cli_args.out(args, f"gallery_{key}.csv"), frame)
    verdict = ", ".join(f"{k}: {'yes' if v is True else ('NO' if v is False else v)}" for k, v in result.items())
    plot_market(F, sols, sim, info, key, label, kind, u_plus, verdict, args)
    print(f"  {key}: {len(F.points)} extreme points; {verdict or 'no theorem'}", file=sys.stderr, flush=True)
    return row


def plot_market(F, sols, sim, info, key, label, kind, u_plus, verdict: str, args) -> None:
    """gallery_<key>.png: the frontier over the structure of its mechanisms, U+ = U(SPA) marked for MHR."""
    from simulator.paper.plots import plot_frontier_structure

    d, n = F.dist, F.n
    markers = {"U+ = U(SPA)": u_plus} if kind == "thm37" and F.surplus_min < u_plus < F.surplus_max else {}
    plot_frontier_structure(F, sols, cli_args.out(args, f"gallery_{key}.png"), sim=sim,
                            title=f"{label}\n{d.spec}, n = {n:g}\nlibrary class: {d.shape_class()}",
                            markers=markers,
                            note=(f"checked on the {len(F.points)} extreme points: {verdict}" if verdict else
                                  f"{len(F.points)} extreme points; no structure theorem for general F")
                            + (f" | blue +: simulated solutions, {info['samples']} auctions" if sim else ""))


def print_report(checks: list[dict]) -> None:
    """Per class: the frontier's range, the solutions' W/OPT, CI coverage, and each structure check."""
    print("Frontier gallery: structure of the Pareto-optimal mechanisms, checked on the extreme points\n")
    for r in checks:
        print(f"{r['theorem']}  --  {r['distribution']}, n = {r['n']:g} [{r['shape']}]")
        print(f"   {r['extreme_points']} extreme points; U from {r['U_myerson']:.4g} (Myerson) to {r['U_star']:.4g} (U*); "
              f"U(SPA) = {r['U_plus_spa']:.4g}; W/OPT: KS {r['ks_welfare_ratio']:.4f}, Nash {r['nash_welfare_ratio']:.4f}, "
              f"cross-side Nash {r['cross-nash_welfare_ratio']:.4f}; simulated CIs containing the exact (Π, U): "
              f"{r['sim_cis_containing_exact']}")
        for k, v in r.items():
            if k.startswith("check: "):
                print(f"   {k[7:]}: {'holds' if v is True else ('FAILS' if v is False else v)}")
    fails = [(r["class"], k) for r in checks for k, v in r.items() if k.startswith("check: ") and v is False]
    print("\nall structure checks hold" if not fails else f"\nstructure checks failing: {fails}")


if __name__ == "__main__":
    raise SystemExit(main())
