"""``auction-sim redistribute``: redistribution mechanisms and partnership dissolution (slides ``003_…``).

    auction-sim redistribute analyze  --dist SPEC (--n N | --shares R1,R2,...) --mechanism NAME [...] [--m M]
    auction-sim redistribute simulate --dist SPEC (--n N | --shares R1,R2,...) --mechanism NAME [...] [--m M]
                                      [--samples S] [--seed K] [--confidence C] [--profiles P] [--opponents M]
                                      [--no-checks]
    (both: [--format table|json|csv] [--out FILE])

Mechanisms (``simulator.families.redistribution.MECHANISMS``): ``cavallo`` (m units with --m),
``green-laffont``, ``dagv`` for n i.i.d. agents (--n); ``partnership`` (the CGK mechanism of the proof) and
``partnership-bidding`` (the bidding game, equal shares) for a partnership (--shares, n = number of shares);
``cavallo-own-report`` and ``dagv-conditional`` are the broken variants the incentive checks must catch.

``analyze`` prints exact values (rows mechanism, metric, analytic; for a partnership also the CGK criterion
Σ W(v_i^*), ``dissolvable``, the IR margin and per partner v_i^*, W(v_i^*), c_i). ``simulate`` prints the
Monte Carlo rows of ``simulator.core.draws`` (estimate, CI, analytic, z, min and max over every draw, ci_valid,
ci_note) and one check row per mechanism: budget min/max over every draw and the incentive check's largest
gain (``violation``). JSON: {"distribution", "n", "shares", "results": [...], "checks": [...]} (simulate adds
"samples", "seed", "partial"); CSV: one table with a ``section`` column (result / check).
"""
from __future__ import annotations

from .common import (add_format_args, buyer_count, check_writable, emit, input_error, load_dist, number, render,
                     table_text, whole_number, write_output)

#: the mechanisms (listed here so that --help imports nothing heavy; checked against the family's table)
NAMES = ("cavallo", "green-laffont", "dagv", "partnership", "partnership-bidding", "cavallo-own-report",
         "dagv-conditional")


def register(subparsers) -> None:
    p = subparsers.add_parser("redistribute", help="redistribution (Cavallo, Green-Laffont, dAGV) and "
                                                   "partnership dissolution (CGK)",
                              description="Give VCG's revenue back: exact values and simulation with budget and "
                                          "incentive checks.")
    sub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    sub.required = True
    for action, text in (("analyze", "exact values"), ("simulate", "Monte Carlo with budget and incentive checks")):
        q = sub.add_parser(action, help=text, description=f"Redistribution: {text}.")
        q.add_argument("--dist", required=True, metavar="SPEC", help="value distribution, e.g. uniform:low=0,high=1")
        q.add_argument("--n", metavar="N", help="number of agents (i.i.d. mechanisms)")
        q.add_argument("--shares", metavar="R1,R2,...", help="partners' shares, summing to 1 (partnership)")
        q.add_argument("--mechanism", required=True, action="append", metavar="NAME",
                       help=f"repeat for several: {', '.join(NAMES)}")
        q.add_argument("--m", default="1", metavar="M", help="units (cavallo only; default 1)")
        if action == "simulate":
            q.add_argument("--samples", default="200000", metavar="S", help="profiles to simulate (default 2e5)")
            q.add_argument("--seed", default="0", metavar="K", help="random seed (default 0)")
            q.add_argument("--confidence", default="0.95", metavar="C", help="CI level (default 0.95)")
            q.add_argument("--profiles", default="200", metavar="P",
                           help="profiles of the dominance search (default 200)")
            q.add_argument("--opponents", default="20000", metavar="M",
                           help="simulated opponents of the Bayesian deviation search (default 20000)")
            q.add_argument("--no-checks", action="store_true", help="skip the incentive checks")
        add_format_args(q)
        q.set_defaults(func=run_analyze if action == "analyze" else run_simulate)


def parse_shares(text: str) -> tuple[float, ...]:
    """--shares 0.7,0.3: two or more numbers >= 0 (their sum is checked by the Market)."""
    parts = [t.strip() for t in text.split(",")]
    if len(parts) < 2 or not all(parts):
        raise input_error("--shares", f"expected two or more comma-separated shares (e.g. 0.7,0.3), got {text!r}")
    return tuple(float(number("--shares", t, "a share between 0 and 1")) for t in parts)


