"""Mechanism specs for bilateral trade (the command line's ``auction-sim trade --mechanism SPEC``).

    vcg | agv | agv:absorb=buyer|seller | posted:price=0.5 | posted:price=best | seller-offer | buyer-offer
    | second-best | double:k=0.5 | ks | nash

``agv:absorb=SIDE`` is the budget-balanced mechanism of Proposition 5.6's proof with SIDE as agent 1; ``ks`` and
``nash`` the bargaining solutions on the trade frontier, run as mechanisms (``solutions.BargainingSolution``).
"""
from __future__ import annotations

from distributions.errors import InputError

from ..spec import spec_number, spec_params

#: name -> (allowed parameters, what they are)
SPECS = {"vcg": (), "agv": ("absorb",), "posted": ("price",), "seller-offer": (), "buyer-offer": (),
         "second-best": (), "double": ("k",), "ks": (), "nash": ()}


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
    try:
        kw = spec_params(name, body, SPECS[name])
    except InputError as exc:  # a key the mechanism does not take is named under "mechanism"
        if exc.argument in SPECS[name] or exc.argument == "mechanism":
            raise
        raise InputError("mechanism", f"{exc.argument!r}: {exc.message}") from exc
    if name == "agv":
        return AGV(kw.get("absorb", "none"))
    if name == "posted":
        price = kw.get("price", "best")
        return PostedPrice(price if price == "best" else spec_number("price", price))
    if name == "double":
        return DoubleAuction(spec_number("k", kw.get("k", "0.5")))
    if name in ("ks", "nash"):
        return BargainingSolution(name)
    return {"vcg": VCG, "seller-offer": SellerOffer, "buyer-offer": BuyerOffer, "second-best": SecondBest}[name]()
