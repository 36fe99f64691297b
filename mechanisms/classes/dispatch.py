"""The mechanisms of ``mechanisms.auctions`` / ``mechanisms.optimal`` on a market of several classes.

``SecondPrice``, ``Lottery``, ``PostedPrice``, ``LagrangianOptimal`` (``Myerson``, ``SurplusOptimal``) call
``class_rule`` / ``class_exact`` from their ``rule`` / ``exact`` when ``len(market.classes) > 1``; one class
never comes here (the i.i.d. code stays as it is). ``ClassReserveSecondPrice`` is second-price with
class-specific (discriminatory) reserves: explicit ones, each class's own monopoly price, or the best ones.
"""
from __future__ import annotations

import numpy as np

from distributions.errors import InputError
from distributions.market import BuyerClass, Market, check_count

from ..base import Mechanism
from .exact import ClassesExact, exact_classes, interim_classes
from .rule import ClassRule


def class_rule(mech, market: Market) -> ClassRule:
    """The ``ClassRule`` of a standard mechanism on a several-class market (``rule.py``)."""
    from ..auctions import Lottery, PostedPrice, SecondPrice
    from ..optimal import LagrangianOptimal
    from . import rules

    market = mech.market_for(market)
    if isinstance(mech, SecondPrice):
        if mech.monopoly:
            raise InputError("reserve", "'monopoly' is a per-class price on several buyer classes: use "
                                        "reserves=monopoly (each class its own), reserves=best or reserve=best "
                                        "(spa:reserves=..., ClassReserveSecondPrice)")
        return rules.second_price_rule(market, [mech.reserve] * len(market.classes), mech.name)
    if isinstance(mech, LagrangianOptimal):
        return rules.lagrangian_rule(market, mech.lam, mech.name)
    if isinstance(mech, Lottery):
        return rules.lottery_rule(market, mech.name)
    if isinstance(mech, PostedPrice):
        return rules.posted_price_rule(market, mech.price, mech.name)
    if isinstance(mech, ClassReserveSecondPrice):
        return rules.second_price_rule(market, mech.reserves_for(market), mech.name)
    raise InputError("mechanism", f"{mech.name} is not defined on a market of several buyer classes; allowed: "
                                  f"spa, spa:reserves=..., myerson, lottery, posted, mix of these")


def class_interim(mech, market: Market, q) -> np.ndarray:
    """Interim allocations on a several-class market: row k is x_k(q), the chance that a class-k buyer at
    quantile q of her class (q = Pr[v_k >= v]) gets a unit (``exact.interim_classes``); shape (K,) + shape(q)."""
    market = mech.market_for(market)
    rule = class_rule(mech, market)
    return np.stack([interim_classes(rule, k, q) for k in range(len(market.classes))])


def merged(market: Market) -> tuple[Market, list[int]]:
    """The market with classes of equal distributions merged (counts added), and for each original class the
    index of its merged class. Identical classes have identical scores in every mechanism here except fixed
    per-class reserves, so merging changes no value; it also spares the score inverses of exactly flat
    Lagrangian scores (``rules.lagrangian_score``) between identical classes."""
    dists, counts, where = [], [], []
    for c in market.classes:
        if c.dist in dists:
            i = dists.index(c.dist)
            counts[i] = check_count(counts[i] + c.count)
        else:
            i = len(dists)
            dists.append(c.dist)
            counts.append(c.count)
        where.append(i)
    return Market(tuple(BuyerClass(d, n) for d, n in zip(dists, counts)), market.m), where


def class_exact(mech, market: Market) -> ClassesExact:
    """Exact values, in total and per class, of a standard mechanism on a several-class market: on the market
    with identical classes merged (``merged``; the i.i.d. code when one class is left), each merged class's
    values shared among its parts in proportion to their counts."""
    market = mech.market_for(market)
    if isinstance(mech, ClassReserveSecondPrice) and mech.mode != "monopoly":
        return exact_classes(class_rule(mech, market), market)
    small, where = merged(market)
    if len(small.classes) == len(market.classes):
        return exact_classes(class_rule(mech, market), market)
    if len(small.classes) == 1:
        e = mech.exact(small)
        c = small.classes[0]
        rows = ({"label": f"{c.count:g}*{c.dist.spec}", "count": c.count, "revenue": e.revenue,
                 "surplus": e.surplus, "welfare": e.welfare, "win_probability": e.sold,
                 "per_buyer_surplus": e.surplus / float(c.count)},)
        e = ClassesExact(e.revenue, e.surplus, e.welfare, e.sold, e.n, e.notes, rows)
    else:
        e = exact_classes(class_rule(mech, small), small)
    return _split(e, market, small, where)


