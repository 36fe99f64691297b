"""Theorem E.1 (Appendix E): one buyer, the seller's revenue of the best single posted price against the Pareto
frontier (the best mechanism, a randomisation over two prices) under a buyers' surplus constraint U.

The revenue approximation ratio of price posting is inf over (F, U) of max{Π(p) : U(p) >= U} / Π_frontier(U);
the paper: 0 for general F, between 0.8246 and 0.8532 for quasi-regular F, 1 for regular F. Each instance is
measured through the library (``Frontier(Market.iid(F, 1))``) against the best posted price (``Posted``).

An instance is named by a spec (``parse_instance``), the ``dist`` of an experiment file's sweep
(``compute = "theorem-e1"`` and its companions in ``simulator.studies.compute``):

* ``E.2.2:grid=G``: the paper's ratio (q† ln q† - ln ℓ)/(ℓ ln q† - ln ℓ) minimised over 0 < ℓ < q† < 1 (a G x G
  grid, then Nelder-Mead), that instance (v(q) = c (1-ℓ)/ℓ on [0, ℓ], c (1-q)/q on (ℓ, q†], q†/q on (q†, 1],
  c = q†/(1-q†)) measured at U = U_F(q†): the upper bound 0.8532 (E.2.2);
* ``E.2.1:grid=G``: the proof's final bound [q†(ln q† - ln ℓ) + (1-q†)²]/[q†(ln q† - ln ℓ) + (1-ℓ)(1-q†)]
  minimised, the E.2.2-shaped instance at its minimiser measured: the lower bound 0.8246 (E.2.1) and its slack;
* ``E.2.2:q=Q,s=S``: the E.2.2 instance with q† = Q, ℓ = S Q (a point of the family scan, ``scan_row``);
* ``E.1:K=K``: the paper's general instance (ratio <= 2/ln K -> 0), measured at U = K/2;
* a library distribution spec (``uniform``): a regular F, ratio 1 (Proposition 3.3).

``scripts/theorem_e1.py`` prints and plots these; ``experiments/theorem_e1.toml`` writes its CSV files.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np

from distributions.errors import InputError

from .piecewise import piecewise
from .reproduce import ci_contains, market_seed, simulate_rules

PAPER_LOWER, PAPER_UPPER = 0.8246, 0.8532  # quoted only to compare with the recomputed constants
#: the surplus constraints of a family-scan point (``scan_row``)
SCAN_K_U = 60
#: the family scan: q† from 0.35 to 0.8, ℓ/q† from 0.35 to 0.75, k values each (``scan_grid``)
SCAN_Q, SCAN_S = (0.35, 0.8), (0.35, 0.75)


# ---------------------------------------------------------------------- the paper's instances and formulas
def upper_ratio(l, qd):
    """E.2.2: the ratio of the instance with parameters (ℓ, q†): (q† ln q† - ln ℓ) / (ℓ ln q† - ln ℓ)."""
    return (qd * math.log(qd) - math.log(l)) / (l * math.log(qd) - math.log(l))


def lower_bound(l, qd):
    """E.2.1: the proof's final bound [q†(ln q† - ln ℓ) + (1-q†)²] / [q†(ln q† - ln ℓ) + (1-ℓ)(1-q†)]."""
    d = qd * (math.log(qd) - math.log(l))
    return (d + (1 - qd) ** 2) / (d + (1 - l) * (1 - qd))


def minimise(f, grid: int = 300):
    """min of f(ℓ, q†) over 0 < ℓ < q† < 1: a grid, then Nelder-Mead in (logit q†, logit ℓ/q†)."""
    from scipy import optimize

    best = (math.inf, None)
    for qd in np.linspace(0.005, 0.995, grid):
        for s in np.linspace(0.005, 0.995, grid):
            val = f(s * qd, qd)
            if val < best[0]:
                best = (val, (s * qd, qd))
    expit = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731

    def g(z):
        qd, s = expit(z[0]), expit(z[1])
        return f(s * qd, qd)

    l0, qd0 = best[1]
    res = optimize.minimize(g, [logit(qd0), logit(l0 / qd0)], method="Nelder-Mead",
                            options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 5000})
    qd, s = expit(res.x[0]), expit(res.x[1])
    return float(res.fun), s * qd, qd


