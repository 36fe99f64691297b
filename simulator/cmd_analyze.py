"""``auction-sim analyze``: exact Π, U, W and units sold of each mechanism, and the benchmarks OPT, Π*, U*.

    auction-sim analyze --dist SPEC --n N --mechanism SPEC [--mechanism SPEC ...] [--m M]
                        [--format table|json|csv] [--out FILE]

No simulation: the values are the quantile-space integrals of ``mechanisms.exact`` (n may be 1e30). ``--m`` is
the number of units of the benchmarks (default: the units of the mechanisms when they agree, else 1). JSON:
{"distribution", "n", "m", "results": [{"mechanism", "metric", "analytic"}], "benchmarks": {"opt",
"revenue_max", "surplus_max"}}. Bad input: one line on stderr, exit status 2.
"""
from __future__ import annotations

import math

from .cli_common import CLIError, add_format_args, emit, load_dist, load_mechanisms, market_size

METRICS = ("revenue", "surplus", "welfare", "sold")
#: which benchmark each metric is compared with in the table's ratio column
_RATIO_TO = {"revenue": "revenue_max", "surplus": "surplus_max", "welfare": "opt"}


def register(subparsers) -> None:
    p = subparsers.add_parser("analyze", help="exact revenue, surplus, welfare, units sold and the benchmarks",
                              description="Exact ex-ante values of mechanisms (no simulation) and the benchmarks "
                                          "OPT, revenue max and surplus max.")
    p.add_argument("--dist", required=True, metavar="SPEC", help="value distribution, e.g. uniform:low=0,high=1")
    p.add_argument("--n", required=True, metavar="N", help="number of buyers (e.g. 10 or 1e30)")
    p.add_argument("--mechanism", required=True, action="append", metavar="SPEC",
                   help="mechanism spec (repeat for several), e.g. spa, spa:reserve=monopoly, myerson, lottery, "
                        "vcg:m=3, buyer-offer:m=3, ivickrey:bids=0-1/2/3-inf, mix:0.3*spa+0.7*lottery")
    p.add_argument("--m", metavar="M", help="units of the benchmarks (default: the mechanisms' units)")
    add_format_args(p)
    p.set_defaults(func=run)


def _units(text: str, n) -> int:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 1 and value == math.floor(value)) or value > n:
        raise CLIError(f"--m: expected a whole number of units between 1 and n = {n:g}, got {text!r}")
    return int(value)


def run(args) -> int:
    import pandas as pd

    from mechanisms import benchmarks

    n = market_size(args.n)
    dist = load_dist(args.dist, n)
    mechs = load_mechanisms(args.mechanism, dist, n)
    if args.m is not None:
        m = _units(args.m, n)
    else:
        units = {mech.m for mech in mechs}
        m = units.pop() if len(units) == 1 else 1
    results = []
    for spec, mech in zip(args.mechanism, mechs):
        try:
            ex = mech.exact(dist, n)
        except ValueError as exc:
            raise CLIError(f"--mechanism {spec!r}: {str(exc).splitlines()[0]}") from None
        results += [{"mechanism": mech.name, "metric": k, "analytic": float(getattr(ex, k))} for k in METRICS]
    bench = {"opt": benchmarks.opt(dist, n, m), "revenue_max": benchmarks.revenue_max(dist, n, m),
             "surplus_max": benchmarks.surplus_max(dist, n, m)}
    payload = {"distribution": dist.spec, "n": n, "m": m, "results": results, "benchmarks": bench}
    rows = [dict(r, ratio=(r["analytic"] / bench[_RATIO_TO[r["metric"]]]
                           if r["metric"] in _RATIO_TO and bench[_RATIO_TO[r["metric"]]] else math.nan))
            for r in results]
    rows += [{"mechanism": f"benchmark (m={m})", "metric": k, "analytic": float(v), "ratio": 1.0}
             for k, v in bench.items()]
    emit(args, payload, pd.DataFrame(rows, columns=["mechanism", "metric", "analytic", "ratio"]))
    return 0
