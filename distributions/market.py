"""The market: who the buyers are and what is sold (``docs/architecture.md``, "The Market").

A ``Market`` is an immutable, hashable value: one or more buyer classes, each an i.i.d. distribution F_k with
a count n_k (a whole number, int below 2^53, a float up to 1e200 above: markets of 1e30 buyers and far
beyond; at 1e300 the quantile scale 1/n would reach the floor of double precision), and the number m of
identical units. It is validated once, here; every layer takes a Market instead of loose
(dist, n, m), and every per-market result is cached by the Market's value (distributions compare by their
parameters, ``Distribution.key``), never by object identity.

Growth: several classes (asymmetric buyers) are already representable; the single-class accessors
``dist`` / ``n`` say clearly when a computation needs i.i.d. buyers. A seller with a private cost
(bilateral trade) will be one more optional field.
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

    def __post_init__(self):
        classes = tuple(self.classes) if isinstance(self.classes, (tuple, list)) else None
        if not classes or not all(isinstance(c, BuyerClass) for c in classes):
            raise InputTypeError("classes", f"expected a non-empty tuple of BuyerClass, got {self.classes!r}")
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "m", check_units(self.m))

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
        return f"Market({self.label}, n={self.n:g}{units})"
