"""The bid formats with their symmetric equilibria: first price (with a reserve), all pay, third price.

Each format is a mechanism for n i.i.d. buyers (``Market.iid(F, n)``) with

* ``bid(market, v)`` / ``bid_q(market, q)``: the equilibrium bid function (``equilibrium``), -inf = no bid;
* ``outcome(bids)``: the ex-post rule on a profile of bids (the highest bid wins; first price: the winner pays
  her bid, all pay: everyone pays her bid, third price: the winner pays the third-highest bid);
* ``exact(market)``: ex-ante revenue Π, buyers' surplus U, welfare W and the probability of sale.

Π is computed from the bid function, not from revenue equivalence (slides ``002``; ``004`` Proposition 5.2):
first price Π = E[b(v_(1)); v_(1) >= r], all pay Π = n E[b(v)], third price Π = E[b(v_(3))] (the winner pays
the third-highest bid, the bid of the third-highest value since b is increasing). Each format gives the item
to the highest value (above the reserve), like ``SecondPrice(reserve)``: W and the probability of sale are that
allocation's, and U = W - Π. That Π equals second price's is then a checked fact (``tests/test_bidding.py``).
"""
from __future__ import annotations

import math

import numpy as np

from distributions.errors import InputError
from distributions.market import Market

from .. import border
from ..auctions import SecondPrice, check_price
from ..base import Exact, Mechanism
from ..curves import breakpoints
from ..quadrature import integrate
from . import equilibrium as eq

#: relative tolerance of the outer (revenue) quadratures
RTOL_REVENUE = 1e-11


def _geometric_breaks(top: float) -> np.ndarray:
    """Panel ends on [0, top]: geometric near 0 (where the integrand may have a log spike), then linear."""
    pts = np.concatenate([[0.0], np.geomspace(1e-14, 1.0, 8), np.arange(2.0, 60.0, 2.0)])
    return np.unique(np.append(pts[pts < top], top))


