"""The market: who the buyers are and what is sold (``docs/architecture.md``, "The Market").

A ``Market`` is an immutable, hashable value: one or more buyer classes, each an i.i.d. distribution F_k with
a count n_k (a whole number, int below 2^53, a float up to 1e200 above: markets of 1e30 buyers and far
beyond; at 1e300 the quantile scale 1/n would reach the floor of double precision), and the number m of
identical units. It is validated once, here; every layer takes a Market instead of loose
(dist, n, m), and every per-market result is cached by the Market's value (distributions compare by their
parameters, ``Distribution.key``), never by object identity.

Several classes (asymmetric buyers, ``Market.of`` / ``Market.from_specs``): the single-class accessors ``dist`` /
``n`` say clearly when a computation needs i.i.d. buyers. Two optional fields carry the two-sided settings: a
``seller`` whose cost c ~ G is private (bilateral trade, ``Market.trade(F, G)``: one buyer, one seller), and
``shares`` r_i of one asset owned by the buyers (partnership dissolution, ``Market.partnership(F, shares)``).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace

from .base import Distribution
from .errors import InputError, InputTypeError

#: the largest count a class may hold (beyond it the quantile-space formulas lose their meaning)
MAX_COUNT = 1e200


def check_count(value, argument: str = "n"):
    """A number of buyers: a whole number >= 1 (1e30 allowed), int when exactly representable, else float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputTypeError(argument, f"expected a number of buyers (int or float), got {type(value).__name__} "
                                       f"{value!r}")
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x) or x < 1 or x > MAX_COUNT or x != math.floor(x):
        raise InputError(argument, f"expected a whole number of buyers >= 1 and <= {MAX_COUNT:g} "
                                   f"(e.g. 10 or 1e30), got {value!r}")
    return int(x) if x < 2.0 ** 53 else x


