"""Spec strings of the bid formats on the main command line (``auction-sim analyze --mechanism``):

    fpa | fpa:reserve=R      first price in its Bayes–Nash equilibrium (symmetric for one buyer class,
                             ``formats.FirstPrice``; several classes: ``asymmetric.AsymmetricFirstPrice``)
    allpay                   all pay (one class, ``formats.AllPay``)
    third-price              third price (one class, n >= 3, ``formats.ThirdPrice``)

``parse_bid_format(spec, market)`` returns the mechanism, or None when ``spec`` names no bid format (the caller
then tries ``mechanisms.spec.parse_mechanism``).
"""
from __future__ import annotations

from distributions.errors import InputError

#: the spec names of the bid formats
NAMES = ("fpa", "allpay", "third-price")
ALLOWED = ("fpa", "fpa:reserve=R", "allpay", "third-price")


def _reserve(name: str, body: str):
    """The reserve of ``fpa:reserve=R`` (None without one)."""
    if not body:
        return None
    key, eq, value = body.partition("=")
    if key.strip().lower() != "reserve" or not eq or not value.strip():
        raise InputError("mechanism", f"{name} takes only reserve=R, got {body!r}")
    try:
        return float(value)
    except ValueError:
        raise InputError("reserve", f"expected a number, got {value.strip()!r}") from None


def parse_bid_format(spec: str, market):
    """The bid format named by ``spec`` for ``market`` (module doc), or None for another spec."""
    name, _, body = spec.strip().partition(":")
    name = name.strip().lower()
    if name not in NAMES:
        return None
    several = len(market.classes) > 1
    if name == "fpa":
        reserve = _reserve(name, body.strip())
        if several:
            from .asymmetric import AsymmetricFirstPrice

            return AsymmetricFirstPrice(reserve)
        from .formats import FirstPrice

        return FirstPrice(reserve or 0.0)
    if body.strip():
        raise InputError("mechanism", f"{name} takes no parameters, got {body.strip()!r}")
    if several:
        raise InputError("mechanism", f"{name} has an equilibrium here for one buyer class only; with several "
                                      f"classes use fpa (the asymmetric first-price equilibrium)")
    from .formats import AllPay, ThirdPrice

    return AllPay() if name == "allpay" else ThirdPrice()
