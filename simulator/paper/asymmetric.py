"""The demo's asymmetric-buyers cells (textbook ``004_…`` §5.1–5.2): second-price auctions with an anonymous,
own-monopoly and best discriminatory reserves against Myerson's optimal auction (Proposition 5.3), on the
textbook's two buyers U[0,1] and U[0,2] and on a market of a million weak buyers and three strong ones drawn by
order statistics; exact values (products of the classes' laws) beside simulated ones with 95% CIs."""
from __future__ import annotations

#: (label, buyer classes, mechanisms): small markets get the optimised reserves too
ASYMMETRIC_MARKETS = (
    ("two buyers U[0,1], U[0,2]", ("1*uniform:low=0,high=1", "1*uniform:low=0,high=2"),
     ("spa", "spa:reserves=monopoly", "spa:reserves=best", "myerson")),
    ("1e6 weak U[0,1] + 3 strong U[0,2]", ("1e6*uniform:low=0,high=1", "3*uniform:low=0,high=2"),
     ("spa", "spa:reserves=monopoly", "myerson")),
)
ASYMMETRIC_METRICS = ("revenue", "welfare", "win[1]", "win[2]")


def asymmetric_cells(samples: int, seed: int) -> list[dict]:
    """One row per market, mechanism and metric: exact value, simulated estimate, CI, whether it contains the
    exact value (``simulate`` on the several-class market; mode auto: order statistics for the big market)."""
    from distributions import Market
    from mechanisms import parse_mechanism

    from ..core.engine import simulate
    from .reproduce import ci_contains, market_seed

    rows = []
    for label, specs, names in ASYMMETRIC_MARKETS:
        market = Market.from_specs(list(specs))
        mechs = [parse_mechanism(name, market) for name in names]
        res = simulate(mechs, market, samples=samples, seed=market_seed(seed, label), progress=False)
        frame = res.frame.set_index(["mechanism", "metric"])
        for mech in mechs:
            for metric in ASYMMETRIC_METRICS:
                r = frame.loc[(mech.name, metric)]
                rows.append({"section": "asymmetric", "market": label, "mechanism": mech.name, "metric": metric,
                             "exact": r.analytic, "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                             "samples": int(r.samples), "mode": res.mode,
                             "ci_contains_exact": ci_contains(r.ci_low, r.ci_high, r.analytic)})
    return rows


def asymmetric_text(rows: list[dict]) -> str:
    """The printed table: per market, each mechanism's exact revenue, welfare and class win probabilities, and
    the simulated revenue with its CI."""
    lines = []
    for label, _specs, names in ASYMMETRIC_MARKETS:
        cells = {(r["mechanism"], r["metric"]): r for r in rows if r["market"] == label}
        mode = next(r["mode"] for r in rows if r["market"] == label)
        lines.append(f"   {label} ({mode} mode):")
        for name in names:
            rev, wel, w1, w2 = (cells[(name, m)] for m in ASYMMETRIC_METRICS)
            sim = (f"sim Π [{rev['ci_low']:.4f}, {rev['ci_high']:.4f}] "
                   f"{'in' if rev['ci_contains_exact'] else 'OUT'}")
            lines.append(f"   {name:>22}: Π = {rev['exact']:.4f}, W = {wel['exact']:.4f}, Pr[class 1 wins] = "
                         f"{w1['exact']:.4f}, Pr[class 2 wins] = {w2['exact']:.4f} | {sim}")
    return "\n".join(lines)
