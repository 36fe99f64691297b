"""Standard mechanisms: second-price / VCG with a reserve, the lottery / buyer-offer mechanism, posted prices,
indirect Vickrey auctions with an explicit bid space (Definition 2.4), and ex-ante mixtures (Proposition 3.1,
Corollaries 3.6, 3.8)."""
from __future__ import annotations

import math

import numpy as np

from distributions.errors import InputError
from distributions.market import Market
from distributions.tails import tail_index
from distributions.market import check_units as market_units

from .base import Exact, Mechanism
from .compile import add_atom_pools, make_rule
from .ironing import UnboundedError
from .rule import MixtureRule, QuantileRule, as_mixture


def _fmt(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:g}"


def check_price(name: str, value) -> float:
    """A reserve or price: a finite number >= 0."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(name, f"must be a finite number >= 0, got {value!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise InputError(name, f"must be a finite number >= 0, got {value!r}")
    return value


def check_units(m) -> int | None:
    """A mechanism's own number of units (a whole number >= 1), or None to sell the market's."""
    return None if m is None else market_units(m)


def several_classes(market) -> bool:
    """A market of several buyer classes: the mechanisms below then run ``mechanisms.classes``."""
    return isinstance(market, Market) and len(market.classes) > 1


class ClassDispatch(Mechanism):
    """A mechanism that runs ``mechanisms.classes`` on a market of several buyer classes (its rule a score
    auction, ``mechanisms.classes.rule.ClassRule``; exact values in total and per class) and the i.i.d. code,
    unchanged, on one class: subclasses implement ``iid_rule``."""

    def rule(self, market: Market):
        if several_classes(market):
            from .classes.dispatch import class_rule

            return class_rule(self, market)
        return self.iid_rule(market)

    def iid_rule(self, market: Market) -> QuantileRule | MixtureRule:  # pragma: no cover - abstract
        raise NotImplementedError

    def exact(self, market: Market) -> Exact:
        if several_classes(market):
            from .classes.dispatch import class_exact

            return class_exact(self, market)
        return super().exact(market)

    def interim(self, market: Market, q):
        """x(q); on several classes an array with one row x_k(q) per class (q in class k's quantiles)."""
        if several_classes(market):
            from .classes.dispatch import class_interim

            return class_interim(self, market, q)
        return super().interim(market, q)


class SecondPrice(ClassDispatch):
    """Second-price (Vickrey) auction with a reserve; with m units the VCG auction ((m+1)-th price, Lemma C.4).

    Interim allocation X̂'(q) = P[Bin(n-1, q) <= m-1] for q <= r = Pr[v >= reserve], 0 above; B = [reserve, ∞),
    so atoms of F are pools bidding their value. ``reserve="monopoly"`` is the lowest monopoly reserve v(q_m).
    """

    def __init__(self, reserve=0.0, m: int | None = None):
        self.m = check_units(m)
        self.monopoly = isinstance(reserve, str)
        if self.monopoly and reserve != "monopoly":
            raise InputError("reserve", f"must be a number >= 0 or 'monopoly', got {reserve!r}")
        self.reserve = None if self.monopoly else check_price("reserve", reserve)
        head = "spa" if self.m in (None, 1) else f"vcg:m={self.m}"
        opts = "monopoly" if self.monopoly else (_fmt(self.reserve) if self.reserve else "")
        sep = ":" if self.m in (None, 1) else ","
        self.name = head + (f"{sep}reserve={opts}" if opts else "")

    def reserve_for(self, dist) -> float:
        """The reserve price; "monopoly" is v(q_m), which does not exist when R(q) = q v(q) grows without bound
        as q -> 0 (a tail index below 1: every higher price earns more)."""
        if not self.monopoly:
            return self.reserve
        alpha = tail_index(dist)
        if alpha < 1.0 - 1e-9:
            raise UnboundedError("reserve", f"no monopoly reserve: R(q) = q v(q) grows without bound as q -> 0 "
                                            f"(tail index {alpha:.3g} < 1)")
        return float(dist.monopoly_reserve)

    def iid_rule(self, market: Market) -> QuantileRule:
        market = self.market_for(market)
        dist = market.dist
        rho = self.reserve_for(dist)
        r = float(np.clip(dist.sf(rho), 0.0, 1.0))
        return make_rule(market.m, r, rho, add_atom_pools(dist, r, []))


class Lottery(ClassDispatch):
    """The item (m units) to uniformly random buyers, free: one pool [0, 1] bidding 0 with reserve 0.

    x = m/n, U = m E[v], Π = 0 even when the support starts above 0 (every type keeps x (v(1) - 0) extra, see
    ``rule.py``). With m units it is the buyer-offer mechanism, buyer-optimal for MHR F (Lemma C.5)."""

    def __init__(self, m: int | None = None):
        self.m = check_units(m)
        self.name = "lottery" if self.m in (None, 1) else f"buyer-offer:m={self.m}"

    def iid_rule(self, market: Market) -> QuantileRule:
        return make_rule(self.market_for(market).m, 1.0, 0.0, [(0.0, 1.0, 0.0, math.inf)])


class PostedPrice(ClassDispatch):
    """Take-it-or-leave-it price for a single buyer (n = 1; Section 3.1): R(q) = q v(q) at q = Pr[v >= price].
    On a market of several classes: the price to every buyer, the units to uniformly random buyers among
    those with v >= price (``mechanisms.classes.rules``)."""

    def __init__(self, price):
        self.price = check_price("price", price)
        self.name = f"posted:price={_fmt(self.price)}"

    def iid_rule(self, market: Market) -> QuantileRule:
        market = self.market_for(market)
        if market.n != 1:
            raise InputError("n", f"a posted price is a single-buyer mechanism (n = 1), got n = {market.n}")
        return SecondPrice(self.price).rule(market)


def parse_bid_space(bids) -> list[tuple[float, float]]:
    """A bid space as sorted, disjoint closed intervals (lo, hi), points as (b, b); hi may be inf."""
    out = []
    for item in bids:
        lo, hi = (item, item) if np.ndim(item) == 0 else item
        lo, hi = float(lo), float(hi)
        if math.isnan(lo) or math.isnan(hi) or lo < 0 or math.isinf(lo) or hi < lo:
            raise InputError("bids", f"each piece must be a point b >= 0 or an interval lo-hi with 0 <= lo <= hi "
                             f"(hi may be inf), got {item!r}")
        out.append((lo, hi))
    if not out:
        raise InputError("bids", "the bid space is empty; give points and intervals, e.g. 0-1/2/3-inf")
    for (a0, b0), (a1, b1) in zip(out, out[1:]):
        if not a1 > b0:
            raise InputError("bids", f"pieces must be sorted and disjoint, got {_fmt(a0)}-{_fmt(b0)} before "
                             f"{_fmt(a1)}-{_fmt(b1)}")
    return out


class IndirectVickrey(Mechanism):
    """Indirect Vickrey auction (Definition 2.4; Hartline and Roughgarden, 2008): bids restricted to a closed
    set B (points and closed intervals), a reserve, the highest bids win, winners pay their critical bid.

    Compiled to quantile pools: the effective bid space is B' = B ∩ [reserve, ∞) and its least element is the
    rule's reserve; values in a gap (d, c) of B' (and the value d) bid d: a pool (Pr[v >= c], Pr[v >= d]] with
    bid d and next c; values above a bounded top piece [.., d] pool at d; atoms of F where B' is continuous
    are pools bidding their value; an atom inside a gap merges into the gap's pool."""

    def __init__(self, bids, reserve=0.0, m: int | None = None):
        self.m = check_units(m)
        self.bids = parse_bid_space(bids)
        self.reserve = check_price("reserve", reserve)
        text = "/".join(_fmt(a) if a == b else f"{_fmt(a)}-{_fmt(b)}" for a, b in self.bids)
        opts = [f"bids={text}"] + ([f"reserve={_fmt(self.reserve)}"] if self.reserve else []) \
            + ([f"m={self.m}"] if self.m not in (None, 1) else [])
        self.name = "ivickrey:" + ",".join(opts)

    def effective_bids(self) -> list[tuple[float, float]]:
        """B' = B ∩ [reserve, ∞)."""
        return [(max(a, self.reserve), b) for a, b in self.bids if b >= self.reserve]

    def rule(self, market: Market) -> QuantileRule:
        market = self.market_for(market)
        dist, m = market.dist, market.m
        eff = self.effective_bids()
        if not eff:
            return make_rule(m, 0.0, self.reserve, [])
        sf = lambda x: float(np.clip(dist.sf(x), 0.0, 1.0))  # noqa: E731
        lowest = eff[0][0]
        r = sf(lowest)
        pools = []
        for (_, d), (c, _) in zip(eff, eff[1:]):
            pools.append((sf(c), sf(d), d, c))
        top = eff[-1][1]
        if math.isfinite(top):
            pools.append((0.0, sf(top), top, math.inf))
        pools = [p for p in pools if p[1] > p[0]]
        return make_rule(m, r, lowest, add_atom_pools(dist, r, pools))


class ExAnteMixture(Mechanism):
    """Run component i with probability p_i, fixed ex ante (Proposition 3.1, Corollaries 3.6 and 3.8)."""

    def __init__(self, components):
        comps = [(float(p), mech) for p, mech in components]
        if not comps:
            raise InputError("mix", "need at least one component")
        probs = np.array([p for p, _ in comps])
        if np.any(~np.isfinite(probs)) or np.any(probs < 0) or abs(probs.sum() - 1.0) > 1e-9:
            raise InputError("mix", f"probabilities must be >= 0 and sum to 1, got {probs.tolist()}")
        units = {mech.m for _, mech in comps} - {None}
        if len(units) > 1:
            raise InputError("mix", f"components must sell the same number of units, got m in {sorted(units)}")
        self.components = comps
        self.m = units.pop() if units else None
        self.name = "mix:" + "+".join(f"{p:g}*{mech.name}" for p, mech in comps)

    def units(self, market: Market) -> int:
        """The one number of units every component sells in ``market``: a component without its own m sells
        the market's, so ``mix:0.5*spa+0.5*buyer-offer:m=2`` needs a market with m = 2."""
        units = {mech.units(market) for _, mech in self.components}
        if len(units) > 1:
            raise InputError("mix", f"components must sell the same number of units, got m in {sorted(units)} "
                                    f"(a component without m sells the market's m = {market.m})")
        return units.pop()

    def rule(self, market: Market) -> MixtureRule:
        market = self.market_for(market)
        probs, rules = [], []
        for p, mech in self.components:
            sub = as_mixture(mech.rule(market))
            probs += [p * float(w) for w in sub.probs]
            rules += list(sub.rules)
        return MixtureRule(np.array(probs), rules)

    def exact(self, market: Market) -> Exact:
        market = self.market_for(market)
        total = None
        for p, mech in self.components:
            part = mech.exact(market).scaled(p)
            total = part if total is None else total + part
        return total

    def interim(self, market: Market, q):
        market = self.market_for(market)
        return sum(p * np.asarray(mech.interim(market, q)) for p, mech in self.components)


def two_posted_prices(p1, p2, nu: float) -> ExAnteMixture:
    """Proposition 3.1: post p1 with probability ν and p2 with probability 1 - ν (single buyer)."""
    nu = float(nu)
    if not 0.0 <= nu <= 1.0:
        raise InputError("nu", f"must be a probability in [0, 1], got {nu!r}")
    return ExAnteMixture([(nu, PostedPrice(p1)), (1.0 - nu, PostedPrice(p2))])