def check_units(value, argument: str = "m") -> int:
    """A number of identical units: an int >= 1 (a whole float such as 3.0 is accepted)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputTypeError(argument, f"expected a whole number of units >= 1, got {type(value).__name__} "
                                       f"{value!r}")
    x = float(value)
    if not math.isfinite(x) or x < 1 or x != math.floor(x) or x >= 2.0 ** 53:
        raise InputError(argument, f"expected a whole number of units >= 1, got {value!r}")
    return int(x)


def _is_count(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_shares(shares, n) -> tuple[float, ...]:
    """Partnership shares r_i: one per owner (n of them), each a finite number >= 0, summing to 1 (to 1e-9)."""
    if not isinstance(shares, (tuple, list)) or len(shares) != n:
        raise InputError("shares", f"expected one share per owner ({n:g}), got {shares!r}")
    out = []
    for r in shares:
        if isinstance(r, bool) or not isinstance(r, numbers.Real) or not math.isfinite(float(r)) or r < 0:
            raise InputError("shares", f"each share must be a finite number >= 0, got {r!r}")
        out.append(float(r))
    if abs(math.fsum(out) - 1.0) > 1e-9:
        raise InputError("shares", f"shares must sum to 1, got {math.fsum(out):.12g}")
    return tuple(out)


@dataclass(frozen=True)
class BuyerClass:
    """``count`` i.i.d. buyers with values drawn from ``dist``."""

    dist: Distribution
    count: int | float

    def __post_init__(self):
        if not isinstance(self.dist, Distribution):
            raise InputTypeError("dist", f"expected a Distribution (or a spec string), got "
                                         f"{type(self.dist).__name__} {self.dist!r}")
        object.__setattr__(self, "count", check_count(self.count))


@dataclass(frozen=True)
class Market:
    """Buyers (one or more i.i.d. classes) and m identical units. ``Market.iid(dist, n, m)`` for one class."""

    classes: tuple[BuyerClass, ...]
    m: int = 1
    seller: Distribution | None = None
    shares: tuple[float, ...] | None = None

    def __post_init__(self):
        classes = tuple(self.classes) if isinstance(self.classes, (tuple, list)) else None
        if not classes or not all(isinstance(c, BuyerClass) for c in classes):
            raise InputTypeError("classes", f"expected a non-empty tuple of BuyerClass, got {self.classes!r}")
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "m", check_units(self.m))
        if self.seller is not None and not isinstance(self.seller, Distribution):
            raise InputTypeError("seller", f"expected a Distribution of the seller's cost, got "
                                           f"{type(self.seller).__name__} {self.seller!r}")
        if self.shares is not None:
            object.__setattr__(self, "shares", check_shares(self.shares, self.n))

    @classmethod
    def of(cls, *pairs, m: int = 1) -> "Market":
        """Several classes: ``Market.of((F1, n1), (F2, n2), ..., m=1)``, each F a Distribution or a spec."""
        from .spec import parse_spec

        classes = []
        for k, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise InputTypeError("classes", f"class {k + 1}: expected a (distribution, count) pair, got "
                                                f"{pair!r}")
            dist, count = pair
            count = check_count(count, "count")
            classes.append(BuyerClass(parse_spec(dist, count) if isinstance(dist, str) else dist, count))
        return cls(tuple(classes), m)

    @classmethod
    def from_specs(cls, specs, m: int = 1) -> "Market":
        """Classes from ``COUNT*SPEC`` strings (the command line's ``--buyers 2*uniform:high=1``; a bare SPEC is
        one buyer): ``Market.from_specs(["2*uniform:high=1", "1e6*exponential"])``."""
        pairs = []
        for text in specs:
            if not isinstance(text, str) or not text.strip():
                raise InputError("buyers", f"expected COUNT*SPEC (e.g. 2*uniform:high=1), got {text!r}")
            head, star, tail = text.partition("*")
            count_text, spec = (head, tail) if star and _is_count(head) else ("1", text)
            pairs.append((spec.strip(), float(count_text) if "e" in count_text.lower() or "." in count_text
                          else int(count_text)))
        try:
            return cls.of(*pairs, m=m)
        except InputError as exc:
            raise exc.renamed("buyers") if exc.argument in ("count", "classes") else exc

    @classmethod
    def trade(cls, buyer: Distribution, seller: Distribution) -> "Market":
        """Bilateral trade: one buyer with value v ~ F (``buyer``), one seller with private cost c ~ G."""
        return cls((BuyerClass(buyer, 1),), 1, seller=seller)

    @classmethod
    def partnership(cls, dist: Distribution, shares) -> "Market":
        """Partnership dissolution: len(shares) owners with i.i.d. values from ``dist`` and shares r_i (sum 1)."""
        shares = tuple(shares) if isinstance(shares, (tuple, list)) else shares
        if not isinstance(shares, tuple) or len(shares) < 2:
            raise InputError("shares", f"expected at least two shares (one per owner), got {shares!r}")
        return cls((BuyerClass(dist, len(shares)),), 1, shares=shares)

    @classmethod
    def iid(cls, dist, n, m: int = 1) -> "Market":
        """n i.i.d. buyers from ``dist`` (a Distribution or a spec string; ``example42`` takes its K from n)."""
        n = check_count(n)
        if isinstance(dist, str):
            from .spec import parse_spec

            dist = parse_spec(dist, n)
        return cls((BuyerClass(dist, n),), m)

    # ------------------------------------------------------------------ one class
    @property
    def is_iid(self) -> bool:
        return len(self.classes) == 1

    def _single(self) -> BuyerClass:
        if not self.is_iid:
            raise InputError("market", f"this computation needs i.i.d. buyers (one class); the market has "
                                       f"{len(self.classes)} classes")
        return self.classes[0]

    @property
    def dist(self) -> Distribution:
        """The buyers' distribution F (one class only)."""
        return self._single().dist

    @property
    def n(self):
        """The number of buyers (all classes together)."""
        if self.is_iid:
            return self.classes[0].count
        return check_count(math.fsum(c.count for c in self.classes))

    def with_units(self, m: int) -> "Market":
        """The same buyers with m units (checked like ``Market.iid``'s m: ``with_units(True)`` is an error)."""
        m = check_units(m)
        return self if m == self.m else replace(self, m=m)

    @property
    def label(self) -> str:
        """The buyers' distribution spec (one class) or ``count*spec + ...`` (several)."""
        if self.is_iid:
            return self.dist.spec
        return " + ".join(f"{c.count:g}*{c.dist.spec}" for c in self.classes)

    def __repr__(self) -> str:
        units = "" if self.m == 1 else f", m={self.m}"
        seller = "" if self.seller is None else f", seller={self.seller.spec}"
        shares = "" if self.shares is None else f", shares={self.shares}"
        return f"Market({self.label}, n={self.n:g}{units}{seller}{shares})"
