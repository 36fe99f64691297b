"""Monte Carlo of the redistribution mechanisms (``mechanisms.redistribution``; slides ``003_…``).

Each draw is one profile of n i.i.d. values v(U), U uniform on (0, 1] (``draw_values``); every mechanism runs on
the same draws (common random numbers) through its vectorised ``outcome(values)``, and
``simulator.core.draws.simulate_draws`` gives the estimates, CIs, z against the exact values, and the minimum
and maximum of every metric over every draw (the budget check: ``budget_surplus`` never negative for Cavallo,
|Σ T_i| at rounding level for the budget-balanced ones). The incentive checks run on their own draws (seed
stream ``CHECK_KEY``): a dominance search on sampled profiles (Cavallo, Green–Laffont) or a Bayesian deviation
search against simulated opponents (dAGV, the partnership mechanisms), ``mechanisms.redistribution.deviation``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from distributions.errors import InputError
from distributions.market import Market
from mechanisms.redistribution.cavallo import Cavallo
from mechanisms.redistribution.dagv import DAGV
from mechanisms.redistribution.deviation import DeviationReport, bayesian_gain, dominance_gain
from mechanisms.redistribution.green_laffont import GreenLaffont
from mechanisms.redistribution.partnership import BiddingGame, PartnershipMechanism

from ..core.draws import DrawResult, simulate_draws

#: mechanism name -> constructor; the last two of each group are the deliberately broken variants
IID_MECHANISMS = {"cavallo": Cavallo, "green-laffont": GreenLaffont, "dagv": DAGV,
                  "cavallo-own-report": lambda: Cavallo(own_report=True),
                  "dagv-conditional": lambda: DAGV(conditional=True)}
PARTNERSHIP_MECHANISMS = {"partnership": PartnershipMechanism, "partnership-bidding": BiddingGame}
MECHANISMS = {**IID_MECHANISMS, **PARTNERSHIP_MECHANISMS}
#: the most agents a simulated profile may have (every value is drawn; ``analyze`` has no limit)
MAX_SIM_N = 100_000
#: the CI note of a budget that is 0 on every draw up to rounding (its min and max are the check, not a z)
BALANCED_NOTE = "budget balanced: 0 on every draw up to rounding (see min, max)"
#: spawn key of the incentive checks' draws (apart from the estimation chunks 0, 1, ...)
CHECK_KEY = 2 ** 31


def make_mechanisms(names, market: Market) -> dict:
    """name -> mechanism bound to ``market`` (its prior, n, units, shares); InputError("mechanism") for an
    unknown name or one that does not fit the market (a partnership mechanism needs shares)."""
    out = {}
    for name in names:
        if name not in MECHANISMS:
            raise InputError("mechanism", f"unknown mechanism {name!r}; expected one of {', '.join(MECHANISMS)}")
        if (name in PARTNERSHIP_MECHANISMS) != (market.shares is not None):
            need = "shares (--shares)" if name in PARTNERSHIP_MECHANISMS else "no shares (a partnership market)"
            raise InputError("mechanism", f"{name!r} needs a market with {need}")
        out[name] = MECHANISMS[name]().bind(market)
    return out


def exact_metrics(mech, market: Market) -> dict:
    """metric -> exact expected value of a bound mechanism (what the z-scores compare with)."""
    if hasattr(mech, "exact_metrics"):
        return mech.exact_metrics()
    return mech.exact(market).as_dict()


def draw_values(dist, n: int, rng, size: int):
    """``size`` profiles of n i.i.d. values v(U), U uniform on (0, 1] (1 - random(): never v(0) = sup)."""
    return np.asarray(dist.v(1.0 - rng.random((size, n))), dtype=float)


def chunk_for(n: int) -> int:
    """Profiles per chunk: about 2^21 values, between 256 and 2^16 profiles."""
    return int(max(256, min(1 << 16, (1 << 21) // max(int(n), 1))))


def outcome_of(mechs: dict, dist, n: int):
    """The ``simulate_draws`` outcome: draw profiles, run every mechanism on them."""
    def outcome(rng, size):
        values = draw_values(dist, n, rng, size)
        return {name: mech.outcome(values) for name, mech in mechs.items()}
    return outcome


@dataclass
class RedistributionRun:
    """A simulation: the estimates (``result``), the incentive checks per mechanism and the budget extremes."""

    result: DrawResult
    checks: dict = field(default_factory=dict)
    market: Market | None = None

    def budget(self, name: str) -> tuple[float, float]:
        """(min, max) over every draw of the budget surplus -Σ T_i of mechanism ``name``."""
        return self.result.minimum(name, "budget_surplus"), self.result.maximum(name, "budget_surplus")


def check_incentives(mechs: dict, dist, n: int, seed: int, profiles: int = 200, opponents: int = 20000,
                     types: int = 12, grid: int = 41) -> dict:
    """name -> ``DeviationReport``: the dominance search on ``profiles`` sampled profiles (agents 1..4), or the
    Bayesian search (every partner of a partnership, agent 1 of an i.i.d. market) against ``opponents``
    simulated opponents, for ``types`` true values and ``grid`` misreports at evenly spaced quantiles."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(CHECK_KEY,)))
    bids = np.asarray(dist.v(np.linspace(1.0, 0.0, grid + 2)[1:-1]), dtype=float)
    kinds = np.asarray(dist.v(np.linspace(0.95, 0.05, types)), dtype=float)
    out = {}
    for name, mech in mechs.items():
        if mech.incentive == "dominant":
            out[name] = dominance_gain(mech, draw_values(dist, n, rng, profiles), bids, agents=4)
            continue
        others = draw_values(dist, n - 1, rng, opponents)
        agents = range(n) if getattr(mech, "shares", None) is not None else range(1)
        reports = [bayesian_gain(mech, kinds, others, bids, agent=i) for i in agents]
        out[name] = max(reports, key=lambda r: (r.violation, r.gain - 4.0 * r.stderr))
    return out


