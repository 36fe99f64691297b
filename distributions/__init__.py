"""Value distributions in quantile space (paper Section 2; ``docs/architecture.md``).

>>> from distributions import parse_spec
>>> d = parse_spec("exponential:rate=1")
>>> round(d.monopoly_reserve, 6), str(d.shape_class())
(1.0, 'regular, MHR, anti-MHR')
"""
from .base import Distribution, ShapeClass
from .errors import InputError, InputTypeError
from .market import BuyerClass, Market
from .compound import Discrete, Mixture, ScipyDistribution
from .families import (Beta, EqualRevenue, Example42, Exponential, Lomax, LogNormal, Pareto, TruncNorm, Uniform,
                       Weibull)
from .spec import REGISTRY, parse_spec

__all__ = ["Distribution", "ShapeClass", "Uniform", "Exponential", "Lomax", "Pareto", "EqualRevenue", "Weibull",
           "TruncNorm", "Beta", "LogNormal", "Example42", "Mixture", "Discrete", "ScipyDistribution",
           "parse_spec", "REGISTRY", "Market", "BuyerClass", "InputError", "InputTypeError"]