class BidFormat(Mechanism):
    """A single-item bid format with its symmetric BNE (module doc). Subclasses define ``bid_q``,
    ``outcome`` and ``revenue``."""

    name = "bid-format"
    reserve = 0.0

    def dist_of(self, market: Market):
        """The one class's F, checked: continuous with a finite mean."""
        market = self.market_for(market)
        if len(market.classes) > 1:
            raise InputError("market", f"{self.name} here is the symmetric equilibrium (one buyer class); for "
                                       f"several classes see mechanisms.bidding.asymmetric (first price)")
        if market.m != 1:
            raise InputError("m", f"the bid formats sell one unit, got m = {market.m}")
        dist = market.dist
        eq.check_bidding_dist(dist)
        return dist

    def rule(self, market: Market):
        raise InputError("mechanism", f"{self.name} is not a truthful (indirect Vickrey) rule: simulate it with "
                                      f"simulator.families.bidding")

    def bid_q(self, market: Market, q) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def bid(self, market: Market, v) -> np.ndarray:
        """The equilibrium bid b(v) of a buyer of value v (-inf: no bid)."""
        dist = self.dist_of(market)
        return self.bid_q(market, np.clip(dist.sf(np.asarray(v, dtype=float)), 0.0, 1.0))

    def outcome(self, bids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def revenue(self, market: Market) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def exact(self, market: Market) -> Exact:
        """Π from the bid function; W and the probability of sale of the efficient allocation above the
        reserve (``SecondPrice(reserve)``); U = W - Π."""
        self.dist_of(market)
        market = self.market_for(market)
        alloc = SecondPrice(self.reserve).exact(market)
        pi = self.revenue(market)
        return Exact(pi, alloc.welfare - pi, alloc.welfare, alloc.sold, alloc.n, alloc.notes)


def top_bid_winner(bids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the highest bid, whether anyone bid) of each row of ``bids`` (-inf = no bid)."""
    win = np.argmax(bids, axis=1)
    return win, np.isfinite(bids[np.arange(len(bids)), win])


class FirstPrice(BidFormat):
    """First-price auction with a reserve r: the highest bid >= r wins and pays it. Equilibrium
    b(v) = E[max(Y, r) | Y < v] (Krishna §2.2, §2.5)."""

    def __init__(self, reserve=0.0):
        self.reserve = check_price("reserve", reserve)
        self.name = "first-price" + (f":reserve={self.reserve:g}" if self.reserve else "")

    def bid_q(self, market: Market, q) -> np.ndarray:
        dist = self.dist_of(market)
        return eq.first_price_bid(dist, market.n, self.reserve, q)

    def outcome(self, bids):
        """Rule on bids: (winner, revenue) with winner -1 when nobody bids (revenue 0)."""
        win, sold = top_bid_winner(bids)
        pay = np.where(sold, bids[np.arange(len(bids)), win], 0.0)
        return np.where(sold, win, -1), pay

    def revenue(self, market: Market) -> float:
        """Π = E[b(q_(1)); q_(1) <= q_r], q_(1) = -expm1(-w/n) with w = -log U ~ Exp(1): the integral of
        b(q_(1)(w)) e^{-w} over w < -n log1p(-q_r)."""
        dist = self.dist_of(market)
        n = float(market.n)
        q_r = float(np.clip(dist.sf(self.reserve), 0.0, 1.0)) if self.reserve else 1.0
        if q_r <= 0.0:
            return 0.0
        top = eq.W_MAX if q_r >= 1.0 else min(eq.W_MAX, -n * math.log1p(-q_r))

        def f(w):
            q1 = np.minimum(-np.expm1(-w / n), q_r)
            return (eq.first_price_bid(dist, n, self.reserve, q1) * np.exp(-w))[None, :]

        return float(integrate(f, _geometric_breaks(top), rtol=RTOL_REVENUE, what="dist")[0])


class AllPay(BidFormat):
    """All-pay auction: the highest bid wins, every buyer pays her bid. Equilibrium
    b(v) = int_0^v y d(F(y)^{n-1}) (Krishna §3.2.2)."""

    name = "all-pay"

    def bid_q(self, market: Market, q) -> np.ndarray:
        dist = self.dist_of(market)
        return eq.all_pay_bid(dist, market.n, q)

    def outcome(self, bids):
        """Rule on bids: (winner, revenue = the sum of every bid made)."""
        win, sold = top_bid_winner(bids)
        pay = np.where(np.isfinite(bids), bids, 0.0).sum(axis=1)
        return np.where(sold, win, -1), pay

    def revenue(self, market: Market) -> float:
        """Π = n E[b(v)] = n int_0^1 b(q) dq, in t = log q over [1e-22/n, min(1, 50/N)] (b <= e^{-N q} E[Y])."""
        dist = self.dist_of(market)
        n = float(market.n)
        N = eq.rivals(n)
        if N == 0.0:
            return 0.0
        lo, hi = max(1e-22 / n, eq.Q_FLOOR), min(1.0, eq.W_MAX / N)
        t_lo, t_hi = math.log(lo), math.log(hi)
        inner = [math.log(p) for p in breakpoints(dist) if lo < p < hi]
        brk = np.unique(np.concatenate([[t_lo, t_hi], inner, np.arange(math.ceil(t_lo), t_hi, 2.0)]))

        def f(t):
            q = np.exp(t)
            return (n * eq.all_pay_bid(dist, n, q) * q)[None, :]

        return float(integrate(f, brk, rtol=RTOL_REVENUE, what="dist")[0])


class ThirdPrice(BidFormat):
    """Third-price auction (n >= 3): the highest bid wins and pays the third-highest bid. Equilibrium
    b(v) = v + F(v) / ((n-2) f(v)) where that is increasing (Krishna §2.5, Kagel and Levin)."""

    name = "third-price"

    def dist_of(self, market: Market):
        dist = super().dist_of(market)
        if float(market.n) < 3:
            raise InputError("n", f"a third-price auction needs n >= 3 buyers, got n = {market.n:g}")
        eq.check_third_price(dist, market.n)
        return dist

    def bid_q(self, market: Market, q) -> np.ndarray:
        dist = self.dist_of(market)
        return eq.third_price_bid(dist, market.n, q)

    def outcome(self, bids):
        """Rule on bids: (winner, revenue = the third-highest bid; 0 with fewer than three bids)."""
        win, sold = top_bid_winner(bids)
        if bids.shape[1] < 3:
            return np.where(sold, win, -1), np.zeros(len(bids))
        third = -np.partition(-bids, 2, axis=1)[:, 2]
        return np.where(sold, win, -1), np.where(np.isfinite(third), third, 0.0)

    def revenue(self, market: Market) -> float:
        """Π = E[b(q_(3))], q_(3) ~ Beta(3, n-2) (``border.log_order_density(q, n+1, 3)``), in t = log q from
        ``equilibrium.third_price_floor(n)`` = 1e-12/n (b grows like v^(1+a) in a power tail of index a, so the
        quantiles below the Beta's bulk still count: what is left out is ~(1e-12)^(2-1/a) of Π) up to the end
        of the Beta's mass."""
        dist = self.dist_of(market)
        n = float(market.n)
        lo, hi = eq.third_price_floor(n), border.mass_range(n + 1.0, 3)[1]
        t_lo, t_hi = math.log(lo), math.log(hi)
        peak = math.log(2.0 / (n - 1.0))
        inner = [math.log(p) for p in breakpoints(dist) if lo < p < hi] + ([peak] if t_lo < peak < t_hi else [])
        brk = np.unique(np.concatenate([[t_lo, t_hi], inner, np.arange(math.ceil(t_lo), t_hi, 2.0)]))

        def f(t):
            q = np.exp(t)
            w = np.exp(border.log_order_density(q, n + 1.0, 3) + t)
            return (eq.third_price_bid(dist, n, q) * w)[None, :]

        return float(integrate(f, brk, rtol=RTOL_REVENUE, what="dist")[0])


#: format names on the command line and in ``make_format``
FORMATS = {"first-price": FirstPrice, "all-pay": AllPay, "third-price": ThirdPrice}


def make_format(name: str, reserve=None) -> BidFormat:
    """A bid format by name (``first-price``, ``all-pay``, ``third-price``); only first price takes a reserve."""
    if name not in FORMATS:
        raise InputError("format", f"unknown bid format {name!r}; allowed: {', '.join(FORMATS)}")
    if reserve is not None and check_price("reserve", reserve) > 0 and name != "first-price":
        raise InputError("reserve", f"only first-price takes a reserve here, got {name} with reserve {reserve!r}")
    return FirstPrice(reserve or 0.0) if name == "first-price" else FORMATS[name]()