def ci_notes(exact: dict, dist) -> dict:
    """mechanism -> metric -> why its normal CI is not valid: a budget that is 0 on every draw (its min and max
    are the check), or values with infinite variance (tail index <= 2: every metric is flagged, conservatively)."""
    from distributions.tails import tail_index

    alpha = tail_index(dist)
    heavy = f"infinite variance: tail index {alpha:.3g} <= 2" if alpha <= 2.0 else ""
    out = {}
    for name, values in exact.items():
        out[name] = {metric: heavy for metric in values} if heavy else {}
        if values.get("budget_surplus") == 0.0:
            out[name]["budget_surplus"] = BALANCED_NOTE
    return out


def simulate_redistribution(names, market: Market, samples: int, seed: int = 0, checks: bool = True,
                            progress: bool = False, confidence: float = 0.95, **check_args) -> RedistributionRun:
    """Simulate the named mechanisms on ``market`` (``Market.iid`` or ``Market.partnership``) and run the
    incentive checks (module doc)."""
    mechs = make_mechanisms(names, market)
    dist, n = market.dist, market.n
    if n > MAX_SIM_N:
        raise InputError("n", f"a simulated profile draws every value: n <= {MAX_SIM_N:g} (use analyze for "
                              f"larger n), got {n:g}")
    n = int(n)
    exact = {name: exact_metrics(mech, market) for name, mech in mechs.items()}
    notes = ci_notes(exact, dist)
    result = simulate_draws(outcome_of(mechs, dist, n), samples=samples, seed=seed, exact=exact,
                            confidence=confidence, chunk=chunk_for(n), progress=progress, notes=notes,
                            title=f"redistribution, {market.label}, n={n}")
    found = check_incentives(mechs, dist, n, seed, **check_args) if checks else {}
    return RedistributionRun(result, found, market)


def check_rows(run: RedistributionRun) -> list[dict]:
    """One row per mechanism: the budget extremes over every draw and the incentive check's largest gain."""
    rows = []
    for name in run.result.mechanisms:
        low, high = run.budget(name)
        report: DeviationReport | None = run.checks.get(name)
        row = {"mechanism": name, "budget_min": low, "budget_max": high}
        if report is not None:
            kind = MECHANISMS[name]().incentive
            row.update({"check": "dominant-strategy" if kind == "dominant" else "bayesian",
                        "max_gain": report.gain, "gain_stderr": report.stderr, "agent": report.agent + 1,
                        "value": report.value, "misreport": report.misreport, "violation": report.violation,
                        "tried": report.checked})
        rows.append(row)
    return rows
