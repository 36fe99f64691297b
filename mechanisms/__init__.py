"""Mechanisms: interim allocations, exact ex-ante values, ex-post rules, benchmarks (``docs/architecture.md``).

>>> from distributions import Market
>>> from mechanisms import parse_mechanism
>>> market = Market.iid("uniform:low=0,high=1", 2)
>>> [round(parse_mechanism(s).exact(market).revenue, 6) for s in ("spa", "myerson", "lottery")]
[0.333333, 0.416667, 0.0]
"""
from . import benchmarks
from .auctions import ExAnteMixture, IndirectVickrey, Lottery, PostedPrice, SecondPrice, two_posted_prices
from .base import Exact, Mechanism
from .exact import exact_from_rule, interim_from_rule
from .ironing import Curve, Ironing, UnboundedError, iron
from .optimal import LagrangianOptimal, Myerson, SurplusOptimal
from .rule import MixtureRule, QuantileRule
from .spec import parse_mechanism

__all__ = ["Mechanism", "Exact", "exact_from_rule", "interim_from_rule", "SecondPrice", "Lottery", "PostedPrice",
           "IndirectVickrey", "ExAnteMixture", "two_posted_prices", "LagrangianOptimal", "Myerson",
           "SurplusOptimal", "Curve", "Ironing", "UnboundedError", "iron", "benchmarks", "parse_mechanism",
           "QuantileRule", "MixtureRule"]