def instance_upper(l, qd):
    c = qd / (1 - qd)
    return piecewise([(l, 0.0, c * (1 - l) / l), (qd, c, -c), (1.0, qd, 0.0)],
                     f"E.2.2 instance (ℓ={l:.6f}, q†={qd:.6f})")


def instance_general(K):
    return piecewise([(1 / (2 * K), 0.0, K * K), (1 / K, 0.0, K / 2), (0.5, 0.5, 0.0), (1.0, 0.0, 0.0)],
                     f"E.1 instance (K={K:g})")


def q_grid(dist, k: int = 200_000):
    pts = [p for a, b, _ in dist.atoms_q() for p in (a, b)] + list(dist.jumps_q())
    g = np.concatenate([np.geomspace(1e-9, 1.0, k // 2), np.linspace(0.0, 1.0, k // 2)[1:], pts, [1.0]])
    g = np.unique(np.clip(g, 1e-12, 1.0))
    return g


def least_quantile(dist, U) -> float:
    """inf{q : S(q) >= U} (S = U_F(q) is non-decreasing, Fact 3.2), by bisection; 1 if S(1) < U."""
    if float(dist.S(1.0)) < U:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if float(dist.S(mid)) >= U:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-15 * hi:
            break
    return hi


class Posted:
    """The best single posted price under a surplus constraint U. A price v(q) sells with probability q:
    (Π, U) = (R(q), S(q)); a price p inside a gap of the support [v(q+), v(q)] at a jump q (and below the support,
    [0, v(1)] at q = 1) sells with probability q too: (p q, V(q) - p q)."""

    def __init__(self, dist):
        self.dist = dist
        self.qs = q_grid(dist)
        self.R = np.asarray(dist.R(self.qs), float)
        gaps = []
        for qj in list(dist.jumps_q()) + [1.0]:
            top = float(dist.v(qj))
            bottom = 0.0 if qj >= 1.0 else float(dist.v(min(qj * (1 + 1e-12) + 1e-15, 1.0)))
            if top > bottom:
                gaps.append((qj, bottom, top, float(dist.V(qj))))
        self.gaps = gaps

    def best(self, U):
        """(revenue, price)."""
        q_u = least_quantile(self.dist, U)
        best, price = -math.inf, math.nan
        if float(self.dist.S(q_u)) >= U - 1e-12 * max(abs(U), 1.0):
            best, price = float(self.dist.R(q_u)), float(self.dist.v(q_u))
            tail = self.qs >= q_u
            if tail.any():
                j = int(np.argmax(np.where(tail, self.R, -np.inf)))
                if self.R[j] > best:
                    best, price = float(self.R[j]), float(self.dist.v(self.qs[j]))
        for qj, bottom, top, Vq in self.gaps:
            p = min(top, (Vq - U) / qj)  # the highest price in the gap that leaves surplus U
            if p >= bottom and p * qj > best:
                best, price = p * qj, p
        return best, price


def measure(dist, paper_U=None, k_u: int = 400):
    """Ratio (best posted price / frontier) on a grid of U in [U(Myerson), U*], its minimum (refined), and at
    the paper's U. Returns (dict, frontier, (normalised U grid, ratios, (argmin, min)))."""
    from scipy import optimize

    from distributions import Market
    from mechanisms.frontier import Frontier

    F = Frontier(Market.iid(dist, 1), tol=1e-9)
    posted = Posted(dist)
    lo, hi = F.surplus_min, F.surplus_max

    def ratio(U):
        front = F.revenue_at(U)
        return posted.best(U)[0] / front if front > 1e-12 * F.revenue_max else math.nan

    us = np.linspace(lo, hi, k_u)
    rs = np.array([ratio(u) for u in us])
    i = int(np.nanargmin(rs))
    a, b = us[max(i - 1, 0)], us[min(i + 1, len(us) - 1)]
    res = optimize.minimize_scalar(lambda u: np.nan_to_num(ratio(u), nan=np.inf), bounds=(a, b), method="bounded",
                                   options={"xatol": 1e-12 * max(hi, 1)})
    u_min, r_min = (float(res.x), float(res.fun)) if res.fun < rs[i] else (float(us[i]), float(rs[i]))
    out = {"frontier_points": len(F.points), "U_myerson": lo, "U_star": hi, "revenue_max": F.revenue_max,
           "min_ratio": r_min, "argmin_U": u_min}
    if paper_U is not None:
        out["paper_U"] = paper_U
        out["ratio_at_paper_U"] = ratio(paper_U)
        out["frontier_revenue_at_paper_U"] = F.revenue_at(paper_U)
        out["posted_revenue_at_paper_U"], out["posted_price_at_paper_U"] = posted.best(paper_U)
    x = (us - lo) / (hi - lo) if hi > lo else us * 0
    return out, F, (x, rs, ((u_min - lo) / (hi - lo) if hi > lo else 0.0, r_min))


def library_family_minimum(start=(0.2, 0.5), maxiter: int = 60):
    """Minimise, over the E.2.2 family, the library's worst-U ratio (not the paper's formula, which assumes the
    frontier edge [ℓ, 1]): (min, ℓ, q†, evaluations)."""
    from scipy import optimize

    count = [0]

    def f(z):
        qd = 1 / (1 + math.exp(-z[0]))
        l = qd / (1 + math.exp(-z[1]))
        try:
            inst = instance_upper(l, qd)
        except InputError:
            return math.inf
        count[0] += 1
        return measure(inst, float(inst.S(qd)), k_u=40)[0]["min_ratio"]

    l0, qd0 = start
    z0 = [math.log(qd0 / (1 - qd0)), math.log((l0 / qd0) / (1 - l0 / qd0))]
    res = optimize.minimize(f, z0, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-8, "maxiter": maxiter})
    qd = 1 / (1 + math.exp(-res.x[0]))
    return float(res.fun), qd / (1 + math.exp(-res.x[1])), qd, count[0]


def quasi_regular_violation(dist) -> float:
    """max over q < q' < 1 of [R(q)/(1-q) - R(q')/(1-q')] / max R (0 = quasi-regular), on a grid."""
    qs = q_grid(dist, 40_000)
    qs = qs[qs < 1 - 1e-9]
    g = np.asarray(dist.R(qs), float) / (1 - qs)
    run = np.maximum.accumulate(g)
    return float(np.max(run - g) / max(float(np.max(dist.R(qs))), 1e-300))


def edge_lambda(F) -> float:
    """λ of the frontier's first edge (Myerson -> next extreme point): -ΔΠ/ΔU."""
    a, b = F.points[0], F.points[1]
    return (a.revenue - b.revenue) / (b.surplus - a.surplus)


def upper_bound_instance(grid: int) -> dict:
    """E.2.2 (the upper bound 0.8532): the paper's ratio (q† ln q† - ln ℓ)/(ℓ ln q† - ln ℓ) minimised, that
    instance built and measured by the library at U = U_F(q†), with the paper's closed forms for U, the frontier
    revenue and λ* = ℓ beside the library's."""
    r_up, l_up, qd_up = minimise(upper_ratio, grid)
    F_up = instance_upper(l_up, qd_up)
    U_up = float(F_up.S(qd_up))
    m_up, Fr_up, curve_up = measure(F_up, U_up)
    c = qd_up / (1 - qd_up)
    closed_U = c * (math.log(qd_up) - math.log(l_up))
    closed_opt = (l_up * math.log(qd_up) - math.log(l_up)) / (qd_up * math.log(qd_up) - math.log(l_up)) * qd_up
    row = {"instance": "E.2.2 (upper bound 0.8532)", "spec": F_up.spec, "l": l_up, "q_dagger": qd_up,
           "formula": "(q† ln q† - ln ℓ)/(ℓ ln q† - ln ℓ)", "formula_min": r_up, "paper_constant": PAPER_UPPER,
           "regular": F_up.shape_class().regular, "quasi_regular_violation": quasi_regular_violation(F_up),
           "U_closed_form": closed_U, "frontier_revenue_closed_form": closed_opt,
           "lambda_star_paper_eq_l": l_up, "lambda_of_frontier_edge": edge_lambda(Fr_up), **m_up}
    return {"row": row, "curve_label": "E.2.2 instance (paper: 0.8532)", "curve": curve_up, "dist": F_up,
            "frontier": Fr_up, "U": U_up}


def lower_bound_instance(grid: int) -> dict:
    """E.2.1 (the lower bound 0.8246): the proof's final bound minimised, measured on the E.2.2-shaped
    instance at its minimiser.

    The bound comes from a proof, not an instance: its extremal parameters (ℓ, q†, r = 1, α = 1/q†) make the
    inequality U(r) - U(q†) <= r (v(q†) - v(r)) tight only if v is flat on (q†, r), which contradicts
    q† = sup{q : U_F(q) <= U}. Completing the configuration quasi-regularly as in E.2.2 (equal-revenue tail,
    R(1) = R(q†)) gives an actual instance; the library measures how much slack the proof leaves there."""
    r_lo, l_lo, qd_lo = minimise(lower_bound, grid)
    F_lo = instance_upper(l_lo, qd_lo)
    m_lo, _, curve_lo = measure(F_lo, float(F_lo.S(qd_lo)))
    row = {"instance": "E.2.1 extremal parameters, quasi-regular completion", "spec": F_lo.spec, "l": l_lo,
           "q_dagger": qd_lo, "formula": "[q†(ln q† - ln ℓ) + (1-q†)²]/[q†(ln q† - ln ℓ) + (1-ℓ)(1-q†)]",
           "formula_min": r_lo, "paper_constant": PAPER_LOWER, "formula_at_params_e22": upper_ratio(l_lo, qd_lo),
           "regular": F_lo.shape_class().regular, "quasi_regular_violation": quasi_regular_violation(F_lo), **m_lo}
    return {"row": row, "curve_label": "E.2.2-shaped instance at the E.2.1 minimiser (bound 0.8246)",
            "curve": curve_lo}


def scan_grid(k: int) -> tuple[tuple, tuple]:
    """(q† values, ℓ/q† values) of a k x k family scan: evenly spaced, rounded to 12 significant digits as an
    experiment file's axis ``q=0.35..0.8:lin:k`` is (``simulator.studies.axes.grid``)."""
    def lin(lo, hi):
        return tuple(float(f"{lo + (hi - lo) * i / (k - 1):.12g}") for i in range(k))

    return lin(*SCAN_Q), lin(*SCAN_S)


@lru_cache(maxsize=256)
def scan_row(qd: float, s: float) -> dict:
    """One point of the E.2.2 family through the library: the instance with q† = ``qd``, ℓ = ``s`` q†, its ratio
    at the paper's U = U_F(q†) and at its worst U (``SCAN_K_U`` constraints, refined), beside the paper's
    formula. The minimum over the family is the upper bound, never below the lower bound. Kept per (q†, s), as
    ``instance``; callers must not change it."""
    inst = instance_upper(s * qd, qd)
    m, _, _ = measure(inst, float(inst.S(qd)), k_u=SCAN_K_U)
    return {"l": s * qd, "q_dagger": qd, "library_ratio_at_paper_U": m["ratio_at_paper_U"],
            "library_min_ratio": m["min_ratio"], "formula": upper_ratio(s * qd, qd)}


def general_instance(K: float) -> dict:
    """E.1 (general F, ratio -> 0): the paper's instance for K, measured at U = K/2, with the paper's closed
    forms (ratio <= 2/ln K) and U_F(1/2) recomputed."""
    F_g = instance_general(K)
    m_g, _, curve_g = measure(F_g, K / 2)
    Km = math.log(K) - math.log(2)
    S_half = float(F_g.S(0.5))  # U_F(1/2); the paper writes (K + ln K - ln 2)/2
    keep = (K / 2) / S_half  # probability of price 1 in the mixture of prices K² and 1 with surplus K/2
    row = {"instance": f"E.1 general, K={K:g}", "spec": F_g.spec, "paper_constant": 0.0,
           "paper_ratio_upper_2_over_lnK": 2 / math.log(K),
           "paper_ratio_at_U": (K + Km) / (K * math.log(K) + K - K * math.log(2)),
           "paper_U_half": (K + Km) / 2, "recomputed_U_half": S_half,
           "recomputed_ratio_at_U": 0.5 / ((1 - keep) * K / 2 + keep * 0.5),
           "regular": F_g.shape_class().regular, "quasi_regular_violation": quasi_regular_violation(F_g), **m_g}
    return {"row": row, "curve_label": f"E.1 general instance, K={K:g} (ratio -> 0)", "curve": curve_g}


def regular_instance(spec: str) -> dict:
    """A library distribution (regular F: Proposition 3.3, posting a price is optimal, ratio 1)."""
    from distributions import parse_spec

    d = parse_spec(spec)
    m_r, _, curve_r = measure(d)
    row = {"instance": f"regular: {spec}", "spec": spec, "paper_constant": 1.0,
           "regular": d.shape_class().regular, "quasi_regular_violation": quasi_regular_violation(d), **m_r}
    return {"row": row, "curve_label": f"regular: {spec} (ratio 1)", "curve": curve_r}


# ---------------------------------------------------------------------- instances by spec, and their rows
INSTANCE_GRAMMAR = "E.2.2:grid=G, E.2.1:grid=G, E.2.2:q=Q,s=S, E.1:K=K or a distribution spec (uniform)"
_FAMILY = re.compile(r"^(E\.2\.2|E\.2\.1|E\.1):(.*)$")


def parse_instance(spec: str) -> tuple[str, dict]:
    """(family, parameters) of an instance spec (module doc): ("E.2.2", {"grid": 400}), ("E.2.2", {"q": 0.5,
    "s": 0.4}), ("E.1", {"K": 10.0}), ("regular", {"spec": "uniform"}). Bad specs: InputError("dist")."""
    match = _FAMILY.match(spec.strip())
    if not match:
        from distributions import parse_spec

        parse_spec(spec)  # InputError naming the distribution when it is none
        return "regular", {"spec": spec}
    family, text = match.groups()
    params = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        try:
            params[key.strip()] = float(value)
        except ValueError:
            raise InputError("dist", f"expected {INSTANCE_GRAMMAR}, got {spec!r}") from None
    allowed = {"E.2.2": ({"grid"}, {"q", "s"}), "E.2.1": ({"grid"},), "E.1": ({"K"},)}[family]
    if set(params) not in allowed:
        raise InputError("dist", f"expected {INSTANCE_GRAMMAR}, got {spec!r}")
    if "grid" in params and not (params["grid"] == int(params["grid"]) and 2 <= params["grid"] <= 10_000):
        raise InputError("dist", f"grid is a whole number from 2 to 10000, got {spec!r}")
    if "K" in params and not 2 < params["K"] < 1e100:
        raise InputError("dist", f"K is a number > 2, got {spec!r}")
    if "q" in params and not (0 < params["q"] < 1 and 0 < params["s"] < 1):
        raise InputError("dist", f"q and s lie strictly between 0 and 1, got {spec!r}")
    return family, params


@lru_cache(maxsize=64)
def instance(spec: str) -> dict:
    """The measured instance of ``spec`` (``parse_instance``): {"row", "curve_label", "curve"} (and for E.2.2
    with grid=G, "dist", "frontier", "U"). Kept per spec, so that the instance's row, its curve and its
    simulation (three files) measure it once; callers must not change it."""
    family, p = parse_instance(spec)
    if family == "E.2.2" and "grid" in p:
        return upper_bound_instance(int(p["grid"]))
    if family == "E.2.1":
        return lower_bound_instance(int(p["grid"]))
    if family == "E.1":
        return general_instance(p["K"])
    if family == "regular":
        return regular_instance(p["spec"])
    raise InputError("dist", f"{spec!r} is a point of the family scan (compute = theorem-e1-scan), not an instance")


def instance_rows(spec: str) -> list[dict]:
    """theorem_e1.csv's row of one instance."""
    return [instance(spec)["row"]]


def curve_rows(spec: str) -> list[dict]:
    """theorem_e1_curves.csv's rows of one instance: the ratio against U normalised to [0, 1] from U(Myerson)
    to U*."""
    inst = instance(spec)
    x, rs, _ = inst["curve"]
    return [{"instance": inst["curve_label"], "U_normalised": u, "ratio": r} for u, r in zip(x, rs)]


def scan_rows(spec: str) -> list[dict]:
    """theorem_e1_family_scan.csv's row of ``E.2.2:q=Q,s=S``."""
    family, p = parse_instance(spec)
    if family != "E.2.2" or "q" not in p:
        raise InputError("dist", f"a point of the family scan is E.2.2:q=Q,s=S, got {spec!r}")
    return [scan_row(p["q"], p["s"])]


def simulation_rows(spec: str, samples: int, seed: int, budget: float) -> list[dict]:
    """theorem_e1_simulation.csv: the frontier's two-price mixture and the best posted price at the worst U of
    an ``E.2.2:grid=G`` instance (the 0.8532 instance), simulated (n = 1, common random numbers, the market's
    seed ``market_seed(seed, spec of F)``) with 95% CIs of their revenue and surplus."""
    from distributions import Market
    from mechanisms import PostedPrice, exact_from_rule

    family, p = parse_instance(spec)
    if family != "E.2.2" or "grid" not in p:
        raise InputError("dist", f"the simulated instance is E.2.2:grid=G, got {spec!r}")
    upper = instance(spec)
    market = Market.iid(upper["dist"], 1)
    mechanisms = [("frontier mechanism", upper["frontier"].mechanism_at(upper["U"])),
                  ("best posted price", PostedPrice(upper["row"]["posted_price_at_paper_U"]).rule(market))]
    cell_seed = market_seed(seed, market.dist.spec)
    sim, info = simulate_rules(mechanisms, market, samples, cell_seed, budget)
    rows = []
    for name, rule in mechanisms:
        ex = exact_from_rule(rule, market)
        r = {"mechanism": name, "exact_revenue": ex.revenue, "exact_surplus": ex.surplus, "sim_mode": info["mode"],
             "sim_samples": info["samples"], "sim_seed": cell_seed, "sim_note": info["note"]}
        if sim is not None:
            for metric in ("revenue", "surplus"):
                est, se, lo, hi = sim[name][metric]
                r.update({f"sim_{metric}": est, f"sim_{metric}_ci_low": lo, f"sim_{metric}_ci_high": hi,
                          f"{metric}_ci_contains_exact": ci_contains(lo, hi, getattr(ex, metric))})
        rows.append(r)
    return rows


def instance_specs(quick: bool) -> list[str]:
    """The instances of ``scripts/theorem_e1.py`` (``--quick``: a coarser minimisation grid, K = 10, 100)."""
    grid = 120 if quick else 400
    ks = (10, 100) if quick else (10, 100, 10_000)
    return [f"E.2.2:grid={grid}", f"E.2.1:grid={grid}"] + [f"E.1:K={K}" for K in ks] + ["uniform", "exponential"]
