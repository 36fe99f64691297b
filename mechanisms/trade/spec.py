"""Mechanism specs for bilateral trade (the command line's ``auction-sim trade --mechanism SPEC``).

    vcg | agv | agv:absorb=buyer|seller | posted:price=0.5 | posted:price=best | seller-offer | buyer-offer
    | second-best | double:k=0.5 | ks | nash

``agv:absorb=SIDE`` is the budget-balanced mechanism of Proposition 5.6's proof with SIDE as agent 1; ``ks`` and
``nash`` the bargaining solutions on the trade frontier, run as mechanisms (``solutions.BargainingSolution``).
"""
from __future__ import annotations

from distributions.errors import InputError

#: name -> (allowed parameters, what they are)
SPECS = {"vcg": (), "agv": ("absorb",), "posted": ("price",), "seller-offer": (), "buyer-offer": (),
         "second-best": (), "double": ("k",), "ks": (), "nash": ()}


def _params(name: str, body: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (t.strip() for t in body.split(","))):
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key or not value:
            raise InputError("mechanism", f"malformed parameter {item!r} of {name}; expected key=value")
        if key not in SPECS[name]:
            allowed = ", ".join(SPECS[name]) or "none"
            raise InputError("mechanism", f"{key!r} is not a parameter of {name} (allowed: {allowed})")
        if key in out:
            raise InputError(key, "given twice")
        out[key] = value
    return out


def _float(key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(key, f"expected a number, got {text!r}") from None


def parse_trade_mechanism(spec: str):
    """A ``TradeMechanism`` from its spec (module doc); InputError naming ``mechanism`` or the parameter."""
    from .agv import AGV
    from .double_auction import DoubleAuction
    from .offers import BuyerOffer, SellerOffer
    from .posted import PostedPrice
    from .second_best import SecondBest
    from .solutions import BargainingSolution
    from .vcg import VCG

    if not isinstance(spec, str) or not spec.strip():
        raise InputError("mechanism", "empty mechanism spec")
    name, _, body = spec.strip().partition(":")
    name = name.strip().lower()
    if name not in SPECS:
        raise InputError("mechanism", f"unknown trade mechanism {name!r}; allowed: {', '.join(SPECS)}")
    kw = _params(name, body)
    if name == "agv":
        return AGV(kw.get("absorb", "none"))
    if name == "posted":
        price = kw.get("price", "best")
        return PostedPrice(price if price == "best" else _float("price", price))
    if name == "double":
        return DoubleAuction(_float("k", kw.get("k", "0.5")))
    if name in ("ks", "nash"):
        return BargainingSolution(name)
    return {"vcg": VCG, "seller-offer": SellerOffer, "buyer-offer": BuyerOffer, "second-best": SecondBest}[name]()
