"""The mechanism interface and its exact ex-ante values (Section 2: Π_F, U_F, WEL_F; ``docs/architecture.md``)."""
from __future__ import annotations

from dataclasses import dataclass

from distributions.errors import InputError, InputTypeError
from distributions.market import Market

from .rule import MixtureRule, QuantileRule


@dataclass(frozen=True)
class Exact:
    """Exact ex-ante values of a mechanism for n i.i.d. buyers: seller revenue Π = n∫x dR, buyers' surplus
    U = n∫x dS, welfare W = n∫x dV = Π + U, and the expected number of units sold (probability of sale for
    one unit). ``notes`` say why a value is +inf (an infinite expectation, decided from the tail of F)."""

    revenue: float
    surplus: float
    welfare: float
    sold: float
    n: float
    notes: tuple[str, ...] = ()

    @property
    def per_buyer_utility(self) -> float:
        """Each buyer's ex-ante utility U_{i,F} = U / n (mechanisms here are symmetric)."""
        return self.surplus / self.n

    def as_dict(self) -> dict:
        return {"revenue": self.revenue, "surplus": self.surplus, "welfare": self.welfare, "sold": self.sold,
                "per_buyer_utility": self.per_buyer_utility}

    def scaled(self, p: float) -> "Exact":
        """The values times a probability p >= 0 (p = 0 gives 0, even for an infinite value)."""
        if p == 0:
            return Exact(0.0, 0.0, 0.0, 0.0, self.n)
        return Exact(p * self.revenue, p * self.surplus, p * self.welfare, p * self.sold, self.n, self.notes)

    def __add__(self, other: "Exact") -> "Exact":
        notes = self.notes + tuple(t for t in other.notes if t not in self.notes)
        return Exact(self.revenue + other.revenue, self.surplus + other.surplus, self.welfare + other.welfare,
                     self.sold + other.sold, self.n, notes)


class Mechanism:
    """A symmetric mechanism for the i.i.d. buyers of a ``Market`` selling m identical units.

    ``m`` is the mechanism's own number of units, or None to sell the market's ``m``. Subclasses implement
    ``rule(market)``: the ex-post rule (an indirect Vickrey auction in quantile space, ``QuantileRule``, or an
    ex-ante mixture of them, ``MixtureRule``) that the simulator runs. ``exact`` and ``interim`` follow from the
    rule (``mechanisms.exact``); subclasses with simpler closed forms may override.
    """

    name: str = "mechanism"
    m: int | None = None

    def units(self, market: Market) -> int:
        """The number of units this mechanism sells in ``market``."""
        return market.m if self.m is None else self.m

    def market_for(self, market: Market) -> Market:
        """``market`` with this mechanism's units, checked: a Market (``Market.iid(dist, n)``) with m <= n."""
        if not isinstance(market, Market):
            raise InputTypeError("market", f"expected a Market (e.g. Market.iid(dist, n)), got "
                                           f"{type(market).__name__}")
        m = self.units(market)
        if m > market.n:
            raise InputError("m", f"number of units must be at most n = {market.n:g}, got {m}")
        return market.with_units(m)

    def rule(self, market: Market) -> QuantileRule | MixtureRule:  # pragma: no cover - abstract
        raise NotImplementedError

    def exact(self, market: Market) -> Exact:
        """Exact Π, U, W and units sold (Stieltjes integrals of the interim allocation; ``exact_from_rule``)."""
        from .exact import exact_from_rule

        return exact_from_rule(self.rule(market), self.market_for(market))

    def interim(self, market: Market, q):
        """Interim allocation x(q) of a buyer at quantile q (vectorised)."""
        from .exact import interim_from_rule

        return interim_from_rule(self.rule(market), self.market_for(market), q)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
