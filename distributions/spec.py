"""Parser for distribution spec strings shared by every CLI subcommand (``docs/architecture.md``).

Grammar: ``name`` or ``name:key=value,...``. Lists use ``/`` (``discrete:values=1/2/3,probs=.2/.3/.5``);
a mixture is ``mixture:w*name(key=value;...)+w*name(...)``; any scipy.stats continuous family is
``scipy:NAME,key=value,...``; ``example42`` takes its n from the market size unless given (``example42:n=1e6``).
"""
from __future__ import annotations

import math

from . import compound, families
from .errors import InputError

REGISTRY = {
    "uniform": families.Uniform,
    "exponential": families.Exponential,
    "lomax": families.Lomax,
    "pareto": families.Pareto,
    "equal-revenue": families.EqualRevenue,
    "weibull": families.Weibull,
    "truncnorm": families.TruncNorm,
    "beta": families.Beta,
    "lognormal": families.LogNormal,
    "example42": families.Example42,
}
OTHER = ("mixture", "discrete", "scipy")


def _number(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(key, f"expected a number, got {text!r}") from None
    if math.isnan(value):
        raise InputError(key, f"NaN is not allowed")
    return value


def _pairs(body: str, sep: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if not body:
        return out
    for item in body.split(sep):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key or not value.strip():
            raise InputError("spec", f"malformed parameter {item!r}; expected key=value")
        if key in out:
            raise InputError(key, f"given twice")
        out[key] = value.strip()
    return out


def parse_spec(spec: str, n: float | None = None):
    """Build a Distribution from a spec string; ``n`` (the market size) completes ``example42``."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError("dist", "empty distribution spec")
    name, _, body = spec.strip().partition(":")
    name = name.strip().lower()
    if name == "mixture":
        return _mixture(body, n)
    if name == "discrete":
        kw = _pairs(body, ",")
        unknown = set(kw) - {"values", "probs"}
        if unknown or "values" not in kw:
            raise InputError("discrete", "parameters are values=v1/v2/... and optional probs=p1/p2/...")
        values = [_number("values", t) for t in kw["values"].split("/")]
        probs = [_number("probs", t) for t in kw["probs"].split("/")] if "probs" in kw else None
        return compound.Discrete(values, probs)
    if name == "scipy":
        import scipy.stats

        family, _, rest = body.partition(",")
        fam = getattr(scipy.stats, family.strip(), None)
        if not isinstance(fam, scipy.stats.rv_continuous):
            raise InputError("scipy", f"{family!r} is not a scipy.stats continuous distribution")
        kw = {k: _number(k, v) for k, v in _pairs(rest, ",").items()}
        try:
            frozen = fam(**kw)
            frozen.support()
        except TypeError as exc:
            raise InputError("scipy", f"bad parameters for {family}: {exc}") from None
        return compound.ScipyDistribution(frozen, label=f"scipy:{body}")
    if name not in REGISTRY:
        allowed = ", ".join(list(REGISTRY) + list(OTHER))
        raise InputError("dist", f"unknown distribution {name!r}; allowed: {allowed}")
    cls = REGISTRY[name]
    kw = {k: _number(k, v) for k, v in _pairs(body, ",").items()}
    if name == "example42" and "n" not in kw:
        if n is None:
            raise InputError("n", "example42 needs the number of buyers (example42:n=... or --n)")
        kw["n"] = float(n)
    import inspect

    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = [k for k in kw if k not in allowed]
    if unknown:
        raise InputError(unknown[0], f"not a parameter of {name}; allowed: {', '.join(allowed)}")
    return cls(**kw)


def _mixture(body: str, n):
    if not body:
        raise InputError("mixture", "expected mixture:w1*name(k=v;...)+w2*name(...)")
    comps, weights = [], []
    for term in _split_top(body, "+"):
        w, star, inner = term.partition("*")
        if not star:
            raise InputError("mixture", f"term {term!r} must look like w*name(k=v;...)")
        weights.append(_number("weights", w))
        inner = inner.strip()
        if inner.endswith(")") and "(" in inner:
            nm, _, args = inner[:-1].partition("(")
            inner = f"{nm}:{args.replace(';', ',')}" if args else nm
        comps.append(parse_spec(inner, n))
    return compound.Mixture(comps, weights)


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == sep and depth == 0 and cur and cur[-1] not in "eE":
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]
