"""Mechanism spec strings of the command line (``docs/architecture.md``).

    spa | spa:reserve=R | spa:reserve=monopoly | myerson | lottery | posted:price=P (n = 1)
    spa:reserves=R1/R2/... | spa:reserves=monopoly | spa:reserves=best | spa:reserve=best
                                               class-specific reserves (several buyer classes, one per
                                               class; ``mechanisms.classes``), the best common reserve
    vcg:m=M | vcg:m=M,reserve=R | buyer-offer:m=M | myerson:m=M
    ivickrey:bids=PIECES[,reserve=R][,m=M]     PIECES: '/'-separated points 'b' and closed intervals 'lo-hi'
                                               (sorted, disjoint; 'inf' allowed as the top), e.g. 0-1/2/3-inf
    mix:P1*SPEC1+P2*SPEC2+...                  ex-ante mixture; a component may be parenthesised, e.g.
                                               mix:0.3*(spa:reserve=0.5)+0.7*lottery; probabilities sum to 1
    ks | nash | cross-nash [:m=M]              the mechanism implementing that bargaining solution on the Pareto
                                               frontier (Sections 4-5; ``mechanisms.bargaining``)
"""
from __future__ import annotations

import re

from distributions.market import Market

from .auctions import ExAnteMixture, IndirectVickrey, Lottery, PostedPrice, SecondPrice
from .optimal import Myerson
from distributions.errors import InputError

ALLOWED = ("spa", "spa:reserve=R", "spa:reserve=monopoly", "spa:reserves=R1/R2", "spa:reserves=monopoly",
           "spa:reserves=best", "spa:reserve=best", "myerson", "lottery", "posted:price=P", "vcg:m=M",
           "vcg:m=M,reserve=R", "buyer-offer:m=M", "ivickrey:bids=0-1/2/3-inf,reserve=R", "mix:0.3*spa+0.7*lottery",
           "ks", "nash", "cross-nash")
_NUM = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf"
_PIECE = re.compile(rf"^\s*({_NUM})\s*(?:-\s*({_NUM})\s*)?$")


def spec_params(name: str, body: str, allowed: tuple[str, ...]) -> dict[str, str]:
    """The ``key=value,...`` parameters of a mechanism spec's body, each key one of ``allowed`` (shared by the
    mechanism families' spec parsers)."""
    out: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in body.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if not eq or not value.strip():
            raise InputError("mechanism", f"malformed parameter {item!r} of {name}; expected key=value")
        if key not in allowed:
            ok = ", ".join(allowed) if allowed else "none"
            raise InputError(key, f"not a parameter of {name}; allowed: {ok}")
        if key in out:
            raise InputError(key, f"given twice")
        out[key] = value.strip()
    return out


def spec_number(key: str, text: str) -> float:
    """A spec parameter's number; InputError naming the parameter otherwise."""
    try:
        return float(text)
    except ValueError:
        raise InputError(key, f"expected a number, got {text!r}") from None


def _units(kw) -> int | None:
    """The spec's m, or None (the market's units) when not given."""
    if "m" not in kw:
        return None
    value = spec_number("m", kw["m"])
    if not value.is_integer() or value < 1:
        raise InputError("m", f"number of units must be a whole number >= 1, got {kw['m']!r}")
    return int(value)


def parse_bids(text: str) -> list:
    """'0-1/2/3-inf' -> [(0, 1), 2, (3, inf)]."""
    pieces = []
    for part in text.split("/"):
        match = _PIECE.match(part)
        if not match:
            raise InputError("bids", f"cannot read {part!r}; use points b and intervals lo-hi separated by '/', "
                             f"e.g. 0-1/2/3-inf")
        lo, hi = match.group(1), match.group(2)
        pieces.append(float(lo) if hi is None else (float(lo), float(hi)))
    return pieces


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        exponent = ch in "+-" and cur[-1:] in ("e", "E") and i >= 2 and text[i - 2].isdigit()
        if ch == "+" and depth == 0 and not exponent:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts]


def _mixture(body: str, market):
    comps = []
    for term in _split_top(body):
        p, star, inner = term.partition("*")
        inner = inner.strip()
        if not star or not inner:
            raise InputError("mix", f"term {term!r} must look like P*SPEC, e.g. mix:0.3*spa+0.7*lottery")
        if inner.startswith("(") and inner.endswith(")"):
            inner = inner[1:-1]
        comps.append((spec_number("mix", p), parse_mechanism(inner, market)))
    return ExAnteMixture(comps)


def _class_reserves(kw):
    """spa:reserves=R1/R2/... | monopoly | best, spa:reserve=best (several buyer classes)."""
    from .classes.dispatch import ClassReserveSecondPrice

    if "reserves" in kw and "reserve" in kw:
        raise InputError("reserves", "give either reserve= (anonymous) or reserves= (one per class), not both")
    if "reserve" in kw:
        return ClassReserveSecondPrice("best-common")
    text = kw["reserves"].strip().lower()
    if text in ("monopoly", "best"):
        return ClassReserveSecondPrice(text)
    return ClassReserveSecondPrice([spec_number("reserves", part) for part in text.split("/")])


def parse_mechanism(spec: str, market: Market | None = None):
    """Build a Mechanism from a spec string (module doc). ``market`` lets a posted price check n = 1 early."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError("mechanism", "empty mechanism spec; allowed: " + ", ".join(ALLOWED))
    name, _, body = spec.strip().partition(":")
    name = name.strip().lower()
    if name == "spa":
        kw = spec_params(name, body, ("reserve", "reserves"))
        res = kw.get("reserve", "0")
        if "reserves" in kw or res.lower() == "best":
            return _class_reserves(kw)
        return SecondPrice("monopoly" if res.lower() == "monopoly" else spec_number("reserve", res))
    if name == "vcg":
        kw = spec_params(name, body, ("m", "reserve"))
        res = kw.get("reserve", "0")
        return SecondPrice("monopoly" if res.lower() == "monopoly" else spec_number("reserve", res), _units(kw))
    if name == "myerson":
        return Myerson(_units(spec_params(name, body, ("m",))))
    if name == "lottery":
        spec_params(name, body, ())
        return Lottery()
    if name == "buyer-offer":
        return Lottery(_units(spec_params(name, body, ("m",))))
    if name == "posted":
        kw = spec_params(name, body, ("price",))
        if "price" not in kw:
            raise InputError("price", "posted needs a price, e.g. posted:price=0.7")
        if market is not None and market.n != 1 and len(market.classes) == 1:
            raise InputError("n", f"posted:price=P is a single-buyer mechanism (n = 1), got n = {market.n}")
        return PostedPrice(spec_number("price", kw["price"]))
    if name == "ivickrey":
        kw = spec_params(name, body, ("bids", "reserve", "m"))
        if "bids" not in kw:
            raise InputError("bids", "ivickrey needs a bid space, e.g. ivickrey:bids=0-1/2/3-inf,reserve=0.5")
        return IndirectVickrey(parse_bids(kw["bids"]), spec_number("reserve", kw.get("reserve", "0")), _units(kw))
    if name == "mix":
        return _mixture(body, market)
    if name in ("ks", "nash", "cross-nash"):
        from .bargaining import BargainingMechanism

        if market is not None and len(market.classes) > 1:
            from .classes.frontier import class_bargaining

            return class_bargaining(name, _units(spec_params(name, body, ("m",))))

        return BargainingMechanism(name, _units(spec_params(name, body, ("m",))))
    raise InputError("mechanism", f"unknown mechanism {name!r}; allowed: " + ", ".join(ALLOWED))
