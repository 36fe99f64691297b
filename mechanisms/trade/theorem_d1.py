"""Theorem D.1 (paper, Appendix D.4) on a grid of MHR buyer/seller pairs.

The statement: with both traders MHR, the Nash solution (max Π·U on the trade frontier) keeps at least
1/(e-1) of Π* + U* (Π*: the seller's utility in the seller-offer mechanism, U*: the buyer's in the buyer-offer
mechanism). Its proof bounds the Nash gains below by the mixture ν·BOM + (1-ν)·SOM with the same U, and that by
Fei (2022, Theorem 3.1): W(SOM), W(BOM) >= OPT_FB / (e-1), so it proves Nash >= OPT_FB / (e-1) >= OPT_SB / (e-1)
(first / second best gains from trade). Footnote 11 says Π* + U* >= OPT_SB. Both readings are computed here:

* ``ratio_ideal`` = W(Nash) / (Π* + U*)   (the theorem as stated),
* ``ratio_first_best`` = W(Nash) / OPT_FB (what the proof shows),
* ``ratio_second_best`` = W(Nash) / OPT_SB, ``second_best_over_ideal`` = OPT_SB / (Π* + U*) (footnote 11),
* ``offers_over_first_best`` = min(W(SOM), W(BOM)) / OPT_FB (Fei's bound, used in step (b)).

MHR (the paper's Appendix D.4): the buyer's (1 - F(v))/f(v) non-increasing; the seller's G(c)/g(c)
non-DEcreasing (the paper prints "weakly decreasing", which no distribution with G(c_low) = 0 satisfies; the
mirror image of the buyer's condition is non-decreasing). Both are checked on each pair's grid.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from distributions import parse_spec

from .frontier import Side, TradeFrontier

BOUND = 1.0 / (math.e - 1.0)

#: the grid: uniform, exponential, truncated normals and Weibull (shape >= 1), several parameters; the shifted
#: ones (uniform on [4, 5], a normal around 3) give a buyer whose value is almost surely above the cost
MHR_SPECS = (
    "uniform:low=0,high=1", "uniform:low=0,high=3", "uniform:low=1,high=2", "uniform:low=4,high=5",
    "exponential:rate=1", "exponential:rate=3",
    "truncnorm:mean=1,sd=0.5", "truncnorm:mean=0,sd=1", "truncnorm:mean=3,sd=0.3",
    "weibull:shape=1.5,scale=1", "weibull:shape=2,scale=1", "weibull:shape=4,scale=2",
)
QUICK_SPECS = ("uniform:low=0,high=1", "exponential:rate=1", "truncnorm:mean=1,sd=0.5", "weibull:shape=2,scale=1")


@dataclass(frozen=True)
class Instance:
    """One buyer/seller pair: the benchmarks, the Nash solution and the ratios of the module docstring."""

    buyer: str
    seller: str
    buyer_mhr: bool
    seller_mhr: bool
    seller_max: float  # Π*
    buyer_max: float  # U*
    first_best: float
    second_best: float
    som_gains: float
    bom_gains: float
    nash_seller: float
    nash_buyer: float

    @property
    def nash_gains(self) -> float:
        return self.nash_seller + self.nash_buyer

    def ratios(self) -> dict:
        ideal = self.seller_max + self.buyer_max
        return {"ratio_ideal": self.nash_gains / ideal, "ratio_first_best": self.nash_gains / self.first_best,
                "ratio_second_best": self.nash_gains / self.second_best,
                "second_best_over_ideal": self.second_best / ideal,
                "offers_over_first_best": min(self.som_gains, self.bom_gains) / self.first_best}

    def row(self) -> dict:
        r = asdict(self) | {"nash_gains": self.nash_gains} | self.ratios()
        r["holds_as_stated"] = r["ratio_ideal"] >= BOUND
        r["holds_first_best"] = r["ratio_first_best"] >= BOUND
        return r


def is_mhr(side: Side) -> bool:
    """MHR on the grid: the information rent h per unit of quantile (Δ info / Δt on each interval: the average
    of h_B = (1-F)/f over a buyer interval, of h_S = G/g over a seller one) non-decreasing in t, i.e. h_B
    non-increasing in v and h_S non-decreasing in c. Rounding is allowed (1e-7 of the largest h); a gap in the
    support (a zero-width interval where the rent jumps) is not MHR."""
    dt, di = np.diff(side.t), np.diff(side.info)
    if np.any((dt == 0) & (di != 0)):
        return False
    with np.errstate(invalid="ignore", divide="ignore"):
        h = di[dt > 0] / dt[dt > 0]
    h = h[np.isfinite(h)]
    return bool(np.all(np.diff(h) >= -1e-7 * max(np.max(np.abs(h)), 1e-300)))


def instance(buyer: str, seller: str, grid: int | None = None) -> Instance:
    """The frontier's benchmarks and Nash solution for one pair of specs."""
    kw = {} if grid is None else {"grid": grid}
    fr = TradeFrontier(parse_spec(buyer), parse_spec(seller), max_points=2, **kw)
    nash = fr.solve("nash")
    return Instance(buyer, seller, is_mhr(fr.buyer), is_mhr(fr.seller), fr.seller_max,
                    fr.buyer_max, fr.first_best, fr.second_best.gains, fr.seller_offer.gains,
                    fr.buyer_offer.gains, nash.seller_utility, nash.buyer_utility)


def grid_frame(specs=MHR_SPECS, grid: int | None = None, progress=None):
    """Every (buyer, seller) pair from ``specs`` (pairs without gains from trade are skipped): a DataFrame of
    ``Instance.row``."""
    import pandas as pd

    from distributions.errors import InputError

    rows = []
    for b in specs:
        for s in specs:
            try:
                rows.append(instance(b, s, grid).row())
            except InputError as exc:
                if "no gains from trade" not in str(exc):
                    raise
            if progress:
                progress(b, s)
    return pd.DataFrame(rows)


def worst(frame, column: str) -> dict:
    """The row with the smallest ``column``."""
    return frame.loc[frame[column].idxmin()].to_dict()
