"""``auction-sim analyze``: exact Π, U, W and units sold of each mechanism, and the benchmarks OPT, Π*, U*.

    auction-sim analyze --dist SPEC --n N --mechanism SPEC [--mechanism SPEC ...] [--m M]
                        [--format table|json|csv] [--out FILE]

No simulation: the values are the quantile-space integrals of ``mechanisms.exact`` (n may be 1e30). ``--m`` is
the number of units of the benchmarks (default: the units of the mechanisms when they agree, else 1). JSON:
{"distribution", "n", "m", "results": [{"mechanism", "metric", "analytic"}], "benchmarks": {"opt",
"revenue_max", "surplus_max"}}. One ``Market`` (``--dist``, ``--n``; m = 1) for the mechanisms; the
benchmarks use it with ``--m`` units. Bad input: one line on stderr, exit status 2.
"""
from __future__ import annotations

import math

from .common import add_format_args, bid_format, check_writable, emit, input_error, load_market, load_mechanisms

METRICS = ("revenue", "surplus", "welfare", "sold")
#: which benchmark each metric is compared with in the table's ratio column
_RATIO_TO = {"revenue": "revenue_max", "surplus": "surplus_max", "welfare": "opt"}


def register(subparsers) -> None:
    p = subparsers.add_parser("analyze", help="exact revenue, surplus, welfare, units sold and the benchmarks",
                              description="Exact ex-ante values of mechanisms (no simulation) and the benchmarks "
                                          "OPT, revenue max and surplus max.")
    p.add_argument("--dist", metavar="SPEC", help="value distribution, e.g. uniform:low=0,high=1")
    p.add_argument("--n", metavar="N", help="number of buyers (e.g. 10 or 1e30)")
    p.add_argument("--buyers", action="append", metavar="COUNT*SPEC",
                   help="a buyer class: COUNT buyers with values from SPEC, e.g. 2*uniform:high=1 (repeat for "
                        "several classes; instead of --dist and --n)")
    p.add_argument("--mechanism", required=True, action="append", metavar="SPEC",
                   help="mechanism spec (repeat for several), e.g. spa, spa:reserve=monopoly, myerson, lottery, "
                        "vcg:m=3, buyer-offer:m=3, ivickrey:bids=0-1/2/3-inf, mix:0.3*spa+0.7*lottery; bid formats in "
                        "equilibrium: fpa, fpa:reserve=R, allpay, third-price")
    p.add_argument("--m", metavar="M", help="units of the benchmarks (default: the mechanisms' units)")
    add_format_args(p)
    p.set_defaults(func=run)


def _units(text: str, n) -> int:
    """--m: a whole number of units between 1 and n."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 1 and value == math.floor(value)) or value > n:
        raise input_error("--m", f"expected a whole number of units between 1 and n = {n:g}, got {text!r}")
    return int(value)


#: why a benchmark is +inf (``mechanisms.benchmarks``)
UNBOUNDED = "infinite: an infinite mean, or a tail heavier than the equal-revenue one (Π*)"


def _row(name: str, metric: str, value: float, notes) -> dict:
    """One result row; an infinite value carries its reason (``Exact.notes``: "revenue infinite: ...")."""
    row = {"mechanism": name, "metric": metric, "analytic": value}
    reasons = [note for note in notes if metric in note.partition(":")[0].split()]
    if reasons:
        row["note"] = "; ".join(reasons)
    return row


def _exact(spec: str, mech, market):
    """``mech.exact(market)``; bad input for this market (too many units, an unbounded optimum) names the spec."""
    from distributions.errors import InputError
    from mechanisms import UnboundedError

    try:
        return mech.exact(market)
    except (InputError, UnboundedError) as exc:
        raise InputError("--mechanism", f"{spec!r}: {exc}") from exc


def class_rows(name: str, ex) -> list[dict]:
    """Several buyer classes: the rows surplus[k] (class k's buyers' surplus) and win[k] (the probability that
    class k wins: its expected units) of ``ClassesExact.per_class``, named like ``simulate``'s metrics."""
    rows = getattr(ex, "per_class", None) or ()
    return ([{"mechanism": name, "metric": f"surplus[{k + 1}]", "analytic": float(row["surplus"])}
             for k, row in enumerate(rows)]
            + [{"mechanism": name, "metric": f"win[{k + 1}]", "analytic": float(row["win_probability"])}
               for k, row in enumerate(rows)])


def run(args) -> int:
    import pandas as pd

    from mechanisms import benchmarks

    market = load_market(args)  # the mechanisms' market: one unit unless a mechanism names its m
    mechs = [bid_format(spec, market) or load_mechanisms([spec], market)[0] for spec in args.mechanism]
    if args.m is not None:
        m = _units(args.m, market.n)
    else:
        units = {mech.units(market) for mech in mechs}
        m = units.pop() if len(units) == 1 else 1
    check_writable("--out", args.out)
    results = []
    for spec, mech in zip(args.mechanism, mechs):
        ex = _exact(spec, mech, market)
        results += [_row(mech.name, k, float(getattr(ex, k)), getattr(ex, "notes", ())) for k in METRICS]
        results += class_rows(mech.name, ex)
    bench = dict(benchmarks.all_benchmarks(market.with_units(m)))
    results = [dict(r, ratio=(r["analytic"] / bench[_RATIO_TO[r["metric"]]]
                              if r["metric"] in _RATIO_TO and bench[_RATIO_TO[r["metric"]]] else math.nan))
               for r in results]  # the JSON rows carry the ratio like the table and the CSV
    payload = {"distribution": market.label, "n": market.n, "m": m, "results": results, "benchmarks": bench}
    if len(market.classes) > 1:
        payload["classes"] = [{"class": k + 1, "count": c.count, "distribution": c.dist.spec}
                              for k, c in enumerate(market.classes)]
    rows = list(results)
    rows += [dict({"mechanism": f"benchmark (m={m})", "metric": k, "analytic": float(v),
                   "ratio": 1.0 if v and math.isfinite(v) else math.nan},
                  **({"note": UNBOUNDED} if math.isinf(v) else {}))
             for k, v in bench.items()]
    columns = ["mechanism", "metric", "analytic", "ratio"] + (["note"] if any("note" in r for r in rows) else [])
    emit(args, payload, pd.DataFrame(rows, columns=columns).fillna({"note": ""}) if "note" in columns
         else pd.DataFrame(rows, columns=columns))
    return 0