def _split(e: ClassesExact, market: Market, small: Market, where: list[int]) -> ClassesExact:
    """Per-class rows of ``market`` from those of its merged form: shares n_k / n_merged."""
    rows = []
    for c, i in zip(market.classes, where):
        share = float(c.count) / float(small.classes[i].count)
        row = dict(e.per_class[i])
        for key in ("revenue", "surplus", "welfare", "win_probability"):
            row[key] = share * row[key]
        row.update(label=f"{c.count:g}*{c.dist.spec}", count=c.count)
        rows.append(row)
    return ClassesExact(e.revenue, e.surplus, e.welfare, e.sold, float(market.n), e.notes, tuple(rows))


RESERVE_MODES = ("monopoly", "best", "best-common")


class ClassReserveSecondPrice(Mechanism):
    """Second-price auction (one unit) with a reserve ρ_k per class: class k takes part above ρ_k, the highest
    participant wins and pays max(ρ_k, the highest other participating value) (textbook §5.2: DSIC).

    ``reserves``: a sequence (one price per class, in the market's order), ``"monopoly"`` (each class's own
    monopoly price v_k(q_m), the optimum of Proposition 5.3 only when the classes are identical), ``"best"``
    (the revenue-maximising discriminatory reserves, ``reserves.best_reserves``) or ``"best-common"`` (the best
    anonymous reserve, ``reserves.best_common_reserve``). On one class every mode is ``SecondPrice``."""

    def __init__(self, reserves="best"):
        self.m = None
        if isinstance(reserves, str):
            if reserves not in RESERVE_MODES:
                raise InputError("reserves", f"must be numbers (one per class, e.g. 0.5/1) or one of "
                                             f"{', '.join(RESERVE_MODES)}, got {reserves!r}")
            self.mode, self.fixed = reserves, None
            text = reserves
        else:
            from ..auctions import check_price

            self.mode = None
            self.fixed = tuple(check_price("reserves", r) for r in reserves)
            if not self.fixed:
                raise InputError("reserves", "need one reserve per class")
            text = "/".join(f"{r:g}" for r in self.fixed)
        self.name = "spa:reserve=best" if self.mode == "best-common" else f"spa:reserves={text}"

    def reserves_for(self, market: Market) -> tuple[float, ...]:
        """The reserve of each class of ``market``."""
        from . import reserves

        k = len(market.classes)
        if self.fixed is not None:
            if len(self.fixed) != k:
                raise InputError("reserves", f"need one reserve per class ({k}), got {len(self.fixed)}")
            return self.fixed
        if self.mode == "monopoly":
            return tuple(float(c.dist.monopoly_reserve) for c in market.classes)
        if self.mode == "best-common":
            return (reserves.best_common_reserve(market),) * k
        return reserves.best_reserves(market)

    def _one_class(self, market: Market):
        from ..auctions import SecondPrice

        return SecondPrice("monopoly" if self.mode == "monopoly" else self.reserves_for(market)[0])

    def rule(self, market: Market):
        if len(market.classes) == 1:
            return self._one_class(market).rule(market)
        return class_rule(self, market)

    def exact(self, market: Market):
        if len(market.classes) == 1:
            return self._one_class(market).exact(market)
        return class_exact(self, market)

    def interim(self, market: Market, q):
        if len(market.classes) == 1:
            return self._one_class(market).interim(market, q)
        return class_interim(self, market, q)


def several(market) -> bool:
    """True for a market of several buyer classes (the dispatch condition)."""
    return isinstance(market, Market) and len(market.classes) > 1