def load_market(args):
    """``Market.partnership(F, shares)`` with --shares (n = their number; --n, if given, must agree), else
    ``Market.iid(F, n, m)``."""
    from distributions import Market
    from distributions.errors import InputError

    m = whole_number("--m", args.m, 1, "a whole number of units")
    if args.shares is None:
        if args.n is None:
            raise input_error("--n", "give the number of agents (--n) or the partners' shares (--shares)")
        n = buyer_count(args.n)
        return Market.iid(load_dist(args.dist, n), n, m)
    shares = parse_shares(args.shares)
    if args.n is not None and buyer_count(args.n) != len(shares):
        raise input_error("--n", f"--n {args.n} disagrees with the {len(shares)} shares of --shares")
    if m != 1:
        raise input_error("--m", "a partnership has one object (m = 1)")
    try:
        return Market.partnership(load_dist(args.dist, len(shares)), shares)
    except InputError as exc:
        raise (exc.renamed("--shares") if exc.argument == "shares" else exc) from exc


def _mechanisms(args, market) -> dict:
    from simulator.families.redistribution import make_mechanisms

    bad = [name for name in args.mechanism if name not in NAMES]
    if bad:
        raise input_error("--mechanism", f"unknown mechanism {bad[0]!r}; expected one of {', '.join(NAMES)}")
    from distributions.errors import InputError

    try:
        return make_mechanisms(list(dict.fromkeys(args.mechanism)), market)
    except InputError as exc:
        raise (exc.renamed("--shares") if exc.argument == "shares" else exc) from exc


def _partnership_rows(market) -> list[dict]:
    from mechanisms.redistribution.partnership import analyze

    info = analyze(market)
    rows = [("criterion", info.criterion, "CGK eq. (1): sum_i W(v_i*) >= 0 iff dissolvable"),
            ("dissolvable", float(info.dissolvable), "1 = an efficient, BIC, IIR, budget-balanced mechanism exists"),
            ("ir_margin", info.ir_margin, "min_v U_i(v) - r_i v of the CGK mechanism (every partner)")]
    for i in range(info.n):
        rows += [(f"v_star_{i + 1}", info.v_star[i], "G(v*) = r_i"), (f"W_{i + 1}", info.W[i], "W(v_i*), eq. (2)"),
                 (f"c_{i + 1}", info.c[i], "the proof's constant c_i = E T_i")]
    return [{"mechanism": "partnership criterion", "metric": k, "analytic": v, "note": note} for k, v, note in rows]


def run_analyze(args) -> int:
    import pandas as pd

    from simulator.families.redistribution import exact_metrics

    market = load_market(args)
    mechs = _mechanisms(args, market)
    check_writable("--out", args.out)
    rows = _partnership_rows(market) if market.shares is not None else []
    for name, mech in mechs.items():
        notes = getattr(mech.exact(market), "notes", ())
        for metric, value in exact_metrics(mech, market).items():
            reason = "; ".join(t for t in notes if metric in t.partition(":")[0].split())
            rows.append({"mechanism": name, "metric": metric, "analytic": float(value), "note": reason})
    payload = {"distribution": market.label, "n": market.n, "m": market.m, "shares": market.shares,
               "results": rows}
    emit(args, payload, pd.DataFrame(rows, columns=["mechanism", "metric", "analytic", "note"]))
    return 0


def _fraction(flag: str, text: str) -> float:
    value = number(flag, text, "a number strictly between 0 and 1")
    if not 0.0 < value < 1.0:
        raise input_error(flag, f"expected a number strictly between 0 and 1, got {text!r}")
    return float(value)


def run_simulate(args) -> int:
    import pandas as pd

    from simulator.families.redistribution import check_rows, simulate_redistribution

    market = load_market(args)
    samples = whole_number("--samples", args.samples, 1, "a whole number of profiles")
    seed = whole_number("--seed", args.seed, 0, "an integer seed")
    confidence = _fraction("--confidence", args.confidence)
    profiles = whole_number("--profiles", args.profiles, 1, "a whole number of profiles")
    opponents = whole_number("--opponents", args.opponents, 2, "a whole number of opponent profiles")
    names = list(_mechanisms(args, market))
    check_writable("--out", args.out)
    run = simulate_redistribution(names, market, samples, seed, checks=not args.no_checks,
                                  confidence=confidence, profiles=profiles, opponents=opponents)
    res = run.result
    checks = check_rows(run)
    payload = dict(res.to_dict(), distribution=market.label, n=market.n, m=market.m, shares=market.shares,
                   checks=checks)
    frame = res.frame
    head = f"PARTIAL: interrupted after {res.samples} of {samples} profiles" if res.partial else ""
    if args.format == "csv":
        frame = pd.concat([frame.assign(section="result"), pd.DataFrame(checks).assign(section="check")],
                          ignore_index=True)
    text = render(args, payload, frame, partial=res.partial, head=head)
    if args.format == "table":
        text += "\nchecks (budget over every draw; largest gain of the deviation search):\n" + \
            table_text(pd.DataFrame(checks))
    write_output(args, text)
    return 130 if res.partial else 0
