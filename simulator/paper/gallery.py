"""The frontier gallery (``scripts/gallery.py``): one Pareto frontier per distribution class with the structure of
the mechanisms along it (Section 3: Theorems 3.4, 3.5, 3.7), checked on the computed extreme points.

Each class (``GALLERY``: a key, a distribution, n, the theorem) gives its frontier, the KS, Nash and cross-side
Nash solutions simulated on common random numbers, and the structure checks (``structure_checks``): the row of
gallery.csv (``gallery_market``) and the extreme points with their pooled value ranges, gallery_<key>.csv
(``frontier_rows``). ``experiments/gallery.toml`` writes the same CSV files (``compute = "gallery"`` and
``"gallery-frontier"``, ``simulator.studies.paper_kinds``).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from distributions.errors import InputError
from mechanisms.bargaining import SOLUTIONS

from .reproduce import ci_contains, market_seed, simulate_rules

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


def gallery_class(key: str) -> tuple:
    """(key, spec, n, label, theorem) of a class of the gallery; InputError("dist") for an unknown key."""
    for entry in GALLERY:
        if entry[0] == key:
            return entry
    raise InputError("dist", f"expected a class of the gallery ({', '.join(e[0] for e in GALLERY)}), got {key!r}")


@lru_cache(maxsize=16)
def gallery_frontier(key: str, tol: float) -> tuple:
    """(market, frontier, {kind: Solution}, U+ = U(SPA)) of a class; kept per (key, tol), so that its row of
    gallery.csv and its gallery_<key>.csv compute it once (callers must not change it)."""
    from distributions import Market
    from mechanisms.auctions import SecondPrice
    from mechanisms.bargaining import solve
    from mechanisms.frontier import Frontier

    _, spec, n, _, _ = gallery_class(key)
    market = Market.iid(spec, n)
    F = Frontier(market, tol=tol)
    return market, F, {k: solve(F, k) for k in SOLUTIONS}, SecondPrice(0.0).exact(market).surplus


@lru_cache(maxsize=16)
def gallery_market(key: str, tol: float, samples: int, seed: int, budget: float) -> dict:
    """One class of the gallery: the frontier, its three solutions simulated (the market's seed
    ``market_seed(seed, "gallery", spec, n)``), the structure theorem checked on the extreme points (Theorems
    3.4, 3.5, 3.7). Returns {"row" (of gallery.csv), "market", "frontier", "solutions", "u_plus", "sim", "info",
    "checks", "verdict"}; kept per arguments (callers must not change it)."""
    _, spec, n, label, kind = gallery_class(key)
    market, F, sols, u_plus = gallery_frontier(key, tol)
    d = market.dist
    cell_seed = market_seed(seed, "gallery", spec, n)
    sim, info = simulate_rules([(k, s.rule) for k, s in sols.items()], market, samples, cell_seed, budget)
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
           "sim_samples": info["samples"], "sim_seed": cell_seed, "sim_mode": info["mode"],
           "sim_cis_containing_exact": f"{sum(covered)} of {len(covered)}" if covered else info["note"],
           **{f"check: {k}": v for k, v in result.items()}}
    verdict = ", ".join(f"{k}: {'yes' if v is True else ('NO' if v is False else v)}" for k, v in result.items())
    return {"row": row, "market": market, "frontier": F, "solutions": sols, "u_plus": u_plus, "sim": sim,
            "info": info, "checks": result, "verdict": verdict}


def frontier_rows(key: str, tol: float) -> list[dict]:
    """gallery_<key>.csv: the extreme points of the class's frontier (``Frontier.to_frame``: λ, Π, U, W, reserve,
    bid space) with their pooled value ranges, led by the distribution and n."""
    market, F, _, _ = gallery_frontier(key, tol)
    d = market.dist
    lead = {"distribution": d.spec, "n": gallery_class(key)[2]}
    return [{**lead, **r, "pooled": pooled_text(d, pt.rule)}
            for r, pt in zip(F.to_frame().to_dict("records"), F.points)]
